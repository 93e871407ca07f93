"""What a CGGMP21 party keeps: its key share and its auxiliary information.

``KeyShare`` is what keygen (and key refresh) outputs: this party's Shamir share
x_i of the key, every party's public share X_j = x_j·G, the public key, the joint
chain code and rid. ``AuxInfo`` is what the auxiliary-info protocol outputs: this
party's Paillier/ring-Pedersen trapdoor (p, q, λ) and every party's public (N, s, t).
One modulus serves both purposes for a party, as in multi-party-sig.

``CmpKey`` is the pair, the unit that is stored and that presigning needs. Every
record carries ``schema``; a record written at schema 1 must load in every later
version (tests keep a fixture). Secrets are redacted when printed, and a record
holding one (``KeyShare``, ``AuxSecret``, ``AuxInfo``, ``CmpKey``) is never pickled or
copied: it is stored with the wire codec only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from protocol import shamir, wire
from protocol.errors import UsageError
from protocol.group import Point, Scalar
from protocol.paillier import PaillierPublicKey, PaillierSecretKey
from protocol.params import MAX_MODULUS_BITS
from protocol.parties import MAX_PARTIES, MAX_PARTY_ID, check_party_set
from protocol.pedersen import RingPedersenParams, RingPedersenSecret
from protocol.secrecy import NeverPickled, Redacted
from protocol.threshold_share import KEY_ID_MAX, PARTY, HoldsShare, ThresholdShare

SCHEMA = 1
#: wire fields shared by every CMP message that carries them (``PARTY`` too)
MODULUS = wire.Nat(MAX_MODULUS_BITS)
_FACTOR = wire.Nat(MAX_MODULUS_BITS // 2 + 8)


def check_parties(parties: tuple[int, ...], party: int, threshold: int | None = None) -> None:
    """Raise ValueError unless ``parties`` is a CMP party set with ``party`` among them
    (and 1 <= threshold < n when ``threshold`` is given). Every CMP record and machine
    checks its party set here."""
    check_party_set(parties, party=party, threshold=threshold)


@wire.message(0x0201)
@dataclass(frozen=True, slots=True, repr=False)
class KeyShare(ThresholdShare):
    """Party ``party``'s share of a t-of-n secp256k1 key (any t+1 parties can sign)."""

    EXACT_SIGNERS = True   # a presigning set is t+1 holders, no more

    schema: int = wire.field(wire.UInt(255))
    key_id: str = wire.field(wire.Str(KEY_ID_MAX))
    epoch: int = wire.field(wire.UInt())
    threshold: int = wire.field(PARTY)
    parties: tuple[int, ...] = wire.field(wire.Seq(PARTY, min_len=2, max_len=MAX_PARTIES))
    party: int = wire.field(PARTY)
    x: Scalar = wire.field(wire.ScalarField())
    public_key: Point = wire.field(wire.PointField())
    public_shares: tuple[Point, ...] = wire.field(
        wire.Seq(wire.PointField(), min_len=2, max_len=MAX_PARTIES))
    chain_code: bytes = wire.field(wire.Bytes(size=32))
    rid: bytes = wire.field(wire.Bytes(size=32))

    def __post_init__(self) -> None:
        if self.schema < 1:
            raise ValueError("schema starts at 1")
        check_parties(self.parties, self.party, self.threshold)
        self.check_sharing(self.x)

    def additive_secret(self, signers: Iterable[int]) -> Scalar:
        """w_i = λ_i·x_i: this party's additive share of the key among ``signers``."""
        signers = self.check_signers(signers)
        return shamir.lagrange_at_zero(self.group, self.party, signers) * self.x

    def additive_public(self, signers: Iterable[int]) -> dict[int, Point]:
        """W_j = λ_j·X_j for each signer j: Σ W_j is the public key."""
        signers = self.check_signers(signers)
        return {j: shamir.lagrange_at_zero(self.group, j, signers) * self.public_share(j) for j in signers}

    def __repr__(self) -> str:
        return (f"KeyShare(key_id={self.key_id!r}, epoch={self.epoch}, party={self.party}, "
                f"threshold={self.threshold}, n={len(self.parties)}, x=<redacted>)")


@wire.message(0x0202)
@dataclass(frozen=True, slots=True)
class AuxPublic:
    """One party's public auxiliary information: N (Paillier and ring-Pedersen), s, t."""

    n: int = wire.field(MODULUS)
    s: int = wire.field(MODULUS)
    t: int = wire.field(MODULUS)

    def paillier(self) -> PaillierPublicKey:
        return PaillierPublicKey(self.n)

    def ring_pedersen(self) -> RingPedersenParams:
        return RingPedersenParams(self.n, self.s, self.t)


@wire.message(0x0203)
@dataclass(frozen=True, slots=True, repr=False)
class AuxSecret(Redacted, NeverPickled):
    """This party's trapdoor: the safe primes of N and λ with s = t^λ mod N."""

    p: int = wire.field(_FACTOR)
    q: int = wire.field(_FACTOR)
    lam: int = wire.field(MODULUS)


@wire.message(0x0204)
@dataclass(frozen=True, slots=True, repr=False)
class AuxInfo(NeverPickled):
    """This party's auxiliary secret and every party's auxiliary public data."""

    schema: int = wire.field(wire.UInt(255))
    party: int = wire.field(PARTY)
    parties: tuple[int, ...] = wire.field(wire.Seq(PARTY, min_len=2, max_len=MAX_PARTIES))
    secret: AuxSecret = wire.field(wire.Nested(AuxSecret))
    public: tuple[AuxPublic, ...] = wire.field(
        wire.Seq(wire.Nested(AuxPublic), min_len=2, max_len=MAX_PARTIES))

    def __post_init__(self) -> None:
        if self.schema < 1:
            raise ValueError("schema starts at 1")
        check_parties(self.parties, self.party)
        if len(self.public) != len(self.parties):
            raise ValueError("one public entry per party")
        if self.secret.p * self.secret.q != self.public_for(self.party).n:
            raise ValueError("the secret primes do not factor this party's modulus")

    def public_for(self, j: int) -> AuxPublic:
        try:
            return self.public[self.parties.index(j)]
        except ValueError:
            raise UsageError(f"party {j} has no auxiliary information here") from None

    def paillier_secret(self) -> PaillierSecretKey:
        return PaillierSecretKey(self.secret.p, self.secret.q)

    def ring_pedersen_secret(self) -> RingPedersenSecret:
        return RingPedersenSecret(self.secret.p, self.secret.q, self.secret.lam,
                                  self.public_for(self.party).t)

    def __repr__(self) -> str:
        return f"AuxInfo(party={self.party}, parties={list(self.parties)}, secret=<redacted>)"


@wire.message(0x0205)
@dataclass(frozen=True, slots=True, repr=False)
class CmpKey(HoldsShare):
    """A key share with its auxiliary information: everything presign and sign need."""

    share: KeyShare = wire.field(wire.Nested(KeyShare))
    aux: AuxInfo = wire.field(wire.Nested(AuxInfo))

    def __post_init__(self) -> None:
        if self.share.party != self.aux.party or self.share.parties != self.aux.parties:
            raise ValueError("key share and auxiliary information belong to different parties")


__all__ = ["KEY_ID_MAX", "MAX_PARTIES", "MAX_PARTY_ID", "MODULUS", "PARTY", "SCHEMA", "AuxInfo",
           "AuxPublic", "AuxSecret", "CmpKey", "KeyShare", "check_parties"]
