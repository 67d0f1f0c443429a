"""Measured TC1 learning curves, replayed: many-seed early-stopping statistics in minutes.

A real TC1 search of the bench trains each point for minutes; twenty seeds of
``none`` and ``asha`` take over half an hour, and one such run's medians move
by about 0.1 from run to run (bench/findings/early_stopping.md).  This model
answers a point of asbench/problems/problem_tc1_bench.py with the curve TC1 actually
produced for the nearest point it has been measured on, so a search of the
real binary (its optimizer, stoppers and manager unchanged) takes seconds.

The curves come from kept bench experiments::

    python -m asbench.runners.early_stopping --part tc1 --keep DIR ...
    python -m asbench.runners.tc1_replay build DIR CURVES.csv

``build`` keeps every evaluation that reported all epochs (a value at every
step 1..E, E the longest curve), with its point; the CSV has the problem's
parameters, then the value at each step (columns ``1`` .. ``E``).
asbench/problems/tc1_curves.csv holds the 621 full curves of the 20-seed TC1 run of
2026-12-02 (none and asha, commit 3579a23).  As a model under the binary
(the params.json path comes last; ``bench/`` on the model's PYTHONPATH)::

    --model-cmd "/usr/bin/python3 -m asbench.runners.tc1_replay --curves CURVES.csv"

it prints ``IMPROVE_INTERMEDIATE <step> <value>`` for each step (after a
``--sleep`` pause) and ``IMPROVE_RESULT <last value>``.  ``early_stopping
--part replay`` runs the whole comparison on it, Optuna's pruners included.

Nearest is by the problem's own space: each numeric parameter on its unit
scale (log scale for a log-uniform one), a categorical one counting 1 when it
differs, distances summed in squares; ties go to the first curve in the file.
With ``--flat`` every step reports the curve's last value: curves that rank
configurations perfectly from the first step, the most any stopper could
learn from them, for telling what a rule loses to uninformative early epochs
from what it loses by itself.

``ranks`` prints how well each epoch's value ranks the curves by their last
value (:func:`rank_table`), the information a stopper's early rungs have::

    python -m asbench.runners.tc1_replay ranks [--curves CSV] [--steps 1,3,9]

What a replay cannot show: curves between measured points (it is a step
function of the point), nor the seed-to-seed noise of TC1 itself (a point
always gets the same curve).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence, Tuple

from asbench import PROBLEMS
from asbench.problems import lc_model
from async_search import expfiles, load_problem
from async_search.space import Categorical

PROBLEM = PROBLEMS / "problem_tc1_bench.py"
CURVES = PROBLEMS / "tc1_curves.csv"

Curve = Tuple[Dict[str, Any], List[float]]


def _value(text: str) -> Any:
    """A CSV field as the number it spells, else as text."""
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text and "e" not in text else number


def read_experiment_curves(exp_dir: Path) -> List[Curve]:
    """(point, values at steps 1..n) of every evaluation of a kept experiment that
    reported each of steps 1..n without a gap (n its own last step).  The files
    are read as a restart reads them (async_search.expfiles): a torn last line is
    left out, a malformed one is an error naming the file."""
    points = expfiles.read_points(exp_dir / expfiles.POINTS)
    steps: Dict[str, Dict[int, float]] = {}
    for c in expfiles.read_curves(exp_dir / expfiles.CURVES):
        steps.setdefault(c.job_id, {})[c.step] = c.value
    out = []
    for job, by_step in steps.items():
        n = max(by_step)
        if job in points and sorted(by_step) == list(range(1, n + 1)):
            out.append((json.loads(points[job]), [by_step[s] for s in range(1, n + 1)]))
    return out


def build(keep_dirs: Sequence[Path], names: Sequence[str]) -> List[Curve]:
    """The curves of every experiment under keep_dirs that reach the longest
    length seen (the full training), in the order of the sorted paths."""
    curves: List[Curve] = []
    for keep in keep_dirs:
        for exp in sorted(p.parent for p in Path(keep).glob("*/" + expfiles.CURVES)):
            if (exp / expfiles.POINTS).exists():
                curves += read_experiment_curves(exp)
    full = max((len(c) for _, c in curves), default=0)
    return [({n: p[n] for n in names}, c) for p, c in curves
            if len(c) == full and all(n in p for n in names)]


def write_curves(path: Path, curves: Sequence[Curve], names: Sequence[str]) -> None:
    steps = len(curves[0][1])
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([*names, *(str(s) for s in range(1, steps + 1))])
        for point, values in curves:
            w.writerow([point[n] for n in names] + [f"{v:.6g}" for v in values])


def read_curves(path: Path, names: Sequence[str]) -> List[Curve]:
    """The curves of a CSV written by write_curves; ValueError naming the file
    when its columns are not the problem's parameters then steps 1..E."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise ValueError(f"{path}: empty: expected a header {', '.join(names)}, 1, 2, ...")
    head, body = rows[0], rows[1:]
    steps = head[len(names):]
    if head[:len(names)] != list(names) or not steps or \
            steps != [str(s) for s in range(1, len(steps) + 1)]:
        raise ValueError(f"{path}: header {head[:len(names) + 2]}...: expected "
                         f"{', '.join(names)}, then steps 1, 2, ...")
    if not body:
        raise ValueError(f"{path}: no curves")
    out = []
    for i, row in enumerate(body, 2):
        if len(row) != len(head):
            raise ValueError(f"{path}:{i}: {len(row)} fields, expected {len(head)}")
        out.append(({n: _value(t) for n, t in zip(names, row)},
                    [float(t) for t in row[len(names):]]))
    return out


class Replay:
    """The nearest measured curve of a point, by the problem's space."""

    def __init__(self, curves: Sequence[Curve], problem: Any, flat: bool = False) -> None:
        self.curves = list(curves)
        self.flat = flat
        self.names = list(problem.space.names)
        self.dims = list(problem.space.dims)
        self._memo: Dict[str, List[float]] = {}

    def _distance(self, a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
        d = 0.0
        for name, dim in zip(self.names, self.dims):
            if isinstance(dim, Categorical):
                d += 0.0 if dim.index(a[name]) == dim.index(b[name]) else 1.0
            else:
                ua, ub = dim.to_unit([a[name], b[name]])
                d += float(ua - ub) ** 2
        return d

    def curve(self, point: Mapping[str, Any]) -> List[float]:
        key = json.dumps({n: point[n] for n in self.names}, sort_keys=True)
        if key not in self._memo:
            c = min(self.curves, key=lambda c: self._distance(point, c[0]))[1]
            self._memo[key] = [c[-1]] * len(c) if self.flat else c
        return self._memo[key]

    def value_at(self, point: Mapping[str, Any], step: int) -> float:
        c = self.curve(point)
        return c[min(step, len(c)) - 1]


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation of a and b (NaN when either is constant)."""
    from scipy.stats import spearmanr
    with warnings.catch_warnings():  # constant input: NaN, said once by the caller
        warnings.simplefilter("ignore")
        return float(spearmanr(a, b).correlation)


def rank_table(curves: Sequence[Curve], steps: Sequence[int],
               top: float = 0.10) -> List[Dict[str, float]]:
    """How well the value at each step ranks the curves by their last value.

    For each step t: ``kept``, the share of the best ``top`` by last value
    that are among the best third at t (:func:`lc_model.best_kept`, as
    ``lc_model.rank_check`` for the synthetic curves); ``rho``, Spearman's
    correlation of the values at t with the last values over all curves;
    ``rho_learning``, the same over the curves whose last value is below the
    median of the last values (those that learn, where a search spends most
    of its evaluations once it has found where to look)."""
    finals = [c[-1] for _, c in curves]
    median = statistics.median(finals)
    learning = [i for i, f in enumerate(finals) if f < median]
    kept = lc_model.best_kept([c for _, c in curves], steps, top)
    out = []
    for t in steps:
        at = [c[t - 1] for _, c in curves]
        out.append({"step": t, "kept": kept[t], "rho": spearman(at, finals),
                    "rho_learning": spearman([at[i] for i in learning],
                                             [finals[i] for i in learning])})
    return out


def _ranks_main(argv: Sequence[str], names: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(prog="tc1_replay.py ranks",
                                 description="how well each step's value ranks the curves "
                                 "by their last value (rank_table)")
    ap.add_argument("--curves", type=Path, default=CURVES)
    ap.add_argument("--steps", default="1,2,3,5,9,13,18",
                    help="comma-separated steps (1 .. the curves' last)")
    a = ap.parse_args(argv)
    try:
        curves = read_curves(a.curves, names)
    except (OSError, ValueError) as e:
        print(f"tc1_replay.py: {e}", file=sys.stderr)
        return 2
    last = len(curves[0][1])
    try:
        steps = [int(t) for t in a.steps.split(",")]
    except ValueError:
        steps = [0]
    if any(not 1 <= t <= last for t in steps):
        print(f"tc1_replay.py: --steps {a.steps}: each step must be 1 to {last}",
              file=sys.stderr)
        return 2
    print(f"{len(curves)} curves of {last} steps ({a.curves})\n")
    print("| step | best 10% by last value kept by a cut to the best third | "
          "Spearman, all | Spearman, last value below the median |")
    print("|---:|---:|---:|---:|")
    for r in rank_table(curves, steps):
        print(f"| {r['step']} | {r['kept']:.2f} | {r['rho']:.2f} | {r['rho_learning']:.2f} |")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    problem = load_problem(str(PROBLEM))
    names = list(problem.space.names)
    if argv[:1] == ["ranks"]:
        return _ranks_main(argv[1:], names)
    if argv[:1] == ["build"]:
        ap = argparse.ArgumentParser(prog="tc1_replay.py build")
        ap.add_argument("keep", nargs="+", type=Path, help="directories of --keep")
        ap.add_argument("out", type=Path, help="the curves CSV to write")
        a = ap.parse_args(argv[1:])
        if a.out.exists():
            print(f"tc1_replay.py: {a.out} exists: not overwritten", file=sys.stderr)
            return 2
        try:
            curves = build(a.keep, names)
        except (ValueError, json.JSONDecodeError) as e:  # a malformed kept file
            print(f"tc1_replay.py: {e}", file=sys.stderr)
            return 2
        if not curves:
            print(f"tc1_replay.py: no full curves under {', '.join(map(str, a.keep))}",
                  file=sys.stderr)
            return 2
        write_curves(a.out, curves, names)
        print(f"{len(curves)} curves of {len(curves[0][1])} steps -> {a.out}")
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--curves", type=Path, default=CURVES)
    ap.add_argument("--sleep", type=float, default=0.0, help="seconds before each step")
    ap.add_argument("--flat", action="store_true",
                    help="report the last value at every step (see the module's text)")
    ap.add_argument("--max-step", type=int, default=0,
                    help="report steps 1..N only (a training cut at N epochs; 0: all)")
    ap.add_argument("params", type=Path, help="the point, as params.json")
    a = ap.parse_args(argv)
    if a.max_step < 0:
        print(f"tc1_replay.py: --max-step {a.max_step}: must be 0 (all) or more",
              file=sys.stderr)
        return 2
    try:
        replay = Replay(read_curves(a.curves, names), problem, a.flat)
    except (OSError, ValueError) as e:
        print(f"tc1_replay.py: {e}", file=sys.stderr)
        return 2
    point = json.loads(a.params.read_text())
    values = replay.curve(point)
    for step, value in enumerate(values[:a.max_step or len(values)], 1):
        if a.sleep > 0:
            time.sleep(a.sleep)
        print(f"IMPROVE_INTERMEDIATE {step} {value:.6g}", flush=True)
    print(f"IMPROVE_RESULT {value:.6g}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
