"""Text-similarity metrics for generated WGSL: corpus BLEU and exact match over token lists.

Both work on already-tokenized sequences so that the trainer (token ids decoded to tokens) and
the evaluator (WGSL tokenized by the same tokenizer) measure the same thing. Whitespace never
matters: callers compare tokens, not characters.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

MAX_NGRAM = 4


def _ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def bleu(
    references: Sequence[Sequence[str]],
    hypotheses: Sequence[Sequence[str]],
    max_n: int = MAX_NGRAM,
) -> float:
    """Corpus BLEU (Papineni et al. 2002) in [0, 1], one reference per hypothesis.

    Clipped n-gram precisions for n = 1..``max_n`` are pooled over the whole corpus, combined by
    a geometric mean and multiplied by the brevity penalty. A precision of zero would make the
    score zero; like sacreBLEU's "exp" smoothing, missing higher-order matches are smoothed
    (1 / 2^k) so that short corpora still get a graded score. An empty corpus scores 0.
    """
    if len(references) != len(hypotheses):
        raise ValueError(
            f"bleu: {len(references)} references but {len(hypotheses)} hypotheses; "
            "pass one reference per hypothesis"
        )
    matches = [0] * max_n
    totals = [0] * max_n
    ref_len = 0
    hyp_len = 0
    for ref, hyp in zip(references, hypotheses, strict=True):
        ref_len += len(ref)
        hyp_len += len(hyp)
        for n in range(1, max_n + 1):
            hyp_counts = _ngrams(hyp, n)
            ref_counts = _ngrams(ref, n)
            matches[n - 1] += sum(min(c, ref_counts[g]) for g, c in hyp_counts.items())
            totals[n - 1] += max(len(hyp) - n + 1, 0)
    if hyp_len == 0 or matches[0] == 0:
        return 0.0
    log_precision = 0.0
    smooth = 1.0
    for n in range(max_n):
        if totals[n] == 0:
            # Hypotheses shorter than n tokens: no evidence either way, count as smoothed miss.
            smooth *= 2.0
            log_precision += math.log(1.0 / (smooth * max(hyp_len, 1)))
            continue
        if matches[n] == 0:
            smooth *= 2.0
            log_precision += math.log(1.0 / (smooth * totals[n]))
        else:
            log_precision += math.log(matches[n] / totals[n])
    brevity = 1.0 if hyp_len > ref_len else math.exp(1.0 - ref_len / hyp_len)
    return brevity * math.exp(log_precision / max_n)


def exact_match(
    references: Sequence[Sequence[str]],
    hypotheses: Sequence[Sequence[str]],
) -> float:
    """Fraction of hypotheses whose token sequence equals its reference exactly; 0 when empty."""
    if len(references) != len(hypotheses):
        raise ValueError(
            f"exact_match: {len(references)} references but {len(hypotheses)} hypotheses"
        )
    if not references:
        return 0.0
    same = sum(list(r) == list(h) for r, h in zip(references, hypotheses, strict=True))
    return same / len(references)
