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
look-ups, norms and the optimizer are not counted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.model import ModelConfig, Seq2SeqTransformer  # noqa: E402
from engine.trainer import make_optimizer, training_step  # noqa: E402

H100_BF16_DENSE_TFLOPS = 989.0
# Measured on data/train with config/wgsl_generation.toml's tokenizers (2026-11-29): 6,770
# training pairs, prompts 13.5 tokens on average, WGSL 118.4 (with <sos>), vocabularies
# 2,959 prompt / 927 WGSL tokens. --synthetic batches use these shapes.
SYNTHETIC_SRC_LEN = 14
SYNTHETIC_TGT_LEN = 118
SYNTHETIC_SRC_VOCAB = 2959
SYNTHETIC_TGT_VOCAB = 927


@dataclass
class Batch:
    src: torch.Tensor
    tgt_in: torch.Tensor
    tgt_out: torch.Tensor
    src_padded: bool

    @property
    def tokens(self) -> int:
        """WGSL tokens predicted (pads excluded): what tokens/s counts."""
        return int((self.tgt_out != 0).sum())

    def to(self, device: torch.device) -> Batch:
        return Batch(
            self.src.to(device), self.tgt_in.to(device), self.tgt_out.to(device), self.src_padded
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
    )


def synthetic_workload(config: dict[str, Any], args: argparse.Namespace) -> Workload:
    cfg = model_config(config, SYNTHETIC_SRC_VOCAB, SYNTHETIC_TGT_VOCAB)
    g = torch.Generator().manual_seed(0)
    batches = []
    for _ in range(4):
        src = torch.randint(4, cfg.src_vocab_size, (args.batch, args.src_len), generator=g)
        tgt = torch.randint(4, cfg.tgt_vocab_size, (args.batch, args.tgt_len + 1), generator=g)
        batches.append(Batch(src, tgt[:, :-1].contiguous(), tgt[:, 1:].contiguous(), False))
    text = f"synthetic batches of {args.batch} x (prompt {args.src_len}, WGSL {args.tgt_len})"
    return Workload(cfg, batches, None, text)


def real_workload(config_path: Path, config: dict[str, Any], args: argparse.Namespace) -> Workload:
    """The trainer's own batches: tokenised pairs, bucketed by length, a random sample."""
    from engine.config import load_config
    from engine.dataset import load_splits
    from engine.tokenizer import build_prompt_tokenizer, build_wgsl_tokenizer
    from engine.trainer import any_padding, collate, encode_examples, length_buckets

    full = load_config(config_path)
    splits = load_splits(full.dataset, full.training.seed)
    train = splits.train
    src_tok = build_prompt_tokenizer(
        [e.natural_language for e in train], full.tokenizer.min_freq, full.tokenizer.lowercase
    )
    tgt_tok = build_wgsl_tokenizer([e.wgsl_code for e in train], full.tokenizer.min_freq)
    cfg = model_config(config, src_tok.vocab_size, tgt_tok.vocab_size)
    max_len = min(full.tokenizer.max_length, cfg.max_seq_len)
    pairs, _ = encode_examples(train, src_tok, tgt_tok, max_len)
    buckets = length_buckets(pairs, args.batch)
    chosen = random.Random(0).sample(buckets, min(len(buckets), 32))
    batches = [
        Batch(*collate(pairs, idx, src_tok.pad_id, tgt_tok.pad_id), any_padding(pairs, idx))
        for idx in chosen
    ]
    epoch_tokens = sum(len(p.tgt) - 1 for p in pairs)
    text = (
        f"real batches of {args.batch} pairs from {len(train)} training pairs "
        f"({epoch_tokens:,} WGSL tokens an epoch)"
    )
    return Workload(cfg, batches, epoch_tokens, text)


def forward_flops(cfg: ModelConfig, batch: Batch) -> float:
    """Forward FLOPs of one batch (see the module docstring for what is counted)."""
    d, ff, n = cfg.d_model, cfg.dim_feedforward, cfg.num_layers
    b, s = batch.src.shape
    t = batch.tgt_in.shape[1]
    enc_per_token = n * (4 * d * d + 2 * d * ff)
    dec_per_token = n * (4 * d * d + 2 * d * d + 2 * d * ff) + d * cfg.tgt_vocab_size
    cross_kv_per_src_token = n * 2 * d * d
    matmul = 2 * b * (s * (enc_per_token + cross_kv_per_src_token) + t * dec_per_token)
    attention = b * n * (4 * s * s * d + 4 * t * t * d / 2 + 4 * t * s * d)
    return float(matmul + attention)


def time_steps(
    work: Workload,
    device: torch.device,
    *,
    compile_model: bool,
    bf16: bool,
    warmup: int,
    steps: int,
    ddp: bool = False,
) -> dict[str, Any]:
    torch.manual_seed(0)
    model = Seq2SeqTransformer(work.cfg).to(device)
    optimizer = make_optimizer(model, "adamw", 3e-4, 0.01, fused=device.type == "cuda")
    train_model: torch.nn.Module = model
    if compile_model:
        train_model = torch.compile(model)  # type: ignore[assignment]
    if ddp:
        from torch.nn.parallel import DistributedDataParallel

        train_model = DistributedDataParallel(train_model, device_ids=[device.index])
    batches = [b.to(device) for b in work.batches]

    def autocast() -> contextlib.AbstractContextManager[Any]:
        if bf16:
            return torch.autocast(device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def step(batch: Batch) -> torch.Tensor:
        return training_step(
            train_model,
            optimizer,
            batch.src,
            batch.tgt_in,
            batch.tgt_out,
            src_padded=batch.src_padded,
            pad_id=0,
            label_smoothing=0.0,
            clip=1.0,
            autocast=autocast,
        )

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    t0 = time.perf_counter()
    for i in range(warmup):
        step(batches[i % len(batches)])
    sync()
    warmup_s = time.perf_counter() - t0
    tokens = flops = 0.0
    t0 = time.perf_counter()
    for i in range(steps):
        batch = batches[i % len(batches)]
        loss = step(batch)
        tokens += batch.tokens
        flops += 3 * forward_flops(work.cfg, batch)
    sync()
    elapsed = time.perf_counter() - t0
    return {
        "params": model.num_parameters(),
        "step_ms": elapsed / steps * 1e3,
        "tokens_per_s": tokens / elapsed,
        "tflops": flops / elapsed / 1e12,
        "warmup_s": warmup_s,
        "final_loss": float(loss),
    }


def print_table(rows: list[dict[str, Any]], mfu: bool = False) -> None:
    """One line per row; ``ratio`` is tokens/s against the first row."""
    base = rows[0]["tokens_per_s"]
    head = f"{'run':<36} {'params':>8} {'step ms':>9} {'tokens/s':>11} {'ratio':>6}"
    if mfu:
        head += f" {'TFLOP/s':>8} {'MFU':>6}"
    print(head)
    for r in rows:
        line = (
            f"{r['name']:<36} {r['params'] / 1e6:>7.1f}M {r['step_ms']:>9.1f} "
            f"{r['tokens_per_s']:>11,.0f} {r['tokens_per_s'] / base:>6.2f}"
        )
        if mfu:
            line += f" {r['tflops']:>8.1f} {r['mfu']:>6.1%}"
        print(line)


def run_cpu(
    work: Workload, config: dict[str, Any], args: argparse.Namespace
) -> list[dict[str, Any]]:
    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        r = time_steps(
            work, torch.device("cpu"), compile_model=False, bf16=False, warmup=2, steps=args.steps
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
        timing = {
            "compile_model": mode == "compiled",
            "bf16": True,
            "warmup": args.warmup,
            "steps": args.steps,
        }
        if args.ddp:
            import torch.distributed as dist

            if rank == 0:  # the one-GPU baseline, measured alone while the other ranks wait
                single = time_steps(work, device, **timing)
                rows.append({"name": f"{name[:12]} x1 {mode}", "gpus": 1, **single})
            dist.barrier()
            r = time_steps(work, device, ddp=True, **timing)
            totals = torch.tensor([r["tokens_per_s"], r["tflops"]], device=device)
            dist.all_reduce(totals)
            r["tokens_per_s"], r["tflops"] = float(totals[0]), float(totals[1])
            rows.append({"name": f"{name[:12]} x{world} DDP {mode}", "gpus": world, **r})
        else:
            r = time_steps(work, device, **timing)
            rows.append({"name": f"{name[:12]} x1 {mode}", "gpus": 1, **r})
    if rank == 0:
        cfg = work.cfg
        print(
            f"{args.config}: d_model {cfg.d_model}, {cfg.nhead} heads, {cfg.num_layers}+"
            f"{cfg.num_layers} layers; {work.description}; bf16 autocast; torch "
            f"{torch.__version__}"
        )
        print(f"MFU against {args.peak_tflops:g} TFLOP/s dense bf16 per GPU")
        for r in rows:
            r["mfu"] = r["tflops"] / (args.peak_tflops * r["gpus"])
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument(
        "--config", help="default: config/wgsl_generation.toml (cpu), config/gpu.toml (cuda)"
    )
    parser.add_argument("--synthetic", action="store_true", help="random tokens, no data loading")
    parser.add_argument("--batch", type=int, help="pairs per step (default: the config's)")
    parser.add_argument("--src-len", type=int, default=SYNTHETIC_SRC_LEN, help="--synthetic")
    parser.add_argument("--tgt-len", type=int, default=SYNTHETIC_TGT_LEN, help="--synthetic")
    parser.add_argument("--steps", type=int, help="timed steps (default: 6 cpu, 30 cuda)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (cuda)")
    parser.add_argument("--threads", type=parse_threads, default=[1, 2], help="cpu: e.g. 1,2")
    parser.add_argument("--compile", choices=["both", "eager", "compiled"], default="both")
    parser.add_argument("--ddp", action="store_true", help="under torchrun: DDP vs one GPU")
    parser.add_argument("--peak-tflops", type=float, default=H100_BF16_DENSE_TFLOPS)
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args()
    cpu = args.device == "cpu"
    default = "config/wgsl_generation.toml" if cpu else "config/gpu.toml"
    config_path = Path(args.config or ROOT / default)
    shown = config_path.relative_to(ROOT) if config_path.is_relative_to(ROOT) else config_path
    args.config = str(shown)
    config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    args.batch = args.batch or int(config["training"]["batch_size"])
    args.steps = args.steps or (6 if cpu else 30)
    if not cpu and not torch.cuda.is_available():
        sys.exit("error: --device cuda but PyTorch sees no CUDA GPU")
    if args.synthetic:
        work = synthetic_workload(config, args)
    else:
        work = real_workload(config_path, config, args)
    rows = run_cpu(work, config, args) if cpu else run_cuda(work, args)
    if args.json and int(os.environ.get("RANK", "0")) == 0:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
