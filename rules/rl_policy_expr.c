/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy loader: the literals a match is written in (addresses, prefixes, ranges, $set
 * references, negations), and expressions resolved into interval sets (common/vg_addr.h).
 */
#include "rl_policy_impl.h"

/* ---------------------------------------------------------------------------------------- */
/* Literals                                                                                  */

/* The item's prefix as common/vg_addr's. */
static void
item_prefix(const struct rl_item *it, struct vg_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->addr.family = it->family;
	memcpy(p->addr.b, it->addr, sizeof(p->addr.b));
	p->plen = it->plen;
}

/*
 * Parse an address or prefix ("10.0.0.0/8", "2001:db8::1"). Returns 0, 1 when host bits were
 * set (and cleared), or -1 when s is not an address.
 */
static int
parse_cidr(const char *s, struct rl_item *it)
{
	struct vg_prefix p;
	int rc = vg_prefix_parse(s, strlen(s), VG_PREFIX_HOST_BITS, &p, NULL);

	if (rc < 0)
		return -1;
	it->family = p.addr.family;
	it->plen = p.plen;
	memcpy(it->addr, p.addr.b, sizeof(it->addr));
	it->kind = RL_ITEM_CIDR;
	return rc;
}

static void
cidr_interval(const struct rl_item *it, rl_u128 *lo, rl_u128 *hi)
{
	struct vg_prefix p;

	item_prefix(it, &p);
	vg_prefix_range(&p, lo, hi);
}

static void
cidr_text(const struct rl_item *it, char *buf, size_t len)
{
	struct vg_prefix p;

	item_prefix(it, &p);
	vg_prefix_format(&p, false, buf, len);
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
full_addrs(struct vg_addrset *a)
{
	memset(a, 0, sizeof(*a));
	if (vg_ivs_add(&a->v4, 0, U32_MAX_128) != 0 || vg_ivs_add(&a->v6, 0, U128_MAX) != 0)
		return -ENOMEM;
	return 0;
}

/* Value of an address expression whose set references are resolved. */
int
rl_policy_addr_value(const struct rl_policy *p, const struct rl_expr *e, struct vg_addrset *out)
{
	struct vg_addrset pos = { 0 }, neg = { 0 };
	bool has_pos = false;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (e->n == 0)
		return full_addrs(out);
	for (unsigned i = 0; i < e->n && rc == 0; i++) {
		const struct rl_item *it = &e->v[i];
		struct vg_addrset *dst = it->neg ? &neg : &pos;
		rl_u128 lo, hi;

		has_pos |= !it->neg;
		switch (it->kind) {
		case RL_ITEM_ANY:
			rc = vg_ivs_add(&dst->v4, 0, U32_MAX_128) |
			     vg_ivs_add(&dst->v6, 0, U128_MAX);
			break;
		case RL_ITEM_CIDR:
			cidr_interval(it, &lo, &hi);
			rc = vg_ivs_add(it->family == 4 ? &dst->v4 : &dst->v6, lo, hi);
			break;
		case RL_ITEM_SET:
			rc = vg_ivs_append(&dst->v4, &p->sets[it->set].addrs.v4) |
			     vg_ivs_append(&dst->v6, &p->sets[it->set].addrs.v6);
			break;
		default:
			rc = -EINVAL;
		}
	}
	if (rc == 0 && !has_pos)
		rc = full_addrs(&pos);
	if (rc == 0) {
		vg_ivs_normalize(&pos.v4);
		vg_ivs_normalize(&pos.v6);
		vg_ivs_normalize(&neg.v4);
		vg_ivs_normalize(&neg.v6);
		rc = vg_ivs_sub(&pos.v4, &neg.v4, &out->v4);
		if (rc == 0)
			rc = vg_ivs_sub(&pos.v6, &neg.v6, &out->v6);
	}
	vg_addrset_free(&pos);
	vg_addrset_free(&neg);
	if (rc != 0)
		vg_addrset_free(out);
	return rc;
}

/* Value of a port (or VLAN, in-port) expression; universe [0, max]. */
int
rl_policy_range_value(const struct rl_policy *p, const struct rl_expr *e, uint32_t max,
		struct vg_ivs *out)
{
	struct vg_ivs pos = { 0 }, neg = { 0 };
	bool has_pos = false;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (e->n == 0)
		return vg_ivs_add(out, 0, max);
	for (unsigned i = 0; i < e->n && rc == 0; i++) {
		const struct rl_item *it = &e->v[i];
		struct vg_ivs *dst = it->neg ? &neg : &pos;

		has_pos |= !it->neg;
		if (it->kind == RL_ITEM_ANY)
			rc = vg_ivs_add(dst, 0, max);
		else if (it->kind == RL_ITEM_RANGE)
			rc = vg_ivs_add(dst, it->lo, it->hi);
		else if (it->kind == RL_ITEM_SET)
			rc = vg_ivs_append(dst, &p->sets[it->set].ports);
		else
			rc = -EINVAL;
	}
	if (rc == 0 && !has_pos)
		rc = vg_ivs_add(&pos, 0, max);
	if (rc == 0) {
		vg_ivs_normalize(&pos);
		vg_ivs_normalize(&neg);
		rc = vg_ivs_sub(&pos, &neg, out);
	}
	vg_ivs_free(&pos);
	vg_ivs_free(&neg);
	if (rc != 0)
		vg_ivs_free(out);
	return rc;
}
