"""CGGMP21 signing (eprint 2021/060, Fig. 8): one round on a presignature, or all four at once.

    from protocol.cmp.sign import Sign, FullSign, EcdsaSignature
    Sign(key, presignature, message, session_id, hash_name="sha256", path=None)
    FullSign(key, signers, digest, session_id, rng, path=None)      # presign + sign, raw digest

Each signer broadcasts σ_i = k_i·m + r·(χ_i + δ·k_i), where m is the digest, r =
R.x mod q and δ the BIP32 tweak of ``path`` (0 without one), so that Σ σ_i =
k·(m + r·(x + δ)): a signature under the derived key X + δ·G. Every σ_j is checked
against the presignature's public data, σ_j·Γ = (m + r·δ)·Δ_j + r·S_j, and a bad
one blames its sender; the sum is low-s normalised, given a recovery id and
verified (``protocol.cmp.signature``).

Digest rule. ``Sign`` never takes a digest: it hashes the message itself. With
presignatures computed ahead of time, letting the caller choose m freely opens the
forgeries of the 2025 advisory on presignature-based ECDSA; a raw digest is only
signed by ``FullSign``, whose presignature is made fresh in the same session.
Presignatures are single use: ``Sign`` consumes the object before it computes σ_i.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from protocol import hd, wire
from protocol.cmp import presign_round1
from protocol.cmp.presign_context import MAX_SESSION_ID, Context, KeyMaterial, Presignature
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


@wire.message(0x0240)
@dataclass(frozen=True, slots=True)
class SignShare:
    """σ_i for the presignature ``presign_id``."""

    presign_id: bytes = wire.field(wire.Bytes(size=32))
    sigma: Scalar = wire.field(wire.ScalarField())


def _check_session_id(session_id: bytes) -> None:
    if not isinstance(session_id, bytes) or not 1 <= len(session_id) <= MAX_SESSION_ID:
        raise UsageError(f"a session id is 1..{MAX_SESSION_ID} bytes")


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


class SignRound(Round):
    """Receives every other signer's σ_j; the result is the signature."""

    broadcast_type = SignShare

    def __init__(self, number: int, presignature: Presignature, digest: bytes, tweak: Scalar,
                 public_key: Point) -> None:
        self.number = number
        self.presignature, self.digest, self.public_key = presignature, digest, public_key
        group = presignature.R.group
        self.r = group.scalar(presignature.R.x())
        m = digest_scalar(group, digest)
        self.m_eff = m + self.r * tweak   # σ_j·Γ = (m + r·δ)·Δ_j + r·S_j
        p = presignature
        self.sigmas = {p.party: p.k * m + self.r * (p.chi + tweak * p.k)}

    def share(self) -> Send:
        return Send(SignShare(self.presignature.presign_id, self.sigmas[self.presignature.party]))

    def verify(self, sender: int, recipient: int, broadcast: SignShare, direct: None) -> None:
        p = self.presignature
        if broadcast.presign_id != p.presign_id:
            raise InvalidProof(NAME, "σ_j is for another presignature")
        group = p.R.group
        expected = group.multi_mul([self.m_eff, self.r], [p.Delta(sender), p.S_of(sender)])
        if broadcast.sigma * p.Gamma != expected:
            raise InvalidProof(NAME, "σ_j·Γ = (m + r·δ)·Δ_j + r·S_j")

    def store(self, sender: int, broadcast: SignShare, direct: None) -> None:
        self.sigmas[sender] = broadcast.sigma

    def finalize(self) -> Transition:
        p = self.presignature
        s = sum(self.sigmas.values(), p.R.group.scalar(0))
        return Transition(result=finish(p.R, s, self.digest, self.public_key))


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
        _check_session_id(session_id)
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
        self._presignature = p
        self.context = _context(p.presign_id + session_id, self._digest, self._signing_key[0])

    def _begin(self) -> Transition:
        return _signing_round(1, self._presignature, self._digest, self._signing_key)


class FullSign(Machine):
    """Presign and sign a raw 32-byte ``digest`` in one session of four rounds."""

    ROUNDS = 4  # rounds 1-3 presign; round 4 signs (or identifies a cheater)

    def __init__(self, key: CmpKey, signers: Sequence[int], digest: bytes, session_id: bytes,
                 rng: Rng, *, path: str | None = None, level: SecurityLevel = DEFAULT_LEVEL,
                 material: KeyMaterial | None = None) -> None:
        if not isinstance(key, CmpKey):
            raise UsageError("FullSign needs a CmpKey")
        digest_scalar(key.share.group, digest)
        self._digest, self._signing_key = bytes(digest), _signing_key(key, path)
        self._ctx = Context(key, signers, session_id, rng, level, self._sign, material)
        super().__init__(key.share.party, self._ctx.signers, self._ctx.group)
        self.context = _context(self._ctx.context, self._digest, self._signing_key[0])

    def _sign(self, presignature: Presignature) -> Transition:
        presignature.consume()
        return _signing_round(4, presignature, self._digest, self._signing_key)

    def _begin(self) -> Transition:
        return presign_round1.begin(self._ctx)


__all__ = ["EcdsaSignature", "FullSign", "SignShare", "Sign"]
