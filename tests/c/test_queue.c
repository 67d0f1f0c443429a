/* Unit tests of the MPI-thread/optimizer-thread hand-off (csrc/queue.c),
 * with a real second thread. */
#include "unit.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"
#include "util.h"

/* A fake optimizer: records how results arrive and answers every request
 * with points named after the running total. */
struct fake {
    struct queue *q;
    long turns, told, asked, max_batch_told;
};

static struct point_batch *make_batch(long first, long n)
{
    struct point_batch *b = calloc(1, sizeof *b);
    b->count = n;
    b->params_json = calloc((size_t)n, sizeof(char *));
    b->csv_fields = calloc((size_t)n, sizeof(char *));
    for (long i = 0; i < n; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "{\"i\": %ld}", first + i);
        b->params_json[i] = strdup(buf);
        snprintf(buf, sizeof buf, "%ld", first + i);
        b->csv_fields[i] = strdup(buf);
    }
    return b;
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    struct queue_work w;
    while (queue_wait(f->q, &w) == 0) {
        f->turns++;
        f->told += w.nresults;
        if (w.nresults > f->max_batch_told)
            f->max_batch_told = w.nresults;
        if (w.nrequested > 0) {
            util_sleep(0.01); /* a slow ask: requests pile up meanwhile */
            queue_push_batch(f->q, make_batch(f->asked, w.nrequested));
            f->asked += w.nrequested;
        }
        queue_work_clear(&w);
    }
    return NULL;
}

static void results_batch_up_while_the_optimizer_works(void **state)
{
    (void)state;
    struct fake f = {0};
    f.q = queue_create();
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fake_main, &f), 0);

    long received = 0;
    queue_request(f.q, 5);
    for (int i = 0; i < 200; i++) {
        queue_push_result(f.q, &(struct point_result){
                                   "{\"i\": 0}", i % 3 ? 1.0 : NAN, 0, NAN, 0});
        queue_request(f.q, 1);
        struct point_batch *b;
        while ((b = queue_pop_batch(f.q)) != NULL) {
            for (long k = 0; k < b->count; k++) {
                char want[32];
                snprintf(want, sizeof want, "{\"i\": %ld}", received + k);
                assert_string_equal(b->params_json[k], want);
            }
            received += b->count;
            batch_free(b);
        }
    }
    double t0 = util_now();
    while (received < 205 && util_now() - t0 < 10) {
        struct point_batch *b = queue_pop_batch(f.q);
        if (b) {
            received += b->count;
            batch_free(b);
        }
    }
    assert_int_equal(received, 205);
    assert_int_equal(queue_pending(f.q), 0);
    queue_stop(f.q);
    pthread_join(t, NULL);
    assert_int_equal(f.asked, 205);
    assert_true(f.told <= 200);
    /* Fewer turns than results: several results were told in one call. */
    assert_true(f.turns < 200);
    assert_true(f.max_batch_told > 1);
    assert_false(queue_failed(f.q, NULL, 0));
    queue_destroy(f.q);
}

static void failure_is_reported_once(void **state)
{
    (void)state;
    struct queue *q = queue_create();
    char err[64];
    queue_fail(q, "first");
    queue_fail(q, "second");
    assert_true(queue_failed(q, err, sizeof err));
    assert_string_equal(err, "first");
    queue_destroy(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(results_batch_up_while_the_optimizer_works),
        cmocka_unit_test(failure_is_reported_once),
    };
    return UNIT_RUN(tests);
}
