/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One mbuf through the parser, inline for the worker's parse loop and dp_parse_burst(): the
 * NIC's IPv4 checksum verdict from ol_flags, the fast path (dp_parse_fast.h) or the full
 * parser, and the counters.
 *
 * Only the first segment is parsed: headers must lie in it (a NIC with scatter RX puts at
 * least the first data_room bytes there, far more than any header chain the parser accepts);
 * lengths are checked against pkt_len, so a jumbo datagram spread over segments is fine.
 */
#ifndef DP_PARSE_MBUF_H
#define DP_PARSE_MBUF_H

#include <netinet/in.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_mbuf.h>

#include "dp_parse.h"
#include "dp_parse_fast.h"

/* Count a packet the full parser saw. */
static inline void
dp_parse_count(struct dp_parse_counters *c, const struct dp_pkt *p, const struct rte_mbuf *m,
		uint32_t hw, enum dp_parse_err e)
{
	c->err[e]++;
	if (unlikely(p->anom != 0))
		for (unsigned a = 0; a < DP_ANOM__COUNT; a++)
			c->anom[a] += (p->anom >> a) & 1;
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

/* The same counts for a packet of the fast path: clean, at most one tag, IP, TCP or UDP. */
static inline void
dp_parse_count_fast(struct dp_parse_counters *c, const struct dp_pkt *p, const struct rte_mbuf *m,
		uint32_t hw)
{
	c->err[DP_PERR_NONE]++;
	c->vlan += p->n_vlan;
	c->multiseg += m->nb_segs > 1;
	if (p->l3 == DP_L3_IPV4) {
		c->ipv4++;
		if (hw & DP_PARSE_HW_IP_CKSUM_GOOD)
			c->ipv4_cksum_hw_good++;
		else if (hw & DP_PARSE_HW_IP_CKSUM_BAD)
			c->ipv4_cksum_hw_bad++;
	} else {
		c->ipv6++;
	}
	if (p->proto == IPPROTO_TCP)
		c->tcp++;
	else
		c->udp++;
}

/*
 * The NIC's checksum verdicts in m->ol_flags as DP_PARSE_HW_* flags; with pol->l4_cksum, the
 * L4 verdict too, counted (l4_cksum_hw or l4_cksum_sw).
 */
static inline uint32_t
dp_parse_mbuf_hw(const struct rte_mbuf *m, const struct dp_parse_policy *pol,
		struct dp_parse_counters *ctr)
{
	/* GOOD, or NONE (both bits: the checksum field is wrong but the header's integrity was
	 * verified, as after some tunnel decapsulations): good. BAD alone: bad. Each flag is a
	 * single bit, so "ol_flags / FLAG & 1" is that bit, without a branch. */
	const uint64_t good = m->ol_flags / RTE_MBUF_F_RX_IP_CKSUM_GOOD & 1,
		       bad = m->ol_flags / RTE_MBUF_F_RX_IP_CKSUM_BAD & ~good & 1;
	uint32_t hw = (uint32_t)(good * DP_PARSE_HW_IP_CKSUM_GOOD | bad * DP_PARSE_HW_IP_CKSUM_BAD);

	_Static_assert(RTE_MBUF_F_RX_IP_CKSUM_NONE ==
					(RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_BAD),
			"NONE is both bits");
	if (unlikely(pol->l4_cksum)) {
		const uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

		if (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD || l4 == RTE_MBUF_F_RX_L4_CKSUM_NONE)
			hw |= DP_PARSE_HW_L4_CKSUM_GOOD;
		else if (l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD)
			hw |= DP_PARSE_HW_L4_CKSUM_BAD;
		if (hw & (DP_PARSE_HW_L4_CKSUM_GOOD | DP_PARSE_HW_L4_CKSUM_BAD))
			ctr->l4_cksum_hw++;
		else
			ctr->l4_cksum_sw++;
	}
	return hw;
}

/*
 * The fast path (dp_parse_fast.h) on one mbuf, hw from dp_parse_mbuf_hw(): true when it took
 * the packet, counted. Such a packet is clean IPv4 or IPv6 TCP or UDP, not a fragment, never
 * dropped: the flow table's. false: call dp_parse_mbuf_full().
 */
static __rte_always_inline bool
dp_parse_mbuf_fast(const struct rte_mbuf *m, struct dp_pkt *out, const struct dp_parse_policy *pol,
		uint32_t hw, struct dp_parse_counters *ctr)
{
	if (!dp_parse_fast(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, m->pkt_len, hw, out,
			    pol))
		return false;
	dp_parse_count_fast(ctr, out, m, hw);
	return true;
}

/* The full parser on one mbuf, counted; returns 1 when the policy drops it. */
static inline uint8_t
dp_parse_mbuf_full(const struct rte_mbuf *m, struct dp_pkt *out, const struct dp_parse_policy *pol,
		uint32_t hw, struct dp_parse_counters *ctr)
{
	const int e = dp_parse_ex(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, m->pkt_len, hw,
			out, pol);

	dp_parse_count(ctr, out, m, hw, (enum dp_parse_err)e);
	return pol->drop[e] != 0;
}

/*
 * Parse one mbuf into *out and count it; returns 1 when the policy drops it. pol must not be
 * NULL.
 */
static __rte_always_inline uint8_t
dp_parse_mbuf(struct rte_mbuf *m, struct dp_pkt *out, const struct dp_parse_policy *pol,
		struct dp_parse_counters *ctr)
{
	const uint32_t hw = dp_parse_mbuf_hw(m, pol, ctr);

	if (likely(dp_parse_mbuf_fast(m, out, pol, hw, ctr)))
		return 0;
	return dp_parse_mbuf_full(m, out, pol, hw, ctr);
}

#endif /* DP_PARSE_MBUF_H */
