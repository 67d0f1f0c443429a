# shellcheck shell=bash
# SITE biowulf: NIH Biowulf (Slurm), as the original workflow's
# sched-biowulf.sh and env-biowulf.sh: sites/slurm.sh with srun --mpi=pmix
# (Biowulf's Open MPI is wired up through PMIx). Biowulf's partitions:
# norm (the default, one node), multinode (jobs over several nodes: set
# QUEUE=multinode), gpu (QUEUE=gpu, with GPUS_PER_NODE and the GPU type in
# SLURM_GPU_TYPE, e.g. v100x or a100: --gres=gpu:TYPE:N, as Biowulf asks;
# PPN then counts a node's workers, at most GPUS_PER_NODE, and the manager
# runs besides them on the first node, as sites/slurm.sh says).

SLURM_MPI=${SLURM_MPI:-pmix}

# shellcheck source=sites/slurm.sh
source "$(dirname "${BASH_SOURCE[0]}")/slurm.sh"
