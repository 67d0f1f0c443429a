/*
 * runid: the evaluation ids R_I_J used as job ids and run-directory names.
 *
 * R is the restart number (1 for a fresh experiment, +1 per --restart),
 * I the batch of points the optimizer produced (from 1), J the index of the
 * point inside its batch (from 0). Ids are the only source of run-directory
 * names, so parsing is strict: three decimal numbers joined by '_'.
 */
#ifndef ASYNC_SEARCH_RUNID_H
#define ASYNC_SEARCH_RUNID_H

#include <stddef.h>

/* Enough for three 19-digit numbers and two separators. */
#define RUNID_MAX 64

/* Writes "R_I_J" into buf. Returns 0, or -1 if a number is out of range
 * (R, I < 1, J < 0) or buf is too small. */
int runid_format(char *buf, size_t len, long restart, long batch, long index);
/* Parses "R_I_J". Returns 0 and fills the numbers, or -1 if s is not exactly
 * such an id (no signs, spaces, leading zeros other than "0", or extra text).
 */
int runid_parse(const char *s, long *restart, long *batch, long *index);

#endif
