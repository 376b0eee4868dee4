/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The parser over a burst of mbufs (dp_parse_mbuf.h for one). Kept apart from dp_parse.c so
 * that the core links without DPDK (fuzzer, unit tests). The worker runs its own loop over the
 * same inline function, keying each packet for the flow table as it goes.
 */
#include <rte_branch_prediction.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "dp_parse.h"
#include "dp_parse_mbuf.h"

/* How far ahead packet data is prefetched: far enough to hide a cache miss behind the parse of
 * a few packets, near enough to stay in L1 (the l3fwd examples use 3 to 4). */
#define DP_PARSE_PREFETCH 4

uint16_t
dp_parse_burst(struct rte_mbuf **pkts, uint16_t n, struct dp_pkt *out,
		const struct dp_parse_policy *pol, struct dp_parse_counters *ctr, uint8_t *drop)
{
	uint16_t n_drop = 0;
	int i;

	for (i = 0; i < DP_PARSE_PREFETCH && i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < (int)n - DP_PARSE_PREFETCH; i++) {
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i + DP_PARSE_PREFETCH], void *));
		drop[i] = dp_parse_mbuf(pkts[i], &out[i], pol, ctr);
		n_drop += drop[i];
	}
	for (; i < n; i++) {
		drop[i] = dp_parse_mbuf(pkts[i], &out[i], pol, ctr);
		n_drop += drop[i];
	}
	ctr->dropped += n_drop;
	return n_drop;
}
