"""FROST distributed key generation: Pedersen DKG with proofs of knowledge, no dealer.

Each party i picks a random polynomial f_i of degree t and, in one go (the start):

* broadcasts its Feldman vector F_i = (f_i,0·G, ..., f_i,t·G) with a Schnorr proof
  of knowledge of f_i(0), built by ``protocol.keygen_certificate`` so that the
  vectors and proofs together are the keygen certificate the ledger verifies,
  plus a commitment to a random 32-byte chain-code contribution u_i;
* sends every other party j its share f_i(j) point to point.

Round 1 (``keygen_round1``) checks each sender's proof and the share it sent
against its vector; everything read is public once shown, so a party that gets a
bad share accuses the sender through the channel and every honest party, re-running
the same check on the shown messages, blames the sender (a complaint). Round 2
(``keygen_round2``) opens the chain-code commitments; the chain code is a hash of
all contributions, so no party can choose it.

Output: ``FrostKeygenOutput(share, certificate)`` with share x_j = Σ_i f_i(j),
public key Σ_i F_i[0], every public share and the chain code. For BIP340 the key
is then normalized as frost-secp256k1-tr does after its DKG: when Σ_i F_i[0] has
an odd y, every share, every public share and the key are negated, so the key
share holds the even-y key whose x-only encoding is the BIP340 key (and an xpub
made from it derives the same children). The certificate still proves the DKG's
key (``FrostKeygenOutput.certified_key``), which has that same x-only encoding.
"""

from __future__ import annotations

from collections.abc import Sequence

from protocol import shamir
from protocol.errors import UsageError
from protocol.frost.common import KEYGEN, chain_commitment, sample_polynomial, session_tag
from protocol.frost.keygen_round1 import DkgCommit, DkgShare, KeygenRound1
from protocol.frost.shares import FrostKeygenOutput, check_parameters
from protocol.frost.suites import suite_by_name
from protocol.keygen_certificate import certify_participant
from protocol.machine import Machine, Send, Transition
from protocol.rng import Rng

CONTRIBUTION_SIZE = 32


class FrostKeygen(Machine):
    """One party's run of the DKG; ``result`` is a ``FrostKeygenOutput``."""

    ROUNDS = 2

    def __init__(self, suite_name: str, party: int, parties: Sequence[int], threshold: int,
                 key_id: str, session_id: bytes, rng: Rng) -> None:
        suite = suite_by_name(suite_name)
        try:
            check_parameters(parties, threshold, key_id)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        super().__init__(party, parties, suite.group)
        self.suite = suite
        self.threshold = threshold
        self.key_id = key_id
        self.rng = rng
        self.tag = session_tag(KEYGEN, session_id, [("suite", suite.name), ("key-id", key_id),
                                                    ("parties", list(self.parties)),
                                                    ("threshold", threshold)])
        self.context = self.tag  # parties with different inputs abort without blame

    def _begin(self) -> Transition:
        group = self.group
        coefficients = sample_polynomial(group, self.rng, self.threshold)
        entry = certify_participant(self.key_id, group, self.parties, self.threshold, self.party,
                                    coefficients, self.rng, session_id=self.tag)
        contribution = self.rng.random_bytes(CONTRIBUTION_SIZE)
        commit = DkgCommit(self.tag, entry, chain_commitment(self.tag, self.party, contribution))
        sends = [Send(commit)]
        sends += [Send(DkgShare(shamir.evaluate(coefficients, j)), j) for j in self.others]
        own_share = shamir.evaluate(coefficients, self.party)
        return Transition(sends, next=KeygenRound1(self, commit, own_share, contribution))


__all__ = ["FrostKeygen", "FrostKeygenOutput"]
