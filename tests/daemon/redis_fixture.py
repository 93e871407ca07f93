"""A real ``redis-server`` for tests, on a free loopback port, with persistence on.

    from tests.daemon.redis_fixture import redis_server, redis_instance  # noqa: F401

    def test_x(redis_server):          # URL of a server shared by the session (per xdist worker)
        ...

    def test_crash(redis_instance):    # a RedisServer of this test's own, to kill and restart
        redis_instance.kill()
        redis_instance.start()         # same port, same directory: the append-only log replays

The server runs with ``--appendonly yes --appendfsync always``, so a write it has
acknowledged is on disk (``RedisStore`` refuses a server without them), and
``--save ""`` so the log is the only persistence. A
missing binary fails the test with a message saying how to install it: CI installs
it (scripts/system_deps.sh), and a store suite that quietly skipped Redis would
prove nothing about it.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

_START_TIMEOUT_S = 20.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed; run scripts/system_deps.sh "
                        "(apt-get install redis-server)", pytrace=False)
        self.binary = binary
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
             "--appendonly", "yes", "--appendfsync", "always", "--save", "",
             "--dir", str(self.directory), "--daemonize", "no",
             "--logfile", str(self.directory / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self._wait_ready()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final fsync, exactly like a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_S
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)
        try:
            while True:
                if self.process.poll() is not None:
                    log = self.directory / "redis.log"
                    tail = log.read_text()[-2000:] if log.exists() else ""
                    pytest.fail(f"redis-server exited with {self.process.returncode}:\n{tail}",
                                pytrace=False)
                try:
                    if client.ping():
                        return
                except redis.BusyLoadingError:
                    pass  # replaying its log after a restart
                except redis.ConnectionError:
                    pass
                if time.monotonic() > deadline:
                    self.kill()
                    pytest.fail(f"redis-server on port {self.port} did not answer in time", pytrace=False)
                time.sleep(0.02)
        finally:
            client.close()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> str:
    """The URL of a redis-server shared by the session; tests keep apart by namespace."""
    server = RedisServer(tmp_path_factory.mktemp("redis-shared"))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def redis_instance(tmp_path) -> RedisServer:
    """A redis-server of the test's own (started), for tests that kill and restart it."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()
