"""A malicious signer in presigning or signing is blamed by every honest signer.

Party 2 of a 3-of-3 signing set (t = 2, so two honest parties judge) runs honest
code whose outgoing messages a ``corrupt`` hook rewrites before its channel signs
them, or whose frames the ``network`` hook replaces. A direct message only its
recipient can check reaches the others through the channel's accusation, which
they judge by re-running the round's checks on public data.
"""

import dataclasses

import pytest

from protocol import wire
from protocol.cmp import presign_identify
from protocol.cmp.presign import Presign
from protocol.cmp.presign_round1 import ENC, Round1Broadcast, Round1Direct
from protocol.cmp.presign_round2 import Round2Broadcast, Round2Direct
from protocol.cmp.presign_round3 import Round3Broadcast, Round3Direct
from protocol.cmp.sign import SignShare
from protocol.errors import InvalidProof
from protocol.frames import ENVELOPES, Frame
from protocol.machine import Outgoing
from protocol.zk import affg, enc
from tests.protocol import simulator
from tests.protocol.cmp.sign_helpers import (
    GROUP,
    bump,
    in_proof,
    keys_for,
    material,
    presignatures,
    rewrite,
    rng,
    run_full_sign,
    run_presign,
    run_sign,
)

KEYS = keys_for(3, 2)
SIGNERS = (1, 2, 3)
BAD = 2


def _blamed(corrupt, check: str, *, culprit: int = BAD, sid: bytes = b"malicious") -> simulator.Network:
    net = run_presign(KEYS, SIGNERS, sid=sid, corrupt={culprit: corrupt})
    simulator.assert_all_blame(net, culprit, check)
    return net


@pytest.mark.parametrize(("cls", "proof", "check"), [
    (Round1Direct, "psi0", "enc:"),
    (Round2Direct, "psi", "affg:"),
    (Round2Direct, "psi_hat", "affg:"),
    (Round2Direct, "psi_prime", "logstar:"),
    (Round3Direct, "psi", "logstar:"),
], ids=["enc", "affg-gamma", "affg-x", "logstar-gamma", "logstar-delta"])
def test_a_tampered_proof_to_one_party_is_blamed_by_all(cls, proof, check):
    _blamed(rewrite(cls, in_proof(proof, bump("z1")), recipient=3), check)


def test_a_wrong_mta_ciphertext_is_blamed_by_all():
    def wrong_d_for_party_3(msg: Round2Broadcast) -> Round2Broadcast:
        n = KEYS[3].aux.public_for(3).n
        entries = list(msg.mta)
        entries[1] = dataclasses.replace(entries[1], D=entries[1].D * (1 + n) % (n * n))  # enc(+1)
        return dataclasses.replace(msg, mta=tuple(entries))
    _blamed(rewrite(Round2Broadcast, wrong_d_for_party_3), "affg:")


def test_a_proof_answer_out_of_range_is_blamed_by_name():
    ell_eps = 256 + 512
    _blamed(rewrite(Round1Direct, in_proof("psi0", lambda p: dataclasses.replace(p, z1=2**ell_eps + 1)),
                    recipient=1), f"z1 outside ±2^{ell_eps}")


def test_a_k_out_of_range_fails_the_range_proof():
    """Party 2 encrypts k = 2^(ℓ+ε) and proves it with the cheating prover: the range check catches it."""
    machines = {p: Presign(KEYS[p], SIGNERS, b"big-k", rng("big-k", p), material=material(KEYS[p]))
                for p in SIGNERS}
    ctx = machines[BAD]._ctx
    secret = ctx.paillier_secret
    big = 2 ** (256 + 512)
    K, rho = secret.encrypt(big, rng("big-k", 99))

    def lie(o: Outgoing) -> list[Outgoing]:
        if o.round != 1:
            return [o]
        if o.recipient is None:
            msg = wire.decode(o.body, Round1Broadcast)
            return [Outgoing(1, None, wire.encode(dataclasses.replace(msg, K=K)))]
        pub = enc.Public(GROUP, secret.public, K, ctx.aux[o.recipient])
        proof = enc._prove(ctx.transcript_for(ENC, BAD), pub, enc.Private(big, rho, secret),
                           rng("big-k", 98), ctx.level)
        return [Outgoing(1, o.recipient, wire.encode(Round1Direct(proof)))]
    net = simulator.run(machines, corrupt={BAD: lie})
    simulator.assert_all_blame(net, BAD, "z1 outside")


def test_a_malformed_direct_message_is_blamed_by_all():
    def garble(o: Outgoing) -> list[Outgoing]:
        return [Outgoing(o.round, o.recipient, b"\x93\x01\x02")] if o.recipient == 1 else [o]
    _blamed(garble, "")


def test_a_ciphertext_that_is_not_a_unit_is_blamed_by_all():
    n = KEYS[BAD].aux.public_for(BAD).n
    _blamed(rewrite(Round1Broadcast, lambda m: dataclasses.replace(m, K=n)), "not a unit")


def test_different_broadcasts_to_different_parties_are_blamed_on_the_sender():
    network = simulator.Network({}, simulator.signers(SIGNERS), simulator.SESSION)

    def equivocate(sender, recipient, body):
        frame = wire.decode_one_of(body, ENVELOPES)
        if sender == BAD and recipient == 1 and isinstance(frame, Frame) and frame.recipient == 0 \
                and frame.round == 1:
            msg = wire.decode(frame.body, Round1Broadcast)
            other = wire.encode(dataclasses.replace(msg, G=msg.K))
            return [network.resign(BAD, body, other)]
        return [body]
    net = run_presign(KEYS, SIGNERS, sid=b"equivocate", network=equivocate)
    simulator.assert_all_blame(net, BAD, "different broadcasts")


def test_a_message_replayed_from_another_session_is_blamed():
    """Party 2's Π^enc for party 1 from presign session A, signed again into session B."""
    earlier = Presign(KEYS[BAD], SIGNERS, b"session-A", rng("A", BAD), material=material(KEYS[BAD]))
    old_body = next(o.body for o in earlier.start() if o.recipient == 1)
    holder = simulator.Network({}, simulator.signers(SIGNERS), simulator.SESSION)

    def replay(sender, recipient, body):
        frame = wire.decode_one_of(body, ENVELOPES)
        if sender == BAD and recipient == 1 and isinstance(frame, Frame) and frame.recipient == 1:
            return [holder.resign(BAD, body, old_body)]
        return [body]
    net = run_presign(KEYS, SIGNERS, sid=b"session-B", network=replay)
    simulator.assert_all_blame(net, BAD, "enc:")


# -- identification: a lie only the aggregate checks see ----------------------------------


@pytest.mark.parametrize(("field", "state", "amount", "culprit", "keys", "signers"), [
    ("delta", "delta_shares", 1, 2, KEYS, SIGNERS),
    ("S", "S", GROUP.generator, 3, keys_for(3, 1), (1, 3)),
], ids=["wrong-delta", "wrong-S"])
def test_a_wrong_round3_value_is_identified_and_blamed_by_all(field, state, amount, culprit, keys,
                                                              signers):
    """The liar stands by its lie (its own state says what it sent) and takes part in round 4.

    (A liar that goes silent instead is a timeout, which the node's session layer handles.)
    """
    sid = b"identify-" + field.encode()
    machines = {p: Presign(keys[p], signers, sid, rng(sid.hex(), p), material=material(keys[p]))
                for p in signers}
    ctx = machines[culprit]._ctx

    def lie(msg: Round3Broadcast) -> Round3Broadcast:
        lied = bump(field, amount)(msg)
        getattr(ctx, state)[culprit] = getattr(lied, field)
        return lied
    net = simulator.run(machines, corrupt={culprit: rewrite(Round3Broadcast, lie)})
    simulator.assert_all_blame(net, culprit, "dec: z1·g = Y + e·X")
    assert all(ch.blame.round == 4 for p, ch in net.channels.items() if p != culprit)


def test_an_inconsistent_mta_between_colluders_is_identified():
    """Party 2 shifts the plaintext of its D for party 3, and party 3, colluding, does not check.

    Only party 3 verified that MtA in round 2, so only the identification round's
    re-proofs (to every party) can expose it: honest party 1 must name party 2.
    """
    sid = b"colluders"
    machines = {p: Presign(KEYS[p], SIGNERS, sid, rng(sid.hex(), p), material=material(KEYS[p]))
                for p in SIGNERS}
    n3 = KEYS[3].aux.public_for(3).n

    def shift_d_for_3(msg: Round2Broadcast) -> Round2Broadcast:
        entries = list(msg.mta)
        entries[1] = dataclasses.replace(entries[1], D=entries[1].D * (1 + n3) % (n3 * n3))
        return dataclasses.replace(msg, mta=tuple(entries))

    def look_away(o: Outgoing) -> list[Outgoing]:
        if o.round == 2:   # party 3 is now in round 2: it accepts whatever party 2 sends
            machines[3]._round.verify = lambda *args: None
        return [o]
    net = simulator.run(machines, corrupt={2: rewrite(Round2Broadcast, shift_d_for_3), 3: look_away})
    blame = net.channels[1].blame
    assert blame is not None and blame.culprits == (2,) and blame.round == 4, blame
    assert "affg:" in blame.check


def test_the_identification_product_cannot_hide_an_offset():
    """H = γ ⊙ K ⊕ enc(1), proven with Y = enc(1), fails: the statement pins Y to 1 (an encryption of 0)."""
    machine = Presign(KEYS[BAD], SIGNERS, b"offset", rng("offset", BAD), material=material(KEYS[BAD]))
    machine.start()
    ctx = machine._ctx
    secret, K, gamma = ctx.paillier_secret, ctx.K[BAD], ctx.gamma.value
    Gamma = GROUP.base_mul(gamma)
    enc_one, rho = secret.encrypt(1, rng("offset", 1))
    Y, rho_y = secret.encrypt(1, rng("offset", 2))
    H = secret.public.add(secret.public.mul(K, gamma), enc_one)
    own = affg.Public(GROUP, secret.public, secret.public, K, H, Y, Gamma, ctx.aux[1])
    proof = affg.prove(ctx.transcript_for(presign_identify.AFFG_H, BAD), own,
                       affg.Private(gamma, 1, rho, rho_y, secret), rng("offset", 3))
    affg.verify(ctx.transcript_for(presign_identify.AFFG_H, BAD), own, proof)   # true for its own Y
    pinned = presign_identify._product_statement(ctx, BAD, 1, H, Gamma)
    with pytest.raises(InvalidProof):
        affg.verify(ctx.transcript_for(presign_identify.AFFG_H, BAD), pinned, proof)


# -- signing -------------------------------------------------------------------------------


def test_a_wrong_signature_share_is_blamed_by_all():
    presigs = presignatures(KEYS, SIGNERS, sid=b"bad-sigma")
    net = run_sign(KEYS, presigs, b"message", corrupt={BAD: rewrite(SignShare, bump("sigma"))})
    simulator.assert_all_blame(net, BAD, "σ_j·Γ")


def test_a_wrong_signature_share_in_full_sign_is_blamed_by_all():
    net = run_full_sign(keys_for(3, 1), (1, 3), bytes(32),
                        corrupt={3: rewrite(SignShare, bump("sigma", 5))})
    # With two signers the only honest one blames; the check is the same.
    assert net.channels[1].blame.culprits == (3,) and "σ_j·Γ" in net.channels[1].blame.check
