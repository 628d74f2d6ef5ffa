"""A model's memory of its training pairs: the training prompts, their sentence embeddings and
their programs, for prompts the decoder alone gets wrong.

A model with a pretrained prompt encoder (``[model] prompt_encoder``) reads English well enough
to tell that "times all the values by 0.6" means what a training prompt "multiply each element
by 2.5" meant, but the decoder trained on a few thousand pairs often does not follow: on wording
unlike the training prompts it writes the wrong operation far more often than a lookup of the
nearest training prompts picks the wrong program. So a model folder may hold a *prompt index*,
written when training ends:

- ``prompt_index.safetensors``: one row per training prompt, its sentence embedding (the mean of
  the encoder's token states, unit length; float16) and the number of its program; the
  adapter; and the index's own copy of the encoder's top layers, fine-tuned (below), with the
  training prompts' embeddings under them;
- ``prompt_index.json``: the training prompts, the programs (with the prompt's numbers as
  placeholders, :mod:`engine.numbers`), the threshold and the spelling weight.

:meth:`PromptIndex.nearest` ranks the training prompts by meaning (sentence embeddings) plus
spelling (TF-IDF over character n-grams, :class:`SpellingIndex`), lets the nearest ones vote, and
returns the winning program with the new prompt's numbers written in. The generator validates it
with naga like any candidate and falls back to decoding when it is not valid, when no training
prompt is similar enough, or when the folder has no index.

Two things are fitted when the index is built, both so that training prompts of one program lie
near each other (a supervised contrastive loss): the adapter (:func:`fit_adapter`), a linear map
of the frozen encoder's sentence embeddings, and a copy of the encoder's top
:data:`TUNED_LAYERS` layers (:func:`tune_layers`), fine-tuned for a few steps from the
pretrained weights, with an adapter of its own. Meaning is the mean of the two similarities.
The model's frozen encoder, which the decoder reads, is not changed.
"""

from __future__ import annotations

import copy
import functools
import json
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from engine.layout import Layout, layout_cue, layout_siblings
from engine.numbers import delexicalise_code, delexicalise_prompt, relexicalise_code

if TYPE_CHECKING:
    from engine.model import Seq2SeqTransformer
    from engine.text_encoder import BertEncoder
    from engine.tokenizer import PromptTokenizer

INDEX_WEIGHTS = "prompt_index.safetensors"
INDEX_PROGRAMS = "prompt_index.json"
DEFAULT_THRESHOLD = 0.0
"""Cosine similarity above which the nearest training prompt's program is tried first."""
VOTERS = 10
"""Nearest training prompts that vote for a program, each with weight similarity**SHARPNESS."""
SHARPNESS = 10.0
_FORMAT = "tiny-agent-trainer-prompt-index"
_BATCH = 128


NGRAM_SIZES = (3, 4, 5)
SPELLING_WEIGHT = 1.0
"""Weight of the spelling similarity added to the (adapted) sentence-embedding similarity."""
ADAPTER_STEPS = 300
ADAPTER_BATCH = 1024
ADAPTER_TEMPERATURE = 0.1
ADAPTER_LEARNING_RATE = 1e-3
TUNED_LAYERS = 2
"""Top layers of the encoder that the index fine-tunes (a copy of them); 0: none."""
TUNE_STEPS = 150
TUNE_LEARNING_RATE = 5e-5
TUNE_PROGRAMS = 32
TUNE_NEIGHBOURS = 7
TUNE_PER_PROGRAM = 4
"""A fine-tuning batch: :data:`TUNE_PROGRAMS` programs (random ones, each with its
:data:`TUNE_NEIGHBOURS` most similar programs), this many prompts of each."""
TUNED_WEIGHT = 0.5
"""Share of the fine-tuned layers' similarity in the meaning similarity (the frozen encoder's,
under its adapter, has the rest)."""


def char_ngrams(text: str) -> Counter[str]:
    """Character 3-5-grams of the lower-cased text, spaces normalised and padded."""
    padded = f" {' '.join(text.lower().split())} "
    grams: Counter[str] = Counter()
    for n in NGRAM_SIZES:
        for i in range(len(padded) - n + 1):
            grams[padded[i : i + n]] += 1
    return grams


class SpellingIndex:
    """TF-IDF over character n-grams (sublinear term frequency, smoothed idf, unit length):
    cosine similarity of a text to every indexed text in one sparse product."""

    def __init__(self, texts: Sequence[str]) -> None:
        grams = [char_ngrams(t) for t in texts]
        df: Counter[str] = Counter()
        for g in grams:
            df.update(g.keys())
        n = len(grams)
        self._column = {t: i for i, t in enumerate(df)}
        self._idf = [math.log((1 + n) / (1 + c)) + 1.0 for c in df.values()]
        # postings by n-gram: the texts holding it and its weight in each (a transposed CSR)
        postings: list[list[tuple[int, float]]] = [[] for _ in self._column]
        for row, g in enumerate(grams):
            for col, w in self._weigh(g).items():
                postings[col].append((row, w))
        self._size = n
        self._starts = [0]
        for p in postings:
            self._starts.append(self._starts[-1] + len(p))
        self._rows = torch.tensor([r for p in postings for r, _ in p], dtype=torch.long)
        self._weights = torch.tensor([w for p in postings for _, w in p], dtype=torch.float32)

    def _weigh(self, grams: Counter[str]) -> dict[int, float]:
        vec: dict[int, float] = {}
        for t, c in grams.items():
            col = self._column.get(t)
            if col is not None:
                vec[col] = (1.0 + math.log(c)) * self._idf[col]
        norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
        return {col: w / norm for col, w in vec.items()}

    def similarities(self, text: str) -> Tensor:
        """(N,) cosine similarity of ``text`` to every indexed text."""
        rows: list[Tensor] = []
        weights: list[Tensor] = []
        for col, w in self._weigh(char_ngrams(text)).items():
            start, end = self._starts[col], self._starts[col + 1]
            rows.append(self._rows[start:end])
            weights.append(self._weights[start:end] * w)
        out = torch.zeros(self._size)
        if rows:
            out.index_add_(0, torch.cat(rows), torch.cat(weights))
        return out


def fit_adapter(embeddings: Tensor, program_of: Tensor, seed: int = 0) -> Tensor:
    """A linear map of the sentence embeddings (width x width, starting as the identity) under
    which training prompts of the same program lie nearer each other than prompts of other
    programs: a supervised contrastive loss over random batches, a few seconds on a CPU. It
    learns which differences between training wordings do not matter; the frozen encoder's
    knowledge of English is kept (the map starts as, and stays near, the identity)."""
    n, width = embeddings.shape
    adapter = torch.eye(width, requires_grad=True)
    if n < 2:
        return adapter.detach()
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam([adapter], lr=ADAPTER_LEARNING_RATE)
    x = embeddings.float()
    with torch.enable_grad():
        for _ in range(ADAPTER_STEPS):
            batch = torch.randint(0, n, (min(ADAPTER_BATCH, n),), generator=generator)
            labels = program_of[batch]
            if not bool((labels[:, None] == labels[None, :]).sum() > len(batch)):
                continue  # no two prompts of one program
            z = torch.nn.functional.normalize(x[batch] @ adapter, dim=-1)
            loss = _contrastive_loss(z, labels)
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
    return adapter.detach()


class PromptIndexError(Exception):
    """An index file that cannot be used; the message names it and says what to do."""


def _mean_pool(states: Tensor, keep: Tensor) -> Tensor:
    """(B, width) unit-length mean of the (B, S, width) states over the ``keep`` tokens."""
    weights = keep.to(states.dtype)[..., None]
    pooled = (states * weights).sum(1) / weights.sum(1).clamp(min=1.0)
    return torch.nn.functional.normalize(pooled, dim=-1)


def _padded(rows: Sequence[Tensor]) -> tuple[Tensor, Tensor]:
    """Right-padded (B, S, width) states and the (B, S) mask of real tokens."""
    states = torch.nn.utils.rnn.pad_sequence(list(rows), batch_first=True)
    lengths = torch.tensor([len(r) for r in rows], device=states.device)
    keep = torch.arange(states.shape[1], device=states.device)[None, :] < lengths[:, None]
    return states, keep


class TunedLayers(torch.nn.Module):
    """The index's copy of the encoder's top layers and its mean pooling: the token states below
    those layers in, a unit-length sentence embedding out."""

    def __init__(self, layers: Sequence[torch.nn.Module]) -> None:
        super().__init__()
        self.layers = torch.nn.ModuleList(layers)

    def forward(self, states: Tensor, keep: Tensor) -> Tensor:
        mask = keep[:, None, None, :]
        for layer in self.layers:
            states = layer(states, mask)
        return _mean_pool(states, keep)

    @classmethod
    def copy_of(cls, encoder: BertEncoder, count: int) -> TunedLayers:
        """A trainable copy of ``encoder``'s top ``count`` layers (float32, on its device)."""
        tuned = cls(copy.deepcopy(list(encoder.layers)[-count:])).float()
        tuned.requires_grad_(True)
        return tuned

    @classmethod
    def from_tensors(cls, tensors: dict[str, Tensor], heads: int, eps: float) -> TunedLayers | None:
        """The layers saved under ``tuned.`` in ``tensors``; None when there are none. Raises
        ValueError when they are not whole BERT layers of one shape."""
        from engine.text_encoder import BertShape, _BertLayer

        state = {k.removeprefix("tuned."): v.float() for k, v in tensors.items()}
        state = {k: v for k, v in state.items() if k.startswith("layers.")}
        if not state:
            return None
        count = 1 + max(int(k.split(".")[1]) for k in state)
        inner, width = state["layers.0.ff_in.weight"].shape
        if heads < 1 or width % heads:
            raise ValueError(f"{heads} attention heads do not divide width {width}")
        shape = BertShape(0, width, count, heads, inner, 0, 0, eps)
        tuned = cls([_BertLayer(shape) for _ in range(count)])
        tuned.load_state_dict(state, strict=True)  # names and shapes must all match
        return tuned.eval().requires_grad_(False)

    def tensors(self) -> dict[str, Tensor]:
        """The layers' weights as saved (float16), named ``tuned.layers.N....``."""
        return {
            f"tuned.{k}": v.detach().half().cpu().contiguous() for k, v in self.state_dict().items()
        }

    @property
    def heads(self) -> int:
        return int(self.layers[0].heads)  # type: ignore[arg-type]


def _encoded_batches(
    encoder: BertEncoder, tokenizer: PromptTokenizer, prompts: Sequence[str], below: int
) -> Iterator[tuple[list[int], list[int], Tensor, Tensor, Tensor]]:
    """The prompts through the encoder in batches of similar length: for each batch the prompts'
    positions in ``prompts``, their lengths in word pieces, the token states below the top
    ``below`` layers, the output states and the (B, S) mask of real tokens."""
    device = next(encoder.parameters()).device
    ids = [tokenizer.encode(p)[: encoder.shape.max_positions] for p in prompts]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    with torch.no_grad():
        for start in range(0, len(order), _BATCH):
            chunk = order[start : start + _BATCH]
            width = max(len(ids[i]) for i in chunk)
            batch = torch.tensor(
                [ids[i] + [tokenizer.pad_id] * (width - len(ids[i])) for i in chunk],
                device=device,
            )
            keep = batch != tokenizer.pad_id
            states, x = encoder.split(batch, keep[:, None, None, :], below)
            yield chunk, [len(ids[i]) for i in chunk], states, x, keep


def _lower_states(
    encoder: BertEncoder, tokenizer: PromptTokenizer, prompts: Sequence[str], below: int
) -> tuple[list[Tensor], list[Tensor]]:
    """For each prompt: the encoder's token states below its top ``below`` layers, and its
    mean-pooled unit-length sentence embedding (the whole frozen encoder). One pass."""
    lower: list[Tensor | None] = [None] * len(prompts)
    pooled: list[Tensor | None] = [None] * len(prompts)
    for chunk, lengths, states, x, keep in _encoded_batches(encoder, tokenizer, prompts, below):
        for row, (i, n) in enumerate(zip(chunk, lengths, strict=True)):
            lower[i] = states[row, :n].float().cpu()
        for i, vec in zip(chunk, _mean_pool(x.float(), keep).cpu(), strict=True):
            pooled[i] = vec
    return [t for t in lower if t is not None], [t for t in pooled if t is not None]


def tune_layers(
    encoder: BertEncoder,
    lower: Sequence[Tensor],
    program_of: Tensor,
    keys: Tensor,
    seed: int = 0,
) -> TunedLayers:
    """A copy of the encoder's top layers, fine-tuned so that training prompts of the same
    program lie nearer each other than prompts of other programs (the adapter's loss).

    ``lower``: each prompt's token states below those layers; ``keys``: its sentence embedding
    as the index had it before (frozen encoder, adapter), which picks each program's
    :data:`TUNE_NEIGHBOURS` most similar programs. A batch is a few programs, their neighbours
    (the programs the index confuses them with: the same operation with the result elsewhere, a
    similar operation) and :data:`TUNE_PER_PROGRAM` prompts of each. A few steps at a small
    learning rate from the pretrained weights keep what the encoder knows of English: under
    2 minutes for 6,770 prompts on 2 CPU cores."""
    tuned = TunedLayers.copy_of(encoder, TUNED_LAYERS)
    device = next(tuned.parameters()).device
    by_program: dict[int, list[int]] = {}
    for row, program in enumerate(program_of.tolist()):
        by_program.setdefault(program, []).append(row)
    programs = [p for p, rows in by_program.items() if len(rows) >= 2]
    if len(programs) < 2:
        return tuned.eval().requires_grad_(False)
    centres = torch.stack([keys[by_program[p]].float().mean(0) for p in programs])
    centres = torch.nn.functional.normalize(centres, dim=-1)
    similar = centres @ centres.T
    similar.fill_diagonal_(-2.0)
    neighbours = similar.topk(min(TUNE_NEIGHBOURS, len(programs) - 1), dim=1).indices
    anchors_per_batch = max(1, TUNE_PROGRAMS // (1 + neighbours.shape[1]))
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(tuned.parameters(), lr=TUNE_LEARNING_RATE, weight_decay=0.0)
    with torch.enable_grad():
        for _ in range(TUNE_STEPS):
            anchors = torch.randperm(len(programs), generator=generator)[:anchors_per_batch]
            chosen = torch.cat([anchors[:, None], neighbours[anchors]], dim=1).flatten()
            batch: list[int] = []
            labels: list[int] = []
            for p in dict.fromkeys(chosen.tolist()):
                rows = by_program[programs[p]]
                picked = torch.randperm(len(rows), generator=generator)[:TUNE_PER_PROGRAM]
                batch += [rows[k] for k in picked.tolist()]
                labels += [p] * len(picked)
            states, keep = _padded([lower[i].to(device) for i in batch])
            z = tuned(states, keep)
            loss = _contrastive_loss(z, torch.tensor(labels, device=device))
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
    tuned = tuned.eval().requires_grad_(False)
    # the saved layers are float16: the index's embeddings are those of the rounded weights
    with torch.no_grad():
        for param in tuned.parameters():
            param.copy_(param.half().float())
    return tuned


def _contrastive_loss(z: Tensor, labels: Tensor) -> Tensor:
    """Supervised contrastive loss of unit-length rows ``z``: each row's log-probability of the
    other rows of its label among all other rows, at :data:`ADAPTER_TEMPERATURE`."""
    self_pairs = torch.eye(len(labels), dtype=torch.bool, device=z.device)
    same = (labels[:, None] == labels[None, :]) & ~self_pairs
    logits = (z @ z.T / ADAPTER_TEMPERATURE).masked_fill(self_pairs, -1e9)
    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    has = same.any(dim=1)
    return -((log_p * same).sum(1) / same.sum(1).clamp(min=1))[has].mean()


@torch.no_grad()
def tuned_embeddings(tuned: TunedLayers, lower: Sequence[Tensor]) -> Tensor:
    """(N, width) sentence embeddings under the fine-tuned layers, from the states below them."""
    device = next(tuned.parameters()).device
    order = sorted(range(len(lower)), key=lambda i: len(lower[i]))
    out = torch.zeros(len(lower), tuned.layers[0].query.in_features)  # type: ignore[union-attr,arg-type]
    for start in range(0, len(order), _BATCH):
        chunk = order[start : start + _BATCH]
        states, keep = _padded([lower[i].to(device) for i in chunk])
        out[torch.tensor(chunk)] = tuned(states, keep).float().cpu()
    return out


@torch.no_grad()
def sentence_embeddings(
    model: Seq2SeqTransformer, tokenizer: PromptTokenizer, prompts: Sequence[str]
) -> Tensor:
    """(N, width) unit-length mean-pooled token states of the model's pretrained encoder."""
    encoder = model.pretrained
    if encoder is None:
        raise ValueError("sentence embeddings need a model with a pretrained prompt encoder")
    out = torch.zeros(len(prompts), encoder.shape.hidden)
    for chunk, _, _, x, keep in _encoded_batches(encoder, tokenizer, prompts, 0):
        out[torch.tensor(chunk)] = _mean_pool(x.float(), keep).cpu()
    return out


@dataclass
class Match:
    """The nearest training prompt's program for a prompt, with that prompt's numbers in it."""

    code: str
    similarity: float


class PromptIndex:
    def __init__(
        self,
        embeddings: Tensor,
        program_of: Tensor,
        programs: list[str],
        placeholders: bool,
        threshold: float = DEFAULT_THRESHOLD,
        prompts: Sequence[str] | None = None,
        spelling_weight: float = SPELLING_WEIGHT,
        adapter: Tensor | None = None,
        tuned: TunedLayers | None = None,
        tuned_embeddings: Tensor | None = None,
        tuned_adapter: Tensor | None = None,
        tuned_weight: float = TUNED_WEIGHT,
    ) -> None:
        self.embeddings = embeddings.float()
        self.adapter = adapter.float() if adapter is not None else None
        self._keys = self._adapt(self.embeddings)
        self.program_of = program_of.long()
        self.programs = programs
        self.placeholders = placeholders
        self.threshold = threshold
        self.prompts = list(prompts) if prompts is not None else None
        self.spelling_weight = spelling_weight if prompts is not None else 0.0
        self.tuned = tuned if tuned_embeddings is not None else None
        self.tuned_embeddings = tuned_embeddings.float() if tuned_embeddings is not None else None
        self.tuned_adapter = tuned_adapter.float() if tuned_adapter is not None else None
        self.tuned_weight = tuned_weight if self.tuned is not None else 0.0
        self._tuned_keys = (
            _adapted(self.tuned_embeddings, self.tuned_adapter)
            if self.tuned_embeddings is not None
            else None
        )

    def __len__(self) -> int:
        return int(self.embeddings.shape[0])

    @functools.cached_property
    def _siblings(self) -> dict[tuple[int, Layout], int]:
        return layout_siblings(self.programs)

    @functools.cached_property
    def spelling(self) -> SpellingIndex | None:
        """The spelling postings, built on first use (about 2 s for 6,770 prompts), so that
        loading a model for decoding alone does not pay for them."""
        return SpellingIndex(self.prompts) if self.prompts else None

    def _adapt(self, x: Tensor) -> Tensor:
        return _adapted(x, self.adapter)

    def embed(
        self, model: Seq2SeqTransformer, tokenizer: PromptTokenizer, prompts: Sequence[str]
    ) -> Tensor:
        """What :meth:`nearest` takes for each prompt: its sentence embedding (the frozen
        encoder's, :func:`sentence_embeddings`), followed, when the index has fine-tuned layers,
        by its embedding under them: (N, width) or (N, 2 * width)."""
        if self.tuned is None:
            return sentence_embeddings(model, tokenizer, prompts)
        encoder = model.pretrained
        if encoder is None:
            raise ValueError("sentence embeddings need a model with a pretrained prompt encoder")
        if (
            len(self.tuned.layers) > len(encoder.layers)
            or encoder.shape.hidden != self.embeddings.shape[1]
            or encoder.shape.heads != self.tuned.heads
        ):
            raise PromptIndexError(
                "the prompt index's fine-tuned layers do not fit the model's prompt encoder; "
                "rebuild the index with `python -m engine.retrieval MODEL_DIR`"
            )
        device = next(encoder.parameters()).device
        self.tuned.to(device)
        lower, pooled = _lower_states(encoder, tokenizer, prompts, len(self.tuned.layers))
        if not prompts:
            return torch.zeros(0, 2 * encoder.shape.hidden)
        return torch.cat([torch.stack(pooled), tuned_embeddings(self.tuned, lower)], dim=1)

    @classmethod
    def build(
        cls,
        model: Seq2SeqTransformer,
        tokenizer: PromptTokenizer,
        pairs: Sequence[tuple[str, str]],
        placeholders: bool,
        threshold: float = DEFAULT_THRESHOLD,
        embeddings: Tensor | None = None,
    ) -> PromptIndex:
        """The index of ``pairs`` (prompt, WGSL), numbers as placeholders when ``placeholders``.

        ``embeddings``: the prompts' sentence embeddings where the caller has them already (the
        trainer's cached encoder states), one row per pair; computed here otherwise. The
        encoder's lower layers run here in either case, for the layers fine-tuned on top."""
        seen: list[str] = []
        program_ids: dict[str, int] = {}
        program_of: list[int] = []
        for prompt, code in pairs:
            if placeholders:
                numbers = delexicalise_prompt(prompt)
                prompt, code = numbers.prompt, delexicalise_code(code, numbers)
            seen.append(prompt)
            program_of.append(program_ids.setdefault(code, len(program_ids)))
        programs_of = torch.tensor(program_of, dtype=torch.long)
        encoder = model.pretrained
        tuned = tuned_keys = tuned_adapter = None
        lower: list[Tensor] = []
        if encoder is not None and TUNED_LAYERS and seen:
            lower, pooled = _lower_states(encoder, tokenizer, seen, TUNED_LAYERS)
            if embeddings is None or embeddings.shape[0] != len(seen):
                embeddings = torch.stack(pooled)
        if embeddings is None or embeddings.shape[0] != len(seen):
            embeddings = sentence_embeddings(model, tokenizer, seen)
        adapter = fit_adapter(embeddings, programs_of)
        if encoder is not None and TUNED_LAYERS and seen:
            keys = _adapted(embeddings.float(), adapter)
            tuned = tune_layers(encoder, lower, programs_of, keys)
            tuned_keys = tuned_embeddings(tuned, lower)
            tuned_adapter = fit_adapter(tuned_keys, programs_of)
        return cls(
            embeddings,
            programs_of,
            list(program_ids),
            placeholders,
            threshold,
            prompts=[prompt for prompt, _ in pairs],
            adapter=adapter,
            tuned=tuned,
            tuned_embeddings=tuned_keys,
            tuned_adapter=tuned_adapter,
        )

    def save(self, directory: Path) -> None:
        from safetensors.torch import save

        from engine.model import atomic_write_bytes

        tensors = {
            "embeddings": self.embeddings.half().contiguous(),
            "program_of": self.program_of.int().contiguous(),
        }
        if self.adapter is not None:
            tensors["adapter"] = self.adapter.contiguous()
        doc: dict[str, object] = {
            "format": _FORMAT,
            "version": 1,
            "number_placeholders": self.placeholders,
            "threshold": self.threshold,
            "spelling_weight": self.spelling_weight,
        }
        if self.tuned is not None and self.tuned_embeddings is not None:
            tensors.update(self.tuned.tensors())
            tensors["tuned_embeddings"] = self.tuned_embeddings.half().contiguous()
            if self.tuned_adapter is not None:
                tensors["tuned_adapter"] = self.tuned_adapter.contiguous()
            layer = self.tuned.layers[0]
            doc["tuned_heads"] = self.tuned.heads
            doc["tuned_layer_norm_eps"] = float(layer.attn_norm.eps)  # type: ignore[union-attr,arg-type]
            doc["tuned_weight"] = self.tuned_weight
        doc["programs"] = self.programs
        doc["prompts"] = self.prompts
        atomic_write_bytes(directory / INDEX_WEIGHTS, save(tensors))
        atomic_write_bytes(directory / INDEX_PROGRAMS, json.dumps(doc, indent=0).encode())

    @classmethod
    def load(cls, directory: Path) -> PromptIndex | None:
        """The folder's index; None when it has none. Raises :class:`PromptIndexError`."""
        weights, programs_path = directory / INDEX_WEIGHTS, directory / INDEX_PROGRAMS
        if not weights.is_file() and not programs_path.is_file():
            return None
        from safetensors.torch import load_file

        try:
            tensors = load_file(str(weights))
            doc = json.loads(programs_path.read_text(encoding="utf-8"))
            programs = doc["programs"]
            embeddings, program_of = tensors["embeddings"], tensors["program_of"]
            ok = (
                doc.get("format") == _FORMAT
                and isinstance(programs, list)
                and all(isinstance(p, str) for p in programs)
                and embeddings.dim() == 2
                and program_of.shape == (embeddings.shape[0],)
                and (len(program_of) == 0 or int(program_of.min()) >= 0)
                and (len(program_of) == 0 or int(program_of.max()) < len(programs))
            )
            threshold = float(doc.get("threshold", DEFAULT_THRESHOLD))
            placeholders = doc.get("number_placeholders") is True
            prompts = doc.get("prompts")
            spelling_weight = float(doc.get("spelling_weight", SPELLING_WEIGHT))
            adapter = tensors.get("adapter")
            width = embeddings.shape[1]
            ok = ok and (adapter is None or _shape_ok(adapter, (width, width)))
            ok = ok and (
                prompts is None
                or (
                    isinstance(prompts, list)
                    and len(prompts) == embeddings.shape[0]
                    and all(isinstance(p, str) for p in prompts)
                )
            )
            tuned = (
                TunedLayers.from_tensors(
                    tensors,
                    int(doc.get("tuned_heads", 0)),
                    float(doc.get("tuned_layer_norm_eps", 1e-12)),
                )
                if any(k.startswith("tuned.") for k in tensors)
                else None
            )
            tuned_keys = tensors.get("tuned_embeddings")
            tuned_adapter = tensors.get("tuned_adapter")
            tuned_weight = float(doc.get("tuned_weight", TUNED_WEIGHT))
            ok = ok and (tuned is None) == (tuned_keys is None)
            ok = ok and (tuned_keys is None or _shape_ok(tuned_keys, tuple(embeddings.shape)))
            ok = ok and (tuned_adapter is None or _shape_ok(tuned_adapter, (width, width)))
            ok = ok and (tuned is None or tuned.layers[0].query.in_features == width)  # type: ignore[union-attr]
        except Exception as exc:
            raise PromptIndexError(
                f"{directory}: unreadable prompt index ({exc}); delete {INDEX_WEIGHTS} and "
                f"{INDEX_PROGRAMS}, or rebuild them with `python -m engine.retrieval {directory}`"
            ) from None
        if not ok:
            raise PromptIndexError(
                f"{directory}: {INDEX_PROGRAMS} and {INDEX_WEIGHTS} do not match; rebuild them "
                f"with `python -m engine.retrieval {directory}`"
            )
        return cls(
            embeddings,
            program_of,
            programs,
            placeholders,
            threshold,
            prompts,
            spelling_weight,
            adapter,
            tuned,
            tuned_keys,
            tuned_adapter,
            tuned_weight,
        )

    def nearest(self, embedding: Tensor, prompt: str) -> Match | None:
        """The program the nearest training prompts agree on, numbers filled in from ``prompt``.

        ``embedding``: the prompt's row of :meth:`embed`. Nearness is the sentence embeddings'
        cosine similarity, under the index's adapter (:func:`fit_adapter`) when it has one, and
        with fine-tuned layers the mean of that and the similarity under them (each with its
        adapter); plus ``spelling_weight`` times the spelling similarity
        (:class:`SpellingIndex`): meaning carries new wording, spelling the details that
        sentence embeddings blur (which operation, which numbers). The :data:`VOTERS` nearest
        prompts vote for their programs, each with weight nearness ** :data:`SHARPNESS`: the
        nearest prompt decides unless several almost as near ones say otherwise. Where
        ``prompt`` says where the result goes (:func:`engine.layout.layout_cue`) and the winner
        is the same kernel in the other layout, its sibling in the asked-for layout is taken.
        ``similarity`` is the frozen encoder's sentence-embedding similarity of the winner's
        nearest prompt."""
        if len(self) == 0:
            return None
        width = self.embeddings.shape[1]
        query = embedding.float()
        if self._tuned_keys is not None:
            if query.shape != (2 * width,):
                raise ValueError("an index with fine-tuned layers takes PromptIndex.embed's rows")
            query, tuned_query = query[:width], query[width:]
        sims = self.embeddings @ query
        score = sims if self.adapter is None else self._keys @ self._adapt(query[None])[0]
        if self._tuned_keys is not None:
            tuned_score = self._tuned_keys @ _adapted(tuned_query[None], self.tuned_adapter)[0]
            score = (1.0 - self.tuned_weight) * score + self.tuned_weight * tuned_score
        if self.spelling_weight and self.spelling is not None:
            score = score + self.spelling_weight * self.spelling.similarities(prompt)
        top = score.topk(min(VOTERS, len(self)))
        votes: dict[int, float] = {}
        nearest: dict[int, float] = {}
        for value, row in zip(top.values.tolist(), top.indices.tolist(), strict=True):
            program = int(self.program_of[row])
            votes[program] = votes.get(program, 0.0) + max(value, 0.0) ** SHARPNESS
            nearest.setdefault(program, float(sims[row]))
        winner = max(votes, key=lambda p: (votes[p], nearest[p]))
        similarity = nearest[winner]
        layout = layout_cue(prompt)
        if layout is not None:  # the same kernel in the layout the prompt asks for
            winner = self._siblings.get((winner, layout), winner)
        code = self.programs[winner]
        if self.placeholders:
            code = relexicalise_code(code, delexicalise_prompt(prompt))
        return Match(code, similarity)


def _adapted(x: Tensor, adapter: Tensor | None) -> Tensor:
    """Rows of ``x`` under ``adapter``, unit length (``x`` itself without one)."""
    if adapter is None:
        return x
    return torch.nn.functional.normalize(x @ adapter, dim=-1)


def _shape_ok(tensor: Tensor, shape: tuple[int, ...]) -> bool:
    return tuple(tensor.shape) == shape and bool(torch.isfinite(tensor.float()).all())


def build_for_model(
    directory: Path, config_path: Path, threshold: float = DEFAULT_THRESHOLD
) -> PromptIndex:
    """Build and save the prompt index of the model in ``directory`` from the training split of
    ``config_path``'s dataset (the pairs the model was trained on)."""
    from engine.config import load_config
    from engine.dataset import load_splits
    from engine.model import load_model

    loaded = load_model(directory)
    if loaded.model.pretrained is None:
        raise PromptIndexError(
            f"{directory}: the model has no pretrained prompt encoder ([model] prompt_encoder), "
            "so it has no sentence embeddings to index"
        )
    config = load_config(config_path)
    splits = load_splits(config.dataset, config.training.seed)
    placeholders = bool(config.tokenizer.number_placeholders)
    pairs = [(e.natural_language, e.wgsl_code) for e in splits.train]
    index = PromptIndex.build(loaded.model, loaded.prompt_tokenizer, pairs, placeholders, threshold)
    index.save(directory)
    return index


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m engine.retrieval MODEL_DIR [--config FILE] [--threshold T]``."""
    import argparse
    import sys

    from engine.config import ConfigError
    from engine.dataset import DatasetError
    from engine.model import ModelLoadError

    parser = argparse.ArgumentParser(
        prog="python -m engine.retrieval",
        description="Write a model folder's prompt index from its training pairs.",
    )
    parser.add_argument("model", type=Path, help="the model folder")
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "config" / "wgsl_generation.toml",
        help="the training config whose training split the model learnt (default: the default)",
    )
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    args = parser.parse_args(argv)
    try:
        index = build_for_model(args.model, args.config, args.threshold)
    except (PromptIndexError, ModelLoadError, ConfigError, DatasetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {args.model / INDEX_WEIGHTS} and {args.model / INDEX_PROGRAMS}: "
        f"{len(index)} prompts, {len(index.programs)} programs",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
