"""`init`, `list` and `show`: writing, finding and reading training configs from the shell."""

from __future__ import annotations

import sys
from pathlib import Path

from cli_runner import cli

from engine.config import load_config

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib


def test_init_writes_a_loadable_default_config(tmp_path: Path) -> None:
    proc = cli("init", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    written = tmp_path / "config" / "wgsl_generation.toml"
    assert "wrote config/wgsl_generation.toml" in proc.stdout
    cfg = load_config(written)
    assert cfg.dataset.train_path == tmp_path / "data" / "train"
    assert cfg.training.checkpoint_dir == tmp_path / "checkpoints"
    assert cfg.model.d_model == 128


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    target = tmp_path / "config" / "wgsl_generation.toml"
    target.parent.mkdir()
    target.write_text("# my tuned config\n", encoding="utf-8")
    proc = cli("init", cwd=tmp_path)
    assert proc.returncode == 2
    assert "config/wgsl_generation.toml already exists" in proc.stderr
    assert "--force" in proc.stderr
    assert target.read_text(encoding="utf-8") == "# my tuned config\n"

    proc = cli("init", "--force", cwd=tmp_path)
    assert proc.returncode == 0
    assert load_config(target).task.name == "wgsl_generation"


def test_init_output_elsewhere_points_its_paths_at_the_project(tmp_path: Path) -> None:
    proc = cli("init", "--output", "runs/small.toml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "runs" / "small.toml").read_text(encoding="utf-8")
    assert 'train_path = "../data/train"' in text
    assert cli("init", "--output", "top.toml", cwd=tmp_path).returncode == 0
    assert 'train_path = "data/train"' in (tmp_path / "top.toml").read_text(encoding="utf-8")


def test_init_output_to_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    proc = cli("init", "--output", "config", cwd=tmp_path)
    assert proc.returncode == 2
    assert "is a folder" in proc.stderr


def make_configs(tmp_path: Path) -> Path:
    assert cli("init", cwd=tmp_path).returncode == 0
    folder = tmp_path / "config"
    default = (folder / "wgsl_generation.toml").read_text(encoding="utf-8")
    big = default.replace('name = "wgsl_generation"', 'name = "big_run"')
    big = big.replace("d_model = 128", "d_model = 512").replace("num_layers = 2", "num_layers = 6")
    (folder / "big.toml").write_text(big, encoding="utf-8")
    (folder / "engine.toml").write_text('log_level = "INFO"\n', encoding="utf-8")
    return folder


def test_list_shows_task_and_model_size_and_skips_engine_settings(tmp_path: Path) -> None:
    make_configs(tmp_path)
    proc = cli("list", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["NAME", "TASK", "MODEL"]
    assert lines[1].split()[:4] == ["big", "big_run", "d_model", "512,"]
    assert "6+6 layers" in lines[1]
    assert lines[2].split()[:4] == ["wgsl_generation", "wgsl_generation", "d_model", "128,"]
    assert "2+2 layers" in lines[2]
    assert len(lines) == 3  # engine.toml is not a training config


def test_list_reports_a_broken_config_with_file_and_line(tmp_path: Path) -> None:
    folder = make_configs(tmp_path)
    text = (folder / "big.toml").read_text(encoding="utf-8").replace("nhead = 4", "nhead = 7")
    (folder / "big.toml").write_text(text, encoding="utf-8")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if s.startswith("nhead"))
    proc = cli("list", "--config-dir", "config", cwd=tmp_path)
    assert proc.returncode == 1
    assert f"config/big.toml:{line}: model.nhead: must divide" in proc.stderr
    assert "INVALID" in proc.stdout and "wgsl_generation" in proc.stdout


def test_list_with_a_missing_folder(tmp_path: Path) -> None:
    proc = cli("list", "--config-dir", "nowhere", cwd=tmp_path)
    assert proc.returncode == 2
    assert "nowhere: no such folder" in proc.stderr


def test_verbose_logs_skipped_files_to_stderr(tmp_path: Path) -> None:
    make_configs(tmp_path)
    quiet = cli("list", cwd=tmp_path)
    loud = cli("-v", "list", cwd=tmp_path)
    assert "engine.toml" not in quiet.stderr
    assert "engine.toml" in loud.stderr and "not a training config" in loud.stderr
    assert quiet.stdout == loud.stdout


def test_show_by_name_prints_every_key_with_defaults(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "mini.toml").write_text(
        '[task]\nname = "mini"\ntask_type = "code_generation"\n'
        "[model]\nd_model = 64\nnhead = 2\nnum_layers = 1\n"
        "[training]\nnum_epochs = 1\nbatch_size = 2\nlearning_rate = 0.001\n"
        '[dataset]\ntrain_path = "../data/train"\n',
        encoding="utf-8",
    )
    proc = cli("show", "--config", "mini", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    shown = tomllib.loads(proc.stdout)
    assert shown["model"]["dim_feedforward"] == 2048
    assert shown["training"]["optimizer"] == "adamw"
    assert shown["tokenizer"]["max_length"] == 512
    assert shown["dataset"]["train_path"] == "data/train"  # relative to where we stand
    assert proc.stdout.startswith("# config/mini.toml: task 'mini'")
    by_path = cli("show", "--config", "config/mini.toml", cwd=tmp_path)
    assert by_path.stdout == proc.stdout


def test_show_unknown_name_lists_what_exists(tmp_path: Path) -> None:
    make_configs(tmp_path)
    proc = cli("show", "--config", "wgsl", cwd=tmp_path)
    assert proc.returncode == 2
    assert "config/wgsl.toml: no such config file" in proc.stderr
    assert "big" in proc.stderr and "wgsl_generation" in proc.stderr


def test_show_invalid_config_names_file_key_and_line(tmp_path: Path) -> None:
    folder = make_configs(tmp_path)
    path = folder / "wgsl_generation.toml"
    text = path.read_text(encoding="utf-8").replace('optimizer = "adamw"', 'optimizer = "lamb"')
    path.write_text(text, encoding="utf-8")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if s.startswith("optimizer"))
    proc = cli("show", "--config", "wgsl_generation", cwd=tmp_path)
    assert proc.returncode == 1
    assert f"config/wgsl_generation.toml:{line}: training.optimizer: must be one of" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_list_parameter_estimate_matches_the_real_model(tmp_path: Path) -> None:
    import re

    from engine.model import ModelConfig, Seq2SeqTransformer

    folder = make_configs(tmp_path)
    proc = cli("list", cwd=tmp_path)
    for line in proc.stdout.splitlines()[1:]:
        name = line.split()[0]
        shown = float(re.search(r"~([\d.]+)M params", line).group(1))  # type: ignore[union-attr]
        model_cfg = load_config(folder / f"{name}.toml").model
        model = Seq2SeqTransformer(
            ModelConfig(
                src_vocab_size=1,
                tgt_vocab_size=1,
                d_model=model_cfg.d_model,
                nhead=model_cfg.nhead,
                num_layers=model_cfg.num_layers,
                dim_feedforward=model_cfg.dim_feedforward,
                max_seq_len=model_cfg.max_seq_len,
            )
        )
        embeddings = sum(
            p.numel()
            for n, p in model.named_parameters()
            if "embed" in n or "pos" in n or n.startswith("head")
        )
        assert shown == round((model.num_parameters() - embeddings) / 1e6, 1), line


def test_show_a_model_folder_reads_its_config(tmp_path: Path) -> None:
    assert cli("init", "--output", "runs/best/config.toml", cwd=tmp_path).returncode == 0
    proc = cli("show", "--config", "runs/best", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("# runs/best/config.toml: task 'wgsl_generation'")
    (tmp_path / "empty").mkdir()
    proc = cli("show", "--config", "empty", cwd=tmp_path)
    assert proc.returncode == 2
    assert "empty is a folder without a config.toml" in proc.stderr
