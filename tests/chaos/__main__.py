"""`python -m tests.chaos --schedules 1000 --seed 1 --json benchmarks/results/chaos.json`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tests.chaos.runner import run_parallel
from tests.chaos.schedule import ALL_KINDS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--seed", type=int, default=1, help="first schedule's seed (schedules use seed, seed+1, ...)")
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--kinds", default=",".join(ALL_KINDS), help="comma-separated fault kinds to draw from")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--workers", type=int, default=2, help="processes (schedules are split between them)")
    parser.add_argument("--verbose", action="store_true", help="print every schedule and what each run did")
    args = parser.parse_args(argv)
    kinds = tuple(k for k in args.kinds.split(",") if k)
    unknown = sorted(set(kinds) - set(ALL_KINDS))
    if unknown:
        parser.error(f"unknown fault kinds {unknown}; known: {', '.join(ALL_KINDS)}")
    result = run_parallel(args.seed, args.schedules, kinds=kinds, workers=args.workers, verbose=args.verbose)
    figures = result.as_json()
    print(json.dumps({k: figures[k] for k in ("schedules", "violations", "seed", "wall_s")}))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    return 1 if result.violations else 0


if __name__ == "__main__":
    sys.exit(main())
