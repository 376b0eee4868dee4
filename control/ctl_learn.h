/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Learning mode: the state of a learning session and what it has learnt.
 *
 * While learning, the dataplane runs as in dry-run (everything is forwarded; what the policy
 * would drop is counted) and the store keeps every flow aggregate as it always does; learning
 * reads those aggregates back, so that what it learnt survives a restart with the store and
 * control holds nothing per flow. The session's state (active or not, its window, the previous
 * mode, the operator's exclusions) is a small JSON document recorded as a "learn" version in the
 * store's versions table each time it changes, and restored from there at start: a vigild that
 * restarts while learning starts learning again (in dry-run).
 *
 * The state: {"active": bool, "since": Unix s, "until": Unix s or null (still learning),
 * "previous_mode": "enforce"|"dry-run", "exclude": [{"from": [...], "to": [...], "proto": N,
 * "dport": [N, ...]}], "by": "token name", "changed": Unix s}.
 */
#ifndef CTL_LEARN_H
#define CTL_LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ctl_store.h"
#include "rl_policy.h"
#include "vg_diag.h"

struct ctl_ctx;
struct ctl_learn;

/*
 * Create, restoring the last recorded state from ctx->store (if any); a session that was
 * active puts the dataplane in dry-run. Main thread, before the workers start. NULL with errno.
 */
struct ctl_learn *ctl_learn_create(struct ctl_ctx *ctx);
void ctl_learn_free(struct ctl_learn *l);

/* Any thread. */
bool ctl_learn_active(struct ctl_learn *l);
json_t *ctl_learn_state(struct ctl_learn *l); /* a copy */

/*
 * Control lcore: start a session (dataplane to dry-run; since = now; exclusions kept; a session
 * already running goes on unchanged), or stop it (until = now). Each change records the new
 * state. 0 or -errno.
 */
int ctl_learn_start(struct ctl_learn *l, const char *who);
int ctl_learn_stop(struct ctl_learn *l, const char *who);

/* Control lcore: replace the exclusions (already checked by ctl_learn_check_exclusions). */
int ctl_learn_set_exclusions(struct ctl_learn *l, json_t *exclude, const char *who);

/* Any thread: 0 when exclude is a valid exclusion list; else -EINVAL with err saying why. */
int ctl_learn_check_exclusions(const json_t *exclude, char *err, size_t errlen);

/*
 * Management thread, reading with rd: the candidates of the session in state over its window
 * (since .. until, or now), with cur (the policy in force, or NULL) saying what it would deny.
 * {"state", "window": {since, until}, "stats": {observed, excluded, dropped, keys, candidates,
 * rules_cut}, "limits": {max_keys, max_rules}, "candidates": [{id, family, proto, from, to,
 * ports, keys, flows, packets, bytes, first, last, denied_keys, denied_flows, samples}]}, at
 * most limit candidates listed. NULL with err.
 */
json_t *ctl_learn_candidates(struct ctl_store_reader *rd, const json_t *state,
		const struct rl_policy *cur, unsigned limit, char *err, size_t errlen);

/*
 * The proposal of the session: the policy text (default: cur's when it denies, else drop),
 * only the candidates whose id is in only (NULL: all), and a check made by reading the window
 * again with the proposal loaded: how many observed, non-excluded aggregates it allows (all,
 * unless a bound cut some). {"text", "default", "rules", "stats", "check": {observed, allowed,
 * not_allowed, excluded}}. NULL with err.
 */
json_t *ctl_learn_proposal(struct ctl_store_reader *rd, const json_t *state,
		const struct rl_policy *cur, const json_t *only, char *err, size_t errlen);

#endif /* CTL_LEARN_H */
