"""What one encrypted share says, and the check of its Π^log* proof.

``KeyFacts`` are the public facts of a threshold key that every partial repeats and the
recovery data keeps once: key id, scheme and curve, epoch, public key, a commitment to the
chain code, threshold, parties and every party's public share X_j. The chain code itself
never appears in the clear: recovery data is handed to others for validation, and the
chain code with the public key links every non-hardened child (and, with one leaked child
private key, gives the master key). The facts carry instead
``chain_code_commitment(key_id, public_key, chain_code)``, a transcript hash that every
proof binds, that ``combine`` makes every partial agree on and that ``validate`` checks a
chain code against when one is given. ``Entry`` is one validator's contribution: its index,
who it is (``holder``, the node's peer id, or empty), C = Enc_N(x_i), the chain code
encrypted under N (at recovery, the first whose plaintext matches the commitment is taken),
and a Π^log* proof that C encrypts the discrete log of X_i.

The proof's transcript binds the domain, the label, every key fact (the epoch and chain
code commitment among them), the ERS public key (N, s, t), the index, X_i, the holder and
the chain code's ciphertext, so that a partial verifies only under the label, key and ERS
key it was made for, and changing any of its fields (or moving it to another index) breaks
it. The ring-Pedersen parameters of the range proof are the ERS key's own: the validator
does not know their factorisation, which is what makes its range proof sound. The recovery
key's owner does know it, so the proofs convince everyone but that owner, who needs no
convincing: it can decrypt and check x_i·G = X_i itself, and ``recover`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import gmpy2

from protocol.errors import EncodingError, InvalidProof
from protocol.ers import fields as f
from protocol.ers.errors import BadPartialProof, InconsistentShares, KeyMismatch, MalformedErsData
from protocol.ers.keys import LEVEL, ErsParams
from protocol.group import Group, Point, group_by_name
from protocol.params import MAX_MODULUS_BITS
from protocol.parties import MAX_PARTIES, MAX_PARTY_ID, check_party_set
from protocol.threshold_share import KEY_ID_MAX, check_public_sharing
from protocol.transcript import Transcript
from protocol.zk import logstar

DOMAIN = "tssnet/ers/partial/v1"
#: the domain of the chain code's commitment
COMMITMENT_DOMAIN = "tssnet/ers/chain-code/v1"
COMMITMENT_SIZE = 32
#: scheme -> curve, as the node names them
SCHEMES = {"ecdsa": "secp256k1", "eddsa": "ed25519", "schnorr": "secp256k1"}
#: the FROST suite of a FROST scheme
FROST_SUITES = {"eddsa": "ed25519", "schnorr": "bip340"}
LABEL_MAX_BYTES = 256
HOLDER_MAX_BYTES = 128
CHAIN_CODE_SIZE = 32
#: the largest key epoch accepted (a refresh increments it)
MAX_EPOCH = 2**63 - 1
_CIPHERTEXT_BITS = 2 * MAX_MODULUS_BITS


def chain_code_commitment(key_id: str, public_key: Point, chain_code: bytes) -> bytes:
    """H(domain, key id, public key, chain code): what the facts say of the chain code."""
    t = Transcript(COMMITMENT_DOMAIN)
    t.append("key-id", key_id)
    t.append("public-key", public_key)
    t.append("chain-code", bytes(chain_code))
    return t.challenge_bytes("commitment", COMMITMENT_SIZE)


def check_label(label) -> str:
    """A label is 1..256 bytes of UTF-8 text."""
    return f.text(label, "label", LABEL_MAX_BYTES, min_bytes=1)


@dataclass(frozen=True, slots=True)
class KeyFacts:
    key_id: str
    scheme: str
    curve: str
    epoch: int
    public_key: Point
    chain_code_commitment: bytes
    threshold: int
    parties: tuple[int, ...]
    public_shares: tuple[Point, ...]

    @property
    def group(self) -> Group:
        return self.public_key.group

    def public_share(self, index: int) -> Point:
        return self.public_shares[self.parties.index(index)]

    def commits_to(self, chain_code: bytes) -> bool:
        """Whether ``chain_code`` is the one the facts commit to."""
        return chain_code_commitment(self.key_id, self.public_key, chain_code) == self.chain_code_commitment

    def check_sharing(self) -> None:
        """InconsistentShares unless the public shares lie on one polynomial of degree t through
        the public key (``protocol.threshold_share.check_public_sharing``)."""
        try:
            check_public_sharing(self.threshold, self.parties, self.public_shares, self.public_key)
        except ValueError as exc:
            raise InconsistentShares(f"key {self.key_id!r}: {exc}") from None

    def transcript_items(self) -> list[tuple[str, object]]:
        return [("key-id", self.key_id), ("scheme", self.scheme), ("curve", self.curve), ("epoch", self.epoch),
                ("public-key", self.public_key), ("chain-code-commitment", self.chain_code_commitment), ("threshold", self.threshold),
                ("parties", list(self.parties)), ("public-shares", list(self.public_shares))]

    def to_json(self) -> dict:
        return {"key_id": self.key_id, "scheme": self.scheme, "curve": self.curve, "epoch": self.epoch,
                "public_key": f.point_to_hex(self.public_key), "chain_code_commitment": self.chain_code_commitment.hex(),
                "threshold": self.threshold, "parties": list(self.parties),
                "public_shares": [f.point_to_hex(p) for p in self.public_shares]}


FACT_FIELDS = ("key_id", "scheme", "curve", "epoch", "public_key", "chain_code_commitment", "threshold", "parties",
               "public_shares")


def facts_from_json(obj: dict, what: str) -> KeyFacts:
    key_id = f.text(obj["key_id"], f"{what} key_id", KEY_ID_MAX, min_bytes=1)
    scheme = obj["scheme"]
    if scheme not in SCHEMES:
        raise MalformedErsData(f"{what} scheme: {scheme!r} is none of {sorted(SCHEMES)}")
    if obj["curve"] != SCHEMES[scheme]:
        raise MalformedErsData(f"{what} curve: scheme {scheme} runs on {SCHEMES[scheme]}, not {obj['curve']!r}")
    group = group_by_name(SCHEMES[scheme])
    epoch = f.small_int(obj["epoch"], f"{what} epoch", 0, MAX_EPOCH)
    parties = tuple(f.small_int(j, f"{what} parties", 1, MAX_PARTY_ID)
                    for j in f.array(obj["parties"], f"{what} parties", 2, MAX_PARTIES))
    threshold = f.small_int(obj["threshold"], f"{what} threshold", 1, MAX_PARTIES)
    try:
        check_party_set(parties, threshold=threshold)
    except ValueError as exc:
        raise MalformedErsData(f"{what}: {exc}") from None
    shares = f.array(obj["public_shares"], f"{what} public_shares", len(parties), len(parties))
    public_key = f.hex_to_point(obj["public_key"], group, f"{what} public_key")
    if scheme == "schnorr" and not public_key.has_even_y():
        raise MalformedErsData(f"{what} public_key: a BIP340 key is kept with even y")
    commitment = f.hex_to_bytes(obj["chain_code_commitment"], f"{what} chain_code_commitment", COMMITMENT_SIZE)
    return KeyFacts(key_id, scheme, group.name, epoch, public_key, commitment, threshold, parties,
                    tuple(f.hex_to_point(x, group, f"{what} public_shares") for x in shares))


@dataclass(frozen=True, slots=True)
class Entry:
    index: int
    holder: str
    share_ciphertext: gmpy2.mpz
    chain_code_ciphertext: gmpy2.mpz
    proof: logstar.Proof

    def claimed(self) -> str:
        """Who the entry says made it (a claim until its proof verifies)."""
        return f"claims validator {self.index}" + (f", holder {self.holder}" if self.holder else "")

    def to_json(self, group: Group) -> dict:
        return {"index": self.index, "holder": self.holder,
                "share_ciphertext": f.int_to_hex(self.share_ciphertext),
                "chain_code_ciphertext": f.int_to_hex(self.chain_code_ciphertext),
                "proof": f.proof_to_b64(self.proof, group)}


ENTRY_FIELDS = ("index", "holder", "share_ciphertext", "chain_code_ciphertext", "proof")


def entry_from_json(obj: dict, group: Group, what: str) -> Entry:
    return Entry(f.small_int(obj["index"], f"{what} index", 1, MAX_PARTY_ID),
                 f.text(obj["holder"], f"{what} holder", HOLDER_MAX_BYTES),
                 f.hex_to_int(obj["share_ciphertext"], f"{what} share_ciphertext", _CIPHERTEXT_BITS),
                 f.hex_to_int(obj["chain_code_ciphertext"], f"{what} chain_code_ciphertext", _CIPHERTEXT_BITS),
                 f.b64_to_proof(obj["proof"], logstar.Proof, f"{what} proof", group))


def transcript(facts: KeyFacts, ers: ErsParams, label: str, index: int, holder: str,
               chain_code_ciphertext: int) -> Transcript:
    t = Transcript(DOMAIN)
    t.append("security-level", list(LEVEL.transcript_items()))
    t.append("label", label)
    t.append_all(facts.transcript_items())
    t.append("ers-public-key", [ers.n, ers.s, ers.t])
    t.append("index", index)
    t.append("public-share", facts.public_share(index))
    t.append("holder", holder)
    t.append("chain-code-ciphertext", chain_code_ciphertext)
    return t


def statement(facts: KeyFacts, ers: ErsParams, index: int, share_ciphertext: int) -> logstar.Public:
    """Π^log*: C encrypts under N the discrete log (base G) of X_index; range under (N, s, t)."""
    group = facts.group
    return logstar.Public(group, group.generator, ers.paillier, share_ciphertext, facts.public_share(index),
                          ers.ring_pedersen)


def describe(what: str, entry: Entry) -> str:
    """``what`` (its place in the input) with the validator it claims to be."""
    return f"{what} ({entry.claimed()})"


def verify_entry(facts: KeyFacts, ers: ErsParams, label: str, entry: Entry, what: str,
                 position: int | None = None) -> None:
    """KeyMismatch for an index that holds no share; BadPartialProof naming ``what`` and the
    validator it claims to be otherwise. ``what`` names the entry's place ("partial 2")."""
    who = describe(what, entry)
    if entry.index not in facts.parties:
        raise KeyMismatch(f"{who}: validator {entry.index} holds no share of key {facts.key_id!r} "
                          f"(its parties are {list(facts.parties)})", position=position)
    try:
        ers.paillier.validate_ciphertext(entry.chain_code_ciphertext)
    except EncodingError as exc:
        raise BadPartialProof(f"{who}: chain_code_ciphertext: {exc}", entry.index, entry.holder,
                              position=position) from None
    t = transcript(facts, ers, label, entry.index, entry.holder, entry.chain_code_ciphertext)
    try:
        logstar.verify(t, statement(facts, ers, entry.index, entry.share_ciphertext), entry.proof, LEVEL)
    except InvalidProof as exc:
        raise BadPartialProof(f"the proof of {who} does not verify ({exc.check}): a wrong label, or a "
                              "partial that was altered, moved or made for another key or epoch",
                              entry.index, entry.holder, position=position) from None


__all__ = ["CHAIN_CODE_SIZE", "COMMITMENT_DOMAIN", "COMMITMENT_SIZE", "DOMAIN", "ENTRY_FIELDS", "FACT_FIELDS",
           "FROST_SUITES", "HOLDER_MAX_BYTES", "LABEL_MAX_BYTES", "MAX_EPOCH", "SCHEMES", "Entry", "KeyFacts",
           "chain_code_commitment", "check_label", "describe", "entry_from_json", "facts_from_json", "statement", "transcript", "verify_entry"]
