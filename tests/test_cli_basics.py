"""The command line starts, reports its version and refuses a missing command."""

import subprocess
import sys

from engine import __version__
from engine.cli import main


def test_version_flag_prints_version(capsys: object) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert __version__ in proc.stdout


def test_no_command_is_a_usage_error() -> None:
    assert main([]) == 2
