"""Warm starts: cold start against warm starts from earlier runs (issue 30, docs/reuse.md).

Run::

    PYTHONPATH=python:bench nice /usr/bin/python3 -m asbench.runners.warm_start
    ... --quick                       (2 functions, 2 seeds: a smoke run)
    ... --functions branin,hartmann3 --seeds 10 --jobs 2

For each function and seed, in-process with the Python optimizer API (sequential
ask(1)/tell, the default optimizer with its defaults):

- two earlier runs of 20 evaluations (seed + 1000): one of the *same* problem,
  one of a *shifted* problem, the same space with ``2 f(u - 0.05) + 10`` (every
  coordinate moved by 5% of its range in the unit cube, the values doubled and
  raised: a new data set's version of the objective);
- then 30 new evaluations of the problem itself: ``cold`` (nothing reused),
  ``same`` (warm start from the same problem's run), ``same/transfer`` (the same,
  in the transfer mode), ``shifted`` (plain warm start from the shifted run) and
  ``shifted/transfer``.

Regret = best value among the *new* evaluations - the known minimum, after 10 and
after 30 of them. Targets: ``same`` at 10 reaches ``cold`` at 30 (median), and
``shifted/transfer`` is never worse than ``cold`` at 30 and better at 10. The
table (medians over the seeds) goes to stdout and build/bench/warm_start.md.
The functions are those of the quality bench (Branin, Hartmann3, Hartmann6,
Rosenbrock-4, Levy-6 and the TC1-like ``mixed``), defined here again so that
this runner stands alone.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from async_search.optimizers import make_optimizer

from asbench.problems import functions

SHIFT = 0.05          # the shifted problem: every unit coordinate moved by this
SCALE, OFFSET = 2.0, 10.0
SOURCE_EVALS = 20
CHECKS = (10, 30)
ARMS = ("cold", "same", "same/transfer", "shifted", "shifted/transfer")


# the quality bench's functions: name -> (function, space, known minimum)
FUNCTIONS = functions.FUNCTIONS


class BenchProblem:
    """The part of async_search.problem.Problem that optimizers use."""

    def __init__(self, name, space):
        self.path, self.space, self.params = f"<{name}>", space, space.names
        self.starting_point = None


def shifted(fn, space):
    """The related problem: the same space, inputs moved by SHIFT, values rescaled."""
    def g(p):
        u = np.clip(space.to_unit([p]) - SHIFT, 0.0, 1.0)
        return SCALE * fn(space.from_unit(u)[0]) + OFFSET
    return g


# -- runs ----------------------------------------------------------------------------------


def run(problem, fn, seed, evals, warm=None, mode="plain"):
    """Sequential ask(1)/tell for evals evaluations; returns (points, values)."""
    opt = make_optimizer(problem, "default", seed=seed, warm_start=warm, warm_start_mode=mode)
    points, values = [], []
    for _ in range(evals):
        p = opt.ask(1)[0]
        v = fn(p)
        opt.tell([p], [v])
        points.append(p)
        values.append(v)
    return points, values


def frame(points, values):
    return pd.DataFrame(points).assign(objective=values)


def one(args):
    """All arms of one function and seed: {arm: [regret after each CHECKS]}."""
    name, seed = args
    fn, space, fmin = FUNCTIONS[name]
    problem = BenchProblem(name, space)
    same = frame(*run(problem, fn, seed + 1000, SOURCE_EVALS))
    other = frame(*run(problem, shifted(fn, space), seed + 1000, SOURCE_EVALS))
    sources = {"cold": (None, "plain"), "same": (same, "plain"),
               "same/transfer": (same, "transfer"), "shifted": (other, "plain"),
               "shifted/transfer": (other, "transfer")}
    out = {}
    for arm, (warm, mode) in sources.items():
        _, values = run(problem, fn, seed, max(CHECKS), warm, mode)
        out[arm] = [min(values[:k]) - fmin for k in CHECKS]
    return name, seed, out


def fmt(x):
    if x == 0:
        return "0"
    if abs(x) >= 100 or abs(x) < 1e-3:
        return f"{x:.2e}"
    return f"{x:.4f}"


def table(results, functions):
    """Markdown: median regret per function and arm at each check, and the targets."""
    head = ["function"] + [f"{arm} @{k}" for arm in ARMS for k in CHECKS] + [
        "same@10 <= cold@30", "shifted/transfer: @30 <= cold, @10 < cold"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    held = {"same": 0, "transfer": 0}
    for name in functions:
        med = {arm: np.median([r[arm] for (n, _), r in results.items() if n == name], axis=0)
               for arm in ARMS}
        same_ok = med["same"][0] <= med["cold"][1]
        tr = med["shifted/transfer"]
        tr_ok = tr[1] <= med["cold"][1] and tr[0] < med["cold"][0]
        held["same"] += same_ok
        held["transfer"] += tr_ok
        cells = [fmt(med[arm][i]) for arm in ARMS for i in range(len(CHECKS))]
        lines.append("| " + " | ".join([name, *cells, "yes" if same_ok else "no",
                                        "yes" if tr_ok else "no"]) + " |")
    lines.append("")
    lines.append(f"targets held: same-problem {held['same']}/{len(functions)}, "
                 f"shifted with transfer {held['transfer']}/{len(functions)}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--functions", default=",".join(FUNCTIONS))
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=1, help="processes (one seed each)")
    ap.add_argument("--quick", action="store_true", help="branin and hartmann3, 2 seeds")
    ap.add_argument("--out", default=os.path.join("build", "bench", "warm_start.md"))
    args = ap.parse_args(argv)
    functions = ["branin", "hartmann3"] if args.quick else args.functions.split(",")
    unknown = [f for f in functions if f not in FUNCTIONS]
    if unknown:
        ap.error(f"unknown function(s) {unknown}; allowed: {', '.join(FUNCTIONS)}")
    seeds = range(2 if args.quick else args.seeds)
    tasks = [(f, s) for f in functions for s in seeds]
    t0 = time.perf_counter()
    done = []
    with ProcessPoolExecutor(max(1, args.jobs)) as pool:
        for name, seed, arms in pool.map(one, tasks):  # each as it ends: a long run shows
            done.append((name, seed, arms))
            print(name, seed, " ".join(f"{a}={fmt(r[0])}/{fmt(r[1])}" for a, r in arms.items()),
                  flush=True)
    results = {(n, s): r for n, s, r in done}
    text = (f"# Warm start: median regret over {len(seeds)} seeds (lower is better)\n\n"
            f"{table(results, functions)}\n\n"
            f"{SOURCE_EVALS}-evaluation earlier runs; regret of the new evaluations after "
            f"{' and '.join(map(str, CHECKS))}; took {time.perf_counter() - t0:.0f} s\n")
    print(text)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
