# shellcheck shell=bash
# SITE summit: OLCF Summit (IBM, LSF, jsrun; retired in November 2024), as
# the original workflow's sched-summit.sh: sites/lsf.sh with Summit's
# settings. A node has 6 NVIDIA V100 GPUs and 42 cores for jobs; every job
# is charged to a project. So: GPUS_PER_NODE 6 (PPN counts the workers of a
# node, at most 6: PPN=6 runs one worker per GPU, the manager as a seventh
# rank on the first node, without a GPU; sites/lsf.sh writes jsrun's
# explicit resource file, with LSF_SMT=4 hardware threads per core), 42 cores
# per node, PROJECT required. The original also asked for -alloc_flags
# "NVME maximizegpfs" (the node's NVMe and GPFS bandwidth, for Swift/T);
# async-search needs neither: LSF_ALLOC_FLAGS="NVME maximizegpfs" asks for
# them again.

GPUS_PER_NODE=${GPUS_PER_NODE:-6}
LSF_CPUS_PER_NODE=${LSF_CPUS_PER_NODE:-42}
LSF_REQUIRED=${LSF_REQUIRED-PROJECT}

# shellcheck source=sites/lsf.sh
source "$(dirname "${BASH_SOURCE[0]}")/lsf.sh"
