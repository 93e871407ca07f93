"""``tssnet devnet`` as a user runs it: ready banner, working nodes, clean stop on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from daemon.client import ApiError, Client
from tests.daemon.e2e.cluster import free_base_port

pytestmark = pytest.mark.slow


def _read_until(process: subprocess.Popen, marker: str, timeout: float) -> str:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if marker in line:
            # the banner's remaining lines follow at once
            for _ in range(6):
                seen.append(process.stdout.readline())
            return "".join(seen)
    raise AssertionError(f"no {marker!r} in devnet output:\n{''.join(seen)}")


def test_devnet_starts_wired_nodes_and_stops_them_on_sigterm(tmp_path):
    base = free_base_port(2)
    process = subprocess.Popen(
        [sys.executable, "-m", "daemon.cli", "devnet", "--nodes", "2", "--base-port", str(base),
         "--data-dir", str(tmp_path), "--quiet", "--api-key", "devnet-test-key-0123"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        banner = _read_until(process, "devnet ready", timeout=90)
        assert "API key: devnet-test-key-0123" in banner
        urls = re.findall(r"http://127\.0\.0\.1:(\d+)", banner)
        assert {int(u) for u in urls} >= {base + 1, base + 2}
        validators = Client(f"http://127.0.0.1:{base + 2}", "devnet-test-key-0123").validators()
        assert len(validators) == 2
        for i in (1, 2):   # each node has its own store and log
            assert (tmp_path / f"node-{i}" / "node.db").exists()
            assert (tmp_path / f"node-{i}" / "node.log").stat().st_size > 0
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        with pytest.raises(ApiError) as stopped:
            Client(f"http://127.0.0.1:{base + 1}", "devnet-test-key-0123", timeout=2).health()
        assert stopped.value.type == "unreachable"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
