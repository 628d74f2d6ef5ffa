"""`tiny-agent-trainer validate`: the output format editors and CI parse, and the exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import cli

REPO = Path(__file__).resolve().parent.parent

VALID = """\
@group(0) @binding(0) var<storage, read_write> data: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    data[id.x] = data[id.x] * 2.0;
}
"""

# naga: "automatic conversions cannot convert `{AbstractFloat}` to `i32`" on `1.0`, line 2.
WRONG_RETURN = "fn f() -> i32 {\n    return 1.0;\n}\n"
WRONG_RETURN_LINE = (
    "{path}:2:12: error: automatic conversions cannot convert `{{AbstractFloat}}` to `i32`"
)

REDEFINED = "fn f() {}\nfn g() {}\nfn f() {}\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_files_exit_0_and_print_no_diagnostics(tmp_path: Path) -> None:
    write(tmp_path, "a.wgsl", VALID)
    write(tmp_path, "b.wgsl", VALID)
    proc = cli("validate", "a.wgsl", "b.wgsl", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "2 files checked, all valid" in proc.stderr


def test_invalid_file_prints_path_line_col_error_and_exits_1(tmp_path: Path) -> None:
    write(tmp_path, "bad.wgsl", WRONG_RETURN)
    proc = cli("validate", "bad.wgsl", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [WRONG_RETURN_LINE.format(path="bad.wgsl")]
    assert "Traceback" not in proc.stderr


def test_columns_count_characters_not_bytes(tmp_path: Path) -> None:
    text = WRONG_RETURN.replace("    return 1.0;", "    /* été */ return 1.0;")
    write(tmp_path, "accents.wgsl", text)
    proc = cli("validate", "accents.wgsl", cwd=tmp_path)
    assert proc.returncode == 1
    col = text.splitlines()[1].index("1.0") + 1
    assert proc.stdout.startswith(f"accents.wgsl:2:{col}: error: "), proc.stdout


def test_related_information_becomes_note_lines(tmp_path: Path) -> None:
    write(tmp_path, "twice.wgsl", REDEFINED)
    proc = cli("validate", "twice.wgsl", cwd=tmp_path)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0] == "twice.wgsl:3:4: error: redefinition of `f`"
    assert "twice.wgsl:1:4: note: " in lines[1]


def test_many_files_report_in_order_in_one_run(tmp_path: Path) -> None:
    names = []
    for i in range(12):
        names.append(write(tmp_path, f"s{i:02}.wgsl", WRONG_RETURN if i % 3 == 0 else VALID).name)
    proc = cli("validate", *names, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        WRONG_RETURN_LINE.format(path=f"s{i:02}.wgsl") for i in (0, 3, 6, 9)
    ]
    assert "12 files checked, 4 invalid" in proc.stderr


def test_missing_file_is_exit_2_but_the_others_are_still_checked(tmp_path: Path) -> None:
    write(tmp_path, "bad.wgsl", WRONG_RETURN)
    write(tmp_path, "good.wgsl", VALID)
    proc = cli("validate", "good.wgsl", "missing.wgsl", "bad.wgsl", cwd=tmp_path)
    assert proc.returncode == 2
    assert "error: missing.wgsl: no such file" in proc.stderr
    assert proc.stdout.splitlines() == [WRONG_RETURN_LINE.format(path="bad.wgsl")]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lambda d: d.joinpath("x.wgsl").write_bytes(b"// ok\n// \xff\xfe\n"),
            "x.wgsl:2: not UTF-8",
        ),
        (lambda d: d.joinpath("x.wgsl").mkdir(), "x.wgsl: is a folder"),
    ],
    ids=["not-utf8", "folder"],
)
def test_unreadable_input_is_a_clear_exit_2(tmp_path: Path, make: object, expected: str) -> None:
    make(tmp_path)  # type: ignore[operator]
    proc = cli("validate", "x.wgsl", cwd=tmp_path)
    assert proc.returncode == 2
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr


def test_no_files_is_a_usage_error(tmp_path: Path) -> None:
    proc = cli("validate", cwd=tmp_path)
    assert proc.returncode == 2
    assert "FILE" in proc.stderr


def test_stdin_with_dash(tmp_path: Path) -> None:
    proc = cli("validate", "-", cwd=tmp_path, stdin=WRONG_RETURN)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [WRONG_RETURN_LINE.format(path="<stdin>")]
    assert cli("validate", "-", cwd=tmp_path, stdin=VALID).returncode == 0


def test_a_utf8_byte_order_mark_is_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "bom.wgsl").write_bytes(b"\xef\xbb\xbf" + VALID.encode())
    assert cli("validate", "bom.wgsl", cwd=tmp_path).returncode == 0


def test_json_output(tmp_path: Path) -> None:
    write(tmp_path, "bad.wgsl", WRONG_RETURN)
    write(tmp_path, "good.wgsl", VALID)
    proc = cli("validate", "--json", "good.wgsl", "bad.wgsl", cwd=tmp_path)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["adapter"]  # e.g. "llvmpipe (Vulkan, CPU)"
    good, bad = doc["files"]
    assert good == {"path": "good.wgsl", "valid": True, "error": None, "diagnostics": []}
    assert bad["valid"] is False and bad["error"] is None
    (diag,) = bad["diagnostics"]
    assert diag["severity"] == "error" and diag["code"] == "naga"
    assert "`{AbstractFloat}` to `i32`" in diag["message"]
    assert diag["range"] == {"start": {"line": 2, "column": 12}, "end": {"line": 2, "column": 15}}

    proc = cli("validate", "--json", "good.wgsl", "nope.wgsl", cwd=tmp_path)
    assert proc.returncode == 2
    files = json.loads(proc.stdout)["files"]
    assert files[1]["valid"] is None and "no such file" in files[1]["error"]


def test_every_shipped_example_validates() -> None:
    examples = sorted(str(p) for p in (REPO / "examples").glob("*.wgsl"))
    assert len(examples) >= 5
    proc = cli("validate", *examples, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_file_that_crashes_naga_does_not_stop_the_run(tmp_path: Path) -> None:
    depth = 5000
    write(
        tmp_path, "deep.wgsl", "fn f() -> i32 { return " + "(" * depth + "1" + ")" * depth + "; }\n"
    )
    write(tmp_path, "bad.wgsl", WRONG_RETURN)
    proc = cli("validate", "deep.wgsl", "bad.wgsl", cwd=tmp_path)
    assert proc.returncode == 1
    first, second = proc.stdout.splitlines()
    assert first.startswith("deep.wgsl:1:1: error: ") and "crashed" in first
    assert second == WRONG_RETURN_LINE.format(path="bad.wgsl")
    assert "Traceback" not in proc.stderr


def test_without_any_adapter_validate_says_so_once(tmp_path: Path) -> None:
    """A machine with no GPU driver: hide every Vulkan and EGL driver from wgpu."""
    write(tmp_path, "good.wgsl", VALID)
    env = dict(os.environ)
    env.update(
        VK_ICD_FILENAMES="/nonexistent.json",
        VK_DRIVER_FILES="/nonexistent.json",
        __EGL_VENDOR_LIBRARY_FILENAMES="/nonexistent.json",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "validate", "good.wgsl", "good.wgsl"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1
    assert errors[0].startswith("error: cannot validate good.wgsl: ")
    assert "no adapter" in errors[0] and "mesa-vulkan-drivers" in errors[0]
