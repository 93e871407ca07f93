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
