"""CGGMP21 key refresh (protocol/cmp/aux.py, refresh=True): same key, new shares, new
auxiliary information; old shares become useless; a bad dealing is blamed; parties whose
inputs differ abort without blame. Runs share an honest party's work as in test_aux.py."""

from __future__ import annotations

import dataclasses
from functools import cache

import coincurve

from protocol import wire
from protocol.cmp.aux_refresh_round3 import AuxSchnorrProofs
from protocol.cmp.aux_round1 import AuxCommitment
from protocol.cmp.shares import CmpKey
from protocol.group import SECP256K1
from tests.protocol import simulator
from tests.protocol.cmp.dealer import deal
from tests.protocol.cmp.test_aux import (
    BadOpening,
    assert_all_blame,
    assert_no_blame,
    aux_machines,
    bad_opening,
    change_direct,
    direct_to,
)
from tests.protocol.cmp.test_keygen import secret_of
from tests.protocol.tamper import rewrite

G = SECP256K1
PARTIES = (1, 2, 3)


@cache
def dealt() -> dict[int, CmpKey]:
    """A 2-of-3 key whose auxiliary information uses pool pairs 1..3 (the dealer's choice)."""
    return deal(PARTIES, 1, seed=b"refresh")


def refresh_machines(**kwargs):
    keys = dealt()
    kwargs.setdefault("previous", {p: k.aux for p, k in keys.items()})
    kwargs.setdefault("shares", {p: k.share for p, k in keys.items()})
    return aux_machines(refresh=True, first_pair=4, session_id=b"refresh-session", **kwargs)


@cache
def refreshed() -> dict[int, CmpKey]:
    return simulator.assert_success(simulator.run(refresh_machines()))


def test_refresh_keeps_the_key_changes_every_share_and_the_aux_info():
    # One test for the one honest run: xdist would otherwise redo the run per worker.
    old, new = dealt(), refreshed()
    pk = old[1].share.public_key
    for p in PARTIES:
        o, n = old[p].share, new[p].share
        assert n.public_key == pk and n.epoch == o.epoch + 1
        assert (n.key_id, n.threshold, n.parties, n.party, n.chain_code, n.rid) == (
            o.key_id, o.threshold, o.parties, o.party, o.chain_code, o.rid)
        assert n.x != o.x and n.public_share(p) != o.public_share(p)
        assert n.public_shares == new[1].share.public_shares
        assert G.base_mul(n.x) == n.public_share(p)
    xs = {p: new[p].share.x for p in PARTIES}
    for subset in ((1, 2), (1, 3), (2, 3)):
        secret = secret_of(xs, subset)
        assert coincurve.PrivateKey(secret.to_bytes(32, "big")).public_key.format() == pk.encode()

    # An old share mixed with a new one is useless (two old ones still give the key).
    assert G.base_mul(secret_of({1: old[1].share.x, 2: old[2].share.x}, (1, 2))) == pk
    for stale in PARTIES:
        for fresh in PARTIES:
            if fresh != stale:
                mixed = {stale: old[stale].share.x, fresh: new[fresh].share.x}
                assert G.base_mul(secret_of(mixed, (stale, fresh))) != pk

    # New auxiliary information, agreed by all, none of it reused; the key round-trips.
    old_moduli = {a.n for a in old[1].aux.public}
    new_moduli = [a.n for a in new[1].aux.public]
    assert len(set(new_moduli)) == 3 and not old_moduli & set(new_moduli)
    for p in PARTIES:
        assert new[p].aux.public == new[1].aux.public
        assert wire.decode(wire.encode(new[p], G), CmpKey, G) == new[p]


def test_a_dealing_of_a_nonzero_secret_is_blamed():
    # A "refresh" whose constant term is G would move the public key.
    tamper = bad_opening(lambda d: dataclasses.replace(d, vector=(G.generator, *d.vector[1:])))
    net = simulator.run(refresh_machines(classes={1: tamper}))
    simulator.assert_all_blame(net, 1, "must start with the identity")


def test_a_wrong_number_of_schnorr_commitments_is_blamed():
    for tamper in (lambda d: dataclasses.replace(d, nonces=d.nonces[:-1]),
                   lambda d: dataclasses.replace(d, nonces=(*d.nonces, G.generator))):
        net = simulator.run(refresh_machines(classes={1: bad_opening(tamper)}))
        assert_all_blame(net, 1, "wrong number of Schnorr commitments")


def _tampered_schnorr(msg: AuxSchnorrProofs) -> AuxSchnorrProofs:
    first = msg.proofs[0]
    return AuxSchnorrProofs((dataclasses.replace(first, z=first.z + 1), *msg.proofs[1:]))


def test_a_bad_round_3_message_of_a_refresh_is_blamed_by_every_honest_party():
    # Party 1 is the culprit; a direct message goes to party 2 alone, and party 3
    # convicts on party 2's accusation. The cases share the honest work (Memo).
    cases = [
        (rewrite(AuxSchnorrProofs, _tampered_schnorr, G, recipient=None), "Π^sch for coefficient 1"),
        (direct_to(2, change_direct(lambda d: dataclasses.replace(d, share=d.share + 1))),
         "does not match the sender's Feldman vector"),
        (direct_to(2, change_direct(lambda d: dataclasses.replace(d, share=None))), "refresh share missing"),
        (direct_to(2, lambda body: wire.encode(AuxCommitment(bytes(32)))), "expected AuxDirect"),
    ]
    for corrupt, check in cases:
        net = simulator.run(refresh_machines(), corrupt={1: corrupt})
        assert_all_blame(net, 1, check)


class _ReusesItsModulus(BadOpening):
    """Presents the modulus of its previous auxiliary information (an honest party refuses to)."""

    def _begin(self):
        kept, self.previous_moduli = self.previous_moduli, frozenset()
        try:
            return super()._begin()
        finally:
            self.previous_moduli = kept


def test_a_modulus_of_the_previous_aux_info_is_blamed():
    # Everyone was given the previous aux info; party 1 keeps its old modulus (pool pair 1).
    net = simulator.run(refresh_machines(pairs={1: 1}, classes={1: _ReusesItsModulus}))
    assert_all_blame(net, 1, "previous auxiliary information")


def test_parties_given_different_previous_aux_info_abort_without_blame():
    # Party 3 was not told the previous aux info and, from where it stands, may keep
    # its old modulus (pool pair 3); parties 1 and 2 would refuse it. Neither side is
    # at fault: the session must abort without blame, not convict one honest side.
    previous = {p: k.aux for p, k in dealt().items() if p != 3}
    assert_no_blame(simulator.run(refresh_machines(pairs={3: 3}, previous=previous)))


def test_parties_whose_key_shares_diverged_abort_without_blame():
    # Party 2's share differs from the others' view of the key at the same epoch in
    # its public shares, chain code or rid: the parties must not refresh (they would
    # compute different keys), nor blame one another.
    keys = dealt()
    old = keys[2].share
    secret = secret_of({p: keys[p].share.x for p in (1, 2)}, (1, 2))
    other = deal(PARTIES, 1, seed=b"refresh, dealt again", secret=secret)[2].share
    assert other.public_key == old.public_key and other.public_shares != old.public_shares
    diverged = [
        dataclasses.replace(other, chain_code=old.chain_code, rid=old.rid),
        dataclasses.replace(old, chain_code=bytes(32)),
        dataclasses.replace(old, rid=bytes(32)),
    ]
    for share in diverged:
        shares = {p: keys[p].share for p in PARTIES} | {2: share}
        assert_no_blame(simulator.run(refresh_machines(shares=shares)))
