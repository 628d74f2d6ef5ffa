"""The WGSL and prompt tokenizers: lossless round trips, unseen words, save/load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.tokenizer import (
    Tokenizer,
    TokenizerError,
    build_prompt_tokenizer,
    build_wgsl_tokenizer,
    format_wgsl,
    lex_wgsl,
)

KERNEL = """@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= arrayLength(&output)) {
        return;
    }
    output[i] = input[i] * 2.0;
}
"""


def _texts(source: str) -> list[str]:
    return [lx.text for lx in lex_wgsl(source) if lx.kind != "newline"]


def test_lexer_keeps_operators_attributes_types_and_numbers_whole() -> None:
    src = "@group(0) x: vec2<f32> = a << 2u && b >= 1e-3 || c != 0x1Fu; d += 2.0f; e -> f"
    texts = _texts(src)
    for expected in ("@group", "vec2<f32>", "<<", "&&", ">=", "||", "!=", "+=", "->"):
        assert expected in texts
    for number in ("2u", "1e-3", "0x1Fu", "2.0f"):
        assert number in texts


def test_nested_template_close_is_two_brackets() -> None:
    texts = _texts("var<workgroup> t: array<array<f32, 4>>;")
    assert texts[-3:] == [">", ">", ";"]


def test_decode_of_encode_is_canonical_layout() -> None:
    messy = KERNEL.replace("    ", "\t").replace(": ", " :  ").replace("(&", "( & ")
    tok = build_wgsl_tokenizer([KERNEL])
    decoded = tok.decode(tok.encode(messy))
    assert decoded == KERNEL == format_wgsl(messy)


def test_unseen_identifier_is_spelt_not_unknown() -> None:
    tok = build_wgsl_tokenizer([KERNEL])
    src = KERNEL.replace("output", "résultatBuffer_2")
    ids = tok.encode(src)
    assert tok.unk_id not in ids
    assert "résultatBuffer_2" in tok.decode(ids)


def test_numbers_are_spelt_digit_by_digit_on_both_sides() -> None:
    wgsl = build_wgsl_tokenizer([KERNEL])
    prompt = build_prompt_tokenizer(["scale by 2"], 1, True)
    assert wgsl.tokenize("x * 3.75;")[2:6] == ["3", "##.", "##7", "##5"]
    assert prompt.tokenize("scale by 3.75") == ["scale", "by", "3", "##.", "##7", "##5"]


def test_prompt_tokenizer_copes_with_typos_and_case() -> None:
    tok = build_prompt_tokenizer(["multiply every element by 2"], 1, lowercase=True)
    ids = tok.encode("Multipyl EVERY elemnt by 7")
    assert tok.unk_id not in ids
    assert tok.decode(ids) == "multipyl every elemnt by 7"


def test_min_freq_drops_rare_words_to_pieces() -> None:
    tok = build_wgsl_tokenizer([KERNEL, KERNEL, "fn rare() {}"], min_freq=2)
    assert "rare" not in tok.token_to_id
    assert "gid" in tok.token_to_id
    assert "fn rare() {}" in tok.decode(tok.encode("fn rare() {}"))


def test_decode_stops_at_eos_and_skips_pad_and_sos() -> None:
    tok = build_wgsl_tokenizer([KERNEL])
    ids = [tok.sos_id, *tok.encode("fn f() {}"), tok.eos_id, *tok.encode("let x = 1;")]
    assert tok.decode([*ids, tok.pad_id]) == "fn f() {}\n"


def test_save_load_round_trip(tmp_path: Path) -> None:
    tok = build_prompt_tokenizer(["double the buffer"], 1, lowercase=True)
    tok.save(tmp_path / "tok.json")
    loaded = Tokenizer.load(tmp_path / "tok.json")
    assert loaded.tokens == tok.tokens and loaded.lowercase and loaded.side == "prompt"
    assert loaded.encode("Double it") == tok.encode("Double it")


@pytest.mark.parametrize(
    "content", ["not json", json.dumps({"format": "other"}), json.dumps([1, 2])]
)
def test_load_rejects_bad_files_naming_them(tmp_path: Path, content: str) -> None:
    path = tmp_path / "tok.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TokenizerError, match=str(path)):
        Tokenizer.load(path)


# --- property tests ---------------------------------------------------------------------------

_IDENT = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,14}", fullmatch=True).filter(
    lambda s: s != "_" and not s.startswith("__")
)
_NUMBER = st.one_of(
    st.integers(0, 10**6).map(str),
    st.integers(0, 10**6).map(lambda n: f"{n}u"),
    st.floats(0, 1e6, allow_nan=False).map(lambda f: f"{f:.3f}"),
    st.floats(0, 1e6, allow_nan=False).map(lambda f: f"{f:.2e}"),
    st.integers(0, 2**31).map(lambda n: f"0x{n:X}"),
)
_PUNCT = st.sampled_from(
    [
        "+",
        "-",
        "*",
        "/",
        "&&",
        "||",
        "<<",
        ">>",
        "<=",
        ">=",
        "==",
        "!=",
        "=",
        "+=",
        "->",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        ",",
        ";",
        ":",
        ".",
        "vec4<f32>",
        "@binding",
        "!",
        "~",
        "&",
    ]
)
_WS = st.sampled_from([" ", "  ", "\t", "\n", "\n\n", "\n    ", ""])


@st.composite
def _token_soup(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.one_of(_IDENT, _NUMBER, _PUNCT), min_size=1, max_size=40))
    out = []
    for part in parts:
        out.append(part)
        out.append(draw(_WS) or " ")
    return "".join(out)


_WGSL_TOK = build_wgsl_tokenizer([KERNEL])


@settings(max_examples=300, deadline=None)
@given(_token_soup())
def test_round_trip_keeps_every_lexeme(source: str) -> None:
    decoded = _WGSL_TOK.decode(_WGSL_TOK.encode(source))
    assert _texts(decoded) == _texts(source)


@settings(max_examples=200, deadline=None)
@given(_IDENT, _NUMBER)
def test_round_trip_of_kernel_with_arbitrary_name_and_number(name: str, number: str) -> None:
    src = KERNEL.replace("gid", name).replace("2.0", number)
    decoded = _WGSL_TOK.decode(_WGSL_TOK.encode(src))
    assert decoded == format_wgsl(src)
    assert _WGSL_TOK.unk_id not in _WGSL_TOK.encode(src)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_prompt_round_trip_never_loses_a_word(text: str) -> None:
    tok = build_prompt_tokenizer(["multiply every element by 2"], 1, lowercase=False)
    ids = tok.encode(text)
    assert tok.unk_id not in ids
    assert "".join(tok.decode(ids).split()) == "".join(text.split())


def test_nested_closed_type_keeps_its_brackets_together() -> None:
    src = "var<storage, read> input: array<vec4<f32>>;\nvar<storage> b: array<atomic<u32>>;\n"
    assert format_wgsl(src) == src
    tok = build_wgsl_tokenizer([src])
    assert tok.decode(tok.encode(src)) == src


_UNICODE_IDENT = st.text(
    st.characters(categories=("L", "Nl", "Mn", "Mc", "Nd", "Pc"), codec="utf-8"),
    min_size=1,
    max_size=12,
).filter(lambda s: regex.fullmatch(r"[\p{XID_Start}][\p{XID_Continue}]*", s) is not None)


@settings(max_examples=200, deadline=None)
@given(_UNICODE_IDENT)
def test_unseen_unicode_identifier_survives_the_round_trip(name: str) -> None:
    src = KERNEL.replace("output", name)
    ids = _WGSL_TOK.encode(src)
    assert _WGSL_TOK.unk_id not in ids
    assert _WGSL_TOK.decode(ids) == format_wgsl(src)
    assert name in _texts(_WGSL_TOK.decode(ids))


_TRAINING_PROMPTS = (
    "multiply every element of the buffer by 2",
    "fragment shader that draws a red circle in the middle of the screen",
    "compute the prefix sum of an array with workgroup memory",
)
_PROMPT_TOK = build_prompt_tokenizer(_TRAINING_PROMPTS, 1, lowercase=True)


@st.composite
def _misspelt(draw: st.DrawFn) -> str:
    """A training prompt with a few typos: letters swapped, dropped, doubled or replaced."""
    words = draw(st.sampled_from(_TRAINING_PROMPTS)).split()
    letter = st.characters(categories=("L", "Nd"), codec="utf-8")
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(words) - 1))
        word = words[i]
        j = draw(st.integers(0, len(word) - 1))
        edit = draw(st.sampled_from(["swap", "drop", "double", "replace", "insert"]))
        if edit == "swap" and j + 1 < len(word):
            word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
        elif edit == "drop" and len(word) > 1:
            word = word[:j] + word[j + 1 :]
        elif edit == "double":
            word = word[: j + 1] + word[j:]
        elif edit == "replace":
            word = word[:j] + draw(letter) + word[j + 1 :]
        elif edit == "insert":
            word = word[:j] + draw(letter) + word[j:]
        words[i] = word
    return " ".join(words)


@settings(max_examples=300, deadline=None)
@given(_misspelt())
def test_typos_never_become_unknown_and_round_trip(prompt: str) -> None:
    ids = _PROMPT_TOK.encode(prompt)
    assert _PROMPT_TOK.unk_id not in ids
    assert "".join(_PROMPT_TOK.decode(ids).split()) == "".join(prompt.lower().split())
