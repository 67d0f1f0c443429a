"""``skopt``: scikit-optimize's ``Optimizer`` with the original workflow's settings.

Only when scikit-optimize is importable (it is unmaintained and not installable
on current NumPy/scikit-learn; ``original`` is the same algorithm on
scikit-learn). Settings, defaults as in the original: ``base_estimator`` ("RF"),
``acq_func`` ("LCB"), ``kappa`` (1.96), ``n_initial_points`` (10, raised to
``init_size`` when larger), ``n_candidates`` (10000, scikit-optimize's
``n_points`` for the "sampling" acquisition optimiser), ``strategy`` ("cl_min").
``n_jobs`` goes to scikit-optimize's acquisition optimiser.

Failed evaluations are not told (scikit-optimize would need a number; the
original's 1.8e308 wrecked the forest). Points come back from scikit-optimize
as NumPy scalars and are converted to plain values through the typed space.
"""

from __future__ import annotations

import importlib

import numpy as np

from async_search.optimizers._base import BaseOptimizer, OptimizerError, check_int
from async_search.space import Categorical, Integer, Real

__all__ = ["SkoptOptimizer"]


def _import_skopt():
    try:
        return importlib.import_module("skopt")
    except ImportError as e:
        raise OptimizerError(
            f"optimizer 'skopt' needs scikit-optimize, which cannot be imported here ({e}); "
            f"use 'original' (the same algorithm rebuilt on scikit-learn) or 'default'") from None


class SkoptOptimizer(BaseOptimizer):
    name = "skopt"
    SETTINGS = {"base_estimator": "RF", "acq_func": "LCB", "kappa": 1.96,
                "n_initial_points": 10, "n_candidates": 10000, "strategy": "cl_min"}

    def __init__(self, problem, seed=0, **settings):
        super().__init__(problem, seed=seed, **settings)
        skopt = _import_skopt()
        space_mod = importlib.import_module("skopt.space")
        s = self.settings
        check_int(self.name, "n_initial_points", s["n_initial_points"], 1)
        check_int(self.name, "n_candidates", s["n_candidates"], 1)
        dims = []
        for name, d in zip(self.space.names, self.space.dims):
            if isinstance(d, Real):
                dims.append(space_mod.Real(d.low, d.high, prior=d.prior, name=name))
            elif isinstance(d, Integer):
                dims.append(space_mod.Integer(d.low, d.high, prior=d.prior, name=name))
            elif isinstance(d, Categorical):
                # lists are unhashable for scikit-optimize: hand it indices, map back here
                dims.append(space_mod.Categorical(list(range(d.size)), name=name))
        self._opt = skopt.Optimizer(
            dims, base_estimator=s["base_estimator"], acq_func=s["acq_func"],
            acq_optimizer="sampling",
            n_initial_points=max(s["n_initial_points"], self.init_size or 0),
            acq_func_kwargs={"kappa": s["kappa"]},
            acq_optimizer_kwargs={"n_points": s["n_candidates"], "n_jobs": self.n_jobs},
            random_state=self.seed)

    def _encode(self, point: dict) -> list:
        row = []
        for name, d in zip(self.space.names, self.space.dims):
            v = point[name]
            row.append(d.index(v) if isinstance(d, Categorical) else v)
        return row

    def _decode(self, row) -> dict:
        out = {}
        for name, d, v in zip(self.space.names, self.space.dims, row):
            v = v.item() if isinstance(v, np.generic) else v
            if isinstance(d, Categorical):
                out[name] = d.categories[int(v)]
            elif isinstance(d, Integer):
                out[name] = int(round(v))
            else:
                out[name] = float(v)
        return out

    def _observed(self, points, U, y) -> None:
        ok = ~np.isnan(y)
        if ok.any():
            xs = [self._encode(p) for p, good in zip(points, ok) if good]
            self._opt.tell(xs, [float(v) for v in y[ok]])

    def _propose(self, n: int) -> list[dict]:
        rows = self._opt.ask(n_points=n, strategy=self.settings["strategy"])
        if n == 1 and rows and not isinstance(rows[0], (list, tuple, np.ndarray)):
            rows = [rows]
        return [self._decode(r) for r in rows]
