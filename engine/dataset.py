"""Prompt/WGSL pairs: loading the TOML files, splitting them, and mining pairs from a workspace.

The file format is the original Tiny Agent Trainer's::

    [[examples]]
    natural_language = "compute shader that doubles every element of a buffer"
    wgsl_code = '''
    ...a complete WGSL module...
    '''
    family = "scale"            # optional, default "custom"
    tags = ["compute"]          # optional

Errors are :class:`DatasetError` (a ``ValueError``) whose message starts with ``file:line:``.
"""

from __future__ import annotations

import bisect
import logging
import os
import random
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

if TYPE_CHECKING:
    from engine.wgsl_analysis import Analysis

log = logging.getLogger(__name__)

DEFAULT_FAMILY = "custom"
_REQUIRED = ("natural_language", "wgsl_code")
_EXAMPLES_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*examples[ \t]*\]\]", re.MULTILINE)


class DatasetError(ValueError):
    """A pair file that cannot be used; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class Example:
    """One training pair. ``wgsl_code`` is a complete module that naga accepts on its own."""

    natural_language: str
    wgsl_code: str
    family: str = DEFAULT_FAMILY
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Splits:
    train: list[Example]
    val: list[Example]
    heldout: list[Example] = field(default_factory=list)


class DatasetPaths(Protocol):
    """The ``[dataset]`` keys this module reads (engine.config.DatasetConfig has them)."""

    @property
    def train_path(self) -> str | Path: ...
    @property
    def val_path(self) -> str | Path | None: ...
    @property
    def test_path(self) -> str | Path | None: ...
    @property
    def val_ratio(self) -> float: ...


def load_examples(path: Path | str) -> list[Example]:
    """Pairs from one TOML file, or from every ``*.toml`` directly inside a folder (sorted)."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.glob("*.toml") if f.is_file())
        if not files:
            raise DatasetError(f"{p}: folder holds no .toml pair files")
        out: list[Example] = []
        for f in files:
            out.extend(_load_file(f))
        return out
    if not p.exists():
        raise DatasetError(f"{p}: no such file or folder; point the path at a TOML pair file")
    return _load_file(p)


def _load_file(path: Path) -> list[Example]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc.reason}); save it as UTF-8") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DatasetError(f"{path}:{_toml_error_line(str(exc))}: invalid TOML: {exc}") from None
    headers = [text.count("\n", 0, m.start()) + 1 for m in _EXAMPLES_HEADER.finditer(text)]
    tables = doc.get("examples")
    if tables is None:
        raise DatasetError(
            f"{path}:1: no [[examples]] tables; add pairs as [[examples]] with "
            "natural_language and wgsl_code"
        )
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise DatasetError(f"{path}:1: 'examples' must be an array of tables ([[examples]])")
    examples: list[Example] = []
    lines = text.split("\n")
    for index, table in enumerate(tables):
        start = headers[index] if index < len(headers) else 1
        end = headers[index + 1] if index + 1 < len(headers) else len(lines) + 1
        examples.append(
            _example(path, table, start, partial(_key_line, lines, start=start, end=end))
        )
    if not examples:
        raise DatasetError(f"{path}:1: the file has no [[examples]] pairs")
    return examples


def _example(
    path: Path, table: dict[str, object], start: int, key_line: Callable[[str], int]
) -> Example:
    for key in _REQUIRED:
        if key not in table:
            raise DatasetError(
                f"{path}:{start}: example has no '{key}'; every [[examples]] needs "
                "natural_language and wgsl_code"
            )
    values: dict[str, str] = {}
    for key in (*_REQUIRED, "family"):
        if key not in table:
            continue
        value = table[key]
        if not isinstance(value, str):
            raise DatasetError(
                f"{path}:{key_line(key)}: '{key}' must be a string, not {_toml_type(value)}"
            )
        if not value.strip():
            raise DatasetError(f"{path}:{key_line(key)}: '{key}' is empty")
        values[key] = value
    tags = table.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise DatasetError(f"{path}:{key_line('tags')}: 'tags' must be a list of strings")
    return Example(
        natural_language=values["natural_language"].strip(),
        wgsl_code=values["wgsl_code"],
        family=values.get("family", DEFAULT_FAMILY),
        tags=tuple(tags),
    )


def _key_line(lines: Sequence[str], key: str, *, start: int, end: int) -> int:
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number in range(start, min(end, len(lines) + 1)):
        if pattern.match(lines[number - 1]):
            return number
    return start


def _toml_error_line(message: str) -> int:
    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else 1


def _toml_type(value: object) -> str:
    names = {
        int: "an integer",
        float: "a float",
        bool: "a boolean",
        list: "an array",
        dict: "a table",
    }
    return names.get(type(value), type(value).__name__)


def load_splits(cfg: DatasetPaths, seed: int) -> Splits:
    """Train/validation from ``train_path`` (or ``val_path``), held-out from ``heldout_path``.

    Without a ``val_path``, a ``val_ratio`` share of the training pairs, chosen by ``seed``, is
    set aside for validation (at least one pair when there are two or more). The held-out split
    comes from ``heldout_path`` when the config has one, else from ``test_path``.
    """
    train = load_examples(Path(cfg.train_path))
    if cfg.val_path:
        val = load_examples(Path(cfg.val_path))
    else:
        order = list(range(len(train)))
        random.Random(seed).shuffle(order)
        n_val = round(len(train) * float(cfg.val_ratio))
        if cfg.val_ratio > 0 and len(train) >= 2:
            n_val = max(1, min(n_val, len(train) - 1))
        chosen = set(order[:n_val])
        val = [e for i, e in enumerate(train) if i in chosen]
        train = [e for i, e in enumerate(train) if i not in chosen]
    heldout_path = getattr(cfg, "heldout_path", None) or cfg.test_path
    heldout = load_examples(Path(heldout_path)) if heldout_path else []
    return Splits(train=train, val=val, heldout=heldout)


# --- pairs mined from a workspace ----------------------------------------------------------------

_DIRECTIVES = ("enable", "requires", "diagnostic")


@dataclass(frozen=True)
class MinedReport:
    """What :func:`mine_workspace_pairs_report` found.

    ``files`` counts the ``*.wgsl`` files read, ``candidates`` the commented functions in them,
    ``skipped_invalid`` the candidates naga rejected, and ``unreadable`` the files left out
    because they are not UTF-8 text or cannot be read.
    """

    pairs: list[Example]
    files: int
    candidates: int
    skipped_invalid: int
    unreadable: tuple[Path, ...] = ()


def mine_workspace_pairs(
    root: Path, validate: Callable[[str], bool] | None = None
) -> list[Example]:
    """Pairs from ``*.wgsl`` files under ``root``: a ``//`` comment block directly above a ``fn``.

    See :func:`mine_workspace_pairs_report`.
    """
    return mine_workspace_pairs_report(root, validate).pairs


def mine_workspace_pairs_report(
    root: Path, validate: Callable[[str], bool] | None = None
) -> MinedReport:
    """Mine every ``*.wgsl`` file under ``root`` (hidden folders and ``node_modules`` skipped).

    The prompt is the ``//`` comment block directly above a function (its attributes may sit in
    between). The code is a module of that function and everything it needs, in source order:
    the file's ``enable``/``requires``/``diagnostic`` directives, and, transitively, the
    functions it calls, the structs and aliases it names, and the module-scope variables
    (bindings included), constants and overrides it uses. A pair is kept only when naga accepts
    that module; ``validate`` defaults to naga through :func:`engine.validator.validate_source`.
    Files that are not UTF-8 are skipped with a warning naming them.
    """
    check = validate if validate is not None else _naga_accepts
    verdicts: dict[str, bool] = {}
    pairs: list[Example] = []
    unreadable: list[Path] = []
    files = candidates = skipped = 0
    for path in _workspace_shaders(Path(root)):
        source = _read_shader(path)
        if source is None:
            unreadable.append(path)
            continue
        files += 1
        for prompt, code in commented_function_modules(source):
            candidates += 1
            if code not in verdicts:
                verdicts[code] = check(code)
            if verdicts[code]:
                pairs.append(Example(prompt, code, "workspace", ("workspace",)))
            else:
                skipped += 1
    log.info(
        "mined %d pairs from %d files under %s (%d candidates, %d rejected by naga, %d unreadable)",
        len(pairs),
        files,
        root,
        candidates,
        skipped,
        len(unreadable),
    )
    return MinedReport(pairs, files, candidates, skipped, tuple(unreadable))


def _workspace_shaders(root: Path) -> list[Path]:
    """``*.wgsl`` files under ``root``, sorted; only names below ``root`` decide what is hidden."""
    found: list[Path] = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [d for d in subfolders if not d.startswith(".") and d != "node_modules"]
        found.extend(
            Path(folder) / n for n in names if n.endswith(".wgsl") and not n.startswith(".")
        )
    return sorted(found)


def _read_shader(path: Path) -> str | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        log.warning("%s: cannot read (%s), skipped", path, exc.strerror or exc)
        return None
    try:
        return raw.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        log.warning(
            "%s:%d: not UTF-8 text (byte 0x%02x), skipped; save it as UTF-8 to train on it",
            path,
            line,
            raw[exc.start],
        )
        return None


def _naga_accepts(source: str) -> bool:
    from engine.validator import validate_source

    return validate_source(source).valid


def commented_function_modules(source: str) -> Iterable[tuple[str, str]]:
    """(prompt, module) for every function of ``source`` with a ``//`` block right above it.

    The module holds the function and what it needs (see :func:`mine_workspace_pairs_report`);
    it is not validated here.
    """
    from engine.wgsl_analysis import Analysis

    analysis = Analysis(source)
    declarations = analysis.symbols  # module scope, in source order
    index_of = {id(symbol): i for i, symbol in enumerate(declarations)}
    ranges = [
        (analysis.offset_of(s.span.start), analysis.offset_of(s.span.end)) for s in declarations
    ]
    needs: dict[int, set[int]] = {}
    directives = _directives(analysis)
    lines = source.split("\n")
    for i, symbol in enumerate(declarations):
        if symbol.kind != "function" or symbol.body is None:
            continue
        prompt = _comment_above(lines, symbol.span.start.line)
        if not prompt:
            continue
        wanted = {i}
        todo = [i]
        while todo:
            current = todo.pop()
            if current not in needs:
                needs[current] = _declarations_used(analysis, ranges[current], index_of)
            for dep in needs[current] - wanted:
                wanted.add(dep)
                todo.append(dep)
        code = "\n".join(directives) + "\n" if directives else ""
        previous_line = -2
        for j in sorted(wanted):
            span = declarations[j].span
            # declarations on consecutive lines (a block of bindings) stay together
            if code and span.start.line != previous_line + 1:
                code += "\n"
            code += source[ranges[j][0] : ranges[j][1]] + "\n"
            previous_line = span.end.line
        yield prompt, code


def _declarations_used(
    analysis: Analysis, span: tuple[int, int], index_of: dict[int, int]
) -> set[int]:
    """Indexes of the module-scope declarations named between the offsets of ``span``.

    Member names (``v.x``, struct fields) and attribute names are not references; locals and
    parameters shadow module-scope names.
    """
    start, end = span
    tokens = analysis.tokens
    first = bisect.bisect_left(tokens, start, key=lambda t: t.offset)
    members = {
        m.name_token.offset
        for s in analysis.symbols
        if s.kind == "struct" and start <= s.name_token.offset < end
        for m in s.children
    }
    used: set[int] = set()
    for index in range(first, len(tokens)):
        token = tokens[index]
        if token.offset >= end:
            break
        if token.kind != "ident" or token.text not in analysis.globals:
            continue
        if token.offset in members or (index > 0 and tokens[index - 1].text in (".", "@")):
            continue
        target = analysis.resolve(token.text, token.offset)
        if target is not None and id(target) in index_of and target.name_token is not token:
            used.add(index_of[id(target)])
    return used


def _directives(analysis: Analysis) -> list[str]:
    """The ``enable``/``requires``/``diagnostic`` directives at the top of the module."""
    tokens = analysis.tokens
    found: list[str] = []
    index = 0
    while index < len(tokens) and tokens[index].text in _DIRECTIVES:
        end = index
        while end < len(tokens) and tokens[end].text != ";":
            end += 1
        if end == len(tokens):
            break
        found.append(analysis.text[tokens[index].offset : tokens[end].end_offset])
        index = end + 1
    return found


def _comment_above(lines: Sequence[str], line: int) -> str:
    """The ``//`` lines directly above ``line``, joined (``//``, ``///`` and spaces dropped)."""
    comment: list[str] = []
    j = line - 1
    while j >= 0 and lines[j].strip().startswith("//"):
        text = lines[j].strip().lstrip("/").strip()
        if text:
            comment.insert(0, text)
        j -= 1
    return " ".join(comment)


# --- statistics for `tiny-agent-trainer dataset` ----------------------------------------------


def _length_stats(lengths: Sequence[int]) -> dict[str, float]:
    if not lengths:
        return {"min": 0.0, "mean": 0.0, "p50": 0.0, "p95": 0.0, "max": 0.0}
    ordered = sorted(lengths)
    return {
        "min": float(ordered[0]),
        "mean": round(sum(ordered) / len(ordered), 1),
        "p50": float(ordered[len(ordered) // 2]),
        "p95": float(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]),
        "max": float(ordered[-1]),
    }


def describe_splits(
    splits: Splits,
    *,
    min_freq: int = 1,
    lowercase: bool = False,
    validate: Callable[[str], bool] | None = None,
) -> dict[str, object]:
    """Counts per family and split, distinct prompts, token lengths and the naga pass count.

    Token lengths use tokenizers built from the training split the way the trainer builds them.
    ``validate`` (naga by default) is called once per distinct program.
    """
    from engine.tokenizer import build_prompt_tokenizer, build_wgsl_tokenizer

    named = {"train": splits.train, "val": splits.val, "heldout": splits.heldout}
    prompt_tok = build_prompt_tokenizer(
        (e.natural_language for e in splits.train), min_freq, lowercase
    )
    code_tok = build_wgsl_tokenizer((e.wgsl_code for e in splits.train), min_freq)
    check = validate if validate is not None else _naga_accepts
    verdicts: dict[str, bool] = {}
    code_lengths: dict[str, int] = {}
    families: dict[str, dict[str, int]] = {}
    per_split: dict[str, object] = {}
    for name, examples in named.items():
        prompts = [e.natural_language for e in examples]
        for e in examples:
            families.setdefault(e.family, {"train": 0, "val": 0, "heldout": 0})[name] += 1
            if e.wgsl_code not in verdicts:
                verdicts[e.wgsl_code] = check(e.wgsl_code)
                code_lengths[e.wgsl_code] = len(code_tok.encode(e.wgsl_code))
        per_split[name] = {
            "pairs": len(examples),
            "families": len({e.family for e in examples}),
            "distinct_prompts": len(set(prompts)),
            "distinct_programs": len({e.wgsl_code for e in examples}),
            "naga_valid": sum(verdicts[e.wgsl_code] for e in examples),
            "prompt_tokens": _length_stats([len(prompt_tok.encode(p)) for p in prompts]),
            "code_tokens": _length_stats([code_lengths[e.wgsl_code] for e in examples]),
        }
    invalid = [code for code, ok in verdicts.items() if not ok]
    return {
        "splits": per_split,
        "families": dict(sorted(families.items())),
        "vocab": {"prompt": prompt_tok.vocab_size, "wgsl": code_tok.vocab_size},
        "programs": {"distinct": len(verdicts), "naga_valid": len(verdicts) - len(invalid)},
    }


def _quartet(stats: dict[str, float]) -> str:
    return "/".join(f"{stats[k]:.0f}" for k in ("min", "p50", "p95", "max"))


def format_description(report: dict[str, object]) -> str:
    """The report of :func:`describe_splits` as aligned plain-text tables."""
    splits = report["splits"]
    families = report["families"]
    assert isinstance(splits, dict) and isinstance(families, dict)
    lines = [
        f"{'SPLIT':<9}{'PAIRS':>7}{'FAMILIES':>10}{'PROMPTS':>9}{'NAGA OK':>9}"
        f"   PROMPT TOKENS min/p50/p95/max   CODE TOKENS min/p50/p95/max"
    ]
    for name, s in splits.items():
        p, c = s["prompt_tokens"], s["code_tokens"]
        lines.append(
            f"{name:<9}{s['pairs']:>7}{s['families']:>10}{s['distinct_prompts']:>9}"
            f"{s['naga_valid']:>9}   {_quartet(p):<32}{_quartet(c)}"
        )
    programs = report["programs"]
    vocab = report["vocab"]
    assert isinstance(programs, dict) and isinstance(vocab, dict)
    lines.append(
        f"distinct programs: {programs['distinct']}, naga-valid: {programs['naga_valid']}; "
        f"vocabulary: prompt {vocab['prompt']}, wgsl {vocab['wgsl']}"
    )
    lines.append("")
    width = max((len(f) for f in families), default=6) + 2
    lines.append(f"{'FAMILY':<{width}}{'TRAIN':>7}{'VAL':>6}{'HELDOUT':>9}")
    for family, counts in families.items():
        lines.append(
            f"{family:<{width}}{counts['train']:>7}{counts['val']:>6}{counts['heldout']:>9}"
        )
    return "\n".join(lines)
