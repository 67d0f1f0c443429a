"""bin/async-search-run: the seed's test-1.sh way of working."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest

from conftest import BINARY, ROOT, mpi_env, mpiexec, model_cmd, read_results, run_binary

SCRIPT = ROOT / "bin" / "async-search-run"
MAKE_RUN = ROOT / "bin" / "make-run"
PROBLEM = str(ROOT / "problems" / "as_problem.py")


def cfg_defaults() -> dict:
    """`async-search cfg-variables`: {VAR: (flag, default or None)}."""
    proc = run_binary("cfg-variables")
    assert proc.returncode == 0, proc.stderr
    table = {}
    for line in proc.stdout.splitlines():
        var, flag, *default = line.split(" ", 2)
        table[var] = (flag, default[0] if default else None)
    return table


def write_cfg(path: Path, **values: str) -> Path:
    """A cfg file that sets only these variables (the environment wins)."""
    path.write_text("".join(f"{k}=${{{k}:-{v}}}\n" for k, v in values.items()))
    return path


def launch_flags(stdout: str) -> dict:
    """The async-search flags of a DRY_RUN=1 local launch line."""
    words = shlex.split(stdout.strip().splitlines()[-1])
    words = words[words.index(str(BINARY)) + 1:]
    assert all(w.startswith("--") for w in words[::2]), words
    return dict(zip(words[::2], words[1::2]))


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
    prm = write_cfg(tmp_path / "cfg-prm-mine.sh", MAX_EVALS="3")
    proc = run_script(tmp_path, "as", "local", "mine", CFG_PRM=str(prm), MAX_EVALS="")
    # MAX_EVALS="" is unset-like for ${VAR:-default}: the file's 3 applies
    assert proc.returncode == 0, proc.stderr
    exp = tmp_path / "experiments" / "mine"
    assert len(read_results(exp)) == 3
    assert (exp / "cfg-prm-mine.sh").is_file()


def test_cfg_files_that_set_only_some_variables_take_the_defaults(tmp_path):
    # An older cfg pair: no OPTIMIZER, MODEL_PYTHON, LAUNCH, GPUS_PER_NODE, ...
    prm = write_cfg(tmp_path / "cfg-prm-old.sh", MAX_EVALS="5", RANDOM_SEED="7")
    sys_ = write_cfg(tmp_path / "cfg-sys-old.sh", PROCS="3")
    proc = run_script(tmp_path, "as", "local", "old", CFG_PRM=str(prm), CFG_SYS=str(sys_),
                      MAX_EVALS="", PROCS="")
    assert proc.returncode == 0, proc.stderr
    exp = tmp_path / "experiments" / "old"
    assert len(read_results(exp)) == 5
    cfg = json.loads((exp / "config.json").read_text())
    defaults = cfg_defaults()
    assert cfg["workers"] == 2 and cfg["seed"] == 7
    for var, key in [("INIT_SIZE", "init_size"), ("NUM_BUFFER", "num_buffer"),
                     ("MAX_THRESHOLD", "max_threshold"), ("N_JOBS", "n_jobs"),
                     ("OPTIMIZER", "optimizer"), ("MODEL_PYTHON", "python"),
                     ("SH_TIMEOUT", "sh_timeout"), ("BENCHMARK_TIMEOUT", "benchmark_timeout"),
                     ("THRESHOLD_WINDOW", "threshold_window")]:
        assert str(cfg[key]) == defaults[var][1], var


def test_only_the_variables_that_are_set_become_flags(tmp_path):
    sys_ = write_cfg(tmp_path / "cfg-sys-min.sh", PROCS="3")
    prm = tmp_path / "cfg-prm-min.sh"
    prm.write_text("INIT_SIZE=${INIT_SIZE:-3}\nOPTIMIZER=\n")  # empty: not set
    proc = run_script(tmp_path, "as", "local", "dry", CFG_PRM=str(prm), CFG_SYS=str(sys_),
                      DRY_RUN="1", RANDOM_SEED="5", LAUNCH="subprocess", NUM_BUFFER="")
    assert proc.returncode == 0, proc.stderr
    exp = tmp_path / "experiments" / "dry"
    assert launch_flags(proc.stdout) == {
        "--exp-dir": str(exp), "--problem": PROBLEM, "--model-cmd": model_cmd("quadratic.py"),
        "--init-size": "3", "--max-evals": "6", "--seed": "5", "--launch": "subprocess"}
    # and the CANDLE model when MODEL_CMD is not set (one that exists: the
    # model is checked before anything starts)
    proc = run_script(tmp_path, "example", "local", "dry2", CFG_PRM=str(prm),
                      CFG_SYS=str(sys_), DRY_RUN="1", MODEL_CMD="", MAX_EVALS="")
    assert proc.returncode == 0, proc.stderr
    assert launch_flags(proc.stdout) == {
        "--exp-dir": str(tmp_path / "experiments" / "dry2"), "--problem": PROBLEM,
        "--init-size": "3", "--model": "example"}


def test_errors_name_the_file_that_set_the_variable(tmp_path):
    prm = write_cfg(tmp_path / "cfg-prm-bad.sh", MAX_EVALS="abc")
    sys_ = write_cfg(tmp_path / "cfg-sys-bad.sh", PROCS="3", LAUNCH="fork-server")
    proc = run_script(tmp_path, "as", "local", CFG_PRM=str(prm), MAX_EVALS="")
    assert proc.returncode == 2
    assert proc.stderr == (f"async-search-run: error: {prm}: MAX_EVALS (--max-evals): 'abc' is "
                           "not an integer (allowed: an integer from 1 to 1000000000)\n")
    proc = run_script(tmp_path, "as", "local", CFG_SYS=str(sys_), PROCS="")
    assert proc.returncode == 2
    assert proc.stderr == (f"async-search-run: error: {sys_}: LAUNCH=fork-server: --launch "
                           "fork-server runs CANDLE benchmarks (--model NAME), not --model-cmd\n")
    assert not (tmp_path / "experiments").exists()


def test_shipped_cfg_files_restate_no_default():
    """cfg-*-1.sh leave every async-search variable to its default; the 5K
    files set only their large values."""
    defaults = cfg_defaults()
    names = " ".join(defaults)
    for name, expected in [("cfg-prm-1.sh", {}), ("cfg-sys-1.sh", {}), ("cfg-sys-5K.sh", {}),
                           ("cfg-prm-5K.sh", {"INIT_SIZE": "40000", "MAX_EVALS": "60000",
                                              "NUM_BUFFER": "20000", "MAX_THRESHOLD": "120"})]:
        script = (f'set -u; source "$1"; for v in {names}; do '
                  '[ -z "${!v-}" ] || echo "$v=${!v}"; done')
        proc = subprocess.run(["env", "-i", "bash", "-c", script, "cfg",
                               str(ROOT / "config" / name)],
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, proc.stderr
        got = dict(line.split("=", 1) for line in proc.stdout.splitlines())
        assert got == expected, name
        for var, value in got.items():
            assert value != defaults[var][1], f"{name}: {var}={value} is the default"


def test_next_exp_id_is_shared_by_both_scripts_and_the_manager(tmp_path):
    root = tmp_path / "experiments"
    (root / "EXP000").mkdir(parents=True)
    (root / "EXP002").mkdir()
    proc = run_binary("next-exp-id", str(root))
    assert (proc.returncode, proc.stdout) == (0, "EXP001\n"), proc.stderr
    assert sorted(p.name for p in root.iterdir()) == ["EXP000", "EXP002"]  # nothing created
    env = mpi_env()
    env.update(EXPERIMENTS=str(root), PROBLEM=PROBLEM, MODEL_CMD=model_cmd("quadratic.py"),
               MAX_EVALS="4", PROCS="3")
    made = subprocess.run([str(MAKE_RUN)], capture_output=True, text=True, timeout=300, env=env)
    assert made.returncode == 0, made.stderr
    assert "EXPID=EXP001" in made.stdout
    assert len(read_results(root / "EXP001")) == 4
    again = run_script(tmp_path, "as", "local")
    assert again.returncode == 0, again.stderr
    assert len(read_results(root / "EXP003")) == 6
    # the manager's own pick under ./experiments when no directory is given
    assert run_binary("next-exp-id", str(root)).stdout == "EXP004\n"
    search = subprocess.run(
        mpiexec(3) + [str(BINARY), "--problem", PROBLEM, "--model-cmd", model_cmd("quadratic.py"),
                      "--max-evals", "2", "--no-report"],
        cwd=tmp_path, capture_output=True, text=True, timeout=240, env=mpi_env())
    assert search.returncode == 0, search.stderr
    assert len(read_results(root / "EXP004")) == 2


@pytest.mark.parametrize("args,message", [
    (["next-exp-id", "a", "b", "c"], "next-exp-id takes at most two arguments"),
    (["next-exp-id", "a", "x/y"], "next-exp-id: suffix 'x/y' cannot end an experiment id"),
    (["next-exp-id", "/dev/null"], "experiments directory /dev/null: it is not a directory"),
    (["cfg-variables", "x"], "cfg-variables takes no arguments"),
])
def test_subcommand_errors_are_one_line(args, message):
    proc = run_binary(*args)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("async-search: error: ") and message in proc.stderr
    assert len(proc.stderr.splitlines()) == 1


@pytest.mark.parametrize("env,message", [
    ({"MAX_EVALS": "abc"},
     "environment: MAX_EVALS (--max-evals): 'abc' is not an integer (allowed: an integer from 1"),
    ({"MAX_EVALS": "0"}, "MAX_EVALS (--max-evals): 0 is out of range"),
    ({"PROCS": "1"}, "environment: PROCS=1 is too small (allowed: 2 or more)"),
    ({"NUM_BUFFER": "-2"},
     "NUM_BUFFER (--num-buffer): -2 is out of range (allowed: an integer from 0"),
    ({"SH_TIMEOUT": "soon"},
     "SH_TIMEOUT (--sh-timeout): 'soon' is not a number (allowed: a number of seconds"),
    ({"INIT_SIZE": "99999999999"}, "INIT_SIZE (--init-size): 99999999999 is out of range"),
    ({"GPUS_PER_NODE": "x"}, "GPUS_PER_NODE (--gpus-per-node): 'x' is not an integer"),
    ({"OPTIMIZER": "nope"}, "nope"),
    ({"CFG_SYS": "/nonexistent/cfg.sh"}, "/nonexistent/cfg.sh: no such file"),
    ({"RESTART_FILE": "/nonexistent/exp"}, "RESTART_FILE=/nonexistent/exp is neither"),
    ({"RESTART_NUMBER": "3"}, "RESTART_NUMBER=3: --restart-number needs --restart EXPDIR"),
    ({"LAUNCH": "thread"},
     "LAUNCH (--launch): 'thread' is not a mode (allowed: subprocess, fork-server)"),
    ({"LAUNCH": "fork-server"}, "--launch fork-server runs CANDLE benchmarks"),
    ({"EXPERIMENTS": "/dev/null"},
     "EXPERIMENTS: experiments directory /dev/null: it is not a directory"),
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


def test_the_smoke_test_example_local(tmp_path):
    """`bin/async-search-run example local` as a new user runs it: the
    defaults (3 workers, 20 evaluations), problems/problem_example.py and the
    built-in example model; it ends cleanly and leaves no lock behind."""
    proc = run_script(tmp_path, "example", "local", PROBLEM="", MODEL_CMD="", MAX_EVALS="",
                      PROCS="")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    exp = tmp_path / "experiments" / "EXP000"
    rows = read_results(exp)
    assert len(rows) == 20
    assert {r["status"] for r in rows} == {"ok"}
    assert [k for k in rows[0] if k.startswith("p:")] == [
        "p:drop", "p:learning_rate", "p:optimizer", "p:batch_size"]
    assert (exp / "problem_example.py").is_file()
    assert not (exp / ".lock").exists()


def test_a_missing_problem_file_names_problem(tmp_path):
    missing = tmp_path / "missing.py"
    proc = run_script(tmp_path, "example", "local", PROBLEM=str(missing))
    assert proc.returncode == 2
    assert proc.stderr == (f"async-search-run: error: environment: PROBLEM={missing}: no such "
                           f"file (set PROBLEM to a problem file, or leave it empty for "
                           f"problems/problem_example.py)\n")
    assert not (tmp_path / "experiments").exists()


def test_an_ended_search_removes_its_lock_and_a_stale_one_is_taken_over(tmp_path):
    assert run_script(tmp_path, "as", "local", "e1").returncode == 0
    exp = tmp_path / "experiments" / "e1"
    assert not (exp / ".lock").exists()
    # what a killed job leaves: its pid, dead, in the file; nothing holds the lock
    (exp / ".lock").write_text("pid 999999999 on a-node-long-gone\n")
    more = run_script(tmp_path, "as", "local", RESTART_FILE=str(exp), MAX_EVALS="8")
    assert more.returncode == 0, more.stderr
    assert len(read_results(exp)) == 8
    assert not (exp / ".lock").exists()


def test_local_dry_run_says_nothing_was_created(tmp_path):
    proc = run_script(tmp_path, "as", "local", DRY_RUN="1")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[-2] == ("async-search-run: DRY_RUN=1, nothing created or run; the command it "
                         "would run:")
    assert lines[-1].startswith("mpiexec -n 3 ")
    assert not (tmp_path / "experiments").exists()


def test_local_dry_run_prints_the_launch_and_runs_nothing(tmp_path):
    proc = run_script(tmp_path, "as", "local", "dry", DRY_RUN="1")
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip().splitlines()[-1]
    assert line.startswith("mpiexec -n 3 ") and "--exp-dir" in line and "build/async-search" in line
    assert not (tmp_path / "experiments").exists()  # nothing created, no number used
