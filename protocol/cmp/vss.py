"""What CGGMP21 keygen and key refresh share: a hash-committed Feldman dealing with Schnorr proofs.

Both protocols (eprint 2021/060, Fig. 5 and Fig. 6, threshold variant) have every
party i deal a polynomial f_i of degree t, publish its Feldman vector
F_i = (f_i,0·G, ..., f_i,t·G), prove knowledge of some of its coefficients, and
hand each party j the share f_i(j), which anyone can check against F_i:
f_i(j)·G = Σ_k j^k·F_i[k]. Keygen proves the constant term (the paper's x_i);
refresh deals a sharing of zero (F_i[0] is the identity) and proves every other
coefficient, the threshold analogue of Fig. 6's proofs for the x_i^j.

The Schnorr first messages A_i,k are sampled in round 1 and sit inside the hash
commitment V_i with everything else the party reveals in round 2, so nobody can
choose its dealing or its nonces after seeing anyone else's. The proofs are made
in round 3, bound to the joint rid that only exists once every opening is in.

``Dealing`` is the dealer's secret side; the ``check_*``/``verify_*`` functions are
the recipients' side and read public data only, so a round's ``verify`` can run
them for any recipient when it audits an accusation.
"""

from __future__ import annotations

from collections.abc import Sequence

from protocol import shamir, wire
from protocol.errors import InvalidProof, UsageError
from protocol.group import Group, Point, Scalar
from protocol.rng import Rng
from protocol.transcript import Transcript
from protocol.zk import sch

DIGEST_SIZE = 32
RANDOM_SIZE = 32
#: the wire field of a party's fresh random contribution (rid_i, chain-code share, u_i)
RANDOM = wire.Bytes(size=RANDOM_SIZE)


class Dealing:
    """A dealer's polynomial, its Feldman vector and the Schnorr nonces for the proven coefficients.

    ``zero_constant`` deals a sharing of zero (refresh) and proves coefficients
    1..t; otherwise the constant term is a fresh non-zero secret and only it is
    proven (keygen). Every other coefficient is non-zero, so every vector entry
    but a refresh's first is a proper point. Redacted when printed.
    """

    __slots__ = ("group", "_coefficients", "vector", "indices", "_nonces", "nonce_commitments")

    def __init__(self, group: Group, rng: Rng, threshold: int, *, zero_constant: bool) -> None:
        if not isinstance(threshold, int) or threshold < 1:
            raise UsageError("a dealing needs a threshold of at least 1")
        self.group = group
        constant = group.scalar(0) if zero_constant else group.random_nonzero_scalar(rng)
        self._coefficients = (constant, *(group.random_nonzero_scalar(rng) for _ in range(threshold)))
        self.vector: tuple[Point, ...] = tuple(group.base_mul(a) for a in self._coefficients)
        self.indices: tuple[int, ...] = proven_indices(threshold, zero_constant=zero_constant)
        pairs = [sch.commit(group, rng) for _ in self.indices]
        self._nonces = tuple(nonce for nonce, _ in pairs)
        self.nonce_commitments: tuple[Point, ...] = tuple(a for _, a in pairs)

    @property
    def coefficients(self) -> tuple[Scalar, ...]:
        """The secret coefficients (for the keygen certificate's own proof)."""
        return self._coefficients

    def share_for(self, j: int) -> Scalar:
        """f(j), the share dealt to party j."""
        return shamir.evaluate(self._coefficients, j)

    def prove(self, base: Transcript, prover: int, rid: bytes) -> tuple[sch.Proof, ...]:
        """Answer each committed nonce: knowledge of every proven coefficient, bound to rid."""
        return tuple(
            sch.prove_with_commitment(proof_transcript(base, prover, rid, k),
                                      sch.Public(self.group, self.vector[k]),
                                      sch.Private(self._coefficients[k]), nonce)
            for k, nonce in zip(self.indices, self._nonces, strict=True))

    def __repr__(self) -> str:
        return f"Dealing(<redacted>, degree={len(self._coefficients) - 1})"


def proven_indices(threshold: int, *, zero_constant: bool) -> tuple[int, ...]:
    """Which coefficients a dealer proves: 1..t for a sharing of zero, else just the constant."""
    return tuple(range(1, threshold + 1)) if zero_constant else (0,)


def commitment_digest(base: Transcript, party: int, opening: bytes) -> bytes:
    """V_i: the hash commitment of party ``party`` to the canonical encoding of its opening.

    The opening carries the party's own random u_i, which makes V_i hiding; the
    transcript binds the session, the party set and the protocol parameters.
    """
    t = base.fork("commitment", party)
    t.append("opening", opening)
    return t.challenge_bytes("V", DIGEST_SIZE)


def check_opening(base: Transcript, party: int, opening: bytes, commitment: bytes,
                  proof: str) -> None:
    if commitment_digest(base, party, opening) != commitment:
        raise InvalidProof(proof, "the round-2 opening does not match the round-1 commitment")


def proof_transcript(base: Transcript, prover: int, rid: bytes, k: int) -> Transcript:
    t = base.fork("prover", prover)
    t.append("rid", rid)
    t.append("coefficient", k)
    return t


def check_vector(vector: Sequence[Point], threshold: int, *, zero_constant: bool,
                 proof: str) -> None:
    """A Feldman vector of length t+1 whose constant term is (refresh) or is not (keygen) the identity."""
    if len(vector) != threshold + 1:
        raise InvalidProof(proof, f"Feldman vector has {len(vector)} entries, not threshold + 1")
    if zero_constant and not vector[0].is_identity():
        raise InvalidProof(proof, "Feldman vector of a refresh must start with the identity")
    if not zero_constant and vector[0].is_identity():
        raise InvalidProof(proof, "Feldman vector's constant term is the identity")
    if any(p.is_identity() for p in vector[1:]):
        raise InvalidProof(proof, "Feldman vector has an identity coefficient")


def check_nonce_count(nonces: Sequence[Point], threshold: int, *, zero_constant: bool,
                      proof: str) -> None:
    if len(nonces) != len(proven_indices(threshold, zero_constant=zero_constant)):
        raise InvalidProof(proof, "wrong number of Schnorr commitments")


def verify_proofs(base: Transcript, prover: int, rid: bytes, vector: Sequence[Point],
                  nonces: Sequence[Point], proofs: Sequence[sch.Proof], *,
                  zero_constant: bool, proof: str) -> None:
    """Every proven coefficient's Π^sch, each answering the nonce committed in round 1."""
    indices = proven_indices(len(vector) - 1, zero_constant=zero_constant)
    if len(proofs) != len(indices) or len(nonces) != len(indices):
        raise InvalidProof(proof, f"expected {len(indices)} Schnorr proofs, got {len(proofs)}")
    group = vector[0].group
    for k, nonce, p in zip(indices, nonces, proofs, strict=True):
        if nonce != p.A:
            raise InvalidProof(proof, f"Π^sch for coefficient {k} does not answer the committed nonce")
        try:
            sch.verify(proof_transcript(base, prover, rid, k), sch.Public(group, vector[k]), p)
        except InvalidProof as exc:
            raise InvalidProof(proof, f"Π^sch for coefficient {k}: {exc.check}") from None


def check_share(vector: Sequence[Point], j: int, share: Scalar, proof: str) -> None:
    """The share f(j) that the dealer of ``vector`` sent party j lies on its committed polynomial."""
    if share.group.base_mul(share) != shamir.evaluate_points(vector, j):
        raise InvalidProof(proof, f"share for party {j} does not match the sender's Feldman vector")


def xor_all(parts: Sequence[bytes]) -> bytes:
    """The XOR of equal-length byte strings (rid, chain code): uniform if any one part is."""
    out = bytearray(len(parts[0]))
    for part in parts:
        if len(part) != len(out):
            raise UsageError("XOR of byte strings of different lengths")
        for i, b in enumerate(part):
            out[i] ^= b
    return bytes(out)


__all__ = ["DIGEST_SIZE", "RANDOM", "RANDOM_SIZE", "Dealing", "check_nonce_count", "check_opening",
           "check_share", "check_vector", "commitment_digest", "proof_transcript", "proven_indices",
           "verify_proofs", "xor_all"]
