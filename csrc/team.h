/*
 * team: one evaluation run by several ranks (--ranks-per-eval K), the
 * worker side.
 *
 * The team's leader (member 0) gets the task from the manager, prepares the
 * run directory, picks a free port for the processes to meet on, and hands
 * the task to its members; every member starts one model process with the
 * environment torch.distributed and Horovod read (team_env). Member i > 0
 * runs in RUN_DIR/rank<i>/ with its own model.log and params.json, so no
 * file of the leader's is written twice. The result is the leader's model's
 * (rank 0's); when a member fails, hangs or is killed, the leader ends the
 * others and the evaluation is one failed (or timed out) evaluation
 * (team_combine). The manager sees the team as one worker.
 */
#ifndef ASYNC_SEARCH_TEAM_H
#define ASYNC_SEARCH_TEAM_H

#include <stddef.h>

#include "childenv.h"
#include "launch.h"
#include "layout.h"

/* The sub-directory of member i > 0 in the run directory. */
#define TEAM_MEMBER_DIR "rank%d"

/*
 * Sets the distributed environment of world rank `rank` in env: RANK (its
 * member index), WORLD_SIZE (K), LOCAL_RANK and LOCAL_WORLD_SIZE (among the
 * team's members on its node), MASTER_ADDR (the leader's host, 127.0.0.1
 * when the whole team shares the leader's node) and MASTER_PORT. Returns 0
 * or -1 (memory).
 */
int team_env(struct childenv *env, const struct team_plan *p,
             const struct layout *l, int rank, int port);

/* A TCP port free on this host now (the kernel's pick for port 0), or -1
 * with err. */
int team_free_port(char *err, size_t errlen);

/*
 * The team's result from the leader's own (own) and the members' (members[i]
 * for member i = 1..k-1; members[0] unused): the leader's when everything
 * went well; else the cause that ended first (by t_end): a member that failed
 * or timed out (member_rank[i]: its world rank, for the reason), or the
 * leader's own failure. Members the leader ended (cancelled) are no cause.
 * The leader's stop by the manager (LAUNCH_STOPPED) stays a stop.
 */
void team_combine(const struct launch_result *own,
                  const struct launch_result *members, const int *member_rank,
                  int k, struct launch_result *out);

#endif
