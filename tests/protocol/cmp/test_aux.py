"""CGGMP21 auxiliary information (protocol/cmp/aux.py, refresh=False): an honest run, and a
malicious party per check on the moduli and their proofs, blamed by every honest party.

Aux runs are the slow part of the suite (safe-prime moduli, Π^mod, Π^prm, Π^fac):
primes come from the committed pool, the honest run is made once per process, and
every run uses the smallest allowed number of Π^mod/Π^prm repetitions (80; the
proofs at the production level are tested in tests/protocol/zk, and the fixture
of test_shares.py was made at the production level). Parties run as ``Memo``,
which does an honest party's costly work once per process (see there), and the
malicious variants of one check share a test so that they share that work.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
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
from tests.primepool import pair_count, prime_pool, primes
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


# -- an honest party's costly work, done once per process -----------------------------
# Most runs here differ from an honest one in one party's messages, so most of their
# work (a modulus with Π^prm and Π^mod per party; checking each honest opening)
# repeats work another run of this process did. Both are pure functions of what
# ``Memo`` keys them on: the context (a digest of every public input, the previous
# moduli and the security level among them), the party, its RNG seed and prime pair
# for round 1; the context, the sender, its commitment and its opening for a passed
# round-2 check (only passes are kept). A hit is what the rerun would give, to the
# byte: round 1 restores the party's state and moves its RNG on as far as the run did.

_BEGUN: dict[tuple, tuple] = {}
_PASSED: set[bytes] = set()


class _CountingRng:
    def __init__(self, rng) -> None:
        self.rng, self.used = rng, 0

    def random_bytes(self, n: int) -> bytes:
        self.used += n
        return self.rng.random_bytes(n)


def _unused(dealing: vss.Dealing | None) -> vss.Dealing | None:
    """A copy of an unused dealing with copies of its Schnorr nonces (each answers one challenge)."""
    if dealing is None:
        return None
    fresh = copy.copy(dealing)
    fresh._nonces = tuple(copy.copy(nonce) for nonce in dealing._nonces)
    return fresh


class Memo(AuxRefresh):
    """An honest party whose round-1 work and passed round-2 checks are shared (see above)."""

    memo_key: tuple = ()   # (seed, prime pair), set by aux_machines

    def _begin(self) -> Transition:
        i, key = self.party, (self.context, self.party, *self.memo_key)
        if key in _BEGUN:
            used, self.mine, dealing, self.openings[i], self.params[i], self.commitments[i], sends = (
                _BEGUN[key])
            self.dealing = _unused(dealing)
            self.rng.random_bytes(used)
        else:
            rng = self.rng = _CountingRng(self.rng)
            try:
                sends = tuple(super()._begin().sends)
            finally:
                self.rng = rng.rng
            _BEGUN[key] = (rng.used, self.mine, _unused(self.dealing), self.openings[i], self.params[i],
                           self.commitments[i], sends)
        return Transition(list(sends), next=_MemoRound1(self))


class _MemoRound1(AuxRound1):
    def finalize(self) -> Transition:
        transition = super().finalize()
        transition.next = _MemoRound2(self.m)
        return transition


class _MemoRound2(AuxRound2):
    def verify(self, sender, recipient, broadcast, direct) -> None:
        m = self.m
        key = hashlib.sha256(m.context + sender.to_bytes(4, "big") + m.commitments[sender]
                             + wire.encode(broadcast, m.group)).digest()
        if key not in _PASSED:
            super().verify(sender, recipient, broadcast, direct)
            _PASSED.add(key)


def aux_machines(*, refresh: bool = False, level: SecurityLevel = FAST, first_pair: int = 1,
                 session_id: bytes = SESSION, pairs: dict[int, int] | None = None,
                 classes: dict | None = None, previous: dict[int, AuxInfo] | None = None,
                 shares=None) -> dict[int, AuxRefresh]:
    """Party p uses pool pair ``first_pair + p - 1`` unless ``pairs`` says otherwise."""
    shares = shares or {p: o.share for p, o in keygen3().items()}
    pairs = pairs or {}
    classes = classes or {}
    previous = previous or {}
    machines = {}
    for p, s in shares.items():
        seed, pair = b"aux/%d" % p, pairs.get(p, first_pair + p - 1)
        m = classes.get(p, Memo)(s, session_id, SeededRng(seed), refresh=refresh, level=level,
                                 prime_source=pool_from(pair), previous_aux=previous.get(p))
        m.memo_key = (seed, pair)
        machines[p] = m
    return machines


@cache
def honest_aux() -> dict[int, CmpKey]:
    """One honest aux run, shared by every test of this process that needs one."""
    return simulator.assert_success(simulator.run(aux_machines()))


def assert_all_blame(net: simulator.Network, culprit: int, check: str) -> None:
    """``simulator.assert_all_blame``, naming the expected check when it fails (for loops of cases)."""
    try:
        simulator.assert_all_blame(net, culprit, check)
    except AssertionError as exc:
        raise AssertionError(f"expected every honest party to blame {culprit} for {check!r}: {exc}") from None


def assert_no_blame(net: simulator.Network) -> None:
    """Every party aborted without blaming anyone: they were started with different inputs."""
    for p, ch in net.channels.items():
        assert ch.result is None, f"party {p} finished"
        assert ch.blame is not None and ch.blame.culprits == () and "other inputs" in ch.blame.check, (
            f"party {p}: {ch.blame}")


def direct_to(recipient: int, change):
    """A corrupt hook that rewrites the body of the direct messages to ``recipient``."""
    def corrupt(o: Outgoing) -> list[Outgoing]:
        if o.recipient != recipient:
            return [o]
        return [Outgoing(o.round, o.recipient, change(o.body))]
    return corrupt


def change_direct(change):
    """A body rewrite for ``direct_to``: decode the AuxDirect, ``change`` it, encode it."""
    return lambda body: wire.encode(change(wire.decode(body, AuxDirect, G)), G)


class _CarelessRound2(AuxRound2):
    def verify(self, sender, recipient, broadcast, direct) -> None:
        return None  # a cheater need not check the honest openings (and the test saves the time)


class _CarelessRound1(AuxRound1):
    def finalize(self) -> Transition:
        return Transition([Send(self.m.openings[self.m.party])], next=_CarelessRound2(self.m))


class BadOpening(Memo):
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


def test_a_bad_direct_message_to_one_party_is_blamed_by_every_honest_party():
    # Round 3 of an aux-only run: party 3's message to party 1 alone is bad; party 2
    # convicts it on party 1's accusation. The cases share the honest work (Memo).
    cases = [
        (change_direct(lambda d: dataclasses.replace(
            d, fac_proof=dataclasses.replace(d.fac_proof, z1=d.fac_proof.z1 + 1))), "fac:"),
        (change_direct(lambda d: dataclasses.replace(d, share=G.scalar(1))),
         "a refresh share in a run without refresh"),
    ]
    for change, check in cases:
        net = simulator.run(aux_machines(), corrupt={3: direct_to(1, change)})
        assert_all_blame(net, 3, check)


def test_a_small_modulus_is_blamed():
    net = simulator.run(aux_machines(classes={1: bad_opening(lambda d: dataclasses.replace(d, n=d.n >> 1024))}))
    simulator.assert_all_blame(net, 1, "modulus of 1024 bits")


def test_a_modulus_with_a_small_factor_is_blamed():
    def tamper(d):
        k = d.n // 65521
        return dataclasses.replace(d, n=65521 * (k if k % 2 else k - 1))
    net = simulator.run(aux_machines(classes={1: bad_opening(tamper)}))
    simulator.assert_all_blame(net, 1, "below 2^16")


def _unit_with_jacobi_minus_one(n: int) -> int:
    a = 2
    while gmpy2.jacobi(a, n) != -1:
        a += 1
    return a


def test_bad_ring_pedersen_parameters_are_blamed():
    # Party 1 uses pool pair 1, so its modulus's factors are known here.
    p1 = gmpy2.mpz(primes(1)[0])
    cases = [
        (lambda d: dataclasses.replace(d, s=d.t), "ring-Pedersen s and t must differ"),
        (lambda d: dataclasses.replace(d, s=_unit_with_jacobi_minus_one(d.n)),
         "ring-Pedersen s: Jacobi symbol is not 1"),
        (lambda d: dataclasses.replace(d, s=p1), "ring-Pedersen s: not a unit mod N"),
        (lambda d: dataclasses.replace(d, t=3 * p1), "ring-Pedersen t: not a unit mod N"),
    ]
    for tamper, check in cases:
        net = simulator.run(aux_machines(classes={1: bad_opening(tamper)}))
        assert_all_blame(net, 1, check)


def test_a_dealing_in_an_aux_only_run_is_blamed():
    cases = [
        lambda d: dataclasses.replace(d, vector=(G.identity, G.generator)),
        lambda d: dataclasses.replace(d, nonces=(G.generator,)),
    ]
    for tamper in cases:
        net = simulator.run(aux_machines(classes={1: bad_opening(tamper)}))
        assert_all_blame(net, 1, "a dealing in a run without refresh")


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
