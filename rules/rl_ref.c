/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>

#include "rl_ref.h"

/* Is the address (family fam, network order) inside the prefix? */
static bool
cidr_has(const struct rl_item *it, uint8_t fam, const uint8_t *addr)
{
	if (it->family != fam)
		return false;
	for (unsigned bit = 0; bit < it->plen; bit++) {
		uint8_t m = (uint8_t)(0x80 >> (bit & 7));

		if ((addr[bit >> 3] & m) != (it->addr[bit >> 3] & m))
			return false;
	}
	return true;
}

/* What an expression is asked about: an address (fam 4 or 6, network order) or a number. */
struct probe {
	uint8_t fam; /* 0: the number v */
	const uint8_t *addr;
	uint32_t v;
};

static bool expr_has(const struct rl_policy *p, const struct rl_expr *e, const struct probe *q);

static bool
item_has(const struct rl_policy *p, const struct rl_item *it, const struct probe *q)
{
	switch (it->kind) {
	case RL_ITEM_ANY:
		return true;
	case RL_ITEM_CIDR:
		return q->fam != 0 && cidr_has(it, q->fam, q->addr);
	case RL_ITEM_RANGE:
		return q->fam == 0 && it->lo <= q->v && q->v <= it->hi;
	case RL_ITEM_SET:
		return expr_has(p, &rl_policy_set(p, it->set)->expr, q);
	default:
		return false;
	}
}

/* (any positive item holds it, or there is no positive item) and no negated item holds it. */
static bool
expr_has(const struct rl_policy *p, const struct rl_expr *e, const struct probe *q)
{
	bool has_pos = false, in_pos = false;

	for (unsigned i = 0; i < e->n; i++) {
		bool in = item_has(p, &e->v[i], q);

		if (e->v[i].neg && in)
			return false;
		if (!e->v[i].neg) {
			has_pos = true;
			in_pos = in_pos || in;
		}
	}
	return !has_pos || in_pos;
}

static bool
addr_in(const struct rl_policy *p, const struct rl_expr *e, uint8_t fam, const uint8_t *addr)
{
	return expr_has(p, e, &(struct probe){ .fam = fam, .addr = addr });
}

static bool
num_in(const struct rl_policy *p, const struct rl_expr *e, uint32_t v)
{
	return expr_has(p, e, &(struct probe){ .v = v });
}

bool
rl_ref_rule_matches(const struct rl_policy *p, const struct rl_rule *r, const struct rl_key *k)
{
	uint16_t sport = ntohs(k->sport), dport = ntohs(k->dport);

	if (k->family != 4 && k->family != 6)
		return false;
	if (!r->in_any && (k->in_port >= RL_MAX_PORTS || !(r->in_ports >> k->in_port & 1)))
		return false;
	if (!r->vlan_any && !vg_ivs_has(&r->vlan, ntohs(k->vlan)))
		return false;
	if (!rl_rule_has_proto(r, k->proto))
		return false;
	if (r->stateless && (k->tcp_flags & r->flags_mask) != r->flags_set)
		return false;
	if (!addr_in(p, &r->from, k->family, k->src) || !addr_in(p, &r->to, k->family, k->dst))
		return false;
	if (!num_in(p, &r->sport, sport) || !num_in(p, &r->dport, dport))
		return false;
	/* ICMP type and code travel in the port fields of the key. */
	if (k->proto == 1 && r->icmp_type4 != RL_ICMP_ANY && sport != r->icmp_type4)
		return false;
	if (k->proto == 58 && r->icmp_type6 != RL_ICMP_ANY && sport != r->icmp_type6)
		return false;
	if ((k->proto == 1 || k->proto == 58) && r->icmp_code != RL_ICMP_ANY &&
			dport != r->icmp_code)
		return false;
	return true;
}

static uint32_t
first_match(const struct rl_policy *p, const struct rl_key *k, bool stateless)
{
	unsigned n = rl_policy_n_rules(p);

	for (unsigned i = 0; i < n; i++) {
		const struct rl_rule *r = rl_policy_rule(p, i);

		if (r->stateless == stateless && rl_ref_rule_matches(p, r, k))
			return i;
	}
	return RL_RULE_DEFAULT;
}

uint32_t
rl_ref_classify(const struct rl_policy *p, const struct rl_key *k)
{
	return first_match(p, k, false);
}

uint32_t
rl_ref_classify_stateless(const struct rl_policy *p, const struct rl_key *k)
{
	return first_match(p, k, true);
}
