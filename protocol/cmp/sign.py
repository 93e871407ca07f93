"""CGGMP21 signing (eprint 2021/060, Fig. 8): one round on a presignature, or all four at once.

    from protocol.cmp.sign import Sign, FullSign, EcdsaSignature
    Sign(key, presignature, message, session_id, hash_name="sha256", path=None)
    FullSign(key, signers, digest, session_id, rng, path=None)      # presign + sign, raw digest

Re-randomised presignatures (Groth–Shoup, "On the security of ECDSA with additive
key derivation and presignatures", Eurocrypt 2022). With the presignature's R used
as is, a signature on digest m under the child key X + δ·G is also one under the
parent key on m + r·δ, with r = R.x known before the message and path are chosen:
one signature on (M1, P1) then signs any (M2, P2) with
H(M1) − H(M2) + r·(t(P1) − t(P2)) ≡ 0, which Wagner's algorithm finds in about
2^86 work. So signing first derives

    ρ = H(presign_id, R, Γ, every Δ_j and S_j, the signing public key, the digest) ≠ 0,
    R' = ρ·R,  r' = R'.x mod q,

and each signer broadcasts σ_i = ρ^-1·(k_i·m + r'·(χ_i + δ·k_i)), δ the BIP32 tweak
of ``path`` (0 without one). Σ σ_i = (k/ρ)·(m + r'·(x + δ)): a signature with
nonce point R' = (ρ/k)·G under the derived key X + δ·G. Since r' depends on the
message and the path, it is not known when they are chosen. Every σ_j is checked
against the presignature's public data, ρ·σ_j·Γ = (m + r'·δ)·Δ_j + r'·S_j, and a bad
one blames its sender; the sum is low-s normalised, given a recovery id and
verified (``protocol.cmp.signature``). ``Sign`` and ``FullSign`` share this round.

Digest rule. ``Sign`` never takes a digest: it hashes the message itself. With
presignatures computed ahead of time, letting the caller choose m freely opens the
forgeries of the 2025 advisory on presignature-based ECDSA; a raw digest is only
signed by ``FullSign``, whose presignature is made fresh in the same session.

Single use. ``Sign`` consumes the presignature object before it computes σ_i, and
keeps no reference to it once σ_i is computed (nor after an abort); the daemon
deletes the stored record atomically before sending σ_i (see
``protocol.cmp.presign_context``). Signers holding records of different presign
runs, or given different messages, hashes or paths, have different contexts and
abort without blaming anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from protocol import hd, wire
from protocol.cmp.presign import Presign
from protocol.cmp.presign_context import KeyMaterial, Presignature, check_session_id
from protocol.cmp.shares import CmpKey
from protocol.cmp.signature import EcdsaSignature, digest_scalar, finish, message_digest
from protocol.errors import InvalidProof, UsageError
from protocol.group import Point, Scalar
from protocol.machine import Machine, Round, Send, Transition
from protocol.params import DEFAULT_LEVEL, SecurityLevel
from protocol.rng import Rng
from protocol.transcript import Transcript

NAME = "sign"
DOMAIN = "tssnet/cmp/sign/v1"
RERANDOMISE_DOMAIN = "tssnet/cmp/sign/rerandomise/v1"


@wire.message(0x0240)
@dataclass(frozen=True, slots=True)
class SignShare:
    """σ_i for the presignature ``presign_id``."""

    presign_id: bytes = wire.field(wire.Bytes(size=32))
    sigma: Scalar = wire.field(wire.ScalarField())


def _context(base: bytes, digest: bytes, public_key: Point) -> bytes:
    """``Machine.context`` of a signing session: what it signs, with what, under which key."""
    t = Transcript(DOMAIN)
    t.append_all((("base", base), ("digest", digest), ("public-key", public_key)))
    return bytes(t.challenge_bytes("context", 32))


def _signing_key(key: CmpKey, path: str | None) -> tuple[Point, Scalar]:
    """(public key to sign under, tweak δ): the key itself, or its BIP32 child at ``path``."""
    share = key.share
    if path is None:
        return share.public_key, share.group.scalar(0)
    derived = hd.derive(share.group, share.public_key, share.chain_code, path)
    return derived.public_key, derived.tweak


def rerandomiser(presignature: Presignature, public_key: Point, digest: bytes) -> Scalar:
    """ρ: a nonzero scalar bound to the presignature's public data, the signing key and the digest."""
    p = presignature
    t = Transcript(RERANDOMISE_DOMAIN)
    t.append_all((("presign-id", p.presign_id), ("R", p.R), ("Gamma", p.Gamma),
                  ("Deltas", list(p.Deltas)), ("S", list(p.S)), ("public-key", public_key),
                  ("digest", digest)))
    while True:   # each squeeze ratchets the transcript; ρ = 0 has probability 2^-256
        rho = t.challenge_scalar("rho", p.R.group)
        if not rho.is_zero():
            return rho


class SignRound(Round):
    """Receives every other signer's σ_j; the result is the signature.

    Only public data is kept (Γ, Δ_j, S_j, R', this party's own σ_i once computed):
    ``verify`` needs nothing else, and the presignature's k_i and χ_i are not
    reachable from the round.
    """

    broadcast_type = SignShare

    def __init__(self, number: int, presignature: Presignature, digest: bytes, tweak: Scalar,
                 public_key: Point) -> None:
        p = presignature
        group = p.R.group
        self.number = number
        self.digest, self.public_key = digest, public_key
        self.presign_id, self.Gamma = p.presign_id, p.Gamma
        self.Deltas = dict(zip(p.signers, p.Deltas, strict=True))
        self.S = dict(zip(p.signers, p.S, strict=True))
        self.rho = rerandomiser(p, public_key, digest)
        self.R = self.rho * p.R
        r = group.scalar(self.R.x())
        m = digest_scalar(group, digest)
        self.m_eff, self.r = m + r * tweak, r        # ρ·σ_j·Γ = (m + r'·δ)·Δ_j + r'·S_j
        self.party = p.party
        self.sigmas = {p.party: self.rho.inverse() * (p.k * m + r * (p.chi + tweak * p.k))}

    def share(self) -> Send:
        return Send(SignShare(self.presign_id, self.sigmas[self.party]))

    def verify(self, sender: int, recipient: int, broadcast: SignShare, direct: None) -> None:
        if broadcast.presign_id != self.presign_id:
            raise InvalidProof(NAME, "σ_j is for another presignature")
        group = self.Gamma.group
        expected = group.multi_mul([self.m_eff, self.r], [self.Deltas[sender], self.S[sender]])
        if (self.rho * broadcast.sigma) * self.Gamma != expected:
            raise InvalidProof(NAME, "σ_j·Γ = ρ^-1·((m + r'·δ)·Δ_j + r'·S_j)")

    def store(self, sender: int, broadcast: SignShare, direct: None) -> None:
        self.sigmas[sender] = broadcast.sigma

    def finalize(self) -> Transition:
        s = sum(self.sigmas.values(), self.Gamma.group.scalar(0))
        return Transition(result=finish(self.R, s, self.digest, self.public_key))


def _signing_round(number: int, presignature: Presignature, digest: bytes,
                   signing_key: tuple[Point, Scalar]) -> Transition:
    """σ_i sent, and the round that collects the others' (the presignature is already consumed)."""
    public_key, tweak = signing_key
    rnd = SignRound(number, presignature, digest, tweak, public_key)
    return Transition([rnd.share()], next=rnd)


class Sign(Machine):
    """Sign ``message`` (hashed here with ``hash_name``) with one presignature; one round."""

    ROUNDS = 1

    def __init__(self, key: CmpKey, presignature: Presignature, message: bytes, session_id: bytes, *,
                 hash_name: str = "sha256", path: str | None = None) -> None:
        if not isinstance(key, CmpKey) or not isinstance(presignature, Presignature):
            raise UsageError("Sign needs a CmpKey and a Presignature")
        check_session_id(session_id)
        share, p = key.share, presignature
        if (p.key_id, p.epoch, p.party, p.public_key) != (share.key_id, share.epoch, share.party,
                                                          share.public_key):
            raise UsageError("the presignature belongs to another key, epoch or party")
        if share.check_signers(p.signers) != p.signers:
            raise UsageError("the presignature's signers are not a signing set of this key")
        self._digest = message_digest(message, hash_name)
        self._signing_key = _signing_key(key, path)   # a bad path is refused before consuming
        super().__init__(share.party, p.signers, share.group)
        p.consume()   # before anything is computed from it; UsageError on a second use
        self._presignature: Presignature | None = p
        # presign_id digests the presign run's public output: records of two runs differ.
        self.context = _context(p.presign_id + session_id, self._digest, self._signing_key[0])

    def _begin(self) -> Transition:
        presignature, self._presignature = self._presignature, None
        return _signing_round(1, presignature, self._digest, self._signing_key)

    def _erase_secrets(self) -> None:
        self._presignature = None


class FullSign(Presign):
    """Presign and sign a raw 32-byte ``digest`` in one session of four rounds: rounds 1-3
    presign, round 4 signs (or identifies a cheater)."""

    def __init__(self, key: CmpKey, signers: Sequence[int], digest: bytes, session_id: bytes,
                 rng: Rng, *, path: str | None = None, level: SecurityLevel = DEFAULT_LEVEL,
                 material: KeyMaterial | None = None) -> None:
        if not isinstance(key, CmpKey):
            raise UsageError("FullSign needs a CmpKey")
        digest_scalar(key.share.group, digest)
        self._digest, self._signing_key = bytes(digest), _signing_key(key, path)
        super().__init__(key, signers, session_id, rng, level, material=material)
        self.context = _context(self.context, self._digest, self._signing_key[0])

    def _output(self, presignature: Presignature) -> Transition:
        presignature.consume()
        return _signing_round(4, presignature, self._digest, self._signing_key)


__all__ = ["EcdsaSignature", "FullSign", "SignShare", "Sign", "rerandomiser"]
