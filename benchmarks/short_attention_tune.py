"""Block sizes, warps and pipeline stages of engine/short_attention.py's kernels, pass by pass.

For each attention of the model (WGSL causal self-attention, WGSL-to-prompt cross-attention,
prompt self-attention) on one real packed training batch (the one of median mean WGSL length
among batches of about 131,072 WGSL positions, ``config/gpu.toml``'s data), with the inputs as
the model passes them (its projections' rows, 8 heads of 64, bf16), every setting of a pass is
timed with the other passes at their defaults: the forward kernel alone, and the backward op
with either its dQ kernel or its dK/dV kernel set. Block sizes are used exactly as given
(``ADAPT_BLOCKS`` off); the row marked ``*`` is what the module picks by itself now. Prints
milliseconds per call, best first, and the best setting of each pass. CUDA only.

    PYTHONPATH=. python3 benchmarks/short_attention_tune.py [--kinds self,cross,prompt]
        [--deadline S] [--json FILE]

``--pairs N`` keeps the batch's first N pairs; with it, and ``TRITON_INTERPRET=1`` in the
environment, the script runs on CPU under Triton's interpreter (a check of the script, not a
timing).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from engine import short_attention as sa  # noqa: E402
from engine.model import Packed  # noqa: E402

HEADS, DIM = 8, 64
WIDTH = HEADS * DIM
# Candidate (query rows, key rows) per attention; warps and stages are crossed with them.
SIZES = {
    "self": list(itertools.product([32, 64, 128], [32, 64, 128])),
    "cross": list(itertools.product([32, 64, 128], [16, 32])),
    "prompt": list(itertools.product([16, 32], [16, 32])),
}
WARPS = (2, 4, 8)
STAGES = (1, 2)


def median_batch(config: Path) -> tuple[list[int], list[int]]:
    """(WGSL lengths, prompt lengths) of the training batch of median mean WGSL length."""
    import train_bench as tb

    from engine.trainer import token_buckets

    data = tb.load_real_data(config)
    buckets = token_buckets(data.pairs, 131072)
    chosen = sorted(buckets, key=lambda idx: sum(len(data.pairs[i].tgt) for i in idx) / len(idx))
    idx = chosen[len(chosen) // 2]
    return [len(data.pairs[i].tgt) - 1 for i in idx], [len(data.pairs[i].src) for i in idx]


def time_ms(fn: Callable[[], object], iters: int = 20) -> float:
    if not torch.cuda.is_available():  # a logic check under Triton's interpreter
        t0 = time.perf_counter()
        fn()
        return (time.perf_counter() - t0) * 1e3
    from attention_bench import cuda_ms

    return cuda_ms(fn, iters, warmup=2)


Layout = tuple[Tensor, Tensor | None, Tensor | None]


def inputs(kind: str, wgsl: Packed, prompts: Packed) -> tuple[Layout, Packed, Packed]:
    """The model's projection rows for one attention, and its query and key packings."""
    dev = wgsl.starts.device
    g = torch.Generator(device=dev).manual_seed(0)
    # bf16 as in training; float32 under the interpreter, which cannot multiply bf16 blocks
    dtype = torch.bfloat16 if dev.type == "cuda" else torch.float32

    def rows(n: int, width: int) -> Tensor:
        return torch.randn(n, width, device=dev, dtype=dtype, generator=g)

    n, m = int(wgsl.starts[-1]), int(prompts.starts[-1])
    if kind == "self":
        return (rows(n, 3 * WIDTH), None, None), wgsl, wgsl
    if kind == "cross":
        return (rows(n, WIDTH), rows(m, 2 * WIDTH), None), wgsl, prompts
    return (rows(m, 3 * WIDTH), None, None), prompts, prompts


def check(layout: Layout, qs: Packed, ks: Packed, causal: bool) -> str:
    """Largest differences of the output and the projections' gradients, through the Triton
    kernels on the projections' rows against PyTorch's variable-length kernel on head views
    (on CPU, against one pair at a time)."""
    import engine.model as em

    given = [t for t in layout if t is not None]
    grad = None
    results = []
    for kernel in ["short", "varlen"]:
        em.PACKED_ATTENTION = kernel
        rows = [t.detach().requires_grad_() for t in given]
        full = (rows[0], rows[1] if len(rows) > 1 else None, None)
        if kernel == "short":
            out = em.packed_attention(*full, qs, ks, causal, HEADS)
        else:
            out = em.packed_attention(*sa.head_views(*full, HEADS), qs, ks, causal)
        if grad is None:
            grad = torch.randn_like(out)
        results.append([out, *torch.autograd.grad(out, rows, grad)])
    em.PACKED_ATTENTION = "auto"
    diffs = [(a.float() - b.float()).abs().max().item() for a, b in zip(*results, strict=True)]
    return "output " + ", gradients ".join(f"{d:.2e}" for d in diffs)


def tune_kind(kind: str, wgsl: Packed, prompts: Packed, deadline: float) -> dict[str, Any]:
    layout, qs, ks = inputs(kind, wgsl, prompts)
    causal = kind == "self"
    print(
        f"\n{kind}: projection rows (Triton) against head views (varlen_attn), largest "
        f"differences: {check(layout, qs, ks, causal)}",
        flush=True,
    )
    ops = torch.ops.tiny_agent_trainer
    args = (qs.starts, ks.starts, qs.longest, ks.longest, causal, HEADS)
    q3, k3, _ = sa.head_views(*layout, HEADS)
    sa.ADAPT_BLOCKS = True
    picked = {
        "forward": sa._fitted(sa.FORWARD, *sa._means(q3, k3, qs.starts)),
        "dq": sa._fitted(sa.BACKWARD, *sa._means(q3, k3, qs.starts)),
        "dkdv": sa._fitted(sa.BACKWARD_DKDV or sa.BACKWARD, *sa._means(q3, k3, qs.starts)),
    }
    defaults = dict(picked)
    sa.ADAPT_BLOCKS = False
    sa.FORWARD, sa.BACKWARD, sa.BACKWARD_DKDV = defaults["forward"], defaults["dq"], None
    out, lse = ops.short_attention_forward(*layout, *args)
    grad = torch.randn_like(out)
    print(
        f"== {kind}: {q3.shape[0]} query rows in {qs.starts.shape[0] - 1} sequences (mean "
        f"{q3.shape[0] / (qs.starts.shape[0] - 1):.1f}, longest {qs.longest}), {k3.shape[0]} "
        f"key rows (longest {ks.longest}); now picked: "
        + ", ".join(f"{p} {b.m}x{b.n} w{b.warps} s{b.stages}" for p, b in picked.items()),
        flush=True,
    )
    results: dict[str, list[tuple[float, str]]] = {"forward": [], "dq": [], "dkdv": []}

    def forward() -> None:
        ops.short_attention_forward(*layout, *args)

    def backward() -> None:
        ops.short_attention_backward(grad, *layout, out, lse, *args)

    settings = [
        sa.Blocks(m, n, w, s)
        for (m, n), w, s in itertools.product(SIZES[kind], WARPS, STAGES)
        if not (w == 2 and m * n >= 128 * 64)
    ]
    for blocks in settings:
        if time.monotonic() > deadline:
            print("  deadline reached", flush=True)
            break
        label = f"{blocks.m}x{blocks.n} w{blocks.warps} s{blocks.stages}"
        for name in results:
            sa.FORWARD, sa.BACKWARD, sa.BACKWARD_DKDV = defaults["forward"], defaults["dq"], None
            if name == "forward":
                sa.FORWARD = blocks
            elif name == "dq":
                sa.BACKWARD, sa.BACKWARD_DKDV = blocks, defaults["dkdv"]
            else:
                sa.BACKWARD_DKDV = blocks
            try:
                ms = time_ms(forward if name == "forward" else backward)
            except Exception as exc:  # a setting the chip cannot run (shared memory)
                print(f"  {name:<8} {label:<18} failed: {str(exc).splitlines()[0][:80]}")
                continue
            mark = "*" if blocks == defaults[name] else " "
            results[name].append((ms, label + mark))
    sa.FORWARD, sa.BACKWARD, sa.BACKWARD_DKDV = defaults["forward"], defaults["dq"], None
    sa.ADAPT_BLOCKS = True
    for name, rows in results.items():
        rows.sort()
        print(f"  {name}: " + "  ".join(f"{label} {ms:.4f}" for ms, label in rows[:6]))
        now = [ms for ms, label in rows if label.endswith("*")]
        if rows and now:
            print(f"    best/now: {rows[0][0] / now[0]:.3f}")
    return {name: [[ms, label] for ms, label in rows] for name, rows in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--kinds", default="self,cross,prompt")
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "gpu.toml")
    parser.add_argument("--deadline", type=float, default=1e9, help="seconds")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--pairs", type=int, help="only the batch's first N pairs")
    args = parser.parse_args()
    interpreted = os.environ.get("TRITON_INTERPRET") == "1"
    if not torch.cuda.is_available() and not (interpreted and args.pairs):
        sys.exit("error: PyTorch sees no CUDA GPU (on CPU: TRITON_INTERPRET=1 and --pairs)")
    start = time.monotonic()
    import triton

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "CPU (interpreted)"
    print(f"{name}; torch {torch.__version__}; triton {triton.__version__}")
    tgt, src = median_batch(args.config)
    tgt, src = tgt[: args.pairs], src[: args.pairs]
    wgsl, prompts = Packed.of(tgt, dev), Packed.of(src, dev)
    report = {}
    for kind in args.kinds.split(","):
        report[kind] = tune_kind(kind, wgsl, prompts, start + args.deadline)
        if args.json:
            args.json.write_text(json.dumps(report, indent=1))
    print(f"\ndone in {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
