/*
 * runid: see runid.h.
 */
#include "runid.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

int runid_format(char *buf, size_t len, long restart, long batch, long index)
{
    if (restart < 1 || batch < 1 || index < 0)
        return -1;
    int n = snprintf(buf, len, "%ld_%ld_%ld", restart, batch, index);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/* Parses one decimal number at *p, advancing *p. */
static int runid_number(const char **p, long *out)
{
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return -1;
    if (*s == '0' && s[1] >= '0' && s[1] <= '9')
        return -1; /* leading zero: ids are canonical */
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno == ERANGE)
        return -1;
    *out = v;
    *p = end;
    return 0;
}

int runid_parse(const char *s, long *restart, long *batch, long *index)
{
    long r, i, j;
    const char *p = s;
    if (runid_number(&p, &r) != 0 || *p++ != '_')
        return -1;
    if (runid_number(&p, &i) != 0 || *p++ != '_')
        return -1;
    if (runid_number(&p, &j) != 0 || *p != '\0')
        return -1;
    if (r < 1 || i < 1)
        return -1;
    *restart = r;
    *batch = i;
    *index = j;
    return 0;
}
