"""Many training-throughput settings on one CUDA GPU in one process: a table of tokens/s and MFU.

Each row is a name and the flags of ``benchmarks/train_bench.py`` (``--batch``,
``--tokens-per-batch``, ``--pad-tgt``, ``--compile``, ``--compile-mode``, ``--pad-vocab``, ...)
for one mode (``--compile eager`` or ``--compile compiled``). The real training pairs are
tokenised once and batched per row. Rows run in order until ``--deadline`` seconds have passed;
the table is printed after every row (so a run stopped early still reports) and written to
``--json``.

    PYTHONPATH=. python3 benchmarks/train_mfu_sweep.py --rows benchmarks/mfu_rows.txt \\
        --json out.json --profile-dir out/

A rows file holds one row a line, ``name: flags``; ``#`` starts a comment. ``--profile NAME``
in a row's flags writes that row's profiler table to ``--profile-dir``/NAME. On real batches
the warm-up is one pass over every sampled batch (each shape seen once, as from the second epoch
of training on) unless the row gives ``--warmup``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_bench as tb


def parse_rows(text: str) -> list[tuple[str, list[str]]]:
    rows = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, flags = line.partition(":")
            rows.append((name.strip(), shlex.split(flags)))
    return rows


def run_row(
    flags: list[str],
    data: dict[str, tb.RealData],
    device: torch.device,
    profile_dir: Path | None,
) -> tuple[dict[str, Any], str]:
    args = tb.build_parser().parse_args(["--device", "cuda", *flags])
    config = tb.resolve_config(args)
    if args.synthetic:
        work = tb.synthetic_workload(config, args)
    else:
        if args.config_path not in data:
            data[args.config_path] = tb.load_real_data(Path(args.config_path))
        work = tb.real_workload(config, args, data[args.config_path])
    compiled = args.compile == "compiled"
    warmup = tb.warmup_steps(args, work)  # real batches: every shape seen once before timing
    profile = profile_dir / args.profile.name if profile_dir and args.profile else None
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    r = tb.time_steps(
        work,
        device,
        warmup=warmup,
        steps=args.steps,
        options=tb.step_options(args, compiled),
        profile=profile,
    )
    return {"gpus": 1, **r}, work.description


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=Path, required=True, help="the rows file")
    parser.add_argument("--deadline", type=float, default=1e9, help="seconds; later rows skipped")
    parser.add_argument("--peak-tflops", type=float, default=tb.H100_BF16_DENSE_TFLOPS)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--profile-dir", type=Path)
    parser.add_argument("--cpu-check", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--only", help="comma-separated row names to run (default: all)")
    args = parser.parse_args()
    rows_spec = parse_rows(args.rows.read_text(encoding="utf-8"))
    if args.only:
        keep = set(args.only.split(","))
        rows_spec = [r for r in rows_spec if r[0] in keep]
    for _, flags in rows_spec:  # a mistyped row stops the run here, before any device time
        tb.build_parser().parse_args(["--device", "cuda", *flags])
    if args.cpu_check:  # the script's own logic, on a tiny model, where no GPU is
        device = torch.device("cpu")
        print(f"CPU logic check; torch {torch.__version__}", flush=True)
    elif not torch.cuda.is_available():
        sys.exit("error: PyTorch sees no CUDA GPU")
    else:
        device = torch.device("cuda", torch.cuda.current_device())
        torch.backends.cuda.matmul.allow_tf32 = True
        print(f"{torch.cuda.get_device_name(device)}; torch {torch.__version__}", flush=True)
    if args.profile_dir:
        args.profile_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    data: dict[str, tb.RealData] = {}
    done: list[dict[str, Any]] = []
    for name, flags in rows_spec:
        if time.perf_counter() - start > args.deadline:
            print(f"skipped (deadline): {name}", flush=True)
            continue
        t0 = time.perf_counter()
        try:
            r, description = run_row(flags, data, device, args.profile_dir)
        except Exception as exc:  # one failing setting must not lose the others' figures
            print(f"FAILED {name}: {type(exc).__name__}: {str(exc)[:300]}", flush=True)
            torch.cuda.empty_cache()
            continue
        r.update(name=name, flags=" ".join(flags), workload=description)
        r["row_s"] = time.perf_counter() - t0
        done.append(r)
        tb.finish_rows(done, args.peak_tflops)
        print(
            f"[{time.perf_counter() - start:.0f}s] {name}: {description}; warm-up "
            f"{r['warmup_s']:.1f}s, row {r['row_s']:.1f}s, peak {r['peak_mem_gib']:.1f} GiB",
            flush=True,
        )
        tb.print_table(done, mfu=True)
        if args.json:
            args.json.write_text(json.dumps(done, indent=2) + "\n", encoding="utf-8")
        torch.cuda.empty_cache()
    total = time.perf_counter() - start
    print(f"MFU against {args.peak_tflops:g} TFLOP/s dense bf16; total {total:.0f}s")


if __name__ == "__main__":
    main()
