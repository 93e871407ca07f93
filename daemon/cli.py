"""The ``tssnet`` command: run a node or a devnet, set one up, and talk to one."""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
from importlib.metadata import version
from pathlib import Path

from daemon import config as node_config
from daemon import logs
from daemon.errors import BadRequest, NodeError

log = logging.getLogger("tssnet.node")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tssnet",
        description="tssnet: a threshold-signing network of validator nodes "
        "(CGGMP21 threshold ECDSA, FROST Ed25519 and BIP340).",
    )
    parser.add_argument("--version", action="version", version=f"tssnet {version('tssnet')}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_node(commands)
    _add_init(commands)
    _add_devnet(commands)
    from daemon.cli_client import add_client_commands
    add_client_commands(commands)
    from daemon.cli_ers import add_ers_command
    add_ers_command(commands)
    return parser


def _node_options(parser: argparse.ArgumentParser) -> None:
    """Flags that override config-file options (each also settable as TSSNET_<OPTION>)."""
    parser.add_argument("--data-dir", type=Path, help="where the node keeps its state")
    parser.add_argument("--http-host", help="address the HTTP API listens on (default 127.0.0.1)")
    parser.add_argument("--http-port", type=int, help="HTTP API port (default 8001)")
    parser.add_argument("--p2p-host", help="address libp2p listens on (default 127.0.0.1)")
    parser.add_argument("--p2p-port", type=int, help="libp2p TCP port (default 9001)")
    parser.add_argument("--bootstrap", action="append", metavar="MULTIADDR",
                        help="a validator to join through, /ip4/H/tcp/P/p2p/PEER (repeatable)")
    parser.add_argument("--redis-url", help="keep state in Redis instead of the embedded SQLite store")
    parser.add_argument("--api-key", dest="api_keys", action="append", metavar="KEY",
                        help="an API key clients must present, at least 16 characters (repeatable; "
                             "visible in ps: prefer the config file or TSSNET_API_KEYS)")
    parser.add_argument("--master-key-file", type=Path,
                        help=f"file with the hex master key sealing secrets at rest "
                             f"(or set {node_config.MASTER_KEY_ENV})")
    parser.add_argument("--join-secret",
                        help="peers must know this secret to join the validator set; required when "
                             "p2p_host is not loopback (visible in ps: prefer the config file or "
                             "TSSNET_JOIN_SECRET)")
    parser.add_argument("--log-level", choices=("debug", "info", "warning", "error"))
    parser.add_argument("--log-json", action="store_true", default=None, help="log one JSON object per line")


def _add_node(commands) -> None:
    parser = commands.add_parser(
        "node", help="run a validator node",
        description="Run a validator node until Ctrl-C or SIGTERM. Secrets (API keys, the join "
        "secret, the master key) are better kept in the config file (mode 0600) or the environment "
        "(TSSNET_API_KEYS, TSSNET_JOIN_SECRET, TSSNET_MASTER_KEY) than given as flags: any user of "
        "the machine can read a process's flags (ps).")
    parser.add_argument("--config", type=Path, help="TOML config file (see tssnet init)")
    _node_options(parser)
    parser.set_defaults(func=_run_node)


def _add_init(commands) -> None:
    parser = commands.add_parser("init", help="create a new node's identity, master key and config",
                                 description="Create a node directory: identity (peer id), master "
                                 "key, and a config.toml with a fresh API key.")
    parser.add_argument("--data-dir", type=Path, required=True, help="the new node's directory")
    parser.add_argument("--http-port", type=int, help="HTTP API port (default 8001)")
    parser.add_argument("--p2p-port", type=int, help="libp2p TCP port (default 9001)")
    parser.add_argument("--bootstrap", action="append", metavar="MULTIADDR",
                        help="a validator to join through (repeatable)")
    parser.add_argument("--join-secret",
                        help="the network's join secret (from its first node's config.toml); "
                             "default: a new random one, for the first node of a new network")
    parser.add_argument("--api-key", help="use this API key instead of a random one")
    parser.set_defaults(func=_run_init)


def _add_devnet(commands) -> None:
    parser = commands.add_parser("devnet", help="run N validators on loopback",
                                 description="Start N validators on 127.0.0.1, each its own process, "
                                 "store and log, wired to each other; Ctrl-C stops them.")
    parser.add_argument("--nodes", type=int, default=3, help="how many validators (default 3)")
    parser.add_argument("--base-port", type=int, default=8000,
                        help="node i serves HTTP on BASE+i and libp2p on BASE+1000+i (default 8000)")
    parser.add_argument("--data-dir", type=Path, default=Path("devnet-data"),
                        help="parent of the nodes' directories (default ./devnet-data)")
    parser.add_argument("--api-key", help="the API key of every node (default: one random key)")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="OPTION=VALUE",
                        help="put a config option into every node (repeatable), e.g. presign_pool_size=8")
    parser.add_argument("--quiet", action="store_true", help="do not echo the nodes' logs here")
    parser.set_defaults(func=_run_devnet)


def _run_node(args) -> int:
    from daemon.node import run_node
    overrides = {name: getattr(args, name, None) for name in node_config.FIELDS}
    overrides = {k: (tuple(v) if isinstance(v, list) else v) for k, v in overrides.items() if v is not None}
    config = node_config.load(args.config, overrides)
    logs.setup(config.log_level, as_json=config.log_json)
    for warning in node_config.warnings(config):
        log.warning("%s", warning)
    return run_node(config)


def _run_init(args) -> int:
    from daemon.init import init_node
    if args.bootstrap and args.join_secret is None:
        raise BadRequest("joining a network through --bootstrap needs its --join-secret "
                         "(join_secret in the config.toml of the node that started it)")
    join_secret = args.join_secret if args.join_secret is not None else secrets.token_urlsafe(24)
    options = {"http_port": args.http_port, "p2p_port": args.p2p_port,
               "bootstrap": args.bootstrap, "join_secret": join_secret}
    result = init_node(args.data_dir, {k: v for k, v in options.items() if v is not None},
                       api_key=args.api_key)
    print(f"config:   {result.config_path}\npeer id:  {result.peer_id}\n"
          f"multiaddr (for other nodes' --bootstrap): {result.multiaddr}\n"
          f"API key:  in the config (api_keys)\n"
          f"start it: tssnet node --config {result.config_path}")
    if args.join_secret is None:
        print(f"join secret: a new random one, in the config (join_secret); every other node of this "
              f"network needs it: tssnet init --join-secret <it> --bootstrap {result.multiaddr} ...")
    return 0


def _run_devnet(args) -> int:
    from daemon.devnet import run
    settings = dict(node_config.parse_assignment(text) for text in args.settings)
    return run(args.nodes, args.base_port, args.data_dir, args.api_key, settings, quiet=args.quiet)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2   # no command: a usage error, as argparse's own
    try:
        return args.func(args)
    except NodeError as exc:
        print(f"tssnet: {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
