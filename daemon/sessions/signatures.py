"""Public keys and signatures as users see them, and the checks a coordinator makes on them.

Keys are shown as compressed SEC1 (ECDSA), 32 bytes (Ed25519) or x-only (BIP340);
``path`` derives the non-hardened BIP32 child the same way the signing protocols do
(for BIP340, from the even-y key). A coordinator that holds no share of the signing
set verifies the signature a participant reports before returning it.
"""

from __future__ import annotations

from daemon.errors import BadRequest, SessionFailed
from daemon.records import KeyRecord
from daemon.service import SignatureView
from daemon.sessions import messages as m
from daemon.sessions.admission import Refused, frost_message
from protocol import hd, wire
from protocol.cmp.signature import EcdsaSignature, message_digest
from protocol.cmp.signature import verify as ecdsa_verify
from protocol.errors import EncodingError, UsageError
from protocol.frost.shares import FrostSignature
from protocol.frost.suites import suite_by_name
from protocol.group import Point, group_by_name

SUITE_OF = {"eddsa": "ed25519", "schnorr": "bip340"}


def display_key(scheme: str, encoded: bytes) -> bytes:
    """A group encoding of a key's point as shown to users (BIP340: x-only)."""
    return encoded[1:] if scheme == "schnorr" else encoded


def derive(key: KeyRecord, path: str | None) -> tuple[Point, bytes]:
    """(public key point, chain code) of the key, or of its child at ``path``; BadRequest for a bad path."""
    group = group_by_name(key.curve)
    point = group.decode_point(key.public_key)
    try:
        if key.scheme == "ecdsa":
            if path is None:
                return point, key.chain_code
            derived = hd.derive(group, point, key.chain_code, path)
            return derived.public_key, derived.chain_code
        suite = suite_by_name(SUITE_OF[key.scheme])
        base = suite.adjust_key(point)[0]
        if path is None:
            return base, key.chain_code
        derived = hd.derive(group, base, key.chain_code, path)
        return suite.adjust_key(derived.public_key)[0], derived.chain_code
    except UsageError as exc:
        raise BadRequest(f"path {path!r}: {exc}") from None


def public_bytes(key: KeyRecord, point: Point) -> bytes:
    return display_key(key.scheme, point.encode())


def signed_bytes(key: KeyRecord, proposal: m.Proposal) -> bytes:
    """What the session signs: the ECDSA digest, the Ed25519 message, the BIP340 digest."""
    if key.scheme == "ecdsa":
        return proposal.digest or message_digest(proposal.message, proposal.hash)
    return frost_message(proposal)


def verifies(key: KeyRecord, proposal: m.Proposal, signature: bytes) -> bool:
    try:
        view(key, proposal, signature, proposal.session_id)
    except (BadRequest, SessionFailed, EncodingError, Refused):
        return False
    return True


def view(key: KeyRecord, proposal: m.Proposal, signature: bytes, session_id: str) -> SignatureView:
    """The API's view of a signature; SessionFailed if it does not verify under the (derived) key."""
    point, _ = derive(key, proposal.path or None)
    signed = signed_bytes(key, proposal)
    if key.scheme == "ecdsa":
        sig = wire.decode(signature, EcdsaSignature)
        if not ecdsa_verify(point, signed, int(sig.r), int(sig.s)):
            raise SessionFailed("the signature does not verify under the signing key")
        return SignatureView(key.key_id, point.encode().hex(), signed.hex(), sig.to_compact().hex(),
                             sig.recovery_id, sig.to_der().hex(), session_id)
    sig = wire.decode(signature, FrostSignature)
    suite = suite_by_name(SUITE_OF[key.scheme])
    if sig.public_key != public_bytes(key, point) or not suite.verify(sig.public_key, signed,
                                                                        sig.signature):
        raise SessionFailed("the signature does not verify under the signing key")
    return SignatureView(key.key_id, sig.public_key.hex(), signed.hex(), sig.signature.hex(),
                         session_id=session_id)


__all__ = ["derive", "display_key", "public_bytes", "signed_bytes", "verifies", "view"]
