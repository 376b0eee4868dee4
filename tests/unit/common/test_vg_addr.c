/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Addresses, prefixes and interval sets: what each text parses to or why it is refused, the
 * canonical text, prefix ranges and the fewest prefixes of a range, and the set operations
 * against a plain bitmap of the same numbers.
 */
#include "vg_test.h"

#include <stdlib.h>

#include "vg_addr.h"

static void
test_addr_parse(void **state)
{
	static const struct {
		const char *in;
		int family; /* 0: refused */
		const char *text;
	} cases[] = {
		{ "10.1.2.3", 4, "10.1.2.3" },
		{ "0.0.0.0", 4, "0.0.0.0" },
		{ "255.255.255.255", 4, "255.255.255.255" },
		{ "2001:DB8:0:0::1", 6, "2001:db8::1" },
		{ "::", 6, "::" },
		{ "::ffff:1.2.3.4", 6, "::ffff:1.2.3.4" },
		{ "10.0.0.300", 0, NULL },
		{ "010.0.0.1", 0, NULL },
		{ "1.2.3", 0, NULL },
		{ " 1.2.3.4", 0, NULL },
		{ "1.2.3.4 ", 0, NULL },
		{ "1.2.3.4/32", 0, NULL },
		{ "2001:db8::g", 0, NULL },
		{ "", 0, NULL },
		{ "localhost", 0, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vg_addr a;
		char buf[VG_ADDR_STRLEN];
		int rc = vg_addr_parse_str(cases[i].in, &a);

		if (cases[i].family == 0) {
			if (rc != -EINVAL)
				fail_msg("'%s' accepted", cases[i].in);
			continue;
		}
		if (rc != 0)
			fail_msg("'%s' refused", cases[i].in);
		assert_int_equal(a.family, cases[i].family);
		assert_int_equal(vg_addr_format(&a, buf, sizeof(buf)), 0);
		assert_string_equal(buf, cases[i].text);
	}
	/* The length bounds the text: "10.0.0.1" within "10.0.0.12". */
	struct vg_addr a;

	assert_int_equal(vg_addr_parse("10.0.0.12", 8, &a), 0);
	assert_int_equal(vg_addr_value(&a), 0x0a000001);
	/* A NUL inside the length is no address. */
	assert_int_equal(vg_addr_parse("1.2.3.4\0", 8, &a), -EINVAL);
	/* Too small a buffer is said, not cut. */
	char small[8];

	assert_int_equal(vg_addr_parse_str("10.10.10.10", &a), 0);
	assert_int_equal(vg_addr_format(&a, small, sizeof(small)), -ENOSPC);
	assert_string_equal(small, "");
	/* Bytes as a packet holds them; a family other than 4 or 6 is refused. */
	static const uint8_t v6[16] = { 0xfe, 0x80, [15] = 1 };
	char buf[VG_ADDR_STRLEN];

	assert_int_equal(vg_addr_format_bytes(6, v6, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "fe80::1");
	assert_int_equal(vg_addr_format_bytes(4, v6, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "254.128.0.0");
	assert_int_equal(vg_addr_format_bytes(0, v6, buf, sizeof(buf)), -EINVAL);
	assert_string_equal(buf, "");
}

static void
test_prefix_parse(void **state)
{
	static const struct {
		const char *in;
		unsigned flags;
		int rc;
		int why;
		unsigned off;
		const char *text; /* net/plen, or the message */
	} cases[] = {
		{ "10.0.0.0/8", 0, 0, VG_PREFIX_OK, 0, "10.0.0.0/8" },
		{ "10.1.2.3", 0, 0, VG_PREFIX_OK, 0, "10.1.2.3/32" },
		{ "0.0.0.0/0", 0, 0, VG_PREFIX_OK, 0, "0.0.0.0/0" },
		{ "2001:db8::/32", 0, 0, VG_PREFIX_OK, 0, "2001:db8::/32" },
		{ "::/0", 0, 0, VG_PREFIX_OK, 0, "::/0" },
		{ "fe80::1", 0, 0, VG_PREFIX_OK, 0, "fe80::1/128" },
		{ "10.0.0.1/8", 0, -EINVAL, VG_PREFIX_HOST_SET, 0,
				"'10.0.0.1/8' has host bits set (the network is 10.0.0.0/8)" },
		{ "10.0.0.1/8", VG_PREFIX_HOST_BITS, 1, VG_PREFIX_OK, 0, "10.0.0.0/8" },
		{ "fe80::1/64", VG_PREFIX_HOST_BITS, 1, VG_PREFIX_OK, 0, "fe80::/64" },
		{ "10.0.0.0/33", 0, -EINVAL, VG_PREFIX_LEN_RANGE, 9,
				"'/33' is not a prefix length (0-32)" },
		{ "2001:db8::/129", 0, -EINVAL, VG_PREFIX_LEN_RANGE, 11,
				"'/129' is not a prefix length (0-128)" },
		{ "10.0.0.0/", 0, -EINVAL, VG_PREFIX_BAD_LEN, 9,
				"'/' is not a prefix length (0-32)" },
		{ "10.0.0.0/8x", 0, -EINVAL, VG_PREFIX_BAD_LEN, 9,
				"'/8x' is not a prefix length (0-32)" },
		{ "10.0.0.0/08", 0, -EINVAL, VG_PREFIX_BAD_LEN, 9,
				"'/08' is not a prefix length (0-32)" },
		{ "10.0.0.0/+8", 0, -EINVAL, VG_PREFIX_BAD_LEN, 9,
				"'/+8' is not a prefix length (0-32)" },
		{ "10.0.0.0/ 8", 0, -EINVAL, VG_PREFIX_BAD_LEN, 9,
				"'/ 8' is not a prefix length (0-32)" },
		{ "10.0.0.0/8/8", 0, -EINVAL, VG_PREFIX_BAD_LEN, 9,
				"'/8/8' is not a prefix length (0-32)" },
		{ "10.0.0.0/255.0.0.0", 0, -EINVAL, VG_PREFIX_BAD_LEN, 9,
				"'/255.0.0.0' is not a prefix length (0-32)" },
		{ "10.0.0.0/255.0.0.0", VG_PREFIX_NETMASK, 0, VG_PREFIX_OK, 0, "10.0.0.0/8" },
		{ "0.0.0.0/0.0.0.0", VG_PREFIX_NETMASK, 0, VG_PREFIX_OK, 0, "0.0.0.0/0" },
		{ "10.0.0.0/255.0.255.0", VG_PREFIX_NETMASK, -EINVAL, VG_PREFIX_BAD_MASK, 9,
				"netmask '255.0.255.0' is not contiguous" },
		{ "10.0.0.0/x", VG_PREFIX_NETMASK, -EINVAL, VG_PREFIX_BAD_LEN, 9,
				"'/x' is not a prefix length (0-32) or a netmask" },
		{ "10.0.0.300/8", 0, -EINVAL, VG_PREFIX_BAD_ADDR, 0,
				"'10.0.0.300' is not an IPv4 or IPv6 address" },
		{ "/8", 0, -EINVAL, VG_PREFIX_BAD_ADDR, 0, "'' is not an IPv4 or IPv6 address" },
		{ "any", 0, -EINVAL, VG_PREFIX_BAD_ADDR, 0,
				"'any' is not an IPv4 or IPv6 address" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vg_prefix p;
		struct vg_addr_err err;
		char buf[VG_PREFIX_STRLEN];
		int rc = vg_prefix_parse(
				cases[i].in, strlen(cases[i].in), cases[i].flags, &p, &err);

		if (rc != cases[i].rc)
			fail_msg("'%s': rc %d, expected %d (%s)", cases[i].in, rc, cases[i].rc,
					err.msg);
		if (rc < 0) {
			assert_int_equal(err.why, cases[i].why);
			assert_int_equal(err.off, cases[i].off);
			assert_string_equal(err.msg, cases[i].text);
			continue;
		}
		assert_int_equal(vg_prefix_format(&p, false, buf, sizeof(buf)), 0);
		assert_string_equal(buf, cases[i].text);
	}
	/* Without an err, a refusal is still said by the return value. */
	struct vg_prefix p;

	assert_int_equal(vg_prefix_parse("10.0.0.1/8", 10, 0, &p, NULL), -EINVAL);
	/* A host prefix formats as the address alone when asked. */
	char buf[VG_PREFIX_STRLEN];

	assert_int_equal(vg_prefix_parse("2001:db8::7", 11, 0, &p, NULL), 0);
	assert_int_equal(vg_prefix_format(&p, true, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2001:db8::7");
}

static void
test_prefix_range(void **state)
{
	struct vg_prefix p;
	struct vg_addr a;
	vg_u128 lo, hi;

	(void)state;
	assert_int_equal(vg_prefix_parse("10.0.0.0/8", 10, 0, &p, NULL), 0);
	vg_prefix_range(&p, &lo, &hi);
	assert_true(lo == 0x0a000000 && hi == 0x0affffff);
	assert_int_equal(vg_prefix_parse("0.0.0.0/0", 9, 0, &p, NULL), 0);
	vg_prefix_range(&p, &lo, &hi);
	assert_true(lo == 0 && hi == VG_U32_MAX_128);
	assert_int_equal(vg_prefix_parse("::/0", 4, 0, &p, NULL), 0);
	vg_prefix_range(&p, &lo, &hi);
	assert_true(lo == 0 && hi == VG_U128_MAX);
	assert_int_equal(vg_prefix_parse("2001:db8::/127", 14, 0, &p, NULL), 0);
	vg_prefix_range(&p, &lo, &hi);
	assert_true(hi - lo == 1 && (lo >> 96) == 0x20010db8);

	assert_int_equal(vg_prefix_parse("192.168.0.0/16", 14, 0, &p, NULL), 0);
	assert_int_equal(vg_addr_parse_str("192.168.255.1", &a), 0);
	assert_true(vg_prefix_has(&p, &a));
	assert_int_equal(vg_addr_parse_str("192.169.0.0", &a), 0);
	assert_false(vg_prefix_has(&p, &a));
	assert_int_equal(vg_addr_parse_str("::c0a8:1", &a), 0);
	assert_false(vg_prefix_has(&p, &a)); /* the other family */

	vg_addr_from_value(6, vg_addr_value(&a), &a);
	assert_int_equal(vg_addr_format(&a, (char[VG_ADDR_STRLEN]){ 0 }, VG_ADDR_STRLEN), 0);
	vg_addr_from_value(4, 0xc0a80001, &a);
	char buf[VG_ADDR_STRLEN];

	assert_int_equal(vg_addr_format(&a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "192.168.0.1");
}

struct collect {
	char text[8][VG_PREFIX_STRLEN];
	unsigned n;
	uint8_t family;
};

static void
collect(vg_u128 net, unsigned plen, void *arg)
{
	struct collect *c = arg;
	struct vg_prefix p = { .plen = (uint8_t)plen };

	vg_addr_from_value(c->family, net, &p.addr);
	assert_true(c->n < 8);
	vg_prefix_format(&p, false, c->text[c->n++], VG_PREFIX_STRLEN);
}

static void
count_plen(vg_u128 net, unsigned plen, void *arg)
{
	unsigned *plens = arg;
	vg_u128 size = plen == 0 ? 0 : (vg_u128)1 << (128 - plen);

	assert_true(plen >= 1 && plen <= 128);
	assert_true(net == size); /* ::1/128, ::2/127, ::4/126, ... 8000::/1 */
	plens[plen]++;
}

static void
test_range_prefixes(void **state)
{
	struct collect c = { .family = 4 };

	(void)state;
	assert_int_equal(vg_range_prefixes(4, 0x0a000001, 0x0a000006, collect, &c), 4);
	assert_string_equal(c.text[0], "10.0.0.1/32");
	assert_string_equal(c.text[1], "10.0.0.2/31");
	assert_string_equal(c.text[2], "10.0.0.4/31");
	assert_string_equal(c.text[3], "10.0.0.6/32");

	c = (struct collect){ .family = 4 };
	assert_int_equal(vg_range_prefixes(4, 0, VG_U32_MAX_128, collect, &c), 1);
	assert_string_equal(c.text[0], "0.0.0.0/0");

	c = (struct collect){ .family = 6 };
	assert_int_equal(vg_range_prefixes(6, 0, VG_U128_MAX, collect, &c), 1);
	assert_string_equal(c.text[0], "::/0");

	/* All but ::: one prefix of each length, ::1/128 up to 8000::/1. */
	unsigned plens[129] = { 0 };

	assert_int_equal(vg_range_prefixes(6, 1, VG_U128_MAX, count_plen, plens), 128);
	for (unsigned l = 1; l <= 128; l++)
		assert_int_equal(plens[l], 1);
	assert_int_equal(plens[0], 0);
}

/* The sets against a bitmap of [0, 255]. */
#define U 256

static void
to_bits(const struct vg_ivs *s, bool *bits)
{
	memset(bits, 0, U * sizeof(*bits));
	for (unsigned i = 0; i < s->n; i++)
		for (vg_u128 x = s->v[i].lo; x <= s->v[i].hi; x++)
			bits[(unsigned)x] = true;
}

static void
assert_normal(const struct vg_ivs *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		assert_true(s->v[i].lo <= s->v[i].hi);
		if (i > 0)
			assert_true(s->v[i - 1].hi + 1 < s->v[i].lo);
	}
}

static void
random_set(struct vg_ivs *s, bool *bits, unsigned *seed)
{
	unsigned n = (unsigned)rand_r(seed) % 6;

	memset(bits, 0, U * sizeof(*bits));
	for (unsigned i = 0; i < n; i++) {
		unsigned lo = (unsigned)rand_r(seed) % U, len = (unsigned)rand_r(seed) % 40;
		unsigned hi = lo + len < U ? lo + len : U - 1;

		assert_int_equal(vg_ivs_add(s, lo, hi), 0);
		for (unsigned x = lo; x <= hi; x++)
			bits[x] = true;
	}
}

static void
test_ivs_bitmap(void **state)
{
	unsigned seed = 22;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		struct vg_ivs a = { 0 }, b = { 0 }, r = { 0 };
		bool ba[U], bb[U], br[U];
		bool sub = true, meet = false;

		random_set(&a, ba, &seed);
		random_set(&b, bb, &seed);
		vg_ivs_normalize(&a);
		vg_ivs_normalize(&b);
		assert_normal(&a);
		to_bits(&a, br);
		assert_memory_equal(br, ba, sizeof(ba));

		for (unsigned x = 0; x < U; x++) {
			assert_int_equal(vg_ivs_has(&a, x), ba[x]);
			sub &= !bb[x] || ba[x];
			meet |= ba[x] && bb[x];
		}
		assert_int_equal(vg_ivs_contains(&a, &b), sub);
		assert_int_equal(vg_ivs_overlaps(&a, &b), meet);
		assert_int_equal(vg_ivs_overlaps(&b, &a), meet);

		assert_int_equal(vg_ivs_sub(&a, &b, &r), 0);
		assert_normal(&r);
		to_bits(&r, br);
		for (unsigned x = 0; x < U; x++)
			assert_int_equal(br[x], ba[x] && !bb[x]);
		vg_ivs_free(&r);

		assert_int_equal(vg_ivs_append(&r, &a), 0);
		assert_int_equal(vg_ivs_intersect(&r, &b), 0);
		assert_normal(&r);
		to_bits(&r, br);
		for (unsigned x = 0; x < U; x++)
			assert_int_equal(br[x], ba[x] && bb[x]);
		vg_ivs_free(&r);

		assert_int_equal(vg_ivs_complement(&a, U - 1), 0);
		assert_normal(&a);
		to_bits(&a, br);
		for (unsigned x = 0; x < U; x++)
			assert_int_equal(br[x], !ba[x]);
		vg_ivs_free(&a);
		vg_ivs_free(&b);
	}
}

/* The ends of the 128-bit space, where hi + 1 wraps. */
static void
test_ivs_edges(void **state)
{
	struct vg_ivs s = { 0 }, t = { 0 }, r;

	(void)state;
	assert_int_equal(vg_ivs_add(&s, VG_U128_MAX - 1, VG_U128_MAX), 0);
	assert_int_equal(vg_ivs_add(&s, 0, 0), 0);
	assert_int_equal(vg_ivs_add(&s, VG_U128_MAX, VG_U128_MAX), 0);
	vg_ivs_normalize(&s);
	assert_int_equal(s.n, 2);
	assert_true(s.v[1].lo == VG_U128_MAX - 1 && s.v[1].hi == VG_U128_MAX);
	assert_true(vg_ivs_has(&s, VG_U128_MAX));
	assert_false(vg_ivs_has(&s, 1));

	assert_int_equal(vg_ivs_complement(&s, VG_U128_MAX), 0);
	assert_int_equal(s.n, 1);
	assert_true(s.v[0].lo == 1 && s.v[0].hi == VG_U128_MAX - 2);
	assert_int_equal(vg_ivs_complement(&s, VG_U128_MAX), 0);
	assert_int_equal(s.n, 2);

	assert_int_equal(vg_ivs_add(&t, 0, VG_U128_MAX), 0);
	assert_int_equal(vg_ivs_sub(&s, &t, &r), 0);
	assert_int_equal(r.n, 0);
	vg_ivs_free(&r);
	assert_int_equal(vg_ivs_sub(&t, &s, &r), 0);
	assert_int_equal(r.n, 1);
	assert_true(r.v[0].lo == 1 && r.v[0].hi == VG_U128_MAX - 2);
	vg_ivs_free(&r);
	vg_ivs_free(&s);
	vg_ivs_free(&t);
}

static void
test_addrset(void **state)
{
	static const char *const nets[] = { "10.0.0.0/8", "192.168.1.0/24", "fc00::/7",
		"192.168.0.0/24" };
	struct vg_addrset s = { 0 };
	struct vg_prefix p;
	struct vg_addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
		assert_int_equal(vg_prefix_parse(nets[i], strlen(nets[i]), 0, &p, NULL), 0);
		assert_int_equal(vg_addrset_add_prefix(&s, &p), 0);
	}
	vg_ivs_normalize(&s.v4);
	vg_ivs_normalize(&s.v6);
	assert_int_equal(s.v4.n, 2); /* the two /24s merge into 192.168.0.0/23 */
	assert_int_equal(vg_addr_parse_str("192.168.1.255", &a), 0);
	assert_true(vg_addrset_has(&s, &a));
	assert_int_equal(vg_addr_parse_str("192.168.2.0", &a), 0);
	assert_false(vg_addrset_has(&s, &a));
	assert_int_equal(vg_addr_parse_str("fd12::1", &a), 0);
	assert_true(vg_addrset_has(&s, &a));
	assert_int_equal(vg_addr_parse_str("fe80::1", &a), 0);
	assert_false(vg_addrset_has(&s, &a));
	assert_int_equal(vg_addr_parse_str("::a00:1", &a), 0);
	assert_false(vg_addrset_has(&s, &a)); /* 10.0.0.1's value, as IPv6 */
	vg_addrset_free(&s);
	assert_null(s.v4.v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_prefix_range),
		cmocka_unit_test(test_range_prefixes),
		cmocka_unit_test(test_ivs_bitmap),
		cmocka_unit_test(test_ivs_edges),
		cmocka_unit_test(test_addrset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
