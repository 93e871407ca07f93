"""RFC 9591 test vectors: FROST(Ed25519, SHA-512) and FROST(secp256k1, SHA-256).

Every intermediate value is checked with the RNG output and inputs the RFC fixes:
shares from the dealer's polynomial, nonces from their randomness, commitments,
binding-factor inputs and factors, signature shares, and the aggregate.
"""

import json
from pathlib import Path

import pytest

from protocol import shamir
from protocol.frost.core import Commitment, SigningPackage
from protocol.frost.nonces import SigningNonces, nonce_generate
from protocol.frost.suites import suite_by_name
from protocol.frost.tweak import signing_key
from tests.protocol.frost.helpers import ed25519_verifies

DATA = Path(__file__).resolve().parents[2] / "data" / "frost"
FILES = ("rfc9591_ed25519_sha512.json", "rfc9591_secp256k1_sha256.json")
VECTORS = [pytest.param(v, id=f"{name.split('.')[0]}[{i}]")
           for name in FILES
           for i, v in enumerate(json.loads((DATA / name).read_text())["vectors"])]


def _scalar(group, text):
    return group.decode_scalar(bytes.fromhex(text))


@pytest.fixture(params=VECTORS)
def vector(request):
    return request.param


def test_dealer_shares_and_group_key(vector):
    suite = suite_by_name(vector["suite"])
    group = suite.group
    secret = _scalar(group, vector["group_secret_key"])
    assert group.base_mul(secret).encode().hex() == vector["group_public_key"]
    coefficients = [secret] + [_scalar(group, c) for c in vector["share_polynomial_coefficients"]]
    assert len(coefficients) == vector["min_participants"]
    for i, share in vector["participant_shares"].items():
        assert shamir.evaluate(coefficients, int(i)).encode().hex() == share


def test_signing_reproduces_every_value(vector):
    suite = suite_by_name(vector["suite"])
    group = suite.group
    shares = {int(i): _scalar(group, s) for i, s in vector["participant_shares"].items()}
    public_key = group.decode_point(bytes.fromhex(vector["group_public_key"]))
    message = bytes.fromhex(vector["message"])

    nonces, commitments = {}, []
    for i, out in vector["round_one"].items():
        i = int(i)
        hiding_rand = bytes.fromhex(out["hiding_nonce_randomness"])
        binding_rand = bytes.fromhex(out["binding_nonce_randomness"])
        assert nonce_generate(suite, shares[i], hiding_rand).encode().hex() == out["hiding_nonce"]
        assert nonce_generate(suite, shares[i], binding_rand).encode().hex() == out["binding_nonce"]
        nonces[i] = SigningNonces.from_randomness(suite, shares[i], hiding_rand, binding_rand)
        assert nonces[i].hiding_commitment.encode().hex() == out["hiding_nonce_commitment"]
        assert nonces[i].binding_commitment.encode().hex() == out["binding_nonce_commitment"]
        commitments.append(Commitment(i, *nonces[i].commitments))
    assert sorted(nonces) == vector["participant_list"]

    package = SigningPackage(suite, signing_key(suite, public_key), commitments, message)
    for i, out in vector["round_one"].items():
        assert package.binding_inputs[int(i)].hex() == out["binding_factor_input"]
        assert package.binding_factors[int(i)].encode().hex() == out["binding_factor"]

    sig_shares = {}
    for i, expected in vector["round_two"].items():
        i = int(i)
        sig_shares[i] = package.sign_share(i, shares[i], nonces[i])
        assert sig_shares[i].encode().hex() == expected
        assert package.verify_share(i, group.base_mul(shares[i]), sig_shares[i])

    signature = package.aggregate(sig_shares)
    assert signature.hex() == vector["sig"]
    assert suite.verify(public_key, message, signature)
    assert not suite.verify(public_key, message + b"!", signature)
    if suite.name == "ed25519":
        assert ed25519_verifies(public_key.encode(), message, signature)


def test_a_share_from_the_wrong_signer_fails_verification(vector):
    suite = suite_by_name(vector["suite"])
    group = suite.group
    shares = {int(i): _scalar(group, s) for i, s in vector["participant_shares"].items()}
    nonces = {int(i): SigningNonces.from_randomness(suite, shares[int(i)],
                                                    bytes.fromhex(o["hiding_nonce_randomness"]),
                                                    bytes.fromhex(o["binding_nonce_randomness"]))
              for i, o in vector["round_one"].items()}
    public_key = group.decode_point(bytes.fromhex(vector["group_public_key"]))
    package = SigningPackage(suite, signing_key(suite, public_key),
                             [Commitment(i, *n.commitments) for i, n in nonces.items()],
                             bytes.fromhex(vector["message"]))
    first, second = sorted(nonces)
    z = package.sign_share(first, shares[first], nonces[first])
    assert not package.verify_share(second, group.base_mul(shares[second]), z)
    assert not package.verify_share(first, group.base_mul(shares[first]), z + 1)


def test_session_context_changes_every_binding_factor(vector):
    suite = suite_by_name(vector["suite"])
    group = suite.group
    public_key = group.decode_point(bytes.fromhex(vector["group_public_key"]))
    commitments = [Commitment(int(i), group.decode_point(bytes.fromhex(o["hiding_nonce_commitment"])),
                              group.decode_point(bytes.fromhex(o["binding_nonce_commitment"])))
                   for i, o in vector["round_one"].items()]
    message = bytes.fromhex(vector["message"])
    key = signing_key(suite, public_key)
    plain = SigningPackage(suite, key, commitments, message)
    bound = SigningPackage(suite, key, commitments, message, context=b"\x01" * 32)
    other = SigningPackage(suite, key, commitments, message, context=b"\x02" * 32)
    for i in plain.binding_factors:
        assert len({plain.binding_factors[i], bound.binding_factors[i], other.binding_factors[i]}) == 3
