"""Combine partials into one recovery-data document, and validate one from public values only.

``combine`` checks that the partials all speak of the same key (key id, scheme, curve,
epoch, public key, chain code, threshold, parties and public shares), that no validator
appears twice and that there are at least t+1, the sharing once, then every partial
(ERS key, index, proof);
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
        what = entry_name(k + 1)
        if not isinstance(item, dict) or set(item) != set(st.ENTRY_FIELDS):
            raise MalformedErsData(f"{what}: expected an object with exactly {list(st.ENTRY_FIELDS)}")
        entries.append(st.entry_from_json(item, facts.group, what))
    return RecoveryData(facts, f.hex_to_bytes(obj["ers_key"], "recovery data ers_key", 32), tuple(entries))


def entry_name(position: int) -> str:
    return f"recovery data partial {position}"


def check_entries(facts: st.KeyFacts, entries: tuple[st.Entry, ...], names: tuple[str, ...]) -> None:
    """Distinct validators, at least t+1 of them; ``names[k]`` says where entry k came from."""
    seen: dict[int, int] = {}
    for k, e in enumerate(entries):
        if e.index in seen:
            raise DuplicatePartial(f"{names[seen[e.index]]} and {names[k]} both claim validator {e.index}",
                                   position=k + 1)
        seen[e.index] = k
    needed = facts.threshold + 1
    if len(entries) < needed:
        raise NotEnoughPartials(f"key {facts.key_id!r} needs partials of {needed} validators "
                                f"(threshold {facts.threshold}), got {len(entries)}")


def _first_difference(a: st.KeyFacts, b: st.KeyFacts) -> str:
    return next(name for name in st.FACT_FIELDS if getattr(a, name) != getattr(b, name))


def combine(partials, ers_public_key, label: str) -> RecoveryData:
    """The recovery data of ``partials`` (JSON objects, texts or ``Partial``s); ErsError if any check fails.

    An error about one partial says its position in ``partials`` (``ErsError.position``, 1-based)."""
    ers = load_public_key(ers_public_key)
    label = st.check_label(label)
    if not isinstance(partials, list | tuple) or not partials:
        raise NotEnoughPartials("no partials to combine")
    if len(partials) > MAX_PARTIES:
        raise MalformedErsData(f"at most {MAX_PARTIES} partials (one per key holder)")
    parsed: list[Partial] = []
    for k, p in enumerate(partials):
        try:
            parsed.append(p if isinstance(p, Partial) else parse_partial(p, f"partial {k + 1}"))
        except MalformedErsData as exc:
            exc.position = k + 1
            raise
    names = tuple(st.describe(f"partial {k + 1}", p.entry) for k, p in enumerate(parsed))
    facts = parsed[0].facts
    for k, p in enumerate(parsed[1:], start=1):
        if p.facts != facts:
            field = _first_difference(facts, p.facts)
            hint = (f" (epoch {p.facts.epoch}, not {facts.epoch}: the key was refreshed in between; ask "
                    "every validator again)" if field == "epoch" else "")
            raise KeyMismatch(f"{names[k]} differs from {names[0]} in {field}{hint}: partials of "
                              "different keys or epochs do not combine", position=k + 1)
    check_entries(facts, tuple(p.entry for p in parsed), names)
    facts.check_sharing()
    for k, p in enumerate(parsed):
        check_partial(p, ers, label, f"partial {k + 1}", k + 1)
    return RecoveryData(facts, ers.fingerprint, tuple(sorted((p.entry for p in parsed), key=lambda e: e.index)))


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


def validate(data, ers_public_key, label: str, public_key, *, chain_code: str | bytes | None = None
             ) -> RecoveryData:
    """The recovery data in ``data`` once every check passes against ``public_key`` (and the
    key's ``chain_code``, hex or bytes, when given); ErsError if not."""
    ers = load_public_key(ers_public_key)
    label = st.check_label(label)
    recovery = parse_recovery_data(data)
    check_public_key(recovery.facts, public_key)
    if chain_code is not None:
        check_chain_code(recovery.facts, chain_code)
    check_against(recovery, ers, label)
    return recovery


def check_public_key(facts: st.KeyFacts, public_key) -> None:
    """KeyMismatch unless the facts are about ``public_key``."""
    if _expected_point(public_key, facts) != facts.public_key:
        raise KeyMismatch(f"the recovery data is for key {facts.key_id!r} with public key "
                          f"{facts.public_key.encode().hex()}, not the key given")


def check_chain_code(facts: st.KeyFacts, chain_code: str | bytes) -> None:
    """KeyMismatch unless the facts carry ``chain_code`` (hex or bytes)."""
    if isinstance(chain_code, str):
        chain_code = f.hex_to_bytes(chain_code.lower(), "chain code", st.CHAIN_CODE_SIZE)
    if chain_code != facts.chain_code:
        raise KeyMismatch(f"the recovery data for key {facts.key_id!r} carries another chain code than "
                          "the one given")


def check_against(recovery: RecoveryData, ers: ErsPublicKey, label: str) -> None:
    """The checks of ``validate`` after the public key: ERS key, count, sharing, every proof."""
    facts = recovery.facts
    if recovery.ers_key != ers.fingerprint:
        raise KeyMismatch("the recovery data was made for another ERS public key")
    names = tuple(st.describe(entry_name(k + 1), e) for k, e in enumerate(recovery.entries))
    check_entries(facts, recovery.entries, names)
    facts.check_sharing()
    for k, e in enumerate(recovery.entries):
        st.verify_entry(facts, ers.params, label, e, entry_name(k + 1), k + 1)


__all__ = ["DATA_TYPE", "RecoveryData", "check_against", "check_chain_code", "check_entries", "check_public_key",
           "combine", "entry_name", "parse_recovery_data", "validate"]
