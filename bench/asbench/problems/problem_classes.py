"""Bench problems of three harder classes, generated from a seed (asbench.runners.quality_classes).

Each instance is a picklable callable ``f(point) -> float`` with ``name``, ``space``
(an async_search Space) and ``fmin`` (its known minimum), so regret is exact.

1. **categorical** (``CategoricalHeavy``): an architecture-search-like space of
   6-12 categorical dimensions (3-6 levels each, some of them numeric choice lists,
   which the space treats as ordered) plus 2-4 numeric ones. The value is a sum of
   main effects, pairwise interaction tables on a random graph (each table as large
   as the main effects), and a quadratic in the numeric dimensions whose optimum
   moves with some of the categorical choices (like a learning rate whose best value
   depends on the optimizer). The numeric part's minimum is 0 for every choice, so
   ``fmin`` is the minimum of the categorical part, found by enumeration.
2. **wide** multimodal continuous functions in 10-20 dimensions (Ackley, Rastrigin,
   Schwefel, Griewank, Styblinski-Tang, Levy), some shifted and rotated.
3. **lowd**: the same kinds of highly multimodal functions in 5 dimensions, plus
   Michalewicz.

The instance lists are fixed (``CLASSES``); their structure (interaction graphs,
tables, shifts, rotations) comes from the seeds written there.
"""

from __future__ import annotations

import math

import numpy as np

from async_search.space import Categorical, Integer, Real, Space

__all__ = ["CLASSES", "CategoricalHeavy", "Continuous", "instances"]

ENUM_CHUNK = 1 << 18  # categorical combinations evaluated at once when finding the minimum


class CategoricalHeavy:
    """Main effects + pairwise interactions over categoricals, plus a numeric quadratic.

    ``levels``: level count per categorical dimension; ``ordered``: how many of them
    (the last ones) are numeric choice lists with a smooth main effect in their rank;
    ``n_num``: numeric dimensions (a log-uniform learning rate, reals in [0, 1], and
    from 3 on an integer); ``partners``: mean interaction partners per categorical.
    """

    def __init__(self, name, levels, n_num, seed, ordered=0, partners=2.0):
        rng = np.random.default_rng(seed)
        self.name = name
        k = len(levels)
        self.levels = tuple(int(v) for v in levels)
        names, dims = [], []
        self.main = []
        for i, n in enumerate(self.levels):
            scale = rng.uniform(0.3, 1.0)
            if i >= k - ordered:
                names.append(f"units{i}")
                dims.append(Categorical(tuple(16 * 2 ** j for j in range(n))))
                best = rng.uniform(0, n - 1)
                effect = 0.6 * scale * ((np.arange(n) - best) / max(n - 1, 1)) ** 2 * 4
                self.main.append(effect + 0.1 * scale * rng.normal(size=n))
            else:
                names.append(f"choice{i}")
                dims.append(Categorical(tuple(f"c{i}_{j}" for j in range(n))))
                self.main.append(scale * rng.normal(size=n))
        # a random interaction graph: every categorical has about `partners` partners
        pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
        p_edge = min(1.0, partners / max(k - 1, 1))
        chosen = [pr for pr in pairs if rng.random() < p_edge]
        touched = {i for pr in chosen for i in pr}
        for i in range(k):  # every dimension interacts with someone
            if i not in touched:
                j = int(rng.choice([j for j in range(k) if j != i]))
                chosen.append((min(i, j), max(i, j)))
                touched.update((i, j))
        self.pairs = sorted(set(chosen))
        self.tables = [rng.uniform(0.5, 1.0) * rng.normal(size=(self.levels[i], self.levels[j]))
                       for i, j in self.pairs]
        # numeric dimensions: optimum = base + an offset set by one categorical's level
        self.num = []  # (name, kind, weight, base, offsets, driver)
        for m in range(n_num):
            driver = int(rng.integers(k))
            offsets = rng.uniform(-0.25, 0.25, self.levels[driver])
            base = rng.uniform(0.35, 0.65)
            weight = rng.uniform(1.5, 4.0)
            if m == 0:
                kind, dim, nm = "log", Real(1e-5, 1e-1, "log-uniform"), "learning_rate"
            elif m == 3:
                kind, dim, nm = "int", Integer(2, 41), "epochs"
                offsets = np.round(offsets * 40) / 40  # optimum on an integer for every level
                base = round(base * 40) / 40
            else:
                kind, dim, nm = "real", Real(0.0, 1.0), f"x{m}"
            names.append(nm)
            dims.append(dim)
            self.num.append((nm, kind, weight, base, offsets, driver))
        self.space = Space(tuple(names), tuple(dims))
        self.cat_names = tuple(names[:k])
        self.fmin = self._categorical_min()

    def _unit(self, kind, value):
        if kind == "log":
            return (math.log10(value) + 5.0) / 4.0
        if kind == "int":
            return (value - 2) / 40.0 + 0.0
        return value

    def _g(self, idx):
        """Categorical part for index arrays (one per categorical dimension)."""
        out = sum(self.main[i][idx[i]] for i in range(len(self.levels)))
        for (i, j), t in zip(self.pairs, self.tables):
            out = out + t[idx[i], idx[j]]
        return out

    def _categorical_min(self):
        total = int(np.prod(self.levels))
        best = math.inf
        for a in range(0, total, ENUM_CHUNK):
            idx = np.unravel_index(np.arange(a, min(total, a + ENUM_CHUNK)), self.levels)
            best = min(best, float(np.min(self._g(idx))))
        return best

    def __call__(self, p):
        idx = [d.index(p[n]) for n, d in zip(self.cat_names, self.space.dims)]
        value = float(self._g(idx))
        for nm, kind, weight, base, offsets, driver in self.num:
            target = base + offsets[idx[driver]]
            value += weight * (self._unit(kind, p[nm]) - target) ** 2
        return value


# -- continuous multimodal functions (minimum 0 at z = 0 unless noted) ----------------


def ackley(z):
    d = len(z)
    return float(-20 * math.exp(-0.2 * math.sqrt(np.sum(z * z) / d))
                 - math.exp(np.sum(np.cos(2 * math.pi * z)) / d) + 20 + math.e)


def rastrigin(z):
    return float(10 * len(z) + np.sum(z * z - 10 * np.cos(2 * math.pi * z)))


def griewank(z):
    i = np.arange(1, len(z) + 1)
    return float(1 + np.sum(z * z) / 4000 - np.prod(np.cos(z / np.sqrt(i))))


def levy(z):
    w = 1 + z / 4  # minimum at z = 0 (x = 1 in the usual form, shifted)
    return float(np.sin(np.pi * w[0]) ** 2
                 + np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(np.pi * w[:-1] + 1) ** 2))
                 + (w[-1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[-1]) ** 2))


def schwefel(x):
    return float(418.9828872724338 * len(x) - np.sum(x * np.sin(np.sqrt(np.abs(x)))))


def styblinski(x):
    return float(0.5 * np.sum(x ** 4 - 16 * x * x + 5 * x))


def michalewicz(x):
    i = np.arange(1, len(x) + 1)
    return float(-np.sum(np.sin(x) * np.sin(i * x * x / math.pi) ** 20))


# name -> (function, low, high, argmin of the unshifted form or None: known fmin instead)
BASES = {
    "ackley": (ackley, -32.768, 32.768),
    "rastrigin": (rastrigin, -5.12, 5.12),
    "griewank": (griewank, -100.0, 100.0),
    "levy": (levy, -10.0, 10.0),
    "schwefel": (schwefel, -500.0, 500.0),
    "styblinski": (styblinski, -5.0, 5.0),
    "michalewicz": (michalewicz, 0.0, math.pi),
}
SCHWEFEL_ARGMIN = 420.968746
STYBLINSKI_ARGMIN = -2.903534018185960
MICHALEWICZ_MIN = {5: -4.687658179, 10: -9.66015}


class Continuous:
    """``base`` in ``d`` dimensions on its usual box, optionally shifted (the minimum moved
    to a random point in the middle 60% of the box) and rotated (a random orthogonal
    matrix about that point). Schwefel, Styblinski-Tang and Michalewicz keep their
    box-bound minima and are neither shifted nor rotated."""

    def __init__(self, name, base, d, seed=0, shift=False, rotate=False):
        self.name, self.base, self.d = name, base, d
        fn, lo, hi = BASES[base]
        self.fn, self.lo, self.hi = fn, lo, hi
        rng = np.random.default_rng(seed)
        self.shift = (rng.uniform(lo + 0.2 * (hi - lo), hi - 0.2 * (hi - lo), d) if shift
                      else np.zeros(d))
        self.rot = np.linalg.qr(rng.normal(size=(d, d)))[0] if rotate else None
        self.space = Space(tuple(f"x{i}" for i in range(d)), tuple(Real(lo, hi) for _ in range(d)))
        if base == "schwefel":
            self.fmin = schwefel(np.full(d, SCHWEFEL_ARGMIN))
        elif base == "styblinski":
            self.fmin = styblinski(np.full(d, STYBLINSKI_ARGMIN))
        elif base == "michalewicz":
            self.fmin = MICHALEWICZ_MIN[d]
        else:
            self.fmin = 0.0

    def __call__(self, p):
        x = np.array([p[f"x{i}"] for i in range(self.d)], dtype=float)
        z = x - self.shift
        if self.rot is not None:
            z = self.rot @ z
        return self.fn(z)


# class -> (evaluations, list of instance constructors); the seeds fix the structure
CLASSES = {
    "categorical": (80, [
        lambda: CategoricalHeavy("cat6x5+3", [5] * 6, 3, seed=11),
        lambda: CategoricalHeavy("cat8mixed+2", [3, 4, 5, 6, 3, 4, 5, 6], 2, seed=12,
                                 partners=1.5),
        lambda: CategoricalHeavy("cat10ord+4", [3, 3, 4, 4, 5, 5, 3, 4, 6, 3], 4, seed=13,
                                 ordered=2, partners=2.5),
        lambda: CategoricalHeavy("cat12x3+2", [3] * 12, 2, seed=14, partners=3.0),
        lambda: CategoricalHeavy("cat7x6+3", [6] * 7, 3, seed=15, ordered=1, partners=3.0),
    ]),
    "wide": (100, [
        lambda: Continuous("ackley10s", "ackley", 10, seed=21, shift=True),
        lambda: Continuous("rastrigin12sr", "rastrigin", 12, seed=22, shift=True, rotate=True),
        lambda: Continuous("schwefel10", "schwefel", 10),
        lambda: Continuous("griewank20sr", "griewank", 20, seed=24, shift=True, rotate=True),
        lambda: Continuous("styblinski16", "styblinski", 16),
        lambda: Continuous("levy14sr", "levy", 14, seed=26, shift=True, rotate=True),
    ]),
    "lowd": (60, [
        lambda: Continuous("rastrigin5s", "rastrigin", 5, seed=31, shift=True),
        lambda: Continuous("ackley5sr", "ackley", 5, seed=32, shift=True, rotate=True),
        lambda: Continuous("schwefel5", "schwefel", 5),
        lambda: Continuous("michalewicz5", "michalewicz", 5),
        lambda: Continuous("styblinski5", "styblinski", 5),
        lambda: Continuous("griewank5sr", "griewank", 5, seed=36, shift=True, rotate=True),
    ]),
}


def instances(cls):
    """(evaluations, [instances]) of class ``cls``."""
    evals, makers = CLASSES[cls]
    return evals, [make() for make in makers]
