"""The presignature pool refills from half its size up to full, not after every sign."""

from types import SimpleNamespace

from daemon.sessions.pool import PresignPool

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
