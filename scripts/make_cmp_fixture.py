"""Write tests/data/cmp_key_v1.bin: a CGGMP21 key share with its aux info, as stored today.

The fixture pins the storage format of ``CmpKey`` (schema 1): every later version
must still load it (tests/protocol/cmp/test_shares.py). It comes from a real 2-of-3
keygen and aux-info run among parties 1..3, with seeded randomness and the test
prime pool (pairs 1..3), and holds party 1's ``CmpKey``. Run once; do not
regenerate unless the fixture is deliberately replaced by a new schema's.

    python scripts/make_cmp_fixture.py [--out PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from protocol import wire  # noqa: E402
from protocol.cmp.aux import AuxRefresh  # noqa: E402
from protocol.cmp.keygen import Keygen  # noqa: E402
from protocol.group import SECP256K1  # noqa: E402
from protocol.rng import SeededRng  # noqa: E402
from tests.primepool import prime_pool  # noqa: E402
from tests.protocol import simulator  # noqa: E402

PARTIES = (1, 2, 3)
THRESHOLD = 1
KEY_ID = "fixture-key-v1"


def _pool(pair: int):
    pool = prime_pool()
    for _ in range(pair):
        pool.take_pair()
    return pool


def make() -> dict:
    keygen = {p: Keygen(p, PARTIES, THRESHOLD, KEY_ID, b"fixture/keygen", SeededRng(b"fixture/keygen/%d" % p))
              for p in PARTIES}
    shares = simulator.assert_success(simulator.run(keygen))
    aux = {p: AuxRefresh(shares[p].share, b"fixture/aux", SeededRng(b"fixture/aux/%d" % p), refresh=False,
                         prime_source=_pool(p))
           for p in PARTIES}
    return simulator.assert_success(simulator.run(aux))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "cmp_key_v1.bin")
    args = parser.parse_args()
    key = make()[1]
    data = wire.encode(key, SECP256K1)
    args.out.write_bytes(data)
    print(f"wrote {len(data)} bytes to {args.out}")
    print(f"public key {key.share.public_key.encode().hex()}")


if __name__ == "__main__":
    main()
