/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_block.h"
#include "ctl_map.h"
#include "vg_log.h"

struct block_key {
	uint8_t family;
	uint8_t pad[3];
	uint8_t addr[16];
};

struct ctl_blocker {
	struct ctl_store *s;
	struct ctl_map *map; /* block_key -> ctl_store_block */
	ctl_block_push_fn push;
	void *arg;
};

static struct block_key
key_of(uint8_t family, const uint8_t *addr)
{
	struct block_key k;

	memset(&k, 0, sizeof(k));
	k.family = family;
	memcpy(k.addr, addr, family == 4 ? 4 : 16);
	return k;
}

/*
 * Record, persist and push one entry. With a ticket (an API block) the store row is durable:
 * when the store cannot take one more, nothing changes and -EAGAIN says so.
 */
static int
put(struct ctl_blocker *bl, const struct ctl_store_block *b, struct ctl_store_ticket *t)
{
	struct block_key k = key_of(b->family, b->addr);
	struct ctl_store_block *e;

	if (t != NULL && bl->s != NULL && !ctl_store_durable_room(bl->s))
		return -EAGAIN;
	e = ctl_map_get(bl->map, &k, NULL);
	if (e == NULL)
		return -ENOSPC;
	*e = *b;
	memset(e->addr, 0, sizeof(e->addr));
	memcpy(e->addr, k.addr, sizeof(k.addr));
	if (bl->s != NULL && ctl_store_put_block(bl->s, e, t) != 0)
		CTL_LOG(WARNING, "blocklist: the store's queue is full; the entry holds until "
				 "restart only");
	if (bl->push != NULL)
		bl->push(e, true, bl->arg);
	return 0;
}

static void
load_one(const struct ctl_store_block *b, void *arg)
{
	struct ctl_blocker *bl = arg;
	struct block_key k = key_of(b->family, b->addr);
	struct ctl_store_block *e = ctl_map_get(bl->map, &k, NULL);

	if (e == NULL)
		return;
	*e = *b;
	if (bl->push != NULL)
		bl->push(e, true, bl->arg);
}

struct ctl_blocker *
ctl_blocker_create(struct ctl_store *s, uint32_t capacity, ctl_block_push_fn push, void *arg,
		uint64_t now_ms)
{
	struct ctl_blocker *bl = calloc(1, sizeof(*bl));
	int n;

	if (bl == NULL)
		return NULL;
	bl->s = s;
	bl->push = push;
	bl->arg = arg;
	bl->map = ctl_map_create("block", sizeof(struct block_key), sizeof(struct ctl_store_block),
			capacity);
	if (bl->map == NULL) {
		int e = errno;

		free(bl);
		errno = e;
		return NULL;
	}
	if (s != NULL) {
		n = ctl_store_load_blocks(s, now_ms, load_one, bl);
		if (n < 0)
			CTL_LOG(ERR, "blocklist: could not load the stored entries: %s",
					strerror(-n));
		else if (n > 0)
			CTL_LOG(NOTICE, "blocklist: restored %d entries from the store", n);
	}
	return bl;
}

void
ctl_blocker_free(struct ctl_blocker *bl)
{
	if (bl == NULL)
		return;
	ctl_map_free(bl->map);
	free(bl);
}

int
ctl_blocker_on_alert(struct ctl_blocker *bl, const struct ctl_alert *a, uint64_t now_ms)
{
	const struct dp_event_flow *f = &a->flow;
	struct block_key k;
	const struct ctl_store_block *cur;
	struct ctl_store_block b;
	char addr[64];
	int rc;

	if (a->block_ttl_ms == 0 || (f->family != 4 && f->family != 6))
		return 0;
	k = key_of(f->family, f->src);
	cur = ctl_map_find(bl->map, &k);
	if (cur != NULL && (cur->expires_ms == 0 || cur->expires_ms >= now_ms + a->block_ttl_ms))
		return 0;
	memset(&b, 0, sizeof(b));
	b.family = f->family;
	memcpy(b.addr, f->src, 16);
	b.created_ms = now_ms;
	b.expires_ms = now_ms + a->block_ttl_ms;
	b.alert_uid = a->uid;
	snprintf(b.source, sizeof(b.source), "%s", a->detector);
	snprintf(b.reason, sizeof(b.reason), "%s", a->signature);
	rc = put(bl, &b, NULL);
	if (rc != 0)
		return rc;
	CTL_LOG(NOTICE, "blocklist: blocking %s for %" PRIu64 " s (%s, alert %" PRIu64 ")",
			ctl_addr_str(f->family, f->src, addr, sizeof(addr)), a->block_ttl_ms / 1000,
			a->signature, a->uid);
	return 1;
}

int
ctl_blocker_add(struct ctl_blocker *bl, const struct ctl_store_block *b, struct ctl_store_ticket *t)
{
	if (b->family != 4 && b->family != 6)
		return -EINVAL;
	return put(bl, b, t);
}

int
ctl_blocker_remove(struct ctl_blocker *bl, uint8_t family, const uint8_t *addr)
{
	struct block_key k = key_of(family, addr);
	struct ctl_store_block *e = ctl_map_find(bl->map, &k);
	struct ctl_store_block copy;

	if (e == NULL)
		return -ENOENT;
	copy = *e;
	ctl_map_del(bl->map, &k);
	if (bl->s != NULL)
		ctl_store_del_block(bl->s, family, addr);
	if (bl->push != NULL)
		bl->push(&copy, false, bl->arg);
	return 0;
}

unsigned
ctl_blocker_expire(struct ctl_blocker *bl, uint64_t now_ms)
{
	struct ctl_store_block due[64];
	unsigned n, total = 0;

	/* Collect a batch, then remove: deleting while walking may skip entries. */
	do {
		uint32_t it = 0;
		const void *k;
		void *v;

		n = 0;
		while (n < 64 && ctl_map_next(bl->map, &it, &k, &v)) {
			const struct ctl_store_block *e = v;

			if (e->expires_ms != 0 && e->expires_ms <= now_ms)
				due[n++] = *e;
		}
		for (unsigned i = 0; i < n; i++)
			ctl_blocker_remove(bl, due[i].family, due[i].addr);
		total += n;
	} while (n == 64);
	return total;
}

bool
ctl_blocker_contains(
		const struct ctl_blocker *bl, uint8_t family, const uint8_t *addr, uint64_t now_ms)
{
	struct block_key k = key_of(family, addr);
	const struct ctl_store_block *e = ctl_map_find(bl->map, &k);

	return e != NULL && (e->expires_ms == 0 || e->expires_ms > now_ms);
}

uint32_t
ctl_blocker_count(const struct ctl_blocker *bl)
{
	return ctl_map_count(bl->map);
}
