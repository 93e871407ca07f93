"""Session admission asks the directory, so the ledger's set decides who may take part.

A candidate (joined by hello, not added by the ledger) holds a valid record and signs
its proposals with its real identity key, yet its proposal as coordinator gets no
answer, and a proposal naming it as a participant is refused; once the ledger adds it,
the very same checks admit it.
"""

import asyncio
import time
from types import SimpleNamespace

import pytest

from daemon.membership import Membership
from daemon.sessions import admission
from daemon.sessions import messages as m
from daemon.validators import ValidatorDirectory
from ledger.config import Validator, ValidatorSet
from tests.daemon.test_validators import identity, record_of


class Store:
    async def write(self, puts, deletes):
        pass

    async def get(self, key):
        return None

    async def scan(self, prefix):
        return []


def _set(numbers) -> ValidatorSet:
    return ValidatorSet(Validator(identity(n).peer_id, identity(n).public_key) for n in numbers)


def _engine(membership: Membership) -> SimpleNamespace:
    me = identity(1)
    directory = ValidatorDirectory(Store(), record_of(me), membership=membership)
    for n in (2, 3, 4, 5):
        asyncio.run(directory.add(record_of(identity(n))))

    async def seen(session_id):
        return False
    config = SimpleNamespace(keygen_timeout=60.0, session_timeout=60.0, paillier_bits=2048)
    return SimpleNamespace(directory=directory, peer_id=me.peer_id, config=config, seen=seen)


def _proposal(coordinator: int, participants) -> m.SignedProposal:
    proposal = m.Proposal(session_id="ab" * 16, protocol=m.FROST_KEYGEN,
                          coordinator=identity(coordinator).peer_id, key_id="k1",
                          participants=tuple(identity(n).peer_id for n in participants), threshold=1,
                          suite="ed25519", paillier_bits=0, epoch=0,
                          deadline_ms=int((time.time() + 30) * 1000))
    return m.sign_proposal(identity(coordinator).signer(), proposal)


def test_a_candidate_neither_coordinates_nor_takes_part_until_the_ledger_adds_it():
    membership = Membership()
    membership.follow(_set((1, 2, 3, 4)), 5)
    engine = _engine(membership)
    candidate = identity(5).peer_id
    by_candidate = _proposal(5, (1, 5))
    assert not asyncio.run(admission.authentic(engine, candidate, by_candidate))
    with pytest.raises(admission.Refused, match="not a validator"):
        asyncio.run(admission.prepare(engine, _proposal(2, (1, 2, 5)).proposal))
    # A validator's proposal among validators passes the same checks.
    assert asyncio.run(admission.authentic(engine, identity(2).peer_id, _proposal(2, (1, 2))))

    membership.follow(_set((1, 2, 3, 4, 5)), 9)
    assert asyncio.run(admission.authentic(engine, candidate, by_candidate))


def test_a_removed_validator_is_refused_as_coordinator_and_participant_once_the_removal_applies():
    """A node that has applied the removal of validator 4 never admits it; a node whose
    ledger lags behind an addition refuses the newcomer with a retryable reason."""
    membership = Membership()
    membership.follow(_set((1, 2, 3, 4, 5)), 5)
    engine = _engine(membership)
    removed = identity(4).peer_id
    by_removed = _proposal(4, (1, 4))
    assert asyncio.run(admission.authentic(engine, removed, by_removed))   # before the removal
    membership.follow(_set((1, 2, 3, 5)), 12)   # the removal took effect at this node's height
    assert not asyncio.run(admission.authentic(engine, removed, by_removed))
    with pytest.raises(admission.Refused, match="not a validator here; retry") as refused:
        asyncio.run(admission.prepare(engine, _proposal(2, (1, 2, 4)).proposal))
    assert refused.value.code == "not_a_validator"
    assert removed not in [r.peer_id for r in engine.directory.members()]   # gone from GET /validators
    assert engine.directory.get(removed) is not None   # its record stays, as a candidate's

    lagging = Membership()
    lagging.follow(_set((1, 2, 3, 4)), 7)   # has not yet applied the addition of 5
    with pytest.raises(admission.Refused) as refused:
        asyncio.run(admission.prepare(_engine(lagging), _proposal(2, (1, 2, 5)).proposal))
    assert refused.value.code == "not_a_validator"


def test_a_ledger_validator_without_a_record_here_is_admitted_with_its_ledger_key():
    """Indices and identity keys come from the ledger: a record missing on one node shifts
    nothing and refuses nobody."""
    membership = Membership()
    membership.follow(_set((1, 2, 3, 4, 6)), 5)   # no record of 6 on this node
    engine = _engine(membership)
    stranger_here = identity(6).peer_id
    assert asyncio.run(admission.authentic(engine, stranger_here, _proposal(6, (1, 6))))
    forged = m.SignedProposal(_proposal(6, (1, 6)).proposal, _proposal(2, (1, 6)).signature)
    assert not asyncio.run(admission.authentic(engine, stranger_here, forged))
    assert [r.peer_id for r in engine.directory.members()] == list(_set((1, 2, 3, 4, 6)).ids)
