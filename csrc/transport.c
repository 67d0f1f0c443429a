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

#include "util.h"

enum transport_tag {
    TAG_TASK = 1,
    TAG_RESULT = 2,
    TAG_STOP = 3,
    TAG_CANCEL = 4,
    TAG_REPORT = 5, /* worker -> manager: an intermediate value */
    TAG_HALT = 6    /* manager -> worker: stop evaluation seq early */
};

#define TRANSPORT_MANAGER 0

struct task_header {
    int64_t seq;
    char job_id[RUNID_MAX];
};

struct mpi_transport {
    struct transport base; /* first: the manager holds a struct transport * */
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
    rc = MPI_Isend(mt->buffers[worker], (int)need, MPI_BYTE, worker, TAG_TASK,
                   MPI_COMM_WORLD, &mt->requests[worker]);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(t, "MPI_Isend (task)", rc);
}

/* Any tag: a probe then matches each worker's messages in the order it sent
 * them, so a model's reports come before its result. */
static int mpi_poll(struct transport *t, int *worker, struct worker_msg *m)
{
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
    *worker = st.MPI_SOURCE;
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
    rc = MPI_Isend(&mt->halt_seqs[worker], (int)sizeof seq, MPI_BYTE, worker,
                   TAG_HALT, MPI_COMM_WORLD, &mt->halts[worker]);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(t, "MPI_Isend (halt)", rc);
}

static int mpi_control(struct transport *t, int tag)
{
    struct mpi_transport *mt = (struct mpi_transport *)t;
    static char empty; /* zero-byte messages need a valid address */
    if (mt->ncontrol + t->workers > mt->capcontrol) {
        int cap = mt->ncontrol + t->workers;
        MPI_Request *c = realloc(mt->control, (size_t)cap * sizeof *c);
        if (c == NULL) {
            snprintf(t->err, sizeof t->err, "out of memory");
            return -1;
        }
        mt->control = c;
        mt->capcontrol = cap;
    }
    for (int w = 1; w <= t->workers; w++) {
        int rc = MPI_Isend(&empty, 0, MPI_BYTE, w, tag, MPI_COMM_WORLD,
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

int transport_mpi_create(struct transport **out, char *err, size_t errlen)
{
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    struct mpi_transport *mt = calloc(1, sizeof *mt);
    if (mt == NULL)
        goto nomem;
    mt->base.ops = &mpi_ops;
    mt->base.workers = size - 1;
    mt->requests = malloc((size_t)size * sizeof *mt->requests);
    mt->halts = malloc((size_t)size * sizeof *mt->halts);
    mt->halt_seqs = calloc((size_t)size, sizeof *mt->halt_seqs);
    mt->buffers = calloc((size_t)size, sizeof *mt->buffers);
    mt->caps = calloc((size_t)size, sizeof *mt->caps);
    if (mt->requests == NULL || mt->buffers == NULL || mt->caps == NULL ||
        mt->halts == NULL || mt->halt_seqs == NULL)
        goto nomem;
    for (int i = 0; i < size; i++)
        mt->requests[i] = mt->halts[i] = MPI_REQUEST_NULL;
    *out = &mt->base;
    return 0;
nomem:
    if (mt)
        mpi_destroy(&mt->base);
    snprintf(err, errlen, "out of memory creating the MPI transport");
    return -1;
}

int transport_node_worker_index(int *index)
{
    MPI_Comm node;
    int world, local, manager_here = 0, is_manager;
    MPI_Comm_rank(MPI_COMM_WORLD, &world);
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world,
                            MPI_INFO_NULL, &node) != MPI_SUCCESS)
        return -1;
    MPI_Comm_rank(node, &local);
    is_manager = world == TRANSPORT_MANAGER;
    /* Ranks are ordered by world rank (the key), so the manager, if it
     * shares the node, has local rank 0. */
    MPI_Allreduce(&is_manager, &manager_here, 1, MPI_INT, MPI_MAX, node);
    MPI_Comm_free(&node);
    *index = local - manager_here;
    return 0;
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
    return 0;
}

enum transport_event transport_worker_next(struct task_msg *m,
                                           char **params_json,
                                           int (*interrupted)(void))
{
    *params_json = NULL;
    double sleep_s = TRANSPORT_IDLE_SLEEP_MIN_S;
    double expect_until = util_now() + TRANSPORT_EXPECT_S;
    MPI_Status st;
    int flag = 0;
    while (1) {
        if (MPI_Iprobe(TRANSPORT_MANAGER, MPI_ANY_TAG, MPI_COMM_WORLD, &flag,
                       &st) != MPI_SUCCESS)
            return TRANSPORT_ERROR;
        if (flag)
            break;
        if (interrupted && interrupted())
            return TRANSPORT_STOP;
        util_sleep(sleep_s);
        if (sleep_s < TRANSPORT_IDLE_SLEEP_MAX_S)
            sleep_s *= 2;
        if (sleep_s > TRANSPORT_EXPECT_SLEEP_S && util_now() < expect_until)
            sleep_s = TRANSPORT_EXPECT_SLEEP_S;
    }
    int count = 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    char *buf = malloc(count > 0 ? (size_t)count : 1);
    if (buf == NULL)
        return TRANSPORT_ERROR;
    if (MPI_Recv(buf, count, MPI_BYTE, TRANSPORT_MANAGER, st.MPI_TAG,
                 MPI_COMM_WORLD, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
        free(buf);
        return TRANSPORT_ERROR;
    }
    if (st.MPI_TAG == TAG_STOP) {
        free(buf);
        return TRANSPORT_STOP;
    }
    if (st.MPI_TAG == TAG_CANCEL || st.MPI_TAG == TAG_HALT) {
        /* A cancel or halt that arrives while idle has nothing to stop: the
         * evaluation ended before it came. */
        free(buf);
        return transport_worker_next(m, params_json, interrupted);
    }
    if (st.MPI_TAG != TAG_TASK || (size_t)count <= sizeof(struct task_header)) {
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
    return TRANSPORT_TASK;
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

int transport_worker_interrupted(int64_t seq, int *stop)
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
