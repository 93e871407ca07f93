"""What the FROST state machines share: session tags, polynomials, chain codes, Feldman checks.

A session tag is a 32-byte transcript hash of the session id and every input the
parties must agree on (suite, key, signer set, message, ...). Each round-1
message carries it, so a message made for another session, or for other inputs,
is refused and blamed on its sender; signing also binds it into the binding
factors (``core``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from protocol.errors import UsageError
from protocol.group import Group, Point, Scalar
from protocol.keygen_certificate import public_shares
from protocol.rng import Rng
from protocol.transcript import Transcript

KEYGEN = "frost-keygen"
SIGN = "frost-sign"
REFRESH = "frost-refresh"
TAG_SIZE = 32
MAX_SESSION_ID = 256


def session_tag(protocol: str, session_id: bytes, items: Sequence[tuple[str, object]]) -> bytes:
    """The tag of one run of ``protocol``: session id plus the labelled inputs."""
    if not isinstance(session_id, bytes) or not 1 <= len(session_id) <= MAX_SESSION_ID:
        raise UsageError(f"a session id is 1..{MAX_SESSION_ID} bytes")
    t = Transcript(f"tssnet/{protocol}/session/v1")
    t.append("session", session_id)
    t.append_all(items)
    return t.challenge_bytes("tag", TAG_SIZE)


def sample_polynomial(group: Group, rng: Rng, degree: int,
                      constant: Scalar | None = None) -> tuple[Scalar, ...]:
    """A polynomial of ``degree`` with uniform non-zero coefficients (``constant`` fixed if given).

    The DKG and refresh both deal with it. Coefficients are never zero: a zero one
    would commit to the identity, which no FROST message carries.
    """
    if degree < 1:
        raise UsageError("a FROST sharing polynomial has degree >= 1")
    head = () if constant is None else (constant,)
    count = degree + 1 - len(head)
    return (*head, *(group.random_nonzero_scalar(rng) for _ in range(count)))


def chain_commitment(tag: bytes, party: int, contribution: bytes) -> bytes:
    """Party ``party``'s commitment to its chain-code contribution (opened in keygen round 2)."""
    t = Transcript("tssnet/frost-keygen/chain-code-commitment/v1")
    t.append("session", tag)
    t.append("party", party)
    t.append("contribution", contribution)
    return t.challenge_bytes("commitment", TAG_SIZE)


def chain_code(tag: bytes, contributions: Mapping[int, bytes]) -> bytes:
    """The joint chain code: a hash of every party's contribution, in party order."""
    t = Transcript("tssnet/frost-keygen/chain-code/v1")
    t.append("session", tag)
    t.append("contributions", [[j, contributions[j]] for j in sorted(contributions)])
    return t.challenge_bytes("chain-code", TAG_SIZE)


def feldman_value(group: Group, vector: Sequence[Point], x: int) -> Point:
    """Σ_k C_k·x^k: what f(x)·G must be for the polynomial f committed to by ``vector``."""
    return public_shares(group, [vector], [x])[x]


__all__ = ["KEYGEN", "REFRESH", "SIGN", "TAG_SIZE", "chain_code", "chain_commitment",
           "feldman_value", "sample_polynomial", "session_tag"]
