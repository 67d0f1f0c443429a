"""Typed search spaces: dimensions, scikit-optimize shorthand, unit-cube transforms.

A :class:`Space` is an ordered tuple of named dimensions. Every dimension maps
its values to and from the unit interval ``[0, 1]``:

- :class:`Real` ``(low, high, prior)``: ``uniform`` is linear in the value,
  ``log-uniform`` linear in ``log(value)``;
- :class:`Integer` ``(low, high, prior)``, both bounds inclusive: the unit
  interval is cut into ``high - low + 1`` equal cells (in log space for the
  ``log-uniform`` prior), so uniform unit samples give uniform integers;
- :class:`Categorical` ``(categories)``: ``k`` equal cells, one per category.

Sampling uniformly in the unit cube therefore samples every dimension from its
prior; Sobol and Latin-hypercube designs (``scipy.stats.qmc``) are built there.

Surrogate models see :meth:`Space.features`: the unit coordinate for Real and
Integer dimensions, one column per category (one-hot) for unordered
categoricals, and the rank of the value for *ordered* categoricals (every
category a number, e.g. ``batch_size: [16, 32, 64, 128]``), whose unit
coordinate then follows the sorted order.

Values handed out are plain Python objects (float, int, str, bool, ...), never
NumPy scalars, so they serialise to JSON and round-trip exactly.

The ``space`` entries of problem files are scikit-optimize's shorthand
(``skopt.space.check_dimension``), which the original async-search problem
files use: a tuple or list is read by its length and element types, e.g.
``(0, 0.9)`` is a Real, ``(2, 3)`` an Integer, ``["adam", "sgd"]`` a
Categorical. :func:`dimension_from_shorthand` states the rules, and where we
depart from scikit-optimize.
"""

from __future__ import annotations

import json
import math
import numbers
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence, Union

import numpy as np

from async_search._compat import FROZEN

__all__ = [
    "Categorical",
    "Dimension",
    "Integer",
    "Real",
    "Space",
    "SpaceError",
    "dimension_from_shorthand",
    "plain",
]

PRIORS = ("uniform", "log-uniform")
_SCALARS = (str, int, float, bool, type(None))  # values with fast paths (no conversion)


class SpaceError(ValueError):
    """A dimension or space is invalid; str() is one line saying what and what is allowed."""


def plain(value: Any) -> Any:
    """Return ``value`` as a plain Python object (NumPy scalars and arrays converted)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return value


def _key(value: Any) -> str:
    """Canonical text of a categorical value: equal after a JSON round trip."""
    return json.dumps(plain(value), sort_keys=True, ensure_ascii=False)


def _check_bounds(kind: str, low: Any, high: Any, prior: str) -> None:
    for name, v in (("low", low), ("high", high)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise SpaceError(f"{kind} {name} bound {v!r} is not a number")
        if not math.isfinite(float(v)):
            raise SpaceError(f"{kind} {name} bound {v!r} is not finite; "
                             f"bounds must be finite numbers")
    if not low < high:
        raise SpaceError(
            f"{kind} bounds ({low!r}, {high!r}) are reversed or equal; low must be < high "
            f"(for one fixed value use a one-item list [value])"
        )
    if prior not in PRIORS:
        raise SpaceError(f"{kind} prior {prior!r} is unknown; allowed: 'uniform', 'log-uniform'")
    if prior == "log-uniform" and low <= 0:
        raise SpaceError(
            f"{kind}({low!r}, {high!r}, 'log-uniform') has a non-positive bound; "
            f"a log-uniform prior needs 0 < low < high"
        )


@dataclass(**FROZEN)
class Real:
    """A real interval ``[low, high]`` with a ``uniform`` or ``log-uniform`` prior."""

    low: float
    high: float
    prior: str = "uniform"

    def __post_init__(self) -> None:
        _check_bounds("Real", self.low, self.high, self.prior)
        object.__setattr__(self, "low", float(self.low))
        object.__setattr__(self, "high", float(self.high))

    @property
    def size(self) -> float:
        return math.inf

    def _edges(self) -> tuple[float, float]:
        if self.prior == "log-uniform":
            return math.log(self.low), math.log(self.high)
        return self.low, self.high

    def to_unit(self, values: np.ndarray) -> np.ndarray:
        a, b = self._edges()
        v = np.asarray(values, dtype=float)
        if self.prior == "log-uniform":
            v = np.log(np.maximum(v, self.low * 1e-300))
        return np.clip((v - a) / (b - a), 0.0, 1.0)

    def from_unit(self, u: np.ndarray) -> list:
        a, b = self._edges()
        v = a + np.clip(u, 0.0, 1.0) * (b - a)
        if self.prior == "log-uniform":
            v = np.exp(v)
        return np.clip(v, self.low, self.high).tolist()

    def snap(self, u: np.ndarray) -> np.ndarray:
        return np.clip(u, 0.0, 1.0)

    def check(self, value: Any) -> float:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise SpaceError(f"value {value!r} is not a number for {self.describe()}")
        return float(value)

    def describe(self) -> str:
        return f"Real({self.low!r}, {self.high!r}, prior={self.prior})"


@dataclass(**FROZEN)
class Integer:
    """An integer range ``low..high`` (both inclusive), ``uniform`` or ``log-uniform``."""

    low: int
    high: int
    prior: str = "uniform"

    def __post_init__(self) -> None:
        for name, v in (("low", self.low), ("high", self.high)):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
                raise SpaceError(f"Integer {name} bound {v!r} is not an integer")
        _check_bounds("Integer", int(self.low), int(self.high), self.prior)
        object.__setattr__(self, "low", int(self.low))
        object.__setattr__(self, "high", int(self.high))

    @property
    def size(self) -> int:
        return self.high - self.low + 1

    def _edges(self) -> tuple[float, float]:
        # Cell edges: half a unit beyond each bound, in log space for the log prior.
        if self.prior == "log-uniform":
            return math.log(self.low - 0.5 if self.low > 1 else 0.5), math.log(self.high + 0.5)
        return self.low - 0.5, self.high + 0.5

    def to_unit(self, values: np.ndarray) -> np.ndarray:
        a, b = self._edges()
        v = np.asarray(values, dtype=float)
        if self.prior == "log-uniform":
            v = np.log(np.maximum(v, 0.5))
        return np.clip((v - a) / (b - a), 0.0, 1.0)

    def _ints(self, u: np.ndarray) -> np.ndarray:
        a, b = self._edges()
        v = a + np.clip(u, 0.0, 1.0) * (b - a)
        if self.prior == "log-uniform":
            v = np.exp(v)
        return np.clip(np.floor(v + 0.5), self.low, self.high).astype(np.int64)

    def from_unit(self, u: np.ndarray) -> list:
        return [int(i) for i in self._ints(u)]

    def snap(self, u: np.ndarray) -> np.ndarray:
        return self.to_unit(self._ints(u))

    def check(self, value: Any) -> int:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise SpaceError(f"value {value!r} is not an integer for {self.describe()}")
        if float(value) != round(float(value)):
            raise SpaceError(f"value {value!r} is not an integer for {self.describe()}")
        return int(round(float(value)))

    def describe(self) -> str:
        return f"Integer({self.low!r}, {self.high!r}, prior={self.prior})"


@dataclass(**FROZEN)
class Categorical:
    """A finite set of values (str, number, bool, None or JSON-like lists).

    ``ordered`` is derived: True when every category is a real number (not a
    bool); the unit coordinate then follows the sorted values and surrogates
    use the rank as one ordinal feature instead of one-hot columns.
    """

    categories: tuple
    ordered: bool = field(init=False, default=False)
    _index: dict = field(init=False, repr=False, compare=False, default_factory=dict)
    _order: tuple = field(init=False, repr=False, compare=False, default=())
    _fast: dict = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        cats = self.categories
        if isinstance(cats, (str, bytes)) or not isinstance(cats, Iterable):
            raise SpaceError(f"Categorical categories {cats!r} must be a list of values")
        cats = tuple(plain(c) for c in cats)
        if not cats:
            raise SpaceError("Categorical has no categories; give at least one value")
        index: dict[str, int] = {}
        unique = []
        for c in cats:
            if isinstance(c, float) and not math.isfinite(c):
                raise SpaceError(f"Categorical value {c!r} is not finite; use a string instead")
            try:
                k = _key(c)
            except (TypeError, ValueError):
                raise SpaceError(
                    f"Categorical value {c!r} is not JSON-serialisable; "
                    f"allowed: str, int, float, bool, None, or lists of these"
                ) from None
            if k in index:
                continue
            index[k] = len(unique)
            unique.append(c)
        if len(unique) != len(cats):
            warnings.warn(f"Categorical {list(cats)!r} lists a value twice; duplicates dropped",
                          stacklevel=3)
        ordered = len(unique) > 1 and all(
            isinstance(c, numbers.Real) and not isinstance(c, bool) for c in unique)
        if ordered:
            order = tuple(sorted(range(len(unique)), key=lambda i: unique[i]))
        else:
            order = tuple(range(len(unique)))
        object.__setattr__(self, "categories", tuple(unique))
        object.__setattr__(self, "ordered", ordered)
        object.__setattr__(self, "_index", index)
        # _order[r] = index of the category at rank r (cell r of the unit interval)
        object.__setattr__(self, "_order", order)
        # (type, value) -> index for scalar categories: index() without JSON text for the
        # values points usually carry; values equal across entries (0.0 and -0.0) are left
        # to the JSON path
        fast: dict = {}
        clash = set()
        for i, c in enumerate(unique):
            if type(c) in _SCALARS:
                k = (type(c), c)
                if k in fast:
                    clash.add(k)
                fast[k] = i
        for k in clash:
            del fast[k]
        object.__setattr__(self, "_fast", fast)

    @property
    def size(self) -> int:
        return len(self.categories)

    def index(self, value: Any) -> int:
        """Index of ``value`` in ``categories`` (JSON-equal match); SpaceError if absent."""
        if type(value) in _SCALARS:
            i = self._fast.get((type(value), value))
            if i is not None:
                return i
        try:
            i = self._index.get(_key(value))
        except (TypeError, ValueError):
            i = None
        if i is None:
            for j, c in enumerate(self.categories):  # e.g. 16 told back as 16.0
                if c == value and type(c) is not bool and type(value) is not bool:
                    return j
            raise SpaceError(f"value {value!r} is not one of {list(self.categories)!r}")
        return i

    def ranks(self) -> np.ndarray:
        """rank of each category index (position of its cell in the unit interval)."""
        r = np.empty(len(self._order), dtype=np.int64)
        r[list(self._order)] = np.arange(len(self._order))
        return r

    def to_unit(self, values: Sequence[Any]) -> np.ndarray:
        ranks = self.ranks()
        idx = np.array([self.index(v) for v in values], dtype=np.int64)
        return (ranks[idx] + 0.5) / self.size

    def indices_from_unit(self, u: np.ndarray) -> np.ndarray:
        r = np.clip(np.floor(np.asarray(u, dtype=float) * self.size), 0, self.size - 1)
        return np.asarray(self._order, dtype=np.int64)[r.astype(np.int64)]

    def from_unit(self, u: np.ndarray) -> list:
        return [self.categories[i] for i in self.indices_from_unit(u)]

    def snap(self, u: np.ndarray) -> np.ndarray:
        r = np.clip(np.floor(np.asarray(u, dtype=float) * self.size), 0, self.size - 1)
        return (r + 0.5) / self.size

    def check(self, value: Any) -> Any:
        return self.categories[self.index(value)]

    def describe(self) -> str:
        return f"Categorical({list(self.categories)!r})"


Dimension = Union[Real, Integer, Categorical]


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def _duck_typed(spec: Any) -> Dimension | None:
    """A dimension object given directly: ours, or scikit-optimize-like (duck-typed)."""
    if isinstance(spec, (Real, Integer, Categorical)):
        return spec
    kind = type(spec).__name__
    if kind in ("Real", "Integer") and hasattr(spec, "low") and hasattr(spec, "high"):
        prior = getattr(spec, "prior", None) or "uniform"
        cls = Real if kind == "Real" else Integer
        return cls(plain(spec.low), plain(spec.high), prior)
    if kind == "Categorical" and hasattr(spec, "categories"):
        return Categorical(tuple(spec.categories))
    return None


def dimension_from_shorthand(spec: Any) -> tuple[Dimension, list[str]]:
    """Build a dimension from a problem-file entry; returns (dimension, warnings).

    scikit-optimize's rules, decided by length and element types:

    - 1 item -> Categorical (a fixed value);
    - 2 items: any str/bool -> Categorical; both integers -> Integer (inclusive,
      warned: ``[16, 32]`` is a range, not two choices); any float -> Real;
    - 3 items ending in "uniform"/"log-uniform" -> Integer when both bounds are
      integers, else Real, with that prior (scikit-optimize made Integer when
      *either* bound was an int; we follow the 2-item rule instead);
    - 4 items ``(low, high, "log-uniform", base)`` -> log prior (the base does not
      change the distribution);
    - anything else with 3 or more items -> Categorical.
    """
    dim = _duck_typed(spec)
    if dim is not None:
        return dim, []
    if isinstance(spec, np.ndarray):
        spec = spec.tolist()
    if not isinstance(spec, (list, tuple)):
        raise SpaceError(
            f"{spec!r} is not a dimension; allowed: (low, high), (low, high, prior), "
            f"or a list of categories"
        )
    items = [plain(v) for v in spec]
    n = len(items)
    if n == 0:
        raise SpaceError("empty list: a categorical dimension needs at least one value")
    if n == 1:
        return Categorical(tuple(items)), []
    if n == 2:
        if any(isinstance(v, (str, bool)) or v is None for v in items):
            return Categorical(tuple(items)), []
        if all(isinstance(v, numbers.Integral) for v in items):
            msg = []
            if isinstance(spec, list):  # a list reads like choices; a tuple like a range
                lo, hi = items
                msg.append(
                    f"[{lo}, {hi}] is read as Integer({lo}, {hi}), every integer from {lo} to "
                    f"{hi} (scikit-optimize's rule), not as the two choices {lo} and {hi}; write "
                    f"({lo}, {hi}) to silence this, or ['{lo}', '{hi}'] or "
                    f"async_search.space.Categorical([{lo}, {hi}]) for two choices"
                )
            return Integer(items[0], items[1]), msg
        if all(_is_number(v) for v in items):
            return Real(items[0], items[1]), []
        return Categorical(tuple(items)), []
    if n in (3, 4) and isinstance(items[2], str) and items[2] in PRIORS and all(
            _is_number(v) for v in items[:2]) and (
            n == 3 or (items[2] == "log-uniform" and isinstance(items[3], numbers.Integral))):
        if all(isinstance(v, numbers.Integral) for v in items[:2]):
            return Integer(items[0], items[1], items[2]), []
        return Real(items[0], items[1], items[2]), []
    if n == 3 and isinstance(items[2], str) and all(_is_number(v) for v in items[:2]) and (
            items[2].replace("_", "-").lower() in ("log", "loguniform", "log-uniform",
                                                   "uniform", "normal", "log-normal")):
        raise SpaceError(
            f"prior {items[2]!r} in {tuple(items)!r} is unknown; allowed: 'uniform', 'log-uniform'"
        )
    if n == 3 and isinstance(items[2], str) and all(_is_number(v) for v in items[:2]):
        # scikit-optimize's rule, kept, but a range with a mistyped prior
        # should not become three choices unnoticed
        return Categorical(tuple(items)), [
            f"{tuple(items)!r} is read as a Categorical of 3 values (scikit-optimize's rule: "
            f"{items[2]!r} is not a prior); for a range write ({items[0]!r}, {items[1]!r}) or "
            f"add the prior 'uniform' or 'log-uniform'"]
    return Categorical(tuple(items)), []


@dataclass(**FROZEN)
class Space:
    """Named dimensions in a fixed order (the problem's ``params`` order)."""

    names: tuple
    dims: tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(self.names))
        object.__setattr__(self, "dims", tuple(self.dims))
        if not self.names:
            raise SpaceError("the space has no dimensions")
        if len(self.names) != len(self.dims):
            raise SpaceError("names and dims differ in length")
        if len(set(self.names)) != len(self.names):
            raise SpaceError(f"duplicate dimension names in {list(self.names)!r}")
        for n, d in zip(self.names, self.dims):
            if not isinstance(n, str):
                raise SpaceError(f"dimension name {n!r} is not a string")
            if not isinstance(d, (Real, Integer, Categorical)):
                raise SpaceError(f"dimension {n!r} is {d!r}, not Real/Integer/Categorical")

    @classmethod
    def from_dict(cls, dims: Mapping[str, Dimension]) -> "Space":
        return cls(tuple(dims), tuple(dims.values()))

    def __len__(self) -> int:
        return len(self.dims)

    @property
    def size(self) -> float:
        """Number of distinct points (inf when a Real dimension exists)."""
        s = 1
        for d in self.dims:
            s *= d.size
        return s

    @property
    def is_discrete(self) -> bool:
        return not any(isinstance(d, Real) for d in self.dims)

    def describe(self) -> str:
        """One line per dimension: name padded, then the typed dimension."""
        width = max(len(n) for n in self.names)
        return "\n".join(f"{n.ljust(width)}  {d.describe()}" for n, d in zip(self.names, self.dims))

    # -- points <-> unit cube -------------------------------------------------------------
    def check_point(self, point: Mapping[str, Any]) -> dict:
        """Validate a point dict and return it with canonical plain values in names order."""
        if not isinstance(point, Mapping):
            raise SpaceError(f"point {point!r} is not a dict of parameter -> value")
        missing = [n for n in self.names if n not in point]
        if missing:
            raise SpaceError(f"point {dict(point)!r} lacks parameter(s) {missing!r}")
        return {n: d.check(point[n]) for n, d in zip(self.names, self.dims)}

    def to_unit(self, points: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """(n, d) unit-cube coordinates of point dicts (values outside the bounds are clipped)."""
        out = np.empty((len(points), len(self.dims)))
        for j, (n, d) in enumerate(zip(self.names, self.dims)):
            try:
                col = [p[n] for p in points]
            except KeyError:
                raise SpaceError(f"a point lacks parameter {n!r}") from None
            if not isinstance(d, Categorical):
                col = [d.check(v) for v in col]
            out[:, j] = d.to_unit(col)
        return out

    def from_unit(self, u: np.ndarray) -> list[dict]:
        """Point dicts (plain Python values, names order) from unit-cube rows."""
        u = np.atleast_2d(np.asarray(u, dtype=float))
        cols = [d.from_unit(u[:, j]) for j, d in enumerate(self.dims)]
        return [dict(zip(self.names, row)) for row in zip(*cols)]

    def snap(self, u: np.ndarray) -> np.ndarray:
        """Move unit-cube rows to the coordinates of the points they decode to."""
        u = np.atleast_2d(np.asarray(u, dtype=float))
        out = np.empty_like(u)
        for j, d in enumerate(self.dims):
            out[:, j] = d.snap(u[:, j])
        return out

    def key(self, point: Mapping[str, Any]) -> str:
        """Canonical text of a point: equal for equal points, also after a JSON round trip."""
        values = [point[n] for n in self.names]
        if not all(type(v) in _SCALARS for v in values):
            values = [plain(v) for v in values]
        return json.dumps(values, ensure_ascii=False)

    # -- surrogate features ---------------------------------------------------------------
    def feature_width(self) -> int:
        return sum(d.size if isinstance(d, Categorical) and not d.ordered and d.size > 2 else 1
                   for d in self.dims)

    def features(self, u: np.ndarray) -> np.ndarray:
        """Surrogate inputs in [0, 1]: unit coordinates, one-hot for unordered categoricals.

        A two-valued unordered categorical keeps one column (0 or 1): one-hot would only
        duplicate it.
        """
        u = np.atleast_2d(np.asarray(u, dtype=float))
        cols = []
        for j, d in enumerate(self.dims):
            if isinstance(d, Categorical) and not d.ordered and d.size > 1:
                r = np.clip(np.floor(u[:, j] * d.size), 0, d.size - 1).astype(np.int64)
                if d.size == 2:
                    cols.append(r[:, None].astype(float))
                else:
                    cols.append(np.eye(d.size)[r])
            elif isinstance(d, Categorical):
                k = d.size
                r = np.clip(np.floor(u[:, j] * k), 0, k - 1)
                cols.append((r / max(k - 1, 1))[:, None])
            else:
                cols.append(u[:, j:j + 1])
        return np.hstack(cols)

    # -- sampling -------------------------------------------------------------------------
    def sample_unit(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` points uniform in the unit cube (every dimension from its prior)."""
        return rng.random((n, len(self.dims)))

    def design_unit(self, n: int, rng: np.random.Generator, method: str = "sobol") -> np.ndarray:
        """An ``n``-point space-filling design in the unit cube: sobol, lhs or random."""
        from scipy.stats import qmc

        d = len(self.dims)
        if n <= 0:
            return np.empty((0, d))
        seed = int(rng.integers(2**31 - 1))
        if method == "sobol":
            engine = qmc.Sobol(d, scramble=True, seed=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # balance warning when n is not a power of 2
                return engine.random(n)
        if method == "lhs":
            return qmc.LatinHypercube(d, seed=seed).random(n)
        if method == "random":
            return self.sample_unit(n, rng)
        raise SpaceError(f"design method {method!r} is unknown; allowed: sobol, lhs, random")

    def sample(self, n: int, rng: np.random.Generator) -> list[dict]:
        return self.from_unit(self.sample_unit(n, rng))
