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
 * A session learns globally (the whole dataplane in dry-run) or one port pair (only that pair's
 * ports in dry-run, dp_set_dry_ports(); the others enforce as before): then only the flows
 * whose initiator came in on one of the pair's ports are learnt, and the proposal's rules say
 * `in:`. One session at a time.
 *
 * The state: {"active": bool, "since": Unix s, "until": Unix s or null (still learning),
 * "previous_mode": "enforce"|"dry-run", "pair": [port, port] or null (global), "exclude":
 * [{"from": [...], "to": [...], "proto": N, "dport": [N, ...]}], "by": "token name",
 * "changed": Unix s}.
 */
#ifndef CTL_LEARN_H
#define CTL_LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ctl_store.h"
#include "rl_policy.h"
#include "vg_config.h"
#include "vg_diag.h"

struct ctl_ctx;
struct ctl_learn;

/*
 * Create, restoring the last recorded state from ctx->store (if any); a session that was
 * active puts the dataplane in dry-run. Main thread, before the workers start. NULL with errno.
 */
struct ctl_learn *ctl_learn_create(struct ctl_ctx *ctx);
void ctl_learn_free(struct ctl_learn *l);

/* Any thread. active: a session runs; global: a session of the whole dataplane runs; pair_ports:
 * the ports of the pair a session learns (0: none, or global). */
bool ctl_learn_active(struct ctl_learn *l);
bool ctl_learn_global(struct ctl_learn *l);
uint32_t ctl_learn_pair_ports(struct ctl_learn *l);

/* The config's port names (cfg NULL: none). */
void ctl_ports_of(const struct vg_config *cfg, struct ctl_ports *out);

/*
 * The ports a state's session learns, as a mask over ports (0: all, a global session;
 * CTL_IN_NONE: a pair none of whose names is among ports).
 */
uint32_t ctl_learn_state_ports(const json_t *state, const struct ctl_ports *ports);
json_t *ctl_learn_state(struct ctl_learn *l); /* a copy */

/*
 * Control lcore: start a session of the whole dataplane (pair -1: the dataplane to dry-run) or of
 * the pair of that index in the config (its ports to dry-run); since = now; exclusions kept. The
 * same session already running goes on unchanged (0); another one is -EEXIST; a pair index out of
 * range -EINVAL. Stop ends the session (until = now) and puts a pair's ports back as they were
 * (the global mode is the caller's to set). Each change records the new state. 0 or -errno.
 */
int ctl_learn_start(struct ctl_learn *l, const char *who, int pair);
int ctl_learn_stop(struct ctl_learn *l, const char *who);

/* Control lcore: replace the exclusions (already checked by ctl_learn_check_exclusions). */
int ctl_learn_set_exclusions(struct ctl_learn *l, json_t *exclude, const char *who);

/* Any thread: 0 when exclude is a valid exclusion list; else -EINVAL with err saying why. */
int ctl_learn_check_exclusions(const json_t *exclude, char *err, size_t errlen);

/*
 * Management thread, reading with rd: the candidates of the session in state over its window
 * (since .. until, or now), with cur (the policy in force, or NULL) saying what it would deny.
 * {"state", "window": {since, until}, "stats": {observed, excluded, dropped, keys, candidates,
 * rules_cut}, "limits": {max_keys, max_rules}, "candidates": [{id, family, proto, in_port (its
 * port's name, or null: not known), from, to, ports, keys, flows, packets, bytes, first, last,
 * denied_keys, denied_flows, samples}]}, at most limit candidates listed. NULL with err.
 */
json_t *ctl_learn_candidates(struct ctl_store_reader *rd, const struct ctl_ports *ports,
		const json_t *state, const struct rl_policy *cur, unsigned limit, char *err,
		size_t errlen);

/*
 * The proposal of the session: the policy text (default: cur's when it denies, else drop),
 * only the candidates whose id is in only (NULL: all), and a check made by reading the window
 * again with the proposal loaded: how many observed, non-excluded aggregates it allows (all,
 * unless a bound cut some). {"text", "default", "rules", "stats", "check": {observed, allowed,
 * not_allowed, excluded}}. NULL with err.
 */
json_t *ctl_learn_proposal(struct ctl_store_reader *rd, const struct ctl_ports *ports,
		const json_t *state, const struct rl_policy *cur, const json_t *only, char *err,
		size_t errlen);

#endif /* CTL_LEARN_H */
