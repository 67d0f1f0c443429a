"""ask(n) of the default optimizer at every size: n distinct valid new points, reproducible."""

import json
import math

import numpy as np
import pytest

from async_search.optimizers import make_optimizer
from async_search.optimizers import default as engine
from async_search.space import Categorical, Integer, Real, Space


class Prob:
    def __init__(self, names, dims):
        self.space = Space(tuple(names), tuple(dims))
        self.params = self.space.names
        self.path = "<test>"


# 8 dimensions, 4 categorical (bench/asbench/problems/problem_mixed8.py's layout, smaller)
MIXED8 = Prob(("lr", "drop", "mom", "epochs", "opt", "act", "conv", "bs"), (
    Real(1e-5, 1e-1, "log-uniform"), Real(0.0, 0.9), Real(0.0, 0.99), Integer(2, 50),
    Categorical(("adam", "sgd", "rmsprop", "adagrad", "adadelta")),
    Categorical(("relu", "tanh", "sigmoid", "elu")), Categorical(("a b", "c;d", "e", "f")),
    Categorical((16, 32, 64, 128, 256, 512))))


def objective(p):
    return ((math.log10(p["lr"]) + 3) ** 2 + (p["drop"] - 0.3) ** 2 + (p["mom"] - 0.9) ** 2
            + (p["epochs"] - 20) ** 2 / 400 + (p["opt"] != "adam") * 0.3
            + (p["act"] == "sigmoid") * 0.2 + (p["conv"] == "e") * (p["bs"] > 64) * 0.4)


def loaded(n_told, seed=0, **settings):
    opt = make_optimizer(MIXED8, "default", seed=seed, **settings)
    pts = MIXED8.space.sample(n_told, np.random.default_rng(n_told))
    opt.tell(pts, [objective(p) for p in pts])
    return opt


def keys(points):
    return [MIXED8.space.key(p) for p in points]


@pytest.mark.parametrize("n_told, n", [(30, 1), (30, 7), (30, 40), (30, 150),
                                       (400, 5), (400, 300)])
def test_ask_n_gives_n_distinct_valid_new_points(n_told, n):
    opt = loaded(n_told)
    assert opt._kind(n_told) == ("gp" if n_told <= 200 else "et")
    pending = opt.ask(3)
    told = set(keys(MIXED8.space.sample(n_told, np.random.default_rng(n_told))))
    batch = opt.ask(n)
    assert len(batch) == n
    k = keys(batch)
    assert len(set(k)) == n                      # distinct
    assert not set(k) & told                     # new
    assert not set(k) & set(keys(pending))       # not pending either
    for p in batch:                              # valid, plain values, params order
        assert list(p) == list(MIXED8.params)
        assert MIXED8.space.check_point(json.loads(json.dumps(p))) == p


@pytest.mark.parametrize("n_told", [30, 400])
def test_batches_are_reproducible_with_a_seed(n_told):
    def run(seed):
        opt = loaded(n_told, seed=seed)
        out = []
        for n in (1, 20, 70):
            batch = opt.ask(n)
            out += batch
            opt.tell(batch[: n // 2], [objective(p) for p in batch[: n // 2]])
        return out

    assert run(3) == run(3)
    assert run(3) != run(4)


@pytest.mark.parametrize("n_told, n", [(60, 60), (400, 120)])
def test_large_batches_keep_their_separation(n_told, n, monkeypatch):
    seen = {}
    real = engine.DefaultOptimizer._select

    def spy(self, *args):
        out = real(self, *args)
        # feature scale: 1 / lengthscales (GP) or 1 / spacing (trees); the points picked
        # from the pool (when it runs out the caller adds random points)
        seen.update(scale=args[9], picked=out)
        return out

    monkeypatch.setattr(engine.DefaultOptimizer, "_select", spy)
    opt = loaded(n_told, min_separation=0.3)
    batch = opt.ask(n)  # (a model of N observations places at most N points)
    assert len(seen["picked"]) > n // 3 and batch[:len(seen["picked"])] == seen["picked"]
    Z = MIXED8.space.features(MIXED8.space.to_unit(seen["picked"])) * seen["scale"]
    d2 = ((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1) + np.eye(len(Z)) * 1e9
    assert d2.min() >= 0.3 ** 2 - 1e-9


def test_kernel_setting():
    for kernel in ("auto", "product", "additive"):
        opt = loaded(30, kernel=kernel)
        assert len(opt.ask(4)) == 4
        assert opt._gps
    forced = loaded(30, kernel="additive")
    forced.ask(1)
    assert forced._gps[forced._gp_warp].additive
    from async_search.optimizers import OptimizerError

    with pytest.raises(OptimizerError, match="allowed: auto, product, additive"):
        make_optimizer(MIXED8, "default", kernel="rbf")


def test_auto_kernel_takes_the_additive_share_on_a_separable_function():
    prob = Prob([f"x{i}" for i in range(4)], [Real(-5.0, 5.0)] * 4)

    def styblinski(p):
        x = np.array([p[f"x{i}"] for i in range(4)])
        return float(0.5 * np.sum(x ** 4 - 16 * x * x + 5 * x))

    opt = make_optimizer(prob, "default", seed=0)
    pts = prob.space.sample(40, np.random.default_rng(0))
    opt.tell(pts, [styblinski(p) for p in pts])
    opt.ask(1)
    assert opt._gp_additive
    bowl = make_optimizer(prob, "default", seed=0)
    bowl.tell(pts, [math.sin(p["x0"] * p["x1"]) * math.cos(p["x2"] - p["x3"]) for p in pts])
    bowl.ask(1)
    assert not bowl._gp_additive


def test_a_model_of_few_observations_places_few_points_of_a_large_ask(monkeypatch):
    """The first model turn of a run with many workers: a model of N observations
    places at most N points; the initial design continues for the rest."""
    asked = []
    real = engine.DefaultOptimizer._propose_gp

    def spy(self, X, y, n, chosen, already):
        asked.append((len(y), n, len(already)))
        return real(self, X, y, n, chosen, already)

    monkeypatch.setattr(engine.DefaultOptimizer, "_propose_gp", spy)
    opt = make_optimizer(MIXED8, "default", seed=0, n_init=5)
    design = opt.ask(5)
    opt.tell(design, [objective(p) for p in design])
    batch = opt.ask(150)
    assert asked == [(5, 5, 0)]
    assert len(set(keys(batch))) == 150 and not set(keys(batch)) & set(keys(design))
    opt.tell(batch, [objective(p) for p in batch])
    assert len(opt.ask(50)) == 50
    assert asked[-1] == (155, 50, 0)  # with enough observations the model places all


def test_the_forest_module_is_imported_in_the_background(monkeypatch):
    """Started by the constructor; the threadpoolctl scan of the first model turn
    waits for it (the two together can deadlock), a design turn does not."""
    import sys

    from async_search.optimizers import _base

    name = "async_search.optimizers.random_search"
    monkeypatch.setattr(engine, "FOREST_MODULE", name)
    monkeypatch.delitem(sys.modules, name, raising=False)
    opt = make_optimizer(MIXED8, "default", seed=0, n_init=5)
    assert [t.name for t in _base._importing] in ([_base.IMPORT_THREAD], [])
    assert opt._light() and opt._controller is None
    design = opt.ask(5)
    opt.tell(design, [objective(p) for p in design])
    assert not opt._light()
    opt.ask(1)
    assert name in sys.modules and not _base._importing and opt._controller is not None


def test_auto_kernel_proposes_what_product_does_while_the_ard_kernel_wins():
    """The additive fit draws from its own stream: fitting it (and losing) changes
    no candidate, so kernel auto is kernel product until the additive share wins."""
    prob = Prob([f"x{i}" for i in range(4)], [Real(-2.0, 2.0)] * 4)

    def bowl(p):
        return math.sin(p["x0"] * p["x1"]) * math.cos(p["x2"] - p["x3"])

    def run(kernel):
        opt = make_optimizer(prob, "default", seed=5, kernel=kernel)
        pts = prob.space.sample(30, np.random.default_rng(1))
        opt.tell(pts, [bowl(p) for p in pts])
        out = []
        for _ in range(3):
            batch = opt.ask(2)
            opt.tell(batch, [bowl(p) for p in batch])
            out += batch
        return opt, out

    auto, points = run("auto")
    assert ("additive", auto._gp_warp) in auto._gps and not auto._gp_additive
    assert points == run("product")[1]


def test_a_large_ask_has_a_bounded_candidate_pool(monkeypatch):
    """Every pick updates the pool, so the pool stops growing with n at
    CANDIDATES_MAX: a batch of thousands costs linear, not quadratic, in n."""
    drawn = []
    real = engine.DefaultOptimizer._candidates

    def spy(self, X, y, n):
        out = real(self, X, y, n)
        drawn.append((n, len(out)))
        return out

    monkeypatch.setattr(engine.DefaultOptimizer, "_candidates", spy)
    loaded(400).ask(300)
    assert drawn[-1] == (300, 2000)   # n_candidates
    loaded(1000).ask(700)
    assert drawn[-1] == (700, 2800)   # 4 n
    big = loaded(3000)
    batch = big.ask(2500)
    assert drawn[-1] == (2500, engine.CANDIDATES_MAX)
    assert len(set(keys(batch))) == 2500
