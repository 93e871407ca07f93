"""Every proof in one table, for the properties that hold for all of them.

A ``ProofCase`` knows one proof's honest statement, how to prove and verify it (with
the verifier's trapdoors where the proof has some, as its own tests use them) and
how it goes on the wire. ``test_all_proofs.py`` and ``test_decoders.py`` run the
same properties over ``CASES``: Π^sch, Π^enc, Π^aff-g, Π^log* and Π^dec on both curves,
Π^mod, Π^prm and Π^fac once. The per-proof files take their statements, sessions and
verifiers from here and test only what their proof has of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from itertools import combinations
from types import ModuleType
from typing import Any

import pytest

from protocol import wire
from protocol.errors import InvalidProof
from protocol.group import ED25519, SECP256K1, Group
from protocol.params import DEFAULT_LEVEL, SecurityLevel
from protocol.rng import SeededRng
from protocol.transcript import Transcript
from protocol.zk import affg, dec, enc, fac, logstar, mod, prm, sch
from tests.primepool import paillier_key, ring_pedersen

LEVEL = DEFAULT_LEVEL
GROUPS = (SECP256K1, ED25519)

# Π^enc and Π^log*: the prover owns Paillier key 0; the verifier's ring-Pedersen
# parameters are index 1. Π^aff-g, as in presigning: the verifier owns N0 (its K is
# C) and the ring-Pedersen parameters (same modulus, as CGGMP21 aux info); the
# prover owns N1. Π^mod and Π^fac: the prover's key 0; Π^prm: its parameters 0.
PROVER_KEY = paillier_key(0)
VERIFIER_KEY = paillier_key(1)
VERIFIER_AUX = ring_pedersen(1)


def session(proof: str, sid: bytes = b"session-A", prover: int = 1) -> Transcript:
    return Transcript.for_session(f"tests/zk/{proof}", sid, [1, 2, 3], LEVEL).fork("prover", prover)


def rejected(verify: Callable[[], object], proof: str) -> InvalidProof:
    """Run ``verify``; it must raise InvalidProof naming ``proof``, which is returned."""
    with pytest.raises(InvalidProof) as info:
        verify()
    assert info.value.proof == proof
    return info.value


# -- honest statements ---------------------------------------------------------------


def sch_statement(group=SECP256K1, seed: int = 1):
    x = group.random_nonzero_scalar(SeededRng(seed))
    return sch.Public(group, group.base_mul(x)), sch.Private(x)


def enc_statement(k: int, group=SECP256K1, seed: int = 1):
    K, rho = PROVER_KEY.public.encrypt(k, SeededRng(seed))
    pub = enc.Public(group, PROVER_KEY.public, K, VERIFIER_AUX.params)
    return pub, enc.Private(k, rho, PROVER_KEY)


def affg_statement(x: int, y: int, group=SECP256K1, seed: int = 1):
    rng = SeededRng(seed)
    key0, key1 = VERIFIER_KEY.public, PROVER_KEY.public
    C, _ = key0.encrypt(987654321, rng)
    enc_y, rho = key0.encrypt(y, rng)
    Y, rho_y = key1.encrypt(y, rng)
    D = key0.add(key0.mul(C, x), enc_y)
    pub = affg.Public(group, key0, key1, C, D, Y, group.base_mul(x), VERIFIER_AUX.params)
    return pub, affg.Private(x, y, rho, rho_y, PROVER_KEY)


def logstar_base(group):
    """A base that is not the generator, like presigning's Γ."""
    return group.base_mul(0xC0FFEE)


def logstar_statement(x: int, group=SECP256K1, seed: int = 1, g=None):
    g = logstar_base(group) if g is None else g
    C, rho = PROVER_KEY.public.encrypt(x, SeededRng(seed))
    pub = logstar.Public(group, g, PROVER_KEY.public, C, g * x, VERIFIER_AUX.params)
    return pub, logstar.Private(x, rho, PROVER_KEY)


def dec_statement(y: int, group=SECP256K1, seed: int = 1, g=None):
    """Π^dec is Π^log* with its own bounds: the same base, plaintexts far beyond ±2^ℓ."""
    g = logstar_base(group) if g is None else g
    C, rho = PROVER_KEY.public.encrypt(y, SeededRng(seed))
    pub = dec.Public(group, g, PROVER_KEY.public, C, (y % group.order) * g, VERIFIER_AUX.params,
                     dec.max_bits(PROVER_KEY.public, LEVEL))
    return pub, dec.Private(y, rho, PROVER_KEY)


def mod_statement():
    return mod.Public(PROVER_KEY.n), mod.Private(PROVER_KEY.p, PROVER_KEY.q)


def prm_statement():
    secret = ring_pedersen(0)
    return prm.Public.from_params(secret.params), prm.Private.from_secret(secret)


def fac_statement():
    pub = fac.Public(PROVER_KEY.n, VERIFIER_AUX.params)
    return pub, fac.Private(PROVER_KEY.p, PROVER_KEY.q)


# -- the table -------------------------------------------------------------------------


@dataclass(frozen=True)
class ProofCase:
    """One proof (on one curve): what the shared tests need to know about it."""

    name: str
    module: ModuleType
    group: Group | None  # the statement's group; None for the aux-info proofs
    statement: Callable[[], tuple[Any, Any]]
    trapdoors: Callable[[], dict[str, Any]] = dict  # the verifier's secrets, as verify() kwargs
    seq_limit: int | None = None  # repetitions per sequence that tampering alters
    min_tampered: int = 1  # tampered variants a proof must at least yield
    binding_check: str = "does not hold$"  # the check a proof under another transcript fails
    level_bound: bool = True  # False where no level-dependent value enters the proof
    decode_groups: tuple = field(init=False)

    def __post_init__(self) -> None:
        groups = (*GROUPS, None) if self.Proof.__wire_needs_group__ else (None,)
        object.__setattr__(self, "decode_groups", groups)

    def __str__(self) -> str:
        return self.name

    @property
    def proof(self) -> str:
        """The proof's name in InvalidProof."""
        return self.module.__name__.rsplit(".", 1)[1]

    @property
    def Proof(self) -> type:  # the proof's class, named as in its module
        return self.module.Proof

    @property
    def wire_group(self) -> Group | None:
        return self.group if self.Proof.__wire_needs_group__ else None

    def session(self, sid: bytes = b"session-A", prover: int = 1) -> Transcript:
        return session(self.proof, sid, prover)

    def prove(self, pub, priv, seed, t: Transcript | None = None):
        return self.module.prove(t or self.session(), pub, priv, SeededRng(seed), LEVEL)

    def verify(self, pub, proof, t: Transcript | None = None,
               level: SecurityLevel = LEVEL, **trapdoors) -> None:
        """verify() with the case's trapdoors; ``trapdoors`` overrides them (None: without)."""
        kwargs = {**self.trapdoors(), **trapdoors}
        self.module.verify(t or self.session(), pub, proof, level, **kwargs)

    def trapdoor_subsets(self) -> list[dict[str, None]]:
        """verify() overrides for each subset of the trapdoors (those left out set to None)."""
        names = list(self.trapdoors())
        return [{name: None for name in names if name not in kept}
                for count in range(len(names) + 1) for kept in combinations(names, count)]

    def with_and_without_trapdoors(self) -> list[dict[str, None]]:
        """verify() overrides: the case's trapdoors, then none (where it has any)."""
        return [{}, {name: None for name in self.trapdoors()}] if self.trapdoors() else [{}]

    def reject(self, pub, proof, t: Transcript | None = None,
               level: SecurityLevel = LEVEL, **trapdoors) -> InvalidProof:
        return rejected(lambda: self.verify(pub, proof, t, level, **trapdoors), self.proof)

    def failing_check(self, pub, proof, t: Transcript | None = None,
                      level: SecurityLevel = LEVEL, **trapdoors) -> str:
        """The name of the check that rejects ``proof``."""
        return self.reject(pub, proof, t, level, **trapdoors).check

    def honest(self):
        """(pub, priv, proof), made once."""
        return _honest(self)

    def encode(self, proof) -> bytes:
        return wire.encode(proof, self.wire_group)

    def decode(self, data: bytes):
        return wire.decode(data, self.Proof, self.wire_group)

    def encoding(self) -> bytes:
        return self.encode(self.honest()[2])

    def matches_binding_check(self, check: str) -> bool:
        return re.search(self.binding_check, check) is not None


@cache
def _honest(case: ProofCase):
    pub, priv = case.statement()
    return pub, priv, case.prove(pub, priv, seed=2)


def _on_both_curves(module: ModuleType, statement: Callable, **kwargs) -> list[ProofCase]:
    return [ProofCase(f"{module.__name__.rsplit('.', 1)[1]}-{g.name}", module, g,
                      lambda g=g: statement(g), **kwargs) for g in GROUPS]


def _aux(secret: Any, **more: Any) -> Callable[[], dict[str, Any]]:
    return lambda: {"aux_secret": secret, **more}


CASES = [
    *_on_both_curves(sch, sch_statement, min_tampered=7,
                     binding_check=r"^z·G = A \+ e·X$", level_bound=False),
    *_on_both_curves(enc, lambda g: enc_statement(123456789, g),
                     trapdoors=_aux(VERIFIER_AUX), min_tampered=6 * 4),
    *_on_both_curves(affg, lambda g: affg_statement(-(2**200) + 17, 2**1200 + 5, g),
                     trapdoors=_aux(VERIFIER_AUX, key0=VERIFIER_KEY), min_tampered=13 * 3),
    *_on_both_curves(logstar, lambda g: logstar_statement(-424242, g),
                     trapdoors=_aux(VERIFIER_AUX), min_tampered=7 * 3,
                     binding_check=r"^z1·g = Y \+ e·X$"),
    *_on_both_curves(dec, lambda g: dec_statement(-(2**1200) + 5, g),
                     trapdoors=_aux(VERIFIER_AUX), min_tampered=7 * 3,
                     binding_check=r"^z1·g = Y \+ e·X$"),
    ProofCase("mod", mod, None, mod_statement, seq_limit=3, min_tampered=21,
              binding_check=r"^x\[\d+\]\^4 != "),
    ProofCase("prm", prm, None, prm_statement, seq_limit=3, min_tampered=21,
              binding_check=r"^t\^z\[\d+\] != "),
    ProofCase("fac", fac, None, fac_statement, trapdoors=_aux(VERIFIER_AUX), min_tampered=5 * 11),
]
BY_NAME = {case.name: case for case in CASES}
GROUP_CASES = [case for case in CASES if case.Proof.__wire_needs_group__]
BY_PROOF = {case.proof: [c for c in CASES if c.proof == case.proof] for case in CASES}


def case(proof: str, group: Group | None = SECP256K1) -> ProofCase:
    """The case of ``proof`` (on ``group`` where the proof has one)."""
    return BY_NAME.get(f"{proof}-{group.name}" if group else proof) or BY_NAME[proof]


def cases_param(cases: list[ProofCase] = CASES):
    return pytest.mark.parametrize("case", cases, ids=str)


each_group = pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.name)


def honest_fixtures(case: ProofCase):
    """Module-scoped fixtures ``pub`` and ``proof``: ``case``'s honest statement and proof."""

    @pytest.fixture(scope="module", name="pub")
    def pub_fixture():
        return case.honest()[0]

    @pytest.fixture(scope="module", name="proof")
    def proof_fixture():
        return case.honest()[2]

    return pub_fixture, proof_fixture


def proofs_param():
    """One run per proof, with its cases (one per curve for the CGGMP21 proofs)."""
    return pytest.mark.parametrize("proof_cases", BY_PROOF.values(), ids=BY_PROOF.keys())
