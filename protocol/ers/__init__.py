"""Emergency recovery (ERS): verifiable encryption of key shares to an offline recovery key.

    private, public = keys.generate_keypair(rng)                 # offline, once
    partial = make_partial(share, public, label, rng)            # each validator
    data = combine([p1, p2, ...], public, label)                 # anyone
    validate(data, public, label, public_key)                    # anyone, any time
    key = recover(data, private, label)                          # the recovery key's owner

``keys`` (the key pair), ``statement`` (what a partial proves), ``partial``,
``combine`` (combine and validate) and ``recover``. Everything is pure: documents come
in and go out as JSON objects; reading and writing files is the daemon's job.
"""

from protocol.ers.combine import RecoveryData, combine, parse_recovery_data, validate
from protocol.ers.errors import (
    BadPartialProof,
    DuplicatePartial,
    ErsError,
    InconsistentShares,
    InvalidErsKey,
    KeyMismatch,
    MalformedErsData,
    NotEnoughPartials,
    RecoveryFailed,
)
from protocol.ers.keys import (
    ErsPrivateKey,
    ErsPublicKey,
    generate_keypair,
    load_private_key,
    load_public_key,
)
from protocol.ers.partial import Partial, make_partial, parse_partial, verify_partial
from protocol.ers.recover import RecoveredKey, recover

__all__ = ["BadPartialProof", "DuplicatePartial", "ErsError", "ErsPrivateKey", "ErsPublicKey",
           "InconsistentShares", "InvalidErsKey", "KeyMismatch", "MalformedErsData", "NotEnoughPartials",
           "Partial", "RecoveredKey", "RecoveryData", "RecoveryFailed", "combine", "generate_keypair",
           "load_private_key", "load_public_key", "make_partial", "parse_partial", "parse_recovery_data",
           "recover", "validate", "verify_partial"]
