"""Tokenizer throughput on the shipped pairs, against a plain ``re`` tokenizer in the same run.

The baseline is what a first tokenizer usually is: ``re.findall(r"\\w+|[^\\w\\s]", text)`` — no
template tracking, no number spelling, no vocabulary look-up, no fallback pieces. Our figures
include all of that (lexing + ids). "cold" is a fresh tokenizer's first pass over the corpus
(its lexeme cache empty); "warm" reuses one tokenizer. Decoding (ids -> laid-out WGSL) is timed
too. Every pass runs right after a baseline pass over the same texts, and VS RE is the median of
the per-pass rate ratios, so that load from other processes on a shared machine cancels out.

Usage: python benchmarks/tokenizer_bench.py [--passes N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from engine.dataset import load_examples
from engine.tokenizer import build_prompt_tokenizer, build_wgsl_tokenizer

ROOT = Path(__file__).resolve().parent.parent
BASELINE = re.compile(r"\w+|[^\w\s]")


def one_pass(texts: Sequence[str], fn: Callable[[str], Sequence[object]]) -> tuple[int, float]:
    """(tokens produced, seconds) for one pass over ``texts``."""
    start = time.perf_counter()
    tokens = sum(len(fn(t)) for t in texts)
    return tokens, time.perf_counter() - start


def paired(
    texts: Sequence[str],
    make: Callable[[], Callable[[str], Sequence[object]]],
    baseline: Callable[[str], Sequence[object]],
    passes: int,
) -> tuple[int, float, float]:
    """(tokens, median seconds per pass, median of per-pass rate ratios against the baseline).

    Each pass of ours runs right after a pass of the baseline over the same texts, so that load
    from other processes hits both alike; ``make`` is called before each pass (a fresh tokenizer
    for the cold rows, the same one for the warm rows).
    """
    seconds: list[float] = []
    ratios: list[float] = []
    tokens = 0
    for _ in range(passes):
        base_tokens, base_s = one_pass(texts, baseline)
        fn = make()
        tokens, ours_s = one_pass(texts, fn)
        seconds.append(ours_s)
        ratios.append((tokens / ours_s) / (base_tokens / base_s))
    return tokens, statistics.median(seconds), statistics.median(ratios)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passes", type=int, default=5, help="passes per row (medians kept)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)

    examples = load_examples(ROOT / "data" / "train")
    codes = [e.wgsl_code for e in examples]
    prompts = [e.natural_language for e in examples]
    wgsl = build_wgsl_tokenizer(codes)
    prompt = build_prompt_tokenizer(prompts, 1, lowercase=True)
    encoded = {c: wgsl.encode(c) for c in codes}

    def decode(code: str) -> Sequence[int]:
        ids = encoded[code]
        return ids if wgsl.decode(ids) else ()

    def prompt_baseline(text: str) -> list[str]:
        return BASELINE.findall(text.lower())

    cases: list[tuple[str, str, Sequence[str], Callable[[], Callable[[str], Sequence[object]]]]]
    cases = [
        ("wgsl", "re baseline", codes, lambda: BASELINE.findall),
        ("wgsl", "encode (cold)", codes, lambda: build_wgsl_tokenizer(codes).encode),
        ("wgsl", "encode (warm)", codes, lambda: wgsl.encode),
        ("wgsl", "decode", codes, lambda: decode),
        ("prompt", "re baseline", prompts, lambda: prompt_baseline),
        (
            "prompt",
            "encode (cold)",
            prompts,
            lambda: build_prompt_tokenizer(prompts, 1, True).encode,
        ),
        ("prompt", "encode (warm)", prompts, lambda: prompt.encode),
    ]
    rows: list[dict[str, object]] = []
    for side, name, texts, make in cases:
        baseline = BASELINE.findall if side == "wgsl" else prompt_baseline
        tokens, seconds, ratio = paired(texts, make, baseline, args.passes)
        rows.append(
            {
                "side": side,
                "method": name,
                "tokens": tokens,
                "seconds": round(seconds, 4),
                "tokens_per_s": round(tokens / seconds),
                "vs_re": round(ratio, 3),
            }
        )

    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"{len(codes)} pairs from data/train; medians of {args.passes} passes, each right after "
        f"a baseline pass; {os.cpu_count()} CPUs, load average {load}"
    )
    print(f"{'SIDE':<8}{'METHOD':<16}{'TOKENS':>9}{'SECONDS':>10}{'TOKENS/S':>12}{'VS RE':>8}")
    for r in rows:
        print(
            f"{r['side']:<8}{r['method']:<16}{r['tokens']:>9}{r['seconds']:>10.4f}"
            f"{r['tokens_per_s']:>12}{r['vs_re']:>8.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
