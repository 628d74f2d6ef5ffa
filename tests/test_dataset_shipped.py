"""Every pair the project ships is a complete module that naga accepts, and the split is honest."""

from __future__ import annotations

from pathlib import Path

import pytest
import wgpu

from engine.dataset import Example, load_examples

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def device() -> wgpu.GPUDevice:
    adapter = wgpu.gpu.request_adapter_sync(power_preference="high-performance")
    return adapter.request_device_sync()


def _naga_error(device: wgpu.GPUDevice, code: str) -> str | None:
    try:
        device.create_shader_module(code=code)
    except wgpu.GPUValidationError as exc:
        return str(exc)
    return None


@pytest.fixture(scope="module")
def train() -> list[Example]:
    return load_examples(DATA / "train")


@pytest.fixture(scope="module")
def heldout() -> list[Example]:
    return load_examples(DATA / "heldout.toml")


def test_every_shipped_pair_validates_with_naga(
    device: wgpu.GPUDevice, train: list[Example], heldout: list[Example]
) -> None:
    codes = {e.wgsl_code: e for e in [*train, *heldout]}
    failures = []
    for code, example in codes.items():
        error = _naga_error(device, code)
        if error is not None:
            failures.append(f"{example.family}: {example.natural_language!r}\n{error}")
    assert not failures, f"{len(failures)} shipped shaders fail naga:\n" + "\n".join(failures[:5])


def test_dataset_meets_size_and_diversity_targets(train: list[Example]) -> None:
    prompts = [e.natural_language for e in train]
    assert len(train) >= 3000
    assert len(set(prompts)) / len(prompts) >= 0.9


def test_no_heldout_prompt_appears_in_training(
    train: list[Example], heldout: list[Example]
) -> None:
    train_prompts = {e.natural_language.lower() for e in train}
    leaked = [e.natural_language for e in heldout if e.natural_language.lower() in train_prompts]
    assert not leaked
    assert {e.family for e in heldout} <= {e.family for e in train}
