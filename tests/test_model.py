"""The transformer: cached decoding matches teacher forcing, beams reorder, weights round-trip."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from engine.model import (
    ModelConfig,
    ModelLoadError,
    Packed,
    Seq2SeqTransformer,
    greedy_decode,
    load_weights,
    save_weights,
)


def tiny_model(seed: int = 0, dropout: float = 0.0) -> Seq2SeqTransformer:
    torch.manual_seed(seed)
    cfg = ModelConfig(
        src_vocab_size=40,
        tgt_vocab_size=50,
        d_model=32,
        nhead=4,
        num_layers=2,
        dim_feedforward=64,
        dropout=dropout,
        max_seq_len=32,
    )
    return Seq2SeqTransformer(cfg).eval()


def test_cached_decoding_gives_the_teacher_forced_logits() -> None:
    model = tiny_model()
    src = torch.randint(1, 40, (3, 7))
    src[0, 4:] = 0  # a padded prompt must not change the result of the others
    tgt = torch.randint(1, 50, (3, 10))
    full = model(src, tgt)
    memory = model.encode(src)
    cache = None
    steps = []
    for t in range(tgt.shape[1]):
        logits, cache = model.decode_step(tgt[:, t], memory, cache)
        steps.append(logits)
    torch.testing.assert_close(torch.stack(steps, 1), full, atol=1e-5, rtol=1e-4)


def test_padding_a_prompt_does_not_change_its_output() -> None:
    model = tiny_model()
    src = torch.randint(1, 40, (1, 5))
    padded = torch.cat([src, torch.zeros(1, 4, dtype=torch.long)], dim=1)
    tgt = torch.randint(1, 50, (1, 6))
    torch.testing.assert_close(model(src, tgt), model(padded, tgt), atol=1e-5, rtol=1e-4)


def test_packed_batches_give_each_pair_its_padded_logits_and_gradients() -> None:
    """Pairs of different lengths laid end to end with no padding: the same logits at every
    real position, and the same gradients, as the padded batch (dropout off)."""
    model = tiny_model()
    src_lens, tgt_lens = [5, 2, 7], [9, 4, 1]
    src = torch.zeros(3, 7, dtype=torch.long)
    tgt = torch.zeros(3, 9, dtype=torch.long)
    for row, (s, t) in enumerate(zip(src_lens, tgt_lens, strict=True)):
        src[row, :s] = torch.randint(1, 40, (s,))
        tgt[row, :t] = torch.randint(1, 50, (t,))
    padded = model(src, tgt)
    packed = model.forward_packed(
        torch.cat([src[r, :s] for r, s in enumerate(src_lens)]),
        Packed.of(src_lens),
        torch.cat([tgt[r, :t] for r, t in enumerate(tgt_lens)]),
        Packed.of(tgt_lens),
    )
    real = torch.cat([padded[r, :t] for r, t in enumerate(tgt_lens)])
    assert packed.shape == real.shape == (sum(tgt_lens), 50)
    torch.testing.assert_close(packed, real, atol=1e-5, rtol=1e-4)

    grads = []
    for logits in (real, packed):
        model.zero_grad()
        logits.square().mean().backward(retain_graph=True)
        grads.append([p.grad.clone() for p in model.parameters() if p.grad is not None])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def _residual_run(
    model: Seq2SeqTransformer, packed: bool
) -> tuple[torch.Tensor, set[torch.dtype], list[torch.Tensor]]:
    """Loss under CPU bf16 autocast on a fixed batch of three pairs, padded or packed; the
    dtypes the layer norms read (the residual stream at every block, and the final norms);
    the gradients."""
    gen = torch.Generator().manual_seed(1)
    src_lens, tgt_lens = [5, 2, 7], [9, 4, 1]
    srcs = [torch.randint(1, 40, (n,), generator=gen) for n in src_lens]
    tgts = [torch.randint(1, 50, (n + 1,), generator=gen) for n in tgt_lens]
    seen: set[torch.dtype] = set()
    norms = [m for m in model.modules() if isinstance(m, torch.nn.LayerNorm)]
    hooks = [n.register_forward_pre_hook(lambda _m, args: seen.add(args[0].dtype)) for n in norms]
    model.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        if packed:
            logits = model.forward_packed(
                torch.cat(srcs),
                Packed.of(src_lens),
                torch.cat([t[:-1] for t in tgts]),
                Packed.of(tgt_lens),
            )
            target = torch.cat([t[1:] for t in tgts])
        else:
            src = torch.nn.utils.rnn.pad_sequence(srcs, batch_first=True)
            tgt = torch.nn.utils.rnn.pad_sequence(tgts, batch_first=True)
            logits = model(src, tgt[:, :-1]).flatten(0, 1)
            target = tgt[:, 1:].flatten()
    loss = torch.nn.functional.cross_entropy(logits.float(), target, ignore_index=0)
    loss.backward()  # type: ignore[no-untyped-call]
    for hook in hooks:
        hook.remove()
    grads = [p.grad.clone() for p in model.parameters() if p.grad is not None]
    return loss.detach(), seen, grads


@pytest.mark.parametrize("packed", [False, True], ids=["padded", "packed"])
def test_bf16_residual_stream_under_autocast(packed: bool) -> None:
    """``residual_dtype=bfloat16``: under autocast every layer norm reads a bf16 stream (fp32
    without the option); the loss stays within bf16 rounding of the fp32 stream's and the
    gradients are finite and point the same way."""
    model = tiny_model().train()
    fp32_loss, fp32_seen, fp32_grads = _residual_run(model, packed)
    model.residual_dtype = torch.bfloat16
    bf16_loss, bf16_seen, bf16_grads = _residual_run(model, packed)
    assert fp32_seen == {torch.float32}
    assert bf16_seen == {torch.bfloat16}
    torch.testing.assert_close(bf16_loss, fp32_loss, atol=0.0, rtol=1e-2)
    assert len(bf16_grads) == len(fp32_grads)
    for a, b in zip(bf16_grads, fp32_grads, strict=True):
        assert bool(torch.isfinite(a).all())
        cosine = torch.nn.functional.cosine_similarity(a.flatten(), b.flatten(), dim=0)
        assert float(cosine) > 0.99


def test_bf16_residual_changes_nothing_outside_autocast() -> None:
    """Without autocast (CPU training, generation) the option leaves every result as it was."""
    model = tiny_model()
    src = torch.randint(1, 40, (2, 6))
    tgt = torch.randint(1, 50, (2, 5))
    plain = model(src, tgt)
    memory = model.encode(src)
    step, _ = model.decode_step(tgt[:, 0], memory)
    model.residual_dtype = torch.bfloat16
    assert torch.equal(model(src, tgt), plain)
    assert torch.equal(model.decode_step(tgt[:, 0], model.encode(src))[0], step)


def test_reordered_cache_follows_the_chosen_beams() -> None:
    model = tiny_model()
    src = torch.randint(1, 40, (2, 6))
    tgt = torch.randint(1, 50, (2, 5))
    memory = model.encode(src)
    cache = None
    for t in range(4):
        _, cache = model.decode_step(tgt[:, t], memory, cache)
    assert cache is not None
    swapped = torch.tensor([1, 0])
    logits, _ = model.decode_step(
        tgt[swapped, 4], memory.index_select(swapped), cache.reorder(swapped)
    )
    expected = model(src[swapped], tgt[swapped])[:, 4]
    torch.testing.assert_close(logits, expected, atol=1e-5, rtol=1e-4)


def test_greedy_decode_stops_at_eos_and_respects_the_limit() -> None:
    model = tiny_model()
    src = torch.randint(1, 40, (2, 5))
    out = greedy_decode(model, src, sos_id=2, eos_id=3, max_new_tokens=7)
    assert len(out) == 2
    assert all(len(seq) <= 7 and 3 not in seq for seq in out)


def test_weight_tying_shares_the_decoder_embedding_and_head() -> None:
    model = tiny_model()
    assert model.head.weight.data_ptr() == model.tgt_embed.weight.data_ptr()


def test_weights_round_trip_through_safetensors(tmp_path: Path) -> None:
    model = tiny_model(seed=3)
    path = tmp_path / "model.safetensors"
    save_weights(path, model)
    again = load_weights(path).eval()
    src = torch.randint(1, 40, (2, 5))
    tgt = torch.randint(1, 50, (2, 4))
    torch.testing.assert_close(again(src, tgt), model(src, tgt))
    assert again.head.weight.data_ptr() == again.tgt_embed.weight.data_ptr()


def test_corrupt_weights_are_refused_with_the_path(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    save_weights(path, tiny_model())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match=r"model\.safetensors.*corrupt"):
        load_weights(path)


def test_a_pickle_in_place_of_the_weights_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps({"weight": [1.0, 2.0]}))
    with pytest.raises(ModelLoadError, match="pickled checkpoints are refused"):
        load_weights(path)


def test_head_count_must_divide_the_width() -> None:
    with pytest.raises(ValueError, match="divisible"):
        ModelConfig(src_vocab_size=5, tgt_vocab_size=5, d_model=30, nhead=4)


def test_saved_files_get_the_permissions_of_a_plain_write(tmp_path: Path) -> None:
    """New files get 0o666 less the umask (others on a shared machine can read a model);
    a file written again keeps the mode its owner gave it."""
    import os
    import stat

    from engine.model import atomic_write_bytes

    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "new.json", b"{}")
        kept = tmp_path / "private.json"
        kept.write_bytes(b"{}")
        kept.chmod(0o600)
        atomic_write_bytes(kept, b"[]")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o644
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert kept.read_bytes() == b"[]"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.json", "private.json"]
