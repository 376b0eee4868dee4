/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SYN flood: many half-open connections towards one service, arriving at a rate far above
 * that service's baseline.
 *
 * A connection is half-open from its start (initiator sent SYN without ACK) until the
 * initiator's ACK shows up in an update or end event, or the flow ends. The gauge of half-open
 * connections per (destination, port) is what a flooded server's backlog feels. Each interval
 * the SYN rate is compared with the service's EWMA baseline: the alert needs the gauge at
 * min_half_open, the rate at min_rate, and, once the baseline is warm, the rate sigma standard
 * deviations above it. The same number of complete handshakes keeps the gauge near zero.
 * Attempts are counted per destination service whatever their sources, so spoofed, random and
 * rotating sources add up. The first interval after a flood that is not one ends it: a low
 * finding with the flood's duration, attempts and peak.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_anomaly_impl.h"

/* Finding ids: the sids of its alerts (gid CTL_ANOMALY_GID), stable across versions. */
#define CTL_SID_SYN_FLOOD     9000010
#define CTL_SID_SYN_FLOOD_END 9000011

struct ctl_synflood_cfg {
	struct ctl_anomaly_common c;
	uint64_t interval_ms;	/* the rate's measuring interval */
	uint32_t min_half_open; /* half-open connections towards the service at least ... */
	uint32_t min_rate;	/* ... and connection attempts per second at least ... */
	double sigma;		/* ... and, once the baseline is warm, this far above it */
	double alpha;
	uint32_t warmup; /* intervals before the baseline judges */
};
CTL_ANOMALY_CFG_FITS(struct ctl_synflood_cfg);

static const struct ctl_synflood_cfg defaults = {
	.c = { .enabled = true, .block_ttl_ms = 600000 },
	.interval_ms = 1000,
	.min_half_open = 200,
	.min_rate = 100,
	.sigma = 4,
	.alpha = 0.02,
	.warmup = 60,
};

CTL_ANOMALY_DOUBLE(syn_sigma, struct ctl_synflood_cfg, sigma, 0.5, 1000)
CTL_ANOMALY_DOUBLE(syn_alpha, struct ctl_synflood_cfg, alpha, 0.0001, 1)

#define SF(f) offsetof(struct ctl_synflood_cfg, f)
static const struct vg_yaml_field synflood_fields[] = {
	CTL_ANOMALY_COMMON_FIELDS,
	{ .name = "interval",
			.type = VG_YT_MS,
			.off = SF(interval_ms),
			.min = 100,
			.max = 3600 * 1000 },
	{ .name = "min_half_open", .type = VG_YT_U32, .off = SF(min_half_open), .min = 1 },
	{ .name = "min_rate", .type = VG_YT_U32, .off = SF(min_rate), .min = 1 },
	{ .name = "sigma", .type = VG_YT_CUSTOM, .off = SF(sigma), .parse = syn_sigma },
	{ .name = "alpha", .type = VG_YT_CUSTOM, .off = SF(alpha), .parse = syn_alpha },
	{ .name = "warmup", .type = VG_YT_U32, .off = SF(warmup), .min = 1, .max = 1000000 },
	{ 0 },
};

#define F_SYN 0x02
#define F_ACK 0x10

struct svc_key {
	struct ctl_host_key dst;
	uint16_t port;
	uint16_t pad;
};

struct svc_val {
	uint64_t idx;	   /* interval being counted */
	uint64_t syns;	   /* connection attempts in it */
	int64_t half_open; /* gauge */
	uint64_t last_ns;
	struct ctl_host_key src1; /* the first source of the interval ... */
	bool one_src;		  /* ... and whether every attempt came from it */
	bool flooding;		  /* the last judged interval was a flood */
	uint64_t flood_first_ns;  /* when this flood started */
	uint64_t flood_attempts;  /* attempts during it */
	double flood_peak;	  /* its highest rate */
};

struct pend_key {
	uint32_t flow_id;
	uint8_t worker;
	uint8_t pad[3];
};

struct pend_val {
	struct svc_key svc;
	uint64_t start_ns;
};

/* A half-open connection whose end never reached us (a lost event) is forgotten after this. */
#define PEND_MAX_AGE_NS (600ULL * 1000000000ULL)

struct synflood {
	struct ctl_anomaly *d;
	unsigned id; /* row in the detector table */
	const struct ctl_synflood_cfg *cfg;
	uint64_t interval_ns;
	struct ctl_map *svc, *pend;
	uint64_t last_idx;
	uint64_t next_gc_idx;
};

static const struct ctl_alert_template templates[] = {
	{
			.sid = CTL_SID_SYN_FLOOD,
			.title = "SYN flood",
			.category = "Attempted Denial of Service",
			.what = "${dst} port ${dport} received ${observed} TCP connection attempts per "
				"second from ${sources} while ${half_open} connections were left half-open.",
			.why = "The usual rate for this service is ${mean} per second (standard deviation "
			       "${stddev}); this is ${sigma} standard deviations above it, and connections "
			       "that never complete the handshake fill the server's backlog until it "
			       "refuses real clients.",
			.next = "Confirm the server's SYN backlog and SYN cookies, rate-limit new "
				"connections to ${dst} port ${dport} in the policy, and, if the sources are "
				"few and real, block them; spoofed floods need upstream filtering.",
	},
	{
			.sid = CTL_SID_SYN_FLOOD_END,
			.title = "SYN flood ended",
			.category = "Attempted Denial of Service",
			.what = "The SYN flood against ${dst} port ${dport} ended: it lasted ${window} "
				"with ${attempts} connection attempts, peaking at ${peak} per second; "
				"now ${observed} per second, ${half_open} connections still half-open.",
			.why = "The attempt rate fell below the flood thresholds (${threshold} per "
			       "second); knowing when an attack stopped bounds what to look at.",
			.next = "Check that ${dst} port ${dport} serves clients again and review the "
				"flood's alerts for its sources.",
	},
};

static int
sf_create(struct ctl_anomaly *d, unsigned id, const void *cfg, void **priv)
{
	struct synflood *sf = calloc(1, sizeof(*sf));

	if (sf == NULL)
		return -ENOMEM;
	sf->d = d;
	sf->id = id;
	sf->cfg = cfg;
	sf->interval_ns = sf->cfg->interval_ms * 1000000ULL;
	sf->svc = ctl_map_create("sf_svc", sizeof(struct svc_key), sizeof(struct svc_val),
			d->cfg.max_entries);
	sf->pend = ctl_map_create("sf_pend", sizeof(struct pend_key), sizeof(struct pend_val),
			d->cfg.max_entries * 4);
	if (sf->svc == NULL || sf->pend == NULL) {
		int e = errno ? errno : ENOMEM;

		ctl_map_free(sf->svc);
		ctl_map_free(sf->pend);
		free(sf);
		return -e;
	}
	*priv = sf;
	return 0;
}

static void
sf_free(void *priv)
{
	struct synflood *sf = priv;

	ctl_map_free(sf->svc);
	ctl_map_free(sf->pend);
	free(sf);
}

static uint32_t
sf_entries(const void *priv)
{
	const struct synflood *sf = priv;

	return ctl_map_count(sf->svc) + ctl_map_count(sf->pend);
}

static struct ctl_bl_key
bl_key(const struct synflood *sf, const struct svc_key *k)
{
	struct ctl_bl_key b;

	memset(&b, 0, sizeof(b));
	b.detector = sf->id;
	b.metric = CTL_METRIC_SYN_RATE;
	b.family = k->dst.family;
	b.proto = 6;
	b.port = k->port;
	memcpy(b.addr, k->dst.addr, 16);
	return b;
}

/* Judge the interval v->idx, feed the baseline, and move on to interval idx. */
static void
close_interval(struct synflood *sf, const struct svc_key *k, struct svc_val *v, uint64_t idx)
{
	const struct ctl_synflood_cfg *c = sf->cfg;
	struct ctl_bl_key bk = bl_key(sf, k);
	struct ctl_baseline *b = ctl_baselines_get(sf->d->bl, &bk);
	double secs = (double)sf->interval_ns / 1e9;
	double rate = (double)v->syns / secs;
	uint64_t now = (v->idx + 1) * sf->interval_ns;
	struct ctl_judgement j;

	ctl_anomaly_judge(sf->d, b, rate, c->warmup, 1.0, &j);
	if (v->half_open >= (int64_t)c->min_half_open && rate >= c->min_rate &&
			(!j.ready || j.sigma >= c->sigma)) {
		struct ctl_alert a;

		ctl_alert_init_anomaly(&a, &templates[0], ctl_anomaly_name(sf->id),
				rate >= 10.0 * c->min_rate ? CTL_SEV_CRITICAL : CTL_SEV_HIGH);
		a.flow.family = k->dst.family;
		a.flow.proto = 6;
		a.flow.dport = k->port;
		memcpy(a.flow.dst, k->dst.addr, 16);
		if (v->one_src) {
			/* One source: it can be named, and blocked if the operator opted in. */
			memcpy(a.flow.src, v->src1.addr, 16);
			ctl_alert_fact(&a, "sources", "one source");
		} else {
			ctl_alert_fact(&a, "sources", "many sources");
		}
		ctl_alert_fact(&a, "half_open", "%lld", (long long)v->half_open);
		snprintf(a.metric, sizeof(a.metric), "syn_rate");
		a.observed = rate;
		a.threshold = c->min_rate;
		if (j.ready) {
			a.mean = j.mean;
			a.stddev = j.sd;
			a.sigma = j.sigma;
			a.threshold = j.mean + c->sigma * j.sd > c->min_rate
						      ? j.mean + c->sigma * j.sd
						      : c->min_rate;
		}
		a.window_ns = sf->interval_ns;
		a.first_ns = v->idx * sf->interval_ns;
		a.last_ns = now;
		ctl_anomaly_emit(sf->d, sf->id, &a);
		if (!v->flooding) {
			v->flooding = true;
			v->flood_first_ns = a.first_ns;
			v->flood_attempts = 0;
			v->flood_peak = 0;
		}
		v->flood_attempts += v->syns;
		if (rate > v->flood_peak)
			v->flood_peak = rate;
	} else if (v->flooding) {
		/* The first interval below the thresholds ends the flood. */
		struct ctl_alert a;

		v->flooding = false;
		ctl_alert_init_anomaly(&a, &templates[1], ctl_anomaly_name(sf->id), CTL_SEV_LOW);
		a.flow.family = k->dst.family;
		a.flow.proto = 6;
		a.flow.dport = k->port;
		memcpy(a.flow.dst, k->dst.addr, 16);
		snprintf(a.metric, sizeof(a.metric), "syn_rate");
		a.observed = rate;
		a.threshold = c->min_rate;
		ctl_alert_fact(&a, "attempts", "%llu", (unsigned long long)v->flood_attempts);
		ctl_alert_fact(&a, "peak", "%.0f", v->flood_peak);
		ctl_alert_fact(&a, "half_open", "%lld", (long long)v->half_open);
		a.first_ns = v->flood_first_ns;
		a.last_ns = v->idx * sf->interval_ns;
		a.window_ns = a.last_ns - a.first_ns;
		ctl_anomaly_emit(sf->d, sf->id, &a);
	}
	if (b == NULL)
		ctl_anomaly_untracked(sf->d, sf->id);
	ctl_anomaly_learn(sf->d, b, rate, c->alpha, c->sigma, c->warmup, 1.0, now);
	/* Quiet intervals are part of normal too. */
	for (uint64_t i = v->idx + 1; i < idx && i - v->idx <= CTL_ANOMALY_MAX_IDLE_INTERVALS; i++)
		ctl_anomaly_learn(sf->d, b, 0, c->alpha, c->sigma, c->warmup, 1.0,
				(i + 1) * sf->interval_ns);
	v->idx = idx;
	v->syns = 0;
	v->one_src = true;
	memset(&v->src1, 0, sizeof(v->src1));
}

static void
sf_on_flow(void *priv, const struct dp_event *ev, const struct ctl_flow_delta *dl)
{
	struct synflood *sf = priv;
	const struct dp_event_flow *f = &ev->flow;
	struct pend_key pk = { .flow_id = f->flow_id, .worker = ev->worker };
	struct pend_val *pv;
	struct svc_val *v;
	bool added;

	(void)dl;
	if (f->proto != 6)
		return;
	if (ev->type != DP_EV_FLOW_START) {
		/* Handshake completed by the initiator, or the flow is gone: no longer half-open.
		 */
		if (ev->type != DP_EV_FLOW_END && !(f->tcp_flags[0] & F_ACK))
			return;
		pv = ctl_map_find(sf->pend, &pk);
		if (pv == NULL)
			return;
		v = ctl_map_find(sf->svc, &pv->svc);
		if (v != NULL && v->half_open > 0)
			v->half_open--;
		ctl_map_del(sf->pend, &pk);
		return;
	}
	if (!(f->tcp_flags[0] & F_SYN) || (f->tcp_flags[0] & F_ACK))
		return;

	struct svc_key sk;
	uint64_t idx = ev->time_ns / sf->interval_ns;
	struct ctl_host_key src = ctl_host_key(f->family, f->src);

	memset(&sk, 0, sizeof(sk));
	sk.dst = ctl_host_key(f->family, f->dst);
	sk.port = f->dport;
	v = ctl_map_get(sf->svc, &sk, &added);
	if (v == NULL) {
		ctl_anomaly_untracked(sf->d, sf->id);
		return;
	}
	if (added) {
		v->idx = idx;
		v->one_src = true;
	} else if (idx > v->idx) {
		close_interval(sf, &sk, v, idx);
	}
	if (v->syns == 0)
		v->src1 = src;
	else if (memcmp(&v->src1, &src, sizeof(src)) != 0)
		v->one_src = false;
	v->syns++;
	v->last_ns = ev->time_ns;
	pv = ctl_map_get(sf->pend, &pk, &added);
	if (pv == NULL) {
		ctl_anomaly_untracked(sf->d, sf->id);
		return;
	}
	if (!added) {
		/* The worker reused the id: the old flow's half-open state ended with it. */
		struct svc_val *old = ctl_map_find(sf->svc, &pv->svc);

		if (old != NULL && old->half_open > 0)
			old->half_open--;
	}
	pv->svc = sk;
	pv->start_ns = ev->time_ns;
	v->half_open++;
}

/* Forget lost half-open flows and services that have been quiet for long. */
static void
sf_gc(struct synflood *sf, uint64_t now_ns)
{
	uint8_t keys[64][sizeof(struct svc_key)];
	unsigned n;

	do {
		uint32_t it = 0;
		const void *k;
		void *v;

		n = 0;
		while (n < 64 && ctl_map_next(sf->pend, &it, &k, &v)) {
			const struct pend_val *pv = v;

			if (pv->start_ns + PEND_MAX_AGE_NS < now_ns) {
				struct svc_val *sv = ctl_map_find(sf->svc, &pv->svc);

				if (sv != NULL && sv->half_open > 0)
					sv->half_open--;
				memcpy(keys[n++], k, sizeof(struct pend_key));
			}
		}
		for (unsigned i = 0; i < n; i++)
			ctl_map_del(sf->pend, keys[i]);
	} while (n == 64);
	do {
		uint32_t it = 0;
		const void *k;
		void *v;

		n = 0;
		while (n < 64 && ctl_map_next(sf->svc, &it, &k, &v)) {
			const struct svc_val *sv = v;

			/* Its baseline lives on in the baseline table. */
			if (sv->half_open == 0 && sv->syns == 0 &&
					sv->last_ns + PEND_MAX_AGE_NS < now_ns)
				memcpy(keys[n++], k, sizeof(struct svc_key));
		}
		for (unsigned i = 0; i < n; i++)
			ctl_map_del(sf->svc, keys[i]);
	} while (n == 64);
}

static void
sf_on_tick(void *priv, uint64_t now_ns)
{
	struct synflood *sf = priv;
	uint64_t idx = now_ns / sf->interval_ns;
	uint32_t it = 0;
	const void *k;
	void *v;

	if (idx == sf->last_idx)
		return;
	sf->last_idx = idx;
	while (ctl_map_next(sf->svc, &it, &k, &v)) {
		struct svc_val *sv = v;

		if (sv->idx < idx)
			close_interval(sf, k, sv, idx);
	}
	if (idx >= sf->next_gc_idx) {
		sf->next_gc_idx = idx + 64;
		sf_gc(sf, now_ns);
	}
}

/* The end of the traffic: judge the open intervals as if each had run its course. */
static void
sf_close(void *priv, uint64_t now_ns)
{
	const struct synflood *sf = priv;

	sf_on_tick(priv, now_ns + sf->interval_ns);
}

const struct ctl_anomaly_def ctl_anomaly_syn_flood = {
	.name = "syn_flood",
	.cfg_size = sizeof(struct ctl_synflood_cfg),
	.defaults = &defaults,
	.fields = synflood_fields,
	.create = sf_create,
	.on_flow = sf_on_flow,
	.on_tick = sf_on_tick,
	.close = sf_close,
	.free = sf_free,
	.entries = sf_entries,
	.templates = templates,
	.n_templates = sizeof(templates) / sizeof(templates[0]),
};
