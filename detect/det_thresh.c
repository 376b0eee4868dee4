/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "det_thresh.h"

#define PROBE	 8
#define BM_WORDS (65536 / 64)

/* Key kinds: a rule's threshold and a rate_filter on the same rule are apart. */
enum { KIND_THRESH = 0, KIND_RATE = 1 };

struct th_entry {
	uint64_t start_ns;
	uint64_t window_ns;
	uint64_t until_ns; /* rate_filter: new action until then; 0: not active */
	uint32_t gid, sid;
	uint32_t count;
	uint32_t bm; /* unique_on: port map index + 1; 0: none */
	uint8_t used;
	uint8_t track;
	uint8_t kind;
	uint8_t a[16], b[16];
	uint16_t pa, pb; /* by_flow: the ports of a and b */
	uint32_t next;	 /* backoff: the match that alerts next */
};

struct det_thresh {
	struct th_entry *v;
	uint32_t mask;
	uint64_t *bm;	    /* port maps, BM_WORDS each */
	uint32_t *bm_owner; /* entry index + 1 owning each map */
	uint32_t bm_mask;
	uint64_t evictions;
	uint64_t steals;
};

struct det_thresh *
det_thresh_create(uint32_t entries)
{
	struct det_thresh *t = calloc(1, sizeof(*t));
	uint32_t n = 16, nb = 16;

	if (t == NULL)
		goto nomem;
	while (n < entries && n < (1u << 30))
		n <<= 1;
	while (nb < n / 256)
		nb <<= 1;
	t->v = calloc(n, sizeof(*t->v));
	/* calloc of a large block maps zero pages: maps never used cost no memory */
	t->bm = calloc((size_t)nb * BM_WORDS, sizeof(uint64_t));
	t->bm_owner = calloc(nb, sizeof(uint32_t));
	if (t->v == NULL || t->bm == NULL || t->bm_owner == NULL)
		goto nomem;
	t->mask = n - 1;
	t->bm_mask = nb - 1;
	return t;
nomem:
	det_thresh_free(t);
	errno = ENOMEM;
	return NULL;
}

void
det_thresh_free(struct det_thresh *t)
{
	if (t == NULL)
		return;
	free(t->v);
	free(t->bm);
	free(t->bm_owner);
	free(t);
}

uint64_t
det_thresh_evictions(const struct det_thresh *t)
{
	return t->evictions;
}

uint64_t
det_thresh_steals(const struct det_thresh *t)
{
	return t->steals;
}

static uint64_t
hash_bytes(uint64_t h, const uint8_t *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* 0 empty, 1 window closed, 2 live */
static int
rank(const struct th_entry *x, uint64_t now_ns)
{
	if (!x->used)
		return 0;
	if (x->until_ns > now_ns)
		return 2;
	return now_ns - x->start_ns >= x->window_ns ? 1 : 2;
}

/*
 * The entry of (kind, gid, sid, track, addresses), created (or evicting the stalest of its
 * probe sequence) when missing; *fresh tells that it was.
 */
static struct th_entry *
lookup(struct det_thresh *t, uint8_t kind, uint32_t gid, uint32_t sid, uint8_t track,
		const struct det_th_pkt *p, bool *fresh)
{
	static const uint8_t zero[16];
	const uint8_t *src = p->src != NULL ? p->src : zero, *dst = p->dst != NULL ? p->dst : zero;
	const uint8_t *a = zero, *b = zero;
	uint16_t pa = 0, pb = 0;
	uint64_t h = 0xcbf29ce484222325ULL;
	struct th_entry *victim = NULL;

	switch (track) {
	case DET_TRACK_SRC:
		a = src;
		break;
	case DET_TRACK_DST:
		a = dst;
		break;
	case DET_TRACK_BOTH:
		/* one entry for the pair, whichever way the packet goes */
		if (memcmp(src, dst, 16) <= 0) {
			a = src;
			b = dst;
		} else {
			a = dst;
			b = src;
		}
		break;
	case DET_TRACK_FLOW: {
		/* one entry for the flow, whichever way the packet goes */
		int c = memcmp(src, dst, 16);

		if (c < 0 || (c == 0 && p->sport <= p->dport)) {
			a = src;
			b = dst;
			pa = p->sport;
			pb = p->dport;
		} else {
			a = dst;
			b = src;
			pa = p->dport;
			pb = p->sport;
		}
		break;
	}
	default:
		break;
	}
	h = hash_bytes(h, &kind, 1);
	h = hash_bytes(h, (const uint8_t *)&gid, 4);
	h = hash_bytes(h, (const uint8_t *)&sid, 4);
	h = hash_bytes(h, &track, 1);
	h = hash_bytes(h, a, 16);
	h = hash_bytes(h, b, 16);
	h = hash_bytes(h, (const uint8_t *)&pa, 2);
	h = hash_bytes(h, (const uint8_t *)&pb, 2);

	*fresh = false;
	for (unsigned i = 0; i < PROBE; i++) {
		struct th_entry *x = &t->v[(h + i) & t->mask];

		if (x->used && x->kind == kind && x->gid == gid && x->sid == sid &&
				x->track == track && memcmp(x->a, a, 16) == 0 &&
				memcmp(x->b, b, 16) == 0 && x->pa == pa && x->pb == pb)
			return x;
		/* prefer an empty slot, then one whose window has closed, then the oldest */
		if (victim == NULL || rank(x, p->now_ns) < rank(victim, p->now_ns) ||
				(rank(x, p->now_ns) == 2 && rank(victim, p->now_ns) == 2 &&
						x->start_ns < victim->start_ns))
			victim = x;
	}
	if (rank(victim, p->now_ns) == 2)
		t->evictions++;
	memset(victim, 0, sizeof(*victim));
	victim->used = 1;
	victim->kind = kind;
	victim->gid = gid;
	victim->sid = sid;
	victim->track = track;
	memcpy(victim->a, a, 16);
	memcpy(victim->b, b, 16);
	victim->pa = pa;
	victim->pb = pb;
	victim->start_ns = p->now_ns;
	*fresh = true;
	return victim;
}

/* Record port in e's map; true when it had not been seen in the window. */
static bool
port_new(struct det_thresh *t, struct th_entry *e, uint16_t port, bool reset)
{
	uint32_t self = (uint32_t)(e - t->v) + 1, slot = (self * 0x9e3779b1u) & t->bm_mask;
	uint64_t *map = &t->bm[(size_t)slot * BM_WORDS];

	if (e->bm != slot + 1 || t->bm_owner[slot] != self) {
		/* the map is another entry's (or was): take it and count again */
		if (t->bm_owner[slot] != 0 && t->bm_owner[slot] != self)
			t->steals++;
		t->bm_owner[slot] = self;
		e->bm = slot + 1;
		e->count = 0;
		reset = true;
	}
	if (reset)
		memset(map, 0, BM_WORDS * sizeof(uint64_t));
	if (map[port / 64] & (1ULL << (port % 64)))
		return false;
	map[port / 64] |= 1ULL << (port % 64);
	return true;
}

unsigned
det_thresh_check(struct det_thresh *t, uint32_t gid, uint32_t sid, const struct det_threshold *th,
		const struct det_th_pkt *p)
{
	uint64_t window = (uint64_t)th->seconds * 1000000000ULL;
	bool fresh, reset;
	struct th_entry *e = lookup(t, KIND_THRESH, gid, sid, th->track, p, &fresh);
	unsigned ret = 0;

	if (th->type == DET_TH_BACKOFF) {
		/* no window: the count-th match alerts, then every multiplier-fold one */
		e->window_ns = UINT64_MAX;
		if (fresh)
			e->next = th->count;
		if (e->count < UINT32_MAX)
			e->count++;
		if (e->count != e->next)
			return DET_TH_APPLY;
		e->next = e->next > UINT32_MAX / th->multiplier ? 0 /* past counting: no more */
								: e->next * th->multiplier;
		return DET_TH_APPLY | DET_TH_ALERT;
	}

	reset = fresh;
	if (!fresh && p->now_ns - e->start_ns >= window) {
		/* the window closed: this match opens a new one */
		e->start_ns = p->now_ns;
		e->count = 0;
		reset = true;
	}
	e->window_ns = window;
	if (th->type == DET_TH_DETECTION_FILTER && th->unique_on != DET_UNIQ_NONE) {
		uint16_t port = th->unique_on == DET_UNIQ_SRC_PORT ? p->sport : p->dport;

		if (port_new(t, e, port, reset))
			e->count++;
		return e->count > th->count ? DET_TH_APPLY | DET_TH_ALERT : 0;
	}
	e->count++;

	switch (th->type) {
	case DET_TH_LIMIT:
		ret = DET_TH_APPLY | (e->count <= th->count ? DET_TH_ALERT : 0);
		break;
	case DET_TH_THRESHOLD:
		if (e->count >= th->count) {
			ret = DET_TH_APPLY | DET_TH_ALERT;
			e->count = 0;
		}
		break;
	case DET_TH_BOTH:
		if (e->count == th->count)
			ret = DET_TH_APPLY | DET_TH_ALERT;
		else if (e->count > th->count)
			ret = DET_TH_APPLY;
		break;
	case DET_TH_DETECTION_FILTER:
		if (e->count > th->count)
			ret = DET_TH_APPLY | DET_TH_ALERT;
		break;
	default:
		ret = DET_TH_APPLY | DET_TH_ALERT;
		break;
	}
	return ret;
}

bool
det_rate_check(struct det_thresh *t, uint32_t gid, uint32_t sid, const struct det_rate_filter *rf,
		const struct det_th_pkt *p)
{
	uint64_t window = (uint64_t)rf->seconds * 1000000000ULL;
	bool fresh;
	struct th_entry *e = lookup(t, KIND_RATE, gid, sid, rf->track, p, &fresh);

	e->window_ns = window;
	if (e->until_ns != 0) {
		if (p->now_ns < e->until_ns)
			return true;
		/* the timeout is over: back to the rule's action, a new window from here */
		e->until_ns = 0;
		e->start_ns = p->now_ns;
		e->count = 1;
		return false;
	}
	if (!fresh && p->now_ns - e->start_ns >= window) {
		e->start_ns = p->now_ns;
		e->count = 0;
	}
	if (++e->count > rf->count) {
		e->until_ns = p->now_ns + (uint64_t)rf->timeout * 1000000000ULL;
		if (e->until_ns == 0)
			e->until_ns = 1;
		return true;
	}
	return false;
}
