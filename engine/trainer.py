"""The training loop: data, forward, loss, backward, clip, step, schedule, eval, checkpoint.

One plain loop that runs the same on a laptop CPU, on one GPU and under
``torchrun --nproc_per_node=N`` (DDP: each rank takes its share of the batches through a
``DistributedSampler``; only rank 0 reports and writes).

Checkpoints live under the output directory:

* ``last/``  – weights (safetensors) + ``trainer_state.pt`` (optimizer, step, epoch, RNG, history:
  tensors/dicts/lists/numbers only, read back with ``torch.load(weights_only=True)``); written every
  ``save_every`` epochs and when the run is interrupted (SIGINT/SIGTERM). ``--resume`` continues
  from it exactly: the next step sees the same batch, dropout mask and learning rate as an
  uninterrupted run.
* ``best/``  – the model with the lowest validation loss (:func:`engine.model.load_model` reads
  it); at the end it also holds ``metrics.json`` and ``loss_curve.png``.

A directory is replaced as a whole: written beside the old one, then swapped by renames.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.metrics import bleu, exact_match
from engine.model import (
    CONFIG_FILE,
    METRICS_FILE,
    WEIGHTS_FILE,
    ModelConfig,
    ModelLoadError,
    Packed,
    Seq2SeqTransformer,
    atomic_write_bytes,
    greedy_decode,
    load_weights,
    save_model,
)
from engine.numbers import delexicalise_code, delexicalise_prompt, relexicalise_code

if TYPE_CHECKING:
    from engine.config import Config
    from engine.dataset import Example
    from engine.tokenizer import PromptTokenizer, Tokenizer

log = logging.getLogger(__name__)

STATE_FILE = "trainer_state.pt"
DDP_STOP_CHECK_EVERY = 8
LOSS_CURVE_FILE = "loss_curve.png"
OUTPUTS_FILE = "greedy_outputs.jsonl"
LAST_DIR = "last"
BEST_DIR = "best"


class TrainError(Exception):
    """A problem the user can fix (missing data, bad config, no CUDA); message says what to do."""


class TrainingInterrupted(Exception):
    """Raised after SIGINT/SIGTERM once the checkpoint is safely written.

    ``checkpoint`` is the resumable checkpoint the run leaves behind: None when it was stopped
    before its first step (nothing was written; a resumed run's checkpoint is kept as it was).
    """

    def __init__(self, checkpoint: Path | None) -> None:
        if checkpoint is None:
            text = "training interrupted before its first step; no checkpoint was written"
        else:
            text = f"training interrupted; checkpoint kept in {checkpoint}"
        super().__init__(text)
        self.checkpoint = checkpoint


# --------------------------------------------------------------------------------------------
# Progress reporting


class Progress(Protocol):
    def start(self, info: dict[str, Any]) -> None: ...
    def step(self, info: dict[str, Any]) -> None: ...
    def epoch(self, epoch: int, train_loss: float, val_loss: float | None) -> None: ...
    def end(self, checkpoint: Path, metrics: dict[str, Any]) -> None: ...
    def interrupted(self, checkpoint: Path | None) -> None: ...
    def error(self, message: str) -> None: ...


class JsonProgress:
    """One JSON object per line on stdout (the contract the language server reads)."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream if stream is not None else sys.stdout

    def _emit(self, obj: dict[str, Any]) -> None:
        self.stream.write(json.dumps(obj) + "\n")
        self.stream.flush()

    def start(self, info: dict[str, Any]) -> None:
        self._emit({"event": "start", **info})

    def step(self, info: dict[str, Any]) -> None:
        self._emit({"event": "step", **info})

    def epoch(self, epoch: int, train_loss: float, val_loss: float | None) -> None:
        self._emit(
            {"event": "epoch", "epoch": epoch, "train_loss": train_loss, "val_loss": val_loss}
        )

    def end(self, checkpoint: Path, metrics: dict[str, Any]) -> None:
        self._emit({"event": "end", "checkpoint": str(checkpoint), "metrics": metrics})

    def interrupted(self, checkpoint: Path | None) -> None:
        self._emit(
            {"event": "interrupted", "checkpoint": None if checkpoint is None else str(checkpoint)}
        )

    def error(self, message: str) -> None:
        self._emit({"event": "error", "message": message})


def _fmt_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class BarProgress:
    """A progress bar on stderr: redrawn in place on a terminal; elsewhere (a log file) one
    line every ``LOG_EVERY_S`` seconds."""

    LOG_EVERY_S = 30.0

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_logged = -math.inf

    def _line(self, text: str, final: bool = False) -> None:
        if self.tty:
            self.stream.write("\r\033[K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def start(self, info: dict[str, Any]) -> None:
        if "workspace_pairs" in info:
            self._line(
                f"added {info['workspace_pairs']} pairs mined from {info['workspace_files']} "
                f".wgsl files under {info['workspace']} ({info['workspace_rejected']} rejected "
                "by naga)",
                True,
            )
        self._line(
            f"training on {info['device']}: {info['train_examples']} pairs, "
            f"{info['num_epochs']} epochs, {info['total_steps']} steps -> {info['output_dir']}",
            True,
        )

    def step(self, info: dict[str, Any]) -> None:
        if not self.tty:
            now = time.monotonic()
            if now - self._last_logged < self.LOG_EVERY_S:
                return
            self._last_logged = now
        width = 24
        done = int(width * info["step"] / max(1, info["total_steps"]))
        bar = "#" * done + "." * (width - done)
        self._line(
            f"[{bar}] epoch {info['epoch']}/{info['num_epochs']} step {info['step']}/"
            f"{info['total_steps']} loss {info['loss']:.4f} {info['tokens_per_s']:.0f} tok/s "
            f"ETA {_fmt_duration(info['eta_s'])}"
        )

    def epoch(self, epoch: int, train_loss: float, val_loss: float | None) -> None:
        val = "n/a" if val_loss is None else f"{val_loss:.4f}"
        self._line(f"epoch {epoch}: train loss {train_loss:.4f}, val loss {val}", True)

    def end(self, checkpoint: Path, metrics: dict[str, Any]) -> None:
        self._line(f"done: the best model is in {checkpoint} (metrics.json beside it)", True)
        for split in ("val", "heldout"):
            if f"{split}_loss" not in metrics:
                continue
            naga = metrics.get(f"{split}_naga_valid_rate")
            self._line(
                f"  {split}: loss {metrics[f'{split}_loss']:.4f}, token accuracy "
                f"{metrics[f'{split}_token_accuracy']:.1%}, exact match "
                f"{metrics[f'{split}_exact_match']:.1%}, BLEU {metrics[f'{split}_bleu']:.3f}, "
                f"naga-valid {'not measured' if naga is None else f'{naga:.1%}'}",
                True,
            )

    def interrupted(self, checkpoint: Path | None) -> None:
        if self.tty:  # end the bar's line; the command prints how to resume
            self.stream.write("\n")
            self.stream.flush()

    def error(self, message: str) -> None:
        self._line(f"error: {message}", True)


class SilentProgress:
    """For non-zero DDP ranks and library use."""

    def start(self, info: dict[str, Any]) -> None:
        pass

    def step(self, info: dict[str, Any]) -> None:
        pass

    def epoch(self, epoch: int, train_loss: float, val_loss: float | None) -> None:
        pass

    def end(self, checkpoint: Path, metrics: dict[str, Any]) -> None:
        pass

    def interrupted(self, checkpoint: Path | None) -> None:
        pass

    def error(self, message: str) -> None:
        pass


# --------------------------------------------------------------------------------------------
# Data: encode, bucket by length, pad to the batch maximum


@dataclass
class EncodedPair:
    src: list[int]
    tgt: list[int]  # sos + code + eos


def encode_examples(
    examples: Sequence[Example], src_tok: PromptTokenizer, tgt_tok: Tokenizer, max_len: int
) -> tuple[list[EncodedPair], int]:
    """Token ids for each pair; returns (pairs, how many had to be truncated to ``max_len``)."""
    pairs: list[EncodedPair] = []
    truncated = 0
    for ex in examples:
        src = src_tok.encode(ex.natural_language)
        code = tgt_tok.encode(ex.wgsl_code)
        if len(src) > max_len or len(code) + 2 > max_len:
            truncated += 1
        tgt = [tgt_tok.sos_id, *code[: max_len - 2], tgt_tok.eos_id]
        pairs.append(EncodedPair(src[:max_len] or [src_tok.unk_id], tgt))
    return pairs, truncated


def model_examples(examples: Sequence[Example], placeholders: bool) -> list[Example]:
    """The pairs as the model sees them: unchanged, or with the prompt's numbers replaced by
    placeholders in prompt and code (:mod:`engine.numbers`)."""
    if not placeholders:
        return list(examples)
    out: list[Example] = []
    for ex in examples:
        numbers = delexicalise_prompt(ex.natural_language)
        code = delexicalise_code(ex.wgsl_code, numbers)
        out.append(dataclasses.replace(ex, natural_language=numbers.prompt, wgsl_code=code))
    return out


def _by_length(pairs: Sequence[EncodedPair]) -> list[int]:
    return sorted(range(len(pairs)), key=lambda i: (len(pairs[i].tgt), len(pairs[i].src), i))


def length_buckets(pairs: Sequence[EncodedPair], batch_size: int) -> list[list[int]]:
    """Batches of indices of similar length (little padding); their order is shuffled per epoch."""
    order = _by_length(pairs)
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def token_buckets(pairs: Sequence[EncodedPair], tokens: int, round_to: int = 1) -> list[list[int]]:
    """Batches of similar length holding at most ``tokens`` padded WGSL positions each (at least
    one pair): short pairs come in large batches, long ones in small, so that every step does
    about the same work and large GPUs are kept busy. ``round_to``: lengths counted as rounded
    up to a multiple of it (for batches padded further)."""
    buckets: list[list[int]] = [[]]
    for i in _by_length(pairs):  # shortest first, so pair i is the longest of its batch
        longest = -(-(len(pairs[i].tgt) - 1) // round_to) * round_to
        if buckets[-1] and (len(buckets[-1]) + 1) * longest > tokens:
            buckets.append([])
        buckets[-1].append(i)
    return [b for b in buckets if b]


def collate(
    pairs: Sequence[EncodedPair], indices: Sequence[int], src_pad: int, tgt_pad: int
) -> tuple[Tensor, Tensor, Tensor]:
    """(src, tgt_in, tgt_out) right-padded to the longest sequence of the batch."""
    chosen = [pairs[i] for i in indices]
    s_len = max(len(p.src) for p in chosen)
    t_len = max(len(p.tgt) for p in chosen) - 1
    src = torch.full((len(chosen), s_len), src_pad, dtype=torch.long)
    tgt_in = torch.full((len(chosen), t_len), tgt_pad, dtype=torch.long)
    tgt_out = torch.full((len(chosen), t_len), tgt_pad, dtype=torch.long)
    for row, p in enumerate(chosen):
        src[row, : len(p.src)] = torch.tensor(p.src)
        tgt_in[row, : len(p.tgt) - 1] = torch.tensor(p.tgt[:-1])
        tgt_out[row, : len(p.tgt) - 1] = torch.tensor(p.tgt[1:])
    return src, tgt_in, tgt_out


def any_padding(pairs: Sequence[EncodedPair], indices: Sequence[int]) -> bool:
    """Whether :func:`collate` pads any prompt of this batch (if not, attention needs no mask)."""
    lengths = {len(pairs[i].src) for i in indices}
    return len(lengths) > 1


def prompt_state_cache(
    model: Seq2SeqTransformer, pairs: Sequence[EncodedPair], src_pad: int, batch_size: int = 64
) -> list[Tensor] | None:
    """Each pair's prompt through the frozen pretrained encoder, once (CPU tensors of shape
    (prompt length, width), in the order of ``pairs``); None where the model has no frozen
    encoder or masks its input in training (``prompt_mask_rate``), so it must run every step.

    The frozen encoder gives the same states every epoch; computing them once takes as long as
    one epoch's share of it (a quarter of the default configuration's CPU step)."""
    if model.pretrained is None or model.cfg.prompt_mask_rate > 0:
        return None
    device = next(model.parameters()).device
    cache: list[Tensor | None] = [None] * len(pairs)
    was_training = model.training
    model.eval()
    for idx in length_buckets(pairs, batch_size):
        src, _, _ = collate(pairs, idx, src_pad, 0)
        states = model.pretrained_states(src.to(device)).float().cpu()
        for row, i in enumerate(idx):
            cache[i] = states[row, : len(pairs[i].src)].clone()
    model.train(was_training)
    return [s for s in cache if s is not None]


def pooled_embeddings(cache: Sequence[Tensor]) -> Tensor:
    """(N, width) unit-length mean of each cached prompt's states: the sentence embeddings of
    :func:`engine.retrieval.sentence_embeddings`, without running the encoder again."""
    pooled = torch.stack([states.mean(0) for states in cache])
    return F.normalize(pooled, dim=-1)


def collate_states(cache: Sequence[Tensor], indices: Sequence[int]) -> Tensor:
    """(B, S, width) cached prompt states of a batch, right-padded as :func:`collate` pads."""
    return torch.nn.utils.rnn.pad_sequence([cache[i] for i in indices], batch_first=True)


def collate_packed(
    pairs: Sequence[EncodedPair], indices: Sequence[int]
) -> tuple[Tensor, Packed, Tensor, Packed, Tensor]:
    """A batch's pairs laid end to end with no padding (``[training] pack``): prompt ids and
    their :class:`Packed` layout, decoder inputs and theirs, and the targets, all 1-D."""
    chosen = [pairs[i] for i in indices]
    src = torch.tensor([t for p in chosen for t in p.src], dtype=torch.long)
    tgt_in = torch.tensor([t for p in chosen for t in p.tgt[:-1]], dtype=torch.long)
    tgt_out = torch.tensor([t for p in chosen for t in p.tgt[1:]], dtype=torch.long)
    src_seqs = Packed.of([len(p.src) for p in chosen])
    tgt_seqs = Packed.of([len(p.tgt) - 1 for p in chosen])
    return src, src_seqs, tgt_in, tgt_seqs, tgt_out


class PackedForward(nn.Module):
    """The model's :meth:`~Seq2SeqTransformer.forward_packed` as a module's ``forward``, so
    that ``torch.compile`` and DistributedDataParallel wrap the packed path as they wrap the
    padded one (DDP synchronises gradients of what its ``forward`` ran)."""

    def __init__(self, model: Seq2SeqTransformer) -> None:
        super().__init__()
        self.model = model

    def forward(self, src: Tensor, src_seqs: Packed, tgt_in: Tensor, tgt_seqs: Packed) -> Tensor:
        return self.model.forward_packed(src, src_seqs, tgt_in, tgt_seqs)


class WithLoss(nn.Module):
    """``model(*inputs)`` (under bf16 autocast when ``bf16``) and its token cross-entropy (pads
    ignored) as one module: ``forward(tgt_out, *inputs)`` returns the loss. Compiled, the loss's
    float upcast, log-softmax and reduction join the model's graph instead of running as
    separate passes over the logits; DistributedDataParallel wraps both."""

    def __init__(self, model: nn.Module, pad_id: int, label_smoothing: float, bf16: bool) -> None:
        super().__init__()
        self.model = model
        self.pad_id = pad_id
        self.label_smoothing = label_smoothing
        self.bf16 = bf16

    def forward(self, tgt_out: Tensor, *inputs: Any) -> Tensor:
        with torch.autocast(tgt_out.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            logits = self.model(*inputs)
        return F.cross_entropy(
            logits.float().reshape(-1, logits.shape[-1]),
            tgt_out.reshape(-1),
            ignore_index=self.pad_id,
            label_smoothing=self.label_smoothing,
        )


def training_step(
    with_loss: nn.Module,
    optimizer: torch.optim.Optimizer,
    inputs: Sequence[Any],
    tgt_out: Tensor,
    *,
    clip: float,
) -> Tensor:
    """Forward and loss (``with_loss(tgt_out, *inputs)``, a :class:`WithLoss`, possibly
    compiled or DDP-wrapped), backward, clip, optimizer step.

    ``inputs``: ``(src, tgt_in, src_padded)`` for padded batches, with the batch's cached
    frozen-encoder output (:func:`prompt_state_cache`) appended where there is one; or
    :func:`collate_packed`'s ``(src, src_seqs, tgt_in, tgt_seqs)`` around a
    :class:`PackedForward`. Returns the loss as a detached device tensor (reading it is the
    caller's choice of sync).
    """
    loss: Tensor = with_loss(tgt_out, *inputs)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()  # type: ignore[no-untyped-call]
    if clip > 0:
        torch.nn.utils.clip_grad_norm_(with_loss.parameters(), clip)
    optimizer.step()
    return loss.detach()


class _BatchList(torch.utils.data.Dataset[list[int]]):
    def __init__(self, batches: list[list[int]]) -> None:
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> list[int]:
        return self.batches[i]


# --------------------------------------------------------------------------------------------
# Schedule, optimizer


def learning_rate(step: int, base_lr: float, warmup: int, total: int, min_ratio: float) -> float:
    """Linear warm-up to ``base_lr`` over ``warmup`` steps, then cosine decay to ``min_ratio``."""
    if warmup > 0 and step < warmup:
        return base_lr * (step + 1) / warmup
    span = max(1, total - warmup)
    progress = min(1.0, (step - warmup) / span)
    return base_lr * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def make_optimizer(
    model: nn.Module, name: str, lr: float, weight_decay: float, fused: bool
) -> torch.optim.Optimizer:
    """Weight decay on matrices only (not biases, norms); ``fused`` kernels on CUDA."""
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.98), fused=fused or None)
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr, betas=(0.9, 0.98), fused=fused or None)
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=0.9)
    raise TrainError(f"unknown optimizer {name!r}; use adamw, adam or sgd")


# --------------------------------------------------------------------------------------------
# Checkpoints


def _swap_in(tmp_dir: Path, final: Path) -> None:
    """Replace directory ``final`` by ``tmp_dir`` with renames (old kept until the new is in)."""
    old = final.with_name(final.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(tmp_dir, final)
    if old.exists():
        shutil.rmtree(old)


def _existing_dir(final: Path) -> Path:
    """``final``, or its ``.old`` twin if a crash happened mid-swap."""
    old = final.with_name(final.name + ".old")
    return old if not final.exists() and old.exists() else final


def write_checkpoint_dir(
    final: Path,
    model: Seq2SeqTransformer,
    src_tok: PromptTokenizer,
    tgt_tok: Tokenizer,
    config_text: str,
    state: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> None:
    tmp = final.with_name(final.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    save_model(tmp, model, src_tok, tgt_tok, config_text, metrics)
    if state is not None:
        import io

        buf = io.BytesIO()
        torch.save(state, buf)
        atomic_write_bytes(tmp / STATE_FILE, buf.getvalue())
    _swap_in(tmp, final)


def read_trainer_state(directory: Path) -> dict[str, Any]:
    """The trainer state of a checkpoint, refusing anything but plain tensors and containers."""
    path = directory / STATE_FILE
    if not path.is_file():
        raise ModelLoadError(f"{path}: missing; there is no checkpoint to resume from")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        import pickle
        import zipfile

        # torch.save always writes a zip archive; anything else is damaged or foreign.
        if zipfile.is_zipfile(path) and isinstance(exc, pickle.UnpicklingError):
            why = "it holds pickled Python objects, which are never loaded"
        else:
            why = "it is corrupt or not a trainer state"
        raise ModelLoadError(
            f"{path}: refused: {why} (only plain tensors and numbers are read); delete "
            f"{directory} and train without --resume"
        ) from None
    if not isinstance(state, dict) or "global_step" not in state:
        raise ModelLoadError(
            f"{path}: not a trainer state; delete {directory} and train without --resume"
        )
    return state


def plot_loss_curve(history: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    epochs = range(1, len(history["train_loss"]) + 1)
    ax.plot(epochs, history["train_loss"], label="train")
    val = [v for v in history["val_loss"] if v is not None]
    if val:
        ax.plot(range(1, len(val) + 1), val, label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss")
    ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    tmp = path.with_name("." + path.name + ".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------
# Metrics


@torch.no_grad()
def evaluate_loss(
    model: nn.Module,
    pairs: Sequence[EncodedPair],
    batches: Sequence[Sequence[int]],
    src_pad: int,
    tgt_pad: int,
    device: torch.device,
    autocast: Callable[[], contextlib.AbstractContextManager[Any]],
    prompt_states: Sequence[Tensor] | None = None,
) -> tuple[float, float, int]:
    """(summed token loss, correct tokens, tokens) over ``batches`` with dropout off;
    ``prompt_states`` is the pairs' :func:`prompt_state_cache`, where there is one."""
    was_training = model.training
    model.eval()
    loss_sum = correct = 0.0
    count = 0
    for idx in batches:
        src, tgt_in, tgt_out = (t.to(device) for t in collate(pairs, idx, src_pad, tgt_pad))
        states = None if prompt_states is None else collate_states(prompt_states, idx).to(device)
        with autocast():
            logits = model(src, tgt_in, True, states)
        logits = logits.float()
        mask = tgt_out != tgt_pad
        loss_sum += float(
            F.cross_entropy(
                logits.flatten(0, 1), tgt_out.flatten(), ignore_index=tgt_pad, reduction="sum"
            )
        )
        correct += float(((logits.argmax(-1) == tgt_out) & mask).sum())
        count += int(mask.sum())
    model.train(was_training)
    return loss_sum, correct, count


def greedy_outputs(
    model: Seq2SeqTransformer,
    pairs: Sequence[EncodedPair],
    tgt_tok: Tokenizer,
    src_pad: int,
    device: torch.device,
    batch_size: int,
) -> list[str]:
    """The greedy decoding of every pair's prompt, as WGSL text, in the order of ``pairs``."""
    outputs: list[str] = [""] * len(pairs)
    for idx in length_buckets(pairs, batch_size):
        src, _, _ = collate(pairs, idx, src_pad, tgt_tok.pad_id)
        decoded = greedy_decode(
            model, src.to(device), tgt_tok.sos_id, tgt_tok.eos_id, model.cfg.max_seq_len - 1
        )
        for i, ids in zip(idx, decoded, strict=True):
            outputs[i] = tgt_tok.decode(ids)
    return outputs


def output_scores(references: Sequence[str], outputs: Sequence[str]) -> dict[str, float]:
    """Exact match and BLEU over WGSL tokens (as ``eval`` scores them: no whitespace/comments)."""
    from engine.evaluate import wgsl_tokens

    refs = [wgsl_tokens(code) for code in references]
    hyps = [wgsl_tokens(code) for code in outputs]
    return {"exact_match": exact_match(refs, hyps), "bleu": bleu(refs, hyps)}


NAGA_NOT_MEASURED = "naga_valid_rate_missing"
"""metrics.json key giving the reason when the naga-valid rate could not be measured."""


def naga_checker() -> tuple[Callable[[str], bool] | None, str | None, Callable[[], None]]:
    """(validate, reason it is unavailable, close). ``validate`` is None when naga cannot run
    here (no ``wgpu`` package, no adapter): the reason says which."""
    import importlib.util

    try:
        found = importlib.util.find_spec("wgpu") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        return None, "the wgpu package is not installed on the training machine", lambda: None
    try:
        from engine.validator import Validator

        validator = Validator()
        probe = validator.validate("@compute @workgroup_size(1) fn main() {}\n")
    except Exception as exc:  # a broken wgpu install must not lose a finished training run
        return None, f"the validator did not start ({exc})", lambda: None
    if not probe.valid:
        reason = probe.diagnostics[0].message if probe.diagnostics else "no adapter"
        validator.close()
        return None, reason, lambda: None
    return (lambda src: validator.validate(src).valid), None, validator.close


def naga_valid(code: str, validate: Callable[[str], bool]) -> bool:
    """naga's verdict; an empty output is a valid module to naga but no answer (as in eval)."""
    return bool(code.strip()) and validate(code)


def fill_naga_metrics(model_dir: Path) -> dict[str, Any]:
    """Measure the naga-valid rate of the greedy outputs saved by a training run.

    A run on a machine without ``wgpu`` records ``*_naga_valid_rate: null`` and keeps the
    outputs in ``greedy_outputs.jsonl``; this validates them here and rewrites
    ``metrics.json``. Returns the updated metrics. Raises :class:`TrainError`.
    """
    model_dir = Path(model_dir)
    outputs_path = model_dir / OUTPUTS_FILE
    metrics_path = model_dir / METRICS_FILE
    if not outputs_path.is_file() or not metrics_path.is_file():
        raise TrainError(
            f"{model_dir}: no {OUTPUTS_FILE} or {METRICS_FILE}; pass the folder a training run "
            "finished in (its best/ folder)"
        )
    try:
        metrics: dict[str, Any] = dict(json.loads(metrics_path.read_text(encoding="utf-8")))
        rows = [json.loads(line) for line in outputs_path.read_text("utf-8").splitlines() if line]
    except (OSError, ValueError) as exc:
        raise TrainError(f"{model_dir}: unreadable metrics or outputs ({exc})") from None
    validate, reason, close = naga_checker()
    if validate is None:
        raise TrainError(f"cannot measure the naga-valid rate here: {reason}")
    try:
        by_split: dict[str, list[bool]] = {}
        for row in rows:
            code = str(row["output"])
            by_split.setdefault(str(row["split"]), []).append(naga_valid(code, validate))
    finally:
        close()
    for split, verdicts in by_split.items():
        metrics[f"{split}_naga_valid_rate"] = sum(verdicts) / max(1, len(verdicts))
    metrics.pop(NAGA_NOT_MEASURED, None)
    text = json.dumps(metrics, indent=2, sort_keys=True) + "\n"
    atomic_write_bytes(metrics_path, text.encode())
    return metrics


# --------------------------------------------------------------------------------------------
# Runtime: device, DDP, signals


@dataclass
class Runtime:
    device: torch.device
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def resolve_device(requested: str) -> torch.device:
    """``cpu``, ``cuda``, ``cuda:N``, ``mps`` or ``auto`` (CUDA when PyTorch sees a GPU)."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cpu":
        return torch.device("cpu")
    if requested == "cuda" or requested.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise TrainError(
                f"device {requested} was asked for but PyTorch {torch.__version__} sees no CUDA "
                "GPU; pass --device cpu (or auto), or install a CUDA build of torch"
            )
        index = requested.partition(":")[2]
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
            raise TrainError(
                f"device {requested}: there are {torch.cuda.device_count()} CUDA devices; "
                "pick one of cuda:0..cuda:N-1"
            )
        return torch.device(requested)
    if requested == "mps":
        if not torch.backends.mps.is_available():
            raise TrainError("device mps was asked for but is not available; pass --device cpu")
        return torch.device("mps")
    raise TrainError(f"unknown device {requested!r}; use cpu, cuda, cuda:N, mps or auto")


def setup_runtime(requested: str) -> Runtime:
    """Single process, or one rank of a ``torchrun`` job (RANK/WORLD_SIZE in the environment)."""
    device = resolve_device(requested)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Runtime(device)
    import torch.distributed as dist

    rank = int(os.environ["RANK"])
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Runtime(device, rank, world, local)


class StopFlag:
    """What SIGINT/SIGTERM do during :func:`train`, which moves through three stages.

    Setting up (config, data, tokenizers, model; ``deferred`` and ``immediate`` both False):
    nothing has been written, so the signal raises KeyboardInterrupt at once and :func:`train`
    reports a stop that kept nothing new. Training (``deferred``): the signal sets ``requested``
    and the loop saves a checkpoint at the next step boundary; a second SIGINT raises
    KeyboardInterrupt at once. Finishing (``immediate``, the checkpoint is written): raise at
    once.
    """

    def __init__(self) -> None:
        self.requested = False
        self.deferred = False
        """Training: a signal only sets ``requested``; the loop saves and stops."""
        self.immediate = False
        """Raise KeyboardInterrupt at once (after training, when there is nothing to save)."""
        self.resumable: Path | None = None
        """The resumable checkpoint a stop leaves now (the one resumed from, or the last save)."""
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        again = self.requested
        self.requested = True
        if self.immediate or not self.deferred or (again and signum == signal.SIGINT):
            raise KeyboardInterrupt
        log.warning("signal %d: saving a checkpoint at the next step boundary", signum)

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopFlag]:
        import threading

        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        try:
            yield self
        finally:
            for prev_sig, handler in self._previous.items():
                signal.signal(prev_sig, handler)


# --------------------------------------------------------------------------------------------
# The run


@dataclass
class TrainOptions:
    config_path: Path
    epochs: int | None = None
    resume: bool = False
    device: str | None = None
    output_dir: Path | None = None
    workspace: Path | None = None
    stop_after_steps: int | None = None
    """Behave as if interrupted after this many optimizer steps in this run (tests, benchmarks)."""
    final_metrics: bool = True
    """Compute generation metrics (greedy decoding + naga) at the end."""


@dataclass
class TrainResult:
    best_dir: Path
    last_dir: Path
    metrics: dict[str, Any]
    history: dict[str, list[Any]] = field(default_factory=dict)
    step_losses: list[float] = field(default_factory=list)


def _load_config(path: Path) -> tuple[Config, str]:
    from engine.config import ConfigError, load_config

    if not path.is_file():
        raise TrainError(f"{path}: config file not found; pass --config with an existing TOML file")
    try:
        return load_config(path), path.read_text(encoding="utf-8")
    except ConfigError as exc:
        raise TrainError(str(exc)) from None


def _load_data(
    cfg: Config, seed: int, workspace: Path | None
) -> tuple[list[Example], list[Example], list[Example], dict[str, Any] | None]:
    """(train, val, held-out, counts of the pairs mined from ``workspace`` or None)."""
    from engine.dataset import load_splits, mine_workspace_pairs_report

    mined: dict[str, Any] | None = None
    train_path = Path(cfg.dataset.train_path)
    if not train_path.exists():
        raise TrainError(
            f"{train_path}: training data not found; set [dataset] train_path in "
            f"{cfg.path or 'the config'} to a TOML file of pairs or a folder of them"
        )
    try:
        splits = load_splits(cfg.dataset, seed)
    except (OSError, ValueError) as exc:
        raise TrainError(f"cannot read the dataset: {exc}") from None
    train = list(splits.train)
    if workspace is not None:
        if not workspace.is_dir():
            raise TrainError(f"{workspace}: --workspace is not a folder")
        report = mine_workspace_pairs_report(workspace)
        train.extend(report.pairs)
        mined = {
            "workspace": str(workspace),
            "workspace_pairs": len(report.pairs),
            "workspace_files": report.files,
            "workspace_rejected": report.skipped_invalid,
        }
    if not train:
        raise TrainError(
            f"{train_path}: the dataset has no training pairs; add [[examples]] with "
            "natural_language and wgsl_code"
        )
    return train, list(splits.val), list(getattr(splits, "heldout", []) or []), mined


def train(options: TrainOptions, progress: Progress | None = None) -> TrainResult:
    """Train per the config; see the module docstring for what is written where.

    SIGINT/SIGTERM (in the main thread) are caught from the start and raise
    :class:`TrainingInterrupted` after ``progress.interrupted``: during training once the loop
    has saved a resumable checkpoint at the next step boundary; before the first step at once,
    with nothing written (see :class:`StopFlag`).
    """
    stop = StopFlag()
    with stop.installed():
        try:
            return _train(options, progress, stop)
        except KeyboardInterrupt:
            if stop.deferred or stop.immediate or not stop.requested:
                raise  # the loop or the final metrics handle their own stops
        # Stopped while setting up: nothing was written.
        if progress is not None and _is_main_process():
            progress.interrupted(stop.resumable)
        raise TrainingInterrupted(stop.resumable)


def _is_main_process() -> bool:
    """Rank 0 of a ``torchrun`` job, or a single process (as :func:`setup_runtime` decides)."""
    return int(os.environ.get("WORLD_SIZE", "1")) <= 1 or int(os.environ.get("RANK", "0")) == 0


def _train(options: TrainOptions, progress: Progress | None, stop: StopFlag) -> TrainResult:
    cfg, config_text = _load_config(options.config_path)
    tcfg, mcfg = cfg.training, cfg.model
    device_name = str(options.device or getattr(tcfg, "device", "auto"))
    try:
        rt = setup_runtime(device_name)
    except TrainError as exc:
        if options.device is None:  # the config asked for it: say where
            raise TrainError(
                f"{options.config_path}: [training] device = {device_name!r}: {exc}"
            ) from None
        raise
    report: Progress = (progress or SilentProgress()) if rt.is_main else SilentProgress()
    seed = int(tcfg.seed)
    num_epochs = int(options.epochs if options.epochs is not None else tcfg.num_epochs)
    if num_epochs < 1:
        raise TrainError(f"--epochs must be at least 1 (got {num_epochs})")
    out_dir = Path(options.output_dir or tcfg.checkpoint_dir)
    last_dir, best_dir = out_dir / LAST_DIR, out_dir / BEST_DIR
    if options.resume and (_existing_dir(last_dir) / STATE_FILE).is_file():
        stop.resumable = _existing_dir(last_dir)  # a stop from here on leaves it as it is

    train_ex, val_ex, heldout_ex, mined = _load_data(cfg, seed, options.workspace)
    placeholders = bool(getattr(cfg.tokenizer, "number_placeholders", False))
    # what the model sees: with placeholders, prompts and code with NUM0... for the numbers
    train_in, val_in, heldout_in = (
        model_examples(examples, placeholders) for examples in (train_ex, val_ex, heldout_ex)
    )
    from engine.tokenizer import (
        Tokenizer,
        build_wgsl_tokenizer,
        load_prompt_tokenizer,
        new_prompt_tokenizer,
    )

    resume_state: dict[str, Any] | None = None
    src_tok: PromptTokenizer
    if options.resume:
        resume_from = _existing_dir(last_dir)
        if not (resume_from / STATE_FILE).is_file():
            raise TrainError(f"{resume_from}: no checkpoint to resume from; train without --resume")
        try:
            resume_state = read_trainer_state(resume_from)
            if options.epochs is None:  # the interrupted run's length keeps its schedule exact
                num_epochs = int(resume_state.get("num_epochs", num_epochs))
            model = load_weights(resume_from / WEIGHTS_FILE)
            src_tok = load_prompt_tokenizer(resume_from / "tokenizer_prompt.json")
            tgt_tok = Tokenizer.load(resume_from / "tokenizer_wgsl.json")
        except ModelLoadError as exc:
            raise TrainError(str(exc)) from None
    else:
        from engine.text_encoder import PromptEncoderError

        encoder_name = str(getattr(mcfg, "prompt_encoder", "") or "")
        try:
            src_tok = new_prompt_tokenizer(
                encoder_name,
                (e.natural_language for e in train_in),
                cfg.tokenizer.min_freq,
                cfg.tokenizer.lowercase,
            )
        except PromptEncoderError as exc:
            raise TrainError(f"{options.config_path}: [model] prompt_encoder: {exc}") from None
        tgt_tok = build_wgsl_tokenizer([e.wgsl_code for e in train_in], cfg.tokenizer.min_freq)
        torch.manual_seed(seed)
        model_cfg = ModelConfig(
            src_vocab_size=src_tok.vocab_size,
            tgt_vocab_size=tgt_tok.vocab_size,
            src_pad_id=src_tok.pad_id,
            tgt_pad_id=tgt_tok.pad_id,
            d_model=mcfg.d_model,
            nhead=mcfg.nhead,
            num_layers=mcfg.num_layers,
            dim_feedforward=mcfg.dim_feedforward,
            dropout=mcfg.dropout,
            max_seq_len=mcfg.max_seq_len,
            tie_weights=getattr(mcfg, "tie_weights", True),
            prompt_encoder=encoder_name,
            prompt_mask_rate=float(getattr(mcfg, "prompt_mask_rate", 0.0)),
        )
        try:
            model = Seq2SeqTransformer(model_cfg)
        except ValueError as exc:
            raise TrainError(f"{options.config_path}: [model] {exc}") from None

    max_len = min(int(cfg.tokenizer.max_length), model.cfg.max_seq_len)
    train_pairs, cut = encode_examples(train_in, src_tok, tgt_tok, max_len)
    val_pairs, _ = encode_examples(val_in, src_tok, tgt_tok, max_len)
    heldout_pairs, _ = encode_examples(heldout_in, src_tok, tgt_tok, max_len)
    if cut:
        log.warning("%d training pairs longer than %d tokens were truncated", cut, max_len)
    batch_size = int(tcfg.batch_size)
    if tcfg.tokens_per_batch:
        train_batches = token_buckets(train_pairs, int(tcfg.tokens_per_batch))
    else:
        train_batches = length_buckets(train_pairs, batch_size)
    val_batches = length_buckets(val_pairs, batch_size)
    sampler: torch.utils.data.DistributedSampler[int] = torch.utils.data.DistributedSampler(
        _BatchList(train_batches),
        num_replicas=rt.world_size,
        rank=rt.rank,
        shuffle=True,
        seed=seed,
        drop_last=False,
    )
    steps_per_epoch = len(sampler)
    total_steps = steps_per_epoch * num_epochs

    model.to(rt.device)
    if rt.device.type == "cuda":  # fp32 matrix products outside autocast may use TF32
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    use_cuda = rt.device.type == "cuda"
    optimizer = make_optimizer(
        model, str(tcfg.optimizer), float(tcfg.learning_rate), float(tcfg.weight_decay), use_cuda
    )
    pack = bool(getattr(tcfg, "pack", False))
    if pack and rt.is_main and not use_cuda:
        log.warning(
            "%s: [training] pack = true on %s runs attention one pair at a time, which is "
            "slower than padded batches there; packing pays on CUDA GPUs",
            options.config_path,
            rt.device.type,
        )
    if getattr(tcfg, "bf16_residual", False):
        if use_cuda:  # the forward runs under bf16 autocast only there
            model.residual_dtype = torch.bfloat16
        elif rt.is_main:
            log.warning(
                "%s: [training] bf16_residual = true has no effect on %s, where training runs "
                "in fp32 without autocast",
                options.config_path,
                rt.device.type,
            )
    train_model: nn.Module = WithLoss(
        PackedForward(model) if pack else model,
        tgt_tok.pad_id,
        float(getattr(tcfg, "label_smoothing", 0.0)),
        bf16=use_cuda,
    )
    if getattr(tcfg, "compile", False):
        # Batches differ in shape from step to step: one graph with symbolic sizes, compiled
        # once, rather than a specialised graph and then a recompile.
        train_model = torch.compile(train_model, dynamic=True)  # type: ignore[assignment]
    if rt.distributed:
        from torch.nn.parallel import DistributedDataParallel

        train_model = DistributedDataParallel(
            train_model, device_ids=[rt.local_rank] if use_cuda else None
        )

    def autocast() -> contextlib.AbstractContextManager[Any]:
        if use_cuda:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    epoch, step_in_epoch, global_step = 0, 0, 0
    best_val, stale_epochs, best_epoch = math.inf, 0, 0
    history: dict[str, list[Any]] = {"train_loss": [], "val_loss": []}
    epoch_loss_sum, epoch_tokens = 0.0, 0
    if resume_state is not None:
        try:
            optimizer.load_state_dict(resume_state["optimizer"])
            epoch = int(resume_state["epoch"])
            step_in_epoch = int(resume_state["step_in_epoch"])
            global_step = int(resume_state["global_step"])
            best_val = float(resume_state["best_val_loss"])
            stale_epochs = int(resume_state["stale_epochs"])
            best_epoch = int(resume_state.get("best_epoch", 0))
            history = {k: list(v) for k, v in resume_state["history"].items()}
            epoch_loss_sum = float(resume_state["epoch_loss_sum"])
            epoch_tokens = int(resume_state["epoch_tokens"])
            torch.set_rng_state(resume_state["rng_cpu"])
            if use_cuda and "rng_cuda" in resume_state:
                torch.cuda.set_rng_state(resume_state["rng_cuda"])
        except (KeyError, ValueError, TypeError, RuntimeError, AttributeError) as exc:
            raise TrainError(
                f"{last_dir / STATE_FILE}: does not match this model or trainer ({exc!r}); "
                f"delete {last_dir} and train without --resume"
            ) from None
        if epoch >= num_epochs:
            raise TrainError(
                f"{last_dir}: this run already finished {epoch} epochs; pass a larger --epochs"
            )

    def trainer_state() -> dict[str, Any]:
        state: dict[str, Any] = {
            "epoch": epoch,
            "step_in_epoch": step_in_epoch,
            "global_step": global_step,
            "num_epochs": num_epochs,
            "seed": seed,
            "optimizer": optimizer.state_dict(),
            "best_val_loss": best_val,
            "best_epoch": best_epoch,
            "stale_epochs": stale_epochs,
            "history": history,
            "epoch_loss_sum": epoch_loss_sum,
            "epoch_tokens": epoch_tokens,
            "rng_cpu": torch.get_rng_state(),
        }
        if use_cuda:
            state["rng_cuda"] = torch.cuda.get_rng_state()
        return state

    def save_last() -> None:
        if rt.is_main:
            write_checkpoint_dir(last_dir, model, src_tok, tgt_tok, config_text, trainer_state())
        stop.resumable = last_dir

    pad_src, pad_tgt = src_tok.pad_id, tgt_tok.pad_id
    clip = float(tcfg.gradient_clip_norm or 0.0)
    warmup = int(tcfg.warmup_steps)
    min_ratio = float(tcfg.min_lr_ratio)
    base_lr = float(tcfg.learning_rate)
    patience = int(tcfg.early_stopping_patience)
    save_every = max(1, int(tcfg.save_every))
    step_losses: list[float] = []
    steps_this_run = 0
    sync_each_step = rt.device.type == "cpu"  # keep every step's loss where reading it is free

    def zero_loss() -> Tensor:
        return torch.zeros((), device=rt.device)

    epoch_loss_dev = zero_loss()
    # The frozen prompt encoder's output, once for the whole run (still setting up: a signal
    # here ends the run at once).
    train_states = prompt_state_cache(model, train_pairs, pad_src)
    val_states = prompt_state_cache(model, val_pairs, pad_src)
    # From here a signal waits for the next step boundary (the loop checks before each step).
    stop.deferred = True
    report.start(
        {
            "total_steps": total_steps,
            "num_epochs": num_epochs,
            "start_epoch": epoch + 1,
            "start_step": global_step,
            "device": str(rt.device),
            "world_size": rt.world_size,
            "output_dir": str(out_dir),
            "train_examples": len(train_pairs),
            "val_examples": len(val_pairs),
            "parameters": model.num_parameters(),
            **(mined or {}),
        }
    )
    run_start = time.perf_counter()
    window_tokens, window_start, last_report = 0, time.perf_counter(), 0.0

    def stop_requested() -> bool:
        wanted = stop.requested or (
            options.stop_after_steps is not None and steps_this_run >= options.stop_after_steps
        )
        if not rt.distributed:
            return wanted
        # All ranks must stop at the same step, so they agree every few steps (an all-reduce
        # is a GPU sync, too costly for every step).
        if steps_this_run % DDP_STOP_CHECK_EVERY != 0:
            return False
        import torch.distributed as dist

        flag = torch.tensor([1 if wanted else 0], device=rt.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item())

    def interrupt() -> None:
        nonlocal epoch_loss_sum, epoch_loss_dev
        if steps_this_run > 0:  # before the first step there is nothing new to keep
            epoch_loss_sum, epoch_loss_dev = epoch_loss_sum + float(epoch_loss_dev), zero_loss()
            save_last()
        report.interrupted(stop.resumable)
        raise TrainingInterrupted(stop.resumable)

    train_model.train()
    while epoch < num_epochs:
        sampler.set_epoch(epoch)
        order = list(sampler)
        for batch_no in order[step_in_epoch:]:
            if stop_requested():
                interrupt()
            idx = train_batches[batch_no]
            lr = learning_rate(global_step, base_lr, warmup, total_steps, min_ratio)
            for group in optimizer.param_groups:
                group["lr"] = lr
            inputs: tuple[Any, ...]
            if pack:
                src, src_seqs, tgt_in, tgt_seqs, tgt_out = collate_packed(train_pairs, idx)
                inputs = (
                    src.to(rt.device, non_blocking=True),
                    src_seqs.to(rt.device),
                    tgt_in.to(rt.device, non_blocking=True),
                    tgt_seqs.to(rt.device),
                )
                tgt_out = tgt_out.to(rt.device, non_blocking=True)
            else:
                src, tgt_in, tgt_out = (
                    t.to(rt.device, non_blocking=True)
                    for t in collate(train_pairs, idx, pad_src, pad_tgt)
                )
                inputs = (src, tgt_in, any_padding(train_pairs, idx))
                if train_states is not None:
                    states = collate_states(train_states, idx)
                    inputs += (states.to(rt.device, non_blocking=True),)
            loss = training_step(train_model, optimizer, inputs, tgt_out, clip=clip)
            tokens = sum(len(train_pairs[i].tgt) - 1 for i in idx)
            if sync_each_step:
                step_losses.append(float(loss))
            # Summed on the device: reading a CUDA loss every step would stall the GPU.
            epoch_loss_dev = epoch_loss_dev + loss * tokens
            epoch_tokens += tokens
            step_in_epoch += 1
            global_step += 1
            steps_this_run += 1
            window_tokens += tokens * rt.world_size
            now = time.perf_counter()
            if now - last_report >= 0.5 or step_in_epoch == steps_per_epoch:
                elapsed = now - run_start
                rate = window_tokens / max(1e-9, now - window_start)
                remaining = (total_steps - global_step) * elapsed / max(1, steps_this_run)
                report.step(
                    {
                        "epoch": epoch + 1,
                        "num_epochs": num_epochs,
                        "step": global_step,
                        "total_steps": total_steps,
                        "loss": float(loss),
                        "lr": lr,
                        "tokens_per_s": rate,
                        "eta_s": remaining,
                    }
                )
                last_report = now
                if now - window_start > 5.0:
                    window_tokens, window_start = 0, now

        # End of epoch: validation loss, best model, early stopping, periodic checkpoint.
        epoch_loss_sum, epoch_loss_dev = epoch_loss_sum + float(epoch_loss_dev), zero_loss()
        train_loss = _all_reduce_mean(epoch_loss_sum, epoch_tokens, rt)
        val_loss: float | None = None
        if val_batches:
            v_sum, _, v_count = evaluate_loss(
                model, val_pairs, val_batches, pad_src, pad_tgt, rt.device, autocast, val_states
            )
            val_loss = v_sum / max(1, v_count)
        history["train_loss"].append(train_loss)
        history["val_loss"].append(val_loss)
        report.epoch(epoch + 1, train_loss, val_loss)
        score = val_loss if val_loss is not None else train_loss
        improved = score < best_val
        if improved:
            best_val, stale_epochs, best_epoch = score, 0, epoch + 1
            if rt.is_main:
                write_checkpoint_dir(best_dir, model, src_tok, tgt_tok, config_text)
        else:
            stale_epochs += 1
        epoch += 1
        step_in_epoch = 0
        epoch_loss_sum, epoch_tokens = 0.0, 0
        early_stop = bool(tcfg.early_stopping) and stale_epochs >= patience
        if epoch % save_every == 0 or epoch == num_epochs or early_stop:
            save_last()
        if early_stop:
            log.info("early stop: no better validation loss for %d epochs", patience)
            break

    metrics: dict[str, Any] = {
        "train_loss": history["train_loss"][-1] if history["train_loss"] else None,
        "best_val_loss": best_val if math.isfinite(best_val) else None,
        "best_epoch": best_epoch,
        "epochs_run": epoch,
        "steps": global_step,
        "parameters": model.num_parameters(),
        "train_examples": len(train_pairs),
        "val_examples": len(val_pairs),
        "heldout_examples": len(heldout_pairs),
        "train_seconds_this_run": round(time.perf_counter() - run_start, 1),
        "device": str(rt.device),
        "world_size": rt.world_size,
        "train_loss_history": history["train_loss"],
        "val_loss_history": history["val_loss"],
    }
    if stop.requested:  # a signal during the last validation: the checkpoint is written
        report.interrupted(last_dir)
        raise TrainingInterrupted(last_dir)
    stop.immediate = True
    try:
        if rt.is_main:
            best = load_weights(_existing_dir(best_dir) / WEIGHTS_FILE, rt.device)
            if options.final_metrics:
                splits = [("val", val_pairs, val_ex), ("heldout", heldout_pairs, heldout_ex)]
                metrics.update(
                    _final_metrics(
                        best,
                        splits,
                        src_tok,
                        tgt_tok,
                        rt,
                        batch_size,
                        best_dir,
                        placeholders=placeholders,
                    )
                )
            metrics_text = json.dumps(metrics, indent=2, sort_keys=True) + "\n"
            atomic_write_bytes(best_dir / METRICS_FILE, metrics_text.encode())
            try:
                plot_loss_curve(history, best_dir / LOSS_CURVE_FILE)
            except ImportError:
                log.warning(
                    "matplotlib is not installed: no %s (the losses are in %s)",
                    LOSS_CURVE_FILE,
                    METRICS_FILE,
                )
            atomic_write_bytes(best_dir / CONFIG_FILE, config_text.encode())
            if best.pretrained is not None:
                from engine.retrieval import PromptIndex

                PromptIndex.build(
                    best,
                    src_tok,
                    [(e.natural_language, e.wgsl_code) for e in train_ex],
                    placeholders,
                    embeddings=pooled_embeddings(train_states) if train_states else None,
                ).save(best_dir)
            report.end(best_dir, metrics)
    except KeyboardInterrupt:
        report.interrupted(last_dir)
        raise TrainingInterrupted(last_dir) from None
    return TrainResult(best_dir, last_dir, metrics, history, step_losses)


def _all_reduce_mean(total: float, count: int, rt: Runtime) -> float:
    if rt.distributed:
        import torch.distributed as dist

        t = torch.tensor([total, float(count)], dtype=torch.float64, device=rt.device)
        dist.all_reduce(t)
        total, count = float(t[0]), int(t[1])
    return total / max(1, count)


def _final_metrics(
    model: Seq2SeqTransformer,
    splits: Sequence[tuple[str, list[EncodedPair], Sequence[Example]]],
    src_tok: PromptTokenizer,
    tgt_tok: Tokenizer,
    rt: Runtime,
    batch_size: int,
    out_dir: Path,
    *,
    placeholders: bool = False,
) -> dict[str, Any]:
    """Loss, token accuracy and greedy-output quality of the best model per split.

    With ``placeholders`` the outputs' number placeholders are written back from each prompt
    before they are scored, so they are the code a user would get.

    The greedy outputs are kept in ``out_dir/greedy_outputs.jsonl`` so that the naga-valid rate
    can be measured later (:func:`fill_naga_metrics`) where naga cannot run now.
    """
    out: dict[str, Any] = {}
    validate, reason, close = naga_checker()
    rows: list[str] = []
    model.eval()
    try:
        for name, pairs, examples in splits:
            if not pairs:
                continue
            batches = length_buckets(pairs, batch_size)
            loss_sum, correct, count = evaluate_loss(
                model,
                pairs,
                batches,
                src_tok.pad_id,
                tgt_tok.pad_id,
                rt.device,
                contextlib.nullcontext,
            )
            out[f"{name}_loss"] = loss_sum / max(1, count)
            out[f"{name}_token_accuracy"] = correct / max(1, count)
            outputs = greedy_outputs(model, pairs, tgt_tok, src_tok.pad_id, rt.device, batch_size)
            if placeholders:
                outputs = [
                    relexicalise_code(code, delexicalise_prompt(e.natural_language))
                    for code, e in zip(outputs, examples, strict=True)
                ]
            references = [e.wgsl_code for e in examples]
            for key, value in output_scores(references, outputs).items():
                out[f"{name}_{key}"] = value
            out[f"{name}_naga_valid_rate"] = (
                None
                if validate is None
                else sum(naga_valid(code, validate) for code in outputs) / max(1, len(outputs))
            )
            for example, code in zip(examples, outputs, strict=True):
                row = {"split": name, "prompt": example.natural_language, "output": code}
                rows.append(json.dumps(row))
    finally:
        close()
    if validate is None:
        out[NAGA_NOT_MEASURED] = (
            f"{reason}; measure it on a machine with wgpu: python -m engine.trainer "
            f"naga-metrics {out_dir}"
        )
    atomic_write_bytes(out_dir / OUTPUTS_FILE, "".join(r + "\n" for r in rows).encode())
    return out


# --------------------------------------------------------------------------------------------
# The `train` command


EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def run_from_cli(
    config_path: Path,
    *,
    epochs: int | None = None,
    resume: bool = False,
    device: str | None = None,
    progress: str = "bar",
    output: Path | None = None,
    workspace: Path | None = None,
) -> int:
    """Run :func:`train` for the ``train`` command; returns the exit code (0, 2 or 130).

    User errors become one ``error: ...`` line on stderr (and an ``error`` event with
    ``--progress json``), never a traceback.
    """
    rank = int(os.environ.get("RANK", "0"))
    reporter: Progress
    if rank != 0:
        reporter = SilentProgress()
    elif progress == "json":
        reporter = JsonProgress()
    else:
        reporter = BarProgress()
    options = TrainOptions(
        config_path=config_path,
        epochs=epochs,
        resume=resume,
        device=device,
        output_dir=output,
        workspace=workspace,
    )
    try:
        train(options, reporter)
    except (TrainError, ModelLoadError) as exc:
        reporter.error(str(exc))
        if not isinstance(reporter, BarProgress):
            print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except TrainingInterrupted as exc:
        again = f"tiny-agent-trainer train --config {config_path}"
        if output is not None:
            again += f" --output {output}"
        if workspace is not None:
            again += f" --workspace {workspace}"
        if rank == 0 and exc.checkpoint is None:
            print(
                "interrupted before the first training step: no checkpoint was written",
                file=sys.stderr,
            )
        elif rank == 0:
            print(
                f"interrupted: a resumable checkpoint is in {exc.checkpoint}; continue with "
                f"`{again} --resume`",
                file=sys.stderr,
            )
        return EXIT_INTERRUPTED
    finally:
        _shutdown_distributed()
    return EXIT_OK


def _shutdown_distributed() -> None:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m engine.trainer naga-metrics DIR``: fill in a run's naga-valid rate."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] != "naga-metrics":
        print("usage: python -m engine.trainer naga-metrics MODEL_DIR", file=sys.stderr)
        return EXIT_USAGE
    try:
        metrics = fill_naga_metrics(Path(args[1]))
    except TrainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    rates = {k: v for k, v in metrics.items() if k.endswith("naga_valid_rate")}
    print(f"updated {Path(args[1]) / METRICS_FILE}: {json.dumps(rates)}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
