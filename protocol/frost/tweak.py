"""The key a signature verifies under: HD child, suite normalization, Taproot tweak.

A threshold key P = s·G is never signed for as is when a derivation path, BIP340's
even-y rule or a Taproot tweak applies. Each of these maps the key to ±P + b·G, so
every signing key is described by ``TweakedKey(public_key, sign, offset)`` with

    public_key = sign·P + offset·G,     its secret = sign·s + offset.

Threshold signers multiply their shares by ``sign`` and the aggregate adds
c·offset; a holder of the whole secret signs with sign·s + offset. Order of
operations (BIP32 then BIP341, as a wallet does): normalize the key, derive the
non-hardened child, normalize it, add the Taproot tweak of that internal key,
normalize the output key.

BIP340 and HD paths: a BIP340 key is its 32-byte x-only encoding, so derivation
always starts from its even-y point, i.e. from the 33-byte key 0x02 || x (FROST
key shares hold that point already; a raw secret with an odd-y point is
normalized first). An xpub made from the x-only key and the chain code therefore
derives exactly the children signed for here (BIP32 CKDpub). Intermediate
children keep their parity, as in BIP32; only the last one is read x-only.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import hd
from protocol.errors import UsageError
from protocol.frost.ciphersuite import Ciphersuite
from protocol.group import Point, Scalar


@dataclass(frozen=True, slots=True)
class TweakedKey:
    """public_key = sign·P + offset·G for the group key P; see the module docstring."""

    public_key: Point
    sign: int
    offset: Scalar

    def secret(self, group_secret: Scalar) -> Scalar:
        """The secret of ``public_key`` from the secret of P."""
        return group_secret * self.sign + self.offset


def signing_key(suite: Ciphersuite, public_key: Point, *, chain_code: bytes | None = None,
                path: str | tuple[int, ...] | None = None, taproot: bool = False) -> TweakedKey:
    """The key that signatures for (path, taproot) verify under, as a TweakedKey of ``public_key``."""
    group = suite.group
    if public_key.group is not group or public_key.is_identity():
        raise UsageError("the group key is a non-identity point of the suite's group")
    # BIP340: the key is its even-y form, and derivation starts there too (see above).
    key, sign = suite.adjust_key(public_key)
    offset = group.scalar(0)
    if path is not None:
        if chain_code is None:
            raise UsageError("derivation needs the key's chain code")
        derived = hd.derive(group, key, chain_code, path)  # refuses hardened steps
        key, flip = suite.adjust_key(derived.public_key)
        sign, offset = sign * flip, derived.tweak * flip
    if taproot:
        t = suite.taproot_tweak(key)  # UsageError for suites without Taproot
        key = key + group.base_mul(t)
        if key.is_identity():
            raise UsageError("the Taproot output key is the point at infinity")
        key, flip = suite.adjust_key(key)
        sign, offset = sign * flip, (offset + t) * flip
    return TweakedKey(key, sign, offset)


__all__ = ["TweakedKey", "signing_key"]
