/* SPDX-License-Identifier: BSD-3-Clause */
#include <netinet/in.h>
#include <string.h>

#include "det_event.h"

/* Reasons shared by many refused rows. */
#define NO_IPOPT "Vigil's parser checks IPv4 option lengths only, not their types, order or repeats"
#define NO_V6EXT \
	"Vigil's parser follows IPv6 extension headers and checks their order, the routing type and a repeated fragment or routing header, but not their options or other repeats"
#define NO_ICMP \
	"Vigil's parser does not check ICMP types and codes or the datagram an ICMP error quotes"
#define NO_TCPOPT "Vigil's parser does not decode TCP options"
#define NO_LINK \
	"Vigil reads Ethernet frames only (no SLL, raw IP, null/loopback or HDLC link types)"
#define NO_TUNNEL \
	"Vigil's parser does not decode tunnels or encapsulations (PPP, PPPoE, GRE, MPLS, ERSPAN, VN-Tag, 802.1ah, E-Tag, IP in IP)"
#define NO_SEQ \
	"Vigil's TCP tracker follows the connection states by flags; it does not check sequence and acknowledgement numbers, windows or timestamps"
#define NO_SESS \
	"Vigil's stream inspection runs on tracked flows only: a FIN or RST without a session is not inspected"
#define NO_SYNQ "Vigil's TCP tracker does not queue SYNs or SYN/ACKs"
#define NO_THREAD \
	"Vigil steers both directions of a flow to one worker by symmetric RSS: there is no wrong thread"
#define NO_URG "Vigil's stream inspection does not handle urgent data"
#define NO_DEPTH \
	"Vigil does not raise an event when the stream depth is reached (inspection.stream_depth)"

#define MAP(k, n, e)                \
	{                           \
		k, n, e, NULL, NULL \
	}
#define MAPN(k, n, e, note)         \
	{                           \
		k, n, e, NULL, note \
	}
#define REFUSE(k, n, why)           \
	{                           \
		k, n, -1, why, NULL \
	}
#define D DET_EVK_DECODE
#define S DET_EVK_STREAM
#define C DET_EVK_CSUM

static const struct det_event_map table[] = {
	/* decode-event: Ethernet and VLAN */
	MAP(D, "ethernet.pkt_too_small", DET_EV_ETH_TOO_SMALL),
	REFUSE(D, "ethernet.unknown_ethertype",
			"Vigil's parser passes EtherTypes other than IPv4 and IPv6 to the policy's l2 section without flagging them"),
	MAP(D, "vlan.header_too_small", DET_EV_VLAN_TOO_SMALL),
	MAPN(D, "vlan.too_many_layers", DET_EV_VLAN_TOO_MANY,
			"Vigil follows three tags (Suricata two), so it fires from the fourth tag"),
	REFUSE(D, "vlan.unknown_type",
			"Vigil's parser passes any EtherType after a VLAN tag to the policy's l2 section without flagging it"),
	/* IPv4 */
	MAP(D, "ipv4.pkt_too_small", DET_EV_IPV4_TOO_SMALL),
	MAP(D, "ipv4.hlen_too_small", DET_EV_IPV4_HLEN_TOO_SMALL),
	MAP(D, "ipv4.iplen_smaller_than_hlen", DET_EV_IPV4_IPLEN_SMALL),
	MAPN(D, "ipv4.trunc_pkt", DET_EV_IPV4_TRUNC,
			"the header (IHL) or the total length runs past the end of the frame"),
	MAP(D, "ipv4.wrong_ip_version", DET_EV_IPV4_VERSION),
	MAPN(D, "ipv4.opt_invalid_len", DET_EV_IPV4_OPT_LEN,
			"Vigil has one reason (ipv4_bad_options) for an option length below 2 and an option running off the header; both fire"),
	MAPN(D, "ipv4.opt_malformed", DET_EV_IPV4_OPT_LEN,
			"the same event as ipv4.opt_invalid_len (ipv4_bad_options)"),
	REFUSE(D, "ipv4.opt_invalid", NO_IPOPT),
	REFUSE(D, "ipv4.opt_pad_required", NO_IPOPT),
	REFUSE(D, "ipv4.opt_eol_required", NO_IPOPT),
	REFUSE(D, "ipv4.opt_duplicate", NO_IPOPT),
	REFUSE(D, "ipv4.opt_unknown", NO_IPOPT),
	MAP(D, "ipv4.icmpv6", DET_EV_IPV4_ICMPV6),
	MAPN(D, "ipv4.frag_pkt_too_large", DET_EV_FRAG_TOO_LARGE,
			"seen on the fragment whose offset and length pass 65535 (IPv4)"),
	MAPN(D, "ipv4.frag_overlap", DET_EV_FRAG_OVERLAP,
			"a later fragment over the first fragment's L4 header (RFC 1858), or over bytes an earlier fragment of the datagram carried (an exact duplicate is not an overlap); overlaps with fragments that came before their first fragment, or with later fragments beyond the first six a datagram keeps, are not seen (IPv4)"),
	REFUSE(D, "ipv4.unknown_protocol",
			"Vigil's parser records any IP protocol without flagging unknown ones"),
	/* IPv6 */
	MAP(D, "ipv6.pkt_too_small", DET_EV_IPV6_TOO_SMALL),
	MAP(D, "ipv6.trunc_pkt", DET_EV_IPV6_TRUNC),
	MAP(D, "ipv6.wrong_ip_version", DET_EV_IPV6_VERSION),
	MAP(D, "ipv6.trunc_exthdr", DET_EV_IPV6_EXT_TRUNC),
	MAPN(D, "ipv6.exthdr_dupl_fh", DET_EV_IPV6_EXT_ORDER,
			"Vigil has one reason (ipv6_ext_order) for a second fragment header and a hop-by-hop header that is not first; both fire"),
	MAPN(D, "ipv6.exthdr_dupl_hh", DET_EV_IPV6_EXT_ORDER,
			"the same event as ipv6.exthdr_dupl_fh (ipv6_ext_order): a second hop-by-hop header is one that is not first"),
	REFUSE(D, "ipv6.exthdr_useless_fh", NO_V6EXT),
	MAP(D, "ipv6.exthdr_dupl_rh", DET_EV_IPV6_DUPL_RH),
	REFUSE(D, "ipv6.exthdr_dupl_dh", NO_V6EXT),
	REFUSE(D, "ipv6.exthdr_dupl_ah", NO_V6EXT),
	REFUSE(D, "ipv6.exthdr_dupl_eh", NO_V6EXT),
	REFUSE(D, "ipv6.exthdr_invalid_optlen", NO_V6EXT),
	REFUSE(D, "ipv6.exthdr_ah_res_not_null", NO_V6EXT),
	REFUSE(D, "ipv6.hopopts_unknown_opt", NO_V6EXT),
	REFUSE(D, "ipv6.hopopts_only_padding", NO_V6EXT),
	REFUSE(D, "ipv6.dstopts_unknown_opt", NO_V6EXT),
	REFUSE(D, "ipv6.dstopts_only_padding", NO_V6EXT),
	MAP(D, "ipv6.rh_type_0", DET_EV_IPV6_RH_TYPE_0),
	REFUSE(D, "ipv6.zero_len_padn", NO_V6EXT),
	MAP(D, "ipv6.fh_non_zero_reserved_field", DET_EV_IPV6_FH_RESERVED),
	REFUSE(D, "ipv6.data_after_none_header", NO_V6EXT),
	REFUSE(D, "ipv6.unknown_next_header",
			"Vigil's parser records any next header without flagging unknown ones"),
	MAPN(D, "ipv6.exthdr_too_many", DET_EV_IPV6_EXT_TOO_MANY,
			"Vigil's own event: more extension headers than parse.max_ext_hdrs (Suricata has no such limit)"),
	MAP(D, "ipv6.icmpv4", DET_EV_IPV6_ICMPV4),
	MAPN(D, "ipv6.frag_pkt_too_large", DET_EV_FRAG_TOO_LARGE,
			"seen on the fragment whose offset and length pass 65535 (IPv6)"),
	MAPN(D, "ipv6.frag_overlap", DET_EV_FRAG_OVERLAP,
			"a later fragment over the first fragment's L4 header, or over bytes an earlier fragment of the datagram carried (an exact duplicate is not an overlap; IPv6)"),
	MAP(D, "ipv6.frag_invalid_length", DET_EV_FRAG_BAD_LEN),
	MAPN(D, "ipv4.frag_invalid_length", DET_EV_FRAG_BAD_LEN,
			"Vigil's own event (Suricata checks the multiple of 8 for IPv6 only)"),
	MAPN(D, "ipv4.frag_df", DET_EV_IPV4_FRAG_DF,
			"Vigil's own event (Zeek's fragment_with_DF): a fragment whose sender forbade fragmenting"),
	MAPN(D, "ipv4.frag_tiny", DET_EV_FRAG_TINY,
			"Vigil's own event: a first fragment too short for its L4 header (both families)"),
	REFUSE(D, "ipv6.ipv4_in_ipv6_too_small", NO_TUNNEL),
	REFUSE(D, "ipv6.ipv4_in_ipv6_wrong_version", NO_TUNNEL),
	REFUSE(D, "ipv6.ipv6_in_ipv6_too_small", NO_TUNNEL),
	REFUSE(D, "ipv6.ipv6_in_ipv6_wrong_version", NO_TUNNEL),
	/* ICMP */
	MAP(D, "icmpv4.pkt_too_small", DET_EV_ICMPV4_TOO_SMALL),
	REFUSE(D, "icmpv4.unknown_type", NO_ICMP),
	REFUSE(D, "icmpv4.unknown_code", NO_ICMP),
	REFUSE(D, "icmpv4.ipv4_trunc_pkt", NO_ICMP),
	REFUSE(D, "icmpv4.ipv4_unknown_ver", NO_ICMP),
	MAP(D, "icmpv6.pkt_too_small", DET_EV_ICMPV6_TOO_SMALL),
	REFUSE(D, "icmpv6.unknown_type", NO_ICMP),
	REFUSE(D, "icmpv6.unknown_code", NO_ICMP),
	REFUSE(D, "icmpv6.ipv6_trunc_pkt", NO_ICMP),
	REFUSE(D, "icmpv6.ipv6_unknown_version", NO_ICMP),
	REFUSE(D, "icmpv6.mld_message_with_invalid_hl", NO_ICMP),
	REFUSE(D, "icmpv6.unassigned_type", NO_ICMP),
	REFUSE(D, "icmpv6.experimentation_type", NO_ICMP),
	/* TCP, UDP, SCTP */
	MAP(D, "tcp.pkt_too_small", DET_EV_TCP_TOO_SMALL),
	MAP(D, "tcp.hlen_too_small", DET_EV_TCP_HLEN_TOO_SMALL),
	MAP(D, "tcp.invalid_optlen", DET_EV_TCP_OPTLEN),
	MAPN(D, "tcp.syn_rst", DET_EV_TCP_SYN_RST,
			"Vigil's own event: SYN with RST (the parser's tcp_bad_flags); SYN with FIN is stream-event:fin_syn"),
	REFUSE(D, "tcp.opt_invalid_len", NO_TCPOPT),
	REFUSE(D, "tcp.opt_duplicate", NO_TCPOPT),
	MAP(D, "udp.pkt_too_small", DET_EV_UDP_TOO_SMALL),
	MAP(D, "udp.hlen_too_small", DET_EV_UDP_HLEN_TOO_SMALL),
	MAP(D, "udp.len_invalid", DET_EV_UDP_LEN_INVALID),
	MAPN(D, "sctp.pkt_too_small", DET_EV_SCTP_TOO_SMALL,
			"Vigil's own event (Suricata's name pattern): fewer than 12 bytes of SCTP header"),
	/* link types and encapsulations Vigil does not decode */
	REFUSE(D, "sll.pkt_too_small", NO_LINK),
	REFUSE(D, "ipraw.invalid_ip_version", NO_LINK),
	REFUSE(D, "ltnull.pkt_too_small", NO_LINK),
	REFUSE(D, "ltnull.unsupported_type", NO_LINK),
	REFUSE(D, "chdlc.pkt_too_small", NO_LINK),
	REFUSE(D, "afpacket.trunc_pkt", "Vigil does not capture with AF_PACKET"),
	REFUSE(D, "dce.pkt_too_small", "Vigil's parser does not decode DCE (Endace) framing"),
	REFUSE(D, "ppp.pkt_too_small", NO_TUNNEL),
	REFUSE(D, "ppp.vju_pkt_too_small", NO_TUNNEL),
	REFUSE(D, "ppp.ip4_pkt_too_small", NO_TUNNEL),
	REFUSE(D, "ppp.ip6_pkt_too_small", NO_TUNNEL),
	REFUSE(D, "ppp.wrong_type", NO_TUNNEL),
	REFUSE(D, "ppp.unsup_proto", NO_TUNNEL),
	REFUSE(D, "pppoe.pkt_too_small", NO_TUNNEL),
	REFUSE(D, "pppoe.wrong_code", NO_TUNNEL),
	REFUSE(D, "pppoe.malformed_tags", NO_TUNNEL),
	REFUSE(D, "gre.pkt_too_small", NO_TUNNEL),
	REFUSE(D, "gre.wrong_version", NO_TUNNEL),
	REFUSE(D, "gre.version0_recur", NO_TUNNEL),
	REFUSE(D, "gre.version0_flags", NO_TUNNEL),
	REFUSE(D, "gre.version0_hdr_too_big", NO_TUNNEL),
	REFUSE(D, "gre.version0_malformed_sre_hdr", NO_TUNNEL),
	REFUSE(D, "gre.version1_chksum", NO_TUNNEL),
	REFUSE(D, "gre.version1_route", NO_TUNNEL),
	REFUSE(D, "gre.version1_ssr", NO_TUNNEL),
	REFUSE(D, "gre.version1_recur", NO_TUNNEL),
	REFUSE(D, "gre.version1_flags", NO_TUNNEL),
	REFUSE(D, "gre.version1_no_key", NO_TUNNEL),
	REFUSE(D, "gre.version1_wrong_protocol", NO_TUNNEL),
	REFUSE(D, "gre.version1_malformed_sre_hdr", NO_TUNNEL),
	REFUSE(D, "gre.version1_hdr_too_big", NO_TUNNEL),
	REFUSE(D, "vntag.header_too_small", NO_TUNNEL),
	REFUSE(D, "vntag.unknown_type", NO_TUNNEL),
	REFUSE(D, "ieee8021ah.header_too_small", NO_TUNNEL),
	REFUSE(D, "etag.header_too_small", NO_TUNNEL),
	REFUSE(D, "etag.unknown_type", NO_TUNNEL),
	REFUSE(D, "mpls.header_too_small", NO_TUNNEL),
	REFUSE(D, "mpls.pkt_too_small", NO_TUNNEL),
	REFUSE(D, "mpls.bad_label_router_alert", NO_TUNNEL),
	REFUSE(D, "mpls.bad_label_implicit_null", NO_TUNNEL),
	REFUSE(D, "mpls.bad_label_reserved", NO_TUNNEL),
	REFUSE(D, "mpls.unknown_payload_type", NO_TUNNEL),
	REFUSE(D, "erspan.header_too_small", NO_TUNNEL),
	REFUSE(D, "erspan.unsupported_version", NO_TUNNEL),
	REFUSE(D, "erspan.too_many_vlan_layers", NO_TUNNEL),
	REFUSE(D, "too_many_layers", NO_TUNNEL),
	REFUSE(D, "igmp.pkt_too_small", "Vigil's parser does not decode IGMP"),
	REFUSE(D, "igmp.v3_pkt_too_small", "Vigil's parser does not decode IGMP"),
	REFUSE(D, "igmp.malformed", "Vigil's parser does not decode IGMP"),

	/* <proto>-csum:valid|invalid */
	MAPN(C, "ipv4", DET_EV_IPV4_CSUM,
			"checked with parse.ipv4_checksum (default on); a packet that fails is dropped unless parse.forward names ipv4_bad_checksum"),
	MAP(C, "tcpv4", DET_EV_TCPV4_CSUM),
	MAP(C, "tcpv6", DET_EV_TCPV6_CSUM),
	MAP(C, "udpv4", DET_EV_UDPV4_CSUM),
	MAP(C, "udpv6", DET_EV_UDPV6_CSUM),
	MAP(C, "icmpv4", DET_EV_ICMPV4_CSUM),
	MAP(C, "icmpv6", DET_EV_ICMPV6_CSUM),
	REFUSE(C, "igmp", "Vigil's parser does not decode IGMP"),

	/* stream-event */
	MAPN(S, "reassembly_seq_gap", DET_EV_STREAM_GAP,
			"on the segment after the missing bytes, in flows Vigil inspects"),
	MAPN(S, "pkt_retransmission", DET_EV_STREAM_RETRANS,
			"a segment with payload that holds no byte the direction has not seen, in flows Vigil inspects"),
	MAPN(S, "fin_syn", DET_EV_TCP_SYN_FIN,
			"any segment with SYN and FIN (the parser's tcp_bad_flags), not only on a session"),
	REFUSE(S, "3whs_ack_in_wrong_dir", NO_SEQ),
	REFUSE(S, "3whs_async_wrong_seq", NO_SEQ),
	REFUSE(S, "3whs_right_seq_wrong_ack_evasion", NO_SEQ),
	REFUSE(S, "3whs_synack_in_wrong_direction", NO_SEQ),
	REFUSE(S, "3whs_synack_resend_with_different_ack", NO_SEQ),
	REFUSE(S, "3whs_synack_resend_with_diff_seq", NO_SEQ),
	REFUSE(S, "3whs_synack_toserver_on_syn_recv", NO_SEQ),
	REFUSE(S, "3whs_synack_with_wrong_ack", NO_SEQ),
	REFUSE(S, "3whs_synack_flood", NO_SYNQ),
	REFUSE(S, "3whs_synack_tfo_data_ignored", NO_SEQ),
	REFUSE(S, "3whs_syn_flood", NO_SYNQ),
	REFUSE(S, "3whs_syn_resend_diff_seq_on_syn_recv", NO_SEQ),
	REFUSE(S, "3whs_syn_toclient_on_syn_recv", NO_SEQ),
	REFUSE(S, "3whs_wrong_seq_wrong_ack", NO_SEQ),
	REFUSE(S, "3whs_ack_data_inject", NO_SEQ),
	REFUSE(S, "4whs_synack_with_wrong_ack", NO_SEQ),
	REFUSE(S, "4whs_synack_with_wrong_syn", NO_SEQ),
	REFUSE(S, "4whs_wrong_seq", NO_SEQ),
	REFUSE(S, "4whs_invalid_ack", NO_SEQ),
	REFUSE(S, "closewait_ack_out_of_window", NO_SEQ),
	REFUSE(S, "closewait_fin_out_of_window", NO_SEQ),
	REFUSE(S, "closewait_invalid_ack", NO_SEQ),
	REFUSE(S, "closewait_pkt_before_last_ack", NO_SEQ),
	REFUSE(S, "closing_ack_wrong_seq", NO_SEQ),
	REFUSE(S, "closing_invalid_ack", NO_SEQ),
	REFUSE(S, "est_packet_out_of_window", NO_SEQ),
	REFUSE(S, "est_pkt_before_last_ack", NO_SEQ),
	REFUSE(S, "est_synack_resend", NO_SEQ),
	REFUSE(S, "est_synack_resend_with_different_ack", NO_SEQ),
	REFUSE(S, "est_synack_resend_with_diff_seq", NO_SEQ),
	REFUSE(S, "est_synack_toserver", NO_SEQ),
	REFUSE(S, "est_syn_resend", NO_SEQ),
	REFUSE(S, "est_syn_resend_diff_seq", NO_SEQ),
	REFUSE(S, "est_syn_toclient", NO_SEQ),
	REFUSE(S, "est_invalid_ack", NO_SEQ),
	REFUSE(S, "fin_invalid_ack", NO_SEQ),
	REFUSE(S, "fin1_ack_wrong_seq", NO_SEQ),
	REFUSE(S, "fin1_fin_wrong_seq", NO_SEQ),
	REFUSE(S, "fin1_invalid_ack", NO_SEQ),
	REFUSE(S, "fin2_ack_wrong_seq", NO_SEQ),
	REFUSE(S, "fin2_fin_wrong_seq", NO_SEQ),
	REFUSE(S, "fin2_invalid_ack", NO_SEQ),
	REFUSE(S, "fin_but_no_session", NO_SESS),
	REFUSE(S, "fin_out_of_window", NO_SEQ),
	REFUSE(S, "lastack_ack_wrong_seq", NO_SEQ),
	REFUSE(S, "lastack_invalid_ack", NO_SEQ),
	REFUSE(S, "rst_but_no_session", NO_SESS),
	REFUSE(S, "timewait_ack_wrong_seq", NO_SEQ),
	REFUSE(S, "timewait_invalid_ack", NO_SEQ),
	REFUSE(S, "pkt_invalid_timestamp", NO_SEQ),
	REFUSE(S, "pkt_invalid_ack", NO_SEQ),
	REFUSE(S, "pkt_broken_ack", NO_SEQ),
	REFUSE(S, "rst_invalid_ack", NO_SEQ),
	REFUSE(S, "shutdown_syn_resend", NO_SEQ),
	REFUSE(S, "pkt_bad_window_update", NO_SEQ),
	REFUSE(S, "suspected_rst_inject", NO_SEQ),
	REFUSE(S, "pkt_spurious_retransmission", NO_SEQ),
	REFUSE(S, "reassembly_segment_before_base_seq", NO_SEQ),
	MAPN(S, "reassembly_overlap_different_data", DET_EV_STREAM_OVERLAP_DIFF,
			"compared with the first 32 bytes of the latest segment that brought new data in that direction, and an exact copy of that segment (same first byte and length) as a whole by its CRC-32C: a repeat of older bytes is not compared"),
	MAPN(S, "rst_out_of_window", DET_EV_STREAM_RST_WINDOW,
			"Vigil's own event, on inspected flows: an RST whose sequence number lies further from the next byte its sender was expected to send than the receiver's latest window at the largest scale (its window field shifted by 14) allows, as blind RST injection sends them; the RST does not move the stream"),
	REFUSE(S, "reassembly_depth_reached", NO_DEPTH),
	REFUSE(S, "reassembly_urgent_oob_limit_reached", NO_URG),
	REFUSE(S, "wrong_thread", NO_THREAD),
};

#define N_TABLE (sizeof(table) / sizeof(table[0]))

static const char *const ev_names[DET_EV__COUNT] = {
	[DET_EV_ETH_TOO_SMALL] = "eth_too_small",
	[DET_EV_VLAN_TOO_SMALL] = "vlan_too_small",
	[DET_EV_VLAN_TOO_MANY] = "vlan_too_many",
	[DET_EV_IPV4_TOO_SMALL] = "ipv4_too_small",
	[DET_EV_IPV4_HLEN_TOO_SMALL] = "ipv4_hlen_too_small",
	[DET_EV_IPV4_TRUNC] = "ipv4_trunc",
	[DET_EV_IPV4_IPLEN_SMALL] = "ipv4_iplen_small",
	[DET_EV_IPV4_VERSION] = "ipv4_version",
	[DET_EV_IPV4_OPT_LEN] = "ipv4_opt_len",
	[DET_EV_IPV4_ICMPV6] = "ipv4_icmpv6",
	[DET_EV_IPV6_TOO_SMALL] = "ipv6_too_small",
	[DET_EV_IPV6_TRUNC] = "ipv6_trunc",
	[DET_EV_IPV6_VERSION] = "ipv6_version",
	[DET_EV_IPV6_EXT_TRUNC] = "ipv6_ext_trunc",
	[DET_EV_IPV6_EXT_ORDER] = "ipv6_ext_order",
	[DET_EV_IPV6_EXT_TOO_MANY] = "ipv6_ext_too_many",
	[DET_EV_IPV6_ICMPV4] = "ipv6_icmpv4",
	[DET_EV_FRAG_TINY] = "frag_tiny",
	[DET_EV_FRAG_OVERLAP] = "frag_overlap",
	[DET_EV_FRAG_TOO_LARGE] = "frag_too_large",
	[DET_EV_FRAG_BAD_LEN] = "frag_bad_len",
	[DET_EV_TCP_TOO_SMALL] = "tcp_too_small",
	[DET_EV_TCP_HLEN_TOO_SMALL] = "tcp_hlen_too_small",
	[DET_EV_TCP_OPTLEN] = "tcp_optlen",
	[DET_EV_TCP_SYN_FIN] = "tcp_syn_fin",
	[DET_EV_TCP_SYN_RST] = "tcp_syn_rst",
	[DET_EV_UDP_TOO_SMALL] = "udp_too_small",
	[DET_EV_UDP_HLEN_TOO_SMALL] = "udp_hlen_too_small",
	[DET_EV_UDP_LEN_INVALID] = "udp_len_invalid",
	[DET_EV_ICMPV4_TOO_SMALL] = "icmpv4_too_small",
	[DET_EV_ICMPV6_TOO_SMALL] = "icmpv6_too_small",
	[DET_EV_SCTP_TOO_SMALL] = "sctp_too_small",
	[DET_EV_IPV4_CSUM] = "ipv4_csum",
	[DET_EV_TCPV4_CSUM] = "tcpv4_csum",
	[DET_EV_TCPV6_CSUM] = "tcpv6_csum",
	[DET_EV_UDPV4_CSUM] = "udpv4_csum",
	[DET_EV_UDPV6_CSUM] = "udpv6_csum",
	[DET_EV_ICMPV4_CSUM] = "icmpv4_csum",
	[DET_EV_ICMPV6_CSUM] = "icmpv6_csum",
	[DET_EV_STREAM_GAP] = "stream_gap",
	[DET_EV_STREAM_RETRANS] = "stream_retrans",
	[DET_EV_IPV4_FRAG_DF] = "ipv4_frag_df",
	[DET_EV_IPV6_RH_TYPE_0] = "ipv6_rh_type_0",
	[DET_EV_IPV6_DUPL_RH] = "ipv6_dupl_rh",
	[DET_EV_IPV6_FH_RESERVED] = "ipv6_fh_reserved",
	[DET_EV_STREAM_OVERLAP_DIFF] = "stream_overlap_diff",
	[DET_EV_STREAM_RST_WINDOW] = "stream_rst_out_of_window",
};

const struct det_event_map *
det_event_table(unsigned *n)
{
	*n = N_TABLE;
	return table;
}

const struct det_event_map *
det_event_find(enum det_event_kind kind, const char *name)
{
	for (unsigned i = 0; name != NULL && i < N_TABLE; i++)
		if (table[i].kind == kind && strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

const char *
det_event_kind_name(enum det_event_kind kind)
{
	static const char *const names[DET_EVK__COUNT] = { "decode-event", "stream-event", "csum" };

	return (unsigned)kind < DET_EVK__COUNT ? names[kind] : "?";
}

const char *
det_event_name(enum det_event e)
{
	return (unsigned)e < DET_EV__COUNT && ev_names[e] != NULL ? ev_names[e] : "?";
}

bool
det_event_csum_kind(enum det_event e, uint8_t *family, uint8_t *proto)
{
	static const struct {
		uint8_t ev, family, proto;
	} k[] = {
		{ DET_EV_IPV4_CSUM, 4, 0 },
		{ DET_EV_TCPV4_CSUM, 4, IPPROTO_TCP },
		{ DET_EV_TCPV6_CSUM, 6, IPPROTO_TCP },
		{ DET_EV_UDPV4_CSUM, 4, IPPROTO_UDP },
		{ DET_EV_UDPV6_CSUM, 6, IPPROTO_UDP },
		{ DET_EV_ICMPV4_CSUM, 4, IPPROTO_ICMP },
		{ DET_EV_ICMPV6_CSUM, 6, IPPROTO_ICMPV6 },
	};

	for (unsigned i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (k[i].ev == (uint8_t)e) {
			*family = k[i].family;
			*proto = k[i].proto;
			return true;
		}
	return false;
}
