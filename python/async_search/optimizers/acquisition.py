"""Acquisition functions on a Gaussian predictive (mean, sd); larger scores are better.

- ``log_ei``: the log of expected improvement below ``best``, computed without
  underflow far from the incumbent (so candidates stay ranked where EI itself is 0);
- ``neg_lcb``: minus the lower confidence bound ``mean - kappa * sd``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erfcx, log_ndtr, ndtr

__all__ = ["log_ei", "neg_lcb"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_PI_2 = math.sqrt(math.pi / 2.0)


def _log_h(z: np.ndarray) -> np.ndarray:
    """log(phi(z) + z * Phi(z)), stable for very negative z."""
    out = np.empty_like(z)
    hi = z > -1.0
    zh = z[hi]
    out[hi] = np.log(np.exp(-0.5 * zh * zh - _LOG_SQRT_2PI) + zh * ndtr(zh))
    zl = np.maximum(z[~hi], -1e6)
    # phi(z) * (1 + z * sqrt(pi/2) * erfcx(-z / sqrt 2)), the bracket ~ 1/z^2 for z << 0
    bracket = 1.0 + zl * _SQRT_PI_2 * erfcx(-zl / math.sqrt(2.0))
    out[~hi] = -0.5 * zl * zl - _LOG_SQRT_2PI + np.log(np.maximum(bracket, 1e-300))
    return out


def log_ei(mean: np.ndarray, sd: np.ndarray, best: float) -> np.ndarray:
    """log E[max(best - f, 0)] for f ~ N(mean, sd^2)."""
    sd = np.maximum(sd, 1e-12)
    return _log_h((best - mean) / sd) + np.log(sd)


def neg_lcb(mean: np.ndarray, sd: np.ndarray, kappa: float) -> np.ndarray:
    return -(mean - kappa * sd)


def log_pi(mean: np.ndarray, sd: np.ndarray, best: float) -> np.ndarray:
    """log P(f < best) (unused by default; kept for experiments)."""
    return log_ndtr((best - mean) / np.maximum(sd, 1e-12))
