"""Scheduler sites (sites/slurm.sh, pbs.sh, lsf.sh) without a scheduler.

DRY_RUN=1 prints the batch script with the submit command, and creates
nothing: the directives derived from PROCS, PPN, WALLTIME, QUEUE, PROJECT and
GPUS_PER_NODE are checked line by line. With GPUs or teams (RANKS_PER_EVAL)
PPN counts the workers of a node and the manager is one more rank on the
first node: the nodes, the tasks, the select chunks, jsrun's resource file
and the host file the job writes (run here from the printed script) are
checked too. Bad values (and bad combinations of PPN, GPUS_PER_NODE,
RANKS_PER_EVAL and PROCS) are one line on stderr, exit status 2, nothing
created, nothing submitted. The submit/wait plumbing of PBS and LSF (WAIT=1,
the search's exit status) runs against small stand-ins for qsub/qstat and
bsub/bjobs that run the job script on this machine, also with teams. Slurm
for real: test_slurm.py.
"""

from __future__ import annotations

import json
import os
import socket
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
    for var in ("QUEUE", "PROJECT", "WAIT", "DRY_RUN", "JOB_SETUP", "GPUS_PER_NODE",
                "RANKS_PER_EVAL", "SHARE_GPUS"):
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
    """No GPUs, no teams: PPN counts every rank, the manager among them."""
    proc = run_site(tmp_path, "slurm", "dry", path_dir=no_submit, DRY_RUN="1", PROCS="10",
                    PPN="4", WALLTIME="01:30:00", QUEUE="gpu", PROJECT="CANDLE_ECP",
                    SLURM_CPUS_PER_PROC="8",
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
        "#SBATCH --cpus-per-task=8",
        f"#SBATCH --output={exp}/output.txt",
        "#SBATCH --open-mode=append",
    ]
    launch = launch_line(script)
    assert launch.startswith(
        f"srun --ntasks=10 --cpus-per-task=8 {ROOT}/build/async-search --exp-dir {exp} ")
    assert "--max-evals 4" in launch
    assert "hostfile" not in script and "SLURM_HOSTFILE" not in script
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


# ---- GPUs and teams: the manager is one more rank on the first node ----------

HOSTFILE_COMMENT = "# The host of each rank, one line per rank (rank 0: the manager)"


def ranks_comment(script: str) -> str:
    return next(line for line in script.splitlines() if line.startswith("# ranks: "))


def hostfile_lines(script: str) -> str:
    """The lines of a printed job script that write EXPDIR/hostfile."""
    lines = script.splitlines()
    start = lines.index(HOSTFILE_COMMENT)
    end = lines.index("}", start)
    return "\n".join(lines[start:end + 1]) + "\n"


def run_hostfile_lines(tmp_path: Path, script: str, exp: Path, nodes: list,
                       pbs: bool = False) -> subprocess.CompletedProcess:
    """Runs the printed script's host-file lines as the job would: Slurm's
    scontrol (a stand-in) or PBS's PBS_NODEFILE names the nodes."""
    exp.mkdir(parents=True, exist_ok=True)
    bin_dir = tmp_path / "fake-scontrol"
    bin_dir.mkdir(exist_ok=True)
    listing = tmp_path / "nodes.txt"
    listing.write_text("".join(f"{n}\n" for n in nodes))
    write_exe(bin_dir / "scontrol", f"""#!/bin/sh
[ "$1 $2 $3" = "show hostnames n[1-9]" ] || {{ echo "scontrol: bad call: $*" >&2; exit 1; }}
cat {listing}
""")
    block = tmp_path / "hostfile-lines.sh"
    block.write_text(hostfile_lines(script))
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "SLURM_JOB_NODELIST": "n[1-9]", "PBS_NODEFILE": str(listing)}
    if not pbs:
        del env["PBS_NODEFILE"]
    return subprocess.run(["bash", str(block)], capture_output=True, text=True, env=env,
                          timeout=60)


def test_slurm_gpus_the_manager_is_an_extra_rank(tmp_path, no_submit):
    """PPN=4 with 4 GPUs per node: 4 workers per node, one per GPU, and the
    manager a fifth rank on the first node; srun places each rank."""
    proc = run_site(tmp_path, "slurm", "g1", path_dir=no_submit, DRY_RUN="1", PROCS="11",
                    PPN="4", GPUS_PER_NODE="4", SLURM_CPUS_PER_PROC="7")
    assert proc.returncode == 0, proc.stderr
    exp = tmp_path / "experiments" / "g1"
    script = dry_script(proc, tmp_path)
    assert directives(script, "#SBATCH") == [
        "#SBATCH --job-name=as-g1",
        "#SBATCH --nodes=3",  # 10 workers, 4 per node
        "#SBATCH --ntasks-per-node=5",  # the first node: the manager and 4 workers
        "#SBATCH --time=06:00:00",
        "#SBATCH --gpus-per-node=4",
        "#SBATCH --cpus-per-task=7",
        f"#SBATCH --output={exp}/output.txt",
        "#SBATCH --open-mode=append",
    ]
    assert ranks_comment(script) == (
        "# ranks: 11 ranks on 3 node(s): the first runs the manager (rank 0) and 4 workers, "
        "the others 4 workers each (the last 2); each worker one of its node's 4 GPUs, "
        "the manager none")
    launch = launch_line(script)
    assert launch.startswith(
        f"srun --ntasks=11 --distribution=arbitrary --cpus-per-task=7 {ROOT}/build/async-search ")
    assert "--gpus-per-node 4" in launch
    assert f"\nexport SLURM_HOSTFILE={exp}/hostfile\nsrun " in script
    assert script.index(HOSTFILE_COMMENT) < script.index("export SLURM_HOSTFILE")
    # the job's host file: one line per rank
    run = run_hostfile_lines(tmp_path, script, exp, ["n1", "n2", "n3"])
    assert run.returncode == 0, run.stderr
    assert (exp / "hostfile").read_text().split() == ["n1"] * 5 + ["n2"] * 4 + ["n3"] * 2
    # an allocation with too few nodes: the job stops before the launch
    (exp / "hostfile").unlink()
    run = run_hostfile_lines(tmp_path, script, exp, ["n1", "n2"])
    assert run.returncode == 1
    assert f"the allocation's nodes hold fewer than 11 ranks ({exp}/hostfile)" in run.stderr


def test_the_readme_slurm_gpu_example(tmp_path, no_submit):
    """README: 64 workers, one per GPU, on 16 nodes of 4 GPUs."""
    proc = run_site(tmp_path, "slurm", "r1", path_dir=no_submit, DRY_RUN="1", PROCS="65",
                    PPN="4", GPUS_PER_NODE="4", WALLTIME="02:00:00", QUEUE="gpu",
                    PROJECT="m1234")
    assert proc.returncode == 0, proc.stderr
    script = dry_script(proc, tmp_path)
    lines = directives(script, "#SBATCH")
    assert "#SBATCH --nodes=16" in lines and "#SBATCH --ntasks-per-node=5" in lines
    assert not any(line.startswith("#SBATCH --ntasks=") for line in lines)
    # the README's former example (8 ranks per node on 4 GPUs) is refused
    proc = run_site(tmp_path, "slurm", "r2", path_dir=no_submit, DRY_RUN="1", PROCS="64",
                    PPN="8", GPUS_PER_NODE="4")
    assert proc.returncode == 2
    assert "PPN=8 workers per node is more than GPUS_PER_NODE=4" in proc.stderr


def test_slurm_teams_through_mpiexec(tmp_path, no_submit):
    """Teams of 2 without GPUs: PPN=4 workers per node (two teams), the
    manager one more rank; Open MPI's mpiexec places rank i on line i."""
    proc = run_site(tmp_path, "slurm", "t1", path_dir=no_submit, DRY_RUN="1", PROCS="9",
                    PPN="4", RANKS_PER_EVAL="2", SLURM_LAUNCHER="mpiexec")
    assert proc.returncode == 0, proc.stderr
    exp = tmp_path / "experiments" / "t1"
    script = dry_script(proc, tmp_path)
    lines = directives(script, "#SBATCH")
    assert lines[1:3] == ["#SBATCH --nodes=2", "#SBATCH --ntasks-per-node=5"]
    assert not any("--gpus" in line or "--ntasks=" in line for line in lines)
    assert ranks_comment(script).endswith("; teams of 2 ranks, each on one node")
    assert launch_line(script).startswith(
        f"mpiexec -n 9 --hostfile {exp}/hostfile --map-by seq --oversubscribe --bind-to none "
        f"{ROOT}/build/async-search ")
    assert "--ranks-per-eval 2" in launch_line(script)
    assert "SLURM_HOSTFILE" not in script
    run = run_hostfile_lines(tmp_path, script, exp, ["n1", "n2"])
    assert run.returncode == 0, run.stderr
    assert (exp / "hostfile").read_text().split() == ["n1"] * 5 + ["n2"] * 4


def test_slurm_teams_over_whole_nodes(tmp_path, no_submit):
    """Teams of 4 on nodes of 2 GPUs: each team takes two whole nodes."""
    proc = run_site(tmp_path, "slurm", "t2", path_dir=no_submit, DRY_RUN="1", PROCS="9",
                    PPN="2", GPUS_PER_NODE="2", RANKS_PER_EVAL="4")
    assert proc.returncode == 0, proc.stderr
    exp = tmp_path / "experiments" / "t2"
    script = dry_script(proc, tmp_path)
    assert directives(script, "#SBATCH")[1:3] == ["#SBATCH --nodes=4",
                                                  "#SBATCH --ntasks-per-node=3"]
    assert ranks_comment(script).endswith("; teams of 4 ranks, each on 2 whole nodes")
    run = run_hostfile_lines(tmp_path, script, exp, ["a", "b", "c", "d"])
    assert run.returncode == 0, run.stderr
    assert (exp / "hostfile").read_text().split() == ["a"] * 3 + ["b", "b", "c", "c", "d", "d"]


def test_a_ppn_above_the_workers_is_one_node(tmp_path, no_submit):
    """With GPUs PPN counts workers: PPN=8 for 2 workers is one node of 3
    ranks (without GPUs PPN may not exceed PROCS: test_bad_values...)."""
    proc = run_site(tmp_path, "slurm", "o1", path_dir=no_submit, DRY_RUN="1", PROCS="3",
                    PPN="8", GPUS_PER_NODE="8")
    assert proc.returncode == 0, proc.stderr
    script = dry_script(proc, tmp_path)
    assert directives(script, "#SBATCH")[1:3] == ["#SBATCH --nodes=1",
                                                  "#SBATCH --ntasks-per-node=3"]
    # 6 workers on nodes of 4 GPUs with PPN=8: refused
    proc = run_site(tmp_path, "slurm", "o2", path_dir=no_submit, DRY_RUN="1", PROCS="7",
                    PPN="8", GPUS_PER_NODE="4")
    assert proc.returncode == 2
    assert "PPN=8 workers per node is more than GPUS_PER_NODE=4" in proc.stderr


def test_share_gpus_lets_more_workers_than_gpus_on_a_node(tmp_path, no_submit):
    proc = run_site(tmp_path, "slurm", "s1", path_dir=no_submit, DRY_RUN="1", PROCS="9",
                    PPN="8", GPUS_PER_NODE="4", SHARE_GPUS="yes")
    assert proc.returncode == 0, proc.stderr
    script = dry_script(proc, tmp_path)
    assert directives(script, "#SBATCH")[1:3] == ["#SBATCH --nodes=1",
                                                  "#SBATCH --ntasks-per-node=9"]
    assert "the workers of a node share its 4 GPUs (SHARE_GPUS=yes)" in ranks_comment(script)
    assert "--share-gpus yes" in launch_line(script)


def test_pbs_dry_run(tmp_path, no_submit):
    """4 GPUs per node, PPN=4 workers: the first chunk runs the manager too."""
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
        "#PBS -l select=1:ncpus=64:mpiprocs=5:ngpus=4:system=polaris"
        "+1:ncpus=64:mpiprocs=4:ngpus=4:system=polaris",
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
        f"mpiexec -n 9 --hostfile {exp}/hostfile --depth=8 --cpu-bind depth "
        f"{ROOT}/build/async-search ")
    assert launch_line(script).endswith(" --time-limit 3240")
    assert proc.stdout.strip().endswith(f"to submit: qsub {exp}/job.pbs")
    assert not (tmp_path / "submitted.log").exists()
    # PBS_NODEFILE: each host as often as its chunk's mpiprocs, chunk by chunk
    run = run_hostfile_lines(tmp_path, script, exp, ["x1"] * 5 + ["x2"] * 4, pbs=True)
    assert run.returncode == 0, run.stderr
    assert (exp / "hostfile").read_text().split() == ["x1"] * 5 + ["x2"] * 4


def test_pbs_one_node_of_gpus_with_open_mpi(tmp_path, no_submit):
    proc = run_site(tmp_path, "pbs", "p1", path_dir=no_submit, DRY_RUN="1", QUEUE="q",
                    PROJECT="p", PROCS="4", PPN="4", GPUS_PER_NODE="4",
                    PBS_PPN_FLAG="--npernode")
    assert proc.returncode == 0, proc.stderr
    exp = tmp_path / "experiments" / "p1"
    script = dry_script(proc, tmp_path)
    # 3 workers: one chunk, the manager and the 3 workers
    assert directives(script, "#PBS -l select") == [
        "#PBS -l select=1:ncpus=64:mpiprocs=4:ngpus=4"]
    assert launch_line(script).startswith(
        f"mpiexec -n 4 --hostfile {exp}/hostfile --map-by seq {ROOT}/build/async-search ")


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
        "#BSUB -nnodes 2",  # 12 workers, 6 per node, the manager besides
        "#BSUB -W 121",  # minutes, rounded up
        "#BSUB -P MED106",
        "#BSUB -q batch-hm",
        '#BSUB -alloc_flags "gpumps smt4"',
        f"#BSUB -o {exp}/job.lsf.log",
        f"#BSUB -e {exp}/job.lsf.log",
    ]
    body = [line for line in script.splitlines() if line and not line.startswith("#")]
    assert body[0] == f"exec >>{exp}/output.txt 2>&1"
    # jsrun's explicit resource file: the manager (no GPU) and 6 workers on
    # host 1, 6 workers on host 2; a node's 42 cores shared out (SMT 4), every
    # worker all 6 GPUs of its node (async-search picks one per worker)
    erf = [f"cat >{exp}/job.erf <<'ERF'", "cpu_index_using: logical",
           "overlapping_rs: allow", "oversubscribe_gpu: allow",
           "rank: 0: { host: 1; cpu: {0-23} }"]
    erf += [f"rank: {r}: {{ host: 1; cpu: {{{24 * r}-{24 * r + 23}}}; gpu: {{0-5}} }}"
            for r in range(1, 7)]
    erf += [f"rank: {7 + j}: {{ host: 2; cpu: {{{28 * j}-{28 * j + 27}}}; gpu: {{0-5}} }}"
            for j in range(6)]
    lines = script.splitlines()
    start = lines.index(erf[0])
    assert lines[start:start + len(erf) + 1] == erf + ["ERF"]
    assert launch_line(script).startswith(
        f"jsrun --erf_input {exp}/job.erf {ROOT}/build/async-search ")
    assert launch_line(script).endswith(" --time-limit 6930")
    # bsub reads #BSUB lines from a script on its standard input
    assert proc.stdout.strip().endswith(f"to submit: bsub < {exp}/job.lsf")
    assert not (tmp_path / "submitted.log").exists()


def test_lsf_teams_without_gpus(tmp_path, no_submit):
    proc = run_site(tmp_path, "lsf", "t1", path_dir=no_submit, DRY_RUN="1", PROJECT="p",
                    PROCS="5", PPN="2", RANKS_PER_EVAL="2", LSF_SMT="1")
    assert proc.returncode == 0, proc.stderr
    script = dry_script(proc, tmp_path)
    assert "#BSUB -nnodes 2\n" in script
    assert [line for line in script.splitlines() if line.startswith("rank: ")] == [
        "rank: 0: { host: 1; cpu: {0-13} }",
        "rank: 1: { host: 1; cpu: {14-27} }",
        "rank: 2: { host: 1; cpu: {28-41} }",
        "rank: 3: { host: 2; cpu: {0-20} }",
        "rank: 4: { host: 2; cpu: {21-41} }",
    ]
    assert ranks_comment(script).endswith("; teams of 2 ranks, each on one node")


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
     "PPN=6 workers per node is more than GPUS_PER_NODE=2: they would share GPUs "
     "(set PPN to at most 2"),
    ("slurm", {"PROCS": "64", "PPN": "8", "GPUS_PER_NODE": "4"},
     "PPN=8 workers per node is more than GPUS_PER_NODE=4"),
    ("frontier", {"PROJECT": "p", "PROCS": "17", "PPN": "16"},
     "SITE frontier: PPN=16 workers per node is more than GPUS_PER_NODE=8"),
    ("pbs", {"PROCS": "10", "PPN": "4", "RANKS_PER_EVAL": "2"},
     "PROCS=10 leaves 9 worker ranks (PROCS-1), not a multiple of RANKS_PER_EVAL=2: some "
     "would stay idle (set PROCS to 1 + a multiple of 2, e.g. PROCS=9 or 11)"),
    ("slurm", {"PROCS": "4", "PPN": "4", "RANKS_PER_EVAL": "4"},
     "PROCS=4 leaves 3 worker ranks (PROCS-1), not a multiple of RANKS_PER_EVAL=4: some "
     "would stay idle (set PROCS to 1 + a multiple of 4, e.g. PROCS=5)"),
    ("lsf", {"PROCS": "13", "PPN": "6", "GPUS_PER_NODE": "6", "RANKS_PER_EVAL": "4"},
     "PPN=6 is not a multiple of RANKS_PER_EVAL=4: a team would span two nodes (set PPN to 4"),
    ("slurm", {"PROCS": "9", "PPN": "2", "GPUS_PER_NODE": "8", "RANKS_PER_EVAL": "4"},
     "PPN=2 splits each team of RANKS_PER_EVAL=4 ranks over nodes, though a node's 8 GPUs "
     "can hold one (set PPN to 4, or another multiple of 4 up to 8)"),
    ("pbs", {"PROCS": "13", "PPN": "4", "RANKS_PER_EVAL": "6"},
     "RANKS_PER_EVAL=6 is not a multiple of PPN=4: teams would cover nodes unevenly "
     "(set PPN to a divisor of 6, e.g. 3)"),
    ("pbs", {"PBS_NCPUS": "4", "PROCS": "5", "PPN": "4", "GPUS_PER_NODE": "4"},
     "PPN=4: the first node would run 5 ranks (the manager and 4 workers), more than its 4 CPUs"),
    ("lsf", {"LSF_CPUS_PER_NODE": "4", "PROCS": "5", "PPN": "4", "GPUS_PER_NODE": "4"},
     "PPN=4: the first node would run 5 ranks (the manager and 4 workers), more than its 4 cores"),
    ("lsf", {"LSF_SMT": "0"}, "LSF_SMT='0' is not a whole number from 1 to 8"),
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


@pytest.mark.parametrize("site,scheduler", [
    ("polaris", "pbs"), ("summit", "lsf"), ("frontier", "slurm"), ("crusher", "slurm")])
def test_errors_name_the_machine_the_user_named(tmp_path, no_submit, site, scheduler):
    """A machine's file runs its scheduler's (polaris: pbs.sh; crusher, an alias,
    frontier.sh then slurm.sh), but the message names the SITE as given."""
    proc = run_site(tmp_path, site, path_dir=no_submit, DRY_RUN="1", QUEUE="debug", PROJECT="")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr == (f"async-search-run: error: SITE {site}: PROJECT is empty, and this "
                           f"site needs it (set PROJECT in cfg-sys or the environment)\n")
    assert f"SITE {scheduler}" not in proc.stderr
    assert not (tmp_path / "experiments").exists()
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
# this machine as the job's one node, 8 MPI slots
for i in 1 2 3 4 5 6 7 8; do hostname; done >"$state/$id.nodes"
PBS_NODEFILE=$state/$id.nodes setsid bash -c 'bash "$1"; echo $? >"$2.tmp"; mv "$2.tmp" "$2"' \\
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
# jsrun --nrs N ... PROGRAM ARGS -> mpiexec -n N PROGRAM ARGS; with an
# explicit resource file, N is its number of rank lines
FAKE_JSRUN = """#!/bin/bash
n=1
while [ $# -gt 0 ]; do
  case "$1" in
    --nrs) n=$2; shift 2 ;;
    --erf_input) n=$(grep -c '^rank: ' "$2"); shift 2 ;;
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
def test_teams_through_the_stand_ins(tmp_path, fake_schedulers, site):
    """RANKS_PER_EVAL=2 on one node: the job places the manager and 4
    workers (a host file from PBS_NODEFILE for Open MPI's mpiexec, jsrun's
    resource file), which form two teams."""
    proc = run_site(tmp_path, site, "t1", path_dir=fake_schedulers, QUEUE="q1", PROJECT="p1",
                    WAIT="1", WAIT_POLL="0.5", PROCS="5", PPN="4", RANKS_PER_EVAL="2",
                    timeout=180, **SITE_ENV[site])
    exp = tmp_path / "experiments" / "t1"
    assert proc.returncode == 0, proc.stdout + proc.stderr + read(exp / "output.txt")
    rows = read_results(exp)
    assert len(rows) == 4 and all(r["status"] == "ok" for r in rows), rows
    config = json.loads((exp / "config.json").read_text())
    assert (config["ranks_per_eval"], config["workers"], len(config["ranks"])) == (2, 2, 4)
    log = (exp / "manager.log").read_text()
    assert "team 1 member 1" in log and "team 2 member 1" in log
    if site == "pbs":
        assert (exp / "hostfile").read_text().split() == [socket.gethostname()] * 5
    else:
        assert read(exp / "job.erf").count("\nrank: ") == 5


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
