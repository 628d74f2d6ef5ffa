"""Code from comments: completion item, inline completion, code action, commands, cancellation."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any, Union

import pytest
from lsp_helpers import (
    PROFILES,
    diagnostics_for,
    open_document,
    start,
    test_settings,
    wait_for,
)
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient, client_capabilities

from engine.validator import validate_source

PROMPT = "// compute shader that blends two colour buffers"
BELOW = f"{PROMPT}\n\n"


def doc(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


def with_inline_completion(profile: str) -> types.ClientCapabilities:
    """The profile's capabilities plus inline completion, which no recorded profile declares."""
    capabilities = client_capabilities(profile)
    assert capabilities.text_document is not None
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    return capabilities


async def model_state(client: LanguageClient) -> str:
    info = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="tinyAgent.modelInfo")
    )
    return str(info["state"])


async def wait_until_ready(client: LanguageClient, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while (state := await model_state(client)) != "ready":
        assert state in ("loading", "unloaded"), f"model state {state}"
        assert time.monotonic() < deadline, "model did not load"
        await asyncio.sleep(0.1)


def read_code_actions_correctly(client: LanguageClient) -> None:
    """lsprotocol reads any code action that has a ``command`` as a bare Command; VS Code and
    Neovim look at the type of ``command`` instead, and so does this hook."""
    converter = client.protocol._converter

    def hook(obj: Any, _: type) -> types.Command | types.CodeAction:
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    converter.register_structure_hook(Union[types.Command, types.CodeAction], hook)  # noqa: UP007


def generated(items: list[types.CompletionItem]) -> list[types.CompletionItem]:
    return [i for i in items if i.label.startswith("Tiny Agent: ") and "…" not in i.label]


async def test_completion_item_from_comment_above(client: LanguageClient, tmp_path: Path) -> None:
    await wait_until_ready(client)
    uri = open_document(client, tmp_path / "gen.wgsl", BELOW)
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc(uri), position=types.Position(line=1, character=0))
    )
    assert isinstance(result, types.CompletionList)
    (item,) = generated(list(result.items))
    assert item.text_edit is not None and isinstance(item.text_edit, types.TextEdit)
    code = item.text_edit.new_text
    assert "@compute" in code
    assert validate_source(code).valid, code
    assert item.detail is not None and "naga: valid" in item.detail
    assert item.insert_text_format != types.InsertTextFormat.Snippet
    assert "loop" in {i.label for i in result.items}, "the ordinary items are there too"


async def test_completion_at_end_of_comment_line(client: LanguageClient, tmp_path: Path) -> None:
    await wait_until_ready(client)
    uri = open_document(client, tmp_path / "eol.wgsl", PROMPT + "\n")
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=doc(uri), position=types.Position(line=0, character=len(PROMPT))
        )
    )
    assert isinstance(result, types.CompletionList)
    (item,) = generated(list(result.items))
    assert isinstance(item.text_edit, types.TextEdit)
    # Replaces the word under the cursor with itself plus the code, so clients that filter
    # by the typed word (Neovim) keep the item.
    assert item.text_edit.range.start.character == len(PROMPT) - len("buffers")
    assert item.text_edit.new_text.startswith("buffers\n")


async def test_code_fits_into_the_file(client: LanguageClient, tmp_path: Path) -> None:
    await wait_until_ready(client)
    existing = (
        "@group(0) @binding(0) var<storage, read_write> data: array<f32>;\n\n"
        "@compute @workgroup_size(1)\nfn main() {\n}\n\n"
    )
    uri = open_document(client, tmp_path / "fit.wgsl", existing + BELOW)
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc(uri), position=types.Position(line=7, character=0))
    )
    assert isinstance(result, types.CompletionList)
    (item,) = generated(list(result.items))
    assert isinstance(item.text_edit, types.TextEdit)
    combined = existing + PROMPT + "\n" + item.text_edit.new_text
    assert validate_source(combined).valid, combined


async def test_completions_can_be_disabled(bare_client: LanguageClient, tmp_path: Path) -> None:
    await start(
        bare_client,
        "neovim@v0.7.0",
        tmp_path,
        {**test_settings(), "completions": {"enabled": False}},
    )
    uri = open_document(bare_client, tmp_path / "off.wgsl", BELOW)
    result = await bare_client.text_document_completion_async(
        types.CompletionParams(text_document=doc(uri), position=types.Position(line=1, character=0))
    )
    assert isinstance(result, types.CompletionList)
    assert not [i for i in result.items if i.label.startswith("Tiny Agent")]


async def test_inline_completion(bare_client: LanguageClient, tmp_path: Path) -> None:
    await start(
        bare_client,
        "visual-studio-code",
        tmp_path,
        capabilities=with_inline_completion("visual-studio-code"),
    )
    uri = open_document(bare_client, tmp_path / "inline.wgsl", BELOW)
    result = await bare_client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=doc(uri),
            position=types.Position(line=1, character=0),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic
            ),
        )
    )
    assert isinstance(result, types.InlineCompletionList)
    (item,) = result.items
    assert isinstance(item.insert_text, str) and "@compute" in item.insert_text
    assert validate_source(item.insert_text).valid


def apply_text_edit(text: str, edit: types.TextEdit) -> str:
    lines = text.split("\n")
    start, end = edit.range.start, edit.range.end
    offset = sum(len(line) + 1 for line in lines[: start.line]) + start.character
    stop = sum(len(line) + 1 for line in lines[: end.line]) + end.character
    return text[:offset] + edit.new_text + text[stop:]


@pytest.mark.parametrize("ending", ["\n", ""], ids=["newline", "comment-is-last-line"])
async def test_code_action_generates_and_inserts(
    client: LanguageClient, tmp_path: Path, ending: str
) -> None:
    await wait_until_ready(client)
    edits: list[types.ApplyWorkspaceEditParams] = []

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        edits.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    text = PROMPT + ending
    uri = open_document(client, tmp_path / "action.wgsl", text)
    read_code_actions_correctly(client)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc(uri),
            range=types.Range(
                start=types.Position(line=0, character=5), end=types.Position(line=0, character=5)
            ),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert actions is not None
    (action,) = [a for a in actions if a.title == "Generate WGSL from this comment"]
    assert isinstance(action, types.CodeAction) and action.command is not None
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=action.command.command, arguments=action.command.arguments
        )
    )
    assert result["valid"] is True
    (applied,) = edits
    assert applied.edit.changes is not None
    (edit,) = applied.edit.changes[uri]
    assert "@compute" in edit.new_text
    after = apply_text_edit(text, edit)
    assert after.split("\n")[0] == PROMPT, "the code went in above the comment"
    assert validate_source(after).valid


async def test_a_refused_insert_is_reported_not_an_internal_error(
    client: LanguageClient, tmp_path: Path
) -> None:
    await wait_until_ready(client)

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        return types.ApplyWorkspaceEditResult(applied=False, failure_reason="file is read-only")

    uri = open_document(client, tmp_path / "refused.wgsl", PROMPT + "\n")
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="tinyAgent.generate", arguments=[{"uri": uri, "line": 0}]
        )
    )
    assert result["error"].startswith("The generated code was not inserted")
    assert "file is read-only" in result["error"]
    assert "@compute" in result["code"], "the code is still returned, so it is not lost"
    await wait_for(lambda: any("not inserted" in m.message for m in client.messages))


async def test_generate_and_model_info_commands(client: LanguageClient) -> None:
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="tinyAgent.generate",
            arguments=[{"prompt": "fragment shader that mixes two colours"}],
        )
    )
    assert validate_source(result["code"]).valid
    assert result["source"] == "template"
    info = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="tinyAgent.modelInfo")
    )
    assert info["state"] == "ready" and info["kind"] == "template"
    bad = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="tinyAgent.generate", arguments=[{}])
    )
    assert "needs" in bad["error"]
    closed = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="tinyAgent.generate", arguments=[{"uri": "file:///nowhere.wgsl", "line": 0}]
        )
    )
    assert closed["error"] == "file:///nowhere.wgsl is not open"


@pytest.mark.slow
async def test_model_loading_is_announced(
    bare_client: LanguageClient, slow_model: Path, tmp_path: Path
) -> None:
    statuses: list[dict[str, Any]] = []

    @bare_client.feature("tinyAgent/status")
    def status(params: Any) -> None:
        statuses.append(params if isinstance(params, dict) else params._asdict())

    await start(
        bare_client, "neovim@v0.7.0", tmp_path, {**test_settings(), "modelPath": str(slow_model)}
    )
    uri = open_document(bare_client, tmp_path / "load.wgsl", BELOW)
    result = await bare_client.text_document_completion_async(
        types.CompletionParams(text_document=doc(uri), position=types.Position(line=1, character=0))
    )
    assert isinstance(result, types.CompletionList)
    assert "Tiny Agent: model loading…" in [i.label for i in result.items]
    assert result.is_incomplete
    await wait_until_ready(bare_client)
    await wait_for(lambda: [s.get("state") for s in statuses][-1:] == ["ready"])
    assert [s["state"] for s in statuses][:1] == ["loading"]
    assert all(s["model"] == str(slow_model) for s in statuses)


@pytest.mark.slow
async def test_completion_list_never_waits_for_the_model(
    bare_client: LanguageClient, slow_model: Path, tmp_path: Path
) -> None:
    settings = {
        **test_settings(),
        "modelPath": str(slow_model),
        "completions": {"waitMs": 100},
        "beams": 1,
        "maxTokens": 40,
    }
    await start(bare_client, "visual-studio-code", tmp_path, settings)
    await wait_until_ready(bare_client)
    uri = open_document(bare_client, tmp_path / "slow.wgsl", BELOW)
    params = types.CompletionParams(
        text_document=doc(uri), position=types.Position(line=1, character=0)
    )
    first = await bare_client.text_document_completion_async(params)
    assert isinstance(first, types.CompletionList)
    # Answered while the model still decodes: marked incomplete, with a placeholder item.
    assert first.is_incomplete
    assert "Tiny Agent: generating…" in [i.label for i in first.items]
    assert "loop" in {i.label for i in first.items}
    # The next request (the client re-asks because the list is incomplete) gets the code.
    deadline = time.monotonic() + 60
    while True:
        again = await bare_client.text_document_completion_async(params)
        assert isinstance(again, types.CompletionList)
        done = [i for i in again.items if i.label.startswith("Tiny Agent: ") and "…" not in i.label]
        if done:
            assert not again.is_incomplete
            break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)


@pytest.mark.slow
async def test_cancel_request_stops_decoding(
    bare_client: LanguageClient, slow_model: Path, tmp_path: Path
) -> None:
    settings = {**test_settings(), "modelPath": str(slow_model)}
    await start(
        bare_client,
        "visual-studio-code",
        tmp_path,
        settings,
        capabilities=with_inline_completion("visual-studio-code"),
    )
    await wait_until_ready(bare_client)
    uri = open_document(bare_client, tmp_path / "cancel.wgsl", BELOW)
    msg_id = str(uuid.uuid4())
    # pytest-lsp sends the request only once the coroutine runs: make it a task now.
    request = asyncio.ensure_future(
        bare_client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION,
            types.InlineCompletionParams(
                text_document=doc(uri),
                position=types.Position(line=1, character=0),
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Invoked
                ),
            ),
            msg_id=msg_id,
        )
    )
    await asyncio.sleep(0.3)
    bare_client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
    with pytest.raises(JsonRpcException):
        await request
    # Logged only when the decoding loop sees the stop flag, i.e. before it would have finished.
    await wait_for(
        lambda: any("stopped after" in m.message for m in bare_client.log_messages), timeout=10
    )
    hover = await bare_client.text_document_hover_async(
        types.HoverParams(text_document=doc(uri), position=types.Position(line=0, character=3))
    )
    assert hover is None  # answered (a comment has no hover) while nothing decodes


@pytest.mark.slow
@pytest.mark.parametrize("profile", PROFILES)
async def test_diagnostics_are_not_delayed_by_decoding(
    bare_client: LanguageClient, slow_model: Path, tmp_path: Path, profile: str
) -> None:
    settings = {**test_settings(), "modelPath": str(slow_model), "completions": {"waitMs": 50}}
    await start(bare_client, profile, tmp_path, settings)
    await wait_until_ready(bare_client)
    uri = open_document(bare_client, tmp_path / "decode.wgsl", BELOW)
    params = types.CompletionParams(
        text_document=doc(uri), position=types.Position(line=1, character=0)
    )

    async def still_decoding() -> bool:
        result = await bare_client.text_document_completion_async(params)
        assert isinstance(result, types.CompletionList)
        return "Tiny Agent: generating…" in [i.label for i in result.items]

    assert await still_decoding()
    broken = open_document(
        bare_client, tmp_path / "broken.wgsl", "fn f() -> f32 {\n    return missing;\n}\n"
    )
    diagnostics = await diagnostics_for(bare_client, broken)
    assert diagnostics and "missing" in diagnostics[0].message
    assert await still_decoding(), "the diagnostics came while the model was still decoding"
