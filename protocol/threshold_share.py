"""What a CGGMP21 ``KeyShare`` and a FROST ``FrostKeyShare`` have in common.

Both are one party's Shamir share x_i of a t-of-n key with every party's public
share X_j = x_j·G: the public shares lie on one polynomial of degree t whose value
at 0 is the public key, so any t+1 of them interpolate to it. ``ThresholdShare``
checks that when a record is built or decoded (``check_sharing``), and answers
for both protocols which parties may sign (``check_signers``): CGGMP21 presigns
with exactly t+1 signers, FROST signs with at least t+1 (``EXACT_SIGNERS``).

A share is never pickled or copied (``protocol.secrecy``).
"""

from __future__ import annotations

from collections.abc import Iterable

from protocol import shamir, wire
from protocol.errors import UsageError
from protocol.group import Group, Point, Scalar
from protocol.parties import MAX_PARTY_ID, is_index
from protocol.secrecy import NeverPickled

KEY_ID_MAX = 128
#: the codec of a party index in a record
PARTY = wire.UInt(MAX_PARTY_ID)


class ThresholdShare(NeverPickled):
    """Mixin of a share record with the fields ``threshold``, ``parties``, ``party``,
    ``public_key`` and ``public_shares`` (one per party, in ``parties`` order)."""

    __slots__ = ()
    _REFUSAL = "a key share is never pickled or copied; store it with the wire codec"
    #: whether a signing set has exactly t+1 parties (CGGMP21) or at least t+1 (FROST)
    EXACT_SIGNERS = False

    threshold: int
    parties: tuple[int, ...]
    party: int
    public_key: Point
    public_shares: tuple[Point, ...]

    @property
    def group(self) -> Group:
        return self.public_key.group

    def public_share(self, j: int) -> Point:
        try:
            return self.public_shares[self.parties.index(j)]
        except ValueError:
            raise UsageError(f"party {j} holds no share of this key") from None

    def interpolate(self, subset: Iterable[int]) -> Point:
        """Σ λ_j·X_j over ``subset``: the public key when the subset has t+1 holders."""
        return interpolate_public(self.parties, self.public_shares, subset)

    def check_sharing(self, secret: Scalar) -> None:
        """ValueError unless there is one public share per party, this party's is secret·G,
        and all lie on one polynomial of degree t through the public key."""
        if len(self.public_shares) != len(self.parties):
            raise ValueError("one public share per party")
        if secret.group.base_mul(secret) != self.public_share(self.party):
            raise ValueError("the secret share does not match this party's public share")
        check_public_sharing(self.threshold, self.parties, self.public_shares, self.public_key)

    def check_signers(self, signers: Iterable[int]) -> tuple[int, ...]:
        """The signer set, sorted: t+1 distinct holders (at least t+1 unless ``EXACT_SIGNERS``),
        this party among them.

        A party listed twice is refused, not dropped: the caller's list is wrong.
        """
        signers = tuple(signers)
        if not all(is_index(j) for j in signers):
            raise UsageError("signers are party ids")
        if len(set(signers)) != len(signers):
            raise UsageError(f"signers {list(signers)} name a party twice")
        signers = tuple(sorted(signers))
        needed = self.threshold + 1
        if len(signers) < needed or (self.EXACT_SIGNERS and len(signers) != needed):
            which = "exactly" if self.EXACT_SIGNERS else "at least"
            raise UsageError(f"{which} {needed} signers are needed, got {len(signers)}")
        if any(j not in self.parties for j in signers) or self.party not in signers:
            raise UsageError("signers must be holders of the key, this party among them")
        return signers


def interpolate_public(parties: tuple[int, ...], public_shares: tuple[Point, ...], subset: Iterable[int]) -> Point:
    """Σ λ_j·X_j over ``subset`` (party ids among ``parties``, whose public shares are in that order)."""
    subset = tuple(subset)
    group = public_shares[0].group
    return group.multi_mul([shamir.lagrange_at_zero(group, j, subset) for j in subset],
                           [public_shares[parties.index(j)] for j in subset])


def check_public_sharing(threshold: int, parties: tuple[int, ...], public_shares: tuple[Point, ...],
                         public_key: Point) -> None:
    """ValueError unless the public shares (one per party, in ``parties`` order) lie on one
    polynomial of degree ``threshold`` through ``public_key``: the first t+1 interpolate to it,
    and so does each later share with the first t."""
    if len(public_shares) != len(parties):
        raise ValueError("one public share per party")
    if interpolate_public(parties, public_shares, parties[: threshold + 1]) != public_key:
        raise ValueError("public shares do not interpolate to the public key")
    for j in parties[threshold + 1:]:
        if interpolate_public(parties, public_shares, (*parties[:threshold], j)) != public_key:
            raise ValueError(f"public share of party {j} is off the sharing polynomial")


class HoldsShare(NeverPickled):
    """Mixin of a record around a ``share`` field (a protocol's output, a share with its aux
    info): never pickled or copied, and printed as its share, whose repr hides the secret."""

    __slots__ = ()
    _REFUSAL = ThresholdShare._REFUSAL

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.share!r})"


__all__ = ["KEY_ID_MAX", "PARTY", "HoldsShare", "ThresholdShare", "check_public_sharing",
           "interpolate_public"]
