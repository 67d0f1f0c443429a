"""An example user optimizer: ``--optimizer async_search.optimizers.example_user:CoordinateSearch``.

A user's class is built as ``Class(problem, seed=seed, **settings)`` and needs
``ask(n) -> list of n dicts`` and ``tell(points, values)``. ``problem.space`` is
the typed :class:`async_search.space.Space`; its ``sample``, ``to_unit`` and
``from_unit`` do the bookkeeping. This one is deliberately simple: it perturbs
the best point so far, one coordinate at a time, in the unit cube.
"""

import math

import numpy as np


class CoordinateSearch:
    """Greedy coordinate perturbation around the best point; random until one result is in."""

    def __init__(self, problem, seed=0, n_jobs=1, init_size=None, step=0.2):
        self.space = problem.space
        self.rng = np.random.default_rng(seed)
        self.step = float(step)
        self.best = None  # (value, unit row)

    def tell(self, points, values):
        for point, value in zip(points, values):
            if value is None or not math.isfinite(value):
                continue  # failed evaluation: ignore it
            if self.best is None or value < self.best[0]:
                self.best = (value, self.space.to_unit([point])[0])

    def ask(self, n):
        if self.best is None:
            return self.space.sample(n, self.rng)
        rows = np.repeat(self.best[1][None, :], n, axis=0)
        dims = self.rng.integers(len(self.space), size=n)
        rows[np.arange(n), dims] += self.rng.normal(0.0, self.step, size=n)
        return self.space.from_unit(np.clip(rows, 0.0, 1.0))
