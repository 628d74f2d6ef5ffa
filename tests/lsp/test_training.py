"""Training from the editor: a real ``train --progress json`` child, progress, cancel, reload."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsp_helpers import test_settings, wait_for, write_tiny_training
from lsprotocol import types
from pytest_lsp import LanguageClient

from server.training import TrainingOutcome, TrainingRequest, TrainingRun

pytestmark = pytest.mark.slow

WORKSPACE_SHADER = """\
// fragment shader that outputs green
@fragment
fn main() -> @location(0) vec4<f32> {
    return vec4<f32>(0.0, 1.0, 0.0, 1.0);
}
"""


async def execute(client: LanguageClient, command: str, *arguments: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )


def message_with(client: LanguageClient, text: str) -> types.ShowMessageParams | None:
    return next((m for m in client.messages if text in m.message), None)


def reports(client: LanguageClient, token: str) -> list[Any]:
    return list(client.progress_reports.get(token, []))


async def test_training_reports_progress_and_reloads_the_model(
    client: LanguageClient, tmp_path: Path
) -> None:
    (tmp_path / "shaders").mkdir()
    (tmp_path / "shaders" / "green.wgsl").write_text(WORKSPACE_SHADER, encoding="utf-8")
    write_tiny_training(tmp_path, epochs=5)
    # The trainer runs in the config's folder: a user's engine.py there must not replace ours.
    (tmp_path / "engine.py").write_text(
        "raise SystemExit('the workspace engine.py was imported')\n", encoding="utf-8"
    )

    started = await execute(
        client, "tinyAgent.train", {"config": "tiny.toml", "epochs": 2, "workspace": True}
    )
    assert started["started"] is True, started
    assert started["command"][-2:] == ["--workspace", str(tmp_path)]
    second = await execute(client, "tinyAgent.train", {"config": "tiny.toml"})
    assert second["started"] is False
    assert "already running" in second["reason"]
    assert message_with(client, "already running") is not None, "the user is told too"

    await wait_for(lambda: message_with(client, "Training finished") is not None, timeout=180)
    finished = message_with(client, "Training finished")
    assert finished is not None and finished.type == types.MessageType.Info
    assert "val loss" in finished.message and "epochs 2" in finished.message

    begin, *middle, end = reports(client, started["token"])
    assert isinstance(begin, types.WorkDoneProgressBegin)
    assert begin.cancellable and "tiny.toml" in begin.title
    assert isinstance(end, types.WorkDoneProgressEnd)
    assert end.message is not None and "Training finished" in end.message
    assert all(isinstance(r, types.WorkDoneProgressReport) for r in middle)
    messages = [r.message or "" for r in middle]
    assert "(1 pair from your shaders)" in messages[0], "the --workspace pair was mined"
    percentages = [r.percentage for r in middle if r.percentage]
    assert percentages == sorted(percentages) and percentages[-1] == 100
    assert any(m.startswith("epoch 2/2 · loss ") for m in messages)
    assert any(m.startswith("epoch 2 done · train loss") for m in messages)

    checkpoint = tmp_path / "checkpoints" / "best"
    info = await execute(client, "tinyAgent.modelInfo")
    assert info["state"] == "ready" and info["kind"] == "model"
    assert info["path"] == str(checkpoint)
    assert info["metrics"]["epochs_run"] == 2
    generated = await execute(
        client, "tinyAgent.generate", {"prompt": "fragment shader that outputs red"}
    )
    assert generated["source"] == "model", "completions come from the new model"


async def test_cancelling_training_keeps_a_checkpoint(
    client: LanguageClient, tmp_path: Path
) -> None:
    write_tiny_training(tmp_path, epochs=500, batch_size=1)
    started = await execute(client, "tinyAgent.train", str(tmp_path / "tiny.toml"))
    assert started["started"] is True, started
    token = started["token"]

    def stepping() -> bool:
        return any(
            isinstance(r, types.WorkDoneProgressReport) and (r.percentage or 0) > 0
            for r in reports(client, token)
        )

    await wait_for(stepping, timeout=180)
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    await wait_for(lambda: message_with(client, "Training stopped") is not None, timeout=60)
    stopped = message_with(client, "Training stopped")
    assert stopped is not None and "--resume" in stopped.message
    kept = Path(stopped.message.split("checkpoint kept in ")[1].split(" (")[0])
    assert kept.parent == tmp_path / "checkpoints"
    assert (kept / "model.safetensors").is_file()
    assert isinstance(reports(client, token)[-1], types.WorkDoneProgressEnd)
    assert message_with(client, "Training finished") is None

    info = await execute(client, "tinyAgent.modelInfo")
    assert info["kind"] == "template", "a stopped run does not replace the model in use"
    assert info["state"] == "ready" and info["training"] is False

    # A new run may start now; tinyAgent.stopTraining stops it even before its first step.
    again = await execute(client, "tinyAgent.train", {"config": str(tmp_path / "tiny.toml")})
    assert again["started"] is True
    assert (await execute(client, "tinyAgent.stopTraining"))["stopped"] is True
    await wait_for(lambda: len([m for m in client.messages if "stopped" in m.message]) == 2)
    assert (await execute(client, "tinyAgent.stopTraining"))["stopped"] is False


async def test_a_stop_at_any_moment_of_the_child_ends_as_stopped(tmp_path: Path) -> None:
    """Stops before the child exists, as it starts (Python still importing ``site``), while it
    imports torch, loads the data and trains: each run ends promptly as "interrupted", never
    as a failure, with a checkpoint only when one was written. The runs go together, so under
    that load the moments spread over the child's life whatever the machine's speed."""

    async def stopped(root: Path, delay: float | None) -> TrainingOutcome:
        root.mkdir()
        config = write_tiny_training(root, epochs=500, batch_size=1)
        run = TrainingRun(TrainingRequest(config), lambda event: None)
        if delay is None:
            run.stop()
        task = asyncio.ensure_future(run.run())
        if delay is not None:
            await wait_for(lambda: run.pid is not None or task.done(), timeout=120)
            await asyncio.sleep(delay)
            run.stop()
            run.stop()  # a second request (cancel, then shutdown) changes nothing
        return await asyncio.wait_for(task, timeout=300)

    delays = (None, 0.0, 0.005, 0.02, 0.05, 0.2, 1.0, 4.0)
    outcomes = await asyncio.gather(
        *(stopped(tmp_path / f"run{n}", delay) for n, delay in enumerate(delays))
    )
    for delay, outcome in zip(delays, outcomes, strict=True):
        assert (outcome.status, outcome.message) == ("interrupted", ""), (delay, outcome)
        if outcome.checkpoint is not None:
            assert (Path(outcome.checkpoint) / "trainer_state.pt").is_file(), (delay, outcome)
    assert outcomes[0].checkpoint is None and not (tmp_path / "run0" / "checkpoints").exists()


async def test_stopping_just_after_starting_says_stopped(
    client: LanguageClient, tmp_path: Path
) -> None:
    """The user is told "stopped" whenever the stop comes, and never sees a failure."""
    write_tiny_training(tmp_path, epochs=500, batch_size=1)

    def stop_messages() -> list[types.ShowMessageParams]:
        return [m for m in client.messages if "Training stopped" in m.message]

    for runs, delay in enumerate((0.0, 0.05, 0.3, 1.0), start=1):
        started = await execute(client, "tinyAgent.train", {"config": "tiny.toml"})
        assert started["started"] is True, started
        await asyncio.sleep(delay)
        assert (await execute(client, "tinyAgent.stopTraining"))["stopped"] is True

        def told(expected: int = runs) -> bool:
            return len(stop_messages()) == expected

        await wait_for(told, timeout=180)
        stopped = stop_messages()[-1]
        assert stopped.type == types.MessageType.Info, stopped
        if "checkpoint kept in " in stopped.message:
            kept = Path(stopped.message.split("checkpoint kept in ")[1].split(" (")[0])
            assert (kept / "model.safetensors").is_file()
        else:
            assert "nothing was saved" in stopped.message
    assert message_with(client, "Training failed") is None
    info = await execute(client, "tinyAgent.modelInfo")
    assert info["state"] == "ready" and info["training"] is False


async def test_training_errors_are_shown(client: LanguageClient, tmp_path: Path) -> None:
    missing = await execute(client, "tinyAgent.train", {"config": "nowhere.toml"})
    assert missing["started"] is False
    assert str(tmp_path / "nowhere.toml") in missing["reason"]
    config = write_tiny_training(tmp_path, epochs=1)
    for epochs in ("two", 0, True):
        bad = await execute(client, "tinyAgent.train", {"config": "tiny.toml", "epochs": epochs})
        assert bad["started"] is False
        assert "epochs must be a positive integer" in bad["reason"]
    config.write_text(config.read_text().replace("d_model = 32", "d_model = 33"), encoding="utf-8")
    started = await execute(client, "tinyAgent.train", {"config": "tiny.toml"})
    assert started["started"] is True
    await wait_for(lambda: message_with(client, "Training failed") is not None, timeout=120)
    failed = message_with(client, "Training failed")
    assert failed is not None and failed.type == types.MessageType.Error
    assert "tiny.toml" in failed.message and "d_model" in failed.message
    assert "Traceback" not in failed.message

    # The device setting reaches the trainer: this machine has no CUDA GPU.
    client.set_configuration({"tinyAgent": {**test_settings(), "device": "cuda"}})
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"tinyAgent": {"device": "cuda"}})
    )
    config.write_text(config.read_text().replace("d_model = 33", "d_model = 32"))
    started = await execute(client, "tinyAgent.train", {"config": "tiny.toml"})
    assert started["command"][-2:] == ["--device", "cuda"]
    await wait_for(lambda: message_with(client, "CUDA") is not None, timeout=120)
    no_gpu = message_with(client, "CUDA")
    assert no_gpu is not None and no_gpu.type == types.MessageType.Error
    assert 'the tinyAgent.device setting asks for "cuda"' in no_gpu.message
