"""Combine partials into one recovery-data document, and validate one from public values only.

``combine`` checks that the partials all speak of the same key (key id, scheme, curve,
epoch, public key, chain code commitment, threshold, parties and public shares; when they
do not, it blames the partials that differ from the key the caller expects, or from the one
group of t+1 or more that verifies, and otherwise blames no one), that no validator
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
from protocol.ers.errors import (
    DuplicatePartial,
    ErsError,
    KeyMismatch,
    MalformedErsData,
    NotEnoughPartials,
)
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
    field = next(name for name in st.FACT_FIELDS if getattr(a, name) != getattr(b, name))
    if field == "epoch":
        return (f"epoch ({a.epoch} and {b.epoch}: the key was refreshed in between; ask every "
                "validator again)")
    return field


def _parse_all(partials) -> list[Partial]:
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
    return parsed


def _positions(ks) -> str:
    return ", ".join(str(k + 1) for k in ks)


def _blame(parsed: list[Partial], names: tuple[str, ...], bad: list[int], reason: str) -> KeyMismatch:
    return KeyMismatch(f"{'; '.join(names[k] for k in bad)}: {reason}: partials of different keys or "
                       "epochs do not combine", position=bad[0] + 1)


def _is_about(public_key, facts: st.KeyFacts) -> bool:
    try:
        return _expected_point(public_key, facts) == facts.public_key
    except MalformedErsData:        # not even a point of this partial's curve
        return False


def _check_expected(parsed: list[Partial], names: tuple[str, ...], public_key, chain_code) -> None:
    """KeyMismatch naming the partials about another key than the one the caller expects."""
    if public_key is not None:
        bad = [k for k, p in enumerate(parsed) if not _is_about(public_key, p.facts)]
        if len(bad) == len(parsed):
            _expected_point(public_key, parsed[0].facts)    # MalformedErsData for a key that is no key
        if bad:
            raise _blame(parsed, names, bad, "about another public key than the one given")
    if chain_code is not None:
        code = _chain_code_bytes(chain_code)
        bad = [k for k, p in enumerate(parsed) if not p.facts.commits_to(code)]
        if bad:
            raise _blame(parsed, names, bad, "committed to another chain code than the one given")


def _agreed_facts(parsed: list[Partial], names: tuple[str, ...], ers: ErsPublicKey, label: str) -> st.KeyFacts:
    """The facts every partial states; when they differ, KeyMismatch blaming the partials outside
    the one group of t+1 or more that verifies (its sharing and every member's proof) if there
    is one, or naming two disagreeing partials without blaming either if there is not."""
    groups: dict[st.KeyFacts, list[int]] = {}
    for k, p in enumerate(parsed):
        groups.setdefault(p.facts, []).append(k)
    if len(groups) == 1:
        return parsed[0].facts
    sound = [(facts, ks) for facts, ks in groups.items() if _sound_group(facts, ks, parsed, ers, label)]
    if len(sound) == 1:
        facts, members = sound[0]
        rest = [k for k in range(len(parsed)) if k not in members]
        raise _blame(parsed, names, rest, f"differs in {_first_difference(facts, parsed[rest[0]].facts)} "
                     f"from the {len(members)} partials ({_positions(members)}) that agree on key "
                     f"{facts.key_id!r} and verify")
    (_, first), (other_facts, second) = list(groups.items())[:2]
    raise KeyMismatch(f"{names[first[0]]} and {names[second[0]]} disagree on the key (in "
                      f"{_first_difference(parsed[first[0]].facts, other_facts)}), and no group of "
                      f"{parsed[0].facts.threshold + 1} or more partials that agree verifies, so neither "
                      "is known to be the wrong one: check the public key (and chain code) and pass them")


def _sound_group(facts: st.KeyFacts, members: list[int], parsed: list[Partial], ers: ErsPublicKey,
                 label: str) -> bool:
    """Whether t+1 or more distinct validators agree on ``facts``, whose sharing holds and whose
    proofs all verify."""
    if len({parsed[k].entry.index for k in members}) < facts.threshold + 1:
        return False
    try:
        facts.check_sharing()
        for k in members:
            check_partial(parsed[k], ers, label, f"partial {k + 1}", k + 1)
    except ErsError:
        return False
    return True


def combine(partials, ers_public_key, label: str, *, public_key=None,
            chain_code: str | bytes | None = None) -> RecoveryData:
    """The recovery data of ``partials`` (JSON objects, texts or ``Partial``s); ErsError if any check fails.

    ``public_key`` and ``chain_code`` (optional): the key the caller expects; partials about
    another are blamed. An error about one partial says its position in ``partials``
    (``ErsError.position``, 1-based)."""
    ers = load_public_key(ers_public_key)
    label = st.check_label(label)
    parsed = _parse_all(partials)
    names = tuple(st.describe(f"partial {k + 1}", p.entry) for k, p in enumerate(parsed))
    _check_expected(parsed, names, public_key, chain_code)
    facts = _agreed_facts(parsed, names, ers, label)
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


def _chain_code_bytes(chain_code: str | bytes) -> bytes:
    if isinstance(chain_code, str):
        return f.hex_to_bytes(chain_code.lower(), "chain code", st.CHAIN_CODE_SIZE)
    if not isinstance(chain_code, bytes | bytearray) or len(chain_code) != st.CHAIN_CODE_SIZE:
        raise MalformedErsData(f"chain code: expected {st.CHAIN_CODE_SIZE} bytes")
    return bytes(chain_code)


def check_chain_code(facts: st.KeyFacts, chain_code: str | bytes) -> None:
    """KeyMismatch unless the facts commit to ``chain_code`` (hex or bytes)."""
    if not facts.commits_to(_chain_code_bytes(chain_code)):
        raise KeyMismatch(f"the recovery data for key {facts.key_id!r} commits to another chain code than "
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
