"""Evaluations run by teams of ranks (--ranks-per-eval K) under mpiexec, and
the GPU mapping: the distributed environment each member gets, where its
output goes, the team as one worker for the manager, a member that crashes,
hangs or is killed, a stopper that halts a team, a restart, --simulate, and
the refusal of shared GPUs."""

from __future__ import annotations

import json
import os
import re
import textwrap
from pathlib import Path

import pytest

from conftest import model_cmd, read_results, run_search

MODEL_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR",
             "MASTER_PORT")


def write_problem(tmp_path: Path) -> str:
    path = tmp_path / "problem_team.py"
    path.write_text(textwrap.dedent("""\
        from collections import OrderedDict


        class Problem():
            def __init__(self):
                space = OrderedDict()
                space['x'] = (0.0, 10.0)
                self.space = space
                self.params = self.space.keys()
                self.starting_point = [1.0]


        if __name__ == '__main__':
            print(Problem().space)
        """))
    return str(path)


def member_envs(run: Path, k: int) -> list:
    """env.json of every member of the evaluation in run, by member index."""
    files = [run / "env.json"] + [run / f"rank{i}" / "env.json" for i in range(1, k)]
    return [json.loads(f.read_text()) for f in files]


def log_of(exp_dir: Path) -> str:
    return (exp_dir / "manager.log").read_text()


def reasons(exp_dir: Path) -> dict:
    """job id -> the reason manager.log gives for its failure or timeout."""
    found = {}
    for line in log_of(exp_dir).splitlines():
        m = re.search(r" (\d+_\d+_\d+) (failed|timeout)(.*)$", line)
        if m:
            found.setdefault(m.group(1), []).append(m.group(2) + m.group(3))
    return found


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("k,nprocs", [(2, 5), (3, 7)])
def test_each_member_runs_the_model_with_the_distributed_environment(tmp_path, k, nprocs):
    exp_dir = tmp_path / "exp"
    search = run_search(exp_dir, "--problem", write_problem(tmp_path), "--model-cmd",
                        model_cmd("team.py", "--gloo"), "--ranks-per-eval", str(k),
                        "--max-evals", "6", nprocs=nprocs)
    assert search.proc.returncode == 0, search.proc.stderr
    rows = read_results(exp_dir)
    assert len(rows) == 6 and len({r["job_id"] for r in rows}) == 6
    assert all(r["status"] == "ok" for r in rows)
    # the manager sees two teams as two workers
    teams = (nprocs - 1) // k
    assert {int(r["worker"]) for r in rows} <= set(range(1, teams + 1))
    assert search.config["workers"] == teams and search.config["ranks_per_eval"] == k
    assert f"{teams} workers" in search.proc.stdout
    for r in rows:
        run = exp_dir / "run" / r["job_id"]
        envs = member_envs(run, k)
        assert [e["env"]["RANK"] for e in envs] == [str(i) for i in range(k)]
        assert [e["env"]["LOCAL_RANK"] for e in envs] == [str(i) for i in range(k)]
        for e in envs:
            assert e["env"]["WORLD_SIZE"] == e["env"]["LOCAL_WORLD_SIZE"] == str(k)
            assert e["env"]["MASTER_ADDR"] == "127.0.0.1"  # one node
            assert e["env"]["MASTER_PORT"] == envs[0]["env"]["MASTER_PORT"]
            assert int(e["env"]["MASTER_PORT"]) > 0
            assert e["params"] == envs[0]["params"]
        # every member's output is kept: rank 0's in the run directory, the
        # others' in rank<i>/; they met over gloo and summed their ranks
        assert envs[0]["cwd"] == str(run)
        assert [Path(e["cwd"]).name for e in envs[1:]] == [f"rank{i}" for i in range(1, k)]
        log0 = (run / "model.log").read_text()
        assert f"ALLREDUCE {k * (k - 1) // 2}" in log0
        for i in range(1, k):
            member_log = (run / f"rank{i}" / "model.log").read_text()
            assert f"rank {i} of {k}" in member_log
            assert "IMPROVE_RESULT" not in member_log
        # the objective is rank 0's
        x = float(envs[0]["params"]["x"])
        assert float(r["objective"]) == pytest.approx((x - 3.0) ** 2)
    # the ranks' map: host, GPU and team of each, in manager.log
    log = log_of(exp_dir)
    for rank in range(1, nprocs):
        team, member = (rank - 1) // k + 1, (rank - 1) % k
        assert f"rank {rank} on " in log
        assert f"GPU none, team {team} member {member}" in log
    assert [m["rank"] for m in search.config["ranks"]] == list(range(1, nprocs))


def test_ranks_that_fill_no_team_are_left_idle_with_a_warning(tmp_path):
    exp_dir = tmp_path / "exp"
    search = run_search(exp_dir, "--problem", write_problem(tmp_path), "--model-cmd",
                        model_cmd("team.py"), "--ranks-per-eval", "3",
                        "--max-evals", "2", nprocs=5)
    assert search.proc.returncode == 0, search.proc.stderr
    assert "1 worker rank(s) are in no team of 3" in log_of(exp_dir)
    rows = read_results(exp_dir)
    assert [r["worker"] for r in rows] == ["1", "1"]
    assert search.config["workers"] == 1
    for r in rows:
        assert len(member_envs(exp_dir / "run" / r["job_id"], 3)) == 3


def test_more_ranks_per_evaluation_than_workers_is_refused(tmp_path):
    exp_dir = tmp_path / "exp"
    search = run_search(exp_dir, "--problem", write_problem(tmp_path), "--model-cmd",
                        model_cmd("team.py"), "--ranks-per-eval", "4",
                        "--max-evals", "2", nprocs=3)
    assert search.proc.returncode == 2
    line = [x for x in search.proc.stderr.splitlines() if "error" in x]
    assert line and "--ranks-per-eval 4: the job has 2 worker ranks" in line[0]
    assert not exp_dir.exists()


def test_a_member_that_crashes_fails_the_evaluation_once(tmp_path):
    exp_dir = tmp_path / "exp"
    search = run_search(exp_dir, "--problem", write_problem(tmp_path), "--model-cmd",
                        model_cmd("team.py", "--gloo", "--crash-rank", "1"),
                        "--ranks-per-eval", "2", "--max-evals", "3", "--fail-fast", "10",
                        nprocs=3)
    assert search.proc.returncode == 4, search.proc.stderr  # nothing succeeded
    rows = read_results(exp_dir)
    assert [r["status"] for r in rows] == ["failed"] * 3
    assert len({r["job_id"] for r in rows}) == 3
    why = reasons(exp_dir)
    for r in rows:
        # one failure, caused by member 1 (world rank 2), not by rank 0 that
        # waited for it at the meeting and was ended
        assert len(why[r["job_id"]]) == 1
        assert "team rank 1 (world rank 2)" in why[r["job_id"]][0]
        run = exp_dir / "run" / r["job_id"]
        assert "crashing on purpose" in (run / "rank1" / "model.log").read_text()
        log0 = (run / "model.log").read_text()
        assert "ALLREDUCE" not in log0
        assert "ended because team rank 1 (world rank 2) failed" in log0
        if (run / "env.json").exists():  # (it may be ended before it wrote it)
            assert not pid_alive(json.loads((run / "env.json").read_text())["pid"])
        # well before gloo's own 600 s timeout would have ended rank 0
        assert float(r["duration"]) < 300


def test_a_member_killed_by_a_signal_fails_the_evaluation(tmp_path):
    exp_dir = tmp_path / "exp"
    search = run_search(exp_dir, "--problem", write_problem(tmp_path), "--model-cmd",
                        model_cmd("team.py", "--gloo", "--kill-rank", "2"),
                        "--ranks-per-eval", "3", "--max-evals", "2", "--fail-fast", "10",
                        nprocs=4)
    assert search.proc.returncode == 4, search.proc.stderr
    rows = read_results(exp_dir)
    assert [r["status"] for r in rows] == ["failed"] * 2
    why = reasons(exp_dir)
    for r in rows:
        assert len(why[r["job_id"]]) == 1
        assert "team rank 2 (world rank 3)" in why[r["job_id"]][0]
        assert "signal 9" in why[r["job_id"]][0] or "SIGKILL" in why[r["job_id"]][0]
        run = exp_dir / "run" / r["job_id"]
        # the others were ended, some perhaps before their Python wrote a file
        for f in [run / "env.json", run / "rank1" / "env.json"]:
            if f.exists():
                assert not pid_alive(json.loads(f.read_text())["pid"])


def test_a_member_that_hangs_times_out_and_the_team_goes_on(tmp_path):
    exp_dir = tmp_path / "exp"
    search = run_search(exp_dir, "--problem", write_problem(tmp_path), "--model-cmd",
                        model_cmd("team.py", "--hang-rank", "1"),
                        "--ranks-per-eval", "2", "--max-evals", "2", "--sh-timeout", "3",
                        "--fail-fast", "10", nprocs=3)
    assert search.proc.returncode == 4, search.proc.stderr
    rows = read_results(exp_dir)
    assert [r["status"] for r in rows] == ["timeout"] * 2
    why = reasons(exp_dir)
    for r in rows:
        assert len(why[r["job_id"]]) == 1
        assert "team rank 1 (world rank 2)" in why[r["job_id"]][0]
        run = exp_dir / "run" / r["job_id"]
        # rank 0 had finished; the member was killed at its SH_TIMEOUT
        assert "IMPROVE_RESULT" in (run / "model.log").read_text()
        assert not pid_alive(member_envs(run, 2)[1]["pid"])


@pytest.mark.parametrize("kind", ["median", "lce"])
def test_a_stopper_halts_every_member_of_a_team(tmp_path, kind):
    exp_dir = tmp_path / "exp"
    search = run_search(exp_dir, "--problem", write_problem(tmp_path), "--model-cmd",
                        model_cmd("team.py", "--steps", "9", "--step-sleep", "0.2"),
                        "--ranks-per-eval", "2", "--max-evals", "10", "--stopper", kind,
                        "--stopper-warmup", "1", "--stopper-min-steps", "2", nprocs=5)
    assert search.proc.returncode == 0, search.proc.stderr
    rows = read_results(exp_dir)
    assert len(rows) == 10
    stopped = [r for r in rows if r["status"] == "stopped"]
    assert stopped, [(r["status"], r["objective"]) for r in rows]
    for r in stopped:
        run = exp_dir / "run" / r["job_id"]
        assert 2 <= int(r["steps"]) < 9
        for i, e in enumerate(member_envs(run, 2)):
            where = run / "model.log" if i == 0 else run / "rank1" / "model.log"
            assert "DONE" not in where.read_text()
            assert not pid_alive(e["pid"])
    for r in rows:
        if r["status"] == "ok":
            assert int(r["steps"]) == 9


def test_a_team_search_restarts(tmp_path):
    exp_dir = tmp_path / "exp"
    common = ["--problem", write_problem(tmp_path), "--model-cmd", model_cmd("team.py"),
              "--ranks-per-eval", "2"]
    first = run_search(exp_dir, *common, "--max-evals", "3", nprocs=5)
    assert first.proc.returncode == 0, first.proc.stderr
    final = run_search(exp_dir, *common, "--max-evals", "6", "--restart", str(exp_dir),
                       nprocs=5)
    assert final.proc.returncode == 0, final.proc.stderr
    rows = read_results(exp_dir)
    assert len(rows) == 6 and len({r["job_id"] for r in rows}) == 6
    assert sum(r["job_id"].startswith("2_") for r in rows) == 3
    for r in rows:
        assert len(member_envs(exp_dir / "run" / r["job_id"], 2)) == 2
    assert final.config["ranks_per_eval"] == 2 and final.config["restart"] == 2


def test_simulate_counts_teams_as_workers(tmp_path):
    exp_dir = tmp_path / "exp"
    search = run_search(exp_dir, "--problem", write_problem(tmp_path), "--simulate", "8",
                        "--ranks-per-eval", "2", "--simulate-duration", "0.01",
                        "--max-evals", "12", "--no-report", nprocs=1)
    assert search.proc.returncode == 0, search.proc.stderr
    rows = read_results(exp_dir)
    assert len(rows) == 12
    assert {int(r["worker"]) for r in rows} <= {1, 2, 3, 4}
    assert search.config["workers"] == 4


def test_workers_sharing_a_gpu_are_refused_unless_asked_for(tmp_path):
    exp_dir = tmp_path / "exp"
    args = ["--problem", write_problem(tmp_path), "--model-cmd", model_cmd("team.py"),
            "--max-evals", "2", "--gpus-per-node", "1"]
    refused = run_search(exp_dir, *args, nprocs=3)
    assert refused.proc.returncode == 2
    errors = [x for x in refused.proc.stderr.splitlines() if "error" in x]
    assert len(errors) == 1
    assert "ranks 1 and 2 would share GPU 0" in errors[0]
    assert "--share-gpus yes" in errors[0]
    assert not exp_dir.exists()  # nothing created
    shared = run_search(exp_dir, *args, "--share-gpus", "yes", nprocs=3)
    assert shared.proc.returncode == 0, shared.proc.stderr
    assert "ranks 1 and 2 share GPU 0" in shared.proc.stderr
    log = log_of(exp_dir)
    assert "rank 1 on " in log and "rank 2 on " in log and log.count(": GPU 0,") == 2
    assert [m["device"] for m in shared.config["ranks"]] == ["0", "0"]
    for r in read_results(exp_dir):
        env = member_envs(exp_dir / "run" / r["job_id"], 1)[0]["env"]
        assert env["CUDA_VISIBLE_DEVICES"] == "0"


def test_one_gpu_per_worker_and_per_member(tmp_path):
    exp_dir = tmp_path / "exp"
    search = run_search(exp_dir, "--problem", write_problem(tmp_path), "--model-cmd",
                        model_cmd("team.py"), "--max-evals", "4", "--gpus-per-node", "4",
                        "--ranks-per-eval", "2", nprocs=5)
    assert search.proc.returncode == 0, search.proc.stderr
    assert [m["device"] for m in search.config["ranks"]] == ["0", "1", "2", "3"]
    for r in read_results(exp_dir):
        envs = member_envs(exp_dir / "run" / r["job_id"], 2)
        devices = [e["env"]["CUDA_VISIBLE_DEVICES"] for e in envs]
        assert devices in (["0", "1"], ["2", "3"])
