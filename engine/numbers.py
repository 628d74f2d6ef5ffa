"""Number placeholders: the model writes "the k-th number of the prompt", not its digits.

A prompt such as "scale every element by 2.5 in place" becomes "scale every element by NUM0 in
place" (:func:`delexicalise_prompt`); the k-th distinct number (by value, in order of first
appearance) is ``NUM{k}``. In the training code every numeric literal whose value is prompt
number k, and whose text is exactly how that value is written in its form, becomes a
placeholder naming k and the form (:func:`delexicalise_code`):

==============  ============  ===========================
placeholder     written as    WGSL
==============  ============  ===========================
``NUM0_INT``    ``8``         abstract integer
``NUM0_FLOAT``  ``8.0``       abstract float (``2.5``)
``NUM0_U32``    ``8u``        u32
``NUM0_I32``    ``8i``        i32
``NUM0_F32``    ``8.0f``      f32
``NUM0_F16``    ``8.0h``      f16
==============  ============  ===========================

After decoding, :func:`relexicalise_code` writes each placeholder back in its form, so a float
form of 8 becomes ``8.0`` and ``@workgroup_size(NUM0_INT)`` becomes ``@workgroup_size(128)``.
Literals that match no prompt number stay as they are, and only literals that the rendering
gives back character for character are replaced, so relexicalising a delexicalised program
returns it unchanged.

Numbers inside words (``vec4``, ``f32``, ``2d``, ``rgba8unorm``) are not numbers here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

PROMPT_PLACEHOLDER = "NUM"
"""Prefix of a prompt placeholder: ``NUM0``, ``NUM1``, ..."""

# form -> WGSL suffix; "INT"/"FLOAT" are the abstract (suffix-free) forms
FORMS: dict[str, str] = {"INT": "", "FLOAT": "", "U32": "u", "I32": "i", "F32": "f", "F16": "h"}
_INT_FORMS = frozenset({"INT", "U32", "I32"})

# A number in English text: 8, 2.5, .5, 1e-3, both ends of a range 0..1; not inside a word
# (vec4, f32, 2d, x2) and not a version-like 1.2.3.
_PROMPT_NUMBER = re.compile(
    r"(?<!\w)(?<![^.]\.)(?<!^\.)(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"(?![\w]|\.[0-9])"
)
# A decimal WGSL literal (hex literals are left alone).
_CODE_NUMBER = re.compile(
    r"(?<![\w.])(?:(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fh]?"
    r"|[0-9]+[eE][+-]?[0-9]+[fh]?|[0-9]+[iufh]?)(?![\w.])"
)
_CODE_PLACEHOLDER = re.compile(r"\bNUM([0-9]+)_(INT|FLOAT|U32|I32|F32|F16)\b")


@dataclass(frozen=True)
class PromptNumbers:
    """A prompt with its numbers replaced: ``prompt`` holds ``NUM0``...; ``values[k]`` and
    ``texts[k]`` are the k-th distinct number's value and its first spelling in the prompt."""

    prompt: str
    values: tuple[float, ...] = ()
    texts: tuple[str, ...] = ()


def delexicalise_prompt(prompt: str) -> PromptNumbers:
    """Replace every number of ``prompt`` with ``NUM{k}``, k by first appearance of its value."""
    values: list[float] = []
    texts: list[str] = []

    def swap(m: re.Match[str]) -> str:
        text = m.group()
        value = float(text)
        if not math.isfinite(value):
            return text
        if value not in values:
            values.append(value)
            texts.append(text)
        return f"{PROMPT_PLACEHOLDER}{values.index(value)}"

    return PromptNumbers(_PROMPT_NUMBER.sub(swap, prompt), tuple(values), tuple(texts))


def render(value: float, form: str) -> str:
    """``value`` written as a WGSL literal of ``form`` (a key of :data:`FORMS`).

    Integer forms of a fractional value fall back to the float spelling (naga then rejects a
    fractional u32, which validator-guided decoding sees)."""
    suffix = FORMS[form]
    integral = value.is_integer() and abs(value) < 1e15
    if form in _INT_FORMS and integral:
        return f"{int(value)}{suffix}"
    if integral:
        return f"{int(value)}.0{suffix}"
    text = repr(float(value))
    if "e" in text and "." not in text.split("e")[0]:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return text + ("" if form in _INT_FORMS else suffix)


def _form_of(literal: str) -> str:
    suffix = {"u": "U32", "i": "I32", "f": "F32", "h": "F16"}.get(literal[-1])
    if suffix is not None:
        return suffix
    return "FLOAT" if _is_float_body(literal) else "INT"


def _is_float_body(text: str) -> bool:
    return "." in text or "e" in text or "E" in text


def delexicalise_code(code: str, numbers: PromptNumbers) -> str:
    """Replace each literal of ``code`` whose value is a prompt number with its placeholder.

    A literal is replaced only when :func:`render` writes that value in that form as exactly
    the same text, so :func:`relexicalise_code` gives ``code`` back."""
    if not numbers.values:
        return code

    def swap(m: re.Match[str]) -> str:
        literal = m.group()
        form = _form_of(literal)
        body = literal[:-1] if FORMS[form] else literal
        try:
            value = float(body)
        except ValueError:
            return literal
        if value not in numbers.values:
            return literal
        if render(value, form) != literal:
            return literal
        return f"{PROMPT_PLACEHOLDER}{numbers.values.index(value)}_{form}"

    return _CODE_NUMBER.sub(swap, code)


def relexicalise_code(code: str, numbers: PromptNumbers) -> str:
    """Write every placeholder of ``code`` back as its prompt number in its form.

    A placeholder for a number the prompt does not have is left as it is (naga then rejects
    the unknown name, and validator-guided decoding picks another candidate)."""

    def swap(m: re.Match[str]) -> str:
        k = int(m.group(1))
        if k >= len(numbers.values):
            return m.group()
        return render(numbers.values[k], m.group(2))

    return _CODE_PLACEHOLDER.sub(swap, code)
