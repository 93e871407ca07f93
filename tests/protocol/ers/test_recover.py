"""Recovery: 2-of-3 and 3-of-5 keys of every scheme, from any t+1 partials, checked outside tssnet.

The recovered key signs with coincurve (ECDSA, BIP340) and with an RFC 8032 raw-scalar
signer written on libsodium (Ed25519); PyNaCl, cryptography and coincurve verify the
signatures under the threshold key's public key. BIP32 children are checked against
bip_utils and against the key the threshold signers sign with for that path.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json

import coincurve
import pytest
from bip_utils import Bip32KeyData, Bip32Secp256k1
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from protocol import ers, shamir
from protocol.cmp.shares import KeyShare
from protocol.errors import UsageError
from protocol.ers import statement as st
from protocol.ers.keys import LEVEL
from protocol.ers.partial import Partial
from protocol.ers.recover import child, from_json, sign
from protocol.frost.shares import SCHEMA as FROST_SCHEMA
from protocol.frost.shares import FrostKeyShare
from protocol.group import ED25519
from protocol.rng import SeededRng
from protocol.zk import logstar
from tests.protocol.ers.helpers import (
    LABEL,
    ed25519_sign_raw,
    ers_private,
    ers_public,
    partial_json,
    partials,
    shares,
)
from tests.protocol.frost import helpers as frost

KNOWN_ED25519 = "08687f8a741cad9b34a6d2ccb232f5729e92d871e56a8f2e488404c1ed4525ac"
SIZES = [(3, 1), (5, 2)]          # 2-of-3 and 3-of-5


def recovered(scheme: str, n: int, t: int, parties) -> dict:
    data = ers.combine(partials(scheme, n, t, parties), ers_public(), LABEL).to_json()
    ers.validate(data, ers_public(), LABEL, shares(scheme, n, t)[1].public_key.encode())
    answer = ers.recover(json.dumps(data), ers_private().to_json(), LABEL).to_json()
    assert {"curve", "private_key", "chain_code"} <= set(answer)
    assert (answer["key_id"], answer["scheme"], answer["chain_code_mismatches"]) == (data["key_id"], scheme, 0)
    return answer


def subsets(n: int, t: int) -> list[tuple[int, ...]]:
    every = list(itertools.combinations(range(1, n + 1), t + 1))
    return [*every[:: max(1, len(every) // 4)], tuple(range(1, n + 1))]


@pytest.mark.parametrize(("n", "t"), SIZES)
def test_ecdsa_key_recovers_from_any_t_plus_1_and_signs_with_coincurve(n, t):
    share = shares("ecdsa", n, t)[1]
    public = share.public_key.encode()
    for parties in subsets(n, t):
        answer = recovered("ecdsa", n, t, parties)
        assert answer["curve"] == "secp256k1" and answer["chain_code"] == share.chain_code.hex()
        private = coincurve.PrivateKey(bytes.fromhex(answer["private_key"]))
        assert private.public_key.format() == public
        message = f"sweep after disaster, {parties}".encode()
        signature = private.sign(message)   # DER over sha256, by coincurve
        assert coincurve.PublicKey(public).verify(signature, message)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), public).verify(
            signature, message, ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize(("n", "t"), SIZES)
def test_ed25519_key_recovers_from_any_t_plus_1_and_its_raw_scalar_signs(n, t):
    share = shares("eddsa", n, t)[1]
    for parties in subsets(n, t):
        answer = recovered("eddsa", n, t, parties)
        assert answer["curve"] == "ed25519" and answer["chain_code"] == share.chain_code.hex()
        message = f"ed25519 after disaster, {parties}".encode()
        public, signature = ed25519_sign_raw(bytes.fromhex(answer["private_key"]), message)
        assert public == share.verifying_key
        assert frost.ed25519_verifies(public, message, signature)
        ours = sign(from_json(answer), message)
        assert frost.ed25519_verifies(share.verifying_key, message, ours)


@pytest.mark.parametrize(("n", "t"), SIZES)
def test_bip340_key_recovers_and_signs_with_coincurve(n, t):
    share = shares("schnorr", n, t)[1]
    for parties in subsets(n, t)[:2]:
        answer = recovered("schnorr", n, t, parties)
        private = coincurve.PrivateKey(bytes.fromhex(answer["private_key"]))
        assert private.public_key.format() == share.public_key.encode()   # the even-y key
        digest = hashlib.sha256(b"taproot after disaster").digest()
        signature = private.sign_schnorr(digest, bytes(32))
        assert coincurve.PublicKeyXOnly(share.verifying_key).verify(signature, digest)
        assert frost.bip340_verifies(share.verifying_key, digest, sign(from_json(answer, "schnorr"), digest))


def test_bip340_key_whose_dkg_point_had_odd_y_recovers_its_even_y_secret():
    seed = frost.bip340_keys_by_dkg_parity(3, 1)[False]
    key = frost.shares("bip340", 3, 1, seed)
    parts = [ers.make_partial(key[p], ers_public(), LABEL, SeededRng(p)) for p in (2, 3)]
    got = ers.recover(ers.combine(parts, ers_public(), LABEL), ers_private(), LABEL)
    assert coincurve.PrivateKey(int(got.secret).to_bytes(32, "big")).public_key.format()[0] == 2
    digest = hashlib.sha256(b"odd").digest()
    assert frost.bip340_verifies(key[1].verifying_key, digest, sign(got, digest))


def test_known_ed25519_scalar_recovers_and_signs_for_a_standard_verifier():
    group = ED25519
    secret = group.scalar(int(KNOWN_ED25519, 16))
    rng = SeededRng("known-vector")
    parties, t = (1, 2, 3), 1
    poly = shamir.random_polynomial(group, rng, secret, t)
    xs = {j: shamir.evaluate(poly, j) for j in parties}
    public = group.base_mul(secret)
    public_shares = tuple(group.base_mul(xs[j]) for j in parties)
    chain_code = bytes(range(32))
    key = {j: FrostKeyShare(FROST_SCHEMA, "known", 0, "ed25519", t, parties, j, xs[j], public,
                            public_shares, chain_code) for j in parties}
    parts = [ers.make_partial(key[j], ers_public(), LABEL, SeededRng(j)).to_json() for j in (1, 3)]
    answer = ers.recover(ers.combine(parts, ers_public(), LABEL).to_json(), ers_private(), LABEL,
                         public.encode().hex()).to_json()
    assert answer == {"curve": "ed25519", "private_key": KNOWN_ED25519, "chain_code": chain_code.hex(),
                      "key_id": "known", "scheme": "eddsa", "public_key": public.encode().hex(),
                      "chain_code_mismatches": 0}
    message = b"known vector"
    verifying, signature = ed25519_sign_raw(bytes.fromhex(answer["private_key"]), message)
    assert verifying == public.encode()
    assert frost.ed25519_verifies(verifying, message, signature)
    assert frost.ed25519_verifies(verifying, message, sign(from_json(answer), message))


@pytest.mark.parametrize("path", ["m/0", "m/7/2147483647/3"])
def test_ecdsa_children_match_bip_utils_and_sign(path):
    share = shares("ecdsa", 3, 1)[1]
    answer = recovered("ecdsa", 3, 1, (2, 3))
    key = from_json(answer, "ecdsa")
    secret, point = child(key, path)
    ref = Bip32Secp256k1.FromPrivateKey(bytes.fromhex(answer["private_key"]),
                                        Bip32KeyData(chain_code=share.chain_code)).DerivePath(path[2:])
    assert int(secret).to_bytes(32, "big") == ref.PrivateKey().Raw().ToBytes()
    public_ref = Bip32Secp256k1.FromPublicKey(share.public_key.encode(),
                                              Bip32KeyData(chain_code=share.chain_code)).DerivePath(path[2:])
    assert point.encode() == public_ref.PublicKey().RawCompressed().ToBytes()
    signature = coincurve.PrivateKey(int(secret).to_bytes(32, "big")).sign(b"child")
    assert coincurve.PublicKey(point.encode()).verify(signature, b"child")


@pytest.mark.parametrize("scheme", ["eddsa", "schnorr"])
def test_frost_children_sign_for_the_key_the_threshold_signers_use(scheme):
    suite = {"eddsa": "ed25519", "schnorr": "bip340"}[scheme]
    key = shares(scheme, 3, 1)
    threshold = frost.sign(key, [1, 3], b"threshold child", path="m/4/5")
    answer = recovered(scheme, 3, 1, (1, 2))
    mine = sign(from_json(answer, scheme), b"recovered child", path="m/4/5")
    assert frost.external_verify(suite, threshold.public_key, b"recovered child", mine)
    assert frost.external_verify(suite, threshold.public_key, b"threshold child", threshold.signature)


def test_wrong_label_or_another_private_key_does_not_recover():
    data = ers.combine(partials("ecdsa", 3, 1, (1, 2)), ers_public(), LABEL)
    with pytest.raises(ers.BadPartialProof):
        ers.recover(data, ers_private(), "not the label")
    with pytest.raises(ers.KeyMismatch, match="another ERS key"):
        ers.recover(data, ers_private(1), LABEL)


def test_recovery_skips_a_bad_entry_while_t_plus_1_good_ones_remain():
    doc = ers.combine(partials("eddsa", 3, 1, (1, 2, 3)), ers_public(), LABEL).to_json()
    doc["partials"][0]["proof"] = doc["partials"][1]["proof"]
    got = ers.recover(doc, ers_private(), LABEL)
    assert got.public_key == shares("eddsa", 3, 1)[1].public_key
    doc["partials"][2]["holder"] = "someone"
    with pytest.raises(ers.NotEnoughPartials, match="only 1 of the 2") as caught:
        ers.recover(doc, ers_private(), LABEL)
    assert "recovery data partial 1 (claims validator 1" in caught.value.message


def test_recover_checks_the_public_key_it_is_given():
    data = ers.combine(partials("schnorr", 3, 1, (1, 3)), ers_public(), LABEL)
    key = shares("schnorr", 3, 1)[1]
    assert ers.recover(data, ers_private(), LABEL, public_key=key.verifying_key.hex()).public_key == key.public_key
    other = shares("schnorr", 3, 1, "other")[1]
    with pytest.raises(ers.KeyMismatch, match="not the key given"):
        ers.recover(data, ers_private(), LABEL, public_key=other.verifying_key.hex())


def crafted_partial(share, *, witness: int | None = None, chain_code_ciphertext: int | None = None,
                    holder: str = "") -> dict:
    """A partial as a cheating validator makes it: a chosen chain-code ciphertext, or a share
    ciphertext of ``witness`` (not x_i) with a proof made without the prover's range check."""
    public = ers_public()
    params = public.params
    key = share.x if isinstance(share, KeyShare) else share.secret
    facts = ers.make_partial(share, public, LABEL, SeededRng("facts")).facts
    x = int(key) if witness is None else witness
    share_ct, rho = params.paillier.encrypt(x, SeededRng("crafted-share"))
    if chain_code_ciphertext is None:
        chain_code_ciphertext, _ = params.paillier.encrypt(int.from_bytes(share.chain_code, "big"),
                                                           SeededRng("crafted-chain"))
    t = st.transcript(facts, params, LABEL, share.party, holder, chain_code_ciphertext)
    proof = logstar._prove(t, st.statement(facts, params, share.party, share_ct), logstar.Private(x, rho),
                           SeededRng("crafted-proof"), LEVEL)
    return Partial(facts, public.fingerprint, st.Entry(share.party, holder, share_ct, chain_code_ciphertext,
                                                       proof)).to_json()


def test_a_validator_lying_about_the_chain_code_cannot_stop_recovery():
    key = shares("ecdsa", 3, 1)
    wrong, _ = ers_public().params.paillier.encrypt(int.from_bytes(b"\x01" * 32, "big"), SeededRng(9))
    liar = crafted_partial(key[2], chain_code_ciphertext=wrong)
    data = ers.combine([partial_json("ecdsa", 3, 1, 1), liar], ers_public(), LABEL)
    ers.validate(data, ers_public(), LABEL, key[1].public_key.encode(), chain_code=key[1].chain_code)
    got = ers.recover(data, ers_private(), LABEL)
    assert got.chain_code == key[1].chain_code and got.chain_code_mismatches == 1
    assert coincurve.PrivateKey(int(got.secret).to_bytes(32, "big")).public_key.format() == \
        key[1].public_key.encode()
    # The liar first (index 1): its copy is skipped and the next entry's, which matches, is taken.
    first = crafted_partial(key[1], chain_code_ciphertext=wrong)
    got = ers.recover(ers.combine([first, partial_json("ecdsa", 3, 1, 2)], ers_public(), LABEL),
                      ers_private(), LABEL)
    assert got.chain_code == key[1].chain_code and got.chain_code_mismatches == 1
    # A validator committing to another chain code is refused at combine, by position.
    stated = dataclasses.replace(key[2], chain_code=b"\x01" * 32)
    with pytest.raises(ers.KeyMismatch, match="in chain_code_commitment") as caught:
        ers.combine([partial_json("ecdsa", 3, 1, 1), partial_json("ecdsa", 3, 1, 3),
                     ers.make_partial(stated, ers_public(), LABEL, SeededRng(9))], ers_public(), LABEL)
    assert caught.value.position == 3


def test_no_chain_code_matching_the_commitment_fails_recovery_without_showing_any():
    key = shares("ecdsa", 3, 1)
    wrong, _ = ers_public().params.paillier.encrypt(int.from_bytes(b"\x01" * 32, "big"), SeededRng(9))
    liars = [crafted_partial(key[j], chain_code_ciphertext=wrong) for j in (1, 2)]
    data = ers.combine(liars, ers_public(), LABEL)
    with pytest.raises(ers.RecoveryFailed, match="matches the commitment") as caught:
        ers.recover(data, ers_private(), LABEL)
    assert "01" * 32 not in caught.value.message and key[1].chain_code.hex() not in caught.value.message


def _leaks(secret: int, *texts: str) -> bool:
    forms = {format(secret, "x"), format(secret, "X"), str(secret), secret.to_bytes(32, "big").hex()}
    return any(form in text for form in forms for text in texts)


def test_recover_is_no_decryption_oracle():
    victim = shares("ecdsa", 3, 1, "victim")[1]
    stolen = ers.make_partial(victim, ers_public(), LABEL, SeededRng("victim")).entry.share_ciphertext
    key = shares("ecdsa", 3, 1)
    # A validator puts another key's encrypted share where its chain code goes (its proof holds).
    liar = crafted_partial(key[2], chain_code_ciphertext=stolen)
    data = ers.combine([partial_json("ecdsa", 3, 1, 1), liar], ers_public(), LABEL)
    got = ers.recover(data, ers_private(), LABEL)
    answer = json.dumps(got.to_json())
    assert got.chain_code == key[1].chain_code and got.chain_code_mismatches == 1
    assert not _leaks(int(victim.x), answer, repr(got))
    # The stolen ciphertext in place of a share: the proof fails and nothing decrypted is shown.
    doc = data.to_json()
    for entry in doc["partials"]:
        entry["share_ciphertext"] = format(stolen, "x")
    with pytest.raises(ers.ErsError) as caught:
        ers.recover(doc, ers_private(), LABEL)
    assert not _leaks(int(victim.x), caught.value.message, str(caught.value))
    assert "does not verify" in caught.value.message


def test_a_cheating_prover_for_x_plus_1_is_refused():
    key = shares("eddsa", 3, 1)
    cheat = crafted_partial(key[2], witness=int(key[2].secret) + 1)
    with pytest.raises(ers.BadPartialProof, match="partial 2 .claims validator 2.* does not verify") as caught:
        ers.combine([partial_json("eddsa", 3, 1, 1), cheat], ers_public(), LABEL)
    assert caught.value.position == 2


def test_a_cheating_prover_for_x_plus_q_times_2_to_200_recovers_x_mod_q():
    """x + q·2^200 has the same discrete log as x, and it lies inside the range proof's slack
    (|e·w| ≈ 2^712 < 2^(ℓ+ε) = 2^768), so the proof verifies: Π^log* binds the plaintext
    mod q and bounds its size, no more. That is harmless here: recovery decrypts the integer
    (far below N/2), reduces it mod q and gets x_i itself, checked against X_i."""
    key = shares("ecdsa", 3, 1)
    q = key[2].group.order
    cheat = crafted_partial(key[2], witness=int(key[2].x) + q * 2**200)
    data = ers.combine([partial_json("ecdsa", 3, 1, 1), cheat], ers_public(), LABEL)
    ers.validate(data, ers_public(), LABEL, key[1].public_key.encode())
    got = ers.recover(data, ers_private(), LABEL)
    assert coincurve.PrivateKey(int(got.secret).to_bytes(32, "big")).public_key.format() == \
        key[1].public_key.encode()


def test_a_recovered_key_reads_back_with_its_own_scheme_and_public_key():
    answer = recovered("schnorr", 3, 1, (1, 2))
    key = from_json(answer)
    assert (key.scheme, key.key_id) == ("schnorr", answer["key_id"])
    with pytest.raises(UsageError, match="not its private key's"):
        from_json(dict(answer, public_key=recovered("schnorr", 3, 1, (2, 3))["public_key"][:-2] + "00"))
    with pytest.raises(UsageError, match="not 'ecdsa'"):
        from_json(answer, "ecdsa")


def test_recovered_key_is_redacted_and_never_pickled():
    got = ers.recover(ers.combine(partials("ecdsa", 3, 1, (1, 2)), ers_public(), LABEL), ers_private(), LABEL)
    assert "redacted" in repr(got) and format(int(got.secret), "x") not in repr(got)
    with pytest.raises(Exception, match="never pickled"):
        __import__("pickle").dumps(got)
