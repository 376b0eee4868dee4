/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy preview over the store's history: which observed flows (aggregates of src, dst, dport
 * and protocol over a window) a candidate policy would give another verdict than the policy in
 * force, grouped by (from, to, rule), with counts and samples (rules/rl_preview.h says how
 * fields the store does not keep are treated). Runs on a management thread with its own
 * read-only store connection; never on control.
 */
#ifndef CTL_PREVIEW_H
#define CTL_PREVIEW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "ctl_store.h"
#include "rl_policy.h"
#include "rl_preview.h"

/*
 * Preview cand against cur (NULL: no policy in force) over [since, until) (Unix seconds; 0: no
 * bound). At most max_changes groups are listed (0: all; the totals count every one). Returns
 * {window: {since, until}, totals: {...}, changes: [{from: {verdict, rule, line, certain,
 * may_intervene}, to: {...}, aggregates, flows, packets, bytes, uncertain, first, last,
 * samples: [{src, dst, dport, proto, flows, packets, bytes, first, last}]}], truncated,
 * elapsed_ms}, or NULL with err filled.
 */
json_t *ctl_preview_run(struct ctl_store_reader *r, const struct rl_policy *cur,
		const struct rl_policy *cand, int64_t since, int64_t until, unsigned max_changes,
		char *err, size_t errlen);

/* A stored flow key with its sums, as the preview and the learner take it. */
static inline struct rl_obs
ctl_flow_obs(const struct ctl_flow_key_sum *k)
{
	struct rl_obs o = {
		.family = k->family,
		.proto = k->proto,
		.dport = k->dport,
		.packets = k->packets,
		.bytes = k->bytes,
		.flows = k->flows,
		.first = k->first,
		.last = k->last,
	};

	memcpy(o.src, k->src, sizeof(o.src));
	memcpy(o.dst, k->dst, sizeof(o.dst));
	return o;
}

#endif /* CTL_PREVIEW_H */
