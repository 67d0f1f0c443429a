"""Data-parallel TC1 under mpiexec: a search with --ranks-per-eval 2, where each
evaluation is one DistributedDataParallel training by two model processes (the
team's leader in the run directory, its member in run/R_I_J/rank1/), short:
2 evaluations, 2 epochs, 100 genes."""

from __future__ import annotations

import math
import re
from pathlib import Path

from conftest import ROOT, mpi_env, run_search

BENCH = ROOT / "python" / "async_search" / "benchmarks"
EPOCHS = 2


def short_tc1(tmp_path: Path) -> Path:
    text = (BENCH / "tc1_default_model.txt").read_text()
    text = re.sub(r"(?m)^epochs = \d+", f"epochs = {EPOCHS}", text)
    text = re.sub(r"(?m)^feature_subsample = \d+", "feature_subsample = 100", text)
    path = tmp_path / "tc1_default_model.txt"
    path.write_text(text)
    return path


def epoch_values(log: str) -> list:
    """The values of each epoch line, without its time."""
    return re.findall(r"(?m)^Epoch (\d+/\d+) - [0-9.]+s - (.*)$", log)


def test_tc1_search_with_two_ranks_per_evaluation(tmp_path, exp_dir):
    env = mpi_env()
    env["CANDLE_DEFAULT_MODEL_FILE"] = str(short_tc1(tmp_path))
    search = run_search(exp_dir, "--problem", str(ROOT / "problems" / "problem_tc1.py"),
                        "--model", "tc1", "--ranks-per-eval", "2", "--max-evals", "2",
                        "--quiet", nprocs=3, env=env)
    assert search.proc.returncode == 0, search.proc.stdout[-3000:] + search.proc.stderr[-3000:]
    rows = search.rows
    assert len(rows) == 2 and [r["status"] for r in rows] == ["ok", "ok"]
    for row in rows:
        value = float(row["objective"])
        assert math.isfinite(value) and value > 0
        run = exp_dir / "run" / row["job_id"]
        leader = (run / "model.log").read_text()
        member = (run / "rank1" / "model.log").read_text()
        assert "distributed: rank 0 of 2" in leader and "backend gloo" in leader
        assert "distributed: rank 1 of 2" in member
        # one training: both ranks saw the same values in every epoch
        assert len(epoch_values(leader)) == EPOCHS
        assert epoch_values(member) == epoch_values(leader)
        # the leader reports; the member only says so
        assert float((run / "result.txt").read_text()) == value
        assert f"IMPROVE_RESULT {value!r}" in leader
        assert "IMPROVE_" not in member and "rank 0 reports the result" in member
        assert not (run / "rank1" / "result.txt").exists()
        steps = [line for line in (exp_dir / "intermediate.csv").read_text().splitlines()
                 if line.startswith(row["job_id"] + ",")]
        assert len(steps) == EPOCHS
