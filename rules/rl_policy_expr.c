/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy loader: interval sets, the literals a match is written in (addresses, prefixes,
 * ranges, $set references, negations), and expressions resolved into interval sets.
 */
#include <arpa/inet.h>

#include "rl_policy_impl.h"

/* ---------------------------------------------------------------------------------------- */
/* Interval sets                                                                             */

static int
ivs_push(struct rl_ivs *s, rl_u128 lo, rl_u128 hi)
{
	/* Capacity is the next power of two: grow when n is 0 or a power of two. */
	if ((s->n & (s->n - 1)) == 0) {
		unsigned cap = s->n ? s->n * 2 : 1;
		struct rl_iv *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		s->v = v;
	}
	s->v[s->n].lo = lo;
	s->v[s->n].hi = hi;
	s->n++;
	return 0;
}

void
rl_ivs_free(struct rl_ivs *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int
iv_cmp(const void *a, const void *b)
{
	const struct rl_iv *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return 0;
}

/* Sort and merge overlapping or adjacent intervals. */
static void
ivs_normalize(struct rl_ivs *s)
{
	unsigned out = 0;

	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(s->v[0]), iv_cmp);
	for (unsigned i = 0; i < s->n; i++) {
		if (out > 0 && (s->v[out - 1].hi == U128_MAX ||
					       s->v[i].lo <= s->v[out - 1].hi + 1)) {
			if (s->v[i].hi > s->v[out - 1].hi)
				s->v[out - 1].hi = s->v[i].hi;
		} else {
			s->v[out++] = s->v[i];
		}
	}
	s->n = out;
}

static int
ivs_append(struct rl_ivs *dst, const struct rl_ivs *src)
{
	for (unsigned i = 0; i < src->n; i++)
		if (ivs_push(dst, src->v[i].lo, src->v[i].hi) != 0)
			return -ENOMEM;
	return 0;
}

/* out = a - b; a and b normalized. */
static int
ivs_sub(const struct rl_ivs *a, const struct rl_ivs *b, struct rl_ivs *out)
{
	unsigned j = 0;

	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < a->n; i++) {
		rl_u128 cur = a->v[i].lo, hi = a->v[i].hi;
		bool done = false;

		while (j < b->n && b->v[j].hi < cur)
			j++;
		for (unsigned k = j; k < b->n && b->v[k].lo <= hi; k++) {
			if (b->v[k].lo > cur && ivs_push(out, cur, b->v[k].lo - 1) != 0)
				return -ENOMEM;
			if (b->v[k].hi >= hi) {
				done = true;
				break;
			}
			cur = b->v[k].hi + 1;
		}
		if (!done && ivs_push(out, cur, hi) != 0)
			return -ENOMEM;
	}
	return 0;
}

bool
rl_ivs_has(const struct rl_ivs *a, rl_u128 x)
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
rl_ivs_contains(const struct rl_ivs *a, const struct rl_ivs *b)
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

/* ---------------------------------------------------------------------------------------- */
/* Literals                                                                                  */

static rl_u128
bytes_to_u128(const uint8_t *b, unsigned n)
{
	rl_u128 v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}

/*
 * Parse an address or prefix ("10.0.0.0/8", "2001:db8::1"). Returns 0, 1 when host bits were
 * set (and cleared), or -1 when s is not an address.
 */
static int
parse_cidr(const char *s, struct rl_item *it)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	uint64_t plen;
	int host_bits = 0;

	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(it->addr, 0, sizeof(it->addr));
	if (inet_pton(AF_INET, buf, it->addr) == 1)
		it->family = 4;
	else if (inet_pton(AF_INET6, buf, it->addr) == 1)
		it->family = 6;
	else
		return -1;
	unsigned max = it->family == 4 ? 32 : 128;
	if (slash == NULL) {
		plen = max;
	} else if (!isdigit((unsigned char)slash[1]) || (slash[1] == '0' && slash[2] != '\0') ||
			!parse_u64(slash + 1, &plen) || plen > max) {
		return -1;
	}
	it->plen = (uint8_t)plen;
	for (unsigned bit = (unsigned)plen; bit < max; bit++) {
		uint8_t m = (uint8_t)(0x80 >> (bit & 7));

		if (it->addr[bit >> 3] & m) {
			host_bits = 1;
			it->addr[bit >> 3] &= (uint8_t)~m;
		}
	}
	it->kind = RL_ITEM_CIDR;
	return host_bits;
}

static void
cidr_interval(const struct rl_item *it, rl_u128 *lo, rl_u128 *hi)
{
	unsigned bits = it->family == 4 ? 32 : 128;
	rl_u128 a = bytes_to_u128(it->addr, bits / 8);
	unsigned host = bits - it->plen;
	rl_u128 span = host == 128 ? U128_MAX : (((rl_u128)1 << host) - 1);

	*lo = a;
	*hi = a | span;
}

static void
cidr_text(const struct rl_item *it, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(it->family == 4 ? AF_INET : AF_INET6, it->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, it->plen);
}

/* "80" or "8000-8099" within [0, max]. Returns 0, -1 for text that is no range, -2 when out of
 * range, -3 when low > high. */
static int
parse_range(const char *s, uint32_t max, uint32_t *lo, uint32_t *hi)
{
	char buf[48];
	const char *dash = strchr(s, '-');
	uint64_t a, b;

	if (strlen(s) >= sizeof(buf))
		return -1;
	if (dash == NULL) {
		if (!parse_u64(s, &a))
			return -1;
		b = a;
	} else {
		memcpy(buf, s, (size_t)(dash - s));
		buf[dash - s] = '\0';
		if (!parse_u64(buf, &a) || !parse_u64(dash + 1, &b))
			return -1;
	}
	if (a > max || b > max)
		return -2;
	if (a > b)
		return -3;
	*lo = (uint32_t)a;
	*hi = (uint32_t)b;
	return 0;
}

/*
 * Parse one list element: '!' negation, $set, any, or a literal of the wanted kind. what names
 * the key in messages; kind_hint is RL_SET_ADDR or RL_SET_PORT, or -1 inside a set (either).
 * Returns 0 or -1 (error reported).
 */
static int
parse_item(struct rctx *c, yaml_node_t *n, const char *what, int kind_hint, bool in_set,
		struct rl_item *it)
{
	const char *s = rscalar(c, n, what);
	char tmp[80];

	memset(it, 0, sizeof(*it));
	it->line = vg_yaml_line(n);
	it->col = vg_yaml_col(n);
	if (s == NULL)
		return -1;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '!') {
		it->neg = true;
		s++;
		while (isspace((unsigned char)*s))
			s++;
	}
	if (*s == '$') {
		int idx = find_set(c->ld->p, s + 1);
		char names[256];

		if (idx < 0) {
			set_names(c->ld->p, names, sizeof(names));
			rerr(c, n, "'%s': unknown set '%s' (defined sets: %s)", what, s, names);
			return -1;
		}
		it->kind = RL_ITEM_SET;
		it->set = (unsigned)idx;
		return 0;
	}
	if (strcmp(s, "any") == 0) {
		if (in_set) {
			rerr(c, n, "'%s': 'any' cannot be part of a set; write any in the rule",
					what);
			return -1;
		}
		it->kind = RL_ITEM_ANY;
		return 0;
	}
	if (kind_hint != RL_SET_PORT) {
		int rc = parse_cidr(s, it);

		if (rc >= 0) {
			if (kind_hint == -2) {
				/* the caller wants a range only */
				rerr(c, n, "'%s': '%s' is an address; expected a number", what, s);
				return -1;
			}
			if (rc == 1) {
				cidr_text(it, tmp, sizeof(tmp));
				rwarn(c, n, "'%s': '%s' has host bits set; using %s", what, s, tmp);
			}
			return 0;
		}
	}
	if (kind_hint != RL_SET_ADDR) {
		uint32_t max = (uint32_t)(kind_hint == -2 ? 4095 : 65535);
		int rc = parse_range(s, max, &it->lo, &it->hi);

		if (rc == 0) {
			it->kind = RL_ITEM_RANGE;
			return 0;
		}
		if (rc == -2) {
			rerr(c, n, "'%s': '%s' is out of range (0..%u)", what, s, max);
			return -1;
		}
		if (rc == -3) {
			rerr(c, n, "'%s': range '%s' has its low end above its high end", what, s);
			return -1;
		}
	}
	if (kind_hint == RL_SET_ADDR)
		rerr(c, n, "'%s': '%s' is not an address, a CIDR prefix (10.0.0.0/8, 2001:db8::/32), a $set or any",
				what, s);
	else if (kind_hint == RL_SET_PORT)
		rerr(c, n, "'%s': '%s' is not a port (0..65535), a range (8000-8099), a $set or any",
				what, s);
	else if (kind_hint == -2)
		rerr(c, n, "'%s': '%s' is not a VLAN id (0..4095) or a range (100-199)", what, s);
	else
		rerr(c, n, "'%s': '%s' is neither an address or CIDR prefix nor a port or port range",
				what, s);
	return -1;
}

/* Parse a scalar or a flat list into an expression. kind as for parse_item. */
int
rl_policy_parse_expr(struct rctx *c, yaml_node_t *n, const char *what, int kind, bool in_set,
		struct rl_expr *e)
{
	int len = list_len(n);
	int rc = 0;

	if (n->type == YAML_MAPPING_NODE) {
		rerr(c, n, "'%s': expected a value or a list of values, found a mapping", what);
		return -1;
	}
	if (len == 0) {
		rerr(c, n, "'%s': the list is empty; leave the key out to match anything", what);
		return -1;
	}
	e->v = calloc((size_t)len, sizeof(*e->v));
	if (e->v == NULL) {
		oom(c->ld);
		return -1;
	}
	for (int i = 0; i < len; i++) {
		yaml_node_t *it = list_item(c->ld, n, i);

		if (it->type != YAML_SCALAR_NODE) {
			rerr(c, it, "'%s': lists cannot nest; found %s", what, kind_of(it));
			rc = -1;
			continue;
		}
		if (parse_item(c, it, what, kind, in_set, &e->v[e->n]) != 0) {
			rc = -1;
			continue;
		}
		e->n++;
	}
	/* A lone 'any' is the same as leaving the key out. */
	if (rc == 0 && e->n == 1 && e->v[0].kind == RL_ITEM_ANY && !e->v[0].neg) {
		free(e->v);
		e->v = NULL;
		e->n = 0;
	}
	return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Resolution of expressions into interval sets                                              */

static int
full_addrs(struct rl_addrset *a)
{
	memset(a, 0, sizeof(*a));
	if (ivs_push(&a->v4, 0, U32_MAX_128) != 0 || ivs_push(&a->v6, 0, U128_MAX) != 0)
		return -ENOMEM;
	return 0;
}

void
rl_addrset_free(struct rl_addrset *a)
{
	rl_ivs_free(&a->v4);
	rl_ivs_free(&a->v6);
}

/* Value of an address expression whose set references are resolved. */
int
rl_policy_addr_value(const struct rl_policy *p, const struct rl_expr *e, struct rl_addrset *out)
{
	struct rl_addrset pos = { 0 }, neg = { 0 };
	bool has_pos = false;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (e->n == 0)
		return full_addrs(out);
	for (unsigned i = 0; i < e->n && rc == 0; i++) {
		const struct rl_item *it = &e->v[i];
		struct rl_addrset *dst = it->neg ? &neg : &pos;
		rl_u128 lo, hi;

		has_pos |= !it->neg;
		switch (it->kind) {
		case RL_ITEM_ANY:
			rc = ivs_push(&dst->v4, 0, U32_MAX_128) | ivs_push(&dst->v6, 0, U128_MAX);
			break;
		case RL_ITEM_CIDR:
			cidr_interval(it, &lo, &hi);
			rc = ivs_push(it->family == 4 ? &dst->v4 : &dst->v6, lo, hi);
			break;
		case RL_ITEM_SET:
			rc = ivs_append(&dst->v4, &p->sets[it->set].addrs.v4) |
			     ivs_append(&dst->v6, &p->sets[it->set].addrs.v6);
			break;
		default:
			rc = -EINVAL;
		}
	}
	if (rc == 0 && !has_pos)
		rc = full_addrs(&pos);
	if (rc == 0) {
		ivs_normalize(&pos.v4);
		ivs_normalize(&pos.v6);
		ivs_normalize(&neg.v4);
		ivs_normalize(&neg.v6);
		rc = ivs_sub(&pos.v4, &neg.v4, &out->v4);
		if (rc == 0)
			rc = ivs_sub(&pos.v6, &neg.v6, &out->v6);
	}
	rl_addrset_free(&pos);
	rl_addrset_free(&neg);
	if (rc != 0)
		rl_addrset_free(out);
	return rc;
}

/* Value of a port (or VLAN, in-port) expression; universe [0, max]. */
int
rl_policy_range_value(const struct rl_policy *p, const struct rl_expr *e, uint32_t max,
		struct rl_ivs *out)
{
	struct rl_ivs pos = { 0 }, neg = { 0 };
	bool has_pos = false;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (e->n == 0)
		return ivs_push(out, 0, max);
	for (unsigned i = 0; i < e->n && rc == 0; i++) {
		const struct rl_item *it = &e->v[i];
		struct rl_ivs *dst = it->neg ? &neg : &pos;

		has_pos |= !it->neg;
		if (it->kind == RL_ITEM_ANY)
			rc = ivs_push(dst, 0, max);
		else if (it->kind == RL_ITEM_RANGE)
			rc = ivs_push(dst, it->lo, it->hi);
		else if (it->kind == RL_ITEM_SET)
			rc = ivs_append(dst, &p->sets[it->set].ports);
		else
			rc = -EINVAL;
	}
	if (rc == 0 && !has_pos)
		rc = ivs_push(&pos, 0, max);
	if (rc == 0) {
		ivs_normalize(&pos);
		ivs_normalize(&neg);
		rc = ivs_sub(&pos, &neg, out);
	}
	rl_ivs_free(&pos);
	rl_ivs_free(&neg);
	if (rc != 0)
		rl_ivs_free(out);
	return rc;
}
