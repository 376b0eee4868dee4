/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "det_partial.h"

#define MAX_BITS 8

/* A rejected rule that may have mattered to the rules that loaded. */
struct lost {
	char *file;
	unsigned line;
	uint32_t sid;
	char *why;	       /* "unsupported_keyword 'http.uri'" */
	bool pass;	       /* a pass rule */
	struct det_rule *hdr;  /* pass: its header alone, NULL when even that does not parse */
	uint8_t cmd[MAX_BITS]; /* flowbits it changes: DET_FB_SET, _UNSET, _TOGGLE */
	char *bit[MAX_BITS];
	unsigned n_bits;
};

struct det_partial {
	struct lost *v;
	unsigned n, cap;
};

struct det_partial *
det_partial_new(void)
{
	return calloc(1, sizeof(struct det_partial));
}

static void
lost_free(struct lost *l)
{
	free(l->file);
	free(l->why);
	det_rule_free(l->hdr);
	for (unsigned i = 0; i < l->n_bits; i++)
		free(l->bit[i]);
}

void
det_partial_free(struct det_partial *p)
{
	if (p == NULL)
		return;
	for (unsigned i = 0; i < p->n; i++)
		lost_free(&p->v[i]);
	free(p->v);
	free(p);
}

static bool
word_at(const char *s, const char *w)
{
	size_t n = strlen(w);

	return strncmp(s, w, n) == 0 && (s[n] == '\0' || isspace((unsigned char)s[n]));
}

/*
 * The flowbits a rule's text changes ("flowbits:set,name"), found without parsing the rule
 * (it did not parse): each "flowbits" keyword that starts an option, its command and name.
 */
static void
scan_flowbits(struct lost *l, const char *text)
{
	static const struct {
		const char *name;
		uint8_t cmd;
	} cmds[] = { { "set", DET_FB_SET }, { "unset", DET_FB_UNSET },
		{ "toggle", DET_FB_TOGGLE } };
	const char *p = strchr(text, '(');

	while (p != NULL && (p = strstr(p, "flowbits")) != NULL) {
		const char *q = p + 8;
		const char *before = p - 1;

		p = q;
		while (before > text && isspace((unsigned char)*before))
			before--;
		if (*before != ';' && *before != '(')
			continue;
		while (isspace((unsigned char)*q))
			q++;
		if (*q++ != ':')
			continue;
		while (isspace((unsigned char)*q))
			q++;
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
			size_t n = strlen(cmds[i].name);
			const char *name, *end;

			if (strncmp(q, cmds[i].name, n) != 0 ||
					(q[n] != ',' && !isspace((unsigned char)q[n])))
				continue;
			name = q + n;
			while (*name == ',' || isspace((unsigned char)*name))
				name++;
			end = name;
			while (*end != '\0' && *end != ';' && *end != ',' &&
					!isspace((unsigned char)*end))
				end++;
			if (end > name && l->n_bits < MAX_BITS) {
				l->cmd[l->n_bits] = cmds[i].cmd;
				l->bit[l->n_bits] = strndup(name, (size_t)(end - name));
				if (l->bit[l->n_bits] != NULL)
					l->n_bits++;
			}
			break;
		}
	}
}

/* The header of a rule that did not load, parsed alone ("pass tcp a b -> c d (sid:N;)"). */
static struct det_rule *
parse_header(const char *text, const char *file, unsigned line, uint32_t sid,
		const struct det_parse_ctx *pctx)
{
	const char *open = strchr(text, '(');
	struct det_parse_err err;
	struct det_rule *r = NULL;
	char *buf;
	size_t n;

	if (open == NULL)
		return NULL;
	n = (size_t)(open - text);
	buf = malloc(n + 48);
	if (buf == NULL)
		return NULL;
	snprintf(buf, n + 48, "%.*s(sid:%u;)", (int)n, text, sid ? sid : 1u);
	if (det_rule_parse(buf, file, line, pctx, &r, &err) != 0)
		r = NULL;
	free(buf);
	return r;
}

int
det_partial_note(struct det_partial *p, const char *text, const char *file, unsigned line,
		uint32_t sid, enum det_reason reason, const char *keyword,
		const struct det_parse_ctx *pctx)
{
	struct lost l;
	char why[160];

	while (isspace((unsigned char)*text))
		text++;
	memset(&l, 0, sizeof(l));
	l.pass = word_at(text, "pass");
	scan_flowbits(&l, text);
	if (!l.pass && l.n_bits == 0)
		return 0;
	if (p->n == p->cap) {
		unsigned cap = p->cap ? 2 * p->cap : 16;
		struct lost *v = realloc(p->v, cap * sizeof(*v));

		if (v == NULL) {
			lost_free(&l);
			return -ENOMEM;
		}
		p->v = v;
		p->cap = cap;
	}
	if (keyword != NULL && keyword[0] != '\0')
		snprintf(why, sizeof(why), "%s '%s'", det_reason_name(reason), keyword);
	else
		snprintf(why, sizeof(why), "%s", det_reason_name(reason));
	l.file = strdup(file);
	l.why = strdup(why);
	l.line = line;
	l.sid = sid;
	if (l.pass)
		l.hdr = parse_header(text, file, line, sid, pctx);
	if (l.file == NULL || l.why == NULL) {
		lost_free(&l);
		return -ENOMEM;
	}
	p->v[p->n++] = l;
	return 0;
}

static bool
ports_overlap(const struct det_rule *a, const struct det_rule *b, bool swap)
{
	if (!a->ports_apply || !b->ports_apply)
		return true;
	return det_portset_overlaps(&a->sport, swap ? &b->dport : &b->sport) &&
	       det_portset_overlaps(&a->dport, swap ? &b->sport : &b->dport);
}

/* Could a packet match both headers? */
static bool
headers_overlap(const struct det_rule *a, const struct det_rule *b)
{
	if ((a->classes & b->classes) == 0)
		return false;
	if (det_ipset_overlaps(&a->src, &b->src) && det_ipset_overlaps(&a->dst, &b->dst) &&
			ports_overlap(a, b, false))
		return true;
	return (a->bidir || b->bidir) && det_ipset_overlaps(&a->src, &b->dst) &&
	       det_ipset_overlaps(&a->dst, &b->src) && ports_overlap(a, b, true);
}

static bool
drops(const struct det_rule *r)
{
	return r->info.action == DET_ACT_DROP || r->info.action == DET_ACT_REJECT;
}

/* Does a loaded rule change bit the way cmd does (so the rejected rule is not its only one)? */
static bool
loaded_changes(const struct det_set *set, uint8_t cmd, const char *bit)
{
	for (unsigned i = 0; i < det_set_count(set); i++) {
		const struct det_rule *r = det_set_rule(set, i);

		for (unsigned k = 0; k < r->n_fb; k++)
			if (r->fb[k].cmd == cmd && r->fb[k].n > 0 &&
					strcmp(r->fb[k].names[0], bit) == 0)
				return true;
	}
	return false;
}

static bool
tests_bit(const struct det_rule *r, const char *bit)
{
	for (unsigned k = 0; k < r->n_fb; k++) {
		if (r->fb[k].cmd != DET_FB_ISSET && r->fb[k].cmd != DET_FB_ISNOTSET)
			continue;
		for (unsigned j = 0; j < r->fb[k].n; j++)
			if (strcmp(r->fb[k].names[j], bit) == 0)
				return true;
	}
	return false;
}

static int
record(struct det_load_report *rep, const struct det_rule *r, const struct lost *l, const char *fmt,
		const char *arg)
{
	struct det_lost_dep *d;
	char msg[512];

	rep->meaning_changed++;
	if (rep->n_lost >= DET_LOAD_REPORT_MAX_REJECTS) {
		rep->lost_dropped++;
		return 0;
	}
	if (rep->n_lost % 64 == 0) {
		struct det_lost_dep *v = realloc(rep->lost, (rep->n_lost + 64) * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		rep->lost = v;
	}
	snprintf(msg, sizeof(msg), fmt, arg);
	d = &rep->lost[rep->n_lost];
	memset(d, 0, sizeof(*d));
	d->file = strdup(r->file);
	d->lost_file = strdup(l->file);
	d->msg = strdup(msg);
	if (d->file == NULL || d->lost_file == NULL || d->msg == NULL) {
		free(d->file);
		free(d->lost_file);
		free(d->msg);
		return -ENOMEM;
	}
	d->line = r->info.line;
	d->sid = r->info.sid;
	d->action = r->info.action;
	d->lost_line = l->line;
	d->lost_sid = l->sid;
	rep->n_lost++;
	return 0;
}

int
det_partial_check(struct det_partial *p, const struct det_set *set, struct det_load_report *rep)
{
	unsigned n = det_set_count(set);

	for (unsigned i = 0; i < p->n; i++) {
		const struct lost *l = &p->v[i];

		if (l->pass) {
			rep->rejected_pass++;
			for (unsigned k = 0; k < n; k++) {
				const struct det_rule *r = det_set_rule(set, k);

				if (!drops(r) || (l->hdr != NULL && !headers_overlap(l->hdr, r)))
					continue;
				if (record(rep, r, l,
						    "a pass rule in front of it was rejected (%s): "
						    "what it let through is now dropped",
						    l->why) != 0)
					return -ENOMEM;
			}
		}
		for (unsigned b = 0; b < l->n_bits; b++) {
			if (loaded_changes(set, l->cmd[b], l->bit[b]))
				continue;
			for (unsigned k = 0; k < n; k++) {
				const struct det_rule *r = det_set_rule(set, k);
				char what[200];

				if (!drops(r) || !tests_bit(r, l->bit[b]))
					continue;
				snprintf(what, sizeof(what),
						"flowbit '%s' is %s only by a rejected rule",
						l->bit[b],
						l->cmd[b] == DET_FB_SET	    ? "set"
						: l->cmd[b] == DET_FB_UNSET ? "unset"
									    : "toggled");
				if (record(rep, r, l, "%s: it tests what can no longer happen",
						    what) != 0)
					return -ENOMEM;
			}
		}
	}
	return 0;
}
