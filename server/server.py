"""The Tiny Agent language server: registers the LSP handlers and translates.

Every handler turns LSP params into a call on :mod:`engine.wgsl_analysis`, the validator or
the generator, and the result back into LSP types. Nothing here analyses WGSL. Heavy imports
(torch, wgpu) happen in background threads after ``initialized``; ``initialize`` is answered
straight away.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from engine import __version__
from engine.wgsl_analysis import (
    SEMANTIC_TOKEN_MODIFIERS,
    SEMANTIC_TOKEN_TYPES,
    Analysis,
    CompletionCandidate,
    Position,
    Span,
    Symbol,
)
from server.diagnostics import DiagnosticsScheduler, to_lsp, undecodable_byte
from server.model_service import GenerationJob, ModelService
from server.positions import PositionMapper
from server.settings import SECTION, Settings, merge_settings
from server.training import TrainingOutcome, TrainingRequest, TrainingRun

if TYPE_CHECKING:
    from engine.generate import GenerationResult
    from engine.validator import ValidationResult

log = logging.getLogger(__name__)

STATUS_NOTIFICATION = "tinyAgent/status"
CMD_TRAIN = "tinyAgent.train"
CMD_STOP_TRAINING = "tinyAgent.stopTraining"
CMD_GENERATE = "tinyAgent.generate"
CMD_VALIDATE_WORKSPACE = "tinyAgent.validateWorkspace"
CMD_MODEL_INFO = "tinyAgent.modelInfo"
LOADING_LABEL = "Tiny Agent: model loading…"
GENERATING_LABEL = "Tiny Agent: generating…"
_MAX_WORKSPACE_FILES = 2000


class TinyAgentServer(LanguageServer):
    """Server state: settings, per-document analyses, the checker, the model, training."""

    def __init__(self) -> None:
        super().__init__("tiny-agent-trainer", __version__)
        self.settings = Settings()
        self._initial = Settings()
        self._analyses: dict[str, tuple[int | None, Analysis]] = {}
        self.model = ModelService(self._send_status, self._log_to_client)
        self.checks = DiagnosticsScheduler(
            documents=self,
            validate=self._validate,
            publish=self._publish,
            max_bytes=lambda: self.settings.max_file_kb * 1024,
        )
        self.training: TrainingRun | None = None
        self.trained_model: str | None = None
        """The model the last finished training wrote; used until the modelPath setting changes."""
        self._progress_count = 0
        self._validator: Any = None

    # -- documents -------------------------------------------------------------------------
    def document(self, uri: str) -> tuple[str, int | None] | None:
        if uri not in self.workspace.text_documents:
            return None
        doc = self.workspace.get_text_document(uri)
        return doc.source, doc.version

    def encoding(self) -> str | None:
        encoding = self.workspace.position_encoding
        return None if encoding is None else str(encoding)

    def analysis(self, uri: str) -> tuple[Analysis, PositionMapper] | None:
        """The analysis of the document's current version (cached), or None if too large."""
        current = self.document(uri)
        if current is None:
            return None
        text, version = current
        if len(text) > self.settings.max_file_kb * 1024:
            return None
        cached = self._analyses.get(uri)
        if cached is None or cached[0] != version or version is None:
            cached = (version, Analysis(text))
            self._analyses[uri] = cached
        analysis = cached[1]
        return analysis, PositionMapper(analysis.lines, self.encoding())

    def forget(self, uri: str) -> None:
        self._analyses.pop(uri, None)

    # -- validation ------------------------------------------------------------------------
    def _validate(self, text: str) -> ValidationResult:
        """Runs in a worker thread (the Validator is thread-safe)."""
        if self._validator is None:
            from engine.validator import default_validator

            self._validator = default_validator()
        result: ValidationResult = self._validator.validate(text)
        return result

    def _publish(self, uri: str, version: int | None, diagnostics: list[types.Diagnostic]) -> None:
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=diagnostics)
        )

    def _send_status(self, payload: dict[str, Any]) -> None:
        try:
            self.protocol.notify(STATUS_NOTIFICATION, payload)
        except Exception:  # before the connection is up there is nobody to tell
            log.debug("status not sent: %s", payload)

    def _log_to_client(self, message: str) -> None:
        self.window_log_message(
            types.LogMessageParams(type=types.MessageType.Info, message=message)
        )

    def supports(self, path: str) -> bool:
        """Whether the client declared a capability, e.g. ``"window.work_done_progress"``."""
        value: Any = self.client_capabilities
        for part in path.split("."):
            value = getattr(value, part, None)
            if value is None:
                return False
        return bool(value)

    def markup_kind(self, path: str) -> types.MarkupKind:
        value: Any = self.client_capabilities
        for part in path.split("."):
            value = getattr(value, part, None)
            if value is None:
                return types.MarkupKind.PlainText
        return (
            types.MarkupKind.Markdown
            if types.MarkupKind.Markdown in value
            else types.MarkupKind.PlainText
        )

    @property
    def model_path(self) -> str | None:
        """The model in use: a freshly trained one, else the modelPath setting."""
        return self.trained_model or self.settings.model_path

    def apply_settings(self, data: Any, source: str) -> None:
        """Settings = defaults, then ``initializationOptions``, then the latest settings from
        the client (each such object is complete: a key it lacks is back to its default)."""
        previous = self.settings
        if source == "initializationOptions":
            self._initial, problems = merge_settings(Settings(), data)
            self.settings = self._initial
        else:
            self.settings, problems = merge_settings(self._initial, data)
        for problem in problems:
            self.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=problem)
            )
        if previous.model_path != self.settings.model_path:
            self.trained_model = None
            if self.model.state != "unloaded" and self.settings.completions_enabled:
                self.model.load(self.model_path)
        log.info("settings from %s: %s", source, self.settings)


server = TinyAgentServer()


def _span_to_range(mapper: PositionMapper, span: Span) -> types.Range:
    return mapper.span(span)


# -- lifecycle ---------------------------------------------------------------------------------
@server.feature(types.INITIALIZE)
def on_initialize(ls: TinyAgentServer, params: types.InitializeParams) -> None:
    ls.apply_settings(params.initialization_options, "initializationOptions")


@server.feature(types.INITIALIZED)
async def on_initialized(ls: TinyAgentServer, params: types.InitializedParams) -> None:
    if ls.supports("workspace.configuration"):
        try:
            values = await ls.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])
            )
            if values:
                ls.apply_settings(values[0], "workspace/configuration")
        except Exception as exc:
            log.warning("workspace/configuration failed: %s", exc)
    asyncio.get_running_loop().create_task(_warm_validator(ls))
    if ls.settings.completions_enabled:
        ls.model.ensure_loading(ls.model_path)


async def _warm_validator(ls: TinyAgentServer) -> None:
    started = time.perf_counter()
    try:
        await asyncio.to_thread(ls._validate, "fn warm_up() {}\n")
        log.info("validator ready in %.1fs", time.perf_counter() - started)
    except Exception as exc:
        log.warning("validator warm-up failed: %s", exc)


@server.feature(types.SHUTDOWN)
async def on_shutdown(ls: TinyAgentServer, params: None) -> None:
    """Decoding stops; a running training stops as if cancelled (its checkpoint is kept)."""
    ls.model.stop_all()
    if ls.training is not None:
        ls.training.stop()
        await ls.training.wait_stopped(timeout_s=30)


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def on_did_change_configuration(
    ls: TinyAgentServer, params: types.DidChangeConfigurationParams
) -> None:
    if isinstance(params.settings, dict) and params.settings:
        ls.apply_settings(params.settings, "didChangeConfiguration")
        return
    if ls.supports("workspace.configuration"):
        values = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])
        )
        if values:
            ls.apply_settings(values[0], "workspace/configuration")


# -- diagnostics -------------------------------------------------------------------------------
@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def on_did_open(ls: TinyAgentServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.checks.schedule(params.text_document.uri, params.text_document.version, 0.0)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def on_did_change(ls: TinyAgentServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.forget(params.text_document.uri)
    if ls.settings.validate_on == "type":
        ls.checks.schedule(
            params.text_document.uri,
            params.text_document.version,
            ls.settings.debounce_ms / 1000,
        )


@server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
def on_did_save(ls: TinyAgentServer, params: types.DidSaveTextDocumentParams) -> None:
    current = ls.document(params.text_document.uri)
    if current is not None:
        ls.checks.schedule(params.text_document.uri, current[1], 0.0)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def on_did_close(ls: TinyAgentServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.checks.cancel(uri)
    ls.forget(uri)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


# -- navigation --------------------------------------------------------------------------------
_SYMBOL_KINDS = {
    "function": types.SymbolKind.Function,
    "struct": types.SymbolKind.Struct,
    "member": types.SymbolKind.Field,
    "var": types.SymbolKind.Variable,
    "const": types.SymbolKind.Constant,
    "override": types.SymbolKind.Constant,
    "let": types.SymbolKind.Variable,
    "alias": types.SymbolKind.TypeParameter,
    "param": types.SymbolKind.Variable,
}


def _document_symbol(symbol: Symbol, mapper: PositionMapper) -> types.DocumentSymbol:
    detail = symbol.type_text or ""
    if symbol.stage:
        detail = f"@{symbol.stage} entry point"
    elif symbol.kind == "function":
        params = ", ".join(p.declaration for p in symbol.params)
        detail = f"fn({params})" + (f" -> {symbol.return_type}" if symbol.return_type else "")
    full = mapper.span(symbol.span)
    selection = mapper.span(symbol.name_span)
    return types.DocumentSymbol(
        name=symbol.name,
        kind=_SYMBOL_KINDS[symbol.kind],
        range=full,
        selection_range=selection,
        detail=detail or None,
        children=[_document_symbol(child, mapper) for child in symbol.children] or None,
    )


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def on_document_symbol(
    ls: TinyAgentServer, params: types.DocumentSymbolParams
) -> list[types.DocumentSymbol] | list[types.SymbolInformation] | None:
    found = ls.analysis(params.text_document.uri)
    if found is None:
        return None
    analysis, mapper = found
    if ls.supports("text_document.document_symbol.hierarchical_document_symbol_support"):
        return [_document_symbol(s, mapper) for s in analysis.document_symbols()]
    return [
        types.SymbolInformation(
            name=s.name,
            kind=_SYMBOL_KINDS[s.kind],
            location=types.Location(uri=params.text_document.uri, range=mapper.span(s.span)),
        )
        for s in analysis.document_symbols()
    ]


@server.feature(types.TEXT_DOCUMENT_HOVER)
def on_hover(ls: TinyAgentServer, params: types.HoverParams) -> types.Hover | None:
    found = ls.analysis(params.text_document.uri)
    if found is None:
        return None
    analysis, mapper = found
    info = analysis.hover(mapper.from_client(params.position))
    if info is None:
        return None
    kind = ls.markup_kind("text_document.hover.content_format")
    value = info.markdown if kind == types.MarkupKind.Markdown else _plain(info.markdown)
    return types.Hover(
        contents=types.MarkupContent(kind=kind, value=value), range=mapper.span(info.span)
    )


def _plain(markdown: str) -> str:
    return "\n".join(line for line in markdown.split("\n") if not line.startswith("```"))


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def on_definition(ls: TinyAgentServer, params: types.DefinitionParams) -> types.Location | None:
    found = ls.analysis(params.text_document.uri)
    if found is None:
        return None
    analysis, mapper = found
    span = analysis.definition(mapper.from_client(params.position))
    if span is None:
        return None
    return types.Location(uri=params.text_document.uri, range=mapper.span(span))


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
def on_references(ls: TinyAgentServer, params: types.ReferenceParams) -> list[types.Location]:
    found = ls.analysis(params.text_document.uri)
    if found is None:
        return []
    analysis, mapper = found
    spans = analysis.references(
        mapper.from_client(params.position), params.context.include_declaration
    )
    return [types.Location(uri=params.text_document.uri, range=mapper.span(s)) for s in spans]


@server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
def on_prepare_rename(
    ls: TinyAgentServer, params: types.PrepareRenameParams
) -> types.PrepareRenamePlaceholder | None:
    found = ls.analysis(params.text_document.uri)
    if found is None:
        return None
    analysis, mapper = found
    symbol = analysis.symbol_at(mapper.from_client(params.position))
    if symbol is None:
        return None
    token, _ = symbol
    return types.PrepareRenamePlaceholder(range=mapper.span(token.span), placeholder=token.text)


@server.feature(types.TEXT_DOCUMENT_RENAME)
def on_rename(ls: TinyAgentServer, params: types.RenameParams) -> types.WorkspaceEdit | None:
    found = ls.analysis(params.text_document.uri)
    if found is None:
        return None
    analysis, mapper = found
    edits = analysis.rename(mapper.from_client(params.position), params.new_name)
    if edits is None:
        return None
    return types.WorkspaceEdit(
        changes={
            params.text_document.uri: [
                types.TextEdit(range=mapper.span(e.span), new_text=e.new_text) for e in edits
            ]
        }
    )


@server.feature(types.TEXT_DOCUMENT_FOLDING_RANGE)
def on_folding_range(
    ls: TinyAgentServer, params: types.FoldingRangeParams
) -> list[types.FoldingRange] | None:
    found = ls.analysis(params.text_document.uri)
    if found is None:
        return None
    analysis, _ = found
    return [
        types.FoldingRange(
            start_line=fold.start_line,
            end_line=fold.end_line,
            kind=types.FoldingRangeKind.Comment
            if fold.kind == "comment"
            else types.FoldingRangeKind.Region,
        )
        for fold in analysis.folding_ranges()
    ]


@server.feature(
    types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL,
    types.SemanticTokensLegend(
        token_types=list(SEMANTIC_TOKEN_TYPES), token_modifiers=list(SEMANTIC_TOKEN_MODIFIERS)
    ),
)
def on_semantic_tokens(
    ls: TinyAgentServer, params: types.SemanticTokensParams
) -> types.SemanticTokens:
    found = ls.analysis(params.text_document.uri)
    if found is None:
        return types.SemanticTokens(data=[])
    analysis, mapper = found
    data: list[int] = []
    previous_line = 0
    previous_start = 0
    type_index = {name: index for index, name in enumerate(SEMANTIC_TOKEN_TYPES)}
    modifier_bit = {name: 1 << index for index, name in enumerate(SEMANTIC_TOKEN_MODIFIERS)}
    for token in analysis.semantic_tokens():
        start = mapper.to_client(token.line, token.col).character
        length = mapper.length(token.line, token.col, token.length)
        delta_line = token.line - previous_line
        delta_start = start - previous_start if delta_line == 0 else start
        bits = 0
        for modifier in token.modifiers:
            bits |= modifier_bit[modifier]
        data += [delta_line, delta_start, length, type_index[token.type], bits]
        previous_line, previous_start = token.line, start
    return types.SemanticTokens(data=data)


@server.feature(
    types.TEXT_DOCUMENT_SIGNATURE_HELP,
    types.SignatureHelpOptions(trigger_characters=["(", ","], retrigger_characters=[","]),
)
def on_signature_help(
    ls: TinyAgentServer, params: types.SignatureHelpParams
) -> types.SignatureHelp | None:
    found = ls.analysis(params.text_document.uri)
    if found is None:
        return None
    analysis, mapper = found
    info = analysis.signature_help(mapper.from_client(params.position))
    if info is None:
        return None
    return types.SignatureHelp(
        signatures=[
            types.SignatureInformation(
                label=info.label,
                documentation=info.documentation or None,
                parameters=[types.ParameterInformation(label=p) for p in info.parameters],
            )
        ],
        active_signature=0,
        active_parameter=info.active_parameter,
    )


# -- completion --------------------------------------------------------------------------------
_COMPLETION_KINDS = {
    "keyword": types.CompletionItemKind.Keyword,
    "type": types.CompletionItemKind.Class,
    "function": types.CompletionItemKind.Function,
    "builtin": types.CompletionItemKind.Function,
    "variable": types.CompletionItemKind.Variable,
    "struct": types.CompletionItemKind.Struct,
    "member": types.CompletionItemKind.Field,
    "attribute": types.CompletionItemKind.Property,
    "value": types.CompletionItemKind.EnumMember,
    "param": types.CompletionItemKind.Variable,
    "constant": types.CompletionItemKind.Constant,
}


def _completion_item(
    candidate: CompletionCandidate, snippets: bool, sort_group: str
) -> types.CompletionItem:
    item = types.CompletionItem(
        label=candidate.label,
        kind=_COMPLETION_KINDS[candidate.kind],
        detail=candidate.detail or None,
        documentation=candidate.documentation or None,
        sort_text=f"{sort_group}{candidate.label}",
    )
    if candidate.snippet and snippets:
        item.insert_text = candidate.snippet
        item.insert_text_format = types.InsertTextFormat.Snippet
    return item


def _indent(code: str, indent: str) -> str:
    if not indent:
        return code
    return "\n".join(indent + line if line.strip() else line for line in code.split("\n"))


@server.feature(
    types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", "@"])
)
async def on_completion(
    ls: TinyAgentServer, params: types.CompletionParams
) -> types.CompletionList | None:
    """Keyword, type, builtin and name items at once; generated code only if already cheap.

    The list never waits for the model longer than ``completions.waitMs``: when decoding is
    still running, the list is marked incomplete and the next request picks the code up.
    """
    found = ls.analysis(params.text_document.uri)
    if found is None:
        return None
    analysis, mapper = found
    position = mapper.from_client(params.position)
    snippets = ls.supports("text_document.completion.completion_item.snippet_support")
    items = [_completion_item(c, snippets, "1") for c in analysis.completions(position)]
    prompt = analysis.comment_prompt(position) if ls.settings.completions_enabled else None
    if prompt is None:
        return types.CompletionList(is_incomplete=False, items=items)
    generated, incomplete = await _generated_completion(ls, params, analysis, mapper, position)
    items = generated + items if prompt else items
    return types.CompletionList(is_incomplete=incomplete, items=items)


async def _generated_completion(
    ls: TinyAgentServer,
    params: types.CompletionParams,
    analysis: Analysis,
    mapper: PositionMapper,
    position: Position,
) -> tuple[list[types.CompletionItem], bool]:
    prompt = analysis.comment_prompt(position)
    assert prompt is not None
    word_start = position.col
    line_text = analysis.lines[position.line]
    while word_start > 0 and (
        line_text[word_start - 1].isalnum() or line_text[word_start - 1] == "_"
    ):
        word_start -= 1
    word = line_text[word_start : position.col]
    edit_range = types.Range(
        start=mapper.to_client(position.line, word_start),
        end=mapper.to_client(position.line, position.col),
    )

    def status_item(label: str, detail: str) -> types.CompletionItem:
        # Selecting it changes nothing: it re-inserts the word the cursor is on.
        return types.CompletionItem(
            label=label,
            kind=types.CompletionItemKind.Text,
            detail=detail,
            sort_text="0",
            filter_text=word or label,
            text_edit=types.TextEdit(range=edit_range, new_text=word),
        )

    if ls.model.state in ("unloaded", "loading"):
        ls.model.ensure_loading(ls.model_path)
        return [status_item(LOADING_LABEL, "Code from comments is ready in a few seconds")], True
    if ls.model.state == "failed":
        return [status_item("Tiny Agent: model failed to load", ls.model.error or "")], False
    job = _start_job(ls, params.text_document.uri, analysis, prompt.prompt)
    if job.task is not None and not job.done:
        await asyncio.wait({job.task}, timeout=ls.settings.completion_wait_ms / 1000)
    result = job.result()
    if result is not None and not result.code.strip():
        job.error, result = "the model produced no code for this comment", None
    if result is None:
        if job.done:
            reason = job.error or "stopped"
            return [status_item("Tiny Agent: no code generated", reason)], False
        return [status_item(GENERATING_LABEL, f"Writing code for: {prompt.prompt}")], True
    code = _indent(result.code.rstrip("\n"), prompt.indent)
    at_comment_end = position.line == prompt.comment.end.line
    new_text = f"{word}\n{code}\n" if at_comment_end else f"{code}\n"
    documentation_kind = ls.markup_kind(
        "text_document.completion.completion_item.documentation_format"
    )
    documentation = (
        f"```wgsl\n{code}\n```" if documentation_kind == types.MarkupKind.Markdown else code
    )
    item = types.CompletionItem(
        label=f"Tiny Agent: {prompt.prompt[:50]}",
        kind=types.CompletionItemKind.Snippet,
        detail=_verdict(result),
        documentation=types.MarkupContent(kind=documentation_kind, value=documentation),
        sort_text="0",
        filter_text=word or prompt.prompt,
        insert_text_format=types.InsertTextFormat.PlainText,
        text_edit=types.TextEdit(range=edit_range, new_text=new_text),
    )
    return [item], False


def _verdict(result: GenerationResult) -> str:
    origin = "model" if result.source == "model" else "template"
    if result.valid:
        return f"generated by the {origin}; naga: valid"
    first = result.diagnostics[0].message if result.diagnostics else "invalid"
    return f"generated by the {origin}; naga: {first.splitlines()[0]}"


def _start_job(ls: TinyAgentServer, uri: str, analysis: Analysis, prompt: str) -> GenerationJob:
    return ls.model.job(
        uri,
        prompt,
        analysis.text,
        beams=ls.settings.beams,
        max_tokens=ls.settings.max_tokens,
    )


@server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
async def on_inline_completion(
    ls: TinyAgentServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList | None:
    """Ghost text for the comment at the cursor; waits for the model, stops on cancel."""
    if not ls.settings.completions_enabled:
        return None
    found = ls.analysis(params.text_document.uri)
    if found is None:
        return None
    analysis, mapper = found
    position = mapper.from_client(params.position)
    prompt = analysis.comment_prompt(position)
    if prompt is None:
        return None
    ls.model.ensure_loading(ls.model_path)
    job = _start_job(ls, params.text_document.uri, analysis, prompt.prompt)
    assert job.task is not None
    try:
        result = await asyncio.shield(job.task)
    except asyncio.CancelledError:
        job.stop.set()
        log.info("inline completion cancelled; decoding stopped")
        raise
    if result is None or not result.code.strip():
        return None
    code = _indent(result.code.rstrip("\n"), prompt.indent)
    at_comment_end = position.line == prompt.comment.end.line
    text = f"\n{code}" if at_comment_end else code
    here = mapper.to_client(position.line, position.col)
    return types.InlineCompletionList(
        items=[
            types.InlineCompletionItem(insert_text=text, range=types.Range(start=here, end=here))
        ]
    )


# -- code actions ------------------------------------------------------------------------------
@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite]
    ),
)
def on_code_action(
    ls: TinyAgentServer, params: types.CodeActionParams
) -> list[types.CodeAction] | None:
    found = ls.analysis(params.text_document.uri)
    if found is None:
        return None
    analysis, mapper = found
    uri = params.text_document.uri
    actions: list[types.CodeAction] = []
    for diagnostic in params.context.diagnostics:
        if diagnostic.source != "naga":
            continue
        span = Span(
            mapper.from_client(diagnostic.range.start), mapper.from_client(diagnostic.range.end)
        )
        for fix in analysis.quick_fixes(diagnostic.message, span):
            actions.append(
                types.CodeAction(
                    title=fix.title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    is_preferred=len(actions) == 0,
                    edit=types.WorkspaceEdit(
                        changes={
                            uri: [
                                types.TextEdit(range=mapper.span(e.span), new_text=e.new_text)
                                for e in fix.edits
                            ]
                        }
                    ),
                )
            )
    if ls.settings.completions_enabled:
        start = mapper.from_client(params.range.start)
        line_end = Position(
            start.line, len(analysis.lines[start.line]) if start.line < len(analysis.lines) else 0
        )
        prompt = analysis.comment_prompt(line_end)
        if prompt is not None:
            actions.append(
                types.CodeAction(
                    title="Generate WGSL from this comment",
                    kind=types.CodeActionKind.RefactorRewrite,
                    command=types.Command(
                        title="Generate WGSL from this comment",
                        command=CMD_GENERATE,
                        arguments=[{"uri": uri, "line": prompt.comment.end.line}],
                    ),
                )
            )
    return actions


# -- commands ----------------------------------------------------------------------------------
@server.command(CMD_GENERATE)
async def cmd_generate(ls: TinyAgentServer, *args: Any) -> dict[str, Any]:
    """``[{"prompt": "..."}]`` returns code; ``[{"uri": ..., "line": n}]`` also inserts it
    below the comment that ends on line ``n``."""
    options = args[0] if args and isinstance(args[0], dict) else {}
    uri = options.get("uri")
    prompt_text = options.get("prompt")
    insert_at: types.Position | None = None
    context = ""
    indent = ""
    lead = ""
    if isinstance(uri, str):
        found = ls.analysis(uri)
        if found is None:
            return {"error": f"{uri} is not open"}
        analysis, mapper = found
        line = options.get("line", 0)
        if isinstance(line, bool) or not isinstance(line, int) or line < 0:
            return {"error": f"tinyAgent.generate: line must be a line number, got {line!r}"}
        line_end = Position(line, len(analysis.lines[line]) if line < len(analysis.lines) else 0)
        prompt = analysis.comment_prompt(line_end)
        if prompt is None:
            return {"error": f"line {line + 1} is not a // comment"}
        prompt_text = prompt.prompt
        context = analysis.text
        indent = prompt.indent
        if prompt.insert_at.line < len(analysis.lines):
            insert_at = mapper.to_client(prompt.insert_at.line, 0)
        else:  # the comment is the last line and has no newline: code goes after it
            last = len(analysis.lines) - 1
            insert_at = mapper.to_client(last, len(analysis.lines[last]))
            lead = "\n"
    if not isinstance(prompt_text, str) or not prompt_text.strip():
        return {
            "error": 'tinyAgent.generate needs [{"prompt": "..."}] or [{"uri": ..., "line": n}]'
        }
    ls.model.ensure_loading(ls.model_path)
    job = ls.model.job(
        uri if isinstance(uri, str) else "",
        prompt_text,
        context,
        beams=ls.settings.beams,
        max_tokens=ls.settings.max_tokens,
    )
    assert job.task is not None
    result = await asyncio.shield(job.task)
    if result is None:
        message = f"No code generated: {job.error or 'stopped'}"
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Error, message=message)
        )
        return {"error": message}
    code = _indent(result.code.rstrip("\n"), indent)
    if insert_at is not None and isinstance(uri, str):
        refused = await _apply_edit(
            ls,
            types.ApplyWorkspaceEditParams(
                label="Generate WGSL from this comment",
                edit=types.WorkspaceEdit(
                    changes={
                        uri: [
                            types.TextEdit(
                                range=types.Range(start=insert_at, end=insert_at),
                                new_text=lead + code + "\n",
                            )
                        ]
                    }
                ),
            ),
        )
        if refused is not None:
            message = f"The generated code was not inserted: {refused}"
            ls.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=message)
            )
            return {"error": message, "code": code, "valid": result.valid}
    return {
        "code": code,
        "valid": result.valid,
        "source": result.source,
        "diagnostics": [d.message for d in result.diagnostics],
    }


async def _apply_edit(ls: TinyAgentServer, params: types.ApplyWorkspaceEditParams) -> str | None:
    """Asks the client to apply an edit; returns why it was not applied, or None when it was."""
    try:
        response = await ls.workspace_apply_edit_async(params)
    except Exception as exc:  # the client refused the request itself (e.g. -32603)
        return f"the editor refused the edit ({exc})"
    if not response.applied:
        return response.failure_reason or "the editor did not apply the edit"
    return None


@server.command(CMD_MODEL_INFO)
def cmd_model_info(ls: TinyAgentServer, *args: Any) -> dict[str, Any]:
    info = ls.model.describe()
    info["training"] = ls.training is not None
    return info


@server.command(CMD_VALIDATE_WORKSPACE)
async def cmd_validate_workspace(ls: TinyAgentServer, *args: Any) -> dict[str, Any]:
    """Validates every ``*.wgsl`` under the workspace folders and publishes the diagnostics."""
    roots = [Path(p) for p in _workspace_roots(ls)]
    files: list[Path] = []
    for root in roots:
        for path in sorted(root.rglob("*.wgsl")):
            inside = path.relative_to(root).parts
            if any(part.startswith(".") or part == "node_modules" for part in inside):
                continue
            files.append(path)
            if len(files) >= _MAX_WORKSPACE_FILES:
                break
    invalid: list[dict[str, Any]] = []
    progress = await _CancellableProgress.begin(ls, "validate", "Validating WGSL files")
    checked = 0
    for path in files:
        if progress.cancelled:
            break
        progress.report(f"{checked}/{len(files)} · {path.name}", 100 * checked // len(files))
        checked += 1
        uri = path.as_uri()
        current = ls.document(uri)
        if current is not None:
            ls.checks.schedule(uri, current[1], 0.0)  # publishes, as for any open document
            text = current[0]
        else:
            try:
                text = path.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                found = undecodable_byte(path)
                line, message = found if isinstance(found, tuple) else (0, f"{path}: not UTF-8")
                invalid.append({"path": str(path), "errors": [message]})
                _publish_one(ls, uri, line, "not-utf8", message)
                continue
            except OSError as exc:
                invalid.append({"path": str(path), "errors": [f"{path}: cannot read: {exc}"]})
                continue
        if len(text) > ls.settings.max_file_kb * 1024:
            message = f"{path.name}: over the {ls.settings.max_file_kb} KiB limit, not validated"
            invalid.append({"path": str(path), "errors": [message]})
            continue
        try:
            result = await asyncio.to_thread(ls._validate, text)
        except Exception as exc:  # one bad file must not end the whole run
            message = f"{path.name}: the validator failed ({type(exc).__name__}: {exc})"
            invalid.append({"path": str(path), "errors": [message]})
            if current is None:
                _publish_one(ls, uri, 0, "validator-error", message)
            continue
        if current is None:
            mapper = PositionMapper(text.split("\n"), ls.encoding())
            ls.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=uri, diagnostics=[to_lsp(d, mapper, uri) for d in result.diagnostics]
                )
            )
        if not result.valid:
            invalid.append(
                {
                    "path": str(path),
                    "errors": [
                        f"{path.name}:{d.range.start_line + 1}:{d.range.start_col + 1}: {d.message}"
                        for d in result.diagnostics
                        if d.severity == "error"
                    ],
                }
            )
    summary = f"Validated {len(files)} WGSL files: {len(invalid)} with errors"
    if progress.cancelled:
        summary = (
            f"Validation stopped after {checked} of {len(files)} files: {len(invalid)} with errors"
        )
    progress.end(summary)
    ls.window_show_message(
        types.ShowMessageParams(
            type=types.MessageType.Warning if invalid else types.MessageType.Info, message=summary
        )
    )
    return {"files": len(files), "invalid": invalid}


class _CancellableProgress:
    """``$/progress`` for a server-side task, when the client supports it; ``cancelled`` turns
    true when the user presses Cancel."""

    def __init__(self, ls: TinyAgentServer, token: str | None) -> None:
        self.ls = ls
        self.token = token
        self._last = 0.0

    @classmethod
    async def begin(cls, ls: TinyAgentServer, kind: str, title: str) -> _CancellableProgress:
        if not ls.supports("window.work_done_progress"):
            return cls(ls, None)
        ls._progress_count += 1
        token = f"tinyAgent/{kind}/{ls._progress_count}"
        try:
            await ls.work_done_progress.create_async(token)
        except Exception as exc:
            log.warning("client refused a progress token: %s", exc)
            return cls(ls, None)
        ls.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title=title, cancellable=True, percentage=0)
        )
        return cls(ls, token)

    @property
    def cancelled(self) -> bool:
        future = self.ls.work_done_progress.tokens.get(self.token) if self.token else None
        return future is not None and future.cancelled()

    def report(self, message: str, percentage: int) -> None:
        now = time.perf_counter()
        if self.token is None or now - self._last < 0.1:
            return
        self._last = now
        self.ls.work_done_progress.report(
            self.token, types.WorkDoneProgressReport(message=message, percentage=percentage)
        )

    def end(self, message: str) -> None:
        if self.token is not None:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))


def _publish_one(ls: TinyAgentServer, uri: str, line: int, code: str, message: str) -> None:
    at = types.Position(line=line, character=0)
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(
            uri=uri,
            diagnostics=[
                types.Diagnostic(
                    range=types.Range(start=at, end=at),
                    severity=types.DiagnosticSeverity.Error,
                    source="naga",
                    code=code,
                    message=message,
                )
            ],
        )
    )


def _workspace_roots(ls: TinyAgentServer) -> list[str]:
    roots = [to_fs_path(f.uri) for f in ls.workspace.folders.values()]
    if not roots and ls.workspace.root_path:
        roots = [ls.workspace.root_path]
    return [r for r in roots if r]


@server.command(CMD_STOP_TRAINING)
def cmd_stop_training(ls: TinyAgentServer, *args: Any) -> dict[str, Any]:
    if ls.training is None:
        return {"stopped": False, "reason": "no training is running"}
    ls.training.stop()
    return {"stopped": True}


@server.command(CMD_TRAIN)
async def cmd_train(ls: TinyAgentServer, *args: Any) -> dict[str, Any]:
    """Starts ``train --progress json`` in a child process and returns at once.

    Arguments: ``[{"config": "path.toml", "epochs": 2, "workspace": true}]`` (or positional
    ``[config, epochs, workspace]``). Progress arrives as ``$/progress`` on the returned token;
    the final metrics as ``window/showMessage``.
    """
    if ls.training is not None:
        message = (
            f"Training {ls.training.request.config.name} is already running: wait for it to "
            "finish or cancel it (tinyAgent.stopTraining) before starting another."
        )
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=message)
        )
        return {"started": False, "reason": message}
    roots = _workspace_roots(ls)
    try:
        request = TrainingRequest.from_arguments(list(args), Path(roots[0]) if roots else None)
    except ValueError as exc:
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Error, message=str(exc))
        )
        return {"started": False, "reason": str(exc)}
    if ls.settings.device != "auto":
        request.device = ls.settings.device
    ls._progress_count += 1
    token = f"tinyAgent/train/{ls._progress_count}"
    reporter = _TrainingReporter(ls, token)
    run = TrainingRun(request, reporter.on_event)
    ls.training = run
    asyncio.get_running_loop().create_task(_train(ls, run, reporter))
    return {"started": True, "token": token, "command": request.display_command()}


class _TrainingReporter:
    """Turns the trainer's JSON events into ``$/progress`` reports and the status payload."""

    def __init__(self, ls: TinyAgentServer, token: str) -> None:
        self.ls = ls
        self.token = token
        self.use_progress = False
        self._last_report = 0.0

    async def begin(self, run: TrainingRun) -> None:
        if not self.ls.supports("window.work_done_progress"):
            return
        progress = self.ls.work_done_progress
        try:
            await progress.create_async(self.token)
        except Exception as exc:
            log.warning("client refused a progress token: %s", exc)
            return
        self.use_progress = True
        progress.begin(
            self.token,
            types.WorkDoneProgressBegin(
                title=f"Training {run.request.config.name}",
                cancellable=True,
                message="starting",
                percentage=0,
            ),
        )
        future = progress.tokens.get(self.token)
        if future is not None:
            future.add_done_callback(lambda f: run.stop() if f.cancelled() else None)

    def report(self, message: str, percentage: int | None = None) -> None:
        if self.use_progress:
            self.ls.work_done_progress.report(
                self.token, types.WorkDoneProgressReport(message=message, percentage=percentage)
            )

    def end(self, message: str) -> None:
        if self.use_progress:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "start":
            message = (
                f"{event.get('train_examples')} pairs, {event.get('total_steps')} steps "
                f"on {event.get('device')}"
            )
            if "workspace_pairs" in event:
                mined = int(event["workspace_pairs"])
                message += f" ({mined} pair{'' if mined == 1 else 's'} from your shaders)"
            self.report(message, 0)
        elif kind == "step":
            total = max(int(event.get("total_steps") or 1), 1)
            percentage = min(100, int(100 * int(event.get("step") or 0) / total))
            now = time.perf_counter()
            if now - self._last_report < 0.2 and percentage < 100:
                return
            self._last_report = now
            self.ls.model.set_state("training", percentage)
            message = (
                f"epoch {event.get('epoch')}/{event.get('num_epochs')} · "
                f"loss {float(event.get('loss') or 0.0):.3f}"
            )
            eta = event.get("eta_s")
            if isinstance(eta, (int, float)) and eta >= 1:
                message += f" · {_duration(eta)} left"
            self.report(message, percentage)
        elif kind == "epoch":
            val = event.get("val_loss")
            message = f"epoch {event.get('epoch')} done · train loss " + (
                f"{float(event.get('train_loss') or 0.0):.3f}"
                + (f" · val loss {float(val):.3f}" if val is not None else "")
            )
            self.report(message)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


async def _train(ls: TinyAgentServer, run: TrainingRun, reporter: _TrainingReporter) -> None:
    await reporter.begin(run)
    ls.model.set_state("training", 0)
    try:
        outcome = await run.run()
    except Exception as exc:
        log.exception("training failed")
        outcome = TrainingOutcome("failed", message=f"{type(exc).__name__}: {exc}")
    finally:
        ls.training = None
    summary = _training_summary(run.request, outcome)
    if outcome.status == "finished" and outcome.checkpoint:
        ls.trained_model = outcome.checkpoint
        await ls.model.load(outcome.checkpoint)
        if ls.model.state == "ready":
            summary += f" Completions now use it ({outcome.checkpoint})."
        else:
            summary += f" The new model did not load: {ls.model.error}"
    else:
        ls.model.set_state(
            "ready"
            if ls.model.generator is not None
            else ("failed" if ls.model.error else "unloaded")
        )
    reporter.end(summary)
    kind = types.MessageType.Error if outcome.status == "failed" else types.MessageType.Info
    ls.window_show_message(types.ShowMessageParams(type=kind, message=summary))


_SHOWN_METRICS = (
    ("val_loss", "val loss", "{:.3f}"),
    ("val_token_accuracy", "token accuracy", "{:.1%}"),
    ("val_naga_valid_rate", "naga-valid", "{:.0%}"),
    ("heldout_exact_match", "held-out exact match", "{:.1%}"),
    ("heldout_naga_valid_rate", "held-out naga-valid", "{:.0%}"),
    ("epochs_run", "epochs", "{}"),
    ("train_seconds_this_run", "time", "{:.0f} s"),
)


def _training_summary(request: TrainingRequest, outcome: TrainingOutcome) -> str:
    if outcome.status == "finished":
        shown = [
            f"{label} {fmt.format(outcome.metrics[key])}"
            for key, label, fmt in _SHOWN_METRICS
            if isinstance(outcome.metrics.get(key), (int, float))
        ]
        return f"Training finished: {', '.join(shown) or 'no metrics'}."
    if outcome.status == "interrupted":
        resume = f"tiny-agent-trainer train --config {request.config} --resume"
        if request.workspace is not None:
            resume += f" --workspace {request.workspace}"
        if outcome.checkpoint is None:
            return "Training stopped before its first step; nothing was saved."
        return (
            f"Training stopped; checkpoint kept in {outcome.checkpoint} (continue with "
            f"`{resume}`). Completions keep using the current model."
        )
    message = f"Training failed: {outcome.message}"
    if request.device is not None:
        message += f' (the tinyAgent.device setting asks for "{request.device}")'
    return message


def main(tcp: tuple[str, int] | None = None) -> None:
    """Run the server over stdio (default) or TCP."""
    if tcp is not None:
        server.start_tcp(*tcp)
    else:
        server.start_io()
