"""Presigning round 2 (CGGMP21, Fig. 7): Γ_i = γ_i·G and the two MtA's with every peer.

For each peer j this party (i) turns j's K_j into

    D_{j,i} = γ_i ⊙ K_j ⊕ enc_j(β_{i,j}),   F_{j,i} = enc_i(β_{i,j})      (Π^aff-g, X = Γ_i)
    D̂_{j,i} = w_i ⊙ K_j ⊕ enc_j(β̂_{i,j}),  F̂_{j,i} = enc_i(β̂_{i,j})     (Π^aff-g, X = W_i)

with β, β̂ ← ±2^ℓ', and keeps −β, −β̂ as its own additive parts of k_j·γ_i and
k_j·w_i; j decrypts D and D̂ to the other parts. A Π^log* shows that Γ_i is the
plaintext of G_i (base G). Proofs are under j's ring-Pedersen parameters and go to
j alone; the ciphertexts for every peer are BROADCAST, so that the combined
ciphertexts the identification round speaks about are public (n ≤ 32, a few kB each).
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import wire
from protocol.cmp import presign_round3
from protocol.cmp.presign_context import (
    AFFG_GAMMA,
    AFFG_X,
    CIPHERTEXT,
    Context,
    mta_statement,
    require,
)
from protocol.cmp.shares import MAX_PARTIES
from protocol.group import Point, Scalar
from protocol.machine import Round, Send, Transition
from protocol.rng import rand_interval, rand_unit
from protocol.zk import affg, logstar

LOG_GAMMA = "log-gamma"


@wire.message(0x0232)
@dataclass(frozen=True, slots=True)
class MtaCiphertexts:
    """Sender i's MtA ciphertexts for one recipient j: D, D̂ under N_j; F, F̂ under N_i."""

    D: int = wire.field(CIPHERTEXT)
    F: int = wire.field(CIPHERTEXT)
    D_hat: int = wire.field(CIPHERTEXT)
    F_hat: int = wire.field(CIPHERTEXT)


@wire.message(0x0233)
@dataclass(frozen=True, slots=True)
class Round2Broadcast:
    """Γ_i, and the MtA ciphertexts for each other signer in increasing order."""

    Gamma: Point = wire.field(wire.PointField())
    mta: tuple[MtaCiphertexts, ...] = wire.field(
        wire.Seq(wire.Nested(MtaCiphertexts), min_len=1, max_len=MAX_PARTIES - 1))


@wire.message(0x0234)
@dataclass(frozen=True, slots=True)
class Round2Direct:
    psi: affg.Proof = wire.field(wire.Nested(affg.Proof))
    psi_hat: affg.Proof = wire.field(wire.Nested(affg.Proof))
    psi_prime: logstar.Proof = wire.field(wire.Nested(logstar.Proof))


def _log_statement(ctx: Context, prover: int, verifier: int, Gamma: Point) -> logstar.Public:
    return logstar.Public(ctx.group, ctx.group.generator, ctx.paillier[prover], ctx.G[prover],
                          Gamma, ctx.aux[verifier])


def _mta(ctx: Context, j: int, x: Scalar, X: Point, label: str):
    """One MtA towards j for this party's x: (D, F, witness, proof); the witness stays for re-proofs."""
    rng, own = ctx.rng, ctx.paillier_secret
    key_j = ctx.paillier[j]
    beta = rand_interval(rng, ctx.level.ell_prime)
    s, r = rand_unit(rng, key_j.n), rand_unit(rng, own.n)
    D = key_j.add(key_j.mul(ctx.K[j], x.value), key_j.encrypt_with_nonce(beta, s))
    F = own.encrypt_with_nonce(beta, r)
    witness = affg.Private(x.value, beta, s, r, own)
    proof = affg.prove(ctx.transcript_for(label, ctx.party), mta_statement(ctx, ctx.party, j, j, D, F, X),
                       witness, rng, ctx.level)
    return D, F, witness, proof


def begin(ctx: Context) -> Transition:
    party, group = ctx.party, ctx.group
    Gamma_i = group.base_mul(ctx.gamma)
    ctx.Gammas[party] = Gamma_i
    W_i = ctx.W[party]
    entries, directs = [], []
    log_witness = logstar.Private(ctx.gamma.value, ctx.nu, ctx.paillier_secret)
    for j in ctx.others:
        D, F, witness, psi = _mta(ctx, j, ctx.gamma, Gamma_i, AFFG_GAMMA)
        D_hat, F_hat, witness_hat, psi_hat = _mta(ctx, j, ctx.w, W_i, AFFG_X)
        ctx.beta[j], ctx.beta_hat[j] = witness.y, witness_hat.y
        ctx.mta_witness[j] = (witness, witness_hat)
        psi_prime = logstar.prove(ctx.transcript_for(LOG_GAMMA, party),
                                  _log_statement(ctx, party, j, Gamma_i), log_witness, ctx.rng, ctx.level)
        entries.append(MtaCiphertexts(D, F, D_hat, F_hat))
        directs.append(Send(Round2Direct(psi, psi_hat, psi_prime), j))
    ctx.mta[party] = dict(zip(ctx.others, entries, strict=True))
    return Transition([Send(Round2Broadcast(Gamma_i, tuple(entries))), *directs], next=Round2(ctx))


class Round2(Round):
    number = 2
    broadcast_type = Round2Broadcast
    direct_type = Round2Direct

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def verify(self, sender: int, recipient: int, broadcast: Round2Broadcast,
               direct: Round2Direct) -> None:
        ctx = self.ctx
        others = ctx.others_of(sender)
        require(len(broadcast.mta) == len(others), "one set of MtA ciphertexts per other signer")
        # Every entry is public and used by the identification round, so all are checked here.
        for j, entry in zip(others, broadcast.mta, strict=True):
            ctx.ciphertext(j, entry.D)
            ctx.ciphertext(j, entry.D_hat)
            ctx.ciphertext(sender, entry.F)
            ctx.ciphertext(sender, entry.F_hat)
        mine = broadcast.mta[others.index(recipient)]
        aux_secret, key0 = ctx.aux_secret_for(recipient), ctx.paillier_secret_for(recipient)
        for label, D, F, X, proof in ((AFFG_GAMMA, mine.D, mine.F, broadcast.Gamma, direct.psi),
                                      (AFFG_X, mine.D_hat, mine.F_hat, ctx.W[sender], direct.psi_hat)):
            affg.verify(ctx.transcript_for(label, sender),
                        mta_statement(ctx, sender, recipient, recipient, D, F, X), proof, ctx.level,
                        aux_secret=aux_secret, key0=key0)
        logstar.verify(ctx.transcript_for(LOG_GAMMA, sender),
                       _log_statement(ctx, sender, recipient, broadcast.Gamma), direct.psi_prime,
                       ctx.level, aux_secret=aux_secret)

    def store(self, sender: int, broadcast: Round2Broadcast, direct: Round2Direct) -> None:
        ctx = self.ctx
        ctx.Gammas[sender] = broadcast.Gamma
        ctx.mta[sender] = dict(zip(ctx.others_of(sender), broadcast.mta, strict=True))
        mine = ctx.mta[sender][ctx.party]
        ctx.alpha[sender] = ctx.paillier_secret.decrypt_signed(mine.D)
        ctx.alpha_hat[sender] = ctx.paillier_secret.decrypt_signed(mine.D_hat)

    def finalize(self) -> Transition:
        return presign_round3.begin(self.ctx)
