"""Reading and writing the emergency-recovery files: keys, partials, recovery data.

The private key file is created as the node creates its secret files: in a private
temporary file (mode 0600 whatever the umask), flushed, then hard-linked to its name,
which fails if the name is taken, so an existing key is never replaced and no reader
ever sees half a file; the directory is flushed too. Reading it opens without following
a symbolic link and refuses a file that is not regular, not the user's own, or open to
group or others. Every failure is a ``BadRequest`` naming the file, never its content.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from pathlib import Path

from daemon.errors import BadRequest
from protocol.ers.fields import MAX_DOCUMENT_BYTES


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temporary(directory: Path, name: str, text: str, mode: int) -> Path:
    temporary = directory / f".{name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        os.fchmod(fd, mode)
        view = memoryview(text.encode("utf-8"))
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    return temporary


def write_json(path: Path, document: dict, *, private: bool = False, replace: bool = True) -> None:
    """``document`` as JSON at ``path``, all or nothing. ``private``: mode 0600 and never replacing
    an existing file; otherwise mode 0644, replacing one only when ``replace``."""
    path = Path(path)
    text = json.dumps(document, indent=2) + "\n"
    mode = 0o600 if private else 0o644
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = _write_temporary(path.parent, path.name, text, mode)
        try:
            if replace and not private:
                os.replace(temporary, path)
            else:
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        _fsync_directory(path.parent)
    except FileExistsError:
        raise BadRequest(f"{path} already exists; refusing to overwrite it") from None
    except OSError as exc:
        raise BadRequest(f"cannot write {path}: {exc.strerror}") from None


def _read(fd: int, path: Path, what: str) -> bytes:
    chunks, size = [], 0
    while size <= MAX_DOCUMENT_BYTES:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > MAX_DOCUMENT_BYTES:
        raise BadRequest(f"{what} {path} is larger than {MAX_DOCUMENT_BYTES} bytes")
    return b"".join(chunks)


def read_json(path: Path, what: str, *, private: bool = False) -> dict:
    """The JSON object in ``path``; ``private``: only from a regular file of this user's, mode 0600 or less."""
    path = Path(path)
    try:
        # O_NONBLOCK: a FIFO planted at the path must not hang the command; fstat refuses it next.
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | (os.O_NOFOLLOW if private else 0))
    except OSError as exc:
        raise BadRequest(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BadRequest(f"{what} {path} is not a regular file")
        if private:
            if info.st_uid != os.geteuid():
                raise BadRequest(f"{what} {path} belongs to another user; chown it")
            if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise BadRequest(f"{what} {path} is open to group or others "
                                 f"(mode {stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}")
        raw = _read(fd, path, what)
    except OSError as exc:
        raise BadRequest(f"cannot read {what} {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest(f"{what} {path} is not JSON") from None
    if not isinstance(document, dict):
        raise BadRequest(f"{what} {path} does not hold a JSON object")
    return document


__all__ = ["read_json", "write_json"]
