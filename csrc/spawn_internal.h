/*
 * spawn_internal: the table a spawn mechanism fills (spawn_exec.c,
 * spawn_forkserver.c), in the manner of an executor interface: spawn.c
 * dispatches every call of spawn.h through it and nothing else includes
 * this header.
 *
 * Each implementation's private struct starts with a struct spawner whose
 * ops point at its table; it casts back to its own type in its functions.
 */
#ifndef ASYNC_SEARCH_SPAWN_INTERNAL_H
#define ASYNC_SEARCH_SPAWN_INTERNAL_H

#include "spawn.h"

struct spawn_ops {
    /* Starts cmd; sets child->pid and, when another spawner runs the child,
     * child->owner (spawn_start presets it to sp). Same contract as
     * spawn_start. */
    int (*start)(struct spawner *sp, const struct spawn_cmd *cmd,
                 struct spawn_child *child, char *err, size_t errlen);
    /* See spawn_fd; called only before the child was reaped. */
    int (*fd)(const struct spawn_child *child);
    /* See spawn_reap; called only before the child was reaped. */
    int (*reap)(struct spawn_child *child, struct spawn_end *end);
    /* See spawn_signal. */
    void (*signal)(struct spawn_child *child, int sig);
    /* See spawn_destroy; sp is not NULL. */
    void (*destroy)(struct spawner *sp);
};

struct spawner {
    const struct spawn_ops *ops;
};

/* The usual spawn_signal: kill(2) of the group, and of the leader while it
 * was not reaped. */
void spawn_signal_group(struct spawn_child *child, int sig);

/* Turns a wait(2) status of an ended child into *end. */
void spawn_end_from_wait(int wstatus, struct spawn_end *end);

#endif
