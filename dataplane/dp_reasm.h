/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reassembly for inspection: fragments of inspected flows are also given, as copies (the
 * reassembly rewrites headers), to an rte_ip_frag table; when the last one arrives the whole
 * datagram is scanned, and the verdict applies to the fragment that completed it (dropping it keeps
 * the receiver from ever reassembling the datagram) and to the rest of the flow. The fragments
 * themselves are forwarded as they came: the appliance does not rewrite the wire.
 *
 * Bounded: at most max datagrams in progress per worker, each for at most timeout ns on the
 * dataplane clock; what does not fit or times out is counted, never held.
 */
#ifndef DP_REASM_H
#define DP_REASM_H

#include <stdint.h>

#include "dp_pkt.h"
#include "vg_ctr.h"

struct rte_mbuf;
struct dp_reasm;

struct dp_reasm_counters {
	uint64_t fragments;	 /* fragments given to the table */
	uint64_t datagrams;	 /* datagrams completed and scanned */
	uint64_t clone_failures; /* no mbuf to copy into */
	uint64_t too_big;	 /* completed datagrams larger than the scan buffer */
};

/* Its table (vg_ctr.h), in dp_stats.c with the dataplane's other counter tables. */
extern const struct vg_ctr_set dp_reasm_ctr_set;

struct dp_reasm *dp_reasm_create(unsigned worker, uint32_t max, uint64_t timeout_ns, int socket);
void dp_reasm_free(struct dp_reasm *r);

/*
 * Give a fragment (m stays the caller's, untouched: a copy goes to the table). When it completes a
 * datagram, returns the datagram linearised into the worker's buffer (*len bytes from the
 * Ethernet header on), else NULL.
 */
const uint8_t *dp_reasm_feed(struct dp_reasm *r, struct rte_mbuf *m, const struct dp_pkt *p,
		uint64_t now, uint32_t *len);

/* Expire datagrams older than the timeout and free what the table let go; once per loop. */
void dp_reasm_tick(struct dp_reasm *r, uint64_t now);

const struct dp_reasm_counters *dp_reasm_counters(const struct dp_reasm *r);

#endif /* DP_REASM_H */
