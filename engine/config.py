"""Training and engine configuration: TOML files read into typed, checked dataclasses.

A training config has the tables ``[task]``, ``[model]``, ``[training]``, ``[tokenizer]``,
``[dataset]`` and ``[generation]`` (the last two optional). Every key, its type, its default and
its allowed range is declared once, on the dataclass field below; :func:`load_config` checks a
file against those declarations and :func:`config_to_toml` / :func:`default_config_text` write
them back out, so the code, the error messages and the ``init`` template cannot disagree.

Relative paths inside a file resolve against that file's directory, so ``config/x.toml`` says
``train_path = "../data/train"``. The loaded config holds absolute paths.

Every problem is a :class:`ConfigError` whose message starts ``FILE:LINE:`` and names the key.
``tomllib`` reports no positions for values, so the line of a key is found by scanning the text.

Adding a key is one line: a field with :func:`_key` (default, check and doc) on the right class.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import sys
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

__all__ = [
    "Config",
    "ConfigError",
    "DatasetConfig",
    "EngineConfig",
    "EnginePathsConfig",
    "GenerationConfig",
    "ModelConfig",
    "TaskConfig",
    "TokenizerConfig",
    "TrainingConfig",
    "config_to_toml",
    "default_config_text",
    "load_config",
    "load_engine_config",
    "starter_config",
]


class ConfigError(Exception):
    """A config file that cannot be used; ``str()`` is ``FILE:LINE: KEY: what is wrong``.

    ``key`` is the dotted key (``model.nhead``) or ``""`` for file-level problems; ``line`` and
    ``column`` are 1-based, ``0`` when unknown (a missing or unreadable file).
    """

    def __init__(self, path: Path, line: int, key: str, message: str, column: int = 0) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.key = key
        self.message = message
        where = str(path)
        if line:
            where += f":{line}"
            if column:
                where += f":{column}"
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


# --- field declarations ------------------------------------------------------------------------

Check = Callable[[Any], "str | None"]
"""Returns why a value is out of range (completing "must ..."), or None when it is fine."""


def _key(default: Any = dataclasses.MISSING, check: Check | None = None, doc: str = "") -> Any:
    """A config key: its default (none means required), its range check and a one-line doc."""
    return field(default=default, metadata=_meta(check, doc))


def _meta(check: Check | None = None, doc: str = "") -> dict[str, Any]:
    """Field metadata; used directly, with ``field()``, for path keys."""
    return {"check": check, "doc": doc}


def _at_least(low: float) -> Check:
    return lambda v: None if v >= low else f"be at least {low}"


def _positive(v: float) -> str | None:
    return None if v > 0 else "be greater than 0"


def _in_range(low: float, high: float, *, high_open: bool = False, low_open: bool = False) -> Check:
    lo, hi = ("(" if low_open else "["), (")" if high_open else "]")

    def check(v: float) -> str | None:
        ok_low = v > low if low_open else v >= low
        ok_high = v < high if high_open else v <= high
        return None if ok_low and ok_high else f"be in {lo}{low}, {high}{hi}"

    return check


def _one_of(*choices: str) -> Check:
    return lambda v: None if v in choices else "be one of " + ", ".join(repr(c) for c in choices)


def _non_empty(v: str) -> str | None:
    return None if v.strip() else "not be empty"


def _device(v: str) -> str | None:
    if v in ("auto", "cpu", "cuda", "mps") or re.fullmatch(r"cuda:\d+", v):
        return None
    return "be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"


# --- training config ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TaskConfig:
    """``[task]``: what the config trains."""

    name: str = _key(check=_non_empty, doc="a short name, shown by `list`")
    task_type: str = _key(check=_non_empty, doc='the kind of task, e.g. "code_generation"')
    description: str = _key("", doc="free text")


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """``[model]``: the encoder-decoder transformer's shape."""

    architecture: str = _key("transformer", _one_of("transformer"), "the only one is transformer")
    d_model: int = _key(check=_at_least(1), doc="width of every layer")
    nhead: int = _key(check=_at_least(1), doc="attention heads; must divide d_model")
    num_layers: int = _key(check=_at_least(1), doc="encoder layers, and as many decoder layers")
    dim_feedforward: int = _key(2048, _at_least(1), "hidden width of each feed-forward block")
    dropout: float = _key(0.1, _in_range(0, 1, high_open=True), "dropout probability, in [0, 1)")
    max_seq_len: int = _key(512, _at_least(2), "longest prompt or shader, in tokens")
    tie_weights: bool = _key(True, doc="share the output projection with the WGSL embedding")
    prompt_encoder: str = _key(
        "",
        _one_of("", "all-MiniLM-L6-v2"),
        'frozen pretrained English encoder under the encoder layers; "" for none',
    )
    prompt_mask_rate: float = _key(
        0.0,
        _in_range(0, 1, high_open=True),
        "share of prompt word pieces masked in training (prompt_encoder only)",
    )


@dataclass(frozen=True, kw_only=True)
class TrainingConfig:
    """``[training]``: the optimisation loop."""

    num_epochs: int = _key(check=_at_least(1), doc="passes over the training data")
    batch_size: int = _key(check=_at_least(1), doc="pairs per optimiser step")
    tokens_per_batch: int = _key(
        0,
        _at_least(0),
        "if > 0, training batches hold pairs of similar length up to this many padded WGSL "
        "tokens instead of batch_size pairs (validation keeps batch_size)",
    )
    pack: bool = _key(
        False,
        doc="lay each training batch's pairs end to end with no padding (for GPUs, with "
        "tokens_per_batch; attention weights are then not dropped out)",
    )
    learning_rate: float = _key(check=_positive, doc="peak learning rate after warm-up")
    optimizer: str = _key("adamw", _one_of("adamw", "adam", "sgd"), "adamw, adam or sgd")
    early_stopping: bool = _key(True, doc="stop when validation loss stops improving")
    early_stopping_patience: int = _key(10, _at_least(1), "epochs without improvement to wait")
    gradient_clip_norm: float = _key(1.0, _at_least(0), "clip the gradient norm; 0 disables")
    save_every: int = _key(10, _at_least(1), "write a resumable checkpoint every N epochs")
    seed: int = _key(1337, _at_least(0), "random seed for splits, initialisation and batches")
    weight_decay: float = _key(0.01, _at_least(0), "decoupled weight decay (adamw)")
    warmup_steps: int = _key(100, _at_least(0), "linear warm-up steps before cosine decay")
    min_lr_ratio: float = _key(0.1, _in_range(0, 1), "final learning rate / peak, in [0, 1]")
    label_smoothing: float = _key(0.0, _in_range(0, 1, high_open=True), "in [0, 1)")
    compile: bool = _key(False, doc="torch.compile the model (slower start, faster steps)")
    bf16_residual: bool = _key(
        False,
        doc="keep the residual stream in bf16 under the bf16 autocast of CUDA training (less "
        "memory traffic); no effect on other devices",
    )
    device: str = _key("auto", _device, "auto, cpu, cuda, cuda:N or mps")
    checkpoint_dir: Path = field(
        default=Path("checkpoints"), metadata=_meta(doc="where checkpoints are written")
    )


@dataclass(frozen=True, kw_only=True)
class TokenizerConfig:
    """``[tokenizer]``: how prompts and shaders become token ids."""

    tokenizer_type: str = _key("wgsl", _one_of("wgsl"), "the only one is wgsl")
    max_length: int = _key(512, _at_least(1), "longest tokenised sequence kept, in tokens")
    lowercase: bool = _key(False, doc="lower-case prompts before tokenising")
    min_freq: int = _key(1, _at_least(1), "rarer tokens become <unk>")
    number_placeholders: bool = _key(
        False, doc="prompt numbers become NUM0, NUM1..., copied into the code"
    )


@dataclass(frozen=True, kw_only=True)
class DatasetConfig:
    """``[dataset]``: where the natural-language/WGSL pairs are and how they are split."""

    train_path: Path = field(metadata=_meta(doc="a TOML file of pairs, or a folder of them"))
    val_path: Path | None = field(
        default=None, metadata=_meta(doc="validation pairs; unset: split from train_path")
    )
    test_path: Path | None = field(
        default=None, metadata=_meta(doc="held-out pairs when heldout_path is unset")
    )
    train_ratio: float = _key(
        0.8,
        _in_range(0, 1, low_open=True),
        "original key; all pairs not kept for validation are trained on",
    )
    val_ratio: float = _key(0.1, _in_range(0, 1, high_open=True), "share kept for validation")
    heldout_path: Path | None = field(
        default=None,
        metadata=_meta(doc="pairs never trained on, for evaluation and the final report"),
    )


@dataclass(frozen=True, kw_only=True)
class GenerationConfig:
    """``[generation]``: decoding defaults for `generate` and the language server."""

    beam_size: int = _key(4, _at_least(1), "beams kept while decoding; 1 is greedy")
    max_new_tokens: int = _key(384, _at_least(1), "longest shader written, in tokens")
    length_penalty: float = _key(0.6, _at_least(0), "beam score = log-prob / length**penalty")


@dataclass(frozen=True, kw_only=True)
class Config:
    """A whole training config. ``path`` is the file it came from (None when built in code)."""

    task: TaskConfig
    model: ModelConfig
    training: TrainingConfig
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    dataset: DatasetConfig
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    path: Path | None = None


_SECTIONS: dict[str, type[Any]] = {
    "task": TaskConfig,
    "model": ModelConfig,
    "training": TrainingConfig,
    "tokenizer": TokenizerConfig,
    "dataset": DatasetConfig,
    "generation": GenerationConfig,
}
_OPTIONAL_SECTIONS = {"tokenizer", "generation"}

_SECTION_DOCS = {
    "task": "What this config trains.",
    "model": "The encoder-decoder transformer.",
    "training": "The training loop.",
    "tokenizer": "Tokenisation of prompts and WGSL.",
    "dataset": "Training pairs. Relative paths resolve against this file's folder.",
    "generation": "Decoding defaults for `generate` and the language server.",
}


# --- engine config -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EnginePathsConfig:
    """``[paths]`` of engine.toml; relative paths resolve against that file's folder."""

    log_path: Path = field(default=Path("logs/"), metadata=_meta(doc="folder for log files"))
    journal_path: Path = field(
        default=Path("journals/"), metadata=_meta(doc="folder for run journals")
    )
    checkpoint_path: Path = field(
        default=Path("checkpoints/"), metadata=_meta(doc="folder for checkpoints")
    )


@dataclass(frozen=True, kw_only=True)
class EngineConfig:
    """config/engine.toml: settings of the engine itself, not of a training run."""

    log_level: str = _key("INFO", _one_of("DEBUG", "INFO", "WARN", "ERROR"), "log verbosity")
    disable_debug_assertions: bool = _key(
        False, doc="skip the engine's internal consistency checks"
    )
    paths: EnginePathsConfig = field(default_factory=EnginePathsConfig)
    path: Path | None = None


# --- locating keys in the text -----------------------------------------------------------------

_HEADER_RE = re.compile(r"^\s*\[\[?\s*([^\[\]#]+?)\s*\]\]?\s*(?:#.*)?$")
_SIMPLE_KEY = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_KEY_RE = re.compile(rf"^\s*({_SIMPLE_KEY}(?:\s*\.\s*{_SIMPLE_KEY})*)\s*=")


def _split_dotted(text: str) -> tuple[str, ...]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", text)
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in parts)


class _KeyLines:
    """1-based lines of table headers and keys, found by scanning the TOML text."""

    def __init__(self, text: str) -> None:
        self.headers: dict[tuple[str, ...], int] = {}
        self.keys: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        in_multiline: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_multiline is not None:
                if line.count(in_multiline) % 2 == 1:
                    in_multiline = None
                continue
            header = _HEADER_RE.match(line)
            if header:
                table = _split_dotted(header.group(1))
                self.headers.setdefault(table, number)
                continue
            key = _KEY_RE.match(line)
            if key:
                self.keys.setdefault(table + _split_dotted(key.group(1)), number)
                rest = line[key.end() :]
                for quote in ('"""', "'''"):
                    if rest.count(quote) % 2 == 1:
                        in_multiline = quote
                        break

    def line_of(self, *dotted: str) -> int:
        """The key's line; else the nearest enclosing table's header line; else 1."""
        path = tuple(dotted)
        while path:
            if path in self.keys:
                return self.keys[path]
            if path in self.headers:
                return self.headers[path]
            path = path[:-1]
        return 1


# --- reading -----------------------------------------------------------------------------------

_T = TypeVar("_T")


def _read_toml(path: Path) -> tuple[dict[str, Any], _KeyLines]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, 0, "", "file not found") from None
    except IsADirectoryError:
        raise ConfigError(path, 0, "", "is a folder, not a TOML file") from None
    except OSError as exc:
        raise ConfigError(path, 0, "", f"cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(path, line, "", "not UTF-8 text; save the file as UTF-8") from None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", message)
        if match:
            reason = message[: match.start()]
            line, column = int(match.group(1)), int(match.group(2))
        else:
            reason = re.sub(r"\s*\(at end of document\)\s*$", "", message)
            line = text.count("\n") + 1
            column = len(text.rsplit("\n", 1)[-1]) + 1
        raise ConfigError(path, line, "", f"invalid TOML: {reason}", column) from None
    return table, _KeyLines(text)


def _type_name(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _field_kind(annotation: Any) -> tuple[type[Any], bool]:
    """(base type, optional) of a field annotation such as ``Path | None``."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0], True
    return annotation, False


def _coerce(
    raw: Any, kind: type[Any], base_dir: Path
) -> tuple[Any, str | None]:  # (value, error or None)
    if kind is bool:
        return (raw, None) if isinstance(raw, bool) else (None, "must be true or false")
    if kind is int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw, None
        return None, "must be an integer"
    if kind is float:
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            if not math.isfinite(raw):
                return None, "must be a finite number"
            return float(raw), None
        return None, "must be a number"
    if kind is str:
        return (raw, None) if isinstance(raw, str) else (None, "must be a string")
    if kind is Path:
        if not isinstance(raw, str) or not raw.strip():
            return None, "must be a non-empty string (a path)"
        return Path(os.path.normpath(base_dir / os.path.expanduser(raw))), None
    raise TypeError(f"unsupported config field type {kind!r}")


def _build_section(
    cls: type[_T],
    raw: Mapping[str, Any],
    section: tuple[str, ...],
    path: Path,
    lines: _KeyLines,
    nested: Mapping[str, type[Any]] | None = None,
) -> _T:
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls) if f.name != "path"}  # type: ignore[arg-type]
    nested = nested or {}
    values: dict[str, Any] = {}
    prefix = ".".join(section)

    def dotted(name: str) -> str:
        return f"{prefix}.{name}" if prefix else name

    for name, value in raw.items():
        if name in nested:
            continue
        if name not in known:
            choices = ", ".join(n for n in known if n not in nested)
            what = f"[{prefix}]" if prefix else "the top level"
            raise ConfigError(
                path,
                lines.line_of(*section, name),
                dotted(name),
                f"unknown key in {what}; known keys: {choices}",
            )
        kind, _optional = _field_kind(hints[name])
        coerced, error = _coerce(value, kind, path.absolute().parent)
        if error is not None:
            raise ConfigError(
                path,
                lines.line_of(*section, name),
                dotted(name),
                f"{error}, not {_type_name(value)} ({_show(value)})",
            )
        check: Check | None = known[name].metadata.get("check")
        if check is not None and coerced is not None:
            problem = check(coerced)
            if problem is not None:
                raise ConfigError(
                    path,
                    lines.line_of(*section, name),
                    dotted(name),
                    f"must {problem}; got {_show(value)}",
                )
        values[name] = coerced

    for name, f in known.items():
        if name in nested or name in values:
            continue
        if f.default is dataclasses.MISSING:
            where = f"[{prefix}]" if prefix else "the file"
            raise ConfigError(
                path,
                lines.line_of(*section),
                dotted(name),
                f"missing required key in {where}; add `{name} = ...`",
            )
        if isinstance(f.default, Path):
            values[name] = Path(os.path.normpath(path.absolute().parent / f.default))
    return cls(**values)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "a table"
    return repr(value)


def _check_tables(
    data: Mapping[str, Any], expected: Mapping[str, type[Any]], path: Path, lines: _KeyLines
) -> None:
    for name, value in data.items():
        if name in expected and not isinstance(value, dict):
            raise ConfigError(
                path,
                lines.line_of(name),
                name,
                f"must be a table ([{name}]), not {_type_name(value)}",
            )


def load_config(path: str | Path) -> Config:
    """Read and check a training config; raises :class:`ConfigError` naming file, key and line."""
    path = Path(path)
    data, lines = _read_toml(path)
    _check_tables(data, _SECTIONS, path, lines)
    for name in data:
        if name not in _SECTIONS:
            raise ConfigError(
                path,
                lines.line_of(name),
                name,
                "unknown table; known tables: " + ", ".join(f"[{s}]" for s in _SECTIONS),
            )
    sections: dict[str, Any] = {}
    for name, cls in _SECTIONS.items():
        if name not in data and name not in _OPTIONAL_SECTIONS:
            raise ConfigError(path, 1, name, f"missing required table; add a [{name}] table")
        sections[name] = _build_section(cls, data.get(name, {}), (name,), path, lines)
    config = Config(**sections, path=path)
    _check_relations(config, path, lines)
    return config


def _check_relations(config: Config, path: Path, lines: _KeyLines) -> None:
    """Checks that involve two keys; the error points at the second one."""
    model = config.model
    if model.d_model % model.nhead:
        raise ConfigError(
            path,
            lines.line_of("model", "nhead"),
            "model.nhead",
            f"must divide model.d_model ({model.d_model}); got {model.nhead}",
        )
    ds = config.dataset
    if ds.train_ratio + ds.val_ratio > 1 + 1e-9:
        raise ConfigError(
            path,
            lines.line_of("dataset", "val_ratio")
            if ("dataset", "val_ratio") in lines.keys
            else lines.line_of("dataset", "train_ratio"),
            "dataset.val_ratio",
            f"train_ratio + val_ratio must be at most 1; got {ds.train_ratio} + {ds.val_ratio}",
        )
    if config.training.pack and model.prompt_encoder:
        raise ConfigError(
            path,
            lines.line_of("training", "pack"),
            "training.pack",
            "packed batches need a model without a pretrained prompt encoder; set "
            f'pack = false, or model.prompt_encoder = "" (it is {model.prompt_encoder!r})',
        )


def load_engine_config(path: str | Path) -> EngineConfig:
    """Read and check config/engine.toml; raises :class:`ConfigError`."""
    path = Path(path)
    data, lines = _read_toml(path)
    _check_tables(data, {"paths": EnginePathsConfig}, path, lines)
    paths = _build_section(EnginePathsConfig, data.get("paths", {}), ("paths",), path, lines)
    top = {k: v for k, v in data.items() if k != "paths"}
    engine = _build_section(EngineConfig, top, (), path, lines, nested={"paths": EnginePathsConfig})
    return dataclasses.replace(engine, paths=paths, path=path)


# --- writing -----------------------------------------------------------------------------------


def _toml_value(value: Any, relative_to: Path | None) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Path):
        text = value.as_posix()
        if relative_to is not None and value.is_absolute():
            text = Path(os.path.relpath(value, relative_to)).as_posix()
        return json.dumps(text, ensure_ascii=False)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {value!r} as TOML")


def _render_section(
    out: list[str],
    name: str,
    obj: Any,
    doc: str,
    relative_to: Path | None,
    comments: bool,
) -> None:
    if comments and doc:
        out.append(f"# {doc}")
    if name:
        out.append(f"[{name}]")
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if f.name == "path" or dataclasses.is_dataclass(value):
            continue
        key_doc = f.metadata.get("doc", "")
        if value is None:
            line = f'# {f.name} = "..."'
        else:
            line = f"{f.name} = {_toml_value(value, relative_to)}"
        if comments and key_doc:
            if len(line) < 40:
                line = f"{line:<40} # {key_doc}"
            else:
                out.append(f"# {key_doc}")
        out.append(line)
    out.append("")


def config_to_toml(
    config: Config, relative_to: Path | None = None, *, comments: bool = False
) -> str:
    """The config as TOML that :func:`load_config` reads back to an equal config.

    Paths are written relative to ``relative_to`` (the folder the text will be saved in) when
    given, else absolute. Unset optional paths are written as comments, since TOML has no null.
    """
    out: list[str] = []
    for name in _SECTIONS:
        doc = _SECTION_DOCS[name]
        _render_section(out, name, getattr(config, name), doc, relative_to, comments)
    return "\n".join(out).rstrip("\n") + "\n"


def engine_config_to_toml(config: EngineConfig, relative_to: Path | None = None) -> str:
    """config/engine.toml's text for ``config`` (used to write the shipped file and in tests)."""
    out: list[str] = []
    _render_section(out, "", config, "", relative_to, comments=True)
    _render_section(out, "paths", config.paths, "", relative_to, comments=True)
    return "\n".join(out).rstrip("\n") + "\n"


def starter_config(project_dir: Path) -> Config:
    """The config ``init`` writes, with its data paths under ``project_dir/data``."""
    data = project_dir / "data"
    return Config(
        task=TaskConfig(
            name="wgsl_generation",
            task_type="code_generation",
            description="Write WGSL shaders from plain-English descriptions.",
        ),
        model=ModelConfig(
            d_model=128,
            nhead=4,
            num_layers=2,
            dim_feedforward=512,
            dropout=0.1,
            max_seq_len=512,
            prompt_encoder="all-MiniLM-L6-v2",
        ),
        training=TrainingConfig(
            num_epochs=10,
            batch_size=32,
            learning_rate=1e-3,
            checkpoint_dir=project_dir / "checkpoints",
        ),
        tokenizer=TokenizerConfig(number_placeholders=True),
        dataset=DatasetConfig(
            train_path=data / "train",
            test_path=data / "heldout.toml",
            heldout_path=data / "heldout.toml",
        ),
    )


def default_config_text(output: Path | None = None) -> str:
    """The commented default training config, ready to save at ``output``.

    Data and checkpoint paths point into the current directory's ``data/`` and ``checkpoints/``,
    written relative to the folder ``output`` will be saved in (the current directory if None).
    """
    cwd = Path.cwd()
    target_dir = (cwd / output).parent if output is not None else cwd
    header = (
        "# Tiny Agent Trainer training config. Every key is listed with its value; the comment\n"
        "# after it says what it does. Check it with `tiny-agent-trainer show --config FILE`.\n\n"
    )
    return header + config_to_toml(starter_config(cwd), target_dir.resolve(), comments=True)
