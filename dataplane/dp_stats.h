/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dataplane counters. Each worker owns its counters and is their only writer; control reads
 * them with relaxed loads and sums over workers. A reading may be a few packets stale but every
 * 64-bit value is read whole (naturally aligned loads on the platforms DPDK supports).
 */
#ifndef DP_STATS_H
#define DP_STATS_H

#include <stdint.h>

#include "vg_config.h"

/* Per port, as seen by one worker. rx/dropped count at the ingress port, tx/tx_full at egress. */
struct dp_port_counters {
	uint64_t rx_pkts;
	uint64_t rx_bytes;
	uint64_t tx_pkts;
	uint64_t tx_bytes;
	uint64_t dropped; /* a verdict dropped it */
	uint64_t tx_full; /* forwarded, but the TX queue had no room */
};

struct dp_worker_counters {
	uint64_t loops;
	uint64_t busy_loops; /* loops that received at least one packet */
	uint64_t rx_bursts;
	uint64_t busy_cycles; /* TSC cycles of loops that received packets, drain included */
	struct dp_port_counters port[VG_MAX_PORTS];
};

static inline uint64_t
dp_read_u64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

#endif /* DP_STATS_H */
