"""The offline recovery key pair: one modulus N = p·q for Paillier and ring-Pedersen.

As CGGMP21's auxiliary information does, one N from two safe primes serves both as
the Paillier key that validators encrypt their shares under and as the ring-Pedersen
parameters (N, s, t) that their Π^log* range proofs commit under. The public key
carries Π^mod (N is Paillier–Blum) and Π^prm (s lies in the group t generates), both
bound to ``DOMAIN``; an ``ErsPublicKey`` cannot exist without both proofs and the size
checks passing, so whoever holds one (loaded from JSON or just generated) may use it.

The private key is the factorisation p, q; it decrypts. λ (s = t^λ mod N) is needed only
to prove Π^prm at keygen and is dropped there. Its JSON also lists N, s, t and the
fingerprint, so that it names the public key it belongs to.

The **fingerprint** of an ERS public key names it in partials, recovery data and a
node's ``ers_allowed_keys``: 32 bytes, shown as 64 lowercase hex characters, the output
of the one transcript hash (``protocol.transcript``: SHAKE-256, tagged and
length-prefixed) under the domain ``tssnet/ers/fingerprint/v1`` over the item
``ers-public-key`` = [N, s, t]. The proofs are not part of it: they are checked, and
they only vouch for (N, s, t).
"""

from __future__ import annotations

from dataclasses import dataclass

import gmpy2

from protocol.errors import EncodingError, InvalidProof, UsageError
from protocol.ers import fields as f
from protocol.ers.errors import InvalidErsKey
from protocol.paillier import PaillierPublicKey, PaillierSecretKey, generate_paillier_key
from protocol.params import DEFAULT_LEVEL, MAX_MODULUS_BITS, MIN_MODULUS_BITS
from protocol.pedersen import RingPedersenParams, generate_ring_pedersen
from protocol.primes import PrimePool, is_safe_prime
from protocol.rng import Rng
from protocol.secrecy import NeverPickled
from protocol.transcript import Transcript
from protocol.zk import mod, prm
from protocol.zk.common import Factorization

DOMAIN = "tssnet/ers/public-key/v1"
PUBLIC_TYPE = "tssnet-ers-public-key"
PRIVATE_TYPE = "tssnet-ers-private-key"
#: the security level of every ERS proof (fixed: a key is long-lived and says no level)
LEVEL = DEFAULT_LEVEL
_FACTOR_BITS = MAX_MODULUS_BITS // 2 + 8


def _proof_transcript(statement: str) -> Transcript:
    t = Transcript(DOMAIN)
    t.append("security-level", list(LEVEL.transcript_items()))
    t.append("statement", statement)
    return t


def fingerprint(n: int, s: int, t: int) -> bytes:
    """32 bytes naming the public parameters (N, s, t); partials and recovery data carry it."""
    tr = Transcript("tssnet/ers/fingerprint/v1")
    tr.append("ers-public-key", [n, s, t])
    return tr.challenge_bytes("fingerprint", 32)


@dataclass(frozen=True, slots=True)
class ErsParams:
    """The public numbers (N, s, t) alone: what encryption and the partials' proofs use."""

    n: gmpy2.mpz
    s: gmpy2.mpz
    t: gmpy2.mpz

    @property
    def paillier(self) -> PaillierPublicKey:
        return PaillierPublicKey(self.n)

    @property
    def ring_pedersen(self) -> RingPedersenParams:
        return RingPedersenParams(self.n, self.s, self.t)

    @property
    def fingerprint(self) -> bytes:
        return fingerprint(self.n, self.s, self.t)


class _ErsNumbers:
    """(N, s, t) as ``ErsParams``, their fingerprint and JSON, for the two key classes."""

    __slots__ = ()

    @property
    def params(self) -> ErsParams:
        return ErsParams(self.n, self.s, self.t)

    @property
    def fingerprint(self) -> bytes:
        return fingerprint(self.n, self.s, self.t)

    def _numbers_json(self) -> dict:
        return {"n": f.int_to_hex(self.n), "s": f.int_to_hex(self.s), "t": f.int_to_hex(self.t)}


@dataclass(frozen=True, slots=True)
class ErsPublicKey(_ErsNumbers):
    """(N, s, t) with their proofs; constructing one verifies both proofs and the sizes."""

    n: gmpy2.mpz
    s: gmpy2.mpz
    t: gmpy2.mpz
    mod_proof: mod.Proof
    prm_proof: prm.Proof

    def __post_init__(self) -> None:
        for name in ("n", "s", "t"):
            object.__setattr__(self, name, gmpy2.mpz(getattr(self, name)))
        try:
            RingPedersenParams(self.n, self.s, self.t).validate(MIN_MODULUS_BITS)
            PaillierPublicKey.validate(self.n, MIN_MODULUS_BITS)
        except EncodingError as exc:
            raise InvalidErsKey(f"ERS public key: {exc}") from None
        try:
            mod.verify(_proof_transcript("mod"), mod.Public(self.n), self.mod_proof, LEVEL)
            prm.verify(_proof_transcript("prm"), prm.Public(self.n, self.s, self.t), self.prm_proof, LEVEL)
        except InvalidProof as exc:
            raise InvalidErsKey(f"ERS public key: proof {exc} fails") from None

    def to_json(self) -> dict:
        return {**f.head(PUBLIC_TYPE), **self._numbers_json(), "mod_proof": f.proof_to_b64(self.mod_proof),
                "prm_proof": f.proof_to_b64(self.prm_proof)}

    def __repr__(self) -> str:
        return f"ErsPublicKey(bits={self.n.bit_length()}, fingerprint={self.fingerprint.hex()[:16]})"


_PUBLIC_FIELDS = ("n", "s", "t", "mod_proof", "prm_proof")


def _public_numbers(obj: dict) -> tuple:
    return tuple(f.hex_to_int(obj[name], f"ERS public key {name}", MAX_MODULUS_BITS) for name in ("n", "s", "t"))


def _public_fields(data) -> tuple:
    obj = f.fields(data, "ERS public key", PUBLIC_TYPE, _PUBLIC_FIELDS)
    return (*_public_numbers(obj),
            f.b64_to_proof(obj["mod_proof"], mod.Proof, "ERS public key mod_proof"),
            f.b64_to_proof(obj["prm_proof"], prm.Proof, "ERS public key prm_proof"))


def unverified_fingerprint(data) -> bytes:
    """The fingerprint of the ERS public key in ``data`` from its shape and (N, s, t) alone
    (fast: its proofs, up to megabytes, are neither decoded nor verified); MalformedErsData if
    the shape is wrong."""
    if isinstance(data, ErsPublicKey):
        return data.fingerprint
    n, s, t = _public_numbers(f.fields(data, "ERS public key", PUBLIC_TYPE, _PUBLIC_FIELDS))
    return fingerprint(n, s, t)


def load_public_key(data) -> ErsPublicKey:
    """The ERS public key in ``data`` (its JSON object or text), verified; ErsError if not."""
    if isinstance(data, ErsPublicKey):
        return data
    return ErsPublicKey(*_public_fields(data))


class ErsPrivateKey(_ErsNumbers, NeverPickled):
    """p, q (safe primes, N = p·q) with the public s and t. Redacted when printed."""

    __slots__ = ("p", "q", "n", "s", "t", "paillier")
    _REFUSAL = "an ERS private key is never pickled or copied; keep it in its 0600 file"

    def __init__(self, p: int, q: int, s: int, t: int) -> None:
        p, q = gmpy2.mpz(p), gmpy2.mpz(q)
        if p == q or not (is_safe_prime(p) and is_safe_prime(q)):
            raise InvalidErsKey("ERS private key: p and q must be distinct safe primes")
        n = p * q
        if not MIN_MODULUS_BITS <= n.bit_length() <= MAX_MODULUS_BITS:
            raise InvalidErsKey(f"ERS private key: N has {n.bit_length()} bits, not "
                                f"{MIN_MODULUS_BITS}..{MAX_MODULUS_BITS}")
        s, t = gmpy2.mpz(s), gmpy2.mpz(t)
        for name, value in (("s", s), ("t", t)):
            # Ring-Pedersen s and t are squares mod N (t = r², s = t^λ).
            if not 1 < value < n - 1 or gmpy2.legendre(value, p) != 1 or gmpy2.legendre(value, q) != 1:
                raise InvalidErsKey(f"ERS private key: {name} is not a square unit mod N other than ±1")
        self.p, self.q, self.n, self.s, self.t = p, q, n, s, t
        self.paillier = PaillierSecretKey(p, q)

    def to_json(self) -> dict:
        return {**f.head(PRIVATE_TYPE), **self._numbers_json(), "p": f.int_to_hex(self.p),
                "q": f.int_to_hex(self.q), "fingerprint": self.fingerprint.hex()}

    def __repr__(self) -> str:
        return f"ErsPrivateKey(<redacted>, fingerprint={self.fingerprint.hex()[:16]})"


def load_private_key(data) -> ErsPrivateKey:
    """The ERS private key in ``data``; its N must be p·q and its fingerprint that of (N, s, t)."""
    if isinstance(data, ErsPrivateKey):
        return data
    obj = f.fields(data, "ERS private key", PRIVATE_TYPE, ("n", "s", "t", "p", "q", "fingerprint"))
    ints = {name: f.hex_to_int(obj[name], f"ERS private key {name}",
                               _FACTOR_BITS if name in ("p", "q") else MAX_MODULUS_BITS)
            for name in ("n", "s", "t", "p", "q")}
    stated = f.hex_to_bytes(obj["fingerprint"], "ERS private key fingerprint", 32)
    key = ErsPrivateKey(ints["p"], ints["q"], ints["s"], ints["t"])
    if key.n != ints["n"]:
        raise InvalidErsKey("ERS private key: n is not p·q")
    if key.fingerprint != stated:
        raise InvalidErsKey("ERS private key: its fingerprint is not that of its n, s and t (a changed number)")
    return key


def generate_keypair(rng: Rng, bits: int = LEVEL.modulus_bits,
                     prime_source: PrimePool | None = None) -> tuple[ErsPrivateKey, ErsPublicKey]:
    """A fresh key pair with an N of ``bits`` bits (two fresh safe primes; slow: minutes at 2048).

    ``prime_source`` (tests only) hands out pre-generated safe primes instead.
    """
    if not isinstance(bits, int) or bits % 2 or not MIN_MODULUS_BITS <= bits <= MAX_MODULUS_BITS:
        raise UsageError(f"an ERS modulus has an even number of bits in {MIN_MODULUS_BITS}..{MAX_MODULUS_BITS}")
    paillier = generate_paillier_key(rng, bits, prime_source)
    secret = generate_ring_pedersen(paillier.p, paillier.q, rng)
    params = secret.params
    mod_proof = mod.prove(_proof_transcript("mod"), mod.Public(params.n),
                          Factorization(paillier.p, paillier.q), rng, LEVEL)
    prm_proof = prm.prove(_proof_transcript("prm"), prm.Public.from_params(params),
                          prm.Private.from_secret(secret), rng, LEVEL)
    public = ErsPublicKey(params.n, params.s, params.t, mod_proof, prm_proof)
    return ErsPrivateKey(paillier.p, paillier.q, params.s, params.t), public   # λ is dropped here


__all__ = ["DOMAIN", "LEVEL", "PRIVATE_TYPE", "PUBLIC_TYPE", "ErsParams", "ErsPrivateKey", "ErsPublicKey",
           "fingerprint", "generate_keypair", "load_private_key", "load_public_key", "unverified_fingerprint"]
