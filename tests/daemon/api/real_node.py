"""The real ``LocalNodeService`` behind the HTTP API, for tests that must not trust the fake.

``RealNode`` starts a ``tests.daemon.sessions.harness.Cluster`` (in-process nodes with
real stores, sealers and session engines over a fake network) on a background loop
and serves ``create_app`` over one node's service on 127.0.0.1 (port 0), so the SDK,
schemathesis or plain HTTP reach it as they would a daemon. ``stores()`` reads every
node's whole store, so a test can check that a refused request changed nothing.
"""

from __future__ import annotations

import contextlib

from daemon.api import create_app
from daemon.errors import NodeError
from daemon.service import KeygenRequest
from tests.daemon.api.support import API_KEY, MAX_BODY, LiveServer
from tests.daemon.sessions.harness import Cluster


class RealNode(LiveServer):
    def __init__(self, n: int = 3, *, serve: int = 0, keys: tuple[KeygenRequest, ...] = ()) -> None:
        """``serve``: the node whose API is served; ``keys``: keygens run before serving."""
        super().__init__()
        self.cluster = Cluster(n)
        self._serve_index = serve
        self._keys = keys

    @property
    def service(self):
        return self.cluster.services[self._serve_index]

    async def _start(self) -> None:
        await self.cluster.__aenter__()
        for request in self._keys:
            session_id = await self.service.start_keygen(request)
            view = await self.service.wait_session(session_id, 60)
            assert view.state == "done", view
        await self._serve(create_app(self.service, api_keys=(API_KEY,), max_body_bytes=MAX_BODY,
                                     keygen_timeout=30.0))

    async def _stop(self) -> None:
        await super()._stop()
        await self.cluster.__aexit__(None, None, None)

    def settle(self, session_id: str) -> None:
        """Waits until every node is done with ``session_id`` (a keygen POST /start left running)."""
        async def wait():
            for service in self.cluster.services:
                with contextlib.suppress(NodeError):   # a node that never took part has nothing to finish
                    await service.wait_session(session_id, 60)
        self.call(wait())

    def stores(self) -> list[dict[str, bytes]]:
        """Every node's store, key by key (sealed values as stored)."""
        async def dump():
            return [await node.dump() for node in self.cluster.nodes]
        return self.call(dump())
