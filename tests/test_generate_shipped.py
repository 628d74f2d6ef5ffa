"""The shipped default model (data/models/default): complete, loadable, answers pass naga."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.generate import DEFAULT_MODEL_DIR, Generator
from engine.kernels import KernelRunner, compare_kernels
from engine.validator import validate_source

ROOT = Path(__file__).resolve().parent.parent

# Wordings of our own, not copied from the training pairs.
PROMPTS = [
    "square each element of a buffer in place",
    "add two arrays element by element",
    "fragment shader that outputs solid red",
    "write a kernel that takes the square root of each entry and stores it in a second buffer",
    "clamp values between 0 and 1 with workgroup size 128",
]

SQUARE_IN_PLACE = """\
@group(0) @binding(0) var<storage, read_write> data: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if (gid.x < arrayLength(&data)) {
        data[gid.x] = data[gid.x] * data[gid.x];
    }
}
"""


@pytest.fixture(scope="module")
def shipped() -> Generator:
    return Generator.load(None)


def test_the_shipped_folder_holds_everything_a_user_needs() -> None:
    names = {p.name for p in DEFAULT_MODEL_DIR.iterdir()}
    for name in (
        "model.safetensors",
        "tokenizer_prompt.json",
        "tokenizer_wgsl.json",
        "config.toml",
        "metrics.json",
        "loss_curve.png",
    ):
        assert name in names
    assert not any(name.endswith((".pt", ".pth", ".pkl", ".bin")) for name in names)
    # the exact config it was trained with is the shipped default config
    shipped_config = (DEFAULT_MODEL_DIR / "config.toml").read_text(encoding="utf-8")
    assert shipped_config == (ROOT / "config" / "wgsl_generation.toml").read_text(encoding="utf-8")
    metrics = json.loads((DEFAULT_MODEL_DIR / "metrics.json").read_text(encoding="utf-8"))
    for split in ("val", "heldout"):
        assert 0.0 < metrics[f"{split}_naga_valid_rate"] <= 1.0


def test_shipped_model_loads_as_the_default(shipped: Generator) -> None:
    assert not shipped.is_template
    assert shipped.path == DEFAULT_MODEL_DIR
    info = shipped.describe()
    assert info["kind"] == "model" and int(str(info["params"])) > 1_000_000


@pytest.mark.parametrize("prompt", PROMPTS)
def test_shipped_model_answers_with_naga_valid_code(shipped: Generator, prompt: str) -> None:
    result = shipped.generate(prompt)
    assert result.source == "model"
    assert result.valid, result.diagnostics
    assert validate_source(result.code).valid


def test_shipped_model_squares_in_place_when_asked() -> None:
    runner = KernelRunner()
    code = Generator.load(None).generate("square each element of a buffer in place").code
    outcome = compare_kernels(runner, code, SQUARE_IN_PLACE)
    assert outcome.applicable and outcome.passed, outcome.reason


def test_generate_without_model_uses_the_shipped_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--prompt", "add two arrays element by element"]) == 0
    out = capsys.readouterr().out
    assert "@compute" in out and validate_source(out).valid
