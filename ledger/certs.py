"""Opening signed messages and checking the certificates built from them.

These functions trust nothing but the validator set they are given: each raises
``EncodingError`` for bytes that do not decode and ``InvalidProof`` naming the
failed check, and the replica turns either into evidence against whoever handed
it the bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ledger.config import ValidatorSet
from ledger.crypto import Verifier
from ledger.messages import (
    BODIES,
    Commit,
    CommitCertificate,
    Prepare,
    PreparedProof,
    PrePrepare,
    Signed,
)
from protocol import wire
from protocol.errors import InvalidProof


def sign_body(body: Any, signer_sign, prefix: bytes) -> bytes:
    """The ``Signed`` bytes of ``body`` under a signing function."""
    data = wire.encode(body)
    return wire.encode(Signed(data, signer_sign(prefix + data)))


def open_signed(data: bytes, verifier: Verifier, keys: Mapping[str, bytes],
                expected: type | None = None, what: str = "message") -> Any:
    """The body of a ``Signed`` message whose author is in ``keys`` and whose signature holds."""
    signed = wire.decode(data, Signed)
    body = BODIES.decode(signed.body)
    if expected is not None and type(body) is not expected:
        raise InvalidProof(what, f"expected {expected.__name__}, got {type(body).__name__}")
    key = keys.get(body.replica)
    if key is None:
        raise InvalidProof(what, f"{body.replica!r} is not a validator here")
    if not verifier.verify(key, signed.body, signed.signature):
        raise InvalidProof(what, f"bad signature by {body.replica!r}")
    return body


def _open_votes(raws: Sequence[bytes], cls: type, view: int, seq: int, digest: bytes,
                vset: ValidatorSet, verifier: Verifier, what: str) -> set[str]:
    voters: set[str] = set()
    for raw in raws:
        vote = open_signed(raw, verifier, vset.keys, cls, what)
        if (vote.view, vote.seq, vote.digest) != (view, seq, digest):
            raise InvalidProof(what, "a vote for another view, sequence number or digest")
        if vote.replica in voters:
            raise InvalidProof(what, f"two votes by {vote.replica!r}")
        voters.add(vote.replica)
    return voters


def verify_commit_certificate(cert: CommitCertificate, vset: ValidatorSet,
                              verifier: Verifier) -> None:
    """A quorum of ``vset`` signed Commit(view, seq, digest)."""
    voters = _open_votes(cert.commits, Commit, cert.view, cert.seq, cert.digest, vset, verifier,
                         "commit-certificate")
    if len(voters) < vset.quorum:
        raise InvalidProof("commit-certificate", f"{len(voters)} commits, quorum is {vset.quorum}")


def verify_prepared_proof(proof: PreparedProof, vset: ValidatorSet,
                          verifier: Verifier) -> PrePrepare:
    """The pre-prepare of the view's primary plus a quorum less one matching prepares."""
    what = "prepared-proof"
    pp = open_signed(proof.preprepare, verifier, vset.keys, PrePrepare, what)
    if pp.replica != vset.primary(pp.view) or pp.block.height != pp.seq:
        raise InvalidProof(what, "pre-prepare not by the view's primary or for another height")
    voters = _open_votes(proof.prepares, Prepare, pp.view, pp.seq, pp.block.hash(), vset,
                         verifier, what)
    if pp.replica in voters or len(voters) < vset.quorum - 1:
        raise InvalidProof(what, "not a quorum of prepares from backups")
    return pp
