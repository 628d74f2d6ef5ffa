"""WGSL validation with naga (through wgpu), in a worker process, with exact source ranges.

naga is native code: some inputs crash it (a few thousand nested parentheses overflow its stack),
so the wgpu device lives in a worker process (:mod:`engine.validator_worker`). A crash or a
timeout costs only that process: the caller gets a diagnostic saying so and the next request
starts a fresh worker.

wgpu reports naga's errors only as text (wgpu-native does not implement compilation info, and
the error is raised before a module object exists): naga's message and a codespan-style snippet
(``┌─ wgsl:3:5``, the source lines, ``^^^`` underlines with labels, ``= notes``).
:func:`diagnostics_from_error` turns that text back into ranges in the Python string. The
``line:column`` in the header counts characters, but the underlines are drawn in terminal cells
(tabs to the next multiple of 4, East Asian wide characters and emoji two cells), so the
source line itself is used to map them back to characters. Where naga gives several labels, the
range is the innermost (of disjoint ones, the last: the redefinition, not the previous
definition); the others become related information. A label covering a whole function or struct
is narrowed to the member or name the message is about (the member missing a binding, the
second of two clashing locations or repeated built-ins, the member with a bad ``@interpolate``).
Where naga gives no label (entry-point interface errors, missing capabilities, ``&&``/``||`` on
non-booleans), the range is the most specific place the message names: the parameter, the return
type, the attribute, the type, the operator, else the entry point's name.

Columns everywhere are 0-based indices into the Python ``str`` of the line (code points); LSP
wants UTF-16 code units: :func:`utf16_column`. Lines are split on ``"\\n"`` only, as naga does.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

log = logging.getLogger(__name__)

Severity = Literal["error", "warning", "information"]


@dataclass(frozen=True)
class SourceRange:
    """A span of source: 0-based lines; columns are 0-based indices into the Python str line."""

    start_line: int
    start_col: int
    end_line: int
    end_col: int


@dataclass(frozen=True)
class RelatedInfo:
    """Another place naga points at for the same error (a previous definition, the function)."""

    range: SourceRange
    message: str


@dataclass(frozen=True)
class Diagnostic:
    """One problem. ``message`` is naga's own text (it may hold ``note:`` lines after the first).

    ``code`` says where it comes from: ``naga`` (the shader is wrong), ``missing-feature`` (the
    adapter lacks what the shader needs), ``validator-crash`` / ``validator-timeout`` (naga died
    or hung on this input; the worker was restarted), ``validator-unavailable`` (no wgpu adapter).
    """

    severity: Severity
    message: str
    range: SourceRange
    related: tuple[RelatedInfo, ...] = ()
    code: str = "naga"


@dataclass(frozen=True)
class ValidationResult:
    """The verdict on one source text and the adapter (e.g. ``llvmpipe (Vulkan, CPU)``) used."""

    diagnostics: tuple[Diagnostic, ...]
    adapter: str

    @property
    def valid(self) -> bool:
        """True when no diagnostic has error severity."""
        return not any(d.severity == "error" for d in self.diagnostics)


@dataclass(frozen=True)
class AdapterInfo:
    """A wgpu adapter as ``check`` shows it; ``name`` is the short form used in results."""

    name: str
    backend: str
    adapter_type: str
    features: tuple[str, ...]
    device: str = ""
    description: str = ""

    @property
    def label(self) -> str:
        """``name (backend, type)``, e.g. ``llvmpipe (Vulkan, CPU)``."""
        return f"{self.name} ({self.backend}, {self.adapter_type})"


def _adapter_from_record(record: dict[str, Any]) -> AdapterInfo:
    device = str(record.get("device", ""))
    name = re.sub(r"\s*\(.*\)\s*$", "", device) or device or "unknown adapter"
    return AdapterInfo(
        name=name,
        backend=str(record.get("backend", "")),
        adapter_type=str(record.get("adapter_type", "")),
        features=tuple(str(f) for f in record.get("features", ())),
        device=device,
        description=str(record.get("description", "")),
    )


def utf16_column(line_text: str, col: int) -> int:
    """Convert a code-point column of ``line_text`` to UTF-16 code units (what LSP counts).

    Columns past the end of the line count one unit per missing character.
    """
    head = line_text[:col]
    extra = max(0, col - len(line_text))
    return len(head) + sum(1 for ch in head if ord(ch) > 0xFFFF) + extra


# --------------------------------------------------------------------------------------------
# Reading naga's rendered diagnostics back into ranges.

_TAB_WIDTH = 4  # codespan-reporting's default, which naga uses


def _char_width(ch: str) -> int:
    """Terminal cells for one character, as codespan-reporting (unicode-width) counts them."""
    code = ord(ch)
    if code < 0x20 or 0x7F <= code < 0xA0:
        return 0
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0 if code != 0xAD else 1
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 2
    return 1


class _LineMetrics:
    """Display columns of one source line, so that underline positions map back to indices."""

    def __init__(self, text: str) -> None:
        self.text = text
        if text.isascii() and text.isprintable():
            self.starts: list[int] = list(range(len(text)))
            self.width = len(text)
            self.rendered = text
            return
        starts: list[int] = []
        column = 0
        pieces: list[str] = []
        for ch in text:
            starts.append(column)
            width = _TAB_WIDTH - column % _TAB_WIDTH if ch == "\t" else _char_width(ch)
            pieces.append(" " * width if ch == "\t" else ch)
            column += width
        self.starts = starts
        self.width = column
        self.rendered = "".join(pieces)

    def index_at(self, display_col: int) -> int:
        """The index of the character drawn at ``display_col`` (past the end: extrapolated)."""
        if display_col >= self.width:
            return len(self.text) + (display_col - self.width)
        lo, hi = 0, len(self.starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.starts[mid] <= display_col:
                lo = mid
            else:
                hi = mid - 1
        return lo


@dataclass
class _Label:
    start: tuple[int, int]
    end: tuple[int, int]
    message: str
    order: int = 0

    def contains(self, other: _Label) -> bool:
        return (
            self.start <= other.start
            and other.end <= self.end
            and (self.start, self.end) != (other.start, other.end)
        )


@dataclass
class _Rendered:
    kind: Literal["parse", "validation", "other"]
    headline: str
    labels: list[_Label] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    locus: tuple[int, int] | None = None


_LOCUS = re.compile(r"^\s*┌─ .*?:(\d+):(\d+)\s*$")
_SOURCE_ROW = re.compile(r"^\s*(\d+) │(?: (.*))?$")
_ANNOTATION_ROW = re.compile(r"^\s*│(?: (.*))?$")
_ELISION = re.compile(r"^\s*·(?:\s.*)?$")
_NOTE = re.compile(r"^\s*= (.*)$")
_PARSE_HEAD = re.compile(r"^Shader '.*?' parsing error: (.*)$")
_VALIDATION_HEAD = re.compile(r"^Shader validation error: (.*)$")


def _strip_wrapping(text: str) -> str:
    """Drop wgpu's ``Validation Error / Caused by / In wgpuDeviceCreateShaderModule`` lines."""
    marker = "In wgpuDeviceCreateShaderModule"
    at = text.find(marker)
    if at >= 0:
        text = text[at + len(marker) :]
    elif text.startswith("Validation Error"):
        text = text[len("Validation Error") :].replace("Caused by:", "", 1)
    return text.strip("\n").lstrip()


def _split_lines(source: str) -> list[str]:
    lines = source.split("\n")
    if "\r" in source:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines


class _SnippetReader:
    """Reads codespan's rich snippet rows; every label becomes a :class:`_Label`."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.metrics: dict[int, _LineMetrics] = {}
        self.labels: list[_Label] = []
        self.gutter = 0
        self.gutter_known = False
        self.open: dict[int, tuple[int, int]] = {}
        self.current_line = -1
        self.single_rows: list[str] = []

    def line_metrics(self, line: int) -> _LineMetrics:
        if line not in self.metrics:
            text = self.lines[line] if 0 <= line < len(self.lines) else ""
            self.metrics[line] = _LineMetrics(text)
        return self.metrics[line]

    def source_row(self, number: int, text: str) -> None:
        self.flush_single()
        self.current_line = number - 1
        metrics = self.line_metrics(self.current_line)
        shown = metrics.rendered.rstrip()
        if not self.gutter_known and shown and text.endswith(shown):
            self.gutter = len(text) - len(shown)
            self.gutter_known = True
        gutter = text[: self.gutter] if self.gutter_known else ""
        for slot, mark in enumerate(gutter[0::2]):
            if mark == "╭":
                indent = len(metrics.text) - len(metrics.text.lstrip())
                self.open[slot] = (self.current_line, indent)

    def annotation_row(self, text: str) -> None:
        gutter, area = text[: self.gutter], text[self.gutter :]
        marks = gutter[0::2]
        if "╭" in marks or "╰" in marks:
            self.multiline_row(marks, area)
            return
        if area.strip():
            self.single_rows.append(area)

    def multiline_row(self, marks: str, area: str) -> None:
        metrics = self.line_metrics(self.current_line)
        match = re.match(r"^─*([\^-])", area)
        caret = match.end(1) - 1 if match else 0
        message = area[match.end() :].strip() if match else area.strip()
        for slot, mark in enumerate(marks):
            if mark == "╭":
                self.open[slot] = (self.current_line, metrics.index_at(caret))
            elif mark == "╰":
                start = self.open.pop(slot, (self.current_line, 0))
                end = (self.current_line, metrics.index_at(caret) + 1)
                self.add(start, end, message)

    def flush_single(self) -> None:
        rows, self.single_rows = self.single_rows, []
        if not rows or self.current_line < 0:
            return
        metrics = self.line_metrics(self.current_line)
        carets = rows[0]
        underline = re.match(r"[ ^-]*(?:[\^-](?=\s|$))?", carets)
        prefix = underline.group() if underline else ""
        runs = [(m.start(), m.end()) for m in re.finditer(r"\^+|-+", prefix)]
        if not runs:
            return
        trailing = carets[runs[-1][1] :].strip()
        starts: dict[int, str] = {start: "" for start, _ in runs}
        if trailing:
            starts[runs[-1][0]] = trailing
        for row in rows[1:]:
            for m in re.finditer(r"│", row):
                starts.setdefault(m.start(), "")
            text = re.search(r"[^│\s].*$", row)
            if text:
                starts[text.start()] = text.group().strip()
        for start, message in sorted(starts.items()):
            run = next(((a, b) for a, b in runs if a <= start < b), (start, start + 1))
            begin = metrics.index_at(start)
            inner = [s for s in starts if run[0] < s < run[1]]
            if start == run[0] or not inner:
                end = metrics.index_at(run[1] - 1) + 1
            else:
                end = _expression_end(metrics.text, begin, metrics.index_at(run[1] - 1) + 1)
            self.add((self.current_line, begin), (self.current_line, end), message)

    def add(self, start: tuple[int, int], end: tuple[int, int], message: str) -> None:
        self.labels.append(_Label(start, end, message, len(self.labels)))


def _expression_end(text: str, start: int, limit: int) -> int:
    """Where an expression starting at ``start`` ends: the first top-level ``,`` ``)`` ``;``."""
    depth = 0
    for index in range(start, min(limit, len(text))):
        ch = text[index]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                return index
            depth -= 1
        elif ch in ",;" and depth == 0:
            return index
    return limit


def _parse_rendered(body: str, lines: list[str]) -> _Rendered:
    rows = body.split("\n")
    head = rows[0].strip()
    if m := _PARSE_HEAD.match(head):
        rendered = _Rendered("parse", m.group(1))
    elif m := _VALIDATION_HEAD.match(head):
        rendered = _Rendered("validation", m.group(1))
    else:
        rendered = _Rendered("other", head)
    reader = _SnippetReader(lines)
    for row in rows[1:]:
        if not row.strip():
            break
        if m := _LOCUS.match(row):
            rendered.locus = (int(m.group(1)) - 1, int(m.group(2)) - 1)
        elif m := _SOURCE_ROW.match(row):
            reader.source_row(int(m.group(1)), m.group(2) or "")
        elif m := _ANNOTATION_ROW.match(row):
            reader.annotation_row(m.group(1) or "")
        elif _ELISION.match(row):
            reader.flush_single()
        elif m := _NOTE.match(row):
            reader.flush_single()
            rendered.notes.append(m.group(1).strip())
        elif rendered.notes:
            rendered.notes[-1] += " " + row.strip()
    reader.flush_single()
    rendered.labels = reader.labels
    return rendered


# --------------------------------------------------------------------------------------------
# Places naga does not label: found in the source by name.


_COMMENT_OPEN = re.compile(r"//|/\*")
_BLOCK_TOKEN = re.compile(r"/\*|\*/")
_NOT_NEWLINE = re.compile(r"[^\n]")


def _mask_comments(source: str) -> str:
    """``source`` with comments blanked (same length, newlines kept), for searching.

    Block comments nest in WGSL; a ``//`` inside one does not end it early.
    """
    pieces: list[str] = []
    pos = 0
    while (m := _COMMENT_OPEN.search(source, pos)) is not None:
        pieces.append(source[pos : m.start()])
        if m.group() == "//":
            end = source.find("\n", m.start())
            end = len(source) if end < 0 else end
        else:
            depth, end = 1, m.end()
            while depth and (token := _BLOCK_TOKEN.search(source, end)) is not None:
                depth += 1 if token.group() == "/*" else -1
                end = token.end()
            if depth:
                end = len(source)
        pieces.append(_NOT_NEWLINE.sub(" ", source[m.start() : end]))
        pos = end
    pieces.append(source[pos:])
    return "".join(pieces)


class _SourceIndex:
    """Offsets in the source, comment-blind, converted to (line, column) pairs."""

    def __init__(self, source: str) -> None:
        self.text = _mask_comments(source)
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]

    def position(self, offset: int) -> tuple[int, int]:
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo, offset - self.line_starts[lo]

    def span(self, start: int, end: int) -> SourceRange:
        a, b = self.position(start), self.position(end)
        return SourceRange(a[0], a[1], b[0], b[1])

    def find(self, pattern: str, group: int = 0) -> tuple[int, int] | None:
        m = re.search(pattern, self.text)
        return (m.start(group), m.end(group)) if m else None

    def matching(self, open_at: int) -> int:
        """Offset just past the bracket that closes the one at ``open_at``."""
        depth = 0
        for index in range(open_at, len(self.text)):
            ch = self.text[index]
            if ch in "([<":
                depth += 1
            elif ch in ")]>":
                depth -= 1
                if depth == 0:
                    return index + 1
        return len(self.text)

    def function(self, name: str) -> tuple[int, int] | None:
        return self.find(rf"\bfn\s+({re.escape(name)})\b", 1)

    def parameters(self, name: str) -> list[tuple[int, int]]:
        fn = self.function(name)
        if fn is None:
            return []
        open_at = self.text.find("(", fn[1])
        if open_at < 0:
            return []
        close = self.matching(open_at) - 1
        params: list[tuple[int, int]] = []
        depth, begin = 0, open_at + 1
        for index in range(open_at + 1, close + 1):
            ch = self.text[index]
            if ch in "([<":
                depth += 1
            elif ch in ")]>" and index < close:
                depth -= 1
            elif (ch == "," and depth == 0) or index == close:
                piece = self.text[begin:index]
                if piece.strip():
                    lead = len(piece) - len(piece.lstrip())
                    params.append((begin + lead, begin + len(piece.rstrip())))
                begin = index + 1
        return params

    def offset(self, point: tuple[int, int]) -> int:
        line = min(max(point[0], 0), len(self.line_starts) - 1)
        return min(self.line_starts[line] + point[1], len(self.text))

    def block(self, after: int) -> tuple[int, int] | None:
        """The ``{ ... }`` block that opens first at or after ``after`` (offsets of the braces)."""
        open_at = self.text.find("{", after)
        if open_at < 0:
            return None
        depth = 0
        for index in range(open_at, len(self.text)):
            if self.text[index] == "{":
                depth += 1
            elif self.text[index] == "}":
                depth -= 1
                if depth == 0:
                    return open_at, index
        return open_at, len(self.text)

    def members(self, struct_at: int) -> list[tuple[int, int]]:
        """Spans of the members of the struct declared at offset ``struct_at``."""
        body = self.block(struct_at)
        if body is None:
            return []
        members: list[tuple[int, int]] = []
        depth, begin = 0, body[0] + 1
        for index in range(body[0] + 1, body[1] + 1):
            ch = self.text[index]
            if ch in "([<":
                depth += 1
            elif ch in ")]>":
                depth -= 1
            elif (ch == "," and depth == 0) or index == body[1]:
                piece = self.text[begin:index]
                if piece.strip():
                    lead = len(piece) - len(piece.lstrip())
                    members.append((begin + lead, begin + len(piece.rstrip())))
                begin = index + 1
        return members

    def return_type(self, name: str) -> tuple[int, int] | None:
        fn = self.function(name)
        if fn is None:
            return None
        open_at = self.text.find("(", fn[1])
        after = self.matching(open_at)
        m = re.compile(r"\s*->\s*([^{]*?)\s*\{").match(self.text, after)
        return (m.start(1), m.end(1)) if m else None

    def attribute_before(self, name: str, attribute: str) -> tuple[int, int] | None:
        fn = self.find(rf"\bfn\s+{re.escape(name)}\b")
        if fn is None:
            return None
        region_start = max(self.text.rfind(";", 0, fn[0]), self.text.rfind("}", 0, fn[0])) + 1
        found = None
        for m in re.finditer(rf"@\s*{attribute}\s*\(", self.text[region_start : fn[0]]):
            begin = region_start + m.start()
            found = (begin, self.matching(region_start + m.end() - 1))
        return found


_STAGE_ONLY_OPERATION = (
    r"\bdiscard\b|\btextureSample(?:Bias|Compare)?\b|\b(?:dpdx|dpdy|fwidth)(?:Coarse|Fine)?\b"
)


def _declaration_place(
    label: _Label, rendered: _Rendered, index: _SourceIndex
) -> tuple[int, int] | None:
    """Narrow a label that covers a whole function or struct to the part the error is about."""
    kind = _INTERNAL_LABEL.match(label.message)
    if kind is None or label.start[0] == label.end[0]:
        return None
    begin = index.offset(label.start)
    notes = " ".join(rendered.notes)
    if kind.group(1) == "Type":
        members = index.members(begin)
        m = re.search(r"Struct member (\d+)", notes)
        if m and int(m.group(1)) < len(members):
            return members[int(m.group(1))]
        if m := re.search(r"Multiple bindings at location (\d+)", notes):
            pattern = re.compile(rf"@\s*location\s*\(\s*{m.group(1)}[iu]?\s*\)")
            clashing = [span for span in members if pattern.search(index.text, *span)]
            if len(clashing) > 1:
                return clashing[1]
        if m := re.search(r"Built-in (\w+)\b.* is present more than once", notes):
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", m.group(1)).lower()
            pattern = re.compile(rf"@\s*builtin\s*\(\s*{snake}\s*\)")
            repeated = [span for span in members if pattern.search(index.text, *span)]
            if len(repeated) > 1:
                return repeated[1]
        if re.search(r"(Interpolation|Sampling) is not valid", notes):
            pattern = re.compile(r"@\s*interpolate\s*\(")
            interpolated = [span for span in members if pattern.search(index.text, *span)]
            flat = re.compile(r"@\s*interpolate\s*\(\s*flat\b")
            suspects = [span for span in interpolated if not flat.search(index.text, *span)]
            if suspects or interpolated:
                return (suspects or interpolated)[0]
        name = re.compile(r"struct\s+(\w+)").match(index.text, begin)
        return (name.start(1), name.end(1)) if name else None
    if kind.group(1) == "Function":
        name = re.compile(r"fn\s+(\w+)").match(index.text, begin)
        return (name.start(1), name.end(1)) if name else None
    return None


def _unlabelled_place(rendered: _Rendered, index: _SourceIndex) -> tuple[int, int] | None:
    """The most specific declaration an unlabelled validation error is about."""
    head, notes = rendered.headline, " ".join(rendered.notes)
    if m := re.match(r"Entry point (\S+) at \w+ is invalid", head):
        name = m.group(1)
        if arg := re.search(r"Argument (\d+) varying error", notes):
            params = index.parameters(name)
            if int(arg.group(1)) < len(params):
                return params[int(arg.group(1))]
        about_result = "must all have bindings" in notes or "`@builtin(position)`" in notes
        if about_result and (place := index.return_type(name)):
            return place
        if "Workgroup size" in notes and (place := index.attribute_before(name, "workgroup_size")):
            return place
        fn = index.function(name)
        if "forbidden at this stage" in notes and fn and (body := index.block(fn[1])):
            used = re.compile(_STAGE_ONLY_OPERATION).search(index.text, *body)
            if used:
                return used.start(), used.end()
        return index.function(name)
    if m := re.match(r"Incompatible operands: Logical(And|Or)\(", head):
        operator = "&&" if m.group(1) == "And" else "||"
        if place := index.find(re.escape(operator)):
            return place
    m = re.search(r"Using `(\w+)` values requires", notes)
    if m and (place := index.find(rf"\b{m.group(1)}\b")):
        return place
    if m := re.match(r"Function \[\d+\] '(\w+)' is invalid", head):
        return index.function(m.group(1))
    if m := re.match(r"Global variable \[\d+\] '(\w+)' is invalid", head):
        return index.find(rf"\bvar\b(?:<[^>]*>)?\s+({re.escape(m.group(1))})\b", 1)
    if m := re.match(r"(?:Constant|Override) \[\d+\] '(\w+)' is invalid", head):
        return index.find(rf"\b(?:const|override)\s+({re.escape(m.group(1))})\b", 1)
    if m := re.match(r"Type \[\d+\] '(\w+)' is invalid", head):
        return index.find(rf"\bstruct\s+({re.escape(m.group(1))})\b", 1)
    return None


# --------------------------------------------------------------------------------------------
# Features the adapter lacks.

_CAPABILITY_FEATURES = {
    "FLOAT64": "shader-f64",
    "SHADER_FLOAT16": "shader-f16",
    "SHADER_INT64": "shader-int64",
    "SHADER_INT16": "shader-i16",
    "SUBGROUP": "subgroup",
    "SUBGROUP_BARRIER": "subgroup-barrier",
    "SHADER_FLOAT32_ATOMIC": "shader-float32-atomic",
    "SHADER_INT64_ATOMIC_MIN_MAX": "shader-int64-atomic-min-max",
    "SHADER_INT64_ATOMIC_ALL_OPS": "shader-int64-atomic-all-ops",
    "TEXTURE_ATOMIC": "texture-atomic",
    "PRIMITIVE_INDEX": "primitive-index",
    "DUAL_SOURCE_BLENDING": "dual-source-blending",
    "CLIP_DISTANCE": "clip-distances",
    "MULTIVIEW": "multiview",
    "IMMEDIATES": "immediates",
    "RAY_QUERY": "experimental-ray-query",
    "SHADER_EARLY_DEPTH_TEST": "shader-early-depth-test",
}
_EXTENSION_FEATURES = {
    "f16": "shader-f16",
    "clip_distances": "clip-distances",
    "dual_source_blending": "dual-source-blending",
    "primitive_index": "primitive-index",
    "subgroups": "subgroup",
    "wgpu_ray_query": "experimental-ray-query",
    "wgpu_mesh_shader": "experimental-mesh-shader",
}


def _missing_feature(rendered: _Rendered, adapter: str) -> str | None:
    """A sentence naming the feature the adapter lacks, when that is what naga objects to."""
    text = rendered.headline + " " + " ".join(rendered.notes)
    if m := re.search(r"the `(\w+)` extension is not supported in the current environment", text):
        feature = _EXTENSION_FEATURES.get(m.group(1), m.group(1))
        return f"`enable {m.group(1)};` needs the `{feature}` feature, which {adapter} lacks"
    if m := re.search(r"Capabilities::(\w+)|Capability (\w+) is required", text):
        capability = m.group(1) or m.group(2)
        feature = _CAPABILITY_FEATURES.get(capability, capability.lower().replace("_", "-"))
        return f"this shader needs the `{feature}` feature, which {adapter} lacks"
    return None


# --------------------------------------------------------------------------------------------
# From wgpu's error text to diagnostics.

_INTERNAL_LABEL = re.compile(r"^naga::ir::(\w+) \[\d+\]$")


def _label_message(label: _Label, lines: list[str]) -> str:
    if m := _INTERNAL_LABEL.match(label.message):
        words = re.sub(r"(?<!^)(?=[A-Z])", " ", m.group(1)).lower()
        return f"in this {words}"
    if label.message:
        return label.message
    if label.start[0] == label.end[0] and 0 <= label.start[0] < len(lines):
        text = lines[label.start[0]][label.start[1] : label.end[1]]
        if text.strip():
            return f"`{text}`"
    return "related code"


def _first_line_range(lines: list[str]) -> SourceRange:
    for number, text in enumerate(lines):
        if text.strip():
            lead = len(text) - len(text.lstrip())
            return SourceRange(number, lead, number, len(text.rstrip()))
    return SourceRange(0, 0, 0, 0)


def _clamp(lines: list[str], start: tuple[int, int], end: tuple[int, int]) -> SourceRange:
    last = max(0, len(lines) - 1)

    def fit(point: tuple[int, int]) -> tuple[int, int]:
        line = min(max(point[0], 0), last)
        width = len(lines[line]) if lines else 0
        return line, min(max(point[1], 0), width)

    a, b = fit(start), fit(end)
    if b < a:
        b = a
    return SourceRange(a[0], a[1], b[0], b[1])


def diagnostics_from_error(source: str, error_text: str, adapter: str) -> tuple[Diagnostic, ...]:
    """Turn wgpu's error text for ``source`` into diagnostics with exact ranges.

    ``adapter`` names the adapter in missing-feature messages.
    """
    lines = _split_lines(source)
    body = _strip_wrapping(error_text)
    rendered = _parse_rendered(body, lines)

    message = rendered.headline
    cause = [n for n in rendered.notes if not re.match(r"(note|help):", n)]
    hints = [n for n in rendered.notes if re.match(r"(note|help):", n)]
    if rendered.kind == "validation" and cause:
        message = ": ".join([message, *cause])
    elif rendered.kind == "other" and not rendered.labels:
        message = " ".join(part.strip() for part in body.split("\n") if part.strip())
    if hints:
        message = "\n".join([message, *hints])

    labels = rendered.labels
    related: list[RelatedInfo] = []
    if labels:
        innermost = [a for a in labels if not any(a.contains(b) for b in labels)]
        primary = max(innermost, key=lambda a: (a.start, a.order))
        place = _clamp(lines, primary.start, primary.end)
        whole_declaration = primary.start[0] != primary.end[0]
        index = _SourceIndex(source) if whole_declaration else None
        if index and (narrowed := _declaration_place(primary, rendered, index)):
            place = index.span(*narrowed)
            related.append(
                RelatedInfo(_clamp(lines, primary.start, primary.end), "in this declaration")
            )
        for label in sorted(labels, key=lambda a: (a.start, a.order)):
            if label is not primary:
                where = _clamp(lines, label.start, label.end)
                related.append(RelatedInfo(where, _label_message(label, lines)))
    else:
        index = _SourceIndex(source)
        found = _unlabelled_place(rendered, index)
        if found is not None:
            place = index.span(*found)
        elif rendered.locus is not None:
            place = _clamp(lines, rendered.locus, (rendered.locus[0], rendered.locus[1] + 1))
        else:
            place = _first_line_range(lines)

    code = "naga"
    if lacking := _missing_feature(rendered, adapter):
        code = "missing-feature"
        message = f"{message}\n{lacking}"
    return (Diagnostic("error", message, place, tuple(related), code),)


# --------------------------------------------------------------------------------------------
# The worker process.

_HEADER = struct.Struct("<cI")
_ENGINE_ROOT = str(Path(__file__).resolve().parent.parent)
_BOOTSTRAP = (
    "import sys; sys.path[0] = {root!r}; "
    "from engine.validator_worker import main; sys.exit(main(sys.argv[1:]))"
)
_runtime_dir_lock = threading.Lock()
_runtime_dir: str | None = None


class _WorkerDied(Exception):
    """The worker exited (crashed) while we waited for it."""


class _WorkerTimedOut(Exception):
    """The worker did not answer in time and was killed."""


class _WorkerFailed(Exception):
    """The worker could not create a wgpu device (no adapter, broken driver)."""


def _worker_environment() -> dict[str, str]:
    """The worker's environment: a private writable XDG_RUNTIME_DIR if the caller has none."""
    global _runtime_dir
    env = dict(os.environ)
    current = env.get("XDG_RUNTIME_DIR")
    if not current or not os.access(current, os.W_OK):
        with _runtime_dir_lock:
            if _runtime_dir is None or not os.path.isdir(_runtime_dir):
                _runtime_dir = tempfile.mkdtemp(prefix="tiny-agent-trainer-runtime-")
                atexit.register(shutil.rmtree, _runtime_dir, ignore_errors=True)
            env["XDG_RUNTIME_DIR"] = _runtime_dir
    return env


def _spawn(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", _BOOTSTRAP.format(root=_ENGINE_ROOT), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_worker_environment(),
        bufsize=0,
        close_fds=True,
    )


def _exit_description(returncode: int | None) -> str:
    if returncode is None:
        return "did not exit"
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


class _Worker:
    """One worker process and its pipes. Not thread-safe: :class:`Validator` serialises use."""

    def __init__(self, backend: str) -> None:
        self.process = _spawn([backend, "debug" if log.isEnabledFor(logging.DEBUG) else ""])
        assert self.process.stdin is not None and self.process.stdout is not None
        self.request_fd = self.process.stdin.fileno()
        self.response_fd = self.process.stdout.fileno()
        self.stderr_tail: deque[str] = deque(maxlen=20)
        self.adapter: AdapterInfo | None = None
        self._poller = _readable_waiter(self.response_fd)
        stderr = self.process.stderr
        assert stderr is not None
        threading.Thread(
            target=self._drain_stderr, args=(stderr,), name="validator-stderr", daemon=True
        ).start()

    def _drain_stderr(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self.stderr_tail.append(line)
                log.debug("validator worker: %s", line)

    def wait_ready(self, timeout: float) -> AdapterInfo:
        if self.adapter is None:
            status, payload = self._receive(time.monotonic() + timeout)
            if status == b"F":
                raise _WorkerFailed(payload.decode("utf-8", "replace"))
            self.adapter = _adapter_from_record(json.loads(payload))
        return self.adapter

    def exchange(self, source: str, timeout: float) -> tuple[bytes, str]:
        data = source.encode("utf-8", "replace")
        self._send(b"V", data)
        status, payload = self._receive(time.monotonic() + timeout)
        return status, payload.decode("utf-8", "replace")

    def _send(self, kind: bytes, data: bytes) -> None:
        view = memoryview(_HEADER.pack(kind, len(data)) + data)
        try:
            while view:
                view = view[os.write(self.request_fd, view) :]
        except (BrokenPipeError, OSError) as exc:
            raise _WorkerDied(str(exc)) from exc

    def _receive(self, deadline: float) -> tuple[bytes, bytes]:
        header = self._read(_HEADER.size, deadline)
        status, size = _HEADER.unpack(header)
        return status, self._read(size, deadline) if size else b""

    def _read(self, size: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        while size:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._poller(remaining):
                self.kill()
                raise _WorkerTimedOut()
            chunk = os.read(self.response_fd, size)
            if not chunk:
                raise _WorkerDied(self.describe_exit())
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def describe_exit(self) -> str:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.process.returncode
        return _exit_description(code)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.warning("validator worker %d did not exit after SIGKILL", self.process.pid)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self._send(b"Q", b"")
                self.process.wait(timeout=2)
            except (_WorkerDied, subprocess.TimeoutExpired):
                pass
        self.kill()


def _readable_waiter(fd: int) -> Any:
    """A function ``wait(seconds) -> bool`` that is true once ``fd`` has data (or EOF).

    POSIX only (poll, else select); Windows cannot wait on pipes this way.
    """
    import select

    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)

        def wait(seconds: float) -> bool:
            return bool(poller.poll(max(0, int(seconds * 1000) + 1)))

        return wait

    def wait_select(seconds: float) -> bool:
        return bool(select.select([fd], [], [], seconds)[0])

    return wait_select


class Validator:
    """Validates WGSL with naga in one worker process; thread-safe; survives naga crashing.

    The worker starts on the first :meth:`validate` (about a second: adapter and device), or
    earlier with :meth:`start`, which returns at once. A crash or a request that takes longer
    than ``timeout`` seconds gives a diagnostic and restarts the worker for the next request.
    ``backend`` (``"vulkan"``, ``"opengl"``, ...) forces an adapter; by default the one with the
    most shader features wins (Vulkan, e.g. lavapipe, over OpenGL).
    """

    def __init__(
        self, timeout: float = 10.0, *, backend: str | None = None, startup_timeout: float = 60.0
    ) -> None:
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self._backend = (backend or "").lower()
        self._lock = threading.Lock()
        self._worker: _Worker | None = None
        self._adapter_label = "no adapter yet"
        self._failure: tuple[float, str] | None = None

    def __enter__(self) -> Validator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the worker in the background, if it is not running; returns at once."""
        with self._lock:
            self._ensure_spawned()

    def adapter_info(self) -> AdapterInfo | None:
        """The adapter the worker uses, waiting for start-up; None if none could be created."""
        with self._lock:
            try:
                return self._ready_worker().adapter
            except _WorkerFailed:
                return None

    def validate(self, source: str) -> ValidationResult:
        """Check one WGSL module; never raises for bad input, a crash or a timeout.

        A NUL character is reported without asking naga: wgpu passes the text as a C string,
        so it would silently check only what comes before the NUL.
        """
        if "\x00" in source:
            return self._nul_character(source)
        with self._lock:
            try:
                worker = self._ready_worker()
            except _WorkerFailed as exc:
                return self._unavailable(source, str(exc))
            if worker.process.poll() is not None:  # died while idle: not this input's fault
                worker.kill()
                self._restart()
                try:
                    worker = self._ready_worker()
                except _WorkerFailed as exc:
                    return self._unavailable(source, str(exc))
            label = self._adapter_label
            try:
                status, text = worker.exchange(source, self.timeout)
            except _WorkerTimedOut:
                self._restart()
                return ValidationResult((self._timeout_diagnostic(source),), label)
            except _WorkerDied as exc:
                tail = list(worker.stderr_tail)
                worker.kill()
                self._restart()
                return ValidationResult((_crash_diagnostic(source, str(exc), tail),), label)
        if status == b"O":
            return ValidationResult((), label)
        if status == b"E":
            return ValidationResult(diagnostics_from_error(source, text, label), label)
        return ValidationResult(
            (
                Diagnostic(
                    "error",
                    f"wgpu refused the shader: {text}",
                    _first_line_range(_split_lines(source)),
                    code="validator-error",
                ),
            ),
            label,
        )

    def close(self) -> None:
        """Stop the worker; a later :meth:`validate` starts a new one."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.close()

    def _ensure_spawned(self) -> _Worker:
        if self._worker is None:
            self._worker = _Worker(self._backend)
        return self._worker

    def _ready_worker(self) -> _Worker:
        if self._failure is not None and time.monotonic() - self._failure[0] < 10.0:
            raise _WorkerFailed(self._failure[1])
        worker = self._ensure_spawned()
        try:
            adapter = worker.wait_ready(self.startup_timeout)
        except _WorkerFailed as exc:
            raise self._fail(worker, str(exc)) from None
        except _WorkerTimedOut:
            reason = f"the validator did not start within {self.startup_timeout:g} s"
            raise self._fail(worker, reason) from None
        except _WorkerDied as exc:
            detail = "; ".join(list(worker.stderr_tail)[-3:])
            reason = f"the validator process {exc} while starting. {detail}".strip()
            raise self._fail(worker, reason) from None
        self._failure = None
        if self._adapter_label != adapter.label:
            self._adapter_label = adapter.label
            log.info("WGSL validator ready on %s", adapter.label)
            if adapter.backend.startswith("OpenGL"):
                log.warning(
                    "validating WGSL on an OpenGL adapter: shaders that need features such as "
                    "shader-f16 are rejected; a Vulkan driver (Debian/Ubuntu: mesa-vulkan-drivers) "
                    "offers more"
                )
        return worker

    def _fail(self, worker: _Worker, reason: str) -> _WorkerFailed:
        """Forget the worker; start-up is retried after 10 s, not on every request."""
        worker.kill()
        self._worker = None
        self._failure = (time.monotonic(), reason)
        log.error("WGSL validator unavailable: %s", reason)
        return _WorkerFailed(reason)

    def _restart(self) -> None:
        self._worker = None
        self._ensure_spawned()

    def _timeout_diagnostic(self, source: str) -> Diagnostic:
        return Diagnostic(
            "error",
            f"naga did not finish checking this shader within {self.timeout:g} s, so the "
            "validator was stopped and restarted; the shader may be too large or too deeply "
            "nested.",
            _first_line_range(_split_lines(source)),
            code="validator-timeout",
        )

    def _nul_character(self, source: str) -> ValidationResult:
        index = _SourceIndex(source)
        at = source.index("\x00")
        diagnostic = Diagnostic(
            "error",
            "WGSL text cannot contain a NUL character (U+0000); remove it. Everything after it "
            "would be ignored.",
            index.span(at, at + 1),
            code="nul-character",
        )
        return ValidationResult((diagnostic,), self._adapter_label)

    def _unavailable(self, source: str, reason: str) -> ValidationResult:
        message = (
            f"The WGSL validator is unavailable: {reason}. Install a GPU driver or Mesa's CPU "
            "drivers (Debian/Ubuntu: apt-get install mesa-vulkan-drivers), then retry."
        )
        diagnostic = Diagnostic(
            "error", message, _first_line_range(_split_lines(source)), code="validator-unavailable"
        )
        return ValidationResult((diagnostic,), "no adapter")


def _crash_diagnostic(source: str, exit_text: str, stderr_tail: list[str]) -> Diagnostic:
    reason = next((line for line in stderr_tail if "overflow" in line), "")
    detail = f" ({reason})" if reason else ""
    return Diagnostic(
        "error",
        f"The validator crashed on this input: naga's process {exit_text}{detail}. It has been "
        "restarted for the next check; deeply nested expressions are the usual cause.",
        _first_line_range(_split_lines(source)),
        code="validator-crash",
    )


_default_lock = threading.Lock()
_default: Validator | None = None


def default_validator() -> Validator:
    """The process-wide shared :class:`Validator`, created on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Validator()
        return _default


def validate_source(source: str) -> ValidationResult:
    """Validate with the shared validator: ``default_validator().validate(source)``."""
    return default_validator().validate(source)


def describe_adapters(timeout: float = 60.0) -> list[AdapterInfo]:
    """Every adapter wgpu finds (for ``check``), from a short-lived worker process.

    Raises RuntimeError with a readable reason when wgpu cannot enumerate adapters.
    """
    process = _spawn(["--describe"])
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise RuntimeError(f"listing wgpu adapters took longer than {timeout:g} s") from None
    if len(out) < _HEADER.size:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise RuntimeError(
            f"listing wgpu adapters failed: the process {_exit_description(process.returncode)}"
            + (f" ({'; '.join(tail)})" if tail else "")
        )
    status, size = _HEADER.unpack(out[: _HEADER.size])
    payload = out[_HEADER.size : _HEADER.size + size].decode("utf-8", "replace")
    if status != b"R":
        raise RuntimeError(f"listing wgpu adapters failed: {payload}")
    return [_adapter_from_record(record) for record in json.loads(payload)]
