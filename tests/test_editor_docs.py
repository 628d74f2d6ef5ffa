"""The editor set-ups in docs/editors/ say what the server understands.

Helix is not installable here, so its languages.toml is checked by parsing it and feeding its
settings to the server's own settings parser. Every guide's settings table must list every
setting the server reads. (Neovim and Emacs run for real in tests/e2e/.)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

from server.settings import _KEYS, SECTION, Settings, _flatten, merge_settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DOCS = Path(__file__).resolve().parents[1] / "docs" / "editors"


def _code_blocks(markdown: Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", markdown.read_text(), flags=re.S)


def _helix_config() -> dict[str, Any]:
    blocks = _code_blocks(DOCS / "helix.md", "toml")
    assert len(blocks) == 1, "helix.md should hold exactly one languages.toml block"
    return tomllib.loads(blocks[0])


def test_helix_runs_the_server_for_wgsl() -> None:
    config = _helix_config()
    server = config["language-server"]["tiny-agent"]
    assert (server["command"], server["args"]) == ("tiny-agent-trainer", ["serve"])
    (wgsl,) = [lang for lang in config["language"] if lang["name"] == "wgsl"]
    assert "tiny-agent" in wgsl["language-servers"]
    assert wgsl["file-types"] == ["wgsl"]
    assert wgsl["comment-token"] == "//"


def test_helix_settings_are_all_understood_by_the_server() -> None:
    # Helix sends `config` as initializationOptions and answers workspace/configuration for
    # "tinyAgent" with config["tinyAgent"]: both must parse without a warning.
    config = _helix_config()["language-server"]["tiny-agent"]["config"]
    section = config[SECTION]
    unknown = sorted(set(_flatten(section)) - set(_KEYS))
    assert not unknown, f"keys the server ignores: {unknown}"
    for payload in (config, section):
        settings, problems = merge_settings(Settings(), payload)
        assert problems == []
        assert settings.completion_wait_ms == section["completions"]["waitMs"]
        assert settings.model_path is None  # "" means the shipped default model


def _emacs_spelling(key: str) -> str:
    head, _, leaf = key.partition(".")
    return f"`:{head} (:{leaf}" if leaf else f"`:{key}`"


@pytest.mark.parametrize(
    ("guide", "spelling"),
    [
        ("neovim.md", lambda key: f"`{key}`"),
        ("helix.md", lambda key: f"`{key}`"),
        ("emacs.md", _emacs_spelling),
    ],
)
def test_each_guide_documents_every_setting(guide: str, spelling: Any) -> None:
    text = (DOCS / guide).read_text()
    missing = [key for key in _KEYS if spelling(key) not in text]
    assert not missing, f"{guide} does not document {missing}"
