/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Machine-readable counters: the same figures as the final report, as a JSON document.
 * Written on exit with `vigild --stats-json FILE` (test cases and benchmarks read it), and the
 * base of what the management API serves.
 */
#ifndef CTL_STATUS_H
#define CTL_STATUS_H

#include <jansson.h>

#include "ctl_events.h"
#include "dp.h"

struct ctl_sigs;

/*
 * A new JSON object with the counters of ports, workers (flows, parser, fragments, events),
 * inspection, the application layer and control (events drained; ce may be NULL); with sigs,
 * inspection.app_alerts tells how transactions' facts paired with their alerts
 * (ctl_sigs_app_counters). NULL on allocation failure.
 */
json_t *ctl_status_json(
		const struct dp *dp, const struct ctl_events *ce, const struct ctl_sigs *sigs);

/*
 * Worker w's traffic: rx_packets, rx_bytes, tx_packets, tx_bytes, dropped and tx_full over
 * its ports; handoff {out, in, lost} (the software dispatch, dp_stats.h); and queues[], one
 * element per RX queue it polls {port (name), queue, the same counters of that queue: received
 * on it, and sent on the worker's TX queue of that port}. In the report's workers[] entries.
 * NULL on allocation failure.
 */
json_t *ctl_status_worker_traffic(const struct dp *dp, unsigned w);

/* Write the report to path atomically (temp file + rename). Returns 0 or -errno. */
int ctl_status_write(const struct dp *dp, const struct ctl_events *ce, const struct ctl_sigs *sigs,
		const char *path);

#endif /* CTL_STATUS_H */
