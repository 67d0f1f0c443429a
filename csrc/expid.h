/*
 * expid: experiment ids, the names of experiment directories.
 *
 * An id is one directory name: 1 to EXPID_NAME_MAX letters, digits, '.', '_'
 * or '-', never "." or "..", so that ROOT/ID cannot leave ROOT. When none is
 * given, the id is EXPnnn (EXP000, EXP001, ..., EXP99999): the first number
 * from 0 whose directory does not exist yet. The manager (--exp-dir and
 * --exp-id omitted), bin/async-search-run and bin/make-run (through
 * `async-search next-exp-id`) all pick it here, so they count alike.
 *
 * An automatic id may carry a suffix (the original workflow's EXP_SUFFIX):
 * EXP000_big, EXP001_big, ..., numbered among the ids with that suffix.
 *
 * Picking creates nothing: two searches started at the same moment can pick
 * the same id, and the manager's lock on the experiment directory stops the
 * second one.
 */
#ifndef ASYNC_SEARCH_EXPID_H
#define ASYNC_SEARCH_EXPID_H

#include <stddef.h>

/* The experiments root of the manager, relative to the working directory. */
#define EXPID_ROOT "experiments"
/* Automatic ids are EXP000 to EXP(EXPID_AUTO_MAX - 1). */
#define EXPID_AUTO_MAX 100000
/* The longest id (automatic or given). */
#define EXPID_NAME_MAX 100

/* Finds the first automatic id whose path ROOT/EXPnnn does not exist (a
 * dangling symbolic link exists); a missing ROOT leaves every id free. root
 * is a non-empty directory path, absolute or relative to the working
 * directory. Writes "ROOT/EXPnnn" into path (len bytes). Creates nothing.
 * Returns 0, or -1 with a one-line message in err: path is too small, ROOT is
 * not a directory or cannot be searched (the OS reason), or every id up to
 * EXPID_AUTO_MAX is taken. */
int expid_next(const char *root, char *path, size_t len, char *err,
               size_t errlen);

/* As expid_next, for ids EXPnnn followed by suffix ("" for none). The
 * suffix may hold only what an id may; with it the id must stay within
 * EXPID_NAME_MAX. Returns 0, or -1 with a one-line message in err (a bad
 * suffix: "suffix 'S' ..."). */
int expid_next_suffix(const char *root, const char *suffix, char *path,
                      size_t len, char *err, size_t errlen);

/* The id part of a path: what follows its last '/' (the whole string if it
 * has none). Points into path. */
const char *expid_name(const char *path);

/* Checks that id is valid (see above). what names its source in the message
 * (e.g. "--exp-id" or "EXPID"). Returns 0, or -1 with "WHAT: 'ID' is not a
 * valid experiment id (allowed: ...)" in err. */
int expid_check(const char *id, const char *what, char *err, size_t errlen);

#endif
