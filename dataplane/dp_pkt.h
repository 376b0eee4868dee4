/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the parser learns about one packet. Filled by dp_parse() for every packet of a burst;
 * read by the flow table, the policy classifier and the signature scanner. Offsets are from
 * the start of the frame; multi-byte numbers are in host order unless a field says otherwise.
 * Addresses are kept in network order, IPv4 in the first four bytes of the 16.
 */
#ifndef DP_PKT_H
#define DP_PKT_H

#include <stdbool.h>
#include <stdint.h>

enum dp_l3 {
	DP_L3_NONE = 0, /* not IP: ARP, LLDP, ... (the L2 section of the policy decides) */
	DP_L3_IPV4 = 4,
	DP_L3_IPV6 = 6,
};

/* Fragment facts (IPv4 and IPv6 alike). */
enum {
	DP_FRAG_NONE = 0,
	DP_FRAG_FIRST = 1, /* offset 0, more fragments follow: L4 header present */
	DP_FRAG_LATER = 2, /* offset > 0: no L4 header; follows the flow's verdict */
};

/*
 * Parse error reasons. Each has a counter and a policy (dp_parse_policy). The names are used in
 * counters and docs ("ipv4_bad_ihl").
 */
enum dp_parse_err {
	DP_PERR_NONE = 0,
	DP_PERR_L2_TRUNCATED,	     /* shorter than an Ethernet header */
	DP_PERR_VLAN_TRUNCATED,	     /* VLAN tag runs off the frame */
	DP_PERR_VLAN_TOO_MANY,	     /* more than two tags */
	DP_PERR_IPV4_TRUNCATED,	     /* less than 20 bytes of IPv4 header */
	DP_PERR_IPV4_BAD_VERSION,    /* version field is not 4 */
	DP_PERR_IPV4_BAD_IHL,	     /* IHL < 5 or header longer than the packet */
	DP_PERR_IPV4_BAD_TOTAL_LEN,  /* total length < IHL*4 or beyond the frame */
	DP_PERR_IPV4_BAD_CHECKSUM,   /* only when checksum validation is on */
	DP_PERR_IPV4_BAD_OPTIONS,    /* option length runs off the header */
	DP_PERR_IPV6_TRUNCATED,	     /* less than 40 bytes of IPv6 header */
	DP_PERR_IPV6_BAD_VERSION,
	DP_PERR_IPV6_BAD_PAYLOAD_LEN, /* payload length beyond the frame */
	DP_PERR_IPV6_EXT_TRUNCATED,  /* an extension header runs off the packet */
	DP_PERR_IPV6_EXT_TOO_MANY,   /* longer chain than the parser follows */
	DP_PERR_IPV6_EXT_ORDER,	     /* hop-by-hop not first, or a second fragment header */
	DP_PERR_FRAG_TINY,	     /* first fragment too short to hold the L4 header */
	DP_PERR_FRAG_BAD_OFFSET,     /* offset + length beyond 65535, or offset overlaps L4 header */
	DP_PERR_TCP_TRUNCATED,
	DP_PERR_TCP_BAD_DATA_OFFSET, /* data offset < 5 or beyond the segment */
	DP_PERR_TCP_BAD_FLAGS,	     /* SYN+FIN, SYN+RST, FIN without ACK ... */
	DP_PERR_UDP_TRUNCATED,
	DP_PERR_UDP_BAD_LEN,	     /* UDP length field disagrees with the IP payload */
	DP_PERR_ICMP_TRUNCATED,
	DP_PERR_SCTP_TRUNCATED,
	DP_PERR__COUNT
};

struct dp_pkt {
	/* L2 */
	uint16_t l3_off;     /* offset of the L3 header (after any VLAN tags) */
	uint16_t ether_type; /* innermost EtherType */
	uint16_t vlan_outer; /* VLAN id of the outer tag, 0 when untagged */
	uint16_t vlan_inner; /* VLAN id of the inner tag (802.1ad), 0 when none */
	uint8_t n_vlan;

	/* L3 */
	uint8_t l3;	 /* enum dp_l3 */
	uint8_t proto;	 /* L4 protocol after IPv6 extension headers (IPPROTO_*) */
	uint8_t frag;	 /* DP_FRAG_* */
	uint8_t ttl;	 /* TTL or hop limit */
	uint8_t err;	 /* enum dp_parse_err; DP_PERR_NONE when parsed whole */
	uint16_t l4_off; /* offset of the L4 header (valid unless frag == DP_FRAG_LATER) */
	uint16_t l3_end; /* end of the IP datagram in the frame (padding excluded) */
	uint32_t frag_id;     /* IPv4 identification or IPv6 fragment id */
	uint16_t frag_offset; /* in bytes */
	bool frag_more;
	uint8_t src[16]; /* network order; IPv4 in src[0..3] */
	uint8_t dst[16];

	/* L4 */
	uint16_t sport; /* TCP/UDP/SCTP ports; ICMP echo: identifier in both */
	uint16_t dport;
	uint8_t tcp_flags; /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE CWR */
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint32_t tcp_seq;
	uint32_t tcp_ack;
	uint16_t tcp_win;
	uint16_t payload_off; /* first byte after the L4 header */
	uint16_t payload_len; /* up to l3_end */
};

#endif /* DP_PKT_H */
