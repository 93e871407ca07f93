"""The transcript must be unambiguous and its challenges unbiased and independent."""

from collections import Counter

import gmpy2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import UsageError
from protocol.group import ED25519, SECP256K1
from protocol.params import DEFAULT_LEVEL
from protocol.transcript import Transcript, encode_value

leaves = st.one_of(st.binary(max_size=8), st.integers(-(2**70), 2**70), st.text(max_size=4))
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3), max_leaves=8)


def typed(value):
    """Python's == says 1 == True and [] == (); the transcript compares by type too."""
    if isinstance(value, list | tuple):
        return ("list", tuple(typed(v) for v in value))
    return (type(value).__name__, value)


@settings(max_examples=300)
@given(values, values)
def test_distinct_values_never_encode_alike(a, b):
    if typed(a) != typed(b):
        assert encode_value(a) != encode_value(b)


@settings(max_examples=200)
@given(st.lists(st.tuples(st.text(max_size=3), values), max_size=4),
       st.lists(st.tuples(st.text(max_size=3), values), max_size=4))
def test_distinct_append_sequences_give_distinct_challenges(seq_a, seq_b):
    def digest(seq):
        t = Transcript("test")
        for label, value in seq:
            t.append(label, value)
        return t.challenge_bytes("c", 32)

    if [(lbl, typed(v)) for lbl, v in seq_a] != [(lbl, typed(v)) for lbl, v in seq_b]:
        assert digest(seq_a) != digest(seq_b)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ([b"ab", b"c"], [b"a", b"bc"]),            # split point moves
        ([b"a", b"b"], [b"ab"]),                   # [a, b] vs [a || b]
        ([[b"a"], [b"b"]], [[b"a", b"b"]]),        # nesting
        ([[]], []),                                # empty nested list
        (b"", []),                                 # empty bytes vs empty list
        (b"", ""),                                 # empty bytes vs empty string
        (0, b""),                                  # zero vs empty
        (b"\x00\xff", b"\xff"),                    # leading zero byte
        (255, b"\x00\xff"),                        # integer vs its bytes
        (-1, 1),                                   # sign
        ("1", 1),                                  # type
    ],
)
def test_known_ambiguities_are_distinct(left, right):
    assert encode_value(left) != encode_value(right)


def test_label_boundaries_are_unambiguous():
    t1, t2 = Transcript("d"), Transcript("d")
    t1.append("ab", b"c")
    t2.append("a", b"bc")
    assert t1.challenge_bytes("x", 32) != t2.challenge_bytes("x", 32)


def test_integers_have_one_encoding():
    assert encode_value(gmpy2.mpz(12345)) == encode_value(12345)
    assert encode_value(gmpy2.mpz(-7)) == encode_value(-7)


def test_group_elements_are_bound_to_their_group():
    s1, s2 = SECP256K1.scalar(5), ED25519.scalar(5)
    assert encode_value(s1) != encode_value(s2)
    assert encode_value(SECP256K1.generator) != encode_value(SECP256K1.generator.encode())


@pytest.mark.parametrize("bad", [None, True, 1.5, {"a": 1}])
def test_unencodable_values_are_refused(bad):
    with pytest.raises(UsageError):
        encode_value(bad)


def test_domain_separates():
    assert Transcript("a").challenge_bytes("c", 16) != Transcript("b").challenge_bytes("c", 16)


def test_session_binding():
    def challenge(session, parties, level=DEFAULT_LEVEL):
        return Transcript.for_session("p", session, parties, level).challenge_bytes("c", 16)

    base = challenge(b"s1", [1, 2, 3])
    assert base == challenge(b"s1", [1, 2, 3])
    assert base != challenge(b"s2", [1, 2, 3])
    assert base != challenge(b"s1", [1, 2])
    other_level = type(DEFAULT_LEVEL)(repetitions=200)
    assert base != challenge(b"s1", [1, 2, 3], other_level)


def test_challenges_ratchet_and_copies_are_independent():
    t = Transcript("d")
    c = t.copy()
    first = t.challenge_int("e", 2**256)
    assert first != t.challenge_int("e", 2**256)          # same label twice: fresh value
    assert c.challenge_int("e", 2**256) == first          # the copy was not advanced by t


def test_fork_separates_provers():
    t = Transcript("d")
    assert t.fork("prover", 1).challenge_bytes("e", 32) != t.fork("prover", 2).challenge_bytes("e", 32)


@pytest.mark.parametrize("bound", [1, 2, 3, 5, 2**8 + 1, 2**255 + 1, 3 * 2**200])
def test_challenge_int_stays_below_bound(bound):
    t = Transcript("range")
    for _ in range(50):
        assert 0 <= t.challenge_int("e", bound) < bound


def test_challenge_int_is_not_biased_by_modulo():
    # Drawing below 192 from one byte: a plain ``byte % 192`` would give 0..63 probability
    # 1/2 instead of 1/3; rejection sampling keeps it at 1/3.
    t = Transcript("bias")
    counts = Counter(t.challenge_int("e", 192) < 64 for _ in range(6000))
    low_share = counts[True] / 6000
    assert abs(low_share - 1 / 3) < 0.03, low_share


def test_challenge_signed_is_symmetric_and_bounded():
    t = Transcript("signed")
    draws = [t.challenge_signed("e", 10) for _ in range(2000)]
    assert min(draws) == -10 and max(draws) == 10


def test_repeated_challenges_are_pairwise_distinct():
    ys = Transcript("mod").challenge_ints("y", 2**2048, 80)
    assert len(set(ys)) == 80


def test_challenge_bits_are_balanced():
    bits = Transcript("bits").challenge_bits("e", 4000)
    assert len(bits) == 4000 and set(bits) == {0, 1}
    assert abs(sum(bits) - 2000) < 200


def test_challenge_scalar_is_in_group():
    for group in (SECP256K1, ED25519):
        s = Transcript("s").challenge_scalar("e", group)
        assert s.group is group and 0 <= s.value < group.order


def test_bad_bound_is_a_usage_error():
    with pytest.raises(UsageError):
        Transcript("d").challenge_int("e", 0)
