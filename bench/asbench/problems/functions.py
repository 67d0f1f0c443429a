"""Test functions of the search-quality benchmarks, each with its space and known minimum.

Branin (2-d), Hartmann3, Hartmann6, Rosenbrock-4 on [-5, 10]^4, Levy-6 on
[-10, 10]^6, and ``mixed``: a TC1-like validation-loss surface over a log-uniform
learning rate, dropout, integer epochs and categorical optimizer, conv layout and
batch size (its minimum, 0.2, is known by construction).  ``FUNCTIONS`` maps a
name to (function, space, known minimum).
"""

from __future__ import annotations

import math

import numpy as np

from async_search.space import Categorical, Integer, Real, Space


def branin(p):
    x1, x2 = p["x1"], p["x2"]
    return ((x2 - 5.1 / (4 * math.pi ** 2) * x1 ** 2 + 5 / math.pi * x1 - 6) ** 2
            + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10)


_H3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_H3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470],
                         [1091, 8732, 5547], [381, 5743, 8828]])
_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886],
                         [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650],
                         [4047, 8828, 8732, 5743, 1091, 381]])
_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def _hartmann(x, A, P):
    return float(-np.sum(_H_ALPHA * np.exp(-np.sum(A * (x - P) ** 2, axis=1))))


def hartmann3(p):
    return _hartmann(np.array([p[f"x{i}"] for i in range(1, 4)]), _H3_A, _H3_P)


def hartmann6(p):
    return _hartmann(np.array([p[f"x{i}"] for i in range(1, 7)]), _H6_A, _H6_P)


def rosenbrock4(p):
    x = [p[f"x{i}"] for i in range(1, 5)]
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))


def levy6(p):
    w = 1 + (np.array([p[f"x{i}"] for i in range(1, 7)]) - 1) / 4
    return float(np.sin(np.pi * w[0]) ** 2
                 + np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(np.pi * w[:-1] + 1) ** 2))
                 + (w[-1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[-1]) ** 2))


CONVS = ("50 50 50 50 50 1", "25 25 25 25 25 1", "64 32 16 32 64 1",
         "100 100 100 100 100 1", "32 20 16 32 10 1")
OPTS = ("adam", "sgd", "rmsprop", "adagrad", "adadelta")
_OPT_BASE = {"adam": 0.0, "rmsprop": 0.05, "sgd": 0.12, "adagrad": 0.25, "adadelta": 0.4}
_OPT_LR = {"adam": -3.0, "rmsprop": -3.3, "sgd": -1.6, "adagrad": -2.0, "adadelta": -1.8}
_CONV_BASE = dict(zip(CONVS, (0.05, 0.12, 0.0, 0.03, 0.08)))
_CONV_DROP = dict(zip(CONVS, (0.3, 0.15, 0.35, 0.5, 0.2)))


def mixed(p):
    """TC1-like validation loss; the learning rate's optimum moves with optimizer and batch."""
    lr_opt = _OPT_LR[p["optimizer"]] + 0.15 * math.log2(p["batch_size"] / 64)
    d = math.log10(p["learning_rate"]) - lr_opt
    return (0.2 + _OPT_BASE[p["optimizer"]] + _CONV_BASE[p["conv"]]
            + 0.08 * d * d + 0.3 * max(d, 0.0) ** 2
            + 0.6 * (p["dropout"] - _CONV_DROP[p["conv"]]) ** 2
            + 0.01 * (math.log2(p["batch_size"]) - 6) ** 2
            + 0.0005 * (p["epochs"] - 12) ** 2)


def _box(n, low, high):
    return Space(tuple(f"x{i}" for i in range(1, n + 1)), tuple(Real(low, high) for _ in range(n)))


# name -> (function, space, known minimum)
FUNCTIONS = {
    "branin": (branin, Space(("x1", "x2"), (Real(-5.0, 10.0), Real(0.0, 15.0))), 0.397887357729738),
    "hartmann3": (hartmann3, _box(3, 0.0, 1.0), -3.86278214782076),
    "hartmann6": (hartmann6, _box(6, 0.0, 1.0), -3.32236801141551),
    "rosenbrock4": (rosenbrock4, _box(4, -5.0, 10.0), 0.0),
    "levy6": (levy6, _box(6, -10.0, 10.0), 0.0),
    "mixed": (mixed, Space(
        ("learning_rate", "dropout", "batch_size", "optimizer", "conv", "epochs"),
        (Real(1e-5, 1e-1, "log-uniform"), Real(0.0, 0.9),
         Categorical((16, 32, 64, 128, 256, 512)), Categorical(OPTS), Categorical(CONVS),
         Integer(2, 30))), 0.2),
}
