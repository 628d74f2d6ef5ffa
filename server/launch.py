"""Start the language server over stdio and answer ``initialize`` before pygls has loaded.

Importing pygls and lsprotocol takes a few hundred milliseconds (lsprotocol builds hundreds of
attrs classes), longer than an editor should wait for ``initialize``. So :func:`serve_stdio`
imports the real server in a background thread while this thread, with the standard library
only, reads the first JSON-RPC message from stdin. When it is ``initialize``, the answer comes
from ``resources/capabilities.json``, the server's capabilities computed in advance by pygls
(``python -m server.launch --write-capabilities``; a test fails when they drift), plus the
same position-encoding and rename choices pygls makes from the client's capabilities. Once the
import is done the same ``initialize`` params go through pygls's own handling (client
capabilities, workspace, our ``initialize`` hook) without a second answer, and pygls serves
the rest of stdin. Anything else first (another message, params this module does not
recognise) is handed to pygls unchanged, on the normal path.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import logging
import os
import sys
import threading
from typing import TYPE_CHECKING, Any, BinaryIO

from engine import __version__

if TYPE_CHECKING:
    from types import ModuleType

log = logging.getLogger(__name__)

SERVER_NAME = "tiny-agent-trainer"
CAPABILITIES_FILE = os.path.join(os.path.dirname(__file__), "resources", "capabilities.json")
ENCODINGS = ("utf-8", "utf-16", "utf-32")
"""The position encodings pygls supports; the first the client lists wins, else UTF-16."""
_MAX_HEADER_LINES = 32


class _Importer(threading.Thread):
    """Imports :mod:`server.server` (pygls, lsprotocol, the handlers) in the background."""

    def __init__(self) -> None:
        super().__init__(name="server-import", daemon=True)
        self.module: ModuleType | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            import server.server as module

            self.module = module
        except BaseException as exc:  # re-raised on the main thread
            self.error = exc


class _Replay:
    """stdin with bytes already read put back in front, for pygls's reader."""

    def __init__(self, prefix: bytes, stream: BinaryIO) -> None:
        self._prefix = prefix
        self._stream = stream

    def readline(self) -> bytes:
        if self._prefix:
            end = self._prefix.find(b"\n")
            if end >= 0:
                line, self._prefix = self._prefix[: end + 1], self._prefix[end + 1 :]
                return line
            line, self._prefix = self._prefix, b""
            return line + self._stream.readline()
        return self._stream.readline()

    def read(self, n: int = -1) -> bytes:
        if self._prefix:
            if n < 0:
                data, self._prefix = self._prefix, b""
                return data + self._stream.read()
            data, self._prefix = self._prefix[:n], self._prefix[n:]
            if len(data) < n:
                data += self._stream.read(n - len(data))
            return data
        return self._stream.read(n)


def read_message(stream: BinaryIO) -> tuple[bytes, dict[str, Any] | None]:
    """Read one framed message: every byte consumed, and the message if it parsed as an object.

    Reads exactly ``Content-Length`` bytes of body, through ``stream``'s own buffer, so nothing
    after the message is consumed.
    """
    raw = b""
    length: int | None = None
    for _ in range(_MAX_HEADER_LINES):
        line = stream.readline()
        raw += line
        if not line:  # end of input
            return raw, None
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            length = int(value.strip())
    else:
        return raw, None
    if length is None:
        return raw, None
    body = stream.read(length)
    raw += body
    if len(body) != length:
        return raw, None
    try:
        message = json.loads(body)
    except ValueError:
        return raw, None
    return raw, message if isinstance(message, dict) else None


def _get(mapping: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(key)
    return mapping


def load_capabilities() -> dict[str, Any]:
    with open(CAPABILITIES_FILE, encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def initialize_result(params: Any, capabilities: dict[str, Any]) -> dict[str, Any] | None:
    """The ``InitializeResult`` pygls would send for these params, or None if unsure.

    ``capabilities`` is the committed file: the server's capabilities for a client that
    supports rename preparation, without ``positionEncoding``.
    """
    if not isinstance(params, dict):
        return None
    client = params.get("capabilities")
    if not isinstance(client, dict):
        return None
    for key in ("general", "textDocument", "workspace", "window", "notebookDocument"):
        if key in client and client[key] is not None and not isinstance(client[key], dict):
            return None  # malformed: let pygls answer with its own error
    offered = _get(client, "general", "positionEncodings")
    if offered is not None and not isinstance(offered, list):
        return None
    encoding = next((e for e in offered or [] if e in ENCODINGS), "utf-16")
    result = copy.deepcopy(capabilities)
    result["positionEncoding"] = encoding
    sync = result.get("textDocumentSync")
    if isinstance(sync, dict):
        for option in ("willSave", "willSaveWaitUntil"):
            # pygls says false when the client supports it (we do not handle it), else nothing.
            supported = _get(client, "textDocument", "synchronization", option)
            if supported is not None:
                sync[option] = supported and False
    if not _get(client, "textDocument", "rename", "prepareSupport"):
        # The spec allows RenameOptions only for clients that said prepareSupport.
        result["renameProvider"] = True
    return {"capabilities": result, "serverInfo": {"name": SERVER_NAME, "version": __version__}}


def write_message(stream: BinaryIO, message: dict[str, Any]) -> None:
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    stream.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    stream.flush()


def pygls_initialize(module: ModuleType, params: dict[str, Any]) -> dict[str, Any]:
    """Run ``initialize`` through pygls's own handling on the server, without answering.

    Records the client's capabilities, sets up the workspace and runs our ``initialize`` hook,
    as a request would; returns the result pygls would have sent, as JSON data.
    """
    ls = module.server
    protocol = ls.protocol
    typed = protocol._converter.structure(params, module.types.InitializeParams)
    steps = protocol.lsp_initialize(typed)
    value: Any = None
    while True:
        try:
            handler, args, kwargs = steps.send(value)
        except StopIteration as stop:
            # As pygls would write it: enums as values, attributes left unset omitted.
            text = json.dumps(stop.value, default=protocol._serialize_message)
            result: dict[str, Any] = json.loads(text)
            return result
        value = handler(*(args or ()), **(kwargs or {}))
        if inspect.isawaitable(value):
            import asyncio

            async def wait(awaitable: Any = value) -> Any:
                return await awaitable

            value = asyncio.run(wait())


def serve_stdio() -> None:
    """Serve the language server over stdin/stdout, answering ``initialize`` early."""
    importer = _Importer()
    previous_interval = sys.getswitchinterval()
    # The import holds the GIL; let this thread have it back quickly when stdin has data.
    sys.setswitchinterval(0.0005)
    importer.start()
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    try:
        raw, message = read_message(stdin)
        answered: dict[str, Any] | None = None
        if (
            importer.error is None  # still importing, or done: not already failed
            and message is not None
            and message.get("method") == "initialize"
            and "id" in message
        ):
            try:
                answered = initialize_result(message.get("params"), load_capabilities())
            except (OSError, ValueError) as exc:
                log.warning(
                    "cannot read %s (%s); answering initialize later", CAPABILITIES_FILE, exc
                )
            if answered is not None:
                write_message(stdout, {"jsonrpc": "2.0", "id": message["id"], "result": answered})
    finally:
        sys.setswitchinterval(previous_interval)
    importer.join()
    module = importer.module
    if module is None:
        log.warning("importing the server in the background failed (%r); again", importer.error)
        module = importlib.import_module("server.server")  # raises the error on this thread
    if answered is None or message is None:
        module.server.start_io(_Replay(raw, stdin), stdout)
        return
    from pygls.io_ import StdoutWriter

    # Our initialize hook may already send messages (a warning about a setting).
    module.server.protocol.set_writer(StdoutWriter(stdout))
    result = pygls_initialize(module, message["params"])
    if result != answered:
        log.warning("initialize: the early answer differed from pygls's: %s", result)
    module.server.start_io(stdin, stdout)


def write_capabilities() -> None:
    """Regenerate ``resources/capabilities.json`` from the real server."""
    import server.server as module

    params = {"capabilities": {"textDocument": {"rename": {"prepareSupport": True}}}}
    capabilities = pygls_initialize(module, params)["capabilities"]
    capabilities.pop("positionEncoding", None)
    os.makedirs(os.path.dirname(CAPABILITIES_FILE), exist_ok=True)
    with open(CAPABILITIES_FILE, "w", encoding="utf-8") as handle:
        json.dump(capabilities, handle, indent=1, sort_keys=True)
        handle.write("\n")
    sys.stderr.write(f"wrote {CAPABILITIES_FILE}\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-capabilities"]:
        write_capabilities()
    else:
        sys.stderr.write("usage: python -m server.launch --write-capabilities\n")
        sys.exit(2)
