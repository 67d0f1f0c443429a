"""The GP's kernel (Hamming blocks, additive share), its gradients and the space encodings."""

import math

import numpy as np
import pytest

from async_search.optimizers import make_optimizer
from async_search.optimizers.gp import GP, Fantasies, matern52_r
from async_search.space import Categorical, Integer, Real, Space

SQRT5 = math.sqrt(5.0)


def _matern(r):
    return (1.0 + SQRT5 * r + 5.0 / 3.0 * r * r) * math.exp(-SQRT5 * r)


def _data(n=24, seed=0):
    """3 numeric columns, a 4-level one-hot block, 1 numeric, a 3-level block."""
    rng = np.random.default_rng(seed)
    X = np.hstack([rng.random((n, 3)), np.eye(4)[rng.integers(4, size=n)], rng.random((n, 1)),
                   np.eye(3)[rng.integers(3, size=n)]])
    y = np.sin(5 * X[:, 0]) + X[:, 1] ** 2 + X[:, 3] - X[:, 9]
    return X, (y - y.mean()) / y.std()


BLOCKS = [[3, 4, 5, 6], [8, 9, 10]]
NUM = [0, 1, 2, 7]


def _brute(gp, x, z):
    """The kernel as the module docstring writes it, one pair at a time."""
    ls, a = gp.ls, gp.mix
    rs = [abs(x[c] - z[c]) / ls[i] for i, c in enumerate(NUM)]
    rs += [float(np.any(x[b] != z[b])) / ls[len(NUM) + i] for i, b in enumerate(BLOCKS)]
    prod = _matern(math.sqrt(sum(r * r for r in rs)))
    return gp.signal * ((1 - a) * prod + a * sum(_matern(r) for r in rs) / len(rs))


@pytest.mark.parametrize("additive", [False, True])
def test_kernel_matches_its_definition_and_gradient_is_exact(additive):
    X, y = _data()
    gp = GP(X.shape[1], BLOCKS, additive=additive)
    rng = np.random.default_rng(1)
    gp.theta = gp.prior_mean + rng.normal(size=len(gp.theta)) * 0.5
    K = gp.kernel()(X, X)
    B = np.array([[_brute(gp, a, b) for b in X] for a in X])
    np.testing.assert_allclose(K, B, atol=1e-12)
    np.testing.assert_allclose(np.diag(K), gp.signal)
    assert np.all(np.linalg.eigvalsh(K + 1e-9 * np.eye(len(X))) > 0)
    D2 = gp.distances(X)
    _, grad = gp._neg_log_post(gp.theta, X, y, D2)
    eps = 1e-6
    num = [(gp._neg_log_post(gp.theta + eps * e, X, y, D2)[0]
            - gp._neg_log_post(gp.theta - eps * e, X, y, D2)[0]) / (2 * eps)
           for e in np.eye(len(gp.theta))]
    np.testing.assert_allclose(grad, num, rtol=1e-4, atol=1e-5)


def test_hamming_block_is_one_distance_whatever_the_levels():
    X, _ = _data()
    gp = GP(X.shape[1], BLOCKS)
    k = gp.kernel()
    base = X[:1].copy()
    others = np.repeat(base, 4, axis=0)
    others[:, 3:7] = np.eye(4)  # the same row with each of the 4 levels of the first block
    cov = k(base, others)[0]
    same = np.flatnonzero(others[:, 3:7].argmax(1) == base[0, 3:7].argmax())[0]
    assert cov[same] == pytest.approx(gp.signal)
    diff = np.delete(cov, same)
    np.testing.assert_allclose(diff, diff[0])  # every other level is equally far
    assert diff[0] == pytest.approx(matern52_r(1.0 / gp.ls[len(NUM)], gp.signal))
    # column lengthscales express the same distance as Euclidean distance
    ls = k.column_ls(X.shape[1])
    d = np.sqrt(np.sum(((others - base) / ls) ** 2, axis=1))
    np.testing.assert_allclose(np.delete(d, same), 1.0 / gp.ls[len(NUM)])


def test_additive_share_is_learnt_from_the_data():
    rng = np.random.default_rng(0)
    X = rng.random((40, 4))
    additive = np.sin(6 * X[:, 0]) + np.cos(5 * X[:, 1]) + X[:, 2] ** 2
    product = np.sin(6 * X[:, 0] * X[:, 1]) * np.cos(4 * X[:, 2] + 3 * X[:, 3])
    mixes = []
    for y in (additive, product):
        gp = GP(4, additive=True)
        gp.fit(X, (y - y.mean()) / y.std(), rng, restarts=2)
        mixes.append(gp.mix)
    assert mixes[0] > 0.8 and mixes[1] < mixes[0]


class Prob:
    def __init__(self, dims):
        self.space = Space(tuple(f"p{i}" for i in range(len(dims))), tuple(dims))
        self.params = self.space.names
        self.path = "<test>"


def test_hamming_blocks_follow_the_feature_layout():
    prob = Prob([Real(0, 1), Categorical(("a", "b", "c")), Categorical((16, 32, 64)),
                 Categorical(("x", "y")), Integer(1, 9), Categorical(("u", "v", "w", "z"))])
    opt = make_optimizer(prob, "default")
    F = prob.space.features(prob.space.sample_unit(5, np.random.default_rng(0)))
    gp = opt._new_gp(F.shape[1])
    # columns: real, a/b/c one-hot (3), ordered rank, x/y as one 0/1 column, integer, 4 one-hot
    assert [list(b) for b in gp.blocks] == [[1, 2, 3], [7, 8, 9, 10]]
    assert list(gp.num) == [0, 4, 5, 6]
    np.testing.assert_allclose(F[:, 1:4].sum(1), 1.0)


@pytest.mark.parametrize("additive", [False, True])
def test_fantasies_equal_the_posterior_with_those_observations(additive):
    X, y = _data()
    gp = GP(X.shape[1], BLOCKS, additive=additive)
    gp.theta = gp.prior_mean + np.random.default_rng(2).normal(size=len(gp.theta)) * 0.3
    post = gp.condition(X, y)
    C, _ = _data(30, seed=5)
    mean, var, V = post.predict(C, want_v=True)
    f = Fantasies(post, C, V)
    m1, v1 = f.condition([3, 7], mean, var, lie=0.5)   # a block, then one more
    m2, v2 = f.condition([11], m1, v1, lie=0.5)
    assert f.count == 3
    ref_mean, ref_var = gp.condition(np.vstack([X, C[[3, 7, 11]]]),
                                     np.r_[y, 0.5, 0.5, 0.5]).predict(C)
    np.testing.assert_allclose(m2, ref_mean, atol=1e-6)
    np.testing.assert_allclose(v2, ref_var, atol=1e-6)
    kb_mean, _ = Fantasies(post, C, V).condition([3, 7], mean, var)  # kriging believer
    np.testing.assert_allclose(kb_mean, mean)
