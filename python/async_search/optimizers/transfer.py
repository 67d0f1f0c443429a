"""The transfer mode of a warm start: earlier values mapped onto the new problem's scale.

A related problem (the same space, a new data set) has an objective that is
shifted and rescaled, perhaps bent a little, against the earlier one. Its
earlier values, told as they are, would mislead a surrogate that mixes them
with the new values. In the transfer mode (``warm(..., mode="transfer")``)
the optimizer tells them through an affine map ``a + b * v`` fitted on the
overlapping evidence, and refitted after every tell:

- the earlier rows' prediction at each new point ``v_hat(x)``: inverse-distance
  weights over its ``NEIGHBOURS`` nearest earlier rows in the unit cube;
- no new value yet: the earlier values as they are (only their shape counts);
  fewer than ``MIN_FIT`` new values: a shift only (``b = 1``);
- from ``MIN_FIT`` on: least squares of the new values on ``v_hat``, ``b``
  kept >= 0. Where the two problems disagree (``b`` near 0) the earlier rows
  flatten to the new values' level: they keep the search from re-sampling
  their points but no longer pull it toward their old optimum.

The earlier rows' weight decays as new rows arrive: an earlier row within
``SUPERSEDE * sqrt(d)`` (unit cube) of a new evaluation leaves the data, as the
new evidence there replaces it (a shifted optimum no longer conflicts with the
earlier one next to it); once the new values are half as many as the earlier
rows (at least ``RETIRE_MIN``), all of them leave: by then the new rows, placed
with the earlier ones' help, carry the search (on the shifted problems of
bench/asbench/runners/warm_start.py, keeping them up to as many new values as
earlier rows left the search worse at 30 evaluations than a cold start).
Where the new values disagree with the earlier rows (from ``MISFIT_MIN`` new
values on, the rank correlation of the new values with ``v_hat`` below
``MISFIT_RHO``: the problems are not related the way the map assumes), all of
the earlier rows leave at once and the model is the new rows' alone.
Their points stay known, so they are never proposed again.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["MIN_FIT", "MISFIT_MIN", "MISFIT_RHO", "NEIGHBOURS", "RETIRE_MIN", "SUPERSEDE",
           "affine_map", "misfit", "predicted", "superseded"]

NEIGHBOURS = 3    # earlier rows that predict the earlier value at a new point
MIN_FIT = 3       # new values needed before the scale b is fitted (a shift only before)
SUPERSEDE = 0.05  # radius (times sqrt(d), unit cube) within which a new row replaces an old
RETIRE_MIN = 10   # new values before every earlier row may be retired
MISFIT_MIN = 5    # new values before the earlier rows' agreement with them is judged
MISFIT_RHO = 0.3  # below this rank correlation the earlier rows leave at once


def superseded(U_old: np.ndarray, U_new: np.ndarray, n_old: int) -> np.ndarray:
    """Mask of the earlier rows that leave the data (see the module's docstring)."""
    if len(U_new) >= max(RETIRE_MIN, n_old // 2):
        return np.ones(len(U_old), dtype=bool)
    if len(U_new) == 0 or len(U_old) == 0:
        return np.zeros(len(U_old), dtype=bool)
    d = np.sqrt(((U_old[:, None, :] - U_new[None, :, :]) ** 2).sum(axis=2))
    return d.min(axis=1) <= SUPERSEDE * math.sqrt(U_old.shape[1])


def predicted(U_old: np.ndarray, v_old: np.ndarray, U_new: np.ndarray) -> np.ndarray:
    """``v_hat``: the earlier rows' value at each new point (inverse-distance weights
    over its ``NEIGHBOURS`` nearest earlier rows)."""
    d = np.sqrt(((U_new[:, None, :] - U_old[None, :, :]) ** 2).sum(axis=2))
    k = min(NEIGHBOURS, len(v_old))
    near = np.argsort(d, axis=1)[:, :k]
    w = 1.0 / (np.take_along_axis(d, near, axis=1) + 1e-9)
    return (w * v_old[near]).sum(axis=1) / w.sum(axis=1)


def misfit(U_old: np.ndarray, v_old: np.ndarray, U_new: np.ndarray, y_new: np.ndarray) -> bool:
    """True when the new values disagree with the earlier rows: from ``MISFIT_MIN``
    new values on, their rank correlation with ``v_hat`` is below ``MISFIT_RHO``."""
    if len(y_new) < MISFIT_MIN or len(v_old) == 0:
        return False
    from scipy.stats import spearmanr

    v_hat = predicted(U_old, v_old, U_new)
    if np.ptp(v_hat) == 0.0 or np.ptp(y_new) == 0.0:
        return True
    return float(spearmanr(v_hat, y_new)[0]) < MISFIT_RHO


def affine_map(U_old: np.ndarray, v_old: np.ndarray, U_new: np.ndarray,
               y_new: np.ndarray) -> tuple[float, float]:
    """(a, b) with ``y_new ~ a + b * v_hat(U_new)``; (0, 1) when there is no new value."""
    if len(y_new) == 0 or len(v_old) == 0:
        return 0.0, 1.0
    v_hat = predicted(U_old, v_old, U_new)
    if len(y_new) < MIN_FIT or np.ptp(v_hat) == 0.0:
        return float(np.mean(y_new - v_hat)), 1.0
    b = float(np.cov(v_hat, y_new, bias=True)[0, 1] / np.var(v_hat))
    b = max(b, 0.0)
    return float(np.mean(y_new) - b * np.mean(v_hat)), b
