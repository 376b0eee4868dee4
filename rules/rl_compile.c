/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy compiler: model -> rte_acl contexts, rule table, counters.
 *
 * rte_acl field layout (offsets into struct rl_key; every group after the first is 4 bytes,
 * as rte_acl consumes input 4 bytes at a time):
 *
 *   field      type     size  offset  input group
 *   proto      bitmask  1     0       0 (rte_acl wants a 1-byte first field)
 *   in_port    range    1     2       1
 *   tcp_flags  bitmask  1     3       1
 *   vlan       range    2     4       1
 *   src        mask     4     8       2         (IPv6: four 4-byte fields, groups 2..5)
 *   dst        mask     4     24      3         (IPv6: groups 6..9)
 *   sport      range    2     40      4         (IPv6: group 10; ICMP: the type)
 *   dport      range    2     42      4         (ICMP: the code)
 *
 * Rule i has priority RTE_ACL_MAX_PRIORITY - i, so the first matching rule wins, and userdata
 * i + 1 (0 is rte_acl's "no match").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_acl.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "rl_compile.h"

#define F_PROTO	   0
#define F_INPORT   1
#define F_FLAGS	   2
#define F_VLAN	   3
#define F_SRC	   4
#define MAX_FIELDS 14

/* Fields of the IPv4 (w = 1) and IPv6 (w = 4) layouts. */
#define F_DST(w)   (F_SRC + (w))
#define F_SPORT(w) (F_SRC + 2 * (w))
#define F_DPORT(w) (F_SRC + 2 * (w) + 1)

RTE_ACL_RULE_DEF(rl_acl_rule, MAX_FIELDS);

/* Keys per rte_acl_classify() call. */
#define BULK 64

enum { FAM4, FAM6 };

struct rl_snapshot {
	/* First, as struct rl_snapshot_head, which rl_snapshot_rule() reads inline. */
	union {
		struct rl_snapshot_head head;
		struct {
			unsigned n_rules;
			struct rl_rule_info *rules;
		};
	};
	uint32_t epoch;
	unsigned n_workers;
	enum rl_action def;
	struct rte_acl_ctx *acl[2];    /* stateful: IPv4, IPv6; NULL when no rule */
	struct rte_acl_ctx *acl_sl[2]; /* stateless */
	struct rl_prefilter_info *pre;
	unsigned n_pre;
	uint8_t pre_of_port[RL_MAX_PORTS]; /* index in pre + 1; 0: none */
	char *file;
	struct rl_counters **counters; /* [worker][rule], n_rules + 1 each */
	struct rl_tb **buckets;	       /* [worker][rate slot] */
	unsigned n_rate_slots;
	bool bpf_cold; /* a rule's program reads its flow's mark or age */
	struct rl_snapshot_stats st;
	uint8_t l2[65536]; /* enum rl_l2_verdict by EtherType */
};

_Static_assert(offsetof(struct rl_snapshot, head) == 0, "the head comes first");
_Static_assert(offsetof(struct rl_snapshot, rules) == offsetof(struct rl_snapshot, head.rules),
		"the head's members are the snapshot's");

static uint32_t ctx_seq;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static size_t
heap_used(void)
{
	size_t sum = 0;

	for (unsigned i = 0; i < rte_socket_count(); i++) {
		struct rte_malloc_socket_stats st;

		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			sum += st.heap_allocsz_bytes;
	}
	return sum;
}

static void
layout(struct rte_acl_config *cfg, unsigned w)
{
	unsigned n = 0, in = 0;

#define DEF(t, sz, off)                                 \
	do {                                            \
		cfg->defs[n].type = (t);                \
		cfg->defs[n].size = (sz);               \
		cfg->defs[n].field_index = (uint8_t)n;  \
		cfg->defs[n].input_index = (uint8_t)in; \
		cfg->defs[n].offset = (off);            \
		n++;                                    \
	} while (0)

	memset(cfg, 0, sizeof(*cfg));
	DEF(RTE_ACL_FIELD_TYPE_BITMASK, 1, offsetof(struct rl_key, proto));
	in++;
	DEF(RTE_ACL_FIELD_TYPE_RANGE, 1, offsetof(struct rl_key, in_port));
	DEF(RTE_ACL_FIELD_TYPE_BITMASK, 1, offsetof(struct rl_key, tcp_flags));
	DEF(RTE_ACL_FIELD_TYPE_RANGE, 2, offsetof(struct rl_key, vlan));
	in++;
	for (unsigned i = 0; i < w; i++, in++)
		DEF(RTE_ACL_FIELD_TYPE_MASK, 4, offsetof(struct rl_key, src) + 4 * i);
	for (unsigned i = 0; i < w; i++, in++)
		DEF(RTE_ACL_FIELD_TYPE_MASK, 4, offsetof(struct rl_key, dst) + 4 * i);
	DEF(RTE_ACL_FIELD_TYPE_RANGE, 2, offsetof(struct rl_key, sport));
	DEF(RTE_ACL_FIELD_TYPE_RANGE, 2, offsetof(struct rl_key, dport));
#undef DEF
	cfg->num_fields = n;
	cfg->num_categories = 1;
	cfg->max_size = 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Expansion                                                                                 */

struct pfx {
	rl_u128 addr;
	uint8_t len;
};

/* The prefixes vg_range_prefixes finds, counted and, when v is not NULL, kept. */
struct pfx_list {
	struct pfx *v;
	uint64_t n;
};

static void
pfx_add(vg_u128 net, unsigned plen, void *arg)
{
	struct pfx_list *l = arg;

	if (l->v != NULL)
		l->v[l->n] = (struct pfx){ .addr = net, .len = (uint8_t)plen };
	l->n++;
}

/* Every interval of s as its fewest prefixes (bits: 32 or 128), into l. */
static void
ivs_prefix_list(const struct vg_ivs *s, unsigned bits, struct pfx_list *l)
{
	for (unsigned i = 0; i < s->n; i++)
		vg_range_prefixes(bits == 32 ? 4 : 6, s->v[i].lo, s->v[i].hi, pfx_add, l);
}

static uint64_t
ivs_prefix_count(const struct vg_ivs *s, unsigned bits)
{
	struct pfx_list l = { 0 };

	ivs_prefix_list(s, bits, &l);
	return l.n;
}

static struct pfx *
ivs_prefixes(const struct vg_ivs *s, unsigned bits, uint64_t n)
{
	struct pfx_list l = { .v = malloc((n ? n : 1) * sizeof(*l.v)) };

	if (l.v != NULL)
		ivs_prefix_list(s, bits, &l);
	return l.v;
}

/* Runs of set bits in the ingress port mask, as [lo, hi] pairs. */
static unsigned
port_runs(const struct rl_rule *r, uint8_t lo[RL_MAX_PORTS], uint8_t hi[RL_MAX_PORTS])
{
	unsigned n = 0;

	if (r->in_any) {
		lo[0] = 0;
		hi[0] = UINT8_MAX;
		return 1;
	}
	for (unsigned b = 0; b < RL_MAX_PORTS; b++) {
		if (!(r->in_ports >> b & 1))
			continue;
		if (n > 0 && hi[n - 1] == b - 1) {
			hi[n - 1] = (uint8_t)b;
		} else {
			lo[n] = hi[n] = (uint8_t)b;
			n++;
		}
	}
	return n;
}

/* The L4 constraint for one protocol value: port ranges, or the ICMP type and code. */
struct l4 {
	int proto;	       /* -1: any protocol */
	struct vg_iv sp1, dp1; /* when fixed */
	const struct vg_ivs *sp, *dp;
};

static unsigned
l4_groups(const struct rl_rule *r, struct l4 *g)
{
	unsigned n = 0;

	if (r->proto_any) {
		g[0].proto = -1;
		g[0].sp = &r->sport_set;
		g[0].dp = &r->dport_set;
		return 1;
	}
	for (unsigned p = 0; p < 256; p++) {
		if (!rl_rule_has_proto(r, (uint8_t)p))
			continue;
		struct l4 *x = &g[n++];
		int type = p == 1 ? r->icmp_type4 : p == 58 ? r->icmp_type6 : RL_ICMP_ANY;

		x->proto = (int)p;
		x->sp = &r->sport_set;
		x->dp = &r->dport_set;
		if (type != RL_ICMP_ANY) {
			x->sp1.lo = x->sp1.hi = (rl_u128)type;
			x->sp = NULL;
		}
		if ((p == 1 || p == 58) && r->icmp_code != RL_ICMP_ANY) {
			x->dp1.lo = x->dp1.hi = (rl_u128)r->icmp_code;
			x->dp = NULL;
		}
	}
	return n;
}

static uint64_t
sat_mul(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* rte_acl rules that rule r becomes in family fam. */
static uint64_t
expansion(const struct rl_rule *r, int fam, struct l4 *g)
{
	const struct vg_ivs *src = fam == FAM4 ? &r->from_set.v4 : &r->from_set.v6;
	const struct vg_ivs *dst = fam == FAM4 ? &r->to_set.v4 : &r->to_set.v6;
	unsigned bits = fam == FAM4 ? 32 : 128;
	uint8_t lo[RL_MAX_PORTS], hi[RL_MAX_PORTS];
	uint64_t per_proto = 0, n;
	unsigned ng;

	if (src->n == 0 || dst->n == 0)
		return 0;
	ng = l4_groups(r, g);
	for (unsigned i = 0; i < ng; i++)
		per_proto = sat_add(per_proto, sat_mul(g[i].sp != NULL ? g[i].sp->n : 1,
							       g[i].dp != NULL ? g[i].dp->n : 1));
	n = sat_mul(port_runs(r, lo, hi), r->vlan_any ? 1 : r->vlan.n);
	n = sat_mul(n, ivs_prefix_count(src, bits));
	n = sat_mul(n, ivs_prefix_count(dst, bits));
	return sat_mul(n, per_proto);
}

struct emitter {
	struct rte_acl_ctx *ctx;
	uint8_t *buf; /* EMIT_BATCH rules of rsz bytes (rte_acl's stride for this layout) */
	unsigned n;
	unsigned w;
	size_t rsz;
	int err;
};

#define EMIT_BATCH 4096

static void
flush(struct emitter *e)
{
	if (e->n == 0 || e->err != 0)
		return;
	e->err = rte_acl_add_rules(e->ctx, (const struct rte_acl_rule *)e->buf, e->n);
	e->n = 0;
}

static void
set_addr(struct rte_acl_field *f, unsigned w, const struct pfx *p)
{
	if (w == 1) {
		f[0].value.u32 = (uint32_t)p->addr;
		f[0].mask_range.u32 = p->len;
		return;
	}
	for (unsigned i = 0; i < 4; i++) {
		int len = (int)p->len - 32 * (int)i;

		f[i].value.u32 = (uint32_t)(p->addr >> (96 - 32 * i));
		f[i].mask_range.u32 = (uint32_t)(len < 0 ? 0 : len > 32 ? 32 : len);
	}
}

/* Emit the source x destination x sport x dport product of one (ports, VLAN, protocol) row;
 * tpl holds that row's fields. */
static void
emit_product(struct emitter *e, const struct rte_acl_rule *tpl, const struct pfx *sp, uint64_t ns,
		const struct pfx *dp, uint64_t nd, const struct l4 *x)
{
	const struct vg_iv *sv = x->sp != NULL ? x->sp->v : &x->sp1;
	const struct vg_iv *dv = x->dp != NULL ? x->dp->v : &x->dp1;
	unsigned nsv = x->sp != NULL ? x->sp->n : 1, ndv = x->dp != NULL ? x->dp->n : 1;
	unsigned w = e->w;

	for (uint64_t s = 0; s < ns; s++)
		for (uint64_t d = 0; d < nd; d++)
			for (unsigned i = 0; i < nsv; i++)
				for (unsigned j = 0; j < ndv; j++) {
					struct rte_acl_rule *ar;

					if (e->n == EMIT_BATCH)
						flush(e);
					if (e->err != 0)
						return;
					ar = (struct rte_acl_rule *)(e->buf + e->n++ * e->rsz);
					memcpy(ar, tpl, e->rsz);
					set_addr(&ar->field[F_SRC], w, &sp[s]);
					set_addr(&ar->field[F_DST(w)], w, &dp[d]);
					ar->field[F_SPORT(w)].value.u16 = (uint16_t)sv[i].lo;
					ar->field[F_SPORT(w)].mask_range.u16 = (uint16_t)sv[i].hi;
					ar->field[F_DPORT(w)].value.u16 = (uint16_t)dv[j].lo;
					ar->field[F_DPORT(w)].mask_range.u16 = (uint16_t)dv[j].hi;
				}
}

static void
emit_rule(struct emitter *e, const struct rl_rule *r, uint32_t idx, int fam, struct l4 *g)
{
	const struct vg_ivs *src = fam == FAM4 ? &r->from_set.v4 : &r->from_set.v6;
	const struct vg_ivs *dst = fam == FAM4 ? &r->to_set.v4 : &r->to_set.v6;
	unsigned bits = fam == FAM4 ? 32 : 128;
	uint8_t plo[RL_MAX_PORTS], phi[RL_MAX_PORTS];
	struct vg_iv vany = { 0, UINT16_MAX };
	const struct vg_iv *vl = r->vlan_any ? &vany : r->vlan.v;
	unsigned nvl = r->vlan_any ? 1 : r->vlan.n;
	uint64_t ns = ivs_prefix_count(src, bits), nd = ivs_prefix_count(dst, bits);
	struct pfx *sp = ivs_prefixes(src, bits, ns), *dp = ivs_prefixes(dst, bits, nd);
	unsigned nruns = port_runs(r, plo, phi), ng = l4_groups(r, g);
	struct rl_acl_rule tpl;

	if (sp == NULL || dp == NULL) {
		e->err = -ENOMEM;
		goto out;
	}
	memset(&tpl, 0, sizeof(tpl));
	tpl.data.category_mask = 1;
	tpl.data.priority = (int32_t)(RTE_ACL_MAX_PRIORITY - idx);
	tpl.data.userdata = idx + 1;
	tpl.field[F_FLAGS].value.u8 = r->flags_set;
	tpl.field[F_FLAGS].mask_range.u8 = r->flags_mask;
	for (unsigned a = 0; a < nruns; a++) {
		tpl.field[F_INPORT].value.u8 = plo[a];
		tpl.field[F_INPORT].mask_range.u8 = phi[a];
		for (unsigned v = 0; v < nvl; v++) {
			tpl.field[F_VLAN].value.u16 = (uint16_t)vl[v].lo;
			tpl.field[F_VLAN].mask_range.u16 = (uint16_t)vl[v].hi;
			for (unsigned gi = 0; gi < ng; gi++) {
				/* Protocol "any" is value 0 under mask 0. */
				tpl.field[F_PROTO].value.u8 =
						g[gi].proto >= 0 ? (uint8_t)g[gi].proto : 0;
				tpl.field[F_PROTO].mask_range.u8 = g[gi].proto >= 0 ? UINT8_MAX : 0;
				emit_product(e, (const struct rte_acl_rule *)&tpl, sp, ns, dp, nd,
						&g[gi]);
			}
		}
	}
out:
	free(sp);
	free(dp);
}

static const struct {
	enum rte_acl_classify_alg alg;
	const char *name;
} algs[] = {
	{ RTE_ACL_CLASSIFY_AVX512X16, "avx512x16" },
	{ RTE_ACL_CLASSIFY_AVX2, "avx2" },
	{ RTE_ACL_CLASSIFY_SSE, "sse" },
	{ RTE_ACL_CLASSIFY_SCALAR, "scalar" },
};

/*
 * Build one context from the rules of class `stateless` in family fam. *ctx stays NULL when no
 * rule applies (rte_acl cannot build an empty context).
 */
static int
build_ctx(struct rl_snapshot *s, const struct rl_policy *p, const uint64_t *count, int fam,
		bool stateless, int socket, struct rte_acl_ctx **ctx, uint64_t *n_acl,
		struct vg_diag *diag)
{
	unsigned w = fam == FAM4 ? 1 : 4;
	unsigned nf = 4 + 2 * w + 2;
	char name[RTE_ACL_NAMESIZE];
	struct rte_acl_config cfg;
	struct rte_acl_param prm;
	struct emitter e = { .w = w };
	struct l4 *g = malloc(256 * sizeof(*g));
	uint64_t total = 0;
	int rc;

	*ctx = NULL;
	*n_acl = 0;
	if (g == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < s->n_rules; i++)
		if (rl_policy_rule(p, i)->stateless == stateless)
			total += count[2 * i + (unsigned)fam];
	if (total == 0) {
		free(g);
		return 0;
	}
	if (total > RL_MAX_ACL_RULES) {
		vg_diag_add(diag, VG_SEV_ERROR, s->file, 0, 0,
				"the %s%s rules expand into %" PRIu64
				" rte_acl rules; at most %u fit in one context (use wider prefixes or fewer list combinations)",
				stateless ? "stateless " : "", fam == FAM4 ? "IPv4" : "IPv6", total,
				RL_MAX_ACL_RULES);
		free(g);
		return -E2BIG;
	}
	snprintf(name, sizeof(name), "rl%u_%c%c%u", s->epoch % 100000u, fam == FAM4 ? '4' : '6',
			stateless ? 's' : 'f', __atomic_fetch_add(&ctx_seq, 1, __ATOMIC_RELAXED));
	prm.name = name;
	prm.socket_id = socket;
	prm.rule_size = (uint32_t)RTE_ACL_RULE_SZ(nf);
	prm.max_rule_num = (uint32_t)total;
	e.ctx = rte_acl_create(&prm);
	e.rsz = prm.rule_size;
	e.buf = calloc(EMIT_BATCH, e.rsz);
	if (e.ctx == NULL || e.buf == NULL) {
		rc = e.ctx == NULL ? -rte_errno : -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < s->n_rules && e.err == 0; i++) {
		const struct rl_rule *r = rl_policy_rule(p, i);

		if (r->stateless == stateless && count[2 * i + (unsigned)fam] > 0)
			emit_rule(&e, r, i, fam, g);
	}
	flush(&e);
	if (e.err != 0) {
		rc = e.err;
		goto fail;
	}
	layout(&cfg, w);
	rc = rte_acl_build(e.ctx, &cfg);
	if (rc != 0)
		goto fail;
	for (size_t a = 0; a < RTE_DIM(algs); a++)
		if (rte_acl_set_ctx_classify(e.ctx, algs[a].alg) == 0) {
			s->st.classify_alg = algs[a].name;
			break;
		}
	free(e.buf);
	free(g);
	*ctx = e.ctx;
	*n_acl = total;
	return 0;
fail:
	vg_diag_add(diag, VG_SEV_ERROR, s->file, 0, 0,
			"building the %s%s rte_acl context (%" PRIu64 " rules) failed: %s",
			stateless ? "stateless " : "", fam == FAM4 ? "IPv4" : "IPv6", total,
			strerror(-rc));
	rte_acl_free(e.ctx);
	free(e.buf);
	free(g);
	return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Snapshot                                                                                  */

void
rl_snapshot_free(struct rl_snapshot *s)
{
	if (s == NULL)
		return;
	for (unsigned f = 0; f < 2; f++) {
		rte_acl_free(s->acl[f]);
		rte_acl_free(s->acl_sl[f]);
	}
	for (unsigned i = 0; s->rules != NULL && i < s->n_rules; i++) {
		struct rl_rule_info *ri = &s->rules[i];

		free((char *)(uintptr_t)ri->name);
		for (unsigned k = 0; k < ri->n_inspect; k++)
			free((char *)(uintptr_t)ri->inspect[k]);
		free((void *)(uintptr_t)ri->inspect);
		free((char *)(uintptr_t)ri->bpf);
		free((char *)(uintptr_t)ri->bpf_upload);
		rl_bpf_free(ri->prog);
	}
	free(s->rules);
	for (unsigned i = 0; s->pre != NULL && i < s->n_pre; i++) {
		free((char *)(uintptr_t)s->pre[i].name);
		free((char *)(uintptr_t)s->pre[i].bpf);
		free((char *)(uintptr_t)s->pre[i].bpf_upload);
		rl_bpf_free(s->pre[i].prog);
	}
	free(s->pre);
	for (unsigned w = 0; w < s->n_workers; w++) {
		if (s->counters != NULL)
			rte_free(s->counters[w]);
		if (s->buckets != NULL)
			rte_free(s->buckets[w]);
	}
	free(s->counters);
	free(s->buckets);
	free(s->file);
	rte_free(s);
}

static char *
xstrdup(const char *s, bool *fail)
{
	char *c;

	if (s == NULL)
		return NULL;
	c = strdup(s);
	if (c == NULL)
		*fail = true;
	return c;
}

static int
fill_rules(struct rl_snapshot *s, const struct rl_policy *p, const uint64_t *count)
{
	bool fail = false;

	s->rules = calloc(s->n_rules + 1, sizeof(*s->rules));
	if (s->rules == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < s->n_rules; i++) {
		const struct rl_rule *r = rl_policy_rule(p, i);
		struct rl_rule_info *ri = &s->rules[i];
		char **insp;

		ri->name = xstrdup(r->name, &fail);
		ri->action = r->action;
		ri->log = r->log;
		ri->dry_run = r->dry_run;
		ri->stateless = r->stateless;
		ri->rate = r->rate;
		ri->rate_slot = UINT32_MAX;
		if (r->action == RL_ACT_RATE_LIMIT) {
			/* per: rule splits the rate between workers; per: source does not. */
			if (rl_tb_params_init(&ri->tb, &r->rate,
					    r->rate.per == RL_PER_RULE ? s->n_workers : 1) != 0)
				return -EINVAL;
			ri->rate_slot = s->n_rate_slots++;
		}
		insp = calloc(r->n_inspect + 1, sizeof(char *));
		if (insp == NULL)
			return -ENOMEM;
		for (unsigned k = 0; k < r->n_inspect; k++)
			insp[k] = xstrdup(r->inspect[k], &fail);
		ri->inspect = (const char *const *)insp;
		ri->n_inspect = r->n_inspect;
		ri->bpf = xstrdup(r->bpf, &fail);
		ri->bpf_upload = xstrdup(r->bpf_upload, &fail);
		ri->file = s->file;
		ri->line = r->line;
		ri->col = r->col;
		ri->n_acl = (uint32_t)RTE_MIN(
				count[2 * i] + count[2 * i + 1], (uint64_t)UINT32_MAX);
		if (r->stateless)
			s->st.n_stateless++;
	}
	return fail ? -ENOMEM : 0;
}

/* The pre-filters, and which port runs which. */
static int
fill_prefilters(struct rl_snapshot *s, const struct rl_policy *p)
{
	bool fail = false;

	s->n_pre = rl_policy_n_prefilters(p);
	s->pre = calloc(s->n_pre + 1, sizeof(*s->pre));
	if (s->pre == NULL) {
		s->n_pre = 0;
		return -ENOMEM;
	}
	for (unsigned i = 0; i < s->n_pre; i++) {
		const struct rl_prefilter *pf = rl_policy_prefilter(p, i);
		struct rl_prefilter_info *pi = &s->pre[i];

		pi->name = xstrdup(pf->name, &fail);
		pi->bpf = xstrdup(pf->bpf, &fail);
		pi->bpf_upload = xstrdup(pf->bpf_upload, &fail);
		pi->in_any = pf->in_any;
		pi->in_ports = pf->in_ports;
		pi->line = pf->line;
		pi->col = pf->col;
		for (unsigned port = 0; port < RL_MAX_PORTS; port++)
			if ((pf->in_any || (pf->in_ports >> port & 1)) && s->pre_of_port[port] == 0)
				s->pre_of_port[port] = (uint8_t)(i + 1);
	}
	return fail ? -ENOMEM : 0;
}

/* Load every rule's program and every pre-filter's (rte_bpf's validator and vigild's limits);
 * all refusals are reported. */
static int
load_programs(struct rl_snapshot *s, struct vg_diag *diag)
{
	int rc = 0;

	for (unsigned i = 0; i < s->n_rules; i++) {
		struct rl_rule_info *ri = &s->rules[i];
		char err[1536];

		if (ri->bpf == NULL)
			continue;
		if (ri->stateless) {
			vg_diag_add(diag, VG_SEV_ERROR, s->file, ri->line, ri->col,
					"rule '%s': bpf runs on the packets of the flows a rule decides; a tcp_flags (stateless) rule has none",
					ri->name);
			rc = -EINVAL;
			continue;
		}
		ri->prog = rl_bpf_load(ri->bpf, s->n_workers, rl_bpf_jit, err, sizeof(err));
		if (ri->prog == NULL) {
			vg_diag_add(diag, VG_SEV_ERROR, s->file, ri->line, ri->col,
					"rule '%s': bpf program refused: %s", ri->name, err);
			rc = errno == ENOMEM ? -ENOMEM : -EINVAL;
		} else if (rl_bpf_ctx_need(ri->prog) & (RL_BPF_NEED_MARK | RL_BPF_NEED_AGE)) {
			s->bpf_cold = true;
		}
	}
	for (unsigned i = 0; i < s->n_pre; i++) {
		struct rl_prefilter_info *pi = &s->pre[i];
		char err[1536];

		pi->prog = rl_bpf_load(pi->bpf, s->n_workers, rl_bpf_jit, err, sizeof(err));
		if (pi->prog == NULL) {
			vg_diag_add(diag, VG_SEV_ERROR, s->file, pi->line, pi->col,
					"prefilter '%s': bpf program refused: %s", pi->name, err);
			rc = errno == ENOMEM ? -ENOMEM : -EINVAL;
		}
	}
	return rc;
}

static int
alloc_worker_state(struct rl_snapshot *s, int socket)
{
	size_t csz = RTE_ALIGN_CEIL(
			(s->n_rules + 1) * sizeof(struct rl_counters), RTE_CACHE_LINE_SIZE);
	size_t bsz = RTE_ALIGN_CEIL(
			(s->n_rate_slots + 1) * sizeof(struct rl_tb), RTE_CACHE_LINE_SIZE);

	s->counters = calloc(s->n_workers, sizeof(*s->counters));
	s->buckets = calloc(s->n_workers, sizeof(*s->buckets));
	if (s->counters == NULL || s->buckets == NULL)
		return -ENOMEM;
	for (unsigned w = 0; w < s->n_workers; w++) {
		s->counters[w] =
				rte_zmalloc_socket("rl_counters", csz, RTE_CACHE_LINE_SIZE, socket);
		s->buckets[w] = rte_zmalloc_socket("rl_buckets", bsz, RTE_CACHE_LINE_SIZE, socket);
		if (s->counters[w] == NULL || s->buckets[w] == NULL)
			return -ENOMEM;
		/* Buckets start full; last_ns 0 makes the first take refill to the cap anyway. */
		for (unsigned i = 0; i < s->n_rules; i++)
			if (s->rules[i].rate_slot != UINT32_MAX)
				rl_tb_reset(&s->buckets[w][s->rules[i].rate_slot], &s->rules[i].tb,
						0);
	}
	return 0;
}

struct rl_snapshot *
rl_compile(const struct rl_policy *p, uint32_t epoch, unsigned n_workers, int socket,
		struct vg_diag *diag)
{
	uint64_t t0 = now_ns();
	size_t heap0 = heap_used();
	struct rl_snapshot *s;
	uint64_t *count = NULL;
	struct l4 *g = NULL;
	int rc = 0;

	if (p == NULL || n_workers == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	s = rte_zmalloc_socket("rl_snapshot", sizeof(*s), RTE_CACHE_LINE_SIZE, socket);
	if (s == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	s->epoch = epoch;
	s->n_workers = n_workers;
	s->n_rules = rl_policy_n_rules(p);
	s->def = rl_policy_default(p);
	s->st.epoch = epoch;
	s->st.n_rules = s->n_rules;
	s->st.classify_alg = "none";
	s->file = strdup(rl_policy_file(p));
	count = calloc(2 * (size_t)s->n_rules + 2, sizeof(*count));
	g = malloc(256 * sizeof(*g));
	if (s->file == NULL || count == NULL || g == NULL) {
		rc = -ENOMEM;
		goto fail;
	}

	/* Count first: a rule that would explode is reported before anything is built. */
	for (unsigned i = 0; i < s->n_rules; i++) {
		const struct rl_rule *r = rl_policy_rule(p, i);

		for (int fam = FAM4; fam <= FAM6; fam++) {
			uint64_t n = expansion(r, fam, g);

			count[2 * i + (unsigned)fam] = n;
			if (n > RL_MAX_ACL_PER_RULE) {
				vg_diag_add(diag, VG_SEV_ERROR, s->file, r->line, r->col,
						"rule '%s': expands into %s%" PRIu64
						" rte_acl rules for %s (ports x VLAN ranges x protocols x source prefixes x destination prefixes x port ranges); at most %u per rule: split it or use wider prefixes",
						r->name, n == UINT64_MAX ? "more than " : "", n,
						fam == FAM4 ? "IPv4" : "IPv6", RL_MAX_ACL_PER_RULE);
				rc = -E2BIG;
			}
		}
	}
	if (rc != 0)
		goto fail;
	rc = fill_rules(s, p, count);
	if (rc == 0)
		rc = fill_prefilters(s, p);
	if (rc == 0)
		rc = alloc_worker_state(s, socket);
	if (rc == 0)
		rc = load_programs(s, diag);
	if (rc != 0)
		goto fail;
	for (int fam = FAM4; fam <= FAM6 && rc == 0; fam++) {
		rc = build_ctx(s, p, count, fam, false, socket, &s->acl[fam], &s->st.n_acl[fam],
				diag);
		if (rc == 0)
			rc = build_ctx(s, p, count, fam, true, socket, &s->acl_sl[fam],
					&s->st.n_acl_stateless[fam], diag);
	}
	if (rc != 0)
		goto fail;
	for (uint32_t t = 0; t < 65536; t++)
		s->l2[t] = (uint8_t)rl_policy_l2_lookup(p, (uint16_t)t);
	free(count);
	free(g);
	s->st.mem_bytes = heap_used() - heap0;
	s->st.build_ns = now_ns() - t0;
	return s;
fail:
	if (rc == -ENOMEM)
		vg_diag_add(diag, VG_SEV_ERROR, rl_policy_file(p), 0, 0,
				"out of memory while compiling the policy");
	free(count);
	free(g);
	rl_snapshot_free(s);
	rte_errno = -rc;
	return NULL;
}

unsigned
rl_snapshot_n_prefilters(const struct rl_snapshot *s)
{
	return s->n_pre;
}

const struct rl_prefilter_info *
rl_snapshot_prefilter(const struct rl_snapshot *s, unsigned idx)
{
	return idx < s->n_pre ? &s->pre[idx] : NULL;
}

const struct rl_bpf_prog *
rl_snapshot_port_prefilter(const struct rl_snapshot *s, uint16_t port, uint32_t *idx)
{
	unsigned k = port < RL_MAX_PORTS ? s->pre_of_port[port] : 0;

	if (k == 0)
		return NULL;
	*idx = k - 1;
	return s->pre[k - 1].prog;
}

uint32_t
rl_snapshot_epoch(const struct rl_snapshot *s)
{
	return s->epoch;
}

enum rl_action
rl_snapshot_default(const struct rl_snapshot *s)
{
	return s->def;
}

unsigned
rl_snapshot_n_rules(const struct rl_snapshot *s)
{
	return s->n_rules;
}

bool
rl_snapshot_bpf_cold(const struct rl_snapshot *s)
{
	return s->bpf_cold;
}

bool
rl_snapshot_has_stateless(const struct rl_snapshot *s)
{
	return s->acl_sl[FAM4] != NULL || s->acl_sl[FAM6] != NULL;
}

void
rl_snapshot_stats(const struct rl_snapshot *s, struct rl_snapshot_stats *out)
{
	*out = s->st;
}

int
rl_snapshot_set_inspect_groups(struct rl_snapshot *s, uint32_t idx, uint64_t groups)
{
	if (s == NULL || idx >= s->n_rules)
		return -EINVAL;
	s->rules[idx].inspect_groups = groups;
	return 0;
}

struct rl_counters *
rl_snapshot_counters(const struct rl_snapshot *s, unsigned w)
{
	return w < s->n_workers ? s->counters[w] : NULL;
}

void
rl_snapshot_counters_sum(const struct rl_snapshot *s, uint32_t rule, struct rl_counters *out)
{
	uint32_t slot = rule == RL_RULE_DEFAULT || rule >= s->n_rules ? s->n_rules : rule;

	memset(out, 0, sizeof(*out));
	for (unsigned w = 0; w < s->n_workers; w++) {
		const volatile struct rl_counters *c = &s->counters[w][slot];

		out->packets += c->packets;
		out->bytes += c->bytes;
		out->flows += c->flows;
		out->would_drop += c->would_drop;
	}
}

static void
classify(struct rte_acl_ctx *const ctx[2], const struct rl_key **keys, unsigned n,
		uint32_t *rule_out)
{
	for (unsigned base = 0; base < n; base += BULK) {
		const uint8_t *data[2][BULK];
		uint32_t idx[2][BULK], res[BULK];
		unsigned cnt[2] = { 0, 0 };
		unsigned m = RTE_MIN(n - base, (unsigned)BULK);

		for (unsigned i = 0; i < m; i++) {
			const struct rl_key *k = keys[base + i];
			int fam = k->family == 4 ? FAM4 : k->family == 6 ? FAM6 : -1;

			rule_out[base + i] = RL_RULE_DEFAULT;
			if (fam < 0 || ctx[fam] == NULL)
				continue;
			data[fam][cnt[fam]] = (const uint8_t *)k;
			idx[fam][cnt[fam]++] = base + i;
		}
		for (int f = 0; f < 2; f++) {
			if (cnt[f] == 0)
				continue;
			rte_acl_classify(ctx[f], data[f], res, cnt[f], 1);
			for (unsigned j = 0; j < cnt[f]; j++)
				if (res[j] != 0)
					rule_out[idx[f][j]] = res[j] - 1;
		}
	}
}

void
rl_classify_bulk(const struct rl_snapshot *s, const struct rl_key **keys, unsigned n,
		uint32_t *rule_out)
{
	classify(s->acl, keys, n, rule_out);
}

void
rl_classify_stateless_bulk(const struct rl_snapshot *s, const struct rl_key **keys, unsigned n,
		uint32_t *rule_out)
{
	classify(s->acl_sl, keys, n, rule_out);
}

enum rl_l2_verdict
rl_l2_verdict(const struct rl_snapshot *s, uint16_t ether_type)
{
	return (enum rl_l2_verdict)s->l2[ether_type];
}

bool
rl_snapshot_rate_take(const struct rl_snapshot *s, unsigned w, uint32_t rule,
		struct rl_src_table *src, const struct rl_key *k, uint32_t pkt_len, uint64_t now)
{
	const struct rl_rule_info *ri;

	if (rule >= s->n_rules || w >= s->n_workers)
		return true;
	ri = &s->rules[rule];
	if (ri->rate_slot == UINT32_MAX)
		return true;
	if (ri->rate.per == RL_PER_SOURCE && src != NULL)
		return rl_src_take(src, rule, &ri->tb, k->family, k->src, now, pkt_len);
	/* Without a source table a per-source rule falls back to one bucket per worker. */
	return rl_tb_take(&s->buckets[w][ri->rate_slot], &ri->tb, now, pkt_len);
}

int
rl_policy_check(const char *path, const struct rl_env *env, FILE *out)
{
	struct vg_diag d;
	struct rl_policy *p;
	struct rl_snapshot *s = NULL;
	struct rl_snapshot_stats st;

	vg_diag_init(&d);
	p = rl_policy_load_file(path, env, &d);
	if (p != NULL)
		s = rl_compile(p, 0, 1, SOCKET_ID_ANY, &d);
	vg_diag_print(&d, out);
	if (s == NULL) {
		fprintf(out, "%s: %u error%s, %u warning%s; the policy is not usable\n", path,
				d.errors, d.errors == 1 ? "" : "s", d.warnings,
				d.warnings == 1 ? "" : "s");
		rl_policy_free(p);
		vg_diag_free(&d);
		return 1;
	}
	rl_snapshot_stats(s, &st);
	fprintf(out,
			"%s: OK: %u rules (%u stateless), %" PRIu64 " rte_acl rules (IPv4 %" PRIu64
			", IPv6 %" PRIu64 ", stateless %" PRIu64
			"), built in %.1f ms, %.1f MiB, classify %s, default %s, %u warning%s\n",
			path, st.n_rules, st.n_stateless,
			st.n_acl[0] + st.n_acl[1] + st.n_acl_stateless[0] + st.n_acl_stateless[1],
			st.n_acl[0], st.n_acl[1], st.n_acl_stateless[0] + st.n_acl_stateless[1],
			(double)st.build_ns / 1e6, (double)st.mem_bytes / (1024.0 * 1024.0),
			st.classify_alg, rl_action_name(rl_policy_default(p)), d.warnings,
			d.warnings == 1 ? "" : "s");
	rl_snapshot_free(s);
	rl_policy_free(p);
	vg_diag_free(&d);
	return 0;
}

struct rl_bpf_prog *
rl_snapshot_program(const struct rl_snapshot *s, unsigned i, const char **owner, bool *pre)
{
	*pre = i >= s->n_rules;
	if (i < s->n_rules) {
		*owner = s->rules[i].name;
		return s->rules[i].prog;
	}
	if (i - s->n_rules < s->n_pre) {
		*owner = s->pre[i - s->n_rules].name;
		return s->pre[i - s->n_rules].prog;
	}
	return NULL;
}

/* The map named name in from: of the program of the same owner (rule or pre-filter of that
 * name) if it has one, else of the first program that declares one. */
static struct rl_bpf_map *
counterpart(const struct rl_snapshot *from, const char *owner, bool pre, const char *name)
{
	struct rl_bpf_map *any = NULL;

	for (unsigned i = 0; i < from->n_rules + from->n_pre; i++) {
		const char *o;
		bool p;
		struct rl_bpf_prog *prog = rl_snapshot_program(from, i, &o, &p);
		struct rl_bpf_maps *ms = prog != NULL ? rl_bpf_maps(prog) : NULL;

		for (unsigned k = 0; ms != NULL && k < ms->n; k++) {
			if (strcmp(rl_bpf_map_name(ms->m[k]), name) != 0)
				continue;
			if (p == pre && strcmp(o, owner) == 0)
				return ms->m[k];
			if (any == NULL)
				any = ms->m[k];
		}
	}
	return any;
}

unsigned
rl_snapshot_carry_maps(struct rl_snapshot *to, const struct rl_snapshot *from,
		void (*report)(void *arg, const char *owner, bool pre, const char *map, int rc,
				const char *err),
		void *arg)
{
	unsigned carried = 0;

	if (to == NULL || from == NULL)
		return 0;
	for (unsigned i = 0; i < to->n_rules + to->n_pre; i++) {
		const char *owner;
		bool pre;
		struct rl_bpf_prog *prog = rl_snapshot_program(to, i, &owner, &pre);
		struct rl_bpf_maps *ms = prog != NULL ? rl_bpf_maps(prog) : NULL;

		for (unsigned k = 0; ms != NULL && k < ms->n; k++) {
			struct rl_bpf_map *old =
					counterpart(from, owner, pre, rl_bpf_map_name(ms->m[k]));
			char err[512];
			int rc;

			if (old == NULL)
				continue;
			rc = rl_bpf_map_carry(ms->m[k], old, err, sizeof(err));
			carried += rc == 0;
			if (report != NULL)
				report(arg, owner, pre, rl_bpf_map_name(ms->m[k]), rc, err);
		}
	}
	return carried;
}
