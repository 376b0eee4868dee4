/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Header keywords (det_hdr.c): each keyword against packets built here, byte by byte, for a
 * range of field values; the expected answer is computed from the field in the test (the
 * reference), so each keyword is seen both matching and not. Parse errors with reason and
 * column. Header-only rules take no part in the payload scan.
 */
#include <arpa/inet.h>

#include "al.h"
#include "det_test.h"

/* A packet under construction: the frame's IP and L4 headers and the det_pkt pointing at them. */
struct tp {
	uint8_t b[256];
	struct det_pkt p;
};

static void
put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void
put32(uint8_t *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b + 2, (uint16_t)v);
}

/* IPv4 with opts (olen bytes, a multiple of 4), then an L4 header of l4len bytes (zeroed). */
static uint8_t *
mk4(struct tp *t, uint8_t proto, const uint8_t *opts, unsigned olen, unsigned l4len)
{
	unsigned hl = 20 + olen;

	memset(t, 0, sizeof(*t));
	t->b[0] = (uint8_t)(0x40 | hl / 4);
	put16(t->b + 2, (uint16_t)(hl + l4len));
	put16(t->b + 4, 1);
	t->b[8] = 64;
	t->b[9] = proto;
	if (olen > 0)
		memcpy(t->b + 20, opts, olen);
	t->p = tdet_pkt(proto, 80, "", 0);
	t->p.l3 = t->b;
	t->p.l3_len = (uint16_t)hl;
	t->p.l4 = t->b + hl;
	t->p.l4_len = (uint16_t)l4len;
	return t->b + hl;
}

/* IPv6 (with a fragment header when frag), then an L4 header of l4len bytes. */
static uint8_t *
mk6(struct tp *t, uint8_t proto, bool frag, unsigned l4len)
{
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t b6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	unsigned hl = 40 + (frag ? 8 : 0);

	memset(t, 0, sizeof(*t));
	t->b[0] = 0x60;
	t->b[6] = frag ? 44 : proto;
	t->b[7] = 64;
	if (frag)
		t->b[40] = proto;
	t->p = tdet_pkt(proto, 80, "", 0);
	t->p.family = 6;
	t->p.src = a6;
	t->p.dst = b6;
	t->p.l3 = t->b;
	t->p.l3_len = (uint16_t)hl;
	t->p.l4 = t->b + hl;
	t->p.l4_len = (uint16_t)l4len;
	return t->b + hl;
}

/* A TCP header with data offset for olen option bytes (copied from opts). */
static uint8_t *
mk_tcp4(struct tp *t, const uint8_t *opts, unsigned olen)
{
	uint8_t *h = mk4(t, IPPROTO_TCP, NULL, 0, 20 + olen);

	h[12] = (uint8_t)((20 + olen) / 4 << 4);
	h[13] = 0x10;
	t->p.tcp_flags = 0x10;
	if (olen > 0)
		memcpy(h + 20, opts, olen);
	return h;
}

/* Did sid match p? */
static bool
has(struct tdet *d, const struct det_pkt *p, uint32_t sid)
{
	uint32_t sids[64];
	int n = tdet_scan(d, p, sids, 64);

	for (int i = 0; i < n; i++)
		if (sids[i] == sid)
			return true;
	return false;
}

#define EXPECT(d, p, sid, want, what, v)                                                        \
	do {                                                                                    \
		if (has(d, p, sid) != (want))                                                   \
			fail_msg("sid %u (%s) at %s = %lu: expected %s", (unsigned)(sid), what, \
					#v, (unsigned long)(v), (want) ? "a match" : "none");   \
	} while (0)

static void
test_ip_fields(void **state)
{
	struct tdet d;
	struct tp t;

	(void)state;
	tdet_open(&d, "alert ip any any -> any any (ttl:<5; sid:1;)\n"
		      "alert ip any any -> any any (ttl:10-20; sid:2;)\n"
		      "alert ip any any -> any any (ttl:!64; sid:3;)\n"
		      "alert ip any any -> any any (ttl:>=250; sid:4;)\n"
		      "alert ip any any -> any any (tos:x10; sid:5;)\n"
		      "alert ip any any -> any any (tos:!8; sid:6;)\n"
		      "alert ip any any -> any any (id:31337; sid:7;)\n"
		      "alert ip any any -> any any (id:<=2; sid:8;)\n"
		      "alert ip any any -> any any (ip_proto:udp; sid:9;)\n"
		      "alert ip any any -> any any (ip_proto:!6; sid:10;)\n"
		      "alert ip any any -> any any (ip_proto:>100; sid:11;)\n"
		      "alert ip any any -> any any (sameip; sid:12;)\n");
	/* every rule here is header-only: no payload database */
	assert_int_equal(d.crep.header, 12);
	assert_int_equal(d.crep.patterns, 0);
	for (unsigned v = 0; v < 256; v++) {
		mk4(&t, IPPROTO_UDP, NULL, 0, 8);
		t.b[8] = (uint8_t)v;
		EXPECT(&d, &t.p, 1, v < 5, "ttl:<5", v);
		EXPECT(&d, &t.p, 2, v > 10 && v < 20, "ttl:10-20", v);
		EXPECT(&d, &t.p, 3, v != 64, "ttl:!64", v);
		EXPECT(&d, &t.p, 4, v >= 250, "ttl:>=250", v);
		/* IPv6: the hop limit */
		mk6(&t, IPPROTO_UDP, false, 8);
		t.b[7] = (uint8_t)v;
		EXPECT(&d, &t.p, 1, v < 5, "ttl:<5 (IPv6)", v);
		/* tos, IPv4 only */
		mk4(&t, IPPROTO_UDP, NULL, 0, 8);
		t.b[1] = (uint8_t)v;
		EXPECT(&d, &t.p, 5, v == 0x10, "tos:x10", v);
		EXPECT(&d, &t.p, 6, v != 8, "tos:!8", v);
		mk6(&t, IPPROTO_UDP, false, 8);
		EXPECT(&d, &t.p, 6, false, "tos:!8 (IPv6)", v);
		/* ip_proto */
		mk4(&t, (uint8_t)v, NULL, 0, 0);
		t.p.l4 = NULL;
		EXPECT(&d, &t.p, 9, v == 17, "ip_proto:udp", v);
		EXPECT(&d, &t.p, 10, v != 6, "ip_proto:!6", v);
		EXPECT(&d, &t.p, 11, v > 100, "ip_proto:>100", v);
	}
	for (unsigned v = 0; v < 65536; v += 7) {
		unsigned id = v == 31332 ? 31337 : v;

		mk4(&t, IPPROTO_UDP, NULL, 0, 8);
		put16(t.b + 4, (uint16_t)id);
		EXPECT(&d, &t.p, 7, id == 31337, "id:31337", id);
		EXPECT(&d, &t.p, 8, id <= 2, "id:<=2", id);
	}
	/* sameip: the addresses, IPv4 and IPv6 */
	mk4(&t, IPPROTO_UDP, NULL, 0, 8);
	EXPECT(&d, &t.p, 12, false, "sameip", 0);
	t.p.dst = t.p.src;
	EXPECT(&d, &t.p, 12, true, "sameip", 1);
	mk6(&t, IPPROTO_UDP, false, 8);
	EXPECT(&d, &t.p, 12, false, "sameip (IPv6)", 0);
	t.p.dst = t.p.src;
	EXPECT(&d, &t.p, 12, true, "sameip (IPv6)", 1);
	/* no IP header known: nothing */
	mk4(&t, IPPROTO_UDP, NULL, 0, 8);
	t.b[8] = 1;
	t.p.l3 = NULL;
	EXPECT(&d, &t.p, 1, false, "ttl:<5 without header", 0);
	tdet_close(&d);
}

static void
test_ipopts_fragbits(void **state)
{
	/* option type -> the name ipopts uses */
	static const struct {
		uint8_t type;
		const char *name;
	} opt[] = { { 7, "rr" }, { 68, "ts" }, { 130, "sec" }, { 131, "lsrr" }, { 133, "esec" },
		{ 136, "satid" }, { 137, "ssrr" } };
	char rules[2048];
	size_t o = 0;
	struct tdet d;
	struct tp t;

	(void)state;
	for (unsigned i = 0; i < sizeof(opt) / sizeof(opt[0]); i++)
		o += (size_t)snprintf(rules + o, sizeof(rules) - o,
				"alert ip any any -> any any (ipopts:%s; sid:%u;)\n", opt[i].name,
				100 + i);
	snprintf(rules + o, sizeof(rules) - o,
			"alert ip any any -> any any (ipopts:any; sid:1;)\n"
			"alert ip any any -> any any (ipopts:nop; sid:2;)\n"
			"alert ip any any -> any any (fragbits:M; sid:10;)\n"
			"alert ip any any -> any any (fragbits:D+; sid:11;)\n"
			"alert ip any any -> any any (fragbits:*MR; sid:12;)\n"
			"alert ip any any -> any any (fragbits:!D; sid:13;)\n"
			"alert ip any any -> any any (fragoffset:>0; sid:20;)\n"
			"alert ip any any -> any any (fragoffset:!0; sid:21;)\n"
			"alert ip any any -> any any (fragoffset:185; sid:22;)\n");
	tdet_open(&d, rules);
	for (unsigned i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
		/* a NOP, then the option (length 4 with two data bytes), then EOL */
		uint8_t opts[8] = { 1, opt[i].type, 4, 0xaa, 0xbb, 0, 0, 0 };

		mk4(&t, IPPROTO_UDP, opts, sizeof(opts), 8);
		for (unsigned k = 0; k < sizeof(opt) / sizeof(opt[0]); k++)
			EXPECT(&d, &t.p, 100 + k, k == i, opt[k].name, opt[i].type);
		EXPECT(&d, &t.p, 1, true, "ipopts:any", opt[i].type);
		EXPECT(&d, &t.p, 2, true, "ipopts:nop", opt[i].type);
	}
	mk4(&t, IPPROTO_UDP, NULL, 0, 8);
	EXPECT(&d, &t.p, 1, false, "ipopts:any without options", 0);
	/* every combination of R D M and offsets */
	for (unsigned f = 0; f < 8; f++) {
		for (unsigned off = 0; off < 8192; off += 185) {
			bool m = f & 1, df = f & 2, r = f & 4;

			mk4(&t, IPPROTO_UDP, NULL, 0, 8);
			put16(t.b + 6, (uint16_t)((m ? 0x2000 : 0) | (df ? 0x4000 : 0) |
						       (r ? 0x8000 : 0) | off));
			EXPECT(&d, &t.p, 10, m && !df && !r, "fragbits:M", f);
			EXPECT(&d, &t.p, 11, df, "fragbits:D+", f);
			EXPECT(&d, &t.p, 12, m || r, "fragbits:*MR", f);
			EXPECT(&d, &t.p, 13, !df, "fragbits:!D", f);
			EXPECT(&d, &t.p, 20, off > 0, "fragoffset:>0", off);
			EXPECT(&d, &t.p, 21, off != 0, "fragoffset:!0", off);
			EXPECT(&d, &t.p, 22, off == 185, "fragoffset:185", off);
		}
	}
	/* IPv6: the fragment header's offset; without one, no fragoffset matches */
	mk6(&t, IPPROTO_UDP, true, 8);
	put16(t.b + 42, (uint16_t)(185 << 3 | 1));
	EXPECT(&d, &t.p, 22, true, "fragoffset:185 (IPv6)", 185);
	mk6(&t, IPPROTO_UDP, false, 8);
	EXPECT(&d, &t.p, 21, false, "fragoffset:!0 (IPv6 without fragment header)", 0);
	EXPECT(&d, &t.p, 10, false, "fragbits:M (IPv6)", 0);
	tdet_close(&d);
}

static void
test_icmp(void **state)
{
	struct tdet d;
	struct tp t;

	(void)state;
	tdet_open(&d, "alert icmp any any -> any any (itype:8; sid:1;)\n"
		      "alert icmp any any -> any any (itype:<15; sid:2;)\n"
		      "alert icmp any any -> any any (itype:7<>20; sid:3;)\n"
		      "alert icmp any any -> any any (icode:>2; sid:4;)\n"
		      "alert icmp any any -> any any (icmp_id:\"4660\"; sid:5;)\n"
		      "alert icmp any any -> any any (icmp_seq:2216; sid:6;)\n"
		      "alert icmp any any -> any any (icmpv6.mtu:<1280; sid:7;)\n"
		      "alert icmp any any -> any any (icmpv6.hdr; content:\"|02 00|\"; depth:2; "
		      "sid:8;)\n"
		      "alert icmp any any -> any any (icmpv6.hdr; bsize:8; sid:9;)\n");
	assert_int_equal(d.crep.patterns, 0);
	for (unsigned type = 0; type < 256; type++) {
		for (unsigned code = 0; code < 5; code++) {
			uint8_t *h = mk4(&t, IPPROTO_ICMP, NULL, 0, 8);
			bool idm = type == 0 || type == 8 || (type >= 13 && type <= 18);

			h[0] = (uint8_t)type;
			h[1] = (uint8_t)code;
			put16(h + 4, 4660);
			put16(h + 6, 2216);
			EXPECT(&d, &t.p, 1, type == 8, "itype:8", type);
			EXPECT(&d, &t.p, 2, type < 15, "itype:<15", type);
			EXPECT(&d, &t.p, 3, type > 7 && type < 20, "itype:7<>20", type);
			EXPECT(&d, &t.p, 4, code > 2, "icode:>2", code);
			EXPECT(&d, &t.p, 5, idm, "icmp_id:4660", type);
			EXPECT(&d, &t.p, 6, idm, "icmp_seq:2216", type);
			EXPECT(&d, &t.p, 7, false, "icmpv6.mtu (ICMPv4)", type);
			EXPECT(&d, &t.p, 8, false, "icmpv6.hdr (ICMPv4)", type);
			put16(h + 6, 2217);
			EXPECT(&d, &t.p, 6, false, "icmp_seq:2216 at 2217", type);
		}
	}
	/* ICMPv6: echo has id and seq; packet too big has the MTU */
	for (unsigned type = 0; type < 256; type++) {
		uint8_t *h = mk6(&t, IPPROTO_ICMPV6, false, 8);

		t.p.proto = IPPROTO_ICMPV6;
		h[0] = (uint8_t)type;
		put16(h + 4, 4660);
		put16(h + 6, 2216);
		EXPECT(&d, &t.p, 5, type == 128 || type == 129, "icmp_id (ICMPv6)", type);
		EXPECT(&d, &t.p, 2, type < 15, "itype:<15 (ICMPv6)", type);
		EXPECT(&d, &t.p, 9, true, "icmpv6.hdr; bsize:8", type);
	}
	for (unsigned mtu = 1000; mtu < 1600; mtu += 40) {
		uint8_t *h = mk6(&t, IPPROTO_ICMPV6, false, 8);

		t.p.proto = IPPROTO_ICMPV6;
		h[0] = 2;
		put32(h + 4, mtu);
		EXPECT(&d, &t.p, 7, mtu < 1280, "icmpv6.mtu:<1280", mtu);
		EXPECT(&d, &t.p, 8, true, "icmpv6.hdr content |02 00|", mtu);
		h[1] = 1; /* only code 0 carries an MTU */
		EXPECT(&d, &t.p, 7, false, "icmpv6.mtu:<1280 code 1", mtu);
		EXPECT(&d, &t.p, 8, false, "icmpv6.hdr content |02 00| code 1", mtu);
	}
	tdet_close(&d);
}

static void
test_tcp(void **state)
{
	struct tdet d;
	struct tp t;

	(void)state;
	tdet_open(&d, "alert tcp any any -> any any (tcp.mss:<536; sid:1;)\n"
		      "alert tcp any any -> any any (tcp.mss:1460; sid:2;)\n"
		      "alert tcp any any -> any any (window:0; sid:3;)\n"
		      "alert tcp any any -> any any (window:!65535; sid:4;)\n"
		      "alert tcp any any -> any any (seq:12345; sid:5;)\n"
		      "alert tcp any any -> any any (ack:0; sid:6;)\n"
		      "alert tcp any any -> any any (tcp.flags:S,CE; sid:7;)\n"
		      "alert tcp any any -> any any (tcp.hdr; content:\"|02 04 05 b4|\"; offset:20; "
		      "sid:8;)\n"
		      "alert tcp any any -> any any (tcp.hdr; bsize:>20; pkt_data; content:\"x\"; sid:9;)\n");
	/* sid 9's payload content goes to the payload scan; the header buffer stays out */
	assert_int_equal(d.crep.header, 8);
	for (unsigned mss = 0; mss < 2000; mss += 20) {
		/* NOP, NOP, window scale, MSS, NOP, NOP, EOL */
		uint8_t o2[12] = { 1, 1, 3, 3, 7, 2, 4, (uint8_t)(mss >> 8), (uint8_t)mss, 1, 1,
			0 };

		mk_tcp4(&t, o2, sizeof(o2));
		EXPECT(&d, &t.p, 1, mss < 536, "tcp.mss:<536", mss);
		EXPECT(&d, &t.p, 2, mss == 1460, "tcp.mss:1460", mss);
	}
	{
		uint8_t o[4] = { 2, 4, 0x05, 0xb4 };

		mk_tcp4(&t, o, 4);
		EXPECT(&d, &t.p, 2, true, "tcp.mss:1460 first option", 1460);
		EXPECT(&d, &t.p, 8, true, "tcp.hdr content at 20", 1460);
		mk_tcp4(&t, NULL, 0);
		EXPECT(&d, &t.p, 1, false, "tcp.mss without option", 0);
		EXPECT(&d, &t.p, 8, false, "tcp.hdr without option", 0);
	}
	for (unsigned v = 0; v < 70000; v += 4999) {
		uint8_t *h = mk_tcp4(&t, NULL, 0);
		uint16_t win = v > 65535 ? 65535 : (uint16_t)v;

		put16(h + 14, win);
		put32(h + 4, v == 9996 ? 12345 : v);
		put32(h + 8, v);
		EXPECT(&d, &t.p, 3, win == 0, "window:0", win);
		EXPECT(&d, &t.p, 4, win != 65535, "window:!65535", win);
		EXPECT(&d, &t.p, 5, v == 9996, "seq:12345", v);
		EXPECT(&d, &t.p, 6, v == 0, "ack:0", v);
	}
	for (unsigned f = 0; f < 256; f++) {
		mk_tcp4(&t, NULL, 0);
		t.p.tcp_flags = (uint8_t)f;
		EXPECT(&d, &t.p, 7, (f & 0x3f) == 0x02, "tcp.flags:S,CE", f);
	}
	/* payload and header buffer both needed */
	{
		uint8_t o[4] = { 2, 4, 0x05, 0xb4 };

		mk_tcp4(&t, o, 4);
		t.p.payload = (const uint8_t *)"xyz";
		t.p.len = 3;
		EXPECT(&d, &t.p, 9, true, "tcp.hdr bsize>20 + payload x", 3);
		t.p.payload = (const uint8_t *)"abc";
		EXPECT(&d, &t.p, 9, false, "tcp.hdr bsize>20 + payload abc", 3);
		mk_tcp4(&t, NULL, 0);
		t.p.payload = (const uint8_t *)"xyz";
		t.p.len = 3;
		EXPECT(&d, &t.p, 9, false, "tcp.hdr bsize>20 without options", 3);
	}
	tdet_close(&d);
}

static void
test_vlan_stream(void **state)
{
	/* VLAN stacks to try, outermost first */
	static const uint16_t stacks[][3] = { { 0 }, { 100 }, { 300 }, { 100, 300 }, { 300, 100 },
		{ 100, 200, 300 }, { 300, 300, 300 } };
	static const uint8_t n[] = { 0, 1, 1, 2, 2, 3, 3 };
	struct tdet d;
	struct tp t;

	(void)state;
	tdet_open(&d, "alert ip any any -> any any (vlan.id:300; sid:1;)\n"
		      "alert ip any any -> any any (vlan.id:300,0; sid:2;)\n"
		      "alert ip any any -> any any (vlan.id:<300,-1; sid:3;)\n"
		      "alert ip any any -> any any (vlan.id:300,all; sid:4;)\n"
		      "alert ip any any -> any any (vlan.layers:>1; sid:5;)\n"
		      "alert ip any any -> any any (vlan.layers:0; sid:6;)\n"
		      "alert tcp any any -> any any (stream_size:server,>,1111; sid:10;)\n"
		      "alert tcp any any -> any any (stream_size:client,<=,10; sid:11;)\n"
		      "alert tcp any any -> any any (stream_size:both,>=,5; sid:12;)\n"
		      "alert tcp any any -> any any (stream_size:either,=,5; sid:13;)\n");
	for (unsigned s = 0; s < sizeof(n); s++) {
		const uint16_t *v = stacks[s];
		bool any = false, all = n[s] > 0;

		mk4(&t, IPPROTO_UDP, NULL, 0, 8);
		memcpy(t.p.vlan, v, sizeof(t.p.vlan));
		t.p.n_vlan = n[s];
		for (unsigned i = 0; i < n[s]; i++) {
			any |= v[i] == 300;
			all &= v[i] == 300;
		}
		EXPECT(&d, &t.p, 1, any, "vlan.id:300", s);
		EXPECT(&d, &t.p, 2, n[s] > 0 && v[0] == 300, "vlan.id:300,0", s);
		EXPECT(&d, &t.p, 3, n[s] > 0 && v[n[s] - 1] < 300, "vlan.id:<300,-1", s);
		EXPECT(&d, &t.p, 4, all, "vlan.id:300,all", s);
		EXPECT(&d, &t.p, 5, n[s] > 1, "vlan.layers:>1", s);
		EXPECT(&d, &t.p, 6, n[s] == 0, "vlan.layers:0", s);
	}
	for (unsigned c = 0; c < 20; c += 3) {
		for (unsigned sv = 1100; sv < 1120; sv += 5) {
			mk_tcp4(&t, NULL, 0);
			t.p.stream_known = true;
			t.p.stream_size[0] = c;
			t.p.stream_size[1] = sv;
			EXPECT(&d, &t.p, 10, sv > 1111, "stream_size:server,>,1111", sv);
			EXPECT(&d, &t.p, 11, c <= 10, "stream_size:client,<=,10", c);
			EXPECT(&d, &t.p, 12, c >= 5, "stream_size:both,>=,5", c);
			EXPECT(&d, &t.p, 13, c == 5, "stream_size:either,=,5", c);
			t.p.stream_known = false;
			EXPECT(&d, &t.p, 11, false, "stream_size without a stream", c);
		}
	}
	tdet_close(&d);
}

/* startswith, endswith, bsize and isdataat (all forms) on a header buffer. */
static void
test_buffer_forms(void **state)
{
	struct tdet d;
	struct tp t;

	(void)state;
	tdet_open(&d, "alert tcp any any -> any any (tcp.hdr; isdataat:!20; sid:1;)\n"
		      "alert tcp any any -> any any (tcp.hdr; isdataat:20; sid:2;)\n"
		      "alert tcp any any -> any any (tcp.hdr; content:\"|02 04|\"; "
		      "isdataat:2,relative,rawbytes; sid:3;)\n"
		      "alert tcp any any -> any any (tcp.hdr; content:\"|02 04|\"; "
		      "isdataat:!3,relative; sid:4;)\n"
		      "alert tcp any any -> any any (tcp.hdr; content:\"|00 00|\"; startswith; "
		      "sid:5;)\n"
		      "alert tcp any any -> any any (tcp.hdr; content:\"|01 01 00|\"; endswith; "
		      "sid:6;)\n"
		      "alert tcp any any -> any any (tcp.hdr; bsize:>=24; bsize:<=28; sid:7;)\n"
		      "alert tcp any any -> any any (tcp.hdr; content:!\"|00 00|\"; startswith; "
		      "sid:8;)\n");
	for (unsigned olen = 0; olen <= 40; olen += 4) {
		/* MSS (4 bytes) first when there is room, then NOPs and a final EOL */
		uint8_t o[40];

		memset(o, 1, sizeof(o));
		if (olen >= 4)
			memcpy(o, (uint8_t[]){ 2, 4, 5, 0xb4 }, 4);
		if (olen > 4)
			o[olen - 1] = 0;
		mk_tcp4(&t, o, olen);
		EXPECT(&d, &t.p, 1, olen == 0, "isdataat:!20", olen);
		EXPECT(&d, &t.p, 2, olen > 0, "isdataat:20", olen);
		EXPECT(&d, &t.p, 3, olen >= 4, "isdataat:2,relative", olen);
		/* after |02 04| at 20: data at 22 + 3 = 25 only with more options */
		EXPECT(&d, &t.p, 4, olen == 4, "isdataat:!3,relative", olen);
		EXPECT(&d, &t.p, 5, true, "startswith (source port 0)", olen);
		EXPECT(&d, &t.p, 6, olen >= 8, "endswith", olen);
		EXPECT(&d, &t.p, 7, 20 + olen >= 24 && 20 + olen <= 28, "bsize:>=24; bsize:<=28",
				olen);
		EXPECT(&d, &t.p, 8, false, "!startswith", olen);
		t.b[20] = 1; /* source port 256 */
		EXPECT(&d, &t.p, 8, true, "!startswith (source port 256)", olen);
	}
	tdet_close(&d);
}

/*
 * A rule with nothing but app-layer-protocol matches on the packet that decided the protocol
 * (Suricata's "PD-only"), not on the flow's first packet (when it is not known yet) nor on
 * every later one; with another keyword it is checked on every packet.
 */
static void
test_pd_only(void **state)
{
	struct tdet d;
	struct det_pkt p;

	(void)state;
	tdet_open(&d, "alert tcp any any -> any any (app-layer-protocol:http; sid:1;)\n"
		      "alert tcp any any -> any any (app-layer-protocol:http; flow:to_server; "
		      "sid:2;)\n");
	p = tdet_pkt(IPPROTO_TCP, 80, "GET", 3);
	p.app_proto = AL_PROTO_NONE;
	EXPECT(&d, &p, 1, false, "first packet, protocol unknown", 0);
	p.flags &= (uint8_t)~DET_PKT_FIRST;
	p.app_proto = AL_PROTO_HTTP;
	p.flags |= DET_PKT_PROTO_DONE;
	EXPECT(&d, &p, 1, true, "the packet that decided", 1);
	EXPECT(&d, &p, 2, true, "with flow", 1);
	p.flags &= (uint8_t)~DET_PKT_PROTO_DONE;
	EXPECT(&d, &p, 1, false, "a later packet", 2);
	EXPECT(&d, &p, 2, true, "with flow, a later packet", 2);
	p.app_proto = AL_PROTO_TLS;
	p.flags |= DET_PKT_PROTO_DONE;
	EXPECT(&d, &p, 1, false, "another protocol", 3);
	tdet_close(&d);
}

/* ---- parsing ---- */

static int
parse(const char *text, struct det_rule **r, struct det_parse_err *err)
{
	struct det_parse_ctx ctx = { .vars = NULL };
	static struct det_vars *vars;

	if (vars == NULL) {
		vars = det_vars_create();
		assert_non_null(vars);
		assert_int_equal(det_vars_set_defaults(vars), 0);
	}
	ctx.vars = vars;
	return det_rule_parse(text, "t.rules", 1, &ctx, r, err);
}

/* rule is refused for reason, at the column where at begins, with text in the message. */
static void
bad_at(const char *rule, enum det_reason reason, const char *at, const char *text, int line)
{
	struct det_rule *r = NULL;
	struct det_parse_err err;
	unsigned col = (unsigned)(strstr(rule, at) - rule);

	if (parse(rule, &r, &err) == 0) {
		det_rule_free(r);
		fail_msg("line %d: '%s' was accepted", line, rule);
	}
	if (err.reason != reason || err.off != col || strstr(err.msg, text) == NULL)
		fail_msg("line %d: '%s': got %s at column %u (want %u): %s", line, rule,
				det_reason_name(err.reason), err.off + 1, col + 1, err.msg);
}

#define BAD(rule, reason, at, text) bad_at(rule, reason, at, text, __LINE__)

static void
test_parse(void **state)
{
	struct det_rule *r = NULL;
	struct det_parse_err err;

	(void)state;
	BAD("alert ip any any -> any any (sameip:1; sid:1;)", DET_R_SYNTAX, "1; sid",
			"takes no value");
	BAD("alert ip any any -> any any (ttl:256; sid:1;)", DET_R_INVALID_VALUE, "256", "0-255");
	BAD("alert ip any any -> any any (ttl:<0; sid:1;)", DET_R_INVALID_VALUE, "<0",
			"never match");
	BAD("alert ip any any -> any any (ttl:20-10; sid:1;)", DET_R_INVALID_VALUE, "20-10",
			"lo-hi");
	BAD("alert ip any any -> any any (ttl:abc; sid:1;)", DET_R_INVALID_VALUE, "abc", "ttl");
	BAD("alert ip any any -> any any (tos:x100; sid:1;)", DET_R_INVALID_VALUE, "x100",
			"x00-xff");
	BAD("alert ip any any -> any any (id:70000; sid:1;)", DET_R_INVALID_VALUE, "70000",
			"0-65535");
	BAD("alert ip any any -> any any (ip_proto:foo; sid:1;)", DET_R_INVALID_VALUE, "foo",
			"protocol name");
	BAD("alert ip any any -> any any (ipopts:xyz; sid:1;)", DET_R_INVALID_VALUE, "xyz", "lsrr");
	BAD("alert ip any any -> any any (fragbits:MQ; sid:1;)", DET_R_INVALID_VALUE, "MQ", "'Q'");
	BAD("alert ip any any -> any any (fragbits:+; sid:1;)", DET_R_INVALID_VALUE, "+;",
			"names no bit");
	BAD("alert ip any any -> any any (fragoffset:9000; sid:1;)", DET_R_INVALID_VALUE, "9000",
			"0-8191");
	BAD("alert icmp any any -> any any (itype:8,9; sid:1;)", DET_R_INVALID_VALUE, "8,9",
			"itype");
	BAD("alert icmp any any -> any any (icmp_seq:; sid:1;)", DET_R_SYNTAX, "icmp_seq",
			"needs a value");
	BAD("alert tcp any any -> any any (seq:4294967296; sid:1;)", DET_R_INVALID_VALUE,
			"4294967296", "0-4294967295");
	BAD("alert tcp any any -> any any (window:-1; sid:1;)", DET_R_INVALID_VALUE, "-1",
			"window");
	BAD("alert ip any any -> any any (vlan.id:4096; sid:1;)", DET_R_INVALID_VALUE, "4096",
			"0-4095");
	BAD("alert ip any any -> any any (vlan.id:1,5; sid:1;)", DET_R_INVALID_VALUE, "1,5",
			"layer '5'");
	BAD("alert tcp any any -> any any (stream_size:server,~,5; sid:1;)", DET_R_INVALID_VALUE,
			"server,", "operator '~'");
	BAD("alert tcp any any -> any any (stream_size:server,<; sid:1;)", DET_R_INVALID_VALUE,
			"server,", "<server|client|both|either>");
	BAD("alert tcp any any -> any any (tcp.flags:SX; sid:1;)", DET_R_INVALID_VALUE, "X;",
			"not a TCP flag");
	BAD("alert udp any any -> any any (tcp.hdr; content:\"a\"; sid:1;)",
			DET_R_INVALID_COMBINATION, "tcp.hdr", "not tcp");
	BAD("alert tcp any any -> any any (icmpv6.hdr; content:\"a\"; sid:1;)",
			DET_R_INVALID_COMBINATION, "icmpv6.hdr", "not icmp");
	BAD("alert http any any -> any any (http.uri; content:\"/a\"; startswith; depth:5; "
	    "sid:1;)",
			DET_R_INVALID_COMBINATION, "depth", "cannot follow startswith");
	BAD("alert http any any -> any any (http.uri; content:\"/a\"; offset:1; startswith; "
	    "sid:1;)",
			DET_R_INVALID_COMBINATION, "startswith", "cannot be combined");
	BAD("alert http any any -> any any (http.uri; content:\"/a\"; endswith; endswith; "
	    "sid:1;)",
			DET_R_INVALID_COMBINATION, "endswith; sid", "given twice");
	BAD("alert http any any -> any any (http.uri; bsize:>10; bsize:<5; sid:1;)",
			DET_R_CANNOT_MATCH, "bsize:<5", "exclude each other");
	BAD("alert tcp any any -> any any (content:\"a\"; bsize:5; sid:1;)",
			DET_R_INVALID_COMBINATION, "bsize", "sticky buffer");
	BAD("alert tcp any any -> any any (isdataat:-1; sid:1;)", DET_R_INVALID_VALUE, "-1",
			"[!]N");
	BAD("alert tcp any any -> any any (isdataat:1,sideways; sid:1;)", DET_R_INVALID_VALUE,
			"1,sideways", "'sideways'");
	BAD("alert tcp any any -> any any (tcp.hdr; to_lowercase; content:\"a\"; sid:1;)",
			DET_R_UNSUPPORTED_MODIFIER, "tcp.hdr", "transforms");
	BAD("alert tcp-stream any any -> any any (ttl:3; content:\"a\"; sid:1;)",
			DET_R_INVALID_COMBINATION, "alert", "tcp-stream");

	/* forms that load, with the model they give */
	assert_int_equal(parse("alert ip any any -> any any (ttl:=5; id:\"7\"; vlan.id:>=200,1; "
			       "stream_size:either,!=,3; ip_proto:ipv6-icmp; sid:1;)",
					 &r, &err),
			0);
	assert_int_equal(r->n_hdr, 5);
	assert_int_equal(r->hdr[0].cmp.op, DET_NOP_EQ);
	assert_int_equal(r->hdr[0].cmp.lo, 5);
	assert_int_equal(r->hdr[1].cmp.lo, 7);
	assert_int_equal(r->hdr[2].layer, 1);
	assert_int_equal(r->hdr[2].cmp.op, DET_NOP_GE);
	assert_int_equal(r->hdr[3].mode, DET_SS_EITHER);
	assert_int_equal(r->hdr[3].cmp.op, DET_NOP_NE);
	assert_int_equal(r->hdr[4].cmp.lo, 58);
	assert_int_equal(r->n_items, 0);
	det_rule_free(r);
	/* a relative isdataat after a content moved by a modifier goes with it (Suricata) */
	assert_int_equal(parse("alert http any any -> any any (content:\"/c/\"; http_raw_uri; "
			       "isdataat:4,relative; sid:1;)",
					 &r, &err),
			0);
	assert_int_equal(r->n_spans, 1);
	assert_int_equal(r->spans[0].buf, DET_BUF_HTTP_URI_RAW);
	assert_int_equal(r->spans[0].n, 2);
	assert_int_equal(r->items[1].type, DET_ITEM_ISDATAAT);
	assert_true(r->items[1].relative);
	det_rule_free(r);
	/* ... but not after pkt_data: there it is on the payload */
	assert_int_equal(parse("alert http any any -> any any (content:\"/c/\"; http_raw_uri; "
			       "pkt_data; isdataat:4,relative; sid:1;)",
					 &r, &err),
			0);
	assert_int_equal(r->n_spans, 2);
	assert_int_equal(r->spans[det_rule_payload_span(r)].n, 1);
	det_rule_free(r);
	/* the header buffer's items are apart from the payload's */
	assert_int_equal(parse("alert tcp any any -> any any (content:\"GET\"; tcp.hdr; "
			       "content:\"|02 04|\"; sid:1;)",
					 &r, &err),
			0);
	assert_int_equal(r->n_items, 1);
	assert_int_equal(r->n_hitems, 1);
	assert_int_equal(r->n_hdr, 1);
	assert_int_equal(r->hdr[0].field, DET_H_BUF);
	assert_int_equal(r->hitems[0].c.len, 2);
	assert_true(r->classes & DET_CL_TCP_PKT);
	det_rule_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_fields),
		cmocka_unit_test(test_ipopts_fragbits),
		cmocka_unit_test(test_icmp),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_vlan_stream),
		cmocka_unit_test(test_buffer_forms),
		cmocka_unit_test(test_pd_only),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
