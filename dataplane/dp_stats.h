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
#include "vg_ctr.h"

/*
 * Each struct of counters below has its table (vg_ctr.h) in dp_stats.c: a new field needs its
 * row there, which names it in the JSON documents, the Prometheus exposition and the stats line
 * (tests/unit/control/test_ctl_ctr.c fails on a field without a row).
 */

/* Per port, as seen by one worker. rx/dropped count at the ingress port, tx/tx_full at egress. */
struct dp_port_counters {
	uint64_t rx_pkts;
	uint64_t rx_bytes;
	uint64_t tx_pkts;
	uint64_t tx_bytes;
	uint64_t dropped; /* a verdict dropped it */
	uint64_t tx_full; /* forwarded, but the TX queue had no room */
};

/* What the policy did, per worker. */
struct dp_policy_counters {
	uint64_t classified;	     /* flows classified (new, or re-classified after a reload) */
	uint64_t reclassified;	     /* ... of which re-classified */
	uint64_t dropped;	     /* packets dropped by drop, reject or rate-limit verdicts */
	uint64_t would_drop;	     /* packets a verdict would have dropped (dry-run) */
	uint64_t rate_limited;	     /* packets over a rate-limit rule's rate */
	uint64_t rejects_sent;	     /* RST or ICMP unreachable answers sent */
	uint64_t rejects_suppressed; /* no answer: not due (RFC 1122) or over the reject rate */
	uint64_t l2_dropped;	     /* non-IP frames the l2 section dropped */
	uint64_t stateless_matched;  /* packets that matched a stateless (tcp_flags) rule */
	uint64_t blocked;	     /* packets from or to a blocklisted address */
	/* Packets that met an exception condition (enum vg_exc_cond: the worker's conditions,
	 * flow_table_full and midstream; inspection counts the others), whatever its action. */
	uint64_t exceptions[VG_EXC__COUNT];
};

/*
 * Bench mode (stats.stages): where a worker's cycles go, read from the TSC at stage boundaries
 * once per burst (inspection once per inspected packet). Off by default: the reads cost a few
 * cycles per packet.
 */
enum dp_stage_id {
	DP_ST_RX,	/* rte_eth_rx_burst() calls that returned packets */
	DP_ST_PARSE,	/* decoding, the blocklist, flow keys */
	DP_ST_FLOW,	/* stateless rules, flow lookup and create, TCP state */
	DP_ST_CLASSIFY, /* policy lookups of new (or reloaded) flows */
	DP_ST_DECIDE,	/* verdicts, counters, rate limits, events, rejects */
	DP_ST_INSPECT,	/* signature scanning and reassembly of inspected packets */
	DP_ST_TX,	/* buffering to the peer, freeing drops, TX drains */
	DP_ST_HOUSE,	/* flow aging, fragments, event flushes, RCU, between bursts */
	DP_ST_DISPATCH, /* software dispatch: hashing received frames, handing them to owners */
	DP_ST__COUNT
};

/* "rx", "parse", ... */
const char *dp_stage_name(enum dp_stage_id s);

struct dp_worker_counters {
	uint64_t loops;
	uint64_t busy_loops; /* loops that received at least one packet */
	uint64_t rx_bursts;
	uint64_t busy_cycles; /* TSC cycles of loops that received packets, drain included */
	uint64_t stage_cycles[DP_ST__COUNT]; /* bench mode only */
	struct dp_policy_counters policy;
	struct dp_port_counters port[VG_MAX_PORTS];
	/* Software dispatch (ports without symmetric RSS, several workers): packets this worker
	 * received and handed to the flow's owner, took from other workers, and lost because the
	 * owner's ring was full. */
	struct dp_handoff_counters {
		uint64_t out;
		uint64_t in;
		uint64_t lost;
	} handoff;
};

/* The tables of the structs above (dp_stats.c). dp_worker_ctr_set covers the worker's own
 * scalars, loops to busy_cycles: its arrays and structs have theirs. */
extern const struct vg_ctr_set dp_port_ctr_set;
extern const struct vg_ctr_set dp_policy_ctr_set;
extern const struct vg_ctr_set dp_worker_ctr_set;
extern const struct vg_ctr_set dp_handoff_ctr_set;

static inline uint64_t
dp_read_u64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

#endif /* DP_STATS_H */
