"""CGGMP21 key refresh (protocol/cmp/aux.py, refresh=True): same key, new shares, new
auxiliary information; old shares become useless; a bad dealing is blamed."""

from __future__ import annotations

import dataclasses
from functools import cache

import coincurve

from protocol import wire
from protocol.cmp.aux_round3 import AuxDirect
from protocol.cmp.shares import CmpKey
from protocol.group import SECP256K1
from protocol.machine import Outgoing
from tests.protocol import simulator
from tests.protocol.cmp.dealer import deal
from tests.protocol.cmp.test_aux import aux_machines, bad_opening
from tests.protocol.cmp.test_keygen import secret_of

G = SECP256K1
PARTIES = (1, 2, 3)


@cache
def dealt() -> dict[int, CmpKey]:
    """A 2-of-3 key whose auxiliary information uses pool pairs 1..3 (the dealer's choice)."""
    return deal(PARTIES, 1, seed=b"refresh")


def refresh_machines(**kwargs):
    keys = dealt()
    kwargs.setdefault("previous", {p: k.aux for p, k in keys.items()})
    return aux_machines(refresh=True, first_pair=4, session_id=b"refresh-session",
                        shares={p: k.share for p, k in keys.items()}, **kwargs)


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


def test_a_wrong_refresh_share_to_one_party_is_blamed_by_every_honest_party():
    def corrupt(o: Outgoing):
        if o.recipient != 2:
            return [o]
        d = wire.decode(o.body, AuxDirect, G)
        return [Outgoing(o.round, 2, wire.encode(dataclasses.replace(d, share=d.share + 1), G))]
    net = simulator.run(refresh_machines(), corrupt={1: corrupt})
    simulator.assert_all_blame(net, 1, "does not match the sender's Feldman vector")


def test_a_modulus_of_the_previous_aux_info_is_blamed():
    # Party 1 keeps its old modulus (pool pair 1); it is not told about the previous aux info.
    previous = {p: k.aux for p, k in dealt().items() if p != 1}
    net = simulator.run(refresh_machines(pairs={1: 1}, previous=previous))
    simulator.assert_all_blame(net, 1, "previous auxiliary information")
