"""BLEU and exact match on token lists, checked against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from engine.metrics import bleu, exact_match


def test_identical_corpus_scores_one() -> None:
    tokens = ["fn", "main", "(", ")", "{", "let", "x", "=", "1", ";", "}"]
    assert bleu([tokens], [tokens]) == pytest.approx(1.0)


def test_hand_computed_bleu_with_smoothed_four_gram() -> None:
    ref = ["the", "cat", "is", "on", "the", "mat"]
    hyp = ["the", "cat", "sat", "on", "the", "mat"]
    # precisions 5/6, 3/5, 1/4, and 0/3 smoothed to 1/(2*3); equal lengths: no brevity penalty
    expected = (5 / 6 * 3 / 5 * 1 / 4 * 1 / 6) ** 0.25
    assert bleu([ref], [hyp]) == pytest.approx(expected)


def test_brevity_penalty_punishes_short_hypotheses() -> None:
    ref = ["a", "b", "c", "d", "e", "f", "g", "h"]
    hyp = ["a", "b", "c", "d"]
    assert bleu([ref], [hyp]) == pytest.approx(math.exp(1 - 8 / 4))


def test_unrelated_or_empty_hypothesis_scores_zero() -> None:
    assert bleu([["a", "b"]], [["x", "y"]]) == 0.0
    assert bleu([["a", "b"]], [[]]) == 0.0
    assert bleu([], []) == 0.0


def test_corpus_bleu_pools_counts_rather_than_averaging() -> None:
    good = ["a", "b", "c", "d", "e"]
    pooled = bleu([good, good], [good, ["z"]])
    assert 0.0 < pooled < 1.0
    assert pooled != pytest.approx((1.0 + 0.0) / 2)


def test_exact_match_counts_token_equal_pairs() -> None:
    refs = [["a", "b"], ["c"], ["d"]]
    hyps = [["a", "b"], ["c", "c"], ["d"]]
    assert exact_match(refs, hyps) == pytest.approx(2 / 3)
    assert exact_match([], []) == 0.0


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="one reference per hypothesis"):
        bleu([["a"]], [])
    with pytest.raises(ValueError):
        exact_match([["a"]], [])
