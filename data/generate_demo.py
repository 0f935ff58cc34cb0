"""Write the demo company's files to a folder, to look at or to import with
the CLI:

    .venv/bin/python data/generate_demo.py [--out data/demo] [--end YYYY-MM-DD] [--seed N]
    .venv/bin/python -m kpi_logic import data/demo/*

The same end date and seed always give the same files.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from anywhere

from kpi_logic.demo.company import DEMO_SEED, demo_files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "demo"))
    parser.add_argument("--end", type=date.fromisoformat, default=None,
                        help="last day of history (default yesterday)")
    parser.add_argument("--seed", type=int, default=DEMO_SEED)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for content, name in demo_files(args.end, args.seed):
        (out / name).write_bytes(content)
        print(f"{out / name}  ({len(content):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
