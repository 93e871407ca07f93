"""``tssnet init``: everything a new validator needs on disk before its first start.

Writes, in a data directory of its own (mode 0700, an existing one tightened to it):
the identity seed (its peer id), the master key that seals secrets at rest, and a TOML
config (mode 0600 from its creation) with a fresh random API key. The config is checked
as the node would check it before anything is written. An existing identity or master key is never overwritten: re-running ``init`` on
a node's directory keeps its peer id and keeps its sealed records readable.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daemon.config import FIELDS, build
from daemon.errors import BadRequest
from daemon.identity import NodeIdentity
from daemon.store.master_key import create_master_key

CONFIG_NAME = "config.toml"


@dataclass(frozen=True)
class InitResult:
    config_path: Path
    peer_id: str
    api_key: str
    multiaddr: str


def init_node(data_dir: Path, options: dict[str, Any], *, api_key: str | None = None,
              replace_config: bool = False) -> InitResult:
    """Create (or complete) a node directory; ``options`` go into its config file.

    ``replace_config`` rewrites an existing config (the devnet does, since its ports
    and options may change between runs); identity and master key are always kept.
    """
    unknown = sorted(set(options) - set(FIELDS))
    if unknown:
        raise BadRequest(f"unknown configuration options: {', '.join(unknown)}")
    data_dir = data_dir.expanduser().resolve()
    api_key = api_key or secrets.token_urlsafe(24)
    values = {"data_dir": str(data_dir), "api_keys": [api_key], **options}
    text = to_toml(values)
    build(tomllib.loads(text))   # refuse what the node would refuse, before anything is written
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.chmod(0o700)   # an existing directory too: it holds the identity and master key
    identity = NodeIdentity.load_or_create(data_dir / "identity.key")
    master_key = data_dir / "master.key"
    if not master_key.exists():
        create_master_key(master_key)
    config_path = data_dir / CONFIG_NAME
    if config_path.exists() and not replace_config:
        raise BadRequest(f"{config_path} exists; edit it or choose another --data-dir")
    _write_private(config_path, text)
    host = values.get("p2p_host", FIELDS["p2p_host"].default)
    port = values.get("p2p_port", FIELDS["p2p_port"].default)
    return InitResult(config_path, identity.peer_id, api_key,
                      f"/ip4/{host}/tcp/{port}/p2p/{identity.peer_id}")


def _write_private(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` readable by its owner only from the first byte (it holds
    the API key and join secret), never world-readable for a moment."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)   # a replaced file keeps its old mode otherwise
        out.write(text)


def to_toml(values: dict[str, Any]) -> str:
    """The few value kinds a node config holds, written as TOML."""
    return "".join(f"{name} = {_toml_value(value)}\n" for name, value in values.items())


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return '"' + "".join(_toml_char(char) for char in str(value)) + '"'


def _toml_char(char: str) -> str:
    # TOML basic strings: escape the quote, the backslash and every control character.
    if char in '"\\':
        return "\\" + char
    code = ord(char)
    if code < 0x20 or code == 0x7F:
        return f"\\u{code:04X}"
    if 0xD800 <= code <= 0xDFFF:
        raise BadRequest("configuration values must be valid Unicode text")
    return char
