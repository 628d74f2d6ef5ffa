"""The VS Code extension in a real VS Code: code-server in headless Chromium.

The module installs code-server (cached in .e2e/code-server by
tests/e2e/vscode/install-code-server.sh), builds the extension's .vsix, installs it into a fresh
user-data folder, starts code-server on a free loopback port, and for each test opens a fresh
copy of tests/e2e/vscode/workspace in Chromium through tests/e2e/vscode/driver.cjs. The driver
types, clicks and reads the screen like a user and reports what it saw; the assertions are here.
Screenshots are kept under .e2e/artifacts/vscode/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine.validator import validate_source

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent / "vscode"
INSTALL_SCRIPT = HERE / "install-code-server.sh"
DRIVER = HERE / "driver.cjs"
WORKSPACE = HERE / "workspace"
CODE_SERVER_PREFIX = ROOT / ".e2e" / "code-server"
ARTIFACTS = ROOT / ".e2e" / "artifacts" / "vscode"
VSIX = ROOT / "vscode-extension" / "tiny-agent-wgsl.vsix"
SERVER_EXECUTABLE = Path(sys.executable).parent / "tiny-agent-trainer"
CHROMIUM = Path("/usr/lib/chromium/chromium")
EXTENSION_ID = "tiny-agent-trainer.tiny-agent-wgsl"

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(600)]

# Default Dark Modern, the theme pinned in the user settings below.
COMMENT = "rgb(106, 153, 85)"
KEYWORD = "rgb(86, 156, 214)"
CONTROL = "rgb(197, 134, 192)"
TYPE = "rgb(78, 201, 176)"
FUNCTION = "rgb(220, 220, 170)"
NUMBER = "rgb(181, 206, 168)"
ATTRIBUTE = "rgb(156, 220, 254)"
PLAIN = "rgb(204, 204, 204)"


@dataclass(frozen=True)
class CodeServer:
    url: str
    user_data: Path
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(cmd: list[str], timeout: float, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited with {result.returncode}\n"
            f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
        )
    return result


def _user_settings() -> dict[str, object]:
    return {
        "workbench.colorTheme": "Default Dark Modern",
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": False,
        "workbench.enableExperiments": False,
        "security.workspace.trust.enabled": False,
        "telemetry.telemetryLevel": "off",
        "update.mode": "none",
        "extensions.autoCheckUpdates": False,
        "extensions.autoUpdate": False,
        "window.restoreWindows": "none",
        "files.hotExit": "off",
        "editor.inlineSuggest.enabled": True,
        "tinyAgent.server.path": str(SERVER_EXECUTABLE),
        "tinyAgent.modelPath": "dummy",
        "tinyAgent.debounceMs": 100,
    }


@pytest.fixture(scope="module")
def code_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CodeServer]:
    for tool in ("node", "npm", "make"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: run `make system-deps`")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` to install Debian's chromium")
    _run(["bash", str(INSTALL_SCRIPT)], timeout=1800)
    _run(["make", "-C", str(ROOT / "vscode-extension"), "vsix"], timeout=600)
    assert VSIX.is_file(), f"make vsix did not produce {VSIX}"

    home = tmp_path_factory.mktemp("code-server")
    user_data = home / "user-data"
    extensions = home / "extensions"
    (user_data / "User").mkdir(parents=True)
    (user_data / "User" / "settings.json").write_text(json.dumps(_user_settings(), indent=2))
    config = home / "config.yaml"
    config.write_text("auth: none\ncert: false\n")
    code_server_bin = str(CODE_SERVER_PREFIX / "node_modules" / ".bin" / "code-server")
    common = [
        "--config",
        str(config),
        "--user-data-dir",
        str(user_data),
        "--extensions-dir",
        str(extensions),
    ]
    installed = _run([code_server_bin, *common, "--install-extension", str(VSIX)], timeout=120)
    assert "successfully installed" in installed.stdout, installed.stdout

    port = _free_port()
    log = home / "code-server.log"
    env = dict(os.environ, XDG_RUNTIME_DIR=str(home))
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [
                code_server_bin,
                *common,
                "--auth",
                "none",
                "--bind-addr",
                f"127.0.0.1:{port}",
                "--disable-telemetry",
                "--disable-update-check",
                "--disable-workspace-trust",
                "--disable-getting-started-override",
                "--ignore-last-opened",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"code-server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield CodeServer(url=url, user_data=user_data, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "shaders"
    shutil.copytree(WORKSPACE, folder)
    return folder


def _extension_log(server: CodeServer) -> str:
    logs = sorted(server.user_data.glob("logs/*/exthost*/**/*Tiny Agent.log"))
    return logs[-1].read_text(errors="replace")[-4000:] if logs else "(no Tiny Agent log)"


def drive(server: CodeServer, scenario: str, folder: Path, **options: object) -> dict[str, Any]:
    """Runs one driver scenario in a fresh browser; fails with everything it saw on error."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    config = {
        "url": server.url,
        "folder": str(folder),
        "artifacts": str(ARTIFACTS),
        "playwright": str(CODE_SERVER_PREFIX / "node_modules" / "playwright-core"),
        "chromium": str(CHROMIUM),
        **options,
    }
    result = subprocess.run(
        ["node", str(DRIVER), scenario, json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    report: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    if result.returncode != 0 or "error" in report:
        pytest.fail(
            f"driver scenario {scenario!r} failed (exit {result.returncode}):\n"
            f"{report.get('error', result.stdout[-2000:])}\n"
            f"status bar: {report.get('statusBar')}\n"
            f"notifications: {report.get('notifications')}\n"
            f"screenshots: {report.get('screenshots')}\n"
            f"driver log:\n{result.stderr[-2000:]}\n"
            f"extension log:\n{_extension_log(server)}\n"
            f"code-server log:\n{server.log.read_text(errors='replace')[-2000:]}"
        )
    for shot in report.get("screenshots", []):
        assert Path(shot).is_file(), f"screenshot {shot} was not written"
    return report


def _colour_of(lines: list[list[dict[str, str]]], line: int, text: str) -> str:
    """Colour of the rendered token on 1-based ``line`` whose text is exactly ``text``."""
    tokens = lines[line - 1]
    for token in tokens:
        if token["text"].strip() == text:
            return token["color"]
    pytest.fail(f"line {line} has no token {text!r}: {[t['text'] for t in tokens]}")


def test_wgsl_is_highlighted_by_the_grammar(code_server: CodeServer, workspace: Path) -> None:
    # Semantic tokens from the server would repaint the text; turn them off to see the grammar.
    (workspace / ".vscode").mkdir()
    (workspace / ".vscode" / "settings.json").write_text(
        json.dumps({"editor.semanticHighlighting.enabled": False})
    )
    report = drive(code_server, "highlighting", workspace)
    lines = report["lines"]
    assert report["language"] == "WGSL"
    # highlight.wgsl, line by line: what a user sees in colour.
    assert _colour_of(lines, 1, "// Doubles every element of a buffer.") == COMMENT
    assert _colour_of(lines, 2, "struct") == KEYWORD
    assert _colour_of(lines, 2, "Params") == TYPE
    assert _colour_of(lines, 3, "f32") == TYPE
    assert _colour_of(lines, 6, "group") == ATTRIBUTE
    assert _colour_of(lines, 6, "0") == NUMBER
    assert _colour_of(lines, 6, "storage") == KEYWORD
    assert _colour_of(lines, 6, "array") == TYPE
    assert _colour_of(lines, 9, "fn") == KEYWORD
    assert _colour_of(lines, 9, "scaled") == FUNCTION
    assert _colour_of(lines, 9, "vec4") == TYPE
    assert _colour_of(lines, 10, "return") == CONTROL
    assert _colour_of(lines, 10, "normalize") == FUNCTION
    assert _colour_of(lines, 13, "compute") == ATTRIBUTE
    assert _colour_of(lines, 13, "64") == NUMBER
    assert _colour_of(lines, 16, "if") == CONTROL
    assert _colour_of(lines, 16, "arrayLength") == FUNCTION
    assert _colour_of(lines, 19, "2.0") == NUMBER
    assert _colour_of(lines, 19, "0x10u") == NUMBER
    # `vec4<f32>` is two type tokens around plain punctuation.
    line9 = [t for t in lines[8] if t["text"].strip()]
    texts = [t["text"].strip() for t in line9]
    at = texts.index("vec4")
    assert [t["color"] for t in line9[at : at + 3]] == [TYPE, PLAIN, TYPE]
    assert texts[at + 2] == "f32"
    assert report["status"], "the Tiny Agent status bar item is missing"


def test_naga_error_shows_in_problems_panel_and_clears_when_fixed(
    code_server: CodeServer, workspace: Path
) -> None:
    report = drive(code_server, "diagnostics", workspace)
    problems = " | ".join(report["problems"])
    assert "the type of `x` is expected to be `f32`, but got `u32`" in problems
    assert "line 3 and character 9" in problems
    assert "naga" in problems
    assert report["squiggles"] >= 1
    assert report["after"]["rows"] == 0
    assert "    let x: f32 = 1.0;" in report["text"]
    assert "let x: f32 = 1.0;" in (workspace / "broken.wgsl").read_text()


def test_comment_becomes_code_accepted_with_tab(code_server: CodeServer, workspace: Path) -> None:
    prompt = "// mix two colours additively"
    report = drive(code_server, "completion", workspace, prompt=prompt)
    saved = (workspace / "generate.wgsl").read_text()
    assert saved.startswith(prompt + "\n"), saved[:200]
    ghost = "".join(report["ghost"].split())
    assert ghost and ghost in "".join(saved.split()), (report["ghost"], saved)
    assert "@compute" in saved
    result = validate_source(saved)
    assert result.valid, [d.message for d in result.diagnostics]
    # In the editor too: no problems and no squiggles for the accepted code.
    assert report["problems"] == [], report["problems"]
    assert report["squiggles"] == 0


def test_missing_server_names_the_setting_and_opens_it(
    code_server: CodeServer, workspace: Path
) -> None:
    missing = workspace / "no-such-dir" / "tiny-agent-trainer"
    (workspace / ".vscode").mkdir()
    (workspace / ".vscode" / "settings.json").write_text(
        json.dumps({"tinyAgent.server.path": str(missing)})
    )
    report = drive(code_server, "missingServer", workspace, serverPath=str(SERVER_EXECUTABLE))
    message = report["message"]
    assert str(missing) in message["message"]
    assert "is not an executable file" in message["message"]
    assert message["buttons"] == ["Open Setting", "Show Logs"]
    assert "error" in report["status"]
    assert any("Server: Path" in title for title in report["setting"]), report["setting"]
    assert report["statusAfterFix"].endswith("dummy: ready")
    saved = json.loads((workspace / ".vscode" / "settings.json").read_text())
    assert saved["tinyAgent.server.path"] == str(SERVER_EXECUTABLE)


def test_palette_commands_generate_validate_and_show_the_model(
    code_server: CodeServer, workspace: Path
) -> None:
    prompt = "// invert the colours"
    report = drive(code_server, "commands", workspace, prompt=prompt)
    saved = (workspace / "generate.wgsl").read_text()
    assert saved.startswith(prompt + "\n"), saved[:200]
    assert "fn main" in saved
    result = validate_source(saved)
    assert result.valid, [d.message for d in result.diagnostics]
    # Validate Workspace: broken.wgsl was never opened, yet its error is listed.
    assert "Validated 3 WGSL files: 1 with errors" in report["summary"]["message"]
    problems = " | ".join(report["problems"])
    assert "the type of `x` is expected to be `f32`, but got `u32`" in problems
    assert "dummy — built-in templates" in report["info"]["message"]
    assert "Model info" in report["output"]


def _tiny_config(epochs: int, checkpoints: str) -> str:
    """A training configuration small enough to train in seconds on a shared CPU."""
    return f"""\
[task]
name = "tiny"
task_type = "code_generation"

[model]
d_model = 32
nhead = 2
num_layers = 1
dim_feedforward = 64
dropout = 0.0
max_seq_len = 256

[training]
num_epochs = {epochs}
batch_size = 4
learning_rate = 0.001
early_stopping = false
warmup_steps = 2
device = "cpu"
checkpoint_dir = "../{checkpoints}"

[tokenizer]
max_length = 256

[dataset]
train_path = "../data/pairs.toml"
train_ratio = 0.75
val_ratio = 0.25
"""


def _path_in(message: str, folder: Path) -> Path:
    """The path under ``folder`` that a notification names (it must name one)."""
    found = re.search(re.escape(str(folder)) + r"[^\s)]*", message)
    assert found is not None, f"no path under {folder} in: {message}"
    return Path(found.group(0).rstrip(".,;:"))


def test_train_model_shows_progress_finishes_and_cancels_keeping_a_checkpoint(
    code_server: CodeServer, workspace: Path
) -> None:
    (workspace / "config").mkdir()
    # 2 epochs over a dozen pairs: a run that finishes; 5000 epochs: one that is cancelled.
    (workspace / "config" / "tiny.toml").write_text(_tiny_config(2, "checkpoints/tiny"))
    (workspace / "config" / "tiny-long.toml").write_text(
        _tiny_config(5000, "checkpoints/tiny-long")
    )
    report = drive(
        code_server,
        "training",
        workspace,
        shortConfig="tiny.toml",
        longConfig="tiny-long.toml",
    )
    assert any("tiny.toml" in pick for pick in report["picks"]), report["picks"]
    assert any("tiny-long.toml" in pick for pick in report["picks"]), report["picks"]

    # The finished run: progress in a cancellable notification and in the status bar, a
    # message naming the saved model, and the server now using that model.
    assert report["progress"]["progress"], report["progress"]
    assert "Cancel" in report["progress"]["buttons"]
    assert re.search(r"training \d+%", report["statusWhileTraining"] or ""), report
    finished = report["finished"]["message"]
    model_dir = _path_in(finished, workspace / "checkpoints" / "tiny")
    assert (model_dir / "model.safetensors").is_file()
    assert model_dir.name in report["statusAfterFinish"]
    assert report["progressGoneAfterFinish"]

    # The cancelled run: it was in the training loop, Cancel stopped it, the notification
    # closed, a checkpoint was kept, and the server still answers (with that checkpoint loaded).
    assert re.search(r"epoch \d+/5000", report["running"]["message"]), report["running"]
    assert "training" in report["statusBeforeCancel"]
    checkpoint = _path_in(report["stopped"]["message"], workspace / "checkpoints" / "tiny-long")
    assert (checkpoint / "model.safetensors").is_file()
    assert "ready" in report["statusAfterCancel"]
    # A stopped run keeps the model in use: the one the first run finished.
    assert str(model_dir) in report["info"]["message"], report["info"]["message"]
