"""What goes wrong with emergency-recovery data, each failure its own type.

Every error has a stable ``kind`` (what the CLI and the SDK report to scripts) and a
message for people. An error about one partial also carries its ``position``: 1-based,
in the list given to ``combine`` (the CLI maps it to the file) or in the recovery
data's ``partials``. ``BadPartialProof`` also names the validator as the partial claims
it: its party ``index`` and, when the partial says it, the ``holder`` (the node's peer
id). A partial whose proof fails proves nothing, so both are claims, and the message
says so. No message ever holds a decrypted value.
"""

from __future__ import annotations

from protocol.errors import TssError


class ErsError(TssError):
    """Base of every emergency-recovery failure."""

    kind = "ers_error"

    def __init__(self, message: str, *, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: which partial (1-based, in the input list or the recovery data) the error is about
        self.position = position


class MalformedErsData(ErsError):
    """A JSON document (key, partial, recovery data) that does not have the documented shape."""

    kind = "malformed"


class InvalidErsKey(ErsError):
    """An ERS public or private key that fails its checks (size, proofs, factorisation)."""

    kind = "invalid_ers_key"


class KeyMismatch(ErsError):
    """Data about another threshold key, another ERS key, or partials that disagree on the key."""

    kind = "key_mismatch"


class NotEnoughPartials(ErsError):
    """Fewer than t+1 partials (or, at recovery, fewer than t+1 that decrypt to their shares)."""

    kind = "not_enough_partials"


class DuplicatePartial(ErsError):
    """Two partials of one validator (one party index)."""

    kind = "duplicate_partial"


class InconsistentShares(ErsError):
    """Public shares that do not lie on one polynomial of degree t through the public key."""

    kind = "inconsistent_shares"


class BadPartialProof(ErsError):
    """A partial whose proof does not verify: wrong label, tampered, swapped or foreign."""

    kind = "bad_proof"

    def __init__(self, message: str, index: int, holder: str = "", *, position: int | None = None) -> None:
        super().__init__(message, position=position)
        self.index = index          # as the partial claims it
        self.holder = holder        # as the partial claims it


class RecoveryFailed(ErsError):
    """Decryption with the private key does not give the key (wrong private key, bad data)."""

    kind = "recovery_failed"


__all__ = ["BadPartialProof", "DuplicatePartial", "ErsError", "InconsistentShares", "InvalidErsKey", "KeyMismatch",
           "MalformedErsData", "NotEnoughPartials", "RecoveryFailed"]
