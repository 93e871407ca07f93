"""The ERS key pair: JSON round trips, and a public key that fails any check never loads."""

from __future__ import annotations

import copy
import json
import pickle

import gmpy2
import pytest

from protocol import ers
from protocol.errors import UsageError
from protocol.ers import fields
from protocol.ers.keys import ErsPublicKey, generate_keypair, unverified_fingerprint
from protocol.rng import SeededRng
from tests.primepool import paillier_key, primes
from tests.protocol.ers.helpers import ers_private, ers_public


def public_json() -> dict:
    return ers_public().to_json()


def test_public_key_round_trips_and_carries_both_proofs():
    doc = public_json()
    assert doc["version"] == 1 and doc["type"] == "tssnet-ers-public-key"
    assert set(doc) == {"version", "type", "n", "s", "t", "mod_proof", "prm_proof"}
    loaded = ers.load_public_key(json.dumps(doc))
    assert loaded == ers_public() and loaded.to_json() == doc
    assert loaded.n.bit_length() == 2048
    assert int(ers_private().p) * int(ers_private().q) == int(doc["n"], 16)


def test_private_key_round_trips_names_its_public_key_and_is_redacted():
    private = ers_private()
    doc = private.to_json()
    assert set(doc) == {"version", "type", "n", "s", "t", "p", "q", "fingerprint"}
    again = ers.load_private_key(json.dumps(doc))
    assert again.fingerprint == ers_public().fingerprint == private.fingerprint
    assert doc["fingerprint"] == ers_public().fingerprint.hex()
    # λ (s = t^λ) served the Π^prm proof at keygen only: neither the object nor the file keeps it.
    assert not any("lam" in name for name in type(again).__slots__)
    assert doc["p"] not in repr(again) and "redacted" in repr(again)
    for attempt in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(UsageError):
            attempt(again)


def test_two_key_pairs_have_different_fingerprints():
    assert ers_public(0).fingerprint != ers_public(1).fingerprint


def _load_with(**changes) -> None:
    doc = {**public_json(), **changes}
    ers.load_public_key(doc)


def test_the_unverified_fingerprint_reads_n_s_t_only():
    key = ers_public().to_json()
    junk = dict(key, mod_proof="!" * 100, prm_proof="not base64")
    assert unverified_fingerprint(junk) == ers_public().fingerprint
    with pytest.raises(ers.MalformedErsData, match="mod_proof"):
        ers.load_public_key(junk)
    with pytest.raises(ers.MalformedErsData, match=" n"):
        unverified_fingerprint(dict(key, n="zz"))
    with pytest.raises(ers.MalformedErsData, match="missing fields"):
        unverified_fingerprint({k: v for k, v in key.items() if k != "prm_proof"})


@pytest.mark.parametrize("field", ["n", "s", "t"])
def test_a_changed_number_is_refused(field):
    doc = public_json()
    value = int(doc[field], 16)
    with pytest.raises(ers.InvalidErsKey):
        _load_with(**{field: format(value + 2, "x")})


def test_s_and_t_swapped_fail_the_ring_pedersen_proof():
    doc = public_json()
    with pytest.raises(ers.InvalidErsKey, match="prm"):
        _load_with(s=doc["t"], t=doc["s"])


def test_proofs_of_another_key_are_refused():
    other = ers_public(1).to_json()
    with pytest.raises(ers.InvalidErsKey, match="mod"):
        _load_with(mod_proof=other["mod_proof"])
    with pytest.raises(ers.InvalidErsKey, match="prm"):
        _load_with(prm_proof=other["prm_proof"])


def test_a_proof_tampered_inside_is_refused():
    key = ers_public()
    mod_proof = key.mod_proof
    bad = type(mod_proof)(mod_proof.w, (mod_proof.x[1], mod_proof.x[0], *mod_proof.x[2:]), mod_proof.a,
                          mod_proof.b, mod_proof.z)
    with pytest.raises(ers.InvalidErsKey, match="mod"):
        _load_with(mod_proof=fields.proof_to_b64(bad))
    prm_proof = key.prm_proof
    bad = type(prm_proof)(prm_proof.A, (prm_proof.z[0] + 1, *prm_proof.z[1:]))
    with pytest.raises(ers.InvalidErsKey, match="prm"):
        _load_with(prm_proof=fields.proof_to_b64(bad))


def test_a_modulus_below_2048_bits_is_refused_by_size_before_any_proof():
    # A 1024-bit N from two 512-bit factors of the test pool is not available; a product of
    # one pool prime and a small safe prime is below the floor and refused before any proof.
    p, _ = primes(0)
    n = p * 23
    key = ers_public()
    with pytest.raises(ers.InvalidErsKey) as caught:
        ErsPublicKey(n, key.s % n, key.t % n, key.mod_proof, key.prm_proof)
    assert caught.value.message == (f"ERS public key: ring-Pedersen modulus: {n.bit_length()} bits, "
                                    "below the floor of 2048")


def test_a_paillier_key_without_ring_pedersen_proofs_cannot_pass_for_an_ers_key():
    n = paillier_key(3).n
    key = ers_public()
    with pytest.raises(ers.InvalidErsKey):
        ErsPublicKey(n, gmpy2.powmod(key.t, 3, n), gmpy2.powmod(key.t, 5, n), key.mod_proof, key.prm_proof)


@pytest.mark.parametrize(("changes", "why"), [
    ({"version": 2}, "version"), ({"version": True}, "version"), ({"type": "tssnet-ers-private-key"}, "type"),
    ({"extra": 1}, "unknown"), ({"n": "0x" + "1" * 8}, "hex"), ({"s": "0" + "a" * 10}, "hex"),
    ({"t": "ABC"}, "hex"), ({"n": 12345}, "hex"), ({"mod_proof": "not base64!"}, "base64"),
    ({"prm_proof": "AAAA"}, "prm_proof"),
])
def test_malformed_public_key_json_is_refused_by_name(changes, why):
    with pytest.raises(ers.MalformedErsData, match=why):
        _load_with(**changes)


def test_a_missing_field_or_non_object_is_malformed():
    doc = public_json()
    del doc["t"]
    with pytest.raises(ers.MalformedErsData, match="missing"):
        ers.load_public_key(doc)
    for bad in ("[1, 2]", "not json", 7, None):
        with pytest.raises(ers.MalformedErsData):
            ers.load_public_key(bad)


def test_base64_with_whitespace_or_bad_padding_is_refused():
    text = public_json()["prm_proof"]
    for bad in (text[:40] + "\n" + text[40:], text + "=", text.rstrip("=") if text.endswith("=") else text[:-1]):
        with pytest.raises(ers.MalformedErsData):
            _load_with(prm_proof=bad)


@pytest.mark.parametrize(("field", "why"), [
    ("p", "safe primes"), ("q", "safe primes"), ("n", "n is not p·q"), ("s", "s is not a square|fingerprint"),
    ("t", "t is not a square|fingerprint"), ("fingerprint", "fingerprint"),
])
def test_a_private_key_whose_numbers_disagree_is_refused(field, why):
    doc = ers_private().to_json()
    if field == "fingerprint":
        doc[field] = "00" * 32
    else:
        doc[field] = format(int(doc[field], 16) + 2, "x")
    with pytest.raises(ers.InvalidErsKey, match=why):
        ers.load_private_key(doc)


def test_a_private_key_with_a_square_s_of_another_key_is_refused_by_its_fingerprint():
    doc = ers_private().to_json()
    p, q = int(doc["p"], 16), int(doc["q"], 16)
    doc["s"] = format(pow(int(doc["s"], 16), 3, p * q), "x")     # still a square unit
    with pytest.raises(ers.InvalidErsKey, match="fingerprint"):
        ers.load_private_key(doc)
    old = {**ers_private().to_json(), "lambda": "1"}
    with pytest.raises(ers.MalformedErsData, match="unknown fields \\['lambda'\\]"):
        ers.load_private_key(old)


def test_keygen_refuses_sizes_outside_the_floor_and_ceiling():
    for bits in (1024, 2047, 8192):
        with pytest.raises(UsageError):
            generate_keypair(SeededRng(1), bits)
