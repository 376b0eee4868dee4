/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP tunnels: data carried in echo requests and replies (ptunnel, hans, icmpsh,
 * icmptunnel). A ping's payload is a fixed pattern of one size (after the time it was sent, in
 * its first 16 bytes), and its reply mirrors it byte for byte; a tunnel's payloads are the data
 * it carries, so their sizes vary, their contents change from one request to the next, and what
 * comes back is not what went out. The worker makes a ping and its replies one flow (the echo
 * identifier is both ports); its events give the flow's packets and bytes per direction, the
 * mean and variance of its payload sizes, and what its echoes' data did since the previous
 * event (struct dp_event_echo: requests whose data differed from the request before, replies
 * that did not carry their request's data back), which this detector adds up per flow. An echo
 * flow is judged at each event once it has min_packets packets (sustained):
 *  - sizes that vary: a standard deviation of at least min_stddev bytes and a tenth of the mean;
 *  - asymmetry: one direction carries asymmetry times the bytes of the other, or requests go
 *    unanswered while their sizes vary;
 *  - content: at least `content` of the compared requests carried other data than the one
 *    before, or of the compared replies other data than their request (at least 8 compared),
 *    which catches a tunnel that pads every echo to one size and mirrors the sizes.
 * Large payloads (mean at least large bytes, well beyond ping's default 32 to 64) with two
 * signs, or all three signs, make it high. Large pings of one size (path MTU discovery) and
 * pings to a host that does not answer are none of these, and stay quiet. One finding per flow.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_anomaly_impl.h"

/* Finding ids: the sids of its alerts (gid CTL_ANOMALY_GID), stable across versions. */
#define CTL_SID_ICMP_TUNNEL 9000060

struct ctl_icmp_cfg {
	struct ctl_anomaly_common c;
	uint32_t min_pkts; /* an echo flow this long is sustained */
	double min_stddev; /* payload sizes this spread (bytes) vary */
	double asymmetry;  /* one direction with this many times the other's bytes */
	uint32_t large;	   /* mean payload bytes that make it large */
	double content;	   /* share of compared echoes with other data that makes it data */
};
CTL_ANOMALY_CFG_FITS(struct ctl_icmp_cfg);

static const struct ctl_icmp_cfg defaults = {
	.c = { .enabled = true, .block_ttl_ms = 3600000 },
	.min_pkts = 30,
	.min_stddev = 16,
	.asymmetry = 1.5,
	.content = 0.5,
	.large = 256,
};

CTL_ANOMALY_DOUBLE(icmp_min_sd, struct ctl_icmp_cfg, min_stddev, 0, 65535)
CTL_ANOMALY_DOUBLE(icmp_asym, struct ctl_icmp_cfg, asymmetry, 1.01, 1000)
CTL_ANOMALY_DOUBLE(icmp_content, struct ctl_icmp_cfg, content, 0.01, 1)

#define IC(f) offsetof(struct ctl_icmp_cfg, f)
static const struct vg_yaml_field icmp_fields[] = {
	CTL_ANOMALY_COMMON_FIELDS,
	{ .name = "min_packets", .type = VG_YT_U32, .off = IC(min_pkts), .min = 2 },
	{ .name = "min_stddev", .type = VG_YT_CUSTOM, .off = IC(min_stddev), .parse = icmp_min_sd },
	{ .name = "asymmetry", .type = VG_YT_CUSTOM, .off = IC(asymmetry), .parse = icmp_asym },
	{ .name = "content", .type = VG_YT_CUSTOM, .off = IC(content), .parse = icmp_content },
	{ .name = "large", .type = VG_YT_U32, .off = IC(large), .min = 1, .max = 65535 },
	{ 0 },
};

struct flow_key {
	uint32_t flow_id;
	uint8_t worker;
	uint8_t pad[3];
};

struct flow_val {
	uint64_t last_ns;
	uint32_t req_compared, req_changed, rep_compared, rep_mismatched;
	bool alerted;
};

/* Compared echoes a share of which makes the content sign. */
#define MIN_COMPARED 8

struct icmp {
	struct ctl_anomaly *d;
	unsigned id; /* row in the detector table */
	const struct ctl_icmp_cfg *cfg;
	struct ctl_map *flows;
	uint64_t next_gc_ns;
};

static const struct ctl_alert_template templates[] = {
	{
			.sid = CTL_SID_ICMP_TUNNEL,
			.title = "ICMP tunnel: data in echo payloads",
			.category = "Potential Corporate Privacy Violation",
			.what = "${src} and ${dst} exchanged ${observed} ICMP echo packets (identifier "
				"${sport}) with payloads of ${mean_size} bytes on average (standard "
				"deviation ${sd_size}); requests carried ${bytes_out} bytes in "
				"${pkts_out} packets, replies ${bytes_in} bytes in ${pkts_in}.",
			.why = "Ping sends one fixed pattern of one size and the reply mirrors it; here "
			       "the echoes show: ${signs} (${changed} requests carried other data than "
			       "the one before, ${mismatched} replies did not mirror their request), "
			       "which is what a tunnel carrying data in echo payloads looks like "
			       "(ptunnel, hans, icmpsh). At least ${threshold} packets make it "
			       "sustained.",
			.next = "Find the process on ${src} sending these pings; block ICMP echo to "
				"${dst} (or echo payloads above a few hundred bytes) if it is not a known "
				"monitoring system.",
	},
};

static int
icmp_create(struct ctl_anomaly *d, unsigned id, const void *cfg, void **priv)
{
	struct icmp *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return -ENOMEM;
	x->d = d;
	x->id = id;
	x->cfg = cfg;
	x->flows = ctl_map_create("icmp_fl", sizeof(struct flow_key), sizeof(struct flow_val),
			d->cfg.max_entries);
	if (x->flows == NULL) {
		int e = errno ? errno : ENOMEM;

		free(x);
		return -e;
	}
	*priv = x;
	return 0;
}

static void
icmp_free(void *priv)
{
	struct icmp *x = priv;

	ctl_map_free(x->flows);
	free(x);
}

static uint32_t
icmp_entries(const void *priv)
{
	const struct icmp *x = priv;

	return ctl_map_count(x->flows);
}

static void
icmp_on_flow(void *priv, const struct dp_event *ev, const struct ctl_flow_delta *dl)
{
	struct icmp *x = priv;
	const struct ctl_icmp_cfg *c = x->cfg;
	const struct dp_event_flow *f = &ev->flow;
	struct flow_key k = { .flow_id = f->flow_id, .worker = ev->worker };
	uint64_t n = f->pkts[0] + f->pkts[1];
	double mean = f->payload_mean, sd = f->payload_var > 0 ? sqrt(f->payload_var) : 0;
	double b0 = (double)f->bytes[0], b1 = (double)f->bytes[1];
	const struct dp_event_echo *e = &ev->app.echo;
	bool vary, asym, large, changed, mirrored, content;
	unsigned signs;
	char sign_text[96] = "";
	struct flow_val *v;
	struct ctl_alert a;
	bool added;

	(void)dl;
	/* Echo flows only: the worker puts the echo identifier in both ports. */
	if ((f->proto != 1 && f->proto != 58) || f->sport != f->dport || f->sport == 0)
		return;
	v = ctl_map_get(x->flows, &k, &added);
	if (v == NULL) {
		ctl_anomaly_untracked(x->d, x->id);
		return;
	}
	if (added)
		memset(v, 0, sizeof(*v));
	v->last_ns = ev->time_ns;
	v->req_compared += e->req_compared;
	v->req_changed += e->req_changed;
	v->rep_compared += e->rep_compared;
	v->rep_mismatched += e->rep_mismatched;
	if (n < c->min_pkts || v->alerted) {
		if (ev->type == DP_EV_FLOW_END)
			ctl_map_del(x->flows, &k);
		return;
	}
	vary = sd >= c->min_stddev && sd >= 0.1 * mean;
	asym = (f->pkts[1] > 0 && (b0 >= c->asymmetry * b1 || b1 >= c->asymmetry * b0)) ||
	       (f->pkts[1] == 0 && vary);
	large = mean >= c->large;
	changed = v->req_compared >= MIN_COMPARED && v->req_changed >= c->content * v->req_compared;
	mirrored = !(v->rep_compared >= MIN_COMPARED &&
			v->rep_mismatched >= c->content * v->rep_compared);
	content = changed || !mirrored;
	signs = (unsigned)vary + (unsigned)asym + (unsigned)content;
	if (signs > 0) {
		v->alerted = true;
		if (vary)
			strcat(sign_text, "sizes vary, ");
		if (asym)
			strcat(sign_text, "one side dominates, ");
		if (content)
			strcat(sign_text, "data changes, ");
		if (large)
			strcat(sign_text, "large, ");
		sign_text[strlen(sign_text) - 2] = '\0';
		ctl_alert_init_anomaly(&a, &templates[0], ctl_anomaly_name(x->id),
				signs == 3 || (signs == 2 && large) ? CTL_SEV_HIGH
								    : CTL_SEV_MEDIUM);
		a.flow = *f;
		a.has_flow = true;
		snprintf(a.metric, sizeof(a.metric), "echo_packets");
		a.observed = (double)n;
		a.threshold = c->min_pkts;
		a.first_ns = f->first_ns;
		a.last_ns = ev->time_ns;
		a.window_ns = ev->time_ns - f->first_ns;
		ctl_alert_fact(&a, "mean_size", "%.0f", mean);
		ctl_alert_fact(&a, "sd_size", "%.0f", sd);
		ctl_alert_fact(&a, "signs", "%s", sign_text);
		ctl_alert_fact(&a, "changed", "%u of %u", v->req_changed, v->req_compared);
		ctl_alert_fact(&a, "mismatched", "%u of %u", v->rep_mismatched, v->rep_compared);
		ctl_anomaly_emit(x->d, x->id, &a);
	}
	if (ev->type == DP_EV_FLOW_END)
		ctl_map_del(x->flows, &k);
}

static void
icmp_on_tick(void *priv, uint64_t now_ns)
{
	struct icmp *x = priv;
	const uint64_t hour = 3600ULL * 1000000000ULL;

	/* A flow whose end never reached us (a lost event) is forgotten after an hour. */
	if (now_ns < x->next_gc_ns || now_ns < hour)
		return;
	x->next_gc_ns = now_ns + hour / 4;
	ctl_anomaly_gc(x->flows, sizeof(struct flow_key), offsetof(struct flow_val, last_ns),
			now_ns - hour);
}

const struct ctl_anomaly_def ctl_anomaly_icmp_tunnel = {
	.name = "icmp_tunnel",
	.cfg_size = sizeof(struct ctl_icmp_cfg),
	.defaults = &defaults,
	.fields = icmp_fields,
	.create = icmp_create,
	.on_flow = icmp_on_flow,
	.on_tick = icmp_on_tick,
	.free = icmp_free,
	.entries = icmp_entries,
	.templates = templates,
	.n_templates = sizeof(templates) / sizeof(templates[0]),
};
