#!/usr/bin/env python3
"""Benchmark tssnet's cryptographic primitives; prints medians in milliseconds.

    python scripts/bench_primitives.py            # a table
    python scripts/bench_primitives.py --json     # one JSON object

Safe-prime generation is measured fresh; everything else uses 2048-bit moduli
built from the committed test prime pool so the run takes seconds. Each proof is
measured the way the protocols use it: the prover with its own Paillier secret
key (CRT), the verifier with its own ring-Pedersen trapdoor (CRT).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from protocol.group import ED25519, SECP256K1
from protocol.paillier import PaillierSecretKey
from protocol.params import DEFAULT_LEVEL
from protocol.pedersen import generate_ring_pedersen
from protocol.primes import generate_safe_prime, parse_prime_pool
from protocol.rng import SystemRng, rand_interval
from protocol.transcript import Transcript
from protocol.zk import affg, enc, fac, logstar, mod, prm, sch

POOL_FILE = Path(__file__).resolve().parent.parent / "tests" / "data" / "safe_primes_1024.txt"


def median_ms(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(samples), 3)


class Parties:
    """A prover and a verifier, each with a Paillier key and ring-Pedersen on the same N (as aux info)."""

    def __init__(self, rng) -> None:
        primes = parse_prime_pool(POOL_FILE.read_text())
        self.prover_key = PaillierSecretKey(primes[0], primes[1])
        self.prover_aux = generate_ring_pedersen(primes[0], primes[1], rng)
        self.verifier_key = PaillierSecretKey(primes[2], primes[3])
        self.verifier_aux = generate_ring_pedersen(primes[2], primes[3], rng)


def proof_cases(parties: Parties, group, rng):
    """(name, prove(), verify(proof)) for every proof, with honest statements."""
    ell, ell_prime = 256, 1280
    key, aux = parties.prover_key, parties.verifier_aux
    t = Transcript.for_session("bench", b"session", [1, 2], DEFAULT_LEVEL)

    x = group.random_scalar(rng)
    sch_pub = sch.Public(group, group.base_mul(x))
    yield ("sch", lambda: sch.prove(t, sch_pub, sch.Private(x), rng),
           lambda p: sch.verify(t, sch_pub, p))

    k = rand_interval(rng, ell)
    big_k, rho = key.encrypt(k, rng)
    enc_pub = enc.Public(group, key.public, big_k, aux.params)
    yield ("enc", lambda: enc.prove(t, enc_pub, enc.Private(k, rho, key), rng),
           lambda p: enc.verify(t, enc_pub, p, aux_secret=aux))

    xl = rand_interval(rng, ell)
    c, rho = key.encrypt(xl, rng)
    g = group.base_mul(group.random_nonzero_scalar(rng))
    log_pub = logstar.Public(group, g, key.public, c, xl * g, aux.params)
    yield ("logstar", lambda: logstar.prove(t, log_pub, logstar.Private(xl, rho, key), rng),
           lambda p: logstar.verify(t, log_pub, p, aux_secret=aux))

    # Π^aff-g as in presign: the verifier's ciphertext C under its own key N0,
    # the prover's affine answer D and its encryption Y of y under its key N1.
    key0 = parties.verifier_key
    c0, _ = key0.encrypt(rand_interval(rng, ell), rng)
    xa, ya = rand_interval(rng, ell), rand_interval(rng, ell_prime)
    d_nonce, y_nonce = key0.public.encrypt(ya, rng), key.encrypt(ya, rng)
    d = key0.public.add(key0.public.mul(c0, xa), d_nonce[0])
    affg_pub = affg.Public(group, key0.public, key.public, c0, d, y_nonce[0],
                           group.base_mul(xa), aux.params)
    affg_priv = affg.Private(xa, ya, d_nonce[1], y_nonce[1], key)
    yield ("affg", lambda: affg.prove(t, affg_pub, affg_priv, rng),
           lambda p: affg.verify(t, affg_pub, p, aux_secret=aux, key0=key0))

    if group is SECP256K1:          # the group-free proofs are measured once
        mod_pub = mod.Public(key.n)
        yield ("mod", lambda: mod.prove(t, mod_pub, mod.Private(key.p, key.q), rng),
               lambda p: mod.verify(t, mod_pub, p))
        own = parties.prover_aux
        prm_pub = prm.Public.from_params(own.params)
        yield ("prm", lambda: prm.prove(t, prm_pub, prm.Private.from_secret(own), rng),
               lambda p: prm.verify(t, prm_pub, p))
        fac_pub = fac.Public(key.n, aux.params)
        yield ("fac", lambda: fac.prove(t, fac_pub, fac.Private(key.p, key.q), rng),
               lambda p: fac.verify(t, fac_pub, p, aux_secret=aux))


def run(args) -> dict:
    rng = SystemRng()
    result = {
        "safe_prime_1024_ms": median_ms(lambda: generate_safe_prime(1024, rng), args.prime_runs),
    }
    parties = Parties(rng)
    key = parties.prover_key
    public = key.public
    message = rand_interval(rng, 256)
    ciphertext, _ = key.encrypt(message, rng)
    result["paillier_2048"] = {
        "encrypt_public_ms": median_ms(lambda: public.encrypt(message, rng), args.runs),
        "encrypt_crt_ms": median_ms(lambda: key.encrypt(message, rng), args.runs),
        "decrypt_crt_ms": median_ms(lambda: key.decrypt(ciphertext), args.runs),
    }
    proofs = {}
    for group in (SECP256K1, ED25519):
        for name, prove, verify in proof_cases(parties, group, rng):
            label = f"{name}_{group.name}" if name in ("sch", "enc", "logstar", "affg") else name
            proof = prove()
            verify(proof)                        # an honest proof must verify
            proofs[label] = {"prove_ms": median_ms(prove, args.runs),
                             "verify_ms": median_ms(lambda p=proof, v=verify: v(p), args.runs)}
    result["proofs"] = proofs
    result["runs"] = args.runs
    result["prime_runs"] = args.prime_runs
    return result


def print_table(result: dict) -> None:
    print(f"1024-bit safe prime (median of {result['prime_runs']}): {result['safe_prime_1024_ms']:.0f} ms")
    for name, ms in result["paillier_2048"].items():
        print(f"Paillier-2048 {name[:-3]:<18} {ms:8.2f} ms")
    print(f"{'proof':<20}{'prove ms':>10}{'verify ms':>11}")
    for name, row in result["proofs"].items():
        print(f"{name:<20}{row['prove_ms']:>10.2f}{row['verify_ms']:>11.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--runs", type=int, default=9, help="samples per measurement (median)")
    parser.add_argument("--prime-runs", type=int, default=9, help="safe primes to generate")
    args = parser.parse_args()
    if args.runs < 1 or args.prime_runs < 1:
        parser.error("--runs and --prime-runs must be at least 1")
    result = run(args)
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
