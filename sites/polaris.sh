# shellcheck shell=bash
# SITE polaris: ALCF Polaris (HPE, PBS Pro, Cray PALS mpiexec), as the
# original workflow's sched-polaris.sh: sites/pbs.sh with Polaris's
# settings. A node has 4 NVIDIA A100 GPUs (each worker gets one through
# CUDA_VISIBLE_DEVICES by its slot among the node's workers) and 32 cores
# (64 hardware threads); every job names its file systems, a queue and a
# project. So: GPUS_PER_NODE 4, ncpus=64, -l filesystems=home:eagle, QUEUE
# and PROJECT required (queues: debug, debug-scaling, prod, preemptable).
# With GPUs PPN counts the workers of a node, at most 4: PPN=4 runs one
# worker per GPU and the manager as a fifth rank on the first node, without
# a GPU (sites/pbs.sh: select chunks and a host file from PBS_NODEFILE);
# mpiexec --depth=64/(the first node's ranks: PPN+1, fewer when PROCS is
# small; PPN with GPUS_PER_NODE=0 and no teams) --cpu-bind depth (each rank,
# and the model it starts, keeps its share of the node instead of one
# core). Everything can be overridden as for
# sites/pbs.sh, e.g. PBS_FILESYSTEMS=home:grand:eagle (the original's list).

GPUS_PER_NODE=${GPUS_PER_NODE:-4}
PBS_NCPUS=${PBS_NCPUS-64}
PBS_FILESYSTEMS=${PBS_FILESYSTEMS-home:eagle}
PBS_REQUIRED=${PBS_REQUIRED-QUEUE PROJECT}
# The MPI processes of the busiest node: PPN, and the manager besides with
# GPUs or teams (see sites/lib/scheduler.sh).
polaris_ranks=${PPN:-}
if [[ "$polaris_ranks" =~ ^[0-9]+$ ]] && [[ "${PROCS:-}" =~ ^[0-9]+$ ]] &&
  { [[ ! "$GPUS_PER_NODE" =~ ^\+?0*$ ]] ||
    [[ "${RANKS_PER_EVAL:-1}" =~ ^\+?0*([2-9]|[1-9][0-9]+)$ ]]; }; then
  # the manager and min(PPN, PROCS-1) workers
  polaris_ranks=$((10#$polaris_ranks < 10#$PROCS - 1 ? 10#$polaris_ranks + 1 : 10#$PROCS))
fi
if [ -z "${PBS_MPIEXEC_ARGS+set}" ] && [[ "$polaris_ranks" =~ ^[0-9]+$ ]] &&
  [ "$((10#$polaris_ranks))" -ge 1 ] && [ "$((10#$polaris_ranks))" -le 64 ]; then
  PBS_MPIEXEC_ARGS="--depth=$((64 / 10#$polaris_ranks)) --cpu-bind depth"
fi

# shellcheck source=sites/pbs.sh
source "$(dirname "${BASH_SOURCE[0]}")/pbs.sh"
