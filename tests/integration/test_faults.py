"""Nothing lost: model faults, --max-failures, kill -9 and --restart, signals,
torn journal lines, locks. The real binary under mpiexec."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import (BINARY, PROBLEMS, mpi_env, mpiexec, model_cmd, read_results,
                      run_search, experiment_processes, signal_mpiexec, wait_job_end,
                      wait_until)

HERE = Path(__file__).parent
FAULTS = str(PROBLEMS / "problem_faults.py")
SLOW = str(PROBLEMS / "problem_slow.py")
CYCLE = f"{HERE / 'cycle_optimizer.py'}:Cycle"


def no_model_left(pattern: str) -> bool:
    """True when no process whose command line contains pattern is running."""
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if pattern.encode() in cmd and b"pytest" not in cmd:
                return False
    return True


def wait_gone(pattern: str, timeout: float = 15) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if no_model_left(pattern):
            return True
        time.sleep(0.2)
    return False


def no_fork_server_of(exp_dir: Path) -> bool:
    """True when no fork server of this experiment runs: one whose output
    goes to its forkserver-N.log (the machine may run other searches')."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            out = os.readlink(f"/proc/{pid}/fd/1")
        except OSError:
            continue
        if b"async_search.forkserver" in cmd and out.startswith(str(exp_dir) + "/"):
            return False
    return True


def test_every_fault_kind_is_recorded_and_the_search_finishes(exp_dir):
    # 13 fault kinds, each at least twice; SH_TIMEOUT 15 s for the hang (and
    # room for the 40 MB flood and mpi4py's import on a busy machine).
    # Most kinds fail on purpose: --fail-fast 0 keeps the search going even
    # if the first results are all failures.
    search = run_search(exp_dir, "--problem", FAULTS, "--optimizer", CYCLE,
                        "--model-cmd", model_cmd("faulty.py"), "--max-evals", "26",
                        "--sh-timeout", "15", "--fail-fast", "0", nprocs=5, timeout=300)
    assert search.proc.returncode == 0, search.proc.stderr
    rows = search.rows
    assert len(rows) == 26
    by_fault: dict = {}
    for r in rows:
        by_fault.setdefault(r["p:fault"], set()).add(r["status"])
    expected = {"ok": {"ok"}, "flood": {"ok"}, "rmdir": {"ok"}, "mpi": {"ok"},
                "hang": {"timeout"}}
    for fault in ("exit1", "sigkill", "sigabrt", "sigsegv", "nan", "inf", "text", "none"):
        expected[fault] = {"failed"}
    assert by_fault == expected
    for r in rows:
        assert (r["objective"] == "nan") == (r["status"] != "ok")
        run = exp_dir / "run" / r["job_id"]
        if r["p:fault"] == "rmdir":
            continue
        log = (run / "model.log").read_text(errors="replace")
        reason = {"exit1": "exit status 1", "sigkill": "signal 9", "sigabrt": "signal 6",
                  "sigsegv": "signal 11", "nan": "the result is nan", "inf": "the result is inf",
                  "text": "no result", "none": "no result",
                  "hang": "killed after SH_TIMEOUT 15 s (SIGTERM, then SIGKILL)"}.get(r["p:fault"])
        if reason:
            assert reason in log, (r["p:fault"], log[-300:])
        if r["p:fault"] == "flood":
            size = (run / "model.log").stat().st_size
            assert 8 << 20 <= size < (8 << 20) + 1024
            assert "model.log truncated at 8388608 bytes" in log
        if r["p:fault"] == "mpi":
            assert "mpi size 1" in log  # a singleton: it did not join the job
    # the summary counts them
    assert "(8 ok, 16 failed, 2 timeout)" in search.proc.stdout


def test_max_failures_stops_cleanly(exp_dir):
    search = run_search(exp_dir, "--problem", FAULTS, "--optimizer", "random",
                        "--model-cmd", model_cmd("flaky.py", "--fail-every", "1"),
                        "--max-evals", "50", "--max-failures", "4", nprocs=3)
    assert search.proc.returncode == 3
    msg = [line for line in search.proc.stderr.splitlines() if "--max-failures 4" in line]
    assert len(msg) == 1 and "stopping" in msg[0]
    rows = search.rows
    assert 4 <= len(rows) < 50
    assert all(r["status"] == "failed" for r in rows)
    assert "this run took" in search.proc.stdout  # the summary is printed


def start_search(exp_dir: Path, *args: str, nprocs: int = 4) -> subprocess.Popen:
    cmd = mpiexec(nprocs) + [str(BINARY), *args]
    return subprocess.Popen(cmd, env=mpi_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_running(proc: subprocess.Popen, exp_dir: Path, timeout: float = 120) -> None:
    """Waits until the search started evaluating (a run directory has its
    params.json), however slow a busy machine is to start it."""
    deadline = time.monotonic() + timeout
    while not list((exp_dir / "run").glob("*/params.json")):
        assert proc.poll() is None, "the search ended before it started evaluating"
        assert time.monotonic() < deadline, "the search did not start evaluating"
        time.sleep(0.1)


def kill_job(proc: subprocess.Popen, exp_dir: Path) -> None:
    """kill -9 of the whole job: mpiexec and every rank (a node failure)."""
    os.killpg(proc.pid, signal.SIGKILL)
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"build/async-search" in cmd and str(exp_dir).encode() in cmd:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
    proc.communicate()


@pytest.mark.parametrize("kill_after", [[0.8, 3.0], [2.2, 4.5, 6.5]])
def test_kill_minus_nine_then_restart_loses_nothing(tmp_path, kill_after):
    exp_dir = tmp_path / "exp"
    model = model_cmd("quadratic.py", "--sleep", "0.7")
    common = ["--problem", SLOW, "--model-cmd", model, "--max-evals", "30"]
    snapshots = []

    def where():
        # killed before the experiment existed: start it (again)
        if (exp_dir / "config.json").exists():
            return ["--restart", str(exp_dir)]
        return ["--exp-dir", str(exp_dir)]

    for delay in kill_after:
        args = where()
        proc = start_search(exp_dir, *common, *args)
        time.sleep(delay)
        kill_job(proc, exp_dir)
        assert wait_gone(str(exp_dir / "run")), "a model outlived its killed job"
        results = exp_dir / "results.csv"
        snapshots.append(results.read_bytes() if results.exists() else b"")
    final = run_search(exp_dir, *common, *where())
    assert final.proc.returncode == 0, final.proc.stderr
    data = (exp_dir / "results.csv").read_bytes()
    for snap in snapshots:
        assert data.startswith(snap)  # rows written before a kill never change
    rows = read_results(exp_dir)
    assert len(rows) == 30
    ids = [r["job_id"] for r in rows]
    assert len(set(ids)) == 30
    restarts = {int(i.split("_")[0]) for i in ids}
    assert max(restarts) <= len(kill_after) + 1
    assert all(r["status"] == "ok" for r in rows)
    # reissued points are the ones that were in flight: same parameters
    points = {}
    for line in (exp_dir / "points.log").read_text().splitlines():
        job, _, text = line.partition("\t")
        points[job] = json.loads(text)
    for r in rows:
        assert points[r["job_id"]] == {"x": float(r["p:x"]), "y": float(r["p:y"])}
    assert 2 <= final.config["restart"] <= len(kill_after) + 1
    assert (exp_dir / "config.1.json").exists()
    # one timeline: timestamps are relative to the first start
    assert max(float(r["m:timestamp_gather"]) for r in rows) > kill_after[0]


def test_restart_tolerates_a_torn_last_line(tmp_path):
    exp_dir = tmp_path / "exp"
    common = ["--problem", SLOW, "--model-cmd", model_cmd("quadratic.py")]
    first = run_search(exp_dir, *common, "--max-evals", "6", nprocs=3)
    assert first.proc.returncode == 0
    results = exp_dir / "results.csv"
    complete = results.read_bytes()
    with open(results, "ab") as f:
        f.write(b"1_9_0,0.25,0.7")  # a write cut by a crash
    again = run_search(exp_dir, *common, "--max-evals", "10", "--restart", str(exp_dir),
                       nprocs=3)
    assert again.proc.returncode == 0, again.proc.stderr
    assert "cut a torn last line of 14 bytes" in again.proc.stderr
    data = results.read_bytes()
    assert data.startswith(complete)
    rows = read_results(exp_dir)
    assert len(rows) == 10 and all(r["status"] == "ok" for r in rows)
    assert {r["job_id"].split("_")[0] for r in rows} == {"1", "2"}


def test_restart_of_a_finished_experiment_adds_only_what_is_missing(tmp_path):
    exp_dir = tmp_path / "exp"
    common = ["--problem", SLOW, "--model-cmd", model_cmd("quadratic.py")]
    assert run_search(exp_dir, *common, "--max-evals", "5", nprocs=3).proc.returncode == 0
    same = run_search(exp_dir, *common, "--max-evals", "5", "--restart", str(exp_dir), nprocs=3)
    assert same.proc.returncode == 0
    assert len(read_results(exp_dir)) == 5
    assert "5 evaluations already finished" in same.proc.stdout
    more = run_search(exp_dir, *common, "--max-evals", "9", "--restart", str(exp_dir), nprocs=3)
    assert more.proc.returncode == 0
    rows = read_results(exp_dir)
    assert len(rows) == 9
    assert sum(r["job_id"].startswith("3_") for r in rows) == 4


def test_restart_refuses_another_problem_and_a_non_experiment(tmp_path):
    exp_dir = tmp_path / "exp"
    common = ["--model-cmd", model_cmd("quadratic.py")]
    assert run_search(exp_dir, "--problem", SLOW, *common, "--max-evals", "3",
                      nprocs=2).proc.returncode == 0
    before = (exp_dir / "results.csv").read_bytes()
    other = run_search(exp_dir, "--problem", FAULTS, *common, "--restart", str(exp_dir),
                       nprocs=2)
    assert other.proc.returncode == 2
    assert "restart with the problem file" in other.proc.stderr
    assert (exp_dir / "results.csv").read_bytes() == before
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = run_search(empty, "--problem", SLOW, *common, "--restart", str(empty), nprocs=2)
    assert nothing.proc.returncode == 2
    assert "not an async-search experiment" in nothing.proc.stderr
    bad_r = run_search(exp_dir, "--problem", SLOW, *common, "--restart", str(exp_dir),
                       "--restart-number", "1", nprocs=2)
    assert bad_r.proc.returncode == 2 and "must be greater than 1" in bad_r.proc.stderr


def test_a_running_experiment_cannot_be_restarted_twice(tmp_path):
    exp_dir = tmp_path / "exp"
    common = ["--problem", SLOW, "--model-cmd", model_cmd("quadratic.py", "--sleep", "4")]
    proc = start_search(exp_dir, *common, "--max-evals", "8", "--exp-dir", str(exp_dir))
    # the first holds the experiment once its evaluations run (however slow
    # this machine is to start it); 8 evaluations of 4 s on 3 workers then
    # leave it running for about 12 s more
    wait_running(proc, exp_dir)
    second = run_search(exp_dir, *common, "--max-evals", "8", "--restart", str(exp_dir),
                        nprocs=2)
    assert second.proc.returncode == 2
    assert "in use by another running search (pid" in second.proc.stderr
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert len(read_results(exp_dir)) == 8


def test_a_stalled_mpiexec_is_killed_only_once_the_job_has_ended(tmp_path):
    # signal_mpiexec's way out of mpiexec's rare hang in its own shutdown
    # (seen with every rank <defunct> under it): stand-ins for mpiexec that
    # ignore SIGTERM, for a rank (its command line) and for a model (its cwd)
    exp_dir = tmp_path / "exp"
    (exp_dir / "run" / "1_1").mkdir(parents=True)

    def stalled():
        return subprocess.Popen(["bash", "-c", "trap '' TERM; sleep 100"],
                                stdout=subprocess.DEVNULL, start_new_session=True)

    def ignores_sigterm(proc):
        status = Path(f"/proc/{proc.pid}/status").read_text()
        mask = int(status.split("SigIgn:")[1].split()[0], 16)
        return mask & (1 << (signal.SIGTERM - 1))

    def listed(kind):
        return experiment_processes(exp_dir, -1)[kind]

    launcher = stalled()
    wait_until(lambda: ignores_sigterm(launcher), 30)
    with pytest.warns(UserWarning, match="mpiexec still running"):
        signal_mpiexec(launcher, exp_dir, signal.SIGTERM, timeout=1)
    assert launcher.returncode == -signal.SIGKILL

    rank = subprocess.Popen(["bash", "-c", f"sleep 100; : build/async-search {exp_dir}"],
                            start_new_session=True)
    model = subprocess.Popen(["sleep", "100"], cwd=exp_dir / "run" / "1_1",
                             start_new_session=True)
    try:
        launcher = stalled()
        wait_until(lambda: ignores_sigterm(launcher) and listed("ranks") and listed("models"), 30)
        with pytest.raises(AssertionError, match="models still running"):
            signal_mpiexec(launcher, exp_dir, signal.SIGTERM, timeout=1)
        model.kill()
        model.wait()
        with pytest.warns(UserWarning), \
                pytest.raises(AssertionError, match="ranks outlived mpiexec"):
            signal_mpiexec(launcher, exp_dir, signal.SIGTERM, timeout=1, rank_grace=1)
    finally:
        for proc in (rank, model, launcher):
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_to_mpiexec_stops_flushes_and_restart_continues(tmp_path, sig):
    exp_dir = tmp_path / "exp"
    model = model_cmd("quadratic.py", "--sleep", "60")
    common = ["--problem", SLOW, "--model-cmd", model, "--max-evals", "6",
              "--init-size", "2"]
    fast = ["--problem", SLOW, "--model-cmd", model_cmd("quadratic.py"), "--max-evals", "6"]
    proc = start_search(exp_dir, *common, "--exp-dir", str(exp_dir))
    wait_running(proc, exp_dir)
    time.sleep(0.5)  # (the first signal may come at any moment; let it be this one)
    # within 40 s, so the 60 s models did not run out: they were ended
    out, err = signal_mpiexec(proc, exp_dir, sig, timeout=40)
    assert proc.returncode != 0
    # mpiexec passes both on to the ranks as SIGTERM
    assert "interrupted by SIGTERM" in err
    assert "this run took" in out  # the summary
    assert wait_gone(str(exp_dir / "run")), "models must end with the job"
    assert len(read_results(exp_dir)) == 0 if (exp_dir / "results.csv").exists() else True
    final = run_search(exp_dir, *fast, "--restart", str(exp_dir))
    assert final.proc.returncode == 0, final.proc.stderr
    rows = read_results(exp_dir)
    assert len(rows) == 6
    assert "reissued" in final.proc.stdout


def test_a_dead_worker_rank_ends_the_job_and_restart_loses_nothing(tmp_path):
    exp_dir = tmp_path / "exp"
    common = ["--problem", SLOW, "--model-cmd", model_cmd("quadratic.py", "--sleep", "0.5"),
              "--max-evals", "20"]
    proc = start_search(exp_dir, *common, "--exp-dir", str(exp_dir))
    wait_running(proc, exp_dir)
    deadline = time.monotonic() + 120
    while not ((exp_dir / "results.csv").exists() and read_results(exp_dir)):
        assert time.monotonic() < deadline, "no result came"
        time.sleep(0.1)
    ranks = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"build/async-search" in cmd and str(exp_dir).encode() in cmd \
                    and b"OMPI_COMM_WORLD_RANK=2" in env:
                ranks.append(int(pid))
    assert len(ranks) == 1
    before = (exp_dir / "results.csv").read_bytes()
    os.kill(ranks[0], signal.SIGKILL)
    out, err = wait_job_end(proc, exp_dir)
    assert proc.returncode != 0  # Open MPI ends the whole job
    assert wait_gone(str(exp_dir / "run"))
    final = run_search(exp_dir, *common, "--restart", str(exp_dir))
    assert final.proc.returncode == 0, final.proc.stderr
    assert (exp_dir / "results.csv").read_bytes().startswith(before)
    assert len(read_results(exp_dir)) == 20


@pytest.mark.parametrize("launch", ["subprocess", "fork-server"])
def test_candle_model_faults_in_both_launch_modes(tmp_path, launch):
    exp_dir = tmp_path / "exp"
    env = mpi_env()
    env["PYTHONPATH"] = str(HERE.parent / "models")
    proc = subprocess.run(
        mpiexec(4) + [str(BINARY), "--exp-dir", str(exp_dir), "--problem",
                      str(PROBLEMS / "problem_candle_faults.py"), "--optimizer", CYCLE,
                      "--model", "candle_faulty", "--launch", launch, "--max-evals", "12",
                      "--sh-timeout", "3"],
        env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = read_results(exp_dir)
    status = {r["p:fault"]: r["status"] for r in rows}
    assert status == {"ok": "ok", "pid": "ok", "raise": "failed", "exit3": "failed",
                      "segv": "failed", "hang": "timeout"}
    for r in rows:
        if r["status"] == "ok":
            assert float(r["objective"]) == 0.25  # x = 0.5 from the cycle optimizer
    logs = {r["p:fault"]: (exp_dir / "run" / r["job_id"] / "model.log").read_text()
            for r in rows}
    assert "the model failed on purpose" in logs["raise"]
    assert "signal 11" in logs["segv"]
    pids = [line.split() for line in logs["pid"].splitlines() if line.startswith("fault pid")]
    if launch == "fork-server":
        # forked from the worker's server, which has imported the model once
        assert (exp_dir / "forkserver-1.log").exists()
        server_pids = {int(p[5]) for p in pids}
        assert all(pid > 0 for pid in server_pids)
    end = time.monotonic() + 15
    while not no_fork_server_of(exp_dir) and time.monotonic() < end:
        time.sleep(0.2)
    assert no_fork_server_of(exp_dir), "fork servers must end with the job"


def test_a_failing_optimizer_stops_the_search_with_its_error(tmp_path):
    exp_dir = tmp_path / "exp"
    search = run_search(exp_dir, "--problem", FAULTS, "--optimizer",
                        f"{HERE / 'cycle_optimizer.py'}:BreaksOnThirdAsk",
                        "--model-cmd", model_cmd("quadratic.py", "--sleep", "0.3"),
                        "--max-evals", "30", "--init-size", "1", nprocs=3, timeout=120)
    assert search.proc.returncode == 1
    errors = [x for x in search.proc.stderr.splitlines() if "error:" in x]
    assert len(errors) == 1
    assert "optimizer ask: RuntimeError: the optimizer broke on purpose" in errors[0]
    assert "Traceback" not in search.proc.stderr  # the traceback is in manager.log
    assert "Traceback" in (exp_dir / "manager.log").read_text()
    assert wait_gone(str(exp_dir / "run"))
    rows = read_results(exp_dir)
    assert 0 < len(rows) < 30  # what finished is kept; --restart continues


BROKEN_MODEL = textwrap.dedent("""\
    import sys
    print("loading the data", flush=True)
    raise SystemExit("FileNotFoundError: no such file: /data/Pilot1/train.csv")
    """)


def test_a_model_that_always_fails_stops_the_search_early(tmp_path):
    model = tmp_path / "broken.py"
    model.write_text(BROKEN_MODEL)
    search = run_search(tmp_path / "exp", "--problem", SLOW, "--model-cmd",
                        f"{sys.executable} {model}", "--max-evals", "40", nprocs=4)
    assert search.proc.returncode == 4, search.proc.stderr
    rows = search.rows
    # the first max(5, 3 workers) results all failed: stopped there, long before 40
    assert 5 <= len(rows) < 40 and all(r["status"] == "failed" for r in rows)
    err = search.proc.stderr
    assert "the first 5 evaluations all failed" in err and "--fail-fast 5" in err
    # the warnings and the final line show the model's own last words
    assert "exit status 1: FileNotFoundError: no such file: /data/Pilot1/train.csv" in err
    assert "no evaluation succeeded" in search.proc.stdout


def test_fail_fast_0_runs_everything_and_still_says_nothing_succeeded(tmp_path):
    search = run_search(tmp_path / "exp", "--problem", SLOW, "--model-cmd", "/bin/false",
                        "--max-evals", "8", "--fail-fast", "0", nprocs=3)
    assert search.proc.returncode == 4, search.proc.stderr
    assert len(search.rows) == 8
    assert "error: no evaluation succeeded; the last, " in search.proc.stderr


def test_fail_fast_waits_for_one_result_per_worker(tmp_path):
    # 6 workers: the first 6 failures (one wave), not 5, decide
    search = run_search(tmp_path / "exp", "--problem", SLOW, "--model-cmd", "/bin/false",
                        "--max-evals", "30", nprocs=7)
    assert search.proc.returncode == 4
    assert "the first 6 evaluations all failed" in search.proc.stderr


def test_no_point_is_evaluated_twice_across_restarts(tmp_path):
    # 8 mixed dimensions; the job is stopped three times while evaluations run
    # and points wait in the buffer, then finished. Every restart reissues what
    # was in flight; none may propose an issued point again.
    exp_dir = tmp_path / "exp"
    common = ["--problem", str(PROBLEMS / "problem_mixed8.py"), "--max-evals", "24",
              "--model-cmd", model_cmd("quadratic.py", "--sleep", "1"), "--num-buffer", "3"]
    where = ["--exp-dir", str(exp_dir)]
    for stop in range(3):
        proc = start_search(exp_dir, *common, *where, nprocs=4)
        rows_before = len(read_results(exp_dir)) if (exp_dir / "results.csv").exists() else 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # until this run wrote 2 rows of its own
            done = (exp_dir / "results.csv").exists() and \
                len(read_results(exp_dir)) >= rows_before + 2
            if done or proc.poll() is not None:
                break
            time.sleep(0.2)
        signal_mpiexec(proc, exp_dir, signal.SIGTERM)
        where = ["--restart", str(exp_dir)]
    final = run_search(exp_dir, *common, *where, nprocs=4)
    assert final.proc.returncode == 0, final.proc.stderr
    rows = read_results(exp_dir)
    assert len(rows) == 24
    params = [tuple(v for k, v in r.items() if k.startswith("p:")) for r in rows]
    assert len(set(params)) == len(params), "a point was evaluated twice"
    assert len({r["job_id"] for r in rows}) == 24
    assert {r["job_id"].split("_")[0] for r in rows} >= {"1", "4"}


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB file system of its own (tmpfs), as a full scratch or quota."""
    mount = tmp_path / "small"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_full_disk_stops_the_search_without_recording_failures(small_disk):
    exp_dir = small_disk / "exp"
    common = ["--problem", SLOW, "--model-cmd", model_cmd("chatty.py", "40"),
              "--max-evals", "60", "--no-report"]
    search = run_search(exp_dir, *common, nprocs=3)
    assert search.proc.returncode == 5, search.proc.stdout + search.proc.stderr
    err = search.proc.stderr
    assert "the experiment's storage failed" in err and "No space left on device" in err
    assert f"--restart {exp_dir}" in err
    raw = (exp_dir / "results.csv").read_bytes()
    assert raw.endswith(b"\n")  # no torn line
    rows = read_results(exp_dir)
    assert 0 < len(rows) < 60
    # a full disk is not a failed model: no row says so, none counts
    assert all(r["status"] == "ok" for r in rows), [r for r in rows if r["status"] != "ok"]
    # space is back (the model logs go): --restart runs what was not recorded
    for log in (exp_dir / "run").glob("*/model.log"):
        log.unlink()
    more = len(rows) + 4
    final = run_search(exp_dir, "--problem", SLOW, "--model-cmd", model_cmd("chatty.py", "1"),
                       "--max-evals", str(more), "--no-report", "--restart", str(exp_dir),
                       nprocs=3)
    assert final.proc.returncode == 0, final.proc.stderr
    assert "reissued" in final.proc.stdout
    rows_after = read_results(exp_dir)
    assert len(rows_after) == more
    assert rows_after[:len(rows)] == rows  # earlier rows unchanged
    assert all(r["status"] == "ok" for r in rows_after)
