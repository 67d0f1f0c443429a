"""Finished evaluations and their accounting: steps trained, the best fully-trained objective.

The steps an evaluation trained are the last step it reported (``steps`` in
results.csv; the last ``IMPROVE_INTERMEDIATE`` line of its model.log when the
column is missing); a *fully-trained* evaluation has status ``ok`` and reached
the last step; the best fully-trained objective is the lowest objective among
those.  "With N evaluations" counts the first N points issued (points.log
order), finished whenever they finish; "with at most E steps" takes the
evaluations in the order they finished while their steps add up to at most E.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from async_search import expfiles

OK, STOPPED, FAILED = "ok", "stopped", "failed"
BINARY_METHODS = ("none", "lce", "asha", "median", "asha-min3")
OPTUNA_METHODS = ("optuna-none", "optuna-hyperband", "optuna-median", "optuna-sha")
#: run with none's number of evaluations (no stopping), the others with more
UNSTOPPED = ("none", "optuna-none")


@dataclass
class Settings:
    """The settings stoppers and pruners share."""

    max_step: int
    min_steps: int = 3
    eta: int = 3
    warmup: int = 5
    workers: int = 3


@dataclass
class Evaluation:
    """One finished evaluation, in the order the results arrived."""

    job_id: str
    status: str                  # ok, stopped, failed, timeout
    objective: float             # nan unless ok or stopped
    steps: Optional[int]         # the last step it reported (None: none)
    issue: int                   # its place in the order points were issued (0, 1, ...)
    point: Dict[str, Any] = field(default_factory=dict)
    decided: Optional[int] = None  # the step at which a stopper decided to stop it


def steps_trained(evaluation: Evaluation) -> int:
    """Steps (epochs) an evaluation trained: its last reported step, 0 when none."""
    return int(evaluation.steps or 0)


def steps_spent(evaluations: Iterable[Evaluation]) -> int:
    """Total steps trained by these evaluations."""
    return sum(steps_trained(e) for e in evaluations)


def fully_trained(evaluation: Evaluation, max_step: int) -> bool:
    """Reached the last step with a finite objective: finished ok, or stopped at its
    last step (its objective, the last value reported, is then the final one for
    the models here, whose objective is the last step's value)."""
    return (evaluation.status in (OK, STOPPED) and steps_trained(evaluation) >= max_step
            and math.isfinite(evaluation.objective))


def stopped_at_end(evaluations: Iterable[Evaluation], max_step: int) -> int:
    """Evaluations stopped when they had already reached the last step."""
    return sum(e.status == STOPPED and steps_trained(e) >= max_step for e in evaluations)


def best_fully_trained(evaluations: Iterable[Evaluation], max_step: int) -> float:
    """The lowest objective of a fully-trained evaluation (inf when there is none)."""
    return min((e.objective for e in evaluations if fully_trained(e, max_step)),
               default=math.inf)


def best_evaluation(evaluations: Iterable[Evaluation], max_step: int) -> Optional[Evaluation]:
    """The fully-trained evaluation with the lowest objective (None when there is none)."""
    best = None
    for e in evaluations:
        if fully_trained(e, max_step) and (best is None or e.objective < best.objective):
            best = e
    return best


def first_issued(evaluations: Iterable[Evaluation], n: int) -> List[Evaluation]:
    """The evaluations of the first ``n`` points issued, in finishing order."""
    return [e for e in evaluations if e.issue < n]


def budget_trace(evaluations: Sequence[Evaluation], max_step: int) -> List[Tuple[int, float]]:
    """(steps spent, best fully-trained so far) after each evaluation, in finishing order."""
    trace, spent, best = [], 0, math.inf
    for e in evaluations:
        spent += steps_trained(e)
        if fully_trained(e, max_step):
            best = min(best, e.objective)
        trace.append((spent, best))
    return trace


def best_within(trace: Sequence[Tuple[int, float]], budget: float) -> float:
    """The best fully-trained objective once the steps spent reach at most ``budget``."""
    best = math.inf
    for spent, value in trace:
        if spent > budget:
            break
        best = value
    return best


def last_step_in_log(path: Path) -> Optional[int]:
    """The last step of an ``IMPROVE_INTERMEDIATE`` line in a model.log (None: none)."""
    last = None
    try:
        with open(path, errors="replace") as fh:
            for line in fh:
                if line.startswith("IMPROVE_INTERMEDIATE "):
                    parts = line.split()
                    if len(parts) >= 3 and parts[1].isdigit():
                        last = int(parts[1])
    except FileNotFoundError:
        return None
    return last


STOP_LINE = re.compile(r"stopping (\S+) early at step (\d+)")


def stop_decisions(manager_log: Path) -> Dict[str, int]:
    """job id -> the step at which the stopper decided, from manager.log's lines
    ``stopping JOB early at step N`` ({} when there are none)."""
    out: Dict[str, int] = {}
    with contextlib.suppress(FileNotFoundError), open(manager_log, errors="replace") as fh:
        for line in fh:
            m = STOP_LINE.search(line)
            if m:
                out.setdefault(m.group(1), int(m.group(2)))
    return out


def steps_to_decision(evaluations: Iterable[Evaluation]) -> int:
    """Total steps, a stopped evaluation counted up to the step its stopper decided at
    (what it would have trained had the stop acted at once)."""
    return sum(e.decided if e.status == STOPPED and e.decided is not None
               else steps_trained(e) for e in evaluations)


def overrun(evaluations: Iterable[Evaluation]) -> float:
    """Mean steps a stopped evaluation trained past the stopper's decision (nan: none)."""
    extra = [steps_trained(e) - e.decided for e in evaluations
             if e.status == STOPPED and e.decided is not None]
    return statistics.fmean(extra) if extra else math.nan


def read_experiment(exp_dir: Path) -> List[Evaluation]:
    """results.csv (finishing order) with the issue order from points.log."""
    exp_dir = Path(exp_dir)
    texts = expfiles.read_points(exp_dir / expfiles.POINTS)  # issue order
    order = {job: i for i, job in enumerate(texts)}
    points = {job: json.loads(text) for job, text in texts.items()}
    decided = stop_decisions(exp_dir / "manager.log")
    out = []
    with open(exp_dir / "results.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            job = row["job_id"]
            text = (row.get("steps") or "").strip()
            if "steps" in row:
                steps = int(float(text)) if text else None
            else:  # a binary without the column: the model's own lines
                steps = last_step_in_log(exp_dir / "run" / job / "model.log")
            try:
                objective = float(row["objective"])
            except ValueError:
                objective = math.nan
            out.append(Evaluation(job, row["status"].strip().lower(), objective, steps,
                                  order.get(job, len(order) + len(out)), points.get(job, {}),
                                  decided.get(job)))
    return out
