"""FROST refresh: new shares of the same key; old and new shares do not mix."""

import pytest

from protocol import shamir
from protocol.errors import UsageError
from protocol.frost import single_key
from protocol.frost.refresh import FrostRefresh
from protocol.frost.sign import FrostSign
from protocol.rng import SeededRng
from tests.protocol import simulator
from tests.protocol.frost import helpers


def refresh(key, *, session=b"refresh-session", seed=""):
    machines = {p: FrostRefresh(share, session, SeededRng(f"refresh:{seed}:{p}"))
                for p, share in key.items()}
    return simulator.assert_success(simulator.run(machines))


@pytest.mark.parametrize("suite", helpers.SUITES)
@pytest.mark.parametrize(("n", "t"), [(2, 1), (3, 1), (4, 2), (5, 4)])
def test_refresh_keeps_the_key_and_changes_every_share(suite, n, t):
    old = helpers.shares(suite, n, t)
    new = refresh(old)
    for p in old:
        assert new[p].public_key == old[p].public_key
        assert new[p].chain_code == old[p].chain_code
        assert new[p].epoch == old[p].epoch + 1
        assert new[p].secret != old[p].secret
        assert new[p].public_shares != old[p].public_shares
    assert single_key.recover_secret(list(new.values())[: t + 1]) == \
        single_key.recover_secret(list(old.values())[: t + 1])
    signers = list(range(1, t + 2))
    sig = helpers.sign(new, signers, b"after refresh")
    assert sig.public_key == old[1].verifying_key
    assert helpers.external_verify(suite, sig.public_key, b"after refresh", sig.signature)


def test_two_refreshes_in_a_row():
    key = helpers.shares("bip340", 3, 2)
    twice = refresh(refresh(key, seed="1"), seed="2")
    assert {s.epoch for s in twice.values()} == {2}
    sig = helpers.sign(twice, [1, 2, 3], b"epoch 2", taproot=True)
    assert helpers.bip340_verifies(sig.public_key, b"epoch 2", sig.signature)


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_old_and_new_shares_do_not_combine(suite):
    old = helpers.shares(suite, 3, 1)
    new = refresh(old)
    group = old[1].group
    with pytest.raises(UsageError, match="epochs"):
        single_key.recover_secret([old[1], new[2]])
    mixed = (shamir.lagrange_at_zero(group, 1, [1, 2]) * old[1].secret
             + shamir.lagrange_at_zero(group, 2, [1, 2]) * new[2].secret)
    assert group.base_mul(mixed) != old[1].public_key


def _assert_no_blame_abort(net):
    for p, ch in net.channels.items():
        assert ch.result is None, f"party {p} has a result"
        assert ch.blame is not None and ch.blame.culprits == (), f"party {p}: {ch.blame}"
        assert "other inputs" in ch.blame.check, f"party {p}: {ch.blame.check}"


def test_a_signing_session_with_old_and_new_shares_aborts_without_blame():
    """Honest parties holding different epochs were given different inputs: no one is blamed."""
    old = helpers.shares("ed25519", 3, 1)
    new = refresh(old)
    machines = {1: FrostSign(old[1], [1, 2], b"m", b"s", SeededRng(1)),
                2: FrostSign(new[2], [1, 2], b"m", b"s", SeededRng(2))}
    _assert_no_blame_abort(simulator.run(machines))


def test_refreshes_of_different_epochs_or_sessions_abort_without_blame():
    old = helpers.shares("bip340", 3, 1)
    new = refresh(old)
    mixed = {1: FrostRefresh(old[1], b"r", SeededRng(1)), 2: FrostRefresh(new[2], b"r", SeededRng(2)),
             3: FrostRefresh(old[3], b"r", SeededRng(3))}
    _assert_no_blame_abort(simulator.run(mixed))
    sessions = {p: FrostRefresh(old[p], b"r" if p != 3 else b"other", SeededRng(p)) for p in old}
    _assert_no_blame_abort(simulator.run(sessions))


@pytest.mark.parametrize("dkg_even", [True, False])
def test_refresh_keeps_a_bip340_key_even(dkg_even):
    seed = helpers.bip340_keys_by_dkg_parity(3, 1)[dkg_even]
    old = helpers.shares("bip340", 3, 1, seed)
    new = refresh(old, seed=seed)
    for p in old:
        assert new[p].public_key == old[p].public_key and new[p].public_key.has_even_y()
        assert new[p].verifying_key == old[p].verifying_key
    secret = single_key.recover_secret([new[1], new[3]])
    assert secret.group.base_mul(secret) == new[1].public_key
    sig = helpers.sign(new, [2, 3], b"even", path="m/4", seed=seed)
    assert helpers.bip340_verifies(sig.public_key, b"even", sig.signature)


def test_refresh_checks_its_input():
    with pytest.raises(UsageError):
        FrostRefresh("not a share", b"s", SeededRng(1))
    with pytest.raises(UsageError):
        FrostRefresh(helpers.shares("ed25519", 3, 1)[1], b"", SeededRng(1))
