"""The node's configuration: environment and --set values, API keys, exposure checks."""

from pathlib import Path

import pytest

from daemon import config as node_config
from daemon.config import build, load, parse_assignment, warnings
from daemon.errors import BadRequest

KEY = "k" * 16
SECRET_LIKE_NUMBERS = ["1e1000000000000000", "0x1234567890abcdef", "1_000_000_000_000_000", "true", "inf",
                       "2024-01-01T00:00:00", '"quoted-secret-123"', "[not, an, array]"]


def _load(env: dict[str, str], **overrides):
    return load(None, overrides, environ={"TSSNET_API_KEYS": KEY, **env})


@pytest.mark.parametrize("secret", SECRET_LIKE_NUMBERS)
def test_string_options_from_the_environment_are_kept_verbatim(secret):
    config = _load({"TSSNET_JOIN_SECRET": secret, "TSSNET_PUBLIC_URL": secret})
    assert config.join_secret == secret and config.public_url == secret


@pytest.mark.parametrize("secret", [s for s in SECRET_LIKE_NUMBERS if len(s) >= 16 and "," not in s
                                    and not s.startswith("[")])
def test_an_api_key_from_the_environment_is_kept_verbatim(secret):
    assert _load({"TSSNET_API_KEYS": secret}).api_keys == (secret,)


def test_list_options_take_a_comma_separated_list_or_a_toml_array():
    assert _load({"TSSNET_API_KEYS": f"{KEY}, {'m' * 16}"}).api_keys == (KEY, "m" * 16)
    assert _load({"TSSNET_BOOTSTRAP": '["/ip4/1.2.3.4/tcp/1/p2p/A", "/ip4/1.2.3.4/tcp/2/p2p/B"]'}).bootstrap \
        == ("/ip4/1.2.3.4/tcp/1/p2p/A", "/ip4/1.2.3.4/tcp/2/p2p/B")
    with pytest.raises(BadRequest):
        _load({"TSSNET_API_KEYS": "[1e1000000000000000]"})   # a TOML array of a number: never str()ed


def test_numbers_and_booleans_from_the_environment_are_toml_values():
    config = _load({"TSSNET_HTTP_PORT": "8100", "TSSNET_KEYGEN_TIMEOUT": "90", "TSSNET_LOG_JSON": "true",
                    "TSSNET_DATA_DIR": "/tmp/x y", "TSSNET_LOG_LEVEL": "debug"})
    assert (config.http_port, config.keygen_timeout, config.log_json) == (8100, 90.0, True)
    assert config.data_dir == Path("/tmp/x y") and config.log_level == "debug"
    with pytest.raises(BadRequest, match="http_port"):
        _load({"TSSNET_HTTP_PORT": "eighty"})


def test_set_assignments_parse_like_the_environment():
    assert parse_assignment("join_secret=1e10") == ("join_secret", "1e10")
    assert parse_assignment("api-keys=a,b") == ("api_keys", ["a", "b"])
    assert parse_assignment("presign_pool_size= 8") == ("presign_pool_size", 8)
    assert parse_assignment("insecure_test_primes=true") == ("insecure_test_primes", True)
    with pytest.raises(BadRequest):
        parse_assignment("no_such_option=1")


def test_a_config_file_value_of_the_wrong_kind_is_refused(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(f'api_keys = ["{KEY}"]\njoin_secret = 1e10\n')
    with pytest.raises(BadRequest, match="join_secret"):
        load(path, environ={})


@pytest.mark.parametrize("keys", [["short"], [KEY, "x" * 15], [""]])
def test_api_keys_shorter_than_16_characters_are_refused(keys):
    with pytest.raises(BadRequest, match="16 characters"):
        build({"api_keys": keys})


def test_api_keys_of_16_characters_or_more_are_accepted():
    assert build({"api_keys": [KEY, "z" * 40]}).api_keys == (KEY, "z" * 40)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "node.example.com"])
def test_a_p2p_host_other_machines_reach_needs_a_join_secret(host):
    with pytest.raises(BadRequest, match="join_secret"):
        build({"p2p_host": host})
    assert build({"p2p_host": host, "join_secret": "s3cret-s3cret"}).p2p_host == host


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_a_loopback_p2p_host_may_run_without_a_join_secret(host):
    assert build({"p2p_host": host}).join_secret is None


def test_an_http_api_other_machines_reach_is_warned_about_tls():
    assert warnings(build({})) == []
    found = warnings(build({"http_host": "0.0.0.0"}))
    assert len(found) == 1 and "TLS" in found[0] and "proxy" in found[0]


@pytest.mark.parametrize("name", ["keygen_timeout", "session_timeout"])
def test_timeouts_are_bounded_by_what_the_api_and_sdk_wait(name):
    assert getattr(build({name: node_config.MAX_TIMEOUT}), name) == node_config.MAX_TIMEOUT
    with pytest.raises(BadRequest, match=name):
        build({name: node_config.MAX_TIMEOUT + 1})


def test_an_empty_join_secret_is_refused():
    with pytest.raises(BadRequest, match="join_secret"):
        build({"join_secret": ""})
