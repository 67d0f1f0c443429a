"""Batches: what ask(n) costs per point as n grows, and the quality of batch search.

Usage::

    python -m asbench.runners.batch                    # both tables
    python -m asbench.runners.batch --quick            # CI smoke run
    python -m asbench.runners.batch --baseline f73c0ca # with an earlier commit's default

1. Cost. The 8-dimension mixed space of asbench/problems/problem_mixed8.py (4 categorical
   dimensions). An optimizer is told N random points (N = 150: the GP; N = 5000:
   trees) and asked one point (untimed: it fits the model); then ``ask(n)`` is timed
   three times in a row, each batch left pending (as the manager's buffer leaves
   them), and the median is shown with its cost per point.
2. Quality. Batch search: rounds of ``ask(n)`` then ``tell`` of all n results, on
   Hartmann6 and the TC1-like ``mixed`` function of asbench/problems/functions.py; median regret
   over the seeds after the given rounds, with the time the optimizer took.

With ``--baseline REV`` the default optimizer of git revision REV runs the same
measurements in the same bench run (asbench.harness.baseline), so both tables
show before and after side by side.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time

import numpy as np

from asbench import PROBLEMS
from asbench.harness import BenchProblem, baseline
from asbench.problems.functions import FUNCTIONS
from asbench.reporting import fmt_value, machine_line, md_row, md_rule
from async_search.optimizers import make_optimizer
from async_search.problem import load_problem
from async_search.simulate import default_objective

SPACE_FILE = str(PROBLEMS / "problem_mixed8.py")
COST = {150: (1, 4, 16, 64, 256), 5000: (1, 16, 64, 256, 1024)}
QUICK_COST = {150: (1, 16, 64), 2000: (1, 64, 256)}
QUALITY = (("hartmann6", 16, 8), ("hartmann6", 64, 5), ("mixed", 16, 5), ("mixed", 64, 4),
           ("hartmann6", 256, 4))
QUICK_QUALITY = (("mixed", 16, 3),)
REPEATS = 3


def cost(n_told, n, seed=0):
    """Median seconds of ask(n) (three in a row, pending) after ``n_told`` random results."""
    problem = load_problem(SPACE_FILE)
    objective = default_objective(problem)
    opt = make_optimizer(problem, "default", seed=seed, init_size=4)
    points = problem.space.sample(n_told, np.random.default_rng(1000 + n_told))
    opt.tell(points, objective(points))
    first = opt.ask(1)
    opt.tell(first, objective(first))
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        got = opt.ask(n)
        times.append(time.perf_counter() - t)
        assert len(got) == n
    return statistics.median(times)


def batch_quality(function, n, rounds, seed):
    """Regret after ``rounds`` of ask(n) + tell, and the optimizer's seconds."""
    fn, space, fmin = FUNCTIONS[function]
    opt = make_optimizer(BenchProblem(function, space), "default", seed=seed)
    best, spent = math.inf, 0.0
    for _ in range(rounds):
        t = time.perf_counter()
        points = opt.ask(n)
        spent += time.perf_counter() - t
        values = [fn(p) for p in points]
        best = min(best, *values)
        t = time.perf_counter()
        opt.tell(points, values)
        spent += time.perf_counter() - t
    return best - fmin, spent


def measure(cost_plan, quality_plan, seeds):
    out = {"cost": [], "quality": []}
    for n_told, sizes in cost_plan.items():
        for n in sizes:
            out["cost"].append((n_told, n, cost(n_told, n)))
    for function, n, rounds in quality_plan:
        runs = [batch_quality(function, n, rounds, s) for s in range(seeds)]
        out["quality"].append((function, n, rounds, [r for r, _ in runs],
                               float(np.mean([t for _, t in runs]))))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="CI smoke run")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--baseline", metavar="REV",
                    help="also measure the default optimizer of git revision REV")
    ap.add_argument("--raw", action="store_true", help=argparse.SUPPRESS)  # JSON results out
    args = ap.parse_args(argv)
    cost_plan = QUICK_COST if args.quick else COST
    quality_plan = QUICK_QUALITY if args.quick else QUALITY
    if args.quick:
        args.seeds = 2
    t0 = time.time()
    before = None
    if args.baseline and not args.raw:
        child = ["--seeds", str(args.seeds)] + (["--quick"] if args.quick else [])
        before, old = baseline(args.baseline, "asbench.runners.batch", child)
    new = measure({k: v for k, v in cost_plan.items()}, quality_plan, args.seeds)
    if args.raw:
        json.dump(new, sys.stdout)
        return 0
    cols = ["default"] + ([before] if before else [])
    print("### ask(n) cost on the 8-dimension mixed space (4 categorical), batches pending\n")
    head = ["told N", "model", "n"]
    for c in cols:
        head += [f"{c}: ask(n) s", f"{c}: ms per point"]
    print(md_row(head))
    print(md_rule(len(head), left=0))
    for i, (n_told, n, sec) in enumerate(new["cost"]):
        row = [str(n_told), "GP" if n_told <= 200 else "trees", str(n), f"{sec:.3f}",
               f"{1000 * sec / n:.2f}"]
        if before:
            _, _, old_sec = old["cost"][i]
            row += [f"{old_sec:.3f}", f"{1000 * old_sec / n:.2f}"]
        print(md_row(row))
    print(f"\n### Batch search: median regret over {args.seeds} seeds after rounds of ask(n) "
          f"+ tell(n)\n")
    head = ["function", "n", "rounds"]
    for c in cols:
        head += [f"{c}: regret", f"{c}: optimizer s"]
    print(md_row(head))
    print(md_rule(len(head)))
    for i, (function, n, rounds, regrets, spent) in enumerate(new["quality"]):
        row = [function, str(n), str(rounds), fmt_value(float(np.median(regrets))), f"{spent:.2f}"]
        if before:
            old_regrets, old_spent = old["quality"][i][3], old["quality"][i][4]
            row += [fmt_value(float(np.median(old_regrets))), f"{old_spent:.2f}"]
        print(md_row(row))
    print("\n" + machine_line(t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
