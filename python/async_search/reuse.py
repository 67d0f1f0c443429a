"""Reusing what is known: the problem's starting point, enqueued points, warm starts.

Three ways (docs/reuse.md):

- the problem file's ``starting_point`` (a list in ``params`` order, or a dict),
  when complete and inside the space, is the first point evaluated; a partial or
  mismatched one is a one-line warning naming the problem file, and is ignored;
- ``--enqueue FILE.csv``: points evaluated first, in file order
  (:func:`read_enqueue`);
- ``--warm-start EXPDIR[,EXPDIR...]``: the ``ok`` rows of earlier experiments,
  told to the optimizer before its first point (:func:`read_warm`), or a
  DataFrame of such rows (:func:`warm_from_frame`, the Python API).

The space may have changed since: a row whose value lies outside a narrowed
range (or is no longer a category) is left out and counted; a dimension added
since takes the starting point's value, or without one :func:`default_value`;
a dimension removed since is dropped. Every defect of the user's input raises
:class:`ReuseError`, a ValueError whose text is one line naming the file, the
row and the column (the C side prints it and exits 2).
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from async_search import expfiles
from async_search.space import Categorical, Integer, Real, Space, SpaceError

__all__ = ["ReuseError", "Warm", "default_value", "read_enqueue", "read_warm",
           "check_starting_point", "starting_point", "summary", "value_in", "warm_from_frame"]

# results.csv's own columns: accepted (and ignored) in an --enqueue file, so that rows
# pasted from an experiment's results.csv can be enqueued as they are
_RESULTS_COLUMNS = frozenset((expfiles.JOB_ID, *expfiles.FIXED))


class ReuseError(ValueError):
    """Unusable reuse input; str() is one line naming the file, row and column."""


def default_value(dim: Any) -> Any:
    """A dimension's default: the middle of a range (geometric for log-uniform,
    rounded for integers), the first of the categories."""
    if isinstance(dim, Categorical):
        return dim.categories[0]
    if dim.prior == "log-uniform":
        mid = math.sqrt(dim.low * dim.high)
    else:
        mid = (dim.low + dim.high) / 2
    return int(round(mid)) if isinstance(dim, Integer) else float(mid)


def value_in(dim: Any, value: Any) -> Any:
    """``value`` as the dimension's canonical value; SpaceError when it is of the wrong
    type or outside the range (Space.check_point checks types, not bounds)."""
    v = dim.check(value)
    if isinstance(dim, (Real, Integer)) and not dim.low <= v <= dim.high:
        raise SpaceError(f"value {value!r} is outside {dim.describe()}")
    return v


def _from_text(dim: Any, text: str) -> Any:
    """A CSV cell as the dimension's value; SpaceError when it is not one."""
    text = text.strip()
    if isinstance(dim, Categorical):
        for c in dim.categories:
            if str(c) == text:
                return c
        for kind in (int, float):
            try:
                return value_in(dim, kind(text))
            except (ValueError, SpaceError):
                continue
        raise SpaceError(f"{text!r} is not one of {list(dim.categories)!r}")
    try:
        number = float(text)
    except ValueError:
        raise SpaceError(f"{text!r} is not a number for {dim.describe()}") from None
    return value_in(dim, number)


def starting_point(problem: Any) -> tuple[dict | None, str | None]:
    """The problem's starting point as a complete point, or (None, a one-line warning
    naming the problem file) when it is partial or mismatched; (None, None) when the
    file gives none."""
    return check_starting_point(getattr(problem, "path", "<problem>"), problem.space,
                                getattr(problem, "starting_point", None))


def check_starting_point(path: str, space: Space, given: Any) -> tuple[dict | None, str | None]:
    """See :func:`starting_point`: ``given`` as the problem file ``path`` gave it."""
    if given is None:
        return None, None
    where = f"{path}: starting_point"
    if isinstance(given, Mapping):
        names = [str(k) for k in given]
        if sorted(names) != sorted(space.names):
            return None, (f"{where} names {names} but the parameters are "
                          f"{list(space.names)}; it is ignored")
        values = [given[n] for n in space.names]
    else:
        try:
            values = list(given)
        except TypeError:
            return None, f"{where} {given!r} is not a list or dict; it is ignored"
        if len(values) != len(space.names):
            return None, (f"{where} has {len(values)} values for {len(space.names)} "
                          f"parameters; it is ignored")
    point = {}
    for name, dim, value in zip(space.names, space.dims, values):
        try:
            point[name] = value_in(dim, value)
        except SpaceError as e:
            return None, f"{where}: {name}: {e}; it is ignored"
    return point, None


def _filler(space: Space, start: dict | None) -> dict:
    """What a missing column takes: the starting point's value, else the default."""
    return {n: (start[n] if start else default_value(d)) for n, d in zip(space.names, space.dims)}


def _enqueue_columns(path: str, head: Sequence[str], space: Space) -> list:
    """Each header field's parameter name (None: a results.csv column, ignored)."""
    names = []
    for column, text in enumerate(head, start=1):
        name = text.strip()
        if name.startswith(expfiles.PARAM_PREFIX):
            name = name[len(expfiles.PARAM_PREFIX):]
        elif name in _RESULTS_COLUMNS:
            names.append(None)
            continue
        if name not in space.names:
            raise ReuseError(f"{path}: header column {column} {text!r} is not a parameter "
                             f"of the problem; allowed: {', '.join(space.names)} "
                             f"(or p:NAME)")
        if name in names:
            raise ReuseError(f"{path}: header names {name!r} twice")
        names.append(name)
    return names


def read_enqueue(path: str, problem: Any, start: dict | None) -> tuple[list, list]:
    """The points of an --enqueue CSV in file order, and notes (one line each).

    A value outside the space or an unknown column raises ReuseError naming the
    row (1 = the first after the header) and the column; a missing column (or an
    empty cell) takes the starting point's value or the space's default, which a
    note says. A point listed twice is evaluated once (a note says so).
    """
    space: Space = problem.space
    try:
        with open(path, encoding="utf-8", newline="") as f:
            records = [r for r in csv.reader(f) if any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ReuseError(f"{path}: cannot be read as CSV ({e})") from None
    if not records:
        raise ReuseError(f"{path}: empty; give a header of parameter names and one row "
                         f"per point")
    names = _enqueue_columns(path, records[0], space)
    fill = _filler(space, start)
    missing = [n for n in space.names if n not in names]
    points, keys, filled, repeats = [], set(), set(missing), 0
    for row, record in enumerate(records[1:], start=1):
        if len(record) != len(names):
            raise ReuseError(f"{path}: row {row} has {len(record)} fields, the header "
                             f"{len(names)}")
        point = dict(fill)
        for name, text in zip(names, record):
            if name is None:
                continue
            if not text.strip():
                filled.add(name)
                continue
            try:
                point[name] = _from_text(space.dims[space.names.index(name)], text)
            except SpaceError as e:
                raise ReuseError(f"{path}: row {row}, column {name}: {e}") from None
        key = space.key(point)
        if key in keys:
            repeats += 1
            continue
        keys.add(key)
        points.append(point)
    notes = []
    if filled:
        whose = "the starting point's" if start else "the space's default"
        notes.append(f"{path}: {', '.join(n for n in space.names if n in filled)} "
                     f"missing or empty: {whose} value is used "
                     f"({', '.join(f'{n}={fill[n]!r}' for n in space.names if n in filled)})")
    if repeats:
        notes.append(f"{path}: {repeats} repeated point(s) are evaluated once")
    return points, notes


@dataclass
class Warm:
    """Rows for a warm start: points (complete, in this space), their objectives
    (lower is better), and per source: where, rows used, rows left out and why."""

    points: list = field(default_factory=list)
    values: list = field(default_factory=list)
    sources: list = field(default_factory=list)

    def add(self, other: "Warm") -> None:
        """Append another source's rows, dropping points already held."""
        keys = {_key(p) for p in self.points}
        for p, v in zip(other.points, other.values):
            if _key(p) not in keys:
                keys.add(_key(p))
                self.points.append(p)
                self.values.append(v)
        self.sources += other.sources


def _key(point: Mapping) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in point.items()))


def _warm_rows(source: str, params: Sequence[str], rows: Iterable[tuple], problem: Any,
               start: dict | None, typed: bool) -> Warm:
    """Warm rows from (values by old parameter, objective) pairs; see :func:`read_warm`."""
    space: Space = problem.space
    fill = _filler(space, start)
    added = [n for n in space.names if n not in params]
    removed = [n for n in params if n not in space.names]
    sums: dict = {}
    outside = seen = 0
    for values, objective in rows:
        seen += 1
        point = dict(fill)
        try:
            for name, dim in zip(space.names, space.dims):
                if name in values:
                    cell = values[name]
                    point[name] = value_in(dim, cell) if typed else _from_text(dim, cell)
        except SpaceError:
            outside += 1
            continue
        entry = sums.setdefault(space.key(point), [point, 0.0, 0])
        entry[1] += objective
        entry[2] += 1
    warm = Warm([e[0] for e in sums.values()], [e[1] / e[2] for e in sums.values()])
    warm.sources.append({"source": source, "ok_rows": seen, "used": len(warm.points),
                         "outside_space": outside, "added": added, "removed": removed,
                         "filled_with": {n: fill[n] for n in added}})
    return warm


def _check_usable(source: str, warm: Warm, ok: int, bad_objective: int) -> None:
    if ok == 0 and bad_objective:
        raise ReuseError(f"--warm-start {source}: incompatible objective: none of its "
                         f"{bad_objective} ok row(s) has a finite number as objective")
    if not warm.points:
        outside = warm.sources[-1]["outside_space"] if warm.sources else 0
        raise ReuseError(f"--warm-start {source}: no usable rows ({ok} ok row(s) with a "
                         f"finite objective, {outside} of them outside this space)")


def read_warm(dirs: Sequence[str], problem: Any, start: dict | None) -> Warm:
    """The ok rows (finite objective) of earlier experiments' results.csv, mapped onto
    this problem's space (see the module's docstring); raises ReuseError for a
    missing experiment, one with no usable rows, or an incompatible objective."""
    total = Warm()
    for source in dirs:
        path = os.path.join(source, expfiles.RESULTS)
        if not os.path.isdir(source):
            raise ReuseError(f"--warm-start {source}: no such experiment directory")
        try:
            table = expfiles.read_table(path)
        except expfiles.ExperimentFileError as e:
            raise ReuseError(f"--warm-start {source}: {e}") from None
        at = {c: i for i, c in enumerate(table.header)}
        params = [c[len(expfiles.PARAM_PREFIX):] for c in table.header
                  if c.startswith(expfiles.PARAM_PREFIX)]
        rows, bad = [], 0
        for record in table.records:
            if record[at[expfiles.STATUS]].strip().lower() != expfiles.OK:
                continue
            try:
                objective = float(record[at[expfiles.OBJECTIVE]])
            except ValueError:
                objective = math.nan
            if not math.isfinite(objective):
                bad += 1
                continue
            rows.append(({n: record[at[expfiles.param_column(n)]] for n in params}, objective))
        warm = _warm_rows(os.path.abspath(source), params, rows, problem, start, typed=False)
        _check_usable(source, warm, len(rows), bad)
        total.add(warm)
    return total


def warm_from_frame(frame: Any, problem: Any, start: dict | None = None,
                    source: str = "<DataFrame>") -> Warm:
    """Warm rows from a DataFrame such as :func:`async_search.load_results` returns
    (``p:<name>`` or plain parameter columns, ``objective``, optional ``status``:
    only ok rows count), a path of an experiment directory or a results.csv."""
    if isinstance(frame, (str, os.PathLike)):
        path = os.fspath(frame)
        if os.path.basename(path) == expfiles.RESULTS:
            path = os.path.dirname(path) or "."
        return read_warm([path], problem, start)
    columns = [str(c) for c in frame.columns]
    if expfiles.OBJECTIVE not in columns:
        raise ReuseError(f"warm_start {source}: no {expfiles.OBJECTIVE!r} column "
                         f"(columns: {columns})")
    names = {c: (c[len(expfiles.PARAM_PREFIX):] if c.startswith(expfiles.PARAM_PREFIX)
                 else c) for c in columns if c not in _RESULTS_COLUMNS}
    rows, bad = [], 0
    for record in frame.to_dict("records"):
        status = str(record.get(expfiles.STATUS, expfiles.OK)).strip().lower()
        if status != expfiles.OK:
            continue
        try:
            objective = float(record[expfiles.OBJECTIVE])
        except (TypeError, ValueError):
            objective = math.nan
        if not math.isfinite(objective):
            bad += 1
            continue
        rows.append(({names[c]: _plain(record[c]) for c in names}, objective))
    warm = _warm_rows(source, list(names.values()), rows, problem, start, typed=True)
    _check_usable(source, warm, len(rows), bad)
    return warm


def _plain(value: Any) -> Any:
    """NumPy scalars as Python values (a DataFrame cell)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def summary(warm: Warm) -> list:
    """One line per warm-start source: rows used, left out, dimensions mapped."""
    lines = []
    for s in warm.sources:
        line = (f"warm start from {s['source']}: {s['used']} point(s) of {s['ok_rows']} ok "
                f"row(s)")
        if s["outside_space"]:
            line += f"; {s['outside_space']} left out (outside this space)"
        if s["removed"]:
            line += f"; dropped dimension(s) {', '.join(s['removed'])}"
        if s["added"]:
            line += "; added dimension(s) filled with " + ", ".join(
                f"{k}={v!r}" for k, v in s["filled_with"].items())
        lines.append(line)
    return lines
