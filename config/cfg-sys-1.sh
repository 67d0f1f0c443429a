# System settings (the seed's cfg-sys-1.sh). Each line keeps a value already
# in the environment.

# MPI processes: 1 manager + PROCS-1 workers (PROCS >= 2).
PROCS=${PROCS:-4}
# Processes per node (scheduler sites).
PPN=${PPN:-1}
WALLTIME=${WALLTIME:-06:00:00}
QUEUE=${QUEUE:-}
PROJECT=${PROJECT:-}
# Seconds a model may train: passed to it as `timeout`, checked at epoch end.
BENCHMARK_TIMEOUT=${BENCHMARK_TIMEOUT:-3600}
# Seconds after which a model process is killed (SIGTERM, then SIGKILL).
SH_TIMEOUT=${SH_TIMEOUT:-3600}
# Interpreter that runs CANDLE models (may differ from the manager's).
MODEL_PYTHON=${MODEL_PYTHON:-/usr/bin/python3}
# GPUs per node: each worker gets one (CUDA_VISIBLE_DEVICES, ROCR_VISIBLE_DEVICES,
# ZE_AFFINITY_MASK) by its rank on the node; 0 leaves them alone.
GPUS_PER_NODE=${GPUS_PER_NODE:-0}
# How workers start evaluations of CANDLE models: subprocess (a new Python per
# evaluation) or fork-server (a warm Python per worker, which has imported
# torch once, forks each evaluation).
LAUNCH=${LAUNCH:-subprocess}
