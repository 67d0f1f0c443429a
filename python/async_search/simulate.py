"""Objectives for simulated searches (``async-search --simulate W``).

In a simulation the manager, its request policy, the journal and the
optimizer thread run for real against virtual workers; an evaluation takes a
drawn time and its value comes from one of these functions, computed by the
optimizer thread when the point is produced (the manager's MPI thread never
calls Python).

- ``default``: a smooth bowl over the unit cube of the problem's space (each
  dimension, categorical ones by their cell, has its own optimum), cheap and
  vectorised;
- ``module:function`` (or ``file.py:function``): a user's function of one point
  dict, returning a float (NaN or an exception makes the evaluation failed).
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import os
import sys
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["default_objective", "load_objective"]

_GOLDEN = (math.sqrt(5) - 1) / 2


def default_objective(problem: Any) -> Callable[[Sequence[dict]], list]:
    """A bowl with its minimum 0 at a fixed interior point of the unit cube."""
    d = len(problem.space.dims)
    centre = 0.2 + 0.6 * ((np.arange(1, d + 1) * _GOLDEN) % 1.0)

    def objective(points: Sequence[dict]) -> list:
        u = problem.space.to_unit(list(points))
        return [float(v) for v in ((u - centre) ** 2).sum(axis=1)]

    return objective


def load_objective(spec: str, problem: Any) -> Callable[[Sequence[dict]], list]:
    """The objective named by spec ("default", "module:function", "file.py:function")."""
    if spec in ("", "default"):
        return default_objective(problem)
    module_name, _, name = spec.rpartition(":")
    if not module_name or not name:
        raise ValueError(f"--simulate-objective {spec!r}: give default, module:function or "
                         f"file.py:function")
    try:
        if module_name.endswith(".py"):
            loader = importlib.util.spec_from_file_location(
                "_async_search_objective_" + os.path.basename(module_name)[:-3], module_name)
            if loader is None or not os.path.isfile(module_name):
                raise ValueError(f"--simulate-objective {spec!r}: no such file {module_name!r}")
            module = importlib.util.module_from_spec(loader)
            sys.modules[loader.name] = module
            loader.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except ValueError:
        raise
    except Exception as e:  # the user's module failed to import: bad input
        raise ValueError(f"--simulate-objective {spec!r}: importing {module_name!r} failed "
                         f"({type(e).__name__}: {' '.join(str(e).split())})") from None
    function = getattr(module, name, None)
    if not callable(function):
        raise ValueError(f"--simulate-objective {spec!r}: {module_name!r} has no function "
                         f"{name!r}")

    def objective(points: Sequence[dict]) -> list:
        values = []
        for point in points:
            try:
                values.append(float(function(dict(point))))
            except Exception:  # a failing objective is a failed evaluation
                values.append(math.nan)
        return values

    return objective
