"""``original``: the seed workflow's optimizer, rebuilt on scikit-learn.

The original called scikit-optimize's ``Optimizer(base_estimator="RF",
acq_func="LCB", acq_optimizer="sampling", random_state=seed)``: a random forest
of 100 trees with ``min_samples_leaf=3``, predictive spread by the law of total
variance over trees, LCB with kappa 1.96 minimised over 10,000 random
candidates, 10 random initial points, and ``ask(n)`` by the constant liar
``cl_min`` (refit the forest once per extra point with the best value so far as
the lie). This class does the same, with the original's defects fixed:

- a failed evaluation is *skipped* (never told to the forest as 1.8e308);
- ``n_jobs`` really parallelises the forest (fit and prediction);
- the best new candidate is taken, so a point is not proposed twice while the
  space still has new points;
- the random initial phase is ``max(n_initial_points, init_size)`` points (the
  original asked INIT_SIZE points at once; with INIT_SIZE above 10 each extra
  point cost a refit).

Settings (defaults are the original's): ``n_initial_points`` (10), ``kappa``
(1.96), ``n_candidates`` (10000), ``n_estimators`` (100), ``min_samples_leaf``
(3), ``strategy`` (``cl_min``; also ``cl_mean``, ``cl_max``). It is slow by
design (one refit per point of a batch): it is the anchor the default beats.
"""

from __future__ import annotations

import numpy as np

from async_search.optimizers._base import BaseOptimizer, check_choice, check_float, check_int
from async_search.optimizers.forest import forest_mean_std

__all__ = ["Original"]


class Original(BaseOptimizer):
    name = "original"
    SETTINGS = {"n_initial_points": 10, "kappa": 1.96, "n_candidates": 10000,
                "n_estimators": 100, "min_samples_leaf": 3, "strategy": "cl_min"}

    def __init__(self, problem, seed=0, **settings):
        super().__init__(problem, seed=seed, **settings)
        s = self.settings
        check_int(self.name, "n_initial_points", s["n_initial_points"], 1)
        check_float(self.name, "kappa", s["kappa"], 0.0)
        check_int(self.name, "n_candidates", s["n_candidates"], 1)
        check_int(self.name, "n_estimators", s["n_estimators"], 1)
        check_int(self.name, "min_samples_leaf", s["min_samples_leaf"], 1)
        check_choice(self.name, "strategy", s["strategy"], ("cl_min", "cl_mean", "cl_max"))
        self.n_initial = max(s["n_initial_points"], self.init_size or 0)

    def _fit(self, X: np.ndarray, y: np.ndarray):
        from sklearn.ensemble import RandomForestRegressor

        forest = RandomForestRegressor(
            n_estimators=self.settings["n_estimators"],
            min_samples_leaf=self.settings["min_samples_leaf"],
            random_state=int(self.rng.integers(2**31 - 1)), n_jobs=self.n_jobs)
        return forest.fit(X, y)

    def _propose(self, n: int) -> list[dict]:
        s = self.settings
        ok = ~np.isnan(self.y)
        X = self.space.features(self.X[ok])
        y = self.y[ok]
        chosen: set = set()
        out: list[dict] = []
        started = self._n + self.n_pending
        while len(out) < n:
            if started + len(out) < self.n_initial or len(y) == 0:
                out += self.random_new(1, chosen)
                continue
            forest = self._fit(X, y)
            U = self.space.snap(self.space.sample_unit(s["n_candidates"], self.rng))
            mean, std = forest_mean_std(forest, self.space.features(U), self.n_jobs)
            order = np.argsort(mean - s["kappa"] * std, kind="stable")
            new = self.pick_new(U[order], 1, chosen) or self.random_new(1, chosen)
            out += new
            if len(out) < n:  # constant liar: refit with the lie at the new point
                lie = {"cl_min": np.min, "cl_mean": np.mean, "cl_max": np.max}[s["strategy"]](y)
                X = np.vstack([X, self.space.features(self.space.to_unit(new))])
                y = np.append(y, lie)
        return out
