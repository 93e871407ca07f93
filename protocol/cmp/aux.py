"""CGGMP21 auxiliary information and key refresh (eprint 2021/060, Fig. 6, threshold variant).

Every holder of a key samples a Paillier modulus N_i = p_i·q_i from two safe primes
and ring-Pedersen parameters (s_i, t_i) over the same N_i, and, for a refresh,
deals a fresh sharing of zero g_i of degree t with Feldman vector G_i (G_i[0] is
the identity):

1. broadcast V_i = H(session, i, opening), a hash commitment to the opening below;
2. broadcast the opening: N_i, s_i, t_i with Π^prm (s_i ∈ ⟨t_i⟩) and Π^mod (N_i is
   Paillier–Blum), rid_i, u_i, and for a refresh G_i and the Schnorr nonces for
   g_i,1..g_i,t. Receivers check the opening, |N_j| = paillier_bits, the
   ring-Pedersen parameters, both proofs and the vector;
3. with rid = ⊕ rid_j: send each party j a Π^fac proof for N_i under j's own
   ring-Pedersen parameters and, for a refresh, the share g_i(j) (checkable
   against G_i by anyone); for a refresh also broadcast Π^sch for each g_i,k.
   Receivers refuse a modulus that a party of lower index also presented.

Refresh: x_i' = x_i + Σ_j g_j(i), X_k' = X_k + Σ_j G_j(k); the public key, chain
code and rid stay, and the epoch goes up by one. Old and new shares lie on
different polynomials, so mixing them interpolates to nothing useful.

Where this departs from the figure, so that every check can be audited from
public data (``Round.verify`` run for another recipient when a party is
accused): Π^mod travels inside the commitment next to Π^prm (Fig. 6 proves it in
round 3 under rid). By round 3 every sender has thus proven that it knows the
factors of its modulus, so two parties presenting one modulus both know its
factors and neither is honest; "blame the later of the two" is then sound and
names the same culprit for every honest party in any delivery order. Π^mod's
soundness after Fiat–Shamir rests on its level.repetitions independent
challenges, which the prover fixes, committed, before it sees anyone's rid_j.
Π^fac, which depends on the verifier's parameters, stays in round 3 under rid.
"""

from __future__ import annotations

from dataclasses import dataclass

import gmpy2

from protocol import wire
from protocol.cmp import vss
from protocol.cmp.aux_round1 import AuxCommitment, AuxRound1
from protocol.cmp.aux_round2 import AuxDecommitment
from protocol.cmp.aux_round3 import prover_transcript
from protocol.cmp.keygen import check_session_id
from protocol.cmp.shares import SCHEMA, AuxInfo, AuxPublic, AuxSecret, KeyShare
from protocol.errors import UsageError
from protocol.group import Scalar
from protocol.machine import Machine, Send, Transition
from protocol.paillier import generate_paillier_key
from protocol.params import DEFAULT_LEVEL, MAX_MODULUS_BITS, MIN_MODULUS_BITS, SecurityLevel
from protocol.pedersen import RingPedersenParams, RingPedersenSecret, generate_ring_pedersen
from protocol.primes import PrimePool
from protocol.rng import Rng
from protocol.secrecy import Redacted
from protocol.transcript import Transcript
from protocol.zk import mod, prm
from protocol.zk.common import Factorization

DOMAIN = "tssnet/cmp/aux/v1"


@dataclass(frozen=True, slots=True, repr=False)
class _Mine(Redacted):
    """This party's fresh trapdoor: the Paillier primes and the ring-Pedersen secret."""

    p: gmpy2.mpz
    q: gmpy2.mpz
    ring_pedersen: RingPedersenSecret


class AuxRefresh(Machine):
    """One holder's run of auxiliary-info generation, with a key refresh when ``refresh``.

    ``result`` is a ``CmpKey``: the (refreshed, when ``refresh``) key share with the
    new auxiliary information. ``prime_source`` (tests only) supplies the safe
    primes. ``previous_aux`` is the auxiliary information being replaced: a peer
    whose new modulus repeats one of it is refused.

    The context (see ``protocol.channel``) covers everything a round's checks read
    besides the messages: the key share's public data (public key and shares,
    chain code, rid, epoch), the previous moduli, the mode and the modulus size.
    Parties started with different ones abort without blaming anyone, instead of
    blaming each other or computing different results.
    """

    ROUNDS = 3

    def __init__(self, share: KeyShare, session_id: bytes, rng: Rng, *, refresh: bool,
                 level: SecurityLevel = DEFAULT_LEVEL, paillier_bits: int = 2048,
                 prime_source: PrimePool | None = None, previous_aux: AuxInfo | None = None) -> None:
        if not isinstance(share, KeyShare):
            raise UsageError("AuxRefresh needs a KeyShare")
        super().__init__(share.party, share.parties, share.group)
        if not isinstance(refresh, bool):
            raise UsageError("refresh must be a bool")
        if not isinstance(level, SecurityLevel):
            raise UsageError("level must be a SecurityLevel")
        if (not isinstance(paillier_bits, int) or paillier_bits % 2
                or not max(MIN_MODULUS_BITS, level.modulus_bits) <= paillier_bits <= MAX_MODULUS_BITS):
            raise UsageError(f"paillier_bits must be even, at least {level.modulus_bits} "
                             f"and at most {MAX_MODULUS_BITS}")
        if previous_aux is not None and (not isinstance(previous_aux, AuxInfo)
                                         or previous_aux.party != share.party
                                         or previous_aux.parties != share.parties):
            raise UsageError("previous_aux must be this party's auxiliary information for these parties")
        self.share = share
        self.threshold = share.threshold
        self.session_id = check_session_id(session_id)
        self.rng = rng
        self.refresh = refresh
        self.level = level
        self.paillier_bits = paillier_bits
        self.prime_source = prime_source
        self.previous_moduli = frozenset(int(a.n) for a in previous_aux.public) if previous_aux else frozenset()
        self.transcript = Transcript.for_session(DOMAIN, session_id, self.parties, level)
        self.transcript.append_all([
            ("mode", "refresh" if refresh else "aux"), ("group", share.group.name),
            ("threshold", share.threshold), ("key-id", share.key_id), ("epoch", share.epoch),
            ("public-key", share.public_key), ("public-shares", list(share.public_shares)),
            ("chain-code", share.chain_code), ("rid", share.rid), ("paillier-bits", paillier_bits),
            ("previous-moduli", sorted(self.previous_moduli))])
        # Parties started with different inputs abort without blame (see protocol.channel).
        self.context = self.transcript.copy().challenge_bytes("session-context", 32)
        # Filled as the rounds go: public data of every party (this one included).
        self.commitments: dict[int, bytes] = {}
        self.openings: dict[int, AuxDecommitment] = {}
        self.params: dict[int, RingPedersenParams] = {}
        self.shares_received: dict[int, Scalar] = {}
        self.rid = b""
        self.dealing: vss.Dealing | None = None
        self.mine: _Mine | None = None

    def _begin(self) -> Transition:
        rng, i = self.rng, self.party
        key = generate_paillier_key(rng, self.paillier_bits, prime_source=self.prime_source)
        if int(key.n) in self.previous_moduli:
            raise UsageError("the prime source repeated a modulus of the previous auxiliary information")
        secret = generate_ring_pedersen(key.p, key.q, rng)
        self.mine = _Mine(key.p, key.q, secret)
        params = secret.params
        prm_proof = prm.prove(prover_transcript(self.transcript, i, "prm"), prm.Public.from_params(params),
                              prm.Private.from_secret(secret), rng, self.level)
        mod_proof = mod.prove(prover_transcript(self.transcript, i, "mod"), mod.Public(key.n),
                              Factorization(key.p, key.q), rng, self.level)
        vector: tuple = ()
        nonces: tuple = ()
        if self.refresh:
            self.dealing = vss.Dealing(self.group, rng, self.threshold, zero_constant=True)
            vector, nonces = self.dealing.vector, self.dealing.nonce_commitments
        opening = AuxDecommitment(
            n=params.n, s=params.s, t=params.t, prm_proof=prm_proof, mod_proof=mod_proof,
            rid=rng.random_bytes(vss.RANDOM_SIZE), vector=vector, nonces=nonces,
            u=rng.random_bytes(vss.RANDOM_SIZE))
        self.openings[i] = opening
        self.params[i] = params
        v = vss.commitment_digest(self.transcript, i, wire.encode(opening, self.group))
        self.commitments[i] = v
        return Transition([Send(AuxCommitment(v))], next=AuxRound1(self))

    def aux_info(self) -> AuxInfo:
        """The new auxiliary information, once round 2 is over."""
        mine = self.mine
        publics = tuple(AuxPublic(self.openings[j].n, self.openings[j].s, self.openings[j].t)
                        for j in self.parties)
        return AuxInfo(SCHEMA, self.party, self.parties,
                       AuxSecret(mine.p, mine.q, mine.ring_pedersen.lam), publics)

    def __repr__(self) -> str:
        return (f"AuxRefresh(party={self.party}, parties={list(self.parties)}, "
                f"refresh={self.refresh}, round={self.round_number})")


__all__ = ["DOMAIN", "AuxRefresh"]
