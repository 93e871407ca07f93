"""Frames for a session this node has not heard of yet, kept briefly and within bounds.

A participant can send its first frames before the coordinator's proposal reaches
this node. They wait here until the proposal comes (and are handed to the new
session) or for ``ttl`` seconds; each peer may park at most ``max_frames`` frames
and ``max_bytes`` bytes, and all peers together ``max_total_bytes``, so neither one
peer nor all of them at once can fill memory with frames for sessions that will
never exist.
"""

from __future__ import annotations

import time
from collections import defaultdict


class EarlyFrames:
    def __init__(self, *, ttl: float = 10.0, max_frames: int = 256, max_bytes: int = 32 << 20,
                 max_total_bytes: int = 128 << 20, clock=time.monotonic) -> None:
        self.ttl, self.max_frames, self.max_bytes = ttl, max_frames, max_bytes
        self.max_total_bytes = max_total_bytes
        self._total = 0
        self._clock = clock
        self._frames: dict[str, list[tuple[float, str, int, bytes]]] = defaultdict(list)
        self._load: dict[str, list[int]] = defaultdict(lambda: [0, 0])   # peer -> [frames, bytes]

    def keep(self, session_id: str, peer: str, phase: int, body: bytes) -> bool:
        self.expire()
        load = self._load[peer]
        if (load[0] + 1 > self.max_frames or load[1] + len(body) > self.max_bytes
                or self._total + len(body) > self.max_total_bytes):
            if not load[0]:
                del self._load[peer]
            return False
        load[0] += 1
        load[1] += len(body)
        self._total += len(body)
        self._frames[session_id].append((self._clock(), peer, phase, body))
        return True

    def take(self, session_id: str) -> list[tuple[str, int, bytes]]:
        kept = self._frames.pop(session_id, [])
        self._release(kept)
        return [(peer, phase, body) for _, peer, phase, body in kept]

    def expire(self) -> None:
        limit = self._clock() - self.ttl
        for session_id in list(self._frames):
            kept = self._frames[session_id]
            old = [f for f in kept if f[0] < limit]
            if old:
                self._release(old)
                kept[:] = [f for f in kept if f[0] >= limit]
                if not kept:
                    del self._frames[session_id]

    def _release(self, frames) -> None:
        for _, peer, _, body in frames:
            load = self._load[peer]
            load[0] -= 1
            load[1] -= len(body)
            self._total -= len(body)
            if load[0] == 0:
                del self._load[peer]

    def __len__(self) -> int:
        return sum(len(v) for v in self._frames.values())
