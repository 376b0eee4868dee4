/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The blocklist: adds, removes and bulk checks of IPv4 and IPv6 sources and destinations, with
 * addresses at every alignment as the packet path hands them over (pointers into frames). The
 * ASan/UBSan build runs this too: the hash must read its keys aligned.
 */
#define VG_TEST_WITH_EAL
#include "vg_test.h"

#include <rte_rcu_qsbr.h>

#include "dp_block.h"

static struct rte_rcu_qsbr *qsbr;
static struct dp_blocklist *bl;

static int
setup(void **state)
{
	size_t sz = rte_rcu_qsbr_get_memsize(1);

	(void)state;
	qsbr = calloc(1, sz);
	if (qsbr == NULL || rte_rcu_qsbr_init(qsbr, 1) != 0)
		return -1;
	bl = dp_blocklist_create(64, qsbr, 0);
	return bl == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	dp_blocklist_free(bl);
	free(qsbr);
	return 0;
}

/* Addresses written at an odd offset of a frame-like buffer. */
static uint8_t frame[64 * 40 + 8];

static const uint8_t *
put_addr(unsigned slot, uint8_t family, uint32_t v)
{
	uint8_t *a = frame + 3 + slot * 40;

	memset(a, 0, 16);
	if (family == 4) {
		a[0] = 10, a[1] = (uint8_t)(v >> 16), a[2] = (uint8_t)(v >> 8), a[3] = (uint8_t)v;
	} else {
		a[0] = 0xfd, a[1] = 0x88, a[13] = (uint8_t)(v >> 16), a[14] = (uint8_t)(v >> 8);
		a[15] = (uint8_t)v;
	}
	return a;
}

static void
test_check_burst(void **state)
{
	uint8_t family[64], hit[64];
	const uint8_t *src[64], *dst[64];
	uint8_t blocked4[16] = { 10, 0, 0, 7 }, blocked6[16] = { 0xfd, 0x88 };

	(void)state;
	blocked6[15] = 9;
	assert_int_equal(dp_blocklist_add(bl, 4, blocked4), 0);
	assert_int_equal(dp_blocklist_add(bl, 6, blocked6), 0);
	assert_int_equal(dp_blocklist_add(bl, 4, blocked4), 0); /* twice is fine */
	assert_int_equal(dp_blocklist_count(bl), 2);
	assert_int_equal(dp_blocklist_add(bl, 5, blocked4), -EINVAL);

	/* 64 packets (the most a burst checks): from (i % 8 < 2) or to (i % 8 == 5) a blocked host.
	 */
	for (unsigned i = 0; i < 64; i++) {
		family[i] = i % 2 ? 6 : 4;
		src[i] = put_addr(i, family[i], i % 8 < 2 ? (family[i] == 4 ? 7 : 9) : 100 + i);
		dst[i] = frame + 3 + i * 40 + 19; /* odd offset again */
		memcpy((uint8_t *)dst[i], src[i], 16);
		((uint8_t *)dst[i])[family[i] == 4 ? 3 : 15] ^= 0x40;
		if (i % 8 == 5) /* blocked as destination */
			memcpy((uint8_t *)dst[i], family[i] == 4 ? blocked4 : blocked6, 16);
	}
	dp_blocklist_check(bl, 64, family, src, dst, hit);
	for (unsigned i = 0; i < 64; i++) {
		bool want = i % 8 < 2 || i % 8 == 5;

		if (hit[i] != want)
			fail_msg("packet %u (IPv%u): hit %u, expected %u", i, family[i], hit[i],
					want);
	}

	assert_int_equal(dp_blocklist_del(bl, 4, blocked4), 0);
	assert_int_equal(dp_blocklist_del(bl, 4, blocked4), -ENOENT);
	dp_blocklist_check(bl, 64, family, src, dst, hit);
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(hit[i], family[i] == 6 && (i % 8 < 2 || i % 8 == 5));
	assert_int_equal(dp_blocklist_count(bl), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_burst),
	};

	if (vg_test_eal_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
