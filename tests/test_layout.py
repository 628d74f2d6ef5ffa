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


IN_PLACE_ENDINGS = [
    ", overwriting the input",
    " and store the result back in the input array",
    " \u2014 don't allocate a second buffer",
    ", no need for another buffer",
    ", using a single read_write buffer",
    ", the output goes into the input buffer",
    ", reuse the input buffer for the output",
    ", write the result over the source",
    ", in situ",
    ", destructively",
    ", the array is updated where it is",
    ", mutating the data in place",
    ", on the buffer itself",
    " and write it back where it came from",
    ", same buffer for input and output",
]
SEPARATE_ENDINGS = [
    " and put the results in another buffer",
    ", not in place",
    ", input is read-only",
    ", two buffers: input and output",
    ", use two storage buffers",
    ", input in one buffer, output in another",
    ", preserve the original data",
    ", write the output elsewhere",
    ", results in their own buffer",
    ", input binding read-only, output binding write",
    ", non-destructively",
    ", never write to the input",
    ", leave the input alone",
    ", reading from src and writing to dst",
    ", into a distinct output buffer",
]


@pytest.mark.parametrize(
    ("ending", "layout"),
    [(e, "in_place") for e in IN_PLACE_ENDINGS] + [(e, "separate") for e in SEPARATE_ENDINGS],
)
def test_the_many_ways_to_name_a_layout(ending: str, layout: str) -> None:
    assert layout_cue("square every value" + ending) == layout


@pytest.mark.parametrize(
    ("prompt", "layout"),
    [
        ("square every value, don't do it in place", "separate"),
        ("square every value, no separate output buffer, overwrite it", "in_place"),
        ("square every value into a new buffer rather than in place", "separate"),
        ("square every value in place or into a separate buffer", None),
        # operation words, not layout words
        ("multiply every element by itself", None),
        ("set each value to zero where it is negative", None),
        ("keep the original value if positive, else zero", None),
        ("add two buffers element by element", None),
        ("the largest integer not above each element in place", "in_place"),
    ],
)
def test_negated_and_mixed_layout_words(prompt: str, layout: str | None) -> None:
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
