/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control's judgement: the anomaly detectors, alert routing (dedup, store, EVE log, webhook),
 * the closed loop (blocklist pushed to the dataplane), and the table of live flows that the API
 * lists. It subscribes to the workers' events and runs a little on every control tick.
 *
 * Alert path: a detector's finding or a signature alert -> dedup (uid, count, first/last seen,
 * explanation) -> store; a new alert (not a repeat within the dedup window) also goes to the
 * EVE log, the webhook and, when its detector opted in, the blocklist.
 */
#ifndef CTL_ANALYSIS_H
#define CTL_ANALYSIS_H

#include <stdint.h>

#include <jansson.h>

#include "ctl_alert.h"
#include "ctl_anomaly.h"
#include "vg_yaml.h"

struct ctl_ctx;
struct ctl_analysis;

struct ctl_analysis_opts {
	struct ctl_anomaly_cfg detectors;
	struct ctl_alert_opts alerts;
	uint32_t blocklist_max;
};

void ctl_analysis_opts_defaults(struct ctl_analysis_opts *o);

/* Config sections `detectors:` and `alerts:` (for vg_config_load_sections; obj is the opts). */
int ctl_analysis_parse_detectors(struct vg_yaml *y, yaml_node_t *n, void *obj);
int ctl_analysis_parse_alerts(struct vg_yaml *y, yaml_node_t *n, void *obj);

/*
 * Create everything, load baselines and the blocklist from the store (if ctx->store), push the
 * blocklist to the dataplane, and subscribe to ctx->events. NULL with err on failure.
 */
struct ctl_analysis *ctl_analysis_create(
		struct ctl_ctx *ctx, const struct ctl_analysis_opts *o, char *err, size_t errlen);

/* Save baselines, close the EVE log and the webhook. NULL is a no-op. */
void ctl_analysis_free(struct ctl_analysis *a);

/*
 * Periodic work on the control lcore (monotonic ms). clock_ns: the dataplane clock up to which
 * every event has been delivered (detectors close their intervals up to it whether or not
 * events arrive); 0: the newest event's time.
 */
void ctl_analysis_tick(struct ctl_analysis *a, uint64_t now_ms, uint64_t clock_ns);

/*
 * The traffic has stopped (vigild stops; a replay ran dry) and every event up to clock_ns (or
 * the newest event, with 0) has been delivered: save the baselines and judge every interval
 * still open as if it had run its course, so that what the last seconds showed is judged as it
 * stood. Call it before the workers end their open flows for the shutdown (their end events
 * would otherwise say that a half-open flood just closed). Once only.
 */
void ctl_analysis_judge(struct ctl_analysis *a, uint64_t clock_ns);

/*
 * After the shutdown's events: close every interval still open (judging it; judge first if
 * that was not done). Later events are no longer judged.
 */
void ctl_analysis_finish(struct ctl_analysis *a);

/* Route a finding (detectors call this through their callback; signature alerts too). */
void ctl_analysis_alert(struct ctl_analysis *a, struct ctl_alert *al);

/*
 * Blocklist from the API (control lcore). ttl_ms 0: until removed. t: the store ticket of the
 * durable row (NULL: none), see ctl_blocker_add().
 */
struct ctl_store_ticket;
int ctl_analysis_block(struct ctl_analysis *a, uint8_t family, const uint8_t *addr, uint64_t ttl_ms,
		const char *source, const char *reason, struct ctl_store_ticket *t);
int ctl_analysis_unblock(struct ctl_analysis *a, uint8_t family, const uint8_t *addr);
json_t *ctl_analysis_blocklist(struct ctl_analysis *a);

/* The EVE log, or NULL when none is configured (its counters may be read by any thread). */
struct ctl_eve *ctl_analysis_eve(struct ctl_analysis *a);

/* The EVE receivers: 0 alerts.eve_syslog, 1 alerts.eve_socket; NULL when not configured. */
#define CTL_ANALYSIS_EVE_OUTS 2
struct ctl_eve_out *ctl_analysis_eve_out(struct ctl_analysis *a, unsigned i);

/* Live flows as control last heard of them (control lcore), filtered like ctl_api. */
struct ctl_flow_filter;
json_t *ctl_analysis_flows(struct ctl_analysis *a, const struct ctl_flow_filter *f, unsigned limit);

/* Counters for status and metrics: alerts by kind/severity, detector and store figures. */
json_t *ctl_analysis_counters(struct ctl_analysis *a);

#endif /* CTL_ANALYSIS_H */
