/*
 * vx_signal.h — graceful stop: SIGINT/SIGTERM set a flag that main loops
 * poll (vx_signal_wait blocks until then); SIGPIPE is ignored so a closed
 * peer is an error return, never a death, and SIGXFSZ likewise, so a write
 * past a file size limit (ulimit -f, systemd LimitFSIZE=) fails with EFBIG
 * and takes the WAL's io_error path (DURABILITY.md) instead of killing the
 * service without a log line.
 */
#ifndef VX_SIGNAL_H
#define VX_SIGNAL_H

#include <stdbool.h>

void vx_signal_setup(void);
bool vx_signal_stop_requested(void);
/* Blocks until SIGINT/SIGTERM (or vx_signal_request_stop). Returns the signal number, 0 if requested. */
int vx_signal_wait(void);
void vx_signal_request_stop(void);

#endif
