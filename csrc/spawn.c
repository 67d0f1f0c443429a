/*
 * spawn: see spawn.h. The dispatch through struct spawn_ops
 * (spawn_internal.h) and what the mechanisms share; the mechanisms are
 * spawn_exec.c and spawn_forkserver.c.
 */
#include "spawn.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "spawn_internal.h"

int spawn_start(struct spawner *sp, const struct spawn_cmd *cmd,
                struct spawn_child *child, char *err, size_t errlen)
{
    memset(child, 0, sizeof *child);
    child->pid = -1;
    child->owner = sp;
    return sp->ops->start(sp, cmd, child, err, errlen);
}

int spawn_fd(const struct spawn_child *child)
{
    return child->ended ? -1 : child->owner->ops->fd(child);
}

int spawn_reap(struct spawn_child *child, struct spawn_end *end)
{
    memset(end, 0, sizeof *end);
    if (child->owner->ops->reap(child, end) == 0)
        return 0;
    child->ended = 1;
    return 1;
}

void spawn_signal(struct spawn_child *child, int sig)
{
    child->owner->ops->signal(child, sig);
}

void spawn_destroy(struct spawner *sp)
{
    if (sp != NULL)
        sp->ops->destroy(sp);
}

void spawn_signal_group(struct spawn_child *child, int sig)
{
    if (child->pid <= 0)
        return; /* kill(-0) or kill(-1) would reach far more than the child */
    kill(-child->pid, sig);
    if (!child->ended)
        kill(child->pid, sig);
}

void spawn_end_from_wait(int wstatus, struct spawn_end *end)
{
    memset(end, 0, sizeof *end);
    if (WIFSIGNALED(wstatus)) {
        end->state = SPAWN_SIGNALED;
        end->code = WTERMSIG(wstatus);
    } else {
        /* WIFEXITED; a stopped child is not reported by either mechanism */
        end->state = SPAWN_EXITED;
        end->code = WEXITSTATUS(wstatus);
    }
}
