/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The software dispatch's hash (dataplane/dp_dispatch.h): both directions of an address pair
 * go to one owner, whatever the tags and whether the datagram is fragmented; what it cannot
 * read stays with the receiver; owners share random pairs evenly.
 */
#include "vg_test.h"

#include <stdlib.h>

#include "dp_dispatch.h"

/* A frame: Ethernet, n_tags VLAN tags, then an IPv4 (20-byte header, UDP) or IPv6 header. */
static uint32_t
frame(uint8_t *f, unsigned n_tags, int family, const uint8_t *src, const uint8_t *dst,
		bool later_fragment)
{
	uint32_t o = 12;

	memset(f, 0, 128);
	for (unsigned t = 0; t < n_tags; t++) {
		f[o] = t == 0 ? 0x88 : 0x81;
		f[o + 1] = t == 0 ? 0xa8 : 0x00;
		f[o + 3] = (uint8_t)(t + 1);
		o += 4;
	}
	if (family == 4) {
		f[o] = 0x08;
		f[o + 2] = 0x45;
		f[o + 2 + 9] = 17;
		if (later_fragment)
			f[o + 2 + 7] = 0xb9; /* offset 185 x 8 */
		memcpy(f + o + 2 + 12, src, 4);
		memcpy(f + o + 2 + 16, dst, 4);
		return o + 2 + 20 + (later_fragment ? 16 : 8);
	}
	f[o] = 0x86;
	f[o + 1] = 0xdd;
	f[o + 2] = 0x60;
	f[o + 2 + 6] = later_fragment ? 44 : 17;
	memcpy(f + o + 2 + 8, src, 16);
	memcpy(f + o + 2 + 24, dst, 16);
	return o + 2 + 40 + 8;
}

static void
random_bytes(uint8_t *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)rand();
}

static void
test_both_directions_one_owner(void **state)
{
	uint8_t f[128], a[16], b[16];

	(void)state;
	srand(1);
	for (int i = 0; i < 20000; i++) {
		int family = i % 2 ? 6 : 4;
		unsigned tags = (unsigned)i % 4, alen = family == 4 ? 4 : 16;
		uint32_t h1 = 0, h2 = 0, h3 = 0, len;

		random_bytes(a, alen);
		random_bytes(b, alen);
		if (i % 7 == 0)
			memcpy(b, a, alen - 1); /* neighbours differ in the last byte only */
		len = frame(f, tags, family, a, b, false);
		assert_true(dp_dispatch_hash(f, len, &h1));
		len = frame(f, tags, family, b, a, false);
		assert_true(dp_dispatch_hash(f, len, &h2));
		/* A later fragment of the pair, without ports: the same owner. */
		len = frame(f, tags, family, a, b, true);
		assert_true(dp_dispatch_hash(f, len, &h3));
		if (h1 != h2 || h1 != h3)
			fail_msg("pair %d (IPv%d, %u tags): %08x one way, %08x back, %08x fragment",
					i, family, tags, h1, h2, h3);
		for (unsigned n = 2; n <= 16; n++)
			assert_int_equal(dp_dispatch_owner(h1, n), dp_dispatch_owner(h2, n));
	}
}

static void
test_unreadable_stays(void **state)
{
	uint8_t f[128], a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 2 };
	uint32_t h, len;

	(void)state;
	/* ARP */
	memset(f, 0, sizeof(f));
	f[12] = 0x08;
	f[13] = 0x06;
	assert_false(dp_dispatch_hash(f, 60, &h));
	/* Truncated inside the IPv4 header, and inside a tag. */
	len = frame(f, 1, 4, a, b, false);
	assert_false(dp_dispatch_hash(f, 18 + 19, &h));
	assert_false(dp_dispatch_hash(f, 15, &h));
	assert_true(dp_dispatch_hash(f, len, &h));
	/* Four tags: more than the parser takes. */
	len = frame(f, 4, 4, a, b, false);
	assert_false(dp_dispatch_hash(f, len, &h));
	/* An IPv4 ether type over an IPv6 header. */
	len = frame(f, 0, 4, a, b, false);
	f[14] = 0x65;
	assert_false(dp_dispatch_hash(f, len, &h));
}

static void
test_owners_share_evenly(void **state)
{
	uint8_t f[128], a[16], b[16];
	const unsigned pairs = 200000;

	(void)state;
	srand(2);
	for (unsigned n = 2; n <= 16; n *= 2) {
		unsigned count[16] = { 0 }, max = 0, min = pairs;

		for (unsigned i = 0; i < pairs; i++) {
			int family = i % 4 == 0 ? 6 : 4;
			unsigned alen = family == 4 ? 4 : 16;
			uint32_t h = 0, len;

			random_bytes(a, alen);
			random_bytes(b, alen);
			len = frame(f, 0, family, a, b, false);
			assert_true(dp_dispatch_hash(f, len, &h));
			count[dp_dispatch_owner(h, n)]++;
		}
		for (unsigned o = 0; o < n; o++) {
			max = count[o] > max ? count[o] : max;
			min = count[o] < min ? count[o] : min;
		}
		print_message("%u owners: %u to %u pairs each (mean %u)\n", n, min, max, pairs / n);
		/* A fair share is pairs/n within a few standard deviations: 3% is over 10 of them
		 * at 16 owners. */
		assert_true(max < pairs / n * 103 / 100);
		assert_true(min > pairs / n * 97 / 100);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_directions_one_owner),
		cmocka_unit_test(test_unreadable_stays),
		cmocka_unit_test(test_owners_share_evenly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
