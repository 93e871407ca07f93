"""An in-process ``daemon.p2p.transport.Transport`` for tests of the layers above it.

    net = FakeNetwork()
    a, b = net.transport("peer-a"), net.transport("peer-b")
    await a.send("peer-b", b"...")        # b's message handler gets ("peer-a", b"...")
    net.partition("peer-b")                # b unreachable: sends to it raise TransportError

Delivery happens on the running asyncio loop, in order per (sender, receiver) pair,
through a queue per pair as a real stream would. Admission is applied by the
receiver, as the real host does. ``net.delivered`` records every message for tests
that inspect traffic; ``net.tap`` may rewrite or drop (return None) a payload.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from daemon.p2p.transport import TransportError


class FakeNetwork:
    def __init__(self) -> None:
        self.nodes: dict[str, FakeTransport] = {}
        self.down: set[str] = set()
        self.delivered: list[tuple[str, str, bytes]] = []
        self.tap: Callable[[str, str, bytes], bytes | None] | None = None
        self._topics: dict[str, list[tuple[str, Callable]]] = {}

    def transport(self, peer_id: str) -> FakeTransport:
        node = FakeTransport(self, peer_id)
        self.nodes[peer_id] = node
        return node

    def partition(self, peer_id: str) -> None:
        self.down.add(peer_id)

    def heal(self, peer_id: str) -> None:
        self.down.discard(peer_id)

    def reachable(self, peer_id: str) -> bool:
        node = self.nodes.get(peer_id)
        return node is not None and node.running and peer_id not in self.down


class FakeTransport:
    def __init__(self, net: FakeNetwork, peer_id: str) -> None:
        self.net = net
        self.peer_id = peer_id
        self.running = False
        self._on_message = None
        self._on_hello = None
        self._admitted: Callable[[str], bool] = lambda peer: True
        self._queues: dict[str, asyncio.Queue] = {}
        self._pumps: list[asyncio.Task] = []

    @property
    def listen_addrs(self) -> list[str]:
        return [f"/memory/{self.peer_id}/p2p/{self.peer_id}"]

    async def start(self) -> None:
        self.running = True

    async def stop(self) -> None:
        self.running = False
        for task in self._pumps:
            task.cancel()
        self._pumps.clear()
        self._queues.clear()

    def set_message_handler(self, handler) -> None:
        self._on_message = handler

    def set_hello_handler(self, handler) -> None:
        self._on_hello = handler

    def set_admission(self, admitted: Callable[[str], bool]) -> None:
        self._admitted = admitted

    def add_peer_addrs(self, peer_id: str, addrs: list[str]) -> None:
        pass

    def connected(self, peer_id: str) -> bool:
        return self.running and self.net.reachable(peer_id)

    async def send(self, peer_id: str, payload: bytes, timeout: float = 10.0) -> None:
        if not self.running or not self.net.reachable(peer_id) or self.peer_id in self.net.down:
            raise TransportError(f"{peer_id} is unreachable")
        queue = self._queues.get(peer_id)
        if queue is None:
            queue = self._queues[peer_id] = asyncio.Queue()
            self._pumps.append(asyncio.get_running_loop().create_task(self._pump(peer_id, queue)))
        queue.put_nowait(payload)

    async def _pump(self, peer_id: str, queue: asyncio.Queue) -> None:
        while True:
            payload = await queue.get()
            if self.net.tap is not None:
                payload = self.net.tap(self.peer_id, peer_id, payload)
                if payload is None:
                    continue
            receiver = self.net.nodes.get(peer_id)
            if receiver is None or not self.net.reachable(peer_id):
                continue
            await receiver._deliver(self.peer_id, payload)

    async def _deliver(self, sender: str, payload: bytes) -> None:
        if not self._admitted(sender) or self._on_message is None:
            return
        self.net.delivered.append((sender, self.peer_id, payload))
        await self._on_message(sender, payload)

    async def request_hello(self, multiaddr: str, request: bytes, timeout: float = 10.0) -> tuple[str, bytes]:
        peer_id = multiaddr.rsplit("/p2p/", 1)[-1]
        receiver = self.net.nodes.get(peer_id)
        if receiver is None or not self.net.reachable(peer_id) or receiver._on_hello is None:
            raise TransportError(f"{multiaddr} is unreachable")
        return peer_id, await receiver._on_hello(self.peer_id, request)

    async def publish(self, topic: str, data: bytes) -> None:
        for peer_id, handler in list(self.net._topics.get(topic, ())):
            if peer_id != self.peer_id and self.net.reachable(peer_id):
                await handler(self.peer_id, data)

    async def subscribe(self, topic: str, handler) -> None:
        self.net._topics.setdefault(topic, []).append((self.peer_id, handler))
