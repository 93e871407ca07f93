"""The keygen certificate: honest certificates verify on both curves, and any change
to the certificate or to the claimed keygen is refused."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import shamir, wire
from protocol.errors import EncodingError, InvalidProof, UsageError
from protocol.group import ED25519, SECP256K1
from protocol.keygen_certificate import (
    KeygenCertificate,
    assemble_certificate,
    certify,
    certify_participant,
    feldman_commitments,
    public_shares,
    verify_keygen_certificate,
)
from protocol.rng import SeededRng

GROUPS = [SECP256K1, ED25519]
SESSION = b"certificate-test-session"
PARTIES = (1, 2, 4, 7)
THRESHOLD = 2


def _keygen(group, parties=PARTIES, threshold=THRESHOLD, key_id="key-1", seed=1):
    rng = SeededRng(seed)
    polys = {i: [group.random_scalar(rng) for _ in range(threshold + 1)] for i in parties}
    cert = certify(key_id, group, parties, threshold, polys, rng, session_id=SESSION)
    public_key = group.base_mul(sum((p[0] for p in polys.values()), group.scalar(0)))
    return cert, public_key, polys


@pytest.fixture(params=GROUPS, ids=lambda g: g.name)
def group(request):
    return request.param


def test_honest_certificate_verifies(group):
    cert, pk, _ = _keygen(group)
    verify_keygen_certificate(cert, "key-1", group, pk, PARTIES, THRESHOLD)
    # ... also from bytes, as it travels in a ledger transaction.
    verify_keygen_certificate(wire.encode(cert, group), "key-1", group, pk.encode(), PARTIES, THRESHOLD)


def test_public_shares_match_the_secret_shares(group):
    _, _, polys = _keygen(group)
    vectors = [feldman_commitments(group, polys[i]) for i in PARTIES]
    shares = public_shares(group, vectors, PARTIES)
    for j in PARTIES:
        secret_share = sum(a.value * j**k for i in PARTIES for k, a in enumerate(polys[i]))
        assert shares[j] == group.base_mul(secret_share)


def test_entries_assembled_by_each_participant(group):
    rng = SeededRng(5)
    polys = {i: [group.random_scalar(rng) for _ in range(THRESHOLD + 1)] for i in PARTIES}
    entries = [certify_participant("k", group, PARTIES, THRESHOLD, i, polys[i], rng, session_id=SESSION)
               for i in reversed(PARTIES)]
    cert = assemble_certificate(entries, PARTIES, session_id=SESSION)
    pk = group.sum_points(e.commitments[0] for e in cert.entries)
    verify_keygen_certificate(cert, "k", group, pk, PARTIES, THRESHOLD)
    with pytest.raises(UsageError):
        assemble_certificate(entries[1:], PARTIES, session_id=SESSION)


@pytest.mark.parametrize("change", [
    {"key_id": "key-2"},
    {"participants": (1, 2, 4, 8)},
    {"threshold": 1},
    {"threshold": 3},
])
def test_certificate_bound_to_the_keygen(group, change):
    cert, pk, _ = _keygen(group)
    claim = {"key_id": "key-1", "participants": PARTIES, "threshold": THRESHOLD}
    claim.update(change)
    with pytest.raises(InvalidProof):
        verify_keygen_certificate(cert, claim["key_id"], group, pk, claim["participants"], claim["threshold"])


def test_wrong_public_key(group):
    cert, pk, _ = _keygen(group)
    with pytest.raises(InvalidProof):
        verify_keygen_certificate(cert, "key-1", group, pk + group.generator, PARTIES, THRESHOLD)


def test_missing_participant(group):
    cert, pk, _ = _keygen(group)
    short = KeygenCertificate(cert.session_id, cert.entries[:-1])
    with pytest.raises(InvalidProof):
        verify_keygen_certificate(short, "key-1", group, pk, PARTIES, THRESHOLD)
    # Dropping the participant from the claim too still fails: the key is the sum of all.
    with pytest.raises(InvalidProof):
        verify_keygen_certificate(short, "key-1", group, pk, PARTIES[:-1], THRESHOLD)


def test_reordered_or_duplicated_entries(group):
    cert, pk, _ = _keygen(group)
    swapped = KeygenCertificate(cert.session_id, (cert.entries[1], cert.entries[0], *cert.entries[2:]))
    doubled = KeygenCertificate(cert.session_id, (cert.entries[0], cert.entries[0], *cert.entries[2:]))
    for bad in (swapped, doubled):
        with pytest.raises(InvalidProof):
            verify_keygen_certificate(bad, "key-1", group, pk, PARTIES, THRESHOLD)


def test_rogue_key_contribution_refused(group):
    """A last participant choosing X_n = P - Σ X_i cannot prove knowledge of its secret."""
    cert, _, _ = _keygen(group)
    target = group.base_mul(12345)
    others = group.sum_points(e.commitments[0] for e in cert.entries[:-1])
    last = cert.entries[-1]
    rogue = dataclasses.replace(last, commitments=(target - others, *last.commitments[1:]))
    forged = KeygenCertificate(cert.session_id, (*cert.entries[:-1], rogue))
    with pytest.raises(InvalidProof):
        verify_keygen_certificate(forged, "key-1", group, target, PARTIES, THRESHOLD)


def _tamper(entry, field, group):
    if field == "party":
        return dataclasses.replace(entry, party=entry.party + 100)
    if field == "constant":
        return dataclasses.replace(entry, commitments=(entry.commitments[0] + group.generator,
                                                        *entry.commitments[1:]))
    if field == "higher":
        return dataclasses.replace(entry, commitments=(*entry.commitments[:-1],
                                                        entry.commitments[-1] + group.generator))
    if field == "length":
        return dataclasses.replace(entry, commitments=(*entry.commitments, group.generator))
    if field == "proof_A":
        return dataclasses.replace(entry, proof=dataclasses.replace(
            entry.proof, A=entry.proof.A + group.generator))
    return dataclasses.replace(entry, proof=dataclasses.replace(entry.proof, z=entry.proof.z + 1))


@settings(max_examples=30)
@given(group=st.sampled_from(GROUPS), index=st.integers(0, len(PARTIES) - 1),
       field=st.sampled_from(["party", "constant", "higher", "length", "proof_A", "proof_z"]))
def test_any_altered_field_is_refused(group, index, field):
    cert, pk, _ = _keygen(group)
    entries = list(cert.entries)
    entries[index] = _tamper(entries[index], field, group)
    # Keep the claimed key consistent with a tampered constant term, so only the proof can catch it.
    claimed = group.sum_points(e.commitments[0] for e in entries) if field == "constant" else pk
    with pytest.raises(InvalidProof):
        verify_keygen_certificate(KeygenCertificate(SESSION, tuple(entries)), "key-1", group, claimed,
                                  PARTIES, THRESHOLD)


def test_bytes_that_do_not_decode(group):
    cert, pk, _ = _keygen(group)
    data = wire.encode(cert, group)
    other = ED25519 if group is SECP256K1 else SECP256K1
    with pytest.raises(EncodingError):
        verify_keygen_certificate(data[:-1], "key-1", group, pk, PARTIES, THRESHOLD)
    with pytest.raises(EncodingError):  # a certificate for the other curve
        verify_keygen_certificate(data, "key-1", other, other.generator, PARTIES, THRESHOLD)
    with pytest.raises(EncodingError):
        verify_keygen_certificate(cert, "key-1", group, b"\x05" * 33, PARTIES, THRESHOLD)


def test_certificate_encoding_round_trips(group):
    cert, _, _ = _keygen(group)
    data = wire.encode(cert, group)
    assert wire.decode(data, KeygenCertificate, group) == cert


def test_parameters_checked_when_certifying(group):
    rng = SeededRng(3)
    poly = [group.random_scalar(rng) for _ in range(THRESHOLD + 1)]
    with pytest.raises(UsageError):
        certify_participant("k", group, PARTIES, THRESHOLD, 3, poly, rng, session_id=SESSION)  # not a participant
    with pytest.raises(UsageError):
        certify_participant("k", group, PARTIES, THRESHOLD, 1, poly[:-1], rng, session_id=SESSION)
    with pytest.raises(UsageError):
        certify_participant("k", group, (2, 1), 1, 1, poly[:2], rng, session_id=SESSION)


def test_entries_of_two_sessions_of_one_key_id_do_not_mix():
    group = SECP256K1
    rng = SeededRng(b"mix")
    polys = {i: shamir.random_polynomial(group, rng, group.random_nonzero_scalar(rng), THRESHOLD)
             for i in PARTIES}
    first = certify("key-1", group, PARTIES, THRESHOLD, polys, rng, session_id=b"run-1")
    second = certify("key-1", group, PARTIES, THRESHOLD, polys, rng, session_id=b"run-2")
    mixed = KeygenCertificate(b"run-1", (first.entries[0], *second.entries[1:]))
    pk = group.sum_points(group.base_mul(polys[i][0]) for i in PARTIES)
    verify_keygen_certificate(first, "key-1", group, pk, PARTIES, THRESHOLD)
    with pytest.raises(InvalidProof):
        verify_keygen_certificate(mixed, "key-1", group, pk, PARTIES, THRESHOLD)
