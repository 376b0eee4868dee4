/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "al.h"
#include "al_dns.h"
#include "al_config.h"
#include "det_engine.h"
#include "dp_crc.h"
#include "dp_evq.h"
#include "dp_inspect.h"
#include "dp_tcp.h"
#include "vg_log.h"

#define MAX_MATCHES 16
#define SLOT_ALIGN  64

/* Bytes of each direction's latest new segment kept to compare retransmissions with. */
#define SLOT_HEAD 32

/* A TCP flow's stream facts the rules read (stream_size): each side's initial sequence number
 * as Suricata counts it (the SYN's, or the first seen less one). */
struct slot_tcp {
	uint32_t isn[2];
	uint8_t known; /* bit d: isn[d] set */
	uint8_t head_len[2];
	uint8_t pad;
	/* Per direction, the first bytes of the latest segment that brought new data, from
	 * head_seq: a later copy of those sequence numbers is compared with them, so that two
	 * segments that disagree on the same bytes (a TCP injection racing the real answer, an
	 * evasion that counts on the receiver keeping one of them) are seen. */
	uint32_t head_seq[2];
	uint8_t head[2][SLOT_HEAD];
	/* And the whole of that segment as a checksum (its first byte, length, CRC-32C), so that
	 * a copy of it that differs beyond its head is seen too. */
	uint32_t seg_seq[2];
	uint32_t seg_len[2];
	uint32_t seg_crc[2];
	/* Each direction's latest window field (unscaled), for judging the other's RSTs. */
	uint16_t win[2];
	uint8_t win_known; /* bit d: win[d] set */
};

#define SLOT_FB_OFF(in) (2 * (in)->stream_room + sizeof(struct slot_tcp))

struct dp_inspect {
	unsigned worker;
	int socket;
	struct det_worker *det;
	const struct det_engine *engine; /* the engine det is bound to */
	/* Slot pool: [stream 0][stream 1][struct slot_tcp][flowbits], slot_size bytes each. */
	uint8_t *slots;
	uint32_t slot_size;
	uint32_t stream_size; /* det_stream_state_size() of the engine */
	uint32_t stream_room; /* stream_size rounded up to SLOT_ALIGN */
	uint32_t max_flows;
	uint32_t *free_list;
	uint32_t n_free;
	uint16_t gen;  /* changes when the pool is reallocated: older slot numbers are void */
	bool flowbits; /* the engine has flowbits: every inspected flow needs a slot */
	unsigned n_rules;
	struct al_ctx *al;	    /* application-layer parsers (NULL: off) */
	uint8_t exc[VG_EXC__COUNT]; /* exception policies (enum vg_exc_action) */
	uint64_t budget_tsc;	    /* a packet's inspection time over which packet_budget
				     * applies (0: not measured) */
	uint8_t linear[16384];	    /* the payload of a frame over several segments */
	struct dp_inspect_counters ctr;
};

struct dp_inspect *
dp_inspect_create(unsigned worker, uint32_t max_flows, int socket, const struct al_config *alc)
{
	struct dp_inspect *in =
			rte_zmalloc_socket("dp_inspect", sizeof(*in), RTE_CACHE_LINE_SIZE, socket);

	if (in == NULL)
		return NULL;
	in->worker = worker;
	in->socket = socket;
	in->max_flows = max_flows;
	in->gen = 1;
	if (alc != NULL && alc->enabled) {
		in->al = al_ctx_create(&alc->lim);
		if (in->al == NULL) {
			rte_free(in);
			return NULL;
		}
	}
	return in;
}

void
dp_inspect_free(struct dp_inspect *in)
{
	if (in == NULL)
		return;
	det_worker_free(in->det);
	al_ctx_free(in->al);
	rte_free(in->slots);
	rte_free(in->free_list);
	rte_free(in);
}

/* A pool of slots big enough for engine e; the old pool goes (and every stream with it). */
static int
grow_pool(struct dp_inspect *in, const struct det_engine *e)
{
	uint32_t ss = (uint32_t)det_stream_state_size(e);
	uint32_t room = RTE_ALIGN_CEIL(ss, SLOT_ALIGN);
	uint32_t size = 2 * room +
			RTE_ALIGN_CEIL((uint32_t)(sizeof(struct slot_tcp) + det_flowbits_size(e)),
					SLOT_ALIGN);
	uint8_t *slots;
	uint32_t *fl;

	if (size <= in->slot_size && room == in->stream_room) {
		in->stream_size = ss;
		return 0;
	}
	slots = rte_zmalloc_socket(
			"dp_inspect_slots", (size_t)size * in->max_flows, SLOT_ALIGN, in->socket);
	fl = rte_malloc_socket("dp_inspect_free", sizeof(uint32_t) * in->max_flows, 0, in->socket);
	if (slots == NULL || fl == NULL) {
		rte_free(slots);
		rte_free(fl);
		return -ENOMEM;
	}
	rte_free(in->slots);
	rte_free(in->free_list);
	in->slots = slots;
	in->free_list = fl;
	for (uint32_t i = 0; i < in->max_flows; i++)
		fl[i] = in->max_flows - 1 - i;
	in->n_free = in->max_flows;
	in->slot_size = size;
	in->stream_size = ss;
	in->stream_room = room;
	in->gen++;
	DP_LOG(INFO, "worker %u: %u inspection slots of %u bytes (%.1f MiB)", in->worker,
			in->max_flows, size, (double)size * in->max_flows / (1 << 20));
	return 0;
}

const struct det_engine *
dp_inspect_follow(struct dp_inspect *in, const struct det_engine *e)
{
	int rc;

	/* An empty set (every rule removed through the API) scans nothing: skip the calls. */
	if (likely(e == in->engine))
		return in->det != NULL && in->n_rules > 0 ? e : NULL;
	if (e == NULL) {
		in->engine = NULL;
		return NULL;
	}
	/* After a reload only: the scratch and the pool may grow here, on the worker thread. */
	if (in->det == NULL) {
		in->det = det_worker_create(e, in->socket);
		rc = in->det == NULL ? -ENOMEM : 0;
		if (in->det != NULL) /* its row in the engines' per-rule counters */
			det_worker_set_index(in->det, in->worker);
	} else {
		rc = det_worker_rebind(in->det, e);
	}
	if (rc == 0)
		rc = grow_pool(in, e);
	in->engine = e;
	in->flowbits = det_flowbits_size(e) > 0;
	in->n_rules = det_engine_rule_count(e);
	if (rc != 0) {
		in->ctr.rebind_failures++;
		DP_LOG(ERR, "worker %u: no memory for the signature engine; inspection is off",
				in->worker);
		det_worker_free(in->det);
		in->det = NULL;
		return NULL;
	}
	in->ctr.rebinds++;
	return in->n_rules > 0 ? e : NULL;
}

void
dp_inspect_flow_end(struct dp_inspect *in, struct dp_flow *f)
{
	if (f->det_slot != UINT32_MAX && f->det_gen == in->gen)
		in->free_list[in->n_free++] = f->det_slot;
	f->det_slot = UINT32_MAX;
	if (f->al != NULL) {
		al_flow_free(in->al, f->al);
		f->al = NULL;
	}
}

void
dp_inspect_set_exceptions(struct dp_inspect *in, const uint8_t *actions)
{
	memcpy(in->exc, actions, sizeof(in->exc));
}

void
dp_inspect_set_budget(struct dp_inspect *in, uint32_t ns)
{
	/* At least one tick: a budget shorter than the clock's resolution is still a budget. */
	in->budget_tsc = ns == 0 ? 0
				 : RTE_MAX((uint64_t)ns * rte_get_tsc_hz() / 1000000000u,
						   (uint64_t)1);
}

static uint8_t *
flow_slot(struct dp_inspect *in, struct dp_flow *f)
{
	if (f->det_slot != UINT32_MAX && f->det_gen == in->gen)
		return in->slots + (size_t)f->det_slot * in->slot_size;
	if (f->det_flags & DP_DET_NOSLOT)
		return NULL;
	if (in->n_free == 0) {
		in->ctr.no_slot++;
		f->det_flags |= DP_DET_NOSLOT;
		return NULL;
	}
	f->det_slot = in->free_list[--in->n_free];
	f->det_gen = in->gen;
	/* A fresh slot: no stream open, flowbits zero. */
	f->det_flags &= (uint8_t) ~(DP_DET_OPEN0 | DP_DET_OPEN1);
	uint8_t *s = in->slots + (size_t)f->det_slot * in->slot_size;
	memset(s + 2 * in->stream_room, 0, in->slot_size - 2 * in->stream_room);
	return s;
}

/* The payload bytes an alert shows: up to the match's end (or the start), at most 100. */
static void
set_excerpt(struct dp_event *ev, const uint8_t *payload, uint32_t len, uint32_t mend)
{
	const uint32_t cap = sizeof(ev->alert.excerpt);
	uint32_t end = mend > 0 && mend <= len ? mend : (len < cap ? len : cap);
	uint32_t start = end > cap ? end - cap : 0;

	ev->alert.excerpt_len = (uint8_t)(end - start);
	if (payload != NULL)
		memcpy(ev->alert.excerpt, payload + start, end - start);
}

/*
 * One (field, length, value) record of a TXMETA: a text value is cut to max and to what is left
 * of the room, and then marked DP_TM_CUT, so that the reader never takes a part for the whole.
 */
static void
meta_put(struct dp_event_txmeta *tm, uint8_t field, const uint8_t *v, uint32_t len, uint32_t max)
{
	uint32_t room = DP_TXMETA_DATA - tm->len;

	if (room < 3)
		return;
	if (len > max) {
		len = max;
		field |= DP_TM_CUT;
	}
	if (len > room - 2) {
		len = room - 2;
		field |= DP_TM_CUT;
	}
	tm->data[tm->len] = field;
	tm->data[tm->len + 1] = (uint8_t)len;
	memcpy(tm->data + tm->len + 2, v, len);
	tm->len = (uint8_t)(tm->len + 2 + len);
}

static void
meta_buf(struct dp_event_txmeta *tm, const struct al_tx *tx, uint8_t field, enum al_buf b,
		unsigned idx, uint32_t max)
{
	const uint8_t *v;
	uint32_t len;

	if (al_tx_buf(tx, b, idx, &v, &len) && len > 0)
		meta_put(tm, field, v, len, max);
}

/* A number is whole or absent: a cut one would read as another number. */
static void
meta_num_at(struct dp_event_txmeta *tm, const struct al_tx *tx, uint8_t field, enum al_num n,
		unsigned idx, unsigned bytes)
{
	uint8_t be[4];
	uint64_t v;

	if ((unsigned)(DP_TXMETA_DATA - tm->len) < 2 + bytes || !al_tx_num(tx, n, idx, &v))
		return;
	for (unsigned i = 0; i < bytes; i++)
		be[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	meta_put(tm, field, be, bytes, bytes);
}

static void
meta_num(struct dp_event_txmeta *tm, const struct al_tx *tx, uint8_t field, enum al_num n,
		unsigned bytes)
{
	meta_num_at(tm, tx, field, n, 0, bytes);
}

/*
 * DNS: the header, then each question (name, type) and each answer (owner name, type) in order
 * while they fit: a name that does not fit whole is cut, and what follows it is left out.
 */
static void
meta_dns(struct dp_event_txmeta *tm, const struct al_tx *tx)
{
	enum al_buf qb = AL_BUF_DNS_QUERY;
	const uint8_t *v;
	uint32_t len;
	uint64_t t;

	meta_num(tm, tx, DP_TM_DNS_ID, AL_NUM_DNS_ID, 2);
	meta_num(tm, tx, DP_TM_DNS_FLAGS, AL_NUM_DNS_FLAGS, 2);
	meta_num(tm, tx, DP_TM_DNS_RCODE, AL_NUM_DNS_RCODE, 2);
	if (!al_tx_buf(tx, qb, 0, &v, &len))
		qb = AL_BUF_DNS_RESP_QUERY; /* a response without its request */
	for (unsigned i = 0; i < 8 && al_tx_buf(tx, qb, i, &v, &len); i++) {
		if ((unsigned)(DP_TXMETA_DATA - tm->len) < 2 + len + 4)
			return;
		meta_put(tm, DP_TM_DNS_RRNAME, v, len, 255);
		meta_num_at(tm, tx, DP_TM_DNS_RRTYPE, AL_NUM_DNS_QTYPE, i, 2);
	}
	for (unsigned i = 0; i < 8 && al_tx_num(tx, AL_NUM_DNS_ANSWER_TYPE, i, &t); i++) {
		if (!al_tx_buf(tx, AL_BUF_DNS_ANSWER_NAME, i, &v, &len)) {
			v = (const uint8_t *)""; /* the root */
			len = 0;
		}
		if ((unsigned)(DP_TXMETA_DATA - tm->len) < 2 + len + 4)
			return;
		meta_put(tm, DP_TM_DNS_ANSWER_RRNAME, v, len, 255);
		meta_num_at(tm, tx, DP_TM_DNS_ANSWER_RRTYPE, AL_NUM_DNS_ANSWER_TYPE, i, 2);
	}
}

/*
 * The facts of tx an EVE alert shows (Suricata's http, dns, tls ... objects), most telling
 * first: what does not fit in the 234 bytes is cut (marked) or left out, from the end.
 */
static void
fill_txmeta(struct dp_event_txmeta *tm, const struct al_tx *tx)
{
	tm->proto = tx->proto;
	switch (tx->proto) {
	case AL_PROTO_HTTP:
		meta_buf(tm, tx, DP_TM_HTTP_HOST, AL_BUF_HTTP_HOST, 0, 64);
		meta_buf(tm, tx, DP_TM_HTTP_URL, AL_BUF_HTTP_URI_RAW, 0, 128);
		meta_buf(tm, tx, DP_TM_HTTP_METHOD, AL_BUF_HTTP_METHOD, 0, 16);
		meta_buf(tm, tx, DP_TM_HTTP_PROTOCOL, AL_BUF_HTTP_PROTOCOL_REQ, 0, 12);
		meta_num(tm, tx, DP_TM_HTTP_STATUS, AL_NUM_HTTP_STATUS, 2);
		meta_num(tm, tx, DP_TM_HTTP_LENGTH, AL_NUM_HTTP_RESP_BODY_LEN, 4);
		meta_buf(tm, tx, DP_TM_HTTP_CTYPE, AL_BUF_HTTP_CONTENT_TYPE_RESP, 0, 32);
		meta_buf(tm, tx, DP_TM_HTTP_UA, AL_BUF_HTTP_USER_AGENT, 0, 64);
		meta_buf(tm, tx, DP_TM_HTTP_LOCATION, AL_BUF_HTTP_LOCATION, 0, 64);
		break;
	case AL_PROTO_DNS:
		meta_dns(tm, tx);
		break;
	case AL_PROTO_TLS:
		meta_num(tm, tx, DP_TM_TLS_VERSION, AL_NUM_TLS_VERSION, 2);
		meta_buf(tm, tx, DP_TM_TLS_SNI, AL_BUF_TLS_SNI, 0, 64);
		meta_buf(tm, tx, DP_TM_TLS_SUBJECT, AL_BUF_TLS_CERT_SUBJECT, 0, 64);
		meta_buf(tm, tx, DP_TM_TLS_ISSUER, AL_BUF_TLS_CERT_ISSUER, 0, 64);
		meta_buf(tm, tx, DP_TM_TLS_JA3, AL_BUF_TLS_JA3_HASH, 0, 32);
		meta_buf(tm, tx, DP_TM_TLS_JA3S, AL_BUF_TLS_JA3S_HASH, 0, 32);
		meta_buf(tm, tx, DP_TM_TLS_SERIAL, AL_BUF_TLS_CERT_SERIAL, 0, 64);
		break;
	case AL_PROTO_SSH:
		meta_buf(tm, tx, DP_TM_SSH_CLIENT_PROTO, AL_BUF_SSH_PROTO_CLIENT, 0, 8);
		meta_buf(tm, tx, DP_TM_SSH_CLIENT_SW, AL_BUF_SSH_SOFTWARE_CLIENT, 0, 96);
		meta_buf(tm, tx, DP_TM_SSH_SERVER_PROTO, AL_BUF_SSH_PROTO_SERVER, 0, 8);
		meta_buf(tm, tx, DP_TM_SSH_SERVER_SW, AL_BUF_SSH_SOFTWARE_SERVER, 0, 96);
		break;
	case AL_PROTO_SMTP:
		meta_buf(tm, tx, DP_TM_SMTP_HELO, AL_BUF_SMTP_HELO, 0, 64);
		meta_buf(tm, tx, DP_TM_SMTP_MAIL_FROM, AL_BUF_SMTP_MAIL_FROM, 0, 64);
		for (unsigned i = 0; i < 8; i++)
			meta_buf(tm, tx, DP_TM_SMTP_RCPT_TO, AL_BUF_SMTP_RCPT_TO, i, 64);
		break;
	case AL_PROTO_FTP:
		meta_buf(tm, tx, DP_TM_FTP_COMMAND, AL_BUF_FTP_COMMAND, 0, 16);
		meta_buf(tm, tx, DP_TM_FTP_COMMAND_DATA, AL_BUF_FTP_COMMAND_DATA, 0, 128);
		meta_num(tm, tx, DP_TM_FTP_REPLY_CODE, AL_NUM_FTP_REPLY_CODE, 2);
		meta_buf(tm, tx, DP_TM_FTP_REPLY, AL_BUF_FTP_REPLY, 0, 128);
		break;
	default:
		break;
	}
}

/* What one packet's inspection works with, for the helpers and the transaction callback. */
struct scan_ctx {
	struct dp_inspect *in;
	const struct det_engine *e; /* NULL: parse only (facts for the flow's events) */
	struct dp_flow_table *t;
	int32_t pos;
	struct dp_flow *f;
	struct det_pkt *dp; /* the packet: header, flags, flowbits, groups */
	unsigned dir;	    /* of the packet */
	bool dry;
	uint64_t now;
	struct dp_evq *evq;
	enum dp_inspect_verdict v;
	struct dp_event_app *app; /* DNS facts for the flow's events (NULL: not wanted) */
	bool have_app;
};

/* What a reject rule asks for: an answer to the sender, a reset to the receiver, or both. */
static enum dp_inspect_verdict
reject_verdict(const struct det_rule_info *ri)
{
	if (ri != NULL && ri->reject_to == DET_REJ_DST)
		return DP_INSPECT_REJECT_DST;
	if (ri != NULL && ri->reject_to == DET_REJ_BOTH)
		return DP_INSPECT_REJECT_BOTH;
	return DP_INSPECT_REJECT;
}

static void inspect_exception(struct scan_ctx *c, enum vg_exc_cond cond);

/* Verdicts and alerts of matches. payload/len: where packet matches are placed. */
static void
apply_matches(struct scan_ctx *c, const struct det_match *m, int n, const uint8_t *payload,
		uint32_t len, const struct al_tx *tx)
{
	struct dp_inspect *in = c->in;
	struct dp_flow *f = c->f;

	for (int i = 0; i < n; i++) {
		bool drop = m[i].action == DET_ACT_DROP || m[i].action == DET_ACT_REJECT;

		if (m[i].action == DET_ACT_PASS && (m[i].flags & DET_M_FLOW)) {
			f->det_flags |= DP_DET_PASS;
			in->ctr.passed++;
		}
		if (drop && c->v == DP_INSPECT_FORWARD) {
			if (c->dry) {
				in->ctr.would_drop++;
				dp_flow_hot(f)->flags |= DP_FF_WOULD_DROP;
			} else {
				c->v = m[i].action == DET_ACT_REJECT
						       ? reject_verdict(det_engine_rule_info(
									 c->e, m[i].rule))
						       : DP_INSPECT_DROP;
				/* A rule that decides for the flow (stream, IP-only, transaction)
				 * takes the rest of it, both directions; a packet rule only this
				 * packet, as in Suricata. Later packets of a flow reset towards
				 * the receiver are dropped; the others answered to their sender. */
				if (m[i].flags & DET_M_FLOW)
					dp_flow_hot(f)->verdict =
							c->v == DP_INSPECT_REJECT || c->v == DP_INSPECT_REJECT_BOTH
									? DP_VERDICT_REJECT
									: DP_VERDICT_DROP;
				in->ctr.dropped++;
			}
		}
		if (!(m[i].flags & DET_M_ALERT))
			continue;
		const struct det_rule_info *ri = det_engine_rule_info(c->e, m[i].rule);
		struct dp_event *ev;

		if (ri == NULL)
			continue;
		/* An alert control's ring cannot take now would be lost: the exception decides
		 * the packet (the alert is still queued: control may make room first). */
		if (unlikely(!dp_evq_room(c->evq, tx != NULL ? 2 : 1)))
			inspect_exception(c, VG_EXC_EVENT_RING_FULL);
		if (tx != NULL) {
			/* The transaction's facts go just before the alert, on the same ring. */
			ev = dp_evq_next(c->evq, DP_EV_TXMETA, c->now);
			ev->txmeta.flow_id = f->id;
			fill_txmeta(&ev->txmeta, tx);
		}
		ev = dp_evq_next(c->evq, DP_EV_ALERT, c->now);
		dp_flow_describe(c->t, c->pos, &ev->flow);
		ev->alert.sid = ri->sid;
		ev->alert.gid = ri->gid;
		ev->alert.rev = ri->rev;
		ev->alert.action = m[i].action;
		ev->alert.dropped = drop && !c->dry;
		ev->alert.to_server = c->dir == 0;
		ev->alert.tx = tx != NULL;
		set_excerpt(ev, payload, len, tx != NULL ? 0 : m[i].end);
		in->ctr.alerts++;
	}
}

/* a before b in sequence space */
static inline bool
seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/*
 * The part of a TCP segment that is new, in sequence order (*data, *len: retransmitted bytes
 * skipped); moves the direction's next expected byte. Returns the bytes missing before it (a
 * gap: a segment lost, or arriving out of order), 0 when it follows on.
 */
static uint32_t
stream_next(struct dp_inspect *in, struct dp_flow *f, const struct dp_pkt *p, unsigned dir,
		const uint8_t **data, uint32_t *len)
{
	const uint8_t known = dir ? DP_DET_SEQ1 : DP_DET_SEQ0;
	uint32_t seq = p->tcp_seq;
	uint32_t whole = *len, gap = 0;

	if (p->tcp_flags & DP_TCPF_SYN) {
		/* The SYN takes one sequence number; its data (TCP fast open) follows it. */
		seq++;
	}
	if (!(f->det_flags & known)) {
		f->next_seq[dir] = seq;
		f->det_flags |= known;
	}
	if (whole == 0) {
		if (p->tcp_flags & DP_TCPF_SYN)
			f->next_seq[dir] = seq;
		return 0;
	}
	if (seq_lt(seq, f->next_seq[dir])) {
		uint32_t skip = f->next_seq[dir] - seq;

		if (skip >= whole) {
			in->ctr.retransmitted++;
			*len = 0;
			return 0;
		}
		*data += skip;
		*len -= skip;
	} else if (seq != f->next_seq[dir]) {
		in->ctr.stream_gaps++;
		gap = seq - f->next_seq[dir];
	}
	/* What the segment covers, retransmitted bytes included, moves the next expected byte. */
	if (seq_lt(f->next_seq[dir], seq + whole))
		f->next_seq[dir] = seq + whole;
	return gap;
}

/*
 * Compare the bytes a segment repeats with those kept from the first copy (the head of the
 * latest new segment; and, for a copy of that whole segment, its checksum), then keep the head
 * and the checksum of what it brings that is new. seq is the segment's first data byte, next
 * the direction's next expected byte before it (known: set). Returns true when a repeated byte
 * differs.
 */
static bool
stream_overlap(struct slot_tcp *st, unsigned dir, uint32_t seq, const uint8_t *data, uint32_t len,
		uint32_t next, bool known)
{
	uint32_t end = seq + len, fresh = seq;
	bool differs = false;

	if (known && seq_lt(seq, next)) {
		uint32_t hs = st->head_seq[dir], he = hs + st->head_len[dir];
		uint32_t lo = seq_lt(seq, hs) ? hs : seq;
		uint32_t hi = seq_lt(end, next) ? end : next;

		if (seq_lt(he, hi))
			hi = he;
		if (seq_lt(lo, hi))
			differs = memcmp(data + (lo - seq), st->head[dir] + (lo - hs), hi - lo) !=
				  0;
		/* The same segment again (a retransmission, or a forged copy racing it): all of
		 * it, beyond the head. */
		if (!differs && len > SLOT_HEAD && seq == st->seg_seq[dir] &&
				len == st->seg_len[dir])
			differs = dp_crc32c(data, len, 0) != st->seg_crc[dir];
		fresh = next;
	}
	if (seq_lt(fresh, end)) {
		uint32_t n = end - fresh < SLOT_HEAD ? end - fresh : SLOT_HEAD;

		st->head_seq[dir] = fresh;
		st->head_len[dir] = (uint8_t)n;
		memcpy(st->head[dir], data + (fresh - seq), n);
		st->seg_seq[dir] = seq;
		st->seg_len[dir] = len;
		st->seg_crc[dir] = len > SLOT_HEAD ? dp_crc32c(data, len, 0) : 0;
	}
	return differs;
}

/*
 * Whether an RST from dir with sequence number seq lies outside every window its receiver could
 * have offered: further from next (the next byte dir was expected to send) than the receiver's
 * latest window field at the largest scale RFC 7323 allows (14), or 65535 << 14 when the
 * receiver has sent nothing yet. A blind injection guesses the number and mostly lands there;
 * a real RST carries next or a number within the window.
 */
static bool
rst_out_of_window(const struct slot_tcp *st, unsigned dir, uint32_t seq, uint32_t next)
{
	const unsigned rcv = dir ^ 1;
	const uint64_t win = (uint64_t)((st->win_known >> rcv) & 1 ? st->win[rcv] : 65535) + 1;
	const uint64_t bound = win << 14;
	const int64_t off = (int32_t)(seq - next);

	return (uint64_t)(off < 0 ? -off : off) > bound;
}

/* The TCP stream part: scan the segment's new bytes (restarting after a gap). */
static int
scan_stream(struct scan_ctx *c, uint8_t *slot, const uint8_t *data, uint32_t len, bool gap,
		struct det_match *m, unsigned n)
{
	struct dp_inspect *in = c->in;
	struct dp_flow *f = c->f;
	const uint8_t open = c->dir ? DP_DET_OPEN1 : DP_DET_OPEN0;
	void *st = slot + c->dir * in->stream_room;
	struct det_pkt dp = *c->dp;
	const uint64_t beyond = det_worker_stats(in->det)->beyond_depth;
	int k;

	if (len == 0)
		return 0;
	if (gap)
		f->det_flags &= (uint8_t)~open; /* restart at this segment */
	dp.payload = data;
	dp.len = len;
	if (!(f->det_flags & open)) {
		if (det_stream_open(in->det, st, in->stream_room, &dp) != 0)
			return 0;
		f->det_flags |= open;
	}
	k = det_stream_scan(in->det, st, &dp, m + n, MAX_MATCHES - n);
	if (k == -ESTALE) {
		/* The stream was opened on an engine since replaced: start it again here. */
		in->ctr.restarts++;
		if (det_stream_open(in->det, st, in->stream_room, &dp) != 0)
			return 0;
		k = det_stream_scan(in->det, st, &dp, m + n, MAX_MATCHES - n);
	}
	in->ctr.segments++;
	in->ctr.bytes += len;
	/* Bytes of this segment past signatures.stream_depth were not scanned: the exception. */
	if (det_worker_stats(in->det)->beyond_depth != beyond)
		inspect_exception(c, VG_EXC_STREAM_DEPTH);
	return k > 0 ? k : 0;
}

/* The first question of tx (lower-case; a longer name keeps its end) and its type into app. */
static bool
dns_question(const struct al_tx *tx, struct dp_event_app *app)
{
	const size_t cap = sizeof(app->dns_qname) - 1;
	const uint8_t *name;
	uint32_t len;
	uint64_t v;
	size_t k;

	if (!al_tx_buf(tx, AL_BUF_DNS_QUERY, 0, &name, &len) ||
			!al_tx_num(tx, AL_NUM_DNS_QTYPE, 0, &v) || v == 0)
		return false;
	k = len < cap ? len : cap;
	/* A longer name keeps its end: the domain, which the detectors count by. */
	name += len - k;
	for (size_t i = 0; i < k; i++) {
		uint8_t ch = name[i];

		app->dns_qname[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 'a' - 'A' : ch);
	}
	app->dns_qname[k] = '\0';
	app->dns_qname_len = (uint8_t)(len > 255 ? 255 : len);
	app->dns_qtype = (uint16_t)v;
	return true;
}

/*
 * DNS facts the anomaly detectors read from the flow's events: a query's first question, or a
 * response's rcode (with the question it answers). A packet's query wins over a response in
 * the same packet (DNS over TCP may carry both directions' messages only in separate segments,
 * but a segment may complete several).
 */
static void
dns_facts(struct scan_ctx *c, const struct al_tx *tx, unsigned stage)
{
	struct dp_event_app *app = c->app;
	uint64_t v;

	if (stage == AL_ST_DNS_REQUEST) {
		memset(app, 0, sizeof(*app));
		if (dns_question(tx, app))
			c->have_app = true;
	} else if (stage == AL_ST_DNS_RESPONSE && al_tx_num(tx, AL_NUM_DNS_RCODE, 0, &v) &&
			!c->have_app) {
		memset(app, 0, sizeof(*app));
		(void)dns_question(tx, app);
		app->dns_rcode = (uint8_t)v;
		app->dns_response = 1;
		v = al_dns_answer_bytes(tx);
		app->dns_answer_bytes = (uint16_t)(v > UINT16_MAX ? UINT16_MAX : v);
		c->have_app = true;
	}
}

/* A transaction made a stage ready: facts for the events, then its rules. */
static void
on_tx(void *arg, const struct al_tx *tx, unsigned stage, unsigned dir)
{
	struct scan_ctx *c = arg;
	struct det_match m[MAX_MATCHES];
	struct det_pkt dp;
	int n;

	if (tx->proto == AL_PROTO_DNS && c->app != NULL)
		dns_facts(c, tx, stage);
	if (c->e == NULL || (c->f->det_flags & DP_DET_PASS))
		return;
	dp = *c->dp;
	dp.app_proto = tx->proto;
	if (dir != c->dir) {
		/* A stage the other direction's end completed (a close): its sides. */
		const uint8_t *a = dp.src;
		uint16_t port = dp.sport;

		dp.src = dp.dst;
		dp.dst = a;
		dp.sport = dp.dport;
		dp.dport = port;
		dp.flags ^= DET_PKT_TO_SERVER | DET_PKT_TO_CLIENT;
	}
	n = det_scan_tx(c->in->det, &dp, tx, stage, dir, m, MAX_MATCHES);
	c->in->ctr.tx_stages++;
	if (n > 0) {
		/* The alert's direction is the stage's (a close may complete the other side). */
		unsigned pkt_dir = c->dir;

		c->dir = dir;
		apply_matches(c, m, n, c->dp->payload, c->dp->len, tx);
		c->dir = pkt_dir;
	}
}

/*
 * A packet met one of inspection's exception conditions (no stream slot, no parser state, the
 * stream past its depth, the packet over its time budget, its alert not taken by the event
 * ring): its action (exceptions.<condition>). pass: inspected as well as can be (block scans, no
 * parsing); bypass: the rest of the flow is not inspected; drop-packet: this packet dropped;
 * drop-flow and reject: the rest of the flow too (reject answers the sender). Dry-run only counts.
 */
static void
inspect_exception(struct scan_ctx *c, enum vg_exc_cond cond)
{
	struct dp_inspect *in = c->in;
	const uint8_t a = in->exc[cond];

	in->ctr.exceptions[cond]++;
	if (a == VG_EXC_PASS)
		return;
	if (a == VG_EXC_BYPASS) {
		c->f->det_flags |= DP_DET_PASS;
		return;
	}
	if (c->v != DP_INSPECT_FORWARD)
		return;
	if (c->dry) {
		in->ctr.would_drop++;
		dp_flow_hot(c->f)->flags |= DP_FF_WOULD_DROP;
		return;
	}
	c->v = a == VG_EXC_REJECT ? DP_INSPECT_REJECT : DP_INSPECT_DROP;
	if (a != VG_EXC_DROP_PACKET)
		dp_flow_hot(c->f)->verdict =
				a == VG_EXC_REJECT ? DP_VERDICT_REJECT : DP_VERDICT_DROP;
	in->ctr.dropped++;
}

/* The flow's parser state, made at its first inspected packet (NULL: no parsing). */
static struct al_flow *
flow_al(struct dp_inspect *in, struct dp_flow *f, const struct dp_pkt *p, unsigned dir)
{
	if (f->al != NULL || in->al == NULL || (f->det_flags & DP_DET_NOAL))
		return f->al;
	f->al = al_flow_new(in->al, p->proto == IPPROTO_TCP, dir ? p->dport : p->sport,
			dir ? p->sport : p->dport);
	if (f->al == NULL)
		f->det_flags |= DP_DET_NOAL;
	return f->al;
}

/* Feed the application layer: a TCP segment's new bytes (after a gap, if any), or a datagram. */
static void
feed_app(struct scan_ctx *c, const struct dp_pkt *p, const uint8_t *data, uint32_t len,
		uint32_t gap)
{
	struct dp_inspect *in = c->in;
	struct al_flow *af = c->f->al;

	/* State comes with the first payload: a SYN flood's half-open flows take none. */
	if (af == NULL && len > 0)
		af = flow_al(in, c->f, p, c->dir);
	if (af == NULL) {
		/* No parser state to be had (the application layer's memory): the exception. */
		if (len > 0 && in->al != NULL && (c->f->det_flags & DP_DET_NOAL) && c->e != NULL)
			inspect_exception(c, VG_EXC_APP_LAYER_MEMCAP);
		return;
	}
	if (gap > 0)
		al_gap(in->al, af, c->dir, gap);
	if (len > 0 || p->proto != IPPROTO_TCP)
		al_feed(in->al, af, c->dir, data, len, on_tx, c);
	if (p->proto == IPPROTO_TCP && (p->tcp_flags & (DP_TCPF_FIN | DP_TCPF_RST))) {
		al_close(in->al, af, c->dir, on_tx, c);
		if (p->tcp_flags & DP_TCPF_RST)
			al_close(in->al, af, c->dir ^ 1, on_tx, c);
	}
	uint8_t proto = (uint8_t)al_flow_proto(af);

	/* Control hears of the protocol when it is known, not at the next periodic update. */
	if (proto != c->f->app_proto && c->f->app_proto == AL_PROTO_NONE &&
			proto != AL_PROTO_FAILED && c->t != NULL) {
		c->f->app_proto = proto;
		dp_flow_updated(c->t, c->pos, c->now, NULL);
	}
	c->f->app_proto = proto;
}

const uint8_t *
dp_inspect_payload(struct dp_inspect *in, const struct rte_mbuf *m, const struct dp_pkt *p,
		uint32_t *len)
{
	uint32_t first = rte_pktmbuf_data_len(m) > p->payload_off
					 ? rte_pktmbuf_data_len(m) - p->payload_off
					 : 0;

	*len = 0;
	if (p->payload_off == 0)
		return NULL;
	if (likely(p->payload_len <= first)) {
		*len = p->payload_len;
		return rte_pktmbuf_mtod_offset(m, const uint8_t *, p->payload_off);
	}
	/* A frame over several segments (jumbo frames, scatter RX): gathered into the
	 * worker's buffer, so the stream and its parser see every byte. */
	*len = p->payload_len < sizeof(in->linear) ? p->payload_len : sizeof(in->linear);
	return rte_pktmbuf_read(m, p->payload_off, *len, in->linear);
}

/* The event each parse reason means, where frame is not needed to tell more. */
static const uint8_t perr_event[DP_PERR__COUNT] = {
	[DP_PERR_NONE] = DET_EV__COUNT,
	[DP_PERR_L2_TRUNCATED] = DET_EV_ETH_TOO_SMALL,
	[DP_PERR_VLAN_TRUNCATED] = DET_EV_VLAN_TOO_SMALL,
	[DP_PERR_VLAN_TOO_MANY] = DET_EV_VLAN_TOO_MANY,
	[DP_PERR_IPV4_TRUNCATED] = DET_EV_IPV4_TOO_SMALL,
	[DP_PERR_IPV4_BAD_VERSION] = DET_EV_IPV4_VERSION,
	[DP_PERR_IPV4_BAD_IHL] = DET_EV_IPV4_TRUNC,
	[DP_PERR_IPV4_BAD_TOTAL_LEN] = DET_EV_IPV4_TRUNC,
	[DP_PERR_IPV4_BAD_CHECKSUM] = DET_EV_IPV4_CSUM,
	[DP_PERR_IPV4_BAD_OPTIONS] = DET_EV_IPV4_OPT_LEN,
	[DP_PERR_IPV6_TRUNCATED] = DET_EV_IPV6_TOO_SMALL,
	[DP_PERR_IPV6_BAD_VERSION] = DET_EV_IPV6_VERSION,
	[DP_PERR_IPV6_BAD_PAYLOAD_LEN] = DET_EV_IPV6_TRUNC,
	[DP_PERR_IPV6_EXT_TRUNCATED] = DET_EV_IPV6_EXT_TRUNC,
	[DP_PERR_IPV6_EXT_TOO_MANY] = DET_EV_IPV6_EXT_TOO_MANY,
	[DP_PERR_IPV6_EXT_ORDER] = DET_EV_IPV6_EXT_ORDER,
	[DP_PERR_FRAG_TINY] = DET_EV_FRAG_TINY,
	[DP_PERR_FRAG_BAD_OFFSET] = DET_EV_FRAG_OVERLAP,
	[DP_PERR_FRAG_OVERSIZE] = DET_EV_FRAG_TOO_LARGE,
	[DP_PERR_FRAG_BAD_LEN] = DET_EV_FRAG_BAD_LEN,
	[DP_PERR_FRAG_OVERLAP] = DET_EV_FRAG_OVERLAP,
	[DP_PERR_TCP_TRUNCATED] = DET_EV_TCP_TOO_SMALL,
	[DP_PERR_TCP_BAD_DATA_OFFSET] = DET_EV_TCP_OPTLEN,
	[DP_PERR_TCP_BAD_FLAGS] = DET_EV__COUNT, /* from the flags below */
	[DP_PERR_UDP_TRUNCATED] = DET_EV_UDP_TOO_SMALL,
	[DP_PERR_UDP_BAD_LEN] = DET_EV_UDP_LEN_INVALID,
	[DP_PERR_ICMP_TRUNCATED] = DET_EV_ICMPV4_TOO_SMALL,
	[DP_PERR_SCTP_TRUNCATED] = DET_EV_SCTP_TOO_SMALL,
	[DP_PERR_TCP_BAD_CHECKSUM] = DET_EV_TCPV4_CSUM,
	[DP_PERR_UDP_BAD_CHECKSUM] = DET_EV_UDPV4_CSUM,
	[DP_PERR_ICMP_BAD_CHECKSUM] = DET_EV_ICMPV4_CSUM,
};

uint64_t
dp_pkt_events(const struct dp_pkt *p, const uint8_t *frame)
{
	const bool v6 = p->l3 == DP_L3_IPV6;
	uint64_t ev = 0;
	unsigned e = p->err < DP_PERR__COUNT ? perr_event[p->err] : DET_EV__COUNT;

	if (unlikely(p->err != DP_PERR_NONE)) {
		switch (p->err) {
		case DP_PERR_IPV4_BAD_IHL:
			/* Suricata: IHL below 5 is hlen_too_small, a header past the end trunc_pkt
			 */
			if (frame != NULL && (frame[p->l3_off] & 0xf) < 5)
				e = DET_EV_IPV4_HLEN_TOO_SMALL;
			break;
		case DP_PERR_IPV4_BAD_TOTAL_LEN:
			if (frame != NULL && (uint32_t)(frame[p->l3_off + 2] << 8 |
							     frame[p->l3_off + 3]) <
							     (uint32_t)(frame[p->l3_off] & 0xf) * 4)
				e = DET_EV_IPV4_IPLEN_SMALL;
			break;
		case DP_PERR_TCP_BAD_DATA_OFFSET:
			if (frame != NULL && p->l4_off != 0 && (frame[p->l4_off + 12] >> 4) < 5)
				e = DET_EV_TCP_HLEN_TOO_SMALL;
			break;
		case DP_PERR_UDP_BAD_LEN:
			if (frame != NULL && p->l4_off != 0 &&
					(frame[p->l4_off + 4] << 8 | frame[p->l4_off + 5]) < 8)
				e = DET_EV_UDP_HLEN_TOO_SMALL;
			break;
		case DP_PERR_ICMP_TRUNCATED:
		case DP_PERR_TCP_BAD_CHECKSUM:
		case DP_PERR_UDP_BAD_CHECKSUM:
		case DP_PERR_ICMP_BAD_CHECKSUM:
			/* the IPv6 event follows its IPv4 one in enum det_event */
			e += v6;
			break;
		default:
			break;
		}
		if (e < DET_EV__COUNT)
			ev |= DET_EV_BIT(e);
	}
	if (p->proto == IPPROTO_TCP && (p->tcp_flags & DP_TCPF_SYN)) {
		if (p->tcp_flags & DP_TCPF_FIN)
			ev |= DET_EV_BIT(DET_EV_TCP_SYN_FIN);
		if (p->tcp_flags & DP_TCPF_RST)
			ev |= DET_EV_BIT(DET_EV_TCP_SYN_RST);
	}
	if (unlikely(p->anom != 0)) {
		_Static_assert(DET_EV_IPV6_RH_TYPE_0 - DET_EV_IPV4_FRAG_DF == DP_ANOM_IPV6_RH0 &&
						DET_EV_IPV6_DUPL_RH - DET_EV_IPV4_FRAG_DF ==
								DP_ANOM_IPV6_DUPL_RH &&
						DET_EV_IPV6_FH_RESERVED - DET_EV_IPV4_FRAG_DF ==
								DP_ANOM_IPV6_FH_RESERVED &&
						DP_ANOM_IPV4_FRAG_DF == 0 && DP_ANOM__COUNT == 4,
				"anomaly events follow enum dp_anom");
		ev |= (uint64_t)p->anom << DET_EV_IPV4_FRAG_DF;
	}
	if (unlikely(p->proto == IPPROTO_ICMPV6 && p->l3 == DP_L3_IPV4))
		ev |= DET_EV_BIT(DET_EV_IPV4_ICMPV6);
	if (unlikely(p->proto == IPPROTO_ICMP && v6))
		ev |= DET_EV_BIT(DET_EV_IPV6_ICMPV4);
	return ev;
}

enum dp_inspect_verdict
dp_inspect_events(struct dp_inspect *in, const struct det_engine *e, const struct rte_mbuf *m,
		const struct dp_pkt *p, uint16_t in_port, uint64_t now, bool dry,
		struct dp_evq *evq)
{
	enum dp_inspect_verdict v = DP_INSPECT_FORWARD;
	struct det_match mt[MAX_MATCHES];
	struct det_pkt dp;
	int n;

	if (e == NULL || e != in->engine || in->det == NULL)
		return v;
	memset(&dp, 0, sizeof(dp));
	dp.events = dp_pkt_events(p, rte_pktmbuf_mtod(m, const uint8_t *));
	if (dp.events == 0)
		return v;
	dp.payload = dp_inspect_payload(in, m, p, &dp.len);
	dp.family = p->l3;
	dp.proto = p->l3 != DP_L3_NONE ? p->proto : 0;
	dp.tcp_flags = p->tcp_flags;
	dp.sport = p->sport;
	dp.dport = p->dport;
	dp.src = p->src;
	dp.dst = p->dst;
	dp.now_ns = now;
	n = det_scan_events(in->det, &dp, mt, MAX_MATCHES);
	in->ctr.event_packets++;
	for (int i = 0; i < n; i++) {
		const struct det_rule_info *ri = det_engine_rule_info(e, mt[i].rule);
		bool drop = mt[i].action == DET_ACT_DROP || mt[i].action == DET_ACT_REJECT;
		struct dp_event *ev;

		if (drop && dry)
			in->ctr.would_drop++;
		else if (drop && v == DP_INSPECT_FORWARD) {
			/* no flow to answer for: a reject rule drops */
			v = DP_INSPECT_DROP;
			in->ctr.dropped++;
		}
		if (!(mt[i].flags & DET_M_ALERT) || ri == NULL)
			continue;
		if (unlikely(!dp_evq_room(evq, 1))) {
			/* No flow to bypass or drop: the drops drop this packet, the rest pass. */
			const uint8_t a = in->exc[VG_EXC_EVENT_RING_FULL];

			in->ctr.exceptions[VG_EXC_EVENT_RING_FULL]++;
			if (a >= VG_EXC_DROP_PACKET && dry)
				in->ctr.would_drop++;
			else if (a >= VG_EXC_DROP_PACKET && v == DP_INSPECT_FORWARD) {
				v = DP_INSPECT_DROP;
				in->ctr.dropped++;
			}
		}
		ev = dp_evq_next(evq, DP_EV_ALERT, now);
		memset(&ev->flow, 0, sizeof(ev->flow));
		ev->flow.family = p->l3;
		ev->flow.proto = dp.proto;
		ev->flow.vlan = p->vlan[0];
		ev->flow.in_port = in_port;
		ev->flow.sport = p->sport;
		ev->flow.dport = p->dport;
		ev->flow.rule_id = UINT32_MAX;
		memcpy(ev->flow.src, p->src, 16);
		memcpy(ev->flow.dst, p->dst, 16);
		ev->flow.first_ns = ev->flow.last_ns = now;
		ev->alert.sid = ri->sid;
		ev->alert.gid = ri->gid;
		ev->alert.rev = ri->rev;
		ev->alert.action = mt[i].action;
		ev->alert.dropped = drop && !dry;
		ev->alert.to_server = 1;
		ev->alert.tx = 0;
		set_excerpt(ev, dp.payload, dp.len, mt[i].end);
		in->ctr.alerts++;
	}
	return v;
}

static void
det_pkt_init(struct det_pkt *dp, const struct dp_flow *f, const uint8_t *payload, uint32_t len,
		const struct dp_pkt *p, unsigned dir, uint64_t groups, uint64_t now)
{
	memset(dp, 0, sizeof(*dp));
	dp->payload = payload;
	dp->len = len;
	dp->family = p->l3;
	dp->proto = p->proto;
	dp->tcp_flags = p->tcp_flags;
	dp->sport = p->sport;
	dp->dport = p->dport;
	dp->src = p->src;
	dp->dst = p->dst;
	dp->now_ns = now;
	dp->groups = groups;
	dp->app_proto = f->app_proto;
	dp->flags = dir ? DET_PKT_TO_CLIENT : DET_PKT_TO_SERVER;
	dp->events = dp_pkt_events(p, NULL);
	if (p->proto == IPPROTO_TCP ? dp_flow_hot(f)->tcp_state >= DP_TCP_ESTABLISHED
				    : dp_flow_pkts(f, 0) > 0 && dp_flow_pkts(f, 1) > 0)
		dp->flags |= DET_PKT_ESTABLISHED;
	if (dp_flow_pkts(f, dir) == 1)
		dp->flags |= DET_PKT_FIRST;
}

/* The headers the header keywords read (ttl, tcp.hdr, vlan.id, ...): frame holds them. */
static void
det_pkt_headers(struct det_pkt *dp, const struct dp_pkt *p, const uint8_t *frame)
{
	unsigned nv = p->n_vlan < 3 ? p->n_vlan : 3;

	for (unsigned i = 0; i < nv; i++)
		dp->vlan[i] = p->vlan[i];
	dp->n_vlan = p->n_vlan;
	if (frame == NULL || p->l3 == DP_L3_NONE || p->l4_off <= p->l3_off)
		return;
	dp->l3 = frame + p->l3_off;
	dp->l3_len = (uint16_t)(p->l4_off - p->l3_off);
	if (p->frag != DP_FRAG_LATER && p->payload_off > p->l4_off) {
		dp->l4 = frame + p->l4_off;
		dp->l4_len = (uint16_t)(p->payload_off - p->l4_off);
	}
}

/* stream_size: each side's next sequence number less its initial one (0 while unseen). */
static void
det_pkt_stream(struct det_pkt *dp, const struct dp_flow *f, uint8_t *slot,
		const struct dp_inspect *in, const struct dp_pkt *p, unsigned dir, bool first)
{
	struct slot_tcp *st = (struct slot_tcp *)(slot + 2 * in->stream_room);

	if (first) {
		/* as Suricata: the SYN's number, or (midstream) the one before the first seen */
		st->isn[dir] = (p->tcp_flags & DP_TCPF_SYN) ? p->tcp_seq : p->tcp_seq - 1;
		st->known |= (uint8_t)(1u << dir);
	}
	dp->stream_known = true;
	for (unsigned d = 0; d < 2; d++)
		dp->stream_size[d] = (st->known & (1u << d)) ? f->next_seq[d] - st->isn[d] : 0;
}

enum dp_inspect_verdict
dp_inspect_packet(struct dp_inspect *in, const struct det_engine *e, struct dp_flow_table *t,
		int32_t pos, struct dp_flow *f, const uint8_t *payload, uint32_t len,
		const struct dp_pkt *p, const uint8_t *frame, unsigned dir, uint64_t groups,
		uint64_t now, bool dry, struct dp_evq *evq, struct dp_event_app *app,
		bool *have_app)
{
	struct det_match m[MAX_MATCHES];
	struct det_pkt dp;
	/* State lives in a slot: TCP streams, and flowbits when the engine has any. A UDP or
	 * ICMP flow without flowbits is scanned packet by packet and needs none. */
	uint8_t *slot = p->proto == IPPROTO_TCP || in->flowbits ? flow_slot(in, f) : NULL;
	struct scan_ctx c = {
		.in = in,
		.e = e,
		.t = t,
		.pos = pos,
		.f = f,
		.dp = &dp,
		.dir = dir,
		.dry = dry,
		.now = now,
		.evq = evq,
		.v = DP_INSPECT_FORWARD,
		.app = app,
	};
	const uint8_t *data = payload;
	uint32_t dlen = len, gap = 0;
	/* A TCP flow the tracker did not take up (first seen without its handshake and
	 * flows.midstream off, or a probe without ACK) has no stream: its packets meet the
	 * packet rules only, as Suricata does without a session. */
	bool stream = p->proto != IPPROTO_TCP || dp_flow_hot(f)->tcp_state != DP_TCP_NONE;
	const uint64_t t0 = in->budget_tsc != 0 ? rte_rdtsc() : 0;
	int n;

	det_pkt_init(&dp, f, payload, len, p, dir, groups, now);
	det_pkt_headers(&dp, p, frame);
	if (slot != NULL)
		dp.flowbits = slot + SLOT_FB_OFF(in);
	else if (p->proto == IPPROTO_TCP || in->flowbits)
		inspect_exception(&c, VG_EXC_STREAM_MEMCAP); /* no stream slot to be had */
	/* A segment the receiver will discard (wrong checksum) is not part of the stream, as in
	 * Suricata: an attacker cannot slip bytes into it that the host never sees. */
	if (p->err == DP_PERR_TCP_BAD_CHECKSUM) {
		stream = false;
		dlen = 0;
	}
	if (p->proto == IPPROTO_TCP && stream && slot != NULL) {
		struct slot_tcp *st = (struct slot_tcp *)(slot + 2 * in->stream_room);

		/* An RST the receiver would discard, whatever its window scale: counted, an event,
		 * and kept out of the stream (it must not move where the next byte is expected). */
		if ((p->tcp_flags & DP_TCPF_RST) &&
				(f->det_flags & (dir ? DP_DET_SEQ1 : DP_DET_SEQ0)) &&
				rst_out_of_window(st, dir, p->tcp_seq, f->next_seq[dir])) {
			in->ctr.rst_out_of_window++;
			dp.events |= DET_EV_BIT(DET_EV_STREAM_RST_WINDOW);
			stream = false;
			dlen = 0;
		} else {
			st->win[dir] = p->tcp_win;
			st->win_known |= (uint8_t)(1u << dir);
		}
	}
	if (p->proto == IPPROTO_TCP && stream) {
		const bool first = !(f->det_flags & (dir ? DP_DET_SEQ1 : DP_DET_SEQ0));
		const uint32_t next = f->next_seq[dir];

		gap = stream_next(in, f, p, dir, &data, &dlen);
		if (slot != NULL) {
			det_pkt_stream(&dp, f, slot, in, p, dir, first);
			if (len > 0 && stream_overlap((struct slot_tcp *)(slot +
									  2 * in->stream_room),
						       dir,
						       p->tcp_seq + !!(p->tcp_flags & DP_TCPF_SYN),
						       payload, len, next, !first)) {
				in->ctr.overlap_differs++;
				dp.events |= DET_EV_BIT(DET_EV_STREAM_OVERLAP_DIFF);
			}
		}
		if (gap > 0)
			dp.events |= DET_EV_BIT(DET_EV_STREAM_GAP);
		else if (len > 0 && dlen == 0)
			dp.events |= DET_EV_BIT(DET_EV_STREAM_RETRANS);
	}
	/* The application layer first: the protocol it detects is what the rules below see. */
	if (in->al != NULL && stream && (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP)) {
		const uint8_t before = f->app_proto;

		feed_app(&c, p, data, dlen, gap);
		dp.app_proto = f->app_proto;
		if (before == AL_PROTO_NONE && f->app_proto != AL_PROTO_NONE)
			dp.flags |= DET_PKT_PROTO_DONE;
		if (f->det_flags & DP_DET_PASS) /* a pass rule on a transaction */
			goto out;
	}

	n = det_scan_packet(in->det, &dp, m, MAX_MATCHES);
	in->ctr.packets++;
	in->ctr.bytes += dp.len;
	apply_matches(&c, m, n, payload, len, NULL);
	if (p->proto == IPPROTO_TCP && stream && slot != NULL && !(f->det_flags & DP_DET_PASS)) {
		n = scan_stream(&c, slot, data, dlen, gap > 0, m, 0);
		apply_matches(&c, m, n, data, dlen, NULL);
	}
out:
	/* Inspected for longer than inspection.packet_budget_ns: the exception (after the fact:
	 * bypass spares the flow's later packets, the drops this one and what follows). */
	if (in->budget_tsc != 0 && rte_rdtsc() - t0 > in->budget_tsc)
		inspect_exception(&c, VG_EXC_PACKET_BUDGET);
	if (have_app != NULL)
		*have_app = c.have_app;
	return c.v;
}

bool
dp_inspect_dns(struct dp_inspect *in, struct dp_flow *f, const uint8_t *payload, uint32_t len,
		const struct dp_pkt *p, unsigned dir, struct dp_event_app *app)
{
	struct det_pkt dp;
	struct scan_ctx c = {
		.in = in,
		.f = f,
		.dp = &dp,
		.dir = dir,
		.app = app,
	};

	if (in->al == NULL || p->proto != IPPROTO_UDP)
		return false;
	det_pkt_init(&dp, f, payload, len, p, dir, 0, 0);
	feed_app(&c, p, payload, len, 0);
	return c.have_app;
}

void
dp_inspect_flow_close(struct dp_inspect *in, const struct det_engine *e, struct dp_flow_table *t,
		int32_t pos, struct dp_flow *f, uint64_t groups, uint64_t now, bool dry,
		struct dp_evq *evq)
{
	const bool init_b = dp_flow_hot(f)->init_is_b;
	struct dp_flow_key kk, *k = &kk;
	struct dp_pkt p;
	struct det_pkt dp;
	struct scan_ctx c = {
		.in = in,
		.e = e,
		.t = t,
		.pos = pos,
		.f = f,
		.dp = &dp,
		.dir = 0,
		.dry = dry,
		.now = now,
		.evq = evq,
		.v = DP_INSPECT_FORWARD,
	};

	if (f->al == NULL || in->al == NULL || (f->det_flags & DP_DET_PASS))
		return;
	if (e != in->engine || in->det == NULL)
		e = c.e = NULL; /* the scratch follows another engine: close without scanning */
	/* The flow as its initiator sends it: the direction the closes are reported from. */
	dp_flow_key_get(t, pos, k);
	memset(&p, 0, sizeof(p));
	p.l3 = k->family;
	p.proto = k->proto;
	memcpy(p.src, init_b ? k->b : k->a, 16);
	memcpy(p.dst, init_b ? k->a : k->b, 16);
	p.sport = init_b ? k->b_port : k->a_port;
	p.dport = init_b ? k->a_port : k->b_port;
	det_pkt_init(&dp, f, NULL, 0, &p, 0, groups, now);
	if (f->det_slot != UINT32_MAX && f->det_gen == in->gen && in->flowbits)
		dp.flowbits = in->slots + (size_t)f->det_slot * in->slot_size + SLOT_FB_OFF(in);
	al_close(in->al, f->al, AL_TO_SERVER, on_tx, &c);
	al_close(in->al, f->al, AL_TO_CLIENT, on_tx, &c);
}

const struct al_ctx *
dp_inspect_al(const struct dp_inspect *in)
{
	return in->al;
}

const struct dp_inspect_counters *
dp_inspect_counters(const struct dp_inspect *in)
{
	return &in->ctr;
}
