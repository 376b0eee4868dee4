/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Texts from outside: the UTF-8/NUL check with its offsets, the escaping that keeps a log line
 * one line, and YAML nesting refused at its limit before libyaml builds the document.
 */
#include "vg_test.h"

#include <time.h>

#include "vg_text.h"
#include "vg_yaml.h"

static void
test_check(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		int off; /* -1: valid */
	} cases[] = {
		{ "plain ascii\r\n\t", 14, -1 },
		{ "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9d\x84\x9e", 14, -1 }, { "a\0b", 3, 1 },
		{ "ab\xff", 3, 2 }, { "ab\xc3", 3, 2 }, /* cut short */
		{ "\xc0\xaf", 2, 0 },			/* overlong '/' */
		{ "x\xe0\x80\xaf", 4, 1 },		/* overlong, three bytes */
		{ "xy\xed\xa0\x80", 5, 2 },		/* a surrogate */
		{ "\xf4\x90\x80\x80", 4, 0 },		/* beyond U+10FFFF */
		{ "ok \xe2\x82", 5, 3 },		/* three-byte lead cut short */
		{ "\xc3\xa9\x80", 3, 2 },		/* a lone continuation byte */
		{ "\xef\xbb\xbfversion: 1", 13, -1 },	/* a BOM is UTF-8 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;
		size_t off = 0;
		int rc = vg_text_check(cases[i].s, cases[i].len, &off, &why);

		if (cases[i].off < 0 && rc != 0)
			fail_msg("case %zu refused at %zu: %s", i, off, why);
		if (cases[i].off >= 0 && (rc != -EILSEQ || off != (size_t)cases[i].off))
			fail_msg("case %zu: rc %d at %zu, want the offset %d", i, rc, off,
					cases[i].off);
	}
}

static void
test_check_diag(void **state)
{
	static const char text[] = "version: 1\nrules:\n  - n\xc3\xa4me: x\0y\n";
	struct vg_diag d;

	(void)state;
	vg_diag_init(&d);
	assert_int_equal(
			vg_text_check_diag(&d, "p.yaml", text, sizeof(text) - 1, 0, NULL), -EILSEQ);
	/* the NUL is at byte 30, on line 3; columns count characters (ä is one) */
	assert_diag(&d, 3, 12, "byte offset 30 holds a NUL byte");
	vg_diag_free(&d);
	vg_diag_init(&d);
	assert_int_equal(vg_text_check_diag(&d, "p.yaml", text, 10, 9, "policy.max_size"), -EFBIG);
	assert_diag(&d, 0, 0, "more than the 9 bytes policy.max_size allows");
	vg_diag_free(&d);
}

static void
test_escape(void **state)
{
	char out[256];

	(void)state;
	vg_text_escape(out, sizeof(out),
			"scan\r\n2026-12-06 vigild: FORGED\x1b[31m red\xc2\x9b\x7f \xff caf\xc3\xa9\t.");
	assert_string_equal(out, "scan\\r\\n2026-12-06 vigild: FORGED\\x1b[31m red\\x9b\\x7f "
				 "\\xff caf\xc3\xa9\\t.");
	/* cut at a character boundary, with "..." */
	assert_int_equal(vg_text_escape(out, 8, "abc\n\ndef"), 6);
	assert_string_equal(out, "abc...");
	assert_int_equal(vg_text_escape(out, 8, "ab\xe2\x9c\x93xyz"), 5);
	assert_string_equal(out, "ab...");
	assert_int_equal(vg_text_escape(out, 8, "1234567"), 7);
	assert_string_equal(out, "1234567");
}

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
test_yaml_depth(void **state)
{
	size_t n = 20000;
	char *deep = malloc(2 * n + 3), *flow = malloc(2 * n + 1);
	struct vg_yaml y;
	struct vg_diag d;
	double t0;

	(void)state;
	assert_non_null(deep);
	assert_non_null(flow);
	for (size_t i = 0; i < n; i++)
		deep[2 * i] = '-', deep[2 * i + 1] = ' ';
	memcpy(deep + 2 * n, "x\n", 3);
	memset(flow, '[', n);
	memset(flow + n, ']', n);
	flow[2 * n] = '\0';

	vg_diag_init(&d);
	t0 = now_s();
	assert_int_equal(vg_yaml_load_buf(&y, "deep", deep, 2 * n + 2, &d), -EINVAL);
	/* the 65th level starts at column 129 of line 1 */
	assert_diag(&d, 1, 129, "nested more than 64 deep");
	vg_yaml_free(&y);
	assert_int_equal(vg_yaml_load_buf(&y, "flow", flow, 2 * n, &d), -EINVAL);
	assert_diag(&d, 1, 65, "nested more than 64 deep");
	vg_yaml_free(&y);
	/* Not a timed test: a wall-clock bound far above the cost (20 ms here) and far below the
	 * tens of seconds libyaml takes to build such a document. */
	if (now_s() - t0 > 5.0)
		fail_msg("refusing two 40 KB documents took %.1f s", now_s() - t0);
	vg_diag_free(&d);

	/* at the limit it loads; a lower limit refuses it */
	vg_diag_init(&d);
	assert_int_equal(vg_yaml_load_buf(&y, "deep", deep + 2 * (n - 64), 2 * 64 + 2, &d), 0);
	vg_yaml_free(&y);
	assert_int_equal(vg_yaml_load_buf_depth(&y, "deep", deep + 2 * (n - 64), 2 * 64 + 2, 8, &d),
			-EINVAL);
	assert_diag(&d, 1, 17, "nested more than 8 deep");
	vg_yaml_free(&y);
	vg_diag_free(&d);
	free(deep);
	free(flow);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_check_diag),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_yaml_depth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
