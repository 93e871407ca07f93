"""The ``tssnet`` command."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import version


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tssnet",
        description="tssnet: a threshold-signing network of validator nodes "
        "(CGGMP21 threshold ECDSA, FROST Ed25519 and BIP340).",
    )
    parser.add_argument("--version", action="version", version=f"tssnet {version('tssnet')}")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    parser.parse_args(argv)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
