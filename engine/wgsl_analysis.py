"""Tolerant WGSL analysis for editor features: symbols, scopes, references, hover, completion.

This is not a compiler: naga decides what is valid. The analysis must keep working while the
user is typing (unbalanced braces, half-written declarations), so it is a token scanner plus a
forgiving declaration parser. Positions are 0-based lines and code-point columns of the Python
string; the language server converts columns to UTF-16 at the protocol boundary.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from engine import wgsl_builtins as builtins

TokenKind = Literal["ident", "number", "punct", "comment", "unknown"]
SymbolKind = Literal[
    "function", "struct", "member", "var", "const", "override", "alias", "param", "let"
]


@dataclass(frozen=True)
class Position:
    line: int
    col: int


@dataclass(frozen=True)
class Span:
    start: Position
    end: Position

    def contains(self, pos: Position) -> bool:
        return (
            (self.start.line, self.start.col)
            <= (pos.line, pos.col)
            <= (
                self.end.line,
                self.end.col,
            )
        )


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str
    offset: int
    line: int
    col: int

    @property
    def end_offset(self) -> int:
        return self.offset + len(self.text)

    @property
    def span(self) -> Span:
        """The token's span; multi-line tokens (block comments) end on their last line."""
        newlines = self.text.count("\n")
        if newlines == 0:
            return Span(
                Position(self.line, self.col), Position(self.line, self.col + len(self.text))
            )
        last = len(self.text) - self.text.rfind("\n") - 1
        return Span(Position(self.line, self.col), Position(self.line + newlines, last))


@dataclass
class Symbol:
    """A declared name. ``scope`` is the offset range where a local or parameter is visible;
    module-scope declarations have ``scope`` None and are visible everywhere."""

    name: str
    kind: SymbolKind
    name_token: Token
    span: Span
    declaration: str
    type_text: str | None = None
    stage: str | None = None
    doc: str = ""
    scope: tuple[int, int] | None = None
    children: list[Symbol] = field(default_factory=list)
    params: list[Symbol] = field(default_factory=list)
    attributes: tuple[str, ...] = ()
    return_type: str | None = None
    return_attributes: tuple[str, ...] = ()
    return_type_token: Token | None = None
    body: tuple[int, int] | None = None
    initializer: str | None = None

    @property
    def name_span(self) -> Span:
        return self.name_token.span


@dataclass(frozen=True)
class CompletionCandidate:
    label: str
    kind: Literal[
        "keyword", "type", "function", "builtin", "variable", "struct", "member", "attribute",
        "value", "param", "constant",
    ]  # fmt: skip
    detail: str = ""
    documentation: str = ""
    snippet: str | None = None


@dataclass(frozen=True)
class SignatureInfo:
    label: str
    parameters: tuple[str, ...]
    active_parameter: int
    documentation: str


@dataclass(frozen=True)
class HoverInfo:
    markdown: str
    span: Span


@dataclass(frozen=True)
class TextEdit:
    span: Span
    new_text: str


@dataclass(frozen=True)
class QuickFix:
    title: str
    edits: tuple[TextEdit, ...]


@dataclass(frozen=True)
class Fold:
    start_line: int
    end_line: int
    kind: Literal["region", "comment"]


@dataclass(frozen=True)
class SemanticToken:
    line: int
    col: int
    length: int
    type: str
    modifiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommentPrompt:
    """A ``//`` comment the user wants turned into code; ``insert_at`` is where code goes."""

    prompt: str
    comment: Span
    insert_at: Position
    indent: str


SEMANTIC_TOKEN_TYPES: tuple[str, ...] = (
    "keyword", "type", "struct", "function", "parameter", "variable", "property", "number",
    "comment", "decorator", "enumMember",
)  # fmt: skip
SEMANTIC_TOKEN_MODIFIERS: tuple[str, ...] = ("declaration", "readonly", "defaultLibrary")

_KEYWORDS = frozenset(builtins.KEYWORDS)
_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<line_comment>//[^\n]*)
  | (?P<block_comment>/\*)
  | (?P<number>0[xX][0-9a-fA-F]*(?:\.[0-9a-fA-F]*)?(?:[pP][+-]?\d+)?[fhiu]?
        |\d+\.\d*(?:[eE][+-]?\d+)?[fh]?|\.\d+(?:[eE][+-]?\d+)?[fh]?|\d+[eE][+-]?\d+[fh]?|\d+[iufh]?)
  | (?P<ident>[^\W\d]\w*)
  | (?P<punct>->|&&|\|\||[-+*/%&|^!<>=]=|\+\+|--|[{}()\[\];:,.@<>=+\-*/%&|^!~])
  | (?P<unknown>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_COMMENT_BLOCK = re.compile(r"/\*|\*/")


def tokenize(text: str) -> list[Token]:
    """Every token including comments; never fails (unknown characters become tokens)."""
    tokens: list[Token] = []
    pos = 0
    line = 0
    line_start = 0
    length = len(text)
    match_at = _TOKEN_RE.match
    while pos < length:
        match = match_at(text, pos)
        assert match is not None
        kind = match.lastgroup
        end = match.end()
        if kind == "block_comment":
            depth = 1
            scan = end
            while depth and scan < length:
                found = _COMMENT_BLOCK.search(text, scan)
                if found is None:
                    scan = length
                    break
                depth += 1 if found.group() == "/*" else -1
                scan = found.end()
            end = scan
            tokens.append(Token("comment", text[pos:end], pos, line, pos - line_start))
        elif kind == "line_comment":
            tokens.append(Token("comment", text[pos:end], pos, line, pos - line_start))
        elif kind != "ws":
            tokens.append(Token(kind, text[pos:end], pos, line, pos - line_start))  # type: ignore[arg-type]
        newlines = text.count("\n", pos, end)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", pos, end) + 1
        pos = end
    return tokens


class Analysis:
    """The analysis of one version of one document. Build it once per version and reuse it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.split("\n")
        self._line_starts = [0]
        for index, char in enumerate(text):
            if char == "\n":
                self._line_starts.append(index + 1)
        self.all_tokens = tokenize(text)
        self.tokens = [t for t in self.all_tokens if t.kind != "comment"]
        self._token_offsets = [t.offset for t in self.tokens]
        self.symbols: list[Symbol] = []
        self.locals: list[Symbol] = []
        self._brace_match: dict[int, int] = {}
        self._match_braces()
        self._parse_module()
        self.globals: dict[str, Symbol] = {}
        for symbol in self.symbols:
            self.globals.setdefault(symbol.name, symbol)
        self._locals_by_name: dict[str, list[Symbol]] = {}
        for local in self.locals:
            self._locals_by_name.setdefault(local.name, []).append(local)

    # -- positions ---------------------------------------------------------------------------
    def offset_of(self, pos: Position) -> int:
        if pos.line >= len(self._line_starts):
            return len(self.text)
        line_len = len(self.lines[pos.line]) if pos.line < len(self.lines) else 0
        return self._line_starts[pos.line] + min(max(pos.col, 0), line_len)

    def position_of(self, offset: int) -> Position:
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return Position(line, offset - self._line_starts[line])

    def token_at(self, pos: Position) -> Token | None:
        """The identifier token under (or just before) the cursor, if any."""
        offset = self.offset_of(pos)
        index = bisect.bisect_right(self._token_offsets, offset) - 1
        for candidate in (index, index - 1):
            if 0 <= candidate < len(self.tokens):
                token = self.tokens[candidate]
                if token.kind == "ident" and token.offset <= offset <= token.end_offset:
                    return token
        return None

    def _index_of(self, token: Token) -> int:
        return bisect.bisect_left(self._token_offsets, token.offset)

    def _prev(self, index: int) -> Token | None:
        return self.tokens[index - 1] if index > 0 else None

    # -- parsing -----------------------------------------------------------------------------
    def _match_braces(self) -> None:
        """Pair braces; an unclosed ``{`` closes where the next top-level declaration starts."""
        stack: list[int] = []
        for index, token in enumerate(self.tokens):
            if token.text == "{":
                stack.append(index)
            elif token.text == "}" and stack:
                self._brace_match[stack.pop()] = index
            elif (
                stack
                and token.col == 0
                and token.text in ("fn", "struct", "@")
                and self._starts_top_level(index)
            ):
                while stack:
                    self._brace_match[stack.pop()] = index - 1
        end = len(self.tokens) - 1
        while stack:
            self._brace_match[stack.pop()] = end

    def _starts_top_level(self, index: int) -> bool:
        token = self.tokens[index]
        if token.text == "@":
            following = self.tokens[index + 1].text if index + 1 < len(self.tokens) else ""
            return following in ("compute", "vertex", "fragment", "group", "binding")
        return True

    def _skip_parens(self, index: int, open_: str = "(", close: str = ")") -> int:
        """Index just past the bracket group that starts at ``index``."""
        depth = 0
        while index < len(self.tokens):
            text = self.tokens[index].text
            if text == open_:
                depth += 1
            elif text == close:
                depth -= 1
                if depth <= 0:
                    return index + 1
            elif text in (";", "{", "}") and open_ != "{":
                return index
            index += 1
        return index

    def _text_between(self, start: int, end: int) -> str:
        """Source text from token ``start`` up to (not including) token ``end``."""
        if start >= end or start >= len(self.tokens):
            return ""
        last = self.tokens[min(end, len(self.tokens)) - 1]
        return " ".join(self.text[self.tokens[start].offset : last.end_offset].split())

    def _doc_comment(self, token: Token) -> str:
        """The ``//`` lines directly above the line of ``token``."""
        lines: list[str] = []
        line = token.line - 1
        while line >= 0:
            stripped = self.lines[line].strip()
            if not stripped.startswith("//"):
                break
            lines.append(stripped[2:].strip())
            line -= 1
        return " ".join(reversed(lines))

    def _read_attributes(self, index: int) -> tuple[list[tuple[str, str]], int]:
        attributes: list[tuple[str, str]] = []
        while (
            index + 1 < len(self.tokens)
            and self.tokens[index].text == "@"
            and self.tokens[index + 1].kind == "ident"
        ):
            name = self.tokens[index + 1].text
            after = index + 2
            if after < len(self.tokens) and self.tokens[after].text == "(":
                end = self._skip_parens(after)
                attributes.append((name, self._text_between(index, end)))
                index = end
            else:
                attributes.append((name, f"@{name}"))
                index = after
        return attributes, index

    def _read_type(self, index: int, stops: Iterable[str]) -> tuple[str, int]:
        """A type expression up to a stop token at template depth 0."""
        stop_set = set(stops)
        start = index
        depth = 0
        while index < len(self.tokens):
            text = self.tokens[index].text
            if depth == 0 and text in stop_set:
                break
            if text == "<":
                depth += 1
            elif text == ">":
                depth = max(depth - 1, 0)
            elif text in (";", "{", "}") and depth == 0:
                break
            index += 1
        return self._text_between(start, index), index

    def _parse_module(self) -> None:
        tokens = self.tokens
        index = 0
        while index < len(tokens):
            start = index
            attributes, index = self._read_attributes(index)
            if index >= len(tokens):
                break
            token = tokens[index]
            if token.text == "fn":
                index = self._parse_function(index, start, attributes)
            elif token.text == "struct":
                index = self._parse_struct(index, start)
            elif token.text in ("var", "const", "override", "let"):
                index = self._parse_global(index, start, attributes)
            elif token.text == "alias":
                index = self._parse_alias(index, start)
            elif token.text == "{":
                index = self._brace_match.get(index, index) + 1
            else:
                index = max(index + 1, start + 1)

    def _name_after(self, index: int) -> Token | None:
        if index < len(self.tokens) and self.tokens[index].kind == "ident":
            name = self.tokens[index]
            if name.text not in _KEYWORDS:
                return name
        return None

    def _span(self, start: int, end: int) -> Span:
        first = self.tokens[start]
        last = self.tokens[min(end, len(self.tokens) - 1)]
        return Span(Position(first.line, first.col), last.span.end)

    def _parse_function(self, index: int, start: int, attributes: list[tuple[str, str]]) -> int:
        tokens = self.tokens
        name = self._name_after(index + 1)
        if name is None:
            return index + 1
        cursor = index + 2
        params: list[Symbol] = []
        if cursor < len(tokens) and tokens[cursor].text == "(":
            params_end = self._skip_parens(cursor)
            cursor += 1
            while cursor < params_end - 1:
                param_attrs, cursor = self._read_attributes(cursor)
                param_name = self._name_after(cursor)
                if param_name is None:
                    cursor += 1
                    continue
                type_text = None
                after = cursor + 1
                if after < len(tokens) and tokens[after].text == ":":
                    type_text, after = self._read_type(after + 1, (",", ")"))
                params.append(
                    Symbol(
                        name=param_name.text,
                        kind="param",
                        name_token=param_name,
                        span=param_name.span,
                        declaration=" ".join(
                            [*(a for _, a in param_attrs), f"{param_name.text}: {type_text}"]
                        ),
                        type_text=type_text,
                        attributes=tuple(n for n, _ in param_attrs),
                    )
                )
                cursor = after
                if cursor < len(tokens) and tokens[cursor].text == ",":
                    cursor += 1
            cursor = params_end
        return_type = None
        return_attrs: list[tuple[str, str]] = []
        return_token = None
        if cursor < len(tokens) and tokens[cursor].text == "->":
            return_attrs, cursor = self._read_attributes(cursor + 1)
            if cursor < len(tokens):
                return_token = tokens[cursor]
            return_type, cursor = self._read_type(cursor, ("{",))
        header = self._text_between(
            start if not attributes else index, cursor
        )  # the declaration without entry-point attributes
        stage = next((n for n, _ in attributes if n in ("vertex", "fragment", "compute")), None)
        body = None
        end = cursor
        if cursor < len(tokens) and tokens[cursor].text == "{":
            close = self._brace_match.get(cursor, len(tokens) - 1)
            body = (tokens[cursor].offset, tokens[close].end_offset)
            end = close
            for param in params:
                param.scope = (name.offset, body[1])
            self._collect_locals(cursor, close)
        prefix = " ".join(a for _, a in attributes)
        symbol = Symbol(
            name=name.text,
            kind="function",
            name_token=name,
            span=self._span(start, end),
            declaration=f"{prefix}\n{header}" if prefix else header,
            type_text=return_type,
            stage=stage,
            doc=self._doc_comment(tokens[start]),
            params=params,
            attributes=tuple(n for n, _ in attributes),
            return_type=return_type,
            return_attributes=tuple(n for n, _ in return_attrs),
            return_type_token=return_token,
            body=body,
        )
        self.symbols.append(symbol)
        self.locals.extend(params)
        return end + 1

    def _enclosing_block_end(self, index: int, open_stack: list[int]) -> int:
        if not open_stack:
            return len(self.tokens) - 1
        return self._brace_match.get(open_stack[-1], len(self.tokens) - 1)

    def _collect_locals(self, open_index: int, close_index: int) -> None:
        tokens = self.tokens
        stack: list[int] = []
        index = open_index
        while index <= close_index and index < len(tokens):
            token = tokens[index]
            if token.text == "{":
                stack.append(index)
            elif token.text == "}":
                if stack:
                    stack.pop()
            elif token.text in ("let", "var", "const"):
                cursor = index + 1
                if token.text == "var" and cursor < len(tokens) and tokens[cursor].text == "<":
                    cursor = self._skip_parens(cursor, "<", ">")
                name = self._name_after(cursor)
                if name is not None:
                    type_text = None
                    after = cursor + 1
                    if after < len(tokens) and tokens[after].text == ":":
                        type_text, after = self._read_type(after + 1, ("=", ";"))
                    initializer = None
                    if type_text is None and after < len(tokens) and tokens[after].text == "=":
                        type_text = self._infer_type(after + 1)
                        initializer = self._initializer_name(after + 1)
                    end_index = self._enclosing_block_end(index, stack)
                    statement_end = after
                    while statement_end < len(tokens) and tokens[statement_end].text not in (
                        ";",
                        "{",
                        "}",
                    ):
                        statement_end += 1
                    declaration = self._text_between(index, statement_end)
                    self.locals.append(
                        Symbol(
                            name=name.text,
                            kind="var" if token.text == "var" else "let",
                            name_token=name,
                            span=self._span(index, statement_end - 1),
                            declaration=declaration,
                            type_text=type_text,
                            doc=self._doc_comment(token),
                            scope=(token.offset, tokens[end_index].end_offset),
                            initializer=initializer,
                        )
                    )
            index += 1

    def _infer_type(self, index: int) -> str | None:
        """The type of an initializer that starts with a constructor or a struct name."""
        if index < len(self.tokens) and self.tokens[index].kind == "ident":
            text = self.tokens[index].text
            if text in builtins.TYPES:
                if index + 1 < len(self.tokens) and self.tokens[index + 1].text == "<":
                    end = self._skip_parens(index + 1, "<", ">")
                    return self._text_between(index, end)
                return text
            following = self.tokens[index + 1].text if index + 1 < len(self.tokens) else ""
            if following == "(" and text not in builtins.FUNCTIONS:
                return text
        return None

    def _initializer_name(self, index: int) -> str | None:
        """``let q = p;`` -> ``"p"``: the type of ``q`` is the type of ``p``."""
        if (
            index + 1 < len(self.tokens)
            and self.tokens[index].kind == "ident"
            and self.tokens[index + 1].text in (";", "[")
        ):
            return self.tokens[index].text
        return None

    def type_of(self, symbol: Symbol) -> str | None:
        """The declared or inferred type text of a symbol (follows ``let a = b;`` chains)."""
        seen: set[int] = set()
        current: Symbol | None = symbol
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            if current.type_text:
                return current.type_text
            if current.initializer is None:
                return None
            current = self.resolve(current.initializer, current.name_token.offset - 1)
        return None

    def _parse_struct(self, index: int, start: int) -> int:
        tokens = self.tokens
        name = self._name_after(index + 1)
        if name is None:
            return index + 1
        cursor = index + 2
        members: list[Symbol] = []
        end = cursor
        if cursor < len(tokens) and tokens[cursor].text == "{":
            close = self._brace_match.get(cursor, len(tokens) - 1)
            end = close
            cursor += 1
            while cursor < close:
                member_attrs, cursor = self._read_attributes(cursor)
                member = self._name_after(cursor)
                if member is None:
                    cursor += 1
                    continue
                type_text = None
                after = cursor + 1
                if after < len(tokens) and tokens[after].text == ":":
                    type_text, after = self._read_type(after + 1, (",", "}"))
                attrs = " ".join(a for _, a in member_attrs)
                members.append(
                    Symbol(
                        name=member.text,
                        kind="member",
                        name_token=member,
                        span=member.span,
                        declaration=f"{attrs} {member.text}: {type_text}".strip(),
                        type_text=type_text,
                        doc=self._doc_comment(member),
                        attributes=tuple(n for n, _ in member_attrs),
                    )
                )
                cursor = max(after, cursor + 1)
                if cursor < len(tokens) and tokens[cursor].text == ",":
                    cursor += 1
        self.symbols.append(
            Symbol(
                name=name.text,
                kind="struct",
                name_token=name,
                span=self._span(start, end),
                declaration=f"struct {name.text}",
                doc=self._doc_comment(tokens[start]),
                children=members,
            )
        )
        return end + 1

    def _parse_global(self, index: int, start: int, attributes: list[tuple[str, str]]) -> int:
        tokens = self.tokens
        keyword = tokens[index].text
        cursor = index + 1
        if keyword == "var" and cursor < len(tokens) and tokens[cursor].text == "<":
            cursor = self._skip_parens(cursor, "<", ">")
        name = self._name_after(cursor)
        if name is None:
            return index + 1
        type_text = None
        after = cursor + 1
        if after < len(tokens) and tokens[after].text == ":":
            type_text, after = self._read_type(after + 1, ("=", ";"))
        if type_text is None and after < len(tokens) and tokens[after].text == "=":
            type_text = self._infer_type(after + 1)
        end = after
        while (
            end < len(tokens)
            and tokens[end].text not in (";",)
            and not (
                tokens[end].col == 0 and end > after and tokens[end].text in ("fn", "struct", "@")
            )
        ):
            if tokens[end].text == "{":
                end = self._brace_match.get(end, end)
            end += 1
        kind: SymbolKind = "var" if keyword == "var" else keyword  # type: ignore[assignment]
        declaration = self._text_between(start, min(end, len(tokens)))
        self.symbols.append(
            Symbol(
                name=name.text,
                kind=kind,
                name_token=name,
                span=self._span(start, min(end, len(tokens) - 1)),
                declaration=declaration,
                type_text=type_text,
                doc=self._doc_comment(tokens[start]),
                attributes=tuple(n for n, _ in attributes),
            )
        )
        return end + 1

    def _parse_alias(self, index: int, start: int) -> int:
        name = self._name_after(index + 1)
        if name is None:
            return index + 1
        cursor = index + 2
        type_text = None
        if cursor < len(self.tokens) and self.tokens[cursor].text == "=":
            type_text, cursor = self._read_type(cursor + 1, (";",))
        self.symbols.append(
            Symbol(
                name=name.text,
                kind="alias",
                name_token=name,
                span=self._span(start, min(cursor, len(self.tokens) - 1)),
                declaration=f"alias {name.text} = {type_text}",
                type_text=type_text,
                doc=self._doc_comment(self.tokens[start]),
            )
        )
        return cursor + 1

    # -- resolution --------------------------------------------------------------------------
    def resolve(self, name: str, offset: int) -> Symbol | None:
        """The declaration that ``name`` at ``offset`` refers to: innermost local first."""
        best: Symbol | None = None
        for local in self._locals_by_name.get(name, ()):
            scope = local.scope
            if scope is None or not (scope[0] <= offset <= scope[1]):
                continue
            if local.kind != "param" and local.name_token.offset > offset:
                continue
            if best is None or local.name_token.offset > best.name_token.offset:
                best = local
        if best is not None:
            return best
        return self.globals.get(name)

    def _is_member_access(self, index: int) -> bool:
        previous = self._prev(index)
        return previous is not None and previous.text in (".", "@")

    def symbol_at(self, pos: Position) -> tuple[Token, Symbol] | None:
        token = self.token_at(pos)
        if token is None or token.text in _KEYWORDS:
            return None
        index = self._index_of(token)
        if self._is_member_access(index):
            member = self._member_symbol(index)
            return (token, member) if member is not None else None
        for symbol in self.symbols:
            if symbol.kind == "struct":
                for member in symbol.children:
                    if member.name_token is token:
                        return token, member
        resolved = self.resolve(token.text, token.offset)
        return (token, resolved) if resolved is not None else None

    def _member_symbol(self, index: int) -> Symbol | None:
        """For ``a.b`` at the index of ``b``: the struct member ``b`` when ``a``'s type is known."""
        previous = self._prev(index)
        if previous is None or previous.text != ".":
            return None
        struct = self._struct_of_expression_before(index - 1)
        if struct is None:
            return None
        return next((m for m in struct.children if m.name == self.tokens[index].text), None)

    def _struct_of_expression_before(self, dot_index: int) -> Symbol | None:
        receiver_index = dot_index - 1
        while receiver_index >= 0 and self.tokens[receiver_index].text == "]":
            depth = 0
            while receiver_index >= 0:
                text = self.tokens[receiver_index].text
                depth += 1 if text == "]" else -1 if text == "[" else 0
                receiver_index -= 1
                if depth == 0:
                    break
        if receiver_index < 0 or self.tokens[receiver_index].kind != "ident":
            return None
        receiver = self.tokens[receiver_index]
        if self._is_member_access(receiver_index):
            member = self._member_symbol(receiver_index)
            type_text = member.type_text if member else None
        else:
            symbol = self.resolve(receiver.text, receiver.offset)
            type_text = self.type_of(symbol) if symbol else None
        return self._struct_named(type_text)

    def _struct_named(self, type_text: str | None) -> Symbol | None:
        if not type_text:
            return None
        for word in reversed(re.findall(r"[^\W\d]\w*", type_text)):
            symbol = self.globals.get(word)
            if symbol is not None and symbol.kind == "struct":
                return symbol
        return None

    def references(self, pos: Position, include_declaration: bool = True) -> list[Span]:
        """Every use of the user symbol under the cursor (declaration first when included)."""
        found = self.symbol_at(pos)
        if found is None:
            return []
        _, target = found
        spans: list[Span] = []
        for index, token in enumerate(self.tokens):
            if token.kind != "ident" or token.text != target.name:
                continue
            if token is target.name_token:
                if include_declaration:
                    spans.insert(0, token.span)
                continue
            if self._is_member_access(index):
                if target.kind == "member" and self._member_symbol(index) is target:
                    spans.append(token.span)
                continue
            if target.kind == "member":
                continue
            if self.resolve(token.text, token.offset) is target:
                spans.append(token.span)
        return spans

    def definition(self, pos: Position) -> Span | None:
        found = self.symbol_at(pos)
        return found[1].name_span if found else None

    def rename(self, pos: Position, new_name: str) -> list[TextEdit] | None:
        """Edits renaming the symbol under the cursor, or None when there is none to rename."""
        if not re.fullmatch(r"[^\W\d]\w*", new_name) or new_name in _KEYWORDS:
            return None
        return [TextEdit(span, new_name) for span in self.references(pos, True)] or None

    # -- features ----------------------------------------------------------------------------
    def hover(self, pos: Position) -> HoverInfo | None:
        token = self.token_at(pos)
        if token is None:
            return None
        index = self._index_of(token)
        name = token.text
        previous = self._prev(index)
        if previous is not None and previous.text == "@" and name in builtins.ATTRIBUTES:
            return HoverInfo(f"`@{name}`\n\n{builtins.ATTRIBUTES[name]}", token.span)
        found = self.symbol_at(pos)
        if found is not None:
            _, symbol = found
            text = f"```wgsl\n{symbol.declaration}\n```"
            if symbol.stage:
                text += f"\n\n{symbol.stage} shader entry point"
            if symbol.doc:
                text += f"\n\n{symbol.doc}"
            return HoverInfo(text, token.span)
        if name in builtins.FUNCTIONS:
            function = builtins.FUNCTIONS[name]
            signatures = "\n".join(f"fn {sig}" for sig in function.signatures)
            return HoverInfo(f"```wgsl\n{signatures}\n```\n\n{function.description}", token.span)
        if name in builtins.TYPES:
            type_ = builtins.TYPES[name]
            return HoverInfo(f"```wgsl\n{name}\n```\n\n{type_.description}", token.span)
        if name in builtins.BUILTIN_VALUES:
            return HoverInfo(f"`{name}`\n\n{builtins.BUILTIN_VALUES[name]}", token.span)
        if name in builtins.ADDRESS_SPACES:
            return HoverInfo(f"`{name}`\n\n{builtins.ADDRESS_SPACES[name]}", token.span)
        return None

    def document_symbols(self) -> list[Symbol]:
        return list(self.symbols)

    def visible_names(self, offset: int) -> list[Symbol]:
        """Module-scope declarations plus the locals and parameters in scope at ``offset``."""
        seen: dict[str, Symbol] = {}
        for local in self.locals:
            scope = local.scope
            visible = scope is not None and scope[0] <= offset <= scope[1]
            if visible and (local.kind == "param" or local.name_token.end_offset < offset):
                seen[local.name] = local
        for symbol in self.symbols:
            seen.setdefault(symbol.name, symbol)
        return list(seen.values())

    def completions(self, pos: Position) -> list[CompletionCandidate]:
        """Candidates at the cursor, chosen by what precedes it (``@``, ``.``, or anything)."""
        offset = self.offset_of(pos)
        line_before = self.lines[pos.line][: pos.col] if pos.line < len(self.lines) else ""
        stripped = line_before.rstrip()
        word = re.search(r"[\w]*$", line_before)
        prefix_start = line_before[: len(line_before) - len(word.group() if word else "")]
        if "//" in line_before:
            return []
        if prefix_start.endswith("@"):
            return [
                CompletionCandidate(
                    label=name,
                    kind="attribute",
                    documentation=doc,
                    snippet=builtins.ATTRIBUTE_SNIPPETS.get(name),
                )
                for name, doc in builtins.ATTRIBUTES.items()
            ]
        if prefix_start.endswith("."):
            return self._member_completions(offset - len(word.group() if word else "") - 1)
        if re.search(r"@builtin\(\s*\w*$", stripped):
            return [
                CompletionCandidate(label=n, kind="value", documentation=d)
                for n, d in builtins.BUILTIN_VALUES.items()
            ]
        candidates: list[CompletionCandidate] = []
        for symbol in self.visible_names(offset):
            candidates.append(_symbol_candidate(symbol))
        candidates.extend(CompletionCandidate(k, "keyword") for k in builtins.KEYWORDS)
        for type_ in builtins.TYPES.values():
            candidates.append(
                CompletionCandidate(type_.name, "type", documentation=type_.description)
            )
        for function in builtins.FUNCTIONS.values():
            candidates.append(
                CompletionCandidate(
                    function.name,
                    "builtin",
                    detail=f"fn {function.signatures[0]}",
                    documentation=function.description,
                    snippet=builtins.call_snippet(function),
                )
            )
        if re.search(r"var\s*<\s*[\w, ]*$", stripped):
            candidates = [
                CompletionCandidate(n, "value", documentation=d)
                for n, d in builtins.ADDRESS_SPACES.items()
            ]
        return candidates

    def _member_completions(self, dot_offset: int) -> list[CompletionCandidate]:
        index = bisect.bisect_left(self._token_offsets, dot_offset)
        if index >= len(self.tokens) or self.tokens[index].text != ".":
            return []
        struct = self._struct_of_expression_before(index)
        if struct is not None:
            return [
                CompletionCandidate(m.name, "member", detail=m.type_text or "", documentation=m.doc)
                for m in struct.children
            ]
        receiver = self.tokens[index - 1] if index > 0 else None
        if receiver is not None and receiver.kind == "ident":
            symbol = self.resolve(receiver.text, receiver.offset)
            type_text = (self.type_of(symbol) or "") if symbol else ""
            size = re.match(r"vec([234])", type_text)
            if size:
                count = int(size.group(1))
                return [
                    CompletionCandidate(c, "member", detail="component")
                    for c in ("xyzw"[:count] + "rgba"[:count])
                ]
        return []

    def signature_help(self, pos: Position) -> SignatureInfo | None:
        """The call whose argument list holds the cursor, and which argument it is in."""
        offset = self.offset_of(pos)
        index = bisect.bisect_left(self._token_offsets, offset) - 1
        depth = 0
        commas = 0
        while index >= 0:
            text = self.tokens[index].text
            if text in (")", "]"):
                depth += 1
            elif text in ("(", "["):
                if depth == 0:
                    if text == "[":
                        return None
                    break
                depth -= 1
            elif text == "," and depth == 0:
                commas += 1
            elif text in (";", "{", "}"):
                return None
            index -= 1
        else:
            return None
        callee_index = index - 1
        if callee_index >= 0 and self.tokens[callee_index].text == ">":
            while callee_index >= 0 and self.tokens[callee_index].text != "<":
                callee_index -= 1
            callee_index -= 1
        if callee_index < 0 or self.tokens[callee_index].kind != "ident":
            return None
        name = self.tokens[callee_index].text
        symbol = self.resolve(name, self.tokens[callee_index].offset)
        if symbol is not None and symbol.kind == "function":
            params = tuple(p.declaration for p in symbol.params)
            returns = f" -> {symbol.return_type}" if symbol.return_type else ""
            label = f"fn {name}({', '.join(params)}){returns}"
            return SignatureInfo(label, params, min(commas, max(len(params) - 1, 0)), symbol.doc)
        if name in builtins.FUNCTIONS:
            function = builtins.FUNCTIONS[name]
            params = function.parameters
            return SignatureInfo(
                f"fn {function.signatures[0]}",
                params,
                min(commas, max(len(params) - 1, 0)),
                function.description,
            )
        return None

    def folding_ranges(self) -> list[Fold]:
        folds: list[Fold] = []
        for open_index, close_index in self._brace_match.items():
            start = self.tokens[open_index].line
            end = self.tokens[close_index].line
            if self.tokens[close_index].text == "}":
                end -= 1
            if end > start:
                folds.append(Fold(start, end, "region"))
        run_start: int | None = None
        previous_line = -2
        for token in self.all_tokens:
            if token.kind != "comment":
                continue
            if "\n" in token.text:
                folds.append(Fold(token.line, token.span.end.line, "comment"))
                continue
            if not self.lines[token.line].lstrip().startswith("//"):
                continue
            if token.line == previous_line + 1 and run_start is not None:
                previous_line = token.line
                continue
            if run_start is not None and previous_line > run_start:
                folds.append(Fold(run_start, previous_line, "comment"))
            run_start = previous_line = token.line
        if run_start is not None and previous_line > run_start:
            folds.append(Fold(run_start, previous_line, "comment"))
        folds.sort(key=lambda fold: (fold.start_line, fold.end_line))
        return folds

    def semantic_tokens(self) -> list[SemanticToken]:
        """Classified tokens in document order; multi-line comments are split per line."""
        result: list[SemanticToken] = []
        declarations = {s.name_token.offset for s in self.symbols}
        declarations.update(s.name_token.offset for s in self.locals)
        for struct in self.symbols:
            declarations.update(m.name_token.offset for m in struct.children)
        index = 0
        in_builtin_attr = False
        for token in self.all_tokens:
            if token.kind == "comment":
                for number, part in enumerate(token.text.split("\n")):
                    if part:
                        col = token.col if number == 0 else 0
                        result.append(SemanticToken(token.line + number, col, len(part), "comment"))
                continue
            position = index
            index += 1
            if token.kind == "number":
                result.append(SemanticToken(token.line, token.col, len(token.text), "number"))
                continue
            if token.kind != "ident":
                if token.text == ")":
                    in_builtin_attr = False
                continue
            previous = self._prev(position)
            kind, modifiers = self._classify(token, position, previous, in_builtin_attr)
            if previous is not None and previous.text == "@":
                in_builtin_attr = token.text == "builtin"
                result.append(
                    SemanticToken(previous.line, previous.col, len(token.text) + 1, "decorator")
                )
                continue
            if kind is None:
                continue
            if token.offset in declarations:
                modifiers = (*modifiers, "declaration")
            result.append(SemanticToken(token.line, token.col, len(token.text), kind, modifiers))
        return result

    def _classify(
        self, token: Token, index: int, previous: Token | None, in_builtin_attr: bool
    ) -> tuple[str | None, tuple[str, ...]]:
        name = token.text
        if name in _KEYWORDS:
            return "keyword", ()
        if previous is not None and previous.text == ".":
            return "property", ()
        if in_builtin_attr and name in builtins.BUILTIN_VALUES:
            return "enumMember", ()
        symbol = self.resolve(name, token.offset)
        if symbol is None:
            for struct in self.symbols:
                if struct.kind == "struct" and any(m.name_token is token for m in struct.children):
                    return "property", ()
            if name in builtins.FUNCTIONS:
                return "function", ("defaultLibrary",)
            if name in builtins.TYPES:
                return "type", ("defaultLibrary",)
            if name in builtins.ADDRESS_SPACES:
                return "enumMember", ()
            return None, ()
        if symbol.kind == "function":
            return "function", ()
        if symbol.kind == "struct":
            return "struct", ()
        if symbol.kind == "alias":
            return "type", ()
        if symbol.kind == "param":
            return "parameter", ()
        if symbol.kind in ("let", "const", "override"):
            return "variable", ("readonly",)
        return "variable", ()

    def quick_fixes(self, message: str, span: Span) -> list[QuickFix]:
        """Repairs for naga errors whose fix is obvious from the message and the code."""
        fixes: list[QuickFix] = []
        entry = re.search(r"Entry point (\w+) at (\w+) is invalid", message)
        if entry and "must all have bindings" in message:
            fixes.extend(self._binding_fixes(entry.group(1), entry.group(2).lower()))
        if "workgroup size is missing" in message:
            for symbol in self.symbols:
                if symbol.stage == "compute" and "workgroup_size" not in symbol.attributes:
                    line = symbol.span.start.line
                    at = self.lines[line].find("@compute")
                    if at >= 0:
                        where = Position(line, at + len("@compute"))
                        fixes.append(
                            QuickFix(
                                f"Add @workgroup_size(64) to {symbol.name}",
                                (TextEdit(Span(where, where), " @workgroup_size(64)"),),
                            )
                        )
        unknown = re.search(r"no definition in scope for identifier: `(\w+)`", message)
        if unknown:
            offset = self.offset_of(span.start)
            names = [s.name for s in self.visible_names(offset)]
            names.extend(builtins.FUNCTIONS)
            for match in difflib.get_close_matches(unknown.group(1), names, n=3, cutoff=0.6):
                fixes.append(QuickFix(f"Change to `{match}`", (TextEdit(span, match),)))
        if re.search(r"expected `;`, found", message):
            offset = self.offset_of(span.start)
            index = bisect.bisect_left(self._token_offsets, offset) - 1
            if index >= 0:
                end = self.tokens[index].span.end
                fixes.append(QuickFix("Insert missing `;`", (TextEdit(Span(end, end), ";"),)))
        return fixes

    def _binding_fixes(self, function_name: str, stage: str) -> list[QuickFix]:
        symbol = self.globals.get(function_name)
        if symbol is None or symbol.kind != "function":
            return []
        fixes: list[QuickFix] = []
        token = symbol.return_type_token
        if token is not None and not symbol.return_attributes:
            struct = self._struct_named(symbol.return_type)
            if struct is None:
                attribute = "@builtin(position) " if stage == "vertex" else "@location(0) "
                where = Position(token.line, token.col)
                fixes.append(
                    QuickFix(
                        f"Add `{attribute.strip()}` to the return type of {function_name}",
                        (TextEdit(Span(where, where), attribute),),
                    )
                )
        if stage in ("vertex", "fragment"):
            edits: list[TextEdit] = []
            used = 0
            for param in symbol.params:
                if param.attributes or self._struct_named(param.type_text):
                    continue
                where = Position(param.name_token.line, param.name_token.col)
                edits.append(TextEdit(Span(where, where), f"@location({used}) "))
                used += 1
            if edits:
                fixes.append(
                    QuickFix(f"Add `@location` to the parameters of {function_name}", tuple(edits))
                )
        return fixes

    def comment_prompt(self, pos: Position) -> CommentPrompt | None:
        """The comment the user wants turned into code at ``pos``, if there is one.

        Either the cursor ends a ``//`` line, or it sits on a blank line directly below a
        ``//`` line. Consecutive ``//`` lines join into one prompt.
        """
        if pos.line >= len(self.lines):
            return None
        current = self.lines[pos.line]
        if current.strip().startswith("//") and current[pos.col :].strip() == "":
            last = pos.line
            insert = Position(pos.line + 1, 0)
        elif (
            current.strip() == ""
            and pos.line > 0
            and self.lines[pos.line - 1].strip().startswith("//")
        ):
            last = pos.line - 1
            insert = Position(pos.line, 0)
        else:
            return None
        first = last
        while first > 0 and self.lines[first - 1].strip().startswith("//"):
            first -= 1
        parts = [self.lines[n].strip()[2:].strip("/ \t") for n in range(first, last + 1)]
        prompt = " ".join(p for p in parts if p)
        if not prompt:
            return None
        indent = re.match(r"\s*", self.lines[last])
        comment = Span(Position(first, 0), Position(last, len(self.lines[last])))
        return CommentPrompt(prompt, comment, insert, indent.group() if indent else "")


def _symbol_candidate(symbol: Symbol) -> CompletionCandidate:
    kind_map: dict[str, str] = {
        "function": "function",
        "struct": "struct",
        "alias": "struct",
        "param": "param",
        "const": "constant",
        "override": "constant",
    }
    kind = kind_map.get(symbol.kind, "variable")
    detail = symbol.declaration.split("\n")[-1]
    return CompletionCandidate(symbol.name, kind, detail=detail, documentation=symbol.doc)  # type: ignore[arg-type]
