/* Unit tests of the child environment (csrc/childenv.c): the launcher
 * variables a model must not see, and the GPU a worker binds. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "childenv.h"

static void environment_drops_the_rank_variables(void **state)
{
    (void)state;
    char *parent[] = {"PATH=/usr/bin",
                      "OMPI_COMM_WORLD_RANK=3",
                      "PMIX_RANK=3",
                      "PMI_FD=4",
                      "SLURM_PROCID=1",
                      "SLURM_JOB_ID=77",
                      "OMPI_ALLOW_RUN_AS_ROOT=1",
                      "OMP_NUM_THREADS=4",
                      "HOME=/root",
                      NULL};
    struct childenv env;
    assert_int_equal(childenv_init(&env, parent), 0);
    assert_null(childenv_get(&env, "OMPI_COMM_WORLD_RANK"));
    assert_null(childenv_get(&env, "PMIX_RANK"));
    assert_null(childenv_get(&env, "PMI_FD"));
    assert_null(childenv_get(&env, "SLURM_PROCID"));
    assert_string_equal(childenv_get(&env, "SLURM_JOB_ID"), "77");
    assert_string_equal(childenv_get(&env, "OMPI_ALLOW_RUN_AS_ROOT"), "1");
    assert_string_equal(childenv_get(&env, "OMP_NUM_THREADS"), "4");
    assert_int_equal(childenv_set(&env, "OMP_NUM_THREADS", "1", 0), 0);
    assert_string_equal(childenv_get(&env, "OMP_NUM_THREADS"), "4");
    assert_int_equal(childenv_set(&env, "OMP_NUM_THREADS", "1", 1), 0);
    assert_string_equal(childenv_get(&env, "OMP_NUM_THREADS"), "1");
    assert_int_equal(childenv_set(&env, "NEW", "x=y", 0), 0);
    assert_string_equal(childenv_get(&env, "NEW"), "x=y");
    assert_null(env.vars[env.count]);
    childenv_free(&env);
}

static void scrubbed_names_and_growth_past_the_first_array(void **state)
{
    (void)state;
    assert_true(childenv_scrubbed("OMPI_COMM_WORLD_SIZE=4"));
    assert_true(childenv_scrubbed("SLURM_STEP_ID=0"));
    assert_false(childenv_scrubbed("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"));
    assert_false(childenv_scrubbed("SLURM_JOB_ID=77"));
    struct childenv env;
    char *no_equals[] = {"JUNK", NULL};
    assert_int_equal(childenv_init(&env, no_equals), 0);
    assert_int_equal(env.count, 0);
    assert_null(env.vars[0]);
    for (int i = 0; i < 200; i++) {
        char name[16];
        snprintf(name, sizeof name, "V%d", i);
        assert_int_equal(childenv_set(&env, name, name, 1), 0);
    }
    assert_int_equal(env.count, 200);
    assert_string_equal(childenv_get(&env, "V199"), "V199");
    assert_null(env.vars[env.count]);
    childenv_free(&env);
}

static void gpu_binding_by_node_local_index(void **state)
{
    (void)state;
    char *parent[] = {"PATH=/usr/bin", NULL};
    char dev[32];
    struct childenv env;
    assert_int_equal(childenv_init(&env, parent), 0);
    assert_int_equal(childenv_bind_gpu(&env, 5, 4, dev, sizeof dev), 0);
    assert_string_equal(dev, "1");
    assert_string_equal(childenv_get(&env, "CUDA_VISIBLE_DEVICES"), "1");
    assert_string_equal(childenv_get(&env, "ROCR_VISIBLE_DEVICES"), "1");
    assert_string_equal(childenv_get(&env, "ZE_AFFINITY_MASK"), "1");
    assert_int_equal(childenv_bind_gpu(&env, 0, 0, dev, sizeof dev), -1);
    childenv_free(&env);

    /* The scheduler gave this job devices 2 and 3 only. */
    char *restricted[] = {"CUDA_VISIBLE_DEVICES=2,3", NULL};
    assert_int_equal(childenv_init(&env, restricted), 0);
    assert_int_equal(childenv_bind_gpu(&env, 1, 2, dev, sizeof dev), 0);
    assert_string_equal(dev, "3");
    childenv_free(&env);
    assert_int_equal(childenv_init(&env, restricted), 0);
    assert_int_equal(childenv_bind_gpu(&env, 2, 4, dev, sizeof dev), 0);
    assert_string_equal(dev, "2"); /* slot 2 of a 2-entry list wraps */
    childenv_free(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(environment_drops_the_rank_variables),
        cmocka_unit_test(scrubbed_names_and_growth_past_the_first_array),
        cmocka_unit_test(gpu_binding_by_node_local_index),
    };
    return UNIT_RUN(tests);
}
