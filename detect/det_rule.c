/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "al.h"
#include "det_event.h"
#include "det_rule.h"
#include "det_hdr.h"
#include "vg_diag.h"

/* Largest offset, depth, distance or within accepted (Suricata's buffers are smaller). */
#define DET_POS_MAX   (1 << 20)
#define DET_ITEMS_MAX 256

static const char *const action_names[] = {
	[DET_ACT_NONE] = "none",
	[DET_ACT_PASS] = "pass",
	[DET_ACT_DROP] = "drop",
	[DET_ACT_REJECT] = "reject",
	[DET_ACT_ALERT] = "alert",
};

const char *
det_action_name(enum det_action a)
{
	if ((unsigned)a >= sizeof(action_names) / sizeof(action_names[0]))
		return "?";
	return action_names[a];
}

static const char *const reason_names[DET_R__COUNT] = {
	[DET_R_SYNTAX] = "syntax",
	[DET_R_INVALID_VALUE] = "invalid_value",
	[DET_R_INVALID_COMBINATION] = "invalid_combination",
	[DET_R_UNSUPPORTED_KEYWORD] = "unsupported_keyword",
	[DET_R_UNKNOWN_KEYWORD] = "unknown_keyword",
	[DET_R_UNSUPPORTED_PROTOCOL] = "unsupported_protocol",
	[DET_R_UNSUPPORTED_ACTION] = "unsupported_action",
	[DET_R_UNSUPPORTED_MODIFIER] = "unsupported_modifier",
	[DET_R_UNDEFINED_VARIABLE] = "undefined_variable",
	[DET_R_BAD_ADDRESS] = "bad_address",
	[DET_R_PCRE] = "pcre",
	[DET_R_UNKNOWN_CLASSTYPE] = "unknown_classtype",
	[DET_R_MISSING_SID] = "missing_sid",
	[DET_R_DUPLICATE_SID] = "duplicate_sid",
	[DET_R_CANNOT_MATCH] = "cannot_match",
};

const char *
det_reason_name(enum det_reason r)
{
	if ((unsigned)r >= DET_R__COUNT)
		return "?";
	return reason_names[r];
}

/* ---- classification.config ---- */

const struct det_class *
det_classes_find(const struct det_classes *c, const char *name)
{
	for (unsigned i = 0; c != NULL && i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0)
			return &c->v[i];
	return NULL;
}

void
det_classes_free(struct det_classes *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->n; i++) {
		free(c->v[i].name);
		free(c->v[i].desc);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

char *
det_strip(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
classes_add(struct det_classes *c, const char *name, const char *desc, unsigned prio)
{
	struct det_class *e = (struct det_class *)det_classes_find(c, name);

	if (e == NULL) {
		if (c->n == c->cap) {
			unsigned cap = c->cap ? c->cap * 2 : 32;
			struct det_class *v = realloc(c->v, cap * sizeof(*v));

			if (v == NULL)
				return -ENOMEM;
			c->v = v;
			c->cap = cap;
		}
		e = &c->v[c->n];
		e->name = strdup(name);
		e->desc = NULL;
		if (e->name == NULL)
			return -ENOMEM;
		c->n++;
	}
	free(e->desc);
	e->desc = strdup(desc);
	if (e->desc == NULL)
		return -ENOMEM;
	e->priority = (uint8_t)prio;
	return 0;
}

int
det_classes_load_buf(struct det_classes *c, const char *name, const char *buf, size_t len,
		struct vg_diag *diag)
{
	size_t pos = 0;
	unsigned line = 0;
	int rc = 0;

	while (pos < len) {
		size_t end = pos;
		char tmp[1024], *s, *f1, *f2, *f3, *endp;
		long prio;

		while (end < len && buf[end] != '\n')
			end++;
		line++;
		if (end - pos >= sizeof(tmp)) {
			vg_diag_add(diag, VG_SEV_ERROR, name, line, 0,
					"line longer than %zu characters", sizeof(tmp) - 1);
			rc = -EINVAL;
			pos = end + 1;
			continue;
		}
		memcpy(tmp, buf + pos, end - pos);
		tmp[end - pos] = '\0';
		pos = end + 1;
		s = det_strip(tmp);
		if (*s == '\0' || *s == '#')
			continue;
		if (strncmp(s, "config classification:", 22) != 0) {
			vg_diag_add(diag, VG_SEV_ERROR, name, line, 1,
					"expected 'config classification: name,description,priority'");
			rc = -EINVAL;
			continue;
		}
		f1 = s + 22;
		f2 = strchr(f1, ',');
		f3 = f2 != NULL ? strrchr(f2 + 1, ',') : NULL;
		if (f2 == NULL || f3 == NULL) {
			vg_diag_add(diag, VG_SEV_ERROR, name, line, 1,
					"expected three comma-separated fields: name,description,priority");
			rc = -EINVAL;
			continue;
		}
		*f2++ = '\0';
		*f3++ = '\0';
		f1 = det_strip(f1);
		f2 = det_strip(f2);
		f3 = det_strip(f3);
		prio = strtol(f3, &endp, 10);
		if (*f1 == '\0' || *f3 == '\0' || *endp != '\0' || prio < 1 || prio > 255) {
			vg_diag_add(diag, VG_SEV_ERROR, name, line, (unsigned)(f3 - tmp) + 1,
					"priority '%s' is not a number from 1 to 255", f3);
			rc = -EINVAL;
			continue;
		}
		if (classes_add(c, f1, f2, (unsigned)prio) != 0)
			return -ENOMEM;
	}
	return rc;
}

int
det_classes_load(struct det_classes *c, const char *path, struct vg_diag *diag)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (f == NULL) {
		rc = -errno;
		vg_diag_add(diag, VG_SEV_ERROR, path, 0, 0, "cannot open: %s", strerror(errno));
		return rc;
	}
	{
		FILE *m = open_memstream(&buf, &len);
		char chunk[4096];
		size_t n;

		if (m == NULL) {
			fclose(f);
			return -ENOMEM;
		}
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, m);
		fclose(m);
	}
	fclose(f);
	rc = det_classes_load_buf(c, path, buf, len, diag);
	free(buf);
	return rc;
}

/* ---- parser state ---- */

struct pstate {
	const struct det_parse_ctx *ctx;
	struct det_rule *r;
	struct det_parse_err *err;
	const char *text;
	const char *kw;	  /* current keyword name */
	char cur_kw[32];  /* the current option's name, kept */
	char prev_kw[32]; /* the option before it ("" for the first): what prefilter selects */
	unsigned kw_off;  /* offset of the current option in text */
	unsigned val_off; /* offset of its value */
	int last_content; /* item index of the last content, -1 */
	/* the last content was moved to its buffer by a content modifier (http_uri, uricontent):
	 * a relative isdataat after it goes there too, as in Suricata */
	bool last_moved;
	bool have_fast_pattern;
	bool have_sid, have_rev, have_gid, have_priority, have_msg, have_classtype, have_flow;
	bool have_threshold, have_df;
	unsigned items_cap;
	unsigned dsize_off; /* where dsize was, for the "cannot match" message */

	/*
	 * The sticky buffer in force (DET_BUF_PKT: none, the payload) and the transforms named
	 * right after it. Its span is made when the first item lands in it (-1 before), so that
	 * the transforms are known by then.
	 */
	unsigned sticky;
	uint8_t sticky_xf[DET_XF_MAX];
	unsigned sticky_nxf;
	int sticky_span;
	unsigned sticky_off;
	unsigned spans_cap;
	/* what fixed the rule's application protocol: "the header" or a keyword, for messages */
	char proto_by[40];
	bool app_event; /* app-layer-event seen, at app_event_off */
	unsigned app_event_off;
};

static int __attribute__((format(printf, 4, 5)))
fail(struct pstate *ps, enum det_reason reason, unsigned off, const char *fmt, ...)
{
	va_list ap;

	ps->err->reason = reason;
	ps->err->off = off;
	snprintf(ps->err->keyword, sizeof(ps->err->keyword), "%s", ps->kw ? ps->kw : "");
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Copy a keyword's value into a parse buffer, refusing values that do not fit. */
static int
copy_value(struct pstate *ps, char *dst, size_t size, const char *v)
{
	size_t n = strlen(v);

	if (n >= size)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"%s value is longer than %zu characters", ps->kw, size - 1);
	memcpy(dst, v, n + 1);
	return 0;
}

/* Parse a whole non-negative decimal number in [min, max]. */
static int
parse_uint(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s) && !(*s == '-' && isdigit((unsigned char)s[1])))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Can buffer b have several instances in a transaction (dns.query of several questions)? */
static bool
buf_multi(unsigned b)
{
	const struct det_buf_def *d = det_buf_def(b);

	for (unsigned dir = 0; d != NULL && dir < 2; dir++) {
		const struct al_buf_info *bi = al_buf_info((enum al_buf)d->al[dir]);

		if (bi != NULL && (bi->flags & AL_BUF_MULTI))
			return true;
	}
	return false;
}

/*
 * The rule's application protocol becomes proto (named by kw at off): it must agree with the
 * header and with the other buffers.
 */
static int
set_app_proto(struct pstate *ps, uint8_t proto, const char *kw, unsigned off)
{
	struct det_rule *r = ps->r;

	if (proto == AL_PROTO_NONE || r->app_proto == proto)
		return 0;
	if (r->app_proto != AL_PROTO_NONE || r->app_name[0] != '\0') {
		/* the keyword naming the buffer, not the content that made its span */
		ps->kw = kw;
		return fail(ps, DET_R_INVALID_COMBINATION, off,
				"'%s' inspects %s but the rule is for %s (set by %s)", kw,
				al_proto_name((enum al_proto)proto),
				r->app_proto != AL_PROTO_NONE
						? al_proto_name((enum al_proto)r->app_proto)
						: r->app_name,
				ps->proto_by);
	}
	r->app_proto = proto;
	snprintf(ps->proto_by, sizeof(ps->proto_by), "'%s'", kw);
	return 0;
}

/*
 * The span of buffer b with transforms xf[0, nxf): an existing one when reuse (a buffer of
 * one instance named again continues its items), else a new one. Returns its index or -1.
 */
static int
span_get(struct pstate *ps, unsigned b, const uint8_t *xf, unsigned nxf, bool reuse, unsigned off)
{
	struct det_rule *r = ps->r;
	const struct det_buf_def *d = det_buf_def(b);
	struct det_span *sp;

	if (reuse)
		for (unsigned i = 0; i < r->n_spans; i++)
			if (r->spans[i].buf == b && r->spans[i].n_xf == nxf &&
					(nxf == 0 || memcmp(r->spans[i].xf, xf, nxf) == 0))
				return (int)i;
	if (b != DET_BUF_PKT && set_app_proto(ps, d->proto, d->name, off) != 0)
		return -1;
	if (r->n_spans >= DET_SPANS_MAX) {
		fail(ps, DET_R_INVALID_VALUE, off, "more than %d buffers in one rule",
				DET_SPANS_MAX);
		return -1;
	}
	if (r->n_spans == ps->spans_cap) {
		unsigned cap = ps->spans_cap ? ps->spans_cap * 2 : 2;
		struct det_span *v = realloc(r->spans, cap * sizeof(*v));

		if (v == NULL) {
			fail(ps, DET_R_INVALID_VALUE, off, "out of memory");
			return -1;
		}
		r->spans = v;
		ps->spans_cap = cap;
	}
	sp = &r->spans[r->n_spans];
	memset(sp, 0, sizeof(*sp));
	sp->buf = (uint8_t)b;
	sp->n_xf = (uint8_t)nxf;
	if (nxf > 0)
		memcpy(sp->xf, xf, nxf);
	sp->col = off;
	return (int)r->n_spans++;
}

/* The span items go to now: the sticky buffer's (made at its first item), or the payload's. */
static int
cur_span(struct pstate *ps)
{
	if (ps->sticky_span >= 0)
		return ps->sticky_span;
	ps->sticky_span = span_get(ps, ps->sticky, ps->sticky_xf, ps->sticky_nxf,
			ps->sticky == DET_BUF_PKT || !buf_multi(ps->sticky),
			ps->sticky == DET_BUF_PKT ? ps->kw_off : ps->sticky_off);
	return ps->sticky_span;
}

static struct det_item *new_item_in(struct pstate *ps, uint8_t type, uint16_t kw, int span);

static struct det_item *
new_item(struct pstate *ps, uint8_t type, uint16_t kw)
{
	int span = cur_span(ps);

	return span < 0 ? NULL : new_item_in(ps, type, kw, span);
}

static struct det_item *
new_item_in(struct pstate *ps, uint8_t type, uint16_t kw, int span)
{
	struct det_rule *r = ps->r;
	struct det_item *it;

	if (r->n_items >= DET_ITEMS_MAX) {
		fail(ps, DET_R_INVALID_VALUE, ps->kw_off,
				"more than %d payload keywords in one rule", DET_ITEMS_MAX);
		return NULL;
	}
	if (r->n_items == ps->items_cap) {
		unsigned cap = ps->items_cap ? ps->items_cap * 2 : 4;
		struct det_item *v = realloc(r->items, cap * sizeof(*v));

		if (v == NULL) {
			fail(ps, DET_R_INVALID_VALUE, ps->kw_off, "out of memory");
			return NULL;
		}
		r->items = v;
		ps->items_cap = cap;
	}
	it = &r->items[r->n_items++];
	memset(it, 0, sizeof(*it));
	it->type = type;
	it->kw = kw;
	it->col = ps->kw_off;
	it->span = (uint8_t)span;
	return it;
}

/* Unquote a msg-like value: strip the quotes, undo \" \; \\ escapes. */
static char *
unquote(struct pstate *ps, const char *v)
{
	size_t n = strlen(v);
	char *out, *o;

	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}
	out = malloc(n + 1);
	if (out == NULL) {
		fail(ps, DET_R_INVALID_VALUE, ps->val_off, "out of memory");
		return NULL;
	}
	o = out;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\\' && i + 1 < n && strchr("\";\\:", v[i + 1]) != NULL)
			i++;
		*o++ = v[i];
	}
	*o = '\0';
	return out;
}

/* ---- keyword implementations ---- */

static int kw_content(struct pstate *ps, const char *v, unsigned kw);

static int
kw_msg(struct pstate *ps, const char *v, unsigned kw)
{
	(void)kw;
	if (ps->have_msg)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off, "msg given twice");
	ps->have_msg = true;
	free(ps->r->msg);
	ps->r->msg = unquote(ps, v);
	return ps->r->msg != NULL ? 0 : -EINVAL;
}

static int
kw_u32(struct pstate *ps, const char *v, long min, long max, uint32_t *out, bool *seen)
{
	long x;

	if (*seen)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off, "%s given twice", ps->kw);
	*seen = true;
	if (parse_uint(v, min, max, &x) != 0)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"%s '%s' is not a number from %ld to %ld", ps->kw, v, min, max);
	*out = (uint32_t)x;
	return 0;
}

static int
kw_sid(struct pstate *ps, const char *v, unsigned kw)
{
	(void)kw;
	return kw_u32(ps, v, 1, UINT32_MAX, &ps->r->info.sid, &ps->have_sid);
}

static int
kw_rev(struct pstate *ps, const char *v, unsigned kw)
{
	(void)kw;
	return kw_u32(ps, v, 0, UINT32_MAX, &ps->r->info.rev, &ps->have_rev);
}

static int
kw_gid(struct pstate *ps, const char *v, unsigned kw)
{
	(void)kw;
	return kw_u32(ps, v, 0, UINT32_MAX, &ps->r->info.gid, &ps->have_gid);
}

static int
kw_priority(struct pstate *ps, const char *v, unsigned kw)
{
	uint32_t p = 0;
	int rc;

	(void)kw;
	rc = kw_u32(ps, v, 1, 255, &p, &ps->have_priority);
	if (rc == 0)
		ps->r->info.priority = (uint8_t)p;
	return rc;
}

static int
kw_classtype(struct pstate *ps, const char *v, unsigned kw)
{
	(void)kw;
	if (ps->have_classtype)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off, "classtype given twice");
	ps->have_classtype = true;
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"classtype '%s' is not a name (letters, digits, '-', '_')",
					v);
	if (*v == '\0')
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "classtype needs a name");
	free(ps->r->classtype);
	ps->r->classtype = strdup(v);
	return ps->r->classtype != NULL ? 0 : fail(ps, DET_R_INVALID_VALUE, 0, "out of memory");
}

static int
append_str(struct pstate *ps, char **dst, const char *v, const char *sep)
{
	size_t a = *dst ? strlen(*dst) : 0, b = strlen(v), s = a ? strlen(sep) : 0;
	char *n = realloc(*dst, a + s + b + 1);

	if (n == NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "out of memory");
	if (a == 0)
		n[0] = '\0';
	else
		strcat(n, sep);
	strcat(n, v);
	*dst = n;
	return 0;
}

static int
kw_metadata(struct pstate *ps, const char *v, unsigned kw)
{
	(void)kw;
	return append_str(ps, &ps->r->metadata, v, ", ");
}

static int
kw_reference(struct pstate *ps, const char *v, unsigned kw)
{
	(void)kw;
	if (strchr(v, ',') == NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"reference '%s' should be type,id (e.g. url,example.com/x)", v);
	return append_str(ps, &ps->r->references, v, "; ");
}

static int
kw_noop(struct pstate *ps, const char *v, unsigned kw)
{
	(void)ps;
	(void)v;
	(void)kw;
	return 0;
}

static int
kw_target(struct pstate *ps, const char *v, unsigned kw)
{
	(void)kw;
	if (strcmp(v, "src_ip") != 0 && strcmp(v, "dest_ip") != 0)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"target '%s' should be src_ip or dest_ip", v);
	return 0;
}

static int
kw_noalert(struct pstate *ps, const char *v, unsigned kw)
{
	(void)v;
	(void)kw;
	ps->r->noalert = true;
	return 0;
}

/* Parse the quoted content string into bytes. */
static int
content_bytes(struct pstate *ps, const char *v, uint8_t **out, uint32_t *outlen, bool *neg)
{
	size_t n, i;
	uint8_t *buf;
	uint32_t len = 0;
	bool hex = false;
	int nib = -1;
	unsigned base = ps->val_off;
	const char *start = v;

	*neg = false;
	while (isspace((unsigned char)*v))
		v++;
	if (*v == '!') {
		*neg = true;
		v++;
		while (isspace((unsigned char)*v))
			v++;
	}
	n = strlen(v);
	if (n < 2 || v[0] != '"' || v[n - 1] != '"' ||
			(n >= 3 && v[n - 2] == '\\' && (n < 4 || v[n - 3] != '\\')))
		return fail(ps, DET_R_SYNTAX, base,
				"%s needs a quoted string, e.g. %s:\"abc|0d 0a|\"", ps->kw, ps->kw);
	base += (unsigned)(v - start) + 1;
	v++;
	n -= 2;
	buf = malloc(n > 0 ? n : 1);
	if (buf == NULL)
		return fail(ps, DET_R_INVALID_VALUE, base, "out of memory");
	for (i = 0; i < n; i++) {
		char ch = v[i];

		if (ch == '|') {
			if (hex && nib >= 0) {
				free(buf);
				return fail(ps, DET_R_INVALID_VALUE, base + (unsigned)i,
						"odd number of hex digits before '|'");
			}
			hex = !hex;
			continue;
		}
		if (hex) {
			int d;

			if (isspace((unsigned char)ch))
				continue;
			if (!isxdigit((unsigned char)ch)) {
				free(buf);
				return fail(ps, DET_R_INVALID_VALUE, base + (unsigned)i,
						"'%c' is not a hex digit (inside |...| only hex byte "
						"pairs and spaces are allowed)",
						ch);
			}
			d = isdigit((unsigned char)ch) ? ch - '0'
						       : (tolower((unsigned char)ch) - 'a' + 10);
			if (nib < 0) {
				nib = d;
			} else {
				buf[len++] = (uint8_t)(nib << 4 | d);
				nib = -1;
			}
			continue;
		}
		if (ch == '\\') {
			if (i + 1 >= n || strchr("\";:\\|", v[i + 1]) == NULL) {
				free(buf);
				return fail(ps, DET_R_INVALID_VALUE, base + (unsigned)i,
						"'\\%c' is not an escape a content may use (\\\" \\; \\: "
						"\\\\ \\|; other bytes go in |hex|)",
						i + 1 < n ? v[i + 1] : ' ');
			}
			buf[len++] = (uint8_t)v[++i];
			continue;
		}
		if (ch == '"') {
			free(buf);
			return fail(ps, DET_R_INVALID_VALUE, base + (unsigned)i,
					"unescaped '\"' inside the string (write \\\" or |22|)");
		}
		buf[len++] = (uint8_t)ch;
	}
	if (hex) {
		free(buf);
		return fail(ps, DET_R_INVALID_VALUE, base + (unsigned)n, "'|' is not closed");
	}
	if (len == 0) {
		free(buf);
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "%s is empty", ps->kw);
	}
	*out = buf;
	*outlen = len;
	return 0;
}

static int
kw_content(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_item *it;
	uint8_t *pat = NULL;
	uint32_t len = 0;
	bool neg = false;

	if (content_bytes(ps, v, &pat, &len, &neg) != 0)
		return -EINVAL;
	it = new_item(ps, DET_ITEM_CONTENT, (uint16_t)kw);
	if (it == NULL) {
		free(pat);
		return -EINVAL;
	}
	it->c.pat = pat;
	it->c.len = len;
	if (neg)
		it->c.flags |= DET_C_NEGATED;
	ps->last_content = (int)(it - ps->r->items);
	ps->last_moved = false;
	return 0;
}

static void
free_content(struct det_item *it)
{
	free(it->c.pat);
	it->c.pat = NULL;
}

static struct det_content *
last_content(struct pstate *ps)
{
	if (ps->last_content < 0) {
		fail(ps, DET_R_SYNTAX, ps->kw_off,
				"'%s' modifies a content, but no content precedes it", ps->kw);
		return NULL;
	}
	return &ps->r->items[ps->last_content].c;
}

static int
kw_nocase(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_content *c = last_content(ps);

	(void)v;
	(void)kw;
	if (c == NULL)
		return -EINVAL;
	c->flags |= DET_C_NOCASE;
	return 0;
}

static int
kw_pos(struct pstate *ps, const char *v, uint32_t flag, int32_t *field, long min)
{
	struct det_content *c = last_content(ps);
	long x;

	if (c == NULL)
		return -EINVAL;
	if (c->flags & DET_C_STARTSWITH)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"%s cannot follow startswith (which fixes offset and depth)",
				ps->kw);
	if (c->flags & flag)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"%s given twice for the same content", ps->kw);
	if (parse_int(v, min, DET_POS_MAX, &x) != 0)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"%s '%s' is not a number from %ld to %d", ps->kw, v, min,
				DET_POS_MAX);
	c->flags |= flag;
	*field = (int32_t)x;
	return 0;
}

static int
kw_offset(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_content *c = last_content(ps);

	(void)kw;
	return c == NULL ? -EINVAL : kw_pos(ps, v, DET_C_OFFSET, &c->offset, 0);
}

static int
kw_depth(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_content *c = last_content(ps);

	(void)kw;
	return c == NULL ? -EINVAL : kw_pos(ps, v, DET_C_DEPTH, &c->depth, 1);
}

static int
kw_distance(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_content *c = last_content(ps);

	(void)kw;
	return c == NULL ? -EINVAL : kw_pos(ps, v, DET_C_DISTANCE, &c->distance, -DET_POS_MAX);
}

static int
kw_within(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_content *c = last_content(ps);

	(void)kw;
	return c == NULL ? -EINVAL : kw_pos(ps, v, DET_C_WITHIN, &c->within, 1);
}

static int
kw_startswith(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_content *c = last_content(ps);

	(void)v;
	(void)kw;
	if (c == NULL)
		return -EINVAL;
	if (c->flags & DET_C_STARTSWITH)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"startswith given twice for the same content");
	if (c->flags & (DET_C_OFFSET | DET_C_DEPTH | DET_C_DISTANCE | DET_C_WITHIN))
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"startswith cannot be combined with offset, depth, distance or within");
	/* startswith is offset 0, depth = the content's length */
	c->flags |= DET_C_OFFSET | DET_C_DEPTH | DET_C_STARTSWITH;
	c->offset = 0;
	c->depth = (int32_t)c->len;
	return 0;
}

static int
kw_fast_pattern(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_content *c = last_content(ps);

	(void)kw;
	if (c == NULL)
		return -EINVAL;
	if (ps->have_fast_pattern)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"fast_pattern given twice in one rule");
	/*
	 * "only" and "offset,length" refine how Suricata feeds the pattern to its prefilter;
	 * the whole content must match either way, so using all of it is exact.
	 */
	if (v != NULL && strcmp(v, "only") != 0) {
		long a, b;
		char tmp[64], *comma;

		if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
			return -EINVAL;
		comma = strchr(tmp, ',');
		if (comma == NULL)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"fast_pattern takes no value, 'only', or 'offset,length'");
		*comma = '\0';
		if (parse_uint(tmp, 0, 65535, &a) != 0 ||
				parse_uint(comma + 1, 1, 65535, &b) != 0 ||
				(uint64_t)a + (uint64_t)b > c->len)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"fast_pattern '%s': offset,length must lie inside the %u-byte content",
					v, c->len);
	}
	ps->have_fast_pattern = true;
	c->flags |= DET_C_FAST_PATTERN;
	return 0;
}

static bool
name_in(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

/*
 * prefilter (Suricata): the keyword right before it is the rule's prefilter. After a content
 * (or one of its modifiers) it is fast_pattern. After a pcre, Hyperscan scans that pcre even
 * when it has no literal. After a header, flow or protocol keyword it changes no match: Vigil
 * checks those before any payload inspection anyway, and the rule keeps its payload prefilter.
 */
static int
kw_prefilter(struct pstate *ps, const char *v, unsigned kw)
{
	static const char *const content_kws[] = { "content", "nocase", "offset", "depth",
		"distance", "within", "startswith", "endswith", "rawbytes", "uricontent" };
	static const char *const not_kws[] = { "msg", "sid", "rev", "gid", "priority", "classtype",
		"metadata", "reference", "target", "noalert", "threshold", "detection_filter",
		"fast_pattern", "prefilter" };
	struct det_rule *r = ps->r;
	const char *prev = ps->prev_kw;

	(void)v;
	(void)kw;
	if (prev[0] == '\0' || name_in(prev, not_kws, sizeof(not_kws) / sizeof(not_kws[0])))
		return fail(ps, DET_R_SYNTAX, ps->kw_off,
				"prefilter must directly follow the keyword it selects (a content, a "
				"pcre, or a header keyword such as dsize), not '%s'",
				prev[0] != '\0' ? prev : "the start of the options");
	if (name_in(prev, content_kws, sizeof(content_kws) / sizeof(content_kws[0])) &&
			ps->last_content >= 0 && (unsigned)ps->last_content + 1 == r->n_items) {
		if (ps->have_fast_pattern)
			return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
					"prefilter and fast_pattern both choose the rule's prefilter; "
					"keep one");
		r->items[ps->last_content].c.flags |= DET_C_FAST_PATTERN;
		ps->have_fast_pattern = true;
		return 0;
	}
	if (strcmp(prev, "pcre") == 0 && r->n_items > 0 &&
			r->items[r->n_items - 1].type == DET_ITEM_PCRE) {
		r->items[r->n_items - 1].p.flags |= DET_P_PREFILTER;
		return 0;
	}
	return 0;
}

static int
kw_pcre(struct pstate *ps, const char *v, unsigned kw)
{
	const char *s = v, *close;
	bool neg = false;
	size_t n;
	struct det_item *it;
	uint32_t flags = 0, opts = 0;
	int buf = -1;
	char *expr;
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_code *re;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '!') {
		neg = true;
		s++;
	}
	n = strlen(s);
	/* quoted, or as Suricata also takes it, not */
	if (n > 0 && s[0] == '"') {
		if (n < 2 || s[n - 1] != '"')
			return fail(ps, DET_R_SYNTAX, ps->val_off,
					"pcre needs /regex/flags, e.g. pcre:\"/ab+c/i\"");
		s++;
		n -= 2;
	}
	if (n < 2 || s[0] != '/')
		return fail(ps, DET_R_SYNTAX, ps->val_off,
				"pcre needs /regex/flags, e.g. pcre:\"/ab+c/i\"");
	close = s + n - 1;
	while (close > s && *close != '/')
		close--;
	if (close == s)
		return fail(ps, DET_R_SYNTAX, ps->val_off, "pcre '%s' has no closing '/'", v);
	for (const char *f = close + 1; f < s + n; f++) {
		switch (*f) {
		case 'i':
			flags |= DET_P_CASELESS;
			opts |= PCRE2_CASELESS;
			break;
		case 's':
			flags |= DET_P_DOTALL;
			opts |= PCRE2_DOTALL;
			break;
		case 'm':
			flags |= DET_P_MULTILINE;
			opts |= PCRE2_MULTILINE;
			break;
		case 'x':
			flags |= DET_P_EXTENDED;
			opts |= PCRE2_EXTENDED;
			break;
		case 'A':
			flags |= DET_P_ANCHORED;
			opts |= PCRE2_ANCHORED;
			break;
		case 'E':
			flags |= DET_P_DOLLAR_ENDONLY;
			opts |= PCRE2_DOLLAR_ENDONLY;
			break;
		case 'G':
			flags |= DET_P_UNGREEDY;
			opts |= PCRE2_UNGREEDY;
			break;
		case 'R':
			flags |= DET_P_RELATIVE;
			break;
		case 'O': /* override Suricata's match limits: ours are fixed */
		case 'B': /* rawbytes: the payload is always raw here */
			break;
		default: {
			int b = det_buf_find_pcre(*f);

			if (b < 0)
				return fail(ps, DET_R_INVALID_VALUE,
						ps->val_off + (unsigned)(f - v),
						"'%c' is not a pcre modifier (i s m x A E G R O B, and "
						"U I M H D C P Q S Y V W Z for HTTP buffers)",
						*f);
			if (buf >= 0 && buf != b)
				return fail(ps, DET_R_INVALID_COMBINATION,
						ps->val_off + (unsigned)(f - v),
						"pcre modifiers select two buffers (%s and %s)",
						det_buf_def((unsigned)buf)->name,
						det_buf_def((unsigned)b)->name);
			buf = b;
			break;
		}
		}
	}
	/* Suricata's Q (file_data) is the response body that http.response_body names too */
	if (buf == DET_BUF_FILE_DATA && ps->sticky == DET_BUF_HTTP_RESPONSE_BODY)
		buf = DET_BUF_HTTP_RESPONSE_BODY;
	if (buf >= 0 && ps->sticky != DET_BUF_PKT && (unsigned)buf != ps->sticky)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->val_off,
				"pcre modifier selects %s while the sticky buffer %s is in force "
				"(reset it with pkt_data, or drop the modifier)",
				det_buf_def((unsigned)buf)->name, det_buf_def(ps->sticky)->name);
	if (neg)
		flags |= DET_P_NEGATED;
	expr = strndup(s + 1, (size_t)(close - (s + 1)));
	if (expr == NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "out of memory");
	re = pcre2_compile((PCRE2_SPTR)expr, PCRE2_ZERO_TERMINATED, opts, &errcode, &erroff, NULL);
	if (re == NULL) {
		PCRE2_UCHAR msg[160];

		pcre2_get_error_message(errcode, msg, sizeof(msg));
		free(expr);
		return fail(ps, DET_R_PCRE, ps->val_off + 2 + (unsigned)erroff,
				"pcre does not compile at offset %zu: %s", (size_t)erroff,
				(char *)msg);
	}
	/* JIT is an optimisation: without it the interpreter gives the same answers. */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	if (buf >= 0 && ps->sticky == DET_BUF_PKT) {
		/* a buffer letter puts this pcre alone in that buffer, as a content modifier */
		int span = span_get(ps, (unsigned)buf, NULL, 0, true, ps->kw_off);

		it = span >= 0 ? new_item_in(ps, DET_ITEM_PCRE, (uint16_t)kw, span) : NULL;
	} else {
		it = new_item(ps, DET_ITEM_PCRE, (uint16_t)kw);
	}
	if (it == NULL) {
		pcre2_code_free(re);
		free(expr);
		return -EINVAL;
	}
	it->p.expr = expr;
	it->p.flags = flags;
	it->p.re = re;
	it->relative = (flags & DET_P_RELATIVE) != 0;
	return 0;
}

static void
free_pcre(struct det_item *it)
{
	pcre2_code_free(it->p.re);
	free(it->p.expr);
	it->p.re = NULL;
	it->p.expr = NULL;
}

static int
kw_isdataat(struct pstate *ps, const char *v, unsigned kw)
{
	char tmp[128], *tok, *save;
	struct det_item *it;
	bool neg = false, rel = false, first = true;
	long n = 0;

	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	for (tok = strtok_r(tmp, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		tok = det_strip(tok);
		if (first) {
			if (*tok == '!') {
				neg = true;
				tok++;
			}
			if (parse_uint(tok, 0, DET_POS_MAX, &n) != 0)
				return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
						"isdataat '%s' should be [!]N[,relative]", v);
			first = false;
		} else if (strcmp(tok, "relative") == 0) {
			rel = true;
		} else if (strcmp(tok, "rawbytes") != 0) {
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"isdataat option '%s' is not relative or rawbytes", tok);
		}
	}
	if (first)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "isdataat needs a number");
	if (rel && ps->last_moved && ps->sticky == DET_BUF_PKT && ps->last_content >= 0)
		it = new_item_in(ps, DET_ITEM_ISDATAAT, (uint16_t)kw,
				ps->r->items[ps->last_content].span);
	else
		it = new_item(ps, DET_ITEM_ISDATAAT, (uint16_t)kw);
	if (it == NULL)
		return -EINVAL;
	it->d.n = (int32_t)n;
	it->d.negated = neg;
	it->d.relative = rel;
	it->relative = rel;
	return 0;
}

/* Parse a number in decimal or 0x hex, possibly negative when min < 0. */
static int
parse_num(const char *s, int64_t min, uint64_t max, int64_t *sv, uint64_t *uv)
{
	char *end;
	bool neg = false;
	uint64_t v;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '-') {
		neg = true;
		s++;
	}
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
	while (isspace((unsigned char)*end))
		end++;
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	if (neg) {
		if (min >= 0 || v > (uint64_t)-min)
			return -EINVAL;
		if (sv != NULL)
			*sv = -(int64_t)v;
		return 0;
	}
	if (v > max)
		return -EINVAL;
	if (sv != NULL)
		*sv = (int64_t)v;
	if (uv != NULL)
		*uv = v;
	return 0;
}

/*
 * byte_test: bytes, [!]op, value, offset [, relative] [, big|little] [, string, hex|dec|oct]
 *            [, bitmask m]
 * byte_jump: bytes, offset [, relative] [, multiplier n] [, big|little] [, string, hex|dec|oct]
 *            [, align] [, from_beginning|from_end] [, post_offset n] [, bitmask m]
 */
static int
kw_byte(struct pstate *ps, const char *v, unsigned kw, bool jump)
{
	char tmp[256], *tok[16], *save, *t;
	unsigned n = 0, i;
	struct det_byte b = { .multiplier = 1 };
	bool relative = false, have_string = false;
	int64_t x;
	uint64_t u;
	struct det_item *it;

	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	for (t = strtok_r(tmp, ",", &save); t != NULL && n < 16; t = strtok_r(NULL, ",", &save))
		tok[n++] = det_strip(t);
	if (n < (jump ? 2u : 4u))
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "%s needs %s", ps->kw,
				jump ? "bytes, offset[, options]"
				     : "bytes, operator, value, offset[, options]");
	if (parse_num(tok[0], 1, 20, &x, NULL) != 0)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"%s: '%s' is not a byte count (1 to 8, up to 20 with string)",
				ps->kw, tok[0]);
	b.nbytes = (uint8_t)x;
	i = 1;
	if (!jump) {
		const char *op = tok[1];
		static const struct {
			const char *s;
			uint8_t op;
		} ops[] = { { "<=", DET_BOP_LE }, { ">=", DET_BOP_GE }, { "<", DET_BOP_LT },
			{ ">", DET_BOP_GT }, { "=", DET_BOP_EQ }, { "&", DET_BOP_AND },
			{ "^", DET_BOP_XOR } };
		size_t k;

		if (*op == '!') {
			b.negated = true;
			op++;
		}
		for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
			if (strcmp(op, ops[k].s) == 0)
				break;
		if (k == sizeof(ops) / sizeof(ops[0]))
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"byte_test operator '%s' is not one of < > = <= >= & ^ (with an "
					"optional !)",
					tok[1]);
		b.op = ops[k].op;
		if (parse_num(tok[2], 0, UINT64_MAX, NULL, &u) != 0)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"byte_test value '%s' is not a number", tok[2]);
		b.value = u;
		i = 3;
	}
	if (parse_num(tok[i], -DET_POS_MAX, DET_POS_MAX, &x, NULL) != 0)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "%s offset '%s' is not a number",
				ps->kw, tok[i]);
	b.offset = (int32_t)x;
	for (i++; i < n; i++) {
		char *o = tok[i], *arg = o;

		while (*arg && !isspace((unsigned char)*arg))
			arg++;
		if (*arg)
			*arg++ = '\0';
		arg = det_strip(arg);
		if (strcmp(o, "relative") == 0) {
			relative = true;
		} else if (strcmp(o, "big") == 0) {
			b.little = false;
		} else if (strcmp(o, "little") == 0) {
			b.little = true;
		} else if (strcmp(o, "string") == 0) {
			have_string = true;
		} else if (strcmp(o, "hex") == 0 || strcmp(o, "dec") == 0 ||
				strcmp(o, "oct") == 0) {
			b.base = o[0] == 'h' ? 16 : o[0] == 'd' ? 10 : 8;
		} else if (strcmp(o, "bitmask") == 0 &&
				parse_num(arg, 1, UINT64_MAX, NULL, &u) == 0) {
			b.bitmask = u;
		} else if (jump && strcmp(o, "align") == 0) {
			b.align = true;
		} else if (jump && strcmp(o, "from_beginning") == 0) {
			b.from_beginning = true;
		} else if (jump && strcmp(o, "from_end") == 0) {
			b.from_end = true;
		} else if (jump && strcmp(o, "multiplier") == 0 &&
				parse_num(arg, 1, 65535, &x, NULL) == 0) {
			b.multiplier = (uint32_t)x;
		} else if (jump && strcmp(o, "post_offset") == 0 &&
				parse_num(arg, -DET_POS_MAX, DET_POS_MAX, &x, NULL) == 0) {
			b.post_offset = (int32_t)x;
		} else if (strcmp(o, "dce") == 0) {
			return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
					"%s option dce needs the DCERPC parser Vigil does not have",
					ps->kw);
		} else {
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"%s option '%s%s%s' is not supported or malformed", ps->kw,
					o, *arg ? " " : "", arg);
		}
	}
	if (have_string != (b.base != 0))
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"%s: string needs a base (hex, dec or oct) and a base needs string",
				ps->kw);
	if (!have_string && b.nbytes > 8)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"%s reads at most 8 bytes unless they are a string", ps->kw);
	if (b.from_beginning && b.from_end)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->val_off,
				"byte_jump cannot jump both from_beginning and from_end");
	it = new_item(ps, jump ? DET_ITEM_BYTE_JUMP : DET_ITEM_BYTE_TEST, (uint16_t)kw);
	if (it == NULL)
		return -EINVAL;
	it->b = b;
	it->relative = relative;
	return 0;
}

static int
kw_byte_test(struct pstate *ps, const char *v, unsigned kw)
{
	return kw_byte(ps, v, kw, false);
}

static int
kw_byte_jump(struct pstate *ps, const char *v, unsigned kw)
{
	return kw_byte(ps, v, kw, true);
}

/*
 * flowbits: set|unset|toggle,name; isset|isnotset,name[|name...]; noalert. The names become
 * bits of the flow at compile time.
 */
/*
 * flowint: name, op [, value]. op: = + - (change it when the rule matches), == != < <= > >=
 * (compare: the variable must be set), isset, notset/isnotset. Values are numbers (Suricata
 * also takes another variable's name there: refused).
 */
static int
kw_flowint(struct pstate *ps, const char *v, unsigned kw)
{
	static const struct {
		const char *op;
		uint8_t code;
		bool value;
	} ops[] = { { "=", DET_FI_SET, true }, { "+", DET_FI_ADD, true }, { "-", DET_FI_SUB, true },
		{ "==", DET_FI_EQ, true }, { "!=", DET_FI_NE, true }, { "<", DET_FI_LT, true },
		{ "<=", DET_FI_LE, true }, { ">", DET_FI_GT, true }, { ">=", DET_FI_GE, true },
		{ "isset", DET_FI_ISSET, false }, { "notset", DET_FI_NOTSET, false },
		{ "isnotset", DET_FI_NOTSET, false } };
	struct det_rule *r = ps->r;
	struct det_flowint fi = { 0 }, *nv;
	char tmp[256], *tok[4], *save;
	unsigned n = 0;
	size_t k;
	long val = 0;

	(void)kw;
	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	for (char *t = strtok_r(tmp, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		if (n == 3)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"flowint '%s' should be name, op[, value]", v);
		tok[n++] = det_strip(t);
	}
	if (n < 2 || *tok[0] == '\0' || strpbrk(tok[0], " \t") != NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"flowint '%s' should be name, op[, value]", v);
	for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
		if (strcmp(tok[1], ops[k].op) == 0)
			break;
	if (k == sizeof(ops) / sizeof(ops[0]))
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"flowint operator '%s' is not =, +, -, ==, !=, <, <=, >, >=, isset or "
				"notset",
				tok[1]);
	if (ops[k].value != (n == 3))
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "flowint %s %s", tok[1],
				ops[k].value ? "needs a value" : "takes no value");
	if (n == 3 && parse_uint(tok[2], 0, UINT32_MAX, &val) != 0)
		return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
				"flowint value '%s' is not a number from 0 to 4294967295 (another "
				"variable's name is not supported)",
				tok[2]);
	fi.op = ops[k].code;
	fi.value = (uint32_t)val;
	fi.name = strdup(tok[0]);
	if (fi.name == NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "out of memory");
	nv = realloc(r->fi, (r->n_fi + 1) * sizeof(*nv));
	if (nv == NULL) {
		free(fi.name);
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "out of memory");
	}
	r->fi = nv;
	r->fi[r->n_fi++] = fi;
	return 0;
}

static int
kw_flowbits(struct pstate *ps, const char *v, unsigned kw)
{
	static const struct {
		const char *name;
		uint8_t cmd;
	} cmds[] = { { "set", DET_FB_SET }, { "unset", DET_FB_UNSET }, { "toggle", DET_FB_TOGGLE },
		{ "isset", DET_FB_ISSET }, { "isnotset", DET_FB_ISNOTSET } };
	struct det_rule *r = ps->r;
	struct det_flowbit fb = { 0 }, *nv;
	char tmp[512], *comma, *name, *save, *cmd;
	size_t k;

	(void)kw;
	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	comma = strchr(tmp, ',');
	if (comma != NULL)
		*comma = '\0';
	cmd = det_strip(tmp);
	if (strcmp(cmd, "noalert") == 0 && comma == NULL) {
		r->noalert = true;
		return 0;
	}
	for (k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		if (strcmp(cmd, cmds[k].name) == 0)
			break;
	if (k == sizeof(cmds) / sizeof(cmds[0]))
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"flowbits command '%s' is not set, unset, toggle, isset, isnotset or "
				"noalert",
				cmd);
	if (comma == NULL || *det_strip(comma + 1) == '\0')
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "flowbits %s needs a name", cmd);
	fb.cmd = cmds[k].cmd;
	for (name = strtok_r(comma + 1, "|", &save); name != NULL;
			name = strtok_r(NULL, "|", &save)) {
		name = det_strip(name);
		if (*name == '\0' || strpbrk(name, " \t&,") != NULL) {
			for (unsigned i = 0; i < fb.n; i++)
				free(fb.names[i]);
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"flowbits name '%s' is empty or has spaces, '&' or ','",
					name);
		}
		if (fb.n == 1 && fb.cmd != DET_FB_ISSET && fb.cmd != DET_FB_ISNOTSET) {
			for (unsigned i = 0; i < fb.n; i++)
				free(fb.names[i]);
			return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
					"flowbits %s takes one name ('|' lists are for isset and "
					"isnotset)",
					cmd);
		}
		if (fb.n == DET_FB_NAMES) {
			for (unsigned i = 0; i < fb.n; i++)
				free(fb.names[i]);
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"flowbits: at most %d names", DET_FB_NAMES);
		}
		fb.names[fb.n] = strdup(name);
		if (fb.names[fb.n] == NULL)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "out of memory");
		fb.n++;
	}
	nv = realloc(r->fb, (r->n_fb + 1) * sizeof(*nv));
	if (nv == NULL) {
		for (unsigned i = 0; i < fb.n; i++)
			free(fb.names[i]);
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "out of memory");
	}
	r->fb = nv;
	r->fb[r->n_fb++] = fb;
	return 0;
}

static int
kw_flow(struct pstate *ps, const char *v, unsigned kw)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} opts[] = {
		{ "to_server", DET_FLOW_TO_SERVER },
		{ "from_client", DET_FLOW_TO_SERVER },
		{ "to_client", DET_FLOW_TO_CLIENT },
		{ "from_server", DET_FLOW_TO_CLIENT },
		{ "established", DET_FLOW_ESTABLISHED },
		{ "not_established", DET_FLOW_NOT_ESTABLISHED },
		{ "stateless", DET_FLOW_STATELESS },
		{ "only_stream", DET_FLOW_ONLY_STREAM },
		{ "no_stream", DET_FLOW_NO_STREAM },
	};
	char tmp[256], *tok, *save;
	uint32_t f = 0;

	(void)kw;
	if (ps->have_flow)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off, "flow given twice");
	ps->have_flow = true;
	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	for (tok = strtok_r(tmp, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		tok = det_strip(tok);
		for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
			if (strcmp(tok, opts[i].name) == 0)
				break;
		if (i == sizeof(opts) / sizeof(opts[0])) {
			if (strcmp(tok, "only_frag") == 0 || strcmp(tok, "no_frag") == 0)
				return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
						"flow option '%s' is not supported", tok);
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"flow option '%s' is not one of to_server, to_client, "
					"from_server, from_client, established, not_established, "
					"stateless, only_stream, no_stream",
					tok);
		}
		f |= opts[i].flag;
	}
	if ((f & DET_FLOW_TO_SERVER) && (f & DET_FLOW_TO_CLIENT))
		return fail(ps, DET_R_INVALID_COMBINATION, ps->val_off,
				"flow cannot be both to_server and to_client");
	if ((f & DET_FLOW_ESTABLISHED) && (f & DET_FLOW_NOT_ESTABLISHED))
		return fail(ps, DET_R_INVALID_COMBINATION, ps->val_off,
				"flow cannot be both established and not_established");
	if ((f & DET_FLOW_ONLY_STREAM) && (f & DET_FLOW_NO_STREAM))
		return fail(ps, DET_R_INVALID_COMBINATION, ps->val_off,
				"flow cannot be both only_stream and no_stream");
	if (f == 0)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "flow needs at least one option");
	ps->r->flow = f;
	return 0;
}

static int
kw_dsize(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_rule *r = ps->r;
	const char *s = v, *rng;
	long a, b;

	(void)kw;
	if (r->dsize_op != DET_DSIZE_NONE)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off, "dsize given twice");
	ps->dsize_off = ps->kw_off;
	while (isspace((unsigned char)*s))
		s++;
	rng = strstr(s, "<>");
	if (rng != NULL) {
		char tmp[64];

		if ((size_t)(rng - s) >= sizeof(tmp))
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"dsize range '%s' is too long", v);
		snprintf(tmp, sizeof(tmp), "%.*s", (int)(rng - s), s);
		if (parse_uint(tmp, 0, 65535, &a) != 0 || parse_uint(rng + 2, 0, 65535, &b) != 0 ||
				b <= a + 1)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"dsize range '%s' should be lo<>hi with lo+1 < hi (exclusive)",
					v);
		r->dsize_op = DET_DSIZE_RANGE;
		r->dsize_lo = (uint32_t)a;
		r->dsize_hi = (uint32_t)b;
		return 0;
	}
	if (strncmp(s, "<=", 2) == 0) {
		r->dsize_op = DET_DSIZE_LE;
		s += 2;
	} else if (strncmp(s, ">=", 2) == 0) {
		r->dsize_op = DET_DSIZE_GE;
		s += 2;
	} else if (*s == '<') {
		r->dsize_op = DET_DSIZE_LT;
		s++;
	} else if (*s == '>') {
		r->dsize_op = DET_DSIZE_GT;
		s++;
	} else if (*s == '!') {
		r->dsize_op = DET_DSIZE_NE;
		s++;
	} else {
		r->dsize_op = DET_DSIZE_EQ;
	}
	if (parse_uint(s, 0, 65535, &a) != 0) {
		r->dsize_op = DET_DSIZE_NONE;
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"dsize '%s' should be N, !N, <N, >N, <=N, >=N or lo<>hi (0-65535)",
				v);
	}
	if (r->dsize_op == DET_DSIZE_LT && a == 0) {
		r->dsize_op = DET_DSIZE_NONE;
		return fail(ps, DET_R_CANNOT_MATCH, ps->val_off, "dsize:<0 can never match");
	}
	r->dsize_lo = r->dsize_hi = (uint32_t)a;
	return 0;
}

static int
kw_flags(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_rule *r = ps->r;
	const char *s = v, *comma = strchr(v, ',');
	uint8_t bits = 0, ignore = 0;
	uint8_t mode = DET_TF_EXACT;
	bool zero = false;

	(void)kw;
	if (r->tflags_mode != DET_TF_NONE)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off, "flags given twice");
	for (; *s && s != comma; s++) {
		switch (*s) {
		case ' ':
			continue;
		case '+':
			mode = DET_TF_ALL;
			continue;
		case '*':
			mode = DET_TF_ANY;
			continue;
		case '!':
			mode = DET_TF_NOT;
			continue;
		case 'F':
			bits |= 0x01;
			continue;
		case 'S':
			bits |= 0x02;
			continue;
		case 'R':
			bits |= 0x04;
			continue;
		case 'P':
			bits |= 0x08;
			continue;
		case 'A':
			bits |= 0x10;
			continue;
		case 'U':
			bits |= 0x20;
			continue;
		case 'E':
		case '2':
			bits |= 0x40;
			continue;
		case 'C':
		case 'W':
		case '1':
			bits |= 0x80;
			continue;
		case '0':
			zero = true;
			continue;
		default:
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off + (unsigned)(s - v),
					"'%c' is not a TCP flag (F S R P A U C E, 0 for none, modifiers "
					"+ * !)",
					*s);
		}
	}
	if (comma != NULL) {
		for (s = comma + 1; *s; s++) {
			static const char names[] = "FSRPAUEC";
			const char *p = strchr(names, *s);

			if (*s == ' ')
				continue;
			if (*s == '1') {
				ignore |= 0x80;
				continue;
			}
			if (*s == '2') {
				ignore |= 0x40;
				continue;
			}
			if (p == NULL || *s == '\0')
				return fail(ps, DET_R_INVALID_VALUE,
						ps->val_off + (unsigned)(s - v),
						"'%c' is not a TCP flag in the mask", *s);
			ignore |= (uint8_t)(1u << (p - names));
		}
	}
	if (zero && bits != 0)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"flags '0' (no flag set) cannot be combined with flag letters");
	if (!zero && bits == 0)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "flags needs at least one flag");
	r->tflags_mode = zero ? DET_TF_EXACT : mode;
	r->tflags = bits;
	r->tflags_ignore = ignore;
	return 0;
}

static int
parse_thresh(struct pstate *ps, const char *v, bool df)
{
	struct det_threshold *th = &ps->r->th;
	char tmp[256], *tok, *save;
	bool have_type = df, have_track = false, have_count = false, have_secs = false;
	bool have_mult = false;

	if (ps->have_threshold || ps->have_df)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"only one threshold or detection_filter per rule");
	if (df)
		ps->have_df = true;
	else
		ps->have_threshold = true;
	th->type = df ? DET_TH_DETECTION_FILTER : DET_TH_NONE;
	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	for (tok = strtok_r(tmp, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *key = det_strip(tok), *val = key;
		long n;

		while (*val && !isspace((unsigned char)*val))
			val++;
		if (*val)
			*val++ = '\0';
		val = det_strip(val);
		if (strcmp(key, "type") == 0 && !df) {
			if (strcmp(val, "limit") == 0)
				th->type = DET_TH_LIMIT;
			else if (strcmp(val, "threshold") == 0)
				th->type = DET_TH_THRESHOLD;
			else if (strcmp(val, "both") == 0)
				th->type = DET_TH_BOTH;
			else if (strcmp(val, "backoff") == 0)
				th->type = DET_TH_BACKOFF;
			else
				return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
						"threshold type '%s' is not limit, threshold, both or "
						"backoff",
						val);
			have_type = true;
		} else if (strcmp(key, "track") == 0) {
			if (strcmp(val, "by_src") == 0)
				th->track = DET_TRACK_SRC;
			else if (strcmp(val, "by_dst") == 0)
				th->track = DET_TRACK_DST;
			else if (strcmp(val, "by_rule") == 0)
				th->track = DET_TRACK_RULE;
			else if (strcmp(val, "by_both") == 0)
				th->track = DET_TRACK_BOTH;
			else if (strcmp(val, "by_flow") == 0)
				th->track = DET_TRACK_FLOW;
			else
				return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
						"track '%s' is not by_src, by_dst, by_rule, by_both or "
						"by_flow",
						val);
			have_track = true;
		} else if (strcmp(key, "count") == 0) {
			if (parse_uint(val, 1, UINT32_MAX, &n) != 0)
				return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
						"count '%s' is not a positive number", val);
			th->count = (uint32_t)n;
			have_count = true;
		} else if (strcmp(key, "seconds") == 0) {
			if (parse_uint(val, 1, 86400 * 365, &n) != 0)
				return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
						"seconds '%s' is not a positive number", val);
			th->seconds = (uint32_t)n;
			have_secs = true;
		} else if (strcmp(key, "unique_on") == 0 && df) {
			if (strcmp(val, "src_port") == 0)
				th->unique_on = DET_UNIQ_SRC_PORT;
			else if (strcmp(val, "dst_port") == 0)
				th->unique_on = DET_UNIQ_DST_PORT;
			else
				return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
						"unique_on '%s' is not src_port or dst_port", val);
		} else if (strcmp(key, "multiplier") == 0 && !df) {
			if (parse_uint(val, 2, UINT32_MAX, &n) != 0)
				return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
						"multiplier '%s' is not a number from 2", val);
			th->multiplier = (uint32_t)n;
			have_mult = true;
		} else if (strcmp(key, "unique_on") == 0 || strcmp(key, "multiplier") == 0) {
			return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
					"%s option '%s' is not supported", ps->kw, key);
		} else {
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"'%s' is not a %s option (%s track, count, seconds)", key,
					ps->kw, df ? "" : "type,");
		}
	}
	if (th->type == DET_TH_BACKOFF) {
		/* Suricata: backoff counts a flow's matches, without a window */
		if (!have_track || !have_count || !have_mult || have_secs ||
				th->track != DET_TRACK_FLOW)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"threshold type backoff needs track by_flow, count and "
					"multiplier (and no seconds)");
		return 0;
	}
	if (have_mult)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"multiplier is for threshold type backoff only");
	if (!have_type || !have_track || !have_count || !have_secs)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"%s needs %strack, count and seconds", ps->kw, df ? "" : "type, ");
	return 0;
}

static int
kw_threshold(struct pstate *ps, const char *v, unsigned kw)
{
	(void)kw;
	return parse_thresh(ps, v, false);
}

static int
kw_detection_filter(struct pstate *ps, const char *v, unsigned kw)
{
	(void)kw;
	return parse_thresh(ps, v, true);
}

/* An item of any type: what its keyword allocated. */
static void
free_item_any(struct det_item *it)
{
	if (it->type == DET_ITEM_CONTENT)
		free_content(it);
	else if (it->type == DET_ITEM_PCRE)
		free_pcre(it);
}

/* ---- application-layer keywords ---- */

static int
kw_endswith(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_content *c = last_content(ps);

	(void)v;
	(void)kw;
	if (c == NULL)
		return -EINVAL;
	if (c->flags & DET_C_ENDSWITH)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"endswith given twice for the same content");
	c->flags |= DET_C_ENDSWITH;
	return 0;
}

/* A sticky buffer: the payload keywords that follow inspect buffer b. */
static int
kw_sticky(struct pstate *ps, unsigned b)
{
	ps->sticky = b;
	ps->sticky_nxf = 0;
	ps->sticky_span = -1;
	ps->sticky_off = ps->kw_off;
	/* nocase, depth, ... after it refer to its contents, not to those before it */
	ps->last_content = -1;
	ps->last_moved = false;
	return 0;
}

static int
kw_pkt_data(struct pstate *ps, const char *v, unsigned kw)
{
	(void)v;
	(void)kw;
	ps->sticky = DET_BUF_PKT;
	ps->sticky_nxf = 0;
	ps->sticky_span = -1;
	ps->last_moved = false;
	return 0;
}

/* A legacy content modifier (content:"x"; http_uri;): the content moves to buffer b. */
static int
kw_modifier(struct pstate *ps, unsigned b)
{
	struct det_rule *r = ps->r;
	struct det_item *it;
	int span;

	if (ps->last_content < 0)
		return fail(ps, DET_R_SYNTAX, ps->kw_off,
				"'%s' modifies a content, but no content precedes it", ps->kw);
	if (ps->sticky != DET_BUF_PKT)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"content modifier '%s' follows the sticky buffer %s: reset it with "
				"pkt_data first, or use the sticky buffer %s",
				ps->kw, det_buf_def(ps->sticky)->name, det_buf_def(b)->name);
	it = &r->items[ps->last_content];
	if (r->spans[it->span].buf != DET_BUF_PKT)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"'%s': the content is already in %s", ps->kw,
				det_buf_def(r->spans[it->span].buf)->name);
	span = span_get(ps, b, NULL, 0, true, ps->kw_off);
	if (span < 0)
		return -EINVAL;
	it->span = (uint8_t)span;
	ps->last_moved = true;
	return 0;
}

static int
kw_uricontent(struct pstate *ps, const char *v, unsigned kw)
{
	int span;

	if (ps->sticky != DET_BUF_PKT)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"uricontent follows the sticky buffer %s: use http.uri; content:...",
				det_buf_def(ps->sticky)->name);
	span = span_get(ps, DET_BUF_HTTP_URI, NULL, 0, true, ps->kw_off);
	if (span < 0 || kw_content(ps, v, kw) != 0)
		return -EINVAL;
	ps->r->items[ps->last_content].span = (uint8_t)span;
	ps->last_moved = true;
	return 0;
}

static int
kw_transform(struct pstate *ps, const char *v, unsigned kw)
{
	int xf = det_xf_find(ps->kw);

	(void)v;
	(void)kw;
	if (ps->sticky == DET_BUF_PKT)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"transform '%s' needs a sticky buffer right before it (e.g. dns.query; "
				"%s;)",
				ps->kw, ps->kw);
	/*
	 * After items, as in Suricata: the transforms add up and the items that follow inspect
	 * the buffer so transformed (dns.query; content:"a"; startswith; dotprefix;
	 * content:".b"; endswith;).
	 */
	ps->sticky_span = -1;
	if (ps->sticky_nxf == DET_XF_MAX)
		return fail(ps, DET_R_INVALID_VALUE, ps->kw_off,
				"more than %d transforms on one buffer", DET_XF_MAX);
	ps->sticky_xf[ps->sticky_nxf++] = (uint8_t)xf;
	return 0;
}

/*
 * A comparison as Suricata's integer keywords write it: N, !N, <N, >N, <=N, >=N, lo<>hi or
 * lo-hi (both exclusive). Returns 0 or -EINVAL.
 */
static int
parse_cmp(const char *v, uint64_t max, struct det_cmp *c)
{
	char tmp[64], *s, *sep;
	uint64_t a, b;
	unsigned skip = 0;

	if (strlen(v) >= sizeof(tmp))
		return -EINVAL;
	strcpy(tmp, v);
	s = det_strip(tmp);
	memset(c, 0, sizeof(*c));
	if ((sep = strstr(s, "<>")) != NULL || (*s != '-' && (sep = strchr(s, '-')) != NULL)) {
		unsigned w = sep[0] == '<' ? 2 : 1;

		*sep = '\0';
		if (parse_num(s, 0, max, NULL, &a) != 0 ||
				parse_num(sep + w, 0, max, NULL, &b) != 0 || b <= a + 1)
			return -EINVAL;
		c->op = DET_NOP_RANGE;
		c->lo = a;
		c->hi = b;
		return 0;
	}
	if (strncmp(s, "<=", 2) == 0) {
		c->op = DET_NOP_LE;
		skip = 2;
	} else if (strncmp(s, ">=", 2) == 0) {
		c->op = DET_NOP_GE;
		skip = 2;
	} else if (*s == '<') {
		c->op = DET_NOP_LT;
		skip = 1;
	} else if (*s == '>') {
		c->op = DET_NOP_GT;
		skip = 1;
	} else if (*s == '!') {
		c->op = DET_NOP_NE;
		skip = 1;
	} else {
		c->op = DET_NOP_EQ;
	}
	if (parse_num(s + skip, 0, max, NULL, &a) != 0)
		return -EINVAL;
	if (c->op == DET_NOP_LT && a == 0)
		return -EINVAL;
	c->lo = a;
	return 0;
}

static int
kw_bsize(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_cmp c;
	struct det_item *it;

	if (ps->sticky == DET_BUF_PKT)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"bsize tests the length of a sticky buffer: name one before it (e.g. "
				"http.uri; bsize:10;)");
	if (parse_cmp(v, UINT32_MAX, &c) != 0)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"bsize '%s' should be N, !N, <N, >N, <=N, >=N, lo<>hi or lo-hi", v);
	it = new_item(ps, DET_ITEM_BSIZE, (uint16_t)kw);
	if (it == NULL)
		return -EINVAL;
	it->z = c;
	return 0;
}

/* urilen:[<|>]N[<>M][,norm|raw]: the length of the normalised (default) or raw URI. */
static int
kw_urilen(struct pstate *ps, const char *v, unsigned kw)
{
	char tmp[64], *comma, *s;
	struct det_cmp c = { 0 };
	struct det_item *it;
	bool raw = false;
	uint64_t a, b;
	int span;

	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	comma = strchr(tmp, ',');
	if (comma != NULL) {
		char *opt = det_strip(comma + 1);

		*comma = '\0';
		if (strcmp(opt, "raw") == 0)
			raw = true;
		else if (strcmp(opt, "norm") != 0)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"urilen option '%s' is not norm or raw", opt);
	}
	s = det_strip(tmp);
	if (strstr(s, "<>") != NULL) {
		char *sep = strstr(s, "<>");

		*sep = '\0';
		if (parse_num(s, 0, 65535, NULL, &a) != 0 ||
				parse_num(sep + 2, 0, 65535, NULL, &b) != 0 || b <= a)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"urilen range '%s' should be lo<>hi with lo < hi", v);
		c.op = DET_NOP_RANGE;
		c.lo = a;
		c.hi = b;
	} else {
		c.op = *s == '<' ? DET_NOP_LT : *s == '>' ? DET_NOP_GT : DET_NOP_EQ;
		if (parse_num(s + (c.op != DET_NOP_EQ), 0, 65535, NULL, &a) != 0)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"urilen '%s' should be N, <N, >N or lo<>hi, then ,norm or ,raw",
					v);
		c.lo = a;
	}
	span = span_get(ps, raw ? DET_BUF_HTTP_URI_RAW : DET_BUF_HTTP_URI, NULL, 0, true,
			ps->kw_off);
	it = span >= 0 ? new_item_in(ps, DET_ITEM_BSIZE, (uint16_t)kw, span) : NULL;
	if (it == NULL)
		return -EINVAL;
	it->z = c;
	return 0;
}

/* A value in quotes or not, with an optional leading '!': the text and whether negated. */
static int
plain_value(struct pstate *ps, const char *v, char *out, size_t size, bool *neg)
{
	size_t n;

	while (isspace((unsigned char)*v))
		v++;
	*neg = *v == '!';
	if (*neg)
		v++;
	if (copy_value(ps, out, size, v) != 0)
		return -EINVAL;
	n = strlen(out);
	if (n >= 2 && out[0] == '"' && out[n - 1] == '"') {
		memmove(out, out + 1, n - 2);
		out[n - 2] = '\0';
	}
	if (out[0] == '\0')
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "%s needs a value", ps->kw);
	return 0;
}

/* A content of literal text in buffer b, added for a legacy keyword. */
static struct det_item *
add_text_content(struct pstate *ps, unsigned b, const char *text, bool neg, unsigned kw)
{
	int span = span_get(ps, b, NULL, 0, !buf_multi(b), ps->kw_off);
	struct det_item *it;
	uint8_t *pat;
	size_t n = strlen(text);

	if (span < 0)
		return NULL;
	pat = malloc(n);
	if (pat == NULL) {
		fail(ps, DET_R_INVALID_VALUE, ps->kw_off, "out of memory");
		return NULL;
	}
	memcpy(pat, text, n);
	it = new_item_in(ps, DET_ITEM_CONTENT, (uint16_t)kw, span);
	if (it == NULL) {
		free(pat);
		return NULL;
	}
	it->c.pat = pat;
	it->c.len = (uint32_t)n;
	if (neg)
		it->c.flags |= DET_C_NEGATED;
	return it;
}

/* tls.subject, tls.issuerdn: the certificate's subject or issuer holds the text. */
static int
kw_tls_dn(struct pstate *ps, const char *v, unsigned kw)
{
	char tmp[512];
	bool neg;

	if (plain_value(ps, v, tmp, sizeof(tmp), &neg) != 0)
		return -EINVAL;
	return add_text_content(ps,
			       strcmp(ps->kw, "tls.subject") == 0 ? DET_BUF_TLS_CERT_SUBJECT
								  : DET_BUF_TLS_CERT_ISSUER,
			       tmp, neg, kw) != NULL
			       ? 0
			       : -EINVAL;
}

/*
 * ssh.protoversion: the banner's protocol version is the value ("2_compat": 2.x or 1.99);
 * ssh.softwareversion: the software version starts with it.
 */
static int
kw_ssh_version(struct pstate *ps, const char *v, unsigned kw)
{
	bool proto = strcmp(ps->kw, "ssh.protoversion") == 0, neg;
	char tmp[256];
	struct det_item *it;

	if (plain_value(ps, v, tmp, sizeof(tmp), &neg) != 0)
		return -EINVAL;
	if (neg)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "%s cannot be negated", ps->kw);
	if (proto && strcmp(tmp, "2_compat") == 0) {
		int errcode, span = span_get(ps, DET_BUF_SSH_PROTO, NULL, 0, true, ps->kw_off);
		PCRE2_SIZE erroff;
		pcre2_code *re;

		if (span < 0)
			return -EINVAL;
		re = pcre2_compile((PCRE2_SPTR) "^(?:2|1\\.99$)", PCRE2_ZERO_TERMINATED, 0,
				&errcode, &erroff, NULL);
		it = re != NULL ? new_item_in(ps, DET_ITEM_PCRE, (uint16_t)kw, span) : NULL;
		if (it == NULL) {
			pcre2_code_free(re);
			return fail(ps, DET_R_INVALID_VALUE, ps->kw_off, "out of memory");
		}
		it->p.re = re;
		it->p.expr = strdup("^(?:2|1\\.99$)");
		return it->p.expr != NULL ? 0 : fail(ps, DET_R_INVALID_VALUE, 0, "out of memory");
	}
	it = add_text_content(ps, proto ? DET_BUF_SSH_PROTO : DET_BUF_SSH_SOFTWARE, tmp, false, kw);
	if (it == NULL)
		return -EINVAL;
	it->c.flags |= DET_C_OFFSET | DET_C_DEPTH;
	it->c.depth = (int32_t)it->c.len;
	if (proto) {
		/* the whole version: nothing after it */
		it->c.flags |= DET_C_ENDSWITH;
	}
	return 0;
}

/* tls.version:1.2 (1.0 1.1 1.2 1.3, 3.0 for SSL 3, or a 0x0303 number). */
static int
parse_tls_version(const char *v, uint64_t *out)
{
	static const struct {
		const char *s;
		uint16_t v;
	} names[] = { { "1.0", 0x0301 }, { "1.1", 0x0302 }, { "1.2", 0x0303 }, { "1.3", 0x0304 },
		{ "3.0", 0x0300 }, { "2.0", 0x0002 } };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(v, names[i].s) == 0) {
			*out = names[i].v;
			return 0;
		}
	if (strncmp(v, "0x", 2) == 0 && parse_num(v, 0, 0xffff, NULL, out) == 0)
		return 0;
	return -EINVAL;
}

/* tls.version, dns.opcode, dns.rrtype, dns.rcode, tls.cert_chain_len */
static int
kw_number(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_rule *r = ps->r;
	int n = det_num_find(ps->kw);
	const struct det_num_def *d = det_num_def((unsigned)n);
	struct det_num num = { .num = (uint8_t)n, .kw = (uint16_t)kw, .col = ps->kw_off };
	struct det_num *nv;
	char tmp[64];

	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	/* Suricata's multi-integer form: "value,index" for numbers of several instances */
	char *comma = strchr(tmp, ',');

	if (comma != NULL) {
		const char *ix = det_strip(comma + 1);
		int64_t sv;
		uint64_t uv;

		*comma = '\0';
		if (n != DET_NUM_DNS_RRTYPE)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"%s '%s': only dns.rrtype takes an index (value,index)",
					ps->kw, v);
		if (strcmp(ix, "any") == 0) {
			num.inst = DET_NI_ANY;
		} else if (strcmp(ix, "all") == 0) {
			num.inst = DET_NI_ALL;
		} else if (parse_num(ix, -DET_NUM_INDEX_MAX - 1, DET_NUM_INDEX_MAX, &sv, &uv) ==
				0) {
			num.inst = DET_NI_INDEX;
			num.index = (int16_t)sv;
		} else {
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off + (uint32_t)(ix - tmp),
					"%s index '%s' should be any, all, or an index from -%d to %d "
					"(negative: from the last)",
					ps->kw, ix, DET_NUM_INDEX_MAX + 1, DET_NUM_INDEX_MAX);
		}
	}
	if (n == DET_NUM_TLS_VERSION) {
		num.cmp.op = DET_NOP_EQ;
		if (parse_tls_version(det_strip(tmp), &num.cmp.lo) != 0)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"tls.version '%s' should be 1.0, 1.1, 1.2, 1.3, 3.0 (SSL 3) or "
					"a number like 0x0303",
					v);
	} else {
		uint64_t max = n == DET_NUM_TLS_CHAIN_LEN ? UINT32_MAX
			       : n == DET_NUM_DNS_RRTYPE  ? 65535
							  : 255;

		if (parse_cmp(tmp, max, &num.cmp) != 0)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"%s '%s' should be N, !N, <N, >N, <=N, >=N, lo<>hi or lo-hi "
					"(0 to %" PRIu64 ")",
					ps->kw, v, max);
	}
	if (set_app_proto(ps, d->proto, ps->kw, ps->kw_off) != 0)
		return -EINVAL;
	nv = realloc(r->nums, (r->n_nums + 1) * sizeof(*nv));
	if (nv == NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->kw_off, "out of memory");
	r->nums = nv;
	r->nums[r->n_nums++] = num;
	return 0;
}

static const char ALP_NAMES[] = "http, tls, dns, ssh, smtp, ftp, or failed";

static int
kw_app_layer_protocol(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_rule *r = ps->r;
	char tmp[64], *name;
	enum al_proto p;
	bool neg = false;

	(void)kw;
	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	name = det_strip(tmp);
	if (*name == '!') {
		neg = true;
		name = det_strip(name + 1);
	}
	if (strchr(name, ',') != NULL)
		return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
				"app-layer-protocol modes (',to_server', ',final', ...) are not "
				"supported");
	if (al_proto_from_name(name, &p) != 0)
		return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
				"app-layer-protocol '%s': Vigil detects %s", name, ALP_NAMES);
	if (r->n_alp == DET_ALP_MAX)
		return fail(ps, DET_R_INVALID_VALUE, ps->kw_off,
				"more than %d app-layer-protocol keywords", DET_ALP_MAX);
	r->alp[r->n_alp].proto = (uint8_t)p;
	r->alp[r->n_alp].neg = neg;
	r->n_alp++;
	return 0;
}

/* app-layer-event:<proto>.<event>: the transaction had that anomaly. */
static int
kw_app_layer_event(struct pstate *ps, const char *v, unsigned kw)
{
	char tmp[128], *dot;
	enum al_proto p;
	int id;

	(void)kw;
	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	dot = strchr(tmp, '.');
	if (dot == NULL) {
		/* Suricata's protocol-independent events (app-layer-events.rules) */
		static const struct {
			const char *name, *why;
		} generic[] = {
			{ "applayer_mismatch_protocol_both_directions",
					"Vigil's protocol detection takes the first direction that identifies "
					"the protocol and does not compare the other direction" },
			{ "applayer_detect_protocol_only_one_direction",
					"Vigil's protocol detection takes the first direction that identifies "
					"the protocol and does not require the other direction" },
			{ "applayer_wrong_direction_first_data",
					"Vigil's protocol detection accepts a protocol's first data from either "
					"direction without flagging the order" },
			{ "applayer_proto_detection_skipped",
					"Vigil's protocol detection is never skipped on a parsed flow" },
			{ "applayer_no_tls_after_starttls",
					"Vigil's parsers do not follow STARTTLS into TLS" },
			{ "applayer_unexpected_protocol",
					"Vigil's parsers do not follow protocol upgrades" },
		};

		for (size_t i = 0; i < sizeof(generic) / sizeof(generic[0]); i++)
			if (strcmp(tmp, generic[i].name) == 0)
				return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
						"app-layer-event:%s: %s", tmp, generic[i].why);
		return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
				"app-layer-event '%s': only <protocol>.<event> of Vigil's parsers (%s) "
				"is supported",
				v, ALP_NAMES);
	}
	*dot = '\0';
	if (al_proto_from_name(tmp, &p) != 0 || p == AL_PROTO_FAILED)
		return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
				"app-layer-event '%s': Vigil has no parser for %s", v, tmp);
	id = al_anomaly_find(p, dot + 1);
	if (id < 0 || id >= 64)
		return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
				"app-layer-event '%s': Vigil's %s parser does not report '%s'", v,
				al_proto_name(p), dot + 1);
	if (set_app_proto(ps, (uint8_t)p, ps->kw, ps->kw_off) != 0)
		return -EINVAL;
	ps->r->anomalies |= 1ULL << id;
	ps->app_event = true;
	ps->app_event_off = ps->kw_off;
	return 0;
}

/*
 * decode-event:<name> and stream-event:<name>: the packet has that anomaly (det_event.h).
 * Suricata's names are looked up in det_event.c's table; one Vigil does not see is refused
 * with the table's reason.
 */
static int
kw_event(struct pstate *ps, const char *v, unsigned kw)
{
	const bool stream = strcmp(ps->kw, "stream-event") == 0;
	const enum det_event_kind k = stream ? DET_EVK_STREAM : DET_EVK_DECODE;
	const struct det_event_map *e;
	char tmp[96];
	const char *name;

	(void)kw;
	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	name = tmp;
	/* Suricata's internal names carry the engine as a prefix; rules may too */
	if (!stream && strncmp(name, "decoder.", 8) == 0)
		name += 8;
	else if (stream && strncmp(name, "stream.", 7) == 0)
		name += 7;
	e = det_event_find(k, name);
	if (e == NULL && !stream && det_event_find(DET_EVK_STREAM, name) != NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"'%s' is a stream event: use stream-event:%s", name, name);
	if (e == NULL && stream && det_event_find(DET_EVK_DECODE, name) != NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"'%s' is a decoder event: use decode-event:%s", name, name);
	if (e == NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"%s '%s': no such event (docs/SIGNATURES.md lists the events)",
				ps->kw, name);
	if (e->event < 0)
		return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off, "%s:%s: %s", ps->kw, name,
				e->why);
	ps->r->events |= DET_EV_BIT(e->event);
	/* Events both versions share one bit for (frag_overlap, frag_pkt_too_large): the name's
	 * version decides. */
	if (!stream && strncmp(name, "ipv4.", 5) == 0)
		ps->r->ev_family = 4;
	else if (!stream && strncmp(name, "ipv6.", 5) == 0)
		ps->r->ev_family = 6;
	return 0;
}

/* <proto>-csum:valid|invalid (ipv4-csum, tcpv4-csum, ...). */
static int
kw_csum(struct pstate *ps, const char *v, unsigned kw)
{
	const struct det_event_map *e;
	char proto[16], tmp[16];
	size_t n = strlen(ps->kw) - strlen("-csum");

	(void)kw;
	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	snprintf(proto, sizeof(proto), "%.*s", (int)n, ps->kw);
	e = det_event_find(DET_EVK_CSUM, proto);
	if (e == NULL || e->event < 0)
		return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->kw_off, "%s: %s", ps->kw,
				e != NULL ? e->why : "no such checksum");
	if (strcmp(tmp, "invalid") == 0)
		ps->r->events |= DET_EV_BIT(e->event);
	else if (strcmp(tmp, "valid") == 0)
		ps->r->events_absent |= DET_EV_BIT(e->event);
	else
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"%s '%s': expected valid or invalid", ps->kw, tmp);
	return 0;
}

/* ---- header keywords (det_hdr.h) ---- */

static int
kw_hdr(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_rule *r = ps->r;
	struct det_hdr h, *nv;
	char msg[256];

	if (det_hdr_parse(det_hdr_find(ps->kw), v != NULL ? v : "", &h, msg, sizeof(msg)) != 0)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "%s", msg);
	h.kw = (uint16_t)kw;
	h.col = ps->kw_off;
	nv = realloc(r->hdr, (r->n_hdr + 1) * sizeof(*nv));
	if (nv == NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->kw_off, "out of memory");
	r->hdr = nv;
	r->hdr[r->n_hdr++] = h;
	return 0;
}

/* ---- the keyword table ---- */

enum {
	V_NONE = 1,	/* takes no value */
	V_REQUIRED = 2, /* needs name:value */
	V_OPTIONAL = 3,
};

struct det_keyword {
	const char *name;
	int (*parse)(struct pstate *ps, const char *value, unsigned kw);
	void (*free)(struct det_item *it);
	uint8_t value;
	const char *unsupported; /* non-NULL: known Suricata keyword Vigil lacks, and why */
};

#define WHY_APP	  "application-layer keyword of a protocol Vigil has no parser for"
#define WHY_APPKW "application-layer keyword Vigil's parsers do not provide"
#define WHY_FILE  "file tracking (names, hashes, sizes, magic, storing) is not implemented"
#define WHY_BYTE  "byte arithmetic is not implemented"
#define WHY_STATE "flow/host variables need per-flow state the signature engine does not keep"
#define WHY_XFORM \
	"transform not implemented (dotprefix, strip_whitespace, compress_whitespace, to_lowercase, to_uppercase, url_decode are)"
#define WHY_OTHER "not implemented"

static const struct det_keyword keywords[] = {
	{ "msg", kw_msg, NULL, V_REQUIRED, NULL },
	{ "sid", kw_sid, NULL, V_REQUIRED, NULL },
	{ "rev", kw_rev, NULL, V_REQUIRED, NULL },
	{ "gid", kw_gid, NULL, V_REQUIRED, NULL },
	{ "priority", kw_priority, NULL, V_REQUIRED, NULL },
	{ "classtype", kw_classtype, NULL, V_REQUIRED, NULL },
	{ "metadata", kw_metadata, NULL, V_REQUIRED, NULL },
	{ "reference", kw_reference, NULL, V_REQUIRED, NULL },
	{ "target", kw_target, NULL, V_REQUIRED, NULL },
	{ "noalert", kw_noalert, NULL, V_NONE, NULL },
	{ "content", kw_content, free_content, V_REQUIRED, NULL },
	{ "nocase", kw_nocase, NULL, V_NONE, NULL },
	{ "offset", kw_offset, NULL, V_REQUIRED, NULL },
	{ "depth", kw_depth, NULL, V_REQUIRED, NULL },
	{ "distance", kw_distance, NULL, V_REQUIRED, NULL },
	{ "within", kw_within, NULL, V_REQUIRED, NULL },
	{ "fast_pattern", kw_fast_pattern, NULL, V_OPTIONAL, NULL },
	{ "prefilter", kw_prefilter, NULL, V_NONE, NULL },
	{ "startswith", kw_startswith, NULL, V_NONE, NULL },
	{ "rawbytes", kw_noop, NULL, V_NONE, NULL },
	{ "pcre", kw_pcre, free_pcre, V_REQUIRED, NULL },
	{ "isdataat", kw_isdataat, NULL, V_REQUIRED, NULL },
	{ "flow", kw_flow, NULL, V_REQUIRED, NULL },
	{ "dsize", kw_dsize, NULL, V_REQUIRED, NULL },
	{ "flags", kw_flags, NULL, V_REQUIRED, NULL },
	{ "tcp.flags", kw_flags, NULL, V_REQUIRED, NULL },
	{ "icmpv6.mtu", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "vlan.id", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "vlan.layers", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "threshold", kw_threshold, NULL, V_REQUIRED, NULL },
	{ "detection_filter", kw_detection_filter, NULL, V_REQUIRED, NULL },
	{ "pkt_data", kw_pkt_data, NULL, V_NONE, NULL },
	{ "endswith", kw_endswith, NULL, V_NONE, NULL },
	{ "bsize", kw_bsize, NULL, V_REQUIRED, NULL },
	{ "urilen", kw_urilen, NULL, V_REQUIRED, NULL },
	{ "uricontent", kw_uricontent, free_content, V_REQUIRED, NULL },
	{ "dotprefix", kw_transform, NULL, V_NONE, NULL },
	{ "strip_whitespace", kw_transform, NULL, V_NONE, NULL },
	{ "compress_whitespace", kw_transform, NULL, V_NONE, NULL },
	{ "to_lowercase", kw_transform, NULL, V_NONE, NULL },
	{ "to_uppercase", kw_transform, NULL, V_NONE, NULL },
	{ "url_decode", kw_transform, NULL, V_NONE, NULL },
	{ "tls.subject", kw_tls_dn, free_content, V_REQUIRED, NULL },
	{ "tls.issuerdn", kw_tls_dn, free_content, V_REQUIRED, NULL },
	{ "ssh.protoversion", kw_ssh_version, free_item_any, V_REQUIRED, NULL },
	{ "ssh.softwareversion", kw_ssh_version, free_content, V_REQUIRED, NULL },
	{ "tls.version", kw_number, NULL, V_REQUIRED, NULL },
	{ "dns.opcode", kw_number, NULL, V_REQUIRED, NULL },
	{ "dns.rrtype", kw_number, NULL, V_REQUIRED, NULL },
	{ "dns.rcode", kw_number, NULL, V_REQUIRED, NULL },
	{ "tls.cert_chain_len", kw_number, NULL, V_REQUIRED, NULL },
	{ "app-layer-protocol", kw_app_layer_protocol, NULL, V_REQUIRED, NULL },
	{ "app-layer-event", kw_app_layer_event, NULL, V_REQUIRED, NULL },

	/*
	 * Payload, flow state and header keywords: those with a parser are implemented
	 * (byte_test, byte_jump, flowbits, flowint, stream_size, the header and checksum ones);
	 * a row with a NULL parser is a Suricata keyword Vigil lacks, rejected with the reason.
	 */
	{ "byte_test", kw_byte_test, NULL, V_REQUIRED, NULL },
	{ "byte_jump", kw_byte_jump, NULL, V_REQUIRED, NULL },
	{ "byte_extract", NULL, NULL, 0,
			"byte_extract (values kept in variables) is not implemented" },
	{ "byte_math", NULL, NULL, 0, WHY_BYTE },
	{ "entropy", NULL, NULL, 0, WHY_OTHER },
	{ "flowbits", kw_flowbits, NULL, V_REQUIRED, NULL },
	{ "flowint", kw_flowint, NULL, V_REQUIRED, NULL },
	{ "flowvar", NULL, NULL, 0, WHY_STATE },
	{ "pktvar", NULL, NULL, 0, WHY_STATE },
	{ "xbits", NULL, NULL, 0, WHY_STATE },
	{ "hostbits", NULL, NULL, 0, WHY_STATE },
	{ "stream_size", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "tag", NULL, NULL, 0, "tagging follow-up packets is not implemented" },
	{ "replace", NULL, NULL, 0, "rewriting payloads is not implemented" },
	{ "asn1", NULL, NULL, 0, "ASN.1 decoding is not implemented" },
	{ "base64_decode", NULL, NULL, 0, WHY_XFORM },
	{ "base64_data", NULL, NULL, 0, WHY_XFORM },
	{ "to_md5", NULL, NULL, 0, WHY_XFORM },
	{ "to_sha1", NULL, NULL, 0, WHY_XFORM },
	{ "to_sha256", NULL, NULL, 0, WHY_XFORM },
	{ "pcrexform", NULL, NULL, 0, WHY_XFORM },
	{ "xor", NULL, NULL, 0, WHY_XFORM },
	{ "ttl", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "tos", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "id", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "ip_proto", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "ipopts", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "fragbits", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "fragoffset", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "sameip", kw_hdr, NULL, V_NONE, NULL },
	{ "seq", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "ack", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "window", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "tcp.mss", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "itype", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "icode", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "icmp_id", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "icmp_seq", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "rpc", NULL, NULL, 0, WHY_APP },
	{ "decode-event", kw_event, NULL, V_REQUIRED, NULL },
	{ "stream-event", kw_event, NULL, V_REQUIRED, NULL },
	{ "ipv4-csum", kw_csum, NULL, V_REQUIRED, NULL },
	{ "tcpv4-csum", kw_csum, NULL, V_REQUIRED, NULL },
	{ "tcpv6-csum", kw_csum, NULL, V_REQUIRED, NULL },
	{ "udpv4-csum", kw_csum, NULL, V_REQUIRED, NULL },
	{ "udpv6-csum", kw_csum, NULL, V_REQUIRED, NULL },
	{ "icmpv4-csum", kw_csum, NULL, V_REQUIRED, NULL },
	{ "icmpv6-csum", kw_csum, NULL, V_REQUIRED, NULL },
	{ "igmp-csum", kw_csum, NULL, V_REQUIRED, NULL },
	{ "engine-event", NULL, NULL, 0, "engine events are not exposed to signatures" },
	{ "lua", NULL, NULL, 0, "Lua scripts are not supported" },
	{ "luajit", NULL, NULL, 0, "Lua scripts are not supported" },
	{ "dataset", NULL, NULL, 0, WHY_OTHER },
	{ "datarep", NULL, NULL, 0, WHY_OTHER },
	{ "iprep", NULL, NULL, 0, WHY_OTHER },
	{ "geoip", NULL, NULL, 0, WHY_OTHER },
	{ "bypass", NULL, NULL, 0, WHY_OTHER },
	{ "config", NULL, NULL, 0, WHY_OTHER },
	{ "requires", NULL, NULL, 0, WHY_OTHER },
	{ "filestore", NULL, NULL, 0, WHY_FILE },
	{ "filemagic", NULL, NULL, 0, WHY_FILE },
	{ "filename", NULL, NULL, 0, WHY_FILE },
	{ "fileext", NULL, NULL, 0, WHY_FILE },
	{ "filemd5", NULL, NULL, 0, WHY_FILE },
	{ "filesha1", NULL, NULL, 0, WHY_FILE },
	{ "filesha256", NULL, NULL, 0, WHY_FILE },
	{ "filesize", NULL, NULL, 0, WHY_FILE },
	{ "file.name", NULL, NULL, 0, WHY_FILE },
	{ "tls.fingerprint", NULL, NULL, 0, WHY_APPKW },
	{ "tls.store", NULL, NULL, 0, WHY_APPKW },
	{ "tls_store", NULL, NULL, 0, WHY_APPKW },
	{ "ssl_version", NULL, NULL, 0, WHY_APPKW },
	{ "ssl_state", NULL, NULL, 0, WHY_APPKW },
	{ "dce_iface", NULL, NULL, 0, WHY_APP },
	{ "dce_opnum", NULL, NULL, 0, WHY_APP },
	{ "dce_stub_data", NULL, NULL, 0, WHY_APP },
	{ "ftpbounce", NULL, NULL, 0, WHY_APPKW },
	{ "ftpdata_command", NULL, NULL, 0, WHY_APPKW },
	{ "krb5_cname", NULL, NULL, 0, WHY_APP },
	{ "krb5_sname", NULL, NULL, 0, WHY_APP },
	{ "krb5_err_code", NULL, NULL, 0, WHY_APP },
	{ "krb5_msg_type", NULL, NULL, 0, WHY_APP },
	{ "nfs_procedure", NULL, NULL, 0, WHY_APP },
	{ "modbus", NULL, NULL, 0, WHY_APP },
	{ "dnp3_func", NULL, NULL, 0, WHY_APP },
	{ "dnp3_ind", NULL, NULL, 0, WHY_APP },
	{ "dnp3_obj", NULL, NULL, 0, WHY_APP },
	{ "dnp3_data", NULL, NULL, 0, WHY_APP },
	{ "enip_command", NULL, NULL, 0, WHY_APP },
	{ "cip_service", NULL, NULL, 0, WHY_APP },
	{ "frame", NULL, NULL, 0, WHY_APP },
	{ "nfq_set_mark", NULL, NULL, 0, WHY_OTHER },
	{ "flow.age", NULL, NULL, 0, WHY_STATE },
	{ "flow.pkts", NULL, NULL, 0, WHY_STATE },
	{ "flow.bytes", NULL, NULL, 0, WHY_STATE },
};

#define N_KEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

/*
 * Sticky buffers of application-layer parsers share a shape ("http.uri", "dns.query",
 * "tls.sni", ...); any dotted keyword with one of these prefixes is reported as an
 * unsupported application-layer buffer rather than an unknown keyword.
 */
static const char *const app_prefixes[] = { "http.", "http2.", "dns.", "tls.", "ssh.", "ja3.",
	"ja3s.", "ja4.", "smb.", "krb5.", "sip.", "quic.", "snmp.", "mqtt.", "rfb.", "ike.",
	"dhcp.", "ftp.", "smtp.", "email.", "pgsql.", "modbus.", "dnp3.", "enip.", "file.", "x509.",
	"ldap.", "websocket.", "llmnr.", "mdns.", "sdp.", "tftp.", "nfs.", "dcerpc.", "dce.",
	"cip.", "rdp.", "imap.", "pop3.", "ntp.", "bittorrent-dht.", "vlan.", "ipv4.", "ipv6.",
	"tcp.", "udp.", "icmpv4.", "icmpv6.", "icmp.", "pkt.", "flow." };

/* Of those, the protocols Vigil parses: a keyword there is one its parsers do not provide. */
static const char *const parsed_prefixes[] = { "http.", "dns.", "tls.", "ssh.", "ja3.", "ja3s.",
	"ftp.", "smtp.", "file." };

const char *
det_keyword_name(unsigned kw)
{
	return kw < N_KEYWORDS ? keywords[kw].name : "?";
}

static int
keyword_find(const char *name)
{
	for (unsigned i = 0; i < N_KEYWORDS; i++)
		if (strcmp(keywords[i].name, name) == 0)
			return (int)i;
	return -1;
}

bool
det_keyword_supported(const char *name)
{
	int k = keyword_find(name);

	if (k < 0)
		return det_buf_find_sticky(name) >= 0 || det_buf_find_modifier(name) >= 0;
	return keywords[k].unsupported == NULL;
}

void
det_rule_free(struct det_rule *r)
{
	if (r == NULL)
		return;
	for (unsigned i = 0; i < r->n_items; i++)
		if (r->items[i].kw < N_KEYWORDS && keywords[r->items[i].kw].free != NULL)
			keywords[r->items[i].kw].free(&r->items[i]);
	free(r->items);
	for (unsigned i = 0; i < r->n_hitems; i++)
		if (r->hitems[i].kw < N_KEYWORDS && keywords[r->hitems[i].kw].free != NULL)
			keywords[r->hitems[i].kw].free(&r->hitems[i]);
	free(r->hitems);
	free(r->hdr);
	free(r->spans);
	free(r->nums);
	for (unsigned i = 0; i < r->n_fb; i++)
		for (unsigned k = 0; k < r->fb[i].n; k++)
			free(r->fb[i].names[k]);
	free(r->fb);
	for (unsigned i = 0; i < r->n_fi; i++)
		free(r->fi[i].name);
	free(r->fi);
	det_ipset_free(&r->src);
	det_ipset_free(&r->dst);
	det_portset_free(&r->sport);
	det_portset_free(&r->dport);
	det_portset_free(&r->app_ports);
	free(r->msg);
	free(r->classtype);
	free(r->classdesc);
	free(r->metadata);
	free(r->references);
	free(r->file);
	free(r->text);
	free(r);
}

/* ---- header ---- */

enum {
	PK_TCP,
	PK_TCP_PKT,
	PK_TCP_STREAM,
	PK_UDP,
	PK_ICMP,
	PK_SCTP,
	PK_IP,
	PK_APP,
	PK_IPV4,   /* ip, IPv4 packets only */
	PK_IPV6,   /* ip, IPv6 packets only */
	PK_PKTHDR, /* any packet, one that did not parse too (decoder events) */
};

/*
 * Application-layer protocols Vigil approximates by their well-known ports (it has no protocol
 * detection): "alert dns ..." becomes "UDP or TCP with server port 53".
 */
static const struct {
	const char *name;
	bool tcp, udp;
	const char *ports;
} app_protos[] = {
	{ "http", true, false, "[80,8080]" },
	{ "http1", true, false, "[80,8080]" },
	{ "http2", true, false, "[80,8080]" },
	{ "tls", true, false, "[443,465,636,853,989,990,993,995,5061,8443]" },
	{ "ssl", true, false, "[443,465,636,853,989,990,993,995,5061,8443]" },
	{ "ssh", true, false, "22" },
	{ "ftp", true, false, "21" },
	{ "ftp-data", true, false, "20" },
	{ "smtp", true, false, "[25,587]" },
	{ "imap", true, false, "143" },
	{ "pop3", true, false, "110" },
	{ "dns", true, true, "53" },
	{ "smb", true, false, "[139,445]" },
	{ "dcerpc", true, true, "135" },
	{ "nfs", true, true, "2049" },
	{ "ntp", false, true, "123" },
	{ "snmp", false, true, "[161,162]" },
	{ "tftp", false, true, "69" },
	{ "sip", true, true, "5060" },
	{ "dhcp", false, true, "[67,68]" },
	{ "krb5", true, true, "88" },
	{ "ldap", true, true, "389" },
	{ "rdp", true, false, "3389" },
	{ "mqtt", true, false, "1883" },
	{ "modbus", true, false, "502" },
	{ "dnp3", true, false, "20000" },
	{ "enip", true, true, "44818" },
	{ "llmnr", true, true, "5355" },
	{ "irc", true, false, "[6666:6669]" },
	{ "ike", false, true, "[500,4500]" },
	{ "rfb", true, false, "[5900:5909]" },
};

static int
parse_proto(struct pstate *ps, const char *tok, unsigned off)
{
	struct det_rule *r = ps->r;
	static const struct {
		const char *name;
		uint8_t kind;
	} base[] = {
		{ "tcp", PK_TCP },
		{ "tcp-pkt", PK_TCP_PKT },
		{ "tcp-stream", PK_TCP_STREAM },
		{ "udp", PK_UDP },
		{ "icmp", PK_ICMP },
		{ "sctp", PK_SCTP },
		{ "ip", PK_IP },
		{ "ipv4", PK_IPV4 },
		{ "ip4", PK_IPV4 },
		{ "ipv6", PK_IPV6 },
		{ "ip6", PK_IPV6 },
		{ "pkthdr", PK_PKTHDR },
	};

	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		if (strcasecmp(tok, base[i].name) == 0) {
			r->proto_kw = base[i].kind;
			r->family = base[i].kind == PK_IPV4 ? 4 : base[i].kind == PK_IPV6 ? 6 : 0;
			r->pkthdr = base[i].kind == PK_PKTHDR;
			return 0;
		}
	for (size_t i = 0; i < sizeof(app_protos) / sizeof(app_protos[0]); i++) {
		char err[128];
		enum al_proto ap = AL_PROTO_NONE;

		if (strcasecmp(tok, app_protos[i].name) != 0)
			continue;
		/* protocols with a parser are matched on the flows detected as them */
		if (al_proto_from_name(tok, &ap) != 0 || ap == AL_PROTO_FAILED)
			ap = AL_PROTO_NONE;
		if (!ps->ctx->app_proto_ports && ap == AL_PROTO_NONE)
			return fail(ps, DET_R_UNSUPPORTED_PROTOCOL, off,
					"protocol '%s': Vigil has no parser to detect it (enable "
					"app_proto_ports to approximate it by port %s)",
					tok, app_protos[i].ports);
		if (det_portset_parse(&r->app_ports, app_protos[i].ports, NULL, err, sizeof(err),
				    NULL, NULL) != 0)
			return fail(ps, DET_R_INVALID_VALUE, off, "%s", err);
		r->proto_kw = PK_APP;
		r->app_proto = (uint8_t)ap;
		/* until detection decides, by port (the only way for protocols without parser) */
		r->app_approx = ps->ctx->app_proto_ports;
		snprintf(ps->proto_by, sizeof(ps->proto_by), "the header");
		snprintf(r->app_name, sizeof(r->app_name), "%s", app_protos[i].name);
		if (app_protos[i].tcp)
			r->classes |= DET_CL_TCP_STREAM; /* refined in finish() */
		if (app_protos[i].udp)
			r->classes |= DET_CL_UDP;
		return 0;
	}
	return fail(ps, DET_R_UNSUPPORTED_PROTOCOL, off,
			"protocol '%s' is not supported (tcp, udp, icmp, sctp, ip, tcp-pkt, tcp-stream, "
			"or an application protocol approximated by port such as http, dns, tls)",
			tok);
}

/*
 * Next header token starting at *pos: whitespace-separated, but a '[' ... ']' list may contain
 * spaces. Returns the length, 0 at the end.
 */
static unsigned
next_token(const char *t, unsigned *pos, unsigned end, unsigned *start)
{
	unsigned p = *pos, level = 0;

	while (p < end && isspace((unsigned char)t[p]))
		p++;
	*start = p;
	while (p < end && (level > 0 || !isspace((unsigned char)t[p]))) {
		if (t[p] == '[')
			level++;
		else if (t[p] == ']' && level > 0)
			level--;
		p++;
	}
	*pos = p;
	return p - *start;
}

static int
parse_addr_tok(struct pstate *ps, struct det_ipset *set, const char *tok, unsigned off)
{
	char err[256];
	unsigned eoff = 0;
	bool undef = false;
	int rc = det_ipset_parse(set, tok, ps->ctx->vars, err, sizeof(err), &eoff, &undef);

	if (rc == -ENOMEM)
		return fail(ps, DET_R_INVALID_VALUE, off, "out of memory");
	if (rc != 0)
		return fail(ps, undef ? DET_R_UNDEFINED_VARIABLE : DET_R_BAD_ADDRESS, off + eoff,
				"%s", err);
	return 0;
}

static int
parse_port_tok(struct pstate *ps, struct det_portset *set, const char *tok, unsigned off)
{
	char err[256];
	unsigned eoff = 0;
	bool undef = false;
	int rc = det_portset_parse(set, tok, ps->ctx->vars, err, sizeof(err), &eoff, &undef);

	if (rc == -ENOMEM)
		return fail(ps, DET_R_INVALID_VALUE, off, "out of memory");
	if (rc != 0)
		return fail(ps, undef ? DET_R_UNDEFINED_VARIABLE : DET_R_BAD_ADDRESS, off + eoff,
				"%s", err);
	return 0;
}

static int parse_header_tokens(struct pstate *ps, char *const *tok, const unsigned *start);

static int
parse_header(struct pstate *ps, unsigned end)
{
	static const char *const what[] = { "action", "protocol", "source address", "source port",
		"direction (-> or <>)", "destination address", "destination port" };
	const char *t = ps->text;
	unsigned pos = 0, start[7], len[7];
	char *tok[7] = { 0 };
	int rc;

	for (int i = 0; i < 7; i++) {
		len[i] = next_token(t, &pos, end, &start[i]);
		if (len[i] == 0)
			return fail(ps, DET_R_SYNTAX, start[i],
					"header ends before the %s (expected: action proto src sport -> "
					"dst dport (options))",
					what[i]);
	}
	{
		unsigned s2;

		if (next_token(t, &pos, end, &s2) != 0)
			return fail(ps, DET_R_SYNTAX, s2,
					"unexpected '%.*s' after the destination port; options start "
					"with '('",
					(int)(pos - s2), t + s2);
	}
	for (int i = 0; i < 7; i++) {
		tok[i] = strndup(t + start[i], len[i]);
		if (tok[i] == NULL) {
			rc = fail(ps, DET_R_INVALID_VALUE, start[i], "out of memory");
			goto out;
		}
	}
	rc = parse_header_tokens(ps, tok, start);
out:
	for (int i = 0; i < 7; i++)
		free(tok[i]);
	return rc;
}

static int
parse_header_tokens(struct pstate *ps, char *const *tok, const unsigned *start)
{
	struct det_rule *r = ps->r;

	const char *scope = strchr(tok[0], ':'), *hook = strchr(tok[1], ':');

	/*
	 * Suricata 8 firewall mode: "accept:flow tcp:all ...". Vigil's firewall is its policy,
	 * which runs before the signatures with its own default: the rule is refused with what
	 * to write instead (docs/SIGNATURES.md, "Actions and firewall rules").
	 */
	if (scope != NULL || strcmp(tok[0], "accept") == 0) {
		size_t n = scope != NULL ? (size_t)(scope - tok[0]) : strlen(tok[0]);

		if (n == 6 && strncmp(tok[0], "accept", 6) == 0 && scope != NULL &&
				(strcmp(scope, ":packet") == 0 || strcmp(scope, ":flow") == 0))
			return fail(ps, DET_R_UNSUPPORTED_ACTION, start[0],
					"firewall rule '%s': Vigil accepts traffic in its policy, "
					"which runs before the signatures and has the default drop of "
					"firewall mode; write it as a policy rule with action allow "
					"(%s)",
					tok[0],
					strcmp(scope, ":flow") == 0
							? "stateful: the flow's first packet decides for "
							  "the flow"
							: "stateless: decided per packet");
		if (n == 6 && strncmp(tok[0], "accept", 6) == 0 && scope != NULL &&
				(strcmp(scope, ":hook") == 0 || strcmp(scope, ":tx") == 0))
			return fail(ps, DET_R_UNSUPPORTED_ACTION, start[0],
					"firewall rule '%s': scope %s cannot be honoured: Vigil has no "
					"per-hook firewall tables (its policy decides per packet or "
					"flow before any application-layer state exists)",
					tok[0], scope);
		if (scope == NULL)
			return fail(ps, DET_R_UNSUPPORTED_ACTION, start[0],
					"action 'accept' is Suricata 8's firewall mode and needs a scope "
					"(accept:packet, accept:flow, accept:hook, accept:tx); Vigil's "
					"firewall is its policy (action allow)");
		return fail(ps, DET_R_UNSUPPORTED_ACTION, start[0],
				"action scope '%s' is Suricata 8's firewall mode, which Vigil does not "
				"run in the signatures (its policy is the firewall); write the rule "
				"without a scope (alert, drop, reject, pass) or as a policy rule",
				tok[0]);
	}
	if (hook != NULL)
		return fail(ps, DET_R_UNSUPPORTED_PROTOCOL, start[1],
				"rule hook '%s' is Suricata 8's firewall mode: Vigil's signatures have "
				"no hooks (name the protocol alone)",
				tok[1]);
	if (strcmp(tok[0], "alert") == 0)
		r->info.action = DET_ACT_ALERT;
	else if (strcmp(tok[0], "drop") == 0)
		r->info.action = DET_ACT_DROP;
	else if (strcmp(tok[0], "reject") == 0 || strcmp(tok[0], "rejectsrc") == 0)
		r->info.action = DET_ACT_REJECT;
	else if (strcmp(tok[0], "rejectdst") == 0) {
		r->info.action = DET_ACT_REJECT;
		r->info.reject_to = DET_REJ_DST;
	} else if (strcmp(tok[0], "rejectboth") == 0) {
		r->info.action = DET_ACT_REJECT;
		r->info.reject_to = DET_REJ_BOTH;
	} else if (strcmp(tok[0], "pass") == 0)
		r->info.action = DET_ACT_PASS;
	else if (strcmp(tok[0], "config") == 0)
		return fail(ps, DET_R_UNSUPPORTED_ACTION, start[0],
				"action '%s' is not supported (alert, drop, reject, pass)", tok[0]);
	else
		return fail(ps, DET_R_SYNTAX, start[0],
				"'%s' is not an action (alert, drop, reject, rejectsrc, rejectdst, "
				"rejectboth, pass)",
				tok[0]);

	if (parse_proto(ps, tok[1], start[1]) != 0)
		return -EINVAL;
	if (parse_addr_tok(ps, &r->src, tok[2], start[2]) != 0 ||
			parse_port_tok(ps, &r->sport, tok[3], start[3]) != 0)
		return -EINVAL;
	if (strcmp(tok[4], "->") == 0)
		r->bidir = false;
	else if (strcmp(tok[4], "<>") == 0)
		r->bidir = true;
	else if (strcmp(tok[4], "<-") == 0)
		return fail(ps, DET_R_SYNTAX, start[4],
				"direction '<-' is not allowed: swap the sides and use '->'");
	else
		return fail(ps, DET_R_SYNTAX, start[4], "'%s' is not a direction (-> or <>)",
				tok[4]);
	if (parse_addr_tok(ps, &r->dst, tok[5], start[5]) != 0 ||
			parse_port_tok(ps, &r->dport, tok[6], start[6]) != 0)
		return -EINVAL;
	if ((r->proto_kw == PK_ICMP) && (!r->sport.any || !r->dport.any))
		return fail(ps, DET_R_INVALID_COMBINATION, !r->sport.any ? start[3] : start[6],
				"icmp has no ports: use any");
	r->ports_apply = !r->sport.any || !r->dport.any;
	return 0;
}

/* ---- options ---- */

/* Find the sid before parsing, so that a rejected rule is reported with its sid. */
static uint32_t
prescan_sid(const char *t)
{
	const char *p = t;

	while ((p = strstr(p, "sid")) != NULL) {
		const char *q = p + 3;
		char *end;
		unsigned long v;

		if (p > t && (isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '.')) {
			p++;
			continue;
		}
		while (isspace((unsigned char)*q))
			q++;
		if (*q != ':') {
			p++;
			continue;
		}
		q++;
		v = strtoul(q, &end, 10);
		if (end != q && v <= UINT32_MAX)
			return (uint32_t)v;
		p++;
	}
	return 0;
}

static int
parse_option(struct pstate *ps, char *opt, unsigned off)
{
	char *name = opt, *val = NULL, *colon;
	unsigned val_off = off;
	int k;

	/* the name ends at the first ':' */
	colon = strchr(opt, ':');
	if (colon != NULL) {
		*colon = '\0';
		val = colon + 1;
		val_off = off + (unsigned)(val - opt);
		while (isspace((unsigned char)*val)) {
			val++;
			val_off++;
		}
		{
			char *e = val + strlen(val);

			while (e > val && isspace((unsigned char)e[-1]))
				*--e = '\0';
		}
	}
	while (isspace((unsigned char)*name)) {
		name++;
		off++;
	}
	{
		char *e = name + strlen(name);

		while (e > name && isspace((unsigned char)e[-1]))
			*--e = '\0';
	}
	ps->kw = name;
	ps->kw_off = off;
	ps->val_off = val_off;
	memcpy(ps->prev_kw, ps->cur_kw, sizeof(ps->prev_kw));
	snprintf(ps->cur_kw, sizeof(ps->cur_kw), "%s", name);
	if (*name == '\0')
		return fail(ps, DET_R_SYNTAX, off, "empty option (two ';' in a row?)");
	k = keyword_find(name);
	if (k < 0) {
		int b = det_buf_find_sticky(name), m = det_buf_find_modifier(name);

		if (b >= 0 || m >= 0) {
			if (val != NULL)
				return fail(ps, DET_R_SYNTAX, val_off, "'%s' takes no value", name);
			return b >= 0 ? kw_sticky(ps, (unsigned)b) : kw_modifier(ps, (unsigned)m);
		}
		for (size_t i = 0; i < sizeof(parsed_prefixes) / sizeof(parsed_prefixes[0]); i++)
			if (strncmp(name, parsed_prefixes[i], strlen(parsed_prefixes[i])) == 0)
				return fail(ps, DET_R_UNSUPPORTED_KEYWORD, off,
						"unsupported keyword '%s': %s", name, WHY_APPKW);
		for (size_t i = 0; i < sizeof(app_prefixes) / sizeof(app_prefixes[0]); i++)
			if (strncmp(name, app_prefixes[i], strlen(app_prefixes[i])) == 0)
				return fail(ps, DET_R_UNSUPPORTED_KEYWORD, off,
						"unsupported keyword '%s': %s", name, WHY_APP);
		return fail(ps, DET_R_UNKNOWN_KEYWORD, off, "unknown keyword '%s'", name);
	}
	if (keywords[k].unsupported != NULL)
		return fail(ps, DET_R_UNSUPPORTED_KEYWORD, off, "unsupported keyword '%s': %s",
				name, keywords[k].unsupported);
	if (keywords[k].value == V_REQUIRED && (val == NULL || *val == '\0'))
		return fail(ps, DET_R_SYNTAX, off, "'%s' needs a value (%s:<value>;)", name, name);
	if (keywords[k].value == V_NONE && val != NULL)
		return fail(ps, DET_R_SYNTAX, val_off, "'%s' takes no value", name);
	return keywords[k].parse(ps, val, (unsigned)k);
}

static int
parse_options(struct pstate *ps, unsigned open, unsigned close)
{
	const char *t = ps->text;
	unsigned i = open + 1, start = open + 1;
	char *opt;
	int rc;

	while (i < close) {
		if (t[i] == '\\' && i + 1 < close) {
			i += 2;
			continue;
		}
		if (t[i] != ';') {
			i++;
			continue;
		}
		opt = strndup(t + start, i - start);
		if (opt == NULL)
			return fail(ps, DET_R_INVALID_VALUE, start, "out of memory");
		rc = parse_option(ps, opt, start);
		free(opt);
		if (rc != 0)
			return rc;
		i++;
		start = i;
	}
	/* what follows the last ';' must be blank */
	for (unsigned j = start; j < close; j++)
		if (!isspace((unsigned char)t[j])) {
			ps->kw = NULL;
			return fail(ps, DET_R_SYNTAX, j, "option '%.*s' is not terminated with ';'",
					(int)(close - j), t + j);
		}
	ps->kw = NULL;
	return 0;
}

/* ---- validation after all options ---- */

/* The buffer length items[0, n) need at least: the largest end a positive content can have. */
static uint32_t
items_min_len(const struct det_item *items, unsigned n)
{
	int64_t prev_end = 0, need = 0;

	for (unsigned i = 0; i < n; i++) {
		const struct det_item *it = &items[i];
		int64_t start, end;

		if (it->type != DET_ITEM_CONTENT || (it->c.flags & DET_C_NEGATED)) {
			if (it->type == DET_ITEM_PCRE && !(it->p.flags & DET_P_NEGATED))
				prev_end = it->relative ? prev_end
							: 0; /* a pcre may match anywhere */
			continue;
		}
		if (it->relative) {
			start = prev_end + it->c.distance;
			if (start < 0)
				start = 0;
		} else {
			start = (it->c.flags & DET_C_OFFSET) ? it->c.offset : 0;
		}
		end = start + it->c.len;
		prev_end = end;
		if (end > need)
			need = end;
	}
	return (uint32_t)(need > UINT32_MAX ? UINT32_MAX : need);
}

uint32_t
det_span_min_len(const struct det_rule *r, unsigned span)
{
	if (span >= r->n_spans)
		return 0;
	return items_min_len(&r->items[r->spans[span].first], r->spans[span].n);
}

int
det_rule_payload_span(const struct det_rule *r)
{
	for (unsigned i = 0; i < r->n_spans; i++)
		if (r->spans[i].buf == DET_BUF_PKT)
			return (int)i;
	return -1;
}

uint32_t
det_rule_min_len(const struct det_rule *r)
{
	int s = det_rule_payload_span(r);

	return s < 0 ? 0 : det_span_min_len(r, (unsigned)s);
}

/*
 * Group the items by span (spans in order of first use, rule order inside), dropping spans
 * left empty (a content moved away by a modifier).
 */
static int
organize_spans(struct pstate *ps)
{
	struct det_rule *r = ps->r;
	struct det_item *v;
	unsigned o = 0, ns = 0;

	if (r->n_items == 0) {
		r->n_spans = 0;
		return 0;
	}
	v = malloc(r->n_items * sizeof(*v));
	if (v == NULL)
		return fail(ps, DET_R_INVALID_VALUE, 0, "out of memory");
	for (unsigned s = 0; s < r->n_spans; s++) {
		unsigned first = o;

		for (unsigned i = 0; i < r->n_items; i++)
			if (r->items[i].span == s) {
				v[o] = r->items[i];
				v[o].span = (uint8_t)ns;
				o++;
			}
		if (o == first)
			continue;
		r->spans[ns] = r->spans[s];
		r->spans[ns].first = (uint16_t)first;
		r->spans[ns].n = (uint16_t)(o - first);
		ns++;
	}
	free(r->items);
	r->items = v;
	ps->items_cap = r->n_items;
	r->n_spans = ns;
	return 0;
}

/* The checks and normal forms of one span's items. */
static int
finish_span(struct pstate *ps, unsigned si)
{
	static const uint8_t to_lower[] = { DET_XF_TO_LOWER };
	struct det_rule *r = ps->r;
	struct det_span *sp = &r->spans[si];
	bool prev_payload = false;

	for (unsigned i = sp->first; i < (unsigned)sp->first + sp->n; i++) {
		struct det_item *it = &r->items[i];

		if (it->type == DET_ITEM_CONTENT) {
			struct det_content *c = &it->c;
			bool rel = (c->flags & (DET_C_DISTANCE | DET_C_WITHIN)) != 0;
			const char *xf;

			ps->kw = "content";
			if (rel && (c->flags & (DET_C_OFFSET | DET_C_DEPTH)))
				return fail(ps, DET_R_INVALID_COMBINATION, it->col,
						"content cannot mix distance/within (relative) with "
						"offset/depth (absolute)");
			if ((c->flags & DET_C_DEPTH) && (uint32_t)c->depth < c->len)
				return fail(ps, DET_R_INVALID_VALUE, it->col,
						"depth %d is shorter than the %u-byte content",
						c->depth, c->len);
			if ((c->flags & DET_C_WITHIN) && (uint32_t)c->within < c->len)
				return fail(ps, DET_R_INVALID_VALUE, it->col,
						"within %d is shorter than the %u-byte content",
						c->within, c->len);
			xf = det_xf_content_check(sp->xf, sp->n_xf, c->pat, c->len);
			if (xf != NULL)
				return fail(ps, DET_R_CANNOT_MATCH, it->col,
						"content can never match after transform %s of %s",
						xf, det_buf_def(sp->buf)->name);
			if (sp->buf == DET_BUF_HTTP_HOST && !(c->flags & DET_C_NOCASE) &&
					det_xf_content_check(to_lower, 1, c->pat, c->len) != NULL &&
					memchr(sp->xf, DET_XF_TO_UPPER, sp->n_xf) == NULL)
				/* as Suricata, which refuses the rule */
				return fail(ps, DET_R_CANNOT_MATCH, it->col,
						"content has upper-case letters but http.host is "
						"lower-cased: write it in lower case or add nocase");
			if (rel && !prev_payload) {
				/*
				 * Relative to nothing means relative to the start of the buffer:
				 * the same window as offset/depth, which is what it becomes.
				 */
				int64_t d = (c->flags & DET_C_DISTANCE) ? c->distance : 0;
				int64_t start = d < 0 ? 0 : d;
				bool within = (c->flags & DET_C_WITHIN) != 0;

				c->flags &= ~(uint32_t)(DET_C_DISTANCE | DET_C_WITHIN);
				c->flags |= DET_C_OFFSET;
				c->offset = (int32_t)start;
				if (within) {
					int64_t depth = d + c->within - start;

					if (depth < (int64_t)c->len)
						return fail(ps, DET_R_CANNOT_MATCH, it->col,
								"distance/within leave no room for the "
								"%u-byte content",
								c->len);
					c->flags |= DET_C_DEPTH;
					c->depth = (int32_t)depth;
				}
				c->distance = c->within = 0;
				rel = false;
			}
			it->relative = rel;
			if (!(c->flags & DET_C_NEGATED))
				prev_payload = true;
		} else if (it->type == DET_ITEM_PCRE) {
			if (it->relative && !prev_payload) {
				it->relative = false;
				it->p.flags &= ~(uint32_t)DET_P_RELATIVE;
			}
			if (!(it->p.flags & DET_P_NEGATED))
				prev_payload = true;
		} else if (it->type == DET_ITEM_ISDATAAT) {
			if (it->relative && !prev_payload) {
				it->relative = false;
				it->d.relative = false;
			}
		} else if (it->type == DET_ITEM_BYTE_TEST || it->type == DET_ITEM_BYTE_JUMP) {
			/* relative to nothing: from the start of the buffer */
			if (it->relative && !prev_payload)
				it->relative = false;
			/* a jump moves the position that later relative keywords start from */
			if (it->type == DET_ITEM_BYTE_JUMP)
				prev_payload = true;
		}
	}
	/* as Suricata, bsize keywords that no length satisfies together */
	{
		uint64_t lo = 0, hi = UINT64_MAX;

		for (unsigned i = sp->first; i < (unsigned)sp->first + sp->n; i++) {
			const struct det_item *it = &r->items[i];
			const struct det_cmp *z = &it->z;
			uint64_t clo = 0, chi = UINT64_MAX;

			if (it->type != DET_ITEM_BSIZE ||
					strcmp(det_keyword_name(it->kw), "bsize") != 0)
				continue;
			if (z->op == DET_NOP_EQ)
				clo = chi = z->lo;
			else if (z->op == DET_NOP_LT)
				chi = z->lo - 1;
			else if (z->op == DET_NOP_LE)
				chi = z->lo;
			else if (z->op == DET_NOP_GT)
				clo = z->lo + 1;
			else if (z->op == DET_NOP_GE)
				clo = z->lo;
			else if (z->op == DET_NOP_RANGE) {
				clo = z->lo + 1;
				chi = z->hi - 1;
			}
			lo = clo > lo ? clo : lo;
			hi = chi < hi ? chi : hi;
			if (lo > hi) {
				ps->kw = "bsize";
				return fail(ps, DET_R_CANNOT_MATCH, it->col,
						"signature can't match: the bsize keywords of %s "
						"exclude each other",
						det_buf_def(sp->buf)->name);
			}
		}
	}
	/* Suricata refuses a buffer length that leaves no room for the contents */
	for (unsigned i = sp->first; i < (unsigned)sp->first + sp->n; i++) {
		const struct det_item *it = &r->items[i];
		const struct det_cmp *z = &it->z;
		uint64_t max = UINT64_MAX;

		if (it->type != DET_ITEM_BSIZE)
			continue;
		ps->kw = det_keyword_name(it->kw);
		if (strcmp(ps->kw, "urilen") == 0) {
			/* as Suricata: urilen bounds the depth of the URI's contents */
			uint64_t high = z->op == DET_NOP_LT	 ? z->lo + 1
					: z->op == DET_NOP_EQ	 ? z->lo
					: z->op == DET_NOP_RANGE ? z->hi + 1
								 : UINT64_MAX;

			for (unsigned k = sp->first; k < (unsigned)sp->first + sp->n; k++)
				if (r->items[k].type == DET_ITEM_CONTENT &&
						!(r->items[k].c.flags & DET_C_NEGATED) &&
						r->items[k].c.len > high)
					return fail(ps, DET_R_CANNOT_MATCH, it->col,
							"signature can't match: urilen allows %" PRIu64
							" bytes but a content has %u",
							high, r->items[k].c.len);
			continue;
		}
		if (z->op == DET_NOP_EQ || z->op == DET_NOP_LE)
			max = z->lo;
		else if (z->op == DET_NOP_LT)
			max = z->lo - 1;
		else if (z->op == DET_NOP_RANGE)
			max = z->hi - 1;
		if (det_span_min_len(r, si) > max)
			return fail(ps, DET_R_CANNOT_MATCH, it->col,
					"signature can't match: the contents of %s need at least %u bytes "
					"but bsize allows at most %" PRIu64,
					det_buf_def(sp->buf)->name, det_span_min_len(r, si), max);
	}
	ps->kw = NULL;
	return 0;
}

/*
 * A transaction rule: its protocol and transports, the directions it inspects (as Suricata:
 * from flow, else from buffers that exist in one direction only, else both; file.data alone
 * means the response), and per direction the al buffers and numbers it reads and the stages
 * it needs.
 */
static int
finish_tx(struct pstate *ps)
{
	struct det_rule *r = ps->r;
	uint32_t fdir = r->flow & (DET_FLOW_TO_SERVER | DET_FLOW_TO_CLIENT);
	const char *ts_name = NULL, *tc_name = NULL;
	unsigned ts_col = 0, tc_col = 0, dirs;
	bool file_data = false;
	uint8_t l4 = 0, proto_l4;

	switch (r->proto_kw) {
	case PK_TCP:
	case PK_TCP_PKT:
	case PK_TCP_STREAM:
		l4 = DET_L4_TCP;
		break;
	case PK_UDP:
		l4 = DET_L4_UDP;
		break;
	case PK_IP:
	case PK_IPV4:
	case PK_IPV6:
	case PK_PKTHDR:
		l4 = DET_L4_TCP | DET_L4_UDP;
		break;
	case PK_APP:
		l4 = (uint8_t)(((r->classes & DET_CL_TCP_STREAM) ? DET_L4_TCP : 0) |
				((r->classes & DET_CL_UDP) ? DET_L4_UDP : 0));
		break;
	default:
		break;
	}
	if (r->app_proto == AL_PROTO_NONE) {
		/* only file.data leaves the protocol open */
		for (unsigned i = 0; i < r->n_spans; i++)
			if (r->spans[i].buf == DET_BUF_FILE_DATA) {
				ps->kw = "file.data";
				return fail(ps, DET_R_UNSUPPORTED_PROTOCOL, r->spans[i].col,
						"file.data in a rule for any protocol: name http or "
						"smtp in the header (the protocols whose files Vigil "
						"inspects)");
			}
		return fail(ps, DET_R_INVALID_COMBINATION, 0,
				"the rule inspects transactions but names no protocol");
	}
	proto_l4 = r->app_proto == AL_PROTO_DNS ? (DET_L4_TCP | DET_L4_UDP) : DET_L4_TCP;
	if ((l4 & proto_l4) == 0)
		return fail(ps, DET_R_INVALID_COMBINATION, 0,
				"%s runs over %s, not over the rule's protocol %s",
				al_proto_name((enum al_proto)r->app_proto),
				proto_l4 == DET_L4_TCP ? "tcp" : "tcp or udp",
				r->proto_kw == PK_UDP ? "udp" : "(none)");
	l4 &= proto_l4;

	/* the directions each buffer and number exists in */
	for (unsigned i = 0; i < r->n_spans + r->n_nums; i++) {
		bool span = i < r->n_spans;
		unsigned ts, tc, col;
		const char *name;

		if (span) {
			const struct det_span *sp = &r->spans[i];

			if (sp->buf == DET_BUF_PKT)
				continue;
			ts = det_buf_resolve(sp->buf, (enum al_proto)r->app_proto, AL_TO_SERVER);
			tc = det_buf_resolve(sp->buf, (enum al_proto)r->app_proto, AL_TO_CLIENT);
			name = det_buf_def(sp->buf)->name;
			col = sp->col;
			file_data |= sp->buf == DET_BUF_FILE_DATA;
		} else {
			const struct det_num *n = &r->nums[i - r->n_spans];

			ts = det_num_def(n->num)->al[AL_TO_SERVER];
			tc = det_num_def(n->num)->al[AL_TO_CLIENT];
			name = det_num_def(n->num)->name;
			col = n->col;
		}
		if (ts != 0 && tc == 0 && ts_name == NULL) {
			ts_name = name;
			ts_col = col;
		}
		if (tc != 0 && ts == 0 && tc_name == NULL) {
			tc_name = name;
			tc_col = col;
		}
	}
	if (ts_name != NULL && tc_name != NULL) {
		ps->kw = tc_name;
		return fail(ps, DET_R_INVALID_COMBINATION, tc_col,
				"rule mixes keywords with conflicting directions: %s is in requests "
				"(client to server), %s in responses (server to client)",
				ts_name, tc_name);
	}
	if ((fdir == DET_FLOW_TO_SERVER && tc_name != NULL) ||
			(fdir == DET_FLOW_TO_CLIENT && ts_name != NULL)) {
		ps->kw = fdir == DET_FLOW_TO_SERVER ? tc_name : ts_name;
		return fail(ps, DET_R_INVALID_COMBINATION,
				fdir == DET_FLOW_TO_SERVER ? tc_col : ts_col,
				"rule mixes keywords with conflicting directions: %s is in %s but the "
				"rule has flow:%s",
				ps->kw,
				fdir == DET_FLOW_TO_SERVER ? "responses (server to client)"
							   : "requests (client to server)",
				fdir == DET_FLOW_TO_SERVER ? "to_server" : "to_client");
	}
	if (fdir != 0)
		dirs = fdir == DET_FLOW_TO_SERVER ? 1u : 2u;
	else if (ts_name != NULL)
		dirs = 1u;
	else if (tc_name != NULL || file_data)
		dirs = 2u;
	else
		dirs = 3u;
	for (unsigned d = 0; d < 2; d++) {
		if (!(dirs & (1u << d)))
			continue;
		for (unsigned i = 0; i < r->n_spans; i++) {
			struct det_span *sp = &r->spans[i];
			enum al_buf b;

			if (sp->buf == DET_BUF_PKT)
				continue;
			b = det_buf_resolve(sp->buf, (enum al_proto)r->app_proto, d);
			if (al_buf_info(b) == NULL)
				return fail(ps, DET_R_INVALID_COMBINATION, sp->col,
						"%s has no bytes in this direction",
						det_buf_def(sp->buf)->name);
			sp->al[d] = (uint8_t)b;
			r->tx_stages[d] |= al_buf_info(b)->stage;
		}
		for (unsigned i = 0; i < r->n_nums; i++) {
			struct det_num *n = &r->nums[i];
			enum al_num a = (enum al_num)det_num_def(n->num)->al[d];

			if (al_num_info(a) == NULL)
				return fail(ps, DET_R_INVALID_COMBINATION, n->col,
						"%s has no value in this direction",
						det_num_def(n->num)->name);
			n->al[d] = (uint8_t)a;
			r->tx_stages[d] |= al_num_info(a)->stage;
		}
	}
	ps->kw = NULL;
	r->tx = true;
	r->tx_dirs = (uint8_t)dirs;
	r->l4 = l4;
	r->classes = 0;
	if (r->tflags_mode != DET_TF_NONE && !(l4 & DET_L4_TCP))
		return fail(ps, DET_R_INVALID_COMBINATION, 0,
				"flags tests TCP flags but the rule's protocol is not tcp");
	return 0;
}

/*
 * Header buffers (tcp.hdr, icmpv6.hdr) are inspected with the header, per packet: their items
 * move from items to hitems, each span becoming a DET_H_BUF header test.
 */
static int
split_hdr_spans(struct pstate *ps)
{
	struct det_rule *r = ps->r;
	unsigned nh = 0, nspans = 0, o = 0, ns = 0, ho = 0;
	struct det_item *hv;
	struct det_hdr *nv;

	for (unsigned i = 0; i < r->n_spans; i++) {
		const struct det_span *sp = &r->spans[i];
		bool tcp = sp->buf == DET_BUF_TCP_HDR, ok;

		if (!det_buf_is_hdr(sp->buf))
			continue;
		ps->kw = det_buf_def(sp->buf)->name;
		ok = tcp ? r->proto_kw == PK_TCP || r->proto_kw == PK_TCP_PKT ||
						     r->proto_kw == PK_IP ||
						     (r->proto_kw == PK_APP &&
								     (r->classes & DET_CL_TCP_STREAM))
			 : r->proto_kw == PK_ICMP || r->proto_kw == PK_IP;
		if (!ok)
			return fail(ps, DET_R_INVALID_COMBINATION, sp->col,
					"%s inspects the %s header but the rule's protocol is not %s",
					ps->kw, tcp ? "TCP" : "ICMPv6",
					tcp ? "tcp (or ip)" : "icmp (or ip)");
		if (sp->n_xf > 0)
			return fail(ps, DET_R_UNSUPPORTED_MODIFIER, sp->col,
					"transforms on %s are not supported", ps->kw);
		nh += sp->n;
		nspans++;
	}
	ps->kw = NULL;
	if (nspans == 0)
		return 0;
	hv = malloc((nh ? nh : 1) * sizeof(*hv));
	nv = realloc(r->hdr, (r->n_hdr + nspans) * sizeof(*nv));
	if (nv != NULL)
		r->hdr = nv;
	if (hv == NULL || nv == NULL) {
		free(hv);
		return fail(ps, DET_R_INVALID_VALUE, 0, "out of memory");
	}
	for (unsigned i = 0; i < r->n_spans; i++) {
		struct det_span sp = r->spans[i];

		if (!det_buf_is_hdr(sp.buf)) {
			memmove(&r->items[o], &r->items[sp.first], sp.n * sizeof(*r->items));
			for (unsigned k = o; k < o + sp.n; k++)
				r->items[k].span = (uint8_t)ns;
			r->spans[ns] = sp;
			r->spans[ns].first = (uint16_t)o;
			o += sp.n;
			ns++;
			continue;
		}
		memcpy(&hv[ho], &r->items[sp.first], sp.n * sizeof(*hv));
		r->hdr[r->n_hdr++] = (struct det_hdr){ .field = DET_H_BUF,
			.buf = sp.buf,
			.col = sp.col,
			.first = (uint16_t)ho,
			.n = sp.n };
		ho += sp.n;
	}
	r->hitems = hv;
	r->n_hitems = ho;
	r->n_items = o;
	r->n_spans = ns;
	return 0;
}

static int
finish(struct pstate *ps)
{
	struct det_rule *r = ps->r;
	bool payload, pkt_kw;
	bool tx = r->n_nums > 0 || ps->app_event;

	ps->kw = NULL;
	if (!ps->have_sid)
		return fail(ps, DET_R_MISSING_SID, 0, "rule has no sid");
	if (!ps->have_gid)
		r->info.gid = 1;
	if (organize_spans(ps) != 0)
		return -EINVAL;
	for (unsigned i = 0; i < r->n_spans; i++)
		if (finish_span(ps, i) != 0)
			return -EINVAL;
	if (split_hdr_spans(ps) != 0)
		return -EINVAL;
	for (unsigned i = 0; i < r->n_spans; i++)
		tx |= r->spans[i].buf != DET_BUF_PKT;
	payload = r->n_items > 0;
	/* header tests are per packet, as dsize and flags */
	pkt_kw = r->dsize_op != DET_DSIZE_NONE || r->tflags_mode != DET_TF_NONE || r->n_hdr > 0 ||
		 r->events != 0 || r->events_absent != 0;
	ps->kw = NULL;

	if (tx) {
		bool buffers = r->n_nums > 0;

		for (unsigned i = 0; i < r->n_spans; i++)
			buffers |= r->spans[i].buf != DET_BUF_PKT;
		if (!buffers) {
			ps->kw = "app-layer-event";
			return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->app_event_off,
					"app-layer-event needs a buffer of its protocol in the rule "
					"(Vigil tests a transaction's events when it inspects its "
					"buffers)");
		}
		if (finish_tx(ps) != 0)
			return -EINVAL;
		goto dsize;
	}

	/* which scans the rule takes part in */
	switch (r->proto_kw) {
	case PK_TCP:
	case PK_TCP_PKT:
	case PK_TCP_STREAM:
	case PK_APP: {
		bool has_tcp = r->proto_kw != PK_APP || (r->classes & DET_CL_TCP_STREAM);
		bool stream;

		r->classes &= ~(uint32_t)(DET_CL_TCP_STREAM | DET_CL_TCP_PKT);
		if (r->proto_kw == PK_TCP_STREAM) {
			if (pkt_kw)
				return fail(ps, DET_R_INVALID_COMBINATION, 0,
						"dsize, flags and header keywords test single packets; "
						"they cannot be used in a tcp-stream rule");
			if (!payload)
				return fail(ps, DET_R_INVALID_COMBINATION, 0,
						"a tcp-stream rule needs content, pcre or isdataat");
			stream = true;
		} else if (r->proto_kw == PK_TCP_PKT) {
			stream = false;
		} else {
			/* Suricata too inspects rules with packet keywords per packet. */
			stream = payload && !pkt_kw && !(r->flow & DET_FLOW_NO_STREAM);
		}
		if ((r->flow & DET_FLOW_ONLY_STREAM) && !stream)
			return fail(ps, DET_R_INVALID_COMBINATION, 0,
					"flow:only_stream needs a payload rule without dsize or flags");
		if (has_tcp)
			r->classes |= stream ? DET_CL_TCP_STREAM : DET_CL_TCP_PKT;
		break;
	}
	case PK_UDP:
		r->classes = DET_CL_UDP;
		break;
	case PK_ICMP:
		r->classes = DET_CL_ICMP;
		break;
	case PK_SCTP:
		r->classes = DET_CL_SCTP;
		break;
	case PK_IP:
	case PK_IPV4:
	case PK_IPV6:
	case PK_PKTHDR:
		r->classes = DET_CL_TCP_PKT | DET_CL_UDP | DET_CL_ICMP | DET_CL_SCTP | DET_CL_OTHER;
		break;
	}
	if (r->tflags_mode != DET_TF_NONE && !(r->classes & DET_CL_TCP_PKT))
		return fail(ps, DET_R_INVALID_COMBINATION, 0,
				"flags tests TCP flags but the rule's protocol is not tcp");

dsize:
	/* Suricata refuses rules whose dsize leaves no room for their contents. */
	if (r->dsize_op != DET_DSIZE_NONE) {
		uint32_t max = UINT32_MAX, need = det_rule_min_len(r);

		if (r->dsize_op == DET_DSIZE_EQ || r->dsize_op == DET_DSIZE_LE)
			max = r->dsize_hi;
		else if (r->dsize_op == DET_DSIZE_LT)
			max = r->dsize_hi - 1;
		else if (r->dsize_op == DET_DSIZE_RANGE)
			max = r->dsize_hi - 1;
		ps->kw = "dsize";
		if (need > max)
			return fail(ps, DET_R_CANNOT_MATCH, ps->dsize_off,
					"signature can't match: its contents need at least %u bytes but "
					"dsize allows at most %u",
					need, max);
	}

	if (r->classtype != NULL && ps->ctx->classes != NULL) {
		const struct det_class *c = det_classes_find(ps->ctx->classes, r->classtype);

		if (c == NULL)
			return fail(ps, DET_R_UNKNOWN_CLASSTYPE, 0,
					"classtype '%s' is not in the classification file",
					r->classtype);
		if (!ps->have_priority)
			r->info.priority = c->priority;
		free(r->classdesc);
		r->classdesc = strdup(c->desc != NULL ? c->desc : "");
	}
	if (r->info.priority == 0)
		r->info.priority = 3;
	return 0;
}

int
det_rule_parse(const char *text, const char *file, unsigned line, const struct det_parse_ctx *ctx,
		struct det_rule **out, struct det_parse_err *err)
{
	struct pstate ps = {
		.ctx = ctx, .err = err, .text = text, .last_content = -1, .sticky_span = -1
	};
	struct det_rule *r;
	const char *open, *close;
	unsigned len = (unsigned)strlen(text);
	int rc;

	memset(err, 0, sizeof(*err));
	*out = NULL;
	err->sid = prescan_sid(text);
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	ps.r = r;
	r->text = strdup(text);
	r->file = strdup(file != NULL ? file : "<input>");
	if (r->text == NULL || r->file == NULL) {
		det_rule_free(r);
		return -ENOMEM;
	}
	r->info.line = line;

	open = strchr(text, '(');
	close = strrchr(text, ')');
	if (open == NULL) {
		rc = fail(&ps, DET_R_SYNTAX, len, "no '(' starting the options");
		goto out;
	}
	if (close == NULL || close < open) {
		rc = fail(&ps, DET_R_SYNTAX, len, "options are not closed with ')'");
		goto out;
	}
	for (const char *p = close + 1; *p; p++)
		if (!isspace((unsigned char)*p)) {
			rc = fail(&ps, DET_R_SYNTAX, (unsigned)(p - text),
					"unexpected text after the closing ')'");
			goto out;
		}
	rc = parse_header(&ps, (unsigned)(open - text));
	if (rc == 0)
		rc = parse_options(&ps, (unsigned)(open - text), (unsigned)(close - text));
	if (rc == 0)
		rc = finish(&ps);
out:
	if (rc != 0) {
		if (ps.have_sid)
			err->sid = r->info.sid;
		det_rule_free(r);
		return rc;
	}
	if (r->msg == NULL)
		r->msg = strdup("");
	if (r->classtype == NULL)
		r->classtype = strdup("");
	if (r->metadata == NULL)
		r->metadata = strdup("");
	if (r->references == NULL)
		r->references = strdup("");
	if (r->classdesc == NULL)
		r->classdesc = strdup("");
	if (r->msg == NULL || r->classtype == NULL || r->metadata == NULL ||
			r->references == NULL || r->classdesc == NULL) {
		det_rule_free(r);
		return -ENOMEM;
	}
	r->info.msg = r->msg;
	r->info.classtype = r->classtype;
	r->info.classdesc = r->classdesc;
	r->info.metadata = r->metadata;
	r->info.file = r->file;
	err->sid = r->info.sid;
	*out = r;
	return 0;
}
