"""A tiny training project for tests: one-line compute kernels over a storage buffer and a
config small enough (d_model 32, one layer by default) to train in seconds on a CPU."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

OPS = (("add", "+"), ("subtract", "-"), ("multiply", "*"), ("divide", "/"))
PROMPT = "{word} {k} to every element of the buffer"

Value = str | int | float | bool


def kernel(op: str, k: int) -> str:
    """The shader of one pair: ``data[i] = data[i] <op> <k>.0``."""
    return (
        "@group(0) @binding(0) var<storage, read_write> data: array<f32>;\n\n"
        "@compute @workgroup_size(64)\n"
        "fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
        f"    data[id.x] = data[id.x] {op} {k}.0;\n"
        "}\n"
    )


def _toml_table(name: str, values: Mapping[str, Value]) -> str:
    def value(v: Value) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        return json.dumps(v) if isinstance(v, str) else repr(v)

    return "\n".join([f"[{name}]", *(f"{k} = {value(v)}" for k, v in values.items())]) + "\n"


def write_project(
    root: Path,
    *,
    epochs: int = 2,
    ops: Iterable[tuple[str, str]] = OPS,
    prompt: str = PROMPT,
    model: Mapping[str, Value] | None = None,
    training: Mapping[str, Value] | None = None,
    tokenizer: Mapping[str, Value] | None = None,
) -> Path:
    """Writes ``pairs.toml`` (each op with k = 2..9) and ``tiny.toml`` under ``root``; returns
    the config. ``model``, ``training`` and ``tokenizer`` override or add keys of those tables."""
    lines = []
    for word, op in ops:
        for k in range(2, 10):
            lines += [
                "[[examples]]",
                f'natural_language = "{prompt.format(word=word, k=k)}"',
                f'wgsl_code = """\n{kernel(op, k)}"""',
                "",
            ]
    (root / "pairs.toml").write_text("\n".join(lines), encoding="utf-8")
    tables = [
        _toml_table("task", {"name": "tiny", "task_type": "code_generation"}),
        _toml_table(
            "model",
            {
                "d_model": 32,
                "nhead": 2,
                "num_layers": 1,
                "dim_feedforward": 64,
                "dropout": 0.1,
                "max_seq_len": 96,
                **(model or {}),
            },
        ),
        _toml_table(
            "training",
            {
                "num_epochs": epochs,
                "batch_size": 8,
                "learning_rate": 0.01,
                "warmup_steps": 2,
                "save_every": 1,
                "early_stopping": False,
                "seed": 7,
                "device": "cpu",
                "checkpoint_dir": "out",
                **(training or {}),
            },
        ),
    ]
    if tokenizer:
        tables.append(_toml_table("tokenizer", tokenizer))
    tables.append(_toml_table("dataset", {"train_path": "pairs.toml", "val_ratio": 0.125}))
    config = root / "tiny.toml"
    config.write_text("\n".join(tables), encoding="utf-8")
    return config
