/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vg-pktgen's generator: turns validated options into a pcap, streaming packet by packet.
 * Memory is the per-flow stream offsets (8 bytes a flow) plus, for --order shuffle, the next
 * packet index and the active list (8 more), never the packets themselves.
 *
 * Per flow, packets follow a fixed script. TCP in handshake mode: SYN, SYN-ACK, ACK, data
 * segments alternating client/server (client first), then FIN-ACK, FIN-ACK, ACK unless
 * --no-close; sequence and acknowledgement numbers are exact. TCP midstream: only PSH-ACK data
 * segments, alternating, numbered as if a handshake had happened. UDP: datagrams alternating
 * client/server. ICMP: echo request / echo reply pairs. The first client data packet of a
 * matching flow carries its pattern at a seeded offset. Data packets take their sizes from
 * --size in shuffled blocks of the weights (imix: every 12 consecutive data packets hold exactly
 * 7 x 64, 4 x 576 and 1 x 1500), never smaller than their headers plus one payload byte;
 * handshake and teardown segments are minimum-size frames. With --app http each TCP flow is an
 * HTTP/1.1 conversation instead (vg_pktgen_http.h).
 */
#ifndef VG_PKTGEN_H
#define VG_PKTGEN_H

#include <stdint.h>
#include <stdio.h>

#include "vg_diag.h"
#include "vg_pktgen_opt.h"

struct vg_pktgen;

struct vg_pktgen_summary {
	uint64_t packets;
	uint64_t bytes; /* sum of pcap record lengths (no FCS) */
	uint32_t flows;
	uint32_t matching_flows;
	uint32_t denied_flows;
	uint32_t v6_flows;
	uint32_t proto_flows[VG_PKTGEN_NPROTO];
	uint64_t http_requests;	       /* --app http: requests (each answered) */
	uint32_t http_keepalive_flows; /* --app http: flows making several requests */
	uint32_t dns_queries;	       /* --app dns: queries (each answered) */
	uint32_t dns_long_names;       /* --app dns: names over VG_PKTGEN_DNS_LONG_NAME */
};

/*
 * Prepare a generator for o (which must stay valid until vg_pktgen_free). Allocates the
 * per-flow state and builds the pattern-free filler. Returns NULL with errno set (ENOMEM, or
 * EINVAL with the reason added to d).
 */
struct vg_pktgen *vg_pktgen_create(const struct vg_pktgen_opts *o, struct vg_diag *d);

/*
 * Write the whole file to o->output. For files of a million packets or more, progress (when not
 * NULL) receives a line at most once a second. Returns 0 with s filled, or -errno with the
 * reason in d (the partial file is removed). Call once per generator.
 */
int vg_pktgen_write(struct vg_pktgen *g, FILE *progress, struct vg_pktgen_summary *s,
		struct vg_diag *d);

/* Total packets the options ask for. */
uint64_t vg_pktgen_total_packets(const struct vg_pktgen_opts *o);

/* Free g. NULL is a no-op. */
void vg_pktgen_free(struct vg_pktgen *g);

#endif /* VG_PKTGEN_H */
