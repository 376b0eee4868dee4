/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy in force, and how a new one replaces it.
 *
 * A change is two steps. Building (load, validate, compile into an rte_acl snapshot) is slow
 * and runs on whatever thread asks: a management thread, the reload thread after SIGHUP, or
 * main at start-up. Publishing is quick and runs on the control lcore: one pointer swap that
 * every worker sees at its next burst, the version recorded in the store, and the old snapshot
 * freed once every worker has passed a quiescent state. A policy that fails to build changes
 * nothing. Flows classified under an older snapshot are re-classified on their next packet, so
 * a new deny cuts existing connections.
 */
#ifndef CTL_POLICY_H
#define CTL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vg_diag.h"

struct ctl_ctx;
struct ctl_policy;
struct ctl_policy_build;

/* The manager of ctx's dataplane policy. NULL with errno on failure. */
struct ctl_policy *ctl_policy_create(struct ctl_ctx *ctx);

/* Unpublish and free everything. Workers must be stopped. NULL is a no-op. */
void ctl_policy_free(struct ctl_policy *pm);

/*
 * Build text (name is used in messages: a file name, or "api"). Any thread. Returns 0 with
 * *out set, or -EINVAL (diag says where and why) or -ENOMEM.
 */
int ctl_policy_build(struct ctl_policy *pm, const char *name, const char *text, size_t len,
		struct vg_diag *diag, struct ctl_policy_build **out);

/*
 * Load text into a model (no compile) with the names the policy in force may use (ports, the
 * signature groups, the policy file's directory). Any thread. NULL when diag holds errors.
 */
struct rl_policy;
struct rl_policy *ctl_policy_load_model(struct ctl_policy *pm, const char *name, const char *text,
		size_t len, struct vg_diag *diag);

/* What a build compiled to: rules, rte_acl rules per family, classify method, build time. */
json_t *ctl_policy_build_summary(const struct ctl_policy_build *b);
const char *ctl_policy_build_sha256(const struct ctl_policy_build *b);
void ctl_policy_build_free(struct ctl_policy_build *b);

/*
 * Control lcore (or main before the workers start): put b in force, queue its version for the
 * store (source: "file:PATH", "sighup", "api:NAME", "rollback:N by NAME"), free the old
 * snapshot. Takes b in every case. Returns 0; *version is the version id when known now (no
 * store: a local count), else 0: the id comes from the store when it writes the row (t, if not
 * NULL, is completed then, see ctl_store.h), or never (the version is unrecorded).
 */
struct ctl_store_ticket;
int ctl_policy_publish(struct ctl_policy *pm, struct ctl_policy_build *b, const char *source,
		struct ctl_store_ticket *t, int64_t *version);

/* Read a file and build it (any thread). */
int ctl_policy_build_file(struct ctl_policy *pm, const char *path, struct vg_diag *diag,
		struct ctl_policy_build **out);

/* SIGHUP: rebuild the configured file on a thread of its own and publish through the mailbox.
 * Returns at once; the outcome is logged. A reload already running makes this a no-op. */
void ctl_policy_reload_async(struct ctl_policy *pm);

/* True while an asynchronous reload runs (tests wait on it). */
bool ctl_policy_reloading(const struct ctl_policy *pm);

/* The policy in force (control lcore): NULL text when none. */
struct ctl_policy_current {
	const char *text;
	size_t len;
	const char *sha256;
	int64_t version;
	const char *source;
	uint64_t applied_ns;
	uint32_t epoch;
};
void ctl_policy_current(const struct ctl_policy *pm, struct ctl_policy_current *cur);

/* Per-rule counters of the snapshot in force (control lcore): [{rule, name, action, ...}]. */
json_t *ctl_policy_counters(const struct ctl_policy *pm);

/* Where the version in force stands with the store: */
enum ctl_version_state {
	CTL_VERSION_NONE = 0,	/* nothing in force yet */
	CTL_VERSION_RECORDED,	/* the store wrote it: the version id is the store's */
	CTL_VERSION_PENDING,	/* queued for the store, no id yet (the disk is slow or full) */
	CTL_VERSION_UNRECORDED, /* the store could not take it: it has no id, and never will */
};

/* The version in force (0: none yet, or no id: see the state). Any thread. */
int64_t ctl_policy_version(const struct ctl_policy *pm);
enum ctl_version_state ctl_policy_version_state(const struct ctl_policy *pm);
const char *ctl_version_state_name(enum ctl_version_state st);

#endif /* CTL_POLICY_H */
