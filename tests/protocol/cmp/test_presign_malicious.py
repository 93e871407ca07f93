"""A malicious signer in presigning or signing is blamed by every honest signer.

Party 2 of a 3-of-3 signing set (t = 2, so two honest parties judge) runs honest
code whose outgoing messages a ``corrupt`` hook rewrites before its channel signs
them, or whose frames the ``network`` hook replaces. A direct message only its
recipient can check reaches the others through the channel's accusation, which
they judge by re-running the round's checks on public data. Whatever the abort, an
honest party's machine keeps none of its session secrets afterwards.
"""

import dataclasses

import pytest

from protocol import wire
from protocol.cmp import presign_identify
from protocol.cmp.presign import Presign
from protocol.cmp.presign_identify import IdentifyDirect
from protocol.cmp.presign_round1 import ENC, Round1Broadcast, Round1Direct
from protocol.cmp.presign_round2 import Round2Broadcast, Round2Direct
from protocol.cmp.presign_round3 import Round3, Round3Broadcast, Round3Direct
from protocol.cmp.sign import SignShare
from protocol.errors import InvalidProof
from protocol.frames import ENVELOPES, Accusation, Frame
from protocol.machine import Outgoing
from protocol.params import DEFAULT_LEVEL
from protocol.zk import affg, dec, enc
from tests.protocol import simulator
from tests.protocol.cmp.sign_helpers import (
    GROUP,
    SecretLog,
    bump,
    full_sign_machines,
    in_proof,
    keys_for,
    material,
    presign_machines,
    presignatures,
    rewrite,
    rng,
    run_sign,
)

KEYS = keys_for(3, 2)
SIGNERS = (1, 2, 3)
BAD = 2


def _blamed(corrupt, check: str, *, culprit: int = BAD, sid: bytes = b"malicious",
            network=None) -> simulator.Network:
    """Presign with ``culprit``'s messages rewritten: every other party blames it with ``check``
    and, aborted, keeps none of the session secrets it held."""
    machines = presign_machines(KEYS, SIGNERS, sid)
    log = SecretLog(machines, [p for p in SIGNERS if p != culprit])
    net = simulator.run(machines, corrupt=log.hooks({culprit: corrupt}), network=network)
    simulator.assert_all_blame(net, culprit, check)
    for p in log.held:
        assert not log.leftovers(net, p), f"party {p} kept a session secret after the abort"
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
    _blamed(garble, "not a msgpack message")


def test_a_direct_message_of_another_type_is_blamed_by_all():
    """Party 2 sends party 1 its round-1 broadcast where the Π^enc proof belongs."""
    def swap(o: Outgoing) -> list[Outgoing]:
        if o.round == 1 and o.recipient == 1:
            return [Outgoing(1, 1, wire.encode(Round1Broadcast(1, 1)))]
        return [o]
    _blamed(swap, "type")


def test_a_ciphertext_that_is_not_a_unit_is_blamed_by_all():
    n = KEYS[BAD].aux.public_for(BAD).n
    _blamed(rewrite(Round1Broadcast, lambda m: dataclasses.replace(m, K=n)), "not a unit")


def test_different_broadcasts_to_different_parties_are_blamed_on_the_sender():
    def equivocate(sender, recipient, body):
        frame = wire.decode_one_of(body, ENVELOPES)
        if sender == BAD and recipient == 1 and isinstance(frame, Frame) and frame.recipient == 0 \
                and frame.round == 1:
            msg = wire.decode(frame.body, Round1Broadcast)
            other = wire.encode(dataclasses.replace(msg, G=msg.K))
            return [simulator.resign(BAD, body, other)]
        return [body]
    _blamed(lambda o: [o], "different broadcasts", sid=b"equivocate", network=equivocate)


def test_a_message_replayed_from_another_session_is_blamed():
    """Party 2's Π^enc for party 1 from presign session A, signed again into session B."""
    earlier = Presign(KEYS[BAD], SIGNERS, b"session-A", rng("A", BAD), material=material(KEYS[BAD]))
    old_body = next(o.body for o in earlier.start() if o.recipient == 1)

    def replay(sender, recipient, body):
        frame = wire.decode_one_of(body, ENVELOPES)
        if sender == BAD and recipient == 1 and isinstance(frame, Frame) and frame.recipient == 1:
            return [simulator.resign(BAD, body, old_body)]
        return [body]
    _blamed(lambda o: [o], "enc:", sid=b"session-B", network=replay)


# -- identification: a lie only the aggregate checks see ----------------------------------


@pytest.mark.parametrize(("field", "state", "amount", "culprit", "keys", "signers"), [
    ("delta", "delta_shares", 1, 2, keys_for(4, 3), (1, 2, 3, 4)),
    ("S", "S", GROUP.generator, 3, KEYS, SIGNERS),
], ids=["wrong-delta-4-signers", "wrong-S"])
def test_a_wrong_round3_value_is_identified_and_blamed_by_all(field, state, amount, culprit, keys,
                                                              signers):
    """The liar stands by its lie (its own state says what it sent) and takes part in round 4.

    (A liar that goes silent instead is a timeout, which the node's session layer handles.)
    At least two honest parties judge, each on its own.
    """
    sid = b"identify-" + field.encode()
    machines = presign_machines(keys, signers, sid)
    ctx = machines[culprit]._ctx

    def lie(msg: Round3Broadcast) -> Round3Broadcast:
        lied = bump(field, amount)(msg)
        getattr(ctx, state)[culprit] = getattr(lied, field)
        return lied
    log = SecretLog(machines, [p for p in signers if p != culprit])
    net = simulator.run(machines, corrupt=log.hooks({culprit: rewrite(Round3Broadcast, lie)}))
    simulator.assert_all_blame(net, culprit, "dec: z1·g = Y + e·X")
    assert all(ch.blame.round == 4 for p, ch in net.channels.items() if p != culprit)
    for p in log.held:   # k_i, γ_i, β, the MtA witnesses the re-proofs used: all gone
        assert not log.leftovers(net, p)


def _identify_anyway(machines: dict, party: int, then=None):
    """A hook that sends ``party``'s messages unchanged, but once it is in round 3 makes its
    aggregate check fail as though someone had lied: identification among honest parties."""
    def corrupt(o: Outgoing) -> list[Outgoing]:
        rnd = machines[party]._round
        if isinstance(rnd, Round3) and "finalize" not in vars(rnd):
            rnd.finalize = lambda: presign_identify.begin(rnd.ctx)
        return then(o) if then is not None else [o]
    return corrupt


def test_a_tampered_round4_message_to_one_party_is_judged_by_audit():
    """Identification among honest parties, but party 2's Π^dec for party 1 is tampered.

    Party 1 blames 2 on its own. Party 3 never gets party 1's round-4 message (so it
    cannot finish the round) and convicts 2 only by auditing party 1's accusation,
    from public data. Party 2, which never sees the accusation, finds every other
    party's values right and its own state therefore at fault: a local finding, so
    it aborts without blaming anyone (not even itself).
    """
    machines = presign_machines(KEYS, SIGNERS, b"identify-audit")
    tamper = rewrite(IdentifyDirect, in_proof("dec_delta", bump("z1")), recipient=1)
    corrupt = {p: _identify_anyway(machines, p, tamper if p == BAD else None) for p in SIGNERS}

    def network(sender, recipient, body):
        envelope = wire.decode_one_of(body, ENVELOPES)
        held_back = (sender == 1 and recipient == 3 and isinstance(envelope, Frame)
                     and envelope.round == 4 and envelope.recipient == 3)
        if held_back or (sender == 1 and recipient == BAD and isinstance(envelope, Accusation)):
            return []
        return [body]
    net = simulator.run(machines, corrupt=corrupt, network=network)
    for p in (1, 3):
        blame = net.channels[p].blame
        assert blame is not None and blame.culprits == (BAD,) and blame.round == 4, (p, blame)
        assert "dec: z1·g = Y + e·X" in blame.check
    blame = net.channels[BAD].blame
    assert blame is not None and blame.culprits == () and blame.check == presign_identify.OWN_FAULT


def test_a_plaintext_beyond_the_dec_bound_blames_no_one(monkeypatch):
    """With Π^dec's bound lowered below every plaintext, each party finds its own combined
    plaintext unprovable: a finding no one else can check, so no one is blamed for it."""
    monkeypatch.setattr(dec, "max_bits", lambda key, level=DEFAULT_LEVEL: 64)
    machines = presign_machines(KEYS, SIGNERS, b"identify-own-range")
    net = simulator.run(machines, corrupt={BAD: rewrite(Round3Broadcast, bump("delta"))})
    for p in (1, 3):
        blame = net.channels[p].blame
        assert blame is not None and blame.culprits == () and blame.check == presign_identify.OWN_RANGE


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
    """H = γ ⊙ K ⊕ enc(1) cannot be proven against the statement round 4 pins (Y = 1, enc(0)).

    A cheating prover (no witness checks) tries both witnesses it could claim: the
    true offset y = 1, which Y = 1 does not encrypt, and y = 0, which H does not hold.
    """
    machine = Presign(KEYS[BAD], SIGNERS, b"offset", rng("offset", BAD), material=material(KEYS[BAD]))
    machine.start()
    ctx = machine._ctx
    secret, K, gamma = ctx.paillier_secret, ctx.K[BAD], ctx.gamma.value
    Gamma = GROUP.base_mul(gamma)
    t = ctx.transcript_for(presign_identify.AFFG_H, BAD)
    key = secret.public
    # The honest product proves fine against the pinned statement: the prover works.
    enc_zero, rho0 = secret.encrypt(0, rng("offset", 0))
    honest = presign_identify._product_statement(ctx, BAD, 1, key.add(key.mul(K, gamma), enc_zero), Gamma)
    affg.verify(t, honest, affg.prove(t, honest, affg.Private(gamma, 0, rho0, 1, secret), rng("offset", 1)),
                DEFAULT_LEVEL)
    enc_one, rho = secret.encrypt(1, rng("offset", 2))
    H = key.add(key.mul(K, gamma), enc_one)
    pinned = presign_identify._product_statement(ctx, BAD, 1, H, Gamma)
    assert pinned.Y == presign_identify.ENCRYPTED_ZERO
    for y, check in ((1, "By·Y\\^e"), (0, "A·D\\^e")):
        proof = affg._prove(t, pinned, affg.Private(gamma, y, rho, 1, secret), rng("offset", 3 + y),
                            DEFAULT_LEVEL)
        with pytest.raises(InvalidProof, match=check):
            affg.verify(t, pinned, proof, DEFAULT_LEVEL)


# -- signing -------------------------------------------------------------------------------


def test_a_wrong_signature_share_is_blamed_by_all():
    presigs = presignatures(KEYS, SIGNERS, sid=b"bad-sigma")
    net = run_sign(KEYS, presigs, b"message", corrupt={BAD: rewrite(SignShare, bump("sigma"))})
    simulator.assert_all_blame(net, BAD, "σ_j·Γ")


def test_a_wrong_signature_share_in_full_sign_is_blamed_by_all():
    """Round 4 of FullSign: both honest parties blame the bad σ_j, and keep no secret after."""
    machines = full_sign_machines(KEYS, SIGNERS, bytes(32), b"full-sign-bad-sigma")
    log = SecretLog(machines, [1, 3])
    net = simulator.run(machines, corrupt=log.hooks({BAD: rewrite(SignShare, bump("sigma", 5))}))
    simulator.assert_all_blame(net, BAD, "σ_j·Γ")
    assert all(ch.blame.round == 4 for p, ch in net.channels.items() if p != BAD)
    for p in (1, 3):
        assert not log.leftovers(net, p)
