"""The pair generator: deterministic, in sync with the committed data, honest held-out wording."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from engine.datagen import paraphrases, phrasing
from engine.datagen.__main__ import main as datagen_main
from engine.datagen.families import fill_action
from engine.datagen.generate import GROUPS, build_specs, generate
from engine.tokenizer import format_wgsl

DATA = Path(__file__).resolve().parent.parent / "data"


def _all(mapping: dict[str, dict[str, tuple[str, ...]]], split: str) -> set[str]:
    return {item for per_split in mapping.values() for item in per_split[split]}


@pytest.mark.parametrize("table", ["FRAMES", "SLOTS", "MODIFIERS"])
def test_heldout_phrasings_are_disjoint_from_training(table: str) -> None:
    mapping = getattr(phrasing, table)
    train = _all(mapping, "train")
    heldout = _all(mapping, "heldout")
    shared = (train & heldout) - {""}
    assert not shared, f"{table} used by both splits: {sorted(shared)}"


def test_heldout_noun_frames_are_disjoint_from_training() -> None:
    assert not set(phrasing.NOUN_FRAMES["train"]) & set(phrasing.NOUN_FRAMES["heldout"])
    train_frames = _all(phrasing.FRAMES, "train") | set(phrasing.NOUN_FRAMES["train"])  # type: ignore[arg-type]
    assert not train_frames & set(phrasing.NOUN_FRAMES["heldout"])


def test_every_variant_has_its_own_heldout_actions() -> None:
    for specs in build_specs(1337).values():
        for spec in specs:
            assert spec.heldout, spec.family
            assert not set(spec.train) & set(spec.heldout), spec.family


def test_generation_is_deterministic_and_seeded() -> None:
    a_train, a_held = generate(1337)
    b_train, b_held = generate(1337)
    c_train, _ = generate(7)
    assert a_train == b_train and a_held == b_held
    assert a_train != c_train


def test_committed_files_match_the_generator(tmp_path: Path) -> None:
    """data/ is exactly what `python -m engine.datagen --seed 1337 --out data/` writes."""
    assert datagen_main(["--seed", "1337", "--out", str(tmp_path)]) == 0
    for group in GROUPS:
        name = f"train/{group}.toml"
        assert (tmp_path / name).read_text() == (DATA / name).read_text(), (
            f"data/{name} is stale; run python -m engine.datagen --seed 1337 --out data/"
        )
    assert (tmp_path / "heldout.toml").read_text() == (DATA / "heldout.toml").read_text()


def test_code_is_in_canonical_layout_and_numbers_are_copied() -> None:
    train, _ = generate(1337)
    for code in {p.wgsl_code for pairs in train.values() for p in pairs}:
        assert format_wgsl(code) == code
    scale = [p for p in train["compute_unary"] if p.family == "scale" and "uniform" not in p.tags]
    for pair in scale[:50]:
        words = pair.natural_language.replace(",", " ").rstrip(".").split()
        numbers = [w for w in words if w[0].isdigit() and w != "64"]
        assert any(f"* {n}" in pair.wgsl_code for n in numbers), pair.natural_language


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("multiply each element by 2", "multiplies each element by 2"),
        ("copy the buffer", "copies the buffer"),
        ("read a texture and write its negative", "reads a texture and writes its negative"),
        ("draw a red and white checkerboard", "draws a red and white checkerboard"),
    ],
)
def test_third_person(action: str, expected: str) -> None:
    assert phrasing.third_person(action) == expected


def test_noun_phrase_actions_are_not_forced_into_verb_frames() -> None:
    rng = random.Random(0)
    for _ in range(50):
        text = phrasing.render("compute shader that {act3}", "2d rotation matrix", "train", rng)
        assert "that 2d" not in text and "2d rotation" in text


def test_compute_specs_carry_the_texts_their_placeholders_were_filled_with() -> None:
    specs = [s for group in build_specs(1337).values() for s in group if "compute" in s.tags]
    for spec in specs:
        keys = [key for key, _ in spec.fill]
        assert len(set(keys)) == len(keys), spec.family
        template = " | ".join("{" + key + "}" for key in keys) + " {each}"
        expected = " | ".join(text for _, text in spec.fill) + " {each}"
        assert fill_action(template, spec) == expected
    checked = {"scale", "clamp", "lerp", "chromatic_mix", "color_brightness", "histogram"}
    for spec in specs:
        if spec.family in checked and "uniform" not in spec.tags:
            assert spec.fill, spec.family
            texts = [text for _, text in spec.fill]
            assert any(all(t in action for t in texts) for action in spec.train), spec.family
            checked.discard(spec.family)
    assert not checked


def test_paraphrase_pairs_leave_the_core_pairs_and_the_heldout_split_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Adding or changing a paraphrase template must not move a single held-out prompt."""
    train, heldout = generate(1337)
    monkeypatch.setattr(paraphrases, "actions_for", lambda spec: ())
    core_train, core_heldout = generate(1337)
    assert heldout == core_heldout
    for group, pairs in core_train.items():
        assert train[group][: len(pairs)] == pairs
    extra = sum(len(train[g]) - len(core_train[g]) for g in train)
    assert extra > 30 * 40, extra
    every_train = {p.natural_language for pairs in train.values() for p in pairs}
    assert not every_train & {p.natural_language for p in heldout}


def test_paraphrase_templates_are_new_and_reach_every_compute_family() -> None:
    slots = {f"{{{name}}}" for name in (*phrasing.SLOTS, "wg")}
    used: set[str] = set()
    families_with_extra: set[str] = set()
    compute_families: set[str] = set()
    for group, specs in build_specs(1337).items():
        for spec in specs:
            actions = paraphrases.actions_for(spec)
            if not group.startswith("compute"):
                assert not actions, spec.family
                continue
            compute_families.add(spec.family)
            assert not set(actions) & (set(spec.train) | set(spec.heldout)), spec.family
            for action in actions:
                assert set(re.findall(r"\{[a-z_0-9]+\}", action)) <= slots, action
            if actions:
                families_with_extra.add(spec.family)
            used.update(actions)
    assert families_with_extra == compute_families
    # every template fits at least one variant (a misspelt placeholder would fit none)
    tables = (paraphrases.ACTIONS, paraphrases.UNIFORM_ACTIONS)
    for template in (t for table in tables for actions in table.values() for t in actions):
        pattern = re.sub(r"\\\{[a-z_0-9]+\\\}", ".+", re.escape(template))
        assert any(re.fullmatch(pattern, action) for action in used), template
