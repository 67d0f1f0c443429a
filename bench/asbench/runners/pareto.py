"""Pareto search: the hypervolume gap to the true front after a fixed budget, with
asynchronous workers, against Optuna's NSGA-II and multi-objective TPE.

Usage::

    python -m asbench.runners.pareto            # 80 evals, 4 workers, 10 seeds
    python -m asbench.runners.pareto --quick    # 3 seeds (the same 80 evals)
    python -m asbench.runners.pareto --problems zdt1,tc1_tradeoff --seeds 5 --jobs 2

Problems (:mod:`asbench.problems.pareto_functions`): ZDT1, ZDT2 and DTLZ2 (2
objectives) in 6 dimensions, and ``tc1_tradeoff``, a TC1-like val_loss/cost
trade-off over a mixed space with categorical choices. Each has its true front.

Methods, each driven by the same asynchronous simulation (:func:`run_async`):
``ask`` of ``W`` points fills the workers; whenever the earliest-finishing
evaluation completes (random durations, seeded, the same for every method with
the same seed) its values are told and one new point is asked while the other
``W - 1`` are still pending, until the budget is issued; then the rest finish.

- ``default``: async-search's default optimizer through its Python API
  (``make_optimizer(problem, "default", seed=...)``; the problem declares two
  objectives, so it searches by ParEGO), told a tuple per point.
- ``nsga2``: Optuna's ``NSGAIISampler(seed=...)`` (its default population of 50).
- ``motpe``: Optuna's ``TPESampler(seed=...)`` on a study with two directions (its
  multi-objective TPE, 10 random startup trials).

Optuna's trials are asked with ``study.ask(distributions)`` and told with
``study.tell(trial, [f1, f2])``, so the pending ones are RUNNING trials.

The measure: the hypervolume gap, HV(true front) - HV(front found), both
normalised between the problem's ideal point and its reference point (the true
front's nadir plus 10% of its range), so 0 is the true front and the true front's
own HV is the gap of finding nothing in that box; a second table gives the gaps up
to a loose reference point (the nadir plus 10 ranges), where every point counts.
Prints the median gap of each method, the ratio default / the better Optuna
sampler, whether the target (ratio <= 0.5, on the first table) holds, on how many
seeds default's gap is below the better sampler's of the same seed, and each
method's ask+tell time per point. ``--strict``: exit status 1 when the
target is missed on some problem. Run it with ``nice`` on a shared machine;
``--jobs`` runs seeds in processes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings

import numpy as np

from asbench.harness import BenchProblem, run_tasks
from asbench.problems.pareto_functions import LOOSE_MARGIN, PROBLEMS, REF_MARGIN
from asbench.reporting import fmt_fixed, machine_line, md_row, md_rule, ratio_of
from async_search.optimizers import NAMES, make_optimizer
from async_search.space import Categorical, Integer, Real

METHODS = ("default", "nsga2", "motpe")
OPTUNA = ("nsga2", "motpe")


class ParetoBenchProblem(BenchProblem):
    """BenchProblem with the objectives' names, as a problem file declares them."""

    def __init__(self, name, space, objectives):
        super().__init__(name, space)
        self.objectives = list(objectives)


class Ours:
    """The default optimizer (or any async-search optimizer) as an asker."""

    def __init__(self, problem, seed, optimizer="default", settings=None):
        self.opt = make_optimizer(ParetoBenchProblem(problem.name, problem.space,
                                                     problem.objectives),
                                  optimizer, seed=seed, **(settings or {}))

    def ask(self, n):
        """n (handle, point) pairs."""
        return [(p, p) for p in self.opt.ask(n)]

    def tell(self, handle, values):
        self.opt.tell([handle], [tuple(values)])


def optuna_distributions(space):
    """The space's dimensions as Optuna distributions (log priors kept)."""
    from optuna.distributions import (CategoricalDistribution, FloatDistribution,
                                      IntDistribution)

    out = {}
    for name, d in zip(space.names, space.dims):
        if isinstance(d, Real):
            out[name] = FloatDistribution(d.low, d.high, log=d.prior == "log-uniform")
        elif isinstance(d, Integer):
            out[name] = IntDistribution(d.low, d.high, log=d.prior == "log-uniform")
        elif isinstance(d, Categorical):
            out[name] = CategoricalDistribution(d.categories)
    return out


class OptunaSide:
    """An Optuna study of two directions as an asker: ``nsga2`` or ``motpe``."""

    def __init__(self, problem, seed, method):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = (optuna.samplers.NSGAIISampler(seed=seed) if method == "nsga2"
                       else optuna.samplers.TPESampler(seed=seed))
        self.study = optuna.create_study(directions=["minimize"] * len(problem.objectives),
                                         sampler=sampler)
        self.dists = optuna_distributions(problem.space)

    def ask(self, n):
        out = []
        for _ in range(n):
            trial = self.study.ask(self.dists)
            out.append((trial, {k: (v.item() if isinstance(v, np.generic) else v)
                                for k, v in trial.params.items()}))
        return out

    def tell(self, handle, values):
        self.study.tell(handle, [float(v) for v in values])


def make_asker(method, problem, seed, settings=None):
    if method in OPTUNA:
        return OptunaSide(problem, seed, method)
    return Ours(problem, seed, method, (settings or {}).get(method))


def run_async(asker, fn, seed, evals, workers, trace=None):
    """One asynchronous run; returns (values of every evaluation, seconds in ask+tell).

    ``trace``: a list that gets the number of pending evaluations after every ask."""
    durations = np.random.default_rng(10_000 + seed)  # the same for every method
    clock, running, values, spent, issued = 0.0, [], [], 0.0, 0

    def start(pairs):
        nonlocal issued
        for handle, point in pairs:
            running.append((clock + durations.uniform(0.5, 1.5), issued, handle, point))
            issued += 1
        if trace is not None:
            trace.append(len(running))

    t = time.perf_counter()
    first = asker.ask(min(workers, evals))
    spent += time.perf_counter() - t
    start(first)
    while running:
        running.sort(key=lambda r: (r[0], r[1]))
        clock, _, handle, point = running.pop(0)
        y = fn(point)
        values.append(y)
        t = time.perf_counter()
        asker.tell(handle, y)
        new = asker.ask(1) if issued < evals else []
        spent += time.perf_counter() - t
        if new:
            start(new)
    return np.array(values, dtype=float), spent


def _task(args):
    name, method, seed, evals, workers, settings = args
    problem = PROBLEMS[name]
    Y, spent = run_async(make_asker(method, problem, seed, settings), problem.fn, seed, evals,
                         workers)
    return (name, method, seed, problem.gap(Y), problem.gap(Y, LOOSE_MARGIN),
            spent / evals)


def _parse(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer seeds: 3")
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--methods", default=",".join(METHODS),
                    help=f"comma-separated, of {', '.join(METHODS)} (and async-search's "
                         "other optimizers by name)")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--evals", type=int, default=80)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=1, help="processes running seeds in parallel")
    ap.add_argument("--settings", default="{}",
                    help='JSON {optimizer: {setting: value}} for async-search optimizers')
    ap.add_argument("--strict", action="store_true",
                    help="exit 1 when default / the better Optuna sampler > 0.5 somewhere")
    ap.add_argument("--raw", action="store_true", help="print the results as JSON")
    args = ap.parse_args(argv)
    if args.quick:
        args.seeds = min(args.seeds, 3)
    args.problems, args.methods = args.problems.split(","), args.methods.split(",")
    unknown = [p for p in args.problems if p not in PROBLEMS]
    if unknown:
        ap.error(f"unknown problem {unknown[0]!r}; allowed: {', '.join(PROBLEMS)}")
    allowed = METHODS + tuple(n for n in NAMES if n not in METHODS)
    bad = [m for m in args.methods if m not in allowed]
    if bad:
        ap.error(f"unknown method {bad[0]!r}; allowed: {', '.join(allowed)}")
    for name, minimum in (("seeds", 1), ("evals", 1), ("workers", 1), ("jobs", 1)):
        if getattr(args, name) < minimum:
            ap.error(f"--{name} must be at least {minimum}")
    try:
        args.settings = json.loads(args.settings)
    except ValueError as e:
        ap.error(f"--settings is not JSON: {e}")
    return args


def table(results, problems, methods, loose=False):
    """The markdown lines of the results [(problem, method, seed, gap, loose gap, s per
    point)]: median gap (``loose``: up to the loose reference point) per problem and
    method, the ratio to the better Optuna sampler, and the time per point; and
    whether the target holds everywhere."""
    gaps, cost = {}, {}
    for name, method, seed, gap, loose_gap, per_point in results:
        gaps.setdefault((name, method), {})[seed] = loose_gap if loose else gap
        cost.setdefault((name, method), []).append(per_point)
    anchors = [m for m in OPTUNA if m in methods]
    judged = "default" in methods and bool(anchors)
    head = ["problem", "HV(true)"] + [f"{m} gap" for m in methods]
    if judged:
        head += ["default / better Optuna", "target <= 0.5", "seeds default ahead"]
    head += [f"{m} ms/point" for m in methods]
    lines = [md_row(head), md_rule(len(head))]
    met = True
    for name in problems:
        med = {m: float(np.median(list(gaps[(name, m)].values()))) for m in methods}
        true_hv = PROBLEMS[name].hv(PROBLEMS[name].front, LOOSE_MARGIN if loose else REF_MARGIN)
        row = [name, fmt_fixed(true_hv)] + [fmt_fixed(med[m]) for m in methods]
        if judged:
            ratio = ratio_of(med["default"], min(med[m] for m in anchors))
            met &= ratio <= 0.5
            row += [f"{ratio:.3g}", "yes" if ratio <= 0.5 else "**no**",
                    _ahead(gaps, name, min(anchors, key=med.get))]
        row += [f"{1000 * np.mean(cost[(name, m)]):.1f}" for m in methods]
        lines.append(md_row(row))
    return lines, (met if judged else None)


def _ahead(gaps, name, anchor):
    """'k/n': the seeds where default's gap is below the anchor's of the same seed."""
    ours, theirs = gaps[(name, "default")], gaps[(name, anchor)]
    common = sorted(set(ours) & set(theirs))
    return f"{sum(ours[s] < theirs[s] for s in common)}/{len(common)} vs {anchor}"


def main(argv=None):
    args = _parse(argv)
    t0 = time.time()
    tasks = [(p, m, s, args.evals, args.workers, args.settings)
             for p in args.problems for m in args.methods for s in range(args.seeds)]
    results = run_tasks(_task, tasks, args.jobs)
    if args.raw:
        json.dump(results, sys.stdout)
        return 0
    print(f"Median hypervolume gap (normalised; 0 = the true front) after {args.evals} "
          f"evaluations, {args.workers} asynchronous workers, {args.seeds} seeds "
          "(lower is better); ask+tell time per point\n")
    lines, met = table(results, args.problems, args.methods)
    print("\n".join(lines))
    print()
    print("\nThe same gaps up to a loose reference point, the front's nadir plus "
          f"{LOOSE_MARGIN:g} times its range ((11, 11) on ZDT and DTLZ2)\n")
    print("\n".join(table(results, args.problems, args.methods, loose=True)[0]))
    print()
    print(machine_line(t0, args.jobs))
    if met is not None:
        print("Target (default <= half of the better Optuna sampler's median gap on every "
              f"problem): {'met' if met else 'MISSED'}")
    return 1 if args.strict and met is False else 0


if __name__ == "__main__":
    sys.exit(main())
