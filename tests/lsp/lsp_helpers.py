"""Helpers for the language-server tests (the fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

SCRIPT = str(Path(sys.executable).with_name("tiny-agent-trainer"))
DOUBLING_KERNEL = """\
@group(0) @binding(0) var<storage, read_write> data: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    data[id.x] = data[id.x] * 2.0;
}
"""
"""A valid compute shader that doubles every element of a storage buffer."""

PROFILES = ["visual-studio-code", "neovim@v0.7.0"]
"""VS Code, and Neovim 0.7 (Debian's, no snippets, no workspace/configuration, UTF-16)."""
SHARED_PROFILES = [*PROFILES, "neovim"]
"""Read-only tests also run as the latest Neovim (snippets, UTF-8 positions): one server each."""
REPO = Path(__file__).resolve().parents[2]


def server_env(**extra: str) -> dict[str, str]:
    runtime = Path(os.environ.get("TMPDIR", "/tmp")) / f"xdg-runtime-{os.getuid()}"
    runtime.mkdir(mode=0o700, exist_ok=True)
    return {**os.environ, "XDG_RUNTIME_DIR": str(runtime), **extra}


def test_settings() -> dict[str, Any]:
    """Settings used by the tests: the template generator, a short debounce."""
    return {"modelPath": "dummy", "debounceMs": 50, "completions": {"waitMs": 3000}}


test_settings.__test__ = False  # type: ignore[attr-defined]


async def start(
    client: LanguageClient,
    profile: str,
    root: Path,
    options: dict[str, Any] | None = None,
    capabilities: types.ClientCapabilities | None = None,
) -> types.InitializeResult:
    settings = test_settings() if options is None else options
    client.set_configuration({"tinyAgent": settings})
    return await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities or client_capabilities(profile),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            initialization_options={"tinyAgent": settings},
        )
    )


def column(line: str, index: int, encoding: str | None) -> int:
    """Column ``index`` (code points) of ``line`` in the units of a position encoding."""
    if encoding == types.PositionEncodingKind.Utf8:
        return len(line[:index].encode("utf-8"))
    if encoding == types.PositionEncodingKind.Utf32:
        return index
    return len(line[:index].encode("utf-16-le")) // 2


def open_document(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    uri = path.as_uri()
    client.diagnostics.pop(uri, None)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="wgsl", version=version, text=text
            )
        )
    )
    return uri


def change_document(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def wait_for(
    condition: Callable[[], bool], timeout: float = 30.0, interval: float = 0.02
) -> None:
    """Wait until ``condition()`` holds; fail the test with a clear message after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


async def diagnostics_for(
    client: LanguageClient, uri: str, timeout: float = 30.0
) -> list[types.Diagnostic]:
    await wait_for(lambda: uri in client.diagnostics, timeout)
    return list(client.diagnostics[uri])


def position_of(text: str, needle: str, offset: int = 0) -> types.Position:
    """The LSP position (UTF-16) of the first ``needle`` in ``text``, plus ``offset`` columns."""
    index = text.index(needle) + offset
    line = text.count("\n", 0, index)
    line_start = text.rfind("\n", 0, index) + 1
    col = len(text[line_start:index].encode("utf-16-le")) // 2
    return types.Position(line=line, character=col)


def build_slow_model(directory: Path) -> Path:
    """An untrained model whose decoding runs to its token limit: slow enough to cancel.

    Random weights almost never emit end-of-sequence, so every request decodes the full
    ``max_new_tokens`` with several beams (seconds on a CPU).
    """
    import torch

    from engine.dataset import load_examples
    from engine.model import ModelConfig, Seq2SeqTransformer, save_model
    from engine.tokenizer import build_prompt_tokenizer, build_wgsl_tokenizer

    torch.manual_seed(0)
    examples = load_examples(REPO / "data" / "train")
    src_tok = build_prompt_tokenizer([e.natural_language for e in examples])
    tgt_tok = build_wgsl_tokenizer([e.wgsl_code for e in examples])
    cfg = ModelConfig(
        src_vocab_size=src_tok.vocab_size,
        tgt_vocab_size=tgt_tok.vocab_size,
        src_pad_id=src_tok.pad_id,
        tgt_pad_id=tgt_tok.pad_id,
        d_model=256,
        nhead=4,
        num_layers=4,
        dim_feedforward=1024,
        dropout=0.0,
        max_seq_len=512,
        tie_weights=False,
    )
    model = Seq2SeqTransformer(cfg).eval()
    # Make every step pick the same ordinary token: the decoder never says end-of-sequence,
    # so each candidate runs to max_new_tokens and naga rejects it (beam search follows).
    token = tgt_tok.encode("x")[0]
    with torch.no_grad():
        model.dec_ln.weight.zero_()
        model.dec_ln.bias.copy_(model.head.weight[token] * 50)
    config_text = "[generation]\nbeam_size = 8\nmax_new_tokens = 480\nlength_penalty = 0.6\n"
    save_model(directory, model, src_tok, tgt_tok, config_text=config_text, metrics={})
    return directory


TINY_PAIRS = [
    (
        "compute shader that doubles every element of a buffer",
        "@group(0) @binding(0) var<storage, read_write> data: array<f32>;\n\n"
        "@compute @workgroup_size(64)\n"
        "fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
        "    data[id.x] = data[id.x] * 2.0;\n}\n",
    ),
    (
        "compute shader that halves every element of a buffer",
        "@group(0) @binding(0) var<storage, read_write> data: array<f32>;\n\n"
        "@compute @workgroup_size(64)\n"
        "fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
        "    data[id.x] = data[id.x] * 0.5;\n}\n",
    ),
    (
        "fragment shader that outputs red",
        "@fragment\nfn main() -> @location(0) vec4<f32> {\n"
        "    return vec4<f32>(1.0, 0.0, 0.0, 1.0);\n}\n",
    ),
    (
        "fragment shader that outputs blue",
        "@fragment\nfn main() -> @location(0) vec4<f32> {\n"
        "    return vec4<f32>(0.0, 0.0, 1.0, 1.0);\n}\n",
    ),
]


def write_tiny_training(directory: Path, epochs: int, batch_size: int = 2) -> Path:
    """A training config for a model small enough to train in seconds (d_model 32, 1 layer)
    on a handful of pairs, all inside ``directory``; returns the config's path."""
    pairs = "".join(
        f"[[examples]]\nnatural_language = \"{prompt}\"\nwgsl_code = '''\n{code}'''\n\n"
        for prompt, code in TINY_PAIRS
    )
    (directory / "pairs.toml").write_text(pairs, encoding="utf-8")
    config = directory / "tiny.toml"
    config.write_text(
        f"""\
[task]
name = "tiny"
task_type = "code_generation"

[model]
d_model = 32
nhead = 2
num_layers = 1
dim_feedforward = 64
dropout = 0.0
max_seq_len = 128

[training]
num_epochs = {epochs}
batch_size = {batch_size}
learning_rate = 0.001
warmup_steps = 1
device = "cpu"
checkpoint_dir = "checkpoints"
early_stopping = false
save_every = 1000

[tokenizer]
max_length = 128

[dataset]
train_path = "pairs.toml"
val_ratio = 0.2
heldout_path = "pairs.toml"

[generation]
beam_size = 1
max_new_tokens = 48
""",
        encoding="utf-8",
    )
    return config
