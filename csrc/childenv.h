/*
 * childenv: the environment a model process gets.
 *
 * A copy of a parent environment without the variables by which MPI
 * launchers describe the rank (OMPI_*, PMIX_*, PMI_*, SLURM step variables,
 * ...): a model that calls MPI_Init with them would try to join the job and
 * hang it. The worker then adds its own variables and, on GPU nodes, binds
 * one device per worker. The array is kept NULL-terminated at all times so
 * that it can be passed to execve(2) as it is.
 */
#ifndef ASYNC_SEARCH_CHILDENV_H
#define ASYNC_SEARCH_CHILDENV_H

#include <stddef.h>

struct childenv {
    char **vars; /* NULL-terminated "NAME=value" strings, all owned */
    size_t count, cap;
};

/* Fills env with a copy of environ_in (NULL allowed: empty) minus the
 * launcher variables and entries without '='. Returns 0, or -1 (memory; env
 * is then empty and needs no childenv_free). */
int childenv_init(struct childenv *env, char *const *environ_in);

/* Sets name=value (a copy), replacing an existing value when overwrite is
 * nonzero and keeping it otherwise. The vars array may move. Returns 0 or -1
 * (memory; env is unchanged). */
int childenv_set(struct childenv *env, const char *name, const char *value,
                 int overwrite);

/* Returns the value of name (borrowed: valid until the next change), or
 * NULL. */
const char *childenv_get(const struct childenv *env, const char *name);

/* Nonzero if the assignment ("NAME=value") would be removed from a model's
 * environment. */
int childenv_scrubbed(const char *assignment);

/* Frees every variable and the array, leaving env empty. */
void childenv_free(struct childenv *env);

/*
 * Gives a worker one GPU: device slot = node_index % gpus_per_node, taken
 * from the list CUDA_VISIBLE_DEVICES already holds when the scheduler
 * restricted the devices (e.g. "2,3"), else the slot number itself; sets
 * CUDA_VISIBLE_DEVICES, ROCR_VISIBLE_DEVICES, HIP_VISIBLE_DEVICES and
 * ZE_AFFINITY_MASK to it and writes it into dev (len bytes). Returns 0, or -1
 * (memory, or gpus_per_node < 1, or node_index < 0).
 */
int childenv_bind_gpu(struct childenv *env, int node_index, long gpus_per_node,
                      char *dev, size_t len);

/* The device childenv_bind_gpu picks, from the CUDA_VISIBLE_DEVICES value
 * visible (NULL or "" when unset), without an environment. Returns 0, or -1
 * (gpus_per_node < 1, node_index < 0). */
int childenv_gpu_pick(const char *visible, int node_index, long gpus_per_node,
                      char *dev, size_t len);

#endif
