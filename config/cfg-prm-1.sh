# Search settings (the seed's cfg-prm-1.sh), read by bin/async-search-run.
#
# Every variable here is optional. Unset or empty, it takes async-search's
# default; set in the environment, it wins over this file
# (`MAX_EVALS=40 bin/async-search-run tc1 local`). To change a setting for
# every run, add a line that keeps the environment's value, e.g.
#   MAX_EVALS=${MAX_EVALS:-40}
# The defaults, and the flag each variable becomes:
#   build/async-search cfg-variables    (lines "VAR --flag DEFAULT")
#   build/async-search --help           (what each flag does)
# async-search --check validates the values before anything is created.
#
# INIT_SIZE         points of the initial design, requested at the start (any
#                   size: smaller or larger than the number of workers)
# MAX_EVALS         evaluations to finish; failed ones count
# NUM_BUFFER        points kept ready beyond one per worker, to hide the
#                   optimizer's latency
# MAX_THRESHOLD     when results arrive less than THRESHOLD_WINDOW seconds
# THRESHOLD_WINDOW  apart, new points are requested once MAX_THRESHOLD results
#                   have accumulated
# N_JOBS            threads the optimizer uses to fit its model and produce
#                   points (-1: all cores)
# RANDOM_SEED       seed of the optimizer
# OPTIMIZER         default | original | random | optuna | skopt | module:Class
# MAX_FAILURES      stop once this many evaluations have failed or timed out
#                   (0: never)
# RESTART_FILE      continue an experiment: its directory (or its results.csv).
#                   Results are replayed, evaluations that were in flight are
#                   issued again, and run ids continue with restart number
# RESTART_NUMBER    (0: one more than used). The experiment's settings (its
#                   config.json) apply where neither this file nor the
#                   environment sets one; MAX_EVALS at or below the rows done:
#                   nothing is left to do
# EXP_SUFFIX        appended as it is to automatic experiment ids, which count
#                   among the ids with that suffix (EXP_SUFFIX=_big: EXP000_big)
