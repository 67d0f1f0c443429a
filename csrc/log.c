/*
 * log: see log.h. Not thread-safe by design for the threshold settings (set
 * once at start); log_write itself is safe to call from the optimizer thread
 * because each message is written with a single fprintf per stream.
 */
#include "log.h"

#include <stdarg.h>
#include <time.h>

static const char *const log_names[] = {"error", "warning", "info", "debug"};
static int log_rank = -1;
static enum log_level log_threshold = LOG_LEVEL_WARN;
static FILE *log_mirror = NULL;
static enum log_level log_mirror_level = LOG_LEVEL_INFO;

void log_init(int rank, enum log_level level)
{
    log_rank = rank;
    log_threshold = level;
}

void log_set_mirror(FILE *f, enum log_level mirror_level)
{
    log_mirror = f;
    log_mirror_level = mirror_level;
}

int log_enabled(enum log_level level)
{
    return level <= log_threshold || (log_mirror && level <= log_mirror_level);
}

void log_write(enum log_level level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap); /* long messages are cut, not lost */
    va_end(ap);

    if (level <= log_threshold) {
        if (log_rank >= 0)
            fprintf(stderr, "async-search[%d]: %s: %s\n", log_rank,
                    log_names[level], msg);
        else
            fprintf(stderr, "async-search: %s: %s\n", log_names[level], msg);
    }
    if (log_mirror && level <= log_mirror_level) {
        struct timespec ts;
        struct tm tm;
        char stamp[32];
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
        fprintf(log_mirror, "%s.%03ld %-7s %s\n", stamp, ts.tv_nsec / 1000000L,
                log_names[level], msg);
        fflush(log_mirror);
    }
}
