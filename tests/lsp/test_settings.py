"""Settings from initializationOptions and workspace/configuration change what the server does."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from lsp_helpers import (
    DOUBLING_KERNEL,
    PROFILES,
    change_document,
    diagnostics_for,
    open_document,
    start,
    test_settings,
    wait_for,
)
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

VALID = DOUBLING_KERNEL + "\n// fragment shader that mixes two colours\n"
COMMENT_END = types.Position(line=8, character=0)


def push_settings(client: LanguageClient, profile: str, settings: dict[str, Any]) -> None:
    """As the editor does: VS Code notifies and answers the server's workspace/configuration
    request; Neovim 0.7 (no workspace/configuration) sends the settings in the notification."""
    client.set_configuration({"tinyAgent": settings})
    pulls = client_capabilities(profile).workspace
    if pulls is not None and pulls.configuration:
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    else:
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"tinyAgent": settings})
        )


async def generated_labels(client: LanguageClient, uri: str) -> list[str]:
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=COMMENT_END
        )
    )
    assert isinstance(result, types.CompletionList)
    return [i.label for i in result.items if i.label.startswith("Tiny Agent")]


async def execute(client: LanguageClient, command: str, *arguments: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )


@pytest.mark.parametrize("profile", PROFILES)
async def test_changed_settings_change_behaviour(
    bare_client: LanguageClient, tmp_path: Path, profile: str
) -> None:
    client = bare_client
    first = {**test_settings(), "validateOn": "save", "completions": {"enabled": False}}
    await start(client, profile, tmp_path, first)
    uri = open_document(client, tmp_path / "s.wgsl", VALID)
    assert await diagnostics_for(client, uri) == []
    client.diagnostics.pop(uri)
    change_document(client, uri, VALID.replace("2.0;", "2.0"), 2)
    assert await generated_labels(client, uri) == []
    await asyncio.sleep(0.3)
    assert uri not in client.diagnostics, "validateOn=save: nothing while typing"

    second = {
        **test_settings(),
        "validateOn": "type",
        "debounceMs": 1500,
        "completions": {"enabled": True, "waitMs": 3000},
    }
    push_settings(client, profile, second)

    async def completions_on() -> bool:
        return bool(await generated_labels(client, uri))

    deadline = time.monotonic() + 30
    while not await completions_on():
        assert time.monotonic() < deadline, "completions.enabled=true was not applied"
        await asyncio.sleep(0.05)

    changed_at = time.monotonic()
    change_document(client, uri, VALID.replace("* 2.0", "* two"), 3)
    diagnostics = await diagnostics_for(client, uri)
    assert "two" in diagnostics[0].message, "validateOn=type: checked while typing"
    assert time.monotonic() - changed_at >= 1.4, "published before the 1500 ms debounce"

    push_settings(client, profile, {**second, "debounceMs": 50, "maxFileKb": 1})
    padded = VALID + "// padding\n" * 120
    for version in range(4, 100):
        client.diagnostics.pop(uri, None)
        change_document(client, uri, padded, version)
        codes = [d.code for d in await diagnostics_for(client, uri)]
        if codes == ["file-too-large"]:
            break
        assert version < 99, "maxFileKb=1 was not applied"
        await asyncio.sleep(0.05)
    (too_large,) = client.diagnostics[uri]
    assert "over the 1 KiB limit" in too_large.message

    push_settings(client, profile, {**second, "beams": "many"})
    await wait_for(lambda: any("tinyAgent.beams" in m.message for m in client.messages))
    warning = next(m for m in client.messages if "tinyAgent.beams" in m.message)
    assert warning.type == types.MessageType.Warning
    assert "keeping the default" in warning.message


async def test_workspace_configuration_wins_over_initialization_options(
    bare_client: LanguageClient, tmp_path: Path
) -> None:
    bare_client.set_configuration({"tinyAgent": {**test_settings(), "validateOn": "type"}})
    await bare_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=tmp_path.as_uri(),
            initialization_options={"tinyAgent": {**test_settings(), "validateOn": "save"}},
        )
    )
    uri = open_document(bare_client, tmp_path / "w.wgsl", VALID)
    assert await diagnostics_for(bare_client, uri) == []
    bare_client.diagnostics.pop(uri)
    change_document(bare_client, uri, VALID.replace("2.0;", "2.0"), 2)
    assert await diagnostics_for(bare_client, uri), "validated on type, as configured"


@pytest.mark.slow
@pytest.mark.parametrize("profile", PROFILES)
async def test_model_path_beams_and_max_tokens(
    bare_client: LanguageClient, slow_model: Path, tmp_path: Path, profile: str
) -> None:
    client = bare_client
    await start(client, profile, tmp_path)
    settings = {**test_settings(), "modelPath": str(slow_model), "beams": 1, "maxTokens": 12}
    push_settings(client, profile, settings)

    async def loaded(path: str) -> bool:
        info = await execute(client, "tinyAgent.modelInfo")
        return bool(info.get("path") == path and info["state"] == "ready")

    deadline = time.monotonic() + 60
    while not await loaded(str(slow_model)):
        assert time.monotonic() < deadline, "the modelPath setting was not applied"
        await asyncio.sleep(0.1)

    prompt = {"prompt": "compute shader that doubles every element"}
    short = await execute(client, "tinyAgent.generate", prompt)
    assert short["source"] == "model"
    assert 1 <= len(short["code"].split()) <= 12, short["code"]

    push_settings(client, profile, {**settings, "maxTokens": 30})
    for _ in range(100):
        longer = await execute(client, "tinyAgent.generate", prompt)
        if len(longer["code"].split()) > 12:
            break
        await asyncio.sleep(0.05)
    assert 12 < len(longer["code"].split()) <= 30, longer["code"]

    missing = tmp_path / "no-such-model"
    push_settings(client, profile, {**settings, "modelPath": str(missing)})
    deadline = time.monotonic() + 30
    while (info := await execute(client, "tinyAgent.modelInfo"))["state"] != "failed":
        assert time.monotonic() < deadline, info
        await asyncio.sleep(0.1)
    assert str(missing) in info["message"]
    uri = open_document(client, tmp_path / "m.wgsl", VALID)
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=COMMENT_END
        )
    )
    assert isinstance(result, types.CompletionList)
    (failed,) = [i for i in result.items if i.label.startswith("Tiny Agent")]
    assert failed.label == "Tiny Agent: model failed to load"
    assert failed.detail is not None and str(missing) in failed.detail
