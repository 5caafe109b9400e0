/*
 * vx_signal.c — see vx_signal.h. The handler only stores to a sig_atomic_t;
 * vx_signal_wait polls it every 50 ms (simple and async-signal-safe).
 */
#include "vx_signal.h"

#include <signal.h>
#include <string.h>

#include "vx_clock.h"

static volatile sig_atomic_t vx_stop_signal = -1;

static void vx_on_signal(int sig) { vx_stop_signal = sig; }

void vx_signal_setup(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = vx_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

bool vx_signal_stop_requested(void) { return vx_stop_signal >= 0; }

void vx_signal_request_stop(void) { vx_stop_signal = 0; }

int vx_signal_wait(void)
{
    while (vx_stop_signal < 0)
        vx_sleep_ms(50);
    return vx_stop_signal;
}
