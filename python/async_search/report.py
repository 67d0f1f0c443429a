"""Report of an experiment directory: a text summary and ``report.png``.

Works on a finished, running or killed experiment: it only reads
``EXPDIR/results.csv`` (the manager's append-only journal, one row per finished
evaluation, in the order the results were gathered) and, when present,
``EXPDIR/config.json``.

Function API::

    results = load_results(expdir)          # -> Results (raises ReportError)
    summary = summarise(results, top=10)    # -> Summary
    text = format_summary(results, summary) # -> str (what the CLI prints)
    render_png(results, summary, path)      # -> Path of the written PNG

Command line (``async-search report EXPDIR`` execs exactly this)::

    python3 -m async_search.report EXPDIR [--top N] [--no-plot] [--output FILE]

``--output FILE`` is where the PNG goes (default ``EXPDIR/report.png``).
Exit status: 0 report written, 1 the PNG could not be written, 2 bad input
(missing directory, no or unreadable ``results.csv``, not a results file, bad
flags); errors are one line on stderr.

Definitions used throughout (also stated in the printed report):

- usable row: status ``ok`` and a finite objective; lower objective is better;
- wall: first ``m:timestamp_submit`` to last ``m:timestamp_gather``;
- utilisation: sum of ``duration`` over all rows / (workers x wall);
- influence of a parameter: its share of the objective's variance, alone or in
  interactions, under a random forest fitted to the usable rows
  (:mod:`async_search.importance`: total-order Sobol indices normalised to sum
  to 1), so an interior optimum (a learning rate) and an interaction count;
  rho, printed next to it (Spearman), gives the direction of a monotone trend.

matplotlib is imported only by :func:`render_png`, through the Agg canvas
(never pyplot), so it neither needs a display nor changes a caller's backend.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from async_search import expfiles, importance
from async_search._compat import FROZEN
from async_search.expfiles import (
    DURATION,
    FAILED,
    GATHER,
    JOB_ID,
    OBJECTIVE,
    OK,
    START,
    STATUS,
    STATUSES,
    STOPPED,
    SUBMIT,
    TIMEOUT,
    WORKER,
    param_column,
)

__all__ = [
    "Improvement",
    "Influence",
    "ReportError",
    "Results",
    "Summary",
    "TimeStats",
    "format_summary",
    "load_results",
    "main",
    "render_png",
    "summarise",
]


DEFAULT_TOP = 10
MAX_PLOTTED_PARAMS = 6  # objective-vs-parameter panels in report.png
PARAM_PANEL_COLUMNS = 3
MAX_SHOWN_IMPROVEMENTS = 10  # best-so-far lines printed
MAX_CELL_CHARS = 28  # a longer parameter value is cut in the printed table
MAX_TICK_CHARS = 14  # a longer category is cut on a plot axis
MAX_LABELLED_WORKERS = 32  # above this the timeline labels only some workers
MAX_EDGED_BARS = 2000  # above this timeline bars get no white separating edge
MIN_FAILED_BAR_SHARE = 0.002  # failed/timeout bars are at least this share of the wall wide
OUTLIER_IQR_FACTOR = 3.0  # objective axes are cut at Q3 + this x IQR (linear axes only) ...
OUTLIER_MIN_ROWS = 8  # ... when there are at least this many ok rows
TOP_BAND_SHARE = 0.08  # axes fraction at the top of a panel that holds failure crosses
TOP_BAND_DATA_SHARE = 0.88  # data is kept below this axes fraction when there is a band
LOG_MIN_SPAN = 10.0  # a log axis needs positive values spanning at least this factor ...
LOG_SHORT_SPAN = 30.0  # ... and below this factor its ticks are labelled 1-2-5
TIME_UNIT_MINUTES_ABOVE_S = 600.0  # timeline axis in minutes above 10 min wall ...
TIME_UNIT_HOURS_ABOVE_S = 3 * 3600.0  # ... and in hours above 3 h
# scatter markers: (up to this many points, marker area, alpha)
POINT_STYLES = ((300, 16.0, 0.75), (2000, 8.0, 0.5), (math.inf, 4.0, 0.35))
JITTER_WIDTH = 0.25  # horizontal jitter of points over category boxes
JITTER_SEED = 0
FIG_WIDTH_IN = 13.0
FIG_DPI = 100
OBJ_PANEL_IN = 3.4
PARAM_PANEL_IN = 3.1
TIMELINE_IN_PER_WORKER = 0.22
TIMELINE_MIN_IN = 2.2
TIMELINE_MAX_IN = 7.0

COLOR_OK = "tab:blue"
COLOR_BEST = "tab:green"
COLOR_STATUS = {FAILED: "tab:red", TIMEOUT: "tab:orange", STOPPED: "tab:purple"}
COLOR_OTHER = "tab:gray"


class ReportError(Exception):
    """Bad input: the message is one line naming the path and what is wrong."""


@dataclass(**FROZEN)
class Results:
    """The parsed experiment.

    ``frame`` has one row per evaluation in gather order (the order of
    ``results.csv``) with columns ``job_id``, ``p:<param>`` (int64/float64 for
    numeric parameters, str for categorical ones), ``objective``, ``status``,
    ``worker`` (float, NaN when unknown), the three ``m:timestamp_*`` columns,
    ``duration`` and ``usable`` (status ok and finite objective).
    """

    expdir: Path
    frame: pd.DataFrame
    params: tuple[str, ...]
    categorical: frozenset[str]
    config: Mapping[str, Any]
    workers: int
    notes: tuple[str, ...]
    # "uniform" / "log-uniform" of each numeric parameter whose problem file
    # (config.json's "problem") could be read; the axes follow it
    priors: Mapping[str, str] = field(default_factory=dict)
    # intermediate.csv's values (learning curves): (job_id, step, value) rows
    curves: tuple[expfiles.CurvePoint, ...] = ()

    def __post_init__(self) -> None:
        if self.workers < 0:
            raise ValueError(f"workers must be >= 0, got {self.workers}")
        unknown = self.categorical - set(self.params)
        if unknown:
            raise ValueError(f"categorical names are not parameters: {sorted(unknown)}")


@dataclass(**FROZEN)
class TimeStats:
    """min/median/mean/p90/max of durations in seconds (p90: linear interpolation)."""

    n: int
    min: float
    median: float
    mean: float
    p90: float
    max: float

    def __post_init__(self) -> None:
        if self.n <= 0:
            raise ValueError(f"TimeStats needs at least one value, got n={self.n}")


@dataclass(**FROZEN)
class Improvement:
    """A point where the best-so-far objective improved."""

    index: int  # 1-based evaluation number in gather order
    job_id: str
    objective: float
    gather: float  # seconds since the experiment started (NaN if unknown)


@dataclass(**FROZEN)
class Influence:
    """How much one parameter explains the objective's ranks (see module doc)."""

    name: str
    kind: str  # "numeric" or "categorical"
    score: float  # importance.Importance.importance; NaN if too few rows
    rho: float  # Spearman rho for numeric parameters, NaN otherwise (or if undefined)
    n: int  # usable rows with a value for this parameter

    def __post_init__(self) -> None:
        if self.kind not in ("numeric", "categorical"):
            raise ValueError(f"kind must be 'numeric' or 'categorical', got {self.kind!r}")


@dataclass(**FROZEN)
class EarlyStopping:
    """What early stopping did: the steps (e.g. epochs) trained against those every
    evaluation with a curve would have trained to the end.

    ``full_steps`` is the last step of the evaluations that ran to their end (the
    largest, when they differ); NaN-free counts, 0 when nothing is known."""

    with_curves: int  # evaluations that reported intermediate values
    stopped: int
    trained: int  # steps trained, summed over those evaluations
    full_steps: int
    full: int  # with_curves x full_steps: had none been stopped

    @property
    def saved_share(self) -> float:
        return 1.0 - self.trained / self.full if self.full > 0 else float("nan")


@dataclass(**FROZEN)
class Summary:
    """Everything the text report prints; all times in seconds."""

    n_rows: int
    counts: Mapping[str, int]  # rows per status, in STATUSES then by name
    n_usable: int
    n_ok_nonfinite: int  # status ok but objective NaN/inf
    workers: int
    wall_s: float  # NaN when the timestamps do not give a positive span
    busy_s: float
    utilisation: float  # NaN when wall_s is not positive
    evals_per_min: float  # all statuses; NaN when wall_s is not positive
    durations_all: TimeStats | None
    durations_ok: TimeStats | None
    improvements: tuple[Improvement, ...]
    influence: tuple[Influence, ...]  # most influential first
    top: pd.DataFrame  # the best usable rows, best first
    early: EarlyStopping | None = None  # when models reported learning curves

    @property
    def best(self) -> Improvement | None:
        return self.improvements[-1] if self.improvements else None


# --------------------------------------------------------------------------- loading


def load_results(expdir: str | os.PathLike[str]) -> Results:
    """Read ``EXPDIR/results.csv`` (and ``config.json`` if present).

    Tolerates a torn last line (a running or killed experiment), rows with the
    wrong number of fields, repeated headers and duplicate job ids; each is
    skipped with a note in ``Results.notes`` (see
    :func:`async_search.expfiles.read_table`). Raises :class:`ReportError` for a
    missing directory, a missing or unreadable ``results.csv`` or a file that
    lacks the required columns.
    """
    root = Path(expdir)
    try:
        typed = expfiles.read_frame(root)
    except expfiles.ExperimentFileError as exc:
        raise ReportError(str(exc)) from None
    notes = list(typed.notes)
    try:
        config = expfiles.read_config(root)
    except expfiles.ExperimentFileError as exc:
        config = {}
        notes.append(f"ignored {exc}")
    if config is None:
        config = {}
        notes.append(f"no {expfiles.CONFIG}: settings unknown, workers taken from the results")
    frame = typed.frame
    frame["usable"] = (frame[STATUS] == OK) & np.isfinite(frame[OBJECTIVE])
    try:
        curves = expfiles.read_curves(root / expfiles.CURVES)
    except expfiles.ExperimentFileError as exc:
        curves = ()
        notes.append(f"ignored {exc}")

    n = len(frame)
    workers = _config_workers(config)
    seen = frame[WORKER].max() if n else float("nan")
    seen_workers = int(seen) if np.isfinite(seen) and seen > 0 else 0
    if workers is None:
        workers = seen_workers
    elif seen_workers > workers:
        notes.append(
            f"worker ids go up to {seen_workers} but {expfiles.CONFIG} says workers={workers}; "
            f"using {seen_workers}"
        )
        workers = seen_workers
    return Results(
        expdir=root,
        frame=frame,
        params=typed.params,
        categorical=typed.categorical,
        config=config,
        workers=workers,
        notes=tuple(notes),
        priors=_priors(config),
        curves=curves,
    )


def _priors(config: Mapping[str, Any]) -> dict[str, str]:
    """The prior of each numeric dimension of the experiment's problem file, or {}
    when it cannot be read (moved, edited): the axes then follow the values."""
    path = config.get("problem")
    if not isinstance(path, str) or not os.path.isfile(path):
        return {}
    try:
        from async_search.problem import load_problem

        space = load_problem(path).space
    except Exception:  # a report must not fail on a problem file it only consults
        return {}
    return {name: dim.prior for name, dim in zip(space.names, space.dims)
            if getattr(dim, "prior", None) in ("uniform", "log-uniform")}


def _config_workers(config: Mapping[str, Any]) -> int | None:
    value = config.get("workers")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or value <= 0:
        return None
    return int(value)


# --------------------------------------------------------------------------- summary


def summarise(results: Results, top: int = DEFAULT_TOP) -> Summary:
    """Compute the numbers the report prints; ``top`` best usable rows are kept."""
    if top < 0:
        raise ValueError(f"top must be >= 0, got {top}")
    f = results.frame
    n = len(f)
    status_counts = f[STATUS].value_counts()
    names = [s for s in STATUSES if s in status_counts.index]
    names += sorted(s for s in status_counts.index if s not in STATUSES)
    counts = {s: int(status_counts[s]) for s in names}
    n_usable = int(f["usable"].sum())
    n_ok_nonfinite = int(((f[STATUS] == OK) & ~f["usable"]).sum())

    submit = f[SUBMIT].to_numpy(dtype=float)
    gather = f[GATHER].to_numpy(dtype=float)
    duration = f[DURATION].to_numpy(dtype=float)
    wall = float("nan")
    if np.isfinite(submit).any() and np.isfinite(gather).any():
        span = float(np.nanmax(gather) - np.nanmin(submit))
        wall = span if span > 0 else float("nan")
    busy = float(duration[np.isfinite(duration)].sum())
    if math.isfinite(wall) and results.workers > 0:
        utilisation = busy / (results.workers * wall)
    else:
        utilisation = float("nan")
    evals_per_min = n / (wall / 60.0) if math.isfinite(wall) else float("nan")

    usable = f[f["usable"]]
    best_rows = usable.sort_values(OBJECTIVE, kind="mergesort").head(top)
    return Summary(
        n_rows=n,
        counts=counts,
        n_usable=n_usable,
        n_ok_nonfinite=n_ok_nonfinite,
        workers=results.workers,
        wall_s=wall,
        busy_s=busy,
        utilisation=utilisation,
        evals_per_min=evals_per_min,
        durations_all=_time_stats(duration),
        durations_ok=_time_stats(usable[DURATION].to_numpy(dtype=float)),
        improvements=_improvements(f),
        influence=_influence(results),
        top=best_rows,
        early=_early_stopping(results),
    )


def _early_stopping(results: Results) -> EarlyStopping | None:
    """Steps trained and saved, from each evaluation's last step (its curve, or the
    steps column); None when no evaluation reported a learning curve."""
    last: dict[str, int] = {}
    for point in results.curves:
        last[point.job_id] = max(last.get(point.job_id, 0), point.step)
    f = results.frame
    status = dict(zip(f[JOB_ID], f[STATUS]))
    if expfiles.STEPS in f.columns:
        for job, steps in zip(f[JOB_ID], f[expfiles.STEPS]):
            if steps == steps and steps > 0:  # not NaN
                last[job] = max(last.get(job, 0), int(steps))
    finished = {job: s for job, s in last.items() if job in status}
    if not finished:
        return None
    full = max((s for job, s in finished.items() if status[job] == OK), default=0)
    full = full or max(finished.values())
    stopped = sum(1 for job in finished if status[job] == expfiles.STOPPED)
    return EarlyStopping(with_curves=len(finished), stopped=stopped,
                         trained=sum(finished.values()), full_steps=full,
                         full=len(finished) * full)


def _time_stats(values: np.ndarray) -> TimeStats | None:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    return TimeStats(
        n=int(values.size),
        min=float(values.min()),
        median=float(np.median(values)),
        mean=float(values.mean()),
        p90=float(np.percentile(values, 90)),
        max=float(values.max()),
    )


def _improvements(f: pd.DataFrame) -> tuple[Improvement, ...]:
    out: list[Improvement] = []
    best = math.inf
    usable = f["usable"].to_numpy()
    objective = f[OBJECTIVE].to_numpy(dtype=float)
    for i in np.flatnonzero(usable):
        if objective[i] < best:
            best = float(objective[i])
            out.append(
                Improvement(
                    index=int(i) + 1,
                    job_id=str(f[JOB_ID].iat[i]),
                    objective=best,
                    gather=float(f[GATHER].iat[i]),
                )
            )
    return tuple(out)


def _influence(results: Results) -> tuple[Influence, ...]:
    """Each parameter's importance (async_search.importance), most influential first,
    with Spearman's rho of a numeric parameter for the direction of a trend."""
    f = results.frame[results.frame["usable"]]
    y = f[OBJECTIVE].to_numpy(dtype=float)
    out: list[Influence] = []
    for imp in importance.importances(f, results.params, results.categorical):
        rho = float("nan")
        if imp.kind == "numeric":
            x = f[param_column(imp.name)].to_numpy(dtype=float)
            ok = np.isfinite(x)
            if ok.sum() >= 3 and np.ptp(x[ok]) > 0 and np.ptp(y[ok]) > 0:
                rho = float(pd.Series(x[ok]).corr(pd.Series(y[ok]), method="spearman"))
        out.append(Influence(imp.name, imp.kind, imp.importance, rho, imp.n))
    return tuple(out)


# --------------------------------------------------------------------------- text


def _fmt_num(value: float, digits: int = 6) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}g}"


def _fmt_seconds(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    if value < 120:
        return f"{value:.1f} s"
    if value < 2 * 3600:
        return f"{value:.1f} s ({value / 60:.1f} min)"
    return f"{value:.1f} s ({value / 3600:.2f} h)"


def _fmt_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, (float, np.floating)):
        text = _fmt_num(float(value))
    else:
        text = str(value)
    text = " ".join(text.split())  # newlines and tabs would break the table
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "\u2026"
    return text


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]
) -> list[str]:
    """Fixed-width text table, indented by two spaces; ``right`` aligns columns right."""
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)]
        return ("  " + "  ".join(parts)).rstrip()

    return [line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]


def _summary_head(results: Results, summary: Summary) -> list[str]:
    """The title, the run's settings, how far it got, notes."""
    lines: list[str] = []
    cfg = results.config
    head = f"async-search report: {results.expdir}"
    lines += [head, "=" * min(len(head), 78)]
    settings = [
        f"{key}: {cfg[key]}" for key in ("exp_id", "problem", "optimizer", "seed") if key in cfg
    ]
    if settings:
        lines.append("  ".join(settings))
    start = cfg.get("start_time")
    if isinstance(start, (int, float)) and not isinstance(start, bool) and math.isfinite(start):
        when = datetime.fromtimestamp(start, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        lines.append(f"started: {when} (timestamps below are seconds since then)")
    done = f"evaluations finished: {summary.n_rows}"
    if isinstance(cfg.get("max_evals"), (int, float)) and not isinstance(cfg["max_evals"], bool):
        done += f" of max_evals {cfg['max_evals']}"
    lines.append(done + f"; workers: {summary.workers}")
    for note in results.notes:
        lines.append(f"note: {note}")
    return lines


def _summary_top(results: Results, summary: Summary) -> list[str]:
    """The best results, one row each."""
    lines: list[str] = ["", f"Top {len(summary.top)} results (status ok, lowest objective first)"]
    if summary.n_usable == 0:
        lines.append("  no successful evaluations: no objective to rank")
    elif summary.top.empty:
        lines.append("  none listed (--top 0)")
    else:
        header = ["rank", JOB_ID, OBJECTIVE] + list(results.params)
        right = [True, False, True] + [n not in results.categorical for n in results.params]
        rows = []
        for rank, (_, row) in enumerate(summary.top.iterrows(), start=1):
            cells = [str(rank), str(row[JOB_ID]), _fmt_num(float(row[OBJECTIVE]))]
            cells += [_fmt_cell(row[param_column(n)]) for n in results.params]
            rows.append(cells)
        lines += _table(header, rows, right)
    return lines


def _summary_statuses(results: Results, summary: Summary) -> list[str]:
    """Early stopping's savings and the count of each status."""
    lines: list[str] = []
    early = summary.early
    if early is not None:
        saved = early.saved_share
        lines += ["", "Early stopping (from the learning curves the models reported)"]
        lines.append(f"  {early.stopped} of {early.with_curves} evaluations stopped early; "
                     f"{early.trained} steps trained of the {early.full} that running each to "
                     f"step {early.full_steps} would take"
                     + (f" ({100 * saved:.1f}% saved)" if saved == saved else ""))
    lines += ["", "Evaluations by status"]
    status_rows = [
        [name, str(count), f"{100.0 * count / summary.n_rows:.1f}%"]
        for name, count in summary.counts.items()
    ]
    status_rows.append(["total", str(summary.n_rows), "100.0%" if summary.n_rows else "-"])
    lines += _table(["status", "count", "share"], status_rows, [False, True, True])
    if summary.n_ok_nonfinite:
        lines.append(
            f"  ({summary.n_ok_nonfinite} ok row(s) have a non-finite objective: not ranked)"
        )
    return lines


def _summary_throughput(results: Results, summary: Summary) -> list[str]:
    """Wall time, busy worker time, utilisation, evaluations per minute."""
    lines: list[str] = ["", "Throughput and utilisation"]
    lines.append(f"  wall (first submit to last gather): {_fmt_seconds(summary.wall_s)}")
    lines.append(f"  busy worker-seconds (sum of duration): {summary.busy_s:.1f}")
    util = "n/a" if not math.isfinite(summary.utilisation) else f"{100 * summary.utilisation:.1f}%"
    lines.append(f"  utilisation = busy worker-seconds / (workers x wall): {util}")
    lines.append(
        "  evaluations per minute (all statuses, over the wall): "
        + _fmt_num(summary.evals_per_min, 4)
    )
    return lines


def _summary_times(results: Results, summary: Summary) -> list[str]:
    """Evaluation time statistics, all rows and ok rows."""
    lines: list[str] = ["", "Evaluation time, seconds (duration; p90 by linear interpolation)"]
    stat_rows = []
    for label, stats in (("all", summary.durations_all), ("ok", summary.durations_ok)):
        if stats is None:
            stat_rows.append([label, "0"] + ["-"] * 5)
        else:
            stat_rows.append(
                [label, str(stats.n)]
                + [f"{v:.1f}" for v in (stats.min, stats.median, stats.mean, stats.p90, stats.max)]
            )
    lines += _table(
        ["rows", "n", "min", "median", "mean", "p90", "max"], stat_rows, [False] + [True] * 6
    )
    return lines


def _summary_best(results: Results, summary: Summary) -> list[str]:
    """Each improvement of the best objective."""
    lines: list[str] = ["", "Best so far (each improvement, gather order)"]
    if not summary.improvements:
        lines.append("  no successful evaluations yet")
    else:
        shown = summary.improvements[-MAX_SHOWN_IMPROVEMENTS:]
        hidden = len(summary.improvements) - len(shown)
        if hidden:
            lines.append(f"  ({hidden} earlier improvement(s) not shown)")
        rows = [
            [
                str(imp.index),
                "n/a" if not math.isfinite(imp.gather) else f"{imp.gather:.1f} s",
                imp.job_id,
                _fmt_num(imp.objective),
            ]
            for imp in shown
        ]
        lines += _table(
            ["eval#", "gathered at", "job_id", "best objective"], rows, [True, True, False, True]
        )
        best = summary.improvements[-1]
        lines.append(
            f"  best: {_fmt_num(best.objective)} (job {best.job_id}, "
            f"evaluation {best.index} of {summary.n_rows})"
        )
    return lines


def _summary_influence(results: Results, summary: Summary) -> list[str]:
    """Each parameter's influence on the objective."""
    lines: list[str] = [
        "",
        "Parameter influence (over ok rows: each parameter's share of the objective's variance,",
        "  alone or in interactions, under a random forest fitted to them; the shares sum to 1.",
        "  rho: Spearman correlation, the sign of a monotone trend)",
    ]
    if not results.params:
        lines.append("  no parameter columns")
    elif summary.n_usable < 3:
        lines.append(f"  not enough successful evaluations ({summary.n_usable}) to rank parameters")
    else:
        rows = [
            [
                inf.name,
                inf.kind,
                "n/a" if not math.isfinite(inf.score) else f"{inf.score:.3f}",
                "" if not math.isfinite(inf.rho) else f"{inf.rho:+.3f}",
                str(inf.n),
            ]
            for inf in summary.influence
        ]
        lines += _table(
            ["parameter", "kind", "influence", "rho", "n"], rows, [False, False, True, True, True]
        )
    return lines


def front_text(frame: pd.DataFrame, shown: int = DEFAULT_TOP) -> str:
    """Several objectives: the Pareto front (its size, normalised hypervolume with
    its reference point, its first rows by the first objective); "" for one."""
    front = expfiles.front_summary(frame)
    if front is None:
        return ""
    names = front["objectives"]
    n_ok = int(((frame[STATUS] == OK) & np.isfinite(frame[names]).all(axis=1)).sum())
    ref = ", ".join(f"{n}={_fmt_num(v)}" for n, v in zip(names, front["reference"]))
    lines = [f"Pareto front: {front['size']} of {n_ok} ok evaluations; hypervolume "
             f"{front['hypervolume']:.4f} (normalised between the ideal point and the "
             f"reference {ref}: the worst of each objective + 10% of its range)"]
    rows = front["rows"].sort_values(names[0], kind="stable")
    for _, r in rows.head(shown).iterrows():
        values = "  ".join(f"{n}={_fmt_num(r[n])}" for n in names)
        lines.append(f"  {r[JOB_ID]:<10} {values}")
    if len(rows) > shown:
        lines.append(f"  ... {len(rows) - shown} more (pareto_rows(load_results(EXPDIR)))")
    return "\n".join(lines)


def _summary_front(results: Results, summary: Summary) -> list[str]:
    text = front_text(results.frame)
    return ["", text] if text else []


def format_summary(results: Results, summary: Summary, png: Path | None = None) -> str:
    """The text report (what the CLI prints); ``png`` is mentioned when given."""
    lines: list[str] = []
    for section in (_summary_head, _summary_top, _summary_statuses, _summary_throughput,
                    _summary_times, _summary_best, _summary_front, _summary_influence):
        lines += section(results, summary)
    if png is not None:
        lines += ["", f"report: {png}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- figure


def _wants_log(values: np.ndarray) -> bool:
    """Positive values spanning decades whose logs are less skewed than they are."""
    values = values[np.isfinite(values)]
    if values.size < 3 or values.min() <= 0 or values.max() / values.min() < LOG_MIN_SPAN:
        return False

    def skew(v: np.ndarray) -> float:
        sd = v.std()
        return 0.0 if sd == 0 else float(abs(((v - v.mean()) ** 3).mean()) / sd**3)

    return skew(np.log(values)) < skew(values)


def _log_axis(results: Results, name: str, values: np.ndarray) -> bool:
    """A parameter's axis is logarithmic when its prior is log-uniform, linear when
    it is uniform; without a known prior, when the values look it (_wants_log)."""
    prior = results.priors.get(name)
    if prior:
        return prior == "log-uniform" and bool(np.nanmin(values) > 0)
    return _wants_log(values)


def _set_log(ax: Any, which: str, values: np.ndarray) -> None:
    """Log scale on axis ``which`` ("x" or "y"); a short span gets 1-2-5 ticks in plain numbers."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis = ax.xaxis if which == "x" else ax.yaxis
    values = values[np.isfinite(values)]
    if values.max() / values.min() < LOG_SHORT_SPAN:
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        axis.set_minor_formatter(NullFormatter())


def _short(text: str, limit: int = MAX_TICK_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _point_style(n: int) -> tuple[float, float]:
    """Marker area and alpha for ``n`` points: smaller and lighter when there are many."""
    for limit, size, alpha in POINT_STYLES:
        if n <= limit:
            return size, alpha
    return POINT_STYLES[-1][1], POINT_STYLES[-1][2]


def _status_color(status: str) -> str:
    return COLOR_OK if status == OK else COLOR_STATUS.get(status, COLOR_OTHER)


def _outlier_fence(values: np.ndarray) -> float | None:
    """Upper far-out fence (Q3 + k IQR) when some values lie above it, else None."""
    values = values[np.isfinite(values)]
    if values.size < OUTLIER_MIN_ROWS:
        return None
    q1, q3 = np.percentile(values, [25, 75])
    fence = float(q3 + OUTLIER_IQR_FACTOR * (q3 - q1))
    return fence if q3 > q1 and values.max() > fence else None


def _clip_high(
    ax: Any, x: np.ndarray, y: np.ndarray, fence: float | None, with_labels: bool
) -> None:
    """Cut the y axis at ``fence``; points above it become open triangles on the edge.

    One diverged run (a loss of 1e4) would otherwise flatten every other point.
    Call after the usable points are drawn and before :func:`_mark_unusable`.
    """
    if fence is None:
        return
    above = np.isfinite(y) & (y > fence)
    lo = min(float(np.nanmin(y)), fence)
    ax.set_ylim(lo - 0.04 * (fence - lo), fence + 0.04 * (fence - lo))
    if above.any():
        label = f"ok, above the axis ({int(above.sum())})" if with_labels else None
        ax.scatter(x[above], np.full(int(above.sum()), fence), marker="^", s=30, facecolor="none",
                   edgecolor=COLOR_OK, label=label, zorder=4)


def _mark_unusable(ax: Any, x: np.ndarray, status: np.ndarray, with_labels: bool) -> None:
    """Failed/timeout/other rows as crosses in a shaded band along the top of ``ax``.

    Call after the usable points are drawn: the y limits are widened so that
    the band holds no data.
    """
    from matplotlib.patches import Rectangle

    if x.size == 0:
        return
    lo, hi = ax.get_ylim()
    log = ax.get_yscale() == "log"
    a, b = (math.log10(lo), math.log10(hi)) if log else (lo, hi)
    top = a + (b - a) / TOP_BAND_DATA_SHARE
    centre = a + (1.0 - TOP_BAND_SHARE / 2) * (top - a)
    ax.set_ylim(lo, 10**top if log else top)  # also stops autoscaling y
    ax.add_patch(Rectangle((0.0, 1.0 - TOP_BAND_SHARE), 1.0, TOP_BAND_SHARE, transform=ax.transAxes,
                           facecolor="0.93", edgecolor="none", zorder=0))
    for name in sorted(set(status)):
        at = status == name
        label = f"{name} ({int(at.sum())}, no objective: top band)" if with_labels else None
        ax.scatter(x[at], np.full(int(at.sum()), 10**centre if log else centre), marker="x", s=30,
                   color=COLOR_STATUS.get(name, COLOR_OTHER), label=label, zorder=4)


def _plot_objective(
    ax: Any, results: Results, summary: Summary, log_y: bool, fence: float | None
) -> None:
    f = results.frame
    n = len(f)
    idx = np.arange(1, n + 1)
    usable = f["usable"].to_numpy()
    y = f[OBJECTIVE].to_numpy(dtype=float)
    ax.set_title("Objective per evaluation (gather order) and best so far")
    ax.set_xlabel("evaluation number (order gathered)")
    ax.set_ylabel("objective (lower is better)")
    if usable.any():
        size, alpha = _point_style(int(usable.sum()))
        ax.scatter(idx[usable], y[usable], s=size, color=COLOR_OK, alpha=alpha,
                   label=f"ok ({int(usable.sum())})", zorder=3)
        best = np.minimum.accumulate(np.where(usable, y, np.inf))
        seen = np.isfinite(best)
        ax.step(np.append(idx[seen], n + 0.5), np.append(best[seen], best[-1]), where="post",
                color=COLOR_BEST, lw=2, label="best so far", zorder=2)
        b = summary.best
        if b is not None:
            ax.scatter([b.index], [b.objective], marker="*", s=180, color=COLOR_BEST,
                       edgecolor="black", zorder=5,
                       label=f"best {b.objective:.4g}\n(job {b.job_id}, eval {b.index})")
        if log_y:
            _set_log(ax, "y", y[usable])
        _clip_high(ax, idx[usable], y[usable], fence, with_labels=True)
    else:
        ax.text(0.5, 0.45, "no successful evaluations", transform=ax.transAxes, ha="center",
                va="center", fontsize=13, color="0.35")
        ax.set_yticks([])
    status = f[STATUS].to_numpy().astype(str)
    _mark_unusable(ax, idx[~usable], status[~usable], with_labels=True)
    if n:
        ax.set_xlim(0.5, n + 0.5)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)


def _plot_timeline(ax: Any, results: Results, summary: Summary) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    f = results.frame
    wall = summary.wall_s
    scale, unit = 1.0, "s"
    if math.isfinite(wall) and wall > TIME_UNIT_HOURS_ABOVE_S:
        scale, unit = 3600.0, "h"
    elif math.isfinite(wall) and wall > TIME_UNIT_MINUTES_ABOVE_S:
        scale, unit = 60.0, "min"
    util = "n/a" if not math.isfinite(summary.utilisation) else f"{100 * summary.utilisation:.1f}%"
    ax.set_title("Worker timeline: a bar per evaluation from start to start + duration "
                 f"(utilisation {util} = busy worker-seconds / (workers x wall))")
    ax.set_xlabel(f"time since the experiment started ({unit})")
    ax.set_ylabel("worker (MPI rank)")
    start = f[START].to_numpy(dtype=float)
    duration = f[DURATION].to_numpy(dtype=float)
    worker = f[WORKER].to_numpy(dtype=float)
    status = f[STATUS].to_numpy().astype(str)
    drawn = np.isfinite(start) & np.isfinite(duration) & np.isfinite(worker)
    edge = 0.4 if drawn.sum() <= MAX_EDGED_BARS else 0.0
    width = np.maximum(duration, 0.0)
    if math.isfinite(wall):  # a 5 s crash in a 10 h run must stay visible
        width = np.where(status == OK, width, np.maximum(width, MIN_FAILED_BAR_SHARE * wall))
    ok_first = sorted(set(status[drawn]), key=lambda s: (s != OK, s))
    for name in ok_first:
        for w in np.unique(worker[drawn & (status == name)]):
            at = drawn & (status == name) & (worker == w)
            spans = list(zip(start[at] / scale, width[at] / scale))
            ax.broken_barh(spans, (w - 0.4, 0.8), facecolors=_status_color(name), edgecolor="white",
                           linewidth=edge)
    if not drawn.any():
        ax.text(0.5, 0.5, "no evaluations with worker, start and duration", transform=ax.transAxes,
                ha="center", va="center", color="0.35")
    workers = max(summary.workers, int(np.nanmax(worker)) if np.isfinite(worker).any() else 0, 1)
    ax.set_ylim(workers + 0.6, 0.4)  # worker 1 on top
    if workers <= MAX_LABELLED_WORKERS:
        ax.set_yticks(range(1, workers + 1))
    else:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=16))
    handles: list[Any] = []
    if math.isfinite(wall):
        first = float(np.nanmin(f[SUBMIT])) / scale
        last = float(np.nanmax(f[GATHER])) / scale
        for x in (first, last):
            ax.axvline(x, color="0.4", ls="--", lw=0.8)
        ax.set_xlim(first - 0.01 * (last - first), last + 0.01 * (last - first))
        handles.append(Line2D([], [], color="0.4", ls="--", lw=0.8,
                              label="wall: first submit\nto last gather"))
    shown = status[drawn].tolist()
    names = [s for s in STATUSES if s in shown] + sorted(set(shown) - set(STATUSES))
    handles = [
        Patch(color=_status_color(s), label=f"{s} ({shown.count(s)})") for s in names
    ] + handles
    ax.grid(axis="x", alpha=0.3)
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8,
                  frameon=False)


def _plot_param(ax: Any, results: Results, inf: Influence, rng: np.random.Generator, log_y: bool,
                fence: float | None) -> None:
    f = results.frame
    column = param_column(inf.name)
    usable = f["usable"].to_numpy()
    status = f[STATUS].to_numpy().astype(str)
    y = f[OBJECTIVE].to_numpy(dtype=float)
    score = "n/a" if not math.isfinite(inf.score) else f"{inf.score:.2f}"
    title = f"{_short(inf.name, 30)}: influence {score}"
    if math.isfinite(inf.rho):
        title += f", rho {inf.rho:+.2f}"
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("objective")
    size, alpha = _point_style(int(usable.sum()))
    if log_y:
        _set_log(ax, "y", y[usable])
    if inf.kind == "categorical":
        values = f[column].to_numpy(dtype=object)
        has = np.array([v is not None for v in values], dtype=bool)
        keys = values.astype(str)
        cats = sorted({k for k, h in zip(keys, has) if h})
        groups = {c: y[usable & has & (keys == c)] for c in cats}
        cats.sort(key=lambda c: (float(np.median(groups[c])) if groups[c].size else math.inf, c))
        filled = [i for i, c in enumerate(cats) if groups[c].size]
        if filled:
            ax.boxplot([groups[cats[i]] for i in filled], positions=filled, widths=0.55,
                       showfliers=False, medianprops={"color": COLOR_BEST, "lw": 2}, zorder=4)
        for i, c in enumerate(cats):
            g = groups[c]
            if g.size:
                jitter = rng.uniform(-JITTER_WIDTH, JITTER_WIDTH, g.size)
                ax.scatter(i + jitter, g, s=size, color=COLOR_OK, alpha=alpha, zorder=3)
        pos = {c: i for i, c in enumerate(cats)}
        at = np.array([pos[k] if h else math.nan for k, h in zip(keys, has)], dtype=float)
        _clip_high(ax, at[usable & has], y[usable & has], fence, with_labels=False)
        bad = ~usable & has
        _mark_unusable(ax, at[bad], status[bad], with_labels=False)
        tilt = len(cats) > 3 or any(len(c) > MAX_TICK_CHARS // 2 for c in cats)
        ax.set_xticks(range(len(cats)))
        ax.set_xticklabels([_short(c) for c in cats], rotation=25 if tilt else 0,
                           ha="right" if tilt else "center", fontsize=8)
        ax.set_xlim(-0.6, len(cats) - 0.4)
        ax.set_xlabel(f"{_short(inf.name, 30)} (best median first; boxes: ok rows)", fontsize=9)
    else:
        x = f[column].to_numpy(dtype=float)
        ok = usable & np.isfinite(x)
        ax.scatter(x[ok], y[ok], s=size, color=COLOR_OK, alpha=alpha, zorder=3)
        log_x = _log_axis(results, inf.name, x)
        if log_x:
            _set_log(ax, "x", x)
        _clip_high(ax, x[ok], y[ok], fence, with_labels=False)
        bad = ~usable & np.isfinite(x)
        _mark_unusable(ax, x[bad], status[bad], with_labels=False)
        ax.set_xlabel(_short(inf.name, 30) + (" (log scale)" if log_x else ""), fontsize=9)
    ax.grid(alpha=0.3)


def _plot_curves(ax: Any, results: Results, summary: Summary) -> None:
    """Learning curves: each evaluation's intermediate values against the step;
    evaluations stopped early end in a cross, the best one is green."""
    by_job: dict[str, list[tuple[int, float]]] = {}
    for point in results.curves:
        by_job.setdefault(point.job_id, []).append((point.step, point.value))
    f = results.frame
    status = dict(zip(f[JOB_ID], f[STATUS]))
    best = summary.best.job_id if summary.best else None
    values = np.array([v for curve in by_job.values() for _, v in curve])
    log_y = _wants_log(values)
    alpha = 0.6 if len(by_job) <= 50 else 0.3
    for job, curve in by_job.items():
        steps, vals = zip(*sorted(curve))
        st = status.get(job, "running")
        if job == best:
            continue
        color = COLOR_STATUS.get(st, COLOR_OK if st == OK else COLOR_OTHER)
        ax.plot(steps, vals, color=color, alpha=alpha, linewidth=0.9)
        if st == STOPPED:
            ax.plot(steps[-1], vals[-1], "x", color=color, markersize=5, alpha=alpha)
    if best in by_job:
        steps, vals = zip(*sorted(by_job[best]))
        ax.plot(steps, vals, color=COLOR_BEST, linewidth=2.0, label=f"best: {best}")
        ax.legend(loc="upper right", fontsize=8)
    if log_y:
        _set_log(ax, "y", values)
    early = summary.early
    title = "Learning curves (intermediate values)"
    if early is not None and early.full > 0:
        title += (f": {early.stopped} of {early.with_curves} stopped early (crosses), "
                  f"{early.trained} of {early.full} steps trained")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("step")
    ax.set_ylabel("value" + (" (log scale)" if log_y else ""))
    ax.grid(alpha=0.3)


def _plot_front(ax: Any, f: pd.DataFrame) -> None:
    """Several objectives: the first against the second, coloured by evaluation
    number (the front's evolution), the Pareto front highlighted as a step line."""
    names = list(f.attrs["objectives"])
    Y = f[names[:2]].to_numpy(dtype=float)
    ok = ((f[STATUS] == OK).to_numpy()) & np.isfinite(f[names].to_numpy(dtype=float)).all(axis=1)
    ax.set_title(f"Objectives: {names[0]} against {names[1]}, colour = evaluation number; "
                 f"the Pareto front in red" + (f" (over all {len(names)} objectives)"
                                               if len(names) > 2 else ""))
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.grid(alpha=0.3)
    if not ok.any():
        return
    order = np.flatnonzero(ok)
    dots = ax.scatter(Y[ok, 0], Y[ok, 1], c=order, cmap="viridis", s=22, zorder=2)
    ax.figure.colorbar(dots, ax=ax, label="evaluation number (gather order)")
    front = expfiles.pareto_rows(f)
    P = front[names[:2]].to_numpy(dtype=float)
    P = P[np.argsort(P[:, 0])]
    ax.step(P[:, 0], P[:, 1], where="post", color="tab:red", lw=1.2, zorder=1)
    ax.scatter(P[:, 0], P[:, 1], facecolors="none", edgecolors="tab:red", s=70, zorder=3,
               label=f"Pareto front ({len(front)})")
    ax.legend(loc="upper right", fontsize=9)


def render_png(results: Results, summary: Summary, path: str | os.PathLike[str]) -> Path:
    """Write the report figure to ``path`` (atomically) and return the path.

    Panels: objective per evaluation with the best-so-far curve (failures as
    crosses in a band along the top); a worker timeline; the learning curves,
    when the models reported intermediate values; objective against the most
    influential parameters (at most ``MAX_PLOTTED_PARAMS``). Raises OSError
    when the file cannot be written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out = Path(path)
    f = results.frame
    usable = f["usable"].to_numpy()
    shown = list(summary.influence[:MAX_PLOTTED_PARAMS]) if usable.any() else []
    param_rows = max(1, math.ceil(len(shown) / PARAM_PANEL_COLUMNS))
    timeline_in = min(max(TIMELINE_MIN_IN, TIMELINE_IN_PER_WORKER * max(summary.workers, 1) + 1.0),
                      TIMELINE_MAX_IN)
    curves = [OBJ_PANEL_IN] if results.curves else []
    if len(f.attrs.get("objectives", ())) > 1:  # several objectives: the front's panel
        curves.append(OBJ_PANEL_IN)
    heights = [OBJ_PANEL_IN, timeline_in] + curves + (
        [PARAM_PANEL_IN] * param_rows if shown else [1.0])
    first_param = 2 + len(curves)
    fig = Figure(figsize=(FIG_WIDTH_IN, sum(heights) + 0.8), dpi=FIG_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(len(heights), PARAM_PANEL_COLUMNS, height_ratios=heights)

    cfg = results.config
    name = cfg.get("exp_id") or results.expdir.resolve().name
    counts = ", ".join(f"{c} {s}" for s, c in summary.counts.items()) or "none"
    subtitle = "  ".join(f"{k}: {cfg[k]}" for k in ("problem", "optimizer") if k in cfg)
    fig.suptitle(f"async-search report: {name} ({summary.n_rows} evaluations: {counts})"
                 + (f"\n{subtitle}" if subtitle else ""), fontsize=12)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from")  # exotic categories
        objective = f[OBJECTIVE].to_numpy(dtype=float)[usable]
        log_y = _wants_log(objective)
        fence = None if log_y else _outlier_fence(objective)
        _plot_objective(fig.add_subplot(grid[0, :]), results, summary, log_y, fence)
        _plot_timeline(fig.add_subplot(grid[1, :]), results, summary)
        if results.curves:
            _plot_curves(fig.add_subplot(grid[2, :]), results, summary)
        if len(f.attrs.get("objectives", ())) > 1:
            _plot_front(fig.add_subplot(grid[1 + len(curves), :]), f)
        if shown:
            rng = np.random.default_rng(JITTER_SEED)
            for i, inf in enumerate(shown):
                ax = fig.add_subplot(grid[first_param + i // PARAM_PANEL_COLUMNS,
                                          i % PARAM_PANEL_COLUMNS])
                _plot_param(ax, results, inf, rng, log_y, fence)
        else:
            ax = fig.add_subplot(grid[first_param, :])
            ax.set_axis_off()
            why = "no parameter columns" if not results.params else "no successful evaluations"
            ax.text(0.5, 0.5, f"Objective against parameters: {why}", ha="center", va="center",
                    fontsize=12, color="0.35", transform=ax.transAxes)
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".png", dir=out.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                fig.savefig(handle, format="png")
            # mkstemp makes the file 0600: give it the mode a new file gets
            # (0666 less the umask), so that collaborators can read it.
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --------------------------------------------------------------------------- CLI


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="async-search report",
        description="Summarise an experiment directory (finished, running or killed) "
        "and write EXPDIR/report.png.",
    )
    parser.add_argument("expdir", metavar="EXPDIR", help="experiment directory (holds results.csv)")
    parser.add_argument("--top", type=_non_negative, default=DEFAULT_TOP, metavar="N",
                        help=f"how many best results to list (default {DEFAULT_TOP})")
    parser.add_argument("--no-plot", action="store_true",
                        help="print the summary only, write no PNG")
    parser.add_argument("--output", metavar="FILE", default=None,
                        help=f"where to write the PNG (default EXPDIR/{expfiles.REPORT})")
    return parser


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit status (0, 1 PNG not written, 2 bad input)."""
    args = _parser().parse_args(argv)
    try:
        results = load_results(args.expdir)
    except ReportError as exc:
        print(f"async-search report: error: {exc}", file=sys.stderr)
        return 2
    summary = summarise(results, top=args.top)
    png: Path | None = None
    status = 0
    if not args.no_plot:
        target = Path(args.output) if args.output else results.expdir / expfiles.REPORT
        try:
            png = render_png(results, summary, target)
        except OSError as exc:
            why = exc.strerror or exc
            print(f"async-search report: error: cannot write {target}: {why}", file=sys.stderr)
            status = 1
    sys.stdout.write(format_summary(results, summary, png))
    return status


if __name__ == "__main__":
    sys.exit(main())
