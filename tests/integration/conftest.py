"""Helpers for whole-program tests: the real binary under mpiexec.

Every test gets its own experiment directory under pytest's tmp_path. The
binary is build/async-search (make builds it before these tests run).
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "build" / "async-search"
MODELS = ROOT / "tests" / "models"
PROBLEMS = ROOT / "tests" / "integration" / "problems"
PYTHON = "/usr/bin/python3"


def mpi_env() -> dict:
    env = dict(os.environ)
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1")
    return env


def mpiexec(nprocs: int) -> list:
    return ["mpiexec", "-n", str(nprocs), "--oversubscribe", "--bind-to", "none"]


def model_cmd(name: str, *args: str) -> str:
    return " ".join([PYTHON, str(MODELS / name), *args])


def experiment_processes(exp_dir: Path, launcher: int) -> dict:
    """The live processes of the experiment at exp_dir, by kind: "ranks"
    (async-search with exp_dir on its command line, the launcher's own pid
    aside) and "models" (running in a run directory of exp_dir). Each is
    listed as "pid state wchan command"; zombies have already ended."""
    found: dict = {"ranks": [], "models": []}
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == launcher:
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            wchan = Path(f"/proc/{pid}/wchan").read_text()
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except (OSError, IndexError):
            continue
        if state == "Z":
            continue
        line = f"{pid} {state} {wchan} {cmd.replace(bytes(1), b' ').decode(errors='replace')}"
        if b"build/async-search" in cmd and str(exp_dir).encode() in cmd:
            found["ranks"].append(line)
        elif cwd.startswith(str(exp_dir / "run") + "/"):
            found["models"].append(line)
    return found


def wait_until(done, timeout: float, why=lambda: "") -> None:
    """Polls done() until it is true; fails with why() after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, why()
        time.sleep(0.05)


def signal_mpiexec(proc: subprocess.Popen, exp_dir: Path, sig: int,
                   timeout: float = 60, rank_grace: float = 30) -> tuple:
    """Sends sig to mpiexec and waits for the job's end (wait_job_end)."""
    proc.send_signal(sig)
    return wait_job_end(proc, exp_dir, timeout, rank_grace)


def wait_job_end(proc: subprocess.Popen, exp_dir: Path, timeout: float = 60,
                 rank_grace: float = 30) -> tuple:
    """Waits for the end of a job being torn down (a signal to mpiexec, a
    killed rank); returns (stdout, stderr). mpiexec ends the ranks (SIGTERM,
    SIGKILL a second later) and exits, in about 2 s here. Once in CI it did
    not exit: the summary was printed, and mpiexec was still running 120 s
    later, hung in its own PMIx shutdown with every rank <defunct> under it.
    Such a stall of the launcher is not the search's to mend, so it is killed
    then, as a user kills a hung mpiexec, with a warning; but by then no
    model of the experiment may still run, and no rank once mpiexec is gone."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    left = experiment_processes(exp_dir, proc.pid)
    assert not left["models"], f"models still running {timeout} s on: {left}"
    warnings.warn(f"mpiexec still running {timeout} s on; killed; "
                  f"what was left of the job: {left}")
    os.killpg(proc.pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    wait_until(lambda: not experiment_processes(exp_dir, proc.pid)["ranks"], rank_grace,
               lambda: f"ranks outlived mpiexec: {experiment_processes(exp_dir, proc.pid)}")
    return out, err


class Search:
    """One run of the program and what it left behind."""

    def __init__(self, proc: subprocess.CompletedProcess, exp_dir: Path):
        self.proc = proc
        self.exp_dir = exp_dir

    @property
    def rows(self) -> list:
        return read_results(self.exp_dir)

    @property
    def config(self) -> dict:
        return json.loads((self.exp_dir / "config.json").read_text())


def read_results(exp_dir: Path) -> list:
    with open(exp_dir / "results.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def run_search(exp_dir: Path, *args: str, nprocs: int = 4, timeout: float = 240,
               env: dict | None = None) -> Search:
    where = [] if "--restart" in args else ["--exp-dir", str(exp_dir)]
    cmd = mpiexec(nprocs) + [str(BINARY), *where, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env=env or mpi_env())
    return Search(proc, exp_dir)


def run_binary(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True,
                          timeout=timeout, env=mpi_env())


@pytest.fixture(scope="session", autouse=True)
def built_binary():
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is not built: run make")
    return BINARY


@pytest.fixture
def exp_dir(tmp_path: Path) -> Path:
    return tmp_path / "exp"


sys.path.insert(0, str(Path(__file__).parent))
