/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The parser's fast-path wrapper over mbufs. Kept apart from dp_parse.c so that the core links
 * without DPDK (fuzzer, unit tests).
 *
 * Only the first segment is parsed: headers must lie in it (a NIC with scatter RX puts at
 * least the first data_room bytes there, far more than any header chain the parser accepts);
 * lengths are checked against pkt_len, so a jumbo datagram spread over segments is fine.
 */
#include <netinet/in.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "dp_parse.h"

/* How far ahead packet data is prefetched: far enough to hide a cache miss behind the parse of
 * a few packets, near enough to stay in L1 (the l3fwd examples use 3 to 4). */
#define DP_PARSE_PREFETCH 4

static inline void
count_one(struct dp_parse_counters *c, const struct dp_pkt *p, const struct rte_mbuf *m,
		uint32_t hw, enum dp_parse_err e)
{
	c->err[e]++;
	if (p->n_vlan != 0) {
		c->vlan++;
		if (p->n_vlan >= 2)
			c->qinq++;
	}
	if (unlikely(m->nb_segs > 1)) {
		c->multiseg++;
		switch (e) {
		case DP_PERR_IPV4_TRUNCATED:
		case DP_PERR_IPV6_TRUNCATED:
		case DP_PERR_IPV6_EXT_TRUNCATED:
		case DP_PERR_TCP_TRUNCATED:
		case DP_PERR_UDP_TRUNCATED:
		case DP_PERR_ICMP_TRUNCATED:
		case DP_PERR_SCTP_TRUNCATED:
		case DP_PERR_VLAN_TRUNCATED:
		case DP_PERR_L2_TRUNCATED:
			c->multiseg_truncated++;
			break;
		default:
			break;
		}
	}
	switch (p->l3) {
	case DP_L3_IPV4:
		c->ipv4++;
		if (hw & DP_PARSE_HW_IP_CKSUM_GOOD)
			c->ipv4_cksum_hw_good++;
		else if (hw & DP_PARSE_HW_IP_CKSUM_BAD)
			c->ipv4_cksum_hw_bad++;
		break;
	case DP_L3_IPV6:
		c->ipv6++;
		break;
	default:
		if (e == DP_PERR_NONE)
			c->non_ip++;
		return;
	}
	if (p->frag == DP_FRAG_LATER) {
		c->frag_later++;
		return;
	}
	if (p->frag == DP_FRAG_FIRST)
		c->frag_first++;
	if (p->l4_off == 0)
		return;
	switch (p->proto) {
	case IPPROTO_TCP:
		c->tcp++;
		break;
	case IPPROTO_UDP:
		c->udp++;
		break;
	case IPPROTO_SCTP:
		c->sctp++;
		break;
	case IPPROTO_ICMP:
		if (p->l3 == DP_L3_IPV4) {
			c->icmp++;
			break;
		}
		c->l4_other++;
		break;
	case IPPROTO_ICMPV6:
		if (p->l3 == DP_L3_IPV6) {
			c->icmpv6++;
			break;
		}
		c->l4_other++;
		break;
	default:
		c->l4_other++;
		break;
	}
}

static inline uint8_t
parse_one(struct rte_mbuf *m, struct dp_pkt *out, const struct dp_parse_policy *pol,
		struct dp_parse_counters *ctr)
{
	uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	uint32_t hw = 0;
	int e;

	/* NONE (both bits): the checksum field is wrong but the header's integrity was
	 * verified, as after some tunnel decapsulations; treat it as good. */
	if (ck == RTE_MBUF_F_RX_IP_CKSUM_GOOD || ck == RTE_MBUF_F_RX_IP_CKSUM_NONE)
		hw = DP_PARSE_HW_IP_CKSUM_GOOD;
	else if (ck == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		hw = DP_PARSE_HW_IP_CKSUM_BAD;

	e = dp_parse_ex(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, m->pkt_len, hw, out,
			pol);
	count_one(ctr, out, m, hw, (enum dp_parse_err)e);
	return pol->drop[e] != 0;
}

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
		drop[i] = parse_one(pkts[i], &out[i], pol, ctr);
		n_drop += drop[i];
	}
	for (; i < n; i++) {
		drop[i] = parse_one(pkts[i], &out[i], pol, ctr);
		n_drop += drop[i];
	}
	ctr->dropped += n_drop;
	return n_drop;
}
