/* signals.h - requests from the signal handlers (main.c), polled by the
 * read loops between packets: the file reader's capture thread, the live
 * poll loop, the run core. */
#ifndef FLOWAUDIT_SIGNALS_H
#define FLOWAUDIT_SIGNALS_H

#include <signal.h>
#include <stdatomic.h>

/* Lock-free atomics, so that the capture thread for files may poll them
 * too. */
typedef struct fa_signals {
    atomic_int stop;    /* SIGINT, SIGTERM, counted: finish and report */
    atomic_int reload;  /* SIGHUP: reload rules and site */
    atomic_int report;  /* SIGUSR1: report now */
} fa_signals;

#endif
