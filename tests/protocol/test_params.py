import pytest

from protocol.errors import UsageError
from protocol.params import DEFAULT_LEVEL, SecurityLevel


def test_default_level_is_cggmp21s():
    assert (DEFAULT_LEVEL.ell, DEFAULT_LEVEL.ell_prime, DEFAULT_LEVEL.epsilon) == (256, 1280, 512)
    assert DEFAULT_LEVEL.repetitions >= 80 and DEFAULT_LEVEL.modulus_bits == 2048


@pytest.mark.parametrize(
    "kwargs",
    [{"repetitions": 79}, {"repetitions": 257}, {"modulus_bits": 1024},
     {"ell": 0}, {"ell": 200}, {"ell": 1280}, {"epsilon": 0},
     {"epsilon": 383},                      # below ell + 128: α would not hide e·k
     {"epsilon": 1024}],                    # 4ℓ + 2ε > 2048 bits: Π^fac would say nothing
)
def test_weak_or_unusable_levels_are_refused(kwargs):
    with pytest.raises(UsageError):
        SecurityLevel(**kwargs)


def test_the_default_resists_fiat_shamir_grinding():
    # One-bit challenges: forging Π^mod or Π^prm costs about 2^repetitions hashes.
    assert DEFAULT_LEVEL.repetitions >= 128


def test_larger_slack_needs_larger_moduli():
    assert SecurityLevel(epsilon=1024, modulus_bits=3072).epsilon == 1024


def test_a_3072_bit_level_is_allowed_and_distinct():
    strong = SecurityLevel(name="cggmp21-3072", modulus_bits=3072)
    assert strong.transcript_items() != DEFAULT_LEVEL.transcript_items()
