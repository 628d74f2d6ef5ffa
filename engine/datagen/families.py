# ruff: noqa: E501  (WGSL lines and prompt templates read better unbroken)
"""Shader families: for each family, parameter variants with their canonical WGSL and wordings.

Every variant's code is written in one house style so that a small model can learn it:

* compute kernels are ``main`` with ``@workgroup_size(64)`` unless the prompt names another size,
  one invocation per element (``let i = gid.x;``) and a bounds check against ``arrayLength``;
* f32 kernels read ``input`` at ``@binding(0)`` and write ``output`` at ``@binding(1)``; in-place
  kernels use ``data`` at ``@binding(0)``; binary kernels read ``a`` (0) and ``b`` (1) and write
  ``output`` (2); a ``params`` uniform always takes the next binding;
* numbers in the prompt appear verbatim in the code (``3.5`` -> ``3.5``, ``2`` -> ``2.0``).

Tags say how a compute kernel can be run: ``compute`` plus ``io:<roles>`` naming the bindings
in order (``in``, ``out``, ``data``, ``a``, ``b``, ``params``, ``bins``) and ``elem:f32`` /
``elem:vec4f`` / ``elem:u32`` for the element type. Every storage array is runtime-sized, so any
element count works; dispatch ``ceil(n / workgroup size)`` workgroups along x.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Spec:
    """One (family, parameters) variant: canonical code and the actions that ask for it.

    ``train`` and ``heldout`` are action templates (imperative, with {each}/{elem}/{buf}/...
    slots); ``modifiers`` names the modifier sets appended to the action (see phrasing.py);
    ``weight`` scales how many prompts the variant gets.
    """

    family: str
    kind: str
    code: str
    train: tuple[str, ...]
    heldout: tuple[str, ...]
    tags: tuple[str, ...] = ()
    modifier: str = ""
    wg: int = 64
    weight: float = 1.0
    fill: tuple[tuple[str, str], ...] = ()
    """Placeholder name -> the text a prompt writes for it, for this variant (e.g.
    (("k", "0.6"),) ), so that other action templates can be filled for the same variant."""


def fill_action(template: str, spec: Spec) -> str:
    """``template`` with each ``{key}`` of ``spec.fill`` replaced by its text; other slots stay."""
    for key, text in spec.fill:
        template = template.replace("{" + key + "}", text)
    return template


# --- numbers -------------------------------------------------------------------------------------


def f32_lit(v: float) -> str:
    """WGSL literal for a number as the prompt wrote it: 2 -> "2.0", 0.35 -> "0.35"."""
    text = num_text(v)
    return text if "." in text else text + ".0"


def num_text(v: float) -> str:
    """How prompts write a number: 2.0 -> "2", 0.35 -> "0.35"."""
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.4f}".rstrip("0")


def rand_factor(rng: random.Random) -> float:
    roll = rng.random()
    if roll < 0.4:
        return float(rng.randint(2, 12))
    if roll < 0.7:
        return rng.randint(1, 19) / 2 + 0.5 if rng.random() < 0.5 else rng.randint(1, 9) / 10
    return round(rng.uniform(0.05, 20.0), rng.choice((1, 2)))


def rand_small(rng: random.Random) -> float:
    roll = rng.random()
    if roll < 0.5:
        return float(rng.randint(1, 10))
    return round(rng.uniform(0.1, 9.9), rng.choice((1, 2)))


def rand_unit(rng: random.Random) -> float:
    return (
        rng.choice((0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9))
        if (rng.random() < 0.6)
        else round(rng.uniform(0.05, 0.95), 2)
    )


def vec3_lit(c: Sequence[float]) -> str:
    return "vec3<f32>(" + ", ".join(f32_lit(x) for x in c) + ")"


def vec4_lit(c: Sequence[float]) -> str:
    return "vec4<f32>(" + ", ".join(f32_lit(x) for x in c) + ")"


COLORS: dict[str, tuple[float, float, float]] = {
    "red": (1.0, 0.0, 0.0),
    "green": (0.0, 1.0, 0.0),
    "blue": (0.0, 0.0, 1.0),
    "yellow": (1.0, 1.0, 0.0),
    "cyan": (0.0, 1.0, 1.0),
    "magenta": (1.0, 0.0, 1.0),
    "white": (1.0, 1.0, 1.0),
    "black": (0.0, 0.0, 0.0),
    "orange": (1.0, 0.5, 0.0),
    "purple": (0.5, 0.0, 0.5),
    "gray": (0.5, 0.5, 0.5),
    "pink": (1.0, 0.75, 0.8),
    "teal": (0.0, 0.5, 0.5),
    "brown": (0.6, 0.3, 0.1),
}


# --- compute code builders -----------------------------------------------------------------------

GID = "@builtin(global_invocation_id) gid: vec3<u32>"


def storage(binding: int, name: str, elem: str, write: bool) -> str:
    access = "read_write" if write else "read"
    return f"@group(0) @binding({binding}) var<storage, {access}> {name}: array<{elem}>;"


def uniform(binding: int, struct: str = "Params") -> str:
    return f"@group(0) @binding({binding}) var<uniform> params: {struct};"


def struct(name: str, fields: Sequence[tuple[str, str]]) -> str:
    body = "\n".join(f"    {n}: {t}," for n, t in fields)
    return f"struct {name} {{\n{body}\n}}"


def kernel(
    decls: Sequence[str],
    body: Sequence[str],
    *,
    wg: int = 64,
    guard: str | None = "output",
    builtins: str = GID,
) -> str:
    """A compute module: declarations, then ``main`` with the element index and a bounds check."""
    lines = ["\n".join(decls), ""]
    lines.append(f"@compute @workgroup_size({wg})")
    lines.append(f"fn main({builtins}) {{")
    lines.append("    let i = gid.x;")
    if guard is not None:
        lines.append(f"    if (i >= arrayLength(&{guard})) {{")
        lines.append("        return;")
        lines.append("    }")
    lines.extend("    " + b for b in body)
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- unary f32 kernels ---------------------------------------------------------------------------


@dataclass(frozen=True)
class UnaryOp:
    family: str
    expr: str  # in terms of x; {k}, {lo}, {hi} are parameters
    train: tuple[str, ...]
    heldout: tuple[str, ...]
    params: str = ""  # "", "k", "range"
    uniform_train: tuple[str, ...] = ()
    uniform_heldout: tuple[str, ...] = ()


UNARY_OPS: tuple[UnaryOp, ...] = (
    UnaryOp(
        "scale",
        "x * {k}",
        (
            "multiply {each} {elem} by {k}",
            "scale {each} {elem} by {k}",
            "scale the {buf} by a factor of {k}",
            "multiply the {buf} by {k}",
            "multiply {elems} by {k}",
            "scale {elems} of the {buf} by {k}",
        ),
        (
            "multiply each value in the array by {k}",
            "make every number {k} times bigger",
            "times all the values by {k}",
            "scale up my list by {k}",
        ),
        params="k",
        uniform_train=(
            "multiply {each} {elem} by a factor from a uniform",
            "scale the {buf} by a uniform factor",
            "scale {each} {elem} by params.factor",
        ),
        uniform_heldout=("multiply every number by a factor that i pass in at runtime",),
    ),
    UnaryOp(
        "offset",
        "x + {k}",
        (
            "add {k} to {each} {elem}",
            "offset {each} {elem} by {k}",
            "increment the {buf} by {k}",
            "add a constant {k} to the {buf}",
            "shift {elems} by {k}",
        ),
        (
            "add {k} to all the numbers",
            "bump each value up by {k}",
            "increase everything in the array by {k}",
        ),
        params="k",
        uniform_train=(
            "add an offset from a uniform to {each} {elem}",
            "offset the {buf} by a uniform amount",
        ),
        uniform_heldout=("add a runtime-configurable offset to every number",),
    ),
    UnaryOp(
        "square",
        "x * x",
        (
            "square {each} {elem}",
            "square the {buf}",
            "raise {each} {elem} to the power of two",
            "compute the square of {each} {elem}",
        ),
        ("replace every number with its square", "multiply each value by itself"),
    ),
    UnaryOp(
        "cube",
        "x * x * x",
        (
            "cube {each} {elem}",
            "cube the {buf}",
            "raise {each} {elem} to the third power",
            "compute the cube of {each} {elem}",
        ),
        ("compute x^3 for all the values", "replace every number with its cube"),
    ),
    UnaryOp(
        "abs",
        "abs(x)",
        (
            "take the absolute value of {each} {elem}",
            "compute abs of the {buf}",
            "apply abs to {each} {elem}",
            "get the absolute value of {each} {elem}",
        ),
        ("make all the numbers positive", "get rid of the sign of every value"),
    ),
    UnaryOp(
        "negate",
        "-x",
        (
            "negate {each} {elem}",
            "negate the {buf}",
            "flip the sign of {each} {elem}",
            "change the sign of {elems}",
        ),
        ("turn every number into its negative", "invert the sign of all values"),
    ),
    UnaryOp(
        "sqrt",
        "sqrt(x)",
        (
            "take the square root of {each} {elem}",
            "compute sqrt of the {buf}",
            "apply sqrt to {each} {elem}",
            "square root {each} {elem}",
        ),
        ("replace every number with its square root", "sqrt all the values"),
    ),
    UnaryOp(
        "reciprocal",
        "1.0 / x",
        (
            "compute the reciprocal of {each} {elem}",
            "take one over {each} {elem}",
            "invert {each} {elem} as 1 / x",
            "compute the reciprocal of the {buf}",
        ),
        ("replace every number x with 1/x", "divide one by each value"),
    ),
    UnaryOp(
        "exp",
        "exp(x)",
        (
            "apply exp to {each} {elem}",
            "exponentiate {each} {elem}",
            "compute e to the power of {each} {elem}",
            "take the exponential of the {buf}",
        ),
        ("raise e to every number", "compute the exponential function for all values"),
    ),
    UnaryOp(
        "log",
        "log(x)",
        (
            "take the natural log of {each} {elem}",
            "apply log to {each} {elem}",
            "compute the logarithm of the {buf}",
            "take the natural logarithm of {each} {elem}",
        ),
        ("compute ln of all the values", "replace every number with its log"),
    ),
    UnaryOp(
        "sin",
        "sin(x)",
        (
            "take the sine of {each} {elem}",
            "apply sin to {each} {elem}",
            "compute the sine of the {buf}",
        ),
        ("run sin() over all the values", "replace every number with its sine"),
    ),
    UnaryOp(
        "cos",
        "cos(x)",
        (
            "take the cosine of {each} {elem}",
            "apply cos to {each} {elem}",
            "compute the cosine of the {buf}",
        ),
        ("run cos() over all the values", "replace every number with its cosine"),
    ),
    UnaryOp(
        "floor",
        "floor(x)",
        (
            "round {each} {elem} down",
            "floor {each} {elem}",
            "apply floor to the {buf}",
            "round down {elems} to whole numbers",
        ),
        (
            "round all the numbers down to integers",
            "drop the decimals, rounding toward minus infinity",
        ),
    ),
    UnaryOp(
        "ceil",
        "ceil(x)",
        (
            "round {each} {elem} up",
            "ceil {each} {elem}",
            "apply ceil to the {buf}",
            "round up {elems} to whole numbers",
        ),
        ("round all the numbers up to integers", "take the ceiling of every value"),
    ),
    UnaryOp(
        "round",
        "round(x)",
        (
            "round {each} {elem} to the nearest integer",
            "round the {buf}",
            "apply round to {each} {elem}",
        ),
        ("round all the numbers to whole values", "snap every value to the closest integer"),
    ),
    UnaryOp(
        "fract",
        "fract(x)",
        (
            "take the fractional part of {each} {elem}",
            "apply fract to the {buf}",
            "keep only the fractional part of {elems}",
        ),
        ("remove the integer part of all the values", "get the part after the decimal point"),
    ),
    UnaryOp(
        "clamp",
        "clamp(x, {lo}, {hi})",
        (
            "clamp {each} {elem} to [{lo}, {hi}]",
            "clamp {each} {elem} between {lo} and {hi}",
            "limit {elems} to the range {lo} to {hi}",
            "clamp the {buf} to the range [{lo}, {hi}]",
        ),
        (
            "keep all the numbers between {lo} and {hi}",
            "make sure no value is below {lo} or above {hi}",
        ),
        params="range",
        uniform_train=(
            "clamp {each} {elem} between a min and max from a uniform",
            "clamp the {buf} to a range given in uniforms",
        ),
        uniform_heldout=("restrict the values to bounds that i pass at runtime",),
    ),
    UnaryOp(
        "relu",
        "max(x, 0.0)",
        (
            "apply relu to {each} {elem}",
            "relu the {buf}",
            "apply a rectified linear unit to {each} {elem}",
            "clamp negative {elems} to zero",
        ),
        ("zero out the negatives", "set every negative number to 0"),
    ),
    UnaryOp(
        "step",
        "step({k}, x)",
        (
            "threshold {each} {elem} at {k}",
            "apply a step function with edge {k} to the {buf}",
            "binarize the {buf} with threshold {k}",
            "map {elems} to 1 if at least {k} else 0",
        ),
        (
            "turn values into 0 or 1 using {k} as the cutoff",
            "output 1 where the number is {k} or more and 0 otherwise",
        ),
        params="k",
        uniform_train=("threshold {each} {elem} at a value from a uniform",),
        uniform_heldout=("binarize the numbers with a cutoff passed in at runtime",),
    ),
)


def _unary_params(op: UnaryOp, rng: random.Random) -> dict[str, float]:
    if op.params == "k":
        if op.family == "step":
            return {"k": rand_unit(rng)}
        if op.family == "offset":
            return {"k": rand_small(rng)}
        return {"k": rand_factor(rng)}
    if op.params == "range":
        lo = rng.choice((0.0, 0.0, -1.0, 0.5, 1.0, -2.0, 0.1))
        hi = lo + rng.choice((1.0, 2.0, 0.5, 3.0, 10.0, 4.0, 1.5))
        return {"lo": lo, "hi": hi}
    return {}


def _fill_numbers(text: str, values: dict[str, float], code: bool) -> str:
    for key, v in values.items():
        text = text.replace("{" + key + "}", f32_lit(v) if code else num_text(v))
    return text


def _fill_texts(values: dict[str, float]) -> tuple[tuple[str, str], ...]:
    return tuple((key, num_text(v)) for key, v in values.items())


_SPECIAL_SCALE_WORDS = {2.0: "double", 3.0: "triple", 0.5: "halve"}


def unary_specs(rng: random.Random) -> list[Spec]:
    specs: list[Spec] = []
    for op in UNARY_OPS:
        n_variants = 8 if op.params else 2
        for v in range(n_variants):
            values = _unary_params(op, rng)
            expr = _fill_numbers(op.expr, values, code=True)
            train = tuple(_fill_numbers(a, values, code=False) for a in op.train)
            heldout = tuple(_fill_numbers(a, values, code=False) for a in op.heldout)
            if op.family == "scale" and values["k"] in _SPECIAL_SCALE_WORDS:
                word = _SPECIAL_SCALE_WORDS[values["k"]]
                train += (f"{word} {{each}} {{elem}}", f"{word} the {{buf}}")
            inplace = v % 2 == 1
            wg = 64 if rng.random() < 0.8 else rng.choice((32, 128, 256))
            if inplace:
                code = kernel(
                    [storage(0, "data", "f32", True)],
                    ["let x = data[i];", f"data[i] = {expr};"],
                    wg=wg,
                    guard="data",
                )
                tags = ("compute", "io:data", "elem:f32")
            else:
                code = kernel(
                    [storage(0, "input", "f32", False), storage(1, "output", "f32", True)],
                    ["let x = input[i];", f"output[i] = {expr};"],
                    wg=wg,
                )
                tags = ("compute", "io:in,out", "elem:f32")
            specs.append(
                Spec(
                    op.family,
                    "compute",
                    code,
                    train,
                    heldout,
                    tags,
                    modifier="inplace" if inplace else "io",
                    wg=wg,
                    fill=_fill_texts(values),
                )
            )
        if op.uniform_train:
            fields = (
                [("min_value", "f32"), ("max_value", "f32")]
                if op.params == "range"
                else [("factor" if op.family == "scale" else "value", "f32")]
            )
            field_map = {"k": "params." + fields[0][0]}
            if op.params == "range":
                field_map = {"lo": "params.min_value", "hi": "params.max_value"}
            expr = op.expr
            for key, ref in field_map.items():
                expr = expr.replace("{" + key + "}", ref)
            code = kernel(
                [
                    struct("Params", fields),
                    "",
                    storage(0, "input", "f32", False),
                    storage(1, "output", "f32", True),
                    uniform(2),
                ],
                ["let x = input[i];", f"output[i] = {expr};"],
            )
            specs.append(
                Spec(
                    op.family,
                    "compute",
                    code,
                    op.uniform_train,
                    op.uniform_heldout,
                    ("compute", "io:in,out,params", "elem:f32", "uniform"),
                    modifier="io",
                    weight=2.0,
                )
            )
    return specs


# --- binary f32 kernels, copy, fill --------------------------------------------------------------


@dataclass(frozen=True)
class BinaryOp:
    family: str
    expr: str  # in terms of a[i], b[i]; {t} parameter
    train: tuple[str, ...]
    heldout: tuple[str, ...]
    param: bool = False


BINARY_OPS: tuple[BinaryOp, ...] = (
    BinaryOp(
        "add",
        "a[i] + b[i]",
        (
            "add two {bufs} element by element",
            "add {buf} a and {buf} b into output",
            "sum two arrays elementwise",
            "compute a + b for {each} {elem}",
            "do an element-wise addition of two {bufs}",
        ),
        ("add two lists together", "add the numbers of two arrays pairwise"),
    ),
    BinaryOp(
        "sub",
        "a[i] - b[i]",
        (
            "subtract {buf} b from {buf} a element by element",
            "compute a - b for {each} {elem}",
            "do an element-wise subtraction of two {bufs}",
            "subtract two arrays elementwise",
        ),
        ("take the difference of two arrays, a minus b", "subtract the second list from the first"),
    ),
    BinaryOp(
        "mul",
        "a[i] * b[i]",
        (
            "multiply two {bufs} element by element",
            "compute a * b for {each} {elem}",
            "compute the element-wise product of two {bufs}",
            "multiply arrays a and b elementwise",
        ),
        ("multiply two lists pairwise", "compute the hadamard product of two arrays"),
    ),
    BinaryOp(
        "div",
        "a[i] / b[i]",
        (
            "divide {buf} a by {buf} b element by element",
            "compute a / b for {each} {elem}",
            "do an element-wise division of two {bufs}",
        ),
        ("divide the first list by the second one", "a divided by b for all the numbers"),
    ),
    BinaryOp(
        "min",
        "min(a[i], b[i])",
        (
            "take the element-wise minimum of two {bufs}",
            "compute min(a, b) for {each} {elem}",
            "keep the smaller of a and b for {each} {elem}",
        ),
        ("pick the lower number of two arrays at every position",),
    ),
    BinaryOp(
        "max",
        "max(a[i], b[i])",
        (
            "take the element-wise maximum of two {bufs}",
            "compute max(a, b) for {each} {elem}",
            "keep the larger of a and b for {each} {elem}",
        ),
        ("pick the bigger number of two arrays at every position",),
    ),
    BinaryOp(
        "average",
        "(a[i] + b[i]) * 0.5",
        (
            "average two {bufs} element by element",
            "compute the mean of a and b for {each} {elem}",
            "compute the element-wise average of two {bufs}",
        ),
        ("find the midpoint of two lists of numbers", "average two arrays together"),
    ),
    BinaryOp(
        "lerp",
        "mix(a[i], b[i], {t})",
        (
            "interpolate linearly between {buf} a and b by {t}",
            "lerp a and b with t = {t}",
            "mix two {bufs} with weight {t}",
            "blend a toward b by {t} for {each} {elem}",
        ),
        ("interpolate from array a to array b at {t}", "crossfade two lists using {t}"),
        param=True,
    ),
)


def binary_specs(rng: random.Random) -> list[Spec]:
    specs: list[Spec] = []
    for op in BINARY_OPS:
        for _ in range(6 if op.param else 2):
            values = {"t": rand_unit(rng)} if op.param else {}
            wg = 64 if rng.random() < 0.8 else rng.choice((32, 128, 256))
            expr = _fill_numbers(op.expr, values, code=True)
            code = kernel(
                [
                    storage(0, "a", "f32", False),
                    storage(1, "b", "f32", False),
                    storage(2, "output", "f32", True),
                ],
                [f"output[i] = {expr};"],
                wg=wg,
            )
            specs.append(
                Spec(
                    op.family,
                    "compute",
                    code,
                    tuple(_fill_numbers(a, values, code=False) for a in op.train),
                    tuple(_fill_numbers(a, values, code=False) for a in op.heldout),
                    ("compute", "io:a,b,out", "elem:f32"),
                    wg=wg,
                    weight=1.5 if not op.param else 1.0,
                    fill=_fill_texts(values),
                )
            )
    return specs


def copy_fill_specs(rng: random.Random) -> list[Spec]:
    specs: list[Spec] = []
    for wg in (64, 64, 128):
        specs.append(
            Spec(
                "copy",
                "compute",
                kernel(
                    [storage(0, "input", "f32", False), storage(1, "output", "f32", True)],
                    ["output[i] = input[i];"],
                    wg=wg,
                ),
                (
                    "copy the input buffer to the output buffer",
                    "copy {each} {elem} from input to output",
                    "duplicate the {buf} into another buffer",
                    "do a plain buffer copy",
                ),
                ("clone an array into a second one", "copy one list into another"),
                ("compute", "io:in,out", "elem:f32"),
                wg=wg,
                weight=1.5,
            )
        )
        specs.append(
            Spec(
                "fill_index",
                "compute",
                kernel([storage(0, "output", "f32", True)], ["output[i] = f32(i);"], wg=wg),
                (
                    "fill the {buf} with the index of {each} {elem}",
                    "write {each} {elem}'s index into it",
                    "set {each} {elem} to its index",
                    "fill the output with 0, 1, 2, 3 and so on",
                ),
                ("store the position of every number in the list", "make an array of 0..n-1"),
                ("compute", "io:out", "elem:f32"),
                wg=wg,
                weight=1.5,
            )
        )
    for _ in range(5):
        k = rand_small(rng)
        lit = f32_lit(k)
        txt = num_text(k)
        specs.append(
            Spec(
                "fill_constant",
                "compute",
                kernel([storage(0, "output", "f32", True)], [f"output[i] = {lit};"]),
                (
                    f"fill the {{buf}} with {txt}",
                    f"set {{each}} {{elem}} to {txt}",
                    f"initialize the {{buf}} to {txt}",
                ),
                (f"make every number in the list equal {txt}", f"reset all the values to {txt}"),
                ("compute", "io:out", "elem:f32"),
                fill=(("k", txt),),
            )
        )
    return specs


# --- registry ------------------------------------------------------------------------------------

SpecBuilder = Callable[[random.Random], list[Spec]]


# --- color kernels over array<vec4<f32>> ---------------------------------------------------------


def _color_kernel(expr_lines: Sequence[str], inplace: bool, wg: int) -> tuple[str, tuple[str, ...]]:
    if inplace:
        body = ["let c = data[i];", *expr_lines[:-1], f"data[i] = {expr_lines[-1]};"]
        decls = [storage(0, "data", "vec4<f32>", True)]
        return kernel(decls, body, wg=wg, guard="data"), ("compute", "io:data", "elem:vec4f")
    body = ["let c = input[i];", *expr_lines[:-1], f"output[i] = {expr_lines[-1]};"]
    decls = [storage(0, "input", "vec4<f32>", False), storage(1, "output", "vec4<f32>", True)]
    return kernel(decls, body, wg=wg), ("compute", "io:in,out", "elem:vec4f")


LUMA = "vec3<f32>(0.299, 0.587, 0.114)"


def color_specs(rng: random.Random) -> list[Spec]:
    specs: list[Spec] = []

    def add(
        family: str,
        lines: Sequence[str],
        train: tuple[str, ...],
        heldout: tuple[str, ...],
        variants: int = 2,
        fill: tuple[tuple[str, str], ...] = (),
    ) -> None:
        for v in range(variants):
            inplace = v % 2 == 1
            wg = 64 if rng.random() < 0.85 else rng.choice((128, 256))
            code, tags = _color_kernel(lines, inplace, wg)
            specs.append(
                Spec(
                    family,
                    "compute",
                    code,
                    train,
                    heldout,
                    tags,
                    modifier="inplace" if inplace else "io",
                    wg=wg,
                    weight=1.0 / variants,
                    fill=fill,
                )
            )

    add(
        "color_invert",
        ["vec4<f32>(1.0 - c.rgb, c.a)"],
        (
            "invert the colors of {each} {pixel}",
            "invert the {img}",
            "compute the negative of the {img}",
            "invert rgb and keep alpha for {each} {pixel}",
        ),
        ("make a negative of the picture", "flip every color to its opposite"),
    )
    add(
        "color_grayscale",
        [f"let gray = dot(c.rgb, {LUMA});", "vec4<f32>(vec3<f32>(gray), c.a)"],
        (
            "convert the {img} to grayscale",
            "make {each} {pixel} grayscale",
            "turn the {img} gray using luminance weights",
            "desaturate {each} {pixel} completely",
        ),
        ("make every pixel grayscale", "turn the photo black and white"),
    )
    for _ in range(4):
        k = rand_unit(rng) + rng.choice((0.0, 0.5, 1.0))
        lit, txt = f32_lit(k), num_text(k)
        add(
            "color_brightness",
            [f"vec4<f32>(c.rgb * {lit}, c.a)"],
            (
                f"multiply the brightness of {{each}} {{pixel}} by {txt}",
                f"adjust the brightness of the {{img}} by a factor of {txt}",
                f"scale the rgb of {{each}} {{pixel}} by {txt}",
            ),
            (f"change how bright the picture is by {txt}x",),
            variants=1,
            fill=(("k", txt),),
        )
    for _ in range(4):
        name = rng.choice(list(COLORS))
        t = rand_unit(rng)
        add(
            "chromatic_mix",
            [f"vec4<f32>(mix(c.rgb, {vec3_lit(COLORS[name])}, {f32_lit(t)}), c.a)"],
            (
                f"mix {{each}} {{pixel}} with {name} by {num_text(t)}",
                f"chromatic mix of the {{img}} toward {name} with amount {num_text(t)}",
                f"blend the {{img}} with {name} using factor {num_text(t)}",
            ),
            (f"tint the picture {name} with strength {num_text(t)}",),
            variants=1,
            fill=(("name", name), ("t", num_text(t))),
        )
    for _ in range(4):
        name = rng.choice(list(COLORS)[:12])
        add(
            "chromatic_filter",
            [f"vec4<f32>(c.rgb * {vec3_lit(COLORS[name])}, c.a)"],
            (
                f"apply a {name} color filter to {{each}} {{pixel}}",
                f"chromatic filter: multiply the {{img}} by {name}",
                f"filter the {{img}} through a {name} filter",
            ),
            (f"put a {name} filter over the picture",),
            variants=1,
            fill=(("name", name),),
        )
    add(
        "chromatic_complement",
        [
            "let hi = max(max(c.r, c.g), c.b);",
            "let lo = min(min(c.r, c.g), c.b);",
            "vec4<f32>(vec3<f32>(hi + lo) - c.rgb, c.a)",
        ],
        (
            "replace {each} {pixel} with its complementary color",
            "compute the chromatic complement of the {img}",
            "rotate the hue of the {img} by 180 degrees",
        ),
        ("swap every color for the one opposite on the color wheel",),
    )
    for _ in range(3):
        k = rng.choice((0.0, 0.5, 1.5, 2.0, 1.25, 0.25, 3.0))
        add(
            "chromatic_saturate",
            [
                f"let gray = dot(c.rgb, {LUMA});",
                f"vec4<f32>(mix(vec3<f32>(gray), c.rgb, {f32_lit(k)}), c.a)",
            ],
            (
                f"change the saturation of the {{img}} by a factor of {num_text(k)}",
                f"saturate {{each}} {{pixel}} with amount {num_text(k)}",
                f"scale the color saturation by {num_text(k)}",
            ),
            (f"make the colors {num_text(k)} times as vivid",),
            variants=1,
            fill=(("k", num_text(k)),),
        )
    return specs


# --- workgroup kernels: reductions, scans, histograms ------------------------------------------------

LOCAL_BUILTINS = (
    "@builtin(global_invocation_id) gid: vec3<u32>, "
    "@builtin(local_invocation_id) lid: vec3<u32>, "
    "@builtin(workgroup_id) wid: vec3<u32>"
)

_REDUCE = {
    "sum": ("0.0", "scratch[lid.x] + scratch[lid.x + s]"),
    "max": ("-3.4e38", "max(scratch[lid.x], scratch[lid.x + s])"),
    "min": ("3.4e38", "min(scratch[lid.x], scratch[lid.x + s])"),
}


def reduction_specs(rng: random.Random) -> list[Spec]:
    specs: list[Spec] = []
    words = {"sum": ("sum", "add up", "total"), "max": ("maximum",), "min": ("minimum",)}
    for op, (identity, combine) in _REDUCE.items():
        for wg in (64, 64, 128, 256):
            code = "\n".join(
                [
                    storage(0, "input", "f32", False),
                    storage(1, "output", "f32", True),
                    "",
                    f"var<workgroup> scratch: array<f32, {wg}>;",
                    "",
                    f"@compute @workgroup_size({wg})",
                    f"fn main({LOCAL_BUILTINS}) {{",
                    "    let i = gid.x;",
                    f"    var x = {identity};",
                    "    if (i < arrayLength(&input)) {",
                    "        x = input[i];",
                    "    }",
                    "    scratch[lid.x] = x;",
                    "    workgroupBarrier();",
                    f"    for (var s = {wg // 2}u; s > 0u; s = s / 2u) {{",
                    "        if (lid.x < s) {",
                    f"            scratch[lid.x] = {combine};",
                    "        }",
                    "        workgroupBarrier();",
                    "    }",
                    "    if (lid.x == 0u) {",
                    "        output[wid.x] = scratch[0];",
                    "    }",
                    "}",
                ]
            )
            name = words[op][0]
            train: tuple[str, ...] = (
                f"compute the {name} of the {{buf}} with a parallel reduction",
                f"reduce the {{buf}} to its {name} per workgroup using workgroup memory",
                f"parallel {name} reduction in shared memory",
                f"find the {name} of {{each}} workgroup's {{elems}}",
            )
            if op == "sum":
                train += (
                    "add up all the {elems} of the {buf} with a tree reduction",
                    "sum reduction with workgroupBarrier",
                )
            heldout = (
                f"get the {name} of a big list of numbers on the gpu, one result per group",
                f"tree-style {name} using shared scratch space",
            )
            specs.append(
                Spec(
                    f"reduce_{op}",
                    "compute",
                    code + "\n",
                    train,
                    heldout,
                    ("compute", "io:in,out", "elem:f32", "workgroup"),
                    wg=wg,
                )
            )
    return specs


def scan_specs(rng: random.Random) -> list[Spec]:
    specs: list[Spec] = []
    for exclusive in (False, True):
        for wg in (64, 64, 128, 256):
            result = "scratch[lid.x] - x" if exclusive else "scratch[lid.x]"
            code = "\n".join(
                [
                    storage(0, "input", "f32", False),
                    storage(1, "output", "f32", True),
                    "",
                    f"var<workgroup> scratch: array<f32, {wg}>;",
                    "",
                    f"@compute @workgroup_size({wg})",
                    f"fn main({LOCAL_BUILTINS}) {{",
                    "    let i = gid.x;",
                    "    let n = arrayLength(&input);",
                    "    var x = 0.0;",
                    "    if (i < n) {",
                    "        x = input[i];",
                    "    }",
                    "    scratch[lid.x] = x;",
                    "    workgroupBarrier();",
                    f"    for (var offset = 1u; offset < {wg}u; offset = offset * 2u) {{",
                    "        var t = 0.0;",
                    "        if (lid.x >= offset) {",
                    "            t = scratch[lid.x - offset];",
                    "        }",
                    "        workgroupBarrier();",
                    "        scratch[lid.x] = scratch[lid.x] + t;",
                    "        workgroupBarrier();",
                    "    }",
                    "    if (i < n) {",
                    f"        output[i] = {result};",
                    "    }",
                    "}",
                ]
            )
            kind = "exclusive" if exclusive else "inclusive"
            train: tuple[str, ...] = (
                f"{kind} prefix sum of the {{buf}} within each workgroup",
                f"compute an {kind} scan of the {{buf}} in workgroup memory",
                f"write the {kind} running total of {{each}} {{elem}}",
                f"do an {kind} prefix sum using shared memory",
            )
            if not exclusive:
                train += ("compute the prefix sum of the {buf}", "cumulative sum of the {buf}")
            heldout = (
                f"running sum ({kind}) of a list of numbers per block",
                f"{kind} cumsum on the gpu",
            )
            specs.append(
                Spec(
                    f"prefix_sum_{kind}",
                    "compute",
                    code + "\n",
                    train,
                    heldout,
                    ("compute", "io:in,out", "elem:f32", "workgroup"),
                    wg=wg,
                )
            )
    return specs


def histogram_specs(rng: random.Random) -> list[Spec]:
    specs: list[Spec] = []
    for bins in (8, 16, 32, 64, 256, 10, 100):
        code = kernel(
            [storage(0, "input", "f32", False), storage(1, "bins", "atomic<u32>", True)],
            [
                "let v = clamp(input[i], 0.0, 1.0);",
                f"let bin = min(u32(v * {bins}.0), {bins - 1}u);",
                "atomicAdd(&bins[bin], 1u);",
            ],
            guard="input",
        )
        specs.append(
            Spec(
                "histogram",
                "compute",
                code,
                (
                    f"build a histogram of the {{buf}} with {bins} bins using atomics",
                    f"count {{elems}} in [0, 1] into {bins} bins with atomicAdd",
                    f"histogram with {bins} buckets over the {{buf}}",
                    f"bin {{each}} {{elem}} into one of {bins} atomic counters",
                ),
                (f"count how many numbers fall in each of {bins} ranges between 0 and 1",),
                ("compute", "io:in,bins", "elem:f32", "atomic"),
                fill=(("bins", str(bins)),),
            )
        )
    for bins in (16, 64):
        code = "\n".join(
            [
                storage(0, "input", "f32", False),
                storage(1, "bins", "atomic<u32>", True),
                "",
                f"var<workgroup> local_bins: array<atomic<u32>, {bins}>;",
                "",
                "@compute @workgroup_size(64)",
                f"fn main({LOCAL_BUILTINS}) {{",
                "    let i = gid.x;",
                "    if (i < arrayLength(&input)) {",
                "        let v = clamp(input[i], 0.0, 1.0);",
                f"        let bin = min(u32(v * {bins}.0), {bins - 1}u);",
                "        atomicAdd(&local_bins[bin], 1u);",
                "    }",
                "    workgroupBarrier();",
                f"    for (var b = lid.x; b < {bins}u; b = b + 64u) {{",
                "        atomicAdd(&bins[b], atomicLoad(&local_bins[b]));",
                "    }",
                "}",
            ]
        )
        specs.append(
            Spec(
                "histogram_workgroup",
                "compute",
                code + "\n",
                (
                    f"histogram with {bins} bins accumulated in workgroup memory first",
                    f"build a {bins}-bin histogram using a shared local histogram per workgroup",
                    f"privatized histogram of the {{buf}} with {bins} bins",
                ),
                (f"count values into {bins} ranges, merging per-group counts at the end",),
                ("compute", "io:in,bins", "elem:f32", "atomic", "workgroup"),
                weight=1.0,
                fill=(("bins", str(bins)),),
            )
        )
    return specs
