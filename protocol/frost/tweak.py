"""The key a signature verifies under: HD child, suite normalization, Taproot tweak.

A threshold key P = s·G is never signed for as is when a derivation path, BIP340's
even-y rule or a Taproot tweak applies. Each of these maps the key to ±P + b·G, so
every signing key is described by ``TweakedKey(public_key, sign, offset)`` with

    public_key = sign·P + offset·G,     its secret = sign·s + offset.

Threshold signers multiply their shares by ``sign`` and the aggregate adds
c·offset; a holder of the whole secret signs with sign·s + offset. Order of
operations (BIP32 then BIP341, as a wallet does): derive the non-hardened child,
normalize it (BIP340: even y), add the Taproot tweak of that internal key,
normalize the output key.
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
    key, offset = public_key, group.scalar(0)
    if path is not None:
        if chain_code is None:
            raise UsageError("derivation needs the key's chain code")
        derived = hd.derive(group, public_key, chain_code, path)  # refuses hardened steps
        key, offset = derived.public_key, derived.tweak
    key, sign = suite.adjust_key(key)
    offset = offset * sign
    if taproot:
        t = suite.taproot_tweak(key)  # UsageError for suites without Taproot
        key = key + group.base_mul(t)
        if key.is_identity():
            raise UsageError("the Taproot output key is the point at infinity")
        key, flip = suite.adjust_key(key)
        sign, offset = sign * flip, (offset + t) * flip
    return TweakedKey(key, sign, offset)


__all__ = ["TweakedKey", "signing_key"]
