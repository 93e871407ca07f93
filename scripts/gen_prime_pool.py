"""Regenerate the committed pool of safe primes that tests use instead of keygen.

    python scripts/gen_prime_pool.py --count 64 --bits 1024 \\
        --out tests/data/safe_primes_1024.txt --processes 2

Primes come from the OS CSPRNG (the pool is public test data, never a production
key). The output is written to a temporary file and renamed, so an interrupted run
never leaves a truncated pool behind; the result is re-checked with the same parser
the tests use before it is written.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from protocol.primes import generate_safe_prime, parse_prime_pool  # noqa: E402
from protocol.rng import SystemRng  # noqa: E402


def _one(bits: int) -> int:
    return int(generate_safe_prime(bits, SystemRng()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate a pool of safe primes for tests.")
    parser.add_argument("--count", type=int, default=64, help="number of primes (default 64)")
    parser.add_argument("--bits", type=int, default=1024, help="size of each prime (default 1024)")
    parser.add_argument("--out", type=Path, required=True, help="output file")
    parser.add_argument("--processes", type=int, default=1, help="worker processes (default 1)")
    args = parser.parse_args(argv)
    if args.count < 1 or args.processes < 1:
        parser.error("--count and --processes must be positive")

    began = time.monotonic()
    primes: list[int] = []
    with multiprocessing.Pool(args.processes) as pool:
        for p in pool.imap_unordered(_one, [args.bits] * args.count):
            if p not in primes:
                primes.append(p)
            elapsed = time.monotonic() - began
            print(f"\r{len(primes)}/{args.count} primes, {elapsed:.0f}s", end="", file=sys.stderr)
        print(file=sys.stderr)
    # A duplicate is astronomically unlikely but would make the parser reject the file.
    while len(primes) < args.count:
        p = _one(args.bits)
        if p not in primes:
            primes.append(p)

    primes.sort()
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    header = (
        f"# {len(primes)} safe primes p = 2q + 1 of {args.bits} bits (top two bits set), hex.\n"
        "# Test data only: public, so never use these for a real key.\n"
        f"# Made {stamp} by: python scripts/gen_prime_pool.py --count {args.count} "
        f"--bits {args.bits} --out {args.out.as_posix()}\n"
    )
    text = header + "".join(f"{p:x}\n" for p in primes)
    parse_prime_pool(text, args.bits)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, args.out)
    print(
        f"wrote {len(primes)} primes to {args.out} in {time.monotonic() - began:.0f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
