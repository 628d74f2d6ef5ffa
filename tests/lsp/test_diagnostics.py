"""naga's diagnostics as an editor receives them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsp_helpers import (
    change_document,
    diagnostics_for,
    open_document,
    start,
    test_settings,
    wait_for,
)
from lsprotocol import types
from pytest_lsp import LanguageClient

VALID = """\
@group(0) @binding(0) var<storage, read_write> data: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    data[id.x] = data[id.x] * 2.0;
}
"""

UNKNOWN_NAME = """\
fn brighten(colour: vec3<f32>) -> vec3<f32> {
    // ünïcödé 😀 before the error shifts UTF-16 columns
    let gain = 1.5; let x = "😀"; return color * gain;
}
"""


async def test_error_has_exact_utf16_range(client: LanguageClient, tmp_path: Path) -> None:
    text = UNKNOWN_NAME.replace('let x = "😀"; ', "/* 😀 */ ")
    uri = open_document(client, tmp_path / "a.wgsl", text)
    diagnostics = await diagnostics_for(client, uri)
    assert len(diagnostics) == 1
    diagnostic = diagnostics[0]
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert "color" in diagnostic.message
    line = text.split("\n")[2]
    utf16_col = len(line[: line.index("color")].encode("utf-16-le")) // 2
    assert diagnostic.range.start == types.Position(line=2, character=utf16_col)
    assert diagnostic.range.end == types.Position(line=2, character=utf16_col + len("color"))


async def test_valid_shader_has_no_diagnostics(client: LanguageClient, tmp_path: Path) -> None:
    uri = open_document(client, tmp_path / "ok.wgsl", VALID)
    assert await diagnostics_for(client, uri) == []


async def test_related_information_from_naga_labels(client: LanguageClient, tmp_path: Path) -> None:
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


async def test_fix_clears_and_close_clears(client: LanguageClient, tmp_path: Path) -> None:
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


async def test_burst_of_changes_publishes_only_the_latest(
    client: LanguageClient, tmp_path: Path
) -> None:
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


async def test_huge_file_is_skipped_with_a_message(client: LanguageClient, tmp_path: Path) -> None:
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
    # What an editor sends for a Latin-1 file opened as UTF-8: U+FFFD replacement characters.
    raw = VALID.replace("fn main", "// caf\xe9 shader\nfn main").encode("latin-1")
    text = raw.decode("utf-8", errors="replace")
    uri = open_document(client, tmp_path / "latin1.wgsl", text)
    diagnostics = await diagnostics_for(client, uri)
    codes = [d.code for d in diagnostics]
    assert codes == ["not-utf8"]
    assert diagnostics[0].range.start.line == 3
    assert "UTF-8" in diagnostics[0].message


@pytest.mark.slow
async def test_validator_crash_on_one_file_keeps_server_answering(
    client: LanguageClient, tmp_path: Path
) -> None:
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
    assert crash_diagnostics and crash_diagnostics[0].severity == types.DiagnosticSeverity.Error
    assert await diagnostics_for(client, other, timeout=60)
    client.diagnostics.pop(other)
    change_document(client, other, VALID, 2)
    assert await diagnostics_for(client, other, timeout=60) == [], "validation works again"
