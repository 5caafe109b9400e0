/*
 * vx_log.c — see vx_log.h. The line is formatted into a stack buffer and
 * written with a single write(2) so lines from threads never interleave.
 */
#include "vx_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char *vx_log_service = "vectron";
static volatile int vx_log_min = VX_LOG_INFO;
static const char *const vx_log_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void vx_log_init(const char *service, vx_log_level min_level)
{
    vx_log_service = service;
    vx_log_min = (int)min_level;
}

void vx_log_set_level(vx_log_level min_level) { vx_log_min = (int)min_level; }

int vx_log_enabled(vx_log_level level) { return (int)level >= vx_log_min; }

int vx_log_level_parse(const char *s)
{
    static const char *const names[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i < 5; i++)
        if (strcasecmp(s, names[i]) == 0)
            return i;
    return -1;
}

void vx_log(vx_log_level level, const char *fmt, ...)
{
    if (!vx_log_enabled(level) || level >= VX_LOG_OFF)
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, vx_log_names[level], vx_log_service);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
