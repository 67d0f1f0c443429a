"""The ask/tell protocol of every optimizer, failures, duplicates, reproducibility, adapters."""

import json
import math
import os
import sys
import types

import numpy as np
import pytest

from async_search import load_problem, make_optimizer
from async_search.optimizers import NAMES, OptimizerError
from async_search.space import Categorical, Integer, Real, Space

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AS_PROBLEM = os.path.join(ROOT, "problems", "as_problem.py")
AWKWARD = os.path.join(ROOT, "tests", "python", "problems", "problem_awkward.py")
USER = "async_search.optimizers.example_user:CoordinateSearch"
BUILTIN = ["default", "original", "random", "optuna", USER]
PLAIN = (float, int, str, bool, type(None), list)


class FakeProblem:
    """What load_problem returns, for spaces built in a test."""

    def __init__(self, names, dims):
        self.space = Space(tuple(names), tuple(dims))
        self.params = tuple(names)
        self.path = "<test>"


def objective(p):
    """A cheap deterministic objective on the seed's 6-parameter space."""
    return ((p["drop"] - 0.3) ** 2 + abs(math.log10(p["learning_rate"]) + 3) / 3
            + (0.0 if p["optimizer"] == "adam" else 0.5) + p["batch_size"] / 1000)


def roundtrip(points):
    return json.loads(json.dumps(points))


@pytest.fixture(scope="module")
def problem():
    return load_problem(AS_PROBLEM)


def run(opt, rounds=4, batch=3, fail_every=0):
    """A few ask/tell rounds through a JSON round trip; returns everything asked."""
    asked = []
    for r in range(rounds):
        pts = opt.ask(batch)
        asked += pts
        vals = [objective(p) for p in pts]
        if fail_every:
            vals = [None if (i + r) % fail_every == 0 else v for i, v in enumerate(vals)]
        opt.tell(roundtrip(pts), vals)
    return asked


@pytest.mark.parametrize("name", BUILTIN)
def test_protocol(problem, name):
    opt = make_optimizer(problem, name, seed=3, n_jobs=1, init_size=4)
    assert opt.ask(0) == []
    pts = opt.ask(5)
    assert len(pts) == 5
    for p in pts:
        assert tuple(p) == problem.params
        assert all(type(v) in PLAIN for v in p.values())
        assert roundtrip(p) == p
    vals = [objective(p) for p in pts]
    vals[1], vals[2] = None, math.nan
    opt.tell(roundtrip(pts), vals)
    # restart replay: points this optimizer never asked
    opt.tell(problem.space.sample(4, np.random.default_rng(9)), [1.0, 2.0, None, 0.5])
    for n in (1, 7):
        got = opt.ask(n)
        assert len(got) == n and all(tuple(p) == problem.params for p in got)
        opt.tell(roundtrip(got), [objective(p) for p in got])


@pytest.mark.parametrize("name", BUILTIN)
def test_reproducible(problem, name):
    a = run(make_optimizer(problem, name, seed=7, init_size=4), fail_every=4)
    b = run(make_optimizer(problem, name, seed=7, init_size=4), fail_every=4)
    c = run(make_optimizer(problem, name, seed=8, init_size=4), fail_every=4)
    assert a == b
    assert a != c


@pytest.mark.parametrize("name", ["default", "original", "random"])
def test_no_duplicates_then_exhaustion(name):
    prob = FakeProblem(["k", "c"], [Integer(1, 3), Categorical(("a", "b"))])
    opt = make_optimizer(prob, name, seed=0, init_size=2)
    first = opt.ask(2)
    opt.tell(first, [1.0, None])
    more = opt.ask(4)  # exactly the 4 points never asked
    keys = [json.dumps(p) for p in first + more]
    assert len(set(keys)) == 6
    opt.tell(more[:2], [0.5, 0.7])
    again = opt.ask(3)  # space exhausted: repeats are allowed now, but n is still met
    assert len(again) == 3


def test_original_skips_failures(problem, monkeypatch):
    from async_search.optimizers import original

    seen = []
    real_fit = original.Original._fit

    def spy(self, X, y):
        seen.append(np.array(y))
        return real_fit(self, X, y)

    monkeypatch.setattr(original.Original, "_fit", spy)
    opt = make_optimizer(problem, "original", seed=1, init_size=4, n_initial_points=4)
    pts = opt.ask(6)
    opt.tell(pts, [1.0, None, math.nan, 1.7976931348623157e308, math.inf, 2.0])
    opt.ask(2)
    assert seen and all(list(y) in ([1.0, 2.0], [1.0, 2.0, 1.0]) for y in seen)


def test_original_uses_n_jobs(problem, monkeypatch):
    from async_search.optimizers import original

    jobs = []
    real_fit = original.Original._fit

    def spy(self, X, y):
        forest = real_fit(self, X, y)
        jobs.append(forest.n_jobs)
        return forest

    monkeypatch.setattr(original.Original, "_fit", spy)
    opt = make_optimizer(problem, "original", seed=1, n_jobs=2, n_initial_points=2)
    opt.tell(problem.space.sample(5, np.random.default_rng(0)), [1, 2, 3, 4, 5])
    opt.ask(1)
    assert jobs == [2]


def test_awkward_categories_round_trip():
    prob = load_problem(AWKWARD)
    for name in ["default", "random", "optuna"]:
        opt = make_optimizer(prob, name, seed=0)
        pts = roundtrip(opt.ask(12))
        opt.tell(pts, [float(i) for i in range(12)])
        assert {p["label"] for p in pts} <= set(prob.space.dims[1].categories)


# -- errors --------------------------------------------------------------------------
def test_bad_names_settings_and_calls(problem):
    with pytest.raises(ValueError, match="unknown; allowed: default, original, random"):
        make_optimizer(problem, "bogus")
    assert set(NAMES) == {"default", "original", "random", "skopt", "optuna"}
    with pytest.raises(ValueError, match="has no setting 'kapa'; allowed: n_jobs, init_size, "):
        make_optimizer(problem, "original", kapa=2.0)
    with pytest.raises(ValueError, match="n_jobs=0"):
        make_optimizer(problem, "random", n_jobs=0)
    with pytest.raises(ValueError, match="init_size"):
        make_optimizer(problem, "random", init_size=-1)
    with pytest.raises(ValueError, match="strategy"):
        make_optimizer(problem, "original", strategy="cl_median")
    opt = make_optimizer(problem, "random", n_jobs=None, init_size=None)
    with pytest.raises(OptimizerError, match="n=-1"):
        opt.ask(-1)
    pts = opt.ask(2)
    with pytest.raises(OptimizerError, match="2 points but 1 values"):
        opt.tell(pts, [1.0])
    with pytest.raises(OptimizerError, match="not a number"):
        opt.tell(pts[:1], ["1.0"])
    bad = dict(pts[0], optimizer="lbfgs")
    with pytest.raises(OptimizerError, match="not one of"):
        opt.tell([bad], [1.0])
    with pytest.raises(OptimizerError, match="lacks"):
        opt.tell([{"drop": 0.1}], [1.0])


# -- skopt ----------------------------------------------------------------------------
def test_skopt_missing_gives_clear_error(problem, monkeypatch):
    monkeypatch.setitem(sys.modules, "skopt", None)  # import skopt -> ImportError
    with pytest.raises(OptimizerError, match="needs scikit-optimize.*use 'original'"):
        make_optimizer(problem, "skopt")


def fake_skopt():
    """A stand-in for scikit-optimize: records the calls, returns NumPy-typed points."""
    mod = types.ModuleType("skopt")
    space = types.ModuleType("skopt.space")

    class Dim:
        def __init__(self, *args, **kwargs):
            self.args, self.kwargs = args, kwargs

    class Real(Dim):
        pass

    class Integer(Dim):
        pass

    class Categorical(Dim):
        pass

    class Optimizer:
        instances = []

        def __init__(self, dims, **kwargs):
            self.dims, self.kwargs, self.told = dims, kwargs, []
            self.rng = np.random.default_rng(kwargs["random_state"])
            Optimizer.instances.append(self)

        def _one(self, d):
            if isinstance(d, Categorical):
                return np.int64(self.rng.integers(len(d.args[0])))
            if isinstance(d, Integer):
                return np.int64(self.rng.integers(d.args[0], d.args[1] + 1))
            return np.float64(self.rng.uniform(d.args[0], d.args[1]))

        def ask(self, n_points=None, strategy="cl_min"):
            return [[self._one(d) for d in self.dims] for _ in range(n_points)]

        def tell(self, xs, ys):
            self.told += list(zip(xs, ys))

    space.Real, space.Integer, space.Categorical = Real, Integer, Categorical
    mod.Optimizer, mod.space = Optimizer, space
    return mod, space


def test_skopt_adapter_with_fake_module(problem, monkeypatch):
    mod, space = fake_skopt()
    monkeypatch.setitem(sys.modules, "skopt", mod)
    monkeypatch.setitem(sys.modules, "skopt.space", space)
    opt = make_optimizer(problem, "skopt", seed=5, n_jobs=2, init_size=12)
    inner = mod.Optimizer.instances[-1]
    kw = inner.kwargs
    assert kw["base_estimator"] == "RF" and kw["acq_func"] == "LCB"
    assert kw["acq_optimizer"] == "sampling" and kw["acq_func_kwargs"] == {"kappa": 1.96}
    assert kw["acq_optimizer_kwargs"] == {"n_points": 10000, "n_jobs": 2}
    assert kw["n_initial_points"] == 12 and kw["random_state"] == 5
    assert inner.dims[2].kwargs["prior"] == "uniform" and len(inner.dims) == 6
    pts = opt.ask(3)
    assert all(type(v) in PLAIN for p in pts for v in p.values())
    assert all(p["optimizer"] in ("adam", "sgd", "rmsprop", "adagrad", "adadelta") for p in pts)
    opt.tell(roundtrip(pts), [1.0, None, 3.0])
    assert [y for _, y in inner.told] == [1.0, 3.0]  # the failure is not told
    assert inner.told[0][0][4] == problem.space.dims[4].index(pts[0]["optimizer"])


# -- optuna ---------------------------------------------------------------------------
def test_optuna_trials_states_and_replay(problem):
    import optuna

    opt = make_optimizer(problem, "optuna", seed=0, n_startup_trials=3)
    pts = opt.ask(4)
    study = opt._study
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert states == [optuna.trial.TrialState.RUNNING] * 4  # pending trials are visible to TPE
    opt.tell(roundtrip(pts[:3]), [0.5, None, 0.25])
    opt.tell(problem.space.sample(2, np.random.default_rng(0)), [0.1, math.nan])  # replay
    trials = study.get_trials(deepcopy=False)
    S = optuna.trial.TrialState
    assert [t.state for t in trials] == [S.COMPLETE, S.FAIL, S.COMPLETE, S.RUNNING,
                                         S.COMPLETE, S.FAIL]
    assert study.best_value == 0.1
    assert isinstance(study.sampler, optuna.samplers.TPESampler)
    dist = study.get_trials(deepcopy=False)[0].distributions
    assert isinstance(dist["learning_rate"], optuna.distributions.FloatDistribution)
    assert isinstance(dist["epochs"], optuna.distributions.IntDistribution)
    assert isinstance(dist["conv"], optuna.distributions.CategoricalDistribution)
    more = opt.ask(6)  # past n_startup_trials: TPE proposes
    assert len(more) == 6


def test_optuna_log_and_list_categories():
    import optuna

    prob = FakeProblem(["lr", "units", "shape"], [
        Real(1e-5, 1e-1, "log-uniform"), Integer(1, 64, "log-uniform"),
        Categorical(([1, 2], [3, 4], [5]))])
    opt = make_optimizer(prob, "optuna", seed=0)
    pts = roundtrip(opt.ask(3))
    assert all(p["shape"] in ([1, 2], [3, 4], [5]) for p in pts)
    opt.tell(pts, [1.0, 2.0, 3.0])
    d = opt._study.get_trials(deepcopy=False)[0].distributions
    assert d["lr"].log and d["units"].log
    assert isinstance(d["shape"], optuna.distributions.CategoricalDistribution)
    assert d["shape"].choices == (0, 1, 2)


# -- user classes ---------------------------------------------------------------------
def test_user_class_by_module_and_by_file(problem, tmp_path):
    opt = make_optimizer(problem, USER, seed=1, n_jobs=1, init_size=4, step=0.1)
    assert opt.inner.step == 0.1
    run(opt)
    path = tmp_path / "my_opt.py"
    path.write_text(
        "import numpy as np\n"
        "class Grid:\n"
        "    def __init__(self, problem, seed=0, **settings):\n"
        "        self.problem, self.settings = problem, settings\n"
        "        self.rng = np.random.default_rng(seed)\n"
        "    def ask(self, n):\n"
        "        return [{k: v for k, v in reversed(list(p.items()))}\n"
        "                for p in self.problem.space.sample(n, self.rng)]\n"
        "    def tell(self, points, values):\n"
        "        self.last = values\n")
    opt = make_optimizer(problem, f"{path}:Grid", seed=2, n_jobs=3)
    assert opt.inner.settings == {"n_jobs": 3}
    pts = opt.ask(2)
    assert all(tuple(p) == problem.params for p in pts)  # reordered to params order
    opt.tell(pts, [None, 1.0])
    assert opt.inner.last == [None, 1.0]


def test_user_class_errors(problem, tmp_path):
    with pytest.raises(ValueError, match="importing 'no_such_mod_xyz' failed"):
        make_optimizer(problem, "no_such_mod_xyz:Opt")
    with pytest.raises(ValueError, match="has no 'Nope'"):
        make_optimizer(problem, "async_search.optimizers.example_user:Nope")
    with pytest.raises(ValueError, match="raised TypeError"):
        make_optimizer(problem, USER, unknown_setting=1)
    path = tmp_path / "bad_opt.py"
    path.write_text(
        "class Bad:\n"
        "    def __init__(self, problem, seed=0, **kw):\n"
        "        pass\n"
        "    def ask(self, n):\n"
        "        return [{'drop': 5.0}] * n\n"
        "    def tell(self, points, values):\n"
        "        pass\n"
        "class Short(Bad):\n"
        "    def ask(self, n):\n"
        "        return []\n")
    with pytest.raises(ValueError, match="returned a bad point"):
        make_optimizer(problem, f"{path}:Bad").ask(1)
    with pytest.raises(ValueError, match=r"ask\(2\) returned 0 points"):
        make_optimizer(problem, f"{path}:Short").ask(2)
