"""Scheduler sites (sites/slurm.sh, pbs.sh, lsf.sh) without a scheduler.

DRY_RUN=1 prints the batch script with the submit command, and creates
nothing: the directives derived from PROCS, PPN, WALLTIME, QUEUE, PROJECT and
GPUS_PER_NODE are checked line by line. Bad values are one line on stderr,
exit status 2, nothing created, nothing submitted. The
submit/wait plumbing of PBS and LSF (WAIT=1, the search's exit status) runs
against small stand-ins for qsub/qstat and bsub/bjobs that run the job script
on this machine. Slurm for real: test_slurm.py.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, mpi_env, model_cmd, read_results

SCRIPT = ROOT / "bin" / "async-search-run"
PROBLEM = str(ROOT / "problems" / "as_problem.py")

# Stand-ins for the submit commands: they only record that they were called.
RECORDER = """#!/bin/sh
echo "$0 $*" >>"{log}"
echo "{name}: must not be called" >&2
exit 1
"""


@pytest.fixture
def no_submit(tmp_path: Path) -> Path:
    """A PATH directory whose sbatch/qsub/bsub record any call."""
    bin_dir = tmp_path / "no-submit"
    bin_dir.mkdir()
    log = tmp_path / "submitted.log"
    for name in ("sbatch", "qsub", "bsub", "scancel", "qdel", "bkill"):
        write_exe(bin_dir / name, RECORDER.format(log=log, name=name))
    return bin_dir


def write_exe(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def run_site(tmp_path: Path, site: str, *args: str, path_dir: Path | None = None,
             timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    full = mpi_env()
    for var in ("QUEUE", "PROJECT", "WAIT", "DRY_RUN", "JOB_SETUP", "GPUS_PER_NODE"):
        full.pop(var, None)
    full.update(EXPERIMENTS=str(tmp_path / "experiments"), PROBLEM=PROBLEM,
                MODEL_CMD=model_cmd("quadratic.py"), MAX_EVALS="4", PROCS="3", PPN="3")
    if path_dir is not None:
        full["PATH"] = f"{path_dir}:{full['PATH']}"
    full.update(env)
    return subprocess.run([str(SCRIPT), "as", site, *args], capture_output=True, text=True,
                          timeout=timeout, env=full)


def directives(script: str, prefix: str) -> list:
    return [line for line in script.splitlines() if line.startswith(prefix)]


def dry_script(proc: subprocess.CompletedProcess, tmp_path: Path) -> str:
    """The batch script a DRY_RUN=1 printed (checked to be valid bash); the
    dry run created nothing."""
    out = proc.stdout
    start = out.index("#!/bin/bash\n")
    end = out.index("async-search-run: DRY_RUN=1, nothing created or submitted", start)
    script = out[start:end]
    check = tmp_path / "printed-script.sh"
    check.write_text(script)
    assert subprocess.run(["bash", "-n", str(check)]).returncode == 0
    check.unlink()
    assert not (tmp_path / "experiments").exists()
    return script


def launch_line(script: str) -> str:
    lines = script.splitlines()
    for i, line in enumerate(lines):
        if line.endswith(" \\") and not line.startswith("#"):
            return line[:-2] + " " + lines[i + 1].strip()
    raise AssertionError(f"no launch line in:\n{script}")


# ---- dry runs: the exact directives -------------------------------------------

def test_slurm_dry_run(tmp_path, no_submit):
    proc = run_site(tmp_path, "slurm", "dry", path_dir=no_submit, DRY_RUN="1", PROCS="10",
                    PPN="4", WALLTIME="01:30:00", QUEUE="gpu", PROJECT="CANDLE_ECP",
                    GPUS_PER_NODE="2", SLURM_CPUS_PER_PROC="8",
                    SLURM_SBATCH_ARGS="--qos=regular --constraint=gpu")
    assert proc.returncode == 0, proc.stderr
    exp = tmp_path / "experiments" / "dry"
    script = dry_script(proc, tmp_path)
    assert directives(script, "#SBATCH") == [
        "#SBATCH --job-name=as-dry",
        "#SBATCH --nodes=3",
        "#SBATCH --ntasks=10",
        "#SBATCH --ntasks-per-node=4",
        "#SBATCH --time=01:30:00",
        "#SBATCH --partition=gpu",
        "#SBATCH --account=CANDLE_ECP",
        "#SBATCH --gpus-per-node=2",
        "#SBATCH --cpus-per-task=8",
        f"#SBATCH --output={exp}/output.txt",
        "#SBATCH --open-mode=append",
    ]
    launch = launch_line(script)
    assert launch.startswith(
        f"srun --ntasks=10 --cpus-per-task=8 {ROOT}/build/async-search --exp-dir {exp} ")
    assert "--gpus-per-node 2" in launch and "--max-evals 4" in launch
    # the search stops before the walltime: 5400 s - min(300 s, 10%)
    assert launch.endswith(" --time-limit 5100")
    assert f"submit: sbatch --parsable --qos=regular --constraint=gpu {exp}/job.slurm" in script
    assert proc.stdout.strip().endswith(
        "DRY_RUN=1, nothing created or submitted; to submit: "
        f"sbatch --parsable --qos=regular --constraint=gpu {exp}/job.slurm")
    assert not (tmp_path / "submitted.log").exists()


def test_slurm_dry_run_defaults_and_mpiexec(tmp_path, no_submit):
    proc = run_site(tmp_path, "slurm", "d2", path_dir=no_submit, DRY_RUN="1", PROCS="4",
                    PPN="1", SLURM_LAUNCHER="mpiexec", MPIEXEC_ARGS="--mca btl self,tcp",
                    JOB_SETUP="module load openmpi\nexport FOO=1")
    assert proc.returncode == 0, proc.stderr
    script = dry_script(proc, tmp_path)
    lines = directives(script, "#SBATCH")
    # no partition/account/GPU lines when QUEUE/PROJECT/GPUS_PER_NODE are unset
    assert lines[:5] == ["#SBATCH --job-name=as-d2", "#SBATCH --nodes=4", "#SBATCH --ntasks=4",
                         "#SBATCH --ntasks-per-node=1", "#SBATCH --time=06:00:00"]
    assert not any(word in line for line in lines
                   for word in ("--partition", "--account", "--gpus", "--cpus"))
    assert launch_line(script).startswith(
        "mpiexec -n 4 --oversubscribe --bind-to none --mca btl self,tcp ")
    assert launch_line(script).endswith(" --time-limit 21300")  # 6 h - 300 s
    assert "\nmodule load openmpi\nexport FOO=1\n" in script
    assert script.index("module load") < script.index("mpiexec -n 4")


def test_slurm_srun_mpi_type(tmp_path, no_submit):
    proc = run_site(tmp_path, "slurm", "d3", path_dir=no_submit, DRY_RUN="1",
                    SLURM_MPI="pmi2", SLURM_SRUN_ARGS="--cpu-bind=none", SEARCH_TIME_LIMIT="0")
    assert proc.returncode == 0, proc.stderr
    script = dry_script(proc, tmp_path)
    assert launch_line(script).startswith("srun --ntasks=3 --mpi=pmi2 --cpu-bind=none ")
    assert "--time-limit" not in script


def test_pbs_dry_run(tmp_path, no_submit):
    proc = run_site(tmp_path, "pbs", "dry", path_dir=no_submit, DRY_RUN="1", PROCS="9",
                    PPN="4", WALLTIME="00:59:00", QUEUE="debug", PROJECT="CANDLE_ECP",
                    GPUS_PER_NODE="4", PBS_FILESYSTEMS="home:eagle",
                    PBS_SELECT_EXTRA="system=polaris",
                    PBS_MPIEXEC_ARGS="--depth=8 --cpu-bind depth")
    assert proc.returncode == 0, proc.stderr
    exp = tmp_path / "experiments" / "dry"
    script = dry_script(proc, tmp_path)
    assert directives(script, "#PBS") == [
        "#PBS -N as-dry",
        "#PBS -l select=3:ncpus=64:mpiprocs=4:ngpus=4:system=polaris",
        "#PBS -l place=scatter",
        "#PBS -l walltime=00:59:00",
        "#PBS -l filesystems=home:eagle",
        "#PBS -q debug",
        "#PBS -A CANDLE_ECP",
        "#PBS -j oe",
        f"#PBS -o {exp}/job.pbs.log",
    ]
    # PBS copies its output file back only at the end: the script writes
    # output.txt itself, first thing.
    body = [line for line in script.splitlines() if line and not line.startswith("#")]
    assert body[0] == f"exec >>{exp}/output.txt 2>&1"
    assert launch_line(script).startswith(
        f"mpiexec -n 9 --ppn 4 --depth=8 --cpu-bind depth {ROOT}/build/async-search ")
    assert launch_line(script).endswith(" --time-limit 3240")
    assert proc.stdout.strip().endswith(f"to submit: qsub {exp}/job.pbs")
    assert not (tmp_path / "submitted.log").exists()


def test_pbs_dry_run_optional_lines_left_out(tmp_path, no_submit):
    proc = run_site(tmp_path, "pbs", "d2", path_dir=no_submit, DRY_RUN="1", QUEUE="prod",
                    PROJECT="p1", PBS_NCPUS="", PBS_PLACE="", PBS_PPN_FLAG="--npernode")
    assert proc.returncode == 0, proc.stderr
    script = dry_script(proc, tmp_path)
    assert directives(script, "#PBS -l") == ["#PBS -l select=1:mpiprocs=3",
                                             "#PBS -l walltime=06:00:00"]
    assert launch_line(script).startswith("mpiexec -n 3 --npernode 3 ")


def test_lsf_dry_run(tmp_path, no_submit):
    proc = run_site(tmp_path, "lsf", "dry", path_dir=no_submit, DRY_RUN="1", PROCS="13",
                    PPN="6", WALLTIME="02:00:30", QUEUE="batch-hm", PROJECT="MED106",
                    GPUS_PER_NODE="6", LSF_ALLOC_FLAGS="gpumps smt4")
    assert proc.returncode == 0, proc.stderr
    exp = tmp_path / "experiments" / "dry"
    script = dry_script(proc, tmp_path)
    assert directives(script, "#BSUB") == [
        "#BSUB -J as-dry",
        "#BSUB -nnodes 3",
        "#BSUB -W 121",  # minutes, rounded up
        "#BSUB -P MED106",
        "#BSUB -q batch-hm",
        '#BSUB -alloc_flags "gpumps smt4"',
        f"#BSUB -o {exp}/job.lsf.log",
        f"#BSUB -e {exp}/job.lsf.log",
    ]
    body = [line for line in script.splitlines() if line and not line.startswith("#")]
    assert body[0] == f"exec >>{exp}/output.txt 2>&1"
    assert launch_line(script).startswith(
        "jsrun --nrs 13 --tasks_per_rs 1 --rs_per_host 6 --cpu_per_rs 7 --gpu_per_rs 1 "
        f"--bind rs {ROOT}/build/async-search ")
    assert launch_line(script).endswith(" --time-limit 6930")
    # bsub reads #BSUB lines from a script on its standard input
    assert proc.stdout.strip().endswith(f"to submit: bsub < {exp}/job.lsf")
    assert not (tmp_path / "submitted.log").exists()


def test_lsf_without_gpus_or_queue(tmp_path, no_submit):
    proc = run_site(tmp_path, "lsf", "d2", path_dir=no_submit, DRY_RUN="1", PROJECT="MED106",
                    PROCS="4", PPN="2", WALLTIME="00:00:01")
    assert proc.returncode == 0, proc.stderr
    script = dry_script(proc, tmp_path)
    assert "#BSUB -W 1\n" in script and "#BSUB -q" not in script
    assert "--cpu_per_rs 21 --gpu_per_rs 0 " in launch_line(script)
    assert launch_line(script).endswith(" --time-limit 1")


# ---- bad values ----------------------------------------------------------------

@pytest.mark.parametrize("site,env,message", [
    ("slurm", {"WALLTIME": "1h"}, "SITE slurm: WALLTIME='1h' is not HH:MM:SS"),
    ("pbs", {"WALLTIME": "1:60"}, "SITE pbs: WALLTIME='1:60' is not HH:MM:SS"),
    ("slurm", {"WALLTIME": "9000:00:00"}, "SITE slurm: WALLTIME=9000:00:00 is more than a year"),
    ("lsf", {"WALLTIME": "00:00:00"}, "SITE lsf: WALLTIME=00:00:00 is zero"),
    ("slurm", {"PROCS": "4", "PPN": "8"}, "PPN=8 is more than PROCS=4"),
    ("pbs", {"PROCS": "2", "PPN": "3"}, "PPN=3 is more than PROCS=2"),
    ("pbs", {"QUEUE": ""}, "SITE pbs: QUEUE is empty, and this site needs it"),
    ("pbs", {"PROJECT": ""}, "SITE pbs: PROJECT is empty, and this site needs it"),
    ("lsf", {"PROJECT": ""}, "SITE lsf: PROJECT is empty, and this site needs it"),
    ("slurm", {"SLURM_REQUIRED": "PROJECT QUEUE"}, "SITE slurm: PROJECT is empty"),
    ("slurm", {"QUEUE": "debug; rm -rf /"}, "QUEUE='debug; rm -rf /' is not a valid name"),
    ("lsf", {"PROJECT": "a b"}, "PROJECT='a b' is not a valid name"),
    ("slurm", {"SLURM_LAUNCHER": "aprun"}, "SLURM_LAUNCHER='aprun' is not srun or mpiexec"),
    ("slurm", {"SLURM_CPUS_PER_PROC": "0"}, "SLURM_CPUS_PER_PROC='0' is not a whole number"),
    ("slurm", {"WAIT": "yes"}, "WAIT='yes' is not 0 or 1"),
    ("pbs", {"DRY_RUN": "true"}, "DRY_RUN='true' is not 0 or 1"),
    ("slurm", {"WAIT_POLL": "0"}, "WAIT_POLL='0' is not a positive number"),
    ("lsf", {"SEARCH_TIME_LIMIT": "1h"}, "SEARCH_TIME_LIMIT='1h' is not auto or a whole number"),
    ("pbs", {"PBS_NCPUS": "32", "PROCS": "64", "PPN": "64"}, "PPN=64 is more than the 32 CPUs"),
    ("pbs", {"PBS_FILESYSTEMS": "home eagle"}, "PBS_FILESYSTEMS='home eagle' holds a space"),
    ("lsf", {"PROCS": "12", "PPN": "6", "GPUS_PER_NODE": "2"},
     "GPUS_PER_NODE=2 is fewer than PPN=6"),
    ("lsf", {"PROCS": "100", "PPN": "50"}, "PPN=50 is more than the 42 cores"),
    ("slurm", {"EXPERIMENTS": "/tmp/with space"}, "holds a space or '%'"),
])
def test_bad_values_are_one_line_errors(tmp_path, no_submit, site, env, message):
    base = {"QUEUE": "q1", "PROJECT": "p1"} if site in ("pbs", "lsf") else {}
    base.update(env)
    if "EXPERIMENTS" in env:
        base["EXPERIMENTS"] = str(tmp_path / "with space" / "experiments")
    proc = run_site(tmp_path, site, path_dir=no_submit, **base)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("async-search-run: error: SITE ")
    assert not (tmp_path / "experiments").exists()
    assert not (tmp_path / "with space").exists()
    assert not (tmp_path / "submitted.log").exists()


def test_a_short_cfg_sys_file(tmp_path, no_submit):
    """A cfg-sys file with PROCS only: async-search's settings take its
    defaults (no GPU directive), PPN and WALLTIME the seed's (1, 06:00:00)."""
    short = tmp_path / "cfg-sys-short.sh"
    short.write_text("PROCS=${PROCS:-4}\n")
    env = {"CFG_SYS": str(short), "PPN": "", "WALLTIME": "", "DRY_RUN": "1"}
    proc = run_site(tmp_path, "slurm", "s0", path_dir=no_submit, **env)
    assert proc.returncode == 0, proc.stderr
    script = dry_script(proc, tmp_path)
    assert "#SBATCH --ntasks-per-node=1" in script and "#SBATCH --time=06:00:00" in script
    assert "--gpus" not in script
    assert "--partition" not in script and "--account" not in script
    proc = run_site(tmp_path, "local", "s3", path_dir=no_submit, **env)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("walltime,normal", [("00:60:00", "01:00:00"), ("1:60:00", "02:00:00"),
                                             ("0:90:75", "01:31:15"), ("100:00:00", "100:00:00")])
def test_walltime_minutes_of_60_or_more_are_carried_over(tmp_path, no_submit, walltime, normal):
    """The original's sites wrote 00:60:00; the job gets 01:00:00."""
    proc = run_site(tmp_path, "slurm", "w", path_dir=no_submit, DRY_RUN="1", WALLTIME=walltime)
    assert proc.returncode == 0, proc.stderr
    assert f"#SBATCH --time={normal}\n" in dry_script(proc, tmp_path)


def test_submit_failure_is_reported(tmp_path, no_submit):
    proc = run_site(tmp_path, "slurm", "f1", path_dir=no_submit)
    assert proc.returncode == 1
    assert "sbatch --parsable" in proc.stderr
    assert "failed: sbatch: must not be called" in proc.stderr
    assert (tmp_path / "submitted.log").exists()


def test_submit_answer_without_job_id(tmp_path):
    bin_dir = tmp_path / "odd-sbatch"
    bin_dir.mkdir()
    write_exe(bin_dir / "sbatch", "#!/bin/sh\necho 'sbatch: queued somewhere'\n")
    proc = run_site(tmp_path, "slurm", "o1", path_dir=bin_dir, WAIT="1")
    assert proc.returncode == 1
    assert "no job id in the answer of sbatch: sbatch: queued somewhere" in proc.stderr


# ---- PBS and LSF submit/wait plumbing against stand-ins -------------------------

# A job runs in the background in its own session; its exit status lands in
# STATE/ID.rc. qstat/bjobs answer in PBS Pro's and LSF's formats.
FAKE_QSUB = """#!/bin/bash
state={state}
script="${{@: -1}}"
id=$(( $(ls "$state" | grep -c '\\.sh$') + 100 ))
cp "$script" "$state/$id.sh"
setsid bash -c 'bash "$1"; echo $? >"$2.tmp"; mv "$2.tmp" "$2"' \\
  job "$state/$id.sh" "$state/$id.rc" </dev/null >/dev/null 2>&1 &
echo $! >"$state/$id.pid"
echo "$id.fake-pbs-server"
"""
FAKE_QSTAT = """#!/bin/bash
# qstat -x -f ID
state={state}
id=${{3%%.*}}
[ -f "$state/$id.sh" ] || {{ echo "qstat: Unknown Job Id $3" >&2; exit 153; }}
echo "Job Id: $3"
if [ -f "$state/$id.rc" ]; then
  echo "    job_state = F"
  echo "    Exit_status = $(cat "$state/$id.rc")"
else
  echo "    job_state = R"
fi
"""
FAKE_QDEL = """#!/bin/bash
state={state}
id=${{1%%.*}}
kill -TERM -- -"$(cat "$state/$id.pid")"
echo 271 >"$state/$id.rc"
"""
FAKE_BSUB = """#!/bin/bash
state={state}
id=$(( $(ls "$state" | grep -c '\\.sh$') + 200 ))
cat >"$state/$id.sh"
setsid bash -c 'bash "$1"; echo $? >"$2.tmp"; mv "$2.tmp" "$2"' \\
  job "$state/$id.sh" "$state/$id.rc" </dev/null >/dev/null 2>&1 &
echo $! >"$state/$id.pid"
echo "Job <$id> is submitted to default queue <batch>."
"""
FAKE_BJOBS = """#!/bin/bash
# bjobs -noheader -o "stat exit_code" ID
state={state}
id=$4
[ -f "$state/$id.sh" ] || {{ echo "Job <$id> is not found"; exit 255; }}
if [ -f "$state/$id.rc" ]; then
  rc=$(cat "$state/$id.rc")
  if [ "$rc" = 0 ]; then echo "DONE -"; else echo "EXIT $rc"; fi
else
  echo "RUN -"
fi
"""
# jsrun --nrs N ... PROGRAM ARGS -> mpiexec -n N PROGRAM ARGS
FAKE_JSRUN = """#!/bin/bash
n=1
while [ $# -gt 0 ]; do
  case "$1" in
    --nrs) n=$2; shift 2 ;;
    --bind|--tasks_per_rs|--rs_per_host|--cpu_per_rs|--gpu_per_rs) shift 2 ;;
    *) break ;;
  esac
done
exec mpiexec -n "$n" --oversubscribe --bind-to none "$@"
"""


@pytest.fixture
def fake_schedulers(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "fake-sched"
    state = tmp_path / "fake-state"
    bin_dir.mkdir()
    state.mkdir()
    for name, text in (("qsub", FAKE_QSUB), ("qstat", FAKE_QSTAT), ("qdel", FAKE_QDEL),
                       ("bsub", FAKE_BSUB), ("bjobs", FAKE_BJOBS), ("jsrun", FAKE_JSRUN)):
        write_exe(bin_dir / name, text.format(state=state))
    yield bin_dir
    for pid_file in state.glob("*.pid"):  # never leave a job behind
        try:
            os.killpg(int(pid_file.read_text()), 9)
        except (ProcessLookupError, ValueError):
            pass


SITE_ENV = {
    "pbs": {"PBS_PPN_FLAG": "--npernode", "PBS_MPIEXEC_ARGS": "--oversubscribe --bind-to none"},
    "lsf": {},
}


@pytest.mark.parametrize("site", ["pbs", "lsf"])
def test_wait_returns_the_search_status(tmp_path, fake_schedulers, site):
    proc = run_site(tmp_path, site, "w1", path_dir=fake_schedulers, QUEUE="q1", PROJECT="p1",
                    WAIT="1", WAIT_POLL="0.5", timeout=180, **SITE_ENV[site])
    exp = tmp_path / "experiments" / "w1"
    assert proc.returncode == 0, proc.stdout + proc.stderr + read(exp / "output.txt")
    assert "async-search-run: submitted job" in proc.stdout
    job_id = (exp / "job_id").read_text().strip()
    assert job_id == ("100.fake-pbs-server" if site == "pbs" else "200")
    rows = read_results(exp)
    assert len(rows) == 4 and all(r["status"] == "ok" for r in rows)
    output = (exp / "output.txt").read_text()
    assert "best objective" in output
    assert "best objective" in proc.stdout  # shown while waiting
    assert (exp / "exit_status").read_text().strip() == "0"

    # a failing search: its own exit status comes back
    fail = run_site(tmp_path, site, "w2", path_dir=fake_schedulers, QUEUE="q1", PROJECT="p1",
                    WAIT="1", WAIT_POLL="0.5", MODEL_CMD="/bin/false", MAX_FAILURES="1",
                    timeout=180, **SITE_ENV[site])
    status = (tmp_path / "experiments" / "w2" / "exit_status").read_text().strip()
    assert status not in ("", "0")
    assert fail.returncode == int(status), fail.stderr
    assert f"the search exited with status {status}" in fail.stderr


@pytest.mark.parametrize("site", ["pbs", "lsf"])
def test_no_wait_prints_the_job_id(tmp_path, fake_schedulers, site):
    proc = run_site(tmp_path, site, "n1", path_dir=fake_schedulers, QUEUE="q1", PROJECT="p1",
                    **SITE_ENV[site])
    assert proc.returncode == 0, proc.stderr
    job_id = "100.fake-pbs-server" if site == "pbs" else "200"
    assert f"async-search-run: submitted job {job_id} " in proc.stdout
    assert (tmp_path / "experiments" / "n1" / "job_id").read_text().strip() == job_id
    # the original workflow's name for it, read by its queue_wait
    assert (tmp_path / "experiments" / "n1" / "jobid.txt").read_text().strip() == job_id


def test_job_killed_before_the_search_ends(tmp_path, fake_schedulers):
    # The job ends without exit_status (walltime, qdel): the job's status,
    # PBS's 256+signal read as 128+signal.
    state = tmp_path / "fake-state"
    proc = subprocess.Popen(
        [str(SCRIPT), "as", "pbs", "k1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**mpi_env(), "PATH": f"{fake_schedulers}:{os.environ['PATH']}",
                        "EXPERIMENTS": str(tmp_path / "experiments"), "PROBLEM": PROBLEM,
                        "MODEL_CMD": model_cmd("quadratic.py", "--sleep", "20"),
                        "MAX_EVALS": "4", "PROCS": "3", "PPN": "3", "QUEUE": "q", "PROJECT": "p",
                        "WAIT": "1", "WAIT_POLL": "0.5", **SITE_ENV["pbs"]})
    try:
        exp = tmp_path / "experiments" / "k1"
        wait_for(lambda: (exp / "run").is_dir(), 60, "the search to start")
        subprocess.run([str(fake_schedulers / "qdel"), "100.fake-pbs-server"], check=True)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, out + err
    assert "job 100.fake-pbs-server ended F (exit code 143) before the search finished" in err
    assert not (exp / "exit_status").exists()
    assert (state / "100.rc").read_text().strip() == "271"


def wait_for(condition, timeout: float, what: str) -> None:
    import time
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as e:
        return f"({path}: {e})"
