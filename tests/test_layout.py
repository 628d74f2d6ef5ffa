"""Where the result goes: the layout words of a prompt, and the two layouts of one kernel."""

from __future__ import annotations

import pytest

from engine.datagen.families import kernel, storage
from engine.layout import layout_cue, layout_siblings, program_layout


def unary(expr: str, in_place: bool) -> str:
    """An element-wise kernel as the data generator writes it, in either layout."""
    if in_place:
        return kernel(
            [storage(0, "data", "f32", True)],
            ["let x = data[i];", f"data[i] = {expr};"],
            guard="data",
        )
    buffers = [storage(0, "input", "f32", False), storage(1, "output", "f32", True)]
    return kernel(buffers, ["let x = input[i];", f"output[i] = {expr};"])


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
    programs = [
        unary("x * x", True),
        unary("x * x", False),
        unary("x * x * x", False),
        "fn main() {}",
    ]
    assert [program_layout(p) for p in programs] == ["in_place", "separate", "separate", None]
    # the cube has no in-place twin, and a kernel is never its own sibling
    assert layout_siblings(programs) == {(0, "separate"): 1, (1, "in_place"): 0}
