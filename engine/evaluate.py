"""How good is the generator, measured: naga-valid rate, exact match, BLEU, functional pass@1.

Every system is scored on the same prompts with the same metrics:

- **valid**: the share of outputs naga accepts;
- **exact match** and **BLEU**: over WGSL tokens (comments and whitespace ignored);
- **functional pass@1**: for prompts whose reference is a runnable compute kernel, the share
  whose single returned kernel writes the same buffers as the reference on the same inputs
  (see :mod:`engine.kernels`). Invalid outputs count as failures.

The baseline is retrieval: for each prompt, the code of the most similar training prompt
(TF-IDF over character n-grams, cosine similarity). A model that cannot beat looking up the
nearest training example has not learned to generalise.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from engine.fit import FitError, scan
from engine.kernels import KernelRunner, compare_kernels
from engine.metrics import bleu, exact_match

if TYPE_CHECKING:
    from engine.dataset import Example
    from engine.generate import Generator
    from engine.validator import ValidationResult

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "wgsl_generation.toml"
SPLITS = ("heldout", "val")


def wgsl_tokens(code: str) -> list[str]:
    """The token texts of ``code`` (no whitespace, no comments) used by exact match and BLEU."""
    try:
        return [t.text for t in scan(code)]
    except FitError:
        return code.split()


class RetrievalBaseline:
    """Nearest training prompt by TF-IDF cosine over character 3-5-grams; returns its code."""

    def __init__(self, train: Sequence[Example]) -> None:
        if not train:
            raise ValueError("the retrieval baseline needs at least one training example")
        from engine.retrieval import SpellingIndex

        self.examples = list(train)
        self._index = SpellingIndex([e.natural_language for e in self.examples])

    def nearest(self, prompt: str) -> Example:
        """The training example whose prompt is most similar (first one on ties)."""
        return self.examples[int(self._index.similarities(prompt).argmax())]


@dataclass
class SystemScores:
    """One system's scores over the evaluated prompts (rates in [0, 1])."""

    name: str
    count: int = 0
    valid: int = 0
    functional_total: int = 0
    functional_passed: int = 0
    exact_match: float = 0.0
    bleu: float = 0.0
    seconds: float = 0.0
    failures: list[dict[str, str]] = field(default_factory=list)

    @property
    def valid_rate(self) -> float:
        return self.valid / self.count if self.count else 0.0

    @property
    def functional_pass_at_1(self) -> float:
        return self.functional_passed / self.functional_total if self.functional_total else 0.0

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["valid_rate"] = self.valid_rate
        out["functional_pass_at_1"] = self.functional_pass_at_1
        return out


@dataclass
class EvalReport:
    split: str
    prompts: int
    model: SystemScores
    baseline: SystemScores
    adapter: str
    from_index: int = 0
    """How many of the model's answers were its prompt index's nearest program."""

    def to_dict(self) -> dict[str, object]:
        return {
            "split": self.split,
            "prompts": self.prompts,
            "adapter": self.adapter,
            "from_index": self.from_index,
            "model": self.model.to_dict(),
            "baseline": self.baseline.to_dict(),
        }


def score_outputs(
    name: str,
    examples: Sequence[Example],
    outputs: Sequence[str],
    seconds: float,
    validate: Callable[[str], ValidationResult],
    runner: KernelRunner,
) -> SystemScores:
    """Score ``outputs`` (one per example) against the examples' reference code."""
    scores = SystemScores(name, count=len(examples), seconds=seconds)
    refs = [wgsl_tokens(e.wgsl_code) for e in examples]
    hyps = [wgsl_tokens(code) for code in outputs]
    scores.exact_match = exact_match(refs, hyps)
    scores.bleu = bleu(refs, hyps)
    for example, code in zip(examples, outputs, strict=True):
        ok = bool(code.strip()) and validate(code).valid
        scores.valid += ok
        if "@compute" not in example.wgsl_code:
            continue
        if not ok:
            if runner.runnable(example.wgsl_code):
                scores.functional_total += 1
                scores.failures.append(
                    {"prompt": example.natural_language, "reason": "not valid WGSL"}
                )
            continue
        outcome = compare_kernels(runner, code, example.wgsl_code)
        if not outcome.applicable:
            continue
        scores.functional_total += 1
        if outcome.passed:
            scores.functional_passed += 1
        else:
            scores.failures.append({"prompt": example.natural_language, "reason": outcome.reason})
    return scores


def evaluate(
    generator: Generator,
    examples: Sequence[Example],
    train: Sequence[Example],
    *,
    split: str = "heldout",
    beams: int | None = None,
    validate: Callable[[str], ValidationResult] | None = None,
    runner: KernelRunner | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    use_index: bool = True,
) -> EvalReport:
    """Score ``generator`` and the retrieval baseline (built from ``train``) on ``examples``.

    ``use_index=False`` scores the decoder alone (no answers from the model's prompt index)."""
    if validate is None:
        from engine.validator import validate_source

        validate = validate_source
    runner = runner or KernelRunner()
    outputs: list[str] = []
    from_index = 0
    start = time.perf_counter()
    from engine.templates import NoTemplateError

    for i, example in enumerate(examples):
        try:
            result = generator.generate(example.natural_language, beams=beams, use_index=use_index)
            outputs.append(result.code)
            from_index += result.similarity is not None
        except NoTemplateError:
            outputs.append("")
        if on_progress is not None:
            on_progress(i + 1, len(examples))
    model_seconds = time.perf_counter() - start
    start = time.perf_counter()
    baseline = RetrievalBaseline(train)
    retrieved = [baseline.nearest(e.natural_language).wgsl_code for e in examples]
    baseline_seconds = time.perf_counter() - start
    model_scores = score_outputs("model", examples, outputs, model_seconds, validate, runner)
    baseline_scores = score_outputs(
        "retrieval", examples, retrieved, baseline_seconds, validate, runner
    )
    runner_name = runner.adapter_name or "not used"
    return EvalReport(split, len(examples), model_scores, baseline_scores, runner_name, from_index)


def format_report(report: EvalReport) -> str:
    """A plain-text table: model vs retrieval baseline, with the difference."""
    m, b = report.model, report.baseline
    rows = [
        ("naga-valid rate", m.valid_rate, b.valid_rate),
        ("exact match", m.exact_match, b.exact_match),
        ("BLEU", m.bleu, b.bleu),
        (
            f"functional pass@1 ({m.functional_total} kernels)",
            m.functional_pass_at_1,
            b.functional_pass_at_1,
        ),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [
        f"split: {report.split}, {report.prompts} prompts, kernels run on {report.adapter}",
        f"{'metric':<{width}}  {'model':>8}  {'retrieval':>9}  {'diff':>7}",
    ]
    for label, mv, bv in rows:
        lines.append(f"{label:<{width}}  {mv:>8.3f}  {bv:>9.3f}  {mv - bv:>+7.3f}")
    per_prompt_ms = 1000 * m.seconds / max(m.count, 1)
    lines.append(f"{'time per prompt (ms)':<{width}}  {per_prompt_ms:>8.1f}")
    if report.from_index:
        lines.append(
            f"{report.from_index} of the model's {m.count} answers are its prompt index's "
            "nearest training program (--no-index: the decoder alone)"
        )
    return "\n".join(lines)


def load_eval_split(
    config_path: Path, split: str, limit: int | None = None
) -> tuple[list[Example], list[Example]]:
    """(examples to evaluate, training examples) from a training config's dataset.

    ``limit`` keeps that many examples spread evenly over the split (every family stays in).
    Raises :class:`engine.config.ConfigError` / :class:`engine.dataset.DatasetError`, or
    ValueError when the split is unknown or empty."""
    from engine.config import load_config
    from engine.dataset import load_splits

    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    config = load_config(config_path)
    splits = load_splits(config.dataset, config.training.seed)
    examples = splits.heldout if split == "heldout" else splits.val
    if not examples:
        raise ValueError(
            f"{config_path}: the {split} split is empty; set [dataset] "
            f"{'heldout_path' if split == 'heldout' else 'val_ratio or val_path'}"
        )
    if limit is not None and 0 < limit < len(examples):
        step = len(examples) / limit
        examples = [examples[int(i * step)] for i in range(limit)]
    return examples, splits.train
