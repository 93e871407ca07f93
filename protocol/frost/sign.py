"""FROST signing (RFC 9591 §5) by any t+1 or more holders; every signer aggregates.

Start: each signer draws fresh nonces from the RNG, its secret share and the
session tag (``SigningNonces``, single use; a repeating RNG still gives other
nonces in another session) and broadcasts their commitments (D_i, E_i) under the
session tag. Round 1 (``sign_round1``) collects the commitments,
derives the ``SigningPackage`` (binding factors bound to the session, group
commitment, challenge), answers with z_i, consuming the nonces, and broadcasts
it. Round 2 (``sign_round2``) checks every z_i against its sender's commitment and
public share, blaming the sender of a bad one, and aggregates.

``path`` signs for a non-hardened HD child of the key (hardened steps are
refused; for bip340 derivation starts from the even-y key 0x02 || x, see
``tweak``); ``taproot`` (bip340 only) for the BIP341/BIP86 output key of the
(derived) key. ``result`` is a ``FrostSignature``: the 64-byte signature and the
key it verifies under (Ed25519 point, BIP340 x-only).

The session tag binds the session id, suite, key (id, epoch, public key),
signers, message, path and the Taproot flag: commitments replayed from another
session, or made for other inputs, are refused and blamed on their sender.

The machine is the only holder of its nonces (``nonces``, None once used or
erased). When it ends with a blame before answering, it erases them at once;
a caller whose session ends otherwise (the channel aborted, a timeout) calls
``abandon``.
"""

from __future__ import annotations

from collections.abc import Sequence

from protocol.errors import UsageError
from protocol.frost.common import SIGN, session_tag
from protocol.frost.nonces import SigningNonces
from protocol.frost.shares import FrostKeyShare, FrostSignature
from protocol.frost.sign_round1 import SigningCommitments, SignRound1
from protocol.frost.tweak import signing_key
from protocol.hd import format_path, parse_path
from protocol.machine import Machine, Send, Transition
from protocol.rng import Rng

MAX_MESSAGE = 1 << 20


class FrostSign(Machine):
    """One signer's run; ``result`` is a ``FrostSignature``."""

    ROUNDS = 2

    def __init__(self, share: FrostKeyShare, signers: Sequence[int], message: bytes, session_id: bytes,
                 rng: Rng, *, path: str | None = None, taproot: bool = False) -> None:
        if not isinstance(share, FrostKeyShare):
            raise UsageError("FrostSign needs a FrostKeyShare")
        signers = share.check_signers(signers)
        super().__init__(share.party, signers, share.group)
        if not isinstance(message, bytes) or len(message) > MAX_MESSAGE:
            raise UsageError(f"the message is bytes, at most {MAX_MESSAGE}")
        if not isinstance(taproot, bool):
            raise UsageError("taproot is a bool")
        path_text = "" if path is None else format_path(parse_path(path))
        self.share = share
        self.suite = share.ciphersuite
        self.message = message
        self.rng = rng
        self.key = signing_key(self.suite, share.public_key, chain_code=share.chain_code, path=path,
                               taproot=taproot)
        self.tag = session_tag(SIGN, session_id, [
            ("suite", self.suite.name), ("key-id", share.key_id), ("epoch", share.epoch),
            ("public-key", share.public_key), ("signers", list(signers)), ("message", message),
            ("path", path_text), ("taproot", int(taproot))])
        self.context = self.tag  # parties with different inputs abort without blame
        self.nonces: SigningNonces | None = None  # made at start, consumed in round 1

    def _begin(self) -> Transition:
        self.nonces = SigningNonces.generate(self.suite, self.share.secret, self.rng, self.tag)
        hiding, binding = self.nonces.commitments
        return Transition([Send(SigningCommitments(self.tag, hiding, binding))], next=SignRound1(self))

    def _erase_secrets(self) -> None:
        if self.nonces is not None:
            self.nonces.erase()
            self.nonces = None


__all__ = ["FrostSign", "FrostSignature"]
