/*
 * expid: see expid.h.
 */
#include "expid.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define EXPID_PREFIX "EXP"
#define EXPID_DIGITS 3 /* EXP000: at least three digits */
/* The longest automatic id without its suffix: EXP99999. */
#define EXPID_AUTO_LEN 8

/* Whether c may appear in an id. */
static int expid_char_ok(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Checks an automatic id's suffix. Returns 0 or -1 with err. */
static int expid_check_suffix(const char *suffix, char *err, size_t errlen)
{
    size_t n = strlen(suffix);
    int ok = n <= EXPID_NAME_MAX - EXPID_AUTO_LEN;
    for (size_t i = 0; ok && i < n; i++)
        ok = expid_char_ok(suffix[i]);
    if (!ok) {
        snprintf(err, errlen,
                 "suffix '%s' cannot end an experiment id (allowed: up to %d "
                 "letters, digits, '.', '_' or '-')",
                 suffix, EXPID_NAME_MAX - EXPID_AUTO_LEN);
        return -1;
    }
    return 0;
}

int expid_next(const char *root, char *path, size_t len, char *err,
               size_t errlen)
{
    return expid_next_suffix(root, "", path, len, err, errlen);
}

int expid_next_suffix(const char *root, const char *suffix, char *path,
                      size_t len, char *err, size_t errlen)
{
    if (root == NULL || root[0] == '\0') {
        snprintf(err, errlen, "the experiments directory is empty");
        return -1;
    }
    if (suffix == NULL)
        suffix = "";
    if (expid_check_suffix(suffix, err, errlen) != 0)
        return -1;
    for (long i = 0; i < EXPID_AUTO_MAX; i++) {
        int n = snprintf(path, len, "%s/" EXPID_PREFIX "%0*ld%s", root,
                         EXPID_DIGITS, i, suffix);
        if (n < 0 || (size_t)n >= len) {
            snprintf(err, errlen,
                     "experiments directory %s: the path is too long", root);
            return -1;
        }
        struct stat st;
        if (lstat(path, &st) == 0)
            continue;
        if (errno == ENOENT)
            return 0;
        if (errno == ENOTDIR)
            snprintf(err, errlen,
                     "experiments directory %s: it is not a directory", root);
        else
            snprintf(err, errlen,
                     "experiments directory %s: cannot look for "
                     "%s in it: %s",
                     root, expid_name(path), strerror(errno));
        return -1;
    }
    snprintf(err, errlen,
             "experiments directory %s: every id from " EXPID_PREFIX
             "%0*d%s to " EXPID_PREFIX "%d%s is taken (give an id, or another "
             "directory)",
             root, EXPID_DIGITS, 0, suffix, EXPID_AUTO_MAX - 1, suffix);
    return -1;
}

const char *expid_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int expid_check(const char *id, const char *what, char *err, size_t errlen)
{
    size_t n = strlen(id);
    int ok = n >= 1 && n <= EXPID_NAME_MAX && strcmp(id, ".") != 0 &&
             strcmp(id, "..") != 0;
    for (size_t i = 0; ok && i < n; i++) {
        ok = expid_char_ok(id[i]);
    }
    if (!ok) {
        snprintf(err, errlen,
                 "%s: '%s' is not a valid experiment id (allowed: 1 to %d "
                 "letters, digits, '.', '_' or '-'; not '.' or '..')",
                 what, id, EXPID_NAME_MAX);
        return -1;
    }
    return 0;
}
