"""How well a stopper tells, at a decision step, the evaluations that could still
win from those that cannot, on kept replayed-TC1 experiments.

An evaluation "could win" at step s when its replayed final value (the curve
of its nearest measured point at the last step) is below the best final of the
evaluations completed when it reported step s.  A stopper that discriminates
stops a smaller share of those than of the others.  Steps with fewer than
``min_done`` completed evaluations are left out (the stopper's warm-up).

    PYTHONPATH=python:bench /usr/bin/python3 -m asbench.stopping.discrimination \\
        --keep DIR [DIR ...] --methods lce,asha

reads DIR/replay-METHOD-SEED/ (``early_stopping --part replay --keep DIR``).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from async_search import expfiles, load_problem
from asbench.runners import tc1_replay

Key = Tuple[int, bool, bool]  # (step, could win, stopped at this decision)


def _next_rung(step: int, steps: Sequence[int], last: int) -> int:
    later = [s for s in steps if s > step]
    return later[0] if later else last + 1


def count(exp_dir: Path, replay: tc1_replay.Replay, steps: Sequence[int], last_step: int,
          min_done: int = 5) -> Counter:
    """Counts of (step, could win, stopped there) over one kept experiment.
    "Stopped there": stopped after reporting ``step`` and before the next of
    ``steps`` (a stop acts a step or two after the decision)."""
    points = {job: json.loads(text)
              for job, text in expfiles.read_points(exp_dir / expfiles.POINTS).items()}
    reported: Dict[str, Dict[int, float]] = {}
    for c in expfiles.read_curves(exp_dir / expfiles.CURVES):
        reported.setdefault(c.job_id, {})[c.step] = c.timestamp
    frame = expfiles.load_results(exp_dir)
    ok = frame[frame[expfiles.STATUS] == expfiles.OK]
    done = sorted(zip(ok[expfiles.GATHER].astype(float), ok[expfiles.OBJECTIVE].astype(float)))
    out: Counter = Counter()
    for _, row in frame.iterrows():
        job = str(row[expfiles.JOB_ID])
        if job not in points:
            continue
        final = replay.value_at(points[job], last_step)
        stopped = row[expfiles.STATUS] == expfiles.STOPPED
        at = int(row[expfiles.STEPS]) if stopped else 0
        for s in steps:
            if s not in reported.get(job, {}):
                continue
            prior = [v for gathered, v in done if gathered <= reported[job][s]]
            if len(prior) < min_done:
                continue
            here = stopped and s <= at < _next_rung(s, steps, last_step)
            out[(s, final < min(prior), here)] += 1
    return out


def table(counts: Mapping[str, Counter], steps: Sequence[int]) -> str:
    """A markdown table: per method and step, the share stopped of each kind."""
    lines = ["| method | step | could win: reached | stopped there "
             "| cannot: reached | stopped there |",
             "|---|---:|---:|---:|---:|---:|"]
    for method, c in counts.items():
        for s in steps:
            cells: List[str] = []
            for win in (True, False):
                n = c[(s, win, True)] + c[(s, win, False)]
                share = f"{c[(s, win, True)] / n:.0%}" if n else "-"
                cells += [str(n), f"{c[(s, win, True)]} ({share})"]
            lines.append(f"| {method} | {s} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="asbench.stopping.discrimination",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", nargs="+", type=Path, required=True,
                        help="directories given to early_stopping --keep")
    parser.add_argument("--methods", required=True, help="comma-separated, e.g. lce,asha")
    parser.add_argument("--steps", default="1,3,9", help="the decision steps (the rungs)")
    parser.add_argument("--last-step", type=int, default=27)
    parser.add_argument("--curves", type=Path, default=tc1_replay.CURVES)
    args = parser.parse_args(argv)
    problem = load_problem(str(tc1_replay.PROBLEM))
    names = list(problem.space.names)
    replay = tc1_replay.Replay(tc1_replay.read_curves(args.curves, names), problem)
    steps = sorted(int(s) for s in args.steps.split(","))
    counts: Dict[str, Counter] = {}
    for method in args.methods.split(","):
        dirs = sorted(d for keep in args.keep for d in keep.glob(f"replay-{method}-[0-9]*"))
        if not dirs:
            parser.error(f"--keep: no replay-{method}-SEED experiment under "
                         + ", ".join(map(str, args.keep)))
        counts[method] = Counter()
        for d in dirs:
            counts[method] += count(d, replay, steps, args.last_step)
    print(table(counts, steps))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
