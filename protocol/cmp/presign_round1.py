"""Presigning round 1 (CGGMP21, Fig. 7): K_i = enc_i(k_i), G_i = enc_i(γ_i), and Π^enc for K_i.

``begin`` samples k_i, γ_i, encrypts them under this party's own Paillier key and
broadcasts (K_i, G_i); each peer j gets a Π^enc proof that K_i encrypts a value in
±2^ℓ, made under j's ring-Pedersen parameters (so sent to j alone). ``Round1``
receives those messages and moves on to round 2.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import wire
from protocol.cmp import presign_round2
from protocol.cmp.presign_context import CIPHERTEXT, Context
from protocol.machine import Round, Send, Transition
from protocol.zk import enc

ENC = "enc-k"


@wire.message(0x0230)
@dataclass(frozen=True, slots=True)
class Round1Broadcast:
    K: int = wire.field(CIPHERTEXT)
    G: int = wire.field(CIPHERTEXT)


@wire.message(0x0231)
@dataclass(frozen=True, slots=True)
class Round1Direct:
    psi0: enc.Proof = wire.field(wire.Nested(enc.Proof))


def _statement(ctx: Context, prover: int, verifier: int, K: int) -> enc.Public:
    return enc.Public(ctx.group, ctx.paillier[prover], K, ctx.aux[verifier])


def begin(ctx: Context) -> Transition:
    group, rng, secret = ctx.group, ctx.rng, ctx.paillier_secret
    ctx.k = group.random_nonzero_scalar(rng)
    ctx.gamma = group.random_nonzero_scalar(rng)
    K, ctx.rho = secret.encrypt(ctx.k.value, rng)
    G, ctx.nu = secret.encrypt(ctx.gamma.value, rng)
    ctx.K[ctx.party], ctx.G[ctx.party] = K, G
    sends = [Send(Round1Broadcast(K, G))]
    witness = enc.Private(ctx.k.value, ctx.rho, secret)
    for j in ctx.others:
        proof = enc.prove(ctx.transcript_for(ENC, ctx.party), _statement(ctx, ctx.party, j, K),
                          witness, rng, ctx.level)
        sends.append(Send(Round1Direct(proof), j))
    return Transition(sends, next=Round1(ctx))


class Round1(Round):
    number = 1
    broadcast_type = Round1Broadcast
    direct_type = Round1Direct

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def verify(self, sender: int, recipient: int, broadcast: Round1Broadcast,
               direct: Round1Direct) -> None:
        ctx = self.ctx
        K = ctx.ciphertext(sender, broadcast.K)
        ctx.ciphertext(sender, broadcast.G)
        enc.verify(ctx.transcript_for(ENC, sender), _statement(ctx, sender, recipient, K),
                   direct.psi0, ctx.level, aux_secret=ctx.aux_secret_for(recipient))

    def store(self, sender: int, broadcast: Round1Broadcast, direct: Round1Direct) -> None:
        self.ctx.K[sender] = broadcast.K
        self.ctx.G[sender] = broadcast.G

    def finalize(self) -> Transition:
        return presign_round2.begin(self.ctx)
