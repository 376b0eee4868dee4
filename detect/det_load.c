/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "al.h"
#include "det_load.h"
#include "det_partial.h"

/* Longest rule accepted (continuation lines joined). */
#define RULE_MAX_LEN (256 * 1024)
/* Largest rule file read. */
#define FILE_MAX_LEN (256ull * 1024 * 1024)

struct det_set {
	atomic_uint refs;
	struct det_rule **rules;
	unsigned n, cap;
	/* gid:sid -> index + 1, open addressing */
	uint64_t *keys;
	uint32_t *vals;
	unsigned hcap;
};

void
det_load_opts_default(struct det_load_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->app_proto_ports = true;
}

/* ---- report ---- */

void
det_load_report_init(struct det_load_report *r)
{
	memset(r, 0, sizeof(*r));
}

void
det_load_report_free(struct det_load_report *r)
{
	if (r == NULL)
		return;
	for (unsigned i = 0; i < r->n_keywords; i++)
		free(r->keywords[i].keyword);
	free(r->keywords);
	for (unsigned i = 0; i < r->n_rejects; i++) {
		free(r->rejects[i].file);
		free(r->rejects[i].keyword);
		free(r->rejects[i].msg);
	}
	for (unsigned i = 0; i < r->n_lost; i++) {
		free(r->lost[i].file);
		free(r->lost[i].lost_file);
		free(r->lost[i].msg);
	}
	free(r->lost);
	free(r->rejects);
	det_load_report_init(r);
}

static void
report_keyword(struct det_load_report *r, const char *kw)
{
	unsigned i;

	for (i = 0; i < r->n_keywords; i++)
		if (strcmp(r->keywords[i].keyword, kw) == 0) {
			r->keywords[i].count++;
			break;
		}
	if (i == r->n_keywords) {
		struct det_kwcount *v = realloc(r->keywords, (r->n_keywords + 1) * sizeof(*v));
		char *k = strdup(kw);

		if (v == NULL || k == NULL) {
			if (v != NULL)
				r->keywords = v;
			free(k);
			return;
		}
		r->keywords = v;
		r->keywords[r->n_keywords].keyword = k;
		r->keywords[r->n_keywords].count = 1;
		i = r->n_keywords++;
	}
	/* keep most frequent first: bubble the entry up */
	while (i > 0 && r->keywords[i].count > r->keywords[i - 1].count) {
		struct det_kwcount t = r->keywords[i];

		r->keywords[i] = r->keywords[i - 1];
		r->keywords[i - 1] = t;
		i--;
	}
}

static void
report_reject(struct det_load_report *r, const char *file, unsigned line, unsigned col,
		uint32_t sid, enum det_reason reason, const char *kw, const char *msg)
{
	struct det_reject *e;

	r->rejected++;
	r->by_reason[reason]++;
	if (reason == DET_R_UNSUPPORTED_KEYWORD || reason == DET_R_UNKNOWN_KEYWORD)
		report_keyword(r, kw);
	if (r->n_rejects >= DET_LOAD_REPORT_MAX_REJECTS) {
		r->rejects_dropped++;
		return;
	}
	if (r->n_rejects % 64 == 0) {
		struct det_reject *v = realloc(r->rejects, (r->n_rejects + 64) * sizeof(*v));

		if (v == NULL) {
			r->rejects_dropped++;
			return;
		}
		r->rejects = v;
	}
	e = &r->rejects[r->n_rejects];
	e->file = strdup(file);
	e->keyword = strdup(kw);
	e->msg = strdup(msg);
	if (e->file == NULL || e->keyword == NULL || e->msg == NULL) {
		free(e->file);
		free(e->keyword);
		free(e->msg);
		r->rejects_dropped++;
		return;
	}
	e->line = line;
	e->col = col;
	e->sid = sid;
	e->reason = reason;
	r->n_rejects++;
}

void
det_load_report_print(const struct det_load_report *r, FILE *out, bool verbose)
{
	bool first = true;

	fprintf(out, "signatures: %u file%s, %u rules: %u loaded, %u rejected", r->files,
			r->files == 1 ? "" : "s", r->rules, r->loaded, r->rejected);
	if (r->commented)
		fprintf(out, " (%u commented out)", r->commented);
	if (r->file_errors)
		fprintf(out, "; %u path%s could not be read", r->file_errors,
				r->file_errors == 1 ? "" : "s");
	fprintf(out, "\n");
	if (r->tx)
		fprintf(out, "  %u loaded rules inspect application-layer transactions\n", r->tx);
	if (r->approximated)
		fprintf(out,
				"  %u loaded rules name an application protocol Vigil has no parser "
				"for, matched by its well-known ports\n",
				r->approximated);
	for (unsigned i = 0; i < DET_R__COUNT; i++) {
		if (r->by_reason[i] == 0)
			continue;
		fprintf(out, "%s%s %u", first ? "  rejected by reason: " : ", ",
				det_reason_name((enum det_reason)i), r->by_reason[i]);
		first = false;
	}
	if (!first)
		fprintf(out, "\n");
	for (unsigned i = 0; i < r->n_keywords; i++)
		fprintf(out, "%s%s %u", i == 0 ? "  keywords not supported: " : ", ",
				r->keywords[i].keyword, r->keywords[i].count);
	if (r->n_keywords)
		fprintf(out, "\n");
	if (r->meaning_changed)
		fprintf(out,
				"  what loaded means something else: %u drop/reject rule dependenc%s on "
				"rejected rules (%u rejected pass rule%s)\n",
				r->meaning_changed, r->meaning_changed == 1 ? "y" : "ies",
				r->rejected_pass, r->rejected_pass == 1 ? "" : "s");
	/* These are always listed: each is a rule in force doing what its author did not mean. */
	for (unsigned i = 0; i < r->n_lost; i++) {
		const struct det_lost_dep *d = &r->lost[i];

		fprintf(out, "%s:%u: %s sid %u: %s (sid %u at %s:%u)\n", d->file, d->line,
				det_action_name((enum det_action)d->action), d->sid, d->msg,
				d->lost_sid, d->lost_file, d->lost_line);
	}
	if (r->lost_dropped)
		fprintf(out, "(%u more such rules not listed)\n", r->lost_dropped);
	if (!verbose)
		return;
	for (unsigned i = 0; i < r->n_rejects; i++) {
		const struct det_reject *e = &r->rejects[i];

		fprintf(out, "%s:%u:%u: error: ", e->file, e->line, e->col);
		if (e->sid)
			fprintf(out, "sid %u: ", e->sid);
		fprintf(out, "%s\n", e->msg);
	}
	if (r->rejects_dropped)
		fprintf(out, "(%u more rejected rules not listed)\n", r->rejects_dropped);
}

json_t *
det_load_report_json(const struct det_load_report *r)
{
	json_t *o = json_object(), *reasons = json_object(), *kws = json_object(),
	       *rej = json_array(), *lost = json_array();

	if (o == NULL || reasons == NULL || kws == NULL || rej == NULL || lost == NULL)
		goto nomem;
	for (unsigned i = 0; i < DET_R__COUNT; i++)
		if (r->by_reason[i] &&
				json_object_set_new(reasons, det_reason_name((enum det_reason)i),
						json_integer(r->by_reason[i])) != 0)
			goto nomem;
	for (unsigned i = 0; i < r->n_keywords; i++)
		if (json_object_set_new(kws, r->keywords[i].keyword,
				    json_integer(r->keywords[i].count)) != 0)
			goto nomem;
	for (unsigned i = 0; i < r->n_lost; i++) {
		const struct det_lost_dep *d = &r->lost[i];
		json_t *j = json_pack("{s:s, s:i, s:I, s:s, s:s, s:{s:s, s:i, s:I}}", "file",
				d->file, "line", (int)d->line, "sid", (json_int_t)d->sid, "action",
				det_action_name((enum det_action)d->action), "message", d->msg,
				"rejected", "file", d->lost_file, "line", (int)d->lost_line, "sid",
				(json_int_t)d->lost_sid);

		if (j == NULL || json_array_append_new(lost, j) != 0)
			goto nomem;
	}
	for (unsigned i = 0; i < r->n_rejects; i++) {
		const struct det_reject *e = &r->rejects[i];
		json_t *j = json_pack("{s:s, s:i, s:i, s:I, s:s, s:s, s:s}", "file", e->file,
				"line", (int)e->line, "column", (int)e->col, "sid",
				(json_int_t)e->sid, "reason", det_reason_name(e->reason), "keyword",
				e->keyword, "message", e->msg);

		if (j == NULL || json_array_append_new(rej, j) != 0)
			goto nomem;
	}
	if (json_object_set_new(o, "files", json_integer(r->files)) != 0 ||
			json_object_set_new(o, "file_errors", json_integer(r->file_errors)) != 0 ||
			json_object_set_new(o, "rules", json_integer(r->rules)) != 0 ||
			json_object_set_new(o, "loaded", json_integer(r->loaded)) != 0 ||
			json_object_set_new(o, "rejected", json_integer(r->rejected)) != 0 ||
			json_object_set_new(o, "commented", json_integer(r->commented)) != 0 ||
			json_object_set_new(o, "approximated", json_integer(r->approximated)) !=
					0 ||
			json_object_set_new(o, "tx", json_integer(r->tx)) != 0 ||
			json_object_set_new(o, "rejects_dropped",
					json_integer(r->rejects_dropped)) != 0 ||
			json_object_set_new(o, "rejected_pass", json_integer(r->rejected_pass)) !=
					0 ||
			json_object_set_new(o, "meaning_changed",
					json_integer(r->meaning_changed)) != 0 ||
			json_object_set_new(o, "lost_dropped", json_integer(r->lost_dropped)) !=
					0 ||
			json_object_set_new(o, "lost", lost) != 0 ||
			json_object_set_new(o, "by_reason", reasons) != 0)
		goto nomem_r;
	reasons = NULL;
	if (json_object_set_new(o, "keywords", kws) != 0)
		goto nomem_k;
	kws = NULL;
	if (json_object_set_new(o, "rejects", rej) != 0)
		goto nomem_j;
	return o;
nomem:
	json_decref(reasons);
	json_decref(lost);
nomem_r:
	json_decref(kws);
nomem_k:
	json_decref(rej);
nomem_j:
	json_decref(o);
	errno = ENOMEM;
	return NULL;
}

/* ---- set ---- */

static uint64_t
sid_key(uint32_t gid, uint32_t sid)
{
	return (uint64_t)gid << 32 | sid;
}

static unsigned
sid_slot(uint64_t key, unsigned cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (unsigned)(key & (cap - 1));
}

static int
set_grow_hash(struct det_set *s)
{
	unsigned cap = s->hcap ? s->hcap * 2 : 1024;
	uint64_t *keys = calloc(cap, sizeof(*keys));
	uint32_t *vals = calloc(cap, sizeof(*vals));

	if (keys == NULL || vals == NULL) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < s->hcap; i++) {
		unsigned j;

		if (s->vals[i] == 0)
			continue;
		for (j = sid_slot(s->keys[i], cap); vals[j] != 0; j = (j + 1) & (cap - 1))
			;
		keys[j] = s->keys[i];
		vals[j] = s->vals[i];
	}
	free(s->keys);
	free(s->vals);
	s->keys = keys;
	s->vals = vals;
	s->hcap = cap;
	return 0;
}

int
det_set_find(const struct det_set *s, uint32_t gid, uint32_t sid)
{
	uint64_t key = sid_key(gid, sid);

	if (s == NULL || s->hcap == 0)
		return -1;
	for (unsigned j = sid_slot(key, s->hcap); s->vals[j] != 0; j = (j + 1) & (s->hcap - 1))
		if (s->keys[j] == key)
			return (int)s->vals[j] - 1;
	return -1;
}

static int
set_add(struct det_set *s, struct det_rule *r)
{
	uint64_t key = sid_key(r->info.gid, r->info.sid);
	unsigned j;

	if ((s->n + 1) * 2 > s->hcap && set_grow_hash(s) != 0)
		return -ENOMEM;
	if (s->n == s->cap) {
		unsigned cap = s->cap ? s->cap * 2 : 64;
		struct det_rule **v = realloc(s->rules, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		s->rules = v;
		s->cap = cap;
	}
	for (j = sid_slot(key, s->hcap); s->vals[j] != 0; j = (j + 1) & (s->hcap - 1))
		;
	s->keys[j] = key;
	s->vals[j] = s->n + 1;
	s->rules[s->n++] = r;
	return 0;
}

static struct det_set *
set_new(void)
{
	struct det_set *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	atomic_init(&s->refs, 1);
	return s;
}

struct det_set *
det_set_ref(struct det_set *s)
{
	atomic_fetch_add(&s->refs, 1);
	return s;
}

void
det_set_free(struct det_set *s)
{
	if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	for (unsigned i = 0; i < s->n; i++)
		det_rule_free(s->rules[i]);
	free(s->rules);
	free(s->keys);
	free(s->vals);
	free(s);
}

unsigned
det_set_count(const struct det_set *s)
{
	return s != NULL ? s->n : 0;
}

const struct det_rule *
det_set_rule(const struct det_set *s, unsigned i)
{
	return s != NULL && i < s->n ? s->rules[i] : NULL;
}

/* ---- text ---- */

struct loader {
	struct det_set *set;
	struct det_load_report *rep;
	struct vg_diag *diag;
	struct det_parse_ctx pctx;
	struct det_partial *partial; /* rejected rules the loaded ones may depend on */
};

/* A physical line's place in a joined rule text. */
struct seg {
	unsigned text_off;
	unsigned line;
	unsigned col0; /* 0-based column of text_off in that line */
};

static const char *const actions[] = { "alert", "drop", "reject", "rejectsrc", "rejectdst",
	"rejectboth", "pass" };

static bool
looks_like_rule(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		size_t l = strlen(actions[i]);

		if (len > l && strncmp(s, actions[i], l) == 0 && isspace((unsigned char)s[l]))
			return true;
	}
	return false;
}

static void
locate(const struct seg *segs, unsigned n, unsigned off, unsigned *line, unsigned *col)
{
	unsigned i = 0;

	while (i + 1 < n && segs[i + 1].text_off <= off)
		i++;
	*line = segs[i].line;
	*col = segs[i].col0 + (off - segs[i].text_off) + 1;
}

static int
load_rule(struct loader *L, const char *name, const char *text, const struct seg *segs,
		unsigned nseg)
{
	struct det_parse_err err;
	struct det_rule *r = NULL;
	unsigned line, col;
	int rc;

	L->rep->rules++;
	rc = det_rule_parse(text, name, segs[0].line, &L->pctx, &r, &err);
	if (rc == -ENOMEM)
		return rc;
	if (rc == 0) {
		int prev = det_set_find(L->set, r->info.gid, r->info.sid);

		if (prev >= 0) {
			const struct det_rule *p = L->set->rules[prev];
			char msg[512];
			const char *s = strstr(text, "sid");

			snprintf(msg, sizeof(msg), "duplicate sid %u:%u: already defined at %s:%u",
					r->info.gid, r->info.sid, p->file, p->info.line);
			locate(segs, nseg, s != NULL ? (unsigned)(s - text) : 0, &line, &col);
			report_reject(L->rep, name, line, col, r->info.sid, DET_R_DUPLICATE_SID,
					"sid", msg);
			det_rule_free(r);
			return 0;
		}
		if (set_add(L->set, r) != 0) {
			det_rule_free(r);
			return -ENOMEM;
		}
		L->rep->loaded++;
		if (r->app_approx && r->app_proto == AL_PROTO_NONE)
			L->rep->approximated++;
		if (r->tx)
			L->rep->tx++;
		return 0;
	}
	locate(segs, nseg, err.off, &line, &col);
	report_reject(L->rep, name, line, col, err.sid, err.reason, err.keyword, err.msg);
	return det_partial_note(L->partial, text, name, segs[0].line, err.sid, err.reason,
			err.keyword, &L->pctx);
}

static int
load_text(struct loader *L, const char *name, const char *buf, size_t len)
{
	size_t pos = 0;
	unsigned lineno = 0;
	char *rule = NULL;
	size_t rlen = 0;
	struct seg *segs = NULL;
	unsigned nseg = 0, segcap = 0;
	bool too_long = false;
	int rc = 0;

	L->rep->files++;
	while (pos < len && rc == 0) {
		size_t end = pos, l;
		const char *s;
		bool cont;

		while (end < len && buf[end] != '\n')
			end++;
		lineno++;
		s = buf + pos;
		l = end - pos;
		pos = end + 1;
		if (l > 0 && s[l - 1] == '\r')
			l--;
		if (rule == NULL) {
			/* a new statement: skip blanks and comments */
			size_t i = 0;

			while (i < l && isspace((unsigned char)s[i]))
				i++;
			if (i == l)
				continue;
			if (s[i] == '#') {
				i++;
				while (i < l && (isspace((unsigned char)s[i]) || s[i] == '#'))
					i++;
				if (looks_like_rule(s + i, l - i))
					L->rep->commented++;
				continue;
			}
		}
		cont = l > 0 && s[l - 1] == '\\';
		if (cont)
			l--;
		if (nseg == segcap) {
			unsigned cap = segcap ? segcap * 2 : 4;
			struct seg *v = realloc(segs, cap * sizeof(*v));

			if (v == NULL) {
				rc = -ENOMEM;
				break;
			}
			segs = v;
			segcap = cap;
		}
		segs[nseg].text_off = (unsigned)rlen;
		segs[nseg].line = lineno;
		segs[nseg].col0 = 0;
		nseg++;
		if (rlen + l > RULE_MAX_LEN) {
			too_long = true;
		} else {
			char *n = realloc(rule, rlen + l + 1);

			if (n == NULL) {
				rc = -ENOMEM;
				break;
			}
			rule = n;
			memcpy(rule + rlen, s, l);
			rlen += l;
			rule[rlen] = '\0';
		}
		if (cont && pos < len)
			continue;
		if (too_long) {
			L->rep->rules++;
			report_reject(L->rep, name, segs[0].line, 1, 0, DET_R_SYNTAX, "",
					"rule is longer than 256 KiB");
		} else if (rule != NULL) {
			rc = load_rule(L, name, rule, segs, nseg);
		}
		free(rule);
		rule = NULL;
		rlen = 0;
		nseg = 0;
		too_long = false;
	}
	free(rule);
	free(segs);
	return rc;
}

static int
read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf;

	if (f == NULL)
		return -errno;
	if (fstat(fileno(f), &st) != 0 || (uint64_t)st.st_size > FILE_MAX_LEN) {
		fclose(f);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	*len = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	buf[*len] = '\0';
	*out = buf;
	return 0;
}

static int
load_file(struct loader *L, const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = read_file(path, &buf, &len);

	if (rc != 0) {
		L->rep->file_errors++;
		vg_diag_add(L->diag, VG_SEV_ERROR, path, 0, 0, "cannot read rule file: %s",
				rc == -EFBIG ? "larger than 256 MiB" : strerror(-rc));
		return rc == -ENOMEM ? rc : 0;
	}
	rc = load_text(L, path, buf, len);
	free(buf);
	return rc;
}

static int
rules_filter(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return e->d_name[0] != '.' && n > 6 && strcmp(e->d_name + n - 6, ".rules") == 0;
}

static int
load_path(struct loader *L, const char *path)
{
	struct stat st;
	struct dirent **list;
	int n, rc = 0;

	if (stat(path, &st) != 0) {
		L->rep->file_errors++;
		vg_diag_add(L->diag, VG_SEV_ERROR, path, 0, 0, "cannot read rules: %s",
				strerror(errno));
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return load_file(L, path);
	n = scandir(path, &list, rules_filter, alphasort);
	if (n < 0) {
		L->rep->file_errors++;
		vg_diag_add(L->diag, VG_SEV_ERROR, path, 0, 0, "cannot list directory: %s",
				strerror(errno));
		return 0;
	}
	if (n == 0)
		vg_diag_add(L->diag, VG_SEV_WARNING, path, 0, 0, "directory has no *.rules files");
	for (int i = 0; i < n; i++) {
		char *p = NULL;

		if (rc == 0) {
			if (asprintf(&p, "%s/%s", path, list[i]->d_name) < 0)
				rc = -ENOMEM;
			else
				rc = load_file(L, p);
		}
		free(p);
		free(list[i]);
	}
	free(list);
	return rc;
}

static struct det_set *
load_common(const struct det_load_opts *opts, struct det_load_report *report, struct vg_diag *diag,
		int (*body)(struct loader *, const void *), const void *arg)
{
	struct det_load_opts def;
	struct det_load_report local;
	struct det_classes classes = { 0 };
	struct loader L = { 0 };
	int rc = 0;

	if (opts == NULL) {
		det_load_opts_default(&def);
		opts = &def;
	}
	if (report == NULL)
		report = &local;
	det_load_report_init(report);
	L.set = set_new();
	if (L.set == NULL)
		return NULL;
	L.rep = report;
	L.diag = diag;
	L.pctx.vars = opts->vars;
	L.pctx.app_proto_ports = opts->app_proto_ports;
	if (opts->classification != NULL) {
		rc = det_classes_load(&classes, opts->classification, diag);
		if (rc == -ENOMEM)
			goto fail;
		/* a classification file that cannot be read checks nothing */
		L.pctx.classes = classes.n > 0 ? &classes : NULL;
		rc = 0;
	}
	L.partial = det_partial_new();
	if (L.partial == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = body(&L, arg);
	if (rc == 0)
		rc = det_partial_check(L.partial, L.set, report);
fail:
	det_partial_free(L.partial);
	det_classes_free(&classes);
	if (report == &local)
		det_load_report_free(&local);
	if (rc == -ENOMEM) {
		det_set_free(L.set);
		errno = ENOMEM;
		return NULL;
	}
	return L.set;
}

struct paths_arg {
	const char *const *paths;
	unsigned n;
};

static int
body_paths(struct loader *L, const void *arg)
{
	const struct paths_arg *a = arg;

	for (unsigned i = 0; i < a->n; i++) {
		int rc = load_path(L, a->paths[i]);

		if (rc != 0)
			return rc;
	}
	return 0;
}

struct det_set *
det_load(const char *const *paths, unsigned n_paths, const struct det_load_opts *opts,
		struct det_load_report *report, struct vg_diag *diag)
{
	struct paths_arg a = { paths, n_paths };

	if (paths == NULL && n_paths > 0) {
		errno = EINVAL;
		return NULL;
	}
	return load_common(opts, report, diag, body_paths, &a);
}

struct buf_arg {
	const char *name;
	const char *buf;
	size_t len;
};

static int
body_buf(struct loader *L, const void *arg)
{
	const struct buf_arg *a = arg;

	return load_text(L, a->name, a->buf, a->len);
}

struct det_set *
det_load_buf(const char *name, const char *buf, size_t len, const struct det_load_opts *opts,
		struct det_load_report *report, struct vg_diag *diag)
{
	struct buf_arg a = { name != NULL ? name : "<input>", buf, len };

	if (buf == NULL && len > 0) {
		errno = EINVAL;
		return NULL;
	}
	return load_common(opts, report, diag, body_buf, &a);
}
