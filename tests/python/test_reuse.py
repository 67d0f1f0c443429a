"""Reusing what is known (async_search.reuse, the engine's Reuse, the optimizers' enqueue
and warm): the starting point, --enqueue files, warm starts, the Python API."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from async_search import expfiles, reuse
from async_search.engine import Engine
from async_search.optimizers import OptimizerError, make_optimizer
from async_search.optimizers import default as default_module
from async_search.optimizers.transfer import MISFIT_MIN, affine_map
from async_search.problem import load_problem
from async_search.space import Space

SPACE = '{"lr": (1e-4, 1e-1, "log-uniform"), "drop": (0.0, 0.5), "opt": ["adam", "sgd"]}'


def _problem(tmp_path: Path, start: str | None = "[1e-3, 0.1, 'adam']",
             space: str = SPACE, name: str = "problem_q.py") -> str:
    path = tmp_path / name
    lines = ["class Problem:", "    def __init__(self):", f"        self.space = {space}",
             "        self.params = self.space.keys()"]
    if start is not None:
        lines.append(f"        self.starting_point = {start}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _engine(problem: str, optimizer: str = "default", **extra) -> Engine:
    settings = {"problem": problem, "optimizer": optimizer, "seed": 1, "n_jobs": 1,
                "init_size": 0, **extra}
    return Engine(json.dumps(settings))


def _csv(path: Path, header: list, rows: list) -> str:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return str(path)


def _experiment(path: Path, names: list, rows: list) -> str:
    """An experiment directory whose results.csv holds rows (values..., objective, status)."""
    path.mkdir()
    out = []
    for i, (*values, objective, status) in enumerate(rows):
        out.append([f"1_1_{i}", *values, objective, status, 1, 0, 0, 0, 0, ""])
    _csv(path / expfiles.RESULTS, list(expfiles.header(names)), out)
    return str(path)


def _points(engine: Engine, n: int) -> list:
    return [json.loads(j) for j, _ in engine.ask(n)]


# -- the starting point -----------------------------------------------------------------


def test_a_complete_starting_point_is_the_first_point(tmp_path):
    engine = _engine(_problem(tmp_path))
    first = _points(engine, 3)
    assert first[0] == {"lr": 1e-3, "drop": 0.1, "opt": "adam"}
    assert first[0] not in first[1:]


def test_a_dict_starting_point_is_used_too(tmp_path):
    engine = _engine(_problem(tmp_path, "{'opt': 'sgd', 'drop': 0.2, 'lr': 0.01}"))
    assert _points(engine, 1)[0] == {"lr": 0.01, "drop": 0.2, "opt": "sgd"}


@pytest.mark.parametrize("start", ["[0.1, 16]", "[1e-3, 0.9, 'adam']", "{'lr': 0.01}"])
def test_a_partial_or_mismatched_starting_point_warns_once_and_is_ignored(tmp_path, start):
    path = _problem(tmp_path, start)
    engine = _engine(path)
    warnings = [w for w in engine.warnings().splitlines() if "starting_point" in w]
    assert len(warnings) == 1 and path in warnings[0] and "ignored" in warnings[0]
    first = _points(engine, 4)
    assert all(p["drop"] != 0.9 for p in first)  # the mismatched point is not evaluated
    assert load_problem(path).starting_point is not None  # kept as the file gave it


# -- --enqueue ---------------------------------------------------------------------------


def test_enqueued_points_come_first_in_file_order_then_new_points(tmp_path):
    enq = _csv(tmp_path / "e.csv", ["p:lr", "drop", "opt"],
               [[0.05, 0.25, "sgd"], [0.02, 0.3, "adam"], [0.05, 0.25, "sgd"]])
    engine = _engine(_problem(tmp_path), enqueue=enq)
    assert "repeated" in engine.warnings()
    got = _points(engine, 2) + _points(engine, 4)
    assert got[:3] == [{"lr": 1e-3, "drop": 0.1, "opt": "adam"},
                       {"lr": 0.05, "drop": 0.25, "opt": "sgd"},
                       {"lr": 0.02, "drop": 0.3, "opt": "adam"}]
    keys = [json.dumps(p, sort_keys=True) for p in got]
    assert len(set(keys)) == len(keys)  # the optimizer knew they were pending


def test_a_missing_column_takes_the_starting_point_and_the_run_says_so(tmp_path):
    enq = _csv(tmp_path / "e.csv", ["lr"], [[0.05]])
    engine = _engine(_problem(tmp_path), enqueue=enq)
    assert _points(engine, 2)[1] == {"lr": 0.05, "drop": 0.1, "opt": "adam"}
    notes = [w for w in engine.warnings().splitlines() if "missing" in w]
    assert len(notes) == 1 and "drop" in notes[0] and "starting point" in notes[0]


def test_without_a_starting_point_a_missing_column_takes_the_default(tmp_path):
    enq = _csv(tmp_path / "e.csv", ["opt"], [["sgd"]])
    engine = _engine(_problem(tmp_path, None), enqueue=enq)
    point = _points(engine, 1)[0]
    assert point == {"lr": pytest.approx(math.sqrt(1e-4 * 1e-1)), "drop": 0.25, "opt": "sgd"}
    assert "default" in engine.warnings()


@pytest.mark.parametrize("header,row,where", [
    (["lr", "drop"], [0.5, 0.1], "row 2, column lr"),
    (["lr", "drop"], [0.01, "x"], "row 2, column drop"),
    (["lr", "opt"], [0.01, "adagrad"], "row 2, column opt"),
    (["lr", "momentum"], [0.01, 0.9], "column 2 'momentum'"),
])
def test_bad_enqueue_values_name_the_row_and_column(tmp_path, header, row, where):
    enq = _csv(tmp_path / "e.csv", header, [[0.01, 0.2] if header[1] == "drop" else
                                            [0.01, "sgd"] if header[1] == "opt" else
                                            [0.01, 0.5], row])
    with pytest.raises(ValueError) as info:
        _engine(_problem(tmp_path), enqueue=enq)
    message = str(info.value)
    assert where in message and enq in message and "\n" not in message


def test_results_csv_rows_can_be_pasted_into_an_enqueue_file(tmp_path):
    exp = _experiment(tmp_path / "old", ["lr", "drop", "opt"], [[0.02, 0.3, "sgd", 1.0, "ok"]])
    engine = _engine(_problem(tmp_path, None), enqueue=str(Path(exp) / expfiles.RESULTS))
    assert _points(engine, 1)[0] == {"lr": 0.02, "drop": 0.3, "opt": "sgd"}


# -- --warm-start ------------------------------------------------------------------------


class Spy:
    """Records the optimizer's calls (wraps a real one)."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def __getattr__(self, name):
        target = getattr(self.inner, name)

        def call(*args, **kwargs):
            self.calls.append(name)
            return target(*args, **kwargs)
        return call


def test_warm_rows_are_told_before_the_first_ask_and_never_proposed_again(tmp_path):
    rows = [[lr, 0.1 * k, opt, (lr - 0.03) ** 2 + k, "ok"] for k, lr in enumerate(
        [0.001, 0.01, 0.03, 0.05]) for opt in ("adam", "sgd")]
    rows.append([0.02, 0.2, "adam", "nan", "failed"])
    exp = _experiment(tmp_path / "old", ["lr", "drop", "opt"], rows)
    engine = _engine(_problem(tmp_path, None), optimizer="random", warm_start=exp)
    opt = engine._optimizer
    assert len(opt.y) == 8 and not np.isnan(opt.y).any()  # ok rows only, told at once
    known = {opt.space.key(p) for p in opt.space.from_unit(opt.X)}
    for p in _points(engine, 40):
        assert opt.space.key(p) not in known


def test_warm_start_is_told_before_ask_in_that_order(tmp_path, monkeypatch):
    exp = _experiment(tmp_path / "old", ["lr", "drop", "opt"], [[0.02, 0.3, "sgd", 1.0, "ok"]])
    import async_search.engine as engine_module

    spies = []
    real = engine_module.make_optimizer

    def spying(*args, **kwargs):
        spies.append(Spy(real(*args, **kwargs)))
        return spies[-1]
    monkeypatch.setattr(engine_module, "make_optimizer", spying)
    engine = _engine(_problem(tmp_path), warm_start=exp)
    engine.ask(2)
    assert spies[0].calls[:3] == ["warm", "enqueue", "ask"]


def test_a_narrowed_range_leaves_rows_out_with_a_count(tmp_path):
    exp = _experiment(tmp_path / "old", ["lr", "drop", "opt"],
                      [[0.01, 0.1, "adam", 1.0, "ok"], [0.01, 0.45, "adam", 2.0, "ok"],
                       [0.02, 0.2, "rmsprop", 3.0, "ok"]])
    narrowed = '{"lr": (1e-4, 1e-1, "log-uniform"), "drop": (0.0, 0.3), "opt": ["adam", "sgd"]}'
    warm = reuse.read_warm([exp], load_problem(_problem(tmp_path, None, narrowed)), None)
    assert len(warm.points) == 1 and warm.sources[0]["outside_space"] == 2
    assert "2 left out" in reuse.summary(warm)[0]


def test_a_removed_dimension_is_dropped_and_an_added_one_filled(tmp_path):
    exp = _experiment(tmp_path / "old", ["lr", "drop", "momentum"],
                      [[0.01, 0.1, 0.9, 1.0, "ok"], [0.02, 0.2, 0.5, 2.0, "ok"]])
    warm = reuse.read_warm([exp], load_problem(_problem(tmp_path)),
                           {"lr": 1e-3, "drop": 0.1, "opt": "sgd"})
    assert warm.points == [{"lr": 0.01, "drop": 0.1, "opt": "sgd"},
                           {"lr": 0.02, "drop": 0.2, "opt": "sgd"}]
    source = warm.sources[0]
    assert source["removed"] == ["momentum"] and source["added"] == ["opt"]


def test_rows_that_become_one_point_are_averaged(tmp_path):
    exp = _experiment(tmp_path / "old", ["lr", "drop", "momentum"],
                      [[0.01, 0.1, 0.9, 1.0, "ok"], [0.01, 0.1, 0.5, 3.0, "ok"]])
    warm = reuse.read_warm([exp], load_problem(_problem(tmp_path)), None)
    assert warm.values == [2.0]


@pytest.mark.parametrize("rows,why", [
    ([[0.01, 0.1, "adam", "nan", "failed"]], "no usable rows"),
    ([[0.5, 0.1, "adam", 1.0, "ok"]], "no usable rows"),
    ([[0.01, 0.1, "adam", "nan", "ok"]], "incompatible objective"),
])
def test_an_unusable_experiment_is_a_one_line_error(tmp_path, rows, why):
    exp = _experiment(tmp_path / "old", ["lr", "drop", "opt"], rows)
    with pytest.raises(ValueError) as info:
        _engine(_problem(tmp_path), warm_start=exp)
    assert why in str(info.value) and exp in str(info.value) and "\n" not in str(info.value)


def test_a_missing_experiment_is_a_one_line_error(tmp_path):
    with pytest.raises(ValueError, match="no such experiment directory"):
        _engine(_problem(tmp_path), warm_start=str(tmp_path / "nope"))


def test_record_writes_sources_and_counts_into_config_json(tmp_path):
    exp = _experiment(tmp_path / "old", ["lr", "drop", "opt"],
                      [[0.01, 0.1, "adam", 1.0, "ok"], [0.01, 0.45, "adam", 2.0, "ok"]])
    run = tmp_path / "run"
    run.mkdir()
    (run / expfiles.CONFIG).write_text(json.dumps({"exp_id": "run"}))
    engine = _engine(_problem(tmp_path), warm_start=exp)
    lines = engine.record(str(run))
    config = json.loads((run / expfiles.CONFIG).read_text())
    assert config["exp_id"] == "run"
    assert config["reuse"]["warm_start"]["sources"][0]["source"] == exp
    assert config["reuse"]["warm_start"]["rows"] == 2
    assert "warm start from" in lines


# -- restart -----------------------------------------------------------------------------


def _restartable(tmp_path: Path, engine: Engine, finished: int, issued: int) -> Path:
    """An experiment of the engine's first `issued` points, `finished` of them with a row."""
    run = tmp_path / "run"
    run.mkdir()
    points = engine.ask(issued)
    (run / expfiles.POINTS).write_text("".join(f"1_1_{i}\t{j}\n"
                                               for i, (j, _) in enumerate(points)))
    rows = [[f"1_1_{i}", *c.split(","), 1.0 + i, "ok", 1, 0, 0, 0, 0, ""]
            for i, (_, c) in enumerate(points[:finished])]
    _csv(run / expfiles.RESULTS, list(expfiles.header(["lr", "drop", "opt"])), rows)
    return run


def test_a_restart_issues_no_enqueued_point_twice_and_skips_none(tmp_path):
    enq = _csv(tmp_path / "e.csv", ["lr", "drop", "opt"],
               [[0.01 * k, 0.2, "sgd"] for k in range(1, 7)])
    problem = _problem(tmp_path)
    first = _engine(problem, enqueue=enq)
    run = _restartable(tmp_path, first, finished=2, issued=4)
    second = _engine(problem, enqueue=enq)
    finished, inflight, *_ = second.replay(str(run))
    assert len(finished) == 2 and len(inflight) == 2
    later = _points(second, 4)
    assert later[:3] == [{"lr": 0.01 * k, "drop": 0.2, "opt": "sgd"} for k in (4, 5, 6)]
    issued = [json.loads(j) for _, j, *_ in finished] + [json.loads(j) for _, j, *_ in inflight]
    assert not any(p in issued for p in later)


def test_a_restart_without_the_flags_takes_them_from_config_json(tmp_path):
    exp = _experiment(tmp_path / "old", ["lr", "drop", "opt"],
                      [[0.01, 0.1, "adam", 1.0, "ok"], [0.03, 0.3, "sgd", 2.0, "ok"]])
    enq = _csv(tmp_path / "e.csv", ["lr", "drop", "opt"],
               [[0.01 * k, 0.2, "sgd"] for k in range(1, 5)])
    problem = _problem(tmp_path, None)
    first = _engine(problem, optimizer="random", enqueue=enq, warm_start=exp)
    run = tmp_path / "run"
    run.mkdir()
    (run / expfiles.CONFIG).write_text("{}")
    first.record(str(run))
    points = first.ask(2)
    (run / expfiles.POINTS).write_text("".join(f"1_1_{i}\t{j}\n"
                                               for i, (j, _) in enumerate(points)))
    second = _engine(problem, optimizer="random")
    second.replay(str(run))
    assert len(second._optimizer.y) == 2  # the warm rows, told once
    assert _points(second, 2) == [{"lr": 0.01 * k, "drop": 0.2, "opt": "sgd"} for k in (3, 4)]


# -- the Python API ----------------------------------------------------------------------


def test_make_optimizer_warm_start_from_a_dataframe_and_a_path(tmp_path):
    problem = load_problem(_problem(tmp_path, None))
    exp = _experiment(tmp_path / "old", ["lr", "drop", "opt"],
                      [[0.01, 0.1, "adam", 1.0, "ok"], [0.03, 0.3, "sgd", 2.0, "ok"],
                       [0.02, 0.2, "sgd", "nan", "failed"]])
    by_path = make_optimizer(problem, "default", seed=0, warm_start=exp)
    frame = expfiles.load_results(exp)
    by_frame = make_optimizer(problem, "default", seed=0, warm_start=frame)
    plain = make_optimizer(problem, "default", seed=0, warm_start=pd.DataFrame(
        {"lr": [0.01, 0.03], "drop": [0.1, 0.3], "opt": ["adam", "sgd"],
         "objective": [1.0, 2.0]}))
    for opt in (by_path, by_frame, plain):
        assert sorted(opt.y.tolist()) == [1.0, 2.0]
    assert by_path.ask(3) == by_frame.ask(3)


def test_optimizer_enqueue_serves_points_first_and_checks_them(tmp_path):
    problem = load_problem(_problem(tmp_path, None))
    opt = make_optimizer(problem, "default", seed=0)
    mine = [{"lr": 0.01, "drop": 0.2, "opt": "sgd"}, {"lr": 0.05, "drop": 0.4, "opt": "adam"}]
    opt.enqueue(mine)
    assert opt.n_pending == 2
    got = opt.ask(1) + opt.ask(3)
    assert got[:2] == mine and all(p not in mine for p in got[2:])
    with pytest.raises(OptimizerError, match="point 1"):
        opt.enqueue([{"lr": 0.5, "drop": 0.2, "opt": "sgd"}])


# -- the transfer mode -------------------------------------------------------------------


def test_affine_map_recovers_a_shift_and_a_scale():
    rng = np.random.default_rng(0)
    U_old = rng.random((60, 2))
    v_old = (U_old ** 2).sum(axis=1)
    U_new = rng.random((10, 2))
    a, b = affine_map(U_old, v_old, U_new, 3.0 + 2.0 * (U_new ** 2).sum(axis=1))
    assert a == pytest.approx(3.0, abs=0.3) and b == pytest.approx(2.0, abs=0.3)
    assert affine_map(U_old, v_old, U_new[:0], np.empty(0)) == (0.0, 1.0)


def test_transfer_mode_rescales_the_warm_rows_as_new_values_arrive(tmp_path):
    problem = load_problem(_problem(tmp_path, None, '{"x": (0.0, 1.0), "y": (0.0, 1.0)}'))
    grid = [{"x": x, "y": y} for x in np.linspace(0, 1, 6) for y in np.linspace(0, 1, 6)]
    old = [p["x"] ** 2 + p["y"] ** 2 for p in grid]
    frame = pd.DataFrame(grid).assign(objective=old)
    opt = make_optimizer(problem, "random", seed=0, warm_start=frame,
                         warm_start_mode="transfer")
    assert opt.y[:36].tolist() == pytest.approx(old)
    new = opt.ask(5)
    opt.tell(new, [10 + 5 * (p["x"] ** 2 + p["y"] ** 2) for p in new])
    rows, v = opt._warm
    assert 0 < len(rows) <= 36 and len(opt.y) == len(rows) + 5
    assert np.corrcoef(opt.y[rows], 10 + 5 * v)[0, 1] > 0.99
    assert opt.y[rows].mean() == pytest.approx(10 + 5 * v.mean(), rel=0.2)
    kept = opt.space.from_unit(opt.X[rows])
    for p in kept:  # the new rows superseded the earlier rows next to them
        assert min(math.dist((p["x"], p["y"]), (q["x"], q["y"])) for q in new) > 0.05 * 2 ** 0.5
    more = opt.ask(31)
    opt.tell(more, [10 + 5 * (p["x"] ** 2 + p["y"] ** 2) for p in more])
    assert opt._warm is None and len(opt.y) == 36  # retired: only the new rows are left
    known = {opt.space.key(p) for p in grid}
    assert not any(opt.space.key(p) in known for p in opt.ask(20))


def test_transfer_rows_leave_at_once_when_the_new_values_disagree(tmp_path):
    problem = load_problem(_problem(tmp_path, None, '{"x": (0.0, 1.0), "y": (0.0, 1.0)}'))
    grid = [{"x": x, "y": y} for x in np.linspace(0, 1, 6) for y in np.linspace(0, 1, 6)]
    frame = pd.DataFrame(grid).assign(objective=[p["x"] ** 2 + p["y"] ** 2 for p in grid])
    opt = make_optimizer(problem, "random", seed=0, warm_start=frame,
                         warm_start_mode="transfer")
    new = opt.ask(MISFIT_MIN)
    # the new problem's values fall where the earlier ones rise: the map cannot fit
    opt.tell(new, [10 - 5 * (p["x"] ** 2 + p["y"] ** 2) for p in new])
    assert opt._warm is None and len(opt.y) == MISFIT_MIN  # only the new rows are left
    assert opt.n_warm == 36 and opt.n_new == MISFIT_MIN
    known = {opt.space.key(p) for p in grid}
    assert not any(opt.space.key(p) in known for p in opt.ask(20))  # still never proposed


# -- the exploit phase after a warm start --------------------------------------------------


def _spy_uniform(opt, monkeypatch) -> list:
    """Counts the optimizer's draws of uniform points (the global half of its candidates)."""
    calls: list = []
    draw = Space.sample_unit

    def sample_unit(space, n, rng):
        if space is opt.space:
            calls.append(n)
        return draw(space, n, rng)

    monkeypatch.setattr(Space, "sample_unit", sample_unit)
    return calls


@pytest.mark.parametrize("mode", ["plain", "transfer"])
def test_after_a_warm_start_the_first_new_points_are_local_then_global_again(
        tmp_path, monkeypatch, mode):
    problem = load_problem(_problem(tmp_path, None, '{"x": (0.0, 1.0), "y": (0.0, 1.0)}'))
    rng = np.random.default_rng(0)
    grid = [{"x": float(a), "y": float(b)} for a, b in 0.05 + 0.1 * rng.random((10, 2))]

    def f(p):
        return (p["x"] - 0.1) ** 2 + (p["y"] - 0.1) ** 2

    frame = pd.DataFrame(grid).assign(objective=[f(p) for p in grid])
    opt = make_optimizer(problem, "default", seed=0, warm_start=frame, warm_start_mode=mode)
    calls = _spy_uniform(opt, monkeypatch)
    for _ in range(default_module.EXPLOIT_EVALS):
        p = opt.ask(1)[0]
        opt.tell([p], [f(p)])
    assert calls == [] and opt.n_warm == 10  # no uniform candidate: only near the best
    assert opt.n_new == default_module.EXPLOIT_EVALS
    opt.ask(1)
    assert calls  # then the search is as it always is
    # the same rows told as this run's own (a restart's replay): no exploit phase
    cold = make_optimizer(problem, "default", seed=0)
    cold.tell(grid, [f(p) for p in grid])
    calls = _spy_uniform(cold, monkeypatch)
    cold.ask(1)
    assert calls and cold.n_warm == 0 and cold.n_new == 11


def _spy_exploit_scale(opt, monkeypatch) -> list:
    """The largest perturbation sd of each ask's candidate pool (not its refinements),
    and whether the log warp fitted the values better then."""
    scales: list = []
    local = type(opt)._local

    def spy(self, centres, m, scale_hi=default_module.LOCAL_SCALES[1]):
        if m >= self.settings["n_candidates"]:
            scales.append((scale_hi, self._log_fits))
        return local(self, centres, m, scale_hi)

    monkeypatch.setattr(type(opt), "_local", spy)
    return scales


@pytest.mark.parametrize("heavy, mode", [(True, "plain"), (False, "plain"),
                                         (True, "transfer")])
def test_the_exploit_phase_shrinks_its_steps_on_heavy_tailed_values_until_one_improves(
        tmp_path, monkeypatch, heavy, mode):
    problem = load_problem(_problem(tmp_path, None, '{"x": (0.0, 1.0), "y": (0.0, 1.0)}'))
    grid = [{"x": float(a), "y": float(b)} for a, b in np.random.default_rng(0).random((20, 2))]

    def f(p):  # Rosenbrock-like tails: the log warp fits them better
        r2 = (p["x"] - 0.3) ** 2 + (p["y"] - 0.6) ** 2
        return math.exp(12 * r2) if heavy else r2

    frame = pd.DataFrame(grid).assign(objective=[f(p) for p in grid])
    opt = make_optimizer(problem, "default", seed=0, warm_start=frame, warm_start_mode=mode)
    scales = _spy_exploit_scale(opt, monkeypatch)
    worst = max(f(p) for p in grid)
    for _ in range(4):  # four new points, none better than the warm rows' best
        opt.tell(opt.ask(1), [worst])
    opt.tell(opt.ask(1), [-1.0])  # then a new best
    opt.ask(1)
    top = default_module.EXPLOIT_SCALE
    sizes = [scale for scale, _ in scales]
    assert any(log for _, log in scales) == heavy
    if heavy and mode == "plain":
        assert sizes == [top, top / 2, top / 4, top / 8, default_module.TRUST_MIN,
                         2 * default_module.TRUST_MIN]
    else:  # light tails, or a related problem (transfer): the steps keep their size
        assert sizes == [top] * 6


def test_a_refit_without_enough_rows_for_the_additive_kernel_uses_the_plain_one(tmp_path):
    problem = load_problem(_problem(tmp_path, None, '{"x": (0.0, 1.0), "y": (0.0, 1.0)}'))
    opt = make_optimizer(problem, "default", seed=0)
    opt._gp_additive = True  # chosen while the transfer mode's earlier rows were in
    opt._rows_left()  # they left: too few rows remain for the additive kernel's fit
    X = np.random.default_rng(0).random((4, 2))
    gp, _ = opt._fit_gp(opt.space.features(X), np.exp(10 * X[:, 0]))
    assert not opt._gp_additive and not gp.additive


# -- a user's optimizer without enqueue(points) -------------------------------------------

USER = "async_search.optimizers.example_user:CoordinateSearch"


def test_a_user_optimizer_without_enqueue_runs_with_a_starting_point_noted(tmp_path):
    engine = _engine(_problem(tmp_path), USER)
    assert "starting_point not evaluated first" in engine.warnings()
    assert len(_points(engine, 2)) == 2


def test_enqueue_with_a_user_optimizer_without_enqueue_is_refused_at_once(tmp_path):
    points = _csv(tmp_path / "e.csv", ["lr", "drop", "opt"], [[0.01, 0.2, "sgd"]])
    with pytest.raises(ValueError, match=r"--enqueue .*e\.csv: this optimizer has no enqueue"):
        _engine(_problem(tmp_path), USER, enqueue=points)


def test_a_warm_start_of_a_problem_with_several_objectives_is_refused(tmp_path):
    path = Path(_problem(tmp_path))
    path.write_text(path.read_text() + "        self.objectives = ['loss', 'cost']\n")
    old = _experiment(tmp_path / "old", ["lr", "drop", "opt"], [[0.01, 0.2, "sgd", 1.0, "ok"]])
    with pytest.raises(ValueError, match="--warm-start: .* declares several objectives"):
        _engine(str(path), warm_start=old)
