"""i-Epoch's phase 1 under ``build/async-search --simulate W``: a model's value at step I.

The binary loads this file by its path (``--simulate-objective
.../cut_objective.py:synthetic`` or ``:replay``) and calls the function on each
point it issues; the environment says what to compute: ``ASBENCH_CUT`` (the
step I), ``ASBENCH_NOISE_SEED`` (synthetic: lc_model's noise seed),
``ASBENCH_CURVES`` and ``ASBENCH_FLAT`` (replay: the curves CSV, and 1 for
``--flat``).  The same values as ``lc_model --max-step I`` and ``tc1_replay
--max-step I`` report last, without a model process per evaluation.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Dict, Mapping

# The binary's embedded Python is isolated (it ignores PYTHONPATH), so this
# file, loaded by path, puts bench/ on the path for the asbench imports below.
_BENCH = str(Path(__file__).resolve().parents[2])
if _BENCH not in sys.path:
    sys.path.insert(0, _BENCH)

from asbench.problems import lc_model  # noqa: E402
from asbench.runners import tc1_replay  # noqa: E402

_REPLAYS: Dict[str, Any] = {}


def _cut() -> int:
    return int(os.environ["ASBENCH_CUT"])


def synthetic(point: Mapping[str, Any]) -> float:
    """lc_model's value of the point at step ASBENCH_CUT."""
    return lc_model.curve_value(point, _cut(), int(os.environ.get("ASBENCH_NOISE_SEED", "0")))


def replay(point: Mapping[str, Any]) -> float:
    """The replayed TC1 curve's value of the point at step ASBENCH_CUT."""
    key = os.environ.get("ASBENCH_CURVES", str(tc1_replay.CURVES)) + \
        os.environ.get("ASBENCH_FLAT", "")
    if key not in _REPLAYS:
        from async_search import load_problem
        problem = load_problem(str(tc1_replay.PROBLEM))
        _REPLAYS[key] = tc1_replay.Replay(
            tc1_replay.read_curves(Path(os.environ.get("ASBENCH_CURVES", tc1_replay.CURVES)),
                                   problem.space.names),
            problem, os.environ.get("ASBENCH_FLAT", "") == "1")
    return _REPLAYS[key].value_at(point, _cut())
