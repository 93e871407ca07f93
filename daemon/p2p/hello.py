"""``/tssnet/hello``: one bounded request and answer per stream, open to peers not yet admitted.

Being open to anyone, it is bounded: at most ``max_streams`` hello streams are served
at once and one per peer; a stream over either limit is reset at once instead of
waiting. Each is served within ``HELLO_SERVE_TIMEOUT_SECONDS``; the answer comes from
the asyncio hello handler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import trio
from libp2p.custom_types import TProtocol
from libp2p.peer.peerinfo import PeerInfo

from daemon.p2p.bridge import TrioBridge
from daemon.p2p.framing import encode_frame
from daemon.p2p.streams import LogLimiter, peer_of, read_one_frame, reset_quietly, write_bounded
from daemon.p2p.transport import HelloHandler, TransportError

log = logging.getLogger("tssnet.p2p")

PROTOCOL_HELLO = TProtocol("/tssnet/hello/1.0.0")
HELLO_SERVE_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_HELLO_STREAMS = 16


class Hello:
    """Trio side of the hello protocol, both asking and answering."""

    def __init__(self, libp2p, bridge: TrioBridge, handler: Callable[[], HelloHandler | None], *,
                 max_bytes: int, max_streams: int, warnings: LogLimiter) -> None:
        self._libp2p = libp2p
        self._bridge = bridge
        self._handler = handler  # read on the asyncio side when a request arrives
        self._max_bytes = max_bytes
        self._max_streams = max_streams
        self._serving: set[str] = set()  # peers with a hello stream being served
        self._warnings = warnings

    @property
    def serving(self) -> int:
        return len(self._serving)

    async def serve(self, stream) -> None:
        peer_id = peer_of(stream)
        if peer_id in self._serving or len(self._serving) >= self._max_streams:
            busy = "this peer already has one" if peer_id in self._serving else "too many at once"
            self._warnings.warning(peer_id, "hello from peer=%s refused: %s", peer_id, busy)
            await reset_quietly(stream)
            return
        self._serving.add(peer_id)
        try:
            with trio.fail_after(HELLO_SERVE_TIMEOUT_SECONDS):
                request = await read_one_frame(stream, self._max_bytes)
                answer = await self._bridge.run_in_asyncio(self._answer, peer_id, request)
                await write_bounded(stream, encode_frame(answer, self._max_bytes))
                # the peer may ask again as soon as it has the answer
                self._serving.discard(peer_id)
                await stream.close()
        except Exception as exc:
            self._serving.discard(peer_id)
            self._warnings.warning(peer_id, "hello from peer=%s refused: %s: %s", peer_id, type(exc).__name__, exc)
            await reset_quietly(stream)
        finally:
            self._serving.discard(peer_id)

    async def _answer(self, peer_id: str, request: bytes) -> bytes:
        handler = self._handler()
        if handler is None:
            raise TransportError("this node answers no hello yet")
        return await handler(peer_id, request)

    async def ask(self, info: PeerInfo, frame: bytes, timeout: float) -> tuple[str, bytes]:
        stream = None
        with trio.move_on_after(timeout):
            try:
                self._libp2p.get_network().unblock_peer(info.peer_id)
                await self._libp2p.connect(info)
                stream = await self._libp2p.new_stream(info.peer_id, [PROTOCOL_HELLO])
                await write_bounded(stream, frame)
                return info.peer_id.to_base58(), await read_one_frame(stream, self._max_bytes)
            except Exception as exc:
                raise TransportError(f"hello to peer {info.peer_id} failed: {type(exc).__name__}: {exc}") from exc
            finally:
                if stream is not None:
                    await reset_quietly(stream)
        raise TransportError(f"no hello answer from peer {info.peer_id} within {timeout} s")
