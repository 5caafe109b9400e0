/*
 * vx_log.h — leveled logging to stderr, one line per event:
 *   2026-11-24T08:00:00.123Z INFO vectron-store: message
 * Thread-safe (one write(2) per line). Never pass secrets or request bodies.
 */
#ifndef VX_LOG_H
#define VX_LOG_H

typedef enum { VX_LOG_DEBUG = 0, VX_LOG_INFO, VX_LOG_WARN, VX_LOG_ERROR, VX_LOG_OFF } vx_log_level;

/* Sets the service name shown on each line and the minimum level. */
void vx_log_init(const char *service, vx_log_level min_level);
/* Parses "debug|info|warn|error|off"; returns -1 when unknown. */
int vx_log_level_parse(const char *s);
void vx_log_set_level(vx_log_level min_level);
int vx_log_enabled(vx_log_level level);

void vx_log(vx_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define VX_DEBUG(...) vx_log(VX_LOG_DEBUG, __VA_ARGS__)
#define VX_INFO(...) vx_log(VX_LOG_INFO, __VA_ARGS__)
#define VX_WARN(...) vx_log(VX_LOG_WARN, __VA_ARGS__)
#define VX_ERROR(...) vx_log(VX_LOG_ERROR, __VA_ARGS__)

#endif
