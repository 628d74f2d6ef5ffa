"""Attention over short packed sequences: Triton kernels, forward and backward.

:func:`short_attention` computes what :func:`engine.model.packed_attention` does -- query
sequence ``i`` of ``q_seqs`` against key sequence ``i`` of ``k_seqs``, optionally causal -- with
kernels written for sequences of tens to a few hundred rows: one program per (sequence, head,
block of rows), a block's keys and values loaded whole when the sequence fits in one block, no
padding anywhere. The forward pass saves each row's log-sum-exp. The backward pass recomputes
the attention weights: dQ (and Delta = rowsum(dO * O)) in one kernel, dK and dV in a second.
Sequences longer than a block are walked a block at a time, up to any length. Queries, keys and
values may be given as the attention layers' projection rows (:func:`head_views`): the kernels
read the heads in place and write dQ, dK and dV into one gradient per projection, so the
backward pass does not concatenate them.

It is one opaque operator to ``torch.compile`` (``torch.library.custom_op``): no graph break.
Triton is imported the first time the kernels run, so this module imports anywhere; the
kernels need a CUDA GPU, or run on CPU tensors under Triton's interpreter
(``TRITON_INTERPRET=1`` in the environment before the first call).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

if TYPE_CHECKING:
    from engine.model import Packed

HEAD_DIMS = (16, 32, 64, 128)
DTYPES = (torch.bfloat16, torch.float16, torch.float32)


@dataclass(frozen=True)
class Blocks:
    """Rows per block of queries (``m``) and keys (``n``), and warps per program."""

    m: int = 64
    n: int = 64
    warps: int = 4
    stages: int = 2


# Block sizes per pass, before they are fitted to short sequences; read at each call, so a
# benchmark can try others. BACKWARD is the dQ kernel's, and the dK/dV kernel's unless
# BACKWARD_DKDV is set. Chosen with benchmarks/short_attention_tune.py on an H200, on a real
# training batch (WGSL of 130 tokens, prompts of 13): against 64 x 64 blocks everywhere, the
# WGSL self-attention's forward took 0.89 times as long, its dQ kernel 0.94 and its dK/dV
# kernel 0.85; the cross-attention's and the prompts' blocks are fitted as before.
FORWARD = Blocks(64, 32)
BACKWARD = Blocks(64, 32)
BACKWARD_DKDV: Blocks | None = Blocks(32, 64, stages=1)
ADAPT_BLOCKS = True
"""Halve a pass's query or key block while it is at least twice the mean sequence length (down
to 16): a prompt of 20 tokens fills a 32-row block, not a third of a 64-row one. Read at each
call."""


def _fitted(blocks: Blocks, q_mean: float, k_mean: float) -> Blocks:
    """``blocks`` with each side halved while it is at least twice that side's mean length."""
    _check_blocks(blocks)
    if not ADAPT_BLOCKS:
        return blocks
    m, n = blocks.m, blocks.n
    while m > 16 and m >= 2 * q_mean:
        m //= 2
    while n > 16 and n >= 2 * k_mean:
        n //= 2
    return Blocks(m, n, blocks.warps, blocks.stages)


def _means(q: Tensor, k: Tensor, q_starts: Tensor) -> tuple[float, float]:
    """Mean query and key sequence lengths, from shapes alone (no device read)."""
    sequences = max(1, q_starts.shape[0] - 1)
    return q.shape[0] / sequences, k.shape[0] / sequences


def _kernels(device: torch.device) -> ModuleType:
    try:
        from engine import _short_attention_kernels as kernels
    except ImportError as exc:
        raise RuntimeError(
            "short_attention needs the triton package (pip install triton; CUDA builds of "
            f"PyTorch ship it): {exc}"
        ) from exc
    if device.type != "cuda" and not kernels.INTERPRETED:
        raise RuntimeError(
            "short_attention runs on CUDA tensors, or on CPU tensors under Triton's interpreter "
            "(TRITON_INTERPRET=1 in the environment before its kernels are first imported)"
        )
    return kernels


def _check(q: Tensor, k: Tensor, v: Tensor) -> None:
    if q.dim() != 3 or k.dim() != 3 or v.dim() != 3:
        raise ValueError("short_attention takes (rows, heads, head_dim) tensors")
    if k.shape != v.shape or q.shape[1:] != k.shape[1:]:
        raise ValueError(
            f"mismatched shapes: q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}"
        )
    if q.shape[2] not in HEAD_DIMS:
        raise ValueError(f"short_attention supports head_dim in {HEAD_DIMS}, not {q.shape[2]}")
    if not (q.dtype == k.dtype == v.dtype) or q.dtype not in DTYPES:
        raise ValueError(f"q, k, v must share one of {DTYPES}: {q.dtype}, {k.dtype}, {v.dtype}")


def _rowwise(t: Tensor) -> Tensor:
    """``t`` with a contiguous last dimension (the kernels take any row and head strides)."""
    return t if t.stride(-1) == 1 else t.contiguous()


def _check_blocks(blocks: Blocks) -> None:
    for rows in (blocks.m, blocks.n):
        if rows < 16 or rows & (rows - 1):
            raise ValueError(f"block sizes must be powers of two of at least 16: {blocks}")


def _launch_args(q: Tensor, blocks: Blocks, causal: bool) -> dict[str, Any]:
    return {
        "CAUSAL": causal,
        "HEAD_DIM": q.shape[2],
        "BLOCK_M": blocks.m,
        "BLOCK_N": blocks.n,
        # fp32 inputs: exact products, as the reference computes (tf32 would lose 1e-3)
        "PRECISION": "ieee" if q.dtype == torch.float32 else "tf32",
        "num_warps": blocks.warps,
        "num_stages": blocks.stages,
    }


def _launch(
    kernel: Any,
    inputs: list[Tensor],
    outputs: list[Tensor],
    longest: int,
    block_rows: int,
    scales: list[float],
    blocks: Blocks,
    causal: bool,
) -> None:
    """Runs ``kernel`` on one program per (sequence, head, block of ``block_rows`` rows of the
    ``longest`` sequence). Its arguments: ``inputs`` (the starts of both packings last),
    ``outputs``, the row and head strides of the (rows, heads, head_dim) inputs, the row strides
    of the (rows, heads, head_dim) outputs, the heads, the blocks per sequence, ``scales`` and
    the constants of ``blocks`` and ``causal``."""
    q, starts = inputs[0], inputs[-1]
    heads = q.shape[1]
    n_blocks = max(1, math.ceil(longest / block_rows))
    strides = [s for t in inputs if t.dim() == 3 for s in (t.stride(0), t.stride(1))]
    strides += [t.stride(0) for t in outputs if t.dim() == 3]
    kernel[((starts.shape[0] - 1) * heads * n_blocks,)](
        *inputs, *outputs, *strides, heads, n_blocks, *scales, **_launch_args(q, blocks, causal)
    )


def head_views(
    q: Tensor, k: Tensor | None, v: Tensor | None, heads: int
) -> tuple[Tensor, Tensor, Tensor]:
    """(rows, heads, head_dim) queries, keys and values from one of three layouts: ``q``, ``k``,
    ``v`` already so (``heads`` is then ``q.shape[1]``); one self-attention projection's rows,
    ``q`` (N, 3 x width) holding queries, keys and values side by side (``k = v = None``); or
    ``q`` (N, width) and a cross-attention projection's rows ``k`` (M, 2 x width) holding keys
    and values (``v = None``). Views, no copies."""
    if k is not None and v is not None:
        return q, k, v
    if k is None:
        if v is not None or q.dim() != 2 or q.shape[1] % (3 * heads):
            raise ValueError(
                f"self-attention rows must be (N, 3 x heads x head_dim): {tuple(q.shape)}"
            )
        width = q.shape[1] // 3
        parts = [q[:, i * width : (i + 1) * width] for i in range(3)]
    else:
        width = q.shape[1] if q.dim() == 2 else 0
        if k.dim() != 2 or not width or width % heads or k.shape[1] != 2 * width:
            raise ValueError(
                "cross-attention rows must be (N, width) queries and (M, 2 x width) keys and "
                f"values: {tuple(q.shape)}, {tuple(k.shape)}"
            )
        parts = [q, k[:, :width], k[:, width:]]
    q3, k3, v3 = (t.view(t.shape[0], heads, width // heads) for t in parts)
    return q3, k3, v3


def _prepared(
    q: Tensor, k: Tensor | None, v: Tensor | None, heads: int
) -> tuple[Tensor, Tensor, Tensor]:
    """:func:`head_views` of the inputs, each with a contiguous last dimension."""
    k, v = (None if t is None else _rowwise(t) for t in (k, v))
    return head_views(_rowwise(q), k, v, heads)


def _as_layout(
    tensors: list[Tensor], has_k: bool, has_v: bool
) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """One tensor for ``q`` and for each of ``k``, ``v`` that is given, back in their places
    (None for the others)."""
    it = iter(tensors)
    first = next(it)
    return first, next(it) if has_k else None, next(it) if has_v else None


@torch.library.custom_op("tiny_agent_trainer::short_attention_forward", mutates_args=())
def _forward(
    q: Tensor,
    k: Tensor | None,
    v: Tensor | None,
    q_starts: Tensor,
    k_starts: Tensor,
    q_longest: int,
    k_longest: int,
    causal: bool,
    heads: int,
) -> tuple[Tensor, Tensor]:
    kernels = _kernels(q.device)
    q, k, v = _prepared(q, k, v, heads)
    rows, heads, dim = q.shape
    out = torch.empty((rows, heads, dim), dtype=q.dtype, device=q.device)
    lse = torch.empty((rows, heads), dtype=torch.float32, device=q.device)
    if rows and q_starts.shape[0] > 1:
        inputs, scales = [q, k, v, q_starts, k_starts], [dim**-0.5 * math.log2(math.e)]
        blocks = _fitted(FORWARD, *_means(q, k, q_starts))
        kernel = kernels.forward_kernel
        _launch(kernel, inputs, [out, lse], q_longest, blocks.m, scales, blocks, causal)
    return out, lse


# The fake (shape-only) implementations take all of the operators' arguments and read a few.
@_forward.register_fake
def _(q: Tensor, k: Tensor | None, v: Tensor | None, *args: Any) -> tuple[Tensor, Tensor]:
    q3 = head_views(q, k, v, args[-1])[0]
    return q.new_empty(q3.shape), q.new_empty(q3.shape[:2], dtype=torch.float32)


@torch.library.custom_op("tiny_agent_trainer::short_attention_backward", mutates_args=())
def _backward(
    grad: Tensor,
    q: Tensor,
    k: Tensor | None,
    v: Tensor | None,
    out: Tensor,
    lse: Tensor,
    q_starts: Tensor,
    k_starts: Tensor,
    q_longest: int,
    k_longest: int,
    causal: bool,
    heads: int,
) -> list[Tensor]:
    """The gradients of the given ones of ``q``, ``k``, ``v``, each in its input's layout: for
    projection rows one tensor the projection's size, dQ, dK and dV written into its columns."""
    kernels = _kernels(q.device)
    grads = [
        torch.empty(t.shape, dtype=t.dtype, device=t.device) for t in (q, k, v) if t is not None
    ]
    dq, dk, dv = head_views(*_as_layout(grads, k is not None, v is not None), heads)
    grad, (q, k, v) = _rowwise(grad), _prepared(q, k, v, heads)
    rows, heads, dim = q.shape
    if not (rows and q_starts.shape[0] > 1):
        return [g.zero_() for g in grads]
    delta = torch.empty((rows, heads), dtype=torch.float32, device=q.device)
    sm_scale = dim**-0.5
    scales = [sm_scale * math.log2(math.e), sm_scale]
    means = _means(q, k, q_starts)
    blocks = _fitted(BACKWARD, *means)
    _launch(
        kernels.backward_dq_kernel,
        [q, k, v, out, grad, lse, q_starts, k_starts], [delta, dq],
        q_longest, blocks.m, scales, blocks, causal,
    )  # fmt: skip
    blocks = _fitted(BACKWARD_DKDV or BACKWARD, *means)
    _launch(
        kernels.backward_dkdv_kernel,
        [q, k, v, grad, lse, delta, q_starts, k_starts], [dk, dv],
        k_longest, blocks.n, scales, blocks, causal,
    )  # fmt: skip
    return grads


@_backward.register_fake
def _(grad: Tensor, q: Tensor, k: Tensor | None, v: Tensor | None, *_: object) -> list[Tensor]:
    return [t.new_empty(t.shape) for t in (q, k, v) if t is not None]


def _setup_context(ctx: Any, inputs: tuple[Any, ...], output: tuple[Tensor, Tensor]) -> None:
    q, k, v, q_starts, k_starts, q_longest, k_longest, causal, heads = inputs
    out, lse = output
    ctx.layout = (k is not None, v is not None)
    ctx.save_for_backward(q, *[t for t in (k, v) if t is not None], out, lse, q_starts, k_starts)
    ctx.args = (q_longest, k_longest, causal, heads)


def _autograd_backward(ctx: Any, grad: Tensor, _grad_lse: Tensor | None) -> tuple[Any, ...]:
    *given, out, lse, q_starts, k_starts = ctx.saved_tensors
    q, k, v = _as_layout(given, *ctx.layout)
    grads = _backward(grad, q, k, v, out, lse, q_starts, k_starts, *ctx.args)
    return *_as_layout(grads, k is not None, v is not None), None, None, None, None, None, None


_forward.register_autograd(_autograd_backward, setup_context=_setup_context)


def short_attention(
    q: Tensor,
    k: Tensor | None,
    v: Tensor | None,
    q_seqs: Packed,
    k_seqs: Packed,
    causal: bool,
    heads: int | None = None,
) -> Tensor:
    """Attention within each packed sequence: (N, H, D) queries against (M, H, D) keys and
    values, query sequence ``i`` of ``q_seqs`` against key sequence ``i`` of ``k_seqs``;
    ``causal``: query ``i`` sees keys ``j <= i`` (self-attention). bf16, fp16 or fp32 with a head
    dimension of 16, 32, 64 or 128; every sequence has at least one key. Returns (N, H, D).

    With ``heads``, the inputs may instead be the projections' rows (:func:`head_views`): then
    each projection's gradient comes back as one tensor, with no concatenation of dQ, dK, dV."""
    if heads is None:
        if q.dim() != 3:
            raise ValueError("short_attention on projection rows needs the number of heads")
        heads = q.shape[1]
    q3, k3, v3 = head_views(q, k, v, heads)
    _check(q3, k3, v3)
    out: Tensor = _forward(
        q, k, v, q_seqs.starts, k_seqs.starts, q_seqs.longest, k_seqs.longest, causal, q3.shape[1]
    )[0]
    return out
