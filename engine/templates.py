"""The chromatic templates: four complete WGSL compute shaders over RGBA colour buffers.

They are what ``generate --model dummy`` writes, chosen by keywords in the prompt, and a
fallback that always validates. Every template works on ``array<vec4<f32>>`` storage buffers of
RGBA colours in [0, 1], one invocation per colour (workgroups of 64; extra invocations return):

========== ============================ ===============================================
template   bindings (group 0)           result, per element ``i``
========== ============================ ===============================================
mix        a, b (read), out             ``out = clamp(a + b, 0, 1)``: additive mixing
filter     a, b (read), out             ``out = a * b``: subtractive (filter) mixing
complement a (read), out                ``out.rgb = 1 - a.rgb``, ``out.a = a.a``
saturate   a (read), out                ``out.rgb = clamp(l + (a.rgb - l) * s, 0, 1)``,
                                        ``l`` = Rec. 709 luminance of ``a.rgb``,
                                        ``s`` = the ``saturation`` override (default 1.5),
                                        ``out.a = a.a``
========== ============================ ===============================================

``out`` is always the last binding and decides the element count (``arrayLength``); inputs must
be at least as long. The tests run each template on the CPU adapter and compare with these
formulas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "LUMINANCE_WEIGHTS",
    "SATURATION_DEFAULT",
    "TEMPLATES",
    "NoTemplateError",
    "Template",
    "find_template",
    "generate_from_prompt",
    "keywords",
]

LUMINANCE_WEIGHTS = (0.2126, 0.7152, 0.0722)
"""Rec. 709 luma weights used by ``saturate``."""

SATURATION_DEFAULT = 1.5
"""``saturate``'s factor unless the pipeline overrides ``saturation``: >1 more vivid, <1 duller."""


@dataclass(frozen=True)
class Template:
    """One template: ``inputs`` read-only buffers at bindings 0.., then the output buffer."""

    name: str
    meaning: str
    keywords: tuple[str, ...]
    inputs: tuple[str, ...]
    code: str
    entry_point: str = "main"

    @property
    def output_binding(self) -> int:
        return len(self.inputs)


_HEADER = """\
// {title}
// Colours are RGBA in [0, 1], one vec4<f32> per element; one invocation per element.
"""

_MIX = (
    _HEADER.format(title="Additive colour mix: out = clamp(a + b, 0, 1) on every channel.")
    + """
@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= arrayLength(&out)) {
        return;
    }
    out[i] = clamp(a[i] + b[i], vec4<f32>(0.0), vec4<f32>(1.0));
}
"""
)

_FILTER = (
    _HEADER.format(title="Subtractive colour filter: out = a * b on every channel.")
    + """
@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= arrayLength(&out)) {
        return;
    }
    out[i] = a[i] * b[i];
}
"""
)

_COMPLEMENT = (
    _HEADER.format(
        title="Complementary colour: out.rgb = 1 - a.rgb (the opposite hue), alpha kept."
    )
    + """
@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= arrayLength(&out)) {
        return;
    }
    let c = a[i];
    out[i] = vec4<f32>(vec3<f32>(1.0) - c.rgb, c.a);
}
"""
)

_SATURATE = (
    _HEADER.format(
        title="Saturation: push rgb away from its luminance by `saturation`, clamped; alpha kept."
    )
    + f"""
// saturation > 1 makes colours more vivid, < 1 duller, 0 grey; set it when creating the pipeline.
override saturation: f32 = {SATURATION_DEFAULT};

// Rec. 709 luma weights.
const LUMA = vec3<f32>({LUMINANCE_WEIGHTS[0]}, {LUMINANCE_WEIGHTS[1]}, {LUMINANCE_WEIGHTS[2]});

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {{
    let i = id.x;
    if (i >= arrayLength(&out)) {{
        return;
    }}
    let c = a[i];
    let luminance = dot(c.rgb, LUMA);
    let rgb = vec3<f32>(luminance) + (c.rgb - vec3<f32>(luminance)) * saturation;
    out[i] = vec4<f32>(clamp(rgb, vec3<f32>(0.0), vec3<f32>(1.0)), c.a);
}}
"""
)

TEMPLATES: tuple[Template, ...] = (
    Template(
        name="mix",
        meaning="additive mix of two colour buffers: out = clamp(a + b, 0, 1)",
        keywords=("mix", "blend", "add", "additive", "combine", "sum", "mixture"),
        inputs=("a", "b"),
        code=_MIX,
    ),
    Template(
        name="filter",
        meaning="subtractive filter of one colour buffer by another: out = a * b",
        keywords=("filter", "multiply", "subtractive", "tint", "product", "modulate"),
        inputs=("a", "b"),
        code=_FILTER,
    ),
    Template(
        name="complement",
        meaning="complementary colours: out.rgb = 1 - a.rgb, alpha kept",
        keywords=("complement", "complementary", "invert", "inverse", "negate", "opposite"),
        inputs=("a",),
        code=_COMPLEMENT,
    ),
    Template(
        name="saturate",
        meaning=(
            f"saturation boost: rgb pushed away from its luminance by {SATURATION_DEFAULT}, "
            "clamped to [0, 1], alpha kept"
        ),
        keywords=("saturate", "saturation", "saturating", "vivid", "vibrant", "intensify"),
        inputs=("a",),
        code=_SATURATE,
    ),
)

_SUFFIXES = ("", "s", "es", "d", "ed", "ing", "ion", "ions", "ive")


class NoTemplateError(ValueError):
    """No template matches the prompt; the message lists the keywords that would."""


def keywords() -> dict[str, tuple[str, ...]]:
    """Template name -> the keywords that select it."""
    return {t.name: t.keywords for t in TEMPLATES}


def _matches(word: str, keyword: str) -> bool:
    if word == keyword:
        return True
    if word.startswith(keyword) and word[len(keyword) :] in _SUFFIXES:
        return True
    # "mixing" from "mix", "blended" from "blend", "saturated" from "saturate".
    stem = keyword[:-1] if keyword.endswith("e") else keyword
    return word.startswith(stem) and word[len(stem) :] in _SUFFIXES


def find_template(prompt: str) -> Template | None:
    """The template whose keywords the prompt uses most (whole words, simple inflections).

    Ties go to the template whose keyword comes first in the prompt; None when none matches.
    """
    words = re.findall(r"[a-z]+", prompt.lower())
    best: tuple[int, int, Template] | None = None
    for template in TEMPLATES:
        hits = [i for i, w in enumerate(words) if any(_matches(w, k) for k in template.keywords)]
        if not hits:
            continue
        score = (len(hits), -hits[0])
        if best is None or score > best[:2]:
            best = (*score, template)
    return None if best is None else best[2]


def no_match_message(prompt: str) -> str:
    """What to tell a user whose prompt matched nothing."""
    listing = "; ".join(f"{name}: {', '.join(words)}" for name, words in keywords().items())
    return (
        f"no template matches the prompt {prompt!r}; the template generator knows these "
        f"keywords: {listing}"
    )


def generate_from_prompt(prompt: str) -> str:
    """The WGSL of the template :func:`find_template` picks; raises :class:`NoTemplateError`."""
    template = find_template(prompt)
    if template is None:
        raise NoTemplateError(no_match_message(prompt))
    return template.code
