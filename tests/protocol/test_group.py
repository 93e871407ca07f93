"""protocol.group: algebra, identity handling, strict decoding, and independent cross-checks."""

from __future__ import annotations

import copy
import hashlib
import pickle
from operator import add, mul, sub
from types import SimpleNamespace

import coincurve
import gmpy2
import nacl.signing
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import EncodingError, InvalidPoint, InvalidScalar, UsageError
from protocol.group import ED25519, SECP256K1, Group, Point, Scalar, group_by_name
from protocol.group import group_by_suite_id as by_suite
from protocol.rng import SeededRng

GROUPS = [SECP256K1, ED25519]
each_group = pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.name)
prop = settings(max_examples=25)


def ints(group: Group) -> st.SearchStrategy[int]:
    q = group.order
    return st.one_of(st.sampled_from([0, 1, 2, q - 1, q - 2]), st.integers(0, q - 1))


def points(group: Group) -> st.SearchStrategy[Point]:
    return st.integers(1, group.order - 1).map(group.base_mul)


def fixed_rng(*chunks: bytes) -> SimpleNamespace:
    """An rng handing out the given 32-byte strings in order, to drive rejection sampling."""
    pending = iter(chunks)
    return SimpleNamespace(random_bytes=lambda n: next(pending)[:n])


# --- independent pure-Python references ---------------------------------------

EP = 2**255 - 19
ED_D = -121665 * pow(121666, -1, EP) % EP
ED_SQRT_M1 = pow(2, (EP - 1) // 4, EP)


def ed_ref_decode(data: bytes) -> tuple[int, int] | None:
    """RFC 8032 section 5.1.3 (no subgroup check)."""
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    if y >= EP:
        return None
    x2 = (y * y - 1) * pow(ED_D * y * y + 1, -1, EP) % EP
    x = pow(x2, (EP + 3) // 8, EP)
    if (x * x - x2) % EP:
        x = x * ED_SQRT_M1 % EP
    if (x * x - x2) % EP or (x == 0 and sign):
        return None
    return (EP - x if x & 1 != sign else x), y


def ed_ref_encode(pt: tuple[int, int]) -> bytes:
    return (pt[1] | (pt[0] & 1) << 255).to_bytes(32, "little")


def ed_ref_add(p1: tuple[int, int], p2: tuple[int, int]) -> tuple[int, int]:
    """Complete affine addition on -x^2 + y^2 = 1 + d x^2 y^2."""
    (x1, y1), (x2, y2) = p1, p2
    t = ED_D * x1 * x2 * y1 * y2 % EP
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, -1, EP)
    return x3 % EP, (y1 * y2 + x1 * x2) * pow(1 - t, -1, EP) % EP


def ed_ref_mul(k: int, pt: tuple[int, int]) -> tuple[int, int]:
    acc = (0, 1)
    for bit in bin(k)[2:]:
        acc = ed_ref_add(acc, acc)
        if bit == "1":
            acc = ed_ref_add(acc, pt)
    return acc


SP = 2**256 - 2**32 - 977


def secp_ref_add(p1: tuple[int, int], p2: tuple[int, int]) -> tuple[int, int] | None:
    """Affine short-Weierstrass addition; None is the point at infinity."""
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2 and (y1 + y2) % SP == 0:
        return None
    if p1 == p2:
        slope = 3 * x1 * x1 * pow(2 * y1, -1, SP) % SP
    else:
        slope = (y2 - y1) * pow(x2 - x1, -1, SP) % SP
    x3 = (slope * slope - x1 - x2) % SP
    return x3, (slope * (x1 - x3) - y1) % SP


def secp_affine(point: Point) -> tuple[int, int]:
    raw = SECP256K1.encode_uncompressed(point)
    return int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:], "big")


# --- rejection vectors ---------------------------------------------------------

# The eight points of the torsion subgroup E[8].
SMALL_ORDER_ED25519 = [
    bytes.fromhex(h)
    for h in (
        "0100000000000000000000000000000000000000000000000000000000000000",  # order 1
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # order 2
        "0000000000000000000000000000000000000000000000000000000000000000",  # order 4
        "0000000000000000000000000000000000000000000000000000000000000080",  # order 4
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",  # order 8
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  # order 8
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",  # order 8
    )
]


def le(y: int, sign: int = 0) -> bytes:
    return (y | sign << 255).to_bytes(32, "little")


def sec(prefix: int, x: int) -> bytes:
    return bytes((prefix,)) + x.to_bytes(32, "big")


GX = SECP256K1.generator.x()
ED_P = ed_ref_decode(ED25519.base_mul(424242).encode())
ED_OFF_CURVE_Y = next(y for y in range(2, 100) if ed_ref_decode(le(y)) is None)


def bad(group: Group, data: object, name: str) -> object:
    return pytest.param(group, data, id=f"{group.name}-{name}")


BAD_POINTS = [
    *(bad(SECP256K1, sec(p, GX), f"prefix-{p:02x}") for p in (0, 1, 4, 5, 6, 7, 0xFF)),
    bad(SECP256K1, b"\x04" + GX.to_bytes(32, "big") * 2, "uncompressed-65"),
    bad(SECP256K1, sec(2, SP), "x-equals-p"),
    bad(SECP256K1, sec(2, SP + 1), "x-p-plus-1-aliases-x-1"),
    bad(SECP256K1, sec(3, 2**256 - 1), "x-max"),
    bad(SECP256K1, sec(2, 0), "x-0-off-curve"),
    bad(SECP256K1, sec(3, 5), "x-5-off-curve"),
    bad(SECP256K1, bytes(32) + b"\x01", "identity-lookalike"),
    bad(SECP256K1, b"\x00", "sec1-infinity-byte"),
    *(
        bad(ED25519, le(y, s), f"y-{y - EP}-above-p-sign-{s}")
        for y in (EP, EP + 1, EP + 18)
        for s in (0, 1)
    ),
    bad(ED25519, le(2**255 - 1, 1), "all-ones"),
    bad(ED25519, le(1, 1), "negative-zero-identity"),
    bad(ED25519, le(EP - 1, 1), "negative-zero-order-2"),
    bad(ED25519, le(ED_OFF_CURVE_Y), "off-curve"),
    *(bad(ED25519, t, f"small-order-{i}") for i, t in enumerate(SMALL_ORDER_ED25519[1:], 1)),
    *(
        bad(ED25519, ed_ref_encode(ed_ref_add(ED_P, ed_ref_decode(t))), f"torsion-mixed-{i}")
        for i, t in enumerate(SMALL_ORDER_ED25519[1:], 1)
    ),
    *(bad(g, g.generator.encode()[:-1], "truncated") for g in GROUPS),
    *(bad(g, g.generator.encode() + b"\x00", "extended") for g in GROUPS),
    *(bad(g, b"", "empty") for g in GROUPS),
    *(bad(g, bytearray(g.generator.encode()), "bytearray") for g in GROUPS),
    *(bad(g, memoryview(g.generator.encode()), "memoryview") for g in GROUPS),
    *(bad(g, g.generator.encode().hex(), "hex-str") for g in GROUPS),
    *(bad(g, None, "none") for g in GROUPS),
]


@pytest.mark.parametrize(("group", "data"), BAD_POINTS)
def test_decode_point_rejects(group: Group, data: object) -> None:
    with pytest.raises(InvalidPoint):
        group.decode_point(data, allow_identity=True)


BAD_SCALARS = [
    *(bad(g, g.order.to_bytes(32, g.scalar_byteorder), "q") for g in GROUPS),
    *(bad(g, (g.order + 1).to_bytes(32, g.scalar_byteorder), "q-plus-1") for g in GROUPS),
    *(bad(g, b"\xff" * 32, "2^256-1") for g in GROUPS),
    *(bad(g, bytes(n), f"length-{n}") for g in GROUPS for n in (0, 31, 33, 64)),
    *(bad(g, v, type(v).__name__) for g in GROUPS for v in (bytearray(32), "00" * 32, 0, None)),
]


@pytest.mark.parametrize(("group", "data"), BAD_SCALARS)
def test_decode_scalar_rejects(group: Group, data: object) -> None:
    with pytest.raises(InvalidScalar):
        group.decode_scalar(data)


def test_ed25519_small_order_vectors_are_the_torsion_subgroup() -> None:
    # L * (any curve point) lands in E[8]; pick a start whose image has order exactly 8.
    for y in range(3, 100):
        start = ed_ref_decode(le(y))
        if start and ed_ref_mul(4, torsion := ed_ref_mul(ED25519.order, start)) != (0, 1):
            break
    assert {ed_ref_encode(ed_ref_mul(k, torsion)) for k in range(8)} == set(SMALL_ORDER_ED25519)
    assert ED25519.decode_point(ed_ref_encode(ED_P)) == ED25519.base_mul(424242)


# --- constants and lookup ------------------------------------------------------


@each_group
def test_constants(group: Group) -> None:
    assert gmpy2.is_prime(group.order) and group.scalar_size == 32
    assert len(group.generator.encode()) == len(group.identity.encode()) == group.point_size
    assert group_by_name(group.name) is group and by_suite(group.suite_id) is group
    assert group.identity.is_identity() and not group.generator.is_identity()
    assert isinstance(group, Group) and isinstance(group.generator, Point)
    assert isinstance(group.scalar(1), Scalar) and group.scalar(1).group is group
    assert pickle.loads(pickle.dumps(group)) is group and copy.deepcopy(group) is group
    for value in (group.scalar(77), group.base_mul(77), group.identity):
        assert pickle.loads(pickle.dumps(value)) == value and copy.deepcopy(value) == value


def test_curve_constants_and_lookup_errors() -> None:
    assert (SECP256K1.suite_id, ED25519.suite_id) == (1, 2)
    assert (SECP256K1.point_size, ED25519.point_size) == (33, 32)
    assert SECP256K1.identity.encode() == bytes(33)
    assert ED25519.identity.encode() == b"\x01" + bytes(31)
    assert SECP256K1.scalar(1).encode() == bytes(31) + b"\x01"  # big-endian
    assert ED25519.scalar(1).encode() == b"\x01" + bytes(31)  # little-endian (RFC 8032)
    with pytest.raises(UsageError):
        group_by_name("p256")
    for suite_id in (0, 3, "1", 1.0):
        with pytest.raises(EncodingError):
            by_suite(suite_id)


# --- algebra -------------------------------------------------------------------


@each_group
@prop
@given(data=st.data())
def test_point_laws_and_round_trip(group: Group, data: st.DataObject) -> None:
    p, q, r = (data.draw(points(group)) for _ in range(3))
    k = data.draw(ints(group))
    neg_p = -p
    assert (p + q) + r == p + (q + r) and p + q == q + p
    assert p - q == p + (-q) and -neg_p == p
    assert k * (p + q) == k * p + k * q
    decoded = group.decode_point(p.encode())
    assert decoded == p and hash(decoded) == hash(p) and decoded.encode() == p.encode()
    # Negating a decoded point (encoding cached) and a computed one (not cached) agree.
    assert (-decoded).encode() == neg_p.encode() == group.decode_point(neg_p.encode()).encode()
    s = group.scalar(k)
    assert group.decode_scalar(s.encode()) == s and len(s.encode()) == 32


@each_group
@prop
@given(data=st.data())
def test_scalar_field_and_homomorphism(group: Group, data: st.DataObject) -> None:
    a, b = data.draw(ints(group)), data.draw(ints(group))
    sa, sb = group.scalar(a), group.scalar(b)
    assert group.base_mul(sa + sb) == group.base_mul(a) + group.base_mul(b)
    assert group.base_mul(sa * sb) == sa * group.base_mul(b) == group.base_mul(a) * sb
    assert group.base_mul(sa - sb) == group.base_mul(a) - group.base_mul(b)
    assert group.base_mul(-sa) == -group.base_mul(a)
    assert group.base_mul(a) == a * group.generator == group.generator * a
    q = group.order
    assert sa + b == group.scalar(a + b) == b + sa
    assert sa - b == group.scalar(a - b) and b - sa == group.scalar(b - a)
    assert sa * b == group.scalar(a * b) == b * sa
    assert -sa == group.scalar(-a) and -sa == q - a
    assert group.scalar(a - 5 * q) == sa and int(sa) == sa.value == a
    assert sa.is_zero() == (a == 0)
    if a:
        assert sa * sa.inverse() == 1


@each_group
def test_scalar_conversions(group: Group) -> None:
    assert group.scalar(gmpy2.mpz(7)) == 7 and type(group.scalar(gmpy2.mpz(7)).value) is int
    assert gmpy2.mpz(7) * group.generator == group.base_mul(7)
    assert group.scalar(-1) == group.order - 1 and group.scalar(-1) == -1
    assert group.scalar(group.scalar(3)) == 3
    top = (group.order - 1).to_bytes(32, group.scalar_byteorder)
    assert group.decode_scalar(top) == -1 and group.decode_scalar(bytes(32)).is_zero()
    for misuse in (lambda: group.scalar(1.5), group.scalar(0).inverse):
        with pytest.raises(UsageError):
            misuse()


# --- the identity --------------------------------------------------------------


@each_group
def test_identity_edge_cases(group: Group) -> None:
    ident, g, p, q = group.identity, group.generator, group.base_mul(99), group.order
    assert group.base_mul(q).is_identity() and (q * g).is_identity() and (q * p).is_identity()
    assert group.base_mul(q + 1) == g and group.base_mul(-1) == -g == (q - 1) * g
    assert (p + (-p)).is_identity() and (p - p).is_identity() and (-p + p).is_identity()
    assert ident + p == p and p + ident == p and p - ident == p and ident - p == -p
    assert (0 * p).is_identity() and (p * group.scalar(0)).is_identity()
    assert (5 * ident).is_identity() and (group.scalar(5) * ident).is_identity()
    assert group.base_mul(0).is_identity() and group.base_mul(group.scalar(0)) == ident
    assert (-ident).is_identity() and (ident + ident).is_identity()
    assert (ident - ident).is_identity() and (-ident).encode() == ident.encode()
    assert group.multi_mul([3, q - 3], [g, g]).is_identity()
    assert group.multi_mul([2, 1, 1], [p, -p, -p]).is_identity()
    assert group.multi_mul([1, 1, 1], [p, -p, g]) == g  # cancellation in the middle
    assert group.multi_mul([0, 7], [p, ident]).is_identity()
    assert group.multi_mul([], []).is_identity() and group.sum_points([]).is_identity()
    assert group.sum_points([ident, p, ident]) == p
    with pytest.raises(InvalidPoint):
        group.decode_point(ident.encode())
    assert group.decode_point(ident.encode(), allow_identity=True) == ident


@each_group
@prop
@given(data=st.data())
def test_multi_mul_matches_naive(group: Group, data: st.DataObject) -> None:
    n = data.draw(st.integers(0, 4))
    ks = [data.draw(ints(group)) for _ in range(n)]
    special = st.sampled_from([group.identity, group.generator])
    ps = [data.draw(st.one_of(points(group), special)) for _ in range(n)]
    expected = group.identity
    for k, p in zip(ks, ps, strict=True):
        expected = expected + k * p
    assert group.multi_mul(ks, ps) == expected
    assert group.multi_mul([group.scalar(k) for k in ks], iter(ps)) == expected


# --- cross-checks against independent implementations ---------------------------


@prop
@given(k=ints(SECP256K1).filter(bool))
def test_secp256k1_base_mul_matches_cryptography_and_coincurve(k: int) -> None:
    pub = ec.derive_private_key(k, ec.SECP256K1()).public_key()
    point = SECP256K1.base_mul(k)
    assert point.encode() == pub.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    assert point.encode() == coincurve.PrivateKey(k.to_bytes(32, "big")).public_key.format()
    uncompressed = pub.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    assert SECP256K1.encode_uncompressed(point) == uncompressed
    numbers = pub.public_numbers()
    assert point.x() == numbers.x and point.has_even_y() == (numbers.y % 2 == 0)
    assert point.encode_xonly() == numbers.x.to_bytes(32, "big")
    xonly = coincurve.PublicKeyXOnly.from_secret(k.to_bytes(32, "big")).format()
    assert point.encode_xonly() == xonly
    assert SECP256K1.decode_xonly(xonly) == (point if point.has_even_y() else -point)


@prop
@given(k=ints(SECP256K1).filter(bool), j=ints(SECP256K1).filter(bool))
def test_secp256k1_mul_and_add_match_references(k: int, j: int) -> None:
    p, q = SECP256K1.base_mul(j), SECP256K1.base_mul(k)
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), p.encode())
    shared_x = ec.derive_private_key(k, ec.SECP256K1()).exchange(ec.ECDH(), peer)
    assert (k * p).x().to_bytes(32, "big") == shared_x
    for a, b in ((p, q), (p, p), (p, -p)):
        expected = secp_ref_add(secp_affine(a), secp_affine(b))
        assert (a + b).is_identity() if expected is None else secp_affine(a + b) == expected


@prop
@given(data=st.binary(min_size=32, max_size=32))
def test_secp256k1_lift_x_agrees_with_coincurve(data: bytes) -> None:
    try:
        coincurve.PublicKeyXOnly(data)
    except ValueError:
        with pytest.raises(InvalidPoint):
            SECP256K1.decode_xonly(data)
    else:
        point = SECP256K1.decode_xonly(data)
        assert point.has_even_y() and point.encode_xonly() == data


def test_secp256k1_xonly_rejects() -> None:
    assert SECP256K1.decode_point(sec(2, 1)).x() == 1  # so x = p + 1 must be refused, not reduced
    for x in (SP, SP + 1, 5, bytes(31), bytes(33), bytearray(32), None):
        with pytest.raises(InvalidPoint):
            SECP256K1.decode_xonly(x.to_bytes(32, "big") if isinstance(x, int) else x)


@prop
@given(seed=st.binary(min_size=32, max_size=32))
def test_ed25519_base_mul_matches_pynacl_signing_key(seed: bytes) -> None:
    h = bytearray(hashlib.sha512(seed).digest()[:32])
    h[0] &= 248
    h[31] = (h[31] & 127) | 64
    clamped = int.from_bytes(h, "little")
    assert ED25519.base_mul(clamped).encode() == nacl.signing.SigningKey(seed).verify_key.encode()


@prop
@given(a=ints(ED25519).filter(bool), b=ints(ED25519).filter(bool), k=ints(ED25519))
def test_ed25519_add_and_mul_match_reference(a: int, b: int, k: int) -> None:
    p, q = ED25519.base_mul(a), ED25519.base_mul(b)
    rp, rq = ed_ref_decode(p.encode()), ed_ref_decode(q.encode())
    assert (p + q).encode() == ed_ref_encode(ed_ref_add(rp, rq))
    assert (p + p).encode() == ed_ref_encode(ed_ref_add(rp, rp))
    assert (-p).encode() == ed_ref_encode(((EP - rp[0]) % EP, rp[1]))
    assert (k * q).encode() == ed_ref_encode(ed_ref_mul(k, rq))


# --- randomness ------------------------------------------------------------------


@each_group
def test_random_scalars(group: Group) -> None:
    rng = SeededRng(b"group-test")
    values = [group.random_scalar(rng).value for _ in range(2000)]
    assert all(0 <= v < group.order for v in values) and len(set(values)) == len(values)
    upper = sum(v > group.order // 2 for v in values)
    assert 850 < upper < 1150  # binomial(2000, 1/2) lands outside with p < 1e-11
    assert not any(group.random_nonzero_scalar(rng).is_zero() for _ in range(50))
    assert group.random_scalar(SeededRng(7)) == group.random_scalar(SeededRng(7))
    # Out-of-range draws are rejected and redrawn, never reduced.
    expected = 0x28 if group is SECP256K1 else 0x28 >> 3  # ed25519 draws 253 bits
    assert group.random_scalar(fixed_rng(b"\xff" * 32, bytes(31) + b"\x28")) == expected
    assert group.random_nonzero_scalar(fixed_rng(bytes(32), bytes(31) + b"\x28")) == expected


# --- API hygiene -----------------------------------------------------------------


@each_group
def test_scalar_is_redacted_and_values_are_immutable(group: Group) -> None:
    s = group.scalar(0xDEADBEEF)
    for text in (repr(s), str(s), f"{s}"):
        assert text == f"Scalar({group.name}, <redacted>)"
    assert group.generator.encode().hex() in repr(group.generator)
    for mutate in (
        lambda: setattr(s, "value", 1),
        lambda: setattr(group.generator, "_enc", b""),
        lambda: setattr(group, "order", 5),
        lambda: type(s)(5),
        lambda: type(group.generator)(),
    ):
        with pytest.raises(UsageError):
            mutate()
    assert len({s, group.scalar(0xDEADBEEF), group.scalar(1)}) == 2
    assert s == 0xDEADBEEF and s != 0xDEADBEEE and s != "x"


def test_mixing_groups_is_a_usage_error() -> None:
    s, e = SECP256K1.scalar(3), ED25519.scalar(3)
    gs, ge = SECP256K1.generator, ED25519.generator
    cases = [(op, a, b) for op in (add, sub, mul) for a, b in ((s, e), (e, s))]
    cases += [(op, a, b) for op in (add, sub) for a, b in ((gs, ge), (ge, gs))]
    cases += [(mul, a, b) for a, b in ((s, ge), (ge, s), (e, gs), (gs, e))]
    cases += [(SECP256K1.base_mul, e), (SECP256K1.scalar, e), (SECP256K1.sum_points, [ge])]
    cases += [(ED25519.multi_mul, [1], [gs]), (SECP256K1.encode_uncompressed, ge)]
    for fn, *args in cases:
        with pytest.raises(UsageError):
            fn(*args)
    assert s != e and gs != ge and SECP256K1.identity != ED25519.identity


@each_group
def test_wrong_operands(group: Group) -> None:
    g, one = group.generator, group.scalar(1)
    for fn, a, b in ((add, g, 1), (mul, g, 1.5), (mul, g, g), (add, one, 1.5), (sub, 1.5, one)):
        with pytest.raises(TypeError):
            fn(a, b)
    wrong = group.identity if group is SECP256K1 else g  # x-only helpers: secp256k1 non-identity
    cases = [(group.base_mul, "1"), (group.multi_mul, ["1"], [g]), (group.multi_mul, [1], [1])]
    cases += [
        (group.multi_mul, [1, 2], [g]),
        (wrong.x,),
        (wrong.has_even_y,),
        (wrong.encode_xonly,),
    ]
    cases += [(SECP256K1.encode_uncompressed, SECP256K1.identity)]
    for fn, *args in cases:
        with pytest.raises(UsageError):
            fn(*args)
