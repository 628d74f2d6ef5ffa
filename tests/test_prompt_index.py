"""The prompt index's fine-tuned encoder layers: fitted when the index is built, saved beside
the model without pickle, loaded back with clear errors, and answering like the shipped index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from test_text_encoder import encoder_model

import engine.retrieval as retrieval
from engine.generate import Generator
from engine.layout import layout_siblings, program_layout
from engine.model import Seq2SeqTransformer
from engine.retrieval import (
    INDEX_PROGRAMS,
    INDEX_WEIGHTS,
    PromptIndex,
    PromptIndexError,
    _lower_states,
    tune_layers,
    tuned_embeddings,
)
from engine.text_encoder import MINILM, PretrainedTokenizer

KERNEL = (
    "@group(0) @binding(0) var<storage, read_write> data: array<f32>;\n"
    "@compute @workgroup_size(64)\n"
    "fn main(@builtin(global_invocation_id) id: vec3<u32>) {{\n"
    "    data[id.x] = {expr};\n"
    "}}\n"
)
WORDINGS = {
    "data[id.x] * data[id.x]": (
        "square every element",
        "raise each value to the power of two",
        "multiply each entry by itself",
        "compute the square of the data",
    ),
    "-data[id.x]": (
        "negate every element",
        "flip the sign of each value",
        "change the sign of the entries",
        "make each number its negative",
    ),
    "sqrt(data[id.x])": (
        "take the square root of every element",
        "sqrt each value",
        "compute the root of each entry",
        "replace each number by its square root",
    ),
}
PAIRS = [(p, KERNEL.format(expr=e)) for e, prompts in WORDINGS.items() for p in prompts]


@pytest.fixture(scope="module", autouse=True)
def few_steps() -> Iterator[None]:
    """Twelve prompts need fewer fine-tuning steps than a training set."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(retrieval, "TUNE_STEPS", 40)
        yield


@pytest.fixture(scope="module")
def model() -> Seq2SeqTransformer:
    return encoder_model(0)


@pytest.fixture(scope="module")
def index(model: Seq2SeqTransformer) -> PromptIndex:
    return PromptIndex.build(model, PretrainedTokenizer(MINILM), PAIRS, placeholders=True)


def separation(z: torch.Tensor, labels: torch.Tensor) -> float:
    sims = z @ z.T
    same = (labels[:, None] == labels[None, :]) & ~torch.eye(len(labels), dtype=torch.bool)
    other = labels[:, None] != labels[None, :]
    return float(sims[same].mean() - sims[other].mean())


def test_fine_tuning_draws_prompts_of_one_program_together(model: Seq2SeqTransformer) -> None:
    encoder = model.pretrained
    assert encoder is not None
    prompts = [p for p, _ in PAIRS]
    labels = torch.arange(len(WORDINGS)).repeat_interleave(4)
    lower, pooled = _lower_states(encoder, PretrainedTokenizer(MINILM), prompts, 2)
    tuned = tune_layers(encoder, lower, labels, torch.stack(pooled))
    before = separation(torch.stack(pooled), labels)
    assert separation(tuned_embeddings(tuned, lower), labels) > before + 0.1
    # the model's own encoder, which the decoder reads, is untouched
    assert all(not p.requires_grad for p in encoder.parameters())
    below = len(encoder.layers) - 2
    assert not torch.equal(
        tuned.state_dict()["layers.0.query.weight"],
        encoder.state_dict()[f"layers.{below}.query.weight"],
    )


def test_the_index_answers_the_same_after_saving_and_loading(
    model: Seq2SeqTransformer, index: PromptIndex, tmp_path: Path
) -> None:
    assert index.tuned is not None and len(index.tuned.layers) == retrieval.TUNED_LAYERS
    index.save(tmp_path)
    tensors = load_file(str(tmp_path / INDEX_WEIGHTS))
    assert "tuned_embeddings" in tensors and "tuned.layers.1.ff_out.weight" in tensors
    again = PromptIndex.load(tmp_path)
    assert again is not None and again.tuned is not None
    tok = PretrainedTokenizer(MINILM)
    for prompt in ("each value times itself", "the opposite of every number", "root of x"):
        first = index.nearest(index.embed(model, tok, [prompt])[0], prompt)
        second = again.nearest(again.embed(model, tok, [prompt])[0], prompt)
        assert first is not None and second is not None
        assert first.code == second.code
        assert abs(first.similarity - second.similarity) < 1e-3


def test_damaged_fine_tuned_layers_are_a_clear_error(index: PromptIndex, tmp_path: Path) -> None:
    index.save(tmp_path)
    tensors = load_file(str(tmp_path / INDEX_WEIGHTS))
    del tensors["tuned.layers.0.key.weight"]
    save_file(tensors, str(tmp_path / INDEX_WEIGHTS))
    with pytest.raises(PromptIndexError) as err:
        PromptIndex.load(tmp_path)
    message = str(err.value)
    assert str(tmp_path) in message and "python -m engine.retrieval" in message
    # the fine-tuned embeddings without the layers they came from do not match either
    index.save(tmp_path)
    tensors = load_file(str(tmp_path / INDEX_WEIGHTS))
    tensors = {k: v for k, v in tensors.items() if not k.startswith("tuned.")}
    save_file(tensors, str(tmp_path / INDEX_WEIGHTS))
    with pytest.raises(PromptIndexError, match="do not match"):
        PromptIndex.load(tmp_path)
    assert (tmp_path / INDEX_PROGRAMS).is_file()


# Requests in the training prompts' words and the same requests in words they never use: the
# shipped index answers both with one program (the index without fine-tuned layers did not).
PARAPHRASES = [
    (
        "square every element of the buffer in place",
        "each number in the buffer to the second power, overwriting it",
    ),
    (
        "compute the exponential of each element in place",
        "e raised to each value, updating the buffer itself",
    ),
]


@pytest.fixture(scope="module")
def shipped() -> Generator:
    return Generator.load(None)


@pytest.mark.parametrize(("plain", "paraphrase"), PARAPHRASES)
def test_the_shipped_index_gives_a_paraphrase_the_same_program(
    shipped: Generator, plain: str, paraphrase: str
) -> None:
    index = shipped._decoder.index if shipped._decoder else None
    assert index is not None and index.tuned is not None
    first, second = shipped.generate(plain), shipped.generate(paraphrase)
    assert first.similarity is not None and second.similarity is not None  # the index answered
    assert first.valid and first.code == second.code


# One operation asked for in place and into a separate buffer, in layout words the training
# prompts never use: the index keeps the operation and follows the words (engine.layout).
LAYOUTS = [
    ("cube every value, mutating the data", "cube every value and leave the input untouched"),
    (
        "negate every entry, modifying the original values",
        "negate every entry without modifying the input",
    ),
]


@pytest.mark.parametrize(("in_place", "separate"), LAYOUTS)
def test_the_shipped_index_puts_the_result_where_the_prompt_says(
    shipped: Generator, in_place: str, separate: str
) -> None:
    first, second = shipped.generate(in_place), shipped.generate(separate)
    assert first.similarity is not None and second.similarity is not None  # the index answered
    assert first.valid and second.valid
    assert program_layout(first.code) == "in_place"
    assert program_layout(second.code) == "separate"
    assert layout_siblings([first.code, second.code]) == {(0, "separate"): 1, (1, "in_place"): 0}
