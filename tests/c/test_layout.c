/*
 * Tests of layout.c (GPU sharing check, the rank table, team planning) and
 * team.c (the distributed environment, the team's result).
 */
#include "unit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "childenv.h"
#include "layout.h"
#include "team.h"

#define ERR_LEN 512

/* A job of n ranks: hosts[r] names rank r's host; rank 0 is the manager.
 * node is the node's first rank; node_index counts the node's workers. */
static void make_layout(struct layout *l, int n, const char *const *hosts,
                        const char *const *devices)
{
    l->nranks = n;
    l->ranks = calloc((size_t)n, sizeof *l->ranks);
    assert_non_null(l->ranks);
    for (int r = 0; r < n; r++) {
        struct layout_rank *x = &l->ranks[r];
        snprintf(x->host, sizeof x->host, "%s", hosts[r]);
        x->node = r;
        for (int q = 0; q < r; q++)
            if (strcmp(hosts[q], hosts[r]) == 0) {
                x->node = q;
                break;
            }
        x->node_index = -1;
        if (r > 0) {
            x->node_index = 0;
            for (int q = 1; q < r; q++)
                x->node_index += strcmp(hosts[q], hosts[r]) == 0;
        }
        if (devices && devices[r])
            snprintf(x->device, sizeof x->device, "%s", devices[r]);
    }
}

static void assert_team(const struct team_plan *p, int t, const int *ranks)
{
    assert_int_equal(p->leader[t], ranks[0]);
    for (int i = 0; i < p->k; i++) {
        assert_int_equal(p->members[(t - 1) * p->k + i], ranks[i]);
        assert_int_equal(p->team_of[ranks[i]], t);
        assert_int_equal(p->index_of[ranks[i]], i);
    }
}

static void teams_of_one_node_follow_rank_order(void **state)
{
    (void)state;
    const char *hosts[] = {"a", "a", "a", "a", "a"};
    struct layout l;
    struct team_plan p;
    char err[ERR_LEN];
    make_layout(&l, 5, hosts, NULL);
    assert_int_equal(team_plan_make(&l, 2, &p, err, sizeof err), 0);
    assert_int_equal(p.nteams, 2);
    assert_int_equal(p.idle, 0);
    assert_team(&p, 1, (const int[]){1, 2});
    assert_team(&p, 2, (const int[]){3, 4});
    assert_int_equal(p.team_of[0], 0); /* the manager is in no team */
    team_plan_free(&p);
    /* k = 1: every worker is its own team, the leader of itself */
    assert_int_equal(team_plan_make(&l, 1, &p, err, sizeof err), 0);
    assert_int_equal(p.nteams, 4);
    for (int r = 1; r <= 4; r++)
        assert_team(&p, r, (const int[]){r});
    team_plan_free(&p);
    layout_free(&l);
}

static void node_local_teams_first_then_across_nodes(void **state)
{
    (void)state;
    /* node a: the manager and workers 1..3; node b: workers 4..6, placed
     * round-robin by the launcher (4 and 6 on b, 5 on a) to check that the
     * plan follows hosts, not rank numbers */
    const char *hosts[] = {"a", "a", "a", "a", "b", "a", "b", "b"};
    struct layout l;
    struct team_plan p;
    char err[ERR_LEN];
    make_layout(&l, 8, hosts, NULL);
    assert_int_equal(team_plan_make(&l, 3, &p, err, sizeof err), 0);
    /* a: 1 2 3 5 -> (1 2 3), 5 left; b: 4 6 7 -> (4 6 7) */
    assert_int_equal(p.nteams, 2);
    assert_team(&p, 1, (const int[]){1, 2, 3});
    assert_team(&p, 2, (const int[]){4, 6, 7});
    assert_int_equal(p.idle, 1);
    assert_int_equal(p.team_of[5], 0);
    team_plan_free(&p);
    /* k = 2: a gives (1 2) (3 5); b gives (4 6), 7 idle */
    assert_int_equal(team_plan_make(&l, 2, &p, err, sizeof err), 0);
    assert_int_equal(p.nteams, 3);
    assert_team(&p, 1, (const int[]){1, 2});
    assert_team(&p, 2, (const int[]){3, 5});
    assert_team(&p, 3, (const int[]){4, 6});
    assert_int_equal(p.idle, 1);
    team_plan_free(&p);
    layout_free(&l);
}

static void teams_larger_than_a_node_span_nodes(void **state)
{
    (void)state;
    const char *hosts[] = {"a", "a", "a", "b", "b", "c", "c"};
    struct layout l;
    struct team_plan p;
    char err[ERR_LEN];
    make_layout(&l, 7, hosts, NULL);
    /* 2 workers a node, k = 4: no node holds a team; across nodes in node
     * order: (1 2 3 4), and 5 6 are left idle */
    assert_int_equal(team_plan_make(&l, 4, &p, err, sizeof err), 0);
    assert_int_equal(p.nteams, 1);
    assert_team(&p, 1, (const int[]){1, 2, 3, 4});
    assert_int_equal(p.idle, 2);
    team_plan_free(&p);
    /* more ranks per evaluation than workers: a one-line error */
    assert_int_equal(team_plan_make(&l, 7, &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "--ranks-per-eval 7"));
    assert_non_null(strstr(err, "6 worker ranks"));
    assert_null(strchr(err, '\n'));
    layout_free(&l);
}

static void shared_gpus_are_refused_unless_asked_for(void **state)
{
    (void)state;
    char err[ERR_LEN];
    struct layout l;
    /* node a: workers 1 2 3 on GPUs 0 1 0 (3 workers, 2 GPUs) */
    const char *hosts[] = {"a", "a", "a", "a", "b", "b"};
    const char *devices[] = {NULL, "0", "1", "0", "0", "1"};
    make_layout(&l, 6, hosts, devices);
    assert_int_equal(layout_check_gpus(&l, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "ranks 1 and 3 would share GPU 0 on a"));
    assert_non_null(strstr(err, "--share-gpus yes"));
    assert_null(strchr(err, '\n'));
    assert_int_equal(layout_check_gpus(&l, 1, err, sizeof err), 1);
    assert_non_null(strstr(err, "ranks 1 and 3 share GPU 0 on a"));
    layout_free(&l);
    /* the same device number on two nodes is two GPUs */
    const char *apart[] = {NULL, "0", "1", "2", "0", "1"};
    make_layout(&l, 6, hosts, apart);
    assert_int_equal(layout_check_gpus(&l, 0, err, sizeof err), 0);
    layout_free(&l);
    /* no GPU bound at all: nothing to check */
    make_layout(&l, 6, hosts, NULL);
    assert_int_equal(layout_check_gpus(&l, 0, err, sizeof err), 0);
    layout_free(&l);
}

static void the_rank_table_as_text_and_json(void **state)
{
    (void)state;
    const char *hosts[] = {"a", "a", "b\"x"};
    const char *devices[] = {NULL, "3", NULL};
    struct layout l;
    make_layout(&l, 3, hosts, devices);
    char *json = layout_json(&l);
    assert_string_equal(json, "[{\"rank\": 1, \"host\": \"a\", \"device\": "
                              "\"3\"}, {\"rank\": 2, \"host\": \"b\\\"x\", "
                              "\"device\": null}]");
    free(json);
    char buf[256] = "";
    FILE *f = fmemopen(buf, sizeof buf, "w");
    assert_non_null(f);
    layout_print(&l, "> ", f);
    fclose(f);
    assert_string_equal(buf,
                        "> rank 1 on a: GPU 3\n> rank 2 on b\"x: GPU none\n");
    assert_int_equal(layout_node_workers(&l, 1), 1);
    layout_free(&l);
}

static void each_worker_of_a_node_gets_its_own_gpu(void **state)
{
    (void)state;
    char dev[16];
    /* the manager takes no slot: a node's workers count from 0 */
    assert_int_equal(childenv_gpu_pick(NULL, 0, 4, dev, sizeof dev), 0);
    assert_string_equal(dev, "0");
    assert_int_equal(childenv_gpu_pick(NULL, 3, 4, dev, sizeof dev), 0);
    assert_string_equal(dev, "3");
    /* the scheduler's CUDA_VISIBLE_DEVICES is indexed, not replaced */
    assert_int_equal(childenv_gpu_pick("4,5,6,7", 2, 4, dev, sizeof dev), 0);
    assert_string_equal(dev, "6");
    /* a fifth worker wraps round: that is sharing, which the check sees */
    assert_int_equal(childenv_gpu_pick(NULL, 4, 4, dev, sizeof dev), 0);
    assert_string_equal(dev, "0");
    assert_int_equal(childenv_gpu_pick(NULL, -1, 4, dev, sizeof dev), -1);
    assert_int_equal(childenv_gpu_pick(NULL, 0, 0, dev, sizeof dev), -1);
}

static void env_of(const struct team_plan *p, const struct layout *l, int rank,
                   struct childenv *env)
{
    char *const none[] = {NULL};
    assert_int_equal(childenv_init(env, none), 0);
    assert_int_equal(team_env(env, p, l, rank, 29500), 0);
}

static void members_get_the_distributed_environment(void **state)
{
    (void)state;
    const char *hosts[] = {"a", "a", "a", "b", "b"};
    struct layout l;
    struct team_plan p;
    struct childenv env;
    char err[ERR_LEN];
    make_layout(&l, 5, hosts, NULL);
    /* k = 3: no node has 3 workers; one team (1 2 3) across a and b */
    assert_int_equal(team_plan_make(&l, 3, &p, err, sizeof err), 0);
    env_of(&p, &l, 3, &env);
    assert_string_equal(childenv_get(&env, "RANK"), "2");
    assert_string_equal(childenv_get(&env, "WORLD_SIZE"), "3");
    assert_string_equal(childenv_get(&env, "LOCAL_RANK"), "0");
    assert_string_equal(childenv_get(&env, "LOCAL_WORLD_SIZE"), "1");
    assert_string_equal(childenv_get(&env, "MASTER_ADDR"), "a");
    assert_string_equal(childenv_get(&env, "MASTER_PORT"), "29500");
    childenv_free(&env);
    env_of(&p, &l, 2, &env);
    assert_string_equal(childenv_get(&env, "RANK"), "1");
    assert_string_equal(childenv_get(&env, "LOCAL_RANK"), "1");
    assert_string_equal(childenv_get(&env, "LOCAL_WORLD_SIZE"), "2");
    childenv_free(&env);
    team_plan_free(&p);
    /* k = 2: (1 2) on a, (3 4) on b: each team meets on its own node */
    assert_int_equal(team_plan_make(&l, 2, &p, err, sizeof err), 0);
    env_of(&p, &l, 4, &env);
    assert_string_equal(childenv_get(&env, "RANK"), "1");
    assert_string_equal(childenv_get(&env, "LOCAL_RANK"), "1");
    assert_string_equal(childenv_get(&env, "MASTER_ADDR"), "127.0.0.1");
    childenv_free(&env);
    team_plan_free(&p);
    layout_free(&l);
}

static struct launch_result result(enum launch_status st, double objective,
                                   double t_end, const char *reason)
{
    struct launch_result r;
    memset(&r, 0, sizeof r);
    r.status = st;
    r.objective = objective;
    r.exit_code = st == LAUNCH_OK ? 0 : 1;
    r.t_start = 100;
    r.t_end = t_end;
    snprintf(r.reason, sizeof r.reason, "%s", reason);
    return r;
}

static void the_team_result_is_rank_0_or_the_first_cause(void **state)
{
    (void)state;
    const int rank[] = {1, 2, 3};
    struct launch_result members[3], out;
    struct launch_result own = result(LAUNCH_OK, 0.25, 110, "");
    members[1] = result(LAUNCH_OK, 0.5, 109, "");
    members[2] = result(LAUNCH_OK, 0.75, 111, "");
    team_combine(&own, members, rank, 3, &out);
    assert_int_equal(out.status, LAUNCH_OK);
    assert_true(out.objective == 0.25); /* rank 0's, not the members' */
    /* a member that crashed: the evaluation failed, and says which */
    members[2] = result(LAUNCH_FAILED, NAN, 105, "exit status 1: boom");
    team_combine(&own, members, rank, 3, &out);
    assert_int_equal(out.status, LAUNCH_FAILED);
    assert_true(isnan(out.objective));
    assert_string_equal(out.reason,
                        "team rank 2 (world rank 3): exit status 1: boom");
    /* it ended first, rank 0 then lost its peer: the crash is the cause */
    own = result(LAUNCH_FAILED, NAN, 106, "exit status 1: connection reset");
    team_combine(&own, members, rank, 3, &out);
    assert_string_equal(out.reason,
                        "team rank 2 (world rank 3): exit status 1: boom");
    /* rank 0 failed first and ended the others (cancelled: no cause) */
    own = result(LAUNCH_FAILED, NAN, 104, "exit status 1: rank 0 died");
    members[1] = result(LAUNCH_CANCELLED, NAN, 104.5, "cancelled");
    team_combine(&own, members, rank, 3, &out);
    assert_string_equal(out.reason, "exit status 1: rank 0 died");
    /* a member that hung until SH_TIMEOUT: the evaluation timed out */
    own = result(LAUNCH_CANCELLED, NAN, 131, "cancelled");
    members[1] = result(LAUNCH_TIMEOUT, NAN, 130, "timed out after 30 s");
    members[2] = result(LAUNCH_CANCELLED, NAN, 131, "cancelled");
    team_combine(&own, members, rank, 3, &out);
    assert_int_equal(out.status, LAUNCH_TIMEOUT);
    assert_non_null(strstr(out.reason, "team rank 1 (world rank 2)"));
    /* the manager's stop stays a stop, whatever the members did */
    own = result(LAUNCH_STOPPED, 0.9, 120, "stopped");
    team_combine(&own, members, rank, 3, &out);
    assert_int_equal(out.status, LAUNCH_STOPPED);
    assert_true(out.objective == 0.9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(teams_of_one_node_follow_rank_order),
        cmocka_unit_test(node_local_teams_first_then_across_nodes),
        cmocka_unit_test(teams_larger_than_a_node_span_nodes),
        cmocka_unit_test(shared_gpus_are_refused_unless_asked_for),
        cmocka_unit_test(the_rank_table_as_text_and_json),
        cmocka_unit_test(each_worker_of_a_node_gets_its_own_gpu),
        cmocka_unit_test(members_get_the_distributed_environment),
        cmocka_unit_test(the_team_result_is_rank_0_or_the_first_cause),
    };
    return UNIT_RUN(tests);
}
