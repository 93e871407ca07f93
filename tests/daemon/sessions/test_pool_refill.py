"""The presignature pool refills from half its size up to full, not after every sign."""

import asyncio
from types import SimpleNamespace

from daemon.sessions import pool as pool_module
from daemon.sessions.pool import PresignPool, member_signers, non_member_holders, preferred_signers

SIGNERS = (1, 2)


def pool_of(size: int) -> PresignPool:
    engine = SimpleNamespace(config=SimpleNamespace(presign_pool_size=size))
    return PresignPool(engine)


def test_a_pool_waits_until_half_empty_then_fills_to_the_top():
    pool, key = pool_of(10), SimpleNamespace(key_id="k", epoch=0)
    # full, then a few signs: no refill yet
    assert [pool._wants(key, SIGNERS, ready) for ready in (10, 9, 7, 6)] == [False] * 4
    assert pool._wants(key, SIGNERS, 5)            # half: refilling starts
    assert all(pool._wants(key, SIGNERS, ready) for ready in (6, 8, 9))   # and goes on
    assert not pool._wants(key, SIGNERS, 10)       # until full
    assert not pool._wants(key, SIGNERS, 9)        # then waits for half again


def test_an_empty_pool_of_a_new_key_fills_and_pools_are_apart():
    pool = pool_of(4)
    new, other = SimpleNamespace(key_id="new", epoch=0), SimpleNamespace(key_id="other", epoch=0)
    assert pool._wants(new, SIGNERS, 0)
    assert not pool._wants(other, SIGNERS, 3)
    assert pool._wants(new, SIGNERS, 3)
    assert not pool._wants(SimpleNamespace(key_id="new", epoch=1), SIGNERS, 3)   # a new epoch is another pool


def _key(party: int, participants=("a", "b", "c", "d"), threshold: int = 1):
    return SimpleNamespace(key_id="k", epoch=0, scheme="ecdsa", party=party, threshold=threshold,
                           participants=participants)


def test_member_signers_skip_removed_holders_and_give_up_below_t_plus_1():
    everyone = {"a", "b", "c", "d"}.__contains__
    assert member_signers(_key(1), everyone) == preferred_signers(_key(1)) == (1, 2)
    assert member_signers(_key(4), everyone) == (1, 4)                      # wrapping
    without_b = {"a", "c", "d"}.__contains__
    assert member_signers(_key(1), without_b) == (1, 3)                      # the next member instead
    assert member_signers(_key(2, threshold=2), without_b) == (1, 3, 4)
    assert non_member_holders(_key(1), without_b) == ("b",)
    assert member_signers(_key(1, threshold=3), without_b) is None           # 3 members, 4 needed
    assert member_signers(_key(1), {"a"}.__contains__) is None


def test_the_pool_never_presigns_with_a_removed_validator_nor_retries_a_key_it_cannot_fill(monkeypatch):
    started = []

    class Keys:
        async def key_records(self):
            return [_key(1, threshold=2)]

        async def presign_ids(self, key_id, epoch, signers):
            started.append(("count", signers))
            return []

    removed = {"b", "c"}
    directory = SimpleNamespace(is_member=lambda p: p not in removed, online=lambda p: True)
    engine = SimpleNamespace(config=SimpleNamespace(presign_pool_size=4), keys=Keys(), directory=directory,
                             peer_id="a")
    pool = PresignPool(engine)
    # Two of four holders removed: a 3-of-4 key has no three validators to presign with.
    assert asyncio.run(pool._fill_one()) is False and started == []
    removed.discard("c")

    async def presign(_engine, _key, peers):
        started.append(("presign", peers))
        return "session"

    async def finished(_session):
        return SimpleNamespace(error=None)
    monkeypatch.setattr(pool_module, "coordinator", SimpleNamespace(presign=presign, finished=finished))
    assert asyncio.run(pool._fill_one()) is True
    assert started == [("count", (1, 3, 4)), ("presign", ("a", "c", "d"))]
