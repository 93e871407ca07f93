"""Partials, combine and validate: honest data passes; every tampering is refused by name."""

from __future__ import annotations

import dataclasses
import json
import random

import pytest

from protocol import ers
from protocol.ers import fields
from protocol.ers import statement as st
from protocol.ers.combine import parse_recovery_data
from protocol.rng import SeededRng
from tests.protocol.ers.helpers import (
    LABEL,
    ers_public,
    partial_json,
    partials,
    public_key_hex,
    shares,
)

SCHEMES = ("ecdsa", "eddsa", "schnorr")
N, T = 3, 1


def data_json(scheme: str = "ecdsa", parties=(1, 2, 3)) -> dict:
    return ers.combine(partials(scheme, N, T, parties), ers_public(), LABEL).to_json()


def key_hex(scheme: str) -> str:
    return public_key_hex(shares(scheme, N, T)[1])


@pytest.mark.parametrize("scheme", SCHEMES)
def test_honest_partials_combine_and_validate(scheme):
    doc = partial_json(scheme, N, T, 2)
    assert doc["type"] == "tssnet-ers-partial" and doc["index"] == 2 and doc["scheme"] == scheme
    assert ers.verify_partial(doc, ers_public(), LABEL).entry.index == 2
    data = data_json(scheme)
    assert [p["index"] for p in data["partials"]] == [1, 2, 3]
    ers.validate(json.dumps(data), ers_public(), LABEL, key_hex(scheme))
    # The public key may be given as bytes too, and for BIP340 in its 33-byte form.
    ers.validate(data, ers_public(), LABEL, shares(scheme, N, T)[1].public_key.encode())


def test_neither_the_share_nor_the_chain_code_is_in_the_clear():
    doc = partial_json("ecdsa", N, T, 1)
    share = shares("ecdsa", N, T)[1]
    for text in (json.dumps(doc), json.dumps(data_json())):
        assert format(int(share.x), "x") not in text and int(share.x).to_bytes(32, "big").hex() not in text
        # Recovery data is handed out for validation: with the public key the chain code would
        # link every non-hardened child, so only a commitment to it travels.
        assert share.chain_code.hex() not in text and format(int.from_bytes(share.chain_code, "big"), "x") not in text
    assert "chain_code" not in doc and doc["epoch"] == share.epoch
    assert doc["chain_code_commitment"] == st.chain_code_commitment(share.key_id, share.public_key,
                                                                    share.chain_code).hex()
    other = st.chain_code_commitment(share.key_id, share.public_key, bytes(32))
    assert len(bytes.fromhex(doc["chain_code_commitment"])) == 32 and other.hex() != doc["chain_code_commitment"]


def test_any_t_plus_1_and_extra_partials_combine():
    for parties in ((1, 2), (1, 3), (2, 3), (3, 1, 2)):
        data = ers.combine(partials("eddsa", N, T, parties), ers_public(), LABEL)
        assert [e.index for e in data.entries] == sorted(parties)


def test_too_few_partials_and_a_duplicate_are_refused():
    with pytest.raises(ers.NotEnoughPartials, match="needs partials of 2"):
        ers.combine(partials("ecdsa", N, T, (2,)), ers_public(), LABEL)
    with pytest.raises(ers.NotEnoughPartials):
        ers.combine([], ers_public(), LABEL)
    with pytest.raises(ers.DuplicatePartial, match="validator 2"):
        ers.combine(partials("ecdsa", N, T, (2, 2)), ers_public(), LABEL)


def test_a_wrong_label_fails_combine_and_validate():
    with pytest.raises(ers.BadPartialProof, match="wrong label"):
        ers.combine(partials("ecdsa", N, T, (1, 2)), ers_public(), LABEL + "x")
    with pytest.raises(ers.BadPartialProof):
        ers.validate(data_json(), ers_public(), "another label", key_hex("ecdsa"))


@pytest.mark.parametrize("label", ["", "x" * 257, 7, "\ud800"])
def test_a_malformed_label_is_refused(label):
    with pytest.raises(ers.MalformedErsData, match="label"):
        ers.validate(data_json(), ers_public(), label, key_hex("ecdsa"))


def test_a_partial_from_another_key_is_refused():
    mixed = [partial_json("ecdsa", N, T, 1), partial_json("ecdsa", N, T, 2, seed="other")]
    with pytest.raises(ers.KeyMismatch, match="in key_id"):
        ers.combine(mixed, ers_public(), LABEL)
    # Same key id, scheme and parties but another key: the public key differs.
    other = dict(partial_json("ecdsa", N, T, 2, seed="other"), key_id=partial_json("ecdsa", N, T, 1)["key_id"])
    with pytest.raises(ers.KeyMismatch, match="public_key"):
        ers.combine([partial_json("ecdsa", N, T, 1), other], ers_public(), LABEL)
    with pytest.raises(ers.KeyMismatch, match="not the key given"):
        ers.validate(data_json(), ers_public(), LABEL, public_key_hex(shares("ecdsa", N, T, "other")[1]))


def test_a_partial_made_for_another_ers_key_is_refused():
    with pytest.raises(ers.KeyMismatch, match="another ERS public key"):
        ers.combine([partial_json("ecdsa", N, T, 1), partial_json("ecdsa", N, T, 2, which_ers=1)],
                    ers_public(), LABEL)
    with pytest.raises(ers.KeyMismatch, match="another ERS public key"):
        ers.validate(data_json(), ers_public(1), LABEL, key_hex("ecdsa"))


def test_a_swapped_partial_is_refused():
    one, two = partial_json("ecdsa", N, T, 1), partial_json("ecdsa", N, T, 2)
    # Party 2's ciphertexts and proof presented as party 1's.
    moved = dict(two, index=1, holder=one["holder"])
    with pytest.raises(ers.BadPartialProof) as caught:
        ers.combine([two, moved], ers_public(), LABEL)
    assert (caught.value.index, caught.value.position) == (1, 2)
    assert caught.value.message.startswith("the proof of partial 2 (claims validator 1, holder 12D3KooWPeer1)")


def test_a_validator_with_a_bad_proof_is_named():
    good = partials("schnorr", N, T, (1, 3))
    bad = dict(partial_json("schnorr", N, T, 2))
    bad["proof"] = partial_json("schnorr", N, T, 3)["proof"]
    with pytest.raises(ers.BadPartialProof) as caught:
        ers.combine([good[0], bad, good[1]], ers_public(), LABEL)
    assert (caught.value.index, caught.value.holder, caught.value.position) == (2, "12D3KooWPeer2", 2)
    assert "partial 2 (claims validator 2, holder 12D3KooWPeer2)" in caught.value.message
    assert caught.value.kind == "bad_proof"


def test_partials_of_two_epochs_do_not_combine_and_the_error_says_epoch():
    refreshed = dataclasses.replace(shares("ecdsa", N, T)[2], epoch=1)
    other = ers.make_partial(refreshed, ers_public(), LABEL, SeededRng("epoch"), holder="12D3KooWPeer2")
    ers.verify_partial(other, ers_public(), LABEL)     # a partial of epoch 1 is fine alone
    with pytest.raises(ers.KeyMismatch, match=r"in epoch \(0 and 1: the key was refreshed") as caught:
        ers.combine([other.to_json(), partial_json("ecdsa", N, T, 1), partial_json("ecdsa", N, T, 3)],
                    ers_public(), LABEL)
    assert caught.value.position == 1
    doc = data_json()
    with pytest.raises(ers.BadPartialProof, match="epoch"):
        ers.validate(dict(doc, epoch=1), ers_public(), LABEL, key_hex("ecdsa"))


def test_a_bad_partial_first_is_blamed_not_the_honest_one_after_it():
    honest = partials("ecdsa", N, T, (1, 3))
    foreign = dict(partial_json("ecdsa", N, T, 2, seed="other"))
    with pytest.raises(ers.KeyMismatch) as caught:
        ers.combine([foreign, *honest], ers_public(), LABEL)
    assert caught.value.position == 1
    assert caught.value.message.startswith("partial 1 (claims validator 2")
    assert "the 2 partials (2, 3) that agree" in caught.value.message


def test_two_disagreeing_partials_and_no_expected_key_blame_no_one():
    foreign = dict(partial_json("ecdsa", N, T, 2, seed="other"))
    with pytest.raises(ers.KeyMismatch) as caught:
        ers.combine([foreign, partial_json("ecdsa", N, T, 1)], ers_public(), LABEL)
    assert caught.value.position is None
    assert "partial 1 (claims validator 2" in caught.value.message
    assert "partial 2 (claims validator 1" in caught.value.message
    assert "neither is known to be the wrong one" in caught.value.message


def test_two_agreeing_partials_whose_proofs_fail_are_not_taken_for_the_truth():
    foreign = dict(partial_json("ecdsa", N, T, 2, seed="other"))
    honest = partials("ecdsa", N, T, (1, 3))
    honest[1]["proof"] = honest[0]["proof"]        # the group of two no longer verifies
    with pytest.raises(ers.KeyMismatch) as caught:
        ers.combine([foreign, *honest], ers_public(), LABEL)
    assert caught.value.position is None


def test_the_expected_public_key_or_chain_code_decides_who_is_blamed():
    share = shares("ecdsa", N, T)[1]
    foreign = dict(partial_json("ecdsa", N, T, 2, seed="other"))
    honest = partial_json("ecdsa", N, T, 1)
    with pytest.raises(ers.KeyMismatch, match="another public key than the one given") as caught:
        ers.combine([foreign, honest], ers_public(), LABEL, public_key=key_hex("ecdsa"))
    assert caught.value.position == 1
    with pytest.raises(ers.KeyMismatch, match="another chain code than the one given") as caught:
        ers.combine([foreign, honest], ers_public(), LABEL, chain_code=share.chain_code.hex())
    assert caught.value.position == 1
    # The honest one is blamed when it is the other key the caller expects.
    with pytest.raises(ers.KeyMismatch) as caught:
        ers.combine([foreign, honest], ers_public(), LABEL,
                    public_key=public_key_hex(shares("ecdsa", N, T, "other")[1]))
    assert caught.value.position == 2
    # A key of another curve for every partial, or garbage, is no key at all.
    with pytest.raises(ers.MalformedErsData, match="public key"):
        ers.combine([honest], ers_public(), LABEL, public_key=key_hex("eddsa"))
    with pytest.raises(ers.MalformedErsData, match="public key"):
        ers.combine([honest], ers_public(), LABEL, public_key="zz")
    data = ers.combine(partials("ecdsa", N, T, (1, 2)), ers_public(), LABEL, public_key=key_hex("ecdsa"),
                       chain_code=share.chain_code)
    assert [e.index for e in data.entries] == [1, 2]


def test_validate_checks_the_chain_code_when_given():
    share = shares("ecdsa", N, T)[1]
    ers.validate(data_json(), ers_public(), LABEL, key_hex("ecdsa"), chain_code=share.chain_code.hex())
    ers.validate(data_json(), ers_public(), LABEL, key_hex("ecdsa"), chain_code=share.chain_code)
    with pytest.raises(ers.KeyMismatch, match="another chain code"):
        ers.validate(data_json(), ers_public(), LABEL, key_hex("ecdsa"), chain_code="11" * 32)
    with pytest.raises(ers.MalformedErsData, match="chain code"):
        ers.validate(data_json(), ers_public(), LABEL, key_hex("ecdsa"), chain_code="11")


def test_a_public_share_off_the_polynomial_is_refused():
    group_shares = shares("eddsa", N, T)
    doc = dict(partial_json("eddsa", N, T, 1))
    twisted = list(doc["public_shares"])
    twisted[2] = (group_shares[3].public_share(3) + group_shares[3].public_share(3)).encode().hex()
    doc["public_shares"] = twisted
    with pytest.raises(ers.InconsistentShares, match="party 3"):
        ers.verify_partial(doc, ers_public(), LABEL)


# -- every field of a partial and of the recovery data -------------------------------------------

def _bumped_int(text: str) -> str:
    return format(int(text, 16) + 1, "x")


def _scheme_changed_error(otherwise: type = ers.BadPartialProof) -> type:
    # An ECDSA key read as BIP340: refused by shape when its y is odd, by the proof (or, among
    # partials that agree, as the one that differs) otherwise.
    odd = not shares("ecdsa", N, T)[1].public_key.has_even_y()
    return ers.MalformedErsData if odd else otherwise


# field: (tampering, error of the partial alone, error of combining it with partial 1)
PARTIAL_TAMPERING = {
    "key_id": (lambda d: "cmp-3-1x", ers.BadPartialProof, ers.KeyMismatch),
    "scheme": (lambda d: "schnorr", _scheme_changed_error, lambda: _scheme_changed_error(ers.KeyMismatch)),
    "curve": (lambda d: "ed25519", ers.MalformedErsData, ers.MalformedErsData),
    "epoch": (lambda d: d["epoch"] + 1, ers.BadPartialProof, ers.KeyMismatch),
    "public_key": (lambda d: d["public_shares"][0], ers.InconsistentShares, ers.KeyMismatch),
    "chain_code_commitment": (lambda d: "ab" * 32, ers.BadPartialProof, ers.KeyMismatch),
    "threshold": (lambda d: 2, ers.BadPartialProof, ers.KeyMismatch),
    "parties": (lambda d: [1, 2, 4], ers.InconsistentShares, ers.KeyMismatch),
    "public_shares": (lambda d: [d["public_shares"][1], d["public_shares"][0], d["public_shares"][2]],
                      ers.InconsistentShares, ers.KeyMismatch),
    "ers_key": (lambda d: "00" * 32, ers.KeyMismatch, ers.KeyMismatch),
    "index": (lambda d: 3, ers.BadPartialProof, ers.BadPartialProof),
    "holder": (lambda d: "12D3KooWSomeoneElse", ers.BadPartialProof, ers.BadPartialProof),
    "share_ciphertext": (lambda d: _bumped_int(d["share_ciphertext"]), ers.BadPartialProof, ers.BadPartialProof),
    "chain_code_ciphertext": (lambda d: _bumped_int(d["chain_code_ciphertext"]), ers.BadPartialProof,
                              ers.BadPartialProof),
    "proof": (lambda d: partial_json("ecdsa", N, T, 1)["proof"], ers.BadPartialProof, ers.BadPartialProof),
    "version": (lambda d: 2, ers.MalformedErsData, ers.MalformedErsData),
    "type": (lambda d: "tssnet-ers-recovery-data", ers.MalformedErsData, ers.MalformedErsData),
}


def _expected(kind) -> type:
    return kind if isinstance(kind, type) else kind()


@pytest.mark.parametrize("field", sorted(PARTIAL_TAMPERING))
def test_every_field_of_a_partial_is_covered(field):
    tamper, alone, combined = PARTIAL_TAMPERING[field]
    doc = dict(partial_json("ecdsa", N, T, 2))
    doc[field] = tamper(doc)
    with pytest.raises(ers.ErsError) as caught:
        ers.verify_partial(doc, ers_public(), LABEL)
    assert type(caught.value) is _expected(alone), caught.value.message
    # The tampered partial comes first: the honest ones that agree (and verify) blame it.
    honest = [partial_json("ecdsa", N, T, 1)] + ([partial_json("ecdsa", N, T, 3)] if field in st.FACT_FIELDS else [])
    with pytest.raises(ers.ErsError) as caught:
        ers.combine([doc, *honest], ers_public(), LABEL)
    assert type(caught.value) is _expected(combined), caught.value.message
    assert caught.value.position == 1


def test_the_tampering_table_covers_every_field():
    assert set(PARTIAL_TAMPERING) == set(partial_json("ecdsa", N, T, 2))


DATA_TAMPERING = {   # field of the recovery data: the error of validate
    "key_id": ers.BadPartialProof, "scheme": _scheme_changed_error, "curve": ers.MalformedErsData,
    "epoch": ers.BadPartialProof, "public_key": ers.KeyMismatch, "chain_code_commitment": ers.BadPartialProof,
    "threshold": ers.BadPartialProof, "parties": ers.InconsistentShares, "public_shares": ers.InconsistentShares,
    "ers_key": ers.KeyMismatch, "version": ers.MalformedErsData, "type": ers.MalformedErsData,
}


@pytest.mark.parametrize("field", sorted(DATA_TAMPERING))
def test_every_top_level_field_of_the_recovery_data_is_covered(field):
    doc = data_json()
    doc[field] = PARTIAL_TAMPERING[field][0](doc)
    if field == "type":
        doc["type"] = "tssnet-ers-partial"
    with pytest.raises(ers.ErsError) as caught:
        ers.validate(doc, ers_public(), LABEL, key_hex("ecdsa"))
    assert type(caught.value) is _expected(DATA_TAMPERING[field]), caught.value.message


def test_the_data_tampering_table_covers_every_top_level_field():
    assert set(DATA_TAMPERING) | {"partials"} == set(data_json())


ENTRY_TAMPERING = {name: PARTIAL_TAMPERING[name][0] for name in st.ENTRY_FIELDS}


@pytest.mark.parametrize("field", sorted(ENTRY_TAMPERING))
@pytest.mark.parametrize("which", [0, 2])
def test_every_field_of_every_entry_of_the_recovery_data_is_covered(field, which):
    doc = data_json()
    entry = dict(doc["partials"][which])
    source = dict(entry, public_shares=doc["public_shares"])
    entry[field] = ENTRY_TAMPERING[field](source)
    if field == "index" and entry["index"] == doc["partials"][which]["index"]:
        entry["index"] = 1
    if field == "proof" and entry["proof"] == doc["partials"][which]["proof"]:
        entry["proof"] = doc["partials"][1]["proof"]
    doc["partials"][which] = entry
    with pytest.raises(ers.ErsError) as caught:
        ers.validate(doc, ers_public(), LABEL, key_hex("ecdsa"))
    # A changed index names a validator another entry names too: the later of the two is blamed.
    expected = ers.DuplicatePartial if field == "index" else ers.BadPartialProof
    assert type(caught.value) is expected, caught.value.message
    assert caught.value.position == (3 if field == "index" else which + 1)


def test_dropping_entries_below_t_plus_1_or_duplicating_one_fails_validation():
    doc = data_json()
    with pytest.raises(ers.NotEnoughPartials):
        ers.validate(dict(doc, partials=doc["partials"][:1]), ers_public(), LABEL, key_hex("ecdsa"))
    with pytest.raises(ers.DuplicatePartial):
        ers.validate(dict(doc, partials=[doc["partials"][0]] * 2), ers_public(), LABEL, key_hex("ecdsa"))


def test_random_byte_changes_anywhere_in_the_recovery_data_fail_validation():
    text = json.dumps(data_json("eddsa", (1, 3)), separators=(",", ":"))
    rng = random.Random(8)
    alphabet = "0123456789abcdefABCDEF+/=:,{}[]\"xyz "
    for position in rng.sample(range(len(text)), 60):
        replacement = rng.choice([c for c in alphabet if c != text[position]])
        tampered = text[:position] + replacement + text[position + 1:]
        with pytest.raises(ers.ErsError):
            ers.validate(tampered, ers_public(), LABEL, key_hex("eddsa"))


def test_recovery_data_round_trips_through_json():
    doc = data_json("schnorr")
    data = parse_recovery_data(json.dumps(doc))
    assert data.to_json() == doc


@pytest.mark.parametrize("bad", [
    {"partials": []}, {"partials": [{"index": 1}]}, {"partials": "x"}, {"threshold": True},
    {"parties": [2, 1, 3]}, {"public_shares": []}, {"key_id": ""}, {"scheme": "rsa"},
])
def test_malformed_recovery_data_is_refused_by_name(bad):
    with pytest.raises(ers.MalformedErsData):
        ers.validate({**data_json(), **bad}, ers_public(), LABEL, key_hex("ecdsa"))


def test_a_malformed_public_key_argument_is_refused():
    for bad in ("zz", "00" * 33, b"\x02" * 5, 7):
        with pytest.raises(ers.MalformedErsData, match="public key"):
            ers.validate(data_json(), ers_public(), LABEL, bad)


def test_an_x_only_key_is_taken_for_bip340_keys_only():
    # ECDSA keys are shown compressed (33 bytes): an x-only form names two keys, so it is refused.
    with pytest.raises(ers.MalformedErsData, match="public key"):
        ers.validate(data_json(), ers_public(), LABEL, shares("ecdsa", N, T)[1].public_key.encode()[1:])
    schnorr = data_json("schnorr")
    ers.validate(schnorr, ers_public(), LABEL, shares("schnorr", N, T)[1].public_key.encode()[1:])


@pytest.mark.parametrize("version", [1.0, True, "1", 2])
def test_only_the_integer_1_is_version_1(version):
    with pytest.raises(ers.MalformedErsData, match="version"):
        ers.verify_partial(dict(partial_json("ecdsa", N, T, 1), version=version), ers_public(), LABEL)


def test_fields_helpers_refuse_uppercase_and_leading_zeros():
    assert fields.hex_to_int("ff", "x", 16) == 255
    for bad in ("FF", "0ff", "", "-1", " 1"):
        with pytest.raises(ers.MalformedErsData):
            fields.hex_to_int(bad, "x", 16)
