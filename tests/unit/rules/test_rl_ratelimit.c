/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Token buckets (rl_tb_*) on an exact clock, and the per-source table (rl_src_*): one bucket
 * per (rule, family, address), a full table reusing its least recently used entry, stale and
 * live reuses counted apart.
 */
#define VG_TEST_WITH_EAL
#include "vg_test.h"

#include <rte_errno.h>

#include "rl_ratelimit.h"

#define MS (RL_NS_PER_S / 1000)
#define T0 (1000 * RL_NS_PER_S)

static struct rl_tb_params
params(enum rl_rate_unit unit, uint64_t rate, uint64_t burst, unsigned share)
{
	struct rl_rate r = { .unit = unit, .per = RL_PER_RULE, .rate = rate, .burst = burst };
	struct rl_tb_params tp;

	assert_int_equal(rl_tb_params_init(&tp, &r, share), 0);
	return tp;
}

static void
test_params(void **state)
{
	struct rl_rate r = { .unit = RL_RATE_PPS, .rate = 10, .burst = 5 };
	struct rl_tb_params tp;

	(void)state;
	tp = params(RL_RATE_PPS, 10, 5, 1);
	assert_false(tp.bits);
	assert_int_equal(tp.rate, 10);
	assert_int_equal(tp.cap, 5 * RL_NS_PER_S);
	assert_int_equal(tp.fill_ns, 500 * MS + 1);

	/* Four workers share the rate and the burst; each keeps at least 1. */
	tp = params(RL_RATE_PPS, 10, 5, 4);
	assert_int_equal(tp.rate, 2);
	assert_int_equal(tp.cap, 1 * RL_NS_PER_S);
	tp = params(RL_RATE_PPS, 3, 2, 8);
	assert_int_equal(tp.rate, 1);
	assert_int_equal(tp.cap, 1 * RL_NS_PER_S);
	/* share 0 is one taker. */
	tp = params(RL_RATE_PPS, 10, 5, 0);
	assert_int_equal(tp.rate, 10);

	/* Bits: the burst in bytes becomes bits. */
	tp = params(RL_RATE_BPS, 8000, 100, 1);
	assert_true(tp.bits);
	assert_int_equal(tp.cap, 800 * RL_NS_PER_S);
	assert_int_equal(tp.fill_ns, 100 * MS + 1);

	r.rate = 0;
	assert_int_equal(rl_tb_params_init(&tp, &r, 1), -EINVAL);
	r.rate = 10;
	r.burst = 0;
	assert_int_equal(rl_tb_params_init(&tp, &r, 1), -EINVAL);
}

static void
test_bucket_pps(void **state)
{
	struct rl_tb_params tp = params(RL_RATE_PPS, 10, 5, 1);
	struct rl_tb b;
	unsigned pass = 0;

	(void)state;
	rl_tb_reset(&b, &tp, T0);
	/* The burst goes through at once, then nothing. */
	for (int i = 0; i < 20; i++)
		pass += rl_tb_take(&b, &tp, T0, 1500);
	assert_int_equal(pass, 5);
	/* 99 ms give 0.99 of a token: still nothing. */
	assert_false(rl_tb_take(&b, &tp, T0 + 99 * MS, 64));
	/* 100 ms give one: one packet, not two. */
	assert_true(rl_tb_take(&b, &tp, T0 + 100 * MS, 64));
	assert_false(rl_tb_take(&b, &tp, T0 + 100 * MS, 64));
	/* 0.99 token kept from before + 0.01: the 99 ms above were not lost. */
	assert_false(rl_tb_take(&b, &tp, T0 + 199 * MS, 64));
	assert_true(rl_tb_take(&b, &tp, T0 + 200 * MS, 64));
	assert_false(rl_tb_take(&b, &tp, T0 + 200 * MS, 64));

	/* Time going backwards refills nothing and does not move the bucket's clock. */
	assert_false(rl_tb_take(&b, &tp, T0, 64));
	assert_int_equal(b.last_ns, T0 + 200 * MS);
	assert_true(rl_tb_take(&b, &tp, T0 + 300 * MS, 64));

	/* A long pause refills to the burst and no further. */
	pass = 0;
	for (int i = 0; i < 20; i++)
		pass += rl_tb_take(&b, &tp, T0 + 3600 * RL_NS_PER_S, 64);
	assert_int_equal(pass, 5);

	/* Over 10 s at one packet each millisecond: the burst plus 10 per second. */
	rl_tb_reset(&b, &tp, T0);
	pass = 0;
	for (uint64_t t = 0; t < 10000; t++)
		pass += rl_tb_take(&b, &tp, T0 + t * MS, 64);
	assert_int_equal(pass, 5 + 100 - 1); /* t runs to 9.999 s: 99 refills, + the burst */
}

static void
test_bucket_bps(void **state)
{
	/* 8000 bit/s = 1000 bytes/s, burst 100 bytes. */
	struct rl_tb_params tp = params(RL_RATE_BPS, 8000, 100, 1);
	struct rl_tb b;

	(void)state;
	rl_tb_reset(&b, &tp, T0);
	assert_true(rl_tb_take(&b, &tp, T0, 60));
	assert_false(rl_tb_take(&b, &tp, T0, 41)); /* 40 bytes left */
	assert_true(rl_tb_take(&b, &tp, T0, 40));
	assert_false(rl_tb_take(&b, &tp, T0, 1));
	/* 1 ms is one byte. */
	assert_true(rl_tb_take(&b, &tp, T0 + 1 * MS, 1));
	assert_false(rl_tb_take(&b, &tp, T0 + 1 * MS, 1));
	/* A packet larger than the burst never passes. */
	assert_false(rl_tb_take(&b, &tp, T0 + 3600 * RL_NS_PER_S, 101));
	assert_true(rl_tb_take(&b, &tp, T0 + 3600 * RL_NS_PER_S, 100));
}

static void
test_src_separate(void **state)
{
	struct rl_tb_params tp = params(RL_RATE_PPS, 1, 2, 1);
	struct rl_src_table *t = rl_src_table_create("test_rl_sep", 64, 0);
	const uint8_t a[16] = { 10, 0, 0, 1 }, b[16] = { 10, 0, 0, 2 };
	struct rl_src_stats st;

	(void)state;
	assert_non_null(t);
	assert_true(rl_src_take(t, 1, &tp, 4, a, T0, 64));
	assert_true(rl_src_take(t, 1, &tp, 4, a, T0, 64));
	assert_false(rl_src_take(t, 1, &tp, 4, a, T0, 64));
	/* Another source, another rule, the same 4 bytes as IPv6: buckets of their own. */
	assert_true(rl_src_take(t, 1, &tp, 4, b, T0, 64));
	assert_true(rl_src_take(t, 2, &tp, 4, a, T0, 64));
	assert_true(rl_src_take(t, 1, &tp, 6, a, T0, 64));
	/* IPv4 reads addr[0..3] only. */
	const uint8_t a2[16] = { 10, 0, 0, 1, 0xff, 0xff };
	assert_false(rl_src_take(t, 1, &tp, 4, a2, T0, 64));
	/* The limited source refills at its rate. */
	assert_false(rl_src_take(t, 1, &tp, 4, a, T0 + 999 * MS, 64));
	assert_true(rl_src_take(t, 1, &tp, 4, a, T0 + 1000 * MS, 64));
	assert_false(rl_src_take(t, 1, &tp, 4, a, T0 + 1000 * MS, 64));

	rl_src_table_stats(t, &st);
	assert_int_equal(st.inserts, 4);
	assert_int_equal(st.entries, 4);
	assert_int_equal(st.capacity, 64);
	assert_int_equal(st.reused_stale + st.evicted_live, 0);
	rl_src_table_free(t);
	rl_src_table_free(NULL);
}

static void
addr_of(uint8_t a[16], uint32_t i)
{
	memset(a, 0, 16);
	a[0] = 192;
	a[1] = 168;
	a[2] = (uint8_t)(i >> 8);
	a[3] = (uint8_t)i;
}

static void
test_src_full(void **state)
{
	/* 1 packet per second, burst 1: a source is limited for 1 s after each packet. */
	struct rl_tb_params tp = params(RL_RATE_PPS, 1, 1, 1);
	struct rl_src_table *t = rl_src_table_create("test_rl_full", 8, 0);
	struct rl_src_stats st;
	uint8_t a[16];

	(void)state;
	assert_non_null(t);
	/* Eight sources fill the table; each is within its rate once, then limited. */
	for (uint32_t i = 0; i < 8; i++) {
		addr_of(a, i);
		assert_true(rl_src_take(t, 1, &tp, 4, a, T0 + i * MS, 64));
		assert_false(rl_src_take(t, 1, &tp, 4, a, T0 + i * MS, 64));
	}
	rl_src_table_stats(t, &st);
	assert_int_equal(st.entries, 8);
	assert_int_equal(st.capacity, 8);
	assert_int_equal(st.inserts, 8);

	/*
	 * A ninth while all eight are still limiting: the least recently used (source 0) makes
	 * room, counted as a live eviction; the newcomer gets a full bucket.
	 */
	addr_of(a, 8);
	assert_true(rl_src_take(t, 1, &tp, 4, a, T0 + 8 * MS, 64));
	rl_src_table_stats(t, &st);
	assert_int_equal(st.entries, 8);
	assert_int_equal(st.inserts, 9);
	assert_int_equal(st.evicted_live, 1);
	assert_int_equal(st.reused_stale, 0);
	/* Source 1 is still tracked (and still limited); source 0 was forgotten. */
	addr_of(a, 1);
	assert_false(rl_src_take(t, 1, &tp, 4, a, T0 + 9 * MS, 64));
	rl_src_table_stats(t, &st);
	assert_int_equal(st.inserts, 9);

	/* Ten seconds later every bucket has refilled: a newcomer's reuse is stale. */
	addr_of(a, 100);
	assert_true(rl_src_take(t, 1, &tp, 4, a, T0 + 10 * RL_NS_PER_S, 64));
	rl_src_table_stats(t, &st);
	assert_int_equal(st.entries, 8);
	assert_int_equal(st.inserts, 10);
	assert_int_equal(st.evicted_live, 1);
	assert_int_equal(st.reused_stale, 1);

	/* Many more sources: the table never holds more than its capacity. */
	for (uint32_t i = 200; i < 1200; i++) {
		addr_of(a, i);
		assert_true(rl_src_take(t, 1, &tp, 4, a, T0 + 20 * RL_NS_PER_S + i * MS, 64));
	}
	rl_src_table_stats(t, &st);
	assert_int_equal(st.entries, 8);
	assert_int_equal(st.inserts, 1010);
	assert_int_equal(st.evicted_live + st.reused_stale, 1010 - 8);
	rl_src_table_free(t);
}

static void
test_src_create(void **state)
{
	struct rl_src_table *t = rl_src_table_create("test_rl_small", 1, 0);
	struct rl_src_stats st;

	(void)state;
	/* At least 8 entries. */
	assert_non_null(t);
	rl_src_table_stats(t, &st);
	assert_int_equal(st.capacity, 8);
	/* Names are global: a second table of the same name is refused. */
	assert_null(rl_src_table_create("test_rl_small", 16, 0));
	rl_src_table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_bucket_pps),
		cmocka_unit_test(test_bucket_bps),
		cmocka_unit_test(test_src_separate),
		cmocka_unit_test(test_src_full),
		cmocka_unit_test(test_src_create),
	};

	if (vg_test_eal_init() != 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
