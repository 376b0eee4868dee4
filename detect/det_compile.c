/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * From a rule set to Hyperscan databases: plan each rule (exact, confirm, unfiltered,
 * header), group rules by protocol class, direction and server port, and compile one database
 * per group.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "det_engine_priv.h"
#include "det_regex.h"

static atomic_uint_fast64_t next_gen = 1;

static const char *const cls_names[CLS__COUNT] = { "tcp-stream", "tcp-pkt", "udp", "icmp", "sctp",
	"ip" };
static const bool cls_ports[CLS__COUNT] = { true, true, true, false, true, false };

void
det_compile_opts_default(struct det_compile_opts *o)
{
	o->stream_depth = 1u << 20;
	o->stream_window = 2048;
	o->max_port_groups = 32;
	o->thresh_entries = 65536;
	o->pcre_scan_all = false;
	o->pcre_match_limit = DET_PCRE_MATCH_LIMIT;
	o->pcre_depth_limit = DET_PCRE_DEPTH_LIMIT;
}

/*
 * A pcre whose cost its length does not bound is loaded (PCRE2's limits stop it, and the hits
 * are counted) but the operator hears of it.
 */
static void
warn_unbounded(const struct det_rule *r, const struct det_compile_opts *o, struct vg_diag *diag)
{
	for (unsigned k = 0; k < r->n_items; k++) {
		const struct det_item *it = &r->items[k];
		const char *why;
		unsigned off;

		if (it->type != DET_ITEM_PCRE ||
				(why = det_regex_unbounded(it->p.expr, &off)) == NULL)
			continue;
		vg_diag_add(diag, VG_SEV_WARNING, r->info.file, r->info.line, 0,
				"sid %u: pcre \"/%.80s/\" has %s at offset %u of its pattern: its "
				"cost can grow exponentially with the input; PCRE2 gives up at %u "
				"steps or depth %u (signatures.pcre_match_limit, "
				"pcre_recursion_limit) and counts it as a limit hit",
				r->info.sid, it->p.expr, why, off, o->pcre_match_limit,
				o->pcre_depth_limit);
	}
}

/* ---- a small growable string ---- */

struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s != NULL ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 64;
		while (cap - b->len <= (size_t)n)
			cap *= 2;
		char *s = realloc(b->s, cap);

		if (s == NULL) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

static void
sb_bytes(struct sbuf *b, const uint8_t *p, uint32_t n, bool nocase)
{
	if (nocase)
		sb_add(b, "(?i:");
	for (uint32_t i = 0; i < n; i++) {
		if (isalnum(p[i]))
			sb_add(b, "%c", p[i]);
		else
			sb_add(b, "\\x%02x", p[i]);
	}
	if (nocase)
		sb_add(b, ")");
}

/* ---- planning ---- */

static void
atoms_free(struct det_erule *er)
{
	for (unsigned i = 0; i < er->n_atoms; i++)
		free(er->atoms[i].expr);
	free(er->atoms);
	er->atoms = NULL;
	er->n_atoms = er->n_pos = 0;
}

static struct det_atom *
atom_new(struct det_erule *er)
{
	struct det_atom *v = realloc(er->atoms, (er->n_atoms + 1) * sizeof(*v));

	if (v == NULL)
		return NULL;
	er->atoms = v;
	memset(&v[er->n_atoms], 0, sizeof(v[0]));
	return &v[er->n_atoms++];
}

/* Can Hyperscan compile expr with flags (block mode suffices to know)? */
static bool
hs_accepts(const char *expr, unsigned flags, const hs_expr_ext_t *ext)
{
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *err = NULL;
	hs_error_t rc = hs_expression_ext_info(expr, flags, ext, &info, &err);

	if (err != NULL)
		hs_free_compile_error(err);
	free(info);
	return rc == HS_SUCCESS;
}

/* A single content as a literal atom with its absolute window as Hyperscan offsets. */
static char *
content_atom(const struct det_content *c, bool absolute, hs_expr_ext_t *ext)
{
	struct sbuf b = { 0 };

	memset(ext, 0, sizeof(*ext));
	if (absolute) {
		/* Hyperscan's offsets bound the end of the match; the content starts len before. */
		if ((c->flags & DET_C_OFFSET) && c->offset > 0) {
			ext->flags |= HS_EXT_FLAG_MIN_OFFSET;
			ext->min_offset = (unsigned long long)c->offset + c->len;
		}
		if (c->flags & DET_C_DEPTH) {
			ext->flags |= HS_EXT_FLAG_MAX_OFFSET;
			ext->max_offset = (unsigned long long)((c->flags & DET_C_OFFSET) ? c->offset
											 : 0) +
					  (unsigned long long)c->depth;
		}
	}
	sb_bytes(&b, c->pat, c->len, (c->flags & DET_C_NOCASE) != 0);
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

/* A chain head + relative contents as one regex with bounded gaps. */
static char *
chain_atom(const struct det_item *items, unsigned n)
{
	const struct det_content *h = &items[0].c;
	struct sbuf b = { 0 };

	if ((h->flags & (DET_C_OFFSET | DET_C_DEPTH)) &&
			(h->offset > 0 || (h->flags & DET_C_DEPTH))) {
		uint32_t off = (h->flags & DET_C_OFFSET) ? (uint32_t)h->offset : 0;

		if (h->flags & DET_C_DEPTH)
			sb_add(&b, "^.{%u,%u}", off, off + (uint32_t)h->depth - h->len);
		else
			sb_add(&b, "^.{%u,}", off);
	}
	sb_bytes(&b, h->pat, h->len, (h->flags & DET_C_NOCASE) != 0);
	for (unsigned i = 1; i < n; i++) {
		const struct det_content *c = &items[i].c;
		uint32_t d = (c->flags & DET_C_DISTANCE) ? (uint32_t)c->distance : 0;

		if (c->flags & DET_C_WITHIN)
			sb_add(&b, ".{%u,%u}", d, d + (uint32_t)c->within - c->len);
		else if (d > 0)
			sb_add(&b, ".{%u,}", d);
		else
			sb_add(&b, ".*");
		sb_bytes(&b, c->pat, c->len, (c->flags & DET_C_NOCASE) != 0);
	}
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

/* A pcre as a Hyperscan expression and flags, or NULL when its flags have no equivalent. */
static char *
pcre_atom(const struct det_pcre *p, unsigned *flags)
{
	struct sbuf b = { 0 };

	if (p->flags & (DET_P_ANCHORED | DET_P_DOLLAR_ENDONLY | DET_P_RELATIVE))
		return NULL;
	*flags = 0;
	if (p->flags & DET_P_CASELESS)
		*flags |= HS_FLAG_CASELESS;
	if (p->flags & DET_P_DOTALL)
		*flags |= HS_FLAG_DOTALL;
	if (p->flags & DET_P_MULTILINE)
		*flags |= HS_FLAG_MULTILINE;
	/* greediness does not change whether a match exists */
	if (p->flags & DET_P_EXTENDED)
		sb_add(&b, "(?x)%s\n", p->expr); /* the newline ends a trailing # comment */
	else
		sb_add(&b, "%s", p->expr);
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

struct plan_counts {
	const struct det_compile_opts *o;
	unsigned pcre_hs, pcre_prefilter;
};

/*
 * May pcre p of rule r become a Hyperscan expression? Not when Hyperscan would have to run it
 * over every byte of every packet of the group: a pcre without a literal of
 * DET_REGEX_LITERAL_MIN bytes in every match is left to PCRE2, which runs it only on packets
 * that passed the rule's header, dsize, flow and flowbits checks and its other contents (as
 * Suricata does). Kept in Hyperscan: a pcre the rule marks with prefilter; those of TCP stream
 * rules, whose database carries a match across segments (PCRE2 sees only the window and the
 * segment); and all of them when the options ask (comparisons).
 */
static bool
pcre_scannable(const struct det_rule *r, const struct det_pcre *p, const struct det_compile_opts *o)
{
	if ((o != NULL && o->pcre_scan_all) || (p->flags & DET_P_PREFILTER) ||
			((r->classes & DET_CL_TCP_STREAM) && !r->tx))
		return true;
	return det_regex_literal_len(p->expr, p->flags) >= DET_REGEX_LITERAL_MIN;
}

/* Exact plan: every chain one atom. Returns 1 done, 0 not possible, -ENOMEM. */
static int
plan_exact(struct det_erule *er, const struct det_rule *r, struct plan_counts *pc)
{
	struct det_atom tmp[64];
	unsigned n = 0, npos = 0, pcre_hs = 0;

	for (unsigned i = 0; i < r->n_items;) {
		unsigned j = i + 1;
		const struct det_item *it = &r->items[i];
		struct det_atom *a;

		while (j < r->n_items && r->items[j].relative)
			j++;
		if (n == sizeof(tmp) / sizeof(tmp[0]))
			goto no;
		a = &tmp[n];
		memset(a, 0, sizeof(*a));
		if (j - i == 1 && it->type == DET_ITEM_CONTENT) {
			/* "ends the buffer" has no Hyperscan form that holds in a stream */
			if (it->c.flags & DET_C_ENDSWITH)
				goto no;
			a->expr = content_atom(&it->c, true, &a->ext);
			a->flags = HS_FLAG_DOTALL;
			a->neg = (it->c.flags & DET_C_NEGATED) != 0;
		} else if (j - i == 1 && it->type == DET_ITEM_PCRE) {
			if (!pcre_scannable(r, &it->p, pc->o))
				goto no;
			a->expr = pcre_atom(&it->p, &a->flags);
			if (a->expr == NULL)
				goto no;
			if (!hs_accepts(a->expr, a->flags, NULL)) {
				free(a->expr);
				goto no;
			}
			a->neg = (it->p.flags & DET_P_NEGATED) != 0;
			pcre_hs++;
		} else {
			for (unsigned k = i; k < j; k++) {
				const struct det_item *x = &r->items[k];

				if (x->type != DET_ITEM_CONTENT ||
						(x->c.flags & (DET_C_NEGATED | DET_C_ENDSWITH)) ||
						((x->c.flags & DET_C_DISTANCE) &&
								x->c.distance < 0))
					goto no;
			}
			a->expr = chain_atom(&r->items[i], j - i);
			a->flags = HS_FLAG_DOTALL;
			if (a->expr != NULL && !hs_accepts(a->expr, a->flags, NULL)) {
				free(a->expr);
				goto no;
			}
		}
		if (a->expr == NULL)
			goto nomem;
		if (!a->neg)
			npos++;
		n++;
		i = j;
	}
	if (npos == 0)
		goto no; /* absences alone have nothing to trigger on */
	er->atoms = calloc(n, sizeof(*er->atoms));
	if (er->atoms == NULL)
		goto nomem;
	/* positives first */
	for (unsigned k = 0, o = 0; k < 2; k++)
		for (unsigned i = 0; i < n; i++)
			if (tmp[i].neg == (k == 1))
				er->atoms[o++] = tmp[i];
	er->n_atoms = n;
	er->n_pos = npos;
	er->kind = PLAN_EXACT;
	pc->pcre_hs += pcre_hs;
	return 1;
no:
	for (unsigned i = 0; i < n; i++)
		free(tmp[i].expr);
	return 0;
nomem:
	for (unsigned i = 0; i < n; i++)
		free(tmp[i].expr);
	return -ENOMEM;
}

/* Confirm plan: one prefilter atom. Returns 1 done, 0 none usable, -ENOMEM. */
static int
plan_confirm(struct det_erule *er, const struct det_rule *r, struct plan_counts *pc)
{
	int best = -1;
	struct det_atom *a;

	for (unsigned i = 0; i < r->n_items; i++) {
		const struct det_item *it = &r->items[i];

		if (it->type != DET_ITEM_CONTENT || (it->c.flags & DET_C_NEGATED))
			continue;
		if (it->c.flags & DET_C_FAST_PATTERN) {
			best = (int)i;
			break;
		}
		if (best < 0 || it->c.len > r->items[best].c.len)
			best = (int)i;
	}
	if (best >= 0) {
		const struct det_item *it = &r->items[best];

		a = atom_new(er);
		if (a == NULL)
			return -ENOMEM;
		a->expr = content_atom(&it->c, !it->relative, &a->ext);
		a->flags = HS_FLAG_DOTALL;
		if (a->expr == NULL)
			return -ENOMEM;
		er->n_pos = 1;
		er->kind = PLAN_CONFIRM;
		return 1;
	}
	for (unsigned i = 0; i < r->n_items; i++) {
		const struct det_item *it = &r->items[i];
		unsigned flags;
		char *expr;

		if (it->type != DET_ITEM_PCRE || (it->p.flags & DET_P_NEGATED) || it->relative ||
				!pcre_scannable(r, &it->p, pc->o))
			continue;
		expr = pcre_atom(&it->p, &flags);
		if (expr == NULL)
			continue;
		if (hs_accepts(expr, flags, NULL)) {
			pc->pcre_hs++;
		} else if (hs_accepts(expr, flags | HS_FLAG_PREFILTER, NULL)) {
			flags |= HS_FLAG_PREFILTER;
			pc->pcre_prefilter++;
		} else {
			free(expr);
			continue;
		}
		a = atom_new(er);
		if (a == NULL) {
			free(expr);
			return -ENOMEM;
		}
		a->expr = expr;
		a->flags = flags;
		er->n_pos = 1;
		er->kind = PLAN_CONFIRM;
		return 1;
	}
	return 0;
}

/*
 * level 0: best plan; 1: no exact plan (Hyperscan refused it); 2: no Hyperscan at all.
 */
static bool
rule_has_negation(const struct det_rule *r)
{
	for (unsigned i = 0; i < r->n_items; i++) {
		const struct det_item *it = &r->items[i];

		if ((it->type == DET_ITEM_CONTENT && (it->c.flags & DET_C_NEGATED)) ||
				(it->type == DET_ITEM_PCRE && (it->p.flags & DET_P_NEGATED)))
			return true;
	}
	return false;
}

static int plan_rule_counted(
		struct det_erule *er, const struct det_rule *r, int level, struct plan_counts *pc);

static int
plan_rule(struct det_erule *er, const struct det_rule *r, int level,
		const struct det_compile_opts *o)
{
	struct plan_counts pc = { .o = o };
	int rc = plan_rule_counted(er, r, level, &pc);

	er->pcre_hs = (uint16_t)pc.pcre_hs;
	er->pcre_pref = (uint16_t)pc.pcre_prefilter;
	return rc;
}

static int
plan_rule_counted(struct det_erule *er, const struct det_rule *r, int level, struct plan_counts *pc)
{
	int rc;

	atoms_free(er);
	er->r = r;
	er->th = r->th.type != DET_TH_NONE ? &r->th : NULL;
	er->flow_scope = (r->classes & DET_CL_TCP_STREAM) != 0;
	if (r->tx) {
		/* planned per direction by tx_variants(); the verdict is the flow's */
		er->kind = PLAN_TX;
		er->flow_scope = true;
		return 0;
	}
	if (r->n_items == 0) {
		er->kind = PLAN_HEADER;
		/* Setting flowbits keeps a rule IP-only (the reputation lists of ET Open mark
		 * the flow so); testing them does not. */
		bool fb_tests = false;

		for (unsigned k = 0; k < r->n_fb; k++)
			fb_tests |= r->fb[k].cmd == DET_FB_ISSET || r->fb[k].cmd == DET_FB_ISNOTSET;
		fb_tests |= r->n_fi > 0; /* flowint counts per packet */
		/* app-layer-protocol needs the protocol, which the first packet has not. Ports
		 * make a rule a packet rule, as in Suricata (SignatureIsIPOnly: a TCP or UDP
		 * rule is IP-only only with both ports any): it is checked on every packet. */
		er->ip_only = !r->ports_apply && r->dsize.op == 0 &&
			      r->tflags_mode == DET_TF_NONE && r->n_hdr == 0 && r->n_alp == 0 &&
			      r->flow == 0 && !fb_tests && r->events == 0 && r->events_absent == 0;
		er->flow_scope = er->ip_only;
		er->pd_only = r->n_alp > 0 && r->dsize.op == 0 && r->tflags_mode == DET_TF_NONE &&
			      r->n_hdr == 0 && r->flow == 0 && r->n_fb == 0 && r->n_fi == 0;
		return 0;
	}
	/*
	 * In a stream, Hyperscan can only say "absent so far" when the positive part matches;
	 * Suricata looks at the whole inspected chunk. Negations of stream rules are therefore
	 * confirmed on the window and segment, which holds what follows the match too.
	 */
	if (level == 0 && (r->classes & DET_CL_TCP_STREAM) && rule_has_negation(r))
		level = 1;
	if (level == 0) {
		rc = plan_exact(er, r, pc);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	if (level <= 1) {
		rc = plan_confirm(er, r, pc);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	atoms_free(er);
	er->kind = PLAN_ALWAYS;
	return 0;
}

/* ---- groups ---- */

static void
group_free(struct det_group *g)
{
	hs_free_database(g->db);
	free(g->grules);
	free(g->gatoms);
	free(g->always);
	free(g->ip_only);
	for (int k = 0; k < 2; k++) {
		free(g->idx[k].lo);
		free(g->idx[k].off);
		free(g->idx[k].ids);
	}
	memset(g, 0, sizeof(*g));
}

static void
groups_free(struct det_engine *e)
{
	for (uint32_t i = 0; i < e->n_groups; i++)
		group_free(&e->groups[i]);
	free(e->groups);
	e->groups = NULL;
	e->n_groups = 0;
	for (int c = 0; c < CLS__COUNT; c++)
		for (int d = 0; d < 2; d++) {
			free(e->portmap[c][d]);
			e->portmap[c][d] = NULL;
			e->deflt[c][d] = -1;
		}
}

static bool
rule_in_dir(const struct det_rule *r, int dir)
{
	if ((r->flow & DET_FLOW_TO_SERVER) && dir != 0)
		return false;
	if ((r->flow & DET_FLOW_TO_CLIENT) && dir != 1)
		return false;
	return true;
}

/* The server ports a rule can match in a direction. */
static int
rule_keyset(const struct det_rule *r, int dir, struct det_portset *out)
{
	struct det_portset u;
	int rc;

	if (r->bidir)
		rc = det_portset_union(&u, &r->sport, &r->dport);
	else
		rc = det_portset_union(&u, dir == 0 ? &r->dport : &r->sport,
				dir == 0 ? &r->dport : &r->sport);
	if (rc != 0)
		return rc;
	/* a protocol Vigil detects is matched on any port (by port only until detection) */
	if (!r->app_approx || r->app_proto != AL_PROTO_NONE) {
		*out = u;
		return 0;
	}
	rc = det_portset_intersect(out, &u, &r->app_ports);
	det_portset_free(&u);
	return rc;
}

struct gbuild {
	uint32_t *rules; /* engine rule indexes */
	uint32_t n, cap;
};

static int
gb_add(struct gbuild *b, uint32_t rule)
{
	if (b->n == b->cap) {
		uint32_t cap = b->cap ? b->cap * 2 : 16;
		uint32_t *v = realloc(b->rules, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		b->rules = v;
		b->cap = cap;
	}
	b->rules[b->n++] = rule;
	return 0;
}

struct compile_err {
	int rule; /* engine rule whose atom Hyperscan refused, -1: the database as a whole */
	char msg[256];
};

/*
 * Hyperscan refused a database without naming an expression: compile each rule's expressions
 * alone and return the first rule that fails, or -1.
 */
static int
find_culprit(const struct det_group *g, const char **exprs, const unsigned *flags,
		const unsigned *ids, const hs_expr_ext_t **exts)
{
	for (uint32_t i = 0; i < g->n_grules; i++) {
		const struct det_grule *gr = &g->grules[i];
		uint32_t n = (uint32_t)gr->n_pos + gr->n_neg;
		hs_database_t *db = NULL;
		hs_compile_error_t *err = NULL;

		if (n == 0)
			continue;
		if (hs_compile_ext_multi(exprs + gr->atom0, flags + gr->atom0, ids + gr->atom0,
				    exts + gr->atom0, n, g->stream ? HS_MODE_STREAM : HS_MODE_BLOCK,
				    NULL, &db, &err) != HS_SUCCESS) {
			hs_free_compile_error(err);
			return (int)gr->rule;
		}
		hs_free_database(db);
	}
	return -1;
}

/* ---- the IP-only index ---- */

/* An address set an index can key a rule by: IPv4 only, not any, not too wide. */
#define IPIDX_MAX_SPAN (1u << 16) /* addresses of one range; wider ranges are not indexed */

struct ipidx_range {
	uint32_t lo, hi; /* inclusive */
	uint32_t grule;
};

static bool
ipidx_usable(const struct det_ipset *s, uint64_t *addrs)
{
	uint64_t n = 0;

	if (s->any || s->addrs.v6.n > 0 || s->addrs.v4.n == 0)
		return false;
	for (uint32_t i = 0; i < s->addrs.v4.n; i++) {
		uint64_t w = (uint64_t)(s->addrs.v4.v[i].hi - s->addrs.v4.v[i].lo) + 1;

		if (w > IPIDX_MAX_SPAN)
			return false;
		n += w;
	}
	*addrs = n;
	return true;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
range_cmp(const void *a, const void *b)
{
	const struct ipidx_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/*
 * Elementary intervals of the ranges, each with the rules that cover it: a sweep over the
 * sorted starts and ends. Ranges are narrow (IPIDX_MAX_SPAN), so each covers few intervals.
 */
static int
ipidx_build(struct det_ipidx *ix, struct ipidx_range *r, uint32_t n)
{
	uint64_t *bounds = malloc(2 * (size_t)n * sizeof(*bounds));
	struct ipidx_range *active = NULL;
	uint32_t nb = 0, n_ids = 0, cap = 0, n_active = 0;
	int rc = -ENOMEM;

	memset(ix, 0, sizeof(*ix));
	if (n == 0) {
		free(bounds);
		return 0;
	}
	if (bounds == NULL)
		return -ENOMEM;
	qsort(r, n, sizeof(*r), range_cmp);
	for (uint32_t i = 0; i < n; i++) {
		bounds[nb++] = r[i].lo;
		bounds[nb++] = (uint64_t)r[i].hi + 1;
	}
	/* sort and unique (as 64-bit: hi + 1 may be 2^32) */
	qsort(bounds, nb, sizeof(*bounds), u64_cmp);
	uint32_t u = 0;
	for (uint32_t i = 0; i < nb; i++)
		if (u == 0 || bounds[u - 1] != bounds[i])
			bounds[u++] = bounds[i];
	/* the last bound may be 2^32: cut it (an interval to the top needs no end) */
	if (u > 0 && bounds[u - 1] > UINT32_MAX)
		u--;
	ix->n = u;
	ix->lo = calloc(u + 1, sizeof(*ix->lo));
	ix->off = calloc(u + 1, sizeof(*ix->off));
	active = calloc(n, sizeof(*active));
	if (ix->lo == NULL || ix->off == NULL || active == NULL)
		goto out;
	for (uint32_t k = 0; k < u; k++)
		ix->lo[k] = (uint32_t)bounds[k];
	ix->lo[u] = UINT32_MAX;
	/* A sweep: at each interval's start, the ranges that began by then and have not ended. */
	for (uint32_t k = 0, next = 0; k < u; k++) {
		uint32_t a = ix->lo[k], kept = 0;

		while (next < n && r[next].lo <= a)
			active[n_active++] = r[next++];
		for (uint32_t i = 0; i < n_active; i++)
			if (active[i].hi >= a)
				active[kept++] = active[i];
		n_active = kept;
		ix->off[k] = n_ids;
		for (uint32_t i = 0; i < n_active; i++) {
			if (n_ids == cap) {
				uint32_t c = cap ? 2 * cap : 1024;
				uint32_t *v = realloc(ix->ids, c * sizeof(*v));

				if (v == NULL)
					goto out;
				ix->ids = v;
				cap = c;
			}
			ix->ids[n_ids++] = active[i].grule;
		}
	}
	ix->off[u] = n_ids;
	rc = 0;
out:
	free(bounds);
	free(active);
	if (rc != 0) {
		free(ix->lo);
		free(ix->off);
		free(ix->ids);
		memset(ix, 0, sizeof(*ix));
	}
	return rc;
}

/* Put the group's IP-only rules in its address indexes, or in ip_only when none fits. */
static int
ipidx_group(struct det_engine *e, struct det_group *g, const uint32_t *ip_rules, uint32_t n)
{
	struct ipidx_range *side[2] = { NULL, NULL };
	uint32_t ns[2] = { 0, 0 }, cap[2] = { 0, 0 };
	int rc = -ENOMEM;

	g->ip_only = calloc(n ? n : 1, sizeof(*g->ip_only));
	if (g->ip_only == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		const struct det_rule *r = e->rules[g->grules[ip_rules[i]].rule].r;
		uint64_t na = 0, nd = 0;
		bool us = ipidx_usable(&r->src, &na), ud = ipidx_usable(&r->dst, &nd);
		const struct det_ipset *key;
		int k;

		if (!us && !ud) {
			g->ip_only[g->n_ip_only++] = ip_rules[i];
			continue;
		}
		k = us && (!ud || na <= nd) ? 0 : 1;
		key = k == 0 ? &r->src : &r->dst;
		/* "<>": the set may be on either side of the packet: both indexes */
		for (int s2 = 0; s2 < (r->bidir ? 2 : 1); s2++) {
			int sk = s2 == 0 ? k : 1 - k;

			for (uint32_t j = 0; j < key->addrs.v4.n; j++) {
				if (ns[sk] == cap[sk]) {
					uint32_t c = cap[sk] ? 2 * cap[sk] : 256;
					struct ipidx_range *v = realloc(side[sk], c * sizeof(*v));

					if (v == NULL)
						goto out;
					side[sk] = v;
					cap[sk] = c;
				}
				side[sk][ns[sk]++] = (struct ipidx_range){
					(uint32_t)key->addrs.v4.v[j].lo,
					(uint32_t)key->addrs.v4.v[j].hi, ip_rules[i]
				};
			}
		}
	}
	for (int k = 0; k < 2; k++)
		if (ipidx_build(&g->idx[k], side[k], ns[k]) != 0)
			goto out;
	rc = 0;
out:
	free(side[0]);
	free(side[1]);
	return rc;
}

/* Build the group's tables and its database. */
static int
group_build(struct det_engine *e, struct det_group *g, const struct gbuild *b,
		struct compile_err *cerr)
{
	uint32_t n_atoms = 0, n_exprs = 0;
	const char **exprs = NULL;
	unsigned *flags = NULL, *ids = NULL;
	const hs_expr_ext_t **exts = NULL;
	hs_compile_error_t *herr = NULL;
	int rc = -ENOMEM;

	uint32_t *ip_rules = calloc(b->n ? b->n : 1, sizeof(*ip_rules)), n_ip = 0;

	g->grules = calloc(b->n, sizeof(*g->grules));
	g->always = calloc(b->n, sizeof(*g->always));
	if (g->grules == NULL || g->always == NULL || ip_rules == NULL) {
		free(ip_rules);
		goto out;
	}
	g->n_grules = b->n;
	for (uint32_t i = 0; i < b->n; i++) {
		const struct det_erule *er = &e->rules[b->rules[i]];

		g->grules[i].rule = b->rules[i];
		g->grules[i].atom0 = n_atoms;
		g->grules[i].n_pos = (uint16_t)er->n_pos;
		g->grules[i].n_neg = (uint16_t)(er->n_atoms - er->n_pos);
		n_atoms += er->n_atoms;
		if (er->kind == PLAN_HEADER && er->ip_only)
			ip_rules[n_ip++] = i;
		else if (er->kind == PLAN_HEADER || er->kind == PLAN_ALWAYS)
			g->always[g->n_always++] = i;
	}
	rc = ipidx_group(e, g, ip_rules, n_ip);
	free(ip_rules);
	if (rc != 0)
		goto out;
	rc = -ENOMEM;
	g->n_gatoms = n_atoms;
	if (n_atoms == 0) {
		rc = 0;
		goto out;
	}
	g->gatoms = calloc(n_atoms, sizeof(*g->gatoms));
	n_exprs = n_atoms;
	exprs = calloc(n_exprs, sizeof(*exprs));
	flags = calloc(n_exprs, sizeof(*flags));
	ids = calloc(n_exprs, sizeof(*ids));
	exts = calloc(n_exprs, sizeof(*exts));
	if (g->gatoms == NULL || exprs == NULL || flags == NULL || ids == NULL || exts == NULL)
		goto out;
	for (uint32_t i = 0; i < g->n_grules; i++) {
		const struct det_erule *er = &e->rules[g->grules[i].rule];
		uint32_t a0 = g->grules[i].atom0;
		/*
		 * A stream rule of several parts: each part reports once and sets its bit in the
		 * stream's record; the rule is a candidate when all its bits are set. (Hyperscan's
		 * logical combinations would do this inside the stream state, but in streaming
		 * mode 5.4 holds their matches back until another part matches or the stream
		 * ends.)
		 */
		bool tracked = g->stream && er->kind == PLAN_EXACT && er->n_atoms > 1;

		for (unsigned k = 0; k < er->n_atoms; k++) {
			const struct det_atom *a = &er->atoms[k];
			uint32_t id = a0 + k;

			g->gatoms[id].grule = i;
			g->gatoms[id].neg = a->neg;
			g->gatoms[id].bit = tracked ? g->n_bits++ : DET_NO_BIT;
			exprs[id] = a->expr;
			ids[id] = id;
			flags[id] = a->flags;
			exts[id] = a->ext.flags ? &a->ext : NULL;
			if (!(g->stream && er->kind == PLAN_CONFIRM))
				/* block mode looks at each atom once; stream parts report once.
				 * A stream prefilter must report again: its confirmation may fail
				 * on one segment and succeed on a later one. */
				flags[id] |= HS_FLAG_SINGLEMATCH;
		}
	}
	g->n_patterns = n_exprs;
	if (hs_compile_ext_multi(exprs, flags, ids, exts, n_exprs,
			    g->stream ? HS_MODE_STREAM : HS_MODE_BLOCK, NULL, &g->db,
			    &herr) != HS_SUCCESS) {
		cerr->rule = -1;
		if (herr != NULL && herr->expression >= 0 && (uint32_t)herr->expression < n_exprs) {
			cerr->rule = (int)g->grules[g->gatoms[herr->expression].grule].rule;
		} else {
			/* no expression named: find a rule that fails on its own */
			cerr->rule = find_culprit(g, exprs, flags, ids, exts);
		}
		snprintf(cerr->msg, sizeof(cerr->msg), "%s",
				herr != NULL ? herr->message : "unknown error");
		hs_free_compile_error(herr);
		g->db = NULL;
		rc = -EINVAL;
		goto out;
	}
	if (hs_database_size(g->db, &g->db_bytes) != HS_SUCCESS)
		g->db_bytes = 0;
	if (g->stream && hs_stream_size(g->db, &g->stream_bytes) != HS_SUCCESS)
		g->stream_bytes = 0;
	rc = 0;
out:
	free(exprs);
	free(flags);
	free(ids);
	free(exts);
	return rc;
}

static int
group_new(struct det_engine *e, uint8_t cls, uint8_t dir, const char *what, const struct gbuild *b,
		struct compile_err *cerr, int32_t *index)
{
	struct det_group *v = realloc(e->groups, (e->n_groups + 1) * sizeof(*v));
	struct det_group *g;
	int rc;

	if (v == NULL)
		return -ENOMEM;
	e->groups = v;
	g = &e->groups[e->n_groups];
	memset(g, 0, sizeof(*g));
	g->cls = cls;
	g->dir = dir;
	g->stream = cls == CLS_TCP_STREAM;
	snprintf(g->name, sizeof(g->name), "%s %s %s", cls_names[cls],
			dir == 0 ? "to_server" : "to_client", what);
	e->n_groups++;
	rc = group_build(e, g, b, cerr);
	if (rc != 0)
		return rc;
	*index = (int32_t)(e->n_groups - 1);
	return 0;
}

struct pcount {
	uint16_t port;
	uint32_t n;
};

static int
pcount_cmp(const void *a, const void *b)
{
	const struct pcount *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return x->port < y->port ? -1 : x->port > y->port;
}

/* A port gets a group when its own rules are at least 1/PORT_GROUP_SHARE of the broad ones. */
#define PORT_GROUP_SHARE 8

/* A group from index first on holding exactly b's rules, or -1. */
static int32_t
same_group(const struct det_engine *e, uint32_t first, const struct gbuild *b)
{
	for (uint32_t i = first; i < e->n_groups; i++) {
		const struct det_group *g = &e->groups[i];
		uint32_t k;

		if (g->n_grules != b->n)
			continue;
		for (k = 0; k < b->n && g->grules[k].rule == b->rules[k]; k++)
			;
		if (k == b->n)
			return (int32_t)i;
	}
	return -1;
}

/* Groups of one class and direction. */
static int
build_cls_dir(struct det_engine *e, int cls, int dir, struct compile_err *cerr)
{
	struct gbuild all = { 0 }, def = { 0 };
	uint32_t first = e->n_groups, broad = 0;
	struct det_portset *keys = NULL;
	uint32_t *cnt = NULL;
	struct pcount *top = NULL;
	uint32_t ntop = 0;
	int rc = -ENOMEM;

	for (uint32_t i = 0; i < e->n_rules; i++) {
		const struct det_rule *r = e->rules[i].r;

		if ((r->classes & (1u << cls)) && rule_in_dir(r, dir) && gb_add(&all, i) != 0)
			goto out;
	}
	if (all.n == 0) {
		rc = 0;
		goto out;
	}
	if (!cls_ports[cls] || e->opts.max_port_groups == 0) {
		rc = group_new(e, (uint8_t)cls, (uint8_t)dir, "any", &all, cerr,
				&e->deflt[cls][dir]);
		goto out;
	}

	/*
	 * The server ports rules name most often get their own group, when that keeps enough
	 * rules out of the other ports' scans: a port group also holds every rule of broad port
	 * sets, so one whose own rules are few next to those costs a database and saves little
	 * (ET Open has hundreds of any-port rules: a group per port named by a few rules took
	 * most of the compile time).
	 */
	keys = calloc(all.n, sizeof(*keys));
	cnt = calloc(65536, sizeof(*cnt));
	if (keys == NULL || cnt == NULL)
		goto out;
	for (uint32_t i = 0; i < all.n; i++) {
		if (rule_keyset(e->rules[all.rules[i]].r, dir, &keys[i]) != 0)
			goto out;
		if (det_portset_count(&keys[i]) > 64) {
			broad++;
			continue;
		}
		for (uint32_t k = 0; k < keys[i].n; k++)
			for (uint32_t p = keys[i].v[k].lo; p <= keys[i].v[k].hi; p++)
				cnt[p]++;
	}
	top = calloc(65536, sizeof(*top));
	if (top == NULL)
		goto out;
	for (uint32_t p = 0; p < 65536; p++)
		if (cnt[p] > 0 && cnt[p] >= broad / PORT_GROUP_SHARE) {
			top[ntop].port = (uint16_t)p;
			top[ntop].n = cnt[p];
			ntop++;
		}
	qsort(top, ntop, sizeof(*top), pcount_cmp);
	if (ntop > e->opts.max_port_groups)
		ntop = e->opts.max_port_groups;

	/* the default group: rules that can match some port without a group of its own */
	for (uint32_t i = 0; i < all.n; i++) {
		uint32_t in = 0;

		for (uint32_t t = 0; t < ntop; t++)
			in += det_portset_has(&keys[i], top[t].port);
		if (det_portset_count(&keys[i]) > in && gb_add(&def, all.rules[i]) != 0)
			goto out;
	}
	if (def.n > 0) {
		rc = group_new(e, (uint8_t)cls, (uint8_t)dir, "other ports", &def, cerr,
				&e->deflt[cls][dir]);
		if (rc != 0)
			goto out;
		rc = -ENOMEM;
	}
	if (ntop > 0) {
		e->portmap[cls][dir] = calloc(65536, sizeof(uint16_t));
		if (e->portmap[cls][dir] == NULL)
			goto out;
		for (uint32_t p = 0; p < 65536; p++)
			e->portmap[cls][dir][p] = (uint16_t)(e->deflt[cls][dir] + 1);
	}
	for (uint32_t t = 0; t < ntop; t++) {
		struct gbuild pg = { 0 };
		char what[24];
		int32_t gi;

		for (uint32_t i = 0; i < all.n; i++)
			if (det_portset_has(&keys[i], top[t].port) &&
					gb_add(&pg, all.rules[i]) != 0) {
				free(pg.rules);
				goto out;
			}
		/* ports whose rules are those of a group built already share its database */
		gi = same_group(e, first, &pg);
		if (gi >= 0) {
			e->groups[gi].shared_ports++;
			rc = 0;
		} else {
			snprintf(what, sizeof(what), "port %u", top[t].port);
			rc = group_new(e, (uint8_t)cls, (uint8_t)dir, what, &pg, cerr, &gi);
		}
		free(pg.rules);
		if (rc != 0)
			goto out;
		rc = -ENOMEM;
		e->portmap[cls][dir][top[t].port] = (uint16_t)(gi + 1);
	}
	rc = 0;
out:
	if (keys != NULL)
		for (uint32_t i = 0; i < all.n; i++)
			det_portset_free(&keys[i]);
	free(keys);
	free(cnt);
	free(top);
	free(all.rules);
	free(def.rules);
	return rc;
}

static int
build_groups(struct det_engine *e, struct compile_err *cerr)
{
	for (int c = 0; c < CLS__COUNT; c++)
		for (int d = 0; d < 2; d++) {
			int rc = build_cls_dir(e, c, d, cerr);

			if (rc != 0)
				return rc;
		}
	return 0;
}

/* ---- transaction rules ---- */

static const char *const stage_names[AL_PROTO__COUNT][8] = {
	[AL_PROTO_HTTP] = { "req_headers", "req_body", "resp_headers", "resp_body" },
	[AL_PROTO_DNS] = { "request", "response" },
	[AL_PROTO_TLS] = { "client_hello", "server_hello", "server_cert" },
	[AL_PROTO_SSH] = { "client_banner", "server_banner", "client_kexinit", "server_kexinit" },
	[AL_PROTO_SMTP] = { "envelope", "data" },
	[AL_PROTO_FTP] = { "command", "reply" },
};

/* "req_headers+resp_headers" */
static void
stages_str(char *out, size_t size, uint8_t proto, uint8_t stages)
{
	struct sbuf b = { 0 };

	for (unsigned i = 0; i < 8; i++) {
		const char *n = proto < AL_PROTO__COUNT ? stage_names[proto][i] : NULL;

		if (stages & (1u << i))
			sb_add(&b, "%s%s", b.len > 0 ? "+" : "", n != NULL ? n : "?");
	}
	snprintf(out, size, "%s", b.s != NULL ? b.s : "");
	free(b.s);
}

/* The index of the transformed buffer (al, sp's transforms), -1 for none, -2 on ENOMEM. */
static int32_t
xkey_get(struct det_engine *e, uint8_t al, const struct det_span *sp)
{
	struct det_xkey *v;

	if (sp->n_xf == 0)
		return -1;
	for (uint32_t i = 0; i < e->n_xkeys; i++)
		if (e->xkeys[i].al == al && e->xkeys[i].n_xf == sp->n_xf &&
				memcmp(e->xkeys[i].xf, sp->xf, sp->n_xf) == 0)
			return (int32_t)i;
	v = realloc(e->xkeys, (e->n_xkeys + 1) * sizeof(*v));
	if (v == NULL)
		return -2;
	e->xkeys = v;
	memset(&v[e->n_xkeys], 0, sizeof(v[0]));
	v[e->n_xkeys].al = al;
	v[e->n_xkeys].n_xf = sp->n_xf;
	memcpy(v[e->n_xkeys].xf, sp->xf, sp->n_xf);
	return (int32_t)e->n_xkeys++;
}

/*
 * The prefilter of a variant: the fast_pattern content of one of its buffers, else the longest
 * positive content, else a pcre Hyperscan takes (as it is, or in prefilter mode). Returns 0
 * (pf_span stays -1 when there is none) or -ENOMEM.
 */
/*
 * How good a prefilter a content of buffer al is (higher is better): its length, but a
 * content of a buffer with few values (a method, a status code, a protocol version) hits most
 * transactions, so it serves only when nothing else does; and the packet's payload (al NONE:
 * rules mixing payload keywords with buffers) only when no buffer has a content.
 */
static int
pf_score(uint8_t al, const struct det_content *c)
{
	switch (al) {
	case AL_BUF_NONE:
		return (int)c->len - 200000;
	case AL_BUF_HTTP_METHOD:
	case AL_BUF_HTTP_STAT_CODE:
	case AL_BUF_HTTP_STAT_MSG:
	case AL_BUF_HTTP_PROTOCOL_REQ:
	case AL_BUF_HTTP_PROTOCOL_RESP:
	case AL_BUF_HTTP_CONTENT_LEN_REQ:
	case AL_BUF_HTTP_CONTENT_LEN_RESP:
	case AL_BUF_HTTP_CONNECTION:
	case AL_BUF_SSH_PROTO_CLIENT:
	case AL_BUF_SSH_PROTO_SERVER:
		return (int)c->len - 100000;
	default:
		return (int)c->len;
	}
}

static int
tx_prefilter(struct det_txvar *v, struct det_erule *er, const struct det_compile_opts *o)
{
	const struct det_item *best = NULL;
	int32_t best_span = -1;
	int best_score = 0;

	/* the fast_pattern the rule names in a buffer, else the best content by pf_score */
	for (uint32_t s = 0;
			s < v->n_spans && (best == NULL || !(best->c.flags & DET_C_FAST_PATTERN));
			s++) {
		const struct det_txspan *ts = &v->spans[s];

		for (uint32_t i = 0; i < ts->n; i++) {
			const struct det_item *it = &ts->items[i];
			int score;

			if (it->type != DET_ITEM_CONTENT || (it->c.flags & DET_C_NEGATED))
				continue;
			score = pf_score(ts->al, &it->c);
			if ((it->c.flags & DET_C_FAST_PATTERN) && ts->al != AL_BUF_NONE) {
				best = it;
				best_span = (int32_t)s;
				break;
			}
			if (best == NULL || score > best_score) {
				best = it;
				best_span = (int32_t)s;
				best_score = score;
			}
		}
	}
	if (best != NULL) {
		v->pf.expr = content_atom(&best->c, !best->relative, &v->pf.ext);
		v->pf.flags = HS_FLAG_DOTALL;
		if (v->pf.expr == NULL)
			return -ENOMEM;
		v->pf_span = best_span;
		return 0;
	}
	for (uint32_t s = 0; s < v->n_spans; s++) {
		const struct det_txspan *ts = &v->spans[s];

		if (ts->al == AL_BUF_NONE)
			continue;
		for (uint32_t i = 0; i < ts->n; i++) {
			const struct det_item *it = &ts->items[i];
			unsigned flags;
			char *expr;

			if (it->type != DET_ITEM_PCRE || (it->p.flags & DET_P_NEGATED) ||
					it->relative || !pcre_scannable(er->r, &it->p, o))
				continue;
			expr = pcre_atom(&it->p, &flags);
			if (expr == NULL)
				continue;
			if (!hs_accepts(expr, flags, NULL)) {
				if (!hs_accepts(expr, flags | HS_FLAG_PREFILTER, NULL)) {
					free(expr);
					continue;
				}
				flags |= HS_FLAG_PREFILTER;
			}
			/* the whole rule is confirmed by PCRE2 after the hit */
			er->pcre_pref = 1;
			v->pf.expr = expr;
			v->pf.flags = flags;
			v->pf_span = (int32_t)s;
			return 0;
		}
	}
	return 0;
}

/* One variant per rule and direction it inspects, with its buffers resolved. */
static int
tx_variants(struct det_engine *e)
{
	uint32_t n = 0, per_proto[AL_PROTO__COUNT] = { 0 };

	for (uint32_t i = 0; i < e->n_rules; i++)
		if (e->rules[i].r->tx)
			n += (uint32_t)__builtin_popcount(e->rules[i].r->tx_dirs);
	if (n == 0)
		return 0;
	e->txvars = calloc(n, sizeof(*e->txvars));
	if (e->txvars == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < e->n_rules; i++) {
		const struct det_rule *r = e->rules[i].r;

		if (!r->tx)
			continue;
		for (uint8_t d = 0; d < 2; d++) {
			struct det_txvar *v;
			uint32_t k = 0;

			if (!(r->tx_dirs & (1u << d)))
				continue;
			v = &e->txvars[e->n_txvars++];
			v->rule = i;
			v->dir = d;
			v->stages = r->tx_stages[d];
			v->proto = r->app_proto;
			v->pf_span = -1;
			per_proto[v->proto]++;
			v->spans = calloc(r->n_spans ? r->n_spans : 1, sizeof(*v->spans));
			if (v->spans == NULL)
				return -ENOMEM;
			/* the application-layer buffers, then the payload: the packet last */
			for (int pass = 0; pass < 2; pass++)
				for (uint32_t s = 0; s < r->n_spans; s++) {
					const struct det_span *sp = &r->spans[s];
					struct det_txspan *ts;
					const struct al_buf_info *bi;

					if ((sp->buf == DET_BUF_PKT) != (pass == 1))
						continue;
					ts = &v->spans[k++];
					ts->items = &r->items[sp->first];
					ts->n = sp->n;
					ts->al = pass == 0 ? sp->al[d] : AL_BUF_NONE;
					ts->xkey = -1;
					bi = al_buf_info((enum al_buf)ts->al);
					ts->multi = bi != NULL && (bi->flags & AL_BUF_MULTI);
					if (pass == 0) {
						ts->xkey = xkey_get(e, ts->al, sp);
						if (ts->xkey == -2)
							return -ENOMEM;
					}
				}
			v->n_spans = (uint8_t)k;
			if (tx_prefilter(v, &e->rules[i], &e->opts) != 0)
				return -ENOMEM;
		}
	}
	for (unsigned p = 0; p < AL_PROTO__COUNT; p++)
		if (per_proto[p] > e->max_txvars)
			e->max_txvars = per_proto[p];
	return 0;
}

struct tkey {
	uint64_t k;
	uint32_t v;
};

static int
tkey_cmp(const void *a, const void *b)
{
	const struct tkey *x = a, *y = b;

	if (x->k != y->k)
		return x->k < y->k ? -1 : 1;
	return x->v < y->v ? -1 : x->v > y->v;
}

/*
 * The stage a variant is decided at: the last it needs, the highest bit (each protocol numbers
 * its stages in the order they come in a direction: request headers before its body, ...).
 */
static uint8_t
last_stage(uint8_t stages)
{
	return stages == 0 ? 0 : (uint8_t)(0x80u >> __builtin_clz((unsigned)stages << 24));
}

/* Variant v's prefilter buffer as a sort key: (al, xkey), or all ones without prefilter. */
static uint32_t
pf_key(const struct det_txvar *v)
{
	if (v->pf_span < 0)
		return UINT32_MAX;
	return (uint32_t)v->spans[v->pf_span].al << 16 |
	       (uint32_t)(uint16_t)(v->spans[v->pf_span].xkey + 1);
}

static void
pf_drop(struct det_txvar *v)
{
	free(v->pf.expr);
	memset(&v->pf, 0, sizeof(v->pf));
	v->pf_span = -1;
}

/*
 * Compile the prefilter database of vars[0, *n) (variants of one set sharing a buffer). A
 * variant whose expression Hyperscan refuses loses its prefilter: it is moved to the set's
 * unfiltered list. Returns 0, -EINVAL when the database cannot be built at all, -ENOMEM.
 */
static int
txdb_compile(struct det_engine *e, struct det_txset *set, struct det_txdb *db, uint32_t *vars,
		uint32_t *n, struct vg_diag *diag)
{
	const char **exprs = calloc(*n ? *n : 1, sizeof(*exprs));
	unsigned *flags = calloc(*n ? *n : 1, sizeof(*flags));
	unsigned *ids = calloc(*n ? *n : 1, sizeof(*ids));
	const hs_expr_ext_t **exts = calloc(*n ? *n : 1, sizeof(*exts));
	int rc = -ENOMEM;

	if (exprs == NULL || flags == NULL || ids == NULL || exts == NULL)
		goto out;
	while (*n > 0) {
		hs_compile_error_t *herr = NULL;
		int32_t bad = -1;

		for (uint32_t i = 0; i < *n; i++) {
			const struct det_txvar *v = &e->txvars[vars[i]];

			exprs[i] = v->pf.expr;
			flags[i] = v->pf.flags | HS_FLAG_SINGLEMATCH;
			ids[i] = i;
			exts[i] = v->pf.ext.flags ? &v->pf.ext : NULL;
		}
		if (hs_compile_ext_multi(exprs, flags, ids, exts, *n, HS_MODE_BLOCK, NULL, &db->db,
				    &herr) == HS_SUCCESS)
			break;
		if (herr != NULL && herr->expression >= 0 && (uint32_t)herr->expression < *n) {
			bad = herr->expression;
		} else {
			for (uint32_t i = 0; i < *n && bad < 0; i++) {
				hs_database_t *one = NULL;
				hs_compile_error_t *e1 = NULL;

				if (hs_compile_ext_multi(exprs + i, flags + i, ids, exts + i, 1,
						    HS_MODE_BLOCK, NULL, &one, &e1) != HS_SUCCESS) {
					hs_free_compile_error(e1);
					bad = (int32_t)i;
				}
				hs_free_database(one);
			}
		}
		if (bad < 0) {
			vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0,
					"Hyperscan cannot compile the prefilters of %s: %s",
					db->name, herr != NULL ? herr->message : "unknown error");
			hs_free_compile_error(herr);
			rc = -EINVAL;
			goto out;
		}
		hs_free_compile_error(herr);
		pf_drop(&e->txvars[vars[bad]]);
		set->always[set->n_always++] = vars[bad];
		vars[bad] = vars[--*n];
	}
	db->n_patterns = *n;
	if (*n > 0) {
		db->var = malloc(*n * sizeof(*db->var));
		if (db->var == NULL)
			goto out;
		memcpy(db->var, vars, *n * sizeof(*db->var));
		if (hs_database_size(db->db, &db->db_bytes) != HS_SUCCESS)
			db->db_bytes = 0;
	}
	rc = 0;
out:
	free(exprs);
	free(flags);
	free(ids);
	free(exts);
	return rc;
}

static void
tx_free(struct det_engine *e)
{
	for (uint32_t i = 0; i < e->n_txsets; i++) {
		struct det_txset *s = &e->txsets[i];

		for (uint32_t k = 0; k < s->n_dbs; k++) {
			hs_free_database(s->dbs[k].db);
			free(s->dbs[k].var);
		}
		free(s->dbs);
		free(s->always);
	}
	free(e->txsets);
	e->txsets = NULL;
	e->n_txsets = 0;
	for (uint32_t i = 0; i < e->n_txvars; i++) {
		free(e->txvars[i].spans);
		free(e->txvars[i].pf.expr);
	}
	free(e->txvars);
	e->txvars = NULL;
	e->n_txvars = 0;
	free(e->xkeys);
	e->xkeys = NULL;
	e->n_xkeys = 0;
}

/* Group the variants by protocol and stages, and build each group's buffer databases. */
static int
tx_build(struct det_engine *e, struct vg_diag *diag)
{
	struct tkey *keys;
	uint32_t *vars = NULL;
	int rc = tx_variants(e);

	if (rc != 0 || e->n_txvars == 0)
		return rc;
	keys = calloc(e->n_txvars, sizeof(*keys));
	vars = calloc(e->n_txvars, sizeof(*vars));
	if (keys == NULL || vars == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < e->n_txvars; i++) {
		const struct det_txvar *v = &e->txvars[i];

		/* evaluated when its last stage (in the order the protocol's stages come) is ready
		 */
		keys[i].k = (uint64_t)v->proto << 56 | (uint64_t)last_stage(v->stages) << 48 |
			    pf_key(v);
		keys[i].v = i;
	}
	qsort(keys, e->n_txvars, sizeof(*keys), tkey_cmp);
	e->txsets = calloc(e->n_txvars, sizeof(*e->txsets));
	if (e->txsets == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < e->n_txvars;) {
		uint64_t group = keys[i].k >> 48;
		uint32_t j = i;
		struct det_txset *s = &e->txsets[e->n_txsets];
		const struct det_txvar *v0 = &e->txvars[keys[i].v];
		char stages[64];

		while (j < e->n_txvars && keys[j].k >> 48 == group)
			j++;
		s->proto = v0->proto;
		s->stage = last_stage(v0->stages);
		for (uint32_t k = i; k < j; k++)
			s->stages |= e->txvars[keys[k].v].stages;
		s->n_vars = j - i;
		if (e->tx_count[s->proto]++ == 0)
			e->tx_first[s->proto] = (uint16_t)e->n_txsets;
		e->n_txsets++;
		s->always = calloc(j - i, sizeof(*s->always));
		s->dbs = calloc(j - i, sizeof(*s->dbs));
		if (s->always == NULL || s->dbs == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		stages_str(stages, sizeof(stages), s->proto, s->stage);
		for (uint32_t k = i; k < j;) {
			uint32_t pk = (uint32_t)keys[k].k, l = k, n = 0;
			const struct det_txvar *v = &e->txvars[keys[k].v];
			struct det_txdb *db;
			struct sbuf name = { 0 };

			while (l < j && (uint32_t)keys[l].k == pk)
				l++;
			if (pk == UINT32_MAX) {
				for (; k < l; k++)
					s->always[s->n_always++] = keys[k].v;
				continue;
			}
			for (uint32_t m = k; m < l; m++)
				vars[n++] = keys[m].v;
			db = &s->dbs[s->n_dbs++];
			db->al = v->spans[v->pf_span].al;
			db->xkey = v->spans[v->pf_span].xkey;
			db->multi = v->spans[v->pf_span].multi;
			sb_add(&name, "%s %s", al_proto_name((enum al_proto)s->proto),
					db->al == AL_BUF_NONE
							? "payload"
							: al_buf_info((enum al_buf)db->al)->name);
			for (uint32_t x = 0; db->xkey >= 0 && x < e->xkeys[db->xkey].n_xf; x++)
				sb_add(&name, "+%s", det_xf_name(e->xkeys[db->xkey].xf[x]));
			sb_add(&name, " %s [at %s]", v->dir == AL_TO_SERVER ? "ts" : "tc", stages);
			snprintf(db->name, sizeof(db->name), "%s", name.s != NULL ? name.s : "?");
			free(name.s);
			rc = txdb_compile(e, s, db, vars, &n, diag);
			if (rc != 0)
				goto out;
			if (db->db == NULL) {
				/* every expression was refused: the variants are unfiltered now */
				s->n_dbs--;
				k = l;
				continue;
			}
			if (db->db != NULL && hs_alloc_scratch(db->db, &e->scratch) != HS_SUCCESS) {
				vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0,
						"Hyperscan cannot allocate scratch for %s",
						db->name);
				rc = -ENOMEM;
				goto out;
			}
			k = l;
		}
		i = j;
	}
	rc = 0;
out:
	free(keys);
	free(vars);
	return rc;
}

/* ---- engine ---- */

int
det_engine_counters_alloc(struct det_engine *e, unsigned n_workers)
{
	free(e->limit_hits);
	e->limit_rows = 0;
	e->limit_hits = calloc((size_t)n_workers * (e->n_rules ? e->n_rules : 1), sizeof(uint64_t));
	if (e->limit_hits == NULL)
		return -ENOMEM;
	e->limit_rows = n_workers;
	return 0;
}

uint64_t
det_engine_rule_limit_hits(const struct det_engine *e, uint32_t rule)
{
	uint64_t n = 0;

	if (e->limit_hits == NULL || rule >= e->n_rules)
		return 0;
	for (unsigned w = 0; w < e->limit_rows; w++)
		n += __atomic_load_n(
				&e->limit_hits[(size_t)w * e->n_rules + rule], __ATOMIC_RELAXED);
	return n;
}

void
det_engine_free(struct det_engine *e)
{
	if (e == NULL)
		return;
	groups_free(e);
	tx_free(e);
	for (uint32_t i = 0; i < e->n_rules; i++) {
		atoms_free(&e->rules[i]);
		free(e->rules[i].fb);
		free(e->rules[i].fi);
		free(e->rules[i].sup);
	}
	det_thconf_free(e->thconf);
	free(e->limit_hits);
	free(e->rules);
	free(e->ev_rules);
	for (uint32_t i = 0; i < e->n_fb_names; i++)
		free(e->fb_names[i]);
	free(e->fb_names);
	for (uint32_t i = 0; i < e->n_fi_names; i++)
		free(e->fi_names[i]);
	free(e->fi_names);
	hs_free_scratch(e->scratch);
	det_set_free(e->set);
	free(e);
}

uint64_t
det_engine_generation(const struct det_engine *e)
{
	return e->gen;
}

unsigned
det_engine_rule_count(const struct det_engine *e)
{
	return e != NULL ? e->n_rules : 0;
}

const struct det_rule_info *
det_engine_rule_info(const struct det_engine *e, uint32_t rule)
{
	return e != NULL && rule < e->n_rules ? &e->rules[rule].r->info : NULL;
}

const struct det_rule *
det_engine_rule(const struct det_engine *e, uint32_t rule)
{
	return e != NULL && rule < e->n_rules ? e->rules[rule].r : NULL;
}

int
det_engine_set_rule_groups(struct det_engine *e, uint32_t rule, uint64_t groups)
{
	if (e == NULL || rule >= e->n_rules)
		return -EINVAL;
	e->rules[rule].groups = groups;
	return 0;
}

size_t
det_stream_state_size(const struct det_engine *e)
{
	return e->stream_size;
}

size_t
det_flowbits_size(const struct det_engine *e)
{
	return e->fb_bytes;
}

/* Give every flowint name an index; resolve each rule's flowint keywords. */
static int
resolve_flowints(struct det_engine *e)
{
	uint32_t cap = 0;

	for (uint32_t i = 0; i < e->n_rules; i++) {
		struct det_erule *er = &e->rules[i];
		const struct det_rule *r = er->r;

		if (r->n_fi == 0)
			continue;
		if (r->n_fi > UINT8_MAX)
			return -E2BIG;
		er->fi = calloc(r->n_fi, sizeof(*er->fi));
		if (er->fi == NULL)
			return -ENOMEM;
		er->n_fi = (uint8_t)r->n_fi;
		for (unsigned k = 0; k < r->n_fi; k++) {
			const struct det_flowint *fi = &r->fi[k];
			uint32_t b;

			er->fi[k].op = fi->op;
			er->fi[k].value = fi->value;
			if (fi->op >= DET_FI_EQ)
				er->fb_test = true;
			for (b = 0; b < e->n_fi_names; b++)
				if (strcmp(e->fi_names[b], fi->name) == 0)
					break;
			if (b == e->n_fi_names) {
				if (b == 4096)
					return -E2BIG;
				if (b == cap) {
					char **v;

					cap = cap ? cap * 2 : 16;
					v = realloc(e->fi_names, cap * sizeof(*v));
					if (v == NULL)
						return -ENOMEM;
					e->fi_names = v;
				}
				e->fi_names[b] = strdup(fi->name);
				if (e->fi_names[b] == NULL)
					return -ENOMEM;
				e->n_fi_names++;
			}
			er->fi[k].var = (uint16_t)b;
		}
	}
	return 0;
}

/* Give every flowbit name a bit; resolve each rule's flowbits keywords. */
static int
resolve_flowbits(struct det_engine *e)
{
	uint32_t cap = 0;

	for (uint32_t i = 0; i < e->n_rules; i++) {
		struct det_erule *er = &e->rules[i];
		const struct det_rule *r = er->r;

		if (r->n_fb == 0)
			continue;
		er->fb = calloc(r->n_fb, sizeof(*er->fb));
		if (er->fb == NULL)
			return -ENOMEM;
		er->n_fb = (uint8_t)r->n_fb;
		for (unsigned k = 0; k < r->n_fb; k++) {
			const struct det_flowbit *fb = &r->fb[k];

			er->fb[k].cmd = fb->cmd;
			er->fb[k].n = fb->n;
			if (fb->cmd == DET_FB_ISSET || fb->cmd == DET_FB_ISNOTSET)
				er->fb_test = true;
			for (unsigned j = 0; j < fb->n; j++) {
				uint32_t b;

				for (b = 0; b < e->n_fb_names; b++)
					if (strcmp(e->fb_names[b], fb->names[j]) == 0)
						break;
				if (b == e->n_fb_names) {
					if (b == 65535)
						return -E2BIG;
					if (b == cap) {
						char **v;

						cap = cap ? cap * 2 : 16;
						v = realloc(e->fb_names, cap * sizeof(*v));
						if (v == NULL)
							return -ENOMEM;
						e->fb_names = v;
					}
					e->fb_names[b] = strdup(fb->names[j]);
					if (e->fb_names[b] == NULL)
						return -ENOMEM;
					e->n_fb_names++;
				}
				er->fb[k].bit[j] = (uint16_t)b;
			}
		}
	}
	int rc = resolve_flowints(e);

	if (rc != 0)
		return rc;
	if (e->n_fb_names > 0 || e->n_fi_names > 0) {
		/* generation, flowbits, flowints' set bits, flowints' values (8-byte steps) */
		size_t bits = ((e->n_fb_names + 7) / 8 + 7) & ~(size_t)7;
		size_t set = ((e->n_fi_names + 7) / 8 + 7) & ~(size_t)7;
		size_t vals = ((size_t)e->n_fi_names * 4 + 7) & ~(size_t)7;

		if (bits + set > UINT16_MAX)
			return -E2BIG;
		e->fb_bytes = 8 + bits + set + vals;
		for (uint32_t i = 0; i < e->n_rules; i++) {
			e->rules[i].fi_set_off = (uint16_t)bits;
			e->rules[i].fi_val_off = (uint16_t)(bits + set);
		}
	}
	return 0;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void
det_compile_report_free(struct det_compile_report *r)
{
	if (r == NULL)
		return;
	free(r->group);
	memset(r, 0, sizeof(*r));
}

static void
fill_report(const struct det_engine *e, struct det_compile_report *rep, const uint8_t *level)
{
	unsigned pcre_total = 0, n_tx_reports = 0;

	rep->rules = e->n_rules;
	for (uint32_t i = 0; i < e->n_rules; i++) {
		const struct det_erule *er = &e->rules[i];

		switch (er->kind) {
		case PLAN_HEADER:
			rep->header++;
			break;
		case PLAN_EXACT:
			rep->exact++;
			break;
		case PLAN_CONFIRM:
			rep->confirm++;
			break;
		case PLAN_TX:
			rep->tx++;
			rep->tx_payload += det_rule_payload_span(er->r) >= 0;
			break;
		default:
			rep->unfiltered++;
			break;
		}
		if (level[i] > 0)
			rep->demoted++;
		for (unsigned k = 0; k < er->r->n_items; k++) {
			const struct det_item *it = &er->r->items[k];

			if (it->type != DET_ITEM_PCRE)
				continue;
			pcre_total++;
			rep->pcre_literalless += !pcre_scannable(er->r, &it->p, &e->opts);
		}
		rep->pcre_hs += er->pcre_hs;
		rep->pcre_prefilter += er->pcre_pref;
	}
	rep->pcre_only = pcre_total - rep->pcre_hs - rep->pcre_prefilter;
	rep->tx_variants = e->n_txvars;
	for (uint32_t i = 0; i < e->n_txvars; i++) {
		if (e->txvars[i].pf_span >= 0)
			rep->tx_prefiltered++;
		else
			rep->tx_unfiltered++;
	}
	rep->tx_groups = e->n_txsets;
	for (uint32_t i = 0; i < e->n_txsets; i++)
		n_tx_reports += e->txsets[i].n_dbs + (e->txsets[i].n_always > 0);
	rep->group = calloc(e->n_groups + n_tx_reports ? e->n_groups + n_tx_reports : 1,
			sizeof(*rep->group));
	for (uint32_t i = 0; i < e->n_groups; i++) {
		const struct det_group *g = &e->groups[i];

		rep->groups++;
		if (g->db != NULL)
			rep->databases++;
		rep->patterns += g->n_patterns;
		rep->db_bytes += g->db_bytes;
		if (rep->group != NULL) {
			struct det_group_report *gr = &rep->group[rep->n_group++];

			if (g->shared_ports > 0)
				snprintf(gr->name, sizeof(gr->name), "%.40s (+%u ports)", g->name,
						g->shared_ports);
			else
				snprintf(gr->name, sizeof(gr->name), "%s", g->name);
			gr->stream = g->stream;
			gr->rules = g->n_grules;
			gr->patterns = g->n_patterns;
			gr->db_bytes = g->db_bytes;
			gr->stream_bytes = g->stream_bytes;
		}
	}
	for (uint32_t i = 0; i < e->n_txsets; i++) {
		const struct det_txset *s = &e->txsets[i];

		for (uint32_t k = 0; k < s->n_dbs; k++) {
			const struct det_txdb *db = &s->dbs[k];

			rep->databases++;
			rep->tx_databases++;
			rep->patterns += db->n_patterns;
			rep->db_bytes += db->db_bytes;
			if (rep->group != NULL) {
				struct det_group_report *gr = &rep->group[rep->n_group++];

				snprintf(gr->name, sizeof(gr->name), "%s", db->name);
				gr->rules = db->n_patterns;
				gr->patterns = db->n_patterns;
				gr->db_bytes = db->db_bytes;
			}
		}
		if (s->n_always > 0 && rep->group != NULL) {
			struct det_group_report *gr = &rep->group[rep->n_group++];
			char stages[48];

			stages_str(stages, sizeof(stages), s->proto, s->stage);
			snprintf(gr->name, sizeof(gr->name), "%.8s unfiltered [at %.32s]",
					al_proto_name((enum al_proto)s->proto), stages);
			gr->rules = s->n_always;
		}
	}
	if (e->scratch != NULL)
		hs_scratch_size(e->scratch, &rep->scratch_bytes);
	rep->stream_state_bytes = e->stream_size;
}

struct det_engine *
det_compile(struct det_set *set, const struct det_compile_opts *opts,
		struct det_compile_report *report, struct vg_diag *diag)
{
	struct det_compile_report local;
	struct det_engine *e;
	struct compile_err cerr;
	uint8_t *level = NULL;
	double t0 = now_ms();
	int rc = -ENOMEM;

	if (report == NULL)
		report = &local;
	memset(report, 0, sizeof(*report));
	if (set == NULL) {
		errno = EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	e->set = det_set_ref(set);
	if (opts != NULL)
		e->opts = *opts;
	else
		det_compile_opts_default(&e->opts);
	for (int c = 0; c < CLS__COUNT; c++)
		e->deflt[c][0] = e->deflt[c][1] = -1;
	e->n_rules = det_set_count(set);
	e->rules = calloc(e->n_rules ? e->n_rules : 1, sizeof(*e->rules));
	level = calloc(e->n_rules ? e->n_rules : 1, 1);
	if (e->rules == NULL || level == NULL)
		goto fail;
	for (uint32_t i = 0; i < e->n_rules; i++) {
		e->rules[i].groups = UINT64_MAX;
		if (plan_rule(&e->rules[i], det_set_rule(set, i), 0, &e->opts) != 0)
			goto fail;
		warn_unbounded(det_set_rule(set, i), &e->opts, diag);
	}
	rc = resolve_flowbits(e);
	if (rc != 0) {
		if (rc == -E2BIG)
			vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0,
					"more than 65535 flowbit names in the signatures");
		rc = rc == -E2BIG ? -EINVAL : rc;
		goto fail;
	}
	rc = -ENOMEM;

	/*
	 * Hyperscan may still refuse an atom the per-expression check accepted (resource limits
	 * show up only in a whole database): demote that rule and rebuild every group, so that a
	 * rule has one plan in all of them.
	 */
	for (uint32_t attempt = 0;; attempt++) {
		memset(&cerr, 0, sizeof(cerr));
		rc = build_groups(e, &cerr);
		if (rc != -EINVAL)
			break;
		groups_free(e);
		if (cerr.rule < 0 || level[cerr.rule] >= 2 || attempt > e->n_rules) {
			vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0,
					"Hyperscan cannot compile the signatures: %s", cerr.msg);
			goto fail;
		}
		level[cerr.rule]++;
		if (plan_rule(&e->rules[cerr.rule], e->rules[cerr.rule].r, level[cerr.rule],
				    &e->opts) != 0) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	if (rc != 0)
		goto fail;
	rc = tx_build(e, diag);
	if (rc != 0)
		goto fail;
	rc = -ENOMEM;
	e->ev_rules = calloc(e->n_rules ? e->n_rules : 1, sizeof(*e->ev_rules));
	if (e->ev_rules == NULL)
		goto fail;
	for (uint32_t i = 0; i < e->n_rules; i++)
		if (!e->rules[i].r->tx && (e->rules[i].r->events | e->rules[i].r->events_absent))
			e->ev_rules[e->n_ev_rules++] = i;
	rc = 0;

	for (uint32_t i = 0; i < e->n_groups; i++) {
		struct det_group *g = &e->groups[i];

		if (g->n_grules > e->max_grules)
			e->max_grules = g->n_grules;
		if (g->n_gatoms > e->max_gatoms)
			e->max_gatoms = g->n_gatoms;
		if (g->db == NULL)
			continue;
		if (hs_alloc_scratch(g->db, &e->scratch) != HS_SUCCESS) {
			vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0,
					"Hyperscan cannot allocate scratch for group %s", g->name);
			rc = -ENOMEM;
			goto fail;
		}
		if (g->stream && g->stream_bytes > e->hs_stream_max)
			e->hs_stream_max = g->stream_bytes;
		if (g->stream && (g->n_bits + 7) / 8 > e->bits_bytes)
			e->bits_bytes = (g->n_bits + 7) / 8;
		if (g->stream)
			for (uint32_t k = 0; k < g->n_grules; k++) {
				uint8_t kind = e->rules[g->grules[k].rule].kind;

				if (kind == PLAN_CONFIRM || kind == PLAN_ALWAYS)
					e->need_window = true;
			}
	}
	for (uint32_t i = 0; i < e->n_groups; i++)
		if (e->groups[i].stream && e->groups[i].n_always > 0)
			e->need_window = true;
	e->bits_bytes = (e->bits_bytes + 7) & ~(size_t)7;
	e->stream_size = DET_STREAM_HDR + ((e->hs_stream_max + 63) & ~(size_t)63) + e->bits_bytes +
			 (e->need_window ? e->opts.stream_window : 0);
	e->gen = atomic_fetch_add(&next_gen, 1);
	fill_report(e, report, level);
	report->compile_ms = now_ms() - t0;
	if (report == &local)
		det_compile_report_free(&local);
	free(level);
	return e;
fail:
	free(level);
	det_engine_free(e);
	errno = rc == -EINVAL ? EINVAL : ENOMEM;
	return NULL;
}

void
det_compile_report_print(const struct det_compile_report *r, FILE *out)
{
	fprintf(out,
			"signatures compiled: %u rules (%u exact, %u confirmed after a prefilter, "
			"%u unfiltered, %u header-only; %u demoted; %u on transactions) in %.1f ms\n",
			r->rules, r->exact, r->confirm, r->unfiltered, r->header, r->demoted, r->tx,
			r->compile_ms);
	if (r->tx > 0)
		fprintf(out,
				"  transactions: %u rule directions, %u prefiltered, %u unfiltered; "
				"%u groups (protocol, deciding stage), %u buffer databases; %u rules also "
				"test the payload of the packet completing the transaction\n",
				r->tx_variants, r->tx_prefiltered, r->tx_unfiltered, r->tx_groups,
				r->tx_databases, r->tx_payload);
	fprintf(out,
			"  pcre: %u in Hyperscan, %u Hyperscan prefilter + PCRE2, %u PCRE2 only (%u "
			"without a literal, run after the rule's other checks)\n",
			r->pcre_hs, r->pcre_prefilter, r->pcre_only, r->pcre_literalless);
	fprintf(out,
			"  %u groups, %u databases, %u patterns, %zu bytes of databases, %zu bytes "
			"scratch per worker, %zu bytes stream state per TCP direction\n",
			r->groups + r->tx_groups, r->databases, r->patterns, r->db_bytes,
			r->scratch_bytes, r->stream_state_bytes);
	for (unsigned i = 0; i < r->n_group; i++)
		fprintf(out, "  group %-52s %6u rules %6u patterns %9zu bytes%s\n",
				r->group[i].name, r->group[i].rules, r->group[i].patterns,
				r->group[i].db_bytes, r->group[i].stream ? " (stream)" : "");
}

json_t *
det_compile_report_json(const struct det_compile_report *r)
{
	json_t *groups = json_array(), *o;

	if (groups == NULL)
		return NULL;
	for (unsigned i = 0; i < r->n_group; i++) {
		const struct det_group_report *g = &r->group[i];
		json_t *j = json_pack("{s:s, s:b, s:i, s:i, s:I, s:I}", "name", g->name, "stream",
				g->stream, "rules", (int)g->rules, "patterns", (int)g->patterns,
				"db_bytes", (json_int_t)g->db_bytes, "stream_bytes",
				(json_int_t)g->stream_bytes);

		if (j == NULL || json_array_append_new(groups, j) != 0) {
			json_decref(groups);
			return NULL;
		}
	}
	o = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:I, s:I, "
		      "s:I, s:f, s:o}",
			"rules", (int)r->rules, "exact", (int)r->exact, "confirm", (int)r->confirm,
			"unfiltered", (int)r->unfiltered, "header", (int)r->header, "demoted",
			(int)r->demoted, "pcre_hs", (int)r->pcre_hs, "pcre_prefilter",
			(int)r->pcre_prefilter, "pcre_only", (int)r->pcre_only, "groups",
			(int)r->groups, "databases", (int)r->databases, "patterns",
			(int)r->patterns, "db_bytes", (json_int_t)r->db_bytes, "scratch_bytes",
			(json_int_t)r->scratch_bytes, "stream_state_bytes",
			(json_int_t)r->stream_state_bytes, "compile_ms", r->compile_ms,
			"groups_detail", groups);
	if (o != NULL && (json_object_set_new(o, "tx", json_integer(r->tx)) != 0 ||
					 json_object_set_new(o, "pcre_literalless",
							 json_integer(r->pcre_literalless)) != 0 ||
					 json_object_set_new(o, "tx_variants",
							 json_integer(r->tx_variants)) != 0 ||
					 json_object_set_new(o, "tx_prefiltered",
							 json_integer(r->tx_prefiltered)) != 0 ||
					 json_object_set_new(o, "tx_unfiltered",
							 json_integer(r->tx_unfiltered)) != 0 ||
					 json_object_set_new(o, "tx_groups",
							 json_integer(r->tx_groups)) != 0 ||
					 json_object_set_new(o, "tx_databases",
							 json_integer(r->tx_databases)) != 0 ||
					 json_object_set_new(o, "tx_payload",
							 json_integer(r->tx_payload)) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}
