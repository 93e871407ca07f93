"""The ``tssnet`` client commands against the app with the fake service on a free port."""

import argparse
import hashlib
import io
import json

import pytest

from daemon import cli_client
from daemon.cli_client import add_client_commands, build_client_parser, main
from tests.daemon.api.fake_service import PEERS
from tests.daemon.api.support import API_KEY, LiveServer


@pytest.fixture
def server():
    with LiveServer() as live:
        yield live


def _run(server, capsys, *argv):
    code = main([*argv, "--node", server.url, "--api-key", API_KEY])
    out, err = capsys.readouterr()
    return code, out, err


def test_keygen_prints_the_key_for_people_and_json_for_scripts(server, capsys):
    code, out, err = _run(server, capsys, "keygen", "--threshold", "1", "--key-id", "k1")
    assert code == 0 and err == ""
    assert "k1" in out and "any 2 of 3 validators sign" in out
    code, out, _ = _run(server, capsys, "keygen", "--threshold", "1", "--scheme", "eddsa", "--players", f"0,{PEERS[2]}",
                        "--json")
    key = json.loads(out)
    assert code == 0 and key["scheme"] == "eddsa" and key["participants"] == [PEERS[0], PEERS[2]]


def test_sign_picks_the_hash_from_the_keys_scheme_unless_told(server, capsys):
    _run(server, capsys, "keygen", "--threshold", "1", "--key-id", "ec")
    _run(server, capsys, "keygen", "--threshold", "1", "--key-id", "ed", "--scheme", "eddsa")
    code, out, _ = _run(server, capsys, "sign", "--key", "ec", "--message", "héllo", "--json")
    assert code == 0
    assert json.loads(out)["digest"] == hashlib.sha256("héllo".encode()).hexdigest()
    assert server.fake.calls[-1][1][0].hash == "sha256"
    _run(server, capsys, "sign", "--key", "ed", "--message-hex", "00ff")
    request = server.fake.calls[-1][1][0]
    assert (request.message, request.hash) == (b"\x00\xff", "none")
    _run(server, capsys, "sign", "--key", "ec", "--message", "x", "--hash", "keccak256", "--path", "m/1",
         "--players", "0,1")
    request = server.fake.calls[-1][1][0]
    assert (request.hash, request.path, request.players) == ("keccak256", "m/1", (0, 1))
    code, out, _ = _run(server, capsys, "sign", "--key", "ec", "--digest", "11" * 32)
    assert code == 0 and "signature" in out and "recovery_id" in out
    assert server.fake.calls[-1][1][0].digest == bytes([0x11]) * 32


def test_keys_public_key_and_validators(server, capsys):
    code, out, _ = _run(server, capsys, "keys")
    assert code == 0 and "no keys" in out
    _run(server, capsys, "keygen", "--threshold", "1", "--key-id", "k1")
    code, out, _ = _run(server, capsys, "keys")
    assert "k1" in out and "2-of-3" in out
    code, out, _ = _run(server, capsys, "public-key", "--key", "k1", "--path", "m/0/1", "--json")
    assert json.loads(out)["path"] == "m/0/1"
    code, out, _ = _run(server, capsys, "validators")
    assert code == 0 and all(peer in out for peer in PEERS) and "online" in out


def test_failures_exit_1_with_the_nodes_message_on_stderr(server, capsys):
    code, out, err = _run(server, capsys, "public-key", "--key", "nope")
    assert code == 1 and out == ""
    assert "no key with id 'nope'" in err and "key_id_not_exists" in err
    code, _, err = _run(server, capsys, "sign", "--key", "k", "--digest", "00" * 32, "--hash", "sha256")
    assert code == 1 and "--hash" in err
    code = main(["keys", "--node", server.url, "--api-key", "wrong"])
    assert code == 1 and "unauthorized" in capsys.readouterr().err


def test_the_api_key_comes_from_the_environment_when_not_given(server, capsys, monkeypatch):
    monkeypatch.delenv(cli_client.API_KEY_ENV, raising=False)
    assert main(["keys", "--node", server.url]) == 1
    assert "TSSNET_API_KEY" in capsys.readouterr().err
    monkeypatch.setenv(cli_client.API_KEY_ENV, API_KEY)
    assert main(["keys", "--node", server.url]) == 0


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_shown_on_a_terminal_and_never_with_json(server, capsys, monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(cli_client.sys, "stderr", terminal)
    assert main(["keygen", "--threshold", "1", "--node", server.url, "--api-key", API_KEY]) == 0
    assert "running the ecdsa keygen..." in terminal.getvalue() and terminal.getvalue().endswith("\r\033[K")
    quiet = _Terminal()
    monkeypatch.setattr(cli_client.sys, "stderr", quiet)
    assert main(["keygen", "--threshold", "1", "--json", "--node", server.url, "--api-key", API_KEY]) == 0
    assert quiet.getvalue() == ""


def test_usage_errors_and_help_for_every_option(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["sign", "--key", "k", "--message", "a", "--digest", "00"])
    assert exc.value.code == 2
    parser = build_client_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(commands.choices) == {"keygen", "sign", "keys", "public-key", "validators"}
    for name, sub in commands.choices.items():
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings} has no help"
        assert sub.description


def test_commands_plug_into_another_parser():
    parser = argparse.ArgumentParser(prog="tssnet")
    subparsers = parser.add_subparsers(dest="command")
    subparsers.add_parser("node")
    add_client_commands(subparsers)
    args = parser.parse_args(["keys", "--json"])
    assert args.func is not None and args.node == "http://127.0.0.1:8001" and args.json
