"""The evaluation harness: metrics per system and the retrieval baseline."""

from __future__ import annotations

import pytest

from engine.dataset import Example
from engine.evaluate import RetrievalBaseline, score_outputs, wgsl_tokens
from engine.kernels import KernelRunner
from engine.validator import validate_source

DOUBLE = """\
@group(0) @binding(0) var<storage, read_write> data: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= arrayLength(&data)) { return; }
    data[i] = data[i] * 2.0;
}
"""
SQUARE = DOUBLE.replace("data[i] * 2.0", "data[i] * data[i]")
NEGATE = DOUBLE.replace("data[i] * 2.0", "-data[i]")
RED = """\
@fragment
fn main() -> @location(0) vec4<f32> {
    return vec4<f32>(1.0, 0.0, 0.0, 1.0);
}
"""

TRAIN = [
    Example("double every element of the buffer", DOUBLE, "double"),
    Example("square each value in the array", SQUARE, "square"),
    Example("fragment shader that paints everything red", RED, "solid"),
]


@pytest.fixture(scope="module")
def runner() -> KernelRunner:
    return KernelRunner()


def test_retrieval_finds_the_closest_wording() -> None:
    baseline = RetrievalBaseline(TRAIN)
    assert baseline.nearest("multiply every element by two (double it)").family == "double"
    assert baseline.nearest("squares of the values in an array").family == "square"
    assert baseline.nearest("paint the screen red in a fragment shader").family == "solid"


def test_scores_count_validity_matches_and_behaviour(runner: KernelRunner) -> None:
    examples = [
        Example("double it", DOUBLE, "double"),
        Example("square it", SQUARE, "square"),
        Example("negate it", NEGATE, "negate"),
        Example("red", RED, "solid"),
    ]
    double_in_other_words = (
        "@group(0) @binding(0) var<storage, read_write> v: array<f32>;\n"
        "@compute @workgroup_size(32)\n"
        "fn k(@builtin(global_invocation_id) g: vec3<u32>) {\n"
        "    if (g.x < arrayLength(&v)) { v[g.x] = v[g.x] + v[g.x]; }\n}\n"
    )
    outputs = [
        double_in_other_words,  # right behaviour, other tokens
        DOUBLE,  # valid but wrong behaviour for "square"
        "fn broken( {",  # invalid
        RED,  # exact
    ]
    scores = score_outputs("system", examples, outputs, 1.0, validate_source, runner)
    assert scores.count == 4
    assert scores.valid == 3
    assert scores.valid_rate == pytest.approx(0.75)
    assert scores.exact_match == pytest.approx(0.25)
    assert scores.functional_total == 3  # the fragment shader is not a kernel
    assert scores.functional_passed == 1
    assert scores.functional_pass_at_1 == pytest.approx(1 / 3)
    reasons = {f["prompt"]: f["reason"] for f in scores.failures}
    assert reasons["negate it"] == "not valid WGSL"
    assert "differs" in reasons["square it"]
    assert 0.0 < scores.bleu < 1.0


def test_perfect_outputs_score_one(runner: KernelRunner) -> None:
    examples = [Example("double", DOUBLE, "double"), Example("red", RED, "solid")]
    scores = score_outputs(
        "s", examples, [e.wgsl_code for e in examples], 0.0, validate_source, runner
    )
    assert scores.valid_rate == 1.0 and scores.exact_match == 1.0
    assert scores.bleu == pytest.approx(1.0) and scores.functional_pass_at_1 == 1.0


def test_tokens_ignore_comments_and_layout() -> None:
    assert wgsl_tokens("// hi\nlet  x=1;") == wgsl_tokens("let x = 1; /* c */")
