"""Presigning round 3 (CGGMP21, Fig. 7): δ_i, Δ_i = k_i·Γ, S_i = χ_i·Γ, and the output.

With Γ = Σ Γ_j, this party computes

    δ_i = k_i·γ_i + Σ_j (α_{i,j} − β_{i,j})     (its additive share of k·γ)
    χ_i = k_i·w_i + Σ_j (α̂_{i,j} − β̂_{i,j})    (its additive share of k·x)

and broadcasts δ_i, Δ_i = k_i·Γ and S_i = χ_i·Γ, with a Π^log* per peer that Δ_i
is k_i (the plaintext of K_i) times Γ. S_i is this implementation's addition: it
lets every signature share be checked on its own (σ_j·Γ = m·Δ_j + r·S_j). Once
everyone is in, two aggregate checks decide:

    δ·G = Σ Δ_j   and   δ·X = Σ S_j.

Both hold for honest parties; then R = δ^-1·Γ and the presignature is final, and a
signature whose shares each pass the check above is valid. If either fails, every
honest party sees the same failure (all inputs are broadcast) and the session goes
on to the identification round, which names whoever lied.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import wire
from protocol.cmp import presign_identify
from protocol.cmp.presign_context import Context
from protocol.errors import Bug
from protocol.group import Point, Scalar
from protocol.machine import Round, Send, Transition
from protocol.zk import logstar

LOG_DELTA = "log-delta"


@wire.message(0x0235)
@dataclass(frozen=True, slots=True)
class Round3Broadcast:
    delta: Scalar = wire.field(wire.ScalarField())
    Delta: Point = wire.field(wire.PointField(allow_identity=True))
    S: Point = wire.field(wire.PointField(allow_identity=True))


@wire.message(0x0236)
@dataclass(frozen=True, slots=True)
class Round3Direct:
    psi: logstar.Proof = wire.field(wire.Nested(logstar.Proof))


def _statement(ctx: Context, prover: int, verifier: int, Delta: Point) -> logstar.Public:
    return logstar.Public(ctx.group, ctx.Gamma, ctx.paillier[prover], ctx.K[prover], Delta,
                          ctx.aux[verifier])


def _share(ctx: Context, own: Scalar, alpha: dict, beta: dict) -> Scalar:
    """k_i·own + Σ_j (α_{i,j} − β_{i,j}) mod q."""
    return ctx.k * own + ctx.group.scalar(sum(alpha[j] - beta[j] for j in ctx.others))


def begin(ctx: Context) -> Transition:
    party, group = ctx.party, ctx.group
    ctx.Gamma = group.sum_points(ctx.Gammas[j] for j in ctx.signers)
    delta_i = _share(ctx, ctx.gamma, ctx.alpha, ctx.beta)
    ctx.chi = _share(ctx, ctx.w, ctx.alpha_hat, ctx.beta_hat)
    Delta_i, S_i = ctx.k * ctx.Gamma, ctx.chi * ctx.Gamma
    ctx.delta_shares[party], ctx.Deltas[party], ctx.S[party] = delta_i, Delta_i, S_i
    witness = logstar.Private(ctx.k.value, ctx.rho, ctx.paillier_secret)
    sends = [Send(Round3Broadcast(delta_i, Delta_i, S_i))]
    for j in ctx.others:
        proof = logstar.prove(ctx.transcript_for(LOG_DELTA, party), _statement(ctx, party, j, Delta_i),
                              witness, ctx.rng, ctx.level)
        sends.append(Send(Round3Direct(proof), j))
    return Transition(sends, next=Round3(ctx))


class Round3(Round):
    number = 3
    broadcast_type = Round3Broadcast
    direct_type = Round3Direct

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def verify(self, sender: int, recipient: int, broadcast: Round3Broadcast,
               direct: Round3Direct) -> None:
        ctx = self.ctx
        logstar.verify(ctx.transcript_for(LOG_DELTA, sender),
                       _statement(ctx, sender, recipient, broadcast.Delta), direct.psi, ctx.level,
                       aux_secret=ctx.aux_secret_for(recipient))

    def store(self, sender: int, broadcast: Round3Broadcast, direct: Round3Direct) -> None:
        ctx = self.ctx
        ctx.delta_shares[sender] = broadcast.delta
        ctx.Deltas[sender] = broadcast.Delta
        ctx.S[sender] = broadcast.S

    def finalize(self) -> Transition:
        ctx = self.ctx
        group = ctx.group
        delta = sum((ctx.delta_shares[j] for j in ctx.signers), group.scalar(0))
        consistent = (group.base_mul(delta) == group.sum_points(ctx.Deltas.values())
                      and delta * ctx.key.share.public_key == group.sum_points(ctx.S.values()))
        if not consistent:
            return presign_identify.begin(ctx)
        if delta.is_zero():
            # δ = k·γ with both checks passing: only when k or γ is 0, probability 2^-256.
            raise Bug("presigning produced δ = 0")
        return ctx.finish(ctx.presignature(delta, delta.inverse() * ctx.Gamma))
