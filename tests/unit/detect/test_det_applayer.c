/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The application-layer part of the rule language: sticky buffers and their legacy forms,
 * the buffer each keyword lands in and the directions and stages that follow, transforms,
 * bsize, endswith, urilen, numbers, app-layer-protocol; every error with its reason, keyword
 * and column. Then the semantics of a buffer's items (relative keywords stay in their buffer,
 * bsize, endswith, transforms) and the groups the compiler makes of transaction rules.
 */
#include "al.h"
#include "det_confirm.h"
#include "det_test.h"

static struct det_vars *vars;

static int
setup(void **state)
{
	(void)state;
	vars = det_vars_create();
	if (vars == NULL || det_vars_set_addr(vars, "HOME_NET", "[10.0.0.0/8]") ||
			det_vars_set_defaults(vars))
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	det_vars_free(vars);
	return 0;
}

static struct det_rule *
ok_at(const char *text, int line)
{
	struct det_parse_ctx ctx = { .vars = vars, .app_proto_ports = true };
	struct det_parse_err err;
	struct det_rule *r = NULL;

	if (det_rule_parse(text, "t.rules", 1, &ctx, &r, &err) != 0)
		fail_msg("line %d: '%s' rejected at %u (%s): %s", line, text, err.off + 1,
				det_reason_name(err.reason), err.msg);
	return r;
}

#define OK(text) ok_at(text, __LINE__)

/*
 * Rejected with reason, keyword kw ("" for none), at the 1-based column where at first
 * occurs in the rule (NULL: any column), with a message holding msg.
 */
static void
bad_at(const char *rule, enum det_reason reason, const char *kw, const char *at, const char *msg,
		int line)
{
	struct det_parse_ctx ctx = { .vars = vars, .app_proto_ports = true };
	struct det_parse_err err;
	struct det_rule *r = NULL;
	const char *p = at != NULL ? strstr(rule, at) : NULL;

	if (at != NULL && p == NULL)
		fail_msg("line %d: '%s' is not in the rule", line, at);
	if (det_rule_parse(rule, "t.rules", 1, &ctx, &r, &err) == 0) {
		det_rule_free(r);
		fail_msg("line %d: '%s' was accepted", line, rule);
	}
	if (err.reason != reason || (p != NULL && err.off != (unsigned)(p - rule)) ||
			strstr(err.msg, msg) == NULL || strcmp(err.keyword, kw) != 0)
		fail_msg("line %d: '%s': got %s at column %u (want %ld) keyword '%s': %s", line,
				rule, det_reason_name(err.reason), err.off + 1,
				p != NULL ? (long)(p - rule) + 1 : 0L, err.keyword, err.msg);
}

#define BAD(rule, reason, kw, at, msg) bad_at(rule, reason, kw, at, msg, __LINE__)

#define H  "alert tcp any any -> any any "
#define HH "alert http any any -> any any "

/* The span of r holding buffer b (with n_xf transforms), or fail. */
static const struct det_span *
span_of(const struct det_rule *r, unsigned b, unsigned n_xf)
{
	for (unsigned i = 0; i < r->n_spans; i++)
		if (r->spans[i].buf == b && r->spans[i].n_xf == n_xf)
			return &r->spans[i];
	fail_msg("no span of %s", det_buf_def(b)->name);
	return NULL;
}

static void
test_sticky_buffers(void **state)
{
	struct det_rule *r;
	const struct det_span *sp;

	(void)state;
	r = OK(HH "(flow:established,to_server; http.uri; content:\"/a\"; http.method; "
		  "content:\"GET\"; sid:1;)");
	assert_true(r->tx);
	assert_int_equal(r->app_proto, AL_PROTO_HTTP);
	assert_int_equal(r->tx_dirs, 1u << AL_TO_SERVER);
	assert_int_equal(r->tx_stages[AL_TO_SERVER], AL_ST_HTTP_REQ_HEADERS);
	assert_int_equal(r->classes, 0);
	assert_int_equal(r->l4, DET_L4_TCP);
	assert_int_equal(r->n_spans, 2);
	assert_int_equal(r->spans[0].buf, DET_BUF_HTTP_URI);
	assert_int_equal(r->spans[0].al[AL_TO_SERVER], AL_BUF_HTTP_URI);
	assert_int_equal(r->spans[0].al[AL_TO_CLIENT], AL_BUF_NONE);
	assert_int_equal(r->spans[1].buf, DET_BUF_HTTP_METHOD);
	assert_memory_equal(r->items[r->spans[1].first].c.pat, "GET", 3);
	det_rule_free(r);

	/* the buffer's protocol makes a tcp rule an HTTP one; aliases; a buffer named again
	 * continues, relative keywords stay in their buffer */
	r = OK(H "(content:\"a\"; http_uri; content:\"b\"; http_header; http.uri; "
		 "content:\"c\"; distance:0; http.header; content:\"d\"; within:5; sid:1;)");
	assert_true(r->tx);
	assert_int_equal(r->app_proto, AL_PROTO_HTTP);
	assert_int_equal(r->n_spans, 2);
	sp = span_of(r, DET_BUF_HTTP_URI, 0);
	assert_int_equal(sp->n, 2);
	assert_false(r->items[sp->first].relative);
	assert_true(r->items[sp->first + 1].relative);
	sp = span_of(r, DET_BUF_HTTP_HEADER, 0);
	assert_int_equal(sp->n, 2);
	assert_true(r->items[sp->first + 1].relative);
	/* http.uri exists in requests only: the rule inspects requests */
	assert_int_equal(r->tx_dirs, 1u << AL_TO_SERVER);
	assert_int_equal(sp->al[AL_TO_SERVER], AL_BUF_HTTP_HEADER_REQ);
	assert_int_equal(sp->al[AL_TO_CLIENT], AL_BUF_NONE);
	det_rule_free(r);
	/* http.header has both sides: no direction named, the rule inspects both */
	r = OK(HH "(http.header; content:\"x\"; sid:1;)");
	assert_int_equal(r->tx_dirs, 3);
	assert_int_equal(r->spans[0].al[AL_TO_SERVER], AL_BUF_HTTP_HEADER_REQ);
	assert_int_equal(r->spans[0].al[AL_TO_CLIENT], AL_BUF_HTTP_HEADER_RESP);
	assert_int_equal(r->tx_stages[AL_TO_SERVER], AL_ST_HTTP_REQ_HEADERS);
	assert_int_equal(r->tx_stages[AL_TO_CLIENT], AL_ST_HTTP_RESP_HEADERS);
	det_rule_free(r);

	/* the old sticky names */
	r = OK("alert dns any any -> any any (dns_query; content:\"x\"; sid:1;)");
	assert_int_equal(r->spans[0].buf, DET_BUF_DNS_QUERY);
	det_rule_free(r);
	r = OK("alert tls any any -> any any (tls_sni; content:\"x\"; ja3_hash; content:\"y\"; "
	       "sid:1;)");
	assert_int_equal(r->spans[0].buf, DET_BUF_TLS_SNI);
	assert_int_equal(r->spans[1].buf, DET_BUF_JA3_HASH);
	det_rule_free(r);

	/* pkt_data goes back to the payload: a rule of both */
	r = OK(HH "(flow:to_server; http.uri; content:\"a\"; pkt_data; content:\"b\"; sid:1;)");
	assert_true(r->tx);
	assert_int_equal(det_rule_payload_span(r), 1);
	assert_memory_equal(r->items[r->spans[1].first].c.pat, "b", 1);
	det_rule_free(r);

	/* an application protocol without buffers: a packet rule of that protocol */
	r = OK(HH "(content:\"x\"; sid:1;)");
	assert_false(r->tx);
	assert_int_equal(r->app_proto, AL_PROTO_HTTP);
	assert_true(r->app_approx);
	det_rule_free(r);
}

static void
test_legacy_forms(void **state)
{
	static const struct {
		const char *mod;
		unsigned buf;
	} mods[] = {
		{ "http_uri", DET_BUF_HTTP_URI },
		{ "http_raw_uri", DET_BUF_HTTP_URI_RAW },
		{ "http_method", DET_BUF_HTTP_METHOD },
		{ "http_header", DET_BUF_HTTP_HEADER },
		{ "http_raw_header", DET_BUF_HTTP_HEADER_RAW },
		{ "http_cookie", DET_BUF_HTTP_COOKIE },
		{ "http_user_agent", DET_BUF_HTTP_USER_AGENT },
		{ "http_host", DET_BUF_HTTP_HOST },
		{ "http_raw_host", DET_BUF_HTTP_HOST_RAW },
		{ "http_client_body", DET_BUF_HTTP_REQUEST_BODY },
		{ "http_server_body", DET_BUF_HTTP_RESPONSE_BODY },
		{ "http_stat_code", DET_BUF_HTTP_STAT_CODE },
		{ "http_stat_msg", DET_BUF_HTTP_STAT_MSG },
	};
	static const struct {
		char letter;
		unsigned buf;
	} letters[] = {
		{ 'U', DET_BUF_HTTP_URI },
		{ 'I', DET_BUF_HTTP_URI_RAW },
		{ 'M', DET_BUF_HTTP_METHOD },
		{ 'H', DET_BUF_HTTP_HEADER },
		{ 'D', DET_BUF_HTTP_HEADER_RAW },
		{ 'C', DET_BUF_HTTP_COOKIE },
		{ 'P', DET_BUF_HTTP_REQUEST_BODY },
		{ 'Q', DET_BUF_FILE_DATA },
		{ 'S', DET_BUF_HTTP_STAT_CODE },
		{ 'Y', DET_BUF_HTTP_STAT_MSG },
		{ 'V', DET_BUF_HTTP_USER_AGENT },
		{ 'W', DET_BUF_HTTP_HOST },
		{ 'Z', DET_BUF_HTTP_HOST_RAW },
	};
	struct det_rule *r;
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		snprintf(text, sizeof(text), H "(content:\"x\"; %s; nocase; content:\"y\"; sid:1;)",
				mods[i].mod);
		r = OK(text);
		assert_true(r->tx);
		assert_int_equal(r->n_spans, 2);
		/* the modified content left the payload; the next one stays there */
		assert_int_equal(r->spans[0].buf, DET_BUF_PKT);
		assert_memory_equal(r->items[r->spans[0].first].c.pat, "y", 1);
		assert_int_equal(r->spans[1].buf, mods[i].buf);
		assert_true(r->items[r->spans[1].first].c.flags & DET_C_NOCASE);
		det_rule_free(r);
	}
	for (size_t i = 0; i < sizeof(letters) / sizeof(letters[0]); i++) {
		snprintf(text, sizeof(text), HH "(pcre:\"/x/%ci\"; sid:1;)", letters[i].letter);
		r = OK(text);
		assert_int_equal(r->n_spans, 1);
		assert_int_equal(r->spans[0].buf, letters[i].buf);
		assert_true(r->items[0].p.flags & DET_P_CASELESS);
		det_rule_free(r);
	}
	/* a letter naming the sticky buffer in force is that buffer */
	r = OK(HH "(http.uri; content:\"a\"; pcre:\"/b/UR\"; sid:1;)");
	assert_int_equal(r->n_spans, 1);
	assert_true(r->items[1].relative);
	det_rule_free(r);
	/* Q is the response body http.response_body names */
	r = OK(HH "(flow:to_client; http.response_body; content:\"a\"; pcre:\"/b/Q\"; sid:1;)");
	assert_int_equal(r->n_spans, 1);
	det_rule_free(r);
	r = OK(H "(uricontent:\"/x\"; sid:1;)");
	assert_int_equal(r->spans[0].buf, DET_BUF_HTTP_URI);
	det_rule_free(r);
}

static void
test_directions(void **state)
{
	struct det_rule *r;

	(void)state;
	/* file.data: the response body unless the rule inspects requests; SMTP's message */
	r = OK(HH "(file.data; content:\"x\"; sid:1;)");
	assert_int_equal(r->tx_dirs, 1u << AL_TO_CLIENT);
	assert_int_equal(r->spans[0].al[AL_TO_CLIENT], AL_BUF_HTTP_RESPONSE_BODY);
	assert_int_equal(r->tx_stages[AL_TO_CLIENT], AL_ST_HTTP_RESP_BODY);
	det_rule_free(r);
	r = OK(HH "(flow:to_server; file_data; content:\"x\"; sid:1;)");
	assert_int_equal(r->tx_dirs, 1u << AL_TO_SERVER);
	assert_int_equal(r->spans[0].al[AL_TO_SERVER], AL_BUF_HTTP_REQUEST_BODY);
	det_rule_free(r);
	r = OK(HH "(http.method; content:\"POST\"; file.data; content:\"x\"; sid:1;)");
	assert_int_equal(r->tx_dirs, 1u << AL_TO_SERVER);
	assert_int_equal(r->tx_stages[AL_TO_SERVER], AL_ST_HTTP_REQ_HEADERS | AL_ST_HTTP_REQ_BODY);
	det_rule_free(r);
	r = OK("alert smtp any any -> any any (file_data; content:\"x\"; sid:1;)");
	assert_int_equal(r->tx_dirs, 1u << AL_TO_SERVER);
	assert_int_equal(r->spans[0].al[AL_TO_SERVER], AL_BUF_SMTP_DATA);
	det_rule_free(r);
	/* response buffers make a response rule; stages add up */
	r = OK(HH "(http.stat_code; content:\"200\"; file.data; content:\"MZ\"; sid:1;)");
	assert_int_equal(r->tx_dirs, 1u << AL_TO_CLIENT);
	assert_int_equal(
			r->tx_stages[AL_TO_CLIENT], AL_ST_HTTP_RESP_HEADERS | AL_ST_HTTP_RESP_BODY);
	det_rule_free(r);
	/* numbers: tls.version is the version of the side inspected */
	r = OK("alert tls any any -> any any (flow:to_client; tls.version:1.2; sid:1;)");
	assert_true(r->tx);
	assert_int_equal(r->n_nums, 1);
	assert_int_equal(r->nums[0].al[AL_TO_CLIENT], AL_NUM_TLS_VERSION);
	assert_int_equal(r->nums[0].cmp.op, DET_NOP_EQ);
	assert_int_equal(r->nums[0].cmp.lo, 0x0303);
	assert_int_equal(r->tx_stages[AL_TO_CLIENT], AL_ST_TLS_SERVER_HELLO);
	det_rule_free(r);
	/* DNS header numbers: of the message of each direction (Suricata), so both directions;
	 * dns.rrtype: the questions' types of a request, the answers' types of a response */
	r = OK("alert dns any any -> any any (dns.opcode:!4; dns.rrtype:16; sid:1;)");
	assert_int_equal(r->tx_dirs, 1u << AL_TO_SERVER | 1u << AL_TO_CLIENT);
	assert_int_equal(r->nums[0].cmp.op, DET_NOP_NE);
	assert_int_equal(r->nums[0].al[AL_TO_CLIENT], AL_NUM_DNS_RESP_OPCODE);
	assert_int_equal(r->nums[1].al[AL_TO_SERVER], AL_NUM_DNS_QTYPE);
	assert_int_equal(r->nums[1].al[AL_TO_CLIENT], AL_NUM_DNS_ANSWER_TYPE);
	assert_int_equal(r->nums[1].inst, DET_NI_ANY);
	assert_int_equal(r->l4, DET_L4_TCP | DET_L4_UDP);
	det_rule_free(r);
	r = OK("alert dns any any -> any any (flow:to_server; dns.rcode:3; sid:1;)");
	assert_int_equal(r->nums[0].al[AL_TO_SERVER], AL_NUM_DNS_REQ_RCODE);
	det_rule_free(r);
	/* Suricata's multi-integer index: any, all, from the first or from the last */
	r = OK("alert dns any any -> any any (dns.rrtype:1,all; sid:1;)");
	assert_int_equal(r->nums[0].inst, DET_NI_ALL);
	det_rule_free(r);
	r = OK("alert dns any any -> any any (dns.rrtype:>5, -1; sid:1;)");
	assert_int_equal(r->nums[0].inst, DET_NI_INDEX);
	assert_int_equal(r->nums[0].index, -1);
	assert_int_equal(r->nums[0].cmp.op, DET_NOP_GT);
	det_rule_free(r);
	BAD("alert dns any any -> any any (dns.rrtype:1,first; sid:1;)", DET_R_INVALID_VALUE,
			"dns.rrtype", "first", "should be any, all, or an index");
	BAD("alert dns any any -> any any (dns.rrtype:1,256; sid:1;)", DET_R_INVALID_VALUE,
			"dns.rrtype", "256", "index '256'");
	BAD("alert dns any any -> any any (dns.opcode:1,0; sid:1;)", DET_R_INVALID_VALUE,
			"dns.opcode", "1,0", "only dns.rrtype takes an index");
	r = OK("alert udp any any -> any any (dns.query; content:\"x\"; sid:1;)");
	assert_int_equal(r->l4, DET_L4_UDP);
	det_rule_free(r);
}

static void
test_transforms_and_sizes(void **state)
{
	struct det_rule *r;
	const struct det_span *sp;

	(void)state;
	r = OK("alert dns any any -> any any (dns.query; dotprefix; content:\".evil.com\"; nocase; "
	       "endswith; sid:1;)");
	assert_int_equal(r->spans[0].n_xf, 1);
	assert_int_equal(r->spans[0].xf[0], DET_XF_DOTPREFIX);
	assert_int_equal(r->items[0].c.flags, DET_C_NOCASE | DET_C_ENDSWITH);
	det_rule_free(r);
	/* transforms after items: the items that follow inspect the transformed buffer */
	r = OK("alert dns any any -> any any (dns.query; content:\"rs-\"; startswith; "
	       "dotprefix; to_lowercase; content:\".rustdesk.com\"; endswith; sid:1;)");
	assert_int_equal(r->n_spans, 2);
	assert_int_equal(span_of(r, DET_BUF_DNS_QUERY, 0)->n, 1);
	sp = span_of(r, DET_BUF_DNS_QUERY, 2);
	assert_int_equal(sp->xf[0], DET_XF_DOTPREFIX);
	assert_int_equal(sp->xf[1], DET_XF_TO_LOWER);
	det_rule_free(r);
	r = OK(HH "(http.header; strip_whitespace; compress_whitespace; url_decode; "
		  "to_uppercase; content:\"X\"; sid:1;)");
	assert_int_equal(r->spans[0].n_xf, 4);
	det_rule_free(r);

	static const struct {
		const char *v;
		uint8_t op;
		uint64_t lo, hi;
	} sizes[] = { { "10", DET_NOP_EQ, 10, 0 }, { "<10", DET_NOP_LT, 10, 0 },
		{ ">10", DET_NOP_GT, 10, 0 }, { "<=10", DET_NOP_LE, 10, 0 },
		{ ">=10", DET_NOP_GE, 10, 0 }, { "!10", DET_NOP_NE, 10, 0 },
		{ "5<>10", DET_NOP_RANGE, 5, 10 }, { "5-10", DET_NOP_RANGE, 5, 10 } };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char text[128];

		snprintf(text, sizeof(text), HH "(http.uri; bsize:%s; sid:1;)", sizes[i].v);
		r = OK(text);
		assert_int_equal(r->items[0].type, DET_ITEM_BSIZE);
		assert_int_equal(r->items[0].z.op, sizes[i].op);
		assert_int_equal(r->items[0].z.lo, sizes[i].lo);
		assert_int_equal(r->items[0].z.hi, sizes[i].hi);
		det_rule_free(r);
	}
	/* urilen: the normalised URI's length, or with raw the URI as sent */
	r = OK(HH "(urilen:>5; sid:1;)");
	assert_int_equal(r->spans[0].buf, DET_BUF_HTTP_URI);
	assert_int_equal(r->items[0].z.op, DET_NOP_GT);
	det_rule_free(r);
	r = OK(HH "(urilen:2<>10,raw; http.uri; content:\"/a\"; sid:1;)");
	assert_int_equal(r->n_spans, 2);
	assert_int_equal(r->spans[0].buf, DET_BUF_HTTP_URI_RAW);
	assert_int_equal(r->items[0].z.op, DET_NOP_RANGE);
	det_rule_free(r);
	r = OK(HH "(urilen:7,norm; http.uri; content:\"/a\"; sid:1;)");
	assert_int_equal(r->n_spans, 1);
	assert_int_equal(r->spans[0].n, 2);
	det_rule_free(r);

	/* legacy tests of the certificate and the SSH banner */
	r = OK("alert tls any any -> any any (tls.subject:\"CN=evil\"; tls.issuerdn:!\"CN=ca\"; "
	       "sid:1;)");
	assert_int_equal(r->spans[0].buf, DET_BUF_TLS_CERT_SUBJECT);
	assert_int_equal(r->spans[1].buf, DET_BUF_TLS_CERT_ISSUER);
	assert_true(r->items[r->spans[1].first].c.flags & DET_C_NEGATED);
	assert_int_equal(r->tx_dirs, 1u << AL_TO_CLIENT);
	det_rule_free(r);
	r = OK("alert ssh any any -> any any (ssh.protoversion:2.0; ssh.softwareversion:OpenSSH; "
	       "sid:1;)");
	assert_int_equal(r->tx_dirs, 3);
	det_rule_free(r);

	r = OK(H "(app-layer-protocol:!http; app-layer-protocol:failed; sid:1;)");
	assert_false(r->tx);
	assert_int_equal(r->n_alp, 2);
	assert_int_equal(r->alp[0].proto, AL_PROTO_HTTP);
	assert_true(r->alp[0].neg);
	assert_int_equal(r->alp[1].proto, AL_PROTO_FAILED);
	det_rule_free(r);
	/* endswith on the payload: a packet rule */
	r = OK(H "(content:\"x\"; endswith; sid:1;)");
	assert_false(r->tx);
	assert_true(r->items[0].c.flags & DET_C_ENDSWITH);
	det_rule_free(r);
}

static void
test_errors(void **state)
{
	(void)state;
	BAD(H "(bsize:10; sid:1;)", DET_R_INVALID_COMBINATION, "bsize", "bsize", "sticky buffer");
	BAD(HH "(http.uri; bsize:1x; sid:1;)", DET_R_INVALID_VALUE, "bsize", "1x", "bsize '1x'");
	BAD(H "(dotprefix; content:\"a\"; sid:1;)", DET_R_INVALID_COMBINATION, "dotprefix",
			"dotprefix", "needs a sticky buffer");
	BAD(H "(dns.query; to_md5; content:\"a\"; sid:1;)", DET_R_UNSUPPORTED_KEYWORD, "to_md5",
			"to_md5", "transform not implemented");
	BAD(H "(http.uri; content:\"a\"; http_header; sid:1;)", DET_R_INVALID_COMBINATION,
			"http_header", "http_header", "sticky buffer http.uri");
	BAD(H "(http_uri; sid:1;)", DET_R_SYNTAX, "http_uri", "http_uri", "no content");
	BAD(H "(content:\"a\"; http_uri; http_header; sid:1;)", DET_R_INVALID_COMBINATION,
			"http_header", "http_header", "already in http.uri");
	BAD(H "(http.uri; content:\"a\"; http.stat_code; content:\"200\"; sid:1;)",
			DET_R_INVALID_COMBINATION, "http.stat_code", "http.stat_code",
			"conflicting directions");
	BAD(HH "(flow:to_client; http.uri; content:\"a\"; sid:1;)", DET_R_INVALID_COMBINATION,
			"http.uri", "http.uri", "flow:to_client");
	BAD("alert dns any any -> any any (http.uri; content:\"a\"; sid:1;)",
			DET_R_INVALID_COMBINATION, "http.uri", "http.uri", "inspects http");
	BAD(H "(dns.query; content:\"a\"; tls.sni; content:\"b\"; sid:1;)",
			DET_R_INVALID_COMBINATION, "tls.sni", "tls.sni", "inspects tls");
	BAD("alert smb any any -> any any (http.uri; content:\"a\"; sid:1;)",
			DET_R_INVALID_COMBINATION, "http.uri", "http.uri", "for smb");
	BAD("alert udp any any -> any any (http.uri; content:\"a\"; sid:1;)",
			DET_R_INVALID_COMBINATION, "", NULL, "runs over tcp");
	BAD(H "(http.uri; content:\"abcdef\"; bsize:3; sid:1;)", DET_R_CANNOT_MATCH, "bsize",
			"bsize", "at least 6 bytes");
	BAD(H "(urilen:3; http.uri; content:\"abcdef\"; sid:1;)", DET_R_CANNOT_MATCH, "urilen",
			"urilen", "urilen allows 3");
	BAD(H "(urilen:3,both; sid:1;)", DET_R_INVALID_VALUE, "urilen", "3,both", "norm or raw");
	BAD(H "(urilen:x; sid:1;)", DET_R_INVALID_VALUE, "urilen", "x;", "urilen 'x'");
	BAD(H "(http.uri; to_lowercase; content:\"ABC\"; sid:1;)", DET_R_CANNOT_MATCH, "content",
			"content", "to_lowercase");
	BAD(H "(http.uri; strip_whitespace; content:\"a b\"; sid:1;)", DET_R_CANNOT_MATCH,
			"content", "content", "strip_whitespace");
	BAD(H "(http.host; content:\"Evil.com\"; sid:1;)", DET_R_CANNOT_MATCH, "content", "content",
			"lower-cased");
	BAD(H "(file.data; content:\"x\"; sid:1;)", DET_R_UNSUPPORTED_PROTOCOL, "file.data",
			"file.data", "name http or smtp");
	BAD("alert smtp any any -> any any (flow:to_client; file.data; content:\"x\"; sid:1;)",
			DET_R_INVALID_COMBINATION, "file.data", "file.data", "flow:to_client");
	BAD("alert tls any any -> any any (tls.version:1.9; sid:1;)", DET_R_INVALID_VALUE,
			"tls.version", "1.9", "tls.version '1.9'");
	BAD("alert dns any any -> any any (dns.opcode:300; sid:1;)", DET_R_INVALID_VALUE,
			"dns.opcode", "300", "0 to 255");
	BAD(H "(app-layer-protocol:smb; sid:1;)", DET_R_UNSUPPORTED_MODIFIER, "app-layer-protocol",
			"smb", "Vigil detects");
	BAD(H "(app-layer-protocol:http,final; sid:1;)", DET_R_UNSUPPORTED_MODIFIER,
			"app-layer-protocol", "http,final", "modes");
	BAD(HH "(http.uri; content:\"a\"; app-layer-event:http.no_such_event; sid:1;)",
			DET_R_UNSUPPORTED_MODIFIER, "app-layer-event", "http.no_such",
			"does not report");
	BAD(H "(app-layer-event:smb.x; sid:1;)", DET_R_UNSUPPORTED_MODIFIER, "app-layer-event",
			"smb.x", "no parser for smb");
	BAD(H "(http.request_header; content:\"a\"; sid:1;)", DET_R_UNSUPPORTED_KEYWORD,
			"http.request_header", "http.request_header", "parsers do not provide");
	BAD(H "(tls.fingerprint:\"aa\"; sid:1;)", DET_R_UNSUPPORTED_KEYWORD, "tls.fingerprint",
			"tls.fingerprint", "parsers do not provide");
	BAD(H "(filemd5:x; sid:1;)", DET_R_UNSUPPORTED_KEYWORD, "filemd5", "filemd5",
			"file tracking");
	BAD(H "(http.uri; pcre:\"/a/M\"; sid:1;)", DET_R_INVALID_COMBINATION, "pcre", "\"/a/M",
			"sticky buffer http.uri");
	BAD(H "(http.uri x; sid:1;)", DET_R_UNSUPPORTED_KEYWORD, "http.uri x", "http.uri x",
			"parsers do not provide");
	BAD(H "(bogus.uri; sid:1;)", DET_R_UNKNOWN_KEYWORD, "bogus.uri", "bogus.uri",
			"unknown keyword");
	BAD(H "(http.uri:1; sid:1;)", DET_R_SYNTAX, "http.uri", "1;", "takes no value");
}

/* ---- what a buffer's items mean ---- */

static bool
span_match(const struct det_rule *r, unsigned span, const char *buf)
{
	struct det_confirm_ctx c;
	bool m;

	assert_int_equal(det_confirm_ctx_init(&c), 0);
	m = det_confirm_items(&r->items[r->spans[span].first], r->spans[span].n,
			(const uint8_t *)buf, (uint32_t)strlen(buf), 0, &c, NULL);
	det_confirm_ctx_free(&c);
	return m;
}

static void
test_buffer_semantics(void **state)
{
	struct det_rule *r;
	const struct det_span *sp;

	(void)state;
	/* relative keywords are relative within their buffer: "c" follows "a" in the URI
	 * whatever the header holds */
	r = OK(HH "(flow:to_server; http.uri; content:\"a\"; http.header; content:\"b\"; "
		  "http.uri; content:\"c\"; within:2; sid:1;)");
	sp = span_of(r, DET_BUF_HTTP_URI, 0);
	assert_true(span_match(r, (unsigned)(sp - r->spans), "xac"));
	assert_true(span_match(r, (unsigned)(sp - r->spans), "xaxc"));
	assert_false(span_match(r, (unsigned)(sp - r->spans), "xaxxc"));
	assert_false(span_match(r, (unsigned)(sp - r->spans), "ca"));
	det_rule_free(r);

	/* endswith: the buffer's end; with a relative window too; negated */
	r = OK(HH "(http.uri; content:\"/a\"; content:\".php\"; distance:0; endswith; sid:1;)");
	assert_true(span_match(r, 0, "/a/b.php"));
	assert_false(span_match(r, 0, "/a/b.php?x"));
	assert_false(span_match(r, 0, "/b.php/a"));
	det_rule_free(r);
	r = OK(HH "(http.uri; content:\"/\"; startswith; content:\".php\"; nocase; endswith; "
		  "sid:1;)");
	assert_true(span_match(r, 0, "/x.PHP"));
	assert_false(span_match(r, 0, "x/.php"));
	det_rule_free(r);
	r = OK(HH "(http.uri; content:\"/a\"; content:!\".js\"; endswith; sid:1;)");
	assert_true(span_match(r, 0, "/a.php"));
	assert_false(span_match(r, 0, "/a.js"));
	det_rule_free(r);

	/* bsize and urilen compare the buffer's length */
	r = OK(HH "(http.uri; content:\"/a\"; bsize:5; sid:1;)");
	assert_true(span_match(r, 0, "/abcd"));
	assert_false(span_match(r, 0, "/abc"));
	assert_false(span_match(r, 0, "/abcde"));
	det_rule_free(r);
	r = OK(HH "(http.uri; bsize:2<>5; sid:1;)");
	assert_false(span_match(r, 0, "ab"));
	assert_true(span_match(r, 0, "abc"));
	assert_true(span_match(r, 0, "abcd"));
	assert_false(span_match(r, 0, "abcde"));
	det_rule_free(r);
	r = OK(HH "(urilen:<4; sid:1;)");
	assert_true(span_match(r, 0, "/ab"));
	assert_false(span_match(r, 0, "/abc"));
	det_rule_free(r);

	/* byte_test and isdataat work in a buffer like on a payload */
	r = OK(HH "(http.request_body; content:\"len=\"; byte_test:2,>,50,0,relative,string,dec; "
		  "isdataat:!3,relative; sid:1;)");
	assert_true(span_match(r, 0, "len=99"));
	assert_false(span_match(r, 0, "len=42"));
	assert_false(span_match(r, 0, "len=99x"));
	det_rule_free(r);
}

static void
test_transform_functions(void **state)
{
	static const struct {
		uint8_t xf[3];
		unsigned n;
		const char *in, *out;
	} cases[] = {
		{ { DET_XF_DOTPREFIX }, 1, "example.com", ".example.com" },
		{ { DET_XF_DOTPREFIX }, 1, "", "" },
		{ { DET_XF_STRIP_WS }, 1, " a \tb\r\nc ", "abc" },
		{ { DET_XF_COMPRESS_WS }, 1, "a  b\t\t c\r\n", "a b\tc\r" },
		{ { DET_XF_TO_LOWER }, 1, "AbC-1", "abc-1" },
		{ { DET_XF_TO_UPPER }, 1, "AbC-1", "ABC-1" },
		{ { DET_XF_URL_DECODE }, 1, "a%41+b%2x%4", "aA b%2x%4" },
		{ { DET_XF_URL_DECODE, DET_XF_TO_LOWER, DET_XF_DOTPREFIX }, 3, "EVIL%2ecom",
				".evil.com" },
	};
	uint8_t out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t n = det_xf_apply(cases[i].xf, cases[i].n, (const uint8_t *)cases[i].in,
				(uint32_t)strlen(cases[i].in), out, sizeof(out));

		assert_int_equal(n, (int64_t)strlen(cases[i].out));
		assert_memory_equal(out, cases[i].out, (size_t)n);
	}
	/* dotprefix needs a byte more than the input */
	assert_int_equal(det_xf_apply((const uint8_t[]){ DET_XF_DOTPREFIX }, 1,
					 (const uint8_t *)"abc", 3, out, 3),
			-1);
	assert_int_equal(det_xf_apply((const uint8_t[]){ DET_XF_TO_LOWER }, 1,
					 (const uint8_t *)"abcd", 4, out, 3),
			-1);
	assert_null(det_xf_content_check(
			(const uint8_t[]){ DET_XF_TO_LOWER }, 1, (const uint8_t *)"abc", 3));
	assert_string_equal(det_xf_content_check((const uint8_t[]){ DET_XF_COMPRESS_WS }, 1,
					    (const uint8_t *)"a  b", 4),
			"compress_whitespace");
	assert_null(det_xf_content_check(
			(const uint8_t[]){ DET_XF_COMPRESS_WS }, 1, (const uint8_t *)"a b", 3));
}

/* ---- compile ---- */

static void
test_compile_groups(void **state)
{
	struct tdet t;
	bool uri = false, host_dot = false, unfiltered = false, two_stages = false;

	(void)state;
	tdet_open(&t, HH "(flow:to_server; http.uri; content:\"/a\"; sid:1;)\n" HH
			 "(flow:to_server; http.uri; content:\"/b\"; http.host; "
			 "content:\"longer host name\"; sid:2;)\n" HH
			 "(flow:to_server; http.host; dotprefix; content:\".evil.com\"; endswith; "
			 "sid:3;)\n" HH "(http.stat_code; content:\"404\"; file.data; "
			 "content:\"not found\"; sid:4;)\n" HH
			 "(flow:to_server; http.uri; content:!\"/c\"; sid:5;)\n" HH
			 "(http.header; content:\"X-Evil\"; sid:6;)\n"
			 "alert dns any any -> any any (dns.query; content:\"x\"; sid:7;)\n"
			 "alert tcp any any -> any any (content:\"payload\"; sid:8;)\n");
	assert_int_equal(t.crep.rules, 8);
	assert_int_equal(t.crep.tx, 7);
	assert_int_equal(t.crep.exact + t.crep.confirm + t.crep.unfiltered + t.crep.header, 1);
	/* sid 6 has two directions */
	assert_int_equal(t.crep.tx_variants, 8);
	assert_int_equal(t.crep.tx_unfiltered, 1);
	assert_int_equal(t.crep.tx_prefiltered, 7);
	for (unsigned i = 0; i < t.crep.n_group; i++) {
		const char *n = t.crep.group[i].name;

		uri |= strcmp(n, "http http.uri ts [at req_headers]") == 0 &&
		       t.crep.group[i].patterns == 1;
		host_dot |= strcmp(n, "http http.host+dotprefix ts [at req_headers]") == 0;
		unfiltered |= strcmp(n, "http unfiltered [at req_headers]") == 0;
		/* sid 4 (status code and body) is decided with the body */
		two_stages |= strcmp(n, "http http.response_body tc [at resp_body]") == 0;
	}
	/* sid 2's prefilter is its longest content: in http.host, not http.uri */
	assert_true(uri);
	assert_true(host_dot);
	assert_true(unfiltered);
	assert_true(two_stages);
	tdet_close(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sticky_buffers),
		cmocka_unit_test(test_legacy_forms),
		cmocka_unit_test(test_directions),
		cmocka_unit_test(test_transforms_and_sizes),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_buffer_semantics),
		cmocka_unit_test(test_transform_functions),
		cmocka_unit_test(test_compile_groups),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
