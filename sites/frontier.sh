# shellcheck shell=bash
# SITE frontier: OLCF Frontier (HPE Cray EX, Slurm), as the original
# workflow's sched-frontier.sh: sites/slurm.sh with Frontier's settings. A
# node has 8 GPUs (the GCDs of 4 AMD MI250X; each worker gets one through
# ROCR_VISIBLE_DEVICES by its slot among the node's workers) and 56 cores
# for jobs (8 of 64 are kept for the system); Slurm needs an account. So:
# GPUS_PER_NODE 8, PROJECT required, srun. With GPUs PPN counts the workers
# of a node, at most 8: PPN=8 runs one worker per GPU, and the manager as a
# ninth rank on the first node, without a GPU (sites/slurm.sh places every
# rank); each MPI process gets 56 cores / the first node's ranks
# (--cpus-per-task: PPN+1 ranks there, fewer when PROCS is small; PPN with
# GPUS_PER_NODE=0 and no teams, when PPN counts the manager). PPN=4 with
# RANKS_PER_EVAL=2: two teams of two ranks per node. Everything can be
# overridden as for sites/slurm.sh, e.g.
# SLURM_SBATCH_ARGS="--constraint=nvme" (the original asked for the node's
# NVMe) or QUEUE=extended.

# Cores of a Frontier node that jobs may use.
FRONTIER_CORES=${FRONTIER_CORES:-56}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
# The MPI processes of the busiest node: PPN, and the manager besides with
# GPUs or teams (see sites/lib/scheduler.sh).
frontier_ranks=${PPN:-}
if [[ "$frontier_ranks" =~ ^[0-9]+$ ]] && [[ "${PROCS:-}" =~ ^[0-9]+$ ]] &&
  { [[ ! "$GPUS_PER_NODE" =~ ^\+?0*$ ]] ||
    [[ "${RANKS_PER_EVAL:-1}" =~ ^\+?0*([2-9]|[1-9][0-9]+)$ ]]; }; then
  # the manager and min(PPN, PROCS-1) workers
  frontier_ranks=$((10#$frontier_ranks < 10#$PROCS - 1 ? 10#$frontier_ranks + 1 : 10#$PROCS))
fi
if [ -z "${SLURM_CPUS_PER_PROC:-}" ] && [[ "$frontier_ranks" =~ ^[0-9]+$ ]] &&
  [[ "$FRONTIER_CORES" =~ ^[0-9]+$ ]] && [ "$((10#$frontier_ranks))" -ge 1 ] &&
  [ "$((10#$frontier_ranks))" -le "$FRONTIER_CORES" ]; then
  SLURM_CPUS_PER_PROC=$((FRONTIER_CORES / 10#$frontier_ranks))
fi
SLURM_REQUIRED=${SLURM_REQUIRED-PROJECT}

# shellcheck source=sites/slurm.sh
source "$(dirname "${BASH_SOURCE[0]}")/slurm.sh"
