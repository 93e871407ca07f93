"""The node's master key: 32 random bytes, as 64 hex characters, that seal secrets at rest.

It comes from ``TSSNET_MASTER_KEY`` when that is set (for deployments that inject
secrets through the environment), otherwise from the master key file, which must be
this user's, readable by its owner only (``daemon.secret_file`` checks and writes it).
Error messages name the file and what is wrong with it, never its content.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from daemon.config import MASTER_KEY_ENV, NodeConfig
from daemon.errors import BadRequest
from daemon.secret_file import create_secret_file, parse_hex_secret, read_secret_file
from daemon.store.sealed import MASTER_KEY_BYTES

_WHAT = "master key file"


def load_master_key(config: NodeConfig, environ: Mapping[str, str] | None = None) -> bytes:
    env = os.environ if environ is None else environ
    if env.get(MASTER_KEY_ENV):
        return parse_hex_secret(env[MASTER_KEY_ENV], f"the environment variable {MASTER_KEY_ENV}")
    path = config.master_key_path
    key = read_secret_file(path, _WHAT)
    if key is None:
        raise BadRequest(f"no master key: {path} does not exist and {MASTER_KEY_ENV} is not set; "
                         "`tssnet init` creates one")
    return key


def create_master_key(path: Path) -> bytes:
    """Write a fresh random key to ``path`` (mode 0600, flushed to disk) and return it.

    Never overwrites: an existing file is a ``BadRequest``.
    """
    key = os.urandom(MASTER_KEY_BYTES)
    create_secret_file(Path(path), key, _WHAT)
    return key
