"""Randomness passed into every protocol, never taken from a global.

An RNG is any object with ``random_bytes(n) -> bytes``. Production code uses
``SystemRng`` (the OS CSPRNG); tests use ``SeededRng`` so that a failing run can be
replayed byte for byte. Every helper here samples without bias: values are drawn
by rejection, never reduced with a plain modulo.
"""

from __future__ import annotations

import hashlib
import os
from typing import Protocol

import gmpy2
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from protocol.errors import UsageError


class Rng(Protocol):
    def random_bytes(self, n: int) -> bytes: ...


class SystemRng:
    """The operating system's CSPRNG."""

    def random_bytes(self, n: int) -> bytes:
        return os.urandom(n)

    def __repr__(self) -> str:
        return "SystemRng()"


class SeededRng:
    """Deterministic ChaCha20 stream keyed by a seed; for tests and reproducible runs only."""

    def __init__(self, seed: bytes | int | str) -> None:
        if isinstance(seed, int):
            seed = seed.to_bytes(32, "big", signed=False) if seed >= 0 else str(seed).encode()
        elif isinstance(seed, str):
            seed = seed.encode()
        key = hashlib.sha256(b"tssnet/seeded-rng/v1" + seed).digest()
        self._stream = Cipher(algorithms.ChaCha20(key, b"\x00" * 16), mode=None).encryptor()

    def random_bytes(self, n: int) -> bytes:
        return self._stream.update(b"\x00" * n)

    def __repr__(self) -> str:
        return "SeededRng(<redacted>)"


def randbits(rng: Rng, bits: int) -> gmpy2.mpz:
    """A uniform integer in [0, 2^bits)."""
    if bits < 0:
        raise UsageError("bits must be non-negative")
    if bits == 0:
        return gmpy2.mpz(0)
    nbytes = (bits + 7) // 8
    value = gmpy2.mpz(int.from_bytes(rng.random_bytes(nbytes), "big"))
    excess = nbytes * 8 - bits
    return value >> excess if excess else value


def randbelow(rng: Rng, bound: int) -> gmpy2.mpz:
    """A uniform integer in [0, bound), by rejection sampling."""
    if bound <= 0:
        raise UsageError("bound must be positive")
    bits = gmpy2.mpz(bound - 1).bit_length()
    while True:
        candidate = randbits(rng, bits)
        if candidate < bound:
            return candidate


def rand_interval(rng: Rng, bits: int) -> gmpy2.mpz:
    """A uniform integer in the symmetric range [-2^bits, 2^bits] (CGGMP21's ±2^ℓ)."""
    span = (gmpy2.mpz(1) << (bits + 1)) + 1
    return randbelow(rng, span) - (gmpy2.mpz(1) << bits)


def rand_unit(rng: Rng, modulus: int) -> gmpy2.mpz:
    """A uniform element of the multiplicative group Z_N^*."""
    while True:
        candidate = randbelow(rng, modulus)
        if candidate != 0 and gmpy2.gcd(candidate, modulus) == 1:
            return candidate
