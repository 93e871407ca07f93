"""The ledger state every replica derives from the committed blocks.

It holds the chain tip, the registered threshold keys, the ids of committed
transactions (so none is applied twice) and the schedule of validator sets. It is
rebuilt by replaying the stored blocks, so it never needs a store of its own.

Transactions are checked in block order through a ``BlockChecker``, an overlay
that sees the effects of the earlier transactions of the same block; the checked
block's effects come out as a ``Delta`` that ``LedgerState.apply`` commits.

Validator-set changes committed at height c take effect at c + the chain's
``validator_set_delay`` (``VALIDATOR_SET_DELAY`` unless its genesis says otherwise).
A change needs the approvals of a quorum of the set voting on its block, checked by
every replica; it is refused if it would leave fewer than ``MIN_VALIDATORS``, if the set
it leads to (with every change already scheduled) would lack half or more of the set
voting on its block (the rest of such a set could no longer be trusted to contain a
quorum of the voting one; measured against the voting set, a removal cannot be split
over several blocks of one delay window to get round it), or if the same change (same
additions, removals, base and nonce) was committed before, whatever its approvals.
A change is valid only at its base: when the chain has committed exactly ``base``
changes (``change_count``), so each committed change voids every approval gathered
before it (``StaleChange`` for a lower base; ``FutureBase`` for a higher one, which a
replica that lags behind sees and which may become valid once it catches up). Several
changes may commit in one block, each at the next base, but approvals are only
gathered at the base the chain has reached, so in practice one commits per block.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.block import BlockHeader, genesis_hash
from ledger.config import (
    MIN_VALIDATORS,
    VALIDATOR_SET_DELAY,
    LedgerConfig,
    Validator,
    ValidatorSet,
)
from ledger.crypto import Verifier
from ledger.txs import (
    FutureBase,
    InvalidTransaction,
    KeygenTx,
    SignatureTx,
    StaleChange,
    Tx,
    ValidatorChange,
    ValidatorSetTx,
    change_id,
    check_approvals,
    check_keygen,
    check_signature,
    check_validator_change,
)

__all__ = ["VALIDATOR_SET_DELAY", "BlockChecker", "Delta", "KeyRecord", "LedgerState"]


@dataclass(frozen=True, slots=True)
class KeyRecord:
    key_id: str
    scheme: str
    curve: str
    public_key: bytes
    participants: tuple[int, ...]
    threshold: int
    height: int
    chain_code: bytes | None  # None: signatures by its children cannot be checked


@dataclass(frozen=True, slots=True)
class Delta:
    """What one checked block changes."""

    header: BlockHeader
    hash: bytes
    keys: dict[str, KeyRecord]
    tx_hashes: tuple[bytes, ...]
    validators: ValidatorSet | None  # the set after this block's changes, if any
    changes: tuple[bytes, ...] = ()  # ids of the validator-set changes it commits


class LedgerState:
    __slots__ = ("height", "last_hash", "last_timestamp_ms", "keys", "tx_hashes", "changes", "delay",
                 "verifier", "genesis", "_schedule")

    def __init__(self, config: LedgerConfig) -> None:
        self.delay = config.validator_set_delay
        self.verifier = Verifier(config.chain_id)
        self.height = 0
        self.genesis = genesis_hash(config)
        self.last_hash = self.genesis
        self.last_timestamp_ms = config.genesis_time_ms
        self.keys: dict[str, KeyRecord] = {}
        self.tx_hashes: set[bytes] = set()
        self.changes: set[bytes] = set()  # ids of committed validator-set changes
        # (first height, set) in increasing height order; the genesis set from height 1.
        self._schedule: list[tuple[int, ValidatorSet]] = [(1, config.genesis_set())]

    def validators_at(self, height: int) -> ValidatorSet:
        """The set that votes on block ``height`` (final up to the tip + the delay)."""
        found = self._schedule[0][1]
        for start, vset in self._schedule:
            if start > height:
                break
            found = vset
        return found

    @property
    def change_count(self) -> int:
        """How many validator-set changes are committed: the base a new change must name."""
        return len(self.changes)

    def knows_validators_at(self, height: int) -> bool:
        """True when no block still to come can change the set for ``height``."""
        return height <= self.height + self.delay

    def current(self) -> ValidatorSet:
        """The set voting on the next block."""
        return self.validators_at(self.height + 1)

    def latest(self) -> ValidatorSet:
        """The set once every scheduled change has taken effect."""
        return self._schedule[-1][1]

    def key_of(self, node_id: str) -> bytes | None:
        """The identity key of a validator that is voting now or is scheduled to."""
        for vset in (self.current(), self.latest()):
            key = vset.keys.get(node_id)
            if key is not None:
                return key
        return None

    def checker(self) -> BlockChecker:
        return BlockChecker(self)

    def apply(self, delta: Delta) -> None:
        if delta.header.height != self.height + 1 or delta.header.prev_hash != self.last_hash:
            raise InvalidTransaction("block does not extend the chain tip")
        self.height = delta.header.height
        self.last_hash = delta.hash
        self.last_timestamp_ms = delta.header.timestamp_ms
        self.keys.update(delta.keys)
        self.tx_hashes.update(delta.tx_hashes)
        self.changes.update(delta.changes)
        if delta.validators is not None:
            self._schedule.append((self.height + self.delay, delta.validators))


class BlockChecker:
    """Checks the transactions of the next block one by one, in order."""

    __slots__ = ("_state", "_height", "_keys", "_hashes", "_base", "_members", "_changes")

    def __init__(self, state: LedgerState) -> None:
        self._state = state
        self._height = state.height + 1
        self._keys: dict[str, KeyRecord] = {}
        self._hashes: dict[bytes, None] = {}
        self._base = state.latest()
        self._members: dict[str, bytes] | None = None  # copied on the first change only
        self._changes: dict[bytes, None] = {}

    def check(self, tx: Tx, h: bytes, crypto_checked: bool) -> None:
        """Raise InvalidTransaction unless ``tx`` (id ``h``) may come next; then record it.

        ``crypto_checked`` says its signatures or proofs were verified already (in the
        mempool, or vouched for by a commit certificate).
        """
        if h in self._hashes or h in self._state.tx_hashes:
            raise InvalidTransaction("transaction already in the ledger")
        if isinstance(tx, SignatureTx):
            self._check_signature(tx, crypto_checked)
        elif isinstance(tx, KeygenTx):
            self._check_keygen(tx, crypto_checked)
        elif isinstance(tx, ValidatorSetTx):
            self._check_validators(tx, approvals=True)
        else:
            raise InvalidTransaction(f"unknown transaction {type(tx).__name__}")
        self._hashes[h] = None

    def _check_signature(self, tx: SignatureTx, crypto_checked: bool) -> None:
        record = self._keys.get(tx.key_id) or self._state.keys.get(tx.key_id)
        if record is None:
            raise InvalidTransaction(f"key {tx.key_id!r} does not exist")
        if record.public_key != tx.public_key:
            raise InvalidTransaction(f"public key is not the one registered for {tx.key_id!r}")
        if not crypto_checked:
            check_signature(tx, record.scheme, record.chain_code)

    def _check_keygen(self, tx: KeygenTx, crypto_checked: bool) -> None:
        if tx.key_id in self._keys or tx.key_id in self._state.keys:
            raise InvalidTransaction(f"key {tx.key_id!r} already exists")
        if not crypto_checked:
            check_keygen(tx)
        self._keys[tx.key_id] = KeyRecord(tx.key_id, tx.scheme, tx.curve, tx.public_key,
                                          tx.participants, tx.threshold, self._height, tx.chain_code)

    def check_change(self, change: ValidatorChange) -> None:
        """Every rule a ``ValidatorSetTx`` of ``change`` must pass here except its approvals
        (which the proposer of a change has yet to gather); records nothing that matters,
        as a checker is thrown away after a dry run."""
        self._check_validators(ValidatorSetTx.of(change), approvals=False)

    def _check_validators(self, tx: ValidatorSetTx, *, approvals: bool) -> None:
        check_validator_change(tx)
        cid = change_id(tx.change())
        if cid in self._changes or cid in self._state.changes:
            raise InvalidTransaction("this validator change (same nonce) was committed already")
        base = self._state.change_count + len(self._changes)
        if tx.base > base:
            raise FutureBase(f"the change names base {tx.base}, but the chain has committed "
                             f"only {base} validator changes here")
        if tx.base < base:
            raise StaleChange(f"the change was approved at base {tx.base}, but the chain has "
                              f"committed {base} validator changes: it needs fresh approvals")
        # Always verified, even when ``crypto_checked``: approvals are judged against the
        # set voting on this very block, which may differ from the one a mempool saw.
        if approvals:
            check_approvals(tx, self._state.validators_at(self._height), self._state.verifier,
                            self._state.genesis)
        members = dict(self._members if self._members is not None else self._base.keys)
        for node_id in tx.remove:
            if members.pop(node_id, None) is None:
                raise InvalidTransaction(f"{node_id!r} is not a validator")
        for v in tx.add:
            if v.id in members:
                raise InvalidTransaction(f"{v.id!r} is already a validator")
            if v.public_key in members.values():
                raise InvalidTransaction(f"the key of {v.id!r} belongs to another validator")
            members[v.id] = v.public_key
        if len(members) < MIN_VALIDATORS:
            raise InvalidTransaction(f"a change may not leave fewer than {MIN_VALIDATORS} validators")
        voting = self._state.validators_at(self._height)
        removed = sum(1 for node_id in voting.ids if node_id not in members)
        if 2 * removed >= len(voting):
            raise InvalidTransaction(f"the changes scheduled and this one would remove {removed} of the "
                                     f"{len(voting)} validators voting now: half or more may not go at once")
        self._members = members
        self._changes[cid] = None

    def delta(self, header: BlockHeader, block_hash: bytes) -> Delta:
        validators = None
        if self._members is not None:
            validators = ValidatorSet(Validator(i, k) for i, k in self._members.items())
        return Delta(header, block_hash, dict(self._keys), tuple(self._hashes), validators,
                     tuple(self._changes))
