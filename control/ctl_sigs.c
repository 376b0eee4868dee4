/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ctl_alert.h"
#include "ctl_alert_app.h"
#include "ctl_analysis.h"
#include "ctl_call.h"
#include "ctl_ctx.h"
#include "ctl_map.h"
#include "ctl_policy.h"
#include "ctl_sigs.h"
#include "ctl_store.h"
#include "det_config.h"
#include "det_thconf.h"
#include "det_engine.h"
#include "det_load.h"
#include "dp.h"
#include "dp_event.h"
#include "vg_log.h"
#include "vg_text.h"

#define MAX_GROUPS 64

/* An engine's rules by (gid, sid), sorted: alerts name their rule by those. */
struct sid_rule {
	uint32_t gid;
	uint32_t sid;
	uint32_t rule;
};

struct ctl_sigs_build {
	struct det_engine *engine;
	struct sid_rule *by_sid; /* det_engine_rule_count() entries */
	char *text;
	size_t len;
	char sha256[65];
	json_t *summary;
	char *groups[MAX_GROUPS];
	unsigned n_groups;
};

struct sid_key {
	uint32_t gid;
	uint32_t sid;
};

struct ctl_sigs {
	struct ctl_ctx *ctx;
	const struct det_config *cfg;
	int64_t local_version;
	uint64_t publish_seq; /* which publish a store answer is for */
	int vstate;	      /* enum ctl_version_state, atomic */
	struct ctl_reload reload;
	/* the start-up build runs off control (signatures.delayed): set until it is published */
	bool delayed;
	uint64_t delayed_since_ns;
	struct ctl_map *hits;	     /* (gid, sid) -> alerts seen */
	uint64_t limit_hits_retired; /* PCRE2 limit hits of the engines no longer in force */
	struct ctl_app_pairing *app; /* each worker's last TXMETA, for the alert after it */
	/* in force */
	struct det_engine *engine; /* the pointer workers see is in the dataplane */
	struct sid_rule *by_sid;   /* its rules by (gid, sid) */
	char *text;
	size_t len;
	char sha256[65];
	char *source;
	int64_t version;
	unsigned rules; /* of the engine in force, for ctl_sigs_version() */
	uint64_t applied_ns;
	json_t *summary;
	char *groups[MAX_GROUPS];
	unsigned n_groups;
	/*
	 * Group names -> engine bits, shared by every engine and policy built in this run: a name
	 * keeps its bit, so a policy and a signature set built at different times agree. The
	 * first 63 names get a bit each, later ones share the last (they select more, never
	 * less). groups_lock guards these and groups[] above (builds run on any thread).
	 */
	pthread_mutex_t groups_lock;
	char *bit_names[64];
	unsigned n_bit_names;
};

/* SIGHUP's rebuild, below. */
static int reload_build(void *owner, void **out);
static void reload_publish(void *owner, void *b);
static void reload_free(void *b);
static void reload_timed_out(void *owner, unsigned ms);

struct ctl_sigs *
ctl_sigs_create(struct ctl_ctx *ctx, const struct det_config *cfg)
{
	struct ctl_sigs *sm = calloc(1, sizeof(*sm));

	if (sm == NULL)
		return NULL;
	sm->ctx = ctx;
	sm->cfg = cfg;
	sm->reload = (struct ctl_reload){ .mailbox = ctx->mailbox,
		.owner = sm,
		.build = reload_build,
		.publish = reload_publish,
		.free_build = reload_free,
		.timed_out = reload_timed_out };
	pthread_mutex_init(&sm->groups_lock, NULL);
	sm->hits = ctl_map_create("vg_sig_hits", sizeof(struct sid_key), sizeof(uint64_t), 65536);
	sm->app = ctl_app_pairing_create();
	if (sm->hits == NULL || sm->app == NULL) {
		ctl_map_free(sm->hits);
		ctl_app_pairing_free(sm->app);
		pthread_mutex_destroy(&sm->groups_lock);
		free(sm);
		return NULL;
	}
	return sm;
}

static void
free_groups(char **g, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free(g[i]);
}

void
ctl_sigs_free(struct ctl_sigs *sm)
{
	if (sm == NULL)
		return;
	det_engine_free(dp_sigs_publish(sm->ctx->dp, NULL));
	free(sm->text);
	free(sm->source);
	json_decref(sm->summary);
	free(sm->by_sid);
	free_groups(sm->groups, sm->n_groups);
	free_groups(sm->bit_names, sm->n_bit_names);
	pthread_mutex_destroy(&sm->groups_lock);
	ctl_map_free(sm->hits);
	ctl_app_pairing_free(sm->app);
	free(sm);
}

void
ctl_sigs_build_free(struct ctl_sigs_build *b)
{
	if (b == NULL)
		return;
	det_engine_free(b->engine);
	free(b->by_sid);
	free(b->text);
	json_decref(b->summary);
	free_groups(b->groups, b->n_groups);
	free(b);
}

/*
 * Rules that are wrong, as opposed to rules Vigil cannot run. A text given through the API is
 * refused when it holds any of the first kind (the caller fixes the text); rules of the second
 * kind are skipped with a warning, as they are when files are loaded, so that a published rule
 * set with keywords Vigil lacks can still be applied.
 */
static bool
reason_is_error(enum det_reason r)
{
	switch (r) {
	case DET_R_SYNTAX:
	case DET_R_INVALID_VALUE:
	case DET_R_INVALID_COMBINATION:
	case DET_R_BAD_ADDRESS:
	case DET_R_MISSING_SID:
	case DET_R_DUPLICATE_SID:
	case DET_R_PCRE: /* does not compile */
		return true;
	default:
		return false;
	}
}

/* The rejected rules of a text as positioned diagnostics; -EINVAL when one is an error. */
static int
rejects_to_diag(const struct det_load_report *rep, struct vg_diag *diag)
{
	unsigned errors = 0;

	for (unsigned i = 0; i < DET_R__COUNT; i++)
		if (reason_is_error((enum det_reason)i))
			errors += rep->by_reason[i];
	for (unsigned i = 0; i < rep->n_rejects; i++) {
		const struct det_reject *e = &rep->rejects[i];
		bool err = reason_is_error(e->reason);

		vg_diag_add(diag, err ? VG_SEV_ERROR : VG_SEV_WARNING, e->file, e->line, e->col,
				"%s%.0u%s%s (%s)", e->sid ? "sid " : "", e->sid, e->sid ? ": " : "",
				e->msg,
				err ? det_reason_name(e->reason)
				    : "skipped: Vigil does not support this");
	}
	if (rep->rejects_dropped > 0)
		vg_diag_add(diag, VG_SEV_WARNING, NULL, 0, 0, "%u more rejected rules not listed",
				rep->rejects_dropped);
	return errors > 0 ? -EINVAL : 0;
}

/*
 * Loaded drop/reject rules that depended on a rejected rule: errors that refuse the set, unless
 * the operator accepts partial loads (then warnings). Returns -EINVAL or 0.
 */
static int
meaning_to_diag(const struct det_load_report *rep, bool partial_ok, struct vg_diag *diag)
{
	enum vg_severity sev = partial_ok ? VG_SEV_WARNING : VG_SEV_ERROR;

	for (unsigned i = 0; i < rep->n_lost; i++) {
		const struct det_lost_dep *d = &rep->lost[i];

		vg_diag_add(diag, sev, d->file, d->line, 0, "%s sid %u: %s (sid %u at %s:%u)",
				det_action_name((enum det_action)d->action), d->sid, d->msg,
				d->lost_sid, d->lost_file, d->lost_line);
	}
	if (rep->lost_dropped > 0)
		vg_diag_add(diag, sev, NULL, 0, 0, "%u more such rules not listed",
				rep->lost_dropped);
	if (partial_ok) {
		vg_diag_add(diag, VG_SEV_WARNING, NULL, 0, 0,
				"signatures: loaded with %u drop/reject rule%s whose meaning changed "
				"(signatures.partial_load is on)",
				rep->meaning_changed, rep->meaning_changed == 1 ? "" : "s");
		return 0;
	}
	vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0,
			"signature set refused: %u loaded drop/reject rule%s would not do what the rule "
			"files say, because rules they depend on were rejected (listed above); fix or "
			"remove those rules, or set signatures.partial_load: true to load the rest "
			"anyway. Nothing in force changed.",
			rep->meaning_changed, rep->meaning_changed == 1 ? "" : "s");
	return -EINVAL;
}

/* The bit of a group name (groups_lock held). */
static uint64_t
group_bit_locked(struct ctl_sigs *sm, const char *name, size_t len)
{
	char *copy;

	for (unsigned i = 0; i < sm->n_bit_names; i++)
		if (strlen(sm->bit_names[i]) == len && memcmp(sm->bit_names[i], name, len) == 0)
			return 1ULL << (i < 63 ? i : 63);
	if (sm->n_bit_names == 64 || (copy = strndup(name, len)) == NULL)
		return 1ULL << 63;
	sm->bit_names[sm->n_bit_names++] = copy;
	return 1ULL << (sm->n_bit_names - 1 < 63 ? sm->n_bit_names - 1 : 63);
}

uint64_t
ctl_sigs_group_bits(struct ctl_sigs *sm, const char *const *names, unsigned n)
{
	uint64_t bits = 0;

	pthread_mutex_lock(&sm->groups_lock);
	for (unsigned i = 0; i < n; i++)
		bits |= group_bit_locked(sm, names[i], strlen(names[i]));
	pthread_mutex_unlock(&sm->groups_lock);
	return bits;
}

/* A rule file's group: its name up to the first dot, without the directories. */
static void
group_of_path(const char *path, size_t len, const char **name, size_t *name_len)
{
	const char *base = path, *stop;

	for (const char *c = path; c < path + len; c++)
		if (*c == '/')
			base = c + 1;
	for (stop = base; stop < path + len && *stop != '.'; stop++)
		;
	*name = base;
	*name_len = (size_t)(stop - base);
}

/*
 * Give each rule of e the bit of its group: the file it came from, or in a text, the file
 * named by the last "# --- path" line above it. Rules outside any file (a text without such
 * lines) stay in every group: every inspected flow is checked against them.
 */
static void
assign_rule_groups(struct ctl_sigs *sm, struct det_engine *e, const char *text, size_t len,
		bool from_files)
{
	static const char marker[] = "# --- ";
	struct mark {
		unsigned line;
		uint64_t bit;
	} *marks = NULL;
	unsigned n_marks = 0, cap = 0, line = 1;

	pthread_mutex_lock(&sm->groups_lock);
	for (const char *p = text, *end = text + len; !from_files && p < end; line++) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((eol ? eol : end) - p);

		if (n > sizeof(marker) - 1 && memcmp(p, marker, sizeof(marker) - 1) == 0) {
			const char *g;
			size_t gl;

			if (n_marks == cap) {
				struct mark *m = realloc(marks, (cap ? cap * 2 : 8) * sizeof(*m));

				if (m == NULL)
					break;
				marks = m;
				cap = cap ? cap * 2 : 8;
			}
			group_of_path(p + sizeof(marker) - 1, n - (sizeof(marker) - 1), &g, &gl);
			marks[n_marks++] = (struct mark){ line, group_bit_locked(sm, g, gl) };
		}
		p = eol ? eol + 1 : end;
	}
	for (uint32_t i = 0; i < det_engine_rule_count(e); i++) {
		const struct det_rule_info *ri = det_engine_rule_info(e, i);
		uint64_t bits = UINT64_MAX;

		if (from_files && ri->file != NULL) {
			const char *g;
			size_t gl;

			group_of_path(ri->file, strlen(ri->file), &g, &gl);
			bits = group_bit_locked(sm, g, gl);
		}
		for (unsigned k = 0; k < n_marks && marks[k].line < ri->line; k++)
			bits = marks[k].bit;
		det_engine_set_rule_groups(e, i, bits);
	}
	pthread_mutex_unlock(&sm->groups_lock);
	free(marks);
}

static int
by_sid_cmp(const void *a, const void *b)
{
	const struct sid_rule *x = a, *y = b;

	if (x->gid != y->gid)
		return x->gid < y->gid ? -1 : 1;
	return x->sid < y->sid ? -1 : x->sid > y->sid;
}

/* e's rules sorted by (gid, sid); sids are unique in a set. NULL on ENOMEM. */
static struct sid_rule *
index_by_sid(const struct det_engine *e)
{
	unsigned n = det_engine_rule_count(e);
	struct sid_rule *v = calloc(n ? n : 1, sizeof(*v));

	if (v == NULL)
		return NULL;
	for (uint32_t i = 0; i < n; i++) {
		const struct det_rule_info *ri = det_engine_rule_info(e, i);

		v[i] = (struct sid_rule){ ri->gid, ri->sid, i };
	}
	qsort(v, n, sizeof(*v), by_sid_cmp);
	return v;
}

/* The rule of the set in force with this gid and sid, or NULL (control lcore). */
static const struct det_rule_info *
rule_by_sid(const struct ctl_sigs *sm, uint32_t gid, uint32_t sid)
{
	const struct sid_rule key = { gid, sid, 0 }, *hit;

	if (sm->engine == NULL || sm->by_sid == NULL)
		return NULL;
	hit = bsearch(&key, sm->by_sid, det_engine_rule_count(sm->engine), sizeof(key), by_sid_cmp);
	return hit != NULL ? det_engine_rule_info(sm->engine, hit->rule) : NULL;
}

/* Load a set (from paths or a text) and compile it; the set's text is kept for versions. */
static int
build(struct ctl_sigs *sm, const char *name, const char *text, size_t len, bool from_files,
		struct vg_diag *diag, struct ctl_sigs_build **out)
{
	struct det_load_opts lo;
	struct det_load_report rep;
	struct det_compile_report crep;
	struct ctl_sigs_build *b = calloc(1, sizeof(*b));
	struct det_set *set;
	int rc = 0;

	*out = NULL;
	if (b == NULL)
		return -ENOMEM;
	if (!from_files && vg_text_check_diag(diag, name, text, len, sm->cfg->max_size,
					   "signatures.max_size") != 0) {
		free(b);
		return -EINVAL;
	}
	det_config_load_opts(sm->cfg, &lo);
	det_load_report_init(&rep);
	memset(&crep, 0, sizeof(crep));
	set = from_files ? det_load((const char *const *)sm->cfg->paths, sm->cfg->n_paths, &lo,
					   &rep, diag)
			 : det_load_buf(name, text, len, &lo, &rep, diag);
	if (set == NULL) {
		rc = -EINVAL;
		goto out;
	}
	/* Every rejected rule is a diagnostic at its line. A text (the API) with an error in it
	 * is refused; rule files load what they can, the rest is logged and in the report. */
	rc = rejects_to_diag(&rep, diag);
	if (from_files)
		rc = 0;
	/* ... unless what loads would mean something else than the files say. */
	if (rc == 0 && rep.meaning_changed > 0)
		rc = meaning_to_diag(&rep, sm->cfg->partial_load, diag);
	if (rc != 0) {
		det_set_free(set);
		goto out;
	}
	b->engine = det_compile(set, &sm->cfg->compile, &crep, diag);
	det_set_free(set);
	if (b->engine == NULL) {
		rc = vg_diag_has_errors(diag) ? -EINVAL : -ENOMEM;
		goto out;
	}
	if (det_engine_counters_alloc(b->engine, dp_n_workers(sm->ctx->dp)) != 0) {
		rc = -ENOMEM;
		goto out;
	}
	/* threshold.config is read with every build, so a reload picks up its changes; a bad
	 * line refuses the whole set, as a bad rule in a text does */
	if (sm->cfg->threshold_file != NULL) {
		struct det_thconf *tc = NULL;

		rc = det_thconf_load(sm->cfg->threshold_file, sm->cfg->vars, diag, &tc);
		if (rc == 0)
			rc = det_thconf_apply(b->engine, tc, diag);
		det_thconf_free(tc);
		if (rc != 0) {
			if (rc != -ENOMEM)
				vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0,
						"signature set refused because of its threshold "
						"file; nothing in force changed");
			rc = rc == -ENOMEM ? -ENOMEM : -EINVAL;
			goto out;
		}
	}
	assign_rule_groups(sm, b->engine, text, len, from_files);
	b->by_sid = index_by_sid(b->engine);
	if (b->by_sid == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	b->summary = json_pack("{s:o, s:o}", "load", det_load_report_json(&rep), "compile",
			det_compile_report_json(&crep));
	b->text = malloc(len + 1);
	if (b->text == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(b->text, text, len);
	b->text[len] = '\0';
	b->len = len;
	ctl_store_sha256_hex(text, len, b->sha256);
out:
	det_load_report_free(&rep);
	det_compile_report_free(&crep);
	if (rc != 0) {
		ctl_sigs_build_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

/*
 * Append a rule file to the set's text, checked as the API checks a text: UTF-8 without NUL
 * (an error names the file, line, column and byte offset) and the whole set within max bytes.
 */
static int
append_file(FILE *mem, const char *path, struct ctl_sigs_build *b, size_t *total, size_t max,
		struct vg_diag *diag)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, n;
	FILE *fm = open_memstream(&text, &len);
	char buf[65536];
	const char *base = strrchr(path, '/');
	int rc;

	if (f == NULL || fm == NULL) {
		rc = f == NULL ? -errno : -ENOMEM;
		vg_diag_add(diag, VG_SEV_ERROR, path, 0, 0, "cannot read: %s", strerror(-rc));
		if (f != NULL)
			fclose(f);
		if (fm != NULL)
			fclose(fm);
		free(text);
		return rc;
	}
	/* No more than one buffer past the limit is read. */
	while (*total + len <= max && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		fwrite(buf, 1, n, fm);
		fflush(fm);
	}
	fclose(f);
	fclose(fm);
	if (*total + len > max) {
		vg_diag_add(diag, VG_SEV_ERROR, path, 0, 0,
				"the rule files hold more than the %zu bytes signatures.max_size "
				"allows",
				max);
		free(text);
		return -EINVAL;
	}
	if (vg_text_check_diag(diag, path, text, len, 0, NULL) != 0) {
		free(text);
		return -EINVAL;
	}
	fprintf(mem, "# --- %s\n", path);
	fwrite(text, 1, len, mem);
	fputc('\n', mem);
	free(text);
	*total += len;
	base = base ? base + 1 : path;
	if (b->n_groups < MAX_GROUPS)
		b->groups[b->n_groups++] = strndup(base, strcspn(base, "."));
	return 0;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
rules_filter(const struct dirent *e)
{
	size_t l = strlen(e->d_name);

	return l > 6 && strcmp(e->d_name + l - 6, ".rules") == 0;
}

int
ctl_sigs_build_files(struct ctl_sigs *sm, struct vg_diag *diag, struct ctl_sigs_build **out)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	struct ctl_sigs_build groups = { .n_groups = 0 };
	size_t total = 0;
	int rc = 0;

	*out = NULL;
	if (mem == NULL)
		return -ENOMEM;
	/* The text of a file-based set: every rule file, in load order, for versions. */
	for (unsigned i = 0; i < sm->cfg->n_paths && rc == 0; i++) {
		const char *p = sm->cfg->paths[i];
		struct stat st;

		if (stat(p, &st) != 0) {
			rc = -errno;
			vg_diag_add(diag, VG_SEV_ERROR, p, 0, 0, "cannot read: %s", strerror(-rc));
			break;
		}
		if (!S_ISDIR(st.st_mode)) {
			rc = append_file(mem, p, &groups, &total, sm->cfg->max_size, diag);
			continue;
		}
		struct dirent **list;
		int n = scandir(p, &list, rules_filter, by_name);

		for (int k = 0; k < n; k++) {
			char full[4096];

			snprintf(full, sizeof(full), "%s/%s", p, list[k]->d_name);
			if (rc == 0)
				rc = append_file(mem, full, &groups, &total, sm->cfg->max_size,
						diag);
			free(list[k]);
		}
		free(list);
	}
	fclose(mem);
	if (rc == 0)
		rc = build(sm, "signatures", text, len, true, diag, out);
	if (rc == 0) {
		memcpy((*out)->groups, groups.groups, sizeof(groups.groups));
		(*out)->n_groups = groups.n_groups;
	} else {
		free_groups(groups.groups, groups.n_groups);
	}
	free(text);
	return rc;
}

static void
add_group_name(const char *path, char **names, unsigned *n)
{
	const char *g;
	size_t gl;

	group_of_path(path, strlen(path), &g, &gl);
	if ((names[*n] = strndup(g, gl)) != NULL)
		(*n)++;
}

unsigned
ctl_sigs_config_groups(const struct det_config *cfg, char **names, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < cfg->n_paths && n < max; i++) {
		const char *p = cfg->paths[i];
		struct dirent **list;
		struct stat st;
		int k;

		if (stat(p, &st) != 0)
			continue; /* loading the signatures says why */
		if (!S_ISDIR(st.st_mode)) {
			add_group_name(p, names, &n);
			continue;
		}
		k = scandir(p, &list, rules_filter, by_name);
		for (int j = 0; j < k; j++) {
			if (n < max)
				add_group_name(list[j]->d_name, names, &n);
			free(list[j]);
		}
		if (k >= 0)
			free(list);
	}
	return n;
}

/*
 * A text that came from files (a stored version of them, rolled back or edited through the API)
 * still names its files in "# --- path" lines: their names stay the groups `inspect` selects.
 */
static void
groups_from_text(struct ctl_sigs_build *b, const char *text, size_t len)
{
	static const char marker[] = "# --- ";
	const char *p = text, *end = text + len;

	while (p < end && b->n_groups < MAX_GROUPS) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((eol ? eol : end) - p);

		if (n > sizeof(marker) - 1 && memcmp(p, marker, sizeof(marker) - 1) == 0) {
			const char *path = p + sizeof(marker) - 1, *base = path, *stop;

			for (const char *c = path; c < p + n; c++)
				if (*c == '/')
					base = c + 1;
			for (stop = base; stop < p + n && *stop != '.'; stop++)
				;
			b->groups[b->n_groups] = strndup(base, (size_t)(stop - base));
			if (b->groups[b->n_groups] != NULL)
				b->n_groups++;
		}
		p = eol ? eol + 1 : end;
	}
}

int
ctl_sigs_build_text(struct ctl_sigs *sm, const char *name, const char *text, size_t len,
		struct vg_diag *diag, struct ctl_sigs_build **out)
{
	int rc = build(sm, name, text, len, false, diag, out);

	if (rc == 0)
		groups_from_text(*out, text, len);
	return rc;
}

json_t *
ctl_sigs_build_summary(const struct ctl_sigs_build *b)
{
	return b->summary;
}

const char *
ctl_sigs_build_sha256(const struct ctl_sigs_build *b)
{
	return b->sha256;
}

/* Control lcore: the store wrote (or lost) the version of publish number cookie. */
static void
version_recorded(void *arg, uint64_t cookie, int rc, int64_t id)
{
	struct ctl_sigs *sm = arg;

	if (cookie != sm->publish_seq)
		return;
	if (rc != 0) {
		__atomic_store_n(&sm->vstate, CTL_VERSION_UNRECORDED, __ATOMIC_RELEASE);
		CTL_LOG(WARNING, "signatures: the version in force could not be recorded (%s)",
				strerror(-rc));
		return;
	}
	__atomic_store_n(&sm->version, id, __ATOMIC_RELEASE);
	__atomic_store_n(&sm->vstate, CTL_VERSION_RECORDED, __ATOMIC_RELEASE);
	CTL_LOG(NOTICE, "signatures: the set in force is recorded as version %lld", (long long)id);
}

/* Every limit hit of an engine's rules. */
static uint64_t
engine_limit_hits(const struct det_engine *e)
{
	uint64_t n = 0;

	for (uint32_t r = 0; e != NULL && r < det_engine_rule_count(e); r++)
		n += det_engine_rule_limit_hits(e, r);
	return n;
}

int
ctl_sigs_version_state(const struct ctl_sigs *sm)
{
	return __atomic_load_n(&sm->vstate, __ATOMIC_ACQUIRE);
}

int
ctl_sigs_publish(struct ctl_sigs *sm, struct ctl_sigs_build *b, const char *source,
		struct ctl_store_ticket *t, int64_t *version)
{
	struct ctl_ctx *ctx = sm->ctx;
	int64_t id = 0;
	int state = CTL_VERSION_RECORDED;
	char *src = strdup(source);

	if (src == NULL) {
		ctl_sigs_build_free(b);
		return -ENOMEM;
	}
	struct det_engine *old = dp_sigs_publish(ctx->dp, b->engine);

	/* every worker has left the old engine: its counts are final */
	sm->limit_hits_retired += engine_limit_hits(old);
	det_engine_free(old);
	sm->engine = b->engine;
	b->engine = NULL;
	free(sm->by_sid);
	sm->by_sid = b->by_sid;
	b->by_sid = NULL;
	sm->publish_seq++;
	if (ctx->store == NULL) {
		id = ++sm->local_version; /* nothing stored: no id can collide with a stored one */
	} else if (ctl_store_put_version(ctx->store, "signatures", b->text, b->len, source,
				   "applied", version_recorded, sm, sm->publish_seq, t) == 0) {
		state = CTL_VERSION_PENDING;
	} else {
		state = CTL_VERSION_UNRECORDED;
		CTL_LOG(WARNING, "signatures: the store's queue is full; this version is "
				 "unrecorded and has no version id");
	}
	free(sm->text);
	free(sm->source);
	json_decref(sm->summary);
	sm->text = b->text;
	sm->len = b->len;
	b->text = NULL;
	sm->summary = b->summary;
	b->summary = NULL;
	memcpy(sm->sha256, b->sha256, sizeof(sm->sha256));
	/* A text without "# --- path" lines has no groups: its rules apply to every group. */
	pthread_mutex_lock(&sm->groups_lock);
	free_groups(sm->groups, sm->n_groups);
	memcpy(sm->groups, b->groups, sizeof(b->groups));
	sm->n_groups = b->n_groups;
	b->n_groups = 0;
	pthread_mutex_unlock(&sm->groups_lock);
	sm->source = src;
	__atomic_store_n(&sm->rules, det_engine_rule_count(sm->engine), __ATOMIC_RELAXED);
	__atomic_store_n(&sm->version, id, __ATOMIC_RELEASE); /* read by ctl_sigs_version() */
	__atomic_store_n(&sm->vstate, state, __ATOMIC_RELEASE);
	sm->applied_ns = ctl_wall_ns();
	CTL_LOG(NOTICE, "signatures version %lld in force (%u rules, %s, sha256 %.12s)",
			(long long)id, det_engine_rule_count(sm->engine), source, sm->sha256);
	ctl_sigs_build_free(b);
	if (version != NULL)
		*version = id;
	return 0;
}

void
ctl_sigs_current(const struct ctl_sigs *sm, struct ctl_sigs_current *cur)
{
	cur->text = sm->text;
	cur->len = sm->len;
	cur->sha256 = sm->sha256;
	cur->version = sm->version;
	cur->source = sm->source;
	cur->applied_ns = sm->applied_ns;
	cur->rules = sm->engine != NULL ? det_engine_rule_count(sm->engine) : 0;
}

json_t *
ctl_sigs_report(const struct ctl_sigs *sm)
{
	return sm->summary != NULL ? json_incref(sm->summary) : json_object();
}

json_t *
ctl_sigs_counters(const struct ctl_sigs *sm)
{
	json_t *out = json_array(), *by_key = json_object();
	uint32_t it = 0;
	const void *k;
	void *v;
	char key[32];

	while (out != NULL && by_key != NULL && ctl_map_next(sm->hits, &it, &k, &v)) {
		const struct sid_key *sk = k;
		const struct det_rule_info *ri = rule_by_sid(sm, sk->gid, sk->sid);
		const char *msg = ri != NULL ? ri->msg : "";
		json_t *o = json_pack("{s:I, s:I, s:s, s:I, s:I}", "gid", (json_int_t)sk->gid,
				"sid", (json_int_t)sk->sid, "msg", msg, "alerts",
				(json_int_t) * (const uint64_t *)v, "pcre_limit_hits",
				(json_int_t)0);

		snprintf(key, sizeof(key), "%u:%u", sk->gid, sk->sid);
		json_object_set(by_key, key, o);
		json_array_append_new(out, o);
	}
	/* the rules of the set in force whose pcre reached a PCRE2 limit */
	for (uint32_t r = 0; out != NULL && by_key != NULL && sm->engine != NULL &&
			     r < det_engine_rule_count(sm->engine);
			r++) {
		uint64_t n = det_engine_rule_limit_hits(sm->engine, r);
		const struct det_rule_info *ri;
		json_t *o;

		if (n == 0)
			continue;
		ri = det_engine_rule_info(sm->engine, r);
		snprintf(key, sizeof(key), "%u:%u", ri->gid, ri->sid);
		o = json_object_get(by_key, key);
		if (o == NULL) {
			o = json_pack("{s:I, s:I, s:s, s:I}", "gid", (json_int_t)ri->gid, "sid",
					(json_int_t)ri->sid, "msg", ri->msg, "alerts",
					(json_int_t)0);
			json_array_append_new(out, o);
		}
		json_object_set_new(o, "pcre_limit_hits", json_integer((json_int_t)n));
	}
	json_decref(by_key);
	return out;
}

uint64_t
ctl_sigs_limit_hits(const struct ctl_sigs *sm)
{
	return sm->limit_hits_retired + engine_limit_hits(sm->engine);
}

unsigned
ctl_sigs_groups(struct ctl_sigs *sm, char **names, unsigned max)
{
	unsigned n = 0;

	pthread_mutex_lock(&sm->groups_lock);
	for (unsigned i = 0; i < sm->n_groups && n < max; i++)
		if ((names[n] = strdup(sm->groups[i])) != NULL)
			n++;
	pthread_mutex_unlock(&sm->groups_lock);
	return n;
}

/* Suricata's priorities: 1 is the most severe. */
static enum ctl_severity
severity_of(uint8_t priority)
{
	if (priority <= 1)
		return CTL_SEV_HIGH;
	if (priority == 2)
		return CTL_SEV_MEDIUM;
	return CTL_SEV_LOW;
}

void
ctl_sigs_on_alert(struct ctl_sigs *sm, const struct dp_event *ev, struct ctl_analysis *an)
{
	struct sid_key k;
	const struct det_rule_info *ri;
	struct ctl_alert a;
	bool added;
	uint64_t *hits;

	if (ev->type == DP_EV_TXMETA) {
		ctl_app_pairing_keep(sm->app, ev);
		return;
	}
	if (ev->type != DP_EV_ALERT)
		return;
	k = (struct sid_key){ .gid = ev->alert.gid, .sid = ev->alert.sid };
	ri = rule_by_sid(sm, k.gid, k.sid);
	hits = ctl_map_get(sm->hits, &k, &added);
	if (hits != NULL)
		(*hits)++;
	/* EVE's category is the classification's description, as Suricata writes it. */
	const char *category = ri == NULL		  ? NULL
			       : ri->classdesc[0] != '\0' ? ri->classdesc
							  : ri->classtype;

	ctl_alert_from_event(ev, ri != NULL ? ri->msg : NULL, category,
			ri != NULL ? severity_of(ri->priority) : 0, &a);
	ctl_app_pairing_attach(sm->app, ev, &a);
	ctl_analysis_alert(an, &a);
}

json_t *
ctl_sigs_app_counters(const struct ctl_sigs *sm)
{
	struct ctl_app_pairing_counters c;

	ctl_app_pairing_counters(sm->app, &c);
	return json_pack("{s:I, s:I, s:I}", "attached", (json_int_t)c.attached, "missing",
			(json_int_t)c.missing, "unpaired", (json_int_t)c.unpaired);
}

static void
log_entry(const struct vg_diag_entry *e)
{
	uint32_t level = e->sev == VG_SEV_ERROR ? RTE_LOG_ERR : RTE_LOG_WARNING;

	if (e->line > 0)
		vg_log(level, vg_logtype_ctl, "signatures", "%s:%u: %s", e->file, e->line, e->msg);
	else
		vg_log(level, vg_logtype_ctl, "signatures", "%s", e->msg);
}

void
ctl_sigs_log_diag(const struct vg_diag *d, unsigned max_warnings)
{
	unsigned shown = 0, skipped = 0;

	/* What refused the set first, then the first rules that were only skipped. */
	for (unsigned i = 0; i < d->n; i++)
		if (d->v[i].sev == VG_SEV_ERROR)
			log_entry(&d->v[i]);
	for (unsigned i = 0; i < d->n; i++) {
		if (d->v[i].sev != VG_SEV_WARNING)
			continue;
		if (shown++ < max_warnings)
			log_entry(&d->v[i]);
		else
			skipped++;
	}
	if (skipped > 0)
		CTL_LOG(WARNING,
				"... and %u more signature warnings (GET /api/v1/signatures/report "
				"lists every rejected rule)",
				skipped);
}

/* SIGHUP: build off control, publish through the mailbox (ctl_reload). */
static int
reload_build(void *owner, void **out)
{
	struct vg_diag diag;
	int rc;

	struct ctl_sigs *sm = owner;
	const bool delayed = __atomic_load_n(&sm->delayed, __ATOMIC_ACQUIRE);

	vg_diag_init(&diag);
	rc = ctl_sigs_build_files(owner, &diag, (struct ctl_sigs_build **)out);
	ctl_sigs_log_diag(&diag, delayed ? 50 : 20);
	if (rc != 0 && delayed)
		CTL_LOG(ERR, "signatures: the delayed build failed (above); flows to inspect stay "
			     "under exceptions.signatures_loading until SIGHUP or the API puts a "
			     "set in force");
	else if (rc != 0)
		CTL_LOG(ERR, "signature reload failed; the set in force is unchanged");
	vg_diag_free(&diag);
	return rc;
}

static void
reload_publish(void *owner, void *b)
{
	struct ctl_sigs *sm = owner;

	if (__atomic_load_n(&sm->delayed, __ATOMIC_ACQUIRE)) {
		unsigned rules = 0;

		ctl_sigs_publish(owner, b, "files", NULL, NULL);
		__atomic_store_n(&sm->delayed, false, __ATOMIC_RELEASE);
		ctl_sigs_version(sm, &rules);
		CTL_LOG(NOTICE, "signatures: %u rules in force, %.1f s after the start (delayed)",
				rules, (double)(ctl_wall_ns() - sm->delayed_since_ns) / 1e9);
		return;
	}
	ctl_sigs_publish(owner, b, "sighup", NULL, NULL);
}

static void
reload_free(void *b)
{
	ctl_sigs_build_free(b);
}

static void
reload_timed_out(void *owner, unsigned ms)
{
	(void)owner;
	CTL_LOG(ERR, "signature reload: control did not publish within %u ms", ms);
}

void
ctl_sigs_reload_async(struct ctl_sigs *sm)
{
	if (sm->cfg->n_paths == 0 || ctl_reload_running(&sm->reload))
		return;
	CTL_LOG(NOTICE, "SIGHUP: reloading signatures");
	ctl_reload_start(&sm->reload);
}

int
ctl_sigs_load_delayed(struct ctl_sigs *sm)
{
	int rc;

	if (sm->cfg->n_paths == 0)
		return 0;
	__atomic_store_n(&sm->delayed, true, __ATOMIC_RELEASE);
	sm->delayed_since_ns = ctl_wall_ns();
	dp_set_sigs_pending(sm->ctx->dp, true);
	rc = ctl_reload_start(&sm->reload);
	if (rc != 0) {
		__atomic_store_n(&sm->delayed, false, __ATOMIC_RELEASE);
		dp_set_sigs_pending(sm->ctx->dp, false);
	}
	return rc;
}

bool
ctl_sigs_loading(const struct ctl_sigs *sm)
{
	return sm != NULL && dp_sigs_pending(sm->ctx->dp);
}

bool
ctl_sigs_reloading(const struct ctl_sigs *sm)
{
	return ctl_reload_running(&sm->reload);
}

int64_t
ctl_sigs_version(const struct ctl_sigs *sm, unsigned *rules)
{
	int64_t v = __atomic_load_n(&sm->version, __ATOMIC_ACQUIRE);

	if (rules != NULL)
		*rules = __atomic_load_n(&sm->rules, __ATOMIC_RELAXED);
	return v;
}
