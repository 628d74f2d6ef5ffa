"""Tokenizer throughput on the shipped pairs, against a plain ``re`` tokenizer in the same run.

The baseline is what a first tokenizer usually is: ``re.findall(r"\\w+|[^\\w\\s]", text)`` — no
template tracking, no number spelling, no vocabulary look-up, no fallback pieces. Our figures
include all of that (lexing + ids). "cold" is a fresh tokenizer's first pass over the corpus
(its lexeme cache empty); "warm" is a second pass. Decoding (ids -> laid-out WGSL) is timed too.

Usage: python benchmarks/tokenizer_bench.py [--repeat N] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from engine.dataset import load_examples
from engine.tokenizer import Tokenizer, build_prompt_tokenizer, build_wgsl_tokenizer

ROOT = Path(__file__).resolve().parent.parent
BASELINE = re.compile(r"\w+|[^\w\s]")


def timed(
    texts: Sequence[str], fn: Callable[[str], Sequence[object]], repeat: int
) -> tuple[int, float]:
    """(tokens produced in one pass, best seconds per pass over ``repeat`` passes)."""
    best = float("inf")
    tokens = 0
    for _ in range(repeat):
        start = time.perf_counter()
        tokens = sum(len(fn(t)) for t in texts)
        best = min(best, time.perf_counter() - start)
    return tokens, best


def fresh(build: Callable[[], Tokenizer]) -> Callable[[str], Sequence[int]]:
    tok = build()
    return tok.encode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="passes per measurement (best kept)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)

    examples = load_examples(ROOT / "data" / "train")
    codes = [e.wgsl_code for e in examples]
    prompts = [e.natural_language for e in examples]
    wgsl = build_wgsl_tokenizer(codes)
    prompt = build_prompt_tokenizer(prompts, 1, lowercase=True)
    encoded = [wgsl.encode(c) for c in codes]

    rows: list[dict[str, object]] = []

    def row(
        side: str,
        name: str,
        texts: Sequence[str],
        fn: Callable[[str], Sequence[object]],
        base: float | None,
        repeat: int,
    ) -> float:
        tokens, seconds = timed(texts, fn, repeat)
        rate = tokens / seconds
        rows.append(
            {
                "side": side,
                "method": name,
                "tokens": tokens,
                "seconds": round(seconds, 4),
                "tokens_per_s": round(rate),
                "vs_re": round(rate / base, 2) if base else 1.0,
            }
        )
        return rate

    base = row("wgsl", "re baseline", codes, BASELINE.findall, None, args.repeat)
    row("wgsl", "encode (cold)", codes, fresh(lambda: build_wgsl_tokenizer(codes)), base, 1)
    row("wgsl", "encode (warm)", codes, wgsl.encode, base, args.repeat)
    row(
        "wgsl",
        "decode",
        [str(i) for i in range(len(encoded))],
        lambda k: encoded[int(k)] if wgsl.decode(encoded[int(k)]) else (),
        base,
        1,
    )
    pbase = row(
        "prompt", "re baseline", prompts, lambda t: BASELINE.findall(t.lower()), None, args.repeat
    )
    row(
        "prompt",
        "encode (cold)",
        prompts,
        fresh(lambda: build_prompt_tokenizer(prompts, 1, True)),
        pbase,
        1,
    )
    row("prompt", "encode (warm)", prompts, prompt.encode, pbase, args.repeat)

    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{len(codes)} pairs from data/train; best of {args.repeat} passes for warm rows")
    print(f"{'SIDE':<8}{'METHOD':<16}{'TOKENS':>9}{'SECONDS':>10}{'TOKENS/S':>12}{'VS RE':>8}")
    for r in rows:
        print(
            f"{r['side']:<8}{r['method']:<16}{r['tokens']:>9}{r['seconds']:>10}"
            f"{r['tokens_per_s']:>12}{r['vs_re']:>8}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
