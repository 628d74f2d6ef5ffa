"""`generate --model dummy` and `check`, run as the user runs them."""

from __future__ import annotations

from pathlib import Path

from cli_runner import cli

from engine.templates import TEMPLATES, find_template


def test_generate_dummy_prints_the_matching_template(tmp_path: Path) -> None:
    prompt = "chromatic mix of two color buffers"
    proc = cli("generate", "--model", "dummy", "--prompt", prompt, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    template = find_template(prompt)
    assert template is not None and template.name == "mix"
    assert proc.stdout == template.code
    (tmp_path / "out.wgsl").write_text(proc.stdout, encoding="utf-8")
    assert cli("validate", "out.wgsl", cwd=tmp_path).returncode == 0


def test_generate_without_a_matching_keyword_lists_the_keywords(tmp_path: Path) -> None:
    proc = cli("generate", "--model", "dummy", "--prompt", "double every element", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "no template matches the prompt 'double every element'" in proc.stderr
    for template in TEMPLATES:
        assert f"{template.name}: " in proc.stderr
    assert "Traceback" not in proc.stderr


def test_generate_output_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    args = ("generate", "--model", "dummy", "--output", "colours.wgsl")
    first = cli(*args, "--prompt", "invert the colours", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == ""
    out = tmp_path / "colours.wgsl"
    assert "1 - a.rgb" in out.read_text(encoding="utf-8")

    second = cli(*args, "--prompt", "saturate the colours", cwd=tmp_path)
    assert second.returncode == 2
    assert "colours.wgsl already exists; pass --force" in second.stderr
    assert "1 - a.rgb" in out.read_text(encoding="utf-8")

    forced = cli(*args, "--force", "--prompt", "saturate the colours", cwd=tmp_path)
    assert forced.returncode == 0
    assert "override saturation" in out.read_text(encoding="utf-8")


def test_generate_with_a_missing_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    proc = cli("generate", "--model", "no-such-model", "--prompt", "mix", cwd=tmp_path)
    assert proc.returncode == 2
    assert "no-such-model" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_check_reports_adapters_naga_and_torch(tmp_path: Path) -> None:
    import torch

    proc = cli("check", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    adapters = [line for line in out.splitlines() if line.startswith("  ") and "backend" in line]
    assert adapters, out
    assert all("type " in line for line in adapters)
    assert "naga: available (validating on " in out
    assert f"torch: {torch.__version__}" in out
    assert "CUDA devices: " in out
    assert "features:" not in out

    verbose = cli("check", "--verbose", cwd=tmp_path)
    assert verbose.returncode == 0
    assert "features:" in verbose.stdout
