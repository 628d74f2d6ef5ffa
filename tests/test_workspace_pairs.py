"""Pairs mined from a folder of real shaders: each pair's code is its function plus what it needs.

Every kept module is checked by naga (the real validator), so a pair that names something the
miner forgot to bring along is rejected and the counts below change.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from engine.dataset import commented_function_modules, mine_workspace_pairs_report
from engine.validator import validate_source

SIMULATION = """\
enable f16;

// one particle of the simulation
struct Particle {
    pos: vec2<f32>,
    vel: vec2<f32>,
}

struct Params {
    dt: f32,
    count: u32,
}

alias Velocity = vec2<f32>;

const GRAVITY: f32 = -9.8;
override WORKGROUP: u32 = 64;

@group(0) @binding(0) var<storage, read_write> particles: array<Particle>;
@group(0) @binding(1) var<uniform> params: Params;
@group(0) @binding(2) var<storage, read> weights: array<f32>;

// apply gravity to a velocity over one time step
fn fall(v: Velocity, dt: f32) -> Velocity {
    return v + vec2<f32>(0.0, GRAVITY * dt);
}

// square a half precision number
fn square(x: f16) -> f16 {
    return x * x;
}

// advance every particle by one time step under gravity
@compute @workgroup_size(WORKGROUP)
fn step(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= params.count) {
        return;
    }
    var p = particles[i];
    p.vel = fall(p.vel, params.dt);
    p.pos = p.pos + p.vel * params.dt;
    particles[i] = p;
}

fn uncommented(x: f32) -> f32 {
    return x * weights[0];
}
"""

STEP_MODULE = """\
enable f16;

struct Particle {
    pos: vec2<f32>,
    vel: vec2<f32>,
}

struct Params {
    dt: f32,
    count: u32,
}

alias Velocity = vec2<f32>;

const GRAVITY: f32 = -9.8;
override WORKGROUP: u32 = 64;

@group(0) @binding(0) var<storage, read_write> particles: array<Particle>;
@group(0) @binding(1) var<uniform> params: Params;

fn fall(v: Velocity, dt: f32) -> Velocity {
    return v + vec2<f32>(0.0, GRAVITY * dt);
}

@compute @workgroup_size(WORKGROUP)
fn step(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= params.count) {
        return;
    }
    var p = particles[i];
    p.vel = fall(p.vel, params.dt);
    p.pos = p.pos + p.vel * params.dt;
    particles[i] = p;
}
"""

FRAGMENT = """\
struct VertexOut {
    @builtin(position) position: vec4<f32>,
    @location(0) uv: vec2<f32>,
}

const uv: f32 = 3.0;

@group(0) @binding(0) var tex: texture_2d<f32>;
@group(0) @binding(1) var samp: sampler;
@group(0) @binding(2) var<uniform> amount: f32;

// a vertex shader for a full screen triangle
@vertex
fn vs(@builtin(vertex_index) index: u32) -> VertexOut {
    var out: VertexOut;
    let uv = vec2<f32>(f32((index << 1u) & 2u), f32(index & 2u));
    out.position = vec4<f32>(uv * 2.0 - 1.0, 0.0, 1.0);
    out.uv = uv;
    return out;
}

fn darken(c: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(c.rgb * amount, c.a);
}

// sample the texture and darken it
@fragment
fn fs(input: VertexOut) -> @location(0) vec4<f32> {
    return darken(textureSample(tex, samp, input.uv));
}

// reads a value that is never declared
fn broken() -> f32 {
    return missing_value * 2.0;
}
"""


def _pairs(root: Path) -> dict[str, str]:
    return {e.natural_language: e.wgsl_code for e in mine_workspace_pairs_report(root).pairs}


def test_entry_point_brings_its_helpers_structs_bindings_and_directives(tmp_path: Path) -> None:
    (tmp_path / "simulation.wgsl").write_text(SIMULATION, encoding="utf-8")
    report = mine_workspace_pairs_report(tmp_path)
    pairs = {e.natural_language: e.wgsl_code for e in report.pairs}
    assert report.files == 1 and report.candidates == 3 and report.skipped_invalid == 0
    step = pairs["advance every particle by one time step under gravity"]
    assert step == STEP_MODULE  # the unused binding and function stay out, order is kept
    assert pairs["apply gravity to a velocity over one time step"] == (
        "enable f16;\n\nalias Velocity = vec2<f32>;\n\nconst GRAVITY: f32 = -9.8;\n\n"
        "fn fall(v: Velocity, dt: f32) -> Velocity {\n"
        "    return v + vec2<f32>(0.0, GRAVITY * dt);\n}\n"
    )
    assert pairs["square a half precision number"].startswith("enable f16;\n\nfn square(")
    assert all(e.family == "workspace" for e in report.pairs)


def test_a_helper_brings_its_binding_and_members_or_locals_bring_nothing(tmp_path: Path) -> None:
    (tmp_path / "post.wgsl").write_text(FRAGMENT, encoding="utf-8")
    report = mine_workspace_pairs_report(tmp_path)
    pairs = {e.natural_language: e.wgsl_code for e in report.pairs}
    assert report.candidates == 3 and report.skipped_invalid == 1 and len(report.pairs) == 2
    fragment = pairs["sample the texture and darken it"]
    assert fragment.startswith("struct VertexOut {")
    assert (
        "@group(0) @binding(0) var tex: texture_2d<f32>;\n"
        "@group(0) @binding(1) var samp: sampler;\n"
        "@group(0) @binding(2) var<uniform> amount: f32;\n\nfn darken("
    ) in fragment  # `amount` comes through the helper
    vertex = pairs["a vertex shader for a full screen triangle"]
    assert "var tex" not in vertex and "fn darken" not in vertex
    # `uv` is a struct member, a local and a member access: the constant `uv` is not needed
    assert "const uv" not in fragment and "const uv" not in vertex


def test_windows_line_endings_give_the_same_pairs(tmp_path: Path) -> None:
    (tmp_path / "unix").mkdir()
    (tmp_path / "windows").mkdir()
    (tmp_path / "unix" / "sim.wgsl").write_bytes(SIMULATION.encode())
    (tmp_path / "windows" / "sim.wgsl").write_bytes(SIMULATION.replace("\n", "\r\n").encode())
    assert _pairs(tmp_path / "windows") == _pairs(tmp_path / "unix")


def test_every_mined_module_is_what_naga_accepts(tmp_path: Path) -> None:
    """Without the fix, helpers and bindings were missing and these modules were rejected."""
    modules = list(commented_function_modules(SIMULATION + "\n" + FRAGMENT.split("// reads")[0]))
    assert len(modules) == 5 and not any("const uv" in code for _, code in modules)
    for prompt, code in modules:
        result = validate_source(code)
        assert result.valid, (prompt, code, result)


def test_workspace_under_a_dotted_folder_is_mined_but_hidden_folders_inside_are_not(
    tmp_path: Path,
) -> None:
    root = tmp_path / ".e2e" / "ws"
    for folder in ("shaders", ".git", "node_modules/pkg", ".venv/lib", ".cache"):
        (root / folder).mkdir(parents=True)
        (root / folder / "sim.wgsl").write_text(SIMULATION, encoding="utf-8")
    (root / ".hidden.wgsl").write_text(SIMULATION, encoding="utf-8")
    report = mine_workspace_pairs_report(root)
    assert report.files == 1 and len(report.pairs) == 3


def test_a_file_that_is_not_utf8_is_skipped_with_a_warning_naming_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "post.wgsl").write_text(FRAGMENT, encoding="utf-8")
    latin1 = tmp_path / "latin1.wgsl"
    latin1.write_bytes("// tr\u00e8s simple\nfn f() -> f32 { return 1.0; }\n".encode("latin-1"))
    with caplog.at_level(logging.WARNING, logger="engine.dataset"):
        report = mine_workspace_pairs_report(tmp_path)
    assert report.unreadable == (latin1,)
    assert report.files == 1 and len(report.pairs) == 2 and report.skipped_invalid == 1
    assert f"{latin1}:1: not UTF-8 text (byte 0xe8), skipped" in caplog.text


def test_train_command_reports_the_counts_and_warns_about_the_bad_file(tmp_path: Path) -> None:
    """`train --workspace` on a dotted folder: no traceback, the counts a user reads."""
    workspace = tmp_path / ".e2e" / "ws"
    workspace.mkdir(parents=True)
    (workspace / "post.wgsl").write_text(FRAGMENT, encoding="utf-8")
    (workspace / "bad.wgsl").write_bytes(b"// \xff\xfe\nfn f() {}\n")
    train = tmp_path / "pairs.toml"
    train.write_text(
        '[[examples]]\nnatural_language = "an empty function"\nwgsl_code = "fn f() {}"\n'
        '[[examples]]\nnatural_language = "return one"\n'
        'wgsl_code = "fn one() -> f32 { return 1.0; }"\n',
        encoding="utf-8",
    )
    config = tmp_path / "cfg.toml"
    config.write_text(
        '[task]\nname = "t"\ntask_type = "code_generation"\n'
        "[model]\nd_model = 16\nnhead = 2\nnum_layers = 1\ndim_feedforward = 32\n"
        "[training]\nnum_epochs = 1\nbatch_size = 4\nlearning_rate = 1e-3\n"
        f'[dataset]\ntrain_path = "{train}"\nval_ratio = 0.0\n',
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "train", "--config", str(config),
         "--workspace", str(workspace), "--output", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    shown = proc.stdout + proc.stderr
    assert "added 2 pairs mined from 1 .wgsl files" in shown and "(1 rejected by naga)" in shown
    assert "bad.wgsl:1: not UTF-8 text" in proc.stderr and "Traceback" not in proc.stderr
