"""What the node needs from its peer-to-peer layer (implemented by ``daemon.p2p.host``).

Two kinds of traffic:

* ``send`` / the message handler: validator-to-validator messages (session frames,
  proposals, mailbox), on one long-lived direct stream per peer with our own bounded
  length-prefixed framing. Only admitted peers (``set_admission``) are heard: a
  message from anyone else is dropped and logged; before ``set_admission`` no one
  is admitted. A payload over the frame limit raises ``ValueError`` from ``send``.
  Delivery is in order per stream and may duplicate (a frame cut off by a broken
  stream is sent again whole on the next); receivers de-duplicate and tolerate
  reordering across peers.
* ``request_hello`` / the hello handler: one small request and answer on a separate
  protocol that is open to peers not yet admitted, for joining and learning the
  validator set from a bootstrap peer.
* ``publish`` / ``subscribe``: gossipsub, for small announcements only (≤ 64 KiB),
  heard (and relayed) only from admitted origins, rate-limited per origin.

All methods are called from the asyncio loop; handlers are called on it too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

#: (peer id, payload) -> None
MessageHandler = Callable[[str, bytes], Awaitable[None]]
#: (peer id, request) -> answer
HelloHandler = Callable[[str, bytes], Awaitable[bytes]]


class TransportError(Exception):
    """A peer could not be reached or a stream broke; the caller may retry later."""


class Transport(Protocol):
    peer_id: str

    @property
    def listen_addrs(self) -> list[str]:
        """Multiaddrs others can dial, each ending in /p2p/<peer id>."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def set_message_handler(self, handler: MessageHandler) -> None: ...

    def set_hello_handler(self, handler: HelloHandler) -> None: ...

    def set_admission(self, admitted: Callable[[str], bool]) -> None: ...

    def add_peer_addrs(self, peer_id: str, addrs: list[str]) -> None:
        """Remember where a peer listens, so ``send`` can dial (and redial) it."""

    async def send(self, peer_id: str, payload: bytes, timeout: float = 10.0) -> None:
        """Queue ``payload`` on the peer's stream, dialling with backoff if needed.

        Raises ``TransportError`` when the peer stays unreachable for ``timeout``,
        and at once for a peer with no known address and no connection.
        """

    async def request_hello(self, multiaddr: str, request: bytes, timeout: float = 10.0) -> tuple[str, bytes]:
        """Dial ``multiaddr`` (with its /p2p/ part) and ask; returns (peer id, answer)."""

    def connected(self, peer_id: str) -> bool: ...

    async def publish(self, topic: str, data: bytes) -> None: ...

    async def subscribe(self, topic: str, handler: MessageHandler) -> None: ...
