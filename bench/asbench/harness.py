"""The asynchronous simulation the search-quality benchmarks share, and their
before/after runs against an earlier commit.

:func:`run_async` simulates the runner: ``ask(W)`` at the start fills ``W``
workers; whenever the earliest-finishing evaluation completes (random
durations, the same for every optimizer with the same seed) its result is told
and one new point is asked while the other ``W - 1`` are still pending, until
the budget is issued; then the rest finish.  :func:`baseline` runs a runner's
``--raw`` mode on the python/ tree of a git revision, in the same bench run.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from asbench import ROOT, bench_env
from asbench.problems.functions import FUNCTIONS
from async_search.optimizers import make_optimizer


class BenchProblem:
    """The part of async_search.problem.Problem that optimizers use."""

    def __init__(self, name, space):
        self.path, self.space, self.params = f"<{name}>", space, space.names


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


def available(names):
    """The optimizer names that can run here (skopt only when importable)."""
    out = []
    for name in names:
        if name == "skopt" and importlib.util.find_spec("skopt") is None:
            continue
        out.append(name)
    return out


def run_tasks(task, tasks, jobs):
    """``task`` over ``tasks``, in ``jobs`` processes when jobs > 1."""
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            return list(pool.map(task, tasks))
    return [task(t) for t in tasks]


def baseline(rev, module, args):
    """Raw results of ``python -m module args --raw`` run on the python/ tree of git
    revision ``rev``.

    The tree is extracted with ``git archive`` into a temporary directory that the
    child process imports async_search from (first on its PYTHONPATH), so "before"
    and "after" run on the same machine in the same bench run. Returns (label, results)."""
    short = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", rev],
                           capture_output=True, text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "python"],
                             capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=tar, check=True)
        env = bench_env(python_tree=f"{tmp}/python")
        out = subprocess.run([sys.executable, "-m", module, *args, "--raw"], env=env,
                             capture_output=True, text=True, check=True).stdout
    return f"default@{short}", json.loads(out)
