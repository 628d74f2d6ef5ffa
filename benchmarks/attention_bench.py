"""Attention alone, forward and backward, at the training shapes of ``config/gpu.toml``.

The three attention products of the model (prompt self-attention with a padding mask, WGSL
self-attention with a causal mask, WGSL-to-prompt cross-attention with a padding mask) timed
with each way PyTorch can compute them: SDPA restricted to one backend (cuDNN, flash,
memory-efficient, math), and plain matrix products with a softmax compiled by torch.compile.
Prints milliseconds per forward+backward and TFLOP/s (forward 4*B*H*Tq*Tk*D, backward twice
that, causal counted at half), so that the slow kernels of a training step can be told apart.
The packed rows time the same products on sequences laid end to end with no padding (the
prompts at their real lengths), as ``Seq2SeqTransformer.forward_packed`` computes them:
PyTorch's ``varlen_attn`` against the Triton kernels of ``engine/short_attention.py``.

    PYTHONPATH=. python3 benchmarks/attention_bench.py [--batch 1090] [--tgt 120] [--src 24]
    PYTHONPATH=. python3 benchmarks/attention_bench.py --packed-only

The defaults are one batch of about 131,072 WGSL positions (``train_bench --tokens-per-batch``)
with the mean WGSL length of the training data and a prompt padded to 24 tokens. CUDA only.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from engine import model as engine_model
from engine.model import Packed, packed_attention

Attention = Callable[[Tensor, Tensor, Tensor, Tensor | None, bool], Tensor]


def sdpa(backend: Any | None) -> Attention:
    def run(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, causal: bool) -> Tensor:
        ctx: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
        if backend is not None:
            from torch.nn.attention import sdpa_kernel

            ctx = sdpa_kernel([backend])
        with ctx:
            return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)

    return run


def matmul_attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, causal: bool) -> Tensor:
    """Scores as one batched matrix product, masked softmax, then the weighted sum."""
    scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
    if causal:
        t = q.shape[-2]
        keep = torch.ones(t, t, dtype=torch.bool, device=q.device).tril()
        scores = scores.masked_fill(~keep, float("-inf"))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores.float(), dim=-1).to(q.dtype) @ v


def cuda_ms(fn: Callable[[], object], iters: int, warmup: int = 3) -> float:
    """Milliseconds per call of ``fn`` on the GPU (CUDA events), after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
    end = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
    start.record()
    for _ in range(iters):
        fn()
    end.record()
    torch.cuda.synchronize()
    return float(start.elapsed_time(end)) / iters


def time_ms(
    fn: Attention, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, causal: bool, iters: int
) -> float:
    grad = torch.randn_like(q)

    def once() -> None:
        out = fn(q, k, v, mask, causal)
        out.backward(grad)  # type: ignore[no-untyped-call]

    return cuda_ms(once, iters)


def packed_way(kernel: str, q_seqs: Packed, k_seqs: Packed) -> Attention:
    """Packed (rows, heads, dim) attention through ``packed_attention`` with one kernel."""

    def run(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, causal: bool) -> Tensor:
        engine_model.PACKED_ATTENTION = kernel
        return packed_attention(q, k, v, q_seqs, k_seqs, causal)

    return run


def packed_rows(lengths: list[int], tgt: int, heads: int, dim: int, iters: int) -> None:
    """WGSL self-attention (every sequence ``tgt`` long) and WGSL-to-prompt cross-attention
    (prompts of ``lengths``), packed, with each packed kernel."""
    dev = torch.device("cuda")
    g = torch.Generator(device=dev).manual_seed(1)
    wgsl = Packed.of([tgt] * len(lengths), dev)
    prompts = Packed.of(lengths, dev)

    def make(n: int) -> Tensor:
        x = torch.randn(n, heads, dim, device=dev, dtype=torch.bfloat16, generator=g)
        return x.requires_grad_()

    per_pair = 3 * 4 * heads * dim
    cases = [  # name, queries, keys, causal, FLOPs
        ("WGSL causal self-attention", wgsl, wgsl, True, per_pair * len(lengths) * tgt * tgt / 2),
        ("WGSL-to-prompt cross-attention", wgsl, prompts, False, per_pair * tgt * sum(lengths)),
    ]
    chosen = engine_model.PACKED_ATTENTION
    for name, q_seqs, k_seqs, causal, flops in cases:
        rows, keys = int(q_seqs.starts[-1]), int(k_seqs.starts[-1])
        print(f"\npacked {name}: {rows} query rows, {keys} key rows")
        for label, kernel in [("varlen_attn", "varlen"), ("short_attention (Triton)", "short")]:
            fn = packed_way(kernel, q_seqs, k_seqs)
            try:
                ms = time_ms(fn, make(rows), make(keys), make(keys), None, causal, iters)
            except Exception as exc:
                print(
                    f"  {label:<26} failed: {type(exc).__name__}: {str(exc).splitlines()[0][:90]}"
                )
                continue
            print(f"  {label:<26} {ms:8.3f} ms  {flops / ms / 1e9:7.1f} TFLOP/s")
    engine_model.PACKED_ATTENTION = chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=1090)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--head-dim", type=int, default=64)
    parser.add_argument("--tgt", type=int, default=120, help="WGSL positions")
    parser.add_argument("--src", type=int, default=24, help="prompt positions (padded)")
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--packed-only", action="store_true", help="only the packed rows")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("error: PyTorch sees no CUDA GPU")
    from torch.nn.attention import SDPBackend

    dev = torch.device("cuda")
    b, h, d, t, s = args.batch, args.heads, args.head_dim, args.tgt, args.src
    g = torch.Generator(device=dev).manual_seed(0)
    lengths = torch.randint(s // 3, s + 1, (b,), generator=g, device=dev)
    pad_mask = (torch.arange(s, device=dev)[None, :] < lengths[:, None])[:, None, None, :]

    def qkv(tq: int, tk: int) -> tuple[Tensor, Tensor, Tensor]:
        def make(n: int) -> Tensor:
            x = torch.randn(b, h, n, d, device=dev, dtype=torch.bfloat16, generator=g)
            return x.requires_grad_()

        return make(tq), make(tk), make(tk)

    cases = [  # name, query length, key length, padding mask, causal
        ("prompt self-attention", s, s, pad_mask, False),
        ("WGSL-to-prompt cross-attention", t, s, pad_mask, False),
        ("WGSL causal self-attention", t, t, None, True),
    ]
    compiled = torch.compile(matmul_attention, dynamic=False)
    ways: list[tuple[str, Attention]] = [
        ("sdpa cudnn", sdpa(SDPBackend.CUDNN_ATTENTION)),
        ("sdpa flash", sdpa(SDPBackend.FLASH_ATTENTION)),
        ("sdpa efficient", sdpa(SDPBackend.EFFICIENT_ATTENTION)),
        ("sdpa math", sdpa(SDPBackend.MATH)),
        ("sdpa auto", sdpa(None)),
        ("matmul+softmax compiled", compiled),
    ]
    print(
        f"{torch.cuda.get_device_name(dev)}; torch {torch.__version__}; batch {b}, {h} heads "
        f"of {d}; WGSL {t}, prompt {s} (padding mask: {lengths.float().mean():.1f} real)"
    )
    packed_rows([int(n) for n in lengths.tolist()], t, h, d, args.iters)
    if args.packed_only:
        return
    for name, tq, tk, mask, causal in cases:
        flops = 3 * 4 * b * h * tq * tk * d * (0.5 if causal else 1.0)
        print(f"\n{name}: queries {tq}, keys {tk}")
        for label, fn in ways:
            q, k, v = qkv(tq, tk)
            try:
                ms = time_ms(fn, q, k, v, mask, causal, args.iters)
            except Exception as exc:  # a backend that refuses this case
                print(f"  {label:<26} not available: {str(exc).splitlines()[0][:90]}")
                continue
            print(f"  {label:<26} {ms:8.3f} ms  {flops / ms / 1e9:7.1f} TFLOP/s")


if __name__ == "__main__":
    main()
