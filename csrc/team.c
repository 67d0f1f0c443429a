/*
 * team: see team.h.
 */
#include "team.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int team_env(struct childenv *env, const struct team_plan *p,
             const struct layout *l, int rank, int port)
{
    char buf[32];
    int team = p->team_of[rank];
    const int *m = &p->members[(team - 1) * p->k];
    int leader = m[0], local = 0, local_size = 0, all_local = 1;
    for (int i = 0; i < p->k; i++) {
        int same = l->ranks[m[i]].node == l->ranks[rank].node;
        local_size += same;
        if (same && m[i] < rank)
            local++;
        all_local &= l->ranks[m[i]].node == l->ranks[leader].node;
    }
    int rc = 0;
    snprintf(buf, sizeof buf, "%d", p->index_of[rank]);
    rc |= childenv_set(env, "RANK", buf, 1);
    snprintf(buf, sizeof buf, "%d", p->k);
    rc |= childenv_set(env, "WORLD_SIZE", buf, 1);
    snprintf(buf, sizeof buf, "%d", local);
    rc |= childenv_set(env, "LOCAL_RANK", buf, 1);
    snprintf(buf, sizeof buf, "%d", local_size);
    rc |= childenv_set(env, "LOCAL_WORLD_SIZE", buf, 1);
    rc |= childenv_set(env, "MASTER_ADDR",
                       all_local ? "127.0.0.1" : l->ranks[leader].host, 1);
    snprintf(buf, sizeof buf, "%d", port);
    rc |= childenv_set(env, "MASTER_PORT", buf, 1);
    return rc ? -1 : 0;
}

int team_free_port(char *err, size_t errlen)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    a.sin_port = 0;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        snprintf(err, errlen, "cannot find a free port: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* A member's end is a cause when it failed or timed out on its own. */
static int team_cause(const struct launch_result *r)
{
    return r->status == LAUNCH_FAILED || r->status == LAUNCH_TIMEOUT ||
           r->status == LAUNCH_STORAGE;
}

void team_combine(const struct launch_result *own,
                  const struct launch_result *members, const int *member_rank,
                  int k, struct launch_result *out)
{
    *out = *own;
    if (own->status == LAUNCH_STOPPED)
        return; /* the manager stopped it */
    /* The first to end on its own is the cause: the others most likely
     * failed because it did (a lost peer, a closed socket). */
    int first = team_cause(own) ? 0 : -1;
    double first_end = own->t_end;
    for (int i = 1; i < k; i++) {
        const struct launch_result *m = &members[i];
        if (team_cause(m) && (first < 0 || m->t_end < first_end)) {
            first = i;
            first_end = m->t_end;
        }
    }
    if (first <= 0)
        return; /* the leader's own result, or its own failure */
    const struct launch_result *m = &members[first];
    out->status = m->status;
    out->exit_code = m->exit_code;
    out->term_signal = m->term_signal;
    snprintf(out->reason, sizeof out->reason,
             "team rank %d (world rank %d): %.*s", first, member_rank[first],
             (int)sizeof m->reason - 48, m->reason);
    out->objective = NAN;
    out->nobjectives = 0;
}
