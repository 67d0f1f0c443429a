/*
 * modelout: what one model process writes, and what it means.
 *
 * A model's stdout and stderr arrive as chunks of bytes (modelout_feed).
 * Each chunk is appended to a log file, capped at a byte limit with one
 * truncation marker; and every chunk, kept or not, goes through a line
 * scanner that recognises the lines by which a model reports to us. A line
 * kind is a tag and a parser (today one kind: "IMPROVE_RESULT <number>", the
 * objective); every recognised line updates what the stream knows (the last
 * result) and is handed to an optional caller hook, so that a value reported
 * while the model runs can reach the worker without waiting for its end.
 * After the model ended, the caller reads the result (modelout_result), else
 * asks result.txt in the run directory (modelout_read_result_file), and may
 * append notes of its own to the log (modelout_note).
 *
 * One struct modelout is one output stream of one process: an evaluation
 * that runs several processes gives each its own stream and log.
 *
 * Writing the log never fails an evaluation: a full disk or a removed run
 * directory costs the rest of the log, not the result, which is scanned from
 * the stream itself.
 */
#ifndef ASYNC_SEARCH_MODELOUT_H
#define ASYNC_SEARCH_MODELOUT_H

#include <stddef.h>

/* Longest output line scanned; longer lines are logged but never
 * recognised. */
#define MODELOUT_LINE_MAX 4096
#define MODELOUT_RESULT_TAG "IMPROVE_RESULT"
#define MODELOUT_INTERMEDIATE_TAG "IMPROVE_INTERMEDIATE"
#define MODELOUT_RESULT_FILE "result.txt"
/* Bytes kept of the last output line (modelout_last_line). */
#define MODELOUT_LAST_MAX 200

/* The kinds of line the scanner recognises. */
enum modelout_kind {
    MODELOUT_RESULT = 0,      /* MODELOUT_RESULT_TAG <number>: the objective */
    MODELOUT_INTERMEDIATE = 1 /* MODELOUT_INTERMEDIATE_TAG <step> <number>
                               * [<last step>]: a value while training (a
                               * learning curve), perhaps with the step the
                               * training ends at */
};

/* One recognised line. */
struct modelout_line {
    enum modelout_kind kind;
    double value;   /* the number the line reports */
    long step;      /* MODELOUT_INTERMEDIATE: the step (>= 1) */
    long last_step; /* MODELOUT_INTERMEDIATE: its training's last step, >=
                       step; 0 when the line does not say */
    /* MODELOUT_INTERMEDIATE: why the line cannot be used ("" when it can):
     * the hook logs it and ignores the line */
    const char *bad;
    /* MODELOUT_RESULT: the text after the tag; no_number: the line has
     * labels but no number (only a problem with several objectives reads
     * it, and fails it naming the label) */
    const char *text;
    int no_number;
};

/* Called for every recognised line, in output order; line is valid only
 * during the call. */
typedef void (*modelout_line_fn)(void *arg, const struct modelout_line *line);

struct modelout;

/*
 * Creates (or truncates) the log at path and returns a stream keeping at
 * most cap bytes of output in it. on_line may be NULL; arg is passed to it.
 * Returns 0 and *out (owned: modelout_close), or -1 with err ("cannot create
 * PATH: REASON", or memory) and errno from the failed open.
 */
int modelout_open(const char *path, size_t cap, modelout_line_fn on_line,
                  void *arg, struct modelout **out, char *err, size_t errlen);

/* Takes len bytes of output: logs what fits under the cap (then writes the
 * truncation marker once) and scans every complete line. */
void modelout_feed(struct modelout *o, const char *buf, size_t len);

/* The output ended: scans a last line that has no newline. */
void modelout_finish(struct modelout *o);

/* The last non-blank line of output (at most MODELOUT_LAST_MAX - 1 bytes,
 * blanks trimmed), "" if none: for a failed model usually its error, e.g.
 * "ModuleNotFoundError: No module named 'tc2'". Valid until modelout_close. */
const char *modelout_last_line(const struct modelout *o);

/* Returns 1 and sets *v to the value of the last result line seen, or 0 if
 * there was none. */
int modelout_result(const struct modelout *o, double *v);

/* Appends printf-formatted text to the log, outside the cap (our own notes:
 * why an evaluation failed). Nothing happens if the log is gone. */
void modelout_note(struct modelout *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Closes the log and frees the stream; NULL is allowed. */
void modelout_close(struct modelout *o);

/* Parses one line of model output: returns 1 and sets *v if the line holds
 * MODELOUT_RESULT_TAG followed by a number (labelled forms such as
 * "IMPROVE_RESULT val_loss: 0.5" included), else 0. */
int modelout_parse_result_line(const char *line, double *v);

/* The text after MODELOUT_RESULT_TAG on the last result line seen ("" if
 * none): a problem with several objectives reads its labelled values from
 * it (modelout_parse_objectives). Valid until modelout_close. */
const char *modelout_result_text(const struct modelout *o);

/*
 * Reads the labelled values of a result line with several objectives, e.g.
 * " val_loss=0.31 cost=12.5" (also "val_loss: 0.31, cost: 12.5"): names are
 * the objectives, blank-separated, k of them (at most ASYNC_MAX_OBJECTIVES).
 * Every name must be given exactly once with a finite number, and no other
 * label. Returns 0 and values[0..k) in the order of names, or -1 with why
 * naming the label ("objective 'cost' missing from the IMPROVE_RESULT line
 * ...", "unexpected label 'x' ...", "objective 'cost': 'abc' is not a
 * number").
 */
int modelout_parse_objectives(const char *text, const char *names,
                              double *values, int *k, char *why, size_t whylen);

/* Reads dir/result.txt: returns 1 and sets *v if it holds one number (blanks
 * around it allowed), else 0 (no file, no number, trailing text). */
int modelout_read_result_file(const char *dir, double *v);

#endif
