/*
 * engine: the embedded interpreter. See engine.h for the contract.
 *
 * Reference counting: every PyObject * local is either owned (released once
 * at the function's `done:` label) or marked "borrowed" where it is taken.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define PY_ARRAY_UNIQUE_SYMBOL async_search_ARRAY_API
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include "engine.h"

#include <math.h>
#include <string.h>

/* The build's PYTHON (Makefile), also the default of --python. */
#define ENGINE_PROGRAM_NAME BUILD_PYTHON
#define ENGINE_MODULE "async_search.engine"
#define ENGINE_CLASS "Engine"
#define ENGINE_BASE_MODULE "async_search.optimizers._base"

static const struct optimizer_ops engine_optimizer_ops;

/* Background imports the optimizers started (async_search.optimizers._base)
 * end before the interpreter does: one still running when finalization
 * begins cannot register its modules' exit hooks and prints a traceback. The
 * module is not imported here when nothing loaded it. GIL held. */
static void engine_join_imports(void)
{
    PyObject *name = PyUnicode_FromString(ENGINE_BASE_MODULE);
    PyObject *mod = name ? PyImport_GetModule(name) : NULL;
    Py_XDECREF(name);
    if (mod != NULL) {
        PyObject *r = PyObject_CallMethod(mod, "wait_for_imports", NULL);
        Py_XDECREF(r);
        Py_DECREF(mod);
    }
    PyErr_Clear();
}

static int engine_finalize(void)
{
    engine_join_imports();
    return Py_FinalizeEx();
}

struct engine {
    struct optimizer opt; /* first: engine_optimizer's view of the engine */
    PyObject *obj;        /* owned: the Engine instance */
    PyThreadState *saved; /* main thread state while the GIL is released */
};

void engine_error_clear(struct engine_error *e)
{
    free(e->detail);
    e->detail = NULL;
}

static void engine_set(struct engine_error *e, const char *msg)
{
    snprintf(e->message, sizeof e->message, "%s", msg);
    e->detail = NULL;
}

/*
 * Turns the raised exception into e (one-line message + traceback detail)
 * and clears the error indicator. Returns ENGINE_USER_ERROR for ValueError
 * (and subclasses such as ProblemError), ENGINE_ERROR otherwise. Needs the
 * GIL.
 */
static enum engine_status engine_exception(struct engine_error *e,
                                           const char *context)
{
    PyObject *type = NULL, *value = NULL, *tb = NULL; /* owned */
    PyObject *text = NULL, *tbmod = NULL, *lines = NULL, *joined = NULL;
    PyObject *sep = NULL;
    enum engine_status status = ENGINE_ERROR;

    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL) {
        snprintf(e->message, sizeof e->message,
                 "%s: failed without a Python "
                 "exception",
                 context);
        e->detail = NULL;
        return ENGINE_ERROR;
    }
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb && value)
        PyException_SetTraceback(value, tb);
    if (PyErr_GivenExceptionMatches(type, PyExc_ValueError))
        status = ENGINE_USER_ERROR;

    text = value ? PyObject_Str(value) : NULL;
    const char *msg = text ? PyUnicode_AsUTF8(text) : NULL;
    const char *tname = ((PyTypeObject *)type)->tp_name;
    if (status == ENGINE_USER_ERROR)
        snprintf(e->message, sizeof e->message, "%s", msg ? msg : tname);
    else
        snprintf(e->message, sizeof e->message, "%s: %s: %s", context, tname,
                 msg ? msg : "(no message)");
    /* One line: the message is printed as "async-search: error: ..." */
    for (char *p = e->message; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    PyErr_Clear();

    e->detail = NULL;
    tbmod = PyImport_ImportModule("traceback");
    if (tbmod)
        lines = PyObject_CallMethod(tbmod, "format_exception", "OOO", type,
                                    value ? value : Py_None, tb ? tb : Py_None);
    if (lines) {
        sep = PyUnicode_FromString("");
        joined = sep ? PyUnicode_Join(sep, lines) : NULL;
    }
    const char *detail = joined ? PyUnicode_AsUTF8(joined) : NULL;
    if (detail)
        e->detail = strdup(detail);
    PyErr_Clear();

    Py_XDECREF(sep);
    Py_XDECREF(joined);
    Py_XDECREF(lines);
    Py_XDECREF(tbmod);
    Py_XDECREF(text);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return status;
}

/* import_array is a macro that returns from the caller; wrap it. */
static int engine_import_numpy(void)
{
    return _import_array();
}

static enum engine_status engine_init_python(struct engine_error *e)
{
    PyStatus st;
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.install_signal_handlers = 0;
    st = PyConfig_SetBytesString(&config, &config.program_name,
                                 ENGINE_PROGRAM_NAME);
    if (PyStatus_Exception(st))
        goto fail;
    st = Py_InitializeFromConfig(&config);
    if (PyStatus_Exception(st))
        goto fail;
    PyConfig_Clear(&config);
    return ENGINE_OK;
fail:
    PyConfig_Clear(&config);
    snprintf(e->message, sizeof e->message,
             "cannot start the embedded Python (%s): %s", ENGINE_PROGRAM_NAME,
             st.err_msg ? st.err_msg : "unknown error");
    e->detail = NULL;
    return ENGINE_ERROR;
}

enum engine_status engine_start(const char *python_dir,
                                const char *settings_json, struct engine **out,
                                struct engine_error *e)
{
    PyObject *path = NULL, *module = NULL, *cls = NULL, *obj = NULL; /* owned */
    PyObject *sys_path; /* borrowed */
    enum engine_status status;
    struct engine *en = NULL;

    *out = NULL;
    e->detail = NULL;
    status = engine_init_python(e);
    if (status != ENGINE_OK)
        return status;

    sys_path = PySys_GetObject("path");
    path = PyUnicode_DecodeFSDefault(python_dir);
    if (sys_path == NULL || path == NULL ||
        PyList_Insert(sys_path, 0, path) != 0) {
        status = engine_exception(e, "setting sys.path");
        goto done;
    }
    if (engine_import_numpy() < 0) {
        status = engine_exception(e, "importing NumPy's C-API");
        goto done;
    }
    module = PyImport_ImportModule(ENGINE_MODULE);
    if (module == NULL) {
        status = engine_exception(e, "importing " ENGINE_MODULE);
        if (status == ENGINE_USER_ERROR)
            status = ENGINE_ERROR;
        goto done;
    }
    cls = PyObject_GetAttrString(module, ENGINE_CLASS);
    if (cls == NULL) {
        status = engine_exception(e, "loading " ENGINE_MODULE "." ENGINE_CLASS);
        goto done;
    }
    obj = PyObject_CallFunction(cls, "s", settings_json);
    if (obj == NULL) {
        status = engine_exception(e, "starting the optimizer");
        goto done;
    }
    en = calloc(1, sizeof *en);
    if (en == NULL) {
        engine_set(e, "out of memory");
        status = ENGINE_ERROR;
        goto done;
    }
    en->opt.ops = &engine_optimizer_ops;
    en->obj = obj;
    obj = NULL;
    status = ENGINE_OK;
done:
    Py_XDECREF(obj);
    Py_XDECREF(cls);
    Py_XDECREF(module);
    Py_XDECREF(path);
    if (status == ENGINE_OK) {
        en->saved = PyEval_SaveThread();
        *out = en;
    } else {
        engine_finalize();
    }
    return status;
}

enum engine_status engine_text(struct engine *en, const char *method,
                               char **text, struct engine_error *e)
{
    return engine_call_text(en, method, NULL, text, e);
}

enum engine_status engine_call_text(struct engine *en, const char *method,
                                    const char *arg, char **text,
                                    struct engine_error *e)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *res = NULL; /* owned */
    enum engine_status status = ENGINE_OK;
    *text = NULL;
    e->detail = NULL;

    if (arg)
        res = PyObject_CallMethod(en->obj, method, "s", arg);
    else
        res = PyObject_CallMethod(en->obj, method, NULL);
    if (res == NULL) {
        status = engine_exception(e, method);
        goto done;
    }
    const char *s = PyUnicode_Check(res) ? PyUnicode_AsUTF8(res) : NULL;
    if (s == NULL) {
        PyErr_Clear();
        snprintf(e->message, sizeof e->message,
                 "Engine.%s did not return a str", method);
        status = ENGINE_ERROR;
        goto done;
    }
    *text = strdup(s);
    if (*text == NULL) {
        engine_set(e, "out of memory");
        status = ENGINE_ERROR;
    }
done:
    Py_XDECREF(res);
    PyGILState_Release(gil);
    return status;
}

/* Copies element i of a (str, str) tuple list into the batch. */
static int engine_take_point(PyObject *item, struct point_batch *b, long i)
{
    /* item: borrowed */
    Py_ssize_t width = b->sim_values ? 3 : 2;
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != width)
        return -1;
    if (b->sim_values) {
        b->sim_values[i] = PyFloat_AsDouble(PyTuple_GET_ITEM(item, 2));
        if (PyErr_Occurred())
            return -1;
    }
    const char *json = PyUnicode_AsUTF8(PyTuple_GET_ITEM(item, 0));
    const char *csv = json ? PyUnicode_AsUTF8(PyTuple_GET_ITEM(item, 1)) : NULL;
    if (json == NULL || csv == NULL)
        return -1;
    b->params_json[i] = strdup(json);
    b->csv_fields[i] = strdup(csv);
    return (b->params_json[i] && b->csv_fields[i]) ? 0 : -1;
}

static enum engine_status engine_ask(struct engine *en, long n,
                                     struct point_batch **out,
                                     struct engine_error *e)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *res = NULL; /* owned */
    struct point_batch *b = NULL;
    enum engine_status status = ENGINE_OK;
    *out = NULL;
    e->detail = NULL;

    res = PyObject_CallMethod(en->obj, "ask", "l", n);
    if (res == NULL) {
        status = engine_exception(e, "optimizer ask");
        if (status == ENGINE_USER_ERROR)
            status = ENGINE_ERROR; /* a failing optimizer is never bad input */
        goto done;
    }
    if (!PyList_Check(res) || PyList_GET_SIZE(res) != n) {
        snprintf(e->message, sizeof e->message,
                 "optimizer ask(%ld) did not return a list of %ld points", n,
                 n);
        status = ENGINE_ERROR;
        goto done;
    }
    int with_sim = n > 0 && PyTuple_Check(PyList_GET_ITEM(res, 0)) &&
                   PyTuple_GET_SIZE(PyList_GET_ITEM(res, 0)) == 3;
    b = batch_new(n, with_sim);
    if (b == NULL)
        goto nomem;
    for (long i = 0; i < n; i++) {
        if (engine_take_point(PyList_GET_ITEM(res, i), b, i) != 0) {
            PyErr_Clear();
            snprintf(e->message, sizeof e->message,
                     "optimizer ask: point %ld is not a (json, csv[, value]) "
                     "tuple",
                     i);
            status = ENGINE_ERROR;
            goto done;
        }
    }
    *out = b;
    b = NULL;
    goto done;
nomem:
    engine_set(e, "out of memory while copying points");
    status = ENGINE_ERROR;
done:
    batch_free(b);
    Py_XDECREF(res);
    PyGILState_Release(gil);
    return status;
}

static enum engine_status engine_tell(struct engine *en,
                                      const struct point_result *results,
                                      long n, struct engine_error *e)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *points = NULL, *values = NULL, *seen = NULL; /* owned */
    PyObject *res = NULL;                                  /* owned */
    enum engine_status status = ENGINE_OK;
    e->detail = NULL;

    points = PyList_New(n);
    seen = PyList_New(n);
    npy_intp dims[1] = {(npy_intp)n};
    values = PyArray_SimpleNew(1, dims, NPY_DOUBLE);
    if (points == NULL || seen == NULL || values == NULL) {
        status = engine_exception(e, "optimizer tell");
        goto done;
    }
    double *v = (double *)PyArray_DATA((PyArrayObject *)values);
    for (long i = 0; i < n; i++) {
        PyObject *s = PyUnicode_FromString(results[i].params_json);
        if (s == NULL) {
            status = engine_exception(e, "optimizer tell");
            goto done;
        }
        PyList_SET_ITEM(points, i, s); /* steals s */
        v[i] = results[i].value;
        /* stopped early: (last step, its value, full step); else None */
        PyObject *t = Py_None;
        if (results[i].step > 0)
            t = Py_BuildValue("(ldl)", results[i].step, results[i].last,
                              results[i].full_step);
        else
            Py_INCREF(t);
        if (t == NULL) {
            status = engine_exception(e, "optimizer tell");
            goto done;
        }
        PyList_SET_ITEM(seen, i, t); /* steals t */
    }
    res = PyObject_CallMethod(en->obj, "tell", "OOO", points, values, seen);
    if (res == NULL) {
        status = engine_exception(e, "optimizer tell");
        if (status == ENGINE_USER_ERROR)
            status = ENGINE_ERROR;
    }
done:
    Py_XDECREF(res);
    Py_XDECREF(values);
    Py_XDECREF(seen);
    Py_XDECREF(points);
    PyGILState_Release(gil);
    return status;
}

static char *engine_strdup_item(PyObject *tuple, Py_ssize_t i)
{
    /* tuple: borrowed */
    const char *s = PyUnicode_AsUTF8(PyTuple_GET_ITEM(tuple, i));
    return s ? strdup(s) : NULL;
}

/* Converts a list of (job_id, json, csv, status, objective) tuples (finished
 * points) or (job_id, json, csv, simulated objective) tuples (in flight). */
static int engine_replay_list(PyObject *list, int finished,
                              struct replay_point **out, long *n)
{
    /* list: borrowed */
    Py_ssize_t len = PyList_Check(list) ? PyList_GET_SIZE(list) : -1;
    Py_ssize_t width = finished ? 5 : 4;
    if (len < 0)
        return -1;
    *n = 0;
    *out = calloc((size_t)(len > 0 ? len : 1), sizeof **out);
    if (*out == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < len; i++) {
        PyObject *t = PyList_GET_ITEM(list, i); /* borrowed */
        struct replay_point *p = &(*out)[i];
        if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != width)
            return -1;
        p->job_id = engine_strdup_item(t, 0);
        p->params_json = engine_strdup_item(t, 1);
        p->csv_fields = engine_strdup_item(t, 2);
        p->objective = p->sim_value = NAN;
        if (finished) {
            p->status = engine_strdup_item(t, 3);
            p->objective = PyFloat_AsDouble(PyTuple_GET_ITEM(t, 4));
        } else {
            p->sim_value = PyFloat_AsDouble(PyTuple_GET_ITEM(t, 3));
        }
        (*n)++;
        if (!p->job_id || !p->params_json || !p->csv_fields ||
            (finished && !p->status) || PyErr_Occurred())
            return -1;
    }
    return 0;
}

/* Converts the list of (job_id, step, value) tuples into r->curves. */
static int engine_replay_curves(PyObject *list, struct replay *r)
{
    /* list: borrowed */
    Py_ssize_t len = PyList_Check(list) ? PyList_GET_SIZE(list) : -1;
    if (len < 0)
        return -1;
    r->curves = calloc((size_t)(len > 0 ? len : 1), sizeof *r->curves);
    if (r->curves == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < len; i++) {
        PyObject *t = PyList_GET_ITEM(list, i); /* borrowed */
        if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 3)
            return -1;
        struct replay_curve *c = &r->curves[i];
        c->job_id = engine_strdup_item(t, 0);
        r->ncurves++;
        c->step = PyLong_AsLong(PyTuple_GET_ITEM(t, 1));
        c->value = PyFloat_AsDouble(PyTuple_GET_ITEM(t, 2));
        if (c->job_id == NULL || PyErr_Occurred())
            return -1;
    }
    return 0;
}

static enum engine_status engine_replay(struct engine *en, const char *exp_dir,
                                        struct replay *out,
                                        struct engine_error *e)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *res = NULL; /* owned */
    enum engine_status status = ENGINE_OK;
    memset(out, 0, sizeof *out);
    e->detail = NULL;

    res = PyObject_CallMethod(en->obj, "replay", "s", exp_dir);
    if (res == NULL) {
        status = engine_exception(e, "replaying the experiment");
        goto done;
    }
    if (!PyTuple_Check(res) || PyTuple_GET_SIZE(res) != 5 ||
        engine_replay_list(PyTuple_GET_ITEM(res, 0), 1, &out->finished,
                           &out->nfinished) != 0 ||
        engine_replay_list(PyTuple_GET_ITEM(res, 1), 0, &out->inflight,
                           &out->ninflight) != 0 ||
        engine_replay_curves(PyTuple_GET_ITEM(res, 4), out) != 0) {
        PyErr_Clear();
        snprintf(e->message, sizeof e->message,
                 "Engine.replay returned an unexpected value");
        status = ENGINE_ERROR;
        goto done;
    }
    out->last_restart = PyLong_AsLong(PyTuple_GET_ITEM(res, 2));
    out->start_time = PyFloat_AsDouble(PyTuple_GET_ITEM(res, 3));
    if (PyErr_Occurred()) {
        PyErr_Clear();
        snprintf(e->message, sizeof e->message,
                 "Engine.replay returned an unexpected value");
        status = ENGINE_ERROR;
    }
done:
    if (status != ENGINE_OK)
        replay_free(out);
    Py_XDECREF(res);
    PyGILState_Release(gil);
    return status;
}

/* ---- the optimizer interface ------------------------------------------ */

/* Moves an engine error into an optimizer error. */
static enum optimizer_status engine_to_optimizer(enum engine_status st,
                                                 struct engine_error *from,
                                                 struct optimizer_error *to)
{
    if (st == ENGINE_OK)
        return OPTIMIZER_OK;
    snprintf(to->message, sizeof to->message, "%s", from->message);
    to->detail = from->detail;
    from->detail = NULL;
    return st == ENGINE_USER_ERROR ? OPTIMIZER_USER_ERROR : OPTIMIZER_ERROR;
}

static enum optimizer_status engine_opt_tell(struct optimizer *o,
                                             const struct point_result *r,
                                             long n, struct optimizer_error *e)
{
    struct engine_error ee;
    memset(&ee, 0, sizeof ee);
    return engine_to_optimizer(engine_tell((struct engine *)o, r, n, &ee), &ee,
                               e);
}

static enum optimizer_status engine_opt_ask(struct optimizer *o, long n,
                                            struct point_batch **out,
                                            struct optimizer_error *e)
{
    struct engine_error ee;
    memset(&ee, 0, sizeof ee);
    return engine_to_optimizer(engine_ask((struct engine *)o, n, out, &ee), &ee,
                               e);
}

static enum optimizer_status engine_opt_replay(struct optimizer *o,
                                               const char *exp_dir,
                                               struct replay *out,
                                               struct optimizer_error *e)
{
    struct engine_error ee;
    memset(&ee, 0, sizeof ee);
    return engine_to_optimizer(
        engine_replay((struct engine *)o, exp_dir, out, &ee), &ee, e);
}

static const struct optimizer_ops engine_optimizer_ops = {
    .tell = engine_opt_tell,
    .ask = engine_opt_ask,
    .replay = engine_opt_replay,
};

struct optimizer *engine_optimizer(struct engine *en)
{
    return &en->opt;
}

int engine_stop(struct engine *en)
{
    if (en == NULL)
        return 0;
    PyEval_RestoreThread(en->saved);
    Py_XDECREF(en->obj);
    free(en);
    return engine_finalize() < 0 ? -1 : 0;
}
