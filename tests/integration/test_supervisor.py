"""Supervisor users' files and habits through bin/async-search-run.

The fixtures in tests/fixtures/supervisor/ are written in the form of the
original workflow's files (ECP-CANDLE/Supervisor workflows/async-search/test/
cfg-*.sh and python/as_problem*.py): `export VAR=${VAR:-value}` lines,
comments, PYTHONPATH and LD_LIBRARY_PATH appended to, none of the settings
this project added, and the documented values N_JOBS=-1, THRESHOLD_WINDOW='',
SH_TIMEOUT empty, BENCHMARK_TIMEOUT=-1, WALLTIME=00:60:00. They run unchanged:
locally for real (the `example` model), through the scheduler sites as dry
runs (Slurm for real: test_slurm.py). Also: the original's site names, EXPID
-a and EXP_SUFFIX, DRY_RUN, jobid.txt (test_sites.py), a restart that takes
the experiment's settings, and Ctrl-C in a terminal.
"""

from __future__ import annotations

import json
import os
import pty
import select
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BINARY, ROOT, mpi_env, model_cmd, read_results, signal_mpiexec

SCRIPT = ROOT / "bin" / "async-search-run"
FIXTURES = ROOT / "tests" / "fixtures" / "supervisor"
PROBLEM = str(FIXTURES / "problem_example.py")
# What a user's shell might hold that would hide what the files say.
SETTINGS = ("PROCS", "PPN", "WALLTIME", "QUEUE", "PROJECT", "MAX_EVALS", "INIT_SIZE",
            "NUM_BUFFER", "MAX_THRESHOLD", "THRESHOLD_WINDOW", "N_JOBS", "RANDOM_SEED",
            "OPTIMIZER", "MAX_FAILURES", "SH_TIMEOUT", "BENCHMARK_TIMEOUT", "MODEL_PYTHON",
            "GPUS_PER_NODE", "RANKS_PER_EVAL", "SHARE_GPUS", "LAUNCH", "RESTART_FILE",
            "RESTART_NUMBER", "EXP_SUFFIX", "DRY_RUN", "WAIT", "MODEL_CMD", "PROBLEM",
            "CFG_PRM", "CFG_SYS", "JOB_SETUP", "MODEL_PYTHON_SCRIPT", "OBJ_RETURN")
WAIT_S = 120  # for a search to reach a state; generous on a busy machine


def clean_env(tmp_path: Path, **env: str) -> dict:
    full = mpi_env()
    for var in SETTINGS:
        full.pop(var, None)
    for var in [v for v in full if v.startswith(("SLURM_", "PBS_", "LSF_"))]:
        del full[var]
    full["EXPERIMENTS"] = str(tmp_path / "experiments")
    full.update(env)
    return full


def run(tmp_path: Path, *args: str, timeout: float = 300, **env: str):
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=timeout, env=clean_env(tmp_path, **env))


def original(prm: str = "cfg-prm-1.sh", sys_: str = "cfg-sys-1.sh", **env: str) -> dict:
    """The original cfg pair, the original problem file, and env."""
    return {"CFG_PRM": str(FIXTURES / prm), "CFG_SYS": str(FIXTURES / sys_),
            "PROBLEM": PROBLEM, **env}


def launch_words(stdout: str) -> list:
    """The async-search words of a DRY_RUN=1 launch (local or batch script)."""
    for line in stdout.splitlines():
        if str(BINARY) in line:
            words = shlex.split(line)
            return words[words.index(str(BINARY)) + 1:]
    raise AssertionError(f"no launch in:\n{stdout}")


def launch_flags(stdout: str) -> dict:
    words = launch_words(stdout)
    return dict(zip(words[::2], words[1::2]))


# ---- the original files, unchanged ------------------------------------------------

@pytest.mark.parametrize("sys_,timeouts", [
    ("cfg-sys-1.sh", (3600, 3600)),
    # SH_TIMEOUT empty and BENCHMARK_TIMEOUT=-1: no timeouts (as 0)
    ("cfg-sys-biowulf.sh", (0, 0)),
])
def test_the_original_cfg_files_run_unchanged(tmp_path, sys_, timeouts):
    proc = run(tmp_path, "example", "local", "-a", **original(sys_=sys_))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    exp = tmp_path / "experiments" / "EXP000"  # -a: automatic, as in the original
    assert len(read_results(exp)) == 8  # MAX_EVALS of the file
    cfg = json.loads((exp / "config.json").read_text())
    assert cfg["workers"] == 3 and cfg["procs"] == 4  # PROCS=4: 3 workers here
    assert cfg["n_jobs"] == -1  # N_JOBS=-1: all cores
    assert cfg["threshold_window"] == 16  # THRESHOLD_WINDOW='': the default
    assert (cfg["sh_timeout"], cfg["benchmark_timeout"]) == timeouts
    assert cfg["optimizer"] == "default" and cfg["python"]  # not in the file: defaults
    for name in ("cfg-prm-1.sh", sys_, "problem_example.py"):
        assert (exp / name).is_file(), name
    assert "SITE=local (sites/local.sh, local)" in proc.stdout


def test_an_empty_sh_timeout_is_no_timeout_not_3600(tmp_path):
    for value, flag in [("", "-1"), ("-1", "-1"), ("120", "120")]:
        proc = run(tmp_path, "example", "local",
                   **original(sys_="cfg-sys-biowulf.sh", SH_TIMEOUT=value, DRY_RUN="1"))
        assert proc.returncode == 0, proc.stderr
        assert launch_flags(proc.stdout)["--sh-timeout"] == flag, value
    assert not (tmp_path / "experiments").exists()


@pytest.mark.parametrize("site,env,lines", [
    ("slurm", {}, ["#SBATCH --ntasks=4", "#SBATCH --time=06:00:00"]),
    # GPUs: PPN counts workers, the manager runs besides them: PROCS=4 is the
    # manager and 3 workers on one node, 56 cores / 4 each
    ("frontier", {"PROJECT": "MED106", "PPN": "4"},
     ["#SBATCH --account=MED106", "#SBATCH --gpus-per-node=8", "#SBATCH --nodes=1",
      "#SBATCH --ntasks-per-node=4", "#SBATCH --cpus-per-task=14",
      "srun --ntasks=4 --distribution=arbitrary --cpus-per-task=14 \\"]),
    ("frontier", {"PROJECT": "MED106", "PPN": "8", "PROCS": "17"},
     ["#SBATCH --nodes=2", "#SBATCH --ntasks-per-node=9", "#SBATCH --cpus-per-task=6"]),
    ("crusher", {"PROJECT": "MED106"}, ["#SBATCH --gpus-per-node=8"]),
    ("cori", {"QUEUE": "debug"}, ["#SBATCH --qos=debug", "sbatch --parsable --constraint=knl"]),
    ("biowulf", {}, ["srun --ntasks=4 --mpi=pmix \\"]),
    ("polaris", {"QUEUE": "debug", "PROJECT": "CSC249ADOA01", "PPN": "4"},
     ["#PBS -l select=1:ncpus=64:mpiprocs=4:ngpus=4", "#PBS -l filesystems=home:eagle",
      "#PBS -q debug", "mpiexec -n 4 --hostfile ", "/hostfile --depth=16 --cpu-bind depth \\"]),
    ("polaris", {"QUEUE": "debug", "PROJECT": "CSC249ADOA01", "PPN": "4", "PROCS": "9"},
     ["#PBS -l select=1:ncpus=64:mpiprocs=5:ngpus=4+1:ncpus=64:mpiprocs=4:ngpus=4",
      "/hostfile --depth=12 --cpu-bind depth \\"]),
    # PPN=1: one worker (one GPU) per node, the manager on the first besides
    ("summit", {"PROJECT": "MED106"},
     ["#BSUB -P MED106", "#BSUB -nnodes 3", "rank: 0: { host: 1; cpu: {0-83} }",
      "rank: 1: { host: 1; cpu: {84-167}; gpu: {0-5} }",
      "rank: 3: { host: 3; cpu: {0-167}; gpu: {0-5} }"]),
    ("summit-tf2", {"PROJECT": "MED106"}, ["#BSUB -P MED106"]),
    ("pbs", {"QUEUE": "debug", "PROJECT": "p"}, ["#PBS -l walltime=06:00:00"]),
    ("lsf", {"PROJECT": "p"}, ["#BSUB -W 360"]),
])
def test_the_original_cfg_files_with_each_scheduler_as_dry_runs(tmp_path, site, env, lines):
    proc = run(tmp_path, "example", site, **original(DRY_RUN="1", **env))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for line in lines:
        assert line in proc.stdout.splitlines() or line in proc.stdout, line
    assert f"export SITE={site}" in proc.stdout.splitlines()  # for the models, as the original
    flags = launch_flags(proc.stdout)
    assert flags["--n-jobs"] == "-1" and flags["--max-evals"] == "8"
    assert "--threshold-window" not in flags and "--optimizer" not in flags
    assert not (tmp_path / "experiments").exists()  # DRY_RUN: nothing created


@pytest.mark.parametrize("site,missing", [("polaris", "QUEUE"), ("summit", "PROJECT"),
                                          ("frontier", "PROJECT"), ("pbs", "QUEUE")])
def test_a_site_setting_the_original_cfg_lacks_is_one_line(tmp_path, site, missing):
    """... before anything is created."""
    env = {"QUEUE": "debug", "PROJECT": "p"}
    del env[missing]
    proc = run(tmp_path, "example", site, **original(**env))
    assert proc.returncode == 2
    assert proc.stderr.startswith("async-search-run: error: SITE ")
    assert f"{missing} is empty, and this site needs it" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert not (tmp_path / "experiments").exists()


def test_the_5K_files(tmp_path):
    proc = run(tmp_path, "example", "slurm", "big", **original("cfg-prm-5K.sh", "cfg-sys-5K.sh",
                                                               DRY_RUN="1"))
    assert proc.returncode == 0, proc.stderr
    assert "#SBATCH --ntasks=5000" in proc.stdout and "#SBATCH --time=24:00:00" in proc.stdout
    flags = launch_flags(proc.stdout)
    assert (flags["--init-size"], flags["--max-evals"], flags["--num-buffer"],
            flags["--max-threshold"]) == ("40000", "60000", "20000", "120")


def test_walltime_of_60_minutes_is_normalised(tmp_path):
    proc = run(tmp_path, "example", "slurm", **original(sys_="cfg-sys-biowulf.sh", DRY_RUN="1"))
    assert proc.returncode == 0, proc.stderr
    assert "#SBATCH --time=01:00:00" in proc.stdout  # the file's 00:60:00
    assert launch_flags(proc.stdout)["--time-limit"] == "3300"


def test_model_python_script_and_obj_return_reach_the_model(tmp_path):
    """A cfg-sys file that sets MODEL_PYTHON_SCRIPT without exporting it, as
    the original's did (its workflow passed it on)."""
    sys_ = tmp_path / "cfg-sys-script.sh"
    sys_.write_text((FIXTURES / "cfg-sys-1.sh").read_text() +
                    "MODEL_PYTHON_SCRIPT=my_script\nOBJ_RETURN=val_loss\n")
    proc = run(tmp_path, "example", "local", "e1",
               **original(CFG_SYS=str(sys_), PROCS="2", MAX_EVALS="1",
                          MODEL_CMD=model_cmd("echo_env.py")))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    env = json.loads(next((tmp_path / "experiments" / "e1" / "run").glob("*/env.json"))
                     .read_text())["env"]
    assert env["MODEL_PYTHON_SCRIPT"] == "my_script" and env["OBJ_RETURN"] == "val_loss"
    # a batch job sets them itself (qsub passes no environment on)
    proc = run(tmp_path, "example", "pbs",
               **original(CFG_SYS=str(sys_), DRY_RUN="1", QUEUE="q", PROJECT="p",
                          MODEL_CMD=model_cmd("echo_env.py")))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "export MODEL_PYTHON_SCRIPT=my_script" in lines and "export OBJ_RETURN=val_loss" in lines


# ---- experiment ids, dry runs -------------------------------------------------------

def test_expid_a_and_exp_suffix(tmp_path):
    root = tmp_path / "experiments"
    for name in ("EXP000", "EXP001", "EXP000_big"):
        (root / name).mkdir(parents=True)
    cases = [({}, "-a", "EXP002"), ({"EXP_SUFFIX": "_big"}, "-a", "EXP001_big"),
             ({"EXP_SUFFIX": "_big"}, None, "EXP001_big"), ({}, None, "EXP002")]
    for env, arg, want in cases:
        args = ["example", "local"] + ([arg] if arg else [])
        proc = run(tmp_path, *args, **original(DRY_RUN="1", **env))
        assert proc.returncode == 0, proc.stderr
        assert launch_flags(proc.stdout)["--exp-dir"] == str(root / want), (env, arg)
    # an id given: kept, and the suffix is said to apply to automatic ids only
    proc = run(tmp_path, "example", "local", "mine", **original(DRY_RUN="1", EXP_SUFFIX="_big"))
    assert proc.returncode == 0, proc.stderr
    assert launch_flags(proc.stdout)["--exp-dir"] == str(root / "mine")
    assert "EXP_SUFFIX=_big is for automatic ids" in proc.stdout
    proc = run(tmp_path, "example", "local", **original(EXP_SUFFIX="/x"))
    assert proc.returncode == 2
    assert proc.stderr == ("async-search-run: error: environment: EXP_SUFFIX: suffix '/x' cannot "
                           "end an experiment id (allowed: up to 92 letters, digits, '.', '_' "
                           "or '-')\n")
    assert sorted(p.name for p in root.iterdir()) == ["EXP000", "EXP000_big", "EXP001"]


@pytest.mark.parametrize("site", ["local", "slurm"])
def test_dry_run_creates_nothing_and_uses_up_no_number(tmp_path, site):
    for _ in range(2):
        proc = run(tmp_path, "example", site, **original(DRY_RUN="1"))
        assert proc.returncode == 0, proc.stderr
        assert "EXPID=EXP000 " in proc.stdout
    assert not (tmp_path / "experiments").exists()


# ---- site names -----------------------------------------------------------------------

@pytest.mark.parametrize("name,file,kind", [
    ("lambda", "local", "local"), ("summit-login", "local", "local"),
    ("crusher", "frontier", "slurm"), ("spock", "slurm", "slurm"),
    ("summit-tf-2.4.1", "summit", "lsf"), ("polaris", "polaris", "pbs"),
])
def test_the_originals_site_names_say_which_site_file_ran(tmp_path, name, file, kind):
    proc = run(tmp_path, "example", name, **original(DRY_RUN="1", QUEUE="q", PROJECT="p"))
    assert proc.returncode == 0, proc.stderr
    assert f"SITE={name} (sites/{file}.sh, {kind}) EXPID=EXP000" in proc.stdout


@pytest.mark.parametrize("name,hint", [
    ("theta", "Theta (ALCF, retired at the end of 2023) ran the Cobalt scheduler, which "
              "async-search does not submit to: on Polaris use SITE polaris"),
    ("titan", "Titan (OLCF, retired in 2019) ran Torque/Moab with aprun"),
])
def test_cobalt_and_aprun_sites_are_refused_with_a_hint(tmp_path, name, hint):
    proc = run(tmp_path, "example", name, **original())
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"async-search-run: error: SITE {name}: {hint}")
    assert len(proc.stderr.splitlines()) == 1
    assert not (tmp_path / "experiments").exists()


def test_unknown_site_lists_the_names(tmp_path):
    proc = run(tmp_path, "example", "nowhere", **original())
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1
    for name in ("local", "slurm", "pbs", "lsf", "polaris", "summit", "frontier", "cori",
                 "biowulf", "crusher", "lambda"):
        assert f" {name}" in proc.stderr, name
    assert " theta" not in proc.stderr


# ---- restart through the script ---------------------------------------------------------

def test_restart_takes_the_experiments_settings(tmp_path):
    exp = tmp_path / "experiments" / "my-run"
    first = run(tmp_path, "example", "local", "my-run", PROBLEM=PROBLEM, MAX_EVALS="5",
                PROCS="3", RANDOM_SEED="4", INIT_SIZE="2", SH_TIMEOUT="600")
    assert first.returncode == 0, first.stderr
    before = json.loads((exp / "config.json").read_text())
    # the README's example: no PROBLEM, PROCS or MAX_EVALS given again
    more = run(tmp_path, "example", "local", RESTART_FILE=str(exp), MAX_EVALS="7")
    assert more.returncode == 0, more.stdout + more.stderr
    assert more.stdout.splitlines()[0] == (
        "async-search-run: restart: MAX_EVALS=7 (environment) instead of the experiment's 5")
    assert "instead of" not in "\n".join(more.stdout.splitlines()[1:])
    assert "EXPID=my-run PROCS=3 MAX_EVALS=7" in more.stdout
    after = json.loads((exp / "config.json").read_text())
    for key in ("problem", "model", "model_cmd", "python", "optimizer", "init_size", "seed",
                "sh_timeout", "procs", "workers", "n_jobs", "num_buffer", "threshold_window"):
        assert after[key] == before[key], key
    assert after["max_evals"] == 7 and len(read_results(exp)) == 7
    # a cfg file that sets a value: an override, said once
    prm = tmp_path / "cfg-prm-mine.sh"
    prm.write_text("RANDOM_SEED=${RANDOM_SEED:-9}\nMAX_EVALS=${MAX_EVALS:-7}\n")
    dry = run(tmp_path, "example", "local", RESTART_FILE=str(exp), CFG_PRM=str(prm),
              DRY_RUN="1", MAX_EVALS="8")
    assert dry.returncode == 0, dry.stderr
    assert f"RANDOM_SEED=9 ({prm}) instead of the experiment's 4" in dry.stdout
    assert "MAX_EVALS=8 (environment) instead of the experiment's 7" in dry.stdout
    flags = launch_flags(dry.stdout)
    assert flags["--restart"] == str(exp) and flags["--seed"] == "9"
    assert flags["--problem"] == PROBLEM and flags["--model"] == "example"


@pytest.mark.parametrize("max_evals", [None, "7", "3"])
def test_restart_with_nothing_left_to_do(tmp_path, max_evals):
    exp = tmp_path / "experiments" / "done"
    first = run(tmp_path, "example", "local", "done", PROBLEM=PROBLEM, MAX_EVALS="7",
                PROCS="3")
    assert first.returncode == 0, first.stderr
    config = (exp / "config.json").read_bytes()
    env = {"RESTART_FILE": str(exp)}
    if max_evals:
        env["MAX_EVALS"] = max_evals
    proc = run(tmp_path, "example", "local", **env)
    assert proc.returncode == 0, proc.stderr
    want = max_evals or "7"
    assert proc.stdout.strip().endswith(
        f"async-search-run: {exp} already holds 7 evaluations and MAX_EVALS is {want}: nothing "
        "left to do (set MAX_EVALS above 7 to continue it)")
    assert (exp / "config.json").read_bytes() == config  # not launched
    assert not list(exp.glob("config.*.json"))


def test_restart_takes_every_setting_config_json_records(tmp_path):
    """config.json records every setting by its flag's name, and a restart
    takes each one that is not set again."""
    exp = tmp_path / "experiments" / "more"
    first = run(tmp_path, "example", "local", "more", PROBLEM=PROBLEM, MAX_EVALS="2",
                PROCS="2", MAX_FAILURES="3", FAIL_FAST="2", STOPPER="median",
                STOPPER_WARMUP="2", SHARE_GPUS="yes")
    assert first.returncode == 0, first.stderr
    config = json.loads((exp / "config.json").read_text())
    assert (config["max_failures"], config["fail_fast"], config["stopper"],
            config["stopper_warmup"], config["share_gpus"]) == (3, 2, "median", 2, "yes")
    proc = run(tmp_path, "example", "local", RESTART_FILE=str(exp), MAX_EVALS="4", DRY_RUN="1",
               STOPPER="asha")
    assert proc.returncode == 0, proc.stderr
    flags = launch_flags(proc.stdout)
    assert (flags["--max-failures"], flags["--fail-fast"]) == ("3", "2")
    assert (flags["--stopper-warmup"], flags["--share-gpus"]) == ("2", "yes")
    assert flags["--stopper"] == "asha"
    assert "STOPPER=asha (environment) instead of the experiment's median" in proc.stdout
    # a setting that a later version records (written here by hand) is taken too
    config.update(gpus_per_node=2, launch="fork-server")
    (exp / "config.json").write_text(json.dumps(config))
    proc = run(tmp_path, "example", "local", RESTART_FILE=str(exp), MAX_EVALS="4", DRY_RUN="1",
               LAUNCH="subprocess")
    assert proc.returncode == 0, proc.stderr
    flags = launch_flags(proc.stdout)
    assert flags["--gpus-per-node"] == "2" and flags["--launch"] == "subprocess"
    assert "LAUNCH=subprocess (environment) instead of the experiment's fork-server" in proc.stdout


def test_restart_of_an_unreadable_config_is_one_line(tmp_path):
    exp = tmp_path / "experiments" / "bad"
    exp.mkdir(parents=True)
    (exp / "config.json").write_text("{not json")
    proc = run(tmp_path, "example", "local", RESTART_FILE=str(exp))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"async-search-run: error: {exp}/config.json: cannot read the "
                                  "experiment's settings: ")
    assert len(proc.stderr.splitlines()) == 1
    assert sorted(p.name for p in exp.iterdir()) == ["config.json"]


# ---- Ctrl-C, SIGTERM ---------------------------------------------------------------------

def slow_search(tmp_path: Path, expid: str) -> dict:
    return clean_env(tmp_path, PROBLEM=PROBLEM, MODEL_CMD=model_cmd("quadratic.py", "--sleep",
                                                                    "60"),
                     PROCS="3", MAX_EVALS="6", INIT_SIZE="2")


def default_signals() -> None:
    """In a forked child: the terminal's signals at their defaults. A signal
    ignored when a shell starts cannot be trapped there, and the suite may run
    with SIGINT ignored (started in the background) or SIGHUP ignored (nohup)."""
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)


def wait_running(exp: Path, check) -> None:
    """Until both workers run a model (their run directories exist)."""
    deadline = time.monotonic() + WAIT_S
    while len(list((exp / "run").glob("*"))) < 2 if (exp / "run").is_dir() else True:
        check()
        assert time.monotonic() < deadline, "the search did not start its evaluations"
        time.sleep(0.2)


def end_leftovers(exp: Path) -> None:
    """Kills what a failed test may leave running of this experiment."""
    mark = str(exp).encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark in (entry / "cmdline").read_bytes():
                    os.kill(int(entry.name), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass


def read_all(fd: int, until: float) -> bytes:
    out = b""
    while time.monotonic() < until:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the terminal's other side is closed
            break
        if not data:
            break
        out += data
    return out


def test_ctrl_c_in_a_terminal_keeps_the_summary_and_the_status(tmp_path):
    exp = tmp_path / "experiments" / "cc"
    pid, fd = pty.fork()
    if pid == 0:  # the child: the script on a terminal of its own
        default_signals()
        os.execve(str(SCRIPT), [str(SCRIPT), "example", "local", "cc"],
                  slow_search(tmp_path, "cc"))
    seen = b""
    try:
        def check():
            nonlocal seen
            seen += read_all(fd, time.monotonic() + 0.1)
        wait_running(exp, check)
        os.write(fd, b"\x03")  # Ctrl-C: SIGINT to the terminal's foreground group
        seen += read_all(fd, time.monotonic() + WAIT_S)
        _, status = os.waitpid(pid, 0)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.close(fd)
        end_leftovers(exp)
    terminal = seen.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 130, terminal
    output = (exp / "output.txt").read_text()
    hint = f"continue it with: RESTART_FILE={exp} {SCRIPT} example local"
    for text in (terminal, output):
        assert "this run took" in text, text  # the summary
        assert "interrupted by SIGINT" in text, text  # the manager's own view
        assert "async-search-run: interrupted (exit status 130); " + hint in text, text
    assert not list((exp / "run").glob("*/result.txt"))
    # continued as the hint says, with a fast model
    more = run(tmp_path, "example", "local", RESTART_FILE=str(exp),
               MODEL_CMD=model_cmd("quadratic.py"))
    assert more.returncode == 0, more.stdout + more.stderr
    assert len(read_results(exp)) == 6


def test_a_closed_terminal_stops_the_search_cleanly(tmp_path):
    """SIGHUP: the manager stops as on SIGTERM; output.txt still gets it all."""
    exp = tmp_path / "experiments" / "hup"
    pid, fd = pty.fork()
    if pid == 0:
        default_signals()
        os.execve(str(SCRIPT), [str(SCRIPT), "example", "local", "hup"],
                  slow_search(tmp_path, "hup"))
    try:
        wait_running(exp, lambda: read_all(fd, time.monotonic() + 0.1))
        os.close(fd)  # the terminal goes away
        fd = -1
        deadline = time.monotonic() + WAIT_S
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            assert time.monotonic() < deadline, "the script did not end"
            time.sleep(0.2)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if fd >= 0:
            os.close(fd)
        end_leftovers(exp)
    assert os.waitstatus_to_exitcode(status) == 143
    output = (exp / "output.txt").read_text()
    assert "this run took" in output and "interrupted by SIGTERM" in output, output
    assert "async-search-run: interrupted (exit status 143); continue it with: " in output


def test_sigterm_to_the_script_stops_the_search_cleanly(tmp_path):
    exp = tmp_path / "experiments" / "st"
    proc = subprocess.Popen([str(SCRIPT), "example", "local", "st"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env=slow_search(tmp_path, "st"))
    try:
        def check():
            assert proc.poll() is None, proc.communicate()
        wait_running(exp, check)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
        end_leftovers(exp)
    assert proc.returncode == 143, out
    output = (exp / "output.txt").read_text()
    for text in (out, output):
        assert "this run took" in text and "interrupted by SIGTERM" in text, text
        assert "async-search-run: interrupted (exit status 143); continue it with: " in text


HUNG_MPIEXEC = """#!/bin/bash
# an mpiexec hung in its own shutdown: it hears signals and ends on none
[ "$1" = --version ] && exit 0
trap 'echo heard >> "$(dirname "$0")/signals.log"' INT TERM HUP
echo "mpiexec running"
while :; do sleep 0.1; done
"""


def test_a_third_interrupt_kills_an_mpiexec_that_does_not_end(tmp_path):
    fake = tmp_path / "mpiexec"
    fake.write_text(HUNG_MPIEXEC)
    fake.chmod(0o755)
    log = tmp_path / "signals.log"
    exp = tmp_path / "experiments" / "hung"
    env = slow_search(tmp_path, "hung")
    env["MPIEXEC"] = str(fake)
    proc = subprocess.Popen([str(SCRIPT), "example", "local", "hung"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        def wait_for(done):
            deadline = time.monotonic() + WAIT_S
            while not done():
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline
                time.sleep(0.1)
        output = exp / "output.txt"
        wait_for(lambda: output.exists() and "mpiexec running" in output.read_text())
        for heard in (1, 2):  # each reaches mpiexec, which goes on
            proc.send_signal(signal.SIGTERM)
            wait_for(lambda: log.exists() and len(log.read_text().split()) == heard)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=WAIT_S)
    finally:
        end_leftovers(tmp_path)  # the stand-in too (it holds tee's input)
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 143, out + err
    assert "SIGTERM again: killing mpiexec (pid " in err
    assert "async-search-run: interrupted (exit status 143); continue it with: " in out
    assert len(log.read_text().split()) == 2  # the third was SIGKILL
    assert "mpiexec running" in output.read_text()


@pytest.mark.parametrize("target,status,seen", [
    # Open MPI's mpiexec signalled: SIGTERM to the ranks, its own status 1
    ("mpiexec", 1, "interrupted by SIGTERM"),
    # the manager signalled (what bin/async-search-run does): the search's status
    ("manager", 130, "interrupted by SIGINT"),
])
def test_plain_mpiexec_and_sigint_as_the_readme_says(tmp_path, target, status, seen):
    exp = tmp_path / "exp"
    cmd = ["mpiexec", "-n", "3", "--oversubscribe", "--bind-to", "none", str(BINARY),
           "--exp-dir", str(exp), "--problem", PROBLEM, "--max-evals", "6", "--init-size", "2",
           "--model-cmd", model_cmd("quadratic.py", "--sleep", "60"), "--no-report"]
    version = subprocess.run(["mpiexec", "--version"], capture_output=True, text=True)
    if "Open MPI" not in version.stdout + version.stderr and \
            "OpenRTE" not in version.stdout + version.stderr:
        pytest.skip("the README's numbers are Open MPI's")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=clean_env(tmp_path), start_new_session=True)
    try:
        def check():
            assert proc.poll() is None, proc.communicate()
        wait_running(exp, check)
        if target == "mpiexec":
            out, err = signal_mpiexec(proc, exp, signal.SIGINT, timeout=WAIT_S)
        else:
            line = (exp / ".lock").read_text()
            os.kill(int(line.split()[1]), signal.SIGINT)
            out, err = proc.communicate(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
        end_leftovers(exp)
    # (-9: mpiexec hung in its own shutdown and signal_mpiexec killed it)
    stalled = target == "mpiexec" and proc.returncode == -signal.SIGKILL
    assert proc.returncode == status or stalled, out + err
    assert seen in err, err


def test_help_is_the_header_comment_only():
    proc = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith("async-search-run MODEL SITE [EXPID]\n")
    assert "set -" not in proc.stdout and "#" not in proc.stdout
    header = []
    for line in SCRIPT.read_text().splitlines()[1:]:
        if not line.startswith("#"):
            break
        header.append(line[2:] if line.startswith("# ") else line[1:])
    assert proc.stdout == "\n".join(header) + "\n"
