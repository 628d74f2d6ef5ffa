"""``tiny-agent-trainer serve --tcp HOST:PORT``: the same server on a socket, clear errors."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from typing import Any

from lsp_helpers import SCRIPT, server_env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)


def receive(sock: socket.socket, reader: Any) -> dict[str, Any]:
    length = 0
    while (header := reader.readline()) not in (b"\r\n", b""):
        if header.lower().startswith(b"content-length:"):
            length = int(header.split(b":")[1])
    result: dict[str, Any] = json.loads(reader.read(length))
    return result


def test_serve_over_tcp() -> None:
    port = free_port()
    server = subprocess.Popen(
        [SCRIPT, "serve", "--tcp", f"127.0.0.1:{port}"],
        env=server_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except ConnectionRefusedError:
                assert server.poll() is None, server.communicate()[1].decode()
                assert time.monotonic() < deadline, "the server never listened"
                time.sleep(0.1)
        with sock, sock.makefile("rb") as reader:
            send(sock, {"id": 1, "method": "initialize", "params": {"capabilities": {}}})
            answer = receive(sock, reader)
            assert answer["id"] == 1
            assert answer["result"]["serverInfo"]["name"] == "tiny-agent-trainer"
            assert "documentSymbolProvider" in answer["result"]["capabilities"]
            send(sock, {"id": 2, "method": "shutdown"})
            while receive(sock, reader).get("id") != 2:
                pass
            send(sock, {"method": "exit"})
        assert server.wait(timeout=30) == 0
        assert server.stdout is not None and server.stdout.read() == b"", "stdout stays clean"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_serve_tcp_errors_are_clear() -> None:
    bad = subprocess.run(
        [SCRIPT, "serve", "--tcp", "2087"], env=server_env(), capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert "--tcp expects HOST:PORT" in bad.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        taken = subprocess.run(
            [SCRIPT, "serve", "--tcp", f"127.0.0.1:{port}"],
            env=server_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert taken.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in taken.stderr
    assert "Traceback" not in taken.stderr
