/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DNS parser: hand-written messages (rendering, compression, limits, anomalies, splits,
 * gaps, memory) and the suricata-verify DNS cases, checked for the buffers and numbers their
 * test.rules need.
 */
#include "vg_test.h"

#include "al.h"
#include "al_dns.h"
#include "al_test_feed.h"
#include "al_tx_dump.h"

/* ---- building messages ---- */

struct wb {
	uint8_t b[8192];
	uint32_t n;
};

static void
wb_bytes(struct wb *w, const void *p, size_t n)
{
	memcpy(w->b + w->n, p, n);
	w->n += (uint32_t)n;
}

static void
wb_u16(struct wb *w, uint16_t v)
{
	w->b[w->n++] = (uint8_t)(v >> 8);
	w->b[w->n++] = (uint8_t)v;
}

static void
wb_u32(struct wb *w, uint32_t v)
{
	wb_u16(w, (uint16_t)(v >> 16));
	wb_u16(w, (uint16_t)v);
}

/* A dotted name as labels ("" is the root). */
static void
wb_name(struct wb *w, const char *dotted)
{
	while (*dotted != '\0') {
		const char *dot = strchr(dotted, '.');
		size_t n = dot != NULL ? (size_t)(dot - dotted) : strlen(dotted);

		w->b[w->n++] = (uint8_t)n;
		wb_bytes(w, dotted, n);
		dotted += n + (dot != NULL);
	}
	w->b[w->n++] = 0;
}

static void
wb_hdr(struct wb *w, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns,
		uint16_t ar)
{
	w->n = 0;
	wb_u16(w, id);
	wb_u16(w, flags);
	wb_u16(w, qd);
	wb_u16(w, an);
	wb_u16(w, ns);
	wb_u16(w, ar);
}

static void
wb_question(struct wb *w, const char *name, uint16_t type)
{
	wb_name(w, name);
	wb_u16(w, type);
	wb_u16(w, 1);
}

/* A record whose owner name was written already: type, class IN, ttl, rdata. */
static void
wb_rr_tail(struct wb *w, uint16_t type, const void *rdata, uint16_t rdlen)
{
	wb_u16(w, type);
	wb_u16(w, 1);
	wb_u32(w, 300);
	wb_u16(w, rdlen);
	wb_bytes(w, rdata, rdlen);
}

/* www.example.com A, id 0x1234, RD */
static void
msg_query(struct wb *w, uint16_t id, const char *name, uint16_t type)
{
	wb_hdr(w, id, 0x0100, 1, 0, 0, 0);
	wb_question(w, name, type);
}

/* ---- a flow fed by hand ---- */

struct fx {
	struct al_ctx *c;
	struct al_flow *f;
	struct txd_log log;
};

static void
fx_open(struct fx *x, const struct al_limits *l, bool tcp)
{
	memset(x, 0, sizeof(*x));
	x->c = al_ctx_create(l);
	assert_non_null(x->c);
	x->f = al_flow_new(x->c, tcp, 40000, 53);
	assert_non_null(x->f);
}

static int
fx_feed(struct fx *x, unsigned dir, const void *d, uint32_t n)
{
	return al_feed(x->c, x->f, dir, d, n, txd_cb, &x->log);
}

/* A TCP message: the two-byte length, then the message. */
static int
fx_feed_tcp(struct fx *x, unsigned dir, const struct wb *w)
{
	uint8_t pfx[2] = { (uint8_t)(w->n >> 8), (uint8_t)w->n };

	fx_feed(x, dir, pfx, 2);
	return fx_feed(x, dir, w->b, w->n);
}

/* Close both directions, free the flow: nothing may stay in the arena. */
static void
fx_close(struct fx *x)
{
	al_close(x->c, x->f, AL_TO_SERVER, txd_cb, &x->log);
	al_close(x->c, x->f, AL_TO_CLIENT, txd_cb, &x->log);
	al_flow_free(x->c, x->f);
	assert_int_equal(al_ctx_mem_used(x->c), 0);
	al_ctx_free(x->c);
	txd_free(&x->log);
}

static void
expect(const struct fx *x, const char *line)
{
	if (!txd_has(&x->log, line))
		fail_msg("missing \"%s\" in:\n%s", line, x->log.s != NULL ? x->log.s : "(empty)");
}

static void
expect_not(const struct fx *x, const char *line)
{
	if (txd_has(&x->log, line))
		fail_msg("unexpected \"%s\" in:\n%s", line, x->log.s);
}

/* ---- hand-written messages ---- */

/* A query and its response over UDP: names through pointers, types, header numbers. */
static void
test_udp_query_response(void **state)
{
	(void)state;
	struct fx x;
	struct wb w;

	fx_open(&x, NULL, false);
	msg_query(&w, 0x1234, "www.example.com", 1);
	assert_int_equal(fx_feed(&x, AL_TO_SERVER, w.b, w.n), 0);
	assert_int_equal(al_flow_proto(x.f), AL_PROTO_DNS);
	expect(&x, "tx 0 stage 0x1 ts\n"
		   "  dns.query ts #0 = www.example.com\n"
		   "  dns.id ts #0 = 4660\n"
		   "  dns.opcode ts #0 = 0\n"
		   "  dns.flags ts #0 = 256\n"
		   "  dns.rrtype ts #0 = 1\n");
	assert_int_equal(x.log.calls, 1);

	/* CNAME cdn.example.com (its rdata points into the question), then its A record */
	wb_hdr(&w, 0x1234, 0x8183, 1, 2, 0, 0);
	wb_question(&w, "www.example.com", 1);
	wb_bytes(&w, "\xc0\x0c", 2);
	wb_rr_tail(&w, 5,
			"\x03"
			"cdn\xc0\x10",
			6);
	wb_bytes(&w, "\xc0\x2d", 2);
	wb_rr_tail(&w, 1, "\x01\x02\x03\x04", 4);
	assert_int_equal(fx_feed(&x, AL_TO_CLIENT, w.b, w.n), 0);
	expect(&x, "tx 0 stage 0x2 tc\n"
		   "  dns.answer.name tc #0 = www.example.com\n"
		   "  dns.answer.name tc #1 = cdn.example.com\n"
		   "  dns.query.name tc #0 = www.example.com\n"
		   "  dns.rcode tc #0 = 3\n"
		   "  dns.answer.rrtype tc #0 = 5\n"
		   "  dns.answer.rrtype tc #1 = 1\n");
	assert_int_equal(x.log.calls, 2);
	/* complete and reported: freed at once */
	assert_int_equal(al_ctx_counter(x.c, AL_CTR_TX), 1);
	fx_close(&x);
}

struct grab {
	unsigned calls;
	bool has[4];
	uint32_t len[4];
	uint8_t name[4][64];
	bool has_type[4];
	uint64_t type[4];
};

static void
grab_cb(void *arg, const struct al_tx *tx, unsigned stage, unsigned dir)
{
	struct grab *g = arg;

	(void)dir;
	if (stage != AL_ST_DNS_REQUEST)
		return;
	g->calls++;
	for (unsigned i = 0; i < 4; i++) {
		const uint8_t *p;

		g->has[i] = al_tx_buf(tx, AL_BUF_DNS_QUERY, i, &p, &g->len[i]);
		if (g->has[i])
			memcpy(g->name[i], p, g->len[i] < 64 ? g->len[i] : 64);
		g->has_type[i] = al_tx_num(tx, AL_NUM_DNS_QTYPE, i, &g->type[i]);
	}
}

/* Label bytes as sent: a '.' or a NUL inside a label stays; the root name is no buffer. */
static void
test_name_rendering(void **state)
{
	(void)state;
	struct al_ctx *c = al_ctx_create(NULL);
	struct al_flow *f = al_flow_new(c, false, 40000, 53);
	struct grab g = { 0 };
	struct wb w;

	wb_hdr(&w, 7, 0x0100, 3, 0, 0, 0);
	wb_bytes(&w,
			"\x05"
			"a.b\x00\xff\x03"
			"com\x00",
			11);
	wb_u16(&w, 16);
	wb_u16(&w, 1);
	wb_question(&w, "", 2); /* the root: NS . */
	wb_question(&w, "x", 28);
	assert_int_equal(al_feed(c, f, AL_TO_SERVER, w.b, w.n, grab_cb, &g), 0);
	assert_int_equal(g.calls, 1);
	assert_true(g.has[0]);
	assert_int_equal(g.len[0], 9);
	assert_memory_equal(g.name[0], "a.b\x00\xff.com", 9);
	assert_false(g.has[1]); /* empty: absent, as Suricata's getter */
	assert_true(g.has[2]);
	assert_memory_equal(g.name[2], "x", 1);
	assert_false(g.has[3]);
	/* the types keep their index */
	assert_true(g.has_type[0] && g.has_type[1] && g.has_type[2]);
	assert_int_equal(g.type[0], 16);
	assert_int_equal(g.type[1], 2);
	assert_int_equal(g.type[2], 28);
	assert_false(g.has_type[3]);
	al_flow_free(c, f);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

/* Compression pointers: loops end, names stay bounded, each case is the right anomaly. */
static void
test_compression_bounds(void **state)
{
	(void)state;
	struct fx x;
	struct wb w;
	char line[2048];

	fx_open(&x, NULL, false);
	/* a pointer to itself before any jump: the message does not hold (malformed) */
	wb_hdr(&w, 1, 0x0100, 1, 0, 0, 0);
	wb_bytes(&w, "\xc0\x0c\x00\x01\x00\x01", 6);
	fx_feed(&x, AL_TO_SERVER, w.b, w.n);
	expect(&x, "tx 0 stage 0x1 ts\n"
		   "  dns.id ts #0 = 1\n"
		   "  dns.opcode ts #0 = 0\n"
		   "  dns.flags ts #0 = 256\n"
		   "  dns.rcode ts #0 = 0\n"
		   "  anomaly malformed_data\n"
		   "  anomaly infinite_loop\n");
	/* two pointers to each other: stopped at 255 segments, the name is cut and empty */
	wb_hdr(&w, 2, 0x0100, 1, 0, 0, 0);
	wb_bytes(&w, "\xc0\x0e\xc0\x0c\x00\x01", 6);
	fx_feed(&x, AL_TO_SERVER, w.b, w.n);
	expect(&x, "tx 1 stage 0x1 ts\n"
		   "  dns.id ts #0 = 2\n"
		   "  dns.opcode ts #0 = 0\n"
		   "  dns.flags ts #0 = 256\n"
		   "  dns.rrtype ts #0 = 49164\n"
		   "  dns.rcode ts #0 = 0\n"
		   "  anomaly name_too_long\n"
		   "  anomaly too_many_labels\n"
		   "  anomaly forward_pointer\n");
	/* a label then a pointer back before it: "abc" repeated until the segment limit */
	wb_hdr(&w, 3, 0x0100, 1, 0, 0, 0);
	wb_bytes(&w,
			"\x03"
			"abc\xc0\x0c\x00\x01\x00\x01",
			10);
	fx_feed(&x, AL_TO_SERVER, w.b, w.n);
	strcpy(line, "  dns.query ts #0 = abc");
	for (int i = 1; i < 128; i++)
		strcat(line, ".abc");
	strcat(line, "\n");
	expect(&x, line);
	expect(&x, "  anomaly too_many_labels\n");
	/* a name of 20 labels of 63 bytes: cut at 1025 bytes */
	wb_hdr(&w, 4, 0x0100, 1, 0, 0, 0);
	for (int i = 0; i < 20; i++) {
		w.b[w.n++] = 63;
		memset(w.b + w.n, 'a' + i, 63);
		w.n += 63;
	}
	w.b[w.n++] = 0;
	wb_u16(&w, 1);
	wb_u16(&w, 1);
	fx_feed(&x, AL_TO_SERVER, w.b, w.n);
	char *q = strstr(x.log.s, "tx 3 stage 0x1 ts\n  dns.query ts #0 = ");

	assert_non_null(q);
	q += strlen("tx 3 stage 0x1 ts\n  dns.query ts #0 = ");
	assert_int_equal(strchr(q, '\n') - q, AL_DNS_NAME_MAX);
	/* a pointer after a jump that points to itself: ends the name there */
	wb_hdr(&w, 5, 0x0100, 1, 0, 0, 0);
	wb_bytes(&w, "\xc0\x12\x00\x01\x00\x01", 6);
	wb_bytes(&w, "\x01z\xc0\x14", 4); /* at 18: "z", then at 20 a pointer to 20 */
	fx_feed(&x, AL_TO_SERVER, w.b, w.n);
	expect(&x, "tx 4 stage 0x1 ts\n"
		   "  dns.query ts #0 = z\n");
	/* a pointer past the message: malformed */
	wb_hdr(&w, 6, 0x0100, 1, 0, 0, 0);
	wb_bytes(&w, "\xc1\x00\x00\x01\x00\x01", 6);
	fx_feed(&x, AL_TO_SERVER, w.b, w.n);
	expect(&x, "tx 5 stage 0x1 ts\n"
		   "  dns.id ts #0 = 6\n"
		   "  dns.opcode ts #0 = 0\n"
		   "  dns.flags ts #0 = 256\n"
		   "  dns.rcode ts #0 = 0\n"
		   "  anomaly malformed_data\n");
	assert_int_equal(al_ctx_anomalies(x.c, AL_PROTO_DNS, AL_DNS_INFINITE_LOOP), 2);
	assert_int_equal(al_ctx_anomalies(x.c, AL_PROTO_DNS, AL_DNS_TOO_MANY_LABELS), 2);
	assert_int_equal(al_ctx_anomalies(x.c, AL_PROTO_DNS, AL_DNS_NAME_TOO_LONG), 3);
	assert_int_equal(al_ctx_anomalies(x.c, AL_PROTO_DNS, AL_DNS_MALFORMED_DATA), 2);
	fx_close(&x);
}

/* A TCP conversation fed whole, one byte at a time, and in 3-byte pieces: the same log. */
static void
tcp_conversation(struct txd_log *out, unsigned piece)
{
	struct fx x;
	struct wb s, r, w;

	fx_open(&x, NULL, true);
	/* to the server: two queries and a zero length between them, in one stream */
	s.n = 0;
	msg_query(&w, 0x0a0a, "example.org", 1);
	wb_u16(&s, (uint16_t)w.n);
	wb_bytes(&s, w.b, w.n);
	wb_u16(&s, 0);
	msg_query(&w, 0x0b0b, "mail.example.org", 15);
	wb_u16(&s, (uint16_t)w.n);
	wb_bytes(&s, w.b, w.n);
	/* to the client: the answers in reverse order */
	r.n = 0;
	wb_hdr(&w, 0x0b0b, 0x8180, 1, 1, 0, 0);
	wb_question(&w, "mail.example.org", 15);
	wb_bytes(&w, "\xc0\x0c", 2);
	wb_rr_tail(&w, 15, "\x00\x0a\x02mx\xc0\x11", 7);
	wb_u16(&r, (uint16_t)w.n);
	wb_bytes(&r, w.b, w.n);
	wb_hdr(&w, 0x0a0a, 0x8180, 1, 1, 0, 0);
	wb_question(&w, "example.org", 1);
	wb_bytes(&w, "\xc0\x0c", 2);
	wb_rr_tail(&w, 1, "\x0a\x00\x00\x01", 4);
	wb_u16(&r, (uint16_t)w.n);
	wb_bytes(&r, w.b, w.n);
	for (uint32_t off = 0; off < s.n; off += piece)
		fx_feed(&x, AL_TO_SERVER, s.b + off, off + piece <= s.n ? piece : s.n - off);
	for (uint32_t off = 0; off < r.n; off += piece)
		fx_feed(&x, AL_TO_CLIENT, r.b + off, off + piece <= r.n ? piece : r.n - off);
	*out = x.log;
	x.log = (struct txd_log){ 0 };
	fx_close(&x);
}

static void
test_tcp_splits(void **state)
{
	(void)state;
	struct txd_log whole, one, three;

	tcp_conversation(&whole, 100000);
	tcp_conversation(&one, 1);
	tcp_conversation(&three, 3);
	assert_string_equal(whole.s, one.s);
	assert_string_equal(whole.s, three.s);
	assert_non_null(strstr(whole.s, "tx 1 stage 0x2 tc\n"
					"  dns.answer.name tc #0 = mail.example.org\n"
					"  dns.query.name tc #0 = mail.example.org\n"
					"  dns.rcode tc #0 = 0\n"
					"  dns.answer.rrtype tc #0 = 15\n"));
	assert_non_null(strstr(whole.s, "tx 0 stage 0x2 tc\n"
					"  dns.answer.name tc #0 = example.org\n"));
	txd_free(&whole);
	txd_free(&one);
	txd_free(&three);
}

/* dns_max_names and dns_max_tx: names past the limit and the oldest request are let go. */
static void
test_limits(void **state)
{
	(void)state;
	struct al_limits l;
	struct fx x;
	struct wb w;

	al_limits_default(&l);
	l.dns_max_names = 2;
	l.dns_max_tx = 2;
	fx_open(&x, &l, false);
	wb_hdr(&w, 1, 0x0100, 3, 0, 0, 0);
	wb_question(&w, "a.test", 1);
	wb_question(&w, "b.test", 1);
	wb_question(&w, "c.test", 1);
	fx_feed(&x, AL_TO_SERVER, w.b, w.n);
	expect(&x, "  dns.query ts #1 = b.test\n");
	expect_not(&x, "c.test");
	expect(&x, "  dns.rrtype ts #1 = 1\n"
		   "  dns.rcode ts #0 = 0\n"
		   "  anomaly too_many_names\n");
	msg_query(&w, 2, "d.test", 1);
	fx_feed(&x, AL_TO_SERVER, w.b, w.n);
	/* a third pending request: the first (id 1) is final without its response */
	msg_query(&w, 3, "e.test", 1);
	fx_feed(&x, AL_TO_SERVER, w.b, w.n);
	expect(&x, "tx 0 stage 0x2 tc\n"
		   "  anomaly too_many_names\n"
		   "  anomaly too_many_transactions\n");
	/* its late response stands alone */
	wb_hdr(&w, 1, 0x8180, 1, 0, 0, 0);
	wb_question(&w, "a.test", 1);
	fx_feed(&x, AL_TO_CLIENT, w.b, w.n);
	expect(&x, "tx 3 stage 0x2 tc\n"
		   "  dns.query.name tc #0 = a.test\n");
	/* the others still match */
	wb_hdr(&w, 3, 0x8180, 1, 0, 0, 0);
	wb_question(&w, "e.test", 1);
	fx_feed(&x, AL_TO_CLIENT, w.b, w.n);
	expect(&x, "tx 2 stage 0x2 tc\n"
		   "  dns.query.name tc #0 = e.test\n");
	assert_int_equal(al_ctx_anomalies(x.c, AL_PROTO_DNS, AL_DNS_TOO_MANY_TRANSACTIONS), 1);
	fx_close(&x);
}

/* Each of Suricata's DNS events, and the transaction it lands in. */
static void
test_anomalies(void **state)
{
	(void)state;
	struct fx x;
	struct wb w;

	fx_open(&x, NULL, false);
	msg_query(&w, 1, "ok.test", 1);
	fx_feed(&x, AL_TO_SERVER, w.b, w.n);
	/* a response sent to the server: only its header, not_request */
	wb_hdr(&w, 1, 0x8180, 1, 0, 0, 0);
	wb_question(&w, "ok.test", 1);
	fx_feed(&x, AL_TO_SERVER, w.b, w.n);
	expect(&x, "tx 1 stage 0x1 ts\n"
		   "  dns.id ts #0 = 1\n"
		   "  dns.opcode ts #0 = 0\n"
		   "  dns.flags ts #0 = 33152\n"
		   "  dns.rcode ts #0 = 0\n"
		   "  anomaly not_request\n");
	/* a query sent to the client: taken as the response (of tx 0), not_response */
	msg_query(&w, 1, "ok.test", 1);
	fx_feed(&x, AL_TO_CLIENT, w.b, w.n);
	expect(&x, "tx 0 stage 0x2 tc\n"
		   "  dns.query.name tc #0 = ok.test\n"
		   "  dns.rcode tc #0 = 0\n"
		   "  dns.opcode tc #0 = 0\n"
		   "  anomaly not_response\n");
	/* Z flag, opcode 7 */
	wb_hdr(&w, 2, 0x0140, 1, 0, 0, 0);
	wb_question(&w, "z.test", 1);
	fx_feed(&x, AL_TO_SERVER, w.b, w.n);
	expect(&x, "  dns.query ts #0 = z.test\n"
		   "  dns.id ts #0 = 2\n"
		   "  dns.opcode ts #0 = 0\n"
		   "  dns.flags ts #0 = 320\n"
		   "  dns.rrtype ts #0 = 1\n"
		   "  dns.rcode ts #0 = 0\n"
		   "  anomaly z_flag_set\n");
	wb_hdr(&w, 3, 0x3900, 1, 0, 0, 0);
	wb_question(&w, "op.test", 1);
	fx_feed(&x, AL_TO_SERVER, w.b, w.n);
	expect(&x, "  dns.opcode ts #0 = 7\n"
		   "  dns.flags ts #0 = 14592\n"
		   "  dns.rrtype ts #0 = 1\n"
		   "  dns.rcode ts #0 = 0\n"
		   "  anomaly invalid_opcode\n");
	/* a question cut short, and a datagram shorter than a header */
	msg_query(&w, 4, "cut.test", 1);
	fx_feed(&x, AL_TO_SERVER, w.b, w.n - 3);
	expect(&x, "  dns.id ts #0 = 4\n"
		   "  dns.opcode ts #0 = 0\n"
		   "  dns.flags ts #0 = 256\n"
		   "  dns.rcode ts #0 = 0\n"
		   "  anomaly malformed_data\n");
	fx_feed(&x, AL_TO_SERVER, "\x00\x05\x01", 3);
	/* a response whose authority record is cut: its answers stay, invalid_authorities */
	wb_hdr(&w, 2, 0x8180, 1, 1, 1, 0);
	wb_question(&w, "z.test", 1);
	wb_bytes(&w, "\xc0\x0c", 2);
	wb_rr_tail(&w, 1, "\x0a\x00\x00\x02", 4);
	wb_bytes(&w, "\xc0\x0c\x00\x06", 4);
	fx_feed(&x, AL_TO_CLIENT, w.b, w.n);
	expect(&x, "  dns.answer.name tc #0 = z.test\n"
		   "  dns.query.name tc #0 = z.test\n"
		   "  dns.rcode tc #0 = 0\n"
		   "  dns.answer.rrtype tc #0 = 1\n"
		   "  dns.opcode tc #0 = 0\n"
		   "  anomaly z_flag_set\n"
		   "  anomaly invalid_authorities\n");
	/* TXT rdata with no string: answers must parse, so malformed */
	wb_hdr(&w, 3, 0x8180, 1, 1, 0, 0);
	wb_question(&w, "op.test", 16);
	wb_bytes(&w, "\xc0\x0c", 2);
	wb_rr_tail(&w, 16, "", 0);
	fx_feed(&x, AL_TO_CLIENT, w.b, w.n);
	assert_int_equal(al_ctx_anomalies(x.c, AL_PROTO_DNS, AL_DNS_NOT_REQUEST), 1);
	assert_int_equal(al_ctx_anomalies(x.c, AL_PROTO_DNS, AL_DNS_NOT_RESPONSE), 1);
	assert_int_equal(al_ctx_anomalies(x.c, AL_PROTO_DNS, AL_DNS_Z_FLAG_SET), 1);
	assert_int_equal(al_ctx_anomalies(x.c, AL_PROTO_DNS, AL_DNS_INVALID_OPCODE), 1);
	assert_int_equal(al_ctx_anomalies(x.c, AL_PROTO_DNS, AL_DNS_MALFORMED_DATA), 3);
	assert_int_equal(al_ctx_anomalies(x.c, AL_PROTO_DNS, AL_DNS_INVALID_AUTHORITIES), 1);
	/* names as rules spell them */
	assert_int_equal(al_anomaly_find(AL_PROTO_DNS, "not_request"), AL_DNS_NOT_REQUEST);
	assert_int_equal(al_anomaly_find(AL_PROTO_DNS, "invalid_additionals"),
			AL_DNS_INVALID_ADDITIONALS);
	fx_close(&x);
}

/* A TXT record is one answer per string, as Suricata expands it. */
static void
test_txt_expansion(void **state)
{
	(void)state;
	struct fx x;
	struct wb w;

	fx_open(&x, NULL, false);
	msg_query(&w, 9, "t.test", 16);
	fx_feed(&x, AL_TO_SERVER, w.b, w.n);
	wb_hdr(&w, 9, 0x8180, 1, 1, 0, 0);
	wb_question(&w, "t.test", 16);
	wb_bytes(&w, "\xc0\x0c", 2);
	wb_rr_tail(&w, 16, "\x02hi\x05there\x00", 10);
	fx_feed(&x, AL_TO_CLIENT, w.b, w.n);
	expect(&x, "  dns.answer.name tc #2 = t.test\n"
		   "  dns.query.name tc #0 = t.test\n"
		   "  dns.rcode tc #0 = 0\n"
		   "  dns.answer.rrtype tc #0 = 16\n"
		   "  dns.answer.rrtype tc #1 = 16\n"
		   "  dns.answer.rrtype tc #2 = 16\n");
	fx_close(&x);
}

/* Over TCP, a hole inside a message keeps the framing; one across messages resyncs. */
static void
test_tcp_gap(void **state)
{
	(void)state;
	struct fx x;
	struct wb w;

	fx_open(&x, NULL, true);
	msg_query(&w, 1, "one.test", 1);
	fx_feed_tcp(&x, AL_TO_SERVER, &w);
	msg_query(&w, 2, "two.test", 1);
	uint8_t pfx[2] = { 0, (uint8_t)w.n };

	fx_feed(&x, AL_TO_SERVER, pfx, 2);
	fx_feed(&x, AL_TO_SERVER, w.b, 5);
	al_gap(x.c, x.f, AL_TO_SERVER, 10);
	fx_feed(&x, AL_TO_SERVER, w.b + 15, w.n - 15);
	msg_query(&w, 3, "three.test", 1);
	fx_feed_tcp(&x, AL_TO_SERVER, &w);
	expect(&x, "  dns.query ts #0 = one.test\n");
	expect_not(&x, "two.test");
	expect(&x, "  dns.query ts #0 = three.test\n");
	/* a hole larger than the rest of the message: the next message start is found */
	msg_query(&w, 4, "four.test", 1);
	fx_feed(&x, AL_TO_SERVER, pfx, 2);
	fx_feed(&x, AL_TO_SERVER, w.b, 4);
	al_gap(x.c, x.f, AL_TO_SERVER, 100);
	fx_feed(&x, AL_TO_SERVER, "garbage bytes", 13);
	msg_query(&w, 5, "five.test", 1);
	uint8_t m[64] = { 0, (uint8_t)w.n };

	memcpy(m + 2, w.b, w.n);
	fx_feed(&x, AL_TO_SERVER, m, w.n + 2);
	expect(&x, "  dns.query ts #0 = five.test\n");
	expect_not(&x, "four.test");
	fx_close(&x);
}

/* A small arena runs out: allocations fail and are counted, nothing leaks or crashes. */
static void
test_memcap(void **state)
{
	(void)state;
	struct al_limits l;
	struct fx x;
	struct wb w;

	al_limits_default(&l);
	l.memcap = 1u << 20;
	l.dns_max_tx = 1000000;
	l.dns_max_names = 1000;
	fx_open(&x, &l, false);
	wb_hdr(&w, 0, 0x0100, 30, 0, 0, 0);
	for (int i = 0; i < 30; i++) {
		for (int k = 0; k < 3; k++) {
			w.b[w.n++] = 63;
			memset(w.b + w.n, 'q', 63);
			w.n += 63;
		}
		w.b[w.n++] = 0;
		wb_u16(&w, 1);
		wb_u16(&w, 1);
	}
	for (uint32_t id = 0; id < 400; id++) {
		w.b[0] = (uint8_t)(id >> 8);
		w.b[1] = (uint8_t)id;
		al_feed(x.c, x.f, AL_TO_SERVER, w.b, w.n, NULL, NULL);
	}
	assert_true(al_ctx_counter(x.c, AL_CTR_MEMCAP) > 0);
	fx_close(&x);
}

/* On DNS's port detection takes what Suricata's probe takes; elsewhere it stays strict. */
static void
test_probe_dns_port(void **state)
{
	(void)state;
	struct wb w;
	uint8_t tcp[64];
	bool more;

	/* opcode 9 (dns-invalid-opcode) */
	wb_hdr(&w, 1, 0x4900, 1, 0, 0, 0);
	wb_question(&w, "suricata.io", 1);
	assert_int_equal(al_probe(w.b, w.n, false, 0, 5333, 53, &more), AL_PROTO_DNS);
	assert_int_equal(al_probe(w.b, w.n, false, 0, 5333, 9999, &more), AL_PROTO_NONE);
	/* 1500 questions announced, the first name longer than what came (truncated-rname) */
	wb_hdr(&w, 2, 0x0100, 1500, 0, 0, 0);
	w.b[w.n++] = 63;
	memset(w.b + w.n, 'a', 40);
	w.n += 40;
	tcp[0] = 0x41;
	tcp[1] = 0x85;
	memcpy(tcp + 2, w.b, w.n);
	assert_int_equal(al_probe(tcp, w.n + 2, true, 0, 40000, 53, &more), AL_PROTO_DNS);
	assert_int_equal(al_probe(tcp, w.n + 2, true, 0, 40000, 1053, &more), AL_PROTO_NONE);
	/* more records than the message can hold is not DNS, even on its port */
	tcp[0] = 0;
	tcp[1] = 40;
	assert_int_equal(al_probe(tcp, w.n + 2, true, 0, 40000, 53, &more), AL_PROTO_NONE);
}

/* ---- suricata-verify cases ---- */

struct sv {
	struct txd_log log;
	bool ran;
};

static bool
sv_run(struct sv *s, const char *rel)
{
	memset(s, 0, sizeof(*s));
	s->ran = atf_replay(rel, &s->log, NULL);
	return s->ran;
}

static void
sv_expect(const struct sv *s, const char *line, unsigned times)
{
	unsigned n = txd_count(&s->log, line);

	if (n != times)
		fail_msg("\"%s\" %u times, not %u, in:\n%s", line, n, times, s->log.s);
}

/* dns.queries.rrname, dns.response.rrname: the question in both directions. */
static void
test_sv_query_name(void **state)
{
	(void)state;
	struct sv s;

	if (!sv_run(&s, "suricata-verify-more/dns_dns-query-name/input.pcap"))
		return;
	sv_expect(&s, "  dns.query ts #0 = www.suricata-ids.org\n", 1);
	sv_expect(&s, "  dns.query.name tc #0 = www.suricata-ids.org\n", 1);
	/* the CNAME chain's owner names */
	sv_expect(&s, "  dns.answer.name tc #1 = suricata-ids.org\n", 1);
	txd_free(&s.log);
	assert_true(atf_replay_splits_agree("suricata-verify-more/dns_dns-query-name/input.pcap"));
}

/* dns.answers.rrname content "oisf" to_client (the request's answers are not kept). */
static void
test_sv_answer_name(void **state)
{
	(void)state;
	struct sv s;

	if (!sv_run(&s, "suricata-verify-more/dns_dns-answer-name/dns-udp-request-with-answer.pcap"))
		return;
	sv_expect(&s, "  dns.answer.name tc #0 = oisf.net\n", 1);
	sv_expect(&s, "  dns.answer.name tc #1 = oisf.net\n", 1);
	sv_expect(&s, "  dns.query ts #0 = oisf.net\n", 1);
	txd_free(&s.log);
}

/* The first question points forward to the second: both read codemonkey.net. */
static void
test_sv_forward_pointer(void **state)
{
	(void)state;
	struct sv s;

	if (!sv_run(&s, "suricata-verify-more/dns_dns-forward-pointer/input.pcap"))
		return;
	sv_expect(&s,
			"  dns.query ts #0 = codemonkey.net\n"
			"  dns.query ts #1 = codemonkey.net\n"
			"  dns.id ts #0 = 36356\n",
			1);
	sv_expect(&s, "  dns.answer.name tc #0 = codemonkey.net\n", 1);
	sv_expect(&s, "  anomaly malformed_data\n", 0);
	txd_free(&s.log);
}

/* dns.rcode:3 and !2 to_client */
static void
test_sv_rcode(void **state)
{
	(void)state;
	struct sv s;

	if (!sv_run(&s, "suricata-verify-more/dns_dns-rcode/input.pcap"))
		return;
	sv_expect(&s, "  dns.rcode tc #0 = 3\n", 1);
	/* the request's header was edited to carry rcode 3 too (its flags word) */
	sv_expect(&s, "  dns.flags ts #0 = 291\n", 1);
	txd_free(&s.log);
}

/* dns.rrtype:1 to_server, the answers' types to_client. */
static void
test_sv_rrtype(void **state)
{
	(void)state;
	struct sv s;

	if (!sv_run(&s, "suricata-verify-more/dns_dns-rrtype/input.pcap"))
		return;
	sv_expect(&s, "  dns.rrtype ts #0 = 1\n", 4);
	sv_expect(&s, "  dns.answer.rrtype tc #0 = 1\n", 3);
	sv_expect(&s,
			"  dns.answer.rrtype tc #0 = 5\n"
			"  dns.answer.rrtype tc #1 = 1\n",
			1);
	txd_free(&s.log);
}

/* dns.opcode:4 (NOTIFY) to_server */
static void
test_sv_opcode(void **state)
{
	(void)state;
	struct sv s;

	if (!sv_run(&s, "suricata-verify-more/dns-opcode/dns-notify.pcap"))
		return;
	sv_expect(&s, "  dns.opcode ts #0 = 4\n", 1);
	txd_free(&s.log);
}

/* app-layer-event:dns.invalid_opcode once per direction, on a message of opcode 9. */
static void
test_sv_invalid_opcode(void **state)
{
	(void)state;
	struct sv s;

	if (!sv_run(&s, "suricata-verify-more/dns_dns-invalid-opcode/input.pcap"))
		return;
	sv_expect(&s,
			"  dns.query ts #0 = suricata.io\n"
			"  dns.id ts #0 = 1\n"
			"  dns.opcode ts #0 = 9\n",
			1);
	sv_expect(&s, "  dns.answer.name tc #0 = suricata.io\n", 1);
	sv_expect(&s, "  anomaly invalid_opcode\n", 2); /* reported at both stages */
	sv_expect(&s, "  anomaly malformed_data\n", 0);
	txd_free(&s.log);
}

/* TCP on 5353: an answer without its query, then a query split over two segments. */
static void
test_sv_incomplete(void **state)
{
	(void)state;
	struct sv s;

	if (!sv_run(&s, "suricata-verify-more/dns_dns-incomplete/input.pcap"))
		return;
	sv_expect(&s, "  dns.query ts #0 = google.com\n", 1);
	sv_expect(&s, "  dns.query ts #0 = google.net\n", 1);
	sv_expect(&s,
			"tx 1 stage 0x2 tc\n"
			"  dns.answer.name tc #0 = google.com\n",
			1);
	txd_free(&s.log);
	assert_true(atf_replay_splits_agree("suricata-verify-more/dns_dns-incomplete/input.pcap"));
}

/* dns_query content google, pcre /google\.com$/ over UDP and TCP, and the Z flag event. */
static void
test_sv_detect_query(void **state)
{
	(void)state;
	struct sv s;

	if (sv_run(&s, "suricata-verify-more/dns_dns-query_dns-detect-query-01/input.pcap")) {
		sv_expect(&s, "  dns.query ts #0 = google.com\n", 1);
		txd_free(&s.log);
	}
	if (sv_run(&s, "suricata-verify-more/dns_dns-query_dns-detect-query-03/input.pcap")) {
		sv_expect(&s, "  dns.query ts #0 = google.com\n", 1);
		txd_free(&s.log);
	}
	if (sv_run(&s, "suricata-verify-more/dns_dns-query_dns-detect-query-04/input.pcap")) {
		sv_expect(&s, "  dns.query ts #0 = google.com\n", 1);
		txd_free(&s.log);
	}
	if (sv_run(&s, "suricata-verify-more/dns_dns-query_dns-detect-query-05/input.pcap")) {
		sv_expect(&s, "tx 0 stage 0x1 ts\n  dns.query ts #0 = google.com\n", 1);
		sv_expect(&s, "tx 1 stage 0x1 ts\n  dns.query ts #0 = google.net\n", 1);
		/* the response (packet 2) has the Z bit */
		sv_expect(&s, "  dns.answer.rrtype tc #0 = 1\n  dns.opcode tc #0 = 0\n  anomaly z_flag_set\n",
				1);
		txd_free(&s.log);
	}
}

/* Three queries over one TCP connection, all with id 0: each answer finds its own. */
static void
test_sv_task_7018(void **state)
{
	(void)state;
	struct sv s;

	if (!sv_run(&s, "suricata-verify-more/dns_task-7018-ids-dns-keywords/input.pcap"))
		return;
	sv_expect(&s, "tx 0 stage 0x1 ts\n  dns.query ts #0 = suricata.io\n", 1);
	sv_expect(&s, "tx 0 stage 0x2 tc\n  dns.answer.name tc #0 = suricata.io\n", 1);
	sv_expect(&s, "tx 1 stage 0x1 ts\n  dns.query ts #0 = oisf.net\n", 1);
	sv_expect(&s, "tx 2 stage 0x1 ts\n  dns.query ts #0 = suricata.org\n", 1);
	sv_expect(&s, "tx 2 stage 0x2 tc\n  dns.answer.name tc #0 = suricata.org\n", 1);
	txd_free(&s.log);
	assert_true(atf_replay_splits_agree(
			"suricata-verify-more/dns_task-7018-ids-dns-keywords/input.pcap"));
}

/* MX answers: owner names kept, exchanges (rdata) parsed but not a buffer. */
static void
test_sv_response_mx(void **state)
{
	(void)state;
	struct sv s;

	if (!sv_run(&s, "suricata-verify-more/dns_dns-response-mx/dns-udp-google.com-a-aaaa-mx.pcap"))
		return;
	sv_expect(&s, "  dns.answer.rrtype tc #4 = 15\n", 1);
	sv_expect(&s, "  dns.answer.rrtype tc #11 = 1\n", 1);
	sv_expect(&s, "anomaly", 0);
	txd_free(&s.log);
}

/* A query name of 16 KB of labels over TCP (port 1053, seen here as 53): cut at 1025. */
static void
test_sv_truncated_rname(void **state)
{
	(void)state;
	struct sv s;

	atf_port_from = 1053;
	atf_port_to = 53;
	bool ran = sv_run(&s, "suricata-verify-more/dns_dns-truncated-rname/poc2.pcap");

	atf_port_from = atf_port_to = 0;
	if (!ran)
		return;
	sv_expect(&s, "  anomaly name_too_long\n", 2);
	const char *q = strstr(s.log.s, "  dns.query ts #0 = ");

	assert_non_null(q);
	q += strlen("  dns.query ts #0 = ");
	assert_int_equal(strchr(q, '\n') - q, AL_DNS_NAME_MAX);
	txd_free(&s.log);
}

/* LLMNR: the answer comes from another address, a flow of its own that starts with it. */
static void
test_sv_llmnr(void **state)
{
	(void)state;
	struct sv s;

	if (!sv_run(&s, "suricata-verify/llmnr_llmnr-udp/input.pcap"))
		return;
	sv_expect(&s, "  dns.query ts #0 = hs2011\n  dns.id ts #0 = 49985\n", 1);
	sv_expect(&s, "  dns.answer.name tc #0 = HS2011\n", 1);
	sv_expect(&s, "  dns.query.name tc #0 = hs2011\n", 1);
	sv_expect(&s, "anomaly", 0);
	txd_free(&s.log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_query_response),
		cmocka_unit_test(test_name_rendering),
		cmocka_unit_test(test_compression_bounds),
		cmocka_unit_test(test_tcp_splits),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_anomalies),
		cmocka_unit_test(test_txt_expansion),
		cmocka_unit_test(test_tcp_gap),
		cmocka_unit_test(test_memcap),
		cmocka_unit_test(test_probe_dns_port),
		cmocka_unit_test(test_sv_query_name),
		cmocka_unit_test(test_sv_answer_name),
		cmocka_unit_test(test_sv_forward_pointer),
		cmocka_unit_test(test_sv_rcode),
		cmocka_unit_test(test_sv_rrtype),
		cmocka_unit_test(test_sv_opcode),
		cmocka_unit_test(test_sv_invalid_opcode),
		cmocka_unit_test(test_sv_incomplete),
		cmocka_unit_test(test_sv_detect_query),
		cmocka_unit_test(test_sv_task_7018),
		cmocka_unit_test(test_sv_response_mx),
		cmocka_unit_test(test_sv_truncated_rname),
		cmocka_unit_test(test_sv_llmnr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
