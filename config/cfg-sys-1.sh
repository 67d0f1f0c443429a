# System settings (the seed's cfg-sys-1.sh), read by bin/async-search-run.
# Each line keeps a value already in the environment.

# MPI processes: 1 manager + PROCS-1 workers (PROCS >= 2).
PROCS=${PROCS:-4}
# Processes per node (scheduler sites).
PPN=${PPN:-1}
# Scheduler sites: the job's time limit, queue (partition) and project
# (account); empty: the cluster's default.
WALLTIME=${WALLTIME:-06:00:00}
QUEUE=${QUEUE:-}
PROJECT=${PROJECT:-}

# The settings of async-search are optional, as in cfg-prm-1.sh: unset or
# empty, each takes async-search's default (`build/async-search
# cfg-variables` lists them, `build/async-search --help` explains them).
#
# BENCHMARK_TIMEOUT  seconds a model may train: passed to it as `timeout`,
#                    checked at epoch end (0: none)
# SH_TIMEOUT         seconds after which a model process is killed (SIGTERM,
#                    then SIGKILL; 0: never)
# MODEL_PYTHON       interpreter that runs CANDLE models (may differ from the
#                    manager's; default: the Python async-search was built
#                    with, make PYTHON=...)
# GPUS_PER_NODE      GPUs per node: each worker gets one
#                    (CUDA_VISIBLE_DEVICES, ROCR_VISIBLE_DEVICES,
#                    ZE_AFFINITY_MASK) by its rank on the node; 0 leaves them
#                    alone
# LAUNCH             how workers start evaluations of CANDLE models:
#                    subprocess (a new Python per evaluation) or fork-server
#                    (a warm Python per worker, which has imported torch once,
#                    forks each evaluation)
