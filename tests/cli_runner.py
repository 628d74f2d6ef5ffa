"""Run `tiny-agent-trainer` as a user does: a real subprocess, its output captured as text."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def cli(
    *args: str, cwd: Path, stdin: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
