"""Sentence frames and slot vocabulary for prompts, kept in two disjoint sets.

A prompt is a *frame* (``"compute shader that {act3}"``) wrapped around an *action* from a family
(``"multiply {each} {elem} by 3.5"``), whose slots are filled from the slot vocabulary. The
training split draws frames, actions and slot words only from the ``train`` sets; the held-out
split only from the ``heldout`` sets, which are worded the way people outside the project
write requests. Operation words themselves (multiply, grayscale, checkerboard) are shared: a model
cannot learn a word it never saw. tests/test_datagen.py checks that the sets are disjoint.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Literal

Split = Literal["train", "heldout"]

# Frames per prompt kind. {act} is the imperative action, {act3} the same in third person.
FRAMES: Mapping[str, Mapping[Split, tuple[str, ...]]] = {
    "compute": {
        "train": (
            "{act}",
            "{act}",
            "{Act}.",
            "compute shader that {act3}",
            "wgsl compute shader that {act3}",
            "write a compute shader that {act3}",
            "write a compute kernel to {act}",
            "compute kernel that {act3}",
            "a kernel which {act3}",
            "// {act3}",
            "// {act}",
            "// compute: {act}",
            "kernel: {act}",
            "generate a compute shader to {act}",
            "create a wgsl kernel that {act3}",
            "{act} with a compute shader",
            "{act} in a compute pass",
            "compute pass that {act3}",
            "shader that {act3}",
            "{act} (compute)",
            "{act} using a compute shader",
            "compute shader to {act}",
            "task: {act}",
            "{act} in parallel",
            "parallel kernel that {act3}",
            "wgsl kernel: {act}",
            "dispatch a compute shader that {act3}",
            "a compute shader to {act}",
            "shader to {act}",
            "{act} - compute shader",
            "make a compute shader that {act3}",
        ),
        "heldout": (
            "i need a shader that can {act}",
            "how do i {act} on the gpu",
            "gpu program to {act}",
            "{act} please",
            "could you write wgsl that will {act}",
            "small webgpu program which should {act}",
            "{act} using webgpu",
            "Help me {act}",
            "implement something to {act}",
            "wgsl code to {act}",
        ),
    },
    "fragment": {
        "train": (
            "{act}",
            "{act}",
            "{Act}.",
            "fragment shader that {act3}",
            "write a fragment shader that {act3}",
            "wgsl fragment shader to {act}",
            "// {act3}",
            "// {act}",
            "shader: {act}",
            "generate a pixel shader to {act}",
            "create a shader that {act3}",
            "a fragment shader which {act3}",
            "{act} in wgsl",
            "{act} in the fragment stage",
            "pixel shader that {act3}",
            "shader to {act}",
            "{act} - fragment shader",
            "make a fragment shader that {act3}",
        ),
        "heldout": (
            "shader that will {act}",
            "i want to {act}",
            "how do i {act} with webgpu",
            "{act} please",
            "Help me {act}",
            "could you write a wgsl program to {act}",
            "give me code that can {act}",
        ),
    },
    "vertex": {
        "train": (
            "{act}",
            "{act}",
            "{Act}.",
            "vertex shader that {act3}",
            "write a vertex shader that {act3}",
            "wgsl vertex shader to {act}",
            "// {act3}",
            "// {act}",
            "vertex stage: {act}",
            "generate a vertex shader to {act}",
            "a vertex shader which {act3}",
        ),
        "heldout": (
            "i want to {act}",
            "how do i {act} with webgpu",
            "{act} please",
            "Help me {act}",
            "could you write a wgsl program to {act}",
            "give me code that can {act}",
        ),
    },
    "struct": {
        "train": (
            "{act}",
            "{act}",
            "{Act}.",
            "// {act}",
            "wgsl: {act}",
            "write wgsl to {act}",
            "{act} in wgsl",
        ),
        "heldout": (
            "i need to {act}",
            "how would i {act}",
            "{act} please",
            "Help me {act}",
            "code snippet to {act}",
        ),
    },
    "function": {
        "train": (
            "{act}",
            "{act}",
            "{Act}.",
            "function that {act3}",
            "write a function to {act}",
            "wgsl function that {act3}",
            "helper that {act3}",
            "helper function to {act}",
            "// {act3}",
            "// {act}",
            "fn: {act}",
            "define a function which {act3}",
            "a wgsl helper to {act}",
            "small function to {act}",
            "{act} - helper",
            "make a helper that {act3}",
        ),
        "heldout": (
            "i need a utility to {act}",
            "how can i {act} in wgsl",
            "small routine which should {act}",
            "{act} please",
            "Help me {act}",
            "code snippet to {act}",
            "give me a reusable fn that will {act}",
        ),
    },
}

# Slot vocabulary: {each} quantifier, {elem} element noun, {buf} container noun, {img} image noun.
SLOTS: Mapping[str, Mapping[Split, tuple[str, ...]]] = {
    "each": {
        "train": ("each", "every", "each single"),
        "heldout": ("all the", "every one of the"),
    },
    "elem": {
        "train": ("element", "entry", "value", "item"),
        "heldout": ("number", "float", "cell"),
    },
    "elems": {
        "train": ("elements", "entries", "values", "items"),
        "heldout": ("numbers", "floats", "cells"),
    },
    "buf": {
        "train": ("buffer", "array", "storage buffer", "input", "data"),
        "heldout": ("list", "float list", "gpu array", "vector"),
    },
    "bufs": {
        "train": ("buffers", "arrays", "storage buffers", "inputs"),
        "heldout": ("lists", "float lists", "gpu arrays", "vectors"),
    },
    "img": {
        "train": ("image", "pixels", "color buffer", "colors"),
        "heldout": ("picture", "photo", "rgba data", "frame"),
    },
    "pixel": {
        "train": ("pixel", "color", "texel"),
        "heldout": ("rgba value", "point of the picture"),
    },
}

_SLOT_NAMES = tuple(SLOTS)


# Words that start an imperative action; any other first word makes the action a noun phrase
# ("2d rotation matrix for an angle"), which is wrapped in NOUN_FRAMES instead.
VERBS = frozenset(
    [
        "add",
        "adjust",
        "advance",
        "alternate",
        "animate",
        "apply",
        "average",
        "bin",
        "binarize",
        "blend",
        "blur",
        "build",
        "bump",
        "ceil",
        "change",
        "clamp",
        "clear",
        "clone",
        "color",
        "compute",
        "convert",
        "copy",
        "count",
        "cover",
        "crossfade",
        "cube",
        "darken",
        "declare",
        "define",
        "desaturate",
        "display",
        "divide",
        "do",
        "draw",
        "drop",
        "duplicate",
        "exponentiate",
        "fade",
        "fill",
        "filter",
        "find",
        "flip",
        "floor",
        "forward",
        "generate",
        "get",
        "give",
        "go",
        "hash",
        "increase",
        "increment",
        "initialize",
        "integrate",
        "interpolate",
        "invert",
        "keep",
        "lerp",
        "limit",
        "look",
        "make",
        "map",
        "mix",
        "move",
        "multiply",
        "negate",
        "offset",
        "output",
        "paint",
        "pass",
        "pick",
        "project",
        "put",
        "raise",
        "read",
        "reduce",
        "relu",
        "remap",
        "remove",
        "replace",
        "reset",
        "restrict",
        "return",
        "rotate",
        "round",
        "run",
        "sample",
        "saturate",
        "scale",
        "scramble",
        "send",
        "set",
        "shift",
        "show",
        "snap",
        "soften",
        "sqrt",
        "square",
        "store",
        "subtract",
        "sum",
        "swap",
        "take",
        "threshold",
        "tint",
        "transform",
        "turn",
        "update",
        "visualize",
        "write",
        "zero",
        # first words of engine/datagen/paraphrases.py's templates
        "accumulate",
        "bias",
        "boost",
        "bound",
        "brighten",
        "clip",
        "compare",
        "enumerate",
        "greyscale",
        "grow",
        "mirror",
        "push",
        "rectify",
        "rescale",
        "reverse",
        "scan",
        "split",
        "square-root",
        "strip",
        "tally",
        "total",
        "transfer",
        "translate",
        "truncate",
        "weight",
    ]
)

NOUN_FRAMES: Mapping[Split, tuple[str, ...]] = {
    "train": ("{np}", "{np}", "// {np}", "{Np}.", "{np} in wgsl", "wgsl {np}", "shader code: {np}"),
    "heldout": (
        "{np} please",
        "looking for {np}",
        "example of {np}",
        "{np}?",
        "i need some code for {np}",
    ),
}


def is_verb_phrase(action: str) -> bool:
    return action.split(" ", 1)[0].lower() in VERBS


def _conjugate(verb: str) -> str:
    lower = verb.lower()
    if lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        return verb[:-1] + "ies"
    if lower.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    return verb + "s"


def third_person(action: str) -> str:
    """Conjugate the leading verb and verbs after "and": "read x and write y" -> "reads x and
    writes y"."""
    words = action.split(" ")
    for index, word in enumerate(words):
        if word.lower() in VERBS and (index == 0 or words[index - 1] == "and"):
            words[index] = _conjugate(word)
    return " ".join(words)


def fill_slots(text: str, split: Split, rng: random.Random) -> str:
    """Replace {each}, {elem}, ... with words of the split's slot vocabulary."""
    for name in _SLOT_NAMES:
        key = "{" + name + "}"
        while key in text:
            text = text.replace(key, rng.choice(SLOTS[name][split]), 1)
    return text


# Train-only extras that make prompts look typed by a person: a lead-in, a trailing aside and
# the odd typo. None of these words occurs in the held-out phrasing.
LEAD_INS = (
    "hey, ",
    "ok, ",
    "quick one: ",
    "pls ",
    "now ",
    "next: ",
    "todo: ",
    "so ",
    "tiny task: ",
)
ASIDES = (
    " for my project",
    " for a demo",
    " for my engine",
    " in my app",
    " for testing",
    " quickly",
    ", thanks",
    " - thx",
    " asap",
    " if possible",
)


def typo(text: str, rng: random.Random) -> str:
    """Misspell one word of five letters or more: swap, drop or double a letter."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return text
    index = rng.choice(candidates)
    w = words[index]
    at = rng.randrange(1, len(w) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        w = w[:at] + w[at + 1] + w[at] + w[at + 2 :]
    elif kind == 1:
        w = w[:at] + w[at + 1 :]
    else:
        w = w[:at] + w[at] + w[at:]
    words[index] = w
    return " ".join(words)


def humanize(text: str, rng: random.Random) -> str:
    """Sometimes add a lead-in, an aside or a typo (training split only)."""
    if not text.startswith("//"):
        if rng.random() < 0.08:
            text = rng.choice(LEAD_INS) + text
        if rng.random() < 0.12:
            text = text.rstrip(".") + rng.choice(ASIDES)
    if rng.random() < 0.08:
        text = typo(text, rng)
    return text


def render(frame: str, action: str, split: Split, rng: random.Random) -> str:
    """One prompt: the frame around the action, slots filled, spacing tidied."""
    act = fill_slots(action, split, rng)
    if not is_verb_phrase(act):
        frame = rng.choice(NOUN_FRAMES[split])
        text = frame.format(np=act, Np=act[:1].upper() + act[1:])
    else:
        text = frame.format(act=act, act3=third_person(act), Act=act[:1].upper() + act[1:])
    if split == "train":
        text = humanize(text, rng)
    return " ".join(text.split())


# Modifiers appended to compute actions; they choose the buffer layout or the workgroup size.
MODIFIERS: Mapping[str, Mapping[Split, tuple[str, ...]]] = {
    "io": {
        "train": (
            "",
            "",
            "",
            "",
            " with the result in an output buffer",
            " from an input buffer into an output buffer",
            ", input to output",
            " into a separate output",
        ),
        "heldout": (
            "",
            "",
            ", saving the results into a second array",
            ", putting the results somewhere else",
        ),
    },
    "inplace": {
        "train": (
            " in place",
            " in-place",
            ", overwriting the {buf}",
            ", storing the result back in the same buffer",
            " (in place)",
            " on the buffer itself",
            " using a single read_write buffer",
            " with no output buffer",
        ),
        "heldout": (
            " directly inside the original array",
            ", modifying the values where they are",
            ", writing back over the same array",
        ),
    },
    "wg": {
        "train": (
            " using workgroup size {wg}",
            " with @workgroup_size({wg})",
            " ({wg} threads per workgroup)",
            " with a workgroup of {wg}",
        ),
        "heldout": (" with groups of {wg} threads", ", {wg} invocations per group"),
    },
}
