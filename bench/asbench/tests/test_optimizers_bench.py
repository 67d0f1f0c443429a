"""The search-quality and latency benches: the test functions and the harness, at toy sizes."""

import math

import pytest

from asbench import harness
from asbench.problems.functions import FUNCTIONS
from asbench.runners import latency, quality


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
    fn, space, fmin = FUNCTIONS[name]
    assert fn(argmin) == pytest.approx(fmin, abs=1e-5)
    import numpy as np

    values = [fn(p) for p in space.sample(2000, np.random.default_rng(0))]
    assert min(values) >= fmin - 1e-9  # the minimum is a lower bound


def test_simulation_is_reproducible_and_counts_evaluations():
    a = harness.simulate("branin", "random", 3, 12, 4)
    b = harness.simulate("branin", "random", 3, 12, 4)
    assert a[0] == b[0] and a[0] >= 0
    assert quality.main(["--functions", "branin", "--optimizers", "default,random",
                         "--seeds", "1", "--evals", "8"]) == 0


def test_latency_measure_smoke():
    r = latency.measure("default", 30, 2)
    assert r["rounds"] >= 2 and r["median"] > 0 and r["ask64"] > 0


def test_problem_classes_minima_are_lower_bounds_and_reached():
    import itertools

    import numpy as np

    from asbench.problems import problem_classes as pc

    small = pc.CategoricalHeavy("small", [3, 4, 2], 3, seed=1, ordered=1)
    best = min(small._g(list(idx)) for idx in itertools.product(*map(range, small.levels)))
    assert small.fmin == pytest.approx(best)
    for cls in pc.CLASSES:
        evals, insts = pc.instances(cls)
        assert 60 <= evals <= 100
        for f in insts:
            values = [f(p) for p in f.space.sample(300, np.random.default_rng(0))]
            assert min(values) >= f.fmin - 1e-9, f.name
    # the argmin of a shifted, rotated function is its shift
    f = pc.Continuous("t", "ackley", 5, seed=3, shift=True, rotate=True)
    assert f({f"x{i}": v for i, v in enumerate(f.shift)}) == pytest.approx(f.fmin, abs=1e-9)


def test_quality_classes_smoke():
    from asbench.runners import quality_classes

    assert quality_classes.main(["--classes", "lowd", "--instances", "styblinski5",
                                 "--optimizers", "default,random", "--seeds", "1",
                                 "--evals", "8"]) == 0
