"""The training loop in-process, on a tiny model: learning, exact resume, refused checkpoints."""

from __future__ import annotations

import itertools
import json
import pickle
import sys
from pathlib import Path

import pytest
import tiny_project
import torch
from tiny_project import kernel

from engine.trainer import (
    METRICS_FILE,
    OUTPUTS_FILE,
    STATE_FILE,
    TrainError,
    TrainingInterrupted,
    TrainOptions,
    fill_naga_metrics,
    learning_rate,
    train,
)


def write_project(root: Path, epochs: int = 3, dropout: float = 0.1) -> Path:
    """A tiny config (d_model 32, one layer) and 32 pairs under ``root``; returns the config."""
    return tiny_project.write_project(root, epochs=epochs, model={"dropout": dropout})


def options(config: Path, out: Path, **kw: object) -> TrainOptions:
    return TrainOptions(config_path=config, output_dir=out, final_metrics=False, **kw)  # type: ignore[arg-type]


def test_loss_falls_over_a_few_epochs(tmp_path: Path) -> None:
    config = write_project(tmp_path, epochs=4)
    result = train(options(config, tmp_path / "out"))
    losses = result.history["train_loss"]
    assert len(losses) == 4
    assert losses[-1] < 0.8 * losses[0], losses
    assert result.history["val_loss"][-1] < result.history["val_loss"][0]


def test_same_seed_same_losses(tmp_path: Path) -> None:
    config = write_project(tmp_path, epochs=1)
    first = train(options(config, tmp_path / "a")).step_losses
    second = train(options(config, tmp_path / "b")).step_losses
    assert first == second


def test_interrupted_run_resumes_exactly(tmp_path: Path) -> None:
    """Stop after 5 steps (mid-epoch 2: 28 pairs / 8 = 4 steps an epoch), resume, and compare
    every later loss with an uninterrupted run: dropout masks, batch order, learning rate and
    optimizer moments all carry over."""
    config = write_project(tmp_path, epochs=3)
    whole = train(options(config, tmp_path / "whole")).step_losses

    out = tmp_path / "parts"
    with pytest.raises(TrainingInterrupted) as stopped:
        train(options(config, out, stop_after_steps=5))
    assert stopped.value.checkpoint == out / "last"
    state = torch.load(out / "last" / STATE_FILE, weights_only=True)
    assert (state["epoch"], state["step_in_epoch"], state["global_step"]) == (1, 1, 5)

    rest = train(options(config, out, resume=True)).step_losses
    assert len(rest) == len(whole) - 5
    assert rest == whole[5:]  # bit for bit


def test_resume_without_a_checkpoint_says_so(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    with pytest.raises(TrainError, match="no checkpoint to resume from"):
        train(options(config, tmp_path / "nothing", resume=True))


def _interrupted_checkpoint(tmp_path: Path) -> tuple[Path, Path]:
    config = write_project(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(TrainingInterrupted):
        train(options(config, out, stop_after_steps=2))
    return config, out


class _Planted:
    """Unpickling this would run code: it must never happen."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (str(self.marker), "unpickled"))  # type: ignore[return-value]


def test_corrupt_weights_are_refused(tmp_path: Path) -> None:
    config, out = _interrupted_checkpoint(tmp_path)
    weights = out / "last" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(TrainError, match=r"model\.safetensors: not a readable safetensors file"):
        train(options(config, out, resume=True))


def test_pickled_trainer_state_is_refused_without_running_it(tmp_path: Path) -> None:
    config, out = _interrupted_checkpoint(tmp_path)
    marker = tmp_path / "marker"
    state_path = out / "last" / STATE_FILE
    torch.save({"global_step": 1, "payload": _Planted(marker)}, state_path)
    refused = r"trainer_state\.pt: refused: it holds pickled Python objects"
    with pytest.raises(TrainError, match=refused):
        train(options(config, out, resume=True))
    assert not marker.exists()


def test_a_trainer_state_from_something_else_is_refused(tmp_path: Path) -> None:
    config, out = _interrupted_checkpoint(tmp_path)
    torch.save({"global_step": 3, "epoch": 0}, out / "last" / STATE_FILE)
    with pytest.raises(TrainError, match=r"trainer_state\.pt: does not match .* without --resume"):
        train(options(config, out, resume=True))
    (out / "last" / STATE_FILE).write_bytes(b"not a zip archive")
    with pytest.raises(TrainError, match=r"trainer_state\.pt: refused: it is corrupt"):
        train(options(config, out, resume=True))


def test_pickled_weights_are_refused_without_running_them(tmp_path: Path) -> None:
    config, out = _interrupted_checkpoint(tmp_path)
    marker = tmp_path / "marker"
    (out / "last" / "model.safetensors").write_bytes(pickle.dumps(_Planted(marker)))
    with pytest.raises(TrainError, match="pickled checkpoints are refused"):
        train(options(config, out, resume=True))
    assert not marker.exists()


def test_schedule_warms_up_then_decays_to_the_floor() -> None:
    lrs = [learning_rate(s, 1.0, 10, 110, 0.1) for s in range(111)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(lrs[10:]))
    assert lrs[110] == pytest.approx(0.1)


def test_without_wgpu_and_matplotlib_the_run_still_ends_and_naga_fills_in_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on a GPU machine with torch alone: metrics.json says why the naga-valid rate is
    missing, and the saved greedy outputs are rated afterwards where wgpu is installed."""
    config = write_project(tmp_path, epochs=1)
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "wgpu", None)
        m.setitem(sys.modules, "matplotlib", None)
        result = train(TrainOptions(config_path=config, output_dir=tmp_path / "out"))
    best = result.best_dir
    saved = json.loads((best / METRICS_FILE).read_text())
    assert saved["val_naga_valid_rate"] is None
    assert "wgpu package is not installed" in saved["naga_valid_rate_missing"]
    assert f"naga-metrics {best}" in saved["naga_valid_rate_missing"]
    assert not (best / "loss_curve.png").exists()
    assert len((best / OUTPUTS_FILE).read_text().splitlines()) == saved["val_examples"] == 4
    filled = fill_naga_metrics(best)
    assert 0 <= filled["val_naga_valid_rate"] <= 1 and "naga_valid_rate_missing" not in filled


def test_naga_rate_can_be_filled_in_later(tmp_path: Path) -> None:
    """A run where naga was unavailable keeps its greedy outputs; naga rates them afterwards."""
    (tmp_path / METRICS_FILE).write_text(
        json.dumps({"val_naga_valid_rate": None, "naga_valid_rate_missing": "no wgpu"})
    )
    rows = [
        {"split": "val", "prompt": "p", "output": kernel("+", 2)},
        {"split": "val", "prompt": "q", "output": "fn broken( {"},
        {"split": "val", "prompt": "r", "output": ""},  # naga accepts it; it answers nothing
        {"split": "heldout", "prompt": "s", "output": kernel("*", 3)},
    ]
    (tmp_path / OUTPUTS_FILE).write_text("".join(json.dumps(r) + "\n" for r in rows))
    metrics = fill_naga_metrics(tmp_path)
    assert metrics["val_naga_valid_rate"] == pytest.approx(1 / 3)
    assert metrics["heldout_naga_valid_rate"] == 1.0
    saved = json.loads((tmp_path / METRICS_FILE).read_text())
    assert saved == metrics and "naga_valid_rate_missing" not in saved


def test_token_budget_batches_hold_similar_lengths_within_the_budget() -> None:
    from engine.trainer import EncodedPair, token_buckets

    lengths = [5, 40, 12, 33, 7, 90, 20, 21, 60, 3]
    pairs = [EncodedPair(src=[1, 2], tgt=[0] * (n + 1)) for n in lengths]
    buckets = token_buckets(pairs, 64)
    assert sorted(i for b in buckets for i in b) == list(range(len(pairs)))
    for b in buckets:
        padded = len(b) * max(lengths[i] for i in b)
        assert padded <= 64 or len(b) == 1  # a pair longer than the budget goes alone
    firsts = [[lengths[i] for i in b] for b in buckets]
    assert firsts == [[3, 5, 7, 12], [20, 21], [33], [40], [60], [90]]


def test_training_by_token_budget_learns_with_more_steps_for_a_smaller_budget(
    tmp_path: Path,
) -> None:
    (tmp_path / "pairs").mkdir()
    (tmp_path / "tokens").mkdir()
    by_pairs = write_project(tmp_path / "pairs", epochs=2)
    by_tokens = tiny_project.write_project(
        tmp_path / "tokens", epochs=2, training={"tokens_per_batch": 150}
    )
    pairs_run = train(options(by_pairs, tmp_path / "pairs" / "out"))
    tokens_run = train(options(by_tokens, tmp_path / "tokens" / "out"))
    assert len(tokens_run.step_losses) > len(pairs_run.step_losses)
    losses = tokens_run.history["val_loss"]
    assert losses[-1] < losses[0], losses


def test_packed_batches_train_the_same_model_as_padded_ones(tmp_path: Path) -> None:
    """``pack = true`` lays each batch's pairs end to end instead of padding them: the same
    steps, the same losses (no dropout, so nothing random differs)."""
    runs = {}
    for pack in (False, True):
        root = tmp_path / f"pack-{pack}"
        root.mkdir()
        config = tiny_project.write_project(
            root,
            epochs=2,
            model={"dropout": 0.0},
            training={"tokens_per_batch": 150, "pack": pack},
        )
        runs[pack] = train(options(config, root / "out"))
    padded, packed = runs[False], runs[True]
    assert len(packed.step_losses) == len(padded.step_losses) > 4
    assert packed.step_losses == pytest.approx(padded.step_losses, rel=1e-4)
    assert packed.history["val_loss"] == pytest.approx(padded.history["val_loss"], rel=1e-4)
    assert packed.history["val_loss"][-1] < packed.history["val_loss"][0]


def test_bf16_residual_on_cpu_warns_and_trains_as_without(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A CPU run has no autocast, so ``bf16_residual`` changes nothing there, and says so."""
    runs = {}
    for flag in (False, True):
        root = tmp_path / f"residual-{flag}"
        root.mkdir()
        config = tiny_project.write_project(root, epochs=1, training={"bf16_residual": flag})
        runs[flag] = train(options(config, root / "out"))
    assert runs[True].step_losses == runs[False].step_losses
    assert "bf16_residual = true has no effect on cpu" in caplog.text


def test_compiled_training_step_gives_the_eager_losses(tmp_path: Path) -> None:
    """``compile = true`` compiles the model and its loss as one module (padded batches here,
    packed ones on GPUs): the same losses as the eager run, to float32 rounding."""
    runs = {}
    for compiled in (False, True):
        root = tmp_path / f"compile-{compiled}"
        root.mkdir()
        config = tiny_project.write_project(
            root, epochs=1, model={"dropout": 0.0}, training={"compile": compiled}
        )
        runs[compiled] = train(options(config, root / "out"))
    eager, compiled_run = runs[False], runs[True]
    assert len(compiled_run.step_losses) == len(eager.step_losses) > 2
    assert compiled_run.step_losses == pytest.approx(eager.step_losses, rel=1e-4)
