/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "dp_worker.h"
#include "vg_log.h"

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

struct dp_worker *
dp_worker_create(unsigned id, unsigned lcore, const struct vg_config *cfg)
{
	int socket = (int)rte_lcore_to_socket_id(lcore);
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
	return w;
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

void
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
			ensure_txb(w, port, port_id, queue) != 0)
		DP_LOG(ERR, "worker %u: no memory for TX buffers", w->id);
}

static inline void
forward(struct dp_worker *w, uint16_t out, struct rte_mbuf *m)
{
	struct dp_port_counters *c = &w->ctr.port[out];

	c->tx_pkts++;
	c->tx_bytes += rte_pktmbuf_pkt_len(m);
	rte_eth_tx_buffer(w->tx_port_id[out], w->txq[out], w->txb[out], m);
}

/*
 * One burst from one RX queue. Every packet starts with the verdict "drop" and must be given
 * an explicit one; for now the only verdict is "forward to the peer port" (transparent L2).
 */
static void
process_burst(struct dp_worker *w, const struct dp_rx_source *s, struct rte_mbuf **pkts, uint16_t n)
{
	struct dp_port_counters *in = &w->ctr.port[s->port];
	uint64_t bytes = 0;
	enum { DROP = 0, FORWARD } verdict[DP_MAX_BURST];

	for (uint16_t i = 0; i < n; i++) {
		bytes += rte_pktmbuf_pkt_len(pkts[i]);
		verdict[i] = DROP;
	}
	in->rx_pkts += n;
	in->rx_bytes += bytes;

	for (uint16_t i = 0; i < n; i++)
		verdict[i] = FORWARD;

	for (uint16_t i = 0; i < n; i++) {
		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		if (verdict[i] == FORWARD) {
			forward(w, s->peer, pkts[i]);
		} else {
			in->dropped++;
			rte_pktmbuf_free(pkts[i]);
		}
	}
}

static void
drain_all(struct dp_worker *w)
{
	for (uint16_t p = 0; p < w->n_ports; p++)
		if (w->txb[p] != NULL)
			rte_eth_tx_buffer_flush(w->tx_port_id[p], w->txq[p], w->txb[p]);
}

int
dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct rte_mbuf *pkts[DP_MAX_BURST];
	uint64_t prev_drain = rte_rdtsc();

	DP_LOG(INFO, "worker %u on lcore %u: polling %u queue%s", w->id, rte_lcore_id(), w->n_rx,
			w->n_rx == 1 ? "" : "s");
	for (unsigned i = 0; i < w->n_rx; i++)
		DP_LOG(DEBUG, "worker %u: port %u queue %u -> port %u", w->id, w->rx[i].port,
				w->rx[i].queue, w->rx[i].peer);

	while (!__atomic_load_n(&w->quit, __ATOMIC_ACQUIRE)) {
		uint64_t now = rte_rdtsc();
		uint16_t got = 0;

		if (unlikely(now - prev_drain > w->drain_tsc)) {
			drain_all(w);
			prev_drain = now;
		}
		for (unsigned i = 0; i < w->n_rx; i++) {
			const struct dp_rx_source *s = &w->rx[i];
			uint16_t n = rte_eth_rx_burst(
					s->port_id, s->queue, pkts, (uint16_t)w->burst);

			if (n == 0)
				continue;
			got += n;
			w->ctr.rx_bursts++;
			process_burst(w, s, pkts, n);
		}
		w->ctr.loops++;
		if (got > 0)
			w->ctr.busy_loops++;
		else if (w->idle_sleep_us > 0)
			rte_delay_us_sleep(w->idle_sleep_us);
	}
	drain_all(w);
	DP_LOG(INFO, "worker %u: stopped", w->id);
	return 0;
}
