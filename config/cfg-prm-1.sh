# Search settings (the seed's cfg-prm-1.sh). Each line keeps a value already
# in the environment, so `MAX_EVALS=40 bin/async-search-run tc1 local` works.

# Points of the initial design, requested at the start (any size: smaller or
# larger than the number of workers).
INIT_SIZE=${INIT_SIZE:-4}
# Evaluations to finish; failed ones count.
MAX_EVALS=${MAX_EVALS:-20}
# Points kept ready beyond one per worker, to hide the optimizer's latency.
NUM_BUFFER=${NUM_BUFFER:-2}
# When results arrive less than THRESHOLD_WINDOW seconds apart, new points are
# requested once this many results have accumulated.
MAX_THRESHOLD=${MAX_THRESHOLD:-1}
THRESHOLD_WINDOW=${THRESHOLD_WINDOW:-16}
# Threads the optimizer uses to fit its model and produce points.
N_JOBS=${N_JOBS:-1}
RANDOM_SEED=${RANDOM_SEED:-0}
# default | original | random | optuna | skopt | module:Class
OPTIMIZER=${OPTIMIZER:-default}
# Stop once this many evaluations have failed or timed out (0: never).
MAX_FAILURES=${MAX_FAILURES:-0}
# Continue an experiment: its directory (or its results.csv). Results are
# replayed, evaluations that were in flight are issued again, and run ids
# continue with restart number RESTART_NUMBER (default: one more than used).
RESTART_FILE=${RESTART_FILE:-}
RESTART_NUMBER=${RESTART_NUMBER:-0}
