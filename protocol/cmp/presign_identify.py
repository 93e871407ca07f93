"""Presigning round 4, only after an aggregate check failed: identify who lied.

Every party i proves, to every peer p, that its round-3 values are what its
ciphertexts say (CGGMP21's identification, with Π^aff-g in the role of Π^mul*):

    H_i = γ_i ⊙ K_i ⊕ enc_i(0)    Π^aff-g with X = Γ_i and Y = 1 (the encryption of 0 anyone can see)
    Ĥ_i = w_i ⊙ K_i ⊕ enc_i(0)    Π^aff-g with X = W_i and Y = 1
    C_i = H_i · Π_j D_{i,j} · F_{j,i}^-1      encrypts an integer ≡ δ_i (mod q)        (Π^dec, g = G)
    Ĉ_i = Ĥ_i · Π_j D̂_{i,j} · F̂_{j,i}^-1     encrypts an integer y with y·Γ = S_i     (Π^dec, g = Γ)

and it proves its round-2 MtA's towards every other l once more, to p (the round-2
proof for l was checked by l alone, and two colluding parties could have let
inconsistent ciphertexts through). All of D, F, D̂, F̂ were broadcast in round 2, so
anyone computes C_i and Ĉ_i and re-checks every proof; a failure is blamed on its
sender by every honest party through the usual accusation.

Why a cheater always fails here: the proofs fix every plaintext as a small
integer (no wrap-around mod N), so the centred plaintexts of the C_i add up to k·γ
and those of the Ĉ_i to k·x modulo q. If every party passed at one honest
verifier, δ·G = Σ Δ_j and δ·X = Σ S_j would both hold, contradicting the failure
that started this round. (So a party that finds every other party's proofs valid
finds its own state at fault: its state disagrees with its ciphertexts.) An honest
party passes whatever the others did, unless a peer padded its MtA masks far beyond
what any honest party sends (past 2^1660, which takes about 2^117 hash evaluations
of grinding against Π^aff-g), so that this party's own combined plaintext is too
large for Π^dec to hide.

Local findings blame no one. Those two cases (this party's own values do not check
out; its own plaintext is beyond Π^dec's bound) are seen by this party alone and
no other party could re-check them: a blame would be judged false by every honest
party, or worse, name an honest one. The party aborts with ``culprits=()`` and a
check string saying what it found; a party whose own proofs fail is still blamed
by the others, who check every sender's proofs themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import gmpy2

from protocol import wire
from protocol.arith import inverse
from protocol.cmp.presign_context import (
    AFFG_GAMMA,
    AFFG_X,
    CIPHERTEXT,
    Context,
    mta_statement,
    require,
)
from protocol.cmp.shares import MAX_PARTIES
from protocol.errors import PeerMisbehaved
from protocol.group import Point
from protocol.machine import Round, Send, Transition
from protocol.zk import affg, dec

AFFG_H = "identify-affg-gamma"
AFFG_H_HAT = "identify-affg-x"
DEC_DELTA = "identify-dec-delta"
DEC_CHI = "identify-dec-chi"
#: (1 + N)^0 · 1^N = 1: the encryption of 0 with nonce 1 under any key, which anyone can check
ENCRYPTED_ZERO = gmpy2.mpz(1)


@wire.message(0x0237)
@dataclass(frozen=True, slots=True)
class IdentifyBroadcast:
    """H_i and Ĥ_i, under this party's own key."""

    H: int = wire.field(CIPHERTEXT)
    H_hat: int = wire.field(CIPHERTEXT)


@wire.message(0x0238)
@dataclass(frozen=True, slots=True)
class MtaReproof:
    """This party's round-2 MtA proofs for one other signer, made again for the recipient."""

    psi: affg.Proof = wire.field(wire.Nested(affg.Proof))
    psi_hat: affg.Proof = wire.field(wire.Nested(affg.Proof))


@wire.message(0x0239)
@dataclass(frozen=True, slots=True)
class IdentifyDirect:
    psi: affg.Proof = wire.field(wire.Nested(affg.Proof))
    psi_hat: affg.Proof = wire.field(wire.Nested(affg.Proof))
    dec_delta: dec.Proof = wire.field(wire.Nested(dec.Proof))
    dec_chi: dec.Proof = wire.field(wire.Nested(dec.Proof))
    #: for each signer other than the sender and the recipient, in increasing order
    mta: tuple[MtaReproof, ...] = wire.field(wire.Seq(wire.Nested(MtaReproof), max_len=MAX_PARTIES - 2))


def combined(ctx: Context, i: int, H: int, hat: bool) -> gmpy2.mpz:
    """C_i (or Ĉ_i with ``hat``): H · Π_j D_{i,j} · F_{j,i}^-1 mod N_i²."""
    n2 = ctx.paillier[i].n2
    acc = gmpy2.mpz(H)
    for j in ctx.others_of(i):
        to_i, from_i = ctx.mta[j][i], ctx.mta[i][j]
        D, F = (to_i.D_hat, from_i.F_hat) if hat else (to_i.D, from_i.F)
        acc = acc * D % n2 * inverse(F, n2) % n2
    return acc


def _product_statement(ctx: Context, prover: int, verifier: int, H: int, X: Point) -> affg.Public:
    key = ctx.paillier[prover]
    return affg.Public(ctx.group, key, key, ctx.K[prover], H, ENCRYPTED_ZERO, X, ctx.aux[verifier])


def _dec_statements(ctx: Context, prover: int, verifier: int, C: int, C_hat: int):
    group, key = ctx.group, ctx.paillier[prover]
    bits = dec.max_bits(key, ctx.level)   # the largest plaintext Π^dec hides under N_prover
    delta_point = group.base_mul(ctx.delta_shares[prover])
    return (dec.Public(group, group.generator, key, C, delta_point, ctx.aux[verifier], bits),
            dec.Public(group, ctx.Gamma, key, C_hat, ctx.S[prover], ctx.aux[verifier], bits))


def _reproved(ctx: Context, prover: int, verifier: int) -> tuple[int, ...]:
    """The signers whose MtA with ``prover`` is proven again to ``verifier``."""
    return tuple(j for j in ctx.others_of(prover) if j != verifier)


def _mta_checks(ctx: Context, prover: int, verifier: int, j: int):
    """(transcript, statement) of the γ and the x MtA of ``prover`` towards ``j``, for ``verifier``."""
    entry = ctx.mta[prover][j]
    return tuple((ctx.transcript_for(f"identify-{label}-{j}", prover),
                  mta_statement(ctx, prover, j, verifier, D, F, X))
                 for label, D, F, X in ((AFFG_GAMMA, entry.D, entry.F, ctx.Gammas[prover]),
                                        (AFFG_X, entry.D_hat, entry.F_hat, ctx.W[prover])))


def _opening(ctx: Context, C: gmpy2.mpz) -> tuple[gmpy2.mpz, gmpy2.mpz]:
    """(y, ρ) with C = enc(y; ρ) and y centred, from this party's own secret key."""
    secret = ctx.paillier_secret
    return secret.decrypt_signed(C), secret.crt.nth_root_mod_n(C % secret.n)


OWN_RANGE = ("identification: this party's own combined MtA plaintext is beyond what Π^dec "
             "can hide (a peer padded its MtA mask?); a local finding, no one is blamed")
OWN_FAULT = ("identification: every other party's values check out, so this party's own round-3 "
             "values are inconsistent with its ciphertexts; a local finding, no one is blamed")


def _check_own_range(y: int, bits: int) -> None:
    """Abort without blame when this party cannot prove its own decryption (see the docstring)."""
    if abs(y) > gmpy2.mpz(1) << bits:
        raise PeerMisbehaved((), OWN_RANGE)


def begin(ctx: Context) -> Transition:
    party, rng, secret, level = ctx.party, ctx.rng, ctx.paillier_secret, ctx.level
    products = []
    for multiplier in (ctx.gamma, ctx.w):
        rho = secret.encrypt(0, rng)[1]
        H = secret.public.mul(ctx.K[party], multiplier.value) * secret.crt.pow_n_mod_n2(rho) % secret.public.n2
        products.append((H, affg.Private(multiplier.value, 0, rho, ENCRYPTED_ZERO, secret)))
    (H, _), (H_hat, _) = products
    C, C_hat = combined(ctx, party, H, hat=False), combined(ctx, party, H_hat, hat=True)
    openings = (_opening(ctx, C), _opening(ctx, C_hat))
    for y, _ in openings:
        _check_own_range(y, dec.max_bits(secret.public, level))
    sends = [Send(IdentifyBroadcast(H, H_hat))]
    points = (ctx.Gammas[party], ctx.W[party])
    for p in ctx.others:
        products_proofs = [
            affg.prove(ctx.transcript_for(label, party), _product_statement(ctx, party, p, Hc, X),
                       witness, rng, level)
            for label, (Hc, witness), X in zip((AFFG_H, AFFG_H_HAT), products, points, strict=True)]
        dec_proofs = [
            dec.prove(ctx.transcript_for(label, party), pub, dec.Private(y, rho, secret), rng, level)
            for label, pub, (y, rho) in zip((DEC_DELTA, DEC_CHI), _dec_statements(ctx, party, p, C, C_hat),
                                            openings, strict=True)]
        reproofs = tuple(
            MtaReproof(*(affg.prove(t, pub, witness, rng, level)
                         for (t, pub), witness in zip(_mta_checks(ctx, party, p, j), ctx.mta_witness[j],
                                                      strict=True)))
            for j in _reproved(ctx, party, p))
        sends.append(Send(IdentifyDirect(*products_proofs, *dec_proofs, reproofs), p))
    return Transition(sends, next=IdentifyRound(ctx))


class IdentifyRound(Round):
    number = 4
    broadcast_type = IdentifyBroadcast
    direct_type = IdentifyDirect

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def verify(self, sender: int, recipient: int, broadcast: IdentifyBroadcast,
               direct: IdentifyDirect) -> None:
        ctx, level = self.ctx, self.ctx.level
        H, H_hat = ctx.ciphertext(sender, broadcast.H), ctx.ciphertext(sender, broadcast.H_hat)
        aux_secret = ctx.aux_secret_for(recipient)
        reproved = _reproved(ctx, sender, recipient)
        require(len(direct.mta) == len(reproved), "one MtA re-proof per other signer")
        for j, reproof in zip(reproved, direct.mta, strict=True):
            for (t, pub), proof in zip(_mta_checks(ctx, sender, recipient, j),
                                       (reproof.psi, reproof.psi_hat), strict=True):
                affg.verify(t, pub, proof, level, aux_secret=aux_secret)
        for label, Hc, X, proof in ((AFFG_H, H, ctx.Gammas[sender], direct.psi),
                                    (AFFG_H_HAT, H_hat, ctx.W[sender], direct.psi_hat)):
            affg.verify(ctx.transcript_for(label, sender), _product_statement(ctx, sender, recipient, Hc, X),
                        proof, level, aux_secret=aux_secret)
        C, C_hat = combined(ctx, sender, H, hat=False), combined(ctx, sender, H_hat, hat=True)
        for label, pub, proof in zip((DEC_DELTA, DEC_CHI), _dec_statements(ctx, sender, recipient, C, C_hat),
                                     (direct.dec_delta, direct.dec_chi), strict=True):
            dec.verify(ctx.transcript_for(label, sender), pub, proof, level, aux_secret=aux_secret)

    def finalize(self) -> Transition:
        # Every other party proved its values right, yet an aggregate check failed: by
        # the argument in the module docstring the inconsistent values are this party's
        # own (a corrupted state, or code that lied). That is for its operator to see,
        # not a blame: the others reach their verdict from its failing proofs.
        raise PeerMisbehaved((), OWN_FAULT)
