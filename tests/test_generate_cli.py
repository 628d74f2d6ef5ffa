"""`generate` and `eval` on the command line, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.validator import validate_source


def test_dummy_model_prints_valid_wgsl(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--model", "dummy", "--prompt", "mix two colors"]) == 0
    out = capsys.readouterr().out
    assert "@compute" in out and validate_source(out).valid


def test_prompt_file_writes_one_json_line_per_prompt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("mix two colors\n\ncomplement of a colour\nbake me a cake\n")
    code = main(["generate", "--model", "dummy", "--prompt-file", str(prompts)])
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert [r["prompt"] for r in records] == [
        "mix two colors",
        "complement of a colour",
        "bake me a cake",
    ]
    assert [r["valid"] for r in records] == [True, True, False]
    assert validate_source(records[0]["code"]).valid
    assert records[2]["code"] == "" and "no template" in records[2]["error"]
    assert code == 1  # one result is not valid WGSL
    assert "1 of 3 results do not validate" in captured.err


def test_prompt_file_to_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("saturate the colours\n")
    target = tmp_path / "out.jsonl"
    assert (
        main(
            ["generate", "--model", "dummy", "--prompt-file", str(prompts), "--output", str(target)]
        )
        == 0
    )
    assert capsys.readouterr().out == ""
    (record,) = [json.loads(line) for line in target.read_text().splitlines()]
    assert record["valid"] is True and record["prompt"] == "saturate the colours"


def test_empty_prompt_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts = tmp_path / "empty.txt"
    prompts.write_text("\n\n")
    assert main(["generate", "--model", "dummy", "--prompt-file", str(prompts)]) == 2
    assert f"{prompts}: no prompts" in capsys.readouterr().err


def test_missing_model_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    assert main(["generate", "--model", str(missing), "--prompt", "double it"]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "Traceback" not in err


def test_corrupt_model_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.safetensors").write_bytes(b"not weights at all")
    assert main(["generate", "--model", str(broken), "--prompt", "double it"]) == 2
    err = capsys.readouterr().err
    assert "model.safetensors" in err and "Traceback" not in err


def test_beams_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--model", "dummy", "--prompt", "mix", "--beams", "0"]) == 2
    assert "--beams" in capsys.readouterr().err


def test_eval_reports_model_and_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--model", "dummy", "--limit", "6", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["prompts"] == 6 and report["split"] == "heldout"
    for system in ("model", "baseline"):
        scores = report[system]
        assert scores["count"] == 6
        for key in ("valid_rate", "exact_match", "bleu", "functional_pass_at_1"):
            assert 0.0 <= scores[key] <= 1.0
    # the templates know four colour operations; retrieval has seen every family
    assert report["baseline"]["bleu"] > report["model"]["bleu"]


def test_eval_table_names_both_systems(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--model", "dummy", "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert "model" in out and "retrieval" in out and "functional pass@1" in out
