"""Search quality: median regret after a fixed budget, with asynchronous workers.

Usage::

    python -m asbench.runners.quality          # 60 evals, 4 workers, 10 seeds
    python -m asbench.runners.quality --quick  # CI smoke run (2 functions, 2 seeds, 20 evals)
    python -m asbench.runners.quality --functions branin,levy6 --optimizers default,optuna

Each run is the asynchronous simulation of :mod:`asbench.harness` (``ask(W)``
fills ``W`` workers, then one tell + ask(1) per result, random durations).
Regret = best value found - the known minimum. Optimizers run with their
defaults (no ``init_size``), so Optuna is its stock TPE (10 random startup trials).

Functions: those of :mod:`asbench.problems.functions` (Branin, Hartmann3,
Hartmann6, Rosenbrock-4, Levy-6 and the TC1-like ``mixed``).

Prints one markdown table: median regret per function and optimizer, the ratio
default/optuna, and whether the issue's target (ratio <= 0.5) holds; with
``--strict`` the exit status is 1 when it does not.
Run it with ``nice`` on a shared machine; ``--jobs`` runs seeds in processes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from asbench.harness import available, baseline, run_tasks, simulate
from asbench.problems.functions import FUNCTIONS
from asbench.reporting import fmt_value, machine_line, md_row, md_rule, ratio_of


def _task(args):
    function, optimizer, seed, evals, workers, settings = args
    return (function, optimizer, seed) + simulate(function, optimizer, seed, evals, workers,
                                                  settings)


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
        before, results = baseline(args.baseline, "asbench.runners.quality", [
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
    print(md_row(head))
    print(md_rule(len(head)))
    met = True
    for f in functions:
        med = {o: float(np.median(regret[(f, o)])) for o in optimizers}
        row = [f] + [fmt_value(med[o]) for o in optimizers]
        if both:
            ratio = ratio_of(med["default"], med["optuna"])
            ok = ratio <= 0.5
            met &= ok
            row += [f"{ratio:.3g}", "yes" if ok else "**no**"]
        if before and "default" in optimizers:
            row += [f"{ratio_of(med['default'], med[before]):.3g}"]
        print(md_row(row))
    print()
    print("Optimizer time per run (ask+tell, mean s): " + ", ".join(
        f"{o} {np.mean(spent[o]):.2f}" for o in optimizers))
    print(machine_line(t0, args.jobs))
    if both:
        print(f"Target (default <= half of Optuna's median regret on every function): "
              f"{'met' if met else 'MISSED'}")
    return 1 if args.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
