# shellcheck shell=bash
# SITE pbs: a batch job under PBS Pro (qsub), the ranks started by mpiexec,
# e.g. ALCF Polaris (Cray MPICH, PALS mpiexec).
#
# bin/async-search-run writes EXPDIR/job.pbs and submits it with qsub; the
# search's output goes to EXPDIR/output.txt (written by the script as it runs;
# PBS's own output file, copied back at the end, is EXPDIR/job.pbs.log), its
# launcher's exit status to EXPDIR/exit_status, the job id to EXPDIR/job_id.
# WAIT=1 waits for the job (qstat -x) and returns the search's exit status;
# DRY_RUN=1 writes and prints the script and the qsub command, and submits
# nothing (see sites/lib/scheduler.sh).
#
# From cfg-sys: ceil(PROCS/PPN) nodes -> select=N, WALLTIME -> walltime,
# QUEUE -> -q, PROJECT -> -A, GPUS_PER_NODE -> ngpus, PROCS and PPN ->
# mpiexec -n, --ppn. With GPUs or teams (GPUS_PER_NODE > 0, RANKS_PER_EVAL >
# 1) PPN counts the workers of a node (at most GPUS_PER_NODE: one GPU each, by
# its slot among the node's workers) and the manager is one more rank on the
# first node, without a GPU: N = ceil((PROCS-1)/PPN) nodes in two select
# chunks (1 node with mpiprocs=PPN+1, N-1 with mpiprocs=PPN; ngpus on both),
# and the job writes EXPDIR/hostfile (the host of each rank, from
# PBS_NODEFILE) for mpiexec --hostfile (Open MPI: with --map-by seq); PPN,
# PROCS and RANKS_PER_EVAL are checked to fit (sites/lib/scheduler.sh). Cray
# PALS is given that host file without --ppn (not verified here: see
# README). Site variables (environment or cfg-sys):

# CPUs of one node, requested in the select statement (ncpus=); Polaris: 64
# hardware threads. Empty: leave ncpus out.
PBS_NCPUS=${PBS_NCPUS-64}
# More resources for every chunk of the select statement (e.g. "system=polaris").
PBS_SELECT_EXTRA=${PBS_SELECT_EXTRA:-}
# Placement (-l place=); empty: the server's default.
PBS_PLACE=${PBS_PLACE-scatter}
# File systems the job needs (-l filesystems=; Polaris requires it, e.g.
# "home:eagle"); empty: no such line.
PBS_FILESYSTEMS=${PBS_FILESYSTEMS:-}
# More qsub words, on its command line (e.g. "-l debug=true" or "-V").
PBS_QSUB_ARGS=${PBS_QSUB_ARGS:-}
# The launcher, its processes-per-node flag (Cray PALS and MPICH: --ppn;
# Open MPI: --npernode) and more words (e.g. "--depth=8 --cpu-bind depth").
PBS_MPIEXEC=${PBS_MPIEXEC:-mpiexec}
PBS_PPN_FLAG=${PBS_PPN_FLAG:---ppn}
PBS_MPIEXEC_ARGS=${PBS_MPIEXEC_ARGS:-}
# cfg variables the site needs: Polaris wants a queue and a project.
PBS_REQUIRED=${PBS_REQUIRED-QUEUE PROJECT}

SCHED_NAME=pbs
SCHED_REQUIRED=$PBS_REQUIRED
SCHED_SUBMIT_STDIN=0

sched_site_check() {
  [ -z "$PBS_NCPUS" ] || [[ "$PBS_NCPUS" =~ ^[1-9][0-9]{0,4}$ ]] ||
    sched_die "PBS_NCPUS='$PBS_NCPUS' is not a whole number from 1 to 99999"
  if [ "$SCHED_PLACED" = 1 ]; then
    [ -z "$PBS_NCPUS" ] || [ "$SCHED_FIRST" -le "$PBS_NCPUS" ] ||
      sched_die "PPN=$PPN: the first node would run $SCHED_FIRST ranks (the manager and $SCHED_WPN workers), more than its $PBS_NCPUS CPUs (PBS_NCPUS; set PPN to at most $((PBS_NCPUS - 1)))"
  else
    [ -z "$PBS_NCPUS" ] || [ "$((10#$PPN))" -le "$PBS_NCPUS" ] ||
      sched_die "PPN=$PPN is more than the $PBS_NCPUS CPUs of a node (PBS_NCPUS)"
  fi
  local name
  for name in PBS_SELECT_EXTRA PBS_PLACE PBS_FILESYSTEMS; do
    [ -z "${!name}" ] || [[ "${!name}" =~ ^[A-Za-z0-9_.,:=+/-]+$ ]] ||
      sched_die "$name='${!name}' holds a space or a character a PBS resource cannot"
  done
}

# pbs_chunk N MPIPROCS: one chunk of the select statement: N nodes.
pbs_chunk() {
  local chunk=$1
  [ -z "$PBS_NCPUS" ] || chunk+=":ncpus=$PBS_NCPUS"
  chunk+=":mpiprocs=$2"
  [ "$(sched_int GPUS_PER_NODE)" -eq 0 ] || chunk+=":ngpus=$(sched_int GPUS_PER_NODE)"
  [ -z "$PBS_SELECT_EXTRA" ] || chunk+=":$PBS_SELECT_EXTRA"
  echo "$chunk"
}

sched_directives() {
  local select nodes
  nodes=$(sched_nodes)
  if [ "$SCHED_PLACED" != 1 ]; then
    select=$(pbs_chunk "$nodes" "$PPN")
  else
    # The first node's chunk runs the manager too; PBS lists the hosts in
    # PBS_NODEFILE in the order of the chunks.
    select=$(pbs_chunk 1 "$SCHED_FIRST")
    [ "$nodes" -eq 1 ] || select+="+$(pbs_chunk $((nodes - 1)) "$SCHED_WPN")"
  fi
  echo "#PBS -N $(sched_job_name)"
  echo "#PBS -l select=$select"
  [ -z "$PBS_PLACE" ] || echo "#PBS -l place=$PBS_PLACE"
  echo "#PBS -l walltime=$WALLTIME"
  [ -z "$PBS_FILESYSTEMS" ] || echo "#PBS -l filesystems=$PBS_FILESYSTEMS"
  [ -z "$QUEUE" ] || echo "#PBS -q $QUEUE"
  [ -z "$PROJECT" ] || echo "#PBS -A $PROJECT"
  echo "#PBS -j oe"
  echo "#PBS -o $EXPDIR/job.pbs.log"
}

# PBS copies the job's output back only when it ends: the script appends to
# output.txt itself, so the search can be followed while it runs.
sched_redirect() { echo 1; }

# The placed layout: the job writes the host of each rank into
# EXPDIR/hostfile (from PBS_NODEFILE), given to mpiexec with --hostfile in
# place of PBS_PPN_FLAG: Open MPI (PBS_PPN_FLAG=--npernode) with --map-by seq
# (rank i on line i), Cray PALS and MPICH place rank i on line i of a host
# file that lists a host once per rank.
# shellcheck disable=SC2016 # the job's own $ variables
sched_launch_setup() {
  [ "$SCHED_PLACED" = 1 ] || return 0
  sched_hostfile_lines 'cat "$PBS_NODEFILE"'
}

sched_launch_cmd() {
  local words=("$PBS_MPIEXEC" -n "$PROCS")
  if [ "$SCHED_PLACED" != 1 ]; then
    words+=("$PBS_PPN_FLAG" "$PPN")
  else
    words+=(--hostfile "$EXPDIR/hostfile")
    [ "$PBS_PPN_FLAG" != --npernode ] || words+=(--map-by seq)
  fi
  # shellcheck disable=SC2206 # a list of words
  words+=($PBS_MPIEXEC_ARGS)
  printf '%s\n' "${words[@]}"
}

SCHED_SUBMIT="qsub $PBS_QSUB_ARGS"

# qsub prints the job id (e.g. 123456.polaris-pbs-01.hsn.cm.polaris.alcf.anl.gov).
sched_job_id() {
  grep -E '^[0-9]+(\[[0-9]*\])?(\.[^[:space:]]*)?$' | tail -n 1
}

# qstat -x -f ID (PBS Pro): job_state F (finished) and Exit_status once done.
sched_query_job() { qstat -x -f "$1"; }
SCHED_JOB_GONE='Unknown Job Id|Job has finished'
sched_parse_state() {
  local out state code
  out=$(cat)
  state=$(sed -n 's/^[[:space:]]*job_state = \([A-Z]\).*/\1/p' <<<"$out" | head -n 1)
  code=$(sed -n 's/^[[:space:]]*Exit_status = \(-\{0,1\}[0-9]*\).*/\1/p' <<<"$out" | head -n 1)
  case "$state" in
    F | X)
      # PBS Pro reports a job killed by signal S as 256+S.
      if [[ "$code" =~ ^[0-9]+$ ]] && [ "$code" -gt 256 ]; then code=$((128 + code - 256)); fi
      echo "done $state ${code:--}"
      ;;
    "") ;;
    *) echo active ;;
  esac
}

sched_cancel() { qdel "$1"; }

# shellcheck source=sites/lib/scheduler.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/scheduler.sh"
