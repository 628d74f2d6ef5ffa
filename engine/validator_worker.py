"""The validator's worker process: it owns the wgpu device and hands shaders to naga.

Run by :mod:`engine.validator`, never by hand. naga is native code that can crash on some inputs
(deep nesting overflows its stack), so it lives here, where a crash costs only this process.

Protocol (binary, little-endian), on the process's stdin (requests) and the file descriptor that
stdout had at start-up (responses); stdout itself is pointed at stderr so that nothing the
driver or wgpu prints can corrupt the protocol:

* request:  1 byte kind (``V`` validate, ``Q`` quit) + u32 length + UTF-8 WGSL source;
* response: 1 byte status + u32 length + UTF-8 payload, where status is ``R`` (ready; payload is
  the chosen adapter as JSON), ``F`` (start-up failed; payload says why), ``O`` (valid),
  ``E`` (wgpu rejected the shader; payload is wgpu's error text) or ``X`` (another exception).

With ``--describe`` it writes one ``R`` response whose payload lists every adapter, and exits.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import sys
from typing import Any

_HEADER = struct.Struct("<cI")

# Backends that expose the most shader features to naga come first: Vulkan (lavapipe here).
_BACKEND_RANK = {"Vulkan": 0, "Metal": 0, "D3D12": 0, "OpenGL": 1, "OpenGLES": 1}


def _write_frame(fd: int, status: bytes, payload: bytes) -> None:
    data = memoryview(_HEADER.pack(status, len(payload)) + payload)
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def adapter_record(adapter: Any) -> dict[str, Any]:
    """The facts about an adapter that the parent needs, as plain JSON values."""
    info = adapter.info
    return {
        "device": str(info.get("device", "")),
        "description": str(info.get("description", "")),
        "vendor": str(info.get("vendor", "")),
        "backend": str(info.get("backend_type", "")),
        "adapter_type": str(info.get("adapter_type", "")),
        "features": sorted(str(f) for f in adapter.features),
    }


def choose_adapter(adapters: list[Any], backend: str) -> Any:
    """The adapter that lets naga accept the most: a non-GL backend, then the most features."""
    if backend:
        adapters = [a for a in adapters if a.info.get("backend_type", "").lower() == backend]
        if not adapters:
            raise RuntimeError(f"no wgpu adapter with the {backend!r} backend")
    if not adapters:
        raise RuntimeError(
            "wgpu found no adapter; install a GPU driver or Mesa's CPU drivers "
            "(Debian/Ubuntu: apt-get install mesa-vulkan-drivers)"
        )
    return min(
        adapters,
        key=lambda a: (_BACKEND_RANK.get(a.info.get("backend_type", ""), 2), -len(a.features)),
    )


def _serve(request_fd: int, response_fd: int, backend: str, verbose: bool) -> int:
    try:
        import wgpu

        if not verbose:  # wgpu's logger exists only once wgpu is imported
            logging.getLogger("wgpu").setLevel(logging.CRITICAL)

        adapter = choose_adapter(wgpu.gpu.enumerate_adapters_sync(), backend)
        device = adapter.request_device_sync(
            required_features=list(adapter.features), required_limits=dict(adapter.limits)
        )
    except Exception as exc:
        _write_frame(response_fd, b"F", f"{type(exc).__name__}: {exc}".encode())
        return 1
    _write_frame(response_fd, b"R", json.dumps(adapter_record(adapter)).encode())
    gpu_error = wgpu.GPUError
    create = device.create_shader_module
    while True:
        header = _read_exact(request_fd, _HEADER.size)
        if header is None:
            return 0
        kind, size = _HEADER.unpack(header)
        payload = _read_exact(request_fd, size) if size else b""
        if payload is None or kind == b"Q":
            return 0
        code = payload.decode("utf-8")
        if code.lstrip().startswith("#version ") and not any(
            stage in code for stage in ("@compute", "@vertex", "@fragment")
        ):
            # wgpu would take this for GLSL; an appended comment keeps it WGSL for naga.
            code += "\n// @compute"
        try:
            create(code=code)
        except gpu_error as exc:
            _write_frame(response_fd, b"E", str(exc).encode())
        except Exception as exc:
            _write_frame(response_fd, b"X", f"{type(exc).__name__}: {exc}".encode())
        else:
            _write_frame(response_fd, b"O", b"")


def _describe(response_fd: int) -> int:
    try:
        import wgpu

        records = [adapter_record(a) for a in wgpu.gpu.enumerate_adapters_sync()]
    except Exception as exc:
        _write_frame(response_fd, b"F", f"{type(exc).__name__}: {exc}".encode())
        return 1
    _write_frame(response_fd, b"R", json.dumps(records).encode())
    return 0


def main(argv: list[str]) -> int:
    """Entry point; ``argv`` is ``[--describe]`` or ``[BACKEND, LOG]``.

    BACKEND is an empty string for "the best one"; LOG is ``debug`` to pass on wgpu's and naga's
    own log lines (naga logs every rejected module), anything else to drop them.
    """
    response_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    verbose = len(argv) > 1 and argv[1] == "debug"
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if argv and argv[0] == "--describe":
        return _describe(response_fd)
    backend = argv[0].lower() if argv else ""
    return _serve(0, response_fd, backend, verbose)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
