"""The command line starts, reports its version and refuses a missing command."""

import os
import subprocess
import sys
from pathlib import Path

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


def test_a_closed_stdout_ends_quietly(tmp_path: Path) -> None:
    """`validate ... | head -1`: the reader goes away; no traceback on the terminal."""
    shader = tmp_path / "bad.wgsl"
    shader.write_text("fn f() -> i32 {\n    return 1.0;\n}\n", encoding="utf-8")
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "engine.cli", "validate", str(shader)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
