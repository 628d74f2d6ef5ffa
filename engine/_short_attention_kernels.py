"""Triton kernels of :mod:`engine.short_attention` (imported only when they are run: triton is
needed then and only then).

Every kernel runs a one-dimensional grid of ``sequences x heads x blocks`` programs; a program
finds its sequence, head and block of rows from its id and returns at once where the block
starts past the end of its sequence (sequences are shorter than the longest). A name assigned
both before a loop and in it is carried through the loop, and must keep its block shape there.
Rows are found through ``starts`` (int32, cumulative lengths); tensors are (rows, heads,
head_dim) views with the last dimension contiguous; inputs take any row and head strides,
outputs any row stride with the heads side by side (so that dQ, dK and dV can be written into
the columns of one projection-sized gradient). Scores are kept in
base 2 (``qk_scale`` = softmax scale x log2(e)), so the saved ``lse`` is the row's
log2-sum-exp2 of the scaled scores. Causal means that query ``i`` sees keys ``j <= i`` of its
sequence.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _locate(heads, n_blocks, starts_a, starts_b, BLOCK: tl.constexpr):
    """This program's head; its sequence's first rows and lengths in both packings; the offset
    of its block of ``BLOCK`` rows in the first, and of each of those rows."""
    pid = tl.program_id(0)
    block = pid % n_blocks
    bh = pid // n_blocks
    head = bh % heads
    seq = bh // heads
    a0 = tl.load(starts_a + seq)
    a_len = tl.load(starts_a + seq + 1) - a0
    b0 = tl.load(starts_b + seq)
    b_len = tl.load(starts_b + seq + 1) - b0
    return head, a0, a_len, b0, b_len, block * BLOCK, block * BLOCK + tl.arange(0, BLOCK)


@triton.jit
def _rows(base, first, offs, stride_row, head, stride_head, HEAD_DIM: tl.constexpr):
    """Pointers to rows ``first + offs`` of one head."""
    return (
        base
        + (first + offs).to(tl.int64)[:, None] * stride_row
        + head * stride_head
        + tl.arange(0, HEAD_DIM)[None, :]
    )


@triton.jit
def _load(base, first, offs, n_valid, stride_row, stride_head, head, HEAD_DIM: tl.constexpr):
    """Rows ``first + offs`` of one head, zeros from row ``n_valid`` of the sequence on."""
    ptrs = _rows(base, first, offs, stride_row, head, stride_head, HEAD_DIM)
    return tl.load(ptrs, mask=(offs < n_valid)[:, None], other=0.0)


@triton.jit
def _store(base, value, first, offs, n_valid, stride_row, head, HEAD_DIM: tl.constexpr):
    """Writes ``value`` (in ``base``'s type) to the rows of :func:`_load` that exist, in a
    (rows, heads, HEAD_DIM) view with row stride ``stride_row`` and heads side by side."""
    ptrs = _rows(base, first, offs, stride_row, head, HEAD_DIM, HEAD_DIM)
    tl.store(ptrs, value.to(base.dtype.element_ty), mask=(offs < n_valid)[:, None])


@triton.jit
def _stats(first, offs, heads, head):
    """Offsets of rows ``first + offs`` of one head in a (rows, heads) tensor (lse, Delta)."""
    return (first + offs).to(tl.int64) * heads + head


@triton.jit
def _scores(
    a, b, offs_a, offs_b, k_len, qk_scale,
    CAUSAL: tl.constexpr, KEY_ROWS: tl.constexpr, PRECISION: tl.constexpr,
):  # fmt: skip
    """Scaled scores ``a @ b^T``, -inf where a query does not see a key: queries in ``a`` and
    keys in ``b``, or (``KEY_ROWS``) keys in ``a`` and queries in ``b``, the transposed scores."""
    s = tl.dot(a, tl.trans(b), input_precision=PRECISION) * qk_scale
    if KEY_ROWS:
        keep = (offs_a < k_len)[:, None]
        if CAUSAL:
            keep = keep & (offs_a[:, None] <= offs_b[None, :])
    else:
        keep = (offs_b < k_len)[None, :]
        if CAUSAL:
            keep = keep & (offs_b[None, :] <= offs_a[:, None])
    return tl.where(keep, s, float("-inf"))


@triton.jit
def _keys_end(k_len, m0, CAUSAL: tl.constexpr, BLOCK_M: tl.constexpr):
    """The end of the keys that the block of query rows from offset ``m0`` sees."""
    end = k_len
    if CAUSAL:
        end = tl.minimum(k_len, m0 + BLOCK_M)
    return end


@triton.jit
def forward_kernel(
    Q, K, V, q_starts, k_starts, Out, Lse,
    stride_qn, stride_qh, stride_kn, stride_kh, stride_vn, stride_vh, stride_out,
    heads, n_blocks, qk_scale,
    CAUSAL: tl.constexpr, HEAD_DIM: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, PRECISION: tl.constexpr,
):  # fmt: skip
    head, q0, q_len, k0, k_len, m0, offs_m = _locate(heads, n_blocks, q_starts, k_starts, BLOCK_M)
    if m0 >= q_len:
        return
    q = _load(Q, q0, offs_m, q_len, stride_qn, stride_qh, head, HEAD_DIM)
    acc = tl.zeros([BLOCK_M, HEAD_DIM], tl.float32)
    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)  # the running row maxima and sums
    l_i = tl.zeros([BLOCK_M], tl.float32)
    for n in range(0, _keys_end(k_len, m0, CAUSAL, BLOCK_M), BLOCK_N):
        offs_n = n + tl.arange(0, BLOCK_N)
        k = _load(K, k0, offs_n, k_len, stride_kn, stride_kh, head, HEAD_DIM)
        v = _load(V, k0, offs_n, k_len, stride_vn, stride_vh, head, HEAD_DIM)
        s = _scores(q, k, offs_m, offs_n, k_len, qk_scale, CAUSAL, False, PRECISION)
        # Key 0 is in the first block and seen by every row: m_i is finite from then on.
        m_new = tl.maximum(m_i, tl.max(s, 1))
        p = tl.exp2(s - m_new[:, None])
        alpha = tl.exp2(m_i - m_new)
        l_i = l_i * alpha + tl.sum(p, 1)
        acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v, input_precision=PRECISION)
        m_i = m_new
    _store(Out, acc / l_i[:, None], q0, offs_m, q_len, stride_out, head, HEAD_DIM)
    tl.store(Lse + _stats(q0, offs_m, heads, head), m_i + tl.log2(l_i), mask=offs_m < q_len)


@triton.jit
def backward_dq_kernel(
    Q, K, V, Out, dOut, Lse, q_starts, k_starts, Delta, dQ,
    stride_qn, stride_qh, stride_kn, stride_kh, stride_vn, stride_vh, stride_on, stride_oh,
    stride_don, stride_doh, stride_dq,
    heads, n_blocks, qk_scale, sm_scale,
    CAUSAL: tl.constexpr, HEAD_DIM: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, PRECISION: tl.constexpr,
):  # fmt: skip
    """dQ for one block of query rows; also writes those rows' Delta = rowsum(dO * O), which
    :func:`backward_dkdv_kernel` reads (it runs after this kernel).

    Query rows past the end of the sequence have zero q, dO, lse and Delta: they add nothing."""
    head, q0, q_len, k0, k_len, m0, offs_m = _locate(heads, n_blocks, q_starts, k_starts, BLOCK_M)
    if m0 >= q_len:
        return
    q = _load(Q, q0, offs_m, q_len, stride_qn, stride_qh, head, HEAD_DIM)
    do = _load(dOut, q0, offs_m, q_len, stride_don, stride_doh, head, HEAD_DIM)
    o = _load(Out, q0, offs_m, q_len, stride_on, stride_oh, head, HEAD_DIM)
    delta = tl.sum(do.to(tl.float32) * o.to(tl.float32), 1)
    stats = _stats(q0, offs_m, heads, head)
    tl.store(Delta + stats, delta, mask=offs_m < q_len)
    lse = tl.load(Lse + stats, mask=offs_m < q_len, other=0.0)
    dq = tl.zeros([BLOCK_M, HEAD_DIM], tl.float32)
    for n in range(0, _keys_end(k_len, m0, CAUSAL, BLOCK_M), BLOCK_N):
        offs_n = n + tl.arange(0, BLOCK_N)
        k = _load(K, k0, offs_n, k_len, stride_kn, stride_kh, head, HEAD_DIM)
        v = _load(V, k0, offs_n, k_len, stride_vn, stride_vh, head, HEAD_DIM)
        s = _scores(q, k, offs_m, offs_n, k_len, qk_scale, CAUSAL, False, PRECISION)
        p = tl.exp2(s - lse[:, None])
        dp = tl.dot(do, tl.trans(v), input_precision=PRECISION)
        ds = p * (dp - delta[:, None])
        dq += tl.dot(ds.to(k.dtype), k, input_precision=PRECISION)
    _store(dQ, dq * sm_scale, q0, offs_m, q_len, stride_dq, head, HEAD_DIM)


@triton.jit
def backward_dkdv_kernel(
    Q, K, V, dOut, Lse, Delta, q_starts, k_starts, dK, dV,
    stride_qn, stride_qh, stride_kn, stride_kh, stride_vn, stride_vh,
    stride_don, stride_doh, stride_dk, stride_dv,
    heads, n_blocks, qk_scale, sm_scale,
    CAUSAL: tl.constexpr, HEAD_DIM: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, PRECISION: tl.constexpr,
):  # fmt: skip
    """dK and dV for one block of key rows, over every query row that sees them (query rows
    past the end of the sequence add nothing, as in :func:`backward_dq_kernel`)."""
    head, k0, k_len, q0, q_len, n0, offs_n = _locate(heads, n_blocks, k_starts, q_starts, BLOCK_N)
    if n0 >= k_len:
        return
    k = _load(K, k0, offs_n, k_len, stride_kn, stride_kh, head, HEAD_DIM)
    v = _load(V, k0, offs_n, k_len, stride_vn, stride_vh, head, HEAD_DIM)
    dk = tl.zeros([BLOCK_N, HEAD_DIM], tl.float32)
    dv = tl.zeros([BLOCK_N, HEAD_DIM], tl.float32)
    start = 0
    if CAUSAL:
        start = n0  # earlier queries see none of these keys
    for m in range(start, q_len, BLOCK_M):
        offs_m = m + tl.arange(0, BLOCK_M)
        q = _load(Q, q0, offs_m, q_len, stride_qn, stride_qh, head, HEAD_DIM)
        do = _load(dOut, q0, offs_m, q_len, stride_don, stride_doh, head, HEAD_DIM)
        stats = _stats(q0, offs_m, heads, head)
        lse = tl.load(Lse + stats, mask=offs_m < q_len, other=0.0)
        delta = tl.load(Delta + stats, mask=offs_m < q_len, other=0.0)
        # Transposed scores: (keys, queries), so that dV and dK are plain products.
        st = _scores(k, q, offs_n, offs_m, k_len, qk_scale, CAUSAL, True, PRECISION)
        pt = tl.exp2(st - lse[None, :])
        dv += tl.dot(pt.to(do.dtype), do, input_precision=PRECISION)
        dpt = tl.dot(v, tl.trans(do), input_precision=PRECISION)
        dst = pt * (dpt - delta[None, :])
        dk += tl.dot(dst.to(q.dtype), q, input_precision=PRECISION)
    _store(dK, dk * sm_scale, k0, offs_n, k_len, stride_dk, head, HEAD_DIM)
    _store(dV, dv, k0, offs_n, k_len, stride_dv, head, HEAD_DIM)


# Whether these kernels run under Triton's interpreter (on CPU tensors), as they do when the
# environment has TRITON_INTERPRET=1 at the time this module is imported.
INTERPRETED = type(forward_kernel).__name__ == "InterpretedFunction"
