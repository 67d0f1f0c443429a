"""async-search: asynchronous, model-based hyperparameter search for CANDLE models.

The public Python surface is small:

- ``load_problem(path)`` reads a ``problem*.py`` search-space file and returns a
  :class:`~async_search.problem.Problem`;
- ``make_optimizer(problem, name="default", seed=0, **settings)`` returns an
  object with ``ask(n) -> list[dict]`` and ``tell(points, values)``;
- ``load_results(expdir)`` returns an experiment's results.csv as a pandas
  DataFrame (typed ``p:<param>`` columns, then objective, status, worker,
  timestamps, duration; a column per objective when the problem declares
  several), ``best_row(frame)`` its best evaluation and ``pareto_rows(frame)``
  the non-dominated ones (several objectives, docs/objectives.md)
  (:mod:`async_search.expfiles` documents the experiment's files).

Names are resolved lazily (PEP 562) so that light entry points such as
``python -m async_search.runner`` (run once per evaluation) do not pay for
importing scikit-learn.
"""

from importlib import import_module

__all__ = ["Problem", "ProblemError", "best_row", "pareto_rows", "load_problem", "load_results",
           "make_optimizer", "report_intermediate"]
__version__ = "0.1.0"

_LAZY = {
    "Problem": "async_search.problem",
    "ProblemError": "async_search.problem",
    "load_problem": "async_search.problem",
    "load_results": "async_search.expfiles",
    "best_row": "async_search.expfiles",
    "pareto_rows": "async_search.expfiles",
    "make_optimizer": "async_search.optimizers",
    "report_intermediate": "async_search.intermediate",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'async_search' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__():
    return sorted(list(globals()) + __all__)
