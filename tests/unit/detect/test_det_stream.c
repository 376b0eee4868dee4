/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Streaming mode: matches split across TCP segments, the stream depth, the confirmation
 * window, once-per-stream reporting, stream state in caller memory, reloads (-ESTALE), and
 * the grouping of stream rules by direction and server port.
 */
#include "det_test.h"

struct tstream {
	void *mem;
	size_t size;
};

static void
ts_open(struct tdet *t, struct tstream *s, const struct det_pkt *p)
{
	s->size = det_stream_state_size(t->e);
	s->mem = aligned_alloc(64, (s->size + 63) & ~(size_t)63);
	assert_non_null(s->mem);
	assert_int_equal(det_stream_open(t->w, s->mem, s->size, p), 0);
}

static void
ts_free(struct tstream *s)
{
	free(s->mem);
	s->mem = NULL;
}

/* Feed one segment; return the number of matches, first sid in *sid, end in *end. */
static int
ts_feed(struct tdet *t, struct tstream *s, struct det_pkt p, const char *data, uint32_t *sid,
		uint32_t *end)
{
	struct det_match m[16];
	int n;

	p.payload = (const uint8_t *)data;
	p.len = (uint32_t)strlen(data);
	n = det_stream_scan(t->w, s->mem, &p, m, 16);
	if (n > 0) {
		if (sid != NULL)
			*sid = det_engine_rule_info(t->e, m[0].rule)->sid;
		if (end != NULL)
			*end = m[0].end;
		assert_true(m[0].flags & DET_M_FLOW);
	}
	return n;
}

static void
test_split_literal(void **state)
{
	struct tdet t;
	struct tstream s;
	struct det_pkt p;
	uint32_t sid = 0, end = 0;

	(void)state;
	tdet_open(&t, "alert tcp any any -> any 80 (content:\"HELLOWORLD\"; sid:1;)\n"
		      "alert tcp any any -> any 80 (content:\"abc\"; content:\"xyz\"; distance:2; "
		      "within:5; sid:2;)\n");
	assert_true(det_stream_state_size(t.e) > 0);
	p = tdet_pkt(IPPROTO_TCP, 80, NULL, 0);
	ts_open(&t, &s, &p);
	assert_int_equal(ts_feed(&t, &s, p, "GET /HELLO", NULL, NULL), 0);
	assert_int_equal(ts_feed(&t, &s, p, "WORLD!", &sid, &end), 1);
	assert_int_equal(sid, 1);
	assert_int_equal(end, 5);
	/* once per stream */
	assert_int_equal(ts_feed(&t, &s, p, "HELLOWORLD", NULL, NULL), 0);
	/* a relative chain split three ways */
	assert_int_equal(ts_feed(&t, &s, p, "ab", NULL, NULL), 0);
	assert_int_equal(ts_feed(&t, &s, p, "c12", NULL, NULL), 0);
	assert_int_equal(ts_feed(&t, &s, p, "xyz", &sid, NULL), 1);
	assert_int_equal(sid, 2);
	assert_int_equal(det_stream_offset(s.mem), 10 + 6 + 10 + 2 + 3 + 3);
	assert_int_equal(det_stream_close(t.w, s.mem, &p, NULL, 0), 0);
	ts_free(&s);

	/* the same bytes as packets do not match stream rules */
	p = tdet_pkt(IPPROTO_TCP, 80, "HELLOWORLD", 10);
	assert_int_equal(tdet_scan(&t, &p, &sid, 1), 0);
	tdet_close(&t);
}

/* Independent contents of one rule: a Hyperscan combination keeps what each has seen. */
static void
test_split_combination(void **state)
{
	struct tdet t;
	struct tstream s;
	struct det_pkt p;
	uint32_t sid = 0;

	(void)state;
	tdet_open(&t, "alert tcp any any -> any any (content:\"alpha\"; content:\"beta\"; "
		      "sid:1;)\n");
	assert_int_equal(t.crep.exact, 1);
	p = tdet_pkt(IPPROTO_TCP, 80, NULL, 0);
	ts_open(&t, &s, &p);
	/* either order, any distance, across segments */
	assert_int_equal(ts_feed(&t, &s, p, "beta ", NULL, NULL), 0);
	assert_int_equal(ts_feed(&t, &s, p, "......", NULL, NULL), 0);
	assert_int_equal(ts_feed(&t, &s, p, "..alp", NULL, NULL), 0);
	assert_int_equal(ts_feed(&t, &s, p, "ha", &sid, NULL), 1);
	assert_int_equal(sid, 1);
	ts_free(&s);
	tdet_close(&t);
}

static void
test_stream_depth(void **state)
{
	struct det_compile_opts o;
	struct tdet t;
	struct tstream s;
	struct det_pkt p;
	uint32_t sid;

	(void)state;
	det_compile_opts_default(&o);
	o.stream_depth = 16;
	tdet_open_opts(&t,
			"alert tcp any any -> any any (content:\"EVIL\"; sid:1;)\n"
			"alert tcp any any -> any any (content:\"BAD\"; sid:2;)\n",
			false, &o);
	p = tdet_pkt(IPPROTO_TCP, 7000, NULL, 0);
	ts_open(&t, &s, &p);
	assert_int_equal(ts_feed(&t, &s, p, "0123456789", NULL, NULL), 0);
	/* BAD ends at byte 16, inside the depth; EVIL would end at 20 */
	assert_int_equal(ts_feed(&t, &s, p, "xxxBADEVIL", &sid, NULL), 1);
	assert_int_equal(sid, 2);
	assert_int_equal(ts_feed(&t, &s, p, "EVIL", NULL, NULL), 0);
	assert_int_equal(det_worker_stats(t.w)->beyond_depth, 4 + 4);
	assert_int_equal(det_stream_offset(s.mem), 24);
	ts_free(&s);
	tdet_close(&t);
}

static void
test_stream_confirm_window(void **state)
{
	static const char *rules =
			"alert tcp any any -> any 21 (content:\"USER\"; pcre:\"/^\\s+root/R\"; sid:1;)\n";
	struct det_compile_opts o;
	struct tdet t;
	struct tstream s;
	struct det_pkt p;
	uint32_t sid = 0;

	(void)state;
	/* the pcre completes in the next segment: the pending hit is retried */
	tdet_open(&t, rules);
	assert_int_equal(t.crep.confirm, 1);
	p = tdet_pkt(IPPROTO_TCP, 21, NULL, 0);
	ts_open(&t, &s, &p);
	assert_int_equal(ts_feed(&t, &s, p, "220 hi\r\nUSER", NULL, NULL), 0);
	assert_int_equal(ts_feed(&t, &s, p, "  ro", NULL, NULL), 0);
	assert_int_equal(ts_feed(&t, &s, p, "ot\r\n", &sid, NULL), 1);
	assert_int_equal(sid, 1);
	/* reported once per stream */
	assert_int_equal(ts_feed(&t, &s, p, "USER root\r\n", NULL, NULL), 0);
	ts_free(&s);
	tdet_close(&t);

	/* with no window, only the segment of the hit is seen: the split match escapes */
	det_compile_opts_default(&o);
	o.stream_window = 0;
	tdet_open_opts(&t, rules, false, &o);
	p = tdet_pkt(IPPROTO_TCP, 21, NULL, 0);
	ts_open(&t, &s, &p);
	assert_int_equal(ts_feed(&t, &s, p, "USER", NULL, NULL), 0);
	assert_int_equal(ts_feed(&t, &s, p, " root", NULL, NULL), 0);
	/* a later hit that holds the whole match is found */
	assert_int_equal(ts_feed(&t, &s, p, "USER root", &sid, NULL), 1);
	ts_free(&s);
	tdet_close(&t);

	/* a small window: the hit falls out of it before the match completes */
	det_compile_opts_default(&o);
	o.stream_window = 8;
	tdet_open_opts(&t, rules, false, &o);
	p = tdet_pkt(IPPROTO_TCP, 21, NULL, 0);
	ts_open(&t, &s, &p);
	assert_int_equal(ts_feed(&t, &s, p, "USER", NULL, NULL), 0);
	assert_int_equal(ts_feed(&t, &s, p, "          ", NULL, NULL), 0);
	assert_int_equal(ts_feed(&t, &s, p, "root", NULL, NULL), 0);
	ts_free(&s);
	tdet_close(&t);
}

static void
test_stream_negation_and_close(void **state)
{
	struct tdet t;
	struct tstream s;
	struct det_pkt p;
	struct det_match m[4];
	int n;

	(void)state;
	tdet_open(&t, "alert tcp any any -> any any (content:\"login\"; content:!\"secure\"; sid:1;)\n"
		      "alert tcp any any -> any any (pcre:\"/bye$/\"; sid:2;)\n");
	/* the negation is confirmed on the window and segment, not left to Hyperscan */
	assert_int_equal(t.crep.exact, 1);
	assert_int_equal(t.crep.confirm, 1);
	p = tdet_pkt(IPPROTO_TCP, 23, NULL, 0);
	/* "login" with no "secure" in what has been seen: reported with its segment */
	ts_open(&t, &s, &p);
	assert_int_equal(ts_feed(&t, &s, p, "login: ", NULL, NULL), 1);
	assert_int_equal(det_stream_close(t.w, s.mem, &p, m, 4), 0);
	ts_free(&s);
	/* "secure" after "login" in the same segment: absent is false, as in Suricata */
	ts_open(&t, &s, &p);
	assert_int_equal(ts_feed(&t, &s, p, "login: secure", NULL, NULL), 0);
	ts_free(&s);
	/* "secure" seen first, in an earlier segment still in the window: never */
	ts_open(&t, &s, &p);
	n = ts_feed(&t, &s, p, "secure ", NULL, NULL);
	n += ts_feed(&t, &s, p, "login: ", NULL, NULL);
	n += det_stream_close(t.w, s.mem, &p, m, 4);
	assert_int_equal(n, 0);
	ts_free(&s);
	/* "secure" in a later segment comes too late: the alert went with "login" */
	ts_open(&t, &s, &p);
	assert_int_equal(ts_feed(&t, &s, p, "login: ", NULL, NULL), 1);
	assert_int_equal(ts_feed(&t, &s, p, "secure", NULL, NULL), 0);
	ts_free(&s);
	/* a '$' at the end of the stream is known only when it closes */
	ts_open(&t, &s, &p);
	n = ts_feed(&t, &s, p, "good bye", NULL, NULL);
	assert_int_equal(n, 0);
	n = det_stream_close(t.w, s.mem, &p, m, 4);
	assert_int_equal(n, 1);
	assert_int_equal(det_engine_rule_info(t.e, m[0].rule)->sid, 2);
	ts_free(&s);
	tdet_close(&t);
}

static void
test_stream_directions(void **state)
{
	struct tdet t;
	struct tstream cs, ss;
	struct det_pkt c, sv;
	uint32_t sid = 0;

	(void)state;
	tdet_open(&t, "alert tcp any any -> any 80 (flow:to_server; content:\"GET\"; sid:1;)\n"
		      "alert tcp any 80 -> any any (flow:to_client; content:\"200 OK\"; sid:2;)\n"
		      "alert tcp any any -> any 8080 (content:\"GET\"; sid:3;)\n");
	c = tdet_pkt(IPPROTO_TCP, 80, NULL, 0);
	sv = tdet_reply(c);
	ts_open(&t, &cs, &c);
	ts_open(&t, &ss, &sv);
	assert_int_equal(ts_feed(&t, &cs, c, "200 OK GET /", &sid, NULL), 1);
	assert_int_equal(sid, 1);
	assert_int_equal(ts_feed(&t, &ss, sv, "GET 200 OK", &sid, NULL), 1);
	assert_int_equal(sid, 2);
	ts_free(&cs);
	ts_free(&ss);
	/* port 8080's group */
	c = tdet_pkt(IPPROTO_TCP, 8080, NULL, 0);
	ts_open(&t, &cs, &c);
	assert_int_equal(ts_feed(&t, &cs, c, "GET /", &sid, NULL), 1);
	assert_int_equal(sid, 3);
	ts_free(&cs);
	/* a port no stream rule names: no group, nothing scanned, still counted */
	c = tdet_pkt(IPPROTO_TCP, 9999, NULL, 0);
	ts_open(&t, &cs, &c);
	assert_int_equal(ts_feed(&t, &cs, c, "GET /", NULL, NULL), 0);
	assert_int_equal(det_stream_offset(cs.mem), 5);
	ts_free(&cs);
	tdet_close(&t);
}

static void
test_stream_state_and_reload(void **state)
{
	struct tdet t;
	struct det_set *set2;
	struct det_engine *e2;
	struct det_load_opts o;
	struct vg_diag d;
	struct tstream s;
	struct det_pkt p;
	uint8_t small[64] __attribute__((aligned(16)));
	uint32_t sid = 0;
	const char *r2 = "alert tcp any any -> any any (content:\"NEW\"; sid:7;)";

	(void)state;
	tdet_open(&t, "alert tcp any any -> any any (content:\"OLD\"; sid:1;)");
	p = tdet_pkt(IPPROTO_TCP, 80, NULL, 0);
	assert_int_equal(det_stream_open(t.w, small, sizeof(small), &p), -ENOSPC);
	assert_int_equal(det_stream_open(t.w, small + 1, sizeof(small) - 1, &p), -EINVAL);
	/* zeroed memory reads as a stream to open */
	ts_open(&t, &s, &p);
	memset(s.mem, 0, s.size);
	p.payload = (const uint8_t *)"x";
	p.len = 1;
	assert_int_equal(det_stream_scan(t.w, s.mem, &p, NULL, 0), -ESTALE);
	assert_int_equal(det_stream_open(t.w, s.mem, s.size, &p), 0);
	assert_int_equal(ts_feed(&t, &s, p, "OL", NULL, NULL), 0);

	/* a new engine: the worker moves over; the old stream says so and is reopened */
	det_load_opts_default(&o);
	vg_diag_init(&d);
	set2 = det_load_buf("r2", r2, strlen(r2), &o, NULL, &d);
	assert_non_null(set2);
	e2 = det_compile(set2, NULL, NULL, &d);
	assert_non_null(e2);
	det_set_free(set2); /* the engine keeps its own reference */
	assert_true(det_engine_generation(e2) != det_engine_generation(t.e));
	assert_int_equal(det_worker_rebind(t.w, e2), 0);
	p.payload = (const uint8_t *)"D";
	p.len = 1;
	assert_int_equal(det_stream_scan(t.w, s.mem, &p, NULL, 0), -ESTALE);
	assert_int_equal(det_stream_close(t.w, s.mem, &p, NULL, 0), -ESTALE);
	assert_true(det_stream_state_size(e2) <= s.size);
	assert_int_equal(det_stream_open(t.w, s.mem, s.size, &p), 0);
	det_engine_free(t.e);
	t.e = e2;
	assert_int_equal(ts_feed(&t, &s, p, "OLD NEW", &sid, NULL), 1);
	assert_int_equal(sid, 7);
	ts_free(&s);
	vg_diag_free(&d);
	tdet_close(&t);
}

/* A bit set by the client's stream is seen by the server's; a reload clears the bits. */
static void
test_stream_flowbits(void **state)
{
	struct tdet t;
	struct tstream cs, ss;
	struct det_pkt c, sv;
	uint8_t fb[64];
	uint32_t sid = 0;

	(void)state;
	memset(fb, 0xff, sizeof(fb)); /* garbage from another engine is cleared on first use */
	tdet_open(&t, "alert tcp any any -> any 21 (flow:to_server; content:\"USER anonymous\"; "
		      "flowbits:set,anon; noalert; sid:1;)\n"
		      "alert tcp any 21 -> any any (flow:to_client; content:\"230 \"; "
		      "flowbits:isset,anon; sid:2;)\n");
	c = tdet_pkt(IPPROTO_TCP, 21, NULL, 0);
	c.flowbits = fb;
	sv = tdet_reply(c);
	ts_open(&t, &cs, &c);
	ts_open(&t, &ss, &sv);
	assert_int_equal(ts_feed(&t, &ss, sv, "220 ready\r\n", NULL, NULL), 0);
	assert_int_equal(ts_feed(&t, &cs, c, "USER anonymous\r\n", &sid, NULL), 1);
	assert_int_equal(ts_feed(&t, &ss, sv, "230 welcome\r\n", &sid, NULL), 1);
	assert_int_equal(sid, 2);
	ts_free(&cs);
	ts_free(&ss);
	tdet_close(&t);
}

/* Many streams at once, each in its own memory: they do not disturb each other. */
static void
test_many_streams(void **state)
{
	enum { N = 64 };
	struct tdet t;
	struct tstream s[N];
	struct det_pkt p;
	int hits = 0;

	(void)state;
	tdet_open(&t, "alert tcp any any -> any any (content:\"needle\"; sid:1;)");
	p = tdet_pkt(IPPROTO_TCP, 80, NULL, 0);
	for (int i = 0; i < N; i++)
		ts_open(&t, &s[i], &p);
	for (int i = 0; i < N; i++)
		hits += ts_feed(&t, &s[i], p, (i % 2) ? "nee" : "xxx", NULL, NULL);
	for (int i = 0; i < N; i++)
		hits += ts_feed(&t, &s[i], p, "dle", NULL, NULL);
	assert_int_equal(hits, N / 2);
	for (int i = 0; i < N; i++) {
		assert_int_equal(det_stream_close(t.w, s[i].mem, NULL, NULL, 0), 0);
		ts_free(&s[i]);
	}
	tdet_close(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_literal),
		cmocka_unit_test(test_split_combination),
		cmocka_unit_test(test_stream_depth),
		cmocka_unit_test(test_stream_confirm_window),
		cmocka_unit_test(test_stream_negation_and_close),
		cmocka_unit_test(test_stream_directions),
		cmocka_unit_test(test_stream_state_and_reload),
		cmocka_unit_test(test_stream_flowbits),
		cmocka_unit_test(test_many_streams),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
