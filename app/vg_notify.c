/* SPDX-License-Identifier: BSD-3-Clause */
/* systemd notifications (sd_notify): readiness, watchdog, stopping, status. */
#include "vg_notify.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "vg_log.h"

static uint64_t watchdog_ms; /* ping period; 0: no watchdog */
static uint64_t next_ping_ms;
static bool warned;

/* One message; a failure is logged once (a socket that went away should not flood the log). */
static void
notify(const char *msg)
{
	int rc = sd_notify(0, msg);

	if (rc < 0 && !warned) {
		warned = true;
		MAIN_LOG(WARNING, "cannot notify the service manager (NOTIFY_SOCKET): %s",
				strerror(-rc));
	}
}

uint64_t
vg_notify_init(void)
{
	uint64_t usec = 0;

	/* Kept in the environment: nothing vigild starts could use it (no exec after the drop). */
	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	/* Half the period, as sd_watchdog_enabled(3) advises: one late pass does not kill. */
	watchdog_ms = usec / 2000;
	if (watchdog_ms == 0)
		watchdog_ms = 1;
	next_ping_ms = 0;
	return watchdog_ms;
}

void
vg_notify_status(const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int n = snprintf(msg, sizeof(msg), "STATUS=");

	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	notify(msg);
}

void
vg_notify_ready(const char *status)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	notify(msg);
}

void
vg_notify_stopping(const char *status)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=%s", status);
	notify(msg);
}

void
vg_notify_tick(uint64_t now_ms)
{
	if (watchdog_ms == 0 || now_ms < next_ping_ms)
		return;
	notify("WATCHDOG=1");
	next_ping_ms = now_ms + watchdog_ms;
}
