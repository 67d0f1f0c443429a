#!/usr/bin/python3
"""Early stopping: steps (epochs) trained and best fully-trained objective, stoppers against Optuna.

Usage (from the project root, after ``make`` and ``make data``)::

    nice /usr/bin/python3 bench/early_stopping.py            # full: ~45 min on 2 busy cores
    nice /usr/bin/python3 bench/early_stopping.py --quick    # ~6 minutes
    BENCH=early_stopping bin/run-bench                       # the same, into bench/results/
    /usr/bin/python3 bench/early_stopping.py --part synthetic --seeds 0,1 --evals 20

Parts, each comparing, per seed,

- the real binary (``mpiexec -n W+1 build/async-search``, W workers) with
  ``--stopper none``, ``asha`` and ``median`` (and, in the synthetic part,
  ``asha`` with its first rung at step 3: ``asha-min3``);
- Optuna's TPESampler (seeded like the search) with its HyperbandPruner,
  MedianPruner and SuccessiveHalvingPruner, and without a pruner
  (``optuna-none``: the optimizers compared without stopping), driven in this
  process on the same model and space.

Stoppers and pruners share the settings: first rung / warm-up step
``--min-steps`` (1, the binary's default), reduction factor ``--eta`` (3), median warm-up of 5
trials, the last step known (``--stopper-max-step``, Optuna's
``max_resource``).  ``none`` and ``optuna-none`` run ``--evals`` evaluations
(N); the others run ``--stopper-evals`` (M > N), so that what they find with a
given number of steps can be compared with ``none`` at equal steps.

Part a, ``synthetic``: ``bench/lc_model.py`` (a 5-d mixed space, realistic
crossing learning curves of 27 steps, a known optimum) run as a
``--model-cmd`` with a sleep of ``--sleep`` (0.05 s) per step; Optuna is driven in an
asynchronous simulation of W workers (each step one time unit; a new trial is
asked when one ends, as the manager does).  Many seeds.

Part b, ``tc1``: TC1 on the real offline data (``make data``), 27 epochs on
200 genes (a ``CANDLE_DEFAULT_MODEL_FILE`` with these settings and narrower
convolutions, ~0.2 s an epoch), the search space of
``bench/problem_tc1_bench.py``; the binary runs ``--model tc1`` with the
fork server, each model reporting val_loss per epoch; Optuna runs
``study.optimize`` (one trial at a time) on the same network and data in this
process, reporting val_loss each epoch and pruning from inside the training
loop.

Part c, ``replay`` (not in ``both``; ``--part replay``): TC1's measured
curves replayed by ``bench/tc1_replay.py`` (each point gets the curve of the
nearest point of ``--curves``, by default bench/tc1_curves.csv, 621 full
curves of a 20-seed TC1 run), as a ``--model-cmd`` with ``--sleep`` per step
for the binary and asynchronously simulated for Optuna as in part a.  The
same comparison as part b with 40 seeds in ~20 minutes: what a real run's
medians cannot show for their noise.

Each median gap of the targets comes with a paired bootstrap interval over
the seeds (``median_gap_interval``), so that a gap within the seeds' spread
is not read as a result.

Accounting (the functions below, tested by
``tests/python/test_early_stopping_bench.py``): the steps an evaluation
trained are the last step it reported (``steps`` in results.csv; the last
``IMPROVE_INTERMEDIATE`` line of its model.log when the column is missing); a
*fully-trained* evaluation has status ``ok`` and reached the last step; the
best fully-trained objective is the lowest objective among those.  "With N
evaluations" counts the first N points issued (points.log order), finished
whenever they finish; "with at most E steps" takes the evaluations in the
order they finished while their steps add up to at most E.

Markdown tables on stdout (progress on stderr); raw numbers in
``bench/results/early_stopping.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import heapq
import inspect
import io
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "bench"))

import lc_model  # noqa: E402
import tc1_replay  # noqa: E402
from async_search import expfiles  # noqa: E402

BINARY = ROOT / "build" / "async-search"
RESULTS_DIR = ROOT / "bench" / "results"
LC_PROBLEM = ROOT / "bench" / "problem_lc.py"
TC1_PROBLEM = ROOT / "bench" / "problem_tc1_bench.py"
TC1_DEFAULTS = ROOT / "python" / "async_search" / "benchmarks" / "tc1_default_model.txt"
#: the TC1 settings of part b, over tc1_default_model.txt
TC1_SETTINGS = {"epochs": 27, "feature_subsample": 200, "conv": [64, 20, 1, 64, 10, 1]}

OK, STOPPED, FAILED = "ok", "stopped", "failed"
BINARY_METHODS = ("none", "asha", "median", "asha-min3")
OPTUNA_METHODS = ("optuna-none", "optuna-hyperband", "optuna-median", "optuna-sha")
#: run with none's number of evaluations (no stopping), the others with more
UNSTOPPED = ("none", "optuna-none")

FULL = {
    "synthetic": {"seeds": list(range(10)), "evals": 24, "stopper_evals": 60,
                  "methods": BINARY_METHODS + OPTUNA_METHODS},
    "tc1": {"seeds": list(range(10)), "evals": 18, "stopper_evals": 60,
            "methods": ("none", "asha", "median", "optuna-none", "optuna-hyperband",
                        "optuna-median")},
    "replay": {"seeds": list(range(40)), "evals": 18, "stopper_evals": 60,
               "methods": ("none", "asha", "median", "optuna-hyperband", "optuna-median")},
}
QUICK = {
    "synthetic": {"seeds": [0, 1], "evals": 12, "stopper_evals": 30,
                  "methods": ("none", "asha", "median") + OPTUNA_METHODS},
    "tc1": {"seeds": [0], "evals": 6, "stopper_evals": 15,
            "methods": ("none", "asha", "median", "optuna-hyperband", "optuna-median")},
    "replay": {"seeds": [0, 1], "evals": 12, "stopper_evals": 30,
               "methods": ("none", "asha", "median", "optuna-hyperband", "optuna-median")},
}
#: fractions of none's steps (with N evaluations) at which methods are compared
FRACTIONS = (0.125, 0.25, 0.5, 1.0)


def say(*args: Any) -> None:
    print(*args, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ accounting

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


# ------------------------------------------------------------ the real binary

def binary_has_stoppers(binary: Path = BINARY) -> bool:
    """Whether the built binary knows --stopper."""
    proc = subprocess.run([str(binary), "--help"], capture_output=True, text=True)
    return "--stopper" in proc.stdout + proc.stderr


@dataclass
class Settings:
    max_step: int
    min_steps: int = 3
    eta: int = 3
    warmup: int = 5
    workers: int = 3


def stopper_flags(method: str, s: Settings) -> List[str]:
    """The binary's flags for a method: none, asha, median, asha-minK."""
    kind, min_steps = method, s.min_steps
    m = re.fullmatch(r"asha-min(\d+)", method)
    if m:
        kind, min_steps = "asha", int(m.group(1))
    if kind not in ("none", "asha", "median"):
        raise ValueError(f"unknown stopper method {method!r}")
    return ["--stopper", kind, "--stopper-min-steps", str(min_steps),
            "--stopper-eta", str(s.eta), "--stopper-warmup", str(s.warmup),
            "--stopper-max-step", str(s.max_step)]


def run_binary(method: str, problem: Path, model: Sequence[str], seed: int, evals: int,
               s: Settings, exp_dir: Path, env: Optional[Mapping[str, str]] = None,
               stoppers: bool = True, optimizer: str = "") -> Dict[str, Any]:
    """One search under mpiexec; its evaluations and wall time."""
    cmd = ["mpiexec", "-n", str(s.workers + 1), "--oversubscribe", "--bind-to", "none",
           str(BINARY), "--problem", str(problem), *model, "--max-evals", str(evals),
           "--seed", str(seed), "--exp-dir", str(exp_dir), "--quiet"]
    if optimizer:
        cmd += ["--optimizer", optimizer]
    if stoppers:
        cmd += stopper_flags(method, s)
    elif method != "none":
        raise RuntimeError("build/async-search has no --stopper")
    full_env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                    **(env or {}))
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}\nexit {proc.returncode}:\n"
                           f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return {"evaluations": read_experiment(exp_dir), "wall_s": wall, "command": cmd}


# ------------------------------------------------------------------- Optuna

def _optuna():
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def optuna_distributions(problem) -> Dict[str, Any]:
    """The problem's space as Optuna distributions."""
    optuna = _optuna()
    from async_search.space import Categorical, Integer, Real
    dists = {}
    for name, d in zip(problem.space.names, problem.space.dims):
        if isinstance(d, Real):
            dists[name] = optuna.distributions.FloatDistribution(
                d.low, d.high, log=d.prior == "log-uniform")
        elif isinstance(d, Integer):
            dists[name] = optuna.distributions.IntDistribution(
                d.low, d.high, log=d.prior == "log-uniform")
        elif isinstance(d, Categorical):
            dists[name] = optuna.distributions.CategoricalDistribution(d.categories)
        else:
            raise TypeError(f"{name}: dimension {d!r} not supported")
    return dists


def make_pruner(method: str, s: Settings):
    """Optuna's pruner for a method, with the stoppers' settings."""
    optuna = _optuna()
    if method == "optuna-hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=s.min_steps,
                                              max_resource=s.max_step,
                                              reduction_factor=s.eta)
    if method == "optuna-median":
        return optuna.pruners.MedianPruner(n_startup_trials=s.warmup,
                                           n_warmup_steps=s.min_steps)
    if method == "optuna-sha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=s.min_steps,
                                                      reduction_factor=s.eta)
    if method == "optuna-none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"unknown Optuna method {method!r}")


def suggest(trial, name: str, dist) -> Any:
    """``trial.suggest_*`` for an Optuna distribution."""
    optuna = _optuna()
    if isinstance(dist, optuna.distributions.FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, log=dist.log)
    if isinstance(dist, optuna.distributions.IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, log=dist.log)
    return trial.suggest_categorical(name, dist.choices)


def _plain(params: Mapping[str, Any]) -> Dict[str, Any]:
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in params.items()}


def optuna_async(problem, value_at: Callable[[Dict[str, Any], int], float], method: str,
                 seed: int, n_trials: int, s: Settings) -> List[Evaluation]:
    """TPE + a pruner over W simulated asynchronous workers, one time unit per step.

    ``value_at(point, step)`` is the model's value at a step.  A trial is asked
    when a worker is free (the others' trials still running), reports every
    step, and ends complete at ``max_step``, pruned, or failed (a non-finite
    value); results are in finishing order (ties by worker)."""
    optuna = _optuna()
    TrialState = optuna.trial.TrialState
    dists = optuna_distributions(problem)
    # a fixed name: Hyperband picks a trial's bracket from a hash of it
    study = optuna.create_study(direction="minimize", study_name=f"bench-{method}-{seed}",
                                sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=make_pruner(method, s))
    heap: List[Tuple[int, int, int]] = []   # (time, worker, trial number)
    running: Dict[int, Tuple[Any, Dict[str, Any], int]] = {}
    out: List[Evaluation] = []
    issued = 0

    def start(now: int, worker: int) -> None:
        nonlocal issued
        trial = study.ask(dists)
        running[trial.number] = (trial, _plain(trial.params), 0)
        heapq.heappush(heap, (now + 1, worker, trial.number))
        issued += 1

    for w in range(min(s.workers, n_trials)):
        start(0, w)
    while heap:
        now, worker, number = heapq.heappop(heap)
        trial, point, step = running[number]
        step += 1
        value = float(value_at(point, step))
        status = None
        if not math.isfinite(value):
            study.tell(trial, state=TrialState.FAIL)
            status, value = FAILED, math.nan
        else:
            trial.report(value, step)
            if step >= s.max_step:
                study.tell(trial, value)
                status = OK
            elif trial.should_prune():
                study.tell(trial, state=TrialState.PRUNED)
                status = STOPPED
        if status is None:
            running[number] = (trial, point, step)
            heapq.heappush(heap, (now + 1, worker, number))
            continue
        del running[number]
        out.append(Evaluation(str(number), status, value, step, number, point))
        if issued < n_trials:
            start(now, worker)
    return out


# ------------------------------------------------------------------- TC1 in-process

class TC1InProcess:
    """TC1's network and data in this process, trained epoch by epoch with a hook."""

    EPOCH_LINE = re.compile(r"^Epoch (\d+)/\d+ .*val_loss: (\S+)")

    def __init__(self, defaults_file: Path, dataset: Any = None):
        from async_search import runner
        from async_search.benchmarks import data, network  # torch: imported once, here
        self._runner, self._network = runner, network
        self.defaults = runner.read_default_model(defaults_file)
        if dataset is None:
            d = self.defaults
            files = data.find_or_prepare([
                (d.get("train_data", ""), d.get("test_data", "")),
                (d.get("local_train_data", ""), d.get("local_test_data", "")),
            ], "tc1", log=lambda *a: None)
            dataset = data.load_dataset(
                files, feature_subsample=int(d.get("feature_subsample", 0) or 0),
                classes=int(d.get("classes", 0) or 0))
        self.dataset = dataset
        accepts = inspect.signature(network.fit).parameters
        self.hook_kind = "on_epoch" if "on_epoch" in accepts else "log"
        self._quiet = {"report": False} if "report" in accepts else {}

    def train(self, point: Mapping[str, Any], on_epoch: Callable[[int, float], None]) -> float:
        """Train ``point``; ``on_epoch(epoch, val_loss)`` after each epoch (it may raise
        to stop the training).  Returns the objective (last val_loss), as the runner."""
        params = self._runner.merge_params(self.defaults, dict(point),
                                           {"timeout": -1, "output_dir": None,
                                            "run_id": "bench", "experiment_id": "bench"})
        kwargs: Dict[str, Any] = {}
        if self.hook_kind == "on_epoch":
            def log(*args: Any) -> None:
                pass

            def hook(epoch: int, logs: Mapping[str, float]) -> None:
                on_epoch(int(epoch), float(logs["val_loss"]))
            kwargs["on_epoch"] = hook
            kwargs.update(self._quiet)
        else:  # parse the epoch lines (val_loss to 4 decimals)
            def log(*args: Any) -> None:
                m = self.EPOCH_LINE.match(" ".join(str(a) for a in args))
                if m:
                    on_epoch(int(m.group(1)), float(m.group(2)))
        with contextlib.redirect_stdout(io.StringIO()):
            history = self._network.fit(params, self.dataset, log=log, **kwargs)
        return self._runner.objective_from_history(history)


def optuna_tc1(problem, model: TC1InProcess, method: str, seed: int, n_trials: int,
               s: Settings) -> List[Evaluation]:
    """TPE + a pruner with ``study.optimize`` (one trial at a time) on TC1."""
    optuna = _optuna()
    dists = optuna_distributions(problem)
    # a fixed name: Hyperband picks a trial's bracket from a hash of it
    study = optuna.create_study(direction="minimize", study_name=f"bench-{method}-{seed}",
                                sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=make_pruner(method, s))
    out: List[Evaluation] = []

    def objective(trial) -> float:
        point = _plain({name: suggest(trial, name, d) for name, d in dists.items()})
        last = {"epoch": 0, "value": math.nan}

        def on_epoch(epoch: int, value: float) -> None:
            last.update(epoch=epoch, value=value)
            if not math.isfinite(value):
                return
            trial.report(value, epoch)
            if epoch < s.max_step and trial.should_prune():
                raise optuna.TrialPruned()

        try:
            value = model.train(point, on_epoch)
        except optuna.TrialPruned:
            out.append(Evaluation(str(trial.number), STOPPED, last["value"], last["epoch"],
                                  trial.number, point))
            raise
        except (model._runner.ObjectiveError, ValueError, RuntimeError):
            out.append(Evaluation(str(trial.number), FAILED, math.nan, last["epoch"],
                                  trial.number, point))
            return math.nan
        out.append(Evaluation(str(trial.number), OK, value, last["epoch"], trial.number, point))
        return value

    study.optimize(objective, n_trials=n_trials)
    return out


def tc1_defaults_file(directory: Path, epochs: int = TC1_SETTINGS["epochs"]) -> Path:
    """tc1_default_model.txt with the bench's settings (TC1_SETTINGS, ``epochs`` epochs)."""
    text = TC1_DEFAULTS.read_text()
    for key, value in {**TC1_SETTINGS, "epochs": epochs}.items():
        text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value!r}", text)
        if n != 1:
            raise RuntimeError(f"{TC1_DEFAULTS}: no single line '{key} = ...'")
    path = Path(directory) / "tc1_bench_model.txt"
    path.write_text(text)
    return path


# ------------------------------------------------------------------- summary

def _median(values: Sequence[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return statistics.median(finite) if finite else math.nan


def summarize(runs: Mapping[str, Mapping[int, List[Evaluation]]], n_evals: int, max_step: int,
              budgets: Sequence[float], regret: Optional[Callable[[Evaluation], float]] = None
              ) -> Dict[str, Dict[str, Any]]:
    """Per method: medians over seeds of steps and best with N evaluations, with all of
    them, and the best within each step budget (with the seeds that ended before it)."""
    out: Dict[str, Dict[str, Any]] = {}
    for method, by_seed in runs.items():
        rows = {"steps_n": [], "decided_n": [], "best_n": [], "regret_n": [], "steps_all": [],
                "best_all": [], "evals_all": [], "fully_all": [], "stopped_all": [],
                "stopped_end": [],
                "overrun": [], "within": {b: [] for b in budgets},
                "ended_before": {b: 0 for b in budgets}}
        for evals in by_seed.values():
            first = first_issued(evals, n_evals)
            rows["steps_n"].append(steps_spent(first))
            rows["decided_n"].append(steps_to_decision(first))
            rows["best_n"].append(best_fully_trained(first, max_step))
            if regret is not None:
                best = best_evaluation(first, max_step)
                rows["regret_n"].append(regret(best) if best else math.inf)
            rows["steps_all"].append(steps_spent(evals))
            rows["best_all"].append(best_fully_trained(evals, max_step))
            rows["evals_all"].append(len(evals))
            rows["fully_all"].append(sum(fully_trained(e, max_step) for e in evals))
            rows["stopped_all"].append(sum(e.status == STOPPED for e in evals))
            rows["stopped_end"].append(stopped_at_end(evals, max_step))
            rows["overrun"].append(overrun(evals))
            trace = budget_trace(evals, max_step)
            for b in budgets:
                rows["within"][b].append(best_within(trace, b))
                if steps_spent(evals) < b:
                    rows["ended_before"][b] += 1
        med = {k: _median(v) for k, v in rows.items() if isinstance(v, list)}
        med["within"] = {b: _median(v) for b, v in rows["within"].items()}
        med["ended_before"] = rows["ended_before"]
        med["per_seed"] = rows
        out[method] = med
    return out


def _f(x: float, digits: int = 4) -> str:
    if isinstance(x, float) and math.isnan(x):
        return "-"
    if isinstance(x, float) and math.isinf(x):
        return "inf"
    return f"{x:.{digits}f}"


def tables(title: str, summary: Mapping[str, Mapping[str, Any]], n_evals: int,
           m_evals: int, max_step: int, budgets: Sequence[float], seeds: Sequence[int],
           objective: str, regret: bool) -> str:
    n_seeds = len(seeds)
    lines = [f"### {title}: with the same {n_evals} evaluations", "",
             f"Medians over {n_seeds} seeds ({', '.join(map(str, seeds))}): steps trained by the "
             f"first {n_evals} points issued, and the best {objective} among those that trained "
             f"all {max_step} steps" + ("; regret = its noise-free final value minus the known "
                                        "optimum" if regret else "") + ".", "",
             "| method | steps trained | vs none | to the stop decisions | best fully-trained "
             + objective + (" | regret |" if regret else " |"),
             "|---|---:|---:|---:|---:|" + ("---:|" if regret else "")]
    base = summary.get("none", {}).get("steps_n", math.nan)
    for method, s in summary.items():
        ratio = s["steps_n"] / base if base and not math.isnan(base) else math.nan
        lines.append(f"| {method} | {s['steps_n']:.0f} | {_f(ratio, 2)} | {s['decided_n']:.0f} | "
                     f"{_f(s['best_n'])} |" + (f" {_f(s['regret_n'])} |" if regret else ""))
    lines += ["", "\"To the stop decisions\": the same, a stopped evaluation counted up to the "
              "step at which the stopper decided (the binary's stops take ~0.1 s to act; "
              "Optuna's act at once)."]
    lines += ["", f"### {title}: best fully-trained {objective} with at most E steps", "",
              f"Stoppers and pruners ran {m_evals} evaluations, none and optuna-none {n_evals}; "
              "each cell is the "
              f"median over seeds of the best {objective} of the evaluations that finished "
              "while the steps spent stayed within E († some seeds had ended, spending less, "
              "before E; inf: nothing fully trained yet).", "",
              "| method | " + " | ".join(f"E = {b:.0f}" for b in budgets)
              + " | all: evaluations | stopped | at last step | steps | fully trained | best |",
              "|---|" + "---:|" * (len(budgets) + 6)]
    for method, s in summary.items():
        cells = []
        for b in budgets:
            mark = " †" if s["ended_before"][b] else ""
            cells.append(_f(s["within"][b]) + mark)
        lines.append(f"| {method} | " + " | ".join(cells)
                     + f" | {s['evals_all']:.0f} | {s['stopped_all']:.0f} | "
                     f"{s['stopped_end']:.0f} | {s['steps_all']:.0f} | {s['fully_all']:.0f} | "
                     f"{_f(s['best_all'])} |")
    lines += ["", "\"stopped\", \"at last step\" (stopped having reached the last step: "
              "counted as fully trained, with its last value), \"steps\", \"fully trained\": "
              "medians over seeds of each run's counts."]
    late = {m: s["overrun"] for m, s in summary.items() if not math.isnan(s["overrun"])}
    if late:
        lines.append("Steps a stopped evaluation trained past the stopper's decision (the "
                     "time to end it; mean per run, median over seeds): "
                     + ", ".join(f"{m} {v:.2f}" for m, v in late.items()) + ".")
    lines.append("")
    return "\n".join(lines)


#: steps of the share of none's steps at which matching_share looks
MATCH_GRID = 16


def matching_share(runs: Mapping[int, List[Evaluation]], seeds: Sequence[int],
                   steps: Mapping[int, float], target: float, max_step: int) -> Optional[float]:
    """The least share k/MATCH_GRID (k = 1..MATCH_GRID) of ``steps[seed]`` (none's
    steps, per seed) within which the median over seeds of the method's best
    fully-trained value is at most ``target`` (None: not even with all of them)."""
    traces = {seed: budget_trace(runs[seed], max_step) for seed in seeds}
    for k in range(1, MATCH_GRID + 1):
        if _median([best_within(traces[seed], k / MATCH_GRID * steps[seed])
                    for seed in seeds]) <= target:
            return k / MATCH_GRID
    return None


#: resamples and level of median_gap_interval, and the seeds it needs
GAP_RESAMPLES = 2000
GAP_LEVEL = 0.90
GAP_MIN_SEEDS = 5


def median_gap_interval(ours: Mapping[int, float], theirs: Mapping[int, float],
                        resamples: int = GAP_RESAMPLES, level: float = GAP_LEVEL,
                        seed: int = 0) -> Tuple[float, float]:
    """A paired bootstrap interval over seeds for median(ours) - median(theirs).

    Each resample draws as many seeds as there are, with replacement, and takes
    both methods' values of the same seeds (a seed is one search: its own random
    initial design and its own order of results, which is where the two medians'
    noise comes from). Returns the (1 - level) / 2 and (1 + level) / 2 quantiles
    of the resampled differences (nearest rank); NaN, NaN with fewer than
    GAP_MIN_SEEDS common seeds (too few to resample)."""
    seeds = sorted(set(ours) & set(theirs))
    if len(seeds) < GAP_MIN_SEEDS:
        return math.nan, math.nan
    rng = random.Random(seed)
    gaps = []
    for _ in range(resamples):
        pick = rng.choices(seeds, k=len(seeds))
        gaps.append(_median([ours[s] for s in pick]) - _median([theirs[s] for s in pick]))
    gaps.sort(key=lambda g: (math.isnan(g), g))

    def quantile(q: float) -> float:
        return gaps[min(len(gaps) - 1, max(0, math.ceil(q * len(gaps)) - 1))]

    return quantile((1 - level) / 2), quantile((1 + level) / 2)


def _gap_words(lo: float, hi: float) -> str:
    if math.isnan(lo) or math.isnan(hi):
        return f"too few seeds for it: fewer than {GAP_MIN_SEEDS}"
    if hi < 0:
        return "ahead beyond the seeds' spread"
    if lo > 0:
        return "behind beyond the seeds' spread"
    return "within the seeds' spread"


def targets(runs: Mapping[str, Mapping[int, List[Evaluation]]], n_evals: int, max_step: int,
            objective: str) -> str:
    """The issue's targets, per seed and on the medians over seeds.

    E is half of the steps none trained with its N evaluations (per seed):
    asha's best within E against none's best with all N, and against each
    Optuna pruner's best within the same E."""
    if "none" not in runs or "asha" not in runs:
        return ""
    seeds = [seed for seed in runs["none"] if seed in runs["asha"]]
    full = {seed: steps_spent(first_issued(runs["none"][seed], n_evals)) for seed in seeds}
    half = {seed: full[seed] / 2 for seed in seeds}
    none_best = {seed: best_fully_trained(first_issued(runs["none"][seed], n_evals), max_step)
                 for seed in seeds}

    def within(method: str, seed: int) -> float:
        return best_within(budget_trace(runs[method][seed], max_step), half[seed])

    asha = {seed: within("asha", seed) for seed in seeds}
    wins = sum(asha[seed] <= none_best[seed] for seed in seeds)
    a_med, n_med = _median(list(asha.values())), _median(list(none_best.values()))
    lines = ["Targets (E = half of the steps none trained with its evaluations, per seed):", "",
             f"- asha within E: median best {objective} {_f(a_med)} vs none's {_f(n_med)} with "
             f"all of its steps; as good or better in {wins}/{len(seeds)} seeds: "
             f"**{'met' if a_med <= n_med else 'not met'}** (on the medians)"]
    lo, hi = median_gap_interval(asha, none_best)
    lines.append(f"- asha's median within E minus none's with all: {_f(a_med - n_med)}, "
                 f"{GAP_LEVEL:.0%} bootstrap interval over the seeds [{_f(lo)}, {_f(hi)}] "
                 f"({_gap_words(lo, hi)})")
    share = matching_share(runs["asha"], seeds, full, n_med, max_step)
    lines.append("- the share of none's steps asha needed to match none's median best: "
                 + (f"{share:.3g} (the least multiple of 1/{MATCH_GRID} at which asha's "
                    f"median best within it is as good)" if share is not None
                    else "more than all of none's steps"))
    for other in [m for m in runs if m.startswith("optuna-") and m not in UNSTOPPED]:
        both = [seed for seed in seeds if seed in runs[other]]
        theirs = {seed: within(other, seed) for seed in both}
        better = sum(asha[seed] < theirs[seed] for seed in both)
        o_med = _median(list(theirs.values()))
        a_both = _median([asha[seed] for seed in both])
        lo, hi = median_gap_interval({seed: asha[seed] for seed in both}, theirs)
        lines.append(f"- asha vs {other}, both within E: {_f(a_both)} vs {_f(o_med)}; asha "
                     f"better in {better}/{len(both)} seeds: "
                     f"**{'met' if a_both < o_med else 'not met'}** (on the medians; "
                     f"the gap's {GAP_LEVEL:.0%} interval [{_f(lo)}, {_f(hi)}], "
                     f"{_gap_words(lo, hi)})")
    lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------- the parts

def run_part(part: str, seeds: Sequence[int], n_evals: int, m_evals: int,
             methods: Sequence[str], s: Settings, sleep: float, launch: str,
             workdir: Path, stoppers: bool, optimizer: str = "",
             replay: Optional[tc1_replay.Replay] = None,
             curves: Path = tc1_replay.CURVES) -> Dict[str, Any]:
    from async_search import load_problem
    runs: Dict[str, Dict[int, List[Evaluation]]] = {}
    walls: Dict[str, Dict[int, float]] = {}
    skipped: Dict[str, str] = {}
    problem_path = LC_PROBLEM if part == "synthetic" else TC1_PROBLEM
    problem = load_problem(str(problem_path))
    env: Dict[str, str] = {}
    tc1 = None
    if part == "tc1":
        defaults = tc1_defaults_file(workdir, s.max_step)
        env["CANDLE_DEFAULT_MODEL_FILE"] = str(defaults)
    t_part = time.monotonic()
    for seed in seeds:
        for method in methods:
            if method in skipped:
                continue
            evals = n_evals if method in UNSTOPPED else m_evals
            t0 = time.monotonic()
            if method.startswith("optuna-"):
                if part == "synthetic":
                    result = optuna_async(
                        problem, lambda p, t, seed=seed: lc_model.curve_value(p, t, seed),
                        method, seed, evals, s)
                elif part == "replay":
                    result = optuna_async(problem, replay.value_at, method, seed, evals, s)
                else:
                    if tc1 is None:
                        tc1 = TC1InProcess(defaults)
                    result = optuna_tc1(problem, tc1, method, seed, evals, s)
            else:
                if method != "none" and not stoppers:
                    skipped[method] = "build/async-search has no --stopper yet"
                    continue
                if part == "synthetic":
                    model = ["--model-cmd", f"{sys.executable} {ROOT / 'bench' / 'lc_model.py'} "
                             f"--sleep {sleep} --noise-seed {seed}"]
                elif part == "replay":
                    model = ["--model-cmd", f"{sys.executable} {ROOT / 'bench' / 'tc1_replay.py'} "
                             f"--curves {Path(curves).resolve()} --sleep {sleep}"
                             + (" --flat" if replay is not None and replay.flat else "")]
                else:
                    model = ["--model", "tc1", "--launch", launch]
                exp = workdir / f"{part}-{method}-{seed}"
                result = run_binary(method, problem_path, model, seed, evals, s, exp, env,
                                    stoppers, optimizer)["evaluations"]
            wall = time.monotonic() - t0
            runs.setdefault(method, {})[seed] = result
            walls.setdefault(method, {})[seed] = wall
            say(f"  {part} seed {seed} {method}: {len(result)} evaluations, "
                f"{steps_spent(result)} steps, best fully-trained "
                f"{_f(best_fully_trained(result, s.max_step))} "
                f"({sum(e.status == STOPPED for e in result)} stopped; {wall:.0f} s; "
                f"part {time.monotonic() - t_part:.0f} s)")
    return {"runs": runs, "walls": walls, "skipped": skipped,
            "hook": tc1.hook_kind if tc1 else None}


def report_part(part: str, result: Mapping[str, Any], seeds: Sequence[int], n_evals: int,
                m_evals: int, s: Settings, curves_name: str = "") -> Tuple[str, Dict[str, Any]]:
    runs = result["runs"]
    if "none" in runs:
        base = _median([steps_spent(first_issued(e, n_evals)) for e in runs["none"].values()])
    else:
        base = n_evals * s.max_step
    budgets = [round(f * base) for f in FRACTIONS]
    regret = None
    if part == "synthetic":
        def regret(e: Evaluation) -> float:
            return lc_model.true_final(e.point) - lc_model.OPTIMUM
    summary = summarize(runs, n_evals, s.max_step, budgets, regret)
    if part == "synthetic":
        title = (f"Synthetic learning curves (bench/lc_model.py, {s.max_step} steps, "
                 f"{s.workers} workers)")
        objective = "value"
    elif part == "replay":
        title = (f"TC1 replayed (bench/tc1_replay.py: the measured curve of the nearest point "
                 f"of {curves_name}; {s.workers} workers)")
        objective = "val_loss"
    else:
        title = (f"TC1, real data, {s.max_step} epochs on {TC1_SETTINGS['feature_subsample']} "
                 f"genes ({s.workers} workers; Optuna one trial at a time)")
        objective = "val_loss"
    text = tables(title, summary, n_evals, m_evals, s.max_step, budgets, seeds, objective,
                  regret is not None)
    text += "\n" + targets(runs, n_evals, s.max_step, objective)
    if part == "synthetic":
        text += (f"\nKnown optimum (noise-free value at step {s.max_step}): "
                 f"{lc_model.OPTIMUM:.4f}.\n")
    for method, why in result["skipped"].items():
        text += f"\n{method}: skipped ({why}).\n"
    walls = result["walls"]
    if "none" in walls:
        ratio = {m: _median(list(w.values())) / max(_median(list(walls["none"].values())), 1e-9)
                 for m, w in walls.items() if not m.startswith("optuna-")}
        text += ("\nWall time of a search relative to none's in this run (binary only; "
                 "stoppers ran more evaluations, the machine is shared): "
                 + ", ".join(f"{m} {r:.2f}" for m, r in ratio.items()) + ".\n")
    raw = {"runs": {m: {str(seed): [asdict(e) for e in ev] for seed, ev in by.items()}
                    for m, by in runs.items()},
           "walls": walls, "budgets": budgets, "skipped": result["skipped"],
           "hook": result["hook"]}
    return text, raw


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few seeds, few evaluations")
    parser.add_argument("--part", choices=("synthetic", "tc1", "both", "replay"), default="both",
                        help="both: synthetic and tc1; replay: measured TC1 curves (--curves)")
    parser.add_argument("--curves", type=Path, default=tc1_replay.CURVES,
                        help="replay: the curves CSV (bench/tc1_replay.py build)")
    parser.add_argument("--replay-flat", action="store_true",
                        help="replay: every step reports the last value (tc1_replay.py --flat)")
    parser.add_argument("--seeds", help="comma-separated seeds (both parts)")
    parser.add_argument("--evals", type=int, help="N: none's evaluations")
    parser.add_argument("--stopper-evals", type=int, help="M: the others' evaluations")
    parser.add_argument("--methods", help="comma-separated, of: " + ", ".join(
        BINARY_METHODS + OPTUNA_METHODS))
    parser.add_argument("--epochs", type=int, default=TC1_SETTINGS["epochs"],
                        help="tc1: epochs of a full training (the last step)")
    parser.add_argument("--min-steps", type=int, default=1)
    parser.add_argument("--eta", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--sleep", type=float, default=0.05,
                        help="synthetic and replay models: seconds per step")
    parser.add_argument("--launch", default="fork-server", help="TC1's --launch")
    parser.add_argument("--optimizer", default="",
                        help="the binary's --optimizer (default: its default)")
    parser.add_argument("--keep", help="keep the experiments in this directory")
    parser.add_argument("--out", default=str(RESULTS_DIR / "early_stopping.json"))
    args = parser.parse_args(argv)
    if args.epochs < 2:
        say(f"early_stopping.py: --epochs: {args.epochs}: a full training needs at least 2")
        return 2

    replay = None
    if args.part == "replay":
        from async_search import load_problem
        problem = load_problem(str(TC1_PROBLEM))
        try:
            replay = tc1_replay.Replay(
                tc1_replay.read_curves(args.curves, problem.space.names), problem,
                args.replay_flat)
        except (OSError, ValueError) as e:
            say(f"early_stopping.py: --curves: {e}")
            return 2
    if not BINARY.exists():
        say("early_stopping.py: build/async-search is not built: run make")
        return 2
    stoppers = binary_has_stoppers()
    if not stoppers:
        say("early_stopping.py: note: build/async-search has no --stopper: "
            "only none and Optuna run")
    base = QUICK if args.quick else FULL
    parts = ("synthetic", "tc1") if args.part == "both" else (args.part,)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    print(f"## Early stopping: `{' '.join(['bench/early_stopping.py', *(argv or sys.argv[1:])])}`"
          f"\n\nCommit {commit}, {time.strftime('%Y-%m-%d')}; stoppers and pruners: first "
          f"rung / warm-up step {args.min_steps}, eta {args.eta}, median warm-up "
          f"{args.warmup} trials; {args.workers} workers; the binary's optimizer: "
          f"{args.optimizer or 'default'}.\n", flush=True)
    text, raw = "", {}
    with tempfile.TemporaryDirectory(prefix="es-bench-") as tmp:
        workdir = Path(args.keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for part in parts:
            cfg = base[part]
            seeds = ([int(x) for x in args.seeds.split(",")] if args.seeds else cfg["seeds"])
            n_evals = args.evals or cfg["evals"]
            m_evals = args.stopper_evals or max(cfg["stopper_evals"], n_evals)
            methods = args.methods.split(",") if args.methods else list(cfg["methods"])
            max_step = {"synthetic": lc_model.MAX_STEP, "tc1": args.epochs,
                        "replay": len(replay.curves[0][1]) if replay else 0}[part]
            s = Settings(max_step, args.min_steps, args.eta, args.warmup, args.workers)
            say(f"part {part}: {len(seeds)} seeds, methods {', '.join(methods)}; "
                f"none {n_evals} evaluations, the others {m_evals}")
            result = run_part(part, seeds, n_evals, m_evals, methods, s, args.sleep,
                              args.launch, workdir, stoppers, args.optimizer, replay,
                              args.curves)
            part_text, raw[part] = report_part(part, result, seeds, n_evals, m_evals, s,
                                               str(args.curves)
                                               + (", --flat" if args.replay_flat else ""))
            raw[part]["settings"] = {**asdict(s), "seeds": seeds, "evals": n_evals,
                                     "stopper_evals": m_evals, "methods": methods,
                                     "sleep": args.sleep, "launch": args.launch,
                                     "optimizer": args.optimizer or "default",
                                     **({"curves": str(args.curves), "flat": args.replay_flat}
                                        if replay else {})}
            print(part_text, flush=True)
            text += part_text + "\n"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(raw, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
