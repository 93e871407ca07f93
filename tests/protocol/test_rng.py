"""RNG helpers: exact ranges, no modulo bias, reproducible seeded streams."""

from collections import Counter

import gmpy2
import pytest

from protocol.errors import UsageError
from protocol.rng import SeededRng, SystemRng, rand_interval, rand_unit, randbelow, randbits


def test_seeded_streams_are_reproducible_and_seed_specific():
    assert SeededRng(7).random_bytes(64) == SeededRng(7).random_bytes(64)
    assert SeededRng(7).random_bytes(64) != SeededRng(8).random_bytes(64)
    assert SeededRng("a").random_bytes(32) != SeededRng(b"b").random_bytes(32)
    rng = SeededRng(1)
    assert rng.random_bytes(16) != rng.random_bytes(16)       # the stream advances


def test_reprs_reveal_no_seed():
    assert "redacted" in repr(SeededRng(b"secret seed"))
    assert repr(SystemRng()) == "SystemRng()"


@pytest.mark.parametrize("bits", [0, 1, 7, 8, 9, 255, 256, 2049])
def test_randbits_stays_below_two_to_the_bits(bits):
    rng = SeededRng(bits)
    draws = [randbits(rng, bits) for _ in range(200)]
    assert all(0 <= d < (1 << bits) for d in draws)
    if bits >= 8:
        assert max(draws).bit_length() == bits                  # the top bit is reachable


@pytest.mark.parametrize("bound", [1, 2, 3, 129, 2**64 + 1])
def test_randbelow_stays_below_bound(bound):
    rng = SeededRng(bound)
    assert all(0 <= randbelow(rng, bound) < bound for _ in range(300))


def test_randbelow_is_unbiased():
    # With bound 192 a plain byte % 192 would give 0..63 probability 1/2, not 1/3.
    rng = SeededRng("bias")
    counts = Counter(randbelow(rng, 192) < 64 for _ in range(6000))
    assert abs(counts[True] / 6000 - 1 / 3) < 0.03


def test_rand_interval_covers_the_symmetric_range():
    rng = SeededRng("interval")
    draws = [rand_interval(rng, 2) for _ in range(500)]
    assert set(draws) == {-4, -3, -2, -1, 0, 1, 2, 3, 4}


def test_rand_unit_is_coprime_to_the_modulus():
    rng = SeededRng("unit")
    modulus = 3 * 5 * 7 * 11
    draws = [rand_unit(rng, modulus) for _ in range(300)]
    assert all(0 < d < modulus and gmpy2.gcd(d, modulus) == 1 for d in draws)


@pytest.mark.parametrize("call", [lambda r: randbelow(r, 0), lambda r: randbits(r, -1)])
def test_bad_arguments_are_usage_errors(call):
    with pytest.raises(UsageError):
        call(SeededRng(0))
