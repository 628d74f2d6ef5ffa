"""The encoder-decoder transformer that turns an English prompt into WGSL.

One readable file in forward order: config, attention, blocks, encoder, decoder, the model, then
saving and loading. The prompt encoder reads the whole prompt; the WGSL decoder is causal and
attends to the encoder through cross-attention. Attention goes through
``torch.nn.functional.scaled_dot_product_attention`` (flash / memory-efficient kernels where the
device has them). Blocks are pre-norm; positions are learned; the decoder's input embedding and
its output head share one matrix.
Training can also take pairs laid end to end with no padding
(:meth:`Seq2SeqTransformer.forward_packed`, variable-length attention kernels on CUDA).

Inference is incremental: :meth:`Seq2SeqTransformer.encode` runs once per prompt, then each
:meth:`Seq2SeqTransformer.decode_step` feeds one new token per sequence and reuses a
:class:`DecoderCache` holding every layer's self-attention keys/values and the cross-attention
keys/values computed once from the encoder output. Sequences are a batch, so beams are a batch;
:meth:`DecoderCache.reorder` follows beam search's choice of parents.

Weights are stored as safetensors; nothing here ever unpickles.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import math
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.short_attention import HEAD_DIMS as SHORT_HEAD_DIMS
from engine.short_attention import head_views

if TYPE_CHECKING:
    from engine.text_encoder import BertEncoder
    from engine.tokenizer import PromptTokenizer, Tokenizer

WEIGHTS_FILE = "model.safetensors"
PROMPT_TOKENIZER_FILE = "tokenizer_prompt.json"
WGSL_TOKENIZER_FILE = "tokenizer_wgsl.json"
CONFIG_FILE = "config.toml"
METRICS_FILE = "metrics.json"
_METADATA_KEY = "model_config"
PRETRAINED_PREFIX = "pretrained."


@dataclass
class ModelConfig:
    """Everything needed to rebuild the network: the ``[model]`` table plus the vocabularies."""

    src_vocab_size: int
    tgt_vocab_size: int
    src_pad_id: int = 0
    tgt_pad_id: int = 0
    d_model: int = 256
    nhead: int = 4
    num_layers: int = 3
    dim_feedforward: int = 1024
    dropout: float = 0.1
    max_seq_len: int = 512
    tie_weights: bool = True
    prompt_encoder: str = ""
    """A pretrained prompt encoder (:mod:`engine.text_encoder`), frozen under the trained
    encoder layers; "" trains the prompt embedding from nothing."""
    prompt_mask_rate: float = 0.0
    """In training only, the share of prompt word pieces the pretrained encoder sees as its
    mask token, so that the decoder learns to read the whole sentence, not a few words."""

    def __post_init__(self) -> None:
        if self.d_model % self.nhead != 0:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by nhead ({self.nhead})")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# --------------------------------------------------------------------------------------------
# Attention


@dataclass(frozen=True)
class Packed:
    """Sequences of different lengths laid end to end along one axis, with no padding: row
    ``starts[i]`` to ``starts[i + 1]`` is sequence ``i``. Training on large GPUs uses it, so
    that no work is spent on pads (:meth:`Seq2SeqTransformer.forward_packed`)."""

    starts: Tensor  # int32 (B + 1,): cumulative lengths, starting at 0
    positions: Tensor  # long (N,): each row's position within its sequence
    longest: int

    @staticmethod
    def of(lengths: list[int], device: torch.device | None = None) -> Packed:
        sizes = torch.tensor(lengths, dtype=torch.long)
        starts = torch.zeros(len(lengths) + 1, dtype=torch.int32)
        starts[1:] = sizes.cumsum(0)
        # each row's index minus the first row of its sequence
        positions = torch.arange(int(starts[-1])) - starts[:-1].long().repeat_interleave(sizes)
        return Packed(starts.to(device), positions.to(device), max(lengths))

    def to(self, device: torch.device) -> Packed:
        return Packed(self.starts.to(device), self.positions.to(device), self.longest)


@functools.cache
def _varlen_causal(causal: bool) -> dict[str, Any]:
    """How this PyTorch's ``varlen_attn`` is told to be causal (the argument changed name)."""
    import inspect

    from torch.nn.attention.varlen import varlen_attn

    if "window_size" in inspect.signature(varlen_attn).parameters:
        return {"window_size": (-1, 0) if causal else (-1, -1)}
    return {"is_causal": causal}


# The kernel of packed_attention: "varlen", PyTorch's variable-length flash attention on CUDA
# (one sequence at a time elsewhere), or "short", engine.short_attention's Triton kernels for
# short sequences (CUDA, or CPU under Triton's interpreter); "auto": "short" on CUDA where
# triton is installed (CUDA builds of PyTorch ship it) and the head width is one the kernels
# take, else "varlen". Read at each call.
PACKED_ATTENTION = "auto"
# Whether the packed attention layers hand packed_attention their projections' rows (so that
# the Triton kernels write one gradient per projection) or (False) head views of q, k and v
# (a concatenation of dQ, dK and dV in the backward pass; kept for comparison). Read at each
# call.
PACKED_ROWS = True
_HAS_TRITON = importlib.util.find_spec("triton") is not None


def packed_attention(
    q: Tensor,
    k: Tensor | None,
    v: Tensor | None,
    q_seqs: Packed,
    k_seqs: Packed,
    causal: bool,
    heads: int | None = None,
) -> Tensor:
    """Attention within each packed sequence: (N, H, D) queries against (M, H, D) keys/values,
    query sequence i against key sequence i; or, given ``heads``, the projections' rows
    (:func:`engine.short_attention.head_views`: a self-attention projection's (N, 3 x width)
    rows with ``k = v = None``, or (N, width) queries and (M, 2 x width) keys and values with
    ``v = None``), whose gradients the Triton kernels then write as one tensor each. Returns
    (N, H, D). On CUDA one variable-length kernel (no dropout of attention weights: the kernels
    have none), chosen by ``PACKED_ATTENTION``; elsewhere one sequence at a time."""
    heads = q.shape[1] if heads is None else heads
    q3, k3, v3 = head_views(q, k, v, heads)
    kernel = PACKED_ATTENTION
    if kernel == "auto":
        short = q.is_cuda and _HAS_TRITON and q3.shape[-1] in SHORT_HEAD_DIMS
        kernel = "short" if short else "varlen"
    if kernel == "short":
        from engine.short_attention import short_attention

        return short_attention(q, k, v, q_seqs, k_seqs, causal, heads)
    q, k, v = q3, k3, v3
    if q.is_cuda:
        from torch.nn.attention.varlen import varlen_attn

        out = varlen_attn(
            q,
            k,
            v,
            q_seqs.starts,
            k_seqs.starts,
            q_seqs.longest,
            k_seqs.longest,
            **_varlen_causal(causal),
        )
        assert isinstance(out, Tensor)  # no auxiliary outputs were asked for
        return out
    qs, ks = q_seqs.starts.tolist(), k_seqs.starts.tolist()
    parts = []
    for i in range(len(qs) - 1):
        head = slice(qs[i], qs[i + 1])
        keys = slice(ks[i], ks[i + 1])
        y = F.scaled_dot_product_attention(
            q[head].transpose(0, 1),
            k[keys].transpose(0, 1),
            v[keys].transpose(0, 1),
            is_causal=causal,
        )
        parts.append(y.transpose(0, 1))
    return torch.cat(parts)


class SelfAttention(nn.Module):
    """Multi-head self-attention; causal in the decoder, padding-masked in the encoder."""

    def __init__(self, cfg: ModelConfig, causal: bool) -> None:
        super().__init__()
        self.nhead = cfg.nhead
        self.causal = causal
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.dropout = cfg.dropout

    def _heads(self, x: Tensor) -> Tensor:
        b, t, d = x.shape
        return x.view(b, t, self.nhead, d // self.nhead).transpose(1, 2)

    def forward(self, x: Tensor, key_mask: Tensor | None = None) -> Tensor:
        """``key_mask``: bool (B, 1, 1, T), True where a key may be attended to."""
        q, k, v = self._split(x)
        y = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=key_mask,
            dropout_p=self.dropout if self.training else 0.0,
            is_causal=self.causal and key_mask is None,
        )
        out: Tensor = self.proj(y.transpose(1, 2).flatten(2))
        return out

    def _split(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        return self._heads(q), self._heads(k), self._heads(v)

    def packed(self, x: Tensor, seqs: Packed) -> Tensor:
        """``x``: (N, d) rows of the sequences ``seqs`` laid end to end."""
        rows = self.qkv(x)
        if PACKED_ROWS:
            y = packed_attention(rows, None, None, seqs, seqs, self.causal, self.nhead)
        else:
            y = packed_attention(*head_views(rows, None, None, self.nhead), seqs, seqs, self.causal)
        out: Tensor = self.proj(y.flatten(1))
        return out

    def step(self, x: Tensor, past: tuple[Tensor, Tensor] | None) -> tuple[Tensor, Tensor, Tensor]:
        """One new position per sequence: returns (output, keys, values) with the past appended."""
        q, k, v = self._split(x)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        y = F.scaled_dot_product_attention(q, k, v)
        return self.proj(y.transpose(1, 2).flatten(2)), k, v


class CrossAttention(nn.Module):
    """Decoder queries attend to the encoder output; keys/values can be computed once."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.nhead = cfg.nhead
        self.q = nn.Linear(cfg.d_model, cfg.d_model)
        self.kv = nn.Linear(cfg.d_model, 2 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.dropout = cfg.dropout

    def _heads(self, x: Tensor) -> Tensor:
        b, t, d = x.shape
        return x.view(b, t, self.nhead, d // self.nhead).transpose(1, 2)

    def keys_values(self, memory: Tensor) -> tuple[Tensor, Tensor]:
        k, v = self.kv(memory).chunk(2, dim=-1)
        return self._heads(k), self._heads(v)

    def forward(
        self, x: Tensor, kv: tuple[Tensor, Tensor], key_mask: Tensor | None = None
    ) -> Tensor:
        y = F.scaled_dot_product_attention(
            self._heads(self.q(x)),
            kv[0],
            kv[1],
            attn_mask=key_mask,
            dropout_p=self.dropout if self.training else 0.0,
        )
        out: Tensor = self.proj(y.transpose(1, 2).flatten(2))
        return out

    def packed(self, x: Tensor, memory: Tensor, x_seqs: Packed, memory_seqs: Packed) -> Tensor:
        """(N, d) packed queries attend to their own sequence's rows of (M, d) packed memory."""
        q, kv = self.q(x), self.kv(memory)
        if PACKED_ROWS:
            y = packed_attention(q, kv, None, x_seqs, memory_seqs, False, self.nhead)
        else:
            y = packed_attention(*head_views(q, kv, None, self.nhead), x_seqs, memory_seqs, False)
        out: Tensor = self.proj(y.flatten(1))
        return out


class FeedForward(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.up = nn.Linear(cfg.d_model, cfg.dim_feedforward)
        self.down = nn.Linear(cfg.dim_feedforward, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.drop(self.down(F.gelu(self.up(x))))
        return out


# --------------------------------------------------------------------------------------------
# Blocks


class EncoderBlock(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.attn = SelfAttention(cfg, causal=False)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.ff = FeedForward(cfg)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: Tensor, key_mask: Tensor | None) -> Tensor:
        x = x + self.drop(self.attn(self.ln1(x), key_mask))
        out: Tensor = x + self.ff(self.ln2(x))
        return out

    def packed(self, x: Tensor, seqs: Packed) -> Tensor:
        x = x + self.drop(self.attn.packed(self.ln1(x), seqs))
        out: Tensor = x + self.ff(self.ln2(x))
        return out


class DecoderBlock(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.self_attn = SelfAttention(cfg, causal=True)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.cross_attn = CrossAttention(cfg)
        self.ln3 = nn.LayerNorm(cfg.d_model)
        self.ff = FeedForward(cfg)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: Tensor, memory: Tensor, memory_mask: Tensor | None) -> Tensor:
        x = x + self.drop(self.self_attn(self.ln1(x)))
        kv = self.cross_attn.keys_values(memory)
        x = x + self.drop(self.cross_attn(self.ln2(x), kv, memory_mask))
        out: Tensor = x + self.ff(self.ln3(x))
        return out

    def packed(self, x: Tensor, memory: Tensor, seqs: Packed, memory_seqs: Packed) -> Tensor:
        x = x + self.drop(self.self_attn.packed(self.ln1(x), seqs))
        x = x + self.drop(self.cross_attn.packed(self.ln2(x), memory, seqs, memory_seqs))
        out: Tensor = x + self.ff(self.ln3(x))
        return out

    def step(
        self,
        x: Tensor,
        past: tuple[Tensor, Tensor] | None,
        cross_kv: tuple[Tensor, Tensor],
        memory_mask: Tensor | None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        a, k, v = self.self_attn.step(self.ln1(x), past)
        x = x + a
        x = x + self.cross_attn(self.ln2(x), cross_kv, memory_mask)
        return x + self.ff(self.ln3(x)), k, v


# --------------------------------------------------------------------------------------------
# Inference state


@dataclass
class Memory:
    """The encoder's output for a batch of prompts.

    ``mask`` is bool (B, 1, 1, S), True on real prompt tokens; ``None`` when no prompt is padded.
    """

    states: Tensor
    mask: Tensor | None

    @property
    def batch_size(self) -> int:
        return int(self.states.shape[0])

    def index_select(self, indices: Tensor) -> Memory:
        """Rows ``indices`` of the batch, e.g. ``arange(B).repeat_interleave(beams)``."""
        mask = None if self.mask is None else self.mask.index_select(0, indices)
        return Memory(self.states.index_select(0, indices), mask)


@dataclass
class DecoderCache:
    """Per-layer self-attention keys/values so far, and the fixed cross-attention keys/values."""

    cross: list[tuple[Tensor, Tensor]]
    memory_mask: Tensor | None
    self_kv: list[tuple[Tensor, Tensor]] = field(default_factory=list)
    length: int = 0

    def reorder(self, indices: Tensor) -> DecoderCache:
        """Keep batch rows ``indices`` (beam search: the parent of each surviving beam)."""

        def pick(pair: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
            return pair[0].index_select(0, indices), pair[1].index_select(0, indices)

        mask = None if self.memory_mask is None else self.memory_mask.index_select(0, indices)
        return DecoderCache(
            cross=[pick(p) for p in self.cross],
            memory_mask=mask,
            self_kv=[pick(p) for p in self.self_kv],
            length=self.length,
        )


# --------------------------------------------------------------------------------------------
# The model


class Seq2SeqTransformer(nn.Module):
    """Prompt encoder + causal WGSL decoder with cross-attention.

    ``residual_dtype``: under autocast, the dtype of the residual stream of teacher-forced
    passes (:meth:`forward`, :meth:`encode`, :meth:`decode`, :meth:`forward_packed`): the
    embeddings are cast to it, so every block adds its (autocast, bf16) output to a stream of
    that dtype; layer norms still compute in fp32. ``None`` (the default) keeps the stream fp32
    as the embeddings are. Outside autocast, and in :meth:`decode_step`, it changes nothing.
    Not part of the saved model: a training option (``[training] bf16_residual``).
    """

    def __init__(self, cfg: ModelConfig, residual_dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.residual_dtype = residual_dtype
        d = cfg.d_model
        self.pretrained: BertEncoder | None = None
        if cfg.prompt_encoder:
            from engine.text_encoder import encoder_width

            self.src_proj = nn.Linear(encoder_width(cfg.prompt_encoder), d)
        else:
            self.src_embed = nn.Embedding(cfg.src_vocab_size, d)
        self.tgt_embed = nn.Embedding(cfg.tgt_vocab_size, d)
        if not cfg.prompt_encoder:  # registration order fixes the initialisation order
            self.src_pos = nn.Embedding(cfg.max_seq_len, d)
        self.tgt_pos = nn.Embedding(cfg.max_seq_len, d)
        self.drop = nn.Dropout(cfg.dropout)
        self.encoder = nn.ModuleList(EncoderBlock(cfg) for _ in range(cfg.num_layers))
        self.enc_ln = nn.LayerNorm(d)
        self.decoder = nn.ModuleList(DecoderBlock(cfg) for _ in range(cfg.num_layers))
        self.dec_ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, cfg.tgt_vocab_size, bias=False)
        self.apply(self._init_weights)
        if cfg.tie_weights:
            self.head.weight = self.tgt_embed.weight
        self.embed_scale = math.sqrt(d) if cfg.tie_weights else 1.0
        if cfg.prompt_encoder:
            from engine.text_encoder import load_bert_encoder, special_ids

            # after the initialisation above, which would overwrite its weights; frozen, and
            # never part of this model's own safetensors file
            self.pretrained = load_bert_encoder(cfg.prompt_encoder)
            self._special_ids = special_ids(cfg.prompt_encoder)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)

    @property
    def encoder_blocks(self) -> list[EncoderBlock]:
        return [b for b in self.encoder if isinstance(b, EncoderBlock)]

    @property
    def decoder_blocks(self) -> list[DecoderBlock]:
        return [b for b in self.decoder if isinstance(b, DecoderBlock)]

    def num_parameters(self) -> int:
        """Parameters that training changes (a frozen pretrained prompt encoder is not counted)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def _stream(self, x: Tensor) -> Tensor:
        """The embeddings as the residual stream: cast to ``residual_dtype`` under autocast."""
        if self.residual_dtype is None or not torch.is_autocast_enabled(x.device.type):
            return x
        return x.to(self.residual_dtype)

    def _check_length(self, n: int, what: str) -> None:
        if n > self.cfg.max_seq_len:
            raise ValueError(f"{what} of {n} tokens exceeds max_seq_len {self.cfg.max_seq_len}")

    def encode(
        self, src_ids: Tensor, padded: bool = True, prompt_states: Tensor | None = None
    ) -> Memory:
        """Run the encoder on (B, S) prompt ids, right-padded with ``src_pad_id``.

        ``padded=False`` promises that no prompt in the batch is padded: attention then runs
        without a mask, which lets SDPA pick its fastest (flash) kernel.

        ``prompt_states``: the frozen pretrained encoder's (B, S, width) output for these ids,
        computed beforehand (:meth:`pretrained_states`), so that training does not run the
        frozen encoder again every epoch. Not with ``prompt_mask_rate`` in training, which
        changes its input each time.
        """
        s = src_ids.shape[1]
        self._check_length(s, "prompt")
        mask = (src_ids != self.cfg.src_pad_id)[:, None, None, :] if padded else None
        if self.pretrained is not None:
            masking = self.training and self.cfg.prompt_mask_rate > 0
            if prompt_states is not None and not masking:
                states = prompt_states
            else:
                if masking:
                    src_ids = self._mask_prompt(src_ids)
                with torch.no_grad():
                    states = self.pretrained(src_ids, mask)
            x = self.drop(self.src_proj(states))
        else:
            pos = torch.arange(s, device=src_ids.device)
            x = self.drop(self.src_embed(src_ids) + self.src_pos(pos))
        x = self._stream(x)
        for block in self.encoder:
            x = block(x, mask)
        return Memory(self.enc_ln(x), mask)

    def _mask_prompt(self, src_ids: Tensor) -> Tensor:
        """Replace a random ``prompt_mask_rate`` share of word pieces by the mask token."""
        specials = self._special_ids
        hit = torch.rand(src_ids.shape, device=src_ids.device) < self.cfg.prompt_mask_rate
        hit &= ~torch.isin(src_ids, torch.tensor(specials.keep, device=src_ids.device))
        return torch.where(hit, torch.full_like(src_ids, specials.mask), src_ids)

    def _embed_tgt(self, ids: Tensor, start: int) -> Tensor:
        pos = torch.arange(start, start + ids.shape[1], device=ids.device)
        out: Tensor = self.drop(self.tgt_embed(ids) * self.embed_scale + self.tgt_pos(pos))
        return out

    def decode(self, tgt_in_ids: Tensor, memory: Memory) -> Tensor:
        """Teacher-forced decoder: (B, T) ids -> (B, T, V) logits. Right padding needs no mask
        (causal attention keeps real positions from seeing later pads; the loss ignores pads)."""
        self._check_length(tgt_in_ids.shape[1], "WGSL sequence")
        x = self._stream(self._embed_tgt(tgt_in_ids, 0))
        for block in self.decoder:
            x = block(x, memory.states, memory.mask)
        out: Tensor = self.head(self.dec_ln(x))
        return out

    def forward(
        self,
        src_ids: Tensor,
        tgt_in_ids: Tensor,
        src_padded: bool = True,
        prompt_states: Tensor | None = None,
    ) -> Tensor:
        """Teacher forcing: (B, S) prompt ids and (B, T) decoder inputs -> (B, T, V) logits."""
        return self.decode(tgt_in_ids, self.encode(src_ids, src_padded, prompt_states))

    def forward_packed(
        self, src_ids: Tensor, src_seqs: Packed, tgt_in_ids: Tensor, tgt_seqs: Packed
    ) -> Tensor:
        """Teacher forcing on packed batches: (N,) prompt ids laid end to end as ``src_seqs``
        and (M,) decoder inputs as ``tgt_seqs`` -> (M, V) logits, with no padding anywhere.
        The same function as :meth:`forward` on each pair, except that attention weights are
        not dropped out. Models with a pretrained prompt encoder use :meth:`forward`."""
        if self.pretrained is not None:
            raise ValueError("packed batches need a model without a pretrained prompt encoder")
        self._check_length(src_seqs.longest, "prompt")
        self._check_length(tgt_seqs.longest, "WGSL sequence")
        x = self._stream(self.drop(self.src_embed(src_ids) + self.src_pos(src_seqs.positions)))
        for enc in self.encoder_blocks:
            x = enc.packed(x, src_seqs)
        memory = self.enc_ln(x)
        tgt = self.tgt_embed(tgt_in_ids) * self.embed_scale + self.tgt_pos(tgt_seqs.positions)
        y = self._stream(self.drop(tgt))
        for dec in self.decoder_blocks:
            y = dec.packed(y, memory, tgt_seqs, src_seqs)
        out: Tensor = self.head(self.dec_ln(y))
        return out

    @torch.no_grad()
    def pretrained_states(self, src_ids: Tensor) -> Tensor:
        """The frozen pretrained encoder's output for (B, S) right-padded prompt ids."""
        if self.pretrained is None:
            raise ValueError("this model has no pretrained prompt encoder")
        mask = (src_ids != self.cfg.src_pad_id)[:, None, None, :]
        states: Tensor = self.pretrained(src_ids, mask)
        return states

    def start_cache(self, memory: Memory) -> DecoderCache:
        """Cross-attention keys/values for every layer, computed once per prompt (or beam)."""
        return DecoderCache(
            cross=[block.cross_attn.keys_values(memory.states) for block in self.decoder_blocks],
            memory_mask=memory.mask,
        )

    def decode_step(
        self, tgt_ids_last: Tensor, memory: Memory, cache: DecoderCache | None = None
    ) -> tuple[Tensor, DecoderCache]:
        """Feed one token per sequence ((B,) or (B, 1) ids); returns (B, V) logits and the cache
        extended by that position. Pass ``cache=None`` on the first step (the ``sos`` token)."""
        if cache is None:
            cache = self.start_cache(memory)
        ids = tgt_ids_last.view(-1, 1)
        self._check_length(cache.length + 1, "WGSL sequence")
        x = self._embed_tgt(ids, cache.length)
        new_kv: list[tuple[Tensor, Tensor]] = []
        for i, block in enumerate(self.decoder_blocks):
            past = cache.self_kv[i] if cache.self_kv else None
            x, k, v = block.step(x, past, cache.cross[i], cache.memory_mask)
            new_kv.append((k, v))
        logits = self.head(self.dec_ln(x[:, -1]))
        return logits, DecoderCache(cache.cross, cache.memory_mask, new_kv, cache.length + 1)


@torch.no_grad()
def greedy_decode(
    model: Seq2SeqTransformer,
    src_ids: Tensor,
    sos_id: int,
    eos_id: int,
    max_new_tokens: int,
) -> list[list[int]]:
    """Greedy decoding of a batch of prompts; each result stops before its ``eos``."""
    was_training = model.training
    model.eval()
    memory = model.encode(src_ids)
    batch = src_ids.shape[0]
    limit = min(max_new_tokens, model.cfg.max_seq_len)
    tokens = torch.full((batch,), sos_id, dtype=torch.long, device=src_ids.device)
    done = torch.zeros(batch, dtype=torch.bool, device=src_ids.device)
    out: list[list[int]] = [[] for _ in range(batch)]
    cache: DecoderCache | None = None
    for _ in range(limit):
        logits, cache = model.decode_step(tokens, memory, cache)
        tokens = logits.argmax(dim=-1)
        for i, (tok, fin) in enumerate(zip(tokens.tolist(), done.tolist(), strict=True)):
            if not fin and tok != eos_id:
                out[i].append(tok)
        done |= tokens == eos_id
        if bool(done.all()):
            break
    model.train(was_training)
    return out


# --------------------------------------------------------------------------------------------
# Saving and loading


class ModelLoadError(Exception):
    """A model directory that cannot be used; the message names the path and what to do."""


@dataclass
class LoadedModel:
    model: Seq2SeqTransformer
    prompt_tokenizer: PromptTokenizer
    wgsl_tokenizer: Tokenizer
    config: ModelConfig
    metrics: dict[str, Any]
    path: Path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new one, never half.

    The file gets the permissions a plain ``open(path, "w")`` would give it: an existing
    file's own, or for a new one the usual ``0o666`` less the process's umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:  # the OS applies the umask to 0o666, as for any new file
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"{path.parent}: cannot create a temporary file")
    try:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _is_pretrained(name: str) -> bool:
    return name.startswith(PRETRAINED_PREFIX) or f".{PRETRAINED_PREFIX}" in name


def state_dict_for_saving(model: nn.Module) -> dict[str, Tensor]:
    """Weights as contiguous CPU tensors, tied ones once (safetensors refuses shared storage).

    A frozen pretrained prompt encoder is left out: it is loaded from its own package."""
    seen: set[int] = set()
    out: dict[str, Tensor] = {}
    for name, tensor in model.state_dict().items():
        if _is_pretrained(name):
            continue
        key = tensor.data_ptr()
        if key in seen:
            continue
        seen.add(key)
        out[name] = tensor.detach().to("cpu").contiguous()
    return out


def save_weights(
    path: Path, model: Seq2SeqTransformer, extra: Mapping[str, str] | None = None
) -> None:
    from safetensors.torch import save

    metadata = {_METADATA_KEY: model.cfg.to_json(), **dict(extra or {})}
    atomic_write_bytes(path, save(state_dict_for_saving(model), metadata=metadata))


def load_weights(path: Path, device: str | torch.device = "cpu") -> Seq2SeqTransformer:
    """Rebuild the model from a safetensors file alone (its metadata holds the config)."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    from engine.text_encoder import PromptEncoderError

    if not path.is_file():
        raise ModelLoadError(f"{path}: no such weights file; train a model first")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
        tensors = load_file(str(path), device="cpu")
    except Exception as exc:
        raise ModelLoadError(
            f"{path}: not a readable safetensors file ({exc}); it is corrupt or in another "
            "format (pickled checkpoints are refused) — retrain or restore the model"
        ) from None
    if _METADATA_KEY not in metadata:
        raise ModelLoadError(f"{path}: safetensors file without a model config; retrain")
    try:
        cfg = ModelConfig.from_json(metadata[_METADATA_KEY])
        model = Seq2SeqTransformer(cfg)
        missing, unexpected = model.load_state_dict(tensors, strict=False)
    except PromptEncoderError as exc:
        raise ModelLoadError(f"{path}: {exc}") from None
    except (ValueError, TypeError, RuntimeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(
            f"{path}: weights do not match their config ({exc}); retrain"
        ) from None
    missing = [
        m for m in missing if not (cfg.tie_weights and m == "head.weight") and not _is_pretrained(m)
    ]
    if missing or unexpected:
        raise ModelLoadError(
            f"{path}: weights do not match the model (missing {missing[:3]}, "
            f"unexpected {unexpected[:3]}); retrain"
        )
    return model.to(device)


def save_model(
    directory: Path,
    model: Seq2SeqTransformer,
    prompt_tokenizer: PromptTokenizer,
    wgsl_tokenizer: Tokenizer,
    config_text: str | None = None,
    metrics: Mapping[str, Any] | None = None,
) -> None:
    """Write a loadable model directory (weights, both tokenizers, config, metrics)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_weights(directory / WEIGHTS_FILE, model)
    prompt_tokenizer.save(directory / PROMPT_TOKENIZER_FILE)
    wgsl_tokenizer.save(directory / WGSL_TOKENIZER_FILE)
    if config_text is not None:
        atomic_write_bytes(directory / CONFIG_FILE, config_text.encode())
    if metrics is not None:
        text = json.dumps(dict(metrics), indent=2, sort_keys=True) + "\n"
        atomic_write_bytes(directory / METRICS_FILE, text.encode())


def load_model(directory: str | Path, device: str | torch.device = "cpu") -> LoadedModel:
    """Load a directory written by :func:`save_model`, in eval mode.

    Raises :class:`ModelLoadError` for a missing directory, missing files, corrupt or pickled
    weights, or tokenizers that do not match the weights.
    """
    from engine.tokenizer import Tokenizer, load_prompt_tokenizer

    path = Path(directory)
    if not path.is_dir():
        raise ModelLoadError(f"{path}: no such model directory; train one with `train --config`")
    model = load_weights(path / WEIGHTS_FILE, device)
    for name in (PROMPT_TOKENIZER_FILE, WGSL_TOKENIZER_FILE):
        if not (path / name).is_file():
            raise ModelLoadError(
                f"{path / name}: missing tokenizer; the model directory is incomplete"
            )
    try:
        src_tok = load_prompt_tokenizer(path / PROMPT_TOKENIZER_FILE)
        tgt_tok = Tokenizer.load(path / WGSL_TOKENIZER_FILE)
    except Exception as exc:
        raise ModelLoadError(f"{path}: unreadable tokenizer ({exc})") from None
    cfg = model.cfg
    if src_tok.vocab_size != cfg.src_vocab_size or tgt_tok.vocab_size != cfg.tgt_vocab_size:
        raise ModelLoadError(
            f"{path}: tokenizers ({src_tok.vocab_size}/{tgt_tok.vocab_size} tokens) do not "
            f"match the weights ({cfg.src_vocab_size}/{cfg.tgt_vocab_size}); retrain"
        )
    metrics: dict[str, Any] = {}
    metrics_path = path / METRICS_FILE
    if metrics_path.is_file():
        try:
            metrics = json.loads(metrics_path.read_text())
        except (OSError, json.JSONDecodeError):
            metrics = {}
    model.eval()
    return LoadedModel(model, src_tok, tgt_tok, cfg, metrics, path)
