/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_parse_burst() over real mbufs: the NIC checksum flags, multi-segment packets, counters
 * and drop marks for a mixed burst, bursts shorter and longer than the prefetch distance, and
 * the fast path's counts.
 */
#define VG_TEST_WITH_EAL
#include "vg_test.h"

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dp_parse.h"
#include "pkt_build.h"

static struct rte_mempool *pool;

static int
setup(void **state)
{
	(void)state;
	if (vg_test_eal_init() != 0)
		return -1;
	pool = rte_pktmbuf_pool_create(
			"parse_test", 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	return pool == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}

/* One mbuf holding the frame; with seg1 > 0, two segments split at seg1. */
static struct rte_mbuf *
mk(const struct pb *p, uint64_t ol_flags, uint32_t seg1)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	assert_non_null(m);
	if (seg1 == 0) {
		assert_non_null(rte_pktmbuf_append(m, (uint16_t)p->len));
		memcpy(rte_pktmbuf_mtod(m, void *), p->b, p->len);
	} else {
		struct rte_mbuf *m2 = rte_pktmbuf_alloc(pool);

		assert_non_null(m2);
		assert_non_null(rte_pktmbuf_append(m, (uint16_t)seg1));
		memcpy(rte_pktmbuf_mtod(m, void *), p->b, seg1);
		assert_non_null(rte_pktmbuf_append(m2, (uint16_t)(p->len - seg1)));
		memcpy(rte_pktmbuf_mtod(m2, void *), p->b + seg1, p->len - seg1);
		assert_int_equal(rte_pktmbuf_chain(m, m2), 0);
	}
	m->ol_flags = ol_flags;
	return m;
}

static void
test_mixed_burst(void **state)
{
	struct dp_parse_policy pol = dp_parse_policy_default();
	struct dp_parse_counters c;
	struct rte_mbuf *pkts[12];
	struct dp_pkt out[12];
	uint8_t drop[12];
	struct pb p;
	unsigned n = 0;

	(void)state;
	memset(&c, 0, sizeof(c));
	memset(drop, 0xee, sizeof(drop));

	pb_ipv4_tcp(&p, 0x10, 10); /* 0: clean */
	pkts[n++] = mk(&p, 0, 0);
	p.b[p.l3 + 10] ^= 1; /* 1: bad checksum, no NIC verdict */
	pkts[n++] = mk(&p, 0, 0);
	pkts[n++] = mk(&p, RTE_MBUF_F_RX_IP_CKSUM_GOOD, 0); /* 2: NIC says good: trusted */
	pkts[n++] = mk(&p, RTE_MBUF_F_RX_IP_CKSUM_NONE, 0); /* 3: integrity verified */
	pb_ipv4_tcp(&p, 0x10, 10);
	pkts[n++] = mk(&p, RTE_MBUF_F_RX_IP_CKSUM_BAD, 0); /* 4: NIC says bad */
	pb_ipv4_tcp(&p, 0x03, 0);			   /* 5: SYN+FIN: counted, forwarded */
	pkts[n++] = mk(&p, 0, 0);
	pb_init(&p); /* 6: ARP */
	pb_eth(&p, 0x0806);
	pb_data(&p, 46);
	pkts[n++] = mk(&p, 0, 0);
	pb_init(&p); /* 7: QinQ IPv6 UDP */
	pb_eth(&p, 0x88a8);
	pb_tag(&p, 10, 0x8100);
	pb_tag(&p, 20, 0x86dd);
	pb_ipv6(&p, 17);
	pb_udp(&p, 1, 2);
	pb_finish(&p);
	pkts[n++] = mk(&p, 0, 0);
	pb_init(&p); /* 8: IPv4 later fragment of ICMP */
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 1, NULL, 0);
	pb_data(&p, 40);
	pb_finish(&p);
	pb_ipv4_frag(&p, 1480, 0, 0);
	pb_ipv4_cksum(&p);
	pkts[n++] = mk(&p, 0, 0);
	pb_ipv4_udp(&p, 600 - 28); /* 9: a 600-byte datagram in two segments */
	pkts[n++] = mk(&p, 0, 100);
	pkts[n++] = mk(&p, 0, 30); /* 10: IPv4 header split across the segments */
	pb_init(&p);		   /* 11: IPv6 first fragment, SCTP, in VLAN 7 */
	pb_eth(&p, 0x8100);
	pb_tag(&p, 7, 0x86dd);
	pb_ipv6(&p, 44);
	pb_frag6(&p, 132, 0, 1, 1);
	pb_sctp(&p, 3, 4);
	pb_data(&p, 4);
	pb_finish(&p);
	pkts[n++] = mk(&p, 0, 0);
	assert_int_equal(n, 12);

	assert_int_equal(dp_parse_burst(pkts, (uint16_t)n, out, &pol, &c, drop), 3);

	const uint8_t want_drop[12] = { 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0 };
	const enum dp_parse_err want_err[12] = { 0, DP_PERR_IPV4_BAD_CHECKSUM, 0, 0,
		DP_PERR_IPV4_BAD_CHECKSUM, DP_PERR_TCP_BAD_FLAGS, 0, 0, 0, 0,
		DP_PERR_IPV4_TRUNCATED, 0 };

	for (unsigned i = 0; i < n; i++) {
		if (drop[i] != want_drop[i] || out[i].err != want_err[i])
			fail_msg("packet %u: drop %u err %s, want drop %u err %s", i, drop[i],
					dp_parse_err_name(out[i].err), want_drop[i],
					dp_parse_err_name(want_err[i]));
	}
	/* The datagram continues past the first segment; lengths come from pkt_len. */
	assert_int_equal(out[9].l3_end, 614);
	assert_int_equal(out[9].payload_len, 600 - 28);
	assert_int_equal(out[7].vlan[1], 20);
	assert_int_equal(out[11].sport, 3);

	assert_int_equal(c.err[DP_PERR_NONE], 8);
	assert_int_equal(c.err[DP_PERR_IPV4_BAD_CHECKSUM], 2);
	assert_int_equal(c.err[DP_PERR_TCP_BAD_FLAGS], 1);
	assert_int_equal(c.err[DP_PERR_IPV4_TRUNCATED], 1);
	assert_int_equal(c.dropped, 3);
	assert_int_equal(c.ipv4, 9);
	assert_int_equal(c.ipv6, 2);
	assert_int_equal(c.non_ip, 1);
	assert_int_equal(c.vlan, 2);
	assert_int_equal(c.qinq, 1);
	assert_int_equal(c.frag_first, 1);
	assert_int_equal(c.frag_later, 1);
	assert_int_equal(c.tcp, 4); /* 0, 2, 3, 5: 1 and 4 stopped at the IPv4 checksum */
	assert_int_equal(c.udp, 2);
	assert_int_equal(c.icmp, 0);
	assert_int_equal(c.icmpv6, 0);
	assert_int_equal(c.sctp, 1);
	assert_int_equal(c.l4_other, 0);
	assert_int_equal(c.ipv4_cksum_hw_good, 2);
	assert_int_equal(c.ipv4_cksum_hw_bad, 1);
	assert_int_equal(c.multiseg, 2);
	assert_int_equal(c.multiseg_truncated, 1);

	/* Every reason counted adds up to the packets seen. */
	uint64_t sum = 0;

	for (int e = 0; e < DP_PERR__COUNT; e++)
		sum += c.err[e];
	assert_int_equal(sum, n);

	/* A policy that forwards everything marks nothing; counters keep adding. */
	struct dp_parse_policy fwd = pol;
	struct dp_parse_counters total;

	memset(fwd.drop, 0, sizeof(fwd.drop));
	assert_int_equal(dp_parse_burst(pkts, (uint16_t)n, out, &fwd, &c, drop), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(drop[i], 0);
	assert_int_equal(c.err[DP_PERR_IPV4_BAD_CHECKSUM], 4);
	assert_int_equal(c.dropped, 3);

	memset(&total, 0, sizeof(total));
	dp_parse_counters_add(&total, &c);
	dp_parse_counters_add(&total, &c);
	assert_int_equal(total.ipv4, 36);
	assert_int_equal(total.err[DP_PERR_NONE], 32);
	assert_int_equal(total.multiseg_truncated, 4);

	rte_pktmbuf_free_bulk(pkts, n);
}

/* Bursts of every size up to 10 (the prefetch distance is 4): each packet parsed once. */
static void
test_burst_sizes(void **state)
{
	struct dp_parse_counters c;
	struct rte_mbuf *pkts[10];
	struct dp_pkt out[10];
	uint8_t drop[10];
	struct pb p;

	(void)state;
	for (unsigned i = 0; i < 10; i++) {
		pb_ipv4_tcp(&p, 0x10, i);
		if (i % 3 == 2)
			p.b[p.l3] = 0x44; /* bad IHL: dropped */
		pkts[i] = mk(&p, 0, 0);
	}
	for (uint16_t n = 0; n <= 10; n++) {
		struct dp_parse_policy pol = dp_parse_policy_default();
		uint16_t want = 0;

		memset(&c, 0, sizeof(c));
		memset(out, 0, sizeof(out));
		for (unsigned i = 0; i < n; i++)
			want += i % 3 == 2;
		assert_int_equal(dp_parse_burst(pkts, n, out, &pol, &c, drop), want);
		assert_int_equal(c.ipv4, n);
		assert_int_equal(c.err[DP_PERR_IPV4_BAD_IHL], want);
		for (unsigned i = 0; i < n; i++) {
			assert_int_equal(drop[i], i % 3 == 2);
			if (i % 3 != 2)
				assert_int_equal(out[i].payload_len, i);
		}
	}
	rte_pktmbuf_free_bulk(pkts, 10);
}

/*
 * The fast path's counts: 600 clean packets of five kinds (plain, the NIC's good and bad
 * verdicts, tagged IPv6, two segments), the counters exact, and the same as parsing each
 * packet in a burst of its own.
 */
static void
test_fast_path_counts(void **state)
{
	enum { KINDS = 5, N = 600 };
	static struct rte_mbuf *pkts[N];
	static struct dp_pkt out[N];
	static uint8_t drop[N];
	struct dp_parse_policy pol = dp_parse_policy_default();
	struct dp_parse_counters c, one;
	struct rte_mbuf *kind[KINDS];
	struct pb p;

	(void)state;
	pol.ipv4_cksum = false; /* so that the NIC's "bad" is counted on the fast path */
	pb_ipv4_tcp(&p, 0x10, 10);
	kind[0] = mk(&p, 0, 0);
	kind[1] = mk(&p, RTE_MBUF_F_RX_IP_CKSUM_GOOD, 0);
	kind[4] = mk(&p, 0, 60); /* two segments, headers in the first */
	pb_ipv4_udp(&p, 20);
	kind[2] = mk(&p, RTE_MBUF_F_RX_IP_CKSUM_BAD, 0);
	pb_init(&p);
	pb_eth(&p, 0x8100);
	pb_tag(&p, 7, 0x86dd);
	pb_ipv6(&p, 17);
	pb_udp(&p, 1, 2);
	pb_finish(&p);
	kind[3] = mk(&p, 0, 0);
	for (unsigned i = 0; i < N; i++)
		pkts[i] = kind[i % KINDS];

	memset(&c, 0, sizeof(c));
	assert_int_equal(dp_parse_burst(pkts, N, out, &pol, &c, drop), 0);
	assert_int_equal(c.err[DP_PERR_NONE], N);
	assert_int_equal(c.ipv4, N / KINDS * 4);
	assert_int_equal(c.ipv6, N / KINDS);
	assert_int_equal(c.tcp, N / KINDS * 3);
	assert_int_equal(c.udp, N / KINDS * 2);
	assert_int_equal(c.vlan, N / KINDS);
	assert_int_equal(c.multiseg, N / KINDS);
	assert_int_equal(c.ipv4_cksum_hw_good, N / KINDS);
	assert_int_equal(c.ipv4_cksum_hw_bad, N / KINDS);

	memset(&one, 0, sizeof(one));
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(dp_parse_burst(&pkts[i], 1, &out[i], &pol, &one, &drop[i]), 0);
	assert_memory_equal(&one, &c, sizeof(c));
	rte_pktmbuf_free_bulk(kind, KINDS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mixed_burst),
		cmocka_unit_test(test_burst_sizes),
		cmocka_unit_test(test_fast_path_counts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
