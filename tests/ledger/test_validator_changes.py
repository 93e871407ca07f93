"""Validator-set changes need the approvals of a quorum of the validators voting on their block.

The honest path, then the malicious side: too few approvals, an approver twice or from
outside the set, a signature over another nonce, chain or change, a tampered added
record, a replayed change (the same transaction, or the same change with other
approvals), non-canonical orderings, and the retired wire format.
"""

from __future__ import annotations

import dataclasses

import msgpack
import pytest
from nacl.signing import VerifyKey

from ledger.block import genesis_hash, tx_hash
from ledger.config import MIN_VALIDATOR_SET_DELAY, Validator
from ledger.crypto import signing_prefix
from ledger.mempool import Mempool
from ledger.state import VALIDATOR_SET_DELAY, LedgerState
from ledger.txs import (
    APPROVAL_DOMAIN,
    Approval,
    InvalidTransaction,
    StaleChange,
    ValidatorSetTx,
    approval_message,
    change_id,
    decode_tx,
    sign_approval,
)
from protocol import wire
from protocol.errors import EncodingError, InvalidProof, UsageError
from tests.ledger.helpers import (
    approve,
    check_txs,
    commit_txs,
    keygen_tx,
    make_config,
    signer,
    validator_change,
    validator_tx,
)
from tests.ledger.sim import Simulation


@pytest.fixture
def config():
    return make_config(4)   # quorum 3


@pytest.fixture
def state(config):
    return LedgerState(config)


def test_an_approval_is_an_identity_signature_over_the_domain_chain_and_change(config):
    change = validator_change(add=("new",), nonce=b"n-1")
    genesis = genesis_hash(config)
    approval = sign_approval(signer("v1"), "test-chain", genesis, change)
    signed = signing_prefix("test-chain") + APPROVAL_DOMAIN + genesis + wire.encode(change)
    assert approval_message(genesis, change) == APPROVAL_DOMAIN + genesis + wire.encode(change)
    # PyNaCl, independently of the ledger's verifier, accepts exactly these bytes.
    VerifyKey(signer("v1").public_key).verify(signed, approval.signature)
    assert approval.validator == "v1"
    assert change_id(change) != change_id(dataclasses.replace(change, nonce=b"n-2"))
    assert change_id(change) != change_id(dataclasses.replace(change, base=1))
    with pytest.raises(UsageError):
        approval_message(genesis[:31], change)


def test_a_quorum_of_approvals_commits_and_the_change_takes_effect_after_the_delay(config, state):
    tx = validator_tx(add=("new",), approvers=("v0", "v2", "v3"))
    commit_txs(state, config, [tx])
    assert change_id(tx.change()) in state.changes
    assert "new" in state.latest() and "new" not in state.current()
    assert "new" in state.validators_at(1 + VALIDATOR_SET_DELAY)


def test_the_delay_is_a_chain_parameter():
    config = make_config(4, validator_set_delay=2)
    state = LedgerState(config)
    commit_txs(state, config, [validator_tx(add=("new",), config=config)])
    assert "new" not in state.validators_at(2) and "new" in state.validators_at(3)
    for bad in (MIN_VALIDATOR_SET_DELAY - 1, 0, 17):   # the window is 16
        with pytest.raises(UsageError, match="validator_set_delay"):
            make_config(4, validator_set_delay=bad)


def test_too_few_approvals_are_refused(state):
    with pytest.raises(InvalidTransaction, match="needs a quorum of 3"):
        check_txs(state, validator_tx(add=("new",), approvers=("v0", "v1")))
    with pytest.raises(InvalidTransaction, match="has 0 approvals"):
        check_txs(state, validator_tx(add=("new",), approvers=()))


def test_a_duplicate_approver_is_refused(state):
    tx = validator_tx(add=("new",), approvers=("v0", "v1"))
    doubled = dataclasses.replace(tx, approvals=tx.approvals + (tx.approvals[1],))
    with pytest.raises(InvalidTransaction, match="approves the change twice"):
        check_txs(state, doubled)


def test_an_approver_outside_the_set_is_refused(state):
    # Three approvals, one of them by a stranger: a quorum only if the stranger counted.
    tx = validator_tx(add=("new",), approvers=("v0", "v1", "x9"))
    with pytest.raises(InvalidTransaction, match="'x9', who is not a validator"):
        check_txs(state, tx)
    # The newcomer cannot approve its own admission either.
    with pytest.raises(InvalidTransaction, match="'new', who is not a validator"):
        check_txs(state, validator_tx(add=("new",), approvers=("new", "v0", "v1")))


@pytest.mark.parametrize("other", ["nonce", "chain", "change", "base", "genesis"])
def test_a_signature_over_something_else_is_refused(config, state, other):
    change = validator_change(add=("new",), nonce=b"n-1")
    signed_change, chain, genesis = change, "test-chain", genesis_hash(config)
    if other == "nonce":
        signed_change = dataclasses.replace(change, nonce=b"n-2")
    elif other == "chain":
        chain = "other-chain"
    elif other == "change":
        signed_change = validator_change(add=("newer",), nonce=b"n-1")
    elif other == "base":
        signed_change = dataclasses.replace(change, base=1)
    else:   # a chain re-started from another genesis under the same chain id
        genesis = genesis_hash(make_config(4, genesis_time_ms=1))
    forged = sign_approval(signer("v2"), chain, genesis, signed_change)
    honest = approve(change, ("v0", "v1"))
    tx = dataclasses.replace(honest, approvals=tuple(sorted(honest.approvals + (forged,),
                                                            key=lambda a: a.validator)))
    with pytest.raises(InvalidTransaction, match="approval by 'v2' does not verify"):
        check_txs(state, tx)
    check_txs(state, approve(change, ("v0", "v1", "v2")))   # the same, honestly signed, is fine


def test_a_tampered_added_record_is_refused(state):
    tx = validator_tx(add=("new",))
    evil = Validator("new", signer("evil").public_key)
    with pytest.raises(InvalidTransaction, match="does not verify"):
        check_txs(state, dataclasses.replace(tx, add=(evil,)))
    renamed = Validator("newer", tx.add[0].public_key)
    with pytest.raises(InvalidTransaction, match="does not verify"):
        check_txs(state, dataclasses.replace(tx, add=(renamed,)))
    with pytest.raises(InvalidTransaction, match="does not verify"):
        check_txs(state, dataclasses.replace(tx, remove=("v3",)))
    bad_signature = dataclasses.replace(tx.approvals[0], signature=bytes(64))
    with pytest.raises(InvalidTransaction, match="approval by 'v0' does not verify"):
        check_txs(state, dataclasses.replace(tx, approvals=(bad_signature,) + tx.approvals[1:]))


def test_a_committed_change_is_never_applied_again(config, state):
    tx = validator_tx(add=("new",), approvers=("v0", "v1", "v2"))
    commit_txs(state, config, [tx])
    with pytest.raises(InvalidTransaction, match="already in the ledger"):
        check_txs(state, tx)   # the very same transaction
    other_approvals = validator_tx(add=("new",), approvers=("v1", "v2", "v3"))
    assert tx_hash(wire.encode(other_approvals)) != tx_hash(wire.encode(tx))
    with pytest.raises(InvalidTransaction, match="committed already"):
        check_txs(state, other_approvals)   # the same change gathered with other approvals
    with pytest.raises(InvalidProof, match="committed already"):
        commit_txs(state, config, [other_approvals])
    # Within one block, too.
    fresh = LedgerState(config)
    with pytest.raises(InvalidTransaction, match="committed already"):
        check_txs(fresh, tx, other_approvals)
    # A new nonce makes a new change (here refused only because "new" is a validator now).
    with pytest.raises(InvalidTransaction, match="already a validator"):
        check_txs(state, validator_tx(add=("new",), nonce=b"nonce-2", base=1))


def test_old_approvals_never_re_add_a_removed_validator():
    """The review's replay: two proposals of one addition (nonces a and b) both gather a
    quorum; a commits, then the newcomer is removed; b, approved before either, stays
    refused for good instead of re-adding it without fresh approvals."""
    config = make_config(4, validator_set_delay=2)
    state = LedgerState(config)
    a = validator_tx(add=("new",), nonce=b"a", config=config)
    b = validator_tx(add=("new",), nonce=b"b", config=config)
    pool = Mempool()
    pool.admit(tx_hash(wire.encode(b)), wire.encode(b), b, state)
    commit_txs(state, config, [a])
    pool.after_commit((), state)
    assert len(pool) == 0   # a's commit voided b's approvals: dropped from the mempool
    for filler in ("f1", "f2"):
        commit_txs(state, config, [keygen_tx(filler)[0]])
    assert "new" in state.current()
    remove = validator_tx(remove=("new",), nonce=b"c", base=1, approvers=("v0", "v1", "v2", "v3"),
                          config=config)
    commit_txs(state, config, [remove])
    for filler in ("f3", "f4"):
        commit_txs(state, config, [keygen_tx(filler)[0]])
    assert "new" not in state.current() and "new" not in state.latest()
    with pytest.raises(StaleChange, match="approved at base 0, but the chain has committed 2"):
        check_txs(state, b)
    with pytest.raises(InvalidProof, match="needs fresh approvals"):
        commit_txs(state, config, [b])
    assert "new" not in state.latest()


def test_the_mempool_refuses_a_replayed_change(config, state):
    tx = validator_tx(add=("new",))
    commit_txs(state, config, [tx])
    pool = Mempool()
    again = validator_tx(add=("new",), approvers=("v1", "v2", "v3"))
    with pytest.raises(InvalidTransaction, match="committed already"):
        pool.admit(tx_hash(wire.encode(again)), wire.encode(again), again, state)
    assert len(pool) == 0


def test_approvals_count_in_the_set_voting_on_the_block():
    config = make_config(4, validator_set_delay=2)
    state = LedgerState(config)
    commit_txs(state, config, [validator_tx(add=("v4",), nonce=b"a", config=config)])
    # Until the change takes effect v4 is no approver; after it, it is.
    by_v4 = validator_tx(remove=("v3",), approvers=("v0", "v1", "v4"), nonce=b"b", base=1, config=config)
    with pytest.raises(InvalidTransaction, match="'v4', who is not a validator"):
        check_txs(state, by_v4)
    commit_txs(state, config, [keygen_tx("filler")[0]])
    assert "v4" in state.current()
    with pytest.raises(InvalidTransaction, match="needs a quorum of 4"):   # five validators now
        check_txs(state, by_v4)
    check_txs(state, validator_tx(remove=("v3",), approvers=("v0", "v1", "v2", "v4"), nonce=b"b", base=1,
                               config=config))


def test_only_one_spelling_of_a_change_is_accepted(state):
    both = validator_tx(add=("a", "b"))
    unsorted_add = dataclasses.replace(both, add=both.add[::-1])
    with pytest.raises(InvalidTransaction, match="sorted by validator id"):
        check_txs(state, unsorted_add)
    unsorted_approvals = dataclasses.replace(both, approvals=both.approvals[::-1])
    with pytest.raises(InvalidTransaction, match="approvals must be sorted"):
        check_txs(state, unsorted_approvals)
    removals = validator_tx(remove=("v0",))
    with pytest.raises(InvalidTransaction, match="sorted"):
        check_txs(LedgerState(make_config(7)),
               dataclasses.replace(validator_tx(remove=("v0", "v1"), approvers=tuple(f"v{i}" for i in range(5))),
                                   remove=("v1", "v0")))
    assert removals.remove == ("v0",)


def test_a_block_with_a_badly_approved_change_never_commits(config, state):
    bad = validator_tx(add=("new",), approvers=("v0", "v1"))
    with pytest.raises(InvalidProof, match="invalid transaction"):
        commit_txs(state, config, [bad])
    assert state.height == 0 and "new" not in state.latest()


def test_the_wire_format_is_bounded_and_the_old_one_retired():
    tx = validator_tx(add=("new",))
    assert decode_tx(wire.encode(tx)) == tx
    old = wire.encode(tx.change())   # not a transaction
    with pytest.raises(EncodingError):
        decode_tx(old)
    # 0x0422, the format before nonces and approvals, and 0x0425, before the base, no longer decode.
    for retired in (0x0422, 0x0425):
        with pytest.raises(EncodingError):
            decode_tx(_with_type_id(wire.encode(tx), retired))
    with pytest.raises(EncodingError):
        decode_tx(wire.encode(Approval("v0", bytes(64))))
    for too_long in (dataclasses.replace(tx, nonce=b""), dataclasses.replace(tx, nonce=bytes(33))):
        with pytest.raises(UsageError):
            wire.encode(too_long)
    with pytest.raises(EncodingError):
        wire.decode(_with_nonce(wire.encode(tx), bytes(33)), ValidatorSetTx)


def _with_type_id(data: bytes, type_id: int) -> bytes:
    items = msgpack.unpackb(data, raw=False)
    items[1] = type_id
    return msgpack.packb(items, use_bin_type=True)


def _with_nonce(data: bytes, nonce: bytes) -> bytes:
    items = msgpack.unpackb(data, raw=False)
    index = next(i for i, item in enumerate(items) if item == b"nonce-1")
    items[index] = nonce
    return msgpack.packb(items, use_bin_type=True)


def test_a_replica_refuses_a_badly_approved_change_and_commits_a_good_one():
    config = make_config(4, validator_set_delay=2)
    sim = Simulation(config, seed=11, extra=("v4",))
    sim.crash("v4")
    replica = sim.replicas["v1"]
    for bad in (validator_tx(add=("v4",), approvers=("v0", "v1"), config=config),
                validator_tx(add=("v4",), approvers=("v0", "v1", "v4"), config=config),
                validator_tx(add=("v4",), chain_id="other-chain", config=config),
                validator_tx(add=("v4",), base=1, config=config)):
        with pytest.raises(InvalidTransaction):
            replica.submit(bad)
    assert len(replica.mempool) == 0
    good = validator_tx(add=("v4",), approvers=("v1", "v2", "v3"), config=config)
    sim.submit("v2", [good])
    assert sim.run(lambda: all(sim.replicas[v].height == 1 for v in ("v0", "v1", "v2", "v3")),
                   max_time=30.0)
    assert all("v4" in sim.replicas[v].state.latest() for v in ("v0", "v1", "v2", "v3"))
    # The same change again: the same transaction is a no-op (the node answers it with
    # 409 transaction_exists), the change with other approvals is refused.
    replica.submit(good)
    assert len(replica.mempool) == 0
    with pytest.raises(InvalidTransaction, match="committed already"):
        replica.submit(validator_tx(add=("v4",), approvers=("v0", "v1", "v2"), config=config))


def test_the_mempool_holds_one_transaction_per_change(config, state):
    pool = Mempool()
    variants = [validator_tx(add=("x",), nonce=b"z", approvers=combo)
                for combo in (("v0", "v1", "v2"), ("v0", "v1", "v3"), ("v1", "v2", "v3"),
                              ("v0", "v1", "v2", "v3"))]
    for tx in variants:
        pool.admit(tx_hash(wire.encode(tx)), wire.encode(tx), tx, state)
    assert len(pool) == 1
    first = tx_hash(wire.encode(variants[0]))
    assert first in pool
    pool.discard([first])   # once it is gone, another carrier of the change may enter
    pool.admit(tx_hash(wire.encode(variants[1])), wire.encode(variants[1]), variants[1], state)
    assert len(pool) == 1
    other = validator_tx(add=("y",), nonce=b"z")
    pool.admit(tx_hash(wire.encode(other)), wire.encode(other), other, state)
    assert len(pool) == 2


def test_a_change_is_pending_by_its_id_whatever_approvals_carry_it(config, state):
    pool = Mempool()
    carried = validator_tx(add=("x",), nonce=b"z", approvers=("v0", "v1", "v2"))
    mine = validator_tx(add=("x",), nonce=b"z", approvers=("v1", "v2", "v3"))
    cid = change_id(carried.change())
    assert cid not in pool
    pool.admit(tx_hash(wire.encode(carried)), wire.encode(carried), carried, state)
    # A node holding other approvals asks by change id: pending, though its own tx hash is not.
    assert cid in pool and tx_hash(wire.encode(mine)) not in pool
    pool.discard([tx_hash(wire.encode(carried))])
    assert cid not in pool
