/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Events as rules: the anomalies Vigil's dataplane sees in a packet (the parser's reasons,
 * the L4 checksum, the TCP stream's gaps and retransmissions), as bits of det_pkt.events,
 * and the names Suricata's rule files give them (decode-event:ipv4.trunc_pkt,
 * stream-event:reassembly_seq_gap, tcpv4-csum:invalid, ...).
 *
 * The mapping is one table (det_event.c): each Suricata name either names the Vigil event
 * that means the same (a note says where they differ) or the reason Vigil refuses rules on
 * it ("Vigil's parser does not detect ..."). docs/SIGNATURES.md has the same table.
 *
 * No DPDK: the dataplane maps its parse reasons to these bits (dataplane/dp_inspect.c).
 */
#ifndef DET_EVENT_H
#define DET_EVENT_H

#include <stdbool.h>
#include <stdint.h>

/* Bits of det_pkt.events. */
enum det_event {
	DET_EV_ETH_TOO_SMALL = 0,   /* frame shorter than an Ethernet header */
	DET_EV_VLAN_TOO_SMALL,	    /* a VLAN tag runs off the frame */
	DET_EV_VLAN_TOO_MANY,	    /* more than three VLAN tags */
	DET_EV_IPV4_TOO_SMALL,	    /* fewer than 20 bytes of IPv4 header */
	DET_EV_IPV4_HLEN_TOO_SMALL, /* IHL below 5 */
	DET_EV_IPV4_TRUNC,	    /* header or total length beyond the frame */
	DET_EV_IPV4_IPLEN_SMALL,    /* total length smaller than the header */
	DET_EV_IPV4_VERSION,	    /* EtherType IPv4, version not 4 */
	DET_EV_IPV4_OPT_LEN,	    /* an option's length below 2 or beyond the header */
	DET_EV_IPV4_ICMPV6,	    /* IPv4 carrying ICMPv6 */
	DET_EV_IPV6_TOO_SMALL,	    /* fewer than 40 bytes of IPv6 header */
	DET_EV_IPV6_TRUNC,	    /* payload length beyond the frame */
	DET_EV_IPV6_VERSION,	    /* EtherType IPv6, version not 6 */
	DET_EV_IPV6_EXT_TRUNC,	    /* an extension header runs off the datagram */
	DET_EV_IPV6_EXT_ORDER,	    /* hop-by-hop not first, or a second fragment header */
	DET_EV_IPV6_EXT_TOO_MANY,   /* more extension headers than the parser follows */
	DET_EV_IPV6_ICMPV4,	    /* IPv6 carrying ICMP (v4) */
	DET_EV_FRAG_TINY,	    /* first fragment too short for the L4 header */
	DET_EV_FRAG_OVERLAP,	    /* later fragment over the first's L4 header (RFC 1858) */
	DET_EV_FRAG_TOO_LARGE,	    /* reassembled datagram beyond 65535 bytes */
	DET_EV_FRAG_BAD_LEN,	    /* more fragments follow, length not a multiple of 8 */
	DET_EV_TCP_TOO_SMALL,	    /* fewer than 20 bytes of TCP header */
	DET_EV_TCP_HLEN_TOO_SMALL,  /* data offset below 5 */
	DET_EV_TCP_OPTLEN,	    /* data offset beyond the segment */
	DET_EV_TCP_SYN_FIN,	    /* SYN and FIN */
	DET_EV_TCP_SYN_RST,	    /* SYN and RST */
	DET_EV_UDP_TOO_SMALL,	    /* fewer than 8 bytes of UDP header */
	DET_EV_UDP_HLEN_TOO_SMALL,  /* UDP length field below 8 */
	DET_EV_UDP_LEN_INVALID,	    /* UDP length field disagrees with the IP payload */
	DET_EV_ICMPV4_TOO_SMALL,    /* fewer than 8 bytes of ICMP header */
	DET_EV_ICMPV6_TOO_SMALL,    /* fewer than 8 bytes of ICMPv6 header */
	DET_EV_SCTP_TOO_SMALL,	    /* fewer than 12 bytes of SCTP header */
	DET_EV_IPV4_CSUM,	    /* IPv4 header checksum wrong */
	DET_EV_TCPV4_CSUM,	    /* checksum verified wrong (parse.l4_checksum or the NIC) */
	DET_EV_TCPV6_CSUM,
	DET_EV_UDPV4_CSUM,
	DET_EV_UDPV6_CSUM,
	DET_EV_ICMPV4_CSUM,
	DET_EV_ICMPV6_CSUM,
	DET_EV_STREAM_GAP,     /* TCP: bytes missing before this segment */
	DET_EV_STREAM_RETRANS, /* TCP: every byte of the segment was seen before */
	/* Protocol anomalies (dp_pkt.anom): the packet parsed and is handled as usual */
	DET_EV_IPV4_FRAG_DF,	    /* IPv4 fragment with DF set */
	DET_EV_IPV6_RH_TYPE_0,	    /* IPv6 routing header type 0 */
	DET_EV_IPV6_DUPL_RH,	    /* a second IPv6 routing header */
	DET_EV_IPV6_FH_RESERVED,    /* IPv6 fragment header with reserved bits set */
	DET_EV_STREAM_OVERLAP_DIFF, /* TCP: bytes seen before come again with other values */
	DET_EV_STREAM_RST_WINDOW,   /* TCP: an RST outside any window the receiver could offer */
	DET_EV__COUNT
};

_Static_assert(DET_EV__COUNT <= 64, "events are bits of a uint64_t");

#define DET_EV_BIT(e) (1ULL << (e))

/* Which keyword a Suricata name belongs to. */
enum det_event_kind {
	DET_EVK_DECODE = 0, /* decode-event:<name> */
	DET_EVK_STREAM,	    /* stream-event:<name> */
	DET_EVK_CSUM,	    /* <name>-csum:valid|invalid ("tcpv4", "ipv4", ...) */
	DET_EVK__COUNT
};

/* One row of the mapping. */
struct det_event_map {
	uint8_t kind;	  /* enum det_event_kind */
	const char *name; /* Suricata's name ("ipv4.trunc_pkt", "reassembly_seq_gap", "tcpv4") */
	int event;	  /* enum det_event, or -1: refused */
	const char *why;  /* refused: why; else NULL */
	const char *note; /* mapped: where Vigil's event differs from Suricata's, or NULL */
};

/* The whole table, for tests and docs: *n rows. */
const struct det_event_map *det_event_table(unsigned *n);

/* The row for (kind, name), or NULL when Suricata has no such event name either. */
const struct det_event_map *det_event_find(enum det_event_kind kind, const char *name);

/* "decode-event", "stream-event", "csum". */
const char *det_event_kind_name(enum det_event_kind kind);

/* A Vigil event's name, as in docs ("ipv4_trunc"); "?" when out of range. */
const char *det_event_name(enum det_event e);

/*
 * The packet a checksum event applies to: family (4 or 6) and protocol, so that
 * `tcpv4-csum:valid` matches IPv4 TCP packets without the bad-checksum event. Returns false
 * for other events.
 */
bool det_event_csum_kind(enum det_event e, uint8_t *family, uint8_t *proto);

#endif /* DET_EVENT_H */
