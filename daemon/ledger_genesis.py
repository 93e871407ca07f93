"""The ledger's genesis file: which chain, who validates it first, and its consensus knobs.

One small JSON document that every validator of a chain holds byte for byte alike::

    {
      "chain_id": "tssnet-devnet",
      "genesis_time_ms": 1763740800000,
      "validators": [{"peer_id": "12D3KooW...", "identity_key": "<64 hex digits>"}, ...],
      "base_timeout": 1.0,
      "checkpoint_interval": 16,
      "validator_set_delay": 8
    }

Every knob of ``ledger.config.LedgerConfig`` may appear at the top level; one that
is left out takes the ledger's default. They live here rather than in each node's
TOML because validators that disagree on them (block size, checkpoint interval,
clock skew) would disagree on which blocks are valid. Each validator's peer id must
be the libp2p peer id of its identity key, so nobody can vote under another's name.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from daemon.errors import BadRequest
from daemon.identity import peer_id_of
from ledger.block import genesis_hash
from ledger.config import MAX_ID_BYTES, MAX_VALIDATORS, MIN_VALIDATORS, LedgerConfig, Validator
from ledger.crypto import valid_public_key
from protocol.errors import UsageError

#: a genesis file is a few KiB even with the most validators; refuse anything far larger
MAX_GENESIS_BYTES = 256 * 1024
#: a block must fit one signed pre-prepare inside one wire message (8 MiB) with room to spare
MAX_BLOCK_BYTES_LIMIT = 4 * 1024 * 1024
MAX_CHAIN_ID_BYTES = 128

_DEFAULTS = {f.name: f.default for f in dataclasses.fields(LedgerConfig)}
#: the LedgerConfig knobs a genesis file may set, with their types
KNOBS: dict[str, type] = {
    "checkpoint_interval": int, "window": int, "max_txs_per_block": int, "max_block_bytes": int,
    "base_timeout": float, "max_timeout_doublings": int, "max_clock_skew_ms": int,
    "max_blocks_per_reply": int, "validator_set_delay": int,
}
_TOP_LEVEL = {"chain_id", "genesis_time_ms", "validators", *KNOBS}


@dataclass(frozen=True, slots=True)
class GenesisValidator:
    peer_id: str
    identity_key: bytes  # Ed25519 public key

    def to_json(self) -> dict:
        return {"peer_id": self.peer_id, "identity_key": self.identity_key.hex()}


@dataclass(frozen=True, slots=True)
class LedgerGenesis:
    """A checked genesis: building one that breaks a rule raises ``BadRequest``."""

    chain_id: str
    genesis_time_ms: int
    validators: tuple[GenesisValidator, ...]
    knobs: Mapping[str, int | float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "validators", tuple(self.validators))
        knobs = {**{k: _DEFAULTS[k] for k in KNOBS}, **dict(self.knobs)}
        object.__setattr__(self, "knobs", MappingProxyType(knobs))
        self.validate()

    def validate(self) -> None:
        if not isinstance(self.chain_id, str) or not self.chain_id:
            raise BadRequest("genesis: chain_id must be a non-empty string")
        if len(self.chain_id.encode()) > MAX_CHAIN_ID_BYTES:
            raise BadRequest(f"genesis: chain_id is longer than {MAX_CHAIN_ID_BYTES} bytes")
        _check_int("genesis_time_ms", self.genesis_time_ms)
        if not MIN_VALIDATORS <= len(self.validators) <= MAX_VALIDATORS:
            raise BadRequest(f"genesis: a ledger needs {MIN_VALIDATORS} to {MAX_VALIDATORS} "
                             f"validators, this one lists {len(self.validators)}")
        for validator in self.validators:
            _check_validator(validator)
        ids = [v.peer_id for v in self.validators]
        if len(set(ids)) != len(ids):
            raise BadRequest("genesis: a validator peer id appears twice")
        if len({v.identity_key for v in self.validators}) != len(ids):
            raise BadRequest("genesis: two validators share one identity key")
        unknown = sorted(set(self.knobs) - set(KNOBS))
        if unknown:
            raise BadRequest(f"genesis: unknown settings {', '.join(unknown)}")
        for name, kind in KNOBS.items():
            _check_number(name, self.knobs[name], kind)
        if self.knobs["max_block_bytes"] > MAX_BLOCK_BYTES_LIMIT:
            raise BadRequest(f"genesis: max_block_bytes is at most {MAX_BLOCK_BYTES_LIMIT}")
        try:
            self._config()
        except UsageError as exc:
            raise BadRequest(f"genesis: {exc}") from None

    # --- reading and writing ---------------------------------------------------

    @classmethod
    def from_json(cls, document: Any) -> LedgerGenesis:
        if not isinstance(document, dict):
            raise BadRequest("genesis: the document must be a JSON object")
        unknown = sorted(set(document) - _TOP_LEVEL)
        if unknown:
            raise BadRequest(f"genesis: unknown settings {', '.join(map(str, unknown))}")
        missing = sorted({"chain_id", "genesis_time_ms", "validators"} - set(document))
        if missing:
            raise BadRequest(f"genesis: missing {', '.join(missing)}")
        entries = document["validators"]
        if not isinstance(entries, list):
            raise BadRequest("genesis: validators must be a list")
        if len(entries) > MAX_VALIDATORS:
            raise BadRequest(f"genesis: more than {MAX_VALIDATORS} validators")
        knobs = {name: document[name] for name in KNOBS if name in document}
        return cls(document["chain_id"], document["genesis_time_ms"],
                   tuple(_validator_from_json(i, entry) for i, entry in enumerate(entries)), knobs)

    def to_json(self) -> dict:
        return {"chain_id": self.chain_id, "genesis_time_ms": self.genesis_time_ms,
                "validators": [v.to_json() for v in self.validators], **self.knobs}

    @classmethod
    def load(cls, path: Path | str) -> LedgerGenesis:
        path = Path(path)
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_GENESIS_BYTES + 1)
        except OSError as exc:
            raise BadRequest(f"cannot read the ledger genesis {path}: {exc.strerror}") from None
        if len(raw) > MAX_GENESIS_BYTES:
            raise BadRequest(f"ledger genesis {path} is larger than {MAX_GENESIS_BYTES} bytes")
        try:
            document = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadRequest(f"ledger genesis {path} is not valid JSON: {exc}") from None
        return cls.from_json(document)

    def save(self, path: Path | str) -> None:
        """Write the file whole or not at all (a temporary file renamed over it)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            with temporary.open("w", encoding="utf-8") as handle:
                json.dump(self.to_json(), handle, indent=2)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)

    # --- what the node asks of it ------------------------------------------------

    def has_validator(self, peer_id: str) -> bool:
        return any(v.peer_id == peer_id for v in self.validators)

    def hash(self) -> bytes:
        """The hash block 1 builds on: two nodes with different genesis files never agree."""
        return genesis_hash(self._config())

    def _config(self) -> LedgerConfig:
        validators = tuple(Validator(v.peer_id, v.identity_key) for v in self.validators)
        return LedgerConfig(chain_id=self.chain_id, validators=validators,
                            genesis_time_ms=self.genesis_time_ms, **self.knobs)


def ledger_config(genesis: LedgerGenesis) -> LedgerConfig:
    """The replica's configuration for this chain."""
    return genesis._config()


def _validator_from_json(index: int, entry: Any) -> GenesisValidator:
    where = f"genesis: validator {index}"
    if not isinstance(entry, dict) or set(entry) != {"peer_id", "identity_key"}:
        raise BadRequest(f"{where} must be an object with exactly peer_id and identity_key")
    key = entry["identity_key"]
    if not isinstance(key, str) or len(key) != 64:
        raise BadRequest(f"{where}: identity_key must be 64 hex digits")
    try:
        key_bytes = bytes.fromhex(key)
    except ValueError:
        raise BadRequest(f"{where}: identity_key must be 64 hex digits") from None
    return GenesisValidator(entry["peer_id"], key_bytes)


def _check_validator(validator: GenesisValidator) -> None:
    peer_id = validator.peer_id
    if not isinstance(peer_id, str) or not peer_id or len(peer_id.encode()) > MAX_ID_BYTES:
        raise BadRequest(f"genesis: validator peer id {peer_id!r} must be a string of "
                         f"1 to {MAX_ID_BYTES} bytes")
    if not isinstance(validator.identity_key, bytes) or not valid_public_key(validator.identity_key):
        raise BadRequest(f"genesis: the identity key of {peer_id} is not a valid Ed25519 public key")
    if peer_id_of(validator.identity_key) != peer_id:
        raise BadRequest(f"genesis: {peer_id} is not the peer id of its identity key "
                         f"(that is {peer_id_of(validator.identity_key)})")


def _check_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise BadRequest(f"genesis: {name} must be a non-negative integer, not {value!r}")


def _check_number(name: str, value: Any, kind: type) -> None:
    if kind is int:
        _check_int(name, value)
    elif isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e6:
        raise BadRequest(f"genesis: {name} must be a positive number of seconds, not {value!r}")
