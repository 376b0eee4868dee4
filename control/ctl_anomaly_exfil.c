/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Exfiltration: an internal host sending far more data out of the internal networks than it
 * usually does. Outbound bytes are counted per host and interval from the flows' deltas (bytes
 * the host sent to an external peer, whether it opened the flow or answered it), then compared
 * with the host's EWMA baseline of outbound bytes per interval. The alert needs a warm baseline,
 * at least min_bytes, and sigma standard deviations above the mean. Downloads of the same size
 * are inbound and do not count.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_anomaly_impl.h"

/* Finding ids: the sids of its alerts (gid CTL_ANOMALY_GID), stable across versions. */
#define CTL_SID_EXFIL 9000040

struct ctl_exfil_cfg {
	struct ctl_anomaly_common c;
	uint64_t interval_ms;
	double sigma;
	double alpha;
	uint32_t warmup;
	uint64_t min_bytes; /* never alert below this many bytes per interval */
};
CTL_ANOMALY_CFG_FITS(struct ctl_exfil_cfg);

static const struct ctl_exfil_cfg defaults = {
	.c = { .enabled = true, .block_ttl_ms = 3600000 },
	.interval_ms = 300000,
	.sigma = 5,
	.alpha = 0.05,
	.warmup = 24,
	.min_bytes = 100ULL << 20,
};

CTL_ANOMALY_DOUBLE(exfil_sigma, struct ctl_exfil_cfg, sigma, 0.5, 1000)
CTL_ANOMALY_DOUBLE(exfil_alpha, struct ctl_exfil_cfg, alpha, 0.0001, 1)

#define EX(f) offsetof(struct ctl_exfil_cfg, f)
static const struct vg_yaml_field exfil_fields[] = {
	CTL_ANOMALY_COMMON_FIELDS,
	{ .name = "interval",
			.type = VG_YT_MS,
			.off = EX(interval_ms),
			.min = 1000,
			.max = 24 * 3600 * 1000 },
	{ .name = "sigma", .type = VG_YT_CUSTOM, .off = EX(sigma), .parse = exfil_sigma },
	{ .name = "alpha", .type = VG_YT_CUSTOM, .off = EX(alpha), .parse = exfil_alpha },
	{ .name = "warmup", .type = VG_YT_U32, .off = EX(warmup), .min = 1, .max = 1000000 },
	{ .name = "min_bytes", .type = VG_YT_SIZE64, .off = EX(min_bytes) },
	{ 0 },
};

struct ex_val {
	uint64_t idx;
	uint64_t bytes;
	uint64_t last_ns;
	struct ctl_host_key top_dst; /* the peer of the largest single delta */
	uint64_t top_bytes;
};

struct exfil {
	struct ctl_anomaly *d;
	unsigned id; /* row in the detector table */
	const struct ctl_exfil_cfg *cfg;
	uint64_t interval_ns;
	struct ctl_map *m;
	uint64_t last_idx;
	uint64_t next_gc_idx;
};

static const struct ctl_alert_template templates[] = {
	{
			.sid = CTL_SID_EXFIL,
			.title = "Possible data exfiltration",
			.category = "Potential Corporate Privacy Violation",
			.what = "${src} sent ${observed} bytes out of the internal networks in ${window}, "
				"most of it in the largest single transfer to ${to}.",
			.why = "This host usually sends ${mean} bytes per ${window} (standard deviation "
			       "${stddev}); this is ${sigma} standard deviations above that, the kind of "
			       "jump a bulk copy of data to an outside server makes.",
			.next = "Find which process on ${src} sent the data and to whom (${to}); if the "
				"transfer is not a known backup or upload, isolate ${src} and review what "
				"left the network.",
	},
};

static int
ex_create(struct ctl_anomaly *d, unsigned id, const void *cfg, void **priv)
{
	struct exfil *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return -ENOMEM;
	x->d = d;
	x->id = id;
	x->cfg = cfg;
	x->interval_ns = x->cfg->interval_ms * 1000000ULL;
	x->m = ctl_map_create("exfil", sizeof(struct ctl_host_key), sizeof(struct ex_val),
			d->cfg.max_entries);
	if (x->m == NULL) {
		int e = errno ? errno : ENOMEM;

		free(x);
		return -e;
	}
	*priv = x;
	return 0;
}

static void
ex_free(void *priv)
{
	struct exfil *x = priv;

	ctl_map_free(x->m);
	free(x);
}

static uint32_t
ex_entries(const void *priv)
{
	return ctl_map_count(((const struct exfil *)priv)->m);
}

static void
close_interval(struct exfil *x, const struct ctl_host_key *h, struct ex_val *v, uint64_t idx)
{
	const struct ctl_exfil_cfg *c = x->cfg;
	struct ctl_bl_key bk;
	struct ctl_baseline *b;
	struct ctl_judgement j;
	double val = (double)v->bytes;
	uint64_t now = (v->idx + 1) * x->interval_ns;

	memset(&bk, 0, sizeof(bk));
	bk.detector = x->id;
	bk.metric = CTL_METRIC_BYTES_OUT;
	bk.family = h->family;
	memcpy(bk.addr, h->addr, 16);
	b = ctl_baselines_get(x->d->bl, &bk);
	if (b == NULL)
		ctl_anomaly_untracked(x->d, x->id);
	ctl_anomaly_judge(x->d, b, val, c->warmup, 1.0, &j);
	if (j.ready && v->bytes >= c->min_bytes && j.sigma >= c->sigma) {
		struct ctl_alert a;
		char addr[64];

		ctl_alert_init_anomaly(&a, &templates[0], ctl_anomaly_name(x->id),
				j.sigma >= 2 * c->sigma ? CTL_SEV_CRITICAL : CTL_SEV_HIGH);
		a.flow.family = h->family;
		memcpy(a.flow.src, h->addr, 16);
		snprintf(a.metric, sizeof(a.metric), "bytes_out");
		a.observed = val;
		a.mean = j.mean;
		a.stddev = j.sd;
		a.sigma = j.sigma;
		a.threshold = j.mean + c->sigma * j.sd > (double)c->min_bytes
					      ? j.mean + c->sigma * j.sd
					      : (double)c->min_bytes;
		a.window_ns = x->interval_ns;
		a.first_ns = v->idx * x->interval_ns;
		a.last_ns = now;
		ctl_alert_fact(&a, "to", "%s",
				ctl_addr_str(v->top_dst.family, v->top_dst.addr, addr,
						sizeof(addr)));
		ctl_anomaly_emit(x->d, x->id, &a);
	}
	ctl_anomaly_learn(x->d, b, val, c->alpha, c->sigma, c->warmup, 1.0, now);
	for (uint64_t i = v->idx + 1; i < idx && i - v->idx <= CTL_ANOMALY_MAX_IDLE_INTERVALS; i++)
		ctl_anomaly_learn(x->d, b, 0, c->alpha, c->sigma, c->warmup, 1.0,
				(i + 1) * x->interval_ns);
	v->idx = idx;
	v->bytes = 0;
	v->top_bytes = 0;
}

static void
account(struct exfil *x, uint8_t family, const uint8_t *host, const uint8_t *peer, uint64_t bytes,
		uint64_t t_ns)
{
	struct ctl_host_key h = ctl_host_key(family, host);
	uint64_t idx = t_ns / x->interval_ns;
	struct ex_val *v;
	bool added;

	if (bytes == 0)
		return;
	v = ctl_map_get(x->m, &h, &added);
	if (v == NULL) {
		ctl_anomaly_untracked(x->d, x->id);
		return;
	}
	if (added)
		v->idx = idx;
	else if (idx > v->idx)
		close_interval(x, &h, v, idx);
	v->bytes += bytes;
	v->last_ns = t_ns;
	if (bytes > v->top_bytes) {
		v->top_bytes = bytes;
		v->top_dst = ctl_host_key(family, peer);
	}
}

static void
ex_on_flow(void *priv, const struct dp_event *ev, const struct ctl_flow_delta *dl)
{
	struct exfil *x = priv;
	const struct dp_event_flow *f = &ev->flow;
	bool si = ctl_anomaly_internal(x->d, f->family, f->src);
	bool di = ctl_anomaly_internal(x->d, f->family, f->dst);

	if (si && !di)
		account(x, f->family, f->src, f->dst, dl->bytes[0], ev->time_ns);
	else if (di && !si)
		account(x, f->family, f->dst, f->src, dl->bytes[1], ev->time_ns);
}

static void
ex_on_tick(void *priv, uint64_t now_ns)
{
	struct exfil *x = priv;
	uint64_t idx = now_ns / x->interval_ns;
	uint32_t it = 0;
	const void *k;
	void *v;

	if (idx == x->last_idx)
		return;
	x->last_idx = idx;
	while (ctl_map_next(x->m, &it, &k, &v))
		if (((struct ex_val *)v)->idx < idx)
			close_interval(x, k, v, idx);
	if (idx >= x->next_gc_idx) {
		/* Quiet hosts leave the table; their baselines stay in the baseline table. */
		x->next_gc_idx = idx + CTL_ANOMALY_MAX_IDLE_INTERVALS;
		if (now_ns > CTL_ANOMALY_MAX_IDLE_INTERVALS * x->interval_ns)
			ctl_anomaly_gc(x->m, sizeof(struct ctl_host_key),
					offsetof(struct ex_val, last_ns),
					now_ns - CTL_ANOMALY_MAX_IDLE_INTERVALS * x->interval_ns);
	}
}

/* The end of the traffic: judge the open intervals as if each had run its course. */
static void
ex_close(void *priv, uint64_t now_ns)
{
	const struct exfil *x = priv;

	ex_on_tick(priv, now_ns + x->interval_ns);
}

const struct ctl_anomaly_def ctl_anomaly_exfil = {
	.name = "exfiltration",
	.cfg_size = sizeof(struct ctl_exfil_cfg),
	.defaults = &defaults,
	.fields = exfil_fields,
	.create = ex_create,
	.on_flow = ex_on_flow,
	.on_tick = ex_on_tick,
	.close = ex_close,
	.free = ex_free,
	.entries = ex_entries,
	.templates = templates,
	.n_templates = sizeof(templates) / sizeof(templates[0]),
};
