/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_random.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "dp_crc.h"
#include "dp_flow.h"

/* Slots sampled when the table is full, looking for a flow to evict: groups of 8, and more
 * groups while every flow sampled is protected (at most EVICT_GROUPS: a flood against a table
 * of protected connections costs that many lines per new flow, no more). */
#define EVICT_SAMPLE 8
#define EVICT_GROUPS 4

/* Aging visits every slot at least once per this much dataplane time. */
#define AGE_SWEEP_NS 1000000000ULL

/* How long a flush waits for control to drain the event ring. */
#define FLUSH_WAIT_S 2

/* Keys per bucket slot: 8 slots for every 7 entries keeps buckets below 88% full, where
 * placement by moving one or two keys practically never fails. */
#define ENTRIES_PER_BUCKET 7

/* Buckets a placement search visits at most (breadth first, a few moves deep). */
#define PLACE_NODES 64

/* End of a free list. */
#define NIL UINT32_MAX

/* A blocks: 64 hot lines then 64 cold records. */
#define BLOCK_BYTES (2u * DP_FLOW_COLD_OFF)

struct dp_flow_table {
	struct dp_flow_table_head h; /* first: read by the inline functions of dp_flow.h */
	struct dp_flow_params p;
	struct dp_evq *evq;
	dp_flow_end_hook end_hook;
	void *end_hook_arg;
	/*
	 * Free entries, in lists through their own hot lines (fl.next, fl.prev): single
	 * entries whose neighbour of the aligned pair is in use, and whole free pairs (by their
	 * even entry), which long keys need. Freeing the second half of a pair makes it a pair
	 * again.
	 */
	uint32_t free1;
	uint32_t free2;
	uint32_t age_cursor;
	/* Where eviction samples next: its own cursor, so that which flow a creation evicts
	 * depends only on the table, not on how many loops aging ran (replays at any burst
	 * size evict the same flows). A group of entries that are all protected sends the
	 * search a stride away (coprime with the entry count, about 0.618 of it), so that flows
	 * created together (a block of connections) cannot make every sample. */
	uint32_t evict_cursor;
	uint32_t evict_stride;
	uint32_t next_id;
	uint64_t last_age_ns;
	uint64_t sweep_rate; /* slots per ns of the clock-paced sweep, 32.32 fixed point */
	uint64_t sweep_frac; /* the fraction of a slot carried to the next call */
	size_t mem_bytes;
	struct dp_flow_counters ctr;
};

_Static_assert(sizeof(struct dp_flow_key) == 48, "wide keys are 48 bytes");
_Static_assert(sizeof(struct dp_flow_key6) == 44, "long keys are 44 bytes");
_Static_assert(sizeof(struct dp_flow_lkey) == 64, "a lookup key is one cache line");
_Static_assert(sizeof(struct dp_flow_hot) == 64, "a hot line is one cache line");
_Static_assert(sizeof(struct dp_flow) == 64, "a cold record is one cache line");
_Static_assert(sizeof(struct dp_flow_bucket) == 64, "a bucket is one cache line");
_Static_assert(offsetof(struct dp_flow_table, h) == 0, "the head comes first");

static const char *const end_names[] = {
	[DP_END_NONE] = "none",
	[DP_END_FIN] = "fin",
	[DP_END_RST] = "rst",
	[DP_END_TIMEOUT] = "timeout",
	[DP_END_EVICTED] = "evicted",
	[DP_END_SHUTDOWN] = "shutdown",
	[DP_END_FLUSHED] = "flushed",
};

const char *
dp_end_reason_name(enum dp_end_reason r)
{
	return (unsigned)r <= DP_END_FLUSHED ? end_names[r] : "?";
}

static const char *const overflow_names[] = {
	[DP_OVERFLOW_NO_EVICT] = "no_evict",
	[DP_OVERFLOW_PROTECTED] = "protected",
	[DP_OVERFLOW_BUCKETS] = "buckets",
};

const char *
dp_flow_overflow_name(enum dp_flow_overflow r)
{
	return (unsigned)r < DP_OVERFLOW__COUNT ? overflow_names[r] : "?";
}

static const char *const evict_class_names[] = {
	[DP_EVICT_CLOSED] = "closed",
	[DP_EVICT_UNANSWERED] = "unanswered",
	[DP_EVICT_IDLE] = "idle",
	[DP_EVICT_PROTECTED] = "protected",
};

const char *
dp_flow_evict_class_name(enum dp_flow_evict_class c)
{
	return (unsigned)c < DP_EVICT__COUNT ? evict_class_names[c] : "?";
}

static inline struct dp_flow_hot *
hot(const struct dp_flow_table *t, uint32_t i)
{
	return dp_flow_hot_at(t, (int32_t)i);
}

static inline struct dp_flow *
cold(const struct dp_flow_table *t, uint32_t i)
{
	return dp_flow_at(t, (int32_t)i);
}

/* ---- free entries ---- */

static inline bool
line_free(const struct dp_flow_hot *h)
{
	return !h->live && !h->tail;
}

static void
push1(struct dp_flow_table *t, uint32_t i)
{
	struct dp_flow_hot *h = hot(t, i);

	memset(h, 0, sizeof(*h));
	h->fl.next = t->free1;
	h->fl.prev = NIL;
	if (t->free1 != NIL)
		hot(t, t->free1)->fl.prev = i;
	t->free1 = i;
}

static void
unlink1(struct dp_flow_table *t, uint32_t i)
{
	struct dp_flow_hot *h = hot(t, i);
	uint32_t next = h->fl.next, prev = h->fl.prev;

	if (prev != NIL)
		hot(t, prev)->fl.next = next;
	else
		t->free1 = next;
	if (next != NIL)
		hot(t, next)->fl.prev = prev;
}

static void
push2(struct dp_flow_table *t, uint32_t i)
{
	memset(hot(t, i), 0, 2 * sizeof(struct dp_flow_hot));
	hot(t, i)->fl.next = t->free2;
	t->free2 = i;
}

/* An entry for an IPv4 key: a single one, or half of a free pair (the other half is kept). */
static int32_t
alloc1(struct dp_flow_table *t)
{
	uint32_t i = t->free1;

	if (i != NIL) {
		unlink1(t, i);
		return (int32_t)i;
	}
	i = t->free2;
	if (i == NIL)
		return -1;
	t->free2 = hot(t, i)->fl.next;
	push1(t, i + 1);
	return (int32_t)i;
}

/* Two entries for a long key: a free aligned pair. */
static int32_t
alloc2(struct dp_flow_table *t)
{
	uint32_t i = t->free2;

	if (i == NIL)
		return -1;
	t->free2 = hot(t, i)->fl.next;
	return (int32_t)i;
}

static void
release(struct dp_flow_table *t, uint32_t i, bool is_long)
{
	uint32_t j = i ^ 1;

	if (is_long) {
		push2(t, i);
		return;
	}
	if (line_free(hot(t, j))) {
		unlink1(t, j);
		push2(t, i & ~1u);
	} else {
		push1(t, i);
	}
}

/* ---- keys ---- */

/* The stored key of an entry, as words (the layout of struct dp_flow_lkey). */
static inline void
stored_words(const struct dp_flow_table *t, uint32_t i, uint64_t *w, bool *is_long)
{
	const struct dp_flow_hot *h = hot(t, i);

	memcpy(w, h->head, 16);
	*is_long = h->is_long;
	if (h->is_long) {
		w[5] = 0;
		memcpy(&w[2], hot(t, i + 1), 28);
	}
}

static inline uint64_t
stored_hash(const struct dp_flow_table *t, uint32_t i)
{
	uint64_t w[6];
	bool lng;

	stored_words(t, i, w, &lng);
	return dp_flow_hash(t, w, lng);
}

static inline uint8_t
key_proto(const struct dp_flow_lkey *k)
{
	return (uint8_t)(k->is_long ? k->w[4] >> 32 : k->w[1] >> 32);
}

static inline unsigned
kind_of(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return DP_FK_TCP;
	case IPPROTO_UDP:
		return DP_FK_UDP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return DP_FK_ICMP;
	default:
		return DP_FK_OTHER;
	}
}

/* Is the key of the entry whose hot line is h k's? */
static inline bool
key_eq_h(const struct dp_flow_hot *h, const struct dp_flow_lkey *k)
{
	uint64_t h0, h1;

	memcpy(&h0, h->head, 8);
	memcpy(&h1, h->head + 8, 8);
	if (((h0 ^ k->w[0]) | (h1 ^ k->w[1])) != 0 || h->is_long != k->is_long)
		return false;
	if (likely(!k->is_long))
		return true;

	const uint8_t *tl = (const uint8_t *)(h + 1); /* same block: i is even */
	uint64_t t0, t1, t2;
	uint32_t t3;

	memcpy(&t0, tl, 8);
	memcpy(&t1, tl + 8, 8);
	memcpy(&t2, tl + 16, 8);
	memcpy(&t3, tl + 24, 4);
	return ((t0 ^ k->w[2]) | (t1 ^ k->w[3]) | (t2 ^ k->w[4]) | (t3 ^ (uint32_t)k->w[5])) == 0;
}

static inline bool
key_eq(const struct dp_flow_table *t, uint32_t i, const struct dp_flow_lkey *k)
{
	return key_eq_h(hot(t, i), k);
}

static inline void
key_store(struct dp_flow_table *t, uint32_t i, const struct dp_flow_lkey *k)
{
	struct dp_flow_hot *h = hot(t, i);

	memcpy(h->head, k->w, 16);
	h->is_long = k->is_long;
	if (k->is_long) {
		struct dp_flow_hot *tl = hot(t, i + 1);

		memset(tl, 0, sizeof(*tl));
		memcpy(tl, &k->w[2], 28);
		tl->tail = 1;
	}
}

void
dp_flow_lkey_from_key(const struct dp_flow_table *t, const struct dp_flow_key *k,
		struct dp_flow_lkey *out)
{
	uint32_t pv = (uint32_t)k->proto | (k->vlan & 0xfff) << 8 | ((k->vlan >> 12) & 0xfff) << 20;

	memset(out, 0, sizeof(*out));
	if (k->family == DP_L3_IPV4 && k->vlan3 == 0) {
		uint32_t a, b;

		memcpy(&a, k->a, 4);
		memcpy(&b, k->b, 4);
		out->w[0] = k->a_port | (uint64_t)a << 16 | (uint64_t)k->b_port << 48;
		out->w[1] = b | (uint64_t)pv << 32;
	} else {
		memcpy(&out->w[0], k->a, 16);
		memcpy(&out->w[2], k->b, 16);
		out->w[4] = k->a_port | (uint32_t)k->b_port << 16 | (uint64_t)pv << 32;
		out->w[5] = (uint64_t)k->vlan3 | (uint64_t)k->family << 16;
		out->is_long = 1;
	}
	dp_flow_lkey_finish(t, out);
}

void
dp_flow_key_get(const struct dp_flow_table *t, int32_t pos, struct dp_flow_key *out)
{
	uint64_t w[6];
	bool lng;
	uint32_t pv, ports;

	stored_words(t, (uint32_t)pos, w, &lng);
	memset(out, 0, sizeof(*out));
	if (!lng) {
		uint32_t a = (uint32_t)(w[0] >> 16), b = (uint32_t)w[1];

		memcpy(out->a, &a, 4);
		memcpy(out->b, &b, 4);
		ports = (uint32_t)(w[0] & 0xffff) | (uint32_t)(w[0] >> 48) << 16;
		pv = (uint32_t)(w[1] >> 32);
		out->family = DP_L3_IPV4;
	} else {
		memcpy(out->a, &w[0], 16);
		memcpy(out->b, &w[2], 16);
		ports = (uint32_t)w[4];
		pv = (uint32_t)(w[4] >> 32);
		out->vlan3 = (uint16_t)w[5];
		out->family = (uint8_t)(w[5] >> 16);
	}
	out->a_port = (uint16_t)ports;
	out->b_port = (uint16_t)(ports >> 16);
	out->proto = (uint8_t)pv;
	out->vlan = ((pv >> 8) & 0xfff) | ((pv >> 20) & 0xfff) << 12;
}

/* ---- buckets ---- */

/* Two bits per slot whose signature is sig. */
static inline unsigned
sig_mask(const struct dp_flow_bucket *b, uint16_t sig)
{
#ifdef __SSE2__
	__m128i v = _mm_load_si128((const __m128i *)b->sig);

	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi16(v, _mm_set1_epi16((short)sig)));
#else
	unsigned m = 0;

	for (unsigned s = 0; s < DP_FLOW_BUCKET_SLOTS; s++)
		if (b->sig[s] == sig)
			m |= 3u << (2 * s);
	return m;
#endif
}

static inline int
free_slot(const struct dp_flow_bucket *b)
{
	unsigned m = sig_mask(b, 0);

	return m ? (int)(__builtin_ctz(m) >> 1) : -1;
}

static inline void
moved_add(struct dp_flow_bucket *b, int d)
{
	/* Saturated, it stays: a bucket that says "look at the secondary too" is only slower. */
	if (b->moved != UINT16_MAX && (d > 0 || b->moved > 0))
		b->moved = (uint16_t)(b->moved + d);
}

static int32_t
find_in(const struct dp_flow_table *t, const struct dp_flow_bucket *b, const struct dp_flow_lkey *k)
{
	unsigned m = sig_mask(b, k->sig);

	while (m != 0) {
		unsigned s = (unsigned)__builtin_ctz(m) >> 1;

		m &= ~(3u << (2 * s));
		if (key_eq(t, b->idx[s], k))
			return (int32_t)b->idx[s];
	}
	return -1;
}

int32_t
dp_flow_find(const struct dp_flow_table *t, const struct dp_flow_lkey *k)
{
	const struct dp_flow_bucket *b1 = &t->h.buckets[k->bucket];
	int32_t pos = find_in(t, b1, k);
	uint32_t b2;

	if (pos >= 0 || b1->moved == 0)
		return pos;
	b2 = dp_flow_bucket2(t, k->hash);
	return b2 == k->bucket ? -1 : find_in(t, &t->h.buckets[b2], k);
}

int32_t
dp_flow_lookup(struct dp_flow_table *t, const struct dp_flow_key *k)
{
	struct dp_flow_lkey lk;

	dp_flow_lkey_from_key(t, k, &lk);
	return dp_flow_find(t, &lk);
}

/* Candidates of the lookup pipeline besides an entry index. */
#define CAND_MISS NIL	     /* no signature, nothing moved out: not there */
#define CAND_SLOW (NIL - 1u) /* look in the secondary bucket too */

void
dp_flow_lookup_burst(struct dp_flow_table *t, const struct dp_flow_lkey *keys, unsigned n,
		int32_t *pos, struct dp_flow_hot **hl)
{
	struct dp_flow_hot *ch[64];
	uint32_t cand[64];

	for (unsigned base = 0; base < n; base += 64) {
		unsigned m = n - base < 64 ? n - base : 64;
		const struct dp_flow_lkey *k = keys + base;
		int32_t *out = pos + base;

		/* Signatures of the primary buckets (prefetched when the keys were made); the
		 * first candidate's hot line (two for a long key) is asked for at once. */
		for (unsigned j = 0; j < m; j++) {
			const struct dp_flow_bucket *b = &t->h.buckets[k[j].bucket];
			unsigned sm = sig_mask(b, k[j].sig);

			if (likely(sm != 0)) {
				uint32_t i = b->idx[__builtin_ctz(sm) >> 1];
				struct dp_flow_hot *h = hot(t, i);

				cand[j] = i;
				ch[j] = h;
				rte_prefetch0(h);
				if (k[j].is_long)
					rte_prefetch0(h + 1);
			} else {
				cand[j] = b->moved ? CAND_SLOW : CAND_MISS;
			}
		}
		/* Keys against the candidates; anything else the whole way. */
		for (unsigned j = 0; j < m; j++) {
			int32_t p;

			if (likely(cand[j] < CAND_SLOW) && key_eq_h(ch[j], &k[j])) {
				out[j] = (int32_t)cand[j];
				if (hl != NULL)
					hl[base + j] = ch[j];
				continue;
			}
			p = cand[j] == CAND_MISS ? -1 : dp_flow_find(t, &k[j]);
			out[j] = p;
			if (hl != NULL)
				hl[base + j] = p >= 0 ? hot(t, (uint32_t)p) : NULL;
		}
	}
}

/* Move the key in (from, fs) to (to, ts), keeping the primaries' counts of moved keys. */
static void
move_slot(struct dp_flow_table *t, uint32_t from, unsigned fs, uint32_t to, unsigned ts)
{
	struct dp_flow_bucket *bf = &t->h.buckets[from], *bt = &t->h.buckets[to];
	uint32_t i = bf->idx[fs];
	uint32_t prim = dp_flow_bucket1(t, stored_hash(t, i));

	bt->sig[ts] = bf->sig[fs];
	bt->idx[ts] = i;
	bf->sig[fs] = 0;
	if (from == prim && to != prim)
		moved_add(&t->h.buckets[prim], 1);
	else if (to == prim && from != prim)
		moved_add(&t->h.buckets[prim], -1);
	t->ctr.bucket_moves++;
}

static inline void
put_slot(struct dp_flow_table *t, uint32_t b, unsigned s, uint32_t i, uint16_t sig, uint32_t prim)
{
	t->h.buckets[b].sig[s] = sig;
	t->h.buckets[b].idx[s] = i;
	if (b != prim)
		moved_add(&t->h.buckets[prim], 1);
}

struct place_node {
	uint32_t bucket;
	int16_t parent; /* -1: one of the key's own buckets */
	uint8_t slot;	/* the parent's slot whose key moves here */
};

static bool
on_path(const struct place_node *q, int n, uint32_t bucket)
{
	for (; n >= 0; n = q[n].parent)
		if (q[n].bucket == bucket)
			return true;
	return false;
}

/*
 * Put entry i (hash h, signature sig) in a bucket: the primary if it has room, else the
 * secondary, else make room by moving keys to their other bucket (breadth first, so the
 * fewest moves). Returns 0, or -ENOSPC.
 */
static int
bucket_insert(struct dp_flow_table *t, uint32_t i, uint64_t h, uint16_t sig)
{
	uint32_t b1 = dp_flow_bucket1(t, h), b2 = dp_flow_bucket2(t, h);
	struct place_node q[PLACE_NODES];
	int nq = 0, s;

	s = free_slot(&t->h.buckets[b1]);
	if (s >= 0) {
		put_slot(t, b1, (unsigned)s, i, sig, b1);
		return 0;
	}
	s = free_slot(&t->h.buckets[b2]);
	if (s >= 0) {
		put_slot(t, b2, (unsigned)s, i, sig, b1);
		return 0;
	}
	q[nq++] = (struct place_node){ b1, -1, 0 };
	if (b2 != b1)
		q[nq++] = (struct place_node){ b2, -1, 0 };
	for (int qi = 0; qi < nq; qi++) {
		const struct dp_flow_bucket *b = &t->h.buckets[q[qi].bucket];

		for (unsigned k = 0; k < DP_FLOW_BUCKET_SLOTS; k++) {
			uint64_t ho = stored_hash(t, b->idx[k]);
			uint32_t p1 = dp_flow_bucket1(t, ho), p2 = dp_flow_bucket2(t, ho);
			uint32_t alt = q[qi].bucket == p1 ? p2 : p1;

			if (alt == q[qi].bucket || on_path(q, qi, alt))
				continue;
			s = free_slot(&t->h.buckets[alt]);
			if (s < 0) {
				if (nq < PLACE_NODES)
					q[nq++] = (struct place_node){ alt, (int16_t)qi,
						(uint8_t)k };
				continue;
			}
			/* Room at the end of this path: move each key one step down it. */
			move_slot(t, q[qi].bucket, k, alt, (unsigned)s);
			unsigned freed = k;
			int cur = qi;

			while (q[cur].parent >= 0) {
				int par = q[cur].parent;

				move_slot(t, q[par].bucket, q[cur].slot, q[cur].bucket, freed);
				freed = q[cur].slot;
				cur = par;
			}
			put_slot(t, q[cur].bucket, freed, i, sig, b1);
			return 0;
		}
	}
	return -ENOSPC;
}

static void
bucket_delete(struct dp_flow_table *t, uint32_t i)
{
	uint64_t h = stored_hash(t, i);
	uint32_t b1 = dp_flow_bucket1(t, h), b2 = dp_flow_bucket2(t, h);
	struct dp_flow_bucket *b = &t->h.buckets[b1];

	for (unsigned s = 0; s < DP_FLOW_BUCKET_SLOTS; s++)
		if (b->sig[s] != 0 && b->idx[s] == i) {
			b->sig[s] = 0;
			return;
		}
	b = &t->h.buckets[b2];
	for (unsigned s = 0; s < DP_FLOW_BUCKET_SLOTS; s++)
		if (b->sig[s] != 0 && b->idx[s] == i) {
			b->sig[s] = 0;
			moved_add(&t->h.buckets[b1], -1);
			return;
		}
}

/* ---- the table ---- */

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t
gcd(uint32_t a, uint32_t b)
{
	while (b != 0) {
		uint32_t r = a % b;

		a = b;
		b = r;
	}
	return a;
}

static void
timeouts_init(struct dp_flow_table *t)
{
	const struct dp_flow_timeouts *to = &t->p.timeouts;

	for (unsigned s = 0; s < 16; s++) {
		uint64_t v;

		switch (s) {
		case DP_TCP_ESTABLISHED:
			v = to->tcp_established;
			break;
		case DP_TCP_FIN_WAIT:
		case DP_TCP_CLOSE_WAIT:
		case DP_TCP_LAST_ACK:
			v = to->tcp_closing;
			break;
		case DP_TCP_TIME_WAIT:
			v = to->tcp_time_wait;
			break;
		case DP_TCP_CLOSED:
			v = to->tcp_closed;
			break;
		default:
			v = to->tcp_syn;
			break;
		}
		t->h.timeout[DP_FK_TCP << 4 | s] = v;
		t->h.timeout[DP_FK_UDP << 4 | s] = to->udp;
		t->h.timeout[DP_FK_ICMP << 4 | s] = to->icmp;
		t->h.timeout[DP_FK_OTHER << 4 | s] = to->other;
	}
}

struct dp_flow_table *
dp_flow_table_create(const struct dp_flow_params *p)
{
	struct dp_flow_table *t;
	uint32_t n, blocks;
	uint64_t seed;

	t = rte_zmalloc_socket("dp_flow_table", sizeof(*t), RTE_CACHE_LINE_SIZE, p->socket);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	t->p = *p;
	/* Long keys take aligned pairs: an even number of entries. */
	n = p->max_flows < 8 ? 8 : p->max_flows;
	n += n & 1;
	t->p.max_flows = n;
	if (t->p.aging_batch == 0)
		t->p.aging_batch = 8;
	if (t->p.evict_idle_ns == 0)
		t->p.evict_idle_ns = DP_FLOW_EVICT_IDLE_NS;
	t->sweep_rate = ((uint64_t)n << 32) / AGE_SWEEP_NS;
	t->evict_stride = (uint32_t)((uint64_t)n * 2654435769u >> 32) | 1;
	while (gcd(t->evict_stride, n) != 1)
		t->evict_stride += 2;
	blocks = (n + (1u << DP_FLOW_BLOCK_SHIFT) - 1) >> DP_FLOW_BLOCK_SHIFT;
	t->h.n_entries = n;
	t->h.n_buckets = (n + ENTRIES_PER_BUCKET - 1) / ENTRIES_PER_BUCKET;
	t->h.mem = rte_zmalloc_socket(
			"dp_flows", (size_t)blocks * BLOCK_BYTES, RTE_CACHE_LINE_SIZE, p->socket);
	t->h.buckets = rte_zmalloc_socket("dp_flow_buckets",
			(size_t)t->h.n_buckets * sizeof(struct dp_flow_bucket), RTE_CACHE_LINE_SIZE,
			p->socket);
	if (t->h.mem == NULL || t->h.buckets == NULL) {
		dp_flow_table_free(t);
		rte_errno = ENOMEM;
		return NULL;
	}
	t->mem_bytes = (size_t)blocks * BLOCK_BYTES +
		       (size_t)t->h.n_buckets * sizeof(struct dp_flow_bucket);
	seed = p->seed != 0 ? p->seed : rte_rand();
	for (unsigned i = 0; i < RTE_DIM(t->h.seed); i++)
		t->h.seed[i] = splitmix64(&seed);
	timeouts_init(t);
	/* Every pair free, the lowest handed out first. */
	t->free1 = NIL;
	t->free2 = NIL;
	for (uint32_t i = n; i >= 2; i -= 2)
		push2(t, i - 2);
	return t;
}

void
dp_flow_table_free(struct dp_flow_table *t)
{
	if (t == NULL)
		return;
	rte_free(t->h.mem);
	rte_free(t->h.buckets);
	rte_free(t);
}

size_t
dp_flow_table_memory(const struct dp_flow_table *t)
{
	return t->mem_bytes;
}

uint32_t
dp_flow_table_entries(const struct dp_flow_table *t)
{
	return t->h.n_entries;
}

void
dp_flow_set_evq(struct dp_flow_table *t, struct dp_evq *q)
{
	t->evq = q;
}

void
dp_flow_set_end_hook(struct dp_flow_table *t, dp_flow_end_hook fn, void *arg)
{
	t->end_hook = fn;
	t->end_hook_arg = arg;
}

const struct dp_flow_counters *
dp_flow_counters(const struct dp_flow_table *t)
{
	return &t->ctr;
}

void
dp_flow_describe(const struct dp_flow_table *t, int32_t pos, struct dp_event_flow *out)
{
	const struct dp_flow_hot *h = hot(t, (uint32_t)pos);
	const struct dp_flow *f = cold(t, (uint32_t)pos);
	uint64_t p0 = dp_flow_pkts(f, 0), p1 = dp_flow_pkts(f, 1), n = p0 + p1;
	double sum = (double)((uint64_t)f->pl_sum_hi << 32 | h->pl_sum);
	double sq = (double)((uint64_t)f->pl_sq_hi << 32 | h->pl_sq);
	uint64_t w[6], a[2], b[2];
	uint32_t pv, ports;
	bool lng;

	/* Straight from the stored words, both endpoints as 16 bytes each. */
	stored_words(t, (uint32_t)pos, w, &lng);
	if (!lng) {
		a[0] = (uint32_t)(w[0] >> 16);
		b[0] = (uint32_t)w[1];
		a[1] = b[1] = 0;
		ports = (uint32_t)(w[0] & 0xffff) | (uint32_t)(w[0] >> 48) << 16;
		pv = (uint32_t)(w[1] >> 32);
		out->family = DP_L3_IPV4;
	} else {
		a[0] = w[0];
		a[1] = w[1];
		b[0] = w[2];
		b[1] = w[3];
		ports = (uint32_t)w[4];
		pv = (uint32_t)(w[4] >> 32);
		out->family = (uint8_t)(w[5] >> 16);
	}
	out->proto = (uint8_t)pv;
	out->state = out->proto == IPPROTO_TCP ? h->tcp_state : 0;
	out->verdict = h->verdict;
	out->vlan = (uint16_t)((pv >> 8) & 0xfff);
	out->in_port = f->in_port;
	if (h->init_is_b) {
		memcpy(out->src, b, 16);
		memcpy(out->dst, a, 16);
		out->sport = (uint16_t)(ports >> 16);
		out->dport = (uint16_t)ports;
	} else {
		memcpy(out->src, a, 16);
		memcpy(out->dst, b, 16);
		out->sport = (uint16_t)ports;
		out->dport = (uint16_t)(ports >> 16);
	}
	out->tcp_flags[0] = h->tcp_flags[0];
	out->tcp_flags[1] = h->tcp_flags[1];
	out->would_drop = (h->flags & DP_FF_WOULD_DROP) != 0;
	out->app_proto = f->app_proto;
	out->rule_id = dp_flow_rule(h);
	out->epoch = h->epoch;
	out->first_ns = f->first_ns;
	out->last_ns = h->last_ns;
	out->pkts[0] = p0;
	out->pkts[1] = p1;
	out->bytes[0] = dp_flow_bytes(f, 0);
	out->bytes[1] = dp_flow_bytes(f, 1);
	/* Mean and variance from the integer sums, here rather than per packet, with one
	 * division: mean = sum / n, var = (sq - sum^2 / n) / (n - 1) = (n sq - sum^2) / (n (n-1)).
	 */
	if (n > 1) {
		double dn = (double)n, inv = 1.0 / (dn * (dn - 1.0));

		out->payload_mean = (float)(sum * (dn - 1.0) * inv);
		out->payload_var = (float)((dn * sq - sum * sum) * inv);
	} else {
		out->payload_mean = (float)sum;
		out->payload_var = 0.0f;
	}
	out->flow_id = f->id;
	out->mark = f->mark;
}

static struct dp_event *
emit(struct dp_flow_table *t, int32_t pos, uint8_t type, uint8_t reason, uint64_t now)
{
	struct dp_event *e;

	if (t->evq == NULL)
		return NULL;
	e = dp_evq_next(t->evq, type, now);
	e->reason = reason;
	dp_flow_describe(t, pos, &e->flow);
	if (hot(t, (uint32_t)pos)->kind == DP_FK_ICMP) {
		struct dp_flow_echo *x = &cold(t, (uint32_t)pos)->echo;

		/* What the echoes said since the previous event. */
		e->app.echo = (struct dp_event_echo){ x->req_compared, x->req_changed,
			x->rep_compared, x->rep_mismatched };
		x->req_compared = x->req_changed = x->rep_compared = x->rep_mismatched = 0;
	}
	return e;
}

static inline bool
closed(const struct dp_flow_hot *h)
{
	return h->kind == DP_FK_TCP &&
	       (h->tcp_state == DP_TCP_TIME_WAIT || h->tcp_state == DP_TCP_CLOSED);
}

static enum dp_end_reason
natural_end(const struct dp_flow_hot *h)
{
	if (h->kind == DP_FK_TCP && h->tcp_state == DP_TCP_TIME_WAIT)
		return DP_END_FIN;
	if (h->kind == DP_FK_TCP && h->tcp_state == DP_TCP_CLOSED)
		return DP_END_RST;
	return DP_END_TIMEOUT;
}

/* Emit the end event, update counters, and free the entry (and its key, unless keep_key). */
static void
end_flow(struct dp_flow_table *t, int32_t pos, enum dp_end_reason reason, uint64_t now,
		bool keep_key)
{
	struct dp_flow_hot *h = hot(t, (uint32_t)pos);
	bool lng = h->is_long;

	/* Every end has its start, even for a flow that ends in the burst that created it. */
	if (!(h->flags & DP_FF_STARTED))
		emit(t, pos, DP_EV_FLOW_START, DP_END_NONE, now);
	if (t->end_hook != NULL)
		t->end_hook(t->end_hook_arg, pos, cold(t, (uint32_t)pos), now);
	emit(t, pos, DP_EV_FLOW_END, (uint8_t)reason, now);
	t->ctr.active--;
	t->ctr.ended[reason]++;
	t->ctr.removed++;
	if (h->kind == DP_FK_TCP)
		t->ctr.per_state[h->tcp_state]--;
	if (lng)
		t->ctr.long_keys--;
	h->live = 0;
	if (!keep_key) {
		bucket_delete(t, (uint32_t)pos);
		release(t, (uint32_t)pos, lng);
		t->ctr.released++;
	}
}

/* Point the quick check of dp_flow_packet at the next update (at most 2^30 units ahead). */
static inline void
arm_update(struct dp_flow_hot *h, const struct dp_flow *f, uint64_t now)
{
	uint64_t nq = f->next_update_ns >> 20, now_q = now >> 20;

	if (nq > now_q + (1u << 30))
		nq = now_q + (1u << 30);
	h->next_update = (uint32_t)nq;
}

static void
init_flow(struct dp_flow_table *t, int32_t pos, unsigned init_is_b, uint16_t in_port, uint64_t now,
		unsigned kind)
{
	struct dp_flow_hot *h = hot(t, (uint32_t)pos);
	struct dp_flow *f = cold(t, (uint32_t)pos);
	uint8_t lng = h->is_long;

	/* Everything after the key. */
	memset((uint8_t *)h + sizeof(h->head), 0, sizeof(*h) - sizeof(h->head));
	h->is_long = lng;
	h->live = 1;
	h->kind = kind;
	h->init_is_b = init_is_b & 1;
	h->last_ns = now;
	h->rule_id = DP_FLOW_RULE_NONE;
	memset(f, 0, sizeof(*f));
	f->id = t->next_id++;
	f->det_slot = UINT32_MAX;
	f->first_ns = now;
	f->in_port = in_port;
	f->next_update_ns = t->p.update_interval_ns ? now + t->p.update_interval_ns : UINT64_MAX;
	arm_update(h, f, now);
	t->ctr.active++;
	t->ctr.created++;
	if (kind == DP_FK_TCP)
		t->ctr.per_state[DP_TCP_NONE]++;
	if (lng)
		t->ctr.long_keys++;
}

/*
 * Which flows a full table gives up first (enum dp_flow_evict_class): a flood of new flows
 * (SYNs, spoofed sources, one-way UDP) evicts its own kind and idle flows, never an answered
 * connection that is active. Answered: the responder has sent something (a flood of
 * mid-stream ACKs answers nothing) and, for TCP, the connection reached ESTABLISHED (a
 * handshake completed, or a mid-stream pick-up). The hot line's packet counts are the low 32
 * bits: a count that just wrapped to 0 reads as unanswered until the next packet.
 */
static inline unsigned
evict_class(const struct dp_flow_table *t, const struct dp_flow_hot *h, uint64_t now)
{
	if (closed(h) || now >= dp_flow_expiry(t, h))
		return DP_EVICT_CLOSED;
	if (h->pkts[0] == 0 || h->pkts[1] == 0 ||
			(h->kind == DP_FK_TCP && h->tcp_state < DP_TCP_ESTABLISHED))
		return DP_EVICT_UNANSWERED;
	if ((int64_t)(now - h->last_ns) >= (int64_t)t->p.evict_idle_ns)
		return DP_EVICT_IDLE;
	return DP_EVICT_PROTECTED;
}

/* The victim order: by class, then the least recently seen. */
static inline unsigned __int128
evict_rank(const struct dp_flow_table *t, const struct dp_flow_hot *h, uint64_t now)
{
	return (unsigned __int128)evict_class(t, h, now) << 64 | h->last_ns;
}

#define RANK_NONE ((unsigned __int128)DP_EVICT_PROTECTED << 64)

/* The first entry of eviction's sample group g: the cursor's next run of EVICT_SAMPLE entries
 * (the cursor moves on), then runs a stride apart from the previous group's. */
static inline uint32_t
evict_group(struct dp_flow_table *t, unsigned g, uint32_t prev)
{
	const uint32_t n = t->h.n_entries;
	uint32_t base;

	if (g == 0) {
		base = t->evict_cursor;
		t->evict_cursor = base + EVICT_SAMPLE >= n ? 0 : base + EVICT_SAMPLE;
		return base;
	}
	base = prev + t->evict_stride;
	if (base >= n)
		base -= n;
	return base & ~(uint32_t)(EVICT_SAMPLE - 1);
}

static void
evict(struct dp_flow_table *t, uint32_t victim, uint64_t now)
{
	t->ctr.evicted_by[evict_class(t, hot(t, victim), now)]++;
	end_flow(t, (int32_t)victim, DP_END_EVICTED, now, false);
}

/*
 * The table is full: end the first in victim order of a few sampled flows to make room.
 * Returns false when all of them (EVICT_GROUPS groups) are protected.
 */
static bool
evict_one(struct dp_flow_table *t, uint64_t now)
{
	uint32_t victim = NIL, base = 0;
	unsigned __int128 best = RANK_NONE;

	/* A group is 8 neighbouring entries: one 512-byte run of hot lines. */
	for (unsigned g = 0; g < EVICT_GROUPS && victim == NIL; g++) {
		base = evict_group(t, g, base);
		for (uint32_t i = base; i < base + EVICT_SAMPLE && i < t->h.n_entries; i++) {
			const struct dp_flow_hot *h = hot(t, i);
			uint32_t e = i;

			if (h->tail)
				h = hot(t, e = i ^ 1);
			if (!h->live)
				return true; /* a free entry after all */
			unsigned __int128 r = evict_rank(t, h, now);

			if (r < best) {
				best = r;
				victim = e;
			}
		}
	}
	if (victim == NIL)
		return false;
	evict(t, victim, now);
	return true;
}

/* A long key needs a whole pair: end the flows of the sampled pair that ranks first by its
 * less evictable flow (a free half ranks first). */
static bool
evict_pair(struct dp_flow_table *t, uint64_t now)
{
	uint32_t victim = NIL, base = 0;
	unsigned __int128 best = RANK_NONE;

	for (unsigned g = 0; g < EVICT_GROUPS && victim == NIL; g++) {
		base = evict_group(t, g, base);
		for (uint32_t i = base; i + 1 < base + EVICT_SAMPLE && i + 1 < t->h.n_entries;
				i += 2) {
			const struct dp_flow_hot *a = hot(t, i), *b = hot(t, i + 1);
			unsigned __int128 r = 0;

			if (a->live)
				r = evict_rank(t, a, now);
			if (b->live && evict_rank(t, b, now) > r)
				r = evict_rank(t, b, now);
			if (r < best) {
				best = r;
				victim = i;
			}
		}
	}
	if (victim == NIL)
		return false;
	if (hot(t, victim)->live)
		evict(t, victim, now);
	if (hot(t, victim + 1)->live)
		evict(t, victim + 1, now);
	return true;
}

/* No room in the key's buckets: end the first in victim order of the flows in the two. */
static bool
evict_from_buckets(struct dp_flow_table *t, const struct dp_flow_lkey *k, uint64_t now)
{
	uint32_t bs[2] = { k->bucket, dp_flow_bucket2(t, k->hash) };
	uint32_t victim = NIL;
	unsigned __int128 best = RANK_NONE;

	for (unsigned j = 0; j < 2; j++) {
		const struct dp_flow_bucket *b = &t->h.buckets[bs[j]];

		for (unsigned s = 0; s < DP_FLOW_BUCKET_SLOTS; s++) {
			if (b->sig[s] == 0)
				continue;
			unsigned __int128 r = evict_rank(t, hot(t, b->idx[s]), now);

			if (r < best) {
				best = r;
				victim = b->idx[s];
			}
		}
	}
	if (victim == NIL)
		return false;
	evict(t, victim, now);
	return true;
}

static int32_t
overflow(struct dp_flow_table *t, enum dp_flow_overflow why)
{
	t->ctr.overflow++;
	t->ctr.overflow_by[why]++;
	return -1;
}

int32_t
dp_flow_create_lk(struct dp_flow_table *t, const struct dp_flow_lkey *k, unsigned init_is_b,
		uint16_t in_port, uint64_t now, bool *created)
{
	/* An earlier packet of the same burst may have created it already: then it is found.
	 * Whether it has expired is for the packet's own turn to judge (dp_flow_restart). */
	int32_t pos = dp_flow_find(t, k);

	*created = false;
	if (pos >= 0)
		return pos;
	pos = k->is_long ? alloc2(t) : alloc1(t);
	if (pos < 0) {
		if (!t->p.evict)
			return overflow(t, DP_OVERFLOW_NO_EVICT);
		if (!(k->is_long ? evict_pair(t, now) : evict_one(t, now)))
			return overflow(t, DP_OVERFLOW_PROTECTED);
		pos = k->is_long ? alloc2(t) : alloc1(t);
		if (pos < 0) /* not expected: a victim frees what the key needs */
			return overflow(t, DP_OVERFLOW_PROTECTED);
	}
	key_store(t, (uint32_t)pos, k);
	if (unlikely(bucket_insert(t, (uint32_t)pos, k->hash, k->sig) != 0)) {
		struct dp_flow_hot *h = hot(t, (uint32_t)pos);
		bool placed = false;

		if (t->p.evict) {
			/* pos is taken but not live yet: when the victim is its neighbour, freeing
			 * the victim must not see pos as a free half and unlink it from a free list
			 * it is not on. */
			h->live = 1;
			placed = evict_from_buckets(t, k, now) &&
				 bucket_insert(t, (uint32_t)pos, k->hash, k->sig) == 0;
			h->live = 0;
		}
		if (!placed) {
			release(t, (uint32_t)pos, k->is_long);
			return overflow(t, DP_OVERFLOW_BUCKETS);
		}
	}
	init_flow(t, pos, init_is_b, in_port, now, kind_of(key_proto(k)));
	*created = true;
	return pos;
}

int32_t
dp_flow_create(struct dp_flow_table *t, const struct dp_flow_key *k, unsigned init_is_b,
		uint16_t in_port, uint64_t now, bool *created)
{
	struct dp_flow_lkey lk;

	dp_flow_lkey_from_key(t, k, &lk);
	return dp_flow_create_lk(t, &lk, init_is_b, in_port, now, created);
}

void
dp_flow_restart(struct dp_flow_table *t, int32_t pos, unsigned src_is_b, uint16_t in_port,
		uint64_t now)
{
	struct dp_flow_hot *h = hot(t, (uint32_t)pos);
	uint64_t exp = dp_flow_expiry(t, h);
	unsigned kind = h->kind;

	end_flow(t, pos, natural_end(h), exp < now ? exp : now, true);
	init_flow(t, pos, src_is_b, in_port, now, kind);
}

void
dp_flow_started(struct dp_flow_table *t, int32_t pos, uint64_t now, const struct dp_event_app *app)
{
	struct dp_event *e;

	hot(t, (uint32_t)pos)->flags |= DP_FF_STARTED;
	e = emit(t, pos, DP_EV_FLOW_START, DP_END_NONE, now);
	if (e != NULL && app != NULL)
		e->app = *app;
}

static inline void
count8(uint8_t *c, bool yes)
{
	if (yes && *c < UINT8_MAX)
		(*c)++;
}

void
dp_flow_echo(struct dp_flow_table *t, int32_t pos, const uint8_t *data, uint32_t len, uint16_t seq,
		bool request)
{
	struct dp_flow_echo *x = &cold(t, (uint32_t)pos)->echo;
	uint16_t hash;

	/* Ping puts the time it sent in the first 16 bytes (a timeval), the rest is its pattern. */
	if (len > 16) {
		data += 16;
		len -= 16;
	}
	/* 0 means none: the hash never is. */
	hash = (uint16_t)(dp_crc32c(data, len, 0x9e3779b9) | 1);
	if (request) {
		if (x->hash != 0) {
			count8(&x->req_compared, true);
			count8(&x->req_changed, hash != x->hash);
		}
		x->hash = hash;
		x->seq = seq;
	} else if (x->hash != 0 && seq == x->seq) {
		count8(&x->rep_compared, true);
		count8(&x->rep_mismatched, hash != x->hash);
	}
}

void
dp_flow_updated(struct dp_flow_table *t, int32_t pos, uint64_t now, const struct dp_event_app *app)
{
	struct dp_event *e = emit(t, pos, DP_EV_FLOW_UPDATE, DP_END_NONE, now);

	if (e != NULL && app != NULL)
		e->app = *app;
}

/* The periodic update (or a state change control must hear of): emit, and re-arm. */
static void
update_check(struct dp_flow_table *t, int32_t pos, uint64_t now, bool tell)
{
	struct dp_flow_hot *h = hot(t, (uint32_t)pos);
	struct dp_flow *f = cold(t, (uint32_t)pos);

	if (tell || now >= f->next_update_ns) {
		emit(t, pos, DP_EV_FLOW_UPDATE, DP_END_NONE, now);
		if (t->p.update_interval_ns)
			f->next_update_ns = now + t->p.update_interval_ns;
	}
	arm_update(h, f, now);
}

void
dp_flow_update_due(struct dp_flow_table *t, int32_t pos, uint64_t now)
{
	update_check(t, pos, now, false);
}

bool
dp_flow_packet_tcp(struct dp_flow_table *t, int32_t pos, const struct dp_pkt *p, unsigned src_is_b,
		uint32_t wire_len, uint64_t now)
{
	struct dp_flow_hot *h = hot(t, (uint32_t)pos);
	unsigned dir = src_is_b ^ h->init_is_b;
	uint8_t before = h->tcp_state;
	bool ok = true, tell = false;

	/* A new SYN on a finished connection's tuple: the old flow ends, a new one starts. */
	if ((before == DP_TCP_TIME_WAIT || before == DP_TCP_CLOSED) &&
			(p->tcp_flags & (DP_TCPF_SYN | DP_TCPF_ACK)) == DP_TCPF_SYN) {
		uint16_t in_port = cold(t, (uint32_t)pos)->in_port;

		end_flow(t, pos, natural_end(h), now, true);
		init_flow(t, pos, src_is_b, in_port, now, DP_FK_TCP);
		t->ctr.port_reuse++;
		dir = 0;
		before = DP_TCP_NONE;
	}

	struct dp_tcp_track tr = {
		.state = h->tcp_state, .fin_dir = h->fin_dir, .simopen = h->simopen
	};

	if (!dp_tcp_step(&tr, p->tcp_flags, dir, t->p.midstream)) {
		t->ctr.tcp_invalid++;
		if (before == DP_TCP_NONE)
			t->ctr.midstream_refused++;
		if (t->p.tcp_strict) {
			t->ctr.tcp_invalid_dropped++;
			ok = false;
		}
	} else if (before == DP_TCP_NONE &&
			(tr.state >= DP_TCP_ESTABLISHED || tr.state == DP_TCP_SYN_RECV)) {
		/* picked up without its SYN */
		h->flags |= DP_FF_MIDSTREAM;
		t->ctr.midstream++;
	}
	h->tcp_state = tr.state & 0xf;
	h->fin_dir = tr.fin_dir & 1;
	h->simopen = tr.simopen & 1;
	if (tr.state != before) {
		t->ctr.per_state[before]--;
		t->ctr.per_state[tr.state]++;
		/*
		 * Control hears when a handshake completes (a connection that did is not half-open:
		 * the SYN flood detector counts on it) and when a connection closes (its bytes
		 * belong to now, not to the end of TIME_WAIT).
		 */
		tell = ((tr.state == DP_TCP_ESTABLISHED && before == DP_TCP_SYN_RECV) ||
				       tr.state == DP_TCP_TIME_WAIT || tr.state == DP_TCP_CLOSED) &&
		       (h->flags & DP_FF_STARTED);
	}
	h->tcp_flags[dir] |= p->tcp_flags;
	dp_flow_account(h, dir, wire_len, p->payload_len, now);
	if (tell || (int32_t)((uint32_t)(now >> 20) - h->next_update) >= 0)
		update_check(t, pos, now, tell);
	return ok;
}

/* A flow whose time ran out, for ending such flows in the order of their expiry. */
struct expired {
	uint64_t when;
	uint32_t pos;
};

static int
expired_cmp(const void *a, const void *b)
{
	const struct expired *x = a, *y = b;

	if (x->when != y->when)
		return x->when < y->when ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

#define AGE_ORDER 128 /* expired flows a sweep ends at once, in the order of their expiry */

static void
end_expired(struct dp_flow_table *t, struct expired *ex, uint32_t n)
{
	qsort(ex, n, sizeof(*ex), expired_cmp);
	for (uint32_t j = 0; j < n; j++)
		end_flow(t, (int32_t)ex[j].pos, natural_end(hot(t, ex[j].pos)), ex[j].when, false);
}

/* Visit entries [from, to): end the flows whose time is up. */
static inline void
age_range(struct dp_flow_table *t, uint32_t from, uint32_t to, uint64_t now)
{
	/*
	 * A flow ends when its time ran out, not when the sweep came by, and the flows one sweep
	 * ends go in the order of their expiry (a replay's clock may jump over many): the same
	 * records in the same order whatever the sweep's pace or the bursts' sizes.
	 */
	struct expired ex[AGE_ORDER];
	uint32_t n = 0;

	for (uint32_t i = from; i < to; i++) {
		const struct dp_flow_hot *h = hot(t, i);

		if (unlikely(i + 8 < to))
			rte_prefetch0(hot(t, i + 8));
		if (h->live && unlikely(now >= dp_flow_expiry(t, h))) {
			/* Its end event reads the cold record: on its way while the rest is swept.
			 */
			rte_prefetch0(cold(t, i));
			ex[n++] = (struct expired){ dp_flow_expiry(t, h), i };
			if (n == AGE_ORDER) {
				end_expired(t, ex, n);
				n = 0;
			}
		}
	}
	if (n > 0)
		end_expired(t, ex, n);
}

void
dp_flow_age(struct dp_flow_table *t, uint64_t now)
{
	uint32_t cur = t->age_cursor;
	uint64_t budget = t->p.aging_batch;
	const uint32_t n = t->h.n_entries;

	/*
	 * Besides aging_batch slots per call, the sweep keeps pace with the clock: every slot at
	 * least once per AGE_SWEEP_NS of dataplane time (slots per ns in 32.32 fixed point, the
	 * fraction carried over). Live, that adds a slot or so per call; in a replay, where one
	 * loop may cover seconds of capture, it ends flows when their time is up rather than
	 * when the capture runs out.
	 */
	if (now > t->last_age_ns && t->last_age_ns != 0) {
		uint64_t dt = now - t->last_age_ns;

		if (dt >= AGE_SWEEP_NS) {
			budget = n;
		} else {
			uint64_t q = dt * t->sweep_rate + t->sweep_frac;

			budget += q >> 32;
			t->sweep_frac = q & 0xffffffffu;
		}
	}
	t->last_age_ns = now;
	if (budget > n)
		budget = n;
	while (budget > 0) {
		uint32_t k = n - cur < budget ? n - cur : (uint32_t)budget;

		age_range(t, cur, cur + k, now);
		budget -= k;
		cur += k;
		if (cur >= n)
			cur = 0;
	}
	t->age_cursor = cur;
	/* The next call's entries, on their way while the next burst is processed. */
	for (uint32_t i = 0, c = cur; i < t->p.aging_batch && i < 16; i++) {
		rte_prefetch0(hot(t, c));
		if (++c >= n)
			c = 0;
	}
}

void
dp_flow_flush_all(struct dp_flow_table *t, enum dp_end_reason reason, uint64_t now)
{
	uint64_t deadline = rte_get_tsc_cycles() + rte_get_tsc_hz() * FLUSH_WAIT_S;
	struct expired *ex = NULL;
	uint32_t n_ex = 0;

	/*
	 * Flows whose time ran out before now end as they would have under aging, at their
	 * expiry and in its order, whether or not a sweep came by (a replay whose last burst held
	 * them leaves that to here): the same records whatever the bursts' sizes. If the list
	 * cannot be had, they end in table order, still at their expiry.
	 */
	for (uint32_t i = 0; i < t->h.n_entries; i++) {
		const struct dp_flow_hot *h = hot(t, i);

		if (h->live && now >= dp_flow_expiry(t, h))
			n_ex++;
	}
	if (n_ex > 0 && (ex = malloc(n_ex * sizeof(*ex))) != NULL) {
		uint32_t k = 0;

		for (uint32_t i = 0; i < t->h.n_entries && k < n_ex; i++) {
			const struct dp_flow_hot *h = hot(t, i);

			if (h->live && now >= dp_flow_expiry(t, h))
				ex[k++] = (struct expired){ dp_flow_expiry(t, h), i };
		}
		qsort(ex, k, sizeof(*ex), expired_cmp);
		for (uint32_t j = 0; j < k; j++) {
			const struct dp_flow_hot *h = hot(t, ex[j].pos);

			if (t->evq != NULL && t->evq->n == DP_EVQ_BATCH)
				dp_evq_flush_wait(t->evq, deadline);
			end_flow(t, (int32_t)ex[j].pos, natural_end(h), ex[j].when, false);
		}
		free(ex);
	}
	for (uint32_t i = 0; i < t->h.n_entries; i++) {
		const struct dp_flow_hot *h = hot(t, i);
		enum dp_end_reason why = reason;
		uint64_t when = now;

		if (!h->live)
			continue;
		/* A connection that already closed ended by FIN or RST, whatever stops it now. */
		if (closed(h))
			why = natural_end(h);
		if (now >= dp_flow_expiry(t, h)) {
			why = natural_end(h);
			when = dp_flow_expiry(t, h);
		}
		if (t->evq != NULL && t->evq->n == DP_EVQ_BATCH)
			dp_evq_flush_wait(t->evq, deadline);
		end_flow(t, (int32_t)i, why, when, false);
	}
	if (t->evq != NULL)
		dp_evq_flush_wait(t->evq, deadline);
}
