/*
 * vx_signal.c — see vx_signal.h. The handler only stores to a lock-free
 * atomic int; vx_signal_wait polls it every 50 ms (simple and
 * async-signal-safe). Atomic rather than volatile sig_atomic_t because the
 * handler may run on any thread (nng's, civetweb's) while main polls, and
 * vx_signal_request_stop / vx_signal_stop_requested may be called from any
 * thread: with volatile those are data races (undefined behaviour, and a
 * ThreadSanitizer report whenever the handler runs on another thread).
 */
#include "vx_signal.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "vx_clock.h"

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "a signal handler may only touch lock-free atomics");
static atomic_int vx_stop_signal = -1;

static void vx_on_signal(int sig) { atomic_store(&vx_stop_signal, sig); }

void vx_signal_setup(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = vx_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
}

bool vx_signal_stop_requested(void) { return atomic_load(&vx_stop_signal) >= 0; }

void vx_signal_request_stop(void) { atomic_store(&vx_stop_signal, 0); }

int vx_signal_wait(void)
{
    int sig;
    while ((sig = atomic_load(&vx_stop_signal)) < 0)
        vx_sleep_ms(50);
    return sig;
}
