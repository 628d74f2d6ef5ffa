"""The pretrained prompt encoder: our plain-PyTorch MiniLM gives the sentence-transformers
embeddings; a model built on it trains, saves without the frozen weights and loads back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import tiny_project
import torch

from engine.generate import Generator
from engine.model import (
    WEIGHTS_FILE,
    ModelConfig,
    ModelLoadError,
    Seq2SeqTransformer,
    load_model,
    load_weights,
    save_weights,
)
from engine.retrieval import (
    INDEX_PROGRAMS,
    INDEX_WEIGHTS,
    PromptIndex,
    SpellingIndex,
    fit_adapter,
    sentence_embeddings,
)
from engine.text_encoder import (
    ENCODER_DIR_ENV,
    MINILM,
    PretrainedTokenizer,
    PromptEncoderError,
    _load_shape,
    load_bert_encoder,
)
from engine.tokenizer import load_prompt_tokenizer
from engine.trainer import (
    EncodedPair,
    TrainOptions,
    collate,
    collate_states,
    pooled_embeddings,
    prompt_state_cache,
    train,
)

SENTENCES = [
    "multiply every element by 2.5 in place",
    "Make the colours 1.5 times as vivid, please!",
    "héllo wörld — grayscale ∑",
]


def mean_pooled(states: torch.Tensor, ids: torch.Tensor, pad: int) -> torch.Tensor:
    keep = (ids != pad).float()[..., None]
    return torch.nn.functional.normalize((states * keep).sum(1) / keep.sum(1), dim=-1)


def test_our_encoder_gives_the_sentence_transformers_embeddings() -> None:
    import sentence_transformers  # installed with the encoder's package, which needs it

    from engine.text_encoder import encoder_dir

    tok = PretrainedTokenizer(MINILM)
    rows = [tok.encode(s) for s in SENTENCES]
    width = max(map(len, rows))
    ids = torch.tensor([r + [tok.pad_id] * (width - len(r)) for r in rows])
    with torch.no_grad():
        states = load_bert_encoder(MINILM)(ids, (ids != tok.pad_id)[:, None, None, :])
    ours = mean_pooled(states, ids, tok.pad_id)
    reference = sentence_transformers.SentenceTransformer(str(encoder_dir(MINILM)), device="cpu")
    theirs = torch.tensor(reference.encode(SENTENCES, normalize_embeddings=True))
    assert torch.allclose(ours, theirs, atol=1e-5)
    # and the embedding knows English: "times" is closer to "multiply" than to "subtract"
    probe = ["times all the values by three", "multiply each element by 3", "subtract 3 from x"]
    prow = [tok.encode(s) for s in probe]
    w = max(map(len, prow))
    pids = torch.tensor([r + [tok.pad_id] * (w - len(r)) for r in prow])
    with torch.no_grad():
        e = mean_pooled(load_bert_encoder(MINILM)(pids, (pids != 0)[:, None, None, :]), pids, 0)
    assert float(e[0] @ e[1]) > float(e[0] @ e[2]) + 0.1


def test_tokenizer_lower_cases_marks_the_ends_and_saves_by_name(tmp_path: Path) -> None:
    tok = PretrainedTokenizer(MINILM)
    assert tok.tokenize("Scale by NUM0") == ["[CLS]", "scale", "by", "nu", "##m", "##0", "[SEP]"]
    assert tok.vocab_size == 30522 and tok.pad_id == 0
    path = tmp_path / "tokenizer_prompt.json"
    tok.save(path)
    assert path.stat().st_size < 200  # a name, not a vocabulary
    again = load_prompt_tokenizer(path)
    assert again.encode("double every value") == tok.encode("double every value")


def encoder_model(seed: int = 0) -> Seq2SeqTransformer:
    torch.manual_seed(seed)
    cfg = ModelConfig(
        src_vocab_size=30522,
        tgt_vocab_size=50,
        d_model=32,
        nhead=4,
        num_layers=1,
        dim_feedforward=64,
        dropout=0.0,
        max_seq_len=64,
        prompt_encoder=MINILM,
    )
    return Seq2SeqTransformer(cfg).eval()


def test_cached_encoder_states_give_what_the_encoder_gives() -> None:
    """Training runs the frozen encoder once per prompt and reuses its output every epoch; the
    model's logits and the index's sentence embeddings must come out as if it ran each time."""
    model = encoder_model()
    tok = PretrainedTokenizer(MINILM)
    prompts = ["double every value", "square each element of the buffer in place", "negate x"]
    pairs = [EncodedPair(tok.encode(p), [1, 5, 6, 2]) for p in prompts]
    cache = prompt_state_cache(model, pairs, tok.pad_id, batch_size=2)
    assert cache is not None and [len(s) for s in cache] == [len(p.src) for p in pairs]
    idx = [0, 1, 2]
    src, tgt_in, _ = collate(pairs, idx, tok.pad_id, 0)
    live = model(src, tgt_in)
    cached = model(src, tgt_in, True, collate_states(cache, idx))
    assert torch.allclose(live, cached, atol=1e-5)
    embeddings = sentence_embeddings(model, tok, prompts)
    assert torch.allclose(pooled_embeddings(cache), embeddings, atol=1e-5)
    # masking the prompt in training needs the encoder every step: no cache
    model.cfg.prompt_mask_rate = 0.2
    assert prompt_state_cache(model, pairs, tok.pad_id) is None


def test_weights_file_leaves_the_frozen_encoder_out_and_loads_back(tmp_path: Path) -> None:
    model = encoder_model()
    trained = model.num_parameters()
    total = sum(p.numel() for p in model.parameters())
    assert total - trained > 20_000_000  # MiniLM is there, frozen
    path = tmp_path / WEIGHTS_FILE
    save_weights(path, model)
    assert path.stat().st_size < 4 * trained + 100_000
    again = load_weights(path).eval()
    src = torch.tensor([PretrainedTokenizer(MINILM).encode("add 2 to each element")])
    tgt = torch.tensor([[1, 5, 7, 9]])
    with torch.no_grad():
        assert torch.allclose(model(src, tgt), again(src, tgt), atol=1e-6)


def test_a_missing_encoder_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / WEIGHTS_FILE
    save_weights(path, encoder_model())
    monkeypatch.setenv(ENCODER_DIR_ENV, str(tmp_path / "nowhere"))
    _load_shape.cache_clear()
    try:
        with pytest.raises(ModelLoadError) as err:
            load_weights(path)
        assert str(path) in str(err.value)
        assert "lacks config.json" in str(err.value) and "reinstall" in str(err.value)
        with pytest.raises(PromptEncoderError, match="nowhere"):
            PretrainedTokenizer(MINILM)
    finally:
        monkeypatch.delenv(ENCODER_DIR_ENV)
        _load_shape.cache_clear()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[float]]:
    """A tiny model on the pretrained encoder, trained once: (its best folder, losses)."""
    root = tmp_path_factory.mktemp("minilm")
    config = tiny_project.write_project(
        root,
        epochs=4,
        model={"prompt_encoder": MINILM, "dropout": 0.0},
        tokenizer={"number_placeholders": True},
    )
    result = train(TrainOptions(config_path=config, output_dir=root / "out", final_metrics=False))
    return root / "out" / "best", result.history["train_loss"]


def test_a_model_on_the_pretrained_encoder_trains_and_loads(
    trained: tuple[Path, list[float]],
) -> None:
    best, losses = trained
    assert losses[-1] < 0.8 * losses[0], losses
    loaded = load_model(best)
    assert isinstance(loaded.prompt_tokenizer, PretrainedTokenizer)
    assert loaded.model.pretrained is not None
    assert (best / WEIGHTS_FILE).stat().st_size < 2_000_000  # MiniLM is not copied in


def test_training_writes_a_prompt_index_that_answers_new_wording(
    trained: tuple[Path, list[float]],
) -> None:
    best, _ = trained
    index = PromptIndex.load(best)
    assert index is not None and index.placeholders
    assert len(index) == 28 and len(index.programs) == 4  # 4 operations, numbers as placeholders
    generator = Generator.load(best, drafts=False)
    # wording the tiny project never used; the number comes from this prompt
    result = generator.generate("times each value in the array by 7")
    assert result.similarity is not None and result.similarity >= index.threshold
    assert result.valid and "data[id.x] * 7.0" in result.code
    decoded = generator.generate("times each value in the array by 7", use_index=False)
    assert decoded.similarity is None


def test_prepare_builds_the_spelling_postings_before_the_first_answer(
    trained: tuple[Path, list[float]],
) -> None:
    """What the language server does after a model loads, so that the first completion does not
    wait for the postings; the answers are the same either way."""
    best, _ = trained
    prepared = Generator.load(best, drafts=False)
    index = prepared._decoder.index if prepared._decoder else None
    assert index is not None and "spelling" not in index.__dict__
    prepared.prepare()
    assert "spelling" in index.__dict__
    cold = Generator.load(best, drafts=False)
    prompt = "times each value in the array by 7"
    assert prepared.generate(prompt).code == cold.generate(prompt).code
    Generator.load("dummy").prepare()  # the templates have nothing to prepare


def model_copy(trained: tuple[Path, list[float]], tmp_path: Path) -> Path:
    """A copy of the trained model folder that a test may damage."""
    copy = tmp_path / "model"
    shutil.copytree(trained[0], copy)
    return copy


def test_an_index_program_naga_rejects_falls_back_to_decoding(
    trained: tuple[Path, list[float]], tmp_path: Path
) -> None:
    copy = model_copy(trained, tmp_path)
    doc = json.loads((copy / INDEX_PROGRAMS).read_text())
    doc["programs"] = ["fn broken( {" for _ in doc["programs"]]
    (copy / INDEX_PROGRAMS).write_text(json.dumps(doc))
    result = Generator.load(copy, drafts=False).generate(
        "multiply 3 to every element of the buffer"
    )
    assert result.similarity is None  # decoded instead
    assert "broken" not in result.code


def test_a_corrupt_prompt_index_is_a_clear_error(
    trained: tuple[Path, list[float]], tmp_path: Path
) -> None:
    copy = model_copy(trained, tmp_path)
    (copy / INDEX_WEIGHTS).write_bytes(b"not safetensors")
    with pytest.raises(ModelLoadError) as err:
        Generator.load(copy, drafts=False)
    message = str(err.value)
    assert str(copy) in message and "python -m engine.retrieval" in message


def test_spelling_similarity_is_a_cosine_over_character_ngrams() -> None:
    texts = ["add two arrays element by element", "multiply every element by 2", "clear a buffer"]
    index = SpellingIndex(texts)
    same = index.similarities("multiply every element by 2")
    assert int(same.argmax()) == 1 and abs(float(same[1]) - 1.0) < 1e-5
    near = index.similarities("Multiply  each element by 3")  # case and spaces do not matter
    assert int(near.argmax()) == 1 and 0.3 < float(near[1]) < 1.0
    assert float(index.similarities("zzzz qqqq").abs().sum()) == 0.0  # nothing in common


def test_the_index_adapter_draws_prompts_of_one_program_together() -> None:
    torch.manual_seed(0)
    centres = torch.nn.functional.normalize(torch.randn(4, 16), dim=-1)
    labels = torch.arange(4).repeat_interleave(10)
    # prompts of one program share a direction, buried under wording noise
    x = torch.nn.functional.normalize(centres[labels] + 1.5 * torch.randn(40, 16), dim=-1)

    def separation(z: torch.Tensor) -> float:
        z = torch.nn.functional.normalize(z, dim=-1)
        sims = z @ z.T
        same = (labels[:, None] == labels[None, :]) & ~torch.eye(40, dtype=torch.bool)
        other = labels[:, None] != labels[None, :]
        return float(sims[same].mean() - sims[other].mean())

    adapter = fit_adapter(x, labels)
    assert adapter.shape == (16, 16)
    assert separation(x @ adapter) > separation(x) + 0.2
