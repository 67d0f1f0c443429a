"""Tables, number formats and statistics that the benchmarks share.

Every runner prints markdown: :func:`md_row` and :func:`md_rule` write a table's
lines, the ``fmt_*`` functions its cells, :func:`machine_line` the closing line
that says how loaded the machine was.  :func:`median_gap_interval` is the
paired bootstrap over seeds that tells a gap between two methods' medians from
the seeds' spread.
"""

from __future__ import annotations

import math
import os
import random
import statistics
import time
from typing import Iterable, Mapping, Optional, Sequence, Tuple


def md_row(cells: Iterable[object]) -> str:
    """One markdown table row: ``| a | b |``."""
    return "| " + " | ".join(str(c) for c in cells) + " |"


def md_rule(n: int, left: int = 1) -> str:
    """The rule under a header of ``n`` columns: the first ``left`` left-aligned
    (labels), the others right-aligned (numbers)."""
    return "|" + "|".join(["---"] * left + ["---:"] * (n - left)) + "|"


def fmt_value(x: float) -> str:
    """A regret or objective: 4 decimals, scientific notation when very large or small."""
    if x == 0:
        return "0"
    if abs(x) >= 100 or abs(x) < 1e-3:
        return f"{x:.2e}"
    return f"{x:.4f}"


def fmt_fixed(x: float, digits: int = 4, inf: str = "inf") -> str:
    """``digits`` decimals; ``-`` for NaN (nothing to show), ``inf`` for infinities."""
    if isinstance(x, float) and math.isnan(x):
        return "-"
    if isinstance(x, float) and math.isinf(x):
        return inf
    return f"{x:.{digits}f}"


def fmt_seconds(x: float) -> str:
    """A duration: milliseconds below a second, else seconds."""
    return f"{1000 * x:.1f} ms" if x < 1 else f"{x:.2f} s"


def machine_line(t0: float, jobs: Optional[int] = None) -> str:
    """The closing line of a run: its wall time since ``t0`` (time.time()) and the load."""
    return (f"Total wall time {time.time() - t0:.0f} s; "
            + (f"jobs={jobs}; " if jobs is not None else "")
            + f"load average at the end {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


def nan_median(values: Sequence[float]) -> float:
    """The median of the values that are not NaN (NaN when there are none)."""
    finite = [v for v in values if not math.isnan(v)]
    return statistics.median(finite) if finite else math.nan


def ratio_of(a: float, b: float) -> float:
    """a / b for regrets, 0 when both are 0 and inf when only b is."""
    if b > 0:
        return a / b
    return 0.0 if a == 0 else math.inf


#: resamples and level of median_gap_interval, and the seeds it needs
GAP_RESAMPLES = 2000
GAP_LEVEL = 0.90
GAP_MIN_SEEDS = 5


def median_gap_interval(ours: Mapping[int, float], theirs: Mapping[int, float],
                        resamples: int = GAP_RESAMPLES, level: float = GAP_LEVEL,
                        seed: int = 0) -> Tuple[float, float]:
    """A paired bootstrap interval over seeds for median(ours) - median(theirs).

    Each resample draws as many seeds as there are, with replacement, and takes
    both methods' values of the same seeds (a seed is one search: its own random
    initial design and its own order of results, which is where the two medians'
    noise comes from). Returns the (1 - level) / 2 and (1 + level) / 2 quantiles
    of the resampled differences (nearest rank); NaN, NaN with fewer than
    GAP_MIN_SEEDS common seeds (too few to resample)."""
    seeds = sorted(set(ours) & set(theirs))
    if len(seeds) < GAP_MIN_SEEDS:
        return math.nan, math.nan
    rng = random.Random(seed)
    gaps = []
    for _ in range(resamples):
        pick = rng.choices(seeds, k=len(seeds))
        gaps.append(nan_median([ours[s] for s in pick]) - nan_median([theirs[s] for s in pick]))
    gaps.sort(key=lambda g: (math.isnan(g), g))

    def quantile(q: float) -> float:
        return gaps[min(len(gaps) - 1, max(0, math.ceil(q * len(gaps)) - 1))]

    return quantile((1 - level) / 2), quantile((1 + level) / 2)


def gap_words(lo: float, hi: float) -> str:
    """What an interval of median_gap_interval says, in words."""
    if math.isnan(lo) or math.isnan(hi):
        return f"too few seeds for it: fewer than {GAP_MIN_SEEDS}"
    if hi < 0:
        return "ahead beyond the seeds' spread"
    if lo > 0:
        return "behind beyond the seeds' spread"
    return "within the seeds' spread"
