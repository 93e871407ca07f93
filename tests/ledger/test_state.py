"""Ledger state: keys, duplicates, and the validator-set delay and refusal rules."""

from __future__ import annotations

import pytest

from ledger.config import Validator, ValidatorSet
from ledger.state import VALIDATOR_SET_DELAY, LedgerState
from ledger.txs import FutureBase, InvalidTransaction, StaleChange, ValidatorChange
from protocol.errors import InvalidProof
from tests.ledger.helpers import (
    approve,
    check_txs,
    commit_txs,
    ecdsa_tx,
    keygen_tx,
    make_config,
    validator_tx,
)


@pytest.fixture
def config():
    return make_config(6)


def test_keys_registered_and_signatures_need_them(config):
    state = LedgerState(config)
    keygen, secret = keygen_tx("k")
    sig = ecdsa_tx("k", secret, 1)
    with pytest.raises(InvalidTransaction, match="does not exist"):
        check_txs(state, sig)
    check_txs(state, keygen, sig)  # a key registered earlier in the same block counts
    commit_txs(state, config, [keygen])
    assert state.keys["k"].public_key == keygen.public_key and state.keys["k"].height == 1
    commit_txs(state, config, [sig])
    with pytest.raises(InvalidTransaction, match="already in the ledger"):
        check_txs(state, sig)
    with pytest.raises(InvalidTransaction, match="already exists"):
        check_txs(state, keygen_tx("k", seed=4)[0])


def test_invalid_transaction_never_enters_a_block(config):
    state = LedgerState(config)
    keygen, secret = keygen_tx("k")
    commit_txs(state, config, [keygen])
    bad = ecdsa_tx("k", secret, 1)
    bad = type(bad)(bad.key_id, bad.public_key, bad.message, ecdsa_tx("k", secret, 2).signature, None)
    with pytest.raises(InvalidProof, match="invalid transaction"):
        commit_txs(state, config, [ecdsa_tx("k", secret, 3), bad])
    assert state.height == 1


def test_change_takes_effect_after_the_delay(config):
    state = LedgerState(config)
    commit_txs(state, config, [validator_tx(add=("v6",), config=config)])
    committed_at = state.height
    for h in range(committed_at + 1, committed_at + VALIDATOR_SET_DELAY):
        assert "v6" not in state.validators_at(h), h
    assert "v6" in state.validators_at(committed_at + VALIDATOR_SET_DELAY)
    assert "v6" in state.latest() and "v6" not in state.current()
    assert state.key_of("v6") is not None  # scheduled validators may already talk to us


def test_refusals(config):
    state = LedgerState(config)  # six validators
    cases = {
        "fewer than 4": validator_tx(remove=("v0", "v1", "v2"), config=config),
        "half or more": validator_tx(add=("a", "b", "c"), remove=("v0", "v1", "v2"), config=config),
        "not a validator": validator_tx(remove=("nobody",), config=config),
        "already a validator": validator_tx(add=("v1",), config=config),
        "names base 1, but the chain has committed only 0": validator_tx(add=("a",), base=1, config=config),
    }
    for reason, tx in cases.items():
        with pytest.raises(InvalidTransaction, match=reason):
            check_txs(state, tx)
    check_txs(state, validator_tx(remove=("v0", "v1"), config=config))  # two of six: allowed


def test_a_base_ahead_of_the_chain_is_a_future_base_not_a_plain_refusal(config):
    state = LedgerState(config)
    with pytest.raises(FutureBase, match="names base 1, but the chain has committed only 0"):
        check_txs(state, validator_tx(add=("a",), base=1, config=config))
    with pytest.raises(StaleChange) as caught:   # the other side stays stale, never a future base
        commit_txs(state, config, [validator_tx(add=("a",), config=config)])
        check_txs(state, validator_tx(add=("b",), config=config))
    assert not isinstance(caught.value, FutureBase)


def test_the_removal_limit_is_measured_against_the_set_voting_now():
    """Three of seven removed, then (within the delay, the seven still voting) three added and
    one more removed: four of the seven voting would be gone, which one change could not do."""
    config = make_config(7)
    approvers = ("v0", "v1", "v2", "v3", "v4")
    state = LedgerState(config)
    commit_txs(state, config, [validator_tx(remove=("v0", "v1", "v2"), approvers=approvers, config=config)])
    assert len(state.validators_at(state.height + 1)) == 7 and len(state.latest()) == 4
    split = validator_tx(add=("a", "b", "c"), remove=("v3",), base=1, approvers=approvers, config=config)
    with pytest.raises(InvalidTransaction, match="remove 4 of the 7 validators voting now: half or more"):
        check_txs(state, split)
    # An addition alone is fine: it removes no one voting now.
    check_txs(state, validator_tx(add=("a", "b", "c"), base=1, approvers=approvers, config=config))


def test_one_change_per_block(config):
    """A second change in a block was approved at the base the first one moves past."""
    state = LedgerState(config)
    with pytest.raises(StaleChange, match="approved at base 0, but the chain has committed 1"):
        check_txs(state, validator_tx(add=("a", "b"), config=config),
               validator_tx(remove=("v0",), config=config))


def test_pending_changes_are_seen_by_later_blocks(config):
    state = LedgerState(config)
    commit_txs(state, config, [validator_tx(remove=("v0",), config=config)])
    assert state.change_count == 1
    with pytest.raises(InvalidTransaction, match="already in the ledger"):
        check_txs(state, validator_tx(remove=("v0",), config=config))
    with pytest.raises(InvalidTransaction, match="not a validator"):   # already scheduled for removal
        check_txs(state, validator_tx(add=("x",), remove=("v0",), base=1, config=config))
    commit_txs(state, config, [validator_tx(remove=("v1",), base=1, config=config)])
    with pytest.raises(InvalidTransaction, match="fewer than"):
        check_txs(state, validator_tx(remove=("v2",), base=2, config=config))


def test_same_key_for_two_validators_refused(config):
    state = LedgerState(config)
    clash = approve(ValidatorChange((Validator("new", config.validators[0].public_key),), (), 0, b"n"),
                    config=config)
    with pytest.raises(InvalidTransaction, match="another validator"):
        check_txs(state, clash)


def test_quorum_sizes():
    def vset(n):
        return ValidatorSet(make_config(n).validators)

    assert [(vset(n).f, vset(n).quorum) for n in (4, 5, 6, 7, 10)] == [
        (1, 3), (1, 4), (1, 4), (2, 5), (3, 7)]
    for n in range(4, 30):
        s = vset(n)
        assert 2 * s.quorum - n >= s.f + 1  # any two quorums share an honest validator
        assert s.quorum <= n - s.f  # the honest ones alone form a quorum
