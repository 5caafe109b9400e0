/*
 * vx_cpu_qos.c — see vx_cpu_qos.h.
 *
 * The device takes a native s32 per write (microseconds of tolerated idle
 * exit latency): 0 while held, -1 (the kernel's PM_QOS_DEFAULT_VALUE, "no
 * constraint") when released. One mutex guards the count, the held flag and
 * the writes, so the device's value always matches `held`.
 */
#include "vx_cpu_qos.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vx_clock.h"
#include "vx_err.h"
#include "vx_log.h"

#define VX_CPU_QOS_HOLD_VALUE 0     /* only the polling idle state */
#define VX_CPU_QOS_RELEASE_VALUE -1 /* PM_QOS_DEFAULT_VALUE: no constraint */

struct vx_cpu_qos {
    int fd;
    int linger_ms;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC; wakes the release thread */
    pthread_t thread;
    unsigned active;        /* requests between enter and leave */
    bool held;              /* the device holds VX_CPU_QOS_HOLD_VALUE */
    bool broken;            /* a write failed: stop trying (logged once) */
    bool stopping;
    uint64_t last_leave_ms; /* when active last dropped to 0 */
};

/* Called with mu held. */
static void qos_write(vx_cpu_qos *q, int32_t value)
{
    if (q->broken)
        return;
    ssize_t n = write(q->fd, &value, sizeof value);
    if (n != (ssize_t)sizeof value) {
        VX_WARN("cpu latency hint: write failed (%s); running without it",
                n < 0 ? strerror(errno) : "short write");
        q->broken = true;
    }
}

static void *qos_release_main(void *arg)
{
    vx_cpu_qos *q = arg;
    pthread_mutex_lock(&q->mu);
    while (!q->stopping) {
        if (q->held && q->active == 0) {
            uint64_t due = q->last_leave_ms + (uint64_t)q->linger_ms;
            uint64_t now = vx_now_ms();
            if (now >= due) {
                qos_write(q, VX_CPU_QOS_RELEASE_VALUE);
                q->held = false;
                continue;
            }
            struct timespec until = vx_timespec_in_ms(CLOCK_MONOTONIC, (uint32_t)(due - now));
            pthread_cond_timedwait(&q->cv, &q->mu, &until);
        } else {
            pthread_cond_wait(&q->cv, &q->mu);
        }
    }
    if (q->held) {
        qos_write(q, VX_CPU_QOS_RELEASE_VALUE);
        q->held = false;
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

int vx_cpu_qos_open(vx_cpu_qos **out, const char *device, int linger_ms)
{
    if (!out || !device || linger_ms < 1 || linger_ms > VX_CPU_QOS_MAX_LINGER_MS)
        return VX_ERR_INVALID;
    *out = NULL;
    int rc = VX_ERR_NOMEM;
    bool mu_ok = false, cv_ok = false;
    vx_cpu_qos *q = calloc(1, sizeof *q);
    if (!q)
        goto fail;
    q->linger_ms = linger_ms;
    /* O_NONBLOCK: a misconfigured path naming a FIFO fails (ENXIO) instead
     * of blocking start-up until something reads it. */
    q->fd = open(device, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
    if (q->fd < 0) {
        rc = VX_ERR_IO;
        goto fail;
    }
    if (pthread_mutex_init(&q->mu, NULL) != 0)
        goto fail;
    mu_ok = true;
    cv_ok = vx_cond_init_monotonic(&q->cv) == 0;
    if (!cv_ok)
        goto fail;
    if (pthread_create(&q->thread, NULL, qos_release_main, q) != 0)
        goto fail;
    *out = q;
    return VX_OK;

fail:
    if (q) {
        int saved = errno;
        if (cv_ok)
            pthread_cond_destroy(&q->cv);
        if (mu_ok)
            pthread_mutex_destroy(&q->mu);
        if (q->fd >= 0)
            close(q->fd);
        free(q);
        errno = saved;
    }
    return rc;
}

vx_cpu_qos *vx_cpu_qos_start(const char *device, int linger_ms)
{
    vx_cpu_qos *q = NULL;
    if (linger_ms > 0 && vx_cpu_qos_open(&q, device, linger_ms) != VX_OK)
        VX_INFO("cpu poll: cannot open %s for writing (%s); idle CPUs sleep between hand-offs "
                "(slower wake-ups, same results; --cpu-poll-ms 0 silences this)",
                device, strerror(errno));
    return q;
}

void vx_cpu_qos_close(vx_cpu_qos *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->stopping = true;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    close(q->fd); /* closing also drops the kernel request */
    free(q);
}

void vx_cpu_qos_enter(vx_cpu_qos *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->active++;
    if (!q->held) {
        qos_write(q, VX_CPU_QOS_HOLD_VALUE);
        q->held = true;
    }
    pthread_mutex_unlock(&q->mu);
}

void vx_cpu_qos_leave(vx_cpu_qos *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    if (q->active > 0 && --q->active == 0) {
        q->last_leave_ms = vx_now_ms();
        pthread_cond_signal(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
}
