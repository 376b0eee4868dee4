/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rl_key.h"
#include "rl_learn.h"

/*
 * Candidates never span two ingress ports (or a known port and an unknown one): the port is
 * part of the partition with the family, so a rule can say `in:` without widening anything.
 */
static inline uint32_t
part(const struct rl_obs *o)
{
	return (o->in_known ? (uint32_t)o->in_port + 1 : 0) << 8 | o->family;
}

struct lkey {
	rl_u128 src, dst;
	struct rl_obs o;
	bool denied;
};

/* A stats block with the largest keys behind it. */
struct agg {
	uint64_t keys, flows, packets, bytes, denied_keys, denied_flows;
	int64_t first, last;
	unsigned n_top;
	uint32_t top[RL_LEARN_SAMPLES]; /* key indices, largest bytes first */
};

/* Stage 1: the sources of one (family, proto, dst, dport). */
struct e1 {
	uint32_t off, n; /* in the sorted keys */
	uint32_t sid;	 /* interned source list */
	struct agg a;
};

/* Stage 2: the ports of one (family, proto, source list, dst). */
struct e2 {
	uint32_t off, n; /* in the e1 order sorted by (family, proto, sid, dst, dport) */
	uint32_t sid, pid;
	struct agg a;
};

struct range {
	uint8_t family;
	rl_u128 lo, hi;
};

struct excl {
	struct range *from, *to;
	unsigned n_from, n_to;
	int proto;
	uint16_t *dports;
	unsigned n_dports;
};

struct rl_learn {
	const struct rl_policy *cur;
	uint32_t max_keys, max_rules;
	struct lkey *k;
	uint32_t n, cap;
	struct excl *x;
	unsigned n_x;
	struct rl_learn_cand *c;
	unsigned n_c;
	struct rl_learn_stats st;
	bool built;
	const char *const *ports; /* names for `in:` (rl_learn_set_ports) */
	unsigned n_ports;
	uint32_t scope;		    /* rl_learn_set_scope: the ports learnt (0: all) */
	enum rl_action scope_other; /* ... and the default for the other ports */
};

struct rl_learn *
rl_learn_create(const struct rl_policy *cur, uint32_t max_keys, uint32_t max_rules)
{
	struct rl_learn *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->cur = cur;
	l->max_keys = max_keys ? max_keys : RL_LEARN_MAX_KEYS;
	l->max_rules = max_rules ? max_rules : RL_LEARN_MAX_RULES;
	return l;
}

static void
free_strs(char **v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
rl_learn_free(struct rl_learn *l)
{
	if (l == NULL)
		return;
	for (unsigned i = 0; i < l->n_x; i++) {
		free(l->x[i].from);
		free(l->x[i].to);
		free(l->x[i].dports);
	}
	free(l->x);
	for (unsigned i = 0; i < l->n_c; i++) {
		free_strs(l->c[i].from, l->c[i].n_from);
		free_strs(l->c[i].to, l->c[i].n_to);
		free_strs(l->c[i].ports, l->c[i].n_ports);
	}
	free(l->c);
	free(l->k);
	free(l);
}

/* "10.0.0.0/8", "fd00::1" -> a range; host bits are cleared ("10.0.0.1/8" is 10.0.0.0/8). */
static int
parse_prefix(const char *s, struct range *r)
{
	struct vg_prefix p;

	if (vg_prefix_parse(s, strlen(s), VG_PREFIX_HOST_BITS, &p, NULL) < 0)
		return -EINVAL;
	r->family = p.addr.family;
	vg_prefix_range(&p, &r->lo, &r->hi);
	return 0;
}

static int
parse_list(const char *const *v, unsigned n, struct range **out, char *err, size_t errlen)
{
	*out = n ? calloc(n, sizeof(**out)) : NULL;
	if (n && *out == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		if (parse_prefix(v[i], &(*out)[i]) != 0) {
			snprintf(err, errlen,
					"'%s' is not an IPv4 or IPv6 address or prefix (10.0.0.0/8, "
					"fd00::1)",
					v[i]);
			free(*out);
			*out = NULL;
			return -EINVAL;
		}
	return 0;
}

int
rl_learn_exclude(struct rl_learn *l, const struct rl_learn_excl *x, char *err, size_t errlen)
{
	struct excl *nx = realloc(l->x, (l->n_x + 1) * sizeof(*nx)), *e;
	int rc;

	if (nx == NULL)
		return -ENOMEM;
	l->x = nx;
	e = &nx[l->n_x];
	memset(e, 0, sizeof(*e));
	rc = parse_list(x->from, x->n_from, &e->from, err, errlen);
	if (rc == 0)
		rc = parse_list(x->to, x->n_to, &e->to, err, errlen);
	if (rc == 0 && x->n_dports > 0) {
		e->dports = malloc(x->n_dports * sizeof(*e->dports));
		if (e->dports == NULL)
			rc = -ENOMEM;
		else
			memcpy(e->dports, x->dports, x->n_dports * sizeof(*e->dports));
	}
	if (rc != 0) {
		free(e->from);
		free(e->to);
		free(e->dports);
		return rc;
	}
	e->n_from = x->n_from;
	e->n_to = x->n_to;
	e->n_dports = x->n_dports;
	e->proto = x->proto;
	l->n_x++;
	return 0;
}

static bool
in_ranges(const struct range *r, unsigned n, uint8_t family, rl_u128 a)
{
	if (n == 0)
		return true;
	for (unsigned i = 0; i < n; i++)
		if (r[i].family == family && r[i].lo <= a && a <= r[i].hi)
			return true;
	return false;
}

static bool
excluded(const struct rl_learn *l, const struct lkey *k)
{
	for (unsigned i = 0; i < l->n_x; i++) {
		const struct excl *e = &l->x[i];
		bool port = e->n_dports == 0;

		for (unsigned j = 0; j < e->n_dports && !port; j++)
			port = e->dports[j] == k->o.dport;
		if (port && (e->proto < 0 || e->proto == k->o.proto) &&
				in_ranges(e->from, e->n_from, k->o.family, k->src) &&
				in_ranges(e->to, e->n_to, k->o.family, k->dst))
			return true;
	}
	return false;
}

int
rl_learn_add(struct rl_learn *l, const struct rl_obs *o)
{
	struct lkey k;

	l->st.observed++;
	if (o->family != 4 && o->family != 6)
		return -EINVAL;
	memset(&k, 0, sizeof(k));
	k.o = *o;
	k.src = vg_addr_num(o->family, o->src);
	k.dst = vg_addr_num(o->family, o->dst);
	if (excluded(l, &k)) {
		l->st.excluded++;
		return 1;
	}
	if (l->n == l->max_keys) {
		l->st.dropped++;
		return -ENOSPC;
	}
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 1024;
		struct lkey *nk;

		if (cap > l->max_keys)
			cap = l->max_keys;
		nk = realloc(l->k, (size_t)cap * sizeof(*nk));
		if (nk == NULL)
			return -ENOMEM;
		l->k = nk;
		l->cap = cap;
	}
	if (l->cur != NULL) {
		struct rl_verdict v;

		rl_preview_classify(l->cur, o, &v);
		k.denied = v.action != RL_ACT_ALLOW;
	}
	l->k[l->n++] = k;
	return 0;
}

/* Aggregates ---------------------------------------------------------------------------------- */

static void
agg_init(struct agg *a)
{
	memset(a, 0, sizeof(*a));
	a->first = INT64_MAX;
	a->last = INT64_MIN;
}

static void
agg_top(struct agg *a, const struct lkey *keys, uint32_t idx)
{
	unsigned i = a->n_top;

	if (i == RL_LEARN_SAMPLES) {
		if (keys[idx].o.bytes <= keys[a->top[i - 1]].o.bytes)
			return;
		i--;
	} else {
		a->n_top++;
	}
	while (i > 0 && keys[a->top[i - 1]].o.bytes < keys[idx].o.bytes) {
		a->top[i] = a->top[i - 1];
		i--;
	}
	a->top[i] = idx;
}

static void
agg_key(struct agg *a, const struct lkey *keys, uint32_t idx)
{
	const struct lkey *k = &keys[idx];

	a->keys++;
	a->flows += k->o.flows;
	a->packets += k->o.packets;
	a->bytes += k->o.bytes;
	if (k->denied) {
		a->denied_keys++;
		a->denied_flows += k->o.flows;
	}
	if (k->o.first < a->first)
		a->first = k->o.first;
	if (k->o.last > a->last)
		a->last = k->o.last;
	agg_top(a, keys, idx);
}

static void
agg_merge(struct agg *a, const struct agg *b, const struct lkey *keys)
{
	a->keys += b->keys;
	a->flows += b->flows;
	a->packets += b->packets;
	a->bytes += b->bytes;
	a->denied_keys += b->denied_keys;
	a->denied_flows += b->denied_flows;
	if (b->first < a->first)
		a->first = b->first;
	if (b->last > a->last)
		a->last = b->last;
	for (unsigned i = 0; i < b->n_top; i++)
		agg_top(a, keys, b->top[i]);
}

/* Sorting ------------------------------------------------------------------------------------- */

#define CMP(x, y)                                  \
	do {                                       \
		if ((x) != (y))                    \
			return (x) < (y) ? -1 : 1; \
	} while (0)

static int
cmp_key(const void *pa, const void *pb)
{
	const struct lkey *a = pa, *b = pb;

	CMP(part(&a->o), part(&b->o));
	CMP(a->o.proto, b->o.proto);
	CMP(a->dst, b->dst);
	CMP(a->o.dport, b->o.dport);
	CMP(a->src, b->src);
	return 0;
}

/* Interning of lists: id by content, compared element by element through a callback. */
struct intern {
	uint32_t *slot; /* id + 1; 0: empty */
	uint64_t *hash;
	uint32_t cap, n;
	/* representative (off, n) of each id, interpreted by the caller's eq */
	uint32_t *off, *len;
};

static int
intern_init(struct intern *t, uint32_t expect)
{
	memset(t, 0, sizeof(*t));
	t->cap = 16;
	while (t->cap < expect * 2)
		t->cap *= 2;
	t->slot = calloc(t->cap, sizeof(*t->slot));
	t->hash = calloc(expect + 1, sizeof(*t->hash));
	t->off = calloc(expect + 1, sizeof(*t->off));
	t->len = calloc(expect + 1, sizeof(*t->len));
	return t->slot && t->hash && t->off && t->len ? 0 : -ENOMEM;
}

static void
intern_free(struct intern *t)
{
	free(t->slot);
	free(t->hash);
	free(t->off);
	free(t->len);
}

/* Returns the id of the list (off, n) with hash h; eq compares it with another id's list. */
static uint32_t
intern_get(struct intern *t, uint64_t h, uint32_t off, uint32_t n,
		bool (*eq)(const void *ctx, uint32_t o1, uint32_t n1, uint32_t o2, uint32_t n2),
		const void *ctx)
{
	uint32_t s = (uint32_t)(h >> 32) & (t->cap - 1);

	while (t->slot[s] != 0) {
		uint32_t id = t->slot[s] - 1;

		if (t->hash[id] == h && t->len[id] == n && eq(ctx, t->off[id], t->len[id], off, n))
			return id;
		s = (s + 1) & (t->cap - 1);
	}
	t->hash[t->n] = h;
	t->off[t->n] = off;
	t->len[t->n] = n;
	t->slot[s] = ++t->n;
	return t->n - 1;
}

static uint64_t
mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

static bool
eq_src(const void *ctx, uint32_t o1, uint32_t n1, uint32_t o2, uint32_t n2)
{
	const struct lkey *k = ctx;

	(void)n2;
	for (uint32_t i = 0; i < n1; i++)
		if (k[o1 + i].src != k[o2 + i].src)
			return false;
	return true;
}

struct port_ctx {
	const struct e1 *e1;
	const uint32_t *order;
	const struct lkey *k;
};

static uint16_t
e1_port(const struct port_ctx *pc, uint32_t i)
{
	return pc->k[pc->e1[pc->order[i]].off].o.dport;
}

static bool
eq_port(const void *ctx, uint32_t o1, uint32_t n1, uint32_t o2, uint32_t n2)
{
	(void)n2;
	for (uint32_t i = 0; i < n1; i++)
		if (e1_port(ctx, o1 + i) != e1_port(ctx, o2 + i))
			return false;
	return true;
}

/* qsort_r contexts. */
static int
cmp_e1(const void *pa, const void *pb, void *ctx)
{
	const struct e1 *v = ((const struct port_ctx *)ctx)->e1;
	const struct lkey *k = ((const struct port_ctx *)ctx)->k;
	const struct e1 *a = &v[*(const uint32_t *)pa], *b = &v[*(const uint32_t *)pb];
	const struct lkey *ka = &k[a->off], *kb = &k[b->off];

	CMP(part(&ka->o), part(&kb->o));
	CMP(ka->o.proto, kb->o.proto);
	CMP(a->sid, b->sid);
	CMP(ka->dst, kb->dst);
	CMP(ka->o.dport, kb->o.dport);
	return 0;
}

struct e2_ctx {
	const struct e2 *e2;
	const struct e1 *e1;
	const uint32_t *order1;
	const struct lkey *k;
};

static const struct lkey *
e2_key(const struct e2_ctx *c, const struct e2 *e)
{
	return &c->k[c->e1[c->order1[e->off]].off];
}

static int
cmp_e2(const void *pa, const void *pb, void *ctx)
{
	const struct e2_ctx *c = ctx;
	const struct e2 *a = &c->e2[*(const uint32_t *)pa], *b = &c->e2[*(const uint32_t *)pb];
	const struct lkey *ka = e2_key(c, a), *kb = e2_key(c, b);

	CMP(part(&ka->o), part(&kb->o));
	CMP(ka->o.proto, kb->o.proto);
	CMP(a->sid, b->sid);
	CMP(a->pid, b->pid);
	CMP(ka->dst, kb->dst);
	return 0;
}

static int
cmp_cand(const void *pa, const void *pb)
{
	const struct rl_learn_cand *a = pa, *b = pb;

	CMP(b->flows, a->flows);
	CMP(b->bytes, a->bytes);
	return strcmp(a->id, b->id);
}

/* CIDRs and ranges ----------------------------------------------------------------------------- */

unsigned
rl_learn_cidrs(uint8_t family, const rl_u128 *a, size_t n,
		void (*fn)(rl_u128 net, unsigned plen, void *arg), void *arg)
{
	unsigned count = 0;
	size_t i = 0;

	while (i < n) {
		rl_u128 lo = a[i], hi = a[i];

		while (i + 1 < n && a[i + 1] == hi + 1)
			hi = a[++i];
		i++;
		count += vg_range_prefixes(family, lo, hi, fn, arg);
	}
	return count;
}

struct strv {
	char **v;
	unsigned n, cap;
	uint8_t family;
};

static int
strv_add(struct strv *s, const char *t)
{
	if (s->n == s->cap) {
		unsigned cap = s->cap ? s->cap * 2 : 4;
		char **nv = realloc(s->v, cap * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n] = strdup(t);
	return s->v[s->n++] != NULL ? 0 : -ENOMEM;
}

static void
add_cidr(rl_u128 net, unsigned plen, void *arg)
{
	struct strv *s = arg;
	struct vg_prefix p = { .plen = (uint8_t)plen };
	char txt[VG_PREFIX_STRLEN];

	vg_addr_from_value(s->family, net, &p.addr);
	vg_prefix_format(&p, true, txt, sizeof(txt));
	strv_add(s, txt);
}

static bool
has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132;
}

/* Build ---------------------------------------------------------------------------------------- */

static int
make_cand(struct rl_learn *l, struct rl_learn_cand *c, const struct lkey *k0, const rl_u128 *src,
		uint32_t n_src, const rl_u128 *dst, uint32_t n_dst, const uint16_t *ports,
		uint32_t n_ports, const struct agg *a)
{
	struct strv s = { .family = k0->o.family };
	uint64_t h = mix(part(&k0->o), k0->o.proto);
	char buf[32];

	memset(c, 0, sizeof(*c));
	c->family = k0->o.family;
	c->proto = k0->o.proto;
	c->in_known = k0->o.in_known;
	c->in_port = k0->o.in_port;
	rl_learn_cidrs(c->family, src, n_src, add_cidr, &s);
	c->from = s.v, c->n_from = s.n;
	s = (struct strv){ .family = k0->o.family };
	rl_learn_cidrs(c->family, dst, n_dst, add_cidr, &s);
	c->to = s.v, c->n_to = s.n;
	s = (struct strv){ 0 };
	for (uint32_t i = 0; has_ports(c->proto) && i < n_ports;) {
		uint32_t j = i;

		while (j + 1 < n_ports && ports[j + 1] == ports[j] + 1)
			j++;
		if (j == i)
			snprintf(buf, sizeof(buf), "%u", ports[i]);
		else
			snprintf(buf, sizeof(buf), "%u-%u", ports[i], ports[j]);
		strv_add(&s, buf);
		i = j + 1;
	}
	c->ports = s.v, c->n_ports = s.n;
	if ((c->n_from && c->from == NULL) || (c->n_to && c->to == NULL))
		return -ENOMEM;
	for (unsigned i = 0; i < c->n_from; i++)
		for (const char *p = c->from[i]; *p; p++)
			h = mix(h, (uint8_t)*p);
	h = mix(h, '>');
	for (unsigned i = 0; i < c->n_to; i++)
		for (const char *p = c->to[i]; *p; p++)
			h = mix(h, (uint8_t)*p);
	h = mix(h, ':');
	for (unsigned i = 0; i < c->n_ports; i++)
		for (const char *p = c->ports[i]; *p; p++)
			h = mix(h, (uint8_t)*p);
	snprintf(c->id, sizeof(c->id), "%016" PRIx64, h);
	c->keys = a->keys;
	c->flows = a->flows;
	c->packets = a->packets;
	c->bytes = a->bytes;
	c->first = a->first;
	c->last = a->last;
	c->denied_keys = a->denied_keys;
	c->denied_flows = a->denied_flows;
	c->n_samples = a->n_top;
	for (unsigned i = 0; i < a->n_top; i++)
		c->samples[i] = l->k[a->top[i]].o;
	return 0;
}

int
rl_learn_build(struct rl_learn *l)
{
	struct e1 *e1 = NULL;
	struct e2 *e2 = NULL;
	uint32_t *o1 = NULL, *o2 = NULL, n1 = 0, n2 = 0;
	rl_u128 *src = NULL, *dst = NULL;
	uint16_t *ports = NULL;
	struct intern si = { 0 }, pi = { 0 };
	int rc = -ENOMEM;

	if (l->built)
		return 0;
	l->built = true;
	if (l->n == 0)
		return 0;
	qsort(l->k, l->n, sizeof(*l->k), cmp_key);
	/* identical keys (the caller's rows were not summed): merge */
	uint32_t w = 0;

	for (uint32_t i = 0; i < l->n; i++) {
		if (w > 0 && cmp_key(&l->k[w - 1], &l->k[i]) == 0) {
			struct lkey *d = &l->k[w - 1];

			d->o.flows += l->k[i].o.flows;
			d->o.packets += l->k[i].o.packets;
			d->o.bytes += l->k[i].o.bytes;
			d->o.first = d->o.first < l->k[i].o.first ? d->o.first : l->k[i].o.first;
			d->o.last = d->o.last > l->k[i].o.last ? d->o.last : l->k[i].o.last;
			d->denied = d->denied || l->k[i].denied;
			continue;
		}
		l->k[w++] = l->k[i];
	}
	l->n = w;
	l->st.keys = l->n;
	e1 = calloc(l->n, sizeof(*e1));
	o1 = calloc(l->n, sizeof(*o1));
	e2 = calloc(l->n, sizeof(*e2));
	o2 = calloc(l->n, sizeof(*o2));
	src = calloc(l->n, sizeof(*src));
	dst = calloc(l->n, sizeof(*dst));
	ports = calloc(l->n, sizeof(*ports));
	if (!e1 || !o1 || !e2 || !o2 || !src || !dst || !ports || intern_init(&si, l->n) != 0 ||
			intern_init(&pi, l->n) != 0)
		goto out;

	/* 1: the sources of each (family, proto, dst, dport) */
	for (uint32_t i = 0; i < l->n;) {
		uint32_t j = i;
		uint64_t h = 1;
		struct e1 *e = &e1[n1];

		while (j < l->n && part(&l->k[j].o) == part(&l->k[i].o) &&
				l->k[j].o.proto == l->k[i].o.proto && l->k[j].dst == l->k[i].dst &&
				l->k[j].o.dport == l->k[i].o.dport)
			j++;
		agg_init(&e->a);
		for (uint32_t x = i; x < j; x++) {
			h = mix(mix(h, (uint64_t)l->k[x].src), (uint64_t)(l->k[x].src >> 64));
			agg_key(&e->a, l->k, x);
		}
		h = mix(h, part(&l->k[i].o));
		e->off = i;
		e->n = j - i;
		e->sid = intern_get(&si, h, i, j - i, eq_src, l->k);
		o1[n1] = n1;
		n1++;
		i = j;
	}
	/* 2: the ports that share a source list, per (family, proto, dst) */
	struct port_ctx pc = { e1, o1, l->k };

	qsort_r(o1, n1, sizeof(*o1), cmp_e1, &pc);
	for (uint32_t i = 0; i < n1;) {
		const struct lkey *ki = &l->k[e1[o1[i]].off];
		uint32_t j = i;
		uint64_t h = mix(part(&ki->o), ki->o.proto);
		struct e2 *e = &e2[n2];

		agg_init(&e->a);
		while (j < n1) {
			const struct lkey *kj = &l->k[e1[o1[j]].off];

			if (part(&kj->o) != part(&ki->o) || kj->o.proto != ki->o.proto ||
					e1[o1[j]].sid != e1[o1[i]].sid || kj->dst != ki->dst)
				break;
			h = mix(h, kj->o.dport);
			agg_merge(&e->a, &e1[o1[j]].a, l->k);
			j++;
		}
		e->off = i;
		e->n = j - i;
		e->sid = e1[o1[i]].sid;
		e->pid = intern_get(&pi, h, i, j - i, eq_port, &pc);
		o2[n2] = n2;
		n2++;
		i = j;
	}
	/* 3: the destinations that share both: one candidate each */
	struct e2_ctx ec = { e2, e1, o1, l->k };

	qsort_r(o2, n2, sizeof(*o2), cmp_e2, &ec);
	l->c = calloc(n2, sizeof(*l->c));
	if (l->c == NULL)
		goto out;
	for (uint32_t i = 0; i < n2;) {
		const struct e2 *ei = &e2[o2[i]];
		const struct lkey *k0 = e2_key(&ec, ei);
		const struct e1 *s1 = &e1[o1[ei->off]];
		uint32_t j = i, nd = 0, np = 0;
		struct agg a;

		agg_init(&a);
		while (j < n2) {
			const struct e2 *ej = &e2[o2[j]];
			const struct lkey *kj = e2_key(&ec, ej);

			if (part(&kj->o) != part(&k0->o) || kj->o.proto != k0->o.proto ||
					ej->sid != ei->sid || ej->pid != ei->pid)
				break;
			dst[nd++] = kj->dst;
			agg_merge(&a, &ej->a, l->k);
			j++;
		}
		for (uint32_t x = 0; x < s1->n; x++)
			src[x] = l->k[s1->off + x].src;
		for (uint32_t x = 0; x < ei->n; x++)
			ports[np++] = e1_port(&pc, ei->off + x);
		rc = make_cand(l, &l->c[l->n_c], k0, src, s1->n, dst, nd, ports, np, &a);
		l->n_c++;
		if (rc != 0)
			goto out;
		i = j;
	}
	qsort(l->c, l->n_c, sizeof(*l->c), cmp_cand);
	l->st.rules_cut = l->n_c > l->max_rules ? l->n_c - l->max_rules : 0;
	rc = 0;
out:
	intern_free(&si);
	intern_free(&pi);
	free(e1);
	free(o1);
	free(e2);
	free(o2);
	free(src);
	free(dst);
	free(ports);
	return rc;
}

unsigned
rl_learn_n_candidates(const struct rl_learn *l)
{
	return l->n_c;
}

const struct rl_learn_cand *
rl_learn_candidate(const struct rl_learn *l, unsigned i)
{
	return i < l->n_c ? &l->c[i] : NULL;
}

void
rl_learn_stats(const struct rl_learn *l, struct rl_learn_stats *out)
{
	*out = l->st;
}

/* The proposal --------------------------------------------------------------------------------- */

struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void __attribute__((format(printf, 2, 3))) sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->s != NULL && (size_t)n < b->cap - b->len)
			break;
		size_t cap = b->cap * 2 + (size_t)n + 256;
		char *ns = realloc(b->s, cap);

		if (ns == NULL) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	b->len += (size_t)n;
}

/* A list as one YAML flow sequence (IPv6 quoted), for set lookup and output. */
static char *
list_text(char *const *v, unsigned n)
{
	struct sbuf b = { 0 };

	sb_printf(&b, "[");
	for (unsigned i = 0; i < n; i++)
		sb_printf(&b, "%s%s%s%s", i ? ", " : "", strchr(v[i], ':') ? "\"" : "", v[i],
				strchr(v[i], ':') ? "\"" : "");
	sb_printf(&b, "]");
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

struct named {
	char *text; /* the flow sequence */
	char name[24];
};

struct sets {
	struct named *v;
	unsigned n, cap;
	unsigned n_net, n_ports;
};

/* The name of the set holding exactly this list (made on first use). */
static const char *
set_for(struct sets *s, char *const *v, unsigned n, bool ports)
{
	char *t = list_text(v, n);

	if (t == NULL)
		return NULL;
	for (unsigned i = 0; i < s->n; i++)
		if (strcmp(s->v[i].text, t) == 0) {
			free(t);
			return s->v[i].name;
		}
	if (s->n == s->cap) {
		unsigned cap = s->cap ? s->cap * 2 : 16;
		struct named *nv = realloc(s->v, cap * sizeof(*nv));

		if (nv == NULL) {
			free(t);
			return NULL;
		}
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n].text = t;
	if (ports)
		snprintf(s->v[s->n].name, sizeof(s->v[0].name), "ports_%u", ++s->n_ports);
	else
		snprintf(s->v[s->n].name, sizeof(s->v[0].name), "net_%u", ++s->n_net);
	return s->v[s->n++].name;
}

static const char *
proto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 1:
		return "icmp";
	case 58:
		return "icmpv6";
	case 132:
		return "sctp";
	default:
		snprintf(buf, len, "%u", p);
		return buf;
	}
}

static void
utc(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(out, len, "-");
	else
		strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* One list as a rule value: a literal when it has one item, else a named set. */
static void
rule_list(struct sbuf *b, struct sets *s, const char *key, char *const *v, unsigned n, bool ports)
{
	const char *name;

	if (n == 1) {
		bool q = strchr(v[0], ':') != NULL;

		sb_printf(b, "    %s: %s%s%s\n", key, q ? "\"" : "", v[0], q ? "\"" : "");
		return;
	}
	name = set_for(s, v, n, ports);
	if (name == NULL)
		b->oom = true;
	else
		sb_printf(b, "    %s: $%s\n", key, name);
}

void
rl_learn_set_ports(struct rl_learn *l, const char *const *ports, unsigned n_ports)
{
	l->ports = ports;
	l->n_ports = n_ports;
}

void
rl_learn_set_scope(struct rl_learn *l, uint32_t in_mask, enum rl_action other)
{
	l->scope = in_mask;
	l->scope_other = other;
}

char *
rl_learn_proposal(const struct rl_learn *l, enum rl_action def, const bool *include, int64_t since,
		int64_t until, size_t *len)
{
	struct sbuf rules = { 0 }, out = { 0 };
	struct sets sets = { 0 };
	char t0[32], t1[32], f[32], la[32], pb[8];
	unsigned n_rules = 0;
	uint64_t flows = 0;

	for (unsigned i = 0; i < l->n_c && n_rules < l->max_rules; i++) {
		const struct rl_learn_cand *c = &l->c[i];

		if (include != NULL && !include[i])
			continue;
		n_rules++;
		flows += c->flows;
		utc(c->first, f, sizeof(f));
		utc(c->last, la, sizeof(la));
		sb_printf(&rules, "  - name: learned-%u\n", n_rules);
		sb_printf(&rules,
				"    description: \"candidate %s: %" PRIu64 " flows, %" PRIu64
				" bytes, %" PRIu64 " keys, %s .. %s\"\n",
				c->id, c->flows, c->bytes, c->keys, f, la);
		if (c->in_known && c->in_port < l->n_ports && l->ports[c->in_port] != NULL)
			sb_printf(&rules, "    in: \"%s\"\n", l->ports[c->in_port]);
		sb_printf(&rules, "    proto: %s\n", proto_name(c->proto, pb, sizeof(pb)));
		rule_list(&rules, &sets, "from", c->from, c->n_from, false);
		rule_list(&rules, &sets, "to", c->to, c->n_to, false);
		if (c->n_ports > 0)
			rule_list(&rules, &sets, "dport", c->ports, c->n_ports, true);
		sb_printf(&rules, "    action: allow\n");
	}
	if (l->scope != 0) {
		/* The learnt pair's traffic that no learnt rule allows gets def; the rest of the
		 * appliance keeps its default. */
		sb_printf(&rules, "  - name: learned-rest\n");
		sb_printf(&rules, "    description: \"the learnt ports: anything else\"\n");
		sb_printf(&rules, "    in: [");
		for (unsigned i = 0, first = 1; i < 32; i++) {
			if (!(l->scope >> i & 1) || i >= l->n_ports || l->ports[i] == NULL)
				continue;
			sb_printf(&rules, "%s\"%s\"", first ? "" : ", ", l->ports[i]);
			first = 0;
		}
		sb_printf(&rules, "]\n    action: %s\n", rl_action_name(def));
	}
	utc(since, t0, sizeof(t0));
	utc(until, t1, sizeof(t1));
	sb_printf(&out,
			"# Proposed by Vigil's learning mode from the flows seen %s .. %s:\n"
			"# %u allow rules for %" PRIu64 " flows (%" PRIu64
			" distinct source, destination, port and protocol keys",
			t0, t1, n_rules, flows, l->st.keys);
	if (l->st.excluded > 0)
		sb_printf(&out, "; %" PRIu64 " excluded by the operator", l->st.excluded);
	if (l->st.dropped > 0)
		sb_printf(&out, "; %" PRIu64 " past the limit of %u keys, not covered",
				l->st.dropped, l->max_keys);
	if (l->st.rules_cut > 0)
		sb_printf(&out, "; %" PRIu64 " candidates past the limit of %u rules, not covered",
				l->st.rules_cut, l->max_rules);
	if (l->scope != 0)
		sb_printf(&out,
				").\n# Learnt on some ports only: anything else they receive gets "
				"'%s' (rule learned-rest);\n# merge these rules ahead of the policy in "
				"force, whose rules for other ports are not copied here.\n"
				"version: 1\ndefault: %s\n",
				rl_action_name(def), rl_action_name(l->scope_other));
	else
		sb_printf(&out, ").\n# Anything else gets the default.\nversion: 1\ndefault: %s\n",
				rl_action_name(def));
	if (sets.n > 0) {
		sb_printf(&out, "sets:\n");
		for (unsigned i = 0; i < sets.n; i++)
			sb_printf(&out, "  %s: %s\n", sets.v[i].name, sets.v[i].text);
	}
	sb_printf(&out, "rules:%s\n", n_rules == 0 && l->scope == 0 ? " []" : "");
	if (rules.s != NULL)
		sb_printf(&out, "%s", rules.s);
	for (unsigned i = 0; i < sets.n; i++)
		free(sets.v[i].text);
	free(sets.v);
	free(rules.s);
	if (out.oom || rules.oom) {
		free(out.s);
		errno = ENOMEM;
		return NULL;
	}
	*len = out.len;
	return out.s;
}
