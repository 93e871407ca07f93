"""CGGMP21 from nothing to signatures: keygen, auxiliary info, presign, sign.

For n = 2..5 and several t, the real keygen and aux-info protocols run among all
n parties (no dealer), and then EVERY signing set of t+1 parties presigns and
signs. Each signature is checked by coincurve and by OpenSSL (``cryptography``)
and its recovery id must recover the key. Aux info uses the committed prime pool
and 80 Π^mod/Π^prm repetitions to keep the run short; the protocol is the same.
"""

from __future__ import annotations

import hashlib
from functools import cache
from itertools import combinations

import pytest

from protocol.cmp.aux import AuxRefresh
from protocol.cmp.keygen import Keygen
from protocol.cmp.presign import Presign
from protocol.cmp.sign import Sign
from protocol.params import SecurityLevel
from protocol.rng import SeededRng
from tests.primepool import prime_pool
from tests.protocol import simulator
from tests.protocol.cmp.sign_helpers import agreed_signature, assert_valid_ecdsa

FAST = SecurityLevel(name="test-80", repetitions=80)
CONFIGS = [(2, 1), (3, 1), (3, 2), (4, 2), (5, 2)]


@cache
def cmp_keys(n: int, t: int) -> dict:
    parties = tuple(range(1, n + 1))
    key_id = f"e2e-{n}-{t}"
    keygen = simulator.run({p: Keygen(p, parties, t, key_id, b"keygen-%d-%d" % (n, t),
                                      SeededRng(f"e2e/keygen/{n}/{t}/{p}")) for p in parties})
    shares = {p: out.share for p, out in simulator.assert_success(keygen).items()}
    pool = prime_pool()   # one pool: every party gets its own pair of primes
    aux = simulator.run({p: AuxRefresh(shares[p], b"aux-%d-%d" % (n, t), SeededRng(f"e2e/aux/{n}/{t}/{p}"),
                                       refresh=False, level=FAST, prime_source=pool) for p in parties})
    return simulator.assert_success(aux)


@pytest.mark.parametrize(("n", "t"), CONFIGS, ids=lambda v: str(v))
def test_every_signing_set_of_a_generated_key_signs(n, t):
    # One test per key, looping over its signing sets, so that each key's (costly)
    # aux info is made once even when the tests are spread over processes.
    keys = cmp_keys(n, t)
    public_key = keys[1].share.public_key
    assert all(k.share.public_key == public_key for k in keys.values())
    for signers in combinations(range(1, n + 1), t + 1):
        sid = b"presign-" + bytes(signers)
        presign = simulator.run({p: Presign(keys[p], signers, sid, SeededRng(f"e2e/presign/{n}/{t}/{p}"))
                                 for p in signers})
        presigs = simulator.assert_success(presign)
        message = b"end to end %d-of-%d by %r" % (t + 1, n, signers)
        sign = simulator.run({p: Sign(keys[p], presigs[p], message, b"sign-" + bytes(signers))
                              for p in signers})
        signature = agreed_signature(sign)
        assert_valid_ecdsa(public_key.encode(), hashlib.sha256(message).digest(), signature)
