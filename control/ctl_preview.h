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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "ctl_store.h"
#include "rl_policy.h"
#include "rl_preview.h"

/*
 * Preview cand against cur (NULL: no policy in force) over [since, until) (Unix seconds; 0: no
 * bound). ports names the stored ingress ports (NULL: none known, so every aggregate's port is
 * unknown); in_mask, when not 0, keeps only the aggregates that came in on one of its ports
 * (bit i: port i; a pair's preview), which leaves out those whose port is not known. At most
 * max_changes groups are listed (0: all; the totals count every one). Returns {window: {since,
 * until}, ports: [names] or null, totals: {...}, changes: [{from: {verdict, rule, line,
 * certain, may_intervene}, to: {...}, aggregates, flows, packets, bytes, uncertain, first,
 * last, samples: [{src, dst, dport, proto, in_port, flows, packets, bytes, first, last}]}],
 * truncated, elapsed_ms, scan_ms}, or NULL with err filled.
 */
json_t *ctl_preview_run(struct ctl_store_reader *r, const struct ctl_ports *ports, uint32_t in_mask,
		const struct rl_policy *cur, const struct rl_policy *cand, int64_t since,
		int64_t until, unsigned max_changes, char *err, size_t errlen);

/* A stored flow key with its sums, as the preview and the learner take it. */
static inline struct rl_obs
ctl_flow_obs(const struct ctl_flow_key_sum *k)
{
	struct rl_obs o = {
		.family = k->family,
		.proto = k->proto,
		.dport = k->dport,
		.in_known = k->in_port < RL_MAX_PORTS,
		.in_port = k->in_port < RL_MAX_PORTS ? (uint8_t)k->in_port : 0,
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

/* An ingress port mask that no key passes: a pair none of whose ports is known. */
#define CTL_IN_NONE UINT32_MAX

/* True when k passes in_mask (0: every key; CTL_IN_NONE: none). */
static inline bool
ctl_flow_in_mask(const struct ctl_flow_key_sum *k, uint32_t in_mask)
{
	return in_mask == 0 ||
	       (in_mask != CTL_IN_NONE && k->in_port < 32 && (in_mask >> k->in_port & 1));
}

/* The port name of an observation, or NULL (JSON null) when not known. */
static inline const char *
ctl_obs_port(const struct ctl_ports *ports, const struct rl_obs *o)
{
	return ports != NULL && o->in_known && o->in_port < ports->n ? ports->name[o->in_port]
								     : NULL;
}

/*
 * An observation as the preview's and the learner's samples show it: {src, dst, dport, proto,
 * in_port (name or null), flows, packets, bytes, first, last}. NULL when out of memory.
 */
json_t *ctl_obs_json(const struct ctl_ports *ports, const struct rl_obs *o);

#endif /* CTL_PREVIEW_H */
