/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy preview: what a candidate policy would do to traffic that was observed.
 *
 * The store keeps flows as aggregates of (src, dst, dport, proto, ingress port) per minute (the
 * ingress port since schema 4: older rows do not know it); it does not keep the VLAN, the
 * source port, the TCP flags or the ICMP type. An observation is
 * therefore classified with three-valued logic over the policy model, with the reference
 * classifier's meaning (rl_ref.h): a rule matches (every field it constrains is known and
 * matches), does not match (a known field does not), or may match (the known fields match and
 * it also constrains a field the store does not keep). The verdict is the first rule that
 * matches, or the default; when a rule that may match comes before it, or a stateless
 * (tcp_flags) rule may drop some of the flow's packets, the verdict is marked uncertain and the
 * rule that may intervene is named, so that a preview never claims more than it knows.
 *
 * A preview compares two policies (the candidate and the one in force) over a list of
 * observations and groups the observations whose verdict changes by (from, to, rule) with their
 * counts and the largest ones as samples. Nothing here needs EAL; any thread may call it on
 * models it owns (models are read-only).
 */
#ifndef RL_PREVIEW_H
#define RL_PREVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rl_policy.h"

/* One observed aggregate (what the store's flows table keeps, summed over a window). */
struct rl_obs {
	uint8_t family; /* 4 or 6 */
	uint8_t proto;
	uint16_t dport;	 /* host order */
	bool in_known;	 /* the ingress port is known (else a rule's `in` may match) */
	uint8_t in_port; /* with in_known: the port index (rl_env order, as rl_key's in_port) */
	uint8_t src[16]; /* network order; IPv4 in src[0..3] */
	uint8_t dst[16];
	uint64_t packets, bytes, flows;
	int64_t first, last; /* Unix seconds of the first and last minute seen */
};

/*
 * A verdict as the operator sees it: the action, and whether it is only counted (dry_run: a
 * drop, reject or rate limit that forwards and counts "would drop"). An allow is never dry-run.
 */
struct rl_verdict {
	uint32_t rule; /* rule index, or RL_RULE_DEFAULT */
	enum rl_action action;
	bool dry_run;
	bool certain;	/* no rule that may match (unknown field) comes before it */
	uint32_t maybe; /* the first rule that may intervene, or RL_RULE_DEFAULT */
};

/* "allow", "drop", "reject", "rate-limit", or with dry_run "drop (dry-run)" etc. */
const char *rl_verdict_name(const struct rl_verdict *v);

/* True when the verdicts forward or drop differently, or one is dry-run and the other is not. */
bool rl_verdict_differs(const struct rl_verdict *a, const struct rl_verdict *b);

/* Classify o under p (see the top of this file). */
void rl_preview_classify(const struct rl_policy *p, const struct rl_obs *o, struct rl_verdict *out);

/* Samples kept per group of changes: the largest observations by bytes. */
#define RL_PREVIEW_SAMPLES 5

/* The observations whose verdict changes from one (rule, verdict) to another. */
struct rl_preview_group {
	struct rl_verdict from, to; /* certain: every observation of the group was certain */
	uint64_t aggregates, flows, packets, bytes;
	uint64_t uncertain; /* observations of the group whose verdict was not certain */
	int64_t first, last;
	unsigned n_samples;
	struct rl_obs samples[RL_PREVIEW_SAMPLES]; /* largest first */
};

struct rl_preview_totals {
	uint64_t aggregates, flows, packets, bytes;		   /* everything examined */
	uint64_t changed_aggregates, changed_flows, changed_bytes; /* in a group */
	uint64_t uncertain_aggregates; /* examined observations with an uncertain verdict (either)
					*/
};

struct rl_preview;

/*
 * A preview of `cand` against `cur` (the policy in force; NULL: no policy, everything is the
 * default allow of an appliance without one). Both models must outlive the preview. NULL with
 * errno ENOMEM.
 */
struct rl_preview *rl_preview_create(const struct rl_policy *cur, const struct rl_policy *cand);
void rl_preview_free(struct rl_preview *pv);

/* Classify one observation under both policies and account it. 0 or -ENOMEM. */
int rl_preview_add(struct rl_preview *pv, const struct rl_obs *o);

/* The groups, largest (by flows, then bytes) first; valid until the next add or the free. */
const struct rl_preview_group *rl_preview_groups(struct rl_preview *pv, unsigned *n);
void rl_preview_totals(const struct rl_preview *pv, struct rl_preview_totals *out);

#endif /* RL_PREVIEW_H */
