"""Columns between the engine (code points of a Python str) and the client's position encoding.

The engine reports 0-based lines and code-point columns; LSP clients count UTF-16 code units
unless they negotiated UTF-8 or UTF-32. ASCII lines (the common case in WGSL) need no work.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types

from engine.wgsl_analysis import Position, Span


class PositionMapper:
    """Converts positions for one version of one document's text."""

    def __init__(self, lines: Sequence[str], encoding: str | None) -> None:
        self.lines = lines
        self.encoding = str(encoding or types.PositionEncodingKind.Utf16.value)

    def _units(self, text: str) -> int:
        if text.isascii() or self.encoding == types.PositionEncodingKind.Utf32.value:
            return len(text)
        if self.encoding == types.PositionEncodingKind.Utf8.value:
            return len(text.encode("utf-8", "surrogatepass"))
        return len(text.encode("utf-16-le", "surrogatepass")) // 2

    def to_client(self, line: int, col: int) -> types.Position:
        if line >= len(self.lines):
            return types.Position(line=max(len(self.lines) - 1, 0), character=0)
        text = self.lines[line]
        col = min(max(col, 0), len(text))
        return types.Position(line=line, character=self._units(text[:col]))

    def span(self, span: Span) -> types.Range:
        return types.Range(
            start=self.to_client(span.start.line, span.start.col),
            end=self.to_client(span.end.line, span.end.col),
        )

    def from_client(self, position: types.Position) -> Position:
        line = position.line
        if line >= len(self.lines):
            return Position(line, 0)
        text = self.lines[line]
        if text.isascii() or self.encoding == types.PositionEncodingKind.Utf32.value:
            return Position(line, min(position.character, len(text)))
        units = 0
        for index, char in enumerate(text):
            if units >= position.character:
                return Position(line, index)
            units += self._units(char)
        return Position(line, len(text))

    def length(self, line: int, col: int, length: int) -> int:
        """Length in client units of ``length`` code points starting at ``(line, col)``."""
        if line >= len(self.lines):
            return length
        return self._units(self.lines[line][col : col + length])
