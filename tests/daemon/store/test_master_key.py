"""The master key: from the environment or an owner-only file, checked, never logged.

The file's checks and its durable creation are daemon.secret_file's
(tests/daemon/test_secret_file.py); here: that the master key goes through them.
"""

from __future__ import annotations

import logging
import os

import pytest

from daemon.config import NodeConfig
from daemon.errors import BadRequest
from daemon.store.master_key import create_master_key, load_master_key

HEX = "a1" * 32


def config_with_file(tmp_path, text: str | None, mode: int = 0o600) -> NodeConfig:
    path = tmp_path / "master.key"
    if text is not None:
        path.write_text(text)
        path.chmod(mode)
    return NodeConfig(data_dir=tmp_path, master_key_file=path)


def test_from_the_environment_before_the_file(tmp_path):
    config = config_with_file(tmp_path, "b2" * 32 + "\n")
    assert load_master_key(config, {"TSSNET_MASTER_KEY": HEX}) == bytes.fromhex(HEX)
    assert load_master_key(config, {"TSSNET_MASTER_KEY": HEX.upper() + "\n"}) == bytes.fromhex(HEX)


def test_from_the_file(tmp_path):
    config = config_with_file(tmp_path, HEX + "\n")
    assert load_master_key(config, {}) == bytes.fromhex(HEX)


def test_default_path_is_in_the_data_dir(tmp_path):
    (tmp_path / "master.key").write_text(HEX)
    (tmp_path / "master.key").chmod(0o400)
    assert load_master_key(NodeConfig(data_dir=tmp_path), {}) == bytes.fromhex(HEX)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644, 0o610])
def test_a_file_open_to_group_or_others_is_refused(tmp_path, mode):
    config = config_with_file(tmp_path, HEX, mode)
    with pytest.raises(BadRequest, match="chmod 600") as caught:
        load_master_key(config, {})
    assert HEX not in caught.value.message


@pytest.mark.parametrize("text", ["a1" * 31, "a1" * 33, "zz" * 32, "a1 " * 21 + "a", "", "é" * 64])
def test_wrong_length_or_not_hex_is_refused(tmp_path, text):
    with pytest.raises(BadRequest) as caught:
        load_master_key(config_with_file(tmp_path, text), {})
    assert text.strip() == "" or text.strip() not in caught.value.message
    with pytest.raises(BadRequest):
        load_master_key(NodeConfig(data_dir=tmp_path), {"TSSNET_MASTER_KEY": text or "0"})


def test_a_master_key_file_behind_a_symbolic_link_is_refused(tmp_path):
    real = tmp_path / "real.key"
    create_master_key(real)
    (tmp_path / "master.key").symlink_to(real)
    with pytest.raises(BadRequest, match="master key file .* is a symbolic link"):
        load_master_key(NodeConfig(data_dir=tmp_path), {})


def test_the_same_parser_for_the_file_and_the_environment(tmp_path):
    spaced = " ".join(HEX[i:i + 2] for i in range(0, 64, 2))   # bytes.fromhex would take it
    for text in (spaced, HEX + "\n\n", " " + HEX):
        with pytest.raises(BadRequest, match="exactly 64 hex characters"):
            load_master_key(config_with_file(tmp_path, text), {})
        with pytest.raises(BadRequest, match="exactly 64 hex characters"):
            load_master_key(NodeConfig(data_dir=tmp_path), {"TSSNET_MASTER_KEY": text})


def test_create_flushes_the_key_and_its_directory(tmp_path, monkeypatch):
    flushed = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (flushed.append(os.readlink(f"/proc/self/fd/{fd}")),
                                                 real_fsync(fd)))
    create_master_key(tmp_path / "master.key")
    assert flushed[-1] == str(tmp_path) and len(flushed) == 2


def test_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(BadRequest, match="tssnet init"):
        load_master_key(NodeConfig(data_dir=tmp_path), {})


def test_create_writes_an_owner_only_fresh_key(tmp_path):
    path = tmp_path / "new" / "master.key"
    key = create_master_key(path)
    assert len(key) == 32 and path.read_text() == key.hex() + "\n"
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert load_master_key(NodeConfig(data_dir=path.parent), {}) == key
    assert create_master_key(tmp_path / "other.key") != key


def test_create_never_overwrites(tmp_path):
    path = tmp_path / "master.key"
    key = create_master_key(path)
    with pytest.raises(BadRequest, match="refusing to overwrite"):
        create_master_key(path)
    assert path.read_text() == key.hex() + "\n"


def test_create_ignores_a_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        path = tmp_path / "master.key"
        create_master_key(path)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_key_never_reaches_the_logs(tmp_path, caplog):
    with caplog.at_level(logging.DEBUG):
        key = create_master_key(tmp_path / "master.key")
        load_master_key(NodeConfig(data_dir=tmp_path), {})
        load_master_key(NodeConfig(data_dir=tmp_path), {"TSSNET_MASTER_KEY": HEX})
        for text in ("a1" * 31, HEX[:-1] + "g"):
            with pytest.raises(BadRequest):
                load_master_key(NodeConfig(data_dir=tmp_path), {"TSSNET_MASTER_KEY": text})
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in (key.hex(), HEX, HEX[:-1]):
        assert secret not in logged
