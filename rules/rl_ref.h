/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reference classifier: a plain linear scan over the policy model, evaluating each rule's
 * lists exactly as written (sets looked up by reference, negations applied per list). It is
 * the semantic definition of the policy language; the rte_acl snapshot must agree with it on
 * every key (tests/unit/rules/test_rl_diff.c). Slow by design; never on the fast path.
 */
#ifndef RL_REF_H
#define RL_REF_H

#include <stdbool.h>
#include <stdint.h>

#include "rl_key.h"
#include "rl_policy.h"

/* Does rule r match key k? Stateless rules also check k->tcp_flags. */
bool rl_ref_rule_matches(
		const struct rl_policy *p, const struct rl_rule *r, const struct rl_key *k);

/* Index of the first stateful rule matching k, or RL_RULE_DEFAULT. */
uint32_t rl_ref_classify(const struct rl_policy *p, const struct rl_key *k);

/* Index of the first stateless (tcp_flags) rule matching k, or RL_RULE_DEFAULT. */
uint32_t rl_ref_classify_stateless(const struct rl_policy *p, const struct rl_key *k);

#endif /* RL_REF_H */
