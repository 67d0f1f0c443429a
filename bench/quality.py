#!/usr/bin/python3
"""Search quality: median regret after a fixed budget, with asynchronous workers.

Usage::

    /usr/bin/python3 bench/quality.py          # the issue's setting: 60 evals, 4 workers, 10 seeds
    /usr/bin/python3 bench/quality.py --quick    # CI smoke run (2 functions, 2 seeds, 20 evals)
    /usr/bin/python3 bench/quality.py --functions branin,levy6 --optimizers default,optuna

Each run simulates the runner: ``ask(W)`` at the start fills ``W`` workers; whenever
the earliest-finishing evaluation completes (random durations, the same for every
optimizer with the same seed) its result is told and one new point is asked while
the other ``W - 1`` are still pending, until the budget is issued; then the rest
finish. Regret = best value found - the known minimum. Optimizers run with their
defaults (no ``init_size``), so Optuna is its stock TPE (10 random startup trials).

Functions: Branin (2-d), Hartmann3, Hartmann6, Rosenbrock-4 on [-5, 10]^4, Levy-6
on [-10, 10]^6, and ``mixed``: a TC1-like validation-loss surface over a
log-uniform learning rate, dropout, integer epochs and categorical optimizer,
conv layout and batch size (its minimum, 0.2, is known by construction).

Prints one markdown table: median regret per function and optimizer, the ratio
default/optuna, and whether the issue's target (ratio <= 0.5) holds; with
``--strict`` the exit status is 1 when it does not.
Run it with ``nice`` on a shared machine; ``--jobs`` runs seeds in processes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# ASYNC_SEARCH_PYTHON: another tree's python/ (the --baseline run of an earlier commit)
sys.path.insert(0, os.environ.get("ASYNC_SEARCH_PYTHON") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "python"))

from async_search.optimizers import make_optimizer  # noqa: E402
from async_search.space import Categorical, Integer, Real, Space  # noqa: E402

# -- test functions -------------------------------------------------------------------


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


# -- the asynchronous simulation -----------------------------------------------------


def simulate(function, optimizer, seed, evals, workers, settings=None):
    """One run of a function of FUNCTIONS; returns (regret, seconds spent in ask+tell)."""
    fn, space, fmin = FUNCTIONS[function]
    return run_async(function, fn, space, fmin, optimizer, seed, evals, workers, settings)


def run_async(name, fn, space, fmin, optimizer, seed, evals, workers, settings=None):
    """One asynchronous run of ``fn`` over ``space``; returns (regret, seconds in ask+tell).

    ``settings``: {optimizer: {setting: value}} for the optimizer's constructor."""
    opt = make_optimizer(BenchProblem(name, space), optimizer, seed=seed,
                         **(settings or {}).get(optimizer, {}))
    durations = np.random.default_rng(10_000 + seed)  # same for every optimizer
    clock, running, best, spent, issued = 0.0, [], math.inf, 0.0, 0
    t = time.perf_counter()
    first = opt.ask(min(workers, evals))
    spent += time.perf_counter() - t
    for p in first:
        running.append((clock + durations.uniform(0.5, 1.5), issued, p))
        issued += 1
    while running:
        running.sort(key=lambda r: (r[0], r[1]))
        clock, _, point = running.pop(0)
        value = fn(point)
        best = min(best, value)
        t = time.perf_counter()
        opt.tell([point], [value])
        new = opt.ask(1) if issued < evals else []
        spent += time.perf_counter() - t
        for p in new:
            running.append((clock + durations.uniform(0.5, 1.5), issued, p))
            issued += 1
    return best - fmin, spent


def _task(args):
    function, optimizer, seed, evals, workers, settings = args
    return (function, optimizer, seed) + simulate(function, optimizer, seed, evals, workers,
                                                  settings)


def available(names):
    out = []
    for name in names:
        if name == "skopt" and importlib.util.find_spec("skopt") is None:
            continue
        out.append(name)
    return out


def fmt(x):
    if x == 0:
        return "0"
    if abs(x) >= 100 or abs(x) < 1e-3:
        return f"{x:.2e}"
    return f"{x:.4f}"


def run_tasks(task, tasks, jobs):
    """``task`` over ``tasks``, in ``jobs`` processes when jobs > 1."""
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            return list(pool.map(task, tasks))
    return [task(t) for t in tasks]


def baseline(rev, script, args):
    """Raw results of ``script args --raw`` run on the python/ tree of git revision ``rev``.

    The tree is extracted with ``git archive`` into a temporary directory that the
    child process imports async_search from (ASYNC_SEARCH_PYTHON), so "before" and
    "after" run on the same machine in the same bench run. Returns (label, results)."""
    short = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", rev], capture_output=True,
                           text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        tar = subprocess.run(["git", "-C", ROOT, "archive", rev, "python"], capture_output=True,
                             check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=tar, check=True)
        env = dict(os.environ, ASYNC_SEARCH_PYTHON=os.path.join(tmp, "python"))
        out = subprocess.run([sys.executable, script, *args, "--raw"], env=env,
                             capture_output=True, text=True, check=True).stdout
    return f"default@{short}", json.loads(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="CI smoke run: 2 functions, 2 seeds, 20 evals")
    ap.add_argument("--functions", default=",".join(FUNCTIONS))
    ap.add_argument("--optimizers", default="default,optuna,random,original,skopt",
                    help="comma-separated; skopt is skipped when not importable")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--evals", type=int, default=60)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=1, help="processes running seeds in parallel")
    ap.add_argument("--strict", action="store_true",
                    help="exit 1 when default/optuna > 0.5 on some function")
    ap.add_argument("--settings", default="{}",
                    help='JSON {optimizer: {setting: value}}, e.g. \'{"default": {"acq": "lcb"}}\'')
    ap.add_argument("--baseline", metavar="REV",
                    help="also run the default optimizer of git revision REV (before/after)")
    ap.add_argument("--raw", action="store_true", help=argparse.SUPPRESS)  # JSON results out
    args = ap.parse_args(argv)
    functions = args.functions.split(",")
    optimizers = available(args.optimizers.split(","))
    if args.quick:
        functions, args.seeds, args.evals = ["branin", "mixed"], 2, 20
        optimizers = [o for o in optimizers if o != "original"]
    unknown = [f for f in functions if f not in FUNCTIONS]
    if unknown:
        ap.error(f"unknown function {unknown[0]!r}; allowed: {', '.join(FUNCTIONS)}")
    settings = json.loads(args.settings)
    tasks = [(f, o, s, args.evals, args.workers, settings)
             for f in functions for o in optimizers for s in range(args.seeds)]
    t0 = time.time()
    before = None
    results = []
    if args.baseline and not args.raw:
        before, results = baseline(args.baseline, os.path.abspath(__file__), [
            "--functions", ",".join(functions), "--optimizers", "default", "--seeds",
            str(args.seeds), "--evals", str(args.evals), "--workers", str(args.workers),
            "--jobs", str(args.jobs)])
        results = [(f, before, s, r, sec) for f, _, s, r, sec in results]
    results += run_tasks(_task, tasks, args.jobs)
    if args.raw:
        json.dump(results, sys.stdout)
        return 0
    if before:
        optimizers.insert(optimizers.index("default") + 1 if "default" in optimizers else 0,
                          before)
    regret = {}
    spent = {}
    for f, o, s, r, sec in results:
        regret.setdefault((f, o), []).append(r)
        spent.setdefault(o, []).append(sec)

    head = ["function"] + optimizers
    both = "default" in optimizers and "optuna" in optimizers
    if both:
        head += ["default/optuna", "target <= 0.5"]
    if before and "default" in optimizers:
        head += [f"default/{before}"]
    print(f"Median regret after {args.evals} evaluations, {args.workers} asynchronous workers, "
          f"{args.seeds} seeds (lower is better)\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
    met = True
    for f in functions:
        med = {o: float(np.median(regret[(f, o)])) for o in optimizers}
        row = [f] + [fmt(med[o]) for o in optimizers]
        if both:
            ratio = ratio_of(med["default"], med["optuna"])
            ok = ratio <= 0.5
            met &= ok
            row += [f"{ratio:.3g}", "yes" if ok else "**no**"]
        if before and "default" in optimizers:
            row += [f"{ratio_of(med['default'], med[before]):.3g}"]
        print("| " + " | ".join(row) + " |")
    print()
    print("Optimizer time per run (ask+tell, mean s): " + ", ".join(
        f"{o} {np.mean(spent[o]):.2f}" for o in optimizers))
    print(f"Total wall time {time.time() - t0:.0f} s; jobs={args.jobs}; load average at the end "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    if both:
        print(f"Target (default <= half of Optuna's median regret on every function): "
              f"{'met' if met else 'MISSED'}")
    return 1 if args.strict and not met else 0


def ratio_of(a, b):
    """a / b for regrets, 0 when both are 0 and inf when only b is."""
    if b > 0:
        return a / b
    return 0.0 if a == 0 else math.inf


if __name__ == "__main__":
    sys.exit(main())
