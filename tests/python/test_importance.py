"""async_search.importance: forest-based variance importance (issue 28)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from async_search import importance


def by_name(result) -> dict:
    return {imp.name: imp for imp in result}


def test_one_d_quadratic_with_ten_rows_gets_all_the_importance() -> None:
    x = np.random.default_rng(0).uniform(0, 1, 10)
    (only,) = importance.importance_of({"x": x}, (x - 0.3) ** 2, set())
    assert only.name == "x" and only.importance == pytest.approx(1.0)
    assert only.total > 0.8 and only.n == 10


def test_an_irrelevant_parameter_gets_little() -> None:
    rng = np.random.default_rng(1)
    x, noise = rng.uniform(0, 1, 30), rng.uniform(0, 1, 30)
    result = importance.importance_of({"noise": noise, "x": x}, (x - 0.3) ** 2, set())
    assert [imp.name for imp in result] == ["x", "noise"]  # most important first
    assert result[0].importance > 0.85 and result[1].importance < 0.15
    assert sum(imp.importance for imp in result) == pytest.approx(1.0)


def test_an_interaction_is_seen_although_neither_parameter_acts_alone() -> None:
    rng = np.random.default_rng(2)
    a, b, noise = (rng.uniform(-1, 1, 80) for _ in range(3))
    got = by_name(importance.importance_of({"a": a, "b": b, "noise": noise}, a * b, set()))
    for name in "ab":  # each matters mostly through the other: total well above main
        assert got[name].total > 0.5 and got[name].total > got[name].main + 0.3
    assert got["noise"].importance < 0.15


def test_categorical_parameters_and_missing_values() -> None:
    rng = np.random.default_rng(3)
    act = rng.choice(["relu", "elu", "tanh"], 60).astype(object)
    act[:5] = None
    lr = rng.uniform(0, 1, 60)
    y = np.where(act == "elu", 1.0, 0.0) + 0.01 * lr
    got = by_name(importance.importance_of({"act": act, "lr": lr}, y, {"act"}))
    assert got["act"].kind == "categorical" and got["lr"].kind == "numeric"
    assert got["act"].importance > 0.8


def test_deterministic_for_a_seed() -> None:
    rng = np.random.default_rng(4)
    cols = {"x": rng.uniform(size=25), "z": rng.uniform(size=25)}
    y = cols["x"] ** 2 + 0.3 * cols["z"]
    assert importance.importance_of(cols, y, set(), seed=7) == \
        importance.importance_of(cols, y, set(), seed=7)


def test_few_rows_and_a_constant_objective() -> None:
    two = importance.importance_of({"x": np.array([0.1, 0.2])}, np.array([1.0, 2.0]), set())
    assert math.isnan(two[0].importance)
    flat = importance.importance_of({"x": np.arange(6.0), "z": np.arange(6.0)}, np.ones(6), set())
    assert [imp.importance for imp in flat] == [0.0, 0.0]


def test_failed_rows_are_left_out() -> None:
    x = np.linspace(0, 1, 12)
    frame = pd.DataFrame({"p:x": x, "p:z": x[::-1],
                          "objective": np.where(x < 0.5, x, np.nan),
                          "status": np.where(x < 0.5, "ok", "failed")})
    result = importance.importances(frame, ("x", "z"), set())
    assert all(imp.n == 6 for imp in result)
