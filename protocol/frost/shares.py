"""What FROST parties keep and what the protocols output.

``FrostKeyShare`` is one party's share of a t-of-n key: its Shamir share x_i,
every party's public share X_j = x_j·G, the group public key, the joint chain
code, the suite name and the epoch (refresh increments it). It is a wire message
so that it can be stored and backed up with the one codec; every record carries
``schema``. Decoding (or constructing) one checks that it is consistent: the
secret matches this party's public share, the public shares lie on one
polynomial of degree t through the public key, and the key is in its suite's
normal form (BIP340: even y, so the 32-byte x-only key *is* the key and its
33-byte form is 0x02 || x). The secret is redacted in repr, and a share is never
pickled or copied: it is stored with the wire codec only.

``check_parameters`` is FROST's one check of (parties, threshold, key id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from protocol import wire
from protocol.errors import UsageError
from protocol.frost.ciphersuite import Ciphersuite
from protocol.frost.suites import suite_by_name
from protocol.group import Point, Scalar
from protocol.keygen_certificate import KeygenCertificate
from protocol.parties import MAX_PARTIES, MAX_PARTY_ID, check_party_set
from protocol.threshold_share import KEY_ID_MAX, PARTY, HoldsShare, ThresholdShare

SCHEMA = 1


def check_parameters(parties: Sequence[int], threshold: int, key_id: str) -> None:
    """Raise ValueError unless (parties, threshold, key_id) describe a t-of-n FROST key."""
    if threshold is None:
        raise ValueError("threshold must be in [1, number of parties)")
    check_party_set(parties, threshold=threshold)
    if not isinstance(key_id, str) or not 1 <= len(key_id.encode()) <= KEY_ID_MAX:
        raise ValueError(f"a key id is a string of 1..{KEY_ID_MAX} bytes")


@wire.message(0x0301)
@dataclass(frozen=True, slots=True, repr=False)
class FrostKeyShare(ThresholdShare):
    """Party ``party``'s share of a t-of-n FROST key (any t+1 parties sign)."""

    schema: int = wire.field(wire.UInt(255))
    key_id: str = wire.field(wire.Str(KEY_ID_MAX))
    epoch: int = wire.field(wire.UInt())
    suite: str = wire.field(wire.Str(32))
    threshold: int = wire.field(PARTY)
    parties: tuple[int, ...] = wire.field(wire.Seq(PARTY, min_len=2, max_len=MAX_PARTIES))
    party: int = wire.field(PARTY)
    secret: Scalar = wire.field(wire.ScalarField())
    public_key: Point = wire.field(wire.PointField())
    public_shares: tuple[Point, ...] = wire.field(
        wire.Seq(wire.PointField(), min_len=2, max_len=MAX_PARTIES))
    chain_code: bytes = wire.field(wire.Bytes(size=32))

    def __post_init__(self) -> None:
        if self.schema < 1:
            raise ValueError("schema starts at 1")
        try:
            suite = suite_by_name(self.suite)
        except UsageError as exc:
            raise ValueError(str(exc)) from None
        if suite.group is not self.public_key.group or self.secret.group is not suite.group:
            raise ValueError(f"the key's points are not on the {self.suite} suite's group")
        check_parameters(self.parties, self.threshold, self.key_id)
        if self.party not in self.parties:
            raise ValueError(f"party {self.party} is not among the parties")
        if self.public_key.is_identity() or suite.adjust_key(self.public_key)[1] != 1:
            raise ValueError(f"a {self.suite} key is kept in its normal form (BIP340: even y)")
        self.check_sharing(self.secret)

    @property
    def ciphersuite(self) -> Ciphersuite:
        return suite_by_name(self.suite)

    @property
    def verifying_key(self) -> bytes:
        """The public key as the suite's verifiers take it (BIP340: 32-byte x-only)."""
        return self.ciphersuite.encode_public_key(self.public_key)

    def __repr__(self) -> str:
        return (f"FrostKeyShare(key_id={self.key_id!r}, suite={self.suite}, epoch={self.epoch}, "
                f"party={self.party}, threshold={self.threshold}, n={len(self.parties)}, "
                "secret=<redacted>)")


@wire.message(0x0302)
@dataclass(frozen=True, slots=True, repr=False)
class FrostKeygenOutput(HoldsShare):
    """What the DKG gives each party: its share and the certificate the ledger checks.

    The certificate proves ``certified_key`` = Σ F_i[0], the key the DKG produced.
    The share holds that key in its suite's normal form: the same key for Ed25519,
    and for BIP340 its even-y form (the negation when the DKG's y is odd), which
    has the same 32-byte x-only encoding. The ledger checks the certificate against
    ``certified_key``.
    """

    share: FrostKeyShare = wire.field(wire.Nested(FrostKeyShare))
    certificate: KeygenCertificate = wire.field(wire.Nested(KeygenCertificate))

    def __post_init__(self) -> None:
        if [e.party for e in self.certificate.entries] != list(self.share.parties):
            raise ValueError("the certificate's entries are not the share's parties")
        certified = self.certified_key
        if certified.is_identity() or \
                self.share.ciphersuite.adjust_key(certified)[0] != self.share.public_key:
            raise ValueError("the share's key is not the certified key (in its normal form)")

    @property
    def certified_key(self) -> Point:
        """Σ F_i[0] over the certificate: the DKG's key, before BIP340's even-y normalization."""
        group = self.share.group
        return group.sum_points(e.commitments[0] for e in self.certificate.entries)


@wire.message(0x0303)
@dataclass(frozen=True, slots=True)
class FrostSignature:
    """A signature and the key it verifies under (Ed25519 point, BIP340 x-only, SEC1 for secp256k1)."""

    signature: bytes = wire.field(wire.Bytes(min_size=64, max_size=65))
    public_key: bytes = wire.field(wire.Bytes(min_size=32, max_size=33))


__all__ = ["KEY_ID_MAX", "MAX_PARTIES", "MAX_PARTY_ID", "SCHEMA", "FrostKeyShare", "FrostKeygenOutput",
           "FrostSignature", "check_parameters"]
