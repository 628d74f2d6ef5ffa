"""engine.short_attention's Triton kernels against packed_attention's reference path.

The kernels run on CPU through Triton's interpreter, in float32 (and float16: the interpreter
does not multiply bfloat16 blocks correctly): outputs and the gradients of queries, keys and
values, for causal self-attention and for cross-attention, on sequences from one row to several
blocks long, with the default block sizes and with others (so that more sequences span several
blocks, and query and key blocks differ in size).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from engine import model as engine_model
from engine import short_attention as sa
from engine.model import ModelConfig, Packed, Seq2SeqTransformer, packed_attention

TOLERANCE = 1e-4


@pytest.fixture(scope="module", autouse=True)
def interpreted_kernels() -> Iterator[None]:
    """TRITON_INTERPRET=1 while these tests run: Triton reads it when a kernel is defined (the
    kernels' module is imported here) and in parts of the interpreter while they run."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRITON_INTERPRET", "1")
        name = "engine._short_attention_kernels"
        if name in sys.modules:
            importlib.reload(sys.modules[name])
        kernels = importlib.import_module(name)
        assert kernels.INTERPRETED
        yield


@pytest.fixture
def blocks() -> Iterator[None]:
    chosen = sa.FORWARD, sa.BACKWARD, sa.BACKWARD_DKDV
    yield
    sa.FORWARD, sa.BACKWARD, sa.BACKWARD_DKDV = chosen
    sa.ADAPT_BLOCKS = True


def qkv(q_lens: list[int], k_lens: list[int], heads: int, dim: int) -> tuple[Tensor, ...]:
    g = torch.Generator().manual_seed(sum(q_lens) + 7 * sum(k_lens) + dim)

    def make(n: int) -> Tensor:
        return torch.randn(n, heads, dim, generator=g).requires_grad_()

    q, k, v = make(sum(q_lens)), make(sum(k_lens)), make(sum(k_lens))
    return q, k, v, torch.randn(q.shape, generator=g)


def compare(
    q_lens: list[int], k_lens: list[int], causal: bool, heads: int = 2, dim: int = 64
) -> None:
    q, k, v, grad = qkv(q_lens, k_lens, heads, dim)
    q_seqs, k_seqs = Packed.of(q_lens), Packed.of(k_lens)
    out = sa.short_attention(q, k, v, q_seqs, k_seqs, causal)
    grads = torch.autograd.grad(out, (q, k, v), grad)
    ref = packed_attention(q, k, v, q_seqs, k_seqs, causal)
    ref_grads = torch.autograd.grad(ref, (q, k, v), grad)
    for name, got, want in zip(
        ["out", "dq", "dk", "dv"], [out, *grads], [ref, *ref_grads], strict=True
    ):
        assert got.shape == want.shape
        err = (got - want).abs().max().item()
        assert err < TOLERANCE, f"{name}: max error {err:.2e}"


SELF_LENGTHS = [[1], [1, 2, 3], [64], [65, 1, 130, 7], [200, 17]]
CROSS_LENGTHS = [  # (queries, keys) of each pair
    ([1], [1]),
    ([120, 1, 37], [24, 9, 1]),
    ([5, 70], [100, 3]),
    ([130, 64, 2], [65, 64, 140]),
]


@pytest.mark.parametrize("lengths", SELF_LENGTHS)
def test_causal_self_attention_matches_the_reference(lengths: list[int]) -> None:
    compare(lengths, lengths, causal=True)


@pytest.mark.parametrize(("q_lens", "k_lens"), CROSS_LENGTHS)
def test_cross_attention_matches_the_reference(q_lens: list[int], k_lens: list[int]) -> None:
    compare(q_lens, k_lens, causal=False)


@pytest.mark.parametrize(
    ("forward", "backward", "dkdv", "dim"),
    [
        ((16, 32), (32, 16), None, 32),
        ((32, 16), (16, 32), (32, 16), 16),
        ((128, 32), (16, 64), None, 64),
        ((64, 64), (64, 32), (32, 64), 64),
    ],
)
@pytest.mark.usefixtures("blocks")
def test_other_block_sizes_and_head_dims(
    forward: tuple[int, int], backward: tuple[int, int], dkdv: tuple[int, int] | None, dim: int
) -> None:
    """Query and key blocks of different sizes in each pass (the dK/dV kernel's as the dQ
    kernel's, or its own)."""
    sa.FORWARD, sa.BACKWARD = sa.Blocks(*forward), sa.Blocks(*backward)
    sa.BACKWARD_DKDV = None if dkdv is None else sa.Blocks(*dkdv, stages=1)
    sa.ADAPT_BLOCKS = False  # exactly these sizes
    compare([33, 1, 70, 16], [33, 1, 70, 16], causal=True, dim=dim)
    compare([33, 1, 70, 16], [5, 40, 1, 17], causal=False, dim=dim)


@pytest.mark.usefixtures("blocks")
def test_blocks_shrink_to_short_sequences_and_still_match() -> None:
    """Prompts of a few tokens get 16- or 32-row blocks instead of mostly empty 64-row ones;
    WGSL of a hundred tokens keeps 64."""
    usual = sa.Blocks()
    assert sa._fitted(usual, 24.0, 24.0) == sa.Blocks(32, 32)
    assert sa._fitted(usual, 110.0, 24.0) == sa.Blocks(64, 32)
    assert sa._fitted(usual, 5.0, 120.0) == sa.Blocks(16, 64)
    sa.ADAPT_BLOCKS = False
    assert sa._fitted(usual, 5.0, 5.0) == usual
    sa.ADAPT_BLOCKS = True
    compare([20, 3, 31, 9], [20, 3, 31, 9], causal=True)
    compare([110, 90, 130], [24, 9, 30], causal=False)


@pytest.mark.usefixtures("blocks")
def test_block_sizes_must_be_powers_of_two() -> None:
    q, k, v, _ = qkv([5], [5], 2, 32)
    seqs = Packed.of([5])
    odd, usual = sa.Blocks(m=48, n=64), sa.Blocks()
    for sa.FORWARD, sa.BACKWARD, sa.BACKWARD_DKDV in [
        (odd, usual, None),
        (usual, odd, None),
        (usual, usual, odd),
    ]:
        with pytest.raises(ValueError, match="powers of two"):
            out = sa.short_attention(q, k, v, seqs, seqs, True)
            torch.autograd.grad(out, (q, k, v), torch.ones_like(out))


def test_half_precision_inputs() -> None:
    """float16 (the interpreter cannot multiply bfloat16 blocks): products in float16, sums and
    softmax in float32, to about float16's precision."""
    lengths, keys = [70, 1, 9], [24, 5, 1]
    for k_lens, causal in [(lengths, True), (keys, False)]:
        q, k, v, grad = (t.detach().half().float() for t in qkv(lengths, k_lens, 2, 64))
        q_seqs, k_seqs = Packed.of(lengths), Packed.of(k_lens)
        hq, hk, hv = (t.half().requires_grad_() for t in (q, k, v))
        out = sa.short_attention(hq, hk, hv, q_seqs, k_seqs, causal)
        got = [out, *torch.autograd.grad(out, (hq, hk, hv), grad.half())]
        q, k, v = (t.requires_grad_() for t in (q, k, v))
        ref = packed_attention(q, k, v, q_seqs, k_seqs, causal)
        want = [ref, *torch.autograd.grad(ref, (q, k, v), grad)]
        for a, b in zip(got, want, strict=True):
            assert a.dtype == torch.float16
            assert (a.float() - b).abs().max().item() < 1e-2


def test_strided_inputs_as_the_model_passes_them() -> None:
    """Queries, keys and values as views of one projection's output (row stride 3 x width)."""
    lengths = [9, 70, 1]
    g = torch.Generator().manual_seed(3)
    x = torch.randn(sum(lengths), 3 * 128, generator=g, requires_grad=True)
    q, k, v = (t.view(-1, 2, 64) for t in x.chunk(3, dim=-1))
    seqs = Packed.of(lengths)
    grad = torch.randn(q.shape, generator=g)
    (got,) = torch.autograd.grad(sa.short_attention(q, k, v, seqs, seqs, True), x, grad)
    (want,) = torch.autograd.grad(packed_attention(q, k, v, seqs, seqs, True), x, grad)
    assert (got - want).abs().max().item() < TOLERANCE


def rows_and_reference(
    q_lens: list[int], k_lens: list[int], self_attention: bool
) -> tuple[list[Tensor], tuple[Tensor, Tensor | None, None], Tensor]:
    """Projection rows as the model passes them (2 heads of 64): one self-attention projection
    (N, 384), or (N, 128) queries and (M, 256) keys and values; the head views of the same
    tensors for the reference; and an output gradient."""
    g = torch.Generator().manual_seed(11 + sum(q_lens))
    n, m = sum(q_lens), sum(k_lens)
    if self_attention:
        rows = [torch.randn(n, 384, generator=g, requires_grad=True)]
    else:
        rows = [torch.randn(r, w, generator=g, requires_grad=True) for r, w in [(n, 128), (m, 256)]]
    layout = (rows[0], rows[1] if len(rows) > 1 else None, None)
    return rows, layout, torch.randn(n, 2, 64, generator=g)


@pytest.mark.parametrize("self_attention", [True, False])
def test_projection_rows_give_one_gradient_each(self_attention: bool) -> None:
    """Given the projections' rows, the kernels read the heads in place and write dQ, dK and dV
    into one gradient per projection: the same values as attention on the head views."""
    q_lens, k_lens = [9, 70, 1, 33], ([9, 70, 1, 33] if self_attention else [4, 1, 30, 12])
    rows, layout, grad = rows_and_reference(q_lens, k_lens, self_attention)
    q_seqs, k_seqs = Packed.of(q_lens), Packed.of(k_lens)
    out = sa.short_attention(*layout, q_seqs, k_seqs, self_attention, heads=2)
    got = [out, *torch.autograd.grad(out, rows, grad)]
    q, k, v = sa.head_views(*layout, heads=2)
    ref = packed_attention(q, k, v, q_seqs, k_seqs, self_attention)
    want = [ref, *torch.autograd.grad(ref, rows, grad)]
    for a, b in zip(got, want, strict=True):
        assert a.shape == b.shape
        assert (a - b).abs().max().item() < TOLERANCE


def test_no_concatenation_of_gradients_in_a_compiled_backward() -> None:
    """The model's packed self-attention, compiled: the backward graph hands the kernels' one
    gradient to the projection as it is (with separate dQ, dK, dV it concatenated them, a copy
    of every projection row)."""
    backward_ops: list[str] = []

    def keep_backward(gm: torch.fx.GraphModule, _: list[Tensor]) -> object:
        backward_ops.extend(str(n.target) for n in gm.graph.nodes if n.op == "call_function")
        return make_boxed_func(gm.forward)

    from functorch.compile import make_boxed_func
    from torch._dynamo.backends.common import aot_autograd

    backend = aot_autograd(
        fw_compiler=lambda gm, _: make_boxed_func(gm.forward), bw_compiler=keep_backward
    )
    cfg = ModelConfig(
        src_vocab_size=10, tgt_vocab_size=10, d_model=128, nhead=2, num_layers=1,
        dim_feedforward=64, dropout=0.0, max_seq_len=128,
    )  # fmt: skip
    attention = engine_model.SelfAttention(cfg, causal=True)
    compiled = torch.compile(attention.packed, fullgraph=True, backend=backend)
    lengths = [5, 40, 17]
    x = torch.randn(sum(lengths), 128, requires_grad=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine_model, "PACKED_ATTENTION", "short")
        compiled(x, Packed.of(lengths)).sum().backward()  # type: ignore[no-untyped-call]
    assert any("short_attention_backward" in op for op in backward_ops), backward_ops
    assert not any("cat" in op or "stack" in op for op in backward_ops), backward_ops


def test_one_operator_in_a_compiled_graph() -> None:
    """torch.compile(fullgraph=True, dynamic=True) keeps the kernels as one operator each way
    (no graph break) and gives the eager results on new lengths."""
    graphs = []

    def backend(gm: torch.fx.GraphModule, inputs: list[Tensor]) -> object:
        graphs.append(gm)
        return torch._dynamo.lookup_backend("aot_eager")(gm, inputs)

    def attend(q: Tensor, k: Tensor, v: Tensor, qs: Packed, ks: Packed) -> Tensor:
        return sa.short_attention(q, k, v, qs, ks, False)

    compiled = torch.compile(attend, fullgraph=True, dynamic=True, backend=backend)
    for q_lens, k_lens in [([5, 40, 17], [3, 9, 62]), ([8, 3, 100, 2], [4, 4, 4, 4])]:
        q, k, v, grad = qkv(q_lens, k_lens, 2, 64)
        q_seqs, k_seqs = Packed.of(q_lens), Packed.of(k_lens)
        got = torch.autograd.grad(compiled(q, k, v, q_seqs, k_seqs), (q, k, v), grad)
        want = torch.autograd.grad(
            packed_attention(q, k, v, q_seqs, k_seqs, False), (q, k, v), grad
        )
        for a, b in zip(got, want, strict=True):
            assert (a - b).abs().max().item() < TOLERANCE
    ops = [str(n.target) for gm in graphs for n in gm.graph.nodes if n.op == "call_function"]
    assert any("short_attention_forward" in op for op in ops), ops


def test_the_model_trains_on_packed_pairs_with_either_kernel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """forward_packed with PACKED_ATTENTION = "short", eager and compiled as training compiles
    it (one graph, dynamic shapes): the reference path's logits and gradients."""
    cfg = ModelConfig(
        src_vocab_size=20,
        tgt_vocab_size=30,
        d_model=128,
        nhead=2,
        num_layers=1,
        dim_feedforward=64,
        dropout=0.0,
        max_seq_len=200,
    )
    torch.manual_seed(0)
    model = Seq2SeqTransformer(cfg)
    compiled = torch.compile(
        model.forward_packed, fullgraph=True, dynamic=True, backend="aot_eager"
    )
    src_lens, tgt_lens = [3, 12, 1], [70, 5, 130]
    src = torch.randint(1, 20, (sum(src_lens),))
    tgt = torch.randint(1, 30, (sum(tgt_lens),))
    results = []
    for kernel, forward in [
        ("varlen", model.forward_packed),
        ("short", model.forward_packed),
        ("short", compiled),
    ]:
        monkeypatch.setattr(engine_model, "PACKED_ATTENTION", kernel)
        model.zero_grad()
        logits = forward(src, Packed.of(src_lens), tgt, Packed.of(tgt_lens))
        F.cross_entropy(logits, tgt).backward()  # type: ignore[no-untyped-call]
        grads = [p.grad.clone() for p in model.parameters() if p.grad is not None]
        results.append([logits.detach(), *grads])
    for got in results[1:]:
        for a, b in zip(got, results[0], strict=True):
            assert (a - b).abs().max().item() < TOLERANCE


def test_unsupported_inputs_are_refused() -> None:
    q = torch.zeros(4, 2, 48)
    seqs = Packed.of([4])
    with pytest.raises(ValueError, match="head_dim"):
        sa.short_attention(q, q, q, seqs, seqs, True)
    with pytest.raises(ValueError, match="share one of"):
        sa.short_attention(q[..., :32], q[..., :32].double(), q[..., :32], seqs, seqs, True)
