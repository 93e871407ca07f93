"""The public proof that a keygen's public key is the one its shares define.

Every participant i of a t-of-n keygen deals a polynomial f_i of degree t and
publishes its Feldman commitment vector F_i = (f_i,0·G, ..., f_i,t·G) together
with a Schnorr proof of knowledge of x_i = f_i(0) for X_i = F_i[0]. The proof is
bound to the keygen session (the certificate names it), the key id, the group,
the participant list, the threshold, the party index and the whole vector, so it
cannot be replayed into another keygen, for another party, or next to another
vector.

From these public data anyone can check that

* every participant contributed exactly one vector of length t+1,
* every contributor knows the secret behind its constant term (no rogue-key
  contribution that cancels the others), and
* the key's public key is Σ X_i.

The public share of participant j is Σ_i F_i(j) = Σ_k (Σ_i F_i[k])·j^k, so the
same vectors also fix every share; ``public_shares`` computes them and the keygen
uses it to check its own shares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from protocol import shamir, wire
from protocol.errors import InvalidProof, UsageError
from protocol.group import Group, Point, Scalar
from protocol.parties import check_party_set
from protocol.rng import Rng
from protocol.transcript import Transcript
from protocol.zk import sch

NAME = "keygen-certificate"
_DOMAIN = "tssnet/keygen-certificate/v1"
MAX_PARTICIPANTS = 256
MAX_PARTY_INDEX = 2**32 - 1
MAX_SESSION_ID = 128


@wire.message(0x04F0)
@dataclass(frozen=True, slots=True)
class ParticipantCommitment:
    """One participant's Feldman vector and its proof of knowledge of f_i(0)."""

    party: int = wire.field(wire.UInt(MAX_PARTY_INDEX))
    commitments: tuple[Point, ...] = wire.field(
        wire.Seq(wire.PointField(), min_len=1, max_len=MAX_PARTICIPANTS)
    )
    proof: sch.Proof = wire.field(wire.Nested(sch.Proof))


@wire.message(0x04F1)
@dataclass(frozen=True, slots=True)
class KeygenCertificate:
    """One entry per participant, in the order of the participant list, all from one session."""

    session_id: bytes = wire.field(wire.Bytes(min_size=1, max_size=MAX_SESSION_ID))
    entries: tuple[ParticipantCommitment, ...] = wire.field(
        wire.Seq(wire.Nested(ParticipantCommitment), min_len=1, max_len=MAX_PARTICIPANTS)
    )


def feldman_commitments(group: Group, coefficients: Sequence[Scalar]) -> tuple[Point, ...]:
    """(a_0·G, ..., a_t·G) for the dealer's polynomial a_0 + a_1·X + ... + a_t·X^t."""
    if not coefficients:
        raise UsageError("a polynomial needs at least its constant term")
    return tuple(group.base_mul(a) for a in coefficients)


def public_shares(group: Group, vectors: Sequence[Sequence[Point]],
                  participants: Sequence[int]) -> dict[int, Point]:
    """The public share Σ_i F_i(j) of every participant j, from all commitment vectors."""
    if not vectors:
        raise UsageError("no commitment vectors")
    width = len(vectors[0])
    if any(len(v) != width for v in vectors):
        raise UsageError("commitment vectors of different lengths")
    # Summing coefficient-wise first makes each share one polynomial evaluation.
    summed = [group.sum_points(v[k] for v in vectors) for k in range(width)]
    return {j: shamir.evaluate_points(summed, j) for j in participants}


def _transcript(key_id: str, session_id: bytes, group: Group, participants: Sequence[int],
                threshold: int, party: int, commitments: Sequence[Point]) -> Transcript:
    t = Transcript(_DOMAIN)
    t.append("key-id", key_id)
    t.append("session", session_id)
    t.append("group", group.name)
    t.append("participants", list(participants))
    t.append("threshold", threshold)
    t.append("party", party)
    t.append("commitments", list(commitments))
    return t


def _check_parameters(participants: Sequence[int], threshold: int) -> None:
    try:
        check_party_set(participants, threshold=threshold, max_parties=MAX_PARTICIPANTS,
                        max_index=MAX_PARTY_INDEX)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def certify_participant(key_id: str, group: Group, participants: Sequence[int], threshold: int,
                        party: int, coefficients: Sequence[Scalar], rng: Rng, *,
                        session_id: bytes) -> ParticipantCommitment:
    """Participant ``party``'s entry: its Feldman vector and a proof that it knows f(0),
    bound to this keygen session (entries of two runs of one key id never mix)."""
    _check_parameters(participants, threshold)
    _check_session_id(session_id)
    if party not in participants:
        raise UsageError(f"party {party} is not a participant")
    if len(coefficients) != threshold + 1:
        raise UsageError(f"a threshold-{threshold} polynomial has {threshold + 1} coefficients")
    commitments = feldman_commitments(group, coefficients)
    t = _transcript(key_id, session_id, group, participants, threshold, party, commitments)
    proof = sch.prove(t, sch.Public(group, commitments[0]), sch.Private(coefficients[0]), rng)
    return ParticipantCommitment(party=party, commitments=commitments, proof=proof)


def assemble_certificate(entries: Mapping[int, ParticipantCommitment] | Sequence[ParticipantCommitment],
                         participants: Sequence[int], *, session_id: bytes) -> KeygenCertificate:
    """The certificate from every participant's entry, ordered like ``participants``."""
    by_party = dict(entries) if isinstance(entries, Mapping) else {e.party: e for e in entries}
    missing = [j for j in participants if j not in by_party]
    if missing or len(by_party) != len(participants):
        raise UsageError(f"entries do not match the participants (missing {missing})")
    return KeygenCertificate(session_id=session_id, entries=tuple(by_party[j] for j in participants))


def certify(key_id: str, group: Group, participants: Sequence[int], threshold: int,
            polynomials: Mapping[int, Sequence[Scalar]], rng: Rng, *, session_id: bytes) -> KeygenCertificate:
    """A whole certificate when one caller holds every dealer's polynomial (tests, trusted dealer)."""
    return assemble_certificate(
        {i: certify_participant(key_id, group, participants, threshold, i, polynomials[i], rng,
                                session_id=session_id)
         for i in participants},
        participants, session_id=session_id,
    )


def _check_session_id(session_id: bytes) -> None:
    if not isinstance(session_id, bytes) or not 1 <= len(session_id) <= MAX_SESSION_ID:
        raise UsageError(f"a session id is 1..{MAX_SESSION_ID} bytes")


def verify_keygen_certificate(cert: KeygenCertificate | bytes, key_id: str, group: Group,
                              public_key: Point | bytes, participants: Sequence[int],
                              threshold: int) -> None:
    """Return None if ``cert`` proves ``public_key`` for this keygen; else raise.

    Raises EncodingError for bytes that do not decode (certificate or public key)
    and InvalidProof naming the first failed check.
    """
    if isinstance(cert, bytes):
        cert = wire.decode(cert, KeygenCertificate, group)
    if isinstance(public_key, bytes):
        public_key = group.decode_point(public_key)
    if not isinstance(cert, KeygenCertificate):
        raise InvalidProof(NAME, "not a keygen certificate")
    if not isinstance(public_key, Point) or public_key.group is not group:
        raise InvalidProof(NAME, "public key is not a point of the key's group")
    try:
        _check_parameters(participants, threshold)
    except UsageError as exc:
        raise InvalidProof(NAME, str(exc)) from None
    parties = [e.party for e in cert.entries]
    if parties != list(participants):
        raise InvalidProof(NAME, "entries do not match the participant list one to one")
    for entry in cert.entries:
        verify_participant(entry, key_id, group, participants, threshold, session_id=cert.session_id)
    if group.sum_points(e.commitments[0] for e in cert.entries) != public_key:
        raise InvalidProof(NAME, "public key is not the sum of the constant-term commitments")


def verify_participant(entry: ParticipantCommitment, key_id: str, group: Group,
                       participants: Sequence[int], threshold: int, *, session_id: bytes) -> None:
    """Return None if one participant's entry is well formed and its proof holds for this
    session; else InvalidProof."""
    if len(entry.commitments) != threshold + 1:
        raise InvalidProof(NAME, f"party {entry.party}: vector length is not threshold + 1")
    if any(not isinstance(c, Point) or c.group is not group for c in entry.commitments):
        raise InvalidProof(NAME, f"party {entry.party}: commitment outside the key's group")
    t = _transcript(key_id, session_id, group, participants, threshold, entry.party, entry.commitments)
    try:
        sch.verify(t, sch.Public(group, entry.commitments[0]), entry.proof)
    except InvalidProof as exc:
        raise InvalidProof(NAME, f"party {entry.party}: {exc.check}") from None


__all__ = [
    "KeygenCertificate",
    "ParticipantCommitment",
    "assemble_certificate",
    "certify",
    "certify_participant",
    "feldman_commitments",
    "public_shares",
    "verify_keygen_certificate",
    "verify_participant",
]
