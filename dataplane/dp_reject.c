/* SPDX-License-Identifier: BSD-3-Clause */
#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "dp_reject.h"
#include "dp_tcp.h"

#define REPLY_TTL 64
#define ICMP4_MAX 576  /* RFC 1812 4.3.2.3: an ICMP error fits in 576 bytes */
#define ICMP6_MAX 1280 /* RFC 4443 2.4 (c): the IPv6 minimum MTU */

static bool
v4_no_reply(const uint8_t *a)
{
	/* multicast, limited broadcast, "this network" */
	return (a[0] & 0xf0) == 0xe0 ||
	       (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255) || a[0] == 0;
}

static bool
v6_no_reply(const uint8_t *a)
{
	static const uint8_t any[16];

	return a[0] == 0xff || memcmp(a, any, 16) == 0;
}

static void
swap_macs(struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ether_addr tmp = eth->src_addr;

	eth->src_addr = eth->dst_addr;
	eth->dst_addr = tmp;
}

/*
 * Write an IPv4 or IPv6 header at l3 for a packet of l4_len bytes of proto from p's dst to src
 * (back to the sender), or with fwd from p's src to dst (on to the receiver).
 */
static unsigned
write_ip_dir(uint8_t *l3, const struct dp_pkt *p, uint8_t proto, uint16_t l4_len, bool fwd)
{
	const uint8_t *from = fwd ? p->src : p->dst, *to = fwd ? p->dst : p->src;

	if (p->l3 == DP_L3_IPV4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;

		memset(ip, 0, sizeof(*ip));
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4_len));
		ip->time_to_live = REPLY_TTL;
		ip->next_proto_id = proto;
		memcpy(&ip->src_addr, from, 4);
		memcpy(&ip->dst_addr, to, 4);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		return sizeof(*ip);
	}
	struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)l3;

	memset(ip6, 0, sizeof(*ip6));
	ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip6->payload_len = rte_cpu_to_be_16(l4_len);
	ip6->proto = proto;
	ip6->hop_limits = REPLY_TTL;
	memcpy(ip6->src_addr, from, 16);
	memcpy(ip6->dst_addr, to, 16);
	return sizeof(*ip6);
}

static unsigned
write_ip(uint8_t *l3, const struct dp_pkt *p, uint8_t proto, uint16_t l4_len)
{
	return write_ip_dir(l3, p, proto, l4_len, false);
}

static void
set_len(struct rte_mbuf *m, uint32_t len)
{
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
}

static bool
build_rst(struct rte_mbuf *m, const struct dp_pkt *p)
{
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, p->l3_off);
	struct rte_tcp_hdr *th;
	uint32_t seq, ack;
	uint8_t flags;
	unsigned iplen;

	if (p->tcp_flags & DP_TCPF_RST)
		return false;
	if (p->tcp_flags & DP_TCPF_ACK) {
		seq = p->tcp_ack;
		ack = 0;
		flags = RTE_TCP_RST_FLAG;
	} else {
		seq = 0;
		ack = p->tcp_seq + p->payload_len + !!(p->tcp_flags & DP_TCPF_SYN) +
		      !!(p->tcp_flags & DP_TCPF_FIN);
		flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
	}
	iplen = write_ip(l3, p, IPPROTO_TCP, sizeof(*th));
	th = (struct rte_tcp_hdr *)(l3 + iplen);
	memset(th, 0, sizeof(*th));
	th->src_port = rte_cpu_to_be_16(p->dport);
	th->dst_port = rte_cpu_to_be_16(p->sport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = sizeof(*th) / 4 << 4;
	th->tcp_flags = flags;
	if (p->l3 == DP_L3_IPV4)
		th->cksum = rte_ipv4_udptcp_cksum((const struct rte_ipv4_hdr *)l3, th);
	else
		th->cksum = rte_ipv6_udptcp_cksum((const struct rte_ipv6_hdr *)l3, th);
	set_len(m, p->l3_off + iplen + sizeof(*th));
	return true;
}

static bool
build_unreachable(struct rte_mbuf *m, const struct dp_pkt *p)
{
	const bool v4 = p->l3 == DP_L3_IPV4;
	const unsigned iplen = v4 ? sizeof(struct rte_ipv4_hdr) : sizeof(struct rte_ipv6_hdr);
	const unsigned max = v4 ? ICMP4_MAX : ICMP6_MAX;
	const unsigned shift = iplen + sizeof(struct rte_icmp_hdr);
	uint32_t quote = p->l3_end - p->l3_off;
	uint32_t total;
	uint8_t *l3;
	struct rte_icmp_hdr *ic;

	/* Never an error about an error. */
	if (v4 && p->proto == IPPROTO_ICMP && p->icmp_type != 8 && p->icmp_type != 13 &&
			p->icmp_type != 15 && p->icmp_type != 17)
		return false;
	if (!v4 && p->proto == IPPROTO_ICMPV6 && p->icmp_type < 128)
		return false;
	if (quote > max - shift)
		quote = max - shift;
	total = p->l3_off + shift + quote;
	if (total > rte_pktmbuf_data_len(m) &&
			rte_pktmbuf_append(m, (uint16_t)(total - rte_pktmbuf_data_len(m))) == NULL)
		return false; /* no tailroom: no answer rather than a wrong one */
	l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, p->l3_off);
	memmove(l3 + shift, l3, quote);
	write_ip(l3, p, v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6,
			(uint16_t)(sizeof(struct rte_icmp_hdr) + quote));
	ic = (struct rte_icmp_hdr *)(l3 + iplen);
	memset(ic, 0, sizeof(*ic));
	if (v4) {
		ic->icmp_type = 3; /* destination unreachable */
		/* port unreachable for UDP (what a host says), administratively prohibited else */
		ic->icmp_code = p->proto == IPPROTO_UDP ? 3 : 13;
		ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, sizeof(*ic) + quote);
	} else {
		ic->icmp_type = 1; /* destination unreachable */
		ic->icmp_code = p->proto == IPPROTO_UDP ? 4 : 1;
		ic->icmp_cksum = rte_ipv6_udptcp_cksum((const struct rte_ipv6_hdr *)l3, ic);
	}
	set_len(m, total);
	return true;
}

bool
dp_reject_build(struct rte_mbuf *m, const struct dp_pkt *p)
{
	bool ok;

	if ((p->l3 != DP_L3_IPV4 && p->l3 != DP_L3_IPV6) || p->frag == DP_FRAG_LATER ||
			p->l4_off == 0 || !rte_pktmbuf_is_contiguous(m))
		return false;
	if (p->l3 == DP_L3_IPV4 ? v4_no_reply(p->src) || v4_no_reply(p->dst)
				: v6_no_reply(p->src) || v6_no_reply(p->dst))
		return false;
	if (p->proto == IPPROTO_TCP && p->payload_off != 0)
		ok = build_rst(m, p);
	else
		ok = build_unreachable(m, p);
	if (ok) {
		swap_macs(m);
		m->ol_flags = 0;
	}
	return ok;
}

bool
dp_reject_build_dst(struct rte_mbuf *m, const struct dp_pkt *p)
{
	uint8_t *l3;
	struct rte_tcp_hdr *th;
	unsigned iplen;

	if ((p->l3 != DP_L3_IPV4 && p->l3 != DP_L3_IPV6) || p->proto != IPPROTO_TCP ||
			p->frag == DP_FRAG_LATER || p->l4_off == 0 || p->payload_off == 0 ||
			!rte_pktmbuf_is_contiguous(m) || (p->tcp_flags & DP_TCPF_RST))
		return false;
	if (p->l3 == DP_L3_IPV4 ? v4_no_reply(p->src) || v4_no_reply(p->dst)
				: v6_no_reply(p->src) || v6_no_reply(p->dst))
		return false;
	/* The receiver takes a reset whose sequence number is the one it expects next: this
	 * segment's, whose bytes it will not get. */
	l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, p->l3_off);
	iplen = write_ip_dir(l3, p, IPPROTO_TCP, sizeof(*th), true);
	th = (struct rte_tcp_hdr *)(l3 + iplen);
	memset(th, 0, sizeof(*th));
	th->src_port = rte_cpu_to_be_16(p->sport);
	th->dst_port = rte_cpu_to_be_16(p->dport);
	th->sent_seq = rte_cpu_to_be_32(p->tcp_seq);
	if (p->tcp_flags & DP_TCPF_ACK) {
		th->recv_ack = rte_cpu_to_be_32(p->tcp_ack);
		th->tcp_flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
	} else {
		th->tcp_flags = RTE_TCP_RST_FLAG;
	}
	th->data_off = sizeof(*th) / 4 << 4;
	if (p->l3 == DP_L3_IPV4)
		th->cksum = rte_ipv4_udptcp_cksum((const struct rte_ipv4_hdr *)l3, th);
	else
		th->cksum = rte_ipv6_udptcp_cksum((const struct rte_ipv6_hdr *)l3, th);
	set_len(m, p->l3_off + iplen + sizeof(*th));
	m->ol_flags = 0;
	return true;
}
