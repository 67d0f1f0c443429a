"""Several objectives on the Python side: pareto_rows, the hypervolume,
load_results' columns, the problem's declaration, the optimizers (ParEGO's
spread, the refusals, restart replay of every objective)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from async_search import load_problem, load_results, make_optimizer, pareto_rows
from async_search.engine import Engine
from async_search.expfiles import header_line, hypervolume, pareto_mask, reference_point
from async_search.optimizers import OptimizerError
from async_search.problem import ProblemError


def frame(rows, names=("a", "b")):
    f = pd.DataFrame(rows, columns=["job_id", "status", *names])
    f.attrs["objectives"] = tuple(names)
    return f


def test_pareto_rows_keep_the_non_dominated_ok_rows_only():
    f = frame([["1", "ok", 1.0, 5.0], ["2", "ok", 2.0, 2.0], ["3", "ok", 3.0, 3.0],
               ["4", "ok", 5.0, 1.0], ["5", "failed", 0.0, 0.0], ["6", "ok", np.nan, 0.5],
               ["7", "ok", 2.0, 2.0], ["8", "ok", 1.0, 6.0]])
    # 3 is dominated by 2; 8 by 1 (equal a, worse b); failed and NaN rows never count
    assert list(pareto_rows(f)["job_id"]) == ["1", "2", "4", "7"]  # ties: both kept


def test_pareto_mask_three_objectives_and_nan():
    Y = np.array([[1, 1, 1], [0, 2, 2], [1, 1, 2], [np.nan, 0, 0]])
    assert list(pareto_mask(Y)) == [True, True, False, False]


def test_pareto_rows_without_objectives_is_an_error():
    with pytest.raises(ValueError, match="several objectives"):
        pareto_rows(pd.DataFrame({"job_id": ["1"], "status": ["ok"], "objective": [1.0]}))


def test_hypervolume_exact_values():
    ref = np.array([4.0, 4.0])
    assert hypervolume([[1, 3], [2, 2], [3, 1]], ref) == pytest.approx(3 + 2 + 1)
    assert hypervolume([[1, 3], [2, 2], [3, 1], [3, 3]], ref) == pytest.approx(6)  # dominated
    assert hypervolume([[5, 1]], ref) == 0.0  # beyond the reference
    assert hypervolume([[0, 0]], ref, ideal=[0, 0]) == pytest.approx(1.0)
    assert hypervolume([[1, 1, 1]], np.array([2.0, 3.0, 4.0])) == pytest.approx(6.0)
    assert list(reference_point(np.array([[0.0, 1.0], [10.0, 3.0]]))) == pytest.approx([11, 3.2])


def test_load_results_names_the_objective_columns(tmp_path):
    lines = [header_line(["x"], ["val_loss", "cost"]),
             "1_1_0,0.5,0.3,ok,1,0,0,1,1,,0.3,12.5",
             "1_1_1,0.7,nan,failed,1,0,0,1,1,,nan,nan"]
    (tmp_path / "results.csv").write_text("\n".join(lines) + "\n")
    f = load_results(tmp_path)
    assert f.attrs["objectives"] == ("val_loss", "cost")
    assert f["val_loss"].iloc[0] == 0.3 and f["cost"].iloc[0] == 12.5
    assert np.isnan(f["cost"].iloc[1])
    assert list(pareto_rows(f)["job_id"]) == ["1_1_0"]


def write_problem(tmp_path, objectives):
    path = tmp_path / "problem.py"
    path.write_text("class Problem:\n    def __init__(self):\n"
                    "        self.space = {'x': (0.0, 1.0), 'y': (0.0, 1.0), 'c': ['s', 'l']}\n"
                    f"        self.objectives = {objectives!r}\n")
    return str(path)


def test_the_problem_declares_objectives(tmp_path):
    assert load_problem(write_problem(tmp_path, ["f1", "f2"])).objectives == ("f1", "f2")
    assert load_problem(write_problem(tmp_path, ["f1"])).objectives == ()
    for bad in (["f1", "f1"], ["x", "f2"], ["f 1", "f2"], "f1", ["a"] * 9, ["status", "b"]):
        with pytest.raises(ProblemError, match="objective"):
            load_problem(write_problem(tmp_path, bad))


@pytest.mark.parametrize("name", ["original", "optuna"])
def test_optimizers_of_one_objective_refuse(tmp_path, name):
    problem = load_problem(write_problem(tmp_path, ["f1", "f2"]))
    with pytest.raises(OptimizerError, match="handles one objective.*f1, f2"):
        make_optimizer(problem, name)


def zdt1(p):
    g = 1 + 9 * p["y"]
    return (p["x"], g * (1 - np.sqrt(p["x"] / g)))


def test_parego_spreads_an_asynchronous_batch_along_the_front(tmp_path):
    problem = load_problem(write_problem(tmp_path, ["f1", "f2"]))
    opt = make_optimizer(problem, "default", seed=3, init_size=8)
    first = opt.ask(8)
    opt.tell(first, [zdt1(p) for p in first])
    for _ in range(5):  # 4 pending points at every turn
        batch = opt.ask(4)
        opt.tell(batch, [zdt1(p) for p in batch])
    batch = opt.ask(8)
    xs = sorted(p["x"] for p in batch)
    # fresh weights per point: one ask covers much of the front's f1 range
    assert xs[-1] - xs[0] > 0.3, xs
    assert len({round(x, 6) for x in xs}) == 8
    with pytest.raises(OptimizerError, match="sequence of 2 numbers"):
        opt.tell(batch[:1], [0.5])


def test_a_restart_tells_every_objective(tmp_path):
    problem_path = write_problem(tmp_path, ["f1", "f2"])
    exp = tmp_path / "exp"
    exp.mkdir()
    rows = [header_line(["x", "y", "c"], ["f1", "f2"]),
            "1_1_0,0.5,0.25,s,0.5,ok,1,0,0,1,1,,0.5,2.5",
            "1_1_1,0.1,0.75,l,nan,failed,1,0,0,1,1,,nan,nan"]
    (exp / "results.csv").write_text("\n".join(rows) + "\n")
    settings = {"problem": problem_path, "optimizer": "default", "seed": 0, "n_jobs": 1,
                "init_size": 4}
    engine = Engine(json.dumps(settings))
    assert engine.objectives() == "f1 f2"
    engine.replay(str(exp))
    Y = engine._optimizer.Y
    assert Y.shape == (2, 2) and list(Y[0]) == [0.5, 2.5] and np.isnan(Y[1]).all()


def test_the_runner_prints_the_labelled_line():
    from async_search.runner import ObjectiveError, objectives_line

    history = {"val_loss": [0.5, 0.3], "val_acc": [0.8, 0.9], "size": [7]}
    assert objectives_line(history, ["val_loss", "train_time", "size"], 2.5) == \
        "val_loss=0.3 train_time=2.5 size=7.0"
    assert objectives_line(history, ["val_acc", "run_s"], 1.0) == "val_acc=-0.9 run_s=1.0"
    with pytest.raises(ObjectiveError, match="objective 'latency'"):
        objectives_line(history, ["val_loss", "latency"], 1.0)
