/*
 * async-search: asynchronous, model-based hyperparameter search.
 *
 * main parses the flags (identically on every rank, so that a bad flag stops
 * every rank the same way without any message passing), handles the modes
 * that need no MPI (--help, --check, --simulate and the subcommands report,
 * cfg-variables and next-exp-id), then starts MPI and runs the manager on
 * rank 0 and a worker on every other rank.
 */
#include <errno.h>
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "expid.h"
#include "childenv.h"
#include "layout.h"
#include "log.h"
#include "search.h"
#include "options.h"
#include "stopper.h"
#include "strbuf.h"
#include "transport.h"
#include "worker.h"

/* Environment variables by which common launchers tell a process its rank,
 * read before MPI starts so that only rank 0 prints usage errors. */
static const char *const main_rank_vars[] = {
    "OMPI_COMM_WORLD_RANK", "PMIX_RANK",   "PMI_RANK",
    "SLURM_PROCID",         "PALS_RANKID", "JSM_NAMESPACE_RANK",
};

static int main_rank_hint(void)
{
    for (size_t i = 0; i < sizeof main_rank_vars / sizeof *main_rank_vars;
         i++) {
        const char *v = getenv(main_rank_vars[i]);
        if (v && *v)
            return atoi(v);
    }
    return 0;
}

/* The project root: $ASYNC_SEARCH_HOME, else the parent of the directory
 * holding this executable (build/async-search). Returns an owned string. */
static char *main_home(void)
{
    const char *env = getenv("ASYNC_SEARCH_HOME");
    if (env && *env)
        return strdup(env);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return strdup(".");
    exe[n] = '\0';
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(exe, '/');
        if (slash == NULL)
            return strdup(".");
        *slash = '\0';
    }
    return strdup(exe[0] ? exe : "/");
}

/* `async-search report EXPDIR ...`: runs the Python report with
 * $ASYNC_SEARCH_PYTHON, else the build's Python. */
static int main_report(int argc, char **argv, const char *home)
{
    struct strbuf pp = STRBUF_INIT;
    const char *python = getenv("ASYNC_SEARCH_PYTHON");
    if (python == NULL || *python == '\0')
        python = BUILD_PYTHON;
    const char *old = getenv("PYTHONPATH");
    strbuf_printf(&pp, "%s/python%s%s", home, old ? ":" : "", old ? old : "");
    setenv("PYTHONPATH", strbuf_str(&pp), 1);
    strbuf_free(&pp);
    char **args = calloc((size_t)argc + 3, sizeof *args);
    if (args == NULL)
        return 1;
    args[0] = (char *)python;
    args[1] = "-m";
    args[2] = "async_search.report";
    for (int i = 2; i < argc; i++)
        args[i + 1] = argv[i];
    execv(python, args);
    fprintf(stderr, "async-search: error: cannot run %s: %s\n", python,
            strerror(errno));
    free(args);
    return 1;
}

/* `async-search cfg-variables`: the cfg mapping, for bin/async-search-run. */
static int main_cfg_variables(int argc, char **argv, const char *home)
{
    (void)argv;
    (void)home;
    if (argc != 2) {
        log_error("cfg-variables takes no arguments (usage: async-search "
                  "cfg-variables)");
        return 2;
    }
    options_cfg_variables(stdout);
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

/* `async-search next-exp-id [ROOT [SUFFIX]]`: prints the first free EXPnnn
 * (EXPnnnSUFFIX with a suffix) under ROOT (default: the manager's), creating
 * nothing. */
static int main_next_exp_id(int argc, char **argv, const char *home)
{
    (void)home;
    char path[PATH_MAX], err[OPTIONS_ERR_LEN];
    if (argc > 4) {
        log_error("next-exp-id takes at most two arguments (usage: "
                  "async-search next-exp-id [ROOT [SUFFIX]])");
        return 2;
    }
    const char *root = argc >= 3 ? argv[2] : EXPID_ROOT;
    const char *suffix = argc == 4 ? argv[3] : "";
    if (expid_next_suffix(root, suffix, path, sizeof path, err, sizeof err) !=
        0) {
        log_error("next-exp-id: %s", err);
        return 2;
    }
    printf("%s\n", expid_name(path));
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

/* The subcommands: `async-search NAME ARGS...`, all without MPI. */
struct main_command {
    const char *name;
    int (*run)(int argc, char **argv, const char *home);
};

static const struct main_command main_commands[] = {
    {"report", main_report},
    {"cfg-variables", main_cfg_variables},
    {"next-exp-id", main_next_exp_id},
};

static const struct main_command *main_find_command(int argc, char **argv)
{
    if (argc < 2)
        return NULL;
    for (size_t i = 0; i < sizeof main_commands / sizeof *main_commands; i++)
        if (strcmp(argv[1], main_commands[i].name) == 0)
            return &main_commands[i];
    return NULL;
}

/* The transport's name for a --simulate-distribution. */
static enum sim_distribution
main_sim_distribution(enum options_sim_distribution d)
{
    switch (d) {
    case OPTIONS_SIM_FIXED: return SIM_FIXED;
    case OPTIONS_SIM_EXP: return SIM_EXP;
    case OPTIONS_SIM_LOGNORMAL: return SIM_LOGNORMAL;
    }
    return SIM_FIXED;
}

/* Where this rank is and which GPU it gets, gathered from every rank
 * (collective); then the teams, the same on every rank. A plan that cannot
 * be made leaves no team and its reason in job->error (rank 0 says it). */
static int main_layout(const struct options *o, int rank, struct layout *l,
                       struct team_plan *plan, struct search_job *job)
{
    int node_index = 0;
    char device[LAYOUT_DEVICE_MAX] = "";
    if (transport_node_worker_index(&node_index) != 0)
        return -1;
    if (rank > 0 && o->gpus_per_node > 0)
        childenv_gpu_pick(getenv("CUDA_VISIBLE_DEVICES"), node_index,
                          o->gpus_per_node, device, sizeof device);
    if (transport_layout(device, l) != 0)
        return -1;
    job->layout = l;
    job->plan = plan;
    if (team_plan_make(l, (int)o->ranks_per_eval, plan, job->error,
                       sizeof job->error) != 0)
        memset(plan, 0, sizeof *plan);
    return 0;
}

/* An MPI job: rank 0 searches, the other ranks work (alone or in teams). */
static int main_job(const struct options *o, const char *home, int rank)
{
    struct layout l;
    struct team_plan plan;
    struct search_job job;
    char err[OPTIONS_ERR_LEN];
    int status;
    memset(&l, 0, sizeof l);
    memset(&plan, 0, sizeof plan);
    memset(&job, 0, sizeof job);
    if (main_layout(o, rank, &l, &plan, &job) != 0) {
        if (rank == 0)
            log_error("cannot learn which ranks share a node (MPI "
                      "collectives failed)");
        return 1;
    }
    if (rank == 0) {
        struct transport *t = NULL;
        if (transport_mpi_create(&plan, &t, err, sizeof err) != 0) {
            log_error("%s", err);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        log_init(-1, o->quiet ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN);
        status = search_run(o, home, t, &job);
        t->ops->destroy(t);
    } else {
        status = worker_run(o, home, rank, &l, &plan);
    }
    team_plan_free(&plan);
    layout_free(&l);
    return status;
}

/* --simulate W: the manager against W virtual workers, without MPI. */
static int main_simulate(const struct options *o, const char *home)
{
    struct transport *t = NULL;
    char err[OPTIONS_ERR_LEN];
    enum sim_distribution dist = main_sim_distribution(o->sim_distribution);
    /* with --ranks-per-eval K, W virtual ranks make W / K teams */
    long teams = o->simulate / o->ranks_per_eval;
    if (transport_sim_create(&t, (int)(teams > 0 ? teams : 1), o->sim_duration,
                             dist, (unsigned long)o->seed, err,
                             sizeof err) != 0) {
        log_error("%s", err);
        return 1;
    }
    if (stopper_rule_acts(o->stopper)) /* a stopper needs curves */
        transport_sim_curves(t, o->stopper_max_step > 0 ? o->stopper_max_step
                                                        : SIM_CURVE_STEPS);
    log_init(-1, o->quiet ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN);
    int status = search_run(o, home, t, NULL);
    t->ops->destroy(t);
    return status;
}

int main(int argc, char **argv)
{
    struct options o;
    char err[OPTIONS_ERR_LEN];
    int rank_hint = main_rank_hint();
    int status;
    char *home = main_home();
    if (home == NULL)
        return 1;

    log_init(-1, LOG_LEVEL_WARN);
    const struct main_command *command = main_find_command(argc, argv);
    if (command) {
        status = command->run(argc, argv, home);
        free(home);
        return status;
    }
    switch (options_parse(argc, argv, &o, err, sizeof err)) {
    case OPTIONS_HELP:
        if (rank_hint == 0)
            options_usage(stdout);
        free(home);
        return 0;
    case OPTIONS_ERROR:
        /* Every rank sees the same flags; rank 0 reports. The others end
         * quietly with 0 so that mpiexec does not tear the job down (and
         * drop rank 0's message) before rank 0 has exited with 2. */
        if (rank_hint == 0)
            log_error("%s", err);
        free(home);
        return rank_hint == 0 ? 2 : 0;
    case OPTIONS_OK: break;
    }
    if (o.check) {
        status = search_check(&o, home);
        free(home);
        return status;
    }
    if (o.simulate > 0) {
        status = main_simulate(&o, home);
        free(home);
        return status;
    }

    int provided, rank, size;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) !=
        MPI_SUCCESS) {
        log_error("MPI_Init_thread failed");
        free(home);
        return 1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    log_init(size > 1 ? rank : -1, LOG_LEVEL_WARN);
    if (size < 2) {
        if (rank == 0)
            log_error("needs at least 2 MPI ranks (1 manager + workers): run "
                      "it as mpiexec -n N %s ... with N >= 2",
                      argv[0]);
        status = 2;
    } else if (provided < MPI_THREAD_FUNNELED) {
        if (rank == 0)
            log_error("this MPI library does not provide "
                      "MPI_THREAD_FUNNELED, which the manager needs");
        status = 1;
    } else {
        status = main_job(&o, home, rank);
    }
    MPI_Finalize();
    free(home);
    return status;
}
