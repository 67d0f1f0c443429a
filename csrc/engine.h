/*
 * engine: the embedded CPython interpreter that loads the problem file and
 * runs the optimizer (python/async_search/engine.py, class Engine).
 *
 * The interpreter starts from an isolated PyConfig (no environment, no
 * signal handlers: Open MPI has its own), with program_name set to the
 * Debian interpreter so that its dist-packages (numpy, scikit-learn) are
 * found. After engine_start the calling thread no longer holds the GIL;
 * every other function takes it for the duration of the call, so any one
 * thread may call them (the manager's optimizer thread does, the MPI thread
 * never does). Python exceptions become C strings: a ValueError (bad problem
 * file, bad setting) is a user error with a one-line message; anything else
 * is an internal error whose traceback is kept for the log.
 */
#ifndef ASYNC_SEARCH_ENGINE_H
#define ASYNC_SEARCH_ENGINE_H

#include <stddef.h>

#include "queue.h"

#define ENGINE_ERR_LEN 1024

enum engine_status {
    ENGINE_OK = 0,
    ENGINE_USER_ERROR = 2, /* bad input: message for the user, exit 2 */
    ENGINE_ERROR = 1       /* internal failure: traceback in the detail */
};

struct engine_error {
    char message[ENGINE_ERR_LEN]; /* one line */
    char *
        detail; /* owned traceback text or NULL; free with engine_error_clear */
};

struct engine;

/*
 * Starts the interpreter, puts python_dir first on sys.path, loads NumPy's
 * C-API and constructs async_search.engine.Engine(settings_json). On success
 * *out owns the engine. Only one engine may exist per process.
 */
enum engine_status engine_start(const char *python_dir,
                                const char *settings_json, struct engine **out,
                                struct engine_error *e);
/* Calls a no-argument method that returns str (e.g. "describe", "header",
 * "warnings") and returns a malloc'd copy in *text. */
enum engine_status engine_text(struct engine *en, const char *method,
                               char **text, struct engine_error *e);
/* Like engine_text, for a method taking one str argument. */
enum engine_status engine_call_text(struct engine *en, const char *method,
                                    const char *arg, char **text,
                                    struct engine_error *e);
/* Asks for n points; *out receives a batch of exactly n points. */
enum engine_status engine_ask(struct engine *en, long n,
                              struct point_batch **out, struct engine_error *e);
/* Tells n results in one call (one refit). Values are NaN for failures. */
enum engine_status engine_tell(struct engine *en,
                               const struct queue_result *results, long n,
                               struct engine_error *e);
/* A point of an earlier run of the experiment (all strings owned). */
struct replay_point {
    char *job_id;
    char *params_json;
    char *csv_fields;
    char *status;     /* ok | failed | timeout (finished points only) */
    double objective; /* NaN unless ok */
};

/* What a restart finds in the experiment directory. */
struct engine_replay {
    struct replay_point *finished; /* rows of results.csv, in file order */
    long nfinished;
    struct replay_point *inflight; /* produced, never finished: reissue */
    long ninflight;
    long last_restart; /* highest R among the job ids (0 if none) */
    double start_time; /* the experiment's first start (epoch), 0 unknown */
};

/*
 * Reads results.csv, points.log and config.json of exp_dir, tells the
 * optimizer every finished result (one batch), and returns what the manager
 * needs to continue. Bad files are user errors.
 */
enum engine_status engine_replay(struct engine *en, const char *exp_dir,
                                 struct engine_replay *out,
                                 struct engine_error *e);
void engine_replay_free(struct engine_replay *r);
/* Releases the engine and finalises the interpreter. Call from the thread
 * that called engine_start, after every other thread stopped using it.
 * Returns 0, or -1 if Py_FinalizeEx reported an error. */
int engine_stop(struct engine *en);
/* Frees e->detail. */
void engine_error_clear(struct engine_error *e);

#endif
