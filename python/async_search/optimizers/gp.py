"""A small exact Gaussian process: Matérn 5/2 ARD kernel, fitted signal and noise.

Inputs are surrogate features in [0, 1] (``Space.features``: unit coordinates and
one-hot categoricals, each with its own lengthscale); targets are standardised by
the caller. Hyperparameters ``theta = [log lengthscales..., log signal variance,
log noise variance]`` are fitted by maximising the log marginal likelihood plus
weak log-normal priors (MAP), with analytic gradients and L-BFGS-B from a few
starts (the previous optimum first, so refits are cheap and stable).

Besides mean and variance, :class:`Posterior` exposes what batch acquisition
needs without refitting: the posterior covariance between candidates and a
selected candidate, so fantasised observations (kriging believer, constant liar)
update every candidate's mean and variance by rank-one corrections.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_solve, solve_triangular
from scipy.optimize import minimize

__all__ = ["GP", "Posterior", "matern52", "matern52_r"]

SQRT5 = math.sqrt(5.0)
LOG_LS_BOUNDS = (math.log(0.01), math.log(30.0))
LOG_SIGNAL_BOUNDS = (math.log(0.01), math.log(100.0))
LOG_NOISE_BOUNDS = (math.log(1e-6), math.log(0.5))
JITTER = 1e-8


def _sqdist(A: np.ndarray, B: np.ndarray, inv_ls: np.ndarray) -> np.ndarray:
    a = A * inv_ls
    b = B * inv_ls
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def matern52_r(r: np.ndarray, signal: float) -> np.ndarray:
    """Matérn 5/2 covariance at scaled distances ``r``."""
    return signal * (1.0 + SQRT5 * r + (5.0 / 3.0) * r * r) * np.exp(-SQRT5 * r)


def matern52(A: np.ndarray, B: np.ndarray, ls: np.ndarray, signal: float) -> np.ndarray:
    """Matérn 5/2 covariance between rows of A and B."""
    return matern52_r(np.sqrt(_sqdist(A, B, 1.0 / ls)), signal)


@dataclass
class Posterior:
    """The GP conditioned on (X, y) with fixed hyperparameters."""

    X: np.ndarray
    L: np.ndarray        # Cholesky factor of K(X, X) + noise
    alpha: np.ndarray    # K^-1 y
    ls: np.ndarray
    signal: float
    noise: float

    def cross(self, C: np.ndarray) -> np.ndarray:
        return matern52(self.X, C, self.ls, self.signal)

    def predict(self, C: np.ndarray, want_v: bool = False):
        """Mean and variance of the latent function at rows C (and V = L^-1 K(X, C))."""
        Ks = self.cross(C)
        mean = Ks.T @ self.alpha
        V = solve_triangular(self.L, Ks, lower=True, check_finite=False)
        var = np.maximum(self.signal - (V * V).sum(0), 1e-12 * self.signal)
        return (mean, var, V) if want_v else (mean, var)


class GP:
    """Fit hyperparameters; ``condition`` gives a :class:`Posterior` on any data."""

    def __init__(self, n_features: int) -> None:
        self.p = n_features
        # prior centres: lengthscale 0.5 per input, unit signal, small noise
        self.prior_mean = np.r_[np.full(n_features, math.log(0.5)), 0.0, math.log(1e-3)]
        self.prior_sd = np.r_[np.full(n_features, 1.5), 1.5, 3.0]
        self.theta = self.prior_mean.copy()
        self.objective = math.inf
        self.bounds = [LOG_LS_BOUNDS] * n_features + [LOG_SIGNAL_BOUNDS, LOG_NOISE_BOUNDS]

    @property
    def ls(self) -> np.ndarray:
        return np.exp(self.theta[:self.p])

    @property
    def signal(self) -> float:
        return float(math.exp(self.theta[self.p]))

    @property
    def noise(self) -> float:
        return float(math.exp(self.theta[self.p + 1]))

    def _neg_log_post(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray,
                      D2: np.ndarray) -> tuple[float, np.ndarray]:
        p = self.p
        ls2 = np.exp(2.0 * theta[:p])
        signal = math.exp(theta[p])
        noise = math.exp(theta[p + 1])
        n = len(y)
        r2 = D2 @ (1.0 / ls2)                          # (n*n,)
        r = np.sqrt(r2).reshape(n, n)
        e = np.exp(-SQRT5 * r)
        M = (1.0 + SQRT5 * r + (5.0 / 3.0) * r * r) * e
        K = signal * M
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
        C = signal * (5.0 / 3.0) * (1.0 + SQRT5 * r) * e  # dK/dlog l_i = C * d_i^2 / l_i^2
        grad[:p] = -0.5 * ((W * C).reshape(-1) @ D2) / ls2
        grad[p] = -0.5 * np.sum(W * (signal * M))
        grad[p + 1] = -0.5 * noise * np.trace(W)
        z = (theta - self.prior_mean) / self.prior_sd
        nll += 0.5 * z @ z
        grad += z / self.prior_sd
        return float(nll), grad

    def fit(self, X: np.ndarray, y: np.ndarray, rng: np.random.Generator,
            restarts: int = 1, maxiter: int = 200) -> None:
        """MAP hyperparameters for (X, y) by L-BFGS-B from the current theta, then (when
        ``restarts >= 0``) the prior centre and ``restarts`` random points near it."""
        n = len(y)
        # the signal prior is centred on the targets' second moment: with a zero prior
        # mean that is the variance the data need (callers may shift the targets)
        self.prior_mean[self.p] = math.log(min(max(float(np.mean(y * y)), 0.05), 50.0))
        diff = X[:, None, :] - X[None, :, :]
        D2 = (diff * diff).reshape(n * n, self.p)
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
        ls, signal, noise = self.ls, self.signal, self.noise
        K = matern52(X, X, ls, signal)
        K[np.diag_indices_from(K)] += noise + JITTER * signal
        jitter = JITTER * signal
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
        return Posterior(X, L, alpha, ls, signal, noise)
