"""``python -m engine.datagen --seed 1337 --out data/``: rewrite the generated pair files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.datagen.generate import write_dataset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m engine.datagen",
        description="Write data/train/*.toml and data/heldout.toml from the pair generator.",
    )
    parser.add_argument("--seed", type=int, default=1337, help="random seed (default 1337)")
    parser.add_argument("--out", type=Path, default=Path("data"), help="output folder")
    args = parser.parse_args(argv)
    counts = write_dataset(args.out, args.seed)
    for name, n in counts.items():
        print(f"{n:6d}  {args.out / name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
