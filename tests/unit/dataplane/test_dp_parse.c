/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet parser: every protocol it covers, field by field, and every malformed case with
 * its exact reason. Every parse runs on a copy of the frame that ends at a page boundary
 * followed by an inaccessible page, so a read past the end crashes the test; and twice, over
 * structs poisoned with different bytes, which must come out identical (every field written).
 */
#include "vg_test.h"

#include <dirent.h>
#include <sys/mman.h>

#include "dp_parse.h"
#include "dp_parse_fast.h"
#include "pkt_build.h"
#include "vg_config.h"

static uint8_t *guard_page; /* one readable page followed by a PROT_NONE page */
static long page_size;

static int
setup_guard(void **state)
{
	(void)state;
	page_size = sysconf(_SC_PAGESIZE);
	guard_page = mmap(NULL, (size_t)page_size * 2, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard_page == MAP_FAILED)
		return -1;
	return mprotect(guard_page + page_size, (size_t)page_size, PROT_NONE);
}

/* Frames the fast path took (and parsed as the full parser did). */
static unsigned fast_taken;

static int
teardown_guard(void **state)
{
	(void)state;
	/* The comparison must have happened, or it proves nothing. */
	print_message("%u frames through the fast path as well\n", fast_taken);
	if (fast_taken < 20)
		return -1;
	return munmap(guard_page, (size_t)page_size * 2);
}

/* Parse len bytes of frame (cap readable) placed so that frame[cap] is unmapped. */
static int
parse_ex(const uint8_t *frame, uint32_t cap, uint32_t len, uint32_t hw, struct dp_pkt *out,
		const struct dp_parse_policy *pol)
{
	uint8_t *g;
	struct dp_pkt other;
	int rc, rc2;

	assert_true(cap <= (uint32_t)page_size);
	g = guard_page + page_size - cap;
	memcpy(g, frame, cap);
	memset(out, 0xa5, sizeof(*out));
	memset(&other, 0x00, sizeof(other));
	rc = dp_parse_ex(g, cap, len, hw, out, pol);
	rc2 = dp_parse_ex(g, cap, len, hw, &other, pol);
	assert_int_equal(rc, rc2);
	assert_memory_equal(out, &other, sizeof(other));
	assert_int_equal(rc, out->err);
	/* Where the fast path takes a frame, it parses it as the full parser does. */
	struct dp_parse_policy def = dp_parse_policy_default();

	memset(&other, 0x5a, sizeof(other));
	if (dp_parse_fast(g, cap, len, hw, &other, pol != NULL ? pol : &def)) {
		assert_int_equal(rc, 0);
		assert_memory_equal(out, &other, sizeof(other));
		fast_taken++;
	}
	return rc;
}

static int
parse_pol(const struct pb *p, struct dp_pkt *out, const struct dp_parse_policy *pol)
{
	return parse_ex(p->b, p->len, p->len, 0, out, pol);
}

static int
parse(const struct pb *p, struct dp_pkt *out)
{
	int rc = parse_pol(p, out, NULL);
	struct dp_pkt via_simple;

	/* dp_parse() is dp_parse_ex() with the whole frame readable. */
	assert_int_equal(dp_parse(p->b, p->len, &via_simple, NULL), rc);
	assert_memory_equal(&via_simple, out, sizeof(via_simple));
	return rc;
}

static void
assert_v4_addrs(const struct dp_pkt *k)
{
	uint8_t s[16] = { 10, 0, 0, 1 }, d[16] = { 10, 0, 0, 2 };

	assert_memory_equal(k->src, s, 16);
	assert_memory_equal(k->dst, d, 16);
}

static void
assert_v6_addrs(const struct dp_pkt *k)
{
	assert_memory_equal(k->src, pb_ip6_src, 16);
	assert_memory_equal(k->dst, pb_ip6_dst, 16);
}

static void
assert_zero_addrs(const struct dp_pkt *k)
{
	uint8_t z[16] = { 0 };

	assert_memory_equal(k->src, z, 16);
	assert_memory_equal(k->dst, z, 16);
}

/* ---- good packets ---- */

static void
test_ipv4_tcp(void **state)
{
	struct pb p;
	struct dp_pkt k;

	(void)state;
	pb_ipv4_tcp(&p, 0x18, 10); /* PSH|ACK */
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.err, DP_PERR_NONE);
	assert_int_equal(k.l3, DP_L3_IPV4);
	assert_int_equal(k.ether_type, 0x0800);
	assert_int_equal(k.l3_off, 14);
	assert_int_equal(k.n_vlan, 0);
	assert_int_equal(k.vlan[0], 0);
	assert_int_equal(k.vlan[1], 0);
	assert_int_equal(k.proto, 6);
	assert_int_equal(k.ttl, 64);
	assert_int_equal(k.tos, 0x28);
	assert_int_equal(k.frag, DP_FRAG_NONE);
	assert_false(k.frag_more);
	assert_int_equal(k.frag_offset, 0);
	assert_int_equal(k.frag_id, 0x1234);
	assert_int_equal(k.n_ext, 0);
	assert_int_equal(k.l4_off, 34);
	assert_int_equal(k.l3_end, 64);
	assert_int_equal(k.sport, 1234);
	assert_int_equal(k.dport, 80);
	assert_int_equal(k.tcp_flags, 0x18);
	assert_int_equal(k.tcp_seq, 0x01020304);
	assert_int_equal(k.tcp_ack, 0x05060708);
	assert_int_equal(k.tcp_win, 0x2000);
	assert_int_equal(k.icmp_type, 0);
	assert_int_equal(k.icmp_code, 0);
	assert_int_equal(k.payload_off, 54);
	assert_int_equal(k.payload_len, 10);
	assert_v4_addrs(&k);
}

static void
test_ipv4_tcp_options(void **state)
{
	struct pb p;
	struct dp_pkt k;

	(void)state;
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 6, NULL, 0);
	pb_tcp(&p, 40000, 443, 0x02, 8); /* SYN with 12 bytes of options */
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.l4_off, 34);
	assert_int_equal(k.payload_off, 66);
	assert_int_equal(k.payload_len, 0);
	assert_int_equal(k.l3_end, 66);
	assert_int_equal(k.tcp_flags, 0x02);
	assert_int_equal(k.sport, 40000);
	assert_int_equal(k.dport, 443);
}

static void
test_ipv4_options(void **state)
{
	/* NOP, NOP, record route (7 bytes: ptr 4, one slot), EOL, padding: 12 bytes, IHL 8. */
	const uint8_t opts[12] = { 1, 1, 7, 7, 4, 0, 0, 0, 0, 0, 0, 0 };
	struct pb p;
	struct dp_pkt k;

	(void)state;
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, opts, sizeof(opts));
	pb_udp(&p, 1000, 2000);
	pb_data(&p, 4);
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.l4_off, 14 + 32);
	assert_int_equal(k.payload_off, 14 + 32 + 8);
	assert_int_equal(k.payload_len, 4);
	assert_int_equal(k.sport, 1000);
	assert_int_equal(k.dport, 2000);

	/* Options that fill the header exactly, no EOL: NOP x3 then a 9-byte option. */
	const uint8_t full[12] = { 1, 1, 1, 0x44, 9, 5, 0, 0, 0, 0, 0, 0 };

	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, full, sizeof(full));
	pb_udp(&p, 1, 2);
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.l4_off, 46);
}

static void
test_ipv4_udp_ethernet_padding(void **state)
{
	struct pb p;
	struct dp_pkt k;

	(void)state;
	pb_ipv4_udp(&p, 2); /* 44 bytes */
	pb_fill(&p, 0, 60 - p.len);
	assert_int_equal(p.len, 60);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.l3_end, 44);
	assert_int_equal(k.l4_off, 34);
	assert_int_equal(k.payload_off, 42);
	assert_int_equal(k.payload_len, 2);
	assert_int_equal(k.sport, 5353);
	assert_int_equal(k.dport, 53);
}

static void
test_vlan_8021q(void **state)
{
	struct pb p;
	struct dp_pkt k;

	(void)state;
	pb_init(&p);
	pb_eth(&p, 0x8100);
	pb_tag(&p, 0xa064, 0x0800); /* PCP 5, DEI 0, VID 100 */
	pb_ipv4(&p, 6, NULL, 0);
	pb_tcp(&p, 1, 2, 0x10, 5);
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.n_vlan, 1);
	assert_int_equal(k.vlan[0], 100);
	assert_int_equal(k.vlan[1], 0);
	assert_int_equal(k.ether_type, 0x0800);
	assert_int_equal(k.l3_off, 18);
	assert_int_equal(k.l4_off, 38);
	assert_int_equal(k.l3_end, 58);
}

static void
qinq_case(uint16_t outer_tpid)
{
	struct pb p;
	struct dp_pkt k;

	pb_init(&p);
	pb_eth(&p, outer_tpid);
	pb_tag(&p, 0x10c8, 0x8100); /* DEI set, VID 200 */
	pb_tag(&p, 0xe12c, 0x86dd); /* PCP 7, VID 300 */
	pb_ipv6(&p, 17);
	pb_udp(&p, 7, 9);
	pb_data(&p, 3);
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.n_vlan, 2);
	assert_int_equal(k.vlan[0], 200);
	assert_int_equal(k.vlan[1], 300);
	assert_int_equal(k.ether_type, 0x86dd);
	assert_int_equal(k.l3_off, 22);
	assert_int_equal(k.l3, DP_L3_IPV6);
	assert_int_equal(k.l4_off, 62);
	assert_int_equal(k.payload_off, 70);
	assert_int_equal(k.payload_len, 3);
	assert_int_equal(k.sport, 7);
	assert_int_equal(k.dport, 9);
}

static void
test_vlan_qinq(void **state)
{
	(void)state;
	qinq_case(0x88a8);
	qinq_case(0x9100);
	qinq_case(0x8100);
}

/* Three stacked tags (QinQinQ), as Suricata decodes them: each id kept (test_dp_flow checks
 * that the flow key holds all three). */
static void
test_vlan_three(void **state)
{
	struct pb p;
	struct dp_pkt k;

	(void)state;
	pb_init(&p);
	pb_eth(&p, 0x88a8);
	pb_tag(&p, 10, 0x8100);
	pb_tag(&p, 20, 0x8100);
	pb_tag(&p, 30, 0x0800);
	pb_ipv4(&p, 17, NULL, 0);
	pb_udp(&p, 1, 2);
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.n_vlan, 3);
	assert_int_equal(k.vlan[0], 10);
	assert_int_equal(k.vlan[1], 20);
	assert_int_equal(k.vlan[2], 30);
	assert_int_equal(k.l3_off, 26);
	assert_int_equal(k.l3, DP_L3_IPV4);
	assert_int_equal(k.dport, 2);
}

static void
test_icmp(void **state)
{
	struct pb p;
	struct dp_pkt k;

	(void)state;
	for (int type = 0; type <= 8; type += 8) { /* echo reply, echo request */
		pb_init(&p);
		pb_eth(&p, 0x0800);
		pb_ipv4(&p, 1, NULL, 0);
		pb_icmp(&p, (uint8_t)type, 0, 0x4242, 7);
		pb_data(&p, 56);
		pb_finish(&p);
		assert_int_equal(parse(&p, &k), 0);
		assert_int_equal(k.proto, 1);
		assert_int_equal(k.icmp_type, type);
		assert_int_equal(k.icmp_code, 0);
		assert_int_equal(k.sport, 0x4242);
		assert_int_equal(k.dport, 0x4242);
		assert_int_equal(k.payload_off, 42);
		assert_int_equal(k.payload_len, 56);
	}
	/* Destination unreachable, port unreachable: no identifier, no ports. */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 1, NULL, 0);
	pb_icmp(&p, 3, 3, 0x4242, 0x4242);
	pb_data(&p, 28);
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.icmp_type, 3);
	assert_int_equal(k.icmp_code, 3);
	assert_int_equal(k.sport, 0);
	assert_int_equal(k.dport, 0);
	assert_int_equal(k.payload_len, 28);
}

static void
test_icmpv6(void **state)
{
	struct pb p;
	struct dp_pkt k;

	(void)state;
	for (int type = 128; type <= 129; type++) {
		pb_init(&p);
		pb_eth(&p, 0x86dd);
		pb_ipv6(&p, 58);
		pb_icmp(&p, (uint8_t)type, 0, 0x0bad, 1);
		pb_data(&p, 8);
		pb_finish(&p);
		assert_int_equal(parse(&p, &k), 0);
		assert_int_equal(k.proto, 58);
		assert_int_equal(k.icmp_type, type);
		assert_int_equal(k.sport, 0x0bad);
		assert_int_equal(k.dport, 0x0bad);
		assert_int_equal(k.l4_off, 54);
		assert_int_equal(k.payload_off, 62);
		assert_int_equal(k.payload_len, 8);
	}
	/* Neighbour solicitation: type and code, no ports. */
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 58);
	pb_icmp(&p, 135, 0, 0x1111, 0x2222);
	pb_data(&p, 16);
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.icmp_type, 135);
	assert_int_equal(k.sport, 0);
	assert_int_equal(k.dport, 0);
	/* ICMP (1) inside IPv6 and ICMPv6 (58) inside IPv4 mean nothing: no type, no ports. */
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 1);
	pb_icmp(&p, 8, 0, 0x1111, 1);
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.proto, 1);
	assert_int_equal(k.icmp_type, 0);
	assert_int_equal(k.sport, 0);
	assert_int_equal(k.payload_off, 54);
	assert_int_equal(k.payload_len, 8);
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 58, NULL, 0);
	pb_data(&p, 3); /* too short for ICMP, fine for "some protocol" */
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.payload_off, 34);
	assert_int_equal(k.payload_len, 3);
}

static void
test_sctp(void **state)
{
	struct pb p;
	struct dp_pkt k;

	(void)state;
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 132, NULL, 0);
	pb_sctp(&p, 2905, 3868);
	pb_data(&p, 16);
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.proto, 132);
	assert_int_equal(k.sport, 2905);
	assert_int_equal(k.dport, 3868);
	assert_int_equal(k.payload_off, 46);
	assert_int_equal(k.payload_len, 16);
}

static void
test_other_l4(void **state)
{
	struct pb p;
	struct dp_pkt k;

	(void)state;
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 47, NULL, 0); /* GRE */
	pb_data(&p, 24);
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.proto, 47);
	assert_int_equal(k.sport, 0);
	assert_int_equal(k.dport, 0);
	assert_int_equal(k.l4_off, 34);
	assert_int_equal(k.payload_off, 34);
	assert_int_equal(k.payload_len, 24);
}

static void
v4_frag_raw(struct pb *p, uint8_t proto, uint32_t data, uint32_t off, int mf)
{
	pb_init(p);
	pb_eth(p, 0x0800);
	pb_ipv4(p, proto, NULL, 0);
	pb_data(p, data);
	pb_finish(p);
	pb_ipv4_frag(p, off, 0, mf);
	pb_ipv4_cksum(p);
}

static void
test_ipv4_fragments(void **state)
{
	struct pb p;
	struct dp_pkt k;

	(void)state;
	/* First fragment: UDP header + 16 bytes here, the UDP length covers the whole 1008. */
	pb_ipv4_udp(&p, 16);
	pb_set16(&p, p.udp + 4, 1008);
	pb_ipv4_frag(&p, 0, 0, 1);
	pb_ipv4_cksum(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.frag, DP_FRAG_FIRST);
	assert_true(k.frag_more);
	assert_int_equal(k.frag_offset, 0);
	assert_int_equal(k.frag_id, 0x1234);
	assert_int_equal(k.proto, 17);
	assert_int_equal(k.l4_off, 34);
	assert_int_equal(k.sport, 5353);
	assert_int_equal(k.dport, 53);
	assert_int_equal(k.payload_off, 42);
	assert_int_equal(k.payload_len, 16);

	/* Later fragment: no L4 header, the fragment data is the payload. */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, NULL, 0);
	pb_data(&p, 20);
	pb_finish(&p);
	pb_ipv4_frag(&p, 1480, 0, 0);
	pb_ipv4_cksum(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.frag, DP_FRAG_LATER);
	assert_false(k.frag_more);
	assert_int_equal(k.frag_offset, 1480);
	assert_int_equal(k.proto, 17);
	assert_int_equal(k.l4_off, 34);
	assert_int_equal(k.sport, 0);
	assert_int_equal(k.dport, 0);
	assert_int_equal(k.payload_off, 34);
	assert_int_equal(k.payload_len, 20);
	assert_v4_addrs(&k);

	/* A middle fragment (offset and MF) of TCP: offset 24 is past the TCP header. */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 6, NULL, 0);
	pb_data(&p, 8);
	pb_finish(&p);
	pb_ipv4_frag(&p, 24, 0, 1);
	pb_ipv4_cksum(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.frag, DP_FRAG_LATER);
	assert_true(k.frag_more);
	assert_int_equal(k.frag_offset, 24);

	/* Atomic: DF, offset 0, no MF is a whole packet. */
	pb_ipv4_tcp(&p, 0x10, 0);
	pb_ipv4_frag(&p, 0, 1, 0);
	pb_ipv4_cksum(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.frag, DP_FRAG_NONE);
	assert_false(k.frag_more);
	assert_int_equal(k.sport, 1234);

	/* A later UDP fragment at offset 8 overlaps nothing the first must hold. */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, NULL, 0);
	pb_data(&p, 8);
	pb_finish(&p);
	pb_ipv4_frag(&p, 8, 0, 0);
	pb_ipv4_cksum(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.frag, DP_FRAG_LATER);

	/* The last fragment that still fits: 20 + 65504 + 8 = 65532. */
	v4_frag_raw(&p, 17, 8, 65504, 0);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.frag_offset, 65504);

	/* TCP later fragment at offset 24 with a valid first: fine (RFC 1858 drops only < 20). */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 6, NULL, 0);
	pb_data(&p, 16);
	pb_finish(&p);
	pb_ipv4_frag(&p, 24, 0, 0);
	pb_ipv4_cksum(&p);
	assert_int_equal(parse(&p, &k), 0);
}

/* Anomalies mark odd but well-formed headers: the parse goes on and gives the same result. */
static void
test_anomalies(void **state)
{
	struct pb p;
	struct dp_pkt k;

	(void)state;
	/* A first IPv4 fragment with DF and MF: parsed whole (ports read), marked. */
	pb_ipv4_udp(&p, 16);
	pb_set16(&p, p.udp + 4, 1008);
	pb_ipv4_frag(&p, 0, 1, 1);
	pb_ipv4_cksum(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.frag, DP_FRAG_FIRST);
	assert_int_equal(k.sport, 5353);
	assert_int_equal(k.anom, DP_ANOM_BIT(DP_ANOM_IPV4_FRAG_DF));
	/* ... and a later one. */
	v4_frag_raw(&p, 17, 8, 1480, 0);
	pb_ipv4_frag(&p, 1480, 1, 0);
	pb_ipv4_cksum(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.frag, DP_FRAG_LATER);
	assert_int_equal(k.anom, DP_ANOM_BIT(DP_ANOM_IPV4_FRAG_DF));
	/* DF on a whole packet is what every TCP stack sends: nothing. */
	pb_ipv4_tcp(&p, 0x10, 0);
	pb_ipv4_frag(&p, 0, 1, 0);
	pb_ipv4_cksum(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.anom, 0);

	/* Routing header type 0, then a second routing header (type 2, home address). */
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 43);
	pb_ext(&p, 43, 2);
	pb_ext(&p, 17, 2);
	pb_udp(&p, 1, 2);
	pb_data(&p, 4);
	pb_finish(&p);
	p.b[14 + 40 + 24 + 2] = 2; /* the second header's routing type */
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.l4_off, 14 + 40 + 48);
	assert_int_equal(k.sport, 1);
	assert_int_equal(k.anom, DP_ANOM_BIT(DP_ANOM_IPV6_RH0) | DP_ANOM_BIT(DP_ANOM_IPV6_DUPL_RH));
	/* One routing header of type 4 (segment routing): nothing. */
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 43);
	pb_ext(&p, 17, 2);
	pb_udp(&p, 1, 2);
	pb_data(&p, 4);
	pb_finish(&p);
	p.b[14 + 40 + 2] = 4;
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.anom, 0);

	/* A fragment header with a reserved bit set (between offset and M). */
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 44);
	pb_frag6(&p, 17, 0, 1, 7);
	pb_udp(&p, 4000, 4001);
	pb_data(&p, 8);
	pb_finish(&p);
	pb_set16(&p, p.udp + 4, 2000); /* the whole datagram's length */
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.anom, 0);
	p.b[14 + 40 + 3] |= 0x2;
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.frag, DP_FRAG_FIRST);
	assert_int_equal(k.anom, DP_ANOM_BIT(DP_ANOM_IPV6_FH_RESERVED));
	p.b[14 + 40 + 3] &= (uint8_t)~0x2;
	p.b[14 + 40 + 1] = 1;
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.anom, DP_ANOM_BIT(DP_ANOM_IPV6_FH_RESERVED));

	for (unsigned a = 0; a < DP_ANOM__COUNT; a++) {
		assert_non_null(dp_anom_name((enum dp_anom)a));
		assert_non_null(dp_anom_desc((enum dp_anom)a));
	}
	assert_null(dp_anom_name(DP_ANOM__COUNT));
}

static void
test_ipv6_l4(void **state)
{
	struct pb p;
	struct dp_pkt k;

	(void)state;
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 6);
	pb_tcp(&p, 33000, 22, 0x11, 6); /* FIN|ACK, 4 bytes of options */
	pb_data(&p, 5);
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.l3, DP_L3_IPV6);
	assert_int_equal(k.ether_type, 0x86dd);
	assert_int_equal(k.proto, 6);
	assert_int_equal(k.ttl, 63);
	assert_int_equal(k.tos, 0xb8);
	assert_int_equal(k.n_ext, 0);
	assert_int_equal(k.frag_id, 0);
	assert_int_equal(k.l4_off, 54);
	assert_int_equal(k.l3_end, 54 + 24 + 5);
	assert_int_equal(k.payload_off, 78);
	assert_int_equal(k.payload_len, 5);
	assert_int_equal(k.sport, 33000);
	assert_int_equal(k.dport, 22);
	assert_int_equal(k.tcp_flags, 0x11);
	assert_v6_addrs(&k);

	pb_ipv6_udp(&p, 12);
	pb_fill(&p, 0, 8); /* Ethernet padding after the datagram */
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.l3_end, 54 + 8 + 12);
	assert_int_equal(k.payload_off, 62);
	assert_int_equal(k.payload_len, 12);
	assert_int_equal(k.sport, 5353);

	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 132);
	pb_sctp(&p, 9, 10);
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.sport, 9);
	assert_int_equal(k.dport, 10);
	assert_int_equal(k.payload_off, 66);
	assert_int_equal(k.payload_len, 0);
}

static void
test_ipv6_ext_chain(void **state)
{
	struct pb p;
	struct dp_pkt k;

	(void)state;
	/* Hop-by-hop (8) -> destination options (16) -> routing (24) -> TCP. */
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 0);
	pb_ext(&p, 60, 0);
	pb_ext(&p, 43, 1);
	pb_ext(&p, 6, 2);
	pb_tcp(&p, 1, 2, 0x02, 5);
	pb_data(&p, 7);
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.n_ext, 3);
	assert_int_equal(k.proto, 6);
	assert_int_equal(k.l4_off, 54 + 8 + 16 + 24);
	assert_int_equal(k.payload_off, 54 + 48 + 20);
	assert_int_equal(k.payload_len, 7);
	assert_int_equal(k.sport, 1);

	/* AH counts 4-byte units: len 4 is (4 + 2) * 4 = 24 bytes (40 if read as 8-byte units). */
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 51);
	pb_ah(&p, 17, 4);
	pb_udp(&p, 500, 4500);
	pb_data(&p, 20);
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.n_ext, 1);
	assert_int_equal(k.proto, 17);
	assert_int_equal(k.l4_off, 78);
	assert_int_equal(k.sport, 500);
	assert_int_equal(k.dport, 4500);
	assert_int_equal(k.payload_len, 20);

	/* ESP ends the chain: proto 50, no ports, the rest is payload. */
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 60);
	pb_ext(&p, 50, 0);
	pb_u32(&p, 0x1000); /* SPI */
	pb_u32(&p, 1);	    /* sequence */
	pb_data(&p, 32);
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.proto, 50);
	assert_int_equal(k.n_ext, 1);
	assert_int_equal(k.sport, 0);
	assert_int_equal(k.dport, 0);
	assert_int_equal(k.l4_off, 62);
	assert_int_equal(k.payload_off, 62);
	assert_int_equal(k.payload_len, 40);

	/* No next header after hop-by-hop. */
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 0);
	pb_ext(&p, 59, 0);
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.proto, 59);
	assert_int_equal(k.n_ext, 1);
	assert_int_equal(k.l4_off, 62);
	assert_int_equal(k.payload_len, 0);

	/* Destination options twice (before routing and before the upper layer) is legal. */
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 60);
	pb_ext(&p, 43, 0);
	pb_ext(&p, 60, 0);
	pb_ext(&p, 17, 0);
	pb_udp(&p, 1, 2);
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.n_ext, 3);
	assert_int_equal(k.l4_off, 78);
}

static void
test_ipv6_fragments(void **state)
{
	struct pb p;
	struct dp_pkt k;

	(void)state;
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 44);
	pb_frag6(&p, 17, 0, 1, 0xdeadbeef);
	pb_udp(&p, 4000, 4001);
	pb_data(&p, 8);
	pb_finish(&p);
	pb_set16(&p, p.udp + 4, 2000);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.frag, DP_FRAG_FIRST);
	assert_true(k.frag_more);
	assert_int_equal(k.frag_offset, 0);
	assert_int_equal(k.frag_id, 0xdeadbeef);
	assert_int_equal(k.n_ext, 1);
	assert_int_equal(k.proto, 17);
	assert_int_equal(k.l4_off, 62);
	assert_int_equal(k.sport, 4000);
	assert_int_equal(k.payload_off, 70);
	assert_int_equal(k.payload_len, 8);

	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 44);
	pb_frag6(&p, 17, 1232, 0, 0xdeadbeef);
	pb_data(&p, 30);
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.frag, DP_FRAG_LATER);
	assert_false(k.frag_more);
	assert_int_equal(k.frag_offset, 1232);
	assert_int_equal(k.frag_id, 0xdeadbeef);
	assert_int_equal(k.proto, 17);
	assert_int_equal(k.l4_off, 62);
	assert_int_equal(k.sport, 0);
	assert_int_equal(k.payload_off, 62);
	assert_int_equal(k.payload_len, 30);
	assert_v6_addrs(&k);

	/* Atomic fragment (RFC 6946): parsed through to TCP, not a fragment. */
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 44);
	pb_frag6(&p, 6, 0, 0, 77);
	pb_tcp(&p, 5, 6, 0x10, 5);
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.frag, DP_FRAG_NONE);
	assert_int_equal(k.frag_id, 77);
	assert_int_equal(k.n_ext, 1);
	assert_int_equal(k.l4_off, 62);
	assert_int_equal(k.sport, 5);

	/* First fragment with destination options after the fragment header. */
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 44);
	pb_frag6(&p, 60, 0, 1, 9);
	pb_ext(&p, 6, 0);
	pb_tcp(&p, 5, 6, 0x10, 5);
	pb_data(&p, 4);
	pb_finish(&p);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.frag, DP_FRAG_FIRST);
	assert_int_equal(k.n_ext, 2);
	assert_int_equal(k.l4_off, 70);
	assert_int_equal(k.payload_len, 4);
}

static void
test_non_ip(void **state)
{
	struct pb p;
	struct dp_pkt k;

	(void)state;
	pb_init(&p);
	pb_eth(&p, 0x0806); /* ARP */
	pb_data(&p, 28);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.l3, DP_L3_NONE);
	assert_int_equal(k.ether_type, 0x0806);
	assert_int_equal(k.l3_off, 14);
	assert_int_equal(k.l4_off, 0);
	assert_int_equal(k.l3_end, 0);
	assert_int_equal(k.proto, 0);
	assert_int_equal(k.payload_len, 0);
	assert_zero_addrs(&k);

	pb_init(&p);
	pb_eth(&p, 0x8100);
	pb_tag(&p, 5, 0x88cc); /* LLDP in VLAN 5 */
	pb_data(&p, 10);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.l3, DP_L3_NONE);
	assert_int_equal(k.ether_type, 0x88cc);
	assert_int_equal(k.vlan[0], 5);
	assert_int_equal(k.l3_off, 18);

	/* Exactly an Ethernet header: nothing after it, still not an error. */
	pb_init(&p);
	pb_eth(&p, 0x0806);
	assert_int_equal(parse(&p, &k), 0);
}

static void
test_tcp_flags(void **state)
{
	/* Scan probes are well formed: NULL, FIN, Xmas (FIN|PSH|URG), PSH alone, URG alone. */
	const uint8_t fine[] = { 0x00, 0x01, 0x29, 0x08, 0x20, 0xc2 /* SYN+ECE+CWR */ };
	const uint8_t bad[] = { 0x03 /* SYN|FIN */, 0x06 /* SYN|RST */, 0x07, 0x13 };
	struct dp_parse_policy def = dp_parse_policy_default();
	struct pb p;
	struct dp_pkt k;

	(void)state;
	for (size_t i = 0; i < sizeof(fine); i++) {
		pb_ipv4_tcp(&p, fine[i], 3);
		assert_int_equal(parse(&p, &k), 0);
		assert_int_equal(k.tcp_flags, fine[i]);
	}
	for (size_t i = 0; i < sizeof(bad); i++) {
		pb_ipv4_tcp(&p, bad[i], 3);
		assert_int_equal(parse(&p, &k), DP_PERR_TCP_BAD_FLAGS);
		/* Everything else is filled: the flow table and detectors use it. */
		assert_int_equal(k.tcp_flags, bad[i]);
		assert_int_equal(k.sport, 1234);
		assert_int_equal(k.dport, 80);
		assert_int_equal(k.payload_off, 54);
		assert_int_equal(k.payload_len, 3);
		assert_v4_addrs(&k);
	}
	assert_int_equal(def.drop[DP_PERR_TCP_BAD_FLAGS], 0);
}

static void
test_default_policy(void **state)
{
	struct dp_parse_policy pol = dp_parse_policy_default();

	(void)state;
	assert_int_equal(pol.drop[DP_PERR_NONE], 0);
	for (int e = 1; e < DP_PERR__COUNT; e++)
		assert_int_equal(pol.drop[e],
				e == DP_PERR_TCP_BAD_FLAGS || e == DP_PERR_TCP_BAD_CHECKSUM ||
								e == DP_PERR_UDP_BAD_CHECKSUM ||
								e == DP_PERR_ICMP_BAD_CHECKSUM
						? 0
						: 1);
	assert_true(pol.ipv4_cksum);
	assert_false(pol.l4_cksum);
	assert_int_equal(pol.max_ext_hdrs, 8);
	assert_int_equal(pol.first_frag_min_l4, 0);
}

static void
test_checksum_policy(void **state)
{
	struct dp_parse_policy off = dp_parse_policy_default();
	struct pb good, bad;
	struct dp_pkt k;

	(void)state;
	off.ipv4_cksum = false;
	pb_ipv4_tcp(&good, 0x10, 0);
	bad = good;
	bad.b[bad.l3 + 11] ^= 0x01;

	assert_int_equal(parse(&bad, &k), DP_PERR_IPV4_BAD_CHECKSUM);
	assert_int_equal(k.l3_end, 54); /* lengths were already checked and recorded */
	assert_v4_addrs(&k);
	assert_int_equal(parse_pol(&bad, &k, &off), 0);
	/* The NIC verified it: no software check. */
	assert_int_equal(parse_ex(bad.b, bad.len, bad.len, DP_PARSE_HW_IP_CKSUM_GOOD, &k, NULL), 0);
	/* The NIC says bad: an error even though the bytes are right... */
	assert_int_equal(parse_ex(good.b, good.len, good.len, DP_PARSE_HW_IP_CKSUM_BAD, &k, NULL),
			DP_PERR_IPV4_BAD_CHECKSUM);
	/* ...unless validation is off. */
	assert_int_equal(parse_ex(good.b, good.len, good.len, DP_PARSE_HW_IP_CKSUM_BAD, &k, &off),
			0);
	/* Options are part of the checksum. */
	const uint8_t opts[4] = { 1, 1, 1, 0 };
	struct pb o;

	pb_init(&o);
	pb_eth(&o, 0x0800);
	pb_ipv4(&o, 17, opts, sizeof(opts));
	pb_udp(&o, 1, 2);
	pb_finish(&o);
	assert_int_equal(parse(&o, &k), 0);
	o.b[o.l3 + 23] = 1; /* EOL -> NOP, checksum not updated */
	assert_int_equal(parse(&o, &k), DP_PERR_IPV4_BAD_CHECKSUM);
	/* Every 16-bit position counts (a sum over a shorter range would miss some). */
	for (uint32_t i = 0; i < 20; i++) {
		struct pb c = good;

		if (i == 10 || i == 11)
			continue;
		c.b[c.l3 + i] ^= 0x40;
		if (i == 0 || i == 2 || i == 3 || i == 9)
			continue; /* version/IHL, length or protocol: other checks would fire first
				   */
		assert_int_equal(parse(&c, &k), DP_PERR_IPV4_BAD_CHECKSUM);
	}
}

/*
 * Random headers (fixed seed): with their checksum right they pass, with one bit flipped in
 * the checksum field they fail, in the full parser and in the fast path (which checks the sum
 * its own way). All-ones addresses force every carry fold.
 */
static void
test_checksum_random(void **state)
{
	const struct dp_parse_policy def = dp_parse_policy_default();
	uint32_t x = 0x9e3779b9;
	struct pb p;
	struct dp_pkt k;

	(void)state;
	for (int n = 0; n < 2000; n++) {
		pb_ipv4_udp(&p, (uint32_t)(n % 9));
		for (uint32_t i = 1; i < 20; i++) {
			if (i == 2 || i == 3 || i == 6 || i == 7 || i == 9 || i == 10 || i == 11)
				continue; /* lengths, fragment field, protocol, checksum */
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			p.b[p.l3 + i] = n < 8 ? 0xff : (uint8_t)x;
		}
		pb_ipv4_cksum(&p);
		assert_int_equal(parse(&p, &k), 0);
		assert_true(dp_parse_fast(p.b, p.len, p.len, 0, &k, &def));
		p.b[p.l3 + 10 + (x & 1)] ^= (uint8_t)(1u << (x >> 8 & 7));
		assert_int_equal(parse(&p, &k), DP_PERR_IPV4_BAD_CHECKSUM);
		assert_false(dp_parse_fast(p.b, p.len, p.len, 0, &k, &def));
	}
}

static void
ext_chain(struct pb *p, unsigned n)
{
	pb_init(p);
	pb_eth(p, 0x86dd);
	pb_ipv6(p, n ? 60 : 17);
	for (unsigned i = 0; i < n; i++)
		pb_ext(p, i + 1 < n ? 60 : 17, 0);
	pb_udp(p, 1, 2);
	pb_finish(p);
}

static void
test_ext_limit_policy(void **state)
{
	struct dp_parse_policy pol = dp_parse_policy_default();
	struct pb p;
	struct dp_pkt k;

	(void)state;
	ext_chain(&p, 8);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(k.n_ext, 8);
	ext_chain(&p, 9);
	assert_int_equal(parse(&p, &k), DP_PERR_IPV6_EXT_TOO_MANY);
	pol.max_ext_hdrs = 2;
	ext_chain(&p, 2);
	assert_int_equal(parse_pol(&p, &k, &pol), 0);
	ext_chain(&p, 3);
	assert_int_equal(parse_pol(&p, &k, &pol), DP_PERR_IPV6_EXT_TOO_MANY);
	pol.max_ext_hdrs = 0;
	ext_chain(&p, 0);
	assert_int_equal(parse_pol(&p, &k, &pol), 0);
	ext_chain(&p, 1);
	assert_int_equal(parse_pol(&p, &k, &pol), DP_PERR_IPV6_EXT_TOO_MANY);
	/* The hard limit holds whatever the policy says. */
	pol.max_ext_hdrs = 200;
	ext_chain(&p, DP_PARSE_MAX_EXT_HDRS_LIMIT);
	assert_int_equal(parse_pol(&p, &k, &pol), 0);
	ext_chain(&p, DP_PARSE_MAX_EXT_HDRS_LIMIT + 1);
	assert_int_equal(parse_pol(&p, &k, &pol), DP_PERR_IPV6_EXT_TOO_MANY);
}

static void
v4_udp_frag(struct pb *p, uint32_t data, uint32_t off, int mf)
{
	pb_init(p);
	pb_eth(p, 0x0800);
	pb_ipv4(p, 17, NULL, 0);
	if (off == 0) {
		pb_udp(p, 1, 2);
		pb_data(p, data);
		pb_finish(p);
		pb_set16(p, p->udp + 4, 4000);
	} else {
		pb_data(p, data);
		pb_finish(p);
	}
	pb_ipv4_frag(p, off, 0, mf);
	pb_ipv4_cksum(p);
}

static void
test_first_frag_policy(void **state)
{
	struct dp_parse_policy pol = dp_parse_policy_default();
	struct pb p;
	struct dp_pkt k;

	(void)state;
	pol.first_frag_min_l4 = 64;
	v4_udp_frag(&p, 16, 0, 1); /* 24 bytes of L4 */
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(parse_pol(&p, &k, &pol), DP_PERR_FRAG_TINY);
	assert_int_equal(k.sport, 1); /* the header was there and is reported */
	v4_udp_frag(&p, 56, 0, 1);    /* 64 bytes */
	assert_int_equal(parse_pol(&p, &k, &pol), 0);
	v4_udp_frag(&p, 16, 32, 0);
	assert_int_equal(parse(&p, &k), 0);
	assert_int_equal(parse_pol(&p, &k, &pol), DP_PERR_FRAG_BAD_OFFSET);
	v4_udp_frag(&p, 16, 64, 0);
	assert_int_equal(parse_pol(&p, &k, &pol), 0);
}

static void
test_multiseg(void **state)
{
	struct pb p;
	struct dp_pkt k;

	(void)state;
	/* A 1000-byte datagram of which the first segment holds 100 bytes. */
	pb_ipv4_udp(&p, 1000 - 28);
	assert_int_equal(parse_ex(p.b, 100, p.len, 0, &k, NULL), 0);
	assert_int_equal(k.l3_end, 1014);
	assert_int_equal(k.payload_off, 42);
	assert_int_equal(k.payload_len, 972);
	assert_int_equal(k.sport, 5353);
	/* Headers split by the segment boundary count as truncated. */
	assert_int_equal(parse_ex(p.b, 30, p.len, 0, &k, NULL), DP_PERR_IPV4_TRUNCATED);
	assert_int_equal(parse_ex(p.b, 40, p.len, 0, &k, NULL), DP_PERR_UDP_TRUNCATED);
	assert_int_equal(parse_ex(p.b, 12, p.len, 0, &k, NULL), DP_PERR_L2_TRUNCATED);
	/* A total length beyond pkt_len is still wrong. */
	assert_int_equal(parse_ex(p.b, 100, p.len - 1, 0, &k, NULL), DP_PERR_IPV4_BAD_TOTAL_LEN);

	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 6, NULL, 0);
	pb_tcp(&p, 1, 2, 0x10, 8);
	pb_data(&p, 100);
	pb_finish(&p);
	assert_int_equal(parse_ex(p.b, 66, p.len, 0, &k, NULL), 0);
	assert_int_equal(k.payload_len, 100);
	assert_int_equal(parse_ex(p.b, 60, p.len, 0, &k, NULL), DP_PERR_TCP_TRUNCATED);

	/* IPv4 options cut by the segment: truncated, not a bad IHL. */
	const uint8_t opts[8] = { 1, 1, 1, 1, 1, 1, 1, 0 };

	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, opts, sizeof(opts));
	pb_udp(&p, 1, 2);
	pb_data(&p, 100);
	pb_finish(&p);
	assert_int_equal(parse_ex(p.b, 36, p.len, 0, &k, NULL), DP_PERR_IPV4_TRUNCATED);

	/* IPv6 extension header cut by the segment. */
	ext_chain(&p, 3);
	pb_data(&p, 200);
	pb_finish(&p);
	assert_int_equal(parse_ex(p.b, 70, p.len, 0, &k, NULL), DP_PERR_IPV6_EXT_TRUNCATED);
	assert_int_equal(parse_ex(p.b, 90, p.len, 0, &k, NULL), 0);
	assert_int_equal(k.l4_off, 78);
	assert_int_equal(k.payload_len, 200);

	/* pkt_len below cap is raised to cap. */
	pb_ipv4_udp(&p, 4);
	assert_int_equal(parse_ex(p.b, p.len, 0, 0, &k, NULL), 0);
}

/* ---- malformed packets: one builder per case, the table says which reason it must give ---- */

struct bad_case {
	const char *name;
	void (*build)(struct pb *p);
	enum dp_parse_err want;
};

static void
bc_l2_short(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x0800);
	p->len = 13;
}

static void
bc_vlan_short(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x8100);
	pb_u16(p, 100);
}

static void
bc_vlan_inner_short(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x88a8);
	pb_tag(p, 10, 0x8100);
	pb_u16(p, 20);
	pb_u8(p, 0x08);
}

static void
bc_vlan_four(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x88a8);
	pb_tag(p, 1, 0x8100);
	pb_tag(p, 2, 0x8100);
	pb_tag(p, 3, 0x8100);
	pb_tag(p, 4, 0x0800);
	pb_ipv4(p, 17, NULL, 0);
	pb_udp(p, 1, 2);
	pb_finish(p);
}

static void
bc_ipv4_short(struct pb *p)
{
	pb_ipv4_udp(p, 0);
	p->len = 14 + 19;
}

static void
bc_ipv4_version(struct pb *p)
{
	pb_ipv4_udp(p, 0);
	p->b[p->l3] = 0x65;
	pb_ipv4_cksum(p);
}

static void
bc_ipv4_ihl_small(struct pb *p)
{
	pb_ipv4_udp(p, 0);
	p->b[p->l3] = 0x44;
	pb_ipv4_cksum(p);
}

static void
bc_ipv4_ihl_long(struct pb *p)
{
	pb_ipv4_udp(p, 0); /* 28 bytes of datagram, IHL 15 claims 60 */
	p->b[p->l3] = 0x4f;
}

static void
bc_ipv4_tot_small(struct pb *p)
{
	pb_ipv4_udp(p, 0);
	pb_set16(p, p->l3 + 2, 19);
	pb_ipv4_cksum(p);
}

static void
bc_ipv4_tot_ihl(struct pb *p)
{
	const uint8_t opts[8] = { 1, 1, 1, 1, 1, 1, 1, 0 };

	pb_init(p);
	pb_eth(p, 0x0800);
	pb_ipv4(p, 17, opts, sizeof(opts));
	pb_udp(p, 1, 2);
	pb_finish(p);
	pb_set16(p, p->l3 + 2, 24); /* >= 20 but below IHL*4 = 28 */
	pb_ipv4_cksum(p);
}

static void
bc_ipv4_tot_big(struct pb *p)
{
	pb_ipv4_udp(p, 4);
	pb_set16(p, p->l3 + 2, (uint16_t)(p->len - p->l3 + 1));
	pb_ipv4_cksum(p);
}

static void
bc_ipv4_cksum(struct pb *p)
{
	pb_ipv4_udp(p, 4);
	p->b[p->l3 + 10] ^= 0x80;
}

static void
bc_ipv4_opt(struct pb *p, const uint8_t *opts, uint32_t n)
{
	pb_init(p);
	pb_eth(p, 0x0800);
	pb_ipv4(p, 17, opts, n);
	pb_udp(p, 1, 2);
	pb_finish(p);
}

static void
bc_ipv4_opt_overrun(struct pb *p)
{
	const uint8_t o[8] = { 1, 0x07, 8, 4, 0, 0, 0, 0 }; /* RR of 8 from byte 1: 1 too far */

	bc_ipv4_opt(p, o, sizeof(o));
}

static void
bc_ipv4_opt_len1(struct pb *p)
{
	const uint8_t o[4] = { 0x07, 1, 0, 0 };

	bc_ipv4_opt(p, o, sizeof(o));
}

static void
bc_ipv4_opt_len0(struct pb *p)
{
	const uint8_t o[4] = { 0x82, 0, 0, 0 };

	bc_ipv4_opt(p, o, sizeof(o));
}

static void
bc_ipv4_opt_nolen(struct pb *p)
{
	const uint8_t o[4] = { 1, 1, 1, 0x44 }; /* timestamp type in the last byte */

	bc_ipv4_opt(p, o, sizeof(o));
}

static void
bc_ipv6_short(struct pb *p)
{
	pb_ipv6_udp(p, 0);
	p->len = 14 + 39;
}

static void
bc_ipv6_version(struct pb *p)
{
	pb_ipv6_udp(p, 0);
	p->b[p->l3] = 0x4b;
}

static void
bc_ipv6_plen(struct pb *p)
{
	pb_ipv6_udp(p, 4);
	pb_set16(p, p->l3 + 4, 13);
}

static void
bc_ipv6_ext_short(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x86dd);
	pb_ipv6(p, 60);
	pb_ext(p, 17, 4); /* claims 40 bytes */
	pb_finish(p);
	p->len -= 24;
	pb_set16(p, p->l3 + 4, 16);
}

static void
bc_ipv6_ext_one_byte(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x86dd);
	pb_ipv6(p, 43);
	pb_u8(p, 17);
	pb_finish(p);
}

static void
bc_ipv6_ext_nine(struct pb *p)
{
	ext_chain(p, 9);
}

static void
bc_ipv6_hbh_late(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x86dd);
	pb_ipv6(p, 60);
	pb_ext(p, 0, 0);
	pb_ext(p, 17, 0);
	pb_udp(p, 1, 2);
	pb_finish(p);
}

static void
bc_ipv6_two_frags(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x86dd);
	pb_ipv6(p, 44);
	pb_frag6(p, 44, 0, 0, 1); /* atomic */
	pb_frag6(p, 17, 0, 0, 2);
	pb_udp(p, 1, 2);
	pb_finish(p);
}

static void
bc_frag_tiny_tcp(struct pb *p)
{
	v4_frag_raw(p, 6, 16, 0, 1);
}

static void
bc_frag_tiny_tcp_doff(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x0800);
	pb_ipv4(p, 6, NULL, 0);
	pb_tcp(p, 1, 2, 0x02, 5);
	pb_data(p, 4);
	pb_finish(p);
	p->b[p->l3 + 20 + 12] = 0x80; /* data offset 8: 32 bytes, only 24 here */
	pb_ipv4_frag(p, 0, 0, 1);
	pb_ipv4_cksum(p);
}

static void
bc_frag_tiny_udp(struct pb *p)
{
	v4_frag_raw(p, 17, 0, 0, 1);
}

static void
bc_frag_tiny_sctp(struct pb *p)
{
	v4_frag_raw(p, 132, 8, 0, 1);
}

static void
bc_frag_tiny_icmp(struct pb *p)
{
	v4_frag_raw(p, 1, 0, 0, 1);
}

static void
bc_frag_tiny_v6_chain(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x86dd);
	pb_ipv6(p, 44);
	pb_frag6(p, 60, 0, 1, 5);
	pb_ext(p, 6, 1); /* 16 bytes, but the fragment holds 8 */
	pb_finish(p);
	p->len -= 8;
	pb_set16(p, p->l3 + 4, 16);
}

static void
bc_frag_tiny_v6_tcp(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x86dd);
	pb_ipv6(p, 44);
	pb_frag6(p, 6, 0, 1, 5);
	pb_data(p, 16);
	pb_finish(p);
}

static void
bc_frag_overlap_tcp(struct pb *p)
{
	v4_frag_raw(p, 6, 24, 8, 0); /* RFC 1858: offset 8 rewrites the TCP flags */
}

static void
bc_frag_overlap_tcp16(struct pb *p)
{
	v4_frag_raw(p, 6, 8, 16, 1);
}

static void
bc_frag_overlap_sctp(struct pb *p)
{
	v4_frag_raw(p, 132, 8, 8, 0);
}

static void
bc_frag_overlap_v6(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x86dd);
	pb_ipv6(p, 44);
	pb_frag6(p, 6, 8, 0, 5);
	pb_data(p, 24);
	pb_finish(p);
}

static void
bc_frag_oversize_v4(struct pb *p)
{
	v4_frag_raw(p, 17, 16, 65528, 0);
}

static void
bc_frag_oversize_v4_edge(struct pb *p)
{
	v4_frag_raw(p, 17, 8, 65512, 0); /* 20 + 65512 + 8 = 65540 */
}

static void
bc_frag_oversize_v6(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x86dd);
	pb_ipv6(p, 60);
	pb_ext(p, 44, 0); /* 8 bytes of unfragmentable part count too */
	pb_frag6(p, 17, 65528, 0, 5);
	pb_data(p, 0);
	pb_finish(p);
}

static void
bc_frag_bad_len_v4(struct pb *p)
{
	v4_frag_raw(p, 17, 12, 800, 1);
}

static void
bc_frag_bad_len_v6(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x86dd);
	pb_ipv6(p, 44);
	pb_frag6(p, 17, 0, 1, 5);
	pb_udp(p, 1, 2);
	pb_data(p, 3);
	pb_finish(p);
	pb_set16(p, p->udp + 4, 1000);
}

static void
bc_tcp_short(struct pb *p)
{
	pb_ipv4_tcp(p, 0x10, 0);
	p->len -= 1;
	pb_set16(p, p->l3 + 2, 39);
	pb_ipv4_cksum(p);
}

static void
bc_tcp_doff_small(struct pb *p)
{
	pb_ipv4_tcp(p, 0x10, 8);
	p->b[p->l3 + 20 + 12] = 0x40;
}

static void
bc_tcp_doff_big(struct pb *p)
{
	pb_ipv4_tcp(p, 0x10, 10);
	p->b[p->l3 + 20 + 12] = 0xf0; /* 60 bytes, the segment has 30 */
}

static void
bc_tcp_synfin(struct pb *p)
{
	pb_ipv4_tcp(p, 0x03, 0);
}

static void
bc_tcp_synrst_v6(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x86dd);
	pb_ipv6(p, 6);
	pb_tcp(p, 1, 2, 0x16, 5);
	pb_finish(p);
}

static void
bc_udp_short(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x0800);
	pb_ipv4(p, 17, NULL, 0);
	pb_data(p, 7);
	pb_finish(p);
}

static void
bc_udp_len_big(struct pb *p)
{
	pb_ipv4_udp(p, 4);
	pb_set16(p, p->udp + 4, 13);
}

static void
bc_udp_len_small(struct pb *p)
{
	pb_ipv4_udp(p, 4);
	pb_set16(p, p->udp + 4, 11);
}

static void
bc_udp_len_under8(struct pb *p)
{
	pb_ipv6_udp(p, 0);
	pb_set16(p, p->udp + 4, 0); /* no jumbograms */
}

static void
bc_udp_len_first_frag(struct pb *p)
{
	v4_udp_frag(p, 16, 0, 1);
	pb_set16(p, p->udp + 4, 24); /* says the whole datagram is this fragment */
}

static void
bc_icmp_short(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x0800);
	pb_ipv4(p, 1, NULL, 0);
	pb_data(p, 7);
	pb_finish(p);
}

static void
bc_icmpv6_short(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x86dd);
	pb_ipv6(p, 58);
	pb_data(p, 4);
	pb_finish(p);
}

static void
bc_sctp_short(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x86dd);
	pb_ipv6(p, 132);
	pb_data(p, 11);
	pb_finish(p);
}

static const struct bad_case bad_cases[] = {
	{ "13-byte frame", bc_l2_short, DP_PERR_L2_TRUNCATED },
	{ "802.1Q tag cut", bc_vlan_short, DP_PERR_VLAN_TRUNCATED },
	{ "inner tag cut", bc_vlan_inner_short, DP_PERR_VLAN_TRUNCATED },
	{ "four tags", bc_vlan_four, DP_PERR_VLAN_TOO_MANY },
	{ "19 bytes of IPv4", bc_ipv4_short, DP_PERR_IPV4_TRUNCATED },
	{ "IPv4 version 6", bc_ipv4_version, DP_PERR_IPV4_BAD_VERSION },
	{ "IHL 4", bc_ipv4_ihl_small, DP_PERR_IPV4_BAD_IHL },
	{ "IHL 15 in a short frame", bc_ipv4_ihl_long, DP_PERR_IPV4_BAD_IHL },
	{ "total length 19", bc_ipv4_tot_small, DP_PERR_IPV4_BAD_TOTAL_LEN },
	{ "total length below IHL*4", bc_ipv4_tot_ihl, DP_PERR_IPV4_BAD_TOTAL_LEN },
	{ "total length past frame", bc_ipv4_tot_big, DP_PERR_IPV4_BAD_TOTAL_LEN },
	{ "IPv4 checksum", bc_ipv4_cksum, DP_PERR_IPV4_BAD_CHECKSUM },
	{ "option runs off header", bc_ipv4_opt_overrun, DP_PERR_IPV4_BAD_OPTIONS },
	{ "option length 1", bc_ipv4_opt_len1, DP_PERR_IPV4_BAD_OPTIONS },
	{ "option length 0", bc_ipv4_opt_len0, DP_PERR_IPV4_BAD_OPTIONS },
	{ "option without length byte", bc_ipv4_opt_nolen, DP_PERR_IPV4_BAD_OPTIONS },
	{ "39 bytes of IPv6", bc_ipv6_short, DP_PERR_IPV6_TRUNCATED },
	{ "IPv6 version 4", bc_ipv6_version, DP_PERR_IPV6_BAD_VERSION },
	{ "payload length past frame", bc_ipv6_plen, DP_PERR_IPV6_BAD_PAYLOAD_LEN },
	{ "ext header past payload", bc_ipv6_ext_short, DP_PERR_IPV6_EXT_TRUNCATED },
	{ "ext header of one byte", bc_ipv6_ext_one_byte, DP_PERR_IPV6_EXT_TRUNCATED },
	{ "nine ext headers", bc_ipv6_ext_nine, DP_PERR_IPV6_EXT_TOO_MANY },
	{ "hop-by-hop second", bc_ipv6_hbh_late, DP_PERR_IPV6_EXT_ORDER },
	{ "two fragment headers", bc_ipv6_two_frags, DP_PERR_IPV6_EXT_ORDER },
	{ "first fragment 16 bytes TCP", bc_frag_tiny_tcp, DP_PERR_FRAG_TINY },
	{ "first fragment cuts TCP options", bc_frag_tiny_tcp_doff, DP_PERR_FRAG_TINY },
	{ "first fragment no UDP header", bc_frag_tiny_udp, DP_PERR_FRAG_TINY },
	{ "first fragment 8 bytes SCTP", bc_frag_tiny_sctp, DP_PERR_FRAG_TINY },
	{ "first fragment no ICMP header", bc_frag_tiny_icmp, DP_PERR_FRAG_TINY },
	{ "v6 first fragment cuts chain", bc_frag_tiny_v6_chain, DP_PERR_FRAG_TINY },
	{ "v6 first fragment 16 bytes TCP", bc_frag_tiny_v6_tcp, DP_PERR_FRAG_TINY },
	{ "TCP fragment at offset 8", bc_frag_overlap_tcp, DP_PERR_FRAG_BAD_OFFSET },
	{ "TCP fragment at offset 16", bc_frag_overlap_tcp16, DP_PERR_FRAG_BAD_OFFSET },
	{ "SCTP fragment at offset 8", bc_frag_overlap_sctp, DP_PERR_FRAG_BAD_OFFSET },
	{ "v6 TCP fragment at offset 8", bc_frag_overlap_v6, DP_PERR_FRAG_BAD_OFFSET },
	{ "fragment past 65535", bc_frag_oversize_v4, DP_PERR_FRAG_OVERSIZE },
	{ "fragment past 65535 by 5", bc_frag_oversize_v4_edge, DP_PERR_FRAG_OVERSIZE },
	{ "v6 fragment past 65535", bc_frag_oversize_v6, DP_PERR_FRAG_OVERSIZE },
	{ "fragment of 12 bytes with MF", bc_frag_bad_len_v4, DP_PERR_FRAG_BAD_LEN },
	{ "v6 fragment of 19 bytes with M", bc_frag_bad_len_v6, DP_PERR_FRAG_BAD_LEN },
	{ "19 bytes of TCP", bc_tcp_short, DP_PERR_TCP_TRUNCATED },
	{ "TCP data offset 4", bc_tcp_doff_small, DP_PERR_TCP_BAD_DATA_OFFSET },
	{ "TCP data offset 15 in 30 bytes", bc_tcp_doff_big, DP_PERR_TCP_BAD_DATA_OFFSET },
	{ "SYN+FIN", bc_tcp_synfin, DP_PERR_TCP_BAD_FLAGS },
	{ "SYN+RST over IPv6", bc_tcp_synrst_v6, DP_PERR_TCP_BAD_FLAGS },
	{ "7 bytes of UDP", bc_udp_short, DP_PERR_UDP_TRUNCATED },
	{ "UDP length too big", bc_udp_len_big, DP_PERR_UDP_BAD_LEN },
	{ "UDP length too small", bc_udp_len_small, DP_PERR_UDP_BAD_LEN },
	{ "UDP length 0 over IPv6", bc_udp_len_under8, DP_PERR_UDP_BAD_LEN },
	{ "UDP length = first fragment", bc_udp_len_first_frag, DP_PERR_UDP_BAD_LEN },
	{ "7 bytes of ICMP", bc_icmp_short, DP_PERR_ICMP_TRUNCATED },
	{ "4 bytes of ICMPv6", bc_icmpv6_short, DP_PERR_ICMP_TRUNCATED },
	{ "11 bytes of SCTP", bc_sctp_short, DP_PERR_SCTP_TRUNCATED },
};

#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

static void
test_malformed(void **state)
{
	struct pb p;
	struct dp_pkt k;

	(void)state;
	for (size_t i = 0; i < N_BAD; i++) {
		int rc;

		bad_cases[i].build(&p);
		rc = parse(&p, &k);
		if (rc != (int)bad_cases[i].want)
			fail_msg("case \"%s\": got %s, want %s", bad_cases[i].name,
					dp_parse_err_name((enum dp_parse_err)rc),
					dp_parse_err_name(bad_cases[i].want));
	}
}

/*
 * A reference one's complement checksum (RFC 1071), written plainly here so that the parser's
 * use of DPDK's helpers is checked against something independent of them: the pseudo-header
 * (addresses, protocol, L4 length) and the L4 bytes with the checksum field at ck_off.
 */
static void
ref_l4_cksum(struct pb *p, uint32_t l4, uint8_t proto, uint32_t ck_off, bool pseudo)
{
	uint32_t n = p->len - l4, s = 0;

	pb_set16(p, l4 + ck_off, 0);
	if (pseudo) {
		const uint32_t alen = p->ipv == 4 ? 4 : 16;
		const uint32_t a = p->ipv == 4 ? p->l3 + 12 : p->l3 + 8;

		for (uint32_t i = 0; i < 2 * alen; i += 2)
			s += (uint32_t)p->b[a + i] << 8 | p->b[a + i + 1];
		s += proto + n;
	}
	for (uint32_t i = 0; i < n; i += 2)
		s += (uint32_t)p->b[l4 + i] << 8 | (i + 1 < n ? p->b[l4 + i + 1] : 0);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	s = ~s & 0xffff;
	if (s == 0 && proto == 17)
		s = 0xffff;
	pb_set16(p, l4 + ck_off, (uint16_t)s);
}

static int
parse_ck(const struct pb *p, uint32_t hw, struct dp_pkt *k)
{
	struct dp_parse_policy pol = dp_parse_policy_default();

	pol.l4_cksum = true;
	return parse_ex(p->b, p->len, p->len, hw, k, &pol);
}

/* parse.l4_checksum: TCP, UDP, ICMP and ICMPv6 checksums, the NIC's verdict honoured. */
static void
test_l4_checksum(void **state)
{
	struct pb p;
	struct dp_pkt k;
	uint32_t l4;

	(void)state;
	/* IPv4 TCP with an odd payload length */
	pb_ipv4_tcp(&p, 0x18, 7);
	l4 = p.l3 + 20;
	ref_l4_cksum(&p, l4, 6, 16, true);
	assert_int_equal(parse_ck(&p, 0, &k), DP_PERR_NONE);
	assert_int_equal(parse(&p, &k), DP_PERR_NONE); /* off by default */
	p.b[p.len - 1] ^= 1;
	assert_int_equal(parse_ck(&p, 0, &k), DP_PERR_TCP_BAD_CHECKSUM);
	assert_int_equal(k.payload_len, 7); /* the packet is otherwise whole */
	assert_int_equal(parse(&p, &k), DP_PERR_NONE);
	/* the NIC's verdict is taken as it is */
	assert_int_equal(parse_ck(&p, DP_PARSE_HW_L4_CKSUM_GOOD, &k), DP_PERR_NONE);
	p.b[p.len - 1] ^= 1;
	assert_int_equal(parse_ck(&p, DP_PARSE_HW_L4_CKSUM_BAD, &k), DP_PERR_TCP_BAD_CHECKSUM);
	/* SYN+FIN with a wrong checksum: the checksum is the reason */
	pb_ipv4_tcp(&p, 0x03, 0);
	assert_int_equal(parse_ck(&p, 0, &k), DP_PERR_TCP_BAD_CHECKSUM);
	ref_l4_cksum(&p, p.l3 + 20, 6, 16, true);
	assert_int_equal(parse_ck(&p, 0, &k), DP_PERR_TCP_BAD_FLAGS);

	/* IPv4 UDP: zero means none */
	pb_ipv4_udp(&p, 10);
	assert_int_equal(parse_ck(&p, 0, &k), DP_PERR_NONE);
	ref_l4_cksum(&p, p.udp, 17, 6, true);
	assert_int_equal(parse_ck(&p, 0, &k), DP_PERR_NONE);
	p.b[p.udp + 9] ^= 0x40;
	assert_int_equal(parse_ck(&p, 0, &k), DP_PERR_UDP_BAD_CHECKSUM);

	/* IPv6 UDP behind a hop-by-hop header: the pseudo-header holds UDP and its length */
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 0);
	pb_ext(&p, 17, 0);
	pb_udp(&p, 5353, 53);
	pb_data(&p, 9);
	pb_finish(&p);
	assert_int_equal(parse_ck(&p, 0, &k), DP_PERR_UDP_BAD_CHECKSUM); /* zero is wrong in v6 */
	ref_l4_cksum(&p, p.udp, 17, 6, true);
	assert_int_equal(parse_ck(&p, 0, &k), DP_PERR_NONE);
	p.b[p.udp] ^= 0x10;
	assert_int_equal(parse_ck(&p, 0, &k), DP_PERR_UDP_BAD_CHECKSUM);

	/* ICMP: no pseudo-header */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 1, NULL, 0);
	l4 = p.len;
	pb_icmp(&p, 8, 0, 7, 1);
	pb_data(&p, 5);
	pb_finish(&p);
	ref_l4_cksum(&p, l4, 1, 2, false);
	assert_int_equal(parse_ck(&p, 0, &k), DP_PERR_NONE);
	p.b[l4] = 0; /* echo reply now */
	assert_int_equal(parse_ck(&p, 0, &k), DP_PERR_ICMP_BAD_CHECKSUM);

	/* ICMPv6: with the pseudo-header */
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 58);
	l4 = p.len;
	pb_icmp(&p, 128, 0, 7, 1);
	pb_data(&p, 4);
	pb_finish(&p);
	ref_l4_cksum(&p, l4, 58, 2, true);
	assert_int_equal(parse_ck(&p, 0, &k), DP_PERR_NONE);
	p.b[l4 + 1] = 1;
	assert_int_equal(parse_ck(&p, 0, &k), DP_PERR_ICMP_BAD_CHECKSUM);

	/* a first fragment cannot be checked alone */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, NULL, 0);
	pb_udp(&p, 1, 2);
	pb_data(&p, 16);
	pb_finish(&p);
	pb_set16(&p, p.udp + 4, 64); /* the whole datagram's */
	pb_set16(&p, p.udp + 6, 0x1234);
	pb_ipv4_frag(&p, 0, 0, 1);
	pb_ipv4_cksum(&p);
	assert_int_equal(parse_ck(&p, 0, &k), DP_PERR_NONE);
	assert_int_equal(k.frag, DP_FRAG_FIRST);
}

static void
test_every_reason_named_and_tested(void **state)
{
	enum dp_parse_err e;

	(void)state;
	assert_string_equal(dp_parse_err_name(DP_PERR_NONE), "none");
	for (int i = 0; i < DP_PERR__COUNT; i++) {
		const char *n = dp_parse_err_name((enum dp_parse_err)i);
		const char *d = dp_parse_err_desc((enum dp_parse_err)i);
		int tested = 0;

		assert_non_null(n);
		assert_non_null(d);
		assert_true(strlen(d) > 10);
		assert_true(strlen(n) > 0);
		for (const char *c = n; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
					*c == '_');
		for (int j = 0; j < i; j++)
			assert_string_not_equal(n, dp_parse_err_name((enum dp_parse_err)j));
		assert_int_equal(dp_parse_err_from_name(n, &e), 0);
		assert_int_equal(e, i);
		if (i == DP_PERR_NONE)
			continue;
		for (size_t c = 0; c < N_BAD; c++)
			tested |= bad_cases[c].want == (enum dp_parse_err)i;
		/* the L4 checksum reasons need parse.l4_checksum: test_l4_checksum; a fragment's
		 * overlap with earlier ones is found by the fragment table (test_dp_frag's
		 * test_overlap, the pcap case parse-frag-overlap) */
		tested |= i == DP_PERR_TCP_BAD_CHECKSUM || i == DP_PERR_UDP_BAD_CHECKSUM ||
			  i == DP_PERR_ICMP_BAD_CHECKSUM || i == DP_PERR_FRAG_OVERLAP;
		if (!tested)
			fail_msg("reason %s has no test case", n);
	}
	assert_string_equal(dp_parse_err_name(DP_PERR_IPV4_BAD_IHL), "ipv4_bad_ihl");
	errno = 0;
	assert_null(dp_parse_err_name(DP_PERR__COUNT));
	assert_int_equal(errno, EINVAL);
	assert_null(dp_parse_err_desc((enum dp_parse_err) - 1));
	assert_int_equal(dp_parse_err_from_name("ipv4_bad_ihl ", &e), -ENOENT);
	assert_int_equal(dp_parse_err_from_name("IPV4_BAD_IHL", &e), -ENOENT);
	assert_int_equal(dp_parse_err_from_name(NULL, &e), -ENOENT);
}

/*
 * parse.forward in vigil.yaml: the config loader (common) checks its names with the parser's
 * dp_parse_reason_known, registered as vigild does; a bad name is an error at its position.
 */
static void
test_config_forward_names(void **state)
{
	const char *text = "ports:\n"
			   "  - name: a\n"
			   "    device: net_null0\n"
			   "  - name: b\n"
			   "    device: net_null1\n"
			   "pairs:\n"
			   "  - [a, b]\n"
			   "parse:\n"
			   "  forward: [tcp_bad_flags, nope, none]\n";
	const char *good = "ports:\n"
			   "  - name: a\n"
			   "    device: net_null0\n"
			   "  - name: b\n"
			   "    device: net_null1\n"
			   "pairs:\n"
			   "  - [a, b]\n"
			   "parse:\n"
			   "  forward: [tcp_bad_flags, ipv4_bad_checksum]\n";
	struct vg_config cfg;
	struct vg_diag d;

	(void)state;
	assert_true(dp_parse_reason_known("tcp_bad_flags"));
	assert_false(dp_parse_reason_known("none"));
	assert_false(dp_parse_reason_known("nope"));
	assert_false(dp_parse_reason_known(NULL));

	vg_config_set_reason_check(dp_parse_reason_known);
	vg_diag_init(&d);
	assert_int_equal(vg_config_load_buf(&cfg, "t.yaml", text, strlen(text), &d), -EINVAL);
	assert_int_equal(d.errors, 2);
	assert_diag(&d, 9, 28,
			"'forward': 'nope' is not a parse error reason (see docs/PARSER.md, e.g. "
			"tcp_bad_flags, ipv4_bad_checksum)");
	assert_diag(&d, 9, 34, "'forward': 'none' is not a parse error reason");
	vg_diag_free(&d);

	vg_diag_init(&d);
	assert_int_equal(vg_config_load_buf(&cfg, "t.yaml", good, strlen(good), &d), 0);
	assert_int_equal(cfg.n_parse_forward, 2);
	assert_string_equal(cfg.parse_forward[1], "ipv4_bad_checksum");
	vg_config_free(&cfg);
	vg_diag_free(&d);

	/* Without the check (common's own tests, the fuzzer), names are kept as written. */
	vg_config_set_reason_check(NULL);
	vg_diag_init(&d);
	assert_int_equal(vg_config_load_buf(&cfg, "t.yaml", text, strlen(text), &d), 0);
	assert_int_equal(cfg.n_parse_forward, 3);
	vg_config_free(&cfg);
	vg_diag_free(&d);
}

/* Clean packets of every shape, for the prefix sweep below. */
static void
gs_qinq_v4_opts(struct pb *p)
{
	const uint8_t opts[8] = { 1, 0x07, 7, 4, 0, 0, 0, 0 };

	pb_init(p);
	pb_eth(p, 0x88a8);
	pb_tag(p, 1, 0x8100);
	pb_tag(p, 2, 0x0800);
	pb_ipv4(p, 6, opts, sizeof(opts));
	pb_tcp(p, 1, 2, 0x10, 7);
	pb_data(p, 3);
	pb_finish(p);
}

static void
gs_v6_chain_ah_frag(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x86dd);
	pb_ipv6(p, 0);
	pb_ext(p, 51, 1);
	pb_ah(p, 44, 4);
	pb_frag6(p, 60, 0, 1, 3);
	pb_ext(p, 17, 0);
	pb_udp(p, 1, 2);
	pb_data(p, 8);
	pb_finish(p);
	pb_set16(p, p->udp + 4, 3000);
}

static void
gs_v4_icmp(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x0800);
	pb_ipv4(p, 1, NULL, 0);
	pb_icmp(p, 8, 0, 1, 1);
	pb_finish(p);
}

static void
gs_v6_sctp(struct pb *p)
{
	pb_init(p);
	pb_eth(p, 0x86dd);
	pb_ipv6(p, 132);
	pb_sctp(p, 1, 2);
	pb_data(p, 4);
	pb_finish(p);
}

static void
gs_v4_tcp(struct pb *p)
{
	pb_ipv4_tcp(p, 0x12, 5);
}

/*
 * Every prefix of every packet, good or bad, parses without reading past its end (the guard
 * page), alone and as the first segment of the whole frame; and a prefix that cuts a clean IP
 * datagram short is never reported clean.
 */
static void
test_truncated_prefixes(void **state)
{
	void (*good[])(struct pb *) = { gs_qinq_v4_opts, gs_v6_chain_ah_frag, gs_v4_icmp,
		gs_v6_sctp, gs_v4_tcp };
	const size_t n_good = sizeof(good) / sizeof(good[0]);
	struct pb p;
	struct dp_pkt k, full;

	(void)state;
	for (size_t i = 0; i < N_BAD + n_good; i++) {
		if (i < N_BAD) {
			bad_cases[i].build(&p);
		} else {
			good[i - N_BAD](&p);
			assert_int_equal(parse(&p, &full), 0);
			assert_int_not_equal(full.payload_off, 0);
		}
		parse(&p, &full);
		for (uint32_t n = 0; n < p.len; n++) {
			int rc = parse_ex(p.b, n, n, 0, &k, NULL);

			if (full.l3 != DP_L3_NONE && full.err == DP_PERR_NONE && n < full.l3_end)
				assert_int_not_equal(rc, 0);
			parse_ex(p.b, n, p.len, 0, &k, NULL);
		}
	}
}

/*
 * The fuzz seed corpus is written by tests/fuzz/gen_parse_corpus.py with scapy, a builder
 * independent of pkt_build.h; each file is named <expected reason>-<what>.bin ("ok-..." for
 * clean packets) and starts with the fuzzer's policy byte (0: default policy).
 */
static void
test_seed_corpus(void **state)
{
	char dir[4096], path[4096 + 2 + 256];
	DIR *d;
	struct dirent *e;
	int files = 0, wrong = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/parse", VIGIL_SOURCE_ROOT);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		static uint8_t buf[PB_MAX + 1];
		char want[64];
		const char *dash = strchr(e->d_name, '-');
		FILE *f;
		size_t n;
		struct dp_pkt k;
		int rc;

		if (e->d_name[0] == '.' || dash == NULL ||
				(size_t)(dash - e->d_name) >= sizeof(want))
			continue;
		memcpy(want, e->d_name, (size_t)(dash - e->d_name));
		want[dash - e->d_name] = '\0';
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		assert_true(n >= 1 && n <= PB_MAX);
		assert_int_equal(buf[0], 0);
		rc = parse_ex(buf + 1, (uint32_t)(n - 1), (uint32_t)(n - 1), 0, &k, NULL);
		if (strcmp(want, "ok") == 0 ? rc != 0
					    : strcmp(want, dp_parse_err_name((
									   enum dp_parse_err)rc)) !=
								0) {
			print_error("%s: parsed as %s\n", e->d_name,
					dp_parse_err_name((enum dp_parse_err)rc));
			wrong++;
		}
		files++;
	}
	closedir(d);
	assert_int_equal(wrong, 0);
	assert_true(files >= 24);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_tcp),
		cmocka_unit_test(test_ipv4_tcp_options),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_ipv4_udp_ethernet_padding),
		cmocka_unit_test(test_vlan_8021q),
		cmocka_unit_test(test_vlan_qinq),
		cmocka_unit_test(test_vlan_three),
		cmocka_unit_test(test_icmp),
		cmocka_unit_test(test_icmpv6),
		cmocka_unit_test(test_sctp),
		cmocka_unit_test(test_other_l4),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_ipv6_l4),
		cmocka_unit_test(test_ipv6_ext_chain),
		cmocka_unit_test(test_ipv6_fragments),
		cmocka_unit_test(test_anomalies),
		cmocka_unit_test(test_non_ip),
		cmocka_unit_test(test_tcp_flags),
		cmocka_unit_test(test_default_policy),
		cmocka_unit_test(test_checksum_policy),
		cmocka_unit_test(test_checksum_random),
		cmocka_unit_test(test_ext_limit_policy),
		cmocka_unit_test(test_first_frag_policy),
		cmocka_unit_test(test_multiseg),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_every_reason_named_and_tested),
		cmocka_unit_test(test_config_forward_names),
		cmocka_unit_test(test_l4_checksum),
		cmocka_unit_test(test_truncated_prefixes),
		cmocka_unit_test(test_seed_corpus),
	};

	return cmocka_run_group_tests(tests, setup_guard, teardown_guard);
}
