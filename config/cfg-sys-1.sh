# System settings (the seed's cfg-sys-1.sh), read by bin/async-search-run.
#
# Every variable here is optional, as in cfg-prm-1.sh: unset or empty, it
# takes its default (below); set in the environment, it wins over this file.
# To change a setting for every run, add a line that keeps the environment's
# value, e.g. PROCS=${PROCS:-8}. A restart (RESTART_FILE) takes the
# experiment's own settings for what is set neither here nor in the
# environment.
#
# PROCS              MPI processes: 1 manager + PROCS-1 workers (PROCS >= 2;
#                    default 4, which gives 3 workers; the original's 4 gave
#                    2, as Swift/T took 2)
# PPN                processes per node, for the scheduler sites (default 1);
#                    with GPUS_PER_NODE > 0 or RANKS_PER_EVAL > 1 the workers
#                    per node (at most GPUS_PER_NODE, a multiple of
#                    RANKS_PER_EVAL), the manager one more rank on the first
#                    node, without a GPU
# WALLTIME           the job's time limit, HH:MM:SS (default 06:00:00; minutes
#                    or seconds of 60 or more are carried over: 00:60:00 is
#                    01:00:00)
# QUEUE, PROJECT     scheduler sites: the queue (partition) and the project
#                    (account); empty: the cluster's default, where it has one
#
# The settings of async-search (`build/async-search cfg-variables` lists
# them, `build/async-search --help` explains them):
#
# BENCHMARK_TIMEOUT  seconds a model may train: passed to it as `timeout`,
#                    checked at epoch end (0 or -1: none)
# SH_TIMEOUT         seconds after which a model process is killed (SIGTERM,
#                    then SIGKILL; 0, -1 or set but empty: never)
# MODEL_PYTHON       interpreter that runs CANDLE models (may differ from the
#                    manager's; default: the Python async-search was built
#                    with, make PYTHON=...)
# GPUS_PER_NODE      GPUs per node: each worker gets one
#                    (CUDA_VISIBLE_DEVICES, ROCR_VISIBLE_DEVICES,
#                    ZE_AFFINITY_MASK) by its slot among the node's workers; 0
#                    leaves them alone (a site file such as sites/polaris.sh
#                    sets its machine's number)
# LAUNCH             how workers start evaluations of CANDLE models:
#                    subprocess (a new Python per evaluation) or fork-server
#                    (a warm Python per worker, which has imported torch once,
#                    forks each evaluation)
#
# Passed to every model when set here (as the original did):
# MODEL_PYTHON_SCRIPT  the benchmark's module, instead of MODEL
# OBJ_RETURN           the history key that is the objective (val_loss, loss,
#                      val_acc, val_corr)
