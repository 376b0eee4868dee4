/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's DNS facts (dp_inspect_dns, the path of UDP flows that are not inspected): DNS
 * messages built as bytes, from untrusted senders, through the real application layer. The
 * facts the anomaly detectors read: the first question's name (lower-case, NUL-terminated,
 * a longer name keeping its end), its length (capped at 255) and type. Malformed names (a
 * pointer to itself, a label running off the message, a message shorter than its header)
 * give no facts; a pointer loop between two pointers ends.
 *
 * (dp_dns.c, which the issue names, is gone since d946ffb: this is what replaced it.)
 */
#define VG_TEST_WITH_EAL
#include "vg_test.h"

#include <netinet/in.h>

#include <rte_malloc.h>

#include "al.h"
#include "al_config.h"
#include "al_dns.h"
#include "dp_event.h"
#include "dp_flow.h"
#include "dp_inspect.h"

static struct dp_inspect *in;
static uint8_t *flow_mem;

/* A flow record as the flow table lays one out: its hot line DP_FLOW_COLD_OFF before it. */
static struct dp_flow *
new_flow(void)
{
	memset(flow_mem, 0, DP_FLOW_COLD_OFF + sizeof(struct dp_flow));
	struct dp_flow *f = (struct dp_flow *)(flow_mem + DP_FLOW_COLD_OFF);

	f->det_slot = UINT32_MAX;
	return f;
}

static struct dp_pkt
udp(uint16_t sport, uint16_t dport)
{
	struct dp_pkt p;

	memset(&p, 0, sizeof(p));
	p.l3 = DP_L3_IPV4;
	p.proto = IPPROTO_UDP;
	p.src[0] = 10;
	p.src[3] = 1;
	p.dst[0] = 10;
	p.dst[3] = 53;
	p.sport = sport;
	p.dport = dport;
	return p;
}

/* A message being built. */
struct msg {
	uint8_t b[2048];
	uint32_t len;
};

static void
put(struct msg *m, const void *d, uint32_t n)
{
	memcpy(m->b + m->len, d, n);
	m->len += n;
}

static void
put16(struct msg *m, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(m, b, 2);
}

/* A query header: id, RD, qdcount. */
static void
query_hdr(struct msg *m, uint16_t id, uint16_t qd)
{
	m->len = 0;
	put16(m, id);
	put16(m, 0x0100);
	put16(m, qd);
	put16(m, 0);
	put16(m, 0);
	put16(m, 0);
}

/* A dotted name as labels and the root. */
static void
put_name(struct msg *m, const char *name)
{
	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t l = dot != NULL ? (size_t)(dot - name) : strlen(name);
		uint8_t lb = (uint8_t)l;

		put(m, &lb, 1);
		put(m, name, (uint32_t)l);
		name += l + (dot != NULL);
	}
	put(m, "", 1);
}

/* Run one datagram of a fresh flow through the worker's DNS path. */
static bool
facts(const struct msg *m, const struct dp_pkt *p, unsigned dir, struct dp_event_app *app)
{
	struct dp_flow *f = new_flow();
	bool r;

	memset(app, 0xee, sizeof(*app));
	r = dp_inspect_dns(in, f, m->b, m->len, p, dir, app);
	dp_inspect_flow_end(in, f);
	assert_null(f->al);
	return r;
}

static bool
query_facts(const struct msg *m, struct dp_event_app *app)
{
	struct dp_pkt p = udp(40000, 53);

	return facts(m, &p, 0, app);
}

static void
assert_app(const struct dp_event_app *app, const char *qname, unsigned qname_len, unsigned qtype)
{
	assert_string_equal(app->dns_qname, qname);
	assert_int_equal(app->dns_qname_len, qname_len);
	assert_int_equal(app->dns_qtype, qtype);
	assert_int_equal(app->dns_rcode, 0);
	assert_int_equal(app->dns_response, 0);
}

static void
test_query(void **state)
{
	struct dp_event_app app;
	struct msg m;

	(void)state;
	query_hdr(&m, 0x1234, 1);
	put_name(&m, "WWW.Example.COM");
	put16(&m, 1);
	put16(&m, 1);
	assert_true(query_facts(&m, &app));
	/* Lower-case, the length of the name as sent. */
	assert_app(&app, "www.example.com", 15, 1);

	/* The first question is the one reported. */
	query_hdr(&m, 0x1235, 2);
	put_name(&m, "first.example");
	put16(&m, 28);
	put16(&m, 1);
	put_name(&m, "second.example");
	put16(&m, 16);
	put16(&m, 1);
	assert_true(query_facts(&m, &app));
	assert_app(&app, "first.example", 13, 28);

	/* Two queries on one flow: each datagram its own facts. */
	struct dp_flow *f = new_flow();
	struct dp_pkt p = udp(40000, 53);

	query_hdr(&m, 1, 1);
	put_name(&m, "one.test");
	put16(&m, 1);
	put16(&m, 1);
	assert_true(dp_inspect_dns(in, f, m.b, m.len, &p, 0, &app));
	assert_app(&app, "one.test", 8, 1);
	query_hdr(&m, 2, 1);
	put_name(&m, "TWO.test");
	put16(&m, 16);
	put16(&m, 1);
	assert_true(dp_inspect_dns(in, f, m.b, m.len, &p, 0, &app));
	assert_app(&app, "two.test", 8, 16);
	dp_inspect_flow_end(in, f);
}

/* A name of labels of the given lengths, label i filled with 'A' + i (upper-case). */
static void
long_name(char *out, const unsigned *labels, unsigned n)
{
	size_t k = 0;

	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			out[k++] = '.';
		memset(out + k, 'A' + (int)i, labels[i]);
		k += labels[i];
	}
	out[k] = '\0';
}

static void
check_long(const unsigned *labels, unsigned n)
{
	char name[1100], want[1100];
	struct dp_event_app app;
	struct msg m;
	size_t len, keep = sizeof(app.dns_qname) - 1;

	long_name(name, labels, n);
	len = strlen(name);
	query_hdr(&m, 7, 1);
	put_name(&m, name);
	put16(&m, 16);
	put16(&m, 1);
	assert_true(query_facts(&m, &app));
	/* The end of the name, lower-case, NUL-terminated; the length capped at 255. */
	for (size_t i = 0; i < len; i++)
		want[i] = (char)(name[i] + ('a' - 'A') * (name[i] != '.'));
	want[len] = '\0';
	assert_true(len > keep);
	assert_string_equal(app.dns_qname, want + len - keep);
	assert_int_equal(app.dns_qname_len, len > 255 ? 255 : len);
	assert_int_equal(app.dns_qtype, 16);
}

static void
test_long_names(void **state)
{
	/* 255 bytes on the wire (RFC 1035's limit): 253 as text. */
	const unsigned at_limit[] = { 63, 63, 63, 61 };
	/* Beyond it (the parser renders up to 1025 bytes, as Suricata): 319 as text. */
	const unsigned beyond[] = { 63, 63, 63, 63, 63 };
	/* Just over what the event keeps. */
	const unsigned just_over[] = { 60, 52 };

	(void)state;
	check_long(at_limit, 4);
	check_long(beyond, 5);
	check_long(just_over, 2);

	/* Exactly what the event keeps: all of it. */
	const unsigned fits[] = { 60, 51 };
	char name[200];
	struct dp_event_app app;
	struct msg m;

	long_name(name, fits, 2);
	assert_int_equal(strlen(name), sizeof(app.dns_qname) - 1);
	query_hdr(&m, 7, 1);
	put_name(&m, name);
	put16(&m, 1);
	put16(&m, 1);
	assert_true(query_facts(&m, &app));
	assert_int_equal(strlen(app.dns_qname), 112);
	assert_int_equal(app.dns_qname[0], 'a');
	assert_int_equal(app.dns_qname[111], 'b');
	assert_int_equal(app.dns_qname_len, 112);
}

static void
test_pointers(void **state)
{
	struct dp_event_app app;
	struct msg m;

	(void)state;
	/* "www" then a pointer back to offset 0, whose first byte (the id's high byte, 0) ends
	 * the name: the type is read after the pointer, not after what it points to. */
	query_hdr(&m, 0x0042, 1);
	put(&m, "\003www\300\000", 6);
	put16(&m, 28);
	put16(&m, 1);
	assert_true(query_facts(&m, &app));
	assert_app(&app, "www", 3, 28);

	/* A forward pointer (RFC 1035 allows prior ones only; Suricata follows it, as here):
	 * header 12, "\3www" at 12, the pointer at 16 to 22, type and class at 18, then at 22
	 * "\7example" and the root. */
	query_hdr(&m, 0x0042, 1);
	put(&m, "\003www\300\026", 6);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(m.len, 22);
	put(&m, "\007example\000", 9);
	assert_true(query_facts(&m, &app));
	assert_app(&app, "www.example", 11, 1);
	assert_true(al_ctx_anomalies(dp_inspect_al(in), AL_PROTO_DNS, AL_DNS_FORWARD_POINTER) > 0);

	/* A pointer to itself: the question does not hold together. */
	uint64_t loops = al_ctx_anomalies(dp_inspect_al(in), AL_PROTO_DNS, AL_DNS_INFINITE_LOOP);
	query_hdr(&m, 0x0042, 1);
	put(&m, "\300\014", 2);
	put16(&m, 1);
	put16(&m, 1);
	assert_false(query_facts(&m, &app));
	assert_true(al_ctx_anomalies(dp_inspect_al(in), AL_PROTO_DNS, AL_DNS_INFINITE_LOOP) >
			loops);

	/* Two pointers to each other after a label: the walk ends (255 segments at most). */
	query_hdr(&m, 0x0042, 1);
	uint64_t labels = al_ctx_anomalies(dp_inspect_al(in), AL_PROTO_DNS, AL_DNS_TOO_MANY_LABELS);
	put(&m, "\001a\300\020\300\016", 6); /* 12: "a", 14: -> 16, 16: -> 14 */
	put16(&m, 1);
	/* The name ends where it first jumped (its type is read at 16: c0 0e). */
	assert_true(query_facts(&m, &app));
	assert_app(&app, "a", 1, 0xc00e);
	assert_true(al_ctx_anomalies(dp_inspect_al(in), AL_PROTO_DNS, AL_DNS_TOO_MANY_LABELS) >
			labels);
}

static void
test_malformed(void **state)
{
	struct dp_event_app app;
	struct msg m;

	(void)state;
	/* A label running off the message. */
	query_hdr(&m, 1, 1);
	put(&m, "\007exam", 5);
	assert_false(query_facts(&m, &app));
	/* The same with its type and class after it, the label claiming them. */
	query_hdr(&m, 1, 1);
	put(&m, "\011exam", 5);
	put16(&m, 1);
	put16(&m, 1);
	assert_false(query_facts(&m, &app));
	/* No type after the name. */
	query_hdr(&m, 1, 1);
	put_name(&m, "example.com");
	assert_false(query_facts(&m, &app));
	/* Shorter than a header. */
	query_hdr(&m, 1, 1);
	m.len = 11;
	assert_false(query_facts(&m, &app));
	m.len = 0;
	assert_false(query_facts(&m, &app));
	/* Extended label types (0x40, 0x80). */
	query_hdr(&m, 1, 1);
	put(&m, "\101abc\000", 5);
	put16(&m, 1);
	put16(&m, 1);
	assert_false(query_facts(&m, &app));
	/* Type 0: no facts (0 means none in the event). */
	query_hdr(&m, 1, 1);
	put_name(&m, "zero.type");
	put16(&m, 0);
	put16(&m, 1);
	assert_false(query_facts(&m, &app));
	/* Garbage of every length up to 300: no crash; any facts hold together. */
	for (uint32_t n = 0; n < 300; n++) {
		for (uint32_t i = 0; i < n; i++)
			m.b[i] = (uint8_t)(i * 37 + n);
		m.len = n;
		if (query_facts(&m, &app)) {
			assert_true(strlen(app.dns_qname) < sizeof(app.dns_qname));
			assert_true(app.dns_qtype != 0 || app.dns_response == 1);
			assert_true(app.dns_rcode <= 15);
		}
	}
}

/* A response to msg's query (its id and question), with rcode and one A answer. */
static void
response_of(const struct msg *q, struct msg *r, unsigned rcode)
{
	*r = *q;
	r->b[2] = 0x81; /* QR, RD */
	r->b[3] = (uint8_t)(0x80 | rcode);
	r->b[7] = 1; /* ancount */
	put16(r, 0xc00c);
	put16(r, 1);
	put16(r, 1);
	put16(r, 0);
	put16(r, 60);
	put16(r, 4);
	put(r, "\x0a\x00\x00\x01", 4);
}

/*
 * Responses have facts of their own, flagged: control counts a flow's reply bytes as answers
 * at the response's event (not at whatever later event of the flow), and must not take the
 * response for another query.
 */
static void
test_response(void **state)
{
	struct dp_event_app app;
	struct msg q, r;
	struct dp_flow *f = new_flow();
	struct dp_pkt p = udp(40000, 53);

	(void)state;
	query_hdr(&q, 0x4242, 1);
	put_name(&q, "Data.Tunnel.example");
	put16(&q, 16);
	put16(&q, 1);
	assert_true(dp_inspect_dns(in, f, q.b, q.len, &p, 0, &app));
	assert_app(&app, "data.tunnel.example", 19, 16);
	/* NXDOMAIN, on the same flow: the question it answers, the rcode, the flag. */
	response_of(&q, &r, 3);
	memset(&app, 0xee, sizeof(app));
	assert_true(dp_inspect_dns(in, f, r.b, r.len, &p, 1, &app));
	assert_int_equal(app.dns_response, 1);
	assert_int_equal(app.dns_rcode, 3);
	assert_int_equal(app.dns_answer_bytes, 4); /* one A record */
	assert_int_equal(app.dns_qtype, 16);
	assert_string_equal(app.dns_qname, "data.tunnel.example");
	dp_inspect_flow_end(in, f);

	/* A response whose query was not seen: flagged, its rcode, no question. */
	f = new_flow();
	response_of(&q, &r, 0);
	memset(&app, 0xee, sizeof(app));
	assert_true(dp_inspect_dns(in, f, r.b, r.len, &p, 1, &app));
	assert_int_equal(app.dns_response, 1);
	assert_int_equal(app.dns_rcode, 0);
	assert_int_equal(app.dns_answer_bytes, 4);
	assert_int_equal(app.dns_qtype, 0);
	assert_string_equal(app.dns_qname, "");
	dp_inspect_flow_end(in, f);
}

static void
test_not_dns_path(void **state)
{
	struct dp_event_app app;
	struct msg m;
	struct dp_pkt p = udp(40000, 53);

	(void)state;
	query_hdr(&m, 0x1234, 1);
	put_name(&m, "example.com");
	put16(&m, 1);
	put16(&m, 1);
	/* TCP: not this path. */
	p.proto = IPPROTO_TCP;
	assert_false(facts(&m, &p, 0, &app));
	/* Without the application layer: nothing. */
	struct al_config alc;

	al_config_init(&alc);
	alc.enabled = false;
	struct dp_inspect *off = dp_inspect_create(9, 16, 0, &alc);
	struct dp_flow *f = new_flow();

	assert_non_null(off);
	p.proto = IPPROTO_UDP;
	assert_false(dp_inspect_dns(off, f, m.b, m.len, &p, 0, &app));
	dp_inspect_free(off);
}

static int
setup(void **state)
{
	struct al_config alc;

	(void)state;
	al_config_init(&alc);
	in = dp_inspect_create(0, 16, 0, &alc);
	flow_mem = aligned_alloc(64, DP_FLOW_COLD_OFF + sizeof(struct dp_flow));
	return in == NULL || flow_mem == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	dp_inspect_free(in);
	free(flow_mem);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_pointers),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_not_dns_path),
	};

	if (vg_test_eal_init() != 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
