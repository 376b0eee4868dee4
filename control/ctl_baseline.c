/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_alert.h"
#include "ctl_baseline.h"
#include "ctl_map.h"
#include "ctl_store.h"

struct ctl_baselines {
	struct ctl_map *map;
	const char *const *names;
	unsigned n_names;
};

static const char *const metric_names[CTL_METRIC__COUNT] = {
	[CTL_METRIC_SYN_RATE] = "syn_rate",
	[CTL_METRIC_BYTES_OUT] = "bytes_out",
	[CTL_METRIC_PPS] = "pps",
	[CTL_METRIC_BPS] = "bps",
};

const char *
ctl_metric_name(unsigned m)
{
	if (m == 0 || m >= CTL_METRIC__COUNT)
		return "?";
	return metric_names[m];
}

struct ctl_baselines *
ctl_baselines_create(uint32_t capacity, const char *const *det_names, unsigned n_names)
{
	struct ctl_baselines *bl = calloc(1, sizeof(*bl));

	if (bl == NULL)
		return NULL;
	bl->names = det_names;
	bl->n_names = n_names;
	bl->map = ctl_map_create(
			"bl", sizeof(struct ctl_bl_key), sizeof(struct ctl_baseline), capacity);
	if (bl->map == NULL) {
		int e = errno;

		free(bl);
		errno = e;
		return NULL;
	}
	return bl;
}

void
ctl_baselines_free(struct ctl_baselines *bl)
{
	if (bl == NULL)
		return;
	ctl_map_free(bl->map);
	free(bl);
}

struct ctl_baseline *
ctl_baselines_find(struct ctl_baselines *bl, const struct ctl_bl_key *k)
{
	return ctl_map_find(bl->map, k);
}

struct ctl_baseline *
ctl_baselines_get(struct ctl_baselines *bl, const struct ctl_bl_key *k)
{
	return ctl_map_get(bl->map, k, NULL);
}

void
ctl_baseline_add(struct ctl_baseline *b, double x, double alpha, uint64_t now_ns)
{
	ctl_ewma_update(&b->e, x, alpha);
	b->updated_ns = now_ns;
	b->dirty = true;
}

uint32_t
ctl_baselines_count(const struct ctl_baselines *bl)
{
	return ctl_map_count(bl->map);
}

void
ctl_bl_entity(const struct ctl_bl_key *k, char *buf, size_t len)
{
	char a[64], p[8];

	ctl_addr_str(k->family, k->addr, a, sizeof(a));
	if (k->port == 0 && k->proto == 0)
		snprintf(buf, len, "%s", a);
	else if (k->family == 6)
		snprintf(buf, len, "[%s]:%u/%s", a, k->port,
				ctl_proto_name(k->proto, p, sizeof(p)));
	else
		snprintf(buf, len, "%s:%u/%s", a, k->port, ctl_proto_name(k->proto, p, sizeof(p)));
}

int
ctl_baselines_save(struct ctl_baselines *bl, struct ctl_store *s)
{
	uint32_t it = 0;
	const void *kp;
	void *vp;
	int n = 0;

	while (ctl_map_next(bl->map, &it, &kp, &vp)) {
		const struct ctl_bl_key *k = kp;
		struct ctl_baseline *b = vp;
		struct ctl_store_baseline row;

		if (!b->dirty)
			continue;
		memset(&row, 0, sizeof(row));
		snprintf(row.detector, sizeof(row.detector), "%s",
				k->detector < bl->n_names ? bl->names[k->detector] : "?");
		snprintf(row.metric, sizeof(row.metric), "%s", ctl_metric_name(k->metric));
		ctl_bl_entity(k, row.entity, sizeof(row.entity));
		memcpy(row.key, k, sizeof(*k));
		row.key_len = sizeof(*k);
		row.mean = b->e.mean;
		row.var = b->e.var;
		row.n = b->e.n;
		row.updated_ns = b->updated_ns;
		if (ctl_store_put_baseline(s, &row) != 0)
			return -ENOSPC;
		b->dirty = false;
		n++;
	}
	return n;
}

struct load_ctx {
	struct ctl_baselines *bl;
	int loaded;
};

static void
load_one(const struct ctl_store_baseline *row, void *arg)
{
	struct load_ctx *c = arg;
	struct ctl_bl_key k;
	struct ctl_baseline *b;
	unsigned det;

	if (row->key_len != sizeof(k))
		return;
	memcpy(&k, row->key, sizeof(k));
	/* The name is the durable identity; detector indexes may change between versions. */
	for (det = 0; det < c->bl->n_names; det++)
		if (strcmp(c->bl->names[det], row->detector) == 0)
			break;
	if (det == c->bl->n_names || k.metric == 0 || k.metric >= CTL_METRIC__COUNT ||
			strcmp(ctl_metric_name(k.metric), row->metric) != 0)
		return;
	k.detector = (uint8_t)det;
	b = ctl_baselines_get(c->bl, &k);
	if (b == NULL)
		return;
	b->e.mean = row->mean;
	b->e.var = row->var;
	b->e.n = row->n;
	b->updated_ns = row->updated_ns;
	b->dirty = false;
	c->loaded++;
}

int
ctl_baselines_load(struct ctl_baselines *bl, struct ctl_store *s)
{
	struct load_ctx c = { .bl = bl, .loaded = 0 };
	int rc = ctl_store_load_baselines(s, load_one, &c);

	return rc < 0 ? rc : c.loaded;
}
