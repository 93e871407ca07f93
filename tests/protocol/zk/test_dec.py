"""Π^dec: Paillier decryption modulo q against a group element (protocol/zk/dec.py)."""

from dataclasses import replace

import pytest

from protocol import wire
from protocol.errors import EncodingError, InvalidProof, UsageError
from protocol.group import ED25519, SECP256K1
from protocol.params import DEFAULT_LEVEL as LEVEL
from protocol.rng import SeededRng
from protocol.transcript import Transcript
from protocol.zk import dec
from tests.primepool import paillier_key, ring_pedersen
from tests.protocol.zk.helpers import assert_all_rejected, malformed_encodings

PROVER_KEY = paillier_key(0)
VERIFIER_AUX = ring_pedersen(1)
BITS = dec.max_bits(PROVER_KEY.public, LEVEL)


def session(sid: bytes = b"session-A") -> Transcript:
    return Transcript.for_session("tests/zk/dec", sid, [1, 2], LEVEL).fork("prover", 1)


def statement(y: int, group=SECP256K1, seed: int = 1, base_scalar: int | None = 7):
    C, rho = PROVER_KEY.public.encrypt(y, SeededRng(seed))
    g = group.base_mul(base_scalar) if base_scalar else group.generator
    pub = dec.Public(group, PROVER_KEY.public, C, g, (y % group.order) * g, VERIFIER_AUX.params, BITS)
    return pub, dec.Private(y, rho, PROVER_KEY)


def verify(pub, proof, **kwargs):
    dec.verify(session(), pub, proof, LEVEL, aux_secret=kwargs.get("aux_secret", VERIFIER_AUX))


@pytest.mark.parametrize("group", [SECP256K1, ED25519], ids=lambda g: g.name)
@pytest.mark.parametrize("y", [0, 12345, -(2**1300) + 17, 2**BITS, -(2**BITS)],
                         ids=["zero", "small", "negative", "+2^B", "-2^B"])
def test_honest_proofs_verify_with_and_without_the_trapdoor(group, y):
    pub, priv = statement(y, group)
    proof = dec.prove(session(), pub, priv, SeededRng(2))
    verify(pub, proof)
    dec.verify(session(), pub, proof, LEVEL)


def test_the_generator_as_base_is_the_papers_scalar_statement():
    pub, priv = statement(-99, base_scalar=None)
    verify(pub, dec.prove(session(), pub, priv, SeededRng(3)))


def test_crt_prover_and_public_key_prover_give_the_same_proof():
    pub, priv = statement(2024)
    assert dec.prove(session(), pub, priv, SeededRng(4)) == dec.prove(
        session(), pub, dec.Private(priv.y, priv.rho), SeededRng(4))


@pytest.fixture(scope="module")
def honest():
    pub, priv = statement(2**1200 + 5)
    return pub, dec.prove(session(), pub, priv, SeededRng(5))


def test_every_tampered_field_is_rejected(honest):
    pub, proof = honest
    assert assert_all_rejected(lambda p: verify(pub, p), proof) >= 20


def test_a_wrong_residue_is_rejected(honest):
    pub, proof = honest
    with pytest.raises(InvalidProof, match="z1·g = Y"):
        verify(replace(pub, X=pub.X + pub.g), proof)


def test_another_transcript_is_rejected(honest):
    pub, proof = honest
    with pytest.raises(InvalidProof):
        dec.verify(session(b"session-B"), pub, proof, LEVEL, aux_secret=VERIFIER_AUX)


def test_a_non_canonical_representative_is_caught_by_the_range():
    """y + t·N0 encrypts to the same C with any residue mod q: only the z1 range stops it."""
    y, group = 1234, SECP256K1
    pub, priv = statement(y)
    n, q = PROVER_KEY.n, group.order
    wanted = 777                                          # the residue the cheater claims
    t = (wanted - y) * pow(int(n), -1, q) % q             # y + t·N0 ≡ wanted (mod q)
    lie = y + t * n
    assert lie % q == wanted and lie.bit_length() > BITS
    forged = replace(pub, X=wanted * pub.g)
    proof = dec._prove(session(), forged, replace(priv, y=lie), SeededRng(6), LEVEL)
    with pytest.raises(InvalidProof, match="z1 outside"):
        verify(forged, proof)


def test_an_over_range_witness_proves_only_the_centred_decryption():
    """|y| > 2^B is not what Π^dec refuses: a cheating prover with y = 2^(B+64) is accepted.

    What the proof states is about C's centred decryption (|y| < N0/2 from the z1
    bound) and its residue mod q, both of which hold for this y; ``hidden_bits`` is
    the honest bound the mask is sized for, not a proven range.
    """
    y = 2 ** (BITS + 64) + 99
    pub, priv = statement(y)
    assert PROVER_KEY.decrypt_signed(pub.C) == y             # the centred decryption is y itself
    proof = dec._prove(session(), pub, priv, SeededRng(8), LEVEL)
    verify(pub, proof)
    dec.verify(session(), pub, proof, LEVEL)
    # ... and X is still pinned to it: any other residue is refused.
    with pytest.raises(InvalidProof, match="z1·g = Y"):
        verify(replace(pub, X=pub.X + pub.g), dec._prove(session(), replace(pub, X=pub.X + pub.g), priv,
                                                         SeededRng(9), LEVEL))


def test_the_prover_refuses_a_witness_out_of_range():
    pub, priv = statement(2**BITS + 1)
    with pytest.raises(UsageError, match="witness"):
        dec.prove(session(), pub, priv, SeededRng(7))


@pytest.mark.parametrize("bits", [0, BITS + 1])
def test_a_bound_the_modulus_cannot_support_is_a_usage_error(honest, bits):
    pub, proof = honest
    with pytest.raises(UsageError, match="not sound"):
        verify(replace(pub, hidden_bits=bits), proof)


def test_the_proof_round_trips_and_refuses_malformed_encodings(honest):
    _, proof = honest
    data = wire.encode(proof, SECP256K1)
    assert wire.decode(data, dec.Proof, SECP256K1) == proof
    for label, bad in malformed_encodings(dec.Proof, data, other_type_ids=[0x0104]):
        with pytest.raises(EncodingError):
            wire.decode(bad, dec.Proof)
            pytest.fail(label)
