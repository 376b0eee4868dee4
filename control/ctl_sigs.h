/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The signature set in force, and how a new one replaces it: the same two steps as the policy
 * (ctl_policy.h). Building (load the rule files or a text, compile to Hyperscan) runs on
 * whatever thread asks; publishing (pointer swap, version recorded, old engine freed after the
 * workers' quiescence) runs on the control lcore. Each worker moves its scratch to the new
 * engine at its next burst, and TCP streams of existing flows restart at their next byte.
 */
#ifndef CTL_SIGS_H
#define CTL_SIGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vg_diag.h"

struct ctl_ctx;
struct ctl_sigs;
struct ctl_sigs_build;
struct det_config;

/* The manager; cfg is the parsed `signatures:` section (kept by the caller). */
struct ctl_sigs *ctl_sigs_create(struct ctl_ctx *ctx, const struct det_config *cfg);

/* Unpublish and free. Workers must be stopped. NULL is a no-op. */
void ctl_sigs_free(struct ctl_sigs *sm);

/* Build the configured files (start-up, SIGHUP). Any thread. 0 or -EINVAL/-ENOMEM. */
int ctl_sigs_build_files(struct ctl_sigs *sm, struct vg_diag *diag, struct ctl_sigs_build **out);

/*
 * Log a build's diagnostics: every error (what refused the set) first, then at most
 * max_warnings warnings (rules skipped) and how many more there were.
 */
void ctl_sigs_log_diag(const struct vg_diag *d, unsigned max_warnings);

/* Build one rules text (the API). Any thread. Unsupported rules are reported, not fatal. */
int ctl_sigs_build_text(struct ctl_sigs *sm, const char *name, const char *text, size_t len,
		struct vg_diag *diag, struct ctl_sigs_build **out);

/* {load: report, compile: report} of a build. */
json_t *ctl_sigs_build_summary(const struct ctl_sigs_build *b);
const char *ctl_sigs_build_sha256(const struct ctl_sigs_build *b);
void ctl_sigs_build_free(struct ctl_sigs_build *b);

/* Control lcore: put b in force (takes b), queue its version (as ctl_policy_publish()). */
struct ctl_store_ticket;
int ctl_sigs_publish(struct ctl_sigs *sm, struct ctl_sigs_build *b, const char *source,
		struct ctl_store_ticket *t, int64_t *version);

/* SIGHUP: rebuild the files on a thread of their own, publish through the mailbox. */
void ctl_sigs_reload_async(struct ctl_sigs *sm);
bool ctl_sigs_reloading(const struct ctl_sigs *sm);
/*
 * Start-up with signatures.delayed: the configured files build on a thread of their own while
 * the workers forward, and are put in force through the mailbox when built. Until then the
 * dataplane applies the signatures_loading exception. 0, or -errno (no thread: nothing
 * pending).
 */
int ctl_sigs_load_delayed(struct ctl_sigs *sm);
/* No set in force yet, one is coming (a delayed start, or its build failed). Any thread. */
bool ctl_sigs_loading(const struct ctl_sigs *sm);

struct ctl_sigs_current {
	const char *text; /* NULL: no signatures loaded */
	size_t len;
	const char *sha256;
	int64_t version;
	const char *source;
	uint64_t applied_ns;
	unsigned rules;
};
void ctl_sigs_current(const struct ctl_sigs *sm, struct ctl_sigs_current *cur);

/* The load and compile report of the set in force (control lcore). */
json_t *ctl_sigs_report(const struct ctl_sigs *sm);

/* Hits per signature of the set in force, from the alerts control has seen (control lcore). */
json_t *ctl_sigs_counters(const struct ctl_sigs *sm);

/*
 * Turn a signature alert event into an alert and route it (control lcore). Give it the
 * DP_EV_TXMETA events too: each worker's last one is kept and attached to the alert that
 * follows it (ctl_alert_app.h); other event types are ignored.
 */
struct dp_event;
struct ctl_analysis;
void ctl_sigs_on_alert(struct ctl_sigs *sm, const struct dp_event *ev, struct ctl_analysis *an);

/*
 * How TXMETA events paired with their alerts: {attached, missing, unpaired} (ctl_alert_app.h).
 * Plain counters written by control; any thread may read them (a reading may be an event late).
 */
json_t *ctl_sigs_app_counters(const struct ctl_sigs *sm);

/* pcres that reached a PCRE2 limit since start, over every set in force since (control lcore). */
uint64_t ctl_sigs_limit_hits(const struct ctl_sigs *sm);

/*
 * Names of the rule files (without .rules) of the set in force: the groups `inspect` names.
 * Copies (free each); any thread. 0 when the set has no files (a text without "# --- path").
 */
unsigned ctl_sigs_groups(struct ctl_sigs *sm, char **names, unsigned max);

/*
 * The groups the configured signature paths will give (rule file names, without loading
 * them): for validating a policy before the signatures are built. Copies (free each).
 */
unsigned ctl_sigs_config_groups(const struct det_config *cfg, char **names, unsigned max);

/*
 * The engine bits of group names (det_engine_set_rule_groups, det_pkt.groups): the same name
 * has the same bit in every set and policy of this run. Any thread.
 */
uint64_t ctl_sigs_group_bits(struct ctl_sigs *sm, const char *const *names, unsigned n);

/* The version in force (0: none yet) and its number of rules. Any thread. */
int64_t ctl_sigs_version(const struct ctl_sigs *sm, unsigned *rules);
/* enum ctl_version_state (ctl_policy.h). Any thread. */
int ctl_sigs_version_state(const struct ctl_sigs *sm);

#endif /* CTL_SIGS_H */
