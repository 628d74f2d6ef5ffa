"""Decoding and validator-guided choice with real (tiny) models, real tokenizers and naga."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from engine.generate import (
    Candidate,
    DraftIndex,
    GenerationCancelled,
    Generator,
    _Decoder,
    choose_valid,
    length_normalised,
)
from engine.model import ModelConfig, ModelLoadError, Seq2SeqTransformer, save_model
from engine.tokenizer import build_prompt_tokenizer, build_wgsl_tokenizer
from engine.validator import validate_source

PROMPT = "a function that returns one as a float"
# The model sees the invalid answer more often than the valid one, so it learns to prefer it:
# greedy decoding picks the invalid code, one of the beams holds the valid code.
INVALID = "fn one() -> f32 {\n    return 1u;\n}\n"
VALID = "fn one() -> f32 {\n    return 1.0;\n}\n"
TRAINING = [(PROMPT, INVALID)] * 3 + [(PROMPT, VALID)] * 2
OTHER = ("a compute shader that does nothing", "@compute @workgroup_size(1)\nfn main() {\n}\n")


def _train_tiny(directory: Path, pairs: list[tuple[str, str]], steps: int) -> None:
    torch.manual_seed(0)
    src_tok = build_prompt_tokenizer([p for p, _ in pairs])
    tgt_tok = build_wgsl_tokenizer([c for _, c in pairs])
    cfg = ModelConfig(
        src_vocab_size=src_tok.vocab_size,
        tgt_vocab_size=tgt_tok.vocab_size,
        src_pad_id=src_tok.pad_id,
        tgt_pad_id=tgt_tok.pad_id,
        d_model=32,
        nhead=2,
        num_layers=1,
        dim_feedforward=64,
        dropout=0.0,
        max_seq_len=64,
    )
    model = Seq2SeqTransformer(cfg)
    src_rows = [src_tok.encode(p) for p, _ in pairs]
    tgt_rows = [[tgt_tok.sos_id, *tgt_tok.encode(c), tgt_tok.eos_id] for _, c in pairs]
    width_s = max(map(len, src_rows))
    width_t = max(map(len, tgt_rows))
    src = torch.tensor([r + [src_tok.pad_id] * (width_s - len(r)) for r in src_rows])
    tgt = torch.tensor([r + [tgt_tok.pad_id] * (width_t - len(r)) for r in tgt_rows])
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        logits = model(src, tgt[:, :-1])
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]),
            tgt[:, 1:].reshape(-1),
            ignore_index=tgt_tok.pad_id,
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    config_text = "[generation]\nbeam_size = 4\nmax_new_tokens = 40\nlength_penalty = 0.6\n"
    save_model(directory, model, src_tok, tgt_tok, config_text=config_text, metrics={"bleu": 0.5})


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("tiny_model")
    _train_tiny(directory, [*TRAINING, OTHER, OTHER], steps=150)
    return directory


@pytest.fixture(scope="module")
def generator(tiny_model_dir: Path) -> Generator:
    return Generator.load(tiny_model_dir)


def test_drafted_greedy_decoding_gives_the_plain_greedy_output(tiny_model_dir: Path) -> None:
    plain = Generator.load(tiny_model_dir, drafts=False)
    drafted = Generator.load(tiny_model_dir, drafts=[VALID, INVALID, OTHER[1]])
    misleading = Generator.load(tiny_model_dir, drafts=[VALID.replace("one", "two")])
    for prompt in (PROMPT, OTHER[0], "something else entirely"):
        want = plain.candidates(prompt, beams=1)
        assert drafted.candidates(prompt, beams=1) == want
        assert misleading.candidates(prompt, beams=1) == want


def test_greedy_output_is_invalid_but_guided_choice_is_valid(generator: Generator) -> None:
    greedy = generator.generate(PROMPT, beams=1)
    assert greedy.code == INVALID
    assert not greedy.valid
    assert greedy.diagnostics and greedy.diagnostics[0].severity == "error"

    guided = generator.generate(PROMPT, beams=4)
    assert guided.valid
    assert guided.code != greedy.code and guided.code.startswith("fn one() -> f32 {")
    assert guided.rank > 0 and guided.candidates >= 2
    assert validate_source(guided.code).valid

    beams_only = generator.generate(PROMPT, beams=4, greedy_first=False)
    assert beams_only.valid and beams_only.rank > 0


def test_a_fork_of_the_greedy_answer_finds_the_valid_code(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The invalid greedy answer differs from the valid one in one token (``1u`` vs ``1.0``):
    re-decoding from the closest runner-up gives the valid code without a beam search."""
    generator = Generator.load(tiny_model_dir)
    beam_searches: list[int] = []
    beam = _Decoder._beam

    def counted(self: _Decoder, *args: Any) -> list[Candidate]:
        beam_searches.append(1)
        return beam(self, *args)

    monkeypatch.setattr(_Decoder, "_beam", counted)
    forked = generator.generate(PROMPT, beams=4)
    assert forked.valid and forked.code == VALID
    assert forked.rank == 1 and forked.candidates == 2
    assert not beam_searches
    no_forks = generator.generate(PROMPT, beams=4, forks=False)
    assert no_forks.valid and no_forks.code == VALID
    assert beam_searches == [1]


def test_forced_prefix_continues_like_greedy(tiny_model_dir: Path) -> None:
    decoder = Generator.load(tiny_model_dir)._decoder
    assert decoder is not None
    greedy, forks = decoder.greedy(PROMPT, 40, None)
    assert len(forks) == len(greedy.ids) + 1  # one per token, and one for the end
    assert all(f.margin >= 0 for f in forks)
    again, _ = decoder.greedy(PROMPT, 40, None, forced=greedy.ids[:3])
    assert again.ids == greedy.ids
    assert abs(again.log_prob - greedy.log_prob) < 1e-4


def test_beam_candidates_are_distinct_and_start_with_the_greedy_choice(
    generator: Generator,
) -> None:
    codes = generator.candidates(PROMPT, beams=4)
    assert len(codes) == len(set(codes)) >= 2
    assert codes[0] == INVALID
    assert any(validate_source(code).valid for code in codes[1:])


def test_second_prompt_decodes_its_own_answer(generator: Generator) -> None:
    result = generator.generate(OTHER[0])
    assert result.valid and result.code == OTHER[1] and result.source == "model"


def test_when_no_candidate_is_valid_the_best_is_returned_marked_invalid(
    generator: Generator,
) -> None:
    result = generator.generate(PROMPT, beams=4, max_new_tokens=3)
    assert not result.valid
    assert result.diagnostics
    assert result.rank == 0


def test_settings_come_from_the_model_config(generator: Generator) -> None:
    assert generator.settings.beam_size == 4
    assert generator.settings.max_new_tokens == 40
    info = generator.describe()
    assert info["kind"] == "model" and isinstance(info["params"], int) and info["params"] > 0
    assert info["metrics"] == {"bleu": 0.5}


def test_should_stop_cancels_between_steps(generator: Generator) -> None:
    calls = 0

    def stop_after_three() -> bool:
        nonlocal calls
        calls += 1
        return calls > 3

    with pytest.raises(GenerationCancelled):
        generator.generate(PROMPT, beams=4, should_stop=stop_after_three)
    assert calls == 4
    assert generator.generate(PROMPT, beams=4).valid  # the generator still works afterwards


def test_context_renames_the_generated_function(generator: Generator) -> None:
    context = "fn one() -> f32 {\n    return 2.0;\n}\n"
    result = generator.generate(PROMPT, beams=4, context=context)
    assert result.valid
    assert "fn one_2()" in result.code
    assert validate_source(context + "\n" + result.code).valid


def test_missing_model_directory_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelLoadError, match="no-such-model"):
        Generator.load(missing)


def test_corrupt_weights_are_refused_clearly(tiny_model_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in tiny_model_dir.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    (broken / "model.safetensors").write_bytes(b"\x00garbage, not safetensors")
    with pytest.raises(ModelLoadError, match=r"model\.safetensors"):
        Generator.load(broken)


def test_missing_default_model_suggests_dummy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import engine.generate as generate

    monkeypatch.setattr(generate, "DEFAULT_MODEL_DIR", tmp_path / "default")
    with pytest.raises(ModelLoadError, match="--model dummy"):
        Generator.load(None)


def test_choose_valid_prefers_the_first_valid_in_score_order() -> None:
    codes = [INVALID, VALID, "fn two() -> f32 { return 2.0; }"]
    rank, verdict = choose_valid(codes, validate_source)
    assert rank == 1 and verdict.valid
    rank, verdict = choose_valid([INVALID], validate_source)
    assert rank == 0 and not verdict.valid


def test_length_penalty_favours_longer_sequences_at_equal_log_prob() -> None:
    assert length_normalised(-6.0, 20, 0.6) > length_normalised(-6.0, 5, 0.6)
    assert length_normalised(-6.0, 20, 0.0) == -6.0


def test_draft_index_continues_the_longest_known_suffix() -> None:
    index = DraftIndex([[1, 2, 3, 4, 5], [7, 2, 3, 9]])
    assert index.propose([1, 2, 3], 2) == [4, 5]
    assert index.propose([7, 2, 3], 5) == [9]
    assert index.propose([8, 8, 3], 1) == [4]
    assert index.propose([42], 3) == []
