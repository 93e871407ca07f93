"""A trusted dealer for tests: CGGMP21 key shares and auxiliary info without running keygen.

Presign and sign tests start from here so that they do not depend on keygen; the
auxiliary information uses the committed prime pool (party j gets pool pair j).
"""

from __future__ import annotations

from protocol import shamir
from protocol.cmp.shares import SCHEMA, AuxInfo, AuxPublic, AuxSecret, CmpKey, KeyShare
from protocol.group import SECP256K1
from protocol.rng import SeededRng
from tests.primepool import ring_pedersen


def deal(parties, threshold: int, *, seed: bytes = b"dealer", key_id: str = "test-key",
         secret: int | None = None) -> dict[int, CmpKey]:
    group = SECP256K1
    parties = tuple(parties)
    rng = SeededRng(seed.ljust(32, b"\0"))
    x = group.scalar(secret) if secret is not None else group.random_nonzero_scalar(rng)
    poly = shamir.random_polynomial(group, rng, x, threshold)
    xs = {j: shamir.evaluate(poly, j) for j in parties}
    public_shares = tuple(group.base_mul(xs[j]) for j in parties)
    chain_code, rid = rng.random_bytes(32), rng.random_bytes(32)
    publics, secrets = [], {}
    for j in parties:
        rp = ring_pedersen(j)
        publics.append(AuxPublic(rp.params.n, rp.params.s, rp.params.t))
        secrets[j] = AuxSecret(rp.crt.p, rp.crt.q, rp.lam)
    keys = {}
    for j in parties:
        share = KeyShare(SCHEMA, key_id, 0, threshold, parties, j, xs[j], group.base_mul(x),
                         public_shares, chain_code, rid)
        aux = AuxInfo(SCHEMA, j, parties, secrets[j], tuple(publics))
        keys[j] = CmpKey(share, aux)
    return keys
