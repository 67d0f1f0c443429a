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
  (``--stopper-tell``) says what the optimizer models: ``estimate`` (the
  stopper's estimate, csrc/stopper.h) or ``rank`` (what was seen, ordered
  below the completed ones by depth then value,
  ``optimizers._base.stopped_fill``; optimizers without ``tells_stopped`` get
  the estimate).

Bad input (problem file, optimizer name or setting) raises a ``ValueError``
whose text is one line; C prints it and exits 2. Any other exception is an
internal error, logged with its traceback.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Sequence

from async_search import expfiles, reuse
from async_search.expfiles import csv_fields, point_json
from async_search.optimizers import make_optimizer
from async_search.problem import load_problem
from async_search.space import Categorical, Integer, plain

__all__ = ["Engine", "SETTINGS"]

# Keys the manager always sends (csrc/experiment.c experiment_settings_json writes every
# setting of the option table in csrc/options.c, named as its flag with '-' as '_'); their
# defaults are the command line's and are not restated here.
SETTINGS = ("problem", "optimizer", "seed", "n_jobs", "init_size")
STOPPER_TELL = ("estimate", "rank")  # --stopper-tell's choices (csrc/options.c)


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
    "none", init_size is raised to :func:`stopper_design_size`: the manager
    reads the result back once, :meth:`design_size`, so that its request
    policy and config.json use the same initial design), ``stopper_tell``
    (one of ``STOPPER_TELL``, default "estimate"); ``enqueue`` (a CSV path),
    ``warm_start`` (comma-separated experiment directories) and
    ``warm_start_mode`` (plain, transfer): see :class:`Reuse`; the others
    (every setting of the command line, ``workers``) are informative. A missing key
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
        self._stopper_tell = settings.get("stopper_tell", "estimate")
        if self._stopper_tell not in STOPPER_TELL:
            raise ValueError(f"engine settings: stopper_tell {self._stopper_tell!r} is not "
                             f"one of {', '.join(STOPPER_TELL)}")
        self._problem = load_problem(settings["problem"])
        self._names = tuple(self._problem.params)
        init_size = int(settings["init_size"])
        if settings.get("stopper", "none") != "none":
            init_size = max(init_size, stopper_design_size(len(self._names)))
        self._init_size = init_size
        self._optimizer = make_optimizer(
            self._problem,
            settings["optimizer"],
            seed=int(settings["seed"]),
            n_jobs=int(settings["n_jobs"]),
            init_size=init_size,
        )
        self._reuse = Reuse(self._problem, self._optimizer, settings)
        self._objective = None
        if settings.get("simulate_objective") is not None and self._problem.objectives:
            raise ValueError(f"{settings['problem']}: --simulate supports one objective, and "
                             f"the problem declares {len(self._problem.objectives)} "
                             f"({', '.join(self._problem.objectives)})")
        if settings.get("simulate_objective") is not None:
            from async_search.simulate import load_objective

            self._objective = load_objective(settings["simulate_objective"], self._problem)

    def design_size(self) -> str:
        """The initial design the optimizer was built with (``init_size``, raised
        under a stopper), as text: the manager's policy requests as many points
        first (csrc/options.h ``struct settings``)."""
        return str(self._init_size)

    def describe(self) -> str:
        """The typed space, for ``async-search --check``."""
        return self._problem.describe()

    def warnings(self) -> str:
        """Warnings about the problem file and the reused points, one per line ("" when
        none)."""
        return "\n".join([*self._problem.warnings, *self._reuse.notes])

    def record(self, exp_dir: str) -> str:
        """Add where the reused points came from to EXPDIR/config.json ("reuse");
        return what to log about them, one line each."""
        return self._reuse.record(exp_dir)

    def objectives(self) -> str:
        """The problem's objectives, blank-separated, when it declares several ("" for
        one): the workers read the labelled result line with them, results.csv gets an
        ``o:<name>`` column each, and tell passes a row of values per result."""
        return " ".join(self._problem.objectives)

    def header(self) -> str:
        """The parameter part of results.csv's header: ``p:<name>`` fields."""
        return csv_fields([expfiles.param_column(name) for name in self._names])

    def ask(self, n: int) -> list:
        """Exactly n points as (json, csv_fields) pairs; in a simulation
        (json, csv_fields, simulated objective) triples."""
        self._reuse.prime(set())
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
        if self._problem.objectives:  # an n x K array: a tuple each, None if failed
            told = [None if any(math.isnan(x) for x in row) else tuple(float(x) for x in row)
                    for row in values]
            self._optimizer.tell(decoded, told)
            return
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

    def front(self, exp_dir: str) -> str:
        """Several objectives: the end-of-run lines on the Pareto front (size,
        hypervolume, its rows; async_search.report.front_text); "" for one."""
        from async_search import report

        return report.front_text(expfiles.read_frame(exp_dir).frame)

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

        The optimizer is told the finished rows (not those stopped early: the
        manager tells those, with what was seen, as it did when they stopped),
        and the points to be issued again
        are registered as pending (as if it had just asked for them), so that it
        never proposes them a second time: its new proposals, its initial design
        included, avoid everything told or pending.
        """
        objectives = self._problem.objectives
        restart = expfiles.read_restart(exp_dir, self._names, objectives)
        self._reuse.resume(exp_dir)  # the warm rows, before the experiment's own
        results_path = os.path.join(exp_dir, expfiles.RESULTS)
        finished = []
        for row in restart.finished:
            text = restart.points.get(row.job_id)
            point = json.loads(text) if text else self._from_csv(row, results_path)
            value = row.objective if row.status in (expfiles.OK, expfiles.STOPPED) else math.nan
            finished.append((row.job_id, *self._ordered(point), row.status, value))
        told = [f for f in finished if f[3] != expfiles.STOPPED]
        if told:
            values = [None if math.isnan(f[4]) else f[4] for f in told]
            if objectives:  # every objective of an ok row, from its o:<name> columns
                by_job = {row.job_id: row.objectives for row in restart.finished}
                values = [None if f[3] != expfiles.OK or any(map(math.isnan, by_job[f[0]]))
                          else tuple(by_job[f[0]]) for f in told]
            self._optimizer.tell([json.loads(f[1]) for f in told], values)
        issued = {self._problem.space.key(json.loads(text)) for text in restart.points.values()}
        issued |= {self._problem.space.key(json.loads(f[1])) for f in finished}
        self._reuse.prime(issued)  # enqueued points not issued yet
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


class Reuse:
    """The starting point, the enqueued points and the warm start of one run.

    Built with the engine: every file is read and checked then (bad input is a
    one-line ValueError before anything is created), and the warm rows are told
    at once, before the first ask. The points to evaluate first (the starting point,
    then the --enqueue file's, each once) are handed to the optimizer's ``enqueue``
    by :meth:`prime`: at the first ask, or in a restart's replay without those
    points.log already holds. A restart given neither --warm-start nor --enqueue
    takes them from the earlier run's config.json ("reuse"), so that no warm row
    is lost and no enqueued point skipped; warm rows are told once either way.
    """

    def __init__(self, problem, optimizer, settings: dict) -> None:
        self._problem, self._optimizer = problem, optimizer
        self._mode = settings.get("warm_start_mode") or "plain"
        if self._mode not in ("plain", "transfer"):
            raise ValueError(f"warm_start_mode {self._mode!r}: allowed: plain, transfer")
        self._start = reuse.starting_point(problem)[0]
        self._file = settings.get("enqueue")
        self.notes: list = []
        self._queue: list = []
        if self._file:
            self._queue, self.notes = reuse.read_enqueue(self._file, problem, self._start)
            self._file = os.path.abspath(self._file)
        if self._queue and not hasattr(optimizer, "enqueue"):
            raise ValueError(f"--enqueue {settings.get('enqueue')}: this optimizer has no "
                             "enqueue(points) to take them (the built-in ones have)")
        if self._start is not None and not hasattr(optimizer, "enqueue"):
            self.notes.append(f"{problem.path}: starting_point not evaluated first: this "
                              "optimizer has no enqueue(points) to take it")
            self._start = None
        if self._start is not None:
            key = problem.space.key(self._start)
            self._queue = [self._start] + [p for p in self._queue
                                           if problem.space.key(p) != key]
        dirs = [d for d in (settings.get("warm_start") or "").split(",") if d]
        if dirs and problem.objectives:
            raise ValueError(f"--warm-start: {problem.path} declares several objectives "
                             f"({', '.join(problem.objectives)}); a warm start takes one")
        self._warm = reuse.read_warm(dirs, problem, self._start) if dirs else None
        self._tell_warm()
        self._primed = False
        self._log: list = []

    def _tell_warm(self) -> None:
        if self._warm is None:
            return
        if hasattr(self._optimizer, "warm"):
            self._optimizer.warm(self._warm.points, self._warm.values, self._mode)
        elif self._mode == "plain":
            self._optimizer.tell(self._warm.points, self._warm.values)
        else:
            raise ValueError("--warm-start-mode transfer: this optimizer has no transfer "
                             "mode; use plain")

    def resume(self, exp_dir: str) -> None:
        """A restart without --warm-start or --enqueue: the earlier run's, from its
        config.json (still the earlier run's when the replay reads it)."""
        try:
            record = (expfiles.read_config(exp_dir) or {}).get("reuse") or {}
        except ValueError:
            record = {}
        key = self._problem.space.key
        if self._warm is None and record.get("warm_start"):
            old = record["warm_start"]
            self._mode = old.get("mode", "plain")
            self._warm = reuse.read_warm([s["source"] for s in old["sources"]],
                                         self._problem, self._start)
            self._tell_warm()
            self._log.append("warm start: the earlier run's sources (config.json)")
        if not self._file and (record.get("enqueue") or {}).get("points"):
            self._file = record["enqueue"].get("file")
            have = {key(q) for q in self._queue}
            self._queue += [p for p in record["enqueue"]["points"] if key(p) not in have]

    def prime(self, issued: set) -> None:
        """Hand the points to evaluate first to the optimizer (once), without those
        whose keys are in ``issued`` (a restart: already in points.log) and those the
        warm start already knows (nothing is evaluated twice)."""
        if self._primed:
            return
        self._primed = True
        key = self._problem.space.key
        known = {key(p) for p in self._warm.points} if self._warm else set()
        todo = [p for p in self._queue if key(p) not in issued and key(p) not in known]
        if todo and not hasattr(self._optimizer, "enqueue"):
            raise ValueError("this optimizer has no enqueue(points): --enqueue and a "
                             "starting point need one")
        if todo:
            self._optimizer.enqueue(todo)
        again = sum(1 for p in self._queue if key(p) in known)
        if again:
            self._log.append(f"{again} point(s) to evaluate first are known from the warm "
                             f"start already: not evaluated again")
        done = sum(1 for p in self._queue if key(p) in issued and key(p) not in known)
        if done:
            self._log.append(f"points to evaluate first: {done} issued before the restart, "
                             f"{len(todo)} still to go")

    def record(self, exp_dir: str) -> str:
        """config.json's "reuse": the starting point, the points to evaluate first (all
        of them: a later restart without --enqueue re-reads them here) and the warm
        start's sources with their counts. Returns the lines to log."""
        lines = list(self._log)
        if self._start is None and not self._queue and self._warm is None:
            return "\n".join(lines)
        entry: dict = {"starting_point": self._start,
                       "enqueue": {"file": self._file, "points": self._queue}}
        known = {self._problem.space.key(p) for p in self._warm.points} if self._warm else ()
        first = [p for p in self._queue if self._problem.space.key(p) not in known]
        if first and not self._primed:  # a restart's replay said what it kept
            start = self._start is not None and first[0] is self._start
            skipped = len(self._queue) - len(first)
            lines.append(f"{len(first)} point(s) to evaluate first"
                         f"{', the starting point first' if start else ''}"
                         f"{f' ({skipped} known from the warm start)' if skipped else ''}")
        if self._warm is not None:
            entry["warm_start"] = {"mode": self._mode, "rows": len(self._warm.points),
                                   "sources": self._warm.sources}
            lines += reuse.summary(self._warm)
        path = os.path.join(exp_dir, expfiles.CONFIG)
        config = expfiles.read_config(exp_dir) or {}
        config["reuse"] = entry
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(config, f, indent=2, ensure_ascii=False)
            f.write("\n")
        os.replace(path + ".tmp", path)
        return "\n".join(lines)
