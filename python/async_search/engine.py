"""The one object the C manager drives (``csrc/engine.c``).

The manager's optimizer thread constructs :class:`Engine` once with a JSON
string of settings, then alternates ``tell`` (every result that arrived since
its last turn, in one call) and ``ask`` (as many points as the request policy
wants). Everything crossing the C boundary is a plain ``str``, a ``list`` of
them, or a float64 ndarray:

- a point travels as its JSON text (keys in the problem's ``params`` order,
  UTF-8, never ASCII-escaped, so categorical values with ``;``, quotes, spaces
  or non-ASCII text reach the model exactly), and next to it as the CSV fields
  of results.csv (RFC 4180 quoting, Python's ``csv`` dialect);
- a result is the point's JSON text back, with its objective (NaN for a failed
  evaluation: the optimizer decides how failures count, never as 1.8e308).

Bad input (problem file, optimizer name or setting) raises a ``ValueError``
whose text is one line; C prints it and exits 2. Any other exception is an
internal error, logged with its traceback.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any, Sequence

from async_search.optimizers import make_optimizer
from async_search.problem import load_problem
from async_search.space import plain

__all__ = ["Engine", "csv_fields", "point_json"]


def point_json(point: dict) -> str:
    """A point as the JSON text models receive (NaN/inf refused: not valid JSON)."""
    return json.dumps(point, ensure_ascii=False, allow_nan=False)


def csv_fields(values: Sequence[Any]) -> str:
    """Values as one CSV record without its line end (quoted where needed)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values)
    return out.getvalue()


class Engine:
    """Problem + optimizer behind the manager's ask/tell calls.

    settings_json keys: ``problem`` (path, required), ``optimizer`` (name,
    default "default"), ``seed``, ``n_jobs``, ``init_size``; others
    (``max_evals``, ``workers``, ``num_buffer``) are informative.
    """

    def __init__(self, settings_json: str) -> None:
        settings = json.loads(settings_json)
        self._problem = load_problem(settings["problem"])
        self._names = tuple(self._problem.params)
        self._optimizer = make_optimizer(
            self._problem,
            settings.get("optimizer") or "default",
            seed=int(settings.get("seed", 0)),
            n_jobs=int(settings.get("n_jobs", 1)),
            init_size=int(settings.get("init_size", 4)),
        )

    def describe(self) -> str:
        """The typed space, for ``async-search --check``."""
        return self._problem.describe()

    def warnings(self) -> str:
        """Warnings about the problem file, one per line ("" when none)."""
        return "\n".join(self._problem.warnings)

    def header(self) -> str:
        """The parameter part of results.csv's header: ``p:<name>`` fields."""
        return csv_fields([f"p:{name}" for name in self._names])

    def ask(self, n: int) -> list:
        """Exactly n points as (json, csv_fields) pairs."""
        points = self._optimizer.ask(int(n))
        if len(points) != n:
            raise RuntimeError(f"the optimizer returned {len(points)} points for ask({n})")
        out = []
        for point in points:
            missing = [name for name in self._names if name not in point]
            if missing:
                raise RuntimeError(f"the optimizer returned a point without {missing}: {point!r}")
            ordered = {name: plain(point[name]) for name in self._names}
            out.append((point_json(ordered), csv_fields(list(ordered.values()))))
        return out

    def tell(self, points: Sequence[str], values: Any) -> None:
        """Results of one turn: point JSON texts and objectives (NaN = failed)."""
        decoded = [json.loads(p) for p in points]
        told = [None if v is None or math.isnan(v) else float(v) for v in values]
        self._optimizer.tell(decoded, told)
