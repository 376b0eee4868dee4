/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HTTP/1.x parser: hand-written exchanges for each feature (every buffer checked byte for
 * byte, each exchange also fed one byte at a time and in random splits, which must give the
 * same reports), limits, decompression bombs, gaps, and real captures from suricata-verify
 * whose rules say which bytes each buffer must hold for Suricata's signatures to match.
 */
#include "vg_test.h"

#include <zlib.h>

#include "al.h"
#include "al_http.h"
#include "al_pcap.h"

/* ---- recording what the parser reports ---- */

#define MAX_TX 16

struct snap {
	const struct al_tx *tx; /* while it lives */
	bool have[AL_BUF__COUNT];
	uint8_t *p[AL_BUF__COUNT];
	uint32_t n[AL_BUF__COUNT];
	bool hnum[AL_NUM__COUNT];
	uint64_t num[AL_NUM__COUNT];
	uint64_t anomalies;
	unsigned stage_calls[8];	    /* per stage bit */
	uint32_t n_at_stage[AL_BUF__COUNT]; /* a buffer's length when its stage was reported */
};

/* Transactions in the order of their first report (several flows of a capture included). */
struct rec {
	struct snap tx[MAX_TX];
	unsigned ntx;
	char *log; /* every report, serialised: splits must give the same */
	size_t len, cap;
};

static void
log_add(struct rec *r, const void *p, size_t n)
{
	if (r->len + n + 1 > r->cap) {
		r->cap = (r->len + n + 1) * 2;
		r->log = realloc(r->log, r->cap);
		assert_non_null(r->log);
	}
	memcpy(r->log + r->len, p, n);
	r->len += n;
}

static struct snap *
snap_of(struct rec *r, const struct al_tx *tx, unsigned stage)
{
	/* a transaction's first report has only that stage ready */
	if (tx->ready == stage) {
		assert_true(r->ntx < MAX_TX);
		r->tx[r->ntx].tx = tx;
		return &r->tx[r->ntx++];
	}
	for (unsigned i = r->ntx; i-- > 0;)
		if (r->tx[i].tx == tx)
			return &r->tx[i];
	fail_msg("a report of an unknown transaction");
	return NULL;
}

/* Copy the buffers final so far (all of them: a trailer may have grown the headers). */
static void
snap_copy(struct snap *s, const struct al_tx *tx)
{
	for (unsigned b = AL_BUF_NONE + 1; b < AL_BUF__COUNT; b++) {
		const struct al_buf_info *bi = al_buf_info((enum al_buf)b);
		const uint8_t *p;
		uint32_t n;

		if (bi->proto != AL_PROTO_HTTP || !al_tx_buf(tx, (enum al_buf)b, 0, &p, &n))
			continue;
		free(s->p[b]);
		s->p[b] = malloc(n + 1);
		memcpy(s->p[b], p, n);
		s->n[b] = n;
		s->have[b] = true;
	}
	for (unsigned k = AL_NUM_NONE + 1; k < AL_NUM__COUNT; k++) {
		const struct al_num_info *ni = al_num_info((enum al_num)k);
		uint64_t v;

		if (ni->proto == AL_PROTO_HTTP && al_tx_num(tx, (enum al_num)k, 0, &v)) {
			s->hnum[k] = true;
			s->num[k] = v;
		}
	}
}

static void
rec_cb(void *arg, const struct al_tx *tx, unsigned stage, unsigned dir)
{
	struct rec *r = arg;
	char line[96];
	struct snap *s;

	assert_true(tx->ready & stage);
	s = snap_of(r, tx, stage);
	for (unsigned b = 0; b < 8; b++)
		if (stage == 1u << b)
			s->stage_calls[b]++;
	s->anomalies = tx->anomalies;
	snap_copy(s, tx);
	snprintf(line, sizeof(line), "tx %u stage %u dir %u anom %llx\n", tx->index, stage, dir,
			(unsigned long long)tx->anomalies);
	log_add(r, line, strlen(line));
	for (unsigned b = AL_BUF_NONE + 1; b < AL_BUF__COUNT; b++) {
		const struct al_buf_info *bi = al_buf_info((enum al_buf)b);
		const uint8_t *p;
		uint32_t n;

		if (bi->proto != AL_PROTO_HTTP || bi->stage != stage ||
				!al_tx_buf(tx, (enum al_buf)b, 0, &p, &n))
			continue;
		s->n_at_stage[b] = n;
		snprintf(line, sizeof(line), " %u:%u:", b, n);
		log_add(r, line, strlen(line));
		log_add(r, p, n);
	}
	for (unsigned k = AL_NUM_NONE + 1; k < AL_NUM__COUNT; k++) {
		const struct al_num_info *ni = al_num_info((enum al_num)k);
		uint64_t v;

		if (ni->proto != AL_PROTO_HTTP || ni->stage != stage ||
				!al_tx_num(tx, (enum al_num)k, 0, &v))
			continue;
		snprintf(line, sizeof(line), " n%u=%llu", k, (unsigned long long)v);
		log_add(r, line, strlen(line));
	}
	log_add(r, "\n", 1);
}

static void
rec_free(struct rec *r)
{
	for (unsigned i = 0; i < MAX_TX; i++)
		for (unsigned b = 0; b < AL_BUF__COUNT; b++)
			free(r->tx[i].p[b]);
	free(r->log);
	memset(r, 0, sizeof(*r));
}

/* Buffer b of transaction i is exactly s. */
static void
expect_buf(const struct rec *r, unsigned i, enum al_buf b, const void *s, size_t n, int line)
{
	if (!r->tx[i].have[b]) {
		fprintf(stderr, "line %d: tx %u %s absent\n", line, i, al_buf_info(b)->name);
		fail();
	}
	if (r->tx[i].n[b] != n || memcmp(r->tx[i].p[b], s, n) != 0) {
		fprintf(stderr, "line %d: tx %u %s is \"%.*s\" (%u), want \"%.*s\" (%zu)\n", line,
				i, al_buf_info(b)->name, (int)r->tx[i].n[b],
				(const char *)r->tx[i].p[b], r->tx[i].n[b], (int)n, (const char *)s,
				n);
		fail();
	}
}

#define BUF_IS(r, i, b, lit) expect_buf((r), (i), (b), (lit), sizeof(lit) - 1, __LINE__)

static bool
buf_has(const struct rec *r, unsigned i, enum al_buf b, const void *s, size_t n)
{
	if (!r->tx[i].have[b] || r->tx[i].n[b] < n)
		return false;
	for (uint32_t k = 0; k + n <= r->tx[i].n[b]; k++)
		if (memcmp(r->tx[i].p[b] + k, s, n) == 0)
			return true;
	return false;
}

#define HAS(r, i, b, lit) buf_has((r), (i), (b), (lit), sizeof(lit) - 1)

static bool
anomaly(const struct rec *r, unsigned i, const char *name)
{
	int id = al_anomaly_find(AL_PROTO_HTTP, name);

	assert_true(id >= 0);
	return (r->tx[i].anomalies >> id) & 1;
}

/* ---- running exchanges ---- */

enum { DIR_REQ = AL_TO_SERVER, DIR_RESP = AL_TO_CLIENT };
enum { STEP_DATA, STEP_GAP, STEP_CLOSE };

struct step {
	unsigned dir;
	const uint8_t *p;
	uint32_t n;
	uint8_t kind;
};

#define REQ(s)                                                          \
	{                                                               \
		DIR_REQ, (const uint8_t *)(s), sizeof(s) - 1, STEP_DATA \
	}
#define RESP(s)                                                          \
	{                                                                \
		DIR_RESP, (const uint8_t *)(s), sizeof(s) - 1, STEP_DATA \
	}
#define GAP(d, n)                        \
	{                                \
		(d), NULL, (n), STEP_GAP \
	}

enum { SPLIT_WHOLE = 0, SPLIT_BYTES = 1 }; /* larger: seed of random splits */

static struct al_ctx *
ctx_new(const struct al_limits *l)
{
	struct al_ctx *c = al_ctx_create(l);

	assert_non_null(c);
	return c;
}

/* Feed the steps (split as asked), close both directions, free the flow: no memory left. */
static int
run(struct al_ctx *c, const struct step *st, size_t n, unsigned split, struct rec *r)
{
	size_t before = al_ctx_mem_used(c);
	struct al_flow *f = al_flow_new(c, true, 40000, 80);
	unsigned seed = split;
	int rc = 0;

	assert_non_null(f);
	for (size_t i = 0; i < n; i++) {
		if (st[i].kind == STEP_GAP) {
			al_gap(c, f, st[i].dir, st[i].n);
			continue;
		}
		if (st[i].kind == STEP_CLOSE) {
			al_close(c, f, st[i].dir, rec_cb, r);
			continue;
		}
		for (uint32_t off = 0; off < st[i].n;) {
			uint32_t k = st[i].n - off;

			if (split == SPLIT_BYTES) {
				k = 1;
			} else if (split > 1) {
				seed = seed * 1103515245 + 12345;
				uint32_t m = 1 + (seed >> 16) % 23;

				if (m < k)
					k = m;
			}
			if (al_feed(c, f, st[i].dir, st[i].p + off, k, rec_cb, r) != 0)
				rc = -1;
			off += k;
		}
	}
	al_close(c, f, DIR_REQ, rec_cb, r);
	al_close(c, f, DIR_RESP, rec_cb, r);
	al_flow_free(c, f);
	assert_int_equal(al_ctx_mem_used(c), before);
	return rc;
}

/* The same exchange whole, a byte at a time and in random splits: identical reports. */
static void
run_all_splits(const struct al_limits *l, const struct step *st, size_t n, struct rec *out)
{
	static const unsigned splits[] = { SPLIT_BYTES, 7, 1234, 99991 };
	struct al_ctx *c = ctx_new(l);

	memset(out, 0, sizeof(*out));
	run(c, st, n, SPLIT_WHOLE, out);
	for (size_t k = 0; k < sizeof(splits) / sizeof(splits[0]); k++) {
		struct rec r2 = { 0 };

		run(c, st, n, splits[k], &r2);
		if (r2.len != out->len || memcmp(r2.log, out->log, out->len) != 0) {
			fprintf(stderr, "split %u differs:\n--- whole\n%.*s\n--- split\n%.*s\n",
					splits[k], (int)out->len, out->log, (int)r2.len, r2.log);
			fail();
		}
		rec_free(&r2);
	}
	al_ctx_free(c);
}

static struct al_limits
limits(void)
{
	struct al_limits l;

	al_limits_default(&l);
	l.memcap = 16u << 20;
	return l;
}

/* ---- a complete exchange: every buffer ---- */

static void
test_all_buffers(void **state)
{
	(void)state;
	static const struct step st[] = {
		REQ("GET /a/b/../c.php?x=%41&y=1+2 HTTP/1.1\r\n"
		    "Host: WWW.Example.COM:8080\r\n"
		    "User-Agent: Mozilla/5.0\r\n"
		    "Referer: http://ref.example/\r\n"
		    "Accept: */*\r\n"
		    "Accept-Encoding: gzip\r\n"
		    "Accept-Language: en\r\n"
		    "Connection: keep-alive\r\n"
		    "Cookie: a=1\r\n"
		    "Content-Type: text/plain\r\n"
		    "Content-Length: 4\r\n"
		    "\r\n"
		    "body"),
		RESP("HTTP/1.1 302 Found\r\n"
		     "Location: /next\r\n"
		     "Server: test/1\r\n"
		     "Set-Cookie: s=2\r\n"
		     "Content-Type: text/html\r\n"
		     "Content-Length: 5\r\n"
		     "\r\n"
		     "hello"),
	};
	struct al_limits l = limits();
	struct rec r;

	run_all_splits(&l, st, 2, &r);
	assert_int_equal(r.ntx, 1);
	BUF_IS(&r, 0, AL_BUF_HTTP_METHOD, "GET");
	BUF_IS(&r, 0, AL_BUF_HTTP_URI, "/a/c.php?x=A&y=1+2");
	BUF_IS(&r, 0, AL_BUF_HTTP_URI_RAW, "/a/b/../c.php?x=%41&y=1+2");
	BUF_IS(&r, 0, AL_BUF_HTTP_PROTOCOL_REQ, "HTTP/1.1");
	BUF_IS(&r, 0, AL_BUF_HTTP_REQUEST_LINE, "GET /a/b/../c.php?x=%41&y=1+2 HTTP/1.1");
	BUF_IS(&r, 0, AL_BUF_HTTP_HOST, "www.example.com");
	BUF_IS(&r, 0, AL_BUF_HTTP_HOST_RAW, "WWW.Example.COM:8080");
	BUF_IS(&r, 0, AL_BUF_HTTP_USER_AGENT, "Mozilla/5.0");
	BUF_IS(&r, 0, AL_BUF_HTTP_REFERER, "http://ref.example/");
	BUF_IS(&r, 0, AL_BUF_HTTP_ACCEPT, "*/*");
	BUF_IS(&r, 0, AL_BUF_HTTP_ACCEPT_ENC, "gzip");
	BUF_IS(&r, 0, AL_BUF_HTTP_ACCEPT_LANG, "en");
	BUF_IS(&r, 0, AL_BUF_HTTP_CONNECTION, "keep-alive");
	BUF_IS(&r, 0, AL_BUF_HTTP_COOKIE_REQ, "a=1");
	BUF_IS(&r, 0, AL_BUF_HTTP_CONTENT_TYPE_REQ, "text/plain");
	BUF_IS(&r, 0, AL_BUF_HTTP_CONTENT_LEN_REQ, "4");
	/* Suricata's http.header leaves the cookie out; names and start keep it */
	BUF_IS(&r, 0, AL_BUF_HTTP_HEADER_REQ,
			"Host: WWW.Example.COM:8080\r\nUser-Agent: Mozilla/5.0\r\n"
			"Referer: http://ref.example/\r\nAccept: */*\r\nAccept-Encoding: gzip\r\n"
			"Accept-Language: en\r\nConnection: keep-alive\r\n"
			"Content-Type: text/plain\r\nContent-Length: 4\r\n");
	BUF_IS(&r, 0, AL_BUF_HTTP_HEADER_RAW_REQ,
			"Host: WWW.Example.COM:8080\r\nUser-Agent: Mozilla/5.0\r\n"
			"Referer: http://ref.example/\r\nAccept: */*\r\nAccept-Encoding: gzip\r\n"
			"Accept-Language: en\r\nConnection: keep-alive\r\nCookie: a=1\r\n"
			"Content-Type: text/plain\r\nContent-Length: 4\r\n\r\n");
	BUF_IS(&r, 0, AL_BUF_HTTP_HEADER_NAMES_REQ,
			"\r\nHost\r\nUser-Agent\r\nReferer\r\nAccept\r\nAccept-Encoding\r\n"
			"Accept-Language\r\nConnection\r\nCookie\r\nContent-Type\r\nContent-Length\r\n\r\n");
	BUF_IS(&r, 0, AL_BUF_HTTP_START_REQ,
			"GET /a/b/../c.php?x=%41&y=1+2 HTTP/1.1\r\n"
			"Host: WWW.Example.COM:8080\r\nUser-Agent: Mozilla/5.0\r\n"
			"Referer: http://ref.example/\r\nAccept: */*\r\nAccept-Encoding: gzip\r\n"
			"Accept-Language: en\r\nConnection: keep-alive\r\nCookie: a=1\r\n"
			"Content-Type: text/plain\r\nContent-Length: 4\r\n\r\n");
	BUF_IS(&r, 0, AL_BUF_HTTP_REQUEST_BODY, "body");
	BUF_IS(&r, 0, AL_BUF_HTTP_STAT_CODE, "302");
	BUF_IS(&r, 0, AL_BUF_HTTP_STAT_MSG, "Found");
	BUF_IS(&r, 0, AL_BUF_HTTP_PROTOCOL_RESP, "HTTP/1.1");
	BUF_IS(&r, 0, AL_BUF_HTTP_RESPONSE_LINE, "HTTP/1.1 302 Found");
	BUF_IS(&r, 0, AL_BUF_HTTP_LOCATION, "/next");
	BUF_IS(&r, 0, AL_BUF_HTTP_SERVER, "test/1");
	BUF_IS(&r, 0, AL_BUF_HTTP_COOKIE_RESP, "s=2");
	BUF_IS(&r, 0, AL_BUF_HTTP_CONTENT_TYPE_RESP, "text/html");
	BUF_IS(&r, 0, AL_BUF_HTTP_CONTENT_LEN_RESP, "5");
	BUF_IS(&r, 0, AL_BUF_HTTP_HEADER_RESP,
			"Location: /next\r\nServer: test/1\r\nContent-Type: text/html\r\n"
			"Content-Length: 5\r\n");
	BUF_IS(&r, 0, AL_BUF_HTTP_HEADER_RAW_RESP,
			"Location: /next\r\nServer: test/1\r\nSet-Cookie: s=2\r\n"
			"Content-Type: text/html\r\nContent-Length: 5\r\n\r\n");
	BUF_IS(&r, 0, AL_BUF_HTTP_HEADER_NAMES_RESP,
			"\r\nLocation\r\nServer\r\nSet-Cookie\r\nContent-Type\r\nContent-Length\r\n\r\n");
	BUF_IS(&r, 0, AL_BUF_HTTP_START_RESP,
			"HTTP/1.1 302 Found\r\nLocation: /next\r\nServer: test/1\r\nSet-Cookie: s=2\r\n"
			"Content-Type: text/html\r\nContent-Length: 5\r\n\r\n");
	BUF_IS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, "hello");
	assert_true(r.tx[0].hnum[AL_NUM_HTTP_STATUS]);
	assert_int_equal(r.tx[0].num[AL_NUM_HTTP_STATUS], 302);
	assert_int_equal(r.tx[0].num[AL_NUM_HTTP_REQ_BODY_LEN], 4);
	assert_int_equal(r.tx[0].num[AL_NUM_HTTP_RESP_BODY_LEN], 5);
	assert_int_equal(r.tx[0].num[AL_NUM_HTTP_URI_LEN], 18);
	assert_int_equal(r.tx[0].num[AL_NUM_HTTP_URI_RAW_LEN], 25);
	/* each stage reported once */
	for (unsigned b = 0; b < 4; b++)
		assert_int_equal(r.tx[0].stage_calls[b], 1);
	assert_int_equal(r.tx[0].anomalies, 0);
	rec_free(&r);
}

/* Folding, repetitions, case, LF-only lines, a missing colon, LWS around names. */
static void
test_header_forms(void **state)
{
	(void)state;
	static const struct step st[] = {
		REQ("GET / HTTP/1.1\n"
		    "host: one.example\n"
		    "X-Fold: a\r\n"
		    "  b\r\n"
		    "\tc\r\n"
		    "X-Dup: 1\r\n"
		    "x-dup: 2\r\n"
		    "X-DUP:3\r\n"
		    "NoColonHere\r\n"
		    "Bad Name : v \r\n"
		    "User-Agent:   spaced value   \r\n"
		    "\n"),
		RESP("HTTP/1.1 204 No Content\r\n\r\n"),
	};
	struct al_limits l = limits();
	struct rec r;

	run_all_splits(&l, st, 2, &r);
	BUF_IS(&r, 0, AL_BUF_HTTP_HEADER_REQ,
			"host: one.example\r\nX-Fold: a  b\tc\r\nX-Dup: 1, 2, 3\r\n"
			": NoColonHere\r\nBad Name: v\r\nUser-Agent: spaced value\r\n");
	BUF_IS(&r, 0, AL_BUF_HTTP_HEADER_NAMES_REQ,
			"\r\nhost\r\nX-Fold\r\nX-Dup\r\n\r\nBad Name\r\nUser-Agent\r\n\r\n");
	BUF_IS(&r, 0, AL_BUF_HTTP_HOST, "one.example");
	BUF_IS(&r, 0, AL_BUF_HTTP_USER_AGENT, "spaced value");
	assert_true(anomaly(&r, 0, "request_field_missing_colon"));
	assert_true(anomaly(&r, 0, "request_header_invalid"));
	assert_true(anomaly(&r, 0, "request_header_repetition"));
	assert_false(anomaly(&r, 0, "missing_host_header"));
	/* 204: no body, the stage right after the headers */
	assert_false(r.tx[0].have[AL_BUF_HTTP_RESPONSE_BODY]);
	assert_int_equal(r.tx[0].stage_calls[3], 1);
	assert_false(r.tx[0].have[AL_BUF_HTTP_HEADER_RESP]);
	BUF_IS(&r, 0, AL_BUF_HTTP_START_RESP, "HTTP/1.1 204 No Content\r\n");
	rec_free(&r);

	/* response fields: a missing colon, a folded value, repetitions joined */
	static const struct step st3[] = {
		REQ("GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
		RESP("HTTP/1.1 200 OK\r\nServer: a\r\n b\r\nBroken\r\nSet-Cookie: x=1\r\n"
		     "Set-Cookie: y=2\r\nContent-Length: 0\r\n\r\n"),
	};
	run_all_splits(&l, st3, 2, &r);
	BUF_IS(&r, 0, AL_BUF_HTTP_SERVER, "a b");
	BUF_IS(&r, 0, AL_BUF_HTTP_COOKIE_RESP, "x=1, y=2");
	BUF_IS(&r, 0, AL_BUF_HTTP_HEADER_RESP, "Server: a b\r\n: Broken\r\nContent-Length: 0\r\n");
	assert_true(anomaly(&r, 0, "response_field_missing_colon"));
	assert_true(anomaly(&r, 0, "response_header_repetition"));
	rec_free(&r);

	/* a continuation line before any field */
	static const struct step st2[] = {
		REQ("GET / HTTP/1.0\r\n folded: first\r\nA: b\r\n\r\n"),
	};
	run_all_splits(&l, st2, 1, &r);
	assert_true(anomaly(&r, 0, "invalid_request_field_folding"));
	BUF_IS(&r, 0, AL_BUF_HTTP_HEADER_NAMES_REQ, "\r\n folded\r\nA\r\n\r\n");
	rec_free(&r);
}

/* Past http_header_max: counted, and the lines that fitted still give buffers. */
static void
test_header_limit(void **state)
{
	(void)state;
	static char req[4096];
	struct al_limits l = limits();
	struct rec r;
	int n;

	n = snprintf(req, sizeof(req), "GET /x HTTP/1.1\r\nHost: h\r\nUser-Agent: ua\r\nX-Long: ");
	memset(req + n, 'A', 1000);
	n += 1000;
	n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\nX-After: 1\r\n\r\n");
	struct step st[] = {
		{ DIR_REQ, (const uint8_t *)req, (uint32_t)n, STEP_DATA },
		RESP("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	};
	l.http_header_max = 200;
	run_all_splits(&l, st, 2, &r);
	assert_true(anomaly(&r, 0, "request_field_too_long"));
	BUF_IS(&r, 0, AL_BUF_HTTP_HEADER_REQ, "Host: h\r\nUser-Agent: ua\r\n");
	BUF_IS(&r, 0, AL_BUF_HTTP_USER_AGENT, "ua");
	BUF_IS(&r, 0, AL_BUF_HTTP_URI, "/x");
	/* the exchange goes on: the response is matched */
	BUF_IS(&r, 0, AL_BUF_HTTP_STAT_CODE, "200");
	rec_free(&r);
}

/* ---- URI normalisation ---- */

static void
test_uri_normalize(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
		int dbl;
	} cases[] = {
		{ "/", "/", 0 },
		{ "/a%20b", "/a b", 0 },
		{ "/a%00b", "/a\0b", 0 },		   /* %00 is kept as a NUL byte */
		{ "/a%zzb%4", "/a%zzb%4", 0 },		   /* invalid encodings keep their % */
		{ "/%u0041%U002f%u0", "/A/%u0", 0 },	   /* %u decoded in the path */
		{ "/a%uff0fb", "/a/b", 0 },		   /* fullwidth solidus best-fitted */
		{ "/a+b?c+d", "/a+b?c+d", 0 },		   /* '+' is not a space */
		{ "/a/./b/../c", "/a/c", 0 },		   /* dot segments */
		{ "/../../etc/passwd", "/etc/passwd", 0 }, /* above the root */
		{ "/a//b///c", "/a/b/c", 0 },		   /* slashes compressed */
		{ "/a\\b\\..\\c", "/a/c", 0 },		   /* backslashes are slashes */
		{ "/a%2fb%5c..%5cc", "/a/c", 0 },	   /* encoded separators decoded */
		{ "/a/b/..", "/a", 0 },			   /* libhtp leaves no trailing slash */
		{ "/a/.", "/a", 0 },
		{ "/%c0%af", "//", 0 },		 /* overlong UTF-8 accepted: '/' */
		{ "/caf%c3%a9", "/caf\xe9", 0 }, /* UTF-8 best-fitted to one byte */
		{ "/\xe9x", "/?x", 0 },		 /* invalid UTF-8: '?' */
		{ "/x?a=%41%2541&b=%u0041", "/x?a=A%41&b=%u0041", 1 }, /* query: no %u */
		{ "/x#fr%41g", "/x#frAg", 0 },
		{ "http://Host.example:81/p/../q?z", "/q?z", 0 }, /* scheme and authority out */
		{ "/evil%2527sqli", "/evil%27sqli", 1 },
		{ "*", "*", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t out[128];
		int dbl = -1;
		size_t inl = strlen(cases[i].in);
		size_t want = strlen(cases[i].out);

		if (strcmp(cases[i].in, "/a%00b") == 0)
			want = 4;
		size_t n = al_http_uri_normalize((const uint8_t *)cases[i].in, inl, 0, out, &dbl);

		if (n != want || memcmp(out, cases[i].out, n) != 0 || dbl != cases[i].dbl) {
			fprintf(stderr, "%s -> \"%.*s\" dbl %d, want \"%s\" dbl %d\n", cases[i].in,
					(int)n, out, dbl, cases[i].out, cases[i].dbl);
			fail();
		}
	}
	uint8_t out[16];
	int dbl;

	assert_int_equal(al_http_uri_normalize((const uint8_t *)"host:443", 8, 1, out, &dbl), 0);
}

/* Request lines as libhtp reads them, with Suricata's spaces-in-URI setting. */
static void
test_request_lines(void **state)
{
	(void)state;
	struct al_limits l = limits();
	struct rec r;

	/* tabs and runs of spaces between the parts, leading whitespace (second request: the
	 * first bytes of a flow must look like HTTP for it to be detected) */
	static const struct step a[] = {
		REQ("GET / HTTP/1.1\r\nHost: h\r\n\r\n GET\t/x  y HTTP/1.0\r\n\r\n"),
	};
	run_all_splits(&l, a, 1, &r);
	BUF_IS(&r, 1, AL_BUF_HTTP_METHOD, "GET");
	BUF_IS(&r, 1, AL_BUF_HTTP_URI_RAW, "/x  y");
	BUF_IS(&r, 1, AL_BUF_HTTP_PROTOCOL_REQ, "HTTP/1.0");
	BUF_IS(&r, 1, AL_BUF_HTTP_REQUEST_LINE, " GET\t/x  y HTTP/1.0");
	assert_true(anomaly(&r, 1, "request_line_leading_whitespace"));
	assert_true(anomaly(&r, 1, "method_delim_non_compliant"));
	rec_free(&r);

	/* a URI delimited by a tab only */
	static const struct step b[] = {
		REQ("GET /a\tHTTP/1.1\r\nHost: h\r\n\r\n"),
	};
	run_all_splits(&l, b, 1, &r);
	BUF_IS(&r, 0, AL_BUF_HTTP_URI_RAW, "/a");
	BUF_IS(&r, 0, AL_BUF_HTTP_PROTOCOL_REQ, "HTTP/1.1");
	assert_true(anomaly(&r, 0, "uri_delim_non_compliant"));
	rec_free(&r);

	/* HTTP/0.9: no protocol, no headers; the response is a body until close */
	static const struct step c[] = {
		REQ("GET /old\r\n"),
		RESP("<html>old</html>"),
	};
	run_all_splits(&l, c, 2, &r);
	BUF_IS(&r, 0, AL_BUF_HTTP_URI, "/old");
	assert_false(r.tx[0].have[AL_BUF_HTTP_PROTOCOL_REQ]);
	assert_false(r.tx[0].have[AL_BUF_HTTP_HEADER_REQ]);
	BUF_IS(&r, 0, AL_BUF_HTTP_START_REQ, "GET /old\r\n");
	assert_false(anomaly(&r, 0, "request_line_missing_protocol"));
	BUF_IS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, "<html>old</html>");
	assert_false(r.tx[0].have[AL_BUF_HTTP_STAT_CODE]);
	rec_free(&r);

	/* no protocol but headers follow: missing protocol */
	static const struct step d[] = {
		REQ("GET /x\r\nHost: h\r\n\r\n"),
		RESP("HTTP/1.0 200 OK\r\n\r\nbody"),
	};
	run_all_splits(&l, d, 2, &r);
	assert_true(anomaly(&r, 0, "request_line_missing_protocol"));
	BUF_IS(&r, 0, AL_BUF_HTTP_HEADER_NAMES_REQ, "\r\nHost\r\n\r\n");
	BUF_IS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, "body");
	rec_free(&r);

	/* empty lines before a request are ignored; an unknown method with a protocol is a
	 * request; one without is no request line */
	static const struct step e2[] = {
		REQ("GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
		REQ("\r\n\r\nFOO /f HTTP/1.1\r\nHost: h\r\n\r\n"),
		REQ("\x01\x02\x03 junk\r\n\r\n"),
		RESP("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
		     "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	};
	run_all_splits(&l, e2, 4, &r);
	BUF_IS(&r, 1, AL_BUF_HTTP_METHOD, "FOO");
	assert_false(anomaly(&r, 1, "request_line_invalid"));
	/* after a complete request, bytes that are no request line are more body (libhtp) */
	assert_true(anomaly(&r, 1, "request_body_unexpected"));
	BUF_IS(&r, 1, AL_BUF_HTTP_REQUEST_BODY, "\x01\x02\x03 junk\r\n");
	/* a request without body announced stays open: its body stage comes with that body */
	assert_int_equal(r.tx[1].n_at_stage[AL_BUF_HTTP_REQUEST_BODY], 10);
	assert_int_equal(r.tx[1].stage_calls[1], 1);
	assert_int_equal(r.ntx, 2);
	rec_free(&r);

	/* an HTTP/1.1 request without Host */
	static const struct step f[] = {
		REQ("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"),
	};
	run_all_splits(&l, f, 1, &r);
	assert_true(anomaly(&r, 0, "missing_host_header"));
	assert_false(r.tx[0].have[AL_BUF_HTTP_HOST]);
	rec_free(&r);

	/* an empty Host: no http.host; two Host headers: joined, and not a valid host */
	static const struct step h[] = {
		REQ("GET /1 HTTP/1.1\r\nHost: \r\n\r\n"
		    "GET /2 HTTP/1.1\r\nHost: a.example\r\nhost: b.example\r\n\r\n"),
	};
	run_all_splits(&l, h, 1, &r);
	assert_false(r.tx[0].have[AL_BUF_HTTP_HOST]);
	BUF_IS(&r, 0, AL_BUF_HTTP_HOST_RAW, "");
	assert_true(anomaly(&r, 0, "request_header_host_invalid"));
	assert_false(anomaly(&r, 0, "missing_host_header"));
	BUF_IS(&r, 1, AL_BUF_HTTP_HOST_RAW, "a.example, b.example");
	BUF_IS(&r, 1, AL_BUF_HTTP_HOST, "a.example, b.example");
	assert_true(anomaly(&r, 1, "request_header_host_invalid"));
	assert_true(anomaly(&r, 1, "request_header_repetition"));
	rec_free(&r);

	/* an absolute URI: http.host from it, a different Host header is ambiguous */
	static const struct step g[] = {
		REQ("GET http://Evil.Example./p?q HTTP/1.1\r\nHost: other.example\r\n\r\n"),
	};
	run_all_splits(&l, g, 1, &r);
	BUF_IS(&r, 0, AL_BUF_HTTP_URI, "/p?q");
	BUF_IS(&r, 0, AL_BUF_HTTP_HOST, "evil.example");
	BUF_IS(&r, 0, AL_BUF_HTTP_HOST_RAW, "evil.example");
	assert_true(anomaly(&r, 0, "host_header_ambiguous"));
	rec_free(&r);
}

/* ---- responses ---- */

static void
test_interim_and_no_body(void **state)
{
	(void)state;
	struct al_limits l = limits();
	struct rec r;

	/* 100 Continue is not the transaction's response; a second one is counted */
	static const struct step a[] = {
		REQ("POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"),
		RESP("HTTP/1.1 100 Continue\r\n\r\n"),
		REQ("abc"),
		RESP("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"),
	};
	run_all_splits(&l, a, 4, &r);
	assert_int_equal(r.ntx, 1);
	BUF_IS(&r, 0, AL_BUF_HTTP_STAT_CODE, "201");
	BUF_IS(&r, 0, AL_BUF_HTTP_RESPONSE_LINE, "HTTP/1.1 201 Created");
	BUF_IS(&r, 0, AL_BUF_HTTP_REQUEST_BODY, "abc");
	BUF_IS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, "ok");
	assert_true(anomaly(&r, 0, "100_continue_already_seen"));
	rec_free(&r);

	/* HEAD, 204 and 304 have no body whatever their headers say; pipelined */
	static const struct step b[] = {
		REQ("HEAD /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
		    "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n"),
		RESP("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
		     "HTTP/1.1 304 Not Modified\r\n\r\n"
		     "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nxyz"),
	};
	run_all_splits(&l, b, 2, &r);
	assert_int_equal(r.ntx, 3);
	BUF_IS(&r, 0, AL_BUF_HTTP_STAT_CODE, "200");
	assert_false(r.tx[0].have[AL_BUF_HTTP_RESPONSE_BODY]);
	BUF_IS(&r, 1, AL_BUF_HTTP_STAT_CODE, "304");
	BUF_IS(&r, 2, AL_BUF_HTTP_URI, "/3");
	BUF_IS(&r, 2, AL_BUF_HTTP_RESPONSE_BODY, "xyz");
	rec_free(&r);

	/* neither length nor chunking: the body ends with the connection */
	static const struct step c[] = {
		REQ("GET / HTTP/1.0\r\n\r\n"),
		RESP("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nuntil the end"),
		{ DIR_RESP, NULL, 0, STEP_CLOSE },
	};
	run_all_splits(&l, c, 3, &r);
	BUF_IS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, "until the end");
	assert_int_equal(r.tx[0].stage_calls[3], 1);
	rec_free(&r);

	/* a response nobody asked for */
	static const struct step d[] = {
		RESP("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
	};
	run_all_splits(&l, d, 1, &r);
	assert_true(anomaly(&r, 0, "unable_to_match_response_to_request"));
	BUF_IS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, "hi");
	assert_false(r.tx[0].have[AL_BUF_HTTP_METHOD]);
	rec_free(&r);

	/* an invalid status and protocol */
	static const struct step e[] = {
		REQ("GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
		RESP("HTTP/x.1 2x0 Odd\r\nContent-Length: 0\r\n\r\n"),
	};
	run_all_splits(&l, e, 2, &r);
	assert_true(anomaly(&r, 0, "response_invalid_status"));
	assert_true(anomaly(&r, 0, "response_invalid_protocol"));
	BUF_IS(&r, 0, AL_BUF_HTTP_STAT_CODE, "2x0");
	assert_false(r.tx[0].hnum[AL_NUM_HTTP_STATUS]);
	rec_free(&r);
}

static void
test_connect(void **state)
{
	(void)state;
	struct al_limits l = limits();
	struct al_ctx *c = ctx_new(&l);
	struct rec r = { 0 };

	/* a tunnel: parsing stops once the client's bytes are not HTTP */
	static const struct step a[] = {
		REQ("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
		RESP("HTTP/1.1 200 Connection established\r\n\r\n"),
		REQ("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
	};
	assert_int_equal(run(c, a, 3, SPLIT_WHOLE, &r), -1);
	BUF_IS(&r, 0, AL_BUF_HTTP_METHOD, "CONNECT");
	BUF_IS(&r, 0, AL_BUF_HTTP_URI, "");
	BUF_IS(&r, 0, AL_BUF_HTTP_HOST, "example.com");
	BUF_IS(&r, 0, AL_BUF_HTTP_STAT_CODE, "200");
	assert_int_equal(r.ntx, 1);
	rec_free(&r);

	/* refused: the client's next request is parsed, even if sent before the answer */
	static const struct step b[] = {
		REQ("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n"
		    "GET /after HTTP/1.1\r\nHost: h\r\n\r\n"),
		RESP("HTTP/1.1 407 Proxy Auth\r\nContent-Length: 0\r\n\r\n"
		     "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	};
	run_all_splits(&l, b, 2, &r);
	assert_int_equal(r.ntx, 2);
	BUF_IS(&r, 1, AL_BUF_HTTP_URI, "/after");
	BUF_IS(&r, 1, AL_BUF_HTTP_STAT_CODE, "200");
	rec_free(&r);

	/* established, and HTTP inside: parsing goes on */
	static const struct step d[] = {
		REQ("CONNECT h:80 HTTP/1.1\r\n\r\n"),
		RESP("HTTP/1.1 200 OK\r\n\r\n"),
		REQ("GET /inner HTTP/1.1\r\nHost: h\r\n\r\n"),
		RESP("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"),
	};
	assert_int_equal(run(c, d, 4, SPLIT_WHOLE, &r), 0);
	assert_int_equal(r.ntx, 2);
	BUF_IS(&r, 1, AL_BUF_HTTP_URI, "/inner");
	BUF_IS(&r, 1, AL_BUF_HTTP_RESPONSE_BODY, "x");
	rec_free(&r);

	/* 101 Switching Protocols: a tunnel */
	static const struct step e[] = {
		REQ("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n"),
		RESP("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello"),
	};
	assert_int_equal(run(c, e, 2, SPLIT_WHOLE, &r), -1);
	BUF_IS(&r, 0, AL_BUF_HTTP_STAT_CODE, "101");
	assert_false(r.tx[0].have[AL_BUF_HTTP_RESPONSE_BODY]);
	rec_free(&r);
	al_ctx_free(c);
}

/* ---- bodies ---- */

static void
test_chunked(void **state)
{
	(void)state;
	struct al_limits l = limits();
	struct rec r;

	static const struct step a[] = {
		REQ("POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "5;ext=1\r\nhello\r\n"
		    "\r\n" /* a stray empty line where a size was expected */
		    "6 \r\n world\r\n"
		    "0\r\nX-Trailer: t\r\n\r\n"),
		RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "3\r\nabc\r\n0\r\n\r\n"),
	};
	run_all_splits(&l, a, 2, &r);
	BUF_IS(&r, 0, AL_BUF_HTTP_REQUEST_BODY, "hello world");
	assert_true(anomaly(&r, 0, "request_chunk_extension"));
	/* the trailer joins the headers, as in libhtp */
	assert_true(HAS(&r, 0, AL_BUF_HTTP_HEADER_RAW_REQ, "X-Trailer: t\r\n"));
	BUF_IS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, "abc");
	rec_free(&r);

	/* an invalid size: the request stream is given up, a response goes on until close */
	static const struct step b[] = {
		REQ("POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "zz\r\nhello\r\n0\r\n\r\nGET /not-parsed HTTP/1.1\r\n\r\n"),
		RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "2\r\nab\r\nnot-a-size\r\nrest"),
	};
	run_all_splits(&l, b, 2, &r);
	assert_int_equal(r.ntx, 1);
	assert_true(anomaly(&r, 0, "invalid_request_chunk_len"));
	assert_true(anomaly(&r, 0, "invalid_response_chunk_len"));
	assert_false(r.tx[0].have[AL_BUF_HTTP_REQUEST_BODY]);
	BUF_IS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, "abnot-a-size\r\nrest");
	rec_free(&r);

	/* chunked on HTTP/1.0, and not exactly "chunked" */
	static const struct step c[] = {
		REQ("GET / HTTP/1.0\r\n\r\n"),
		RESP("HTTP/1.0 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n"),
	};
	run_all_splits(&l, c, 2, &r);
	assert_true(anomaly(&r, 0, "response_chunked_old_proto"));
	assert_true(anomaly(&r, 0, "response_abnormal_transfer_encoding"));
	BUF_IS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, "z");
	rec_free(&r);
}

static void
test_content_length(void **state)
{
	(void)state;
	struct al_limits l = limits();
	struct rec r;

	/* two lengths: the first stands, the ambiguity is counted */
	static const struct step a[] = {
		REQ("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\n"
		    "abcGET /b HTTP/1.1\r\nHost: h\r\n\r\n"),
		RESP("HTTP/1.1 200 OK\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\nx"
		     "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nto the end"),
	};
	run_all_splits(&l, a, 2, &r);
	assert_int_equal(r.ntx, 2);
	BUF_IS(&r, 0, AL_BUF_HTTP_REQUEST_BODY, "abc");
	BUF_IS(&r, 0, AL_BUF_HTTP_CONTENT_LEN_REQ, "3");
	assert_true(anomaly(&r, 0, "duplicate_content_length_field_in_request"));
	assert_false(anomaly(&r, 0, "duplicate_content_length_field_in_response"));
	BUF_IS(&r, 1, AL_BUF_HTTP_URI, "/b");
	assert_true(anomaly(&r, 1, "invalid_content_length_field_in_response"));
	BUF_IS(&r, 1, AL_BUF_HTTP_RESPONSE_BODY, "to the end");
	rec_free(&r);
}

/* Compress data with zlib: wbits 15+16 gzip, 15 zlib, -15 raw deflate. */
static uint8_t *
zip(const void *data, size_t n, int wbits, size_t *out_len)
{
	z_stream z = { 0 };
	size_t cap = compressBound(n) + 64;
	uint8_t *out = malloc(cap);

	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, wbits, 9, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*out_len = z.total_out;
	deflateEnd(&z);
	return out;
}

/* A response with encoding ce, its body given whole after the head. */
static void
run_encoded(const struct al_limits *l, const char *ce, const uint8_t *body, size_t n, struct rec *r,
		bool splits)
{
	static char head[256];
	int hn = snprintf(head, sizeof(head),
			"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %zu\r\n\r\n",
			ce, n);
	struct step st[] = {
		REQ("GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
		{ DIR_RESP, (const uint8_t *)head, (uint32_t)hn, STEP_DATA },
		{ DIR_RESP, body, (uint32_t)n, STEP_DATA },
	};

	if (splits) {
		run_all_splits(l, st, 3, r);
	} else {
		struct al_ctx *c = ctx_new(l);

		memset(r, 0, sizeof(*r));
		run(c, st, 3, SPLIT_WHOLE, r);
		al_ctx_free(c);
	}
}

static void
test_encodings(void **state)
{
	(void)state;
	static const char text[] = "The quick brown fox jumps over the lazy dog, again and again.";
	struct al_limits l = limits();
	struct rec r;
	size_t n;
	uint8_t *z;

	/* gzip, zlib and raw deflate, under "gzip" and "deflate" alike */
	static const struct {
		const char *ce;
		int wbits;
	} forms[] = {
		{ "gzip", 31 },
		{ "x-gzip", 31 },
		{ "gzip", 15 },
		{ "deflate", 15 },
		{ "deflate", -15 },
		{ "deflate", 31 },
		{ "Deflate", 15 },
	};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		z = zip(text, sizeof(text) - 1, forms[i].wbits, &n);
		run_encoded(&l, forms[i].ce, z, n, &r, true);
		BUF_IS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, text);
		assert_int_equal(r.tx[0].num[AL_NUM_HTTP_RESP_BODY_LEN], sizeof(text) - 1);
		assert_int_equal(r.tx[0].anomalies, 0);
		rec_free(&r);
		free(z);
	}
	/* a gzip header with every optional field */
	{
		z = zip(text, sizeof(text) - 1, -15, &n);
		uint8_t *g = malloc(n + 64);
		size_t k = 0;
		static const uint8_t hdr[] = { 0x1f, 0x8b, 8, 2 | 4 | 8 | 16, 0, 0, 0, 0, 0, 3 };

		memcpy(g, hdr, sizeof(hdr));
		k = sizeof(hdr);
		g[k++] = 3;
		g[k++] = 0; /* XLEN 3 */
		memcpy(g + k, "xyz", 3);
		k += 3;
		memcpy(g + k, "name\0comment\0", 13);
		k += 13;
		g[k++] = 0xaa;
		g[k++] = 0xbb; /* header CRC */
		memcpy(g + k, z, n);
		k += n;
		memcpy(g + k, "\0\0\0\0\0\0\0\0", 8); /* a wrong trailer, as browsers tolerate */
		k += 8;
		run_encoded(&l, "gzip", g, k, &r, true);
		BUF_IS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, text);
		rec_free(&r);
		free(g);
		free(z);
	}
	/* two layers, undone last first */
	{
		size_t n1, n2;
		uint8_t *z1 = zip(text, sizeof(text) - 1, 31, &n1);
		uint8_t *z2 = zip(z1, n1, 15, &n2);

		run_encoded(&l, "gzip, deflate", z2, n2, &r, true);
		BUF_IS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, text);
		rec_free(&r);
		run_encoded(&l, "gzip, identity, deflate, gzip", z2, n2, &r, false);
		assert_true(anomaly(&r, 0, "too_many_encoding_layers"));
		rec_free(&r);
		free(z1);
		free(z2);
	}
	/* "gzip" over plain text goes through; a gzip stream that breaks is counted */
	run_encoded(&l, "gzip", (const uint8_t *)text, sizeof(text) - 1, &r, true);
	BUF_IS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, text);
	rec_free(&r);
	{
		z = zip(text, sizeof(text) - 1, 31, &n);
		memset(z + 10, 0xff, 4);
		run_encoded(&l, "gzip", z, n, &r, false);
		assert_true(anomaly(&r, 0, "gzip_decompression_failed"));
		rec_free(&r);
		free(z);
	}
	/* an unknown coding, and identity (no anomaly) */
	run_encoded(&l, "identity", (const uint8_t *)text, sizeof(text) - 1, &r, false);
	assert_false(anomaly(&r, 0, "abnormal_ce_header"));
	BUF_IS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, text);
	rec_free(&r);
	run_encoded(&l, "gzip-ish", (const uint8_t *)text, sizeof(text) - 1, &r, false);
	assert_true(anomaly(&r, 0, "abnormal_ce_header"));
	rec_free(&r);

	/* request bodies are decoded too (Suricata turns this on) */
	z = zip("name=value", 10, 31, &n);
	static char head[160];
	int hn = snprintf(head, sizeof(head),
			"POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n",
			n);
	struct step st[] = {
		{ DIR_REQ, (const uint8_t *)head, (uint32_t)hn, STEP_DATA },
		{ DIR_REQ, z, (uint32_t)n, STEP_DATA },
	};
	run_all_splits(&l, st, 2, &r);
	BUF_IS(&r, 0, AL_BUF_HTTP_REQUEST_BODY, "name=value");
	rec_free(&r);
	free(z);
}

/* 10 MB of zeros in a small gzip: cut at http_inflate_max and counted. */
static void
test_bomb(void **state)
{
	(void)state;
	const size_t big = 10u << 20;
	uint8_t *zeros = calloc(1, big);
	struct al_limits l = limits();
	struct rec r;
	size_t n;
	uint8_t *z = zip(zeros, big, 31, &n);
	const unsigned limit_id =
			(unsigned)al_anomaly_find(AL_PROTO_HTTP, "compression_bomb_limit_reached");
	static char head[160];
	int hn = snprintf(head, sizeof(head),
			"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n",
			n);
	struct step st[] = {
		REQ("GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
		{ DIR_RESP, (const uint8_t *)head, (uint32_t)hn, STEP_DATA },
		{ DIR_RESP, z, (uint32_t)n, STEP_DATA },
		REQ("GET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
		RESP("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
	};

	assert_true(n < 20000);
	/* defaults: 64 KiB kept (the body's stage then), decoding goes on to 1 MiB: cut there */
	for (unsigned split = 0; split < 3; split++) {
		struct al_ctx *c = ctx_new(&l);

		memset(&r, 0, sizeof(r));
		run(c, st, 5, split == 2 ? 4321 : split, &r);
		assert_int_equal(al_ctx_anomalies(c, AL_PROTO_HTTP, limit_id), 1);
		assert_int_equal(r.tx[0].n[AL_BUF_HTTP_RESPONSE_BODY], l.http_resp_body);
		BUF_IS(&r, 1, AL_BUF_HTTP_URI, "/next");
		BUF_IS(&r, 1, AL_BUF_HTTP_RESPONSE_BODY, "ok");
		rec_free(&r);
		al_ctx_free(c);
	}
	/* a limit below the kept size: the body is final at the cut, with the bomb in it */
	l.http_inflate_max = 256u << 10;
	l.http_resp_body = 512u << 10;
	run_all_splits(&l, st, 5, &r);
	assert_true(anomaly(&r, 0, "compression_bomb_limit_reached"));
	assert_int_equal(r.tx[0].n[AL_BUF_HTTP_RESPONSE_BODY], 256u << 10);
	assert_int_equal(r.tx[0].num[AL_NUM_HTTP_RESP_BODY_LEN], 256u << 10);
	assert_int_equal(r.tx[0].stage_calls[3], 1);
	rec_free(&r);
	/* a ratio bomb: two layers multiply the ratio past http_inflate_ratio */
	{
		size_t n2;
		uint8_t *z2 = zip(z, n, 31, &n2);

		l = limits();
		l.http_inflate_max = 64u << 20;
		l.http_inflate_ratio = 100;
		l.http_resp_body = 512u << 10;
		run_encoded(&l, "gzip, gzip", z2, n2, &r, false);
		assert_true(anomaly(&r, 0, "compression_bomb"));
		assert_true(r.tx[0].n[AL_BUF_HTTP_RESPONSE_BODY] < (512u << 10));
		rec_free(&r);
		free(z2);
	}
	free(z);
	free(zeros);
}

static void
test_body_limits(void **state)
{
	(void)state;
	static char req[8192];
	struct al_limits l = limits();
	struct rec r;
	int n = snprintf(req, sizeof(req),
			"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n");

	memset(req + n, 'B', 5000);
	n += 5000;
	n += snprintf(req + n, sizeof(req) - (size_t)n, "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
	struct step st[] = {
		{ DIR_REQ, (const uint8_t *)req, (uint32_t)n, STEP_DATA },
	};
	l.http_req_body = 1000;
	run_all_splits(&l, st, 1, &r);
	/* kept up to the limit, reported when full, the rest parsed past */
	assert_int_equal(r.tx[0].n[AL_BUF_HTTP_REQUEST_BODY], 1000);
	assert_int_equal(r.tx[0].num[AL_NUM_HTTP_REQ_BODY_LEN], 1000);
	assert_int_equal(r.tx[0].stage_calls[1], 1);
	BUF_IS(&r, 1, AL_BUF_HTTP_URI, "/2");
	rec_free(&r);
}

/* ---- flows ---- */

static void
test_pipelining(void **state)
{
	(void)state;
	struct al_limits l = limits();
	struct al_ctx *c;
	struct al_flow *f;
	struct rec r = { 0 };
	char buf[64];

	/* responses match requests in order; at most http_max_tx wait */
	l.http_max_tx = 4;
	c = ctx_new(&l);
	f = al_flow_new(c, true, 40000, 80);
	for (int i = 0; i < 6; i++) {
		int n = snprintf(buf, sizeof(buf), "GET /%d HTTP/1.1\r\nHost: h\r\n\r\n", i);

		assert_int_equal(al_feed(c, f, DIR_REQ, (const uint8_t *)buf, (uint32_t)n, rec_cb,
						 &r),
				0);
	}
	assert_int_equal(r.ntx, 6);
	assert_true(anomaly(&r, 4, "too_many_transactions"));
	assert_true(anomaly(&r, 5, "too_many_transactions"));
	for (int i = 0; i < 6; i++) {
		int n = snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n%d",
				i);

		al_feed(c, f, DIR_RESP, (const uint8_t *)buf, (uint32_t)n, rec_cb, &r);
	}
	/* /0 and /1 were dropped: their responses are parsed, to no request */
	assert_int_equal(r.ntx, 8);
	BUF_IS(&r, 2, AL_BUF_HTTP_RESPONSE_BODY, "2");
	BUF_IS(&r, 5, AL_BUF_HTTP_RESPONSE_BODY, "5");
	assert_false(anomaly(&r, 6, "unable_to_match_response_to_request"));
	/* done transactions were freed once reported: only the flow's state is left */
	size_t used = al_ctx_mem_used(c);

	al_flow_free(c, f);
	assert_true(used < 4096);
	assert_int_equal(al_ctx_mem_used(c), 0);
	rec_free(&r);
	al_ctx_free(c);
}

static void
test_gaps(void **state)
{
	(void)state;
	struct al_limits l = limits();
	struct al_ctx *c = ctx_new(&l);
	struct rec r = { 0 };

	/* inside a body of known length: skipped, parsing goes on */
	static const struct step a[] = {
		REQ("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"),
		RESP("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
		GAP(DIR_RESP, 4),
		RESP("hij"
		     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
	};
	run(c, a, 4, SPLIT_WHOLE, &r);
	BUF_IS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, "abc");
	BUF_IS(&r, 1, AL_BUF_HTTP_RESPONSE_BODY, "ok");
	assert_false(anomaly(&r, 0, "stream_gap"));
	rec_free(&r);

	/* in a head: that direction stops with what it had; the other goes on */
	static const struct step b[] = {
		REQ("GET /1 HTTP/1.1\r\nHost: h\r\nUser-"),
		GAP(DIR_REQ, 100),
		REQ("Agent: x\r\n\r\n"),
		RESP("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
	};
	run(c, b, 4, SPLIT_WHOLE, &r);
	assert_true(anomaly(&r, 0, "stream_gap"));
	BUF_IS(&r, 0, AL_BUF_HTTP_HEADER_NAMES_REQ, "\r\nHost\r\n\r\n");
	BUF_IS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, "ok");
	rec_free(&r);
	al_ctx_free(c);
}

/* A small arena: memory runs out, parsing degrades, nothing crashes or leaks. */
static void
test_memcap(void **state)
{
	(void)state;
	struct al_limits l = limits();
	struct al_ctx *c;
	struct rec r = { 0 };
	static uint8_t body[700000];
	static char head[128];

	l.memcap = 2u << 20;
	l.http_resp_body = 900u << 10;
	c = ctx_new(&l);
	memset(body, 'x', sizeof(body));
	int hn = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
			sizeof(body));
	struct step st[] = {
		REQ("GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
		{ DIR_RESP, (const uint8_t *)head, (uint32_t)hn, STEP_DATA },
		{ DIR_RESP, body, sizeof(body), STEP_DATA },
	};
	/* one of the two 1 MiB blocks taken: the body cannot grow past half of the other */
	uint8_t *hog = al_alloc(c, 900u << 10);

	assert_non_null(hog);
	run(c, st, 3, SPLIT_WHOLE, &r);
	assert_true(al_ctx_counter(c, AL_CTR_MEMCAP) > 0);
	assert_int_equal(r.tx[0].stage_calls[3], 1);
	assert_true(r.tx[0].n[AL_BUF_HTTP_RESPONSE_BODY] < sizeof(body));
	al_free(c, hog);
	assert_int_equal(al_ctx_mem_used(c), 0);
	rec_free(&r);
	al_ctx_free(c);
}

static void
test_anomaly_names(void **state)
{
	(void)state;
	const char *path = VIGIL_TESTDATA "/suricata-rules/http-events.rules";
	FILE *fp = fopen(path, "r");
	static char rules[65536];
	size_t n = 0;

	assert_int_equal(al_anomaly_count(AL_PROTO_HTTP), AL_HTTP__COUNT);
	assert_true(AL_HTTP__COUNT <= 64);
	for (unsigned i = 0; i < AL_HTTP__COUNT; i++) {
		const char *name = al_anomaly_name(AL_PROTO_HTTP, i);

		assert_non_null(name);
		assert_int_equal(al_anomaly_find(AL_PROTO_HTTP, name), (int)i);
	}
	if (fp == NULL) {
		printf("skipped: %s is absent\n", path);
		return;
	}
	n = fread(rules, 1, sizeof(rules) - 1, fp);
	fclose(fp);
	rules[n] = 0;
	/* every name but Vigil's own is one of Suricata's http events */
	for (unsigned i = 0; i < AL_HTTP_TOO_MANY_TRANSACTIONS; i++) {
		char key[96];

		snprintf(key, sizeof(key), "app-layer-event:http.%s;",
				al_anomaly_name(AL_PROTO_HTTP, i));
		if (strstr(rules, key) == NULL) {
			fprintf(stderr, "%s is not in %s\n", key, path);
			fail();
		}
	}
}

/* ---- real captures (suricata-verify) ---- */

static bool
replay(const char *dir, const char *file, const struct al_limits *l, struct rec *r)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/suricata-verify-more/%s/%s", VIGIL_TESTDATA, dir, file);
	fp = fopen(path, "rb");
	if (fp == NULL) {
		printf("skipped: %s is absent\n", path);
		return false;
	}
	fclose(fp);
	struct al_ctx *c = ctx_new(l);

	memset(r, 0, sizeof(*r));
	assert_true(alp_replay_file(c, path, rec_cb, r) > 0);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
	return true;
}

/* detect-http-uri_*: http.uri / http.uri.raw / urilen as the cases' rules need them. */
static void
test_pcap_uri_cases(void **state)
{
	(void)state;
	struct al_limits l = limits();
	struct rec r;
	static const char *const raw_tests[] = {
		"detect-http-uri_DetectEngineHttpRawUriTest01",
		"detect-http-uri_DetectEngineHttpRawUriTest02",
		"detect-http-uri_DetectEngineHttpRawUriTest05",
		"detect-http-uri_DetectEngineHttpRawUriTest09",
		"detect-http-uri_DetectEngineHttpRawUriTest13",
		"detect-http-uri_DetectEngineHttpRawUriTest29",
	};

	/* http_raw_uri sees the dot segments ("../c/./d", at offset 5, within 9 of "/a"),
	 * http.uri has them resolved */
	for (size_t i = 0; i < sizeof(raw_tests) / sizeof(raw_tests[0]); i++) {
		if (!replay(raw_tests[i], "test.fpc.pcap", &l, &r))
			return;
		BUF_IS(&r, 0, AL_BUF_HTTP_URI_RAW, "/../a/b/../c/./d.html");
		BUF_IS(&r, 0, AL_BUF_HTTP_URI, "/a/c/d.html");
		rec_free(&r);
	}
	/* UriTestSig25/33/34/37: "normalized uri" matches http.uri; urilen 15, raw 17 */
	if (replay("detect-http-uri_UriTestSig25", "test.fpc.pcap", &l, &r)) {
		BUF_IS(&r, 0, AL_BUF_HTTP_URI, "/normalized uri");
		assert_int_equal(r.tx[0].num[AL_NUM_HTTP_URI_LEN], 15);
		assert_int_equal(r.tx[0].num[AL_NUM_HTTP_URI_RAW_LEN], 17);
		rec_free(&r);
	}
	/* UriTestSig01: "one" in both transactions' URIs */
	if (replay("detect-http-uri_UriTestSig01", "test.fpc.pcap", &l, &r)) {
		assert_int_equal(r.ntx, 2);
		BUF_IS(&r, 0, AL_BUF_HTTP_URI, "/one");
		BUF_IS(&r, 1, AL_BUF_HTTP_URI, "/oneself");
		rec_free(&r);
	}
	/* UriTestSig16: the query is part of http.uri */
	if (replay("detect-http-uri_UriTestSig16", "test.fpc.pcap", &l, &r)) {
		BUF_IS(&r, 0, AL_BUF_HTTP_URI, "/search?q=123&aq=7123abcee");
		rec_free(&r);
	}
	/* UriTestSig21: "fix", "this" within 6, no "and" after */
	if (replay("detect-http-uri_UriTestSig21", "test.fpc.pcap", &l, &r)) {
		BUF_IS(&r, 0, AL_BUF_HTTP_URI, "/we_need_to_fix_this_and_yes_fix_this_now");
		rec_free(&r);
	}
	if (replay("bug-78-http-uri", "input.pcap", &l, &r)) {
		assert_true(HAS(&r, 0, AL_BUF_HTTP_URI, "blah"));
		rec_free(&r);
	}
	/* a space inside the URI stays in it */
	if (replay("http-uri-spaces", "input.pcap", &l, &r)) {
		BUF_IS(&r, 0, AL_BUF_HTTP_URI, "/uri afterspace");
		rec_free(&r);
	}
	/* decoded once: %2527 is %27 in http.uri, counted as double encoded */
	if (replay("bug-3616-urldecode", "input.pcap", &l, &r)) {
		BUF_IS(&r, 0, AL_BUF_HTTP_URI, "/evil%27sqli");
		assert_true(HAS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY,
				"The requested URL /evil%27sqli was not found on this server"));
		rec_free(&r);
	}
	if (replay("http-double-encoded-uri", "../bug-3616-urldecode/input.pcap", &l, &r)) {
		assert_true(anomaly(&r, 0, "double_encoded_uri"));
		rec_free(&r);
	}
}

static void
test_pcap_lines_and_headers(void **state)
{
	(void)state;
	struct al_limits l = limits();
	struct rec r;

	if (replay("http-request-line", "input.pcap", &l, &r)) {
		BUF_IS(&r, 0, AL_BUF_HTTP_REQUEST_LINE, "GET /index.html HTTP/1.0");
		rec_free(&r);
	}
	if (replay("http-response-line", "input.pcap", &l, &r)) {
		BUF_IS(&r, 0, AL_BUF_HTTP_RESPONSE_LINE, "HTTP/1.0 200 OK");
		rec_free(&r);
	}
	if (replay("http-protocol-inspect-v2", "http.pcap", &l, &r)) {
		BUF_IS(&r, 0, AL_BUF_HTTP_PROTOCOL_REQ, "HTTP/1.1");
		BUF_IS(&r, 0, AL_BUF_HTTP_PROTOCOL_RESP, "HTTP/1.1");
		rec_free(&r);
	}
	if (replay("http-request-header", "input.pcap", &l, &r)) {
		assert_true(HAS(&r, 0, AL_BUF_HTTP_HEADER_REQ, "Connection: "));
		assert_true(HAS(&r, 0, AL_BUF_HTTP_HEADER_REQ, "User-Agent: "));
		assert_true(HAS(&r, 0, AL_BUF_HTTP_HEADER_RESP, "Connection: "));
		assert_true(HAS(&r, 0, AL_BUF_HTTP_HEADER_RESP, "Date: "));
		rec_free(&r);
	}
	/* the raw block keeps the server's spacing */
	if (replay("http-raw-header", "input.pcap", &l, &r)) {
		assert_true(HAS(&r, 0, AL_BUF_HTTP_HEADER_RAW_RESP, "Server:       Yx("));
		assert_false(HAS(&r, 0, AL_BUF_HTTP_HEADER_RESP, "Server:       Yx("));
		rec_free(&r);
	}
	/* http.start of each request: "GET" first, "Host:" after */
	if (replay("http-sticky-start", "input.pcap", &l, &r)) {
		assert_int_equal(r.ntx, 3);
		for (unsigned i = 0; i < 3; i++) {
			assert_memory_equal(r.tx[i].p[AL_BUF_HTTP_START_REQ], "GET ", 4);
			assert_true(HAS(&r, i, AL_BUF_HTTP_START_REQ, "\r\nHost: "));
		}
		rec_free(&r);
	}
	/* http.header has the cookie left out, the raw block has it */
	if (replay("http-chunked", "input.pcap", &l, &r)) {
		static const char *const in[] = { "Host", "X-Qlik-User", "User-Agent",
			"Content-Length", "Transfer-Encoding" };

		for (size_t i = 0; i < 5; i++)
			assert_true(buf_has(&r, 0, AL_BUF_HTTP_HEADER_REQ, in[i], strlen(in[i])));
		assert_false(HAS(&r, 0, AL_BUF_HTTP_HEADER_REQ, "Cookie"));
		assert_true(HAS(&r, 0, AL_BUF_HTTP_HEADER_RAW_REQ, "Cookie"));
		rec_free(&r);
	}
	/* the server closes in its headers: they are final as they are */
	if (replay("http-close-headers", "input.pcap", &l, &r)) {
		BUF_IS(&r, 0, AL_BUF_HTTP_HEADER_RESP, "Server: ng1nx\r\n");
		rec_free(&r);
	}
	/* a request line without protocol, headers after it */
	if (replay("http-missing-protocol", "input.pcap", &l, &r)) {
		BUF_IS(&r, 0, AL_BUF_HTTP_METHOD, "GET");
		assert_true(HAS(&r, 0, AL_BUF_HTTP_HEADER_NAMES_REQ, "\r\nUser-Agent\r\n"));
		assert_true(anomaly(&r, 0, "request_line_missing_protocol"));
		rec_free(&r);
	}
	/* the raw request header buffer (a size test: bsize 69 on "Key: ...") */
	if (replay("http-request-header-multi", "input.pcap", &l, &r)) {
		BUF_IS(&r, 0, AL_BUF_HTTP_URI, "/s/ws");
		BUF_IS(&r, 0, AL_BUF_HTTP_USER_AGENT, "Go-http-client/1.1");
		BUF_IS(&r, 0, AL_BUF_HTTP_CONNECTION, "Upgrade");
		rec_free(&r);
	}
	if (replay("http-auth-unrecognized", "input.pcap", &l, &r)) {
		assert_true(anomaly(&r, 0, "request_auth_unrecognized"));
		rec_free(&r);
	}
	if (replay("http-auth-bearer", "input.pcap", &l, &r)) {
		assert_false(anomaly(&r, 0, "request_auth_unrecognized"));
		rec_free(&r);
	}
}

static void
test_pcap_bodies(void **state)
{
	(void)state;
	struct al_limits l = limits();
	struct rec r;

	/* two lengths in a request */
	if (replay("http-multiple-cl", "input.pcap", &l, &r)) {
		assert_true(anomaly(&r, 0, "duplicate_content_length_field_in_request"));
		BUF_IS(&r, 0, AL_BUF_HTTP_REQUEST_BODY, "bar=1&foo=2");
		rec_free(&r);
	}
	/* a chunk extension */
	if (replay("http-event-chunk", "input.pcap", &l, &r)) {
		assert_true(anomaly(&r, 0, "request_chunk_extension"));
		BUF_IS(&r, 0, AL_BUF_HTTP_REQUEST_BODY, "tototatatiti");
		rec_free(&r);
	}
	/* bytes after a body-less request that are no request: more body, counted */
	if (replay("http-request-invalid", "input.pcap", &l, &r)) {
		unsigned hits = 0;

		for (unsigned i = 0; i < r.ntx; i++)
			hits += anomaly(&r, i, "request_body_unexpected");
		assert_int_equal(hits, 2);
		assert_true(HAS(&r, 2, AL_BUF_HTTP_REQUEST_BODY, "login=foo&password=bar3"));
		/* reported with the body stage, where detection looks */
		for (unsigned i = 0; i < r.ntx; i++)
			if (anomaly(&r, i, "request_body_unexpected"))
				assert_true(r.tx[i].n_at_stage[AL_BUF_HTTP_REQUEST_BODY] >= 23);
		rec_free(&r);
	}
	/* gzip request body decoded */
	if (replay("http-post-data-decompression", "input.pcap", &l, &r)) {
		assert_true(HAS(&r, 0, AL_BUF_HTTP_REQUEST_BODY, "name="));
		assert_false(HAS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, "name"));
		rec_free(&r);
	}
	/* "gzip" over clear text: kept as it is */
	if (replay("http-encoding-gzip-uncompressed", "input.pcap", &l, &r)) {
		assert_true(HAS(&r, 0, AL_BUF_HTTP_REQUEST_BODY,
				"\"sdk_version\":11026,\"app_package\":\"com.xcm.huasheng\","
				"\"app_version\":\"1.7.4\",\"device_id\":\""));
		rec_free(&r);
	}
	if (replay("http-encoding-identity", "test.pcap", &l, &r)) {
		BUF_IS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, "identity content-encoding works");
		assert_false(anomaly(&r, 0, "abnormal_ce_header"));
		rec_free(&r);
	}
	/* a body of many segments, far into the file */
	l.http_resp_body = 512u << 10;
	if (replay("http-body-inspect", "http-aptget-ids-02-s2.pcap", &l, &r)) {
		assert_true(HAS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, "\x60\x5c\xf3\xf0\x29\x2b"));
		rec_free(&r);
	}
	l = limits();
	if (replay("http-urldecode-body", "input.pcap", &l, &r)) {
		BUF_IS(&r, 0, AL_BUF_HTTP_REQUEST_BODY, "mail=test%40oisf.net");
		rec_free(&r);
	}
	/* a multipart upload: the file's bytes are in the request body */
	if (replay("http-post-file", "input.pcap", &l, &r)) {
		assert_int_equal(r.ntx, 3);
		BUF_IS(&r, 2, AL_BUF_HTTP_REQUEST_BODY,
				"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");
		rec_free(&r);
	}
	/* the response line is not body */
	if (replay("http-not09-file", "input.pcap", &l, &r)) {
		assert_true(HAS(&r, 0, AL_BUF_HTTP_RESPONSE_LINE, "HTTP/1.1 400"));
		assert_false(HAS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, "HTTP/1.1 400"));
		assert_int_equal(r.tx[0].n[AL_BUF_HTTP_RESPONSE_BODY], 166);
		rec_free(&r);
	}
}

static void
test_pcap_flows(void **state)
{
	(void)state;
	struct al_limits l = limits();
	struct rec r;

	if (replay("http-async", "input.pcap", &l, &r)) {
		assert_int_equal(r.ntx, 2);
		BUF_IS(&r, 0, AL_BUF_HTTP_URI, "/1");
		BUF_IS(&r, 1, AL_BUF_HTTP_URI, "/2");
		assert_int_equal(r.tx[0].num[AL_NUM_HTTP_STATUS], 200);
		assert_true(HAS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, "World"));
		assert_true(HAS(&r, 1, AL_BUF_HTTP_RESPONSE_BODY, "People"));
		rec_free(&r);
	}
	/* the server side alone: two responses, each its own transaction */
	if (replay("http-async-srv", "input.pcap", &l, &r)) {
		assert_int_equal(r.ntx, 2);
		assert_int_equal(r.tx[0].num[AL_NUM_HTTP_STATUS], 200);
		assert_int_equal(r.tx[1].num[AL_NUM_HTTP_STATUS], 200);
		assert_true(HAS(&r, 0, AL_BUF_HTTP_RESPONSE_BODY, "World"));
		assert_true(HAS(&r, 1, AL_BUF_HTTP_RESPONSE_BODY, "People"));
		rec_free(&r);
	}
	/* a hole in a body of known length: skipped, the next exchange parsed */
	if (replay("http-gap-simple-frames", "input.pcap", &l, &r)) {
		assert_int_equal(r.ntx, 3);
		BUF_IS(&r, 2, AL_BUF_HTTP_URI, "/3");
		BUF_IS(&r, 2, AL_BUF_HTTP_RESPONSE_BODY, "Hello People");
		BUF_IS(&r, 1, AL_BUF_HTTP_RESPONSE_BODY, "AAAAAAAAAAAAAA");
		rec_free(&r);
	}
	/* a hole across a body end and a head: three requests, one response line */
	if (replay("eve-payload-07-http-gap", "input.pcap", &l, &r)) {
		unsigned gets = 0, oks = 0;

		for (unsigned i = 0; i < r.ntx; i++) {
			gets += r.tx[i].have[AL_BUF_HTTP_METHOD] &&
				memcmp(r.tx[i].p[AL_BUF_HTTP_METHOD], "GET", 3) == 0;
			oks += r.tx[i].have[AL_BUF_HTTP_STAT_MSG];
		}
		assert_int_equal(gets, 3);
		assert_int_equal(oks, 1);
		rec_free(&r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_buffers),
		cmocka_unit_test(test_header_forms),
		cmocka_unit_test(test_header_limit),
		cmocka_unit_test(test_uri_normalize),
		cmocka_unit_test(test_request_lines),
		cmocka_unit_test(test_interim_and_no_body),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_bomb),
		cmocka_unit_test(test_body_limits),
		cmocka_unit_test(test_pipelining),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_memcap),
		cmocka_unit_test(test_anomaly_names),
		cmocka_unit_test(test_pcap_uri_cases),
		cmocka_unit_test(test_pcap_lines_and_headers),
		cmocka_unit_test(test_pcap_bodies),
		cmocka_unit_test(test_pcap_flows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
