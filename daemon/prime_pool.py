"""Safe primes kept ready for auxiliary info, generated in the background while idle.

A 1024-bit safe prime takes about half a second of CPU to find, and every keygen or
refresh needs two, so the node keeps ``target`` of them sealed in its store under
``primes/ready/<sha256 of the prime>`` and refills the pool one prime at a time in
a worker process at the lowest priority (``GENERATOR_NICENESS``), never more than one
job at once, so sessions keep the CPU whenever they want it.

Each prime is handed out once: ``take`` removes it with the store's atomic ``take``
before returning it, so neither two callers nor a restart ever see it again. A seed
file (tests, devnets) is imported into the pool once: every prime in it is recorded
under ``primes/used/<sha256>`` in the same batch that makes it ready, so a restart
never imports it again, and seed primes are handed out before generated ones. Seed
primes are known to whoever has the file, so the configuration accepts one only with
``insecure_test_primes``, and the pool says so in the log at error level.

A store that is briefly unavailable only delays generation (retried with backoff,
keeping the prime already found); a broken executor stops it for good, and takers
are told why.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

from daemon.errors import BadRequest, Unavailable
from daemon.store.aio import AsyncStore
from daemon.store.sealed import Sealer
from daemon.tasks import cancel_and_wait
from protocol import wire
from protocol.errors import EncodingError
from protocol.primes import generate_safe_prime, parse_prime_pool
from protocol.rng import SystemRng
from protocol.secrecy import NeverPickled, Redacted

log = logging.getLogger("tssnet.primes")

#: the generator process's niceness: it runs only on CPU nothing else wants
GENERATOR_NICENESS = 19

READY = "primes/ready/"
USED = "primes/used/"
MAX_PRIME_BITS = 4096
_RETRY_FIRST_S = 0.5
_RETRY_MAX_S = 30.0


@wire.message(0x0550)
@dataclass(frozen=True, slots=True, repr=False)
class PooledPrime(Redacted, NeverPickled):
    """One safe prime waiting in the pool (sealed under its ``primes/ready/`` key)."""

    prime: int = wire.field(wire.Nat(MAX_PRIME_BITS))


def prime_id(prime: int) -> str:
    """The sha256 hex of the prime's big-endian bytes: its name in the store."""
    return hashlib.sha256(int(prime).to_bytes((int(prime).bit_length() + 7) // 8, "big")).hexdigest()


def generate_one(bits: int) -> int:
    """One fresh safe prime; runs in a worker process, so it takes its own system RNG."""
    return int(generate_safe_prime(bits, SystemRng()))


def read_seed_file(path: Path, bits: int) -> list[int]:
    """The primes of a seed file, each checked to be a safe prime of ``bits`` bits.

    Runs in the executor: checking a few dozen safe primes is seconds of CPU.
    """
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadRequest(f"cannot read the prime pool file {path}: {exc}") from None
    try:
        # Checks every line: hex, exactly ``bits`` bits, no duplicate, a safe prime.
        return parse_prime_pool(text, bits)
    except EncodingError as exc:
        raise BadRequest(f"prime pool file {path}: {exc}") from None


class PrimePool:
    def __init__(self, store: AsyncStore, sealer: Sealer, *, bits: int, target: int,
                 seed_file: Path | None, executor: Executor) -> None:
        if target < 0:
            raise ValueError("the prime pool's target cannot be negative")
        self._store = store
        self._sealer = sealer
        self._bits = bits
        self._target = target
        self._seed_file = seed_file
        self._executor = executor
        self._ready: dict[str, bool] = {}    # prime id -> came from the seed file
        self._wanted = 0                     # primes waiting takers still lack
        self._changed = asyncio.Condition()  # a prime arrived, or the pool failed or stopped
        self._need = asyncio.Event()         # the generator should look again
        self._failure: str | None = None
        self._refill: asyncio.Task | None = None
        self._unsaved: int | None = None     # generated, not yet in the store

    async def start(self) -> None:
        seeds: list[int] = []
        if self._seed_file is not None:
            log.error("test primes in use: never hold real funds on this node (prime pool file %s)",
                      self._seed_file)
            seeds = await asyncio.get_running_loop().run_in_executor(
                self._executor, read_seed_file, self._seed_file, self._bits)
        if seeds:
            await self._import_seeds(seeds)
        stored = {key[len(READY):]: blob for key, blob in await self._store.scan(READY)}
        # Seed primes first, in file order, then generated ones.
        seed_ids = [ident for ident in map(prime_id, seeds) if ident in stored]
        for ident in seed_ids + sorted(stored.keys() - set(seed_ids)):
            # Opening each one now stops a node with a wrong master key or a damaged store here.
            size = self._open(ident, stored[ident]).bit_length()
            if size == self._bits:
                self._ready[ident] = ident in seed_ids
            else:
                log.warning("pooled safe prime %s has %d bits, not %d; left unused", ident, size, self._bits)
        log.info("safe primes: %d of %d bits ready", len(self._ready), self._bits)
        missing = self._target - len(self._ready)
        if missing > 0:
            log.info("generating %d safe primes in the background (a fresh node does this once)", missing)
        self._refill = asyncio.create_task(self._generate_forever(), name="prime-pool-refill")

    def ready(self) -> int:
        return len(self._ready)

    async def take(self, count: int, timeout: float) -> list[int]:
        """``count`` distinct safe primes, each never handed out before or again.

        Waits up to ``timeout`` seconds for the generator when the pool is short, then
        raises ``Unavailable``; primes taken meanwhile go back into the pool.
        """
        if count < 0:
            raise ValueError("cannot take a negative number of primes")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        taken: list[tuple[int, bool]] = []
        try:
            while len(taken) < count:
                ident = self._next_ready()
                if ident is None:
                    await self._wait(count - len(taken), deadline - loop.time(), count)
                    continue
                from_seed = self._ready.pop(ident)
                blob = await self._store.take(READY + ident)
                if blob is not None:  # None: another pool over the same store took it
                    taken.append((self._open(ident, blob), from_seed))
        except BaseException:
            await self._give_back(taken)
            raise
        finally:
            self._need.set()
        return [prime for prime, _ in taken]

    async def stop(self) -> None:
        """Stop generating (a job already running in the executor is left to finish)."""
        if self._failure is None:
            self._failure = "the prime pool is stopped"
        await cancel_and_wait([self._refill])
        self._refill = None
        async with self._changed:
            self._changed.notify_all()

    async def _wait(self, missing: int, remaining: float, count: int) -> None:
        if self._failure is not None:
            raise Unavailable(f"no safe primes ready: {self._failure}")
        if remaining <= 0:
            raise Unavailable(f"no safe primes ready: needed {count}, still {missing} short; "
                              "the node is generating more in the background, try again shortly")
        self._wanted += missing
        self._need.set()
        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(self._can_go_on), remaining)
        except TimeoutError:
            pass   # the next pass through take reports it
        finally:
            self._wanted -= missing

    def _can_go_on(self) -> bool:
        return bool(self._ready) or self._failure is not None

    def _next_ready(self) -> str | None:
        """Seed primes first (in file order), then generated ones."""
        for ident, from_seed in self._ready.items():
            if from_seed:
                return ident
        return next(iter(self._ready), None)

    async def _generate_forever(self) -> None:
        delay = _RETRY_FIRST_S
        while True:
            if len(self._ready) >= max(self._target, self._wanted):
                self._need.clear()
                await self._need.wait()
                continue
            try:
                await self._generate_one()
                delay = _RETRY_FIRST_S
            except Unavailable as exc:
                # The store comes back (a restarting Redis, a locked file): try again later.
                log.warning("safe prime not stored, retrying in %.1f s: %s", delay, exc.message)
                await asyncio.sleep(delay)
                delay = min(2 * delay, _RETRY_MAX_S)
            except Exception as exc:
                # A broken executor does not heal by retrying (nor does a bug): say why, and stop.
                self._failure = f"generating safe primes failed: {type(exc).__name__}: {exc}"
                log.error("safe prime generation stopped: %s", self._failure)
                async with self._changed:
                    self._changed.notify_all()
                return

    async def _generate_one(self) -> None:
        started = time.monotonic()
        if self._unsaved is None:
            loop = asyncio.get_running_loop()
            self._unsaved = await loop.run_in_executor(self._executor, generate_one, self._bits)
        prime = self._unsaved
        ident = prime_id(prime)
        await self._store.write({READY + ident: self._seal(ident, prime)})
        self._unsaved = None
        self._ready[ident] = False
        log.debug("safe prime ready after %.2f s (%d ready)", time.monotonic() - started, len(self._ready))
        async with self._changed:
            self._changed.notify_all()

    async def _import_seeds(self, seeds: list[int]) -> None:
        used = {key[len(USED):] for key, _ in await self._store.scan(USED)}
        fresh = [(prime_id(p), p) for p in seeds if prime_id(p) not in used]
        if fresh:
            puts = {READY + ident: self._seal(ident, p) for ident, p in fresh}
            puts.update({USED + ident: b"" for ident, _ in fresh})
            await self._store.write(puts)
        log.info("prime pool file %s: %d primes, %d new", self._seed_file, len(seeds), len(fresh))

    async def _give_back(self, taken: list[tuple[int, bool]]) -> None:
        """Return primes a failed ``take`` held (never handed out, so still unused)."""
        if not taken:
            return
        returned = {prime_id(prime): (prime, from_seed) for prime, from_seed in taken}
        await self._store.write({READY + ident: self._seal(ident, prime)
                                 for ident, (prime, _) in returned.items()})
        self._ready.update({ident: from_seed for ident, (_, from_seed) in returned.items()})
        async with self._changed:
            self._changed.notify_all()

    def _seal(self, ident: str, prime: int) -> bytes:
        return self._sealer.seal(READY + ident, wire.encode(PooledPrime(prime)))

    def _open(self, ident: str, blob: bytes) -> int:
        """The prime sealed under ``ident``; a record that does not open raises ``SealedRecordError``."""
        plaintext = self._sealer.open(READY + ident, blob)
        try:
            prime = int(wire.decode(plaintext, PooledPrime).prime)
        except EncodingError:
            raise Unavailable(f"the pooled prime {ident} does not decode; the store is damaged") from None
        if prime_id(prime) != ident:
            raise Unavailable(f"the pooled prime {ident} holds another prime; the store is damaged")
        return prime

    def __repr__(self) -> str:
        return f"PrimePool(bits={self._bits}, ready={len(self._ready)}, target={self._target})"
