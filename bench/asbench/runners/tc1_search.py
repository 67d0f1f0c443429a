"""TC1 on its real offline data: search quality of the optimizers, and the cost of one evaluation.

Usage (from the project root, after ``make data``)::

    nice python -m asbench.runners.tc1_search          # 3 seeds, 40 evaluations, 3 optimizers
    nice python -m asbench.runners.tc1_search --quick  # smoke run: 1 seed, 10 evaluations
    python -m asbench.runners.tc1_search --problem problems/as_problem.py --features 0 --epochs 0

Part 1, the time split of one evaluation: ``--split-runs`` TC1 evaluations with
the demo defaults (``tc1_default_model.txt``), each a real process
``python3 -m async_search.runner tc1 PARAMS`` as the worker starts it, split
into interpreter start, model import (torch), data loading, network build,
training, and the rest (from the runner's and the model's timing lines).

Part 2, search quality: for each optimizer (``default``, ``optuna``, ``random``,
built by ``async_search.make_optimizer(problem, name, seed=seed)``) and seed,
an asynchronous search as the manager runs it: ``ask(W)`` fills ``W`` workers,
and each time the earliest-finishing evaluation completes its value is told and
one new point asked, until the budget is spent.  The clock is simulated from
each evaluation's measured training time, so the order of results is what W
real workers would see, while the evaluations themselves run one after the
other in this process (``tc1.run`` called directly: no per-evaluation start-up,
which part 1 measures separately).  The objective is the runner's: last
epoch's val_loss; an evaluation that fails (e.g. diverged training) is told as
a failure (None).

TC1's weights are seeded by its ``rng_seed`` (fixed), so an evaluation is a
deterministic function of its parameters: a point asked again (by another
optimizer or seed) is taken from a cache instead of trained again.  The
default search space is ``problems/as_problem.py`` (dropout,
epochs 2-3, learning rate, conv layout, optimizer, batch size) on all 12,625
genes (``--features 0``): its strided conv layouts were written for CANDLE's
60,483 features, and 2-3 epochs keep one evaluation around a second.

Prints markdown tables (best val_loss after each budget: mean, std, per seed;
failures; optimizer time) and writes them with the raw numbers to
``build/bench/raw/tc1_search.{md,json}``.  Run it with ``nice`` on a shared
machine: the full run takes about 15-25 minutes on one core.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import io
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from asbench import OUT_DIR, PROBLEMS, ROOT
from asbench.reporting import fmt_fixed
from async_search import load_problem, make_optimizer, runner

TC1_DEFAULTS = ROOT / "python" / "async_search" / "benchmarks" / "tc1_default_model.txt"
RESULTS_DIR = OUT_DIR / "raw"
FULL = {"seeds": [0, 1, 2], "budgets": [20, 40], "split_runs": 3}
QUICK = {"seeds": [0], "budgets": [5, 10], "split_runs": 1}
OPTIMIZERS = ("default", "optuna", "random")
WORKERS = 3


# --------------------------------------------------------------- part 1: split

_TIMING = {
    "runner": re.compile(r"runner: timing import_s=([\d.]+) run_s=([\d.]+) total_s=([\d.]+)"),
    "data": re.compile(r"; loaded in ([\d.]+) s"),
    "model": re.compile(r"timing: build ([\d.]+) s, train ([\d.]+) s"),
}


def time_split(runs: int, params: Dict[str, Any], data_dir: Optional[str]) -> Dict[str, Any]:
    """Run TC1 through the runner ``runs`` times; mean seconds per part."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    if data_dir:
        env["CANDLE_DATA_DIR"] = data_dir
    parts: List[Dict[str, float]] = []
    workdir = RESULTS_DIR / "split_run"
    workdir.mkdir(parents=True, exist_ok=True)
    for i in range(runs):
        t0 = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "async_search.runner", "tc1",
                               json.dumps(params)], cwd=workdir, env=env,
                              capture_output=True, text=True, timeout=600)
        wall = time.monotonic() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"TC1 evaluation failed (exit {proc.returncode}):\n"
                               f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        found = {k: rx.search(proc.stdout) for k, rx in _TIMING.items()}
        if not all(found.values()):
            raise RuntimeError("timing lines missing from the runner's output:\n" + proc.stdout)
        import_s, run_s, total_s = map(float, found["runner"].groups())
        data_s = float(found["data"].group(1))
        build_s, train_s = map(float, found["model"].groups())
        value = float(proc.stdout.strip().splitlines()[-1].split()[1])
        parts.append({
            "wall": wall,
            "interpreter_start": wall - total_s,
            "model_import": import_s,
            "data_load": data_s,
            "build": build_s,
            "train": train_s,
            "other": max(total_s - import_s - data_s - build_s - train_s, 0.0),
            "val_loss": value,
        })
        print(f"  split run {i + 1}/{runs}: wall {wall:.2f} s, train {train_s:.2f} s, "
              f"val_loss {value:.4f}", flush=True)
    mean = {k: statistics.fmean(p[k] for p in parts) for k in parts[0]}
    return {"runs": parts, "mean": mean, "params": params}


# ------------------------------------------------------------ part 2: search

class Evaluator:
    """TC1 in this process, cached by parameters (training is deterministic)."""

    def __init__(self, model_settings: Dict[str, Any]):
        from async_search.benchmarks import tc1  # torch: imported once, here
        self._tc1 = tc1
        # the bench's settings replace the file's defaults; searched parameters override both
        self._defaults = {**runner.read_default_model(TC1_DEFAULTS), **model_settings}
        self._extra = {"timeout": -1, "output_dir": None, "run_id": "bench",
                       "experiment_id": "bench"}
        self.cache: Dict[str, Tuple[Optional[float], float, str]] = {}
        self.trained = 0
        self.hits = 0
        self.train_seconds = 0.0

    def __call__(self, point: Dict[str, Any]) -> Tuple[Optional[float], float]:
        key = json.dumps(point, sort_keys=True)
        if key in self.cache:
            self.hits += 1
            value, seconds, _ = self.cache[key]
            return value, seconds
        params = runner.merge_params(self._defaults, point, self._extra)
        t0 = time.monotonic()
        error = ""
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                history = self._tc1.run(params)
            value: Optional[float] = runner.objective_from_history(history)
        except (runner.ObjectiveError, ValueError, RuntimeError) as exc:
            value, error = None, f"{type(exc).__name__}: {exc}"
        seconds = time.monotonic() - t0
        self.trained += 1
        self.train_seconds += seconds
        self.cache[key] = (value, seconds, error)
        return value, seconds


def search(problem, name: str, seed: int, budget: int, workers: int,
           evaluate: Evaluator) -> Dict[str, Any]:
    """One asynchronous search; returns the best-so-far trace by results told."""
    t0 = time.monotonic()
    optimizer = make_optimizer(problem, name, seed=seed)
    opt_seconds = time.monotonic() - t0
    heap: List[Tuple[float, int, Dict[str, Any], Optional[float]]] = []
    issued = 0

    def submit(point, start):
        nonlocal issued
        value, seconds = evaluate(point)
        heapq.heappush(heap, (start + seconds, issued, point, value))
        issued += 1

    t0 = time.monotonic()
    first = optimizer.ask(min(workers, budget))
    opt_seconds += time.monotonic() - t0
    for point in first:
        submit(point, 0.0)
    best = math.inf
    trace: List[float] = []
    failures = 0
    best_point: Optional[Dict[str, Any]] = None
    clock = 0.0
    while heap:
        clock, _, point, value = heapq.heappop(heap)
        t0 = time.monotonic()
        optimizer.tell([point], [value])
        if issued < budget:
            (new,) = optimizer.ask(1)
        else:
            new = None
        opt_seconds += time.monotonic() - t0
        if value is None:
            failures += 1
        elif value < best:
            best, best_point = value, point
        trace.append(best)
        if new is not None:
            submit(new, clock)
    return {"trace": trace, "failures": failures, "optimizer_s": opt_seconds,
            "best_point": best_point, "simulated_wall_s": clock}


# ------------------------------------------------------------------ report

def _fmt(x: float) -> str:
    return fmt_fixed(x, inf="-")


def report(split: Optional[Dict[str, Any]], results: Dict[str, Dict[int, Dict[str, Any]]],
           budgets: Sequence[int], settings: Dict[str, Any],
           skipped: Dict[str, str]) -> str:
    lines: List[str] = []
    if split:
        m = split["mean"]
        lines += [
            f"### One TC1 evaluation, demo defaults, through the runner "
            f"(mean of {len(split['runs'])})",
            "",
            "| part | seconds | share |",
            "|---|---|---|",
        ]
        for key in ("interpreter_start", "model_import", "data_load", "build", "train", "other"):
            lines.append(f"| {key.replace('_', ' ')} | {m[key]:.2f} | "
                         f"{100 * m[key] / m['wall']:.0f}% |")
        startup = m["interpreter_start"] + m["model_import"]
        lines += [f"| **wall** | **{m['wall']:.2f}** | 100% |", "",
                  f"start-up (interpreter + imports): {startup:.2f} s; "
                  f"training: {m['train']:.2f} s; val_loss {m['val_loss']:.4f}", ""]
    lines += [
        f"### Best val_loss found on TC1 ({settings['problem']}, "
        f"feature_subsample {settings['features']}, epochs {settings['epochs']} unless searched, "
        f"{settings['workers']} simulated workers)",
        "",
        "Lower is better; mean +- std over seeds, then each seed.",
        "",
        "| optimizer | " + " | ".join(f"after {b}" for b in budgets)
        + " | failures | optimizer s/run |",
        "|---|" + "---|" * (len(budgets) + 2),
    ]
    for name, runs in results.items():
        cells = []
        for b in budgets:
            vals = [r["trace"][b - 1] for r in runs.values() if len(r["trace"]) >= b]
            finite = [v for v in vals if math.isfinite(v)]
            mean = statistics.fmean(finite) if finite else math.inf
            std = statistics.pstdev(finite) if len(finite) > 1 else 0.0
            cells.append(f"{_fmt(mean)} +- {std:.4f} ({', '.join(_fmt(v) for v in vals)})")
        fails = sum(r["failures"] for r in runs.values())
        opt_s = statistics.fmean(r["optimizer_s"] for r in runs.values())
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {fails} | {opt_s:.1f} |")
    for name, why in skipped.items():
        lines.append(f"| {name} | skipped: {why} |")
    lines.append("")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, budgets 5 and 10")
    parser.add_argument("--problem", default=str(PROBLEMS / "problem_tc1_bench.py"),
                        help="search space file (e.g. problems/as_problem.py)")
    parser.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    parser.add_argument("--seeds", help="comma-separated optimizer seeds")
    parser.add_argument("--budgets", help="comma-separated numbers of evaluations")
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--features", type=int, default=200,
                        help="TC1 feature_subsample in the search (0: all 12,625 genes)")
    parser.add_argument("--epochs", type=int, default=15,
                        help="TC1 epochs unless searched (0: the default file's)")
    parser.add_argument("--split-runs", type=int, default=None,
                        help="runner processes for the time split (0: skip)")
    parser.add_argument("--data-dir", help="CANDLE_DATA_DIR (default: the project's data/)")
    parser.add_argument("--out", default=str(RESULTS_DIR / "tc1_search"),
                        help="write OUT.md and OUT.json")
    args = parser.parse_args(argv)

    base = QUICK if args.quick else FULL
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else base["seeds"]
    budgets = sorted(int(b) for b in args.budgets.split(",")) if args.budgets else base["budgets"]
    features = args.features
    split_runs = base["split_runs"] if args.split_runs is None else args.split_runs
    if args.data_dir:
        os.environ["CANDLE_DATA_DIR"] = args.data_dir
    names = [n for n in args.optimizers.split(",") if n]
    settings = {"problem": os.path.relpath(args.problem, ROOT), "features": features,
                "epochs": args.epochs or "default file",
                "workers": args.workers, "seeds": seeds, "budgets": budgets,
                "optimizers": names, "quick": args.quick}
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)

    split = None
    if split_runs > 0:
        print(f"part 1: time split of {split_runs} TC1 evaluation(s) through the runner",
              flush=True)
        split = time_split(split_runs, {}, args.data_dir)

    problem = load_problem(args.problem)
    model_settings: Dict[str, Any] = {"feature_subsample": features}
    if args.epochs:
        model_settings["epochs"] = args.epochs
    evaluate = Evaluator(model_settings)
    results: Dict[str, Dict[int, Dict[str, Any]]] = {}
    skipped: Dict[str, str] = {}
    t_start = time.monotonic()
    print(f"part 2: {len(names)} optimizers x {len(seeds)} seeds x {budgets[-1]} evaluations "
          f"on {settings['problem']}", flush=True)
    for name in names:
        for seed in seeds:
            try:
                run = search(problem, name, seed, budgets[-1], args.workers, evaluate)
            except (ImportError, ValueError) as exc:  # e.g. optuna not installed
                skipped[name] = f"{type(exc).__name__}: {exc}"
                results.pop(name, None)
                break
            results.setdefault(name, {})[seed] = run
            print(f"  {name} seed {seed}: best {run['trace'][-1]:.4f} "
                  + " ".join(f"@{b}={run['trace'][b - 1]:.4f}" for b in budgets
                             if len(run["trace"]) >= b)
                  + f" (trained {evaluate.trained}, cached {evaluate.hits}, "
                  f"{time.monotonic() - t_start:.0f} s)", flush=True)

    settings.update({"evaluations_trained": evaluate.trained, "cache_hits": evaluate.hits,
                     "mean_eval_s": evaluate.train_seconds / max(evaluate.trained, 1),
                     "search_wall_s": time.monotonic() - t_start})
    text = report(split, results, budgets, settings, skipped)
    text += (f"\n{evaluate.trained} evaluations trained ({settings['mean_eval_s']:.2f} s each on "
             f"average, in-process), {evaluate.hits} taken from the cache; "
             f"search part {settings['search_wall_s']:.0f} s.\n")
    print()
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(text)
    errors = sorted({e for _, _, e in evaluate.cache.values() if e})[:10]
    out.with_suffix(".json").write_text(json.dumps(
        {"settings": settings, "split": split, "skipped": skipped, "errors": errors,
         "results": {n: {str(s): r for s, r in runs.items()} for n, runs in results.items()}},
        indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
