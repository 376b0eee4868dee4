/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scanning: a worker's scratch and buffers, block-mode packets and streaming-mode TCP
 * directions. Nothing here allocates, locks or logs once a worker exists.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "det_engine_priv.h"
#include "det_buf.h"
#include "det_hdr.h"

struct cand {
	uint32_t grule;
	uint32_t end;
};

struct det_worker {
	const struct det_engine *e;
	hs_scratch_t *scratch;
	int socket;
	uint32_t stamp;
	uint32_t *atom_stamp;
	uint32_t atom_cap;
	uint32_t *cand_stamp;
	struct cand *cand;
	struct det_match *mbuf;
	uint32_t grule_cap;
	uint32_t n_cand;
	uint8_t *cbuf; /* stream confirmation: window + segment */
	uint32_t cbuf_cap;
	struct det_confirm_ctx ictx;
	unsigned index; /* row in the engines' per-rule counters */
	struct det_thresh *th;
	struct det_worker_stats st;

	/* the scan in progress */
	const struct det_group *g;
	uint64_t seg_base;
	uint8_t *bits; /* the stream's parts-seen record */

	/* transactions: candidate variants, transformed buffers of the call in progress */
	uint32_t txstamp;
	uint32_t *txc_stamp; /* per variant */
	uint32_t *txc;	     /* candidates of the call */
	uint32_t txc_cap;    /* variants the arrays hold */
	uint32_t n_txc;
	const struct det_txdb *txdb;
	struct xcache *xc; /* per transformed buffer and instance */
	uint32_t xc_cap;
	uint8_t *xbuf; /* DET_XFORM_SPACE bytes */
	uint32_t xused;
};

/* A transformed buffer instance computed in this call (stamp): xbuf[off, off + len). */
struct xcache {
	uint32_t stamp;
	uint32_t off;
	uint32_t len; /* UINT32_MAX: absent or did not fit */
};

/* ---- memory ---- */

static void *
zalloc(size_t n, int socket)
{
	void *p;

	if (n == 0)
		n = 1;
	if (socket >= 0)
		return rte_zmalloc_socket("det", n, 64, socket);
	if (posix_memalign(&p, 64, n) != 0)
		return NULL;
	memset(p, 0, n);
	return p;
}

static void
zfree(void *p, int socket)
{
	if (socket >= 0)
		rte_free(p);
	else
		free(p);
}

/*
 * Hyperscan allocates a stream with one call of the stream allocator, of hs_stream_size()
 * bytes. Pointing that call at the caller's state memory lets the flow table own stream
 * state (no allocation per flow). Every other stream allocation in the process gets malloc.
 */
static __thread void *stream_mem;
static __thread size_t stream_mem_size;

static void *
stream_alloc(size_t n)
{
	void *p = stream_mem;

	if (p == NULL)
		return malloc(n);
	stream_mem = NULL;
	return n <= stream_mem_size ? p : NULL;
}

static void
stream_free(void *p)
{
	/* det streams are never handed back to Hyperscan (they are reset, not closed) */
	free(p);
}

static pthread_once_t allocator_once = PTHREAD_ONCE_INIT;

static void
set_allocator(void)
{
	hs_set_stream_allocator(stream_alloc, stream_free);
}

/* ---- worker ---- */

static void
worker_buffers_free(struct det_worker *w)
{
	zfree(w->atom_stamp, w->socket);
	zfree(w->cand_stamp, w->socket);
	zfree(w->cand, w->socket);
	zfree(w->mbuf, w->socket);
	zfree(w->cbuf, w->socket);
	zfree(w->txc_stamp, w->socket);
	zfree(w->txc, w->socket);
	zfree(w->xc, w->socket);
	zfree(w->xbuf, w->socket);
	w->atom_stamp = w->cand_stamp = NULL;
	w->cand = NULL;
	w->mbuf = NULL;
	w->cbuf = NULL;
	w->txc_stamp = w->txc = NULL;
	w->xc = NULL;
	w->xbuf = NULL;
	w->atom_cap = w->grule_cap = w->cbuf_cap = w->txc_cap = w->xc_cap = 0;
}

static int
worker_bind(struct det_worker *w, const struct det_engine *e)
{
	hs_scratch_t *s = NULL;
	uint32_t atoms = e->max_gatoms + 1, grules = e->max_grules + 1;
	uint32_t cbuf = e->need_window ? e->opts.stream_window + 65536 : 0;
	/* matches of one call: a packet's group, or a protocol's transaction variants */
	uint32_t mcap = grules > e->max_txvars + 1 ? grules : e->max_txvars + 1;
	uint32_t txc = e->n_txvars + 1, xc = e->n_xkeys * DET_XC_INST + 1;

	if (e->scratch != NULL && hs_clone_scratch(e->scratch, &s) != HS_SUCCESS)
		return -ENOMEM;
	if (atoms > w->atom_cap || mcap > w->grule_cap || cbuf > w->cbuf_cap || txc > w->txc_cap ||
			xc > w->xc_cap) {
		worker_buffers_free(w);
		w->atom_stamp = zalloc((size_t)atoms * sizeof(uint32_t), w->socket);
		w->cand_stamp = zalloc((size_t)mcap * sizeof(uint32_t), w->socket);
		w->cand = zalloc((size_t)mcap * sizeof(struct cand), w->socket);
		w->mbuf = zalloc((size_t)mcap * sizeof(struct det_match), w->socket);
		w->cbuf = zalloc(cbuf, w->socket);
		w->txc_stamp = zalloc((size_t)txc * sizeof(uint32_t), w->socket);
		w->txc = zalloc((size_t)txc * sizeof(uint32_t), w->socket);
		w->xc = zalloc((size_t)xc * sizeof(struct xcache), w->socket);
		w->xbuf = zalloc(e->n_xkeys > 0 ? DET_XFORM_SPACE : 1, w->socket);
		if (w->atom_stamp == NULL || w->cand_stamp == NULL || w->cand == NULL ||
				w->mbuf == NULL || w->cbuf == NULL || w->txc_stamp == NULL ||
				w->txc == NULL || w->xc == NULL || w->xbuf == NULL) {
			worker_buffers_free(w);
			hs_free_scratch(s);
			return -ENOMEM;
		}
		w->atom_cap = atoms;
		w->grule_cap = mcap;
		w->cbuf_cap = cbuf;
		w->txc_cap = txc;
		w->xc_cap = xc;
		w->stamp = 0;
		w->txstamp = 0;
	}
	hs_free_scratch(w->scratch);
	w->scratch = s;
	w->e = e;
	det_confirm_ctx_limits(&w->ictx, e->opts.pcre_match_limit, e->opts.pcre_depth_limit);
	w->ictx.rule_hits = e->limit_hits != NULL && w->index < e->limit_rows
					    ? e->limit_hits + (size_t)w->index * e->n_rules
					    : NULL;
	return 0;
}

void
det_worker_set_index(struct det_worker *w, unsigned index)
{
	w->index = index;
	w->ictx.rule_hits = w->e->limit_hits != NULL && index < w->e->limit_rows
					    ? w->e->limit_hits + (size_t)index * w->e->n_rules
					    : NULL;
}

struct det_worker *
det_worker_create(const struct det_engine *e, int socket)
{
	struct det_worker *w;
	int rc;

	if (e == NULL) {
		errno = EINVAL;
		return NULL;
	}
	pthread_once(&allocator_once, set_allocator);
	w = zalloc(sizeof(*w), socket);
	if (w == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	w->socket = socket;
	w->th = det_thresh_create(e->opts.thresh_entries);
	if (w->th == NULL || det_confirm_ctx_init(&w->ictx) != 0) {
		det_worker_free(w);
		errno = ENOMEM;
		return NULL;
	}
	rc = worker_bind(w, e);
	if (rc != 0) {
		det_worker_free(w);
		errno = -rc;
		return NULL;
	}
	return w;
}

int
det_worker_rebind(struct det_worker *w, const struct det_engine *e)
{
	if (w == NULL || e == NULL)
		return -EINVAL;
	return worker_bind(w, e);
}

void
det_worker_free(struct det_worker *w)
{
	if (w == NULL)
		return;
	hs_free_scratch(w->scratch);
	worker_buffers_free(w);
	det_confirm_ctx_free(&w->ictx);
	det_thresh_free(w->th);
	zfree(w, w->socket);
}

const struct det_engine *
det_worker_engine(const struct det_worker *w)
{
	return w->e;
}

const struct det_worker_stats *
det_worker_stats(const struct det_worker *w)
{
	((struct det_worker *)w)->st.thresh_evictions = det_thresh_evictions(w->th);
	((struct det_worker *)w)->st.pcre_limit_hits = w->ictx.limit_hits;
	return &w->st;
}

/* ---- header checks ---- */

static bool
has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP;
}

static bool
sides_ok(const struct det_rule *r, const struct det_pkt *p, bool swap, bool ports)
{
	static const uint8_t zero[16];
	const uint8_t *s = p->src != NULL ? p->src : zero, *d = p->dst != NULL ? p->dst : zero;
	uint16_t sp = p->sport, dp = p->dport;

	if (swap) {
		const uint8_t *t = s;
		uint16_t tp = sp;

		s = d;
		d = t;
		sp = dp;
		dp = tp;
	}
	if (!det_ipset_has(&r->src, p->family, s) || !det_ipset_has(&r->dst, p->family, d))
		return false;
	if (ports && (!det_portset_has(&r->sport, sp) || !det_portset_has(&r->dport, dp)))
		return false;
	return true;
}

/*
 * As in Suricata, the operators that can only mean "some payload" (!=, >, >=, a range)
 * require a payload: dsize:!9 does not match an empty segment.
 */
static bool
dsize_ok(const struct det_rule *r, uint32_t n)
{
	if (r->dsize.op == 0)
		return true;
	if (n == 0 && (r->dsize.op == DET_NOP_NE || r->dsize.op == DET_NOP_GE))
		return false;
	return det_cmp_ok(&r->dsize, n);
}

static bool
tflags_ok(const struct det_rule *r, const struct det_pkt *p)
{
	uint8_t f;

	if (r->tflags_mode == DET_TF_NONE)
		return true;
	if (p->proto != IPPROTO_TCP)
		return false;
	f = p->tcp_flags & (uint8_t)~r->tflags_ignore;
	switch (r->tflags_mode) {
	case DET_TF_EXACT:
		return f == r->tflags;
	case DET_TF_ALL:
		return (f & r->tflags) == r->tflags;
	case DET_TF_ANY:
		return (f & r->tflags) != 0;
	case DET_TF_NOT:
		return (f & r->tflags) == 0;
	default:
		return false;
	}
}

/* app-layer-protocol: every keyword holds for the flow's detected protocol. */
static bool
alp_ok(const struct det_rule *r, const struct det_pkt *p)
{
	for (unsigned k = 0; k < r->n_alp; k++) {
		/* a flow not yet detected matches neither "http" nor "!http", as in Suricata */
		if (p->app_proto == AL_PROTO_NONE)
			return false;
		if ((p->app_proto == r->alp[k].proto) == r->alp[k].neg)
			return false;
	}
	return true;
}

/*
 * The rule's application protocol (packet and stream rules): the flow's detected protocol
 * when it has one Vigil detects; by the protocol's well-known ports while detection has not
 * decided, and always for protocols without a parser.
 */
static bool
app_ok(const struct det_rule *r, const struct det_pkt *p)
{
	bool s, d;

	if (r->app_proto != AL_PROTO_NONE && p->app_proto != AL_PROTO_NONE)
		return p->app_proto == r->app_proto;
	if (!r->app_approx)
		return r->app_proto == AL_PROTO_NONE;
	s = det_portset_has(&r->app_ports, p->sport);
	d = det_portset_has(&r->app_ports, p->dport);
	return p->flags & DET_PKT_TO_SERVER ? d : p->flags & DET_PKT_TO_CLIENT ? s : (s || d);
}

/*
 * decode-event, stream-event, <proto>-csum: every required event present; for csum:valid,
 * a packet of that family and protocol without the checksum event (a checksum nobody
 * verified counts as valid, as in Suricata without checksum validation).
 */
static inline bool
events_ok(const struct det_rule *r, const struct det_pkt *p)
{
	uint64_t absent = r->events_absent;

	if ((p->events & r->events) != r->events)
		return false;
	while (absent != 0) {
		enum det_event e = (enum det_event)__builtin_ctzll(absent);
		uint8_t fam, proto;

		absent &= absent - 1;
		if (p->events & DET_EV_BIT(e))
			return false;
		if (det_event_csum_kind(e, &fam, &proto) &&
				(p->family != fam || (proto != 0 && p->proto != proto)))
			return false;
	}
	return true;
}

/* What packet, stream and transaction rules check alike: groups, flow, addresses, sizes. */
static bool
header_common(struct det_worker *w, const struct det_erule *er, const struct det_pkt *p)
{
	const struct det_rule *r = er->r;
	uint32_t f = r->flow;
	bool ports = has_ports(p->proto);

	if (p->groups != 0 && (er->groups & p->groups) == 0)
		return false;
	if ((f & DET_FLOW_TO_SERVER) && !(p->flags & DET_PKT_TO_SERVER))
		return false;
	if ((f & DET_FLOW_TO_CLIENT) && !(p->flags & DET_PKT_TO_CLIENT))
		return false;
	if ((f & DET_FLOW_ESTABLISHED) && !(p->flags & DET_PKT_ESTABLISHED))
		return false;
	if ((f & DET_FLOW_NOT_ESTABLISHED) && (p->flags & DET_PKT_ESTABLISHED))
		return false;
	if (r->ports_apply && !ports)
		return false;
	if ((r->family != 0 && p->family != r->family) || (p->family == 0 && !r->pkthdr) ||
			(r->ev_family != 0 && p->family != 0 && p->family != r->ev_family) ||
			!events_ok(r, p))
		return false;
	if (!sides_ok(r, p, false, ports) && !(r->bidir && sides_ok(r, p, true, ports)))
		return false;
	return alp_ok(r, p) && dsize_ok(r, p->len) && tflags_ok(r, p) &&
	       (r->n_hdr == 0 || det_hdr_ok(r, p, &w->ictx));
}

static bool
header_ok(struct det_worker *w, const struct det_erule *er, const struct det_pkt *p)
{
	if (er->ip_only && !(p->flags & DET_PKT_FIRST))
		return false;
	if (er->pd_only && !(p->flags & DET_PKT_PROTO_DONE))
		return false;
	return app_ok(er->r, p) && header_common(w, er, p);
}

/* ---- flowbits ---- */

/* The flow's bits for this engine, cleared when they were written under another one. */
static uint8_t *
fb_bits(const struct det_engine *e, const struct det_pkt *p)
{
	uint64_t gen;

	if (p->flowbits == NULL || e->fb_bytes == 0)
		return NULL;
	/* The caller's memory need not be 8-byte aligned: the generation is copied. */
	memcpy(&gen, p->flowbits, sizeof(gen));
	if (gen != e->gen) {
		memset((uint8_t *)p->flowbits + 8, 0, e->fb_bytes - 8);
		memcpy(p->flowbits, &e->gen, sizeof(e->gen));
	}
	return (uint8_t *)p->flowbits + 8;
}

static bool
fb_isset(const uint8_t *bits, uint16_t b)
{
	return bits != NULL && (bits[b / 8] & (1u << (b % 8))) != 0;
}

/* flowint: is variable v set, and its value. */
static bool
fi_get(const struct det_erule *er, const uint8_t *bits, uint16_t v, uint32_t *val)
{
	if (bits == NULL || !(bits[er->fi_set_off + v / 8] & (1u << (v % 8))))
		return false;
	memcpy(val, bits + er->fi_val_off + 4u * v, 4);
	return true;
}

static void
fi_put(const struct det_erule *er, uint8_t *bits, uint16_t v, uint32_t val)
{
	bits[er->fi_set_off + v / 8] |= (uint8_t)(1u << (v % 8));
	memcpy(bits + er->fi_val_off + 4u * v, &val, 4);
}

/* Do the rule's flowint tests hold? A comparison needs the variable set. */
static bool
fi_ok(const struct det_erule *er, const uint8_t *bits)
{
	for (unsigned k = 0; k < er->n_fi; k++) {
		const struct det_efi *f = &er->fi[k];
		uint32_t x = 0;
		bool set = fi_get(er, bits, f->var, &x), ok;

		switch (f->op) {
		case DET_FI_EQ:
			ok = set && x == f->value;
			break;
		case DET_FI_NE:
			ok = set && x != f->value;
			break;
		case DET_FI_LT:
			ok = set && x < f->value;
			break;
		case DET_FI_LE:
			ok = set && x <= f->value;
			break;
		case DET_FI_GT:
			ok = set && x > f->value;
			break;
		case DET_FI_GE:
			ok = set && x >= f->value;
			break;
		case DET_FI_ISSET:
			ok = set;
			break;
		case DET_FI_NOTSET:
			ok = !set;
			break;
		default:
			ok = true; /* a change, not a test */
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}

/* Apply the rule's flowint changes (the rule matched). */
static void
fi_apply(const struct det_erule *er, uint8_t *bits)
{
	if (bits == NULL)
		return;
	for (unsigned k = 0; k < er->n_fi; k++) {
		const struct det_efi *f = &er->fi[k];
		uint32_t x = 0;

		if (f->op > DET_FI_SUB)
			continue;
		(void)fi_get(er, bits, f->var, &x);
		if (f->op == DET_FI_SET)
			x = f->value;
		else if (f->op == DET_FI_ADD)
			x = x > UINT32_MAX - f->value ? UINT32_MAX : x + f->value;
		else
			x = x > f->value ? x - f->value : 0;
		fi_put(er, bits, f->var, x);
	}
}

static bool
fb_ok(const struct det_erule *er, const uint8_t *bits)
{
	if (er->n_fi > 0 && !fi_ok(er, bits))
		return false;
	for (unsigned k = 0; k < er->n_fb; k++) {
		const struct det_efb *f = &er->fb[k];
		bool any = false;

		if (f->cmd != DET_FB_ISSET && f->cmd != DET_FB_ISNOTSET)
			continue;
		for (unsigned j = 0; j < f->n && !any; j++)
			any = fb_isset(bits, f->bit[j]);
		if (any != (f->cmd == DET_FB_ISSET))
			return false;
	}
	return true;
}

static void
fb_apply(const struct det_erule *er, uint8_t *bits)
{
	if (bits == NULL)
		return;
	for (unsigned k = 0; k < er->n_fb; k++) {
		const struct det_efb *f = &er->fb[k];
		uint8_t m = (uint8_t)(1u << (f->bit[0] % 8));

		switch (f->cmd) {
		case DET_FB_SET:
			bits[f->bit[0] / 8] |= m;
			break;
		case DET_FB_UNSET:
			bits[f->bit[0] / 8] &= (uint8_t)~m;
			break;
		case DET_FB_TOGGLE:
			bits[f->bit[0] / 8] ^= m;
			break;
		default:
			break;
		}
	}
}

/* ---- scan plumbing ---- */

static int
cls_of(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return CLS_TCP_PKT;
	case IPPROTO_UDP:
		return CLS_UDP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return CLS_ICMP;
	case IPPROTO_SCTP:
		return CLS_SCTP;
	default:
		return CLS_OTHER;
	}
}

static const struct det_group *
group_for(const struct det_engine *e, int cls, int dir, uint16_t server_port)
{
	const uint16_t *pm = e->portmap[cls][dir];
	int32_t gi;

	if (pm != NULL)
		gi = (int32_t)pm[server_port] - 1;
	else
		gi = e->deflt[cls][dir];
	return gi >= 0 ? &e->groups[gi] : NULL;
}

static void
scan_begin(struct det_worker *w, const struct det_group *g)
{
	if (++w->stamp == 0) {
		/* after 2^32 scans, old stamps could look current */
		memset(w->atom_stamp, 0, (size_t)w->atom_cap * sizeof(uint32_t));
		memset(w->cand_stamp, 0, (size_t)w->grule_cap * sizeof(uint32_t));
		w->stamp = 1;
	}
	w->g = g;
	w->n_cand = 0;
}

static inline void
cand_push(struct det_worker *w, uint32_t grule, uint32_t end)
{
	if (w->cand_stamp[grule] == w->stamp)
		return;
	w->cand_stamp[grule] = w->stamp;
	w->cand[w->n_cand].grule = grule;
	w->cand[w->n_cand].end = end;
	w->n_cand++;
}

/* The interval of a sorted index that holds a: the last start at or below it. */
static inline void
ipidx_push(struct det_worker *w, const struct det_ipidx *ix, uint32_t a)
{
	uint32_t lo = 0, hi = ix->n;

	if (ix->n == 0 || a < ix->lo[0])
		return;
	while (hi - lo > 1) {
		uint32_t mid = (lo + hi) / 2;

		if (ix->lo[mid] <= a)
			lo = mid;
		else
			hi = mid;
	}
	for (uint32_t i = ix->off[lo]; i < ix->off[lo + 1]; i++)
		cand_push(w, ix->ids[i], 0);
}

/*
 * The header rules of a group that may apply to p: every always rule, and on a flow
 * direction's first packet the IP-only rules, looked up by the packet's addresses.
 */
static inline void
push_header_rules(struct det_worker *w, const struct det_group *g, const struct det_pkt *p)
{
	for (uint32_t i = 0; i < g->n_always; i++)
		cand_push(w, g->always[i], 0);
	if (!(p->flags & DET_PKT_FIRST))
		return;
	for (uint32_t i = 0; i < g->n_ip_only; i++)
		cand_push(w, g->ip_only[i], 0);
	if (p->family == 4 && (g->idx[0].n > 0 || g->idx[1].n > 0)) {
		uint32_t src = (uint32_t)p->src[0] << 24 | (uint32_t)p->src[1] << 16 |
			       (uint32_t)p->src[2] << 8 | p->src[3];
		uint32_t dst = (uint32_t)p->dst[0] << 24 | (uint32_t)p->dst[1] << 16 |
			       (uint32_t)p->dst[2] << 8 | p->dst[3];

		ipidx_push(w, &g->idx[0], src);
		ipidx_push(w, &g->idx[1], dst);
	}
}

static int
block_cb(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx)
{
	struct det_worker *w = ctx;
	const struct det_group *g = w->g;

	(void)from;
	(void)flags;
	if (id >= g->n_gatoms)
		return 0;
	w->atom_stamp[id] = w->stamp;
	if (!g->gatoms[id].neg)
		cand_push(w, g->gatoms[id].grule, (uint32_t)to);
	return 0;
}

static int
stream_cb(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx)
{
	struct det_worker *w = ctx;
	const struct det_group *g = w->g;
	const struct det_gatom *a;

	(void)from;
	(void)flags;
	if (id >= g->n_gatoms)
		return 0;
	a = &g->gatoms[id];
	if (a->bit != DET_NO_BIT) {
		/* one part of a rule of several: the rule is a candidate once all are seen */
		const struct det_grule *gr = &g->grules[a->grule];
		uint32_t b0 = g->gatoms[gr->atom0].bit;

		w->bits[a->bit / 8] |= (uint8_t)(1u << (a->bit % 8));
		for (uint32_t k = 0; k < gr->n_pos; k++)
			if (!(w->bits[(b0 + k) / 8] & (1u << ((b0 + k) % 8))))
				return 0;
	}
	cand_push(w, a->grule, to > w->seg_base ? (uint32_t)(to - w->seg_base) : 0);
	return 0;
}

static int
match_cmp(const struct det_match *a, const struct det_match *b, const struct det_engine *e)
{
	const struct det_rule_info *x = &e->rules[a->rule].r->info, *y = &e->rules[b->rule].r->info;

	if (a->action != b->action)
		return a->action < b->action ? -1 : 1;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	if (x->sid != y->sid)
		return x->sid < y->sid ? -1 : 1;
	return 0;
}

/* Does a suppression by address of threshold.config silence this match? */
static bool
suppressed(const struct det_erule *er, const struct det_pkt *p)
{
	for (unsigned i = 0; i < er->n_sup; i++)
		if (det_thc_suppresses(er->sup[i], p->family, p->src, p->dst))
			return true;
	return false;
}

/* Accept a rule that matched: suppressions, thresholds, rate filter, then record. */
static void
emit(struct det_worker *w, uint32_t rule, const struct det_pkt *p, uint32_t end, uint32_t *n,
		uint8_t flags)
{
	const struct det_erule *er = &w->e->rules[rule];
	unsigned bits = DET_TH_APPLY | DET_TH_ALERT;
	uint8_t action = er->r->info.action;
	struct det_match *m;

	/* state changes are not subject to thresholds or suppressions (as Suricata) */
	if (er->n_fb > 0)
		fb_apply(er, fb_bits(w->e, p));
	if (er->n_fi > 0)
		fi_apply(er, fb_bits(w->e, p));
	if (er->n_sup > 0 && suppressed(er, p))
		return;
	if (er->th != NULL || er->rf != NULL) {
		const struct det_th_pkt tp = { p->src, p->dst, p->sport, p->dport, p->now_ns };

		if (er->th != NULL) {
			bits = det_thresh_check(
					w->th, er->r->info.gid, er->r->info.sid, er->th, &tp);
			if (!(bits & DET_TH_APPLY))
				return;
		}
		if (er->rf != NULL && det_rate_check(w->th, er->r->info.gid, er->r->info.sid,
						      er->rf, &tp))
			action = er->rf->new_action;
	}
	m = &w->mbuf[(*n)++];
	m->rule = rule;
	m->action = action;
	m->flags = flags;
	if ((bits & DET_TH_ALERT) && !er->r->noalert && !er->sup_all && action != DET_ACT_PASS)
		m->flags |= DET_M_ALERT;
	if (er->flow_scope)
		m->flags |= DET_M_FLOW;
	m->pad = 0;
	m->end = end;
}

/* Order, apply pass, copy out. */
static int
finish(struct det_worker *w, uint32_t n, struct det_match *out, unsigned max)
{
	const struct det_engine *e = w->e;

	/* insertion sort: there are few matches per packet */
	for (uint32_t i = 1; i < n; i++) {
		struct det_match x = w->mbuf[i];
		uint32_t j = i;

		while (j > 0 && match_cmp(&x, &w->mbuf[j - 1], e) < 0) {
			w->mbuf[j] = w->mbuf[j - 1];
			j--;
		}
		w->mbuf[j] = x;
	}
	if (n > 0 && w->mbuf[0].action == DET_ACT_PASS) {
		/* a pass rule lets the packet through: nothing else applies or alerts */
		uint32_t k = 0;

		while (k < n && w->mbuf[k].action == DET_ACT_PASS)
			k++;
		n = k;
	}
	if (n > max) {
		w->st.truncated += n - max;
		n = max;
	}
	if (n > 0)
		memcpy(out, w->mbuf, n * sizeof(*out));
	w->st.matches += n;
	return (int)n;
}

/* ---- block mode ---- */

int
det_scan_packet(struct det_worker *w, const struct det_pkt *p, struct det_match *m, unsigned max)
{
	const struct det_engine *e = w->e;
	const struct det_group *g;
	int dir = (p->flags & DET_PKT_TO_CLIENT) ? 1 : 0;
	uint32_t n = 0;
	uint8_t *fbits;

	w->st.packets++;
	g = group_for(e, cls_of(p->proto), dir, dir == 0 ? p->dport : p->sport);
	if (g == NULL)
		return 0;
	scan_begin(w, g);
	if (g->db != NULL && p->len > 0) {
		if (hs_scan(g->db, (const char *)p->payload, p->len, 0, w->scratch, block_cb, w) !=
				HS_SUCCESS)
			w->st.scan_errors++;
		w->st.bytes += p->len;
	}
	push_header_rules(w, g, p);
	w->st.candidates += w->n_cand;

	/*
	 * Rules that test flowbits go after the others, so that a bit set by a rule matching
	 * this packet is seen by a rule testing it (Suricata orders setters first).
	 */
	fbits = fb_bits(e, p);
	for (int pass = 0; pass < (e->n_fb_names > 0 || e->n_fi_names > 0 ? 2 : 1); pass++) {
		for (uint32_t c = 0; c < w->n_cand; c++) {
			const struct det_grule *gr = &g->grules[w->cand[c].grule];
			const struct det_erule *er = &e->rules[gr->rule];

			w->ictx.rule = gr->rule;
			uint32_t end = w->cand[c].end;
			bool ok = true;

			if (er->fb_test != (pass == 1))
				continue;
			if (!header_ok(w, er, p) || (er->fb_test && !fb_ok(er, fbits)))
				continue;
			if (er->kind == PLAN_EXACT) {
				for (uint32_t k = 0; k < gr->n_pos && ok; k++)
					ok = w->atom_stamp[gr->atom0 + k] == w->stamp;
				for (uint32_t k = 0; k < gr->n_neg && ok; k++)
					ok = w->atom_stamp[gr->atom0 + gr->n_pos + k] != w->stamp;
			} else if (er->kind != PLAN_HEADER) {
				w->st.confirms++;
				ok = det_confirm(er->r, p->payload, p->len, 0, &w->ictx, &end);
				if (!ok)
					w->st.confirm_fail++;
			}
			if (ok)
				emit(w, gr->rule, p, end, &n, 0);
		}
	}
	return finish(w, n, m, max);
}

int
det_scan_events(struct det_worker *w, const struct det_pkt *p, struct det_match *m, unsigned max)
{
	const struct det_engine *e = w->e;
	uint32_t n = 0;

	/* the class scans would have put p in (CLS_* and DET_CL_* share their order) */
	const uint32_t cl = 1u << cls_of(p->proto);

	if (e->n_ev_rules == 0)
		return 0;
	w->st.packets++;
	for (uint32_t i = 0; i < e->n_ev_rules; i++) {
		const struct det_erule *er = &e->rules[e->ev_rules[i]];

		w->ictx.rule = e->ev_rules[i];
		uint32_t end = 0;

		if (!(er->r->classes & cl) || !header_ok(w, er, p) ||
				(er->fb_test && !fb_ok(er, fb_bits(e, p))))
			continue;
		if (er->kind != PLAN_HEADER) {
			w->st.confirms++;
			if (!det_confirm(er->r, p->payload, p->len, 0, &w->ictx, &end)) {
				w->st.confirm_fail++;
				continue;
			}
		}
		emit(w, e->ev_rules[i], p, end, &n, 0);
	}
	return finish(w, n, m, max);
}

/* ---- streaming mode ---- */

static struct det_stream *
stream_hdr(void *state)
{
	return state;
}

static hs_stream_t *
stream_hs(void *state)
{
	return (hs_stream_t *)((char *)state + DET_STREAM_HDR);
}

static uint8_t *
stream_bits(const struct det_engine *e, void *state)
{
	return (uint8_t *)state + DET_STREAM_HDR + ((e->hs_stream_max + 63) & ~(size_t)63);
}

static uint8_t *
stream_win(const struct det_engine *e, void *state)
{
	return stream_bits(e, state) + e->bits_bytes;
}

uint64_t
det_stream_offset(const void *state)
{
	return ((const struct det_stream *)state)->offset;
}

int
det_stream_open(struct det_worker *w, void *state, size_t size, const struct det_pkt *p)
{
	const struct det_engine *e;
	struct det_stream *st = state;
	hs_stream_t *hs = NULL;
	int dir;

	if (w == NULL || state == NULL || p == NULL || ((uintptr_t)state & 15) != 0)
		return -EINVAL;
	e = w->e;
	if (size < e->stream_size)
		return -ENOSPC;
	memset(st, 0, sizeof(*st));
	memset(stream_bits(e, state), 0, e->bits_bytes);
	dir = (p->flags & DET_PKT_TO_CLIENT) ? 1 : 0;
	st->gen = e->gen;
	st->dir = (uint8_t)dir;
	st->g = group_for(e, CLS_TCP_STREAM, dir, dir == 0 ? p->dport : p->sport);
	st->open = true;
	if (st->g != NULL && st->g->db != NULL) {
		stream_mem = stream_hs(state);
		stream_mem_size = e->hs_stream_max;
		if (hs_open_stream(st->g->db, 0, &hs) != HS_SUCCESS ||
				hs != (hs_stream_t *)stream_hs(state)) {
			stream_mem = NULL;
			st->g = NULL;
			st->open = false;
			return -ENOSPC;
		}
		stream_mem = NULL;
	}
	return 0;
}

static bool
fired(const struct det_stream *st, uint32_t rule)
{
	for (uint32_t i = 0; i < st->n_fired; i++)
		if (st->fired[i] == rule)
			return true;
	return false;
}

/*
 * The bytes a stream confirmation sees: the window (recent bytes before this segment) and the
 * segment, as one buffer. Returns its length and its stream offset in *base.
 */
static uint32_t
confirm_buf(struct det_worker *w, void *state, const uint8_t *data, uint32_t len, uint64_t *base)
{
	struct det_stream *st = stream_hdr(state);
	uint32_t wl = st->win_len, skip = 0;

	if (len >= w->cbuf_cap) {
		skip = len - w->cbuf_cap;
		wl = 0;
	} else if (wl + len > w->cbuf_cap) {
		wl = w->cbuf_cap - len;
	}
	memcpy(w->cbuf, stream_win(w->e, state) + (st->win_len - wl), wl);
	memcpy(w->cbuf + wl, data + skip, len - skip);
	*base = st->offset + skip - wl;
	return wl + len - skip;
}

static void
window_update(const struct det_engine *e, void *state, const uint8_t *data, uint32_t len)
{
	struct det_stream *st = stream_hdr(state);
	uint32_t cap = e->opts.stream_window;
	uint8_t *win = stream_win(e, state);

	if (cap == 0 || len == 0)
		return;
	if (len >= cap) {
		memcpy(win, data + len - cap, cap);
		st->win_len = cap;
		return;
	}
	if (st->win_len + len > cap) {
		uint32_t keep = cap - len;

		memmove(win, win + st->win_len - keep, keep);
		st->win_len = keep;
	}
	memcpy(win + st->win_len, data, len);
	st->win_len += len;
}

static void
pending_add(struct det_stream *st, uint32_t grule, uint64_t hit_end)
{
	uint32_t i, oldest = 0;

	for (i = 0; i < st->n_pending; i++) {
		if (st->pending[i].grule == grule) {
			/* the later hit keeps the rule pending longer */
			if (hit_end > st->pending[i].hit_end)
				st->pending[i].hit_end = hit_end;
			return;
		}
		if (st->pending[i].hit_end < st->pending[oldest].hit_end)
			oldest = i;
	}
	if (st->n_pending < DET_STREAM_PENDING)
		i = st->n_pending++;
	else
		i = oldest;
	st->pending[i].grule = grule;
	st->pending[i].hit_end = hit_end;
}

static void
pending_del(struct det_stream *st, uint32_t grule)
{
	for (uint32_t i = 0; i < st->n_pending; i++)
		if (st->pending[i].grule == grule) {
			st->pending[i] = st->pending[--st->n_pending];
			return;
		}
}

/* Evaluate the candidates of a stream scan (data/len: this segment, maybe empty). */
static uint32_t
stream_eval(struct det_worker *w, void *state, const struct det_pkt *p, const uint8_t *data,
		uint32_t len)
{
	const struct det_engine *e = w->e;
	struct det_stream *st = stream_hdr(state);
	const struct det_group *g = st->g;
	uint64_t seg_end = st->offset + len, win = e->opts.stream_window;
	uint32_t n = 0, blen = 0;
	uint64_t base = 0;
	bool have_buf = false;
	uint8_t *fbits;

	/*
	 * Hits of earlier segments whose confirmation failed are tried again while their bytes
	 * are still in the window: the rest of the match may have arrived since.
	 */
	for (uint32_t i = 0; i < st->n_pending;) {
		if (seg_end - st->pending[i].hit_end > win) {
			st->pending[i] = st->pending[--st->n_pending];
			continue;
		}
		cand_push(w, st->pending[i].grule, 0);
		i++;
	}
	push_header_rules(w, g, p);
	w->st.candidates += w->n_cand;
	fbits = fb_bits(e, p);
	/* flowbits tests after the rules that may set them, as in block mode */
	for (int pass = 0; pass < (e->n_fb_names > 0 || e->n_fi_names > 0 ? 2 : 1); pass++) {
		for (uint32_t c = 0; c < w->n_cand; c++) {
			const struct det_grule *gr = &g->grules[w->cand[c].grule];
			const struct det_erule *er = &e->rules[gr->rule];
			uint32_t end = w->cand[c].end;

			w->ictx.rule = gr->rule;

			if (er->fb_test != (pass == 1))
				continue;
			if (er->kind != PLAN_EXACT && fired(st, gr->rule))
				continue;
			if (!header_ok(w, er, p) || (er->fb_test && !fb_ok(er, fbits)))
				continue;
			if (er->kind != PLAN_EXACT) {
				uint32_t mend;

				if (!have_buf) {
					blen = confirm_buf(w, state, data, len, &base);
					have_buf = true;
				}
				w->st.confirms++;
				if (!det_confirm(er->r, w->cbuf, blen, base, &w->ictx, &mend)) {
					w->st.confirm_fail++;
					if (er->kind == PLAN_CONFIRM && end > 0)
						pending_add(st, w->cand[c].grule, st->offset + end);
					continue;
				}
				pending_del(st, w->cand[c].grule);
				/* report the end within this segment when it lies there */
				end = base + mend > st->offset
						      ? (uint32_t)(base + mend - st->offset)
						      : 0;
				if (st->n_fired < DET_STREAM_FIRED)
					st->fired[st->n_fired++] = gr->rule;
			}
			emit(w, gr->rule, p, end, &n, 0);
		}
	}
	return n;
}

int
det_stream_scan(struct det_worker *w, void *state, const struct det_pkt *p, struct det_match *m,
		unsigned max)
{
	const struct det_engine *e = w->e;
	struct det_stream *st = stream_hdr(state);
	uint32_t len = p->len, n;
	uint64_t depth = e->opts.stream_depth;

	if (st->gen != e->gen)
		return -ESTALE;
	if (!st->open)
		return -EINVAL;
	w->st.segments++;
	if (st->g == NULL || len == 0) {
		st->offset += len;
		return 0;
	}
	if (depth != 0 && st->offset + len > depth) {
		uint64_t room = st->offset >= depth ? 0 : depth - st->offset;

		w->st.beyond_depth += len - room;
		len = (uint32_t)room;
		if (len == 0) {
			st->offset += p->len;
			return 0;
		}
	}
	scan_begin(w, st->g);
	w->seg_base = st->offset;
	w->bits = stream_bits(e, state);
	if (st->g->db != NULL) {
		if (hs_scan_stream(stream_hs(state), (const char *)p->payload, len, 0, w->scratch,
				    stream_cb, w) != HS_SUCCESS)
			w->st.scan_errors++;
		w->st.bytes += len;
	}
	n = stream_eval(w, state, p, p->payload, len);
	if (e->need_window)
		window_update(e, state, p->payload, len);
	st->offset += p->len;
	return finish(w, n, m, max);
}

int
det_stream_close(struct det_worker *w, void *state, const struct det_pkt *p, struct det_match *m,
		unsigned max)
{
	const struct det_engine *e = w->e;
	struct det_stream *st = stream_hdr(state);
	uint32_t n = 0;

	if (st->gen != e->gen)
		return -ESTALE;
	if (!st->open)
		return 0;
	st->open = false;
	if (st->g == NULL || st->g->db == NULL)
		return 0;
	scan_begin(w, st->g);
	w->seg_base = st->offset;
	w->bits = stream_bits(e, state);
	if (hs_reset_stream(stream_hs(state), 0, w->scratch, p != NULL ? stream_cb : NULL, w) !=
			HS_SUCCESS)
		w->st.scan_errors++;
	if (p == NULL)
		return 0;
	/* only what the end of data decided: the per-segment rules have had their turn */
	for (uint32_t c = 0; c < w->n_cand; c++) {
		const struct det_grule *gr = &st->g->grules[w->cand[c].grule];
		const struct det_erule *er = &e->rules[gr->rule];

		w->ictx.rule = gr->rule;
		if (er->kind == PLAN_EXACT && header_ok(w, er, p) &&
				(!er->fb_test || fb_ok(er, fb_bits(e, p))))
			emit(w, gr->rule, p, 0, &n, 0);
	}
	return finish(w, n, m, max);
}

/* ---- transactions ---- */

static void
tx_begin(struct det_worker *w)
{
	if (++w->txstamp == 0) {
		memset(w->txc_stamp, 0, (size_t)w->txc_cap * sizeof(uint32_t));
		for (uint32_t i = 0; i < w->xc_cap; i++)
			w->xc[i].stamp = 0;
		w->txstamp = 1;
	}
	w->n_txc = 0;
	w->xused = 0;
}

static inline void
txc_push(struct det_worker *w, uint32_t v)
{
	if (w->txc_stamp[v] == w->txstamp)
		return;
	w->txc_stamp[v] = w->txstamp;
	w->txc[w->n_txc++] = v;
}

static int
tx_cb(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx)
{
	struct det_worker *w = ctx;

	(void)from;
	(void)to;
	(void)flags;
	if (id < w->txdb->n_patterns)
		txc_push(w, w->txdb->var[id]);
	return 0;
}

/*
 * Instance idx of buffer al of tx, transformed by xkey when it is >= 0 (computed once per
 * call for the first DET_XC_INST instances). false when the transaction does not have it, or
 * its transform does not fit the worker's space.
 */
static bool
tx_buf(struct det_worker *w, const struct al_tx *tx, uint8_t al, int32_t xkey, unsigned idx,
		const uint8_t **p, uint32_t *len)
{
	const struct det_xkey *k;
	struct xcache *c = NULL;
	const uint8_t *raw;
	uint32_t rlen;
	int64_t n = -1;

	if (xkey < 0)
		return al_tx_buf(tx, (enum al_buf)al, idx, p, len);
	if (idx < DET_XC_INST) {
		c = &w->xc[(uint32_t)xkey * DET_XC_INST + idx];
		if (c->stamp == w->txstamp) {
			if (c->len == UINT32_MAX)
				return false;
			*p = w->xbuf + c->off;
			*len = c->len;
			return true;
		}
	}
	if (al_tx_buf(tx, (enum al_buf)al, idx, &raw, &rlen)) {
		k = &w->e->xkeys[xkey];
		n = det_xf_apply(k->xf, k->n_xf, raw, rlen, w->xbuf + w->xused,
				DET_XFORM_SPACE - w->xused);
		if (n < 0)
			w->st.xform_overflow++;
	}
	if (c != NULL) {
		c->stamp = w->txstamp;
		c->off = w->xused;
		c->len = n < 0 ? UINT32_MAX : (uint32_t)n;
	}
	if (n < 0)
		return false;
	*p = w->xbuf + w->xused;
	*len = (uint32_t)n;
	/* an uncached result is used at once and may be overwritten by the next one */
	if (c != NULL)
		w->xused += (uint32_t)n;
	return true;
}

/* Scan every instance of a database's buffer: its rules become candidates. */
static void
scan_txdb(struct det_worker *w, const struct al_tx *tx, const struct det_txdb *db,
		const struct det_pkt *p)
{
	w->txdb = db;
	if (db->al == AL_BUF_NONE) {
		/* rules whose only content is in the payload of the packet completing the stage */
		if (p->payload != NULL && p->len > 0) {
			w->st.tx_scans++;
			w->st.bytes += p->len;
			if (hs_scan(db->db, (const char *)p->payload, p->len, 0, w->scratch, tx_cb,
					    w) != HS_SUCCESS)
				w->st.scan_errors++;
		}
		return;
	}
	for (unsigned idx = 0; idx < (db->multi ? DET_TX_MAX_INST : 1u); idx++) {
		const uint8_t *b;
		uint32_t len;

		if (!tx_buf(w, tx, db->al, db->xkey, idx, &b, &len))
			break;
		if (len == 0)
			continue;
		w->st.tx_scans++;
		w->st.bytes += len;
		if (hs_scan(db->db, (const char *)b, len, 0, w->scratch, tx_cb, w) != HS_SUCCESS)
			w->st.scan_errors++;
	}
}

/* Do the items of one buffer match (any instance of a buffer of several)? */
static bool
span_ok(struct det_worker *w, const struct al_tx *tx, const struct det_txspan *ts,
		const struct det_pkt *p)
{
	if (ts->al == AL_BUF_NONE)
		return det_confirm_items(ts->items, ts->n, p->payload, p->payload ? p->len : 0, 0,
				&w->ictx, NULL);
	for (unsigned idx = 0; idx < (ts->multi ? DET_TX_MAX_INST : 1u); idx++) {
		const uint8_t *b;
		uint32_t len;

		if (!tx_buf(w, tx, ts->al, ts->xkey, idx, &b, &len))
			return false;
		if (det_confirm_items(ts->items, ts->n, b, len, 0, &w->ictx, NULL))
			return true;
	}
	return false;
}

/* Does every number the rule tests hold (of a number of several: any, all or one instance)? */
static bool
nums_ok(const struct det_rule *r, unsigned dir, const struct al_tx *tx)
{
	for (unsigned k = 0; k < r->n_nums; k++) {
		const struct det_num *num = &r->nums[k];
		const struct al_num_info *ni = al_num_info((enum al_num)num->al[dir]);
		unsigned inst = ni != NULL && (ni->flags & AL_BUF_MULTI) ? DET_TX_MAX_INST : 1u;
		enum al_num an = (enum al_num)num->al[dir];
		bool ok = false;
		unsigned have = 0;
		uint64_t v;

		if (num->inst == DET_NI_INDEX) {
			unsigned idx;

			if (num->index >= 0) {
				idx = (unsigned)num->index;
			} else {
				/* from the last: count the instances first */
				while (have < inst && al_tx_num(tx, an, have, &v))
					have++;
				if ((unsigned)-num->index > have)
					return false;
				idx = have - (unsigned)-num->index;
			}
			if (!al_tx_num(tx, an, idx, &v) || !det_cmp_ok(&num->cmp, v))
				return false;
			continue;
		}
		if (num->inst == DET_NI_ALL) {
			for (have = 0; have < inst && al_tx_num(tx, an, have, &v); have++)
				if (!det_cmp_ok(&num->cmp, v))
					return false;
			if (have == 0)
				return false;
			continue;
		}
		for (unsigned idx = 0; idx < inst && !ok; idx++) {
			if (!al_tx_num(tx, an, idx, &v))
				break;
			ok = det_cmp_ok(&num->cmp, v);
		}
		if (!ok)
			return false;
	}
	return true;
}

/* p as seen by a rule inspecting direction vdir when the data of direction dir arrived. */
static void
orient(const struct det_pkt *p, unsigned vdir, unsigned dir, struct det_pkt *q)
{
	*q = *p;
	q->flags &= (uint8_t) ~(DET_PKT_TO_SERVER | DET_PKT_TO_CLIENT);
	q->flags |= vdir == AL_TO_SERVER ? DET_PKT_TO_SERVER : DET_PKT_TO_CLIENT;
	if (vdir != dir) {
		q->src = p->dst;
		q->dst = p->src;
		q->sport = p->dport;
		q->dport = p->sport;
	}
}

int
det_scan_tx(struct det_worker *w, const struct det_pkt *p, const struct al_tx *tx, unsigned stage,
		unsigned dir, struct det_match *m, unsigned max)
{
	const struct det_engine *e = w->e;
	struct det_pkt q[2];
	uint32_t n = 0, ready, first, count;
	uint8_t l4, *fbits;

	w->st.tx_events++;
	if (tx == NULL || p == NULL || tx->proto >= AL_PROTO__COUNT)
		return 0;
	first = e->tx_first[tx->proto];
	count = e->tx_count[tx->proto];
	if (count == 0)
		return 0;
	ready = tx->ready | stage;
	dir &= 1;
	tx_begin(w);
	for (uint32_t i = first; i < first + count; i++) {
		const struct det_txset *s = &e->txsets[i];

		/*
		 * The rules decided at this stage; and, should the stages come out of their
		 * usual order, those whose last stage came already and that need this one.
		 */
		if (s->stage != stage &&
				!((s->stage & ready) && s->stage > stage && (s->stages & stage)))
			continue;
		for (uint32_t k = 0; k < s->n_dbs; k++)
			scan_txdb(w, tx, &s->dbs[k], p);
		for (uint32_t k = 0; k < s->n_always; k++)
			txc_push(w, s->always[k]);
	}
	if (w->n_txc == 0)
		return 0;
	w->st.candidates += w->n_txc;
	orient(p, AL_TO_SERVER, dir, &q[AL_TO_SERVER]);
	orient(p, AL_TO_CLIENT, dir, &q[AL_TO_CLIENT]);
	l4 = p->proto == IPPROTO_TCP ? DET_L4_TCP : p->proto == IPPROTO_UDP ? DET_L4_UDP : 0;
	fbits = fb_bits(e, p);
	/* flowbits tests after the rules that may set them, as in block mode */
	for (int pass = 0; pass < (e->n_fb_names > 0 || e->n_fi_names > 0 ? 2 : 1); pass++) {
		for (uint32_t c = 0; c < w->n_txc; c++) {
			const struct det_txvar *v = &e->txvars[w->txc[c]];
			const struct det_erule *er = &e->rules[v->rule];
			const struct det_rule *r = er->r;
			const struct det_pkt *qp = &q[v->dir];
			bool ok = true;

			w->ictx.rule = v->rule;

			/* once: when the last stage it needs is this one */
			if (!(v->stages & stage) || (v->stages & ~ready))
				continue;
			if (er->fb_test != (pass == 1) || !(r->l4 & l4))
				continue;
			if (!header_common(w, er, qp) || (er->fb_test && !fb_ok(er, fbits)))
				continue;
			if ((tx->anomalies & r->anomalies) != r->anomalies ||
					!nums_ok(r, v->dir, tx))
				continue;
			w->st.confirms++;
			for (uint32_t k = 0; k < v->n_spans && ok; k++)
				ok = span_ok(w, tx, &v->spans[k], qp);
			if (!ok) {
				w->st.confirm_fail++;
				continue;
			}
			emit(w, v->rule, qp, 0, &n, DET_M_TX);
		}
	}
	return finish(w, n, m, max);
}
