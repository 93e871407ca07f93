"""What one party's CGGMP21 presigning session shares between its rounds, and its output.

``Context`` holds the key material of the session, built once so that every proof
reuses the same objects: this party's Paillier secret key and ring-Pedersen
trapdoor (CRT paths for proving, decrypting and verifying) and one
``RingPedersenParams`` per peer (whose fixed-base tables then serve every proof
made for that peer). It also holds this party's ephemeral secrets (k_i, γ_i and
their Paillier nonces, the MtA masks β) and every public value peers sent, so that
``Round.verify`` can re-check any sender's message as any recipient would.
``Context.erase_secrets`` drops the ephemeral secrets once the presignature is
built or the session aborted.

``Presignature`` is the output: a wire record the daemon stores sealed. Its
``presign_id`` is a digest of the run's public output (key, epoch, signers, R, Γ,
every Δ_j and S_j), checked whenever a record is built or decoded, so two runs
never share an id and a record whose public part was altered does not load.

Single use. Two signatures with one presignature reveal the key. ``consume()`` is
the guard: it marks the object used and refuses a second call, and ``Sign`` calls
it before computing anything. An object refuses pickle, ``copy`` and ``deepcopy``,
which would make an unconsumed twin. ``dataclasses.replace`` and decoding the
stored bytes again do make a fresh, unconsumed object (accepted, and the reason
for the rule that follows): the daemon must delete the stored record atomically
BEFORE it sends σ_i, so that no copy exists from which a second σ_i could be
computed. ``consume()`` guards the object in memory; that deletion guards storage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import gmpy2

from protocol import wire
from protocol.cmp.shares import KEY_ID_MAX, MAX_PARTIES, PARTY, SCHEMA, CmpKey
from protocol.errors import EncodingError, UsageError
from protocol.group import Point, Scalar
from protocol.machine import Transition
from protocol.paillier import PaillierPublicKey, PaillierSecretKey
from protocol.params import MAX_MODULUS_BITS, SecurityLevel
from protocol.pedersen import RingPedersenParams, RingPedersenSecret
from protocol.rng import Rng
from protocol.secrecy import NeverPickled
from protocol.transcript import Transcript
from protocol.zk import affg

DOMAIN = "tssnet/cmp/presign/v1"
ID_DOMAIN = "tssnet/cmp/presign-id/v1"
AFFG_GAMMA = "affg-gamma"   # the MtA proofs of round 2, re-made in the identification round
AFFG_X = "affg-x"
MAX_SESSION_ID = 256


class _SingleUse(NeverPickled):
    """A slot outside the dataclass fields (not encoded, not compared, set once), and no twins:
    a pickle or copy would be an unconsumed copy of a single-use secret. Store the wire encoding."""

    __slots__ = ("_used",)
    _REFUSAL = "a presignature is single use: never pickled or copied; store it with the wire codec"


def check_session_id(session_id: bytes) -> None:
    """Presign, Sign and FullSign take a session id of 1..MAX_SESSION_ID bytes."""
    if not isinstance(session_id, bytes) or not 1 <= len(session_id) <= MAX_SESSION_ID:
        raise UsageError(f"a session id is 1..{MAX_SESSION_ID} bytes")


def presign_id_of(key_id: str, epoch: int, public_key: Point, signers: Sequence[int], R: Point,
                  Gamma: Point, Deltas: Sequence[Point], S: Sequence[Point]) -> bytes:
    """The id of a presignature: a digest of its run's whole public output.

    Every value is fresh per run (Γ, Δ_j, S_j), so no two runs share an id; every
    signer computes it alike from broadcast values, and it is what ``Sign`` binds
    its context to.
    """
    t = Transcript(ID_DOMAIN)
    t.append_all((("group", R.group.name), ("key-id", key_id), ("epoch", epoch),
                  ("public-key", public_key), ("signers", list(signers)), ("R", R),
                  ("Gamma", Gamma), ("Deltas", list(Deltas)), ("S", list(S))))
    return bytes(t.challenge_bytes("presign-id", 32))


@wire.message(0x023F)
@dataclass(frozen=True, slots=True, repr=False)
class Presignature(_SingleUse):
    """Party ``party``'s share of one presignature: R, k_i, χ_i and what checks the others' σ_j.

    Public per signer j (in ``signers`` order): Δ_j = k_j·Γ and S_j = χ_j·Γ, with
    δ·G = Σ Δ_j, δ·X = Σ S_j and R = δ^-1·Γ. ``Sign`` re-randomises R to ρ·R and
    sends σ_j = ρ^-1·(k_j·m + r'·χ_j) (plus the HD tweak's term), which then
    satisfies ρ·σ_j·Γ = m·Δ_j + r'·S_j: that is how a bad share is blamed.
    ``presign_id`` must be ``presign_id_of`` the public fields; see the module
    docstring for single use.
    """

    schema: int = wire.field(wire.UInt(255))
    presign_id: bytes = wire.field(wire.Bytes(size=32))
    key_id: str = wire.field(wire.Str(KEY_ID_MAX))
    epoch: int = wire.field(wire.UInt())
    party: int = wire.field(PARTY)
    signers: tuple[int, ...] = wire.field(wire.Seq(PARTY, min_len=2, max_len=MAX_PARTIES))
    public_key: Point = wire.field(wire.PointField())
    R: Point = wire.field(wire.PointField())
    Gamma: Point = wire.field(wire.PointField())
    delta: Scalar = wire.field(wire.ScalarField())
    k: Scalar = wire.field(wire.ScalarField())
    chi: Scalar = wire.field(wire.ScalarField())
    Deltas: tuple[Point, ...] = wire.field(
        wire.Seq(wire.PointField(allow_identity=True), min_len=2, max_len=MAX_PARTIES))
    S: tuple[Point, ...] = wire.field(
        wire.Seq(wire.PointField(allow_identity=True), min_len=2, max_len=MAX_PARTIES))

    def __post_init__(self) -> None:
        if self.schema < 1:
            raise ValueError("schema starts at 1")
        if list(self.signers) != sorted(set(self.signers)) or self.party not in self.signers:
            raise ValueError("signers must be distinct and increasing, this party among them")
        if not len(self.Deltas) == len(self.S) == len(self.signers):
            raise ValueError("one Δ_j and one S_j per signer")
        group = self.R.group
        if self.delta.is_zero() or self.delta * self.R != self.Gamma:
            raise ValueError("R is not δ^-1·Γ")
        if group.base_mul(self.delta) != group.sum_points(self.Deltas):
            raise ValueError("δ·G differs from Σ Δ_j")
        if self.delta * self.public_key != group.sum_points(self.S):
            raise ValueError("δ·X differs from Σ S_j")
        if self.k * self.Gamma != self.Delta(self.party) or self.chi * self.Gamma != self.S_of(self.party):
            raise ValueError("k_i or χ_i does not match this party's Δ_i or S_i")
        if self.presign_id != presign_id_of(self.key_id, self.epoch, self.public_key, self.signers,
                                            self.R, self.Gamma, self.Deltas, self.S):
            raise ValueError("presign_id is not the digest of this presignature's public data")

    def Delta(self, j: int) -> Point:  # noqa: N802 - the paper's name
        return self.Deltas[self.signers.index(j)]

    def S_of(self, j: int) -> Point:  # noqa: N802 - the paper's name
        return self.S[self.signers.index(j)]

    @property
    def consumed(self) -> bool:
        return getattr(self, "_used", False)

    def consume(self) -> None:
        """Mark this object used; UsageError if it already was (see the module docstring)."""
        if self.consumed:
            raise UsageError("this presignature was already used: a second use would reveal the key")
        object.__setattr__(self, "_used", True)

    def __repr__(self) -> str:
        return (f"Presignature(id={self.presign_id.hex()[:16]}, key_id={self.key_id!r}, "
                f"epoch={self.epoch}, party={self.party}, signers={list(self.signers)}, "
                f"k=<redacted>, chi=<redacted>)")


#: the ciphertext codec: an element of Z_{N²} for any allowed N
CIPHERTEXT = wire.Nat(2 * MAX_MODULUS_BITS)


class KeyMaterial:
    """A key's Paillier and ring-Pedersen objects, built once and reusable across sessions.

    Building them costs a few exponentiations, and a peer's ``RingPedersenParams``
    grows fixed-base tables as proofs commit under it; a node that presigns often
    with one key keeps one ``KeyMaterial`` per key and passes it to every session
    (``Presign(..., material=...)``). Only public values and this party's own
    trapdoors are inside; it is safe to share between concurrent sessions.
    """

    def __init__(self, key: CmpKey, level: SecurityLevel) -> None:
        if not isinstance(key, CmpKey):
            raise UsageError("presigning needs a CmpKey (key share and auxiliary info)")
        self.key = key
        self.paillier_secret = key.aux.paillier_secret()
        self.aux_secret = key.aux.ring_pedersen_secret()
        self.paillier: dict[int, PaillierPublicKey] = {}
        self.aux: dict[int, RingPedersenParams] = {}
        for j in key.share.parties:
            public = key.aux.public_for(j)
            if public.n.bit_length() < level.modulus_bits:
                raise UsageError(f"party {j}'s modulus is below {level.modulus_bits} bits")
            self.paillier[j] = public.paillier()
            self.aux[j] = public.ring_pedersen()
        party = key.share.party
        if self.aux[party] != self.aux_secret.params:
            raise UsageError("the auxiliary secret does not match this party's public (N, s, t)")
        # This party's own objects, so that equality checks inside the proofs are cheap.
        self.paillier[party] = self.paillier_secret.public
        self.aux[party] = self.aux_secret.params

    def __repr__(self) -> str:
        return f"KeyMaterial({self.key!r})"


class Context:
    """One party's presigning session: keys, transcript, secrets and what every peer sent.

    ``finish`` turns the presignature into the machine's next step: the result for
    ``Presign``, the signing round for ``FullSign``.
    """

    def __init__(self, key: CmpKey, signers: Sequence[int], session_id: bytes, rng: Rng,
                 level: SecurityLevel, finish: Callable[[Presignature], Transition],
                 material: KeyMaterial | None = None) -> None:
        check_session_id(session_id)
        if not isinstance(level, SecurityLevel):
            raise UsageError("level must be a SecurityLevel")
        if material is None:
            material = KeyMaterial(key, level)
        elif not isinstance(material, KeyMaterial) or material.key != key:
            raise UsageError("the key material belongs to another key")
        share = key.share
        self.key = key
        self.group = share.group
        self.level = level
        self.rng = rng
        self.finish = finish
        self.party = share.party
        self.signers = share.check_signers(signers)
        self.others = tuple(j for j in self.signers if j != self.party)
        self.session_id = session_id
        self.w = share.additive_secret(self.signers)       # secret: λ_i·x_i
        self.W = share.additive_public(self.signers)       # public: λ_j·X_j, Σ W_j = X
        self.paillier_secret = material.paillier_secret
        self.aux_secret = material.aux_secret
        self.paillier = material.paillier
        self.aux = material.aux
        self.transcript = Transcript.for_session(DOMAIN, session_id, self.signers, level)
        self.transcript.append_all((
            ("group", self.group.name), ("key-id", share.key_id), ("epoch", share.epoch),
            ("public-key", share.public_key),
            ("additive-shares", [self.W[j] for j in self.signers]),
            ("aux", [[self.aux[j].n, self.aux[j].s, self.aux[j].t] for j in self.signers])))
        #: what every signer must agree on before anything is sent (``Machine.context``)
        self.context = bytes(self.transcript.copy().challenge_bytes("context", 32))
        # This party's ephemeral secrets (set in round 1 and 2).
        self.k: Scalar | None = None
        self.gamma: Scalar | None = None
        self.rho = self.nu = gmpy2.mpz(0)                  # nonces of K_i and G_i
        self.beta: dict[int, gmpy2.mpz] = {}               # MtA masks, γ and x
        self.beta_hat: dict[int, gmpy2.mpz] = {}
        self.mta_witness: dict[int, tuple] = {}           # peer -> (γ witness, x witness), for re-proofs
        self.alpha: dict[int, gmpy2.mpz] = {}              # decrypted MtA values
        self.alpha_hat: dict[int, gmpy2.mpz] = {}
        self.chi: Scalar | None = None
        # Public values, by sender.
        self.K: dict[int, gmpy2.mpz] = {}
        self.G: dict[int, gmpy2.mpz] = {}
        self.Gammas: dict[int, Point] = {}
        self.Gamma: Point | None = None                    # Σ Γ_j, once round 2 is in
        self.mta: dict[int, dict[int, object]] = {}        # sender -> recipient -> MtaCiphertexts
        self.delta_shares: dict[int, Scalar] = {}
        self.Deltas: dict[int, Point] = {}
        self.S: dict[int, Point] = {}

    # -- helpers every round uses ------------------------------------------------------

    def transcript_for(self, proof: str, prover: int) -> Transcript:
        """The transcript of ``prover``'s proof called ``proof`` (one fork per prover and proof)."""
        return self.transcript.fork(proof, prover)

    def aux_secret_for(self, verifier: int) -> RingPedersenSecret | None:
        """The verifier's ring-Pedersen trapdoor when this party is the verifier (CRT), else None."""
        return self.aux_secret if verifier == self.party else None

    def paillier_secret_for(self, owner: int) -> PaillierSecretKey | None:
        return self.paillier_secret if owner == self.party else None

    def ciphertext(self, owner: int, value: int) -> gmpy2.mpz:
        """``value`` as a ciphertext under ``owner``'s key; EncodingError if it is not one."""
        return self.paillier[owner].validate_ciphertext(value)

    def others_of(self, j: int) -> tuple[int, ...]:
        return tuple(p for p in self.signers if p != j)

    def presignature(self, delta: Scalar, R: Point) -> Presignature:
        """The output, after which this context keeps no secret (``erase_secrets``)."""
        share = self.key.share
        Deltas = tuple(self.Deltas[j] for j in self.signers)
        S = tuple(self.S[j] for j in self.signers)
        presign_id = presign_id_of(share.key_id, share.epoch, share.public_key, self.signers, R,
                                   self.Gamma, Deltas, S)
        presignature = Presignature(
            schema=SCHEMA, presign_id=presign_id, key_id=share.key_id, epoch=share.epoch,
            party=self.party, signers=self.signers, public_key=share.public_key, R=R,
            Gamma=self.Gamma, delta=delta, k=self.k, chi=self.chi, Deltas=Deltas, S=S)
        self.erase_secrets()
        return presignature

    def erase_secrets(self) -> None:
        """Drop this party's ephemeral secrets: k_i, γ_i, their nonces, the MtA masks,
        witnesses and decryptions, χ_i and w_i. What the rounds' ``verify`` reads is
        public and stays, so that accusations can still be judged."""
        self.k = self.gamma = self.chi = self.w = None
        self.rho = self.nu = gmpy2.mpz(0)
        for secrets in (self.beta, self.beta_hat, self.mta_witness, self.alpha, self.alpha_hat):
            secrets.clear()

    def __repr__(self) -> str:
        return f"presign.Context(party={self.party}, signers={list(self.signers)}, <secrets redacted>)"


def mta_statement(ctx: Context, sender: int, recipient: int, verifier: int, D: int, F: int,
                  X: Point) -> affg.Public:
    """Π^aff-g for ``sender``'s MtA towards ``recipient``, as ``verifier`` checks it.

    D = x ⊙ K_recipient ⊕ enc_recipient(y) and F = enc_sender(y) with X = x·G; the
    ring-Pedersen parameters are the verifier's (the recipient's in round 2, any
    party's when the identification round re-proves the MtA to everyone).
    """
    return affg.Public(ctx.group, ctx.paillier[recipient], ctx.paillier[sender], ctx.K[recipient],
                       D, F, X, ctx.aux[verifier])


def require(condition: bool, what: str) -> None:
    """A structural check on a peer's message: EncodingError (blame the sender) when it fails."""
    if not condition:
        raise EncodingError(what)


__all__ = ["AFFG_GAMMA", "AFFG_X", "CIPHERTEXT", "DOMAIN", "Context", "KeyMaterial", "Presignature",
           "check_session_id", "mta_statement", "presign_id_of", "require"]
