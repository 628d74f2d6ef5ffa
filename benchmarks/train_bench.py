"""Training throughput: tokens/s (and step time) on CPU; tokens/s and MFU on CUDA GPUs.

Every row times the trainer's own step (:func:`engine.trainer.training_step`: forward, masked
cross-entropy, backward, gradient clipping, AdamW) and is compared with the first row of the
same run.

    python benchmarks/train_bench.py                      # default config on CPU, 1 and 2 threads
    python benchmarks/train_bench.py --device cuda        # config/gpu.toml, bf16, eager vs compiled
    torchrun --nproc_per_node=2 benchmarks/train_bench.py --device cuda --ddp   # DDP scaling

Batches are the real training pairs, tokenised and bucketed by length as the trainer does
(needs the ``regex`` package), or with ``--synthetic`` random tokens of a fixed, realistic shape
(the mean lengths of ``data/train``), which needs nothing beyond torch: use it where only torch
and safetensors are installed.

MFU (model FLOPs utilisation) = model FLOPs per second / the chip's dense bf16 peak
(``--peak-tflops``, 989 for an H100 SXM; the H200 has the same compute). Model FLOPs per step
are 3 x the forward FLOPs (backward costs twice the forward), i.e. the usual 6 x N per token
with N counted where each token meets it: prompt tokens pass the encoder's weights and the
cross-attention key/value projections, WGSL tokens the decoder's weights and the output head;
plus the attention products (QK^T and AV; causal self-attention counted at half). Embedding
look-ups, norms and the optimizer are not counted, nor is a frozen pretrained prompt encoder
(``[model] prompt_encoder``): as in the trainer, its output is computed once per prompt before
timing and reused, so it is not in the step time either. The count is over each pair's real
lengths (pads excluded): ``TFLOP/s`` and ``MFU`` are useful work.
Where batches are padded (``--pad-tgt``, ``--pad-src``, ``--pad-vocab``), ``pMFU`` counts the
padded shapes too, i.e. what the chip did.

Throughput options (CUDA): ``--batch`` or ``--tokens-per-batch`` (pairs grouped by length until
the padded WGSL tokens reach the budget, as ``[training] tokens_per_batch`` does in the trainer),
``--pad-tgt``/``--pad-src`` (lengths rounded up to a multiple, so a compiled step sees a few
shapes), ``--compile-mode``, ``--dynamic``, ``--regional`` (compile each encoder and decoder
block instead of the whole model: a shorter compile), ``--pack`` (the pairs of a batch laid end
to end with no padding, as ``[training] pack`` does; ``--attn`` picks the packed attention kernel,
by default as the trainer does: engine/short_attention.py's on CUDA with triton;
``--fixed-blocks`` keeps that kernel's 64-row blocks for short sequences too; ``--head-views``
passes it q/k/v head views, whose gradients the backward pass concatenates, instead of the
projections' rows; ``--attn-blocks`` sets its blocks per kernel). Prototypes of trainer
changes, measured here only: ``--pad-vocab`` (the output head rounded up to a multiple of N
rows), ``--dropout`` (the model's dropout instead of the config's), ``--no-cudnn-sdp`` and
``--sdpa`` (eager steps with one attention backend). ``--bf16-residual`` keeps the residual
stream in bf16 under autocast, as ``[training] bf16_residual`` does. ``--profile FILE`` writes
a torch.profiler table of one step.
``benchmarks/train_mfu_sweep.py`` runs many such settings in one process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import engine.model  # noqa: E402
from engine import short_attention  # noqa: E402
from engine.model import ModelConfig, Packed, Seq2SeqTransformer  # noqa: E402
from engine.trainer import PackedForward, WithLoss, make_optimizer, training_step  # noqa: E402

H100_BF16_DENSE_TFLOPS = 989.0
Blocks = short_attention.Blocks
# short_attention's blocks as the module sets them (rows may set others: --attn-blocks)
DEFAULT_BLOCKS = (short_attention.FORWARD, short_attention.BACKWARD, short_attention.BACKWARD_DKDV)
# Measured on data/train with config/wgsl_generation.toml's tokenizers (2026-11-29): 6,770
# training pairs, prompts 13.5 tokens on average, WGSL 118.4 (with <sos>), vocabularies
# 2,959 prompt / 927 WGSL tokens. --synthetic batches use these shapes.
SYNTHETIC_SRC_LEN = 14
SYNTHETIC_TGT_LEN = 118
SYNTHETIC_SRC_VOCAB = 2959
SYNTHETIC_TGT_VOCAB = 927
COMPILE_MODES = ["default", "reduce-overhead", "max-autotune-no-cudagraphs"]


@dataclass
class Batch:
    src: torch.Tensor
    tgt_in: torch.Tensor
    tgt_out: torch.Tensor
    src_padded: bool
    src_lens: tuple[int, ...]  # real prompt lengths (pads excluded)
    tgt_lens: tuple[int, ...]  # real WGSL lengths: tokens predicted per pair
    # --pack: src, tgt_in and tgt_out are 1-D, the pairs laid end to end as these say
    packed: tuple[Packed, Packed] | None = None

    @property
    def tokens(self) -> int:
        """WGSL tokens predicted (pads excluded): what tokens/s counts. Known on the host, so
        counting it costs no device sync."""
        return sum(self.tgt_lens)

    @property
    def pairs(self) -> int:
        return len(self.tgt_lens)

    def to(self, device: torch.device) -> Batch:
        return Batch(
            self.src.to(device),
            self.tgt_in.to(device),
            self.tgt_out.to(device),
            self.src_padded,
            self.src_lens,
            self.tgt_lens,
            None if self.packed is None else (self.packed[0].to(device), self.packed[1].to(device)),
        )


@dataclass
class Workload:
    cfg: ModelConfig
    batches: list[Batch]
    epoch_tokens: int | None  # WGSL tokens in one epoch of the real data (for estimates)
    description: str


def model_config(config: dict[str, Any], src_vocab: int, tgt_vocab: int) -> ModelConfig:
    m = config["model"]
    return ModelConfig(
        src_vocab_size=src_vocab,
        tgt_vocab_size=tgt_vocab,
        d_model=m["d_model"],
        nhead=m["nhead"],
        num_layers=m["num_layers"],
        dim_feedforward=m.get("dim_feedforward", 2048),
        dropout=m.get("dropout", 0.1),
        max_seq_len=m.get("max_seq_len", 512),
        tie_weights=m.get("tie_weights", True),
        prompt_encoder=m.get("prompt_encoder", ""),
    )


def round_up(n: int, multiple: int) -> int:
    return n if multiple <= 1 else -(-n // multiple) * multiple


def synthetic_workload(config: dict[str, Any], args: argparse.Namespace) -> Workload:
    cfg = model_config(config, SYNTHETIC_SRC_VOCAB, SYNTHETIC_TGT_VOCAB)
    g = torch.Generator().manual_seed(0)
    batches = []
    for _ in range(4):
        src = torch.randint(4, cfg.src_vocab_size, (args.batch, args.src_len), generator=g)
        tgt = torch.randint(4, cfg.tgt_vocab_size, (args.batch, args.tgt_len + 1), generator=g)
        lens = ((args.src_len,) * args.batch, (args.tgt_len,) * args.batch)
        batches.append(Batch(src, tgt[:, :-1].contiguous(), tgt[:, 1:].contiguous(), False, *lens))
    text = f"synthetic batches of {args.batch} x (prompt {args.src_len}, WGSL {args.tgt_len})"
    return Workload(cfg, batches, None, text)


@dataclass
class RealData:
    """The tokenised training pairs of a config (loaded once, batched many ways)."""

    pairs: list[Any]
    src_vocab: int
    tgt_vocab: int
    src_pad: int
    tgt_pad: int
    train_size: int


def load_real_data(config_path: Path) -> RealData:
    from engine.config import load_config
    from engine.dataset import load_splits
    from engine.tokenizer import build_wgsl_tokenizer, new_prompt_tokenizer
    from engine.trainer import encode_examples

    full = load_config(config_path)
    splits = load_splits(full.dataset, full.training.seed)
    train = splits.train
    src_tok = new_prompt_tokenizer(
        full.model.prompt_encoder,
        (e.natural_language for e in train),
        full.tokenizer.min_freq,
        full.tokenizer.lowercase,
    )
    tgt_tok = build_wgsl_tokenizer([e.wgsl_code for e in train], full.tokenizer.min_freq)
    max_len = min(full.tokenizer.max_length, int(full.model.max_seq_len))
    pairs, _ = encode_examples(train, src_tok, tgt_tok, max_len)
    return RealData(
        pairs, src_tok.vocab_size, tgt_tok.vocab_size, src_tok.pad_id, tgt_tok.pad_id, len(train)
    )


def make_batch(
    data: RealData, idx: list[int], pad_src: int, pad_tgt: int, pack: bool = False
) -> Batch:
    """The trainer's collate, then lengths rounded up to multiples of ``pad_src``/``pad_tgt``;
    or with ``pack`` the pairs laid end to end with no padding."""
    from engine.trainer import any_padding, collate

    if pack:
        chosen = [data.pairs[i] for i in idx]
        src_lens = tuple(len(p.src) for p in chosen)
        tgt_lens = tuple(len(p.tgt) - 1 for p in chosen)
        return Batch(
            torch.tensor([t for p in chosen for t in p.src]),
            torch.tensor([t for p in chosen for t in p.tgt[:-1]]),
            torch.tensor([t for p in chosen for t in p.tgt[1:]]),
            False,
            src_lens,
            tgt_lens,
            (Packed.of(list(src_lens)), Packed.of(list(tgt_lens))),
        )
    src, tgt_in, tgt_out = collate(data.pairs, idx, data.src_pad, data.tgt_pad)
    s_extra = round_up(src.shape[1], pad_src) - src.shape[1]
    t_extra = round_up(tgt_in.shape[1], pad_tgt) - tgt_in.shape[1]
    src = torch.nn.functional.pad(src, (0, s_extra), value=data.src_pad)
    tgt_in = torch.nn.functional.pad(tgt_in, (0, t_extra), value=data.tgt_pad)
    tgt_out = torch.nn.functional.pad(tgt_out, (0, t_extra), value=data.tgt_pad)
    src_padded = any_padding(data.pairs, idx) or s_extra > 0
    src_lens = tuple(len(data.pairs[i].src) for i in idx)
    tgt_lens = tuple(len(data.pairs[i].tgt) - 1 for i in idx)
    return Batch(src, tgt_in, tgt_out, src_padded, src_lens, tgt_lens)


def real_workload(
    config: dict[str, Any], args: argparse.Namespace, data: RealData | None = None
) -> Workload:
    """The trainer's own batches: tokenised pairs, bucketed by length, a random sample of at most
    ``--max-batches`` (32) of one epoch's batches."""
    from engine.trainer import length_buckets, token_buckets

    data = data or load_real_data(Path(args.config_path))
    cfg = model_config(config, data.src_vocab, data.tgt_vocab)
    if args.tokens_per_batch:
        buckets = token_buckets(data.pairs, args.tokens_per_batch, args.pad_tgt)
        size = f"about {args.tokens_per_batch:,} WGSL positions"
    else:
        buckets = length_buckets(data.pairs, args.batch)
        size = f"{args.batch} pairs"
    chosen = random.Random(0).sample(buckets, min(len(buckets), args.max_batches))
    batches = [make_batch(data, idx, args.pad_src, args.pad_tgt, args.pack) for idx in chosen]
    epoch_tokens = sum(len(p.tgt) - 1 for p in data.pairs)
    pads = ""
    if args.pack:
        pads = ", packed (no padding)"
    elif args.pad_tgt > 1 or args.pad_src > 1:
        pads = f", lengths padded to multiples of {args.pad_src} (prompt) / {args.pad_tgt} (WGSL)"
    text = (
        f"real batches of {size} ({len(chosen)} of an epoch's {len(buckets)}{pads}) from "
        f"{data.train_size} training pairs ({epoch_tokens:,} WGSL tokens an epoch)"
    )
    return Workload(cfg, batches, epoch_tokens, text)


def forward_flops(cfg: ModelConfig, batch: Batch, padded: bool = False, vocab: int = 0) -> float:
    """Forward FLOPs of one batch (see the module docstring for what is counted).

    By default over each pair's real lengths with the real vocabulary ``vocab`` (default the
    model's): useful work. ``padded=True`` counts the tensors' padded shapes and the model's
    (possibly rounded-up) head: the work the chip did.
    """
    d, ff, n = cfg.d_model, cfg.dim_feedforward, cfg.num_layers
    v = cfg.tgt_vocab_size if padded or not vocab else vocab
    enc_per_token = n * (4 * d * d + 2 * d * ff)
    dec_per_token = n * (4 * d * d + 2 * d * d + 2 * d * ff) + d * v
    cross_kv_per_src_token = n * 2 * d * d
    if padded and batch.packed is None:
        b, s = batch.src.shape
        t = batch.tgt_in.shape[1]
        lengths = [(s, t)] * b
    else:
        lengths = list(zip(batch.src_lens, batch.tgt_lens, strict=True))
    total = 0.0
    for s, t in lengths:
        matmul = 2 * (s * (enc_per_token + cross_kv_per_src_token) + t * dec_per_token)
        attention = n * (4 * s * s * d + 4 * t * t * d / 2 + 4 * t * s * d)
        total += matmul + attention
    return total


@dataclass
class StepOptions:
    """How a step runs: compilation, and the prototypes of trainer changes."""

    compile_mode: str | None = None  # None: eager; else a torch.compile mode
    dynamic: bool | None = None  # torch.compile's dynamic (None: automatic)
    pad_vocab: int = 1  # prototype: the model's WGSL vocabulary rounded up to a multiple
    no_cudnn_sdp: bool = False  # keep SDPA off its cuDNN backend
    bf16: bool = True
    dropout: float | None = None  # prototype: the model's dropout instead of the config's
    regional: bool = False  # compile each encoder/decoder block, not the whole model
    sdpa: str = "auto"  # SDPA backend: auto, or only math / efficient / cudnn
    attn: str = "auto"  # packed steps' attention kernel (engine.model.PACKED_ATTENTION)
    fixed_blocks: bool = False  # short_attention without blocks fitted to short sequences
    head_views: bool = False  # packed attention on q/k/v head views, not the projections' rows
    attn_blocks: str = ""  # short_attention's blocks per pass (parse_blocks); "": its defaults
    bf16_residual: bool = False  # the residual stream in bf16 under autocast


def time_steps(
    work: Workload,
    device: torch.device,
    *,
    compile_model: bool = False,
    bf16: bool = True,
    warmup: int,
    steps: int,
    ddp: bool = False,
    options: StepOptions | None = None,
    profile: Path | None = None,
) -> dict[str, Any]:
    opts = options or StepOptions(compile_mode="default" if compile_model else None, bf16=bf16)
    if opts.sdpa != "auto" and opts.compile_mode is not None:
        # measured: a compiled graph keeps the backend it picked (cuDNN) whatever the context
        raise ValueError("--sdpa chooses the attention backend of eager steps only")
    if opts.compile_mode is not None:
        torch._dynamo.reset()  # a fresh cache per row: no recompile limit carried over
    torch.backends.cuda.enable_cudnn_sdp(not opts.no_cudnn_sdp)
    engine.model.PACKED_ATTENTION = opts.attn
    short_attention.ADAPT_BLOCKS = not opts.fixed_blocks
    engine.model.PACKED_ROWS = not opts.head_views
    chosen = parse_blocks(opts.attn_blocks) if opts.attn_blocks else DEFAULT_BLOCKS
    short_attention.FORWARD, short_attention.BACKWARD, short_attention.BACKWARD_DKDV = chosen
    torch.manual_seed(0)
    cfg = work.cfg
    if opts.pad_vocab > 1:
        cfg = replace(cfg, tgt_vocab_size=round_up(cfg.tgt_vocab_size, opts.pad_vocab))
    if opts.dropout is not None:
        cfg = replace(cfg, dropout=opts.dropout)
    model = Seq2SeqTransformer(cfg, torch.bfloat16 if opts.bf16_residual else None).to(device)
    optimizer = make_optimizer(model, "adamw", 3e-4, 0.01, fused=device.type == "cuda")
    compile_kwargs: dict[str, Any] = {}
    if opts.compile_mode is not None:
        compile_kwargs = {"dynamic": opts.dynamic}
        if opts.compile_mode != "default":
            compile_kwargs["mode"] = opts.compile_mode
    if opts.compile_mode is not None and opts.regional:
        # Regional compilation: the blocks of a stack share one compiled graph (their
        # parameters are graph inputs), so the compile costs about one block per stack.
        for block in [*model.encoder, *model.decoder]:
            block.compile(**compile_kwargs)
    # The trainer's step: forward and loss as one module (engine.trainer.WithLoss), padded or
    # packed, compiled as a whole unless its blocks are (regional).
    padded_step: torch.nn.Module = WithLoss(model, 0, 0.0, opts.bf16)
    packed_step: torch.nn.Module = WithLoss(PackedForward(model), 0, 0.0, opts.bf16)
    if opts.compile_mode is not None and not opts.regional:
        padded_step = torch.compile(padded_step, **compile_kwargs)  # type: ignore[assignment]
        packed_step = torch.compile(packed_step, **compile_kwargs)  # type: ignore[assignment]
    if ddp:
        from torch.nn.parallel import DistributedDataParallel

        padded_step = DistributedDataParallel(padded_step, device_ids=[device.index])
        packed_step = DistributedDataParallel(packed_step, device_ids=[device.index])
    batches = [b.to(device) for b in work.batches]
    # As the trainer does: a frozen pretrained prompt encoder runs once per prompt before
    # training (untimed here), not in every step.
    states_of = {}
    if model.pretrained is not None:
        states_of = {id(b): model.pretrained_states(b.src) for b in batches}
    cudagraphs = opts.compile_mode == "reduce-overhead"

    def step(batch: Batch) -> torch.Tensor:
        if cudagraphs:
            torch.compiler.cudagraph_mark_step_begin()  # type: ignore[no-untyped-call]
        inputs: tuple[Any, ...]
        if batch.packed is not None:
            src_seqs, tgt_seqs = batch.packed
            inputs = (batch.src, src_seqs, batch.tgt_in, tgt_seqs)
            return training_step(packed_step, optimizer, inputs, batch.tgt_out, clip=1.0)
        inputs = (batch.src, batch.tgt_in, batch.src_padded)
        if id(batch) in states_of:
            inputs += (states_of[id(batch)],)
        with sdpa_backend(opts.sdpa):
            return training_step(padded_step, optimizer, inputs, batch.tgt_out, clip=1.0)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    t0 = time.perf_counter()
    for i in range(warmup):
        step(batches[i % len(batches)])
    sync()
    warmup_s = time.perf_counter() - t0
    if profile is not None:
        profile_step(lambda: step(batches[0]), sync, profile)
    tokens = flops = padded_flops = 0.0
    real_vocab = work.cfg.tgt_vocab_size
    for i in range(steps):  # FLOPs counted on the host before timing: no syncs inside
        batch = batches[i % len(batches)]
        tokens += batch.tokens
        flops += 3 * forward_flops(cfg, batch, vocab=real_vocab)
        padded_flops += 3 * forward_flops(cfg, batch, padded=True)
    t0 = time.perf_counter()
    for i in range(steps):
        loss = step(batches[i % len(batches)])
    sync()
    elapsed = time.perf_counter() - t0
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "step_ms": elapsed / steps * 1e3,
        "tokens_per_s": tokens / elapsed,
        "tflops": flops / elapsed / 1e12,
        "padded_tflops": padded_flops / elapsed / 1e12,
        "warmup_s": warmup_s,
        "final_loss": float(loss),
        "peak_mem_gib": torch.cuda.max_memory_allocated(device) / 2**30
        if device.type == "cuda"
        else 0.0,
    }


def sdpa_backend(name: str) -> contextlib.AbstractContextManager[Any]:
    """SDPA limited to one backend (``auto``: PyTorch's own choice)."""
    if name == "auto":
        return contextlib.nullcontext()
    from torch.nn.attention import SDPBackend, sdpa_kernel

    backend = {
        "math": SDPBackend.MATH,
        "efficient": SDPBackend.EFFICIENT_ATTENTION,
        "cudnn": SDPBackend.CUDNN_ATTENTION,
    }[name]
    return sdpa_kernel([backend])


def profile_step(run: Any, sync: Any, path: Path) -> None:
    """One step under torch.profiler: the top operators by device time, then by host time."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU]
    if torch.cuda.is_available():
        activities.append(ProfilerActivity.CUDA)
    t0 = time.perf_counter()
    with profile(activities=activities) as prof:
        run()
        sync()
    wall = (time.perf_counter() - t0) * 1e3
    events = prof.key_averages()
    device_key = "self_device_time_total" if torch.cuda.is_available() else "self_cpu_time_total"
    launch_calls = ("cudaLaunchKernel", "cuLaunchKernel", "cuLaunchKernelEx")
    launches = sum(e.count for e in events if e.key in launch_calls)
    text = (
        f"one step under the profiler: {wall:.1f} ms wall, {launches} kernel launches (each "
        f"table's last lines: host and device time)\n\n"
        f"{events.table(sort_by=device_key, row_limit=30, max_name_column_width=60)}\n\n"
        f"{events.table(sort_by='self_cpu_time_total', row_limit=30, max_name_column_width=60)}\n"
    )
    path.write_text(text, encoding="utf-8")


def print_table(rows: list[dict[str, Any]], mfu: bool = False) -> None:
    """One line per row; ``ratio`` is tokens/s against the first row. With ``mfu``: useful
    TFLOP/s and MFU (pads excluded), and pMFU counting the padded shapes."""
    base = rows[0]["tokens_per_s"]
    width = max(36, *(len(r["name"]) for r in rows))
    head = f"{'run':<{width}} {'params':>8} {'step ms':>9} {'tokens/s':>11} {'ratio':>6}"
    if mfu:
        head += f" {'TFLOP/s':>8} {'MFU':>6} {'pMFU':>6}"
    print(head)
    for r in rows:
        line = (
            f"{r['name']:<{width}} {r['params'] / 1e6:>7.1f}M {r['step_ms']:>9.1f} "
            f"{r['tokens_per_s']:>11,.0f} {r['tokens_per_s'] / base:>6.2f}"
        )
        if mfu:
            line += f" {r['tflops']:>8.1f} {r['mfu']:>6.1%} {r['padded_mfu']:>6.1%}"
        print(line)


def run_cpu(
    work: Workload, config: dict[str, Any], args: argparse.Namespace
) -> list[dict[str, Any]]:
    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        r = time_steps(
            work,
            torch.device("cpu"),
            warmup=2,
            steps=args.steps,
            options=StepOptions(bf16=False, pad_vocab=args.pad_vocab),
        )
        rows.append({"name": f"cpu fp32, {threads} thread(s)", **r})
    print(f"{args.config}: {work.description}; torch {torch.__version__}")
    print_table(rows)
    if work.epoch_tokens:
        epochs = int(config["training"]["num_epochs"])
        best = max(r["tokens_per_s"] for r in rows)
        minutes = epochs * work.epoch_tokens / best / 60
        print(
            f"estimate: {epochs} epochs x {work.epoch_tokens:,} tokens at {best:,.0f} tokens/s = "
            f"{minutes:.0f} min of training steps (validation and final metrics not included)"
        )
    return rows


def parse_blocks(spec: str) -> tuple[Blocks, Blocks, Blocks]:
    """``--attn-blocks``: the forward, dQ and dK/dV kernels' blocks, comma-separated, each
    ``MxN``, ``MxNwW`` or ``MxNwWsS`` (query rows, key rows, warps, stages; 4 warps and 2 stages
    unless given), e.g. ``64x64,64x64,64x64``."""
    parts = spec.split(",")
    if len(parts) != 3:
        raise ValueError(f"--attn-blocks takes three settings (forward, dQ, dK/dV): {spec!r}")
    found = []
    for part in parts:
        match = re.fullmatch(r"(\d+)x(\d+)(?:w(\d+))?(?:s(\d+))?", part.strip())
        if match is None:
            raise ValueError(f"--attn-blocks: {part!r} is not MxN[wW][sS], e.g. 64x32w4s2")
        m, n, warps, stages = match.groups()
        found.append(Blocks(int(m), int(n), int(warps or 4), int(stages or 2)))
    return found[0], found[1], found[2]


def step_options(args: argparse.Namespace, compiled: bool) -> StepOptions:
    return StepOptions(
        compile_mode=args.compile_mode if compiled else None,
        dynamic={"auto": None, "true": True, "false": False}[args.dynamic],
        pad_vocab=args.pad_vocab,
        no_cudnn_sdp=args.no_cudnn_sdp,
        dropout=args.dropout,
        regional=args.regional,
        sdpa=args.sdpa,
        attn=args.attn,
        fixed_blocks=args.fixed_blocks,
        head_views=args.head_views,
        attn_blocks=args.attn_blocks,
        bf16_residual=args.bf16_residual,
    )


def warmup_steps(args: argparse.Namespace, work: Workload) -> int:
    """Untimed steps: by default every real batch once, as from the second epoch of training on.
    A shape met for the first time costs far more (the cuDNN attention plans are built on the
    host, about 0.7 s a new shape on an H200; compiled graphs may recompile)."""
    if args.warmup is not None:
        return int(args.warmup)
    return 5 if work.epoch_tokens is None else max(5, len(work.batches))


def finish_rows(rows: list[dict[str, Any]], peak_tflops: float) -> None:
    for r in rows:
        r["mfu"] = r["tflops"] / (peak_tflops * r["gpus"])
        r["padded_mfu"] = r["padded_tflops"] / (peak_tflops * r["gpus"])


def run_cuda(work: Workload, args: argparse.Namespace) -> list[dict[str, Any]]:
    rank, world = 0, 1
    if args.ddp:
        import torch.distributed as dist

        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        dist.init_process_group("nccl", device_id=torch.device("cuda", local))
        rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device("cuda", torch.cuda.current_device())
    torch.backends.cuda.matmul.allow_tf32 = True
    modes = ["eager", "compiled"] if args.compile == "both" else [args.compile]
    rows: list[dict[str, Any]] = []
    name = torch.cuda.get_device_name(device)
    for mode in modes:
        label = mode if mode == "eager" or args.compile_mode == "default" else args.compile_mode
        timing: dict[str, Any] = {
            "warmup": warmup_steps(args, work),
            "steps": args.steps,
            "options": step_options(args, mode == "compiled"),
        }
        profile = None
        if args.profile and rank == 0:
            profile = args.profile.with_name(f"{args.profile.stem}_{mode}{args.profile.suffix}")
        if args.ddp:
            import torch.distributed as dist

            if rank == 0:  # the one-GPU baseline, measured alone while the other ranks wait
                single = time_steps(work, device, **timing)
                rows.append({"name": f"{name[:12]} x1 {label}", "gpus": 1, **single})
            dist.barrier()
            r = time_steps(work, device, ddp=True, **timing)
            totals = torch.tensor(
                [r["tokens_per_s"], r["tflops"], r["padded_tflops"]], device=device
            )
            dist.all_reduce(totals)
            r["tokens_per_s"], r["tflops"], r["padded_tflops"] = (float(x) for x in totals)
            rows.append({"name": f"{name[:12]} x{world} DDP {label}", "gpus": world, **r})
        else:
            r = time_steps(work, device, profile=profile, **timing)
            rows.append({"name": f"{name[:12]} x1 {label}", "gpus": 1, **r})
        if rank == 0:  # each row as soon as it is measured: a run cut short keeps its figures
            for row in rows[-2 if args.ddp else -1 :]:
                print(f"measured: {row['name']}: {row['tokens_per_s']:,.0f} tokens/s", flush=True)
    if rank == 0:
        cfg = work.cfg
        print(
            f"{args.config}: d_model {cfg.d_model}, {cfg.nhead} heads, {cfg.num_layers}+"
            f"{cfg.num_layers} layers; {work.description}; bf16 autocast; torch "
            f"{torch.__version__}"
        )
        print(f"MFU against {args.peak_tflops:g} TFLOP/s dense bf16 per GPU")
        finish_rows(rows, args.peak_tflops)
        print_table(rows, mfu=True)
        if args.ddp:
            for mode in modes:
                one = next(r for r in rows if r["gpus"] == 1 and r["name"].endswith(mode))
                many = next(r for r in rows if r["gpus"] > 1 and r["name"].endswith(mode))
                eff = many["tokens_per_s"] / (many["gpus"] * one["tokens_per_s"])
                print(f"DDP scaling efficiency ({mode}): {eff:.1%} of {many['gpus']} x one GPU")
                many["scaling_efficiency"] = eff
    if args.ddp:
        import torch.distributed as dist

        dist.destroy_process_group()
    return rows


def parse_threads(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument(
        "--config", help="default: config/wgsl_generation.toml (cpu), config/gpu.toml (cuda)"
    )
    parser.add_argument("--synthetic", action="store_true", help="random tokens, no data loading")
    parser.add_argument("--batch", type=int, help="pairs per step (default: the config's)")
    parser.add_argument(
        "--tokens-per-batch", type=int, default=0, help="real data: batch by WGSL tokens instead"
    )
    parser.add_argument("--max-batches", type=int, default=32, help="real batches sampled")
    parser.add_argument("--pad-tgt", type=int, default=1, help="WGSL lengths to a multiple of N")
    parser.add_argument("--pad-src", type=int, default=1, help="prompt lengths to a multiple of N")
    parser.add_argument(
        "--pack", action="store_true", help="real data: pairs laid end to end, no padding"
    )
    parser.add_argument("--src-len", type=int, default=SYNTHETIC_SRC_LEN, help="--synthetic")
    parser.add_argument("--tgt-len", type=int, default=SYNTHETIC_TGT_LEN, help="--synthetic")
    parser.add_argument("--steps", type=int, help="timed steps (default: 6 cpu, 30 cuda)")
    parser.add_argument(
        "--warmup", type=int, help="untimed steps first (cuda; default 5, real: every batch once)"
    )
    parser.add_argument("--threads", type=parse_threads, default=[1, 2], help="cpu: e.g. 1,2")
    parser.add_argument("--compile", choices=["both", "eager", "compiled"], default="both")
    parser.add_argument("--compile-mode", choices=COMPILE_MODES, default="default")
    parser.add_argument("--dynamic", choices=["auto", "true", "false"], default="auto")
    parser.add_argument(
        "--compile-loss",
        action="store_true",
        help="no effect: the trainer's step now compiles forward and loss together",
    )
    parser.add_argument(
        "--pad-vocab", type=int, default=1, help="prototype: WGSL head rows to a multiple of N"
    )
    parser.add_argument("--no-cudnn-sdp", action="store_true", help="SDPA without cuDNN")
    parser.add_argument(
        "--sdpa",
        choices=["auto", "math", "efficient", "cudnn"],
        default="auto",
        help="eager: SDPA limited to this backend",
    )
    parser.add_argument(
        "--attn",
        choices=["auto", "varlen", "short"],
        default="auto",
        help="--pack: as the trainer picks, PyTorch's variable-length kernel, or "
        "engine/short_attention.py (Triton)",
    )
    parser.add_argument(
        "--fixed-blocks",
        action="store_true",
        help="--pack: the Triton kernel's 64-row blocks even for short sequences",
    )
    parser.add_argument(
        "--head-views",
        action="store_true",
        help="--pack: attention layers pass q/k/v head views (dQ, dK, dV concatenated in the "
        "backward pass) instead of their projections' rows",
    )
    parser.add_argument(
        "--attn-blocks",
        default="",
        metavar="F,DQ,DKDV",
        help="--pack: the Triton kernel's blocks for the forward, dQ and dK/dV kernels, each "
        "MxN[wW][sS] (e.g. 64x64,64x64,64x64); default engine/short_attention.py's",
    )
    parser.add_argument("--dropout", type=float, help="prototype: the model's dropout")
    parser.add_argument(
        "--bf16-residual",
        action="store_true",
        help="the residual stream in bf16 under autocast ([training] bf16_residual)",
    )
    parser.add_argument(
        "--regional", action="store_true", help="compiled: each block, not the whole model"
    )
    parser.add_argument("--profile", type=Path, help="cuda: profiler table of one step (per mode)")
    parser.add_argument("--ddp", action="store_true", help="under torchrun: DDP vs one GPU")
    parser.add_argument("--peak-tflops", type=float, default=H100_BF16_DENSE_TFLOPS)
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    return parser


def resolve_config(args: argparse.Namespace) -> dict[str, Any]:
    """Fills in the defaults that depend on the device and the config; returns the config."""
    cpu = args.device == "cpu"
    default = "config/wgsl_generation.toml" if cpu else "config/gpu.toml"
    config_path = Path(args.config or ROOT / default)
    shown = config_path.relative_to(ROOT) if config_path.is_relative_to(ROOT) else config_path
    args.config = str(shown)
    args.config_path = str(config_path)
    config: dict[str, Any] = tomllib.loads(config_path.read_text(encoding="utf-8"))
    args.batch = args.batch or int(config["training"]["batch_size"])
    args.steps = args.steps or (6 if cpu else 30)
    return config


def main() -> None:
    args = build_parser().parse_args()
    config = resolve_config(args)
    cpu = args.device == "cpu"
    if not cpu and not torch.cuda.is_available():
        sys.exit("error: --device cuda but PyTorch sees no CUDA GPU")
    if args.synthetic and args.pack:
        sys.exit("error: --pack needs the real training pairs (not --synthetic)")
    if args.attn != "auto" and not args.pack:
        sys.exit("error: --attn chooses the attention kernel of packed steps (--pack)")
    if args.attn_blocks:
        try:
            parse_blocks(args.attn_blocks)
        except ValueError as exc:
            sys.exit(f"error: {exc}")
    work = synthetic_workload(config, args) if args.synthetic else real_workload(config, args)
    rows = run_cpu(work, config, args) if cpu else run_cuda(work, args)
    if args.json and int(os.environ.get("RANK", "0")) == 0:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
