/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "det_engine_priv.h"
#include "det_thconf.h"

struct det_thconf {
	int refs;
	char *name; /* the file, for messages */
	struct det_thc_entry *v;
	unsigned n, cap;
};

/* The keys a line may hold, as bits. */
enum {
	K_GID = 1u << 0,
	K_SID = 1u << 1,
	K_TYPE = 1u << 2,
	K_TRACK = 1u << 3,
	K_COUNT = 1u << 4,
	K_SECONDS = 1u << 5,
	K_ACTION = 1u << 6,
	K_TIMEOUT = 1u << 7,
	K_IP = 1u << 8,
};

static const struct {
	const char *name;
	unsigned bit;
} keys[] = {
	{ "gen_id", K_GID },
	{ "sig_id", K_SID },
	{ "type", K_TYPE },
	{ "track", K_TRACK },
	{ "count", K_COUNT },
	{ "seconds", K_SECONDS },
	{ "new_action", K_ACTION },
	{ "timeout", K_TIMEOUT },
	{ "ip", K_IP },
};

/* Per kind: the keys it needs and those it may have. */
static const struct {
	const char *name;
	uint8_t kind;
	unsigned need, allow;
	const char *syntax;
} kinds[] = {
	{ "threshold", DET_THC_THRESHOLD, K_GID | K_SID | K_TYPE | K_TRACK | K_COUNT | K_SECONDS,
			K_GID | K_SID | K_TYPE | K_TRACK | K_COUNT | K_SECONDS,
			"gen_id, sig_id, type, track, count, seconds" },
	{ "event_filter", DET_THC_THRESHOLD, K_GID | K_SID | K_TYPE | K_TRACK | K_COUNT | K_SECONDS,
			K_GID | K_SID | K_TYPE | K_TRACK | K_COUNT | K_SECONDS,
			"gen_id, sig_id, type, track, count, seconds" },
	{ "rate_filter", DET_THC_RATE,
			K_GID | K_SID | K_TRACK | K_COUNT | K_SECONDS | K_ACTION | K_TIMEOUT,
			K_GID | K_SID | K_TRACK | K_COUNT | K_SECONDS | K_ACTION | K_TIMEOUT,
			"gen_id, sig_id, track, count, seconds, new_action, timeout" },
	{ "suppress", DET_THC_SUPPRESS, K_GID | K_SID, K_GID | K_SID | K_TRACK | K_IP,
			"gen_id, sig_id[, track by_src|by_dst|by_either, ip ADDRESSES]" },
};

struct lctx {
	const char *file;
	unsigned line;
	const char *text; /* the (joined) line, for columns */
	struct vg_diag *diag;
};

static int err(const struct lctx *l, const char *at, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

static int
err(const struct lctx *l, const char *at, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vg_diag_add(l->diag, VG_SEV_ERROR, l->file, l->line,
			at != NULL ? (unsigned)(at - l->text) + 1 : 0, "%s", msg);
	return -EINVAL;
}

static int
parse_u32(const char *s, unsigned long lo, unsigned long hi, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int
parse_action(const char *v, uint8_t *out)
{
	if (strcmp(v, "alert") == 0)
		*out = DET_ACT_ALERT;
	else if (strcmp(v, "drop") == 0)
		*out = DET_ACT_DROP;
	else if (strcmp(v, "reject") == 0)
		*out = DET_ACT_REJECT;
	else if (strcmp(v, "pass") == 0)
		*out = DET_ACT_PASS;
	else
		return -EINVAL;
	return 0;
}

/* One key and its value (val points into line, NUL-terminated; key and val are in it). */
static int
parse_kv(const struct lctx *l, struct det_thc_entry *e, const struct det_vars *vars,
		const char *key, char *val, unsigned bit)
{
	const char *kind = e->kind == DET_THC_RATE	 ? "rate_filter"
			   : e->kind == DET_THC_SUPPRESS ? "suppress"
							 : "threshold";

	switch (bit) {
	case K_GID:
	case K_SID:
		if (parse_u32(val, 0, UINT32_MAX, bit == K_GID ? &e->gid : &e->sid) != 0)
			return err(l, val, "%s '%s' is not a number (0 for any)", key, val);
		return 0;
	case K_TYPE:
		if (strcmp(val, "limit") == 0)
			e->th.type = DET_TH_LIMIT;
		else if (strcmp(val, "threshold") == 0)
			e->th.type = DET_TH_THRESHOLD;
		else if (strcmp(val, "both") == 0)
			e->th.type = DET_TH_BOTH;
		else if (strcmp(val, "backoff") == 0)
			return err(l, val,
					"type backoff is not supported (limit, threshold, both are)");
		else
			return err(l, val, "type '%s' is not limit, threshold or both", val);
		return 0;
	case K_TRACK:
		if (e->kind == DET_THC_SUPPRESS) {
			if (strcmp(val, "by_src") == 0)
				e->sup_track = DET_SUP_SRC;
			else if (strcmp(val, "by_dst") == 0)
				e->sup_track = DET_SUP_DST;
			else if (strcmp(val, "by_either") == 0)
				e->sup_track = DET_SUP_EITHER;
			else
				return err(l, val,
						"suppress track '%s' is not by_src, by_dst or by_either",
						val);
			return 0;
		}
		{
			uint8_t t;

			if (strcmp(val, "by_src") == 0)
				t = DET_TRACK_SRC;
			else if (strcmp(val, "by_dst") == 0)
				t = DET_TRACK_DST;
			else if (strcmp(val, "by_rule") == 0)
				t = DET_TRACK_RULE;
			else if (strcmp(val, "by_both") == 0)
				t = DET_TRACK_BOTH;
			else if (strcmp(val, "by_flow") == 0)
				return err(l, val,
						"%s track by_flow is not supported (by_src, by_dst, "
						"by_rule, by_both are)",
						kind);
			else
				return err(l, val,
						"%s track '%s' is not by_src, by_dst, by_rule or by_both",
						kind, val);
			e->th.track = t;
			e->rf.track = t;
		}
		return 0;
	case K_COUNT:
		if (parse_u32(val, 1, UINT32_MAX, &e->th.count) != 0)
			return err(l, val, "count '%s' is not a positive number", val);
		e->rf.count = e->th.count;
		return 0;
	case K_SECONDS:
		if (parse_u32(val, 1, 86400 * 365, &e->th.seconds) != 0)
			return err(l, val, "seconds '%s' is not a number from 1 to 31536000", val);
		e->rf.seconds = e->th.seconds;
		return 0;
	case K_TIMEOUT:
		if (parse_u32(val, 1, 86400 * 365, &e->rf.timeout) != 0)
			return err(l, val, "timeout '%s' is not a number from 1 to 31536000", val);
		return 0;
	case K_ACTION:
		if (strcmp(val, "sdrop") == 0 || strcmp(val, "log") == 0)
			return err(l, val,
					"new_action %s is not supported (Suricata parses it but does not "
					"implement it); alert, drop, reject, pass are",
					val);
		if (parse_action(val, &e->rf.new_action) != 0)
			return err(l, val, "new_action '%s' is not alert, drop, reject or pass",
					val);
		return 0;
	case K_IP: {
		char why[256];
		unsigned off = 0;
		bool undef = false;

		if (det_ipset_parse(&e->ip, val, vars, why, sizeof(why), &off, &undef) != 0)
			return err(l, val + off, "ip '%s': %s", val, why);
		return 0;
	}
	default:
		return -EINVAL;
	}
}

/* Split at commas outside brackets; trims; returns the number of parts (at most max). */
static unsigned
split(char *s, char **parts, unsigned max)
{
	unsigned n = 0, depth = 0;
	char *start = s;

	for (char *c = s;; c++) {
		if (*c == '[')
			depth++;
		else if (*c == ']' && depth > 0)
			depth--;
		if ((*c == ',' && depth == 0) || *c == '\0') {
			bool end = *c == '\0';

			*c = '\0';
			if (n < max)
				parts[n++] = start;
			if (end)
				break;
			start = c + 1;
		}
	}
	return n;
}

static int
push(struct det_thconf *c, const struct det_thc_entry *e)
{
	if (c->n == c->cap) {
		unsigned cap = c->cap ? c->cap * 2 : 16;
		struct det_thc_entry *v = realloc(c->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = *e;
	return 0;
}

/* Parse one logical line (comments and blank lines already skipped). */
static int
parse_line(struct det_thconf *c, const struct lctx *l, char *line, const struct det_vars *vars)
{
	struct det_thc_entry e = { .line = l->line };
	char *kw = line, *rest = line, *parts[16];
	unsigned n, have = 0, k;
	int rc;

	while (*rest && !isspace((unsigned char)*rest) && *rest != ':')
		rest++;
	if (*rest == ':') /* "rate_filter: rate_filter ..." as Suricata's own doc writes it */
		*rest++ = '\0';
	else if (*rest)
		*rest++ = '\0';
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (strcmp(kw, kinds[k].name) == 0)
			break;
	if (k == sizeof(kinds) / sizeof(kinds[0]))
		return err(l, kw,
				"'%s' is not a threshold.config entry (threshold, event_filter, "
				"rate_filter, suppress)",
				kw);
	e.kind = kinds[k].kind;
	rest = det_strip(rest);
	if (strncmp(rest, kw, strlen(kw)) == 0 && isspace((unsigned char)rest[strlen(kw)]))
		rest = det_strip(rest + strlen(kw));
	n = split(rest, parts, 16);
	if (n == 16)
		return err(l, rest, "too many options");
	for (unsigned i = 0; i < n; i++) {
		char *key = det_strip(parts[i]), *val = key;
		unsigned bit = 0;

		if (*key == '\0')
			return err(l, key, "empty option (a stray comma?)");
		while (*val && !isspace((unsigned char)*val))
			val++;
		if (*val)
			*val++ = '\0';
		val = det_strip(val);
		for (unsigned j = 0; j < sizeof(keys) / sizeof(keys[0]); j++)
			if (strcmp(key, keys[j].name) == 0)
				bit = keys[j].bit;
		if (bit == 0 || !(kinds[k].allow & bit))
			return err(l, key, "'%s' is not a %s option (%s)", key, kw,
					kinds[k].syntax);
		if (have & bit)
			return err(l, key, "%s given twice", key);
		if (*val == '\0')
			return err(l, key, "%s needs a value", key);
		rc = parse_kv(l, &e, vars, key, val, bit);
		if (rc != 0) {
			det_ipset_free(&e.ip);
			return rc;
		}
		have |= bit;
	}
	if ((have & kinds[k].need) != kinds[k].need ||
			(e.kind == DET_THC_SUPPRESS && !(have & K_TRACK) != !(have & K_IP))) {
		det_ipset_free(&e.ip);
		return err(l, line, "%s needs %s", kw, kinds[k].syntax);
	}
	rc = push(c, &e);
	if (rc != 0)
		det_ipset_free(&e.ip);
	return rc;
}

int
det_thconf_load_buf(const char *name, const char *buf, size_t len, const struct det_vars *vars,
		struct vg_diag *diag, struct det_thconf **out)
{
	struct det_thconf *c = calloc(1, sizeof(*c));
	char *line = NULL;
	size_t cap = 0, used = 0;
	unsigned lineno = 0, first = 0, errors = 0;
	int rc = 0;

	*out = NULL;
	if (c == NULL)
		return -ENOMEM;
	c->refs = 1;
	c->name = strdup(name != NULL ? name : "threshold.config");
	if (c->name == NULL) {
		free(c);
		return -ENOMEM;
	}
	for (size_t pos = 0; pos < len || used > 0;) {
		const char *eol = pos < len ? memchr(buf + pos, '\n', len - pos) : NULL;
		size_t n = pos < len ? (size_t)((eol ? eol : buf + len) - (buf + pos)) : 0;
		bool cont;

		if (pos >= len && used > 0) {
			/* a continuation at the end of the file: take what was joined */
			n = 0;
		}
		lineno++;
		if (used == 0)
			first = lineno;
		if (used + n + 2 > cap) {
			char *p = realloc(line, (used + n + 2) * 2);

			if (p == NULL) {
				rc = -ENOMEM;
				break;
			}
			line = p;
			cap = (used + n + 2) * 2;
		}
		memcpy(line + used, buf + pos, n);
		used += n;
		line[used] = '\0';
		pos += n + (eol != NULL ? 1 : 0);
		if (pos >= len && eol == NULL)
			pos = len;
		while (used > 0 && (line[used - 1] == '\r' || line[used - 1] == ' ' ||
						   line[used - 1] == '\t'))
			line[--used] = '\0';
		cont = used > 0 && line[used - 1] == '\\' && pos < len;
		if (cont) {
			line[used - 1] = ' ';
			continue;
		}
		{
			char *t = det_strip(line);
			struct lctx l = { name, first, t, diag };

			if (*t != '\0' && *t != '#') {
				rc = parse_line(c, &l, t, vars);
				if (rc == -ENOMEM)
					break;
				if (rc != 0)
					errors++;
				rc = 0;
			}
		}
		used = 0;
		if (pos >= len)
			break;
	}
	free(line);
	if (rc == 0 && errors > 0) {
		vg_diag_add(diag, VG_SEV_ERROR, name, 0, 0,
				"threshold file refused: %u bad line%s (listed above); nothing of it "
				"applies",
				errors, errors == 1 ? "" : "s");
		rc = -EINVAL;
	}
	if (rc != 0) {
		det_thconf_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int
det_thconf_load(const char *path, const struct det_vars *vars, struct vg_diag *diag,
		struct det_thconf **out)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, n;
	char chunk[65536];
	FILE *mem;
	int rc;

	*out = NULL;
	if (f == NULL) {
		rc = -errno;
		vg_diag_add(diag, VG_SEV_ERROR, path, 0, 0, "cannot read threshold file: %s",
				strerror(-rc));
		return rc;
	}
	mem = open_memstream(&buf, &len);
	if (mem == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, mem);
	fclose(f);
	fclose(mem);
	if (buf == NULL)
		return -ENOMEM;
	rc = det_thconf_load_buf(path, buf, len, vars, diag, out);
	free(buf);
	return rc;
}

void
det_thconf_free(struct det_thconf *c)
{
	if (c == NULL || --c->refs > 0)
		return;
	for (unsigned i = 0; i < c->n; i++)
		det_ipset_free(&c->v[i].ip);
	free(c->v);
	free(c->name);
	free(c);
}

unsigned
det_thconf_count(const struct det_thconf *c)
{
	return c != NULL ? c->n : 0;
}

const struct det_thc_entry *
det_thconf_entry(const struct det_thconf *c, unsigned i)
{
	return c != NULL && i < c->n ? &c->v[i] : NULL;
}

bool
det_thc_suppresses(const struct det_thc_entry *s, uint8_t family, const uint8_t *src,
		const uint8_t *dst)
{
	switch (s->sup_track) {
	case DET_SUP_ALL:
		return true;
	case DET_SUP_SRC:
		return src != NULL && det_ipset_has(&s->ip, family, src);
	case DET_SUP_DST:
		return dst != NULL && det_ipset_has(&s->ip, family, dst);
	case DET_SUP_EITHER:
		return (src != NULL && det_ipset_has(&s->ip, family, src)) ||
		       (dst != NULL && det_ipset_has(&s->ip, family, dst));
	default:
		return false;
	}
}

static bool
names(const struct det_thc_entry *x, const struct det_rule_info *ri)
{
	return (x->gid == 0 || x->gid == ri->gid) && (x->sid == 0 || x->sid == ri->sid);
}

int
det_thconf_apply(struct det_engine *e, struct det_thconf *c, struct vg_diag *diag)
{
	if (e == NULL || c == NULL)
		return 0;
	for (unsigned i = 0; i < c->n; i++) {
		const struct det_thc_entry *x = &c->v[i];
		bool hit = false;

		for (uint32_t r = 0; r < e->n_rules && !hit; r++)
			hit = names(x, &e->rules[r].r->info);
		if (!hit)
			vg_diag_add(diag, VG_SEV_WARNING, c->name, x->line, 0,
					"no loaded rule has gen_id %u, sig_id %u: the line does "
					"nothing",
					x->gid, x->sid);
	}
	for (uint32_t r = 0; r < e->n_rules; r++) {
		struct det_erule *er = &e->rules[r];
		const struct det_rule_info *ri = &er->r->info;
		const struct det_threshold *th = NULL, *th_any = NULL;
		unsigned n_sup = 0;

		for (unsigned i = 0; i < c->n; i++) {
			const struct det_thc_entry *x = &c->v[i];

			if (!names(x, ri))
				continue;
			if (x->kind == DET_THC_THRESHOLD) {
				/* a line naming the rule wins over a wildcard; the last of each */
				if (x->gid != 0 && x->sid != 0)
					th = &x->th;
				else
					th_any = &x->th;
			} else if (x->kind == DET_THC_RATE) {
				if (er->rf == NULL || (x->gid != 0 && x->sid != 0))
					er->rf = &x->rf;
			} else if (x->sup_track == DET_SUP_ALL) {
				er->sup_all = true;
			} else {
				n_sup++;
			}
		}
		if (th != NULL)
			er->th = th;
		else if (th_any != NULL && er->th == NULL)
			er->th = th_any;
		if (n_sup > 0) {
			er->sup = calloc(n_sup, sizeof(*er->sup));
			if (er->sup == NULL)
				return -ENOMEM;
			for (unsigned i = 0; i < c->n; i++)
				if (names(&c->v[i], ri) && c->v[i].kind == DET_THC_SUPPRESS &&
						c->v[i].sup_track != DET_SUP_ALL)
					er->sup[er->n_sup++] = &c->v[i];
		}
	}
	c->refs++;
	det_thconf_free(e->thconf);
	e->thconf = c;
	return 0;
}
