"""`tiny-agent-trainer train` as the user and the language server run it: a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from cli_runner import cli
from tiny_project import write_project

from engine import trainer
from engine.generate import Generator
from engine.trainer import SilentProgress, TrainingInterrupted, TrainOptions

STEP_KEYS = {"epoch", "step", "total_steps", "loss", "lr", "tokens_per_s", "eta_s"}


def events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_json_progress_metrics_and_a_loadable_model(tmp_path: Path) -> None:
    config = write_project(tmp_path, epochs=2)
    workspace = tmp_path / "shaders"
    workspace.mkdir()
    (workspace / "triple.wgsl").write_text(
        "@group(0) @binding(0) var<storage, read_write> data: array<f32>;\n\n"
        "// triple every element of the buffer\n"
        "@compute @workgroup_size(64)\n"
        "fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
        "    data[id.x] = data[id.x] * 3.0;\n"
        "}\n"
    )
    proc = cli(
        "train", "--config", str(config), "--progress", "json", "--workspace", str(workspace),
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    got = events(proc.stdout)
    kinds = [e["event"] for e in got]
    assert kinds[0] == "start" and kinds[-1] == "end"
    assert kinds.count("epoch") == 2 and set(kinds[1:-1]) == {"step", "epoch"}
    start = got[0]
    assert start["workspace_pairs"] == 1 and start["train_examples"] == 29
    steps = [e for e in got if e["event"] == "step"]
    assert all(e.keys() >= STEP_KEYS for e in steps)
    assert [e["step"] for e in steps] == sorted(e["step"] for e in steps)
    assert steps[-1]["step"] == steps[-1]["total_steps"] == start["total_steps"]
    epochs = [e for e in got if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert all(e["train_loss"] > 0 and e["val_loss"] > 0 for e in epochs)

    end = got[-1]
    model_dir = Path(end["checkpoint"])
    assert model_dir == tmp_path / "out" / "best"
    saved = json.loads((model_dir / "metrics.json").read_text())
    assert saved == end["metrics"]
    for key in ("train_loss", "val_loss", "val_token_accuracy", "val_exact_match", "val_bleu"):
        assert isinstance(saved[key], float), key
    assert 0 <= saved["val_naga_valid_rate"] <= 1
    assert (model_dir / "loss_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    generator = Generator.load(model_dir, drafts=False)
    assert not generator.is_template


def test_sigint_keeps_a_resumable_checkpoint(tmp_path: Path) -> None:
    """What the language server does to cancel: SIGINT, then exit 130 and --resume works."""
    config = write_project(tmp_path, epochs=500)
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "train", "--config", str(config), "--progress=json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    seen = [json.loads(proc.stdout.readline()) for _ in range(2)]
    assert [e["event"] for e in seen] == ["start", "step"]
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    last = events(out)[-1]
    assert last == {"event": "interrupted", "checkpoint": str(tmp_path / "out" / "last")}
    assert "--resume" in err and "Traceback" not in err
    state = torch.load(tmp_path / "out" / "last" / "trainer_state.pt", weights_only=True)
    done = state["global_step"]
    assert done >= 1

    resumed = cli(
        "train", "--config", str(config), "--progress", "json", "--resume", "--epochs", "1",
        cwd=tmp_path,
    )  # fmt: skip
    if done >= 4:  # the signal came after the first epoch (4 steps): nothing left to do
        assert resumed.returncode == 2 and "pass a larger --epochs" in resumed.stderr
        return
    assert resumed.returncode == 0, resumed.stderr
    start = events(resumed.stdout)[0]
    assert start["start_step"] == done and start["total_steps"] == 4


def test_a_stop_at_any_moment_of_startup_ends_cleanly(tmp_path: Path) -> None:
    """What the language server sends to stop a run (SIGTERM), from before Python has started
    to the first steps: each run ends at once, with status 130 and an ``interrupted`` event
    once the trainer's handler is in (killed by the signal before), never a traceback, and a
    checkpoint only when a step was taken. The runs start together: under that load the
    moments spread over the child's life whatever the machine's speed."""
    delays = (0.0, 0.005, 0.02, 0.05, 0.2, 0.5, 1.5, 4.0)
    runs: list[tuple[float, Path, subprocess.Popen[str]]] = []
    pending: list[tuple[float, subprocess.Popen[str]]] = []
    for number, delay in enumerate(delays):
        root = tmp_path / f"run{number}"
        root.mkdir()
        config = write_project(root, epochs=500)
        proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "engine.cli", "train", "--config", str(config),
             "--progress", "json"],
            cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )  # fmt: skip
        if delay == 0.0:
            proc.send_signal(signal.SIGTERM)
        else:
            pending.append((time.monotonic() + delay, proc))
        runs.append((delay, root, proc))
    for when, proc in sorted(pending, key=lambda p: p[0]):
        time.sleep(max(0.0, when - time.monotonic()))
        proc.send_signal(signal.SIGTERM)

    for delay, root, proc in runs:
        out, err = proc.communicate(timeout=300)
        where = f"stopped {delay} s after the start: status {proc.returncode}\n{out}\n{err}"
        assert proc.returncode in (130, -signal.SIGTERM), where
        assert "Traceback" not in err and "Fatal Python error" not in err, where
        got = events(out)
        assert (proc.returncode == 130) == bool(got), where
        if not got:
            assert not (root / "out").exists(), where
            continue
        assert got[-1]["event"] == "interrupted" and "end" not in {e["event"] for e in got}
        checkpoint = got[-1]["checkpoint"]
        if checkpoint is None:
            assert "step" not in {e["event"] for e in got}, where
            assert "no checkpoint was written" in err, where
            assert not (root / "out" / "last").exists(), where
        else:
            assert checkpoint == str(root / "out" / "last"), where
            state = torch.load(root / "out" / "last" / "trainer_state.pt", weights_only=True)
            assert state["global_step"] >= 1, where


class _Recorder(SilentProgress):
    """Keeps the events; ``on_start`` runs when the trainer reports its start."""

    def __init__(self, on_start: Callable[[], None] | None = None) -> None:
        self.events: list[Any] = []
        self.on_start = on_start

    def start(self, info: dict[str, Any]) -> None:
        self.events.append("start")
        if self.on_start is not None:
            self.on_start()

    def step(self, info: dict[str, Any]) -> None:
        self.events.append("step")

    def interrupted(self, checkpoint: Path | None) -> None:
        self.events.append(("interrupted", checkpoint))


def _stop_me() -> None:
    """What a stop request does to the trainer: SIGTERM to this process."""
    handler = signal.getsignal(signal.SIGTERM)
    assert callable(handler), "the trainer handles SIGTERM (else this would end pytest)"
    os.kill(os.getpid(), signal.SIGTERM)


@pytest.mark.parametrize("resumed", [False, True], ids=["new", "resumed"])
@pytest.mark.parametrize("moment", ["setting up", "at the start"])
def test_a_stop_before_the_first_step_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moment: str, resumed: bool
) -> None:
    """A stop while the data is loading, or just before the first step: the run ends at once
    and writes nothing; a resumed run's checkpoint stays as it was and is the one reported."""
    config = write_project(tmp_path, epochs=3)
    out = tmp_path / "out"
    kept: bytes | None = None
    if resumed:
        with pytest.raises(TrainingInterrupted):
            trainer.train(TrainOptions(config, output_dir=out, stop_after_steps=2))
        kept = (out / "last" / "trainer_state.pt").read_bytes()
    recorder = _Recorder(on_start=_stop_me if moment == "at the start" else None)
    if moment == "setting up":
        load_data = trainer._load_data

        def stopped_while_loading(*args: Any) -> Any:
            _stop_me()
            return load_data(*args)

        monkeypatch.setattr(trainer, "_load_data", stopped_while_loading)
    previous = signal.getsignal(signal.SIGTERM)

    with pytest.raises(TrainingInterrupted) as stopped:
        trainer.train(TrainOptions(config, output_dir=out, resume=resumed), recorder)

    expected = out / "last" if resumed else None
    assert stopped.value.checkpoint == expected
    assert recorder.events[-1] == ("interrupted", expected)
    assert "step" not in recorder.events
    assert signal.getsignal(signal.SIGTERM) == previous
    if resumed:
        assert (out / "last" / "trainer_state.pt").read_bytes() == kept
        assert [p.name for p in out.iterdir()] == ["last"]
    else:
        assert not out.exists()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("pairs.toml", "missing.toml"), "missing.toml: training data not found; set [dataset]"),
        (("nhead = 2", "nhead = 3"), "tiny.toml:7: model.nhead: must divide model.d_model"),
        (("d_model = 32", 'd_model = "wide"'), "tiny.toml:6: model.d_model: must be an integer"),
    ],
)
def test_config_and_data_errors_are_one_clear_line(
    tmp_path: Path, edit: tuple[str, str], expected: str
) -> None:
    config = write_project(tmp_path)
    config.write_text(config.read_text().replace(*edit))
    proc = cli("train", "--config", str(config), "--progress", "json", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and expected in proc.stderr, proc.stderr
    assert events(proc.stdout) == [{"event": "error", "message": proc.stderr[7:].strip()}]


def test_empty_dataset_and_missing_config(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    (tmp_path / "pairs.toml").write_text("# no pairs yet\n")
    proc = cli("train", "--config", str(config), cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "pairs.toml" in proc.stderr and "[[examples]]" in proc.stderr
    proc = cli("train", "--config", "nowhere.toml", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: nowhere.toml: no such config file"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_a_clear_error(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    proc = cli("train", "--config", str(config), "--device", "cuda", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: device cuda was asked for but PyTorch")
    assert "--device cpu" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()
    config.write_text(config.read_text().replace('device = "cpu"', 'device = "cuda"'))
    proc = cli("train", "--config", str(config), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: {config}: [training] device = 'cuda': device cuda")


def test_workspace_must_be_a_folder(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    proc = cli("train", "--config", str(config), "--workspace", "no_such_dir", cwd=tmp_path)
    assert proc.returncode == 2
    assert "no_such_dir: --workspace is not a folder" in proc.stderr


@pytest.mark.parametrize("pack", [False, True], ids=["padded", "packed"])
def test_torchrun_shares_the_batches_between_processes(tmp_path: Path, pack: bool) -> None:
    """Two processes under torchrun (gloo on the CPU): each trains on half of every epoch's
    batches, only rank 0 reports and writes, and the model it writes loads; with padded
    batches and with packed ones."""
    config = write_project(tmp_path, epochs=3, training={"pack": pack})
    proc = subprocess.run(
        [
            sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
            "-m", "engine.cli", "train", "--config", str(config), "--progress", "json",
        ],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    got = events(proc.stdout)
    kinds = [e["event"] for e in got]
    assert kinds.count("start") == 1 and kinds.count("end") == 1 and kinds.count("epoch") == 3
    start, end = got[0], got[-1]
    assert start["world_size"] == 2 and end["metrics"]["world_size"] == 2
    # 28 training pairs in batches of 8: 4 batches an epoch, 2 for each process.
    assert start["total_steps"] == 3 * 2
    steps = [e["step"] for e in got if e["event"] == "step"]
    assert steps == sorted(set(steps)) and steps[-1] == 6
    losses = [e["train_loss"] for e in got if e["event"] == "epoch"]
    assert losses[-1] < losses[0]
    generator = Generator.load(Path(end["checkpoint"]), drafts=False)
    assert not generator.is_template
