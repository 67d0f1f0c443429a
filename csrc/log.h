/*
 * log: level-gated diagnostics for every rank.
 *
 * Messages go to stderr prefixed with the program name and rank, and, on the
 * manager, are mirrored with a timestamp into EXPDIR/manager.log. The macros
 * test the level before formatting so that debug lines cost nothing when off.
 * User-facing results (progress, summary) are not log messages: they are
 * printed by the manager on stdout.
 */
#ifndef ASYNC_SEARCH_LOG_H
#define ASYNC_SEARCH_LOG_H

#include <stdio.h>

enum log_level {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARN = 1,
    LOG_LEVEL_INFO = 2,
    LOG_LEVEL_DEBUG = 3
};

/* Sets the rank shown in every message (-1: none) and the stderr threshold. */
void log_init(int rank, enum log_level level);
/* Mirrors every message at or below mirror_level into f (not owned; NULL
 * stops mirroring). */
void log_set_mirror(FILE *f, enum log_level mirror_level);
/* Nonzero when a message of this level would be written anywhere. */
int log_enabled(enum log_level level);
void log_write(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_write(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)                                                          \
    do {                                                                       \
        if (log_enabled(LOG_LEVEL_WARN))                                       \
            log_write(LOG_LEVEL_WARN, __VA_ARGS__);                            \
    } while (0)
#define log_info(...)                                                          \
    do {                                                                       \
        if (log_enabled(LOG_LEVEL_INFO))                                       \
            log_write(LOG_LEVEL_INFO, __VA_ARGS__);                            \
    } while (0)
#define log_debug(...)                                                         \
    do {                                                                       \
        if (log_enabled(LOG_LEVEL_DEBUG))                                      \
            log_write(LOG_LEVEL_DEBUG, __VA_ARGS__);                           \
    } while (0)

#endif
