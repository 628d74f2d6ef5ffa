"""Tokenizers for both sides of the model: English prompts in, WGSL out.

One :class:`Tokenizer` class serves both sides; each side has its own lexer and vocabulary.

WGSL side
    The lexer (on the ``regex`` package) splits source into keywords, identifiers, attributes
    (``@group`` is one token), operators (``&&``, ``<<``, ``->``, ``+=`` ...), punctuation,
    comments and numbers. Closed type specifiers over one scalar (``vec4<f32>``,
    ``texture_2d<f32>``, ``atomic<u32>``) are single lexemes because they are by far the most
    frequent types; everything else with a template list (``array<f32, 64>``, ``var<storage,
    read_write>``, ``ptr<function, f32>``) is lexed part by part, with ``<``/``>`` tracked as
    template brackets the way the WGSL grammar does it.

    Whitespace is not stored except for line breaks: ``"\\n"`` and ``"\\n\\n"`` (a blank line) are
    tokens. Decoding lays the tokens out again with fixed spacing rules and indents each line by
    its bracket depth, so ``decode(encode(code))`` is the same program up to whitespace, and for
    code already in that layout (:func:`format_wgsl`) it is the identical string.

Prompt side
    Words (letters, digits and ``_``), numbers and single punctuation marks, optionally
    lower-cased.

Both sides
    Numbers are always spelt digit by digit (``3.5`` -> ``3 ##. ##5``) so that the model learns to
    copy any number from the prompt into the code. A word missing from the vocabulary (below
    ``min_freq`` or never seen) is split greedily into known pieces: a leading word, then
    ``##``-prefixed continuation pieces, down to single characters and, for non-ASCII text, UTF-8
    bytes. So no identifier or word ever becomes ``<unk>``; ``<unk>`` is only produced for ids
    outside the vocabulary.

A model whose prompts are read by a pretrained encoder uses that encoder's own tokenizer
(:class:`engine.text_encoder.PretrainedTokenizer`) on the prompt side instead;
:class:`PromptTokenizer` is what both kinds offer and :func:`load_prompt_tokenizer` reads either.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Literal, NamedTuple, Protocol

import regex

PAD = "<pad>"
UNK = "<unk>"
SOS = "<sos>"
EOS = "<eos>"
SPECIAL_TOKENS: tuple[str, ...] = (PAD, UNK, SOS, EOS)

NEWLINE = "\n"
BLANK_LINE = "\n\n"
GLUE = "##"

Side = Literal["wgsl", "prompt"]

# Every WGSL operator and punctuation mark, longest first so the lexer prefers `<<=` over `<<`.
WGSL_OPERATORS: tuple[str, ...] = (
    "<<=",
    ">>=",
    "->",
    "&&",
    "||",
    "<<",
    ">>",
    "<=",
    ">=",
    "==",
    "!=",
    "+=",
    "-=",
    "*=",
    "/=",
    "%=",
    "&=",
    "|=",
    "^=",
    "++",
    "--",
    "+",
    "-",
    "*",
    "/",
    "%",
    "&",
    "|",
    "^",
    "~",
    "!",
    "<",
    ">",
    "=",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    ":",
    ".",
    "@",
)

# Identifiers after which `<` opens a template list rather than comparing.
_TEMPLATE_TAKERS = regex.compile(
    r"(?:array|ptr|atomic|var|bitcast|vec[234]|mat[234]x[234]|binding_array|texture_(?:1d|2d|"
    r"2d_array|3d|cube|cube_array|multisampled_2d|storage_1d|storage_2d|storage_2d_array|"
    r"storage_3d))"
)

_SCALAR = r"(?:f32|f16|i32|u32|bool)"
_CLOSED_TYPE = (
    r"(?:vec[234]|mat[234]x[234]|atomic|texture_(?:1d|2d|2d_array|3d|cube|cube_array|"
    r"multisampled_2d))<" + _SCALAR + r">"
)

_WGSL_LEXEME = regex.compile(
    r"""
    [ \t\r\f\v\u0085\u200e\u200f\u2028\u2029]*
    (?:
    (?P<ws>\n[\s]*)
  | (?P<comment>//[^\n]*|/\*(?s:.*?)(?:\*/|\Z))
  | (?P<type>"""
    + _CLOSED_TYPE
    + r"""(?![\p{XID_Continue}]))
  | (?P<attr>@[\p{XID_Start}_][\p{XID_Continue}]*)
  | (?P<number>0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+[fh]?|[iu])?
      |(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fh]?
      |[0-9]+[eE][+-]?[0-9]+[fh]?
      |[0-9]+[iufh]?)
  | (?P<word>[\p{XID_Start}_][\p{XID_Continue}]*)
  | (?P<op>"""
    + "|".join(regex.escape(op) for op in WGSL_OPERATORS)
    + r""")
  | (?P<other>[^ \t\r\f\v\n\u0085\u200e\u200f\u2028\u2029])
    )""",
    regex.VERBOSE,
)

_PROMPT_LEXEME = regex.compile(
    r"(?P<ws>\s+)|(?P<number>[0-9]+(?:\.[0-9]+)?)|(?P<word>[\p{L}\p{M}_][\p{L}\p{M}\p{N}_]*)"
    r"|(?P<other>.)",
    regex.DOTALL,
)


class Lexeme(NamedTuple):
    """One lexical unit: its text and kind (word, number, op, type, attr, comment, newline)."""

    text: str
    kind: str


def lex_wgsl(source: str) -> list[Lexeme]:
    """Split WGSL into lexemes; whitespace survives only as newline / blank-line lexemes.

    Inside a template list a ``>>`` is split into two closing brackets, as the WGSL grammar
    requires (``array<array<f32, 4>>``).
    """
    out: list[Lexeme] = []
    append = out.append
    depth = 0  # open template lists
    last_code: Lexeme | None = None
    for m in _WGSL_LEXEME.finditer(source):
        kind = m.lastgroup or "other"
        if kind == "ws":
            if out:
                nl = BLANK_LINE if m.group(kind).count("\n") >= 2 else NEWLINE
                if out[-1].kind == "newline":
                    if nl == BLANK_LINE:
                        out[-1] = Lexeme(BLANK_LINE, "newline")
                else:
                    append(Lexeme(nl, "newline"))
            continue
        text = m.group(kind)
        if kind == "op":
            if text == "<" and last_code is not None and _opens_template(last_code):
                depth += 1
            elif depth and text in (">", ">>", ">=", ">>="):
                if text == ">>":
                    append(Lexeme(">", "op"))
                    depth -= 1
                    if depth:
                        depth -= 1
                    last_code = Lexeme(">", "op")
                    append(last_code)
                    continue
                depth -= 1
                if text != ">":
                    append(Lexeme(">", "op"))
                    text = text[1:]
            elif text in (";", "{", "}"):
                depth = 0
        lexeme = Lexeme(text, kind)
        append(lexeme)
        if kind != "comment":
            last_code = lexeme
    while out and out[-1].kind == "newline":
        out.pop()
    return out


def _opens_template(prev: Lexeme) -> bool:
    return prev.kind == "word" and _TEMPLATE_TAKERS.fullmatch(prev.text) is not None


def lex_prompt(text: str, lowercase: bool) -> list[Lexeme]:
    """Split a prompt into words, numbers and single punctuation marks."""
    if lowercase:
        text = text.lower()
    out: list[Lexeme] = []
    for m in _PROMPT_LEXEME.finditer(text):
        kind = m.lastgroup or "other"
        if kind != "ws":
            out.append(Lexeme(m.group(), kind))
    return out


# --- layout -------------------------------------------------------------------------------------

_KEYWORDS_BEFORE_PAREN = frozenset(
    {"if", "for", "while", "switch", "return", "loop", "case", "else", "let", "var", "const"}
)
_PREFIX_KEYWORDS = frozenset({"return", "case"})
_CLOSERS = frozenset({")", "]", "}"})
_OPENERS = frozenset({"(", "[", "{"})
_NO_SPACE_BEFORE = frozenset({")", "]", ",", ";", ".", ":", "++", "--"})
_NO_SPACE_AFTER = frozenset({"(", "[", ".", "@"})
_UNARY_CAPABLE = frozenset({"-", "!", "~", "&", "*"})
_OPERAND_END_KINDS = frozenset({"word", "number", "type"})
_TWO_CHAR = frozenset(op for op in WGSL_OPERATORS if len(op) >= 2) | {"//", "/*", "*/"}


def _is_wordlike(text: str) -> bool:
    return bool(text) and (text[0].isalnum() or text[0] == "_" or ord(text[0]) > 127)


def _kind_of(text: str) -> str:
    if text in (NEWLINE, BLANK_LINE):
        return "newline"
    if text.startswith("//") or text.startswith("/*"):
        return "comment"
    if text.startswith("@") and len(text) > 1:
        return "attr"
    if text[0].isdigit() or (text[0] == "." and len(text) > 1 and text[1].isdigit()):
        return "number"
    if "<" in text and _is_wordlike(text):
        return "type"
    if _is_wordlike(text):
        return "word"
    return "op"


def format_wgsl(source: str) -> str:
    """Lay WGSL out in the canonical style that :meth:`Tokenizer.decode` produces.

    Only whitespace changes; the lexemes are kept exactly.
    """
    return layout_wgsl([lx.text for lx in lex_wgsl(source)])


def layout_wgsl(lexemes: Sequence[str]) -> str:
    """Join WGSL lexemes with canonical spacing, line breaks and four-space indentation."""
    lines: list[list[str]] = [[]]
    blank_after: list[bool] = []
    for text in lexemes:
        if text in (NEWLINE, BLANK_LINE):
            if lines[-1]:
                blank_after.append(text == BLANK_LINE)
                lines.append([])
            elif blank_after and text == BLANK_LINE:
                blank_after[-1] = True
            continue
        lines[-1].append(text)
        if text.startswith("//"):
            blank_after.append(False)
            lines.append([])
    if not lines[-1]:
        lines.pop()
    out: list[str] = []
    depth = 0
    template_depth = 0
    prev_kind: str | None = None
    prev_text: str | None = None
    for index, line in enumerate(lines):
        leading_closers = 0
        for text in line:
            if text in _CLOSERS:
                leading_closers += 1
            else:
                break
        indent = max(0, depth - min(leading_closers, 1))
        parts: list[str] = ["    " * indent]
        prev_kind, prev_text = None, None
        prev_unary = False
        prev_template_open = False
        prev_template_close = False
        for text in line:
            kind = _kind_of(text)
            is_template_open = (
                text == "<"
                and prev_kind == "word"
                and _TEMPLATE_TAKERS.fullmatch(prev_text or "") is not None
            )
            is_template_close = text == ">" and template_depth > 0
            is_unary = text in _UNARY_CAPABLE and (
                prev_text is None
                or prev_text in _PREFIX_KEYWORDS
                or not (
                    prev_kind in _OPERAND_END_KINDS or prev_text in _CLOSERS or prev_template_close
                )
            )
            if prev_text is not None:
                space = _space_between(
                    prev_text,
                    prev_kind,
                    text,
                    kind,
                    prev_unary=prev_unary,
                    prev_template_open=prev_template_open,
                    template_open=is_template_open,
                    template_close=is_template_close,
                    prev_template_close=prev_template_close,
                )
                closes_after_close = prev_template_close or prev_kind == "type"
                if not space and not (is_template_close and closes_after_close):
                    space = _would_fuse(prev_text, text)
                if space:
                    parts.append(" ")
            parts.append(text)
            if is_template_open:
                template_depth += 1
            elif is_template_close:
                template_depth -= 1
            elif text in (";", "{", "}"):
                template_depth = 0
            if text in _OPENERS:
                depth += 1
            elif text in _CLOSERS:
                depth = max(0, depth - 1)
            prev_unary = is_unary
            prev_template_open = is_template_open
            prev_template_close = is_template_close
            prev_kind, prev_text = kind, text
        out.append("".join(parts).rstrip())
        if index < len(blank_after) and blank_after[index]:
            out.append("")
    return "\n".join(out) + "\n" if out else ""


def _space_between(
    prev: str,
    prev_kind: str | None,
    text: str,
    kind: str,
    *,
    prev_unary: bool,
    prev_template_open: bool,
    template_open: bool,
    template_close: bool,
    prev_template_close: bool,
) -> bool:
    if template_open or template_close or prev_template_open:
        return False
    if prev_unary:
        return False
    if kind == "comment":
        return True
    if prev == "{" and text == "}":
        return False
    if text in _NO_SPACE_BEFORE or prev in _NO_SPACE_AFTER:
        return False
    if prev_kind == "attr" and text == "(":
        return False
    if text == "(":
        if prev_kind in ("word", "type"):
            return prev in _KEYWORDS_BEFORE_PAREN
        return not prev_template_close
    if text == "[":
        return not (prev_kind in ("word", "type", "number") or prev in _CLOSERS)
    return True


def _would_fuse(prev: str, text: str) -> bool:
    """Whether writing ``prev`` and ``text`` with no space would lex as something else."""
    if _is_wordlike(prev[-1]) and _is_wordlike(text[0]):
        return True
    if prev[-1] == "." and text[0].isdigit():
        return True
    if prev[-1].isdigit() and text[0] == ".":
        return True
    pair = prev[-1] + text[0]
    return any(op.startswith(pair) for op in _TWO_CHAR)


# --- vocabulary and fallback pieces --------------------------------------------------------------

_ASCII_PIECES = [chr(c) for c in range(0x21, 0x7F)]
_CONTINUATION_CHARS = [*_ASCII_PIECES, " ", "\t", "\n"]
_BYTE_PIECES = [f"<0x{b:02X}>" for b in (*range(0x20), *range(0x7F, 0x100))]


def _base_vocab(side: Side) -> list[str]:
    base: list[str] = list(SPECIAL_TOKENS)
    if side == "wgsl":
        base += [NEWLINE, BLANK_LINE, "//", "/*"]
        base += [op for op in WGSL_OPERATORS if op not in base]
    base += [c for c in _ASCII_PIECES if c not in base]
    base += _BYTE_PIECES
    base += [GLUE + c for c in _CONTINUATION_CHARS]
    base += [GLUE + b for b in _BYTE_PIECES]
    return base


def _is_identifier_piece(text: str) -> bool:
    return len(text) >= 2 and all(c.isalnum() or c == "_" for c in text) and not text[0].isdigit()


class Tokenizer:
    """Maps text to ids and back for one side of the model (``side`` is "wgsl" or "prompt").

    ``encode`` adds no sos/eos; ``decode`` stops at eos and skips pad/sos. Unknown words are
    spelt in pieces (see the module docstring) so that they round-trip.
    """

    def __init__(self, side: Side, tokens: Sequence[str], lowercase: bool = False) -> None:
        if side not in ("wgsl", "prompt"):
            raise ValueError(f"tokenizer side must be 'wgsl' or 'prompt', not {side!r}")
        if tuple(tokens[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise ValueError(f"a vocabulary must start with {', '.join(SPECIAL_TOKENS)}")
        if len(set(tokens)) != len(tokens):
            raise ValueError("a vocabulary must not repeat tokens")
        self.side: Side = side
        self.lowercase = lowercase
        self.tokens: list[str] = list(tokens)
        self.token_to_id: dict[str, int] = {t: i for i, t in enumerate(self.tokens)}
        self.pad_id = self.token_to_id[PAD]
        self.unk_id = self.token_to_id[UNK]
        self.sos_id = self.token_to_id[SOS]
        self.eos_id = self.token_to_id[EOS]
        missing = [t for t in _base_vocab(side) if t not in self.token_to_id]
        if missing:
            raise ValueError(f"vocabulary lacks the base pieces, e.g. {missing[0]!r}")
        self._max_word = max((len(t) for t in self.tokens if _is_identifier_piece(t)), default=1)
        self._cache: dict[str, tuple[int, ...]] = {}

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    def lex(self, text: str) -> list[Lexeme]:
        if self.side == "wgsl":
            return lex_wgsl(text)
        return lex_prompt(text, self.lowercase)

    def tokenize(self, text: str) -> list[str]:
        """The token strings ``encode`` would produce (for inspection and statistics)."""
        return [self.tokens[i] for i in self.encode(text)]

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for lx in self.lex(text):
            ids.extend(self._encode_lexeme(lx))
        return ids

    def _encode_lexeme(self, lx: Lexeme) -> tuple[int, ...]:
        cached = self._cache.get(lx.text)
        if cached is not None:
            return cached
        result = tuple(self._pieces(lx))
        if len(self._cache) < 200_000:
            self._cache[lx.text] = result
        return result

    def _pieces(self, lx: Lexeme) -> Iterator[int]:
        vocab = self.token_to_id
        text = lx.text
        if lx.kind == "comment":
            yield vocab[text[:2]]
            yield from self._spell(text[2:], start=False)
            return
        if lx.kind == "number":
            yield from self._spell(text, start=True)
            return
        known = vocab.get(text)
        if known is not None:
            yield known
            return
        if lx.kind == "type":
            yield from self._encode_type_parts(text)
            return
        yield from self._wordpiece(text)

    def _encode_type_parts(self, text: str) -> Iterator[int]:
        head, _, rest = text.partition("<")
        yield from self._wordpiece(head)
        yield self.token_to_id["<"]
        yield from self._wordpiece(rest[:-1])
        yield self.token_to_id[">"]

    def _wordpiece(self, text: str) -> Iterator[int]:
        vocab = self.token_to_id
        pos = 0
        start = True
        while pos < len(text):
            end = min(len(text), pos + self._max_word)
            found: int | None = None
            while end > pos + 1:
                candidate = text[pos:end]
                if _is_identifier_piece(candidate):
                    found = vocab.get(candidate if start else GLUE + candidate)
                    if found is not None:
                        break
                end -= 1
            if found is None:
                yield from self._spell(text[pos], start=start)
                pos += 1
            else:
                yield found
                pos = end
            start = False

    def _spell(self, text: str, start: bool) -> Iterator[int]:
        """Spell text character by character (UTF-8 bytes outside ASCII)."""
        vocab = self.token_to_id
        for ch in text:
            prefix = "" if start else GLUE
            found = vocab.get(prefix + ch)
            if found is not None:
                yield found
            else:
                for b in ch.encode("utf-8"):
                    yield vocab[f"{prefix}<0x{b:02X}>"]
                    prefix = GLUE
            start = False

    def decode(self, ids: Sequence[int]) -> str:
        lexemes: list[str] = []
        pending: bytearray | None = None
        for i in ids:
            if i == self.eos_id:
                break
            if i in (self.pad_id, self.sos_id):
                continue
            tok = self.tokens[i] if 0 <= i < len(self.tokens) else UNK
            glue = tok.startswith(GLUE) and len(tok) > len(GLUE)
            piece = tok[len(GLUE) :] if glue else tok
            byte = _byte_value(piece)
            if not glue:
                if pending is not None:
                    lexemes[-1] += pending.decode("utf-8", errors="replace")
                    pending = None
                lexemes.append("")
            if byte is not None:
                if pending is None:
                    pending = bytearray()
                pending.append(byte)
                continue
            if pending is not None:
                lexemes[-1] += pending.decode("utf-8", errors="replace")
                pending = None
            if not lexemes:
                lexemes.append("")
            lexemes[-1] += piece
        if pending is not None:
            lexemes[-1] += pending.decode("utf-8", errors="replace")
        if self.side == "wgsl":
            return layout_wgsl(lexemes)
        return _join_prompt(lexemes)

    def to_json(self) -> dict[str, object]:
        return {
            "format": "tiny-agent-trainer-tokenizer",
            "version": 1,
            "side": self.side,
            "lowercase": self.lowercase,
            "tokens": self.tokens,
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the vocabulary as JSON, atomically (temp file + rename)."""
        from engine.model import atomic_write_bytes

        text = json.dumps(self.to_json(), ensure_ascii=False, indent=0)
        atomic_write_bytes(Path(path), text.encode("utf-8"))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Tokenizer:
        """Read a vocabulary written by :meth:`save`; raises TokenizerError naming the file."""
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise TokenizerError(f"{p}: cannot read tokenizer: {exc.strerror or exc}") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise TokenizerError(f"{p}: not a tokenizer JSON file: {exc}") from exc
        if not isinstance(data, dict) or data.get("format") != "tiny-agent-trainer-tokenizer":
            raise TokenizerError(f"{p}: not a tokenizer file written by tiny-agent-trainer")
        tokens = data.get("tokens")
        side = data.get("side")
        lowercase = data.get("lowercase", False)
        if (
            not isinstance(tokens, list)
            or not all(isinstance(t, str) for t in tokens)
            or side not in ("wgsl", "prompt")
            or not isinstance(lowercase, bool)
        ):
            raise TokenizerError(f"{p}: tokenizer file has a malformed 'tokens' or 'side' entry")
        try:
            return cls(side, tokens, lowercase=lowercase)
        except ValueError as exc:
            raise TokenizerError(f"{p}: {exc}") from exc


class TokenizerError(Exception):
    """A tokenizer file could not be loaded; the message names the file."""


class PromptTokenizer(Protocol):
    """What training and generation need from the prompt side's tokenizer."""

    @property
    def vocab_size(self) -> int: ...
    @property
    def pad_id(self) -> int: ...
    @property
    def unk_id(self) -> int: ...
    def encode(self, text: str) -> list[int]: ...
    def save(self, path: str | os.PathLike[str]) -> None: ...


def new_prompt_tokenizer(
    prompt_encoder: str, prompts: Iterable[str], min_freq: int = 1, lowercase: bool = False
) -> PromptTokenizer:
    """The prompt tokenizer a new model gets: the pretrained encoder's own when
    ``prompt_encoder`` names one (raises :class:`engine.text_encoder.PromptEncoderError`), else
    a vocabulary built from ``prompts``."""
    if prompt_encoder:
        from engine.text_encoder import PretrainedTokenizer

        return PretrainedTokenizer(prompt_encoder)
    return build_prompt_tokenizer(prompts, min_freq, lowercase)


def load_prompt_tokenizer(path: str | os.PathLike[str]) -> PromptTokenizer:
    """A prompt tokenizer file: this module's own vocabulary, or a pretrained encoder's name."""
    from engine.text_encoder import (
        PretrainedTokenizer,
        PromptEncoderError,
        pretrained_tokenizer_name,
    )

    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return Tokenizer.load(p)  # which names the problem
    name = pretrained_tokenizer_name(data)
    if name is None:
        return Tokenizer.load(p)
    try:
        return PretrainedTokenizer(name)
    except PromptEncoderError as exc:
        raise TokenizerError(f"{p}: {exc}") from None


def _byte_value(piece: str) -> int | None:
    if len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
        try:
            return int(piece[3:5], 16)
        except ValueError:
            return None
    return None


def _join_prompt(words: Sequence[str]) -> str:
    out: list[str] = []
    for w in words:
        if out and not (w in ",.;:!?)" or out[-1] in ("(",)):
            out.append(" ")
        out.append(w)
    return "".join(out)


def _build(side: Side, lexemes: Iterable[Lexeme], min_freq: int, lowercase: bool) -> Tokenizer:
    counts: Counter[str] = Counter()
    for lx in lexemes:
        if lx.kind in ("number", "comment", "newline", "ws"):
            continue
        counts[lx.text] += 1
    base = _base_vocab(side)
    seen = set(base)
    words = sorted(
        (t for t, c in counts.items() if c >= max(1, min_freq) and t not in seen),
        key=lambda t: (-counts[t], t),
    )
    tokens = base + words
    continuations = [GLUE + w for w in words if _is_identifier_piece(w) and GLUE + w not in seen]
    return Tokenizer(side, tokens + continuations, lowercase=lowercase)


def build_wgsl_tokenizer(codes: Iterable[str], min_freq: int = 1) -> Tokenizer:
    """Vocabulary from WGSL sources: every lexeme seen at least ``min_freq`` times."""
    return _build("wgsl", (lx for code in codes for lx in lex_wgsl(code)), min_freq, False)


def build_prompt_tokenizer(
    prompts: Iterable[str], min_freq: int = 1, lowercase: bool = False
) -> Tokenizer:
    """Vocabulary from prompts: every word seen at least ``min_freq`` times."""
    return _build(
        "prompt",
        (lx for p in prompts for lx in lex_prompt(p, lowercase)),
        min_freq,
        lowercase,
    )
