"""Π^dec: Paillier decryption modulo q against a group element (protocol/zk/dec.py).

What every proof must do (tampering, wire round trip, decoders, binding) runs over the
table in ``cases.py``; here is what Π^dec has of its own."""

from dataclasses import replace

import pytest

from protocol.errors import InvalidProof, UsageError
from protocol.group import ED25519, SECP256K1
from protocol.params import DEFAULT_LEVEL as LEVEL
from protocol.rng import SeededRng
from protocol.zk import dec
from tests.protocol.zk import cases
from tests.protocol.zk.cases import PROVER_KEY, VERIFIER_AUX
from tests.protocol.zk.cases import dec_statement as statement

BITS = dec.max_bits(PROVER_KEY.public, LEVEL)
session = cases.case("dec").session


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
    pub, priv = statement(-99, g=SECP256K1.generator)
    verify(pub, dec.prove(session(), pub, priv, SeededRng(3)))


def test_crt_prover_and_public_key_prover_give_the_same_proof():
    pub, priv = statement(2024)
    assert dec.prove(session(), pub, priv, SeededRng(4)) == dec.prove(
        session(), pub, dec.Private(priv.y, priv.rho), SeededRng(4))


@pytest.fixture(scope="module")
def honest():
    pub, priv = statement(2**1200 + 5)
    return pub, dec.prove(session(), pub, priv, SeededRng(5))


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
