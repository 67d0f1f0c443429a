/*
 * transport: MPI messages between the manager and the workers. See
 * transport.h.
 *
 * Task messages are packed as a fixed header followed by the params JSON
 * (NUL included) and sent with MPI_Isend from a per-worker buffer, so the
 * manager never waits for a worker to post its receive. A worker has one
 * task at a time, so a new send to it only happens after its result came
 * back, when the previous send has long completed.
 */
#include "transport.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

enum transport_tag {
    TAG_TASK = 1,
    TAG_RESULT = 2,
    TAG_STOP = 3,
    TAG_CANCEL = 4,
    TAG_REPORT = 5,      /* worker -> manager: an intermediate value */
    TAG_HALT = 6,        /* manager -> worker: stop evaluation seq early */
    TAG_TEAM_TASK = 7,   /* leader -> member: run evaluation seq too */
    TAG_TEAM_RESULT = 8, /* member -> leader: how its process ended */
    TAG_TEAM_HALT = 9    /* leader -> member: end evaluation seq */
};

#define TRANSPORT_MANAGER 0

struct task_header {
    int64_t seq;
    char job_id[RUNID_MAX];
    int32_t port; /* a team task: where the team's processes meet */
    int32_t pad;
};

struct mpi_transport {
    struct transport base; /* first: the manager holds a struct transport * */
    int nranks;            /* world size */
    int *rank_of;          /* [worker 1..workers]: its world rank (a leader) */
    int *worker_of;        /* [world rank]: its worker, 0 if none */
    MPI_Request *requests; /* per worker (index = rank) */
    char **buffers;        /* per worker, owned */
    size_t *caps;
    MPI_Request *control; /* stop/cancel messages in flight */
    int ncontrol, capcontrol;
    MPI_Request *halts; /* per worker: a halt in flight, and its buffer */
    int64_t *halt_seqs;
};

static int mpi_fail(struct transport *t, const char *what, int rc)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    snprintf(t->err, sizeof t->err, "%s: %s", what, msg);
    return -1;
}

static int mpi_send_task(struct transport *t, int worker,
                         const struct task_msg *m)
{
    struct mpi_transport *mt = (struct mpi_transport *)t;
    size_t jlen = strlen(m->params_json) + 1;
    size_t need = sizeof(struct task_header) + jlen;
    int rc;

    if (mt->requests[worker] != MPI_REQUEST_NULL) {
        rc = MPI_Wait(&mt->requests[worker], MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS)
            return mpi_fail(t, "MPI_Wait (task)", rc);
    }
    if (need > (size_t)INT32_MAX) {
        snprintf(t->err, sizeof t->err, "task %s: parameters too large",
                 m->job_id);
        return -1;
    }
    if (mt->caps[worker] < need) {
        char *b = realloc(mt->buffers[worker], need);
        if (b == NULL) {
            snprintf(t->err, sizeof t->err, "out of memory");
            return -1;
        }
        mt->buffers[worker] = b;
        mt->caps[worker] = need;
    }
    struct task_header h;
    memset(&h, 0, sizeof h);
    h.seq = m->seq;
    snprintf(h.job_id, sizeof h.job_id, "%s", m->job_id);
    memcpy(mt->buffers[worker], &h, sizeof h);
    memcpy(mt->buffers[worker] + sizeof h, m->params_json, jlen);
    rc =
        MPI_Isend(mt->buffers[worker], (int)need, MPI_BYTE, mt->rank_of[worker],
                  TAG_TASK, MPI_COMM_WORLD, &mt->requests[worker]);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(t, "MPI_Isend (task)", rc);
}

/* Any tag: a probe then matches each worker's messages in the order it sent
 * them, so a model's reports come before its result. */
static int mpi_poll(struct transport *t, int *worker, struct worker_msg *m)
{
    struct mpi_transport *mt = (struct mpi_transport *)t;
    int flag = 0, rc;
    MPI_Status st;
    rc = MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
    if (rc != MPI_SUCCESS)
        return mpi_fail(t, "MPI_Iprobe (worker)", rc);
    if (!flag)
        return 0;
    void *buf = &m->result;
    int len = (int)sizeof m->result;
    m->kind = TRANSPORT_MSG_RESULT;
    if (st.MPI_TAG == TAG_REPORT) {
        buf = &m->report;
        len = (int)sizeof m->report;
        m->kind = TRANSPORT_MSG_REPORT;
    } else if (st.MPI_TAG != TAG_RESULT) {
        snprintf(t->err, sizeof t->err, "unexpected message (tag %d) from %d",
                 st.MPI_TAG, st.MPI_SOURCE);
        return -1;
    }
    rc = MPI_Recv(buf, len, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD,
                  MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS)
        return mpi_fail(t, "MPI_Recv (worker)", rc);
    m->result.reason[sizeof m->result.reason - 1] = '\0';
    *worker = mt->worker_of[st.MPI_SOURCE];
    return 1;
}

/* One halt in flight per worker at most (it runs one evaluation): its own
 * buffer, waited for before the next one, as tasks are. */
static int mpi_halt(struct transport *t, int worker, int64_t seq)
{
    struct mpi_transport *mt = (struct mpi_transport *)t;
    int rc;
    if (mt->halts[worker] != MPI_REQUEST_NULL) {
        rc = MPI_Wait(&mt->halts[worker], MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS)
            return mpi_fail(t, "MPI_Wait (halt)", rc);
    }
    mt->halt_seqs[worker] = seq;
    rc = MPI_Isend(&mt->halt_seqs[worker], (int)sizeof seq, MPI_BYTE,
                   mt->rank_of[worker], TAG_HALT, MPI_COMM_WORLD,
                   &mt->halts[worker]);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(t, "MPI_Isend (halt)", rc);
}

static int mpi_control(struct transport *t, int tag)
{
    struct mpi_transport *mt = (struct mpi_transport *)t;
    static char empty; /* zero-byte messages need a valid address */
    if (mt->ncontrol + mt->nranks > mt->capcontrol) {
        int cap = mt->ncontrol + mt->nranks;
        MPI_Request *c = realloc(mt->control, (size_t)cap * sizeof *c);
        if (c == NULL) {
            snprintf(t->err, sizeof t->err, "out of memory");
            return -1;
        }
        mt->control = c;
        mt->capcontrol = cap;
    }
    /* every rank: team members and idle ranks end too */
    for (int r = 1; r < mt->nranks; r++) {
        int rc = MPI_Isend(&empty, 0, MPI_BYTE, r, tag, MPI_COMM_WORLD,
                           &mt->control[mt->ncontrol]);
        if (rc != MPI_SUCCESS)
            return mpi_fail(t, "MPI_Isend (control)", rc);
        mt->ncontrol++;
    }
    return 0;
}

static int mpi_cancel_all(struct transport *t)
{
    return mpi_control(t, TAG_CANCEL);
}

static int mpi_finish(struct transport *t)
{
    struct mpi_transport *mt = (struct mpi_transport *)t;
    if (mpi_control(t, TAG_STOP) != 0)
        return -1;
    int rc = MPI_Waitall(mt->ncontrol, mt->control, MPI_STATUSES_IGNORE);
    if (rc != MPI_SUCCESS)
        return mpi_fail(t, "MPI_Waitall (stop)", rc);
    mt->ncontrol = 0;
    rc = MPI_Waitall(t->workers + 1, mt->halts, MPI_STATUSES_IGNORE);
    if (rc != MPI_SUCCESS)
        return mpi_fail(t, "MPI_Waitall (halt)", rc);
    rc = MPI_Waitall(t->workers + 1, mt->requests, MPI_STATUSES_IGNORE);
    if (rc != MPI_SUCCESS)
        return mpi_fail(t, "MPI_Waitall (tasks)", rc);
    return 0;
}

static void mpi_destroy(struct transport *t)
{
    struct mpi_transport *mt = (struct mpi_transport *)t;
    if (mt == NULL)
        return;
    for (int w = 0; w <= t->workers; w++)
        free(mt->buffers ? mt->buffers[w] : NULL);
    free(mt->buffers);
    free(mt->caps);
    free(mt->requests);
    free(mt->control);
    free(mt->halts);
    free(mt->halt_seqs);
    free(mt->rank_of);
    free(mt->worker_of);
    free(mt);
}

static int mpi_announce(struct transport *t, const struct start_msg *msg)
{
    (void)t;
    struct start_msg copy = *msg;
    MPI_Request req;
    if (MPI_Ibcast(&copy, (int)sizeof copy, MPI_BYTE, TRANSPORT_MANAGER,
                   MPI_COMM_WORLD, &req) != MPI_SUCCESS)
        return -1;
    return MPI_Wait(&req, MPI_STATUS_IGNORE) == MPI_SUCCESS ? 0 : -1;
}

static const struct transport_ops mpi_ops = {
    .announce = mpi_announce,
    .send_task = mpi_send_task,
    .poll = mpi_poll,
    .halt = mpi_halt,
    .cancel_all = mpi_cancel_all,
    .finish = mpi_finish,
    .destroy = mpi_destroy,
};

int transport_mpi_create(const struct team_plan *plan, struct transport **out,
                         char *err, size_t errlen)
{
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    struct mpi_transport *mt = calloc(1, sizeof *mt);
    if (mt == NULL)
        goto nomem;
    mt->base.ops = &mpi_ops;
    mt->base.workers = plan->nteams;
    mt->nranks = size;
    mt->requests = malloc((size_t)size * sizeof *mt->requests);
    mt->halts = malloc((size_t)size * sizeof *mt->halts);
    mt->halt_seqs = calloc((size_t)size, sizeof *mt->halt_seqs);
    mt->buffers = calloc((size_t)size, sizeof *mt->buffers);
    mt->caps = calloc((size_t)size, sizeof *mt->caps);
    mt->rank_of = calloc((size_t)size, sizeof *mt->rank_of);
    mt->worker_of = calloc((size_t)size, sizeof *mt->worker_of);
    if (mt->requests == NULL || mt->buffers == NULL || mt->caps == NULL ||
        mt->halts == NULL || mt->halt_seqs == NULL || mt->rank_of == NULL ||
        mt->worker_of == NULL)
        goto nomem;
    for (int i = 0; i < size; i++)
        mt->requests[i] = mt->halts[i] = MPI_REQUEST_NULL;
    for (int t = 1; t <= plan->nteams; t++) {
        mt->rank_of[t] = plan->leader[t];
        mt->worker_of[plan->leader[t]] = t;
    }
    *out = &mt->base;
    return 0;
nomem:
    if (mt)
        mpi_destroy(&mt->base);
    snprintf(err, errlen, "out of memory creating the MPI transport");
    return -1;
}

/* Collective over MPI_COMM_WORLD: this rank's index among the worker ranks
 * of its node (from 0; -1 for the manager) and the node's id (its lowest
 * world rank), from MPI_Comm_split_type(MPI_COMM_TYPE_SHARED). Ranks are
 * ordered by world rank (the key), so the manager, if it shares the node,
 * has local rank 0. Returns 0 or -1. */
static int transport_node_place(int *index, int *node_id)
{
    MPI_Comm node;
    int world, local, manager_here = 0, is_manager;
    MPI_Comm_rank(MPI_COMM_WORLD, &world);
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world,
                            MPI_INFO_NULL, &node) != MPI_SUCCESS)
        return -1;
    MPI_Comm_rank(node, &local);
    is_manager = world == TRANSPORT_MANAGER;
    MPI_Allreduce(&is_manager, &manager_here, 1, MPI_INT, MPI_MAX, node);
    MPI_Allreduce(&world, node_id, 1, MPI_INT, MPI_MIN, node);
    MPI_Comm_free(&node);
    *index = is_manager ? -1 : local - manager_here;
    return 0;
}

int transport_layout(const char *device, struct layout *out)
{
    int size;
    struct layout_rank me;
    memset(&me, 0, sizeof me);
    memset(out, 0, sizeof *out);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (transport_node_place(&me.node_index, &me.node) != 0)
        return -1;
    gethostname(me.host, sizeof me.host - 1);
    snprintf(me.device, sizeof me.device, "%s", device ? device : "");
    out->ranks = calloc((size_t)size, sizeof *out->ranks);
    if (out->ranks == NULL)
        return -1;
    out->nranks = size;
    if (MPI_Allgather(&me, (int)sizeof me, MPI_BYTE, out->ranks, (int)sizeof me,
                      MPI_BYTE, MPI_COMM_WORLD) != MPI_SUCCESS) {
        layout_free(out);
        return -1;
    }
    return 0;
}

int transport_node_worker_index(int *index)
{
    int node_id;
    return transport_node_place(index, &node_id);
}

/* ---- worker side ------------------------------------------------------- */

/* Waits for req without spinning on a core. */
static int transport_idle_wait(MPI_Request *req)
{
    double sleep_s = TRANSPORT_IDLE_SLEEP_MIN_S;
    while (1) {
        int flag = 0;
        if (MPI_Test(req, &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return -1;
        if (flag)
            return 0;
        util_sleep(sleep_s);
        if (sleep_s < TRANSPORT_IDLE_SLEEP_MAX_S)
            sleep_s *= 2;
    }
}

int transport_await_start(struct start_msg *msg)
{
    MPI_Request req;
    if (MPI_Ibcast(msg, (int)sizeof *msg, MPI_BYTE, TRANSPORT_MANAGER,
                   MPI_COMM_WORLD, &req) != MPI_SUCCESS)
        return -1;
    if (transport_idle_wait(&req) != 0)
        return -1;
    msg->exp_dir[sizeof msg->exp_dir - 1] = '\0';
    msg->exp_id[sizeof msg->exp_id - 1] = '\0';
    msg->objectives[sizeof msg->objectives - 1] = '\0';
    return 0;
}

/* Receives the task message probed in *st (from st->MPI_SOURCE): header,
 * port and the JSON text (owned by the caller). */
static enum transport_event transport_recv_task(const MPI_Status *st,
                                                struct task_msg *m,
                                                char **params_json, int *port)
{
    int count = 0;
    MPI_Get_count(st, MPI_BYTE, &count);
    char *buf = malloc(count > 0 ? (size_t)count : 1);
    if (buf == NULL)
        return TRANSPORT_ERROR;
    if (MPI_Recv(buf, count, MPI_BYTE, st->MPI_SOURCE, st->MPI_TAG,
                 MPI_COMM_WORLD, MPI_STATUS_IGNORE) != MPI_SUCCESS ||
        (size_t)count <= sizeof(struct task_header)) {
        free(buf);
        return TRANSPORT_ERROR;
    }
    struct task_header h;
    memcpy(&h, buf, sizeof h);
    size_t jlen = (size_t)count - sizeof h;
    char *json = malloc(jlen);
    if (json == NULL) {
        free(buf);
        return TRANSPORT_ERROR;
    }
    memcpy(json, buf + sizeof h, jlen);
    json[jlen - 1] = '\0';
    free(buf);
    m->seq = h.seq;
    memcpy(m->job_id, h.job_id, sizeof m->job_id);
    m->job_id[sizeof m->job_id - 1] = '\0';
    *params_json = json;
    m->params_json = json;
    if (port)
        *port = h.port;
    return TRANSPORT_TASK;
}

/* Drops a control message that came while idle (a cancel or a halt of an
 * evaluation that ended before it arrived). */
static void transport_drop(const MPI_Status *st)
{
    char buf[16];
    MPI_Recv(buf, (int)sizeof buf, MPI_BYTE, st->MPI_SOURCE, st->MPI_TAG,
             MPI_COMM_WORLD, MPI_STATUS_IGNORE);
}

/* transport_idle_probe: no message came (an enum transport_event else). */
#define TRANSPORT_IDLE_NOTHING (-1)

/*
 * What an idle worker waits for: a task from `from` (the manager, or its
 * team leader: then tag TAG_TEAM_TASK) or the manager's stop. Returns
 * TRANSPORT_TASK (with the message taken), TRANSPORT_STOP, TRANSPORT_ERROR;
 * TRANSPORT_IDLE_NOTHING when nothing came.
 */
static int transport_idle_probe(int from, int task_tag, struct task_msg *m,
                                char **params_json, int *port)
{
    MPI_Status st;
    int flag = 0;
    if (MPI_Iprobe(TRANSPORT_MANAGER, MPI_ANY_TAG, MPI_COMM_WORLD, &flag,
                   &st) != MPI_SUCCESS)
        return TRANSPORT_ERROR;
    if (flag) {
        if (st.MPI_TAG == TAG_STOP) {
            transport_drop(&st);
            return TRANSPORT_STOP;
        }
        if (st.MPI_TAG == task_tag && from == TRANSPORT_MANAGER)
            return transport_recv_task(&st, m, params_json, port);
        transport_drop(&st); /* a late cancel or halt */
        return TRANSPORT_IDLE_NOTHING;
    }
    if (from == TRANSPORT_MANAGER)
        return TRANSPORT_IDLE_NOTHING;
    if (MPI_Iprobe(from, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st) !=
        MPI_SUCCESS)
        return TRANSPORT_ERROR;
    if (!flag)
        return TRANSPORT_IDLE_NOTHING;
    if (st.MPI_TAG == task_tag)
        return transport_recv_task(&st, m, params_json, port);
    transport_drop(&st); /* a late team halt */
    return TRANSPORT_IDLE_NOTHING;
}

static enum transport_event transport_wait_task(int from, int task_tag,
                                                struct task_msg *m,
                                                char **params_json, int *port,
                                                int (*interrupted)(void))
{
    double sleep_s = TRANSPORT_IDLE_SLEEP_MIN_S;
    double expect_until = util_now() + TRANSPORT_EXPECT_S;
    *params_json = NULL;
    while (1) {
        int ev = transport_idle_probe(from, task_tag, m, params_json, port);
        if (ev != TRANSPORT_IDLE_NOTHING)
            return (enum transport_event)ev;
        if (interrupted && interrupted())
            return TRANSPORT_STOP;
        util_sleep(sleep_s);
        if (sleep_s < TRANSPORT_IDLE_SLEEP_MAX_S)
            sleep_s *= 2;
        if (sleep_s > TRANSPORT_EXPECT_SLEEP_S && util_now() < expect_until)
            sleep_s = TRANSPORT_EXPECT_SLEEP_S;
    }
}

enum transport_event transport_worker_next(struct task_msg *m,
                                           char **params_json,
                                           int (*interrupted)(void))
{
    return transport_wait_task(TRANSPORT_MANAGER, TAG_TASK, m, params_json,
                               NULL, interrupted);
}

enum transport_event transport_member_next(int leader, struct task_msg *m,
                                           char **params_json, int *port,
                                           int (*interrupted)(void))
{
    return transport_wait_task(leader, TAG_TEAM_TASK, m, params_json, port,
                               interrupted);
}

int transport_team_task(int member, const struct task_msg *t, int port)
{
    struct task_header h;
    size_t jlen = strlen(t->params_json) + 1;
    char *buf = malloc(sizeof h + jlen);
    if (buf == NULL)
        return -1;
    memset(&h, 0, sizeof h);
    h.seq = t->seq;
    h.port = port;
    snprintf(h.job_id, sizeof h.job_id, "%s", t->job_id);
    memcpy(buf, &h, sizeof h);
    memcpy(buf + sizeof h, t->params_json, jlen);
    int rc = MPI_Send(buf, (int)(sizeof h + jlen), MPI_BYTE, member,
                      TAG_TEAM_TASK, MPI_COMM_WORLD);
    free(buf);
    return rc == MPI_SUCCESS ? 0 : -1;
}

int transport_team_result(int leader, const struct result_msg *r)
{
    return MPI_Send(r, (int)sizeof *r, MPI_BYTE, leader, TAG_TEAM_RESULT,
                    MPI_COMM_WORLD) == MPI_SUCCESS
               ? 0
               : -1;
}

int transport_team_poll(struct result_msg *r, int *member)
{
    MPI_Status st;
    int flag = 0;
    if (MPI_Iprobe(MPI_ANY_SOURCE, TAG_TEAM_RESULT, MPI_COMM_WORLD, &flag,
                   &st) != MPI_SUCCESS)
        return -1;
    if (!flag)
        return 0;
    if (MPI_Recv(r, (int)sizeof *r, MPI_BYTE, st.MPI_SOURCE, TAG_TEAM_RESULT,
                 MPI_COMM_WORLD, MPI_STATUS_IGNORE) != MPI_SUCCESS)
        return -1;
    r->reason[sizeof r->reason - 1] = '\0';
    *member = st.MPI_SOURCE;
    return 1;
}

int transport_team_halt(int member, int64_t seq)
{
    return MPI_Send(&seq, (int)sizeof seq, MPI_BYTE, member, TAG_TEAM_HALT,
                    MPI_COMM_WORLD) == MPI_SUCCESS
               ? 0
               : -1;
}

int transport_worker_send(const struct result_msg *r)
{
    return MPI_Send(r, (int)sizeof *r, MPI_BYTE, TRANSPORT_MANAGER, TAG_RESULT,
                    MPI_COMM_WORLD) == MPI_SUCCESS
               ? 0
               : -1;
}

int transport_worker_report(const struct report_msg *r)
{
    return MPI_Send(r, (int)sizeof *r, MPI_BYTE, TRANSPORT_MANAGER, TAG_REPORT,
                    MPI_COMM_WORLD) == MPI_SUCCESS
               ? 0
               : -1;
}

int transport_worker_interrupted(int64_t seq, int leader, int *stop)
{
    int flag = 0;
    MPI_Status st;
    char empty;
    int64_t halted;
    while (MPI_Iprobe(TRANSPORT_MANAGER, TAG_HALT, MPI_COMM_WORLD, &flag,
                      &st) == MPI_SUCCESS &&
           flag) {
        MPI_Recv(&halted, (int)sizeof halted, MPI_BYTE, TRANSPORT_MANAGER,
                 TAG_HALT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (halted == seq)
            return LAUNCH_STOPPED;
    }
    while (leader > 0 &&
           MPI_Iprobe(leader, TAG_TEAM_HALT, MPI_COMM_WORLD, &flag, &st) ==
               MPI_SUCCESS &&
           flag) {
        MPI_Recv(&halted, (int)sizeof halted, MPI_BYTE, leader, TAG_TEAM_HALT,
                 MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (halted == seq)
            return LAUNCH_CANCELLED; /* its leader ends the evaluation */
    }
    if (MPI_Iprobe(TRANSPORT_MANAGER, TAG_STOP, MPI_COMM_WORLD, &flag, &st) ==
            MPI_SUCCESS &&
        flag) {
        MPI_Recv(&empty, 0, MPI_BYTE, TRANSPORT_MANAGER, TAG_STOP,
                 MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        *stop = 1;
        return LAUNCH_CANCELLED;
    }
    if (MPI_Iprobe(TRANSPORT_MANAGER, TAG_CANCEL, MPI_COMM_WORLD, &flag, &st) ==
            MPI_SUCCESS &&
        flag) {
        MPI_Recv(&empty, 0, MPI_BYTE, TRANSPORT_MANAGER, TAG_CANCEL,
                 MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        return LAUNCH_CANCELLED;
    }
    return 0;
}
