/*
 * cmdline: see cmdline.h.
 *
 * The splitter is a single pass over the text that accumulates the current
 * word in a strbuf; a word ends at a blank outside quotes, so "a"'b'c is one
 * word, as in a shell.
 */
#include "cmdline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

void cmdline_free(char **words)
{
    if (words == NULL)
        return;
    for (char **w = words; *w; w++)
        free(*w);
    free(words);
}

/* Puts owned at the end of *words (NULL-terminated). Returns 0 or -1
 * (memory; owned is then still the caller's). */
static int cmdline_push(char ***words, size_t *n, char *owned)
{
    char **grown = realloc(*words, (*n + 2) * sizeof **words);
    if (grown == NULL)
        return -1;
    *words = grown;
    grown[*n] = owned;
    grown[*n + 1] = NULL;
    (*n)++;
    return 0;
}

static int cmdline_push_word(char ***words, size_t *n, struct strbuf *w)
{
    char *word = strbuf_detach(w);
    if (word == NULL)
        return -1;
    if (cmdline_push(words, n, word) != 0) {
        free(word);
        return -1;
    }
    return 0;
}

int cmdline_append(char ***words, size_t *nwords, const char *word)
{
    char *copy = strdup(word);
    if (copy == NULL)
        return -1;
    if (cmdline_push(words, nwords, copy) != 0) {
        free(copy);
        return -1;
    }
    return 0;
}

char **cmdline_join(char *const *head, char *const *tail)
{
    size_t nh = 0, nt = 0;
    while (head && head[nh])
        nh++;
    while (tail && tail[nt])
        nt++;
    char **out = calloc(nh + nt + 1, sizeof *out);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < nh; i++)
        out[i] = head[i];
    for (size_t i = 0; i < nt; i++)
        out[nh + i] = tail[i];
    return out;
}

int cmdline_split(const char *cmd, char ***words, size_t *nwords, char *err,
                  size_t errlen)
{
    struct strbuf w = STRBUF_INIT;
    char **out = NULL;
    size_t n = 0;
    int in_word = 0;
    const char *p = cmd;

    *words = NULL;
    *nwords = 0;
    while (1) {
        char c = *p;
        if (c == '\0' || c == ' ' || c == '\t' || c == '\n') {
            if (in_word && cmdline_push_word(&out, &n, &w) != 0)
                goto nomem;
            in_word = 0;
            if (c == '\0')
                break;
            p++;
            continue;
        }
        in_word = 1;
        if (c == '\'') {
            const char *end = strchr(p + 1, '\'');
            if (end == NULL) {
                snprintf(err, errlen, "unterminated ' quote in command: %s",
                         cmd);
                goto fail;
            }
            if (strbuf_append(&w, p + 1, (size_t)(end - p - 1)) != 0)
                goto nomem;
            p = end + 1;
        } else if (c == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
                    p++;
                if (strbuf_append(&w, p, 1) != 0)
                    goto nomem;
                p++;
            }
            if (*p != '"') {
                snprintf(err, errlen, "unterminated \" quote in command: %s",
                         cmd);
                goto fail;
            }
            p++;
        } else if (c == '\\') {
            if (p[1] == '\0') {
                snprintf(err, errlen, "command ends with a lone backslash: %s",
                         cmd);
                goto fail;
            }
            if (strbuf_append(&w, p + 1, 1) != 0)
                goto nomem;
            p += 2;
        } else {
            if (strbuf_append(&w, p, 1) != 0)
                goto nomem;
            p++;
        }
    }
    if (n == 0) {
        snprintf(err, errlen, "the command is empty");
        goto fail;
    }
    strbuf_free(&w);
    *words = out;
    *nwords = n;
    return 0;
nomem:
    snprintf(err, errlen, "out of memory while splitting the command");
fail:
    strbuf_free(&w);
    cmdline_free(out);
    return -1;
}
