"""The FROST ciphersuites by name: "ed25519", "bip340", and the RFC's "secp256k1"."""

from __future__ import annotations

from protocol.errors import UsageError
from protocol.frost.bip340 import BIP340
from protocol.frost.ciphersuite import Ciphersuite
from protocol.frost.ed25519 import ED25519_SHA512
from protocol.frost.secp256k1 import SECP256K1_SHA256

SUITES: dict[str, Ciphersuite] = {s.name: s for s in (ED25519_SHA512, BIP340, SECP256K1_SHA256)}


def suite_by_name(name: str) -> Ciphersuite:
    """The suite called ``name``; UsageError if there is none."""
    suite = SUITES.get(name) if isinstance(name, str) else None
    if suite is None:
        raise UsageError(f"unknown FROST suite {name!r}; known: {sorted(SUITES)}")
    return suite


def as_suite(suite: Ciphersuite | str) -> Ciphersuite:
    """A suite given by name or as itself; UsageError for anything else."""
    if isinstance(suite, str):
        return suite_by_name(suite)
    if not isinstance(suite, Ciphersuite):
        raise UsageError(f"{suite!r} is not a FROST ciphersuite")
    return suite


__all__ = ["SUITES", "as_suite", "suite_by_name"]
