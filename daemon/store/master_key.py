"""The node's master key: 32 random bytes, as 64 hex characters, that seal secrets at rest.

It comes from ``TSSNET_MASTER_KEY`` when that is set (for deployments that inject
secrets through the environment), otherwise from the master key file, which must be
readable by its owner only. Error messages name the file and what is wrong with it,
never its content.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from daemon.config import MASTER_KEY_ENV, NodeConfig
from daemon.errors import BadRequest
from daemon.store.sealed import MASTER_KEY_BYTES

_HEX_CHARS = 2 * MASTER_KEY_BYTES
_MAX_FILE_BYTES = 4096


def load_master_key(config: NodeConfig, environ: Mapping[str, str] | None = None) -> bytes:
    env = os.environ if environ is None else environ
    if env.get(MASTER_KEY_ENV):
        return _parse(env[MASTER_KEY_ENV], f"the environment variable {MASTER_KEY_ENV}")
    path = config.master_key_path
    try:
        with open(path, "rb") as file:
            mode = os.fstat(file.fileno()).st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise BadRequest(
                    f"master key file {path} is open to group or others (mode {stat.S_IMODE(mode):04o}); "
                    f"run: chmod 600 {path}")
            raw = file.read(_MAX_FILE_BYTES)
    except FileNotFoundError:
        raise BadRequest(f"no master key: {path} does not exist and {MASTER_KEY_ENV} is not set; "
                         "`tssnet init` creates one") from None
    except OSError as exc:
        raise BadRequest(f"cannot read master key file {path}: {exc.strerror}") from None
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise BadRequest(f"master key file {path} is not hex text") from None
    return _parse(text, f"master key file {path}")


def create_master_key(path: Path) -> bytes:
    """Write a fresh random key to ``path`` (mode 0600) and return it; never overwrites."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = os.urandom(MASTER_KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BadRequest(f"master key file {path} already exists; refusing to overwrite it") from None
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, key.hex().encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


def _parse(text: str, source: str) -> bytes:
    """Exactly 64 hex characters, surrounding whitespace (a trailing newline) allowed."""
    text = text.strip()
    if len(text) != _HEX_CHARS:
        raise BadRequest(f"{source} must hold {_HEX_CHARS} hex characters (a {MASTER_KEY_BYTES}-byte key), "
                         f"not {len(text)}")
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != MASTER_KEY_BYTES:
        raise BadRequest(f"{source} is not hex")
    return key
