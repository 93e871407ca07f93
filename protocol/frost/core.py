"""RFC 9591's signing computations (§4.3–§4.6, §5.2–§5.3), pure and shared.

The state machines and the RFC test vectors run exactly this code. A
``SigningPackage`` is what every signer derives identically from the public data
of one signing session: the binding factors ρ_i, the group commitment R, the
challenge c and the Lagrange coefficients λ_i. With it a signer computes its share

    z_i = s_R·(d_i + e_i·ρ_i) + λ_i·s_P·x_i·c,

anyone checks a share against the signer's public share X_i,

    z_i·G = s_R·(D_i + ρ_i·E_i) + c·λ_i·s_P·X_i,

and the aggregate is (R', Σ z_i + c·offset). s_R and s_P are 1 in the RFC; BIP340
makes them -1 when R or the key has an odd y (the suite's hooks decide), and
``offset``, s_P come from the ``TweakedKey`` (derivation, Taproot).

``context`` binds a session: when given, H5(label || context) joins the binding
factor input, so commitments and shares of one session never verify in another.
Without it the inputs are the RFC's, byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from protocol import shamir
from protocol.errors import Bug, UsageError
from protocol.frost.ciphersuite import Ciphersuite
from protocol.frost.nonces import SigningNonces
from protocol.frost.tweak import TweakedKey
from protocol.group import Point, Scalar

SESSION_LABEL = b"tssnet/frost/session/v1"


@dataclass(frozen=True, slots=True)
class Commitment:
    """Signer ``identifier``'s public nonce commitments (D, E) for one signature."""

    identifier: int
    hiding: Point
    binding: Point


def encode_group_commitment_list(suite: Ciphersuite, commitments: Sequence[Commitment]) -> bytes:
    """RFC 9591 §4.3: identifier || D || E for each signer, in identifier order."""
    group = suite.group
    return b"".join(suite.serialize_scalar(group.scalar(c.identifier)) + suite.serialize_element(c.hiding)
                    + suite.serialize_element(c.binding) for c in commitments)


def binding_factor_inputs(suite: Ciphersuite, public_key: Point, commitments: Sequence[Commitment],
                          message: bytes, context: bytes = b"") -> dict[int, bytes]:
    """RFC 9591 §4.4's rho_input for each signer (plus the session when ``context`` is set)."""
    prefix = (suite.serialize_element(public_key) + suite.h4(message)
              + suite.h5(encode_group_commitment_list(suite, commitments)))
    if context:
        prefix += suite.h5(SESSION_LABEL + context)
    return {c.identifier: prefix + suite.serialize_scalar(suite.group.scalar(c.identifier))
            for c in commitments}


def _sorted_commitments(commitments: Iterable[Commitment]) -> tuple[Commitment, ...]:
    ordered = tuple(sorted(commitments, key=lambda c: c.identifier))
    ids = [c.identifier for c in ordered]
    if not ids or len(set(ids)) != len(ids) or ids[0] < 1:
        raise UsageError("commitments come from distinct signers with positive identifiers")
    return ordered


class SigningPackage:
    """ρ_i, R, c and λ_i of one signature; see the module docstring."""

    __slots__ = ("suite", "key", "message", "commitments", "binding_inputs", "binding_factors",
                 "commitment_shares", "group_commitment", "nonce_sign", "challenge", "lambdas")

    def __init__(self, suite: Ciphersuite, key: TweakedKey, commitments: Iterable[Commitment],
                 message: bytes, context: bytes = b"") -> None:
        if not isinstance(message, bytes):
            raise UsageError("the message is bytes")
        group = suite.group
        ordered = _sorted_commitments(commitments)
        ids = tuple(c.identifier for c in ordered)
        self.suite, self.key, self.message = suite, key, message
        self.commitments = {c.identifier: c for c in ordered}
        self.binding_inputs = binding_factor_inputs(suite, key.public_key, ordered, message, context)
        self.binding_factors = {i: suite.h1(data) for i, data in self.binding_inputs.items()}
        self.commitment_shares = {c.identifier: c.hiding + self.binding_factors[c.identifier] * c.binding
                                  for c in ordered}
        raw = group.sum_points(self.commitment_shares.values())
        if raw.is_identity():
            # Each ρ_i hashes every commitment: no signer can aim the sum at the identity.
            raise Bug("the group commitment is the identity")
        self.group_commitment, self.nonce_sign = suite.adjust_commitment(raw)
        self.challenge = suite.challenge(self.group_commitment, key.public_key, message)
        self.lambdas = {i: shamir.lagrange_at_zero(group, i, ids) for i in ids}

    @property
    def signers(self) -> tuple[int, ...]:
        return tuple(self.commitments)

    def sign_share(self, identifier: int, secret_share: Scalar, nonces: SigningNonces) -> Scalar:
        """RFC 9591 §5.2: this signer's z_i; consumes ``nonces`` (a second use raises)."""
        mine = self.commitments.get(identifier)
        if mine is None or (mine.hiding, mine.binding) != nonces.commitments:
            raise UsageError("these nonces are not the signer's commitment in this package")
        hiding, binding = nonces.take()
        own = (hiding + binding * self.binding_factors[identifier]) * self.nonce_sign
        return own + self.lambdas[identifier] * secret_share * self.key.sign * self.challenge

    def verify_share(self, identifier: int, public_share: Point, share: Scalar) -> bool:
        """RFC 9591 §5.4: does z_i match signer ``identifier``'s commitment and public share?"""
        if identifier not in self.commitments:
            raise UsageError(f"party {identifier} is not a signer of this package")
        weight = self.challenge * self.lambdas[identifier] * self.key.sign
        expected = self.commitment_shares[identifier] * self.nonce_sign + public_share * weight
        return self.suite.group.base_mul(share) == expected

    def aggregate(self, shares: Mapping[int, Scalar]) -> bytes:
        """RFC 9591 §5.3: the signature (R, Σ z_i + c·offset) in the suite's encoding."""
        if set(shares) != set(self.commitments):
            raise UsageError("aggregation needs exactly one share per signer")
        z = self.suite.group.scalar(0)
        for share in shares.values():
            z = z + share
        return self.suite.encode_signature(self.group_commitment, z + self.challenge * self.key.offset)


__all__ = ["SESSION_LABEL", "Commitment", "SigningPackage", "binding_factor_inputs",
           "encode_group_commitment_list"]
