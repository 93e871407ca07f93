"""``tssnet init``: private files from the start, TOML that cannot be injected, a join secret."""

import os
import stat
import tomllib

import pytest

from daemon import init as node_init
from daemon.cli import main
from daemon.config import load
from daemon.errors import BadRequest
from daemon.init import CONFIG_NAME, init_node, to_toml

KEY = "an-api-key-0123456789"


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    # With umask 0 nothing hides a file created world-readable before a chmod.
    old = os.umask(0)
    yield
    os.umask(old)


def test_the_config_is_never_readable_by_others_not_even_for_a_moment(tmp_path, monkeypatch, open_umask):
    seen = []
    real_open, real_write_text = os.open, type(tmp_path).write_text

    def spy_open(path, flags, mode=0o777, *args, **kwargs):
        fd = real_open(path, flags, mode, *args, **kwargs)
        if str(path).endswith(CONFIG_NAME):
            seen.append(_mode(path))
        return fd

    def spy_write_text(self, *args, **kwargs):
        result = real_write_text(self, *args, **kwargs)
        if self.name == CONFIG_NAME:
            seen.append(_mode(self))
        return result

    monkeypatch.setattr(node_init.os, "open", spy_open)
    monkeypatch.setattr(type(tmp_path), "write_text", spy_write_text)
    result = init_node(tmp_path / "node", {}, api_key=KEY)
    assert seen and set(seen) == {0o600}
    assert _mode(result.config_path) == 0o600


def test_a_replaced_config_is_tightened_too(tmp_path):
    first = init_node(tmp_path / "node", {}, api_key=KEY)
    first.config_path.chmod(0o644)
    again = init_node(tmp_path / "node", {"http_port": 8100}, api_key=KEY, replace_config=True)
    assert _mode(again.config_path) == 0o600
    assert again.peer_id == first.peer_id


def test_an_existing_data_dir_is_tightened_to_owner_only(tmp_path):
    data_dir = tmp_path / "node"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    init_node(data_dir, {}, api_key=KEY)
    assert _mode(data_dir) == 0o700


@pytest.mark.parametrize("value", ['a"b', "a\\b", "line\napi_keys = [\"injected-key-0000\"]", "tab\there",
                                   "nul\x00del\x7fesc\x1b", "ünïcødé ✓", "\r\n", ""])
def test_string_values_round_trip_through_toml_and_inject_nothing(value):
    text = to_toml({"join_secret": value, "api_keys": [KEY, value]})
    parsed = tomllib.loads(text)
    assert parsed == {"join_secret": value, "api_keys": [KEY, value]}
    assert len(text.splitlines()) == 2


def test_a_lone_surrogate_is_refused():
    with pytest.raises(BadRequest):
        to_toml({"join_secret": "\ud800"})


def test_init_refuses_what_the_node_would_refuse_and_writes_nothing(tmp_path):
    with pytest.raises(BadRequest, match="16 characters"):
        init_node(tmp_path / "a", {}, api_key="short")
    with pytest.raises(BadRequest, match="join_secret"):
        init_node(tmp_path / "b", {"p2p_host": "0.0.0.0"}, api_key=KEY)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_tssnet_init_makes_a_random_join_secret_and_says_others_need_it(tmp_path, capsys):
    assert main(["init", "--data-dir", str(tmp_path / "first")]) == 0
    out = capsys.readouterr().out
    config = load(tmp_path / "first" / CONFIG_NAME, environ={})
    assert config.join_secret and len(config.join_secret) >= 16
    assert "--join-secret" in out and config.join_secret not in out
    assert config.api_keys[0] not in out
    assert main(["init", "--data-dir", str(tmp_path / "other")]) == 0
    assert load(tmp_path / "other" / CONFIG_NAME, environ={}).join_secret != config.join_secret


def test_tssnet_init_keeps_a_given_join_secret(tmp_path, capsys):
    assert main(["init", "--data-dir", str(tmp_path / "n"), "--join-secret", "the-network-secret",
                 "--bootstrap", "/ip4/127.0.0.1/tcp/9001/p2p/12D3KooWAlpha"]) == 0
    assert load(tmp_path / "n" / CONFIG_NAME, environ={}).join_secret == "the-network-secret"
    assert "a new random one" not in capsys.readouterr().out


def test_joining_through_bootstrap_without_the_networks_join_secret_is_refused(tmp_path, capsys):
    code = main(["init", "--data-dir", str(tmp_path / "n"), "--bootstrap", "/ip4/127.0.0.1/tcp/9001/p2p/X"])
    assert code == 2 and "--join-secret" in capsys.readouterr().err
    assert not (tmp_path / "n").exists()
