/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fail-open (watchdog.failure: open): while a worker is stalled, another lcore (control's)
 * polls the worker's RX queues and sends every frame unchanged to the pair's other port, on the
 * worker's TX queue of that port: no parsing, no policy, no flow. When the worker's loop moves
 * again, the caller stops polling and the queues are the worker's again.
 *
 * A DPDK queue must never be used by two threads at once, and a worker that comes back may be
 * anywhere in its loop. So with fail-open configured, every RX queue a worker polls and every TX
 * queue it sends on has a spinlock: the worker takes it around each rte_eth_rx_burst() and each
 * TX burst or flush (one uncontended lock per burst; without fail-open the pointers are NULL and
 * the worker's path is unchanged), the fallback tries it around its own calls. A TX queue that
 * the software dispatch already shares among workers keeps its lock (w->txlock), which the
 * fallback takes too. A worker stalled while it holds a lock (inside the driver call, or
 * preempted right there) keeps that queue: the fallback cannot take it and counts the refusal
 * (busy). Frames already in a stalled owner's software-dispatch ring are not forwarded.
 */
#ifndef DP_FAILOPEN_H
#define DP_FAILOPEN_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_spinlock.h>

#include "dp_stats.h"
#include "vg_config.h"

struct dp_worker;

/* Written by the fallback's lcore only; read by any thread with dp_read_u64(). */
struct dp_failopen_counters {
	uint64_t packets; /* frames forwarded unchanged */
	uint64_t bytes;
	uint64_t tx_full; /* received, not sent: the TX queue was full or stayed locked */
	uint64_t busy;	  /* polls of a queue skipped: its lock was held (the stalled worker's?) */
	/* Per port (config index): rx_pkts/rx_bytes at the ingress, tx_pkts/tx_bytes/tx_full at
	 * the egress, added to the port's counters (dp_port_counters()). */
	struct dp_port_counters port[VG_MAX_PORTS];
};

/* The table of the fields above port (dataplane/dp_stats.c). */
extern const struct vg_ctr_set dp_failopen_ctr_set;

struct dp_failopen {
	rte_spinlock_t rxlock[VG_MAX_PORTS]; /* by the worker's RX source index */
	rte_spinlock_t txlock[VG_MAX_PORTS]; /* by config port, for TX queues no one shared */
	struct dp_failopen_counters ctr __rte_cache_aligned;
};

/*
 * Give worker w's queues their locks (before the worker is launched). Returns 0 or -ENOMEM.
 * The lock storage is freed with the worker.
 */
int dp_failopen_attach(struct dp_worker *w);

/*
 * One pass over worker w's RX queues, each burst sent unchanged to the peer port. On the
 * fallback's lcore only (one thread at a time). Returns the number of frames received.
 */
unsigned dp_failopen_poll_worker(struct dp_worker *w);

/* True while one of worker w's queue locks is taken (by anyone). Async-signal-safe. */
bool dp_failopen_locked(const struct dp_worker *w);

#endif /* DP_FAILOPEN_H */
