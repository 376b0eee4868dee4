/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_anomaly_impl.h"
#include "ctl_store.h"
#include "vg_addr.h"

/*
 * The detectors: one row each, naming the struct ctl_anomaly_def ctl_anomaly_<row> that the
 * detector's file exports (docs/ARCHITECTURE.md, "Add an anomaly detector"). A detector's id is
 * its row; the order is that of the status JSON. The store keeps baselines by name, so rows may
 * move.
 */
#define DETECTORS(X)   \
	X(port_scan)   \
	X(syn_flood)   \
	X(dns_tunnel)  \
	X(brute_force) \
	X(exfil)       \
	X(rate)        \
	X(icmp_tunnel) \
	/* end of the table */

#define DECLARE(row) extern const struct ctl_anomaly_def ctl_anomaly_##row;
DETECTORS(DECLARE)
#define ROW(row) &ctl_anomaly_##row,
static const struct ctl_anomaly_def *const detector_table[] = { DETECTORS(ROW) };

#define N_DETECTORS (sizeof(detector_table) / sizeof(detector_table[0]))
_Static_assert(N_DETECTORS <= CTL_ANOMALY_MAX_DETECTORS, "raise CTL_ANOMALY_MAX_DETECTORS");

unsigned
ctl_anomaly_count(void)
{
	return N_DETECTORS;
}

const struct ctl_anomaly_def *
ctl_anomaly_def(unsigned id)
{
	return id < N_DETECTORS ? detector_table[id] : NULL;
}

const char *
ctl_anomaly_name(unsigned id)
{
	return id < N_DETECTORS ? detector_table[id]->name : "?";
}

int
ctl_anomaly_find(const char *name)
{
	for (unsigned i = 0; i < N_DETECTORS; i++)
		if (strcmp(detector_table[i]->name, name) == 0)
			return (int)i;
	return -ENOENT;
}

/* Config ------------------------------------------------------------------------------------ */

/* "10.0.0.0/8" (host bits, when given, are cleared: only the prefix matches). */
static int
parse_net(const char *text, struct vg_prefix *net)
{
	return vg_prefix_parse(text, strlen(text), VG_PREFIX_HOST_BITS, net, NULL) < 0 ? -EINVAL
										       : 0;
}

static void
add_net(struct vg_prefix *nets, uint32_t *n, const char *text)
{
	if (parse_net(text, &nets[*n]) == 0)
		(*n)++;
}

void
ctl_anomaly_defaults(struct ctl_anomaly_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	add_net(cfg->internal, &cfg->n_internal, "10.0.0.0/8");
	add_net(cfg->internal, &cfg->n_internal, "172.16.0.0/12");
	add_net(cfg->internal, &cfg->n_internal, "192.168.0.0/16");
	add_net(cfg->internal, &cfg->n_internal, "fc00::/7");
	cfg->max_entries = 65536;
	cfg->max_baselines = 65536;
	cfg->min_stddev_frac = 0.1;
	for (unsigned i = 0; i < N_DETECTORS; i++)
		memcpy(&cfg->det[i], detector_table[i]->defaults, detector_table[i]->cfg_size);
}

int
ctl_anomaly_parse_double(struct vg_yaml *y, yaml_node_t *v, const char *key, double lo, double hi,
		double *out)
{
	const char *s = vg_yaml_scalar(y, v, key);
	char *end;
	double d;

	if (s == NULL)
		return -EINVAL;
	errno = 0;
	d = strtod(s, &end);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(d) || d < lo || d > hi) {
		vg_yaml_err(y, v, "'%s': '%s' is not a number from %g to %g", key, s, lo, hi);
		return -EINVAL;
	}
	*out = d;
	return 0;
}

CTL_ANOMALY_DOUBLE(min_sd_frac, struct ctl_anomaly_cfg, min_stddev_frac, 0, 10)

static int
parse_nets(struct vg_yaml *y, yaml_node_t *v, const char *key, struct vg_prefix *nets, uint32_t *n)
{
	int len;

	if (!vg_yaml_expect_seq(y, v, key))
		return -EINVAL;
	len = vg_yaml_seq_len(v);
	if (len > CTL_ANOMALY_MAX_NETS) {
		vg_yaml_err(y, v, "'%s': at most %d networks", key, CTL_ANOMALY_MAX_NETS);
		return -EINVAL;
	}
	*n = 0;
	for (int i = 0; i < len; i++) {
		yaml_node_t *it = vg_yaml_seq_item(y, v, i);
		const char *s = vg_yaml_scalar(y, it, key);
		struct vg_prefix net;

		if (s == NULL)
			continue;
		if (parse_net(s, &net) != 0) {
			vg_yaml_err(y, it,
					"'%s': '%s' is not a network (an address, or address/prefix "
					"such as 10.0.0.0/8 or fd00::/8)",
					key, s);
			continue;
		}
		nets[(*n)++] = net;
	}
	return 0;
}

static int
parse_internal(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct ctl_anomaly_cfg *cfg = obj;

	return parse_nets(y, v, key, cfg->internal, &cfg->n_internal);
}

static int
parse_never_block(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct ctl_anomaly_cfg *cfg = obj;

	return parse_nets(y, v, key, cfg->never_block, &cfg->n_never_block);
}

/* A detector's mapping: its key is its name. */
static int
parse_detector(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct ctl_anomaly_cfg *cfg = obj;
	int id = ctl_anomaly_find(key);
	char what[96];

	if (id < 0 || !vg_yaml_expect_map(y, v, key))
		return -EINVAL;
	snprintf(what, sizeof(what), "detectors.%s", key);
	return vg_yaml_map(y, v, what, detector_table[id]->fields, &cfg->det[id]);
}

#define DC(f) offsetof(struct ctl_anomaly_cfg, f)
static const struct vg_yaml_field shared_fields[] = {
	{ .name = "internal", .type = VG_YT_CUSTOM, .parse = parse_internal },
	{ .name = "never_block", .type = VG_YT_CUSTOM, .parse = parse_never_block },
	{ .name = "max_entries",
			.type = VG_YT_SIZE32,
			.off = DC(max_entries),
			.min = 64,
			.max = 1 << 24 },
	{ .name = "max_baselines",
			.type = VG_YT_SIZE32,
			.off = DC(max_baselines),
			.min = 64,
			.max = 1 << 24 },
	{ .name = "min_stddev_fraction",
			.type = VG_YT_CUSTOM,
			.off = DC(min_stddev_frac),
			.parse = min_sd_frac },
};

#define N_SHARED (sizeof(shared_fields) / sizeof(shared_fields[0]))

int
ctl_anomaly_yaml_parse(struct vg_yaml *y, yaml_node_t *n, struct ctl_anomaly_cfg *cfg)
{
	/* The shared keys, then one mapping per detector, keyed by its name. */
	struct vg_yaml_field fields[N_SHARED + N_DETECTORS + 1];

	memset(fields, 0, sizeof(fields));
	memcpy(fields, shared_fields, sizeof(shared_fields));
	for (unsigned i = 0; i < N_DETECTORS; i++)
		fields[N_SHARED + i] = (struct vg_yaml_field){ .name = detector_table[i]->name,
			.type = VG_YT_CUSTOM,
			.parse = parse_detector };
	if (!vg_yaml_expect_map(y, n, "detectors"))
		return -EINVAL;
	return vg_yaml_map(y, n, "detectors", fields, cfg);
}

bool
ctl_net_contains(const struct vg_prefix *nets, unsigned n, uint8_t family, const uint8_t *addr)
{
	struct vg_addr a = { .family = family };

	memcpy(a.b, addr, family == 4 ? 4 : 16);
	for (unsigned i = 0; i < n; i++)
		if (vg_prefix_has(&nets[i], &a))
			return true;
	return false;
}

/* Framework --------------------------------------------------------------------------------- */

struct flow_key {
	uint32_t flow_id;
	uint8_t worker;
	uint8_t pad[3];
};

struct flow_val {
	uint64_t pkts[2];
	uint64_t bytes[2];
};

struct ctl_anomaly *
ctl_anomaly_create(const struct ctl_anomaly_cfg *cfg, ctl_alert_cb cb, void *arg)
{
	struct ctl_anomaly *d = calloc(1, sizeof(*d));
	int rc = 0;

	if (d == NULL)
		return NULL;
	d->cfg = *cfg;
	d->cb = cb;
	d->arg = arg;
	if (d->cfg.max_entries < 64)
		d->cfg.max_entries = 64;
	for (unsigned i = 0; i < N_DETECTORS; i++)
		d->names[i] = detector_table[i]->name;
	d->bl = ctl_baselines_create(
			cfg->max_baselines ? cfg->max_baselines : 64, d->names, N_DETECTORS);
	d->flows = ctl_map_create("dflows", sizeof(struct flow_key), sizeof(struct flow_val),
			d->cfg.max_entries * 4);
	if (d->bl == NULL || d->flows == NULL) {
		rc = -(errno ? errno : ENOMEM);
		goto fail;
	}
	for (unsigned i = 0; i < N_DETECTORS; i++) {
		if (!d->cfg.det[i].c.enabled)
			continue;
		rc = detector_table[i]->create(d, i, &d->cfg.det[i], &d->priv[i]);
		if (rc != 0)
			goto fail;
	}
	return d;
fail:
	ctl_anomaly_free(d);
	errno = -rc;
	return NULL;
}

void
ctl_anomaly_free(struct ctl_anomaly *d)
{
	if (d == NULL)
		return;
	for (unsigned i = N_DETECTORS; i-- > 0;)
		if (d->priv[i] != NULL)
			detector_table[i]->free(d->priv[i]);
	ctl_baselines_free(d->bl);
	ctl_map_free(d->flows);
	free(d);
}

/* What the flow added since its previous event (all of it when we never saw it before). */
static void
flow_delta(struct ctl_anomaly *d, const struct dp_event *ev, struct ctl_flow_delta *dl)
{
	struct flow_key k = { .flow_id = ev->flow.flow_id, .worker = ev->worker };
	struct flow_val *v;
	bool added;

	if (ev->type == DP_EV_FLOW_END)
		v = ctl_map_find(d->flows, &k);
	else
		v = ctl_map_get(d->flows, &k, &added);
	if (v != NULL && ev->type == DP_EV_FLOW_START)
		memset(v, 0, sizeof(*v));
	if (v == NULL && ev->type != DP_EV_FLOW_END)
		d->c.flows_untracked++;
	for (int i = 0; i < 2; i++) {
		uint64_t p = ev->flow.pkts[i], b = ev->flow.bytes[i];

		dl->pkts[i] = v != NULL && p >= v->pkts[i] ? p - v->pkts[i] : p;
		dl->bytes[i] = v != NULL && b >= v->bytes[i] ? b - v->bytes[i] : b;
		if (v != NULL) {
			v->pkts[i] = p;
			v->bytes[i] = b;
		}
	}
	if (v != NULL && ev->type == DP_EV_FLOW_END)
		ctl_map_del(d->flows, &k);
}

void
ctl_anomaly_on_event(struct ctl_anomaly *d, const struct dp_event *ev)
{
	struct ctl_flow_delta dl;

	if (ev->type != DP_EV_FLOW_START && ev->type != DP_EV_FLOW_UPDATE &&
			ev->type != DP_EV_FLOW_END)
		return;
	if (ev->flow.family != 4 && ev->flow.family != 6)
		return;
	d->c.events++;
	if (ev->time_ns > d->clock_ns)
		d->clock_ns = ev->time_ns;
	flow_delta(d, ev, &dl);
	for (unsigned i = 0; i < N_DETECTORS; i++)
		if (d->priv[i] != NULL)
			detector_table[i]->on_flow(d->priv[i], ev, &dl);
}

void
ctl_anomaly_on_tick(struct ctl_anomaly *d, uint64_t now_ns)
{
	if (now_ns > d->clock_ns)
		d->clock_ns = now_ns;
	for (unsigned i = 0; i < N_DETECTORS; i++)
		if (d->priv[i] != NULL && detector_table[i]->on_tick != NULL)
			detector_table[i]->on_tick(d->priv[i], d->clock_ns);
}

void
ctl_anomaly_close_intervals(struct ctl_anomaly *d, uint64_t now_ns)
{
	if (now_ns > d->clock_ns)
		d->clock_ns = now_ns;
	/* Only the detectors that judge fixed intervals; the others judge as events arrive. */
	for (unsigned i = 0; i < N_DETECTORS; i++)
		if (d->priv[i] != NULL && detector_table[i]->close != NULL)
			detector_table[i]->close(d->priv[i], d->clock_ns);
}

void
ctl_anomaly_emit(struct ctl_anomaly *d, unsigned det, struct ctl_alert *a)
{
	const struct ctl_anomaly_common *c = &d->cfg.det[det].c;
	const struct dp_event_flow *f = &a->flow;

	a->block_ttl_ms = 0;
	/* A low finding (a small scan, one long name) is a hint, never a reason to block. */
	if (c->block && a->severity > CTL_SEV_LOW && (f->family == 4 || f->family == 6) &&
			memcmp(f->src, (uint8_t[16]){ 0 }, 16) != 0 &&
			!ctl_net_contains(d->cfg.never_block, d->cfg.n_never_block, f->family,
					f->src))
		a->block_ttl_ms = c->block_ttl_ms;
	if (a->count == 0)
		a->count = 1;
	if (a->first_ns == 0)
		a->first_ns = a->last_ns;
	ctl_alert_explain(a);
	d->c.alerts[det]++;
	if (d->cb != NULL)
		d->cb(a, d->arg);
}

void
ctl_anomaly_judge(const struct ctl_anomaly *d, const struct ctl_baseline *b, double x,
		uint32_t warmup, double min_sd, struct ctl_judgement *j)
{
	memset(j, 0, sizeof(*j));
	if (b == NULL)
		return;
	j->ready = ctl_ewma_ready(&b->e, warmup);
	j->mean = b->e.mean;
	j->sd = ctl_ewma_judge_stddev(&b->e, d->cfg.min_stddev_frac, min_sd);
	j->sigma = j->sd > 0 ? (x - j->mean) / j->sd : 0;
}

void
ctl_anomaly_learn(struct ctl_anomaly *d, struct ctl_baseline *b, double x, double alpha,
		double sigma, uint32_t warmup, double min_sd, uint64_t now_ns)
{
	if (b == NULL)
		return;
	if (ctl_ewma_ready(&b->e, warmup)) {
		double cap = b->e.mean +
			     sigma * ctl_ewma_judge_stddev(&b->e, d->cfg.min_stddev_frac, min_sd);

		if (x > cap)
			x = cap;
	}
	ctl_baseline_add(b, x, alpha, now_ns);
}

void
ctl_anomaly_gc(struct ctl_map *m, size_t key_len, size_t last_off, uint64_t cutoff)
{
	uint8_t keys[64][64];
	unsigned n;

	if (key_len > sizeof(keys[0]))
		return;
	/* Deleting while walking may skip entries: collect a batch, delete, walk again. */
	do {
		uint32_t it = 0;
		const void *k;
		void *v;

		n = 0;
		while (n < 64 && ctl_map_next(m, &it, &k, &v)) {
			uint64_t last;

			memcpy(&last, (const uint8_t *)v + last_off, sizeof(last));
			if (last < cutoff)
				memcpy(keys[n++], k, key_len);
		}
		for (unsigned i = 0; i < n; i++)
			ctl_map_del(m, keys[i]);
	} while (n == 64);
}

int
ctl_anomaly_save_baselines(struct ctl_anomaly *d, struct ctl_store *s)
{
	return ctl_baselines_save(d->bl, s);
}

int
ctl_anomaly_load_baselines(struct ctl_anomaly *d, struct ctl_store *s)
{
	return ctl_baselines_load(d->bl, s);
}

void
ctl_anomaly_counters(const struct ctl_anomaly *d, struct ctl_anomaly_counters *c)
{
	*c = d->c;
	for (unsigned i = 0; i < N_DETECTORS; i++)
		c->entries[i] = d->priv[i] != NULL && detector_table[i]->entries != NULL
						? detector_table[i]->entries(d->priv[i])
						: 0;
	c->baselines = ctl_baselines_count(d->bl);
}

unsigned
ctl_anomaly_n_templates(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < N_DETECTORS; i++)
		n += detector_table[i]->n_templates;
	return n;
}

const struct ctl_alert_template *
ctl_anomaly_template(unsigned idx)
{
	for (unsigned i = 0; i < N_DETECTORS; i++) {
		if (idx < detector_table[i]->n_templates)
			return &detector_table[i]->templates[idx];
		idx -= detector_table[i]->n_templates;
	}
	return NULL;
}
