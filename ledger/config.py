"""Validators, validator sets and the ledger's static configuration.

A set of n validators tolerates f = ⌊(n-1)/3⌋ Byzantine members. Its quorum is
⌊(n+f)/2⌋+1, which is 2f+1 when n = 3f+1 and in general the smallest size for
which any two quorums share at least f+1 members, hence at least one honest one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ledger.crypto import valid_public_key
from protocol import wire
from protocol.errors import UsageError

MIN_VALIDATORS = 4
MAX_VALIDATORS = 256
MAX_ID_BYTES = 128
#: blocks between the one that commits a validator-set change and the first it governs
VALIDATOR_SET_DELAY = 8
#: the shortest delay: votes for up to two heights past the tip are taken, and their
#: validators must be known when they arrive
MIN_VALIDATOR_SET_DELAY = 2


@wire.message(0x0401)
@dataclass(frozen=True, slots=True)
class Validator:
    """A validator's id (the daemon uses its libp2p peer id) and Ed25519 identity key."""

    id: str = wire.field(wire.Str(MAX_ID_BYTES))
    public_key: bytes = wire.field(wire.Bytes(size=32))


class ValidatorSet:
    """A set of validators ordered by id, with its fault bound and quorum (never modified)."""

    __slots__ = ("ids", "keys", "f", "quorum")

    def __init__(self, validators: Iterable[Validator]) -> None:
        members = sorted(validators, key=lambda v: v.id)
        self.ids = tuple(v.id for v in members)
        self.keys = {v.id: v.public_key for v in members}
        if len(self.keys) != len(members):
            raise UsageError("duplicate validator id")
        if len(set(self.keys.values())) != len(members):
            raise UsageError("two validators share one public key")
        self.f = (len(members) - 1) // 3
        self.quorum = (len(members) + self.f) // 2 + 1

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.keys

    def primary(self, view: int) -> str:
        """The primary of ``view``: members take turns in id order."""
        return self.ids[view % len(self.ids)]

    def __repr__(self) -> str:
        return f"ValidatorSet({list(self.ids)})"


@dataclass(frozen=True, slots=True)
class LedgerConfig:
    """What every validator of one chain agrees on, plus local tuning knobs.

    ``checkpoint_interval`` is K; ``window`` is how far past the last stable
    checkpoint sequence numbers are accepted (the high watermark). Timeouts are in
    seconds, timestamps in milliseconds; the replica never reads a clock itself.
    ``validator_set_delay`` is how many blocks after its block a validator-set change
    takes effect.
    """

    chain_id: str
    validators: tuple[Validator, ...]
    checkpoint_interval: int = 16
    window: int = 64
    max_txs_per_block: int = 1000
    max_block_bytes: int = 4 * 1024 * 1024
    base_timeout: float = 1.0
    max_timeout_doublings: int = 6
    max_clock_skew_ms: int = 30_000
    genesis_time_ms: int = 0
    max_blocks_per_reply: int = 32
    validator_set_delay: int = VALIDATOR_SET_DELAY

    def __post_init__(self) -> None:
        validators = tuple(self.validators)
        object.__setattr__(self, "validators", validators)
        if not MIN_VALIDATORS <= len(validators) <= MAX_VALIDATORS:
            raise UsageError(f"a chain needs {MIN_VALIDATORS}..{MAX_VALIDATORS} validators")
        if any(not valid_public_key(v.public_key) for v in validators):
            raise UsageError("a validator key is not a valid Ed25519 public key")
        ValidatorSet(validators)  # rejects duplicate ids and keys
        if self.checkpoint_interval < 1 or self.window < 2 * self.checkpoint_interval:
            raise UsageError("need checkpoint_interval >= 1 and window >= 2 * checkpoint_interval")
        if self.max_txs_per_block < 1 or self.max_blocks_per_reply < 1:
            raise UsageError("block and reply sizes must be positive")
        if not MIN_VALIDATOR_SET_DELAY <= self.validator_set_delay <= self.window:
            raise UsageError(f"validator_set_delay must be from {MIN_VALIDATOR_SET_DELAY} to the window")
        if self.base_timeout <= 0 or self.max_timeout_doublings < 0:
            raise UsageError("timeouts must be positive")

    def genesis_set(self) -> ValidatorSet:
        return ValidatorSet(self.validators)
