# shellcheck shell=bash
# SITE slurm: a batch job under Slurm (sbatch), the ranks started by srun
# (default) or by mpiexec inside the allocation.
#
# bin/async-search-run writes EXPDIR/job.slurm and submits it with sbatch;
# the job's output goes to EXPDIR/output.txt, its launcher's exit status to
# EXPDIR/exit_status, the job id to EXPDIR/job_id. WAIT=1 waits for the job
# and returns the search's exit status; DRY_RUN=1 writes and prints the
# script and the sbatch command, and submits nothing (see sites/lib/scheduler.sh).
#
# From cfg-sys: PROCS -> --ntasks, PPN -> --ntasks-per-node,
# ceil(PROCS/PPN) -> --nodes, WALLTIME -> --time, QUEUE -> --partition (or
# SLURM_QUEUE_FLAG), PROJECT -> --account (both left to the cluster's
# defaults when empty), GPUS_PER_NODE -> --gpus-per-node, or
# --gres=gpu:TYPE:N with SLURM_GPU_TYPE. With GPUs or teams
# (GPUS_PER_NODE > 0, RANKS_PER_EVAL > 1) PPN counts the workers of a node
# (at most GPUS_PER_NODE: one GPU each, by its slot among the node's
# workers) and the manager is one more task on the first node, without a
# GPU: ceil((PROCS-1)/PPN) -> --nodes, PPN+1 -> --ntasks-per-node (no
# --ntasks), and the job writes EXPDIR/hostfile (the host of each rank) for
# srun --distribution=arbitrary (SLURM_HOSTFILE) or mpiexec; PPN, PROCS and
# RANKS_PER_EVAL are checked to fit (sites/lib/scheduler.sh). Site variables
# (environment, cfg-sys, or a machine's site file such as sites/frontier.sh
# that sets them and sources this one):

# srun | mpiexec. srun is the native way (PMIx wires up Open MPI, and
# Cray/MPICH through their plugins); mpiexec uses the MPI's own launcher
# inside the allocation (Open MPI starts its daemons through Slurm).
SLURM_LAUNCHER=${SLURM_LAUNCHER:-srun}
# srun --mpi=TYPE (pmix, pmi2, cray_shasta, ...); empty: the cluster's MpiDefault.
SLURM_MPI=${SLURM_MPI:-}
# More srun words (e.g. "--cpu-bind=none").
SLURM_SRUN_ARGS=${SLURM_SRUN_ARGS:-}
# mpiexec launcher: the command, and its extra words; Open MPI also gets
# --oversubscribe --bind-to none (models must not be pinned to their rank's core).
MPIEXEC=${MPIEXEC:-mpiexec}
MPIEXEC_ARGS=${MPIEXEC_ARGS:-}
# CPUs per MPI process (--cpus-per-task): the cores a worker's model may use.
# Empty: Slurm's default (1).
SLURM_CPUS_PER_PROC=${SLURM_CPUS_PER_PROC:-}
# More sbatch words, on its command line (e.g. "--qos=regular --constraint=gpu").
SLURM_SBATCH_ARGS=${SLURM_SBATCH_ARGS:-}
# cfg variables this cluster insists on (e.g. "PROJECT" where an account is
# mandatory); empty ones are an error before anything is created.
SLURM_REQUIRED=${SLURM_REQUIRED:-}
# The sbatch flag QUEUE becomes: --partition, or --qos where the cluster
# selects its queues by QOS (NERSC).
SLURM_QUEUE_FLAG=${SLURM_QUEUE_FLAG:---partition}
# GPUs as generic resources of this type (--gres=gpu:TYPE:N, e.g. NIH
# Biowulf's v100x); empty: --gpus-per-node=N.
SLURM_GPU_TYPE=${SLURM_GPU_TYPE:-}

SCHED_NAME=slurm
SCHED_REQUIRED=$SLURM_REQUIRED
SCHED_SUBMIT_STDIN=0

sched_site_check() {
  case "$SLURM_LAUNCHER" in
    srun | mpiexec) ;;
    *) sched_die "SLURM_LAUNCHER='$SLURM_LAUNCHER' is not srun or mpiexec" ;;
  esac
  [ -z "$SLURM_MPI" ] || [[ "$SLURM_MPI" =~ ^[A-Za-z0-9_]+$ ]] ||
    sched_die "SLURM_MPI='$SLURM_MPI' is not an MPI plugin name (see srun --mpi=list)"
  [ -z "$SLURM_CPUS_PER_PROC" ] || [[ "$SLURM_CPUS_PER_PROC" =~ ^[1-9][0-9]{0,3}$ ]] ||
    sched_die "SLURM_CPUS_PER_PROC='$SLURM_CPUS_PER_PROC' is not a whole number from 1 to 9999"
  case "$SLURM_QUEUE_FLAG" in
    --partition | --qos) ;;
    *) sched_die "SLURM_QUEUE_FLAG='$SLURM_QUEUE_FLAG' is not --partition or --qos" ;;
  esac
  [ -z "$SLURM_GPU_TYPE" ] || [[ "$SLURM_GPU_TYPE" =~ ^[A-Za-z0-9_.-]{1,64}$ ]] ||
    sched_die "SLURM_GPU_TYPE='$SLURM_GPU_TYPE' is not a GPU type name (letters, digits, '_.-')"
}

sched_directives() {
  echo "#SBATCH --job-name=$(sched_job_name)"
  echo "#SBATCH --nodes=$(sched_nodes)"
  if [ "$SCHED_PLACED" = 1 ]; then
    # Room for the first node's ranks (the manager and PPN workers) on every
    # node; no --ntasks, which would let Slurm spread the tasks' CPUs
    # unevenly. srun places each rank (SLURM_HOSTFILE, below).
    echo "#SBATCH --ntasks-per-node=$SCHED_FIRST"
  else
    echo "#SBATCH --ntasks=$PROCS"
    echo "#SBATCH --ntasks-per-node=$PPN"
  fi
  echo "#SBATCH --time=$WALLTIME"
  [ -z "$QUEUE" ] || echo "#SBATCH $SLURM_QUEUE_FLAG=$QUEUE"
  [ -z "$PROJECT" ] || echo "#SBATCH --account=$PROJECT"
  if [ "$GPUS_PER_NODE" -gt 0 ] && [ -n "$SLURM_GPU_TYPE" ]; then
    echo "#SBATCH --gres=gpu:$SLURM_GPU_TYPE:$GPUS_PER_NODE"
  elif [ "$GPUS_PER_NODE" -gt 0 ]; then
    echo "#SBATCH --gpus-per-node=$GPUS_PER_NODE"
  fi
  [ -z "$SLURM_CPUS_PER_PROC" ] || echo "#SBATCH --cpus-per-task=$SLURM_CPUS_PER_PROC"
  # Slurm writes the output from the node as it comes: straight to output.txt.
  echo "#SBATCH --output=$EXPDIR/output.txt"
  echo "#SBATCH --open-mode=append"
}

sched_redirect() { echo 0; }

# slurm_open_mpi: the mpiexec launcher is Open MPI's.
slurm_open_mpi() {
  "$MPIEXEC" --version 2>/dev/null | grep -qE "Open MPI|OpenRTE"
}

# The placed layout: the job writes the host of each rank into
# EXPDIR/hostfile; srun reads it through SLURM_HOSTFILE with
# --distribution=arbitrary, Open MPI's mpiexec with --hostfile and
# --map-by seq (rank i on line i), MPICH's and Intel MPI's with -machinefile.
# shellcheck disable=SC2016 # the job's own $ variables
sched_launch_setup() {
  [ "$SCHED_PLACED" = 1 ] || return 0
  sched_hostfile_lines 'scontrol show hostnames "$SLURM_JOB_NODELIST"'
  [ "$SLURM_LAUNCHER" != srun ] || echo "export SLURM_HOSTFILE=$(sched_quote "$EXPDIR/hostfile")"
}

sched_launch_cmd() {
  local words=()
  if [ "$SLURM_LAUNCHER" = srun ]; then
    words=(srun "--ntasks=$PROCS")
    [ "$SCHED_PLACED" != 1 ] || words+=(--distribution=arbitrary)
    # Slurm 22.05+ steps no longer inherit the job's --cpus-per-task.
    [ -z "$SLURM_CPUS_PER_PROC" ] || words+=("--cpus-per-task=$SLURM_CPUS_PER_PROC")
    [ -z "$SLURM_MPI" ] || words+=("--mpi=$SLURM_MPI")
    # shellcheck disable=SC2206 # a list of words
    words+=($SLURM_SRUN_ARGS)
  else
    words=("$MPIEXEC" -n "$PROCS")
    if slurm_open_mpi; then
      [ "$SCHED_PLACED" != 1 ] || words+=(--hostfile "$EXPDIR/hostfile" --map-by seq)
      words+=(--oversubscribe --bind-to none)
    elif [ "$SCHED_PLACED" = 1 ]; then
      words+=(-machinefile "$EXPDIR/hostfile")
    fi
    # shellcheck disable=SC2206 # a list of words
    words+=($MPIEXEC_ARGS)
  fi
  printf '%s\n' "${words[@]}"
}

SCHED_SUBMIT="sbatch --parsable $SLURM_SBATCH_ARGS"

# sbatch --parsable prints "ID" or "ID;CLUSTER" (after any warnings).
sched_job_id() {
  grep -E '^[0-9]+(;.*)?$' | tail -n 1 | cut -d';' -f1
}

sched_query_job() { scontrol show job -o "$1"; }
SCHED_JOB_GONE='Invalid job id'
# Purged from slurmctld's memory (MinJobAge): ask the accounting.
sched_job_gone() {
  local out state
  if out=$(sacct -n -X -P -j "$1" -o State,ExitCode 2>/dev/null) && [ -n "$out" ]; then
    state=${out%%|*}
    echo "done ${state%% *} ${out##*|}"
  else
    echo "done UNKNOWN -"
  fi
}
sched_parse_state() {
  local out state code
  out=$(cat)
  state=$(grep -o 'JobState=[A-Z_]*' <<<"$out" | head -n 1)
  state=${state#JobState=}
  code=$(grep -o 'ExitCode=[0-9]*:[0-9]*' <<<"$out" | head -n 1)
  code=${code#ExitCode=}
  case "$state" in
    COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | PREEMPTED | OUT_OF_MEMORY | \
      BOOT_FAIL | DEADLINE)
      echo "done $state ${code:--}"
      ;;
    "") ;;
    *) echo active ;;
  esac
}

sched_cancel() { scancel "$1"; }

# shellcheck source=sites/lib/scheduler.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/scheduler.sh"
