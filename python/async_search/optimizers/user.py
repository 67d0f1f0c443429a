"""``module:Class``: a user's own optimizer behind the same ask/tell protocol.

``make_optimizer(problem, "mypackage.mymodule:MyOptimizer", seed=0, **settings)``
imports ``mypackage.mymodule`` (or a file, ``path/to/file.py:MyOptimizer``) and
builds ``MyOptimizer(problem, seed=seed, **settings)``; the settings include
``n_jobs`` and ``init_size`` from the runner. The class needs two methods:

- ``ask(n) -> list of n dicts`` with every name in ``problem.params``;
- ``tell(points, values)``: values are floats, or None/NaN for failed evaluations.

Each proposed point is checked against the space and converted to plain Python
values (NumPy scalars are fine) in ``params`` order; a bad point raises
OptimizerError naming the class. A complete example is
``async_search.optimizers.example_user:CoordinateSearch``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Any

from async_search.optimizers._base import OptimizerError
from async_search.space import SpaceError

__all__ = ["load_user_class", "UserOptimizer"]


def load_user_class(spec: str) -> type:
    """The class named by ``module:Class`` or ``file.py:Class``; OptimizerError if absent."""
    module_name, _, class_name = spec.rpartition(":")
    if not module_name or not class_name:
        raise OptimizerError(f"optimizer {spec!r}: a user optimizer is named module:Class")
    try:
        if module_name.endswith(".py"):
            if not os.path.isfile(module_name):
                raise OptimizerError(f"optimizer {spec!r}: no such file {module_name!r}")
            name = "_async_search_user_" + os.path.basename(module_name)[:-3]
            loader_spec = importlib.util.spec_from_file_location(name, module_name)
            module = importlib.util.module_from_spec(loader_spec)
            sys.modules[name] = module
            loader_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except OptimizerError:
        raise
    except Exception as e:
        raise OptimizerError(f"optimizer {spec!r}: importing {module_name!r} failed "
                             f"({type(e).__name__}: {' '.join(str(e).split())})") from None
    cls = getattr(module, class_name, None)
    if cls is None:
        raise OptimizerError(f"optimizer {spec!r}: module {module_name!r} has no {class_name!r}")
    return cls


class UserOptimizer:
    """Wraps a user's optimizer instance: checks and converts what ``ask`` returns."""

    def __init__(self, problem: Any, spec: str, seed: int = 0, **settings: Any) -> None:
        cls = load_user_class(spec)
        try:
            self.inner = cls(problem, seed=seed, **settings)
        except Exception as e:
            raise OptimizerError(f"optimizer {spec!r}: {cls.__name__}(problem, seed={seed!r}, "
                                 f"{', '.join(f'{k}={v!r}' for k, v in settings.items())}) "
                                 f"raised {type(e).__name__}: {' '.join(str(e).split())}"
                                 ) from None
        for method in ("ask", "tell"):
            if not callable(getattr(self.inner, method, None)):
                raise OptimizerError(f"optimizer {spec!r}: {cls.__name__} has no {method}() method")
        self.name = spec
        self.space = problem.space
        self.params = tuple(problem.params)

    def ask(self, n: int = 1) -> list[dict]:
        points = list(self.inner.ask(n))
        if len(points) != n:
            raise OptimizerError(f"optimizer {self.name!r}: ask({n}) returned {len(points)} points")
        try:
            return [self.space.check_point(p) for p in points]
        except SpaceError as e:
            raise OptimizerError(f"optimizer {self.name!r}: ask() returned a bad point: "
                                 f"{e}") from None

    def tell(self, points, values) -> None:
        self.inner.tell(list(points), list(values))
