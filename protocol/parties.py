"""Party sets: the one rule for who may take part in a session or hold a key.

Parties are named by positive integer indices (they are also the Shamir
evaluation points), listed once each in increasing order. CGGMP21 and FROST keys
have at most ``MAX_PARTIES`` holders with indices up to ``MAX_PARTY_ID`` (the
range the share records encode); other uses pass their own limits.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_PARTIES = 32
MAX_PARTY_ID = 2**16 - 1


def is_index(x: object) -> bool:
    """An int that is not a bool (True would otherwise pass as party 1)."""
    return isinstance(x, int) and not isinstance(x, bool)


def check_party_set(parties: Iterable[int], *, party: object = None, threshold: object = None,
                    max_parties: int = MAX_PARTIES, max_index: int = MAX_PARTY_ID) -> tuple[int, ...]:
    """``parties`` as a tuple if it is a valid party set; ValueError naming the fault otherwise.

    2..max_parties distinct indices in 1..max_index in increasing order; ``party``,
    when given, must be among them; ``threshold``, when given, in [1, len(parties)).
    """
    parties = tuple(parties)
    if not 2 <= len(parties) <= max_parties:
        raise ValueError(f"need 2..{max_parties} parties")
    if not all(is_index(j) for j in parties) or list(parties) != sorted(set(parties)) or parties[0] < 1:
        raise ValueError("parties must be distinct positive indices in increasing order")
    if parties[-1] > max_index:
        raise ValueError(f"party indices are at most {max_index}")
    if party is not None and (not is_index(party) or party not in parties):
        raise ValueError(f"party {party} is not among the parties")
    if threshold is not None and (not is_index(threshold) or not 1 <= threshold < len(parties)):
        raise ValueError("threshold must be in [1, number of parties)")
    return parties
