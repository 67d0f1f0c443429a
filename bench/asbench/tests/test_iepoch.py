"""i-Epoch in the early-stopping bench (asbench.stopping.iepoch): its accounting, its
phases in the runner, the targets about lce, the points that dominate, --merge."""

from __future__ import annotations

import contextlib
import io
import json
import math
from dataclasses import asdict

import pytest

from asbench import PROBLEMS
from asbench.problems import lc_model
from asbench.runners import early_stopping as es
from asbench.runners import tc1_replay
from asbench.stopping import binary, evaluations, iepoch, tables


def _ev(job, status, objective, steps, point=None):
    return evaluations.Evaluation(job, status, objective, steps, int(job), point or {"x": job})


# finals of a full training, by point: the proposal best at step 3 ("2") is not the
# best at the end ("1"), the one best at the end is third at step 3
FINALS = {"0": 0.50, "1": 0.20, "2": 0.40, "3": 0.90, "4": 0.30, "5": 0.10}
PHASE1 = [  # finishing order, 3 steps each
    _ev("0", "ok", 1.10, 3), _ev("1", "ok", 1.00, 3), _ev("2", "ok", 0.80, 3),
    _ev("3", "failed", math.nan, 2), _ev("4", "ok", 1.30, 3), _ev("5", "ok", math.nan, 3)]


def _final(point):
    return FINALS[point["x"]]


def test_parse_method_names():
    assert iepoch.parse("iepoch3") == (3, iepoch.DEFAULT_TOP)
    assert iepoch.parse("iepoch1-top5") == (1, 5)
    assert iepoch.parse("asha") is None and iepoch.parse("iepoch") is None
    with pytest.raises(ValueError):
        iepoch.parse("iepoch0")
    with pytest.raises(ValueError):
        iepoch.parse("iepoch1-top0")


def test_top_proposals_are_the_best_finite_ok_values_at_step_i():
    assert [e.job_id for e in iepoch.top_proposals(PHASE1, 2)] == ["2", "1"]
    # the failed and the non-finite never, even when k asks for all
    assert [e.job_id for e in iepoch.top_proposals(PHASE1, 10)] == ["2", "1", "0", "4"]


def test_finish_counts_phase_one_steps_and_full_trainings_from_scratch():
    out = iepoch.finish(PHASE1, 2, 27, _final)
    assert out[:len(PHASE1)] == PHASE1
    full = out[len(PHASE1):]
    assert [e.job_id for e in full] == ["full-2", "full-1"]
    assert [e.issue for e in full] == [6, 7] and all(e.steps == 27 for e in full)
    # steps: 5 x 3 + 2 (the failed one) in phase 1, then 27 for each full training
    assert evaluations.steps_spent(out) == 17 + 2 * 27
    # the best of the two fully trained (0.20), not the best final overall (0.10,
    # whose step-3 value was not finite), nor a phase-1 value (0.80, not full)
    assert evaluations.best_fully_trained(out, 27) == pytest.approx(0.20)
    assert sum(evaluations.fully_trained(e, 27) for e in out) == 2
    assert iepoch.continuation_saving(out, 3) == 6
    # top 1: only the best at step 3 trains fully
    assert evaluations.best_fully_trained(iepoch.finish(PHASE1, 1, 27, _final), 27) == 0.40


def test_a_failed_full_training_is_not_a_best():
    out = iepoch.finish(PHASE1, 2, 27, lambda p: math.nan if p["x"] == "1" else _final(p))
    assert out[-1].status == evaluations.FAILED and math.isnan(out[-1].objective)
    assert evaluations.best_fully_trained(out, 27) == pytest.approx(0.40)


def test_stopper_flags_for_lce_and_iepoch():
    s = evaluations.Settings(max_step=27, min_steps=1, eta=3, warmup=5)
    assert binary.stopper_flags("lce", s)[:2] == ["--stopper", "lce"]
    assert binary.stopper_flags("iepoch9", s)[:2] == ["--stopper", "none"]
    assert "--stopper-tell" not in binary.stopper_flags("lce", s)  # the binary's default
    flags = binary.stopper_flags("lce-estimate", s)
    assert flags[:2] == ["--stopper", "lce"] and flags[-2:] == ["--stopper-tell", "estimate"]
    flags = binary.stopper_flags("lce-min3-rank", s)
    assert flags[:4] == ["--stopper", "lce", "--stopper-min-steps", "3"]
    assert flags[-2:] == ["--stopper-tell", "rank"]
    with pytest.raises(ValueError):
        binary.stopper_flags("hyperband-estimate", s)


def test_runner_cuts_the_model_and_shares_phase_one_across_top_k(tmp_path):
    runner = es.PartRunner("synthetic", evaluations.Settings(lc_model.MAX_STEP), 0.0,
                           "subprocess", tmp_path, True, "", None, tc1_replay.CURVES)
    point = dict(lc_model.OPTIMUM_POINT)
    calls = []

    def fake_binary(method, seed, evals, cut=0):
        calls.append((method, seed, evals, cut))
        return [evaluations.Evaluation("0", "ok", lc_model.curve_value(point, cut, seed),
                                       cut, 0, point)]
    runner.binary = fake_binary
    a = runner.run("iepoch3", 4, 60)
    b = runner.run("iepoch3-top1", 4, 60)
    assert calls == [("iepoch3", 4, 60, 3)]  # one phase 1 for both
    assert a[-1].objective == pytest.approx(lc_model.curve_value(point, lc_model.MAX_STEP, 4))
    assert b[-1].objective == a[-1].objective
    assert es.binary_model("synthetic", 4, 0.0, tc1_replay.CURVES, False, "x", 3)[1] \
        .endswith("--noise-seed 4 --max-step 3")
    assert "--max-step 9" in es.binary_model("replay", 0, 0.0, tc1_replay.CURVES, False,
                                             "x", 9)[1]
    assert "--max-step" not in es.binary_model("replay", 0, 0.0, tc1_replay.CURVES, False,
                                               "x")[1]


def test_replay_model_stops_at_max_step(tmp_path):
    problem = es.load_problem(str(PROBLEMS / "problem_tc1_bench.py"))
    replay = tc1_replay.Replay(tc1_replay.read_curves(tc1_replay.CURVES, problem.space.names),
                               problem)
    point = dict(replay.curves[5][0])
    params = tmp_path / "params.json"
    params.write_text(json.dumps(point))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert tc1_replay.main(["--max-step", "3", str(params)]) == 0
    lines = out.getvalue().splitlines()
    assert [line.split()[1] for line in lines[:-1]] == ["1", "2", "3"]
    assert float(lines[-1].split()[1]) == pytest.approx(replay.value_at(point, 3), rel=1e-5)
    assert tc1_replay.main(["--max-step", "-1", str(params)]) == 2


def _runs():
    none = [_ev(str(i), "ok", 1.0 - 0.1 * i, 27) for i in range(4)]      # 108 steps, best 0.7
    lce = ([_ev(str(i), "stopped", 0.9, 3) for i in range(6)]
           + [_ev("6", "ok", 0.65, 27), _ev("7", "ok", 0.6, 27)])       # 72 steps, best 0.6
    cheap = iepoch.finish([_ev(str(i), "ok", 0.9 - 0.01 * i, 1) for i in range(10)], 1, 27,
                          lambda p: 0.55)                               # 37 steps, best 0.55
    dear = iepoch.finish([_ev(str(i), "ok", 0.9, 9) for i in range(10)], 1, 27,
                         lambda p: 0.5)                                 # 117 steps, best 0.5
    return {"none": {0: none}, "lce": {0: lce}, "iepoch1": {0: cheap}, "iepoch9": {0: dear}}


def test_targets_are_about_lce_and_points_say_what_dominates():
    runs = _runs()
    text = tables.targets(runs, 4, 27, "val_loss")
    assert "- lce within E: median best val_loss 0.6500 vs none's 0.7000" in text
    assert "- lce: evaluations trained fully, median over seeds: 2" in text
    summary = tables.summarize(runs, 4, 27, [54, 108])
    lines = tables.points(summary, "val_loss").splitlines()
    row = {line.split(" | ")[0].lstrip("| "): line for line in lines if line.startswith("| ")}
    assert row["iepoch1"] == "| iepoch1 | 37 | 0.5500 | **yes** |"  # fewer steps, better
    assert row["iepoch9"] == "| iepoch9 | 117 | 0.5000 | no |"       # better, but dearer
    assert row["none"].endswith("| no |") and row["lce"].endswith("| - |")
    assert tables.dominates((37, 0.6), (72, 0.6)) and not tables.dominates((72, 0.6), (72, 0.6))


def test_merge_joins_the_seeds_of_several_runs(tmp_path, capsys):
    runs = _runs()
    settings = {**asdict(evaluations.Settings(27, 1, 3, 5, 3)), "evals": 4, "stopper_evals": 8}
    paths = []
    for seed in (0, 1):
        raw = {"replay": {"runs": {m: {str(seed): [asdict(e) for e in by[0]]}
                                   for m, by in runs.items()},
                          "walls": {m: {str(seed): 1.0} for m in runs}, "skipped": {},
                          "settings": settings}}
        paths.append(tmp_path / f"{seed}.json")
        paths[-1].write_text(json.dumps(raw))
    assert es.main(["--part", "replay", "--merge", *map(str, paths)]) == 0
    out = capsys.readouterr().out
    assert "Medians over 2 seeds (0, 1)" in out and "as good or better in 2/2 seeds" in out
    # a run that ended early: only the seeds every method ran are reported
    raw = json.loads(paths[1].read_text())
    del raw["replay"]["runs"]["lce"]
    paths[1].write_text(json.dumps(raw))
    assert es.main(["--part", "replay", "--merge", *map(str, paths)]) == 0
    assert "Medians over 1 seeds (0)" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"synthetic": {}}))
    assert es.main(["--part", "replay", "--merge", str(bad)]) == 2
    assert "--merge" in capsys.readouterr().err


def test_cut_objective_gives_the_models_value_at_the_cut(monkeypatch):
    from asbench.stopping import cut_objective
    point = dict(lc_model.OPTIMUM_POINT)
    monkeypatch.setenv("ASBENCH_CUT", "3")
    monkeypatch.setenv("ASBENCH_NOISE_SEED", "7")
    assert cut_objective.synthetic(point) == lc_model.curve_value(point, 3, 7)
    problem = es.load_problem(str(PROBLEMS / "problem_tc1_bench.py"))
    replay = tc1_replay.Replay(tc1_replay.read_curves(tc1_replay.CURVES, problem.space.names),
                               problem)
    tc1_point = dict(replay.curves[9][0])
    monkeypatch.setenv("ASBENCH_CURVES", str(tc1_replay.CURVES))
    assert cut_objective.replay(tc1_point) == replay.value_at(tc1_point, 3)
    monkeypatch.setenv("ASBENCH_FLAT", "1")
    assert cut_objective.replay(tc1_point) == replay.curve(tc1_point)[-1]


def test_simulated_phase_one_counts_the_cut_steps(tmp_path, monkeypatch):
    runner = es.PartRunner("synthetic", evaluations.Settings(lc_model.MAX_STEP), 0.0,
                           "subprocess", tmp_path, True, "", None, tc1_replay.CURVES, 0.5)
    seen = {}

    def fake_run_simulated(problem, objective, seed, evals, s, exp, env, duration, optimizer):
        seen.update(objective=objective, env=env, duration=duration, evals=evals)
        return {"evaluations": [evaluations.Evaluation("0", "ok", 0.4, None, 0, {"x": "0"})]}
    monkeypatch.setattr(es, "run_simulated", fake_run_simulated)
    monkeypatch.setattr(runner, "final", lambda seed: lambda p: 0.3)
    out = runner.run("iepoch9-top1", 2, 60)
    assert seen["objective"].endswith("cut_objective.py:synthetic")
    assert seen["env"]["ASBENCH_CUT"] == "9" and seen["env"]["ASBENCH_NOISE_SEED"] == "2"
    assert seen["duration"] == 0.5 and seen["evals"] == 60
    assert evaluations.steps_spent(out) == 9 + lc_model.MAX_STEP
    assert evaluations.best_fully_trained(out, lc_model.MAX_STEP) == 0.3


def test_partial_json_is_what_merge_reads(tmp_path, capsys):
    runs = _runs()
    settings = {**asdict(evaluations.Settings(27, 1, 3, 5, 3)), "evals": 4, "stopper_evals": 8}
    out = tmp_path / "run.json"
    es.write_partial(out, {}, "replay", {"runs": {m: dict(by) for m, by in runs.items()},
                                         "walls": {}, "skipped": {}}, settings)
    assert not out.exists()
    assert es.main(["--part", "replay", "--merge", str(out) + ".partial"]) == 0
    assert "Medians over 1 seeds (0)" in capsys.readouterr().out
