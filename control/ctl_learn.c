/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_ctx.h"
#include "ctl_learn.h"
#include "ctl_preview.h"
#include "ctl_store.h"
#include "dp.h"
#include "rl_key.h"
#include "rl_learn.h"
#include "rl_preview.h"
#include "vg_log.h"

#define LEARN_LOG(level, fmt, ...) CTL_LOG(level, "learn: " fmt, ##__VA_ARGS__)

struct ctl_learn {
	struct ctl_ctx *ctx;
	pthread_mutex_t mu;
	json_t *state; /* replaced whole under mu, never changed in place */
	bool active;
	uint32_t pair_ports; /* an active session's ports when it learns one pair; else 0 */
};

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

static json_t *
idle_state(void)
{
	return json_pack("{s:b, s:n, s:n, s:s, s:[], s:s, s:n, s:n}", "active", 0, "since", "until",
			"previous_mode", "enforce", "exclude", "by", "", "changed", "pair");
}

uint32_t
ctl_learn_state_ports(const json_t *state, const struct ctl_ports *ports)
{
	json_t *pair = json_object_get(state, "pair"), *v;
	uint32_t mask = 0;
	size_t i;

	if (!json_is_array(pair) || ports == NULL)
		return 0;
	json_array_foreach(pair, i, v)
	{
		for (unsigned p = 0; p < ports->n && p < 32; p++)
			if (json_is_string(v) && strcmp(json_string_value(v), ports->name[p]) == 0)
				mask |= 1u << p;
	}
	/* A pair whose ports are gone from the config learns nothing rather than everything. */
	return mask != 0 || json_array_size(pair) == 0 ? mask : CTL_IN_NONE;
}

void
ctl_ports_of(const struct vg_config *cfg, struct ctl_ports *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; cfg != NULL && i < cfg->n_ports && i < CTL_STORE_MAX_PORTS; i++)
		out->name[out->n++] = cfg->ports[i].name;
}

/* The last recorded state, or NULL. */
static json_t *
restore(struct ctl_ctx *ctx)
{
	char err[256];
	struct ctl_store_reader *rd;
	json_t *vers, *v, *state = NULL;

	if (ctx->store == NULL)
		return NULL;
	rd = ctl_store_reader_open(ctl_store_path(ctx->store), err, sizeof(err));
	if (rd == NULL)
		return NULL;
	vers = ctl_store_query_versions(rd, "learn", 1, err, sizeof(err));
	if (json_array_size(vers) == 1) {
		json_int_t id = json_integer_value(json_object_get(json_array_get(vers, 0), "id"));

		v = ctl_store_get_version(rd, id, err, sizeof(err));
		if (json_is_string(json_object_get(v, "text")))
			state = json_loads(json_string_value(json_object_get(v, "text")), 0, NULL);
		json_decref(v);
	}
	json_decref(vers);
	ctl_store_reader_close(rd);
	if (state != NULL && !json_is_object(state)) {
		json_decref(state);
		state = NULL;
	}
	return state;
}

struct ctl_learn *
ctl_learn_create(struct ctl_ctx *ctx)
{
	struct ctl_learn *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->ctx = ctx;
	pthread_mutex_init(&l->mu, NULL);
	l->state = restore(ctx);
	if (l->state == NULL)
		l->state = idle_state();
	if (l->state == NULL) {
		free(l);
		errno = ENOMEM;
		return NULL;
	}
	l->active = json_is_true(json_object_get(l->state, "active"));
	if (l->active && json_is_array(json_object_get(l->state, "pair"))) {
		struct ctl_ports ports;

		ctl_ports_of(ctx->cfg, &ports);
		l->pair_ports = ctl_learn_state_ports(l->state, &ports);
		if (l->pair_ports == CTL_IN_NONE) {
			LEARN_LOG(WARNING, "%s",
					"the pair that was learning when vigild stopped is not in the "
					"config any more: its session is kept but learns nothing");
			l->pair_ports = 0;
		}
		dp_set_dry_ports(ctx->dp, dp_dry_ports(ctx->dp) | l->pair_ports);
		LEARN_LOG(NOTICE, "%s",
				"a pair was learning when vigild stopped: learning again on its "
				"ports (dry-run there)");
	} else if (l->active) {
		dp_set_mode(ctx->dp, DP_MODE_DRY_RUN);
		LEARN_LOG(NOTICE, "%s",
				"a learning session was active when vigild stopped: learning "
				"again (dry-run)");
	}
	return l;
}

void
ctl_learn_free(struct ctl_learn *l)
{
	if (l == NULL)
		return;
	json_decref(l->state);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

bool
ctl_learn_active(struct ctl_learn *l)
{
	return l != NULL && __atomic_load_n(&l->active, __ATOMIC_ACQUIRE);
}

bool
ctl_learn_global(struct ctl_learn *l)
{
	bool g;

	if (!ctl_learn_active(l))
		return false;
	pthread_mutex_lock(&l->mu);
	g = !json_is_array(json_object_get(l->state, "pair"));
	pthread_mutex_unlock(&l->mu);
	return g;
}

uint32_t
ctl_learn_pair_ports(struct ctl_learn *l)
{
	return l != NULL ? __atomic_load_n(&l->pair_ports, __ATOMIC_ACQUIRE) : 0;
}

json_t *
ctl_learn_state(struct ctl_learn *l)
{
	json_t *s;

	pthread_mutex_lock(&l->mu);
	s = json_deep_copy(l->state);
	pthread_mutex_unlock(&l->mu);
	return s;
}

/* Put s in force and record it (control lcore). Takes s. */
static int
set_state(struct ctl_learn *l, json_t *s, const char *who)
{
	char *text;
	int rc = 0;

	json_object_set_new(s, "by", json_string(who ? who : ""));
	json_object_set_new(s, "changed", json_integer(now_s()));
	text = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);
	if (text == NULL) {
		json_decref(s);
		return -ENOMEM;
	}
	if (l->ctx->store != NULL)
		rc = ctl_store_put_version(l->ctx->store, "learn", text, strlen(text),
				who ? who : "", "recorded", NULL, NULL, 0, NULL);
	free(text);
	if (rc != 0) {
		json_decref(s);
		return rc;
	}
	pthread_mutex_lock(&l->mu);
	json_decref(l->state);
	l->state = s;
	__atomic_store_n(&l->active, json_is_true(json_object_get(s, "active")), __ATOMIC_RELEASE);
	pthread_mutex_unlock(&l->mu);
	return 0;
}

int
ctl_learn_start(struct ctl_learn *l, const char *who, int pair)
{
	const struct vg_config *cfg = l->ctx->cfg;
	json_t *s = ctl_learn_state(l), *cur_pair;
	uint32_t mask = 0;
	bool dry_before;
	int rc;

	if (s == NULL)
		return -ENOMEM;
	if (pair >= 0) {
		if (cfg == NULL || (unsigned)pair >= cfg->n_pairs) {
			json_decref(s);
			return -EINVAL;
		}
		mask = 1u << cfg->pairs[pair].a | 1u << cfg->pairs[pair].b;
	}
	cur_pair = json_object_get(s, "pair");
	/* Learning already: the session and its window go on; one session at a time. */
	if (json_is_true(json_object_get(s, "active"))) {
		bool same = pair < 0 ? !json_is_array(cur_pair) : l->pair_ports == mask;

		json_decref(s);
		return same ? 0 : -EEXIST;
	}
	dry_before = dp_mode(l->ctx->dp) == DP_MODE_DRY_RUN ||
		     (mask != 0 && (dp_dry_ports(l->ctx->dp) & mask) == mask);
	json_object_set_new(s, "previous_mode", json_string(dry_before ? "dry-run" : "enforce"));
	json_object_set_new(s, "active", json_true());
	json_object_set_new(s, "since", json_integer(now_s()));
	json_object_set_new(s, "until", json_null());
	json_object_set_new(s, "pair",
			pair < 0 ? json_null()
				 : json_pack("[s, s]", cfg->ports[cfg->pairs[pair].a].name,
						   cfg->ports[cfg->pairs[pair].b].name));
	rc = set_state(l, s, who);
	if (rc == 0 && pair < 0) {
		dp_set_mode(l->ctx->dp, DP_MODE_DRY_RUN);
		LEARN_LOG(NOTICE, "learning started by %s (dry-run)", who);
	} else if (rc == 0) {
		__atomic_store_n(&l->pair_ports, mask, __ATOMIC_RELEASE);
		dp_set_dry_ports(l->ctx->dp, dp_dry_ports(l->ctx->dp) | mask);
		LEARN_LOG(NOTICE, "learning started by %s on the pair %s-%s (dry-run there)", who,
				cfg->ports[cfg->pairs[pair].a].name,
				cfg->ports[cfg->pairs[pair].b].name);
	}
	return rc;
}

int
ctl_learn_stop(struct ctl_learn *l, const char *who)
{
	json_t *s = ctl_learn_state(l);
	uint32_t mask = ctl_learn_pair_ports(l);
	bool was_dry;

	if (s == NULL)
		return -ENOMEM;
	if (!json_is_true(json_object_get(s, "active"))) {
		json_decref(s);
		return 0;
	}
	was_dry = strcmp(json_string_value(json_object_get(s, "previous_mode")) ?: "", "dry-run") ==
		  0;
	json_object_set_new(s, "active", json_false());
	json_object_set_new(s, "until", json_integer(now_s()));
	LEARN_LOG(NOTICE, "learning stopped by %s", who);
	/* A pair goes back to what it was; the global mode is the caller's to set. */
	if (mask != 0 && !was_dry)
		dp_set_dry_ports(l->ctx->dp, dp_dry_ports(l->ctx->dp) & ~mask);
	__atomic_store_n(&l->pair_ports, 0, __ATOMIC_RELEASE);
	return set_state(l, s, who);
}

int
ctl_learn_set_exclusions(struct ctl_learn *l, json_t *exclude, const char *who)
{
	json_t *s = ctl_learn_state(l);

	if (s == NULL)
		return -ENOMEM;
	/* A copy: the caller's document belongs to a management thread. */
	json_object_set_new(s, "exclude", json_deep_copy(exclude));
	return set_state(l, s, who);
}

/* Exclusions -------------------------------------------------------------------------------- */

struct excl_buf {
	const char *from[64], *to[64];
	uint16_t *dports;
	struct rl_learn_excl x;
};

/* One exclusion object into x (dports malloc'd). -EINVAL with err. */
static int
excl_parse(const json_t *o, size_t idx, struct excl_buf *b, char *err, size_t errlen)
{
	const char *k;
	json_t *v, *e;
	size_t i;

	memset(b, 0, sizeof(*b));
	b->x.proto = -1;
	b->x.from = b->from;
	b->x.to = b->to;
	if (!json_is_object(o)) {
		snprintf(err, errlen, "exclude[%zu] must be an object {from, to, proto, dport}",
				idx);
		return -EINVAL;
	}
	json_object_foreach((json_t *)o, k, v)
	{
		bool from = strcmp(k, "from") == 0;

		if (from || strcmp(k, "to") == 0) {
			if (!json_is_array(v) || json_array_size(v) > 64) {
				snprintf(err, errlen,
						"exclude[%zu].%s must be a list of at most 64 addresses "
						"or prefixes",
						idx, k);
				return -EINVAL;
			}
			json_array_foreach(v, i, e)
			{
				if (!json_is_string(e)) {
					snprintf(err, errlen,
							"exclude[%zu].%s[%zu] must be a string",
							idx, k, i);
					return -EINVAL;
				}
				(from ? b->from : b->to)[i] = json_string_value(e);
			}
			*(from ? &b->x.n_from : &b->x.n_to) = (unsigned)json_array_size(v);
		} else if (strcmp(k, "proto") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
					json_integer_value(v) > 255) {
				snprintf(err, errlen, "exclude[%zu].proto must be 0..255", idx);
				return -EINVAL;
			}
			b->x.proto = (int)json_integer_value(v);
		} else if (strcmp(k, "dport") == 0) {
			if (!json_is_array(v) || json_array_size(v) > 1024) {
				snprintf(err, errlen,
						"exclude[%zu].dport must be a list of at most 1024 ports "
						"or \"low-high\" ranges",
						idx);
				return -EINVAL;
			}
			json_array_foreach(v, i, e)
			{
				unsigned lo, hi;
				char c;

				if (json_is_integer(e) && json_integer_value(e) >= 0 &&
						json_integer_value(e) <= 65535) {
					lo = hi = (unsigned)json_integer_value(e);
				} else if (json_is_string(e) &&
						(sscanf(json_string_value(e), "%u-%u%c", &lo, &hi,
								 &c) == 2 ||
								(sscanf(json_string_value(e),
										 "%u%c", &lo,
										 &c) == 1 &&
										(hi = lo, true))) &&
						lo <= hi && hi <= 65535) {
				} else {
					snprintf(err, errlen,
							"exclude[%zu].dport[%zu] must be a port 0..65535 or "
							"\"low-high\"",
							idx, i);
					free(b->dports);
					return -EINVAL;
				}
				uint16_t *nd = realloc(b->dports,
						(b->x.n_dports + hi - lo + 1) * sizeof(*nd));

				if (nd == NULL) {
					free(b->dports);
					return -ENOMEM;
				}
				b->dports = nd;
				for (unsigned p = lo; p <= hi; p++)
					b->dports[b->x.n_dports++] = (uint16_t)p;
			}
			b->x.dports = b->dports;
		} else {
			snprintf(err, errlen,
					"exclude[%zu]: unknown member '%s' (from, to, proto, dport)",
					idx, k);
			free(b->dports);
			return -EINVAL;
		}
	}
	return 0;
}

/* Give l the exclusions of state. */
static int
add_exclusions(struct rl_learn *l, const json_t *exclude, char *err, size_t errlen)
{
	size_t i;
	json_t *o;

	if (exclude == NULL || json_is_null(exclude))
		return 0;
	if (!json_is_array(exclude) || json_array_size(exclude) > 1024) {
		snprintf(err, errlen, "exclude must be a list of at most 1024 objects");
		return -EINVAL;
	}
	json_array_foreach(exclude, i, o)
	{
		struct excl_buf b;
		int rc = excl_parse(o, i, &b, err, errlen);

		if (rc == 0) {
			char e2[192];

			rc = rl_learn_exclude(l, &b.x, e2, sizeof(e2));
			if (rc == -EINVAL)
				snprintf(err, errlen, "exclude[%zu]: %s", i, e2);
		}
		free(b.dports);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
ctl_learn_check_exclusions(const json_t *exclude, char *err, size_t errlen)
{
	struct rl_learn *l = rl_learn_create(NULL, 1, 1);
	int rc;

	if (l == NULL)
		return -ENOMEM;
	rc = add_exclusions(l, exclude, err, errlen);
	rl_learn_free(l);
	return rc;
}

/* Learning from the store ------------------------------------------------------------------- */

struct feed {
	struct rl_learn *l;
	uint32_t in_mask;
};

static int
feed(const struct ctl_flow_key_sum *k, void *arg)
{
	struct feed *f = arg;
	struct rl_obs o = ctl_flow_obs(k);
	int rc;

	if (!ctl_flow_in_mask(k, f->in_mask))
		return 0; /* another pair's */
	/* ICMP keys carry no port a rule can name: one key per (src, dst, proto) */
	if (o.proto != 6 && o.proto != 17 && o.proto != 132)
		o.dport = 0;
	rc = rl_learn_add(f->l, &o);
	return rc == -ENOMEM ? rc : 0; /* past the bound: counted, and the scan goes on */
}

static void
window(const json_t *state, int64_t *since, int64_t *until)
{
	json_t *s = json_object_get(state, "since"), *u = json_object_get(state, "until");

	*since = json_is_integer(s) ? json_integer_value(s) : 0;
	*until = json_is_integer(u) ? json_integer_value(u) + 60 : 0; /* its minute included */
}

static struct rl_learn *
learn(struct ctl_store_reader *rd, const struct ctl_ports *ports, const json_t *state,
		const struct rl_policy *cur, char *err, size_t errlen)
{
	struct feed f = { .in_mask = ctl_learn_state_ports(state, ports) };
	struct rl_learn *l;
	int64_t since, until, rc;

	window(state, &since, &until);
	if (since <= 0) {
		snprintf(err, errlen,
				"no learning session yet: start one with PUT /api/v1/mode "
				"{\"mode\": \"learn\"}");
		errno = ENOENT;
		return NULL;
	}
	if (f.in_mask == CTL_IN_NONE) {
		json_t *pair = json_object_get(state, "pair");

		snprintf(err, errlen,
				"the session learnt the pair %s-%s, whose ports are not in the config "
				"any more; start another",
				json_string_value(json_array_get(pair, 0)) ?: "?",
				json_string_value(json_array_get(pair, 1)) ?: "?");
		errno = ENOENT;
		return NULL;
	}
	l = rl_learn_create(cur, 0, 0);
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (ports != NULL)
		rl_learn_set_ports(l, ports->name, ports->n);
	f.l = l;
	rc = add_exclusions(l, json_object_get(state, "exclude"), err, errlen);
	if (rc == 0) {
		rc = ctl_store_scan_flow_keys(rd, since, until, ports != NULL ? ports->name : NULL,
				ports != NULL ? ports->n : 0, feed, &f, err, errlen);
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory");
	}
	if (rc >= 0 && rl_learn_build(l) != 0) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
	}
	if (rc < 0) {
		rl_learn_free(l);
		errno = (int)-rc;
		return NULL;
	}
	return l;
}

static json_t *
strs_json(char *const *v, unsigned n)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *
port_json(const struct ctl_ports *ports, const struct rl_obs *o)
{
	const char *in = ctl_obs_port(ports, o);

	return in != NULL ? json_string(in) : json_null();
}

static json_t *
stats_json(const struct rl_learn *l)
{
	struct rl_learn_stats st;

	rl_learn_stats(l, &st);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "observed", (json_int_t)st.observed,
			"excluded", (json_int_t)st.excluded, "dropped", (json_int_t)st.dropped,
			"keys", (json_int_t)st.keys, "candidates",
			(json_int_t)rl_learn_n_candidates(l), "rules_cut",
			(json_int_t)st.rules_cut);
}

json_t *
ctl_learn_candidates(struct ctl_store_reader *rd, const struct ctl_ports *ports,
		const json_t *state, const struct rl_policy *cur, unsigned limit, char *err,
		size_t errlen)
{
	struct rl_learn *l = learn(rd, ports, state, cur, err, errlen);
	json_t *cands, *out;
	int64_t since, until;

	if (l == NULL)
		return NULL;
	window(state, &since, &until);
	cands = json_array();
	for (unsigned i = 0; i < rl_learn_n_candidates(l) && (limit == 0 || i < limit); i++) {
		const struct rl_learn_cand *c = rl_learn_candidate(l, i);
		json_t *samples = json_array();

		struct rl_obs in = { .in_known = c->in_known, .in_port = c->in_port };

		for (unsigned j = 0; j < c->n_samples; j++)
			json_array_append_new(samples, ctl_obs_json(ports, &c->samples[j]));
		json_array_append_new(cands,
				json_pack("{s:s, s:i, s:i, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I, "
					  "s:I, s:I, s:I, s:I, s:o}",
						"id", c->id, "family", c->family, "proto", c->proto,
						"in_port", port_json(ports, &in), "from",
						strs_json(c->from, c->n_from), "to",
						strs_json(c->to, c->n_to), "ports",
						strs_json(c->ports, c->n_ports), "keys",
						(json_int_t)c->keys, "flows", (json_int_t)c->flows,
						"packets", (json_int_t)c->packets, "bytes",
						(json_int_t)c->bytes, "first", (json_int_t)c->first,
						"last", (json_int_t)c->last, "denied_keys",
						(json_int_t)c->denied_keys, "denied_flows",
						(json_int_t)c->denied_flows, "samples", samples));
	}
	out = json_pack("{s:O, s:{s:I, s:o}, s:o, s:{s:i, s:i}, s:o, s:b}", "state", state,
			"window", "since", (json_int_t)since, "until",
			until > 0 ? json_integer(until - 60) : json_null(), "stats", stats_json(l),
			"limits", "max_keys", RL_LEARN_MAX_KEYS, "max_rules", RL_LEARN_MAX_RULES,
			"candidates", cands, "truncated",
			limit != 0 && rl_learn_n_candidates(l) > limit);
	rl_learn_free(l);
	return out;
}

/* The check: every observed, non-excluded aggregate of the window under the proposal. */
struct check {
	struct rl_learn *excl; /* exclusions only */
	const struct rl_policy *prop;
	uint32_t in_mask;
	uint64_t observed, allowed, not_allowed, excluded;
};

static int
check_one(const struct ctl_flow_key_sum *k, void *arg)
{
	struct check *c = arg;
	struct rl_obs o = ctl_flow_obs(k);
	struct rl_verdict v;

	if (!ctl_flow_in_mask(k, c->in_mask))
		return 0;
	o.packets = o.bytes = o.flows = 0;
	if (rl_learn_add(c->excl, &o) == 1) {
		c->excluded++;
		return 0;
	}
	c->observed++;
	rl_preview_classify(c->prop, &o, &v);
	if (v.action == RL_ACT_ALLOW && v.rule != RL_RULE_DEFAULT && v.certain)
		c->allowed++;
	else
		c->not_allowed++;
	return 0;
}

json_t *
ctl_learn_proposal(struct ctl_store_reader *rd, const struct ctl_ports *ports, const json_t *state,
		const struct rl_policy *cur, const json_t *only, char *err, size_t errlen)
{
	struct rl_learn *l = learn(rd, ports, state, cur, err, errlen);
	enum rl_action def = cur != NULL && rl_policy_default(cur) != RL_ACT_ALLOW
					     ? rl_policy_default(cur)
					     : RL_ACT_DROP;
	struct check chk = { .in_mask = ctl_learn_state_ports(state, ports) };
	struct rl_env env = { 0 };
	struct vg_diag d;
	bool *include = NULL;
	int64_t since, until;
	unsigned n_rules = 0;
	json_t *out = NULL;
	size_t len;
	char *text;

	if (l == NULL)
		return NULL;
	window(state, &since, &until);
	if (only != NULL) {
		include = calloc(rl_learn_n_candidates(l) + 1, sizeof(*include));
		if (include == NULL)
			goto oom;
		for (unsigned i = 0; i < rl_learn_n_candidates(l); i++) {
			size_t j;
			json_t *id;

			json_array_foreach(only, j, id)
			{
				if (json_is_string(id) &&
						strcmp(json_string_value(id),
								rl_learn_candidate(l, i)->id) == 0)
					include[i] = true;
			}
			n_rules += include[i];
		}
	} else {
		n_rules = rl_learn_n_candidates(l);
	}
	if (chk.in_mask != 0)
		rl_learn_set_scope(l, chk.in_mask,
				cur != NULL ? rl_policy_default(cur) : RL_ACT_ALLOW);
	text = rl_learn_proposal(l, def, include, since, until > 0 ? until - 60 : now_s(), &len);
	free(include);
	if (text == NULL)
		goto oom;
	vg_diag_init(&d);
	if (ports != NULL) {
		env.ports = ports->name;
		env.n_ports = ports->n;
	}
	chk.prop = rl_policy_load_buf("proposal", text, len, &env, &d);
	vg_diag_free(&d);
	chk.excl = rl_learn_create(NULL, 1, 1);
	if (chk.prop == NULL || chk.excl == NULL ||
			add_exclusions(chk.excl, json_object_get(state, "exclude"), err, errlen) !=
					0 ||
			ctl_store_scan_flow_keys(rd, since, until,
					ports != NULL ? ports->name : NULL,
					ports != NULL ? ports->n : 0, check_one, &chk, err,
					errlen) < 0) {
		if (chk.prop == NULL)
			snprintf(err, errlen,
					"the proposal does not load (a bug: please report it)");
		free(text);
		goto out;
	}
	out = json_pack("{s:s%, s:s, s:i, s:o, s:{s:I, s:I, s:I, s:I}}", "text", text, len,
			"default", rl_action_name(def), "rules",
			n_rules < RL_LEARN_MAX_RULES ? n_rules : RL_LEARN_MAX_RULES, "stats",
			stats_json(l), "check", "observed", (json_int_t)chk.observed, "allowed",
			(json_int_t)chk.allowed, "not_allowed", (json_int_t)chk.not_allowed,
			"excluded", (json_int_t)chk.excluded);
	free(text);
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	rl_policy_free((struct rl_policy *)chk.prop);
	rl_learn_free(chk.excl);
	rl_learn_free(l);
	return out;
}
