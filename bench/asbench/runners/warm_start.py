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
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from async_search.optimizers import make_optimizer
from async_search.space import Categorical, Integer, Real, Space

SHIFT = 0.05          # the shifted problem: every unit coordinate moved by this
SCALE, OFFSET = 2.0, 10.0
SOURCE_EVALS = 20
CHECKS = (10, 30)
ARMS = ("cold", "same", "same/transfer", "shifted", "shifted/transfer")


# -- the quality bench's functions ----------------------------------------------------------


def branin(p):
    x1, x2 = p["x1"], p["x2"]
    return ((x2 - 5.1 / (4 * math.pi ** 2) * x1 ** 2 + 5 / math.pi * x1 - 6) ** 2
            + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10)


_H3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_H3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470],
                         [1091, 8732, 5547], [381, 5743, 8828]])
_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886],
                         [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650],
                         [4047, 8828, 8732, 5743, 1091, 381]])
_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def _hartmann(x, A, P):
    return float(-np.sum(_H_ALPHA * np.exp(-np.sum(A * (x - P) ** 2, axis=1))))


def hartmann3(p):
    return _hartmann(np.array([p[f"x{i}"] for i in range(1, 4)]), _H3_A, _H3_P)


def hartmann6(p):
    return _hartmann(np.array([p[f"x{i}"] for i in range(1, 7)]), _H6_A, _H6_P)


def rosenbrock4(p):
    x = [p[f"x{i}"] for i in range(1, 5)]
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))


def levy6(p):
    w = 1 + (np.array([p[f"x{i}"] for i in range(1, 7)]) - 1) / 4
    return float(np.sin(np.pi * w[0]) ** 2
                 + np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(np.pi * w[:-1] + 1) ** 2))
                 + (w[-1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[-1]) ** 2))


CONVS = ("50 50 50 50 50 1", "25 25 25 25 25 1", "64 32 16 32 64 1",
         "100 100 100 100 100 1", "32 20 16 32 10 1")
OPTS = ("adam", "sgd", "rmsprop", "adagrad", "adadelta")
_OPT_BASE = {"adam": 0.0, "rmsprop": 0.05, "sgd": 0.12, "adagrad": 0.25, "adadelta": 0.4}
_OPT_LR = {"adam": -3.0, "rmsprop": -3.3, "sgd": -1.6, "adagrad": -2.0, "adadelta": -1.8}
_CONV_BASE = dict(zip(CONVS, (0.05, 0.12, 0.0, 0.03, 0.08)))
_CONV_DROP = dict(zip(CONVS, (0.3, 0.15, 0.35, 0.5, 0.2)))


def mixed(p):
    """TC1-like validation loss; the learning rate's optimum moves with optimizer and batch."""
    lr_opt = _OPT_LR[p["optimizer"]] + 0.15 * math.log2(p["batch_size"] / 64)
    d = math.log10(p["learning_rate"]) - lr_opt
    return (0.2 + _OPT_BASE[p["optimizer"]] + _CONV_BASE[p["conv"]]
            + 0.08 * d * d + 0.3 * max(d, 0.0) ** 2
            + 0.6 * (p["dropout"] - _CONV_DROP[p["conv"]]) ** 2
            + 0.01 * (math.log2(p["batch_size"]) - 6) ** 2
            + 0.0005 * (p["epochs"] - 12) ** 2)


def _box(n, low, high):
    return Space(tuple(f"x{i}" for i in range(1, n + 1)), tuple(Real(low, high) for _ in range(n)))


# name -> (function, space, known minimum)
FUNCTIONS = {
    "branin": (branin, Space(("x1", "x2"), (Real(-5.0, 10.0), Real(0.0, 15.0))), 0.397887357729738),
    "hartmann3": (hartmann3, _box(3, 0.0, 1.0), -3.86278214782076),
    "hartmann6": (hartmann6, _box(6, 0.0, 1.0), -3.32236801141551),
    "rosenbrock4": (rosenbrock4, _box(4, -5.0, 10.0), 0.0),
    "levy6": (levy6, _box(6, -10.0, 10.0), 0.0),
    "mixed": (mixed, Space(
        ("learning_rate", "dropout", "batch_size", "optimizer", "conv", "epochs"),
        (Real(1e-5, 1e-1, "log-uniform"), Real(0.0, 0.9),
         Categorical((16, 32, 64, 128, 256, 512)), Categorical(OPTS), Categorical(CONVS),
         Integer(2, 30))), 0.2),
}


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
