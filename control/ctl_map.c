/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>

#include "ctl_map.h"

struct ctl_map {
	struct rte_hash *h;
	uint32_t key_len;
	uint32_t val_size;
	uint32_t capacity;
	uint8_t *vals;
};

/* rte_hash names must be unique in the process and short (its rings add a prefix). */
static unsigned ctl_map_seq;

struct ctl_map *
ctl_map_create(const char *name, uint32_t key_len, uint32_t val_size, uint32_t capacity)
{
	struct rte_hash_parameters p;
	struct ctl_map *m;
	char hname[RTE_HASH_NAMESIZE];

	if (key_len == 0 || val_size == 0 || capacity == 0) {
		errno = EINVAL;
		return NULL;
	}
	/* rte_hash refuses tables smaller than a bucket. */
	if (capacity < 8)
		capacity = 8;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->key_len = key_len;
	m->val_size = val_size;
	m->capacity = capacity;
	m->vals = calloc(capacity, val_size);
	if (m->vals == NULL) {
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	snprintf(hname, sizeof(hname), "c%u%.12s", ctl_map_seq++, name);
	memset(&p, 0, sizeof(p));
	p.name = hname;
	p.entries = capacity;
	p.key_len = key_len;
	p.socket_id = SOCKET_ID_ANY;
	/* The extendable table guarantees that every one of capacity keys fits. */
	p.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	m->h = rte_hash_create(&p);
	if (m->h == NULL) {
		int e = rte_errno ? rte_errno : ENOMEM;

		free(m->vals);
		free(m);
		errno = e;
		return NULL;
	}
	return m;
}

void
ctl_map_free(struct ctl_map *m)
{
	if (m == NULL)
		return;
	rte_hash_free(m->h);
	free(m->vals);
	free(m);
}

void *
ctl_map_find(const struct ctl_map *m, const void *key)
{
	int32_t pos = rte_hash_lookup(m->h, key);

	if (pos < 0)
		return NULL;
	return m->vals + (size_t)pos * m->val_size;
}

void *
ctl_map_get(struct ctl_map *m, const void *key, bool *added)
{
	int32_t pos = rte_hash_lookup(m->h, key);
	void *v;

	if (added != NULL)
		*added = false;
	if (pos >= 0)
		return m->vals + (size_t)pos * m->val_size;
	pos = rte_hash_add_key(m->h, key);
	if (pos < 0 || (uint32_t)pos >= m->capacity) {
		if (pos >= 0)
			rte_hash_del_key(m->h, key);
		errno = ENOSPC;
		return NULL;
	}
	v = m->vals + (size_t)pos * m->val_size;
	memset(v, 0, m->val_size);
	if (added != NULL)
		*added = true;
	return v;
}

int
ctl_map_del(struct ctl_map *m, const void *key)
{
	return rte_hash_del_key(m->h, key) < 0 ? -ENOENT : 0;
}

uint32_t
ctl_map_count(const struct ctl_map *m)
{
	int32_t n = rte_hash_count(m->h);

	return n < 0 ? 0 : (uint32_t)n;
}

uint32_t
ctl_map_capacity(const struct ctl_map *m)
{
	return m->capacity;
}

bool
ctl_map_next(const struct ctl_map *m, uint32_t *iter, const void **key, void **val)
{
	const void *k;
	void *data;
	int32_t pos = rte_hash_iterate(m->h, &k, &data, iter);

	if (pos < 0)
		return false;
	if (key != NULL)
		*key = k;
	if (val != NULL)
		*val = m->vals + (size_t)pos * m->val_size;
	return true;
}

void
ctl_map_reset(struct ctl_map *m)
{
	rte_hash_reset(m->h);
}
