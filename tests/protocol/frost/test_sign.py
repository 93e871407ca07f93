"""FROST signing end to end: DKG then sign through the simulator, checked by other libraries."""

import itertools

import pytest
from bip_utils import Bip32ChainCode, Bip32KeyData, Bip32Secp256k1, P2TRAddrDecoder, P2TRAddrEncoder
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import hd, wire
from protocol.errors import UsageError
from protocol.frames import ENVELOPES, Frame
from protocol.frost import single_key
from protocol.frost.core import Commitment, SigningPackage
from protocol.frost.sign import FrostSign
from protocol.frost.sign_round1 import SigningCommitments
from protocol.rng import SeededRng
from tests.protocol import simulator
from tests.protocol.frost import helpers
from tests.protocol.frost.test_keygen import CONFIGS


@pytest.mark.parametrize("suite", helpers.SUITES)
@pytest.mark.parametrize(("n", "t"), CONFIGS)
def test_dkg_then_sign_verifies_externally(suite, n, t):
    key = helpers.shares(suite, n, t)
    signers = list(range(n - t, n + 1))  # the last t+1 parties
    message = f"{suite} {n}-of-{t} message".encode()
    sig = helpers.sign(key, signers, message)
    assert len(sig.signature) == 64 and sig.public_key == key[n].verifying_key
    assert helpers.external_verify(suite, sig.public_key, message, sig.signature)
    assert not helpers.external_verify(suite, sig.public_key, message + b".", sig.signature)


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_every_signer_set_of_a_4_of_2_key_signs(suite):
    key = helpers.shares(suite, 4, 2)
    for size in (3, 4):
        for signers in itertools.combinations([1, 2, 3, 4], size):
            message = bytes(signers)
            sig = helpers.sign(key, signers, message, seed=str(signers))
            assert helpers.external_verify(suite, sig.public_key, message, sig.signature)


@settings(max_examples=8)
@given(st.sampled_from(helpers.SUITES), st.sets(st.integers(1, 5), min_size=3, max_size=5),
       st.binary(max_size=80))
def test_any_large_enough_signer_set_signs_any_message(suite, signers, message):
    key = helpers.shares(suite, 5, 2)
    sig = helpers.sign(key, sorted(signers), message)
    assert helpers.external_verify(suite, sig.public_key, message, sig.signature)


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_the_signature_is_random_but_always_valid(suite):
    key = helpers.shares(suite, 3, 1)
    a = helpers.sign(key, [1, 2], b"same", seed="a")
    b = helpers.sign(key, [1, 2], b"same", seed="b")
    assert a.signature != b.signature and a.public_key == b.public_key == key[1].verifying_key
    for sig in (a, b):
        assert helpers.external_verify(suite, sig.public_key, b"same", sig.signature)
        assert key[1].ciphersuite.verify(sig.public_key, b"same", sig.signature)


@pytest.mark.parametrize("suite", helpers.SUITES)
@pytest.mark.parametrize("path", ["m/0", "m/44/0/7", "m/2147483647/1"])
def test_hd_children_sign_for_the_derived_key(suite, path):
    key = helpers.shares(suite, 3, 1)
    share = key[1]
    child = hd.derive(share.group, share.public_key, share.chain_code, path).public_key
    sig = helpers.sign(key, [1, 3], b"child", path=path)
    assert sig.public_key == share.ciphersuite.encode_public_key(child)
    assert sig.public_key != share.verifying_key
    assert helpers.external_verify(suite, sig.public_key, b"child", sig.signature)


def _xpub_child(xonly: bytes, chain_code: bytes, path: str) -> bytes:
    """The x-only child an ordinary BIP32 wallet derives from an xpub of the 32-byte key."""
    parent = Bip32Secp256k1.FromPublicKey(b"\x02" + xonly,
                                          Bip32KeyData(chain_code=Bip32ChainCode(chain_code)))
    return parent.DerivePath(path).PublicKey().RawCompressed().ToBytes()[1:]


@pytest.mark.parametrize("dkg_even", [True, False])
def test_bip340_children_match_bip32_derivation_from_the_x_only_key(dkg_even):
    """For both DKG outcomes, an xpub of the 32-byte key derives the children the signers sign for."""
    seed = helpers.bip340_keys_by_dkg_parity(3, 1)[dkg_even]
    key = helpers.shares("bip340", 3, 1, seed)
    share = key[2]
    for path in ("m/5/6", "m/0", "m/1/2/3"):
        expected = _xpub_child(share.verifying_key, share.chain_code, path)
        sig = helpers.sign(key, [2, 3], b"bip32", path=path, seed=seed)
        assert sig.public_key == expected
        assert helpers.bip340_verifies(expected, b"bip32", sig.signature)


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_hardened_derivation_is_refused(suite):
    share = helpers.shares(suite, 3, 1)[1]
    for path in ("m/0'", "m/1/2h", [2**31]):
        with pytest.raises(UsageError, match="hardened"):
            FrostSign(share, [1, 2], b"m", b"s", SeededRng(1), path=path)


def test_taproot_key_path_signatures_for_both_parities():
    """Several keys (both DKG outcomes) and paths, until the derived internal key and the
    output key have each taken both parities; every output key is BIP341's, every signature verifies."""
    internal_parities, output_parities = set(), set()
    for dkg_even, seed in sorted(helpers.bip340_keys_by_dkg_parity(4, 2).items()):
        key = helpers.shares("bip340", 4, 2, seed)
        share = key[1]
        for path in (None, "m/3/1", "m/0", "m/1", "m/2", "m/7/7", "m/9", "m/12"):
            internal = share.public_key
            if path is not None:
                internal = hd.derive(share.group, internal, share.chain_code, path).public_key
            output_point = helpers.bip341_output_point(internal.encode())
            expected = output_point[1:]
            address = P2TRAddrEncoder.EncodeKey(internal.encode(), hrp="bcrt")
            assert P2TRAddrDecoder.DecodeAddr(address, hrp="bcrt") == expected
            sig = helpers.sign(key, [1, 2, 4], b"taproot spend", path=path, taproot=True, seed=seed)
            assert sig.public_key == expected
            assert helpers.bip340_verifies(expected, b"taproot spend", sig.signature)
            internal_parities.add((dkg_even, internal.has_even_y()))
            output_parities.add(output_point[0])
    assert {(True, True), (False, True)} <= internal_parities  # roots: always even after keygen
    assert {p for _, p in internal_parities} == {True, False}  # derived children: both
    assert output_parities == {2, 3}


def test_taproot_needs_bip340():
    share = helpers.shares("ed25519", 3, 1)[1]
    with pytest.raises(UsageError, match="Taproot"):
        FrostSign(share, [1, 2], b"m", b"s", SeededRng(1), taproot=True)


def _group_commitment_sign(net, signer: int, message: bytes) -> int:
    """s_R of a finished session, recomputed from the public round-1 broadcasts on the wire."""
    machine = net.channels[signer].machine
    commitments = []
    for sender, _, body in net.log:
        frame = wire.decode_one_of(body, ENVELOPES)
        if isinstance(frame, Frame) and frame.round == 1 and frame.recipient == 0 \
                and sender not in {c.identifier for c in commitments}:
            msg = wire.decode(frame.body, SigningCommitments, machine.group)
            commitments.append(Commitment(sender, msg.hiding, msg.binding))
    package = SigningPackage(machine.suite, machine.key, commitments, message, context=machine.tag)
    return package.nonce_sign


def test_both_parities_of_dkg_key_and_commitment_occur_and_verify():
    """Odd and even y occur for the DKG's key and for R; keys are kept even; all signatures verify."""
    nonce_signs = set()
    for dkg_even, seed in helpers.bip340_keys_by_dkg_parity(3, 1).items():
        key = helpers.shares("bip340", 3, 1, seed)
        assert key[1].public_key.has_even_y()
        for session in (b"a", b"b", b"c", b"d", b"e", b"f"):
            net = simulator.run(helpers.sign_machines(key, [1, 3], b"parity", session=session, seed=seed))
            sig = simulator.assert_success(net)[1]
            assert sig.public_key == key[1].verifying_key
            assert helpers.bip340_verifies(sig.public_key, b"parity", sig.signature)
            nonce_signs.add((dkg_even, _group_commitment_sign(net, 1, b"parity")))
    assert nonce_signs == {(True, 1), (True, -1), (False, 1), (False, -1)}


def test_a_recovered_key_signs_for_the_same_keys_as_the_threshold():
    for suite in helpers.SUITES:
        key = helpers.shares(suite, 3, 1)
        secret = single_key.recover_secret([key[1], key[3]])
        share = key[1]
        for options in ({}, {"path": "m/9"}) + (({"taproot": True},) if suite == "bip340" else ()):
            threshold_sig = helpers.sign(key, [2, 3], b"both", **options)
            raw = single_key.sign(suite, secret, b"both", chain_code=share.chain_code, **options)
            assert single_key.public_key(suite, secret, chain_code=share.chain_code,
                                         **options) == threshold_sig.public_key
            assert helpers.external_verify(suite, threshold_sig.public_key, b"both", raw)


def test_signer_set_and_message_are_checked():
    share = helpers.shares("ed25519", 4, 2)[1]
    with pytest.raises(UsageError):
        FrostSign(share, [1, 2], b"m", b"s", SeededRng(1))        # fewer than t+1
    with pytest.raises(UsageError):
        FrostSign(share, [2, 3, 4], b"m", b"s", SeededRng(1))     # this party is missing
    with pytest.raises(UsageError):
        FrostSign(share, [1, 2, 5], b"m", b"s", SeededRng(1))     # 5 holds no share
    with pytest.raises(UsageError):
        FrostSign(share, [1, 2, 3], "text", b"s", SeededRng(1))   # not bytes
    with pytest.raises(UsageError):
        FrostSign(share, [1, 2, 3], b"m", b"", SeededRng(1))      # empty session id
    with pytest.raises(UsageError, match="twice"):
        FrostSign(share, [1, 2, 2, 3], b"m", b"s", SeededRng(1))  # a signer listed twice
    with pytest.raises(UsageError, match="twice"):
        FrostSign(share, [1, 1, 2], b"m", b"s", SeededRng(1))     # would be too few without the copy
    with pytest.raises(UsageError, match="twice"):
        share.check_signers([3, 1, 3, 2])
    assert share.check_signers([3, 1, 2]) == (1, 2, 3)


@pytest.mark.parametrize("change", [{"message": b"n"}, {"path": "m/1"}, {"taproot": True},
                                    {"session": b"t"}], ids=lambda c: next(iter(c)))
def test_signers_given_different_inputs_abort_without_blame(change):
    key = helpers.shares("bip340", 4, 2)
    base = {"message": b"m", "session": b"s", "path": None, "taproot": False}

    def machine(p, inputs):
        return FrostSign(key[p], [1, 2, 3], inputs["message"], inputs["session"],
                         helpers.party_rng("sign", "inputs", inputs["session"], p),
                         path=inputs["path"], taproot=inputs["taproot"])
    machines = {p: machine(p, base | change if p == 2 else base) for p in (1, 2, 3)}
    net = simulator.run(machines)
    for p, ch in net.channels.items():
        assert ch.result is None, f"party {p} output a signature"
        assert ch.blame is not None and ch.blame.culprits == (), (p, ch.blame)
        assert "other inputs" in ch.blame.check
