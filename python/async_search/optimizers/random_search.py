"""``random``: independent samples from each dimension's prior, no repeats while new points exist.

Settings: ``n_jobs`` and ``init_size`` are accepted and unused (nothing to parallelise).
"""

from __future__ import annotations

from async_search.optimizers._base import BaseOptimizer

__all__ = ["RandomSearch"]


class RandomSearch(BaseOptimizer):
    name = "random"
    MULTI_OBJECTIVE = True  # the values do not matter

    def _propose(self, n: int) -> list[dict]:
        return self.random_new(n)
