# shellcheck shell=bash
# SITE lsf: a batch job under IBM LSF (bsub), the ranks started by jsrun,
# e.g. OLCF Summit (whole nodes: -nnodes; 42 usable cores and 6 GPUs each).
#
# bin/async-search-run writes EXPDIR/job.lsf and submits it with
# `bsub < EXPDIR/job.lsf` (LSF reads the #BSUB lines of a script on its
# standard input); the search's output goes to EXPDIR/output.txt (written by
# the script as it runs; LSF's own output and job report: EXPDIR/job.lsf.log),
# its launcher's exit status to EXPDIR/exit_status, the job id to
# EXPDIR/job_id. WAIT=1 waits for the job (bjobs) and returns the search's
# exit status; DRY_RUN=1 writes and prints the script and the bsub command,
# and submits nothing (see sites/lib/scheduler.sh).
#
# From cfg-sys: ceil(PROCS/PPN) -> -nnodes, WALLTIME -> -W (minutes, rounded
# up), PROJECT -> -P, QUEUE -> -q (LSF's default queue when empty). Without
# GPUs and teams jsrun starts PROCS resource sets of one MPI process each, PPN
# per node, each with LSF_CPUS_PER_NODE/PPN cores. With GPUs or teams
# (GPUS_PER_NODE > 0, RANKS_PER_EVAL > 1) PPN counts the workers of a node (at
# most GPUS_PER_NODE) and the manager is one more rank on the first node,
# without a GPU: ceil((PROCS-1)/PPN) -> -nnodes, and the job writes
# EXPDIR/job.erf, jsrun's explicit resource file (--erf_input): every rank's
# host and share of its node's cores, every worker all of its node's GPUs
# (async-search gives it the one of its slot among the node's workers); PPN,
# PROCS and RANKS_PER_EVAL are checked to fit (sites/lib/scheduler.sh). Site
# variables (environment or cfg-sys):

# Cores of a node that jobs may use (Summit: 42 of 44).
LSF_CPUS_PER_NODE=${LSF_CPUS_PER_NODE:-42}
# -alloc_flags (Summit: e.g. "gpumps smt4"); empty: none.
LSF_ALLOC_FLAGS=${LSF_ALLOC_FLAGS:-}
# More bsub words, on its command line.
LSF_BSUB_ARGS=${LSF_BSUB_ARGS:-}
# Hardware threads per core in the job (Summit: 4, its default SMT level;
# 1 or 2 with LSF_ALLOC_FLAGS=smt1 or smt2): the explicit resource file of the
# placed layout numbers CPUs by hardware thread.
LSF_SMT=${LSF_SMT:-4}
# The launcher and more of its words (e.g. "--smpiargs=-disable_gpu_hooks").
LSF_JSRUN=${LSF_JSRUN:-jsrun}
LSF_JSRUN_ARGS=${LSF_JSRUN_ARGS:-}
# cfg variables the site needs: Summit charges every job to a project.
LSF_REQUIRED=${LSF_REQUIRED-PROJECT}

SCHED_NAME=lsf
SCHED_REQUIRED=$LSF_REQUIRED
SCHED_SUBMIT_STDIN=1

lsf_cpus_per_rs() { echo $((LSF_CPUS_PER_NODE / PPN)); }

sched_site_check() {
  [[ "$LSF_CPUS_PER_NODE" =~ ^[1-9][0-9]{0,4}$ ]] ||
    sched_die "LSF_CPUS_PER_NODE='$LSF_CPUS_PER_NODE' is not a whole number from 1 to 99999"
  [[ "$LSF_SMT" =~ ^[1-8]$ ]] || sched_die "LSF_SMT='$LSF_SMT' is not a whole number from 1 to 8"
  if [ "$SCHED_PLACED" = 1 ]; then
    [ "$SCHED_FIRST" -le "$LSF_CPUS_PER_NODE" ] ||
      sched_die "PPN=$PPN: the first node would run $SCHED_FIRST ranks (the manager and $SCHED_WPN workers), more than its $LSF_CPUS_PER_NODE cores (LSF_CPUS_PER_NODE; set PPN to at most $((LSF_CPUS_PER_NODE - 1)))"
  else
    [ "$(lsf_cpus_per_rs)" -ge 1 ] ||
      sched_die "PPN=$PPN is more than the $LSF_CPUS_PER_NODE cores of a node (LSF_CPUS_PER_NODE)"
  fi
  [ -z "$LSF_ALLOC_FLAGS" ] || [[ "$LSF_ALLOC_FLAGS" =~ ^[A-Za-z0-9_\ .:=-]+$ ]] ||
    sched_die "LSF_ALLOC_FLAGS='$LSF_ALLOC_FLAGS' holds a character LSF's -alloc_flags cannot"
}

sched_directives() {
  local seconds minutes
  seconds=$(sched_walltime_seconds)
  minutes=$(((seconds + 59) / 60))
  echo "#BSUB -J $(sched_job_name)"
  echo "#BSUB -nnodes $(sched_nodes)"
  echo "#BSUB -W $minutes"
  [ -z "$PROJECT" ] || echo "#BSUB -P $PROJECT"
  [ -z "$QUEUE" ] || echo "#BSUB -q $QUEUE"
  [ -z "$LSF_ALLOC_FLAGS" ] || echo "#BSUB -alloc_flags \"$LSF_ALLOC_FLAGS\""
  echo "#BSUB -o $EXPDIR/job.lsf.log"
  echo "#BSUB -e $EXPDIR/job.lsf.log"
}

# LSF spools the job's output and appends it to -o at the end: the script
# appends to output.txt itself, so the search can be followed while it runs.
sched_redirect() { echo 1; }

# lsf_erf_file: the explicit resource file of the placed layout.
lsf_erf_file() { echo "$EXPDIR/job.erf"; }

# The placed layout: jsrun's explicit resource file (--erf_input), one line
# per rank: its host (1, 2, ...: the job's compute nodes in order; 0 is the
# launch node), its share of the node's cores (as hardware threads,
# LSF_SMT per core) and, for a worker, every GPU of the node (overlapping
# resource sets: async-search gives each worker the GPU of its slot among
# the node's workers); the manager has no GPU. The job writes the file.
sched_launch_setup() {
  [ "$SCHED_PLACED" = 1 ] || return 0
  local nodes node ranks share j rank=0 first last gpus=""
  nodes=$(sched_nodes)
  [ "$(sched_int GPUS_PER_NODE)" -eq 0 ] || gpus="; gpu: {0-$(($(sched_int GPUS_PER_NODE) - 1))}"
  echo "# jsrun's explicit resource file: the host, cores and GPUs of each rank"
  echo "cat >$(sched_quote "$(lsf_erf_file)") <<'ERF'"
  echo "cpu_index_using: logical"
  echo "overlapping_rs: allow"
  echo "oversubscribe_gpu: allow"
  for ((node = 0; node < nodes; node++)); do
    ranks=$(sched_node_ranks "$node")
    share=$(((LSF_CPUS_PER_NODE / ranks) * LSF_SMT)) # whole cores
    for ((j = 0; j < ranks; j++)); do
      first=$((j * share))
      last=$((first + share - 1))
      if [ "$rank" -eq 0 ]; then
        echo "rank: 0: { host: 1; cpu: {$first-$last} }"
      else
        echo "rank: $rank: { host: $((node + 1)); cpu: {$first-$last}$gpus }"
      fi
      rank=$((rank + 1))
    done
  done
  echo "ERF"
}

sched_launch_cmd() {
  local words
  if [ "$SCHED_PLACED" = 1 ]; then
    words=("$LSF_JSRUN" --erf_input "$(lsf_erf_file)")
  else
    # One resource set per MPI process; --bind rs: a worker's model may use
    # all the cores of its set, not only the one jsrun would pin the rank to.
    words=("$LSF_JSRUN" --nrs "$PROCS" --tasks_per_rs 1 --rs_per_host "$PPN"
      --cpu_per_rs "$(lsf_cpus_per_rs)" --gpu_per_rs 0 --bind rs)
  fi
  # shellcheck disable=SC2206 # a list of words
  words+=($LSF_JSRUN_ARGS)
  printf '%s\n' "${words[@]}"
}

SCHED_SUBMIT="bsub $LSF_BSUB_ARGS"

# bsub prints "Job <123456> is submitted to queue <batch>."
sched_job_id() {
  sed -n 's/^Job <\([0-9][0-9]*\)> is submitted.*/\1/p' | tail -n 1
}

# bjobs: DONE (exit 0) or EXIT (with its exit code) once finished. Its
# "Job <ID> is not found" may come with status 0: a failed query too.
sched_query_job() {
  local out status=0
  out=$(bjobs -noheader -o "stat exit_code" "$1" 2>&1) || status=$?
  echo "$out"
  [ "$status" -eq 0 ] && [[ "$out" != *"not found"* ]]
}
SCHED_JOB_GONE='not found'
sched_parse_state() {
  local words code
  read -r -a words
  case "${words[0]:-}" in
    DONE) echo "done DONE 0" ;;
    EXIT)
      code=${words[1]:--}
      [[ "$code" =~ ^[0-9]+$ ]] || code=-
      echo "done EXIT $code"
      ;;
    "") ;;
    *) echo active ;;
  esac
}

sched_cancel() { bkill "$1"; }

# shellcheck source=sites/lib/scheduler.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/scheduler.sh"
