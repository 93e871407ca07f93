"""CGGMP21 key generation for t-of-n secp256k1 keys (eprint 2021/060, Fig. 5, threshold variant).

Party i deals a random polynomial f_i of degree t with Feldman vector F_i and
contributes rid_i and a chain-code share c_i, all fresh:

1. broadcast V_i = H(session, i, F_i, A_i, rid_i, c_i, u_i), a hash commitment
   (A_i is the first message of the Schnorr proof for f_i(0), u_i hides the rest);
2. broadcast the opening (F_i, A_i, rid_i, c_i, u_i); receivers check it against
   V_i, that F_i has t+1 entries and that no entry is the identity;
3. with rid = ⊕ rid_j, broadcast Π^sch for f_i(0) (answering A_i, bound to rid)
   and this party's keygen-certificate proof, and send each party j its share
   f_i(j) as a direct message, checkable by anyone against F_i.

The output key share is x_i = Σ_j f_j(i); the public key Σ_j F_j[0]; party j's
public share Σ_i F_i(j); the chain code ⊕ c_j. The ``KeygenCertificate`` (every
dealer's F_i with its proof of f_i(0)) lets the ledger check the public key
without trusting any node.

Every transcript binds the session id, the party set, the security level, the
group, the threshold and the key id, so nothing replays into another keygen.
"""

from __future__ import annotations

from collections.abc import Sequence

from protocol import wire
from protocol.cmp import vss
from protocol.cmp.keygen_round1 import KeygenCommitment, KeygenRound1
from protocol.cmp.keygen_round2 import KeygenDecommitment
from protocol.cmp.keygen_round3 import KeygenOutput
from protocol.cmp.shares import KEY_ID_MAX, check_parties
from protocol.errors import UsageError
from protocol.group import SECP256K1, Scalar
from protocol.keygen_certificate import ParticipantCommitment
from protocol.machine import Machine, Send, Transition
from protocol.params import DEFAULT_LEVEL, SecurityLevel
from protocol.rng import Rng
from protocol.transcript import Transcript

DOMAIN = "tssnet/cmp/keygen/v1"
MAX_SESSION_ID = 256


def check_session_id(session_id: bytes) -> bytes:
    if not isinstance(session_id, bytes) or not 1 <= len(session_id) <= MAX_SESSION_ID:
        raise UsageError(f"session id must be 1..{MAX_SESSION_ID} bytes")
    return session_id


def check_key_id(key_id: str) -> str:
    if not isinstance(key_id, str) or not key_id or len(key_id.encode()) > KEY_ID_MAX:
        raise UsageError(f"key id must be a non-empty string of at most {KEY_ID_MAX} bytes")
    return key_id


class Keygen(Machine):
    """One party's run of CGGMP21 keygen; ``result`` is a ``KeygenOutput``."""

    ROUNDS = 3

    def __init__(self, party: int, parties: Sequence[int], threshold: int, key_id: str,
                 session_id: bytes, rng: Rng, level: SecurityLevel = DEFAULT_LEVEL) -> None:
        super().__init__(party, parties, SECP256K1)
        try:
            check_parties(self.parties, party, threshold)
        except (ValueError, TypeError) as exc:
            raise UsageError(str(exc)) from None
        if not isinstance(level, SecurityLevel):
            raise UsageError("level must be a SecurityLevel")
        self.threshold = threshold
        self.key_id = check_key_id(key_id)
        self.session_id = check_session_id(session_id)
        self.level = level
        self.rng = rng
        self.transcript = Transcript.for_session(DOMAIN, session_id, self.parties, level)
        self.transcript.append("group", SECP256K1.name)
        self.transcript.append("threshold", threshold)
        self.transcript.append("key-id", key_id)
        # Parties started with different inputs abort without blame (see protocol.channel).
        self.context = self.transcript.copy().challenge_bytes("session-context", 32)
        # Filled as the rounds go: public data of every party (this one included).
        self.commitments: dict[int, bytes] = {}
        self.openings: dict[int, KeygenDecommitment] = {}
        self.shares_received: dict[int, Scalar] = {}
        self.entries: dict[int, ParticipantCommitment] = {}
        self.rid = b""
        self.chain_code = b""
        self.dealing: vss.Dealing | None = None

    def _begin(self) -> Transition:
        group, rng = self.group, self.rng
        self.dealing = vss.Dealing(group, rng, self.threshold, zero_constant=False)
        opening = KeygenDecommitment(
            vector=self.dealing.vector, A=self.dealing.nonce_commitments[0],
            rid=rng.random_bytes(vss.RANDOM_SIZE), chain_code=rng.random_bytes(vss.RANDOM_SIZE),
            u=rng.random_bytes(vss.RANDOM_SIZE))
        self.openings[self.party] = opening
        v = vss.commitment_digest(self.transcript, self.party, wire.encode(opening, group))
        self.commitments[self.party] = v
        return Transition([Send(KeygenCommitment(v))], next=KeygenRound1(self))

    def __repr__(self) -> str:
        return (f"Keygen(party={self.party}, parties={list(self.parties)}, t={self.threshold}, "
                f"key_id={self.key_id!r}, round={self.round_number})")


__all__ = ["DOMAIN", "Keygen", "KeygenOutput", "check_key_id", "check_session_id"]
