/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the management API (mgmt/) may ask of the appliance. Every function here may be called
 * from a management thread: reads use counters that are safe to read from any thread or a
 * read-only store connection; changes go through the control mailbox (ctl_call) and return
 * control's answer. Nothing here touches worker state directly.
 *
 * Results are jansson objects owned by the caller (json_decref). Errors are -errno with a
 * message in err (and, for texts, positioned diagnostics in diag):
 *   -EINVAL     the input is wrong (diag/err say where and why)         -> 400/422
 *   -ENOENT     no such version / entry                                   -> 404
 *   -ESTALE     If-Match did not match the current version                 -> 412
 *   -EBUSY      control did not start the change in time: nothing changed  -> 503
 *   -EINPROGRESS control started the change but did not finish it in time: it goes on, and
 *               its outcome is recorded as an operation (*op, ctl_api_operation)  -> 202
 *   -ENOTSUP    the appliance was started without what this needs (store)  -> 409
 */
#ifndef CTL_API_H
#define CTL_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ctl_ctx.h"
#include "vg_diag.h"

/* Status: version, uptime, mode, ports (link, counters), workers, flow table fill, the
 * versions of the policy and the signature set in force ("versions"), store state. */
json_t *ctl_api_status(struct ctl_ctx *ctx);

/*
 * The workers, for GET /api/v1/workers: {interval_s, workers[]}, each worker {id, lcore, flows
 * (in its flow table now), its traffic (ctl_status_worker_traffic: counters, handoff,
 * queues[]), rx_pps, rx_bps, tx_pps, tx_bps (ctl_rates_annotate, over interval_s; null until
 * control has two readings) and stalled (the watchdog's view)}. NULL on allocation failure.
 */
json_t *ctl_api_workers(struct ctl_ctx *ctx);

/* Ready: every port has link and, when the config names a policy file, a policy is in force.
 * why says what is missing. */
bool ctl_api_ready(struct ctl_ctx *ctx, char *why, size_t len);

/* The TCP states' names as flows and counters spell them, NULL-terminated (query filters). */
const char *const *ctl_api_tcp_states(void);

/* Everything /metrics exposes, as one JSON document (mgmt formats it for Prometheus). */
json_t *ctl_api_metrics(struct ctl_ctx *ctx);

/* Versioned texts: the policy and the signature set. */
enum ctl_text_kind {
	CTL_TEXT_POLICY,
	CTL_TEXT_SIGNATURES,
};

/* What a person calls the text of kind: "policy", "signature set" ("?" for no kind). */
const char *ctl_api_text_what(enum ctl_text_kind kind);

struct ctl_text_result {
	int64_t version; /* store id of the version now in force; 0: none (see version_state) */
	/*
	 * "recorded" (version is the store's id), "pending" (in force; the store has not written
	 * it yet, so it has no id: answered 202, read the outcome back from GET, which shows the
	 * id once written) or "unrecorded" (in force; the store could not take it: no id ever).
	 */
	const char *version_state;
	char sha256[65];
	bool unchanged;	    /* the text was identical to the current one: nothing was done */
	json_t *summary;    /* what was compiled (rules, ACL rules, build time...), caller frees */
	uint64_t operation; /* with -EINPROGRESS: the operation to read the outcome from */
};

/* The text in force: {version, sha256, text, source, applied_at, summary}. */
json_t *ctl_api_text_current(
		struct ctl_ctx *ctx, enum ctl_text_kind kind, char *err, size_t errlen);

/* Load, validate and compile without changing anything. 0 or -EINVAL (diag has positions). */
int ctl_api_text_validate(struct ctl_ctx *ctx, enum ctl_text_kind kind, const char *text,
		size_t len, struct vg_diag *diag, json_t **summary);

/*
 * Validate, compile (on the caller's thread, off the fast path), swap it in atomically and
 * record the version: the caller waits up to 2 s for the store's id (version_state says how it
 * went). if_match: the version the caller expects to replace, or -1. An identical text changes
 * nothing (unchanged = true). -EAGAIN: the store's queue has no room for the version; nothing
 * was changed.
 */
int ctl_api_text_apply(struct ctl_ctx *ctx, enum ctl_text_kind kind, const char *text, size_t len,
		const char *who, int64_t if_match, struct vg_diag *diag,
		struct ctl_text_result *out);

/* Apply a stored earlier version again (recorded as a new version with source "rollback"). */
int ctl_api_text_rollback(struct ctl_ctx *ctx, enum ctl_text_kind kind, int64_t version,
		const char *who, struct vg_diag *diag, struct ctl_text_result *out);

/*
 * For a rollback of an uploaded program's name, or an upload with apply (ctl_bpf_api.c's
 * follow_name): when the policy in force names `upload:NAME` for a rule or pre-filter that runs
 * another object than path (what the name means now), compile the text in force again and put
 * it in force, as a reload would (a new version with source; *recompiled true). Otherwise nothing
 * (*recompiled false). Errors as ctl_api_text_apply() (-EINVAL: the policy refused it, diag says
 * why; nothing changed), and -ESTALE when the text in force changed meanwhile.
 */
int ctl_api_policy_follow_upload(struct ctl_ctx *ctx, const char *name, const char *path,
		const char *source, bool *recompiled, struct vg_diag *diag,
		struct ctl_text_result *out);

/*
 * Policy preview (ctl_preview.h): validate and compile text as a PUT would (diag has the
 * positions), then classify the store's flow aggregates of [since, until) (Unix seconds; 0: no
 * bound) with it and with the policy in force (only the flows that came in on a port of the
 * pair of port `pair` when it is not NULL: -EINVAL when no pair has it), and list the changes
 * (at most max_changes groups; 0: all), reading with rd (the caller's read-only connection). 0
 * with *out, -EINVAL (diag), -ENOTSUP (no store), or another -errno with err filled.
 */
struct ctl_store_reader;
int ctl_api_policy_preview(struct ctl_ctx *ctx, struct ctl_store_reader *rd, const char *text,
		size_t len, int64_t since, int64_t until, const char *pair, unsigned max_changes,
		struct vg_diag *diag, json_t **out, char *err, size_t errlen);

/*
 * Learning mode (ctl_learn.h). The mode "learn" (ctl_api_set_mode) starts a session. These read
 * with rd, the caller's read-only store connection; -ENOTSUP without a store.
 * ctl_api_learn: the session's state and candidates (at most limit; 0: all).
 * ctl_api_learn_proposal: the proposed policy, checked against the window and validated and
 * compiled as a PUT would (diag); only: candidate ids to include (NULL: all).
 * ctl_api_learn_exclusions: replace the operator's exclusions (-EINVAL with err when one is
 * wrong), recorded in the store; a write through control like the mode.
 */
int ctl_api_learn(struct ctl_ctx *ctx, struct ctl_store_reader *rd, unsigned limit, json_t **out,
		char *err, size_t errlen);
int ctl_api_learn_proposal(struct ctl_ctx *ctx, struct ctl_store_reader *rd, const json_t *only,
		struct vg_diag *diag, json_t **out, char *err, size_t errlen);
int ctl_api_learn_exclusions(struct ctl_ctx *ctx, json_t *exclude, const char *who, uint64_t *op,
		char *err, size_t errlen);

/*
 * Promotion: set rule's dry_run in the policy in force (dry_run true: "dry-run", false:
 * "enforce") and apply the result as a new version, the rest of the text byte for byte
 * (rl_edit.h). if_match: the version the caller saw, or -1. An unchanged rule changes nothing
 * (out->unchanged). -ENOENT: no policy, or no such rule (err says which); else as
 * ctl_api_text_apply().
 */
int ctl_api_policy_rule_mode(struct ctl_ctx *ctx, const char *rule, bool dry_run, const char *who,
		int64_t if_match, struct vg_diag *diag, struct ctl_text_result *out, char *err,
		size_t errlen);

/* Stored versions, newest first: [{version, sha256, source, created, result}]. */
json_t *ctl_api_text_versions(struct ctl_ctx *ctx, enum ctl_text_kind kind, unsigned limit,
		char *err, size_t errlen);

/* The signature load report: files, rules read/loaded/rejected by reason, rejected rules. */
json_t *ctl_api_signature_report(struct ctl_ctx *ctx);

/* Mode: "enforce", "dry-run" or "learn" (dry-run while a global learning session runs). */
const char *ctl_api_mode(struct ctl_ctx *ctx);
int ctl_api_set_mode(struct ctl_ctx *ctx, const char *mode, const char *who, uint64_t *op,
		char *err, size_t errlen);

/*
 * The mode of one port pair, named by either of its ports (pair NULL: the global mode, as
 * ctl_api_set_mode): "dry-run" or "learn" put only that pair's ports in dry-run (learning that
 * pair alone), "enforce" takes them back (ending the pair's session); the global mode applies
 * to the other pairs. -EINVAL: no pair has that port; -EEXIST: another learning session runs
 * (global or another pair's; also from ctl_api_set_mode's "learn" while a pair learns).
 */
int ctl_api_set_pair_mode(struct ctl_ctx *ctx, const char *mode, const char *pair, const char *who,
		uint64_t *op, char *err, size_t errlen);

/* The pair index of a port name, or -1. */
int ctl_api_pair_of(struct ctl_ctx *ctx, const char *port);

/* Each pair's mode: [{"ports": [a, b], "mode", "own": set for the pair, not global}]. */
json_t *ctl_api_pair_modes(struct ctl_ctx *ctx);

/*
 * A write whose outcome was not known when its caller answered (-EINPROGRESS):
 * {id, what, state: "running"|"done", outcome: null|"applied"|"failed", error, started_at_ns,
 * finished_at_ns}. NULL with errno ENOENT when no such operation is kept (CTL_OPS_KEPT).
 */
json_t *ctl_api_operation(struct ctl_ctx *ctx, uint64_t id);
#define CTL_API_OPS_KEPT 256 /* the latest operations kept */

/*
 * Active flows (as control last heard of them), filtered; at most limit. Each has app_proto:
 * the detected application protocol's name, or null while none is.
 */
struct ctl_flow_filter {
	uint8_t family;	   /* 0: any; with addr set, 4 or 6 */
	uint8_t addr[16];  /* matches either endpoint, when family != 0 */
	int32_t port;	   /* either port, -1: any */
	int16_t proto;	   /* IPPROTO_*, -1: any */
	int16_t state;	   /* dp_tcp_state, -1: any */
	int16_t app_proto; /* enum al_proto (0: not detected yet), -1: any */
};
json_t *ctl_api_flows_active(struct ctl_ctx *ctx, const struct ctl_flow_filter *f, unsigned limit);

/*
 * Blocklist. ttl_s 0 means until removed. ctl_api_block_add() puts the entry in force and waits
 * up to 2 s for the store to write it: 0 when written, 1 when in force but still pending in the
 * store (kept and retried, counted in status store.durable_pending), -EAGAIN when the store's
 * queue had no room (nothing changed), or another -errno.
 */
json_t *ctl_api_blocklist(struct ctl_ctx *ctx);
int ctl_api_block_add(struct ctl_ctx *ctx, uint8_t family, const uint8_t *addr, uint32_t ttl_s,
		const char *reason, const char *who, uint64_t *op, char *err, size_t errlen);
int ctl_api_block_remove(struct ctl_ctx *ctx, uint8_t family, const uint8_t *addr, const char *who,
		uint64_t *op, char *err, size_t errlen);

/* Hits per policy rule and per signature: [{rule/sid, name/msg, packets, bytes, flows, ...}]. */
json_t *ctl_api_rule_counters(struct ctl_ctx *ctx);

/* Record a write in the audit log (token name, method, path, request summary, status). */
int ctl_api_audit(struct ctl_ctx *ctx, const char *who, const char *method, const char *path,
		const char *request, int status);

/* The store's path, for read-only connections of management threads (NULL: no store). */
const char *ctl_api_store_path(struct ctl_ctx *ctx);

#endif /* CTL_API_H */
