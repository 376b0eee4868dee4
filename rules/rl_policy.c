/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy loader and validator. The document is walked with vg_yaml field tables; sets are
 * parsed first (rules refer to them), resolved with a depth-first walk that names any cycle,
 * then each rule is parsed, resolved into interval sets and checked for contradictions. Walking
 * goes on after an error so that one run reports every mistake.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rl_policy.h"
#include "vg_yaml.h"

#define U32_MAX_128 ((rl_u128)UINT32_MAX)
#define U128_MAX    (~(rl_u128)0)

struct rl_policy {
	char *file;
	enum rl_action def;
	enum rl_l2_verdict l2_default;
	struct rl_l2_entry *l2;
	unsigned n_l2;
	struct rl_set *sets;
	unsigned n_sets;
	struct rl_rule *rules;
	unsigned n_rules;
	struct rl_prefilter *pre;
	unsigned n_pre;
};

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

static void
ivs_free(struct rl_ivs *s)
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
/* Names                                                                                     */

static const char *const action_names[] = { "allow", "drop", "reject", "rate-limit", NULL };
static const char *const default_names[] = { "allow", "drop", "reject", NULL };
static const char *const l2_names[] = { "pass", "drop", NULL };
static const char *const per_names[] = { "rule", "source", NULL };

const char *
rl_action_name(enum rl_action a)
{
	if ((unsigned)a > RL_ACT_RATE_LIMIT)
		return "?";
	return action_names[a];
}

static const struct {
	const char *name;
	uint8_t num;
} proto_table[] = {
	{ "icmp", 1 },
	{ "tcp", 6 },
	{ "udp", 17 },
	{ "gre", 47 },
	{ "esp", 50 },
	{ "ah", 51 },
	{ "icmpv6", 58 },
	{ "ipv6-icmp", 58 },
	{ "sctp", 132 },
};

/* ICMP type names; -1 where the family has no such message. */
static const struct {
	const char *name;
	int v4;
	int v6;
} icmp_type_table[] = {
	{ "echo-reply", 0, 129 },
	{ "destination-unreachable", 3, 1 },
	{ "dest-unreach", 3, 1 },
	{ "source-quench", 4, -1 },
	{ "redirect", 5, 137 },
	{ "echo-request", 8, 128 },
	{ "router-advertisement", 9, 134 },
	{ "router-solicitation", 10, 133 },
	{ "time-exceeded", 11, 3 },
	{ "parameter-problem", 12, 4 },
	{ "timestamp-request", 13, -1 },
	{ "timestamp-reply", 14, -1 },
	{ "packet-too-big", -1, 2 },
	{ "neighbor-solicitation", -1, 135 },
	{ "neighbor-advertisement", -1, 136 },
};

static const struct {
	const char *name;
	uint8_t bit;
} tcp_flag_table[] = {
	{ "fin", 0x01 },
	{ "syn", 0x02 },
	{ "rst", 0x04 },
	{ "psh", 0x08 },
	{ "ack", 0x10 },
	{ "urg", 0x20 },
	{ "ece", 0x40 },
	{ "cwr", 0x80 },
};

static const struct {
	const char *name;
	uint32_t type;
} ether_table[] = {
	{ "arp", 0x0806 },
	{ "rarp", 0x8035 },
	{ "wol", 0x0842 },
	{ "ipx", 0x8137 },
	{ "lacp", 0x8809 },
	{ "mpls", 0x8847 },
	{ "mpls-multicast", 0x8848 },
	{ "pppoe-discovery", 0x8863 },
	{ "pppoe", 0x8864 },
	{ "eapol", 0x888e },
	{ "lldp", 0x88cc },
	{ "macsec", 0x88e5 },
	{ "ptp", 0x88f7 },
	{ "fcoe", 0x8906 },
	{ "llc", RL_ETHERTYPE_LLC },
};

/* ---------------------------------------------------------------------------------------- */
/* Loading context                                                                           */

struct ld {
	struct vg_yaml *y;
	struct rl_policy *p;
	const struct rl_env *env;
	char *dir; /* directory of the policy file, for relative bpf paths; NULL for buffers */
	bool oom;
	bool have_default;
	yaml_node_t *sets_node;
	yaml_node_t *rules_node;
	yaml_node_t *l2_node;
	yaml_node_t *prefilter_node;
	/* set resolution */
	uint8_t *set_state; /* 0 new, 1 on the stack, 2 done, 3 failed */
	unsigned *stack;
	unsigned depth;
	unsigned *name_line; /* per rule: position of the name value */
	unsigned *name_col;
};

/* One rule being parsed: the rule and the nodes later checks point at. */
struct rctx {
	struct ld *ld;
	struct rl_rule *r;
	const char *label; /* "rule 'web-in'" */
	bool bad;	   /* an error was reported for this rule */
	yaml_node_t *n_map, *n_action, *n_rate, *n_proto, *n_from, *n_to, *n_sport, *n_dport;
	yaml_node_t *n_icmp_type, *n_icmp_code, *n_flags;
	bool icmp_type_numeric;
};

static void
oom(struct ld *ld)
{
	if (!ld->oom)
		vg_yaml_err(ld->y, NULL, "out of memory while loading the policy");
	ld->oom = true;
}

static void __attribute__((format(printf, 3, 4)))
rerr(struct rctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	vg_yaml_err(c->ld->y, n, "%s: %s", c->label, msg != NULL ? msg : fmt);
	free(msg);
	c->bad = true;
}

static void __attribute__((format(printf, 3, 4)))
rwarn(struct rctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	vg_yaml_warn(c->ld->y, n, "%s: %s", c->label, msg != NULL ? msg : fmt);
	free(msg);
}

static const char *
scalar(yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static const char *
kind_of(const yaml_node_t *n)
{
	return n->type == YAML_SEQUENCE_NODE  ? "a list"
	       : n->type == YAML_MAPPING_NODE ? "a mapping"
					      : "a single value";
}

/* A scalar, or an error naming key. */
static const char *
rscalar(struct rctx *c, yaml_node_t *n, const char *key)
{
	const char *s = scalar(n);

	if (s == NULL)
		rerr(c, n, "'%s': expected a single value, found %s", key, kind_of(n));
	return s;
}

/* Decimal or 0x number with nothing after it; never octal (a port written 010 is ten). */
static bool
parse_u64(const char *s, uint64_t *out)
{
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *digits = hex ? s + 2 : s;
	char *end;

	if (!isxdigit((unsigned char)digits[0]) || (!hex && !isdigit((unsigned char)digits[0])))
		return false;
	errno = 0;
	unsigned long long v = strtoull(digits, &end, hex ? 16 : 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

static bool
rbool(struct rctx *c, yaml_node_t *n, const char *key, bool *out)
{
	const char *s = rscalar(c, n, key);

	if (s == NULL)
		return false;
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "on") == 0) {
		*out = true;
		return true;
	}
	if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "off") == 0) {
		*out = false;
		return true;
	}
	rerr(c, n, "'%s': '%s' is not a boolean (true or false)", key, s);
	return false;
}

static bool
renum(struct rctx *c, yaml_node_t *n, const char *key, const char *const *names, int *out)
{
	const char *s = rscalar(c, n, key);
	char accepted[128] = "";
	size_t used = 0;

	if (s == NULL)
		return false;
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return true;
		}
		int w = snprintf(accepted + used, sizeof(accepted) - used, "%s%s", i ? ", " : "",
				names[i]);
		if (w > 0 && (size_t)w < sizeof(accepted) - used)
			used += (size_t)w;
	}
	rerr(c, n, "'%s': '%s' is not one of: %s", key, s, accepted);
	return false;
}

/* Items of a value that may be one scalar or a flat list of scalars. */
static int
list_len(yaml_node_t *n)
{
	return n->type == YAML_SEQUENCE_NODE ? vg_yaml_seq_len(n) : 1;
}

static yaml_node_t *
list_item(struct ld *ld, yaml_node_t *n, int i)
{
	return n->type == YAML_SEQUENCE_NODE ? vg_yaml_seq_item(ld->y, n, i) : n;
}

static int
find_set(const struct rl_policy *p, const char *name)
{
	for (unsigned i = 0; i < p->n_sets; i++)
		if (strcmp(p->sets[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* "a, b, c" of the defined set names, for messages. */
static void
set_names(const struct rl_policy *p, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < p->n_sets && used + 8 < len; i++) {
		int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", p->sets[i].name);
		if (w > 0 && (size_t)w < len - used)
			used += (size_t)w;
	}
	if (p->n_sets == 0)
		snprintf(buf, len, "none");
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
static int
parse_expr(struct rctx *c, yaml_node_t *n, const char *what, int kind, bool in_set,
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

static void
addrs_free(struct rl_addrset *a)
{
	ivs_free(&a->v4);
	ivs_free(&a->v6);
}

/* Value of an address expression whose set references are resolved. */
static int
addr_value(const struct rl_policy *p, const struct rl_expr *e, struct rl_addrset *out)
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
	addrs_free(&pos);
	addrs_free(&neg);
	if (rc != 0)
		addrs_free(out);
	return rc;
}

/* Value of a port (or VLAN, in-port) expression; universe [0, max]. */
static int
range_value(const struct rl_policy *p, const struct rl_expr *e, uint32_t max, struct rl_ivs *out)
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
	ivs_free(&pos);
	ivs_free(&neg);
	if (rc != 0)
		ivs_free(out);
	return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Sets                                                                                      */

static bool
valid_name(const char *s)
{
	if (!isalpha((unsigned char)s[0]) && s[0] != '_')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
	return true;
}

static void
parse_sets(struct ld *ld)
{
	yaml_node_t *n = ld->sets_node;
	struct rl_policy *p = ld->p;
	unsigned count;

	if (n == NULL)
		return;
	if (!vg_yaml_expect_map(ld->y, n, "sets"))
		return;
	count = (unsigned)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	p->sets = calloc(count + 1, sizeof(*p->sets));
	ld->set_state = calloc(count + 1, 1);
	ld->stack = calloc(count + 1, sizeof(*ld->stack));
	if (p->sets == NULL || ld->set_state == NULL || ld->stack == NULL) {
		oom(ld);
		return;
	}
	/* Names first, so that sets may refer to sets defined further down. */
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
			pr++) {
		yaml_node_t *k = vg_yaml_node(ld->y, pr->key);
		const char *name = scalar(k);
		struct rl_set *s = &p->sets[p->n_sets];

		if (name == NULL || !valid_name(name)) {
			vg_yaml_err(ld->y, k,
					"sets: '%s' is not a usable set name (a letter or '_', then letters, digits, '-' or '_')",
					name != NULL ? name : "?");
			continue;
		}
		if (find_set(p, name) >= 0) {
			vg_yaml_err(ld->y, k, "sets: set '%s' is defined more than once", name);
			continue;
		}
		s->name = strdup(name);
		if (s->name == NULL) {
			oom(ld);
			return;
		}
		s->line = vg_yaml_line(k);
		s->col = vg_yaml_col(k);
		p->n_sets++;
	}
	unsigned idx = 0;
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
			pr++) {
		yaml_node_t *k = vg_yaml_node(ld->y, pr->key);
		yaml_node_t *v = vg_yaml_node(ld->y, pr->value);
		const char *name = scalar(k);
		char label[96];

		if (idx >= p->n_sets || name == NULL || strcmp(name, p->sets[idx].name) != 0)
			continue; /* rejected above */
		struct rl_set *s = &p->sets[idx++];
		struct rctx c = { .ld = ld, .label = label };

		snprintf(label, sizeof(label), "set '%s'", s->name);
		if (parse_expr(&c, v, s->name, -1, true, &s->expr) != 0)
			ld->set_state[s - p->sets] = 3;
	}
}

static int
resolve_set(struct ld *ld, unsigned i, const struct rl_item *via)
{
	struct rl_policy *p = ld->p;
	struct rl_set *s = &p->sets[i];
	char label[96];
	struct rctx c = { .ld = ld, .label = label };
	int kind = -1;

	if (ld->set_state[i] == 2)
		return 0;
	if (ld->set_state[i] == 3)
		return -1;
	if (ld->set_state[i] == 1) {
		/* Cycle: the stack from i up to here, then i again. */
		char path[512];
		size_t used = 0;
		unsigned from = 0;

		while (from < ld->depth && ld->stack[from] != i)
			from++;
		for (unsigned k = from; k < ld->depth; k++) {
			int w = snprintf(path + used, sizeof(path) - used, "%s -> ",
					p->sets[ld->stack[k]].name);
			if (w > 0 && (size_t)w < sizeof(path) - used)
				used += (size_t)w;
		}
		snprintf(path + used, sizeof(path) - used, "%s", s->name);
		vg_diag_add(ld->y->diag, VG_SEV_ERROR, ld->y->file, via->line, via->col,
				"set '%s': sets include each other in a cycle: %s",
				p->sets[ld->stack[ld->depth - 1]].name, path);
		ld->y->errors++;
		/* Every set on the cycle fails; report it once. */
		for (unsigned k = from; k < ld->depth; k++)
			ld->set_state[ld->stack[k]] = 3;
		return -1;
	}
	ld->set_state[i] = 1;
	ld->stack[ld->depth++] = i;
	snprintf(label, sizeof(label), "set '%s'", s->name);
	for (unsigned k = 0; k < s->expr.n; k++) {
		const struct rl_item *it = &s->expr.v[k];
		int ik;

		if (it->kind == RL_ITEM_SET) {
			if (resolve_set(ld, it->set, it) != 0) {
				if (ld->set_state[i] != 3)
					ld->set_state[i] = 4; /* failed because of another set */
				continue;
			}
			ik = (int)p->sets[it->set].kind;
		} else {
			ik = it->kind == RL_ITEM_CIDR ? RL_SET_ADDR : RL_SET_PORT;
		}
		if (kind < 0) {
			kind = ik;
		} else if (ik != kind) {
			yaml_node_t fake = { 0 };

			fake.start_mark.line = it->line - 1;
			fake.start_mark.column = it->col - 1;
			rerr(&c, &fake, "mixes addresses and ports; a set holds one or the other");
			ld->set_state[i] = 4;
		}
	}
	ld->depth--;
	if (ld->set_state[i] != 1) {
		ld->set_state[i] = 3;
		return -1;
	}
	s->kind = kind < 0 ? RL_SET_ADDR : (enum rl_set_kind)kind;
	int rc = s->kind == RL_SET_ADDR ? addr_value(p, &s->expr, &s->addrs)
					: range_value(p, &s->expr, 65535, &s->ports);
	if (rc != 0) {
		oom(ld);
		ld->set_state[i] = 3;
		return -1;
	}
	ld->set_state[i] = 2;
	return 0;
}

static void
resolve_sets(struct ld *ld)
{
	for (unsigned i = 0; i < ld->p->n_sets && !ld->oom; i++) {
		const struct rl_item none = { .line = ld->p->sets[i].line,
			.col = ld->p->sets[i].col };

		ld->depth = 0;
		(void)resolve_set(ld, i, &none);
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Rule fields                                                                               */

#define RC(obj) ((struct rctx *)(obj))

static int
f_name(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	(void)v;
	(void)key;
	(void)obj;
	return 0; /* read before the walk */
}

static int
f_description(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	const char *s = rscalar(c, v, key);

	(void)y;
	if (s == NULL)
		return -EINVAL;
	c->r->description = strdup(s);
	if (c->r->description == NULL)
		oom(c->ld);
	return 0;
}

static int
f_in(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	const struct rl_env *env = c->ld->env;
	uint32_t pos = 0, neg = 0;
	bool has_pos = false;
	int len = list_len(v);

	(void)y;
	if (v->type == YAML_MAPPING_NODE || len == 0) {
		rerr(c, v, "'%s': expected a port name or a list of port names", key);
		return -EINVAL;
	}
	for (int i = 0; i < len; i++) {
		yaml_node_t *it = list_item(c->ld, v, i);
		const char *s = rscalar(c, it, key);
		bool is_neg = false;
		unsigned k;

		if (s == NULL)
			continue;
		if (*s == '!') {
			is_neg = true;
			s++;
		}
		for (k = 0; env != NULL && k < env->n_ports && k < RL_MAX_PORTS; k++)
			if (strcmp(env->ports[k], s) == 0)
				break;
		if (env == NULL || k == env->n_ports || k >= RL_MAX_PORTS) {
			char names[256] = "";
			size_t used = 0;

			for (unsigned j = 0; env != NULL && j < env->n_ports; j++) {
				int w = snprintf(names + used, sizeof(names) - used, "%s%s",
						j ? ", " : "", env->ports[j]);
				if (w > 0 && (size_t)w < sizeof(names) - used)
					used += (size_t)w;
			}
			rerr(c, it, "'%s': no port is named '%s' (ports: %s)", key, s,
					used ? names : "none configured");
			continue;
		}
		if (is_neg) {
			neg |= 1u << k;
		} else {
			pos |= 1u << k;
			has_pos = true;
		}
	}
	c->r->in_any = false;
	c->r->in_ports = (has_pos ? pos : UINT32_MAX) & ~neg;
	if (!c->bad && c->r->in_ports == 0)
		rerr(c, v, "'%s': no ingress port is left after the negations", key);
	return 0;
}

static int
f_vlan(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	struct rl_expr e = { 0 };

	(void)y;
	if (parse_expr(c, v, key, -2, false, &e) == 0) {
		for (unsigned i = 0; i < e.n; i++)
			if (e.v[i].kind == RL_ITEM_SET || e.v[i].neg) {
				rerr(c, v, "'%s': takes VLAN ids and ranges, not sets or negations",
						key);
				free(e.v);
				return -EINVAL;
			}
		if (e.n > 0) {
			if (range_value(c->ld->p, &e, 4095, &c->r->vlan) != 0)
				oom(c->ld);
			c->r->vlan_any = false;
		}
	}
	free(e.v);
	return 0;
}

static int
f_proto(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	int len = list_len(v);

	(void)y;
	c->n_proto = v;
	if (v->type == YAML_MAPPING_NODE || len == 0) {
		rerr(c, v, "'%s': expected a protocol or a list of protocols", key);
		return -EINVAL;
	}
	memset(c->r->protos, 0, sizeof(c->r->protos));
	for (int i = 0; i < len; i++) {
		yaml_node_t *it = list_item(c->ld, v, i);
		const char *s = rscalar(c, it, key);
		uint64_t num = 256;

		if (s == NULL)
			continue;
		if (strcmp(s, "any") == 0) {
			if (len > 1) {
				rerr(c, it, "'%s': 'any' cannot be listed with other protocols",
						key);
				continue;
			}
			return 0;
		}
		for (size_t k = 0; k < sizeof(proto_table) / sizeof(proto_table[0]); k++)
			if (strcmp(s, proto_table[k].name) == 0)
				num = proto_table[k].num;
		if (num == 256 && (!parse_u64(s, &num) || num > 255)) {
			rerr(c, it, "'%s': '%s' is not a protocol (tcp, udp, icmp, icmpv6, sctp, gre, esp, ah, any, or a number 0..255)",
					key, s);
			continue;
		}
		c->r->protos[num >> 6] |= 1ULL << (num & 63);
		c->r->proto_any = false;
	}
	return 0;
}

static int
f_addr(struct rctx *c, yaml_node_t *v, const char *key, struct rl_expr *e)
{
	if (parse_expr(c, v, key, RL_SET_ADDR, false, e) != 0)
		return -EINVAL;
	for (unsigned i = 0; i < e->n; i++) {
		const struct rl_item *it = &e->v[i];

		if (it->kind != RL_ITEM_SET)
			continue;
		const struct rl_set *s = &c->ld->p->sets[it->set];
		uint8_t st = c->ld->set_state[it->set];
		yaml_node_t *n = list_item(c->ld, v, (int)i);

		if (st != 2) {
			c->bad = true; /* the set's own error is reported */
		} else if (s->kind != RL_SET_ADDR) {
			rerr(c, v->type == YAML_SEQUENCE_NODE ? n : v,
					"'%s': set '%s' holds ports, not addresses", key, s->name);
		}
	}
	return 0;
}

static int
f_from(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	RC(obj)->n_from = v;
	return f_addr(RC(obj), v, key, &RC(obj)->r->from);
}

static int
f_to(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	RC(obj)->n_to = v;
	return f_addr(RC(obj), v, key, &RC(obj)->r->to);
}

static int
f_port(struct rctx *c, yaml_node_t *v, const char *key, struct rl_expr *e)
{
	if (parse_expr(c, v, key, RL_SET_PORT, false, e) != 0)
		return -EINVAL;
	for (unsigned i = 0; i < e->n; i++) {
		const struct rl_item *it = &e->v[i];

		if (it->kind != RL_ITEM_SET)
			continue;
		const struct rl_set *s = &c->ld->p->sets[it->set];
		yaml_node_t *n = list_item(c->ld, v, (int)i);

		if (c->ld->set_state[it->set] != 2)
			c->bad = true;
		else if (s->kind != RL_SET_PORT)
			rerr(c, n, "'%s': set '%s' holds addresses, not ports", key, s->name);
	}
	return 0;
}

static int
f_sport(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	RC(obj)->n_sport = v;
	return f_port(RC(obj), v, key, &RC(obj)->r->sport);
}

static int
f_dport(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	RC(obj)->n_dport = v;
	return f_port(RC(obj), v, key, &RC(obj)->r->dport);
}

static int
f_icmp_type(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	const char *s = rscalar(c, v, key);
	uint64_t num;

	(void)y;
	c->n_icmp_type = v;
	if (s == NULL)
		return -EINVAL;
	if (parse_u64(s, &num)) {
		if (num > 255) {
			rerr(c, v, "'%s': %s is out of range (0..255)", key, s);
			return -EINVAL;
		}
		c->r->icmp_type4 = c->r->icmp_type6 = (int)num;
		c->icmp_type_numeric = true;
		return 0;
	}
	for (size_t k = 0; k < sizeof(icmp_type_table) / sizeof(icmp_type_table[0]); k++)
		if (strcmp(s, icmp_type_table[k].name) == 0) {
			c->r->icmp_type4 = icmp_type_table[k].v4;
			c->r->icmp_type6 = icmp_type_table[k].v6;
			return 0;
		}
	rerr(c, v, "'%s': '%s' is not an ICMP type (a number 0..255, or echo-request, echo-reply, destination-unreachable, time-exceeded, redirect, parameter-problem, packet-too-big, neighbor-solicitation, ...)",
			key, s);
	return -EINVAL;
}

static int
f_icmp_code(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	const char *s = rscalar(c, v, key);
	uint64_t num;

	(void)y;
	c->n_icmp_code = v;
	if (s == NULL)
		return -EINVAL;
	if (!parse_u64(s, &num) || num > 255) {
		rerr(c, v, "'%s': '%s' is not an ICMP code (0..255)", key, s);
		return -EINVAL;
	}
	c->r->icmp_code = (int)num;
	return 0;
}

static int
flag_list(struct rctx *c, yaml_node_t *v, const char *key, uint8_t *out)
{
	int len = list_len(v);

	*out = 0;
	if (v->type == YAML_MAPPING_NODE) {
		rerr(c, v, "'%s': expected a list of flags", key);
		return -1;
	}
	for (int i = 0; i < len; i++) {
		yaml_node_t *it = list_item(c->ld, v, i);
		const char *s = rscalar(c, it, key);
		size_t k;

		if (s == NULL)
			continue;
		for (k = 0; k < sizeof(tcp_flag_table) / sizeof(tcp_flag_table[0]); k++)
			if (strcasecmp(s, tcp_flag_table[k].name) == 0)
				break;
		if (k == sizeof(tcp_flag_table) / sizeof(tcp_flag_table[0])) {
			rerr(c, it, "'%s': '%s' is not a TCP flag (fin, syn, rst, psh, ack, urg, ece, cwr)",
					key, s);
			continue;
		}
		*out |= tcp_flag_table[k].bit;
	}
	return 0;
}

static int
f_tcp_flags(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	yaml_node_t *n_set = NULL, *n_unset = NULL;
	uint8_t set = 0, unset = 0;

	(void)y;
	c->n_flags = v;
	if (v->type != YAML_MAPPING_NODE) {
		rerr(c, v, "'%s': expected a mapping like {set: [syn], unset: [ack]}", key);
		return -EINVAL;
	}
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
			p++) {
		yaml_node_t *k = vg_yaml_node(c->ld->y, p->key);
		yaml_node_t *val = vg_yaml_node(c->ld->y, p->value);
		const char *name = scalar(k);

		if (name != NULL && strcmp(name, "set") == 0 && n_set == NULL) {
			n_set = val;
			flag_list(c, val, "tcp_flags.set", &set);
		} else if (name != NULL && strcmp(name, "unset") == 0 && n_unset == NULL) {
			n_unset = val;
			flag_list(c, val, "tcp_flags.unset", &unset);
		} else {
			rerr(c, k, "'%s': unknown or repeated key '%s' (accepted: set, unset)", key,
					name != NULL ? name : "?");
		}
	}
	if (set & unset) {
		rerr(c, v, "'%s': a flag cannot be both set and unset", key);
		return -EINVAL;
	}
	if ((set | unset) == 0 && !c->bad) {
		rerr(c, v, "'%s': name at least one flag in set or unset", key);
		return -EINVAL;
	}
	c->r->stateless = true;
	c->r->flags_set = set;
	c->r->flags_mask = set | unset;
	return 0;
}

static int
f_action(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	int a;

	(void)y;
	c->n_action = v;
	if (renum(c, v, key, action_names, &a))
		c->r->action = (enum rl_action)a;
	return 0;
}

/* "100", "10k", "5M", "1G" (decimal multiples, as rates are quoted). */
static bool
parse_rate_num(const char *s, uint64_t *out)
{
	char *end;
	uint64_t mult = 1;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0)
		return false;
	if (strcmp(end, "k") == 0 || strcmp(end, "K") == 0)
		mult = 1000;
	else if (strcmp(end, "M") == 0)
		mult = 1000000;
	else if (strcmp(end, "G") == 0)
		mult = 1000000000;
	else if (*end != '\0')
		return false;
	if (v > UINT64_MAX / mult)
		return false;
	*out = v * mult;
	return true;
}

#define RL_RATE_MAX  1000000000000ULL /* 1 Tbit/s or 1e12 packets/s */
#define RL_BURST_MAX 1000000000ULL    /* packets or bytes */

static int
f_rate(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	struct rl_rate *r = &c->r->rate;
	yaml_node_t *n_rate = NULL, *n_burst = NULL;
	uint64_t burst = 0;

	(void)y;
	c->n_rate = v;
	if (v->type != YAML_MAPPING_NODE) {
		rerr(c, v, "'%s': expected a mapping like {pps: 100, burst: 200, per: source}",
				key);
		return -EINVAL;
	}
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
			p++) {
		yaml_node_t *k = vg_yaml_node(c->ld->y, p->key);
		yaml_node_t *val = vg_yaml_node(c->ld->y, p->value);
		const char *name = scalar(k);
		const char *s;

		if (name != NULL && (strcmp(name, "pps") == 0 || strcmp(name, "bps") == 0)) {
			if (n_rate != NULL) {
				rerr(c, k, "'%s': give either pps or bps, once", key);
				continue;
			}
			n_rate = val;
			r->unit = name[0] == 'p' ? RL_RATE_PPS : RL_RATE_BPS;
			s = rscalar(c, val, name);
			if (s != NULL && (!parse_rate_num(s, &r->rate) || r->rate == 0 ||
							 r->rate > RL_RATE_MAX))
				rerr(c, val, "'%s.%s': '%s' is not a rate (a whole number 1..10^12, optionally with k, M or G)",
						key, name, s);
		} else if (name != NULL && strcmp(name, "burst") == 0 && n_burst == NULL) {
			n_burst = val;
			s = rscalar(c, val, "burst");
			if (s != NULL && (!parse_rate_num(s, &burst) || burst == 0 ||
							 burst > RL_BURST_MAX))
				rerr(c, val, "'%s.burst': '%s' is not a burst size (1..10^9 packets for pps, bytes for bps)",
						key, s);
		} else if (name != NULL && strcmp(name, "per") == 0) {
			int per;

			if (renum(c, val, "rate.per", per_names, &per))
				r->per = (enum rl_rate_per)per;
		} else {
			rerr(c, k, "'%s': unknown or repeated key '%s' (accepted: pps, bps, burst, per)",
					key, name != NULL ? name : "?");
		}
	}
	if (n_rate == NULL) {
		rerr(c, v, "'%s': needs pps or bps", key);
		return -EINVAL;
	}
	if (burst == 0) {
		/* One second's worth: packets for pps, bytes for bps. */
		burst = r->unit == RL_RATE_PPS ? r->rate : r->rate / 8;
		if (burst == 0)
			burst = 1;
		if (burst > RL_BURST_MAX)
			burst = RL_BURST_MAX;
	}
	r->burst = burst;
	return 0;
}

static int
f_log(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	rbool(RC(obj), v, key, &RC(obj)->r->log);
	return 0;
}

static int
f_dry_run(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	rbool(RC(obj), v, key, &RC(obj)->r->dry_run);
	return 0;
}

static int
f_inspect(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	const struct rl_env *env = c->ld->env;
	int len = list_len(v);

	(void)y;
	if (v->type == YAML_MAPPING_NODE || len == 0) {
		rerr(c, v, "'%s': expected a signature group name or a list of them", key);
		return -EINVAL;
	}
	c->r->inspect = calloc((size_t)len, sizeof(char *));
	if (c->r->inspect == NULL) {
		oom(c->ld);
		return -ENOMEM;
	}
	for (int i = 0; i < len; i++) {
		yaml_node_t *it = list_item(c->ld, v, i);
		const char *s = rscalar(c, it, key);
		bool known = env == NULL || env->sig_groups == NULL;

		if (s == NULL)
			continue;
		if (s[0] == '\0') {
			rerr(c, it, "'%s': empty group name", key);
			continue;
		}
		for (unsigned k = 0; !known && k < env->n_sig_groups; k++)
			known = strcmp(env->sig_groups[k], s) == 0;
		if (!known) {
			rerr(c, it, "'%s': no signature group is named '%s'", key, s);
			continue;
		}
		c->r->inspect[c->r->n_inspect] = strdup(s);
		if (c->r->inspect[c->r->n_inspect] == NULL) {
			oom(c->ld);
			return -ENOMEM;
		}
		c->r->n_inspect++;
	}
	return 0;
}

static char bpf_uploads[1024];

void
rl_policy_set_bpf_uploads(const char *dir)
{
	snprintf(bpf_uploads, sizeof(bpf_uploads), "%s", dir != NULL ? dir : "");
}

const char *
rl_policy_bpf_uploads(void)
{
	return bpf_uploads[0] ? bpf_uploads : NULL;
}

/* sha256:HEX (64 lower-case hex digits) or upload:NAME: the uploaded object's path, or NULL
 * with the reason reported. */
static char *
upload_path(struct rctx *c, yaml_node_t *v, const char *key, const char *s)
{
	char *path = NULL, *real;
	const char *ref = strchr(s, ':') + 1;
	bool sha = strncmp(s, "sha256:", 7) == 0;
	size_t n = strlen(ref);

	if (bpf_uploads[0] == '\0') {
		rerr(c, v, "'%s': '%s' names an uploaded program, but uploads need a store (store.path)",
				key, s);
		return NULL;
	}
	if (sha ? n != 64 || strspn(ref, "0123456789abcdef") != 64
		: n == 0 || n > 64 || strspn(ref, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n) {
		rerr(c, v, "'%s': '%s': expected %s", key, s,
				sha ? "sha256: and 64 lower-case hex digits"
				    : "upload: and a name of lower-case letters, digits, '_' and '-'");
		return NULL;
	}
	if (asprintf(&path, sha ? "%s/%s.o" : "%s/names/%s.o", bpf_uploads, ref) < 0) {
		oom(c->ld);
		return NULL;
	}
	/* The object itself (a name is a link to the newest upload): what runs is named by its
	 * SHA-256 in the status. */
	real = realpath(path, NULL);
	if (real == NULL) {
		rerr(c, v, "'%s': no program was uploaded as '%s' (%s)", key, ref, path);
		free(path);
		return NULL;
	}
	free(path);
	return real;
}

static int
f_bpf(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	const char *s = rscalar(c, v, key);

	(void)y;
	if (s == NULL)
		return -EINVAL;
	if (s[0] == '\0') {
		rerr(c, v, "'%s': empty path", key);
		return -EINVAL;
	}
	if (strncmp(s, "sha256:", 7) == 0 || strncmp(s, "upload:", 7) == 0) {
		c->r->bpf = upload_path(c, v, key, s);
		return c->r->bpf != NULL ? 0 : -EINVAL;
	}
	/* Relative paths are relative to the policy file, so that a policy and its programs move
	 * together. */
	if (s[0] != '/' && c->ld->dir != NULL) {
		if (asprintf(&c->r->bpf, "%s/%s", c->ld->dir, s) < 0)
			c->r->bpf = NULL;
	} else {
		c->r->bpf = strdup(s);
	}
	if (c->r->bpf == NULL)
		oom(c->ld);
	return 0;
}

static const struct vg_yaml_field rule_fields[] = {
	{ .name = "name", .type = VG_YT_CUSTOM, .parse = f_name },
	{ .name = "description", .type = VG_YT_CUSTOM, .parse = f_description },
	{ .name = "in", .type = VG_YT_CUSTOM, .parse = f_in },
	{ .name = "vlan", .type = VG_YT_CUSTOM, .parse = f_vlan },
	{ .name = "proto", .type = VG_YT_CUSTOM, .parse = f_proto },
	{ .name = "from", .type = VG_YT_CUSTOM, .parse = f_from },
	{ .name = "to", .type = VG_YT_CUSTOM, .parse = f_to },
	{ .name = "sport", .type = VG_YT_CUSTOM, .parse = f_sport },
	{ .name = "dport", .type = VG_YT_CUSTOM, .parse = f_dport },
	{ .name = "icmp_type", .type = VG_YT_CUSTOM, .parse = f_icmp_type },
	{ .name = "icmp_code", .type = VG_YT_CUSTOM, .parse = f_icmp_code },
	{ .name = "tcp_flags", .type = VG_YT_CUSTOM, .parse = f_tcp_flags },
	{ .name = "action", .type = VG_YT_CUSTOM, .parse = f_action, .required = true },
	{ .name = "rate", .type = VG_YT_CUSTOM, .parse = f_rate },
	{ .name = "log", .type = VG_YT_CUSTOM, .parse = f_log },
	{ .name = "inspect", .type = VG_YT_CUSTOM, .parse = f_inspect },
	{ .name = "bpf", .type = VG_YT_CUSTOM, .parse = f_bpf },
	{ .name = "dry_run", .type = VG_YT_CUSTOM, .parse = f_dry_run },
	{ 0 },
};

/* ---------------------------------------------------------------------------------------- */
/* Rule checks that span fields                                                              */

static bool
proto_only(const struct rl_rule *r, const uint8_t *allowed, unsigned n)
{
	uint64_t mask[4] = { 0 };

	if (r->proto_any)
		return false;
	for (unsigned i = 0; i < n; i++)
		mask[allowed[i] >> 6] |= 1ULL << (allowed[i] & 63);
	for (unsigned i = 0; i < 4; i++)
		if (r->protos[i] & ~mask[i])
			return false;
	return true;
}

static void
proto_text(const struct rl_rule *r, char *buf, size_t len)
{
	size_t used = 0;

	if (r->proto_any) {
		snprintf(buf, len, "any");
		return;
	}
	buf[0] = '\0';
	for (unsigned p = 0; p < 256; p++) {
		const char *name = NULL;
		int w;

		if (!rl_rule_has_proto(r, (uint8_t)p))
			continue;
		for (size_t k = 0; k < sizeof(proto_table) / sizeof(proto_table[0]); k++)
			if (proto_table[k].num == p && name == NULL)
				name = proto_table[k].name;
		w = name != NULL ? snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name)
				 : snprintf(buf + used, len - used, "%s%u", used ? ", " : "", p);
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
}

static void
check_rule(struct rctx *c)
{
	struct rl_rule *r = c->r;
	static const uint8_t port_protos[] = { 6, 17, 132 };
	static const uint8_t icmp_protos[] = { 1, 58 };
	static const uint8_t tcp_only[] = { 6 };
	char protos[128];
	int rc;

	proto_text(r, protos, sizeof(protos));
	if (r->action == RL_ACT_RATE_LIMIT && c->n_rate == NULL && c->n_action != NULL)
		rerr(c, c->n_action, "'action': rate-limit needs a 'rate' ({pps: N} or {bps: N})");
	if (r->action != RL_ACT_RATE_LIMIT && c->n_rate != NULL && c->n_action != NULL)
		rerr(c, c->n_rate, "'rate': only a rate-limit rule has a rate (action is %s)",
				rl_action_name(r->action));
	if (c->n_sport != NULL && !proto_only(r, port_protos, 3))
		rerr(c, c->n_sport, "'sport': ports need proto tcp, udp or sctp (proto is %s)",
				protos);
	if (c->n_dport != NULL && !proto_only(r, port_protos, 3))
		rerr(c, c->n_dport, "'dport': ports need proto tcp, udp or sctp (proto is %s)",
				protos);
	if (c->n_icmp_type != NULL && !proto_only(r, icmp_protos, 2))
		rerr(c, c->n_icmp_type, "'icmp_type': needs proto icmp or icmpv6 (proto is %s)",
				protos);
	else if (c->n_icmp_type != NULL && c->icmp_type_numeric && rl_rule_has_proto(r, 1) &&
			rl_rule_has_proto(r, 58))
		rerr(c, c->n_icmp_type,
				"'icmp_type': type numbers differ between ICMP and ICMPv6 (echo-request is 8 and 128); use a name such as echo-request, or one rule per protocol");
	else if (c->n_icmp_type != NULL && !c->bad &&
			((rl_rule_has_proto(r, 1) && r->icmp_type4 < 0) ||
					(rl_rule_has_proto(r, 58) && r->icmp_type6 < 0)))
		rerr(c, c->n_icmp_type, "'icmp_type': '%s' does not exist in %s",
				scalar(c->n_icmp_type),
				r->icmp_type4 < 0 ? "ICMP (IPv4)" : "ICMPv6");
	if (c->n_icmp_code != NULL && !proto_only(r, icmp_protos, 2))
		rerr(c, c->n_icmp_code, "'icmp_code': needs proto icmp or icmpv6 (proto is %s)",
				protos);
	if (c->n_flags != NULL && !proto_only(r, tcp_only, 1))
		rerr(c, c->n_flags, "'tcp_flags': needs proto tcp (proto is %s)", protos);
	if (c->bad)
		return;

	/* Resolve what the rule matches. */
	rc = addr_value(c->ld->p, &r->from, &r->from_set);
	rc |= addr_value(c->ld->p, &r->to, &r->to_set);
	rc |= range_value(c->ld->p, &r->sport, 65535, &r->sport_set);
	rc |= range_value(c->ld->p, &r->dport, 65535, &r->dport_set);
	if (rc != 0) {
		oom(c->ld);
		return;
	}
	if (r->from_set.v4.n == 0 && r->from_set.v6.n == 0) {
		rerr(c, c->n_from, "'from': matches no address (the negations remove everything)");
		return;
	}
	if (r->to_set.v4.n == 0 && r->to_set.v6.n == 0) {
		rerr(c, c->n_to, "'to': matches no address (the negations remove everything)");
		return;
	}
	if (r->sport_set.n == 0) {
		rerr(c, c->n_sport, "'sport': matches no port (the negations remove everything)");
		return;
	}
	if (r->dport_set.n == 0) {
		rerr(c, c->n_dport, "'dport': matches no port (the negations remove everything)");
		return;
	}
	bool can4 = r->from_set.v4.n > 0 && r->to_set.v4.n > 0;
	bool can6 = r->from_set.v6.n > 0 && r->to_set.v6.n > 0;
	if (!can4 && !can6) {
		rerr(c, c->n_to != NULL ? c->n_to : c->n_from,
				"'from' and 'to' cannot match the same packet: from holds only %s addresses, to only %s",
				r->from_set.v4.n > 0 ? "IPv4" : "IPv6",
				r->to_set.v4.n > 0 ? "IPv4" : "IPv6");
		return;
	}
	if (proto_only(r, icmp_protos, 1) && !can4)
		rerr(c, c->n_proto,
				"'proto': icmp is IPv4 only, but from/to hold only IPv6 addresses; use icmpv6");
	else if (proto_only(r, icmp_protos + 1, 1) && !can6)
		rerr(c, c->n_proto,
				"'proto': icmpv6 is IPv6 only, but from/to hold only IPv4 addresses; use icmp");
}

/* The value node of key in mapping n, or NULL. */
static yaml_node_t *
map_get(struct ld *ld, yaml_node_t *n, const char *key)
{
	if (n->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
			p++) {
		const char *k = scalar(vg_yaml_node(ld->y, p->key));

		if (k != NULL && strcmp(k, key) == 0)
			return vg_yaml_node(ld->y, p->value);
	}
	return NULL;
}

static bool
valid_rule_name(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 64)
		return false;
	for (; *s; s++)
		if (!isgraph((unsigned char)*s) && *s != ' ')
			return false;
	return true;
}

static void
parse_rule(struct ld *ld, yaml_node_t *n, unsigned idx)
{
	struct rl_policy *p = ld->p;
	struct rl_rule *r = &p->rules[p->n_rules];
	char label[96];
	struct rctx c = { .ld = ld, .r = r, .label = label, .n_map = n };
	yaml_node_t *nn;
	const char *name;

	memset(r, 0, sizeof(*r));
	r->in_any = true;
	r->vlan_any = true;
	r->proto_any = true;
	r->icmp_type4 = r->icmp_type6 = r->icmp_code = RL_ICMP_ANY;
	r->line = vg_yaml_line(n);
	r->col = vg_yaml_col(n);
	snprintf(label, sizeof(label), "rules entry %u", idx + 1);
	if (n->type != YAML_MAPPING_NODE) {
		rerr(&c, n, "expected a mapping with name, match keys and action, found %s",
				kind_of(n));
		return;
	}
	nn = map_get(ld, n, "name");
	name = nn != NULL ? scalar(nn) : NULL;
	if (nn == NULL) {
		rerr(&c, n, "required key 'name' is missing");
	} else if (name == NULL || !valid_rule_name(name)) {
		rerr(&c, nn, "'name': expected 1 to 64 printable characters");
	} else {
		snprintf(label, sizeof(label), "rule '%s'", name);
		r->name = strdup(name);
		if (r->name == NULL) {
			oom(ld);
			return;
		}
		ld->name_line[p->n_rules] = vg_yaml_line(nn);
		ld->name_col[p->n_rules] = vg_yaml_col(nn);
	}
	unsigned before = ld->y->errors;
	(void)vg_yaml_map(ld->y, n, label, rule_fields, &c);
	if (ld->y->errors > before)
		c.bad = true;
	if (!c.bad)
		check_rule(&c);
	/* Keep the rule either way: later duplicate-name checks still see it. */
	p->n_rules++;
}

static int
name_cmp(const void *a, const void *b, void *arg)
{
	const struct rl_rule *rules = arg;
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	const char *nx = rules[x].name != NULL ? rules[x].name : "";
	const char *ny = rules[y].name != NULL ? rules[y].name : "";
	int c = strcmp(nx, ny);

	if (c != 0)
		return c;
	return x < y ? -1 : x > y;
}

static void
check_duplicate_names(struct ld *ld)
{
	struct rl_policy *p = ld->p;
	unsigned *idx = malloc((p->n_rules + 1) * sizeof(*idx));
	unsigned i = 0;

	if (idx == NULL) {
		oom(ld);
		return;
	}
	for (unsigned k = 0; k < p->n_rules; k++)
		idx[k] = k;
	/* Sorted by (name, position): each group of equal names starts with the first use. */
	qsort_r(idx, p->n_rules, sizeof(*idx), name_cmp, p->rules);
	while (i < p->n_rules) {
		const struct rl_rule *first = &p->rules[idx[i]];
		unsigned j = i + 1;

		while (j < p->n_rules && first->name != NULL && p->rules[idx[j]].name != NULL &&
				strcmp(first->name, p->rules[idx[j]].name) == 0) {
			vg_diag_add(ld->y->diag, VG_SEV_ERROR, ld->y->file, ld->name_line[idx[j]],
					ld->name_col[idx[j]],
					"rule '%s': the name is already used by the rule at line %u",
					first->name, first->line);
			ld->y->errors++;
			j++;
		}
		i = j;
	}
	free(idx);
}

static void
parse_rules(struct ld *ld)
{
	yaml_node_t *n = ld->rules_node;
	struct rl_policy *p = ld->p;
	int len;

	if (n == NULL)
		return;
	if (!vg_yaml_expect_seq(ld->y, n, "rules"))
		return;
	len = vg_yaml_seq_len(n);
	if ((unsigned)len > RL_MAX_RULES) {
		vg_yaml_err(ld->y, n, "'rules': %d rules; at most %u", len, RL_MAX_RULES);
		return;
	}
	p->rules = calloc((size_t)len + 1, sizeof(*p->rules));
	ld->name_line = calloc((size_t)len + 1, sizeof(unsigned));
	ld->name_col = calloc((size_t)len + 1, sizeof(unsigned));
	if (p->rules == NULL || ld->name_line == NULL || ld->name_col == NULL) {
		oom(ld);
		return;
	}
	for (int i = 0; i < len && !ld->oom; i++)
		parse_rule(ld, vg_yaml_seq_item(ld->y, n, i), (unsigned)i);
	if (!ld->oom)
		check_duplicate_names(ld);
}

/* ---------------------------------------------------------------------------------------- */
/* Top level and l2                                                                          */

static int
t_version(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	const char *s = vg_yaml_scalar(y, v, key);

	(void)obj;
	if (s == NULL)
		return -EINVAL;
	if (strcmp(s, "1") != 0) {
		vg_yaml_err(y, v, "'version': %s is not supported; this Vigil reads version 1", s);
		return -EINVAL;
	}
	return 0;
}

static int
t_default(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct ld *ld = obj;
	int a;

	if (vg_yaml_enum(y, v, key, default_names, &a) != 0)
		return -EINVAL;
	ld->p->def = (enum rl_action)a;
	ld->have_default = true;
	return 0;
}

static int
t_sets(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	(void)key;
	((struct ld *)obj)->sets_node = v;
	return 0;
}

static int
t_rules(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	(void)key;
	((struct ld *)obj)->rules_node = v;
	return 0;
}

static int
t_l2(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	(void)key;
	((struct ld *)obj)->l2_node = v;
	return 0;
}

static int
t_prefilter(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	(void)key;
	((struct ld *)obj)->prefilter_node = v;
	return 0;
}

static const struct vg_yaml_field top_fields[] = {
	{ .name = "version", .type = VG_YT_CUSTOM, .parse = t_version, .required = true },
	{ .name = "default", .type = VG_YT_CUSTOM, .parse = t_default, .required = true },
	{ .name = "l2", .type = VG_YT_CUSTOM, .parse = t_l2 },
	{ .name = "sets", .type = VG_YT_CUSTOM, .parse = t_sets },
	{ .name = "rules", .type = VG_YT_CUSTOM, .parse = t_rules },
	{ .name = "prefilter", .type = VG_YT_CUSTOM, .parse = t_prefilter },
	{ 0 },
};

static void
l2_list(struct ld *ld, yaml_node_t *v, const char *key, enum rl_l2_verdict verdict)
{
	struct rl_policy *p = ld->p;
	int len = list_len(v);

	if (v->type == YAML_MAPPING_NODE) {
		vg_yaml_err(ld->y, v, "l2: '%s': expected a list of EtherTypes", key);
		return;
	}
	for (int i = 0; i < len; i++) {
		yaml_node_t *it = list_item(ld, v, i);
		const char *s = vg_yaml_scalar(ld->y, it, key);
		uint64_t type = UINT64_MAX;

		if (s == NULL)
			continue;
		for (size_t k = 0; k < sizeof(ether_table) / sizeof(ether_table[0]); k++)
			if (strcmp(s, ether_table[k].name) == 0)
				type = ether_table[k].type;
		if (type == UINT64_MAX) {
			if (!parse_u64(s, &type) || type > 0xffff) {
				vg_yaml_err(ld->y, it,
						"l2: '%s': '%s' is not an EtherType (a number such as 0x88cc, or arp, lldp, lacp, eapol, ptp, mpls, pppoe, llc, ...)",
						key, s);
				continue;
			}
			if (type < 0x0600) {
				vg_yaml_err(ld->y, it,
						"l2: '%s': %s is an 802.3 length, not an EtherType; use llc for such frames",
						key, s);
				continue;
			}
		}
		bool dup = false;
		for (unsigned k = 0; k < p->n_l2 && !dup; k++)
			if (p->l2[k].ether_type == type) {
				vg_yaml_err(ld->y, it, "l2: '%s': EtherType %s is already listed%s",
						key, s,
						p->l2[k].verdict != verdict
								? " with the other verdict"
								: "");
				dup = true;
			}
		if (dup)
			continue;
		struct rl_l2_entry *e = realloc(p->l2, (p->n_l2 + 1) * sizeof(*e));
		if (e == NULL) {
			oom(ld);
			return;
		}
		p->l2 = e;
		p->l2[p->n_l2].ether_type = (uint32_t)type;
		p->l2[p->n_l2].verdict = verdict;
		p->n_l2++;
	}
}

static void
parse_l2(struct ld *ld)
{
	yaml_node_t *n = ld->l2_node;

	if (n == NULL)
		return;
	if (n->type != YAML_MAPPING_NODE) {
		vg_yaml_err(ld->y, n, "l2: expected a mapping like {default: pass, drop: [lldp]}");
		return;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
			p++) {
		yaml_node_t *k = vg_yaml_node(ld->y, p->key);
		yaml_node_t *v = vg_yaml_node(ld->y, p->value);
		const char *key = scalar(k);
		int d;

		if (key != NULL && strcmp(key, "default") == 0) {
			if (vg_yaml_enum(ld->y, v, "l2.default", l2_names, &d) == 0)
				ld->p->l2_default = (enum rl_l2_verdict)d;
		} else if (key != NULL && strcmp(key, "allow") == 0) {
			l2_list(ld, v, "allow", RL_L2_PASS);
		} else if (key != NULL && strcmp(key, "drop") == 0) {
			l2_list(ld, v, "drop", RL_L2_DROP);
		} else {
			vg_yaml_err(ld->y, k,
					"l2: unknown key '%s' (accepted: default, allow, drop)",
					key != NULL ? key : "?");
		}
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Pre-filters: `prefilter: [{name, in, bpf}]`, each an eBPF program for its ingress ports      */

/* A pre-filter's in and bpf are read with the rules' own parsers, into a scratch rule. */
static const struct vg_yaml_field prefilter_fields[] = {
	{ .name = "name", .type = VG_YT_CUSTOM, .parse = f_name },
	{ .name = "in", .type = VG_YT_CUSTOM, .parse = f_in },
	{ .name = "bpf", .type = VG_YT_CUSTOM, .parse = f_bpf, .required = true },
	{ 0 },
};

static void
parse_prefilter(struct ld *ld, yaml_node_t *n, unsigned idx, uint32_t *taken)
{
	struct rl_policy *p = ld->p;
	struct rl_prefilter *pf = &p->pre[p->n_pre];
	struct rl_rule r = { .in_any = true };
	char label[96];
	struct rctx c = { .ld = ld, .r = &r, .label = label, .n_map = n };
	yaml_node_t *nn;
	const char *name;
	unsigned before = ld->y->errors;
	uint32_t ports;

	memset(pf, 0, sizeof(*pf));
	snprintf(label, sizeof(label), "prefilter entry %u", idx + 1);
	if (n->type != YAML_MAPPING_NODE) {
		rerr(&c, n, "expected a mapping with name, in and bpf, found %s", kind_of(n));
		return;
	}
	nn = map_get(ld, n, "name");
	name = nn != NULL ? scalar(nn) : NULL;
	if (nn == NULL) {
		rerr(&c, n, "required key 'name' is missing");
		return;
	}
	if (name == NULL || !valid_rule_name(name)) {
		rerr(&c, nn, "'name': expected 1 to 64 printable characters");
		return;
	}
	snprintf(label, sizeof(label), "prefilter '%s'", name);
	for (unsigned k = 0; k < p->n_pre; k++)
		if (strcmp(p->pre[k].name, name) == 0) {
			rerr(&c, nn, "the name is already taken by the pre-filter at line %u",
					p->pre[k].line);
			return;
		}
	(void)vg_yaml_map(ld->y, n, label, prefilter_fields, &c);
	if (ld->y->errors > before || c.bad) {
		free(r.bpf);
		return;
	}
	ports = r.in_any ? UINT32_MAX : r.in_ports;
	if (ld->env != NULL && ld->env->n_ports < 32)
		ports &= (1u << ld->env->n_ports) - 1;
	if (ports & *taken) {
		rerr(&c, n, "a port has a pre-filter already (one per ingress port)");
		free(r.bpf);
		return;
	}
	*taken |= ports;
	pf->name = strdup(name);
	pf->in_any = r.in_any;
	pf->in_ports = r.in_ports;
	pf->bpf = r.bpf;
	pf->line = vg_yaml_line(n);
	pf->col = vg_yaml_col(n);
	if (pf->name == NULL) {
		oom(ld);
		free(pf->bpf);
		return;
	}
	p->n_pre++;
}

static void
parse_prefilters(struct ld *ld)
{
	yaml_node_t *n = ld->prefilter_node;
	uint32_t taken = 0;
	int len;

	if (n == NULL)
		return;
	len = n->type == YAML_SEQUENCE_NODE ? list_len(n) : -1;
	if (len < 0) {
		vg_yaml_err(ld->y, n,
				"prefilter: expected a list like [{name: bogons, in: outside, bpf: bogons.o}]");
		return;
	}
	if ((unsigned)len > RL_MAX_PREFILTERS) {
		vg_yaml_err(ld->y, n, "prefilter: %d entries; at most %u (one per port)", len,
				RL_MAX_PREFILTERS);
		return;
	}
	ld->p->pre = calloc((size_t)len + 1, sizeof(*ld->p->pre));
	if (ld->p->pre == NULL) {
		oom(ld);
		return;
	}
	for (int i = 0; i < len; i++)
		parse_prefilter(ld, list_item(ld, n, i), (unsigned)i, &taken);
}

/* ---------------------------------------------------------------------------------------- */
/* Shadow analysis                                                                           */

static bool
addrs_contain(const struct rl_addrset *a, const struct rl_addrset *b)
{
	return rl_ivs_contains(&a->v4, &b->v4) && rl_ivs_contains(&a->v6, &b->v6);
}

/* Does rule a match every packet rule b matches? */
static bool
rule_covers(const struct rl_rule *a, const struct rl_rule *b)
{
	if (a->stateless != b->stateless)
		return false;
	if (a->stateless && ((a->flags_mask & ~b->flags_mask) != 0 ||
					    (b->flags_set & a->flags_mask) != a->flags_set))
		return false;
	if (!a->in_any && (b->in_any || (b->in_ports & ~a->in_ports) != 0))
		return false;
	if (!a->vlan_any && (b->vlan_any || !rl_ivs_contains(&a->vlan, &b->vlan)))
		return false;
	if (!a->proto_any) {
		if (b->proto_any)
			return false;
		for (unsigned i = 0; i < 4; i++)
			if (b->protos[i] & ~a->protos[i])
				return false;
	}
	if (!addrs_contain(&a->from_set, &b->from_set) || !addrs_contain(&a->to_set, &b->to_set))
		return false;
	if (!rl_ivs_contains(&a->sport_set, &b->sport_set) ||
			!rl_ivs_contains(&a->dport_set, &b->dport_set))
		return false;
	/* ICMP type and code apply to protocols 1 and 58 only; b's protocols are within a's. */
	if (rl_rule_has_proto(b, 1) && a->icmp_type4 != RL_ICMP_ANY &&
			a->icmp_type4 != b->icmp_type4)
		return false;
	if (rl_rule_has_proto(b, 58) && a->icmp_type6 != RL_ICMP_ANY &&
			a->icmp_type6 != b->icmp_type6)
		return false;
	if (a->icmp_code != RL_ICMP_ANY && a->icmp_code != b->icmp_code)
		return false;
	return true;
}

void
rl_policy_shadow_check(const struct rl_policy *p, struct vg_diag *diag, uint64_t max_pairs)
{
	uint64_t pairs = 0;

	for (unsigned j = 1; j < p->n_rules; j++) {
		const struct rl_rule *b = &p->rules[j];

		for (unsigned i = 0; i < j; i++) {
			const struct rl_rule *a = &p->rules[i];

			if (++pairs > max_pairs) {
				vg_diag_add(diag, VG_SEV_WARNING, p->file, b->line, b->col,
						"shadow analysis stopped at rule '%s' after %" PRIu64
						" comparisons; rules from here on were not checked",
						b->name, max_pairs);
				return;
			}
			if (!rule_covers(a, b))
				continue;
			vg_diag_add(diag, VG_SEV_WARNING, p->file, b->line, b->col,
					"rule '%s' never matches: rule '%s' (line %u) matches every packet it would%s",
					b->name, a->name, a->line,
					a->action == b->action ? "" : ", with a different action");
			break;
		}
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Entry points                                                                              */

static void
expr_free(struct rl_expr *e)
{
	free(e->v);
	e->v = NULL;
	e->n = 0;
}

void
rl_policy_free(struct rl_policy *p)
{
	if (p == NULL)
		return;
	for (unsigned i = 0; i < p->n_rules; i++) {
		struct rl_rule *r = &p->rules[i];

		free(r->name);
		free(r->description);
		ivs_free(&r->vlan);
		expr_free(&r->from);
		expr_free(&r->to);
		addrs_free(&r->from_set);
		addrs_free(&r->to_set);
		expr_free(&r->sport);
		expr_free(&r->dport);
		ivs_free(&r->sport_set);
		ivs_free(&r->dport_set);
		for (unsigned k = 0; k < r->n_inspect; k++)
			free(r->inspect[k]);
		free(r->inspect);
		free(r->bpf);
	}
	free(p->rules);
	for (unsigned i = 0; i < p->n_pre; i++) {
		free(p->pre[i].name);
		free(p->pre[i].bpf);
	}
	free(p->pre);
	for (unsigned i = 0; i < p->n_sets; i++) {
		free(p->sets[i].name);
		expr_free(&p->sets[i].expr);
		addrs_free(&p->sets[i].addrs);
		ivs_free(&p->sets[i].ports);
	}
	free(p->sets);
	free(p->l2);
	free(p->file);
	free(p);
}

/* Shadow analysis is quadratic; beyond this many pairs (about 20k rules) it stops. */
#define RL_SHADOW_MAX_PAIRS (200ULL * 1000 * 1000)

static struct rl_policy *
load(struct vg_yaml *y, const char *name, const char *dir, const struct rl_env *env, int rc)
{
	struct ld ld = { .y = y, .env = env };
	yaml_node_t *root;

	ld.p = calloc(1, sizeof(*ld.p));
	if (ld.p == NULL || (ld.p->file = strdup(name)) == NULL) {
		free(ld.p);
		vg_yaml_free(y);
		errno = ENOMEM;
		return NULL;
	}
	ld.p->def = RL_ACT_DROP;
	ld.p->l2_default = RL_L2_PASS;
	if (dir != NULL)
		ld.dir = strdup(dir);
	root = rc == 0 ? vg_yaml_root(y) : NULL;
	if (rc == 0 && root == NULL)
		vg_yaml_err(y, NULL,
				"the policy is empty; it needs at least 'version' and 'default'");
	if (root != NULL)
		(void)vg_yaml_map(y, root, "policy", top_fields, &ld);
	if (root != NULL) {
		parse_l2(&ld);
		parse_sets(&ld);
		resolve_sets(&ld);
		parse_rules(&ld);
		parse_prefilters(&ld);
	}
	if (y->errors == 0 && !ld.oom)
		rl_policy_shadow_check(ld.p, y->diag, RL_SHADOW_MAX_PAIRS);
	free(ld.set_state);
	free(ld.stack);
	free(ld.name_line);
	free(ld.name_col);
	free(ld.dir);
	bool failed = y->errors > 0 || ld.oom || rc != 0;
	vg_yaml_free(y);
	if (failed) {
		rl_policy_free(ld.p);
		errno = ld.oom ? ENOMEM : EINVAL;
		return NULL;
	}
	return ld.p;
}

static unsigned
max_depth(const struct rl_env *env)
{
	return env != NULL && env->max_depth > 0 ? env->max_depth : VG_YAML_MAX_DEPTH;
}

struct rl_policy *
rl_policy_load_file(const char *path, const struct rl_env *env, struct vg_diag *diag)
{
	struct vg_yaml y;
	char *copy = strdup(path);
	struct rl_policy *p;
	int rc;

	if (copy == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rc = vg_yaml_load_file_depth(&y, path, max_depth(env), diag);
	p = load(&y, path, dirname(copy), env, rc);
	free(copy);
	return p;
}

struct rl_policy *
rl_policy_load_buf(const char *name, const char *buf, size_t len, const struct rl_env *env,
		struct vg_diag *diag)
{
	struct vg_yaml y;
	int rc;

	if (name == NULL)
		name = "<input>";
	rc = vg_yaml_load_buf_depth(&y, name, buf, len, max_depth(env), diag);
	return load(&y, name, env != NULL ? env->dir : NULL, env, rc);
}

const char *
rl_policy_file(const struct rl_policy *p)
{
	return p->file;
}

enum rl_action
rl_policy_default(const struct rl_policy *p)
{
	return p->def;
}

unsigned
rl_policy_n_rules(const struct rl_policy *p)
{
	return p->n_rules;
}

const struct rl_rule *
rl_policy_rule(const struct rl_policy *p, unsigned i)
{
	return i < p->n_rules ? &p->rules[i] : NULL;
}

unsigned
rl_policy_n_sets(const struct rl_policy *p)
{
	return p->n_sets;
}

const struct rl_set *
rl_policy_set(const struct rl_policy *p, unsigned i)
{
	return i < p->n_sets ? &p->sets[i] : NULL;
}

enum rl_l2_verdict
rl_policy_l2_default(const struct rl_policy *p)
{
	return p->l2_default;
}

unsigned
rl_policy_n_l2(const struct rl_policy *p)
{
	return p->n_l2;
}

const struct rl_l2_entry *
rl_policy_l2(const struct rl_policy *p, unsigned i)
{
	return i < p->n_l2 ? &p->l2[i] : NULL;
}

unsigned
rl_policy_n_prefilters(const struct rl_policy *p)
{
	return p->n_pre;
}

const struct rl_prefilter *
rl_policy_prefilter(const struct rl_policy *p, unsigned i)
{
	return i < p->n_pre ? &p->pre[i] : NULL;
}

enum rl_l2_verdict
rl_policy_l2_lookup(const struct rl_policy *p, uint16_t ether_type)
{
	uint32_t t = ether_type < 0x0600 ? RL_ETHERTYPE_LLC : ether_type;

	for (unsigned i = 0; i < p->n_l2; i++)
		if (p->l2[i].ether_type == t)
			return p->l2[i].verdict;
	return p->l2_default;
}
