"""The Pareto benchmark's accounting: fronts, hypervolume gaps, the asynchronous driver."""

import math

import numpy as np
import pytest

from asbench.problems.pareto_functions import (PROBLEMS, dtlz2, hypervolume_2d, nondominated,
                                               zdt1, zdt2)
from asbench.runners import pareto
from async_search.expfiles import hypervolume, pareto_mask

# the normalised hypervolume of the analytic fronts up to (1.1, 1.1), from the integrals
ANALYTIC_HV = {"zdt1": (0.1 + 2 / 3 + 0.11) / 1.21, "zdt2": (0.1 + 1 / 3 + 0.11) / 1.21,
               "dtlz2": (1.21 - math.pi / 4) / 1.21}


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_front_is_non_dominated_and_its_gap_is_zero(name):
    p = PROBLEMS[name]
    assert len(p.front) > 100
    assert pareto_mask(p.front).all()
    assert p.gap(p.front) == 0.0
    # the reference point: the front's nadir plus 10% of its range
    lo, hi = p.front.min(axis=0), p.front.max(axis=0)
    np.testing.assert_allclose(p.ref, hi + 0.1 * (hi - lo))
    assert 0 < p.true_hv < 1
    assert p.gap(p.front, 10.0) == 0.0 and 0 < p.hv(p.front, 10.0) < 1
    np.testing.assert_allclose(p.reference(10.0), hi + 10 * (hi - lo))


@pytest.mark.parametrize("name", list(ANALYTIC_HV))
def test_dense_front_hypervolume_is_the_analytic_one(name):
    p = PROBLEMS[name]
    np.testing.assert_allclose(p.ref, [1.1, 1.1])
    assert p.true_hv == pytest.approx(ANALYTIC_HV[name], abs=3e-4)


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_dominated_sets_have_a_positive_gap(name):
    p = PROBLEMS[name]
    worse = p.front[::7] + 0.02 * (p.ref - p.ideal)  # every point dominated by the front
    assert p.gap(worse) > 0 and p.gap(worse, 10.0) > 0
    assert p.gap(p.front[::7]) > 0  # a subset of the front misses some volume
    assert p.gap(np.empty((0, 2))) == p.true_hv  # nothing found
    # sampled points never beat the true front
    rng = np.random.default_rng(1)
    Y = np.array([p.fn(q) for q in p.space.sample(300, rng)])
    assert p.gap(Y) > 0
    assert p.gap(np.vstack([Y, p.front])) == pytest.approx(0.0, abs=1e-12)


def test_points_on_the_analytic_fronts():
    x = {f"x{i}": 0.0 for i in range(1, 7)}
    x["x1"] = 0.25
    assert zdt1(x) == pytest.approx((0.25, 0.5))
    assert zdt2(x) == pytest.approx((0.25, 1 - 0.0625))
    x.update({f"x{i}": 0.5 for i in range(2, 7)})
    f1, f2 = dtlz2(x)
    assert f1 ** 2 + f2 ** 2 == pytest.approx(1.0)


def test_hypervolume_2d_agrees_with_the_products():
    rng = np.random.default_rng(3)
    Y = rng.random((60, 2))
    ref, ideal = np.array([1.2, 1.1]), np.array([-0.1, 0.0])
    assert hypervolume_2d(Y, ref, ideal) == pytest.approx(hypervolume(Y, ref, ideal))
    assert len(nondominated(Y)) == int(pareto_mask(Y).sum())
    # one point at the ideal fills the box; points beyond the reference add nothing
    assert hypervolume_2d([[-0.1, 0.0]], ref, ideal) == pytest.approx(1.0)
    assert hypervolume_2d([[1.3, 0.0], [0.0, 1.2]], ref, ideal) == 0.0


class Recorder:
    """An asker that proposes random unit points and checks what it is told."""

    def __init__(self):
        self.rng = np.random.default_rng(0)
        self.asked, self.told = 0, []

    def ask(self, n):
        out = []
        for _ in range(n):
            self.asked += 1
            p = {f"x{i}": float(self.rng.random()) for i in range(1, 7)}
            out.append((self.asked, p))
        return out

    def tell(self, handle, values):
        assert len(values) == 2
        self.told.append(handle)


def test_async_driver_keeps_four_pending():
    rec, trace = Recorder(), []
    Y, spent = pareto.run_async(rec, zdt1, 0, 30, 4, trace)
    assert Y.shape == (30, 2) and spent >= 0
    assert rec.asked == 30 and sorted(rec.told) == list(range(1, 31))
    # ask(4) first, then every result is followed by ask(1) with 3 still pending
    assert trace == [4] * (30 - 3)
    # durations are random: results do not come back in the order asked
    assert rec.told != sorted(rec.told)


@pytest.mark.parametrize("method", pareto.METHODS)
def test_every_method_runs_asynchronously(method):
    p = PROBLEMS["tc1_tradeoff"]
    trace = []
    asker = pareto.make_asker(method, p, 0)
    Y, _ = pareto.run_async(asker, p.fn, 0, 12, 4, trace)
    assert Y.shape == (12, 2) and np.isfinite(Y).all()
    assert trace == [4] * 9
    assert 0 < p.gap(Y) <= p.true_hv


def test_runner_table_and_target(capsys):
    assert pareto.main(["--problems", "dtlz2", "--seeds", "1", "--evals", "10"]) == 0
    out = capsys.readouterr().out
    assert "| dtlz2 |" in out and "default / better Optuna" in out and "ms/point" in out
    assert "loose reference point" in out
    rows = [("zdt1", "default", 0, 0.1, 0.02, 0.01), ("zdt1", "nsga2", 0, 0.3, 0.01, 0.0),
            ("zdt1", "motpe", 0, 0.25, 0.04, 0.0)]
    lines, met = pareto.table(rows, ["zdt1"], list(pareto.METHODS))
    assert met is True and "| 0.4 | yes | 1/1 vs motpe |" in lines[2]
    lines, met = pareto.table(rows, ["zdt1"], list(pareto.METHODS), loose=True)
    assert met is False and "| 2 | **no** | 0/1 vs nsga2 |" in lines[2]
    rows[0] = ("zdt1", "default", 0, 0.2, 0.0, 0.01)
    assert pareto.table(rows, ["zdt1"], list(pareto.METHODS))[1] is False


@pytest.mark.parametrize("argv, message", [
    (["--problems", "zdt9"], "unknown problem 'zdt9'"),
    (["--methods", "default,nsga3"], "unknown method 'nsga3'"),
    (["--seeds", "0"], "--seeds must be at least 1"),
    (["--settings", "{x"], "--settings is not JSON"),
])
def test_runner_rejects_bad_arguments(capsys, argv, message):
    with pytest.raises(SystemExit) as e:
        pareto.main(argv)
    assert e.value.code == 2
    assert message in capsys.readouterr().err
