/*
 * vx_clock.h — monotonic time and deadlines.
 */
#ifndef VX_CLOCK_H
#define VX_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Monotonic clock in nanoseconds / microseconds / milliseconds. */
uint64_t vx_now_ns(void);
static inline uint64_t vx_now_us(void) { return vx_now_ns() / 1000u; }
static inline uint64_t vx_now_ms(void) { return vx_now_ns() / 1000000u; }
/* Wall clock, milliseconds since the epoch. */
uint64_t vx_wall_ms(void);
void vx_sleep_ms(uint32_t ms);
/* The time ms milliseconds from now on clock (CLOCK_MONOTONIC for a
 * condition variable created with that clock, else CLOCK_REALTIME): the
 * absolute deadline pthread_cond_timedwait takes. */
struct timespec vx_timespec_in_ms(clockid_t clock, uint32_t ms);
/* pthread_cond_init with CLOCK_MONOTONIC (deadlines from
 * vx_timespec_in_ms(CLOCK_MONOTONIC, ...)); returns pthread_cond_init's value. */
int vx_cond_init_monotonic(pthread_cond_t *cv);

#endif
