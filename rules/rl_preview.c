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

static rl_u128
addr_num(uint8_t family, const uint8_t *a)
{
	unsigned n = family == 4 ? 4 : 16;
	rl_u128 v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | a[i];
	return v;
}

static bool
addr_has(const struct rl_addrset *s, uint8_t family, rl_u128 a)
{
	return rl_ivs_has(family == 4 ? &s->v4 : &s->v6, a);
}

static bool
ports_all(const struct rl_ivs *s)
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
static enum tri
rule_match(const struct rl_rule *r, const struct rl_obs *o, rl_u128 src, rl_u128 dst)
{
	bool maybe = false;

	if (!rl_rule_has_proto(r, o->proto))
		return T_NO;
	if (!addr_has(&r->from_set, o->family, src) || !addr_has(&r->to_set, o->family, dst))
		return T_NO;
	if (is_icmp(o->proto)) {
		/* Type and code travel in the port fields; the store keeps neither for certain. */
		if (!ports_all(&r->sport_set) || !ports_all(&r->dport_set) ||
				(o->proto == 1 && r->icmp_type4 != RL_ICMP_ANY) ||
				(o->proto == 58 && r->icmp_type6 != RL_ICMP_ANY) ||
				r->icmp_code != RL_ICMP_ANY)
			maybe = true;
	} else {
		if (!rl_ivs_has(&r->dport_set, o->dport))
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

void
rl_preview_classify(const struct rl_policy *p, const struct rl_obs *o, struct rl_verdict *out)
{
	rl_u128 src = addr_num(o->family, o->src), dst = addr_num(o->family, o->dst);
	unsigned n = p != NULL ? rl_policy_n_rules(p) : 0;

	*out = (struct rl_verdict){ .rule = RL_RULE_DEFAULT,
		.action = p != NULL ? rl_policy_default(p) : RL_ACT_ALLOW,
		.certain = true,
		.maybe = RL_RULE_DEFAULT };
	bool decided = false;

	for (unsigned i = 0; i < n; i++) {
		const struct rl_rule *r = rl_policy_rule(p, i);
		enum tri t;

		/* Once decided, only stateless rules are left to look at (below). */
		if (decided && (!r->stateless || !out->certain))
			continue;
		t = rule_match(r, o, src, dst);
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

	rl_preview_classify(pv->cur, o, &f);
	rl_preview_classify(pv->cand, o, &t);
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
