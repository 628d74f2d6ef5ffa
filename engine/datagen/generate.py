"""Turn family variants into prompt/code pairs for the training and held-out splits."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.datagen import paraphrases, phrasing
from engine.datagen.families import (
    Spec,
    SpecBuilder,
    binary_specs,
    color_specs,
    copy_fill_specs,
    histogram_specs,
    reduction_specs,
    scan_specs,
    unary_specs,
)
from engine.datagen.functions import function_specs, struct_specs
from engine.datagen.graphics import fragment_specs, storage_texture_specs, vertex_specs
from engine.tokenizer import format_wgsl

# Output file (without .toml) -> the builders whose families it holds.
GROUPS: dict[str, tuple[SpecBuilder, ...]] = {
    "compute_unary": (unary_specs,),
    "compute_binary": (binary_specs, copy_fill_specs),
    "compute_color": (color_specs,),
    "compute_workgroup": (reduction_specs, scan_specs, histogram_specs),
    "fragment": (fragment_specs,),
    "vertex": (vertex_specs,),
    "storage_texture": (storage_texture_specs,),
    "functions": (function_specs, struct_specs),
}

TRAIN_PER_FAMILY = 100
HELDOUT_PER_FAMILY = 14


@dataclass(frozen=True)
class Pair:
    natural_language: str
    wgsl_code: str
    family: str
    tags: tuple[str, ...]


def build_specs(seed: int) -> dict[str, list[Spec]]:
    """Every variant per output group, deterministic from the seed."""
    rng = random.Random(seed)
    out: dict[str, list[Spec]] = {}
    for group, builders in GROUPS.items():
        specs: list[Spec] = []
        for build in builders:
            specs.extend(build(rng))
        out[group] = specs
    return out


def _prompt(spec: Spec, split: phrasing.Split, rng: random.Random) -> str:
    actions = spec.train if split == "train" else spec.heldout
    action = rng.choice(actions)
    if spec.modifier:
        action += rng.choice(phrasing.MODIFIERS[spec.modifier][split])
    if spec.wg != 64:
        action += rng.choice(phrasing.MODIFIERS["wg"][split])
    action = action.replace("{wg}", str(spec.wg))
    frame = rng.choice(phrasing.FRAMES[spec.kind][split])
    return phrasing.render(frame, action, split, rng)


def sample_pairs(
    specs: Sequence[Spec], split: phrasing.Split, per_family: int, rng: random.Random
) -> list[Pair]:
    """About ``per_family`` pairs for each family, spread over its variants by weight."""
    by_family: dict[str, list[Spec]] = {}
    for spec in specs:
        by_family.setdefault(spec.family, []).append(spec)
    pairs: list[Pair] = []
    for family, members in by_family.items():
        total_weight = sum(s.weight for s in members)
        seen: set[str] = set()
        for spec in members:
            count = max(1, round(per_family * spec.weight / total_weight))
            code = format_wgsl(spec.code)
            for _ in range(count):
                for _attempt in range(12):
                    prompt = _prompt(spec, split, rng)
                    if prompt not in seen:
                        break
                else:
                    continue
                seen.add(prompt)
                pairs.append(Pair(prompt, code, family, spec.tags))
    return pairs


def paraphrase_pairs(
    groups: dict[str, list[Spec]], rng: random.Random, taken: set[str]
) -> dict[str, list[Pair]]:
    """Training pairs per output group phrased with engine/datagen/paraphrases.py's templates
    (about ``paraphrases.EXTRA_PER_FAMILY`` per compute family), none of them in ``taken``."""
    out: dict[str, list[Pair]] = {}
    for group, specs in groups.items():
        extra = []
        for spec in specs:
            actions = paraphrases.actions_for(spec)
            if actions:
                extra.append(dataclasses.replace(spec, train=actions))
        pairs = sample_pairs(extra, "train", paraphrases.EXTRA_PER_FAMILY, rng)
        out[group] = [p for p in pairs if p.natural_language not in taken]
    return out


def generate(seed: int) -> tuple[dict[str, list[Pair]], list[Pair]]:
    """Training pairs per output group, and the held-out pairs.

    The core training pairs and the held-out pairs come first, from one random stream; the
    paraphrase pairs then come from a stream of their own, so the held-out split does not
    depend on them, and a paraphrase that happens to equal a held-out prompt is left out.
    """
    rng = random.Random(seed + 1)
    groups = build_specs(seed)
    train = {g: sample_pairs(s, "train", TRAIN_PER_FAMILY, rng) for g, s in groups.items()}
    train_prompts = {p.natural_language for pairs in train.values() for p in pairs}
    heldout: list[Pair] = []
    for specs in groups.values():
        for pair in sample_pairs(specs, "heldout", HELDOUT_PER_FAMILY, rng):
            if pair.natural_language not in train_prompts:
                heldout.append(pair)
    taken = train_prompts | {p.natural_language for p in heldout}
    extra = paraphrase_pairs(groups, random.Random(seed + 2), taken)
    for group, pairs in extra.items():
        train[group] += pairs
    return train, heldout


def toml_examples(pairs: Sequence[Pair], header: str) -> str:
    """TOML text with one ``[[examples]]`` table per pair (code as a multi-line literal)."""
    out = [header.rstrip() + "\n"]
    for p in pairs:
        if "'''" in p.wgsl_code:
            raise ValueError(f"code for {p.natural_language!r} contains ''' and cannot be written")
        out.append("\n[[examples]]\n")
        out.append(f"family = {json.dumps(p.family)}\n")
        if p.tags:
            out.append("tags = [" + ", ".join(json.dumps(t) for t in p.tags) + "]\n")
        out.append(f"natural_language = {json.dumps(p.natural_language, ensure_ascii=False)}\n")
        out.append("wgsl_code = '''\n" + p.wgsl_code + "'''\n")
    return "".join(out)


def write_dataset(out_dir: Path, seed: int) -> dict[str, int]:
    """Write train/<group>.toml and heldout.toml under ``out_dir``; returns pair counts."""
    train, heldout = generate(seed)
    train_dir = out_dir / "train"
    train_dir.mkdir(parents=True, exist_ok=True)
    header = (
        f"# Generated by `python -m engine.datagen --seed {seed} --out data/`; edit the generator,"
        " not this file.\n"
    )
    counts: dict[str, int] = {}
    for group, pairs in train.items():
        (train_dir / f"{group}.toml").write_text(toml_examples(pairs, header), encoding="utf-8")
        counts[f"train/{group}.toml"] = len(pairs)
    held_header = header + (
        "# Held-out wording split: same families as train/, phrased only with the held-out\n"
        "# frames and vocabulary of engine/datagen/phrasing.py.\n"
    )
    (out_dir / "heldout.toml").write_text(toml_examples(heldout, held_header), encoding="utf-8")
    counts["heldout.toml"] = len(heldout)
    return counts
