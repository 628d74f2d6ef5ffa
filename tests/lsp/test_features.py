"""What a WGSL author expects from the server: symbols, hover, navigation, completion, fixes."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp_helpers import diagnostics_for, open_document, position_of
from lsprotocol import types
from pytest_lsp import LanguageClient

# These tests only read from the server: one server per profile serves the whole module.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture
def client(shared_client: LanguageClient) -> LanguageClient:
    return shared_client


SHADER = """\
// Particle state, one per invocation.
struct Particle {
    pos: vec2<f32>,
    vel: vec2<f32>,
}

@group(0) @binding(0) var<storage, read_write> particles: array<Particle>;
const SPEED: f32 = 2.0;

/* Moves one particle.
   Multi-line comment. */
fn advance(p: Particle, dt: f32) -> Particle {
    var q = p;
    q.pos = q.pos + q.vel * dt * SPEED;
    let bounded = clamp(q.pos.x, 0.0, 1.0);
    return q;
}

@vertex
fn vs(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
    return vec4<f32>(f32(i), 0.0, 0.0, 1.0);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let index = id.x;
    particles[index] = advance(particles[index], 0.1);
}
"""


def doc(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


async def test_document_symbols(client: LanguageClient, tmp_path: Path) -> None:
    uri = open_document(client, tmp_path / "p.wgsl", SHADER)
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=doc(uri))
    )
    assert symbols is not None
    by_name = {s.name: s for s in symbols}
    assert list(by_name) == ["Particle", "particles", "SPEED", "advance", "vs", "main"]
    particle = by_name["Particle"]
    assert isinstance(particle, types.DocumentSymbol)
    assert particle.kind == types.SymbolKind.Struct
    assert [c.name for c in particle.children or []] == ["pos", "vel"]
    assert by_name["main"].detail == "@compute entry point"
    assert by_name["vs"].detail == "@vertex entry point"
    assert by_name["advance"].detail == "fn(p: Particle, dt: f32) -> Particle"
    assert by_name["SPEED"].kind == types.SymbolKind.Constant
    assert by_name["main"].selection_range.start == position_of(SHADER, "main(")


async def test_hover_builtin_and_user_symbols(client: LanguageClient, tmp_path: Path) -> None:
    uri = open_document(client, tmp_path / "h.wgsl", SHADER)

    async def hover(needle: str, offset: int = 1) -> str:
        result = await client.text_document_hover_async(
            types.HoverParams(text_document=doc(uri), position=position_of(SHADER, needle, offset))
        )
        assert result is not None, needle
        assert isinstance(result.contents, types.MarkupContent)
        return result.contents.value

    clamp = await hover("clamp(")
    assert "clamp(e: T, low: T, high: T) -> T" in clamp
    assert "Restricts e to the range" in clamp
    assert "2-component vector" in await hover("vec2<f32>,")
    advance = await hover("advance(particles")
    assert "fn advance(p: Particle, dt: f32) -> Particle" in advance
    assert "const SPEED: f32 = 2.0" in await hover("SPEED;")
    assert "entry point" in await hover("main(")
    assert "workgroup dimensions" in await hover("workgroup_size")
    assert "id: vec3<u32>" in await hover("id.x", 0)


async def test_definition_references_rename(client: LanguageClient, tmp_path: Path) -> None:
    uri = open_document(client, tmp_path / "d.wgsl", SHADER)
    use = position_of(SHADER, "advance(particles")
    definition = await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc(uri), position=use)
    )
    assert isinstance(definition, types.Location)
    assert definition.range.start == position_of(SHADER, "advance(p:")

    refs = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc(uri),
            position=position_of(SHADER, "q = p", 0),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert refs is not None
    lines = [r.range.start.line for r in refs]
    assert lines == [12, 13, 13, 13, 14, 15], "q: declared, three uses, q.pos.x, return q"

    member_refs = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc(uri),
            position=position_of(SHADER, "pos: vec2"),
            context=types.ReferenceContext(include_declaration=False),
        )
    )
    assert member_refs is not None and len(member_refs) == 3

    edit = await client.text_document_rename_async(
        types.RenameParams(
            text_document=doc(uri), position=position_of(SHADER, "SPEED;"), new_name="RATE"
        )
    )
    assert edit is not None and edit.changes is not None
    edits = edit.changes[uri]
    assert len(edits) == 2 and all(e.new_text == "RATE" for e in edits)


async def test_completion_keywords_types_builtins_and_scope(
    client: LanguageClient, tmp_path: Path
) -> None:
    text = SHADER.replace("    return q;\n", "    let r = bo\n    return q;\n")
    uri = open_document(client, tmp_path / "c.wgsl", text)
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc(uri), position=position_of(text, "bo\n", 2))
    )
    assert isinstance(result, types.CompletionList)
    labels = {item.label: item for item in result.items}
    for expected in ("bounded", "q", "p", "dt", "SPEED", "advance", "Particle", "loop", "f32"):
        assert expected in labels, expected
    assert "index" not in labels, "locals of other functions are not in scope"
    clamp = labels["clamp"]
    snippets = client.capabilities is not None and bool(
        client.capabilities.text_document
        and client.capabilities.text_document.completion
        and client.capabilities.text_document.completion.completion_item
        and client.capabilities.text_document.completion.completion_item.snippet_support
    )
    if snippets:
        assert clamp.insert_text == "clamp(${1:e}, ${2:low}, ${3:high})"
        assert clamp.insert_text_format == types.InsertTextFormat.Snippet
    else:
        assert clamp.insert_text_format != types.InsertTextFormat.Snippet


async def test_completion_attributes_and_members(client: LanguageClient, tmp_path: Path) -> None:
    text = SHADER.replace("    return q;\n", "    q.\n    return q;\n") + "@\n"
    uri = open_document(client, tmp_path / "m.wgsl", text)
    members = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc(uri), position=position_of(text, "q.\n", 2))
    )
    assert isinstance(members, types.CompletionList)
    assert [i.label for i in members.items] == ["pos", "vel"]
    attrs = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=doc(uri),
            position=types.Position(line=text.count("\n") - 1, character=1),
        )
    )
    assert isinstance(attrs, types.CompletionList)
    labels = [i.label for i in attrs.items]
    assert {"compute", "workgroup_size", "location", "builtin", "group"} <= set(labels)


async def test_signature_help(client: LanguageClient, tmp_path: Path) -> None:
    uri = open_document(client, tmp_path / "s.wgsl", SHADER)
    help_ = await client.text_document_signature_help_async(
        types.SignatureHelpParams(
            text_document=doc(uri), position=position_of(SHADER, "0.0, 1.0);", 1)
        )
    )
    assert help_ is not None
    assert help_.signatures[0].label == "fn clamp(e: T, low: T, high: T) -> T"
    assert help_.active_parameter == 1
    user = await client.text_document_signature_help_async(
        types.SignatureHelpParams(text_document=doc(uri), position=position_of(SHADER, "0.1);"))
    )
    assert user is not None
    assert user.signatures[0].label == "fn advance(p: Particle, dt: f32) -> Particle"
    assert user.active_parameter == 1


async def test_folding_ranges(client: LanguageClient, tmp_path: Path) -> None:
    uri = open_document(client, tmp_path / "f.wgsl", SHADER)
    folds = await client.text_document_folding_range_async(
        types.FoldingRangeParams(text_document=doc(uri))
    )
    assert folds is not None
    spans = {(f.start_line, f.end_line, f.kind) for f in folds}
    assert (1, 3, types.FoldingRangeKind.Region) in spans  # struct body
    assert (11, 15, types.FoldingRangeKind.Region) in spans  # advance body
    assert (9, 10, types.FoldingRangeKind.Comment) in spans  # block comment


async def test_semantic_tokens(client: LanguageClient, tmp_path: Path) -> None:
    uri = open_document(client, tmp_path / "t.wgsl", SHADER)
    result = await client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=doc(uri))
    )
    assert result is not None
    data = result.data
    assert len(data) % 5 == 0 and len(data) > 100
    decoded: dict[tuple[int, int], tuple[int, int, int]] = {}
    line = col = 0
    for index in range(0, len(data), 5):
        delta_line, delta_col, length, kind, mods = data[index : index + 5]
        line += delta_line
        col = col + delta_col if delta_line == 0 else delta_col
        decoded[(line, col)] = (length, kind, mods)
    from engine.wgsl_analysis import SEMANTIC_TOKEN_TYPES as TYPES

    def kind_at(needle: str, offset: int = 0) -> str:
        pos = position_of(SHADER, needle, offset)
        return TYPES[decoded[(pos.line, pos.character)][1]]

    assert kind_at("struct Particle") == "keyword"
    assert kind_at("Particle {") == "struct"
    assert kind_at("advance(p") == "function"
    assert kind_at("p: Particle") == "parameter"
    assert kind_at("clamp(") == "function"
    assert kind_at("@compute") == "decorator"
    assert kind_at("vel * dt") == "property"
    assert kind_at("2.0;") == "number"
    assert kind_at("// Particle state") == "comment"


async def test_quick_fix_missing_fragment_location(client: LanguageClient, tmp_path: Path) -> None:
    text = "@fragment\nfn fs_main() -> vec4<f32> {\n    return vec4<f32>(1.0);\n}\n"
    uri = open_document(client, tmp_path / "q.wgsl", text)
    diagnostics = await diagnostics_for(client, uri)
    assert diagnostics and "bindings" in diagnostics[0].message
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc(uri),
            range=diagnostics[0].range,
            context=types.CodeActionContext(diagnostics=diagnostics),
        )
    )
    assert actions is not None
    fixes = [a for a in actions if isinstance(a, types.CodeAction) and a.edit]
    assert fixes and "@location(0)" in fixes[0].title
    assert fixes[0].edit is not None and fixes[0].edit.changes is not None
    (edit,) = fixes[0].edit.changes[uri]
    fixed = _apply(text, edit)
    assert "-> @location(0) vec4<f32>" in fixed
    client.diagnostics.pop(uri)
    from lsp_helpers import change_document

    change_document(client, uri, fixed, 2)
    assert await diagnostics_for(client, uri) == [], "the fix makes naga accept the shader"


async def test_quick_fixes_for_typo_and_semicolon(client: LanguageClient, tmp_path: Path) -> None:
    text = "fn f() -> f32 {\n    let colour = 1.0;\n    return color;\n}\n"
    uri = open_document(client, tmp_path / "typo.wgsl", text)
    diagnostics = await diagnostics_for(client, uri)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc(uri),
            range=diagnostics[0].range,
            context=types.CodeActionContext(diagnostics=diagnostics),
        )
    )
    assert actions is not None
    titles = [a.title for a in actions]
    assert "Change to `colour`" in titles
    semi = "fn f() -> f32 {\n    let a = 1.0\n    return a;\n}\n"
    uri2 = open_document(client, tmp_path / "semi.wgsl", semi)
    diagnostics = await diagnostics_for(client, uri2)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc(uri2),
            range=diagnostics[0].range,
            context=types.CodeActionContext(diagnostics=diagnostics),
        )
    )
    assert actions is not None
    fix = next(
        a for a in actions if isinstance(a, types.CodeAction) and a.title.startswith("Insert")
    )
    assert fix.edit is not None and fix.edit.changes is not None
    assert _apply(semi, fix.edit.changes[uri2][0]) == semi.replace("1.0\n", "1.0;\n")


def _apply(text: str, edit: types.TextEdit) -> str:
    lines = text.split("\n")
    start, end = edit.range.start, edit.range.end
    before = "\n".join([*lines[: start.line], lines[start.line][: start.character]])
    after = "\n".join([lines[end.line][end.character :], *lines[end.line + 1 :]])
    return before + edit.new_text + after


async def test_tolerates_half_written_code(client: LanguageClient, tmp_path: Path) -> None:
    text = "struct S {\n    a: f32,\n\nfn broken(x: f32 -> {\n    let y = x +\n\nfn ok() {}\n"
    uri = open_document(client, tmp_path / "broken.wgsl", text)
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=doc(uri))
    )
    assert symbols is not None
    assert [s.name for s in symbols] == ["S", "broken", "ok"]
    completion = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=doc(uri), position=types.Position(line=4, character=15)
        )
    )
    assert isinstance(completion, types.CompletionList)
    assert "x" in {i.label for i in completion.items}
