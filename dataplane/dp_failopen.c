/* SPDX-License-Identifier: BSD-3-Clause */
/* Fail-open: a stalled worker's queues forwarded unchanged by another lcore (dp_failopen.h). */
#include "dp_failopen.h"

#include <errno.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp_worker.h"

/* Tries of a TX queue's lock before the burst is given up: a worker or dispatch peer holds it
 * for one burst at most, unless it stalled there. */
#define FO_TX_TRIES 256
/* Calls of rte_eth_tx_burst() while the queue takes part of the burst. */
#define FO_TX_ROUNDS 4

int
dp_failopen_attach(struct dp_worker *w)
{
	struct dp_failopen *fo;

	if (w->fo != NULL)
		return 0;
	fo = rte_zmalloc_socket("dp_failopen", sizeof(*fo), RTE_CACHE_LINE_SIZE,
			(int)rte_lcore_to_socket_id(w->lcore));
	if (fo == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < VG_MAX_PORTS; i++) {
		rte_spinlock_init(&fo->rxlock[i]);
		rte_spinlock_init(&fo->txlock[i]);
	}
	for (unsigned i = 0; i < w->n_rx; i++)
		w->rx[i].rxlock = &fo->rxlock[i];
	/* A TX queue the dispatch shares keeps the lock the other workers take. */
	for (unsigned p = 0; p < VG_MAX_PORTS; p++)
		if (w->txb[p] != NULL && w->txlock[p] == NULL)
			w->txlock[p] = &fo->txlock[p];
	w->fo = fo;
	return 0;
}

static bool
tx_trylock(rte_spinlock_t *l)
{
	for (unsigned i = 0; i < FO_TX_TRIES; i++) {
		if (rte_spinlock_trylock(l))
			return true;
		rte_pause();
	}
	return false;
}

/* Send n frames to port (config index) on worker w's TX queue of it; the rest are freed. */
static void
forward(struct dp_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	struct dp_failopen_counters *c = &w->fo->ctr;
	rte_spinlock_t *l = w->txlock[port];
	uint64_t bytes = 0;
	uint16_t sent = 0;

	if (tx_trylock(l)) {
		for (unsigned r = 0; r < FO_TX_ROUNDS && sent < n; r++)
			sent += rte_eth_tx_burst(
					w->tx_port_id[port], w->txq[port], pkts + sent, n - sent);
		rte_spinlock_unlock(l);
	} else {
		c->busy++;
	}
	for (uint16_t i = 0; i < sent; i++)
		bytes += rte_pktmbuf_pkt_len(pkts[i]);
	c->packets += sent;
	c->bytes += bytes;
	c->port[port].tx_pkts += sent;
	c->port[port].tx_bytes += bytes;
	if (sent < n) {
		c->tx_full += n - sent;
		c->port[port].tx_full += n - sent;
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	}
}

unsigned
dp_failopen_poll_worker(struct dp_worker *w)
{
	struct rte_mbuf *pkts[DP_MAX_BURST];
	unsigned got = 0;

	if (w->fo == NULL)
		return 0;
	for (unsigned i = 0; i < w->n_rx; i++) {
		const struct dp_rx_source *s = &w->rx[i];
		struct dp_port_counters *pc = &w->fo->ctr.port[s->port];
		uint64_t bytes = 0;
		uint16_t n;

		if (!rte_spinlock_trylock(s->rxlock)) {
			w->fo->ctr.busy++;
			continue;
		}
		n = rte_eth_rx_burst(s->port_id, s->queue, pkts, DP_MAX_BURST);
		rte_spinlock_unlock(s->rxlock);
		if (n == 0)
			continue;
		for (uint16_t k = 0; k < n; k++)
			bytes += rte_pktmbuf_pkt_len(pkts[k]);
		pc->rx_pkts += n;
		pc->rx_bytes += bytes;
		got += n;
		forward(w, s->peer, pkts, n);
	}
	return got;
}

bool
dp_failopen_locked(const struct dp_worker *w)
{
	if (w->fo == NULL)
		return false;
	for (unsigned i = 0; i < w->n_rx; i++)
		if (rte_spinlock_is_locked(w->rx[i].rxlock))
			return true;
	for (unsigned p = 0; p < VG_MAX_PORTS; p++)
		if (w->txlock[p] != NULL && rte_spinlock_is_locked(w->txlock[p]))
			return true;
	return false;
}
