"""i-Epoch, the baseline of Egele et al. (2023, DeepHyper): i epochs for every proposal.

Method ``iepochI`` (or ``iepochI-topK``) of ``asbench.runners.early_stopping``:

- phase 1: the built program searches with ``--stopper none`` and a model cut
  at step I (``lc_model --max-step I``, ``tc1_replay --max-step I``, TC1 with
  ``epochs = I``), so its optimizer hears the value at step I as the
  objective; it runs the same number of proposals as the stoppers (M);
- phase 2: the K best phase-1 proposals by that value (K = 3 unless
  ``-topK`` says otherwise; ties in finishing order; failed ones never) are
  trained to the last step here, directly (no second search, no
  ``--enqueue``), from scratch: each costs the full ``max_step`` steps, as
  for a model without checkpoints; continuing from step I would save K x I.

Its evaluations are phase 1's (I steps each, not fully trained), then phase
2's in order (fully trained, issued after phase 1), so the accounting of
``asbench.stopping.evaluations`` counts its steps (M x I + K x max_step) and
its best fully-trained value (the best of the K finals) unchanged.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from asbench.stopping.evaluations import OK, Evaluation

METHOD = re.compile(r"iepoch(\d+)(?:-top(\d+))?")
#: proposals fully trained after phase 1, unless the method says -topK
DEFAULT_TOP = 3
#: the methods the runner lists
METHODS = ("iepoch1", "iepoch3", "iepoch9")


def parse(method: str) -> Optional[Tuple[int, int]]:
    """(i, k) of an i-Epoch method name; None for another method.  ValueError for
    an i-Epoch name whose i or k is below 1."""
    m = METHOD.fullmatch(method)
    if not m:
        return None
    i, k = int(m.group(1)), int(m.group(2) or DEFAULT_TOP)
    if i < 1 or k < 1:
        raise ValueError(f"{method}: i-Epoch needs i >= 1 and top >= 1")
    return i, k


def top_proposals(phase1: List[Evaluation], k: int) -> List[Evaluation]:
    """The k phase-1 evaluations with the lowest finite objective that finished ok
    (ties: the earlier finished first)."""
    ok = [e for e in phase1 if e.status == OK and math.isfinite(e.objective)]
    return sorted(ok, key=lambda e: e.objective)[:k]


def finish(phase1: List[Evaluation], k: int, max_step: int,
           final: Callable[[Mapping[str, Any]], float]) -> List[Evaluation]:
    """Phase 1's evaluations followed by the full trainings of its top k.

    ``final(point)`` trains a point to ``max_step`` and returns its objective (a
    non-finite one marks the training failed)."""
    issued = max((e.issue for e in phase1), default=-1) + 1
    out = list(phase1)
    for j, e in enumerate(top_proposals(phase1, k)):
        value = float(final(e.point))
        status = OK if math.isfinite(value) else "failed"
        out.append(Evaluation(f"full-{e.job_id}", status, value if status == OK else math.nan,
                              max_step, issued + j, dict(e.point)))
    return out


def continuation_saving(evaluations: List[Evaluation], i: int) -> int:
    """Steps phase 2 would save by continuing its trainings from step i."""
    return i * sum(e.job_id.startswith("full-") for e in evaluations)


class Phase1Cache:
    """Phase 1 of a seed and an i, run once and shared by iepochI-topK for every K."""

    def __init__(self) -> None:
        self._runs: Dict[Tuple[int, int], List[Evaluation]] = {}

    def get(self, i: int, seed: int, run: Callable[[], List[Evaluation]]) -> List[Evaluation]:
        if (i, seed) not in self._runs:
            self._runs[(i, seed)] = run()
        return self._runs[(i, seed)]
