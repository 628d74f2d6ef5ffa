"""The language server in a real Neovim: Debian's ``nvim``, headless, its built-in LSP client.

Neovim loads the very file docs/editors/neovim.md tells users to install
(docs/editors/nvim/tiny-agent.lua) with ``--clean -u``; the only thing the test adds is the
options table a user would put in init.lua (the server command, the model). The test types
like a user through Neovim's RPC channel (pynvim) and asserts what the user would see: the
diagnostics Neovim shows, the completion menu, the buffer after accepting an item.

The model is the shipped default (data/models/default) when it is installed, else the
built-in templates (``modelPath = "dummy"``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pynvim
import pytest

from engine.validator import validate_source

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "docs" / "editors" / "nvim" / "tiny-agent.lua"
BROKEN = Path(__file__).resolve().parent / "nvim" / "broken.wgsl"
SERVER = Path(sys.executable).parent / "tiny-agent-trainer"
DEFAULT_MODEL = ROOT / "data" / "models" / "default"
PROMPT = "invert the colours of a buffer"
WATCHDOG_S = 240

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(WATCHDOG_S + 60)]


class Editor:
    """A headless Neovim driven over RPC, with what to print when an assertion fails."""

    def __init__(self, nvim: Any, home: Path) -> None:
        self.nvim = nvim
        self.home = home

    def keys(self, keys: str) -> None:
        self.nvim.input(keys)

    def lua(self, code: str, *args: Any) -> Any:
        return self.nvim.exec_lua(code, *args)

    def wait_for(self, what: str, check: Callable[[], Any], timeout: float) -> Any:
        """Poll ``check`` until it returns something truthy; fail with Neovim's state if not."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                pytest.fail(f"Neovim: {what} within {timeout:.0f}s\n{self.report()}")
            time.sleep(0.1)

    def diagnostics(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.lua("return vim.diagnostic.get(0)")
        return result

    def menu(self) -> dict[str, Any] | None:
        """The completion menu's items and selection, None while it is closed."""
        info: dict[str, Any] = self.nvim.call("complete_info", ["items", "selected"])
        return info if info.get("items") else None

    def floating_lines(self) -> list[str]:
        """The text of the first floating window, or [] when there is none."""
        lines: list[str] = self.lua(
            """
            for _, win in ipairs(vim.api.nvim_list_wins()) do
              if vim.api.nvim_win_get_config(win).relative ~= "" then
                return vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)
              end
            end
            return {}
            """
        )
        return lines

    def lines(self) -> list[str]:
        return list(self.nvim.current.buffer[:])

    def validated_current_version(self) -> bool:
        """The server has published diagnostics for the buffer's latest version."""
        return bool(
            self.lua(
                """
                local bufnr = vim.api.nvim_get_current_buf()
                local uri = vim.uri_from_bufnr(bufnr)
                return _G.published[uri] == vim.lsp.util.buf_versions[bufnr]
                """
            )
        )

    def report(self) -> str:
        parts = [f"mode: {self.nvim.api.get_mode()}"]
        try:
            parts.append("buffer:\n" + "\n".join(self.lines()))
            parts.append(f"diagnostics: {self.diagnostics()}")
            parts.append(f"status: {self.lua('return TinyAgent and TinyAgent.status')}")
            parts.append("messages:\n" + self.nvim.command_output("messages"))
        except Exception as exc:  # Neovim itself may be the problem
            parts.append(f"(Neovim did not answer: {exc})")
        for log in sorted(self.home.rglob("lsp.log")):
            parts.append(f"{log}:\n{log.read_text(errors='replace')[-6000:]}")
        return "\n".join(parts)


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Editor]:
    nvim_path = shutil.which("nvim")
    if nvim_path is None:
        pytest.fail("nvim is missing: run `make system-deps` (Debian's neovim)")
    if not SERVER.exists():
        pytest.fail(f"{SERVER} is missing: run `make install-dev`")
    home = tmp_path / "home"
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        folder = home / name.lower()
        folder.mkdir(parents=True)
        monkeypatch.setenv(f"XDG_{name}_HOME", str(folder))
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))

    settings: dict[str, Any] = {"debounceMs": 50}
    if not DEFAULT_MODEL.is_dir():
        settings["modelPath"] = "dummy"
    # What a user writes in init.lua before the drop-in file runs.
    options = home / "init_options.lua"
    chosen = json.dumps({"cmd": [str(SERVER), "serve"], "settings": settings})
    options.write_text(f"vim.g.tiny_agent = vim.fn.json_decode([[{chosen}]])\n")
    argv = [nvim_path, "--embed", "--headless", "--clean", "--cmd", f"luafile {options}"]
    nvim = pynvim.attach("child", argv=[*argv, "-u", str(CONFIG)])
    editor = Editor(nvim, home)
    # Record the version of each publishDiagnostics, to know the server saw the latest text.
    editor.lua(
        """
        _G.published = {}
        local show = vim.lsp.handlers["textDocument/publishDiagnostics"]
        vim.lsp.handlers["textDocument/publishDiagnostics"] = function(err, result, ctx, config)
          if result then _G.published[result.uri] = result.version or -1 end
          return show(err, result, ctx, config)
        end
        """
    )
    # A Neovim that blocks (a "Press ENTER" prompt) would block the RPC call forever: end it,
    # so the call fails and the test reports instead of hanging.
    pid = int(nvim.call("getpid"))
    watchdog = threading.Timer(WATCHDOG_S, lambda: os.kill(pid, signal.SIGKILL))
    watchdog.start()
    try:
        yield editor
    finally:
        watchdog.cancel()
        with contextlib.suppress(Exception):  # the channel closes as Neovim exits
            nvim.command("qa!")
        nvim.close()


def test_diagnostics_then_code_from_a_comment(editor: Editor, tmp_path: Path) -> None:
    shader = tmp_path / "project" / "broken.wgsl"
    shader.parent.mkdir()
    shutil.copy(BROKEN, shader)
    editor.nvim.command(f"edit {shader}")
    assert editor.nvim.eval("&filetype") == "wgsl", "*.wgsl is not detected as wgsl"

    # naga's error, where naga puts it: line 5, columns 19-24 (Neovim counts from 0).
    shown = editor.wait_for("no diagnostics for the broken shader", editor.diagnostics, 60)
    assert len(shown) == 1, shown
    (diagnostic,) = shown
    assert diagnostic["message"] == "no definition in scope for identifier: `weight`"
    assert diagnostic["source"] == "naga"
    assert diagnostic["severity"] == 1  # vim.diagnostic.severity.ERROR
    assert (diagnostic["lnum"], diagnostic["col"]) == (4, 18)
    assert (diagnostic["end_lnum"], diagnostic["end_col"]) == (4, 24)

    # ]d (the config's keymap) jumps to the error; fix the typo, the error goes away.
    editor.keys("]d")
    editor.wait_for("]d did not reach the error", lambda: editor.nvim.call("col", ".") == 19, 5)
    editor.keys("eas<Esc>")
    assert editor.lines()[4] == "    return dot(c, weights);"
    editor.wait_for(
        "the fixed shader still shows diagnostics",
        lambda: editor.validated_current_version() and not editor.diagnostics(),
        30,
    )

    # The model loads in the background; the statusline function says when it is ready.
    editor.wait_for(
        "the model is not ready",
        lambda: editor.lua("return TinyAgent.status.state") == "ready",
        180,
    )
    statusline = editor.lua("return TinyAgent.statusline()")
    assert statusline.endswith(": ready"), statusline

    # A comment, then <C-x><C-o> on the line below it, as a user asks for completion.
    editor.keys(f"Go// {PROMPT}<Esc>")
    comment_row = len(editor.lines())
    item = _generated_item(editor)
    menu_text = item["user_data"]["nvim"]["lsp"]["completion_item"]["textEdit"]["newText"]
    assert "@compute" in menu_text or "@fragment" in menu_text or "@vertex" in menu_text, menu_text
    assert item["menu"].endswith("naga: valid"), item["menu"]

    editor.keys("<C-y><Esc>")  # accept the selected (first) item
    lines = editor.lines()
    assert lines[comment_row - 1] == f"// {PROMPT}"
    generated = lines[comment_row:]
    assert generated == menu_text.split("\n"), (
        "the accepted item is not in the buffer line by line:\n" + "\n".join(lines)
    )
    assert not any("\x00" in line or "\n" in line for line in lines)

    # Neovim shows no diagnostics for the version the server last saw, and that version is
    # the buffer as it is now; naga agrees when asked directly.
    editor.wait_for(
        "the buffer with the generated code was not validated clean",
        lambda: editor.validated_current_version() and not editor.diagnostics(),
        30,
    )
    text = "\n".join(lines) + "\n"
    assert validate_source(text).valid, text


def _generated_item(editor: Editor) -> dict[str, Any]:
    """Open the completion menu below the comment until the generated code is in it.

    The first request may find the model still decoding ("Tiny Agent: generating…"); like a
    user, close the menu and ask again.
    """
    last: list[dict[str, Any]] = []
    for _ in range(20):
        editor.keys("o<C-x><C-o>")
        info = editor.wait_for("<C-x><C-o> opened no completion menu", editor.menu, 30)
        last = info["items"]
        first = last[0]
        if first["abbr"].startswith("Tiny Agent: ") and first["abbr"] != "Tiny Agent: generating…":
            assert first["abbr"] == f"Tiny Agent: {PROMPT}", [i["abbr"] for i in last[:5]]
            assert info["selected"] == 0
            return dict(first)
        editor.keys("<C-e><Esc>dd")  # close the menu, drop the empty line
        time.sleep(0.5)
    labels = [i["abbr"] for i in last[:5]]
    pytest.fail(f"no generated item in the menu: {labels}\n{editor.report()}")


def test_generate_command_writes_code_below_the_comment(editor: Editor, tmp_path: Path) -> None:
    shader = tmp_path / "project" / "new.wgsl"
    shader.parent.mkdir()
    shader.write_text(f"// {PROMPT}\n")
    editor.nvim.command(f"edit {shader}")
    editor.wait_for(
        "the model is not ready",
        lambda: editor.lua("return TinyAgent.status.state") == "ready",
        180,
    )
    editor.wait_for(
        ":TinyAgentGenerate is not defined for the buffer",
        lambda: editor.nvim.call("exists", ":TinyAgentGenerate") == 2,
        10,
    )
    editor.nvim.command("TinyAgentGenerate")
    lines = editor.wait_for(
        ":TinyAgentGenerate wrote nothing",
        lambda: len(editor.lines()) > 2 and editor.lines(),
        60,
    )
    assert lines[0] == f"// {PROMPT}"
    assert any(line.startswith("@compute") for line in lines), "\n".join(lines)
    editor.wait_for(
        "the generated code was not validated clean",
        lambda: editor.validated_current_version() and not editor.diagnostics(),
        30,
    )
    assert validate_source("\n".join(lines) + "\n").valid


def test_commands_report_back_in_the_message_area(editor: Editor, tmp_path: Path) -> None:
    shader = tmp_path / "project" / "triangle.wgsl"
    shader.parent.mkdir()
    shutil.copy(ROOT / "examples" / "triangle.wgsl", shader)
    editor.nvim.command(f"edit {shader}")
    editor.wait_for(
        "the model is not ready",
        lambda: editor.lua("return TinyAgent.status.state") == "ready",
        180,
    )
    editor.nvim.command("TinyAgentModelInfo")
    shown = editor.wait_for(":TinyAgentModelInfo showed nothing", editor.floating_lines, 30)
    assert "state: ready" in shown, shown
    expected = str(DEFAULT_MODEL) if DEFAULT_MODEL.is_dir() else "dummy"
    assert any(expected in line for line in shown), shown
    editor.nvim.command("TinyAgentTrain no-such-config.toml 1")
    missing = tmp_path / "project" / "no-such-config.toml"
    editor.wait_for(
        ":TinyAgentTrain with a missing config did not say so",
        lambda: (
            f"configuration file {missing} does not exist" in editor.nvim.command_output("messages")
        ),
        30,
    )
