"""The ledger behind LocalNodeService: views of a real chain, and 409 without a ledger."""

from __future__ import annotations

import asyncio

import pytest

from daemon.errors import BadRequest, Conflict, NotFound, Unavailable
from daemon.ledger_wire import block_view
from daemon.node_service import LocalNodeService
from tests.daemon.ledger.cluster import Cluster
from tests.ledger.helpers import keygen_tx


class Engine:
    """The one engine attribute the service reads when it is built."""

    peer_id = "12D3KooWself"


def service(ledger=None) -> LocalNodeService:
    node = LocalNodeService(engine=Engine(), directory=None, mailbox=None, ledger=ledger)
    # metrics() starts from health(), which asks the engine and directory: not what is tested here
    node.health = lambda: {"validators": 4, "online": 4, "sessions": 0, "primes_ready": 0}
    return node


def test_without_a_ledger_every_ledger_call_is_409_ledger_disabled():
    async def main():
        node = service()
        for call in (node.ledger_status(), node.ledger_blocks(1, 20), node.ledger_block(1)):
            with pytest.raises(Conflict) as raised:
                await call
            assert raised.value.type == "ledger_disabled" and raised.value.status == 409
        assert not any(name.startswith("tssnet_ledger") for name in node.metrics())
    asyncio.run(main())


def test_the_service_shows_the_ledgers_status_and_blocks(tmp_path):
    async def main():
        cluster = Cluster(tmp_path)
        await cluster.start()
        try:
            ledger = cluster.nodes[cluster.peers[1]]
            tx, _ = keygen_tx("service-key")
            await ledger.submit(tx, wait=20)
            node = service(ledger)
            status = await node.ledger_status()
            assert status["height"] == 1 and status["state"] == "running"
            assert status["chain_id"] == "test-ledger" and status["validators"] == cluster.peers
            block = await node.ledger_block(1)
            assert block == block_view(await ledger.block(1))
            assert block["hash"] == status["last_block_hash"]
            assert block["transactions"][0]["key_id"] == "service-key"
            assert await node.ledger_blocks(1, 20) == [block]
            assert await node.ledger_blocks(2, 20) == []
            assert node.metrics()["tssnet_ledger_height"] == 1
            with pytest.raises(NotFound) as raised:
                await node.ledger_block(2)
            assert raised.value.type == "block_not_exists"
            with pytest.raises(BadRequest):
                await node.ledger_blocks(1, 101)
        finally:
            await cluster.stop()
        with pytest.raises(Unavailable):   # a stopped ledger says so: 503, not a crash
            await service(ledger).ledger_block(1)
    asyncio.run(main())
