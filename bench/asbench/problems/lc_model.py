"""A synthetic learning-curve model: cheap, realistic curves for early-stopping benches.

As a model under the real binary (the params.json path is appended last)::

    PYTHONPATH=$PWD/bench mpiexec -n 4 build/async-search \\
        --problem bench/asbench/problems/problem_lc.py \\
        --model-cmd "/usr/bin/python3 -m asbench.problems.lc_model --sleep 0.02 --noise-seed 1" ...

it prints ``IMPROVE_INTERMEDIATE <step> <value>`` for steps 1..MAX_STEP (a
``--sleep`` pause before each, standing for an epoch's training), then
``IMPROVE_RESULT <value at MAX_STEP>``.  In-process, :func:`curve_value` and
:func:`curve` give the same numbers.

The space (``problem_lc.py`` beside it, 5-d, mixed): ``learning_rate`` (1e-4 ..
1e-1, log-uniform), ``dropout`` (0 .. 0.8), ``units`` (integer 16 .. 256),
``optimizer`` (adam, rmsprop, sgd), ``batch_size`` (16, 32, 64, 128).

The curve of a point (a validation loss, lower is better)::

    value(t) = final + GAP * exp(-t / tau)                      convergence
             + overfit * (1 - exp(-max(0, t - 2 tau) / 8))      late rise
             + noise(point, t, noise_seed)                      N(0, sd), fixed per step

- the asymptote ``final`` shows at every step (the curves of a poor network
  and of a good one are shifted by the difference of their finals: GAP is
  the same for all, so the best points start near START = 2.3);
- ``z``, the learning rate's distance (in decades / 3) from the optimizer's
  best one (shifted up for larger batches), sets the speed and the floor:
  a high rate converges fast (small ``tau``) to a worse ``final``, a low rate
  converges slowly to a good one and may not get there within MAX_STEP;
- dropout slows convergence (``tau`` grows with it), and too little of it
  overfits late when the network is wide (``overfit``), so a low-dropout point
  leads after a few steps and ends behind;
- ``units`` and ``optimizer`` add smaller terms (sgd needs a larger rate and
  converges slower).

So curves cross: the leaders at step 1-3 are often not the best at MAX_STEP,
and an early-stopping rule can be wrong.  Over random points, a point among
the best 5% at MAX_STEP is in the best third at step 1, 3, 5, 9 in about 81%,
67%, 81%, 98% of cases (``rank_check``).  The noise is a deterministic
function of (point, step, noise_seed), so a point's curve is the same in the
model process and in-process.  The best value at MAX_STEP without noise is
:data:`OPTIMUM` (at :data:`OPTIMUM_POINT`), found by :func:`find_optimum`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence

MAX_STEP = 27
START = 2.3                      # ~ ln(10): an untrained 10-class cross-entropy
GAP = START - 0.22               # the fall of every curve from step 0 to its asymptote
NOISE_SD = 0.01
OPTIMIZERS = ("adam", "rmsprop", "sgd")
BATCH_SIZES = (16, 32, 64, 128)
UNITS = (16, 256)
LR = (1e-4, 1e-1)
DROPOUT = (0.0, 0.8)

# per optimizer: best log-rate position u* in [0, 1], speed factor of tau, floor
_OPT = {
    "adam": (0.40, 1.0, 0.00),
    "rmsprop": (0.35, 0.9, 0.03),
    "sgd": (0.75, 1.8, 0.02),
}

#: the noise-free value at MAX_STEP of OPTIMUM_POINT, the minimum over the
#: space (find_optimum() recomputes it; the tests check the two agree)
OPTIMUM = 0.21005
OPTIMUM_POINT = {"learning_rate": 0.00104858, "dropout": 0.39981, "units": 96,
                 "optimizer": "adam", "batch_size": 16}


def _u(lr: float) -> float:
    """The learning rate's position in its log range, 0 .. 1."""
    lo, hi = math.log10(LR[0]), math.log10(LR[1])
    return (math.log10(max(float(lr), 1e-12)) - lo) / (hi - lo)


def shape(point: Mapping[str, Any]) -> Dict[str, float]:
    """The curve's parameters for a point: final, tau, overfit, sd."""
    opt = str(point["optimizer"])
    u_star, speed, floor = _OPT[opt]
    bs = float(point["batch_size"])
    d = float(point["dropout"])
    units = float(point["units"])
    z = _u(point["learning_rate"]) - u_star - 0.06 * math.log2(bs / 32.0)
    tau = 3.0 * 10.0 ** (-0.8 * z) * speed * (bs / 32.0) ** 0.5 * (1.0 + 0.5 * d)
    tau = min(max(tau, 0.6), 300.0)
    final = (0.22 + floor
             + 2.5 * max(z, 0.0) ** 2 + 0.4 * min(z, 0.0) ** 2
             + 0.6 * (d - 0.4) ** 2
             + 0.012 * math.log2(units / 96.0) ** 2
             - 0.01 * math.log2(32.0 / bs))
    overfit = 0.45 * max(0.0, 0.3 - d) / 0.3 * (units / UNITS[1]) ** 0.7
    sd = NOISE_SD * (1.0 + 3.0 * max(z, 0.0))
    return {"final": final, "tau": tau, "overfit": overfit, "sd": sd}


def _noise(point: Mapping[str, Any], step: int, noise_seed: int) -> float:
    key = json.dumps([sorted((k, str(v)) for k, v in point.items()), int(step),
                      int(noise_seed)])
    seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
    return random.Random(seed).gauss(0.0, 1.0)


def clean_value(point: Mapping[str, Any], step: float) -> float:
    """The noise-free curve at ``step``."""
    s = shape(point)
    tau = s["tau"]
    value = s["final"] + GAP * math.exp(-step / tau)
    value += s["overfit"] * (1.0 - math.exp(-max(0.0, step - 2.0 * tau) / 8.0))
    return value


def curve_value(point: Mapping[str, Any], step: int, noise_seed: int = 0) -> float:
    """The value the model reports at ``step`` (1 .. MAX_STEP), noise included."""
    if not 1 <= int(step) <= MAX_STEP:
        raise ValueError(f"step must be in 1..{MAX_STEP}, got {step}")
    return clean_value(point, step) + shape(point)["sd"] * _noise(point, int(step), noise_seed)


def curve(point: Mapping[str, Any], noise_seed: int = 0,
          max_step: int = MAX_STEP) -> List[float]:
    """Values at steps 1 .. max_step."""
    return [curve_value(point, t, noise_seed) for t in range(1, max_step + 1)]


def true_final(point: Mapping[str, Any]) -> float:
    """The noise-free value at MAX_STEP (what regret is measured on)."""
    return clean_value(point, MAX_STEP)


def random_point(rng: random.Random) -> Dict[str, Any]:
    """A point drawn uniformly from the space (log-uniform learning rate)."""
    lo, hi = math.log10(LR[0]), math.log10(LR[1])
    return {"learning_rate": 10.0 ** rng.uniform(lo, hi), "dropout": rng.uniform(*DROPOUT),
            "units": rng.randint(*UNITS), "optimizer": rng.choice(OPTIMIZERS),
            "batch_size": rng.choice(BATCH_SIZES)}


def rank_check(n: int = 2000, seed: int = 0, steps: Sequence[int] = (1, 3, 5, 9),
               top: float = 0.05) -> Dict[int, float]:
    """How often a point among the best ``top`` at MAX_STEP is in the best third at
    each of ``steps`` (``n`` random points, noise included): how much the early
    values tell, step by step."""
    rng = random.Random(seed)
    return best_kept([curve(random_point(rng), seed) for _ in range(n)], steps, top)


def best_kept(curves: Sequence[Sequence[float]], steps: Sequence[int],
              top: float) -> Dict[int, float]:
    """For each of ``steps``: the share of the best ``top`` of ``curves`` by
    their last value that are in the best third at that step (what a cut to
    the best third there, as ASHA's with eta 3, would keep of them)."""
    n = len(curves)
    best = sorted(range(n), key=lambda i: curves[i][-1])[:max(1, int(top * n))]
    out = {}
    for step in steps:
        cut = sorted(c[step - 1] for c in curves)[n // 3]
        out[step] = sum(curves[i][step - 1] <= cut for i in best) / len(best)
    return out


def find_optimum() -> Dict[str, Any]:
    """The minimum of :func:`true_final` over the space: a numpy grid, then refined.

    Returns ``{"value": ..., "point": {...}}``.  About a second."""
    import numpy as np
    from scipy.optimize import minimize

    best: Dict[str, Any] = {"value": math.inf, "point": None}
    lrs = np.logspace(math.log10(LR[0]), math.log10(LR[1]), 61)
    drops = np.linspace(DROPOUT[0], DROPOUT[1], 33)
    for opt in OPTIMIZERS:
        for bs in BATCH_SIZES:
            for units in range(UNITS[0], UNITS[1] + 1, 8):
                for lr in lrs:
                    for d in drops:
                        p = {"learning_rate": float(lr), "dropout": float(d),
                             "units": units, "optimizer": opt, "batch_size": bs}
                        v = true_final(p)
                        if v < best["value"]:
                            best = {"value": v, "point": p}
    p0 = dict(best["point"])
    for units in range(max(UNITS[0], p0["units"] - 8), min(UNITS[1], p0["units"] + 8) + 1):
        def f(x, units=units):
            lr = 10.0 ** float(np.clip(x[0], math.log10(LR[0]), math.log10(LR[1])))
            d = float(np.clip(x[1], *DROPOUT))
            return true_final({**p0, "learning_rate": lr, "dropout": d, "units": units})
        res = minimize(f, [math.log10(p0["learning_rate"]), p0["dropout"]],
                       method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-9})
        if res.fun < best["value"]:
            best = {"value": float(res.fun),
                    "point": {**p0, "units": units,
                              "learning_rate": 10.0 ** float(res.x[0]),
                              "dropout": float(res.x[1])}}
    return best


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="synthetic learning-curve model")
    parser.add_argument("--sleep", type=float, default=0.02, help="seconds per step")
    parser.add_argument("--noise-seed", type=int, default=0)
    parser.add_argument("--max-step", type=int, default=MAX_STEP)
    parser.add_argument("params", help="params.json (a path, or JSON text)")
    args = parser.parse_args(argv)
    text = args.params
    if not text.lstrip().startswith("{"):
        with open(text) as fh:
            text = fh.read()
    point = json.loads(text)
    value = math.nan
    for step in range(1, args.max_step + 1):
        if args.sleep > 0:
            time.sleep(args.sleep)
        value = curve_value(point, step, args.noise_seed)
        print(f"IMPROVE_INTERMEDIATE {step} {value:.6f}", flush=True)
    print(f"IMPROVE_RESULT {value:.6f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
