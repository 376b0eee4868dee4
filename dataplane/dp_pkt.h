/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the parser learns about one packet. Filled by dp_parse() for every packet of a burst;
 * read by the flow table, the policy classifier and the signature scanner. Offsets are from
 * the start of the frame; multi-byte numbers are in host order unless a field says otherwise.
 * Addresses are kept in network order, IPv4 in the first four bytes of the 16.
 *
 * Every field is written by every dp_parse() call, whatever it returns: fields the parser did
 * not reach are 0 (addresses all-zero). All header bytes the parser accepted, from the frame
 * start up to payload_off, lie in the bytes it was allowed to read (the mbuf's first segment);
 * the payload itself may continue into later segments (see dp_parse.h).
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

/* Fragment facts (IPv4 and IPv6 alike). Atomic fragments (offset 0, no more) are NONE. */
enum {
	DP_FRAG_NONE = 0,
	DP_FRAG_FIRST = 1, /* offset 0, more fragments follow: L4 header present */
	DP_FRAG_LATER = 2, /* offset > 0: no L4 header; follows the flow's verdict */
};

/*
 * Parse error reasons. Each has a counter and a policy (dp_parse_policy). The names are used in
 * counters and docs ("ipv4_bad_ihl"): dp_parse_err_name(). The order is not a stable ABI; use
 * the names outside the process.
 */
enum dp_parse_err {
	DP_PERR_NONE = 0,
	DP_PERR_L2_TRUNCATED,	      /* shorter than an Ethernet header */
	DP_PERR_VLAN_TRUNCATED,	      /* VLAN tag runs off the frame */
	DP_PERR_VLAN_TOO_MANY,	      /* more than DP_MAX_VLANS tags */
	DP_PERR_IPV4_TRUNCATED,	      /* less than 20 bytes of IPv4 header */
	DP_PERR_IPV4_BAD_VERSION,     /* version field is not 4 */
	DP_PERR_IPV4_BAD_IHL,	      /* IHL < 5 or header longer than the packet */
	DP_PERR_IPV4_BAD_TOTAL_LEN,   /* total length < IHL*4 or beyond the frame */
	DP_PERR_IPV4_BAD_CHECKSUM,    /* only when checksum validation is on */
	DP_PERR_IPV4_BAD_OPTIONS,     /* option length runs off the header */
	DP_PERR_IPV6_TRUNCATED,	      /* less than 40 bytes of IPv6 header */
	DP_PERR_IPV6_BAD_VERSION,     /* version field is not 6 */
	DP_PERR_IPV6_BAD_PAYLOAD_LEN, /* payload length beyond the frame */
	DP_PERR_IPV6_EXT_TRUNCATED,   /* an extension header runs off the packet */
	DP_PERR_IPV6_EXT_TOO_MANY,    /* longer chain than the parser follows */
	DP_PERR_IPV6_EXT_ORDER,	      /* hop-by-hop not first, or a second fragment header */
	DP_PERR_FRAG_TINY,	      /* first fragment too short to hold the L4 header */
	DP_PERR_FRAG_BAD_OFFSET,      /* later fragment overlaps the first's L4 header (RFC 1858) */
	DP_PERR_FRAG_OVERSIZE,	      /* offset + length: reassembled datagram beyond 65535 */
	DP_PERR_FRAG_BAD_LEN,	      /* more fragments follow but length not a multiple of 8 */
	DP_PERR_FRAG_OVERLAP,  /* later fragment over bytes an earlier one carried (dp_frag.c) */
	DP_PERR_TCP_TRUNCATED, /* less than 20 bytes of TCP header */
	DP_PERR_TCP_BAD_DATA_OFFSET, /* data offset < 5 or beyond the segment */
	DP_PERR_TCP_BAD_FLAGS,	     /* SYN+FIN or SYN+RST (default policy: forward) */
	DP_PERR_UDP_TRUNCATED,	     /* less than 8 bytes of UDP header */
	DP_PERR_UDP_BAD_LEN,	     /* UDP length field disagrees with the IP payload */
	DP_PERR_ICMP_TRUNCATED,	     /* less than 8 bytes of ICMP or ICMPv6 header */
	DP_PERR_SCTP_TRUNCATED,	     /* less than 12 bytes of SCTP common header */
	/* L4 checksums: only with dp_parse_policy.l4_cksum (default policy: forward) */
	DP_PERR_TCP_BAD_CHECKSUM,
	DP_PERR_UDP_BAD_CHECKSUM,
	DP_PERR_ICMP_BAD_CHECKSUM, /* ICMP or ICMPv6 */
	DP_PERR__COUNT
};

/*
 * Protocol anomalies: headers that parse but that no correct stack sends (Zeek's "weirds",
 * Suricata's decoder events on packets it still decodes). Unlike a dp_parse_err, they do not
 * stop the parse and do not decide the packet: each is counted (parse.anomalies) and raised as
 * a detection event, so a signature (decode-event) or the drop list of the policy acts on it.
 */
enum dp_anom {
	DP_ANOM_IPV4_FRAG_DF,	  /* an IPv4 fragment (MF or an offset) with DF set */
	DP_ANOM_IPV6_RH0,	  /* an IPv6 routing header of type 0 (deprecated: RFC 5095) */
	DP_ANOM_IPV6_DUPL_RH,	  /* a second IPv6 routing header (RFC 8200 4.1: at most one) */
	DP_ANOM_IPV6_FH_RESERVED, /* an IPv6 fragment header with non-zero reserved bits */
	DP_ANOM__COUNT
};

#define DP_ANOM_BIT(a) ((uint16_t)(1u << (a)))

#define DP_MAX_VLANS 3

struct dp_pkt {
	/* L2 */
	uint16_t l3_off;     /* offset of the L3 header (after any VLAN tags) */
	uint16_t ether_type; /* innermost EtherType */
	/* VLAN ids, outermost first (802.1Q, 802.1ad QinQ, up to QinQinQ); 0 where absent */
	uint16_t vlan[DP_MAX_VLANS];
	uint8_t n_vlan;

	/* L3 */
	uint8_t l3;	      /* enum dp_l3 */
	uint8_t proto;	      /* L4 protocol after IPv6 extension headers (IPPROTO_*) */
	uint8_t frag;	      /* DP_FRAG_* */
	uint8_t ttl;	      /* TTL or hop limit */
	uint8_t err;	      /* enum dp_parse_err; DP_PERR_NONE when parsed whole */
	bool frag_more;	      /* MF flag / M bit */
	uint8_t n_ext;	      /* IPv6 extension headers followed (fragment header included) */
	uint16_t l4_off;      /* offset of the L4 header (later fragments: of the fragment data);
				 0 when the IP header(s) were not parsed whole */
	uint16_t frag_offset; /* in bytes */
	uint16_t anom;	      /* DP_ANOM_* bits: what is odd but not malformed (counted,
				 visible to rules as events; the packet is handled as usual) */
	uint32_t l3_end;      /* end of the IP datagram in the frame (padding excluded) */
	uint32_t frag_id;     /* IPv4 identification or IPv6 fragment id */

	/* L4 */
	uint16_t sport; /* TCP/UDP/SCTP ports; ICMP/ICMPv6 echo: identifier in both */
	uint16_t dport;
	uint8_t tcp_flags; /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE CWR */
	uint8_t icmp_type; /* ICMP or ICMPv6 */
	uint8_t icmp_code;
	uint8_t tos; /* IPv4 TOS or IPv6 traffic class (DSCP << 2 | ECN) */
	uint32_t tcp_seq;
	uint32_t tcp_ack;
	uint16_t tcp_win;
	uint16_t payload_off; /* first byte after the L4 header (0 until the L4 header parsed) */
	uint32_t payload_len; /* from payload_off up to l3_end */

	uint8_t src[16]; /* network order; IPv4 in src[0..3], the rest zero */
	uint8_t dst[16];
};

#endif /* DP_PKT_H */
