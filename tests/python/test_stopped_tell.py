"""What the optimizer models for an evaluation a stopper ended early (--stopper-tell).

The C manager tells the engine, per stopped evaluation, the stopper's estimate of its
final and what was seen: (last step, last value, full step). Under ``rank`` the
optimizer models stopped ones below every completed one, deeper first, then by value
(Optuna TPE's order for pruned trials); under ``estimate`` the estimate.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from async_search.engine import STOPPER_TELL, Engine
from async_search.optimizers._base import stopped_fill

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {"problem": str(ROOT / "problems" / "as_problem.py"), "optimizer": "default",
            "seed": 3, "n_jobs": 1, "init_size": 4, "stopper": "lce"}


def test_stopped_ones_rank_below_the_completed_by_depth_then_value():
    completed = np.array([1.0, 2.0, 3.0])
    seen = [(3, 9.0, 9), (1, 0.5, 9), (3, 8.0, 9), (3, 8.0, 9)]
    fill = stopped_fill(completed, seen)
    assert np.all(fill > 3.0) and np.all(fill < 3.0 + 2.0)   # above the worst, bounded
    assert fill[2] < fill[0] < fill[1]                         # deeper first, then lower
    assert fill[2] == fill[3]                                  # the same seen, the same value


def test_depth_is_a_share_of_the_full_training():
    # 4 of 8 steps is deeper than 5 of 27; with no full step known, the deepest seen
    fill = stopped_fill(np.array([0.0, 1.0]), [(4, 5.0, 8), (5, 1.0, 27)])
    assert fill[0] < fill[1]
    fill = stopped_fill(np.array([0.0, 1.0]), [(4, 5.0, 0), (5, 9.0, 0)])
    assert fill[1] < fill[0]


def _engine_with_results(tell: str) -> Engine:
    engine = Engine(json.dumps(dict(SETTINGS, stopper_tell=tell)))
    points = [text for text, _ in engine.ask(5)]
    # two completed (finals 0.2, 0.4); three stopped: the estimates given by C
    # disagree with the order of what was seen, on purpose
    engine.tell(points, np.array([0.2, 0.4, 0.30, 0.25, 0.35]),
                [None, None, (1, 2.0, 9), (3, 5.0, 9), (3, 1.5, 9)])
    return engine


def test_rank_tells_the_optimizer_the_seen_step_and_value():
    y = _engine_with_results("rank")._optimizer.y
    completed, stopped = y[:2], y[2:]
    assert list(completed) == [0.2, 0.4]
    assert np.all(stopped > completed.max())
    # step 3 before step 1; at step 3, 1.5 before 5.0
    assert stopped[2] < stopped[1] < stopped[0]


def test_rank_is_recomputed_as_completed_values_arrive():
    engine = _engine_with_results("rank")
    [(text, _)] = engine.ask(1)
    engine.tell([text], np.array([0.9]), [None])  # a worse completed one
    y = engine._optimizer.y
    assert np.all(y[2:5] > 0.9)


def test_estimate_tells_the_stoppers_estimate():
    y = _engine_with_results("estimate")._optimizer.y
    assert list(y) == [0.2, 0.4, 0.30, 0.25, 0.35]


def test_before_any_completed_the_estimate_stands():
    engine = Engine(json.dumps(dict(SETTINGS, stopper_tell="rank")))
    points = [text for text, _ in engine.ask(2)]
    engine.tell(points, np.array([0.7, 0.6]), [(1, 2.0, 9), (2, 1.0, 9)])
    assert list(engine._optimizer.y) == [0.7, 0.6]


def test_an_optimizer_without_it_gets_the_estimate():
    settings = dict(SETTINGS, optimizer="async_search.optimizers.example_user:CoordinateSearch",
                    stopper_tell="rank")
    engine = Engine(json.dumps(settings))
    points = [text for text, _ in engine.ask(2)]
    engine.tell(points, np.array([0.7, 0.6]), [None, (2, 1.0, 9)])  # no TypeError


def test_a_bad_choice_is_a_one_line_error():
    with pytest.raises(ValueError, match="stopper_tell 'last' is not one of rank, estimate"):
        Engine(json.dumps(dict(SETTINGS, stopper_tell="last")))
    assert STOPPER_TELL == ("rank", "estimate")


def test_the_manager_sends_its_choice():
    source = (ROOT / "csrc" / "experiment.c").read_text(encoding="utf-8")
    assert '\\"stopper_tell\\": ' in source
    assert "options_stopper_tell_name(o->stopper_tell)" in source
    options = (ROOT / "csrc" / "options.c").read_text(encoding="utf-8")
    assert '{"rank", OPTIONS_STOPPER_TELL_RANK}' in options
    assert '{"estimate", OPTIONS_STOPPER_TELL_ESTIMATE}' in options
