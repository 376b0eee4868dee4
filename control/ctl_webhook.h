/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The optional alert webhook (off by default): alerts are posted as JSON (the EVE form of
 * ctl_alert_to_json()) to an external service, an enrichment LLM or a SOAR, by a thread of its
 * own with libcurl. Control only serialises the alert and appends it to a bounded queue under a
 * mutex held for a pointer copy; it never waits for the network. When the queue is full the
 * alert is dropped and counted. Each request has a timeout; failures are counted, not retried
 * (the alert is in the store and the EVE log regardless).
 */
#ifndef CTL_WEBHOOK_H
#define CTL_WEBHOOK_H

#include <stdint.h>

#include "ctl_alert.h"

struct ctl_webhook;

struct ctl_webhook_counters {
	uint64_t posted;  /* answered with 2xx */
	uint64_t failed;  /* other status, timeout, connection error */
	uint64_t dropped; /* queue full, or still queued at shutdown */
	uint32_t queued;
	long last_status;     /* HTTP status of the last answer, 0 if none */
	char last_error[128]; /* libcurl's message for the last failure */
};

/*
 * Start the webhook thread for o->url. Returns NULL and fills err when the URL is empty or the
 * thread or libcurl cannot start.
 */
struct ctl_webhook *ctl_webhook_create(const struct ctl_webhook_opts *o, char *err, size_t errlen);

/* Stop the thread (waiting at most for the request in flight) and free. NULL is a no-op. */
void ctl_webhook_free(struct ctl_webhook *w);

/* Queue one alert. Returns 0, -ENOSPC (queue full, counted) or -ENOMEM. Never blocks. */
int ctl_webhook_post(struct ctl_webhook *w, const struct ctl_alert *a, const char *in_iface);

void ctl_webhook_counters(struct ctl_webhook *w, struct ctl_webhook_counters *c);

#endif /* CTL_WEBHOOK_H */
