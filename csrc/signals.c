/*
 * signals: see signals.h.
 */
#include "signals.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t signals_received = 0;

static void signals_handler(int sig)
{
    if (signals_received == 0)
        signals_received = sig;
}

int signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = signals_handler;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL);
}

int signals_pending(void)
{
    return (int)signals_received;
}
