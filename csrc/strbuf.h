/*
 * strbuf: a growable, always NUL-terminated byte string.
 *
 * Used wherever the program builds text of unknown length (CSV rows, JSON,
 * messages) so that nothing is formatted into a fixed buffer. All functions
 * return 0 on success and -1 when memory runs out; after a failure the buffer
 * still holds a valid (possibly shorter) string and may be freed as usual.
 */
#ifndef ASYNC_SEARCH_STRBUF_H
#define ASYNC_SEARCH_STRBUF_H

#include <stddef.h>

struct strbuf {
    char *data; /* owned; NULL until the first append */
    size_t len; /* bytes used, excluding the terminating NUL */
    size_t cap; /* bytes allocated */
};

#define STRBUF_INIT                                                            \
    {                                                                          \
        NULL, 0, 0                                                             \
    }

/* Appends len bytes of s (which need not be NUL-terminated). */
int strbuf_append(struct strbuf *sb, const char *s, size_t len);
/* Appends a NUL-terminated string. */
int strbuf_puts(struct strbuf *sb, const char *s);
/* Appends printf-formatted text. */
int strbuf_printf(struct strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (quotes included, UTF-8 passed through,
 * control characters escaped). */
int strbuf_json_string(struct strbuf *sb, const char *s);
/* Returns the contents ("" when empty); the pointer stays owned by sb. */
const char *strbuf_str(const struct strbuf *sb);
/* Empties the buffer, keeping its allocation. */
void strbuf_reset(struct strbuf *sb);
/* Releases the allocation and returns sb to STRBUF_INIT. */
void strbuf_free(struct strbuf *sb);
/* Transfers ownership of the contents to the caller (never NULL on success;
 * NULL only if memory ran out) and resets sb. */
char *strbuf_detach(struct strbuf *sb);

#endif
