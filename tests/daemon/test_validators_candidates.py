"""Directory bounds with a ledger: a flood of candidates never keeps a validator out."""

from daemon.membership import Membership
from daemon.validators import MAX_CANDIDATES, MAX_VALIDATORS, ONLINE_WINDOW_S, ValidatorDirectory
from ledger.config import Validator, ValidatorSet
from tests.daemon.test_validators import identity, open_store, record_of, run, stored_ids

__all__ = ["open_store"]   # the fixture, shared



def test_a_flood_of_candidates_never_keeps_a_ledger_validator_out(open_store):
    """With a ledger, candidates share MAX_CANDIDATES places (the oldest offline one makes
    room for a newcomer) and records of ledger validators, current or scheduled, are
    always taken; a removed validator is a candidate like any other."""
    me = identity(1)
    founders = [identity(n) for n in (1, 2, 3, 4)]
    scheduled = identity(40)

    async def scenario():
        store = open_store()
        clock = [0.0]
        membership = Membership()
        directory = ValidatorDirectory(store, record_of(me), membership=membership, clock=lambda: clock[0])
        await directory.load()
        membership.follow(ValidatorSet(Validator(i.peer_id, i.public_key) for i in founders), 3,
                          frozenset({scheduled.peer_id}))
        flood = [identity(n) for n in range(50, 50 + MAX_CANDIDATES + 10)]
        for k, ident in enumerate(flood):
            assert await directory.add(record_of(ident, at=1_000 + k))
        held = [r.peer_id for r in directory.candidates()]
        assert len(held) == MAX_CANDIDATES
        assert held == sorted(i.peer_id for i in flood[10:])   # the ten oldest made room
        assert sorted(await stored_ids(store)) == sorted([me.peer_id, *held])
        # Every candidate online: the next one is refused, a scheduled validator is not.
        for peer in held:
            directory.mark_seen(peer)
        assert not await directory.add(record_of(identity(90)))
        assert await directory.add(record_of(scheduled))
        for ident in founders[1:]:
            assert await directory.add(record_of(ident))
        assert len(directory.records()) == 1 + MAX_CANDIDATES + 4
        assert len(directory.shared_records()) <= MAX_VALIDATORS
        assert directory.shared_records()[:4] == directory.members()   # validators first
        # A removed validator is a candidate: once offline it may be forgotten for a newcomer.
        membership.follow(ValidatorSet(Validator(i.peer_id, i.public_key)
                                       for i in (*founders[:3], scheduled)), 12)
        clock[0] += ONLINE_WINDOW_S + 1   # everybody offline now
        assert founders[3].peer_id in [r.peer_id for r in directory.candidates()]
        for n in range(91, 91 + MAX_CANDIDATES + 1):
            assert await directory.add(record_of(identity(n), at=5_000 + n))
        assert directory.get(founders[3].peer_id) is None
        assert all(directory.get(i.peer_id) is not None for i in (*founders[:3], scheduled))

    run(scenario())


def test_without_a_ledger_the_set_holds_at_most_max_validators(open_store):
    async def scenario():
        directory = ValidatorDirectory(open_store(), record_of(identity(1)))
        await directory.load()
        for n in range(2, MAX_VALIDATORS + 1):
            assert await directory.add(record_of(identity(n)))
        assert not await directory.add(record_of(identity(200)))
        assert len(directory.members()) == MAX_VALIDATORS

    run(scenario())
