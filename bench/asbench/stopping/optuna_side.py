"""Optuna's TPESampler with its pruners, on the models the binary's stoppers run.

:func:`optuna_async` drives a study over W simulated asynchronous workers (a
model given as ``value_at(point, step)``); :func:`optuna_tc1` runs
``study.optimize`` on TC1 in this process, pruning from inside the training loop.
"""

from __future__ import annotations

import heapq
import math
from typing import Any, Callable, Dict, List, Mapping, Tuple

from asbench.stopping.evaluations import FAILED, OK, STOPPED, Evaluation, Settings
from asbench.stopping.tc1 import TC1InProcess


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
