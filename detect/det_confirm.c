/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "det_confirm.h"
#include "det_engine.h"

int
det_confirm_ctx_init(struct det_confirm_ctx *c)
{
	pcre2_match_context *mctx;

	memset(c, 0, sizeof(*c));
	c->md = pcre2_match_data_create(1, NULL);
	mctx = pcre2_match_context_create(NULL);
	if (c->md == NULL || mctx == NULL) {
		pcre2_match_data_free(c->md);
		pcre2_match_context_free(mctx);
		c->md = NULL;
		return -ENOMEM;
	}
	c->mctx = mctx;
	det_confirm_ctx_limits(c, DET_PCRE_MATCH_LIMIT, DET_PCRE_DEPTH_LIMIT);
	return 0;
}

/*
 * A pattern that needs more on an input is treated as not matching rather than stalling a
 * worker, and counted (det_engine_rule_limit_hits, inspection.pcre_limit_hits).
 */
void
det_confirm_ctx_limits(struct det_confirm_ctx *c, uint32_t match_limit, uint32_t depth_limit)
{
	pcre2_set_match_limit(c->mctx, match_limit);
	pcre2_set_depth_limit(c->mctx, depth_limit);
}

void
det_confirm_ctx_free(struct det_confirm_ctx *c)
{
	if (c == NULL)
		return;
	pcre2_match_data_free(c->md);
	pcre2_match_context_free(c->mctx);
	c->md = NULL;
	c->mctx = NULL;
}

static inline uint8_t
lower(uint8_t ch)
{
	return (ch >= 'A' && ch <= 'Z') ? (uint8_t)(ch | 0x20) : ch;
}

static bool
equal(const uint8_t *a, const uint8_t *b, uint32_t n, bool nocase)
{
	if (!nocase)
		return memcmp(a, b, n) == 0;
	for (uint32_t i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

/* First occurrence of pat in buf[0, n), or -1. */
static int64_t
find(const uint8_t *buf, uint64_t n, const uint8_t *pat, uint32_t m, bool nocase)
{
	if (m == 0 || n < m)
		return -1;
	if (!nocase) {
		const uint8_t *p = memmem(buf, n, pat, m);

		return p != NULL ? p - buf : -1;
	}
	uint8_t f = lower(pat[0]);

	for (uint64_t i = 0; i + m <= n; i++) {
		uint32_t j;

		if (lower(buf[i]) != f)
			continue;
		for (j = 1; j < m; j++)
			if (lower(buf[i + j]) != lower(pat[j]))
				break;
		if (j == m)
			return (int64_t)i;
	}
	return -1;
}

/*
 * The number a byte_test or byte_jump reads at pos: binary (big or little endian) or text in
 * the rule's base. false when the bytes are not all in the buffer or the text is not a
 * number.
 */
static bool
read_number(const uint8_t *buf, int64_t len, int64_t pos, const struct det_byte *b, uint64_t *out)
{
	uint64_t v = 0;

	if (pos < 0 || pos + b->nbytes > len)
		return false;
	if (b->base != 0) {
		unsigned digits = 0;

		for (unsigned k = 0; k < b->nbytes; k++) {
			uint8_t c = buf[pos + k];
			unsigned d;

			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (c >= 'a' && c <= 'f')
				d = (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				d = (unsigned)(c - 'A' + 10);
			else
				break; /* the number ends before nbytes, as strtoull would stop */
			if (d >= b->base)
				break;
			v = v * b->base + d;
			digits++;
		}
		if (digits == 0)
			return false;
	} else if (b->little) {
		for (unsigned k = b->nbytes; k > 0; k--)
			v = (v << 8) | buf[pos + k - 1];
	} else {
		for (unsigned k = 0; k < b->nbytes; k++)
			v = (v << 8) | buf[pos + k];
	}
	if (b->bitmask != 0) {
		/* Suricata masks, then shifts the mask's trailing zeros away */
		v &= b->bitmask;
		v >>= __builtin_ctzll(b->bitmask);
	}
	*out = v;
	return true;
}

static bool
byte_test_ok(const struct det_byte *b, uint64_t v)
{
	bool r;

	switch (b->op) {
	case DET_BOP_LT:
		r = v < b->value;
		break;
	case DET_BOP_GT:
		r = v > b->value;
		break;
	case DET_BOP_EQ:
		r = v == b->value;
		break;
	case DET_BOP_LE:
		r = v <= b->value;
		break;
	case DET_BOP_GE:
		r = v >= b->value;
		break;
	case DET_BOP_AND:
		r = (v & b->value) != 0;
		break;
	case DET_BOP_XOR:
		r = (v ^ b->value) != 0;
		break;
	default:
		r = false;
		break;
	}
	return r != b->negated;
}

struct ictx {
	const struct det_item *items;
	unsigned n;
	const uint8_t *buf;
	int64_t len;
	uint64_t base;
	struct det_confirm_ctx *c;
	uint32_t last_end;
};

/* 1 match, 0 no match, -1 budget exhausted (no match). */
static int
insp(struct ictx *x, unsigned i, int64_t prev_end)
{
	const struct det_item *it;
	bool next_rel;

	if (i == x->n) {
		x->last_end = (uint32_t)prev_end;
		return 1;
	}
	if (x->c->budget == 0)
		return -1;
	x->c->budget--;
	it = &x->items[i];
	next_rel = i + 1 < x->n && x->items[i + 1].relative;

	if (it->type == DET_ITEM_CONTENT) {
		const struct det_content *c = &it->c;
		bool neg = (c->flags & DET_C_NEGATED) != 0;
		int64_t lo, hi;

		if (it->relative) {
			int64_t d = (c->flags & DET_C_DISTANCE) ? c->distance : 0;

			lo = prev_end;
			hi = x->len;
			if (c->flags & DET_C_DISTANCE) {
				if (d < 0 && -d > lo)
					lo = 0;
				else
					lo += d;
			}
			if ((c->flags & DET_C_WITHIN) && prev_end + c->within + d < hi)
				hi = prev_end + c->within + d;
		} else {
			int64_t off = (c->flags & DET_C_OFFSET) ? c->offset : 0;

			lo = off - (int64_t)x->base;
			hi = (c->flags & DET_C_DEPTH) ? off + c->depth - (int64_t)x->base : x->len;
			if (lo < 0)
				lo = 0;
		}
		if (hi > x->len)
			hi = x->len;
		if (c->flags & DET_C_ENDSWITH) {
			/* one place only: the end of the buffer */
			int64_t pos = x->len - (int64_t)c->len;
			bool at = pos >= lo && pos + (int64_t)c->len <= hi &&
				  equal(x->buf + pos, c->pat, c->len,
						  (c->flags & DET_C_NOCASE) != 0);

			if (neg)
				return at ? 0 : insp(x, i + 1, prev_end);
			return at ? insp(x, i + 1, x->len) : 0;
		}
		for (;;) {
			int64_t pos = -1;
			int rc;

			if (lo <= hi && hi - lo >= (int64_t)c->len)
				pos = find(x->buf + lo, (uint64_t)(hi - lo), c->pat, c->len,
						(c->flags & DET_C_NOCASE) != 0);
			if (pos < 0)
				return neg ? insp(x, i + 1, prev_end) : 0;
			if (neg)
				return 0;
			pos += lo;
			rc = insp(x, i + 1, pos + c->len);
			if (rc != 0)
				return rc;
			/* only a keyword placed after this one makes another occurrence worth
			 * trying */
			if (!next_rel)
				return 0;
			lo = pos + 1;
		}
	}

	if (it->type == DET_ITEM_PCRE) {
		const struct det_pcre *p = &it->p;
		bool neg = (p->flags & DET_P_NEGATED) != 0;
		int64_t s0 = it->relative ? prev_end : 0;
		uint32_t opts = (!it->relative && x->base > 0) ? PCRE2_NOTBOL : 0;
		PCRE2_SIZE start = 0, *ov;

		if (s0 > x->len)
			s0 = x->len;
		for (;;) {
			int rc = pcre2_match(p->re, x->buf + s0, (PCRE2_SIZE)(x->len - s0), start,
					opts, x->c->md, x->c->mctx);

			if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
				/* a limit (or another failure to finish): no match, counted */
				x->c->limit_hits++;
				if (x->c->rule_hits != NULL)
					x->c->rule_hits[x->c->rule]++;
			}
			if (rc < 0)
				return neg ? insp(x, i + 1, prev_end) : 0;
			if (neg)
				return 0;
			ov = pcre2_get_ovector_pointer(x->c->md);
			rc = insp(x, i + 1, s0 + (int64_t)ov[1]);
			if (rc != 0)
				return rc;
			if (!next_rel)
				return 0;
			start = ov[0] + 1;
			if ((int64_t)start > x->len - s0)
				return 0;
		}
	}

	if (it->type == DET_ITEM_BYTE_TEST || it->type == DET_ITEM_BYTE_JUMP) {
		const struct det_byte *b = &it->b;
		int64_t pos = (it->relative ? prev_end : -(int64_t)x->base) + b->offset;
		uint64_t v;

		if (!read_number(x->buf, x->len, pos, b, &v))
			return 0;
		if (it->type == DET_ITEM_BYTE_TEST)
			return byte_test_ok(b, v) ? insp(x, i + 1, prev_end) : 0;
		/* byte_jump: the next relative keyword starts where the jump lands */
		{
			int64_t from = b->from_beginning ? -(int64_t)x->base
				       : b->from_end	 ? x->len
							 : pos + b->nbytes;
			int64_t to;

			if (v > (uint64_t)1 << 32)
				return 0;
			v *= b->multiplier;
			if (b->align)
				v = (v + 3) & ~(uint64_t)3;
			/* as Suricata: before the start clamps to it, at or past the end fails */
			to = from + (int64_t)v + b->post_offset;
			if (to < 0)
				to = 0;
			if (to >= x->len)
				return 0;
			return insp(x, i + 1, to);
		}
	}

	if (it->type == DET_ITEM_BSIZE)
		return det_cmp_ok(&it->z, (uint64_t)x->len) ? insp(x, i + 1, prev_end) : 0;

	/* isdataat */
	{
		const struct det_isdataat *d = &it->d;
		bool have;

		/*
		 * As Suricata's engine (not its manual): relative, the n bytes after the
		 * previous match are there (isdataat:!1,relative: the match ends the
		 * buffer); absolute, a byte at offset n.
		 */
		if (d->relative)
			have = prev_end + d->n <= x->len;
		else
			have = (int64_t)d->n < (int64_t)x->base + x->len;
		if (have == d->negated)
			return 0;
		return insp(x, i + 1, prev_end);
	}
}

bool
det_confirm(const struct det_rule *r, const uint8_t *buf, uint32_t len, uint64_t base,
		struct det_confirm_ctx *c, uint32_t *end)
{
	return det_confirm_items(r->items, r->n_items, buf, len, base, c, end);
}

bool
det_confirm_items(const struct det_item *items, unsigned n, const uint8_t *buf, uint32_t len,
		uint64_t base, struct det_confirm_ctx *c, uint32_t *end)
{
	struct ictx x = { .items = items, .n = n, .buf = buf, .len = len, .base = base, .c = c };
	static const uint8_t empty[1];

	if (buf == NULL)
		x.buf = empty;
	c->budget = DET_CONFIRM_BUDGET;
	if (insp(&x, 0, 0) != 1)
		return false;
	if (end != NULL)
		*end = x.last_end;
	return true;
}
