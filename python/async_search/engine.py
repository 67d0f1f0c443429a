"""The one object the C manager drives (``csrc/engine.c``).

The manager's optimizer thread constructs :class:`Engine` once with a JSON
string of settings, then alternates ``tell`` (every result that arrived since
its last turn, in one call) and ``ask`` (as many points as the request policy
wants). Everything crossing the C boundary is a plain ``str``, a ``list`` of
them, or a float64 ndarray:

- a point travels as its JSON text (keys in the problem's ``params`` order,
  UTF-8, never ASCII-escaped, so categorical values with ``;``, quotes, spaces
  or non-ASCII text reach the model exactly), and next to it as the CSV fields
  of results.csv (RFC 4180 quoting, Python's ``csv`` dialect);
- a result is the point's JSON text back, with its objective (NaN for a failed
  evaluation: the optimizer decides how failures count, never as 1.8e308); for
  one a stopper ended early, the stopper's estimate of its final and what was
  seen: ``(last step, last value, full step)``. The ``stopper_tell`` setting
  (``--stopper-tell``) says what the optimizer models: ``rank`` (what was seen,
  ordered below the completed ones by depth then value,
  ``optimizers._base.stopped_fill``; optimizers without ``tells_stopped`` get
  the estimate) or ``estimate`` (the stopper's estimate, csrc/stopper.h).

Bad input (problem file, optimizer name or setting) raises a ``ValueError``
whose text is one line; C prints it and exits 2. Any other exception is an
internal error, logged with its traceback.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Sequence

from async_search import expfiles
from async_search.expfiles import csv_fields, point_json
from async_search.optimizers import make_optimizer
from async_search.problem import load_problem
from async_search.space import Categorical, Integer, plain

__all__ = ["Engine", "SETTINGS"]

# Keys the manager always sends (csrc/experiment.c experiment_settings_json); their
# defaults are the command line's (csrc/options.c) and are not restated here.
SETTINGS = ("problem", "optimizer", "seed", "n_jobs", "init_size")
STOPPER_TELL = ("rank", "estimate")  # --stopper-tell's choices (csrc/options.c)


def stopper_design_size(dims: int) -> int:
    """The least initial design when a stopper ends evaluations early: 2(d + 2)
    points for ``dims`` = d, at least 10 and at most 24.

    Without a stopper every design point costs a full training, so the design
    stays small (the default optimizer's is d + 2, 5 to 12). Under a stopper
    most design points are ended at a first rung for a few steps, and a
    narrow good region (TC1: adam or rmsprop, a learning rate near 1e-3,
    little dropout) is found more often when the model starts from twice as
    many points: on the replayed TC1 curves (bench/findings/early_stopping.md,
    four 40-seed runs) asha needed 0.44-0.56 of none's epochs to match none's
    median best with this design, against 0.625 with the optimizer's own; on
    real TC1 (20 seeds) its gain was within the spread between runs.
    """
    return min(max(2 * (dims + 2), 10), 24)


class Engine:
    """Problem + optimizer behind the manager's ask/tell calls.

    settings_json keys, all required (``SETTINGS``): ``problem`` (path),
    ``optimizer`` (name), ``seed``, ``n_jobs``, ``init_size``; optional:
    ``simulate_objective`` (set in a simulation: "default" or
    "module:function"), ``stopper`` (``--stopper``'s name: other than
    "none", init_size is raised to :func:`stopper_design_size`),
    ``stopper_tell`` (one of ``STOPPER_TELL``, default "rank"); others
    (``max_evals``, ``workers``, ``num_buffer``) are informative. A missing key
    is a ValueError naming it.
    """

    def __init__(self, settings_json: str) -> None:
        settings = json.loads(settings_json)
        if not isinstance(settings, dict):
            raise ValueError(f"engine settings: expected a JSON object, got {settings_json!r}")
        missing = [key for key in SETTINGS if key not in settings]
        if missing:
            raise ValueError(f"engine settings: missing {', '.join(map(repr, missing))} "
                             f"(required: {', '.join(SETTINGS)})")
        self._stopper_tell = settings.get("stopper_tell", "rank")
        if self._stopper_tell not in STOPPER_TELL:
            raise ValueError(f"engine settings: stopper_tell {self._stopper_tell!r} is not "
                             f"one of {', '.join(STOPPER_TELL)}")
        self._problem = load_problem(settings["problem"])
        self._names = tuple(self._problem.params)
        init_size = int(settings["init_size"])
        if settings.get("stopper", "none") != "none":
            init_size = max(init_size, stopper_design_size(len(self._names)))
        self._optimizer = make_optimizer(
            self._problem,
            settings["optimizer"],
            seed=int(settings["seed"]),
            n_jobs=int(settings["n_jobs"]),
            init_size=init_size,
        )
        self._objective = None
        if settings.get("simulate_objective") is not None:
            from async_search.simulate import load_objective

            self._objective = load_objective(settings["simulate_objective"], self._problem)

    def describe(self) -> str:
        """The typed space, for ``async-search --check``."""
        return self._problem.describe()

    def warnings(self) -> str:
        """Warnings about the problem file, one per line ("" when none)."""
        return "\n".join(self._problem.warnings)

    def header(self) -> str:
        """The parameter part of results.csv's header: ``p:<name>`` fields."""
        return csv_fields([expfiles.param_column(name) for name in self._names])

    def ask(self, n: int) -> list:
        """Exactly n points as (json, csv_fields) pairs; in a simulation
        (json, csv_fields, simulated objective) triples."""
        points = self._optimizer.ask(int(n))
        if len(points) != n:
            raise RuntimeError(f"the optimizer returned {len(points)} points for ask({n})")
        ordered = []
        for point in points:
            missing = [name for name in self._names if name not in point]
            if missing:
                raise RuntimeError(f"the optimizer returned a point without {missing}: {point!r}")
            ordered.append({name: plain(point[name]) for name in self._names})
        out = [(point_json(p), csv_fields(list(p.values()))) for p in ordered]
        if self._objective is not None:
            values = self._objective(ordered)
            out = [(j, c, float(v)) for (j, c), v in zip(out, values)]
        return out

    def tell(self, points: Sequence[str], values: Any,
             stopped: Sequence[Any] | None = None) -> None:
        """Results of one turn: point JSON texts and objectives (NaN = failed); per
        point None, or (step, last value, full step) for one stopped early."""
        decoded = [json.loads(p) for p in points]
        told = [None if v is None or math.isnan(v) else float(v) for v in values]
        if (stopped is not None and any(s is not None for s in stopped)
                and self._stopper_tell == "rank"
                and getattr(self._optimizer, "tells_stopped", False)):
            self._optimizer.tell(decoded, told, stopped=list(stopped))
        else:
            self._optimizer.tell(decoded, told)

    # -- end of run --------------------------------------------------------------------------
    def report(self, exp_dir: str) -> str:
        """Write EXPDIR/report.png (async_search.report); return its path."""
        from async_search import report

        results = report.load_results(exp_dir)
        summary = report.summarise(results)
        return str(report.render_png(results, summary, os.path.join(exp_dir, expfiles.REPORT)))

    # -- restart ---------------------------------------------------------------------------
    def _from_csv(self, row: expfiles.ResultRow, path: str) -> dict:
        """Rebuild a point from its results.csv fields (when points.log lacks it)."""
        point = {}
        for name, dim in zip(self._names, self._problem.space.dims):
            text = row.params[name]
            if isinstance(dim, Categorical):
                match = [c for c in dim.categories if str(c) == text]
                if not match:
                    raise ValueError(f"{path}: job {row.job_id}: {name}={text!r} is not one "
                                     f"of the problem's categories; {expfiles.RESTART_HINT}")
                point[name] = match[0]
            elif isinstance(dim, Integer):
                point[name] = int(text)
            else:
                point[name] = float(text)
        return point

    def _ordered(self, point: dict) -> tuple[str, str]:
        """A point's JSON text and CSV fields, its keys in the problem's order."""
        ordered = {name: point[name] for name in self._names}
        return point_json(ordered), csv_fields(list(ordered.values()))

    def replay(self, exp_dir: str) -> tuple:
        """Read an earlier run of the experiment and tell its results (one batch).

        Returns (finished, inflight, last_restart, start_time, curves): finished
        rows of results.csv as (job_id, json, csv, status, objective); points of points.log
        that never finished and were not issued again since, as (job_id, json,
        csv, simulated objective or NaN), to be issued again; the highest restart
        number R used (in job ids or config.json); the experiment's first start
        time (0.0 if unknown); every intermediate value of intermediate.csv as
        (job_id, step, value), in the order they were journalled. What is read,
        and what a torn last line means, is async_search.expfiles.read_restart's
        business.

        The optimizer is told the finished rows (not those stopped early: what
        it hears of them is the manager's stopper's estimate, csrc/stopper.h),
        and the points to be issued again
        are registered as pending (as if it had just asked for them), so that it
        never proposes them a second time: its new proposals, its initial design
        included, avoid everything told or pending.
        """
        restart = expfiles.read_restart(exp_dir, self._names)
        results_path = os.path.join(exp_dir, expfiles.RESULTS)
        finished = []
        for row in restart.finished:
            text = restart.points.get(row.job_id)
            point = json.loads(text) if text else self._from_csv(row, results_path)
            value = row.objective if row.status in (expfiles.OK, expfiles.STOPPED) else math.nan
            finished.append((row.job_id, *self._ordered(point), row.status, value))
        told = [f for f in finished if f[3] != expfiles.STOPPED]
        if told:
            self._optimizer.tell([json.loads(f[1]) for f in told],
                                 [None if math.isnan(f[4]) else f[4] for f in told])
        again = [json.loads(text) for _, text in restart.inflight]
        pend = getattr(self._optimizer, "pending", None)
        if again and callable(pend):
            pend(again)
        values = [math.nan] * len(again)
        if again and self._objective is not None:
            values = [float(v) for v in self._objective(
                [{n: p[n] for n in self._names} for p in again])]
        inflight = [(job_id, *self._ordered(point), value)
                    for (job_id, _), point, value in zip(restart.inflight, again, values)]
        curves = [(c.job_id, c.step, c.value) for c in restart.curves]
        return finished, inflight, restart.last_restart, restart.start_time, curves
