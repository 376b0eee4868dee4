/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>

#include "dp_worker.h"
#include "vg_log.h"

#define NS_PER_MS 1000000ULL

/* Forwarded packets the TX queue refused: undo their tx count, count them as tx_full. */
static void
tx_unsent(struct rte_mbuf **pkts, uint16_t n, void *userdata)
{
	struct dp_port_counters *c = userdata;
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < n; i++)
		bytes += rte_pktmbuf_pkt_len(pkts[i]);
	c->tx_pkts -= n;
	c->tx_bytes -= bytes;
	c->tx_full += n;
	rte_pktmbuf_free_bulk(pkts, n);
}

static void
parse_policy_from_config(struct dp_parse_policy *pol, const struct vg_config *cfg)
{
	*pol = dp_parse_policy_default();
	pol->ipv4_cksum = cfg->parse_ipv4_checksum;
	for (unsigned i = 0; i < cfg->n_parse_forward; i++) {
		enum dp_parse_err e;

		if (dp_parse_err_from_name(cfg->parse_forward[i], &e) == 0)
			pol->drop[e] = 0;
	}
}

static void
flow_params_from_config(
		struct dp_flow_params *fp, const struct vg_config *cfg, unsigned id, int socket)
{
	const struct vg_flow_timeouts *to = &cfg->timeouts;

	memset(fp, 0, sizeof(*fp));
	fp->max_flows = cfg->flows_max;
	fp->overflow_open = cfg->flows_overflow_open;
	fp->evict = cfg->flows_evict;
	fp->midstream = cfg->flows_midstream;
	fp->tcp_strict = cfg->flows_tcp_strict;
	fp->aging_batch = cfg->flows_aging_batch;
	fp->update_interval_ns = cfg->flows_update_ms * NS_PER_MS;
	fp->timeouts = (struct dp_flow_timeouts){
		.tcp_syn = to->tcp_syn * NS_PER_MS,
		.tcp_established = to->tcp_established * NS_PER_MS,
		.tcp_closing = to->tcp_closing * NS_PER_MS,
		.tcp_time_wait = to->tcp_time_wait * NS_PER_MS,
		.tcp_closed = to->tcp_closed * NS_PER_MS,
		.udp = to->udp * NS_PER_MS,
		.icmp = to->icmp * NS_PER_MS,
		.other = to->other * NS_PER_MS,
	};
	fp->worker = id;
	fp->socket = socket;
}

struct dp_worker *
dp_worker_create(unsigned id, unsigned lcore, const struct vg_config *cfg)
{
	int socket = (int)rte_lcore_to_socket_id(lcore);
	struct dp_flow_params fp;
	char name[RTE_RING_NAMESIZE];
	struct dp_worker *w;

	w = rte_zmalloc_socket("dp_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);
	if (w == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	w->id = id;
	w->lcore = lcore;
	w->burst = cfg->burst;
	w->idle_sleep_us = cfg->idle_sleep_us;
	w->drain_tsc = (rte_get_tsc_hz() + 1000000 - 1) / 1000000 * cfg->tx_drain_us;
	w->n_ports = (uint16_t)cfg->n_ports;
	w->orphan_forward = cfg->frag_orphan_forward;
	w->overflow_open = cfg->flows_overflow_open;
	parse_policy_from_config(&w->parse_pol, cfg);

	flow_params_from_config(&fp, cfg, id, socket);
	w->flows = dp_flow_table_create(&fp);
	if (w->flows == NULL) {
		DP_LOG(ERR, "worker %u: flow table of %u flows: %s", id, cfg->flows_max,
				rte_strerror(rte_errno));
		goto fail;
	}
	w->frags = dp_frag_table_create(
			id, cfg->frag_max, cfg->frag_timeout_ms * NS_PER_MS, socket);
	if (w->frags == NULL) {
		DP_LOG(ERR, "worker %u: fragment table: %s", id, rte_strerror(rte_errno));
		goto fail;
	}
	snprintf(name, sizeof(name), "vg_events_%u", id);
	w->events = rte_ring_create_elem(name, sizeof(struct dp_event), cfg->event_ring_size,
			socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (w->events == NULL) {
		DP_LOG(ERR, "worker %u: event ring of %u: %s", id, cfg->event_ring_size,
				rte_strerror(rte_errno));
		goto fail;
	}
	w->evq.ring = w->events;
	w->evq.worker = (uint8_t)id;
	dp_flow_set_evq(w->flows, &w->evq);

	if (cfg->clock == VG_CLOCK_PACKET) {
		if (rte_mbuf_dyn_rx_timestamp_register(&w->ts_offset, &w->ts_flag) != 0) {
			DP_LOG(ERR, "worker %u: cannot register the RX timestamp field: %s", id,
					rte_strerror(rte_errno));
			goto fail;
		}
		dp_clock_init(&w->clock, DP_CLOCK_PACKET, cfg->clock_unit_ns);
	} else {
		dp_clock_init(&w->clock, DP_CLOCK_TSC, 1);
	}
	DP_LOG(INFO, "worker %u: flow table %u flows (%.1f MiB), fragment table %u datagrams", id,
			cfg->flows_max, (double)dp_flow_table_memory(w->flows) / (1 << 20),
			cfg->frag_max);
	return w;
fail:
	dp_worker_free(w);
	rte_errno = ENOMEM;
	return NULL;
}

void
dp_worker_free(struct dp_worker *w)
{
	if (w == NULL)
		return;
	for (unsigned p = 0; p < VG_MAX_PORTS; p++) {
		struct rte_eth_dev_tx_buffer *b = w->txb[p];

		if (b == NULL)
			continue;
		rte_pktmbuf_free_bulk(b->pkts, b->length);
		rte_free(b);
	}
	dp_flow_table_free(w->flows);
	dp_frag_table_free(w->frags);
	rte_ring_free(w->events);
	rte_free(w);
}

static int
ensure_txb(struct dp_worker *w, uint16_t port, uint16_t port_id, uint16_t queue)
{
	struct rte_eth_dev_tx_buffer *b;

	if (w->txb[port] != NULL)
		return 0;
	b = rte_zmalloc_socket("dp_txb", RTE_ETH_TX_BUFFER_SIZE(DP_MAX_BURST), 0,
			(int)rte_lcore_to_socket_id(w->lcore));
	if (b == NULL)
		return -ENOMEM;
	rte_eth_tx_buffer_init(b, (uint16_t)w->burst);
	rte_eth_tx_buffer_set_err_callback(b, tx_unsent, &w->ctr.port[port]);
	w->txb[port] = b;
	w->txq[port] = queue;
	w->tx_port_id[port] = port_id;
	return 0;
}

int
dp_worker_add_rx(struct dp_worker *w, uint16_t port, uint16_t port_id, uint16_t queue,
		uint16_t peer, uint16_t peer_port_id)
{
	struct dp_rx_source *s = &w->rx[w->n_rx++];

	s->port = port;
	s->port_id = port_id;
	s->queue = queue;
	s->peer = peer;
	/* Both ports of the pair use queue q in both directions; see dp_port.h. */
	if (ensure_txb(w, peer, peer_port_id, queue) != 0 ||
			ensure_txb(w, port, port_id, queue) != 0) {
		DP_LOG(ERR, "worker %u: no memory for TX buffers", w->id);
		return -ENOMEM;
	}
	return 0;
}

static inline uint64_t
packet_time(const struct dp_worker *w, const struct rte_mbuf *m)
{
	return *RTE_MBUF_DYNFIELD(m, w->ts_offset, const rte_mbuf_timestamp_t *);
}

/* Account a later fragment to the flow its first fragment created, and return its verdict. */
static bool
later_fragment(struct dp_worker *w, const struct dp_pkt *p, uint32_t len, uint64_t now)
{
	int32_t pos;
	uint32_t id;
	struct dp_flow *f;

	if (!dp_frag_find(w->frags, p, &pos, &id, now))
		return w->orphan_forward;
	f = dp_flow_at(w->flows, pos);
	if (!f->live || f->id != id)
		return w->orphan_forward;
	f->pkts[0]++; /* direction is unknown without ports: counted with the initiator's */
	f->bytes[0] += len;
	f->last_ns = now;
	return f->verdict == DP_VERDICT_ALLOW;
}

/* A packet the flow table can key: L4 ports parsed (or a protocol without ports). */
static inline bool
trackable(const struct dp_pkt *p)
{
	return p->l4_off != 0 && p->frag != DP_FRAG_LATER &&
	       (p->err == DP_PERR_NONE || p->payload_off != 0);
}

/*
 * One burst from one RX queue, in stages over the whole burst: parse all, key all, look all
 * up at once, then decide and account packet by packet, then transmit or free. Every packet
 * starts with the verdict "drop" and must earn "forward".
 */
static void
process_burst(struct dp_worker *w, const struct dp_rx_source *s, struct rte_mbuf **pkts, uint16_t n)
{
	struct dp_port_counters *in = &w->ctr.port[s->port];
	struct dp_pkt meta[DP_MAX_BURST];
	uint8_t drop[DP_MAX_BURST], fwd[DP_MAX_BURST], src_is_b[DP_MAX_BURST];
	uint64_t when[DP_MAX_BURST];
	struct dp_flow_key keys[DP_MAX_BURST];
	const struct dp_flow_key *kp[DP_MAX_BURST];
	uint16_t idx[DP_MAX_BURST];
	int32_t pos[DP_MAX_BURST];
	struct rte_mbuf *dropped[DP_MAX_BURST];
	uint16_t later[DP_MAX_BURST];
	unsigned m = 0, nd = 0, nl = 0;
	uint64_t bytes = 0, now = dp_clock_tick(&w->clock);

	dp_parse_burst(pkts, n, meta, &w->parse_pol, &w->parse_ctr, drop);

	for (uint16_t i = 0; i < n; i++) {
		const struct dp_pkt *p = &meta[i];

		bytes += rte_pktmbuf_pkt_len(pkts[i]);
		fwd[i] = 0;
		if (w->clock.source == DP_CLOCK_PACKET && (pkts[i]->ol_flags & w->ts_flag))
			now = dp_clock_packet(&w->clock, packet_time(w, pkts[i]));
		when[i] = now;
		if (drop[i])
			continue;
		if (p->l3 == DP_L3_NONE) {
			fwd[i] = 1; /* non-IP: transparent (the policy's l2 section will decide) */
		} else if (p->frag == DP_FRAG_LATER) {
			later[nl++] = i; /* after the flow stage: its first may be in this burst */
		} else if (!trackable(p)) {
			fwd[i] = 1; /* forwarded by the parse policy, but no 5-tuple to track */
		} else {
			src_is_b[m] = (uint8_t)dp_flow_key_make(p, &keys[m]);
			kp[m] = &keys[m];
			idx[m++] = i;
		}
	}
	in->rx_pkts += n;
	in->rx_bytes += bytes;

	if (m > 0)
		dp_flow_lookup_bulk(w->flows, kp, m, pos);
	const struct dp_flow_counters *fc = dp_flow_counters(w->flows);
	uint64_t removals = dp_flow_removals(fc);

	for (unsigned j = 0; j < m; j++) {
		unsigned i = idx[j];
		const struct dp_pkt *p = &meta[i];
		int32_t ps = pos[j];
		struct dp_flow *f;
		bool created;

		/* A flow ended earlier in this burst may have freed (and another taken) the slot
		 * the bulk lookup found: look again. Rare: only after an expiry or eviction. */
		if (unlikely(dp_flow_removals(fc) != removals))
			ps = dp_flow_lookup(w->flows, &keys[j]);
		if (ps < 0 || dp_flow_expired(w->flows, ps, when[i])) {
			ps = dp_flow_create(w->flows, &keys[j], src_is_b[j], s->port, when[i],
					&created);
			if (ps < 0) {
				fwd[i] = w->overflow_open;
				continue;
			}
		}
		if (!dp_flow_packet(w->flows, ps, p, src_is_b[j], rte_pktmbuf_pkt_len(pkts[i]),
				    when[i]))
			continue;
		f = dp_flow_at(w->flows, ps);
		if (f->verdict == DP_VERDICT_NONE) {
			/* A new flow (or a new connection on a finished one's tuple). */
			f->verdict = DP_VERDICT_ALLOW;
			dp_flow_started(w->flows, ps, when[i]);
		}
		fwd[i] = f->verdict == DP_VERDICT_ALLOW;
		if (p->frag == DP_FRAG_FIRST)
			dp_frag_remember(w->frags, p, ps, f->id, when[i]);
	}

	for (unsigned j = 0; j < nl; j++) {
		unsigned i = later[j];

		fwd[i] = later_fragment(w, &meta[i], rte_pktmbuf_pkt_len(pkts[i]), when[i]);
	}

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *mb = pkts[i];

		if (fwd[i]) {
			struct dp_port_counters *c = &w->ctr.port[s->peer];

			c->tx_pkts++;
			c->tx_bytes += rte_pktmbuf_pkt_len(mb);
			rte_eth_tx_buffer(w->tx_port_id[s->peer], w->txq[s->peer], w->txb[s->peer],
					mb);
		} else {
			dropped[nd++] = mb;
		}
	}
	if (nd > 0) {
		in->dropped += nd;
		rte_pktmbuf_free_bulk(dropped, nd);
	}
}

static void
drain_all(struct dp_worker *w)
{
	for (uint16_t p = 0; p < w->n_ports; p++)
		if (w->txb[p] != NULL)
			rte_eth_tx_buffer_flush(w->tx_port_id[p], w->txq[p], w->txb[p]);
}

/* Poll every queue once, process what arrived. Returns the number of packets. */
static unsigned
poll_queues(struct dp_worker *w)
{
	struct rte_mbuf *pkts[DP_MAX_BURST];
	unsigned got = 0;

	for (unsigned i = 0; i < w->n_rx; i++) {
		const struct dp_rx_source *s = &w->rx[i];
		uint16_t n = rte_eth_rx_burst(s->port_id, s->queue, pkts, (uint16_t)w->burst);

		if (n == 0)
			continue;
		got += n;
		w->ctr.rx_bursts++;
		process_burst(w, s, pkts, n);
	}
	return got;
}

/*
 * Replay with the packet clock and several queues: a capture per port is only faithful if the
 * ports' packets are interleaved by time, as they were on the wire. Each queue's burst is
 * staged; the queue with the earliest head goes first, as far as the other queues' heads allow.
 * (net_pcap hands out packets as fast as they are asked for, so an empty poll means the
 * capture is exhausted for now.)
 */
static unsigned
poll_queues_in_time_order(struct dp_worker *w)
{
	static const uint64_t none = UINT64_MAX;
	struct rte_mbuf *stage[VG_MAX_PORTS][DP_MAX_BURST];
	uint16_t len[VG_MAX_PORTS] = { 0 }, head[VG_MAX_PORTS] = { 0 };
	unsigned got = 0;

	for (;;) {
		bool stopping = __atomic_load_n(&w->quit, __ATOMIC_RELAXED);
		unsigned best = 0;
		uint64_t best_ts = none, second_ts = none;

		for (unsigned i = 0; i < w->n_rx && !stopping; i++) {
			if (head[i] == len[i]) {
				head[i] = 0;
				len[i] = rte_eth_rx_burst(w->rx[i].port_id, w->rx[i].queue,
						stage[i], (uint16_t)w->burst);
				got += len[i];
			}
		}
		for (unsigned i = 0; i < w->n_rx; i++) {
			uint64_t ts;

			if (head[i] == len[i])
				continue;
			ts = packet_time(w, stage[i][head[i]]);
			if (ts < best_ts) {
				second_ts = best_ts;
				best_ts = ts;
				best = i;
			} else if (ts < second_ts) {
				second_ts = ts;
			}
		}
		if (best_ts == none)
			return got;
		if (stopping)
			second_ts = none; /* finish what is staged, poll no more */
		uint16_t from = head[best], to = from;
		while (to < len[best] && packet_time(w, stage[best][to]) <= second_ts)
			to++;
		if (to == from)
			to++;
		w->ctr.rx_bursts++;
		process_burst(w, &w->rx[best], &stage[best][from], to - from);
		head[best] = to;
	}
}

int
dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	uint64_t prev_drain = rte_rdtsc();
	bool ordered = w->clock.source == DP_CLOCK_PACKET && w->n_rx > 1;

	DP_LOG(INFO, "worker %u on lcore %u: polling %u queue%s%s", w->id, rte_lcore_id(), w->n_rx,
			w->n_rx == 1 ? "" : "s", ordered ? " in packet time order" : "");

	while (!__atomic_load_n(&w->quit, __ATOMIC_ACQUIRE)) {
		uint64_t tsc = rte_rdtsc();
		unsigned got;

		if (unlikely(tsc - prev_drain > w->drain_tsc)) {
			drain_all(w);
			prev_drain = tsc;
		}
		got = ordered ? poll_queues_in_time_order(w) : poll_queues(w);

		uint64_t now = dp_clock_tick(&w->clock);
		dp_flow_age(w->flows, now);
		dp_frag_age(w->frags, now);
		dp_evq_flush(&w->evq);

		w->ctr.loops++;
		if (got > 0) {
			w->ctr.busy_loops++;
			w->ctr.busy_cycles += rte_rdtsc() - tsc;
		} else if (w->idle_sleep_us > 0)
			rte_delay_us_sleep(w->idle_sleep_us);
	}
	drain_all(w);
	/* Every flow still open ends now; its end event tells control what it carried. */
	dp_flow_flush_all(w->flows, DP_END_SHUTDOWN, dp_clock_tick(&w->clock));
	DP_LOG(INFO, "worker %u: stopped", w->id);
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	return 0;
}
