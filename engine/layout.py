"""Where a compute kernel's result goes, as a prompt says it and as a program does it.

Element-wise kernels come in two layouts: *in place* (one ``read_write`` buffer ``data``,
overwritten) and *separate* (a read-only ``input`` and a ``read_write`` ``output``). The prompt
index finds the operation well from new wording, but the few words that choose the layout
("overwriting the input", "into a new buffer") are a small part of a sentence embedding, and
new ways of saying them often lose to the operation's nearest training prompt with the other
layout. The English for the two layouts is a small closed set, so it is read here by rules:
:func:`layout_cue` says which layout a prompt asks for, when it says so without contradiction,
and :func:`layout_siblings` pairs each program with the same program in the other layout, so
that the index can keep its choice of operation and take the layout the prompt asked for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

Layout = Literal["in_place", "separate"]

_BUF = r"(?:buffers?|arrays?|storage|memory|data|dataset|sequence|list|values|input|vector)"
_MORE = r"(?:extra|separate|second|other|output|new|additional|another|result|destination)"
_NOT = r"(?:not|never|don'?t|do not|does not|doesn'?t|without|rather than|instead of)"
# "no extra buffer", "don't allocate a second output": the words of a separate layout, negated
_NO_SECOND_BUFFER = re.compile(
    r"\b(?:no(?: need (?:for|of))?|without(?: an?| any)?|rather than(?: an?)?|instead of(?: an?)?"
    r"|(?:don'?t|do not|not|never|without) (?:use|using|need|needing|want|allocat\w*|creat\w*"
    r"|mak\w*|requir\w*|add|adding|bind|binding)(?: an?| any)?) "
    rf"{_MORE} (?:output )?(?:buffers?|arrays?|storage|outputs?)\b"
)
# "without modifying the input", "leaving the input untouched", "not in place": the input
# must survive
_INPUT_KEPT = re.compile(
    r"\b(?:without|not|never|don'?t|do not) (?:modifying|changing|touching|overwriting|mutating|"
    r"altering|editing|modify|change|touch|overwrite|mutate|alter|edit) (?:the |its )?"
    r"(?:input|original|source|data|values)\b"
    rf"|\b{_NOT} (?:writ\w*|stor\w*|sav\w*|put\w*) (?:\w+ )?(?:to|into|in|over|on) "
    r"(?:the |its )?(?:input|original|source|src)\b"
    r"|\b(?:preserv\w*|retain\w*|keep\w*) (?:the |its |all )?(?:original|input|source|src)"
    r"(?: (?:data|values|buffer|array|elements))?(?= *(?:$|[,.;:!)(]|and\b|as\b|while\b))"
    r"|\b(?:untouched|intact|unchanged|unmodified|non-?destructive(?:ly)?)\b"
    r"|\bleav\w* (?:the |its )?(?:input|original|source|src)(?: \w+)? alone\b"
    rf"|\b{_NOT} (?:(?:be|do|done|work|operate|run|modify|update|write|store|compute|happen|"
    r"edit|change|\w+ing) )?(?:(?:it|this|that|them|anything|the \w+) )?in[- ]?(?:place|situ)\b"
)
_IN_PLACE = re.compile(
    r"\bin[- ]?place\b|\bin[- ]situ\b|\boverwrit\w*|\bdestructive(?:ly)?\b"
    # "the buffer itself", but not "multiply each element by itself" or "including itself"
    r"|\b(?:the|that|this|its|their) \w+ (?:itself|themselves)\b"
    r"|\b(?:writ|stor|sav|put|cop(?:y|ie))\w* (?:(?:it|them|each|every|the|a|an|results?|"
    r"values?|outputs?|answers?|elements?) ){0,3}back\b"
    rf"|\bsame {_BUF}\b"
    r"|\b(?<!in )(?:single|one|only one|just one) (?:read_write )?(?:buffer|array|storage buffer)\b"
    r"|\b(?:replac|mutat|modif|updat|edit|alter)\w* (?:the |its |their |my )?"
    r"(?:original |existing |old )?(?:input|data|buffer|array|values|elements|entries|items|"
    r"storage|sequence|dataset|pixels|colou?rs)\b"
    rf"|\b{_BUF} (?:holds|keeps|contains|gets|stores) the results?\b"
    r"|\breus\w* (?:the |its )?(?:input|source|same)\b"
    r"|\b(?:outputs?|results?) (?:\w+ ){0,2}(?:into|in|to|over) (?:the )?(?:input|source)\b"
    r"|\b(?:writ|stor|sav|put)\w* (?:\w+ ){0,3}over (?:the |its )?(?:input|source|original)\b"
    r"|\bwhere (?:it|they) (?:is|are|lives?|live|sits?)(?= *(?:$|[,.;:!)]))"
)
_SEPARATE = re.compile(
    r"\bout[- ]of[- ]place\b"
    rf"|\b(?:{_MORE}|fresh|different|distinct|target|results|(?:its|their) own) "
    r"(?:output )?(?:buffer|array|storage|output)s?\b"
    r"|\b(?:into|to|in) (?:an? |the )?(?:output|result|destination|dst|out)\b"
    r"|\binput to output\b|\bsrc to dst\b|\bone (?:buffer )?in and one out\b"
    r"|\bseparate (?:input and output|output|buffers)\b"
    # "two buffers" alone is the operands of a binary operation: only "use two buffers" or
    # "two buffers, (one for) input ..." name the layout
    r"|\b(?:(?:use|uses|using|with|via) (?:two|2) (?:separate |distinct |storage )?"
    r"(?:buffers|arrays|bindings)\b(?! (?:of|from)\b)"
    r"|\b(?:two|2) (?:separate |distinct |storage )?(?:buffers|arrays|bindings)\W+"
    r"(?:one )?(?:for )?(?:the |an? )?(?:input|source|src)\b)"
    r"|\b(?:input|source|src)s?\b(?:\W+\w+){0,2}?\W+read[- _]?only\b"
    r"|\bread[- _]?only (?:input|source|src)\b"
    r"|\b(?:in|from) one (?:buffer|array)\b.*?\b(?:another|the other)\b"
    r"|\belsewhere\b|\bsomewhere else\b"
)


def layout_cue(prompt: str) -> Layout | None:
    """The layout ``prompt`` asks for, or None when it names none or both."""
    text = " ".join(prompt.lower().split())
    in_place = bool(_NO_SECOND_BUFFER.search(text))
    text = _NO_SECOND_BUFFER.sub(" ", text)
    separate = bool(_INPUT_KEPT.search(text))
    text = _INPUT_KEPT.sub(" ", text)
    in_place = in_place or bool(_IN_PLACE.search(text))
    separate = separate or bool(_SEPARATE.search(text))
    if in_place == separate:
        return None
    return "in_place" if in_place else "separate"


_STORAGE = re.compile(
    r"^\s*@group\(\d+\)\s*@binding\(\d+\)\s*var<storage,\s*(read|read_write)>\s*(\w+)\s*:"
    r"[^\n]*\n?",
    re.M,
)


def program_layout(code: str) -> Layout | None:
    """``in_place`` for a kernel whose only buffer is ``read_write`` ``data``, ``separate`` for
    one that reads ``input`` and writes ``output``; None for any other kernel."""
    buffers = sorted(match.group(1, 2) for match in _STORAGE.finditer(code))
    if buffers == [("read_write", "data")]:
        return "in_place"
    if buffers == [("read", "input"), ("read_write", "output")]:
        return "separate"
    return None


def _without_layout(code: str) -> str:
    """``code`` with its storage declarations dropped and its buffers given one name: the same
    text for the two layouts of one kernel."""
    return re.sub(r"\b(?:data|input|output)\b", "buffer", _STORAGE.sub("", code))


def layout_siblings(programs: Sequence[str]) -> dict[tuple[int, Layout], int]:
    """``(i, layout)`` -> the program that is program ``i`` in that other layout, for every
    program that has one among ``programs``."""
    by_body: dict[tuple[str, Layout], int] = {}
    for i, code in enumerate(programs):
        layout = program_layout(code)
        if layout is not None:
            by_body.setdefault((_without_layout(code), layout), i)
    siblings: dict[tuple[int, Layout], int] = {}
    for (body, layout), i in by_body.items():
        other: Layout = "separate" if layout == "in_place" else "in_place"
        if (body, other) in by_body:
            siblings[(i, other)] = by_body[(body, other)]
    return siblings
