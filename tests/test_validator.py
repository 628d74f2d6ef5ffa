"""The validator agrees with raw wgpu and points at exactly the code naga blames.

Every file in tests/shaders/valid must be accepted. Every file in tests/shaders/invalid starts
with ``// expect: L:C-L:C text``: the range naga's diagnostic must cover (1-based lines and
columns counted in characters, end column exclusive) and a piece of the message.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import wgpu
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.validator import (
    AdapterInfo,
    SourceRange,
    ValidationResult,
    Validator,
    describe_adapters,
    utf16_column,
)

SHADERS = Path(__file__).parent / "shaders"
VALID = sorted((SHADERS / "valid").glob("*.wgsl"))
INVALID = sorted((SHADERS / "invalid").glob("*.wgsl"))
EXPECT = re.compile(r"^// expect: (\d+):(\d+)-(\d+):(\d+) (.+)$")


@pytest.fixture(scope="module")
def validator() -> Iterator[Validator]:
    with Validator() as v:
        yield v


@pytest.fixture(scope="module")
def raw_device(validator: Validator) -> wgpu.GPUDevice:
    """A device made the plain way, on the adapter the validator chose."""
    info = validator.adapter_info()
    assert info is not None
    adapter = next(
        a
        for a in wgpu.gpu.enumerate_adapters_sync()
        if a.info["backend_type"] == info.backend and a.info["device"] == info.device
    )
    return adapter.request_device_sync(
        required_features=list(adapter.features), required_limits=dict(adapter.limits)
    )


@pytest.fixture(scope="module")
def per_adapter() -> Iterator[list[tuple[AdapterInfo, Validator]]]:
    """A validator forced onto each backend wgpu finds here (Vulkan, OpenGL, ...)."""
    pairs = [(a, Validator(backend=a.backend)) for a in describe_adapters()]
    for _, v in pairs:
        v.start()  # the workers start side by side
    yield pairs
    for _, v in pairs:
        v.close()


def raw_accepts(device: wgpu.GPUDevice, source: str) -> bool:
    try:
        device.create_shader_module(code=source)
    except wgpu.GPUError:
        return False
    return True


def covered_text(source: str, r: SourceRange) -> str:
    lines = source.split("\n")
    if r.start_line == r.end_line:
        return lines[r.start_line][r.start_col : r.end_col]
    parts = [lines[r.start_line][r.start_col :], *lines[r.start_line + 1 : r.end_line]]
    return "\n".join([*parts, lines[r.end_line][: r.end_col]])


def error_kind(message: str) -> str:
    """A message with names, numbers and quoted text taken out: one string per kind of error."""
    kind = re.sub(r"`[^`]*`|\"[^\"]*\"", "X", message)
    kind = re.sub(r"\[\d+\]|\d+", "N", kind)
    return re.sub(r"(for identifier|found)\b.*$", r"\1", kind).removesuffix(", found")


def test_corpus_is_large_enough() -> None:
    assert len(VALID) >= 30
    assert len(VALID) + len(INVALID) >= 60
    kinds = set()
    for path in INVALID:
        header = EXPECT.match(path.read_text(encoding="utf-8").split("\n", 1)[0])
        assert header, path.name
        kinds.add(error_kind(header.group(5)))
    assert len(kinds) >= 30, sorted(kinds)


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_shader_is_accepted_like_raw_wgpu(
    path: Path, validator: Validator, raw_device: wgpu.GPUDevice
) -> None:
    source = path.read_text(encoding="utf-8")
    result = validator.validate(source)
    assert raw_accepts(raw_device, source)
    assert result.valid, result.diagnostics
    assert result.diagnostics == ()


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_shader_is_rejected_at_the_exact_range(
    path: Path, validator: Validator, raw_device: wgpu.GPUDevice
) -> None:
    source = path.read_text(encoding="utf-8")
    header = EXPECT.match(source.split("\n", 1)[0])
    assert header, f"{path.name}: first line must be '// expect: L:C-L:C message'"
    line1, col1, line2, col2 = (int(g) for g in header.groups()[:4])
    expected = SourceRange(line1 - 1, col1 - 1, line2 - 1, col2 - 1)

    result = validator.validate(source)

    assert not raw_accepts(raw_device, source)
    assert not result.valid
    (diagnostic,) = result.diagnostics
    assert diagnostic.severity == "error"
    assert diagnostic.code == "naga"
    assert header.group(5) in diagnostic.message
    for wrapping in ("Validation Error", "Caused by", "wgpuDeviceCreateShaderModule", "┌─"):
        assert wrapping not in diagnostic.message
    assert diagnostic.range == expected, (
        f"got {covered_text(source, diagnostic.range)!r}, "
        f"expected {covered_text(source, expected)!r}"
    )


def test_related_information_keeps_the_other_labels(validator: Validator) -> None:
    source = (SHADERS / "invalid" / "redefinition.wgsl").read_text(encoding="utf-8")
    (diagnostic,) = validator.validate(source).diagnostics
    assert covered_text(source, diagnostic.range) == "area"
    (related,) = diagnostic.related
    assert related.range == SourceRange(1, 3, 1, 7)
    assert related.message == "previous definition of `area`"


def test_columns_count_characters_and_convert_to_utf16(validator: Validator) -> None:
    source = (SHADERS / "invalid" / "wide_characters_before_error.wgsl").read_text("utf-8")
    (diagnostic,) = validator.validate(source).diagnostics
    line = source.split("\n")[diagnostic.range.start_line]
    # naga counts bytes; the range must be in characters of the Python string.
    assert line[diagnostic.range.start_col : diagnostic.range.end_col] == "😀"
    assert len(line[: diagnostic.range.start_col].encode()) != diagnostic.range.start_col
    # One astral character (😀 in the comment) precedes it: one more UTF-16 unit.
    assert utf16_column(line, diagnostic.range.start_col) == diagnostic.range.start_col + 1
    assert utf16_column(line, diagnostic.range.end_col) == diagnostic.range.end_col + 2


def test_utf16_column_counts_surrogate_pairs_and_past_the_end() -> None:
    assert utf16_column("abc", 2) == 2
    assert utf16_column("é温😀x", 3) == 4
    assert utf16_column("😀", 3) == 4


def test_crash_in_naga_leaves_the_caller_alive_and_worker_restarts(validator: Validator) -> None:
    depth = 5000
    crashing = f"fn f() -> i32 {{ return {'(' * depth}1{')' * depth}; }}\n"
    result = validator.validate(crashing)
    (diagnostic,) = result.diagnostics
    assert diagnostic.code == "validator-crash"
    assert "crashed on this input" in diagnostic.message
    assert not result.valid

    after = validator.validate("fn f() -> i32 { return (((1))); }\n")
    assert after.valid
    broken = validator.validate("fn f() -> i32 { return nope; }\n")
    assert [d.range for d in broken.diagnostics] == [SourceRange(0, 23, 0, 27)]


def large_shader(functions: int) -> str:
    body = """
    fn step{i}(x: f32, v: vec4<f32>) -> vec4<f32> {{
        var acc = v * x;
        for (var k = 0; k < 4; k++) {{
            acc = acc * 0.5 + vec4<f32>(f32(k), x, {i}.0, 1.0);
        }}
        return normalize(acc) + step{j}(x * 0.5, acc.wzyx);
    }}"""
    parts = ["fn step0(x: f32, v: vec4<f32>) -> vec4<f32> { return v * x; }"]
    parts += [textwrap.dedent(body.format(i=i, j=i - 1)) for i in range(1, functions)]
    return "\n".join(parts) + "\n"


def test_timeout_kills_the_worker_and_the_next_request_works() -> None:
    with Validator(timeout=0.01) as slow:
        slow.start()  # start-up does not count against the timeout
        result = slow.validate(large_shader(1500))  # about 10,000 lines: well over 10 ms
        (diagnostic,) = result.diagnostics
        assert diagnostic.code == "validator-timeout"
        assert "0.01 s" in diagnostic.message
        slow.timeout = 30.0
        assert slow.validate(large_shader(50)).valid


def test_f16_follows_what_the_adapter_offers(
    per_adapter: list[tuple[AdapterInfo, Validator]],
) -> None:
    source = "enable f16;\nfn half(x: f16) -> f16 { return x * 0.5h; }\n"
    for adapter, v in per_adapter:
        result = v.validate(source)
        assert result.adapter == adapter.label
        if "shader-f16" in adapter.features:
            assert result.valid, (adapter, result)
            continue
        (diagnostic,) = result.diagnostics
        assert diagnostic.code == "missing-feature"
        assert "`shader-f16`" in diagnostic.message
        assert adapter.label in diagnostic.message
        assert covered_text(source, diagnostic.range) == "f16"


def test_missing_capability_points_at_the_type_that_needs_it(
    per_adapter: list[tuple[AdapterInfo, Validator]],
) -> None:
    source = "fn twice(x: f32, y: f64) -> f64 {\n    return y * 2.0;\n}\n"
    for adapter, v in per_adapter:
        result = v.validate(source)
        if "shader-f64" in adapter.features:
            assert result.valid, (adapter, result)
            continue
        (diagnostic,) = result.diagnostics
        assert diagnostic.code == "missing-feature"
        assert "`shader-f64`" in diagnostic.message
        assert diagnostic.range == SourceRange(0, 20, 0, 23)


def test_adapter_is_named_in_every_result(validator: Validator) -> None:
    info = validator.adapter_info()
    assert info is not None
    result = validator.validate("fn f() {}\n")
    assert result.adapter == info.label
    assert info.backend in result.adapter
    assert any(a.label == info.label for a in describe_adapters())


def test_concurrent_callers_each_get_their_own_verdict(validator: Validator) -> None:
    sources = [p.read_text(encoding="utf-8") for p in (VALID[:6] + INVALID[:6])]
    expected = [validator.validate(s) for s in sources]
    got: dict[int, ValidationResult] = {}

    def check(i: int) -> None:
        got[i] = validator.validate(sources[i % len(sources)])

    threads = [threading.Thread(target=check, args=(i,)) for i in range(36)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(got[i] == expected[i % len(sources)] for i in range(36))


def test_start_returns_before_the_worker_is_ready() -> None:
    v = Validator()
    try:
        began = time.monotonic()
        v.start()
        started_in = time.monotonic() - began
        assert v.validate("fn f() {}\n").valid
        ready_in = time.monotonic() - began
        assert started_in < ready_in / 2
    finally:
        v.close()
    assert v.validate("fn f() {}\n").valid  # a closed validator starts a fresh worker
    v.close()


def test_unknown_backend_gives_a_diagnostic_not_an_exception() -> None:
    with Validator(backend="no-such-backend") as v:
        result = v.validate("fn f() {}\n")
    (diagnostic,) = result.diagnostics
    assert diagnostic.code == "validator-unavailable"
    assert "no-such-backend" in diagnostic.message
    assert "mesa-vulkan-drivers" in diagnostic.message


@pytest.mark.parametrize(
    "source",
    ["", "#version 450\nvoid main() {}\n", "fn f() { let a\ud800 = 1; }\n", "\x01", "@"],
    ids=["empty", "glsl-lookalike", "lone-surrogate", "control-character", "lone-at"],
)
def test_odd_input_gets_a_verdict(validator: Validator, source: str) -> None:
    result = validator.validate(source)
    if source:
        (diagnostic,) = result.diagnostics
        assert diagnostic.code == "naga"
        assert diagnostic.range.start_line == 0
    else:
        assert result.valid


def test_worker_output_never_reaches_the_callers_stdout(tmp_path: Path) -> None:
    script = tmp_path / "use_validator.py"
    script.write_text(
        textwrap.dedent(
            """
            from engine.validator import Validator
            with Validator() as v:
                r = v.validate("fn f() -> f32 { if true { return 1.0; } }")
                assert not r.valid
                r = v.validate("fn f() -> i32 { return " + "(" * 4000 + "1" + ")" * 4000 + "; }")
                assert r.diagnostics[0].code == "validator-crash"
            print("done")
            """
        )
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "done\n"


def test_nul_character_is_reported_where_it_is(validator: Validator) -> None:
    # wgpu hands the text to naga as a C string: without this check the junk would pass.
    source = "fn f() {}\n  \x00 junk that is not WGSL\n"
    (diagnostic,) = validator.validate(source).diagnostics
    assert diagnostic.code == "nul-character"
    assert diagnostic.range == SourceRange(1, 2, 1, 3)


def test_worker_killed_while_idle_is_not_blamed_on_the_next_shader() -> None:
    with Validator() as v:
        assert v.validate("fn f() {}\n").valid
        worker = v._worker
        assert worker is not None
        worker.process.kill()
        worker.process.wait()
        result = v.validate("fn f() -> i32 { return nope; }\n")
        assert [d.code for d in result.diagnostics] == ["naga"]


def test_error_deep_in_a_long_function_gets_its_line(validator: Validator) -> None:
    # naga elides the middle of long snippets ("·" rows); the range must survive that.
    lines = large_shader(120).split("\n")
    last_return = max(i for i, text in enumerate(lines) if "return normalize(acc)" in text)
    lines[last_return] = "    return x * 2.0;"
    source = "\n".join(lines)
    (diagnostic,) = validator.validate(source).diagnostics
    assert "does not match the declared return type" in diagnostic.message
    assert diagnostic.range == SourceRange(last_return, 11, last_return, 18)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(data=st.data())
def test_edited_shaders_get_raw_wgpus_verdict_and_well_formed_diagnostics(
    validator: Validator, raw_device: wgpu.GPUDevice, data: st.DataObject
) -> None:
    """Whatever half-typed text an editor sends, the verdict is wgpu's and ranges are in bounds."""
    path = data.draw(st.sampled_from(VALID + INVALID))
    source = path.read_text(encoding="utf-8")
    start = data.draw(st.integers(0, len(source)))
    end = data.draw(st.integers(start, min(len(source), start + 40)))
    insert = data.draw(st.sampled_from(["", "(", "}", ";", "@", "let", " é😀 ", "\t", "/*", "\n"]))
    edited = source[:start] + insert + source[end:]

    result = validator.validate(edited)

    codes = [d.code for d in result.diagnostics]
    if "validator-crash" not in codes:  # raw wgpu would take this process down with it
        assert raw_accepts(raw_device, edited) == result.valid, codes
    lines = edited.split("\n")
    for diagnostic in result.diagnostics:
        assert diagnostic.message.strip()
        assert "wgpuDeviceCreateShaderModule" not in diagnostic.message
        for r in (diagnostic.range, *(info.range for info in diagnostic.related)):
            assert 0 <= r.start_line <= r.end_line < len(lines)
            assert 0 <= r.start_col <= len(lines[r.start_line])
            assert 0 <= r.end_col <= len(lines[r.end_line])
            assert (r.start_line, r.start_col) <= (r.end_line, r.end_col)
