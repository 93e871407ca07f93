"""Reading and writing the emergency-recovery files: keys, partials, recovery data.

Files are written and read as the node's secret files are (``daemon.secret_file``):
written all or nothing through a flushed temporary file; the private key with mode 0600
and never over an existing file; read without following a symbolic link, and only from
a regular file of the user's own that group and others cannot use, when private. Every
failure is a ``BadRequest`` naming the file, never its content.
"""

from __future__ import annotations

import json
from pathlib import Path

from daemon.errors import BadRequest
from daemon.secret_file import create_file, read_file
from protocol.ers.fields import MAX_DOCUMENT_BYTES


def write_json(path: Path, document: dict, *, private: bool = False, replace: bool = True,
               what: str = "file") -> None:
    """``document`` as JSON at ``path``, all or nothing. ``private``: mode 0600 and never replacing
    an existing file; otherwise mode 0644, replacing one only when ``replace``."""
    write_text(path, json.dumps(document, indent=2) + "\n", private=private, replace=replace, what=what)


def write_text(path: Path, text: str, *, private: bool = False, replace: bool = True, what: str = "file") -> None:
    create_file(Path(path), text.encode("utf-8"), what, mode=0o600 if private else 0o644,
                replace=replace and not private)


def read_json(path: Path, what: str, *, private: bool = False) -> dict:
    """The JSON object in ``path``; ``private``: only from a regular file of this user's, mode 0600 or less."""
    raw = read_file(Path(path), what, MAX_DOCUMENT_BYTES, private=private)
    if raw is None:
        raise BadRequest(f"cannot read {what} {path}: No such file or directory")
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise BadRequest(f"{what} {path} is larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest(f"{what} {path} is not JSON") from None
    if not isinstance(document, dict):
        raise BadRequest(f"{what} {path} does not hold a JSON object")
    return document


__all__ = ["read_json", "write_json", "write_text"]
