"""Validator-set changes through the node's ledger, in one process over a FakeNetwork.

Four validators and a fifth node that joined by hello (its record is in every
directory) but is no validator: it runs the ledger as a follower, is a candidate
everywhere, and becomes a member on every node once three operators approved adding
it, the change committed and took effect. On the way: bad proposals are refused
without changing anything, forged or foreign approvals are ignored, approvals survive
a restart of the collector, and a committed change cannot be proposed again.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from daemon.errors import BadRequest, Conflict
from daemon.ledger_node import LedgerNode
from daemon.membership import Membership
from daemon.router import Router
from daemon.store.aio import AsyncStore
from daemon.store.sqlite import SqliteStore
from daemon.validator_changes import TOPIC, ValidatorChanges
from daemon.validator_proposals import STORE_PREFIX, ApprovalNote
from daemon.validators import ValidatorDirectory, ValidatorRecord
from ledger.crypto import Ed25519Signer
from ledger.txs import decode_tx, sign_approval
from protocol import wire
from tests.daemon.fake_transport import FakeNetwork
from tests.daemon.ledger.cluster import identity, make_genesis, wait_until
from tests.ledger.helpers import keygen_tx


@dataclasses.dataclass
class Peer:
    identity: object
    transport: object
    store: AsyncStore
    membership: Membership
    directory: ValidatorDirectory
    ledger: LedgerNode
    changes: ValidatorChanges

    @property
    def peer_id(self) -> str:
        return self.identity.peer_id


class Network:
    """Validators n0..n3 (the genesis, validator changes effective two blocks after commit)
    and a candidate n4 that every directory knows."""

    def __init__(self, tmp_path) -> None:
        self.tmp = tmp_path
        self.net = FakeNetwork()
        self.identities = [identity(f"n{k}") for k in range(5)]
        self.genesis = make_genesis(self.identities[:4], validator_set_delay=2)
        self.records = [ValidatorRecord.create(i, [f"/ip4/127.0.0.1/tcp/{9100 + k}"], "", 1_000)
                        for k, i in enumerate(self.identities)]
        self.peers: list[Peer] = []

    async def start(self) -> None:
        for k, ident in enumerate(self.identities):
            transport = self.net.transport(ident.peer_id)
            router = Router()
            transport.set_message_handler(router.dispatch)
            await transport.start()
            store = AsyncStore(SqliteStore(self.tmp / f"node{k}.db"))
            membership = Membership()
            ledger = LedgerNode(genesis=self.genesis, identity=ident, transport=transport, router=router,
                                kv=SqliteStore(self.tmp / f"node{k}.db", "ledger"), status_interval=0.2,
                                membership=membership)
            directory = ValidatorDirectory(store, self.records[k], membership=membership)
            await directory.load()
            for record in self.records:
                if record.peer_id != ident.peer_id:
                    await directory.add(record)
            await ledger.start()
            changes = ValidatorChanges(ledger=ledger, directory=directory, identity=ident,
                                       transport=transport, store=store, announce_interval=0.3)
            await changes.start()
            self.peers.append(Peer(ident, transport, store, membership, directory, ledger, changes))

    async def stop(self) -> None:
        for peer in self.peers:
            await peer.changes.stop()
            await peer.ledger.stop()
            await peer.transport.stop()
            await peer.store.close()


def run(test):
    async def main(tmp_path):
        network = Network(tmp_path)
        await network.start()
        try:
            await test(network)
        finally:
            await network.stop()
    return main


async def _everyone_sees(network: Network, peer_id: str, member: bool) -> None:
    await wait_until(lambda: all(p.directory.is_member(peer_id) == member for p in network.peers))


def test_a_candidate_becomes_a_validator_once_a_quorum_approved_and_the_change_took_effect(tmp_path):
    async def scenario(network: Network):
        v0, v1, v2, v3, candidate = network.peers
        new = candidate.peer_id
        for peer in network.peers:   # the follower too: the ledger's set, not hello, decides
            assert [r.peer_id for r in peer.directory.candidates()] == [new]
            assert len(peer.directory.members()) == 4
            with pytest.raises(BadRequest, match="candidate"):
                peer.directory.resolve(new)

        first = await v0.changes.propose([new], [], None)
        assert first["approvers"] == [v0.peer_id] and first["quorum"] == 3
        assert not first["submitted"] and not first["committed"]
        nonce = bytes.fromhex(first["nonce"])
        # The approval travels: every node holds the proposal with v0's approval.
        await wait_until(lambda: all(len(p.changes.list()) == 1 for p in network.peers))
        assert v3.changes.list()[0]["approvers"] == [v0.peer_id]

        second = await v1.changes.propose([new], [], nonce)
        assert second["id"] == first["id"] and len(second["approvers"]) == 2
        await v2.changes.propose([new], [], nonce)
        await wait_until(lambda: all(c["committed"] for p in network.peers[:4] for c in p.changes.list()))
        height = v0.ledger.status().height
        assert height >= 1 and new not in v0.membership.validators   # scheduled, not yet in effect
        block = (await v0.ledger.block(1)).block
        assert len(block.txs) == 1

        # One more block and the change is in effect everywhere, the follower included.
        await v3.ledger.submit(keygen_tx("filler")[0], wait=20)
        await _everyone_sees(network, new, True)
        for peer in network.peers:
            assert len(peer.directory.members()) == 5 and peer.directory.candidates() == []
            assert peer.directory.resolve(new) == new
        await wait_until(lambda: candidate.ledger.status().height == v0.ledger.status().height)

        # Replaying the committed change is refused, at the API and by the ledger (the same
        # transaction, or the same change with other approvals).
        with pytest.raises(BadRequest, match="already a validator"):
            await v0.changes.propose([new], [], nonce)
        with pytest.raises(Conflict, match="already in the ledger"):
            await v1.ledger.submit(block.txs[0])
        committed = decode_tx(block.txs[0])
        others = dataclasses.replace(committed, approvals=tuple(
            sign_approval(Ed25519Signer(p.peer_id, p.identity.seed), network.genesis.chain_id,
                          network.genesis.hash(), committed.change()) for p in sorted((v1, v2, v3), key=lambda p: p.peer_id)))
        with pytest.raises(BadRequest, match="committed already"):
            await v1.ledger.submit(others)

        # A restarted collector keeps what it collected (here: committed, three approvers).
        again = ValidatorChanges(ledger=v3.ledger, directory=v3.directory, identity=v3.identity,
                                 transport=v3.transport, store=v3.store)
        await again.start()
        try:
            [kept] = again.list()
            assert kept["id"] == first["id"] and kept["committed"]
            assert kept == v3.changes.list()[0] and v0.peer_id in kept["approvers"]
        finally:
            await again.stop()

    asyncio.run(run(scenario)(tmp_path))


def test_bad_proposals_are_refused_and_change_nothing(tmp_path):
    async def scenario(network: Network):
        v0, v1, _, _, candidate = network.peers
        new = candidate.peer_id
        before = dict(await v0.store.scan(STORE_PREFIX))
        cases = {
            "no verified record": ([network.identities[0].peer_id[:-3] + "xyz"], []),
            "already a validator": ([v1.peer_id], []),
            "is not a validator": ([], [new]),
            "fewer than 4 validators": ([], [v1.peer_id]),
            "may not leave fewer than 4": ([], [v0.peer_id, v1.peer_id]),
            "appears twice": ([new], [new]),
            "changes nothing": ([], []),
        }
        for reason, (add, remove) in cases.items():
            with pytest.raises(BadRequest, match=reason):
                await v0.changes.propose(add, remove, None)
        for nonce in (b"", bytes(33)):
            with pytest.raises(BadRequest, match="nonce"):
                await v0.changes.propose([new], [], nonce)
        # The candidate itself may not approve anything: it is no validator.
        with pytest.raises(Conflict, match="not a validator") as refused:
            await candidate.changes.propose([new], [], None)
        assert refused.value.type == "not_a_validator"
        assert dict(await v0.store.scan(STORE_PREFIX)) == before
        assert all(p.changes.list() == [] for p in network.peers)

    asyncio.run(run(scenario)(tmp_path))


def test_forged_and_foreign_approvals_are_ignored(tmp_path):
    async def scenario(network: Network):
        v0, v1, v2, _, candidate = network.peers
        new = candidate.peer_id
        proposal = await v0.changes.propose([new], [], b"\x01" * 16)
        await wait_until(lambda: all(len(p.changes.list()) == 1 for p in network.peers))
        change = v1.changes._book.get(proposal["id"]).change
        chain, genesis = network.genesis.chain_id, network.genesis.hash()

        def signer(peer: Peer) -> Ed25519Signer:
            return Ed25519Signer(peer.peer_id, peer.identity.seed)

        notes = {
            "by a candidate": ApprovalNote(chain, change, sign_approval(signer(candidate), chain, genesis,
                                                                        change)),
            "for another chain": ApprovalNote("other", change, sign_approval(signer(v1), "other", genesis,
                                                                             change)),
            "signed for another chain": ApprovalNote(chain, change, sign_approval(signer(v1), "other", genesis,
                                                                                  change)),
            "signed for another genesis": ApprovalNote(chain, change, sign_approval(signer(v1), chain,
                                                                                    bytes(32), change)),
            "signed by another validator": ApprovalNote(
                chain, change, dataclasses.replace(sign_approval(signer(v2), chain, genesis, change),
                                                   validator=v1.peer_id)),
            "over another nonce": ApprovalNote(chain, change, sign_approval(
                signer(v1), chain, genesis, dataclasses.replace(change, nonce=b"\x02" * 16))),
            "over another base": ApprovalNote(chain, change, sign_approval(
                signer(v1), chain, genesis, dataclasses.replace(change, base=1))),
        }
        for note in notes.values():
            await candidate.transport.publish(TOPIC, wire.encode(note))
        await candidate.transport.publish(TOPIC, b"\x93\x01\x02")   # not even a note
        await asyncio.sleep(0.2)
        for peer in network.peers:
            [held] = peer.changes.list()
            assert held["approvers"] == [v0.peer_id], (peer.peer_id, held)
            assert not held["submitted"]
        # v1's own honest approval, relayed by the candidate, counts: approvals speak for themselves.
        honest = ApprovalNote(chain, change, sign_approval(signer(v1), chain, genesis, change))
        await candidate.transport.publish(TOPIC, wire.encode(honest))
        await wait_until(lambda: v2.changes.list()[0]["approvers"] == sorted([v0.peer_id, v1.peer_id]))

    asyncio.run(run(scenario)(tmp_path))
