/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The service manager's view of vigild (systemd's sd_notify protocol, libsystemd): READY=1 once
 * it forwards, WATCHDOG=1 from the control loop, STOPPING=1 at the stop, and a short STATUS=
 * line at each step. Without NOTIFY_SOCKET (not started by systemd with Type=notify) every call
 * does nothing.
 *
 * Main thread (the control lcore) only. The socket is named by NOTIFY_SOCKET and opened for
 * each message (socket(2) and sendmsg(2)), which the privilege drop's seccomp filter allows;
 * systemd's own socket, /run/systemd/notify, is writable by every user, so messages still
 * reach it once vigild runs as its unprivileged user.
 */
#ifndef VG_NOTIFY_H
#define VG_NOTIFY_H

#include <stdint.h>

/*
 * Read the watchdog's period from the environment (WATCHDOG_USEC, and WATCHDOG_PID when set
 * must be this process). Call once, at start. Returns the period in ms at which vg_notify_tick()
 * will ping (half of WatchdogSec), or 0 when no watchdog is asked for.
 */
uint64_t vg_notify_init(void);

/* STATUS=<text> (printf format): a short state, shown by systemctl status. */
void vg_notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* READY=1 with STATUS=<text>: start-up is complete, the ports forward. */
void vg_notify_ready(const char *status);

/* STOPPING=1 with STATUS=<text>: the stop has begun. */
void vg_notify_stopping(const char *status);

/* From the control loop, with the monotonic time in ms: WATCHDOG=1 once per period. */
void vg_notify_tick(uint64_t now_ms);

#endif /* VG_NOTIFY_H */
