/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_errno.h>
#include <rte_lcore.h>

#include "ctl_bpf_state.h"
#include "ctl_call.h"
#include "ctl_ctx.h"
#include "ctl_policy.h"
#include "ctl_sigs.h"
#include "ctl_store.h"
#include "dp.h"
#include "rl_compile.h"
#include "vg_log.h"
#include "vg_text.h"

/* A reload waits this long for control to publish before giving up (it logs why). */

struct ctl_policy_build {
	struct rl_snapshot *snap;
	char *text;
	size_t len;
	char sha256[65];
	json_t *summary;
};

struct ctl_policy {
	struct ctl_ctx *ctx;
	const char *port_names[VG_MAX_PORTS];
	struct rl_env env;
	char *dir; /* of the configured policy file: env.dir */
	uint32_t next_epoch;
	int64_t local_version; /* version ids when there is no store */
	uint64_t publish_seq;  /* which publish a store answer is for */
	int vstate;	       /* enum ctl_version_state, atomic */
	struct ctl_reload reload;
	/* in force */
	char *text;
	size_t len;
	char sha256[65];
	char *source;
	int64_t version;
	uint64_t applied_ns;
	uint32_t epoch;
};

/* SIGHUP's rebuild, below. */
static int reload_build(void *owner, void **out);
static void reload_publish(void *owner, void *b);
static void reload_free(void *b);
static void reload_timed_out(void *owner, unsigned ms);

struct ctl_policy *
ctl_policy_create(struct ctl_ctx *ctx)
{
	struct ctl_policy *pm = calloc(1, sizeof(*pm));

	if (pm == NULL)
		return NULL;
	pm->ctx = ctx;
	pm->reload = (struct ctl_reload){ .mailbox = ctx->mailbox,
		.owner = pm,
		.build = reload_build,
		.publish = reload_publish,
		.free_build = reload_free,
		.timed_out = reload_timed_out };
	for (unsigned i = 0; i < ctx->cfg->n_ports; i++)
		pm->port_names[i] = ctx->cfg->ports[i].name;
	pm->env.ports = pm->port_names;
	pm->env.n_ports = ctx->cfg->n_ports;
	pm->env.max_depth = ctx->cfg->policy_max_depth;
	if (ctx->cfg->policy_file != NULL) {
		char *copy = strdup(ctx->cfg->policy_file);

		pm->dir = copy != NULL ? strdup(dirname(copy)) : NULL;
		free(copy);
		if (pm->dir == NULL) {
			free(pm);
			return NULL;
		}
		pm->env.dir = pm->dir;
	}
	pm->next_epoch = 1;
	return pm;
}

void
ctl_policy_free(struct ctl_policy *pm)
{
	if (pm == NULL)
		return;
	rl_snapshot_free(dp_policy_publish(pm->ctx->dp, NULL));
	free(pm->text);
	free(pm->source);
	free(pm->dir);
	free(pm);
}

void
ctl_policy_build_free(struct ctl_policy_build *b)
{
	if (b == NULL)
		return;
	rl_snapshot_free(b->snap);
	free(b->text);
	json_decref(b->summary);
	free(b);
}

static json_t *
summarise(const struct rl_snapshot *s)
{
	struct rl_snapshot_stats st;

	rl_snapshot_stats(s, &st);
	return json_pack("{s:i, s:i, s:i, s:{s:I, s:I}, s:{s:I, s:I}, s:f, s:I, s:s}", "epoch",
			st.epoch, "rules", st.n_rules, "stateless_rules", st.n_stateless,
			"acl_rules", "ipv4", (json_int_t)st.n_acl[0], "ipv6",
			(json_int_t)st.n_acl[1], "acl_rules_stateless", "ipv4",
			(json_int_t)st.n_acl_stateless[0], "ipv6",
			(json_int_t)st.n_acl_stateless[1], "build_ms", (double)st.build_ns / 1e6,
			"memory_bytes", (json_int_t)st.mem_bytes, "classify", st.classify_alg);
}

/*
 * Load a policy text with the signature groups in force as the names `inspect` may use (when
 * the set in force came from files; otherwise any name is accepted).
 */
static struct rl_policy *
load_checked(struct ctl_policy *pm, const char *name, const char *text, size_t len,
		struct vg_diag *diag)
{
	struct rl_env env = pm->env;
	char *groups[64];
	unsigned n = pm->ctx->sigs != NULL ? ctl_sigs_groups(pm->ctx->sigs, groups, 64) : 0;
	struct rl_policy *p;

	if (n > 0) {
		env.sig_groups = (const char *const *)groups;
		env.n_sig_groups = n;
	}
	p = rl_policy_load_buf(name, text, len, &env, diag);
	for (unsigned i = 0; i < n; i++)
		free(groups[i]);
	return p;
}

struct rl_policy *
ctl_policy_load_model(struct ctl_policy *pm, const char *name, const char *text, size_t len,
		struct vg_diag *diag)
{
	return load_checked(pm, name, text, len, diag);
}

/* The engine bits of each rule's `inspect` groups (no signatures: every flow checks all). */
static void
resolve_inspect_groups(struct ctl_policy *pm, struct rl_snapshot *snap)
{
	if (pm->ctx->sigs == NULL)
		return;
	for (uint32_t i = 0; i < rl_snapshot_n_rules(snap); i++) {
		const struct rl_rule_info *ri = rl_snapshot_rule(snap, i);

		if (ri->n_inspect > 0)
			rl_snapshot_set_inspect_groups(snap, i,
					ctl_sigs_group_bits(
							pm->ctx->sigs, ri->inspect, ri->n_inspect));
	}
}

int
ctl_policy_build(struct ctl_policy *pm, const char *name, const char *text, size_t len,
		struct vg_diag *diag, struct ctl_policy_build **out)
{
	struct ctl_policy_build *b;
	struct rl_policy *p;
	uint32_t epoch;

	*out = NULL;
	if (vg_text_check_diag(diag, name, text, len, pm->ctx->cfg->policy_max_size,
			    "policy.max_size") != 0)
		return -EINVAL;
	p = load_checked(pm, name, text, len, diag);
	if (p == NULL)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		rl_policy_free(p);
		return -ENOMEM;
	}
	epoch = __atomic_fetch_add(&pm->next_epoch, 1, __ATOMIC_RELAXED);
	b->snap = rl_compile(p, epoch, dp_n_workers(pm->ctx->dp), (int)rte_socket_id(), diag);
	rl_policy_free(p);
	if (b->snap == NULL) {
		ctl_policy_build_free(b);
		return vg_diag_has_errors(diag) ? -EINVAL : -ENOMEM;
	}
	resolve_inspect_groups(pm, b->snap);
	b->text = malloc(len + 1);
	if (b->text == NULL) {
		ctl_policy_build_free(b);
		return -ENOMEM;
	}
	memcpy(b->text, text, len);
	b->text[len] = '\0';
	b->len = len;
	ctl_store_sha256_hex(text, len, b->sha256);
	b->summary = summarise(b->snap);
	*out = b;
	return 0;
}

int
ctl_policy_build_file(struct ctl_policy *pm, const char *path, struct vg_diag *diag,
		struct ctl_policy_build **out)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (f == NULL) {
		rc = -errno;
		vg_diag_add(diag, VG_SEV_ERROR, path, 0, 0, "cannot open: %s", strerror(-rc));
		return rc;
	}
	FILE *mem = open_memstream(&text, &len);
	char buf[65536];
	size_t n;

	/* No more than one byte past the limit is read: the check below refuses it. */
	while (mem != NULL && len <= pm->ctx->cfg->policy_max_size &&
			(n = fread(buf, 1, sizeof(buf), f)) > 0) {
		fwrite(buf, 1, n, mem);
		fflush(mem);
	}
	rc = ferror(f) ? -EIO : 0;
	fclose(f);
	if (mem == NULL)
		return -ENOMEM;
	fclose(mem);
	if (rc == 0)
		rc = ctl_policy_build(pm, path, text, len, diag, out);
	else
		vg_diag_add(diag, VG_SEV_ERROR, path, 0, 0, "read error");
	free(text);
	return rc;
}

const char *
ctl_policy_build_sha256(const struct ctl_policy_build *b)
{
	return b->sha256;
}

json_t *
ctl_policy_build_summary(const struct ctl_policy_build *b)
{
	return b->summary;
}

/* Control lcore: the store wrote (or lost) the version of publish number cookie. */
static void
version_recorded(void *arg, uint64_t cookie, int rc, int64_t id)
{
	struct ctl_policy *pm = arg;

	if (cookie != pm->publish_seq) {
		if (rc == 0)
			CTL_LOG(INFO, "policy: an earlier version was recorded as version %lld",
					(long long)id);
		return;
	}
	if (rc != 0) {
		__atomic_store_n(&pm->vstate, CTL_VERSION_UNRECORDED, __ATOMIC_RELEASE);
		CTL_LOG(WARNING, "policy: the version in force could not be recorded (%s)",
				strerror(-rc));
		return;
	}
	__atomic_store_n(&pm->version, id, __ATOMIC_RELEASE);
	__atomic_store_n(&pm->vstate, CTL_VERSION_RECORDED, __ATOMIC_RELEASE);
	CTL_LOG(NOTICE, "policy: the version in force is recorded as version %lld", (long long)id);
}

const char *
ctl_version_state_name(enum ctl_version_state st)
{
	switch (st) {
	case CTL_VERSION_RECORDED:
		return "recorded";
	case CTL_VERSION_PENDING:
		return "pending";
	case CTL_VERSION_UNRECORDED:
		return "unrecorded";
	default:
		return "none";
	}
}

enum ctl_version_state
ctl_policy_version_state(const struct ctl_policy *pm)
{
	return (enum ctl_version_state)__atomic_load_n(&pm->vstate, __ATOMIC_ACQUIRE);
}

static void
carry_report(void *arg, const char *owner, bool pre, const char *map, int rc, const char *err)
{
	(void)arg;
	if (rc == 0)
		CTL_LOG(INFO, "policy: %s '%s': map %s carried into the new version",
				pre ? "prefilter" : "rule", owner, map);
	else
		CTL_LOG(WARNING,
				"policy: %s '%s': map %s not carried (%s); it starts from its file",
				pre ? "prefilter" : "rule", owner, map, err);
}

int
ctl_policy_publish(struct ctl_policy *pm, struct ctl_policy_build *b, const char *source,
		struct ctl_store_ticket *t, int64_t *version)
{
	struct ctl_ctx *ctx = pm->ctx;
	int64_t id = 0;
	int state = CTL_VERSION_RECORDED;
	char *src = strdup(source);

	if (src == NULL) {
		ctl_policy_build_free(b);
		return -ENOMEM;
	}
	/*
	 * The maps' entries go on into the new version (docs/BPF.md, "Maps across versions"):
	 * here on control, which also runs the API's map changes, just before the switch. The
	 * first version takes them from the state the last run saved ("Maps across restarts").
	 */
	if (dp_policy(ctx->dp) == NULL)
		ctl_bpf_state_restore(ctx->bpf_state, b->snap);
	else
		rl_snapshot_carry_maps(b->snap, dp_policy(ctx->dp), carry_report, NULL);
	rl_snapshot_free(dp_policy_publish(ctx->dp, b->snap));
	pm->epoch = rl_snapshot_epoch(b->snap);
	b->snap = NULL;
	pm->publish_seq++;
	if (ctx->store == NULL) {
		id = ++pm->local_version; /* nothing stored: no id can collide with a stored one */
	} else if (ctl_store_put_version(ctx->store, "policy", b->text, b->len, source, "applied",
				   version_recorded, pm, pm->publish_seq, t) == 0) {
		state = CTL_VERSION_PENDING; /* the id comes from the store, or never */
	} else {
		state = CTL_VERSION_UNRECORDED;
		CTL_LOG(WARNING, "policy: the store's queue is full; this version is unrecorded "
				 "and has no version id");
	}
	free(pm->text);
	free(pm->source);
	pm->text = b->text;
	pm->len = b->len;
	b->text = NULL;
	memcpy(pm->sha256, b->sha256, sizeof(pm->sha256));
	pm->source = src;
	__atomic_store_n(&pm->version, id, __ATOMIC_RELEASE); /* read by ctl_policy_version() */
	__atomic_store_n(&pm->vstate, state, __ATOMIC_RELEASE);
	pm->applied_ns = ctl_wall_ns();
	CTL_LOG(NOTICE, "policy version %lld%s in force (epoch %u, %s, sha256 %.12s)",
			(long long)id, state == CTL_VERSION_RECORDED ? "" : " (no id yet)",
			pm->epoch, source, pm->sha256);
	ctl_policy_build_free(b);
	if (version != NULL)
		*version = id;
	return 0;
}

void
ctl_policy_current(const struct ctl_policy *pm, struct ctl_policy_current *cur)
{
	cur->text = pm->text;
	cur->len = pm->len;
	cur->sha256 = pm->sha256;
	cur->version = pm->version;
	cur->source = pm->source;
	cur->applied_ns = pm->applied_ns;
	cur->epoch = pm->epoch;
}

json_t *
ctl_policy_counters(const struct ctl_policy *pm)
{
	const struct rl_snapshot *s = dp_policy(pm->ctx->dp);
	json_t *rules = json_array();

	if (s == NULL || rules == NULL)
		return rules;
	for (unsigned i = 0; i <= rl_snapshot_n_rules(s); i++) {
		bool dflt = i == rl_snapshot_n_rules(s);
		const struct rl_rule_info *ri = dflt ? NULL : rl_snapshot_rule(s, i);
		struct rl_counters c;

		rl_snapshot_counters_sum(s, dflt ? RL_RULE_DEFAULT : i, &c);
		json_array_append_new(rules,
				json_pack("{s:i, s:s, s:s, s:b, s:I, s:I, s:I, s:I}", "index",
						(int)i, "name", dflt ? "(default)" : ri->name,
						"action",
						rl_action_name(dflt ? rl_snapshot_default(s)
								    : ri->action),
						"dry_run", dflt ? 0 : ri->dry_run, "packets",
						(json_int_t)c.packets, "bytes", (json_int_t)c.bytes,
						"flows", (json_int_t)c.flows, "would_drop",
						(json_int_t)c.would_drop));
	}
	return rules;
}

/* SIGHUP: build off control, publish through the mailbox (ctl_reload). */
static int
reload_build(void *owner, void **out)
{
	struct ctl_policy *pm = owner;
	const char *path = pm->ctx->cfg->policy_file;
	struct vg_diag diag;
	int rc;

	vg_diag_init(&diag);
	rc = ctl_policy_build_file(pm, path, &diag, (struct ctl_policy_build **)out);
	for (unsigned i = 0; i < diag.n; i++)
		CTL_LOG(WARNING, "%s:%u:%u: %s", diag.v[i].file, diag.v[i].line, diag.v[i].col,
				diag.v[i].msg);
	if (rc != 0)
		CTL_LOG(ERR, "reload of %s failed (%d errors); the policy in force is unchanged",
				path, diag.errors);
	vg_diag_free(&diag);
	return rc;
}

static void
reload_publish(void *owner, void *b)
{
	ctl_policy_publish(owner, b, "sighup", NULL, NULL);
}

static void
reload_free(void *b)
{
	ctl_policy_build_free(b);
}

static void
reload_timed_out(void *owner, unsigned ms)
{
	const struct ctl_policy *pm = owner;

	CTL_LOG(ERR, "reload of %s: control did not publish within %u ms",
			pm->ctx->cfg->policy_file, ms);
}

void
ctl_policy_reload_async(struct ctl_policy *pm)
{
	if (pm->ctx->cfg->policy_file == NULL) {
		CTL_LOG(WARNING,
				"SIGHUP: no policy file is configured (policy.file); nothing to reload");
		return;
	}
	if (ctl_reload_running(&pm->reload)) {
		CTL_LOG(NOTICE, "SIGHUP: a reload is already running");
		return;
	}
	CTL_LOG(NOTICE, "SIGHUP: reloading %s", pm->ctx->cfg->policy_file);
	if (ctl_reload_start(&pm->reload) != 0)
		CTL_LOG(ERR, "SIGHUP: cannot start the reload thread");
}

bool
ctl_policy_reloading(const struct ctl_policy *pm)
{
	return ctl_reload_running(&pm->reload);
}

int64_t
ctl_policy_version(const struct ctl_policy *pm)
{
	return __atomic_load_n(&pm->version, __ATOMIC_ACQUIRE);
}
