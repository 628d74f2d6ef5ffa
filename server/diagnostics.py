"""naga diagnostics for open documents: debounced, off the event loop, stale results dropped.

Each document has at most one pending check. A new edit cancels the pending one (while it
sleeps out the debounce, or while naga runs: the result is then thrown away), so only the
latest version is ever published. Validation runs in a thread that talks to the validator's
worker process, so a slow or crashing naga never blocks other requests.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from lsprotocol import types
from pygls.uris import to_fs_path

from server.positions import PositionMapper

if TYPE_CHECKING:
    from engine.validator import Diagnostic, ValidationResult

log = logging.getLogger(__name__)

SOURCE = "naga"


class DocumentSource(Protocol):
    """What the checker needs to know about an open document."""

    def document(self, uri: str) -> tuple[str, int | None] | None:
        """The text and version of ``uri`` if it is still open."""

    def encoding(self) -> str | None: ...


@dataclass(frozen=True)
class Precheck:
    """Problems found before naga sees the text; ``validate`` False skips naga."""

    diagnostics: list[types.Diagnostic]
    validate: bool


def precheck(
    text: str, max_bytes: int, mapper: PositionMapper, path: Path | None = None
) -> Precheck:
    """Catch what naga should never be asked about: huge files and text that is not UTF-8.

    A client that opened a file with invalid UTF-8 sends U+FFFD replacement characters (or
    lone surrogates); naga would report confusing errors far from the real problem. When the
    document is a file on disk, its bytes say exactly which byte is wrong (and whether a
    U+FFFD is really a replacement character or was written on purpose).
    """
    start = types.Range(
        start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)
    )
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        return Precheck(
            [
                types.Diagnostic(
                    range=start,
                    severity=types.DiagnosticSeverity.Information,
                    source=SOURCE,
                    code="file-too-large",
                    message=(
                        f"This file is {size / 1024:.0f} KiB, over the {max_bytes // 1024} KiB "
                        "limit: it is not validated or analysed. Raise tinyAgent.maxFileKb to "
                        "check it anyway."
                    ),
                )
            ],
            validate=False,
        )
    bad_at = _first_bad_character(text)
    if bad_at is not None:
        line, col, surrogate = bad_at
        message = (
            f"Line {line + 1} holds bytes that are not UTF-8 (the editor shows them as a "
            "replacement character). WGSL source must be UTF-8: re-save the file as UTF-8."
        )
        on_disk = undecodable_byte(path) if path is not None else None
        if on_disk == "valid":
            return Precheck([], validate=True)  # the file really contains U+FFFD
        if on_disk is not None:
            line, message = on_disk
            col = (
                next((i for i, c in enumerate(mapper.lines[line]) if c == "\ufffd"), 0)
                if line < len(mapper.lines)
                else 0
            )
        where = types.Range(start=mapper.to_client(line, col), end=mapper.to_client(line, col + 1))
        return Precheck(
            [
                types.Diagnostic(
                    range=where,
                    severity=types.DiagnosticSeverity.Error
                    if surrogate
                    else types.DiagnosticSeverity.Warning,
                    source=SOURCE,
                    code="not-utf8",
                    message=message,
                )
            ],
            validate=not surrogate,
        )
    return Precheck([], validate=True)


def undecodable_byte(path: Path) -> tuple[int, str] | Literal["valid"] | None:
    """The 0-based line of the first byte of ``path`` that is not UTF-8 and a message that
    names file, line, byte and the fix; "valid" if the file decodes; None if unreadable."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start)
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return line, (
            f"{path.name}:{line + 1}:{column}: byte 0x{data[exc.start]:02X} is not UTF-8 (the "
            "file was probably saved as Latin-1 or another legacy encoding). WGSL source must "
            "be UTF-8: re-save the file as UTF-8."
        )
    return "valid"


def _first_bad_character(text: str) -> tuple[int, int, bool] | None:
    if text.isascii():
        return None
    for index, char in enumerate(text):
        if char == "\ufffd" or "\ud800" <= char <= "\udfff":
            line = text.count("\n", 0, index)
            col = index - (text.rfind("\n", 0, index) + 1)
            return line, col, char != "\ufffd"
    return None


def to_lsp(diagnostic: Diagnostic, mapper: PositionMapper, uri: str) -> types.Diagnostic:
    """An engine diagnostic in the client's units; naga's extra labels become related info."""
    severity = {
        "error": types.DiagnosticSeverity.Error,
        "warning": types.DiagnosticSeverity.Warning,
        "information": types.DiagnosticSeverity.Information,
    }.get(diagnostic.severity, types.DiagnosticSeverity.Error)
    related = [
        types.DiagnosticRelatedInformation(
            location=types.Location(uri=uri, range=_range(info.range, mapper)),
            message=info.message,
        )
        for info in diagnostic.related
    ]
    return types.Diagnostic(
        range=_range(diagnostic.range, mapper),
        severity=severity,
        source=SOURCE,
        code=diagnostic.code,
        message=diagnostic.message,
        related_information=related or None,
    )


def _range(source_range: Any, mapper: PositionMapper) -> types.Range:
    return types.Range(
        start=mapper.to_client(source_range.start_line, source_range.start_col),
        end=mapper.to_client(source_range.end_line, source_range.end_col),
    )


class DiagnosticsScheduler:
    """Schedules and publishes validation of open documents."""

    def __init__(
        self,
        documents: DocumentSource,
        validate: Callable[[str], ValidationResult],
        publish: Callable[[str, int | None, list[types.Diagnostic]], None],
        max_bytes: Callable[[], int],
    ) -> None:
        self._documents = documents
        self._validate = validate
        self._publish = publish
        self._max_bytes = max_bytes
        self._pending: dict[str, asyncio.Task[None]] = {}
        self.last_duration_s: float = 0.0

    def schedule(self, uri: str, version: int | None, delay_s: float) -> None:
        """Check ``uri`` at ``version`` after ``delay_s``; supersedes any pending check."""
        self.cancel(uri)
        task = asyncio.get_running_loop().create_task(self._check(uri, version, delay_s))
        self._pending[uri] = task
        task.add_done_callback(lambda done: self._forget(uri, done))

    def _forget(self, uri: str, task: asyncio.Task[None]) -> None:
        if self._pending.get(uri) is task:
            del self._pending[uri]

    def cancel(self, uri: str) -> None:
        task = self._pending.pop(uri, None)
        if task is not None:
            task.cancel()

    async def _check(self, uri: str, version: int | None, delay_s: float) -> None:
        if delay_s > 0:
            await asyncio.sleep(delay_s)
        current = self._documents.document(uri)
        if current is None or current[1] != version:
            return
        text = current[0]
        mapper = PositionMapper(text.split("\n"), self._documents.encoding())
        path = Path(to_fs_path(uri) or "") if uri.startswith("file:") else None
        checked = precheck(text, self._max_bytes(), mapper, path)
        diagnostics = list(checked.diagnostics)
        if checked.validate:
            started = time.perf_counter()
            try:
                result = await asyncio.to_thread(self._validate, text)
                diagnostics.extend(to_lsp(d, mapper, uri) for d in result.diagnostics)
            except Exception as exc:  # the validator must never take the server down
                log.exception("validation of %s failed", uri)
                diagnostics.append(
                    types.Diagnostic(
                        range=types.Range(
                            start=types.Position(line=0, character=0),
                            end=types.Position(line=0, character=0),
                        ),
                        severity=types.DiagnosticSeverity.Error,
                        source=SOURCE,
                        code="validator-error",
                        message=(
                            f"The validator failed on this file ({type(exc).__name__}: {exc}). "
                            "Other files are still checked; edit or save to try again."
                        ),
                    )
                )
            self.last_duration_s = time.perf_counter() - started
        latest = self._documents.document(uri)
        if latest is None or latest[1] != version:
            log.debug("dropping diagnostics for %s version %s: document changed", uri, version)
            return
        self._publish(uri, version, diagnostics)
