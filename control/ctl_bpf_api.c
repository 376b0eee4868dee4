/* SPDX-License-Identifier: BSD-3-Clause */
/* The eBPF programs' maps through the management API: listing and changes, run on control. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>

#include "ctl_api.h"
#include "ctl_bpf_api.h"
#include "ctl_bpf_prog.h"
#include "ctl_bpf_state.h"
#include "ctl_call.h"
#include "ctl_store.h"
#include "dp.h"
#include "rl_bpf_map.h"
#include "rl_compile.h"
#include "vg_diag.h"

#define CALL_TIMEOUT_MS 10000

struct map_arg {
	char name[RL_BPF_MAP_NAME_MAX];
	bool del;
	json_t *entries; /* the request's (a copy) */
	json_t *out;
	json_t *details;
	char err[1024];
};

static void
map_arg_free(void *p)
{
	struct map_arg *a = p;

	json_decref(a->entries);
	json_decref(a->out);
	json_decref(a->details);
	free(a);
}

/* A map of the policy in force: its owner (a rule, or a pre-filter) and its program. */
struct inst {
	const char *rule; /* the owner's name */
	bool pre;	  /* the owner is a pre-filter */
	const struct rl_bpf_prog *prog;
	struct rl_bpf_map *m;
};

static const char *
owner_kind(const struct inst *in)
{
	return in->pre ? "prefilter" : "rule";
}

/* Every map named name (NULL: every map) in the policy in force, rules' first (up to max); the
 * count. */
static unsigned
find(struct ctl_ctx *ctx, const char *name, struct inst *v, unsigned max)
{
	const struct rl_snapshot *s = dp_policy(ctx->dp);
	unsigned n = 0;

	for (unsigned i = 0; s != NULL && i < rl_snapshot_n_rules(s) + rl_snapshot_n_prefilters(s);
			i++) {
		const char *owner;
		bool pre;
		const struct rl_bpf_prog *prog = rl_snapshot_program(s, i, &owner, &pre);
		struct rl_bpf_maps *ms = prog != NULL ? rl_bpf_maps(prog) : NULL;

		for (unsigned k = 0; ms != NULL && k < ms->n; k++)
			if (name == NULL || strcmp(rl_bpf_map_name(ms->m[k]), name) == 0) {
				if (n < max)
					v[n] = (struct inst){ owner, pre, prog, ms->m[k] };
				n++;
			}
	}
	return n;
}

static const char *
kind_name(const struct rl_bpf_map *m)
{
	return rl_bpf_map_kind(m) == RL_BPF_MAP_LPM ? "lpm" : "hash";
}

static json_t *
describe(const struct inst *in, bool persisted)
{
	const struct rl_bpf_map *m = in->m;
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I}", "name", rl_bpf_map_name(m),
			owner_kind(in), in->rule, "program", rl_bpf_path(in->prog), "max_entries",
			(json_int_t)rl_bpf_map_max_entries(m), "count",
			(json_int_t)rl_bpf_map_count(m));

	if (o == NULL)
		return NULL;
	ctl_bpf_map_shape_json(o, m);
	json_object_set_new(o, "file",
			rl_bpf_map_file(m) ? json_string(rl_bpf_map_file(m)) : json_null());
	struct rl_bpf_map_counters c;

	rl_bpf_map_counters_sum(m, &c);
	json_object_set_new(o, "lookups", json_integer((json_int_t)c.lookups));
	json_object_set_new(o, "hits", json_integer((json_int_t)c.hits));
	json_object_set_new(o, "updates", json_integer((json_int_t)c.updates));
	json_object_set_new(o, "deletes", json_integer((json_int_t)c.deletes));
	json_object_set_new(o, "full", json_integer((json_int_t)c.full));
	/* Whether the API's changes outlive a restart (ctl_bpf_state.h). */
	json_object_set_new(o, "persisted", json_boolean(persisted));
	return o;
}

static int
list_call(struct ctl_ctx *ctx, void *p)
{
	struct map_arg *a = p;
	unsigned n = find(ctx, NULL, NULL, 0);
	struct inst *v = calloc(n ? n : 1, sizeof(*v));
	json_t *items = v != NULL ? json_array() : NULL;

	n = v != NULL ? find(ctx, NULL, v, n) : 0;
	for (unsigned i = 0; items != NULL && i < n; i++)
		json_array_append_new(
				items, describe(&v[i], ctl_bpf_state_persisted(ctx->bpf_state,
								       rl_bpf_map_name(v[i].m))));
	free(v);
	a->out = items != NULL ? json_pack("{s:o}", "items", items) : NULL;
	return a->out != NULL ? 0 : -ENOMEM;
}

json_t *
ctl_api_bpf_maps(struct ctl_ctx *ctx)
{
	struct map_arg *a = calloc(1, sizeof(*a));
	json_t *out;

	if (a == NULL)
		return NULL;
	if (ctl_call(ctx->mailbox, list_call, a, map_arg_free, CALL_TIMEOUT_MS) == -ETIMEDOUT)
		return NULL;
	out = a->out;
	a->out = NULL;
	map_arg_free(a);
	return out;
}

static void
unknown(struct ctl_ctx *ctx, const char *name, char *err, size_t errlen)
{
	struct inst v[32];
	unsigned n = find(ctx, NULL, v, RTE_DIM(v));
	size_t o;

	o = (size_t)snprintf(err, errlen, "no map '%s' in the policy in force (maps:", name);
	for (unsigned i = 0; i < n && i < RTE_DIM(v) && o < errlen; i++)
		o += (size_t)snprintf(err + o, errlen - o, " %s", rl_bpf_map_name(v[i].m));
	if (o < errlen)
		snprintf(err + o, errlen - o, "%s)", n ? "" : " none");
}

struct walk {
	json_t *items;
	const struct rl_bpf_map *m;
};

void
ctl_bpf_map_shape_json(json_t *o, const struct rl_bpf_map *m)
{
	json_object_set_new(o, "kind", json_string(kind_name(m)));
	if (rl_bpf_map_kind(m) == RL_BPF_MAP_LPM)
		json_object_set_new(o, "family", json_integer(rl_bpf_map_family(m)));
	else
		json_object_set_new(o, "key",
				json_string(rl_bpf_map_key_type(m) == RL_BPF_KEY_U64 ? "u64"
										     : "addr"));
}

json_t *
ctl_bpf_entry_json(const struct rl_bpf_map *m, const struct rl_bpf_map_entry *e)
{
	char k[64];

	rl_bpf_map_key_text(m, e, k, sizeof(k));
	return json_pack("{s:s, s:I}", "key", k, "value", (json_int_t)e->value);
}

static void
add_item(void *arg, const struct rl_bpf_map_entry *e)
{
	struct walk *w = arg;

	json_array_append_new(w->items, ctl_bpf_entry_json(w->m, e));
}

/* The rules (pre false) or pre-filters (pre true) of v. */
static json_t *
rules_of(const struct inst *v, unsigned n, bool pre)
{
	json_t *r = json_array();

	for (unsigned i = 0; r != NULL && i < n; i++)
		if (v[i].pre == pre)
			json_array_append_new(r, json_string(v[i].rule));
	return r;
}

/* {"rules": [...]}, with "prefilters": [...] when pre-filters declare it too, into o. */
static json_t *
owners(json_t *o, const struct inst *v, unsigned n)
{
	bool any = false;

	for (unsigned i = 0; i < n; i++)
		any |= v[i].pre;
	if (o != NULL && any)
		json_object_set_new(o, "prefilters", rules_of(v, n, true));
	return o;
}

static int
entries_call(struct ctl_ctx *ctx, void *p)
{
	struct map_arg *a = p;
	struct inst v[RL_BPF_MAX_MAPS * 64];
	unsigned n = find(ctx, a->name, v, RTE_DIM(v));
	struct walk w;

	if (n == 0) {
		unknown(ctx, a->name, a->err, sizeof(a->err));
		return -ENOENT;
	}
	n = RTE_MIN(n, (unsigned)RTE_DIM(v));
	w.items = json_array();
	w.m = v[0].m;
	if (w.items == NULL)
		return -ENOMEM;
	/* Programs of several rules may declare it: the first rule's entries. */
	rl_bpf_map_walk(v[0].m, add_item, &w);
	a->out = owners(json_pack("{s:s, s:s, s:o, s:I, s:o}", "name", a->name, "kind",
					kind_name(v[0].m), "rules", rules_of(v, n, false), "count",
					(json_int_t)json_array_size(w.items), "items", w.items),
			v, n);
	return a->out != NULL ? 0 : -ENOMEM;
}

int
ctl_api_bpf_map_entries(
		struct ctl_ctx *ctx, const char *name, json_t **out, char *err, size_t errlen)
{
	struct map_arg *a = calloc(1, sizeof(*a));
	int rc;

	*out = NULL;
	if (a == NULL)
		return -ENOMEM;
	snprintf(a->name, sizeof(a->name), "%s", name);
	rc = ctl_call(ctx->mailbox, entries_call, a, map_arg_free, CALL_TIMEOUT_MS);
	if (rc == -ETIMEDOUT) {
		snprintf(err, errlen, "control did not answer within %u ms", CALL_TIMEOUT_MS);
		return -EBUSY;
	}
	if (rc == 0) {
		*out = a->out;
		a->out = NULL;
	} else {
		snprintf(err, errlen, "%s", a->err);
	}
	map_arg_free(a);
	return rc;
}

/* The request's entries for map m; -EINVAL with details naming the member. */
static int
parse_entries(struct map_arg *a, const struct inst *in, struct rl_bpf_map_entry *e, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const json_t *it = json_array_get(a->entries, i);
		const json_t *k = json_object_get(it, "key"), *v = json_object_get(it, "value");
		char key[80], why[400], member[48];
		json_int_t value = json_is_integer(v) ? json_integer_value(v) : 0;

		if (json_is_string(k))
			snprintf(key, sizeof(key), "%s", json_string_value(k));
		else
			snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT, json_integer_value(k));
		if (rl_bpf_map_parse(in->m, key, (uint64_t)value, &e[i], why, sizeof(why)) != 0) {
			bool val = strncmp(why, "value", 5) == 0;

			if (a->del) /* the request's list is keys */
				snprintf(member, sizeof(member), "keys[%u]", i);
			else
				snprintf(member, sizeof(member), "entries[%u].%s", i,
						val ? "value" : "key");
			snprintf(a->err, sizeof(a->err), "%s: %s: %s%s%s",
					a->del ? "query parameter 'keys'" : "request body", member,
					why, in->pre ? " (prefilter " : " (rule ", in->rule);
			strncat(a->err, ")", sizeof(a->err) - strlen(a->err) - 1);
			a->details = json_pack(
					"{s:s, s:O}", "member", member, "value", val ? v : k);
			return -EINVAL;
		}
	}
	return 0;
}

static int
change_call(struct ctl_ctx *ctx, void *p)
{
	struct map_arg *a = p;
	struct inst v[64];
	unsigned n = find(ctx, a->name, v, RTE_DIM(v)), ne = (unsigned)json_array_size(a->entries);
	struct rl_bpf_map_entry *e[64] = { 0 };
	char why[400];
	int rc = 0;

	if (n == 0) {
		unknown(ctx, a->name, a->err, sizeof(a->err));
		return -ENOENT;
	}
	n = RTE_MIN(n, (unsigned)RTE_DIM(v));
	/* Every map accepts the whole change before any changes. */
	for (unsigned i = 0; i < n && rc == 0; i++) {
		e[i] = calloc(ne ? ne : 1, sizeof(*e[i]));
		if (e[i] == NULL) {
			rc = -ENOMEM;
			break;
		}
		rc = parse_entries(a, &v[i], e[i], ne);
		if (rc == 0 && (rc = rl_bpf_map_check(
						v[i].m, e[i], ne, a->del, why, sizeof(why))) != 0) {
			snprintf(a->err, sizeof(a->err), "request body: %s (%s %s)", why,
					owner_kind(&v[i]), v[i].rule);
			a->details = json_pack("{s:s}", "member", a->del ? "keys" : "entries");
			rc = -EINVAL;
		}
	}
	for (unsigned i = 0; i < n && rc == 0; i++) {
		rc = rl_bpf_map_change(v[i].m, e[i], ne, a->del, why, sizeof(why));
		if (rc != 0)
			snprintf(a->err, sizeof(a->err), "%s %s: %s%s", owner_kind(&v[i]),
					v[i].rule, why,
					i ? " (the maps of the rules before it were changed)" : "");
	}
	for (unsigned i = 0; i < n; i++)
		free(e[i]);
	if (rc != 0)
		return rc;
	/*
	 * Kept for the next start (docs/BPF.md, "Maps across restarts"). A failed write does not
	 * undo the change, which is in force: the answer and the log say it is not kept.
	 */
	rc = ctl_bpf_state_save(ctx->bpf_state, dp_policy(ctx->dp), a->name, why, sizeof(why));
	if (rc == -ENOTSUP)
		ctl_bpf_state_note_unsaved(ctx->bpf_state);
	a->out = owners(json_pack("{s:s, s:o, s:I, s:I, s:b}", "name", a->name, "rules",
					rules_of(v, n, false), "changed", (json_int_t)ne, "count",
					(json_int_t)rl_bpf_map_count(v[0].m), "persisted", rc == 0),
			v, n);
	if (a->out != NULL && rc != 0 && rc != -ENOTSUP)
		json_object_set_new(a->out, "persist_error", json_string(why));
	return 0;
}

int
ctl_api_bpf_map_change(struct ctl_ctx *ctx, const char *name, const json_t *entries, bool del,
		const char *who, uint64_t *op, json_t **out, json_t **details, char *err,
		size_t errlen)
{
	struct map_arg *a = calloc(1, sizeof(*a));
	char what[128];
	uint64_t id = 0;
	int rc;

	*out = NULL, *details = NULL;
	if (a == NULL)
		return -ENOMEM;
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->del = del;
	a->entries = json_deep_copy(entries);
	if (a->entries == NULL) {
		free(a);
		return -ENOMEM;
	}
	snprintf(what, sizeof(what), "bpf map %s: %s %zu entries (%.24s)", name,
			del ? "delete" : "put", json_array_size(entries), who);
	rc = ctl_call_op(ctx->mailbox, change_call, a, map_arg_free, CALL_TIMEOUT_MS, what, &id);
	if (op != NULL)
		*op = id;
	if (rc == -ETIMEDOUT) {
		snprintf(err, errlen,
				"control did not start it within %u ms; it was cancelled and nothing "
				"changed",
				CALL_TIMEOUT_MS);
		return -EBUSY;
	}
	if (rc == -EINPROGRESS) {
		snprintf(err, errlen,
				"control started it but did not finish within %u ms; it goes on: "
				"read GET /api/v1/operations/%" PRIu64 " for its outcome",
				CALL_TIMEOUT_MS, id);
		return rc;
	}
	if (rc == 0) {
		*out = a->out;
		a->out = NULL;
	} else {
		snprintf(err, errlen, "%s", a->err);
		*details = a->details;
		a->details = NULL;
	}
	map_arg_free(a);
	return rc;
}

/* Uploaded programs: the store's folder, or -ENOTSUP without a store. */
static int
uploads_dir(struct ctl_ctx *ctx, char *dir, size_t len, char *err, size_t errlen)
{
	if (ctx->store == NULL) {
		snprintf(err, errlen,
				"uploaded programs are kept next to the store: configure store.path");
		return -ENOTSUP;
	}
	ctl_bpf_prog_dir(ctl_store_path(ctx->store), dir, len);
	return 0;
}

/*
 * In force at once (a rollback, an upload with apply): name means sha now; when the policy in
 * force follows `upload:NAME` to another object, it is compiled again and put in force as a
 * reload would (a new version, source). 0: *out, the upload's record, gets "policy". Refused
 * (the policy refuses the object, or the recompile is refused or cancelled): nothing in force
 * changed; name means prev again ("": none), the upload drop (NULL: none) goes, *out is freed,
 * err says why, and -EINVAL (the policy refused it) becomes -ENOEXEC (422). -EINPROGRESS: the
 * name stays moved and control goes on compiling (*op).
 */
static int
follow_name(struct ctl_ctx *ctx, const char *dir, const char *name, const char *sha,
		const char *prev, const char *drop, const char *source, uint64_t *op, json_t **out,
		char *err, size_t errlen)
{
	char path[1200];
	struct ctl_text_result res;
	struct vg_diag diag;
	bool recompiled, undone;
	int rc;

	snprintf(path, sizeof(path), "%s/%s.o", dir, sha);
	/* As the policy's loader names it (realpath of names/NAME.o). */
	char *real = realpath(path, NULL);

	if (real != NULL) {
		snprintf(path, sizeof(path), "%s", real);
		free(real);
	}
	vg_diag_init(&diag);
	rc = ctl_api_policy_follow_upload(ctx, name, path, source, &recompiled, &diag, &res);
	if (rc == 0) {
		json_object_set_new(*out, "policy",
				recompiled ? json_pack("{s:b, s:I, s:s, s:s, s:b}", "recompiled", 1,
							     "version", (json_int_t)res.version,
							     "version_state", res.version_state,
							     "sha256", res.sha256, "unchanged",
							     res.unchanged)
					   : json_pack("{s:b}", "recompiled", 0));
		json_decref(res.summary);
	} else if (rc != -EINPROGRESS) {
		/* Nothing was put in force: the name means what it meant. */
		char why[600] = "", uerr[256] = "";

		for (unsigned i = 0; i < diag.n && why[0] == '\0'; i++) {
			const struct vg_diag_entry *d = &diag.v[i];

			if (d->sev != VG_SEV_ERROR)
				continue;
			if (d->line > 0)
				snprintf(why, sizeof(why), "%s:%u:%u: %s", d->file, d->line, d->col,
						d->msg);
			else
				snprintf(why, sizeof(why), "%s", d->msg);
		}
		undone = ctl_bpf_prog_restore(dir, name, prev, drop, uerr, sizeof(uerr)) == 0;
		json_decref(*out);
		*out = NULL;
		snprintf(err, errlen,
				"the policy in force does not compile with upload %.12s as '%s': %s; "
				"'upload:%s' still means %s%s",
				sha, name, why[0] ? why : strerror(-rc), name,
				!undone	  ? "what it meant (it could not be set back)"
				: prev[0] ? prev
					  : "nothing (no upload of that name)",
				drop == NULL ? ""
				: undone     ? "; the upload was not kept"
					     : "; the upload stays kept");
		if (rc == -EINVAL)
			rc = -ENOEXEC;
	} else {
		json_decref(*out);
		*out = NULL;
		snprintf(err, errlen,
				"'upload:%s' now means %.12s; the policy in force is being compiled "
				"again: read GET /api/v1/operations/%" PRIu64 " for its outcome",
				name, sha, res.operation);
		*op = res.operation;
	}
	vg_diag_free(&diag);
	return rc;
}

int
ctl_api_bpf_upload(struct ctl_ctx *ctx, const char *name, const void *obj, size_t len,
		const char *maps, size_t maps_len, bool apply, const char *who, uint64_t *op,
		json_t **out, char *err, size_t errlen)
{
	char dir[1024], prev[65] = "", sha[65], source[160];
	struct timespec ts;
	int rc = uploads_dir(ctx, dir, sizeof(dir), err, errlen);

	*out = NULL;
	*op = 0;
	if (rc != 0)
		return rc;
	if (apply && name != NULL)
		ctl_bpf_prog_current(dir, name, prev);
	clock_gettime(CLOCK_REALTIME, &ts);
	rc = ctl_bpf_prog_upload(dir, name, obj, len, maps, maps_len, who,
			(uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec, out, err,
			errlen);
	if (rc != 0 || !apply || name == NULL)
		return rc;
	snprintf(sha, sizeof(sha), "%s", json_string_value(json_object_get(*out, "sha256")));
	snprintf(source, sizeof(source), "bpf-upload:%s by %s", name, who);
	/* An upload this request stored goes again when the policy refuses it. */
	return follow_name(ctx, dir, name, sha, prev,
			json_is_true(json_object_get(*out, "unchanged")) ? NULL : sha, source, op,
			out, err, errlen);
}

int
ctl_api_bpf_validate(struct ctl_ctx *ctx, const void *obj, size_t len, const char *maps,
		size_t maps_len, json_t **out, char *err, size_t errlen)
{
	char dir[1024];
	bool have = uploads_dir(ctx, dir, sizeof(dir), err, errlen) == 0;

	err[0] = '\0';
	return ctl_bpf_prog_check(have ? dir : NULL, obj, len, maps, maps_len, out, err, errlen);
}

int
ctl_api_bpf_programs(struct ctl_ctx *ctx, const char *name, json_t **out, char *err, size_t errlen)
{
	char dir[1024];
	int rc = uploads_dir(ctx, dir, sizeof(dir), err, errlen);

	*out = NULL;
	return rc != 0 ? rc : ctl_bpf_prog_list(dir, name, out, err, errlen);
}

int
ctl_api_bpf_program_select(struct ctl_ctx *ctx, const char *name, const char *sha, const char *who,
		uint64_t *op, json_t **out, char *err, size_t errlen)
{
	char dir[1024], prev[65], source[160];
	int rc = uploads_dir(ctx, dir, sizeof(dir), err, errlen);

	*out = NULL;
	*op = 0;
	if (rc != 0)
		return rc;
	ctl_bpf_prog_current(dir, name, prev);
	rc = ctl_bpf_prog_select(dir, name, sha, out, err, errlen);
	if (rc != 0)
		return rc;
	snprintf(source, sizeof(source), "bpf-rollback:%s by %s", name, who);
	return follow_name(ctx, dir, name, sha, prev, NULL, source, op, out, err, errlen);
}

/* Who in the policy in force runs the object at path ("rule 'dns', prefilter 'edge'"). */
struct users_arg {
	char path[PATH_MAX]; /* a copy: an abandoned call may run after the caller returned */
	char who[512];
	unsigned n;
};

static int
users_call(struct ctl_ctx *ctx, void *p)
{
	struct users_arg *a = p;
	const struct rl_snapshot *s = dp_policy(ctx->dp);

	for (unsigned i = 0; s != NULL && i < rl_snapshot_n_rules(s) + rl_snapshot_n_prefilters(s);
			i++) {
		const char *owner;
		bool pre;
		const struct rl_bpf_prog *prog = rl_snapshot_program(s, i, &owner, &pre);
		size_t o = strlen(a->who);

		if (prog == NULL || strcmp(rl_bpf_path(prog), a->path) != 0)
			continue;
		if (o < sizeof(a->who))
			snprintf(a->who + o, sizeof(a->who) - o, "%s%s '%s'", a->n ? ", " : "",
					pre ? "prefilter" : "rule", owner);
		a->n++;
	}
	return 0;
}

int
ctl_api_bpf_program_delete(
		struct ctl_ctx *ctx, const char *sha, json_t **out, char *err, size_t errlen)
{
	char dir[1024], path[1200];
	struct users_arg *a;
	int rc = uploads_dir(ctx, dir, sizeof(dir), err, errlen);

	*out = NULL;
	if (rc != 0)
		return rc;
	if (strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64)
		return ctl_bpf_prog_delete(dir, sha, out, err, errlen); /* its message */
	snprintf(path, sizeof(path), "%s/%s.o", dir, sha);
	char *real = realpath(path, NULL);

	if (real == NULL) /* no object: nothing can run it */
		return ctl_bpf_prog_delete(dir, sha, out, err, errlen);
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		free(real);
		return -ENOMEM;
	}
	snprintf(a->path, sizeof(a->path), "%s", real);
	free(real);
	/*
	 * The policy in force is read on control, which publishes policies. (A policy compiled at
	 * this moment on another thread may still load the object before it goes: it then runs from
	 * memory, and its next compile refuses the reference.)
	 */
	rc = ctl_call(ctx->mailbox, users_call, a, free, CALL_TIMEOUT_MS);
	if (rc == -ETIMEDOUT) {
		snprintf(err, errlen, "control did not answer within %u ms; nothing was removed",
				CALL_TIMEOUT_MS);
		return -EBUSY;
	}
	if (a->n > 0) {
		snprintf(err, errlen,
				"upload %.12s is in use by the policy in force (%s): put a policy that "
				"does not name it first",
				sha, a->who);
		rc = -EEXIST;
	} else {
		rc = ctl_bpf_prog_delete(dir, sha, out, err, errlen);
	}
	free(a);
	return rc;
}
