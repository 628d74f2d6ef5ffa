"""Every pair the project ships is a complete module that naga accepts, and the split is honest."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.dataset import Example, load_examples
from engine.tokenizer import Tokenizer, build_prompt_tokenizer, build_wgsl_tokenizer
from engine.validator import Validator

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def validator() -> Iterator[Validator]:
    with Validator() as v:
        yield v


@pytest.fixture(scope="module")
def train() -> list[Example]:
    return load_examples(DATA / "train")


@pytest.fixture(scope="module")
def heldout() -> list[Example]:
    return load_examples(DATA / "heldout.toml")


@pytest.fixture(scope="module")
def wgsl_tok(train: list[Example]) -> Tokenizer:
    return build_wgsl_tokenizer([e.wgsl_code for e in train], min_freq=2)


def _failures(validator: Validator, codes: dict[str, Example]) -> list[str]:
    out = []
    for code, example in codes.items():
        result = validator.validate(code)
        if not result.valid:
            first = result.diagnostics[0].message if result.diagnostics else "?"
            out.append(f"{example.family}: {example.natural_language!r}: {first}")
    return out


def test_every_shipped_pair_validates_with_naga(
    validator: Validator, train: list[Example], heldout: list[Example]
) -> None:
    codes = {e.wgsl_code: e for e in [*train, *heldout]}
    failures = _failures(validator, codes)
    assert not failures, f"{len(failures)} shipped shaders fail naga:\n" + "\n".join(failures[:5])


def test_decoded_shipped_code_still_validates(
    validator: Validator, train: list[Example], heldout: list[Example], wgsl_tok: Tokenizer
) -> None:
    """What the model is trained to emit, decoded, is the shipped program up to whitespace."""
    tok = wgsl_tok
    codes = {e.wgsl_code: e for e in [*train, *heldout]}
    decoded = {}
    for code, example in codes.items():
        ids = tok.encode(code)
        assert tok.unk_id not in ids
        text = tok.decode(ids)
        assert text.split() == code.split() or "".join(text.split()) == "".join(code.split())
        decoded[text] = example
    failures = _failures(validator, decoded)
    assert not failures, "\n".join(failures[:5])


def test_dataset_meets_size_and_diversity_targets(train: list[Example]) -> None:
    prompts = [e.natural_language for e in train]
    families = Counter(e.family for e in train)
    assert len(train) >= 3000
    assert len(families) >= 40
    assert len(set(prompts)) / len(prompts) >= 0.9
    assert min(families.values()) >= 20


def test_programs_stay_short_enough_for_the_model(
    train: list[Example], wgsl_tok: Tokenizer
) -> None:
    by_code = {code: len(wgsl_tok.encode(code)) for code in {e.wgsl_code for e in train}}
    lengths = sorted(by_code[e.wgsl_code] for e in train)
    assert lengths[-1] <= 400
    assert lengths[len(lengths) // 2] <= 150


def test_no_heldout_prompt_appears_in_training(
    train: list[Example], heldout: list[Example]
) -> None:
    train_prompts = {e.natural_language.lower() for e in train}
    leaked = [e.natural_language for e in heldout if e.natural_language.lower() in train_prompts]
    assert not leaked
    assert {e.family for e in heldout} <= {e.family for e in train}
    assert len({e.family for e in heldout}) >= 40


def _wording(prompt: str) -> list[str]:
    """The words of a prompt with every number replaced, so that only the phrasing is left."""
    return re.sub(r"\d+(?:\.\d+)?", "N", prompt.lower()).strip(" .").split()


def test_heldout_wording_is_new_not_just_new_numbers(
    train: list[Example], heldout: list[Example]
) -> None:
    """No held-out prompt is a training prompt with other numbers, nor stitched from its 4-grams."""
    seen = {" ".join(_wording(e.natural_language)) for e in train}
    grams = {
        tuple(words[i : i + 4])
        for words in (_wording(e.natural_language) for e in train)
        for i in range(len(words) - 3)
    }
    renumbered = [
        e.natural_language for e in heldout if " ".join(_wording(e.natural_language)) in seen
    ]
    assert not renumbered, renumbered[:5]
    stitched = []
    for e in heldout:
        words = _wording(e.natural_language)
        own = {tuple(words[i : i + 4]) for i in range(len(words) - 3)}
        if own and own <= grams:
            stitched.append(e.natural_language)
    assert not stitched, stitched[:5]


def test_compute_kernels_follow_the_binding_convention(train: list[Example]) -> None:
    for e in train:
        if "compute" not in e.tags or "storage-texture" in e.tags:
            continue
        io = next(t for t in e.tags if t.startswith("io:"))
        roles = io[3:].split(",")
        names = {"in": "input", "out": "output", "params": "params"}
        for slot, role in enumerate(roles):
            name = names.get(role, role)
            assert f"@binding({slot}) var<" in e.wgsl_code
            assert f"> {name}: " in e.wgsl_code, (e.natural_language, name)


def test_prompt_vocabulary_covers_heldout_words_mostly(
    train: list[Example], heldout: list[Example]
) -> None:
    tok = build_prompt_tokenizer([e.natural_language for e in train], 1, lowercase=True)
    ids = [i for e in heldout for i in tok.encode(e.natural_language)]
    assert tok.unk_id not in ids


def test_shipped_code_is_in_the_layout_the_model_writes(
    train: list[Example], heldout: list[Example], wgsl_tok: Tokenizer
) -> None:
    """Hand-written and generated code decode back byte for byte: consistent targets."""
    for code in {e.wgsl_code for e in [*train, *heldout]}:
        assert wgsl_tok.decode(wgsl_tok.encode(code)) == code
