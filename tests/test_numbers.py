"""Number placeholders: prompts and code delexicalised and written back, and a model trained
with them writing a number it never saw in training."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_project import write_project

from engine.config import load_config
from engine.dataset import load_examples
from engine.generate import Generator
from engine.numbers import (
    PromptNumbers,
    delexicalise_code,
    delexicalise_prompt,
    relexicalise_code,
    render,
)
from engine.trainer import TrainOptions, train

ROOT = Path(__file__).resolve().parent.parent

KERNEL = (
    "@group(0) @binding(0) var<storage, read_write> data: array<f32>;\n\n"
    "@compute @workgroup_size(128)\n"
    "fn main(@builtin(global_invocation_id) gid: vec3<u32>) {\n"
    "    let i = gid.x;\n"
    "    if (i >= arrayLength(&data) || i % 3u != 0u) {\n"
    "        return;\n"
    "    }\n"
    "    data[i] = data[i] * 8.0 + 2.5;\n"
    "}\n"
)


def test_every_shipped_pair_comes_back_unchanged() -> None:
    examples = load_examples(ROOT / "data" / "train") + load_examples(ROOT / "data/heldout.toml")
    replaced = 0
    for ex in examples:
        numbers = delexicalise_prompt(ex.natural_language)
        code = delexicalise_code(ex.wgsl_code, numbers)
        assert relexicalise_code(code, numbers) == ex.wgsl_code, ex.natural_language
        replaced += code != ex.wgsl_code
    # the placeholders do real work: most prompts with numbers use them in the code
    assert replaced > len(examples) // 4


def test_prompt_numbers_become_placeholders_by_first_appearance() -> None:
    numbers = delexicalise_prompt("scale by 2.5, then add 8 and 2.5 again (128 threads)")
    assert numbers.prompt == "scale by NUM0, then add NUM1 and NUM0 again (NUM2 threads)"
    assert numbers.values == (2.5, 8.0, 128.0)
    assert numbers.texts == ("2.5", "8", "128")


def test_digits_inside_words_are_not_numbers() -> None:
    prompt = "a vec4 of f32 from a texture_2d in rgba8unorm, 2d grid, x2 and 3x3 blur, v1.2.3"
    numbers = delexicalise_prompt(prompt)
    assert numbers.prompt == prompt
    assert numbers.values == ()


def test_both_ends_of_a_range_are_numbers() -> None:
    """``lo..hi`` as people write ranges: both ends become placeholders, signs stay in the text
    as they do in the code, so a clamp to -2..1 gets both bounds."""
    numbers = delexicalise_prompt("keep each value inside -2..1 (was 0.5..3.5)")
    assert numbers.prompt == "keep each value inside -NUM0..NUM1 (was NUM2..NUM3)"
    assert numbers.values == (2.0, 1.0, 0.5, 3.5)
    code = "data[i] = clamp(x, -2.0, 1.0);"
    assert relexicalise_code(delexicalise_code(code, numbers), numbers) == code
    assert delexicalise_code(code, numbers) == "data[i] = clamp(x, -NUM0_FLOAT, NUM1_FLOAT);"


def test_a_prompt_without_numbers_leaves_the_code_alone() -> None:
    numbers = delexicalise_prompt("negate every element in place")
    assert numbers == PromptNumbers("negate every element in place")
    assert delexicalise_code(KERNEL, numbers) == KERNEL
    assert relexicalise_code(KERNEL, numbers) == KERNEL


def test_each_literal_keeps_its_form() -> None:
    numbers = delexicalise_prompt("every 3rd element: times 8 plus 2.5, 128 per workgroup, 3 apart")
    assert numbers.values == (8.0, 2.5, 128.0, 3.0)  # "3rd" is a word
    code = delexicalise_code(KERNEL, numbers)
    assert "@workgroup_size(NUM2_INT)" in code
    assert "i % NUM3_U32 != 0u" in code
    assert "data[i] * NUM0_FLOAT + NUM1_FLOAT;" in code
    assert "vec3<u32>" in code and "binding(0)" in code  # no prompt number: untouched
    assert relexicalise_code(code, numbers) == KERNEL


def test_forms_are_written_as_wgsl_needs_them() -> None:
    assert render(8.0, "FLOAT") == "8.0"
    assert render(2.5, "FLOAT") == "2.5"
    assert render(0.001, "FLOAT") == "0.001"
    assert render(128.0, "INT") == "128"
    assert render(3.0, "U32") == "3u"
    assert render(3.0, "I32") == "3i"
    assert render(8.0, "F32") == "8.0f"
    assert render(0.5, "F16") == "0.5h"
    # a new number written back into each form of a delexicalised program
    numbers = delexicalise_prompt("times 8 plus 2.5, 128 per workgroup, every 3")
    code = delexicalise_code(KERNEL, numbers)
    other = delexicalise_prompt("times 4 plus 0.25, 64 per workgroup, every 7")
    assert relexicalise_code(code, other) == (
        KERNEL.replace("128", "64").replace("3u", "7u").replace("8.0 + 2.5", "4.0 + 0.25")
    )


def test_a_literal_spelt_differently_from_the_rendering_is_left_alone() -> None:
    numbers = delexicalise_prompt("add 0.001 and 8")
    code = "let a = 1e-3;\nlet b = 8.00;\nlet c = 0.001;\n"
    assert delexicalise_code(code, numbers) == "let a = 1e-3;\nlet b = 8.00;\nlet c = NUM0_FLOAT;\n"


def test_a_placeholder_for_a_missing_number_stays_visible() -> None:
    numbers = delexicalise_prompt("scale by 2")
    assert relexicalise_code("x * NUM0_FLOAT * NUM3_FLOAT", numbers) == "x * 2.0 * NUM3_FLOAT"


def test_the_key_defaults_to_off_so_older_configs_load(tmp_path: Path) -> None:
    shipped_model = load_config(ROOT / "data" / "models" / "default" / "config.toml")
    assert isinstance(shipped_model.tokenizer.number_placeholders, bool)
    text = (ROOT / "config" / "wgsl_generation.toml").read_text(encoding="utf-8")
    old = "\n".join(line for line in text.splitlines() if "number_placeholders" not in line)
    path = tmp_path / "old.toml"
    path.write_text(old.replace("../data", str(ROOT / "data")), encoding="utf-8")
    assert load_config(path).tokenizer.number_placeholders is False


@pytest.fixture(scope="module")
def placeholder_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model trained by the real trainer with placeholders on, numbers 2..9 only."""
    root = tmp_path_factory.mktemp("placeholders")
    config = write_project(
        root,
        ops=[("multiply", "*")],
        prompt="{word} every element of the buffer with {k}",
        model={"d_model": 64, "dim_feedforward": 128, "dropout": 0.0},
        training={"num_epochs": 20, "batch_size": 4, "warmup_steps": 4, "save_every": 100},
        tokenizer={"number_placeholders": True},
    )
    train(TrainOptions(config_path=config, output_dir=root / "out", final_metrics=False))
    return root / "out" / "best"


def test_a_model_with_placeholders_writes_a_number_it_never_saw(placeholder_model: Path) -> None:
    generator = Generator.load(placeholder_model, drafts=False)
    assert generator.settings.number_placeholders
    for prompt, want in [
        ("multiply every element of the buffer with 37.25", "data[id.x] * 37.25;"),
        ("multiply every element of the buffer with 1000", "data[id.x] * 1000.0;"),
        ("multiply every element of the buffer with 0.125", "data[id.x] * 0.125;"),
    ]:
        result = generator.generate(prompt, beams=1)
        assert want in result.code, result.code
        assert result.valid, result.diagnostics
