"""Reusing what is known, with the real binary under mpiexec: --enqueue, --warm-start,
the problem's starting point, a kill -9 and --restart (docs/reuse.md)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from conftest import BINARY, model_cmd, mpi_env, mpiexec, read_results, run_search

PROBLEM = """class Problem:
    def __init__(self):
        self.space = {"x": (0.0, 1.0), "y": (0.0, 1.0)}
        self.params = self.space.keys()
"""


def _problem(tmp_path: Path, start: str = "") -> str:
    path = tmp_path / "problem_xy.py"
    path.write_text(PROBLEM + (f"        self.starting_point = {start}\n" if start else ""))
    return str(path)


def _enqueue(tmp_path: Path, points: list, header=("p:x", "y")) -> str:
    path = tmp_path / "enqueue.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(points)
    return str(path)


def _issued(exp_dir: Path) -> list:
    """points.log's points in order."""
    return [json.loads(line.partition("\t")[2])
            for line in (exp_dir / "points.log").read_text().splitlines()]


def _evaluated(exp_dir: Path) -> list:
    return [(float(r["p:x"]), float(r["p:y"])) for r in read_results(exp_dir)]


def _args(problem: str, *more: str, sleep: str = "0") -> list:
    return ["--problem", problem, "--model-cmd", model_cmd("quadratic.py", "--sleep", sleep),
            "--no-report", *more]


ENQUEUED = [(0.1, 0.9), (0.2, 0.8), (0.3, 0.7), (0.4, 0.6), (0.5, 0.5), (0.6, 0.4)]


def test_starting_point_then_enqueued_points_first_in_order_and_once(tmp_path):
    exp = tmp_path / "exp"
    problem = _problem(tmp_path, "[0.05, 0.05]")
    enq = _enqueue(tmp_path, ENQUEUED + [ENQUEUED[0]])
    s = run_search(exp, *_args(problem, "--enqueue", enq, "--max-evals", "10"), nprocs=3)
    assert s.proc.returncode == 0, s.proc.stderr
    issued = [(p["x"], p["y"]) for p in _issued(exp)]
    assert issued[:7] == [(0.05, 0.05)] + ENQUEUED
    evaluated = _evaluated(exp)
    assert len(evaluated) == 10 and len(set(evaluated)) == 10
    assert s.config["reuse"]["starting_point"] == {"x": 0.05, "y": 0.05}


def _earlier(tmp_path: Path, problem: str, n: int = 6) -> Path:
    old = tmp_path / "old"
    s = run_search(old, *_args(problem, "--max-evals", str(n)), nprocs=3)
    assert s.proc.returncode == 0, s.proc.stderr
    return old


def test_warm_rows_are_not_in_results_and_config_json_says_where_from(tmp_path):
    problem = _problem(tmp_path)
    old = _earlier(tmp_path, problem)
    exp = tmp_path / "exp"
    s = run_search(exp, *_args(problem, "--warm-start", str(old), "--max-evals", "4"), nprocs=3)
    assert s.proc.returncode == 0, s.proc.stderr
    before = set(_evaluated(old))
    after = _evaluated(exp)
    assert len(after) == 4 and not before & set(after)
    record = s.config["reuse"]["warm_start"]
    assert record["rows"] == 6 and record["sources"][0]["source"] == str(old)
    assert f"warm start from {old}: 6 point(s)" in (exp / "manager.log").read_text()


def _start(exp: Path, *args: str) -> subprocess.Popen:
    cmd = mpiexec(3) + [str(BINARY), *args]
    return subprocess.Popen(cmd, env=mpi_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def _kill_job(proc: subprocess.Popen, exp: Path) -> None:
    """kill -9 of mpiexec's session and of every rank of this experiment."""
    os.killpg(proc.pid, signal.SIGKILL)
    for pid in os.listdir("/proc"):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes() if pid.isdigit() else b""
        except OSError:
            continue
        if b"build/async-search" in cmd and str(exp).encode() in cmd:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
    proc.communicate()


def test_kill_minus_nine_then_restart_evaluates_nothing_twice_and_skips_nothing(tmp_path):
    problem = _problem(tmp_path)
    old = _earlier(tmp_path, problem)
    exp = tmp_path / "exp"
    enq = _enqueue(tmp_path, ENQUEUED)
    common = _args(problem, "--enqueue", enq, "--warm-start", str(old), "--max-evals", "10",
                   sleep="0.5")
    proc = _start(exp, "--exp-dir", str(exp), *common)
    deadline = time.monotonic() + 120
    while not (exp / "results.csv").exists() or len(read_results(exp)) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the search did not get going"
        time.sleep(0.05)
    _kill_job(proc, exp)
    done_before = len(read_results(exp))
    assert done_before < 10
    s = run_search(exp, "--restart", str(exp), *common, nprocs=3)
    assert s.proc.returncode == 0, s.proc.stderr
    evaluated = _evaluated(exp)
    assert len(evaluated) == 10 and len(set(evaluated)) == 10  # nothing twice
    assert set(ENQUEUED) <= set(evaluated)                      # no enqueued point skipped
    assert not set(_evaluated(old)) & set(evaluated)           # warm rows not in results
    assert s.config["reuse"]["warm_start"]["rows"] == 6         # told again at the restart
    assert s.config["restart"] == 2


def test_bad_input_exits_2_with_one_line_and_creates_nothing(tmp_path):
    problem = _problem(tmp_path)
    exp = tmp_path / "exp"
    enq = _enqueue(tmp_path, [(0.1, 0.2), (0.3, 1.5)])
    s = run_search(exp, *_args(problem, "--enqueue", enq, "--max-evals", "4"), nprocs=2)
    assert s.proc.returncode == 2
    errors = [line for line in s.proc.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "row 2, column y" in errors[0] and enq in errors[0]
    assert not exp.exists()
    s = run_search(exp, *_args(problem, "--warm-start", str(tmp_path / "nope")), nprocs=2)
    assert s.proc.returncode == 2 and "--warm-start" in s.proc.stderr
    assert not exp.exists()
