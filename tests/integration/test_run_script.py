"""bin/async-search-run: the seed's test-1.sh way of working."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, mpi_env, model_cmd, read_results

SCRIPT = ROOT / "bin" / "async-search-run"
PROBLEM = str(ROOT / "problems" / "as_problem.py")


def run_script(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    full = mpi_env()
    full.update(EXPERIMENTS=str(tmp_path / "experiments"), PROBLEM=PROBLEM,
                MODEL_CMD=model_cmd("quadratic.py"), MAX_EVALS="6", PROCS="3")
    full.update(env)
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=300, env=full)


def test_runs_numbered_experiments_with_copies_and_overrides(tmp_path):
    first = run_script(tmp_path, "as", "local")
    assert first.returncode == 0, first.stderr
    exp0 = tmp_path / "experiments" / "EXP000"
    assert len(read_results(exp0)) == 6
    for name in ("cfg-prm-1.sh", "cfg-sys-1.sh", "as_problem.py", "output.txt"):
        assert (exp0 / name).is_file(), name
    cfg = json.loads((exp0 / "config.json").read_text())
    assert cfg["workers"] == 2 and cfg["max_evals"] == 6 and cfg["init_size"] == 4
    assert "best objective" in (exp0 / "output.txt").read_text()
    second = run_script(tmp_path, "as", "local", MAX_EVALS="4", RANDOM_SEED="3")
    assert second.returncode == 0, second.stderr
    exp1 = tmp_path / "experiments" / "EXP001"
    assert len(read_results(exp1)) == 4
    assert json.loads((exp1 / "config.json").read_text())["seed"] == 3


def test_cfg_files_from_the_environment(tmp_path):
    prm = tmp_path / "cfg-prm-mine.sh"
    prm.write_text((ROOT / "config" / "cfg-prm-1.sh").read_text().replace(
        "MAX_EVALS=${MAX_EVALS:-20}", "MAX_EVALS=${MAX_EVALS:-3}"))
    env = {k: v for k, v in mpi_env().items()}
    proc = run_script(tmp_path, "as", "local", "mine", CFG_PRM=str(prm), MAX_EVALS="")
    # MAX_EVALS="" is unset-like for ${VAR:-default}: the file's 3 applies
    assert proc.returncode == 0, proc.stderr
    exp = tmp_path / "experiments" / "mine"
    assert len(read_results(exp)) == 3
    assert (exp / "cfg-prm-mine.sh").is_file()
    del env


@pytest.mark.parametrize("env,message", [
    ({"MAX_EVALS": "abc"}, "cfg-prm-1.sh: MAX_EVALS='abc' is not a whole number"),
    ({"MAX_EVALS": "0"}, "MAX_EVALS=0 is too small"),
    ({"PROCS": "1"}, "cfg-sys-1.sh: PROCS=1 is too small (allowed: 2 or more)"),
    ({"NUM_BUFFER": "-2"}, "NUM_BUFFER='-2' is not a whole number"),
    ({"SH_TIMEOUT": "soon"}, "SH_TIMEOUT='soon' is not a number of seconds"),
    ({"INIT_SIZE": "99999999999"}, "INIT_SIZE='99999999999' is not a whole number"),
    ({"OPTIMIZER": "nope"}, "nope"),
    ({"CFG_SYS": "/nonexistent/cfg.sh"}, "/nonexistent/cfg.sh: no such file"),
    ({"RESTART_FILE": "/nonexistent/exp"}, "RESTART_FILE=/nonexistent/exp is neither"),
    ({"LAUNCH": "thread"}, "LAUNCH='thread' is not a launch mode"),
    ({"LAUNCH": "fork-server"}, "--launch fork-server runs CANDLE benchmarks"),
])
def test_bad_settings_are_one_line_errors(tmp_path, env, message):
    proc = run_script(tmp_path, "as", "local", **env)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (tmp_path / "experiments").exists()


@pytest.mark.parametrize("args,message", [
    (["as", "nosite"], "unknown SITE 'nosite' (allowed: "),
    (["nomodel", "local"], "unknown MODEL 'nomodel'"),
    (["as", "local", "../x"], "EXPID '../x' is not valid"),
    (["as", "local", ".."], "EXPID '..' is not valid"),
    (["as"], "usage: async-search-run MODEL SITE [EXPID]"),
])
def test_bad_arguments_are_one_line_errors(tmp_path, args, message):
    env = {"PROBLEM": ""} if args[0] == "nomodel" else {}
    proc = run_script(tmp_path, *args, **env)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "experiments").exists()


def test_existing_results_need_restart_file(tmp_path):
    assert run_script(tmp_path, "as", "local", "e1").returncode == 0
    exp = tmp_path / "experiments" / "e1"
    before = (exp / "results.csv").read_bytes()
    again = run_script(tmp_path, "as", "local", "e1")
    assert again.returncode == 2 and f"RESTART_FILE={exp}" in again.stderr
    assert (exp / "results.csv").read_bytes() == before
    more = run_script(tmp_path, "as", "local", RESTART_FILE=str(exp / "results.csv"),
                      MAX_EVALS="9", RESTART_NUMBER="5")
    assert more.returncode == 0, more.stderr
    rows = read_results(exp)
    assert len(rows) == 9
    assert sum(r["job_id"].startswith("5_") for r in rows) == 3
    assert (exp / "results.csv").read_bytes().startswith(before)


def test_local_dry_run_prints_the_launch_and_runs_nothing(tmp_path):
    proc = run_script(tmp_path, "as", "local", "dry", DRY_RUN="1")
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip().splitlines()[-1]
    assert line.startswith("mpiexec -n 3 ") and "--exp-dir" in line and "build/async-search" in line
    assert not (tmp_path / "experiments" / "dry" / "results.csv").exists()
