/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "reject" action's answer to the sender: a TCP RST for TCP, an ICMP or ICMPv6
 * destination unreachable otherwise. The rejected packet's own mbuf becomes the answer (no
 * allocation on the packet path); the caller transmits it on the port the packet came from.
 *
 * Like a host's stack, no answer goes to an RST, an ICMP error, a later fragment, or a
 * multicast or broadcast address (RFC 1122 3.2.2, RFC 4443 2.4).
 */
#ifndef DP_REJECT_H
#define DP_REJECT_H

#include <stdbool.h>

#include "dp_pkt.h"

struct rte_mbuf;

/*
 * Rewrite m (whose parse is p) into the answer to its sender. Returns true when m now holds
 * the answer, false when no answer is due (m is unchanged, the caller drops it). VLAN tags are
 * kept; MAC addresses, IP addresses and ports are swapped; TTL / hop limit is 64.
 */
bool dp_reject_build(struct rte_mbuf *m, const struct dp_pkt *p);

/*
 * rejectdst: rewrite m, a TCP segment, into a reset to its receiver as if from its sender
 * (addresses, ports, MAC addresses and VLAN tags as they were; the segment's sequence number;
 * its acknowledgement with ACK when it had one). The caller sends it on where the segment was
 * going. False (m unchanged) when no reset is due: not TCP, an RST, a later fragment, a
 * multicast or broadcast address. Other protocols get nothing towards the receiver: the packet
 * is dropped (it was the sender's).
 */
bool dp_reject_build_dst(struct rte_mbuf *m, const struct dp_pkt *p);

#endif /* DP_REJECT_H */
