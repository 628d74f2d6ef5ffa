"""The VS Code extension's own unit tests (node's test runner), run from the Python suite.

They cover what needs no VS Code: finding the server (setting, the Python extension's
interpreter, the workspace .venv, PATH), the settings sent to it, the status bar text, the
progress notification's steps, the model info line, the training configurations offered, the
comment a prompt is read from, and the WGSL grammar's scopes (tokenized with vscode-textmate,
the engine VS Code uses).
"""

from __future__ import annotations

import json
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
    assert int(passed.group(1)) >= 45, f"only {passed.group(1)} extension tests ran"


def _expand_snippet(body: list[str]) -> str:
    """The text a snippet inserts when every placeholder keeps its default."""
    text = "\n".join(body)
    placeholder = re.compile(r"\$\{\d+:([^${}]*)\}")
    while True:
        expanded = placeholder.sub(lambda m: m.group(1), text)
        if expanded == text:
            break
        text = expanded
    return re.sub(r"\$\d+", "", text)


# Snippets that are statements, not modules, with the declarations they need around them.
_SNIPPET_CONTEXT = {
    "For loop": ("fn wrapper() {\n    let count = 4u;\n", "\n}\n"),
}


def test_snippets_expand_to_wgsl_that_naga_accepts() -> None:
    from engine.validator import validate_source

    snippets = json.loads((EXTENSION / "snippets" / "wgsl.json").read_text())
    assert len(snippets) >= 5
    for name, snippet in snippets.items():
        before, after = _SNIPPET_CONTEXT.get(name, ("", ""))
        source = before + _expand_snippet(snippet["body"]) + after
        assert "$" not in source, (name, source)
        result = validate_source(source)
        assert result.valid, (name, source, [d.message for d in result.diagnostics])


def test_package_json_declares_every_server_setting_with_the_servers_default() -> None:
    """The extension's settings mirror the server's: same keys, same defaults."""
    import dataclasses

    from server.settings import _KEYS, Settings

    declared = json.loads((EXTENSION / "package.json").read_text())["contributes"]["configuration"][
        "properties"
    ]
    defaults = {f.name: f.default for f in dataclasses.fields(Settings)}
    for key, field in _KEYS.items():
        entry = declared.get(f"tinyAgent.{key}")
        assert entry is not None, f"tinyAgent.{key} (server field {field}) is not in package.json"
        server_default = defaults[field]
        # The server's "unset" path is None; VS Code shows an empty string for it.
        expected = "" if field == "model_path" and server_default is None else server_default
        assert entry["default"] == expected, (key, entry["default"], server_default)
        assert len(entry.get("markdownDescription", "")) > 20, f"tinyAgent.{key} has no description"
