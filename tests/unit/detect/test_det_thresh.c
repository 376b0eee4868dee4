/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * threshold.config (det_thconf.h): parsing with errors at their line and column, and how its
 * entries act on matches: rate_filter switching the action after count matches within
 * seconds and back after timeout, suppress by source, destination or either with addresses
 * and CIDRs, threshold overrides; detection_filter unique_on counting distinct ports.
 */
#include <errno.h>

#include "det_test.h"

#include "det_thconf.h"

#define SEC 1000000000ULL

/* Parse text; expect success. */
static struct det_thconf *
thc_ok(const char *text, const struct det_vars *vars)
{
	struct vg_diag d;
	struct det_thconf *c = NULL;
	int rc;

	vg_diag_init(&d);
	rc = det_thconf_load_buf("t.config", text, strlen(text), vars, &d, &c);
	if (rc != 0) {
		vg_diag_print(&d, stderr);
		fail_msg("threshold.config refused: %d", rc);
	}
	assert_int_equal(d.errors, 0);
	vg_diag_free(&d);
	return c;
}

static void
test_parse_ok(void **state)
{
	struct det_vars *vars = det_vars_create();
	struct det_thconf *c;
	const struct det_thc_entry *e;

	(void)state;
	assert_int_equal(det_vars_set_addr(vars, "DNS_SERVERS", "[192.0.2.53,192.0.2.54]"), 0);
	c = thc_ok("# a comment\n"
		   "\n"
		   "threshold gen_id 1, sig_id 2002087, type both, track by_src, count 3, seconds 5\n"
		   "event_filter gen_id 1, sig_id 7, type limit, track by_rule, count 1, seconds 60\n"
		   "rate_filter gen_id 1, sig_id 888, track by_src, count 10, seconds 60, \\\n"
		   "    new_action drop, timeout 300\n"
		   "rate_filter: rate_filter gen_id 1, sig_id 889, track by_both, count 1, "
		   "seconds 1, new_action reject, timeout 2\r\n"
		   "  suppress gen_id 1, sig_id 2003614  \n"
		   "suppress gen_id 0, sig_id 0, track by_either, ip [10.0.0.0/8,$DNS_SERVERS]\n"
		   "suppress sig_id 5, gen_id 1, ip 2001:db8::/32, track by_dst\n",
			vars);
	assert_int_equal(det_thconf_count(c), 7);
	e = det_thconf_entry(c, 0);
	assert_int_equal(e->kind, DET_THC_THRESHOLD);
	assert_int_equal(e->line, 3);
	assert_int_equal(e->sid, 2002087);
	assert_int_equal(e->th.type, DET_TH_BOTH);
	assert_int_equal(e->th.track, DET_TRACK_SRC);
	assert_int_equal(e->th.count, 3);
	assert_int_equal(e->th.seconds, 5);
	e = det_thconf_entry(c, 1);
	assert_int_equal(e->kind, DET_THC_THRESHOLD);
	assert_int_equal(e->th.type, DET_TH_LIMIT);
	assert_int_equal(e->th.track, DET_TRACK_RULE);
	e = det_thconf_entry(c, 2);
	assert_int_equal(e->kind, DET_THC_RATE);
	assert_int_equal(e->line, 5); /* where the continued line starts */
	assert_int_equal(e->rf.new_action, DET_ACT_DROP);
	assert_int_equal(e->rf.count, 10);
	assert_int_equal(e->rf.seconds, 60);
	assert_int_equal(e->rf.timeout, 300);
	e = det_thconf_entry(c, 3);
	assert_int_equal(e->line, 7);
	assert_int_equal(e->rf.new_action, DET_ACT_REJECT);
	assert_int_equal(e->rf.track, DET_TRACK_BOTH);
	e = det_thconf_entry(c, 4);
	assert_int_equal(e->kind, DET_THC_SUPPRESS);
	assert_int_equal(e->sup_track, DET_SUP_ALL);
	e = det_thconf_entry(c, 5);
	assert_int_equal(e->sup_track, DET_SUP_EITHER);
	assert_int_equal(e->gid, 0);
	{
		static const uint8_t a[16] = { 10, 1, 2, 3 }, dns[16] = { 192, 0, 2, 54 },
				     out[16] = { 192, 0, 2, 55 };

		assert_true(det_thc_suppresses(e, 4, a, out));
		assert_true(det_thc_suppresses(e, 4, out, dns));
		assert_false(det_thc_suppresses(e, 4, out, out));
	}
	e = det_thconf_entry(c, 6);
	assert_int_equal(e->sup_track, DET_SUP_DST);
	{
		static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
				     o6[16] = { 0x20, 0x01, 0x0d, 0xb9, [15] = 1 };

		assert_true(det_thc_suppresses(e, 6, o6, v6));
		assert_false(det_thc_suppresses(e, 6, v6, o6));
	}
	det_thconf_free(c);
	/* nothing but comments is a valid, empty file */
	c = thc_ok("# nothing\n\n   # still nothing\n", NULL);
	assert_int_equal(det_thconf_count(c), 0);
	det_thconf_free(c);
	det_vars_free(vars);
}

/* Is there an error at line:col whose message holds what? */
static bool
has_err(const struct vg_diag *d, unsigned line, unsigned col, const char *what)
{
	for (unsigned i = 0; i < d->n; i++)
		if (d->v[i].sev == VG_SEV_ERROR && d->v[i].line == line &&
				(col == 0 || d->v[i].col == col) &&
				strstr(d->v[i].msg, what) != NULL &&
				strcmp(d->v[i].file, "bad.config") == 0)
			return true;
	return false;
}

static void
test_parse_errors(void **state)
{
	static const char text[] =
			"threshold gen_id 1, sig_id 1, type limit, track by_src, count 1, seconds 1\n"
			"thresold gen_id 1, sig_id 2\n"
			"rate_filter gen_id 1, sig_id 3, track by_src, count 10, seconds 60, "
			"new_action sdrop, timeout 5\n"
			"rate_filter gen_id 1, sig_id 4, track by_src, count 10, seconds 60, "
			"new_action block, timeout 5\n"
			"rate_filter gen_id 1, sig_id 5, track by_src, count 10, seconds 60\n"
			"suppress gen_id 1, sig_id 6, track by_src\n"
			"suppress gen_id 1, sig_id 7, track by_src, ip 10.0.0.300\n"
			"threshold gen_id 1, sig_id 8, type limit, track by_flow, count 1, seconds 1\n"
			"threshold gen_id 1, sig_id x, type limit, track by_src, count 1, seconds 1\n"
			"threshold gen_id 1, sig_id 10, type limit, track by_src, count 0, seconds 1\n"
			"suppress gen_id 1, sig_id 11, sig_id 12\n"
			"suppress gen_id 1, sig_id 13, new_action drop\n"
			"suppress gen_id 1, sig_id 14, track by_rule, ip 1.2.3.4\n"
			"suppress gen_id 1, sig_id 15, track by_src, ip $NOPE\n"
			"# the next line is fine\n"
			"suppress gen_id 1, sig_id 16\n";
	struct det_vars *vars = det_vars_create();
	struct vg_diag d;
	struct det_thconf *c = (struct det_thconf *)1;

	(void)state;
	vg_diag_init(&d);
	assert_int_equal(det_thconf_load_buf("bad.config", text, strlen(text), vars, &d, &c),
			-EINVAL);
	assert_null(c);
	assert_true(has_err(&d, 2, 1, "'thresold' is not a threshold.config entry"));
	assert_true(has_err(&d, 3, 80, "new_action sdrop is not supported"));
	assert_true(has_err(&d, 4, 80, "new_action 'block' is not alert, drop, reject or pass"));
	assert_true(has_err(&d, 5, 1,
			"rate_filter needs gen_id, sig_id, track, count, seconds, "
			"new_action, timeout"));
	assert_true(has_err(&d, 6, 1, "suppress needs"));
	assert_true(has_err(&d, 7, 0, "ip '10.0.0.300'"));
	assert_true(has_err(&d, 8, 0, "track by_flow is not supported"));
	assert_true(has_err(&d, 9, 0, "sig_id 'x' is not a number"));
	assert_true(has_err(&d, 10, 0, "count '0' is not a positive number"));
	assert_true(has_err(&d, 11, 0, "sig_id given twice"));
	assert_true(has_err(&d, 12, 0, "'new_action' is not a suppress option"));
	assert_true(has_err(
			&d, 13, 0, "suppress track 'by_rule' is not by_src, by_dst or by_either"));
	assert_true(has_err(&d, 14, 0, "ip '$NOPE'"));
	/* good lines are not errors, and the summary says the file was refused */
	for (unsigned i = 0; i < d.n; i++)
		assert_true(d.v[i].line != 1 && d.v[i].line != 16);
	assert_int_equal(d.errors, 14);
	assert_true(has_err(&d, 0, 0, "threshold file refused: 13 bad lines"));
	vg_diag_free(&d);
	/* a file that cannot be read */
	vg_diag_init(&d);
	assert_int_equal(det_thconf_load("/nonexistent/threshold.config", NULL, &d, &c), -ENOENT);
	assert_int_equal(d.errors, 1);
	vg_diag_free(&d);
	det_vars_free(vars);
}

/* Open rules and apply a threshold.config to the engine. */
static void
open_with(struct tdet *t, const char *rules, const char *thconf, unsigned warnings)
{
	struct det_thconf *c;
	struct vg_diag d;

	tdet_open(t, rules);
	c = thc_ok(thconf, t->vars);
	vg_diag_init(&d);
	assert_int_equal(det_thconf_apply(t->e, c, &d), 0);
	assert_int_equal(d.warnings, warnings);
	vg_diag_free(&d);
	det_thconf_free(c); /* the engine keeps its own reference */
}

/*
 * Scan a UDP "x" from src:sport to dst:dport at time s (seconds); return the action of sid's
 * match as a letter: 'A' alert, 'D' drop, 'R' reject, 'P' pass, lower case when it does not
 * alert, '.' for no match.
 */
static char
hit(struct tdet *t, uint32_t sid, const uint8_t *src, const uint8_t *dst, uint16_t sport,
		uint16_t dport, double s)
{
	struct det_pkt p = tdet_pkt(IPPROTO_UDP, dport, "x", 1);
	struct det_match m[16];
	int n;

	p.src = src;
	p.dst = dst;
	p.sport = sport;
	p.now_ns = (uint64_t)(s * (double)SEC);
	n = det_scan_packet(t->w, &p, m, 16);
	for (int i = 0; i < n; i++) {
		const struct det_rule_info *ri = det_engine_rule_info(t->e, m[i].rule);
		char c;

		if (ri->sid != sid)
			continue;
		c = m[i].action == DET_ACT_ALERT  ? 'A'
		    : m[i].action == DET_ACT_DROP ? 'D'
		    : m[i].action == DET_ACT_PASS ? 'P'
						  : 'R';
		return (m[i].flags & DET_M_ALERT) ? c : (char)(c - 'A' + 'a');
	}
	return '.';
}

static const uint8_t c1[16] = { 10, 0, 0, 1 }, c2[16] = { 10, 0, 0, 2 }, c3[16] = { 172, 16, 5, 9 },
		     srv[16] = { 192, 0, 2, 80 }, srv2[16] = { 198, 51, 100, 7 };

static void
test_rate_filter(void **state)
{
	/* seconds at which client 1 matches; the filter: more than 3 in 10 s -> drop for 5 s */
	static const double ts[] = { 1, 2, 3, 4, 5, 8, 9.5, 10, 11, 12, 30, 31 };
	struct tdet t;
	char out[32] = { 0 };

	(void)state;
	open_with(&t, "alert udp any any -> any any (content:\"x\"; sid:1;)\n",
			"rate_filter gen_id 1, sig_id 1, track by_src, count 3, seconds 10, "
			"new_action drop, timeout 5\n",
			0);
	for (unsigned i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
		out[i] = hit(&t, 1, c1, srv, 1000, 53, ts[i]);
	/*
	 * 1-3 alert; the 4th (4 s) is over the count: drop until 9 s; 9.5 is after the timeout:
	 * back to alert, a new window (9.5, 10, 11 alert; 12 is the 4th: drop again until 17);
	 * 30 is after it and opens a new window.
	 */
	assert_string_equal(out, "AAADDDAAADAA");
	/* another source is counted apart: its first match alerts while client 1 drops */
	assert_int_equal(hit(&t, 1, c1, srv, 1000, 53, 31.1), 'A');
	tdet_close(&t);

	/* new_action pass: let it through without alert; by_rule counts every source */
	open_with(&t, "drop udp any any -> any any (content:\"x\"; sid:2;)\n",
			"rate_filter gen_id 1, sig_id 2, track by_rule, count 2, seconds 60, "
			"new_action pass, timeout 100\n",
			0);
	assert_int_equal(hit(&t, 2, c1, srv, 1, 53, 1), 'D');
	assert_int_equal(hit(&t, 2, c2, srv, 1, 53, 2), 'D');
	assert_int_equal(hit(&t, 2, c3, srv, 1, 53, 3), 'p');
	assert_int_equal(hit(&t, 2, c1, srv, 1, 53, 4), 'p');
	tdet_close(&t);

	/* new_action alert on a reject rule, with a rule threshold: both apply */
	open_with(&t,
			"reject udp any any -> any any (content:\"x\"; threshold:type limit, "
			"track by_src, count 10, seconds 60; sid:3;)\n",
			"rate_filter gen_id 1, sig_id 3, track by_dst, count 1, seconds 60, "
			"new_action alert, timeout 100\n",
			0);
	assert_int_equal(hit(&t, 3, c1, srv, 1, 53, 1), 'R');
	assert_int_equal(hit(&t, 3, c2, srv, 1, 53, 2), 'A');
	assert_int_equal(hit(&t, 3, c1, srv2, 1, 53, 3), 'R');
	tdet_close(&t);
}

static void
test_suppress(void **state)
{
	struct tdet t;

	(void)state;
	open_with(&t,
			"alert udp any any -> any any (content:\"x\"; sid:1;)\n"
			"drop udp any any -> any any (content:\"x\"; sid:2;)\n"
			"alert udp any any -> any any (content:\"x\"; sid:3;)\n"
			"alert udp any any -> any any (content:\"x\"; sid:4;)\n"
			"alert udp any any -> any any (content:\"x\"; sid:5;)\n",
			"suppress gen_id 1, sig_id 1, track by_src, ip 10.0.0.1\n"
			"suppress gen_id 1, sig_id 2, track by_dst, ip 192.0.2.0/24\n"
			"suppress gen_id 1, sig_id 3, track by_either, ip [172.16.0.0/12, 10.0.0.2]\n"
			"suppress gen_id 1, sig_id 4\n"
			"suppress gen_id 1, sig_id 99\n",
			1);
	/* by_src: only that source is silenced */
	assert_int_equal(hit(&t, 1, c1, srv, 1, 53, 1), '.');
	assert_int_equal(hit(&t, 1, c2, srv, 1, 53, 1), 'A');
	assert_int_equal(hit(&t, 1, srv, c1, 1, 53, 1), 'A');
	/* by_dst with a CIDR: a suppressed drop neither drops nor alerts */
	assert_int_equal(hit(&t, 2, c1, srv, 1, 53, 1), '.');
	assert_int_equal(hit(&t, 2, c1, srv2, 1, 53, 1), 'D');
	assert_int_equal(hit(&t, 2, srv, c1, 1, 53, 1), 'D');
	/* by_either with a list */
	assert_int_equal(hit(&t, 3, c3, srv, 1, 53, 1), '.');
	assert_int_equal(hit(&t, 3, srv, c2, 1, 53, 1), '.');
	assert_int_equal(hit(&t, 3, c1, srv, 1, 53, 1), 'A');
	/* no track: the rule matches (its action applies) but never alerts */
	assert_int_equal(hit(&t, 4, c1, srv, 1, 53, 1), 'a');
	assert_int_equal(hit(&t, 5, c1, srv, 1, 53, 1), 'A');
	tdet_close(&t);
}

static void
test_threshold_override(void **state)
{
	struct tdet t;
	char out[8] = { 0 };

	(void)state;
	/* sid 1's own limit 1 is replaced by limit 3; sid 2 has none: the wildcard gives it
	 * threshold 2; sid 3 keeps its own (a wildcard does not replace it) */
	open_with(&t,
			"alert udp any any -> any any (content:\"x\"; threshold:type limit, "
			"track by_src, count 1, seconds 60; sid:1;)\n"
			"alert udp any any -> any any (content:\"x\"; sid:2;)\n"
			"alert udp any any -> any any (content:\"x\"; threshold:type limit, "
			"track by_src, count 1, seconds 60; sid:3;)\n",
			"threshold gen_id 1, sig_id 1, type limit, track by_src, count 3, seconds 60\n"
			"event_filter gen_id 0, sig_id 0, type threshold, track by_src, count 2, "
			"seconds 60\n",
			0);
	for (unsigned i = 0; i < 5; i++)
		out[i] = hit(&t, 1, c1, srv, 1, 53, 1 + i);
	assert_string_equal(out, "AAAaa");
	/* every packet matches all three rules: each loop has its own source (by_src) */
	for (unsigned i = 0; i < 5; i++)
		out[i] = hit(&t, 2, c2, srv, 1, 53, 1 + i);
	assert_string_equal(out, ".A.A.");
	for (unsigned i = 0; i < 3; i++)
		out[i] = hit(&t, 3, c3, srv, 1, 53, 1 + i);
	out[3] = '\0';
	assert_string_equal(out, "Aaa");
	tdet_close(&t);
}

static void
test_unique_on(void **state)
{
	static const uint16_t dports[] = { 80, 80, 81, 81, 82, 80, 83 };
	struct tdet t;
	char out[16] = { 0 };

	(void)state;
	tdet_open(&t, "alert udp any any -> any any (content:\"x\"; detection_filter:track by_src, "
		      "count 2, seconds 10, unique_on dst_port; sid:1;)\n"
		      "alert udp any any -> any any (content:\"x\"; detection_filter:track by_dst, "
		      "count 1, seconds 10, unique_on src_port; sid:2;)\n");
	/* nothing until a third distinct port; then every match (as detection_filter) */
	for (unsigned i = 0; i < sizeof(dports) / sizeof(dports[0]); i++)
		out[i] = hit(&t, 1, c1, srv, 1000, dports[i], 1 + i * 0.1);
	assert_string_equal(out, "....AAA");
	/* another source counts its own ports */
	assert_int_equal(hit(&t, 1, c2, srv, 1000, 80, 2), '.');
	/* the window closes: counting starts again */
	assert_int_equal(hit(&t, 1, c1, srv, 1000, 90, 20), '.');
	assert_int_equal(hit(&t, 1, c1, srv, 1000, 91, 20.1), '.');
	assert_int_equal(hit(&t, 1, c1, srv, 1000, 92, 20.2), 'A');
	/* src_port by destination: repeats of one source port never reach the count */
	for (unsigned i = 0; i < 4; i++)
		out[i] = hit(&t, 2, c1, srv2, 5555, 53, 1 + i);
	out[4] = hit(&t, 2, c2, srv2, 5556, 53, 5);
	out[5] = '\0';
	assert_string_equal(out, "....A");
	tdet_close(&t);
}

/* threshold type backoff, track by_flow (Suricata's stream-events.rules) */
static void
test_backoff(void **state)
{
	struct tdet t;
	char out[32] = { 0 };

	(void)state;
	tdet_open(&t, "alert udp any any -> any any (content:\"x\"; threshold:type backoff, "
		      "track by_flow, count 1, multiplier 3; sid:1;)\n"
		      "alert udp any any -> any any (content:\"x\"; threshold:type backoff, "
		      "track by_flow, count 4, multiplier 2; sid:2;)\n");
	/* the 1st, 3rd, 9th and 27th matches of a flow alert, whichever way they go; the others
	 * match without an alert ('a') */
	for (unsigned i = 0; i < 27; i++)
		out[i] = i % 2 ? hit(&t, 1, srv, c1, 53, 1000, 1 + i)
			       : hit(&t, 1, c1, srv, 1000, 53, 1 + i);
	assert_string_equal(out, "AaAaaaaaAaaaaaaaaaaaaaaaaaA");
	/* another flow (another port of the same hosts) counts apart, with no window */
	assert_int_equal(hit(&t, 1, c1, srv, 1001, 53, 100000), 'A');
	assert_int_equal(hit(&t, 1, c1, srv, 1001, 53, 200000), 'a');
	/* count 4, multiplier 2: the 4th, 8th and 16th */
	for (unsigned i = 0; i < 16; i++)
		out[i] = hit(&t, 2, c2, srv, 2000, 53, 1 + i);
	out[16] = '\0';
	assert_string_equal(out, "aaaAaaaAaaaaaaaA");
	tdet_close(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_rate_filter),
		cmocka_unit_test(test_suppress),
		cmocka_unit_test(test_threshold_override),
		cmocka_unit_test(test_unique_on),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
