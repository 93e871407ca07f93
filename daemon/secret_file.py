"""Files that hold one 32-byte secret as 64 hex characters: the master key, the identity seed;
and, through ``create_file`` and ``read_file``, any file written or read with the same care
(the emergency-recovery keys: ``daemon.ers_files``).

Writing never leaves a half-written or world-readable file and never replaces an
existing one: the secret goes to a private temporary file in the same directory, is
flushed to disk, then hard-linked to its name (which fails if the name is taken), and
the directory is flushed so the new name survives a power loss too. Losing the master
key while the sealed records it opens survive would lose every key share.

Reading opens the file without following a symbolic link, then checks what was
opened (not the path, which could change in between): a regular file, owned by this
user, with no permission for group or others, holding exactly 64 hex characters and
at most one final newline. Every failure is a ``BadRequest`` naming the file and what
is wrong with it, never its content.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
from pathlib import Path

from daemon.errors import BadRequest

SECRET_BYTES = 32
_HEX = re.compile(rb"[0-9a-fA-F]{64}\n?")
# Anything longer is not a secret file of ours; reading stops here.
_READ_LIMIT = 4096


def parse_hex_secret(text: bytes | str, source: str) -> bytes:
    """Exactly 64 hex characters (either case), optionally one final newline, as 32 bytes."""
    raw = text.encode("utf-8", "replace") if isinstance(text, str) else bytes(text)
    if not _HEX.fullmatch(raw):
        raise BadRequest(f"{source} must hold exactly {2 * SECRET_BYTES} hex characters "
                         f"(a {SECRET_BYTES}-byte secret) and nothing else")
    return bytes.fromhex(raw[:2 * SECRET_BYTES].decode("ascii"))


def read_secret_file(path: Path, what: str) -> bytes | None:
    """The secret in ``path``, or None when there is no file there."""
    raw = read_file(path, what, _READ_LIMIT)
    return None if raw is None else parse_hex_secret(raw, f"{what} {path}")


def read_file(path: Path, what: str, limit: int, *, private: bool = True) -> bytes | None:
    """At most ``limit + 1`` bytes of ``path`` (more means the file is too large), or None when
    there is no file there. ``private``: never through a symbolic link, and only a regular
    file of this user's that group and others cannot use; otherwise any regular file."""
    path = Path(path)
    # O_NONBLOCK: opening a FIFO planted at the path must not hang; fstat refuses it next.
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (os.O_NOFOLLOW if private else 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP and private:
            raise BadRequest(f"{what} {path} is a symbolic link; point the configuration at "
                             "the file itself") from None
        raise BadRequest(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        _check_opened(fd, path, what, private)
        return _read_all(fd, limit + 1)
    except OSError as exc:
        raise BadRequest(f"cannot read {what} {path}: {exc.strerror}") from None
    finally:
        os.close(fd)


def create_secret_file(path: Path, secret: bytes, what: str) -> None:
    """Write ``secret`` to a new file at ``path`` (mode 0600); never replaces an existing one."""
    if not isinstance(secret, bytes) or len(secret) != SECRET_BYTES:
        raise ValueError(f"a secret file holds {SECRET_BYTES} bytes")
    create_file(path, secret.hex().encode() + b"\n", what)


def create_file(path: Path, data: bytes, what: str, *, mode: int = 0o600, replace: bool = False) -> None:
    """``data`` at ``path`` with ``mode`` (whatever the umask), all or nothing, flushed to disk.
    An existing file is replaced only when ``replace``; otherwise it is a BadRequest."""
    path = Path(path)
    directory = path.parent
    temporary = directory / f".{path.name}.{secrets.token_hex(8)}.tmp"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    except OSError as exc:
        raise BadRequest(f"cannot write {what} {path}: {exc.strerror}") from None
    try:
        try:
            os.fchmod(fd, mode)   # whatever the umask
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)
    except FileExistsError:
        raise BadRequest(f"{what} {path} already exists; refusing to overwrite it") from None
    except OSError as exc:
        raise BadRequest(f"cannot write {what} {path}: {exc.strerror}") from None
    finally:
        temporary.unlink(missing_ok=True)
    _fsync_directory(directory, path, what)


def _check_opened(fd: int, path: Path, what: str, private: bool = True) -> None:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise BadRequest(f"{what} {path} is not a regular file")
    if not private:
        return
    if info.st_uid != os.geteuid():
        raise BadRequest(f"{what} {path} belongs to user id {info.st_uid}, not to the user "
                         f"reading it ({os.geteuid()}); chown it")
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise BadRequest(f"{what} {path} is open to group or others "
                         f"(mode {stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}")


def _read_all(fd: int, limit: int) -> bytes:
    chunks = []
    size = 0
    while size < limit:
        chunk = os.read(fd, limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _fsync_directory(directory: Path, path: Path, what: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise BadRequest(f"{what} {path} was written but its directory could not be flushed "
                         f"to disk: {exc.strerror}") from None


__all__ = ["SECRET_BYTES", "create_file", "create_secret_file", "parse_hex_secret", "read_file", "read_secret_file"]
