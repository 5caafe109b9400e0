/*
 * vx_cpu_qos.h — keep idle CPUs polling while requests are being served.
 *
 * Why: a request crosses several threads on its way through the services
 * (the HTTP thread, nng's poller and task threads on both sides of the bus,
 * the store's worker). Each hand-off to a thread on an idle CPU pays that
 * CPU's wake-up from its idle state; in a VM whose idle vCPUs halt (KVM's
 * haltpoll with guest_halt_poll_ns = 0) that is a hypervisor exit per
 * hand-off, tens of µs each (docs/BENCHMARKS.md, "What a request costs
 * around the scan"). Linux's CPU latency QoS (/dev/cpu_dma_latency) lets a
 * process ask that idle CPUs use no idle state with an exit latency above a
 * bound; asking for 0 leaves only the polling state, where a wake-up costs a
 * flag write instead of an interrupt.
 *
 * How: the constraint is held only while at least one request is in flight,
 * plus a linger after the last one ends (so a client sending requests one
 * after another keeps the fast path between them); then it is dropped and
 * idle CPUs halt as usual. A lone request per second with the default linger
 * costs a few ms of polling per second.
 *
 * Invariants: the device holds value 0 exactly while the handle is "held";
 * enter/leave pairs nest (a count); the release happens on the handle's own
 * thread, never inside enter/leave. The device needs write permission
 * (root, or a udev rule / group on /dev/cpu_dma_latency): when it cannot be
 * opened, open fails with VX_ERR_IO and the caller runs without the hint —
 * only wake-up latency differs, never results.
 *
 * Thread safety: enter/leave from any thread; open/close from one thread
 * while no enter/leave runs.
 */
#ifndef VX_CPU_QOS_H
#define VX_CPU_QOS_H

#define VX_CPU_QOS_DEVICE "/dev/cpu_dma_latency"
#define VX_CPU_QOS_DEFAULT_LINGER_MS 5
#define VX_CPU_QOS_MAX_LINGER_MS 10000

/* --help text of the two configuration keys every service that uses this
 * module offers (cpu_poll_ms, cpu_poll_device). */
#define VX_CPU_QOS_MS_HELP                                                                   \
    "keep idle CPUs polling (no deep idle state) while requests run and this many ms "       \
    "after the last one: cuts thread wake-ups on VMs and CPUs with slow idle exits; "        \
    "needs write access to --cpu-poll-device (root); 0 = off"
#define VX_CPU_QOS_DEVICE_HELP "the kernel's CPU latency QoS device (see --cpu-poll-ms)"

typedef struct vx_cpu_qos vx_cpu_qos;

/* Opens device (VX_CPU_QOS_DEVICE in production; tests pass a file) and
 * starts the release thread. linger_ms in 1..VX_CPU_QOS_MAX_LINGER_MS.
 * On success *out owns the handle (vx_cpu_qos_close frees it). Errors:
 * VX_ERR_INVALID (bad arguments), VX_ERR_IO (device cannot be opened for
 * writing; errno says why), VX_ERR_NOMEM. */
int vx_cpu_qos_open(vx_cpu_qos **out, const char *device, int linger_ms);

/* What a service's main calls: the handle, or NULL when linger_ms is 0 (the
 * feature is off) or the device cannot be opened — the latter logged at
 * INFO with the reason, since the service then runs with slower wake-ups. */
vx_cpu_qos *vx_cpu_qos_start(const char *device, int linger_ms);

/* Drops the constraint if held, stops the thread, closes the device. NULL is
 * a no-op. */
void vx_cpu_qos_close(vx_cpu_qos *q);

/* A request starts / ends. NULL is a no-op (the feature is off). */
void vx_cpu_qos_enter(vx_cpu_qos *q);
void vx_cpu_qos_leave(vx_cpu_qos *q);

#endif
