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
#include <rte_rcu_qsbr.h>

#include "dp_block.h"
#include "dp_bpf.h"
#include "dp_parse_mbuf.h"
#include "dp_reasm.h"
#include "dp_reject.h"
#include "dp_dispatch.h"
#include "dp_worker.h"
#include "rl_compile.h"
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

const char *
dp_stage_name(enum dp_stage_id s)
{
	static const char *const names[DP_ST__COUNT] = {
		[DP_ST_RX] = "rx",
		[DP_ST_PARSE] = "parse",
		[DP_ST_FLOW] = "flow",
		[DP_ST_CLASSIFY] = "classify",
		[DP_ST_DECIDE] = "decide",
		[DP_ST_INSPECT] = "inspect",
		[DP_ST_TX] = "tx",
		[DP_ST_HOUSE] = "housekeeping",
		[DP_ST_DISPATCH] = "dispatch",
	};

	return s < DP_ST__COUNT ? names[s] : "?";
}

/* Bench mode: the time since t goes to stage s; returns now. Without it, nothing is read. */
static inline uint64_t
stage_end(struct dp_worker *w, enum dp_stage_id s, uint64_t t)
{
	uint64_t now;

	if (likely(!w->stages))
		return 0;
	now = rte_rdtsc();
	w->ctr.stage_cycles[s] += now - t;
	return now;
}

static inline uint64_t
stage_start(const struct dp_worker *w)
{
	return unlikely(w->stages) ? rte_rdtsc() : 0;
}

static void
parse_policy_from_config(struct dp_parse_policy *pol, const struct vg_config *cfg)
{
	*pol = dp_parse_policy_default();
	pol->ipv4_cksum = cfg->parse_ipv4_checksum;
	pol->l4_cksum = cfg->parse_l4_checksum;
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

static uint64_t inspect_groups(const struct dp_worker *w, const struct dp_flow *f);

/*
 * A flow ends (the flow table's hook): the application-layer transactions it still holds are
 * inspected (their alerts precede the end event), then its inspection state is released.
 */
static void
flow_ended(void *arg, int32_t pos, struct dp_flow *f, uint64_t now)
{
	struct dp_worker *w = arg;

	const struct dp_flow_hot *h = dp_flow_hot(f);

	if (f->al != NULL && w->eng != NULL && (h->flags & DP_FF_INSPECT) &&
			!(f->det_flags & DP_DET_PASS))
		dp_inspect_flow_close(w->inspect, w->eng, w->flows, pos, f, inspect_groups(w, f),
				now,
				dp_shared_dry(w->shared, f->in_port) ||
						(h->flags & DP_FF_RULE_DRY_RUN),
				&w->evq);
	dp_inspect_flow_end(w->inspect, f);
}

struct dp_worker *
dp_worker_create(unsigned id, unsigned lcore, const struct vg_config *cfg,
		const struct al_config *alc, const struct dp_shared *shared,
		struct rte_rcu_qsbr *qsbr, const struct dp_blocklist *block)
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
	memcpy(w->exc, cfg->exceptions, sizeof(w->exc));
	w->shared = shared;
	w->qsbr = qsbr;
	w->block = block;
	w->inspect_all = cfg->inspect_all;
	w->stages = cfg->stats_stages;
	/* What one TSC read costs, to take out of per-packet stage figures (the smallest of a
	 * few back-to-back pairs). */
	w->tsc_read_cost = UINT64_MAX;
	for (int i = 0; i < 64; i++) {
		uint64_t a = rte_rdtsc(), b = rte_rdtsc();

		if (b - a < w->tsc_read_cost)
			w->tsc_read_cost = b - a;
	}
	parse_policy_from_config(&w->parse_pol, cfg);

	struct rl_rate reject_rate = {
		.unit = RL_RATE_PPS,
		.per = RL_PER_RULE,
		.rate = cfg->reject_rate,
		.burst = cfg->reject_rate / 10 + 1,
	};
	rl_tb_params_init(&w->reject_tb_params, &reject_rate, 1);
	rl_tb_reset(&w->reject_tb, &w->reject_tb_params, 0);
	snprintf(name, sizeof(name), "vg_ratesrc_%u", id);
	w->rate_src = rl_src_table_create(name, cfg->rate_sources, socket);
	if (w->rate_src == NULL) {
		DP_LOG(ERR, "worker %u: rate-limit source table: %s", id, rte_strerror(rte_errno));
		goto fail;
	}
	if (rte_rcu_qsbr_thread_register(qsbr, id) != 0) {
		DP_LOG(ERR, "worker %u: RCU registration failed", id);
		goto fail;
	}

	flow_params_from_config(&fp, cfg, id, socket);
	w->flows = dp_flow_table_create(&fp);
	if (w->flows == NULL) {
		DP_LOG(ERR, "worker %u: flow table of %u flows: %s", id, cfg->flows_max,
				rte_strerror(rte_errno));
		goto fail;
	}
	w->frags = dp_frag_table_create(
			id, cfg->frag_max, cfg->frag_timeout_ms * NS_PER_MS, socket);
	w->reasm = dp_reasm_create(id, cfg->frag_max, cfg->frag_timeout_ms * NS_PER_MS, socket);
	if (w->frags == NULL || w->reasm == NULL) {
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
	w->flow_ctr = dp_flow_counters(w->flows);
	w->inspect = dp_inspect_create(id, cfg->inspect_max_flows, socket, alc);
	if (w->inspect == NULL) {
		DP_LOG(ERR, "worker %u: inspection state: no memory", id);
		goto fail;
	}
	dp_inspect_set_exceptions(w->inspect, w->exc);
	dp_inspect_set_budget(w->inspect, cfg->inspect_budget_ns);
	dp_flow_set_end_hook(w->flows, flow_ended, w);

	if (cfg->clock == VG_CLOCK_PACKET) {
		w->stage = rte_zmalloc_socket(
				"dp_stage", sizeof(*w->stage), RTE_CACHE_LINE_SIZE, socket);
		if (w->stage == NULL)
			goto fail;
		if (rte_mbuf_dyn_rx_timestamp_register(&w->ts_offset, &w->ts_flag) != 0) {
			DP_LOG(ERR, "worker %u: cannot register the RX timestamp field: %s", id,
					rte_strerror(rte_errno));
			goto fail;
		}
		dp_clock_init(&w->clock, DP_CLOCK_PACKET, cfg->clock_unit_ns);
	} else {
		dp_clock_init(&w->clock, DP_CLOCK_TSC, 1);
	}
	DP_LOG(INFO,
			"worker %u: flow table %u flows (%.1f MiB, %zu bytes a flow), fragment table %u "
			"datagrams",
			id, cfg->flows_max, (double)dp_flow_table_memory(w->flows) / (1 << 20),
			dp_flow_table_memory(w->flows) / dp_flow_table_entries(w->flows),
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
	dp_inspect_free(w->inspect);
	dp_frag_table_free(w->frags);
	dp_reasm_free(w->reasm);
	rl_src_table_free(w->rate_src);
	rte_free(w->stage);
	rte_free(w->fo);
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

int
dp_worker_add_handoff_source(struct dp_worker *w, uint16_t port, uint16_t port_id, uint16_t peer,
		uint16_t peer_port_id)
{
	struct dp_rx_source *s = &w->ho.src[w->ho.n_src++];

	s->port = port;
	s->port_id = port_id;
	s->queue = 0;
	s->peer = peer;
	s->dispatch = false;
	if (ensure_txb(w, peer, peer_port_id, 0) != 0 || ensure_txb(w, port, port_id, 0) != 0) {
		DP_LOG(ERR, "worker %u: no memory for TX buffers", w->id);
		return -ENOMEM;
	}
	return 0;
}

/* A TX queue that workers share (software dispatch) is sent on under its lock. */
static inline void
tx_lock(struct dp_worker *w, uint16_t port)
{
	if (unlikely(w->txlock[port] != NULL))
		rte_spinlock_lock(w->txlock[port]);
}

static inline void
tx_unlock(struct dp_worker *w, uint16_t port)
{
	if (unlikely(w->txlock[port] != NULL))
		rte_spinlock_unlock(w->txlock[port]);
}

/* With fail-open configured, an RX queue is polled under its lock (dp_failopen.h). */
static inline void
rx_lock(const struct dp_rx_source *s)
{
	if (unlikely(s->rxlock != NULL))
		rte_spinlock_lock(s->rxlock);
}

static inline void
rx_unlock(const struct dp_rx_source *s)
{
	if (unlikely(s->rxlock != NULL))
		rte_spinlock_unlock(s->rxlock);
}

static inline uint64_t
packet_time(const struct dp_worker *w, const struct rte_mbuf *m)
{
	return *RTE_MBUF_DYNFIELD(m, w->ts_offset, const rte_mbuf_timestamp_t *);
}

/*
 * The signature groups the flow's policy rule names (0: every signature), from the snapshot
 * the flow was classified with; a flow of another epoch is re-classified on its next packet.
 */
static uint64_t
inspect_groups(const struct dp_worker *w, const struct dp_flow *f)
{
	const struct rl_snapshot *pol = dp_shared_policy(w->shared);
	const struct dp_flow_hot *h = dp_flow_hot(f);
	const struct rl_rule_info *ri;

	if (pol == NULL || dp_flow_rule(h) == RL_RULE_DEFAULT || h->epoch != rl_snapshot_epoch(pol))
		return 0;
	ri = rl_snapshot_rule(pol, dp_flow_rule(h));
	return ri != NULL ? ri->inspect_groups : 0;
}

/* Will this packet's flow be scanned with the signatures (if its verdict lets it through)? */
static inline bool
inspected(const struct dp_worker *w, const struct dp_flow_hot *h, int32_t pos)
{
	return w->eng != NULL && (h->flags & DP_FF_INSPECT) &&
	       !(dp_flow_at(w->flows, pos)->det_flags & DP_DET_PASS);
}

/*
 * Fragments of an inspected flow go to reassembly too; when one completes its datagram, the
 * whole datagram is scanned and the verdict is this fragment's (and the flow's).
 */
static enum dp_inspect_verdict
inspect_fragment(struct dp_worker *w, struct rte_mbuf *m, const struct dp_pkt *p, int32_t pos,
		bool dry, uint64_t now)
{
	struct dp_flow *f = dp_flow_at(w->flows, pos);
	struct dp_flow_key fk;
	struct dp_pkt whole;
	const uint8_t *d;
	uint32_t len;
	unsigned dir;

	if (!inspected(w, dp_flow_hot(f), pos))
		return DP_INSPECT_FORWARD;
	d = dp_reasm_feed(w->reasm, m, p, now, &len);
	if (d == NULL)
		return DP_INSPECT_FORWARD;
	/* Reassembly leaves the IPv4 checksum for whoever sends the datagram: not checked. */
	struct dp_parse_policy pol = w->parse_pol;
	pol.ipv4_cksum = false;
	if (dp_parse(d, len, &whole, &pol) != DP_PERR_NONE || whole.payload_off == 0)
		return DP_INSPECT_FORWARD;
	/* The datagram is inspected as the packet that completed it: that fragment's anomalies
	 * (DF on a fragment is gone from the rebuilt header) are its events. */
	whole.anom |= p->anom;
	dp_flow_key_get(w->flows, pos, &fk);
	dir = memcmp(whole.src, dp_flow_hot(f)->init_is_b ? fk.b : fk.a, 16) != 0;
	return dp_inspect_packet(w->inspect, w->eng, w->flows, pos, f, d + whole.payload_off,
			whole.payload_len, &whole, d, dir, inspect_groups(w, f), now, dry, &w->evq,
			NULL, NULL);
}

/* A packet the flow table can key: L4 ports parsed (or a protocol without ports). */
static inline bool
trackable(const struct dp_pkt *p)
{
	return p->l4_off != 0 && p->frag != DP_FRAG_LATER &&
	       (p->err == DP_PERR_NONE || p->payload_off != 0);
}

/* The policy's key for a flow: always from the initiator's side, whichever packet asks. */
static void
flow_rl_key(struct dp_worker *w, int32_t pos, struct rl_key *k)
{
	const struct dp_flow_hot *h = dp_flow_hot_at(w->flows, pos);
	const struct dp_flow *f = dp_flow_at(w->flows, pos);
	const bool b = h->init_is_b;
	struct dp_flow_key fk;

	dp_flow_key_get(w->flows, pos, &fk);
	k->proto = fk.proto;
	k->family = fk.family;
	k->in_port = f->in_port > UINT8_MAX ? UINT8_MAX : (uint8_t)f->in_port;
	k->tcp_flags = 0;
	k->vlan = rte_cpu_to_be_16((uint16_t)(fk.vlan & 0xfff));
	k->pad = 0;
	memcpy(k->src, b ? fk.b : fk.a, 16);
	memcpy(k->dst, b ? fk.a : fk.b, 16);
	if (fk.proto == IPPROTO_ICMP || fk.proto == IPPROTO_ICMPV6) {
		k->sport = rte_cpu_to_be_16(f->icmp_type);
		k->dport = rte_cpu_to_be_16(f->icmp_code);
	} else {
		k->sport = rte_cpu_to_be_16(b ? fk.b_port : fk.a_port);
		k->dport = rte_cpu_to_be_16(b ? fk.a_port : fk.b_port);
	}
}

static uint8_t
verdict_of(enum rl_action a)
{
	switch (a) {
	case RL_ACT_ALLOW:
		return DP_VERDICT_ALLOW;
	case RL_ACT_DROP:
		return DP_VERDICT_DROP;
	case RL_ACT_REJECT:
		return DP_VERDICT_REJECT;
	case RL_ACT_RATE_LIMIT:
		return DP_VERDICT_RATE_LIMIT;
	}
	return DP_VERDICT_DROP;
}

/*
 * Classify the flows queued in this burst (new ones, and old ones whose verdict came from an
 * earlier policy), in one rte_acl call per family, and record verdict, rule and epoch.
 */
static void
classify_flows(struct dp_worker *w, const struct rl_snapshot *pol, const int32_t *cls, unsigned nc,
		const uint64_t *cls_when)
{
	struct rl_key keys[DP_MAX_BURST];
	const struct rl_key *kp[DP_MAX_BURST];
	uint32_t rule[DP_MAX_BURST];
	struct rl_counters *rc = rl_snapshot_counters(pol, w->id);
	unsigned n_rules = rl_snapshot_n_rules(pol);
	uint32_t epoch = rl_snapshot_epoch(pol);

	for (unsigned c = 0; c < nc; c++) {
		flow_rl_key(w, cls[c], &keys[c]);
		kp[c] = &keys[c];
	}
	rl_classify_bulk(pol, kp, nc, rule);
	for (unsigned c = 0; c < nc; c++) {
		struct dp_flow_hot *h = dp_flow_hot_at(w->flows, cls[c]);
		bool again = h->verdict != DP_VERDICT_NONE;

		/* Queued twice (its slot was reused within the burst): classified already. */
		if (!(h->flags & DP_FF_CLASSIFY))
			continue;
		enum rl_action act = rl_snapshot_default(pol);
		uint8_t flags = h->flags & ~(DP_FF_CLASSIFY | DP_FF_LOG | DP_FF_RULE_DRY_RUN |
							   DP_FF_INSPECT | DP_FF_BPF);

		if (w->inspect_all)
			flags |= DP_FF_INSPECT;
		if (rule[c] != RL_RULE_DEFAULT) {
			const struct rl_rule_info *ri = rl_snapshot_rule(pol, rule[c]);

			act = ri->action;
			flags |= (ri->log ? DP_FF_LOG : 0) |
				 (ri->dry_run ? DP_FF_RULE_DRY_RUN : 0) |
				 (ri->n_inspect > 0 ? DP_FF_INSPECT : 0) |
				 (ri->prog != NULL ? DP_FF_BPF : 0);
		}
		h->flags = flags;
		h->verdict = verdict_of(act);
		dp_flow_set_rule(h, rule[c]);
		h->epoch = epoch;
		rc[rule[c] == RL_RULE_DEFAULT ? n_rules : rule[c]].flows++;
		w->ctr.policy.classified++;
		if (again) {
			w->ctr.policy.reclassified++;
			dp_flow_updated(w->flows, cls[c], cls_when[c], NULL);
		}
	}
}

/* Answer a rejected packet in place and send it back where it came from, within the budget. */
static bool
reject_answer(struct dp_worker *w, const struct dp_rx_source *s, struct rte_mbuf *m,
		const struct dp_pkt *p, uint64_t now)
{
	if (!rl_tb_take(&w->reject_tb, &w->reject_tb_params, now, 0) || !dp_reject_build(m, p)) {
		w->ctr.policy.rejects_suppressed++;
		return false;
	}
	w->ctr.policy.rejects_sent++;
	w->ctr.port[s->port].tx_pkts++;
	w->ctr.port[s->port].tx_bytes += rte_pktmbuf_pkt_len(m);
	tx_lock(w, s->port);
	rte_eth_tx_buffer(w->tx_port_id[s->port], w->txq[s->port], w->txb[s->port], m);
	tx_unlock(w, s->port);
	return true;
}

/*
 * rejectdst and rejectboth: the dropped segment becomes a reset to its receiver, sent on where it
 * was going (DP_DISP_FORWARD); for both, a copy of it first answers the sender. Within the same
 * budget as the answers. Returns the segment's disposition.
 */
static enum dp_disp
reject_receiver(struct dp_worker *w, const struct dp_rx_source *s, struct rte_mbuf *m,
		const struct dp_pkt *p, bool both, uint64_t now)
{
	enum dp_disp d = DP_DISP_DROP;

	if (both) {
		struct rte_mbuf *c = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);

		if (c == NULL)
			w->ctr.policy.rejects_suppressed++;
		else if (!reject_answer(w, s, c, p, now))
			rte_pktmbuf_free(c);
	}
	if (rl_tb_take(&w->reject_tb, &w->reject_tb_params, now, 0) && dp_reject_build_dst(m, p)) {
		w->ctr.policy.rejects_sent++;
		d = DP_DISP_FORWARD;
	} else {
		w->ctr.policy.rejects_suppressed++;
	}
	return d;
}

/* Within a rate-limit rule's rate? The bucket of per: source rules is the initiator's. */
static bool
rate_ok(struct dp_worker *w, const struct rl_snapshot *pol, int32_t pos, uint32_t len, uint64_t now)
{
	const struct dp_flow_hot *h = dp_flow_hot_at(w->flows, pos);
	struct dp_flow_key fk;
	struct rl_key k;

	dp_flow_key_get(w->flows, pos, &fk);
	k.family = fk.family;
	memcpy(k.src, h->init_is_b ? fk.b : fk.a, 16);
	return rl_snapshot_rate_take(pol, w->id, dp_flow_rule(h), w->rate_src, &k, len, now);
}

/*
 * DNS over UDP of a flow that is not inspected: its names and types travel with the flow's
 * events all the same (the anomaly detectors read them), through the application layer's DNS
 * parser. Inspected flows get them from their inspection.
 */
static inline bool
dns_facts(struct dp_worker *w, const struct rte_mbuf *m, const struct dp_pkt *p, int32_t pos,
		unsigned dir, struct dp_event_app *app)
{
	const uint8_t *pl;
	uint32_t len;

	if (likely(p->proto != IPPROTO_UDP || (p->dport != 53 && p->sport != 53)) ||
			inspected(w, dp_flow_hot_at(w->flows, pos), pos))
		return false;
	pl = dp_inspect_payload(w->inspect, m, p, &len);
	return pl != NULL &&
	       dp_inspect_dns(w->inspect, dp_flow_at(w->flows, pos), pl, len, p, dir, app);
}

/* An ICMP or ICMPv6 echo request or reply: its payload to the flow's echo record. */
static void
echo_facts(struct dp_worker *w, const struct rte_mbuf *m, const struct dp_pkt *p, int32_t pos)
{
	const bool v4 = p->proto == IPPROTO_ICMP;
	const bool req = p->icmp_type == (v4 ? 8 : 128);
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t seg = rte_pktmbuf_data_len(m), len = p->payload_len;

	if ((!req && p->icmp_type != (v4 ? 0 : 129)) || p->frag != DP_FRAG_NONE ||
			p->payload_off == 0 || p->l4_off + 8u > seg)
		return;
	/* What lies in the first segment (a frame is one segment but for jumbo chains). */
	if (p->payload_off + len > seg)
		len = seg > p->payload_off ? seg - p->payload_off : 0;
	dp_flow_echo(w->flows, pos, d + p->payload_off, len,
			(uint16_t)(d[p->l4_off + 6] << 8 | d[p->l4_off + 7]), req);
}

/*
 * Forwarded packets (already counted in tx) to port's TX queue. A burst of at least half the
 * burst size goes out at once (after what the port's buffer holds, to keep the order); smaller
 * ones wait in the buffer for company or the drain deadline, so that a trickle still leaves in
 * full bursts.
 */
static inline void
send_out(struct dp_worker *w, uint16_t port, struct rte_mbuf **out, unsigned no)
{
	struct rte_eth_dev_tx_buffer *b = w->txb[port];

	if (no == 0)
		return;
	tx_lock(w, port);
	if (no * 2 >= w->burst) {
		uint16_t sent;

		if (b->length > 0)
			rte_eth_tx_buffer_flush(w->tx_port_id[port], w->txq[port], b);
		sent = rte_eth_tx_burst(w->tx_port_id[port], w->txq[port], out, (uint16_t)no);
		if (unlikely(sent < no))
			tx_unsent(out + sent, (uint16_t)(no - sent), &w->ctr.port[port]);
	} else {
		for (unsigned i = 0; i < no; i++)
			rte_eth_tx_buffer(w->tx_port_id[port], w->txq[port], b, out[i]);
	}
	tx_unlock(w, port);
}

/*
 * Who starts a flow: the sender of its first packet, arriving on its port; but a SYN-ACK is
 * the server's answer, so its receiver is the client (a handshake picked up mid-way is
 * oriented client to server, as the policy and every record expect).
 */
static inline void
initiator_of(const struct dp_rx_source *s, const struct dp_pkt *p, unsigned src_is_b,
		unsigned *init_is_b, uint16_t *in_port)
{
	bool synack = p->proto == IPPROTO_TCP &&
		      (p->tcp_flags & (DP_TCPF_SYN | DP_TCPF_ACK)) == (DP_TCPF_SYN | DP_TCPF_ACK);

	*init_is_b = synack ? src_is_b ^ 1 : src_is_b;
	*in_port = synack ? s->peer : s->port;
}

/* Create the flow of key j after a miss; DP_NO_FLOW when the table is full. */
static int32_t
flow_create(struct dp_worker *w, const struct dp_burst *b, unsigned j)
{
	const struct dp_pkt *p = &b->meta[b->idx[j]];
	bool created;
	unsigned init_b;
	uint16_t in_port;

	initiator_of(b->src, p, b->keys[j].src_is_b, &init_b, &in_port);
	int32_t ps = dp_flow_create_lk(
			w->flows, &b->keys[j], init_b, in_port, b->when[b->idx[j]], &created);

	if (ps < 0)
		return DP_NO_FLOW;
	if (created) {
		dp_flow_at(w->flows, ps)->icmp_type = p->icmp_type;
		dp_flow_at(w->flows, ps)->icmp_code = p->icmp_code;
	}
	return ps;
}

/* Does the flow need (re-)classifying: no verdict, or one of an older policy? */
static inline bool
needs_verdict(const struct dp_burst *b, const struct dp_flow_hot *h)
{
	return h->verdict == DP_VERDICT_NONE || (b->pol != NULL && h->epoch != b->epoch);
}

/*
 * A flow without a verdict, or with one of an older policy, is queued for classification
 * (once: DP_FF_CLASSIFY); without a policy every flow is allowed at once.
 */
static void
queue_classify(struct dp_worker *w, struct dp_burst *b, int32_t ps, uint64_t when)
{
	struct dp_flow_hot *h = dp_flow_hot_at(w->flows, ps);

	if (!needs_verdict(b, h) || (h->flags & DP_FF_CLASSIFY))
		return;
	if (b->pol == NULL) {
		h->verdict = DP_VERDICT_ALLOW;
		dp_flow_set_rule(h, RL_RULE_DEFAULT);
		h->epoch = 0;
		if (w->inspect_all)
			h->flags |= DP_FF_INSPECT;
		return;
	}
	h->flags |= DP_FF_CLASSIFY;
	b->cls_when[b->nc] = when;
	b->cls[b->nc++] = ps;
}

/* ---- the packet path: one burst from one RX queue, stage by stage ---- */

/* How far ahead packet data is prefetched while the burst is parsed. */
#define PARSE_PREFETCH 4

/* The IP packets whose source or destination is on the blocklist: no flow, no verdict. */
static void
apply_blocklist(struct dp_worker *w, struct dp_burst *b, uint64_t parse_dropped)
{
	uint8_t family[DP_MAX_BURST], hit[DP_MAX_BURST];
	const uint8_t *src[DP_MAX_BURST], *dst[DP_MAX_BURST];
	uint16_t at[DP_MAX_BURST];
	uint64_t blocked = 0;
	unsigned k = 0, m = 0, nl = 0;

	for (uint16_t i = 0; i < b->n; i++) {
		if ((parse_dropped >> i & 1) || b->meta[i].l3 == DP_L3_NONE)
			continue;
		family[k] = b->meta[i].l3;
		src[k] = b->meta[i].src;
		dst[k] = b->meta[i].dst;
		at[k++] = i;
	}
	if (k == 0)
		return;
	dp_blocklist_check(w->block, k, family, src, dst, hit);
	for (unsigned j = 0; j < k; j++) {
		if (!hit[j])
			continue;
		blocked |= 1ULL << at[j];
		w->ctr.policy.blocked++;
		if (b->dry_all)
			w->ctr.policy.would_drop++;
		b->disp[at[j]] = b->dry_all ? DP_DISP_FORWARD : DP_DISP_DROP;
	}
	/* A blocked host creates no flow: out of the keyed and the fragment lists. */
	for (unsigned j = 0; j < b->m; j++)
		if (!(blocked >> b->idx[j] & 1)) {
			b->keys[m] = b->keys[j];
			b->idx[m++] = b->idx[j];
		}
	for (unsigned l = 0; l < b->nl; l++)
		if (!(blocked >> b->later[l] & 1))
			b->later[nl++] = b->later[l];
	b->m = m;
	b->nl = nl;
}

/*
 * The port's pre-filter (docs/BPF.md) on each IP packet headed for the flow table or the
 * fragment list: dropped and rejected packets leave both lists, as blocked ones do; in dry-run
 * they are counted as "would drop" and go on.
 */
static __rte_noinline void
apply_prefilter(struct dp_worker *w, struct dp_burst *b)
{
	uint64_t gone = 0;
	unsigned j = 0, l = 0, m = 0, nl = 0;

	while (j < b->m || l < b->nl) {
		const bool frag = l < b->nl && (j >= b->m || b->later[l] < b->idx[j]);
		const uint16_t i = frag ? b->later[l++] : b->idx[j++];
		enum dp_bpf_verdict x = dp_bpf_prefilter(b->pre, w->id, b->pre_idx, b->pkts[i],
				&b->meta[i], b->src->port, b->when[i], &w->evq);

		if (likely(x == DP_BPF_RULE))
			continue;
		if (b->dry_all) {
			w->ctr.policy.would_drop++;
			continue;
		}
		gone |= 1ULL << i;
		w->ctr.policy.dropped++;
		b->disp[i] = DP_DISP_DROP;
		if (x == DP_BPF_REJECT &&
				reject_answer(w, b->src, b->pkts[i], &b->meta[i], b->when[i]))
			b->disp[i] = DP_DISP_ANSWERED;
	}
	if (gone == 0)
		return;
	for (j = 0; j < b->m; j++)
		if (!(gone >> b->idx[j] & 1)) {
			b->keys[m] = b->keys[j];
			b->idx[m++] = b->idx[j];
		}
	for (l = 0; l < b->nl; l++)
		if (!(gone >> b->later[l] & 1))
			b->later[nl++] = b->later[l];
	b->m = m;
	b->nl = nl;
}

/*
 * A packet the parser refused (or let by without a flow): the rules on packet events see it,
 * as Suricata runs decoder-event rules on packets it cannot decode further. Alert rules alert;
 * a refused packet stays dropped whatever they say.
 */
static enum dp_inspect_verdict
refused_events(struct dp_worker *w, const struct dp_burst *b, const struct rte_mbuf *m,
		const struct dp_pkt *p, uint64_t now)
{
	return dp_inspect_events(w->inspect, w->eng, m, p, b->src->port, now, b->dry_all, &w->evq);
}

/*
 * Parse: each packet's headers, its time, and where it goes next: the L2 policy (not IP),
 * the fragment list (a later fragment follows its first), forward untracked (no 5-tuple), or
 * the flow table, keyed and hashed here with its bucket prefetched. Then the blocklist.
 */
static __rte_noinline void
stage_parse(struct dp_worker *w, struct dp_burst *b)
{
	struct rte_mbuf **pkts = b->pkts;
	const uint16_t n = b->n;
	const bool pkt_clock = w->clock.source == DP_CLOCK_PACKET;
	struct dp_port_counters *in = &w->ctr.port[b->src->port];
	uint64_t now = dp_clock_tick_at(&w->clock, w->loop_tsc), bytes = 0, dropped = 0;
	unsigned m = 0, nl = 0, nd = 0;

	for (uint16_t i = 0; i < PARSE_PREFETCH && i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct dp_pkt *p = &b->meta[i];
		uint32_t hw;
		uint8_t drop;

		if (i + PARSE_PREFETCH < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PARSE_PREFETCH], void *));
		bytes += rte_pktmbuf_pkt_len(pkts[i]);
		if (pkt_clock && (pkts[i]->ol_flags & w->ts_flag))
			now = dp_clock_packet(&w->clock, packet_time(w, pkts[i]));
		b->when[i] = now;
		b->disp[i] = DP_DISP_DROP;
		hw = dp_parse_mbuf_hw(pkts[i], &w->parse_pol, &w->parse_ctr);
		/* Most packets: clean TCP or UDP over IP, not a fragment, for the flow table. */
		if (likely(dp_parse_mbuf_fast(pkts[i], p, &w->parse_pol, hw, &w->parse_ctr))) {
			dp_flow_lkey_make(w->flows, p, &b->keys[m]);
			b->idx[m++] = i;
			continue;
		}
		drop = dp_parse_mbuf_full(pkts[i], p, &w->parse_pol, hw, &w->parse_ctr);
		if (unlikely(drop)) {
			dropped |= 1ULL << i;
			nd++;
			if (w->eng != NULL)
				refused_events(w, b, pkts[i], p, now);
		} else if (unlikely(p->l3 == DP_L3_NONE)) {
			bool pass = b->pol == NULL ||
				    rl_l2_verdict(b->pol, p->ether_type) == RL_L2_PASS;

			b->disp[i] = pass ? DP_DISP_FORWARD : DP_DISP_DROP;
			if (!pass)
				w->ctr.policy.l2_dropped++;
		} else if (unlikely(p->frag == DP_FRAG_LATER)) {
			b->later[nl++] = i; /* after the flow stage: its first may be in this burst
					     */
		} else if (likely(trackable(p))) {
			dp_flow_lkey_make(w->flows, p, &b->keys[m]);
			b->idx[m++] = i;
		} else {
			b->disp[i] = DP_DISP_FORWARD; /* the parse policy let it by: no 5-tuple */
			if (unlikely(p->err != DP_PERR_NONE) && w->eng != NULL &&
					refused_events(w, b, pkts[i], p, now) == DP_INSPECT_DROP)
				b->disp[i] = DP_DISP_DROP;
		}
	}
	w->parse_ctr.dropped += nd;
	in->rx_pkts += n;
	in->rx_bytes += bytes;
	b->m = m;
	b->nl = nl;
	if (unlikely(dp_blocklist_count(w->block) > 0))
		apply_blocklist(w, b, dropped);
	if (unlikely(b->pre != NULL))
		apply_prefilter(w, b);
}

/*
 * The policy's key (rules/rl_key.h) of a parsed IP packet that arrived on in_port. ICMP type
 * and code go into the port fields (the policy cannot ask for ports on ICMP, so they never mean
 * both). A non-first fragment has no L4 header: its ports are 0 and its flow's verdict should
 * decide it.
 */
static inline void
policy_key(const struct dp_pkt *p, uint16_t in_port, struct rl_key *k)
{
	k->proto = p->proto;
	k->family = p->l3;
	k->in_port = in_port > UINT8_MAX ? UINT8_MAX : (uint8_t)in_port;
	k->tcp_flags = p->proto == 6 ? p->tcp_flags : 0;
	k->vlan = htons(p->vlan[0]);
	k->pad = 0;
	memcpy(k->src, p->src, sizeof(k->src));
	memcpy(k->dst, p->dst, sizeof(k->dst));
	if (p->frag == DP_FRAG_LATER) {
		k->sport = 0;
		k->dport = 0;
	} else if (p->proto == 1 || p->proto == 58) {
		k->sport = htons(p->icmp_type);
		k->dport = htons(p->icmp_code);
	} else {
		k->sport = htons(p->sport);
		k->dport = htons(p->dport);
	}
}

/* Stateless (tcp_flags) rules look at every keyed packet, flow or no flow. */
static void
stateless_rules(struct dp_burst *b)
{
	struct rl_key sk[DP_MAX_BURST];
	const struct rl_key *skp[DP_MAX_BURST];

	if (likely(b->pol == NULL || b->m == 0 || !rl_snapshot_has_stateless(b->pol))) {
		for (unsigned j = 0; j < b->m; j++)
			b->sl_rule[j] = RL_RULE_DEFAULT;
		return;
	}
	for (unsigned j = 0; j < b->m; j++) {
		policy_key(&b->meta[b->idx[j]], b->src->port, &sk[j]);
		skp[j] = &sk[j];
	}
	rl_classify_stateless_bulk(b->pol, skp, b->m, b->sl_rule);
}

/*
 * Flows: find every keyed packet's flow (one pipelined lookup for the burst), create the
 * missing ones, and queue the new ones for classification. What a packet does to its flow
 * (counters, TCP state, expiry) waits for its own turn in stage_decide, so that each packet is
 * decided and inspected with its flow as it was when the packet arrived, whatever else the
 * burst holds.
 */
static __rte_noinline void
stage_flows(struct dp_worker *w, struct dp_burst *b)
{
	const struct dp_flow_counters *fc = w->flow_ctr;
	uint64_t removals;

	stateless_rules(b);
	if (b->m == 0)
		return;
	dp_flow_lookup_burst(w->flows, b->keys, b->m, b->pos, b->hot);
	removals = dp_flow_removals(fc);
	for (unsigned j = 0; j < b->m; j++) {
		struct dp_flow_hot *h = b->hot[j];

		/* A creation earlier in this burst may have evicted (and another key taken) the
		 * slot the lookup found: look again. Rare: only when the table is full. */
		if (unlikely(dp_flow_removals(fc) != removals || h == NULL)) {
			int32_t ps = dp_flow_removals(fc) != removals
						     ? dp_flow_find(w->flows, &b->keys[j])
						     : b->pos[j];

			if (ps < 0)
				ps = flow_create(w, b, j);
			b->pos[j] = ps;
			h = b->hot[j] = ps >= 0 ? dp_flow_hot_at(w->flows, ps) : NULL;
		}
		b->rm[j] = dp_flow_removals(fc);
		if (likely(h != NULL) && unlikely(needs_verdict(b, h)))
			queue_classify(w, b, b->pos[j], b->when[b->idx[j]]);
		/* A packet whose turn in decide reads its flow's cold record (an event, an eBPF
		 * program): that line is fetched while the burst goes on. */
		if (likely(h != NULL) && unlikely(dp_flow_cold_soon(h, b->bpf_cold)))
			rte_prefetch0(dp_flow_cold(h));
	}
}

/* Classify: the burst's new flows (and those of an older policy) in one call. */
static void
stage_classify(struct dp_worker *w, struct dp_burst *b)
{
	if (b->nc > 0)
		classify_flows(w, b->pol, b->cls, b->nc, b->cls_when);
}

/*
 * Inspect an allowed packet of an inspected flow (signatures, application layer, reassembled
 * fragments); returns its disposition. In bench mode its time goes to "inspect" and not to
 * "decide", the reads' own cost taken out of both.
 */
static enum dp_disp
inspect_packet(struct dp_worker *w, const struct dp_burst *b, unsigned i, int32_t ps, unsigned dir,
		bool dry)
{
	const uint64_t t = stage_start(w);
	struct rte_mbuf *m = b->pkts[i];
	const struct dp_pkt *p = &b->meta[i];
	struct dp_flow *f = dp_flow_at(w->flows, ps);
	enum dp_disp d = DP_DISP_FORWARD;
	struct dp_event_app app;
	bool have_app = false;
	uint32_t plen;
	const uint8_t *pl = dp_inspect_payload(w->inspect, m, p, &plen);
	enum dp_inspect_verdict iv = dp_inspect_packet(w->inspect, w->eng, w->flows, ps, f, pl,
			plen, p, rte_pktmbuf_mtod(m, const uint8_t *), dir, inspect_groups(w, f),
			b->when[i], dry, &w->evq, &app, &have_app);

	if (have_app)
		dp_flow_updated(w->flows, ps, b->when[i], &app);
	/* A first fragment also starts the datagram's reassembly. */
	if (iv == DP_INSPECT_FORWARD && p->frag == DP_FRAG_FIRST)
		iv = inspect_fragment(w, m, p, ps, dry, b->when[i]);
	if (iv != DP_INSPECT_FORWARD) {
		d = DP_DISP_DROP;
		w->ctr.policy.dropped++;
		if (iv == DP_INSPECT_REJECT && reject_answer(w, b->src, m, p, b->when[i]))
			d = DP_DISP_ANSWERED;
		else if (iv == DP_INSPECT_REJECT_DST || iv == DP_INSPECT_REJECT_BOTH)
			d = reject_receiver(
					w, b->src, m, p, iv == DP_INSPECT_REJECT_BOTH, b->when[i]);
	}
	if (unlikely(w->stages)) {
		uint64_t dt = rte_rdtsc() - t;

		w->ctr.stage_cycles[DP_ST_INSPECT] += dt - w->tsc_read_cost;
		w->ctr.stage_cycles[DP_ST_DECIDE] -= dt + w->tsc_read_cost;
	}
	return d;
}

/*
 * No flow entry for the packet (the table is full and nothing could be evicted): the
 * flow_table_full exception. There is no flow to bypass or drop: pass and bypass forward the
 * packet untracked, the drops drop it, reject answers it. Dry-run forwards and counts.
 */
static __rte_noinline enum dp_disp
table_full(struct dp_worker *w, struct dp_burst *b, unsigned i)
{
	const uint8_t a = w->exc[VG_EXC_FLOW_TABLE_FULL];

	w->ctr.policy.exceptions[VG_EXC_FLOW_TABLE_FULL]++;
	if (a == VG_EXC_PASS || a == VG_EXC_BYPASS)
		return DP_DISP_FORWARD;
	if (b->dry_all) {
		w->ctr.policy.would_drop++;
		return DP_DISP_FORWARD;
	}
	if (a == VG_EXC_REJECT && reject_answer(w, b->src, b->pkts[i], &b->meta[i], b->when[i]))
		return DP_DISP_ANSWERED;
	return DP_DISP_DROP;
}

/*
 * A TCP connection picked up without its handshake (flows.midstream), at its first packet: the
 * midstream exception. bypass: never inspected; drop-packet: this packet dropped; drop-flow and
 * reject: the flow's verdict becomes drop or reject, which the rest of decide_rest applies (and
 * dry-run only counts). Returns true with *d when the packet is decided here.
 */
static bool
midstream_exception(struct dp_worker *w, struct dp_burst *b, int32_t ps, struct dp_flow_hot *h,
		enum dp_disp *d)
{
	const uint8_t a = w->exc[VG_EXC_MIDSTREAM];

	w->ctr.policy.exceptions[VG_EXC_MIDSTREAM]++;
	switch (a) {
	case VG_EXC_BYPASS:
		dp_flow_at(w->flows, ps)->det_flags |= DP_DET_PASS;
		return false;
	case VG_EXC_DROP_PACKET:
		if (b->dry_all) {
			w->ctr.policy.would_drop++;
			return false;
		}
		w->ctr.policy.dropped++;
		*d = DP_DISP_DROP;
		return true;
	case VG_EXC_DROP_FLOW:
		h->verdict = DP_VERDICT_DROP;
		return false;
	case VG_EXC_REJECT:
		h->verdict = DP_VERDICT_REJECT;
		return false;
	default:
		return false;
	}
}

/*
 * A packet of a flow to inspect before the signatures are in force (signatures.delayed): the
 * signatures_loading exception. pass: forwarded uninspected (the flow is inspected from the
 * engine's arrival on); bypass: the flow is never inspected; drop-packet: dropped until then;
 * drop-flow and reject: the flow's verdict becomes drop or reject (reject answers). Dry-run
 * counts and forwards.
 */
static __rte_noinline enum dp_disp
sigs_loading(struct dp_worker *w, struct dp_burst *b, unsigned i, struct dp_flow_hot *h, int32_t ps,
		bool dry)
{
	const uint8_t a = w->exc[VG_EXC_SIGS_LOADING];

	w->ctr.policy.exceptions[VG_EXC_SIGS_LOADING]++;
	if (a == VG_EXC_PASS)
		return DP_DISP_FORWARD;
	if (a == VG_EXC_BYPASS) {
		dp_flow_at(w->flows, ps)->det_flags |= DP_DET_PASS;
		return DP_DISP_FORWARD;
	}
	if (dry) {
		w->ctr.policy.would_drop++;
		h->flags |= DP_FF_WOULD_DROP;
		return DP_DISP_FORWARD;
	}
	w->ctr.policy.dropped++;
	if (a != VG_EXC_DROP_PACKET)
		h->verdict = a == VG_EXC_REJECT ? DP_VERDICT_REJECT : DP_VERDICT_DROP;
	if (a == VG_EXC_REJECT && reject_answer(w, b->src, b->pkts[i], &b->meta[i], b->when[i]))
		return DP_DISP_ANSWERED;
	return DP_DISP_DROP;
}

/*
 * The rest of a keyed packet's turn when its flow is not simply allowed and under way: a
 * verdict to find (a flow the packet restarted), a first fragment to remember, DNS facts, the
 * start event, dry-run, rate limits, stateless drops, inspection, reject answers.
 */
static enum dp_disp decide_verdict(struct dp_worker *w, struct dp_burst *b, unsigned j, int32_t ps,
		struct dp_flow_hot *h, uint8_t v);

/*
 * The verdict of a packet of a flow whose rule runs a program (DP_FF_BPF): the program's, or
 * v (the flow's) when it leaves the packet to the rule.
 */
static inline uint8_t
bpf_verdict(struct dp_worker *w, const struct dp_burst *b, unsigned j, int32_t ps,
		const struct dp_flow_hot *h, uint8_t v)
{
	static const uint8_t bv[] = { [DP_BPF_DROP] = DP_VERDICT_DROP,
		[DP_BPF_REJECT] = DP_VERDICT_REJECT,
		[DP_BPF_ALLOW] = DP_VERDICT_ALLOW };
	const unsigned i = b->idx[j];
	const uint32_t r = dp_flow_rule(h);
	const struct rl_rule_info *ri = b->pol != NULL ? rl_snapshot_rule(b->pol, r) : NULL;
	enum dp_bpf_verdict x;

	if (ri == NULL || ri->prog == NULL)
		return v;
	x = dp_bpf_packet(ri->prog, w->id, r, w->flows, ps, b->pkts[i], &b->meta[i],
			b->keys[j].src_is_b ^ h->init_is_b, b->when[i], &w->evq);
	return x != DP_BPF_RULE ? bv[x] : v;
}

static enum dp_disp
decide_rest(struct dp_worker *w, struct dp_burst *b, unsigned j, int32_t ps, struct dp_flow_hot *h)
{
	const unsigned i = b->idx[j];
	struct rte_mbuf *m = b->pkts[i];
	const struct dp_pkt *p = &b->meta[i];
	const uint64_t now = b->when[i];
	const unsigned dir = b->keys[j].src_is_b ^ h->init_is_b;
	uint8_t v;

	/* A flow this packet restarted (expiry, or a SYN reusing a closed tuple) needs its
	 * verdict now. */
	if (unlikely(h->verdict == DP_VERDICT_NONE)) {
		b->nc = 0; /* the burst's list was classified already */
		queue_classify(w, b, ps, now);
		if (b->nc > 0)
			classify_flows(w, b->pol, b->cls, 1, b->cls_when);
	}
	if (unlikely(p->frag == DP_FRAG_FIRST))
		dp_frag_remember(w->frags, p, ps, dp_flow_cold(h)->id, now);
	/* A DNS query's name and type travel with the flow's events (for the detectors). */
	struct dp_event_app app;
	bool dns = dns_facts(w, m, p, ps, dir, &app);

	if (!(h->flags & DP_FF_STARTED)) {
		dp_flow_started(w->flows, ps, now, dns ? &app : NULL);
		/* Picked up mid-stream: the exception, at the flow's first packet. */
		if (unlikely(h->flags & DP_FF_MIDSTREAM)) {
			enum dp_disp d;

			if (midstream_exception(w, b, ps, h, &d))
				return d;
		}
	} else if (dns) {
		dp_flow_updated(w->flows, ps, now, &app);
	}
	/* An echo's payload, against its request (for the ICMP tunnel detector). */
	if (p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6)
		echo_facts(w, m, p, ps);

	v = h->verdict;
	/* The rule's program, until it caches its answer: this packet's verdict. */
	if (unlikely(h->flags & DP_FF_BPF))
		v = bpf_verdict(w, b, j, ps, h, v);
	return decide_verdict(w, b, j, ps, h, v);
}

/*
 * A packet whose verdict is v (its flow's, or its flow's program's): rate limits, stateless
 * drops, inspection, dry-run, reject answers.
 */
static enum dp_disp
decide_verdict(struct dp_worker *w, struct dp_burst *b, unsigned j, int32_t ps,
		struct dp_flow_hot *h, uint8_t v)
{
	const unsigned i = b->idx[j];
	struct rte_mbuf *m = b->pkts[i];
	const struct dp_pkt *p = &b->meta[i];
	const uint64_t now = b->when[i];
	const uint32_t len = rte_pktmbuf_pkt_len(m);
	const unsigned dir = b->keys[j].src_is_b ^ h->init_is_b;
	bool would = false, dry;

	dry = b->dry_all || (h->flags & DP_FF_RULE_DRY_RUN);
	if (b->rc != NULL) {
		uint32_t r = dp_flow_rule(h);
		struct rl_counters *c = &b->rc[r == RL_RULE_DEFAULT ? b->n_rules : r];

		c->packets++;
		c->bytes += len;
	}
	if (v == DP_VERDICT_RATE_LIMIT && b->pol != NULL && !rate_ok(w, b->pol, ps, len, now)) {
		w->ctr.policy.rate_limited++;
		would = true;
	} else if (v == DP_VERDICT_DROP || v == DP_VERDICT_REJECT) {
		would = true;
	}
	/* A stateless rule that drops overrides the flow's verdict for this packet. */
	if (!would && b->sl_rule[j] != RL_RULE_DEFAULT) {
		const struct rl_rule_info *ri = rl_snapshot_rule(b->pol, b->sl_rule[j]);

		w->ctr.policy.stateless_matched++;
		b->rc[b->sl_rule[j]].packets++;
		b->rc[b->sl_rule[j]].bytes += len;
		if (ri->action == RL_ACT_DROP || ri->action == RL_ACT_REJECT) {
			would = true;
			v = verdict_of(ri->action);
			dry = b->dry_all || ri->dry_run;
		}
	}
	if (!would) {
		if (inspected(w, h, ps))
			return inspect_packet(w, b, i, ps, dir, dry);
		if (unlikely(w->sigs_pending) && (h->flags & DP_FF_INSPECT) &&
				!(dp_flow_at(w->flows, ps)->det_flags & DP_DET_PASS))
			return sigs_loading(w, b, i, h, ps, dry);
		return DP_DISP_FORWARD;
	}
	if (dry) {
		uint32_t r = dp_flow_rule(h);

		w->ctr.policy.would_drop++;
		h->flags |= DP_FF_WOULD_DROP;
		if (b->rc != NULL)
			b->rc[r == RL_RULE_DEFAULT ? b->n_rules : r].would_drop++;
		return DP_DISP_FORWARD;
	}
	w->ctr.policy.dropped++;
	if (v == DP_VERDICT_REJECT && reject_answer(w, b->src, m, p, now))
		return DP_DISP_ANSWERED; /* sent back: neither forwarded nor freed */
	return DP_DISP_DROP;
}

/*
 * A keyed packet's turn: its flow as it stands (ended and restarted if its time ran out), the
 * packet accounted to it, then its verdict. Most packets belong to a flow that is allowed,
 * under way and not inspected, carry no first fragment and no DNS, and match no stateless
 * rule: they are forwarded here, the flow's rule counted; the rest is decide_rest's.
 */
static inline enum dp_disp
decide_packet(struct dp_worker *w, struct dp_burst *b, unsigned j)
{
	const unsigned i = b->idx[j];
	const struct dp_pkt *p = &b->meta[i];
	const uint64_t now = b->when[i];
	const uint32_t len = rte_pktmbuf_pkt_len(b->pkts[i]);
	const unsigned src_is_b = b->keys[j].src_is_b;
	int32_t ps = b->pos[j];
	struct dp_flow_hot *h;

	/* A flow ended earlier in this burst (expiry, port reuse, eviction) may have moved: look
	 * again. */
	if (unlikely(ps >= 0 && dp_flow_removals(w->flow_ctr) != b->rm[j])) {
		ps = dp_flow_find(w->flows, &b->keys[j]);
		if (ps < 0)
			ps = flow_create(w, b, j);
		b->hot[j] = ps >= 0 ? dp_flow_hot_at(w->flows, ps) : NULL;
	}
	if (unlikely(ps < 0))
		return table_full(w, b, i);
	h = b->hot[j];
	if (unlikely(dp_flow_expired_h(w->flows, h, now))) {
		/* Its time ran out before this packet: it ends, the packet starts anew. */
		unsigned init_b;
		uint16_t in_port;

		initiator_of(b->src, p, src_is_b, &init_b, &in_port);
		dp_flow_restart(w->flows, ps, init_b, in_port, now);
		dp_flow_cold(h)->icmp_type = p->icmp_type;
		dp_flow_cold(h)->icmp_code = p->icmp_code;
	}
	if (!dp_flow_packet_h(w->flows, ps, h, p, src_is_b, len, now))
		return DP_DISP_DROP; /* the TCP policy dropped it */
	if (unlikely(h->verdict != DP_VERDICT_ALLOW ||
			    (h->flags & (DP_FF_STARTED | DP_FF_INSPECT)) != DP_FF_STARTED ||
			    p->frag != DP_FRAG_NONE || b->sl_rule[j] != RL_RULE_DEFAULT ||
			    (p->proto == IPPROTO_UDP && (p->dport == 53 || p->sport == 53)) ||
			    p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6))
		return decide_rest(w, b, j, ps, h);
	/* An allowed flow's program, here rather than in decide_rest: what it does not forward
	 * goes on as the rest of a verdict. */
	if (unlikely(h->flags & DP_FF_BPF)) {
		const uint8_t v = bpf_verdict(w, b, j, ps, h, DP_VERDICT_ALLOW);

		if (v != DP_VERDICT_ALLOW)
			return decide_verdict(w, b, j, ps, h, v);
	}
	if (b->rc != NULL) {
		uint32_t r = dp_flow_rule(h);
		struct rl_counters *c = &b->rc[r == RL_RULE_DEFAULT ? b->n_rules : r];

		c->packets++;
		c->bytes += len;
	}
	return DP_DISP_FORWARD;
}

/* A later fragment: its first fragment's flow (counted in), and that flow's verdict. */
static enum dp_disp
decide_fragment(struct dp_worker *w, struct dp_burst *b, unsigned i)
{
	struct rte_mbuf *m = b->pkts[i];
	const struct dp_pkt *p = &b->meta[i];
	const uint64_t now = b->when[i];
	const enum dp_disp orphan = w->orphan_forward ? DP_DISP_FORWARD : DP_DISP_DROP;
	int32_t pos;
	uint32_t id;
	bool overlap;

	if (!dp_frag_find(w->frags, p, rte_pktmbuf_mtod(m, const uint8_t *),
			    rte_pktmbuf_data_len(m), &pos, &id, now, &overlap))
		return orphan;
	if (unlikely(overlap)) {
		/* A parse reason found here, where the datagram's earlier fragments are known. */
		struct dp_pkt *mp = &b->meta[i];

		mp->err = DP_PERR_FRAG_OVERLAP;
		w->parse_ctr.err[DP_PERR_NONE]--;
		w->parse_ctr.err[DP_PERR_FRAG_OVERLAP]++;
		if (w->parse_pol.drop[DP_PERR_FRAG_OVERLAP]) {
			w->parse_ctr.dropped++;
			if (w->eng != NULL)
				refused_events(w, b, m, mp, now);
			return DP_DISP_DROP;
		}
		if (w->eng != NULL && refused_events(w, b, m, mp, now) == DP_INSPECT_DROP)
			return DP_DISP_DROP;
	}
	if (!dp_flow_hot_at(w->flows, pos)->live || dp_flow_at(w->flows, pos)->id != id)
		return orphan;
	dp_flow_fragment(w->flows, pos, rte_pktmbuf_pkt_len(m), now);
	if (dp_flow_hot_at(w->flows, pos)->verdict != DP_VERDICT_ALLOW)
		return DP_DISP_DROP;
	if (inspect_fragment(w, m, p, pos, b->dry_all, now) != DP_INSPECT_FORWARD) {
		w->ctr.policy.dropped++;
		return DP_DISP_DROP;
	}
	return DP_DISP_FORWARD;
}

/*
 * Decide, in arrival order: later fragments take their place among the other packets, so that
 * a verdict a fragment brings (a signature in the reassembled datagram) applies to the packets
 * after it.
 */
static __rte_noinline void
stage_decide(struct dp_worker *w, struct dp_burst *b)
{
	unsigned j = 0, l = 0;

	while (j < b->m || l < b->nl) {
		if (unlikely(l < b->nl && (j >= b->m || b->later[l] < b->idx[j]))) {
			b->disp[b->later[l]] = decide_fragment(w, b, b->later[l]);
			l++;
			continue;
		}
		b->disp[b->idx[j]] = decide_packet(w, b, j);
		j++;
	}
}

/* Transmit: forwarded packets to the peer port, the dropped ones freed, each in one go. */
static __rte_noinline void
stage_tx(struct dp_worker *w, struct dp_burst *b)
{
	struct rte_mbuf *out[DP_MAX_BURST], *dropped[DP_MAX_BURST];
	struct dp_port_counters *oc = &w->ctr.port[b->src->peer];
	uint64_t out_bytes = 0;
	unsigned no = 0, nd = 0;

	for (uint16_t i = 0; i < b->n; i++) {
		struct rte_mbuf *mb = b->pkts[i];

		if (b->disp[i] == DP_DISP_FORWARD) {
			out[no++] = mb;
			out_bytes += rte_pktmbuf_pkt_len(mb);
		} else if (b->disp[i] == DP_DISP_DROP) {
			dropped[nd++] = mb;
		}
	}
	oc->tx_pkts += no;
	oc->tx_bytes += out_bytes;
	send_out(w, b->src->peer, out, no);
	if (nd > 0) {
		w->ctr.port[b->src->port].dropped += nd;
		rte_pktmbuf_free_bulk(dropped, nd);
	}
}

typedef void (*stage_fn)(struct dp_worker *w, struct dp_burst *b);

/* Run a stage; in bench mode its cycles (since t, the previous stage's end) go to id. */
static __rte_always_inline uint64_t
timed(struct dp_worker *w, struct dp_burst *b, enum dp_stage_id id, stage_fn stage, uint64_t t)
{
	stage(w, b);
	return stage_end(w, id, t);
}

/*
 * One burst from one RX queue, through the stages of the packet path. Every packet starts
 * with the disposition "drop" and must earn "forward".
 */
static void
process_burst(struct dp_worker *w, const struct dp_rx_source *s, struct rte_mbuf **pkts, uint16_t n)
{
	struct dp_burst *b = &w->cur;
	uint64_t t = stage_start(w);

	b->src = s;
	b->pkts = pkts;
	b->n = n;
	b->nc = 0;
	b->pol = dp_shared_policy(w->shared);
	b->dry_all = dp_shared_dry(w->shared, s->port);
	b->epoch = b->pol != NULL ? rl_snapshot_epoch(b->pol) : 0;
	b->rc = b->pol != NULL ? rl_snapshot_counters(b->pol, w->id) : NULL;
	b->n_rules = b->pol != NULL ? rl_snapshot_n_rules(b->pol) : 0;
	b->pre = b->pol != NULL ? rl_snapshot_port_prefilter(b->pol, s->port, &b->pre_idx) : NULL;
	b->bpf_cold = b->pol != NULL && rl_snapshot_bpf_cold(b->pol) ? DP_FF_BPF : 0;

	t = timed(w, b, DP_ST_PARSE, stage_parse, t);
	t = timed(w, b, DP_ST_FLOW, stage_flows, t);
	t = timed(w, b, DP_ST_CLASSIFY, stage_classify, t);
	t = timed(w, b, DP_ST_DECIDE, stage_decide, t);
	timed(w, b, DP_ST_TX, stage_tx, t);
}

static void
drain_all(struct dp_worker *w)
{
	for (uint16_t p = 0; p < w->n_ports; p++)
		if (w->txb[p] != NULL && w->txb[p]->length > 0) {
			tx_lock(w, p);
			rte_eth_tx_buffer_flush(w->tx_port_id[p], w->txq[p], w->txb[p]);
			tx_unlock(w, p);
		}
}

static unsigned poll_handoff(struct dp_worker *w);

/*
 * Software dispatch at the receiver: the frames of other workers' flows go to their rings, in
 * arrival order; a full ring loses them (counted). Returns how many stay here, compacted at
 * the front of pkts in their order; *latest: the latest capture time among all of them.
 */
static uint16_t
dispatch_burst(struct dp_worker *w, struct rte_mbuf **pkts, uint16_t n, uint64_t *latest)
{
	const unsigned nw = w->ho.n_workers;
	uint8_t owner[DP_MAX_BURST];
	uint16_t count[VG_MAX_WORKERS];
	uint16_t keep = 0;
	uint64_t t = stage_start(w);

	memset(count, 0, nw * sizeof(count[0]));
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t h;
		unsigned o = w->id;

		if (w->clock.source == DP_CLOCK_PACKET && (m->ol_flags & w->ts_flag) &&
				packet_time(w, m) > *latest)
			*latest = packet_time(w, m);

		if (likely(dp_dispatch_hash(
				    rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, &h))) {
			m->hash.rss = h;
			m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
			o = dp_dispatch_owner(h, nw);
		}
		owner[i] = (uint8_t)o;
		count[o]++;
	}
	for (unsigned j = 0; j < nw; j++) {
		struct rte_mbuf *to[DP_MAX_BURST];
		unsigned c = 0, sent;

		if (j == w->id || count[j] == 0)
			continue;
		for (uint16_t i = 0; i < n; i++)
			if (owner[i] == j)
				to[c++] = pkts[i];
		sent = rte_ring_sp_enqueue_burst(w->ho.out[j], (void **)to, c, NULL);
		/* Replaying a capture, the input waits: results must not depend on how the
		 * workers were scheduled. Meanwhile this worker takes what others hand it,
		 * so that two workers waiting on each other both move on. */
		while (unlikely(sent < c) && w->ho.wait) {
			if (poll_handoff(w) == 0)
				rte_pause();
			sent += rte_ring_sp_enqueue_burst(
					w->ho.out[j], (void **)to + sent, c - sent, NULL);
		}
		w->ctr.handoff.out += sent;
		if (unlikely(sent < c)) {
			w->ctr.handoff.lost += c - sent;
			rte_pktmbuf_free_bulk(to + sent, c - sent);
		}
	}
	for (uint16_t i = 0; i < n; i++)
		if (owner[i] == w->id)
			pkts[keep++] = pkts[i];
	stage_end(w, DP_ST_DISPATCH, t);
	return keep;
}

/* A burst from an RX queue: through the dispatch first if the queue's device cannot steer. */
static void
receive_burst(struct dp_worker *w, const struct dp_rx_source *s, struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t latest = 0;

	if (unlikely(s->dispatch))
		n = dispatch_burst(w, pkts, n, &latest);
	if (n > 0)
		process_burst(w, s, pkts, n);
	/* On the capture's clock the receiver then keeps the time of all it received, its own
	 * frames' first, so that the owners can keep time with it (poll_handoff) whoever owns
	 * what. */
	if (latest != 0)
		dp_clock_packet(&w->clock, latest);
}

static const struct dp_rx_source *
handoff_source(const struct dp_worker *w, uint16_t port_id)
{
	for (unsigned i = 0; i < w->ho.n_src; i++)
		if (w->ho.src[i].port_id == port_id)
			return &w->ho.src[i];
	return NULL;
}

/*
 * Frames other workers handed to this one, each ring's in the order its receiver put them
 * there, processed in runs of one ingress port. Returns the number of frames.
 */
static unsigned
poll_handoff(struct dp_worker *w)
{
	struct rte_mbuf *pkts[DP_MAX_BURST];
	const bool pkt_clock = w->clock.source == DP_CLOCK_PACKET;
	uint64_t floor = UINT64_MAX;
	unsigned got = 0;

	for (unsigned j = 0; j < w->ho.n_workers; j++) {
		uint64_t sender_clock;
		unsigned n;

		if (w->ho.in[j] == NULL)
			continue;
		/* Read before the ring: every frame the sender had by then is in it. */
		sender_clock = pkt_clock ? __atomic_load_n(&w->ho.workers[j]->clock_ns,
							   __ATOMIC_ACQUIRE)
					 : 0;
		n = rte_ring_sc_dequeue_burst(w->ho.in[j], (void **)pkts, w->burst, NULL);
		/* Fewer than asked for: the ring is empty, this sender's stream is known up to
		 * sender_clock. */
		if (n == w->burst || sender_clock < floor)
			floor = n == w->burst ? 0 : sender_clock;
		if (n == 0)
			continue;
		w->ctr.handoff.in += n;
		got += n;
		for (unsigned i = 0; i < n;) {
			unsigned e = i + 1;
			const struct dp_rx_source *s = handoff_source(w, pkts[i]->port);

			while (e < n && pkts[e]->port == pkts[i]->port)
				e++;
			if (likely(s != NULL)) {
				process_burst(w, s, &pkts[i], (uint16_t)(e - i));
			} else {
				w->ctr.handoff.lost += e - i;
				rte_pktmbuf_free_bulk(&pkts[i], e - i);
			}
			i = e;
		}
	}
	/*
	 * On the capture's clock, a worker that only takes handed-off frames keeps time with its
	 * senders once it has caught up with them: its flows age, and its events are known to
	 * control up to there, as they would be on a single worker.
	 */
	if (pkt_clock && w->n_rx == 0 && floor != UINT64_MAX && floor > w->clock.now_ns)
		dp_clock_set(&w->clock, floor);
	return got;
}

/*
 * The end of the dispatch: a worker that stopped polling still takes what the others hand it
 * until every worker has stopped polling and its rings are empty.
 */
static void
drain_handoff(struct dp_worker *w)
{
	for (;;) {
		bool all_stopped = true;

		for (unsigned j = 0; j < w->ho.n_workers; j++)
			if (!__atomic_load_n(&w->ho.workers[j]->rx_stopped, __ATOMIC_ACQUIRE))
				all_stopped = false;
		unsigned got = poll_handoff(w);

		dp_evq_flush(&w->evq);
		rte_rcu_qsbr_quiescent(w->qsbr, w->id);
		if (all_stopped && got == 0)
			break;
		if (got == 0)
			rte_pause();
	}
}

/* Poll every queue once, process what arrived. Returns the number of packets. */
static unsigned
poll_queues(struct dp_worker *w)
{
	struct rte_mbuf *pkts[DP_MAX_BURST];
	unsigned got = 0;

	for (unsigned i = 0; i < w->n_rx; i++) {
		const struct dp_rx_source *s = &w->rx[i];
		uint64_t t = stage_start(w);
		uint16_t n;

		rx_lock(s);
		n = rte_eth_rx_burst(s->port_id, s->queue, pkts, (uint16_t)w->burst);
		rx_unlock(s);
		if (n == 0)
			continue;
		stage_end(w, DP_ST_RX, t);
		got += n;
		w->ctr.rx_bursts++;
		receive_burst(w, s, pkts, n);
	}
	return got;
}

/*
 * Replay with the packet clock and several queues: a capture per port is only faithful if the
 * ports' packets are interleaved by time, as they were on the wire. Each queue's burst is
 * staged (w->stage keeps it between loops); the queue with the earliest head goes first, as far
 * as the other queues' heads allow. (net_pcap hands out packets as fast as they are asked
 * for, so an empty poll means the capture is exhausted for now.) A call handles about one
 * burst's worth and returns, so the loop's other work (aging, events, TX drain, RCU) keeps
 * its pace. final: poll no more, process everything staged (the worker is stopping).
 */
static unsigned
poll_queues_in_time_order(struct dp_worker *w, bool final)
{
	static const uint64_t none = UINT64_MAX;
	struct dp_stage *st = w->stage;
	unsigned done = 0;

	while (final || done < w->burst) {
		unsigned best = 0, second = UINT32_MAX;
		uint64_t best_ts = none, second_ts = none;

		for (unsigned i = 0; i < w->n_rx && !final; i++) {
			if (st->head[i] == st->len[i]) {
				uint64_t t = stage_start(w);

				st->head[i] = 0;
				rx_lock(&w->rx[i]);
				st->len[i] = rte_eth_rx_burst(w->rx[i].port_id, w->rx[i].queue,
						st->pkts[i], (uint16_t)w->burst);
				rx_unlock(&w->rx[i]);
				if (st->len[i] > 0)
					stage_end(w, DP_ST_RX, t);
			}
		}
		for (unsigned i = 0; i < w->n_rx; i++) {
			uint64_t ts;

			if (st->head[i] == st->len[i])
				continue;
			ts = packet_time(w, st->pkts[i][st->head[i]]);
			/* Queues are visited in index order: on equal times the lower index
			 * comes first, whatever the burst sizes. */
			if (ts < best_ts) {
				second_ts = best_ts;
				second = best_ts == none ? UINT32_MAX : best;
				best_ts = ts;
				best = i;
			} else if (ts < second_ts) {
				second_ts = ts;
				second = i;
			}
		}
		if (best_ts == none)
			break;
		if (final)
			second_ts = none;
		/* The best queue goes on while its packets come before the second queue's head in
		 * (time, queue index) order. */
		uint16_t from = st->head[best], to = from;
		while (to < st->len[best]) {
			uint64_t ts = packet_time(w, st->pkts[best][to]);

			if (ts > second_ts || (ts == second_ts && best > second))
				break;
			to++;
		}
		if (to == from)
			to++;
		w->ctr.rx_bursts++;
		receive_burst(w, &w->rx[best], &st->pkts[best][from], to - from);
		st->head[best] = to;
		done += to - from;
	}
	return done;
}

int
dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	uint64_t prev_drain = rte_rdtsc();
	bool ordered = w->clock.source == DP_CLOCK_PACKET && w->n_rx > 1;

	DP_LOG(INFO, "worker %u on lcore %u: polling %u queue%s%s", w->id, rte_lcore_id(), w->n_rx,
			w->n_rx == 1 ? "" : "s", ordered ? " in packet time order" : "");

	uint64_t prev_tsc = prev_drain;
	bool prev_busy = false;

	rte_rcu_qsbr_thread_online(w->qsbr, w->id);
	while (!__atomic_load_n(&w->quit, __ATOMIC_ACQUIRE)) {
		/* One TSC read a loop: its bursts' time, the housekeeping's, the TX deadline, and
		 * the previous loop's length. */
		uint64_t tsc = rte_rdtsc();
		unsigned got;

		if (prev_busy)
			w->ctr.busy_cycles += tsc - prev_tsc;
		prev_tsc = w->loop_tsc = tsc;

		/* A new signature engine is taken up here, between bursts. */
		w->eng = dp_inspect_follow(w->inspect, dp_shared_sigs(w->shared));
		w->sigs_pending = w->eng == NULL && dp_shared_sigs_pending(w->shared);

		if (unlikely(tsc - prev_drain > w->drain_tsc)) {
			drain_all(w);
			prev_drain = tsc;
			stage_end(w, DP_ST_TX, tsc);
		}
		got = ordered ? poll_queues_in_time_order(w, false) : poll_queues(w);
		if (w->ho.n_workers > 0)
			got += poll_handoff(w);

		uint64_t t = stage_start(w);
		uint64_t now = dp_clock_tick_at(&w->clock, tsc);
		dp_flow_age(w->flows, now);
		dp_frag_age(w->frags, now);
		dp_reasm_tick(w->reasm, now);
		dp_evq_flush(&w->evq);
		/* Control may close its intervals up to here: every event before is on the ring. */
		__atomic_store_n(&w->clock_ns, now, __ATOMIC_RELEASE);
		/* Nothing from this loop holds the policy snapshot any more. */
		rte_rcu_qsbr_quiescent(w->qsbr, w->id);
		if (got > 0)
			stage_end(w, DP_ST_HOUSE, t);

		w->ctr.loops++;
		prev_busy = got > 0;
		if (got > 0)
			w->ctr.busy_loops++;
		else if (w->idle_sleep_us > 0)
			rte_delay_us_sleep(w->idle_sleep_us);
	}
	if (prev_busy)
		w->ctr.busy_cycles += rte_rdtsc() - prev_tsc;
	if (ordered)
		poll_queues_in_time_order(w, true);
	__atomic_store_n(&w->rx_stopped, true, __ATOMIC_RELEASE);
	if (w->ho.n_workers > 0)
		drain_handoff(w);
	rte_rcu_qsbr_thread_offline(w->qsbr, w->id);
	drain_all(w);
	dp_evq_flush_wait(&w->evq, rte_get_tsc_cycles() + rte_get_tsc_hz());
	__atomic_store_n(&w->clock_ns, dp_clock_tick(&w->clock), __ATOMIC_RELEASE);
	/*
	 * Control judges the traffic as it was (its detectors close their intervals) before the
	 * flows are ended for the shutdown: a flood that is the last traffic is still open, as it
	 * was on the wire.
	 */
	__atomic_store_n(&w->stopped, true, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&w->flush_go, __ATOMIC_ACQUIRE))
		rte_delay_us_sleep(100);
	/* Every flow still open ends now; its end event tells control what it carried. */
	dp_flow_flush_all(w->flows, DP_END_SHUTDOWN, dp_clock_tick(&w->clock));
	DP_LOG(INFO, "worker %u: stopped", w->id);
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	return 0;
}
