/*
 * cmdline: command lines as argv word arrays, without a shell.
 *
 * A model command (--model-cmd) is split into words once, with the quoting
 * rules of a POSIX shell and nothing else: no expansion, no redirection, no
 * command separators, so a parameter value can never become code. The word
 * arrays are what execve(2) takes: NULL-terminated arrays of char *.
 *
 * Ownership: an "owned" array (from cmdline_split or cmdline_append) owns
 * its words too and is freed with cmdline_free. A "joined" array (from
 * cmdline_join) only borrows the words of its parts and is freed with
 * free(); it must not outlive them.
 */
#ifndef ASYNC_SEARCH_CMDLINE_H
#define ASYNC_SEARCH_CMDLINE_H

#include <stddef.h>

/*
 * Splits a command line into words like a POSIX shell does for quoting only:
 * blanks separate words, '...' is literal, "..." allows \" \\ \$ \` escapes,
 * a backslash outside quotes escapes the next character. Nothing is
 * expanded. On success *words is a NULL-terminated owned array (free with
 * cmdline_free) and *nwords its length. Returns 0, or -1 with err (an
 * unterminated quote, a lone backslash, an empty command, memory); *words is
 * then NULL.
 */
int cmdline_split(const char *cmd, char ***words, size_t *nwords, char *err,
                  size_t errlen);

/*
 * Appends a copy of word to the owned array *words of length *nwords (an
 * empty array is *words == NULL, *nwords == 0). Lets callers build argv from
 * const strings without casting const away. Returns 0, or -1 (memory; the
 * array is unchanged and still owned by the caller).
 */
int cmdline_append(char ***words, size_t *nwords, const char *word);

/*
 * Returns a new NULL-terminated array of the words of head followed by those
 * of tail (both NULL-terminated; either may be NULL for none). The words are
 * borrowed: free the result with free(), not cmdline_free. Returns NULL when
 * memory runs out.
 */
char **cmdline_join(char *const *head, char *const *tail);

/* Frees an owned array and its words; NULL is allowed. */
void cmdline_free(char **words);

#endif
