"""Secret files: written whole and flushed, never replaced; read only when private and exact."""

from __future__ import annotations

import os
import threading

import pytest

from daemon import secret_file
from daemon.errors import BadRequest
from daemon.secret_file import create_secret_file, parse_hex_secret, read_secret_file

SECRET = bytes(range(100, 132))
WHAT = "test secret file"


def write(path, content: bytes, mode: int = 0o600):
    path.write_bytes(content)
    path.chmod(mode)
    return path


def test_create_then_read_gives_the_secret_back(tmp_path):
    path = tmp_path / "dir" / "secret.key"
    create_secret_file(path, SECRET, WHAT)
    assert path.read_bytes() == SECRET.hex().encode() + b"\n"
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert read_secret_file(path, WHAT) == SECRET
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret.key"]   # no temporary left


def test_create_never_replaces_a_file_and_leaves_it_as_it_was(tmp_path):
    path = write(tmp_path / "secret.key", b"someone else's file", 0o644)
    with pytest.raises(BadRequest, match="already exists; refusing to overwrite it"):
        create_secret_file(path, SECRET, WHAT)
    assert path.read_bytes() == b"someone else's file"
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]


def test_create_flushes_the_file_before_linking_it_and_then_the_directory(tmp_path, monkeypatch):
    flushed = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        flushed.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    path = tmp_path / "secret.key"
    create_secret_file(path, SECRET, WHAT)
    assert len(flushed) == 2
    assert flushed[0].startswith(str(tmp_path / ".secret.key.")) and flushed[0].endswith(".tmp")
    assert flushed[1] == str(tmp_path)


def test_create_survives_short_writes(tmp_path, monkeypatch):
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data[:5])))
    path = tmp_path / "secret.key"
    create_secret_file(path, SECRET, WHAT)
    monkeypatch.undo()
    assert read_secret_file(path, WHAT) == SECRET


def test_create_ignores_a_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        create_secret_file(tmp_path / "secret.key", SECRET, WHAT)
    finally:
        os.umask(old)
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


def test_concurrent_creators_one_wins_the_others_are_refused(tmp_path):
    path = tmp_path / "secret.key"
    secrets_ = [bytes([i]) * 32 for i in range(8)]
    outcomes: list[str | bytes] = [""] * len(secrets_)
    start = threading.Barrier(len(secrets_))

    def create(i: int) -> None:
        start.wait()
        try:
            create_secret_file(path, secrets_[i], WHAT)
            outcomes[i] = secrets_[i]
        except BadRequest:
            outcomes[i] = "refused"

    threads = [threading.Thread(target=create, args=(i,)) for i in range(len(secrets_))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if o != "refused"]
    assert len(winners) == 1 and read_secret_file(path, WHAT) == winners[0]
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]


def test_create_in_an_unusable_place_is_a_bad_request(tmp_path):
    blocker = write(tmp_path / "not-a-dir", b"x")
    with pytest.raises(BadRequest, match="cannot write test secret file"):
        create_secret_file(blocker / "secret.key", SECRET, WHAT)
    with pytest.raises(ValueError):
        create_secret_file(tmp_path / "short.key", SECRET[:31], WHAT)


def test_a_missing_file_reads_as_none(tmp_path):
    assert read_secret_file(tmp_path / "nothing.key", WHAT) is None


def test_a_symbolic_link_is_refused_even_to_a_good_file(tmp_path):
    target = write(tmp_path / "real.key", SECRET.hex().encode())
    link = tmp_path / "link.key"
    link.symlink_to(target)
    with pytest.raises(BadRequest, match="is a symbolic link"):
        read_secret_file(link, WHAT)


def test_a_fifo_or_directory_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "fifo.key"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(BadRequest, match="not a regular file"):
        read_secret_file(fifo, WHAT)
    directory = tmp_path / "dir.key"
    directory.mkdir(mode=0o700)
    with pytest.raises(BadRequest, match="not a regular file"):
        read_secret_file(directory, WHAT)


def test_a_file_of_another_user_is_refused(tmp_path, monkeypatch):
    path = write(tmp_path / "secret.key", SECRET.hex().encode())
    monkeypatch.setattr(secret_file.os, "geteuid", lambda: path.stat().st_uid + 1)
    with pytest.raises(BadRequest, match="belongs to user id") as caught:
        read_secret_file(path, WHAT)
    assert SECRET.hex() not in caught.value.message


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644, 0o610, 0o601])
def test_a_file_open_to_group_or_others_is_refused(tmp_path, mode):
    path = write(tmp_path / "secret.key", SECRET.hex().encode(), mode)
    with pytest.raises(BadRequest, match="chmod 600") as caught:
        read_secret_file(path, WHAT)
    assert SECRET.hex() not in caught.value.message


@pytest.mark.parametrize("content", [SECRET.hex(), SECRET.hex().upper() + "\n", "aB" * 32])
def test_exact_hex_in_either_case_is_accepted(tmp_path, content):
    path = write(tmp_path / "secret.key", content.encode(), 0o400)
    assert read_secret_file(path, WHAT) == bytes.fromhex(content)


@pytest.mark.parametrize("content", [
    b"", b"\n", SECRET.hex()[:-2].encode(), (SECRET + b"\x00").hex().encode(),
    SECRET.hex().encode() + b"\n\n", SECRET.hex().encode() + b"\r\n", b" " + SECRET.hex().encode(),
    b"0x" + SECRET.hex()[2:].encode(), " ".join(SECRET.hex()[i:i + 2] for i in range(0, 64, 2)).encode(),
    b"zz" * 32, b"\xff" * 64, SECRET.hex().encode() * 1000,
])
def test_anything_but_exact_hex_is_refused_without_echoing_it(tmp_path, content):
    path = write(tmp_path / "secret.key", content)
    with pytest.raises(BadRequest, match="exactly 64 hex characters") as caught:
        read_secret_file(path, WHAT)
    assert str(path) in caught.value.message
    assert SECRET.hex()[:16] not in caught.value.message.lower()


def test_parse_hex_secret_takes_text_or_bytes():
    assert parse_hex_secret(SECRET.hex(), "x") == SECRET
    assert parse_hex_secret(SECRET.hex().encode() + b"\n", "x") == SECRET
    for bad in (SECRET.hex() + " ", "\udcff" * 64, "é" * 64):
        with pytest.raises(BadRequest, match="^x must hold"):
            parse_hex_secret(bad, "x")
