"""Validator latency against raw wgpu ``create_shader_module``, measured in the same run.

    .venv/bin/python benchmarks/validate_bench.py [--repeats 30]

Both sides use the same adapter (the one the validator picks) with the same features and limits.
The raw side calls ``device.create_shader_module`` in this process; the validator side calls
``Validator.validate`` (worker process, pipe round trip, diagnostics parsing). Both are warm:
the worker has started and each shader was checked once before timing. Measurements alternate
between the two sides so that load from other processes hits both alike; the table shows each
side's median and the median of the per-pair ratios (robust when the machine is shared).
Goal: the worker adds no more than 30% at 1,000 lines.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

import wgpu

from engine.validator import Validator

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


def _raw_device(validator: Validator) -> wgpu.GPUDevice:
    info = validator.adapter_info()
    if info is None:
        sys.exit("no wgpu adapter: the validator could not start")
    adapter = next(
        a
        for a in wgpu.gpu.enumerate_adapters_sync()
        if a.info["backend_type"] == info.backend and a.info["device"] == info.device
    )
    return adapter.request_device_sync(
        required_features=list(adapter.features), required_limits=dict(adapter.limits)
    )


def _timed(call: Callable[[], object]) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def _measure(
    raw: Callable[[str], object],
    checked: Callable[[str], object],
    source: str,
    repeats: int,
    gap_s: float,
) -> tuple[float, float, float]:
    """Medians (ms) of raw and validator latency, and the median of per-pair ratios."""
    raw_samples: list[float] = []
    worker_samples: list[float] = []
    for _ in range(repeats):
        time.sleep(gap_s)
        raw_samples.append(_timed(lambda: raw(source)))
        time.sleep(gap_s)
        worker_samples.append(_timed(lambda: checked(source)))
    ratio = statistics.median(w / r for w, r in zip(worker_samples, raw_samples, strict=True))
    return _median_ms(raw_samples), _median_ms(worker_samples), ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=40, help="timed runs per shader and side")
    parser.add_argument(
        "--gap-ms", type=float, default=5.0, help="idle time before each call, as between edits"
    )
    args = parser.parse_args(argv)
    if not os.environ.get("XDG_RUNTIME_DIR"):  # lavapipe complains on stderr without one
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="validate-bench-")
    # naga logs each rejected module through wgpu's logger; the worker's copy goes to a pipe.
    wgpu_log = logging.getLogger("wgpu")
    wgpu_log.addHandler(logging.NullHandler())
    wgpu_log.propagate = False

    began = time.perf_counter()
    validator = Validator()
    validator.start()
    info = validator.adapter_info()
    startup = time.perf_counter() - began
    device = _raw_device(validator)

    def raw(source: str) -> None:
        with contextlib.suppress(wgpu.GPUError):
            device.create_shader_module(code=source)

    cases = [
        ("100 lines", generated_shader(100)),
        ("1,000 lines", generated_shader(1000)),
        ("5,000 lines", generated_shader(5000)),
        ("1,000 lines, 1 error", generated_shader(1000, broken=True)),
    ]
    print(f"adapter: {info.label if info else 'none'}; worker start-up {startup:.2f} s")
    print(
        f"median of {args.repeats} warm runs per cell, raw and validator alternating; "
        f"'spaced': {args.gap_ms:g} ms idle before each call (as between edits), "
        "'back-to-back': none\n"
    )
    print(f"{'':<22}{'':>7}{'--------- spaced ---------':>29}{'------ back-to-back ------':>29}")
    row = f"{'raw ms':>10}{'valid. ms':>11}{'ratio':>8}"
    print(f"{'shader':<22}{'lines':>7}  {row}  {row}")
    ratios: dict[str, float] = {}
    for name, source in cases:
        result = validator.validate(source)
        assert result.valid == ("error" not in name), result.diagnostics
        raw(source)
        spaced = _measure(raw, validator.validate, source, args.repeats, args.gap_ms / 1000)
        packed = _measure(raw, validator.validate, source, args.repeats, 0.0)
        ratios[name] = spaced[2]
        cells = "  ".join(f"{r:>10.2f}{w:>11.2f}{q:>8.2f}" for r, w, q in (spaced, packed))
        print(f"{name:<22}{source.count(chr(10)) + 1:>7}  {cells}")

    depth = 5000
    crash = f"fn f() -> i32 {{ return {'(' * depth}1{')' * depth}; }}\n"
    crash_s = _timed(lambda: validator.validate(crash))
    recover_s = _timed(lambda: validator.validate(cases[0][1]))
    print(f"\ncrash on {depth} nested parentheses: {crash_s:.2f} s to the diagnostic, ", end="")
    print(f"{recover_s:.2f} s to the next verdict (fresh worker)")
    validator.close()

    goal = ratios["1,000 lines"] <= 1.30
    print(f"goal (validator <= 1.30x raw at 1,000 lines, spaced): {'met' if goal else 'NOT met'}")
    return 0 if goal else 1


if __name__ == "__main__":
    sys.exit(main())
