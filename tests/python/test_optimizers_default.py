"""The default engine: design, surrogates, acquisition, batches, pending points, failures, cost."""

import json
import math

import numpy as np
import pytest

from async_search.optimizers import OptimizerError, make_optimizer
from async_search.optimizers import default as engine
from async_search.optimizers.acquisition import log_ei
from async_search.optimizers.forest import TreeModel, forest_mean_std
from async_search.optimizers.gp import GP
from async_search.space import Categorical, Integer, Real, Space


class Prob:
    def __init__(self, names, dims):
        self.space = Space(tuple(names), tuple(dims))
        self.params = self.space.names
        self.path = "<test>"


def branin(p):
    x1, x2 = p["x1"], p["x2"]
    return ((x2 - 5.1 / (4 * math.pi ** 2) * x1 ** 2 + 5 / math.pi * x1 - 6) ** 2
            + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10)


BRANIN = Prob(("x1", "x2"), (Real(-5.0, 10.0), Real(0.0, 15.0)))
MIXED = Prob(("lr", "drop", "bs", "opt", "conv", "epochs"), (
    Real(1e-5, 1e-1, "log-uniform"), Real(0.0, 0.9), Categorical((16, 32, 64, 128)),
    Categorical(("adam", "sgd", "rmsprop")), Categorical(("a b", "c;d", "e")), Integer(2, 30)))


def mixed(p):
    return ((math.log10(p["lr"]) + 3) ** 2 / 4 + (p["drop"] - 0.3) ** 2
            + {"adam": 0.0, "sgd": 0.3, "rmsprop": 0.1}[p["opt"]]
            + {"a b": 0.1, "c;d": 0.0, "e": 0.2}[p["conv"]]
            + abs(math.log2(p["bs"]) - 5) / 10 + (p["epochs"] - 12) ** 2 / 400)


def unit(prob, pts):
    return prob.space.to_unit(pts)


def drive(opt, fn, evals, batch=1):
    best = math.inf
    while evals > 0:
        pts = opt.ask(min(batch, evals))
        vals = [fn(p) for p in pts]
        opt.tell(json.loads(json.dumps(pts)), vals)
        best = min(best, *vals)
        evals -= len(pts)
    return best


# -- design ----------------------------------------------------------------------------
def test_initial_design_size_and_spread(monkeypatch):
    fits = []
    monkeypatch.setattr(GP, "fit", lambda self, *a, **k: fits.append(1))
    opt = make_optimizer(BRANIN, "default", seed=0)
    assert opt.n_init == 5  # d + 2, at least 5
    assert make_optimizer(BRANIN, "default", init_size=9).n_init == 9
    assert make_optimizer(BRANIN, "default", init_size=2).n_init == 5
    assert make_optimizer(BRANIN, "default", n_init=3).n_init == 3
    big = make_optimizer(BRANIN, "default", seed=0, init_size=64)
    U = unit(BRANIN, big.ask(64))
    for j in range(2):  # a scrambled Sobol design: every eighth of each axis holds 8 points
        assert np.all(np.bincount((U[:, j] * 8).astype(int), minlength=8) == 8)
    assert fits == []  # no model during the design


def test_design_counts_pending_and_replayed_points(monkeypatch):
    opt = make_optimizer(BRANIN, "default", seed=0, init_size=6)
    first = opt.ask(4)          # 4 design points pending
    opt.tell(first[:1], [branin(first[0])])
    calls = []
    real = engine.DefaultOptimizer._propose_gp
    monkeypatch.setattr(engine.DefaultOptimizer, "_propose_gp",
                        lambda self, *a: calls.append(1) or real(self, *a))
    opt.ask(2)                  # completes the design: 1 told + 3 pending + 2 = 6
    assert calls == []
    opt.tell(first[1:], [branin(p) for p in first[1:]])
    opt.ask(1)
    assert calls == [1]
    # a restart replay larger than the design goes straight to the model
    replay = make_optimizer(BRANIN, "default", seed=0)
    pts = BRANIN.space.sample(20, np.random.default_rng(1))
    replay.tell(pts, [branin(p) for p in pts])
    calls.clear()
    replay.ask(1)
    assert calls == [1]


# -- surrogates ------------------------------------------------------------------------
def test_auto_surrogate_choice():
    opt = make_optimizer(MIXED, "default", gp_max_obs=50)
    assert opt._kind(50) == "gp" and opt._kind(51) == "et"
    cats = Prob(("a", "b", "c"), (Categorical(("x", "y", "z")), Categorical(("p", "q", "r")),
                                  Real(0.0, 1.0)))
    # mostly unordered categoricals: the GP too (a Hamming term per categorical)
    assert make_optimizer(cats, "default")._kind(10) == "gp"
    assert make_optimizer(cats, "default", surrogate="et")._kind(10) == "et"


@pytest.mark.parametrize("surrogate", ["gp", "et", "rf"])
def test_each_surrogate_finds_good_points_on_branin(surrogate):
    opt = make_optimizer(BRANIN, "default", seed=1, surrogate=surrogate)
    best = drive(opt, branin, 30)
    assert best - 0.397887 < (0.2 if surrogate == "gp" else 3.0)


def test_mixed_space_with_batches_and_cl():
    for batch in ("kb", "cl_min", "cl_max"):
        opt = make_optimizer(MIXED, "default", seed=2, batch=batch)
        best = drive(opt, mixed, 36, batch=4)
        assert best < 0.25, batch


def test_gp_gradient_and_fit():
    rng = np.random.default_rng(0)
    X = rng.random((25, 3))
    y = np.sin(5 * X[:, 0]) + X[:, 1] ** 2
    y = (y - y.mean()) / y.std()
    gp = GP(3)
    n = len(y)
    D2 = ((X[:, None, :] - X[None, :, :]) ** 2).reshape(n * n, 3)
    theta = rng.normal(size=5) * 0.5
    _, grad = gp._neg_log_post(theta, X, y, D2)
    eps = 1e-6
    num = [(gp._neg_log_post(theta + eps * e, X, y, D2)[0]
            - gp._neg_log_post(theta - eps * e, X, y, D2)[0]) / (2 * eps) for e in np.eye(5)]
    np.testing.assert_allclose(grad, num, rtol=1e-4, atol=1e-6)
    gp.fit(X, y, rng)
    assert gp.ls[2] > gp.ls[0]  # the unused input gets a long lengthscale
    mean, var = gp.condition(X, y).predict(X)
    np.testing.assert_allclose(mean, y, atol=0.05)
    assert np.all(var < 0.01)


def test_tree_model_incremental_statistics_match_a_full_pass():
    rng = np.random.default_rng(0)
    X = rng.random((200, 3))
    y = X[:, 0] + 0.1 * rng.random(200)
    a = TreeModel("et", 8, 2, seed=0)
    a.fit(X[:150], y[:150])
    a.set_data(X[:150], y[:150])
    a.add(X[150:], y[150:])
    b = TreeModel("et", 8, 2, seed=0)
    b.trees = a.trees
    b.set_data(X, y)
    C = rng.random((50, 3))
    for u, v in zip(a.predict_leaves(a.leaves(C)), b.predict_leaves(b.leaves(C))):
        np.testing.assert_allclose(u, v)


def test_forest_spread_matches_the_law_of_total_variance():
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(0)
    X, y = rng.random((80, 2)), rng.random(80)
    forest = RandomForestRegressor(10, min_samples_leaf=3, random_state=0).fit(X, y)
    C = rng.random((30, 2))
    mean, sd = forest_mean_std(forest, C)
    per_tree = np.array([t.predict(C) for t in forest.estimators_])
    leaf_var = np.array([t.tree_.impurity[t.apply(C)] for t in forest.estimators_])
    np.testing.assert_allclose(mean, forest.predict(C))
    np.testing.assert_allclose(sd ** 2, (leaf_var + per_tree ** 2).mean(0) - mean ** 2,
                               atol=1e-12)
    m2, sd2 = forest_mean_std(forest, C, n_jobs=2)
    np.testing.assert_allclose(m2, mean)
    np.testing.assert_allclose(sd2, sd)


def test_log_ei_matches_the_closed_form_and_does_not_underflow():
    from scipy.stats import norm

    mean = np.array([-2.0, 0.0, 1.0, 3.0, 8.0])
    sd = np.array([1.0, 0.5, 2.0, 1.0, 1.0])
    z = (0.0 - mean) / sd
    ei = sd * (z * norm.cdf(z) + norm.pdf(z))
    np.testing.assert_allclose(log_ei(mean, sd, 0.0), np.log(ei), rtol=1e-9)
    far = log_ei(np.array([40.0, 60.0]), np.ones(2), 0.0)
    assert np.all(np.isfinite(far)) and far[0] > far[1]


def test_warps():
    y = np.array([0.5, 1.0, 2.0, 10.0, 1000.0])
    for kind in ("none", "log", "rank"):
        w = engine.Warp(kind, y)
        t = w(y)
        assert np.all(np.diff(t) > 0)  # monotone
        assert abs(np.mean(t)) < 1e-9 and (kind == "rank" or abs(np.std(t) - 1) < 1e-9)
    assert np.isfinite(engine.Warp("log", y).log_jacobian(y))


# -- failures --------------------------------------------------------------------------
def test_failures_are_imputed_with_the_worst_value(monkeypatch):
    seen = []
    real = GP.fit

    def spy(self, X, y, rng, **kw):
        seen.append(np.array(y))
        return real(self, X, y, rng, **kw)

    monkeypatch.setattr(GP, "fit", spy)
    opt = make_optimizer(BRANIN, "default", seed=0, warp="none")
    pts = opt.ask(8)
    vals = [1.0, None, math.nan, 1.7976931348623157e308, math.inf, 2.0, 3.0, 4.0]
    opt.tell(pts, vals)
    opt.ask(1)
    y = seen[-1]
    assert len(y) == 8 and np.all(np.isfinite(y)) and np.all(np.abs(y) < 10)
    assert np.sum(y == y.max()) == 5  # four failures modelled as the worst value (4.0)
    skip = make_optimizer(BRANIN, "default", seed=0, failures="skip", warp="none")
    skip.tell(pts, vals)
    seen.clear()
    skip.ask(1)
    assert len(seen[-1]) == 4


def test_all_failures_still_give_new_points():
    opt = make_optimizer(BRANIN, "default", seed=0)
    keys = set()
    for _ in range(4):
        pts = opt.ask(5)
        keys |= {json.dumps(p) for p in pts}
        opt.tell(pts, [None] * 5)
    assert len(keys) == 20


# -- pending points, batches, duplicates -----------------------------------------------
def trained(prob, fn, n=15, seed=0, **settings):
    opt = make_optimizer(prob, "default", seed=seed, **settings)
    pts = opt.ask(n)
    opt.tell(pts, [fn(p) for p in pts])
    return opt


@pytest.mark.parametrize("surrogate", ["gp", "et"])
def test_pending_points_push_the_next_point_away(surrogate):
    opt = trained(BRANIN, branin, surrogate=surrogate)
    a = unit(BRANIN, opt.ask(1))
    b = unit(BRANIN, opt.ask(1))  # a is pending now
    assert np.linalg.norm(a - b) > 0.01


@pytest.mark.parametrize("surrogate", ["gp", "et"])
def test_batch_points_are_distinct_and_spread(surrogate):
    opt = trained(BRANIN, branin, surrogate=surrogate)
    U = unit(BRANIN, opt.ask(16))
    d = np.sqrt(((U[:, None] - U[None]) ** 2).sum(-1)) + np.eye(16)
    assert d.min() > 1e-3


def test_discrete_space_never_repeats_until_exhausted():
    prob = Prob(("k", "c"), (Integer(1, 6), Categorical(("a", "b", "c"))))
    opt = make_optimizer(prob, "default", seed=0)
    keys = []
    for _ in range(6):
        pts = opt.ask(3)
        keys += [json.dumps(p) for p in pts]
        opt.tell(pts, [p["k"] + (p["c"] == "b") for p in pts])
    assert len(set(keys)) == 18 == prob.space.size
    assert len(opt.ask(4)) == 4  # exhausted: repeats allowed, n still met


@pytest.mark.parametrize("surrogate", ["gp", "et"])
def test_reproducible_with_pending_and_failures(surrogate):
    def run(seed):
        opt = make_optimizer(MIXED, "default", seed=seed, surrogate=surrogate, n_init=6)
        out = []
        pending = opt.ask(4)
        for i in range(10):
            done, pending = pending[0], pending[1:]
            opt.tell([json.loads(json.dumps(done))], [None if i % 4 == 3 else mixed(done)])
            pending += opt.ask(1 if i % 3 else 2)
            out += pending
        return out

    assert run(5) == run(5)
    assert run(5) != run(6)


# -- settings and cost -----------------------------------------------------------------
@pytest.mark.parametrize("settings, words", [
    ({"surrogate": "svm"}, "allowed: auto, gp, et, rf"),
    ({"acq": "pi"}, "allowed: ei, lcb"),
    ({"batch": "qei"}, "allowed: kb, cl_min"),
    ({"kappa": -1}, "kappa"),
    ({"prior_quantile": 2}, "prior_quantile"),
    ({"n_init": 0}, "n_init"),
    ({"n_trees": 1}, "n_trees"),
    ({"kapa": 1}, "has no setting 'kapa'"),
])
def test_bad_settings(settings, words):
    with pytest.raises(OptimizerError, match=words):
        make_optimizer(BRANIN, "default", **settings)


def test_lcb_and_lhs_and_random_design_work():
    for settings in ({"acq": "lcb", "kappa": 1.0}, {"design": "lhs"}, {"design": "random"}):
        opt = make_optimizer(BRANIN, "default", seed=0, **settings)
        assert drive(opt, branin, 15) < 20


def test_large_history_stays_responsive(monkeypatch):
    """20,000 observations (the trees' regime): the tree structures are fitted
    once, on at most max_fit rows, and the next tells update their leaf
    statistics without a refit; what keeps a tell+ask cheap, counted rather
    than timed (bench/asbench/runners/latency.py measures the time)."""
    from async_search.optimizers import forest
    fitted = []
    real_fit = forest.TreeModel.fit

    def counting_fit(self, X, y):
        fitted.append(len(y))
        real_fit(self, X, y)

    monkeypatch.setattr(forest.TreeModel, "fit", counting_fit)
    rng = np.random.default_rng(0)
    opt = make_optimizer(MIXED, "default", seed=0)
    pts = MIXED.space.sample(20000, rng)
    opt.tell(pts, [mixed(p) for p in pts])
    last = opt.ask(1)[0]
    assert fitted == [opt.settings["max_fit"]]  # one fit, on max_fit rows of 20,000
    assert opt._trees_rows == 20000
    for i in range(5):
        opt.tell([last], [mixed(last)])
        last = opt.ask(1)[0]
        assert opt._trees_rows == 20001 + i  # the new row is in the leaves
    assert len(fitted) == 1  # no refit: 5 rows are far below the 10% growth
    assert opt._trees is not None and opt._trees_rows == 20005
    batch = opt.ask(120)
    assert len({json.dumps(p) for p in batch}) == 120
    assert len(fitted) == 1


def test_n_jobs_reaches_the_forest_and_gives_valid_points():
    opt = trained(MIXED, mixed, n=40, surrogate="et", n_jobs=2)
    pts = opt.ask(8)
    assert opt._trees.n_jobs == 2 and len(pts) == 8
    gp = trained(MIXED, mixed, n=20, n_jobs=2, n_candidates=1024)
    assert len(gp.ask(3)) == 3
