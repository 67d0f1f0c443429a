"""asbench.runners.tc1_replay: measured TC1 curves collected from kept experiments and
replayed by nearest point; early_stopping.py --part replay's checks of --curves."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import pytest

from asbench.runners import early_stopping as es
from asbench.runners import tc1_replay
from asbench.stopping import tc1
from async_search import expfiles, load_problem

NAMES = ["drop", "learning_rate", "optimizer", "batch_size"]


@pytest.fixture(scope="module")
def problem():
    return load_problem(str(tc1_replay.PROBLEM))


def _point(drop=0.1, lr=1e-3, opt="adam", bs=32):
    return {"drop": drop, "learning_rate": lr, "optimizer": opt, "batch_size": bs}


def _experiment(path: Path, jobs):
    """A kept experiment: jobs is [(job_id, point or None: not in points.log,
    {step: value})]."""
    path.mkdir(parents=True)
    with open(path / "points.log", "w") as fh:
        for job, point, _ in jobs:
            if point is not None:
                fh.write(f"{job}\t{json.dumps(point)}\n")
    with open(path / expfiles.CURVES, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(expfiles.CURVE_COLUMNS)
        for job, _, steps in jobs:
            for step, value in steps.items():
                w.writerow([job, step, value, 1.0e9 + step])


def test_build_keeps_full_gapless_curves_of_every_experiment(tmp_path, problem):
    _experiment(tmp_path / "keep" / "tc1-none-0", [
        ("1_1_0", _point(), {1: 1.7, 2: 1.5, 3: 1.2}),
        ("1_1_1", _point(drop=0.5), {1: 1.8, 2: 1.79}),           # stopped at 2
        ("1_1_2", _point(lr=1e-2), {1: 1.9, 3: 1.4, 2: 1.6}),     # out of order: fine
    ])
    _experiment(tmp_path / "keep" / "tc1-asha-0", [
        ("1_1_0", _point(opt="sgd"), {1: 1.75, 3: 1.74}),          # a gap at 2
        ("1_1_1", _point(bs=128), {1: 1.72, 2: 1.71, 3: 1.70}),
        ("1_1_9", None, {1: 1.0, 2: 1.0, 3: 1.0}),        # not in points.log
    ])
    curves = tc1_replay.build([tmp_path / "keep"], NAMES)
    assert [c for _, c in curves] == [[1.72, 1.71, 1.70], [1.7, 1.5, 1.2], [1.9, 1.6, 1.4]]
    assert curves[0][0] == _point(bs=128)
    out = tmp_path / "curves.csv"
    tc1_replay.write_curves(out, curves, NAMES)
    back = tc1_replay.read_curves(out, NAMES)
    assert back == curves
    assert isinstance(back[0][0]["batch_size"], int) and back[0][0]["optimizer"] == "adam"


@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ("drop,learning_rate,optimizer,batch_size\n", "expected drop, learning_rate"),
    ("drop,learning_rate,optimizer,batch_size,1,3\n0.1,0.001,adam,32,1.7,1.6\n",
     "then steps 1, 2"),
    ("drop,lr,optimizer,batch_size,1\n0.1,0.001,adam,32,1.7\n", "header"),
    ("drop,learning_rate,optimizer,batch_size,1,2\n", "no curves"),
    ("drop,learning_rate,optimizer,batch_size,1,2\n0.1,0.001,adam,32,1.7\n", ":2: 5 fields"),
])
def test_read_curves_names_the_file_and_what_is_wrong(tmp_path, text, words):
    path = tmp_path / "c.csv"
    path.write_text(text)
    with pytest.raises(ValueError) as e:
        tc1_replay.read_curves(path, NAMES)
    assert str(e.value).startswith(str(path)) and words in str(e.value)


def test_nearest_curve_by_the_problems_space(problem):
    curves = [(_point(lr=1e-3, opt="adam"), [1.0]),
              (_point(lr=1e-4, opt="adam"), [2.0]),
              (_point(lr=1e-3, opt="sgd"), [3.0]),
              (_point(lr=1e-3, opt="adam", bs=128), [4.0])]
    replay = tc1_replay.Replay(curves, problem)
    # the learning rate counts on its log scale: 3e-4 is nearer 1e-4 than 1e-3
    assert replay.curve(_point(lr=2e-4)) == [2.0]
    assert replay.curve(_point(lr=5e-4)) == [1.0]
    # a categorical mismatch outweighs any numeric distance within the space
    assert replay.curve(_point(lr=1e-3, opt="sgd", drop=0.9)) == [3.0]
    assert replay.curve(_point(bs=128, lr=1e-5)) == [4.0]
    assert replay.value_at(_point(), 1) == 1.0 and replay.value_at(_point(), 9) == 1.0
    # --flat: the last value at every step
    flat = tc1_replay.Replay([(_point(), [1.7, 1.5, 1.2])], problem, flat=True)
    assert flat.curve(_point()) == [1.2, 1.2, 1.2] and flat.value_at(_point(), 1) == 1.2
    # ties go to the first curve
    twice = tc1_replay.Replay([(_point(), [5.0]), (_point(), [6.0])], problem)
    assert twice.curve(_point()) == [5.0]


def test_model_prints_the_nearest_curve(tmp_path, capsys):
    table = tmp_path / "c.csv"
    tc1_replay.write_curves(table, [(_point(), [1.7, 1.5, 1.25]),
                                    (_point(opt="sgd"), [1.8, 1.79, 1.78])], NAMES)
    params = tmp_path / "params.json"
    params.write_text(json.dumps(_point(lr=1.1e-3)))
    assert tc1_replay.main(["--curves", str(table), str(params)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "IMPROVE_INTERMEDIATE 1 1.7", "IMPROVE_INTERMEDIATE 2 1.5",
        "IMPROVE_INTERMEDIATE 3 1.25", "IMPROVE_RESULT 1.25"]
    assert tc1_replay.main(["--flat", "--curves", str(table), str(params)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "IMPROVE_INTERMEDIATE 1 1.25"
    bad = tmp_path / "bad.csv"
    bad.write_text("x\n")
    assert tc1_replay.main(["--curves", str(bad), str(params)]) == 2
    assert str(bad) in capsys.readouterr().err


def test_build_refuses_to_overwrite_and_an_empty_keep(tmp_path, capsys):
    _experiment(tmp_path / "keep" / "e", [("1_1_0", _point(), {1: 1.7, 2: 1.5})])
    out = tmp_path / "curves.csv"
    assert tc1_replay.main(["build", str(tmp_path / "keep"), str(out)]) == 0
    first = out.read_text()
    assert "1 curves of 2 steps" in capsys.readouterr().out
    assert tc1_replay.main(["build", str(tmp_path / "keep"), str(out)]) == 2
    assert "exists: not overwritten" in capsys.readouterr().err and out.read_text() == first
    (tmp_path / "empty").mkdir()
    assert tc1_replay.main(["build", str(tmp_path / "empty"), str(tmp_path / "o.csv")]) == 2
    assert not (tmp_path / "o.csv").exists()


def test_build_reads_kept_files_as_a_restart_does(tmp_path, capsys):
    """A search killed while writing leaves a torn last line: left out, as
    --restart leaves it out. A malformed row is a one-line error naming the file."""
    exp = tmp_path / "keep" / "killed"
    _experiment(exp, [("1_1_0", _point(), {1: 1.7, 2: 1.5}),
                      ("1_1_1", _point(drop=0.4), {1: 1.8, 2: 1.6})])
    with open(exp / expfiles.CURVES, "a") as fh:
        fh.write("1_1_1,3,1.")                        # torn: no newline
    with open(exp / expfiles.POINTS, "a") as fh:
        fh.write('1_1_2\t{"drop": 0.2')                # torn point of a new job
    curves = sorted(c for _, c in tc1_replay.read_experiment_curves(exp))
    assert curves == [[1.7, 1.5], [1.8, 1.6]]
    with open(exp / expfiles.CURVES, "w") as fh:
        fh.write(",".join(expfiles.CURVE_COLUMNS) + "\n1_1_0,one,1.7,0\n")
    out = tmp_path / "o.csv"
    assert tc1_replay.main(["build", str(tmp_path / "keep"), str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(exp / expfiles.CURVES) in err and not out.exists()


def test_the_shipped_curves_are_full_tc1_curves(problem):
    curves = tc1_replay.read_curves(tc1_replay.CURVES, NAMES)
    assert len(curves) == 621 and {len(c) for _, c in curves} == {tc1.TC1_SETTINGS["epochs"]}
    for point, _ in curves:
        problem.space.check_point(point)


def test_bench_replay_refuses_bad_curves(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("drop,learning_rate\n")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = es.main(["--part", "replay", "--curves", str(bad), "--out", str(tmp_path / "o")])
    assert rc == 2 and f"--curves: {bad}: header" in err.getvalue()
    assert not (tmp_path / "o").exists()


def test_spearman_agrees_with_scipy_ties_included():
    scipy_stats = pytest.importorskip("scipy.stats")
    a = [1.7, 1.5, 1.5, 1.2, 1.9, 1.7, 1.1, 1.5]
    b = [0.9, 1.0, 0.8, 0.7, 1.2, 1.2, 0.7, 1.0]
    assert tc1_replay.spearman(a, b) == pytest.approx(scipy_stats.spearmanr(a, b).correlation)
    assert tc1_replay.spearman(a, a) == pytest.approx(1.0)
    assert tc1_replay.spearman(a, [-x for x in a]) == pytest.approx(-1.0)
    assert tc1_replay.spearman(a, [1.0] * len(a)) != tc1_replay.spearman(a, [1.0] * len(a))


def _ranked_curves(n=30):
    """Curves of 3 steps, last values 0..n-1: step 1 ranks them backwards,
    step 2 ranks only the worse half right (the better half backwards), step 3
    is the last value."""
    out = []
    for i in range(n):
        second = i if i >= n // 2 else n // 2 - 1 - i
        out.append((_point(drop=i / n), [float(n - i), float(second), float(i)]))
    return out


def test_rank_table_tells_an_informative_step_from_a_misleading_one():
    rows = tc1_replay.rank_table(_ranked_curves(), [1, 2, 3])
    one, two, three = rows
    # step 1 ranks backwards: no best curve is in its best third
    assert one["kept"] == 0.0 and one["rho"] == pytest.approx(-1.0)
    assert one["rho_learning"] == pytest.approx(-1.0)
    # step 2: the best 10% (last values 0, 1, 2) sit at 14, 13, 12 of 0..29,
    # outside the best third (0..9), though the step ranks all curves well
    assert two["kept"] == 0.0 and two["rho"] > 0.5
    # among the better half (last value below the median) it ranks backwards
    assert two["rho_learning"] == pytest.approx(-1.0)
    assert three == {"step": 3, "kept": 1.0, "rho": pytest.approx(1.0),
                     "rho_learning": pytest.approx(1.0)}


def test_ranks_prints_the_table_and_refuses_bad_steps(tmp_path, capsys):
    table = tmp_path / "c.csv"
    tc1_replay.write_curves(table, _ranked_curves(), NAMES)
    assert tc1_replay.main(["ranks", "--curves", str(table), "--steps", "1,3"]) == 0
    out = capsys.readouterr().out
    assert "30 curves of 3 steps" in out
    assert "| 1 | 0.00 | -1.00 | -1.00 |" in out and "| 3 | 1.00 | 1.00 | 1.00 |" in out
    for steps in ("0", "4", "1,x"):
        assert tc1_replay.main(["ranks", "--curves", str(table), "--steps", steps]) == 2
        err = capsys.readouterr().err
        assert err == f"tc1_replay.py: --steps {steps}: each step must be 1 to 3\n"
    assert tc1_replay.main(["ranks", "--curves", str(tmp_path / "none.csv")]) == 2
    assert str(tmp_path / "none.csv") in capsys.readouterr().err


def test_discrimination_counts_stops_of_those_that_could_win(tmp_path, problem):
    """Five completed evaluations, then two that reported step 1: the one whose
    replayed final beats them was stopped at step 1, the other ran on.  And one
    that reported step 1 before five had completed is left out."""
    from asbench.stopping import discrimination

    curves = tc1_replay.read_curves(tc1_replay.CURVES, NAMES)
    finals = sorted(curves, key=lambda c: c[1][-1])
    best, worst = finals[0][0], finals[-1][0]
    replay = tc1_replay.Replay(curves, problem)
    exp = tmp_path / "replay-lce-0"
    jobs = [(f"1_1_{i}", finals[len(finals) // 2][0]) for i in range(5)]
    jobs += [("1_1_5", best), ("1_1_6", worst), ("1_1_7", best)]
    _experiment(exp, [(job, point, {}) for job, point in jobs])
    rows = [("1_1_5", "stopped", 2, 20.0), ("1_1_6", "ok", 27, 30.0), ("1_1_7", "stopped", 1, 3.0)]
    header = "job_id," + ",".join("p:" + n for n in NAMES) + ",objective,status,worker," \
        "m:timestamp_submit,m:timestamp_start,m:timestamp_gather,duration,steps"
    lines = [header]
    for i in range(5):
        lines.append(f"1_1_{i},0.1,0.001,adam,32,{1.5 + i / 100},ok,1,0,0,{5 + i},1,27")
    for job, status, steps, gathered in rows:
        lines.append(f"{job},0.1,0.001,adam,32,1.7,{status},1,0,0,{gathered},1,{steps}")
    (exp / "results.csv").write_text("\n".join(lines) + "\n")
    with open(exp / expfiles.CURVES, "a") as fh:
        fh.write("1_1_5,1,1.8,12.0\n1_1_6,1,1.8,13.0\n1_1_7,1,1.8,2.0\n")
    assert replay.value_at(best, 27) < 1.5 < replay.value_at(worst, 27)
    c = discrimination.count(exp, replay, [1, 3, 9], 27)
    assert c == {(1, True, True): 1, (1, False, False): 1}
    text = discrimination.table({"lce": c}, [1, 3, 9])
    assert "| lce | 1 | 1 | 1 (100%) | 1 | 0 (0%) |" in text
