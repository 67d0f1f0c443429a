"""Search quality on harder classes: categorical-heavy, wide multimodal, low-d multimodal.

Usage::

    python -m asbench.runners.quality_classes --jobs 2          # every class, 10 seeds
    python -m asbench.runners.quality_classes --quick           # CI smoke run
    python -m asbench.runners.quality_classes --classes categorical --baseline f73c0ca

The instances are in asbench/problems/problem_classes.py (several per class, generated from
fixed seeds: interaction graphs, level counts, shifts, rotations). Each run is the
asynchronous simulation of asbench/harness.py (``ask(W)`` to fill W workers, then one
tell + ask(1) per result, random durations) with the class's budget: 80 evaluations
(categorical), 100 (wide), 60 (low-d). Regret = best value found - known minimum.

One table per class: median regret per instance and optimizer, the ratio
default/optuna per instance, and a class row: the median over every (instance,
seed) run of the regret *normalised* by the instance's scale (the median regret of
the best of as many uniform random points, from 201 seeded draws), so instances
with different value ranges pool. The targets: class ratio default/optuna <= 0.5,
and <= 0.25 on the categorical class. ``--baseline REV`` adds the default optimizer
of git revision REV, run in the same bench run (before/after). ``--strict`` exits 1
when a target is missed.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time

import numpy as np

from asbench.harness import available, baseline, run_async, run_tasks
from asbench.problems import problem_classes
from asbench.reporting import fmt_value, machine_line, md_row, md_rule, ratio_of

TARGETS = {"categorical": 0.25, "wide": 0.5, "lowd": 0.5}
SCALE_DRAWS = 201
QUICK_SEEDS, QUICK_EVALS = 2, 30


@functools.lru_cache(maxsize=None)
def _instance(cls, index):
    return problem_classes.instances(cls)[1][index]


def _task(args):
    cls, index, optimizer, seed, evals, workers, settings = args
    f = _instance(cls, index)
    regret, spent = run_async(f.name, f, f.space, f.fmin, optimizer, seed, evals, workers,
                              settings)
    return cls, f.name, optimizer, seed, regret, spent


def scale(f, evals):
    """Median regret of the best of ``evals`` uniform random points (the instance's scale)."""
    rng = np.random.default_rng(7)
    values = np.array([f(p) for p in f.space.sample(evals * SCALE_DRAWS, rng)])
    return float(np.median(values.reshape(SCALE_DRAWS, evals).min(axis=1))) - f.fmin


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help=f"CI smoke run: first instance per class, {QUICK_SEEDS} seeds, "
                         f"{QUICK_EVALS} evaluations, default and optuna")
    ap.add_argument("--classes", default=",".join(problem_classes.CLASSES))
    ap.add_argument("--instances", default="", help="comma-separated instance names (all)")
    ap.add_argument("--optimizers", default="default,optuna,random")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--evals", type=int, default=0, help="override every class's budget")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=1, help="processes running seeds in parallel")
    ap.add_argument("--settings", default="{}", help="JSON {optimizer: {setting: value}}")
    ap.add_argument("--baseline", metavar="REV",
                    help="also run the default optimizer of git revision REV (before/after)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--raw", action="store_true", help=argparse.SUPPRESS)  # JSON results out
    args = ap.parse_args(argv)
    classes = args.classes.split(",")
    unknown = [c for c in classes if c not in problem_classes.CLASSES]
    if unknown:
        ap.error(f"unknown class {unknown[0]!r}; allowed: {', '.join(problem_classes.CLASSES)}")
    optimizers = available(args.optimizers.split(","))
    if args.quick:
        args.seeds, args.evals = QUICK_SEEDS, QUICK_EVALS
        optimizers = [o for o in optimizers if o in ("default", "optuna")]
    wanted = set(filter(None, args.instances.split(",")))
    plan = []  # (class, index, name, evals)
    for cls in classes:
        evals, insts = problem_classes.instances(cls)
        for i, f in enumerate(insts[:1] if args.quick else insts):
            if not wanted or f.name in wanted:
                plan.append((cls, i, f.name, args.evals or evals))
    settings = json.loads(args.settings)
    t0 = time.time()
    results = []
    before = None
    if args.baseline and not args.raw:
        child = ["--classes", ",".join(classes), "--optimizers", "default", "--seeds",
                 str(args.seeds), "--workers", str(args.workers), "--jobs", str(args.jobs),
                 "--instances", ",".join(p[2] for p in plan)]
        if args.evals:
            child += ["--evals", str(args.evals)]
        before, results = baseline(args.baseline, "asbench.runners.quality_classes", child)
        results = [(c, n, before, s, r, sec) for c, n, _, s, r, sec in results]
    tasks = [(cls, i, o, s, evals, args.workers, settings)
             for cls, i, _, evals in plan for o in optimizers for s in range(args.seeds)]
    results += run_tasks(_task, tasks, args.jobs)
    if args.raw:
        json.dump(results, sys.stdout)
        return 0
    if before:
        optimizers.insert(optimizers.index("default") + 1 if "default" in optimizers else 0,
                          before)
    regret, spent = {}, {}
    for cls, name, o, s, r, sec in results:
        regret.setdefault((name, o), []).append(r)
        spent.setdefault(o, []).append(sec)
    both = "default" in optimizers and "optuna" in optimizers
    met = True
    for cls in classes:
        rows = [p for p in plan if p[0] == cls]
        if not rows:
            continue
        print(f"### Class {cls}: median regret, {args.workers} asynchronous workers, "
              f"{args.seeds} seeds (lower is better)\n")
        head = ["instance", "dims", "evals"] + optimizers
        if both:
            head += ["default/optuna"]
        if before and "default" in optimizers:
            head += [f"default/{before}"]
        print(md_row(head))
        print(md_rule(len(head)))
        pooled = {o: [] for o in optimizers}
        for _, i, name, evals in rows:
            f = _instance(cls, i)
            sc = scale(f, evals)
            med = {o: float(np.median(regret[(name, o)])) for o in optimizers}
            for o in optimizers:
                pooled[o] += [r / sc for r in regret[(name, o)]]
            row = [name, str(len(f.space)), str(evals)] + [fmt_value(med[o]) for o in optimizers]
            if both:
                row += [f"{ratio_of(med['default'], med['optuna']):.3g}"]
            if before and "default" in optimizers:
                row += [f"{ratio_of(med['default'], med[before]):.3g}"]
            print(md_row(row))
        med = {o: float(np.median(pooled[o])) for o in optimizers}
        row = [f"**class {cls}** (normalised)", "", ""] + [fmt_value(med[o]) for o in optimizers]
        if both:
            ratio = ratio_of(med["default"], med["optuna"])
            row += [f"**{ratio:.3g}**"]
        if before and "default" in optimizers:
            row += [f"{ratio_of(med['default'], med[before]):.3g}"]
        print(md_row(row))
        if both:
            ok = ratio <= TARGETS[cls]
            met &= ok
            print(f"\nClass {cls}: default/optuna {ratio:.3g} (target <= {TARGETS[cls]}): "
                  f"{'met' if ok else 'MISSED'}")
        print()
    print("Normalised regret: regret / the instance's median regret of the best of as many "
          "uniform random points.")
    print("Optimizer time per run (ask+tell, mean s): " + ", ".join(
        f"{o} {np.mean(spent[o]):.2f}" for o in optimizers))
    print(machine_line(t0, args.jobs))
    return 1 if args.strict and both and not met else 0


if __name__ == "__main__":
    sys.exit(main())
