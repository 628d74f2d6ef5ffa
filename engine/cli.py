"""The `tiny-agent-trainer` command line.

Each command is registered by an ``_add_<name>`` function that declares its flags and points
``func`` at a ``_cmd_<name>`` handler. Handlers return the process exit code: 0 success, 1 a
negative verdict (an invalid shader, a failed check), 2 usage or I/O errors. Errors the user can
act on are raised as :class:`CliError` and printed without a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import __version__
from engine.config import (
    ConfigError,
    ModelConfig,
    config_to_toml,
    default_config_text,
    load_config,
    load_engine_config,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

if TYPE_CHECKING:
    from engine.generate import Generator
    from engine.validator import Diagnostic, SourceRange

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


class CliError(Exception):
    """An error with a message the user can act on; printed as ``error: ...``, exit code 2."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tiny-agent-trainer",
        description="WGSL language server, validator and shader generator.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in _COMMANDS:
        add(sub)
    return parser


_COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = []


DEFAULT_CONFIG_DIR = Path("config")
DEFAULT_CONFIG = DEFAULT_CONFIG_DIR / "wgsl_generation.toml"


# --- check -------------------------------------------------------------------------------------


def _add_check(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("check", help="report wgpu adapters, naga, torch and CUDA")
    p.add_argument(
        "-v", "--verbose", dest="check_verbose", action="store_true", help="list adapter features"
    )
    p.set_defaults(func=_cmd_check)


def _cmd_check(args: argparse.Namespace) -> int:
    detail = bool(args.check_verbose or args.verbose)
    ok = True
    try:
        from engine.validator import describe_adapters

        adapters = describe_adapters()
    except RuntimeError as exc:
        print(f"wgpu adapters: none ({exc})")
        adapters, ok = [], False
    else:
        print(f"wgpu adapters: {len(adapters)}")
        if not adapters:
            print("  none: install a GPU driver, or Mesa's CPU drivers (mesa-vulkan-drivers)")
            ok = False
        for adapter in adapters:
            print(f"  {adapter.name:<28} backend {adapter.backend:<8} type {adapter.adapter_type}")
            if detail:
                print(f"    device: {adapter.device}; driver: {adapter.description}")
                print(f"    features: {', '.join(adapter.features) or '(none)'}")
    ok = _check_naga() and ok
    ok = _check_torch(detail) and ok
    for path, loader in (
        (DEFAULT_CONFIG, "training"),
        (DEFAULT_CONFIG_DIR / "engine.toml", "engine"),
    ):
        if path.is_file():
            ok = _check_config_file(path, loader) and ok
    return EXIT_OK if ok else EXIT_INVALID


def _check_naga() -> bool:
    from engine.validator import Validator

    with Validator() as validator:
        result = validator.validate("@compute @workgroup_size(1) fn main() {}\n")
    if result.valid:
        print(f"naga: available (validating on {result.adapter})")
        return True
    reason = result.diagnostics[0].message if result.diagnostics else "unknown reason"
    print(f"naga: NOT available: {reason}")
    return False


def _check_torch(detail: bool) -> bool:
    try:
        import torch
    except ImportError as exc:
        print(f"torch: NOT available ({exc}); reinstall with `make install`")
        return False
    print(f"torch: {torch.__version__} ({torch.get_num_threads()} CPU threads)")
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        print(f"CUDA devices: {count}")
        for index in range(count):
            props = torch.cuda.get_device_properties(index)
            memory = f", {props.total_memory / 2**30:.1f} GiB" if detail else ""
            print(f"  cuda:{index} {props.name}{memory}")
    else:
        print("CUDA devices: none (training runs on the CPU)")
    return True


def _check_config_file(path: Path, kind: str) -> bool:
    try:
        if kind == "engine":
            load_engine_config(path)
        else:
            load_config(path)
    except ConfigError as exc:
        print(f"{kind} config: {exc}")
        return False
    print(f"{kind} config: {path} ok")
    return True


_COMMANDS.append(_add_check)


# --- init --------------------------------------------------------------------------------------


def _add_init(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("init", help="write the default training config")
    p.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_CONFIG,
        metavar="PATH",
        help=f"where to write it (default: {DEFAULT_CONFIG})",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=_cmd_init)


def _cmd_init(args: argparse.Namespace) -> int:
    output: Path = args.output
    if output.is_dir():
        raise CliError(f"{output} is a folder; pass --output with a file name such as my.toml")
    if output.exists() and not args.force:
        raise CliError(f"{output} already exists; pass --force to overwrite it")
    text = default_config_text(output)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {output}: {exc.strerror or exc}") from None
    print(f"wrote {output}")
    print(f"next: edit it, then `tiny-agent-trainer show --config {output}`")
    return EXIT_OK


_COMMANDS.append(_add_init)


# --- list / show -------------------------------------------------------------------------------


def _add_list(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("list", help="list the training configs in a folder")
    p.add_argument(
        "--config-dir",
        type=Path,
        default=DEFAULT_CONFIG_DIR,
        metavar="DIR",
        help=f"folder to look in (default: {DEFAULT_CONFIG_DIR})",
    )
    p.set_defaults(func=_cmd_list)


def _model_size(model: ModelConfig) -> str:
    """Shape and an estimate of the parameters outside the embeddings (vocab-dependent)."""
    d, ff, layers = model.d_model, model.dim_feedforward, model.num_layers
    feed_forward = 2 * d * ff + ff + d
    encoder = 4 * d * d + 4 * d + feed_forward + 4 * d
    decoder = 8 * d * d + 8 * d + feed_forward + 6 * d
    params = layers * (encoder + decoder)
    return (
        f"d_model {d}, {model.nhead} heads, {layers}+{layers} layers, ff {ff} "
        f"(~{params / 1e6:.1f}M params + embeddings)"
    )


def _is_training_config(path: Path) -> bool:
    """Files without a [task] table (engine.toml, ...) are not training configs."""
    try:
        return "task" in tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True  # unreadable: let load_config report why


def _cmd_list(args: argparse.Namespace) -> int:
    folder: Path = args.config_dir
    if not folder.is_dir():
        raise CliError(f"{folder}: no such folder; pass --config-dir DIR or run `init` first")
    rows: list[tuple[str, str, str]] = []
    broken = 0
    for path in sorted(folder.glob("*.toml")):
        if not _is_training_config(path):
            log.debug("skipping %s: not a training config (no [task] table)", path)
            continue
        try:
            cfg = load_config(path)
        except ConfigError as exc:
            rows.append((path.stem, "INVALID", exc.message if exc.line else str(exc)))
            print(f"error: {exc}", file=sys.stderr)
            broken += 1
            continue
        rows.append((path.stem, cfg.task.name, _model_size(cfg.model)))
    if not rows:
        print(f"no training configs in {folder}; create one with `tiny-agent-trainer init`")
        return EXIT_OK
    width = max(len(r[0]) for r in rows) + 2
    task_width = max(len(r[1]) for r in rows) + 2
    print(f"{'NAME':<{width}}{'TASK':<{task_width}}MODEL")
    for name, task, size in rows:
        print(f"{name:<{width}}{task:<{task_width}}{size}")
    return EXIT_INVALID if broken else EXIT_OK


_COMMANDS.append(_add_list)


def _add_show(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("show", help="print a training config with every default filled in")
    p.add_argument(
        "--config",
        required=True,
        metavar="NAME|PATH",
        help=f"a file, or a NAME meaning {DEFAULT_CONFIG_DIR}/NAME.toml",
    )
    p.add_argument(
        "--config-dir",
        type=Path,
        default=DEFAULT_CONFIG_DIR,
        metavar="DIR",
        help=f"where NAME is looked up (default: {DEFAULT_CONFIG_DIR})",
    )
    p.set_defaults(func=_cmd_show)


def resolve_config(name_or_path: str, config_dir: Path = DEFAULT_CONFIG_DIR) -> Path:
    """``NAME`` -> ``config_dir/NAME.toml``; anything that looks like a path is used as given.

    A folder holding ``config.toml`` (a trained model, a checkpoint) means that file.
    """
    path = Path(name_or_path)
    looks_like_path = path.suffix == ".toml" or len(path.parts) > 1 or path.exists()
    candidate = path if looks_like_path else config_dir / f"{name_or_path}.toml"
    if candidate.is_file():
        return candidate
    if candidate.is_dir():
        if (candidate / "config.toml").is_file():  # a model or checkpoint folder
            return candidate / "config.toml"
        raise CliError(f"{candidate} is a folder without a config.toml; pass a config file")
    known = sorted(p.stem for p in config_dir.glob("*.toml")) if config_dir.is_dir() else []
    hint = f"; configs in {config_dir}: {', '.join(known)}" if known else ""
    raise CliError(f"{candidate}: no such config file{hint}")


def _cmd_show(args: argparse.Namespace) -> int:
    path = resolve_config(args.config, args.config_dir)
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_INVALID) from None
    print(f"# {path}: task {cfg.task.name!r}; {_model_size(cfg.model)}")
    print("# Every key with its value after defaults; paths relative to the current folder.")
    print(config_to_toml(cfg, Path.cwd()), end="")
    return EXIT_OK


_COMMANDS.append(_add_show)


# --- validate ----------------------------------------------------------------------------------


def _add_validate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "validate",
        help="check WGSL files with naga",
        description="Check WGSL files with naga. Prints path:line:col: error: message per "
        "problem (1-based; columns count characters). Exit 0: all valid, 1: any invalid, "
        "2: a file could not be read.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="WGSL files; - reads standard input")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout instead")
    p.set_defaults(func=_cmd_validate)


def _read_wgsl(name: str) -> str:
    """The text of a WGSL file (``-``: stdin); raises CliError with a readable reason."""
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except FileNotFoundError:
        raise CliError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{name}: is a folder, not a WGSL file") from None
    except OSError as exc:
        raise CliError(f"{name}: cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CliError(f"{name}:{line}: not UTF-8 text; save the file as UTF-8") from None


def _severity_word(severity: str) -> str:
    return "info" if severity == "information" else severity


def _diagnostic_lines(name: str, diag: Diagnostic) -> list[str]:
    """``path:line:col: error: message``, then ``note:`` lines for notes and related places."""
    first, *notes = diag.message.splitlines() or [""]
    r = diag.range
    where = f"{name}:{r.start_line + 1}:{r.start_col + 1}"
    lines = [f"{where}: {_severity_word(diag.severity)}: {first}"]
    for note in notes:
        note = note.strip()
        if note:
            lines.append(f"{where}: note: {note.removeprefix('note:').strip()}")
    for rel in diag.related:
        rr = rel.range
        lines.append(f"{name}:{rr.start_line + 1}:{rr.start_col + 1}: note: {rel.message}")
    return lines


def _range_json(r: SourceRange) -> dict[str, Any]:
    return {
        "start": {"line": r.start_line + 1, "column": r.start_col + 1},
        "end": {"line": r.end_line + 1, "column": r.end_col + 1},
    }


def _diagnostic_json(diag: Diagnostic) -> dict[str, Any]:
    return {
        "severity": diag.severity,
        "message": diag.message,
        "code": diag.code,
        "range": _range_json(diag.range),
        "related": [{"message": r.message, "range": _range_json(r.range)} for r in diag.related],
    }


def _cmd_validate(args: argparse.Namespace) -> int:
    from engine.validator import Validator

    names: list[str] = args.files
    if names.count("-") > 1:
        raise CliError("- (standard input) can be given only once")
    reports: list[dict[str, Any]] = []
    unreadable = invalid = 0
    adapter = ""
    with Validator() as validator:
        for name in names:
            display = "<stdin>" if name == "-" else name
            try:
                source = _read_wgsl(name)
            except CliError as exc:
                unreadable += 1
                reports.append(
                    {"path": display, "valid": None, "error": str(exc), "diagnostics": []}
                )
                if not args.json:
                    print(f"error: {exc}", file=sys.stderr)
                continue
            result = validator.validate(source)
            for diag in result.diagnostics:
                if diag.code == "validator-unavailable":
                    raise CliError(f"cannot validate {display}: {diag.message}")
            adapter = result.adapter or adapter
            if not result.valid:
                invalid += 1
            reports.append(
                {
                    "path": display,
                    "valid": result.valid,
                    "error": None,
                    "diagnostics": [_diagnostic_json(d) for d in result.diagnostics],
                }
            )
            if not args.json:
                for diag in result.diagnostics:
                    for line in _diagnostic_lines(display, diag):
                        print(line)
                sys.stdout.flush()
    if args.json:
        json.dump({"adapter": adapter, "files": reports}, sys.stdout, indent=2)
        print()
    else:
        checked = len(names) - unreadable
        verdict = "all valid" if not invalid else f"{invalid} invalid"
        print(
            f"{checked} file{'s' if checked != 1 else ''} checked, {verdict}"
            + (f", {unreadable} unreadable" if unreadable else "")
            + (f" (naga on {adapter})" if adapter else ""),
            file=sys.stderr,
        )
    if unreadable:
        return EXIT_USAGE
    return EXIT_INVALID if invalid else EXIT_OK


_COMMANDS.append(_add_validate)


# --- generate ----------------------------------------------------------------------------------


def _add_generate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("generate", help="write WGSL for a plain-English prompt")
    prompts = p.add_mutually_exclusive_group(required=True)
    prompts.add_argument("--prompt", metavar="TEXT", help="what the shader should do")
    prompts.add_argument(
        "--prompt-file",
        type=Path,
        metavar="FILE",
        help="one prompt per line; writes JSON lines {prompt, code, valid}",
    )
    p.add_argument("--beams", type=int, metavar="N", help="beam width (default: the model's)")
    p.add_argument(
        "--model",
        default=None,
        metavar="dummy|DIR",
        help="a trained model folder, or dummy for the chromatic templates "
        "(default: the shipped model)",
    )
    p.add_argument("--output", type=Path, metavar="FILE", help="write the code here, not stdout")
    p.add_argument("--force", action="store_true", help="let --output overwrite an existing file")
    p.add_argument(
        "--no-index",
        action="store_true",
        help="decode; never answer with the prompt index's nearest training program",
    )
    p.set_defaults(func=_cmd_generate)


def _cmd_generate(args: argparse.Namespace) -> int:
    from engine.generate import Generator
    from engine.templates import NoTemplateError

    output: Path | None = args.output
    if output is not None and output.exists() and not args.force:
        raise CliError(f"{output} already exists; pass --force to overwrite it")
    if args.beams is not None and args.beams < 1:
        raise CliError("--beams must be at least 1")
    try:
        generator = Generator.load(args.model)
        if args.prompt_file is not None:
            return _generate_batch(
                generator, args.prompt_file, output, args.beams, not args.no_index
            )
        result = generator.generate(args.prompt, beams=args.beams, use_index=not args.no_index)
    except NoTemplateError as exc:
        raise CliError(str(exc)) from None
    except Exception as exc:
        from engine.model import ModelLoadError  # imports torch: only on this path

        if isinstance(exc, ModelLoadError):
            raise CliError(str(exc)) from None
        raise
    code = result.code if result.code.endswith("\n") else result.code + "\n"
    if output is None:
        sys.stdout.write(code)
    else:
        try:
            output.write_text(code, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot write {output}: {exc.strerror or exc}") from None
        print(f"wrote {output} ({result.source})", file=sys.stderr)
    if not result.valid:
        name = str(output) if output is not None else "<generated>"
        for diag in result.diagnostics:
            for line in _diagnostic_lines(name, diag):
                print(line, file=sys.stderr)
        print("warning: the generated code does not validate", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


def _generate_batch(
    generator: Generator,
    prompt_file: Path,
    output: Path | None,
    beams: int | None,
    use_index: bool = True,
) -> int:
    from engine.generate import generate_json_lines, read_prompt_file

    try:
        prompts = read_prompt_file(prompt_file)
        stream = sys.stdout if output is None else output.open("w", encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise CliError(str(exc)) from None
    invalid = 0
    try:
        for line, valid in generate_json_lines(
            generator, prompts, beams=beams, use_index=use_index
        ):
            stream.write(line + "\n")
            stream.flush()
            invalid += not valid
    finally:
        if stream is not sys.stdout:
            stream.close()
    if invalid:
        print(f"warning: {invalid} of {len(prompts)} results do not validate", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


_COMMANDS.append(_add_generate)


# --- eval --------------------------------------------------------------------------------------


def _add_eval(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "eval", help="score a model against the retrieval baseline on held-out prompts"
    )
    p.add_argument("--model", default=None, metavar="dummy|DIR", help="default: the shipped model")
    p.add_argument(
        "--config", type=Path, metavar="FILE", help="whose [dataset] to use (default: the shipped)"
    )
    p.add_argument("--split", choices=("heldout", "val"), default="heldout")
    p.add_argument(
        "--limit", type=int, metavar="N", help="evaluate N prompts spread over the split"
    )
    p.add_argument("--beams", type=int, metavar="N", help="beam width (default: the model's)")
    p.add_argument(
        "--no-index",
        action="store_true",
        help="decode every prompt; never answer with the prompt index's nearest program",
    )
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.set_defaults(func=_cmd_eval)


def _cmd_eval(args: argparse.Namespace) -> int:
    from engine.config import ConfigError
    from engine.dataset import DatasetError
    from engine.evaluate import DEFAULT_CONFIG, evaluate, format_report, load_eval_split
    from engine.generate import Generator

    try:
        examples, train = load_eval_split(args.config or DEFAULT_CONFIG, args.split, args.limit)
    except (ConfigError, DatasetError, ValueError, OSError) as exc:
        raise CliError(str(exc)) from None
    try:
        generator = Generator.load(args.model)
    except Exception as exc:
        from engine.model import ModelLoadError

        if isinstance(exc, ModelLoadError):
            raise CliError(str(exc)) from None
        raise

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\rgenerating {done}/{total}", end="" if done < total else "\n", file=sys.stderr)

    report = evaluate(
        generator,
        examples,
        train,
        split=args.split,
        beams=args.beams,
        on_progress=progress,
        use_index=not args.no_index,
    )
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_report(report))
    return EXIT_OK


_COMMANDS.append(_add_eval)


# --- dataset -----------------------------------------------------------------------------------


def _add_dataset(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("dataset", help="statistics of the training pairs: counts, lengths, naga")
    p.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG, metavar="FILE", help="whose [dataset]"
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_cmd_dataset)


def _cmd_dataset(args: argparse.Namespace) -> int:
    from engine.config import ConfigError
    from engine.dataset import DatasetError, describe_splits, format_description, load_splits

    try:
        cfg = load_config(args.config)
        splits = load_splits(cfg.dataset, cfg.training.seed)
    except (ConfigError, DatasetError, OSError) as exc:
        raise CliError(str(exc)) from None
    report = describe_splits(
        splits, min_freq=cfg.tokenizer.min_freq, lowercase=cfg.tokenizer.lowercase
    )
    print(json.dumps(report, indent=2) if args.json else format_description(report))
    programs = report["programs"]
    assert isinstance(programs, dict)
    return EXIT_OK if programs["naga_valid"] == programs["distinct"] else EXIT_INVALID


_COMMANDS.append(_add_dataset)


# --- train -------------------------------------------------------------------------------------


def _add_train(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "train",
        help="train a model from a config (CPU, one GPU, or under torchrun)",
        description="Train the encoder-decoder model. Exit 0: trained; 2: bad config, data or "
        "device; 130: interrupted (a checkpoint is kept; continue with --resume).",
    )
    p.add_argument("--config", required=True, metavar="NAME|PATH", help="training config")
    p.add_argument("--epochs", type=int, metavar="N", help="epochs to train (default: config's)")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    p.add_argument(
        "--device", choices=("cpu", "cuda", "auto"), help="default: the config's [training] device"
    )
    p.add_argument(
        "--progress",
        choices=("bar", "json"),
        default="bar",
        help="bar: a progress line on stderr; json: one JSON object per line on stdout",
    )
    p.add_argument(
        "--output", type=Path, metavar="DIR", help="default: the config's checkpoint_dir"
    )
    p.add_argument(
        "--workspace",
        type=Path,
        metavar="DIR",
        help="also train on pairs mined from DIR's *.wgsl files (// comment above a function)",
    )
    p.set_defaults(func=_cmd_train)


def _cmd_train(args: argparse.Namespace) -> int:
    try:
        config = resolve_config(args.config)
    except CliError as exc:
        if args.progress == "json":  # the language server reads errors from stdout too
            print(json.dumps({"event": "error", "message": str(exc)}), flush=True)
        raise
    try:
        from engine.trainer import run_from_cli  # imports torch: seconds, and Ctrl-C may come

        return run_from_cli(
            config,
            epochs=args.epochs,
            resume=args.resume,
            device=args.device,
            progress=args.progress,
            output=args.output,
            workspace=args.workspace,
        )
    except KeyboardInterrupt:  # while importing torch, or a second Ctrl-C: nothing saved
        if args.progress == "json":
            print(json.dumps({"event": "interrupted", "checkpoint": None}), flush=True)
        raise


_COMMANDS.append(_add_train)


def _add_serve(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="run the WGSL language server (stdio by default)")
    p.add_argument("--tcp", metavar="HOST:PORT", help="listen on a TCP socket instead of stdio")
    p.set_defaults(func=_cmd_serve)


def _cmd_serve(args: argparse.Namespace) -> int:
    tcp: tuple[str, int] | None = None
    if args.tcp:
        host, _, port = str(args.tcp).rpartition(":")
        if not host or not port.isdigit():
            raise CliError(f"--tcp expects HOST:PORT (e.g. 127.0.0.1:2087), got {args.tcp!r}")
        tcp = (host, int(port))
    if not args.verbose:
        logging.getLogger("server").setLevel(logging.INFO)
    if tcp is None:
        # Answers `initialize` while pygls is still importing (server/launch.py).
        from server.launch import serve_stdio

        serve_stdio()
        return EXIT_OK
    from server.server import main as serve

    try:
        serve(tcp)
    except OSError as exc:
        if tcp is None:
            raise
        raise CliError(
            f"cannot listen on {tcp[0]}:{tcp[1]}: {exc.strerror or exc}; "
            "pick a free port with --tcp HOST:PORT"
        ) from exc
    return EXIT_OK


_COMMANDS.append(_add_serve)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    func: Handler | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return func(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, and keep Python's exit-time flush
        # of stdout from raising again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
