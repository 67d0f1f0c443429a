"""How much each parameter matters to the objective: variance-based importance
of a random-forest surrogate (the report and the dashboard share it).

A one-parameter-at-a-time score misses what matters most in a search: an
interior optimum (a learning rate: a U-shaped effect has a rank correlation
near 0) and interactions (one parameter only matters for some values of
another). Here a scikit-learn random forest is fitted to the objective
over the usable rows (status ok, finite objective), clipped at
``OUTLIER_IQR_FACTOR`` interquartile ranges beyond the quartiles so that one
diverged run does not dominate, and the forest's variance over the product of the
parameters' observed marginals is decomposed with Sobol indices (Saltelli's
estimator for the first order, Jansen's for the total order), as fANOVA does
over the trees' boxes (Hutter et al. 2014; Optuna's FanovaImportanceEvaluator):

- ``main``: the share of the variance the parameter explains alone;
- ``total``: the share it takes part in, alone or in interactions;
- ``importance``: ``total`` normalised over the parameters to sum to 1 (what
  the report prints as influence and the dashboard plots).

Samples are drawn from the rows' own values (one column at a time), so a
log-scaled parameter, an integer or a category needs no bounds. Categorical
parameters are coded as their sorted categories' ordinal numbers (a forest
separates them with several splits); a missing value gets a code of its own.
Everything is deterministic for a given ``seed``.

API::

    importances(frame, params, categorical, seed=0) -> tuple[Importance, ...]
    importance_of(columns, y, categorical, seed=0)  -> tuple[Importance, ...]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, AbstractSet, Mapping, Sequence

from async_search._compat import FROZEN
from async_search.expfiles import OBJECTIVE, OK, STATUS, param_column

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

__all__ = ["Importance", "importance_of", "importances", "MIN_ROWS"]

MIN_ROWS = 3  # fewer usable rows give no importance (NaN)
FOREST_TREES = 64  # as Optuna's evaluators
MAX_FIT_ROWS = 2000  # a larger experiment is fitted on this many rows drawn at random
SOBOL_SAMPLES = 1024  # rows of each of the two Sobol sample matrices
OUTLIER_IQR_FACTOR = 3.0  # objectives beyond the quartiles +- this x IQR are clipped there


@dataclass(**FROZEN)
class Importance:
    """One parameter's importance (see the module doc); NaN when undefined."""

    name: str
    kind: str  # "numeric" or "categorical"
    importance: float  # total-order share, normalised to sum to 1 over the parameters
    main: float  # first-order Sobol index of the forest
    total: float  # total-order Sobol index of the forest
    n: int  # usable rows

    def __post_init__(self) -> None:
        if self.kind not in ("numeric", "categorical"):
            raise ValueError(f"kind must be 'numeric' or 'categorical', got {self.kind!r}")


def importances(frame: pd.DataFrame, params: Sequence[str], categorical: AbstractSet[str],
                seed: int = 0) -> tuple[Importance, ...]:
    """Importance of each parameter over ``frame``'s usable rows (status ok and a
    finite objective), most important first (ties in ``params`` order).

    ``frame`` has the ``p:<name>`` columns, ``objective`` and ``status`` of
    :func:`async_search.expfiles.read_frame`.
    """
    import numpy as np

    y = frame[OBJECTIVE].to_numpy(dtype=float)
    usable = (frame[STATUS] == OK).to_numpy() & np.isfinite(y)
    columns = {name: frame[param_column(name)].to_numpy()[usable] for name in params}
    return importance_of(columns, y[usable], categorical, seed)


def importance_of(columns: Mapping[str, np.ndarray], y: np.ndarray,
                  categorical: AbstractSet[str], seed: int = 0) -> tuple[Importance, ...]:
    """Importance of each parameter (``columns``: name -> values, one per row of
    ``y``, all rows usable), most important first.

    Fewer than ``MIN_ROWS`` rows: NaN for all. A constant objective, or
    parameters that never vary: 0 for all (nothing explains anything).
    """
    import numpy as np

    names = list(columns)
    n = int(len(y))
    kinds = {name: "categorical" if name in categorical else "numeric" for name in names}

    def result(imp: Sequence[float], main: Sequence[float], total: Sequence[float]) -> tuple:
        out = [Importance(name, kinds[name], float(imp[i]), float(main[i]), float(total[i]), n)
               for i, name in enumerate(names)]
        order = sorted(range(len(out)), key=lambda i: (
            -(out[i].importance if math.isfinite(out[i].importance) else -1.0), i))
        return tuple(out[i] for i in order)

    nan = [math.nan] * len(names)
    if n < MIN_ROWS or not names:
        return result(nan, nan, nan)
    x = np.column_stack([_encode(columns[name], name in categorical) for name in names])
    target = _clipped(np.asarray(y, dtype=float))
    zero = [0.0] * len(names)
    if np.ptp(target) == 0 or all(np.ptp(x[:, j]) == 0 for j in range(x.shape[1])):
        return result(zero, zero, zero)
    rng = np.random.default_rng(seed)
    main, total = _sobol(_forest(x, target, rng), x, rng)
    share = total / total.sum() if total.sum() > 0 else np.zeros_like(total)
    return result(share, main, total)


def _encode(values: np.ndarray, is_categorical: bool) -> np.ndarray:
    """A column as floats: numbers as they are, categories as ordinal codes of
    their sorted texts; a missing value gets a code below all others."""
    import numpy as np

    if not is_categorical:
        try:
            out = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            is_categorical = True
    if is_categorical:
        texts = [None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
                 for v in values]
        codes = {t: i for i, t in enumerate(sorted({t for t in texts if t is not None}))}
        out = np.array([codes[t] if t is not None else math.nan for t in texts], dtype=float)
    missing = ~np.isfinite(out)
    if missing.any():
        finite = out[~missing]
        low = finite.min() - max(1.0, float(np.ptp(finite))) if finite.size else 0.0
        out = np.where(missing, low, out)
    return out


def _clipped(y: np.ndarray) -> np.ndarray:
    """y with its far outliers clipped to OUTLIER_IQR_FACTOR IQRs beyond the quartiles."""
    import numpy as np

    q1, q3 = np.percentile(y, [25, 75])
    reach = OUTLIER_IQR_FACTOR * (q3 - q1)
    return np.clip(y, q1 - reach, q3 + reach) if reach > 0 else y


def _forest(x: np.ndarray, y: np.ndarray, rng: np.random.Generator):
    """A random forest fitted to (x, y), on at most MAX_FIT_ROWS rows."""
    from sklearn.ensemble import RandomForestRegressor

    if len(y) > MAX_FIT_ROWS:
        keep = rng.choice(len(y), MAX_FIT_ROWS, replace=False)
        x, y = x[keep], y[keep]
    forest = RandomForestRegressor(n_estimators=FOREST_TREES, min_samples_leaf=1,
                                   random_state=int(rng.integers(2**31 - 1)), n_jobs=1)
    return forest.fit(x, y)


def _sobol(model, x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """First- and total-order Sobol indices of model.predict over the product of
    x's column marginals (Saltelli 2010 first order, Jansen total order)."""
    import numpy as np

    n, d = x.shape
    a = np.column_stack([x[rng.integers(n, size=SOBOL_SAMPLES), j] for j in range(d)])
    b = np.column_stack([x[rng.integers(n, size=SOBOL_SAMPLES), j] for j in range(d)])
    mixed = np.repeat(a[None, :, :], d, axis=0)  # mixed[j]: a with column j from b
    for j in range(d):
        mixed[j, :, j] = b[:, j]
    pred = model.predict(np.vstack([a, b, mixed.reshape(-1, d)]))
    fa, fb = pred[:SOBOL_SAMPLES], pred[SOBOL_SAMPLES:2 * SOBOL_SAMPLES]
    fab = pred[2 * SOBOL_SAMPLES:].reshape(d, SOBOL_SAMPLES)
    var = float(np.var(np.concatenate([fa, fb])))
    if var <= 0:
        return np.zeros(d), np.zeros(d)
    main = np.clip((fb[None, :] * (fab - fa[None, :])).mean(axis=1) / var, 0.0, 1.0)
    total = np.clip(0.5 * ((fa[None, :] - fab) ** 2).mean(axis=1) / var, 0.0, None)
    return main, total
