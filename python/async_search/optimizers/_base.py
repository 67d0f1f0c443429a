"""What every built-in optimizer shares: settings, observations, pending points, dedup.

The protocol (see ``async_search.optimizers``):

- ``ask(n)`` returns exactly ``n`` point dicts, keys in ``problem.params`` order,
  plain Python values. Asked points are *pending* until told.
- ``tell(points, values)`` records results; a value of None, NaN, +-inf or a
  magnitude >= 1e300 (the original's 1.8e308 stand-in for NaN) is a *failed*
  evaluation. Points never asked (a restart replaying earlier results) are fine.
- ``tell(points, values, stopped=...)``: for an evaluation a stopper ended
  early, ``stopped[i]`` is ``(step, last value, full step)`` (full step 0:
  unknown) and ``values[i]`` the stopper's estimate of its final. The value
  modelled for it is :func:`stopped_fill`'s, recomputed at every tell from the
  completed values then known (the estimate only while none completed).

Subclasses implement ``_propose(n) -> list[dict]`` and may override ``_observed``.
Randomness comes only from ``self.rng`` (seeded), so the same seed and the same
tell/ask sequence give the same proposals.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import math
import numbers
import os
import sys
import threading
from typing import Any, Mapping, Sequence

import numpy as np

from async_search.space import Space, SpaceError

__all__ = ["BaseOptimizer", "OptimizerError", "FAILED_MAGNITUDE", "import_in_background",
           "stopped_fill"]

FAILED_MAGNITUDE = 1e300  # |value| at or above this is the original's NaN stand-in: failed
IMPORT_THREAD = "async-search-import"
_importing: list[threading.Thread] = []  # background imports (import_in_background)
_importing_lock = threading.Lock()


def import_in_background(module: str) -> None:
    """Import ``module`` in a thread unless it is loaded or being loaded already.

    An optimizer that will need a heavy module only later (scikit-learn for trees)
    starts its import while the initial design is evaluated, so that no model turn
    waits for it. The library scan of threadpoolctl (``BaseOptimizer._limits``) must
    not overlap such an import: a thread loading an extension module holds the GIL
    and waits for the dynamic loader's lock, the scan holds that lock and waits for
    the GIL. ``_limits`` therefore waits for these imports before its first scan. A
    plain thread: the interpreter joins it at exit."""
    with _importing_lock:
        if module in sys.modules or any(t.is_alive() for t in _importing):
            return
        t = threading.Thread(target=importlib.import_module, args=(module,),
                             name=IMPORT_THREAD)
        _importing.append(t)
        t.start()


def _imports_running() -> bool:
    with _importing_lock:
        _importing[:] = [t for t in _importing if t.is_alive()]
        return bool(_importing)


def wait_for_imports() -> None:
    """Wait until every background import has ended. The engine calls it before
    the interpreter finalizes: an import still running then fails (its modules can
    no longer register their exit hooks) and prints a traceback."""
    with _importing_lock:
        threads, _importing[:] = list(_importing), []
    for t in threads:
        t.join()


class OptimizerError(ValueError):
    """Bad optimizer name, setting or call; str() is one line with what is allowed."""


def check_int(owner: str, name: str, value: Any, low: int, allow_none: bool = False) -> Any:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise OptimizerError(f"optimizer {owner!r}: setting {name}={value!r} must be an "
                             f"integer >= {low}")
    return int(value)


def check_float(owner: str, name: str, value: Any, low: float, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            low <= float(value) <= high):
        raise OptimizerError(f"optimizer {owner!r}: setting {name}={value!r} must be a number "
                             f"in [{low}, {high}]")
    return float(value)


def check_choice(owner: str, name: str, value: Any, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise OptimizerError(f"optimizer {owner!r}: setting {name}={value!r} is unknown; "
                             f"allowed: {', '.join(allowed)}")
    return value


def failed(value: Any) -> bool:
    """True when ``value`` stands for a failed evaluation."""
    if value is None:
        return True
    v = float(value)
    return not math.isfinite(v) or abs(v) >= FAILED_MAGNITUDE


def to_value(value: Any) -> float:
    """A told value as float, NaN for a failed evaluation; raises OptimizerError if not a number."""
    if value is None:
        return math.nan
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise OptimizerError(f"tell: value {value!r} is not a number (or None for a failure)")
    return math.nan if failed(value) else float(value)


def _depths(seen: Sequence[tuple]) -> np.ndarray:
    """How far each stopped evaluation trained: its step over its full step, or, where
    that is unknown, over the deepest step any of them reached."""
    deepest = max(float(step) for step, _, _ in seen)
    return np.array([step / full if full > 0 else step / deepest for step, _, full in seen],
                    dtype=float)


def stopped_fill(completed: np.ndarray, seen: Sequence[tuple]) -> np.ndarray:
    """Values for stopped evaluations, ordered as Optuna's TPE orders pruned trials.

    ``completed``: the values of evaluations that ran to their end (at least one);
    ``seen``: one ``(step, last value, full step)`` per stopped evaluation. Every
    stopped one gets a value worse than the worst completed, and they rank among
    themselves by how deep they trained (deeper is better), then by their last value.
    The values are ranks spread over the completed values' span above their worst
    (W + S (r + 1) / (m + 1), m distinct ranks), so no early value, however far off
    (a diverging loss of 1e3), stretches the surrogate's scale.
    """
    worst, best = float(np.max(completed)), float(np.min(completed))
    span = worst - best if worst > best else max(abs(worst), 1.0) * 0.1
    keys = list(zip(-_depths(seen), (float(last) for _, last, _ in seen)))
    distinct = sorted(set(keys))
    rank = {key: r for r, key in enumerate(distinct)}
    m = len(distinct)
    return np.array([worst + span * (rank[k] + 1) / (m + 1) for k in keys], dtype=float)


class BaseOptimizer:
    """Shared state and checks; subclasses set ``name``, ``SETTINGS`` and ``_propose``."""

    name = "base"
    SETTINGS: Mapping[str, Any] = {}  # optimizer-specific settings and their defaults
    tells_stopped = True  # tell() takes stopped=... (the engine's --stopper-tell rank)
    # True: it searches a problem with several objectives (``problem.objectives``):
    # tell gets a sequence of values per point; others refuse such a problem
    MULTI_OBJECTIVE = False

    def __init__(self, problem: Any, seed: int = 0, n_jobs: int | None = 1,
                 init_size: int | None = None, **settings: Any) -> None:
        unknown = sorted(set(settings) - set(self.SETTINGS))
        if unknown:
            allowed = ", ".join(["n_jobs", "init_size", *self.SETTINGS]) or "none"
            raise OptimizerError(f"optimizer {self.name!r} has no setting {unknown[0]!r}; "
                                 f"allowed: {allowed}")
        space = getattr(problem, "space", None)
        if not isinstance(space, Space):
            raise OptimizerError(f"optimizer {self.name!r} needs a Problem from load_problem(), "
                                 f"got {type(problem).__name__}")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise OptimizerError(f"optimizer {self.name!r}: seed={seed!r} must be an integer")
        if n_jobs is not None and not isinstance(n_jobs, bool) and isinstance(
                n_jobs, numbers.Integral) and n_jobs < 0:
            n_jobs = max(1, (os.cpu_count() or 1) + 1 + int(n_jobs))  # joblib's -1 = all cores
        self.objectives: tuple = tuple(getattr(problem, "objectives", ()) or ())
        if len(self.objectives) > 1 and not self.MULTI_OBJECTIVE:
            raise OptimizerError(
                f"optimizer {self.name!r} handles one objective, and the problem declares "
                f"{len(self.objectives)} ({', '.join(self.objectives)}); use OPTIMIZER=default "
                f"or random, or a plugin class (module:Class)")
        self.problem = problem
        self.space: Space = space
        self.params: tuple = tuple(problem.params)
        self.seed = int(seed)
        self.n_jobs = check_int(self.name, "n_jobs", 1 if n_jobs is None else n_jobs, 1)
        self.init_size = check_int(self.name, "init_size", init_size, 0, allow_none=True)
        self.settings = {k: (settings[k] if settings.get(k) is not None else v)
                         for k, v in self.SETTINGS.items()}
        self.rng = np.random.default_rng(np.random.SeedSequence(abs(self.seed)))
        d = len(self.space)
        self._X = np.empty((0, d))           # unit-cube rows of told points
        self._y = np.empty(0)                # their values, NaN = failed
        self._Y = np.empty((0, max(1, len(self.objectives))))  # several objectives' values
        self._n = 0
        self._seen: dict[str, int] = {}      # key -> times told
        self._pending: dict[str, list] = {}  # key -> [count, unit row], in order of asking
        self._n_pending = 0                  # sum of the counts
        self._stopped: list[tuple] = []      # (row, (step, last, full), estimate)
        self._controller = None
        self._queue: list[dict] = []         # enqueued points not asked yet (enqueue)
        self._warm = None                    # transfer mode: (row indices, earlier values)
        self._n_told = 0                     # points told in all (warm rows included)
        self._n_warm = 0                     # of them, warm rows (warm())
        self._transfer = False               # warm rows came in the transfer mode

    # -- public protocol ---------------------------------------------------------------
    def tell(self, points: Sequence[Mapping[str, Any]], values: Sequence[Any],
             stopped: Sequence[Any] | None = None) -> None:
        """Record results of evaluated points (one batch); None/NaN values are failures.
        ``stopped``: None, or per point None or (step, last value, full step) for one a
        stopper ended early (see the module's docstring)."""
        points = list(points)
        values = list(values)
        stopped = [None] * len(points) if stopped is None else list(stopped)
        if len(points) != len(values) or len(points) != len(stopped):
            raise OptimizerError(f"tell: {len(points)} points but {len(values)} values "
                                 f"and {len(stopped)} stopped entries")
        if not points:
            return
        try:
            checked = [self.space.check_point(p) for p in points]
            U = self.space.to_unit(checked)
        except SpaceError as e:
            raise OptimizerError(f"tell: {e}") from None
        if len(self.objectives) > 1:
            Y = np.array([self._to_values(v) for v in values], dtype=float).reshape(
                len(values), len(self.objectives))
            y = Y[:, 0].copy()
        else:
            y = np.array([to_value(v) for v in values], dtype=float)
            Y = y[:, None]
        keys = [self.space.key(p) for p in checked]
        for k in keys:
            self._seen[k] = self._seen.get(k, 0) + 1
            entry = self._pending.get(k)
            if entry is not None:
                entry[0] -= 1
                self._n_pending -= 1
                if entry[0] <= 0:
                    del self._pending[k]
        self._n_told += len(points)
        first = self._n
        self._append(U, y, Y)
        self._note_stopped(first, stopped)
        self._remap_warm()
        with self._limits():
            self._observed(checked, U, self._y[first:self._n].copy())

    def ask(self, n: int = 1) -> list[dict]:
        """Return exactly ``n`` new points (plain values, params order); they become pending."""
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise OptimizerError(f"ask: n={n!r} must be an integer >= 0")
        n = int(n)
        if n == 0:
            return []
        if self._queue:
            return self._ask_queued(n)
        with self._limits():
            points = self._propose(n)
        if len(points) != n:
            raise RuntimeError(f"optimizer {self.name!r} proposed {len(points)} points, not {n}")
        out = [{k: p[k] for k in self.params} for p in points]
        self._add_pending(out)
        return out

    def pending(self, points: Sequence[Mapping[str, Any]]) -> None:
        """Register points issued without being asked for here (a restart issues the
        points that were in flight again): they are pending, as asked points are,
        until told, and new proposals avoid them."""
        try:
            checked = [self.space.check_point(p) for p in points]
        except SpaceError as e:
            raise OptimizerError(f"pending: {e}") from None
        if not checked:
            return
        self._add_pending(checked)

    def _add_pending(self, points: list[dict]) -> None:
        """Counts each point (checked, params order) as pending once more."""
        for p, u in zip(points, self.space.to_unit(points)):
            k = self.space.key(p)
            entry = self._pending.get(k)
            if entry is None:
                self._pending[k] = [1, u]
            else:
                entry[0] += 1
            self._n_pending += 1

    # -- reuse (docs/reuse.md) ---------------------------------------------------------
    def enqueue(self, points: Sequence[Mapping[str, Any]]) -> None:
        """Points to evaluate first: the next asks return them, in this order, before
        any proposal. They are pending from now on (new proposals avoid them, and
        they count towards the initial design). A value outside the space raises
        OptimizerError naming the point and the parameter."""
        from async_search.reuse import value_in

        checked = []
        for i, p in enumerate(points, start=1):
            try:
                missing = [n for n in self.params if n not in p]
                if missing:
                    raise SpaceError(f"lacks {missing}")
                checked.append({n: value_in(d, p[n]) for n, d in
                                zip(self.space.names, self.space.dims)})
            except SpaceError as e:
                raise OptimizerError(f"enqueue: point {i} {dict(p)!r}: {e}") from None
        self.pending(checked)
        self._queue += checked

    def _ask_queued(self, n: int) -> list[dict]:
        take, self._queue = self._queue[:n], self._queue[n:]
        return [dict(p) for p in take] + (self.ask(n - len(take)) if n > len(take) else [])

    def warm(self, points: Sequence[Mapping[str, Any]], values: Sequence[Any],
             mode: str = "plain") -> None:
        """Tell results of earlier experiments before the first ask: ``plain`` as they
        are (the same problem), ``transfer`` through an affine map refitted on the new
        values as they arrive (a related problem: ``transfer.py``). Either way their
        points count as told, so they are never proposed again."""
        check_choice(self.name, "warm_start_mode", mode, ("plain", "transfer"))
        start = self._n
        self.tell(points, values)
        self._n_warm += self._n - start
        self._transfer |= mode == "transfer"
        if mode == "transfer" and self._n > start:
            self._warm = (np.arange(start, self._n), self._y[start:self._n].copy())
            self._remap_warm()

    def _remap_warm(self) -> None:
        """Transfer mode: the earlier rows' values mapped onto the new values' scale;
        those the new rows supersede, or all once they are retired, leave the data
        (``transfer.py``)."""
        if self._warm is None:
            return
        from async_search.optimizers import transfer

        rows, v = self._warm
        new = np.ones(self._n, dtype=bool)
        new[rows] = False
        new &= ~np.isnan(self._y[:self._n])
        gone = transfer.superseded(self._X[rows], self._X[:self._n][new], len(rows))
        ok = ~np.isnan(v)
        if not gone.all() and transfer.misfit(self._X[rows[ok]], v[ok], self._X[:self._n][new],
                                              self._y[:self._n][new]):
            gone[:] = True
        if gone.any():
            keep = np.ones(self._n, dtype=bool)
            keep[rows[gone]] = False
            at = np.cumsum(keep) - 1
            self._X[:int(keep.sum())] = self._X[:self._n][keep]
            self._y[:int(keep.sum())] = self._y[:self._n][keep]
            self._n = int(keep.sum())
            rows, v, new = at[rows[~gone]], v[~gone], new[keep]
            self._warm = (rows, v) if len(rows) else None
            self._rows_left()
        if not len(rows):
            return
        ok = ~np.isnan(v)
        a, b = transfer.affine_map(self._X[rows[ok]], v[ok], self._X[:self._n][new],
                                   self._y[:self._n][new])
        self._y[rows] = a + b * v

    # -- for subclasses ----------------------------------------------------------------
    def _propose(self, n: int) -> list[dict]:
        raise NotImplementedError

    def _observed(self, points: list[dict], U: np.ndarray, y: np.ndarray) -> None:
        """Hook called after each tell batch (already appended to _X/_y)."""

    def _rows_left(self) -> None:
        """Hook called when told rows left the data (the transfer mode's earlier rows):
        a model fitted with them is refitted at the next ask."""

    @property
    def n_warm(self) -> int:
        """Warm rows told (:meth:`warm`), in either mode."""
        return self._n_warm

    @property
    def n_new(self) -> int:
        """This run's own evaluations so far: points told or pending that are not
        warm rows (enqueued and replayed points count)."""
        return self._n_told - self._n_warm + self._n_pending

    @property
    def X(self) -> np.ndarray:
        """Unit-cube rows of all told points (a view)."""
        return self._X[:self._n]

    @property
    def y(self) -> np.ndarray:
        """Values of all told points (NaN = failed)."""
        return self._y[:self._n]

    @property
    def n_pending(self) -> int:
        """Asked points not told yet (with repeats)."""
        return self._n_pending

    def pending_unit(self, limit: int | None = None) -> np.ndarray:
        """Unit-cube rows of asked-but-not-told points, one per distinct point; with
        ``limit``, only the most recently asked ``limit`` of them."""
        if not self._pending:
            return np.empty((0, len(self.space)))
        entries = reversed(self._pending.values())
        if limit is not None:
            entries = itertools.islice(entries, limit)
        return np.array([e[1] for e in entries])

    def is_taken(self, key: str) -> bool:
        return key in self._seen or key in self._pending

    def distinct_taken(self) -> int:
        return len(self._seen) + sum(1 for k in self._pending if k not in self._seen)

    def space_left(self, chosen: set | None = None) -> float:
        """How many points of the space are neither told, pending nor chosen (inf if Real)."""
        size = self.space.size
        if math.isinf(size):
            return size
        return size - self.distinct_taken() - len(chosen or ())

    def pick_new(self, U: np.ndarray, n: int, chosen: set | None = None) -> list[dict]:
        """The first ``n`` rows of ``U`` (best first) whose points are new: not told, not
        pending, not already picked. Returns fewer when ``U`` runs out."""
        chosen = set() if chosen is None else chosen
        out = []
        for p in self.space.from_unit(U) if len(U) else []:
            k = self.space.key(p)
            if k in chosen or self.is_taken(k):
                continue
            chosen.add(k)
            out.append(p)
            if len(out) == n:
                break
        return out

    def random_new(self, n: int, chosen: set | None = None) -> list[dict]:
        """``n`` random points, new when the space still has new points, else repeats."""
        chosen = set() if chosen is None else chosen
        out: list[dict] = []
        for _ in range(20):
            need = n - len(out)
            if need <= 0:
                break
            if self.space_left(chosen) <= 0:
                break
            out += self.pick_new(self.space.sample_unit(max(2 * need, 16), self.rng), need,
                                 chosen)
        if len(out) < n:  # exhausted (or nearly): duplicates are allowed only now
            out += self.space.from_unit(self.space.sample_unit(n - len(out), self.rng))
        return out

    @property
    def Y(self) -> np.ndarray:
        """Several objectives: the told values, one row per point (a row of NaN = failed);
        one objective: ``y`` as a column."""
        return self._Y[:self._n]

    # -- internals -----------------------------------------------------------------------
    def _to_values(self, value: Any) -> list:
        """One told point's values of several objectives; NaN everywhere if it failed."""
        k = len(self.objectives)
        if value is None:
            return [math.nan] * k
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != k:
            raise OptimizerError(f"tell: value {value!r} is not a sequence of {k} numbers "
                                 f"({', '.join(self.objectives)}), or None for a failure")
        row = [to_value(v) for v in value]
        return [math.nan] * k if any(math.isnan(v) for v in row) else row

    def _append(self, U: np.ndarray, y: np.ndarray, Yk: np.ndarray | None = None) -> None:
        need = self._n + len(y)
        if need > len(self._y):
            cap = max(need, 2 * len(self._y), 64)
            X = np.empty((cap, self._X.shape[1]))
            X[:self._n] = self._X[:self._n]
            Y = np.empty(cap)
            Y[:self._n] = self._y[:self._n]
            YK = np.empty((cap, self._Y.shape[1]))
            YK[:self._n] = self._Y[:self._n]
            self._X, self._y, self._Y = X, Y, YK
        self._X[self._n:need] = U
        self._y[self._n:need] = y
        self._Y[self._n:need] = y[:, None] if Yk is None else Yk
        self._n = need

    def _note_stopped(self, first: int, stopped: list) -> None:
        """Record this batch's stopped evaluations (rows from ``first``) and give every
        stopped row its value from the completed values known now."""
        for i, seen in enumerate(stopped):
            if seen is None:
                continue
            step, last, full = seen
            if not (int(step) > 0 and math.isfinite(float(last))):
                raise OptimizerError(f"tell: stopped entry {seen!r} needs a step > 0 and a "
                                     "finite last value")
            row = first + i
            self._stopped.append((row, (int(step), float(last), int(full)), self._y[row]))
        if not self._stopped:
            return
        rows = np.array([row for row, _, _ in self._stopped])
        done = ~np.isnan(self._y[:self._n])
        done[rows] = False
        if done.any():
            self._y[rows] = stopped_fill(self._y[:self._n][done],
                                         [seen for _, seen, _ in self._stopped])
        else:
            self._y[rows] = [estimate for _, _, estimate in self._stopped]

    def _light(self) -> bool:
        """True when the next tell or ask computes no model (no BLAS to limit)."""
        return False

    def _limits(self):
        """Context that keeps BLAS/OpenMP single-threaded while the optimizer computes.

        ``n_jobs`` is spent on the optimizers' own threads (forest fits, tree and GP
        prediction, GP fits); BLAS threads nested in those, or on the small matrices of
        a GP, only contend for the cores (measured: a 150-point GP refit ran 5x slower
        with 2 BLAS threads on a busy 2-core machine).

        The controller is made (its library scan) once no background import runs
        (:func:`import_in_background`); while one runs and ``_light()`` says the next
        computation needs no BLAS (an initial design), no limit is set."""
        if self._controller is None:
            if _imports_running():
                if self._light():
                    return contextlib.nullcontext()
                wait_for_imports()
            from threadpoolctl import ThreadpoolController

            self._controller = ThreadpoolController()
        return self._controller.limit(limits=1)
