"""``default``: the project's model-based search engine.

How a point is produced
-----------------------
1. **Initial design.** The first ``n_init = max(init_size, auto)`` points come from
   a scrambled Sobol sequence (or Latin hypercube / random: setting ``design``) in
   the unit cube, where every dimension follows its prior (``space.py``); ``auto``
   is ``d + 2`` for ``d`` dimensions, at least 5 and at most 12 (setting ``n_init``
   overrides it; under a stopper the engine raises ``init_size`` to
   ``engine.stopper_design_size``). Pending and told points count towards the
   design, so a restart that replays earlier results goes straight to the model.
2. **Surrogate** (setting ``surrogate``). ``gp``: an exact Gaussian process
   (Matérn 5/2, one lengthscale per input, fitted signal and noise, weak
   log-normal priors; ``gp.py``) on :meth:`Space.features` (unit coordinates,
   one-hot unordered categoricals, ranks of numeric categoricals). An unordered
   categorical is one input whose distance is 0 or 1 (same level or not: a Hamming
   term with one lengthscale, not one per level), so a space of mostly categorical
   choices costs the GP a handful of hyperparameters. Setting ``kernel``:
   ``product`` is the ARD kernel (every input interacts with every other);
   ``additive`` mixes it with an additive kernel (a sum of one-input terms) at a
   fitted share; ``auto`` (default) fits both and takes the additive mix when its
   marginal likelihood is higher by ``ADD_MARGIN`` nats per observation (once
   there are ``ADD_MIN_OBS * (d + 2)`` observations): objectives that are mostly
   sums of per-parameter effects (main effects of categorical choices, separable
   functions) are then learnt from far fewer points, others keep the ARD kernel.
   ``et`` / ``rf``: extra-trees / random forest whose per-tree leaf means and
   variances give a mean and a spread (law of total variance; ``forest.py``).
   ``auto`` (default) uses the GP while there are at most ``gp_max_obs``
   observations, extra-trees beyond.
   Values are standardised after a warp (setting ``warp``): ``auto`` fits the GP
   both to the values and to ``log(y - min + delta)`` and keeps the one with the
   larger marginal likelihood (Jacobian included): heavy-tailed objectives such as
   Rosenbrock's get the log. The GP's constant prior mean sits at the
   ``prior_quantile`` of the observations (1.0: the worst one). This pessimistic
   prior keeps expected improvement near the data instead of in the empty corners
   of the cube, which is what wins with tens of evaluations.
3. **Acquisition** (setting ``acq``): expected improvement, computed in log space
   so it still ranks candidates where EI underflows (``ei``), or the lower
   confidence bound with ``kappa`` (``lcb``). It is maximised over ``n_candidates``
   candidates (half uniform in the cube, half Gaussian perturbations of the five
   best points at scales 0.005-0.3 of the cube on a random subset of coordinates,
   categorical values redrawn now and then), plus two rounds of finer perturbations
   around the best candidates so far. Integer and categorical coordinates are
   snapped, so every candidate is a real point.
4. **Pending points and batches** (setting ``batch``). Points asked but not yet
   told (the most recent 256) are fantasised: ``kb`` (kriging believer, default)
   conditions the GP on them at its own posterior mean, ``cl_min``/``cl_mean``/
   ``cl_max`` (the constant liar) at the min/mean/max of the observations; a
   fantasy also counts for the incumbent. The variance, hence EI, drops around
   them. ``ask(n)`` draws one candidate pool (``max(n_candidates, 4 n)``
   candidates, at most ``CANDIDATES_MAX`` = 4096 when ``4 n`` is larger),
   predicts it once, and picks its points greedily from it: one per round for
   the first ``EXACT_PICKS``, then in blocks of a quarter of the points picked so
   far (the best candidates that keep ``min_separation`` from each other), so a
   batch takes O(log n) rounds. After each round the GP conditions every pool
   candidate exactly on the picks (low-rank updates, no refit) for the first
   ``EXACT_FANTASIES`` picks; beyond them, and with trees, a pick shrinks the
   spread of candidates near it by its prior correlation (for trees a Gaussian as
   wide as the data's nearest-neighbour spacing). The fit and the prediction are
   shared by the whole batch, so the cost per point of ``ask(n)`` falls as ``n``
   grows, down to the updates of the pool by each pick (the pool's cap keeps a
   batch of thousands linear in ``n``). Candidates closer than ``min_separation``
   (in lengthscales, or in that spacing) to a pending or picked point are
   skipped, which keeps batches from piling up on one spot. A model of N
   observations places at most N points of one ``ask``; the rest (and any a
   depleted pool leaves) continue the initial design.
5. **After a warm start** (``warm``, either mode: ``_base.py``), the first
   ``EXPLOIT_EVALS`` (10) new points, counted from this run's own told and pending
   points (``n_new``), exploit: the candidate pool is only local perturbations of
   the five best points (sd up to ``EXPLOIT_SCALE`` = 0.3 of the cube), no uniform
   half, so no evaluation goes to broad exploration while the warm rows already
   cover the space. In the plain mode, when the log warp fits the values better
   than none (heavy tails, where a far step is costly: Rosenbrock), that largest
   sd is a trust region: halved by every new point that did not improve on the
   best before it, doubled by one that did, within [``TRUST_MIN`` = 0.02,
   ``EXPLOIT_SCALE``] (``_trust_length``). Not in the transfer mode: a related
   problem's best points may be off the new optimum, and a shrinking region held
   the search there. Then the search is as above. A restart's replayed rows are the
   run's own: a restarted run exploits only for what is left of the ten.
6. **No duplicates.** A candidate whose decoded point was told, is pending, or is
   already in the batch is skipped; repeats happen only when a discrete space has
   no new point left.

Failures (setting ``failures``): ``worst`` (default) models a failed evaluation
as the worst value observed so far, so the search learns to stay away from
regions where the model crashes, and never sees 1.8e308; ``skip`` leaves it out
of the model. Either way the point counts as visited and is not proposed again.
Before a first success, failures are only visited points.

Cost. All results told since the last ask enter at once. GP hyperparameters (and
the warp) are refitted when the observations grew by ``gp_refit_growth`` (5%)
since the last fit, warm-started (with restarts only up to 64 observations); the
posterior itself is always exact. Tree structures are refitted when the data grew
by ``tree_refit_growth`` (10%), on at most ``max_fit`` rows (the best half and a
random half), and their leaf statistics are recomputed from every observation; in
between each new result updates the leaf statistics of every tree directly, so
predictions use it at once. A tell+ask thus takes milliseconds at 60,000
observations (bench/asbench/runners/latency.py). ``n_jobs`` caps the BLAS/OpenMP threads and sets
the threads of the forest fit, tree prediction and large GP predictions.

Settings (defaults): surrogate (auto), acq (ei), kappa (1.96), batch (kb),
design (sobol), n_init (auto), n_candidates (2000), gp_max_obs (200), n_trees (16),
min_samples_leaf (2), max_fit (2000), warp (auto; none, log, rank), prior_quantile
(1.0), min_separation (0.1), failures (worst), gp_refit_growth (0.05),
tree_refit_growth (0.1), kernel (auto; product, additive).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from async_search.optimizers._base import (BaseOptimizer, check_choice, check_float, check_int,
                                           import_in_background)
from async_search.optimizers.acquisition import log_ei, neg_lcb
from async_search.optimizers.forest import TreeModel
from async_search.optimizers.gp import GP, Fantasies, sqdist
from async_search.space import Categorical

__all__ = ["DefaultOptimizer", "Warp"]

N_CENTRES = 5            # best observed points that local candidates are drawn around
REFINE_ROUNDS = 2        # rounds of local refinement of the best candidates
REFINE_TOP = 4           # candidates refined per round
REFINE_EACH = 48         # perturbations per refined candidate
LOCAL_SCALES = (0.005, 0.3)  # range (log-uniform) of local perturbation sd, unit cube
CATEGORY_FLIP = 0.2      # chance a local candidate redraws a categorical value
GP_RESTARTS = 1          # random restarts of the hyperparameter fit (besides 2 fixed starts)
LOG_WARP_MARGIN = 0.8    # nats per observation the log warp must gain over none,
LOG_WARP_KEEP = 0.3      # and, once chosen, must keep gaining to stay
ADD_MARGIN = 0.1         # nats per observation the additive kernel must gain over ARD,
ADD_KEEP = 0.05          # and, once chosen, must keep gaining to stay, once there are
ADD_MIN_OBS = 2          # ADD_MIN_OBS * (dimensions + 2) observations
GP_RESTART_MAX_OBS = 64  # above this many observations only the warm start is refined
MAX_FANTASIES = 256      # most recent pending points fantasised (bounds a big NUM_BUFFER's cost)
POOL_MIN = 64            # candidates competing in ask(n): the best POOL_MIN + n *
POOL_PER_POINT = 4       # POOL_PER_POINT by the first score, and half as many global ones
CANDIDATES_PER_POINT = 4  # ask(n) draws max(n_candidates, CANDIDATES_PER_POINT * n)
# at most this many candidates when 4 n exceeds n_candidates: every pick updates the
# pool, so a pool growing with n made a large ask quadratic in n (5,000 workers: 2.5 s
# turns)
CANDIDATES_MAX = 4096
EXACT_PICKS = 16         # points of ask(n) picked one per round; then blocks of a
BLOCK_SHARE = 4          # 1 / BLOCK_SHARE of the points picked so far per round
EXACT_FANTASIES = 64     # GP picks conditioned on exactly in one ask (then a local penalty)
FOREST_MODULE = "sklearn.ensemble"  # imported in the background by the constructor
NN_SAMPLE = 512          # rows used to estimate the nearest-neighbour spacing for trees
EXPLOIT_EVALS = 10       # after a warm start, this many new points exploit: candidates
EXPLOIT_SCALE = 0.3      # only near the best points, perturbation sd up to this (unit cube)
TRUST_MIN = 0.02         # heavy-tailed values: the exploit phase's trust region, halved on
#                          every new point that does not improve, doubled on one that does,
#                          between TRUST_MIN and EXPLOIT_SCALE


class Warp:
    """A monotone transform of objective values, frozen when made, then standardised.

    ``none``; ``log``: log(y - min + delta), delta 5% of the median's distance to the
    minimum (for heavy upper tails such as Rosenbrock's); ``rank``: normal scores of
    the ranks (keeps only the order).
    """

    def __init__(self, kind: str, y: np.ndarray) -> None:
        y = np.asarray(y, dtype=float)
        self.kind = kind
        self.lo = float(np.min(y)) if len(y) else 0.0
        spread = float(np.percentile(y, 50) - self.lo) if len(y) else 1.0
        self.delta = max(0.05 * spread, 1e-9 * (abs(self.lo) + 1.0))
        if kind == "rank":
            self.sorted = np.sort(y)
        raw = self._raw(y)
        self.mu = float(np.mean(raw)) if len(raw) else 0.0
        sd = float(np.std(raw)) if len(raw) > 1 else 1.0
        self.sd = sd if sd > 0 else 1.0

    def _raw(self, y: np.ndarray) -> np.ndarray:
        if self.kind == "log":
            return np.log(np.maximum(y - self.lo + self.delta, 1e-3 * self.delta))
        if self.kind == "rank":
            from scipy.special import ndtri

            n = len(self.sorted)
            r = np.interp(y, self.sorted, np.arange(n), left=-0.5, right=n - 0.5)
            return ndtri((r + 1.0) / (n + 1.0))
        return y

    def __call__(self, y: np.ndarray) -> np.ndarray:
        return (self._raw(np.asarray(y, dtype=float)) - self.mu) / self.sd

    def log_jacobian(self, y: np.ndarray) -> float:
        """sum log |d warp / dy| over ``y`` (to compare warps by marginal likelihood)."""
        out = -len(y) * math.log(self.sd)
        if self.kind == "log":
            out -= float(np.sum(np.log(np.maximum(y - self.lo + self.delta, 1e-3 * self.delta))))
        return out


TCHEBYCHEFF_RHO = 0.05  # ParEGO's augmentation: a weighted sum's share


def tchebycheff(Y: np.ndarray, w: np.ndarray, rho: float = TCHEBYCHEFF_RHO) -> np.ndarray:
    """Augmented Tchebycheff scalarisation of the rows of Y (several objectives, all
    minimised) under weights w: each objective normalised to [0, 1] by its observed range
    over the ok rows, then ``max_j w_j f_j + rho * sum_j w_j f_j``; a failed row (NaN)
    stays NaN."""
    Y = np.asarray(Y, dtype=float)
    ok = ~np.isnan(Y).any(axis=1)
    out = np.full(len(Y), np.nan)
    if not ok.any():
        return out
    lo = Y[ok].min(axis=0)
    span = np.maximum(Y[ok].max(axis=0) - lo, 1e-12)
    F = (Y[ok] - lo) / span * w
    out[ok] = F.max(axis=1) + rho * F.sum(axis=1)
    return out


class DefaultOptimizer(BaseOptimizer):
    name = "default"
    MULTI_OBJECTIVE = True  # ParEGO (_propose_parego)
    SETTINGS = {
        "surrogate": "auto", "acq": "ei", "kappa": 1.96, "batch": "kb", "design": "sobol",
        "n_candidates": 2000, "gp_max_obs": 200, "n_trees": 16, "min_samples_leaf": 2,
        "max_fit": 2000, "warp": "auto", "failures": "worst", "gp_refit_growth": 0.05,
        "tree_refit_growth": 0.1, "n_init": None, "prior_quantile": 1.0, "min_separation": 0.1,
        "kernel": "auto",
    }

    def __init__(self, problem, seed=0, **settings):
        super().__init__(problem, seed=seed, **settings)
        s = self.settings
        me = self.name
        check_choice(me, "surrogate", s["surrogate"], ("auto", "gp", "et", "rf"))
        check_choice(me, "acq", s["acq"], ("ei", "lcb"))
        check_float(me, "kappa", s["kappa"], 0.0)
        check_choice(me, "batch", s["batch"], ("kb", "cl_min", "cl_mean", "cl_max"))
        check_choice(me, "design", s["design"], ("sobol", "lhs", "random"))
        check_int(me, "n_candidates", s["n_candidates"], 16)
        check_int(me, "gp_max_obs", s["gp_max_obs"], 0)
        check_int(me, "n_trees", s["n_trees"], 2)
        check_int(me, "min_samples_leaf", s["min_samples_leaf"], 1)
        check_int(me, "max_fit", s["max_fit"], 10)
        check_choice(me, "warp", s["warp"], ("auto", "none", "log", "rank"))
        check_choice(me, "failures", s["failures"], ("worst", "skip"))
        check_float(me, "gp_refit_growth", s["gp_refit_growth"], 0.0)
        check_float(me, "tree_refit_growth", s["tree_refit_growth"], 0.0)
        check_float(me, "prior_quantile", s["prior_quantile"], 0.0, 1.0)
        check_float(me, "min_separation", s["min_separation"], 0.0)
        check_choice(me, "kernel", s["kernel"], ("auto", "product", "additive"))
        d = len(self.space)
        auto = min(max(d + 2, 5), 12) if s["n_init"] is None else check_int(
            me, "n_init", s["n_init"], 1)
        self.n_init = max(auto, self.init_size or 0)
        self._design = self._make_design()
        # with thousands of workers the first model turn already has thousands of
        # observations (trees); importing scikit-learn then (0.3-0.5 s) would stall
        # every worker, so it is imported now, while the design's evaluations run
        import_in_background(FOREST_MODULE)
        self._gps: dict = {}      # warp kind -> GP (hyperparameters persist between fits)
        self._gp_p = -1
        self._gp_fit_n = 0
        self._gp_warp = "none"
        self._log_fits = False    # the log warp's marginal likelihood beat none's at the last fit
        self._gp_additive = False  # kernel auto: the additive share is in use
        # the additive fit's random starts have their own (seeded) stream, so that
        # fitting it changes no candidate: while the ARD kernel wins, kernel auto
        # proposes exactly what kernel product does
        self._add_rng = np.random.default_rng(np.random.SeedSequence([abs(self.seed), 1]))
        self._trees: TreeModel | None = None
        self._trees_fit_n = 0
        self._trees_rows = 0      # told rows already in the trees' leaf statistics
        self._trees_warp: Warp | None = None
        self._trees_width = 0.1   # nearest-neighbour spacing (feature units) at the last fit
        self._exploit = False     # this ask is in the exploit phase of a warm start

    def _light(self) -> bool:
        return self._n < 2  # fewer than 2 results: ask gives design or random points

    def _rows_left(self) -> None:
        self._gp_fit_n = 0  # the GP's hyperparameters (and warp) are refitted next

    # -- initial design ----------------------------------------------------------------
    def _make_design(self):
        from scipy.stats import qmc

        d = len(self.space)
        seed = int(self.rng.integers(2**31 - 1))
        kind = self.settings["design"]
        if kind == "sobol":
            return qmc.Sobol(d, scramble=True, seed=seed)
        if kind == "lhs":
            return qmc.LatinHypercube(d, seed=seed).random(self.n_init)
        return None

    def _design_points(self, k: int, chosen: set) -> list[dict]:
        import warnings

        out: list[dict] = []
        for _ in range(20):
            need = k - len(out)
            if need <= 0:
                break
            if self.settings["design"] == "sobol":
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # balance warning: n not a power of 2
                    U = self._design.random(need)
            elif self.settings["design"] == "lhs" and self._design is not None and len(
                    self._design):
                U, self._design = self._design[:need], self._design[need:]
            else:
                U = self.space.sample_unit(need, self.rng)
            out += self.pick_new(U, need, chosen)
            if self.space_left(chosen) <= 0:
                break
        if len(out) < k:
            out += self.random_new(k - len(out), chosen)
        return out

    # -- data --------------------------------------------------------------------------
    def _data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unit rows and values the model sees (failures imputed or skipped), and the ok mask."""
        y = self.y
        ok = ~np.isnan(y)
        if self.settings["failures"] == "worst" and ok.any():
            return self.X, np.where(ok, y, np.max(y[ok])), ok
        return self.X[ok], y[ok], ok[ok]

    def _kind(self, n_rows: int) -> str:
        s = self.settings["surrogate"]
        if s != "auto":
            return s
        if n_rows <= self.settings["gp_max_obs"]:
            return "gp"
        return "et"

    # -- proposal ------------------------------------------------------------------------
    def _propose(self, n: int) -> list[dict]:
        if len(self.objectives) > 1:
            return self._propose_parego(n)
        return self._propose_scalar(n, set(), [])

    def _propose_parego(self, n: int) -> list[dict]:
        """Several objectives (ParEGO): each point of the ask gets a fresh random weight
        vector; the model is fitted to the augmented Tchebycheff scalarisation of the
        objectives (normalised by their observed ranges) under that weight, and the
        points already chosen in this ask are pending for the next, so that one
        asynchronous batch spreads along the front."""
        chosen: set = set()
        out: list[dict] = []
        k = len(self.objectives)
        for _ in range(n):
            self._y[:self._n] = tchebycheff(self.Y, self.rng.dirichlet(np.ones(k)))
            out = self._propose_scalar(len(out) + 1, chosen, out)
        return out

    def _propose_scalar(self, n: int, chosen: set, out: list) -> list[dict]:
        """n points in all, out (chosen already in this ask) among them."""
        started = self._n + self.n_pending + len(out)
        if started < self.n_init:
            out += self._design_points(min(n - len(out), self.n_init - started), chosen)
        if len(out) == n:
            return out
        X, y, ok = self._data()
        if int(ok.sum()) < 2 or self.space_left(chosen) <= 0:
            return out + self._design_points(n - len(out), chosen)
        # a model of N observations places at most N points of one ask (the first
        # turn after a design for thousands of workers); the design goes on for the rest
        k = min(n - len(out), len(y))
        kind = self._kind(len(y))
        self._exploit = self.n_warm > 0 and self.n_new + len(out) < EXPLOIT_EVALS
        if kind == "gp":
            out += self._propose_gp(X, y, k, chosen, out)
        else:
            out += self._propose_trees(kind, X, y, k, chosen, out)
        if len(out) < n:
            out += self._design_points(n - len(out), chosen)
        return out

    def _centres(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        k = min(N_CENTRES, len(y))
        top = np.argpartition(y, k - 1)[:k] if k < len(y) else np.arange(len(y))
        return X[top[np.argsort(y[top], kind="stable")]]

    def _local(self, centres: np.ndarray, m: int, scale_hi: float = LOCAL_SCALES[1]) -> np.ndarray:
        """``m`` perturbations of ``centres`` (unit rows), snapped to real points."""
        d = len(self.space)
        rng = self.rng
        idx = rng.integers(len(centres), size=m)
        U = centres[idx].copy()
        lo, hi = math.log(LOCAL_SCALES[0]), math.log(max(scale_hi, LOCAL_SCALES[0]))
        sd = np.exp(rng.uniform(lo, hi, size=(m, 1)))
        prob = min(1.0, 4.0 / d) if d > 4 else 1.0
        mask = rng.random((m, d)) < prob
        none = ~mask.any(axis=1)
        mask[none, rng.integers(d, size=int(none.sum()))] = True
        U = U + mask * rng.normal(0.0, 1.0, (m, d)) * sd
        U = np.abs(U)  # reflect at the faces of the cube
        U = np.where(U > 1.0, 2.0 - U, U)
        for j, dim in enumerate(self.space.dims):
            if isinstance(dim, Categorical):
                flip = rng.random(m) < CATEGORY_FLIP
                U[flip, j] = rng.random(int(flip.sum()))
        return self.space.snap(np.clip(U, 0.0, 1.0))

    def _candidates(self, X: np.ndarray, y: np.ndarray, n: int) -> np.ndarray:
        m = max(self.settings["n_candidates"], min(CANDIDATES_PER_POINT * n, CANDIDATES_MAX))
        if self._exploit:
            self._n_global = 0
            # not in the transfer mode: a related problem's best points may be off
            # the new optimum, and a shrinking region would hold the search there
            trust = self._log_fits and not self._transfer
            scale = self._trust_length() if trust else EXPLOIT_SCALE
            return self._local(self._centres(X, y), m, scale_hi=scale)
        self._n_global = m - m // 2
        glob = self.space.snap(self.space.sample_unit(m - m // 2, self.rng))
        return np.vstack([glob, self._local(self._centres(X, y), m // 2)])

    def _trust_length(self) -> float:
        """The exploit phase's trust region on heavy-tailed values (the largest sd of its
        perturbations): EXPLOIT_SCALE, doubled by every new point that improved on the
        best before it and halved by every one that did not (failures count as not),
        within [TRUST_MIN, EXPLOIT_SCALE]. Read from the values in order, so a restart's
        replayed rows give the same length."""
        y = self.y
        k = min(self.n_new - self.n_pending, len(y))
        before = y[:len(y) - k]
        before = before[~np.isnan(before)]
        best = float(np.min(before)) if len(before) else math.inf
        length = EXPLOIT_SCALE
        for v in y[len(y) - k:]:
            if v < best:  # NaN compares False: a failure
                best, length = float(v), min(2.0 * length, EXPLOIT_SCALE)
            else:
                length = max(0.5 * length, TRUST_MIN)
        return length

    def _score(self, mean: np.ndarray, var: np.ndarray, best: float) -> np.ndarray:
        sd = np.sqrt(np.maximum(var, 1e-18))
        if self.settings["acq"] == "ei":
            return log_ei(mean, sd, best)
        return neg_lcb(mean, sd, self.settings["kappa"])

    def _select(self, U, FC, mean, var, best, n, chosen, fantasise, lie, scale,
                blocked) -> list[dict]:
        """Pick up to ``n`` new points greedily from the candidate pool.

        The pool is the ``k = POOL_MIN + POOL_PER_POINT * n`` best candidates by the first
        score, plus the ``k / 2`` best of the uniform (global) candidates so that a batch
        can leave the incumbent's basin. Points are picked in rounds: one per round for
        the first ``EXACT_PICKS``, then blocks of a ``1 / BLOCK_SHARE`` of the points
        picked so far (so a large batch takes O(log n) rounds, not n). A block takes the
        best candidates in score order that keep ``min_separation`` from each other.
        After a round ``fantasise(idx, js, mean, var, rows, D2) -> (mean, var)``
        conditions on the picked pool candidates ``js`` (``idx`` maps the pool to the
        full candidate set) at least the pool ``rows`` still in play (``D2``: their
        squared distances to the picks in ``scale`` units), and the fantasies may
        become the incumbent. Candidates closer than
        ``min_separation`` (in units of ``1 / scale`` per feature: lengthscales for the
        GP, the data spacing for trees) to a pending or picked point are skipped."""
        score = self._score(mean, var, best)
        k = POOL_MIN + POOL_PER_POINT * n
        n_global = self._n_global
        if k < len(U) and not n_global:
            idx = np.sort(np.argpartition(-score, k - 1)[:k])
        elif k < len(U):
            top = np.argpartition(-score, k - 1)[:k]
            g = min(k // 2, n_global)
            glob = np.argpartition(-score[:n_global], g - 1)[:g]
            idx = np.union1d(top, glob)
        else:
            idx = np.arange(len(U))
        U, FC, mean, var, score = U[idx], FC[idx], mean[idx], var[idx], score[idx]
        Z = FC * scale
        r2 = self.settings["min_separation"] ** 2
        used = np.zeros(len(U), dtype=bool)
        if len(blocked):
            used |= np.min(sqdist(Z, blocked * scale), axis=1) < r2
        out: list[dict] = []
        while len(out) < n:
            score[used] = -np.inf
            want = 1 if len(out) < EXACT_PICKS else min(
                n - len(out), max(1, len(out) // BLOCK_SHARE))
            m = min(len(score), 2 * want + 4)
            top = np.argpartition(-score, m - 1)[:m] if m < len(score) else np.arange(m)
            top = top[np.argsort(-score[top], kind="stable")]
            top = top[score[top] > -np.inf]  # NaN and used candidates are out
            if not len(top):
                break  # pool exhausted: the caller fills up with random points
            near = sqdist(Z[top], Z[top]) < r2 if want > 1 else None
            picks: list[int] = []
            taken: list[int] = []  # positions in top of the picks
            decoded: list[dict] = []
            for t, j in enumerate(top):
                if taken and near[t, taken].any():
                    continue
                used[j] = True
                if t >= len(decoded):  # decode as needed: most of top is never reached
                    decoded += [None] * (t - len(decoded)) + self.space.from_unit(
                        U[top[t:t + want + 4]])
                p = decoded[t]
                key = self.space.key(p)
                if key in chosen or self.is_taken(key):
                    continue
                chosen.add(key)
                out.append(p)
                picks.append(int(j))
                taken.append(t)
                if len(picks) == want:
                    break
            if picks and len(out) < n:
                rows = np.flatnonzero(~used)  # only candidates still in play are updated
                D2 = sqdist(Z[rows], Z[picks])
                used[rows[np.min(D2, axis=1) < r2]] = True
                best = min(best, float(np.min(mean[picks])) if lie is None else lie)
                mean, var = fantasise(idx, picks, mean, var, rows, D2)
                score[rows] = self._score(mean[rows], var[rows], best)
        return out

    def _lie(self, yt: np.ndarray) -> float | None:
        b = self.settings["batch"]
        return None if b == "kb" else {"cl_min": np.min, "cl_mean": np.mean,
                                       "cl_max": np.max}[b](yt)

    # -- Gaussian process ----------------------------------------------------------------
    def _gp_targets(self, kind: str, y: np.ndarray) -> tuple[Warp, np.ndarray]:
        """Warped, standardised values, shifted so the GP's zero prior mean sits at the
        ``prior_quantile`` of the observations (1.0: the worst one, a pessimistic prior
        that keeps expected improvement near the data rather than in empty corners)."""
        warp = Warp(kind, y)
        yt = warp(y)
        return warp, yt - np.quantile(yt, self.settings["prior_quantile"])

    def _new_gp(self, p: int, additive: bool | None = None) -> GP:
        """A GP for ``p`` feature columns: one Hamming block per unordered categorical
        of more than two levels (two-level ones are a single 0/1 column)."""
        if additive is None:
            additive = self.settings["kernel"] == "additive"
        blocks, col = [], 0
        for dim in self.space.dims:  # the column layout of Space.features
            if isinstance(dim, Categorical) and not dim.ordered and dim.size > 2:
                blocks.append(list(range(col, col + dim.size)))
                col += dim.size
            else:
                col += 1
        return GP(p, blocks, additive=additive)

    def _fit_gp(self, F: np.ndarray, y: np.ndarray) -> tuple[GP, np.ndarray]:
        """The GP and its targets; hyperparameters (and the warp, when ``warp`` is auto:
        the one with the larger marginal likelihood, Jacobian included) refitted on the
        growth schedule, warm-started from the previous fit."""
        s = self.settings
        if self._gp_p != F.shape[1]:
            self._gps, self._gp_p, self._gp_fit_n = {}, F.shape[1], 0
        if len(y) - self._gp_fit_n >= max(1.0, s["gp_refit_growth"] * self._gp_fit_n):
            kinds = ("none", "log") if s["warp"] == "auto" else (s["warp"],)
            # few observations: several starts; later the warm start alone suffices
            restarts = GP_RESTARTS if len(y) <= GP_RESTART_MAX_OBS else -1
            seeds = self.rng.integers(2**63 - 1, size=len(kinds))  # one stream per fit

            def fit(i):
                gp = self._gps.setdefault(kinds[i], self._new_gp(F.shape[1]))
                warp, yt = self._gp_targets(kinds[i], y)
                gp.fit(F, yt, np.random.default_rng(seeds[i]), restarts=restarts)
                return gp.objective - warp.log_jacobian(y)

            for kind in kinds:
                self._gps.setdefault(kind, self._new_gp(F.shape[1]))
            if self.n_jobs > 1 and len(kinds) > 1:
                with ThreadPoolExecutor(max_workers=min(self.n_jobs, len(kinds))) as pool:
                    scores = list(pool.map(fit, range(len(kinds))))
            else:
                scores = [fit(i) for i in range(len(kinds))]
            # the log must win by LOG_WARP_MARGIN nats per observation (on mildly skewed
            # values it fits about as well and optimises worse: Levy, the mixed space),
            # and keeps its place while it wins by LOG_WARP_KEEP (no flapping)
            if len(kinds) == 2:
                margin = LOG_WARP_KEEP if self._gp_warp == "log" else LOG_WARP_MARGIN
                better = scores[0] - scores[1] > margin * len(y)
                self._gp_warp = kinds[1] if better else kinds[0]
                self._log_fits = bool(scores[0] > scores[1])
            else:
                self._gp_warp = kinds[0]
                self._log_fits = kinds[0] == "log"
            if s["kernel"] == "auto" and len(y) >= ADD_MIN_OBS * (len(self.space) + 2):
                # the additive share must win by ADD_MARGIN nats per observation over the
                # plain ARD kernel on the chosen warp (and keeps its place by ADD_KEEP)
                key = ("additive", self._gp_warp)
                gp = self._gps.setdefault(key, self._new_gp(F.shape[1], additive=True))
                yt = self._gp_targets(self._gp_warp, y)[1]
                gp.fit(F, yt, self._add_rng, restarts=restarts)
                margin = ADD_KEEP if self._gp_additive else ADD_MARGIN
                gain = self._gps[self._gp_warp].objective - gp.objective
                self._gp_additive = gain > margin * len(y)
            else:  # too few observations (the transfer mode's earlier rows left)
                self._gp_additive = False
            self._gp_fit_n = len(y)
        if self._gp_additive:
            return self._gps[("additive", self._gp_warp)], self._gp_targets(self._gp_warp, y)[1]
        return self._gps[self._gp_warp], self._gp_targets(self._gp_warp, y)[1]

    def _propose_gp(self, X, y, n, chosen, already) -> list[dict]:
        F = self.space.features(X)
        gp, yt = self._fit_gp(F, y)
        post = gp.condition(F, yt)
        lie = self._lie(yt)
        P = self.pending_unit(MAX_FANTASIES)
        if already:
            P = np.vstack([P, self.space.to_unit(already)])
        FP = self.space.features(P)
        best = float(np.min(yt))
        if len(P):  # fantasies count as observations, also for the incumbent
            fant = post.predict(FP)[0] if lie is None else np.full(len(FP), lie)
            post = gp.condition(np.vstack([F, FP]), np.r_[yt, fant])
            best = min(best, float(np.min(fant)))

        U, mean, var, V = self._pool(lambda C: self._gp_predict(post, C), X, yt, best, n)
        FC = self.space.features(U)
        cache: dict = {}

        def fantasise(idx, js, mean, var, rows, D2):
            # condition on observations at pool candidates js: exact low-rank updates of
            # every pool candidate's mean and variance for the first EXACT_FANTASIES
            # picks; beyond them the picks' prior correlation shrinks the variance of
            # the rows in play (a local penalty: large batches stay O(pool) per round)
            if "f" not in cache:  # the pool is fixed for one _select call
                cache["f"] = Fantasies(post, FC[idx], V[:, idx])
            f = cache["f"]
            if f.count + len(js) <= EXACT_FANTASIES:
                return f.condition(js, mean, var, lie)
            rho = post.kernel(f.C[rows], f.C[js]) / post.signal
            keep = np.prod(1.0 - rho * rho, axis=1)
            if lie is not None:
                mean[rows] = lie + (mean[rows] - lie) * keep
            var[rows] = np.maximum(var[rows] * keep, 1e-12 * post.signal)
            return mean, var

        return self._select(U, FC, mean, var, best, n, chosen, fantasise, lie, 1.0 / post.ls, FP)

    def _pool(self, predict, X, yt, best, n):
        """Candidates (global + local) plus refinement rounds around the best so far.

        ``predict(C)`` returns a tuple whose first two items are mean and variance;
        returns (U, *predict outputs) over the whole pool."""
        U = self._candidates(X, yt, n)
        parts = [(U,) + tuple(predict(U))]
        for r in range(REFINE_ROUNDS):
            allU = np.vstack([p[0] for p in parts])
            score = self._score(np.concatenate([p[1] for p in parts]),
                                np.concatenate([p[2] for p in parts]), best)
            top = np.argsort(-score)[:REFINE_TOP]
            Ur = self._local(allU[top], REFINE_TOP * REFINE_EACH, scale_hi=0.05 / (1 + 3 * r))
            parts.append((Ur,) + tuple(predict(Ur)))
        out = [np.vstack([p[0] for p in parts])]
        for i in range(1, len(parts[0])):
            cat = np.hstack if parts[0][i].ndim == 2 else np.concatenate
            out.append(cat([p[i] for p in parts]))
        return tuple(out)

    def _gp_predict(self, post, U: np.ndarray):
        FC = self.space.features(U)
        if self.n_jobs > 1 and len(FC) >= 512:
            parts = np.array_split(np.arange(len(FC)), self.n_jobs)
            with ThreadPoolExecutor(max_workers=self.n_jobs) as pool:
                res = list(pool.map(lambda idx: post.predict(FC[idx], want_v=True), parts))
            return (np.concatenate([r[0] for r in res]), np.concatenate([r[1] for r in res]),
                    np.hstack([r[2] for r in res]))
        return post.predict(FC, want_v=True)

    # -- trees -------------------------------------------------------------------------
    def _propose_trees(self, kind, X, y, n, chosen, already) -> list[dict]:
        s = self.settings
        model = self._trees
        rows = len(y)
        if (model is None or model.kind != kind or rows - self._trees_fit_n
                >= max(1.0, s["tree_refit_growth"] * self._trees_fit_n)
                or rows < self._trees_rows):
            model = self._fit_trees(kind, X, y)
        elif rows > self._trees_rows:
            new = slice(self._trees_rows, rows)
            model.add(self.space.features(X[new]), self._trees_warp(y[new]))
            self._trees_rows = rows
        warp = self._trees_warp
        yt = warp(y)
        best = float(np.min(yt))

        def predict(C):
            m, sd = model.predict_leaves(model.leaves(self.space.features(C)))
            return m, sd * sd

        U, mean, var = self._pool(predict, X, yt, best, n)
        FC = self.space.features(U)
        width2 = 2.0 * self._trees_width ** 2
        lie = self._lie(yt)

        def shrink(mean, var, c, rows=slice(None)):
            """Condition ``rows`` on fantasies at closeness ``c`` (0..1, a column per
            fantasy); updates mean and var in place."""
            keep = np.prod(1.0 - c, axis=1)
            if lie is not None:
                mean[rows] = lie + (mean[rows] - lie) * keep
            var[rows] *= keep
            return mean, var

        P = self.pending_unit(MAX_FANTASIES)
        if already:
            P = np.vstack([P, self.space.to_unit(already)])
        FP = self.space.features(P)
        if len(P):  # Gaussian closeness to the nearest pending point
            c = np.exp(-np.min(sqdist(FC, FP), axis=1) / width2)
            mean, var = shrink(mean, var, c[:, None])

        def fantasise(idx, js, mean, var, rows, D2):
            return shrink(mean, var, np.exp(-0.5 * D2), rows)  # D2: in units of the spacing

        return self._select(U, FC, mean, var, best, n, chosen, fantasise, lie,
                            1.0 / self._trees_width, FP)

    def _fit_trees(self, kind, X, y) -> TreeModel:
        s = self.settings
        rows = len(y)
        # warp "auto": the GP's last choice (trees hardly care; EI on their spread does)
        warp = Warp(self._gp_warp if s["warp"] == "auto" else s["warp"], y)
        yt = warp(y)
        F = self.space.features(X)
        if rows > s["max_fit"]:
            half = s["max_fit"] // 2
            order = np.argsort(yt, kind="stable")
            rest = order[half:]
            pick = np.r_[order[:half], self.rng.choice(rest, s["max_fit"] - half, replace=False)]
        else:
            pick = np.arange(rows)
        model = TreeModel(kind, s["n_trees"], s["min_samples_leaf"],
                          int(self.rng.integers(2**31 - 1)), self.n_jobs)
        model.fit(F[pick], yt[pick])
        model.set_data(F, yt)
        sample = F[self.rng.choice(rows, min(rows, NN_SAMPLE), replace=False)]
        d2 = sqdist(sample, sample)
        np.fill_diagonal(d2, np.inf)
        nn = np.sqrt(np.min(d2, axis=1))
        # the sample is sparser than the data: scale its spacing to the full density
        self._trees_width = float(np.median(nn)) * (len(sample) / rows) ** (1.0 / F.shape[1])
        self._trees, self._trees_fit_n, self._trees_rows = model, rows, rows
        self._trees_warp = warp
        return model
