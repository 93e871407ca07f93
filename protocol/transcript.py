"""The one way tssnet hashes for Fiat–Shamir challenges and commitments.

Every item is written as ``tag || length || bytes`` with a label in front, lists
carry their element count, integers have exactly one encoding (sign byte plus
minimal big-endian magnitude), and the first item is a domain. So two different
sequences of appends can never produce the same byte stream: ``[a, b]`` differs
from ``[a || b]``, ``0x00ff`` from ``0xff``, a nested list from a flat one. The
2023 TSSHOCK attacks exploited exactly such ambiguities in other libraries.

The sponge is SHAKE256. Challenges are squeezed from a copy of the state under
their own label and counter and then absorbed back (a ratchet), so each one is
independent of every other, including each repetition of a repeated proof.
Integers in a range are drawn by rejection sampling, never by a plain modulo.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from itertools import count

import gmpy2

from protocol.errors import UsageError
from protocol.group import Point, Scalar
from protocol.params import SecurityLevel

_TAG_LABEL = b"\x00"
_TAG_BYTES = b"\x01"
_TAG_INT = b"\x02"
_TAG_STR = b"\x03"
_TAG_SCALAR = b"\x04"
_TAG_POINT = b"\x05"
_TAG_LIST = b"\x06"
_TAG_SQUEEZE = b"\x07"

_MPZ = type(gmpy2.mpz(0))


def _length(n: int) -> bytes:
    return n.to_bytes(8, "big")


def _framed(tag: bytes, data: bytes) -> bytes:
    return tag + _length(len(data)) + data


def encode_int(value: int) -> bytes:
    """Sign byte then minimal big-endian magnitude; zero is a lone sign byte."""
    value = int(value)
    magnitude = abs(value)
    body = magnitude.to_bytes((magnitude.bit_length() + 7) // 8, "big")
    return (b"\x01" if value < 0 else b"\x00") + body


def encode_value(value) -> bytes:
    """The canonical, self-delimiting encoding of one transcript value."""
    if isinstance(value, bool) or value is None:
        raise UsageError(f"transcript values cannot be {type(value).__name__}")
    if isinstance(value, bytes | bytearray | memoryview):
        return _framed(_TAG_BYTES, bytes(value))
    if isinstance(value, int | _MPZ):
        return _framed(_TAG_INT, encode_int(value))
    if isinstance(value, str):
        return _framed(_TAG_STR, value.encode())
    if isinstance(value, Scalar):
        return _framed(_TAG_SCALAR, value.group.name.encode() + b":" + value.encode())
    if isinstance(value, Point):
        return _framed(_TAG_POINT, value.group.name.encode() + b":" + value.encode())
    if isinstance(value, list | tuple):
        return _TAG_LIST + _length(len(value)) + b"".join(encode_value(v) for v in value)
    raise UsageError(f"transcript cannot encode {type(value).__name__}")


class Transcript:
    """A Fiat–Shamir transcript: append labelled values, then squeeze challenges."""

    __slots__ = ("_state",)

    def __init__(self, domain: str, *, _state=None) -> None:
        if _state is not None:
            self._state = _state
            return
        self._state = hashlib.shake_256(b"tssnet/transcript/v1")
        self.append("domain", domain)

    @classmethod
    def for_session(
        cls, domain: str, session_id: bytes, parties: Sequence[int], level: SecurityLevel
    ) -> Transcript:
        """A transcript bound to one protocol execution: session, party set and security level."""
        t = cls(domain)
        t.append("session", session_id)
        t.append("parties", list(parties))
        t.append("security-level", list(level.transcript_items()))
        return t

    def append(self, label: str, value) -> None:
        self._state.update(_framed(_TAG_LABEL, label.encode()) + encode_value(value))

    def append_all(self, items: Iterable[tuple[str, object]]) -> None:
        for label, value in items:
            self.append(label, value)

    def copy(self) -> Transcript:
        return Transcript("", _state=self._state.copy())

    def fork(self, label: str, value) -> Transcript:
        """An independent copy bound to ``value`` (one fork per prover, per proof)."""
        child = self.copy()
        child.append(f"fork:{label}", value)
        return child

    # -- challenges -------------------------------------------------------

    def _squeeze(self, label: str, attempt: int, nbytes: int) -> bytes:
        state = self._state.copy()
        state.update(_TAG_SQUEEZE + encode_value(label) + encode_value(attempt))
        return state.digest(nbytes)

    def _ratchet(self, label: str, output: bytes) -> None:
        self._state.update(_TAG_SQUEEZE + encode_value(label) + encode_value(output))

    def challenge_bytes(self, label: str, nbytes: int) -> bytes:
        out = self._squeeze(label, 0, nbytes)
        self._ratchet(label, out)
        return out

    def challenge_int(self, label: str, bound: int) -> gmpy2.mpz:
        """A uniform integer in [0, bound), by rejection sampling."""
        if bound <= 0:
            raise UsageError("challenge bound must be positive")
        bits = int(bound - 1).bit_length()
        nbytes = max(1, (bits + 7) // 8)
        excess = nbytes * 8 - bits
        for attempt in count():
            out = self._squeeze(label, attempt, nbytes)
            candidate = gmpy2.mpz(int.from_bytes(out, "big") >> excess)
            if candidate < bound:
                self._ratchet(label, out)
                return candidate

    def challenge_signed(self, label: str, bound: int) -> gmpy2.mpz:
        """A uniform integer in [-bound, bound] (CGGMP21's e ← ±q)."""
        return self.challenge_int(label, 2 * bound + 1) - bound

    def challenge_scalar(self, label: str, group) -> Scalar:
        return group.scalar(self.challenge_int(label, group.order))

    def challenge_ints(self, label: str, bound: int, how_many: int) -> list[gmpy2.mpz]:
        """``how_many`` independent uniform values in [0, bound), one per repetition."""
        return [self.challenge_int(f"{label}[{i}]", bound) for i in range(how_many)]

    def challenge_bits(self, label: str, how_many: int) -> list[int]:
        """``how_many`` independent uniform bits."""
        out = self.challenge_bytes(label, (how_many + 7) // 8)
        value = int.from_bytes(out, "big")
        return [(value >> i) & 1 for i in range(how_many)]

    def __repr__(self) -> str:
        return "Transcript(<state>)"
