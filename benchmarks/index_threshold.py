"""How similar must a prompt be to a training prompt before the prompt index answers it?

The threshold (``engine.retrieval.DEFAULT_THRESHOLD``) is chosen here, on a tuning split whose
wording is new to the model and shares nothing with the held-out split's wording: the training
actions of each compute family inside frames, modifiers and slot words that neither the training
pairs nor the held-out pairs use (below). The held-out split is never read.

``--wording fresh`` is a harder development split: the element-wise families (unary and
binary) asked for in action wording of their own as well (below: "x squared for every entry",
"a over b per entry"), so that the operation words too are new, as in the held-out split. It
gives pass@1 close to the held-out split's (0.720 against 0.676 for the shipped model) without
reading the held-out split.

``--wording blind`` covers every compute family (element-wise, colour, workgroup algorithms) in
the requests of benchmarks/blind_wording.py, which were written from a description of each
kernel's code by a writer who had read neither the generator's wording nor the held-out split:
the development split nearest to prompts from people outside the project.

For every runnable kernel of that split it runs the decoder's answer (``use_index=False``) and
the index's answer on the CPU adapter, then prints functional pass@1 for each threshold: the
index answers when its nearest prompt is at least that similar, the decoder otherwise.

    python benchmarks/index_threshold.py [--model DIR] [--per-family N] [--wording fresh|blind]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.datagen import families, phrasing  # noqa: E402
from engine.datagen.families import Spec  # noqa: E402
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
# Action wording of --wording fresh, by family: new operation words for the element-wise kernels.
FRESH_UNARY: dict[str, tuple[str, ...]] = {
    "scale": (
        "blow up each entry by a factor {k}",
        "each entry gets multiplied with {k}",
        "apply a gain of {k} to the values",
    ),
    "offset": (
        "shift every entry up by {k}",
        "each entry plus {k}",
        "put {k} on top of every value",
    ),
    "square": (
        "x squared for every entry",
        "elementwise x*x",
        "each entry to the second power",
    ),
    "cube": (
        "x cubed per entry",
        "each entry to the power 3",
        "elementwise x*x*x",
    ),
    "abs": (
        "drop the sign of every entry",
        "make every entry non-negative by taking its magnitude",
    ),
    "negate": (
        "flip the sign of every entry",
        "turn each entry into its opposite",
    ),
    "sqrt": (
        "root of every entry",
        "elementwise sqrt",
    ),
    "reciprocal": (
        "one over each entry",
        "invert every entry (1/x)",
    ),
    "exp": (
        "e to the power of each entry",
        "elementwise exponential",
    ),
    "log": (
        "ln of every entry",
        "elementwise natural logarithm",
    ),
    "sin": (
        "sin of each entry",
        "elementwise sine",
    ),
    "cos": (
        "cos of each entry",
        "elementwise cosine",
    ),
    "floor": (
        "floor every entry",
        "round each entry towards minus infinity",
    ),
    "ceil": (
        "ceil every entry",
        "round each entry towards plus infinity",
    ),
    "round": (
        "round every entry to a whole number",
        "snap each entry to the closest integer",
    ),
    "fract": (
        "keep only what is after the decimal point of each entry",
        "elementwise fract",
    ),
    "clamp": (
        "limit every entry to between {lo} and {hi}",
        "keep each entry inside {lo}..{hi}",
    ),
    "relu": (
        "zero out the negative entries",
        "max(x, 0) on every entry",
    ),
    "step": (
        "set each entry to 1 if it is at least {k}, else 0",
        "0/1 mask of the entries >= {k}",
    ),
}
FRESH_BINARY: dict[str, tuple[str, ...]] = {
    "add": (
        "a plus b per entry",
        "sum of the two input arrays entrywise",
    ),
    "sub": (
        "a minus b per entry",
        "difference of two arrays, entry by entry",
    ),
    "mul": (
        "a times b per entry",
        "entrywise product of two arrays",
    ),
    "div": (
        "a over b per entry",
        "entrywise quotient of two arrays",
    ),
    "min": (
        "smaller of a and b per entry",
        "entrywise min of two arrays",
    ),
    "max": (
        "bigger of a and b per entry",
        "entrywise max of two arrays",
    ),
    "average": (
        "mean of a and b per entry",
        "halfway between a and b for every entry",
    ),
    "lerp": (
        "blend a and b by {t} per entry",
        "a mixed with b at {t}",
    ),
}
THRESHOLDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)


def _sample(
    split: phrasing.Split, per_family: int, seed: int, keep: Callable[[Spec], bool]
) -> list[tuple[str, str]]:
    """(prompt, WGSL) pairs of the compute specs that ``keep`` accepts, drawn from ``split``
    with the tuning frames, modifiers and slot words above installed as that split's."""
    other: phrasing.Split = "heldout" if split == "train" else "train"

    def tables(values: tuple[str, ...]) -> dict[phrasing.Split, tuple[str, ...]]:
        return {split: values, other: ()}

    phrasing.FRAMES = {**phrasing.FRAMES, "compute": tables(FRAMES)}
    phrasing.MODIFIERS = {k: tables(v) for k, v in MODIFIERS.items()}
    phrasing.SLOTS = {k: tables(v) for k, v in SLOTS.items()}
    phrasing.humanize = lambda text, rng: text  # no lead-ins, asides or typos
    rng = random.Random(seed)
    pairs = []
    for group, specs in build_specs(1337).items():
        chosen = [s for s in specs if keep(s)]
        if chosen and group.startswith("compute"):
            pairs += [
                (p.natural_language, p.wgsl_code)
                for p in sample_pairs(chosen, split, per_family, rng)
            ]
    return pairs


def tuning_pairs(per_family: int, seed: int = 4242) -> list[tuple[str, str]]:
    """(prompt, WGSL) pairs of the compute families in the tuning wording above."""
    every = (*phrasing.FRAMES["compute"]["train"], *phrasing.FRAMES["compute"]["heldout"])
    assert not set(FRAMES) & set(every), "tuning frames must be new"
    return _sample("train", per_family, seed, lambda spec: True)


def fresh_pairs(per_family: int, seed: int = 777) -> list[tuple[str, str]]:
    """(prompt, WGSL) pairs of the element-wise families with new action wording as well, in
    the tuning frames, modifiers and slot words."""
    families.UNARY_OPS = tuple(
        dataclasses.replace(op, heldout=FRESH_UNARY[op.family], uniform_heldout=())
        for op in families.UNARY_OPS
    )
    families.BINARY_OPS = tuple(
        dataclasses.replace(op, heldout=FRESH_BINARY[op.family]) for op in families.BINARY_OPS
    )
    fresh = {**FRESH_UNARY, **FRESH_BINARY}
    return _sample(
        "heldout", per_family, seed, lambda spec: bool(spec.heldout) and spec.family in fresh
    )


def blind_pairs(per_family: int, seed: int = 2026) -> list[tuple[str, str]]:
    """(prompt, WGSL) pairs of every compute family in benchmarks/blind_wording.py's requests:
    the variant's numbers filled in, then where the result goes (for kernels that come both in
    place and with a separate output) and the workgroup size (when it is not 64)."""
    import blind_wording as blind

    from engine.datagen.paraphrases import actions_for
    from engine.tokenizer import format_wgsl

    rng = random.Random(seed)
    pairs = []
    for group, specs in build_specs(1337).items():
        if not group.startswith("compute"):
            continue
        by_family: dict[str, list[tuple[Spec, tuple[str, ...]]]] = {}
        for spec in specs:
            actions = actions_for(spec, blind.ACTIONS, blind.UNIFORM_ACTIONS)
            if actions:
                by_family.setdefault(spec.family, []).append((spec, actions))
        for variants in by_family.values():
            seen: set[str] = set()
            for n in range(per_family):
                spec, actions = variants[n % len(variants)]
                for _attempt in range(12):
                    prompt = rng.choice(actions)
                    if spec.modifier == "inplace":
                        prompt += rng.choice(blind.INPLACE)
                    elif spec.modifier == "io":
                        prompt += rng.choice(blind.SEPARATE)
                    if spec.wg != 64:
                        prompt += rng.choice(blind.WORKGROUP).replace("{wg}", str(spec.wg))
                    if prompt not in seen:
                        break
                else:
                    continue
                seen.add(prompt)
                pairs.append((prompt, format_wgsl(spec.code)))
    return pairs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    parser.add_argument("--per-family", type=int, default=8)
    parser.add_argument("--wording", choices=["tuning", "fresh", "blind"], default="tuning")
    args = parser.parse_args()

    from engine.config import load_config
    from engine.dataset import load_splits
    from engine.evaluate import DEFAULT_CONFIG
    from engine.generate import Generator
    from engine.kernels import KernelRunner, compare_kernels
    from engine.validator import validate_source

    config = load_config(DEFAULT_CONFIG)
    seen = {e.natural_language for e in load_splits(config.dataset, config.training.seed).train}
    make = {"fresh": fresh_pairs, "blind": blind_pairs, "tuning": tuning_pairs}[args.wording]
    pairs = [(p, c) for p, c in make(args.per_family) if p not in seen]
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
    print(f"{n} kernels in the {args.wording} wording ({len(pairs)} prompts)")
    print(f"{'threshold':>9}  {'pass@1':>6}  {'answered by the index':>21}")
    for t in THRESHOLDS:
        passed = sum(index_ok if sim >= t else decoded_ok for sim, index_ok, decoded_ok in rows)
        used = sum(sim >= t for sim, _, _ in rows)
        print(f"{t:>9.2f}  {passed / n:>6.3f}  {used:>21d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
