"""One validator's partial recovery information: its share, encrypted to the ERS key, with proof.

``make_partial`` takes the validator's key share (a CGGMP21 ``KeyShare`` or a FROST
``FrostKeyShare``: both are Shamir shares x_i whose X_i = x_i·G is in the record),
encrypts C = Enc_N(x_i) and the chain code under the ERS key's N, and proves with
Π^log* that C encrypts the discrete log of X_i (see ``protocol.ers.statement`` for what
the proof binds). The partial repeats the key's public facts (the epoch and a commitment
to the chain code among them, never the chain code itself) so that ``combine`` can check
that every partial speaks of the same key.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.cmp.shares import KeyShare
from protocol.errors import UsageError
from protocol.ers import fields as f
from protocol.ers import statement as st
from protocol.ers.errors import KeyMismatch
from protocol.ers.keys import LEVEL, ErsPublicKey
from protocol.frost.shares import FrostKeyShare
from protocol.group import Scalar
from protocol.rng import Rng
from protocol.zk import logstar

PARTIAL_TYPE = "tssnet-ers-partial"
_SCHEME_OF_SUITE = {suite: scheme for scheme, suite in st.FROST_SUITES.items()}


@dataclass(frozen=True, slots=True)
class Partial:
    facts: st.KeyFacts
    ers_key: bytes          # the ERS public key's fingerprint
    entry: st.Entry

    def to_json(self) -> dict:
        return {**f.head(PARTIAL_TYPE), **self.facts.to_json(), "ers_key": self.ers_key.hex(),
                **self.entry.to_json(self.facts.group)}


def _facts_and_secret(share) -> tuple[st.KeyFacts, Scalar, bytes]:
    if isinstance(share, KeyShare):
        scheme, secret = "ecdsa", share.x
    elif isinstance(share, FrostKeyShare):
        scheme = _SCHEME_OF_SUITE.get(share.suite)
        if scheme is None:
            raise UsageError(f"emergency recovery covers the FROST suites {sorted(_SCHEME_OF_SUITE)}, "
                             f"not {share.suite!r}")
        secret = share.secret
    else:
        raise UsageError("a partial is made from a KeyShare or a FrostKeyShare")
    chain_code = bytes(share.chain_code)
    commitment = st.chain_code_commitment(share.key_id, share.public_key, chain_code)
    facts = st.KeyFacts(share.key_id, scheme, share.group.name, share.epoch, share.public_key,
                        commitment, share.threshold, tuple(share.parties), tuple(share.public_shares))
    return facts, secret, chain_code


def make_partial(share, ers: ErsPublicKey, label: str, rng: Rng, *, holder: str = "") -> Partial:
    """This validator's partial for ``label``; ``holder`` names the validator (its peer id) in errors."""
    if not isinstance(ers, ErsPublicKey):
        raise UsageError("make_partial needs a loaded (verified) ErsPublicKey")
    label = st.check_label(label)
    holder = f.text(holder, "holder", st.HOLDER_MAX_BYTES)
    facts, secret, chain_code = _facts_and_secret(share)
    index = share.party
    params = ers.params
    key = params.paillier
    chain_ct, _ = key.encrypt(int.from_bytes(chain_code, "big"), rng)
    share_ct, rho = key.encrypt(int(secret), rng)
    t = st.transcript(facts, params, label, index, holder, chain_ct)
    proof = logstar.prove(t, st.statement(facts, params, index, share_ct), logstar.Private(int(secret), rho),
                          rng, LEVEL)
    return Partial(facts, ers.fingerprint, st.Entry(index, holder, share_ct, chain_ct, proof))


def parse_partial(data, what: str = "partial") -> Partial:
    """A partial from its JSON object or text (shape only: ``verify_partial`` checks it)."""
    obj = f.fields(data, what, PARTIAL_TYPE, (*st.FACT_FIELDS, "ers_key", *st.ENTRY_FIELDS))
    facts = st.facts_from_json(obj, what)
    entry = st.entry_from_json(obj, facts.group, what)
    return Partial(facts, f.hex_to_bytes(obj["ers_key"], f"{what} ers_key", 32), entry)


def check_partial(partial: Partial, ers: ErsPublicKey, label: str, what: str = "partial",
                  position: int | None = None) -> None:
    """The checks of one partial against a checked label and sharing: its ERS key, index and proof."""
    if partial.ers_key != ers.fingerprint:
        raise KeyMismatch(f"{st.describe(what, partial.entry)} was made for another ERS public key "
                          f"({partial.ers_key.hex()[:16]}..., not {ers.fingerprint.hex()[:16]}...)",
                          position=position)
    st.verify_entry(partial.facts, ers.params, label, partial.entry, what, position)


def verify_partial(data, ers: ErsPublicKey, label: str) -> Partial:
    """The partial in ``data`` once every check it allows alone passes (label, ERS key, sharing,
    index, proof); ErsError naming the failure otherwise."""
    label = st.check_label(label)
    partial = data if isinstance(data, Partial) else parse_partial(data)
    partial.facts.check_sharing()
    check_partial(partial, ers, label)
    return partial


__all__ = ["PARTIAL_TYPE", "Partial", "check_partial", "make_partial", "parse_partial", "verify_partial"]
