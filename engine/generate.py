"""Plain-English prompt -> WGSL that naga accepts, or an honest "none of them was valid".

:class:`Generator` wraps either a trained model directory (``data/models/default`` when no path
is given) or the chromatic templates (``"dummy"``). With a model it decodes several candidates
with beam search over the cached decoder, validates them with naga in score order and returns
the best-scoring valid one. When no candidate is valid the best one comes back with
``valid=False`` and naga's diagnostics: the caller decides what to show, nothing pretends.

Decoding is built for a 2-core CPU: one prompt at a time, beams as a batch, no autograd, a
fixed small number of torch threads, and a per-step loop that touches Python objects only for
the few candidate tokens it keeps. ``should_stop`` is polled between decoding steps so that an
editor can cancel a completion that is no longer wanted.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from engine.fit import fit_to_context
from engine.numbers import delexicalise_prompt, relexicalise_code

if TYPE_CHECKING:
    import torch

    from engine.model import DecoderBlock, DecoderCache, LoadedModel, Seq2SeqTransformer
    from engine.retrieval import Match, PromptIndex
    from engine.validator import Diagnostic, ValidationResult

log = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "data" / "models" / "default"
DUMMY_MODEL = "dummy"

DEFAULT_BEAM_SIZE = 4
DEFAULT_MAX_NEW_TOKENS = 384
DEFAULT_LENGTH_PENALTY = 0.6
_TORCH_THREADS = 1


class GenerationCancelled(Exception):
    """``should_stop`` returned True between two decoding steps."""


def _model_load_error() -> type[Exception]:
    from engine.model import ModelLoadError

    return ModelLoadError


@dataclass(frozen=True)
class GenerationSettings:
    """The ``[generation]`` table: beam size, token budget, GNMT length penalty ``alpha``; and
    ``[tokenizer] number_placeholders``: whether the model reads and writes the prompt's
    numbers as placeholders (:mod:`engine.numbers`)."""

    beam_size: int = DEFAULT_BEAM_SIZE
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    length_penalty: float = DEFAULT_LENGTH_PENALTY
    number_placeholders: bool = False

    @classmethod
    def from_model_dir(cls, directory: Path) -> GenerationSettings:
        """Read ``[generation]`` from the model's ``config.toml``; defaults where absent."""
        import tomllib

        path = directory / "config.toml"
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            return cls()
        tokenizer = doc.get("tokenizer", {})
        placeholders = isinstance(tokenizer, dict) and tokenizer.get("number_placeholders") is True
        table = doc.get("generation", {})
        out = cls(number_placeholders=placeholders)
        if not isinstance(table, dict):
            return out
        try:
            return cls(
                beam_size=max(1, int(table.get("beam_size", out.beam_size))),
                max_new_tokens=max(1, int(table.get("max_new_tokens", out.max_new_tokens))),
                length_penalty=float(table.get("length_penalty", out.length_penalty)),
                number_placeholders=placeholders,
            )
        except (TypeError, ValueError):
            return out


@dataclass(frozen=True)
class GenerationResult:
    """The chosen code. ``valid`` is naga's verdict on ``code`` as returned (after fitting);
    ``diagnostics`` are naga's when invalid. ``source`` is ``"model"`` or ``"template"``.
    ``rank`` is the chosen candidate's place in score order and ``candidates`` how many were
    decoded (1 for greedy and templates). ``similarity`` is set when the code is the program of
    the nearest training prompt from the model's prompt index (:mod:`engine.retrieval`): how
    similar that prompt is to this one."""

    code: str
    valid: bool
    diagnostics: tuple[Diagnostic, ...]
    source: str
    rank: int = 0
    candidates: int = 1
    similarity: float | None = None


@dataclass(frozen=True)
class Candidate:
    """A decoded sequence: WGSL token ids (no sos/eos), the summed log-probability, the
    length-normalised score used for ranking, and whether it ended with ``eos``."""

    ids: tuple[int, ...]
    log_prob: float
    score: float
    finished: bool


@dataclass(frozen=True)
class Fork:
    """A place where greedy decoding nearly chose otherwise: at output index ``position`` the
    runner-up ``token`` scored ``margin`` (log-probability) below the token greedy kept."""

    position: int
    token: int
    margin: float


def length_normalised(log_prob: float, length: int, alpha: float) -> float:
    """GNMT length penalty: ``log_prob / ((5 + length) / 6) ** alpha``; alpha 0 = raw sum."""
    return log_prob / float(((5.0 + length) / 6.0) ** alpha)


def choose_valid(
    codes: Sequence[str], validate: Callable[[str], ValidationResult]
) -> tuple[int, ValidationResult]:
    """Index and verdict of the first valid code in ``codes`` (best first); when none is valid,
    index 0 with its own verdict. Validation stops at the first valid code."""
    if not codes:
        raise ValueError("choose_valid needs at least one candidate")
    first: ValidationResult | None = None
    for i, code in enumerate(codes):
        result = validate(code)
        if result.valid:
            return i, result
        if first is None:
            first = result
    assert first is not None
    return 0, first


_DRAFT_NGRAM = 3
_DRAFT_LENGTH = 24
DEFAULT_DRAFT_DATA = Path(__file__).resolve().parent.parent / "data" / "train"
_CODE_BLOCK = re.compile(r"wgsl_code\s*=\s*(\'\'\'|\"\"\")\n?(.*?)\1", re.DOTALL)


def draft_sources(directory: Path) -> list[str]:
    """Distinct WGSL bodies of the ``wgsl_code`` entries in the TOML files under ``directory``.

    They only propose draft tokens that the model then checks, so a rough scan is enough (and
    far faster than parsing thousands of TOML tables when a model loads)."""
    if not directory.is_dir():
        return []
    seen: dict[str, None] = {}
    for path in sorted(directory.rglob("*.toml")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for match in _CODE_BLOCK.finditer(text):
            seen.setdefault(match.group(2), None)
    return list(seen)


class DraftIndex:
    """Proposes likely next WGSL tokens by looking the last few generated tokens up in known code.

    Decoding checks a whole proposal in one forward pass and keeps the longest prefix the model
    itself would have chosen, so proposals change speed, never the output.
    """

    def __init__(self, sequences: Sequence[Sequence[int]], ngram: int = _DRAFT_NGRAM) -> None:
        self.sequences = [list(seq) for seq in sequences]
        self.ngram = ngram
        self._where: dict[tuple[int, ...], tuple[int, int]] = {}
        for s_index, seq in enumerate(self.sequences):
            for n in range(1, ngram + 1):
                for pos in range(n, len(seq)):
                    self._where.setdefault((*seq[pos - n : pos],), (s_index, pos))

    def propose(self, history: Sequence[int], length: int) -> list[int]:
        """Up to ``length`` tokens that followed the longest known suffix of ``history``."""
        if length <= 0:
            return []
        for n in range(min(self.ngram, len(history)), 0, -1):
            hit = self._where.get((*history[len(history) - n :],))
            if hit is not None:
                seq = self.sequences[hit[0]]
                return seq[hit[1] : hit[1] + length]
        return []


def _forward_chunk(
    model: Seq2SeqTransformer, ids: torch.Tensor, cache: DecoderCache
) -> tuple[torch.Tensor, DecoderCache]:
    """Feed ``ids`` (1, T) after the cached positions at once; (T, V) logits and the cache.

    The same computation as T calls of ``decode_step``, with a causal mask inside the chunk."""
    import torch
    import torch.nn.functional as F

    from engine.model import DecoderCache

    past_len = cache.length
    t = ids.shape[1]
    x = model._embed_tgt(ids, past_len)
    allowed = torch.ones(t, past_len + t, dtype=torch.bool).tril(diagonal=past_len)
    new_kv: list[tuple[torch.Tensor, torch.Tensor]] = []
    for i, module in enumerate(model.decoder):
        block = cast("DecoderBlock", module)
        attn = block.self_attn
        q, k, v = attn._split(block.ln1(x))
        if cache.self_kv:
            k = torch.cat([cache.self_kv[i][0], k], dim=2)
            v = torch.cat([cache.self_kv[i][1], v], dim=2)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
        x = x + attn.proj(y.transpose(1, 2).flatten(2))
        x = x + block.cross_attn(block.ln2(x), cache.cross[i], cache.memory_mask)
        x = x + block.ff(block.ln3(x))
        new_kv.append((k, v))
    logits = model.head(model.dec_ln(x[0]))
    return logits, DecoderCache(cache.cross, cache.memory_mask, new_kv, past_len + t)


def _truncate(cache: DecoderCache, length: int) -> DecoderCache:
    from engine.model import DecoderCache

    if length == cache.length:
        return cache
    kv = [(k[:, :, :length], v[:, :, :length]) for k, v in cache.self_kv]
    return DecoderCache(cache.cross, cache.memory_mask, kv, length)


@dataclass
class _Decoder:
    """The model side of a :class:`Generator`: encoding, greedy and beam search."""

    loaded: LoadedModel
    settings: GenerationSettings
    drafts: DraftIndex | None = None
    index: PromptIndex | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def model(self) -> Seq2SeqTransformer:
        return self.loaded.model

    def prompt_ids(self, prompt: str) -> list[int]:
        tok = self.loaded.prompt_tokenizer
        if self.settings.number_placeholders:
            prompt = delexicalise_prompt(prompt).prompt
        ids = tok.encode(prompt)[: self.model.cfg.max_seq_len]
        return ids or [tok.unk_id]

    def nearest(self, prompt: str) -> Match | None:
        """The prompt index's nearest training program for ``prompt`` (None without an index)."""
        if self.index is None:
            return None
        seen = delexicalise_prompt(prompt).prompt if self.index.placeholders else prompt
        with self.lock:
            embedding = self.index.embed(self.model, self.loaded.prompt_tokenizer, [seen])[0]
        return self.index.nearest(embedding, prompt)

    def code(self, ids: Sequence[int], prompt: str) -> str:
        """The WGSL text of decoded ``ids``, with the prompt's numbers written back in."""
        text = self.loaded.wgsl_tokenizer.decode(list(ids))
        if self.settings.number_placeholders:
            text = relexicalise_code(text, delexicalise_prompt(prompt))
        return text

    def decode(
        self,
        prompt: str,
        beams: int,
        max_new_tokens: int,
        should_stop: Callable[[], bool] | None,
    ) -> list[Candidate]:
        import torch

        with self.lock, torch.inference_mode():
            src = torch.tensor([self.prompt_ids(prompt)], dtype=torch.long)
            limit = min(max_new_tokens, self.model.cfg.max_seq_len - 1)
            if beams <= 1:
                return [self._greedy(src, limit, should_stop)[0]]
            return self._beam(src, beams, limit, should_stop)

    def greedy(
        self,
        prompt: str,
        max_new_tokens: int,
        should_stop: Callable[[], bool] | None,
        forced: Sequence[int] = (),
    ) -> tuple[Candidate, list[Fork]]:
        """Greedy decoding that starts with the ``forced`` tokens; also every :class:`Fork`
        after them, so that a caller can re-decode from the closest alternatives."""
        import torch

        with self.lock, torch.inference_mode():
            src = torch.tensor([self.prompt_ids(prompt)], dtype=torch.long)
            limit = min(max_new_tokens, self.model.cfg.max_seq_len - 1)
            return self._greedy(src, limit, should_stop, forced)

    def _greedy(
        self,
        src: torch.Tensor,
        limit: int,
        should_stop: Callable[[], bool] | None,
        forced: Sequence[int] = (),
    ) -> tuple[Candidate, list[Fork]]:
        """Greedy decoding; with a draft index, several tokens are checked per forward pass.

        ``forced`` tokens are fed first in one forward pass (their log-probabilities count in
        the score); decoding continues greedily after them."""
        import torch

        model = self.model
        tgt = self.loaded.wgsl_tokenizer
        memory = model.encode(src)
        cache = model.start_cache(memory)
        last = tgt.sos_id
        out: list[int] = []
        forks: list[Fork] = []
        total = 0.0
        finished = False
        if forced:
            forced = list(forced[:limit])
            chunk = torch.tensor([[last, *forced[:-1]]], dtype=torch.long)
            logits, cache = _forward_chunk(model, chunk, cache)
            logp = torch.log_softmax(logits.float(), dim=-1)
            total += float(logp[torch.arange(len(forced)), torch.tensor(forced)].sum())
            if tgt.eos_id in forced:
                forced = forced[: forced.index(tgt.eos_id)]
                finished = True
            out.extend(forced)
            last = out[-1] if out else tgt.sos_id
        while len(out) < limit and not finished:
            if should_stop is not None and should_stop():
                raise GenerationCancelled("generation cancelled")
            room = limit - len(out) - 1
            draft = [] if self.drafts is None else self.drafts.propose([last, *out][-3:], room)
            draft = draft[: min(_DRAFT_LENGTH, room)]
            chunk = torch.tensor([[last, *draft]], dtype=torch.long)
            logits, cache = _forward_chunk(model, chunk, cache)
            logp = torch.log_softmax(logits.float(), dim=-1)
            best = logp.argmax(dim=-1).tolist()
            accepted = 0
            while accepted < len(draft) and best[accepted] == draft[accepted]:
                if draft[accepted] == tgt.eos_id:
                    break
                accepted += 1
            chosen = [*draft[:accepted], best[accepted]]
            picked = logp[torch.arange(len(chosen)), torch.tensor(chosen)]
            total += float(picked.sum())
            top2 = logp[: len(chosen)].topk(2, dim=-1)
            margins = (top2.values[:, 0] - top2.values[:, 1]).tolist()
            runners_up = top2.indices[:, 1].tolist()
            cache = _truncate(cache, cache.length - len(draft) + accepted)
            for token, margin, other in zip(chosen, margins, runners_up, strict=True):
                forks.append(Fork(len(out), other, margin))
                if token == tgt.eos_id:
                    finished = True
                    break
                out.append(token)
            last = chosen[-1]
        out = out[:limit]
        score = length_normalised(total, len(out) + 1, self.settings.length_penalty)
        return Candidate(tuple(out), total, score, finished), forks

    def _beam(
        self,
        src: torch.Tensor,
        beams: int,
        limit: int,
        should_stop: Callable[[], bool] | None,
    ) -> list[Candidate]:
        """Beam search with ``beams`` live hypotheses; stops once ``beams`` have finished.

        All beams start from ``sos`` with only the first alive, so step one spreads into the
        top-k distinct first tokens. Each step keeps the best ``2 * beams`` continuations:
        those ending in ``eos`` become finished candidates, the rest refill the beam.
        """
        import torch

        model = self.model
        tgt = self.loaded.wgsl_tokenizer
        alpha = self.settings.length_penalty
        eos = tgt.eos_id
        memory = model.encode(src).index_select(torch.zeros(beams, dtype=torch.long))
        tokens = torch.full((beams,), tgt.sos_id, dtype=torch.long)
        scores = torch.full((beams,), -math.inf)
        scores[0] = 0.0
        histories: list[list[int]] = [[] for _ in range(beams)]
        finished: list[Candidate] = []
        cache = None
        for step in range(limit):
            if should_stop is not None and should_stop():
                raise GenerationCancelled("generation cancelled")
            logits, cache = model.decode_step(tokens, memory, cache)
            logp = torch.log_softmax(logits.float(), dim=-1)
            vocab = logp.shape[-1]
            total = (scores[:, None] + logp).view(-1)
            top_scores, top_index = torch.topk(total, 2 * beams)
            parents: list[int] = []
            next_tokens: list[int] = []
            next_scores: list[float] = []
            for value, index in zip(top_scores.tolist(), top_index.tolist(), strict=True):
                if value == -math.inf:
                    break
                parent, token = divmod(index, vocab)
                if token == eos:
                    ids = tuple(histories[parent])
                    normalised = length_normalised(value, len(ids) + 1, alpha)
                    finished.append(Candidate(ids, value, normalised, True))
                    continue
                parents.append(parent)
                next_tokens.append(token)
                next_scores.append(value)
                if len(parents) == beams:
                    break
            if len(finished) >= beams or not parents:
                break
            best_alive = length_normalised(next_scores[0], limit, alpha)
            if finished and alpha >= 0 and len(finished) >= beams // 2 + 1:
                worst_kept = sorted(c.score for c in finished)[-min(len(finished), beams)]
                if best_alive < worst_kept and step > 0:
                    break
            while len(parents) < beams:  # too few continuations: pad with dead beams
                parents.append(parents[0])
                next_tokens.append(next_tokens[0])
                next_scores.append(-math.inf)
            index = torch.tensor(parents, dtype=torch.long)
            cache = cache.reorder(index)
            histories = [[*histories[p], t] for p, t in zip(parents, next_tokens, strict=True)]
            tokens = torch.tensor(next_tokens, dtype=torch.long)
            scores = torch.tensor(next_scores)
        if len(finished) < beams:
            for history, value in zip(histories, scores.tolist(), strict=True):
                if value > -math.inf:
                    ids = tuple(history)
                    normalised = length_normalised(value, len(ids) + 1, alpha)
                    finished.append(Candidate(ids, value, normalised, False))
        unique: dict[tuple[int, ...], Candidate] = {}
        for cand in sorted(finished, key=lambda c: (not c.finished, -c.score)):
            unique.setdefault(cand.ids, cand)
        return list(unique.values())[:beams]


class Generator:
    """Prompt -> WGSL, from a trained model directory or from the templates (``"dummy"``).

    Thread-safe: decoding holds a lock, validation goes through the shared validator.
    """

    def __init__(
        self,
        decoder: _Decoder | None,
        path: Path | None,
        validate: Callable[[str], ValidationResult] | None = None,
    ) -> None:
        self._decoder = decoder
        self.path = path
        self._validate_fn = validate

    @classmethod
    def load(
        cls,
        model: str | Path | None,
        *,
        validate: Callable[[str], ValidationResult] | None = None,
        drafts: bool | Sequence[str] = True,
    ) -> Generator:
        """``None`` -> the shipped default model; ``"dummy"`` -> templates; else a model dir.

        ``drafts`` lets greedy decoding check proposals from the shipped training code (or from
        the given WGSL sources) several tokens per step: the same output from fewer forward
        passes. False decodes one token per step.

        Raises :class:`engine.model.ModelLoadError` naming the path and what to do.
        """
        if isinstance(model, str) and model == DUMMY_MODEL:
            return cls(None, None, validate)
        path = DEFAULT_MODEL_DIR if model is None else Path(model)
        ModelLoadError = _model_load_error()
        if model is None and not path.is_dir():
            raise ModelLoadError(
                f"{path}: the default model is not installed; train one with "
                "`tiny-agent-trainer train --config config/wgsl_generation.toml`, pass "
                "--model DIR, or use --model dummy for the template generator"
            )
        import torch

        from engine.model import load_model

        if torch.get_num_threads() > _TORCH_THREADS:
            torch.set_num_threads(_TORCH_THREADS)
        from engine.retrieval import PromptIndex, PromptIndexError

        loaded = load_model(path)
        loaded.model.eval()
        prompt_index = None
        if loaded.model.pretrained is not None:
            try:
                prompt_index = PromptIndex.load(path)
            except PromptIndexError as exc:
                raise ModelLoadError(str(exc)) from None
        settings = GenerationSettings.from_model_dir(path)
        log.info("loaded model %s (%d parameters)", path, loaded.model.num_parameters())
        tok = loaded.wgsl_tokenizer
        if isinstance(drafts, bool):
            sources = draft_sources(DEFAULT_DRAFT_DATA) if drafts else []
        else:
            sources = list(drafts)
        index = DraftIndex([[*tok.encode(c), tok.eos_id] for c in sources]) if sources else None
        return cls(_Decoder(loaded, settings, index, prompt_index), path, validate)

    @property
    def is_template(self) -> bool:
        return self._decoder is None

    @property
    def settings(self) -> GenerationSettings:
        return self._decoder.settings if self._decoder is not None else GenerationSettings()

    def _validate(self, code: str) -> ValidationResult:
        if self._validate_fn is not None:
            return self._validate_fn(code)
        from engine.validator import validate_source

        return validate_source(code)

    def candidates(
        self,
        prompt: str,
        *,
        beams: int | None = None,
        max_new_tokens: int | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> list[str]:
        """Decoded WGSL candidates, best score first (no validation, no fitting)."""
        if self._decoder is None:
            return [_template_code(prompt)]
        settings = self._decoder.settings
        found = self._decoder.decode(
            prompt,
            beams if beams is not None else settings.beam_size,
            max_new_tokens if max_new_tokens is not None else settings.max_new_tokens,
            should_stop,
        )
        return [self._decoder.code(c.ids, prompt) for c in found]

    def generate(
        self,
        prompt: str,
        *,
        context: str | None = None,
        beams: int | None = None,
        max_new_tokens: int | None = None,
        should_stop: Callable[[], bool] | None = None,
        validated: bool = True,
        greedy_first: bool = True,
        forks: bool = True,
        use_index: bool = True,
    ) -> GenerationResult:
        """WGSL for ``prompt``: the best-scoring candidate naga accepts.

        With ``greedy_first`` (the default) the greedy answer is decoded and validated first.
        When naga rejects it, ``forks`` re-decodes greedily from the ``beams - 1`` places where
        the greedy choice was closest (its prefix, then the runner-up token there), each
        validated in turn: each costs about one drafted greedy decode, far less than a beam
        search. Only when none of those is valid does beam search (``beams`` wide, from the
        config when None) supply further candidates, tried in score order. The common case
        thus costs one fast decode. ``greedy_first=False`` ranks the beams alone; ``beams=1`` is
        greedy only. ``rank`` is the chosen candidate's place in the order tried.
        ``context`` is the file the code will be inserted into; candidates are renamed and
        renumbered to fit it before naga sees them. ``validated=False`` skips naga and returns
        the top candidate marked ``valid=False`` (for measuring decoding alone).
        Before decoding, a model with a prompt index (:mod:`engine.retrieval`) offers the program
        of the nearest training prompt when it is at least the index's threshold similar and
        naga accepts it; ``use_index=False`` decodes only.
        Raises :class:`GenerationCancelled` when ``should_stop`` returns True.
        """
        width = beams if beams is not None else self.settings.beam_size
        source = "template" if self._decoder is None else "model"

        def decoded(n: int) -> list[str]:
            found = self.candidates(
                prompt, beams=n, max_new_tokens=max_new_tokens, should_stop=should_stop
            )
            return found if context is None else [fit_to_context(c, context).code for c in found]

        def fitted(ids: Sequence[int]) -> str:
            assert self._decoder is not None
            code = self._decoder.code(ids, prompt)
            return code if context is None else fit_to_context(code, context).code

        if self._decoder is not None and use_index and validated:
            index = self._decoder.index
            match = self._decoder.nearest(prompt)
            if index is not None and match is not None and match.similarity >= index.threshold:
                code = match.code if context is None else fit_to_context(match.code, context).code
                verdict = self._validate(code)
                if verdict.valid:
                    return GenerationResult(code, True, (), source, similarity=match.similarity)
        limit = max_new_tokens if max_new_tokens is not None else self.settings.max_new_tokens
        first_width = 1 if greedy_first else width
        places: list[Fork] = []
        greedy_ids: tuple[int, ...] = ()
        if self._decoder is not None and first_width == 1:
            greedy, places = self._decoder.greedy(prompt, limit, should_stop)
            greedy_ids = greedy.ids
            codes = [fitted(greedy_ids)]
        else:
            codes = decoded(first_width)
        if not validated:
            return GenerationResult(codes[0], False, (), source, 0, len(codes))
        rank, verdict = choose_valid(codes, self._validate)
        if not verdict.valid and self._decoder is not None and forks and width > 1:
            for place in sorted(places, key=lambda f: f.margin)[: width - 1]:
                forced = [*greedy_ids[: place.position], place.token]
                code = fitted(self._decoder.greedy(prompt, limit, should_stop, forced)[0].ids)
                if code in codes:
                    continue
                codes.append(code)
                result = self._validate(code)
                if result.valid:
                    rank, verdict = len(codes) - 1, result
                    break
        if not verdict.valid and self._decoder is not None and width > first_width:
            more = [c for c in decoded(width) if c not in codes]
            if more:
                more_rank, more_verdict = choose_valid(more, self._validate)
                codes = codes + more
                if more_verdict.valid:
                    rank, verdict = len(codes) - len(more) + more_rank, more_verdict
        if not verdict.valid:
            log.info("none of %d candidates is valid WGSL for %r", len(codes), prompt)
        return GenerationResult(
            codes[rank],
            verdict.valid,
            tuple(d for d in verdict.diagnostics if d.severity == "error"),
            source,
            rank,
            len(codes),
        )

    def prepare(self) -> None:
        """Build now what the first answer would otherwise wait for: the prompt index's spelling
        postings (about 2 s for the shipped model). Safe in a background thread; a no-op for
        models without an index and for the templates."""
        if self._decoder is not None and self._decoder.index is not None:
            _ = self._decoder.index.spelling

    def describe(self) -> dict[str, object]:
        """For an editor's model-info view: path, parameter count, settings and metrics."""
        if self._decoder is None:
            return {"path": None, "kind": "template", "params": 0, "metrics": {}}
        loaded = self._decoder.loaded
        settings = self._decoder.settings
        return {
            "path": str(self.path),
            "kind": "model",
            "params": loaded.model.num_parameters(),
            "beam_size": settings.beam_size,
            "max_new_tokens": settings.max_new_tokens,
            "length_penalty": settings.length_penalty,
            "metrics": dict(loaded.metrics),
        }


def _template_code(prompt: str) -> str:
    """The template generator's answer (``--model dummy``)."""
    import importlib

    templates = importlib.import_module("engine.templates")
    generate_template: Any = getattr(templates, "generate_from_prompt", None)
    if generate_template is None:
        raise RuntimeError("engine.templates offers no generate_from_prompt(prompt)")
    return str(generate_template(prompt))


def read_prompt_file(path: Path) -> list[str]:
    """One prompt per line (blank lines skipped); raises ValueError naming the file when it
    holds no prompt or is not UTF-8 text, OSError when it cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise OSError(f"{path}: cannot read the prompt file ({exc.strerror or exc})") from None
    prompts = [line.strip() for line in text.splitlines() if line.strip()]
    if not prompts:
        raise ValueError(f"{path}: no prompts; write one prompt per line")
    return prompts


def generate_json_lines(
    generator: Generator,
    prompts: Sequence[str],
    *,
    beams: int | None = None,
    use_index: bool = True,
) -> Iterator[tuple[str, bool]]:
    """For each prompt, a JSON line ``{"prompt", "code", "valid"}`` and its validity.

    A prompt the template generator has no template for gives ``"code": ""``, ``"valid":
    false`` and an ``"error"`` saying why, instead of ending the batch."""
    from engine.templates import NoTemplateError

    for prompt in prompts:
        record: dict[str, object]
        try:
            result = generator.generate(prompt, beams=beams, use_index=use_index)
            record = {"prompt": prompt, "code": result.code, "valid": result.valid}
        except NoTemplateError as exc:
            record = {"prompt": prompt, "code": "", "valid": False, "error": str(exc)}
        yield json.dumps(record, ensure_ascii=False), bool(record["valid"])
