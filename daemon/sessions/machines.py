"""The protocol machines a session runs, built from a ``Job`` of plain bytes and numbers.

A job crosses into a worker process as bytes (wire-encoded shares and
presignatures), never as protocol objects, which refuse pickling. ``KeyCache``
keeps one decoded key and one ``KeyMaterial`` per key in the worker, so that
presign and sign sessions of a key reuse its Paillier and ring-Pedersen objects.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from daemon.sessions import messages as m
from protocol import wire
from protocol.cmp.aux import AuxRefresh
from protocol.cmp.keygen import Keygen
from protocol.cmp.presign import KeyMaterial, Presign, Presignature
from protocol.cmp.shares import CmpKey
from protocol.cmp.sign import EcdsaSignature, FullSign, Sign
from protocol.frost.keygen import FrostKeygen, FrostKeygenOutput
from protocol.frost.shares import FrostKeyShare, FrostSignature
from protocol.frost.sign import FrostSign
from protocol.keygen_certificate import KeygenCertificate
from protocol.machine import Machine
from protocol.params import DEFAULT_LEVEL, SecurityLevel
from protocol.primes import PrimePool
from protocol.rng import SystemRng

#: the phases of a session, each its own channel (sub-session id ``<session>/<phase name>``)
PHASES = {m.CMP_KEYGEN: ("keygen", "aux")}


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to run one party's side of a session."""

    session_id: str
    protocol: str
    party: int
    parties: tuple[int, ...]
    identity_keys: tuple[bytes, ...]            # one per party, in ``parties`` order
    key_id: str
    threshold: int = 0
    suite: str = ""
    secret: bytes = field(default=b"", repr=False)        # CmpKey / FrostKeyShare wire bytes
    presignature: bytes = field(default=b"", repr=False)  # Presignature wire bytes (cmp-sign)
    message: bytes | None = field(default=None, repr=False)
    hash: str = ""
    digest: bytes | None = None
    path: str | None = None
    primes: tuple[int, ...] = field(default=(), repr=False)
    paillier_bits: int = 2048
    level: SecurityLevel = DEFAULT_LEVEL
    deadline: float = 0.0                       # unix seconds; the worker drops the run after it


@dataclass
class Output:
    """What a finished session gives the node: ``secret`` to seal, ``public`` to show."""

    secret: bytes = field(default=b"", repr=False)
    public: bytes = b""
    certificate: bytes = b""
    chain_code: bytes = b""


class KeyCache:
    """One decoded CmpKey and its KeyMaterial per key id (replaced when the share changes)."""

    def __init__(self) -> None:
        self._keys: dict[str, tuple[bytes, CmpKey, KeyMaterial]] = {}

    def cmp(self, key_id: str, encoded: bytes, level: SecurityLevel) -> tuple[CmpKey, KeyMaterial]:
        tag = hashlib.sha256(encoded).digest()
        held = self._keys.get(key_id)
        if held is None or held[0] != tag:
            key = wire.decode(encoded, CmpKey)
            held = self._keys[key_id] = (tag, key, KeyMaterial(key, level))
        return held[1], held[2]

    def forget(self, key_id: str) -> None:
        self._keys.pop(key_id, None)


def phase_names(protocol: str) -> tuple[str, ...]:
    return PHASES.get(protocol, (protocol,))


def channel_session_id(job: Job, phase: int) -> str:
    names = phase_names(job.protocol)
    return job.session_id if len(names) == 1 else f"{job.session_id}/{names[phase]}"


def build(job: Job, phase: int, cache: KeyCache, previous=None) -> Machine:
    """The machine of ``phase``; ``previous`` is the result of the phase before it."""
    sid = channel_session_id(job, phase).encode()
    rng = SystemRng()
    kind = job.protocol
    if kind == m.CMP_KEYGEN and phase == 0:
        return Keygen(job.party, job.parties, job.threshold, job.key_id, sid, rng, job.level)
    if kind == m.CMP_KEYGEN:
        return AuxRefresh(previous.share, sid, rng, refresh=False, level=job.level,
                          paillier_bits=job.paillier_bits, prime_source=PrimePool(job.primes))
    if kind == m.FROST_KEYGEN:
        return FrostKeygen(job.suite, job.party, job.parties, job.threshold, job.key_id, sid, rng)
    if kind == m.FROST_SIGN:
        share = wire.decode(job.secret, FrostKeyShare)
        return FrostSign(share, job.parties, job.message, sid, rng, path=job.path)
    key, material = cache.cmp(job.key_id, job.secret, job.level)
    if kind == m.CMP_PRESIGN:
        return Presign(key, job.parties, sid, rng, job.level, material=material)
    if kind == m.CMP_FULLSIGN:
        return FullSign(key, job.parties, job.digest, sid, rng, path=job.path, level=job.level,
                        material=material)
    if kind == m.CMP_SIGN:
        presignature = wire.decode(job.presignature, Presignature)
        return Sign(key, presignature, job.message, sid, hash_name=job.hash, path=job.path)
    raise ValueError(f"unknown protocol {kind!r}")


def output(job: Job, result, certificate: KeygenCertificate | None) -> Output:
    """The session's output as bytes; for cmp-keygen ``result`` is the CmpKey of the aux phase
    and ``certificate`` the keygen phase's."""
    if isinstance(result, CmpKey):
        group = result.share.group
        return Output(wire.encode(result, group), result.share.public_key.encode(),
                      wire.encode(certificate, group), result.share.chain_code)
    if isinstance(result, FrostKeygenOutput):
        share = result.share
        return Output(wire.encode(share, share.group), share.public_key.encode(),
                      wire.encode(result.certificate, share.group), share.chain_code)
    if isinstance(result, Presignature):
        return Output(wire.encode(result, result.R.group), result.presign_id)
    if isinstance(result, EcdsaSignature | FrostSignature):
        return Output(public=wire.encode(result))  # neither carries group elements
    raise ValueError(f"unexpected result {type(result).__name__}")


__all__ = ["Job", "KeyCache", "Output", "build", "channel_session_id", "output", "phase_names"]
