/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Events as rules: decode-event, stream-event, <proto>-csum and app-layer-event's generic
 * names; the mapping table (det_event.c); Suricata's own decoder-events.rules,
 * stream-events.rules and app-layer-events.rules, each rule loaded or refused with a reason.
 */
#include <ctype.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>

#include "det_test.h"

#include "det_event.h"
#include "det_rule.h"

static int
parse_one(const char *text, struct det_parse_err *err)
{
	struct det_parse_ctx ctx = { 0 };
	struct det_vars *v = det_vars_create();
	struct det_rule *r = NULL;
	int rc;

	assert_non_null(v);
	assert_int_equal(det_vars_set_defaults(v), 0);
	ctx.vars = v;
	memset(err, 0, sizeof(*err));
	rc = det_rule_parse(text, "t.rules", 1, &ctx, &r, err);
	det_rule_free(r);
	det_vars_free(v);
	return rc;
}

/* The table: names unique per kind, every row mapped or explained, every event reachable. */
static void
test_table(void **state)
{
	unsigned n;
	const struct det_event_map *t = det_event_table(&n);
	uint64_t reached = 0;

	(void)state;
	assert_true(n > 100);
	for (unsigned i = 0; i < n; i++) {
		assert_true(t[i].kind < DET_EVK__COUNT);
		for (unsigned j = 0; j < i; j++)
			if (t[j].kind == t[i].kind && strcmp(t[j].name, t[i].name) == 0)
				fail_msg("%s listed twice", t[i].name);
		if (t[i].event < 0) {
			assert_non_null(t[i].why);
			assert_true(strlen(t[i].why) > 20);
			assert_true(strncmp(t[i].why, "Vigil", 5) == 0);
		} else {
			assert_true(t[i].event < DET_EV__COUNT);
			assert_null(t[i].why);
			reached |= DET_EV_BIT(t[i].event);
		}
		assert_ptr_equal(det_event_find(t[i].kind, t[i].name), &t[i]);
	}
	for (unsigned e = 0; e < DET_EV__COUNT; e++) {
		if (!(reached >> e & 1))
			fail_msg("event %s has no rule name", det_event_name(e));
		assert_string_not_equal(det_event_name(e), "?");
	}
	assert_null(det_event_find(DET_EVK_DECODE, "reassembly_seq_gap"));
	assert_non_null(det_event_find(DET_EVK_STREAM, "reassembly_seq_gap"));
}

static void
test_parse_errors(void **state)
{
	struct det_parse_err e;

	(void)state;
	assert_int_equal(parse_one("alert pkthdr any any -> any any (decode-event:ipv4.trunc_pkt; "
				   "sid:1;)",
					 &e),
			0);
	assert_int_equal(parse_one("alert pkthdr any any -> any any "
				   "(decode-event:decoder.ipv4.trunc_pkt; sid:1;)",
					 &e),
			0);
	assert_int_equal(parse_one("alert tcp any any -> any any (stream-event:reassembly_seq_gap; "
				   "tcpv4-csum:valid; sid:1;)",
					 &e),
			0);
	/* refused with the table's reason, at the value */
	assert_int_equal(
			parse_one("alert pkthdr any any -> any any (decode-event:gre.pkt_too_small; "
				  "sid:7;)",
					&e),
			-EINVAL);
	assert_int_equal(e.reason, DET_R_UNSUPPORTED_MODIFIER);
	assert_string_equal(e.keyword, "decode-event");
	assert_non_null(strstr(e.msg, "does not decode tunnels"));
	assert_int_equal(e.off, 46);
	assert_int_equal(parse_one("alert tcp any any -> any any (stream-event:est_invalid_ack; "
				   "sid:7;)",
					 &e),
			-EINVAL);
	assert_non_null(strstr(e.msg, "sequence and acknowledgement"));
	/* wrong keyword for the name, unknown names, bad values */
	assert_int_equal(parse_one("alert tcp any any -> any any (decode-event:fin_syn; sid:7;)",
					 &e),
			-EINVAL);
	assert_non_null(strstr(e.msg, "use stream-event:fin_syn"));
	assert_int_equal(parse_one("alert tcp any any -> any any (stream-event:ipv4.trunc_pkt; "
				   "sid:7;)",
					 &e),
			-EINVAL);
	assert_non_null(strstr(e.msg, "use decode-event:ipv4.trunc_pkt"));
	assert_int_equal(parse_one("alert tcp any any -> any any (decode-event:ipv4.nonsense; "
				   "sid:7;)",
					 &e),
			-EINVAL);
	assert_int_equal(e.reason, DET_R_INVALID_VALUE);
	assert_non_null(strstr(e.msg, "no such event"));
	assert_int_equal(parse_one("alert tcp any any -> any any (tcpv4-csum:maybe; sid:7;)", &e),
			-EINVAL);
	assert_non_null(strstr(e.msg, "expected valid or invalid"));
	assert_int_equal(parse_one("alert ip any any -> any any (igmp-csum:invalid; sid:7;)", &e),
			-EINVAL);
	assert_non_null(strstr(e.msg, "IGMP"));
	assert_int_equal(parse_one("alert tcp any any -> any any (app-layer-event:"
				   "applayer_mismatch_protocol_both_directions; sid:7;)",
					 &e),
			-EINVAL);
	assert_non_null(strstr(e.msg, "Vigil's protocol detection"));
}

static bool
has(struct tdet *t, const struct det_pkt *p, uint32_t sid, bool events_only)
{
	struct det_match m[64];
	int n = events_only ? det_scan_events(t->w, p, m, 64) : det_scan_packet(t->w, p, m, 64);

	assert_true(n >= 0);
	for (int i = 0; i < n; i++)
		if (det_engine_rule_info(t->e, m[i].rule)->sid == sid)
			return true;
	return false;
}

static void
test_match(void **state)
{
	static const uint8_t v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t v6b[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	struct tdet t;
	struct det_pkt p;

	(void)state;
	tdet_open(&t, "alert pkthdr any any -> any any (decode-event:ipv4.trunc_pkt; sid:1;)\n"
		      "alert pkthdr any any -> any any (decode-event:ethernet.pkt_too_small; sid:2;)\n"
		      "alert ip any any -> any any (decode-event:ethernet.pkt_too_small; sid:3;)\n"
		      "alert tcp any any -> any any (tcpv4-csum:invalid; sid:4;)\n"
		      "alert tcp any any -> any any (tcpv4-csum:valid; sid:5;)\n"
		      "alert udp any any -> any any (udpv6-csum:invalid; sid:6;)\n"
		      "alert ipv6 any any -> any any (decode-event:ipv6.icmpv4; sid:7;)\n"
		      "drop tcp any any -> any 80 (stream-event:reassembly_seq_gap; content:\"GET\"; "
		      "sid:8;)\n"
		      "alert tcp any any -> any any (stream-event:fin_syn; flow:to_server; sid:9;)\n"
		      "alert ip any any -> any any (content:\"GET\"; sid:10;)\n");
	assert_int_equal(t.crep.header + t.crep.confirm + t.crep.exact, 10);

	/* a clean IPv4 TCP packet: only csum:valid and the plain content rule */
	p = tdet_pkt(IPPROTO_TCP, 80, "GET /", 5);
	assert_true(has(&t, &p, 5, false));
	assert_true(has(&t, &p, 10, false));
	assert_false(has(&t, &p, 4, false));
	assert_false(has(&t, &p, 1, false));
	assert_false(has(&t, &p, 8, false));
	/* not IP-only: every packet, not the first alone */
	p.flags &= (uint8_t)~DET_PKT_FIRST;
	assert_true(has(&t, &p, 5, false));
	/* the checksum event */
	p.events = DET_EV_BIT(DET_EV_TCPV4_CSUM);
	assert_true(has(&t, &p, 4, false));
	assert_false(has(&t, &p, 5, false));
	/* a gap before a segment with the content: the drop rule; without the content, none */
	p.events = DET_EV_BIT(DET_EV_STREAM_GAP);
	assert_true(has(&t, &p, 8, false));
	assert_true(has(&t, &p, 5, false));
	p.payload = (const uint8_t *)"POST /";
	p.len = 6;
	assert_false(has(&t, &p, 8, false));
	/* flow keywords still apply */
	p.events = DET_EV_BIT(DET_EV_TCP_SYN_FIN);
	assert_true(has(&t, &p, 9, false));
	p = tdet_reply(p);
	assert_false(has(&t, &p, 9, false));

	/* tcpv4-csum:valid is about IPv4 TCP only */
	p = tdet_pkt(IPPROTO_UDP, 53, "x", 1);
	assert_false(has(&t, &p, 5, false));
	p = tdet_pkt(IPPROTO_TCP, 80, "x", 1);
	p.family = 6;
	p.src = v6a;
	p.dst = v6b;
	assert_false(has(&t, &p, 5, false));
	/* udpv6-csum:invalid and the ipv6 protocol */
	p.proto = IPPROTO_UDP;
	p.events = DET_EV_BIT(DET_EV_UDPV6_CSUM);
	assert_true(has(&t, &p, 6, false));
	p.proto = IPPROTO_ICMP;
	p.events = DET_EV_BIT(DET_EV_IPV6_ICMPV4);
	assert_true(has(&t, &p, 7, false));
	p.family = 4;
	p.src = tdet_client;
	p.dst = tdet_server;
	assert_false(has(&t, &p, 7, false));

	/* packets the parser refused: det_scan_events, no flow, maybe no IP */
	memset(&p, 0, sizeof(p));
	p.events = DET_EV_BIT(DET_EV_ETH_TOO_SMALL);
	assert_true(has(&t, &p, 2, true));  /* pkthdr: any frame */
	assert_false(has(&t, &p, 3, true)); /* ip: an IP packet only */
	assert_false(has(&t, &p, 1, true));
	p = tdet_pkt(IPPROTO_TCP, 80, "GET", 3);
	p.flags = 0;
	p.events = DET_EV_BIT(DET_EV_IPV4_TRUNC);
	assert_true(has(&t, &p, 1, true));
	assert_false(has(&t, &p, 10, true)); /* not an event rule */
	assert_false(has(&t, &p, 9, true));  /* flow:to_server needs a direction */
	p.proto = IPPROTO_UDP;
	p.events = DET_EV_BIT(DET_EV_TCPV4_CSUM);
	assert_false(has(&t, &p, 4, true)); /* a tcp rule, a UDP packet */
	tdet_close(&t);
}

struct file_result {
	unsigned rules, loaded, refused, refused_by_table;
};

/*
 * Parse every rule of one of Suricata's event files on its own: each loads or is refused with
 * a reason; a rule on an event the table refuses is refused with the table's reason; a rule
 * on a mapped event loads unless another keyword of it is refused (said in the message).
 */
static struct file_result
check_file(const char *name)
{
	char path[512], line[4096];
	struct file_result res = { 0 };
	FILE *f;

	snprintf(path, sizeof(path), "%s/suricata-rules/%s", VIGIL_TESTDATA, name);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("%s: cannot open", path);
	print_message("%s:\n", name);
	while (fgets(line, sizeof(line), f) != NULL) {
		struct det_parse_err e;
		const struct det_event_map *m = NULL;
		char ev[96] = "";
		const char *k;
		int rc;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		res.rules++;
		if ((k = strstr(line, "decode-event:")) != NULL) {
			sscanf(k + 13, "%95[^;]", ev);
			m = det_event_find(DET_EVK_DECODE, ev);
		} else if ((k = strstr(line, "stream-event:")) != NULL) {
			sscanf(k + 13, "%95[^;]", ev);
			m = det_event_find(DET_EVK_STREAM, ev);
		} else if ((k = strstr(line, "-csum:")) != NULL) {
			const char *b = k;

			while (b > line && (isalnum((unsigned char)b[-1])))
				b--;
			snprintf(ev, sizeof(ev), "%.*s", (int)(k - b), b);
			m = det_event_find(DET_EVK_CSUM, ev);
		}
		rc = parse_one(line, &e);
		if (rc == 0) {
			res.loaded++;
			print_message("  loaded  sid %u %s\n", e.sid, ev);
			/* a rule that loads names an event Vigil sees */
			if (m != NULL)
				assert_true(m->event >= 0);
			continue;
		}
		assert_int_equal(rc, -EINVAL);
		res.refused++;
		assert_true(strlen(e.msg) > 10);
		print_message("  refused sid %u %s: %s: %s\n", e.sid, ev, e.keyword, e.msg);
		if (m != NULL && m->event < 0) {
			/* the header may be refused first (igmp); else the table's reason */
			if (strstr(e.msg, m->why) == NULL && e.reason != DET_R_UNSUPPORTED_PROTOCOL)
				fail_msg("sid %u: refused with \"%s\", want the table's reason",
						e.sid, e.msg);
			res.refused_by_table++;
		}
		if (m != NULL && m->event >= 0)
			assert_string_not_equal(
					e.keyword, k[0] == 'd' ? "decode-event" : "stream-event");
	}
	fclose(f);
	print_message("%s: %u rules, %u loaded, %u refused (%u by the event table)\n", name,
			res.rules, res.loaded, res.refused, res.refused_by_table);
	assert_int_equal(res.loaded + res.refused, res.rules);
	return res;
}

static void
test_suricata_files(void **state)
{
	struct file_result r;

	(void)state;
	{
		char probe[512];

		/* ../shared/testdata is outside the repository: a clone without it skips this */
		snprintf(probe, sizeof(probe), "%s/suricata-rules/decoder-events.rules",
				VIGIL_TESTDATA);
		if (access(probe, R_OK) != 0) {
			print_message("%s: not here; skipped\n", probe);
			skip();
		}
	}
	r = check_file("decoder-events.rules");
	assert_int_equal(r.rules, 123);
	assert_int_equal(r.loaded, 40);
	assert_int_equal(r.refused_by_table, 83);
	r = check_file("stream-events.rules");
	assert_int_equal(r.rules, 59);
	/* the rules on the mapped events (fin_syn and reassembly_overlap_different_data with
	 * threshold type backoff, pkt_retransmission with flowint) load; every other is refused
	 * by the table */
	assert_int_equal(r.loaded, 4);
	assert_int_equal(r.refused_by_table, 55);
	r = check_file("app-layer-events.rules");
	assert_int_equal(r.rules, 6);
	assert_int_equal(r.loaded, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_suricata_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
