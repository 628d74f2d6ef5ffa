"""How similar must a prompt be to a training prompt before the prompt index answers it?

The threshold (``engine.retrieval.DEFAULT_THRESHOLD``) is chosen here, on a tuning split whose
wording is new to the model and shares nothing with the held-out split's wording: the training
actions of each compute family inside frames, modifiers and slot words that neither the training
pairs nor the held-out pairs use (below). The held-out split is never read.

For every runnable kernel of that split it runs the decoder's answer (``use_index=False``) and
the index's answer on the CPU adapter, then prints functional pass@1 for each threshold: the
index answers when its nearest prompt is at least that similar, the decoder otherwise.

    python benchmarks/index_threshold.py [--model DIR] [--per-family N]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.datagen import phrasing  # noqa: E402
from engine.datagen.generate import build_specs, sample_pairs  # noqa: E402

FRAMES = (
    "can you {act}",
    "i want a compute shader that {act3}",
    "need a kernel to {act}",
    "write me wgsl that {act3}",
    "show me how to {act} in a compute shader",
    "{act}, in wgsl",
    "gpu kernel: {act}",
    "wgsl snippet that {act3}",
)
MODIFIERS = {
    "io": (
        "",
        "",
        " and write the results to a new buffer",
        ", leaving the input untouched",
        " into another buffer",
        ", results in a different buffer",
        " and store it in a result array",
        " into a fresh output array",
        " (separate input and output)",
    ),
    "inplace": (
        ", overwriting the input",
        ", keeping the result in the same {buf}",
        ", updating the {buf} itself",
        ", replacing the old values",
        ", so the {buf} holds the result",
        ", mutating the data",
        " (no extra buffer)",
        " inside the same storage",
    ),
    "wg": (
        ", launching workgroups of {wg}",
        ", workgroup_size {wg}",
        " at {wg} lanes per workgroup",
    ),
}
SLOTS = {
    "each": ("each individual",),
    "elem": ("scalar", "component"),
    "elems": ("scalars", "components"),
    "buf": ("sequence", "dataset"),
    "bufs": ("sequences", "datasets"),
    "img": ("bitmap", "render target"),
    "pixel": ("pixel", "color", "texel"),
}
THRESHOLDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)


def tuning_pairs(per_family: int, seed: int = 4242) -> list[tuple[str, str]]:
    """(prompt, WGSL) pairs of the compute families in the tuning wording above."""
    every = (*phrasing.FRAMES["compute"]["train"], *phrasing.FRAMES["compute"]["heldout"])
    assert not set(FRAMES) & set(every), "tuning frames must be new"
    phrasing.FRAMES = {**phrasing.FRAMES, "compute": {"train": FRAMES, "heldout": ()}}
    phrasing.MODIFIERS = {k: {"train": v, "heldout": ()} for k, v in MODIFIERS.items()}
    phrasing.SLOTS = {k: {"train": v, "heldout": ()} for k, v in SLOTS.items()}
    phrasing.humanize = lambda text, rng: text  # no lead-ins, asides or typos
    rng = random.Random(seed)
    pairs = []
    for group, specs in build_specs(1337).items():
        if group.startswith("compute"):
            pairs += [
                (p.natural_language, p.wgsl_code)
                for p in sample_pairs(specs, "train", per_family, rng)
            ]
    return pairs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    parser.add_argument("--per-family", type=int, default=8)
    args = parser.parse_args()

    from engine.config import load_config
    from engine.dataset import load_splits
    from engine.evaluate import DEFAULT_CONFIG
    from engine.generate import Generator
    from engine.kernels import KernelRunner, compare_kernels
    from engine.validator import validate_source

    config = load_config(DEFAULT_CONFIG)
    seen = {e.natural_language for e in load_splits(config.dataset, config.training.seed).train}
    pairs = [(p, c) for p, c in tuning_pairs(args.per_family) if p not in seen]
    generator = Generator.load(args.model)
    decoder = generator._decoder
    if decoder is None or decoder.index is None:
        print("error: the model has no prompt index", file=sys.stderr)
        return 2
    runner = KernelRunner()

    def passes(code: str, reference: str) -> bool:
        if not code.strip() or not validate_source(code).valid:
            return False
        outcome = compare_kernels(runner, code, reference)
        return bool(outcome.applicable and outcome.passed)

    rows: list[tuple[float, bool, bool]] = []
    for prompt, reference in pairs:
        if not runner.runnable(reference):
            continue
        match = decoder.nearest(prompt)
        assert match is not None
        decoded = generator.generate(prompt, use_index=False).code
        rows.append((match.similarity, passes(match.code, reference), passes(decoded, reference)))
    n = len(rows)
    print(f"{n} kernels in the tuning wording ({len(pairs)} prompts)")
    print(f"{'threshold':>9}  {'pass@1':>6}  {'answered by the index':>21}")
    for t in THRESHOLDS:
        passed = sum(index_ok if sim >= t else decoded_ok for sim, index_ok, decoded_ok in rows)
        used = sum(sim >= t for sim, _, _ in rows)
        print(f"{t:>9.2f}  {passed / n:>6.3f}  {used:>21d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
