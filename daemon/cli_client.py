"""``tssnet`` subcommands that talk to a node over its HTTP API (through ``daemon.client``).

    tssnet keygen --threshold 1                     # ECDSA key among all validators
    tssnet sign --key KEY --message hello           # sha256 for ECDSA/BIP340 keys, as-is for Ed25519
    tssnet keys | public-key --key KEY --path m/0/1 | validators

Every command takes ``--node`` (default http://127.0.0.1:8001), ``--api-key`` (or the
TSSNET_API_KEY environment variable, which keeps the key out of the process list) and
``--json``. Exit code 0 on success; 1 with the node's error message on stderr otherwise.
While a keygen or signature runs, elapsed seconds are shown on stderr when it is a
terminal (never with --json).

``sign --hash auto`` (the default) asks the node for the key's scheme and picks sha256
for ECDSA and BIP340 keys and none for Ed25519 keys (which hash inside the signature):
the client always says what it signs, the node never guesses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable
from typing import Any

from daemon.client import DEFAULT_TIMEOUT, ApiError, AsyncClient, Player

DEFAULT_NODE = "http://127.0.0.1:8001"
API_KEY_ENV = "TSSNET_API_KEY"
HASH_CHOICES = ("auto", "sha256", "sha256d", "keccak256", "none")


def add_client_commands(subparsers: argparse._SubParsersAction) -> None:
    """Adds keygen, sign, keys, public-key and validators; each sets ``func(args) -> exit code``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--node", default=DEFAULT_NODE, metavar="URL",
                        help=f"the node's HTTP API (default: {DEFAULT_NODE})")
    common.add_argument("--api-key", metavar="KEY",
                        help=f"the node's API key (default: ${API_KEY_ENV}, which is safer than a flag)")
    common.add_argument("--json", action="store_true", help="print the node's JSON answer (for scripts)")
    common.add_argument("--timeout", type=float, metavar="SECONDS",
                        help=f"give up waiting for the node after this long (default: {DEFAULT_TIMEOUT:g}; "
                             "keygen: as long as the node waits for its keygen)")

    keygen = subparsers.add_parser("keygen", parents=[common], help="generate a threshold key",
                                   description="Generate a key shared by the validators and wait for it.")
    keygen.add_argument("--scheme", default="ecdsa", choices=("ecdsa", "eddsa", "schnorr"),
                        help="ecdsa (CGGMP21), eddsa (FROST Ed25519) or schnorr (FROST BIP340); default ecdsa")
    keygen.add_argument("--curve", help="the curve (default: the scheme's own)")
    keygen.add_argument("--threshold", type=int, required=True,
                        help="security threshold t: any t+1 holders sign, t or fewer learn nothing")
    keygen.add_argument("--players", type=_players, metavar="LIST",
                        help="comma-separated validator indices or peer ids (default: every validator)")
    keygen.add_argument("--key-id", help="the new key's id (default: a fresh random id)")
    keygen.set_defaults(func=_keygen)

    sign = subparsers.add_parser("sign", parents=[common], help="sign with a threshold key",
                                 description="Have the validators sign a message or a digest.")
    sign.add_argument("--key", required=True, help="the key's id")
    what = sign.add_mutually_exclusive_group(required=True)
    what.add_argument("--message", help="text to sign, encoded as UTF-8")
    what.add_argument("--message-hex", metavar="HEX", help="bytes to sign, in hex")
    what.add_argument("--digest", metavar="HEX", help="a 32-byte digest in hex, signed as it is")
    sign.add_argument("--hash", choices=HASH_CHOICES, default="auto",
                      help="how the message is hashed; auto: sha256, or none for Ed25519 keys")
    sign.add_argument("--path", help="non-hardened BIP32 path to sign with a derived key, e.g. m/0/1")
    sign.add_argument("--players", type=_players, metavar="LIST",
                      help="comma-separated validator indices or peer ids that sign (default: the node picks)")
    sign.set_defaults(func=_sign)

    keys = subparsers.add_parser("keys", parents=[common], help="list the keys a node holds",
                                 description="List the keys the node holds a share of.")
    keys.set_defaults(func=_keys)

    public_key = subparsers.add_parser("public-key", parents=[common], help="show a key's public key",
                                       description="Show a key's public key, derived along a path if given.")
    public_key.add_argument("--key", required=True, help="the key's id")
    public_key.add_argument("--path", help="non-hardened BIP32 path, e.g. m/0/1")
    public_key.set_defaults(func=_public_key)

    validators = subparsers.add_parser(
        "validators", parents=[common], help="list the validators, or change the set",
        description="List the validator set as the node knows it (and the candidates); "
                    "'change' approves adding candidates and removing validators through the "
                    "ledger; 'changes' lists the proposals.")
    validators.add_argument("action", nargs="?", choices=("change", "changes"),
                            help="change: approve a change; changes: list proposals (default: list)")
    validators.add_argument("--add", action="append", default=[], metavar="PEER",
                            help="with change: a candidate to make a validator (repeatable)")
    validators.add_argument("--remove", action="append", default=[], metavar="PEER",
                            help="with change: a validator to remove (repeatable)")
    validators.add_argument("--nonce", metavar="HEX",
                            help="with change: approve the proposal with this nonce (default: a new one)")
    validators.set_defaults(func=_validators_command)


def build_client_parser() -> argparse.ArgumentParser:
    """A parser with only the client commands (the ``tssnet`` command adds them to its own)."""
    parser = argparse.ArgumentParser(prog="tssnet", description="Talk to a tssnet validator node.")
    add_client_commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_client_parser().parse_args(argv)
    return args.func(args)


def _players(text: str) -> list[Player]:
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise argparse.ArgumentTypeError("a comma-separated list of validator indices or peer ids")
    return [int(item) if item.isascii() and item.isdigit() else item for item in items]


def _run(args: argparse.Namespace, work, *, progress: str | None = None) -> int:
    """Runs ``work(client)`` and prints its answer; errors go to stderr with exit code 1."""
    api_key = args.api_key or os.environ.get(API_KEY_ENV)
    if not api_key:
        print(f"error: no API key: pass --api-key or set {API_KEY_ENV}", file=sys.stderr)
        return 1

    async def session() -> Any:
        timeout = args.timeout if args.timeout is not None else DEFAULT_TIMEOUT
        async with AsyncClient(args.node, api_key, timeout=timeout) as client:
            show = progress is not None and not args.json and sys.stderr.isatty()
            return await _with_progress(progress, work(client), show)

    try:
        answer, render = asyncio.run(session())
    except ApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # The node carries on with a started keygen or signature; only this wait stops.
        print("interrupted (the node may still finish the operation)", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(answer, indent=2))
        return 0
    try:
        print(render(answer))
    except (KeyError, TypeError, ValueError):
        print(f"error: the node's answer lacks documented fields: {json.dumps(answer)[:200]}", file=sys.stderr)
        return 1
    return 0


async def _with_progress(label: str | None, work: Awaitable, show: bool) -> Any:
    if not show:
        return await work
    task = asyncio.ensure_future(work)
    started = time.monotonic()
    frames = "|/-\\"
    try:
        tick = 0
        while not task.done():
            elapsed = time.monotonic() - started
            sys.stderr.write(f"\r{frames[tick % len(frames)]} {label}... {elapsed:.0f}s")
            sys.stderr.flush()
            await asyncio.wait({task}, timeout=0.25)
            tick += 1
        return task.result()
    finally:
        task.cancel()
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()


def _keygen(args: argparse.Namespace) -> int:
    async def work(client: AsyncClient):
        key = await client.keygen(args.scheme, args.curve, args.threshold, args.players, args.key_id,
                                  timeout=args.timeout)
        return key, _render_key
    return _run(args, work, progress=f"running the {args.scheme} keygen")


def _sign(args: argparse.Namespace) -> int:
    async def work(client: AsyncClient):
        if args.digest is not None:
            if args.hash != "auto":
                raise ApiError(0, "usage", "--hash goes with --message or --message-hex, not --digest")
            answer = await client.sign(args.key, digest=args.digest, path=args.path, players=args.players)
            return answer, _render_signature
        message = args.message.encode() if args.message is not None else args.message_hex
        hash_name = args.hash
        if hash_name == "auto":
            scheme = (await client.key(args.key))["scheme"]
            hash_name = "none" if scheme == "eddsa" else "sha256"
        answer = await client.sign(args.key, message=message, hash=hash_name, path=args.path,
                                   players=args.players)
        return answer, _render_signature
    return _run(args, work, progress="signing")


def _keys(args: argparse.Namespace) -> int:
    async def work(client: AsyncClient):
        return await client.keys(), _render_keys
    return _run(args, work)


def _public_key(args: argparse.Namespace) -> int:
    async def work(client: AsyncClient):
        return await client.public_key(args.key, args.path), _render_fields
    return _run(args, work)


def _validators(args: argparse.Namespace) -> int:
    async def work(client: AsyncClient):
        return await client.validators(), _render_validators
    return _run(args, work)


def _validators_command(args: argparse.Namespace) -> int:
    if args.action is None and not (args.add or args.remove or args.nonce):
        return _validators(args)
    if args.action != "change":
        if args.add or args.remove or args.nonce:
            print("error: --add, --remove and --nonce go with 'validators change'", file=sys.stderr)
            return 2
        async def listing(client: AsyncClient):
            return await client.validator_changes(), _render_changes
        return _run(args, listing)
    if not (args.add or args.remove):
        print("error: 'validators change' needs --add or --remove", file=sys.stderr)
        return 2

    async def work(client: AsyncClient):
        answer = await client.propose_validator_change(args.add, args.remove, args.nonce)
        return answer, _render_change
    return _run(args, work)


def _render_change(change: dict) -> str:
    state = "committed" if change["committed"] else "submitted" if change["submitted"] else "collecting"
    return _render_fields({
        "id": change["id"], "add": ", ".join(change["add"]) or "-",
        "remove": ", ".join(change["remove"]) or "-", "nonce": change["nonce"],
        "approvals": f"{len(change['approvers'])} of {change['quorum']} needed ({state})",
        "approvers": ", ".join(change["approvers"]),
        **({"error": change["error"]} if change.get("error") else {}),
    })


def _render_changes(changes: list[dict]) -> str:
    if not changes:
        return "no validator changes proposed"
    return "\n\n".join(_render_change(c) for c in changes)


def _render_fields(answer: dict) -> str:
    width = max((len(name) for name in answer), default=0)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in answer.items())


def _render_key(key: dict) -> str:
    n = len(key["participants"])
    return _render_fields({
        "key_id": key["key_id"],
        "scheme": f"{key['scheme']} on {key['curve']}",
        "threshold": f"{key['threshold']} (any {key['threshold'] + 1} of {n} validators sign)",
        "public_key": key["public_key"],
        "participants": ", ".join(key["participants"]),
    })


def _render_signature(signature: dict) -> str:
    return _render_fields({name: value for name, value in signature.items() if value is not None})


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                     for row in (header, *rows))


def _render_keys(keys: list[dict]) -> str:
    if not keys:
        return "no keys on this node"
    rows = [(k["key_id"], k["scheme"], k["curve"], f"{k['threshold'] + 1}-of-{len(k['participants'])}",
             k["public_key"]) for k in keys]
    return _table(("KEY ID", "SCHEME", "CURVE", "SIGNERS", "PUBLIC KEY"), rows)


def _render_validators(validators: list[dict]) -> str:
    rows = [(str(v["index"]) + (" *" if v["is_self"] else ""), v["peer_id"],
             "online" if v["online"] else "offline", v.get("http_url") or "-") for v in validators]
    return _table(("INDEX", "PEER ID", "STATUS", "HTTP"), rows) + "\n(* this node)"
