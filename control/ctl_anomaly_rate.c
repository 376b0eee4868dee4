/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rate anomaly: packets or bytes per second of an internal host (both directions) or of an
 * internal service (address, port, protocol that answers) beyond sigma standard deviations of
 * its EWMA baseline. Each interval both rates are judged against their own baselines; the one
 * further out decides. The alert also needs a warm baseline and the rate above a floor
 * (min_pps, min_bps), so that a quiet host going from 1 to 20 packets per second is not news.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_anomaly_impl.h"

/* Finding ids: the sids of its alerts (gid CTL_ANOMALY_GID), stable across versions. */
#define CTL_SID_RATE_HOST_PPS	 9000050
#define CTL_SID_RATE_HOST_BPS	 9000051
#define CTL_SID_RATE_SERVICE_PPS 9000052
#define CTL_SID_RATE_SERVICE_BPS 9000053

struct ctl_rate_cfg {
	struct ctl_anomaly_common c;
	uint64_t interval_ms;
	double sigma;
	double alpha;
	uint32_t warmup;
	uint64_t min_pps; /* never alert below these rates */
	uint64_t min_bps;
	bool hosts;    /* per internal host, both directions */
	bool services; /* per internal (address, port, protocol) that answers */
};
CTL_ANOMALY_CFG_FITS(struct ctl_rate_cfg);

static const struct ctl_rate_cfg defaults = {
	.c = { .enabled = true, .block_ttl_ms = 600000 },
	.interval_ms = 10000,
	.sigma = 5,
	.alpha = 0.02,
	.warmup = 60,
	.min_pps = 1000,
	.min_bps = 10ULL << 20,
	.hosts = true,
	.services = true,
};

CTL_ANOMALY_DOUBLE(rate_sigma, struct ctl_rate_cfg, sigma, 0.5, 1000)
CTL_ANOMALY_DOUBLE(rate_alpha, struct ctl_rate_cfg, alpha, 0.0001, 1)

#define RT(f) offsetof(struct ctl_rate_cfg, f)
static const struct vg_yaml_field rate_fields[] = {
	CTL_ANOMALY_COMMON_FIELDS,
	{ .name = "interval",
			.type = VG_YT_MS,
			.off = RT(interval_ms),
			.min = 1000,
			.max = 24 * 3600 * 1000 },
	{ .name = "sigma", .type = VG_YT_CUSTOM, .off = RT(sigma), .parse = rate_sigma },
	{ .name = "alpha", .type = VG_YT_CUSTOM, .off = RT(alpha), .parse = rate_alpha },
	{ .name = "warmup", .type = VG_YT_U32, .off = RT(warmup), .min = 1, .max = 1000000 },
	{ .name = "min_pps", .type = VG_YT_U64, .off = RT(min_pps) },
	{ .name = "min_bps", .type = VG_YT_SIZE64, .off = RT(min_bps) },
	{ .name = "hosts", .type = VG_YT_BOOL, .off = RT(hosts) },
	{ .name = "services", .type = VG_YT_BOOL, .off = RT(services) },
	{ 0 },
};

struct rt_val {
	uint64_t idx;
	uint64_t pkts;
	uint64_t bytes;
	uint64_t last_ns;
};

struct rate {
	struct ctl_anomaly *d;
	unsigned id; /* row in the detector table */
	const struct ctl_rate_cfg *cfg;
	uint64_t interval_ns;
	struct ctl_map *m; /* ctl_bl_key (metric 0) -> interval counters */
	uint64_t last_idx;
	uint64_t next_gc_idx;
};

#define RATE_WHY                                                                               \
	"Its usual rate is ${mean} (standard deviation ${stddev}); this is ${sigma} standard " \
	"deviations above it, beyond the ${threshold} that the configured limit allows."

static const struct ctl_alert_template templates[] = {
	{
			.sid = CTL_SID_RATE_HOST_PPS,
			.title = "Packet rate anomaly (host)",
			.category = "Misc activity",
			.what = "Host ${src} exchanged ${observed} packets per second over ${window}.",
			.why = RATE_WHY,
			.next = "Look at the flows of ${src} in that interval (top peers and ports) to see "
				"whether this is a flood, a scan, or a legitimate new workload.",
	},
	{
			.sid = CTL_SID_RATE_HOST_BPS,
			.title = "Byte rate anomaly (host)",
			.category = "Misc activity",
			.what = "Host ${src} exchanged ${observed} bytes per second over ${window}.",
			.why = RATE_WHY,
			.next = "Look at the flows of ${src} in that interval (top peers and ports) to see "
				"whether this is a bulk transfer, a flood, or a legitimate new workload.",
	},
	{
			.sid = CTL_SID_RATE_SERVICE_PPS,
			.title = "Packet rate anomaly (service)",
			.category = "Misc activity",
			.what = "Service ${dst} port ${dport}/${proto} handled ${observed} packets per "
				"second over ${window}.",
			.why = RATE_WHY,
			.next = "Check the clients of this service in that interval: a few sources sending "
				"most of the traffic suggest a flood; many new clients, a surge in use.",
	},
	{
			.sid = CTL_SID_RATE_SERVICE_BPS,
			.title = "Byte rate anomaly (service)",
			.category = "Misc activity",
			.what = "Service ${dst} port ${dport}/${proto} handled ${observed} bytes per second "
				"over ${window}.",
			.why = RATE_WHY,
			.next = "Check the clients of this service in that interval: a few sources moving "
				"most of the bytes suggest abuse or exfiltration; many, a surge in use.",
	},
};

static int
rt_create(struct ctl_anomaly *d, unsigned id, const void *cfg, void **priv)
{
	struct rate *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return -ENOMEM;
	r->d = d;
	r->id = id;
	r->cfg = cfg;
	r->interval_ns = r->cfg->interval_ms * 1000000ULL;
	r->m = ctl_map_create("rate", sizeof(struct ctl_bl_key), sizeof(struct rt_val),
			d->cfg.max_entries);
	if (r->m == NULL) {
		int e = errno ? errno : ENOMEM;

		free(r);
		return -e;
	}
	*priv = r;
	return 0;
}

static void
rt_free(void *priv)
{
	struct rate *r = priv;

	ctl_map_free(r->m);
	free(r);
}

static uint32_t
rt_entries(const void *priv)
{
	return ctl_map_count(((const struct rate *)priv)->m);
}

static void
close_interval(struct rate *r, const struct ctl_bl_key *k, struct rt_val *v, uint64_t idx)
{
	const struct ctl_rate_cfg *c = r->cfg;
	double secs = (double)r->interval_ns / 1e9;
	double val[2] = { (double)v->pkts / secs, (double)v->bytes / secs };
	double floor[2] = { (double)c->min_pps, (double)c->min_bps };
	uint8_t metric[2] = { CTL_METRIC_PPS, CTL_METRIC_BPS };
	struct ctl_baseline *b[2];
	struct ctl_judgement j[2];
	uint64_t now = (v->idx + 1) * r->interval_ns;
	bool service = k->port != 0;
	int pick = -1;

	for (int i = 0; i < 2; i++) {
		struct ctl_bl_key bk = *k;

		bk.metric = metric[i];
		b[i] = ctl_baselines_get(r->d->bl, &bk);
		if (b[i] == NULL)
			ctl_anomaly_untracked(r->d, r->id);
		ctl_anomaly_judge(r->d, b[i], val[i], c->warmup, 1.0, &j[i]);
		if (j[i].ready && val[i] >= floor[i] && j[i].sigma >= c->sigma &&
				(pick < 0 || j[i].sigma > j[pick].sigma))
			pick = i;
	}
	if (pick >= 0) {
		struct ctl_alert a;
		double lim = j[pick].mean + c->sigma * j[pick].sd;

		ctl_alert_init_anomaly(&a, &templates[(service ? 2 : 0) + pick],
				ctl_anomaly_name(r->id),
				j[pick].sigma >= 2 * c->sigma ? CTL_SEV_HIGH : CTL_SEV_MEDIUM);
		a.flow.family = k->family;
		if (service) {
			memcpy(a.flow.dst, k->addr, 16);
			a.flow.dport = k->port;
			a.flow.proto = k->proto;
		} else {
			memcpy(a.flow.src, k->addr, 16);
		}
		snprintf(a.metric, sizeof(a.metric), "%s", ctl_metric_name(metric[pick]));
		a.observed = val[pick];
		a.mean = j[pick].mean;
		a.stddev = j[pick].sd;
		a.sigma = j[pick].sigma;
		a.threshold = lim > floor[pick] ? lim : floor[pick];
		a.window_ns = r->interval_ns;
		a.first_ns = v->idx * r->interval_ns;
		a.last_ns = now;
		ctl_anomaly_emit(r->d, r->id, &a);
	}
	for (int i = 0; i < 2; i++) {
		ctl_anomaly_learn(r->d, b[i], val[i], c->alpha, c->sigma, c->warmup, 1.0, now);
		for (uint64_t n = v->idx + 1;
				n < idx && n - v->idx <= CTL_ANOMALY_MAX_IDLE_INTERVALS; n++)
			ctl_anomaly_learn(r->d, b[i], 0, c->alpha, c->sigma, c->warmup, 1.0,
					(n + 1) * r->interval_ns);
	}
	v->idx = idx;
	v->pkts = 0;
	v->bytes = 0;
}

static void
account(struct rate *r, const struct ctl_bl_key *k, uint64_t pkts, uint64_t bytes, uint64_t t_ns)
{
	uint64_t idx = t_ns / r->interval_ns;
	struct rt_val *v;
	bool added;

	if (pkts == 0 && bytes == 0)
		return;
	v = ctl_map_get(r->m, k, &added);
	if (v == NULL) {
		ctl_anomaly_untracked(r->d, r->id);
		return;
	}
	if (added)
		v->idx = idx;
	else if (idx > v->idx)
		close_interval(r, k, v, idx);
	v->pkts += pkts;
	v->bytes += bytes;
	v->last_ns = t_ns;
}

static void
rt_on_flow(void *priv, const struct dp_event *ev, const struct ctl_flow_delta *dl)
{
	struct rate *r = priv;
	const struct dp_event_flow *f = &ev->flow;
	uint64_t pkts = dl->pkts[0] + dl->pkts[1], bytes = dl->bytes[0] + dl->bytes[1];
	struct ctl_bl_key k;

	if (pkts == 0 && bytes == 0)
		return;
	memset(&k, 0, sizeof(k));
	k.detector = r->id;
	k.family = f->family;
	if (r->cfg->hosts) {
		if (ctl_anomaly_internal(r->d, f->family, f->src)) {
			memcpy(k.addr, f->src, 16);
			account(r, &k, pkts, bytes, ev->time_ns);
		}
		if (ctl_anomaly_internal(r->d, f->family, f->dst)) {
			memcpy(k.addr, f->dst, 16);
			account(r, &k, pkts, bytes, ev->time_ns);
		}
	}
	if (r->cfg->services && f->dport != 0 && ctl_anomaly_internal(r->d, f->family, f->dst)) {
		memcpy(k.addr, f->dst, 16);
		k.port = f->dport;
		k.proto = f->proto;
		account(r, &k, pkts, bytes, ev->time_ns);
	}
}

static void
rt_on_tick(void *priv, uint64_t now_ns)
{
	struct rate *r = priv;
	uint64_t idx = now_ns / r->interval_ns;
	uint32_t it = 0;
	const void *k;
	void *v;

	if (idx == r->last_idx)
		return;
	r->last_idx = idx;
	while (ctl_map_next(r->m, &it, &k, &v))
		if (((struct rt_val *)v)->idx < idx)
			close_interval(r, k, v, idx);
	if (idx >= r->next_gc_idx) {
		r->next_gc_idx = idx + CTL_ANOMALY_MAX_IDLE_INTERVALS;
		if (now_ns > CTL_ANOMALY_MAX_IDLE_INTERVALS * r->interval_ns)
			ctl_anomaly_gc(r->m, sizeof(struct ctl_bl_key),
					offsetof(struct rt_val, last_ns),
					now_ns - CTL_ANOMALY_MAX_IDLE_INTERVALS * r->interval_ns);
	}
}

/* The end of the traffic: judge the open intervals as if each had run its course. */
static void
rt_close(void *priv, uint64_t now_ns)
{
	const struct rate *r = priv;

	rt_on_tick(priv, now_ns + r->interval_ns);
}

const struct ctl_anomaly_def ctl_anomaly_rate = {
	.name = "rate",
	.cfg_size = sizeof(struct ctl_rate_cfg),
	.defaults = &defaults,
	.fields = rate_fields,
	.create = rt_create,
	.on_flow = rt_on_flow,
	.on_tick = rt_on_tick,
	.close = rt_close,
	.free = rt_free,
	.entries = rt_entries,
	.templates = templates,
	.n_templates = sizeof(templates) / sizeof(templates[0]),
};
