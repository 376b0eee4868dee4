/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reject action's answers, built from packets made as bytes and parsed by the real parser:
 * TCP resets (to the sender and to the receiver) and ICMP / ICMPv6 unreachables, each field
 * and checksum checked with a checksum computed here, and the answers refused (RST, ICMP
 * errors, later fragments, multicast and broadcast).
 */
#define VG_TEST_WITH_EAL
#include "vg_test.h"

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dp_parse.h"
#include "dp_reject.h"
#include "dp_tcp.h"
#include "pkt_build.h"

static struct rte_mempool *pool;

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

static uint16_t
rd16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t
rd32(const uint8_t *b)
{
	return (uint32_t)rd16(b) << 16 | rd16(b + 2);
}

static uint32_t
sum_add(uint32_t s, const uint8_t *b, uint32_t n)
{
	for (uint32_t i = 0; i + 1 < n; i += 2)
		s += rd16(b + i);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	return s;
}

static uint16_t
sum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The ones' complement sum of an L4 segment with its pseudo-header: 0xffff when right. */
static uint16_t
l4_sum(const uint8_t *l3, int v6, uint8_t proto, const uint8_t *l4, uint32_t l4len)
{
	uint32_t s = 0;

	if (v6)
		s = sum_add(s, l3 + 8, 32);
	else
		s = sum_add(s, l3 + 12, 8);
	s += proto;
	s += l4len;
	return sum_fold(sum_add(s, l4, l4len));
}

static struct rte_mbuf *
mbuf_of(const struct pb *b)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *d;

	assert_non_null(m);
	d = rte_pktmbuf_append(m, (uint16_t)b->len);
	assert_non_null(d);
	memcpy(d, b->b, b->len);
	return m;
}

static void
parse(const struct pb *b, struct dp_pkt *p)
{
	assert_int_equal(dp_parse(b->b, b->len, p, NULL), 0);
}

/* Parse the answer again: a good packet whose addresses and ports are p's swapped. */
static const uint8_t *
check_answer(struct rte_mbuf *m, const struct pb *orig, struct dp_pkt *a, int swapped)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);

	assert_int_equal(m->pkt_len, m->data_len);
	/* The parser verifies the IPv4 header checksum. */
	assert_int_equal(dp_parse(d, m->data_len, a, NULL), 0);
	if (swapped) {
		assert_memory_equal(d, orig->b + 6, 6);
		assert_memory_equal(d + 6, orig->b, 6);
	} else {
		assert_memory_equal(d, orig->b, 12);
	}
	return d;
}

static void
test_rst_v4_to_syn(void **state)
{
	struct pb b;
	struct dp_pkt p, a;
	struct rte_mbuf *m;
	const uint8_t *d, *ip, *th;

	(void)state;
	/* A SYN with 10 bytes of data (seq 0x01020304): the RST acks seq + 10 + 1, seq 0. */
	pb_ipv4_tcp(&b, F_SYN, 10);
	parse(&b, &p);
	m = mbuf_of(&b);
	assert_true(dp_reject_build(m, &p));
	d = check_answer(m, &b, &a, 1);
	ip = d + 14;
	th = ip + 20;
	assert_int_equal(m->data_len, 14 + 20 + 20);
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(rd16(ip + 2), 40);
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], 6);
	assert_memory_equal(ip + 12, pb_ip4_dst, 4);
	assert_memory_equal(ip + 16, pb_ip4_src, 4);
	assert_int_equal(sum_fold(sum_add(0, ip, 20)), 0xffff);
	assert_int_equal(rd16(th), 80);
	assert_int_equal(rd16(th + 2), 1234);
	assert_int_equal(rd32(th + 4), 0);
	assert_int_equal(rd32(th + 8), 0x01020304 + 10 + 1);
	assert_int_equal(th[12], 5 << 4);
	assert_int_equal(th[13], F_RST | F_ACK);
	assert_int_equal(l4_sum(ip, 0, 6, th, 20), 0xffff);
	assert_int_equal(a.tcp_flags, DP_TCPF_RST | DP_TCPF_ACK);
	rte_pktmbuf_free(m);

	/* A FIN without ACK counts its FIN too. */
	pb_ipv4_tcp(&b, F_FIN, 0);
	parse(&b, &p);
	m = mbuf_of(&b);
	assert_true(dp_reject_build(m, &p));
	th = rte_pktmbuf_mtod(m, const uint8_t *) + 34;
	assert_int_equal(rd32(th + 8), 0x01020304 + 1);
	rte_pktmbuf_free(m);
}

static void
test_rst_v4_to_ack(void **state)
{
	struct pb b;
	struct dp_pkt p, a;
	struct rte_mbuf *m;
	const uint8_t *ip, *th;

	(void)state;
	/* A segment with ACK: the RST takes its ack number as seq, no ACK. */
	pb_ipv4_tcp(&b, F_ACK | F_PSH, 100);
	parse(&b, &p);
	m = mbuf_of(&b);
	m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	assert_true(dp_reject_build(m, &p));
	ip = check_answer(m, &b, &a, 1) + 14;
	th = ip + 20;
	assert_int_equal(m->data_len, 54);
	assert_int_equal(rd32(th + 4), 0x05060708);
	assert_int_equal(rd32(th + 8), 0);
	assert_int_equal(th[13], F_RST);
	assert_int_equal(l4_sum(ip, 0, 6, th, 20), 0xffff);
	assert_int_equal(m->ol_flags, 0);
	rte_pktmbuf_free(m);

	/* No answer to an RST: m unchanged. */
	pb_ipv4_tcp(&b, F_RST | F_ACK, 0);
	parse(&b, &p);
	m = mbuf_of(&b);
	assert_false(dp_reject_build(m, &p));
	assert_false(dp_reject_build_dst(m, &p));
	assert_int_equal(m->data_len, b.len);
	assert_memory_equal(rte_pktmbuf_mtod(m, const uint8_t *), b.b, b.len);
	rte_pktmbuf_free(m);
}

static void
test_rst_v6_vlan(void **state)
{
	struct pb b;
	struct dp_pkt p, a;
	struct rte_mbuf *m;
	const uint8_t *d, *ip, *th;

	(void)state;
	pb_init(&b);
	pb_eth(&b, 0x8100);
	pb_tag(&b, 0x0064, 0x86dd);
	pb_ipv6(&b, 6);
	pb_tcp(&b, 40000, 443, F_ACK, 8);
	pb_data(&b, 33);
	pb_finish(&b);
	parse(&b, &p);
	m = mbuf_of(&b);
	assert_true(dp_reject_build(m, &p));
	d = check_answer(m, &b, &a, 1);
	/* The tag is kept. */
	assert_memory_equal(d + 12, b.b + 12, 6);
	ip = d + 18;
	th = ip + 40;
	assert_int_equal(m->data_len, 18 + 40 + 20);
	assert_int_equal(ip[0] >> 4, 6);
	assert_int_equal(rd16(ip + 4), 20);
	assert_int_equal(ip[6], 6);
	assert_int_equal(ip[7], 64);
	assert_memory_equal(ip + 8, pb_ip6_dst, 16);
	assert_memory_equal(ip + 24, pb_ip6_src, 16);
	assert_int_equal(rd16(th), 443);
	assert_int_equal(rd16(th + 2), 40000);
	assert_int_equal(rd32(th + 4), 0x05060708);
	assert_int_equal(th[13], F_RST);
	assert_int_equal(l4_sum(ip, 1, 6, th, 20), 0xffff);
	rte_pktmbuf_free(m);
}

static void
test_rst_dst(void **state)
{
	struct pb b;
	struct dp_pkt p, a;
	struct rte_mbuf *m;
	const uint8_t *ip, *th;

	(void)state;
	pb_ipv4_tcp(&b, F_ACK, 50);
	parse(&b, &p);
	m = mbuf_of(&b);
	assert_true(dp_reject_build_dst(m, &p));
	/* Towards the receiver: addresses, ports and MACs as they were. */
	ip = check_answer(m, &b, &a, 0) + 14;
	th = ip + 20;
	assert_int_equal(m->data_len, 54);
	assert_memory_equal(ip + 12, pb_ip4_src, 4);
	assert_memory_equal(ip + 16, pb_ip4_dst, 4);
	assert_int_equal(rd16(th), 1234);
	assert_int_equal(rd16(th + 2), 80);
	assert_int_equal(rd32(th + 4), 0x01020304);
	assert_int_equal(rd32(th + 8), 0x05060708);
	assert_int_equal(th[13], F_RST | F_ACK);
	assert_int_equal(l4_sum(ip, 0, 6, th, 20), 0xffff);
	rte_pktmbuf_free(m);

	/* Without ACK: RST alone, ack 0. */
	pb_ipv4_tcp(&b, F_SYN, 0);
	parse(&b, &p);
	m = mbuf_of(&b);
	assert_true(dp_reject_build_dst(m, &p));
	th = rte_pktmbuf_mtod(m, const uint8_t *) + 34;
	assert_int_equal(th[13], F_RST);
	assert_int_equal(rd32(th + 8), 0);
	assert_int_equal(rd32(th + 4), 0x01020304);
	rte_pktmbuf_free(m);

	/* Not TCP: nothing towards the receiver. */
	pb_ipv4_udp(&b, 10);
	parse(&b, &p);
	m = mbuf_of(&b);
	assert_false(dp_reject_build_dst(m, &p));
	assert_memory_equal(rte_pktmbuf_mtod(m, const uint8_t *), b.b, b.len);
	rte_pktmbuf_free(m);
}

/* An ICMP unreachable for the packet in b: type/code, quote, lengths and checksums. */
static void
check_unreach(const struct pb *b, int v6, uint8_t type, uint8_t code, uint32_t quote_max)
{
	struct dp_pkt p, a;
	struct rte_mbuf *m;
	const uint8_t *ip, *ic;
	const uint32_t iplen = v6 ? 40 : 20;
	uint32_t l3 = b->l3, quote = b->len - l3;

	if (quote > quote_max)
		quote = quote_max;
	parse(b, &p);
	m = mbuf_of(b);
	assert_true(dp_reject_build(m, &p));
	ip = check_answer(m, b, &a, 1) + l3;
	ic = ip + iplen;
	assert_int_equal(m->data_len, l3 + iplen + 8 + quote);
	if (v6) {
		assert_int_equal(rd16(ip + 4), 8 + quote);
		assert_int_equal(ip[6], 58);
		assert_memory_equal(ip + 8, pb_ip6_dst, 16);
		assert_memory_equal(ip + 24, pb_ip6_src, 16);
		assert_int_equal(l4_sum(ip, 1, 58, ic, 8 + quote), 0xffff);
	} else {
		assert_int_equal(rd16(ip + 2), 20 + 8 + quote);
		assert_int_equal(ip[9], 1);
		assert_memory_equal(ip + 12, pb_ip4_dst, 4);
		assert_memory_equal(ip + 16, pb_ip4_src, 4);
		assert_int_equal(sum_fold(sum_add(0, ic, 8 + quote)), 0xffff);
	}
	assert_int_equal(ic[0], type);
	assert_int_equal(ic[1], code);
	assert_int_equal(rd32(ic + 4), 0);
	/* The quote is the rejected packet from its IP header on. */
	assert_memory_equal(ic + 8, b->b + l3, quote);
	assert_int_equal(a.proto, v6 ? 58 : 1);
	assert_int_equal(a.icmp_type, type);
	rte_pktmbuf_free(m);
}

static void
test_unreach(void **state)
{
	struct pb b;

	(void)state;
	/* UDP: port unreachable. */
	pb_ipv4_udp(&b, 30);
	check_unreach(&b, 0, 3, 3, 576 - 28);
	/* A large UDP datagram: the answer fits in 576 bytes. */
	pb_ipv4_udp(&b, 1400);
	check_unreach(&b, 0, 3, 3, 576 - 28);
	/* An echo request: administratively prohibited. */
	pb_init(&b);
	pb_eth(&b, 0x0800);
	pb_ipv4(&b, 1, NULL, 0);
	pb_icmp(&b, 8, 0, 7, 1);
	pb_data(&b, 56);
	pb_finish(&b);
	check_unreach(&b, 0, 3, 13, 576 - 28);
	/* IPv6 UDP: port unreachable (code 4), up to 1280 bytes. */
	pb_init(&b);
	pb_eth(&b, 0x86dd);
	pb_ipv6(&b, 17);
	pb_udp(&b, 5353, 53);
	pb_data(&b, 1500);
	pb_finish(&b);
	check_unreach(&b, 1, 1, 4, 1280 - 48);
	/* IPv6 echo request: administratively prohibited (code 1). */
	pb_init(&b);
	pb_eth(&b, 0x86dd);
	pb_ipv6(&b, 58);
	pb_icmp(&b, 128, 0, 7, 1);
	pb_data(&b, 20);
	pb_finish(&b);
	check_unreach(&b, 1, 1, 1, 1280 - 48);
}

static void
expect_none(const struct pb *b)
{
	struct dp_pkt p;
	struct rte_mbuf *m;

	parse(b, &p);
	m = mbuf_of(b);
	assert_false(dp_reject_build(m, &p));
	assert_int_equal(m->data_len, b->len);
	assert_memory_equal(rte_pktmbuf_mtod(m, const uint8_t *), b->b, b->len);
	rte_pktmbuf_free(m);
}

static void
test_no_answer(void **state)
{
	struct pb b;

	(void)state;
	/* ICMP errors: unreachable, time exceeded; ICMPv6 error (type < 128). */
	pb_init(&b);
	pb_eth(&b, 0x0800);
	pb_ipv4(&b, 1, NULL, 0);
	pb_icmp(&b, 3, 3, 0, 0);
	pb_data(&b, 28);
	pb_finish(&b);
	expect_none(&b);
	pb_init(&b);
	pb_eth(&b, 0x0800);
	pb_ipv4(&b, 1, NULL, 0);
	pb_icmp(&b, 11, 0, 0, 0);
	pb_data(&b, 28);
	pb_finish(&b);
	expect_none(&b);
	pb_init(&b);
	pb_eth(&b, 0x86dd);
	pb_ipv6(&b, 58);
	pb_icmp(&b, 1, 4, 0, 0);
	pb_data(&b, 48);
	pb_finish(&b);
	expect_none(&b);

	/* A later fragment (8-byte multiple: more fragments follow). */
	pb_ipv4_udp(&b, 32);
	pb_ipv4_frag(&b, 1480, 0, 1);
	pb_ipv4_cksum(&b);
	expect_none(&b);

	/* Multicast, broadcast and 0.0.0.0 destinations or sources. */
	static const uint8_t mc[4] = { 224, 0, 0, 251 }, bc[4] = { 255, 255, 255, 255 },
			     zero[4] = { 0 };
	const uint8_t *bad[] = { mc, bc, zero };
	for (unsigned i = 0; i < 3; i++) {
		for (unsigned at = 12; at <= 16; at += 4) {
			pb_ipv4_udp(&b, 10);
			memcpy(b.b + b.l3 + at, bad[i], 4);
			pb_ipv4_cksum(&b);
			expect_none(&b);
		}
	}
	pb_ipv4_tcp(&b, F_SYN, 0);
	memcpy(b.b + b.l3 + 16, mc, 4);
	pb_ipv4_cksum(&b);
	expect_none(&b);
	{
		struct dp_pkt p;
		struct rte_mbuf *m;

		parse(&b, &p);
		m = mbuf_of(&b);
		assert_false(dp_reject_build_dst(m, &p));
		rte_pktmbuf_free(m);
	}
	/* IPv6 multicast. */
	pb_init(&b);
	pb_eth(&b, 0x86dd);
	pb_ipv6(&b, 17);
	pb_udp(&b, 5353, 5353);
	pb_data(&b, 10);
	pb_finish(&b);
	b.b[b.l3 + 24] = 0xff;
	b.b[b.l3 + 25] = 0x02;
	expect_none(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rst_v4_to_syn),
		cmocka_unit_test(test_rst_v4_to_ack),
		cmocka_unit_test(test_rst_v6_vlan),
		cmocka_unit_test(test_rst_dst),
		cmocka_unit_test(test_unreach),
		cmocka_unit_test(test_no_answer),
	};

	if (vg_test_eal_init() != 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("reject", 64, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (pool == NULL) {
		fprintf(stderr, "mbuf pool\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
