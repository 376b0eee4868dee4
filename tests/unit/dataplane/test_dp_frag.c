/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fragment verdicts: a first fragment's datagram remembered with its flow, later fragments
 * finding it by (addresses, protocol, id, family), orphans, the short grace after the last
 * fragment, timeouts on lookup and by aging, a full table counted, and later fragments over bytes
 * an earlier fragment carried (overlaps) told from exact duplicates.
 */
#define VG_TEST_WITH_EAL
#include "vg_test.h"

#include "dp_frag.h"
#include "dp_parse.h"
#include "pkt_build.h"

#define MS	  1000000ULL
#define S	  (1000 * MS)
#define TIMEOUT	  (30 * S)
#define T0	  (100 * S)
#define UDP	  17
#define FRAG_DATA 1472 /* 8 bytes of UDP header + 1472: 1480, a multiple of 8 */

/* Fragment of the UDP datagram of IPv4 id at offset off (bytes), more fragments or not. */
static void
frag4(struct dp_pkt *p, uint16_t id, uint32_t off, int more, uint8_t src_last)
{
	struct pb b;

	pb_init(&b);
	pb_eth(&b, 0x0800);
	pb_ipv4(&b, UDP, NULL, 0);
	if (off == 0)
		pb_udp(&b, 5000, 53);
	pb_data(&b, off == 0 ? FRAG_DATA : 1480);
	pb_finish(&b);
	if (off == 0)
		pb_set16(&b, b.udp + 4, 3000); /* the datagram's length, not this fragment's */
	pb_set16(&b, b.l3 + 4, id);
	b.b[b.l3 + 15] = src_last;
	pb_ipv4_frag(&b, off, 0, more);
	pb_ipv4_cksum(&b);
	assert_int_equal(dp_parse(b.b, b.len, p, NULL), 0);
	assert_int_equal(p->frag, off == 0 ? DP_FRAG_FIRST : DP_FRAG_LATER);
	assert_int_equal(p->frag_id, id);
}

/* A later fragment of IPv4 id at offset off carrying len bytes of fill, built into b. */
static void
frag4_len(struct dp_pkt *p, struct pb *b, uint16_t id, uint32_t off, uint32_t len, int more,
		uint8_t fill)
{
	pb_init(b);
	pb_eth(b, 0x0800);
	pb_ipv4(b, UDP, NULL, 0);
	pb_fill(b, fill, len);
	pb_finish(b);
	pb_set16(b, b->l3 + 4, id);
	pb_ipv4_frag(b, off, 0, more);
	pb_ipv4_cksum(b);
	assert_int_equal(dp_parse(b->b, b->len, p, NULL), 0);
	assert_int_equal(p->frag, DP_FRAG_LATER);
}

static void
frag6(struct dp_pkt *p, uint32_t id, uint32_t off, int more)
{
	struct pb b;

	pb_init(&b);
	pb_eth(&b, 0x86dd);
	pb_ipv6(&b, 44);
	pb_frag6(&b, UDP, off, more, id);
	if (off == 0)
		pb_udp(&b, 5000, 53);
	pb_data(&b, off == 0 ? FRAG_DATA : 1480);
	pb_finish(&b);
	if (off == 0)
		pb_set16(&b, b.udp + 4, 3000);
	assert_int_equal(dp_parse(b.b, b.len, p, NULL), 0);
	assert_int_equal(p->frag, off == 0 ? DP_FRAG_FIRST : DP_FRAG_LATER);
	assert_int_equal(p->frag_id, id);
}

static void
test_match(void **state)
{
	struct dp_frag_table *t = dp_frag_table_create(1, 64, TIMEOUT, 0);
	const struct dp_frag_counters *c;
	struct dp_pkt first, later, p;
	int32_t pos = -1;
	uint32_t id = 0;
	bool ov = false;

	(void)state;
	assert_non_null(t);
	frag4(&first, 0x1234, 0, 1, 1);
	dp_frag_remember(t, &first, 42, 7, T0);
	frag4(&later, 0x1234, 1480, 1, 1);
	assert_true(dp_frag_find(t, &later, NULL, 0, &pos, &id, T0 + 1 * MS, &ov));
	assert_int_equal(pos, 42);
	assert_int_equal(id, 7);
	/* Again: the entry stays for the other fragments. */
	pos = -1;
	assert_true(dp_frag_find(t, &later, NULL, 0, &pos, &id, T0 + 2 * MS, &ov));
	assert_int_equal(pos, 42);

	/* Another id, another source, another protocol: orphans. */
	frag4(&p, 0x1235, 1480, 1, 1);
	assert_false(dp_frag_find(t, &p, NULL, 0, &pos, &id, T0, &ov));
	frag4(&p, 0x1234, 1480, 1, 9);
	assert_false(dp_frag_find(t, &p, NULL, 0, &pos, &id, T0, &ov));
	p = later;
	p.proto = 6;
	assert_false(dp_frag_find(t, &p, NULL, 0, &pos, &id, T0, &ov));

	/* IPv6 keeps its own datagrams, with its 32-bit ids. */
	frag6(&first, 0xabcd0001, 0, 1);
	dp_frag_remember(t, &first, 99, 8, T0);
	frag6(&p, 0xabcd0001, 1480, 1);
	assert_true(dp_frag_find(t, &p, NULL, 0, &pos, &id, T0, &ov));
	assert_int_equal(pos, 99);
	assert_int_equal(id, 8);
	frag6(&p, 0xabcd0002, 1480, 1);
	assert_false(dp_frag_find(t, &p, NULL, 0, &pos, &id, T0, &ov));

	c = dp_frag_counters(t);
	assert_int_equal(c->tracked, 2);
	assert_int_equal(c->matched, 3);
	assert_int_equal(c->orphans, 4);
	assert_int_equal(c->table_full, 0);
	assert_int_equal(c->expired, 0);
	dp_frag_table_free(t);
	dp_frag_table_free(NULL);
}

/*
 * Overlaps: the first fragment carries bytes [0, 1480), later ones are compared with it and
 * with each other; an exact repeat (same place, same bytes) is a duplicate, not an overlap,
 * but the same place with other bytes is; bytes next to each other are not an overlap.
 */
static void
test_overlap(void **state)
{
	struct dp_frag_table *t = dp_frag_table_create(3, 64, TIMEOUT, 0);
	const struct dp_frag_counters *c;
	struct dp_pkt first, p;
	struct pb b;
	int32_t pos;
	uint32_t id;
	bool ov = true;

#define FIND(pk) dp_frag_find(t, &(pk), b.b, b.len, &pos, &id, T0, &ov)
	(void)state;
	assert_non_null(t);
	c = dp_frag_counters(t);
	frag4(&first, 77, 0, 1, 1);
	dp_frag_remember(t, &first, 5, 6, T0);
	/* Right after the first: new bytes. */
	frag4_len(&p, &b, 77, 1480, 800, 1, 0x11);
	assert_true(FIND(p));
	assert_false(ov);
	/* The same again: a duplicate (a network repeating a packet), not an overlap. */
	assert_true(FIND(p));
	assert_false(ov);
	assert_int_equal(c->duplicates, 1);
	/* The same place with other bytes: the evasion, an overlap. */
	frag4_len(&p, &b, 77, 1480, 800, 1, 0x22);
	assert_true(FIND(p));
	assert_true(ov);
	/* Starting inside the first's bytes (past its L4 header): an overlap. */
	frag4_len(&p, &b, 77, 1400, 160, 1, 0x11);
	assert_true(FIND(p));
	assert_true(ov);
	/* Over the end of the second one only: an overlap. */
	frag4_len(&p, &b, 77, 2272, 80, 1, 0x11);
	assert_true(FIND(p));
	assert_true(ov);
	/* Right after it: new bytes again; the last fragment. */
	frag4_len(&p, &b, 77, 2280, 40, 0, 0x11);
	assert_true(FIND(p));
	assert_false(ov);
	assert_int_equal(c->overlaps, 3);
	assert_int_equal(c->duplicates, 1);
	assert_int_equal(c->matched, 6);
#undef FIND
	dp_frag_table_free(t);
}

static void
test_timeouts(void **state)
{
	struct dp_frag_table *t = dp_frag_table_create(2, 64, TIMEOUT, 0);
	const struct dp_frag_counters *c;
	struct dp_pkt first, mid, last;
	int32_t pos;
	uint32_t id;
	bool ov = false;

	(void)state;
	assert_non_null(t);
	c = dp_frag_counters(t);
	/* Found up to the timeout, not at it. */
	frag4(&first, 1, 0, 1, 1);
	frag4(&mid, 1, 1480, 1, 1);
	dp_frag_remember(t, &first, 1, 1, T0);
	assert_true(dp_frag_find(t, &mid, NULL, 0, &pos, &id, T0 + TIMEOUT - 1, &ov));
	assert_false(dp_frag_find(t, &mid, NULL, 0, &pos, &id, T0 + TIMEOUT, &ov));
	assert_int_equal(c->expired, 1);
	/* Forgotten: later still an orphan, not expired twice. */
	assert_false(dp_frag_find(t, &mid, NULL, 0, &pos, &id, T0 + TIMEOUT + 1, &ov));
	assert_int_equal(c->expired, 1);
	assert_int_equal(c->orphans, 2);

	/* After the last fragment, reordered middle ones have one second. */
	frag4(&first, 2, 0, 1, 1);
	frag4(&mid, 2, 1480, 1, 1);
	frag4(&last, 2, 2960, 0, 1);
	dp_frag_remember(t, &first, 2, 2, T0);
	assert_true(dp_frag_find(t, &last, NULL, 0, &pos, &id, T0 + 5 * S, &ov));
	assert_true(dp_frag_find(t, &mid, NULL, 0, &pos, &id, T0 + 5 * S + 999 * MS, &ov));
	assert_false(dp_frag_find(t, &mid, NULL, 0, &pos, &id, T0 + 6 * S, &ov));
	assert_int_equal(c->expired, 2);

	/* The grace never lengthens a datagram's life. */
	frag4(&first, 3, 0, 1, 1);
	frag4(&last, 3, 2960, 0, 1);
	dp_frag_remember(t, &first, 3, 3, T0);
	assert_true(dp_frag_find(t, &last, NULL, 0, &pos, &id, T0 + TIMEOUT - 500 * MS, &ov));
	assert_false(dp_frag_find(t, &last, NULL, 0, &pos, &id, T0 + TIMEOUT, &ov));
	dp_frag_table_free(t);
}

static void
test_full_and_age(void **state)
{
	/* 8 datagrams at most (the smallest table). */
	struct dp_frag_table *t = dp_frag_table_create(3, 8, TIMEOUT, 0);
	const struct dp_frag_counters *c;
	struct dp_pkt p;
	int32_t pos;
	uint32_t id;
	bool ov = false;

	(void)state;
	assert_non_null(t);
	c = dp_frag_counters(t);
	for (uint16_t i = 0; i < 8; i++) {
		frag4(&p, (uint16_t)(100 + i), 0, 1, 1);
		dp_frag_remember(t, &p, i, i, T0 + i * MS);
	}
	assert_int_equal(c->tracked, 8);
	frag4(&p, 200, 0, 1, 1);
	dp_frag_remember(t, &p, 8, 8, T0 + 10 * MS);
	assert_int_equal(c->tracked, 8);
	assert_int_equal(c->table_full, 1);
	frag4(&p, 200, 1480, 1, 1);
	assert_false(dp_frag_find(t, &p, NULL, 0, &pos, &id, T0 + 10 * MS, &ov));
	/* The eight are all still found. */
	for (uint16_t i = 0; i < 8; i++) {
		frag4(&p, (uint16_t)(100 + i), 1480, 1, 1);
		assert_true(dp_frag_find(t, &p, NULL, 0, &pos, &id, T0 + 20 * MS, &ov));
		assert_int_equal(pos, i);
		assert_int_equal(id, i);
	}

	/* Aging before the timeout forgets nothing. */
	dp_frag_age(t, T0 + TIMEOUT - 1);
	assert_int_equal(c->expired, 0);
	frag4(&p, 200, 0, 1, 1);
	dp_frag_remember(t, &p, 8, 8, T0 + TIMEOUT - 1);
	assert_int_equal(c->table_full, 2);
	/* Aging after it forgets all eight and makes room. */
	dp_frag_age(t, T0 + TIMEOUT + 10 * MS);
	assert_int_equal(c->expired, 8);
	for (uint16_t i = 0; i < 8; i++) {
		frag4(&p, (uint16_t)(300 + i), 0, 1, 1);
		dp_frag_remember(t, &p, 300 + i, i, T0 + TIMEOUT + 20 * MS);
	}
	assert_int_equal(c->tracked, 16);
	assert_int_equal(c->table_full, 2);
	frag4(&p, 100, 1480, 1, 1);
	assert_false(dp_frag_find(t, &p, NULL, 0, &pos, &id, T0 + TIMEOUT + 20 * MS, &ov));
	frag4(&p, 307, 1480, 1, 1);
	assert_true(dp_frag_find(t, &p, NULL, 0, &pos, &id, T0 + TIMEOUT + 20 * MS, &ov));
	assert_int_equal(pos, 307);
	dp_frag_table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_full_and_age),
	};

	if (vg_test_eal_init() != 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
