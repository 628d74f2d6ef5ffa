"""Validator latency against raw wgpu ``create_shader_module``, measured in the same run.

    .venv/bin/python benchmarks/validate_bench.py [--repeats 40] [--gap-ms 5]

Both sides use the same adapter (the one the validator picks) with the same features and limits.
The raw side is ``device.create_shader_module`` timed around the call itself, inside a helper
process that does nothing else; the validator side is ``Validator.validate`` timed by its caller
(request over a pipe, worker wake-up, naga, reply, diagnostics parsing). The caller does no
other work, as a language server between edits, so that on a shared machine neither side is
penalised by the scheduler for the other's CPU use. Both are warm: the worker has started and
each shader was checked once before timing. The sides alternate, so load from other processes
hits both alike; the table shows each side's median and the median of the per-pair ratios.
'pipe ms' is the raw side timed by the caller instead: the same naga call plus one request and
reply between two processes and no validator code. It is the price of any process boundary, and
on a loaded machine it is most of the worker's overhead: a process that wakes up to run a few
milliseconds of naga waits for a CPU before and after, which a call inside the caller does not.
'spaced' waits a few milliseconds before each call, as requests from an editor arrive;
'back-to-back' does not. Goal: the worker adds no more than 30% at 1,000 lines (spaced).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import wgpu

from engine.validator import Validator

_LENGTH = struct.Struct("<I")
_SECONDS = struct.Struct("<d")

_HEADER = """\
struct Particle {
    position: vec4<f32>,
    velocity: vec4<f32>,
}
@group(0) @binding(0) var<storage, read_write> particles: array<Particle>;
"""

_BLOCK = """\
fn stage_{i}(p: Particle, dt: f32) -> Particle {{
    var out = p;
    for (var k = 0u; k < 4u; k++) {{
        out.velocity = out.velocity * 0.99 + vec4<f32>(0.0, -9.8 * dt, f32(k), 0.0);
        out.position += out.velocity * dt;
    }}
    if out.position.y < 0.0 {{
        out.velocity.y = abs(out.velocity.y) * {damping};
    }}
    return {call};
}}
"""

_ENTRY = """\
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {{
    if gid.x < arrayLength(&particles) {{
        particles[gid.x] = stage_{last}(particles[gid.x], 0.016);
    }}
}}
"""


def generated_shader(lines: int, *, broken: bool = False) -> str:
    """A valid compute shader of about ``lines`` lines (a chain of small functions).

    With ``broken``, the last function returns a value of the wrong type, which naga reports
    only after parsing the whole module.
    """
    blocks = max(1, (lines - 12) // 11)
    parts = [_HEADER]
    for i in range(blocks):
        call = "out" if i == 0 else f"stage_{i - 1}(out, dt)"
        if broken and i == blocks - 1:
            call = "out.position"
        parts.append(_BLOCK.format(i=i, damping=f"0.{i % 9 + 1}", call=call))
    parts.append(_ENTRY.format(last=blocks - 1))
    return "\n".join(parts)


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000.0


def _raw_runner(backend: str, device_name: str) -> int:
    """The raw side: time ``create_shader_module`` for each source read from stdin."""
    adapter = next(
        a
        for a in wgpu.gpu.enumerate_adapters_sync()
        if a.info["backend_type"] == backend and a.info["device"] == device_name
    )
    device = adapter.request_device_sync(
        required_features=list(adapter.features), required_limits=dict(adapter.limits)
    )
    wgpu_log = logging.getLogger("wgpu")
    wgpu_log.addHandler(logging.NullHandler())
    wgpu_log.propagate = False
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    out.write(_SECONDS.pack(0.0))
    stdin = sys.stdin.buffer
    while header := stdin.read(_LENGTH.size):
        source = stdin.read(_LENGTH.unpack(header)[0]).decode()
        began = time.perf_counter()
        with contextlib.suppress(wgpu.GPUError):
            device.create_shader_module(code=source)
        out.write(_SECONDS.pack(time.perf_counter() - began))
    return 0


class _RawSide:
    """Client of :func:`_raw_runner` in a child process."""

    def __init__(self, backend: str, device_name: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--raw-runner", backend, device_name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
        )
        self._read()

    def _read(self) -> float:
        assert self.process.stdout is not None
        data = b""
        while len(data) < _SECONDS.size:
            chunk = self.process.stdout.read(_SECONDS.size - len(data))
            if not chunk:
                sys.exit("the raw wgpu process died")
            data += chunk
        return float(_SECONDS.unpack(data)[0])

    def __call__(self, source: str) -> float:
        """Seconds that ``create_shader_module`` took for ``source``."""
        assert self.process.stdin is not None
        encoded = source.encode()
        self.process.stdin.write(_LENGTH.pack(len(encoded)) + encoded)
        return self._read()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def _timed(call: Callable[[], object]) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def _measure(
    raw: Callable[[str], float],
    checked: Callable[[str], object],
    source: str,
    repeats: int,
    gap_s: float,
) -> tuple[float, float, float, float, float]:
    """Medians (ms) of raw, raw through the pipe and validator latency; median per-pair ratios
    of validator to raw and of validator to pipe."""
    raw_samples: list[float] = []
    pipe_samples: list[float] = []
    worker_samples: list[float] = []
    for _ in range(repeats):
        time.sleep(gap_s)
        began = time.perf_counter()
        raw_samples.append(raw(source))
        pipe_samples.append(time.perf_counter() - began)
        time.sleep(gap_s)
        worker_samples.append(_timed(lambda: checked(source)))
    pairs = list(zip(worker_samples, raw_samples, pipe_samples, strict=True))
    ratio = statistics.median(w / r for w, r, _ in pairs)
    vs_pipe = statistics.median(w / p for w, _, p in pairs)
    medians = _median_ms(raw_samples), _median_ms(pipe_samples), _median_ms(worker_samples)
    return *medians, ratio, vs_pipe


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--raw-runner"]:
        return _raw_runner(argv[1], argv[2])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=40, help="timed runs per shader and side")
    parser.add_argument(
        "--gap-ms", type=float, default=5.0, help="idle time before each call, as between edits"
    )
    args = parser.parse_args(argv)
    if not os.environ.get("XDG_RUNTIME_DIR"):  # lavapipe complains on stderr without one
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="validate-bench-")

    began = time.perf_counter()
    validator = Validator()
    validator.start()
    info = validator.adapter_info()
    startup = time.perf_counter() - began
    if info is None:
        sys.exit("no wgpu adapter: the validator could not start")
    raw = _RawSide(info.backend, info.device)

    cases = [
        ("100 lines", generated_shader(100)),
        ("1,000 lines", generated_shader(1000)),
        ("5,000 lines", generated_shader(5000)),
        ("1,000 lines, 1 error", generated_shader(1000, broken=True)),
    ]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"adapter: {info.label if info else 'none'}; worker start-up {startup:.2f} s")
    print(f"CPUs: {os.cpu_count()}; load average (1, 5, 15 min): {load}")
    print(
        f"median of {args.repeats} warm runs per cell, raw and validator alternating; "
        f"'spaced': {args.gap_ms:g} ms idle before each call (as between edits), "
        "'back-to-back': none\n"
    )
    spaced_title, packed_title = (
        "-" * 13 + " spaced " + "-" * 13,
        "-" * 9 + " back-to-back " + "-" * 11,
    )
    print(f"{'':<22}{'':>7}  {spaced_title:>36}  {packed_title:>36}")
    row = f"{'raw ms':>9}{'pipe ms':>9}{'valid. ms':>11}{'ratio':>7}"
    print(f"{'shader':<22}{'lines':>7}  {row}  {row}")
    ratios: dict[str, float] = {}
    own_code: dict[str, float] = {}
    for name, source in cases:
        result = validator.validate(source)
        assert result.valid == ("error" not in name), result.diagnostics
        raw(source)
        spaced = _measure(raw, validator.validate, source, args.repeats, args.gap_ms / 1000)
        packed = _measure(raw, validator.validate, source, args.repeats, 0.0)
        ratios[name] = spaced[3]
        own_code[name] = spaced[4]
        cells = "  ".join(
            f"{r:>9.2f}{p:>9.2f}{w:>11.2f}{q:>7.2f}" for r, p, w, q, _ in (spaced, packed)
        )
        print(f"{name:<22}{source.count(chr(10)) + 1:>7}  {cells}")

    print(
        "\nvalidator / pipe, spaced (what the validator's own code adds to a process boundary): "
        + ", ".join(f"{name} {value:.2f}" for name, value in own_code.items())
    )
    depth = 5000
    crash = f"fn f() -> i32 {{ return {'(' * depth}1{')' * depth}; }}\n"
    crash_s = _timed(lambda: validator.validate(crash))
    recover_s = _timed(lambda: validator.validate(cases[0][1]))
    print(f"crash on {depth} nested parentheses: {crash_s:.2f} s to the diagnostic, ", end="")
    print(f"{recover_s:.2f} s to the next verdict (fresh worker)")
    validator.close()
    raw.close()

    goal = ratios["1,000 lines"] <= 1.30
    print(f"goal (validator <= 1.30x raw at 1,000 lines, spaced): {'met' if goal else 'NOT met'}")
    return 0 if goal else 1


if __name__ == "__main__":
    sys.exit(main())
