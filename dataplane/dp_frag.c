/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "dp_crc.h"
#include "dp_frag.h"

#define AGE_BATCH     16
#define LAST_GRACE_NS 1000000000ULL

struct frag_key {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t id;
	uint8_t proto;
	uint8_t family;
	uint8_t pad[10];
};

_Static_assert(sizeof(struct frag_key) == 48, "fragment keys are compared as 48 bytes");

/* Bytes [lo, hi) of the datagram's data a fragment carried, and their CRC (later ones). */
struct frag_range {
	uint32_t lo, hi, crc;
};

struct frag_entry {
	uint64_t expire_ns; /* 0: free */
	int32_t flow_pos;
	uint32_t flow_id;
	uint32_t n; /* ranges kept: the first fragment's, then later ones' */
	struct frag_range r[1 + DP_FRAG_RANGES];
};

struct dp_frag_table {
	struct rte_hash *hash;
	struct frag_entry *e;
	uint32_t max;
	uint32_t cursor;
	uint32_t live; /* entries in use: none, and aging has nothing to look at */
	uint64_t timeout_ns;
	struct dp_frag_counters ctr;
};

struct dp_frag_table *
dp_frag_table_create(unsigned worker, uint32_t max, uint64_t timeout_ns, int socket)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = max < 8 ? 8 : max,
		.key_len = sizeof(struct frag_key),
		.hash_func = rte_hash_crc,
		.socket_id = socket,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	struct dp_frag_table *t;

	t = rte_zmalloc_socket("dp_frag", sizeof(*t), RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	snprintf(name, sizeof(name), "vg_frags_%u", worker);
	t->max = hp.entries;
	t->timeout_ns = timeout_ns;
	t->hash = rte_hash_create(&hp);
	t->e = rte_zmalloc_socket("dp_frag_e", (size_t)t->max * sizeof(*t->e), 0, socket);
	if (t->hash == NULL || t->e == NULL) {
		dp_frag_table_free(t);
		rte_errno = ENOMEM;
		return NULL;
	}
	return t;
}

void
dp_frag_table_free(struct dp_frag_table *t)
{
	if (t == NULL)
		return;
	rte_hash_free(t->hash);
	rte_free(t->e);
	rte_free(t);
}

static void
make_key(const struct dp_pkt *p, struct frag_key *k)
{
	memcpy(k->src, p->src, 16);
	memcpy(k->dst, p->dst, 16);
	k->id = p->frag_id;
	k->proto = p->proto;
	k->family = p->l3;
	memset(k->pad, 0, sizeof(k->pad));
}

static void
forget(struct dp_frag_table *t, int32_t pos)
{
	const void *k;
	struct frag_key copy;

	if (rte_hash_get_key_with_position(t->hash, pos, (void **)(uintptr_t)&k) == 0) {
		memcpy(&copy, k, sizeof(copy));
		rte_hash_del_key(t->hash, &copy);
	}
	t->live -= t->e[pos].expire_ns != 0;
	t->e[pos].expire_ns = 0;
}

void
dp_frag_remember(struct dp_frag_table *t, const struct dp_pkt *p, int32_t flow_pos,
		uint32_t flow_id, uint64_t now)
{
	struct frag_key k;
	int32_t pos;

	make_key(p, &k);
	pos = rte_hash_add_key(t->hash, &k);
	if (pos < 0) {
		t->ctr.table_full++;
		return;
	}
	t->live += t->e[pos].expire_ns == 0;
	t->e[pos].expire_ns = now + t->timeout_ns;
	t->e[pos].flow_pos = flow_pos;
	t->e[pos].flow_id = flow_id;
	t->e[pos].n = 1;
	t->e[pos].r[0] = (struct frag_range){ 0, p->l3_end - p->l4_off, 0 };
	t->ctr.tracked++;
}

/*
 * Compare a later fragment's bytes [lo, hi) (CRC crc) with what the datagram's fragments
 * carried so far, and keep its range while there is room. Returns 1 for an overlap, 0 for new
 * bytes, -1 for an exact repeat of an earlier later fragment.
 */
static int
frag_overlap(struct frag_entry *e, uint32_t lo, uint32_t hi, uint32_t crc)
{
	for (uint32_t i = 0; i < e->n; i++) {
		if (i > 0 && e->r[i].lo == lo && e->r[i].hi == hi && e->r[i].crc == crc)
			return -1;
		if (lo < e->r[i].hi && e->r[i].lo < hi)
			return 1;
	}
	if (e->n < 1 + DP_FRAG_RANGES)
		e->r[e->n++] = (struct frag_range){ lo, hi, crc };
	return 0;
}

bool
dp_frag_find(struct dp_frag_table *t, const struct dp_pkt *p, const uint8_t *frame, uint32_t seg,
		int32_t *flow_pos, uint32_t *flow_id, uint64_t now, bool *overlap)
{
	struct frag_key k;
	int32_t pos;

	make_key(p, &k);
	pos = rte_hash_lookup(t->hash, &k);
	if (pos >= 0 && now >= t->e[pos].expire_ns) {
		forget(t, pos);
		t->ctr.expired++;
		pos = -1;
	}
	if (pos < 0) {
		t->ctr.orphans++;
		return false;
	}
	*flow_pos = t->e[pos].flow_pos;
	*flow_id = t->e[pos].flow_id;
	t->ctr.matched++;
	const uint32_t len = p->l3_end > p->l4_off ? p->l3_end - p->l4_off : 0;
	const uint32_t have = seg > p->l4_off ? seg - p->l4_off : 0;
	const uint32_t n = len < have ? len : have;
	const uint32_t crc = n > 0 ? dp_crc32c(frame + p->l4_off, n, 0) : 0;

	switch (frag_overlap(&t->e[pos], p->frag_offset, p->frag_offset + len, crc)) {
	case 1:
		t->ctr.overlaps++;
		*overlap = true;
		break;
	case -1:
		t->ctr.duplicates++;
		/* fall through */
	default:
		*overlap = false;
	}
	/* After the last fragment only reordered middle ones can follow: keep the entry a
	 * short while for them instead of the full timeout. */
	if (!p->frag_more && t->e[pos].expire_ns > now + LAST_GRACE_NS)
		t->e[pos].expire_ns = now + LAST_GRACE_NS;
	return true;
}

void
dp_frag_age(struct dp_frag_table *t, uint64_t now)
{
	/* Without fragments (nearly all traffic) the sweep would read 16 cold entries a loop. */
	if (t->live == 0)
		return;
	for (unsigned i = 0; i < AGE_BATCH; i++) {
		struct frag_entry *e = &t->e[t->cursor];

		if (e->expire_ns != 0 && now >= e->expire_ns) {
			forget(t, (int32_t)t->cursor);
			t->ctr.expired++;
		}
		if (++t->cursor >= t->max)
			t->cursor = 0;
	}
}

const struct dp_frag_counters *
dp_frag_counters(const struct dp_frag_table *t)
{
	return &t->ctr;
}
