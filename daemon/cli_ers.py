"""``tssnet ers``: emergency recovery from the command line.

    tssnet ers keygen --out DIR          # offline: DIR/ers_public.json, DIR/ers_private.json (0600)
    tssnet ers fingerprint DIR/ers_public.json   # what a node lists in ers_allowed_keys
    tssnet ers partial --key KEY --ers-public DIR/ers_public.json --label L --out p1.json   # per node
    tssnet ers combine --ers-public DIR/ers_public.json --label L [--public-key HEX] [--chain-code HEX] \
        --out recovery.json p1.json p2.json
    tssnet ers validate --ers-public DIR/ers_public.json --label L --public-key HEX [--chain-code HEX] recovery.json
    tssnet ers recover --ers-private DIR/ers_private.json --label L [--public-key HEX] recovery.json --json

Exit code 0 on success (validate: only when the data is valid), 1 when a check fails
(the reason on stderr, with its kind, e.g. ``bad_proof``), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

from daemon import ers_sdk
from daemon.errors import BadRequest
from daemon.ers_files import read_json, write_json, write_text
from protocol import ers
from protocol.ers.keys import LEVEL
from protocol.params import MAX_MODULUS_BITS, MIN_MODULUS_BITS
from protocol.rng import SystemRng

PUBLIC_FILE = "ers_public.json"
PRIVATE_FILE = "ers_private.json"
#: the public key's fingerprint, one line of hex (what a node's ers_allowed_keys lists)
FINGERPRINT_FILE = "ers_fingerprint.txt"
DEFAULT_NODE = "http://127.0.0.1:8001"
API_KEY_ENV = "TSSNET_API_KEY"


def add_ers_command(commands) -> None:
    """``tssnet ers`` and its subcommands, each with ``func(args) -> exit code``."""
    parser = commands.add_parser(
        "ers", help="emergency recovery: an offline recovery key and encrypted, verifiable shares",
        description="Emergency recovery (ERS): validators encrypt their key shares to an offline recovery "
        "key with a proof; anyone can check the combined data against the public key; the recovery "
        "key's owner rebuilds the private key if every validator is lost.")
    sub = parser.add_subparsers(dest="ers_command", metavar="SUBCOMMAND", required=True)

    keygen = sub.add_parser("keygen", help="make an offline recovery key pair",
                            description=f"Make a recovery key pair: DIR/{PUBLIC_FILE} (give it to the "
                            f"validators) and DIR/{PRIVATE_FILE} (mode 0600; keep it offline), and "
                            f"DIR/{FINGERPRINT_FILE}: the public key's fingerprint, which each validator's "
                            "operator adds to ers_allowed_keys. Searching for the two safe primes takes minutes.")
    keygen.add_argument("--out", type=Path, required=True, metavar="DIR", help="directory for the two files")
    keygen.add_argument("--bits", type=int, default=LEVEL.modulus_bits,
                        help=f"modulus size, even, {MIN_MODULUS_BITS}..{MAX_MODULUS_BITS} "
                             f"(default {LEVEL.modulus_bits})")
    keygen.set_defaults(func=_keygen)

    fingerprint = sub.add_parser("fingerprint", help="print an ERS public key's fingerprint",
                                 description="Verify an ERS public key and print its fingerprint: 64 hex "
                                 "characters naming (N, s, t), what a node lists in ers_allowed_keys.")
    fingerprint.add_argument("public", type=Path, metavar="FILE", help=f"the public key ({PUBLIC_FILE})")
    fingerprint.set_defaults(func=_fingerprint)

    partial = sub.add_parser("partial", help="ask a node for its partial recovery information",
                             description="Ask a validator for its share of the key encrypted to the "
                             "recovery key (the node must set enable_ers_export), and save it.")
    partial.add_argument("--node", default=DEFAULT_NODE, metavar="URL", help=f"default {DEFAULT_NODE}")
    partial.add_argument("--api-key", metavar="KEY", help=f"the node's API key (default: ${API_KEY_ENV})")
    partial.add_argument("--key", required=True, help="the key's id")
    _ers_public(partial)
    _label(partial)
    partial.add_argument("--out", type=Path, required=True, metavar="FILE", help="where to save the partial")
    partial.set_defaults(func=_partial)

    combine = sub.add_parser("combine", help="combine partials into one recovery-data file",
                             description="Check every partial (proof, key, sharing) and write one "
                             "recovery-data file; t+1 or more validators' partials are needed.")
    _ers_public(combine)
    _label(combine)
    combine.add_argument("--public-key", metavar="HEX", help="the key's public key as the node shows it "
                         "(optional: partials about another key are named as the culprits)")
    combine.add_argument("--chain-code", metavar="HEX", help="the key's chain code as the node shows it "
                         "(optional: partials committed to another chain code are named as the culprits)")
    combine.add_argument("--out", type=Path, required=True, metavar="FILE", help="the recovery-data file")
    combine.add_argument("partials", nargs="+", type=Path, metavar="PARTIAL_FILE",
                         help="a validator's partial (as the node answered it, or its partial field)")
    combine.set_defaults(func=_combine)

    validate = sub.add_parser("validate", help="check recovery data with public values only",
                              description="Check that the recovery data would rebuild the key with this "
                              "public key under this label. Exit 0 only when it is valid.")
    _ers_public(validate)
    _label(validate)
    validate.add_argument("--public-key", required=True, metavar="HEX",
                          help="the key's public key as the node shows it")
    validate.add_argument("--chain-code", metavar="HEX", help="the key's chain code as the node shows it "
                          "(optional: checked when given)")
    validate.add_argument("--json", action="store_true", help='print {"valid": ..., "error": ...}')
    validate.add_argument("data", type=Path, metavar="RECOVERY_FILE")
    validate.set_defaults(func=_validate)

    recover = sub.add_parser("recover", help="rebuild the private key (offline, with the private recovery key)",
                             description="Decrypt the shares with the private recovery key and rebuild "
                             "the private key; prints the curve, the private key (big-endian hex) and the "
                             "chain code. Run it on an offline machine.")
    recover.add_argument("--ers-private", type=Path, required=True, metavar="FILE",
                         help=f"the private recovery key ({PRIVATE_FILE}, mode 0600)")
    _label(recover)
    recover.add_argument("--public-key", metavar="HEX", help="the key's public key as the node shows it "
                         "(optional but advised: the recovered key must be it; without it a warning says "
                         "the key was not checked against an expected public key)")
    recover.add_argument("--json", action="store_true",
                         help='print {"curve", "private_key", "chain_code", "key_id", "scheme", "public_key", '
                              '"chain_code_mismatches"}')
    recover.add_argument("data", type=Path, metavar="RECOVERY_FILE")
    recover.set_defaults(func=_recover)


def _ers_public(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ers-public", type=Path, required=True, metavar="FILE",
                        help=f"the recovery public key ({PUBLIC_FILE})")


def _label(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--label", required=True,
                        help="the label the recovery data is bound to (the same at every step)")


def _failed(command: str, exc: ers.ErsError, files: list[Path] | None = None) -> int:
    where = ""
    if files and exc.position is not None and 0 < exc.position <= len(files):
        where = f" [file {files[exc.position - 1]}]"
    print(f"tssnet ers {command}: {exc.kind}: {exc.message}{where}", file=sys.stderr)
    return 1


def _load_public(path: Path) -> ers.ErsPublicKey:
    return ers.load_public_key(read_json(path, "ERS public key"))


def _keygen(args) -> int:
    out: Path = args.out
    paths = public_path, private_path, fingerprint_path = out / PUBLIC_FILE, out / PRIVATE_FILE, out / FINGERPRINT_FILE
    for path in paths:
        if path.exists():
            raise BadRequest(f"{path} already exists; refusing to overwrite a recovery key")
    if args.bits % 2 or not MIN_MODULUS_BITS <= args.bits <= MAX_MODULUS_BITS:
        raise BadRequest(f"--bits must be even and in {MIN_MODULUS_BITS}..{MAX_MODULUS_BITS}")
    with _Progress("searching for two safe primes", sys.stderr.isatty()):
        private, public = ers.generate_keypair(SystemRng(), args.bits)
    fingerprint = public.fingerprint.hex()
    write_json(private_path, private.to_json(), private=True, what="ERS private key")
    write_json(public_path, public.to_json(), replace=False, what="ERS public key")
    write_text(fingerprint_path, fingerprint + "\n", replace=False, what="ERS fingerprint")
    print(f"public key:  {public_path} (give it to the validators)\n"
          f"private key: {private_path} (mode 0600: keep it offline, and a copy in a safe place)\n"
          f"fingerprint: {fingerprint} (in {fingerprint_path}; each validator lists it in ers_allowed_keys)")
    return 0


def _fingerprint(args) -> int:
    try:
        print(ers_sdk.ers_fingerprint(read_json(args.public, "ERS public key")))
    except ers.ErsError as exc:
        return _failed("fingerprint", exc)
    return 0


def _partial(args) -> int:
    from daemon.client import ApiError, Client
    api_key = args.api_key or os.environ.get(API_KEY_ENV)
    if not api_key:
        raise BadRequest(f"no API key: pass --api-key or set {API_KEY_ENV}")
    public = read_json(args.ers_public, "ERS public key")
    try:
        answer = Client(args.node, api_key).ers_partial(args.key, public, args.label)
    except ApiError as exc:
        print(f"tssnet ers partial: {exc}", file=sys.stderr)
        return 1
    write_json(args.out, answer, replace=False, what="partial")
    print(f"partial of validator {answer.get('index')} saved to {args.out}")
    return 0


def _combine(args) -> int:
    try:
        public = _load_public(args.ers_public)
        partials = [read_json(path, "partial") for path in args.partials]
        data = ers_sdk.recovery_info_combine(partials, public, args.label, public_key=args.public_key,
                                             chain_code=args.chain_code)
    except ers.ErsError as exc:
        return _failed("combine", exc, args.partials)
    write_json(args.out, data, what="recovery data")
    print(f"recovery data for key {data['key_id']} from validators "
          f"{', '.join(str(p['index']) for p in data['partials'])} written to {args.out}")
    return 0


def _validate(args) -> int:
    try:
        public = _load_public(args.ers_public)
        ers_sdk.recovery_info_validate(read_json(args.data, "recovery data"), public, args.label, args.public_key,
                                       chain_code=args.chain_code)
    except ers.ErsError as exc:
        if args.json:
            print(json.dumps({"valid": False, "error": {"type": exc.kind, "message": exc.message}}))
        return _failed("validate", exc)
    print(json.dumps({"valid": True}) if args.json else f"valid: {args.data} rebuilds the key {args.public_key}")
    return 0


def _recover(args) -> int:
    try:
        private = read_json(args.ers_private, "ERS private key", private=True)
        answer = ers_sdk.recover_key(read_json(args.data, "recovery data"), private, args.label, args.public_key)
    except ers.ErsError as exc:
        return _failed("recover", exc)
    print("tssnet ers recover: this is the whole private key; anyone who sees it controls the funds",
          file=sys.stderr)
    if args.public_key is None:
        print(f"tssnet ers recover: warning: the recovered key {answer['public_key']} was not checked against "
              "an expected public key; compare it with the key's public key (or pass --public-key)",
              file=sys.stderr)
    if answer["chain_code_mismatches"]:
        print(f"tssnet ers recover: warning: {answer['chain_code_mismatches']} partial(s) carried an encrypted "
              "chain code that does not match the commitment every partial states; the one that matches "
              "is used", file=sys.stderr)
    if args.json:
        print(json.dumps(answer))
    else:
        print("\n".join(f"{name:<12} {value}" for name, value in answer.items()))
    return 0


class _Progress:
    """Elapsed seconds on stderr while a slow step runs, when stderr is a terminal."""

    def __init__(self, label: str, show: bool) -> None:
        self.label, self.show = label, show
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        started = time.monotonic()
        while not self._done.wait(0.5):
            sys.stderr.write(f"\r{self.label}... {time.monotonic() - started:.0f}s")
            sys.stderr.flush()

    def __enter__(self) -> _Progress:
        if self.show:
            self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self.show:
            self._done.set()
            self._thread.join()
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


__all__ = ["FINGERPRINT_FILE", "PRIVATE_FILE", "PUBLIC_FILE", "add_ers_command"]
