"""How objects that hold a secret behave: printed redacted, and never pickled or copied.

``Redacted`` prints a secret-carrying message or record as ``Name(<redacted>)``
(house rule 3). ``NeverPickled`` refuses pickle, ``copy.copy`` and ``copy.deepcopy``:
a pickle or a copy of a key share, a presignature or a signing nonce is a second
place the secret lives, outside what the protocol erases or guards (a single-use
presignature would even get an unconsumed twin). Records are stored with the wire
codec only; ``dataclasses.replace`` and decoding, which build a new object through
its checks, stay available.
"""

from __future__ import annotations

from protocol.errors import UsageError


class Redacted:
    """Mixin (with ``@dataclass(repr=False)``): the repr names the type and hides every field."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<redacted>)"


class NeverPickled:
    """Mixin: pickle, ``copy.copy`` and ``copy.deepcopy`` raise UsageError saying ``_REFUSAL``."""

    __slots__ = ()
    _REFUSAL = "a record holding a secret is never pickled or copied; store it with the wire codec"

    def __reduce_ex__(self, protocol):
        raise UsageError(self._REFUSAL)

    def __reduce__(self):
        raise UsageError(self._REFUSAL)

    def __copy__(self):
        raise UsageError(self._REFUSAL)

    def __deepcopy__(self, memo):
        raise UsageError(self._REFUSAL)


__all__ = ["NeverPickled", "Redacted"]
