"""Fit generated WGSL into the file it lands in.

A completion is a whole module (functions, structs, globals, entry points). Pasted into a file
that already declares ``main`` or uses ``@group(0) @binding(0)``, it would make the file invalid.
:func:`fit_to_context` renames the generated module-scope declarations that clash with the
file's and moves clashing resource bindings to free slots, consistently inside the generated
code, so that accepting a completion into a valid file leaves it valid. Names the generated code
uses but does not declare (a struct the file already has) are left alone: they refer to the file.

The scanner here is deliberately small: it knows comments, identifiers, numbers and
punctuation, brace depth, attributes and struct bodies — enough to find module-scope
declarations and rewrite identifiers without touching member accesses or struct fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<line_comment>//[^\n]*)"
    r"|(?P<block_comment>/\*)"
    r"|(?P<number>0[xX][0-9a-fA-F]+[iuf]?|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[iufh]?)"
    r"|(?P<ident>[^\W\d]\w*)"
    r"|(?P<punct>->|&&|\|\||<<|>>|[<>=!]=|\+\+|--|[-+*/%&|^~!<>=(){}\[\];:,.@])"
    r"|(?P<other>.)",
    re.DOTALL,
)

# Words that may never become a generated name (a rename must produce a valid identifier).
_RESERVED = frozenset(
    [
        "alias",
        "break",
        "case",
        "const",
        "const_assert",
        "continue",
        "continuing",
        "default",
        "diagnostic",
        "discard",
        "else",
        "enable",
        "false",
        "fn",
        "for",
        "if",
        "let",
        "loop",
        "override",
        "requires",
        "return",
        "struct",
        "switch",
        "true",
        "var",
        "while",
        "f32",
        "f16",
        "i32",
        "u32",
        "bool",
        "vec2",
        "vec3",
        "vec4",
        "mat2x2",
        "mat3x3",
        "mat4x4",
        "array",
        "atomic",
        "ptr",
        "sampler",
        "texture_2d",
        "texture_storage_2d",
    ]
)

_DECL_KEYWORDS = frozenset({"fn", "struct", "var", "const", "override", "alias"})
# Attributes whose parenthesised arguments are enumerants, never references to declarations.
_ENUM_ATTRIBUTES = frozenset({"builtin", "interpolate", "diagnostic"})


@dataclass(frozen=True)
class Token:
    kind: str  # "ident" | "number" | "punct" | "other"
    text: str
    start: int
    end: int


class FitError(ValueError):
    """The source cannot be scanned (an unterminated block comment)."""


def scan(source: str) -> list[Token]:
    """Tokens of ``source`` without whitespace and comments; offsets index into ``source``."""
    tokens: list[Token] = []
    pos = 0
    n = len(source)
    while pos < n:
        m = _TOKEN.match(source, pos)
        if m is None:  # pragma: no cover - the pattern ends in a catch-all
            raise FitError(f"cannot scan WGSL at offset {pos}")
        kind = m.lastgroup or "other"
        if kind == "block_comment":
            pos = _skip_block_comment(source, m.start())
            continue
        if kind not in ("ws", "line_comment"):
            tokens.append(Token(kind, m.group(), m.start(), m.end()))
        pos = m.end()
    return tokens


def _skip_block_comment(source: str, start: int) -> int:
    depth = 0
    pos = start
    while pos < len(source):
        if source.startswith("/*", pos):
            depth += 1
            pos += 2
        elif source.startswith("*/", pos):
            depth -= 1
            pos += 2
            if depth == 0:
                return pos
        else:
            pos += 1
    raise FitError(f"unterminated block comment starting at offset {start}")


@dataclass(frozen=True)
class Declaration:
    """A module-scope declaration: its keyword, name, and resource slot when it has one."""

    keyword: str
    name: str
    name_token: int  # index into the token list
    group: int | None = None
    binding: int | None = None
    group_token: int | None = None
    binding_token: int | None = None


@dataclass
class _Attribute:
    name: str
    args: list[int] = field(default_factory=list)  # token indices of the arguments


def module_declarations(tokens: list[Token]) -> list[Declaration]:
    """Module-scope declarations in source order (functions, structs, globals, aliases)."""
    decls: list[Declaration] = []
    depth = 0
    pending: list[_Attribute] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.text in ("{", "(", "["):
            depth += 1
        elif tok.text in ("}", ")", "]"):
            depth = max(depth - 1, 0)
        elif depth == 0 and tok.text == "@" and i + 1 < len(tokens):
            attr = _Attribute(tokens[i + 1].text)
            i += 2
            if i < len(tokens) and tokens[i].text == "(":
                close = _matching(tokens, i)
                attr.args = list(range(i + 1, close))
                i = close + 1
            pending.append(attr)
            continue
        elif depth == 0 and tok.kind == "ident" and tok.text in _DECL_KEYWORDS:
            j = i + 1
            if tok.text == "var" and j < len(tokens) and tokens[j].text == "<":
                while j < len(tokens) and tokens[j].text != ">":
                    j += 1
                j += 1
            if j < len(tokens) and tokens[j].kind == "ident":
                group, binding, group_tok, binding_tok = _slot(tokens, pending)
                decls.append(
                    Declaration(tok.text, tokens[j].text, j, group, binding, group_tok, binding_tok)
                )
            pending = []
            i = j + 1
            continue
        elif depth == 0 and tok.text == ";":
            pending = []
        i += 1
    return decls


def _matching(tokens: list[Token], open_index: int) -> int:
    depth = 0
    for k in range(open_index, len(tokens)):
        if tokens[k].text == "(":
            depth += 1
        elif tokens[k].text == ")":
            depth -= 1
            if depth == 0:
                return k
    return len(tokens) - 1


def _slot(
    tokens: list[Token], attrs: list[_Attribute]
) -> tuple[int | None, int | None, int | None, int | None]:
    group = binding = group_tok = binding_tok = None
    for attr in attrs:
        if attr.name in ("group", "binding") and len(attr.args) == 1:
            idx = attr.args[0]
            value = _int_literal(tokens[idx].text)
            if value is None:
                continue
            if attr.name == "group":
                group, group_tok = value, idx
            else:
                binding, binding_tok = value, idx
    return group, binding, group_tok, binding_tok


def _int_literal(text: str) -> int | None:
    body = text.rstrip("iu")
    try:
        return int(body, 16) if body.lower().startswith("0x") else int(body)
    except ValueError:
        return None


def _reference_positions(tokens: list[Token]) -> list[int]:
    """Indices of identifier tokens that may name a module-scope declaration.

    Excluded: member accesses (``a.name``), struct member declarations, attribute names and
    the enumerant arguments of ``@builtin(...)``-like attributes.
    """
    out: list[int] = []
    depth = 0
    struct_depths: list[int] = []
    expect_struct_body = False
    enum_paren_depth: int | None = None
    for i, tok in enumerate(tokens):
        prev = tokens[i - 1].text if i > 0 else ""
        if tok.text == "{":
            depth += 1
            if expect_struct_body:
                struct_depths.append(depth)
                expect_struct_body = False
            continue
        if tok.text == "}":
            if struct_depths and struct_depths[-1] == depth:
                struct_depths.pop()
            depth -= 1
            continue
        if tok.text == "(":
            if prev in _ENUM_ATTRIBUTES and i >= 2 and tokens[i - 2].text == "@":
                enum_paren_depth = 1
            elif enum_paren_depth is not None:
                enum_paren_depth += 1
            continue
        if tok.text == ")" and enum_paren_depth is not None:
            enum_paren_depth -= 1
            if enum_paren_depth == 0:
                enum_paren_depth = None
            continue
        if tok.kind != "ident":
            continue
        if tok.text == "struct" and depth == 0:
            expect_struct_body = True
        if prev in (".", "@") or enum_paren_depth is not None:
            continue
        in_struct_body = bool(struct_depths) and struct_depths[-1] == depth
        next_text = tokens[i + 1].text if i + 1 < len(tokens) else ""
        if in_struct_body and next_text == ":":
            continue
        out.append(i)
    return out


@dataclass(frozen=True)
class FitResult:
    """The fitted code and what changed: ``renamed`` old -> new names, ``rebound`` old -> new
    ``(group, binding)`` slots."""

    code: str
    renamed: dict[str, str]
    rebound: dict[tuple[int, int], tuple[int, int]]


def declared_names(source: str) -> set[str]:
    """Module-scope names declared in ``source`` (functions, structs, globals, aliases)."""
    return {d.name for d in module_declarations(scan(source))}


def used_slots(source: str) -> set[tuple[int, int]]:
    """``(group, binding)`` pairs of the resources ``source`` declares."""
    return {
        (d.group, d.binding)
        for d in module_declarations(scan(source))
        if d.group is not None and d.binding is not None
    }


def fit_to_context(code: str, context: str) -> FitResult:
    """Rename and renumber ``code``'s declarations so that it can be inserted into ``context``.

    Only declarations of ``code`` that clash with ``context`` change; every reference to them
    inside ``code`` follows. A clashing resource keeps its group and takes the lowest binding
    free in that group. If either text cannot be scanned the code is returned unchanged.
    """
    try:
        tokens = scan(code)
        context_tokens = scan(context)
    except FitError:
        return FitResult(code, {}, {})
    context_decls = module_declarations(context_tokens)
    taken_names = {d.name for d in context_decls}
    taken_slots = {
        (d.group, d.binding) for d in context_decls if d.group is not None and d.binding is not None
    }
    decls = module_declarations(tokens)
    own_names = {d.name for d in decls}
    all_idents = {t.text for t in tokens if t.kind == "ident"}

    renamed: dict[str, str] = {}
    for decl in decls:
        if decl.name in taken_names and decl.name not in renamed:
            renamed[decl.name] = _fresh_name(
                decl.name, taken_names | own_names | all_idents | set(renamed.values())
            )

    replacements: dict[int, str] = {}
    rebound: dict[tuple[int, int], tuple[int, int]] = {}
    own_slots = {
        (d.group, d.binding) for d in decls if d.group is not None and d.binding is not None
    }
    occupied = taken_slots | own_slots
    for decl in decls:
        if decl.group is None or decl.binding is None or decl.binding_token is None:
            continue
        slot = (decl.group, decl.binding)
        if slot not in taken_slots:
            continue
        new_binding = 0
        while (decl.group, new_binding) in occupied:
            new_binding += 1
        occupied.add((decl.group, new_binding))
        rebound[slot] = (decl.group, new_binding)
        replacements[decl.binding_token] = str(new_binding)

    if renamed:
        for i in _reference_positions(tokens):
            new = renamed.get(tokens[i].text)
            if new is not None:
                replacements[i] = new

    if not replacements:
        return FitResult(code, renamed, rebound)
    parts: list[str] = []
    pos = 0
    for i in sorted(replacements):
        tok = tokens[i]
        parts.append(code[pos : tok.start])
        parts.append(replacements[i])
        pos = tok.end
    parts.append(code[pos:])
    return FitResult("".join(parts), renamed, rebound)


def _fresh_name(name: str, taken: set[str]) -> str:
    base = name.rstrip("0123456789").rstrip("_") or name
    k = 2
    while True:
        candidate = f"{base}_{k}"
        if candidate not in taken and candidate not in _RESERVED:
            return candidate
        k += 1
