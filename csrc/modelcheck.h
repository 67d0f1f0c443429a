/*
 * modelcheck: before a search starts, check that the model its evaluations
 * will run can run at all, so that a mis-wired model is refused with one
 * line instead of failing every evaluation.
 *
 *  - --model NAME: runs `PYTHON -m async_search.runner --check NAME` in the
 *    environment the workers give models (the rank's MPI variables removed,
 *    PYTHONPATH with HOME/python first), which imports the model's module,
 *    reads its defaults and, for a built-in benchmark, finds its data or the
 *    source it is prepared from on first use;
 *  - --model-cmd "CMD ARGS": finds the program (PATH, as execvp does) and
 *    every script argument ending in .py. Relative paths are refused: each
 *    evaluation runs in its own run directory.
 */
#ifndef ASYNC_SEARCH_MODELCHECK_H
#define ASYNC_SEARCH_MODELCHECK_H

#include <stddef.h>

/* How long the runner may take to import a model and answer. */
#define MODELCHECK_TIMEOUT_S 300.0

struct modelcheck_config {
    const char *model;     /* --model NAME, or NULL */
    const char *model_cmd; /* --model-cmd, or NULL */
    const char *python;    /* the interpreter that runs --model */
    const char *home;      /* the project root (HOME/python) */
    char *const *environ;  /* the environment models inherit */
    double timeout_s;      /* 0: MODELCHECK_TIMEOUT_S */
};

/*
 * Checks the model of c. Returns 0 with one line saying what runs in info
 * ("" for --model-cmd), 2 with a one-line reason naming the flag in err, or
 * 1 with err when the check itself could not run (memory, fork).
 */
int modelcheck_run(const struct modelcheck_config *c, char *info,
                   size_t infolen, char *err, size_t errlen);

#endif
