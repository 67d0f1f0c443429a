# shellcheck shell=bash
# SITE polaris: ALCF Polaris (HPE, PBS Pro, Cray PALS mpiexec), as the
# original workflow's sched-polaris.sh: sites/pbs.sh with Polaris's
# settings. A node has 4 NVIDIA A100 GPUs (each worker gets one through
# CUDA_VISIBLE_DEVICES by its rank on the node) and 32 cores (64 hardware
# threads); every job names its file systems, a queue and a project. So:
# GPUS_PER_NODE 4, ncpus=64, -l filesystems=home:eagle, QUEUE and PROJECT
# required (queues: debug, debug-scaling, prod, preemptable), and mpiexec
# --ppn PPN --depth=64/PPN --cpu-bind depth (each rank, and the model it
# starts, keeps its share of the node instead of one core). Everything can
# be overridden as for sites/pbs.sh, e.g. PBS_FILESYSTEMS=home:grand:eagle
# (the original's list).

GPUS_PER_NODE=${GPUS_PER_NODE:-4}
PBS_NCPUS=${PBS_NCPUS-64}
PBS_FILESYSTEMS=${PBS_FILESYSTEMS-home:eagle}
PBS_REQUIRED=${PBS_REQUIRED-QUEUE PROJECT}
if [ -z "${PBS_MPIEXEC_ARGS+set}" ] && [[ "${PPN:-}" =~ ^[0-9]+$ ]] &&
  [ "$((10#$PPN))" -ge 1 ] && [ "$((10#$PPN))" -le 64 ]; then
  PBS_MPIEXEC_ARGS="--depth=$((64 / 10#$PPN)) --cpu-bind depth"
fi

# shellcheck source=sites/pbs.sh
source "$(dirname "${BASH_SOURCE[0]}")/pbs.sh"
