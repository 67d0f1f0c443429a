/*
 * engine: the embedded CPython interpreter that loads the problem file and
 * runs the optimizer (python/async_search/engine.py, class Engine).
 *
 * The interpreter starts from an isolated PyConfig (no environment, no
 * signal handlers: Open MPI has its own), with program_name set to the
 * Debian interpreter so that its dist-packages (numpy, scikit-learn) are
 * found. After engine_start the calling thread no longer holds the GIL;
 * every other function takes it for the duration of the call, so any one
 * thread may call them. The main (MPI) thread calls the engine while it sets
 * up (problem, header, a restart's replay) and after the search (the
 * report), never while the manager's loop runs: then only the optimizer
 * thread does, through engine_optimizer. Python exceptions become C
 * strings: a ValueError (bad problem file, bad setting) is a user error with
 * a one-line message; anything else is an internal error whose traceback is
 * kept for the log.
 */
#ifndef ASYNC_SEARCH_ENGINE_H
#define ASYNC_SEARCH_ENGINE_H

#include <stddef.h>

#include "optimizer.h"

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
/*
 * The engine as the manager's optimizer (optimizer.h): ask, tell and replay
 * call async_search.engine.Engine. The optimizer is part of the engine and
 * lives as long as it does.
 */
struct optimizer *engine_optimizer(struct engine *en);
/* Releases the engine and finalises the interpreter. Call from the thread
 * that called engine_start, after every other thread stopped using it.
 * Returns 0, or -1 if Py_FinalizeEx reported an error. */
int engine_stop(struct engine *en);
/* The problem declares k objectives (Engine.objectives): from then on tell
 * passes an n x k array of values (k > 1), else one value per result. */
void engine_set_objectives(struct engine *en, int k);
/* Frees e->detail. */
void engine_error_clear(struct engine_error *e);

#endif
