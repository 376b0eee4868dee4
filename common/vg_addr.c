/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg_addr.h"

/* Longer text is no address: the longest IPv6 spelling inet_pton takes is 45 characters. */
#define ADDR_TEXT_MAX 64

int
vg_addr_parse(const char *s, size_t len, struct vg_addr *out)
{
	char buf[ADDR_TEXT_MAX];

	memset(out, 0, sizeof(*out));
	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, out->b) == 1) {
		out->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, out->b) == 1) {
		out->family = 6;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}

static int __attribute__((format(printf, 4, 5)))
fail(struct vg_addr_err *err, enum vg_prefix_why why, unsigned off, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -EINVAL;
	err->why = why;
	err->off = off;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Clear the bits of a from plen on; true when any was set. */
static bool
clear_host_bits(struct vg_addr *a, unsigned plen)
{
	bool set = false;

	for (unsigned bit = plen; bit < vg_addr_bits(a->family); bit++) {
		uint8_t m = (uint8_t)(0x80 >> (bit & 7));

		if (a->b[bit >> 3] & m) {
			set = true;
			a->b[bit >> 3] &= (uint8_t)~m;
		}
	}
	return set;
}

/* Length of an IPv4 netmask's leading ones, or -1 when it is not contiguous. */
static int
mask_len(const struct vg_addr *m)
{
	uint32_t mask = (uint32_t)vg_addr_value(m);
	int n = 0;

	if ((~mask & (~mask + 1)) != 0)
		return -1;
	while (n < 32 && (mask & (UINT32_C(0x80000000) >> n)))
		n++;
	return n;
}

int
vg_prefix_parse(const char *s, size_t len, unsigned flags, struct vg_prefix *out,
		struct vg_addr_err *err)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash != NULL ? (size_t)(slash - s) : len;
	unsigned max, plen;

	memset(out, 0, sizeof(*out));
	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (vg_addr_parse(s, alen, &out->addr) != 0)
		return fail(err, VG_PREFIX_BAD_ADDR, 0, "'%.*s' is not an IPv4 or IPv6 address",
				(int)alen, s);
	max = vg_addr_bits(out->addr.family);
	plen = max;
	if (slash != NULL) {
		const char *p = slash + 1;
		size_t plen_len = len - alen - 1;
		unsigned off = (unsigned)alen + 1;
		bool mask_ok = (flags & VG_PREFIX_NETMASK) && out->addr.family == 4;
		struct vg_addr m;

		if (mask_ok && memchr(p, '.', plen_len) != NULL &&
				vg_addr_parse(p, plen_len, &m) == 0 && m.family == 4) {
			int n = mask_len(&m);

			if (n < 0)
				return fail(err, VG_PREFIX_BAD_MASK, off,
						"netmask '%.*s' is not contiguous", (int)plen_len,
						p);
			plen = (unsigned)n;
		} else {
			bool digits = plen_len > 0 && plen_len <= 3 &&
				      !(p[0] == '0' && plen_len > 1);

			for (size_t i = 0; digits && i < plen_len; i++)
				digits = p[i] >= '0' && p[i] <= '9';
			if (!digits)
				return fail(err, VG_PREFIX_BAD_LEN, off,
						"'/%.*s' is not a prefix length (0-%u)%s",
						(int)plen_len, p, max,
						mask_ok ? " or a netmask" : "");
			plen = 0;
			for (size_t i = 0; i < plen_len; i++)
				plen = plen * 10 + (unsigned)(p[i] - '0');
			if (plen > max)
				return fail(err, VG_PREFIX_LEN_RANGE, off,
						"'/%.*s' is not a prefix length (0-%u)%s",
						(int)plen_len, p, max,
						mask_ok ? " or a netmask" : "");
		}
	}
	out->plen = (uint8_t)plen;
	if (clear_host_bits(&out->addr, plen)) {
		char net[VG_PREFIX_STRLEN];

		if (flags & VG_PREFIX_HOST_BITS)
			return 1;
		vg_prefix_format(out, false, net, sizeof(net));
		return fail(err, VG_PREFIX_HOST_SET, 0,
				"'%.*s' has host bits set (the network is %s)", (int)len, s, net);
	}
	return 0;
}

int
vg_addr_format_bytes(uint8_t family, const uint8_t *b, char *buf, size_t len)
{
	char t[INET6_ADDRSTRLEN];

	if (len > 0)
		buf[0] = '\0';
	if (family != 4 && family != 6)
		return -EINVAL;
	if (inet_ntop(family == 4 ? AF_INET : AF_INET6, b, t, sizeof(t)) == NULL ||
			strlen(t) >= len)
		return -ENOSPC;
	memcpy(buf, t, strlen(t) + 1);
	return 0;
}

int
vg_addr_format(const struct vg_addr *a, char *buf, size_t len)
{
	return vg_addr_format_bytes(a->family, a->b, buf, len);
}

int
vg_prefix_format(const struct vg_prefix *p, bool host_plain, char *buf, size_t len)
{
	char a[VG_ADDR_STRLEN];
	int n;

	if (len > 0)
		buf[0] = '\0';
	if (vg_addr_format(&p->addr, a, sizeof(a)) != 0)
		return -ENOSPC;
	if (host_plain && p->plen == vg_addr_bits(p->addr.family))
		n = snprintf(buf, len, "%s", a);
	else
		n = snprintf(buf, len, "%s/%u", a, p->plen);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return -ENOSPC;
	}
	return 0;
}

void
vg_addr_from_value(uint8_t family, vg_u128 v, struct vg_addr *out)
{
	unsigned n = vg_addr_bits(family) / 8;

	memset(out, 0, sizeof(*out));
	out->family = family;
	for (unsigned i = 0; i < n; i++)
		out->b[n - 1 - i] = (uint8_t)(v >> (8 * i));
}

void
vg_prefix_range(const struct vg_prefix *p, vg_u128 *lo, vg_u128 *hi)
{
	unsigned host = vg_addr_bits(p->addr.family) - p->plen;
	vg_u128 span = host >= 128 ? VG_U128_MAX : (((vg_u128)1 << host) - 1);
	vg_u128 a = vg_addr_value(&p->addr) & ~span;

	*lo = a;
	*hi = a | span;
}

bool
vg_prefix_has(const struct vg_prefix *p, const struct vg_addr *a)
{
	vg_u128 lo, hi, x;

	if (a->family != p->addr.family)
		return false;
	vg_prefix_range(p, &lo, &hi);
	x = vg_addr_value(a);
	return x >= lo && x <= hi;
}

unsigned
vg_range_prefixes(uint8_t family, vg_u128 lo, vg_u128 hi,
		void (*fn)(vg_u128 net, unsigned plen, void *arg), void *arg)
{
	unsigned bits = vg_addr_bits(family), count = 0;

	/* [lo, hi] as maximal aligned blocks of 2^k values */
	for (;;) {
		unsigned k = 0;

		while (k < bits) {
			vg_u128 size;

			if (k + 1 == 128) { /* 2^128 does not fit: the whole space */
				if (lo == 0 && hi == VG_U128_MAX)
					k = 128;
				break;
			}
			size = (vg_u128)1 << (k + 1);
			if ((lo & (size - 1)) != 0 || hi - lo < size - 1)
				break;
			k++;
		}
		fn(lo, bits - k, arg);
		count++;
		if (k == bits)
			break;
		vg_u128 end = lo + (((vg_u128)1 << k) - 1);

		if (end >= hi)
			break;
		lo = end + 1;
	}
	return count;
}

/* ---- interval sets ---- */

int
vg_ivs_add(struct vg_ivs *s, vg_u128 lo, vg_u128 hi)
{
	/* Capacity is the next power of two: grow when n is 0 or a power of two. */
	if ((s->n & (s->n - 1)) == 0) {
		unsigned cap = s->n ? s->n * 2 : 1;
		struct vg_iv *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		s->v = v;
	}
	s->v[s->n].lo = lo;
	s->v[s->n].hi = hi;
	s->n++;
	return 0;
}

int
vg_ivs_append(struct vg_ivs *dst, const struct vg_ivs *src)
{
	for (unsigned i = 0; i < src->n; i++)
		if (vg_ivs_add(dst, src->v[i].lo, src->v[i].hi) != 0)
			return -ENOMEM;
	return 0;
}

void
vg_ivs_free(struct vg_ivs *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int
iv_cmp(const void *a, const void *b)
{
	const struct vg_iv *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo ? 1 : 0;
}

void
vg_ivs_normalize(struct vg_ivs *s)
{
	unsigned out = 0;

	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(s->v[0]), iv_cmp);
	for (unsigned i = 1; i < s->n; i++) {
		struct vg_iv *last = &s->v[out];

		if (s->v[i].lo <= last->hi ||
				(last->hi != VG_U128_MAX && s->v[i].lo == last->hi + 1)) {
			if (s->v[i].hi > last->hi)
				last->hi = s->v[i].hi;
		} else {
			s->v[++out] = s->v[i];
		}
	}
	s->n = out + 1;
}

int
vg_ivs_sub(const struct vg_ivs *a, const struct vg_ivs *b, struct vg_ivs *out)
{
	unsigned j = 0;

	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < a->n; i++) {
		vg_u128 cur = a->v[i].lo, hi = a->v[i].hi;
		bool done = false;

		while (j < b->n && b->v[j].hi < cur)
			j++;
		for (unsigned k = j; k < b->n && b->v[k].lo <= hi; k++) {
			if (b->v[k].lo > cur && vg_ivs_add(out, cur, b->v[k].lo - 1) != 0)
				goto nomem;
			if (b->v[k].hi >= hi) {
				done = true;
				break;
			}
			cur = b->v[k].hi + 1;
		}
		if (!done && vg_ivs_add(out, cur, hi) != 0)
			goto nomem;
	}
	return 0;
nomem:
	vg_ivs_free(out);
	return -ENOMEM;
}

int
vg_ivs_complement(struct vg_ivs *s, vg_u128 max)
{
	struct vg_ivs all = { 0 }, c;
	int rc = vg_ivs_add(&all, 0, max);

	if (rc == 0)
		rc = vg_ivs_sub(&all, s, &c);
	vg_ivs_free(&all);
	if (rc != 0)
		return rc;
	vg_ivs_free(s);
	*s = c;
	return 0;
}

int
vg_ivs_intersect(struct vg_ivs *a, const struct vg_ivs *b)
{
	struct vg_ivs r = { 0 };
	unsigned i = 0, j = 0;

	while (i < a->n && j < b->n) {
		vg_u128 lo = a->v[i].lo > b->v[j].lo ? a->v[i].lo : b->v[j].lo;
		vg_u128 hi = a->v[i].hi < b->v[j].hi ? a->v[i].hi : b->v[j].hi;

		if (lo <= hi && vg_ivs_add(&r, lo, hi) != 0) {
			vg_ivs_free(&r);
			return -ENOMEM;
		}
		if (a->v[i].hi < b->v[j].hi)
			i++;
		else
			j++;
	}
	vg_ivs_free(a);
	*a = r;
	return 0;
}

bool
vg_ivs_has(const struct vg_ivs *a, vg_u128 x)
{
	unsigned lo = 0, hi = a->n;

	/* First interval whose hi >= x. */
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (a->v[mid].hi < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < a->n && a->v[lo].lo <= x;
}

bool
vg_ivs_overlaps(const struct vg_ivs *a, const struct vg_ivs *b)
{
	unsigned i = 0, j = 0;

	while (i < a->n && j < b->n) {
		if (a->v[i].hi < b->v[j].lo)
			i++;
		else if (b->v[j].hi < a->v[i].lo)
			j++;
		else
			return true;
	}
	return false;
}

bool
vg_ivs_contains(const struct vg_ivs *a, const struct vg_ivs *b)
{
	unsigned j = 0;

	/* Both are normalized, so each interval of b must sit inside one interval of a. */
	for (unsigned i = 0; i < b->n; i++) {
		while (j < a->n && a->v[j].hi < b->v[i].lo)
			j++;
		if (j == a->n || a->v[j].lo > b->v[i].lo || a->v[j].hi < b->v[i].hi)
			return false;
	}
	return true;
}

int
vg_addrset_add_prefix(struct vg_addrset *s, const struct vg_prefix *p)
{
	vg_u128 lo, hi;

	vg_prefix_range(p, &lo, &hi);
	return vg_ivs_add(p->addr.family == 4 ? &s->v4 : &s->v6, lo, hi);
}

bool
vg_addrset_has(const struct vg_addrset *s, const struct vg_addr *a)
{
	return vg_ivs_has(a->family == 4 ? &s->v4 : &s->v6, vg_addr_value(a));
}

void
vg_addrset_free(struct vg_addrset *s)
{
	vg_ivs_free(&s->v4);
	vg_ivs_free(&s->v6);
}
