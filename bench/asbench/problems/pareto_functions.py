"""Two-objective test problems of the Pareto benchmark (asbench.runners.pareto), each
with its true front.

- ``zdt1``, ``zdt2``: Zitzler-Deb-Thiele's ZDT1 (convex front ``f2 = 1 - sqrt(f1)``)
  and ZDT2 (concave front ``f2 = 1 - f1^2``) in 6 dimensions on [0, 1]^6; the front is
  where ``x2 = ... = x6 = 0``.
- ``dtlz2``: DTLZ2 with 2 objectives in 6 dimensions on [0, 1]^6; the front is the
  quarter circle ``f1^2 + f2^2 = 1``, where ``x2 = ... = x6 = 0.5``.
- ``tc1_tradeoff``: a TC1-like accuracy/cost trade-off over a mixed space (optimizer,
  activation, layer count, width (integer, log), learning rate (log), batch size
  (categorical), epochs). ``val_loss`` is an analytic surface with interactions
  (under-fitting falls with width x layers, training with epochs at a speed set by the
  optimizer and batch, over-fitting grows with size x epochs, sigmoid hurts deep
  nets, the learning rate's optimum moves with optimizer and batch); ``cost`` is a
  simulated training time, ``width * layers * epochs / batch`` times a multiplier of
  the optimizer and the activation, plus a per-epoch overhead. The learning rate
  only adds ``0.08 d^2 + 0.25 max(d, 0)^2`` (``d`` = decades from its optimum) to
  the loss and nothing to the cost, so the true front is exact: every discrete
  combination (3 x 3 x 5 x 1009 x 5 x 29, 9.9 million) at its optimal learning rate,
  then the non-dominated set.

The true fronts of the continuous problems are 5,000 points evenly spread in ``f1``
(their hypervolume is within 1e-4 of the analytic one). Every problem's hypervolume
is normalised the same documented way: objectives scaled to [0, 1] between the ideal
point (the front's minimum of each objective) and the reference point, the front's
maximum of each objective (its nadir) plus 10% of the front's range: (1.1, 1.1) for
ZDT1, ZDT2 and DTLZ2. With few evaluations that box can be empty of anything a
method found (the gap is then the whole HV(true)), so the benchmark also reports the
gap up to a loose reference point, the nadir plus 10 times the range ((11, 11) for
ZDT1, ZDT2 and DTLZ2, the reference point customary for ZDT). ``PROBLEMS`` maps a
name to a :class:`ParetoProblem`.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from async_search.space import Categorical, Integer, Real, Space

__all__ = ["PROBLEMS", "ParetoProblem", "hypervolume_2d", "nondominated", "tc1_tradeoff"]

DIMS = 6           # dimensions of ZDT1, ZDT2 and DTLZ2
FRONT_POINTS = 5000  # points of the analytic fronts
REF_MARGIN = 0.1   # the reference point: nadir + 10% of the front's range
LOOSE_MARGIN = 10.0  # a loose one (nadir + 10 ranges: ZDT's customary (11, 11))


def nondominated(Y: np.ndarray) -> np.ndarray:
    """The non-dominated rows of a two-column array (both minimised), sorted by the
    first column; of equal rows one is kept."""
    Y = np.asarray(Y, dtype=float).reshape(-1, 2)
    Y = Y[~np.isnan(Y).any(axis=1)]
    if not len(Y):
        return Y
    Y = Y[np.lexsort((Y[:, 1], Y[:, 0]))]
    best = np.minimum.accumulate(Y[:, 1])
    keep = np.ones(len(Y), dtype=bool)
    keep[1:] = Y[1:, 1] < best[:-1]
    return Y[keep]


def hypervolume_2d(Y: np.ndarray, ref: np.ndarray, ideal: np.ndarray) -> float:
    """The hypervolume of the rows of Y up to ``ref``, each objective scaled to [0, 1]
    between ``ideal`` and ``ref`` (the share of that box the rows dominate). The same
    as async_search.expfiles.hypervolume for two objectives, in O(n log n)."""
    ref, ideal = np.asarray(ref, float), np.asarray(ideal, float)
    P = (nondominated(Y) - ideal) / (ref - ideal)
    P = P[(P < 1.0).all(axis=1)]
    if not len(P):
        return 0.0
    right = np.append(P[1:, 0], 1.0)
    return float(np.sum((right - P[:, 0]) * (1.0 - P[:, 1])))


class ParetoProblem:
    """A two-objective problem: ``fn(point) -> (f1, f2)``, its space, its true front
    (computed once, on first use) and the normalisation's ideal and reference points."""

    def __init__(self, name, fn, space, front_fn, objectives=("f1", "f2")):
        self.name, self.fn, self.space, self.objectives = name, fn, space, tuple(objectives)
        self._front_fn = front_fn

    @functools.cached_property
    def front(self) -> np.ndarray:
        return nondominated(self._front_fn())

    @property
    def ideal(self) -> np.ndarray:
        return self.front.min(axis=0)

    def reference(self, margin: float = REF_MARGIN) -> np.ndarray:
        """The front's nadir plus ``margin`` times its range."""
        lo, hi = self.front.min(axis=0), self.front.max(axis=0)
        return hi + margin * (hi - lo)

    @property
    def ref(self) -> np.ndarray:
        return self.reference()

    def hv(self, Y, margin: float = REF_MARGIN) -> float:
        return hypervolume_2d(Y, self.reference(margin), self.ideal)

    @functools.cached_property
    def true_hv(self) -> float:
        return self.hv(self.front)

    def gap(self, Y, margin: float = REF_MARGIN) -> float:
        """HV(true front) - HV(Y), both normalised (``margin``: of the reference point)."""
        return self.hv(self.front, margin) - self.hv(Y, margin)


# -- ZDT and DTLZ -------------------------------------------------------------------------
def _x(p):
    return np.array([p[f"x{i}"] for i in range(1, DIMS + 1)], dtype=float)


def zdt1(p):
    x = _x(p)
    g = 1.0 + 9.0 * x[1:].sum() / (DIMS - 1)
    return float(x[0]), float(g * (1.0 - math.sqrt(x[0] / g)))


def zdt2(p):
    x = _x(p)
    g = 1.0 + 9.0 * x[1:].sum() / (DIMS - 1)
    return float(x[0]), float(g * (1.0 - (x[0] / g) ** 2))


def dtlz2(p):
    x = _x(p)
    g = float(np.sum((x[1:] - 0.5) ** 2))
    a = x[0] * math.pi / 2
    return (1.0 + g) * math.cos(a), (1.0 + g) * math.sin(a)


def _line():
    return np.linspace(0.0, 1.0, FRONT_POINTS)


def _unit_box():
    return Space(tuple(f"x{i}" for i in range(1, DIMS + 1)), tuple(Real(0.0, 1.0)
                                                                   for _ in range(DIMS)))


# -- the TC1-like trade-off ---------------------------------------------------------------
OPTIMIZERS = ("adam", "rmsprop", "sgd")
ACTIVATIONS = ("relu", "tanh", "sigmoid")
BATCHES = (16, 32, 64, 128, 256)
_OPT_BASE = np.array([0.0, 0.02, 0.05])     # per optimizer
_OPT_LR = np.array([-3.0, -3.3, -1.7])       # log10 of the best learning rate at batch 64
_OPT_SPEED = np.array([1.0, 0.85, 0.55])     # epochs' progress per optimizer
_OPT_COST = np.array([1.15, 1.1, 1.0])       # cost multipliers
_ACT_BASE = np.array([0.0, 0.02, 0.03])
_ACT_DEPTH = np.array([0.0, 0.005, 0.025])   # per layer beyond the first (vanishing gradients)
_ACT_COST = np.array([1.0, 1.25, 1.3])
TC1_SPACE = Space(
    ("optimizer", "activation", "layers", "width", "learning_rate", "batch_size", "epochs"),
    (Categorical(OPTIMIZERS), Categorical(ACTIVATIONS), Integer(1, 5),
     Integer(16, 1024, "log-uniform"), Real(1e-5, 1e-1, "log-uniform"), Categorical(BATCHES),
     Integer(2, 30)))


def _lr_opt(o, batch):
    return _OPT_LR[o] + 0.1 * np.log2(batch / 64.0)


def _tc1_arrays(o, a, layers, width, log_lr, batch, epochs):
    """(val_loss, cost) for arrays: optimizer and activation as indices."""
    size = width * layers
    d = log_lr - _lr_opt(o, batch)
    loss = (0.2 + _OPT_BASE[o] + _ACT_BASE[a] + _ACT_DEPTH[a] * (layers - 1)
            + 0.5 / (1.0 + (size / 128.0) ** 0.6)
            + 0.35 * np.exp(-epochs * _OPT_SPEED[o] * (64.0 / batch) ** 0.3 / 6.0)
            + 0.03 * np.maximum(np.log2(size / 1024.0), 0.0) ** 2 * epochs / 30.0
            + 0.008 * np.log2(batch / 32.0) ** 2
            + 0.08 * d * d + 0.25 * np.maximum(d, 0.0) ** 2)
    cost = size * epochs / batch * _OPT_COST[o] * _ACT_COST[a] / 10.0 + 0.2 * epochs
    return loss, cost


def tc1_tradeoff(p):
    loss, cost = _tc1_arrays(OPTIMIZERS.index(p["optimizer"]),
                             ACTIVATIONS.index(p["activation"]), p["layers"], p["width"],
                             math.log10(p["learning_rate"]), p["batch_size"], p["epochs"])
    return float(loss), float(cost)


def _tc1_front():
    """Every discrete combination at its optimal learning rate; the non-dominated set."""
    width = np.arange(16, 1025, dtype=float)
    parts = []
    for o in range(len(OPTIMIZERS)):
        for a in range(len(ACTIVATIONS)):
            L, W, B, E = (g.ravel() for g in np.meshgrid(
                np.arange(1, 6, dtype=float), width, np.array(BATCHES, float),
                np.arange(2, 31, dtype=float), indexing="ij"))
            loss, cost = _tc1_arrays(o, a, L, W, _lr_opt(o, B), B, E)
            parts.append(nondominated(np.column_stack([loss, cost])))
    return np.vstack(parts)


PROBLEMS = {
    "zdt1": ParetoProblem("zdt1", zdt1, _unit_box(),
                          lambda: np.column_stack([_line(), 1.0 - np.sqrt(_line())])),
    "zdt2": ParetoProblem("zdt2", zdt2, _unit_box(),
                          lambda: np.column_stack([_line(), 1.0 - _line() ** 2])),
    "dtlz2": ParetoProblem("dtlz2", dtlz2, _unit_box(), lambda: np.column_stack(
        [np.cos(_line() * math.pi / 2), np.sin(_line() * math.pi / 2)])),
    "tc1_tradeoff": ParetoProblem("tc1_tradeoff", tc1_tradeoff, TC1_SPACE, _tc1_front,
                                  ("val_loss", "cost")),
}
