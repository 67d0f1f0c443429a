/*
 * util: small system helpers shared by the modules: clocks, sleeping,
 * directories, number formatting. No policy lives here.
 */
#ifndef ASYNC_SEARCH_UTIL_H
#define ASYNC_SEARCH_UTIL_H

#include <stddef.h>

/* The most objectives a problem may declare (self.objectives): a result
 * carries this many values at most (launch, transport, batch, journal). */
#define ASYNC_MAX_OBJECTIVES 8
/* Bytes of the objectives' names, blank-separated, with their NUL. */
#define ASYNC_OBJECTIVES_LEN 256

/* Seconds on a monotonic clock (for intervals and deadlines). */
double util_now(void);
/* Seconds since the Unix epoch (for timestamps shared between ranks). */
double util_wall(void);
/* Sleeps for s seconds (s <= 0 returns at once); restarts after signals. */
void util_sleep(double s);
/* Creates path and its missing parents (mode 0777 & ~umask). Returns 0, or -1
 * with "mkdir PATH: REASON" in err. */
int util_mkdir_p(const char *path, char *err, size_t errlen);
/* Writes the shortest decimal text that reads back as exactly v ("nan",
 * "inf" and "-inf" for non-finite values). Needs at least 32 bytes. */
void util_format_double(char *buf, size_t len, double v);
/* Nonzero if path exists (any type). */
int util_exists(const char *path);
/* Writes data to path atomically (temporary file + rename). Returns 0 or -1
 * with the reason in err. */
int util_write_file(const char *path, const char *data, size_t len, char *err,
                    size_t errlen);
/*
 * Nonzero when errno value e means the storage itself failed (a full disk
 * ENOSPC, a quota EDQUOT, an I/O error EIO, a read-only file system EROFS,
 * a file too large EFBIG), not that the caller asked for something wrong.
 * util_mkdir_p and util_write_file leave errno as their failed call set it.
 */
int util_storage_errno(int e);

#endif
