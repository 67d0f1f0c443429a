"""A small exact Gaussian process: Matérn 5/2 ARD kernel, fitted signal and noise.

Inputs are surrogate features in [0, 1] (``Space.features``); targets are
standardised by the caller.

Kernel. Every input has one lengthscale ``l_g``. A numeric input is one feature
column; an unordered categorical is a *Hamming block*: its one-hot columns, whose
distance is ``h = 1`` when the category differs and 0 when it is the same (one
hyperparameter per categorical dimension, not one per level). With
``r_g = |x_g - x'_g| / l_g`` (numeric) or ``h / l_g`` (Hamming)::

    k(x, x') = s * ((1 - a) * M(sqrt(sum_g r_g^2)) + a * mean_g M(r_g))

where ``M`` is the Matérn 5/2 correlation. The first term (the ARD kernel, alone
when ``a = 0``) lets every input interact with every other; the second is additive
(one-dimensional effects only), which generalises from few points where the
objective is mostly a sum of per-input effects (main effects of categorical
choices, separable functions). With ``additive=True`` the share ``a`` is a
hyperparameter fitted with the others, so the marginal likelihood decides how
additive the objective looks.

The additive part needs one Matérn term per pair and numeric input; a Hamming
input's takes two values only.

Hyperparameters ``theta = [log lengthscales..., log signal variance, log noise
variance (, logit a)]`` are fitted by maximising the log marginal likelihood plus
weak priors (MAP), with analytic gradients and L-BFGS-B from a few starts (the
previous optimum first, so refits are cheap and stable).

Besides mean and variance, :class:`Posterior` exposes what batch acquisition
needs without refitting: the kernel between any rows and ``V = L^-1 K(X, C)``,
so fantasised observations (kriging believer, constant liar) update every
candidate's mean and variance by low-rank corrections.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy.linalg import cho_solve, solve_triangular
from scipy.optimize import minimize

__all__ = ["GP", "Fantasies", "Kernel", "Posterior", "matern52", "matern52_r", "sqdist"]

SQRT5 = math.sqrt(5.0)
LOG_LS_BOUNDS = (math.log(0.01), math.log(30.0))
LOG_SIGNAL_BOUNDS = (math.log(0.01), math.log(100.0))
LOG_NOISE_BOUNDS = (math.log(1e-6), math.log(0.5))
MIX_BOUNDS = (-6.0, 6.0)          # logit of the additive share a
MIX_PRIOR = (0.0, 2.0)            # its prior: centre (a = 0.5) and sd, in logit units
JITTER = 1e-8
CROSS_CHUNK = 1 << 20             # pairs x inputs per block of an additive cross-kernel


def sqdist(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between the rows of A and B (one matrix product)."""
    d = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T
    return np.maximum(d, 0.0)


def matern52_r(r: np.ndarray, signal: float) -> np.ndarray:
    """Matérn 5/2 covariance at scaled distances ``r``."""
    return signal * (1.0 + SQRT5 * r + (5.0 / 3.0) * r * r) * np.exp(-SQRT5 * r)


def matern52(A: np.ndarray, B: np.ndarray, ls: np.ndarray, signal: float) -> np.ndarray:
    """Matérn 5/2 ARD covariance between rows of A and B (``ls`` per column)."""
    return matern52_r(np.sqrt(sqdist(A / ls, B / ls)), signal)


@dataclass
class Kernel:
    """A fitted kernel: ``num`` numeric feature columns and their lengthscales, Hamming
    blocks (column indices) and theirs, signal variance, additive share ``mix``."""

    num: np.ndarray
    num_ls: np.ndarray
    blocks: Sequence[np.ndarray]
    block_ls: np.ndarray
    signal: float
    mix: float = 0.0
    n_inputs: int = field(init=False)

    def __post_init__(self) -> None:
        self.n_inputs = len(self.num) + len(self.blocks)

    def column_ls(self, n_features: int) -> np.ndarray:
        """A lengthscale per feature column such that Euclidean distance in units of it
        is the kernel's distance (a Hamming block's two changed columns count once)."""
        out = np.ones(n_features)
        out[self.num] = self.num_ls
        for cols, ls in zip(self.blocks, self.block_ls):
            out[cols] = ls * math.sqrt(2.0)
        return out

    def __call__(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        """Covariance between the rows of A and B."""
        step = max(1, CROSS_CHUNK // max(1, len(A) * self.n_inputs))
        if self.mix > 0.0 and len(B) > step:
            return np.hstack([self(A, B[i:i + step]) for i in range(0, len(B), step)])
        a, b = A[:, self.num] / self.num_ls, B[:, self.num] / self.num_ls
        r2 = sqdist(a, b)
        H = [1.0 - A[:, cols] @ B[:, cols].T for cols in self.blocks]  # 1 where different
        for h, ls in zip(H, self.block_ls):
            r2 += h / (ls * ls)
        out = (1.0 - self.mix) * matern52_r(np.sqrt(r2), 1.0)
        if self.mix > 0.0:
            add = np.zeros((len(A), len(B)))
            for j in range(a.shape[1]):  # one input at a time: no (A, B, inputs) array
                s = np.abs(a[:, j, None] - b[None, :, j])
                s *= SQRT5                   # s = sqrt(5) r
                e = np.exp(-s)
                s *= 1.0 + s / 3.0           # sqrt(5) r + 5/3 r^2
                s += 1.0
                s *= e
                add += s
            for h, ls in zip(H, self.block_ls):
                add += 1.0 + h * (matern52_r(1.0 / ls, 1.0) - 1.0)
            out += self.mix * add / self.n_inputs
        return self.signal * out


@dataclass
class Posterior:
    """The GP conditioned on (X, y) with fixed hyperparameters."""

    X: np.ndarray
    L: np.ndarray        # Cholesky factor of K(X, X) + noise
    alpha: np.ndarray    # K^-1 y
    kernel: Kernel
    noise: float
    ls: np.ndarray       # per feature column (Kernel.column_ls)

    @property
    def signal(self) -> float:
        return self.kernel.signal

    def cross(self, C: np.ndarray) -> np.ndarray:
        return self.kernel(self.X, C)

    def predict(self, C: np.ndarray, want_v: bool = False):
        """Mean and variance of the latent function at rows C (and V = L^-1 K(X, C))."""
        Ks = self.cross(C)
        mean = Ks.T @ self.alpha
        V = solve_triangular(self.L, Ks, lower=True, check_finite=False)
        var = np.maximum(self.signal - (V * V).sum(0), 1e-12 * self.signal)
        return (mean, var, V) if want_v else (mean, var)


class Fantasies:
    """Exact conditioning of a fixed candidate set on fantasised observations at some of
    its own rows, by low-rank updates (no refit, no new Cholesky of the data).

    ``C``: candidate feature rows; ``V = L^-1 K(X, C)`` from :meth:`Posterior.predict`.
    Each :meth:`condition` call adds observations at candidates ``js`` (with the GP's
    noise) and returns the candidates' updated mean and variance; its cost is
    O(len(C) * (len(X) + conditioned so far) * len(js)).
    """

    def __init__(self, post: Posterior, C: np.ndarray, V: np.ndarray) -> None:
        self.post, self.C = post, C
        self.Vt = np.ascontiguousarray(V.T)
        self.W: list = []      # columns of the update factor, one block per call
        self.count = 0         # fantasies conditioned on so far

    def condition(self, js: Sequence[int], mean: np.ndarray, var: np.ndarray,
                  lie: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Condition on observations at candidates ``js``: at their current mean
        (kriging believer: the mean stays) or at ``lie`` (constant liar)."""
        post = self.post
        cov = post.kernel(self.C, self.C[js]) - self.Vt @ self.Vt[js].T
        for W in self.W:
            cov -= W @ W[js].T
        S = cov[js] + post.noise * np.eye(len(js))
        Ls = np.linalg.cholesky(S + 1e-10 * post.signal * np.eye(len(js)))
        W = solve_triangular(Ls, cov.T, lower=True, check_finite=False).T
        self.W.append(W)
        self.count += len(js)
        if lie is not None:
            mean = mean + W @ solve_triangular(Ls, lie - mean[js], lower=True,
                                               check_finite=False)
        return mean, np.maximum(var - np.sum(W * W, axis=1), 1e-12 * post.signal)


class GP:
    """Fit hyperparameters; ``condition`` gives a :class:`Posterior` on any data.

    ``n_features`` feature columns; ``blocks``: the column indices of each Hamming
    block (one-hot columns of an unordered categorical); every other column is a
    numeric input. ``additive`` adds the fitted additive share (module docstring).
    Lengthscales are ordered: numeric inputs (by column), then blocks.
    """

    def __init__(self, n_features: int, blocks: Sequence[Sequence[int]] = (),
                 additive: bool = False) -> None:
        self.n_features = n_features
        self.blocks = [np.asarray(b, dtype=int) for b in blocks]
        in_block = np.zeros(n_features, dtype=bool)
        for b in self.blocks:
            in_block[b] = True
        self.num = np.flatnonzero(~in_block)
        self.p = len(self.num) + len(self.blocks)  # lengthscales
        self.additive = additive
        # prior centres: lengthscale 0.5 per input, unit signal, small noise (, a = 0.5)
        mean = [np.full(self.p, math.log(0.5)), [0.0, math.log(1e-3)]]
        sd = [np.full(self.p, 1.5), [1.5, 3.0]]
        self.bounds = [LOG_LS_BOUNDS] * self.p + [LOG_SIGNAL_BOUNDS, LOG_NOISE_BOUNDS]
        if additive:
            mean.append([MIX_PRIOR[0]])
            sd.append([MIX_PRIOR[1]])
            self.bounds.append(MIX_BOUNDS)
        self.prior_mean = np.concatenate(mean).astype(float)
        self.prior_sd = np.concatenate(sd).astype(float)
        self.theta = self.prior_mean.copy()
        self.objective = math.inf

    @property
    def ls(self) -> np.ndarray:
        """Lengthscale per input (numeric inputs, then Hamming blocks)."""
        return np.exp(self.theta[:self.p])

    @property
    def signal(self) -> float:
        return float(math.exp(self.theta[self.p]))

    @property
    def noise(self) -> float:
        return float(math.exp(self.theta[self.p + 1]))

    @property
    def mix(self) -> float:
        """The additive share a (0 without ``additive``)."""
        if not self.additive:
            return 0.0
        return float(1.0 / (1.0 + math.exp(-self.theta[self.p + 2])))

    def kernel(self) -> Kernel:
        ls, k = self.ls, len(self.num)
        return Kernel(self.num, ls[:k], self.blocks, ls[k:], self.signal, self.mix)

    def distances(self, X: np.ndarray) -> np.ndarray:
        """(n*n, inputs): squared differences of numeric inputs, then Hamming distances."""
        n = len(X)
        diff = X[:, None, self.num] - X[None, :, self.num]
        cols = [(diff * diff).reshape(n * n, len(self.num))]
        cols += [(1.0 - X[:, b] @ X[:, b].T).reshape(n * n, 1) for b in self.blocks]
        return np.hstack(cols)

    def _neg_log_post(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray,
                      D2: np.ndarray) -> tuple[float, np.ndarray]:
        p = self.p
        k = len(self.num)
        ls2 = np.exp(2.0 * theta[:p])
        signal = math.exp(theta[p])
        noise = math.exp(theta[p + 1])
        n = len(y)
        inv = 1.0 / ls2
        r2 = D2 @ inv                                  # (n*n,)
        r = np.sqrt(r2).reshape(n, n)
        e = np.exp(-SQRT5 * r)
        M = (1.0 + SQRT5 * r + (5.0 / 3.0) * r * r) * e
        if self.additive:
            a = 1.0 / (1.0 + math.exp(-theta[p + 2]))
            ls = np.sqrt(ls2)
            Rg = np.sqrt(D2[:, :k]) / ls[:k]           # numeric inputs: |dx| / l
            Eg = np.exp(-SQRT5 * Rg)
            Pg = 1.0 + SQRT5 * Rg
            A = ((Pg + (5.0 / 3.0) * Rg * Rg) * Eg).sum(axis=1)
            Cg = (5.0 / 3.0) * Pg * Eg * (Rg * Rg)   # dM(r_g) / dlog l_g
            # Hamming blocks: M and its derivative at r = h / l take two values
            s = 1.0 / ls[k:]
            ms = (1.0 + SQRT5 * s + (5.0 / 3.0) * s * s) * np.exp(-SQRT5 * s)
            cs = (5.0 / 3.0) * (1.0 + SQRT5 * s) * np.exp(-SQRT5 * s) * s * s
            Hb = D2[:, k:]
            A = (A + (Hb @ (ms - 1.0) + len(self.blocks))).reshape(n, n) / p
            mixed = (1.0 - a) * M + a * A
        else:
            a = 0.0
            mixed = M
        K = signal * mixed
        K[np.diag_indices_from(K)] += noise + JITTER * signal
        try:
            L = np.linalg.cholesky(K)
        except np.linalg.LinAlgError:
            return 1e25, np.zeros_like(theta)
        alpha = cho_solve((L, True), y, check_finite=False)
        nll = 0.5 * y @ alpha + np.log(np.diag(L)).sum() + 0.5 * n * math.log(2 * math.pi)
        Kinv = cho_solve((L, True), np.eye(n), check_finite=False)
        W = np.outer(alpha, alpha) - Kinv               # d lml / dK (times 2)
        grad = np.empty_like(theta)
        # product part: dK/dlog l_g = C * d2_g / l_g^2
        C = signal * (1.0 - a) * (5.0 / 3.0) * (1.0 + SQRT5 * r) * e
        grad[:p] = -0.5 * ((W * C).reshape(-1) @ D2) / ls2
        if self.additive:
            w = W.reshape(-1)
            grad[:k] -= 0.5 * (signal * a / p) * (w @ Cg)
            grad[k:p] -= 0.5 * (signal * a / p) * (w @ Hb) * cs
            grad[p + 2] = -0.5 * np.sum(W * (signal * (A - M))) * a * (1.0 - a)
        grad[p] = -0.5 * np.sum(W * (signal * mixed))
        grad[p + 1] = -0.5 * noise * np.trace(W)
        z = (theta - self.prior_mean) / self.prior_sd
        nll += 0.5 * z @ z
        grad += z / self.prior_sd
        return float(nll), grad

    def fit(self, X: np.ndarray, y: np.ndarray, rng: np.random.Generator,
            restarts: int = 1, maxiter: int = 200) -> None:
        """MAP hyperparameters for (X, y) by L-BFGS-B from the current theta, then (when
        ``restarts >= 0``) the prior centre and ``restarts`` random points near it."""
        # the signal prior is centred on the targets' second moment: with a zero prior
        # mean that is the variance the data need (callers may shift the targets)
        self.prior_mean[self.p] = math.log(min(max(float(np.mean(y * y)), 0.05), 50.0))
        D2 = self.distances(X)
        lo = np.array([b[0] for b in self.bounds])
        hi = np.array([b[1] for b in self.bounds])
        starts = [np.clip(self.theta, lo, hi)]
        if restarts >= 0:
            starts.append(self.prior_mean.copy())
        for _ in range(restarts):
            starts.append(rng.uniform(lo, hi) * 0.5 + self.prior_mean * 0.5)
        best = (math.inf, self.theta)
        for t0 in starts:
            res = minimize(self._neg_log_post, t0, args=(X, y, D2), jac=True,
                           method="L-BFGS-B", bounds=self.bounds,
                           options={"maxiter": maxiter})
            if np.isfinite(res.fun) and res.fun < best[0]:
                best = (float(res.fun), res.x)
        self.theta = np.asarray(best[1], dtype=float)
        self.objective = best[0]  # negative log posterior at theta (model comparison)

    def condition(self, X: np.ndarray, y: np.ndarray) -> Posterior:
        """The posterior on (X, y) with the current hyperparameters."""
        kernel, noise = self.kernel(), self.noise
        K = kernel(X, X)
        K[np.diag_indices_from(K)] += noise + JITTER * kernel.signal
        jitter = JITTER * kernel.signal
        for _ in range(6):
            try:
                L = np.linalg.cholesky(K)
                break
            except np.linalg.LinAlgError:  # duplicated rows with tiny noise
                K[np.diag_indices_from(K)] += jitter
                jitter *= 10.0
        else:
            raise np.linalg.LinAlgError("GP covariance is not positive definite")
        alpha = cho_solve((L, True), y, check_finite=False)
        return Posterior(X, L, alpha, kernel, noise, kernel.column_ls(X.shape[1]))
