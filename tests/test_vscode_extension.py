"""The VS Code extension's own unit tests (node's test runner), run from the Python suite.

They cover what needs no VS Code: finding the server, the settings sent to it, the status bar
text, the training configurations offered, the comment a prompt is read from, and the WGSL
grammar's scopes (tokenized with vscode-textmate, the engine VS Code uses).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

EXTENSION = Path(__file__).resolve().parents[1] / "vscode-extension"


@pytest.mark.timeout(600)
def test_extension_unit_tests_pass() -> None:
    if shutil.which("npm") is None:
        pytest.fail("npm is missing: install Node 20 and npm to build the VS Code extension")
    result = subprocess.run(
        ["make", "-C", str(EXTENSION), "test"],
        capture_output=True,
        text=True,
        timeout=540,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    passed = re.search(r"^# pass (\d+)$", output, re.MULTILINE)
    failed = re.search(r"^# fail (\d+)$", output, re.MULTILINE)
    assert passed is not None and failed is not None, output[-3000:]
    assert int(failed.group(1)) == 0
    assert int(passed.group(1)) >= 30, f"only {passed.group(1)} extension tests ran"
