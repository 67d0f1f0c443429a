"""``optuna``: Optuna's TPE through its ask/tell interface (in-memory study).

Each dimension becomes an ``optuna.distributions`` object (FloatDistribution /
IntDistribution with ``log`` for the log-uniform prior, CategoricalDistribution;
categories that are not str/int/float/bool/None are handed to Optuna as their
indices). Asked points are RUNNING trials, so TPE sees them as pending; a
failed evaluation ends its trial as FAIL; told points that were never asked
(a restart replay) are added as finished trials.

Settings: ``n_startup_trials`` (random trials before TPE; default ``init_size``
when given, else Optuna's 10), ``multivariate`` (False), ``constant_liar``
(False), ``n_ei_candidates`` (24), ``sampler`` ("tpe", or "random" for Optuna's
RandomSampler). ``n_jobs`` is accepted and unused (Optuna's sampler is
sequential). The sampler is seeded with ``seed``. Creating the first adapter
sets Optuna's log level to WARNING (it would otherwise log every trial).
"""

from __future__ import annotations

import warnings

import numpy as np

from async_search.optimizers._base import BaseOptimizer, check_choice, check_int
from async_search.space import Categorical, Integer, Real

__all__ = ["OptunaOptimizer"]

_PRIMITIVE = (str, int, float, bool, type(None))


class OptunaOptimizer(BaseOptimizer):
    name = "optuna"
    SETTINGS = {"n_startup_trials": None, "multivariate": False, "constant_liar": False,
                "n_ei_candidates": 24, "sampler": "tpe"}

    def __init__(self, problem, seed=0, **settings):
        super().__init__(problem, seed=seed, **settings)
        import optuna
        from optuna.distributions import (CategoricalDistribution, FloatDistribution,
                                          IntDistribution)

        s = self.settings
        startup = s["n_startup_trials"]
        if startup is None:
            startup = self.init_size if self.init_size else 10
        check_int(self.name, "n_startup_trials", startup, 0)
        check_int(self.name, "n_ei_candidates", s["n_ei_candidates"], 1)
        check_choice(self.name, "sampler", s["sampler"], ("tpe", "random"))
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna = optuna
        self._dists = {}
        self._by_index = {}  # name -> True when Optuna sees category indices
        for name, d in zip(self.space.names, self.space.dims):
            if isinstance(d, Real):
                self._dists[name] = FloatDistribution(d.low, d.high, log=d.prior == "log-uniform")
            elif isinstance(d, Integer):
                self._dists[name] = IntDistribution(d.low, d.high, log=d.prior == "log-uniform")
            elif isinstance(d, Categorical):
                primitive = all(isinstance(c, _PRIMITIVE) for c in d.categories)
                self._by_index[name] = not primitive
                choices = d.categories if primitive else tuple(range(d.size))
                self._dists[name] = CategoricalDistribution(choices)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            if s["sampler"] == "random":
                sampler = optuna.samplers.RandomSampler(seed=self.seed)
            else:
                sampler = optuna.samplers.TPESampler(
                    n_startup_trials=startup, n_ei_candidates=s["n_ei_candidates"],
                    multivariate=bool(s["multivariate"]), constant_liar=bool(s["constant_liar"]),
                    seed=self.seed)
        self._study = optuna.create_study(direction="minimize", sampler=sampler)
        self._running: dict[str, list] = {}  # point key -> asked trials not yet told

    def _to_optuna(self, point: dict) -> dict:
        out = {}
        for name, d in zip(self.space.names, self.space.dims):
            v = point[name]
            out[name] = d.index(v) if self._by_index.get(name) else v
        return out

    def _from_optuna(self, params: dict) -> dict:
        out = {}
        for name, d in zip(self.space.names, self.space.dims):
            v = params[name]
            v = v.item() if isinstance(v, np.generic) else v
            if isinstance(d, Categorical):
                out[name] = d.categories[int(v)] if self._by_index.get(name) else d.check(v)
            elif isinstance(d, Integer):
                out[name] = int(v)
            else:
                out[name] = float(v)
        return out

    def _observed(self, points, U, y) -> None:
        TrialState = self._optuna.trial.TrialState
        for p, v in zip(points, y):
            ok = not np.isnan(v)
            trials = self._running.get(self.space.key(p))
            if trials:
                trial = trials.pop(0)
                if ok:
                    self._study.tell(trial, float(v))
                else:
                    self._study.tell(trial, state=TrialState.FAIL)
                continue
            self._study.add_trial(self._optuna.trial.create_trial(
                params=self._to_optuna(p), distributions=self._dists,
                value=float(v) if ok else None,
                state=TrialState.COMPLETE if ok else TrialState.FAIL))

    def _propose(self, n: int) -> list[dict]:
        out = []
        for _ in range(n):
            trial = self._study.ask(self._dists)
            p = self._from_optuna(trial.params)
            self._running.setdefault(self.space.key(p), []).append(trial)
            out.append(p)
        return out
