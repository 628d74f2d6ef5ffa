"""naga's diagnostics as an editor receives them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsp_helpers import (
    DOUBLING_KERNEL,
    change_document,
    column,
    diagnostics_for,
    open_document,
    start,
    test_settings,
    wait_for,
)
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

VALID = DOUBLING_KERNEL

UNKNOWN_NAME = """\
fn brighten(colour: vec3<f32>) -> vec3<f32> {
    // ünïcödé 😀 before the error shifts UTF-16 columns
    let gain = 1.5; let x = "😀"; return color * gain;
}
"""


@pytest.mark.asyncio(loop_scope="module")
async def test_error_has_exact_range(shared_client: LanguageClient, tmp_path: Path) -> None:
    client = shared_client
    text = UNKNOWN_NAME.replace('let x = "😀"; ', "/* 😀 */ ")
    uri = open_document(client, tmp_path / "a.wgsl", text)
    diagnostics = await diagnostics_for(client, uri)
    assert len(diagnostics) == 1
    diagnostic = diagnostics[0]
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert "color" in diagnostic.message
    line = text.split("\n")[2]
    encoding = client.position_encoding  # type: ignore[attr-defined]
    start = column(line, line.index("color"), encoding)
    assert diagnostic.range.start == types.Position(line=2, character=start)
    assert diagnostic.range.end == types.Position(line=2, character=start + len("color"))


@pytest.mark.asyncio(loop_scope="module")
async def test_valid_shader_has_no_diagnostics(
    shared_client: LanguageClient, tmp_path: Path
) -> None:
    client = shared_client
    uri = open_document(client, tmp_path / "ok.wgsl", VALID)
    assert await diagnostics_for(client, uri) == []


@pytest.mark.asyncio(loop_scope="module")
async def test_related_information_from_naga_labels(
    shared_client: LanguageClient, tmp_path: Path
) -> None:
    client = shared_client
    text = "fn f() -> f32 {\n    let a = 1.0;\n    let a = 2.0;\n    return a;\n}\n"
    uri = open_document(client, tmp_path / "related.wgsl", text)
    diagnostics = await diagnostics_for(client, uri)
    assert [d.message for d in diagnostics] == ["redefinition of `a`"]
    assert diagnostics[0].range.start == types.Position(line=2, character=8)
    related = diagnostics[0].related_information
    assert related is not None and len(related) == 1
    assert related[0].location.uri == uri
    assert related[0].location.range.start == types.Position(line=1, character=8)
    assert "previous definition" in related[0].message


@pytest.mark.asyncio(loop_scope="module")
async def test_fix_clears_and_close_clears(shared_client: LanguageClient, tmp_path: Path) -> None:
    client = shared_client
    uri = open_document(client, tmp_path / "b.wgsl", VALID.replace("2.0;", "2.0"))
    assert await diagnostics_for(client, uri)
    client.diagnostics.pop(uri)
    change_document(client, uri, VALID, 2)
    assert await diagnostics_for(client, uri) == []
    change_document(client, uri, VALID.replace("2.0;", "2.0"), 3)
    await wait_for(lambda: bool(client.diagnostics.get(uri)))
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    await wait_for(lambda: client.diagnostics.get(uri) is not None and not client.diagnostics[uri])


@pytest.mark.asyncio(loop_scope="module")
async def test_burst_of_changes_publishes_only_the_latest(
    shared_client: LanguageClient, tmp_path: Path
) -> None:
    client = shared_client
    published: list[int | None] = []

    def record(params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        published.append(params.version)

    client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record

    uri = open_document(client, tmp_path / "burst.wgsl", VALID)
    await diagnostics_for(client, uri)
    published.clear()
    client.diagnostics.pop(uri)
    for version in range(2, 42):
        # every intermediate version is broken; only the last one is valid
        text = VALID if version == 41 else VALID.replace("2.0;", f"{version}.0")
        change_document(client, uri, text, version)
    assert await diagnostics_for(client, uri) == []
    await asyncio.sleep(0.3)
    assert published == [41]


async def test_validate_on_save_setting(bare_client: LanguageClient, tmp_path: Path) -> None:
    lsp_client = bare_client
    await start(
        lsp_client, "visual-studio-code", tmp_path, {**test_settings(), "validateOn": "save"}
    )
    uri = open_document(lsp_client, tmp_path / "s.wgsl", VALID)
    assert await diagnostics_for(lsp_client, uri) == []
    lsp_client.diagnostics.pop(uri)
    change_document(lsp_client, uri, VALID.replace("2.0;", "2.0"), 2)
    await asyncio.sleep(0.5)
    assert uri not in lsp_client.diagnostics, "no validation while typing"
    lsp_client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert await diagnostics_for(lsp_client, uri)


@pytest.mark.asyncio(loop_scope="module")
async def test_huge_file_is_skipped_with_a_message(
    shared_client: LanguageClient, tmp_path: Path
) -> None:
    client = shared_client
    huge = VALID + "\n".join(f"// filler line {n} " + "x" * 80 for n in range(40_000))
    uri = open_document(client, tmp_path / "huge.wgsl", huge)
    diagnostics = await diagnostics_for(client, uri)
    assert len(diagnostics) == 1
    assert diagnostics[0].code == "file-too-large"
    assert "maxFileKb" in diagnostics[0].message
    small = open_document(client, tmp_path / "small.wgsl", VALID.replace("2.0;", "2.0"))
    assert await diagnostics_for(client, small), "the server still checks other files"
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=4, character=5),
        )
    )
    assert hover is None


async def test_not_utf8_file_gets_a_clear_diagnostic(
    client: LanguageClient, tmp_path: Path
) -> None:
    raw = VALID.replace("fn main", "// caf\xe9 shader\nfn main").encode("latin-1")
    legacy = tmp_path / "latin1.wgsl"
    legacy.write_bytes(raw)
    # What VS Code sends for a Latin-1 file opened as UTF-8: U+FFFD replacement characters.
    uri = open_document(client, legacy, raw.decode("utf-8", errors="replace"))
    diagnostics = await diagnostics_for(client, uri)
    assert [d.code for d in diagnostics] == ["not-utf8"]
    assert diagnostics[0].range.start == types.Position(line=3, character=len("// caf"))
    assert "latin1.wgsl:4:7: byte 0xE9 is not UTF-8" in diagnostics[0].message
    assert "re-save the file as UTF-8" in diagnostics[0].message

    # A U+FFFD the file really holds (as UTF-8) is no encoding problem.
    genuine = tmp_path / "genuine.wgsl"
    genuine.write_text(VALID + "// \ufffd\n", encoding="utf-8")
    assert await diagnostics_for(client, open_document(client, genuine, genuine.read_text())) == []

    # Validating the workspace reads closed files from disk: the same message, no crash.
    (tmp_path / "closed").mkdir()
    (tmp_path / "closed" / "legacy.wgsl").write_bytes(raw)
    (tmp_path / "closed" / "broken.wgsl").write_text(VALID.replace("2.0;", "2.0"))
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="tinyAgent.validateWorkspace")
    )
    assert result["files"] == 4
    errors = {Path(entry["path"]).name: entry["errors"] for entry in result["invalid"]}
    assert set(errors) == {"legacy.wgsl", "broken.wgsl"}
    assert errors["legacy.wgsl"][0].startswith("legacy.wgsl:4:7: byte 0xE9 is not UTF-8")
    assert errors["broken.wgsl"][0].startswith("broken.wgsl:")
    assert "Validated 4 WGSL files: 2 with errors" in [m.message for m in client.messages]
    (token,) = [t for t in client.progress_reports if str(t).startswith("tinyAgent/validate/")]
    begin, *_, end = client.progress_reports[token]
    assert isinstance(begin, types.WorkDoneProgressBegin) and begin.title == "Validating WGSL files"
    assert isinstance(end, types.WorkDoneProgressEnd)
    assert end.message == "Validated 4 WGSL files: 2 with errors"
    closed_uri = (tmp_path / "closed" / "legacy.wgsl").as_uri()
    await wait_for(lambda: closed_uri in client.diagnostics)
    assert [d.code for d in client.diagnostics[closed_uri]] == ["not-utf8"]


@pytest.mark.asyncio(loop_scope="module")
async def test_large_file_is_validated(shared_client: LanguageClient, tmp_path: Path) -> None:
    functions = [
        f"fn scale{n}(x: f32) -> f32 {{\n    let y = x * {n}.0;\n    return y + 1.0;\n}}\n"
        for n in range(1250)
    ]
    text = "".join(functions) + "fn last() -> f32 {\n    return missing;\n}\n"
    assert text.count("\n") > 5000
    uri = open_document(shared_client, tmp_path / "large.wgsl", text)
    diagnostics = await diagnostics_for(shared_client, uri)
    assert [(d.range.start.line, d.range.start.character) for d in diagnostics] == [(5001, 11)]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.slow
async def test_validator_crash_on_one_file_keeps_server_answering(
    shared_client: LanguageClient, tmp_path: Path
) -> None:
    client = shared_client
    deep = "fn f() -> f32 {\n    return " + "(" * 20000 + "1.0" + ")" * 20000 + ";\n}\n"
    crash = open_document(client, tmp_path / "deep.wgsl", deep)
    other = open_document(client, tmp_path / "other.wgsl", VALID.replace("2.0;", "2.0"))
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=other),
            position=types.Position(line=0, character=48),
        )
    )
    assert hover is not None, "requests are answered while naga works on the deep file"
    crash_diagnostics = await diagnostics_for(client, crash, timeout=60)
    assert [d.code for d in crash_diagnostics] == ["validator-crash"]
    assert crash_diagnostics[0].severity == types.DiagnosticSeverity.Error
    assert "restarted" in crash_diagnostics[0].message
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=crash))
    )
    assert symbols is not None and [s.name for s in symbols] == ["f"]
    assert await diagnostics_for(client, other, timeout=60)
    client.diagnostics.pop(other)
    change_document(client, other, VALID, 2)
    assert await diagnostics_for(client, other, timeout=60) == [], "validation works again"


async def test_utf8_positions_when_the_client_prefers_them(
    bare_client: LanguageClient, tmp_path: Path
) -> None:
    """Neovim 0.10+ offers UTF-8 first; ranges are then counted in bytes."""
    bare_client.set_configuration({"tinyAgent": test_settings()})
    result = await bare_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim"),
            root_uri=tmp_path.as_uri(),
            initialization_options={"tinyAgent": test_settings()},
        )
    )
    assert result.capabilities.position_encoding == types.PositionEncodingKind.Utf8
    text = UNKNOWN_NAME.replace('let x = "😀"; ', "/* 😀 */ ")
    uri = open_document(bare_client, tmp_path / "utf8.wgsl", text)
    (diagnostic,) = await diagnostics_for(bare_client, uri)
    line = text.split("\n")[2]
    byte_col = len(line[: line.index("color")].encode("utf-8"))
    assert diagnostic.range.start == types.Position(line=2, character=byte_col)
    assert diagnostic.range.end == types.Position(line=2, character=byte_col + len("color"))
    use = len(line[: line.index("gain;")].encode("utf-8"))
    definition = await bare_client.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=2, character=use + 1),
        )
    )
    assert isinstance(definition, types.Location)
    assert definition.range.start == types.Position(line=2, character=len("    let "))
