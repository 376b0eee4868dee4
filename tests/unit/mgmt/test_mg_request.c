/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Request parsing without a server: query parameters (times, addresses, protocols, ranges),
 * JSON bodies against their member tables, and the shape of every error reply.
 */
#include <stddef.h>

#include "vg_test.h"

#include "mg_body.h"
#include "mg_query.h"
#include "mg_req.h"

#define S 1000000000LL

static void
req_init(struct mg_req *r)
{
	memset(r, 0, sizeof(*r));
	r->method = "GET";
	r->path = "/api/v1/test";
}

static void
add_q(struct mg_req *r, const char *k, const char *v)
{
	r->query[r->n_query].key = k;
	r->query[r->n_query].value = v;
	r->n_query++;
}

/* The reply is an error with this status and code, and {error, message, details} exactly. */
static void
assert_error(struct mg_req *r, int status, const char *code)
{
	assert_int_equal(r->status, status);
	assert_non_null(r->json);
	assert_int_equal(json_object_size(r->json), 3);
	assert_string_equal(json_string_value(json_object_get(r->json, "error")), code);
	assert_true(json_is_string(json_object_get(r->json, "message")));
	assert_true(json_is_object(json_object_get(r->json, "details")));
}

static const char *
detail(struct mg_req *r, const char *key)
{
	return json_string_value(json_object_get(json_object_get(r->json, "details"), key));
}

static const char *
message(struct mg_req *r)
{
	return json_string_value(json_object_get(r->json, "message"));
}

static void
test_times(void **state)
{
	const int64_t now = 1800000000LL * S;
	int64_t t;

	(void)state;
	assert_int_equal(mg_parse_time("1700000000", now, &t), 0);
	assert_true(t == 1700000000LL * S);
	assert_int_equal(mg_parse_time("1700000000.25", now, &t), 0);
	assert_true(t == 1700000000LL * S + S / 4);
	assert_int_equal(mg_parse_time("2023-11-14T22:13:20Z", now, &t), 0);
	assert_true(t == 1700000000LL * S);
	assert_int_equal(mg_parse_time("2023-11-14T23:13:20+01:00", now, &t), 0);
	assert_true(t == 1700000000LL * S);
	assert_int_equal(mg_parse_time("2023-11-14T22:13:20.5z", now, &t), 0);
	assert_true(t == 1700000000LL * S + S / 2);
	assert_int_equal(mg_parse_time("-15m", now, &t), 0);
	assert_true(t == now - 900 * S);
	assert_int_equal(mg_parse_time("-2h", now, &t), 0);
	assert_true(t == now - 7200 * S);
	assert_int_equal(mg_parse_time("-7d", now, &t), 0);
	assert_true(t == now - 7 * 86400 * S);
	assert_int_equal(mg_parse_time("-30s", now, &t), 0);
	assert_true(t == now - 30 * S);

	static const char *const bad[] = { "", "abc", "-", "-15", "-15x", "-15mm", "--1m",
		"2023-11-14T22:13:20", /* no zone */
		"2023-02-30T00:00:00Z", "2023-13-01T00:00:00Z", "2023-11-14T24:00:00Z",
		"2023-11-14 22:13", "1969-12-31T23:59:59Z", "1e9", "12 ", " 12", "0x10",
		"99999999999999999999", "1700000000.", "2023-11-14T22:13:20+1:00" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("bad time '%s'\n", bad[i]);
		assert_int_equal(mg_parse_time(bad[i], now, &t), -EINVAL);
	}

	/* Far back: bounded before the multiplication (fuzz_api found -666666619m overflow it). */
	static const char *const far[] = { "-666666619m", "-36501d", "-876001h", "-52560001m",
		"-3153600001s", "-9223372036854775807d", "-99999999999999999999m" };
	for (size_t i = 0; i < sizeof(far) / sizeof(far[0]); i++) {
		print_message("far time '%s'\n", far[i]);
		assert_int_equal(mg_parse_time(far[i], now, &t), -ERANGE);
	}
	assert_int_equal(mg_parse_time("-36500d", INT64_MAX, &t), 0);
	assert_true(t == INT64_MAX - 36500LL * 86400 * S);
	assert_int_equal(mg_parse_time("-3153600000s", now, &t), 0);
	assert_true(t == 0); /* before the epoch: clamped to it */
}

static void
test_addresses(void **state)
{
	struct mg_addr a;

	(void)state;
	assert_int_equal(mg_parse_addr("10.0.0.1", &a), 0);
	assert_int_equal(a.family, 4);
	assert_string_equal(a.text, "10.0.0.1");
	assert_int_equal(mg_parse_addr("2001:DB8:0:0::1", &a), 0);
	assert_int_equal(a.family, 6);
	assert_string_equal(a.text, "2001:db8::1"); /* canonical, as the store writes it */
	assert_int_equal(mg_parse_addr("10.0.0.0/8", &a), -EINVAL);
	assert_int_equal(mg_parse_addr("10.0.0.256", &a), -EINVAL);
	assert_int_equal(mg_parse_addr("host.example", &a), -EINVAL);
	assert_int_equal(mg_parse_addr("", &a), -EINVAL);
}

struct q {
	int64_t since;
	struct mg_addr src;
	int proto;
	int state;
	uint32_t limit;
	const char *detector;
	int64_t cursor;
};

static const char *const states[] = { "new", "established", "closed", NULL };

static const struct mg_qparam spec[] = {
	{ "since", MG_QT_TIME, offsetof(struct q, since), 0, 0, NULL },
	{ "src", MG_QT_ADDR, offsetof(struct q, src), 0, 0, NULL },
	{ "proto", MG_QT_PROTO, offsetof(struct q, proto), 0, 0, NULL },
	{ "state", MG_QT_ENUM, offsetof(struct q, state), 0, 0, states },
	{ "limit", MG_QT_U32, offsetof(struct q, limit), 1, 1000, NULL },
	{ "detector", MG_QT_STR, offsetof(struct q, detector), 0, 23, NULL },
	{ "cursor", MG_QT_I64, offsetof(struct q, cursor), 1, INT64_MAX, NULL },
	{ 0 },
};

static void
test_query_good(void **state)
{
	struct mg_req r;
	struct q q = { .proto = -1, .state = -1, .limit = 100 };

	(void)state;
	req_init(&r);
	add_q(&r, "since", "1700000000");
	add_q(&r, "src", "fd00::1");
	add_q(&r, "proto", "UDP");
	add_q(&r, "state", "established");
	add_q(&r, "limit", "1000");
	add_q(&r, "detector", "port_scan");
	add_q(&r, "cursor", "9007199254740993");
	assert_int_equal(mg_query_parse(&r, spec, &q), 0);
	assert_int_equal(r.status, 0);
	assert_true(q.since == 1700000000LL * S);
	assert_int_equal(q.src.family, 6);
	assert_int_equal(q.proto, 17);
	assert_int_equal(q.state, 1);
	assert_int_equal(q.limit, 1000);
	assert_string_equal(q.detector, "port_scan");
	assert_true(q.cursor == 9007199254740993LL);

	/* Absent parameters leave the defaults. */
	struct q d = { .proto = -1, .state = -1, .limit = 100 };
	req_init(&r);
	assert_int_equal(mg_query_parse(&r, spec, &d), 0);
	assert_int_equal(d.limit, 100);
	assert_int_equal(d.proto, -1);
	req_init(&r);
	add_q(&r, "proto", "47");
	assert_int_equal(mg_query_parse(&r, spec, &d), 0);
	assert_int_equal(d.proto, 47);
}

struct bad_q {
	const char *key;
	const char *value;
	const char *msg;
};

static const struct bad_q bad_qs[] = {
	{ "limit", "0", "is not an integer from 1 to 1000" },
	{ "limit", "1001", "is not an integer from 1 to 1000" },
	{ "limit", "-1", "is not an integer from 1 to 1000" },
	{ "limit", "10abc", "is not an integer from 1 to 1000" },
	{ "limit", "", "is not an integer" },
	{ "limit", "99999999999999999999999", "is not an integer" },
	{ "cursor", "0", "from 1 to" },
	{ "src", "10.0.0.0/24", "is not an IPv4 or IPv6 address" },
	{ "proto", "tcpp", "tcp, udp, icmp, icmpv6, sctp or a number 0..255" },
	{ "proto", "256", "number 0..255" },
	{ "state", "Established", "one of: new, established, closed" },
	{ "since", "yesterday", "RFC 3339" },
	{ "detector", "port scan", "letters, digits" },
	{ "detector", "abcdefghijklmnopqrstuvwxyz", "1 to 23" },
	{ "detector", "", "1 to 23" },
};

static void
test_query_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_qs) / sizeof(bad_qs[0]); i++) {
		struct mg_req r;
		struct q q = { 0 };

		print_message("bad query %s=%s\n", bad_qs[i].key, bad_qs[i].value);
		req_init(&r);
		add_q(&r, bad_qs[i].key, bad_qs[i].value);
		assert_int_equal(mg_query_parse(&r, spec, &q), -EINVAL);
		assert_error(&r, 400, "invalid_query");
		assert_string_equal(detail(&r, "parameter"), bad_qs[i].key);
		assert_non_null(strstr(message(&r), bad_qs[i].msg));
		mg_req_reply_free(&r);
	}
}

static void
test_query_unknown_repeated_and_too_many(void **state)
{
	struct mg_req r;
	struct q q = { 0 };
	static const struct mg_qparam none[] = { { 0 } };

	(void)state;
	req_init(&r);
	add_q(&r, "limt", "5");
	assert_int_equal(mg_query_parse(&r, spec, &q), -EINVAL);
	assert_error(&r, 400, "invalid_query");
	assert_non_null(strstr(
			message(&r), "unknown query parameter 'limt' (accepted: since, src"));
	assert_int_equal(json_array_size(json_object_get(
					 json_object_get(r.json, "details"), "accepted")),
			7);
	mg_req_reply_free(&r);

	req_init(&r);
	add_q(&r, "limit", "5");
	add_q(&r, "limit", "6");
	assert_int_equal(mg_query_parse(&r, spec, &q), -EINVAL);
	assert_non_null(strstr(message(&r), "'limit' is given twice"));
	mg_req_reply_free(&r);

	req_init(&r);
	add_q(&r, "x", "");
	assert_int_equal(mg_query_parse(&r, none, NULL), -EINVAL);
	assert_non_null(strstr(message(&r), "(accepted: none)"));
	mg_req_reply_free(&r);

	req_init(&r);
	r.query_overflow = true;
	assert_int_equal(mg_query_parse(&r, spec, &q), -EINVAL);
	assert_error(&r, 400, "invalid_query");
	mg_req_reply_free(&r);

	/* Bytes that are not UTF-8 come back quoted, not as a failed reply. */
	req_init(&r);
	add_q(&r, "l\xff\xfeimit", "\xc3\x28");
	assert_int_equal(mg_query_parse(&r, spec, &q), -EINVAL);
	assert_error(&r, 400, "invalid_query");
	assert_non_null(strstr(message(&r), "'l??imit'"));
	mg_req_reply_free(&r);
	req_init(&r);
	add_q(&r, "limit", "1\xff");
	assert_int_equal(mg_query_parse(&r, spec, &q), -EINVAL);
	assert_error(&r, 400, "invalid_query");
	assert_string_equal(json_string_value(json_object_get(
					    json_object_get(r.json, "details"), "value")),
			"1?");
	mg_req_reply_free(&r);
}

static const struct mg_bfield fields[] = {
	{ "address", MG_BT_STRING, true, 1, 16 },
	{ "ttl", MG_BT_INT, false, 0, 3600 },
	{ "force", MG_BT_BOOL, false, 0, 0 },
	{ 0 },
};

static json_t *
body(struct mg_req *r, const char *ct, const char *text)
{
	req_init(r);
	r->method = "POST";
	r->content_type = ct;
	r->body = text;
	r->body_len = text ? strlen(text) : 0;
	return mg_body_parse(r, fields);
}

static void
test_body_good(void **state)
{
	struct mg_req r;
	json_t *o;

	(void)state;
	o = body(&r, "application/json",
			"{\"address\": \"10.0.0.1\", \"ttl\": 60, \"force\": true}");
	assert_non_null(o);
	assert_int_equal(r.status, 0);
	assert_string_equal(mg_body_str(o, "address"), "10.0.0.1");
	assert_int_equal(mg_body_int(o, "ttl", -1), 60);
	json_decref(o);
	o = body(&r, "Application/JSON; charset=utf-8", "{\"address\":\"x\"}");
	assert_non_null(o);
	assert_int_equal(mg_body_int(o, "ttl", -1), -1);
	json_decref(o);
}

struct bad_body {
	const char *what;
	const char *ct;
	const char *text;
	int status;
	const char *code;
	const char *msg;
};

static const struct bad_body bad_bodies[] = {
	{ "no content type", NULL, "{}", 415, "unsupported_media_type", "no Content-Type" },
	{ "form", "application/x-www-form-urlencoded", "a=b", 415, "unsupported_media_type",
			"application/json" },
	{ "json-ish type", "application/jsonx", "{}", 415, "unsupported_media_type", "jsonx" },
	{ "empty", "application/json", "", 400, "invalid_body", "needs a JSON object body" },
	{ "malformed", "application/json", "{\"address\": \"x\",\n \"ttl\": }", 400, "invalid_json",
			"line 2, column" },
	{ "trailing garbage", "application/json", "{\"address\": \"x\"} {}", 400, "invalid_json",
			"not valid JSON" },
	{ "array", "application/json", "[1, 2]", 400, "invalid_body", "is an array" },
	{ "string", "application/json", "\"10.0.0.1\"", 400, "invalid_json", "not valid JSON" },
	{ "unknown member", "application/json", "{\"address\": \"x\", \"tll\": 5}", 400,
			"invalid_body", "unknown member 'tll' (accepted: address, ttl, force)" },
	{ "duplicate member", "application/json", "{\"address\": \"x\", \"address\": \"y\"}", 400,
			"invalid_json", "duplicate" },
	{ "missing member", "application/json", "{\"ttl\": 5}", 400, "invalid_body",
			"required member 'address' is missing" },
	{ "wrong type", "application/json", "{\"address\": 10}", 400, "invalid_body",
			"'address' must be a string, not an integer" },
	{ "real for int", "application/json", "{\"address\": \"x\", \"ttl\": 1.5}", 400,
			"invalid_body", "'ttl' must be an integer, not a number with a fraction" },
	{ "int as string", "application/json", "{\"address\": \"x\", \"ttl\": \"5\"}", 400,
			"invalid_body", "'ttl' must be an integer, not a string" },
	{ "null", "application/json", "{\"address\": null}", 400, "invalid_body", "not null" },
	{ "out of range", "application/json", "{\"address\": \"x\", \"ttl\": 3601}", 400,
			"invalid_body", "'ttl' is out of range (0 to 3600)" },
	{ "negative", "application/json", "{\"address\": \"x\", \"ttl\": -1}", 400, "invalid_body",
			"out of range" },
	{ "too long", "application/json", "{\"address\": \"0123456789abcdefg\"}", 400,
			"invalid_body", "must be 1 to 16 bytes long" },
	{ "empty string", "application/json", "{\"address\": \"\"}", 400, "invalid_body",
			"must be 1 to 16 bytes long" },
	{ "bool as int", "application/json", "{\"address\": \"x\", \"force\": 1}", 400,
			"invalid_body", "'force' must be true or false" },
	{ "NUL escape", "application/json", "{\"address\": \"a\\u0000b\"}", 400, "invalid_json",
			"not valid JSON" },
	{ "bad UTF-8", "application/json", "{\"address\": \"\xff\"}", 400, "invalid_json",
			"not valid JSON" },
	{ "deep nesting", "application/json",
			"{\"address\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
			400, "invalid_body", "must be a string" },
};

static void
test_body_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_bodies) / sizeof(bad_bodies[0]); i++) {
		const struct bad_body *b = &bad_bodies[i];
		struct mg_req r;

		print_message("body: %s\n", b->what);
		assert_null(body(&r, b->ct, b->text));
		assert_error(&r, b->status, b->code);
		if (strstr(message(&r), b->msg) == NULL)
			fail_msg("message '%s' lacks '%s'", message(&r), b->msg);
		mg_req_reply_free(&r);
	}
}

static void
test_errno_replies(void **state)
{
	struct mg_req r;
	struct vg_diag d;

	(void)state;
	vg_diag_init(&d);
	vg_diag_add(&d, VG_SEV_WARNING, "policy", 2, 3, "just so you know");
	vg_diag_add(&d, VG_SEV_ERROR, "policy", 7, 12, "'tcpx' is not a protocol");
	req_init(&r);
	mg_reply_errno(&r, -EINVAL, "apply the policy", NULL, &d);
	assert_error(&r, 422, "validation_failed");
	assert_non_null(strstr(message(&r), "the first: policy:7:12: 'tcpx' is not a protocol"));
	json_t *dg = json_object_get(json_object_get(r.json, "details"), "diagnostics");
	assert_int_equal(json_array_size(dg), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(dg, 1), "line")), 7);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(dg, 1), "column")), 12);
	assert_string_equal(json_string_value(json_object_get(json_array_get(dg, 1), "file")),
			"policy");
	assert_string_equal(json_string_value(json_object_get(json_array_get(dg, 0), "severity")),
			"warning");
	mg_req_reply_free(&r);
	vg_diag_free(&d);

	static const struct {
		int rc;
		int status;
		const char *code;
	} map[] = {
		{ -EINVAL, 400, "bad_request" },
		{ -ENOENT, 404, "not_found" },
		{ -ESTALE, 412, "version_mismatch" },
		{ -EBUSY, 503, "unavailable" },
		{ -ETIMEDOUT, 503, "unavailable" },
		{ -ENOTSUP, 409, "not_available" },
		{ -EIO, 500, "internal" },
		{ -ENOMEM, 500, "internal" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		req_init(&r);
		mg_reply_errno(&r, map[i].rc, "do it", "because", NULL);
		assert_error(&r, map[i].status, map[i].code);
		assert_string_equal(message(&r),
				map[i].status == 412   ? "cannot do it: because; read the "
							 "current version and retry"
				: map[i].status == 503 ? "cannot do it: the control core did "
							 "not answer in time (because); retry"
						       : "cannot do it: because");
		assert_int_equal(r.retry_after_s, map[i].status == 503 ? 1 : 0);
		mg_req_reply_free(&r);
	}
	/* Without err, the first diagnostic says why. */
	vg_diag_init(&d);
	vg_diag_add(&d, VG_SEV_ERROR, NULL, 0, 0, "no policy version 9");
	req_init(&r);
	mg_reply_errno(&r, -ENOENT, "roll back", NULL, &d);
	assert_error(&r, 404, "not_found");
	assert_string_equal(message(&r), "cannot roll back: no policy version 9");
	mg_req_reply_free(&r);
	vg_diag_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_query_good),
		cmocka_unit_test(test_query_bad),
		cmocka_unit_test(test_query_unknown_repeated_and_too_many),
		cmocka_unit_test(test_body_good),
		cmocka_unit_test(test_body_bad),
		cmocka_unit_test(test_errno_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
