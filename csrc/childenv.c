/*
 * childenv: see childenv.h.
 *
 * Which variables go is a list of prefixes per launcher (Open MPI, PMIx,
 * MPICH/Hydra, Cray PALS, Slurm, LSF/JSM) with a short list of exceptions
 * that are the user's settings rather than the rank's. Lookups are linear:
 * an environment has a few hundred entries and is built once per worker.
 */
#include "childenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

/* The first array holds CHILDENV_FIRST_CAP entries (the terminating NULL
 * included); it doubles as needed. */
#define CHILDENV_FIRST_CAP 64
#define CHILDENV_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const childenv_scrub_prefixes[] = {
    "OMPI_",
    "PMIX_",
    "PMI_",
    "OPAL_",
    "ORTE_",
    "PRTE_",
    "HYDRA_",
    "HYDI_",
    "MPIR_",
    "MPI_LOCALNRANKS",
    "MPI_LOCALRANKID",
    "PALS_",
    "SLURM_STEP",
    "SLURM_PROCID",
    "SLURM_LOCALID",
    "SLURM_NODEID",
    "SLURM_TASK",
    "SLURM_SRUN",
    "SLURM_LAUNCH",
    "SLURM_GTIDS",
    "SLURM_PMI",
    "SLURM_MPI",
    "SLURM_NPROCS",
    "SLURM_NTASKS",
    "LSB_PJL",
    "JSM_",
    "CRAY_PMI",
};
/* Settings of the user's, not of the rank: kept. */
static const char *const childenv_keep_prefixes[] = {
    "OMPI_ALLOW_RUN_AS_ROOT=",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=",
};

static const char *const childenv_gpu_vars[] = {
    "CUDA_VISIBLE_DEVICES",
    "ROCR_VISIBLE_DEVICES",
    "HIP_VISIBLE_DEVICES",
    "ZE_AFFINITY_MASK",
};

int childenv_scrubbed(const char *assignment)
{
    for (size_t i = 0; i < CHILDENV_COUNT(childenv_keep_prefixes); i++)
        if (strncmp(assignment, childenv_keep_prefixes[i],
                    strlen(childenv_keep_prefixes[i])) == 0)
            return 0;
    for (size_t i = 0; i < CHILDENV_COUNT(childenv_scrub_prefixes); i++)
        if (strncmp(assignment, childenv_scrub_prefixes[i],
                    strlen(childenv_scrub_prefixes[i])) == 0)
            return 1;
    return 0;
}

/* Appends owned, keeping the array NULL-terminated. Returns 0 or -1
 * (memory; owned is then still the caller's). */
static int childenv_push(struct childenv *env, char *owned)
{
    if (env->count + 2 > env->cap) {
        size_t cap = env->cap ? 2 * env->cap : CHILDENV_FIRST_CAP;
        char **v = realloc(env->vars, cap * sizeof *v);
        if (v == NULL)
            return -1;
        env->vars = v;
        env->cap = cap;
    }
    env->vars[env->count++] = owned;
    env->vars[env->count] = NULL;
    return 0;
}

int childenv_init(struct childenv *env, char *const *environ_in)
{
    memset(env, 0, sizeof *env);
    if (childenv_push(env, NULL) != 0)
        return -1;
    env->count = 0;
    for (char *const *e = environ_in; e && *e; e++) {
        if (childenv_scrubbed(*e) || strchr(*e, '=') == NULL)
            continue;
        char *copy = strdup(*e);
        if (copy == NULL || childenv_push(env, copy) != 0) {
            free(copy);
            childenv_free(env);
            return -1;
        }
    }
    return 0;
}

static long childenv_find(const struct childenv *env, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < env->count; i++)
        if (strncmp(env->vars[i], name, len) == 0 && env->vars[i][len] == '=')
            return (long)i;
    return -1;
}

const char *childenv_get(const struct childenv *env, const char *name)
{
    long i = childenv_find(env, name);
    return i < 0 ? NULL : env->vars[i] + strlen(name) + 1;
}

int childenv_set(struct childenv *env, const char *name, const char *value,
                 int overwrite)
{
    long i = childenv_find(env, name);
    if (i >= 0 && !overwrite)
        return 0;
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_printf(&sb, "%s=%s", name, value) != 0) {
        strbuf_free(&sb);
        return -1;
    }
    char *assignment = strbuf_detach(&sb);
    if (assignment == NULL)
        return -1;
    if (i >= 0) {
        free(env->vars[i]);
        env->vars[i] = assignment;
        return 0;
    }
    if (childenv_push(env, assignment) != 0) {
        free(assignment);
        return -1;
    }
    return 0;
}

void childenv_free(struct childenv *env)
{
    for (size_t i = 0; i < env->count; i++)
        free(env->vars[i]);
    free(env->vars);
    memset(env, 0, sizeof *env);
}

int childenv_gpu_pick(const char *visible, int node_index, long gpus_per_node,
                      char *dev, size_t len)
{
    if (gpus_per_node < 1 || node_index < 0)
        return -1;
    long slot = node_index % gpus_per_node;
    if (visible && *visible) {
        long n = 1;
        for (const char *p = visible; *p; p++)
            n += *p == ',';
        const char *start = visible;
        for (long i = 0; i < slot % n; i++)
            start = strchr(start, ',') + 1;
        snprintf(dev, len, "%.*s", (int)strcspn(start, ","), start);
    } else {
        snprintf(dev, len, "%ld", slot);
    }
    return 0;
}

int childenv_bind_gpu(struct childenv *env, int node_index, long gpus_per_node,
                      char *dev, size_t len)
{
    if (childenv_gpu_pick(childenv_get(env, "CUDA_VISIBLE_DEVICES"), node_index,
                          gpus_per_node, dev, len) != 0)
        return -1;
    for (size_t i = 0; i < CHILDENV_COUNT(childenv_gpu_vars); i++)
        if (childenv_set(env, childenv_gpu_vars[i], dev, 1) != 0)
            return -1;
    return 0;
}
