"""Generated code pasted into a valid file keeps the file valid: names and bindings are fitted."""

from __future__ import annotations

import pytest

from engine.fit import declared_names, fit_to_context, scan, used_slots
from engine.validator import validate_source

DOUBLE_KERNEL = """\
@group(0) @binding(0) var<storage, read_write> data: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= arrayLength(&data)) {
        return;
    }
    data[i] = data[i] * 2.0;
}
"""

PARAMS_KERNEL = """\
struct Params {
    scale: f32,
    count: u32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

fn scaled(x: f32) -> f32 {
    return x * params.scale;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= params.count) {
        return;
    }
    output[i] = scaled(input[i]);
}
"""

FRAGMENT_FILE = """\
struct Params {
    tint: vec4<f32>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> input: array<f32>;

const scale: f32 = 0.5;

fn scaled(x: f32) -> f32 {
    return x * scale;
}

@fragment
fn main(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
    return params.tint * scaled(input[0]);
}
"""

HELPER_WITH_MEMBER_NAMED_LIKE_A_GLOBAL = """\
struct Light {
    position: vec3<f32>,
    scale: f32,
}

fn scale(l: Light) -> f32 {
    return l.scale * length(l.position);
}
"""


def _valid(source: str) -> bool:
    result = validate_source(source)
    return result.valid


@pytest.mark.parametrize(
    ("context", "generated"),
    [
        (DOUBLE_KERNEL, DOUBLE_KERNEL),
        (DOUBLE_KERNEL, PARAMS_KERNEL),
        (PARAMS_KERNEL, PARAMS_KERNEL),
        (FRAGMENT_FILE, PARAMS_KERNEL),
        (FRAGMENT_FILE, HELPER_WITH_MEMBER_NAMED_LIKE_A_GLOBAL),
        (HELPER_WITH_MEMBER_NAMED_LIKE_A_GLOBAL, HELPER_WITH_MEMBER_NAMED_LIKE_A_GLOBAL),
    ],
)
def test_inserting_clashing_code_leaves_the_file_valid(context: str, generated: str) -> None:
    assert _valid(context) and _valid(generated)
    assert not _valid(context + "\n" + generated), "the case must clash before fitting"
    fitted = fit_to_context(generated, context)
    combined = context + "\n" + fitted.code
    assert _valid(combined), combined
    assert not (declared_names(fitted.code) & declared_names(context))
    assert not (used_slots(fitted.code) & used_slots(context))


def test_renames_follow_every_reference_but_not_member_accesses() -> None:
    fitted = fit_to_context(PARAMS_KERNEL, FRAGMENT_FILE)
    assert fitted.renamed == {
        "Params": "Params_2",
        "input": "input_2",
        "params": "params_2",
        "scaled": "scaled_2",
        "main": "main_2",
    }
    assert "params_2.scale" in fitted.code and "params_2.count" in fitted.code
    assert "scale: f32," in fitted.code  # struct field untouched
    assert "@builtin(global_invocation_id)" in fitted.code
    assert "output[i] = scaled_2(input_2[i]);" in fitted.code


def test_bindings_move_to_the_lowest_free_slot_in_the_same_group() -> None:
    fitted = fit_to_context(PARAMS_KERNEL, FRAGMENT_FILE)
    # the file holds bindings 0 and 1; the generated 0 and 1 clash, its own 2 stays put
    assert fitted.rebound == {(0, 0): (0, 3), (0, 1): (0, 4)}
    assert used_slots(fitted.code) == {(0, 3), (0, 4), (0, 2)}


def test_no_clash_means_no_change() -> None:
    fitted = fit_to_context(HELPER_WITH_MEMBER_NAMED_LIKE_A_GLOBAL, DOUBLE_KERNEL)
    assert fitted.code == HELPER_WITH_MEMBER_NAMED_LIKE_A_GLOBAL
    assert fitted.renamed == {} and fitted.rebound == {}


def test_references_to_the_files_own_declarations_are_kept() -> None:
    context = "struct Particle {\n    pos: vec2<f32>,\n}\n"
    generated = "fn advance(p: Particle) -> vec2<f32> {\n    return p.pos + vec2<f32>(1.0);\n}\n"
    fitted = fit_to_context(generated, context)
    assert fitted.code == generated
    assert _valid(context + fitted.code)


def test_comments_are_kept_and_not_rewritten() -> None:
    generated = "// main doubles the data\n" + DOUBLE_KERNEL
    fitted = fit_to_context(generated, DOUBLE_KERNEL)
    assert fitted.code.startswith("// main doubles the data\n")
    assert "fn main_2(" in fitted.code


def test_unscannable_context_leaves_code_unchanged() -> None:
    fitted = fit_to_context(DOUBLE_KERNEL, "/* never closed")
    assert fitted.code == DOUBLE_KERNEL


def test_scanner_skips_nested_block_comments() -> None:
    tokens = scan("/* a /* b */ c */ fn f() {}")
    assert [t.text for t in tokens] == ["fn", "f", "(", ")", "{", "}"]
