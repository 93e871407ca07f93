"""Helpers for API tests: an in-loop test client, and a live server on a free port.

``run_with_client(test)`` runs ``await test(client, fake)`` under ``asyncio.run`` with a
fresh app over a ``FakeService``. ``LiveServer`` runs the same app in a background
thread on 127.0.0.1 (port 0), for the SDK, the CLI and schemathesis, which speak real HTTP.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from daemon.api import ApiMetrics, create_app
from tests.daemon.api.fake_service import FakeService

API_KEY = "test-key-0123456789"
AUTH = {"X-API-Key": API_KEY}
MAX_BODY = 256 * 1024


def make_app(fake: FakeService, **kwargs) -> web.Application:
    options = {"api_keys": (API_KEY,), "max_body_bytes": MAX_BODY, **kwargs}
    return create_app(fake, **options)


def run_with_client(test: Callable[[TestClient, FakeService], Awaitable[None]],
                    fake: FakeService | None = None, **app_options) -> None:
    fake = fake or FakeService()

    async def main() -> None:
        async with TestClient(TestServer(make_app(fake, **app_options))) as client:
            await test(client, fake)

    asyncio.run(main())


class LiveServer:
    """``with LiveServer() as server: server.url``; the app runs on its own loop and thread."""

    def __init__(self, fake: FakeService | None = None, metrics: ApiMetrics | None = None) -> None:
        self.fake = fake or FakeService()
        self.metrics = metrics
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def __enter__(self) -> LiveServer:
        self._thread.start()
        self.call(self._start())
        return self

    async def _start(self) -> None:
        await self._serve(make_app(self.fake, metrics=self.metrics))

    async def _serve(self, app: web.Application) -> None:
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def _stop(self) -> None:
        await self._runner.cleanup()

    def call(self, coro):
        """Runs ``coro`` on the server's loop and returns its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=60)

    def __exit__(self, *exc_info) -> None:
        self.call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
