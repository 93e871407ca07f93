"""What a CGGMP21 party stores (protocol/cmp/shares.py): the schema-1 fixture still loads,
records round-trip, and inconsistent records are refused on load."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from protocol import wire
from protocol.cmp.shares import SCHEMA, AuxInfo, CmpKey, KeyShare
from protocol.errors import EncodingError, UsageError
from protocol.group import SECP256K1
from tests.primepool import primes
from tests.protocol.cmp.dealer import deal
from tests.protocol.leaks import assert_never_copied

G = SECP256K1
FIXTURE = Path(__file__).resolve().parents[2] / "data" / "cmp_key_v1.bin"
# Written by scripts/make_cmp_fixture.py (keygen + aux info among parties 1..3, party 1's key).
FIXTURE_PUBLIC_KEY = "02bf794b6709ffbc22ace6da9376575b55fccded1bdb40b5e5c786fc02695da3d8"
FIXTURE_CHAIN_CODE = "195da118bca4d5a9c74e52407d40f5d4b443fc0f92a57f4774343fef04aac4d1"


def test_the_schema_1_fixture_still_loads():
    data = FIXTURE.read_bytes()
    key = wire.decode(data, CmpKey, G)
    share, aux = key.share, key.aux
    assert share.public_key.encode().hex() == FIXTURE_PUBLIC_KEY
    assert share.chain_code.hex() == FIXTURE_CHAIN_CODE
    assert (share.schema, share.key_id, share.epoch, share.threshold, share.parties, share.party) == (
        1, "fixture-key-v1", 0, 1, (1, 2, 3), 1)
    assert G.base_mul(share.x) == share.public_share(1)
    assert (aux.schema, aux.party, aux.parties) == (1, 1, (1, 2, 3))
    assert {aux.secret.p, aux.secret.q} == set(primes(1))
    assert wire.encode(key, G) == data   # the encoding did not drift either


def test_a_dealt_key_round_trips_and_hides_its_secrets():
    for key in deal((1, 2, 3, 4), 2).values():
        assert wire.decode(wire.encode(key, G), CmpKey, G) == key
        assert wire.decode(wire.encode(key.share, G), KeyShare, G) == key.share
        text = repr(key) + repr(key.share) + repr(key.aux) + repr(key.aux.secret)
        assert "redacted" in text
        assert str(key.share.x.value) not in text and str(key.aux.secret.p) not in text


def test_records_holding_a_secret_are_never_pickled_or_copied():
    key = deal((1, 2, 3), 1)[1]
    for record in (key, key.share, key.aux, key.aux.secret):
        assert_never_copied(record, match="wire codec")
    # What builds a new object through its checks still works.
    assert dataclasses.replace(key.share, epoch=1).epoch == 1
    assert wire.decode(wire.encode(key, G), CmpKey, G) == key


def test_additive_shares_of_any_signer_set_sum_to_the_key():
    keys = deal((1, 2, 3, 4), 2, secret=12345)
    signers = (1, 3, 4)
    total = sum((keys[j].share.additive_secret(signers) for j in signers), G.scalar(0))
    assert total.value == 12345
    publics = keys[1].share.additive_public(signers)
    assert G.sum_points(publics.values()) == keys[1].share.public_key
    with pytest.raises(UsageError):
        keys[2].share.additive_secret(signers)      # party 2 is not a signer


def _reencoded(record, **changes) -> bytes:
    """``record`` with some fields changed, encoded without running its validation."""
    fields = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)} | changes
    cls = type(record)
    raw = object.__new__(cls)
    for name, value in fields.items():
        object.__setattr__(raw, name, value)
    return wire.encode(raw, G)


@pytest.mark.parametrize("change", [
    lambda s: {"x": s.x + 1},
    lambda s: {"public_shares": (s.public_shares[0], s.public_shares[1] + G.generator, *s.public_shares[2:])},
    lambda s: {"public_key": s.public_key + G.generator},
    lambda s: {"threshold": 4},
    lambda s: {"party": 9},
    lambda s: {"schema": 0},
])
def test_an_inconsistent_key_share_does_not_load(change):
    share = deal((1, 2, 3, 4), 2)[1].share
    with pytest.raises(EncodingError):
        wire.decode(_reencoded(share, **change(share)), KeyShare, G)


def test_aux_info_whose_secret_does_not_factor_its_modulus_does_not_load():
    keys = deal((1, 2, 3), 1)
    aux = keys[1].aux
    with pytest.raises(EncodingError):
        wire.decode(_reencoded(aux, secret=keys[2].aux.secret), AuxInfo, G)


@pytest.mark.parametrize("parties", [(1, 1, 3), (2, 1, 3), (0, 1, 2)])
def test_aux_info_with_a_bad_party_set_does_not_load(parties):
    # The same party-set rule as a key share's (shares.check_parties). Party 1's own
    # entry stays where the list puts it, so only the party set is wrong.
    aux = deal((1, 2, 3), 1)[1].aux
    public = list(aux.public[1:])
    public.insert(parties.index(1), aux.public[0])
    with pytest.raises(EncodingError, match="parties must be distinct"):
        wire.decode(_reencoded(aux, parties=parties, public=tuple(public)), AuxInfo, G)


def test_a_share_and_aux_info_of_different_parties_do_not_pair():
    keys = deal((1, 2, 3), 1)
    with pytest.raises(ValueError):
        CmpKey(keys[1].share, keys[2].aux)


def test_the_schema_is_one():
    assert SCHEMA == 1
    keys = deal((1, 2), 1)
    assert keys[1].share.schema == keys[1].aux.schema == SCHEMA
