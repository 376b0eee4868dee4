/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_analysis.h"
#include "ctl_api.h"
#include "ctl_block.h"
#include "ctl_ctx.h"
#include "ctl_events.h"
#include "ctl_map.h"
#include "ctl_store.h"
#include "ctl_webhook.h"
#include "dp.h"
#include "dp_block.h"
#include "vg_log.h"

#include <rte_errno.h>

#define DETECT_TICK_MS 100
#define SAVE_EVERY_MS  60000
#define BASE_DEDUP_NS  1000000ULL

struct flow_key {
	uint32_t flow_id;
	uint8_t worker;
	uint8_t pad[3];
};

struct ctl_analysis {
	struct ctl_ctx *ctx;
	struct ctl_analysis_opts opts;
	struct ctl_anomaly *det;
	struct ctl_alert_dedup *dedup;
	struct ctl_eve *eve;
	struct ctl_eve_out *eve_out[CTL_ANALYSIS_EVE_OUTS]; /* eve_syslog, eve_socket */
	struct ctl_webhook *hook;
	struct ctl_blocker *blocker;
	struct ctl_map *flows; /* live flows: (worker, flow id) -> struct dp_event_flow */
	uint64_t next_detect_ms;
	uint64_t next_save_ms;
	uint64_t newest_ns; /* newest event time: the dataplane's clock as control knows it */
	uint64_t alerts[CTL_ALERT_ANOMALY + 1];
	uint64_t by_severity[CTL_SEV_CRITICAL + 1];
	uint64_t flows_untracked;
	uint64_t blocklist_full;
	bool judged;   /* open intervals judged before the shutdown's flow ends; baselines saved */
	bool finished; /* every interval closed: nothing more is judged */
};

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
ctl_analysis_opts_defaults(struct ctl_analysis_opts *o)
{
	memset(o, 0, sizeof(*o));
	ctl_anomaly_defaults(&o->detectors);
	ctl_alert_opts_defaults(&o->alerts);
	o->blocklist_max = DP_BLOCKLIST_MAX;
}

int
ctl_analysis_parse_detectors(struct vg_yaml *y, yaml_node_t *n, void *obj)
{
	return ctl_anomaly_yaml_parse(y, n, &((struct ctl_analysis_opts *)obj)->detectors);
}

int
ctl_analysis_parse_alerts(struct vg_yaml *y, yaml_node_t *n, void *obj)
{
	return ctl_alert_yaml_parse(y, n, &((struct ctl_analysis_opts *)obj)->alerts);
}

static const char *
port_name(const struct ctl_analysis *a, uint16_t port)
{
	return port < a->ctx->cfg->n_ports ? a->ctx->cfg->ports[port].name : "?";
}

void
ctl_analysis_alert(struct ctl_analysis *a, struct ctl_alert *al)
{
	enum ctl_dedup_result r = ctl_alert_dedup_submit(a->dedup, al);
	uint64_t now = wall_ms();
	int b = 0;

	/* The block comes first, so that the record says what was done about it. */
	if (r == CTL_ALERT_NEW) {
		b = ctl_blocker_on_alert(a->blocker, al, now);
		if (b == 1)
			al->blocked = 1;
		else if (b == -ENOSPC)
			a->blocklist_full++;
	}
	if (a->ctx->store != NULL)
		ctl_store_add_alert(a->ctx->store, al);
	if (r != CTL_ALERT_NEW)
		return;
	if (al->kind <= CTL_ALERT_ANOMALY)
		a->alerts[al->kind]++;
	if (al->severity <= CTL_SEV_CRITICAL)
		a->by_severity[al->severity]++;
	CTL_LOG(NOTICE, "alert: [%s] %s (%s)", ctl_severity_name(al->severity), al->signature,
			al->detector);
	if (a->eve != NULL)
		ctl_eve_write(a->eve, al, port_name(a, al->flow.in_port));
	if (a->eve_out[0] != NULL || a->eve_out[1] != NULL) {
		char *text = ctl_alert_eve_text(al, port_name(a, al->flow.in_port), true);

		for (unsigned i = 0; i < CTL_ANALYSIS_EVE_OUTS; i++)
			if (a->eve_out[i] != NULL && text != NULL)
				ctl_eve_out_write(a->eve_out[i], text, strlen(text), "alert",
						al->severity);
		free(text);
	}
	if (a->hook != NULL)
		ctl_webhook_post(a->hook, al, port_name(a, al->flow.in_port));
}

static void
on_detector_alert(struct ctl_alert *al, void *arg)
{
	ctl_analysis_alert(arg, al);
}

/* The blocker's changes go to the dataplane's shared blocklist. */
static void
push_block(const struct ctl_store_block *b, bool add, void *arg)
{
	struct ctl_analysis *a = arg;
	struct dp_blocklist *bl = dp_blocklist(a->ctx->dp);
	char addr[64];

	ctl_addr_str(b->family, b->addr, addr, sizeof(addr));
	if (add) {
		if (dp_blocklist_add(bl, b->family, b->addr) != 0) {
			a->blocklist_full++;
			CTL_LOG(ERR, "blocklist: no room for %s", addr);
			return;
		}
		CTL_LOG(NOTICE, "blocklist: %s blocked (%s: %s)", addr, b->source, b->reason);
	} else {
		dp_blocklist_del(bl, b->family, b->addr);
		CTL_LOG(NOTICE, "blocklist: %s released", addr);
	}
}

static void
track_flow(struct ctl_analysis *a, const struct dp_event *ev)
{
	struct flow_key k = { .flow_id = ev->flow.flow_id, .worker = ev->worker };

	if (ev->type == DP_EV_FLOW_END) {
		ctl_map_del(a->flows, &k);
		return;
	}
	bool added;
	struct dp_event_flow *f = ctl_map_get(a->flows, &k, &added);

	if (f == NULL) {
		a->flows_untracked++;
		return;
	}
	*f = ev->flow;
}

/*
 * A flow's protocol is found with its first payload, but the worker reports it with the flow's
 * next update or its end; a transaction's facts or an alert say it sooner, for the live list.
 */
static void
note_app_proto(struct ctl_analysis *a, uint8_t worker, uint32_t flow_id, uint8_t app_proto)
{
	struct flow_key k = { .flow_id = flow_id, .worker = worker };
	struct dp_event_flow *f;

	if (app_proto != 0 && (f = ctl_map_find(a->flows, &k)) != NULL)
		f->app_proto = app_proto;
}

static void
on_event(void *arg, const struct dp_event *ev)
{
	struct ctl_analysis *a = arg;

	if (ev->time_ns > a->newest_ns)
		a->newest_ns = ev->time_ns;
	if (ev->type == DP_EV_TXMETA) {
		note_app_proto(a, ev->worker, ev->txmeta.flow_id, ev->txmeta.proto);
		return;
	}
	if (ev->type == DP_EV_ALERT) {
		/* Signature alerts are routed where their rule texts are known. */
		note_app_proto(a, ev->worker, ev->flow.flow_id, ev->flow.app_proto);
		return;
	}
	track_flow(a, ev);
	if (!a->finished)
		ctl_anomaly_on_event(a->det, ev);
}

struct ctl_analysis *
ctl_analysis_create(
		struct ctl_ctx *ctx, const struct ctl_analysis_opts *o, char *err, size_t errlen)
{
	struct ctl_analysis *a = calloc(1, sizeof(*a));
	uint64_t flows = (uint64_t)ctx->cfg->flows_max * dp_n_workers(ctx->dp);

	if (a == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->ctx = ctx;
	a->opts = *o;
	a->det = ctl_anomaly_create(&o->detectors, on_detector_alert, a);
	a->dedup = ctl_alert_dedup_create(o->alerts.dedup_window_ms, o->alerts.dedup_capacity);
	a->flows = ctl_map_create("vg_ctl_flows", sizeof(struct flow_key),
			sizeof(struct dp_event_flow),
			flows > (1u << 24) ? (1u << 24) : (uint32_t)flows);
	if (a->det == NULL || a->dedup == NULL || a->flows == NULL) {
		snprintf(err, errlen, "detectors, alert dedup or flow table: %s",
				rte_strerror(rte_errno ? rte_errno : errno));
		goto fail;
	}
	if (ctx->store != NULL && ctl_anomaly_load_baselines(a->det, ctx->store) < 0)
		CTL_LOG(WARNING, "baselines could not be loaded from the store; starting afresh");
	if (o->alerts.eve_log[0] != '\0') {
		a->eve = ctl_eve_open(o->alerts.eve_log);
		if (a->eve == NULL) {
			snprintf(err, errlen, "alerts.eve_log %s: %s", o->alerts.eve_log,
					strerror(errno));
			goto fail;
		}
	}
	const struct ctl_eve_out_opts *outs[CTL_ANALYSIS_EVE_OUTS] = { &o->alerts.eve_syslog,
		&o->alerts.eve_socket };
	static const char *const out_names[CTL_ANALYSIS_EVE_OUTS] = { CTL_EVE_OUT_KEY_SYSLOG,
		CTL_EVE_OUT_KEY_SOCKET };
	for (unsigned i = 0; i < CTL_ANALYSIS_EVE_OUTS; i++) {
		if (outs[i]->address[0] == '\0')
			continue;
		a->eve_out[i] = ctl_eve_out_open(outs[i], out_names[i]);
		if (a->eve_out[i] == NULL) {
			snprintf(err, errlen, "alerts.%s %s: %s", out_names[i], outs[i]->address,
					strerror(errno));
			goto fail;
		}
	}
	if (o->alerts.webhook.url[0] != '\0') {
		a->hook = ctl_webhook_create(&o->alerts.webhook, err, errlen);
		if (a->hook == NULL)
			goto fail;
	}
	a->blocker = ctl_blocker_create(ctx->store, o->blocklist_max, push_block, a, wall_ms());
	if (a->blocker == NULL) {
		snprintf(err, errlen, "blocklist: %s", strerror(errno));
		goto fail;
	}
	if (ctl_events_subscribe(ctx->events, on_event, a) != 0) {
		snprintf(err, errlen, "too many event subscribers");
		goto fail;
	}
	return a;
fail:
	ctl_analysis_free(a);
	return NULL;
}

void
ctl_analysis_free(struct ctl_analysis *a)
{
	if (a == NULL)
		return;
	if (a->det != NULL && a->ctx->store != NULL && !a->judged)
		ctl_anomaly_save_baselines(a->det, a->ctx->store);
	ctl_anomaly_free(a->det);
	ctl_alert_dedup_free(a->dedup);
	ctl_eve_close(a->eve);
	for (unsigned i = 0; i < CTL_ANALYSIS_EVE_OUTS; i++)
		ctl_eve_out_close(a->eve_out[i]);
	ctl_webhook_free(a->hook);
	ctl_blocker_free(a->blocker);
	ctl_map_free(a->flows);
	free(a);
}

void
ctl_analysis_tick(struct ctl_analysis *a, uint64_t now_ms, uint64_t clock_ns)
{
	if (now_ms >= a->next_detect_ms) {
		/* Detectors close their intervals on the dataplane's clock: live, the time; in a
		 * replay, the capture's; the newest event's when the caller cannot vouch for it. */
		ctl_anomaly_on_tick(a->det, clock_ns);
		ctl_blocker_expire(a->blocker, wall_ms());
		a->next_detect_ms = now_ms + DETECT_TICK_MS;
	}
	if (now_ms >= a->next_save_ms) {
		if (a->next_save_ms != 0 && a->ctx->store != NULL)
			ctl_anomaly_save_baselines(a->det, a->ctx->store);
		ctl_alert_dedup_expire(a->dedup, a->newest_ns);
		a->next_save_ms = now_ms + SAVE_EVERY_MS;
	}
}

void
ctl_analysis_judge(struct ctl_analysis *a, uint64_t clock_ns)
{
	if (a->judged)
		return;
	a->judged = true;
	if (clock_ns > a->newest_ns)
		a->newest_ns = clock_ns;
	/*
	 * Baselines are saved as learnt from the traffic first: closing the open intervals now
	 * judges them as if they had run their course, which must not teach the saved baselines
	 * a shortened interval or that the network went quiet.
	 */
	if (a->ctx->store != NULL)
		ctl_anomaly_save_baselines(a->det, a->ctx->store);
	ctl_anomaly_close_intervals(a->det, a->newest_ns);
}

void
ctl_analysis_finish(struct ctl_analysis *a)
{
	ctl_analysis_judge(a, 0);
	if (a->finished)
		return;
	a->finished = true;
	/* One day past the newest event closes any interval a detector may still use. */
	if (a->newest_ns != 0)
		ctl_anomaly_on_tick(a->det, a->newest_ns + 86400ULL * 1000000000ULL);
}

int
ctl_analysis_block(struct ctl_analysis *a, uint8_t family, const uint8_t *addr, uint64_t ttl_ms,
		const char *source, const char *reason, struct ctl_store_ticket *t)
{
	struct ctl_store_block b;
	uint64_t now = wall_ms();

	memset(&b, 0, sizeof(b));
	b.family = family;
	memcpy(b.addr, addr, family == 4 ? 4 : 16);
	b.created_ms = now;
	b.expires_ms = ttl_ms ? now + ttl_ms : 0;
	snprintf(b.source, sizeof(b.source), "%s", source);
	snprintf(b.reason, sizeof(b.reason), "%s", reason);
	return ctl_blocker_add(a->blocker, &b, t);
}

int
ctl_analysis_unblock(struct ctl_analysis *a, uint8_t family, const uint8_t *addr)
{
	return ctl_blocker_remove(a->blocker, family, addr);
}

struct ctl_eve *
ctl_analysis_eve(struct ctl_analysis *a)
{
	return a->eve;
}

struct ctl_eve_out *
ctl_analysis_eve_out(struct ctl_analysis *a, unsigned i)
{
	return i < CTL_ANALYSIS_EVE_OUTS ? a->eve_out[i] : NULL;
}

json_t *
ctl_analysis_blocklist(struct ctl_analysis *a)
{
	struct ctl_store_reader *r;
	char err[256];
	json_t *v;

	if (a->ctx->store == NULL)
		return json_pack("{s:I}", "entries", (json_int_t)ctl_blocker_count(a->blocker));
	/*
	 * What the store has: blocks from the API are written before they are answered 201 (a
	 * 202 one shows once written); a detector's within a batch interval. Control does not wait
	 * for the disk here.
	 */
	r = ctl_store_reader_open(ctl_store_path(a->ctx->store), err, sizeof(err));
	if (r == NULL)
		return NULL;
	v = ctl_store_query_blocks(r, wall_ms(), err, sizeof(err));
	ctl_store_reader_close(r);
	return v;
}

static bool
flow_matches(const struct dp_event_flow *f, const struct ctl_flow_filter *q)
{
	if (q->proto >= 0 && f->proto != q->proto)
		return false;
	if (q->port >= 0 && f->sport != q->port && f->dport != q->port)
		return false;
	if (q->state >= 0 && (f->proto != IPPROTO_TCP || f->state != q->state))
		return false;
	if (q->app_proto >= 0 && f->app_proto != q->app_proto)
		return false;
	if (q->family != 0) {
		size_t n = q->family == 4 ? 4 : 16;

		if (f->family != q->family || (memcmp(f->src, q->addr, n) != 0 &&
							      memcmp(f->dst, q->addr, n) != 0))
			return false;
	}
	return true;
}

json_t *
ctl_analysis_flows(struct ctl_analysis *a, const struct ctl_flow_filter *q, unsigned limit)
{
	json_t *out = json_array();
	uint32_t iter = 0;
	const void *key;
	void *val;

	while (out != NULL && json_array_size(out) < limit &&
			ctl_map_next(a->flows, &iter, &key, &val)) {
		const struct dp_event_flow *f = val;
		struct dp_event ev;

		if (!flow_matches(f, q))
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.type = DP_EV_FLOW_UPDATE;
		ev.worker = ((const struct flow_key *)key)->worker;
		ev.time_ns = f->last_ns;
		ev.flow = *f;
		json_t *j = ctl_event_json(&ev);

		/* The event envelope means nothing here: keep the flow. */
		json_object_del(j, "type");
		json_object_del(j, "seq");
		json_object_del(j, "time_ns");
		json_object_set_new(j, "in_port_name", json_string(port_name(a, f->in_port)));
		/* Not detected yet is said, not left out: the list's rows all have the member. */
		if (json_object_get(j, "app_proto") == NULL)
			json_object_set_new(j, "app_proto", json_null());
		json_array_append_new(out, j);
	}
	return out;
}

json_t *
ctl_analysis_counters(struct ctl_analysis *a)
{
	struct ctl_anomaly_counters dc;
	struct ctl_alert_dedup_counters ac;
	json_t *det = json_object(), *sev = json_object();

	ctl_anomaly_counters(a->det, &dc);
	ctl_alert_dedup_counters(a->dedup, &ac);
	for (unsigned i = 0; i < ctl_anomaly_count(); i++)
		json_object_set_new(det, ctl_anomaly_name(i),
				json_pack("{s:I, s:I, s:i}", "findings", (json_int_t)dc.alerts[i],
						"untracked", (json_int_t)dc.untracked[i], "entries",
						(int)dc.entries[i]));
	for (unsigned s = CTL_SEV_LOW; s <= CTL_SEV_CRITICAL; s++)
		json_object_set_new(sev, ctl_severity_name(s),
				json_integer((json_int_t)a->by_severity[s]));
	return json_pack("{s:{s:I, s:I, s:I, s:I, s:o}, s:o, s:{s:i, s:I}, s:{s:i, s:I}}", "alerts",
			"signature", (json_int_t)a->alerts[CTL_ALERT_SIGNATURE], "anomaly",
			(json_int_t)a->alerts[CTL_ALERT_ANOMALY], "repeats", (json_int_t)ac.repeats,
			"deduped_now", (json_int_t)ac.tracked, "by_severity", sev, "detectors", det,
			"blocklist", "entries", (int)ctl_blocker_count(a->blocker), "full",
			(json_int_t)a->blocklist_full, "live_flows", "tracked",
			(int)ctl_map_count(a->flows), "untracked", (json_int_t)a->flows_untracked);
}
