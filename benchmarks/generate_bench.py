"""Prompt -> validated WGSL latency with the default model, against plainer decoders.

Every system decodes the same held-out prompts in the same process, warm (model loaded, naga
worker started, a few generations done first). Times are wall-clock per prompt, including
tokenisation, decoding, detokenisation and — where the system validates — naga.

Systems:
  shipped      Generator.generate(): the prompt index's program when the model has an index and
               a training prompt is similar enough and naga accepts it; otherwise greedy with
               drafted tokens, validated by naga; when naga rejects it, greedy re-decodes from
               the closest runner-up tokens (forks), and beam search only when none is valid
  decoder      the same without the prompt index: every prompt decoded
  no-forks     the decoder without forks: straight to beam search when greedy is rejected
  greedy-plain greedy decoding one token per forward pass, no validation (the baseline)
  beam-plain   beam search (config beam size) one token per step, every beam ranked, then
               validated in score order (the textbook validator-guided decoder)

Usage: python benchmarks/generate_bench.py [--model DIR] [--limit N] [--json]
Goal on the 2-core development machine: shipped p50 <= 150 ms, p95 <= 400 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from engine.evaluate import DEFAULT_CONFIG, load_eval_split
from engine.generate import GenerationResult, Generator

WARMUP = 3


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def measure(
    prompts: list[str], run: Callable[[str], GenerationResult]
) -> tuple[list[float], list[GenerationResult]]:
    for prompt in prompts[:WARMUP]:
        run(prompt)
    times: list[float] = []
    results: list[GenerationResult] = []
    for prompt in prompts:
        start = time.perf_counter()
        results.append(run(prompt))
        times.append(time.perf_counter() - start)
    return times, results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model directory (default: shipped)")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--limit", type=int, default=None, help="prompts (default: all held-out)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    examples, _ = load_eval_split(args.config, "heldout", args.limit)
    prompts = [e.natural_language for e in examples]
    shipped = Generator.load(args.model)
    plain = Generator.load(args.model, drafts=False)
    beam_width = shipped.settings.beam_size

    from engine.validator import validate_source

    systems: dict[str, Callable[[str], GenerationResult]] = {
        "greedy-plain": lambda p: plain.generate(p, beams=1, validated=False),
        "shipped": lambda p: shipped.generate(p),
        "decoder": lambda p: shipped.generate(p, use_index=False),
        "no-forks": lambda p: shipped.generate(p, forks=False, use_index=False),
        "beam-plain": lambda p: plain.generate(
            p, beams=beam_width, greedy_first=False, use_index=False
        ),
    }
    rows = []
    for name, run in systems.items():
        times, results = measure(prompts, run)
        if name == "greedy-plain":
            valid = sum(validate_source(r.code).valid for r in results)
        else:
            valid = sum(r.valid for r in results)
        rows.append(
            {
                "system": name,
                "p50_ms": 1000 * percentile(times, 0.5),
                "p95_ms": 1000 * percentile(times, 0.95),
                "mean_ms": 1000 * statistics.fmean(times),
                "valid_rate": valid / len(results),
                "retried": sum(r.candidates > 1 for r in results),
                "from_index": sum(r.similarity is not None for r in results),
            }
        )
    base = rows[0]
    for row in rows:
        row["p50_vs_greedy_plain"] = base["p50_ms"] / row["p50_ms"]
        row["p95_vs_greedy_plain"] = base["p95_ms"] / row["p95_ms"]
    import torch

    header = {
        "prompts": len(prompts),
        "model": str(shipped.path),
        "beam_size": beam_width,
        "torch_threads": torch.get_num_threads(),
    }
    if args.json:
        print(json.dumps({**header, "rows": rows}, indent=2))
        return 0
    print(
        f"{len(prompts)} held-out prompts, model {shipped.path}, beam size {beam_width}, "
        f"torch threads {header['torch_threads']}"
    )
    print(
        f"{'system':<14}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}{'valid':>8}"
        f"{'retried':>9}{'index':>7}{'p50 x':>8}{'p95 x':>8}"
    )
    for row in rows:
        print(
            f"{row['system']:<14}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}{row['mean_ms']:>9.1f}"
            f"{row['valid_rate']:>8.3f}{row['retried']:>9d}{row['from_index']:>7d}"
            f"{row['p50_vs_greedy_plain']:>8.2f}{row['p95_vs_greedy_plain']:>8.2f}"
        )
    print("retried: prompts that needed more than one candidate (greedy rejected by naga)")
    print("index: prompts answered with the prompt index's program")
    print("p50 x / p95 x: speed-up over greedy-plain (higher is faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
