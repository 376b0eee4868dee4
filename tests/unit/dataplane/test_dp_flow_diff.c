/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flow table against the one it replaced (ref_flow_old.c): random packet streams go
 * through both exactly as the worker sends them (a burst looked up at once, misses created,
 * then each packet's turn: expiry, restart, accounting, the start event), with time jumps that
 * expire flows, aging, periodic updates and a table small enough that the new one must evict.
 * After every burst and every aging pass, both must have emitted the same events (types,
 * reasons, times, flows with every counter) and hold the same counters.
 *
 * Where the tables must differ, the test makes them agree: the new table's eviction victims
 * (entries are placed differently, so sampling "the stalest of a few" picks other flows) are
 * ended in the old table as well, which is large enough never to choose its own; and the new
 * table's overflows are not created in the old. Positions are each table's own.
 *
 * The new table's eviction policy (issue 17) is checked against its definition: no victim was
 * an answered flow seen within evict_idle_ns (protected), victims and overflows are counted by
 * class and reason; a flood of SYNs from new sources runs through some of the streams.
 */
#define VG_TEST_WITH_EAL
#include "vg_test.h"

#include <netinet/in.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dp_flow.h"
#include "ref_flow_old.h"

#define MS  1000000ULL
#define SEC 1000000000ULL

#define MAX_BURST 32
#define N_EVENTS  8192

struct side {
	struct rte_ring *ring;
	struct dp_evq evq;
	struct dp_event ev[N_EVENTS];
	unsigned n;
};

static struct side s_new, s_old;

/* An answered flow seen this recently is protected from eviction (the new table's param). */
#define EVICT_IDLE (1 * SEC)

/* What the new table's end hook saw: the flows it ended, in order, and whether each was
 * protected when it ended. */
static struct dp_flow_key ended_keys[64];
static bool ended_protected[64];
static unsigned n_ended;

static uint64_t rng;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The definition of a protected flow, written from the issue rather than from dp_flow.c:
 * not closed or expired, both directions seen, TCP past its handshake, seen recently. */
static bool
is_protected(const struct dp_flow_table *t, int32_t pos, uint64_t now)
{
	const struct dp_flow_hot *h = dp_flow_hot_at(t, pos);
	const struct dp_flow *f = dp_flow_at(t, pos);
	bool tcp = h->kind == DP_FK_TCP;

	if (tcp && (h->tcp_state == DP_TCP_TIME_WAIT || h->tcp_state == DP_TCP_CLOSED))
		return false;
	if (dp_flow_expired(t, pos, now))
		return false;
	if (dp_flow_pkts(f, 0) == 0 || dp_flow_pkts(f, 1) == 0)
		return false;
	if (tcp && h->tcp_state < DP_TCP_ESTABLISHED)
		return false;
	return now < h->last_ns + EVICT_IDLE;
}

static void
on_end_new(void *arg, int32_t pos, struct dp_flow *f, uint64_t now)
{
	(void)f;
	if (n_ended < RTE_DIM(ended_keys)) {
		dp_flow_key_get(arg, pos, &ended_keys[n_ended]);
		ended_protected[n_ended] = is_protected(arg, pos, now);
	}
	n_ended++;
}

static struct dp_flow_timeouts
timeouts(void)
{
	return (struct dp_flow_timeouts){
		.tcp_syn = 2 * SEC,
		.tcp_established = 10 * SEC,
		.tcp_closing = 3 * SEC,
		.tcp_time_wait = 1 * SEC,
		.tcp_closed = 1 * SEC,
		.udp = 5 * SEC,
		.icmp = 3 * SEC,
		.other = 6 * SEC,
	};
}

static void
side_init(struct side *s, const char *name)
{
	if (s->ring == NULL)
		s->ring = rte_ring_create_elem(name, sizeof(struct dp_event), N_EVENTS, 0,
				RING_F_SP_ENQ | RING_F_SC_DEQ);
	assert_non_null(s->ring);
	memset(&s->evq, 0, sizeof(s->evq));
	s->evq.ring = s->ring;
}

static void
drain(struct side *s)
{
	dp_evq_flush(&s->evq);
	s->n = rte_ring_dequeue_burst_elem(s->ring, s->ev, sizeof(struct dp_event), N_EVENTS, NULL);
	assert_true(s->n < N_EVENTS);
	assert_int_equal(s->evq.ctr.lost, 0);
}

static int
cmp_event(const void *a, const void *b)
{
	const struct dp_event *x = a, *y = b;

	if (x->flow.flow_id != y->flow.flow_id)
		return x->flow.flow_id < y->flow.flow_id ? -1 : 1;
	return x->type - y->type;
}

/* Both sides' events since the last check; sorted first when the order may differ (aging
 * visits entries in each table's own order). */
static void
compare_events(bool sorted, const char *what, unsigned step)
{
	drain(&s_new);
	drain(&s_old);
	if (s_new.n != s_old.n)
		fail_msg("step %u (%s): %u events from the new table, %u from the old", step, what,
				s_new.n, s_old.n);
	if (sorted) {
		qsort(s_new.ev, s_new.n, sizeof(struct dp_event), cmp_event);
		qsort(s_old.ev, s_old.n, sizeof(struct dp_event), cmp_event);
	}
	for (unsigned i = 0; i < s_new.n; i++) {
		struct dp_event *a = &s_new.ev[i], *b = &s_old.ev[i];

		/* Sequence numbers follow the order, compared above. */
		a->seq = b->seq = 0;
		if (memcmp(a, b, sizeof(*a)) != 0)
			fail_msg("step %u (%s): event %u differs: type %u/%u reason %u/%u flow %u/%u "
				 "time %" PRIu64 "/%" PRIu64 " pkts %" PRIu64 ",%" PRIu64
				 "/%" PRIu64 ",%" PRIu64 " state %u/%u last %" PRIu64 "/%" PRIu64,
					step, what, i, a->type, b->type, a->reason, b->reason,
					a->flow.flow_id, b->flow.flow_id, a->time_ns, b->time_ns,
					a->flow.pkts[0], a->flow.pkts[1], b->flow.pkts[0],
					b->flow.pkts[1], a->flow.state, b->flow.state,
					a->flow.last_ns, b->flow.last_ns);
	}
}

static void
compare_counters(const struct dp_flow_table *tn, const struct ref_flow_table *to,
		uint64_t overflow_new, unsigned step)
{
	const struct dp_flow_counters *a = dp_flow_counters(tn);
	const struct ref_flow_counters *b = ref_flow_counters(to);

	assert_int_equal(a->active, b->active);
	assert_int_equal(a->created, b->created);
	for (unsigned r = 0; r <= DP_END_FLUSHED; r++)
		if (a->ended[r] != b->ended[r])
			fail_msg("step %u: ended[%s] %" PRIu64 " (new) vs %" PRIu64, step,
					dp_end_reason_name(r), a->ended[r], b->ended[r]);
	assert_int_equal(a->removed, b->removed);
	assert_int_equal(a->overflow, overflow_new);
	assert_int_equal(b->overflow, 0);
	uint64_t by = 0;

	for (unsigned r = 0; r < DP_OVERFLOW__COUNT; r++)
		by += a->overflow_by[r];
	assert_int_equal(by, a->overflow);
	by = 0;
	for (unsigned c = 0; c < DP_EVICT_PROTECTED; c++)
		by += a->evicted_by[c];
	assert_int_equal(by, a->ended[DP_END_EVICTED]);
	assert_int_equal(a->tcp_invalid, b->tcp_invalid);
	assert_int_equal(a->tcp_invalid_dropped, b->tcp_invalid_dropped);
	assert_int_equal(a->midstream, b->midstream);
	assert_int_equal(a->midstream_refused, b->midstream_refused);
	assert_int_equal(a->port_reuse, b->port_reuse);
	for (unsigned s = 0; s < DP_TCP__COUNT; s++)
		assert_int_equal(a->per_state[s], b->per_state[s]);
}

/* A pool of tuples: mostly IPv4, some IPv6, a few with three VLAN tags; every protocol. */
struct tuple {
	struct dp_pkt p;
};

static void
make_tuple(struct tuple *tu)
{
	struct dp_pkt *p = &tu->p;
	unsigned r = (unsigned)(rnd() % 100);
	uint32_t a = (uint32_t)rnd(), b = (uint32_t)rnd();

	memset(p, 0, sizeof(*p));
	p->l3 = r < 75 ? DP_L3_IPV4 : DP_L3_IPV6;
	if (p->l3 == DP_L3_IPV4) {
		/* A small address space: equal addresses and shared endpoints occur. */
		a = 0x0a000000 | (a & 0x3f);
		b = 0x0a000000 | (b & 0x3f);
		memcpy(p->src, &a, 4);
		memcpy(p->dst, &b, 4);
	} else {
		for (unsigned i = 0; i < 16; i++) {
			p->src[i] = (uint8_t)(i < 14 ? 0xfd : rnd() % 4);
			p->dst[i] = (uint8_t)(i < 14 ? 0xfd : rnd() % 4);
		}
	}
	if (r >= 95) {
		p->vlan[0] = (uint16_t)(rnd() % 4096);
		p->vlan[1] = (uint16_t)(rnd() % 4096);
		p->vlan[2] = (uint16_t)(1 + rnd() % 4095);
	} else if (r >= 85) {
		p->vlan[0] = (uint16_t)(rnd() % 4096);
	}
	r = (unsigned)(rnd() % 100);
	p->proto = r < 60   ? IPPROTO_TCP
		   : r < 85 ? IPPROTO_UDP
		   : r < 93 ? (p->l3 == DP_L3_IPV4 ? IPPROTO_ICMP : IPPROTO_ICMPV6)
			    : 47;
	if (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP) {
		p->sport = (uint16_t)(rnd() % 8 == 0 ? 80 : 1024 + rnd() % 64);
		p->dport = (uint16_t)(rnd() % 2 ? 80 : 1024 + rnd() % 64);
	} else if (p->proto != 47) {
		p->sport = p->dport = (uint16_t)(rnd() % 16);
	}
	p->l4_off = 34;
	p->payload_off = 54;
}

static void
packet_of(const struct tuple *tu, struct dp_pkt *p)
{
	static const uint8_t flags[] = {
		DP_TCPF_SYN,
		DP_TCPF_SYN | DP_TCPF_ACK,
		DP_TCPF_ACK,
		DP_TCPF_ACK,
		DP_TCPF_ACK | DP_TCPF_PSH,
		DP_TCPF_ACK | DP_TCPF_PSH,
		DP_TCPF_ACK | DP_TCPF_PSH,
		DP_TCPF_FIN | DP_TCPF_ACK,
		DP_TCPF_RST,
		DP_TCPF_RST | DP_TCPF_ACK,
		0,
		DP_TCPF_FIN,
		DP_TCPF_SYN | DP_TCPF_FIN,
	};

	*p = tu->p;
	if (rnd() % 2) {
		memcpy(p->src, tu->p.dst, 16);
		memcpy(p->dst, tu->p.src, 16);
		p->sport = tu->p.dport;
		p->dport = tu->p.sport;
	}
	if (p->proto == IPPROTO_TCP)
		p->tcp_flags = flags[rnd() % RTE_DIM(flags)];
	p->payload_len = (uint32_t)(rnd() % 4 == 0 ? 0 : rnd() % 1461);
}

struct run {
	struct dp_flow_table *tn;
	struct ref_flow_table *to;
	uint64_t overflow_new;
	unsigned step;
	unsigned flood;	    /* percent of packets that are SYNs from a source never seen */
	uint32_t flood_src; /* the next such source */
};

/* A flood's SYN: a new source each time (198.18.0.0/15, not in the pool's space). */
static void
flood_packet(struct run *r, struct dp_pkt *p)
{
	uint32_t s = 0xc6120000u | (r->flood_src++ & 0x1ffff), d = 0x0a000001;

	memset(p, 0, sizeof(*p));
	p->l3 = DP_L3_IPV4;
	p->proto = IPPROTO_TCP;
	memcpy(p->src, &s, 4);
	memcpy(p->dst, &d, 4);
	p->sport = (uint16_t)(1024 + rnd() % 60000);
	p->dport = 80;
	p->tcp_flags = DP_TCPF_SYN;
	p->l4_off = 34;
	p->payload_off = 54;
}

/* The SYN-ACK rule of the worker: its receiver initiated. */
static unsigned
initiator(const struct dp_pkt *p, unsigned src_is_b)
{
	bool synack = p->proto == IPPROTO_TCP &&
		      (p->tcp_flags & (DP_TCPF_SYN | DP_TCPF_ACK)) == (DP_TCPF_SYN | DP_TCPF_ACK);

	return synack ? src_is_b ^ 1 : src_is_b;
}

/* Create key j's flow in the new table, mirror its evictions and the creation in the old. */
static void
create_both(struct run *r, const struct dp_flow_lkey *lk, const struct dp_flow_key *k,
		const struct dp_pkt *p, unsigned src_is_b, uint64_t now, int32_t *pn, int32_t *po)
{
	uint64_t ev0 = dp_flow_counters(r->tn)->ended[DP_END_EVICTED];
	unsigned init_b = initiator(p, src_is_b);
	bool cn, co;

	n_ended = 0;
	*pn = dp_flow_create_lk(r->tn, lk, init_b, 0, now, &cn);
	uint64_t evicted = dp_flow_counters(r->tn)->ended[DP_END_EVICTED] - ev0;

	assert_true(evicted <= n_ended && n_ended <= RTE_DIM(ended_keys));
	for (unsigned e = n_ended - (unsigned)evicted; e < n_ended; e++) {
		int32_t v = ref_flow_lookup(r->to, (const struct ref_flow_key *)&ended_keys[e]);

		if (ended_protected[e])
			fail_msg("step %u: a protected flow was evicted", r->step);
		assert_true(v >= 0);
		ref_flow_end(r->to, v, DP_END_EVICTED, now);
	}
	if (*pn < 0) {
		r->overflow_new++;
		*po = -1;
		return;
	}
	*po = ref_flow_create(r->to, (const struct ref_flow_key *)k, init_b, 0, now, &co);
	assert_true(*po >= 0);
	assert_int_equal(cn, co);
	/* No policy: allowed at once, as the worker does. */
	if (cn) {
		dp_flow_hot_at(r->tn, *pn)->verdict = DP_VERDICT_ALLOW;
		ref_flow_at(r->to, *po)->verdict = DP_VERDICT_ALLOW;
	}
}

/* One burst through both tables, as process_burst() does. */
static void
burst(struct run *r, const struct tuple *pool, unsigned n_pool, unsigned n, uint64_t *now)
{
	struct dp_pkt pk[MAX_BURST];
	struct dp_flow_key wk[MAX_BURST];
	const struct ref_flow_key *wkp[MAX_BURST];
	struct dp_flow_lkey lk[MAX_BURST];
	uint64_t when[MAX_BURST], rm_n[MAX_BURST], rm_o[MAX_BURST];
	int32_t pn[MAX_BURST], po[MAX_BURST];
	struct dp_flow_hot *hn[MAX_BURST];
	unsigned sb[MAX_BURST];
	const struct dp_flow_counters *cn = dp_flow_counters(r->tn);
	const struct ref_flow_counters *co = ref_flow_counters(r->to);

	for (unsigned j = 0; j < n; j++) {
		if (r->flood > 0 && rnd() % 100 < r->flood)
			flood_packet(r, &pk[j]);
		else
			packet_of(&pool[rnd() % n_pool], &pk[j]);
		*now += rnd() % (2 * MS);
		when[j] = *now;
		sb[j] = dp_flow_key_make(&pk[j], &wk[j]);
		assert_int_equal(dp_flow_lkey_make(r->tn, &pk[j], &lk[j]), sb[j]);
		wkp[j] = (const struct ref_flow_key *)&wk[j];
	}
	dp_flow_lookup_burst(r->tn, lk, n, pn, hn);
	ref_flow_lookup_bulk(r->to, wkp, n, po);
	for (unsigned j = 0; j < n; j++) {
		assert_int_equal(pn[j] >= 0, po[j] >= 0);
		assert_ptr_equal(hn[j], pn[j] >= 0 ? dp_flow_hot_at(r->tn, pn[j]) : NULL);
	}

	/* Positions found before an entry was freed are looked up again (the new table frees
	 * fewer: a flow restarted in place keeps its entry). */
	uint64_t rn = dp_flow_removals(cn), ro = co->removed;
	for (unsigned j = 0; j < n; j++) {
		if (dp_flow_removals(cn) != rn)
			pn[j] = dp_flow_find(r->tn, &lk[j]);
		if (co->removed != ro)
			po[j] = ref_flow_lookup(r->to, wkp[j]);
		assert_int_equal(pn[j] >= 0, po[j] >= 0);
		if (pn[j] < 0)
			create_both(r, &lk[j], &wk[j], &pk[j], sb[j], when[j], &pn[j], &po[j]);
		rm_n[j] = dp_flow_removals(cn);
		rm_o[j] = co->removed;
	}
	compare_events(false, "flow stage", r->step);

	for (unsigned j = 0; j < n; j++) {
		const struct dp_pkt *p = &pk[j];
		uint32_t len = 64 + p->payload_len;

		if (pn[j] >= 0 && (dp_flow_removals(cn) != rm_n[j] || co->removed != rm_o[j])) {
			pn[j] = dp_flow_find(r->tn, &lk[j]);
			po[j] = ref_flow_lookup(r->to, wkp[j]);
			assert_int_equal(pn[j] >= 0, po[j] >= 0);
			if (pn[j] < 0)
				create_both(r, &lk[j], &wk[j], p, sb[j], when[j], &pn[j], &po[j]);
		}
		if (pn[j] < 0)
			continue;
		bool xn = dp_flow_expired(r->tn, pn[j], when[j]);

		assert_int_equal(xn, ref_flow_expired(r->to, po[j], when[j]));
		if (xn) {
			dp_flow_restart(r->tn, pn[j], initiator(p, sb[j]), 0, when[j]);
			ref_flow_restart(r->to, po[j], initiator(p, sb[j]), 0, when[j]);
		}
		bool okn = dp_flow_packet(r->tn, pn[j], p, sb[j], len, when[j]);
		bool oko = ref_flow_packet(r->to, po[j], p, sb[j], len, when[j]);

		assert_int_equal(okn, oko);
		if (dp_flow_hot_at(r->tn, pn[j])->verdict == DP_VERDICT_NONE) {
			assert_int_equal(ref_flow_at(r->to, po[j])->verdict, DP_VERDICT_NONE);
			dp_flow_hot_at(r->tn, pn[j])->verdict = DP_VERDICT_ALLOW;
			ref_flow_at(r->to, po[j])->verdict = DP_VERDICT_ALLOW;
		}
		if (!(dp_flow_hot_at(r->tn, pn[j])->flags & DP_FF_STARTED)) {
			dp_flow_started(r->tn, pn[j], when[j], NULL);
			ref_flow_started(r->to, po[j], when[j], NULL);
		}
		/* Both describe the flow alike after every packet. */
		struct dp_event_flow dn, dd;

		memset(&dn, 0, sizeof(dn));
		memset(&dd, 0, sizeof(dd));
		dp_flow_describe(r->tn, pn[j], &dn);
		ref_flow_describe(r->to, po[j], &dd);
		if (memcmp(&dn, &dd, sizeof(dn)) != 0)
			fail_msg("step %u: flow %u described differently", r->step, dn.flow_id);
	}
	compare_events(false, "decide", r->step);
	compare_counters(r->tn, r->to, r->overflow_new, r->step);
}

/* Sweep both whole tables (each in its own order). */
static void
age_both(struct run *r, uint64_t now, uint32_t max_new, uint32_t max_old)
{
	for (uint32_t i = 0; i < max_new / 8 + 2; i++)
		dp_flow_age(r->tn, now);
	for (uint32_t i = 0; i < max_old / 8 + 2; i++)
		ref_flow_age(r->to, now);
	compare_events(true, "aging", r->step);
	compare_counters(r->tn, r->to, r->overflow_new, r->step);
}

static void
run_stream(uint64_t seed, uint32_t cap, unsigned n_pool, unsigned steps, bool evict, unsigned flood)
{
	static unsigned serial;
	struct dp_flow_params pn = {
		.max_flows = cap,
		.evict = evict,
		.midstream = true,
		.aging_batch = 8,
		.update_interval_ns = 2 * SEC,
		.evict_idle_ns = EVICT_IDLE,
		.timeouts = timeouts(),
		.seed = seed,
		.worker = 1000 + serial,
		.socket = 0,
	};
	struct ref_flow_params po = {
		.max_flows = 8 * cap,
		.evict = false,
		.midstream = true,
		.aging_batch = 8,
		.update_interval_ns = 2 * SEC,
		.worker = 2000 + serial++,
		.socket = 0,
	};
	struct tuple *pool = calloc(n_pool, sizeof(*pool));
	struct run r = { 0 };
	uint64_t now = 1000 * SEC;

	rng = seed;
	r.flood = flood;
	memcpy(&po.timeouts, &pn.timeouts, sizeof(po.timeouts));
	assert_non_null(pool);
	for (unsigned i = 0; i < n_pool; i++)
		make_tuple(&pool[i]);
	side_init(&s_new, "diff_new");
	side_init(&s_old, "diff_old");
	r.tn = dp_flow_table_create(&pn);
	r.to = ref_flow_table_create(&po);
	assert_non_null(r.tn);
	assert_non_null(r.to);
	dp_flow_set_evq(r.tn, &s_new.evq);
	ref_flow_set_evq(r.to, &s_old.evq);
	dp_flow_set_end_hook(r.tn, on_end_new, r.tn);

	for (r.step = 0; r.step < steps; r.step++) {
		unsigned what = (unsigned)(rnd() % 100);

		if (what < 3) {
			now += (1 + rnd() % 8) * SEC; /* silence: flows expire */
			age_both(&r, now, cap, 8 * cap);
		} else if (what < 5) {
			now += rnd() % (3 * SEC); /* expiries found by lookups */
		} else {
			burst(&r, pool, n_pool, 1 + (unsigned)(rnd() % MAX_BURST), &now);
		}
	}
	dp_flow_flush_all(r.tn, DP_END_SHUTDOWN, now);
	ref_flow_flush_all(r.to, DP_END_SHUTDOWN, now);
	compare_events(true, "flush", r.step);
	compare_counters(r.tn, r.to, r.overflow_new, r.step);
	assert_int_equal(dp_flow_counters(r.tn)->active, 0);
	assert_int_equal(dp_flow_counters(r.tn)->long_keys, 0);
	const struct dp_flow_counters *c = dp_flow_counters(r.tn);

	print_message("seed %#" PRIx64 ": %" PRIu64 " flows, %" PRIu64 " evicted (closed %" PRIu64
		      ", unanswered %" PRIu64 ", idle %" PRIu64 "), %" PRIu64
		      " overflows (protected %" PRIu64 "), %" PRIu64 " timeouts, %" PRIu64
		      " port reuses, %" PRIu64 " bucket moves\n",
			seed, dp_flow_counters(r.tn)->created,
			dp_flow_counters(r.tn)->ended[DP_END_EVICTED],
			c->evicted_by[DP_EVICT_CLOSED], c->evicted_by[DP_EVICT_UNANSWERED],
			c->evicted_by[DP_EVICT_IDLE], r.overflow_new,
			c->overflow_by[DP_OVERFLOW_PROTECTED],
			dp_flow_counters(r.tn)->ended[DP_END_TIMEOUT],
			dp_flow_counters(r.tn)->port_reuse, dp_flow_counters(r.tn)->bucket_moves);
	dp_flow_table_free(r.tn);
	ref_flow_table_free(r.to);
	free(pool);
}

/* Room for every flow: lookups, creation, expiry, restarts, TCP, updates and aging agree. */
static void
test_streams_without_pressure(void **state)
{
	(void)state;
	for (uint64_t s = 1; s <= 4; s++)
		run_stream(0x9e3779b97f4a7c15ULL * s, 4096, 600, 3000, true, 0);
}

/* A table smaller than the tuples it sees: evictions (single entries and pairs for long
 * keys), keys moved between buckets, and everything else still agrees. */
static void
test_streams_with_evictions(void **state)
{
	(void)state;
	for (uint64_t s = 1; s <= 4; s++)
		run_stream(0x2545f4914f6cdd1dULL * s, 64, 600, 3000, true, 0);
	/* Nearly enough room: buckets fill up and keys move before anything is evicted. */
	for (uint64_t s = 1; s <= 4; s++)
		run_stream(0xbb67ae8584caa73bULL * s, 512, 560, 4000, true, 0);
}

/* Full without eviction: the new flows overflow, the others go on as before. */
static void
test_streams_with_overflow(void **state)
{
	(void)state;
	for (uint64_t s = 1; s <= 2; s++)
		run_stream(0x6a09e667f3bcc909ULL * s, 64, 300, 2000, false, 0);
}

/*
 * A SYN flood from ever new sources through a table the pool's conversations nearly fill:
 * victims are the flood's flows, closed and idle ones; answered flows seen in the last
 * EVICT_IDLE are never evicted (a new flow overflows instead), and all else still agrees.
 */
static void
test_streams_with_flood(void **state)
{
	(void)state;
	for (uint64_t s = 1; s <= 3; s++)
		run_stream(0x3c6ef372fe94f82bULL * s, 256, 200, 3000, true, 40);
	/* The conversations alone more than fill it: protected flows make new ones overflow. */
	run_stream(0xa54ff53a5f1d36f1ULL, 64, 200, 3000, true, 20);
}

static int
setup(void **state)
{
	(void)state;
	return vg_test_eal_init();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_streams_without_pressure),
		cmocka_unit_test(test_streams_with_evictions),
		cmocka_unit_test(test_streams_with_overflow),
		cmocka_unit_test(test_streams_with_flood),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
