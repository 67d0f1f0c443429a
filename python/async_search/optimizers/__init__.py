"""Optimizers behind one ask/tell protocol, chosen by name with :func:`make_optimizer`.

Every optimizer returned by ``make_optimizer(problem, name, seed, **settings)`` has

- ``ask(n) -> list[dict]``: exactly ``n`` points, keys in ``problem.params``
  order, plain JSON-serialisable values (float, int, str, bool, ...). Asked
  points are pending until told.
- ``tell(points, values)``: one batch of results; a value is a float, or
  None/NaN (also +-inf or |v| >= 1e300) for a failed evaluation. Points that
  were never asked (a restart replaying earlier results) are accepted.

Names:

- ``default``: the project's model-based engine (see ``default.py``);
- ``original``: the seed workflow's algorithm rebuilt on scikit-learn;
- ``random``: random search;
- ``skopt``: scikit-optimize with the original's settings (only if importable);
- ``optuna``: Optuna's TPE via ask/tell;
- ``module:Class`` or ``file.py:Class``: a user's class, built as
  ``Class(problem, seed=seed, **settings)`` (example in ``example_user.py``).

Settings common to the built-ins: ``n_jobs`` (threads for fitting and
prediction), ``init_size`` (INIT_SIZE: size of the initial design). Each
optimizer documents its own settings in its module; an unknown setting name
raises :class:`OptimizerError` (a ValueError) listing the allowed ones. A
setting given as None takes its default.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from async_search.optimizers._base import BaseOptimizer, OptimizerError

__all__ = ["BaseOptimizer", "OptimizerError", "NAMES", "make_optimizer"]

# name -> "module:Class" inside this package (imported on use: optuna is slow to import)
_REGISTRY = MappingProxyType({
    "default": "async_search.optimizers.default:DefaultOptimizer",
    "original": "async_search.optimizers.original:Original",
    "random": "async_search.optimizers.random_search:RandomSearch",
    "skopt": "async_search.optimizers.skopt_adapter:SkoptOptimizer",
    "optuna": "async_search.optimizers.optuna_adapter:OptunaOptimizer",
})
NAMES = tuple(_REGISTRY)


def make_optimizer(problem: Any, name: str = "default", seed: int = 0, warm_start: Any = None,
                   warm_start_mode: str = "plain", **settings: Any):
    """Build the optimizer ``name`` for ``problem``; raises OptimizerError on a bad name/setting.

    ``warm_start``: earlier results told before the first ask (docs/reuse.md): a
    DataFrame as :func:`async_search.load_results` returns, or the path of an
    experiment directory (or its results.csv); only ``ok`` rows count, mapped onto
    this space (async_search.reuse). ``warm_start_mode``: ``plain`` (the same
    problem) or ``transfer`` (a related one: the earlier values rescaled to the new
    ones as they arrive). Bad rows raise a ValueError naming the problem.
    """
    opt = _build(problem, name, seed, **settings)
    if warm_start is not None:
        from async_search import reuse

        rows = reuse.warm_from_frame(warm_start, problem, reuse.starting_point(problem)[0])
        if hasattr(opt, "warm"):
            opt.warm(rows.points, rows.values, warm_start_mode)
        elif warm_start_mode == "plain":
            opt.tell(rows.points, rows.values)
        else:
            raise OptimizerError(f"optimizer {name!r} has no transfer mode; use "
                                 f"warm_start_mode='plain'")
    return opt


def _build(problem: Any, name: str, seed: int, **settings: Any):
    import importlib

    if not isinstance(name, str) or not name:
        raise OptimizerError(f"optimizer name {name!r} is unknown; allowed: "
                             f"{', '.join(NAMES)}, or module:Class")
    target = _REGISTRY.get(name)
    if target is None:
        if ":" in name:
            from async_search.optimizers.user import UserOptimizer

            return UserOptimizer(problem, name, seed=seed, **settings)
        raise OptimizerError(f"optimizer name {name!r} is unknown; allowed: "
                             f"{', '.join(NAMES)}, or module:Class")
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)(problem, seed=seed, **settings)
