"""The language server in a real Emacs through eglot (Debian's emacs-nox + elpa-eglot), batch mode.

Emacs loads docs/editors/emacs/tiny-agent.el — the file docs/editors/emacs.md tells users to
load — and tests/e2e/emacs/driver.el, which opens a broken shader, types, asks for completion
the way completion-at-point does and prints what Emacs shows (flymake's diagnostics, the
completion candidates, the buffer). The assertions are here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engine.validator import validate_source

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "docs" / "editors" / "emacs" / "tiny-agent.el"
DRIVER = Path(__file__).resolve().parent / "emacs" / "driver.el"
BROKEN = Path(__file__).resolve().parent / "nvim" / "broken.wgsl"
SERVER = Path(sys.executable).parent / "tiny-agent-trainer"
DEFAULT_MODEL = ROOT / "data" / "models" / "default"
PROMPT = "invert the colours of a buffer"

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(300)]


def _elisp_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Emacs Lisp string literal here


def test_eglot_shows_naga_errors_and_completes_code_from_a_comment(tmp_path: Path) -> None:
    emacs = shutil.which("emacs")
    if emacs is None:
        pytest.fail("emacs is missing: apt-get install emacs-nox elpa-eglot (Debian 12)")
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    shader = project / "broken.wgsl"
    shutil.copy(BROKEN, shader)
    home = tmp_path / "home"
    runtime = home / "runtime"
    runtime.mkdir(parents=True, mode=0o700)

    settings = "" if DEFAULT_MODEL.is_dir() else ':modelPath "dummy"'
    # What a user writes in init.el, before loading the file.
    setup = (
        "(progn (package-initialize)"
        f' (setq tiny-agent-server-command (list {_elisp_string(str(SERVER))} "serve"))'
        f" (setq tiny-agent-settings '({settings} :completions (:waitMs 1000))))"
    )
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "DRIVER_SHADER": str(shader),
        "DRIVER_PROMPT": PROMPT,
    }
    # -q, not -Q: Debian's site files make elpa-eglot loadable, as in a user's Emacs.
    argv = [emacs, "--batch", "-q", "--eval", setup, "-l", str(CONFIG), "-l", str(DRIVER)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=280)
    output = done.stdout + done.stderr
    seen: dict[str, dict[str, Any]] = {}
    for line in done.stdout.splitlines():
        if line.startswith("OBSERVE "):
            observation = json.loads(line[len("OBSERVE ") :])
            seen[observation["step"]] = observation

    def check(condition: bool, what: str) -> None:
        if not condition:
            pytest.fail(f"Emacs: {what}\nobserved: {json.dumps(seen, indent=1)}\n{output[-8000:]}")

    check(done.returncode == 0, f"emacs exited with {done.returncode}")
    check("error" not in seen, f"an error in Emacs: {seen.get('error', {}).get('message')}")
    check(seen.get("opened", {}).get("mode") == "wgsl-mode", "*.wgsl did not open in wgsl-mode")
    check(seen["opened"].get("managed") is True, "eglot did not connect to the server")

    items = seen.get("diagnostics", {}).get("items", [])
    check(len(items) == 1, "flymake does not show exactly one diagnostic")
    # flymake: 1-based lines, 0-based columns; eglot prefixes the source.
    check(
        items[0]
        == {
            "line": 5,
            "col": 18,
            "end_col": 24,
            "text": "naga [naga]: no definition in scope for identifier: `weight`",
        },
        "the naga error is not where naga puts it",
    )
    check(seen.get("fixed", {}).get("cleared") is True, "fixing the typo did not clear the error")

    completion = seen.get("completion", {})
    check(completion.get("generated") == f"Tiny Agent: {PROMPT}", "no generated candidate")
    check(completion["labels"][0] == f"Tiny Agent: {PROMPT}", "generated code is not first")
    check(str(completion.get("annotation")).endswith("naga: valid"), "no naga verdict shown")

    accepted = seen.get("accepted", {})
    text = accepted.get("text", "")
    check(f"// {PROMPT}\n" in text, "the comment is gone")
    code = text.split(f"// {PROMPT}\n", 1)[-1]
    check("@compute" in code and code.count("\n") > 5, "the generated code is not in the buffer")
    check(accepted.get("validated") is True, "the server never validated the final buffer")
    check(accepted.get("diagnostics") == [], "the buffer with the generated code shows errors")
    check(validate_source(text).valid, "naga rejects the buffer")

    generated = seen.get("generate", {}).get("text", "")
    check(generated.startswith(f"// {PROMPT}\n"), "M-x tiny-agent-generate lost the comment")
    check("@compute" in generated, "M-x tiny-agent-generate wrote no code below the comment")
    check(validate_source(generated).valid, "naga rejects what M-x tiny-agent-generate wrote")
