/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "al_line.h"
#include "al_mem.h"

/* First allocation for a line that spans calls; it doubles up to the line limit. */
#define LINE_INIT_CAP 240u

/* The arena's block header (al_mem.c): a block of 2^k bytes holds 2^k - 16 for the caller. */
#define BLOCK_HDR 16u

_Static_assert(AL_BYTES_MAX == ((1u << AL_MEM_MAX_SHIFT) - BLOCK_HDR),
		"AL_BYTES_MAX is the arena's largest allocation");

size_t
al_fit_size(size_t need)
{
	size_t s = 64;

	while (s - BLOCK_HDR < need && s < ((size_t)1 << 40))
		s <<= 1;
	return s - BLOCK_HDR;
}

/* Append up to what the limit leaves of n bytes; the rest of a long line is only counted. */
static int
keep(struct al_ctx *c, struct al_line *lb, uint32_t max, const uint8_t *d, uint32_t n)
{
	uint32_t room = lb->len < max ? max - lb->len : 0;

	if (n > room)
		n = room;
	if (n == 0)
		return 0;
	if (lb->len + n > lb->cap) {
		uint64_t need = (uint64_t)lb->len + n;
		uint64_t cap = al_fit_size(need > LINE_INIT_CAP ? need : LINE_INIT_CAP);
		uint8_t *nb;

		if (cap > max)
			cap = max;
		nb = al_realloc(c, lb->buf, (size_t)cap);
		if (nb == NULL)
			return -ENOMEM;
		lb->buf = nb;
		lb->cap = (uint32_t)cap;
	}
	memcpy(lb->buf + lb->len, d, n);
	lb->len += n;
	return 0;
}

static void
start_over(struct al_line *lb)
{
	lb->len = 0;
	lb->seen = 0;
	lb->last_cr = false;
}

int
al_line_next(struct al_ctx *c, struct al_line *lb, uint32_t max, const uint8_t *d, uint32_t len,
		uint32_t *used, struct al_line_out *out)
{
	const uint8_t *nl = len > 0 ? memchr(d, '\n', len) : NULL;

	*used = 0;
	if (lb->skip) {
		*used = nl != NULL ? (uint32_t)(nl - d) + 1 : len;
		lb->skip = nl == NULL;
		return 0;
	}
	if (nl == NULL) {
		if (len == 0)
			return 0;
		if (keep(c, lb, max, d, len) != 0)
			return -ENOMEM;
		lb->seen = lb->seen + len < lb->seen ? UINT32_MAX : lb->seen + len;
		lb->last_cr = d[len - 1] == '\r';
		*used = len;
		return 0;
	}

	uint32_t n = (uint32_t)(nl - d);
	bool cr = n > 0 ? d[n - 1] == '\r' : lb->last_cr;
	uint64_t full = (uint64_t)lb->seen + n;

	if (cr && full > 0)
		full--;
	if (full > UINT32_MAX)
		full = UINT32_MAX;
	*used = n + 1;
	out->full_len = (uint32_t)full;
	out->cut = full > max;
	out->lf = true;
	if (lb->seen == 0) {
		/* The whole line is here: hand it out in place. */
		out->p = d;
		out->len = full < max ? (uint32_t)full : max;
	} else {
		if (keep(c, lb, max, d, n) != 0)
			return -ENOMEM;
		out->p = lb->len > 0 ? lb->buf : d;
		out->len = full < lb->len ? (uint32_t)full : lb->len;
	}
	start_over(lb);
	return 1;
}

bool
al_line_take_partial(struct al_line *lb, uint32_t max, struct al_line_out *out)
{
	static const uint8_t empty[1];
	uint32_t full;

	if (lb->skip || lb->seen == 0)
		return false;
	full = lb->seen - (lb->last_cr ? 1 : 0);
	out->p = lb->len > 0 ? lb->buf : empty;
	out->len = full < lb->len ? full : lb->len;
	out->full_len = full;
	out->cut = full > max;
	out->lf = false;
	start_over(lb);
	return true;
}

void
al_line_gap(struct al_line *lb)
{
	start_over(lb);
	lb->skip = true;
}

void
al_line_reset(struct al_line *lb)
{
	start_over(lb);
	lb->skip = false;
}

void
al_line_free(struct al_ctx *c, struct al_line *lb)
{
	al_free(c, lb->buf);
	lb->buf = NULL;
	lb->cap = 0;
	al_line_reset(lb);
}

int64_t
al_bytes_append(struct al_ctx *c, struct al_bytes *b, const uint8_t *d, uint32_t n, uint32_t limit)
{
	uint32_t room;

	if (limit > AL_BYTES_MAX)
		limit = AL_BYTES_MAX;
	room = b->len < limit ? limit - b->len : 0;
	if (n > room)
		n = room;
	if (n == 0)
		return 0;
	if (b->len + n > b->cap) {
		size_t cap = al_fit_size((size_t)b->len + n);
		uint8_t *np;

		if (cap > limit)
			cap = limit;
		np = al_realloc(c, b->p, cap);
		if (np == NULL)
			return -ENOMEM;
		b->p = np;
		b->cap = (uint32_t)cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	return n;
}

void
al_bytes_free(struct al_ctx *c, struct al_bytes *b)
{
	al_free(c, b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}
