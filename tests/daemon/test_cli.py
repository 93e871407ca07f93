import subprocess
import sys

import pytest

from daemon.cli import main


def test_version_and_help_through_the_console_script():
    version = subprocess.run([sys.executable, "-m", "daemon.cli", "--version"],
                             capture_output=True, text=True, check=True)
    assert version.stdout.startswith("tssnet 0.")
    helptext = subprocess.run([sys.executable, "-m", "daemon.cli", "--help"],
                              capture_output=True, text=True, check=True)
    assert "threshold-signing network" in helptext.stdout


def test_unknown_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--no-such-option"])
    assert exc.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_no_command_prints_help_and_is_a_usage_error(capsys):
    assert main([]) == 2
    captured = capsys.readouterr()
    assert "COMMAND" in captured.err and captured.out == ""


def test_node_help_says_secrets_belong_in_the_config_or_environment(capsys):
    with pytest.raises(SystemExit):
        main(["node", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "ps" in text and "config file" in text and "TSSNET_API_KEYS" in text


def test_a_node_reachable_from_other_machines_without_a_join_secret_does_not_start(tmp_path, capsys, monkeypatch):
    import daemon.node
    started = []
    monkeypatch.setattr(daemon.node, "run_node", lambda config: started.append(config) or 0)
    code = main(["node", "--data-dir", str(tmp_path), "--p2p-host", "0.0.0.0", "--api-key", "k" * 16])
    assert code == 2 and "join_secret" in capsys.readouterr().err and started == []
    code = main(["node", "--data-dir", str(tmp_path), "--p2p-host", "127.0.0.1", "--api-key", "k" * 16])
    assert code == 0 and len(started) == 1


def test_an_api_reachable_from_other_machines_is_warned_about_tls(tmp_path, capsys, monkeypatch):
    import logging

    import daemon.node
    monkeypatch.setattr(daemon.node, "run_node", lambda config: 0)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))   # logs.setup replaces them
    monkeypatch.setattr(root, "level", root.level)
    assert main(["node", "--data-dir", str(tmp_path), "--http-host", "0.0.0.0", "--api-key", "k" * 16]) == 0
    err = capsys.readouterr().err
    assert "WARNING" in err and "TLS" in err
