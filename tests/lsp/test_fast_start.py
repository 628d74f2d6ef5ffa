"""``initialize`` answered before pygls has loaded (server/launch.py), and what follows it.

The early answer comes from a committed capabilities file; these tests check that it is the
answer pygls itself gives, that the server then behaves as if pygls had answered (position
encoding, settings, no lost bytes), and that anything other than ``initialize`` first still
reaches pygls.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from typing import Any

import pytest
from lsp_helpers import SCRIPT, SHARED_PROFILES, server_env
from pytest_lsp import client_capabilities

import server.server as real_server
from server.launch import CAPABILITIES_FILE, initialize_result, load_capabilities, pygls_initialize

REGENERATE = ".venv/bin/python -m server.launch --write-capabilities"
TIMEOUT_S = 60.0
# `missing_thing` comes after a two-byte (UTF-8), one-unit (UTF-16) character on its line.
SHADER = "fn f() {\n    let é = missing_thing;\n}\n"
ERROR_LINE = 1
ERROR_UTF16 = SHADER.splitlines()[1].index("missing_thing")
ERROR_UTF8 = len(SHADER.splitlines()[1][:ERROR_UTF16].encode("utf-8"))


def params_for(capabilities: dict[str, Any]) -> dict[str, Any]:
    return {
        "processId": os.getpid(),
        "rootUri": None,
        "capabilities": capabilities,
        "initializationOptions": {"modelPath": "dummy", "debounceMs": 0},
    }


def profile_capabilities(profile: str) -> dict[str, Any]:
    typed = client_capabilities(profile)
    data: dict[str, Any] = real_server.server.protocol._converter.unstructure(typed)
    return data


CLIENTS = {
    **{profile: (lambda p=profile: profile_capabilities(p)) for profile in SHARED_PROFILES},
    "bare": dict,
    "utf-8 only": lambda: {"general": {"positionEncodings": ["utf-8"]}},
    "utf-32 first, no rename preparation": lambda: {
        "general": {"positionEncodings": ["utf-32", "utf-16"]},
        "textDocument": {"rename": {"prepareSupport": False}},
    },
    "unknown encodings only": lambda: {"general": {"positionEncodings": ["ebcdic"]}},
}


@pytest.mark.parametrize("client", list(CLIENTS))
def test_early_answer_is_the_answer_pygls_gives(client: str) -> None:
    params = params_for(CLIENTS[client]())
    early = initialize_result(params, load_capabilities())
    assert early is not None
    assert early == pygls_initialize(real_server, params), (
        f"{CAPABILITIES_FILE} no longer matches the server's capabilities for {client!r}; "
        f"regenerate it with `{REGENERATE}`"
    )


class RawClient:
    """The server as editors start it, spoken to byte by byte over its stdin and stdout."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [SCRIPT, "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=server_env(),
        )
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if line == b"\r\n":
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            assert length is not None
            self.messages.put(json.loads(stream.read(length)))

    @staticmethod
    def frame(message: dict[str, Any]) -> bytes:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        return b"Content-Length: %d\r\n\r\n" % len(body) + body

    def send(self, *messages: dict[str, Any]) -> None:
        """All messages in one write, as a client that does not wait for answers would."""
        assert self.process.stdin is not None
        self.process.stdin.write(b"".join(self.frame(m) for m in messages))
        self.process.stdin.flush()

    def expect(self, matches: Any) -> dict[str, Any]:
        """The next message for which ``matches`` is true, answering the server's requests."""
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            message = self.messages.get(timeout=max(0.1, deadline - time.monotonic()))
            if "method" in message and "id" in message:  # a request from the server
                result: Any = [None] if message["method"] == "workspace/configuration" else None
                self.send({"id": message["id"], "result": result})
            if matches(message):
                return message

    def close(self) -> None:
        try:
            self.send({"id": 999, "method": "shutdown"})
            self.expect(lambda m: m.get("id") == 999)
            self.send({"method": "exit"})
            self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def raw() -> Any:
    client = RawClient()
    yield client
    client.close()


def did_open(uri: str) -> dict[str, Any]:
    document = {"uri": uri, "languageId": "wgsl", "version": 1, "text": SHADER}
    return {"method": "textDocument/didOpen", "params": {"textDocument": document}}


def first_error(raw: RawClient, uri: str) -> dict[str, Any]:
    published = raw.expect(
        lambda m: (
            m.get("method") == "textDocument/publishDiagnostics"
            and m["params"]["uri"] == uri
            and m["params"]["diagnostics"]
        )
    )
    diagnostic: dict[str, Any] = published["params"]["diagnostics"][0]
    return diagnostic


@pytest.mark.parametrize(
    ("offered", "encoding", "column"),
    [(["utf-8", "utf-16"], "utf-8", ERROR_UTF8), (None, "utf-16", ERROR_UTF16)],
)
def test_messages_sent_with_initialize_are_not_lost(
    raw: RawClient, offered: list[str] | None, encoding: str, column: int
) -> None:
    """initialize, initialized and didOpen in one write: the early answer, then diagnostics in
    the negotiated encoding, so pygls recorded the same client capabilities."""
    capabilities: dict[str, Any] = {"textDocument": {"publishDiagnostics": {}}}
    if offered is not None:
        capabilities["general"] = {"positionEncodings": offered}
    uri = "file:///tmp/fast-start/unicode.wgsl"
    raw.send(
        {"id": 1, "method": "initialize", "params": params_for(capabilities)},
        {"method": "initialized", "params": {}},
        did_open(uri),
    )
    answer = raw.expect(lambda m: m.get("id") == 1)
    assert answer["result"]["capabilities"]["positionEncoding"] == encoding
    assert answer["result"]["serverInfo"]["name"] == "tiny-agent-trainer"
    error = first_error(raw, uri)
    assert error["range"]["start"] == {"line": ERROR_LINE, "character": column}, error
    assert "missing_thing" in error["message"]


def test_another_message_first_still_reaches_the_server(raw: RawClient) -> None:
    """A request before initialize is answered by pygls; initialize after it works as usual."""
    raw.send({"id": 7, "method": "tinyAgent/notAMethod", "params": {}})
    refused = raw.expect(lambda m: m.get("id") == 7)
    assert "error" in refused, refused
    uri = "file:///tmp/fast-start/late.wgsl"
    raw.send(
        {"id": 1, "method": "initialize", "params": params_for({})},
        {"method": "initialized", "params": {}},
        did_open(uri),
    )
    answer = raw.expect(lambda m: m.get("id") == 1)
    assert answer["result"]["capabilities"]["positionEncoding"] == "utf-16"
    assert first_error(raw, uri)["range"]["start"]["character"] == ERROR_UTF16


def test_initialize_the_early_path_cannot_read_is_left_to_pygls(raw: RawClient) -> None:
    """Client capabilities of an unexpected shape: no early answer; pygls answers initialize
    itself, from the same bytes, and the server serves the messages after it."""
    uri = "file:///tmp/fast-start/odd.wgsl"
    raw.send(
        {"id": 1, "method": "initialize", "params": params_for({"general": "utf-8"})},
        {"method": "initialized", "params": {}},
        did_open(uri),
    )
    answer = raw.expect(lambda m: m.get("id") == 1)
    assert answer["result"]["capabilities"]["positionEncoding"] == "utf-16", answer
    assert first_error(raw, uri)["range"]["start"]["character"] == ERROR_UTF16


def test_a_setting_warning_from_initialize_reaches_the_client(raw: RawClient) -> None:
    """Our initialize hook runs after the early answer; what it says still gets out."""
    params = params_for({})
    params["initializationOptions"] = {"debounceMs": "soon"}
    raw.send({"id": 1, "method": "initialize", "params": params})
    raw.expect(lambda m: m.get("id") == 1)
    warning = raw.expect(lambda m: m.get("method") == "window/showMessage")
    assert "debounceMs" in warning["params"]["message"], warning
