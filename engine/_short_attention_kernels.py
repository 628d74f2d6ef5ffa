"""Triton kernels of :mod:`engine.short_attention` (imported only when they are run: triton is
needed then and only then).

Every kernel runs a one-dimensional grid of ``sequences x heads x blocks`` programs (one block
for :func:`backward_fused_kernel`); a program finds its sequence, head and block of rows from its
id and returns at once where the block starts past the end of its sequence (sequences are
shorter than the longest), or where the sequence is another kernel's to do. A name assigned
both before a loop and in it is carried through the loop, and must keep its block shape there.
Rows are found through ``starts`` (int32, cumulative lengths); tensors are (rows, heads,
head_dim) with the last dimension contiguous. Scores are kept in base 2 (``qk_scale`` = softmax
scale x log2(e)), so the saved ``lse`` is the row's log2-sum-exp2 of the scaled scores. Causal
means that query ``i`` sees keys ``j <= i`` of its sequence.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _locate(pid, heads, n_blocks, starts_a, starts_b):
    """This program's sequence's first rows and lengths in both packings, its head and block."""
    block = pid % n_blocks
    bh = pid // n_blocks
    head = bh % heads
    seq = bh // heads
    a0 = tl.load(starts_a + seq)
    a_len = tl.load(starts_a + seq + 1) - a0
    b0 = tl.load(starts_b + seq)
    b_len = tl.load(starts_b + seq + 1) - b0
    return block, head, a0, a_len, b0, b_len


@triton.jit
def _rows(base, first, offs, stride_row, head, stride_head, offs_d, n_valid):
    """Pointers to rows ``first + offs`` of one head, and the mask of those that exist."""
    ptrs = (
        base
        + (first + offs).to(tl.int64)[:, None] * stride_row
        + head * stride_head
        + offs_d[None, :]
    )
    return ptrs, (offs < n_valid)[:, None]


@triton.jit
def forward_kernel(
    Q, K, V, Out, Lse,
    q_starts, k_starts,
    stride_qn, stride_qh, stride_kn, stride_kh, stride_vn, stride_vh, stride_on, stride_oh,
    heads, n_blocks, qk_scale,
    CAUSAL: tl.constexpr, HEAD_DIM: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, PRECISION: tl.constexpr,
):  # fmt: skip
    block, head, q0, q_len, k0, k_len = _locate(
        tl.program_id(0), heads, n_blocks, q_starts, k_starts
    )
    if block * BLOCK_M >= q_len:
        return
    offs_m = block * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, HEAD_DIM)
    q_ptrs, q_mask = _rows(Q, q0, offs_m, stride_qn, head, stride_qh, offs_d, q_len)
    q = tl.load(q_ptrs, mask=q_mask, other=0.0)
    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, HEAD_DIM], tl.float32)
    end = k_len
    if CAUSAL:
        end = tl.minimum(k_len, (block + 1) * BLOCK_M)
    for n in range(0, end, BLOCK_N):
        offs_n = n + tl.arange(0, BLOCK_N)
        k_ptrs, k_mask = _rows(K, k0, offs_n, stride_kn, head, stride_kh, offs_d, k_len)
        v_ptrs = _rows(V, k0, offs_n, stride_vn, head, stride_vh, offs_d, k_len)[0]
        k = tl.load(k_ptrs, mask=k_mask, other=0.0)
        v = tl.load(v_ptrs, mask=k_mask, other=0.0)
        s = tl.dot(q, tl.trans(k), input_precision=PRECISION) * qk_scale
        keep = (offs_n < k_len)[None, :]
        if CAUSAL:
            keep = keep & (offs_n[None, :] <= offs_m[:, None])
        s = tl.where(keep, s, float("-inf"))
        # Key 0 is in the first block and seen by every row: m_i is finite from then on.
        m_new = tl.maximum(m_i, tl.max(s, 1))
        p = tl.exp2(s - m_new[:, None])
        alpha = tl.exp2(m_i - m_new)
        l_i = l_i * alpha + tl.sum(p, 1)
        acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v, input_precision=PRECISION)
        m_i = m_new
    acc = acc / l_i[:, None]
    o_ptrs, o_mask = _rows(Out, q0, offs_m, stride_on, head, stride_oh, offs_d, q_len)
    tl.store(o_ptrs, acc.to(Out.dtype.element_ty), mask=o_mask)
    lse_ptrs = Lse + (q0 + offs_m).to(tl.int64) * heads + head
    tl.store(lse_ptrs, m_i + tl.log2(l_i), mask=offs_m < q_len)


@triton.jit
def backward_dq_kernel(
    Q, K, V, Out, dOut, Lse, Delta, dQ,
    q_starts, k_starts,
    stride_qn, stride_qh, stride_kn, stride_kh, stride_vn, stride_vh,
    stride_on, stride_oh, stride_don, stride_doh, stride_dqn, stride_dqh,
    heads, n_blocks, qk_scale, sm_scale, fused_keys,
    CAUSAL: tl.constexpr, HEAD_DIM: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, PRECISION: tl.constexpr,
):  # fmt: skip
    """dQ for one block of query rows; also writes those rows' Delta = rowsum(dO * O), which
    :func:`backward_dkdv_kernel` reads (it runs after this kernel). Sequences of at most
    ``fused_keys`` keys are left to :func:`backward_fused_kernel`."""
    block, head, q0, q_len, k0, k_len = _locate(
        tl.program_id(0), heads, n_blocks, q_starts, k_starts
    )
    if block * BLOCK_M >= q_len or k_len <= fused_keys:
        return
    offs_m = block * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, HEAD_DIM)
    q_ptrs, q_mask = _rows(Q, q0, offs_m, stride_qn, head, stride_qh, offs_d, q_len)
    o_ptrs = _rows(Out, q0, offs_m, stride_on, head, stride_oh, offs_d, q_len)[0]
    do_ptrs = _rows(dOut, q0, offs_m, stride_don, head, stride_doh, offs_d, q_len)[0]
    q = tl.load(q_ptrs, mask=q_mask, other=0.0)
    do = tl.load(do_ptrs, mask=q_mask, other=0.0)
    o = tl.load(o_ptrs, mask=q_mask, other=0.0)
    delta = tl.sum(do.to(tl.float32) * o.to(tl.float32), 1)
    row_ptrs = (q0 + offs_m).to(tl.int64) * heads + head
    tl.store(Delta + row_ptrs, delta, mask=offs_m < q_len)
    lse = tl.load(Lse + row_ptrs, mask=offs_m < q_len, other=0.0)
    dq = tl.zeros([BLOCK_M, HEAD_DIM], tl.float32)
    end = k_len
    if CAUSAL:
        end = tl.minimum(k_len, (block + 1) * BLOCK_M)
    for n in range(0, end, BLOCK_N):
        offs_n = n + tl.arange(0, BLOCK_N)
        k_ptrs, k_mask = _rows(K, k0, offs_n, stride_kn, head, stride_kh, offs_d, k_len)
        v_ptrs = _rows(V, k0, offs_n, stride_vn, head, stride_vh, offs_d, k_len)[0]
        k = tl.load(k_ptrs, mask=k_mask, other=0.0)
        v = tl.load(v_ptrs, mask=k_mask, other=0.0)
        s = tl.dot(q, tl.trans(k), input_precision=PRECISION) * qk_scale
        keep = (offs_m < q_len)[:, None] & (offs_n < k_len)[None, :]
        if CAUSAL:
            keep = keep & (offs_n[None, :] <= offs_m[:, None])
        p = tl.where(keep, tl.exp2(s - lse[:, None]), 0.0)
        dp = tl.dot(do, tl.trans(v), input_precision=PRECISION)
        ds = p * (dp - delta[:, None])
        dq += tl.dot(ds.to(k.dtype), k, input_precision=PRECISION)
    dq_ptrs = _rows(dQ, q0, offs_m, stride_dqn, head, stride_dqh, offs_d, q_len)[0]
    tl.store(dq_ptrs, (dq * sm_scale).to(dQ.dtype.element_ty), mask=q_mask)


@triton.jit
def backward_dkdv_kernel(
    Q, K, V, dOut, Lse, Delta, dK, dV,
    q_starts, k_starts,
    stride_qn, stride_qh, stride_kn, stride_kh, stride_vn, stride_vh,
    stride_don, stride_doh, stride_dkn, stride_dkh, stride_dvn, stride_dvh,
    heads, n_blocks, qk_scale, sm_scale, fused_keys,
    CAUSAL: tl.constexpr, HEAD_DIM: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, PRECISION: tl.constexpr,
):  # fmt: skip
    """dK and dV for one block of key rows, over every query row that sees them (sequences of
    at most ``fused_keys`` keys excepted, as in :func:`backward_dq_kernel`)."""
    block, head, k0, k_len, q0, q_len = _locate(
        tl.program_id(0), heads, n_blocks, k_starts, q_starts
    )
    if block * BLOCK_N >= k_len or k_len <= fused_keys:
        return
    offs_n = block * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, HEAD_DIM)
    k_ptrs, k_mask = _rows(K, k0, offs_n, stride_kn, head, stride_kh, offs_d, k_len)
    v_ptrs = _rows(V, k0, offs_n, stride_vn, head, stride_vh, offs_d, k_len)[0]
    k = tl.load(k_ptrs, mask=k_mask, other=0.0)
    v = tl.load(v_ptrs, mask=k_mask, other=0.0)
    dk = tl.zeros([BLOCK_N, HEAD_DIM], tl.float32)
    dv = tl.zeros([BLOCK_N, HEAD_DIM], tl.float32)
    start = 0
    if CAUSAL:
        start = block * BLOCK_N  # earlier queries see none of these keys
    for m in range(start, q_len, BLOCK_M):
        offs_m = m + tl.arange(0, BLOCK_M)
        q_ptrs, q_mask = _rows(Q, q0, offs_m, stride_qn, head, stride_qh, offs_d, q_len)
        do_ptrs = _rows(dOut, q0, offs_m, stride_don, head, stride_doh, offs_d, q_len)[0]
        q = tl.load(q_ptrs, mask=q_mask, other=0.0)
        do = tl.load(do_ptrs, mask=q_mask, other=0.0)
        row_ptrs = (q0 + offs_m).to(tl.int64) * heads + head
        lse = tl.load(Lse + row_ptrs, mask=offs_m < q_len, other=0.0)
        delta = tl.load(Delta + row_ptrs, mask=offs_m < q_len, other=0.0)
        # Transposed scores: (keys, queries), so that dV and dK are plain products.
        st = tl.dot(k, tl.trans(q), input_precision=PRECISION) * qk_scale
        keep = (offs_m < q_len)[None, :] & (offs_n < k_len)[:, None]
        if CAUSAL:
            keep = keep & (offs_m[None, :] >= offs_n[:, None])
        pt = tl.where(keep, tl.exp2(st - lse[None, :]), 0.0)
        dv += tl.dot(pt.to(do.dtype), do, input_precision=PRECISION)
        dpt = tl.dot(v, tl.trans(do), input_precision=PRECISION)
        dst = pt * (dpt - delta[None, :])
        dk += tl.dot(dst.to(q.dtype), q, input_precision=PRECISION)
    dk_ptrs = _rows(dK, k0, offs_n, stride_dkn, head, stride_dkh, offs_d, k_len)[0]
    dv_ptrs = _rows(dV, k0, offs_n, stride_dvn, head, stride_dvh, offs_d, k_len)[0]
    tl.store(dk_ptrs, (dk * sm_scale).to(dK.dtype.element_ty), mask=k_mask)
    tl.store(dv_ptrs, dv.to(dV.dtype.element_ty), mask=k_mask)


@triton.jit
def backward_fused_kernel(
    Q, K, V, Out, dOut, Lse, dQ, dK, dV,
    q_starts, k_starts,
    stride_qn, stride_qh, stride_kn, stride_kh, stride_vn, stride_vh,
    stride_on, stride_oh, stride_don, stride_doh,
    stride_dqn, stride_dqh, stride_dkn, stride_dkh, stride_dvn, stride_dvh,
    heads, qk_scale, sm_scale,
    CAUSAL: tl.constexpr, HEAD_DIM: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, PRECISION: tl.constexpr,
):  # fmt: skip
    """The whole backward pass of one (sequence, head) whose keys fit in one block of
    ``BLOCK_N`` rows (longer sequences return at once: the two kernels above take them).

    The keys and values stay loaded while the program walks the queries ``BLOCK_M`` rows at a
    time: each step computes its rows' Delta and dQ in full (every key is in the block) and adds
    to dK and dV, written once at the end. One pass, no atomics, no Delta in memory."""
    bh = tl.program_id(0)
    head = bh % heads
    seq = bh // heads
    k0 = tl.load(k_starts + seq)
    k_len = tl.load(k_starts + seq + 1) - k0
    if k_len > BLOCK_N:
        return
    q0 = tl.load(q_starts + seq)
    q_len = tl.load(q_starts + seq + 1) - q0
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, HEAD_DIM)
    k_ptrs, k_mask = _rows(K, k0, offs_n, stride_kn, head, stride_kh, offs_d, k_len)
    v_ptrs = _rows(V, k0, offs_n, stride_vn, head, stride_vh, offs_d, k_len)[0]
    k = tl.load(k_ptrs, mask=k_mask, other=0.0)
    v = tl.load(v_ptrs, mask=k_mask, other=0.0)
    dk = tl.zeros([BLOCK_N, HEAD_DIM], tl.float32)
    dv = tl.zeros([BLOCK_N, HEAD_DIM], tl.float32)
    for m in range(0, q_len, BLOCK_M):
        offs_m = m + tl.arange(0, BLOCK_M)
        q_ptrs, q_mask = _rows(Q, q0, offs_m, stride_qn, head, stride_qh, offs_d, q_len)
        o_ptrs = _rows(Out, q0, offs_m, stride_on, head, stride_oh, offs_d, q_len)[0]
        do_ptrs = _rows(dOut, q0, offs_m, stride_don, head, stride_doh, offs_d, q_len)[0]
        q = tl.load(q_ptrs, mask=q_mask, other=0.0)
        do = tl.load(do_ptrs, mask=q_mask, other=0.0)
        o = tl.load(o_ptrs, mask=q_mask, other=0.0)
        delta = tl.sum(do.to(tl.float32) * o.to(tl.float32), 1)
        lse_ptrs = Lse + (q0 + offs_m).to(tl.int64) * heads + head
        lse = tl.load(lse_ptrs, mask=offs_m < q_len, other=0.0)
        # Transposed scores, (keys, queries), as in backward_dkdv_kernel.
        st = tl.dot(k, tl.trans(q), input_precision=PRECISION) * qk_scale
        keep = (offs_n < k_len)[:, None] & (offs_m < q_len)[None, :]
        if CAUSAL:
            keep = keep & (offs_m[None, :] >= offs_n[:, None])
        pt = tl.where(keep, tl.exp2(st - lse[None, :]), 0.0)
        dv += tl.dot(pt.to(do.dtype), do, input_precision=PRECISION)
        dpt = tl.dot(v, tl.trans(do), input_precision=PRECISION)
        dst = (pt * (dpt - delta[None, :])).to(q.dtype)
        dk += tl.dot(dst, q, input_precision=PRECISION)
        dq = tl.dot(tl.trans(dst), k, input_precision=PRECISION)
        dq_ptrs = _rows(dQ, q0, offs_m, stride_dqn, head, stride_dqh, offs_d, q_len)[0]
        tl.store(dq_ptrs, (dq * sm_scale).to(dQ.dtype.element_ty), mask=q_mask)
    dk_ptrs = _rows(dK, k0, offs_n, stride_dkn, head, stride_dkh, offs_d, k_len)[0]
    dv_ptrs = _rows(dV, k0, offs_n, stride_dvn, head, stride_dvh, offs_d, k_len)[0]
    tl.store(dk_ptrs, (dk * sm_scale).to(dK.dtype.element_ty), mask=k_mask)
    tl.store(dv_ptrs, dv.to(dV.dtype.element_ty), mask=k_mask)


# Whether these kernels run under Triton's interpreter (on CPU tensors), as they do when the
# environment has TRITON_INTERPRET=1 at the time this module is imported.
INTERPRETED = type(forward_kernel).__name__ == "InterpretedFunction"
