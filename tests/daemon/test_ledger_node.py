"""The ledger replica driven by the node: four LedgerNodes over a FakeNetwork and SQLite."""

from __future__ import annotations

import asyncio

import pytest

from daemon.errors import BadRequest, Conflict, NotFound, Unavailable
from daemon.ledger_genesis import ledger_config
from daemon.ledger_node import LedgerNode
from daemon.ledger_wire import LedgerEnvelope, block_view
from daemon.membership import Membership
from daemon.router import Router
from daemon.store.sqlite import SqliteStore
from ledger.block import tx_hash
from ledger.certs import sign_body, verify_commit_certificate
from ledger.crypto import Ed25519Signer, Verifier, signing_prefix
from ledger.messages import (
    BODIES,
    COMMIT,
    PREPARE,
    PREPREPARE,
    Commit,
    Prepare,
    PrePrepare,
    Signed,
    Status,
    TxBatch,
)
from protocol import wire
from tests.daemon.ledger.cluster import Cluster, identity, wait_until
from tests.ledger.helpers import ecdsa_tx, keygen_tx

PHASES = {PrePrepare: PREPREPARE, Prepare: PREPARE, Commit: COMMIT}


def run(coro):
    return asyncio.run(coro)


def _same_blocks(cluster: Cluster, peers: list[str], height: int) -> bool:
    chains = [cluster.chains[p] for p in peers]
    return all(c.get(h) is not None and c[h] == chains[0][h]
               for c in chains for h in range(1, height + 1))


def test_a_valid_transaction_commits_in_one_block_at_every_node(tmp_path):
    async def main():
        cluster = Cluster(tmp_path)
        await cluster.start()
        try:
            tx, _ = keygen_tx("key-1")
            receipt = await cluster.nodes[cluster.peers[2]].submit(tx, wait=20)
            assert receipt.to_json() == {"tx_hash": tx_hash(wire.encode(tx)).hex(), "height": 1}
            await wait_until(lambda: _same_blocks(cluster, cluster.peers, 1))
            config = ledger_config(cluster.genesis)
            for peer in cluster.peers:
                committed = await cluster.nodes[peer].block(1)
                assert committed.block.txs == (wire.encode(tx),)
                assert committed.block.hash() == cluster.chains[peer][1]
                verify_commit_certificate(committed.certificate, config.genesis_set(),
                                          Verifier(config.chain_id))
                status = cluster.nodes[peer].status()
                assert (status.height, status.state) == (1, "running")
                assert status.last_block_hash == committed.block.hash().hex()
                assert status.to_json()["validators"] == cluster.peers
                assert status.genesis_hash == cluster.genesis.hash().hex()
            page = await cluster.nodes[cluster.peers[0]].blocks(1, 10)
            assert [c.block.height for c in page] == [1]
            view = block_view(page[0])
            assert view["transactions"][0]["type"] == "keygen"
            assert sorted(view["certificate"]["signers"]) == sorted(set(view["certificate"]["signers"]))
        finally:
            await cluster.stop()

    run(main())


def test_an_invalid_transaction_is_refused_and_never_committed(tmp_path):
    async def main():
        cluster = Cluster(tmp_path)
        await cluster.start()
        node = cluster.nodes[cluster.peers[1]]
        try:
            _, secret = keygen_tx("key-1")
            unknown_key = ecdsa_tx("no-such-key", secret, 0)  # a key never registered
            with pytest.raises(BadRequest) as refused:
                await node.submit(unknown_key)
            assert refused.value.type == "invalid_transaction" and "does not exist" in refused.value.message
            with pytest.raises(BadRequest):
                await node.submit(b"\x93\x01\x02")  # not a transaction at all
            keygen, _ = keygen_tx("key-1")
            assert (await node.submit(keygen, wait=20)).height == 1
            with pytest.raises(Conflict):
                await node.submit(keygen)  # already in the ledger
            # A validator that skips the check and forwards it anyway changes nothing.
            rogue = cluster.identities[cluster.peers[2]]
            batch = sign_body(TxBatch((wire.encode(unknown_key),), rogue.peer_id),
                              Ed25519Signer(rogue.peer_id, rogue.seed).sign,
                              signing_prefix(cluster.genesis.chain_id))
            for peer in cluster.peers:
                if peer != rogue.peer_id:
                    await cluster.net.nodes[rogue.peer_id].send(peer, wire.encode(LedgerEnvelope(batch)))
            # Had any replica taken the refused one in, it would ride along in this block.
            assert (await cluster.nodes[cluster.peers[3]].submit(keygen_tx("key-2")[0], wait=20)).height == 2
            await wait_until(lambda: _same_blocks(cluster, cluster.peers, 2))
            refused_hash = tx_hash(wire.encode(unknown_key))
            for peer in cluster.peers:
                for committed in await cluster.nodes[peer].blocks(1, 100):
                    assert refused_hash not in {tx_hash(t) for t in committed.block.txs}
        finally:
            await cluster.stop()

    run(main())


def test_the_others_change_view_and_go_on_when_the_primary_stops(tmp_path):
    async def main():
        cluster = Cluster(tmp_path)
        await cluster.start()
        try:
            first = cluster.nodes[cluster.peers[0]]
            assert (await first.submit(keygen_tx("key-1")[0], wait=20)).height == 1
            primary = first.status().primary
            cluster.net.partition(primary)
            await cluster.stop(primary)
            others = [p for p in cluster.peers if p != primary]
            receipt = await cluster.nodes[others[0]].submit(keygen_tx("key-2")[0], wait=20)
            assert receipt.height == 2
            await wait_until(lambda: _same_blocks(cluster, others, 2))
            for peer in others:
                status = cluster.nodes[peer].status()
                assert status.view >= 1 and status.primary != primary
        finally:
            await cluster.stop()

    run(main())


def test_a_restarted_node_comes_back_from_its_store_and_catches_up(tmp_path):
    async def main():
        cluster = Cluster(tmp_path)
        await cluster.start()
        try:
            submitter = cluster.nodes[cluster.peers[0]]
            assert (await submitter.submit(keygen_tx("key-0")[0], wait=20)).height == 1
            late = cluster.peers[3]
            await wait_until(lambda: cluster.chains[late].get(1) is not None)
            cluster.net.partition(late)
            await cluster.stop(late)
            others = [p for p in cluster.peers if p != late]
            for k in range(1, 6):  # past a checkpoint (every 4 blocks)
                await cluster.nodes[others[k % 3]].submit(keygen_tx(f"key-{k}")[0], wait=20)
            await wait_until(lambda: all(h >= 6 for h in cluster.heights(others).values()))

            cluster.net.heal(late)
            await cluster.start(late)
            assert cluster.nodes[late].status().height == 1  # its block, from its own store
            # No new transaction: its start-up status makes the others send what it missed.
            await wait_until(lambda: cluster.nodes[late].status().height >= 6)
            tip = cluster.nodes[late].status().height
            await wait_until(lambda: all(h >= tip for h in cluster.heights().values()))
            reference = await cluster.nodes[others[0]].blocks(1, tip)
            caught_up = await cluster.nodes[late].blocks(1, tip)
            assert [c.block.hash() for c in caught_up] == [c.block.hash() for c in reference]
        finally:
            await cluster.stop()

    run(main())


def test_a_node_back_from_a_partition_on_an_idle_chain_catches_up_by_status_heartbeats(tmp_path):
    async def main():
        cluster = Cluster(tmp_path, status_interval=0.1)
        await cluster.start()
        try:
            late = cluster.peers[0]
            cluster.net.partition(late)
            await cluster.stop(late)
            others = cluster.peers[1:]
            for k in range(3):
                await cluster.nodes[others[k]].submit(keygen_tx(f"key-{k}")[0], wait=20)
            await cluster.start(late)  # its start-up status is lost: still partitioned
            assert cluster.nodes[late].status().height == 0
            cluster.net.heal(late)
            await wait_until(lambda: cluster.nodes[late].status().height == 3)
            assert _same_blocks(cluster, cluster.peers, 3)
        finally:
            await cluster.stop()

    run(main())


def test_messages_from_outside_the_validator_set_never_reach_the_replica(tmp_path):
    async def main():
        cluster = Cluster(tmp_path)
        await cluster.start()
        target = cluster.nodes[cluster.peers[0]]
        try:
            outsider = identity("outsider")
            transport = cluster.net.transport(outsider.peer_id)
            await transport.start()
            signer = Ed25519Signer(outsider.peer_id, outsider.seed)
            own = sign_body(Status(5, 0, outsider.peer_id), signer.sign,
                            signing_prefix(cluster.genesis.chain_id))
            # A validator's message relayed by the outsider is no better than its own.
            await wait_until(lambda: any(s == cluster.peers[1] for s, _, _ in cluster.net.delivered))
            relayed = next(payload for sender, _, payload in cluster.net.delivered
                           if sender == cluster.peers[1])
            for payload in (wire.encode(LedgerEnvelope(own)), relayed):
                await transport.send(cluster.peers[0], payload)
            await wait_until(lambda: target.stats["foreign"] == 2)
            # Everything the replica was handed came from validators.
            from_validators = [1 for sender, to, _ in cluster.net.delivered
                               if to == cluster.peers[0] and sender in cluster.identities]
            assert target.stats["received"] == len(from_validators)
            assert target.status().height == 0
        finally:
            await cluster.stop()

    run(main())


def test_garbage_from_a_validator_crashes_nothing(tmp_path):
    async def main():
        cluster = Cluster(tmp_path)
        await cluster.start()
        sender, target = cluster.peers[1], cluster.nodes[cluster.peers[0]]
        try:
            link = cluster.net.nodes[sender]
            before = target.stats["received"]
            await link.send(cluster.peers[0], b"\xff\x00 not a wire message")
            await link.send(cluster.peers[0], wire.encode(LedgerEnvelope(b"garbage inside")))
            await link.send(cluster.peers[0], wire.encode(LedgerEnvelope(b"")))
            await wait_until(lambda: target.stats["received"] >= before + 2)
            await wait_until(lambda: target.stats["evidence"] >= 2)  # the sender is blamed
            assert target.status().state == "running"
            assert (await target.submit(keygen_tx("key-1")[0], wait=20)).height == 1
        finally:
            await cluster.stop()

    run(main())


def test_every_vote_is_in_the_senders_store_before_it_leaves(tmp_path):
    async def main():
        cluster = Cluster(tmp_path)
        readers = {p: SqliteStore(tmp_path / f"{p}.db", "ledger") for p in cluster.peers}
        checked, unsaved = [], []

        def tap(sender, receiver, payload):
            envelope = wire.decode(payload, LedgerEnvelope)
            body = BODIES.decode(wire.decode(envelope.data, Signed).body)
            phase = PHASES.get(type(body))
            if phase is not None and body.replica == sender:
                key = f"ledger/vote/{body.seq:020d}/{body.view:020d}/{phase:020d}"
                (checked if readers[sender].get(key) is not None else unsaved).append(key)
            return payload

        cluster.net.tap = tap
        await cluster.start()
        try:
            for k in range(3):
                await cluster.nodes[cluster.peers[k]].submit(keygen_tx(f"key-{k}")[0], wait=20)
            assert len(checked) >= 3 * 9 and unsaved == []
        finally:
            await cluster.stop()
            for reader in readers.values():
                reader.close()

    run(main())


class FailingDisk(SqliteStore):
    """A store whose writes start failing on demand, as a full disk would."""

    broken = False

    def write(self, puts=None, deletes=()):
        if self.broken:
            raise Unavailable("disk full")
        super().write(puts or {}, deletes)


def test_a_failed_store_write_halts_that_ledger_and_the_others_go_on(tmp_path):
    async def main():
        cluster = Cluster(tmp_path)
        victim = cluster.peers[3]
        disk = FailingDisk(tmp_path / "victim.db", "ledger")
        for peer in cluster.peers:
            await cluster.start(peer, kv=disk if peer == victim else None)
        try:
            disk.broken = True
            others = [p for p in cluster.peers if p != victim]
            await cluster.nodes[others[0]].submit(keygen_tx("key-1")[0], wait=20)
            await wait_until(lambda: cluster.nodes[victim].status().state == "halted")
            with pytest.raises(Unavailable, match="restart"):
                await cluster.nodes[victim].submit(keygen_tx("key-2")[0])
            assert cluster.nodes[victim].status().height == 0  # it never reported what it could not store
            await cluster.nodes[others[1]].submit(keygen_tx("key-2")[0], wait=20)
            await wait_until(lambda: _same_blocks(cluster, others, 2))
        finally:
            await cluster.stop()

    run(main())


def test_the_api_refuses_bad_arguments_and_calls_after_stop(tmp_path):
    async def main():
        cluster = Cluster(tmp_path)
        await cluster.start()
        node = cluster.nodes[cluster.peers[0]]
        try:
            with pytest.raises(NotFound):
                await node.block(1)
            for bad in (0, -1, True, "1"):
                with pytest.raises(BadRequest):
                    await node.block(bad)
            for start, limit in ((0, 1), (1, 0), (1, 101), (1, True)):
                with pytest.raises(BadRequest):
                    await node.blocks(start, limit)
            assert await node.blocks(5, 10) == []
        finally:
            await cluster.stop()
        with pytest.raises(Unavailable):
            await node.submit(keygen_tx("key-1")[0])
        assert node.status().state == "stopped"

    run(main())


def test_a_node_outside_the_genesis_set_follows_the_chain_without_voting(tmp_path):
    async def main():
        cluster = Cluster(tmp_path)
        await cluster.start()
        stranger = identity("stranger")
        transport = cluster.net.transport(stranger.peer_id)
        router = Router()
        transport.set_message_handler(router.dispatch)
        await transport.start()
        membership = Membership()
        node = LedgerNode(genesis=cluster.genesis, identity=stranger, transport=transport, router=router,
                          kv=SqliteStore(tmp_path / "stranger.db", "ledger"), membership=membership)
        try:
            await node.start()
            assert node.status().state == "running"
            assert membership.ledger_driven and not membership.admits(stranger.peer_id)
            assert sorted(membership.validators.ids) == cluster.peers
            # The validators commit without it and do not hear it: it is no validator.
            await cluster.nodes[cluster.peers[0]].submit(keygen_tx("key-1")[0], wait=20)
            assert node.status().height == 0
            assert all(cluster.nodes[p].stats["foreign"] >= 1 for p in cluster.peers)
        finally:
            await node.stop()
            await cluster.stop()
        assert node.status().state == "stopped"

    run(main())
