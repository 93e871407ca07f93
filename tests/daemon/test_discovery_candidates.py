"""With a ledger, hello makes a candidate: admitted to the transport, known everywhere, no member.

The validators' membership follows a ledger set (``daemon.membership``) naming nodes 1-4;
node 5 joins by hello with the join secret. Its record reaches every validator (by the
bootstrap's announcement and its own introductions), it may open links (it must, to
fetch blocks and to be reached), but no node counts it as a validator, and the records
it announces are not taken: only members speak for the set.
"""

import asyncio

from daemon import discovery as disc
from daemon.membership import Membership
from daemon.validators import ValidatorDirectory
from ledger.config import Validator, ValidatorSet
from protocol import wire
from tests.daemon.test_discovery import SECRET, Node, scenario
from tests.daemon.test_validators import identity, record_of


def _ledger_set(numbers) -> ValidatorSet:
    return ValidatorSet(Validator(identity(n).peer_id, identity(n).public_key) for n in numbers)


def _follow_ledger(node: Node, numbers=(1, 2, 3, 4)) -> Membership:
    membership = Membership()
    membership.follow(_ledger_set(numbers), 1)
    node.directory.membership = membership
    return membership


@scenario
async def test_a_joiner_is_a_candidate_until_the_ledger_adds_it(cluster):
    founders = [await cluster.node(1)]
    for n in (2, 3, 4):
        founders.append(await cluster.node(n, [founders[0]]))
    for node in founders:
        _follow_ledger(node)
    joiner = Node(cluster, 5, [founders[0].addr], SECRET)
    cluster.nodes.append(joiner)
    _follow_ledger(joiner)
    await joiner.start()
    newcomer = joiner.peer_id
    founder_ids = sorted(n.peer_id for n in founders)
    for node in founders:
        assert node.directory.get(newcomer) is not None, node.peer_id
        assert node.directory.is_known(newcomer) and not node.directory.is_member(newcomer)
        assert node.members() == founder_ids
        assert [r.peer_id for r in node.directory.candidates()] == [newcomer]
        # Admitted to the transport: a candidate's messages reach the node's handlers.
        await joiner.transport.send(node.peer_id, b"ping")
    await asyncio.sleep(0.05)
    assert all((newcomer, b"ping") in node.received for node in founders)
    # The joiner sees the same: the ledger's validators, itself a candidate.
    assert joiner.members() == founder_ids
    assert not joiner.directory.is_member(newcomer)

    # A record announced by the candidate is not taken (only members speak for the set).
    stranger = record_of(identity(9))
    await joiner.transport.publish(disc.TOPIC, wire.encode(stranger))
    await asyncio.sleep(0.05)
    assert all(node.directory.get(stranger.peer_id) is None for node in founders)

    # The ledger adds it: a member everywhere, with no new hello.
    for node in (*founders, joiner):
        node.directory.membership.follow(_ledger_set((1, 2, 3, 4, 5)), 9)
    assert all(newcomer in node.members() for node in (*founders, joiner))
    assert all(node.directory.candidates() == [] for node in founders)


def test_the_directory_takes_its_membership_from_the_constructor(tmp_path):
    membership = Membership()
    directory = ValidatorDirectory(None, record_of(identity(1)), membership=membership)
    assert directory.membership is membership and directory.is_member(identity(1).peer_id)
    membership.follow(_ledger_set((2, 3, 4, 5)), 3)
    assert not directory.is_member(identity(1).peer_id)
    # The ledger's validators are the members even with no record here (listed offline).
    assert [r.peer_id for r in directory.members()] == sorted(identity(k).peer_id for k in (2, 3, 4, 5))
    assert all(r.addrs == () for r in directory.members())
