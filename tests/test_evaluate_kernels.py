"""Functional correctness: generated and reference kernels run with wgpu on the CPU adapter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.kernels import KernelError, KernelRunner, compare_kernels, describe_kernel

DOUBLE = """\
@group(0) @binding(0) var<storage, read_write> data: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= arrayLength(&data)) { return; }
    data[i] = data[i] * 2.0;
}
"""

DOUBLE_OTHER_SPELLING = """\
@group(0) @binding(0) var<storage, read_write> values: array<f32>;
@compute @workgroup_size(128)
fn double_all(@builtin(global_invocation_id) gid: vec3<u32>) {
    if (gid.x < arrayLength(&values)) {
        values[gid.x] = values[gid.x] + values[gid.x];
    }
}
"""

SCALE_WITH_PARAMS = """\
struct Params {
    scale: f32,
    count: u32,
}
@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= params.count) { return; }
    output[i] = input[i] * params.scale;
}
"""

HISTOGRAM = """\
@group(0) @binding(0) var<storage, read> values: array<u32>;
@group(0) @binding(1) var<storage, read_write> bins: array<atomic<u32>, 256>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= arrayLength(&values)) { return; }
    atomicAdd(&bins[values[id.x]], 1u);
}
"""

INVERT_COLORS = """\
@group(0) @binding(0) var<storage, read_write> pixels: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= arrayLength(&pixels)) { return; }
    pixels[i] = vec4<f32>(1.0 - pixels[i].rgb, pixels[i].a);
}
"""

FRAGMENT = """\
@fragment
fn main() -> @location(0) vec4<f32> {
    return vec4<f32>(1.0);
}
"""


@pytest.fixture(scope="module")
def runner() -> KernelRunner:
    return KernelRunner()


def test_kernel_really_runs_on_the_inputs(runner: KernelRunner) -> None:
    out = runner.run(SCALE_WITH_PARAMS).buffers[(0, 1)]
    first = runner.run(DOUBLE).buffers[(0, 0)]
    # both kernels see the same input at slot (0, 0): doubled vs scaled by the uniform's 1.5
    assert out.shape == (runner.elements,)
    assert np.allclose(out / 1.5, first / 2.0)
    assert np.count_nonzero(out) == runner.elements


def test_histogram_counts_every_element(runner: KernelRunner) -> None:
    bins = runner.run(HISTOGRAM).buffers[(0, 1)]
    assert bins.shape == (256,) and int(bins.sum()) == runner.elements


def test_same_behaviour_in_other_words_passes(runner: KernelRunner) -> None:
    outcome = compare_kernels(runner, DOUBLE_OTHER_SPELLING, DOUBLE)
    assert outcome.applicable and outcome.passed, outcome.reason


def test_different_behaviour_fails(runner: KernelRunner) -> None:
    squares = DOUBLE.replace("data[i] * 2.0", "data[i] * data[i]")
    outcome = compare_kernels(runner, squares, DOUBLE)
    assert outcome.applicable and not outcome.passed
    assert "differs" in outcome.reason


def test_vec4_colour_kernels_are_compared(runner: KernelRunner) -> None:
    assert compare_kernels(runner, INVERT_COLORS, INVERT_COLORS).passed
    keeps_alpha_wrong = INVERT_COLORS.replace("pixels[i].a)", "0.0)")
    assert not compare_kernels(runner, keeps_alpha_wrong, INVERT_COLORS).passed


def test_a_missing_output_binding_fails(runner: KernelRunner) -> None:
    outcome = compare_kernels(runner, DOUBLE, SCALE_WITH_PARAMS)
    assert outcome.applicable and not outcome.passed


def test_non_compute_reference_is_not_applicable(runner: KernelRunner) -> None:
    outcome = compare_kernels(runner, FRAGMENT, FRAGMENT)
    assert not outcome.applicable


def test_uniform_layout_follows_wgsl_alignment() -> None:
    spec = describe_kernel(
        SCALE_WITH_PARAMS.replace("scale: f32,", "scale: f32,\n    tint: vec4<f32>,")
    )
    params = next(b for b in spec.bindings if b.space == "uniform")
    assert [f.offset for f in params.fields] == [0, 16, 32]
    assert params.size == 48


def test_textures_are_refused_clearly() -> None:
    with pytest.raises(KernelError, match="not a buffer"):
        describe_kernel(
            "@group(0) @binding(0) var tex: texture_2d<f32>;\n"
            "@compute @workgroup_size(1) fn main() {}\n"
        )


def test_compiling_a_model_after_running_kernels_keeps_the_process_alive() -> None:
    """torch.compile imports triton; triton's LLVM after Mesa's used to kill the process."""
    pytest.importorskip("triton")  # a dev dependency: present wherever the test suite runs
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from engine.kernels import KernelRunner\n"
        f"KernelRunner().run({DOUBLE!r})\n"
        "import torch._dynamo\n"
        "print('alive')\n"
    )
    root = str(Path(__file__).resolve().parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", script, root], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and "alive" in done.stdout, (done.returncode, done.stderr[-2000:])
