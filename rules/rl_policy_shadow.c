/* SPDX-License-Identifier: BSD-3-Clause */
/* Policy loader: shadow analysis (a rule that an earlier rule covers never matches). */
#include <inttypes.h>

#include "rl_policy_impl.h"

/* ---------------------------------------------------------------------------------------- */
/* Shadow analysis                                                                           */

static bool
addrs_contain(const struct vg_addrset *a, const struct vg_addrset *b)
{
	return vg_ivs_contains(&a->v4, &b->v4) && vg_ivs_contains(&a->v6, &b->v6);
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
	if (!a->vlan_any && (b->vlan_any || !vg_ivs_contains(&a->vlan, &b->vlan)))
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
	if (!vg_ivs_contains(&a->sport_set, &b->sport_set) ||
			!vg_ivs_contains(&a->dport_set, &b->dport_set))
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
