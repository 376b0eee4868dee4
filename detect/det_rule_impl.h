/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the rule parser's files share; private to det_rule*.c. det_rule.c parses the header,
 * drives the options and validates the rule; det_rule_kw.c has the keyword table, the option
 * dispatch and most keywords; det_rule_app.c the keywords of buffers, transforms and the
 * application layer; det_rule_class.c classification.config.
 */
#ifndef DET_RULE_IMPL_H
#define DET_RULE_IMPL_H

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

static inline int __attribute__((format(printf, 4, 5)))
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
static inline int
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
static inline int
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

static inline int
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
static inline bool
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
static inline int
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
static inline int
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
static inline int
cur_span(struct pstate *ps)
{
	if (ps->sticky_span >= 0)
		return ps->sticky_span;
	ps->sticky_span = span_get(ps, ps->sticky, ps->sticky_xf, ps->sticky_nxf,
			ps->sticky == DET_BUF_PKT || !buf_multi(ps->sticky),
			ps->sticky == DET_BUF_PKT ? ps->kw_off : ps->sticky_off);
	return ps->sticky_span;
}

static inline struct det_item *new_item_in(struct pstate *ps, uint8_t type, uint16_t kw, int span);

static inline struct det_item *
new_item(struct pstate *ps, uint8_t type, uint16_t kw)
{
	int span = cur_span(ps);

	return span < 0 ? NULL : new_item_in(ps, type, kw, span);
}

static inline struct det_item *
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
static inline char *
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

/* det_rule_kw.c: keywords that det_rule_app.c builds on */
int det_kw_content(struct pstate *ps, const char *v, unsigned kw);
struct det_content *det_rule_last_content(struct pstate *ps);
int det_rule_parse_num(const char *s, int64_t min, uint64_t max, int64_t *sv, uint64_t *uv);

/* det_rule_kw.c: the options between the parentheses, through the keyword table */
uint32_t det_rule_prescan_sid(const char *t);
int det_rule_parse_options(struct pstate *ps, unsigned open, unsigned close);

/* det_rule_app.c: keywords in the table of det_rule_kw.c */
int det_kw_endswith(struct pstate *ps, const char *v, unsigned kw);
int det_kw_sticky(struct pstate *ps, unsigned b);
int det_kw_pkt_data(struct pstate *ps, const char *v, unsigned kw);
int det_kw_modifier(struct pstate *ps, unsigned b);
int det_kw_uricontent(struct pstate *ps, const char *v, unsigned kw);
int det_kw_transform(struct pstate *ps, const char *v, unsigned kw);
int det_kw_bsize(struct pstate *ps, const char *v, unsigned kw);
int det_kw_urilen(struct pstate *ps, const char *v, unsigned kw);
int det_kw_tls_dn(struct pstate *ps, const char *v, unsigned kw);
int det_kw_ssh_version(struct pstate *ps, const char *v, unsigned kw);
int det_kw_number(struct pstate *ps, const char *v, unsigned kw);
int det_kw_app_layer_protocol(struct pstate *ps, const char *v, unsigned kw);
int det_kw_app_layer_event(struct pstate *ps, const char *v, unsigned kw);
int det_kw_event(struct pstate *ps, const char *v, unsigned kw);
int det_kw_csum(struct pstate *ps, const char *v, unsigned kw);

#endif /* DET_RULE_IMPL_H */
