"""CGGMP21 auxiliary information (protocol/cmp/aux.py, refresh=False): an honest run, and a
malicious party per check on the moduli and their proofs, blamed by every honest party.

Aux runs are the slow part of the suite (safe-prime moduli, Π^mod, Π^prm, Π^fac):
primes come from the committed pool, the honest run is made once per process, and
every run uses the smallest allowed number of Π^mod/Π^prm repetitions (80; the
proofs at the production level are tested in tests/protocol/zk, and the fixture
of test_shares.py was made at the production level).
"""

from __future__ import annotations

import dataclasses
from functools import cache

import gmpy2
import pytest

from protocol import wire
from protocol.cmp import vss
from protocol.cmp.aux import AuxRefresh
from protocol.cmp.aux_round1 import AuxCommitment, AuxRound1
from protocol.cmp.aux_round2 import AuxRound2
from protocol.cmp.aux_round3 import AuxDirect
from protocol.cmp.keygen import KeygenOutput
from protocol.cmp.shares import AuxInfo, CmpKey
from protocol.errors import UsageError
from protocol.group import SECP256K1
from protocol.machine import Outgoing, Send, Transition
from protocol.params import SecurityLevel
from protocol.primes import PrimePool
from protocol.rng import SeededRng
from tests.primepool import pair_count, prime_pool
from tests.protocol import simulator
from tests.protocol.cmp.dealer import deal
from tests.protocol.cmp.test_keygen import run_keygen

G = SECP256K1
SESSION = b"aux-session"
# The floor of Π^mod/Π^prm repetitions, to keep the suite fast.
FAST = SecurityLevel(name="test-80", repetitions=80)


def pool_from(pair: int) -> PrimePool:
    """A prime source whose first pair is pool pair ``pair``: distinct pairs never share a factor."""
    if not 0 <= pair < pair_count():
        raise IndexError(pair)
    pool = prime_pool()
    for _ in range(pair):
        pool.take_pair()
    return pool


@cache
def keygen3() -> dict[int, KeygenOutput]:
    return run_keygen(3, 1, seed=31)


def aux_machines(*, refresh: bool = False, level: SecurityLevel = FAST, first_pair: int = 1,
                 session_id: bytes = SESSION, pairs: dict[int, int] | None = None,
                 classes: dict | None = None, previous: dict[int, AuxInfo] | None = None,
                 shares=None) -> dict[int, AuxRefresh]:
    """Party p uses pool pair ``first_pair + p - 1`` unless ``pairs`` says otherwise."""
    shares = shares or {p: o.share for p, o in keygen3().items()}
    pairs = pairs or {}
    classes = classes or {}
    previous = previous or {}
    return {p: classes.get(p, AuxRefresh)(
                s, session_id, SeededRng(b"aux/%d" % p), refresh=refresh, level=level,
                prime_source=pool_from(pairs.get(p, first_pair + p - 1)), previous_aux=previous.get(p))
            for p, s in shares.items()}


@cache
def honest_aux() -> dict[int, CmpKey]:
    """One honest aux run, shared by every test of this process that needs one."""
    return simulator.assert_success(simulator.run(aux_machines()))


class _CarelessRound2(AuxRound2):
    def verify(self, sender, recipient, broadcast, direct) -> None:
        return None  # a cheater need not check the honest openings (and the test saves the time)


class _CarelessRound1(AuxRound1):
    def finalize(self) -> Transition:
        return Transition([Send(self.m.openings[self.m.party])], next=_CarelessRound2(self.m))


class BadOpening(AuxRefresh):
    """Commits to (and opens) an opening that ``tamper`` altered, so the commitment matches."""

    tamper = staticmethod(lambda opening: opening)

    def _begin(self) -> Transition:
        super()._begin()
        opening = self.tamper(self.openings[self.party])
        self.openings[self.party] = opening
        v = vss.commitment_digest(self.transcript, self.party, wire.encode(opening, self.group))
        self.commitments[self.party] = v
        return Transition([Send(AuxCommitment(v))], next=_CarelessRound1(self))


def bad_opening(tamper) -> type:
    return type("Bad", (BadOpening,), {"tamper": staticmethod(tamper)})


# -- the honest run -------------------------------------------------------------------

def test_aux_run_gives_every_party_consistent_aux_info_and_keeps_the_share():
    # One test for the one honest run: xdist would otherwise redo the run per worker.
    keys = honest_aux()
    publics = keys[1].aux.public
    moduli = [a.n for a in publics]
    assert len(set(moduli)) == 3 and all(n.bit_length() == 2048 for n in moduli)
    for p, key in keys.items():
        assert isinstance(key, CmpKey)
        assert key.share == keygen3()[p].share           # aux only: the share is untouched
        assert key.aux.public == publics and key.aux.party == p and key.aux.parties == (1, 2, 3)
        rp = key.aux.ring_pedersen_secret()
        assert rp.params == key.aux.public_for(p).ring_pedersen()
        key.aux.public_for(p).ring_pedersen().validate()
        sk = key.aux.paillier_secret()
        c, _ = key.aux.public_for(p).paillier().encrypt(-12345, SeededRng(p))
        assert sk.decrypt_signed(c) == -12345
        assert gmpy2.is_prime((key.aux.secret.p - 1) // 2) and gmpy2.is_prime((key.aux.secret.q - 1) // 2)
        # Each party's CmpKey round-trips through the codec and never prints its secrets.
        assert wire.decode(wire.encode(key, G), CmpKey, G) == key
        assert "redacted" in repr(key) and str(key.aux.secret.p) not in repr(key)


# -- a malicious party per check ------------------------------------------------------
# Round-2 failures make party 1 the culprit: everyone checks senders in index order,
# so the bad opening is the first one checked and no honest proof is verified first.

def test_a_tampered_prm_proof_is_blamed():
    def tamper(d):
        z = ((d.prm_proof.z[0] + 1) % d.n, *d.prm_proof.z[1:])
        return dataclasses.replace(d, prm_proof=dataclasses.replace(d.prm_proof, z=z))
    net = simulator.run(aux_machines(classes={1: bad_opening(tamper)}))
    simulator.assert_all_blame(net, 1, "prm:")


def test_a_tampered_mod_proof_is_blamed():
    def tamper(d):
        x = (d.mod_proof.x[0], (d.mod_proof.x[1] + 1) % d.n, *d.mod_proof.x[2:])
        return dataclasses.replace(d, mod_proof=dataclasses.replace(d.mod_proof, x=x))
    net = simulator.run(aux_machines(classes={1: bad_opening(tamper)}))
    simulator.assert_all_blame(net, 1, "mod:")


def test_a_tampered_fac_proof_to_one_party_is_blamed_by_every_honest_party():
    def corrupt(o: Outgoing):
        if o.recipient != 1:
            return [o]
        d = wire.decode(o.body, AuxDirect, G)
        bad = dataclasses.replace(d, fac_proof=dataclasses.replace(d.fac_proof, z1=d.fac_proof.z1 + 1))
        return [Outgoing(o.round, o.recipient, wire.encode(bad, G))]
    net = simulator.run(aux_machines(), corrupt={3: corrupt})
    simulator.assert_all_blame(net, 3, "fac:")


def test_a_small_modulus_is_blamed():
    net = simulator.run(aux_machines(classes={1: bad_opening(lambda d: dataclasses.replace(d, n=d.n >> 1024))}))
    simulator.assert_all_blame(net, 1, "modulus of 1024 bits")


def test_a_modulus_with_a_small_factor_is_blamed():
    def tamper(d):
        k = d.n // 65521
        return dataclasses.replace(d, n=65521 * (k if k % 2 else k - 1))
    net = simulator.run(aux_machines(classes={1: bad_opening(tamper)}))
    simulator.assert_all_blame(net, 1, "below 2^16")


def test_a_duplicated_modulus_is_blamed():
    # Party 3 presents party 1's modulus, with every proof valid (it holds the factors).
    net = simulator.run(aux_machines(pairs={3: 1}))
    simulator.assert_all_blame(net, 3, "modulus already used by party 1")


# -- determinism and arguments --------------------------------------------------------

def test_seeded_parties_send_byte_identical_messages():
    # Round 1 commits to the whole opening (moduli, both proofs, rid), so equal
    # commitments mean equal openings; the full-transcript check is in test_keygen.
    share = keygen3()[1].share

    def first_message(seed: bytes) -> list[Outgoing]:
        m = AuxRefresh(share, SESSION, SeededRng(seed), refresh=True, level=FAST, prime_source=pool_from(7))
        return m.start()
    assert first_message(b"s") == first_message(b"s")
    assert first_message(b"s") != first_message(b"t")


@pytest.mark.parametrize("kwargs", [
    {"paillier_bits": 1024}, {"paillier_bits": 2049}, {"paillier_bits": 8192}, {"refresh": 1},
    {"session_id": b""}, {"level": None}, {"previous_aux": "aux"},
])
def test_bad_arguments_are_usage_errors(kwargs):
    args = {"share": keygen3()[1].share, "session_id": SESSION, "rng": SeededRng(1), "refresh": False,
            **kwargs}
    with pytest.raises(UsageError):
        AuxRefresh(**args)


def test_previous_aux_info_of_another_party_is_refused():
    other = deal((1, 2, 3), 1)[2].aux
    with pytest.raises(UsageError):
        AuxRefresh(keygen3()[1].share, SESSION, SeededRng(1), refresh=False, previous_aux=other)
