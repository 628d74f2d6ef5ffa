"""Loading pair files, splitting them, mining pairs from a workspace, and the `dataset` command."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.cli import main
from engine.dataset import (
    DatasetError,
    Example,
    describe_splits,
    load_examples,
    load_splits,
    mine_workspace_pairs,
    mine_workspace_pairs_report,
)

ROOT = Path(__file__).resolve().parent.parent

GOOD = """
[[examples]]
natural_language = "fill with red"
wgsl_code = '''
@fragment
fn main() -> @location(0) vec4<f32> {
    return vec4<f32>(1.0, 0.0, 0.0, 1.0);
}
'''
family = "frag_solid"
tags = ["fragment"]

[[examples]]
natural_language = "an empty function"
wgsl_code = "fn f() {}"
"""


def _write(tmp_path: Path, text: str, name: str = "pairs.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_loads_pairs_with_defaults(tmp_path: Path) -> None:
    examples = load_examples(_write(tmp_path, GOOD))
    assert examples[0] == Example(
        "fill with red", examples[0].wgsl_code, "frag_solid", ("fragment",)
    )
    assert examples[1].family == "custom" and examples[1].tags == ()


def test_folder_loads_every_toml_in_order(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, "b.toml")
    _write(tmp_path, GOOD.replace("fill with red", "paint it red"), "a.toml")
    (tmp_path / "notes.txt").write_text("ignored")
    prompts = [e.natural_language for e in load_examples(tmp_path)]
    assert prompts[0] == "paint it red" and len(prompts) == 4


def test_missing_key_names_file_and_line_of_the_example(tmp_path: Path) -> None:
    text = GOOD + '\n[[examples]]\nnatural_language = "no code here"\n'
    path = _write(tmp_path, text)
    line = text.split("\n").index('natural_language = "no code here"')  # header is just above
    with pytest.raises(DatasetError) as info:
        load_examples(path)
    assert str(info.value).startswith(f"{path}:{line}:")
    assert "wgsl_code" in str(info.value)


def test_wrong_type_names_the_key_line(tmp_path: Path) -> None:
    text = GOOD.replace('family = "frag_solid"', "family = 3")
    path = _write(tmp_path, text)
    line = text.split("\n").index("family = 3") + 1
    with pytest.raises(
        DatasetError, match=rf"{path}:{line}: 'family' must be a string, not an integer"
    ):
        load_examples(path)


def test_empty_file_and_bad_toml_and_missing_path(tmp_path: Path) -> None:
    empty = _write(tmp_path, "# nothing yet\n")
    with pytest.raises(DatasetError, match=rf"{empty}:1: no \[\[examples\]\]"):
        load_examples(empty)
    broken = _write(tmp_path, '[[examples]]\nnatural_language = "x\n', "broken.toml")
    with pytest.raises(DatasetError, match=rf"{broken}:2: invalid TOML"):
        load_examples(broken)
    with pytest.raises(DatasetError, match="no such file"):
        load_examples(tmp_path / "missing.toml")
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(DatasetError, match=r"no \.toml pair files"):
        load_examples(tmp_path / "empty_dir")


def test_empty_prompt_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace('"fill with red"', '"  "'))
    with pytest.raises(DatasetError, match="'natural_language' is empty"):
        load_examples(path)


@dataclass
class _Cfg:
    train_path: Path
    val_path: Path | None = None
    test_path: Path | None = None
    val_ratio: float = 0.1
    heldout_path: Path | None = None


def test_splits_are_deterministic_by_seed_and_disjoint() -> None:
    cfg = _Cfg(ROOT / "data" / "train", heldout_path=ROOT / "data" / "heldout.toml")
    a = load_splits(cfg, 1337)
    b = load_splits(cfg, 1337)
    c = load_splits(cfg, 1)
    assert a == b and a.val != c.val
    total = len(load_examples(cfg.train_path))
    assert len(a.train) + len(a.val) == total
    assert abs(len(a.val) - round(total * 0.1)) <= 1
    assert {e.natural_language for e in a.val}.isdisjoint({e.natural_language for e in a.train})
    assert len(a.heldout) > 0


def test_split_uses_val_path_and_test_path_when_given(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    splits = load_splits(_Cfg(path, val_path=path, test_path=path), 0)
    assert len(splits.train) == 2 and len(splits.val) == 2 and len(splits.heldout) == 2


def test_tiny_dataset_still_keeps_one_validation_pair(tmp_path: Path) -> None:
    splits = load_splits(_Cfg(_write(tmp_path, GOOD)), 0)
    assert len(splits.train) == 1 and len(splits.val) == 1


# --- mining --------------------------------------------------------------------------------------

SINGLE = """// brighten a color by twenty percent
fn brighten(c: vec3<f32>) -> vec3<f32> {
    return c * 1.2;
}
"""

MULTI = """const SCALE: f32 = 2.0;

// double a value using the module constant
fn twice(x: f32) -> f32 {
    return x * SCALE;
}

// negate a value
@must_use
fn negate_it(x: f32) -> f32 {
    return -x;
}

fn uncommented() {}
"""


def test_mining_takes_comment_blocks_above_functions(tmp_path: Path) -> None:
    (tmp_path / "single.wgsl").write_text(SINGLE)
    (tmp_path / "multi.wgsl").write_text(MULTI)
    (tmp_path / "broken.wgsl").write_text("// does nothing useful\nfn bad() -> f32 { return y; }\n")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.wgsl").write_text(SINGLE)
    report = mine_workspace_pairs_report(tmp_path)
    by_prompt = {e.natural_language: e.wgsl_code for e in report.pairs}
    assert by_prompt["brighten a color by twenty percent"] == SINGLE.split("\n", 1)[1]
    assert by_prompt["negate a value"].startswith("@must_use\nfn negate_it")
    assert by_prompt["double a value using the module constant"].startswith(
        "const SCALE: f32 = 2.0;\n\nfn twice("
    )
    assert report.files == 3 and report.candidates == 4 and report.skipped_invalid == 1
    assert mine_workspace_pairs(tmp_path) == report.pairs


# --- statistics and the CLI -------------------------------------------------------------------


def test_describe_counts_and_naga_verdicts(tmp_path: Path) -> None:
    bad = GOOD.replace("fn f() {}", "fn f() { return x; }")
    path = _write(tmp_path, bad)
    splits = load_splits(_Cfg(path, val_path=path), 0)
    report = describe_splits(splits)
    train = report["splits"]["train"]  # type: ignore[index]
    assert train["pairs"] == 2 and train["naga_valid"] == 1 and train["distinct_prompts"] == 2
    assert report["programs"] == {"distinct": 2, "naga_valid": 1}
    for side in ("prompt_tokens", "code_tokens"):
        stats = train[side]
        assert 0 < stats["min"] <= stats["p50"] <= stats["p95"] <= stats["max"]
    assert report["families"]["frag_solid"] == {"train": 1, "val": 1, "heldout": 0}  # type: ignore[index]


def _config(tmp_path: Path, train: Path) -> Path:
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(
        f"""
[task]
name = "t"
task_type = "code_generation"

[model]
d_model = 32
nhead = 2
num_layers = 1

[training]
num_epochs = 1
batch_size = 2
learning_rate = 1e-3

[dataset]
train_path = "{train.name}"
heldout_path = "{train.name}"
""",
        encoding="utf-8",
    )
    return cfg


def test_dataset_command_reports_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path, _write(tmp_path, GOOD))
    assert main(["dataset", "--config", str(cfg), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["splits"]["heldout"]["pairs"] == 2
    assert report["programs"]["naga_valid"] == 2


def test_dataset_command_flags_invalid_code_and_bad_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _config(tmp_path, _write(tmp_path, GOOD.replace("fn f() {}", "fn f( {}")))
    assert main(["dataset", "--config", str(cfg)]) == 1
    assert "naga-valid: 1" in capsys.readouterr().out
    cfg = _config(tmp_path, _write(tmp_path, "[[examples]]\n", "empty.toml"))
    assert main(["dataset", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "empty.toml:2" in err or "empty.toml:1" in err
    assert "Traceback" not in err
