/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rl_key.h"
#include "rl_preview.h"

enum tri {
	T_NO,
	T_MAYBE,
	T_YES,
};

static bool
addr_has(const struct vg_addrset *s, uint8_t family, rl_u128 a)
{
	return vg_ivs_has(family == 4 ? &s->v4 : &s->v6, a);
}

static bool
ports_all(const struct vg_ivs *s)
{
	return s->n == 1 && s->v[0].lo == 0 && s->v[0].hi == 65535;
}

static bool
is_icmp(uint8_t proto)
{
	return proto == 1 || proto == 58;
}

/*
 * The rule's match against what the store knows: the resolved sets are the rule's meaning
 * (the loader resolves each list as rl_ref evaluates it; test_rl_preview checks both agree).
 */
/*
 * Everything of the match but the source (rule_match below): what it says depends only on
 * (family, proto, dport, dst, ingress port), which many observations share.
 */
static enum tri
match_but_src(const struct rl_rule *r, const struct rl_obs *o, rl_u128 dst)
{
	bool maybe = false;

	if (!rl_rule_has_proto(r, o->proto))
		return T_NO;
	if (!addr_has(&r->to_set, o->family, dst))
		return T_NO;
	if (is_icmp(o->proto)) {
		/* Type and code travel in the port fields; the store keeps neither for certain. */
		if (!ports_all(&r->sport_set) || !ports_all(&r->dport_set) ||
				(o->proto == 1 && r->icmp_type4 != RL_ICMP_ANY) ||
				(o->proto == 58 && r->icmp_type6 != RL_ICMP_ANY) ||
				r->icmp_code != RL_ICMP_ANY)
			maybe = true;
	} else {
		if (!vg_ivs_has(&r->dport_set, o->dport))
			return T_NO;
		if (!ports_all(&r->sport_set))
			maybe = true;
	}
	if (!r->in_any) {
		if (!o->in_known)
			maybe = true;
		else if (!(o->in_port < RL_MAX_PORTS && (r->in_ports >> o->in_port & 1)))
			return T_NO;
	}
	if (!r->vlan_any || r->stateless)
		maybe = true;
	return maybe ? T_MAYBE : T_YES;
}

static enum tri
rule_match(const struct rl_rule *r, const struct rl_obs *o, rl_u128 src, rl_u128 dst)
{
	enum tri t = match_but_src(r, o, dst);

	return t == T_NO || !addr_has(&r->from_set, o->family, src) ? T_NO : t;
}

/*
 * A rule that the destination side does not rule out, as a cached list holds it: the index and
 * match_but_src's answer (T_MAYBE or T_YES) in the low bit.
 */
#define ENT(i, t)   ((i) << 1 | ((t) == T_YES))
#define ENT_RULE(e) ((e) >> 1)
#define ENT_TRI(e)  ((e)&1 ? T_YES : T_MAYBE)

/*
 * Classify o under p. With list (n entries of ENT), only those rules are looked at, their
 * destination side known; without, every rule of p.
 */
static void
classify(const struct rl_policy *p, const uint32_t *list, unsigned n, const struct rl_obs *o,
		struct rl_verdict *out)
{
	rl_u128 src = vg_addr_num(o->family, o->src), dst = vg_addr_num(o->family, o->dst);

	*out = (struct rl_verdict){ .rule = RL_RULE_DEFAULT,
		.action = p != NULL ? rl_policy_default(p) : RL_ACT_ALLOW,
		.certain = true,
		.maybe = RL_RULE_DEFAULT };
	bool decided = false;

	if (list == NULL)
		n = p != NULL ? rl_policy_n_rules(p) : 0;
	for (unsigned x = 0; x < n; x++) {
		unsigned i = list != NULL ? ENT_RULE(list[x]) : x;
		const struct rl_rule *r = rl_policy_rule(p, i);
		enum tri t;

		/* Once decided, only stateless rules are left to look at (below). */
		if (decided && (!r->stateless || !out->certain))
			continue;
		if (list == NULL)
			t = rule_match(r, o, src, dst);
		else
			t = addr_has(&r->from_set, o->family, src) ? ENT_TRI(list[x]) : T_NO;
		if (t == T_NO)
			continue;
		/* A stateless rule acts on packets wherever it stands, never decides the flow: it
		 * may only intervene, and only when it can stop packets (an allow changes nothing).
		 */
		if (r->stateless) {
			if (r->action != RL_ACT_ALLOW && out->certain) {
				out->certain = false;
				out->maybe = i;
			}
			continue;
		}
		if (t == T_MAYBE) {
			if (out->certain) {
				out->certain = false;
				out->maybe = i;
			}
			continue;
		}
		out->rule = i;
		out->action = r->action;
		out->dry_run = r->dry_run && r->action != RL_ACT_ALLOW;
		decided = true;
		if (!out->certain)
			return;
	}
}

void
rl_preview_classify(const struct rl_policy *p, const struct rl_obs *o, struct rl_verdict *out)
{
	classify(p, NULL, 0, o, out);
}

/*
 * The rules of one policy that the destination side of an observation does not rule out, per
 * (family, proto, dport, dst, ingress port): a preview classifies each distinct key of the
 * window, and keys share few destinations (servers), so each rule's destination, protocol, port
 * and ingress port are checked once per destination rather than once per key. Bounded: past
 * DCACHE_MAX_ENTS listed rules, keys are classified without the cache.
 */
#define DCACHE_MAX_ENTS (8u << 20) /* 32 MiB of rule lists */

struct dkey {
	rl_u128 dst;
	uint16_t dport;
	uint8_t family, proto;
	uint8_t in_known, in_port;
};

struct dslot {
	struct dkey k;
	uint32_t off, n;
	bool used;
};

struct dcache {
	const struct rl_policy *p;
	struct dslot *slot;
	uint32_t cap, n;
	uint32_t *ents;
	uint32_t n_ents, cap_ents;
	bool full; /* the bound was reached: no new lists */
};

static struct dkey
dkey_of(const struct rl_obs *o)
{
	struct dkey k;

	memset(&k, 0, sizeof(k));
	k.dst = vg_addr_num(o->family, o->dst);
	k.dport = o->dport;
	k.family = o->family;
	k.proto = o->proto;
	k.in_known = o->in_known;
	k.in_port = o->in_known ? o->in_port : 0;
	return k;
}

static uint32_t
dkey_hash(const struct dkey *k)
{
	uint64_t h = (uint64_t)k->dst ^ (uint64_t)(k->dst >> 64) * 0x9E3779B97F4A7C15ULL;

	h ^= ((uint64_t)k->dport << 32 | (uint64_t)k->family << 24 | (uint64_t)k->proto << 16 |
			     (uint64_t)k->in_known << 8 | k->in_port) *
	     0xC2B2AE3D27D4EB4FULL;
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ULL;
	return (uint32_t)(h >> 32);
}

static bool
dkey_eq(const struct dkey *a, const struct dkey *b)
{
	return a->dst == b->dst && a->dport == b->dport && a->family == b->family &&
	       a->proto == b->proto && a->in_known == b->in_known && a->in_port == b->in_port;
}

static void
dcache_free(struct dcache *c)
{
	free(c->slot);
	free(c->ents);
	memset(c, 0, sizeof(*c));
}

static int
dcache_grow(struct dcache *c)
{
	uint32_t cap = c->cap ? c->cap * 2 : 1024;
	struct dslot *v = calloc(cap, sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->cap; i++) {
		uint32_t s;

		if (!c->slot[i].used)
			continue;
		s = dkey_hash(&c->slot[i].k) & (cap - 1);
		while (v[s].used)
			s = (s + 1) & (cap - 1);
		v[s] = c->slot[i];
	}
	free(c->slot);
	c->slot = v;
	c->cap = cap;
	return 0;
}

/* Append the rules of c->p that o's destination side leaves in; 0 or -ENOMEM (or -E2BIG). */
static int
dcache_fill(struct dcache *c, const struct rl_obs *o, struct dslot *d)
{
	unsigned n = rl_policy_n_rules(c->p);
	rl_u128 dst = d->k.dst;

	d->off = c->n_ents;
	d->n = 0;
	for (unsigned i = 0; i < n; i++) {
		enum tri t = match_but_src(rl_policy_rule(c->p, i), o, dst);

		if (t == T_NO)
			continue;
		if (c->n_ents == c->cap_ents) {
			uint32_t cap = c->cap_ents ? c->cap_ents * 2 : 4096;
			uint32_t *v;

			if (cap > DCACHE_MAX_ENTS)
				return -E2BIG;
			v = realloc(c->ents, cap * sizeof(*v));
			if (v == NULL)
				return -ENOMEM;
			c->ents = v;
			c->cap_ents = cap;
		}
		c->ents[c->n_ents++] = ENT(i, t);
		d->n++;
	}
	return 0;
}

/* Classify o under c->p through the cache (without it when full or out of memory). */
static void
dcache_classify(struct dcache *c, const struct rl_obs *o, struct rl_verdict *out)
{
	struct dkey k;
	uint32_t s;

	if (c->p == NULL || c->full) {
		classify(c->p, NULL, 0, o, out);
		return;
	}
	k = dkey_of(o);
	if ((c->n + 1) * 2 > c->cap && dcache_grow(c) != 0) {
		c->full = true;
		classify(c->p, NULL, 0, o, out);
		return;
	}
	s = dkey_hash(&k) & (c->cap - 1);
	while (c->slot[s].used && !dkey_eq(&c->slot[s].k, &k))
		s = (s + 1) & (c->cap - 1);
	if (!c->slot[s].used) {
		struct dslot d = { .k = k, .used = true };

		if (dcache_fill(c, o, &d) != 0) {
			c->n_ents = d.off; /* drop the partial list */
			c->full = true;
			classify(c->p, NULL, 0, o, out);
			return;
		}
		c->slot[s] = d;
		c->n++;
	}
	/* An empty list (no rule can match there) is not NULL, which would mean every rule; nor
	 * an offset into no array. */
	static const uint32_t none[1];

	classify(c->p, c->slot[s].n > 0 ? c->ents + c->slot[s].off : none, c->slot[s].n, o, out);
}

const char *
rl_verdict_name(const struct rl_verdict *v)
{
	static const char *const dry[] = {
		[RL_ACT_ALLOW] = "allow",
		[RL_ACT_DROP] = "drop (dry-run)",
		[RL_ACT_REJECT] = "reject (dry-run)",
		[RL_ACT_RATE_LIMIT] = "rate-limit (dry-run)",
	};

	return v->dry_run ? dry[v->action] : rl_action_name(v->action);
}

bool
rl_verdict_differs(const struct rl_verdict *a, const struct rl_verdict *b)
{
	return a->action != b->action || a->dry_run != b->dry_run;
}

/* Groups are few (pairs of deciding rules); an open-addressing index keeps adds O(1). */
struct rl_preview {
	const struct rl_policy *cur, *cand;
	struct dcache dc_cur, dc_cand;
	struct rl_preview_group *g;
	unsigned n, cap;
	uint32_t *idx; /* slot -> group + 1; 0: empty */
	unsigned idx_cap;
	bool sorted;
	struct rl_preview_totals tot;
};

struct rl_preview *
rl_preview_create(const struct rl_policy *cur, const struct rl_policy *cand)
{
	struct rl_preview *pv = calloc(1, sizeof(*pv));

	if (pv == NULL)
		return NULL;
	pv->cur = cur;
	pv->cand = cand;
	pv->dc_cur.p = cur;
	pv->dc_cand.p = cand;
	pv->idx_cap = 64;
	pv->idx = calloc(pv->idx_cap, sizeof(*pv->idx));
	if (pv->idx == NULL) {
		free(pv);
		errno = ENOMEM;
		return NULL;
	}
	return pv;
}

void
rl_preview_free(struct rl_preview *pv)
{
	if (pv == NULL)
		return;
	free(pv->g);
	free(pv->idx);
	dcache_free(&pv->dc_cur);
	dcache_free(&pv->dc_cand);
	free(pv);
}

static bool
same_group(const struct rl_preview_group *g, const struct rl_verdict *f, const struct rl_verdict *t)
{
	return g->from.rule == f->rule && g->to.rule == t->rule && g->from.action == f->action &&
	       g->to.action == t->action && g->from.dry_run == f->dry_run &&
	       g->to.dry_run == t->dry_run;
}

static unsigned
slot_of(const struct rl_verdict *f, const struct rl_verdict *t, unsigned cap)
{
	uint64_t h = ((uint64_t)f->rule << 32 | t->rule) * 0x9E3779B97F4A7C15ULL;

	h ^= (uint64_t)(f->action * 8 + f->dry_run * 4 + t->action * 2 + t->dry_run) << 7;
	return (unsigned)(h >> 32) & (cap - 1);
}

static int
grow_index(struct rl_preview *pv)
{
	unsigned cap = pv->idx_cap * 2;
	uint32_t *idx = calloc(cap, sizeof(*idx));

	if (idx == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < pv->n; i++) {
		unsigned s = slot_of(&pv->g[i].from, &pv->g[i].to, cap);

		while (idx[s] != 0)
			s = (s + 1) & (cap - 1);
		idx[s] = i + 1;
	}
	free(pv->idx);
	pv->idx = idx;
	pv->idx_cap = cap;
	return 0;
}

static struct rl_preview_group *
group_for(struct rl_preview *pv, const struct rl_verdict *f, const struct rl_verdict *t)
{
	struct rl_preview_group *g;
	unsigned s;

	if (pv->sorted) {
		/* Sorting moved the groups: index them again. */
		memset(pv->idx, 0, pv->idx_cap * sizeof(*pv->idx));
		for (unsigned i = 0; i < pv->n; i++) {
			s = slot_of(&pv->g[i].from, &pv->g[i].to, pv->idx_cap);
			while (pv->idx[s] != 0)
				s = (s + 1) & (pv->idx_cap - 1);
			pv->idx[s] = i + 1;
		}
		pv->sorted = false;
	}
	s = slot_of(f, t, pv->idx_cap);
	while (pv->idx[s] != 0) {
		g = &pv->g[pv->idx[s] - 1];
		if (same_group(g, f, t))
			return g;
		s = (s + 1) & (pv->idx_cap - 1);
	}
	if ((pv->n + 1) * 2 > pv->idx_cap) {
		if (grow_index(pv) != 0)
			return NULL;
		return group_for(pv, f, t);
	}
	if (pv->n == pv->cap) {
		unsigned cap = pv->cap ? pv->cap * 2 : 8;
		struct rl_preview_group *ng = realloc(pv->g, cap * sizeof(*ng));

		if (ng == NULL)
			return NULL;
		pv->g = ng;
		pv->cap = cap;
	}
	g = &pv->g[pv->n];
	memset(g, 0, sizeof(*g));
	g->from = *f;
	g->to = *t;
	g->from.certain = g->to.certain = true;
	g->from.maybe = g->to.maybe = RL_RULE_DEFAULT;
	g->first = INT64_MAX;
	g->last = INT64_MIN;
	pv->idx[s] = ++pv->n;
	return g;
}

static void
keep_sample(struct rl_preview_group *g, const struct rl_obs *o)
{
	unsigned i = g->n_samples;

	if (i == RL_PREVIEW_SAMPLES) {
		if (o->bytes <= g->samples[i - 1].bytes)
			return;
		i--;
	} else {
		g->n_samples++;
	}
	while (i > 0 && g->samples[i - 1].bytes < o->bytes) {
		g->samples[i] = g->samples[i - 1];
		i--;
	}
	g->samples[i] = *o;
}

int
rl_preview_add(struct rl_preview *pv, const struct rl_obs *o)
{
	struct rl_verdict f, t;
	struct rl_preview_group *g;

	dcache_classify(&pv->dc_cur, o, &f);
	dcache_classify(&pv->dc_cand, o, &t);
	pv->tot.aggregates++;
	pv->tot.flows += o->flows;
	pv->tot.packets += o->packets;
	pv->tot.bytes += o->bytes;
	if (!f.certain || !t.certain)
		pv->tot.uncertain_aggregates++;
	if (!rl_verdict_differs(&f, &t))
		return 0;
	g = group_for(pv, &f, &t);
	if (g == NULL)
		return -ENOMEM;
	g->aggregates++;
	g->flows += o->flows;
	g->packets += o->packets;
	g->bytes += o->bytes;
	if (!f.certain || !t.certain) {
		g->uncertain++;
		if (!f.certain && g->from.certain) {
			g->from.certain = false;
			g->from.maybe = f.maybe;
		}
		if (!t.certain && g->to.certain) {
			g->to.certain = false;
			g->to.maybe = t.maybe;
		}
	}
	if (o->first < g->first)
		g->first = o->first;
	if (o->last > g->last)
		g->last = o->last;
	keep_sample(g, o);
	pv->tot.changed_aggregates++;
	pv->tot.changed_flows += o->flows;
	pv->tot.changed_bytes += o->bytes;
	return 0;
}

static int
cmp_group(const void *a, const void *b)
{
	const struct rl_preview_group *x = a, *y = b;

	if (x->flows != y->flows)
		return x->flows > y->flows ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->from.rule != y->from.rule)
		return x->from.rule < y->from.rule ? -1 : 1;
	return x->to.rule < y->to.rule ? -1 : x->to.rule > y->to.rule;
}

const struct rl_preview_group *
rl_preview_groups(struct rl_preview *pv, unsigned *n)
{
	if (pv->n > 1)
		qsort(pv->g, pv->n, sizeof(*pv->g), cmp_group);
	pv->sorted = true;
	*n = pv->n;
	return pv->g;
}

void
rl_preview_totals(const struct rl_preview *pv, struct rl_preview_totals *out)
{
	*out = pv->tot;
}
