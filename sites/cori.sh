# shellcheck shell=bash
# SITE cori: NERSC Cori (Cray XC40, Slurm; retired in May 2023), as the
# original workflow's sched-cori.sh: sites/slurm.sh on Cori's KNL nodes
# (--constraint=knl; 68 cores, no GPUs), QUEUE as the QOS (NERSC's -q debug,
# regular, ...: --qos). NERSC's current machine, Perlmutter, is Slurm too:
# SITE slurm with SLURM_QUEUE_FLAG=--qos, SLURM_SBATCH_ARGS=--constraint=gpu,
# GPUS_PER_NODE=4 and PPN=4 (4 workers per node, one per GPU, the manager
# besides them on the first node: sites/slurm.sh).

SLURM_SBATCH_ARGS=${SLURM_SBATCH_ARGS---constraint=knl}
SLURM_QUEUE_FLAG=${SLURM_QUEUE_FLAG:---qos}

# shellcheck source=sites/slurm.sh
source "$(dirname "${BASH_SOURCE[0]}")/slurm.sh"
