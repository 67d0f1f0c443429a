/*
 * strbuf: growable strings. See strbuf.h.
 */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRBUF_MIN_CAP 64

static int strbuf_reserve(struct strbuf *sb, size_t extra)
{
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return 0;
    size_t cap = sb->cap ? sb->cap : STRBUF_MIN_CAP;
    while (cap < need)
        cap *= 2;
    char *data = realloc(sb->data, cap);
    if (data == NULL)
        return -1;
    sb->data = data;
    sb->cap = cap;
    return 0;
}

int strbuf_append(struct strbuf *sb, const char *s, size_t len)
{
    if (strbuf_reserve(sb, len) != 0)
        return -1;
    memcpy(sb->data + sb->len, s, len);
    sb->len += len;
    sb->data[sb->len] = '\0';
    return 0;
}

int strbuf_puts(struct strbuf *sb, const char *s)
{
    return strbuf_append(sb, s, strlen(s));
}

int strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || strbuf_reserve(sb, (size_t)n) != 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
    return 0;
}

int strbuf_json_string(struct strbuf *sb, const char *s)
{
    if (strbuf_append(sb, "\"", 1) != 0)
        return -1;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int rc;
        switch (*p) {
        case '"': rc = strbuf_append(sb, "\\\"", 2); break;
        case '\\': rc = strbuf_append(sb, "\\\\", 2); break;
        case '\n': rc = strbuf_append(sb, "\\n", 2); break;
        case '\r': rc = strbuf_append(sb, "\\r", 2); break;
        case '\t': rc = strbuf_append(sb, "\\t", 2); break;
        default:
            if (*p < 0x20)
                rc = strbuf_printf(sb, "\\u%04x", *p);
            else
                rc = strbuf_append(sb, (const char *)p, 1);
        }
        if (rc != 0)
            return -1;
    }
    return strbuf_append(sb, "\"", 1);
}

const char *strbuf_str(const struct strbuf *sb)
{
    return sb->data ? sb->data : "";
}

void strbuf_reset(struct strbuf *sb)
{
    sb->len = 0;
    if (sb->data)
        sb->data[0] = '\0';
}

void strbuf_free(struct strbuf *sb)
{
    free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
}

char *strbuf_detach(struct strbuf *sb)
{
    char *s = sb->data;
    if (s == NULL)
        s = calloc(1, 1);
    sb->data = NULL;
    sb->len = sb->cap = 0;
    return s;
}
