/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_ethdev.h>

#include "ctl_analysis.h"
#include "ctl_api.h"
#include "ctl_ctr.h"
#include "ctl_ipfix.h"
#include "ctl_learn.h"
#include "ctl_link.h"
#include "ctl_watchdog.h"
#include "ctl_policy.h"
#include "ctl_preview.h"
#include "ctl_rates.h"
#include "ctl_status.h"
#include "ctl_sigs.h"
#include "ctl_store.h"
#include "dp.h"
#include "dp_flow.h"
#include "dp_tcp.h"
#include "vg_addr.h"
#include "vg_log.h"
#include "vg_priv.h"
#include "rl_compile.h"
#include "rl_edit.h"
#include "rl_policy.h"

_Static_assert(CTL_API_OPS_KEPT == CTL_OPS_KEPT, "ctl_api.h says how many operations are kept");

/* How long a management thread waits for control to answer a call. */
#define CALL_TIMEOUT_MS 10000
/*
 * How long a management thread waits for the store to write a durable row (a block, a version)
 * before it answers that the row is pending (202) instead of written.
 */
#define DURABLE_WAIT_MS 2000

static json_t *
link_json(uint16_t port_id)
{
	struct rte_eth_link link;

	memset(&link, 0, sizeof(link));
	if (rte_eth_link_get_nowait(port_id, &link) != 0)
		return json_pack("{s:b}", "up", 0);
	return json_pack("{s:b, s:I, s:s}", "up", link.link_status == RTE_ETH_LINK_UP, "speed_mbps",
			(json_int_t)link.link_speed, "duplex",
			link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full" : "half");
}

/* The store's counters: none of them waits for control or the disk. */
static json_t *
store_json(struct ctl_store *s)
{
	struct ctl_store_counters sc;

	ctl_store_counters(s, &sc);
	return ctl_ctr_with(json_pack("{s:i, s:i, s:i, s:i, s:b, s:I, s:I, s:i, s:s}", "pending",
					    (int)sc.pending, "queued", (int)sc.queued,
					    "queue_batches", (int)sc.queue_batches,
					    "durable_pending", (int)sc.durable_pending, "failing",
					    sc.failing, "writer_busy_ms",
					    (json_int_t)sc.writer_busy_ms, "failing_for_ms",
					    (json_int_t)sc.failing_for_ms, "last_error",
					    sc.last_error, "last_error_msg", sc.last_error_msg),
			&ctl_store_ctr_set, &sc);
}

static json_t *
eve_json(struct ctl_eve *e)
{
	struct ctl_eve_counters c;

	ctl_eve_counters(e, &c);
	return ctl_ctr_with(json_pack("{s:i, s:b, s:i}", "queued", (int)c.queued, "failing",
					    c.failing, "last_errno", c.last_errno),
			&ctl_eve_ctr_set, &c);
}

static json_t *
eve_out_json(struct ctl_eve_out *o)
{
	struct ctl_eve_out_counters c;

	ctl_eve_out_counters(o, &c);
	return ctl_ctr_with(json_pack("{s:i, s:b, s:b, s:i}", "queued", (int)c.queued, "connected",
					    c.connected, "failing", c.failing, "last_errno",
					    c.last_errno),
			&ctl_eve_out_ctr_set, &c);
}

static json_t *
ipfix_json(struct ctl_ipfix *x)
{
	struct ctl_ipfix_counters c;

	ctl_ipfix_counters(x, &c);
	return ctl_ctr_with(json_pack("{s:s, s:s, s:i, s:b, s:b, s:i}", "collector",
					    ctl_ipfix_collector(x), "transport",
					    ctl_ipfix_transport_name(x), "queued", (int)c.queued,
					    "connected", c.connected, "failing", c.failing,
					    "last_errno", c.last_errno),
			&ctl_ipfix_ctr_set, &c);
}

/* What the kernel says of the process: the user it runs as, its capabilities, seccomp. */
static json_t *
process_json(void)
{
	struct vg_priv_state st;
	struct passwd pw, *res = NULL;
	char buf[1024], caps[32];

	if (vg_priv_state(&st) != 0)
		return json_null();
	if (getpwuid_r(st.uid, &pw, buf, sizeof(buf), &res) != 0)
		res = NULL;
	snprintf(caps, sizeof(caps), "%016" PRIx64, st.cap_eff);
	return json_pack("{s:i, s:s?, s:b, s:s, s:b, s:s, s:b}", "uid", (int)st.uid, "user",
			res != NULL ? res->pw_name : NULL, "root", st.uid == 0, "capabilities",
			caps, "all_uids_equal", st.uids_equal, "seccomp",
			st.seccomp == 2	  ? "filter"
			: st.seccomp == 1 ? "strict"
					  : "off",
			"no_new_privs", st.no_new_privs);
}

json_t *
ctl_api_status(struct ctl_ctx *ctx)
{
	json_t *r = ctl_status_json(ctx->dp, ctx->events, ctx->sigs);
	json_t *ports;
	size_t i;
	json_t *p;
	uint64_t max = (uint64_t)ctx->cfg->flows_max * dp_n_workers(ctx->dp);
	json_t *flows;

	if (r == NULL)
		return NULL;
	ports = json_object_get(r, "ports");
	json_array_foreach(ports, i, p)
	{
		const struct dp_port *dp_p = dp_port(ctx->dp, (unsigned)i);

		json_object_set_new(p, "link",
				ctx->link != NULL ? ctl_link_port_json(ctx->link, (unsigned)i)
						  : link_json(dp_p->port_id));
		json_object_set_new(
				p, "peer", json_string(dp_port(ctx->dp, dp_p->peer)->cfg->name));
	}
	flows = json_object_get(r, "flows");
	if (flows != NULL) {
		json_int_t active = json_integer_value(json_object_get(flows, "active"));

		json_object_set_new(flows, "capacity", json_integer((json_int_t)max));
		json_object_set_new(
				flows, "fill", json_real(max ? (double)active / (double)max : 0));
	}
	json_object_set_new(r, "uptime_s",
			json_integer((json_int_t)((ctl_wall_ns() - ctx->start_ns) /
						  1000000000ULL)));
	json_object_set_new(r, "mode", json_string(ctl_api_mode(ctx)));
	json_object_set_new(r, "process", process_json());
	{
		json_t *w;
		size_t wi;

		json_array_foreach(json_object_get(r, "workers"), wi, w)
		{
			ctl_rates_annotate(ctx->rates, ctx->dp, (unsigned)wi, w);
			if (ctx->watchdog != NULL)
				json_object_set_new(w, "watchdog",
						ctl_watchdog_worker_json(
								ctx->watchdog, (unsigned)wi));
		}
	}
	if (ctx->link != NULL)
		json_object_set_new(r, "link_events", ctl_link_events_json(ctx->link));
	{
		int64_t pv = ctl_policy_version(ctx->policy);
		unsigned rules = 0;
		int64_t sv = ctx->sigs != NULL ? ctl_sigs_version(ctx->sigs, &rules) : 0;

		json_object_set_new(r, "versions",
				json_pack("{s:o, s:o, s:i, s:s, s:s}", "policy",
						pv > 0 ? json_integer(pv) : json_null(),
						"signatures",
						sv > 0 ? json_integer(sv) : json_null(),
						"signature_rules", (int)rules, "policy_state",
						ctl_version_state_name(ctl_policy_version_state(
								ctx->policy)),
						"signatures_state",
						ctl_version_state_name(
								ctx->sigs != NULL
										? (enum ctl_version_state)ctl_sigs_version_state(
												  ctx->sigs)
										: CTL_VERSION_NONE)));
		json_object_set_new(json_object_get(r, "versions"), "signatures_loading",
				json_boolean(ctl_sigs_loading(ctx->sigs)));
	}
	if (ctx->store != NULL)
		json_object_set_new(r, "store", store_json(ctx->store));
	if (ctx->analysis != NULL && ctl_analysis_eve(ctx->analysis) != NULL)
		json_object_set_new(r, "eve", eve_json(ctl_analysis_eve(ctx->analysis)));
	for (unsigned i = 0; ctx->analysis != NULL && i < CTL_ANALYSIS_EVE_OUTS; i++) {
		struct ctl_eve_out *o = ctl_analysis_eve_out(ctx->analysis, i);

		if (o != NULL)
			json_object_set_new(r, ctl_eve_out_name(o), eve_out_json(o));
	}
	if (ctx->ipfix != NULL)
		json_object_set_new(r, "ipfix", ipfix_json(ctx->ipfix));
	return r;
}

static const char *tcp_states[DP_TCP__COUNT + 1];
static pthread_once_t tcp_states_once = PTHREAD_ONCE_INIT;

static void
init_tcp_states(void)
{
	for (unsigned s = 0; s < DP_TCP__COUNT; s++)
		tcp_states[s] = dp_tcp_state_name((enum dp_tcp_state)s);
	tcp_states[DP_TCP__COUNT] = NULL;
}

const char *const *
ctl_api_tcp_states(void)
{
	pthread_once(&tcp_states_once, init_tcp_states);
	return tcp_states;
}

bool
ctl_api_ready(struct ctl_ctx *ctx, char *why, size_t len)
{
	for (unsigned i = 0; i < dp_n_ports(ctx->dp); i++) {
		const struct dp_port *p = dp_port(ctx->dp, i);
		struct rte_eth_link link;
		/* The link watch's view (ctl_link.h): a link it cannot see (a tap moved to another
		 * namespace) does not hold readiness; before its first poll, ask the driver. */
		int s = ctl_link_port_state(ctx->link, i);

		if (s == 1 || s == -1)
			continue;
		if (s == 0) {
			snprintf(why, len, "port %s has no link", p->cfg->name);
			return false;
		}
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(p->port_id, &link) != 0 ||
				link.link_status != RTE_ETH_LINK_UP) {
			snprintf(why, len, "port %s has no link", p->cfg->name);
			return false;
		}
	}
	if (ctx->cfg->policy_file != NULL &&
			ctl_policy_version_state(ctx->policy) == CTL_VERSION_NONE) {
		snprintf(why, len, "no policy is loaded yet");
		return false;
	}
	snprintf(why, len, "ports up");
	return true;
}

static int
analysis_counters_call(struct ctl_ctx *ctx, void *p)
{
	json_t **out = p;

	*out = ctl_analysis_counters(ctx->analysis);
	return *out != NULL ? 0 : -ENOMEM;
}

static void
json_release(void *p)
{
	json_t **j = p;

	json_decref(*j);
	free(j);
}

json_t *
ctl_api_workers(struct ctl_ctx *ctx)
{
	const struct dp *dp = ctx->dp;
	json_t *workers = json_array();
	double secs = ctl_rates_interval(ctx->rates);

	if (workers == NULL)
		return NULL;
	for (unsigned w = 0; w < dp_n_workers(dp); w++) {
		json_t *t = ctl_status_worker_traffic(dp, w);
		json_t *j = json_pack("{s:i, s:i, s:I}", "id", w, "lcore", dp_worker_lcore(dp, w),
				"flows",
				(json_int_t)dp_read_u64(&dp_worker_flow_counters(dp, w)->active));

		if (t == NULL || j == NULL || json_object_update(j, t) != 0) {
			json_decref(t);
			json_decref(j);
			json_decref(workers);
			return NULL;
		}
		json_decref(t);
		ctl_rates_annotate(ctx->rates, dp, w, j);
		if (ctx->watchdog != NULL) {
			json_t *wd = ctl_watchdog_worker_json(ctx->watchdog, w);

			json_object_set(j, "stalled", json_object_get(wd, "stalled"));
			json_object_set(j, "failed_over", json_object_get(wd, "failed_over"));
			json_decref(wd);
		}
		json_array_append_new(workers, j);
	}
	return json_pack("{s:o, s:o}", "interval_s", secs > 0 ? json_real(secs) : json_null(),
			"workers", workers);
}

json_t *
ctl_api_metrics(struct ctl_ctx *ctx)
{
	json_t *r = ctl_api_status(ctx);
	json_t **c = calloc(1, sizeof(*c));

	if (r == NULL || c == NULL || ctx->analysis == NULL) {
		free(c);
		return r;
	}
	if (ctl_call(ctx->mailbox, analysis_counters_call, c, json_release, CALL_TIMEOUT_MS) == 0) {
		json_object_set_new(r, "analysis", *c);
		free(c);
	}
	return r; /* the store and EVE counters came with the status */
}

const char *
ctl_api_mode(struct ctl_ctx *ctx)
{
	if (ctl_learn_global(ctx->learn))
		return "learn";
	return dp_mode(ctx->dp) == DP_MODE_DRY_RUN ? "dry-run" : "enforce";
}

/* ---- mode ---- */

struct mode_arg {
	enum dp_mode mode;
	bool learn;
	int pair; /* -1: the global mode */
	char who[64];
};

/* A pair's mode (control lcore): its ports in the dry mask or not, or learning. */
static int
set_pair_mode(struct ctl_ctx *ctx, const struct mode_arg *a)
{
	const struct vg_config *cfg = ctx->cfg;
	uint32_t mask = 1u << cfg->pairs[a->pair].a | 1u << cfg->pairs[a->pair].b;
	int rc;

	if (a->learn)
		return ctl_learn_start(ctx->learn, a->who, a->pair);
	if (ctl_learn_pair_ports(ctx->learn) == mask) {
		rc = ctl_learn_stop(ctx->learn, a->who);
		if (rc != 0)
			return rc;
	}
	dp_set_dry_ports(ctx->dp, a->mode == DP_MODE_DRY_RUN ? dp_dry_ports(ctx->dp) | mask
							     : dp_dry_ports(ctx->dp) & ~mask);
	CTL_LOG(NOTICE, "pair %s-%s set to %s by %s", cfg->ports[cfg->pairs[a->pair].a].name,
			cfg->ports[cfg->pairs[a->pair].b].name,
			a->mode == DP_MODE_DRY_RUN ? "dry-run" : "enforce", a->who);
	return 0;
}

static int
set_mode_call(struct ctl_ctx *ctx, void *p)
{
	struct mode_arg *a = p;
	int rc;

	if (a->pair >= 0)
		return set_pair_mode(ctx, a);
	/* Learning runs as dry-run; another mode ends the session (recorded in the store). */
	if (a->learn)
		return ctl_learn_start(ctx->learn, a->who, -1);
	if (ctl_learn_global(ctx->learn)) {
		rc = ctl_learn_stop(ctx->learn, a->who);
		if (rc != 0)
			return rc;
	}
	dp_set_mode(ctx->dp, a->mode);
	CTL_LOG(NOTICE, "mode set to %s by %s", a->mode == DP_MODE_DRY_RUN ? "dry-run" : "enforce",
			a->who);
	return 0;
}

/*
 * A write through the mailbox (see ctl_api.h): its timeouts say whether anything changed.
 * After -ETIMEDOUT or -EINPROGRESS control owns arg.
 */
static int
write_call(struct ctl_ctx *ctx, ctl_call_fn fn, void *arg, void (*release)(void *),
		const char *what, uint64_t *op, char *err, size_t errlen)
{
	uint64_t id = 0;
	int rc = ctl_call_op(ctx->mailbox, fn, arg, release, CALL_TIMEOUT_MS, what, &id);

	if (op != NULL)
		*op = id;
	if (rc == -ETIMEDOUT) {
		snprintf(err, errlen,
				"control did not start it within %u ms; it was cancelled and nothing "
				"changed",
				CALL_TIMEOUT_MS);
		return -EBUSY;
	}
	if (rc == -EINPROGRESS)
		snprintf(err, errlen,
				"control started it but did not finish within %u ms; it goes on: "
				"read GET /api/v1/operations/%" PRIu64 " for its outcome",
				CALL_TIMEOUT_MS, id);
	return rc;
}

json_t *
ctl_api_operation(struct ctl_ctx *ctx, uint64_t id)
{
	struct ctl_op o;

	if (ctl_mailbox_op(ctx->mailbox, id, &o) != 0) {
		errno = ENOENT;
		return NULL;
	}
	return json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:I, s:o?}", "id", (json_int_t)o.id, "what",
			o.what, "state", o.done ? "done" : "running", "outcome",
			!o.done	    ? NULL
			: o.rc == 0 ? "applied"
				    : "failed",
			"error", o.done && o.rc != 0 ? strerror(-o.rc) : NULL, "started_at_ns",
			(json_int_t)o.started_ns, "finished_at_ns",
			o.done ? json_integer((json_int_t)o.finished_ns) : NULL);
}

int
ctl_api_pair_of(struct ctl_ctx *ctx, const char *port)
{
	const struct vg_config *cfg = ctx->cfg;

	for (unsigned i = 0; cfg != NULL && i < cfg->n_pairs; i++)
		if (strcmp(cfg->ports[cfg->pairs[i].a].name, port) == 0 ||
				strcmp(cfg->ports[cfg->pairs[i].b].name, port) == 0)
			return (int)i;
	return -1;
}

json_t *
ctl_api_pair_modes(struct ctl_ctx *ctx)
{
	const struct vg_config *cfg = ctx->cfg;
	uint32_t dry = dp_dry_ports(ctx->dp), learn = ctl_learn_pair_ports(ctx->learn);
	const char *global = ctl_api_mode(ctx);
	json_t *a = json_array();

	for (unsigned i = 0; cfg != NULL && i < cfg->n_pairs; i++) {
		uint32_t mask = 1u << cfg->pairs[i].a | 1u << cfg->pairs[i].b;
		const char *m = learn == mask			 ? "learn"
				: (dry & mask) == mask		 ? "dry-run"
				: strcmp(global, "enforce") != 0 ? global
								 : "enforce";

		json_array_append_new(
				a, json_pack("{s:[s, s], s:s, s:b}", "ports",
						   cfg->ports[cfg->pairs[i].a].name,
						   cfg->ports[cfg->pairs[i].b].name, "mode", m,
						   "own", learn == mask || (dry & mask) == mask));
	}
	return a;
}

int
ctl_api_set_mode(struct ctl_ctx *ctx, const char *mode, const char *who, uint64_t *op, char *err,
		size_t errlen)
{
	return ctl_api_set_pair_mode(ctx, mode, NULL, who, op, err, errlen);
}

int
ctl_api_set_pair_mode(struct ctl_ctx *ctx, const char *mode, const char *pair, const char *who,
		uint64_t *op, char *err, size_t errlen)
{
	char what[160];
	struct mode_arg *a = calloc(1, sizeof(*a));
	int rc;

	if (a == NULL)
		return -ENOMEM;
	a->pair = -1;
	if (pair != NULL) {
		a->pair = ctl_api_pair_of(ctx, pair);
		if (a->pair < 0) {
			snprintf(err, errlen, "pair: no pair has a port named '%.32s'", pair);
			free(a);
			return -EINVAL;
		}
	}
	/* One learning session at a time (control checks again: ctl_learn_start). */
	if (strcmp(mode, "learn") == 0 && ctl_learn_active(ctx->learn) &&
			(a->pair < 0 ? !ctl_learn_global(ctx->learn)
				     : ctl_learn_pair_ports(
						       ctx->learn) != (1u << ctx->cfg->pairs[a->pair].a |
										      1u << ctx->cfg->pairs[a->pair].b))) {
		snprintf(err, errlen,
				"a learning session is running (%s): end it first (PUT /api/v1/mode "
				"with enforce or dry-run%s)",
				ctl_learn_global(ctx->learn) ? "global" : "of a pair",
				ctl_learn_global(ctx->learn) ? "" : " and that pair");
		free(a);
		return -EEXIST;
	}
	if (strcmp(mode, "enforce") == 0) {
		a->mode = DP_MODE_ENFORCE;
	} else if (strcmp(mode, "dry-run") == 0) {
		a->mode = DP_MODE_DRY_RUN;
	} else if (strcmp(mode, "learn") == 0 && ctx->learn != NULL) {
		a->mode = DP_MODE_DRY_RUN;
		a->learn = true;
	} else {
		snprintf(err, errlen, "mode '%s' is not one of: enforce, dry-run, learn", mode);
		free(a);
		return -EINVAL;
	}
	snprintf(a->who, sizeof(a->who), "%s", who);
	if (pair != NULL)
		snprintf(what, sizeof(what), "set the mode of the pair of %.32s to %s (by %.64s)",
				pair, mode, who);
	else
		snprintf(what, sizeof(what), "set the mode to %s (by %.64s)", mode, who);
	rc = write_call(ctx, set_mode_call, a, free, what, op, err, errlen);
	if (rc != -EBUSY && rc != -EINPROGRESS)
		free(a);
	return rc;
}

/* ---- versioned texts: the policy and the signature set ---- */

/* What every kind's text in force has (its manager's current struct, less its own fields). */
struct text_current {
	const char *text; /* NULL: none in force */
	size_t len;
	const char *sha256;
	int64_t version;
	const char *source;
	uint64_t applied_ns;
};

/*
 * A kind of versioned text is a row: its manager's calls behind one signature each, so the API
 * below handles both kinds alike. A build is compiled on the caller's thread and published on
 * the control lcore (current, own_fields, version_state and publish run there).
 */
struct text_ops {
	const char *name; /* the store's kind, and the word in messages */
	const char *what; /* "no %s is loaded" */
	/* NULL: always managed; else 0, or -ENOTSUP with err saying why not */
	int (*available)(const struct ctl_ctx *ctx, char *err, size_t errlen);
	void (*current)(struct ctl_ctx *ctx, struct text_current *cur);
	/* Add the kind's own fields to the current text's JSON: 0, or -ENOMEM. */
	int (*own_fields)(struct ctl_ctx *ctx, json_t *out);
	int (*version_state)(struct ctl_ctx *ctx); /* enum ctl_version_state */
	int (*build)(struct ctl_ctx *ctx, const char *text, size_t len, struct vg_diag *diag,
			void **out);
	void (*build_free)(void *b);
	json_t *(*build_summary)(const void *b);
	const char *(*build_sha256)(const void *b);
	/* Put b in force (takes b in every case), as ctl_policy_publish(). */
	int (*publish)(struct ctl_ctx *ctx, void *b, const char *source, struct ctl_store_ticket *t,
			int64_t *version);
};

static void
policy_current(struct ctl_ctx *ctx, struct text_current *cur)
{
	struct ctl_policy_current c;

	ctl_policy_current(ctx->policy, &c);
	*cur = (struct text_current){ c.text, c.len, c.sha256, c.version, c.source, c.applied_ns };
}

static int
policy_own_fields(struct ctl_ctx *ctx, json_t *out)
{
	struct ctl_policy_current c;

	ctl_policy_current(ctx->policy, &c);
	return json_object_set_new(out, "epoch", json_integer((int)c.epoch)) == 0 ? 0 : -ENOMEM;
}

static int
policy_version_state(struct ctl_ctx *ctx)
{
	return (int)ctl_policy_version_state(ctx->policy);
}

static int
policy_build(struct ctl_ctx *ctx, const char *text, size_t len, struct vg_diag *diag, void **out)
{
	struct ctl_policy_build *b = NULL;
	int rc = ctl_policy_build(ctx->policy, "policy", text, len, diag, &b);

	*out = b;
	return rc;
}

static void
policy_build_free(void *b)
{
	ctl_policy_build_free(b);
}

static json_t *
policy_build_summary(const void *b)
{
	return ctl_policy_build_summary(b);
}

static const char *
policy_build_sha256(const void *b)
{
	return ctl_policy_build_sha256(b);
}

static int
policy_publish(struct ctl_ctx *ctx, void *b, const char *source, struct ctl_store_ticket *t,
		int64_t *version)
{
	return ctl_policy_publish(ctx->policy, b, source, t, version);
}

/* The signature set is managed only when vigild was started with a `signatures:` section. */
static int
sigs_available(const struct ctl_ctx *ctx, char *err, size_t errlen)
{
	if (ctx->sigs != NULL)
		return 0;
	snprintf(err, errlen,
			"the appliance was started without a signatures: section; add one "
			"to vigil.yaml and restart to manage signatures");
	return -ENOTSUP;
}

static void
sigs_current(struct ctl_ctx *ctx, struct text_current *cur)
{
	struct ctl_sigs_current c;

	ctl_sigs_current(ctx->sigs, &c);
	*cur = (struct text_current){ c.text, c.len, c.sha256, c.version, c.source, c.applied_ns };
}

static int
sigs_own_fields(struct ctl_ctx *ctx, json_t *out)
{
	struct ctl_sigs_current c;

	ctl_sigs_current(ctx->sigs, &c);
	return json_object_set_new(out, "rules", json_integer((int)c.rules)) == 0 ? 0 : -ENOMEM;
}

static int
sigs_version_state(struct ctl_ctx *ctx)
{
	return ctl_sigs_version_state(ctx->sigs);
}

static int
sigs_build(struct ctl_ctx *ctx, const char *text, size_t len, struct vg_diag *diag, void **out)
{
	struct ctl_sigs_build *b = NULL;
	int rc = ctl_sigs_build_text(ctx->sigs, "signatures", text, len, diag, &b);

	*out = b;
	return rc;
}

static void
sigs_build_free(void *b)
{
	ctl_sigs_build_free(b);
}

static json_t *
sigs_build_summary(const void *b)
{
	return ctl_sigs_build_summary(b);
}

static const char *
sigs_build_sha256(const void *b)
{
	return ctl_sigs_build_sha256(b);
}

static int
sigs_publish(struct ctl_ctx *ctx, void *b, const char *source, struct ctl_store_ticket *t,
		int64_t *version)
{
	return ctl_sigs_publish(ctx->sigs, b, source, t, version);
}

static const struct text_ops text_kinds[] = {
	[CTL_TEXT_POLICY] = {
		.name = "policy",
		.what = "policy",
		.current = policy_current,
		.own_fields = policy_own_fields,
		.version_state = policy_version_state,
		.build = policy_build,
		.build_free = policy_build_free,
		.build_summary = policy_build_summary,
		.build_sha256 = policy_build_sha256,
		.publish = policy_publish,
	},
	[CTL_TEXT_SIGNATURES] = {
		.name = "signatures",
		.what = "signature set",
		.available = sigs_available,
		.current = sigs_current,
		.own_fields = sigs_own_fields,
		.version_state = sigs_version_state,
		.build = sigs_build,
		.build_free = sigs_build_free,
		.build_summary = sigs_build_summary,
		.build_sha256 = sigs_build_sha256,
		.publish = sigs_publish,
	},
};

const char *
ctl_api_text_what(enum ctl_text_kind kind)
{
	return (unsigned)kind < RTE_DIM(text_kinds) ? text_kinds[kind].what : "?";
}

/* The row of kind, or NULL with err saying why this vigild does not manage it. */
static const struct text_ops *
text_ops_of(const struct ctl_ctx *ctx, enum ctl_text_kind kind, char *err, size_t errlen)
{
	const struct text_ops *ops;

	if ((unsigned)kind >= RTE_DIM(text_kinds)) {
		snprintf(err, errlen, "unknown text kind %d", (int)kind);
		return NULL;
	}
	ops = &text_kinds[kind];
	if (ops->available != NULL && ops->available(ctx, err, errlen) != 0)
		return NULL;
	return ops;
}

struct text_arg {
	const struct text_ops *ops;
	json_t *out; /* current, counters: the answer; publish: the build summary */
	void *build; /* ops's build */
	int64_t if_match;
	char if_sha[65]; /* "": none; else that text must be in force, and is put in force again */
	char source[160];
	char sha256[65];
	int64_t version;
	int vstate;
	bool unchanged;
	struct ctl_store_ticket *t;
};

static void
text_arg_release(void *p)
{
	struct text_arg *a = p;

	if (a->build != NULL)
		a->ops->build_free(a->build);
	json_decref(a->out);
	ctl_store_ticket_put(a->t);
	free(a);
}

static int
current_call(struct ctl_ctx *ctx, void *p)
{
	struct text_arg *a = p;
	const struct text_ops *ops = a->ops;
	struct text_current cur;
	const char *state;

	ops->current(ctx, &cur);
	if (cur.text == NULL)
		return -ENOENT;
	a->out = json_pack("{s:I, s:s, s:s%, s:s, s:I}", "version", (json_int_t)cur.version,
			"sha256", cur.sha256, "text", cur.text, cur.len, "source", cur.source,
			"applied_at_ns", (json_int_t)cur.applied_ns);
	if (a->out == NULL)
		return -ENOMEM;
	state = ctl_version_state_name((enum ctl_version_state)ops->version_state(ctx));
	if (ops->own_fields(ctx, a->out) != 0 ||
			json_object_set_new(a->out, "version_state", json_string(state)) != 0) {
		json_decref(a->out);
		a->out = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int
call_err(int rc, char *err, size_t errlen)
{
	if (rc == -ETIMEDOUT) {
		snprintf(err, errlen, "control did not answer within %u ms", CALL_TIMEOUT_MS);
		return -EBUSY;
	}
	return rc;
}

json_t *
ctl_api_text_current(struct ctl_ctx *ctx, enum ctl_text_kind kind, char *err, size_t errlen)
{
	const struct text_ops *ops = text_ops_of(ctx, kind, err, errlen);
	struct text_arg *a;
	json_t *out;
	int rc;

	if (ops == NULL) {
		errno = ENOTSUP;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->ops = ops;
	rc = call_err(ctl_call(ctx->mailbox, current_call, a, text_arg_release, CALL_TIMEOUT_MS),
			err, errlen);
	if (rc == -EBUSY) {
		errno = EBUSY;
		return NULL;
	}
	if (rc == -ENOENT)
		snprintf(err, errlen, "no %s is loaded", ops->what);
	out = a->out;
	a->out = NULL;
	text_arg_release(a);
	if (out == NULL)
		errno = rc != 0 ? -rc : ENOMEM;
	return out;
}

int
ctl_api_text_validate(struct ctl_ctx *ctx, enum ctl_text_kind kind, const char *text, size_t len,
		struct vg_diag *diag, json_t **summary)
{
	const struct text_ops *ops;
	void *b;
	char err[192];
	int rc;

	ops = text_ops_of(ctx, kind, err, sizeof(err));
	if (ops == NULL) {
		vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0, "%s", err);
		return -ENOTSUP;
	}
	/* Load and compile text on this thread. */
	rc = ops->build(ctx, text, len, diag, &b);
	if (rc != 0)
		return rc;
	if (summary != NULL)
		*summary = json_incref(ops->build_summary(b));
	ops->build_free(b);
	return 0;
}

static int
publish_call(struct ctl_ctx *ctx, void *p)
{
	struct text_arg *a = p;
	const struct text_ops *ops = a->ops;
	struct text_current cur;
	int rc;

	ops->current(ctx, &cur);
	if (a->if_match >= 0 && (cur.text == NULL || cur.version != a->if_match))
		return -ESTALE;
	if (a->if_sha[0] != '\0' && (cur.text == NULL || strcmp(cur.sha256, a->if_sha) != 0))
		return -ESTALE;
	if (a->if_sha[0] == '\0' && cur.text != NULL &&
			strcmp(cur.sha256, ops->build_sha256(a->build)) == 0) {
		a->unchanged = true;
		a->version = cur.version;
		a->vstate = ops->version_state(ctx);
		snprintf(a->sha256, sizeof(a->sha256), "%s", cur.sha256);
		return 0;
	}
	/* A version the store cannot take would have no id: refuse before changing anything. */
	if (ctx->store != NULL && !ctl_store_durable_room(ctx->store))
		return -EAGAIN;
	snprintf(a->sha256, sizeof(a->sha256), "%s", ops->build_sha256(a->build));
	a->out = json_incref(ops->build_summary(a->build));
	rc = ops->publish(ctx, a->build, a->source, a->t, &a->version);
	a->vstate = ops->version_state(ctx);
	a->build = NULL; /* taken by the publish, whatever it returned */
	return rc;
}

/* if_sha: NULL, or the SHA-256 of the text in force, which text is, compiled and put in force
 * again (a recompile: what the text names may have changed). */
static int
apply_text(struct ctl_ctx *ctx, const struct text_ops *ops, const char *text, size_t len,
		const char *source, int64_t if_match, const char *if_sha, struct vg_diag *diag,
		struct ctl_text_result *out)
{
	struct text_arg *a = calloc(1, sizeof(*a));
	char err[192], what[128];
	int rc;

	memset(out, 0, sizeof(*out));
	if (a == NULL)
		return -ENOMEM;
	a->ops = ops;
	rc = ops->build(ctx, text, len, diag, &a->build);
	if (rc != 0) {
		free(a);
		return rc;
	}
	a->if_match = if_match;
	snprintf(a->if_sha, sizeof(a->if_sha), "%s", if_sha != NULL ? if_sha : "");
	snprintf(a->source, sizeof(a->source), "%s", source);
	if (ctx->store != NULL && (a->t = ctl_store_ticket_new()) == NULL) {
		text_arg_release(a);
		return -ENOMEM;
	}
	snprintf(what, sizeof(what), "put %s sha256 %.12s in force (%.80s)", ops->name,
			ops->build_sha256(a->build), source);
	rc = write_call(ctx, publish_call, a, text_arg_release, what, &out->operation, err,
			sizeof(err));
	if (rc == -EBUSY || rc == -EINPROGRESS) {
		vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0, "%s", err);
		return rc;
	}
	if (rc == -EAGAIN)
		vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0,
				"the store is behind (its queue has no room to record a version); "
				"nothing was changed");
	if (rc == 0 && !a->unchanged && a->vstate == CTL_VERSION_PENDING) {
		/* The id is the store's: wait for it a while, else say the version is pending. */
		int64_t id = 0;
		int st = ctl_store_ticket_wait(ctx->store, a->t, DURABLE_WAIT_MS, &id);

		if (st == 1) {
			a->version = id;
			a->vstate = CTL_VERSION_RECORDED;
		} else if (st < 0) {
			a->vstate = CTL_VERSION_UNRECORDED;
		}
	}
	if (rc == -ESTALE && if_sha != NULL)
		vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0,
				"the %s in force changed meanwhile; nothing was recompiled",
				ops->name);
	else if (rc == -ESTALE)
		vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0,
				"If-Match: version %lld is no longer the one in force",
				(long long)if_match);
	if (rc == 0) {
		out->version = a->vstate == CTL_VERSION_RECORDED ? a->version : 0;
		out->version_state = ctl_version_state_name((enum ctl_version_state)a->vstate);
		memcpy(out->sha256, a->sha256, sizeof(out->sha256));
		out->unchanged = a->unchanged;
		out->summary = a->out;
		a->out = NULL;
	}
	text_arg_release(a);
	return rc;
}

int
ctl_api_text_apply(struct ctl_ctx *ctx, enum ctl_text_kind kind, const char *text, size_t len,
		const char *who, int64_t if_match, struct vg_diag *diag,
		struct ctl_text_result *out)
{
	const struct text_ops *ops;
	char source[160], err[192];

	ops = text_ops_of(ctx, kind, err, sizeof(err));
	if (ops == NULL) {
		vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0, "%s", err);
		return -ENOTSUP;
	}
	snprintf(source, sizeof(source), "api:%s", who);
	return apply_text(ctx, ops, text, len, source, if_match, NULL, diag, out);
}

int
ctl_api_text_rollback(struct ctl_ctx *ctx, enum ctl_text_kind kind, int64_t version,
		const char *who, struct vg_diag *diag, struct ctl_text_result *out)
{
	const struct text_ops *ops;
	struct ctl_store_reader *r;
	char err[256], source[160];
	json_t *v;
	int rc;

	ops = text_ops_of(ctx, kind, err, sizeof(err));
	rc = ops != NULL ? 0 : -ENOTSUP;
	if (rc == 0 && ctl_api_store_path(ctx) == NULL) {
		snprintf(err, sizeof(err), "rollback needs the store (store.path)");
		rc = -ENOTSUP;
	}
	if (rc != 0) {
		vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0, "%s", err);
		return rc;
	}
	r = ctl_store_reader_open(ctl_api_store_path(ctx), err, sizeof(err));
	if (r == NULL) {
		vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0, "store: %s", err);
		return -EIO;
	}
	v = ctl_store_get_version(r, version, err, sizeof(err));
	ctl_store_reader_close(r);
	if (v == NULL || strcmp(json_string_value(json_object_get(v, "kind")) ?: "", ops->name) !=
					 0) {
		vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0, "no %s version %lld", ops->name,
				(long long)version);
		json_decref(v);
		return -ENOENT;
	}
	snprintf(source, sizeof(source), "rollback:%lld by %s", (long long)version, who);
	const char *text = json_string_value(json_object_get(v, "text"));
	/* the stored length: a text is bytes, and a NUL must not cut it short unseen */
	rc = apply_text(ctx, ops, text ?: "",
			text ? json_string_length(json_object_get(v, "text")) : 0, source, -1, NULL,
			diag, out);
	json_decref(v);
	return rc;
}

/* Whether the policy in force follows upload:NAME to another object than path; its text. */
struct follow_arg {
	const char *name, *path;
	bool stale;
	char *text;
	size_t len;
	char sha256[65];
};

static bool
follows(const char *upload, const struct rl_bpf_prog *prog, const struct follow_arg *a)
{
	return upload != NULL && strcmp(upload, a->name) == 0 &&
	       (prog == NULL || strcmp(rl_bpf_path(prog), a->path) != 0);
}

static int
follow_call(struct ctl_ctx *ctx, void *p)
{
	struct follow_arg *a = p;
	const struct rl_snapshot *s = dp_policy(ctx->dp);
	struct ctl_policy_current cur;

	for (unsigned i = 0; s != NULL && i < rl_snapshot_n_rules(s); i++) {
		const struct rl_rule_info *ri = rl_snapshot_rule(s, i);

		a->stale |= follows(ri->bpf_upload, ri->prog, a);
	}
	for (unsigned i = 0; s != NULL && i < rl_snapshot_n_prefilters(s); i++) {
		const struct rl_prefilter_info *pi = rl_snapshot_prefilter(s, i);

		a->stale |= follows(pi->bpf_upload, pi->prog, a);
	}
	ctl_policy_current(ctx->policy, &cur);
	if (!a->stale || cur.text == NULL)
		return 0;
	a->text = malloc(cur.len + 1);
	if (a->text == NULL)
		return -ENOMEM;
	memcpy(a->text, cur.text, cur.len);
	a->text[cur.len] = '\0';
	a->len = cur.len;
	snprintf(a->sha256, sizeof(a->sha256), "%s", cur.sha256);
	return 0;
}

static void
follow_release(void *p)
{
	struct follow_arg *a = p;

	free(a->text);
	free(a);
}

int
ctl_api_policy_follow_upload(struct ctl_ctx *ctx, const char *name, const char *path,
		const char *source, bool *recompiled, struct vg_diag *diag,
		struct ctl_text_result *out)
{
	struct follow_arg *a = calloc(1, sizeof(*a));
	int rc;

	*recompiled = false;
	memset(out, 0, sizeof(*out));
	if (a == NULL)
		return -ENOMEM;
	a->name = name;
	a->path = path;
	rc = ctl_call(ctx->mailbox, follow_call, a, follow_release, CALL_TIMEOUT_MS);
	if (rc == -ETIMEDOUT) {
		vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0, "control did not answer within %u ms",
				CALL_TIMEOUT_MS);
		return -EBUSY;
	}
	if (rc == 0 && a->text != NULL) {
		*recompiled = true;
		rc = apply_text(ctx, &text_kinds[CTL_TEXT_POLICY], a->text, a->len, source, -1,
				a->sha256, diag, out);
	}
	follow_release(a);
	return rc;
}

json_t *
ctl_api_text_versions(struct ctl_ctx *ctx, enum ctl_text_kind kind, unsigned limit, char *err,
		size_t errlen)
{
	const struct text_ops *ops;
	struct ctl_store_reader *r;
	json_t *v;
	int rc;

	ops = text_ops_of(ctx, kind, err, errlen);
	rc = ops != NULL ? 0 : -ENOTSUP;
	if (rc == 0 && ctl_api_store_path(ctx) == NULL) {
		snprintf(err, errlen, "versions need the store (store.path)");
		rc = -ENOTSUP;
	}
	if (rc != 0) {
		errno = -rc;
		return NULL;
	}
	r = ctl_store_reader_open(ctl_api_store_path(ctx), err, errlen);
	if (r == NULL) {
		errno = EIO;
		return NULL;
	}
	v = ctl_store_query_versions(r, ops->name, limit, err, errlen);
	ctl_store_reader_close(r);
	if (v == NULL)
		errno = EIO;
	return v;
}

/* ---- the signature load report, rule counters ---- */

static int
report_call(struct ctl_ctx *ctx, void *p)
{
	struct text_arg *a = p;

	a->out = ctl_sigs_report(ctx->sigs);
	return a->out != NULL ? 0 : -ENOMEM;
}

static int
counters_call(struct ctl_ctx *ctx, void *p)
{
	struct text_arg *a = p;

	a->out = json_pack("{s:o}", "policy", ctl_policy_counters(ctx->policy));
	if (a->out != NULL && ctx->sigs != NULL)
		json_object_set_new(a->out, "signatures", ctl_sigs_counters(ctx->sigs));
	return a->out != NULL ? 0 : -ENOMEM;
}

static json_t *
call_json(struct ctl_ctx *ctx, ctl_call_fn fn)
{
	struct text_arg *a = calloc(1, sizeof(*a));
	json_t *out;
	int rc;

	if (a == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rc = ctl_call(ctx->mailbox, fn, a, text_arg_release, CALL_TIMEOUT_MS);
	if (rc != 0) {
		/* On a timeout control still owns a and releases it when it gets there. */
		errno = rc == -ETIMEDOUT ? EBUSY : -rc;
		if (rc != -ETIMEDOUT)
			text_arg_release(a);
		return NULL;
	}
	out = a->out;
	a->out = NULL;
	text_arg_release(a);
	return out;
}

json_t *
ctl_api_signature_report(struct ctl_ctx *ctx)
{
	if (ctx->sigs == NULL) {
		errno = ENOTSUP;
		return NULL;
	}
	return call_json(ctx, report_call);
}

json_t *
ctl_api_rule_counters(struct ctl_ctx *ctx)
{
	return call_json(ctx, counters_call);
}

/* ---- store ---- */

/* The policy in force as a model (NULL with *version 0 when none is loaded). */
static int
current_model(struct ctl_ctx *ctx, struct rl_policy **out, int64_t *version, char *err,
		size_t errlen)
{
	struct vg_diag d;
	json_t *cur, *text;

	*out = NULL;
	*version = 0;
	errno = 0;
	cur = ctl_api_text_current(ctx, CTL_TEXT_POLICY, err, errlen);
	if (cur == NULL)
		return errno == ENOENT ? 0 : -(errno ? errno : EIO);
	text = json_object_get(cur, "text");
	if (json_is_integer(json_object_get(cur, "version")))
		*version = json_integer_value(json_object_get(cur, "version"));
	vg_diag_init(&d);
	if (json_is_string(text))
		*out = ctl_policy_load_model(ctx->policy, "policy in force",
				json_string_value(text), json_string_length(text), &d);
	vg_diag_free(&d);
	json_decref(cur);
	if (*out == NULL) {
		snprintf(err, errlen, "the policy in force no longer loads (was it changed?)");
		return -EIO;
	}
	return 0;
}

int
ctl_api_policy_preview(struct ctl_ctx *ctx, struct ctl_store_reader *rd, const char *text,
		size_t len, int64_t since, int64_t until, const char *pair, unsigned max_changes,
		struct vg_diag *diag, json_t **out, char *err, size_t errlen)
{
	struct rl_policy *cand = NULL, *cur = NULL;
	json_t *summary = NULL;
	struct vg_diag scratch;
	struct ctl_ports ports;
	uint32_t in_mask = 0;
	int64_t version;
	int rc;

	*out = NULL;
	ctl_ports_of(ctx->cfg, &ports);
	if (pair != NULL) {
		int i = ctl_api_pair_of(ctx, pair);

		if (i < 0) {
			snprintf(err, errlen, "pair: no pair has a port named '%.32s'", pair);
			return -EINVAL;
		}
		in_mask = 1u << ctx->cfg->pairs[i].a | 1u << ctx->cfg->pairs[i].b;
	}
	/* Exactly what a PUT would check, compile included, so that a preview never shows a policy
	 * that could not be applied. */
	rc = ctl_api_text_validate(ctx, CTL_TEXT_POLICY, text, len, diag, &summary);
	if (rc != 0)
		return rc;
	vg_diag_init(&scratch);
	cand = ctl_policy_load_model(ctx->policy, "candidate", text, len, &scratch);
	vg_diag_free(&scratch);
	if (cand == NULL) {
		json_decref(summary);
		snprintf(err, errlen, "the candidate validated but did not load again");
		return -EIO;
	}
	rc = current_model(ctx, &cur, &version, err, errlen);
	if (rc == 0) {
		*out = ctl_preview_run(rd, &ports, in_mask, cur, cand, since, until, max_changes,
				err, errlen);
		if (*out == NULL)
			rc = -EIO;
		else
			json_object_update_new(
					*out, json_pack("{s:o, s:o}", "current_version",
							      cur != NULL ? json_integer(version)
									  : json_null(),
							      "summary", summary));
		summary = NULL;
	}
	json_decref(summary);
	rl_policy_free(cand);
	rl_policy_free(cur);
	return rc;
}

/* ---- promotion: one rule between dry-run and enforce ---- */

int
ctl_api_policy_rule_mode(struct ctl_ctx *ctx, const char *rule, bool dry_run, const char *who,
		int64_t if_match, struct vg_diag *diag, struct ctl_text_result *out, char *err,
		size_t errlen)
{
	json_t *cur, *text;
	int64_t version;
	bool changed;
	size_t n;
	char *edited;
	int rc;

	memset(out, 0, sizeof(*out));
	errno = 0;
	cur = ctl_api_text_current(ctx, CTL_TEXT_POLICY, err, errlen);
	if (cur == NULL)
		return errno == ENOENT ? -ENOENT : -(errno ? errno : EIO);
	text = json_object_get(cur, "text");
	version = json_integer_value(json_object_get(cur, "version"));
	if (if_match >= 0 && version != if_match) {
		json_decref(cur);
		snprintf(err, errlen, "version %" PRId64 " is in force, not %" PRId64, version,
				if_match);
		return -ESTALE;
	}
	edited = rl_edit_dry_run(json_string_value(text), json_string_length(text), rule, dry_run,
			&n, &changed, err, errlen);
	if (edited == NULL) {
		rc = errno == ENOENT ? -ENOENT : errno == ENOMEM ? -ENOMEM : -EINVAL;
		json_decref(cur);
		return rc;
	}
	if (!changed) {
		out->unchanged = true;
		out->version = version;
		out->version_state = "recorded";
		snprintf(out->sha256, sizeof(out->sha256), "%s",
				json_string_value(json_object_get(cur, "sha256")) ?: "");
		free(edited);
		json_decref(cur);
		return 0;
	}
	json_decref(cur);
	/* A new version of the text with only that rule changed; If-Match: the one edited. */
	rc = ctl_api_text_apply(ctx, CTL_TEXT_POLICY, edited, n, who, version > 0 ? version : -1,
			diag, out);
	free(edited);
	return rc;
}

/* ---- learning ---- */

static int
learn_ready(struct ctl_ctx *ctx, char *err, size_t errlen)
{
	if (ctx->learn != NULL && ctx->store != NULL)
		return 0;
	snprintf(err, errlen,
			"learning reads the flow history: the appliance was started without a store: "
			"section; add one to vigil.yaml and restart");
	return -ENOTSUP;
}

int
ctl_api_learn(struct ctl_ctx *ctx, struct ctl_store_reader *rd, unsigned limit, json_t **out,
		char *err, size_t errlen)
{
	struct rl_policy *cur = NULL;
	json_t *state;
	int64_t version;
	int rc;

	*out = NULL;
	rc = learn_ready(ctx, err, errlen);
	if (rc != 0)
		return rc;
	state = ctl_learn_state(ctx->learn);
	if (json_integer_value(json_object_get(state, "since")) <= 0) {
		/* nothing learnt yet: the state alone */
		*out = json_pack("{s:o, s:[]}", "state", state, "candidates");
		return *out != NULL ? 0 : -ENOMEM;
	}
	rc = current_model(ctx, &cur, &version, err, errlen);
	if (rc == 0) {
		struct ctl_ports ports;

		ctl_ports_of(ctx->cfg, &ports);
		*out = ctl_learn_candidates(rd, &ports, state, cur, limit, err, errlen);
		rc = *out != NULL ? 0 : -(errno ? errno : EIO);
	}
	json_decref(state);
	rl_policy_free(cur);
	return rc;
}

int
ctl_api_learn_proposal(struct ctl_ctx *ctx, struct ctl_store_reader *rd, const json_t *only,
		struct vg_diag *diag, json_t **out, char *err, size_t errlen)
{
	struct rl_policy *cur = NULL;
	json_t *state, *summary = NULL, *text;
	int64_t version;
	int rc;

	*out = NULL;
	rc = learn_ready(ctx, err, errlen);
	if (rc != 0)
		return rc;
	state = ctl_learn_state(ctx->learn);
	rc = current_model(ctx, &cur, &version, err, errlen);
	if (rc == 0) {
		errno = 0;
		struct ctl_ports ports;

		ctl_ports_of(ctx->cfg, &ports);
		*out = ctl_learn_proposal(rd, &ports, state, cur, only, err, errlen);
		rc = *out != NULL ? 0 : -(errno ? errno : EIO);
	}
	json_decref(state);
	rl_policy_free(cur);
	if (rc != 0)
		return rc;
	/* Through the compiler as a PUT would take it. */
	text = json_object_get(*out, "text");
	rc = ctl_api_text_validate(ctx, CTL_TEXT_POLICY, json_string_value(text),
			json_string_length(text), diag, &summary);
	if (rc != 0) {
		json_decref(*out);
		*out = NULL;
		snprintf(err, errlen, "the proposal does not compile (see the diagnostics)");
		return rc;
	}
	json_object_set_new(*out, "summary", summary);
	json_object_set_new(
			*out, "current_version", version > 0 ? json_integer(version) : json_null());
	return 0;
}

struct excl_arg {
	json_t *exclude;
	char who[64];
};

static void
excl_release(void *p)
{
	struct excl_arg *a = p;

	json_decref(a->exclude);
	free(a);
}

static int
excl_call(struct ctl_ctx *ctx, void *p)
{
	struct excl_arg *a = p;

	return ctl_learn_set_exclusions(ctx->learn, a->exclude, a->who);
}

int
ctl_api_learn_exclusions(struct ctl_ctx *ctx, json_t *exclude, const char *who, uint64_t *op,
		char *err, size_t errlen)
{
	struct excl_arg *a;
	int rc;

	rc = learn_ready(ctx, err, errlen);
	if (rc != 0)
		return rc;
	rc = ctl_learn_check_exclusions(exclude, err, errlen);
	if (rc != 0)
		return rc;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return -ENOMEM;
	a->exclude = json_deep_copy(exclude); /* control gets its own copy */
	snprintf(a->who, sizeof(a->who), "%s", who);
	rc = write_call(ctx, excl_call, a, excl_release, "set the learning exclusions", op, err,
			errlen);
	if (rc != -EBUSY && rc != -EINPROGRESS)
		excl_release(a);
	return rc;
}

const char *
ctl_api_store_path(struct ctl_ctx *ctx)
{
	return ctx->store != NULL ? ctl_store_path(ctx->store) : NULL;
}

struct audit_arg {
	char *who, *action, *target, *detail;
	int status;
	uint64_t ts_ms;
};

static void
audit_release(void *p)
{
	struct audit_arg *a = p;

	free(a->who);
	free(a->action);
	free(a->target);
	free(a->detail);
	free(a);
}

static int
audit_call(struct ctl_ctx *ctx, void *p)
{
	struct audit_arg *a = p;
	char result[32];
	struct ctl_audit rec = {
		.ts_ms = a->ts_ms,
		.actor = a->who,
		.action = a->action,
		.target = a->target,
		.detail = a->detail,
		.result = result,
	};

	snprintf(result, sizeof(result), "%d", a->status);
	return ctx->store != NULL ? ctl_store_audit(ctx->store, &rec) : -ENOTSUP;
}

int
ctl_api_audit(struct ctl_ctx *ctx, const char *who, const char *method, const char *path,
		const char *request, int status)
{
	struct audit_arg *a = calloc(1, sizeof(*a));
	int rc;

	if (a == NULL)
		return -ENOMEM;
	a->who = strdup(who ? who : "-");
	if (asprintf(&a->action, "%s %s", method, path) < 0)
		a->action = NULL;
	const char *t = strstr(path, "/api/v1/");
	a->target = strdup(t ? t + 8 : path);
	a->detail = strdup(request ? request : "");
	a->status = status;
	a->ts_ms = ctl_wall_ns() / 1000000ULL;
	if (a->who == NULL || a->action == NULL || a->target == NULL || a->detail == NULL) {
		audit_release(a);
		return -ENOMEM;
	}
	rc = ctl_call(ctx->mailbox, audit_call, a, audit_release, CALL_TIMEOUT_MS);
	if (rc != -ETIMEDOUT)
		audit_release(a);
	return rc == -ETIMEDOUT ? -EBUSY : rc;
}

/* ---- blocklist and live flows ---- */

struct block_arg {
	struct ctl_store_ticket *t;
	uint8_t family;
	uint8_t addr[16];
	uint32_t ttl_s;
	bool add;
	char source[24];
	char reason[128];
	json_t *out;
	struct ctl_flow_filter filter;
	unsigned limit;
};

static void
block_release(void *p)
{
	struct block_arg *a = p;

	json_decref(a->out);
	ctl_store_ticket_put(a->t);
	free(a);
}

static int
block_call(struct ctl_ctx *ctx, void *p)
{
	struct block_arg *a = p;

	if (a->add)
		return ctl_analysis_block(ctx->analysis, a->family, a->addr,
				(uint64_t)a->ttl_s * 1000, a->source, a->reason, a->t);
	return ctl_analysis_unblock(ctx->analysis, a->family, a->addr);
}

static int
block_change(struct ctl_ctx *ctx, struct block_arg *a, uint64_t *op, char *err, size_t errlen)
{
	struct ctl_store_ticket *t = a->t;
	char what[128], addr[VG_ADDR_STRLEN] = "?";
	int rc;

	vg_addr_format_bytes(a->family == 4 ? 4 : 6, a->addr, addr, sizeof(addr));
	snprintf(what, sizeof(what), "%s %s (%.24s)", a->add ? "block" : "unblock", addr,
			a->source);
	rc = write_call(ctx, block_call, a, block_release, what, op, err, errlen);
	if (rc == -EBUSY || rc == -EINPROGRESS)
		return rc;
	if (rc == 0 && t != NULL && ctx->store != NULL) {
		/* Durable: answered as written only once the store has it. */
		int st = ctl_store_ticket_wait(ctx->store, t, DURABLE_WAIT_MS, NULL);

		if (st == 0)
			rc = 1;
		else if (st < 0)
			snprintf(err, errlen, "the store lost the entry: %s", strerror(-st));
		rc = st < 0 ? st : rc;
	}
	if (rc == -EAGAIN)
		snprintf(err, errlen,
				"the store is behind (its queue has no room for one more durable "
				"row); nothing was changed");
	else if (rc == -ENOSPC)
		snprintf(err, errlen, "the blocklist is full");
	else if (rc == -ENOENT)
		snprintf(err, errlen, "the address is not on the blocklist");
	else if (rc != 0)
		snprintf(err, errlen, "blocklist change failed: %s", strerror(-rc));
	block_release(a);
	return rc;
}

int
ctl_api_block_add(struct ctl_ctx *ctx, uint8_t family, const uint8_t *addr, uint32_t ttl_s,
		const char *reason, const char *who, uint64_t *op, char *err, size_t errlen)
{
	struct block_arg *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return -ENOMEM;
	if (family != 4 && family != 6) {
		snprintf(err, errlen, "family must be 4 or 6");
		free(a);
		return -EINVAL;
	}
	a->family = family;
	memcpy(a->addr, addr, family == 4 ? 4 : 16);
	a->ttl_s = ttl_s;
	a->add = true;
	if (ctx->store != NULL) {
		a->t = ctl_store_ticket_new();
		if (a->t == NULL) {
			free(a);
			return -ENOMEM;
		}
	}
	snprintf(a->source, sizeof(a->source), "api:%s", who);
	snprintf(a->reason, sizeof(a->reason), "%s", reason != NULL ? reason : "");
	return block_change(ctx, a, op, err, errlen);
}

int
ctl_api_block_remove(struct ctl_ctx *ctx, uint8_t family, const uint8_t *addr, const char *who,
		uint64_t *op, char *err, size_t errlen)
{
	struct block_arg *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return -ENOMEM;
	a->family = family;
	memcpy(a->addr, addr, family == 4 ? 4 : 16);
	snprintf(a->source, sizeof(a->source), "api:%s", who);
	return block_change(ctx, a, op, err, errlen);
}

static int
blocklist_call(struct ctl_ctx *ctx, void *p)
{
	struct block_arg *a = p;

	a->out = ctl_analysis_blocklist(ctx->analysis);
	return a->out != NULL ? 0 : -EIO;
}

static int
flows_call(struct ctl_ctx *ctx, void *p)
{
	struct block_arg *a = p;

	a->out = ctl_analysis_flows(ctx->analysis, &a->filter, a->limit);
	return a->out != NULL ? 0 : -ENOMEM;
}

static json_t *
call_for_json(struct ctl_ctx *ctx, ctl_call_fn fn, struct block_arg *a)
{
	json_t *out = NULL;

	if (ctl_call(ctx->mailbox, fn, a, block_release, CALL_TIMEOUT_MS) == -ETIMEDOUT)
		return NULL;
	out = a->out;
	a->out = NULL;
	block_release(a);
	return out;
}

json_t *
ctl_api_blocklist(struct ctl_ctx *ctx)
{
	struct block_arg *a = calloc(1, sizeof(*a));

	return a != NULL ? call_for_json(ctx, blocklist_call, a) : NULL;
}

json_t *
ctl_api_flows_active(struct ctl_ctx *ctx, const struct ctl_flow_filter *f, unsigned limit)
{
	struct block_arg *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->filter = *f;
	a->limit = limit;
	return call_for_json(ctx, flows_call, a);
}
