"""One replica of ``bench_ledger.py --processes``: a LedgerNode over a real P2PHost.

``replica_main`` runs in a spawned process. It listens on a free loopback port,
tells the parent where, and obeys the parent's commands over one Pipe, one at a
time: ``("peers", {peer_id: addrs})`` once, then ``("submit", txs, outstanding,
wait_s, stop_at)``, ``("status",)`` and finally ``("stop",)``. Every answer is a
``(kind, value)`` tuple; a failure is answered ``("error", text)`` and ends the
process. The pipe closing (the parent gone) ends it too. The parent starts it with
SIGINT ignored: Ctrl-C is the parent's to handle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from multiprocessing.connection import Connection

from daemon.errors import NodeError
from daemon.identity import NodeIdentity
from daemon.ledger_genesis import LedgerGenesis
from daemon.ledger_node import LedgerNode
from daemon.p2p.host import P2PHost
from daemon.router import Router
from daemon.store.sqlite import SqliteStore

#: how many refusal messages a replica sends back (the count is always exact)
MAX_REPORTED_ERRORS = 5


def replica_main(conn: Connection, index: int, seed: bytes, genesis: dict, db_path: str) -> None:
    logging.basicConfig(level=logging.WARNING,
                        format=f"replica {index}: %(levelname)s %(name)s %(message)s")
    try:
        asyncio.run(_serve(conn, NodeIdentity.from_seed(seed), LedgerGenesis.from_json(genesis),
                           db_path))
    except BrokenPipeError:
        pass  # the parent went away: nobody to answer
    except BaseException as exc:
        with contextlib.suppress(OSError):
            conn.send(("error", f"replica {index}: {type(exc).__name__}: {exc}"))
        raise


class _Commands:
    """The parent's commands, read on a thread of their own so that ``stop`` (or the pipe
    closing, which means the same) also interrupts a load in progress."""

    def __init__(self, conn: Connection) -> None:
        self.queue: asyncio.Queue[tuple] = asyncio.Queue()
        self.stopping = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        # a daemon thread: a recv still blocked when we exit must not keep the process alive
        threading.Thread(target=self._read, args=(conn,), name="bench-commands", daemon=True).start()

    def _read(self, conn: Connection) -> None:
        command: tuple = ()
        while command[:1] != ("stop",):
            try:
                command = conn.recv()
            except (EOFError, OSError):
                command = ("stop",)
            with contextlib.suppress(RuntimeError):  # the loop is closed: we are exiting anyway
                self._loop.call_soon_threadsafe(self._put, command)

    def _put(self, command: tuple) -> None:
        if command[0] == "stop":
            self.stopping.set()
        self.queue.put_nowait(command)

    async def until_stop(self, work) -> tuple[bool, object]:
        """(True, result) when ``work`` finished, (False, None) when told to stop first."""
        task = asyncio.ensure_future(work)
        stop = asyncio.ensure_future(self.stopping.wait())
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if task.done():
            return True, task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False, None


async def _serve(conn: Connection, identity: NodeIdentity, genesis: LedgerGenesis,
                 db_path: str) -> None:
    commands = _Commands(conn)
    validators = frozenset(v.peer_id for v in genesis.validators)
    transport = P2PHost(identity, "127.0.0.1", 0)
    router = Router()
    transport.set_message_handler(router.dispatch)
    transport.set_admission(lambda peer: peer in validators)
    node = LedgerNode(genesis=genesis, identity=identity, kv=SqliteStore(db_path, "ledger"),
                      transport=transport, router=router)
    try:
        await transport.start()
        conn.send(("listening", transport.listen_addrs))
        kind, *args = await commands.queue.get()
        if kind == "stop":
            return
        if kind != "peers":
            raise RuntimeError(f"expected the peers' addresses, got {kind!r}")
        for peer, addrs in args[0].items():
            if peer != identity.peer_id:
                transport.add_peer_addrs(peer, addrs)
        await node.start()
        conn.send(("ready", identity.peer_id))
        while (command := await commands.queue.get())[0] != "stop":
            if command[0] == "submit":
                finished, result = await commands.until_stop(_load(node, *command[1:]))
                if not finished:
                    return
                conn.send(("submitted", result))
            elif command[0] == "status":
                conn.send(("status", {**node.status().to_json(), **node.stats, "cpu_s": cpu_by_role()}))
            else:
                raise RuntimeError(f"unknown command {command[0]!r}")
    finally:
        await node.stop()
        await transport.stop()


def cpu_by_role() -> dict[str, float]:
    """CPU seconds this process spent so far, by thread: the ledger worker (consensus,
    signatures, SQLite), the libp2p trio thread, the asyncio loop, and the rest."""
    roles = {"ledger": 0.0, "p2p": 0.0, "loop": 0.0, "other": 0.0}
    ticks = os.sysconf("SC_CLK_TCK")
    for thread in threading.enumerate():
        try:
            with open(f"/proc/self/task/{thread.native_id}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile, or no /proc here
        seconds = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        role = ("ledger" if thread.name.startswith("tssnet-ledger") else
                "p2p" if thread.name.startswith("tssnet-p2p") else
                "loop" if thread is threading.main_thread() else "other")
        roles[role] += seconds
    return roles


async def _load(node: LedgerNode, txs: list[bytes], outstanding: int, wait_s: float,
                stop_at: float | None) -> dict:
    """Submit ``txs`` here with ``outstanding`` clients, each waiting for its transaction's
    block before it sends the next; stops taking new ones at ``stop_at`` (monotonic)."""
    latencies_ms: list[float] = []
    errors: list[str] = []
    counts = {"timed_out": 0, "refused": 0}
    first = time.monotonic()
    last = first
    queue = iter(txs)  # shared: each client takes the next transaction

    async def client() -> None:
        nonlocal last
        for tx in queue:
            start = time.monotonic()
            if stop_at is not None and start >= stop_at:
                return
            try:
                receipt = await node.submit(tx, wait=wait_s)
            except NodeError as exc:
                counts["refused"] += 1
                if len(errors) < MAX_REPORTED_ERRORS:
                    errors.append(str(exc))
                continue
            if receipt.height is None:
                counts["timed_out"] += 1
                continue
            end = time.monotonic()
            last = max(last, end)
            latencies_ms.append((end - start) * 1000)

    await asyncio.gather(*(client() for _ in range(outstanding)))
    return {"latencies_ms": latencies_ms, "first": first, "last": last, "errors": errors,
            **counts}
