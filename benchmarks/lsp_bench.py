"""The language server as an editor sees it: a real ``tiny-agent-trainer serve`` over stdio.

    .venv/bin/python benchmarks/lsp_bench.py [--repeats 30] [--starts 7] [--model DIR|dummy]

Measured, each against a baseline taken in the same run:

- start-up: process start -> ``initialize`` answered, against ``python -c pass`` started the
  same way (goal: at most 300 ms); and process start -> the first completion list, which
  needs the whole server imported, against ``python -c "import server.server"``;
- diagnostics: one keystroke (an incremental ``didChange``) -> ``publishDiagnostics`` for that
  version, on shaders of about 100, 1,000 and 5,000 lines, with ``debounceMs`` 0 so the
  debounce is not counted, against raw wgpu ``create_shader_module`` on the same text in an
  idle helper process on the same adapter (goal: at most 2x raw at 1,000 lines). Raw and
  server alternate; the ratio is the median of per-pair ratios;
- completion: the keyword/builtin list in a 1,000-line shader, and code from a ``//``
  comment with the model loaded (a new prompt each time, so nothing comes from a cache; the
  server is told to wait for the code, ``completions.waitMs`` 60000), against the engine's
  ``Generator.generate`` called directly on the same prompts in this process;
- memory: the server's resident set (VmRSS from /proc) after start-up, after validating and
  with the model loaded, and its validator worker's, against a bare Python interpreter.

The model is the shipped default (data/models/default) when it exists, else the templates
("dummy"); ``--model`` chooses.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from validate_bench import _RawSide, generated_shader

ROOT = Path(__file__).resolve().parents[1]
SERVER = Path(sys.executable).parent / "tiny-agent-trainer"
DEFAULT_MODEL = ROOT / "data" / "models" / "default"
IMPORT_SERVER = '  python -c "import server.server" (ms)'
IMPORT_PYGLS = '  python -c "import pygls.lsp.server" (ms)'
WARM_UP_PROMPT = "negate every colour in a buffer"
PROMPTS = [
    "invert the colours of a buffer",
    "mix two colour buffers additively",
    "blend two colour buffers",
    "saturate the colours in a storage buffer",
    "multiply two colour buffers as a filter",
    "add two arrays of floats element by element",
]


class Client:
    """A minimal LSP client: Content-Length framing, a reader thread, requests by id."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        self._next_id = 0
        self._responses: dict[int, queue.Queue[tuple[float, dict[str, Any]]]] = {}
        self._lock = threading.Lock()
        self.notifications: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.stderr: list[str] = []
        self.status: dict[str, Any] = {}
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _drain_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line.decode(errors="replace"))

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = 0
            while (line := stream.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line:
                return
            message = json.loads(stream.read(length))
            now = time.perf_counter()
            if "id" in message and "method" in message:  # a request from the server
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "id" in message:
                with self._lock:
                    waiting = self._responses.get(message["id"])
                if waiting is not None:
                    waiting.put((now, message))
            elif message.get("method") == "tinyAgent/status":
                self.status = message["params"]
            else:
                self.notifications.put((now, message))

    def _send(self, message: dict[str, Any]) -> float:
        body = json.dumps(message).encode()
        assert self.process.stdin is not None
        sent = time.perf_counter()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()
        return sent

    def request(self, method: str, params: Any, timeout: float = 120) -> tuple[float, Any]:
        """Seconds from sending to the response, and the result."""
        with self._lock:
            self._next_id += 1
            ident = self._next_id
            waiting: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
            self._responses[ident] = waiting
        sent = self._send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        try:
            received, message = waiting.get(timeout=timeout)
        except queue.Empty:
            sys.exit(f"{method}: no answer in {timeout:.0f} s\n{''.join(self.stderr[-30:])}")
        if "error" in message:
            sys.exit(f"{method} failed: {message['error']}")
        return received - sent, message.get("result")

    def notify(self, method: str, params: Any) -> float:
        return self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 120
    ) -> tuple[float, dict[str, Any]]:
        deadline = time.perf_counter() + timeout
        while True:
            try:
                received, message = self.notifications.get(
                    timeout=max(0.0, deadline - time.perf_counter())
                )
            except queue.Empty:
                sys.exit(f"no matching notification in {timeout:.0f} s\n{''.join(self.stderr)}")
            if predicate(message):
                return received, message

    def close(self) -> None:
        try:
            self.request("shutdown", None, timeout=30)
            self.notify("exit", None)
            self.process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired, SystemExit):
            self.process.kill()
            self.process.wait()


def initialize(client: Client, settings: dict[str, Any]) -> float:
    """Seconds from the process start to the ``initialize`` answer."""
    client.request(
        "initialize",
        {
            "processId": os.getpid(),
            "rootUri": None,
            "capabilities": {
                "textDocument": {
                    "publishDiagnostics": {"versionSupport": True},
                    "completion": {"completionItem": {"snippetSupport": True}},
                }
            },
            "initializationOptions": settings,
        },
    )
    answered = time.perf_counter() - client.started
    client.notify("initialized", {})
    return answered


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(p) for p in text]
    return found


def server_env() -> dict[str, str]:
    env = dict(os.environ)
    if not env.get("XDG_RUNTIME_DIR"):  # lavapipe complains on stderr without one
        env["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="lsp-bench-")
    return env


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def measure_startup(starts: int, env: dict[str, str]) -> tuple[float, float, float, float, float]:
    """Medians (s): ``python -c pass`` start to exit; the same with pygls's imports and with
    all of the server's (``import server.server``); server start to ``initialize`` answer;
    server start to the first answer that needs the whole server (a completion list)."""
    python_s: list[float] = []
    pygls_s: list[float] = []
    imports_s: list[float] = []
    server_s: list[float] = []
    useful_s: list[float] = []
    for _ in range(starts):
        for code, samples in (
            ("pass", python_s),
            ("import pygls.lsp.server", pygls_s),
            ("import server.server", imports_s),
        ):
            began = time.perf_counter()
            subprocess.run([sys.executable, "-P", "-c", code], check=True, env=env, cwd=ROOT)
            samples.append(time.perf_counter() - began)
        client = Client([str(SERVER), "serve"], env)
        server_s.append(initialize(client, {"completions": {"enabled": False}}))
        doc = Document(client, "file:///bench/start.wgsl", "fn f() {\n    \n}\n", counter=False)
        client.request(
            "textDocument/completion",
            {"textDocument": {"uri": doc.uri}, "position": {"line": 1, "character": 4}},
        )
        useful_s.append(time.perf_counter() - client.started)
        client.close()
    return (
        statistics.median(python_s),
        statistics.median(pygls_s),
        statistics.median(imports_s),
        statistics.median(server_s),
        statistics.median(useful_s),
    )


class Document:
    """An open document whose last line is a counter comment; each edit bumps the counter."""

    def __init__(self, client: Client, uri: str, text: str, *, counter: bool = True) -> None:
        self.client = client
        self.uri = uri
        self.base = text.rstrip("\n") + "\n" if counter else text
        self.with_counter = counter
        self.line = self.base.count("\n")
        self.version = 1
        self.counter = 0
        client.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "wgsl",
                    "version": 1,
                    "text": self.text(),
                }
            },
        )

    def text(self) -> str:
        if not self.with_counter:
            return self.base
        return f"{self.base}// edit {self.counter:06d}\n"

    def edit(self) -> float:
        """One keystroke-sized change to the last line; returns when it was sent."""
        self.counter += 1
        self.version += 1
        start = {"line": self.line, "character": 8}
        end = {"line": self.line, "character": 14}
        return self.client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri, "version": self.version},
                "contentChanges": [
                    {"range": {"start": start, "end": end}, "text": f"{self.counter:06d}"}
                ],
            },
        )

    def diagnostics_for_version(self) -> tuple[float, list[Any]]:
        received, message = self.client.wait_for(
            lambda m: (
                m.get("method") == "textDocument/publishDiagnostics"
                and m["params"]["uri"] == self.uri
                and m["params"].get("version") == self.version
            )
        )
        return received, message["params"]["diagnostics"]


def adapter_of_validator() -> tuple[str, str, str]:
    from engine.validator import Validator

    validator = Validator()
    validator.start()
    info = validator.adapter_info()
    validator.close()
    if info is None:
        sys.exit("no wgpu adapter")
    return info.backend, info.device, info.label


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed edits per shader size")
    parser.add_argument("--starts", type=int, default=7, help="server starts for start-up time")
    parser.add_argument("--gap-ms", type=float, default=20.0, help="pause before each edit")
    parser.add_argument("--model", help="model folder or 'dummy' (default: shipped, else dummy)")
    args = parser.parse_args(argv)
    model = args.model or ("" if DEFAULT_MODEL.is_dir() else "dummy")
    model_label = model or f"default ({DEFAULT_MODEL.relative_to(ROOT)})"
    env = server_env()
    os.environ["XDG_RUNTIME_DIR"] = env["XDG_RUNTIME_DIR"]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"CPUs: {os.cpu_count()}; load average (1, 5, 15 min): {load}; model: {model_label}")

    # -- start-up ------------------------------------------------------------------------------
    python_s, pygls_s, imports_s, init_s, useful_s = measure_startup(args.starts, env)
    bare = subprocess.run(
        [
            sys.executable,
            "-c",
            "print(open('/proc/self/status').read().split('VmRSS:')[1].split()[0])",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    bare_rss = int(bare.stdout)

    # -- one server for the rest ---------------------------------------------------------------
    backend, device, label = adapter_of_validator()
    raw = _RawSide(backend, device)
    client = Client([str(SERVER), "serve"], env)
    settings = {"modelPath": model, "debounceMs": 0, "completions": {"waitMs": 60000}}
    initialize(client, settings)
    pid = client.process.pid
    rss_started = rss_kib(pid)
    # Steady state: the model loads in the background after start-up; measure after that.
    deadline = time.perf_counter() + 300
    while client.status.get("state") != "ready":
        if time.perf_counter() > deadline or client.status.get("state") == "failed":
            sys.exit(f"the model did not load: {client.status}\n{''.join(client.stderr)}")
        time.sleep(0.1)
    rss_model = rss_kib(pid)

    rows: list[tuple[str, float, float, float]] = []
    sizes = [("100 lines", 100), ("1,000 lines", 1000), ("5,000 lines", 5000)]
    for index, (name, lines) in enumerate(sizes):
        source = generated_shader(lines)
        doc = Document(client, f"file:///bench/shader{index}.wgsl", source)
        _, shown = doc.diagnostics_for_version()
        assert shown == [], f"{name}: the benchmark shader is not valid: {shown}"
        raw_samples: list[float] = []
        lsp_samples: list[float] = []
        for _ in range(args.repeats):
            time.sleep(args.gap_ms / 1000)
            raw_samples.append(raw(doc.text()))
            time.sleep(args.gap_ms / 1000)
            sent = doc.edit()
            received, shown = doc.diagnostics_for_version()
            assert shown == [], shown
            lsp_samples.append(received - sent)
        ratio = statistics.median(s / r for s, r in zip(lsp_samples, raw_samples, strict=True))
        rows.append((name, median_ms(raw_samples), median_ms(lsp_samples), ratio))
    rss_validated = rss_kib(pid)
    worker_rss = sum(rss_kib(child) for child in children(pid))

    # -- completion: keywords and builtins -----------------------------------------------------
    big = Document(client, "file:///bench/complete.wgsl", generated_shader(1000))
    big.diagnostics_for_version()
    # After "    var" at the start of a function body: everything in scope, keywords, builtins.
    where = {"textDocument": {"uri": big.uri}, "position": {"line": 7, "character": 7}}
    keyword_s: list[float] = []
    count = 0
    for _ in range(args.repeats):
        took, result = client.request("textDocument/completion", where)
        keyword_s.append(took)
        count = len(result["items"])

    # -- completion: code from a comment, model loaded -----------------------------------------
    from engine.generate import Generator

    generator = Generator.load(model or None)
    generator.generate(WARM_UP_PROMPT, context="")  # the first call pays one-off set-up costs
    direct_s: list[float] = []
    served_s: list[float] = []
    comment_runs = max(3, min(len(PROMPTS), args.repeats // 5))
    with_code = 0
    for i in range(comment_runs):
        prompt = PROMPTS[i % len(PROMPTS)]
        text = f"// {prompt}\n\n"
        began = time.perf_counter()
        generator.generate(prompt, context=text)
        direct_s.append(time.perf_counter() - began)
        doc = Document(client, f"file:///bench/comment{i}.wgsl", text, counter=False)
        took, result = client.request(
            "textDocument/completion",
            {"textDocument": {"uri": doc.uri}, "position": {"line": 1, "character": 0}},
        )
        first = result["items"][0]
        assert first["label"].startswith("Tiny Agent: "), first["label"]
        with_code += bool(first["textEdit"]["newText"].strip())
        served_s.append(took)
    took_again, _ = client.request(
        "textDocument/completion",
        {"textDocument": {"uri": doc.uri}, "position": {"line": 1, "character": 0}},
    )
    client.close()
    raw.close()

    # -- report --------------------------------------------------------------------------------
    print(
        f"adapter: {label}; debounceMs 0; {args.repeats} edits per size, {args.gap_ms:g} ms apart"
    )
    print(f"\n{'measure':<44}{'baseline':>12}{'server':>12}{'ratio':>8}  goal")
    init_goal = init_s <= 0.300
    print(
        f"{'start -> initialize answered (ms)':<44}{python_s * 1000:>12.0f}{init_s * 1000:>12.0f}"
        f"{init_s / python_s:>8.2f}  <= 300 ms: {'met' if init_goal else 'NOT met'}"
    )
    print(
        f"{'start -> first completion list (ms)':<44}{python_s * 1000:>12.0f}"
        f"{useful_s * 1000:>12.0f}{useful_s / python_s:>8.2f}"
    )
    print(
        f"{IMPORT_SERVER:<44}{python_s * 1000:>12.0f}"
        f"{imports_s * 1000:>12.0f}{imports_s / python_s:>8.2f}"
    )
    print(
        f"{IMPORT_PYGLS:<44}{python_s * 1000:>12.0f}"
        f"{pygls_s * 1000:>12.0f}{pygls_s / python_s:>8.2f}"
    )
    ratio_1k = 0.0
    for name, raw_ms, lsp_ms, ratio in rows:
        goal = ""
        if name == "1,000 lines":
            ratio_1k = ratio
            goal = f"<= 2.00x: {'met' if ratio <= 2.0 else 'NOT met'}"
        print(
            f"{'didChange -> diagnostics, ' + name + ' (ms)':<44}{raw_ms:>12.2f}{lsp_ms:>12.2f}"
            f"{ratio:>8.2f}  {goal}"
        )
    print(
        f"{'completion, keywords/builtins (ms)':<44}{'':>12}{median_ms(keyword_s):>12.2f}"
        f"{'':>8}  {count} items, 1,000-line shader"
    )
    comment_ratio = statistics.median(served_s) / statistics.median(direct_s)
    print(
        f"{'completion, code from a comment (ms)':<44}{median_ms(direct_s):>12.0f}"
        f"{median_ms(served_s):>12.0f}{comment_ratio:>8.2f}"
        f"  baseline: Generator.generate in-process; code for {with_code} of {comment_runs}"
    )
    print(f"{'  same prompt again (ms)':<44}{'':>12}{took_again * 1000:>12.2f}")
    print(f"\n{'memory (VmRSS, MiB)':<44}{'python':>12}{'server':>12}{'ratio':>8}")
    for name, kib in (
        ("after initialize", rss_started),
        ("model loaded", rss_model),
        ("model loaded, after validating 100-5,000 lines", rss_validated),
    ):
        print(f"{'  ' + name:<44}{bare_rss / 1024:>12.1f}{kib / 1024:>12.1f}{kib / bare_rss:>8.1f}")
    print(f"{'  validator worker process':<44}{'':>12}{worker_rss / 1024:>12.1f}")
    met = init_goal and ratio_1k <= 2.0
    print(f"\ngoals: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
