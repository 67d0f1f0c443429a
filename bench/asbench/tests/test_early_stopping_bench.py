"""asbench.problems.lc_model and the early-stopping bench: synthetic curves, accounting."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import random
from pathlib import Path

import pytest

from asbench import PROBLEMS, reporting
from asbench.problems import lc_model
from asbench.runners import early_stopping as es
from asbench.stopping import binary, evaluations, optuna_side, tables, tc1
from async_search import load_problem

FAST = {"learning_rate": 0.01, "dropout": 0.05, "units": 220, "optimizer": "rmsprop",
        "batch_size": 16}


def _random_points(n, seed=0):
    rng = random.Random(seed)
    return [lc_model.random_point(rng) for _ in range(n)]


# ------------------------------------------------------------- the synthetic curves

def test_curve_is_deterministic_per_point_step_and_noise_seed():
    p = lc_model.OPTIMUM_POINT
    assert lc_model.curve(p, 3) == lc_model.curve(dict(p), 3)
    assert lc_model.curve(p, 3) != lc_model.curve(p, 4)
    assert len(lc_model.curve(p)) == lc_model.MAX_STEP
    with pytest.raises(ValueError):
        lc_model.curve_value(p, 0)
    with pytest.raises(ValueError):
        lc_model.curve_value(p, lc_model.MAX_STEP + 1)


def test_curves_fall_from_the_start_towards_their_final_value():
    for p in _random_points(50):
        clean = [lc_model.clean_value(p, t) for t in range(0, lc_model.MAX_STEP + 1)]
        s = lc_model.shape(p)
        assert clean[0] == pytest.approx(s["final"] + lc_model.GAP)
        assert min(clean) < clean[0]
        assert s["tau"] > 0 and s["sd"] > 0 and s["overfit"] >= 0


def test_curves_cross_a_fast_learner_leads_early_and_ends_behind():
    best, fast = lc_model.OPTIMUM_POINT, FAST
    assert lc_model.clean_value(fast, 3) < lc_model.clean_value(best, 3)
    assert lc_model.clean_value(fast, lc_model.MAX_STEP) > lc_model.clean_value(
        best, lc_model.MAX_STEP) + 0.1
    # and across the space, the leaders at step 1 are not the leaders at the end
    points = _random_points(300, seed=1)
    final = sorted(range(300), key=lambda i: lc_model.true_final(points[i]))[:30]
    early = set(sorted(range(300), key=lambda i: lc_model.curve_value(points[i], 1))[:30])
    assert len(early & set(final)) < 20


def test_early_steps_tell_something_but_not_everything():
    frac = lc_model.rank_check(n=600, seed=0)
    assert 0.4 < frac[1] < 0.95 and 0.4 < frac[3] < 0.95  # informative, and wrong at times
    assert frac[9] >= 0.85


def test_known_optimum():
    assert lc_model.true_final(lc_model.OPTIMUM_POINT) == pytest.approx(lc_model.OPTIMUM,
                                                                        abs=1e-4)
    values = [lc_model.true_final(p) for p in _random_points(3000, seed=2)]
    assert min(values) > lc_model.OPTIMUM
    # neighbours of the optimum are not better
    p = lc_model.OPTIMUM_POINT
    for key, step in (("learning_rate", 1.05), ("dropout", 1.02)):
        for factor in (step, 1 / step):
            assert lc_model.true_final({**p, key: p[key] * factor}) >= lc_model.OPTIMUM - 1e-4
    for units in (p["units"] - 4, p["units"] + 4):
        assert lc_model.true_final({**p, "units": units}) >= lc_model.OPTIMUM - 1e-4
    for opt in ("rmsprop", "sgd"):
        assert lc_model.true_final({**p, "optimizer": opt}) > lc_model.OPTIMUM


def test_model_script_prints_the_curve(tmp_path):
    point = {"learning_rate": 0.003, "dropout": 0.3, "units": 64, "optimizer": "adam",
             "batch_size": 32}
    params = tmp_path / "params.json"
    params.write_text(json.dumps(point))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert lc_model.main(["--sleep", "0", "--noise-seed", "4", str(params)]) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == lc_model.MAX_STEP + 1
    for step, line in enumerate(lines[:-1], start=1):
        word, s, v = line.split()
        assert word == "IMPROVE_INTERMEDIATE" and int(s) == step
        assert float(v) == pytest.approx(lc_model.curve_value(point, step, 4), abs=1e-6)
    assert lines[-1].split()[0] == "IMPROVE_RESULT"
    assert float(lines[-1].split()[1]) == float(lines[-2].split()[2])


def test_problem_file_matches_the_model():
    problem = load_problem(str(PROBLEMS / "problem_lc.py"))
    dims = dict(zip(problem.space.names, problem.space.dims))
    assert tuple(dims["optimizer"].categories) == lc_model.OPTIMIZERS
    assert tuple(dims["batch_size"].categories) == lc_model.BATCH_SIZES
    assert (dims["learning_rate"].low, dims["learning_rate"].high) == lc_model.LR
    assert (dims["units"].low, dims["units"].high) == lc_model.UNITS


# ------------------------------------------------------------------- accounting

def _ev(job, status, objective, steps, issue=None):
    return evaluations.Evaluation(job, status, objective, steps,
                                  int(job) if issue is None else issue)


EVALS = [  # finishing order
    _ev("1", "stopped", 0.10, 3),        # lowest value, but stopped: not fully trained
    _ev("0", "ok", 0.50, 27),
    _ev("3", "failed", math.nan, 5),
    _ev("2", "ok", 0.40, 27),
    _ev("4", "ok", 0.30, 20),            # ok but short of the last step
    _ev("5", "timeout", math.nan, None),  # reported nothing
    _ev("6", "ok", 0.35, 27),
]


def test_steps_are_the_last_reported_step_summed():
    assert evaluations.steps_trained(EVALS[5]) == 0
    assert evaluations.steps_spent(EVALS) == 3 + 27 + 5 + 27 + 20 + 0 + 27
    assert evaluations.steps_spent([]) == 0


def test_best_fully_trained_ignores_stopped_failed_and_short_evaluations():
    assert [evaluations.fully_trained(e, 27) for e in EVALS] == [False, True, False, True,
                                                                 False, False, True]
    assert evaluations.best_fully_trained(EVALS, 27) == 0.35
    assert evaluations.best_evaluation(EVALS, 27).job_id == "6"
    assert evaluations.best_fully_trained(EVALS[:1], 27) == math.inf
    assert evaluations.best_evaluation(EVALS[:1], 27) is None
    assert evaluations.best_fully_trained(EVALS, 20) == 0.30  # with a shorter last step


def test_an_evaluation_stopped_at_its_last_step_was_fully_trained():
    late = [_ev("0", "ok", 0.5, 27), _ev("1", "stopped", 0.4, 27), _ev("2", "stopped", 0.3, 26)]
    assert [evaluations.fully_trained(e, 27) for e in late] == [True, True, False]
    assert evaluations.best_fully_trained(late, 27) == 0.4
    assert evaluations.stopped_at_end(late, 27) == 1 and evaluations.stopped_at_end(EVALS, 27) == 0


def test_first_issued_counts_points_in_issue_order():
    first = evaluations.first_issued(EVALS, 3)
    assert [e.job_id for e in first] == ["1", "0", "2"]   # finishing order kept
    assert evaluations.steps_spent(first) == 57
    assert evaluations.best_fully_trained(first, 27) == 0.40


def test_budget_trace_and_best_within():
    trace = evaluations.budget_trace(EVALS, 27)
    assert [t[0] for t in trace] == [3, 30, 35, 62, 82, 82, 109]
    assert trace[0][1] == math.inf and trace[1][1] == 0.5 and trace[3][1] == 0.4
    assert evaluations.best_within(trace, 29) == math.inf
    assert evaluations.best_within(trace, 30) == 0.5
    assert evaluations.best_within(trace, 100) == 0.4
    assert evaluations.best_within(trace, 109) == 0.35
    assert evaluations.best_within(trace, 10 ** 6) == 0.35


def _write_experiment(path: Path, with_steps: bool):
    path.mkdir()
    params = ["x"]
    issued = ["1_1_0", "1_1_1", "1_2_0"]
    (path / "points.log").write_text("".join(f"{j}\t{{\"x\": {i}}}\n"
                                             for i, j in enumerate(issued)) + "1_3_0\t{\"x\"")
    head = (["job_id"] + [f"p:{p}" for p in params]
            + ["objective", "status", "worker", "m:timestamp_submit", "m:timestamp_start",
               "m:timestamp_gather", "duration"])
    rows = [("1_1_1", "1", "0.7", "stopped", "3"), ("1_2_0", "2", "0.2", "ok", "27"),
            ("1_1_0", "0", "nan", "failed", "")]
    lines = [",".join(head + (["steps"] if with_steps else []))]
    for job, x, obj, status, steps in rows:
        lines.append(",".join([job, x, obj, status, "1", "0", "0", "1", "1"]
                              + ([steps] if with_steps else [])))
        run = path / "run" / job
        run.mkdir(parents=True)
        log = "".join(f"IMPROVE_INTERMEDIATE {t} 1.0\n" for t in range(1, int(steps or 0) + 1))
        (run / "model.log").write_text("start\n" + log + "IMPROVE_RESULT 1.0\n")
    (path / "results.csv").write_text("\n".join(lines) + "\n")
    (path / "manager.log").write_text(
        "2026-12-02 01:59:19.057 info    stopping 1_1_1 early at step 2: asha: 0.9 at rung 2\n"
        "2026-12-02 01:59:19.082 info    1_1_1 stopped early at step 3, last value 0.7\n")


@pytest.mark.parametrize("with_steps", [True, False])
def test_read_experiment(tmp_path, with_steps):
    exp = tmp_path / "exp"
    _write_experiment(exp, with_steps)
    evals = evaluations.read_experiment(exp)
    assert [e.job_id for e in evals] == ["1_1_1", "1_2_0", "1_1_0"]
    assert [e.issue for e in evals] == [1, 2, 0]
    assert [e.steps for e in evals] == [3, 27, None]
    assert [e.status for e in evals] == ["stopped", "ok", "failed"]
    assert evals[0].objective == 0.7 and math.isnan(evals[2].objective)
    assert evals[1].point == {"x": 2}
    assert evaluations.best_fully_trained(evals, 27) == 0.2
    assert [e.decided for e in evals] == [2, None, None]
    assert evaluations.overrun(evals) == 1.0
    assert evaluations.steps_to_decision(evals) == 2 + 27 + 0
    assert math.isnan(evaluations.overrun(evals[1:]))


def test_last_step_in_log(tmp_path):
    log = tmp_path / "model.log"
    log.write_text("IMPROVE_INTERMEDIATE 1 0.5\nnoise\nIMPROVE_INTERMEDIATE 2 0.4\n"
                   "IMPROVE_INTERMEDIATE x 0.3\nIMPROVE_RESULT 0.4\n")
    assert evaluations.last_step_in_log(log) == 2
    assert evaluations.last_step_in_log(tmp_path / "missing.log") is None


def test_stopper_flags():
    s = evaluations.Settings(max_step=27, min_steps=3, eta=3, warmup=5)
    assert binary.stopper_flags("asha", s) == ["--stopper", "asha", "--stopper-min-steps", "3",
                                               "--stopper-eta", "3", "--stopper-warmup", "5",
                                               "--stopper-max-step", "27"]
    flags = binary.stopper_flags("asha-min1", s)
    assert flags[:4] == ["--stopper", "asha", "--stopper-min-steps", "1"]
    assert binary.stopper_flags("none", s)[1] == "none"
    with pytest.raises(ValueError):
        binary.stopper_flags("hyperband", s)


def test_summary_and_targets_from_runs():
    none = [_ev(str(i), "ok", 1.0 - 0.1 * i, 27) for i in range(4)]     # 108 steps, best 0.7
    asha = ([_ev(str(i), "stopped", 0.9, 3) for i in range(6)]
            + [_ev("6", "ok", 0.65, 27), _ev("7", "ok", 0.6, 27)])      # 72 steps
    optuna = [_ev("0", "stopped", 0.9, 3), _ev("1", "ok", 0.8, 27), _ev("2", "ok", 0.5, 27)]
    runs = {"none": {0: none}, "asha": {0: asha}, "optuna-hyperband": {0: optuna}}
    summary = tables.summarize(runs, 4, 27, [44, 54, 108])
    assert summary["none"]["steps_n"] == 108 and summary["none"]["best_n"] == pytest.approx(0.7)
    assert summary["asha"]["steps_n"] == 12 and summary["asha"]["best_n"] == math.inf
    assert summary["asha"]["within"][44] == math.inf
    assert summary["asha"]["within"][54] == pytest.approx(0.65)  # 6 * 3 + 27 = 45 steps
    assert summary["asha"]["within"][108] == pytest.approx(0.6)
    assert summary["asha"]["ended_before"] == {44: 0, 54: 0, 108: 1}
    assert summary["optuna-hyperband"]["within"][54] == pytest.approx(0.8)
    text = tables.targets(runs, 4, 27, "val_loss")
    # within E = 54 steps asha has 0.65 (18 + 27 = 45 steps): better than none's 0.7
    assert "0.6500 vs none's 0.7000" in text and "**met**" in text.splitlines()[2]
    assert "optuna-hyperband, both within E: 0.6500 vs 0.8000" in text
    # 0.65 <= 0.7 once 45 steps are allowed: 7/16 of none's 108 (47.25), not 6/16 (40.5)
    assert "asha needed to match none's median best: 0.438 " in text
    assert "minus none's with all: -0.0500, 90% bootstrap interval over the seeds [-, -] " \
        "(too few seeds for it: fewer than 5)" in text
    table = tables.tables("t", summary, 4, 8, 27, [54, 108], [0], "val_loss", False)
    assert "| asha | 12 | 0.11 | 12 | inf |" in table


def test_targets_without_none_compare_with_the_pruners_within_half_of_n_full_trainings():
    """none not run (the synthetic part): E = N x max_step / 2 = 54 for N = 4."""
    lce = ([_ev(str(i), "stopped", 0.9, 3) for i in range(6)]
           + [_ev("6", "ok", 0.65, 27), _ev("7", "ok", 0.6, 27)])      # 0.65 at 45 steps
    median = [_ev("0", "ok", 0.7, 27), _ev("1", "stopped", 0.9, 3),
              _ev("2", "ok", 0.5, 27)]                                   # 0.5 only at 57 steps
    runs = {"lce": {0: lce}, "optuna-median": {0: median}, "optuna-none": {0: median}}
    text = tables.targets(runs, 4, 27, "value")
    assert text.splitlines()[0] == "Targets (none not run: E = half of N x 27 = 54 steps):"
    assert "lce vs optuna-median, both within E: 0.6500 vs 0.7000; lce better in 1/1" in text
    assert "**met**" in text and "optuna-none" not in text
    assert tables.targets({"lce": {0: lce}}, 4, 27, "value") == ""


def test_matching_share_is_the_least_grid_share_where_the_median_matches():
    slow = [_ev("0", "stopped", 2.0, 40), _ev("1", "ok", 0.9, 27), _ev("2", "ok", 0.5, 27)]
    fast = [_ev("0", "ok", 0.6, 27)]
    runs = {0: slow, 1: fast, 2: fast}
    steps = {0: 160.0, 1: 160.0, 2: 160.0}
    # seeds 1 and 2 have 0.6 from 27 steps (3/16 of 160 = 30): the median is 0.6
    assert tables.matching_share(runs, [0, 1, 2], steps, 0.6, 27) == pytest.approx(3 / 16)
    # 0.55 needs seed 0's 0.5, at 94 steps: but the median of (0.5, 0.6, 0.6) stays 0.6
    assert tables.matching_share(runs, [0, 1, 2], steps, 0.55, 27) is None
    assert tables.matching_share({0: slow}, [0], {0: 160.0}, 0.55, 27) == pytest.approx(10 / 16)


def test_median_gap_interval_pairs_seeds_and_tells_noise_from_a_gap():
    # seed-to-seed spread far larger than the gap, each seed's pair equal but for 0.01
    theirs = {seed: 1.0 + 0.1 * seed for seed in range(20)}
    ours = {seed: v + 0.01 for seed, v in theirs.items()}
    lo, hi = reporting.median_gap_interval(ours, theirs)
    # paired: every resample takes both values of the same seeds, so the medians
    # move together and the gap stays at 0.01 however the seeds are drawn
    assert lo == pytest.approx(0.01) and hi == pytest.approx(0.01)
    assert reporting.gap_words(lo, hi) == "behind beyond the seeds' spread"
    # half the seeds a bit better, half a lot worse: the median gap's sign is unsure
    mixed = {seed: v + (0.3 if seed % 2 else -0.05) for seed, v in theirs.items()}
    lo, hi = reporting.median_gap_interval(mixed, theirs)
    assert lo < 0 < hi and reporting.gap_words(lo, hi) == "within the seeds' spread"
    better = {seed: v - 0.2 for seed, v in theirs.items()}
    assert reporting.gap_words(*reporting.median_gap_interval(better, theirs)) == \
        "ahead beyond the seeds' spread"
    # reproducible, only common seeds count, and too few of them give no interval
    assert (reporting.median_gap_interval(mixed, theirs)
            == reporting.median_gap_interval(mixed, theirs))
    assert reporting.median_gap_interval({**mixed, 99: 50.0}, theirs) == \
        reporting.median_gap_interval(mixed, theirs)
    few = {seed: theirs[seed] for seed in range(4)}
    assert all(math.isnan(x) for x in reporting.median_gap_interval(few, theirs))


# --------------------------------------------------------------------- Optuna

@pytest.fixture(scope="module")
def lc_problem():
    pytest.importorskip("optuna")
    return load_problem(str(PROBLEMS / "problem_lc.py"))


def test_optuna_async_without_pruner_trains_everything(lc_problem):
    s = evaluations.Settings(max_step=5, workers=3)
    evals = optuna_side.optuna_async(lc_problem, lambda p, t: lc_model.curve_value(p, t),
                                     "optuna-none", 0, 7, s)
    assert len(evals) == 7
    assert all(e.status == "ok" and e.steps == 5 for e in evals)
    assert sorted(e.issue for e in evals) == list(range(7))
    for e in evals:
        assert e.objective == lc_model.curve_value(e.point, 5)


@pytest.mark.parametrize("method", ["optuna-hyperband", "optuna-median", "optuna-sha"])
def test_optuna_async_prunes_and_is_reproducible(lc_problem, method):
    s = evaluations.Settings(max_step=9, min_steps=1, eta=3, warmup=2, workers=3)

    def value(p, t):
        return lc_model.curve_value(p, t)

    a = optuna_side.optuna_async(lc_problem, value, method, 3, 24, s)
    b = optuna_side.optuna_async(lc_problem, value, method, 3, 24, s)
    assert [(e.job_id, e.status, e.steps) for e in a] == [(e.job_id, e.status, e.steps)
                                                          for e in b]
    assert len(a) == 24
    assert any(e.status == "stopped" for e in a)
    for e in a:
        assert 1 <= e.steps <= 9
        assert (e.status == "ok") == (e.steps == 9)
        assert e.objective == lc_model.curve_value(e.point, e.steps)


def test_optuna_async_counts_a_failed_trial():
    pytest.importorskip("optuna")
    problem = load_problem(str(PROBLEMS / "problem_lc.py"))
    s = evaluations.Settings(max_step=4, workers=2)
    evals = optuna_side.optuna_async(problem, lambda p, t: math.nan if t == 2 else 1.0,
                                     "optuna-none", 0, 3, s)
    assert [(e.status, e.steps) for e in evals] == [("failed", 2)] * 3


# ------------------------------------------------------------------------ TC1

def test_tc1_defaults_file(tmp_path):
    from async_search import runner
    defaults = runner.read_default_model(tc1.tc1_defaults_file(tmp_path))
    for key, value in tc1.TC1_SETTINGS.items():
        assert defaults[key] == value
    longer = runner.read_default_model(tc1.tc1_defaults_file(tmp_path, 81))
    assert longer["epochs"] == 81
    assert {k: v for k, v in longer.items() if k != "epochs"} == {
        k: v for k, v in defaults.items() if k != "epochs"}


def test_epochs_below_two_are_refused(capsys):
    assert es.main(["--part", "tc1", "--epochs", "1", "--out", "/nonexistent/x.json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("early_stopping.py: --epochs: 1:") and "\n" not in err


@pytest.fixture(scope="module")
def tiny_tc1(tmp_path_factory):
    pytest.importorskip("torch")
    import numpy as np

    from async_search.benchmarks import data
    tmp = tmp_path_factory.mktemp("tc1")
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 30)) * 2

    def make(n, path):
        y = np.arange(n) % 3
        x = centres[y] + rng.normal(size=(n, 30))
        path.write_text("".join(",".join([str(label)] + [f"{v:.4f}" for v in row]) + "\n"
                                for label, row in zip(y, x)))
        return path

    dataset = data.load_dataset(data.DataFiles(make(30, tmp / "tr.csv"), make(9, tmp / "te.csv")))
    defaults = tmp / "model.txt"
    defaults.write_text("[Global_Params]\nepochs = 4\nbatch_size = 8\nconv = [4, 3, 1]\n"
                        "pool = [2]\ndense = [8]\noptimizer = 'adam'\nrng_seed = 1\n")
    old = os.environ.get("TORCH_NUM_THREADS")
    os.environ["TORCH_NUM_THREADS"] = "1"
    yield tc1.TC1InProcess(defaults, dataset=dataset)
    if old is None:
        os.environ.pop("TORCH_NUM_THREADS", None)
    else:
        os.environ["TORCH_NUM_THREADS"] = old


def test_tc1_in_process_hook_sees_every_epoch(tiny_tc1):
    seen = []
    value = tiny_tc1.train({"drop": 0.1}, lambda epoch, v: seen.append((epoch, v)))
    assert [e for e, _ in seen] == [1, 2, 3, 4]
    assert value == pytest.approx(seen[-1][1], abs=1e-4)


def test_tc1_in_process_hook_can_stop_training(tiny_tc1):
    seen = []

    class Stop(Exception):
        pass

    def hook(epoch, value):
        seen.append(epoch)
        if epoch == 2:
            raise Stop()

    with pytest.raises(Stop):
        tiny_tc1.train({}, hook)
    assert seen == [1, 2]


def test_optuna_tc1_records_epochs_and_statuses(tiny_tc1):
    problem = load_problem(str(PROBLEMS / "problem_tc1_bench.py"))
    s = evaluations.Settings(max_step=4, min_steps=1, eta=2, warmup=1)
    evals = optuna_side.optuna_tc1(problem, tiny_tc1, "optuna-median", 0, 6, s)
    assert len(evals) == 6 and [e.issue for e in evals] == list(range(6))
    for e in evals:
        assert e.status in ("ok", "stopped", "failed")
        assert 1 <= e.steps <= 4
        if e.status == "ok":
            assert e.steps == 4 and math.isfinite(e.objective)
