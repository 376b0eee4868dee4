/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "det_engine.h"
#include "dp_evq.h"
#include "dp_inspect.h"
#include "dp_tcp.h"
#include "vg_log.h"

#define MAX_MATCHES 16
#define SLOT_ALIGN  64

struct dp_inspect {
	unsigned worker;
	int socket;
	struct det_worker *det;
	const struct det_engine *engine; /* the engine det is bound to */
	/* Slot pool: [stream 0][stream 1][flowbits], slot_size bytes each. */
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
	struct dp_inspect_counters ctr;
};

struct dp_inspect *
dp_inspect_create(unsigned worker, uint32_t max_flows, int socket)
{
	struct dp_inspect *in =
			rte_zmalloc_socket("dp_inspect", sizeof(*in), RTE_CACHE_LINE_SIZE, socket);

	if (in == NULL)
		return NULL;
	in->worker = worker;
	in->socket = socket;
	in->max_flows = max_flows;
	in->gen = 1;
	return in;
}

void
dp_inspect_free(struct dp_inspect *in)
{
	if (in == NULL)
		return;
	det_worker_free(in->det);
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
	uint32_t size = 2 * room + RTE_ALIGN_CEIL((uint32_t)det_flowbits_size(e), SLOT_ALIGN);
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
dp_inspect_flow_end(void *arg, struct dp_flow *f)
{
	struct dp_inspect *in = arg;

	if (f->det_slot != UINT32_MAX && f->det_gen == in->gen)
		in->free_list[in->n_free++] = f->det_slot;
	f->det_slot = UINT32_MAX;
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

static void
send_alert(struct dp_inspect *in, const struct det_engine *e, struct dp_flow_table *t, int32_t pos,
		const struct det_match *m, const uint8_t *payload, uint32_t len, unsigned dir,
		bool dropped, uint64_t now, struct dp_evq *evq)
{
	const struct det_rule_info *ri = det_engine_rule_info(e, m->rule);
	struct dp_event *ev;
	uint32_t end = m->end > 0 && m->end <= len ? m->end : (len < 104 ? len : 104);
	uint32_t start = end > sizeof(ev->alert.excerpt) ? end - sizeof(ev->alert.excerpt) : 0;

	if (ri == NULL)
		return;
	ev = dp_evq_next(evq, DP_EV_ALERT, now);
	dp_flow_describe(t, pos, &ev->flow);
	ev->alert.sid = ri->sid;
	ev->alert.gid = ri->gid;
	ev->alert.rev = ri->rev;
	ev->alert.action = m->action;
	ev->alert.dropped = dropped;
	ev->alert.to_server = dir == 0;
	ev->alert.excerpt_len = (uint8_t)(end - start);
	if (payload != NULL)
		memcpy(ev->alert.excerpt, payload + start, end - start);
	in->ctr.alerts++;
}

/* a before b in sequence space */
static inline bool
seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* The TCP stream part: returns matches written to m (after n already there). */
static int
scan_stream(struct dp_inspect *in, struct dp_flow *f, uint8_t *slot, struct det_pkt *dp,
		const struct dp_pkt *p, unsigned dir, struct det_match *m, unsigned n,
		const uint8_t **scanned, uint32_t *scanned_len)
{
	const uint8_t open = dir ? DP_DET_OPEN1 : DP_DET_OPEN0;
	const uint8_t known = dir ? DP_DET_SEQ1 : DP_DET_SEQ0;
	void *st = slot + dir * in->stream_room;
	uint32_t seq = p->tcp_seq;
	const uint8_t *data = dp->payload;
	uint32_t len = dp->len;
	int k;

	if (p->tcp_flags & DP_TCPF_SYN) {
		/* The SYN takes one sequence number; its data (TCP fast open) follows it. */
		seq++;
	}
	if (!(f->det_flags & known)) {
		f->next_seq[dir] = seq;
		f->det_flags |= known;
	}
	if (len == 0) {
		if (p->tcp_flags & DP_TCPF_SYN)
			f->next_seq[dir] = seq;
		return 0;
	}
	if (seq_lt(seq, f->next_seq[dir])) {
		uint32_t skip = f->next_seq[dir] - seq;

		if (skip >= len) {
			in->ctr.retransmitted++;
			return 0;
		}
		data += skip;
		len -= skip;
	} else if (seq != f->next_seq[dir]) {
		in->ctr.stream_gaps++;
		f->det_flags &= (uint8_t)~open; /* restart at this segment */
	}
	/* What the segment covers, retransmitted bytes included, moves the next expected byte. */
	if (seq_lt(f->next_seq[dir], seq + dp->len))
		f->next_seq[dir] = seq + dp->len;
	if (!(f->det_flags & open)) {
		if (det_stream_open(in->det, st, in->stream_room, dp) != 0)
			return 0;
		f->det_flags |= open;
	}
	dp->payload = data;
	dp->len = len;
	*scanned = data;
	*scanned_len = len;
	k = det_stream_scan(in->det, st, dp, m + n, MAX_MATCHES - n);
	if (k == -ESTALE) {
		/* The stream was opened on an engine since replaced: start it again here. */
		in->ctr.restarts++;
		if (det_stream_open(in->det, st, in->stream_room, dp) != 0)
			return 0;
		k = det_stream_scan(in->det, st, dp, m + n, MAX_MATCHES - n);
	}
	in->ctr.segments++;
	in->ctr.bytes += len;
	return k > 0 ? k : 0;
}

const uint8_t *
dp_inspect_payload(const struct rte_mbuf *m, const struct dp_pkt *p, uint32_t *len)
{
	uint32_t avail = rte_pktmbuf_data_len(m) > p->payload_off
					 ? rte_pktmbuf_data_len(m) - p->payload_off
					 : 0;

	*len = p->payload_len < avail ? p->payload_len : avail;
	return p->payload_off ? rte_pktmbuf_mtod_offset(m, const uint8_t *, p->payload_off) : NULL;
}

enum dp_inspect_verdict
dp_inspect_packet(struct dp_inspect *in, const struct det_engine *e, struct dp_flow_table *t,
		int32_t pos, struct dp_flow *f, const uint8_t *payload, uint32_t len,
		const struct dp_pkt *p, unsigned dir, uint64_t groups, uint64_t now, bool dry,
		struct dp_evq *evq)
{
	struct det_match m[MAX_MATCHES];
	struct det_pkt dp;
	/* State lives in a slot: TCP streams, and flowbits when the engine has any. A UDP or
	 * ICMP flow without flowbits is scanned packet by packet and needs none. */
	uint8_t *slot = p->proto == IPPROTO_TCP || in->flowbits ? flow_slot(in, f) : NULL;
	const uint8_t *scanned = payload;
	uint32_t scanned_len = 0;
	enum dp_inspect_verdict v = DP_INSPECT_FORWARD;
	int n;

	memset(&dp, 0, sizeof(dp));
	dp.payload = payload;
	dp.len = len;
	dp.family = p->l3;
	dp.proto = p->proto;
	dp.tcp_flags = p->tcp_flags;
	dp.sport = p->sport;
	dp.dport = p->dport;
	dp.src = p->src;
	dp.dst = p->dst;
	dp.now_ns = now;
	dp.groups = groups;
	dp.flags = dir ? DET_PKT_TO_CLIENT : DET_PKT_TO_SERVER;
	if (p->proto == IPPROTO_TCP ? f->tcp.state >= DP_TCP_ESTABLISHED
				    : f->pkts[0] > 0 && f->pkts[1] > 0)
		dp.flags |= DET_PKT_ESTABLISHED;
	if (f->pkts[dir] == 1)
		dp.flags |= DET_PKT_FIRST;
	if (slot != NULL)
		dp.flowbits = slot + 2 * in->stream_room;

	const uint32_t plen = dp.len;
	int n_pkt = det_scan_packet(in->det, &dp, m, MAX_MATCHES);

	n = n_pkt;
	in->ctr.packets++;
	in->ctr.bytes += dp.len;
	if (p->proto == IPPROTO_TCP && slot != NULL && n < MAX_MATCHES)
		n += scan_stream(in, f, slot, &dp, p, dir, m, (unsigned)n, &scanned, &scanned_len);

	for (int i = 0; i < n; i++) {
		bool drop = m[i].action == DET_ACT_DROP || m[i].action == DET_ACT_REJECT;

		if (m[i].action == DET_ACT_PASS && (m[i].flags & DET_M_FLOW)) {
			f->det_flags |= DP_DET_PASS;
			in->ctr.passed++;
		}
		if (drop && v == DP_INSPECT_FORWARD) {
			if (dry) {
				in->ctr.would_drop++;
				f->flags |= DP_FF_WOULD_DROP;
			} else {
				v = m[i].action == DET_ACT_REJECT ? DP_INSPECT_REJECT
								  : DP_INSPECT_DROP;
				/* The rest of the flow, both directions, follows. */
				f->verdict = v == DP_INSPECT_REJECT ? DP_VERDICT_REJECT
								    : DP_VERDICT_DROP;
				in->ctr.dropped++;
			}
		}
		if (m[i].flags & DET_M_ALERT) {
			/* Packet matches are placed in the whole payload, stream ones in what the
			 * stream scan was given. */
			bool stream = i >= n_pkt;

			send_alert(in, e, t, pos, &m[i], stream ? scanned : payload,
					stream ? scanned_len : plen, dir, drop && !dry, now, evq);
		}
	}
	return v;
}

const struct dp_inspect_counters *
dp_inspect_counters(const struct dp_inspect *in)
{
	return &in->ctr;
}
