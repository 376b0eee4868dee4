/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fragment verdicts: later fragments of a datagram carry no L4 header, so they cannot be
 * matched to a flow by its 5-tuple. When the first fragment passes through the flow table,
 * its datagram (addresses, protocol, IP id) is remembered with the flow; later fragments look
 * it up and get the flow's verdict. Later fragments whose first has not been seen ("orphans":
 * out of order, or the first was dropped) follow the orphan policy.
 *
 * Bounded: at most max datagrams per worker, each for at most timeout ns; a full table and
 * expired entries are counted.
 */
#ifndef DP_FRAG_H
#define DP_FRAG_H

#include <stdbool.h>
#include <stdint.h>

#include "dp_pkt.h"
#include "vg_ctr.h"

struct dp_frag_counters {
	uint64_t tracked;    /* first fragments remembered */
	uint64_t matched;    /* later fragments that found their datagram */
	uint64_t orphans;    /* later fragments without one */
	uint64_t table_full; /* first fragments not remembered: table full */
	uint64_t expired;    /* datagrams forgotten after the timeout */
	uint64_t overlaps;   /* later fragments over bytes an earlier one carried */
	uint64_t duplicates; /* later fragments that repeat an earlier one exactly */
};

/* Its table (vg_ctr.h), in dp_stats.c with the dataplane's other counter tables. */
extern const struct vg_ctr_set dp_frag_ctr_set;

struct dp_frag_table;

struct dp_frag_table *dp_frag_table_create(
		unsigned worker, uint32_t max, uint64_t timeout_ns, int socket);
void dp_frag_table_free(struct dp_frag_table *t);

/* Remember the datagram of a first fragment and the flow (position and id) it belongs to. */
void dp_frag_remember(struct dp_frag_table *t, const struct dp_pkt *p, int32_t flow_pos,
		uint32_t flow_id, uint64_t now);

/*
 * Find the datagram of a later fragment (frame: the packet from its Ethernet header, seg bytes
 * of it at hand). Returns true and the flow's position and id (the caller checks the flow still
 * has that id), or false for an orphan. *overlap is set when the fragment covers bytes an
 * earlier fragment of the datagram carried (the first's, or one of the DP_FRAG_RANGES later
 * ones kept), other than as an exact duplicate (the same bytes at the same place, told by their
 * CRC): no stack sends that, and receivers disagree on which copy wins (RFC 5722 has IPv6 drop
 * the datagram).
 */
#define DP_FRAG_RANGES 6

bool dp_frag_find(struct dp_frag_table *t, const struct dp_pkt *p, const uint8_t *frame,
		uint32_t seg, int32_t *flow_pos, uint32_t *flow_id, uint64_t now, bool *overlap);

/* Forget expired datagrams, a few slots per call. */
void dp_frag_age(struct dp_frag_table *t, uint64_t now);

const struct dp_frag_counters *dp_frag_counters(const struct dp_frag_table *t);

#endif /* DP_FRAG_H */
