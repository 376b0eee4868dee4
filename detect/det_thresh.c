/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "det_thresh.h"

#define PROBE 8

struct th_entry {
	uint64_t start_ns;
	uint64_t window_ns;
	uint32_t gid, sid;
	uint32_t count;
	uint8_t used;
	uint8_t track;
	uint8_t a[16], b[16];
};

struct det_thresh {
	struct th_entry *v;
	uint32_t mask;
	uint64_t evictions;
};

struct det_thresh *
det_thresh_create(uint32_t entries)
{
	struct det_thresh *t = calloc(1, sizeof(*t));
	uint32_t n = 16;

	if (t == NULL)
		goto nomem;
	while (n < entries && n < (1u << 30))
		n <<= 1;
	t->v = calloc(n, sizeof(*t->v));
	if (t->v == NULL)
		goto nomem;
	t->mask = n - 1;
	return t;
nomem:
	free(t);
	errno = ENOMEM;
	return NULL;
}

void
det_thresh_free(struct det_thresh *t)
{
	if (t == NULL)
		return;
	free(t->v);
	free(t);
}

uint64_t
det_thresh_evictions(const struct det_thresh *t)
{
	return t->evictions;
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
	return now_ns - x->start_ns >= x->window_ns ? 1 : 2;
}

unsigned
det_thresh_check(struct det_thresh *t, const struct det_rule *r, const uint8_t *src,
		const uint8_t *dst, uint64_t now_ns)
{
	static const uint8_t zero[16];
	const struct det_threshold *th = &r->th;
	const uint8_t *a = zero, *b = zero;
	uint64_t h = 0xcbf29ce484222325ULL, window = (uint64_t)th->seconds * 1000000000ULL;
	struct th_entry *e = NULL, *victim = NULL;
	unsigned ret = 0;

	switch (th->track) {
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
	default:
		break;
	}
	h = hash_bytes(h, (const uint8_t *)&r->info.gid, 4);
	h = hash_bytes(h, (const uint8_t *)&r->info.sid, 4);
	h = hash_bytes(h, &th->track, 1);
	h = hash_bytes(h, a, 16);
	h = hash_bytes(h, b, 16);

	for (unsigned i = 0; i < PROBE; i++) {
		struct th_entry *x = &t->v[(h + i) & t->mask];

		if (x->used && x->gid == r->info.gid && x->sid == r->info.sid &&
				x->track == th->track && memcmp(x->a, a, 16) == 0 &&
				memcmp(x->b, b, 16) == 0) {
			e = x;
			break;
		}
		/* prefer an empty slot, then one whose window has closed, then the oldest */
		if (victim == NULL || rank(x, now_ns) < rank(victim, now_ns) ||
				(rank(x, now_ns) == 2 && rank(victim, now_ns) == 2 &&
						x->start_ns < victim->start_ns))
			victim = x;
	}
	if (e != NULL && now_ns - e->start_ns >= window) {
		/* the window closed: this match opens a new one */
		e->start_ns = now_ns;
		e->count = 0;
	}
	if (e == NULL) {
		e = victim;
		if (rank(e, now_ns) == 2)
			t->evictions++;
		e->used = 1;
		e->gid = r->info.gid;
		e->sid = r->info.sid;
		e->track = th->track;
		memcpy(e->a, a, 16);
		memcpy(e->b, b, 16);
		e->start_ns = now_ns;
		e->count = 0;
	}
	e->window_ns = window;
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
