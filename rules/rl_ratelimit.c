/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "rl_ratelimit.h"

int
rl_tb_params_init(struct rl_tb_params *tp, const struct rl_rate *r, unsigned share)
{
	uint64_t rate, burst;

	if (r->rate == 0 || r->burst == 0)
		return -EINVAL;
	if (share == 0)
		share = 1;
	rate = r->rate / share;
	burst = r->burst / share;
	tp->bits = r->unit == RL_RATE_BPS;
	tp->rate = rate > 0 ? rate : 1;
	/* The burst is in packets or bytes; the bucket counts packets or bits. */
	tp->cap = (burst > 0 ? burst : 1) * (tp->bits ? 8 : 1) * RL_NS_PER_S;
	tp->fill_ns = tp->cap / tp->rate + 1;
	return 0;
}

/* Hash key: 24 bytes, no padding left undefined. */
struct src_key {
	uint32_t rule;
	uint8_t family;
	uint8_t pad[3];
	uint8_t addr[16];
};

struct src_entry {
	struct rl_tb tb;
	struct src_key key;
	uint64_t fill_ns; /* of the rule that made it, to tell a stale entry */
	bool used;
};

struct rl_src_table {
	struct rte_hash *h;
	struct src_entry *e;
	uint32_t cap;
	uint32_t hand;
	struct rl_src_stats st;
};

/* Entries looked at when the table is full. */
#define EVICT_PROBES 8

struct rl_src_table *
rl_src_table_create(const char *name, uint32_t entries, int socket)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = entries < 8 ? 8 : entries,
		.key_len = sizeof(struct src_key),
		.hash_func = rte_hash_crc,
		.socket_id = socket,
		/* The extendable table lets every one of 'entries' slots be used. */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	struct rl_src_table *t = rte_zmalloc_socket("rl_src_table", sizeof(*t), 0, socket);

	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	t->cap = hp.entries;
	t->st.capacity = t->cap;
	t->e = rte_zmalloc_socket("rl_src_entries", (size_t)t->cap * sizeof(*t->e),
			RTE_CACHE_LINE_SIZE, socket);
	t->h = rte_hash_create(&hp);
	if (t->e == NULL || t->h == NULL) {
		int err = t->h == NULL ? rte_errno : ENOMEM;

		rl_src_table_free(t);
		rte_errno = err;
		return NULL;
	}
	return t;
}

void
rl_src_table_free(struct rl_src_table *t)
{
	if (t == NULL)
		return;
	rte_hash_free(t->h);
	rte_free(t->e);
	rte_free(t);
}

/* Free one slot: the least recently used of a few under the clock hand. */
static void
evict(struct rl_src_table *t, uint64_t now_ns)
{
	uint32_t best = UINT32_MAX;

	for (unsigned i = 0; i < EVICT_PROBES; i++) {
		uint32_t pos = t->hand;

		t->hand = t->hand + 1 == t->cap ? 0 : t->hand + 1;
		if (!t->e[pos].used)
			continue;
		if (best == UINT32_MAX || t->e[pos].tb.last_ns < t->e[best].tb.last_ns)
			best = pos;
	}
	if (best == UINT32_MAX)
		return;
	struct src_entry *e = &t->e[best];
	if (now_ns - e->tb.last_ns >= e->fill_ns || now_ns < e->tb.last_ns)
		t->st.reused_stale++;
	else
		t->st.evicted_live++;
	rte_hash_del_key(t->h, &e->key);
	e->used = false;
	t->st.entries--;
}

bool
rl_src_take(struct rl_src_table *t, uint32_t rule, const struct rl_tb_params *tp, uint8_t family,
		const uint8_t *addr, uint64_t now_ns, uint32_t pkt_len)
{
	struct src_key k;
	int32_t pos;

	memset(&k, 0, sizeof(k));
	k.rule = rule;
	k.family = family;
	memcpy(k.addr, addr, family == 4 ? 4 : 16);
	pos = rte_hash_lookup(t->h, &k);
	if (pos < 0) {
		pos = rte_hash_add_key(t->h, &k);
		for (unsigned tries = 0; pos == -ENOSPC && tries < 4; tries++) {
			evict(t, now_ns);
			pos = rte_hash_add_key(t->h, &k);
		}
		if (pos < 0 || (uint32_t)pos >= t->cap)
			return false; /* cannot track the source: limit it rather than let it
					 through */
		t->e[pos].key = k;
		t->e[pos].used = true;
		t->e[pos].fill_ns = tp->fill_ns;
		rl_tb_reset(&t->e[pos].tb, tp, now_ns);
		t->st.inserts++;
		t->st.entries++;
	}
	return rl_tb_take(&t->e[pos].tb, tp, now_ns, pkt_len);
}

void
rl_src_table_stats(const struct rl_src_table *t, struct rl_src_stats *out)
{
	*out = t->st;
}
