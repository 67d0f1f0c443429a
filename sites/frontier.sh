# shellcheck shell=bash
# SITE frontier: OLCF Frontier (HPE Cray EX, Slurm), as the original
# workflow's sched-frontier.sh: sites/slurm.sh with Frontier's settings. A
# node has 8 GPUs (the GCDs of 4 AMD MI250X; each worker gets one through
# ROCR_VISIBLE_DEVICES by its rank on the node) and 56 cores for jobs (8 of
# 64 are kept for the system); Slurm needs an account. So: GPUS_PER_NODE 8,
# each MPI process 56/PPN cores (--cpus-per-task), PROJECT required, srun.
# Use PPN=8 for one worker per GPU (the first node then holds the manager
# and 7 workers). Everything can be overridden as for sites/slurm.sh, e.g.
# SLURM_SBATCH_ARGS="--constraint=nvme" (the original asked for the node's
# NVMe) or QUEUE=extended.

# Cores of a Frontier node that jobs may use.
FRONTIER_CORES=${FRONTIER_CORES:-56}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
if [ -z "${SLURM_CPUS_PER_PROC:-}" ] && [[ "${PPN:-}" =~ ^[0-9]+$ ]] &&
  [[ "$FRONTIER_CORES" =~ ^[0-9]+$ ]] && [ "$((10#$PPN))" -ge 1 ] &&
  [ "$((10#$PPN))" -le "$FRONTIER_CORES" ]; then
  SLURM_CPUS_PER_PROC=$((FRONTIER_CORES / 10#$PPN))
fi
SLURM_REQUIRED=${SLURM_REQUIRED-PROJECT}

# shellcheck source=sites/slurm.sh
source "$(dirname "${BASH_SOURCE[0]}")/slurm.sh"
