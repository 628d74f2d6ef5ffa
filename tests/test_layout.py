"""Where the result goes: the layout words of a prompt, and the two layouts of one kernel."""

from __future__ import annotations

import pytest

from engine.layout import layout_cue, layout_siblings, program_layout

IN_PLACE = """@group(0) @binding(0) var<storage, read_write> data: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= arrayLength(&data)) {
        return;
    }
    let x = data[i];
    data[i] = x * x;
}
"""
SEPARATE = """@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= arrayLength(&output)) {
        return;
    }
    let x = input[i];
    output[i] = x * x;
}
"""


@pytest.mark.parametrize(
    ("prompt", "layout"),
    [
        ("square each element in place", "in_place"),
        ("Square each element, overwriting the buffer", "in_place"),
        ("square the values and write them back", "in_place"),
        ("square the array with no extra buffer", "in_place"),
        ("square the array without a separate output", "in_place"),
        ("square the data, modifying the original values", "in_place"),
        ("square each element into a new buffer", "separate"),
        ("square each element and store it in an output array", "separate"),
        ("square each element without modifying the input", "separate"),
        ("square each element, keeping the source data intact", "separate"),
        ("square each element out of place", "separate"),
        ("square each element", None),
        ("square each element in place into a new buffer", None),  # says both: no cue
    ],
)
def test_the_layout_a_prompt_asks_for(prompt: str, layout: str | None) -> None:
    assert layout_cue(prompt) == layout


def test_each_kernel_is_paired_with_itself_in_the_other_layout() -> None:
    cube = SEPARATE.replace("x * x", "x * x * x")
    programs = [IN_PLACE, SEPARATE, cube, "fn main() {}"]
    assert [program_layout(p) for p in programs] == ["in_place", "separate", "separate", None]
    # the cube has no in-place twin, and a kernel is never its own sibling
    assert layout_siblings(programs) == {(0, "separate"): 1, (1, "in_place"): 0}
