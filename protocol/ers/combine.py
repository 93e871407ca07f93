"""Combine partials into one recovery-data document, and validate one from public values only.

``combine`` checks every partial (ERS key, index and stated share, sharing, proof), that
they all speak of the same key (key id, scheme, curve, public key, threshold, parties
and public shares), that no validator appears twice and that there are at least t+1;
the public shares must lie on one polynomial of degree t through the public key, so
any extra partial beyond t+1 lies on it too. ``validate`` repeats every check on the
recovery data with the ERS public key, the label and the public key the holder expects:
anyone can run it, long before a disaster, without the private recovery key.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.errors import EncodingError
from protocol.ers import fields as f
from protocol.ers import statement as st
from protocol.ers.errors import DuplicatePartial, KeyMismatch, MalformedErsData, NotEnoughPartials
from protocol.ers.keys import ErsPublicKey, load_public_key
from protocol.ers.partial import Partial, check_partial, parse_partial
from protocol.group import Point
from protocol.parties import MAX_PARTIES

DATA_TYPE = "tssnet-ers-recovery-data"


@dataclass(frozen=True, slots=True)
class RecoveryData:
    facts: st.KeyFacts
    ers_key: bytes                   # the ERS public key's fingerprint
    entries: tuple[st.Entry, ...]    # in index order

    def to_json(self) -> dict:
        group = self.facts.group
        return {**f.head(DATA_TYPE), **self.facts.to_json(), "ers_key": self.ers_key.hex(),
                "partials": [e.to_json(group) for e in self.entries]}


def parse_recovery_data(data) -> RecoveryData:
    """Recovery data from its JSON object or text (shape only)."""
    if isinstance(data, RecoveryData):
        return data
    obj = f.fields(data, "recovery data", DATA_TYPE, (*st.FACT_FIELDS, "ers_key", "partials"))
    facts = st.facts_from_json(obj, "recovery data")
    entries = []
    for k, item in enumerate(f.array(obj["partials"], "recovery data partials", 1, MAX_PARTIES)):
        what = f"recovery data partial {k + 1}"
        if not isinstance(item, dict) or set(item) != set(st.ENTRY_FIELDS):
            raise MalformedErsData(f"{what}: expected an object with exactly {list(st.ENTRY_FIELDS)}")
        entries.append(st.entry_from_json(item, facts.group, what))
    return RecoveryData(facts, f.hex_to_bytes(obj["ers_key"], "recovery data ers_key", 32), tuple(entries))


def check_entries(facts: st.KeyFacts, entries: tuple[st.Entry, ...]) -> None:
    """Distinct validators, at least t+1 of them."""
    seen: dict[int, st.Entry] = {}
    for e in entries:
        if e.index in seen:
            raise DuplicatePartial(f"two partials of validator {e.index} "
                                   f"({seen[e.index].who()} and {e.who()})")
        seen[e.index] = e
    needed = facts.threshold + 1
    if len(entries) < needed:
        raise NotEnoughPartials(f"key {facts.key_id!r} needs partials of {needed} validators "
                                f"(threshold {facts.threshold}), got {len(entries)}")


def _first_difference(a: st.KeyFacts, b: st.KeyFacts) -> str:
    return next(name for name in st.FACT_FIELDS if getattr(a, name) != getattr(b, name))


def combine(partials, ers_public_key, label: str) -> RecoveryData:
    """The recovery data of ``partials`` (JSON objects, texts or ``Partial``s); ErsError if any check fails."""
    ers = load_public_key(ers_public_key)
    label = st.check_label(label)
    if not isinstance(partials, list | tuple) or not partials:
        raise NotEnoughPartials("no partials to combine")
    if len(partials) > MAX_PARTIES:
        raise MalformedErsData(f"at most {MAX_PARTIES} partials (one per key holder)")
    parsed: list[Partial] = [p if isinstance(p, Partial) else parse_partial(p, f"partial {k + 1}")
                             for k, p in enumerate(partials)]
    facts = parsed[0].facts
    for p in parsed[1:]:
        if p.facts != facts:
            raise KeyMismatch(f"the partial of {p.entry.who()} differs from that of "
                              f"{parsed[0].entry.who()} in {_first_difference(facts, p.facts)}: "
                              "partials of different keys do not combine")
    entries = tuple(sorted((p.entry for p in parsed), key=lambda e: e.index))
    check_entries(facts, entries)
    for p in sorted(parsed, key=lambda p: p.entry.index):
        check_partial(p, ers, label)
    return RecoveryData(facts, ers.fingerprint, entries)


def _expected_point(public_key, facts: st.KeyFacts) -> Point:
    """The key the caller expects, as a point: its hex or bytes in the group's encoding, or
    for a BIP340 key its 32-byte x-only form (the node shows it so)."""
    group = facts.group
    if isinstance(public_key, Point):
        return public_key
    if isinstance(public_key, str):
        try:
            public_key = bytes.fromhex(public_key)
        except ValueError:
            raise MalformedErsData("public key: not hex") from None
    if not isinstance(public_key, bytes):
        raise MalformedErsData("public key: expected hex text or bytes")
    if facts.scheme == "schnorr" and len(public_key) == 32:
        public_key = b"\x02" + public_key
    try:
        return group.decode_point(public_key)
    except EncodingError as exc:
        raise MalformedErsData(f"public key: not a {group.name} key ({exc})") from None


def validate(data, ers_public_key, label: str, public_key) -> RecoveryData:
    """The recovery data in ``data`` once every check passes against ``public_key``; ErsError if not."""
    ers = load_public_key(ers_public_key)
    label = st.check_label(label)
    recovery = parse_recovery_data(data)
    facts = recovery.facts
    expected = _expected_point(public_key, facts)
    if expected != facts.public_key:
        raise KeyMismatch(f"the recovery data is for key {facts.key_id!r} with public key "
                          f"{facts.public_key.encode().hex()}, not the key given")
    check_against(recovery, ers, label)
    return recovery


def check_against(recovery: RecoveryData, ers: ErsPublicKey, label: str) -> None:
    """The checks of ``validate`` after the public key: ERS key, sharing, count, every proof."""
    facts = recovery.facts
    if recovery.ers_key != ers.fingerprint:
        raise KeyMismatch("the recovery data was made for another ERS public key")
    facts.check_sharing()
    check_entries(facts, recovery.entries)
    for e in recovery.entries:
        st.verify_entry(facts, ers.params, label, e)


__all__ = ["DATA_TYPE", "RecoveryData", "check_against", "check_entries", "combine", "parse_recovery_data",
           "validate"]
