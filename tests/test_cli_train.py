"""`tiny-agent-trainer train` as the user and the language server run it: a real subprocess."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from cli_runner import cli
from tiny_project import write_project

from engine.generate import Generator

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


def test_torchrun_shares_the_batches_between_processes(tmp_path: Path) -> None:
    """Two processes under torchrun (gloo on the CPU): each trains on half of every epoch's
    batches, only rank 0 reports and writes, and the model it writes loads."""
    config = write_project(tmp_path, epochs=3)
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
