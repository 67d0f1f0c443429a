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
  evaluation: the optimizer decides how failures count, never as 1.8e308).

Bad input (problem file, optimizer name or setting) raises a ``ValueError``
whose text is one line; C prints it and exits 2. Any other exception is an
internal error, logged with its traceback.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from typing import Any, Sequence

from async_search.optimizers import make_optimizer
from async_search.problem import load_problem
from async_search.space import Categorical, Integer, plain

__all__ = ["Engine", "csv_fields", "point_json"]

RESULTS = "results.csv"
POINTS = "points.log"
CONFIG = "config.json"
_FIXED = ("objective", "status", "worker", "m:timestamp_submit", "m:timestamp_start",
          "m:timestamp_gather", "duration")


def point_json(point: dict) -> str:
    """A point as the JSON text models receive (NaN/inf refused: not valid JSON)."""
    return json.dumps(point, ensure_ascii=False, allow_nan=False)


def csv_fields(values: Sequence[Any]) -> str:
    """Values as one CSV record without its line end (quoted where needed)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values)
    return out.getvalue()


class Engine:
    """Problem + optimizer behind the manager's ask/tell calls.

    settings_json keys: ``problem`` (path, required), ``optimizer`` (name,
    default "default"), ``seed``, ``n_jobs``, ``init_size``,
    ``simulate_objective`` (set in a simulation: "default" or
    "module:function"); others (``max_evals``, ``workers``, ``num_buffer``) are
    informative.
    """

    def __init__(self, settings_json: str) -> None:
        settings = json.loads(settings_json)
        self._problem = load_problem(settings["problem"])
        self._names = tuple(self._problem.params)
        self._optimizer = make_optimizer(
            self._problem,
            settings.get("optimizer") or "default",
            seed=int(settings.get("seed", 0)),
            n_jobs=int(settings.get("n_jobs", 1)),
            init_size=int(settings.get("init_size", 4)),
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
        return csv_fields([f"p:{name}" for name in self._names])

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

    def tell(self, points: Sequence[str], values: Any) -> None:
        """Results of one turn: point JSON texts and objectives (NaN = failed)."""
        decoded = [json.loads(p) for p in points]
        told = [None if v is None or math.isnan(v) else float(v) for v in values]
        self._optimizer.tell(decoded, told)

    # -- end of run --------------------------------------------------------------------------
    def report(self, exp_dir: str) -> str:
        """Write EXPDIR/report.png (async_search.report); return its path."""
        from async_search import report

        results = report.load_results(exp_dir)
        summary = report.summarise(results)
        return str(report.render_png(results, summary, os.path.join(exp_dir, "report.png")))

    # -- restart ---------------------------------------------------------------------------
    def _from_csv(self, row: dict, path: str) -> dict:
        """Rebuild a point from its results.csv fields (when points.log lacks it)."""
        point = {}
        for name, dim in zip(self._names, self._problem.space.dims):
            text = row[f"p:{name}"]
            if isinstance(dim, Categorical):
                match = [c for c in dim.categories if str(c) == text]
                if not match:
                    raise ValueError(f"{path}: job {row['job_id']}: {name}={text!r} is not one "
                                     f"of the problem's categories; restart with the problem "
                                     f"file the experiment was run with")
                point[name] = match[0]
            elif isinstance(dim, Integer):
                point[name] = int(text)
            else:
                point[name] = float(text)
        return point

    def replay(self, exp_dir: str) -> tuple:
        """Read an earlier run of the experiment and tell its results (one batch).

        Returns (finished, inflight, last_restart, start_time): finished rows of
        results.csv as (job_id, json, csv, status, objective); points of points.log
        that never finished as (job_id, json, csv), to be issued again; the highest
        restart number R used (in job ids or config.json); the experiment's first
        start time (0.0 if unknown).
        A last line without its newline (a write cut by a crash) is ignored: the C
        journal cuts it off before this runs.
        """
        results_path = os.path.join(exp_dir, RESULTS)
        points: dict = {}
        points_path = os.path.join(exp_dir, POINTS)
        if os.path.exists(points_path):
            with open(points_path, encoding="utf-8") as f:
                for line in f:
                    if not line.endswith("\n"):
                        break
                    job_id, tab, text = line[:-1].partition("\t")
                    if tab:
                        points[job_id] = text
        finished, seen = [], set()
        if os.path.exists(results_path):
            with open(results_path, newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                expected = ["job_id"] + [f"p:{n}" for n in self._names] + list(_FIXED)
                if reader.fieldnames != expected:
                    raise ValueError(f"{results_path}: its columns {reader.fieldnames} do not "
                                     f"match this problem's {expected}; restart with the "
                                     f"problem file the experiment was run with")
                for row in reader:
                    job_id = row["job_id"]
                    if job_id in seen or None in row.values():
                        continue
                    seen.add(job_id)
                    text = points.get(job_id)
                    point = json.loads(text) if text else self._from_csv(row, results_path)
                    ordered = {n: point[n] for n in self._names}
                    value = float(row["objective"]) if row["status"] == "ok" else math.nan
                    finished.append((job_id, point_json(ordered),
                                     csv_fields(list(ordered.values())), row["status"], value))
        told = [json.loads(f[1]) for f in finished]
        if told:
            self._optimizer.tell(told, [None if math.isnan(f[4]) else f[4] for f in finished])
        inflight = []
        for job_id, text in points.items():
            if job_id not in seen:
                point = json.loads(text)
                ordered = {n: point[n] for n in self._names}
                inflight.append((job_id, point_json(ordered), csv_fields(list(ordered.values()))))
        restarts = [int(j.split("_", 1)[0]) for j in list(points) + list(seen)
                    if j.split("_", 1)[0].isdigit()]
        start_time, config_restart = 0.0, 0
        try:
            with open(os.path.join(exp_dir, CONFIG), encoding="utf-8") as f:
                config = json.load(f)
            start_time = float(config.get("start_time") or 0.0)
            config_restart = int(config.get("restart") or 0)
        except (OSError, ValueError, TypeError, AttributeError):
            pass
        return finished, inflight, max(restarts + [config_restart]), start_time
