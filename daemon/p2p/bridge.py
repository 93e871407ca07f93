"""The trio thread that py-libp2p runs in, and the calls that cross between it and asyncio.

py-libp2p is trio-only while the daemon runs on asyncio, so libp2p gets one thread
running ``trio.run``. Calls go asyncio -> trio through the trio token
(``run_sync_soon`` starts a task in the bridge's nursery; the result comes back with
``call_soon_threadsafe``); events go trio -> asyncio through ``call_soon_threadsafe``
and ``run_coroutine_threadsafe``. Neither loop ever blocks on the other.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from daemon.p2p.transport import TransportError

log = logging.getLogger("tssnet.p2p")

#: How long ``stop`` lets the service wind down before cancelling it outright.
STOP_GRACE_SECONDS = 1.5
#: how long ``stop`` waits for trio's own teardown once the service has ended
JOIN_POLL_SECONDS = 0.005
JOIN_POLLS = 200


class TrioBridge:
    """Runs one trio service in a thread; ``call`` runs trio coroutines from asyncio."""

    def __init__(self, name: str = "tssnet-p2p") -> None:
        self._name = name
        self._thread: threading.Thread | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._nursery: trio.Nursery | None = None
        self._stopping: trio.Event | None = None
        self._finished: asyncio.Future | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task] = set()

    # -- lifecycle (asyncio side) ------------------------------------------------------

    async def start(self, service: Callable[..., Awaitable[None]]) -> Any:
        """Start the thread and ``service(stopping, task_status=...)`` in it.

        The service calls ``task_status.started(value)`` once it is ready; ``start``
        returns that value, or raises what the service failed with. ``stopping`` is a
        trio.Event set by ``stop``; the service should then wind down and return.
        """
        self.loop = asyncio.get_running_loop()
        ready: asyncio.Future = self.loop.create_future()
        self._finished = self.loop.create_future()
        self._thread = threading.Thread(target=trio.run, args=(self._main, service, ready),
                                        name=self._name, daemon=True)
        self._thread.start()
        try:
            return await ready
        except BaseException:
            await self.stop()
            raise

    async def _main(self, service: Callable[..., Awaitable[None]], ready: asyncio.Future) -> None:
        self._token = trio.lowlevel.current_trio_token()
        self._stopping = trio.Event()
        started = False
        try:
            async with trio.open_nursery() as calls:
                self._nursery = calls
                async with trio.open_nursery() as service_nursery:
                    try:
                        value = await service_nursery.start(service, self._stopping)
                    except Exception as exc:
                        self.to_asyncio(_settle, ready, None, exc)
                        raise
                    started = True
                    self.to_asyncio(_settle, ready, value, None)
                    await self._stopping.wait()
                    service_nursery.cancel_scope.deadline = trio.current_time() + STOP_GRACE_SECONDS
                calls.cancel_scope.cancel()  # calls still running can only fail now
        except Exception as exc:
            if started:
                log.error("p2p thread ended with an error: %r", exc, exc_info=exc)
        finally:
            self.to_asyncio(_settle, self._finished, None, None)

    async def stop(self) -> None:
        """Ask the service to stop, cancel what is left after a grace period, join the thread."""
        for task in list(self._tasks):
            task.cancel()
        if self._thread is None:
            return
        if self._stopping is not None:
            self.to_trio(self._stopping.set)
        assert self._finished is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._finished), STOP_GRACE_SECONDS + 2)
        except TimeoutError:
            log.error("p2p thread did not stop in time")
        # trio.run only has its own teardown left once _main has returned; wait for it
        # without blocking asyncio, so a thread that does not end cannot stall the loop
        thread, self._thread = self._thread, None
        for _ in range(JOIN_POLLS):
            if not thread.is_alive():
                return
            await asyncio.sleep(JOIN_POLL_SECONDS)
        log.error("p2p thread still running after stop; left behind as a daemon thread")

    # -- asyncio -> trio ---------------------------------------------------------------

    def to_trio(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Schedule ``fn(*args)`` in the trio thread; False once it has stopped."""
        if self._token is None:
            return False
        try:
            self._token.run_sync_soon(fn, *args)
        except trio.RunFinishedError:
            return False
        return True

    async def call(self, async_fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """Run ``async_fn(*args)`` in the trio thread and wait for its result.

        Cancelling the caller cancels the trio task. Raises TransportError when the
        thread is not running.
        """
        loop = asyncio.get_running_loop()
        result: asyncio.Future = loop.create_future()
        scope = trio.CancelScope()
        if self._nursery is None or not self.to_trio(self._spawn_call, result, scope, async_fn, args):
            raise TransportError("the p2p host is not running")
        try:
            return await result
        except asyncio.CancelledError:
            self.to_trio(scope.cancel)
            raise

    def _spawn_call(self, result: asyncio.Future, scope: trio.CancelScope,
                    async_fn: Callable[..., Awaitable[Any]], args: tuple) -> None:
        assert self._nursery is not None
        try:
            self._nursery.start_soon(self._run_call, result, scope, async_fn, args)
        except RuntimeError:
            self.to_asyncio(_settle, result, None, TransportError("the p2p host is stopping"))

    async def _run_call(self, result: asyncio.Future, scope: trio.CancelScope,
                        async_fn: Callable[..., Awaitable[Any]], args: tuple) -> None:
        try:
            with scope:
                value = await async_fn(*args)
        except Exception as exc:
            self.to_asyncio(_settle, result, None, exc)
            return
        except BaseException:
            self.to_asyncio(_settle, result, None, TransportError("the p2p host is stopping"))
            raise
        if scope.cancelled_caught:
            self.to_asyncio(_cancel, result)
        else:
            self.to_asyncio(_settle, result, value, None)

    # -- trio -> asyncio ---------------------------------------------------------------

    def to_asyncio(self, fn: Callable[..., Any], *args: Any) -> None:
        """Schedule ``fn(*args)`` on the asyncio loop (from any thread); dropped once it is closed."""
        assert self.loop is not None
        try:
            self.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            log.debug("asyncio loop closed; event dropped")

    async def run_in_asyncio(self, coro_fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """From trio: run ``coro_fn(*args)`` on the asyncio loop and wait for its result."""
        assert self.loop is not None
        token = trio.lowlevel.current_trio_token()
        done = trio.Event()

        def wake(_future: Any) -> None:
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(done.set)

        future = asyncio.run_coroutine_threadsafe(coro_fn(*args), self.loop)
        future.add_done_callback(wake)
        try:
            await done.wait()
        finally:
            if not future.done():
                future.cancel()
        return future.result()

    def create_task(self, coro: Awaitable[Any]) -> asyncio.Task:
        """An asyncio task the bridge cancels on ``stop`` (call on the asyncio loop)."""
        assert self.loop is not None
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


class OrderedInbox:
    """Hands items from trio to an asyncio handler, one at a time and in order.

    ``put`` (trio side) waits while ``depth`` items are unhandled, or while the sizes
    given with them add up past ``budget_bytes`` (one item always fits), so a slow
    handler holds back its own stream and no other, and what waits stays bounded.
    """

    def __init__(self, bridge: TrioBridge, handler: Callable[..., Awaitable[None]], depth: int = 16,
                 budget_bytes: int | None = None) -> None:
        self._bridge = bridge
        self._handler = handler
        self._depth = depth
        self._budget = budget_bytes
        self._count = 0
        self.queued_bytes = 0  # trio side: sizes of the items not yet handled
        self._room = trio.lowlevel.ParkingLot()
        self._in_order = trio.Lock()  # waiting puts go through first come, first served
        self._token = trio.lowlevel.current_trio_token()
        self._pending: collections.deque[tuple] = collections.deque()
        self._drainer: asyncio.Task | None = None

    def _full(self, size: int) -> bool:
        if self._count >= self._depth:
            return True
        return self._budget is not None and self._count > 0 and self.queued_bytes + size > self._budget

    async def put(self, *item: Any, size: int = 0) -> None:
        async with self._in_order:
            while self._full(size):
                await self._room.park()
            self._count += 1
            self.queued_bytes += size
        self._bridge.to_asyncio(self._accept, item, size)

    def _release(self, size: int) -> None:
        self._count -= 1
        self.queued_bytes -= size
        self._room.unpark_all()

    def _accept(self, item: tuple, size: int) -> None:
        self._pending.append((item, size))
        if self._drainer is None or self._drainer.done():
            self._drainer = self._bridge.create_task(self._drain())

    async def _drain(self) -> None:
        while self._pending:
            item, size = self._pending.popleft()
            try:
                await self._handler(*item)
            except Exception:
                log.exception("p2p handler failed")
            finally:
                with contextlib.suppress(trio.RunFinishedError):
                    self._token.run_sync_soon(self._release, size)


def _settle(future: asyncio.Future, value: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(value)
    else:
        future.set_exception(error)


def _cancel(future: asyncio.Future) -> None:
    if not future.done():
        future.cancel()
