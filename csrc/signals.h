/*
 * signals: SIGTERM and SIGINT as a flag that the event loops poll.
 *
 * A scheduler's walltime or a Ctrl-C reaches mpiexec, which passes SIGTERM
 * to every rank and sends SIGKILL a moment later (Open MPI:
 * odls_base_sigkill_timeout, 1 s by default). The handler only records the
 * signal; the manager then stops issuing work and prints its summary (every
 * result is already on disk), and workers end their models' process groups.
 * Evaluations cut short are not recorded, so --restart issues them again.
 */
#ifndef ASYNC_SEARCH_SIGNALS_H
#define ASYNC_SEARCH_SIGNALS_H

/* Installs the handlers for SIGTERM and SIGINT, and ignores SIGPIPE (a
 * closed stdout must not kill the manager). Returns 0 or -1. */
int signals_install(void);
/* The first SIGTERM/SIGINT received, or 0. Async-signal-safe to read. */
int signals_pending(void);

#endif
