"""bench/quality.py and bench/latency.py: the test functions and the harness, at toy sizes."""

import math
import os
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                     "bench")
sys.path.insert(0, BENCH)

import latency  # noqa: E402
import quality  # noqa: E402


@pytest.mark.parametrize("name, argmin", [
    ("branin", {"x1": math.pi, "x2": 2.275}),
    ("hartmann3", {"x1": 0.114614, "x2": 0.555649, "x3": 0.852547}),
    ("hartmann6", {"x1": 0.20169, "x2": 0.150011, "x3": 0.476874, "x4": 0.275332,
                   "x5": 0.311652, "x6": 0.6573}),
    ("rosenbrock4", {f"x{i}": 1.0 for i in range(1, 5)}),
    ("levy6", {f"x{i}": 1.0 for i in range(1, 7)}),
    ("mixed", {"learning_rate": 1e-3, "dropout": 0.35, "batch_size": 64, "optimizer": "adam",
               "conv": "64 32 16 32 64 1", "epochs": 12}),
])
def test_known_minima(name, argmin):
    fn, space, fmin = quality.FUNCTIONS[name]
    assert fn(argmin) == pytest.approx(fmin, abs=1e-5)
    import numpy as np

    values = [fn(p) for p in space.sample(2000, np.random.default_rng(0))]
    assert min(values) >= fmin - 1e-9  # the minimum is a lower bound


def test_simulation_is_reproducible_and_counts_evaluations():
    a = quality.simulate("branin", "random", 3, 12, 4)
    b = quality.simulate("branin", "random", 3, 12, 4)
    assert a[0] == b[0] and a[0] >= 0
    assert quality.main(["--functions", "branin", "--optimizers", "default,random",
                         "--seeds", "1", "--evals", "8"]) == 0


def test_latency_measure_smoke():
    r = latency.measure("default", 30, 2)
    assert r["rounds"] >= 2 and r["median"] > 0 and r["ask64"] > 0
