"""Tree-ensemble prediction with a spread: mean and standard deviation over the trees.

The spread follows scikit-optimize's forests (law of total variance): for each
tree take its leaf's mean and its leaf's variance (the node impurity), then
``var = mean_t(leaf_var + leaf_mean**2) - mean**2``. Prediction walks each tree
once with ``Tree.apply`` (compiled, releases the GIL) and gathers leaf values
with NumPy, so it runs in threads when ``n_jobs > 1``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numpy as np

__all__ = ["forest_mean_std"]


def _moments(trees: Sequence, X: np.ndarray, min_variance: float) -> tuple[np.ndarray, np.ndarray]:
    s1 = np.zeros(len(X))
    s2 = np.zeros(len(X))
    for tree in trees:
        t = tree.tree_
        leaves = t.apply(X)
        m = t.value[leaves, 0, 0]
        v = t.impurity[leaves]
        if min_variance > 0:
            v = np.maximum(v, min_variance)
        s1 += m
        s2 += v + m * m
    return s1, s2


def forest_mean_std(forest, X: np.ndarray, n_jobs: int = 1,
                    min_variance: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of a fitted sklearn forest's prediction at rows ``X``."""
    trees = forest.estimators_
    X = np.ascontiguousarray(X, dtype=np.float32)
    if n_jobs > 1 and len(trees) > 1:
        parts = np.array_split(np.arange(len(trees)), min(n_jobs, len(trees)))
        with ThreadPoolExecutor(max_workers=len(parts)) as pool:
            results = list(pool.map(
                lambda idx: _moments([trees[i] for i in idx], X, min_variance), parts))
        s1 = sum(r[0] for r in results)
        s2 = sum(r[1] for r in results)
    else:
        s1, s2 = _moments(trees, X, min_variance)
    mean = s1 / len(trees)
    var = s2 / len(trees) - mean * mean
    return mean, np.sqrt(np.maximum(var, 0.0))


class TreeModel:
    """A fitted extra-trees or random forest whose leaf statistics are kept by us.

    The tree *structure* comes from scikit-learn (fitted on at most ``max_fit``
    rows); each leaf's count, sum and sum of squares are computed from every
    observation given to :meth:`set_data` and updated by :meth:`add`, so new
    results (and fantasies) change predictions at once, without a refit.
    Prediction per tree is the leaf mean and the leaf variance; the ensemble's
    spread is the law of total variance over trees (as :func:`forest_mean_std`).
    """

    def __init__(self, kind: str, n_trees: int, min_samples_leaf: int, seed: int,
                 n_jobs: int = 1) -> None:
        self.kind, self.n_trees, self.min_leaf = kind, n_trees, min_samples_leaf
        self.seed, self.n_jobs = seed, n_jobs
        self.trees: list = []
        self.stats: list = []  # per tree: (count, sum, sumsq) arrays over nodes
        self.prior_var = 1.0

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor

        cls = ExtraTreesRegressor if self.kind == "et" else RandomForestRegressor
        forest = cls(n_estimators=self.n_trees, min_samples_leaf=self.min_leaf,
                     max_features=1.0, random_state=self.seed, n_jobs=self.n_jobs)
        forest.fit(np.asarray(X, dtype=np.float32), y)
        self.trees = [e.tree_ for e in forest.estimators_]
        self.prior_var = float(np.var(y)) if len(y) > 1 else 1.0

    def set_data(self, X: np.ndarray, y: np.ndarray) -> None:
        """Recompute every leaf's statistics from all rows (threads over trees)."""
        X = np.ascontiguousarray(X, dtype=np.float32)
        y2 = y * y

        def stats(t):
            leaves, n = t.apply(X), t.node_count
            return [np.bincount(leaves, minlength=n).astype(float),
                    np.bincount(leaves, weights=y, minlength=n),
                    np.bincount(leaves, weights=y2, minlength=n)]

        if self.n_jobs > 1:
            with ThreadPoolExecutor(max_workers=self.n_jobs) as pool:
                self.stats = list(pool.map(stats, self.trees))
        else:
            self.stats = [stats(t) for t in self.trees]

    def add(self, X: np.ndarray, y: np.ndarray) -> None:
        X = np.ascontiguousarray(X, dtype=np.float32)
        for t, (c, s, q) in zip(self.trees, self.stats):
            leaves = t.apply(X)
            np.add.at(c, leaves, 1.0)
            np.add.at(s, leaves, y)
            np.add.at(q, leaves, y * y)

    def leaves(self, C: np.ndarray) -> np.ndarray:
        """(n_trees, len(C)) leaf ids of candidate rows."""
        C = np.ascontiguousarray(C, dtype=np.float32)
        if self.n_jobs > 1 and len(C) >= 256:
            with ThreadPoolExecutor(max_workers=self.n_jobs) as pool:
                return np.array(list(pool.map(lambda t: t.apply(C), self.trees)))
        return np.array([t.apply(C) for t in self.trees])

    def predict_leaves(self, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ensemble mean and sd at candidates given by their leaf ids ``L``."""
        s1 = np.zeros(L.shape[1])
        s2 = np.zeros(L.shape[1])
        for leaves, (c, s, q) in zip(L, self.stats):
            n = c[leaves]
            safe = np.maximum(n, 1.0)
            m = s[leaves] / safe
            v = np.maximum(q[leaves] / safe - m * m, 0.0)
            # an empty leaf (its training rows were all replaced) knows nothing: prior variance
            m = np.where(n > 0, m, 0.0)
            v = np.where(n > 0, v, self.prior_var)
            s1 += m
            s2 += v + m * m
        mean = s1 / len(self.trees)
        return mean, np.sqrt(np.maximum(s2 / len(self.trees) - mean * mean, 0.0))
