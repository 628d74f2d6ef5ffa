"""Config files: what loads, and that every mistake names the file, the key and the line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from engine.config import (
    ConfigError,
    config_to_toml,
    default_config_text,
    load_config,
    load_engine_config,
)

REPO = Path(__file__).resolve().parent.parent

MINIMAL = """\
[task]
name = "tiny"
task_type = "code_generation"

[model]
d_model = 64
nhead = 4
num_layers = 2

[training]
num_epochs = 3
batch_size = 8
learning_rate = 1e-3

[dataset]
train_path = "pairs"
"""


def write(tmp_path: Path, text: str, name: str = "cfg.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


def assert_error(tmp_path: Path, text: str, key: str, line_needle: str, *words: str) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    err = info.value
    message = str(err)
    line = line_of(text, line_needle)
    assert message.startswith(f"{path}:{line}:"), message
    assert key in message, message
    assert err.key == key and err.line == line and err.path == path
    for word in words:
        assert word in message, message
    return err


def test_minimal_config_fills_in_the_documented_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL))
    assert cfg.model.dim_feedforward == 2048
    assert cfg.model.dropout == 0.1
    assert cfg.model.max_seq_len == 512
    assert cfg.model.architecture == "transformer"
    assert cfg.training.optimizer == "adamw"
    assert cfg.training.early_stopping is True
    assert cfg.training.early_stopping_patience == 10
    assert cfg.training.gradient_clip_norm == 1.0
    assert cfg.training.save_every == 10
    assert cfg.training.seed == 1337
    assert cfg.tokenizer.tokenizer_type == "wgsl"
    assert cfg.tokenizer.max_length == 512
    assert cfg.tokenizer.min_freq == 1
    assert cfg.dataset.val_path is None and cfg.dataset.heldout_path is None
    assert (cfg.dataset.train_ratio, cfg.dataset.val_ratio) == (0.8, 0.1)
    assert cfg.generation.beam_size == 4
    assert isinstance(cfg.training.learning_rate, float)


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    sub = tmp_path / "config"
    sub.mkdir()
    text = MINIMAL.replace('train_path = "pairs"', 'train_path = "../data/train"')
    text += 'heldout_path = "/abs/heldout.toml"\n'
    cfg = load_config(write(sub, text))
    assert cfg.dataset.train_path == tmp_path / "data" / "train"
    assert cfg.dataset.heldout_path == Path("/abs/heldout.toml")
    assert cfg.training.checkpoint_dir == sub / "checkpoints"


def test_an_integer_learning_rate_is_accepted_as_a_float(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL.replace("1e-3", "1")))
    assert cfg.training.learning_rate == 1.0


def test_unknown_key_names_key_line_and_the_known_keys(tmp_path: Path) -> None:
    text = MINIMAL.replace("num_layers = 2", "num_layers = 2\nnum_layerz = 3")
    assert_error(tmp_path, text, "model.num_layerz", "num_layerz", "unknown key", "num_layers")


def test_unknown_table_is_an_error(tmp_path: Path) -> None:
    text = MINIMAL + "\n[optimiser]\nbeta = 0.9\n"
    assert_error(tmp_path, text, "optimiser", "[optimiser]", "unknown table")


def test_wrong_type_says_what_was_expected_and_found(tmp_path: Path) -> None:
    text = MINIMAL.replace("batch_size = 8", 'batch_size = "8"')
    assert_error(tmp_path, text, "training.batch_size", "batch_size", "integer", "string")


def test_boolean_is_not_an_integer(tmp_path: Path) -> None:
    text = MINIMAL.replace("num_epochs = 3", "num_epochs = true")
    assert_error(tmp_path, text, "training.num_epochs", "num_epochs", "integer")


def test_float_where_integer_expected(tmp_path: Path) -> None:
    text = MINIMAL.replace("d_model = 64", "d_model = 64.5")
    assert_error(tmp_path, text, "model.d_model", "d_model", "integer", "64.5")


@pytest.mark.parametrize(
    ("old", "new", "key", "why"),
    [
        (
            "learning_rate = 1e-3",
            "learning_rate = -0.1",
            "training.learning_rate",
            "greater than 0",
        ),
        ("batch_size = 8", "batch_size = 0", "training.batch_size", "at least 1"),
        ("nhead = 4", "nhead = 4\ndropout = 1.0", "model.dropout", "[0, 1)"),
        ("nhead = 4", "nhead = 4\ndropout = -0.2", "model.dropout", "[0, 1)"),
        ("nhead = 4", "nhead = 5", "model.nhead", "divide model.d_model (64)"),
        ("batch_size = 8", 'batch_size = 8\noptimizer = "lion"', "training.optimizer", "'adamw'"),
        ("batch_size = 8", 'batch_size = 8\ndevice = "gpu"', "training.device", "cuda:N"),
        ("nhead = 4", 'nhead = 4\narchitecture = "rnn"', "model.architecture", "transformer"),
    ],
)
def test_out_of_range_value_names_key_and_line(
    tmp_path: Path, old: str, new: str, key: str, why: str
) -> None:
    text = MINIMAL.replace(old, new)
    assert_error(tmp_path, text, key, key.split(".")[1] + " =", why)


def test_ratios_summing_over_one_point_at_val_ratio(tmp_path: Path) -> None:
    text = MINIMAL + "train_ratio = 0.8\nval_ratio = 0.3\n"
    assert_error(tmp_path, text, "dataset.val_ratio", "val_ratio", "at most 1", "0.8 + 0.3")


def test_packing_with_a_pretrained_prompt_encoder_points_at_pack(tmp_path: Path) -> None:
    text = MINIMAL.replace("num_layers = 2", 'num_layers = 2\nprompt_encoder = "all-MiniLM-L6-v2"')
    text = text.replace("batch_size = 8", "batch_size = 8\npack = true")
    words = ("pretrained prompt encoder", "pack = false")
    assert_error(tmp_path, text, "training.pack", "pack =", *words)


def test_bf16_residual_is_off_by_default_and_a_boolean(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, MINIMAL)).training.bf16_residual is False
    text = MINIMAL.replace("batch_size = 8", "batch_size = 8\nbf16_residual = true")
    assert load_config(write(tmp_path, text)).training.bf16_residual is True
    text = MINIMAL.replace("batch_size = 8", 'batch_size = 8\nbf16_residual = "yes"')
    assert_error(tmp_path, text, "training.bf16_residual", "bf16_residual", "true or false")


def test_missing_required_key_points_at_its_table(tmp_path: Path) -> None:
    text = MINIMAL.replace("batch_size = 8\n", "")
    assert_error(tmp_path, text, "training.batch_size", "[training]", "missing", "batch_size =")


def test_missing_required_table(tmp_path: Path) -> None:
    text = MINIMAL.replace('[dataset]\ntrain_path = "pairs"\n', "")
    err = assert_error(tmp_path, text, "dataset", "[task]", "missing required table")
    assert "[dataset]" in err.message


def test_a_table_given_as_a_value(tmp_path: Path) -> None:
    text = "model = 3\n" + MINIMAL.replace("[model]\nd_model = 64\nnhead = 4\nnum_layers = 2\n", "")
    assert_error(tmp_path, text, "model", "model = 3", "must be a table")


def test_keys_in_a_dotted_table_header_are_found(tmp_path: Path) -> None:
    text = MINIMAL.replace("[training]", "[ training ]  # loop").replace(
        "batch_size = 8", "  batch_size   =   -8"
    )
    assert_error(tmp_path, text, "training.batch_size", "batch_size", "at least 1")


def test_the_same_key_name_in_another_table_is_not_confused(tmp_path: Path) -> None:
    text = MINIMAL + "\n[tokenizer]\nmax_length = 0\n"
    text = text.replace("[model]", "[model]\nmax_seq_len = 512")
    assert_error(tmp_path, text, "tokenizer.max_length", "max_length = 0", "at least 1")


def test_multiline_strings_do_not_confuse_the_line_finder(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        'task_type = "code_generation"',
        'task_type = "code_generation"\ndescription = """\nbatch_size = 1\n"""',
    )
    text = text.replace("batch_size = 8", "batch_size = -1")
    assert_error(tmp_path, text, "training.batch_size", "batch_size = -1", "at least 1")


def test_bad_toml_syntax_reports_line_and_column(tmp_path: Path) -> None:
    text = MINIMAL.replace("num_layers = 2", "num_layers = = 2")
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    line = line_of(text, "num_layers")
    assert str(info.value).startswith(f"{path}:{line}:14: invalid TOML"), str(info.value)
    assert info.value.column == 14


def test_duplicate_key_is_a_toml_error_with_its_line(tmp_path: Path) -> None:
    text = MINIMAL.replace("nhead = 4", "nhead = 4\nnhead = 8")
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f"{path}:{line_of(text, 'nhead = 8')}:" in str(info.value)


def test_not_utf8_and_missing_file_are_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(MINIMAL.replace('"tiny"', '"caf\xe9"').encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1\.toml:2: not UTF-8"):
        load_config(path)
    with pytest.raises(ConfigError, match=r"nope\.toml: file not found"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path)


def test_serialised_config_loads_back_equal(tmp_path: Path) -> None:
    text = MINIMAL + 'val_path = "val.toml"\n[generation]\nbeam_size = 2\n'
    cfg = load_config(write(tmp_path, text))
    elsewhere = tmp_path / "checkpoint"
    elsewhere.mkdir()
    for relative_to in (None, elsewhere):
        saved = write(elsewhere, config_to_toml(cfg, relative_to), "config.toml")
        again = load_config(saved)
        assert dataclasses.replace(again, path=cfg.path) == cfg


def test_default_config_text_loads_and_points_into_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = Path("config/wgsl_generation.toml")
    text = default_config_text(out)
    assert 'train_path = "../data/train"' in text
    out.parent.mkdir()
    out.write_text(text, encoding="utf-8")
    cfg = load_config(out)
    assert cfg.dataset.train_path == tmp_path / "data" / "train"
    assert cfg.dataset.heldout_path == tmp_path / "data" / "heldout.toml"
    assert (cfg.model.d_model, cfg.model.nhead, cfg.model.num_layers) == (128, 4, 2)
    assert cfg.training.learning_rate == 1e-3
    assert cfg.model.prompt_encoder == "all-MiniLM-L6-v2" and cfg.tokenizer.number_placeholders
    # Every key carries its documentation as a comment.
    for key in ("d_model", "learning_rate", "heldout_path", "beam_size"):
        assert "#" in next(line for line in text.splitlines() if line.startswith(key))


def test_the_shipped_configs_load() -> None:
    cfg = load_config(REPO / "config" / "wgsl_generation.toml")
    assert cfg.dataset.train_path == REPO / "data" / "train"
    assert cfg.dataset.heldout_path == REPO / "data" / "heldout.toml"
    engine = load_engine_config(REPO / "config" / "engine.toml")
    assert engine.log_level == "INFO"
    assert engine.paths.checkpoint_path == REPO / "checkpoints"


def test_engine_config_defaults_and_errors(tmp_path: Path) -> None:
    cfg = load_engine_config(write(tmp_path, "", "engine.toml"))
    assert cfg.log_level == "INFO" and cfg.disable_debug_assertions is False
    assert cfg.paths.log_path == tmp_path / "logs"
    text = 'log_level = "INFO"\n\n[paths]\nlog_path = 3\n'
    path = write(tmp_path, text, "engine.toml")
    with pytest.raises(ConfigError, match=r"engine\.toml:4: paths\.log_path: must be a non-empty"):
        load_engine_config(path)
    path = write(tmp_path, 'log_level = "LOUD"\n', "engine.toml")
    with pytest.raises(ConfigError, match=r"engine\.toml:1: log_level: must be one of 'DEBUG'"):
        load_engine_config(path)
    path = write(tmp_path, "colour = true\n", "engine.toml")
    with pytest.raises(ConfigError, match=r"engine\.toml:1: colour: unknown key"):
        load_engine_config(path)
