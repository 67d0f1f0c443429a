"""SITE slurm for real: a single-node Slurm on this machine, a search through sbatch.

The module fixture starts Slurm with tests/slurm/start-slurm.sh (munged,
slurmctld and slurmd by hand, no systemd; reused when already running) and
stops it at the end with tests/slurm/stop-slurm.sh --release (left running
while another test session still uses it). It needs root and Debian's
slurm-wlm and munge (bin/install-deps test). A machine where Slurm cannot
start fails here with the scripts' evidence; ASYNC_SEARCH_SKIP_SLURM=1 turns
that into a visible skip.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, mpi_env, model_cmd, read_results

SCRIPT = ROOT / "bin" / "async-search-run"
START = ROOT / "tests" / "slurm" / "start-slurm.sh"
STOP = ROOT / "tests" / "slurm" / "stop-slurm.sh"
PROBLEM = str(ROOT / "problems" / "as_problem.py")
RUN_TIMEOUT = 180  # seconds for one search through Slurm (a few seconds when well)


@pytest.fixture(scope="module")
def slurm_env():
    if os.environ.get("ASYNC_SEARCH_SKIP_SLURM") == "1":
        pytest.skip("ASYNC_SEARCH_SKIP_SLURM=1: the real-Slurm tests are switched off")
    holder = str(os.getpid())
    started = time.monotonic()
    try:
        proc = subprocess.run([str(START), "--hold", holder], capture_output=True, text=True,
                              timeout=150)
    except subprocess.TimeoutExpired as e:
        subprocess.run([str(STOP), "--release", holder], capture_output=True, timeout=120)
        pytest.fail(f"tests/slurm/start-slurm.sh did not finish in 150 s: {e.stderr}")
    if proc.returncode != 0:
        pytest.fail("Slurm could not be started on this machine "
                    f"(tests/slurm/start-slurm.sh exit {proc.returncode}):\n{proc.stderr}")
    conf = [line.split("=", 1)[1] for line in proc.stdout.splitlines()
            if line.startswith("SLURM_CONF=")]
    assert conf, f"start-slurm.sh printed no SLURM_CONF line: {proc.stdout!r}"
    env = mpi_env()
    for var in [v for v in env if v.startswith(("SLURM_", "SBATCH_", "SRUN_", "SALLOC_"))]:
        del env[var]  # a test session inside a Slurm job must not leak its own
    for var in ("QUEUE", "PROJECT", "WAIT", "DRY_RUN", "JOB_SETUP", "GPUS_PER_NODE",
                "RANKS_PER_EVAL", "SHARE_GPUS"):
        env.pop(var, None)
    env["SLURM_CONF"] = conf[0]
    print(f"Slurm ready in {time.monotonic() - started:.1f} s: {proc.stderr.strip()}")
    yield env
    subprocess.run([str(STOP), "--release", holder], capture_output=True, text=True,
                   timeout=120)


def slurm_log_tail(env: dict, lines: int = 20) -> str:
    log_dir = Path(env["SLURM_CONF"]).parent / "log"
    out = []
    for name in ("slurmctld.log", "slurmd.log"):
        path = log_dir / name
        if path.exists():
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {path}\n" + "\n".join(tail))
    return "\n".join(out)


def job_state(env: dict, job_id: str) -> str:
    proc = subprocess.run(["scontrol", "show", "job", "-o", job_id], capture_output=True,
                          text=True, env=env, timeout=30)
    for word in proc.stdout.split():
        if word.startswith("JobState="):
            return word.split("=", 1)[1]
    return "UNKNOWN"


def cancel_job(env: dict, exp: Path) -> None:
    """Cancel the experiment's job if it is still queued or running."""
    id_file = exp / "job_id"
    if id_file.exists():
        job_id = id_file.read_text().strip()
        if job_state(env, job_id) in ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING"):
            subprocess.run(["scancel", job_id], env=env, timeout=30)


def run_slurm(env: dict, tmp_path: Path, expid: str, timeout: float = RUN_TIMEOUT,
              model: str = "as", **extra: str) -> tuple:
    full = dict(env)
    full.update(EXPERIMENTS=str(tmp_path / "experiments"), PROBLEM=PROBLEM,
                MODEL_CMD=model_cmd("quadratic.py"), MAX_EVALS="8", PROCS="4", PPN="4",
                WALLTIME="00:05:00", WAIT="1", WAIT_POLL="0.5")
    full.update(extra)
    exp = tmp_path / "experiments" / expid
    try:
        proc = subprocess.run([str(SCRIPT), model, "slurm", expid], capture_output=True,
                              text=True, timeout=timeout, env=full)
    except subprocess.TimeoutExpired as e:
        cancel_job(env, exp)
        pytest.fail(f"the search through Slurm took more than {timeout} s (job cancelled)\n"
                    f"stdout: {e.stdout}\nstderr: {e.stderr}\n"
                    f"output.txt: {read(exp / 'output.txt')}\n{slurm_log_tail(env)}")
    except BaseException:
        cancel_job(env, exp)
        raise
    return proc, exp


def check_search(proc, exp: Path, env: dict, max_evals: int) -> None:
    where = (f"\nstdout: {proc.stdout}\nstderr: {proc.stderr}\n"
             f"output.txt: {read(exp / 'output.txt')}\n{slurm_log_tail(env)}")
    assert proc.returncode == 0, f"exit {proc.returncode}" + where
    rows = read_results(exp)
    assert len(rows) == max_evals, where
    assert all(r["status"] == "ok" for r in rows), where
    assert (exp / "job.slurm").is_file()
    assert (exp / "exit_status").read_text().strip() == "0"
    output = (exp / "output.txt").read_text()
    assert "best objective" in output, where
    assert "async-search: experiment" in output, where


def test_search_through_sbatch_and_srun(slurm_env, tmp_path):
    proc, exp = run_slurm(slurm_env, tmp_path, "s1")
    check_search(proc, exp, slurm_env, 8)
    job_id = (exp / "job_id").read_text().strip()
    assert f"async-search-run: submitted job {job_id} ({exp}/job.slurm)" in proc.stdout
    assert "best objective" in proc.stdout  # the output is shown while waiting
    script = (exp / "job.slurm").read_text()
    assert "#SBATCH --ntasks=4\n" in script and "\nsrun --ntasks=4 " in script
    assert f"#SBATCH --output={exp}/output.txt\n" in script
    assert job_state(slurm_env, job_id) == "COMPLETED"
    # 3 workers: 4 MPI ranks really ran (rank 0 manages)
    workers = {r["worker"] for r in read_results(exp)}
    assert workers <= {"1", "2", "3"} and len(workers) >= 2, workers


def test_the_original_cfg_files_through_slurm(slurm_env, tmp_path):
    """Supervisor's cfg-prm-1.sh and cfg-sys-biowulf.sh forms, unchanged (N_JOBS=-1,
    THRESHOLD_WINDOW='', WALLTIME=00:60:00, SH_TIMEOUT empty, BENCHMARK_TIMEOUT=-1),
    the original's problem form; one node here, so PPN=PROCS."""
    fixtures = ROOT / "tests" / "fixtures" / "supervisor"
    env = {k: v for k, v in slurm_env.items()
           if k not in ("MAX_EVALS", "SH_TIMEOUT", "BENCHMARK_TIMEOUT", "N_JOBS")}
    proc, exp = run_slurm(env, tmp_path, "orig", model="example",
                          CFG_PRM=str(fixtures / "cfg-prm-1.sh"),
                          CFG_SYS=str(fixtures / "cfg-sys-biowulf.sh"),
                          PROBLEM=str(fixtures / "problem_example.py"), MODEL_CMD="",
                          MAX_EVALS="", WALLTIME="", PROCS="", PPN="4")
    check_search(proc, exp, slurm_env, 8)
    script = (exp / "job.slurm").read_text()
    assert "#SBATCH --time=01:00:00\n" in script  # the file's 00:60:00
    assert "--n-jobs -1" in script and "--sh-timeout -1" in script
    job_id = (exp / "job_id").read_text().strip()
    assert (exp / "jobid.txt").read_text().strip() == job_id  # the original's queue_wait
    cfg = json.loads((exp / "config.json").read_text())
    assert (cfg["workers"], cfg["n_jobs"], cfg["sh_timeout"]) == (3, -1, 0)


def test_search_through_mpiexec_in_the_allocation(slurm_env, tmp_path):
    proc, exp = run_slurm(slurm_env, tmp_path, "m1", SLURM_LAUNCHER="mpiexec", PROCS="3",
                          PPN="3", MAX_EVALS="5")
    check_search(proc, exp, slurm_env, 5)
    assert "\nmpiexec -n 3 --oversubscribe --bind-to none " in (exp / "job.slurm").read_text()


@pytest.mark.parametrize("launcher", ["srun", "mpiexec"])
def test_teams_of_two_ranks(slurm_env, tmp_path, launcher):
    """RANKS_PER_EVAL=2 without GPUs: PPN=4 workers (two teams) and the
    manager as a fifth task; the job writes the host of each rank, and srun
    (--distribution=arbitrary) or Open MPI's mpiexec (--map-by seq) places
    them."""
    proc, exp = run_slurm(slurm_env, tmp_path, f"t-{launcher}", PROCS="5", PPN="4",
                          RANKS_PER_EVAL="2", MAX_EVALS="6", SLURM_LAUNCHER=launcher)
    check_search(proc, exp, slurm_env, 6)
    script = (exp / "job.slurm").read_text()
    assert "#SBATCH --nodes=1\n#SBATCH --ntasks-per-node=5\n" in script
    assert "#SBATCH --ntasks=" not in script
    if launcher == "srun":
        assert "\nsrun --ntasks=5 --distribution=arbitrary " in script
    else:
        assert f"\nmpiexec -n 5 --hostfile {exp}/hostfile --map-by seq " in script
    hosts = (exp / "hostfile").read_text().split()
    assert len(hosts) == 5 and len(set(hosts)) == 1, hosts
    config = json.loads((exp / "config.json").read_text())
    assert (config["ranks_per_eval"], config["workers"], len(config["ranks"])) == (2, 2, 4)
    log = (exp / "manager.log").read_text()
    assert "team 1 member 1" in log and "team 2 member 1" in log, log
    assert {r["worker"] for r in read_results(exp)} <= {"1", "2"}  # the two teams


def test_failed_search_returns_its_status(slurm_env, tmp_path):
    proc, exp = run_slurm(slurm_env, tmp_path, "f1", MODEL_CMD="/bin/false", MAX_FAILURES="2",
                          PROCS="3", PPN="3", MAX_EVALS="5")
    status = read(exp / "exit_status").strip()
    assert status.isdigit() and status != "0", proc.stderr
    assert proc.returncode == int(status), proc.stdout + proc.stderr
    assert f"the search exited with status {status}" in proc.stderr
    assert "no evaluation succeeded" in (exp / "output.txt").read_text()


def test_without_wait_the_job_id_is_printed(slurm_env, tmp_path):
    proc, exp = run_slurm(slurm_env, tmp_path, "n1", WAIT="0", MAX_EVALS="4", PROCS="3",
                          PPN="3")
    try:
        assert proc.returncode == 0, proc.stderr
        job_id = (exp / "job_id").read_text().strip()
        assert job_id.isdigit()
        assert proc.stdout.strip().endswith(
            f"submitted job {job_id} ({exp}/job.slurm); output in {exp}/output.txt")
        deadline = time.monotonic() + RUN_TIMEOUT
        while job_state(slurm_env, job_id) not in ("COMPLETED", "FAILED", "CANCELLED",
                                                   "TIMEOUT", "NODE_FAIL"):
            assert time.monotonic() < deadline, f"job {job_id} still not done\n" + \
                slurm_log_tail(slurm_env)
            time.sleep(0.5)
        assert job_state(slurm_env, job_id) == "COMPLETED", read(exp / "output.txt")
        assert len(read_results(exp)) == 4
    finally:
        cancel_job(slurm_env, exp)


def test_interrupted_wait_cancels_the_job(slurm_env, tmp_path):
    full = dict(slurm_env)
    full.update(EXPERIMENTS=str(tmp_path / "experiments"), PROBLEM=PROBLEM,
                MODEL_CMD=model_cmd("quadratic.py", "--sleep", "60"), MAX_EVALS="4",
                PROCS="3", PPN="3", WALLTIME="00:05:00", WAIT="1", WAIT_POLL="0.5")
    exp = tmp_path / "experiments" / "c1"
    proc = subprocess.Popen([str(SCRIPT), "as", "slurm", "c1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=full)
    try:
        deadline = time.monotonic() + 60
        while not (exp / "run").is_dir():
            assert time.monotonic() < deadline, "the search did not start\n" + \
                slurm_log_tail(slurm_env)
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.2)
        job_id = (exp / "job_id").read_text().strip()
        assert job_state(slurm_env, job_id) == "RUNNING"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 143, out + err
        assert f"interrupted: cancelling job {job_id}" in err
        deadline = time.monotonic() + 60
        while job_state(slurm_env, job_id) != "CANCELLED":
            assert time.monotonic() < deadline, job_state(slurm_env, job_id)
            time.sleep(0.3)
    finally:
        if proc.poll() is None:
            proc.kill()
        cancel_job(slurm_env, exp)


def read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as e:
        return f"({path}: {e})"
