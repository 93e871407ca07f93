"""A joiner introduces itself to every member, not only to its bootstrap peer.

Gossip reaches a new node's peers only once the mesh includes it; until the next
resync (30 s by default) members that missed the announcement would not admit
the newcomer's messages. Here gossip delivers nothing at all.
"""

from tests.daemon.test_discovery import scenario


@scenario
async def test_members_learn_a_joiner_directly_without_gossip(cluster):
    async def lost(topic, data):   # every announcement is lost
        return None

    a = await cluster.node(1)
    b = await cluster.node(2, [a])
    c = await cluster.node(3, [a])
    for node in (a, b, c):
        node.transport.publish = lost
    d = await cluster.node(4, [a])
    d.transport.publish = lost
    everyone = sorted(n.peer_id for n in (a, b, c, d))
    for node in (a, b, c, d):   # resync is an hour away in these tests
        assert node.members() == everyone
