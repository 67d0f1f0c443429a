"""--simulate: the real manager, policy, journal and optimizer thread
against virtual workers in one process."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import BINARY, PROBLEMS, ROOT, read_results, run_binary

SLOW = str(PROBLEMS / "problem_slow.py")
HERE = Path(__file__).parent


def figures(stdout: str) -> dict:
    m = re.search(r"utilisation ([\d.]+)%: (\d+) busy worker-seconds of (\d+) workers x "
                  r"([\d.]+) s", stdout)
    assert m, stdout
    return {"utilisation": float(m.group(1)), "workers": int(m.group(3)),
            "wall": float(m.group(4))}


def test_simulation_writes_a_real_journal(tmp_path):
    exp = tmp_path / "exp"
    proc = run_binary("--simulate", "40", "--simulate-duration", "0.2",
                      "--simulate-distribution", "exp", "--time-limit", "4",
                      "--problem", str(ROOT / "problems" / "as_problem.py"),
                      "--optimizer", "random", "--num-buffer", "40", "--exp-dir", str(exp))
    assert proc.returncode == 0, proc.stderr
    rows = read_results(exp)
    # ideally about 40 workers x 4 s / 0.2 s = 800 rows; on a busy machine the
    # manager gets less of a core, so ask only for many waves
    assert len(rows) > 5 * 40
    assert {int(r["worker"]) for r in rows} <= set(range(1, 41))
    assert len({r["worker"] for r in rows}) == 40
    durations = [float(r["duration"]) for r in rows]
    assert 0.1 < sum(durations) / len(durations) < 0.35  # exponential, mean 0.2
    assert max(durations) > 0.4 and min(durations) < 0.05
    assert all(float(r["m:timestamp_gather"]) <= 4.5 for r in rows)
    f = figures(proc.stdout)
    # the figure is what it says: busy worker-seconds over workers x wall
    # (its level is measured by bench/asbench/runners/scale.py, not here)
    m = re.search(r"(\d+) busy worker-seconds", proc.stdout)
    assert f["workers"] == 40
    assert abs(f["utilisation"] - 100 * int(m.group(1)) / (40 * f["wall"])) < 2.5
    assert 0 < f["utilisation"] <= 100
    assert "evaluations this run:" in proc.stdout and "optimizer:" in proc.stdout


def test_user_objective_and_failures(tmp_path):
    exp = tmp_path / "exp"
    proc = run_binary("--simulate", "8", "--simulate-duration", "0.05", "--max-evals", "60",
                      "--simulate-objective", f"{HERE / 'objectives.py'}:half_fail",
                      "--problem", SLOW, "--optimizer", "random", "--exp-dir", str(exp))
    assert proc.returncode == 0, proc.stderr
    rows = read_results(exp)
    assert len(rows) == 60
    for r in rows:
        x, y = float(r["p:x"]), float(r["p:y"])
        if x > 0.5:
            assert r["status"] == "failed" and r["objective"] == "nan"
        else:
            assert r["status"] == "ok"
            assert abs(float(r["objective"]) - ((x - 0.25) ** 2 + y ** 2)) < 1e-12


def test_simulation_flags_are_checked(tmp_path):
    base = ["--problem", SLOW, "--exp-dir", str(tmp_path / "e")]
    cases = [
        (["--simulate", "10", "--simulate-duration", "1"], "--simulate needs --time-limit"),
        (["--simulate", "10", "--time-limit", "5", "--model", "tc1"], "--simulate runs no model"),
        (["--simulate", "10", "--time-limit", "5", "--simulate-distribution", "gamma"],
         "--simulate-distribution: 'gamma' is not a distribution"),
        (["--simulate", "10", "--time-limit", "5", "--simulate-duration", "0"],
         "--simulate-duration: 0 is out of range"),
        (["--simulate", "-1", "--time-limit", "5"], "--simulate: -1 is out of range"),
        (["--simulate", "10", "--time-limit", "5", "--simulate-objective", "nomodule:f"],
         "importing 'nomodule' failed"),
    ]
    for args, message in cases:
        proc = run_binary(*args, *base)
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1
    assert BINARY.exists()


@pytest.mark.parametrize("stopper", ["asha", "median", "lce"])
def test_every_stopper_runs_on_1000_virtual_workers(tmp_path, stopper):
    # under a stopper the virtual workers report learning curves (steps 1..27,
    # the last one the objective): the stopper ends some early, the others
    # run to their end, and every row says which
    exp = tmp_path / "exp"
    proc = run_binary("--simulate", "1000", "--simulate-duration", "0.3",
                      "--max-evals", "2500", "--stopper", stopper, "--no-report",
                      "--problem", str(ROOT / "problems" / "as_problem.py"),
                      "--optimizer", "random", "--exp-dir", str(exp))
    assert proc.returncode == 0, proc.stderr
    rows = read_results(exp)
    assert len(rows) == 2500
    stopped = [r for r in rows if r["status"] == "stopped"]
    ok = [r for r in rows if r["status"] == "ok"]
    assert stopped and ok and len(stopped) + len(ok) == len(rows)
    assert all(int(r["steps"]) == 27 for r in ok)
    assert all(1 <= int(r["steps"]) < 27 for r in stopped)
    curves = (exp / "intermediate.csv").read_text().splitlines()
    assert len(curves) - 1 == sum(int(r["steps"]) for r in rows)
    # a completed curve ends at its objective
    last = {}
    for line in curves[1:]:
        job, step, value = line.split(",")[:3]
        last[job] = (int(step), float(value))
    for r in ok[:50]:
        assert last[r["job_id"]][0] == 27
        assert abs(last[r["job_id"]][1] - float(r["objective"])) < 1e-9
