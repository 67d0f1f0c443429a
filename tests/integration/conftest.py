"""Helpers for whole-program tests: the real binary under mpiexec.

Every test gets its own experiment directory under pytest's tmp_path. The
binary is build/async-search (make builds it before these tests run).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
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
