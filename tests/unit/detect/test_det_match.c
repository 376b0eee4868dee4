/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Matching semantics in block mode: content modifiers, negation, pcre, dsize, flow, flags,
 * addresses and ports, verdict order, thresholds. Besides hand-made cases, random rules are
 * checked three ways: the engine's Hyperscan-only plan, its confirmation plan, and a
 * brute-force reference of Suricata's "some placement satisfies every keyword" semantics.
 */
#include <errno.h>

#include "al.h"
#include "det_test.h"

#include "det_confirm.h"

/* ---- content ---- */

static void
test_content_basic(void **state)
{
	struct tdet t;

	(void)state;
	tdet_open(&t, "alert udp any any -> any any (content:\"evil\"; sid:1;)\n"
		      "alert udp any any -> any any (content:\"EvIl\"; nocase; sid:2;)\n"
		      "alert udp any any -> any any (content:\"|65 76|il|0d 0a|\"; sid:3;)\n"
		      "alert udp any any -> any any (content:\"a\\;b\\\"c\\\\d\"; sid:4;)\n");
	assert_int_equal(t.crep.exact, 4);
	assert_true(tdet_udp_has(&t, 1, "an evil thing"));
	assert_false(tdet_udp_has(&t, 1, "an EVIL thing"));
	assert_true(tdet_udp_has(&t, 2, "an EVIL thing"));
	assert_true(tdet_udp_has(&t, 2, "eviL"));
	assert_false(tdet_udp_has(&t, 2, "evl"));
	assert_true(tdet_udp_has(&t, 3, "evil\r\n"));
	assert_false(tdet_udp_has(&t, 3, "evil\n"));
	assert_true(tdet_udp_has(&t, 4, "xa;b\"c\\dx"));
	assert_false(tdet_udp_has(&t, 1, ""));
	tdet_close(&t);
}

static void
test_offset_depth(void **state)
{
	struct tdet t;

	(void)state;
	tdet_open(&t, "alert udp any any -> any any (content:\"abc\"; offset:2; depth:5; sid:1;)\n"
		      "alert udp any any -> any any (content:\"abc\"; depth:3; sid:2;)\n"
		      "alert udp any any -> any any (content:\"abc\"; offset:3; sid:3;)\n"
		      /* a chain whose head has offset/depth: anchored regex */
		      "alert udp any any -> any any (content:\"ab\"; offset:1; depth:3; "
		      "content:\"cd\"; distance:0; sid:4;)\n");
	/* depth counts from offset: abc must lie in bytes [2, 7) */
	assert_true(tdet_udp_has(&t, 1, "xxabc"));
	assert_true(tdet_udp_has(&t, 1, "xxxxabc"));
	assert_false(tdet_udp_has(&t, 1, "xxxxxabc"));
	assert_false(tdet_udp_has(&t, 1, "xabcx"));
	assert_true(tdet_udp_has(&t, 2, "abcxx"));
	assert_false(tdet_udp_has(&t, 2, "xabc"));
	assert_true(tdet_udp_has(&t, 3, "xxxabc"));
	assert_true(tdet_udp_has(&t, 3, "abcxxxabc"));
	assert_false(tdet_udp_has(&t, 3, "xxabcx"));
	assert_true(tdet_udp_has(&t, 4, "xabzzcd"));
	assert_true(tdet_udp_has(&t, 4, "xxabcd"));
	assert_false(tdet_udp_has(&t, 4, "abcd"));
	assert_false(tdet_udp_has(&t, 4, "xxxabcd"));
	tdet_close(&t);
}

static void
test_distance_within(void **state)
{
	struct tdet t;

	(void)state;
	tdet_open(&t,
			/* the alert-distance-within-1 rule of suricata-verify */
			"alert udp any any -> any any (content:\"AllWorkAndNoPlayMakesWill\"; "
			"content:\"DullBoy\"; distance:1; within:7; sid:1;)\n"
			"alert udp any any -> any any (content:\"A\"; content:\"B\"; within:2; "
			"sid:2;)\n"
			"alert udp any any -> any any (content:\"A\"; content:\"B\"; distance:2; "
			"sid:3;)\n"
			"alert udp any any -> any any (content:\"A\"; content:\"B\"; distance:-1; "
			"within:3; sid:4;)\n");
	assert_true(tdet_udp_has(&t, 1, "GET /AllWorkAndNoPlayMakesWillADullBoy HTTP/1.0"));
	assert_false(tdet_udp_has(&t, 1, "AllWorkAndNoPlayMakesWillDullBoy"));
	assert_false(tdet_udp_has(&t, 1, "AllWorkAndNoPlayMakesWillAADullBoy"));
	/* within counts from the end of A: B must end within 2 bytes of it */
	assert_true(tdet_udp_has(&t, 2, "AB"));
	assert_true(tdet_udp_has(&t, 2, "AxB"));
	assert_false(tdet_udp_has(&t, 2, "AxxB"));
	/* the second A makes it: an earlier A that fails is not the end */
	assert_true(tdet_udp_has(&t, 2, "AxxxAxB"));
	assert_false(tdet_udp_has(&t, 3, "AxB"));
	assert_true(tdet_udp_has(&t, 3, "AxxB"));
	assert_true(tdet_udp_has(&t, 3, "ABAxxB"));
	/* negative distance: B may start one byte before A ends */
	assert_true(tdet_udp_has(&t, 4, "BA") == false);
	assert_true(tdet_udp_has(&t, 4, "AB"));
	assert_true(tdet_udp_has(&t, 4, "AxB"));
	assert_false(tdet_udp_has(&t, 4, "AxxB"));
	tdet_close(&t);
}

static void
test_negation(void **state)
{
	struct tdet t;

	(void)state;
	tdet_open(&t, "alert udp any any -> any any (content:\"GET\"; content:!\"admin\"; sid:1;)\n"
		      "alert udp any any -> any any (content:\"GET\"; content:!\"/x\"; "
		      "distance:1; within:2; sid:2;)\n"
		      "alert udp any any -> any any (content:!\"abc\"; depth:3; sid:3;)\n");
	assert_int_equal(t.crep.exact, 1);
	assert_true(tdet_udp_has(&t, 1, "GET /index"));
	assert_false(tdet_udp_has(&t, 1, "GET /admin"));
	/* absence is of the whole payload, even after the positive match */
	assert_false(tdet_udp_has(&t, 1, "admin GET"));
	assert_true(tdet_udp_has(&t, 2, "GET /y"));
	assert_false(tdet_udp_has(&t, 2, "GET /x"));
	/* relative negation: another GET without /x after it is enough */
	assert_true(tdet_udp_has(&t, 2, "GET /x GET /y"));
	assert_true(tdet_udp_has(&t, 3, "xabc"));
	assert_false(tdet_udp_has(&t, 3, "abcx"));
	tdet_close(&t);
}

/*
 * pcre flags as Hyperscan takes them (pcre_scan_all: the literal-less ones in Hyperscan too)
 * and as PCRE2 runs them (the default, for pcres without a literal).
 */
static void
test_pcre(void **state)
{
	struct det_compile_opts o;
	struct tdet t;

	(void)state;
	det_compile_opts_default(&o);
	for (int all = 0; all < 2; all++) {
		o.pcre_scan_all = all == 1;
		tdet_open_opts(&t,
				"alert udp any any -> any any (pcre:\"/ab+c/\"; sid:1;)\n"
				"alert udp any any -> any any (pcre:\"/^get /i\"; sid:2;)\n"
				"alert udp any any -> any any (pcre:\"/a.b/s\"; sid:3;)\n"
				"alert udp any any -> any any (pcre:\"/^b$/m\"; sid:4;)\n"
				"alert udp any any -> any any (pcre:\"/ a b c # spaces ignored/x\"; sid:5;)\n"
				"alert udp any any -> any any (content:\"key=\"; pcre:\"/^[0-9]{3}&/R\"; "
				"sid:6;)\n"
				"alert udp any any -> any any (content:\"GET\"; pcre:!\"/two/\"; sid:7;)\n"
				"alert udp any any -> any any (pcre:\"/(a)\\1b/\"; sid:8;)\n",
				false, &o);
		assert_true(all ? t.crep.pcre_hs >= 5 : t.crep.pcre_literalless >= 3);
		assert_true(tdet_udp_has(&t, 1, "xxabbbc"));
		assert_false(tdet_udp_has(&t, 1, "xxac"));
		assert_true(tdet_udp_has(&t, 2, "GeT /"));
		assert_false(tdet_udp_has(&t, 2, " GET /"));
		assert_true(tdet_udp_has(&t, 3, "a\nb"));
		assert_true(tdet_udp_has(&t, 4, "a\nb\nc"));
		assert_false(tdet_udp_has(&t, 4, "a b c"));
		assert_true(tdet_udp_has(&t, 5, "xabcx"));
		assert_false(tdet_udp_has(&t, 5, "a b c"));
		/* R: the pcre starts where key= ended, so ^ anchors there */
		assert_true(tdet_udp_has(&t, 6, "x=1&key=123&"));
		assert_false(tdet_udp_has(&t, 6, "key=1234&"));
		assert_true(tdet_udp_has(&t, 6, "key=1234& key=999&"));
		assert_true(tdet_udp_has(&t, 7, "GET /one/"));
		assert_false(tdet_udp_has(&t, 7, "GET /two/"));
		/* a backreference: Hyperscan prefilter, PCRE2 decides */
		assert_true(tdet_udp_has(&t, 8, "xaab"));
		assert_false(tdet_udp_has(&t, 8, "xabb"));
		tdet_close(&t);
	}
}

static void
test_isdataat(void **state)
{
	struct tdet t;

	(void)state;
	tdet_open(&t, "alert udp any any -> any any (content:\"USER\"; isdataat:5,relative; sid:1;)\n"
		      "alert udp any any -> any any (content:\"USER\"; isdataat:!1,relative; "
		      "sid:2;)\n"
		      "alert udp any any -> any any (isdataat:9; content:\"x\"; sid:3;)\n");
	/* relative: the 5 bytes after USER are there (Suricata's engine: offset + n <= len) */
	assert_true(tdet_udp_has(&t, 1, "USER abcde"));
	assert_true(tdet_udp_has(&t, 1, "USER abcd"));
	assert_false(tdet_udp_has(&t, 1, "USER abc"));
	/* !1,relative: USER ends the payload */
	assert_true(tdet_udp_has(&t, 2, "xUSER"));
	assert_false(tdet_udp_has(&t, 2, "USER "));
	assert_true(tdet_udp_has(&t, 3, "x123456789"));
	assert_false(tdet_udp_has(&t, 3, "x12345678"));
	tdet_close(&t);
}

static bool
udp_has_bytes(struct tdet *t, uint32_t sid, const void *data, size_t len)
{
	struct det_pkt p = tdet_pkt(IPPROTO_UDP, 53, data, len);
	uint32_t sids[64];
	int n = tdet_scan(t, &p, sids, 64);

	for (int i = 0; i < n; i++)
		if (sids[i] == sid)
			return true;
	return false;
}

#define HAS(t, sid, lit) udp_has_bytes(t, sid, lit, sizeof(lit) - 1)

static void
test_byte_test_jump(void **state)
{
	struct tdet t;

	(void)state;
	tdet_open(&t, "alert udp any any -> any any (content:\"LEN\"; byte_test:2,>,100,0,relative; "
		      "sid:1;)\n"
		      "alert udp any any -> any any (byte_test:2,=,0x0102,1,little; sid:2;)\n"
		      "alert udp any any -> any any (content:\"F\"; byte_test:1,&,0x80,0,relative; "
		      "sid:3;)\n"
		      "alert udp any any -> any any (content:\"F\"; byte_test:1,!&,0x80,0,relative; "
		      "sid:4;)\n"
		      "alert udp any any -> any any (content:\"len=\"; "
		      "byte_test:3,>,250,0,relative,string,dec; sid:5;)\n"
		      "alert udp any any -> any any (byte_test:1,=,3,0,bitmask 0x0c; sid:6;)\n"
		      "alert udp any any -> any any (content:\"HDR\"; byte_jump:1,0,relative; "
		      "content:\"END\"; within:3; sid:7;)\n"
		      "alert udp any any -> any any (byte_jump:1,0,from_beginning,post_offset 1; "
		      "content:\"Z\"; within:1; sid:8;)\n"
		      "alert udp any any -> any any (content:\"A\"; byte_jump:1,0,relative,align; "
		      "content:\"X\"; within:1; sid:9;)\n"
		      "alert udp any any -> any any (content:\"A\"; byte_jump:2,0,relative,"
		      "multiplier 2,little; isdataat:!2,relative; sid:10;)\n");
	assert_int_equal(t.crep.confirm, 8);
	assert_true(HAS(&t, 1, "LEN\x00\x65"));
	assert_false(HAS(&t, 1, "LEN\x00\x64"));
	assert_false(HAS(&t, 1, "LEN\x01")); /* not enough bytes */
	/* another LEN further on satisfies it: the content is tried again */
	assert_true(HAS(&t, 1, "LEN\x00\x01 LEN\x01\x00"));
	assert_true(HAS(&t, 2, "x\x02\x01"));
	assert_false(HAS(&t, 2, "x\x01\x02"));
	assert_true(HAS(&t, 3, "F\x81"));
	assert_false(HAS(&t, 3, "F\x01"));
	assert_true(HAS(&t, 4, "F\x01"));
	assert_false(HAS(&t, 4, "F\x81"));
	assert_true(HAS(&t, 5, "len=300;"));
	assert_false(HAS(&t, 5, "len=200;"));
	assert_false(HAS(&t, 5, "len=abc;"));
	assert_false(HAS(&t, 5, "len=99x")); /* 99 then not a digit: 99 > 250 is false */
	assert_true(HAS(&t, 5, "len=999"));
	assert_true(HAS(&t, 6, "\x0c"));
	assert_false(HAS(&t, 6, "\x08"));
	/* HDR, length 2: jump over 2 bytes from after the length byte, END must follow */
	assert_true(HAS(&t, 7, "HDR\x02xxEND"));
	assert_false(HAS(&t, 7, "HDR\x03xxEND"));
	assert_false(HAS(&t, 7, "HDR\x7f"));
	assert_true(HAS(&t, 8,
			"\x03"
			"abcZ"));
	assert_false(HAS(&t, 8,
			"\x03"
			"abZc"));
	/* value 1 aligned to 4, from after the byte read (offset 2): X at 6 */
	assert_true(HAS(&t, 9, "A\x01....X"));
	assert_false(HAS(&t, 9, "A\x01...X."));
	/*
	 * 2 little-endian bytes 0x0002 times 2, from after them (3): position 7, which must be
	 * the last byte (isdataat:!2,relative: fewer than 2 bytes from there); a jump to the end
	 * itself fails, as in Suricata
	 */
	assert_true(HAS(&t, 10,
			"A\x02\x00"
			"abcde"));
	assert_false(HAS(&t, 10,
			"A\x02\x00"
			"abcd"));
	assert_false(HAS(&t, 10,
			"A\x02\x00"
			"abcdef"));
	tdet_close(&t);
}

/* ---- packet keywords and header ---- */

static void
test_dsize(void **state)
{
	struct tdet t;
	const char *p10 = "0123456789";

	(void)state;
	tdet_open(&t, "alert udp any any -> any any (dsize:10; sid:1;)\n"
		      "alert udp any any -> any any (dsize:<10; sid:2;)\n"
		      "alert udp any any -> any any (dsize:<=10; sid:3;)\n"
		      "alert udp any any -> any any (dsize:>8; sid:4;)\n"
		      "alert udp any any -> any any (dsize:>=10; sid:5;)\n"
		      "alert udp any any -> any any (dsize:8<>20; sid:6;)\n"
		      "alert udp any any -> any any (dsize:!9; sid:7;)\n");
	assert_true(tdet_udp_has(&t, 1, p10));
	assert_false(tdet_udp_has(&t, 1, "012345678"));
	assert_false(tdet_udp_has(&t, 2, p10));
	assert_true(tdet_udp_has(&t, 2, "012345678"));
	assert_true(tdet_udp_has(&t, 3, p10));
	assert_true(tdet_udp_has(&t, 4, "012345678"));
	assert_false(tdet_udp_has(&t, 4, "01234567"));
	assert_true(tdet_udp_has(&t, 5, p10));
	assert_false(tdet_udp_has(&t, 5, "012345678"));
	/* the range excludes its ends */
	assert_true(tdet_udp_has(&t, 6, "012345678"));
	assert_false(tdet_udp_has(&t, 6, "01234567"));
	assert_true(tdet_udp_has(&t, 7, p10));
	assert_false(tdet_udp_has(&t, 7, "012345678"));
	/* the empty payload has dsize 0; != and >= need a payload, as in Suricata */
	assert_true(tdet_udp_has(&t, 2, ""));
	assert_true(tdet_udp_has(&t, 3, ""));
	assert_false(tdet_udp_has(&t, 7, ""));
	tdet_close(&t);
}

static void
test_flow_and_flags(void **state)
{
	struct tdet t;
	struct det_pkt p;
	uint32_t sids[8];

	(void)state;
	tdet_open(&t, "alert tcp any any -> any any (flow:to_server,established; flags:S; sid:1;)\n"
		      "alert tcp any any -> any any (flags:SA,12; sid:2;)\n"
		      "alert tcp any any -> any any (flags:+S; flow:not_established; sid:3;)\n"
		      "alert tcp any any -> any any (flags:0; sid:4;)\n"
		      "alert tcp any any -> any any (flags:!R; dsize:0; sid:5;)\n"
		      "alert udp any any -> any any (flow:to_client; dsize:<100; sid:6;)\n");
	p = tdet_pkt(IPPROTO_TCP, 80, NULL, 0);
	p.tcp_flags = 0x02; /* SYN */
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 2);
	assert_int_equal(sids[0], 1);
	assert_int_equal(sids[1], 5);
	p.tcp_flags = 0x12 | 0x40; /* SYN ACK ECE: the mask 12 (CWR ECE) ignores ECE */
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 2);
	assert_int_equal(sids[0], 2);
	p.flags &= (uint8_t)~DET_PKT_ESTABLISHED;
	p.tcp_flags = 0x12;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 3); /* 2, 3, 5 */
	p.tcp_flags = 0;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 2); /* 4, 5 */
	assert_int_equal(sids[0], 4);
	p.tcp_flags = 0x04;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 0);
	/* flow:to_client on UDP */
	p = tdet_pkt(IPPROTO_UDP, 5060, "x", 1);
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 0);
	p = tdet_reply(p);
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 6);
	tdet_close(&t);
}

static void
test_addresses_and_ports(void **state)
{
	struct tdet t;
	struct det_pkt p;
	uint32_t sids[8];
	static const uint8_t v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t v6b[16] = { 0x20, 0x01, 0x0d, 0xb9, [15] = 1 };

	(void)state;
	tdet_open(&t, "alert udp $HOME_NET any -> !$HOME_NET 53 (content:\"q\"; sid:1;)\n"
		      "alert udp any 53 -> $HOME_NET any (content:\"q\"; sid:2;)\n"
		      "alert udp [10.0.0.0/24,!10.0.0.1] any -> any [1:1024,!53] (content:\"q\"; "
		      "sid:3;)\n"
		      "alert udp any any <> 192.0.2.0/24 5000: (content:\"q\"; sid:4;)\n"
		      "alert udp 2001:db8::/32 any -> any any (content:\"q\"; sid:5;)\n");
	p = tdet_pkt(IPPROTO_UDP, 53, "q", 1);
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 1);
	p = tdet_reply(p);
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 2);
	p = tdet_pkt(IPPROTO_UDP, 80, "q", 1);
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 0); /* 10.0.0.1 is excluded from sid 3 */
	{
		static const uint8_t c2[16] = { 10, 0, 0, 2 };

		p.src = c2;
		assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
		assert_int_equal(sids[0], 3);
	}
	/* <>: either way round */
	p = tdet_pkt(IPPROTO_UDP, 6000, "q", 1);
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 4);
	p = tdet_reply(p);
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	p = tdet_pkt(IPPROTO_UDP, 4999, "q", 1);
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 0);
	p.family = 6;
	p.src = v6a;
	p.dst = v6b;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 5);
	p.src = v6b;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 0);
	tdet_close(&t);
}

/*
 * A TCP or UDP rule without content whose ports are not both any is a packet rule, as in
 * Suricata (SignatureIsIPOnly): it alerts on every packet that matches, not on a flow
 * direction's first only; with both ports any it stays IP-only.
 */
static void
test_port_rules_per_packet(void **state)
{
	struct tdet t;
	struct det_pkt p;
	uint32_t sids[8];

	(void)state;
	tdet_open(&t, "alert tcp any any -> any 4444 (sid:1;)\n"
		      "alert tcp any any -> any any (sid:2;)\n"
		      "alert udp any 53 -> any any (sid:3;)\n");
	p = tdet_pkt(IPPROTO_TCP, 4444, "x", 1);
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 2);
	p.flags &= (uint8_t)~DET_PKT_FIRST;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 1);
	p.dport = 4445;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 0);
	p = tdet_reply(tdet_pkt(IPPROTO_UDP, 53, "a", 1));
	p.flags &= (uint8_t)~DET_PKT_FIRST;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 3);
	tdet_close(&t);
}

static void
test_ip_only_and_protocols(void **state)
{
	struct tdet t;
	struct det_pkt p;
	uint32_t sids[8];

	(void)state;
	tdet_open(&t, "alert ip any any -> any any (sid:1;)\n"
		      "alert icmp any any -> any any (content:\"ping\"; sid:2;)\n"
		      "alert ip any 80 -> any any (sid:3;)\n"
		      "alert dns any any -> any any (content:\"q\"; sid:4;)\n");
	/* header-only rules fire on a flow direction's first packet */
	p = tdet_pkt(IPPROTO_ICMP, 0, "ping", 4);
	p.sport = 0;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 2);
	p.flags &= (uint8_t)~DET_PKT_FIRST;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 2);
	/* port 80 on an ip rule needs a packet with ports */
	p = tdet_reply(tdet_pkt(IPPROTO_TCP, 80, "x", 1));
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 2);
	/* dns has a parser: flows detected as DNS on any port; UDP or TCP with server port 53
	 * while detection has not decided */
	assert_int_equal(t.rep.approximated, 0);
	p = tdet_pkt(IPPROTO_UDP, 53, "q", 1);
	p.flags &= (uint8_t)~DET_PKT_FIRST;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 4);
	p.dport = 5353;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 0);
	p.app_proto = AL_PROTO_DNS;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	/* another protocol, or detection gave up: not DNS, whatever the port */
	p.dport = 53;
	p.app_proto = AL_PROTO_HTTP;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 0);
	p.app_proto = AL_PROTO_FAILED;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 0);
	tdet_close(&t);

	/* a protocol Vigil has no parser for keeps its ports, whatever detection said */
	tdet_open(&t, "alert smb any any -> any any (content:\"SMB\"; sid:5;)\n"
		      "alert tcp any any -> any any (app-layer-protocol:http; content:\"a\"; "
		      "sid:6;)\n"
		      "alert tcp any any -> any any (app-layer-protocol:!http; content:\"a\"; "
		      "sid:7;)\n"
		      "alert tcp any any -> any any (app-layer-protocol:failed; content:\"a\"; "
		      "sid:8;)\n");
	assert_int_equal(t.rep.approximated, 1);
	p = tdet_pkt(IPPROTO_TCP, 445, "SMB", 3);
	p.flags &= (uint8_t)~DET_PKT_FIRST;
	p.tcp_flags = 0x18;
	p.app_proto = AL_PROTO_HTTP;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 0); /* a stream rule: not per packet */
	tdet_close(&t);
	tdet_open(&t, "alert smb any any -> any any (dsize:3; content:\"SMB\"; sid:5;)\n"
		      "alert tcp any any -> any any (app-layer-protocol:http; dsize:1; sid:6;)\n"
		      "alert tcp any any -> any any (app-layer-protocol:!http; dsize:1; sid:7;)\n"
		      "alert tcp any any -> any any (app-layer-protocol:failed; dsize:1; sid:8;)\n");
	p = tdet_pkt(IPPROTO_TCP, 445, "SMB", 3);
	p.app_proto = AL_PROTO_HTTP;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 5);
	p.dport = 446;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 0);
	/* app-layer-protocol: nothing while undecided, then the flow's protocol */
	p = tdet_pkt(IPPROTO_TCP, 80, "a", 1);
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 0);
	p.app_proto = AL_PROTO_HTTP;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 6);
	p.app_proto = AL_PROTO_TLS;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 7);
	p.app_proto = AL_PROTO_FAILED;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 2);
	assert_int_equal(sids[0], 7);
	assert_int_equal(sids[1], 8);
	tdet_close(&t);
}

/* flowint: a counter per flow, changed by one rule and compared by another (tests after
 * changes in a packet, as flowbits), set and unset tests, each flow its own */
static void
test_flowint(void **state)
{
	struct tdet t;
	uint8_t fb1[64] = { 0 }, fb2[64] = { 0 };
	struct det_pkt p;
	uint32_t sids[8];
	int n;

	(void)state;
	tdet_open(&t, "alert udp any any -> any any (content:\"x\"; flowint:cnt,+,1; noalert; "
		      "sid:1;)\n"
		      "alert udp any any -> any any (content:\"x\"; flowint:cnt,>,2; sid:2;)\n"
		      "alert udp any any -> any any (content:\"reset\"; flowint:cnt,=,0; noalert; "
		      "sid:3;)\n"
		      "alert udp any any -> any any (content:\"q\"; flowint:cnt,notset; sid:4;)\n"
		      "alert udp any any -> any any (content:\"q\"; flowint:cnt,isset; sid:5;)\n");
	assert_true(det_flowbits_size(t.e) >= 12 && det_flowbits_size(t.e) <= sizeof(fb1));
	p = tdet_pkt(IPPROTO_UDP, 9, "q", 1);
	p.flowbits = fb1;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 4);
	p.payload = (const uint8_t *)"x";
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
		assert_int_equal(sids[0], 1);
	}
	/* the third: the counter is 3 by the time sid 2 compares */
	n = tdet_scan(&t, &p, sids, 8);
	assert_int_equal(n, 2);
	assert_true(sids[0] == 2 || sids[1] == 2);
	p.payload = (const uint8_t *)"q";
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 5);
	/* set back to 0: set, and under the count again */
	p.payload = (const uint8_t *)"reset";
	p.len = 5;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	p.payload = (const uint8_t *)"x";
	p.len = 1;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 1);
	/* another flow has its own counter */
	p.flowbits = fb2;
	p.payload = (const uint8_t *)"q";
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 4);
	tdet_close(&t);
}

static void
test_flowbits(void **state)
{
	struct tdet t;
	uint8_t fb1[64] = { 0 }, fb2[64] = { 0 };
	struct det_pkt p;
	uint32_t sids[8];
	int n;

	(void)state;
	tdet_open(&t, "alert udp any any -> any any (content:\"LOGIN\"; flowbits:set,login; "
		      "flowbits:noalert; sid:1;)\n"
		      "alert udp any any -> any any (content:\"CMD\"; flowbits:isset,login; sid:2;)\n"
		      "alert udp any any -> any any (content:\"CMD\"; flowbits:isnotset,login; "
		      "sid:3;)\n"
		      "alert udp any any -> any any (content:\"BYE\"; flowbits:unset,login; sid:4;)\n"
		      "alert udp any any -> any any (content:\"FLIP\"; flowbits:toggle,x; sid:5;)\n"
		      "alert udp any any -> any any (content:\"Q\"; flowbits:isset,login|x; sid:6;)\n");
	assert_true(det_flowbits_size(t.e) >= 9 && det_flowbits_size(t.e) <= sizeof(fb1));
	p = tdet_pkt(IPPROTO_UDP, 9, "CMD", 3);
	p.flowbits = fb1;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 3);
	/* the setter matches but does not alert (noalert); the bit is the flow's */
	p.payload = (const uint8_t *)"LOGIN";
	p.len = 5;
	n = tdet_scan(&t, &p, sids, 8);
	assert_int_equal(n, 1);
	{
		struct det_match m[4];

		assert_int_equal(det_scan_packet(t.w, &p, m, 4), 1);
		assert_false(m[0].flags & DET_M_ALERT);
	}
	p.payload = (const uint8_t *)"CMD";
	p.len = 3;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 2);
	/* the reply direction shares the flow's bits */
	{
		struct det_pkt r = tdet_reply(p);

		assert_int_equal(tdet_scan(&t, &r, sids, 8), 1);
		assert_int_equal(sids[0], 2);
	}
	/* another flow has its own bits */
	p.flowbits = fb2;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 3);
	/* in one packet the setter goes first, so the test sees the bit */
	p.payload = (const uint8_t *)"LOGIN CMD";
	p.len = 9;
	n = tdet_scan(&t, &p, sids, 8);
	assert_int_equal(n, 2);
	assert_true(sids[0] == 2 || sids[1] == 2);
	/* unset, toggle, and a test of two names */
	p.flowbits = fb1;
	p.payload = (const uint8_t *)"BYE";
	p.len = 3;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	p.payload = (const uint8_t *)"Q";
	p.len = 1;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 0);
	p.payload = (const uint8_t *)"FLIP";
	p.len = 4;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	p.payload = (const uint8_t *)"Q";
	p.len = 1;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 6);
	p.payload = (const uint8_t *)"FLIP";
	p.len = 4;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	p.payload = (const uint8_t *)"Q";
	p.len = 1;
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 0);
	/* without flowbits memory: isset fails, isnotset holds */
	p.flowbits = NULL;
	p.payload = (const uint8_t *)"LOGIN CMD";
	p.len = 9;
	n = tdet_scan(&t, &p, sids, 8);
	assert_int_equal(n, 2);
	assert_true(sids[0] == 3 || sids[1] == 3);
	tdet_close(&t);
}

/* ---- verdicts ---- */

/* Signature groups: a packet that selects groups is checked only against their rules. */
static void
test_groups(void **state)
{
	struct tdet t;
	struct det_pkt p;
	uint32_t sids[8];
	int n;

	(void)state;
	tdet_open(&t, "alert udp any any -> any any (content:\"evil\"; sid:1;)\n"
		      "alert udp any any -> any any (content:\"evil\"; sid:2;)\n"
		      "alert udp any any -> any any (content:\"evil\"; sid:3;)\n");
	assert_int_equal(det_engine_set_rule_groups(t.e, 0, 1u << 0), 0);
	assert_int_equal(det_engine_set_rule_groups(t.e, 1, 1u << 1), 0);
	/* rule 2 keeps every group */
	assert_int_equal(det_engine_set_rule_groups(t.e, 3, 1), -EINVAL);
	p = tdet_pkt(IPPROTO_UDP, 53, "an evil thing", 13);
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 3); /* 0: no selection, every rule */
	p.groups = 1u << 0;
	n = tdet_scan(&t, &p, sids, 8);
	assert_int_equal(n, 2);
	assert_true((sids[0] == 1 && sids[1] == 3) || (sids[0] == 3 && sids[1] == 1));
	p.groups = 1u << 1;
	n = tdet_scan(&t, &p, sids, 8);
	assert_int_equal(n, 2);
	assert_true((sids[0] == 2 && sids[1] == 3) || (sids[0] == 3 && sids[1] == 2));
	p.groups = 1u << 5; /* a group no rule file has: only the ungrouped rule */
	n = tdet_scan(&t, &p, sids, 8);
	assert_int_equal(n, 1);
	assert_int_equal(sids[0], 3);
	tdet_close(&t);
}

static void
test_action_order(void **state)
{
	struct tdet t;
	struct det_pkt p;
	struct det_match m[8];
	int n;

	(void)state;
	tdet_open(&t, "alert udp any any -> any any (content:\"x\"; priority:1; sid:1;)\n"
		      "reject udp any any -> any any (content:\"x\"; sid:2;)\n"
		      "drop udp any any -> any any (content:\"x\"; priority:3; sid:3;)\n"
		      "drop udp any any -> any any (content:\"x\"; priority:2; sid:4;)\n"
		      "alert udp any any -> any any (content:\"x\"; priority:1; sid:5; noalert;)\n"
		      "pass udp any any -> any any (content:\"ok\"; sid:6;)\n");
	p = tdet_pkt(IPPROTO_UDP, 9, "x", 1);
	n = det_scan_packet(t.w, &p, m, 8);
	assert_int_equal(n, 5);
	/* drop before reject before alert; within an action by priority, then sid */
	assert_int_equal(det_engine_rule_info(t.e, m[0].rule)->sid, 4);
	assert_int_equal(det_engine_rule_info(t.e, m[1].rule)->sid, 3);
	assert_int_equal(det_engine_rule_info(t.e, m[2].rule)->sid, 2);
	assert_int_equal(det_engine_rule_info(t.e, m[3].rule)->sid, 1);
	assert_int_equal(det_engine_rule_info(t.e, m[4].rule)->sid, 5);
	assert_int_equal(m[0].action, DET_ACT_DROP);
	assert_int_equal(m[2].action, DET_ACT_REJECT);
	assert_true(m[0].flags & DET_M_ALERT);
	assert_false(m[4].flags & DET_M_ALERT);
	assert_int_equal(m[3].end, 1);
	/* pass wins over everything and silences the rest */
	p = tdet_pkt(IPPROTO_UDP, 9, "x ok", 4);
	n = det_scan_packet(t.w, &p, m, 8);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].action, DET_ACT_PASS);
	assert_false(m[0].flags & DET_M_ALERT);
	/* a small array keeps the first matches in order and counts the rest */
	p = tdet_pkt(IPPROTO_UDP, 9, "x", 1);
	assert_int_equal(det_scan_packet(t.w, &p, m, 2), 2);
	assert_int_equal(det_engine_rule_info(t.e, m[0].rule)->sid, 4);
	assert_int_equal(det_worker_stats(t.w)->truncated, 3);
	tdet_close(&t);
}

/* Scan the same packet at times t (seconds); return the DET_M_ALERT bits and action count. */
static void
thresh_run(struct tdet *t, const uint64_t *secs, unsigned n, const uint8_t *src, char *out)
{
	for (unsigned i = 0; i < n; i++) {
		struct det_pkt p = tdet_pkt(IPPROTO_UDP, 9, "x", 1);
		struct det_match m[4];
		int k;

		p.src = src;
		p.now_ns = secs[i] * 1000000000ULL;
		k = det_scan_packet(t->w, &p, m, 4);
		/* A: action and alert, a: action only, .: nothing */
		out[i] = k == 0 ? '.' : (m[0].flags & DET_M_ALERT) ? 'A' : 'a';
	}
	out[n] = '\0';
}

static void
test_thresholds(void **state)
{
	static const uint64_t ts[] = { 1, 2, 3, 4, 5, 12, 13, 14 };
	static const uint8_t other[16] = { 10, 9, 9, 9 };
	struct tdet t;
	char out[16];
	const char *kinds[] = {
		"threshold:type limit, track by_src, count 2, seconds 10;",
		"threshold:type threshold, track by_src, count 2, seconds 10;",
		"threshold:type both, track by_src, count 2, seconds 10;",
		"detection_filter:track by_src, count 2, seconds 10;",
	};
	const char *want[] = { "AAaaaAAa", ".A.A..A.", ".Aaaa.Aa", "..AAA..A" };

	(void)state;
	for (unsigned k = 0; k < 4; k++) {
		char rule[256];

		snprintf(rule, sizeof(rule),
				"drop udp any any -> any any (content:\"x\"; %s sid:1;)", kinds[k]);
		tdet_open(&t, rule);
		thresh_run(&t, ts, 8, tdet_client, out);
		if (strcmp(out, want[k]) != 0)
			fail_msg("%s: got %s, want %s", kinds[k], out, want[k]);
		/* another source has its own count */
		thresh_run(&t, ts, 1, other, out);
		assert_string_equal(out, k == 0 ? "A" : ".");
		tdet_close(&t);
	}
	/* by_rule shares one count between sources */
	tdet_open(&t, "alert udp any any -> any any (content:\"x\"; "
		      "threshold:type limit, track by_rule, count 1, seconds 60; sid:1;)");
	thresh_run(&t, ts, 1, tdet_client, out);
	assert_string_equal(out, "A");
	thresh_run(&t, ts, 1, other, out);
	assert_string_equal(out, "a");
	tdet_close(&t);
}

static void
test_thresh_eviction(void **state)
{
	struct det_compile_opts o;
	struct tdet t;
	uint8_t src[16] = { 10 };
	char out[4];
	static const uint64_t ts[] = { 1 };

	(void)state;
	det_compile_opts_default(&o);
	o.thresh_entries = 16;
	tdet_open_opts(&t,
			"alert udp any any -> any any (content:\"x\"; "
			"threshold:type limit, track by_src, count 1, seconds 60; sid:1;)",
			false, &o);
	/* 100 sources in a 16-entry table: old ones are evicted and counted, never crash */
	for (unsigned i = 0; i < 100; i++) {
		src[3] = (uint8_t)i;
		thresh_run(&t, ts, 1, src, out);
		assert_string_equal(out, "A");
	}
	assert_true(det_worker_stats(t.w)->thresh_evictions >= 84);
	tdet_close(&t);
}

/* ---- random rules: Hyperscan plan vs confirmation vs a brute-force reference ---- */

static uint32_t rng = 12345;

static uint32_t
rnd(uint32_t n)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 8) % n;
}

static bool
at(const uint8_t *b, int64_t pos, const struct det_content *c)
{
	for (uint32_t j = 0; j < c->len; j++) {
		uint8_t x = b[pos + j], y = c->pat[j];

		if ((c->flags & DET_C_NOCASE) && x >= 'A' && x <= 'Z')
			x |= 0x20;
		if ((c->flags & DET_C_NOCASE) && y >= 'A' && y <= 'Z')
			y |= 0x20;
		if (x != y)
			return false;
	}
	return true;
}

/*
 * Suricata's windows and its backtracking: another placement of a content is tried only when
 * the next keyword is relative to it (so a relative keyword after a negated one, relative to
 * the positive match before, does not move that match).
 */
static bool
ref(const struct det_rule *r, unsigned i, const uint8_t *b, int64_t len, int64_t prev)
{
	const struct det_content *c;
	int64_t lo, hi;

	if (i == r->n_items)
		return true;
	if (r->items[i].type != DET_ITEM_CONTENT)
		return ref(r, i + 1, b, len, prev); /* the isdataat:0 marker: len > 0 always */
	c = &r->items[i].c;
	if (r->items[i].relative) {
		int64_t d = (c->flags & DET_C_DISTANCE) ? c->distance : 0;

		lo = prev + d < 0 ? 0 : prev + d;
		hi = (c->flags & DET_C_WITHIN) ? prev + d + c->within : len;
	} else {
		lo = (c->flags & DET_C_OFFSET) ? c->offset : 0;
		hi = (c->flags & DET_C_DEPTH) ? lo + c->depth : len;
	}
	if (hi > len)
		hi = len;
	if (c->flags & DET_C_NEGATED) {
		for (int64_t p = lo; p + c->len <= hi; p++)
			if (at(b, p, c))
				return false;
		return ref(r, i + 1, b, len, prev);
	}
	for (int64_t p = lo; p + c->len <= hi; p++) {
		if (!at(b, p, c))
			continue;
		if (ref(r, i + 1, b, len, p + c->len))
			return true;
		if (i + 1 >= r->n_items || !r->items[i + 1].relative)
			return false;
	}
	return false;
}

static void
random_rule(char *buf, size_t n, uint32_t sid, bool force_confirm)
{
	static const char alpha[] = "abcAB";
	unsigned items = 1 + rnd(4), off = 0;

	off += (unsigned)snprintf(buf + off, n - off, "alert udp any any -> any any (");
	for (unsigned i = 0; i < items; i++) {
		unsigned len = 1 + rnd(3);
		char pat[4] = { 0 };
		bool neg = rnd(5) == 0;

		for (unsigned j = 0; j < len; j++)
			pat[j] = alpha[rnd(3)];
		off += (unsigned)snprintf(
				buf + off, n - off, "content:%s\"%s\"; ", neg ? "!" : "", pat);
		if (rnd(3) == 0)
			off += (unsigned)snprintf(buf + off, n - off, "nocase; ");
		if (i > 0 && rnd(3) != 0) {
			/* relative */
			if (rnd(2))
				off += (unsigned)snprintf(buf + off, n - off, "distance:%d; ",
						(int)rnd(7) - 2);
			if (rnd(2))
				off += (unsigned)snprintf(
						buf + off, n - off, "within:%u; ", len + rnd(5));
		} else {
			if (rnd(2))
				off += (unsigned)snprintf(
						buf + off, n - off, "offset:%u; ", rnd(5));
			if (rnd(2))
				off += (unsigned)snprintf(
						buf + off, n - off, "depth:%u; ", len + rnd(6));
		}
	}
	if (force_confirm)
		off += (unsigned)snprintf(buf + off, n - off, "isdataat:0; ");
	snprintf(buf + off, n - off, "sid:%u;)\n", sid);
}

static void
test_random_differential(void **state)
{
	enum { RULES = 400, PAYLOADS = 500 };
	char *text[2];
	size_t cap = RULES * 256;
	struct tdet t[2];
	unsigned checked = 0, hits = 0;

	(void)state;
	for (int k = 0; k < 2; k++) {
		size_t off = 0;

		text[k] = malloc(cap);
		assert_non_null(text[k]);
		rng = 777;
		for (uint32_t s = 1; s <= RULES; s++) {
			random_rule(text[k] + off, cap - off, s, k == 1);
			off += strlen(text[k] + off);
		}
		tdet_open_opts(&t[k], text[k], true, NULL);
		/* the generator makes some impossible windows; both sets reject the same ones */
		if (k == 1)
			assert_int_equal(t[1].rep.loaded, t[0].rep.loaded);
		free(text[k]);
	}
	assert_true(t[0].rep.loaded > RULES / 2);
	assert_true(t[0].crep.exact > RULES / 3);
	assert_int_equal(t[1].crep.exact, 0);

	rng = 4242;
	for (unsigned i = 0; i < PAYLOADS; i++) {
		static const char alpha[] = "abcAB";
		uint8_t pl[24];
		uint32_t len = 1 + rnd(20);
		bool got[2][RULES + 1];

		for (uint32_t j = 0; j < len; j++)
			pl[j] = (uint8_t)alpha[rnd(5)];
		for (int k = 0; k < 2; k++) {
			struct det_pkt p = tdet_pkt(IPPROTO_UDP, 9, pl, len);
			struct det_match m[RULES];
			int n = det_scan_packet(t[k].w, &p, m, RULES);

			memset(got[k], 0, sizeof(got[k]));
			for (int j = 0; j < n; j++)
				got[k][det_engine_rule_info(t[k].e, m[j].rule)->sid] = true;
		}
		for (unsigned r = 0; r < det_engine_rule_count(t[0].e); r++) {
			const struct det_rule *rule = det_engine_rule(t[0].e, r);
			uint32_t sid = rule->info.sid;
			bool want = ref(rule, 0, pl, len, 0);

			if (got[0][sid] != want || got[1][sid] != want)
				fail_msg("sid %u on \"%.*s\": reference %d, hyperscan plan %d, "
					 "confirmation %d: %s",
						sid, (int)len, pl, want, got[0][sid], got[1][sid],
						rule->text);
			checked++;
			hits += want;
		}
	}
	/* the cases exercise both answers */
	assert_true(hits > checked / 50);
	assert_true(hits < checked / 2);
	tdet_close(&t[0]);
	tdet_close(&t[1]);
}

/* det_confirm on its own, with a stream base. */
static void
test_inspect_stream_base(void **state)
{
	struct tdet t;
	struct det_confirm_ctx c;
	const struct det_rule *r1, *r2;

	(void)state;
	tdet_open(&t, "alert udp any any -> any any (content:\"abc\"; offset:10; depth:5; sid:1;)\n"
		      "alert udp any any -> any any (pcre:\"/^x/\"; sid:2;)\n");
	r1 = det_engine_rule(t.e, 0);
	r2 = det_engine_rule(t.e, 1);
	assert_int_equal(det_confirm_ctx_init(&c), 0);
	/* the buffer starts at stream offset 8: abc is at stream offset 10, in the window */
	assert_true(det_confirm(r1, (const uint8_t *)"zzabc", 5, 8, &c, NULL));
	assert_false(det_confirm(r1, (const uint8_t *)"zzabc", 5, 0, &c, NULL));
	assert_false(det_confirm(r1, (const uint8_t *)"zzabc", 5, 20, &c, NULL));
	/* with base > 0, ^ does not match at the buffer start */
	assert_true(det_confirm(r2, (const uint8_t *)"xy", 2, 0, &c, NULL));
	assert_false(det_confirm(r2, (const uint8_t *)"xy", 2, 8, &c, NULL));
	det_confirm_ctx_free(&c);
	tdet_close(&t);
}

/*
 * IP-only rules (address lists, as the reputation files of public sets hold thousands of) are
 * looked up by address on a direction's first packet. The index must give what checking each
 * rule's sets would: a random set of rules with single addresses, ranges, bidirectional rules,
 * IPv6 and 'any' sides, against random packets, compared with det_ipset_has() on each rule.
 */
static void
test_ip_only_index(void **state)
{
	enum { N_RULES = 300, N_PKTS = 3000 };
	static char text[N_RULES * 160];
	unsigned seed = 4242;
	size_t off = 0;

	(void)state;
#define RND() (seed = seed * 1103515245u + 12345u, (seed >> 8))
	for (unsigned i = 0; i < N_RULES; i++) {
		unsigned a = RND() % 64, b = RND() % 64, kind = RND() % 6;
		char side[64];

		if (kind == 0)
			snprintf(side, sizeof(side), "[198.51.100.%u,203.0.113.%u]", a, b);
		else if (kind == 1)
			snprintf(side, sizeof(side), "198.51.100.%u-198.51.100.%u", a < b ? a : b,
					a < b ? b : a);
		else if (kind == 2)
			snprintf(side, sizeof(side), "198.51.100.0/%u", 26 + a % 6);
		else if (kind == 3)
			snprintf(side, sizeof(side), "[198.51.100.%u,2001:db8::%x]", a, b);
		else
			snprintf(side, sizeof(side), "198.51.100.%u", a);
		bool dst_side = RND() % 2, bidir = kind == 5;
		off += (size_t)snprintf(text + off, sizeof(text) - off,
				"alert ip %s any %s %s any (msg:\"r%u\"; sid:%u;)\n",
				dst_side ? "$HOME_NET" : side, bidir ? "<>" : "->",
				dst_side ? side : (kind == 4 ? "any" : "$HOME_NET"), i, 1000 + i);
	}
	struct tdet t;

	tdet_open(&t, text);
	for (unsigned k = 0; k < N_PKTS; k++) {
		uint8_t src[16] = { 0 }, dst[16] = { 0 };
		bool rev = RND() % 2;
		uint8_t *out = rev ? dst : src, *in = rev ? src : dst;

		out[0] = 198, out[1] = 51, out[2] = 100, out[3] = (uint8_t)(RND() % 70);
		in[0] = 10, in[1] = 0, in[2] = 0, in[3] = (uint8_t)(1 + RND() % 9);
		struct det_pkt p = tdet_pkt(IPPROTO_UDP, 53, "x", 1);
		struct det_match m[N_RULES];

		p.src = src;
		p.dst = dst;
		p.flags |= DET_PKT_FIRST;
		int n = det_scan_packet(t.w, &p, m, N_RULES);
		bool got[N_RULES] = { false };

		for (int i = 0; i < n; i++)
			got[det_engine_rule_info(t.e, m[i].rule)->sid - 1000] = true;
		for (unsigned i = 0; i < det_engine_rule_count(t.e); i++) {
			const struct det_rule *r = det_engine_rule(t.e, i);
			bool want = (det_ipset_has(&r->src, 4, src) &&
						    det_ipset_has(&r->dst, 4, dst)) ||
				    (r->bidir && det_ipset_has(&r->src, 4, dst) &&
						    det_ipset_has(&r->dst, 4, src));

			if (want != got[r->info.sid - 1000])
				fail_msg("packet %u: rule %u (%s) %s", k, r->info.sid, r->text,
						want ? "missed" : "matched wrongly");
		}
		/* after the first packet of the direction, IP-only rules stay quiet */
		p.flags &= (uint8_t)~DET_PKT_FIRST;
		assert_int_equal(det_scan_packet(t.w, &p, m, N_RULES), 0);
	}
#undef RND
	tdet_close(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_only_index),
		cmocka_unit_test(test_content_basic),
		cmocka_unit_test(test_offset_depth),
		cmocka_unit_test(test_distance_within),
		cmocka_unit_test(test_negation),
		cmocka_unit_test(test_pcre),
		cmocka_unit_test(test_isdataat),
		cmocka_unit_test(test_byte_test_jump),
		cmocka_unit_test(test_dsize),
		cmocka_unit_test(test_flow_and_flags),
		cmocka_unit_test(test_addresses_and_ports),
		cmocka_unit_test(test_ip_only_and_protocols),
		cmocka_unit_test(test_port_rules_per_packet),
		cmocka_unit_test(test_flowbits),
		cmocka_unit_test(test_flowint),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_action_order),
		cmocka_unit_test(test_thresholds),
		cmocka_unit_test(test_thresh_eviction),
		cmocka_unit_test(test_random_differential),
		cmocka_unit_test(test_inspect_stream_base),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
