"""Early stopping under mpiexec: models that report learning curves, the asha,
median and lce stoppers, both launch modes, malformed lines, kill -9 and
restart, the time-limit rule.

Whether a stopper stopped the right evaluations is checked against a
reference written here from the rules (csrc/stopper.h), replayed over
intermediate.csv in journal order: the manager acts on each value after
journalling it, so the journal is exactly what the stopper saw. median and
lce also read which evaluations had completed: a completion counts from its
row's gather time on (the same clock as intermediate.csv's; one with the same
millisecond as a value may have come before or after it, so the reference
gives the stops that must happen and those that may).
"""
from __future__ import annotations

import json
import math
import os
import signal
import statistics
import subprocess
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import (BINARY, PYTHON, mpi_env, mpiexec, model_cmd, read_results,
                      run_search)

CURVE_STEPS = 9


def write_problem(tmp_path: Path, bad_lines: bool = False) -> str:
    path = tmp_path / "problem_curve.py"
    extra = "\n                space['bad_lines'] = [True]" if bad_lines else ""
    path.write_text(textwrap.dedent(f"""\
        from collections import OrderedDict


        class Problem():
            def __init__(self):
                space = OrderedDict()
                space['x'] = (0.0, 10.0){extra}
                self.space = space
                self.params = self.space.keys()
        """))
    return str(path)


def curve_model(sleep: float = 0.15) -> str:
    return model_cmd("curve.py", "--steps", str(CURVE_STEPS), "--sleep", str(sleep))


def read_curves(exp_dir: Path) -> list[tuple[str, int, float]]:
    lines = (exp_dir / "intermediate.csv").read_text().splitlines()
    assert lines[0] == "job_id,step,value,m:timestamp"
    out = []
    for line in lines[1:]:
        job, step, value, _ = line.split(",")
        out.append((job, int(step), float(value)))
    return out


def reference(curves, kind: str, min_steps=1, eta=3.0, warmup=5, max_step=0) -> set[str]:
    """The job ids asha (csrc/stopper_asha.c) stops, over the journalled values
    (max_step given: the learned one never comes into play)."""
    assert kind == "asha"

    def rung_step(k):
        step = int(math.floor(min_steps * eta ** k + 0.5))
        return 0 if max_step and step >= max_step else step

    rungs: dict[int, list[float]] = {}
    next_rung: dict[str, int] = {}
    stopped: set[str] = set()
    for job, step, value in curves:
        k = next_rung.get(job, 0)
        while rung_step(k) and rung_step(k) <= step:
            rung = rungs.setdefault(k, [])
            rung.append(value)
            if value > float(np.percentile(rung, 100.0 / eta)):
                stopped.add(job)
            k += 1
        next_rung[job] = k
    return stopped


def _median_stops(curve, step, done, warmup, min_steps, max_step) -> bool:
    """Optuna's MedianPruner as csrc/stopper_median.c applies it; done: the
    completed jobs' (curve dict, final)."""
    at = [c[step] for c, _ in done if step in c]
    if len(done) < warmup or step < min_steps or not at or (max_step and step >= max_step):
        return False
    return min(v for s, v in curve.items() if s <= step) > float(np.percentile(at, 50))


def _upto(curve: dict, step: int) -> float:
    steps = [s for s in curve if s <= step]
    return curve[max(steps)] if steps else math.nan


def _lce_stops(curve, step, value, done, warmup) -> bool | None:
    """lce (csrc/stopper_lce.c) at a rung; None: it leaves it to asha."""
    if len(done) < warmup:
        return None
    cands = []
    for c, final in done:
        if max(c) < step or math.isnan(_upto(c, step)):
            continue
        gaps = [(s, abs(v - _upto(c, s))) for s, v in curve.items() if not math.isnan(_upto(c, s))]
        dist = sum(s * g for s, g in gaps) / sum(s for s, _ in gaps) if gaps else math.inf
        cands.append((dist, value + (final - _upto(c, step))))
    if len(cands) < warmup:
        return None
    hopeful = min(pred for _, pred in sorted(cands)[:warmup])
    best = min(final for _, final in done)
    return hopeful > best + 1e-9 * max(1.0, abs(best))


def reference_bounds(exp_dir: Path, kind: str, min_steps=1, eta=3.0, warmup=5,
                     max_step=0, lce_own: set | None = None) -> tuple[set[str], set[str]]:
    """The job ids the rule `kind` must stop and those it may stop, over the
    journal: values in journal order, completions from their gather time on
    (strictly before a value, or also in its millisecond). lce_own, when given,
    gets the jobs lce itself (past its warmup, not its asha fallback) must stop."""
    lines = (exp_dir / "intermediate.csv").read_text().splitlines()[1:]
    curves = [(job, int(step), float(v), float(t))
              for job, step, v, t in (line.split(",") for line in lines)]
    full = {}
    for job, step, value, _ in curves:
        full.setdefault(job, {})[step] = value
    ends = sorted((float(r["m:timestamp_gather"]), r["job_id"], float(r["objective"]))
                  for r in read_results(exp_dir) if r["status"] == "ok")

    def rung_step(k):
        step = int(math.floor(min_steps * eta ** k + 0.5))
        return 0 if max_step and step >= max_step else step

    rungs: dict[int, list[float]] = {}
    next_rung: dict[str, int] = {}
    seen: dict[str, dict] = {}
    must, may = set(), set()
    for job, step, value, t in curves:
        seen.setdefault(job, {})[step] = value
        k, asha_stop = next_rung.get(job, 0), None  # None: no rung here
        while rung_step(k) and rung_step(k) <= step:
            rung = rungs.setdefault(k, [])
            rung.append(value)
            asha_stop = bool(asha_stop) or value > float(np.percentile(rung, 100.0 / eta))
            k += 1
        next_rung[job] = k
        decisions, own = set(), set()
        for loose in (False, True):
            done = [(full[j], final) for g, j, final in ends
                    if (g <= t if loose else g < t) and j in full]
            if kind == "median":
                decisions.add(_median_stops(seen[job], step, done, warmup, min_steps, max_step))
            elif asha_stop is None or kind == "asha":
                decisions.add(bool(asha_stop))
            else:
                lce = _lce_stops(seen[job], step, value, done, warmup)
                decisions.add(asha_stop if lce is None else lce)
                own.add(bool(lce))
        if all(decisions):
            must.add(job)
        if lce_own is not None and own == {True}:
            lce_own.add(job)
        if any(decisions):
            may.add(job)
    return must, may


def wait_gone(pattern: str, timeout: float = 20) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        alive = False
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                except OSError:
                    continue
                alive |= pattern.encode() in cmd and b"pytest" not in cmd
        if not alive:
            return True
        time.sleep(0.2)
    return False


def check_stopped_rows(exp_dir: Path, rows: list[dict]) -> set[str]:
    stopped = {r["job_id"] for r in rows if r["status"] == "stopped"}
    for r in rows:
        x = float(r["p:x"])
        steps = int(r["steps"])
        if r["status"] == "stopped":
            # its last reported value is its objective, at the step it reached
            assert 1 <= steps < CURVE_STEPS, r
            assert math.isclose(float(r["objective"]), x + 1.0 / steps), r
        else:
            assert r["status"] == "ok" and steps == CURVE_STEPS, r
            assert math.isclose(float(r["objective"]), x + 1.0 / CURVE_STEPS), r
    return stopped


@pytest.mark.parametrize("kind", ["asha", "median", "lce"])
def test_a_stopper_stops_what_its_rule_says_and_nothing_else(tmp_path, kind):
    exp_dir = tmp_path / "exp"
    search = run_search(exp_dir, "--problem", write_problem(tmp_path), "--model-cmd",
                        curve_model(), "--max-evals", "18", "--stopper", kind,
                        "--stopper-max-step", str(CURVE_STEPS), "--stopper-warmup", "3",
                        nprocs=4)
    assert search.proc.returncode == 0, search.proc.stderr
    rows = read_results(exp_dir)
    assert len(rows) == 18
    stopped = check_stopped_rows(exp_dir, rows)
    assert stopped, "nothing was stopped"
    lce_own: set = set()
    must, may = reference_bounds(exp_dir, kind, warmup=3, max_step=CURVE_STEPS, lce_own=lce_own)
    assert must <= stopped <= may, (sorted(stopped - may), sorted(must - stopped))
    if kind == "asha":
        assert stopped == reference(read_curves(exp_dir), kind, max_step=CURVE_STEPS)
    if lce_own:  # past its warmup, lce itself decided (not its asha fallback): the log says so
        assert "lce: " in (exp_dir / "manager.log").read_text()
    # the best point is never stopped (these curves do not cross)
    best = min(rows, key=lambda r: float(r["p:x"]))
    assert best["status"] == "ok"
    assert "stopped early" in search.proc.stdout  # the summary counts them
    assert wait_gone(str(exp_dir / "run")), "a stopped model was left running"
    # every stop is in manager.log with its reason
    log = (exp_dir / "manager.log").read_text()
    assert log.count("early at step") == 2 * len(stopped)  # the stop and its result


def test_a_training_is_never_stopped_at_its_last_step(tmp_path):
    """Models that say their last step (IMPROVE_INTERMEDIATE step value last)
    and take a while after it (a checkpoint): bad ones are stopped before it,
    none at it, whatever the others reported there."""
    exp_dir = tmp_path / "exp"
    search = run_search(exp_dir, "--problem", write_problem(tmp_path), "--model-cmd",
                        model_cmd("curve.py", "--steps", "4", "--sleep", "0.1", "--say-last",
                                  "--end-sleep", "1"),
                        "--max-evals", "14", "--stopper", "median", "--stopper-warmup", "2",
                        nprocs=4)
    assert search.proc.returncode == 0, search.proc.stderr
    rows = read_results(exp_dir)
    assert len(rows) == 14
    stopped = [r for r in rows if r["status"] == "stopped"]
    assert stopped, "nothing was stopped"
    assert all(1 <= int(r["steps"]) < 4 for r in stopped), stopped
    assert all(int(r["steps"]) == 4 for r in rows if r["status"] == "ok")
    assert "at step 4:" not in (exp_dir / "manager.log").read_text()


def test_without_a_stopper_everything_trains_to_the_end(tmp_path):
    exp_dir = tmp_path / "exp"
    search = run_search(exp_dir, "--problem", write_problem(tmp_path), "--model-cmd",
                        curve_model(0.0), "--max-evals", "8", nprocs=3)
    assert search.proc.returncode == 0, search.proc.stderr
    rows = read_results(exp_dir)
    assert not check_stopped_rows(exp_dir, rows)
    assert len(read_curves(exp_dir)) == 8 * CURVE_STEPS


def issued_points(exp_dir: Path) -> list[str]:
    """The points of points.log in the order they were issued (their JSON text)."""
    from async_search import expfiles
    return list(expfiles.read_points(exp_dir / "points.log").values())


def test_a_stopper_widens_the_initial_design(tmp_path):
    """Under a stopper the engine starts from 2(d + 2) design points, at least
    10 (async_search.engine.stopper_design_size): a 1-d space gets the first
    10 points a search given --init-size 10 issues, where the default
    optimizer's own design is 5 points."""
    problem = write_problem(tmp_path)
    common = ["--problem", problem, "--model-cmd", curve_model(0.0), "--seed", "5"]
    stopped = run_search(tmp_path / "asha", *common, "--max-evals", "12", "--stopper", "asha",
                         "--stopper-max-step", str(CURVE_STEPS), nprocs=3)
    assert stopped.proc.returncode == 0, stopped.proc.stderr
    wide = run_search(tmp_path / "wide", *common, "--max-evals", "10", "--init-size", "10",
                      nprocs=3)
    assert wide.proc.returncode == 0, wide.proc.stderr
    assert issued_points(tmp_path / "asha")[:10] == issued_points(tmp_path / "wide")


@pytest.mark.parametrize("kind", ["asha", "median", "lce"])
def test_fork_server_children_are_stopped_too(tmp_path, kind):
    # a CANDLE-style module run by the fork server: the forked evaluations end
    models = tmp_path / "models"
    models.mkdir()
    (models / "curvemodel.py").write_text(textwrap.dedent(f"""\
        import time
        from async_search import report_intermediate


        def run(params):
            x = float(params["x"])
            losses = []
            for step in range(1, {CURVE_STEPS} + 1):
                time.sleep(0.15)
                losses.append(x + 1.0 / step)
                report_intermediate(step, losses[-1])
            return {{"val_loss": losses}}
        """))
    env = mpi_env()
    env["MODEL_PYTHON_DIR"] = str(models)
    exp_dir = tmp_path / "exp"
    search = run_search(exp_dir, "--problem", write_problem(tmp_path), "--model", "curvemodel",
                        "--launch", "fork-server", "--max-evals", "12", "--stopper", kind,
                        "--stopper-max-step", str(CURVE_STEPS), "--stopper-warmup", "2",
                        nprocs=4, env=env)
    assert search.proc.returncode == 0, search.proc.stderr
    rows = read_results(exp_dir)
    stopped = check_stopped_rows(exp_dir, rows)
    must, may = reference_bounds(exp_dir, kind, warmup=2, max_step=CURVE_STEPS)
    assert stopped and must <= stopped <= may, (sorted(stopped - may), sorted(must - stopped))
    done = next(r for r in rows if r["status"] == "ok")  # the fork server ran them
    assert "preloaded=1" in (exp_dir / "run" / done["job_id"] / "model.log").read_text()
    assert wait_gone(str(exp_dir / "run")), "a stopped model was left running"


def test_malformed_lines_are_logged_and_ignored(tmp_path):
    exp_dir = tmp_path / "exp"
    search = run_search(exp_dir, "--problem", write_problem(tmp_path, bad_lines=True),
                        "--model-cmd", curve_model(0.0), "--max-evals", "4",
                        "--stopper", "median", nprocs=3)
    assert search.proc.returncode == 0, search.proc.stderr
    rows = read_results(exp_dir)
    assert {r["status"] for r in rows} <= {"ok", "stopped"}
    for job, step, value in read_curves(exp_dir):  # only the good lines
        x = float(next(r["p:x"] for r in rows if r["job_id"] == job))
        assert math.isclose(value, x + 1.0 / step)
    log = (exp_dir / "run" / rows[0]["job_id"] / "model.log").read_text()
    assert "ignored an IMPROVE_INTERMEDIATE line: the step is not a whole number" in log
    assert "ignored an IMPROVE_INTERMEDIATE line: the value is not finite" in log
    assert "ignored an IMPROVE_INTERMEDIATE line: the step does not rise" in log


@pytest.mark.parametrize("kind", ["asha", "median", "lce"])
def test_kill_minus_nine_and_restart_rebuild_the_stopper(tmp_path, kind):
    # The job dies (kill -9) while models train; --restart must go on with the
    # stopper's state rebuilt from intermediate.csv: over both runs the stops
    # are exactly those of the rule over the whole journal.
    exp_dir = tmp_path / "exp"
    problem = write_problem(tmp_path)
    # good points first, bad ones after the restart: a stopper that forgot the
    # earlier rungs would let the first bad one pass that the rungs of before stop
    optimizer = f"{Path(__file__).parent / 'cycle_optimizer.py'}:WorseAfterRestart"
    common = ["--problem", problem, "--model-cmd", curve_model(0.2), "--max-evals", "24",
              "--stopper", kind, "--stopper-max-step", str(CURVE_STEPS),
              "--stopper-warmup", "2", "--optimizer", optimizer]
    cmd = mpiexec(4) + [str(BINARY), *common, "--exp-dir", str(exp_dir)]
    proc = subprocess.Popen(cmd, env=mpi_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # until some rows and curves exist
        if (exp_dir / "results.csv").exists() and len(read_results(exp_dir)) >= 5:
            break
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    for pid in os.listdir("/proc"):  # the ranks, if any survived their mpiexec
        if pid.isdigit():
            try:
                if str(exp_dir).encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(int(pid), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass
    first = len(read_results(exp_dir))
    assert 5 <= first < 16
    final = run_search(exp_dir, *common, "--restart", str(exp_dir), nprocs=4)
    assert final.proc.returncode == 0, final.proc.stderr
    rows = read_results(exp_dir)
    assert len(rows) == 24
    curves = read_curves(exp_dir)
    stopped = check_stopped_rows(exp_dir, rows)
    # the rule over the whole journal, both runs together (the evaluations cut
    # by the kill have curves but no row: they count in the rungs all the same;
    # the completions before the kill count after it)
    finished = {r["job_id"] for r in rows}
    must, may = reference_bounds(exp_dir, kind, warmup=2, max_step=CURVE_STEPS)
    wrong = (sorted(stopped - may), sorted(must & finished - stopped))
    assert must & finished <= stopped <= may, wrong
    assert any(job.startswith("2_") for job in stopped)  # stops after the restart too
    if kind == "asha":
        assert stopped == reference(curves, "asha", max_step=CURVE_STEPS) & finished


def test_no_evaluation_starts_that_cannot_end_before_the_time_limit(tmp_path):
    # room for the 3 durations the rule needs even when a busy machine slows
    # the start of mpiexec and Python by seconds
    LIMIT = 20
    exp_dir = tmp_path / "exp"
    run_search(exp_dir, "--problem", write_problem(tmp_path), "--model-cmd",
               model_cmd("quadratic.py", "--sleep", "2"), "--max-evals", "100",
               "--time-limit", str(LIMIT), "--sh-timeout", "0", nprocs=3, timeout=180)
    rows = read_results(exp_dir)
    assert rows and len(rows) < 100
    log = (exp_dir / "manager.log").read_text()
    assert "starting no more evaluations: they take about" in log
    # the rule as the manager applies it: a start needs the median of the
    # latest durations to fit in the time left (once 3 are known); timestamps
    # count from the experiment's start, which is not before the run's
    done = sorted(rows, key=lambda r: float(r["m:timestamp_gather"]))
    for r in rows:
        submit = float(r["m:timestamp_submit"])
        before = [float(d["duration"]) for d in done
                  if float(d["m:timestamp_gather"]) <= submit]
        if len(before) >= 3:
            assert submit + statistics.median(before[-101:]) <= LIMIT + 0.01, r
    assert all(r["status"] == "ok" for r in rows)


def test_replayed_tc1_curves_under_asha(tmp_path):
    """asbench.runners.tc1_replay as a --model-cmd (the bench's replay part): every
    evaluation gets the measured curve of its nearest point, asha stops some of
    them before the last epoch, and what finished is the curve's last value."""
    from asbench import bench_env
    from asbench.runners import tc1_replay
    from async_search import expfiles, load_problem

    problem = load_problem(str(tc1_replay.PROBLEM))
    replay = tc1_replay.Replay(tc1_replay.read_curves(tc1_replay.CURVES, problem.space.names),
                               problem)
    exp_dir = tmp_path / "exp"
    search = run_search(exp_dir, "--problem", str(tc1_replay.PROBLEM), "--model-cmd",
                        f"{PYTHON} -m asbench.runners.tc1_replay --sleep 0.02",
                        "--max-evals", "15", "--seed", "3", "--stopper", "asha",
                        "--stopper-max-step", "27", nprocs=4, env=bench_env(base=mpi_env()))
    assert search.proc.returncode == 0, search.proc.stderr
    rows = read_results(exp_dir)
    assert len(rows) == 15
    assert any(r["status"] == "stopped" for r in rows), "nothing was stopped"
    issued = expfiles.read_points(exp_dir / expfiles.POINTS)  # the points as sent
    for r in rows:
        curve = replay.curve(json.loads(issued[r["job_id"]]))
        steps = int(r["steps"])
        if r["status"] == "ok":
            assert steps == 27 and math.isclose(float(r["objective"]), curve[-1],
                                                rel_tol=1e-5), r
        else:
            assert r["status"] == "stopped" and steps < 27, r
            assert math.isclose(float(r["objective"]), curve[steps - 1], rel_tol=1e-5), r
