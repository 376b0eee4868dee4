/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcres without a literal: which pcres have one (det_regex_literal_len), how rules with and
 * without are planned, the prefilter keyword, and a differential test: the same rules and
 * payloads with literal-less pcres in Hyperscan (pcre_scan_all) and in PCRE2 must match alike.
 */
#include "det_test.h"

#include "det_regex.h"
#include "det_rule.h"

static void
test_literal_len(void **state)
{
	static const struct {
		const char *expr;
		uint32_t flags;
		unsigned want;
	} cases[] = {
		/* the shipped sid 9000300 */
		{ "[\\x32-\\x3f][A-Za-z0-9_\\-]{50}", 0, 0 },
		{ "abc", 0, 3 },
		{ "abc", DET_P_CASELESS, 3 },
		{ "abc", DET_P_EXTENDED, 0 }, /* not followed: spaces are not literals */
		{ "ab?c", 0, 1 },
		{ "abcd?ef", 0, 3 },
		{ "ab+cd", 0, 2 },
		{ "a{2}bc", 0, 2 },
		{ "xa{0,3}bcd", 0, 3 },
		{ "x{a}yz", 0, 6 }, /* '{' that is no quantifier is a literal */
		{ "\\x2e\\x2e\\x2f", 0, 3 },
		{ "\\x{41}\\x{42}\\x{43}", 0, 3 },
		{ "\\/etc\\/passwd", 0, 11 },
		{ "\\d{3}-\\d{4}", 0, 1 },
		{ "[a-z]+\\.(exe|dll)", 0, 3 }, /* ".", then a group of two three-byte literals */
		{ "[a-z]+\\.(exe|js)", 0, 2 },
		{ "(foo|bar)?[0-9]+", 0, 0 },
		{ "foo|barbaz", 0, 3 },
		{ "foo|[0-9]", 0, 0 },
		{ "(?:login|user)=[^&]{100}", 0, 4 },
		{ "(?i)select.+from", 0, 6 },
		{ "(?x) s e l e c t", 0, 0 },
		{ "(?=abcd)[a-z]{4}", 0, 0 },
		{ "(?<name>abc)d", 0, 3 },
		{ "ab(?R)cd", 0, 0 },
		{ "\\Qabc\\E", 0, 0 },
		{ "ab\\bcd", 0, 2 },
		{ "^GET [^ ]{200}", 0, 4 },
		{ "[]abc]xyz", 0, 3 },
		{ "[[:alpha:]]{3}abc", 0, 3 },
		{ "(abc", 0, 0 },
		{ "abc)", 0, 0 },
		{ "", 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned got = det_regex_literal_len(cases[i].expr, cases[i].flags);

		if (got != cases[i].want)
			fail_msg("/%s/: literal of %u bytes, want %u", cases[i].expr, got,
					cases[i].want);
	}
}

#define DNS_RULE                                                       \
	"alert udp any any -> any 53 (msg:\"long label\"; dsize:>80; " \
	"pcre:\"/[\\x32-\\x3f][A-Za-z0-9_\\-]{50}/\"; sid:9000300;)"

static void
test_plan(void **state)
{
	struct det_compile_opts o;
	struct tdet t;

	(void)state;
	/* literal-less: checked per packet after its header checks, not in Hyperscan */
	tdet_open(&t, DNS_RULE);
	assert_int_equal(t.crep.unfiltered, 1);
	assert_int_equal(t.crep.exact, 0);
	assert_int_equal(t.crep.pcre_hs, 0);
	assert_int_equal(t.crep.pcre_literalless, 1);
	assert_int_equal(t.crep.patterns, 0);
	tdet_close(&t);

	/* as before, on request */
	det_compile_opts_default(&o);
	o.pcre_scan_all = true;
	tdet_open_opts(&t, DNS_RULE, false, &o);
	assert_int_equal(t.crep.exact, 1);
	assert_int_equal(t.crep.pcre_hs, 1);
	assert_int_equal(t.crep.pcre_literalless, 0);
	tdet_close(&t);

	/* prefilter after the pcre keeps it in Hyperscan */
	tdet_open(&t, "alert udp any any -> any 53 (pcre:\"/[0-9]{8}/\"; prefilter; sid:1;)");
	assert_int_equal(t.crep.exact, 1);
	assert_int_equal(t.crep.pcre_literalless, 0);
	tdet_close(&t);

	/* a literal: Hyperscan as before */
	tdet_open(&t, "alert udp any any -> any 53 (pcre:\"/evil[0-9]{8}/\"; sid:1;)");
	assert_int_equal(t.crep.exact, 1);
	assert_int_equal(t.crep.pcre_hs, 1);
	tdet_close(&t);

	/* a content and a literal-less pcre: the content prefilters, PCRE2 confirms */
	tdet_open(&t, "alert udp any any -> any 53 (content:\"id=\"; pcre:\"/[0-9]{8}/\"; sid:1;)");
	assert_int_equal(t.crep.confirm, 1);
	assert_int_equal(t.crep.pcre_hs, 0);
	assert_int_equal(t.crep.exact, 0);
	tdet_close(&t);

	/* TCP stream rules keep it in Hyperscan: the database follows matches across segments */
	tdet_open(&t, "alert tcp any any -> any 80 (pcre:\"/[0-9]{8}/\"; sid:1;)");
	assert_int_equal(t.crep.exact, 1);
	assert_int_equal(t.crep.pcre_literalless, 0);
	tdet_close(&t);
}

/* A DNS query (over 80 bytes) for bbbbbbbbbbbbbbbbbbbb.<label>.com whose label has n characters. */
static size_t
dns_query(uint8_t *q, unsigned n)
{
	static const uint8_t hdr[12] = { 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
	size_t len = sizeof(hdr);

	memcpy(q, hdr, sizeof(hdr));
	q[len++] = 20;
	memset(q + len, 'b', 20);
	len += 20;
	q[len++] = (uint8_t)n;
	memset(q + len, 'a', n);
	len += n;
	memcpy(q + len,
			"\x03"
			"com\x00\x00\x01\x00\x01",
			9);
	return len + 9;
}

static bool
dns_fires(struct tdet *t, const uint8_t *q, size_t len)
{
	struct det_pkt p = tdet_pkt(IPPROTO_UDP, 53, q, len);
	uint32_t sids[8];
	int n = tdet_scan(t, &p, sids, 8);

	return n == 1 && sids[0] == 9000300;
}

static void
test_dns_rule_matches(void **state)
{
	uint8_t q[128];
	struct tdet t;

	(void)state;
	tdet_open(&t, DNS_RULE);
	assert_true(dns_fires(&t, q, dns_query(q, 50)));
	assert_true(dns_fires(&t, q, dns_query(q, 63)));
	assert_false(dns_fires(&t, q, dns_query(q, 49)));
	tdet_close(&t);
}

static void
test_prefilter_keyword(void **state)
{
	struct det_load_opts o;
	struct det_load_report rep;
	struct det_vars *vars = det_vars_create();
	struct det_set *set;
	struct vg_diag d;
	struct tdet t;
	static const struct {
		const char *rule;
		const char *msg; /* part of the error */
	} bad[] = {
		{ "alert udp any any -> any any (prefilter; content:\"a\"; sid:1;)",
				"the start of the options" },
		{ "alert udp any any -> any any (msg:\"x\"; prefilter; content:\"a\"; sid:1;)",
				"not 'msg'" },
		{ "alert udp any any -> any any (content:\"abc\"; fast_pattern; content:\"d\"; "
		  "prefilter; sid:1;)",
				"prefilter and fast_pattern" },
	};

	(void)state;
	/* after a content: fast_pattern (the second content becomes the prefilter) */
	tdet_open(&t, "alert udp any any -> any any (content:\"abcdef\"; content:\"xy\"; "
		      "prefilter; sid:1;)");
	assert_true(det_engine_rule(t.e, 0)->items[1].c.flags & DET_C_FAST_PATTERN);
	assert_false(det_engine_rule(t.e, 0)->items[0].c.flags & DET_C_FAST_PATTERN);
	assert_true(tdet_udp_has(&t, 1, "..abcdef..xy"));
	assert_false(tdet_udp_has(&t, 1, "..abcdef.."));
	tdet_close(&t);
	/* after a header keyword: accepted, the same matches */
	tdet_open(&t, "alert udp any any -> any any (dsize:>3; prefilter; content:\"ab\"; sid:1;)");
	assert_true(tdet_udp_has(&t, 1, "xxab"));
	assert_false(tdet_udp_has(&t, 1, "ab"));
	tdet_close(&t);

	assert_non_null(vars);
	assert_int_equal(det_vars_set_defaults(vars), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		det_load_opts_default(&o);
		o.vars = vars;
		vg_diag_init(&d);
		set = det_load_buf("t.rules", bad[i].rule, strlen(bad[i].rule), &o, &rep, &d);
		assert_non_null(set);
		assert_int_equal(rep.rejected, 1);
		assert_non_null(rep.rejects);
		if (strstr(rep.rejects[0].msg, bad[i].msg) == NULL)
			fail_msg("%s: '%s' does not say '%s'", bad[i].rule, rep.rejects[0].msg,
					bad[i].msg);
		det_set_free(set);
		det_load_report_free(&rep);
		vg_diag_free(&d);
	}
	det_vars_free(vars);
}

/* ---- differential: literal-less pcres in Hyperscan and in PCRE2 agree ---- */

static const char diff_rules[] = DNS_RULE
		"\n"
		"alert udp any any -> any any (pcre:\"/[0-9]{4}[a-f]{2}/\"; sid:2;)\n"
		"alert udp any any -> any any (content:\"ab\"; pcre:\"/[0-9]{3}x?[A-Z]{2}/\"; sid:3;)\n"
		"alert udp any any -> any any (pcre:\"/^[a-z]{5}/\"; sid:4;)\n"
		"alert udp any any -> any any (pcre:\"/[a-z]\\.[0-9]{2,}$/\"; sid:5;)\n"
		"alert udp any any -> any any (content:\"b\"; pcre:!\"/[a-c]{3}/\"; sid:6;)\n"
		"alert udp any any -> any any (pcre:\"/(a|b)[0-9]{3}/i\"; sid:7;)\n"
		"alert udp any any -> any any (pcre:\"/abc[0-9]+/\"; sid:8;)\n"
		"alert udp any any -> any any (dsize:<100; pcre:\"/[\\x32-\\x3f][a-z]{3}/\"; sid:9;)\n"
		"alert udp any any -> any any (pcre:\"/\\x00[a-z]{2,4}\\x00/\"; sid:10;)\n"
		"alert udp any any -> any any (pcre:\"/[a-z]{3}/\"; pcre:\"/[0-9]{3}/\"; sid:11;)\n"
		"alert udp any any -> any 53 (flowbits:set,seen; pcre:\"/[A-Z]{4}/\"; sid:12;)\n"
		"alert udp any any -> any 53 (flowbits:isset,seen; pcre:\"/[0-9]{5}/\"; sid:13;)\n"
		"alert udp any any -> any any (pcre:\"/[a-z][0-9][a-z][0-9]/s\"; content:\"9\"; "
		"sid:14;)\n";

static uint32_t rng = 2026;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* The sids that match, as a bit mask over sid % 64. */
static uint64_t
sid_mask(struct tdet *t, const struct det_pkt *p, uint64_t *fb)
{
	uint32_t sids[64];
	struct det_pkt q = *p;
	int n;
	uint64_t m = 0;

	q.flowbits = fb;
	n = tdet_scan(t, &q, sids, 64);
	for (int i = 0; i < n; i++)
		m |= 1ull << (sids[i] % 64);
	return m;
}

static void
test_differential(void **state)
{
	static const char alpha[] = "abcdefABCDEFxyz0123456789.-_\x32\x35\x3f\x00\n";
	struct det_compile_opts o;
	struct tdet hs, pc;
	uint8_t buf[400];
	unsigned fired[64] = { 0 }, n_sids = 0;

	(void)state;
	det_compile_opts_default(&o);
	o.pcre_scan_all = true;
	tdet_open_opts(&hs, diff_rules, false, &o);
	tdet_open(&pc, diff_rules);
	/* the literal-less ones moved out of Hyperscan; sid 8 has a literal and stays */
	assert_true(hs.crep.pcre_hs >= 10);
	assert_int_equal(pc.crep.pcre_hs, 1);
	assert_true(pc.crep.pcre_literalless >= 10);
	for (unsigned i = 0; i < 4000; i++) {
		uint32_t len = rnd() % sizeof(buf), run = rnd() % 4;
		uint64_t fb_hs[4] = { 0 }, fb_pc[4] = { 0 };
		struct det_pkt p;
		uint64_t a, b;

		for (uint32_t k = 0; k < len; k++)
			buf[k] = (uint8_t)alpha[rnd() % (sizeof(alpha) - 1)];
		/* long runs of name characters, as long labels */
		if (run > 0 && len > 70) {
			uint32_t at = rnd() % (len - 60);

			buf[at] = (uint8_t)(0x30 + rnd() % 16);
			for (uint32_t k = 1; k < 45 + rnd() % 15 && at + k < len; k++)
				buf[at + k] = (uint8_t)alpha[rnd() % 27];
		}
		p = tdet_pkt(IPPROTO_UDP, (rnd() & 1) ? 53 : 5353, buf, len);
		/* two packets of one flow: the first may set the bit the second tests */
		for (int pkt = 0; pkt < 2; pkt++) {
			a = sid_mask(&hs, &p, fb_hs);
			b = sid_mask(&pc, &p, fb_pc);
			if (a != b)
				fail_msg("payload %u (%u bytes, port %u), packet %d: Hyperscan %#llx, "
					 "PCRE2 %#llx",
						i, len, p.dport, pkt, (unsigned long long)a,
						(unsigned long long)b);
			for (unsigned s = 0; s < 64; s++)
				fired[s] += (a >> s) & 1;
			p.flags &= (uint8_t)~DET_PKT_FIRST;
		}
	}
	/* a comparison that never matches proves nothing: most rules must have fired */
	for (unsigned s = 1; s <= 14; s++)
		n_sids += fired[s] > 0;
	if (n_sids < 12)
		fail_msg("only %u of 14 rules matched at all", n_sids);
	assert_true(fired[9000300 % 64] > 0);
	tdet_close(&hs);
	tdet_close(&pc);
}

/* Patterns whose cost their length does not bound are named; the others are not. */
static void
test_unbounded(void **state)
{
	static const struct {
		const char *expr;
		int want; /* offset of the construct, -1: none */
	} cases[] = {
		{ "(a+)+(?1)$", 0 },
		{ "(a+)+$", 0 },
		{ "x(?:ab*c)*y", 1 },
		{ "((a|b)+)*", 0 },
		{ "(\\d{2,})+", 0 },
		{ "(?:[a-z]+\\.)+com", 0 },
		{ "(a*)*?b", 0 }, /* lazy repeats backtrack as much */
		{ "ab(?R)?", 2 },
		{ "(x)(?-1)", 3 },
		{ "(?<n>a)(?&n)", 7 },
		{ "a\\g<1>", 1 },
		{ "(a+)++b", -1 }, /* possessive: no backtracking into it */
		{ "(a+){3}", -1 },
		{ "(ab)+c+", -1 },
		{ "[(a+)+]x", -1 }, /* a class, not groups */
		{ "\\(a+\\)+", -1 },
		{ "(?i)(?:GET|POST) /[a-z]+", -1 },
		{ "(?#(a+)+)abc", -1 },
		{ "[\\x32-\\x3f][A-Za-z0-9_\\-]{50}", -1 },
		{ "^(a|b)*$", -1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned off = 0;
		const char *why = det_regex_unbounded(cases[i].expr, &off);
		int got = why != NULL ? (int)off : -1;

		if (got != cases[i].want)
			fail_msg("/%s/: %s at %d, want %d", cases[i].expr, why ? why : "bounded",
					got, cases[i].want);
	}
}

/*
 * The pattern: on a long run of 'a' without a match it backtracks exponentially. The
 * limits stop it (no match), the hit counts for its rule and in the worker's total; a short
 * input finishes under the limits and counts nothing; lower limits stop a pattern sooner.
 */
static void
test_limit_hits(void **state)
{
	static const char rules[] =
			"alert udp any any -> any any (msg:\"catastrophic\"; pcre:\"/(a+)+(?1)$/\"; "
			"sid:1;)\n"
			"alert udp any any -> any any (msg:\"bounded\"; pcre:\"/[a-z]{3}b/\"; sid:2;)\n";
	char run[64];
	uint32_t sids[8];
	struct det_pkt p;
	struct tdet t;

	(void)state;
	tdet_open(&t, rules);
	assert_int_equal(det_engine_counters_alloc(t.e, 1), 0);
	det_worker_set_index(t.w, 0);

	memset(run, 'a', sizeof(run));
	run[sizeof(run) - 1] = 'b';
	p = tdet_pkt(IPPROTO_UDP, 53, run, sizeof(run));
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1); /* only the bounded rule */
	assert_int_equal(sids[0], 2);
	assert_int_equal(det_worker_stats(t.w)->pcre_limit_hits, 1);
	assert_int_equal(det_engine_rule_limit_hits(t.e, 0), 1);
	assert_int_equal(det_engine_rule_limit_hits(t.e, 1), 0);

	/* "aaab": no match either, found within the limits: nothing counted */
	p = tdet_pkt(IPPROTO_UDP, 53, run + sizeof(run) - 4, 4);
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(det_worker_stats(t.w)->pcre_limit_hits, 1);
	/* and a match is a match */
	p = tdet_pkt(IPPROTO_UDP, 53, run, 20);
	assert_int_equal(tdet_scan(&t, &p, sids, 8), 1);
	assert_int_equal(sids[0], 1);
	assert_int_equal(det_worker_stats(t.w)->pcre_limit_hits, 1);
	tdet_close(&t);

	/* the limits are the engine's: a lower one stops an 8-byte run that 3500 lets finish */
	struct det_compile_opts o;

	det_compile_opts_default(&o);
	assert_int_equal(o.pcre_match_limit, 3500);
	assert_int_equal(o.pcre_depth_limit, 1500);
	tdet_open_opts(&t, rules, false, &o);
	p = tdet_pkt(IPPROTO_UDP, 53, run + sizeof(run) - 8, 8);
	tdet_scan(&t, &p, sids, 8);
	assert_int_equal(det_worker_stats(t.w)->pcre_limit_hits, 0);
	tdet_close(&t);
	o.pcre_match_limit = 100;
	tdet_open_opts(&t, rules, false, &o);
	tdet_scan(&t, &p, sids, 8);
	assert_int_equal(det_worker_stats(t.w)->pcre_limit_hits, 1);
	tdet_close(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal_len),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_dns_rule_matches),
		cmocka_unit_test(test_prefilter_keyword),
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_unbounded),
		cmocka_unit_test(test_limit_hits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
