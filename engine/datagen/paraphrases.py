"""More ways to ask for each compute kernel.

The action templates of families.py give each compute family a handful of core phrasings. People
ask for the same kernels in many more ways: everyday verbs ("bump every value up by 2"), maths
notation ("x*x for each element", "1/x", "min(a, b)"), the names other tools use ("Hadamard
product", "inclusive scan", "iota") and descriptions of the result instead of the operation
("make every value non-negative"). The prompt index answers by the nearest training prompts, so a
wording it has never seen is matched by sound rather than by meaning; these templates widen what
it has seen.

``ACTIONS[family]`` are action templates in the house format of families.py: imperative (the
first word a verb of ``phrasing.VERBS``) or a noun phrase, with slot words (``{each}``,
``{elem}``, ``{buf}``, ...) filled at sampling time and the variant's own placeholders (``{k}``,
``{lo}``, ``{hi}``, ``{t}``, ...) filled from ``Spec.fill``. A template whose placeholders a
variant does not have is not used for it: ``UNIFORM_ACTIONS`` serve the variants that read their
parameter from a uniform buffer instead of a number in the prompt.

generate.py samples :data:`EXTRA_PER_FAMILY` prompts per family from these, with their own random
stream after the core training pairs and the held-out pairs are drawn, so adding a template here
changes neither of those.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from engine.datagen.families import Spec, fill_action

EXTRA_PER_FAMILY = 40
"""Training pairs per compute family phrased with the templates below."""

ACTIONS: dict[str, tuple[str, ...]] = {
    # --- unary f32 ------------------------------------------------------------------------------
    "scale": (
        "grow {each} {elem} by a factor of {k}",
        "x * {k} for {each} {elem}",
        "apply a gain of {k} to {each} {elem}",
        "weight {each} {elem} by {k}",
        "rescale the {buf} by {k}",
        "make {each} {elem} {k} times larger",
        "set {each} {elem} to {k} times its value",
        "y = x * {k} for {each} {elem}",
        "multiplication of the {elems} by the constant {k}",
        "the {elems} times {k}",
    ),
    "offset": (
        "shift {each} {elem} by {k}",
        "increase {each} {elem} by {k}",
        "bump {each} {elem} up by {k}",
        "x + {k} for {each} {elem}",
        "translate the {elems} by {k}",
        "bias {each} {elem} by {k}",
        "y = x + {k} for {each} {elem}",
        "a constant offset of {k} on the {buf}",
        "the {elems} plus {k}",
        "put an extra {k} onto {each} {elem}",
    ),
    "square": (
        "x*x for {each} {elem}",
        "compute x^2 for {each} {elem}",
        "multiply {each} {elem} by itself",
        "pow(x, 2) on {each} {elem}",
        "the {elems} squared",
        "second power of {each} {elem}",
        "y = x * x over the {buf}",
        "get the squares of the {elems}",
    ),
    "cube": (
        "x*x*x for {each} {elem}",
        "compute x^3 for {each} {elem}",
        "multiply {each} {elem} by itself three times",
        "pow(x, 3) on {each} {elem}",
        "the {elems} cubed",
        "cube power of {each} {elem}",
        "y = x * x * x over the {buf}",
        "get the cubes of the {elems}",
    ),
    "abs": (
        "strip the sign from {each} {elem}",
        "|x| for {each} {elem}",
        "abs(x) on {each} {elem}",
        "make {each} {elem} positive",
        "turn negative {elems} positive",
        "remove the minus sign from the {elems}",
        "magnitude of {each} {elem}",
        "absolute values of the {buf}",
    ),
    "negate": (
        "multiply {each} {elem} by -1",
        "invert the sign of {each} {elem}",
        "-x for {each} {elem}",
        "reverse the sign of the {elems}",
        "swap the sign of {each} {elem}",
        "make positive {elems} negative and negative ones positive",
        "y = -x over the {buf}",
        "the additive inverse of {each} {elem}",
    ),
    "sqrt": (
        "square-root {each} {elem}",
        "sqrt(x) for {each} {elem}",
        "x^0.5 on {each} {elem}",
        "raise {each} {elem} to the power one half",
        "find the root of {each} {elem}",
        "the square roots of the {elems}",
        "y = sqrt(x) over the {buf}",
    ),
    "reciprocal": (
        "1/x for {each} {elem}",
        "divide 1 by {each} {elem}",
        "the multiplicative inverse of {each} {elem}",
        "replace {each} {elem} with one divided by it",
        "x^-1 on {each} {elem}",
        "y = 1.0 / x over the {buf}",
        "invert {each} {elem} (one over x)",
    ),
    "exp": (
        "exp(x) for {each} {elem}",
        "e^x on {each} {elem}",
        "exponentiate the {elems}",
        "raise e to the power of {each} {elem}",
        "natural exponential of the {elems}",
        "apply the exponential function to {each} {elem}",
        "y = exp(x) over the {buf}",
    ),
    "log": (
        "ln(x) for {each} {elem}",
        "log(x) on {each} {elem}",
        "log base e of {each} {elem}",
        "take ln of {each} {elem}",
        "natural logarithms of the {elems}",
        "apply the natural log function to the {buf}",
        "y = log(x) over the {buf}",
    ),
    "sin": (
        "sin(x) for {each} {elem}",
        "apply the sine function to the {elems}",
        "the trig sine of {each} {elem}",
        "y = sin(x) over the {buf}",
        "sine values of the {buf}",
    ),
    "cos": (
        "cos(x) for {each} {elem}",
        "apply the cosine function to the {elems}",
        "the trig cosine of {each} {elem}",
        "y = cos(x) over the {buf}",
        "cosine values of the {buf}",
    ),
    "floor": (
        "floor(x) for {each} {elem}",
        "round {each} {elem} toward negative infinity",
        "the largest integer not above {each} {elem}",
        "truncate {each} {elem} downward to an integer",
        "round down to the nearest whole number",
        "y = floor(x) over the {buf}",
    ),
    "ceil": (
        "ceil(x) for {each} {elem}",
        "round {each} {elem} up to the next integer",
        "round {each} {elem} toward positive infinity",
        "the smallest integer not below {each} {elem}",
        "ceiling of the {elems}",
        "y = ceil(x) over the {buf}",
    ),
    "round": (
        "round(x) for {each} {elem}",
        "round {each} {elem} to the closest whole number",
        "the nearest integer to {each} {elem}",
        "snap {each} {elem} to an integer",
        "y = round(x) over the {buf}",
    ),
    "fract": (
        "fract(x) for {each} {elem}",
        "x - floor(x) for {each} {elem}",
        "drop the integer part of {each} {elem}",
        "keep the digits after the decimal point of {each} {elem}",
        "the fractional parts of the {elems}",
        "y = fract(x) over the {buf}",
    ),
    "clamp": (
        "clip {each} {elem} to [{lo}, {hi}]",
        "clamp(x, {lo}, {hi}) for {each} {elem}",
        "limit {each} {elem} to the range {lo} to {hi}",
        "keep {each} {elem} within {lo} and {hi}",
        "bound the {elems} between {lo} and {hi}",
        "min(max(x, {lo}), {hi}) on {each} {elem}",
        "values below {lo} become {lo} and above {hi} become {hi}",
    ),
    "relu": (
        "max(x, 0) for {each} {elem}",
        "set the negative {elems} to zero",
        "rectify the {buf}",
        "replace negatives with 0 in the {buf}",
        "clip {each} {elem} below at zero",
        "keep positive {elems} and zero the rest",
        "ReLU activation on the {buf}",
    ),
    "step": (
        "1 where x >= {k}, otherwise 0, for {each} {elem}",
        "step({k}, x) on {each} {elem}",
        "compare {each} {elem} with {k}: 1.0 when at or above, 0.0 below",
        "a 0/1 mask of the {elems} that reach {k}",
        "output 1 for {elems} of at least {k} and 0 for the others",
        "turn {each} {elem} into 1 or 0 depending on whether it reaches {k}",
    ),
    # --- binary f32, copy, fill ----------------------------------------------------------------
    "add": (
        "a + b for {each} {elem}",
        "sum a and b {elem} by {elem}",
        "add the two {bufs} together",
        "out[i] = a[i] + b[i]",
        "the pointwise sum of a and b",
        "combine two {bufs} by adding them",
    ),
    "sub": (
        "a - b for {each} {elem}",
        "subtract b from a {elem} by {elem}",
        "the difference a minus b per {elem}",
        "out[i] = a[i] - b[i]",
        "take b away from a pointwise",
    ),
    "mul": (
        "a * b for {each} {elem}",
        "multiply a with b pointwise",
        "Hadamard product of a and b",
        "out[i] = a[i] * b[i]",
        "the pointwise product of two {bufs}",
    ),
    "div": (
        "a / b for {each} {elem}",
        "divide a by b pointwise",
        "the ratio of a to b for {each} {elem}",
        "out[i] = a[i] / b[i]",
        "quotient of a and b per {elem}",
    ),
    "min": (
        "min(a, b) for {each} {elem}",
        "pick the smaller of a and b for {each} {elem}",
        "the pointwise minimum of a and b",
        "out[i] = min(a[i], b[i])",
        "the lower of the two values per {elem}",
    ),
    "max": (
        "max(a, b) for {each} {elem}",
        "pick the greater of a and b for {each} {elem}",
        "the pointwise maximum of a and b",
        "out[i] = max(a[i], b[i])",
        "the higher of the two values per {elem}",
    ),
    "average": (
        "(a + b) / 2 for {each} {elem}",
        "the mean of a and b per {elem}",
        "the midpoint of a and b for {each} {elem}",
        "average a and b pointwise",
        "out[i] = (a[i] + b[i]) * 0.5",
    ),
    "lerp": (
        "mix(a, b, {t}) for {each} {elem}",
        "linear interpolation from a to b at {t}",
        "a + (b - a) * {t} per {elem}",
        "blend a and b with t = {t}",
        "crossfade a into b by {t}",
        "a weighted mix with {t} of b and the rest of a",
    ),
    "copy": (
        "copy input to output",
        "clone the {buf} into a second buffer",
        "out[i] = in[i]",
        "transfer {each} {elem} to another buffer unchanged",
        "mirror the input buffer into the output buffer",
        "a plain copy of the {buf}",
    ),
    "fill_index": (
        "out[i] = i",
        "write i into slot i of the {buf}",
        "an iota kernel",
        "store each position's own index in it",
        "enumerate the {buf}: 0, 1, 2, ...",
        "the sequence 0 to n-1 in the {buf}",
    ),
    "fill_constant": (
        "memset the {buf} to {k}",
        "out[i] = {k} for {each} {elem}",
        "overwrite all {elems} with {k}",
        "the constant {k} everywhere in the {buf}",
        "reset the {buf} so every {elem} is {k}",
    ),
    # --- colours (vec4 rgba per element; alpha kept) ------------------------------------------
    "color_invert": (
        "1 - rgb for {each} {pixel}, alpha kept",
        "a photo negative of the {img}",
        "flip the colours of the {img}",
        "the negative image of the {img}",
        "invert the rgb channels of {each} {pixel}",
        "color = vec4(1.0 - c.rgb, c.a) for {each} {pixel}",
    ),
    "color_grayscale": (
        "luminance of {each} {pixel} as a gray color",
        "a black and white version of the {img}",
        "make the {img} monochrome",
        "remove the colour from the {img}",
        "greyscale the {img}",
        "dot(rgb, luma weights) into all three channels of {each} {pixel}",
    ),
    "color_brightness": (
        "brighten the {img} by a factor of {k}",
        "multiply the rgb of {each} {pixel} by {k}, alpha kept",
        "make {each} {pixel} {k} times as bright",
        "an exposure gain of {k} on the {img}",
        "rgb * {k} for {each} {pixel}",
        "change the brightness of the {img} to {k} times",
    ),
    "chromatic_mix": (
        "tint the {img} toward {name} by {t}",
        "mix(c.rgb, {name}, {t}) for {each} {pixel}",
        "fade the colours into {name} by {t}",
        "lerp {each} {pixel} toward {name} with t = {t}",
        "a {t} wash of {name} over the {img}",
        "blend {name} into {each} {pixel} at {t}",
    ),
    "chromatic_filter": (
        "multiply {each} {pixel} by {name}",
        "a {name} gel over the {img}",
        "tint the {img} {name} by multiplying the channels",
        "rgb * {name} for {each} {pixel}",
        "keep only the {name} part of {each} {pixel}",
        "look at the {img} through {name} glass",
    ),
    "chromatic_complement": (
        "the complementary colour of {each} {pixel}",
        "turn {each} {pixel} into its opposite hue",
        "shift the hue of the {img} half way round the colour wheel",
        "(max + min) - rgb for {each} {pixel}",
        "opposite colours for the {img}",
        "swap the colours of the {img} for their complements",
    ),
    "chromatic_saturate": (
        "boost the saturation of the {img} by {k}",
        "scale the saturation of {each} {pixel} by {k}",
        "saturation times {k} for the {img}",
        "push the colours away from gray by a factor of {k}",
        "mix(gray, c.rgb, {k}) for {each} {pixel}",
        "make the {img} more or less vivid with amount {k}",
    ),
    # --- workgroup algorithms ------------------------------------------------------------------
    "reduce_sum": (
        "total {each} workgroup's {elems} in shared memory",
        "add up {each} block of the {buf} into output[workgroup_id]",
        "a block-wise sum with a tree in workgroup memory",
        "partial sums per workgroup of the {buf}",
        "sum the {buf} one workgroup at a time, halving the active lanes each step",
        "a per-workgroup sum reduction",
    ),
    "reduce_max": (
        "the largest {elem} of {each} workgroup's chunk, in shared memory",
        "a block-wise max with a tree in workgroup memory",
        "per-workgroup maximum of the {buf} into output[workgroup_id]",
        "find the biggest value in {each} block of the {buf}",
        "a max reduction per workgroup",
        "reduce {each} workgroup's {elems} to the highest one",
    ),
    "reduce_min": (
        "the smallest {elem} of {each} workgroup's chunk, in shared memory",
        "a block-wise min with a tree in workgroup memory",
        "per-workgroup minimum of the {buf} into output[workgroup_id]",
        "find the lowest value in {each} block of the {buf}",
        "a min reduction per workgroup",
        "reduce {each} workgroup's {elems} to the lowest one",
    ),
    "prefix_sum_inclusive": (
        "an inclusive scan of the {buf} per workgroup",
        "cumsum within {each} workgroup",
        "running totals that include the current {elem}",
        "out[i] = in[block start] + ... + in[i]",
        "scan the {buf} with addition, inclusive, in workgroup memory",
        "accumulate the {elems} so {each} slot holds the sum up to and including itself",
    ),
    "prefix_sum_exclusive": (
        "an exclusive scan of the {buf} per workgroup",
        "running totals that leave out the current {elem}",
        "the sum of the {elems} before {each} one in its workgroup",
        "a shifted cumsum starting at 0 in {each} workgroup",
        "scan the {buf} with addition, exclusive, in workgroup memory",
        "accumulate the earlier {elems} into {each} slot, not counting itself",
    ),
    "histogram": (
        "count how many values fall into each of {bins} bins",
        "a {bins}-bucket histogram of the {buf} with atomicAdd",
        "tally the {elems} into {bins} buckets",
        "bins[floor(x * {bins})] += 1 for {each} {elem} in [0, 1]",
        "a frequency count over {bins} equal slices of [0, 1]",
        "split [0, 1] into {bins} bins and count the {elems} in each",
    ),
    "histogram_workgroup": (
        "a {bins}-bin histogram with shared counters per workgroup, merged at the end",
        "count the {elems} into {bins} bins using workgroup-local atomics first",
        "a two-level histogram with {bins} bins: workgroup memory, then global",
        "tally the {elems} into {bins} buckets in shared memory before the global add",
        "a {bins}-bucket histogram that keeps a private copy in each workgroup",
        "bin the {buf} into {bins} slots, one local histogram per workgroup",
    ),
}

UNIFORM_ACTIONS: dict[str, tuple[str, ...]] = {
    "scale": (
        "grow {each} {elem} by a factor read from a uniform",
        "x * params.factor for {each} {elem}",
        "apply a gain from a uniform buffer to the {elems}",
    ),
    "offset": (
        "shift {each} {elem} by an amount read from a uniform",
        "x + params.offset for {each} {elem}",
        "bias the {elems} by a value in a uniform buffer",
    ),
    "clamp": (
        "clip {each} {elem} to a min and max read from a uniform",
        "clamp(x, params.lo, params.hi) for {each} {elem}",
        "limit the {elems} to a range given in a uniform buffer",
    ),
    "step": (
        "1 where x >= params.edge, otherwise 0, for {each} {elem}",
        "a 0/1 mask of the {elems} against an edge from a uniform",
        "compare {each} {elem} with an edge read from a uniform buffer",
    ),
}

_PLACEHOLDER = re.compile(r"\{([a-z_0-9]+)\}")
_SLOT_NAMES = frozenset(("each", "elem", "elems", "buf", "bufs", "img", "pixel", "wg"))


def actions_for(
    spec: Spec,
    actions: Mapping[str, Sequence[str]] = ACTIONS,
    uniform_actions: Mapping[str, Sequence[str]] = UNIFORM_ACTIONS,
) -> tuple[str, ...]:
    """The templates of ``actions`` (``uniform_actions`` for a variant that reads its parameter
    from a uniform) that fit this variant, its placeholders filled (slots left for sampling)."""
    uniform = "params" in next((t for t in spec.tags if t.startswith("io:")), "")
    table = uniform_actions if uniform else actions
    keys = {key for key, _ in spec.fill}
    out = []
    for template in table.get(spec.family, ()):
        needed = set(_PLACEHOLDER.findall(template)) - _SLOT_NAMES
        if needed <= keys:
            out.append(fill_action(template, spec))
    return tuple(out)
