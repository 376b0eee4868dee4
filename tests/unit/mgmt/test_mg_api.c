/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The API over HTTP: a real server (libmicrohttpd on a loopback port) in front of the fake
 * ctl_api, driven by libcurl. Every route's success path and main failures, roles for every
 * write, the audit trail, versioned texts with If-Match, and the error shape throughout.
 */
#include <pthread.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "vg_test.h"

#include "al.h"
#include "mg_query.h"
#include "mg_route.h"
#include "mg_test_http.h"

static struct mg_test_server ts;

static int
setup(void **state)
{
	struct mg_config c;

	(void)state;
	fake_ctl_reset();
	mg_test_config(&c);
	return mg_test_start(&ts, &c);
}

static int
teardown(void **state)
{
	(void)state;
	mg_server_stop(ts.srv);
	ts.srv = NULL;
	return 0;
}

/* Every failure is {error, message, details} and nothing else. */
static void
assert_error_shape(const struct http_resp *r, long status, const char *code)
{
	if (r->status != status || r->json == NULL || http_error(r) == NULL ||
			strcmp(http_error(r), code) != 0)
		fail_msg("expected %ld %s, got %ld %s", status, code, r->status,
				r->body ? r->body : "(no body)");
	assert_int_equal(json_object_size(r->json), 3);
	assert_true(json_is_string(json_object_get(r->json, "message")));
	assert_true(json_is_object(json_object_get(r->json, "details")));
	assert_string_equal(r->ctype, "application/json");
}

static void
expect_status(const struct http_resp *r, long status)
{
	if (r->status != status)
		fail_msg("expected %ld, got %ld: %s", status, r->status,
				r->body ? r->body : "(no body)");
}

static void
test_public_routes(void **state)
{
	struct http_resp r;

	(void)state;
	assert_int_equal(http(&ts, "GET", "/api/v1/health", NULL, NULL, NULL, NULL, &r), 0);
	expect_status(&r, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ok");
	http_resp_free(&r);

	assert_int_equal(http(&ts, "GET", "/api/v1/ready", NULL, NULL, NULL, NULL, &r), 0);
	expect_status(&r, 200);
	assert_true(json_is_true(json_object_get(r.json, "ready")));
	http_resp_free(&r);
	fake_ctl_set_ready(false, "port inside has no link");
	assert_int_equal(http(&ts, "GET", "/api/v1/ready", NULL, NULL, NULL, NULL, &r), 0);
	assert_error_shape(&r, 503, "not_ready");
	assert_string_equal(http_message(&r), "not ready: port inside has no link");
	assert_string_equal(r.retry_after, "1");
	http_resp_free(&r);
	fake_ctl_set_ready(true, "ports up");

	/* The OpenAPI document is the file in the repo, byte for byte. */
	assert_int_equal(http(&ts, "GET", "/api/v1/openapi.json", NULL, NULL, NULL, NULL, &r), 0);
	expect_status(&r, 200);
	assert_non_null(r.json);
	assert_string_equal(json_string_value(json_object_get(r.json, "openapi")), "3.0.3");
	{
		FILE *f = fopen(VIGIL_SOURCE_ROOT "/mgmt/openapi.json", "rb");
		char *buf = malloc(r.len + 2);
		size_t n;

		assert_non_null(f);
		n = fread(buf, 1, r.len + 1, f);
		fclose(f);
		assert_int_equal(n, r.len);
		assert_memory_equal(buf, r.body, r.len);
		free(buf);
	}
	http_resp_free(&r);

	/* A query parameter where none is taken is refused, not ignored. */
	assert_int_equal(http(&ts, "GET", "/api/v1/health?verbose=1", NULL, NULL, NULL, NULL, &r),
			0);
	assert_error_shape(&r, 400, "invalid_query");
	http_resp_free(&r);
}

static void
test_authentication(void **state)
{
	struct http_resp r;

	(void)state;
	/* No token. */
	assert_int_equal(http(&ts, "GET", "/api/v1/status", NULL, NULL, NULL, NULL, &r), 0);
	assert_error_shape(&r, 401, "unauthorized");
	assert_string_equal(r.www_auth, "Bearer realm=\"vigil\"");
	http_resp_free(&r);
	/* Wrong token. */
	assert_int_equal(http(&ts, "GET", "/api/v1/status", "admin-c0ffee43", NULL, NULL, NULL, &r),
			0);
	assert_error_shape(&r, 401, "unauthorized");
	assert_string_equal(http_message(&r), "the bearer token is not valid");
	http_resp_free(&r);
	/* Another scheme. */
	assert_int_equal(http(&ts, "GET", "/api/v1/status", NULL, NULL, NULL,
					 "Authorization: Basic YWRhOmFkbWlu", &r),
			0);
	assert_error_shape(&r, 401, "unauthorized");
	http_resp_free(&r);
	/* Each role reads. */
	static const char *const toks[] = { TOK_VIEWER, TOK_OPERATOR, TOK_ADMIN };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(http(&ts, "GET", "/api/v1/status", toks[i], NULL, NULL, NULL, &r),
				0);
		expect_status(&r, 200);
		assert_string_equal(json_string_value(json_object_get(r.json, "version")), "0.1.0");
		http_resp_free(&r);
	}
	/* The audit log is admin only. */
	assert_int_equal(http(&ts, "GET", "/api/v1/audit", TOK_OPERATOR, NULL, NULL, NULL, &r), 0);
	assert_error_shape(&r, 403, "forbidden");
	assert_string_equal(json_string_value(json_object_get(
					    json_object_get(r.json, "details"), "required")),
			"admin");
	http_resp_free(&r);
	/* Refusals are counted. */
	assert_int_equal(http(&ts, "GET", "/metrics", TOK_VIEWER, NULL, NULL, NULL, &r), 0);
	assert_non_null(strstr(r.body, "\nvigil_api_auth_failures_total 3\n"));
	http_resp_free(&r);
}

/* Each write route, each role: who may, who is refused, and what the audit log holds. */
struct write_case {
	const char *method;
	const char *path;
	const char *body;
	int role; /* least role */
	long ok_status;
};

static const struct write_case writes[] = {
	{ "PUT", "/api/v1/mode", "{\"mode\": \"dry-run\"}", MG_ROLE_OPERATOR, 200 },
	{ "POST", "/api/v1/blocklist", "{\"address\": \"192.0.2.9\", \"ttl\": 60}",
			MG_ROLE_OPERATOR, 201 },
	{ "DELETE", "/api/v1/blocklist/192.0.2.9", NULL, MG_ROLE_OPERATOR, 204 },
	{ "PUT", "/api/v1/policy", "{\"text\": \"version: 1\\n\"}", MG_ROLE_ADMIN, 200 },
	{ "POST", "/api/v1/policy/rollback", "{\"version\": 1}", MG_ROLE_ADMIN, 200 },
	{ "PUT", "/api/v1/signatures", "{\"text\": \"rules: 1\\n\"}", MG_ROLE_ADMIN, 200 },
	{ "POST", "/api/v1/signatures/rollback", "{\"version\": 2}", MG_ROLE_ADMIN, 200 },
	{ "PUT", "/api/v1/bpf/maps/allowed4/entries",
			"{\"entries\": [{\"key\": \"10.0.0.0/8\", \"value\": 1}]}",
			MG_ROLE_OPERATOR, 200 },
	{ "DELETE", "/api/v1/bpf/maps/allowed4/entries?keys=10.0.0.0/8", NULL, MG_ROLE_OPERATOR,
			200 },
};

/* Refusals decided before the body are recorded by a job thread: wait a little for them. */
static unsigned
wait_audits(unsigned n)
{
	for (int i = 0; i < 200 && fake_ctl_audit_count() < n; i++)
		usleep(10 * 1000);
	return fake_ctl_audit_count();
}

static void
test_roles_on_every_write(void **state)
{
	static const char *const toks[] = { NULL, TOK_VIEWER, TOK_OPERATOR, TOK_ADMIN };
	static const char *const names[] = { NULL, "vera", "otto", "ada" };
	unsigned audited = 0;

	(void)state;
	for (size_t w = 0; w < sizeof(writes) / sizeof(writes[0]); w++) {
		const struct write_case *c = &writes[w];

		for (int role = MG_ROLE_NONE; role <= MG_ROLE_ADMIN; role++) {
			struct http_resp r;
			long want = role == MG_ROLE_NONE ? 401
				    : role < c->role	 ? 403
							 : c->ok_status;

			/* Blocklist entry and versions must exist for the later cases to pass. */
			if (role >= c->role && strcmp(c->method, "DELETE") == 0) {
				struct http_resp a;

				if (strstr(c->path, "/bpf/maps/") != NULL)
					http(&ts, "PUT", "/api/v1/bpf/maps/allowed4/entries",
							TOK_ADMIN, "application/json",
							"{\"entries\": [{\"key\": \"10.0.0.0/8\", "
							"\"value\": 1}]}",
							NULL, &a);
				else
					http(&ts, "POST", "/api/v1/blocklist", TOK_ADMIN,
							"application/json",
							"{\"address\": \"192.0.2.9\"}", NULL, &a);
				http_resp_free(&a);
				audited++;
			}
			print_message("%s %s as %s\n", c->method, c->path, mg_role_name(role));
			assert_int_equal(http(&ts, c->method, c->path, toks[role],
							 c->body ? "application/json" : NULL,
							 c->body, NULL, &r),
					0);
			if (want >= 400)
				assert_error_shape(&r, want,
						want == 401 ? "unauthorized" : "forbidden");
			else
				expect_status(&r, want);
			http_resp_free(&r);
			if (role == MG_ROLE_NONE) {
				/* Not recorded: there is no one to record. */
				usleep(20 * 1000);
				assert_int_equal(wait_audits(audited), audited);
				continue;
			}
			audited++;
			assert_int_equal(wait_audits(audited), audited);
			const struct fake_audit *a = fake_ctl_audit_get(audited - 1);

			assert_string_equal(a->who, names[role]);
			assert_string_equal(a->method, c->method);
			/* The audit record's path is without the query. */
			assert_int_equal(strlen(a->path), strcspn(c->path, "?"));
			assert_memory_equal(a->path, c->path, strlen(a->path));
			assert_int_equal(a->status, want);
			if (want == 403)
				assert_non_null(strstr(a->request, "needs the"));
		}
	}
}

static void
test_policy_lifecycle(void **state)
{
	struct http_resp r;
	char etag[64], hdr[96];

	(void)state;
	/* Nothing yet. */
	assert_int_equal(http(&ts, "GET", "/api/v1/policy", TOK_VIEWER, NULL, NULL, NULL, &r), 0);
	assert_error_shape(&r, 404, "not_found");
	http_resp_free(&r);

	/* As YAML. */
	assert_int_equal(http(&ts, "PUT", "/api/v1/policy", TOK_ADMIN, "application/yaml",
					 "version: 1\ndefault: drop\n", NULL, &r),
			0);
	expect_status(&r, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "version")), 1);
	assert_false(json_is_true(json_object_get(r.json, "unchanged")));
	assert_int_equal(strlen(json_string_value(json_object_get(r.json, "sha256"))), 64);
	assert_string_equal(r.etag, "\"1\"");
	assert_true(json_is_array(json_object_get(r.json, "warnings")));
	http_resp_free(&r);
	assert_non_null(strstr(
			fake_ctl_audit_get(fake_ctl_audit_count() - 1)->request, "-> version 1"));

	/* The same text again changes nothing. */
	assert_int_equal(http(&ts, "PUT", "/api/v1/policy", TOK_ADMIN, "application/json",
					 "{\"text\": \"version: 1\\ndefault: drop\\n\"}", NULL, &r),
			0);
	expect_status(&r, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "version")), 1);
	assert_true(json_is_true(json_object_get(r.json, "unchanged")));
	http_resp_free(&r);

	/* GET gives the text and the version as ETag. */
	assert_int_equal(http(&ts, "GET", "/api/v1/policy", TOK_VIEWER, NULL, NULL, NULL, &r), 0);
	expect_status(&r, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "text")),
			"version: 1\ndefault: drop\n");
	snprintf(etag, sizeof(etag), "%s", r.etag);
	assert_string_equal(etag, "\"1\"");
	http_resp_free(&r);

	/* A change based on version 1 goes through, and another based on 1 is then refused. */
	snprintf(hdr, sizeof(hdr), "If-Match: %s", etag);
	assert_int_equal(http(&ts, "PUT", "/api/v1/policy", TOK_ADMIN, "text/yaml",
					 "version: 1\ndefault: allow\n", hdr, &r),
			0);
	expect_status(&r, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "version")), 2);
	http_resp_free(&r);
	assert_int_equal(http(&ts, "PUT", "/api/v1/policy", TOK_ADMIN, "text/yaml",
					 "version: 1\ndefault: reject\n", hdr, &r),
			0);
	assert_error_shape(&r, 412, "version_mismatch");
	assert_non_null(strstr(http_message(&r), "version 1 is no longer the one in force"));
	http_resp_free(&r);
	/* Unquoted and * forms. */
	assert_int_equal(http(&ts, "PUT", "/api/v1/policy", TOK_ADMIN, "text/yaml",
					 "version: 1\ndefault: reject\n", "If-Match: 2", &r),
			0);
	expect_status(&r, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "version")), 3);
	http_resp_free(&r);
	assert_int_equal(http(&ts, "PUT", "/api/v1/policy", TOK_ADMIN, "text/yaml",
					 "version: 1\ndefault: drop\n", "If-Match: *", &r),
			0);
	expect_status(&r, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "version")), 4);
	http_resp_free(&r);
	static const char *const bad_if[] = { "If-Match: W/\"4\"", "If-Match: \"4",
		"If-Match: four", "If-Match: \"0\"", "If-Match: \"4\", \"5\"" };
	for (size_t i = 0; i < sizeof(bad_if) / sizeof(bad_if[0]); i++) {
		assert_int_equal(http(&ts, "PUT", "/api/v1/policy", TOK_ADMIN, "text/yaml",
						 "version: 1\n", bad_if[i], &r),
				0);
		assert_error_shape(&r, 400, "invalid_header");
		http_resp_free(&r);
	}

	/* Errors come with positions, and change nothing. */
	assert_int_equal(http(&ts, "PUT", "/api/v1/policy", TOK_ADMIN, "application/yaml",
					 "version: 1\nrules:\n  bad: [\n", NULL, &r),
			0);
	assert_error_shape(&r, 422, "validation_failed");
	json_t *dg = json_object_get(json_object_get(r.json, "details"), "diagnostics");
	assert_true(json_array_size(dg) >= 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(dg, 0), "file")),
			"policy");
	assert_true(json_integer_value(json_object_get(json_array_get(dg, 0), "line")) >= 3);
	http_resp_free(&r);
	assert_int_equal(http(&ts, "PUT", "/api/v1/policy", TOK_ADMIN, "application/yaml",
					 "version: 1\n\nbad: 1\n", NULL, &r),
			0);
	assert_error_shape(&r, 422, "validation_failed");
	dg = json_object_get(json_object_get(r.json, "details"), "diagnostics");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(dg, 0), "line")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(dg, 0), "column")), 1);
	assert_non_null(strstr(http_message(&r), "policy:3:1: key 'bad' is not accepted"));
	http_resp_free(&r);
	assert_int_equal(http(&ts, "GET", "/api/v1/policy", TOK_VIEWER, NULL, NULL, NULL, &r), 0);
	assert_string_equal(r.etag, "\"4\"");
	http_resp_free(&r);

	/* Validate: 200 with warnings, or 422; never a change. */
	assert_int_equal(http(&ts, "POST", "/api/v1/policy/validate", TOK_OPERATOR,
					 "application/yaml", "version: 9\nwarn: 1\n", NULL, &r),
			0);
	expect_status(&r, 200);
	assert_true(json_is_true(json_object_get(r.json, "valid")));
	assert_int_equal(json_array_size(json_object_get(r.json, "warnings")), 1);
	assert_int_equal(json_integer_value(json_object_get(
					 json_object_get(r.json, "summary"), "lines")),
			2);
	http_resp_free(&r);
	assert_int_equal(http(&ts, "POST", "/api/v1/policy/validate", TOK_OPERATOR,
					 "application/json", "{\"text\": \"- a\\n- b\\n\"}", NULL,
					 &r),
			0);
	assert_error_shape(&r, 422, "validation_failed");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "POST", "/api/v1/policy/validate", TOK_VIEWER,
					 "application/yaml", "version: 9\n", NULL, &r),
			0);
	assert_error_shape(&r, 403, "forbidden");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "GET", "/api/v1/policy", TOK_VIEWER, NULL, NULL, NULL, &r), 0);
	assert_string_equal(r.etag, "\"4\"");
	http_resp_free(&r);

	/* Versions, newest first. */
	assert_int_equal(http(&ts, "GET", "/api/v1/policy/versions?limit=2", TOK_VIEWER, NULL, NULL,
					 NULL, &r),
			0);
	expect_status(&r, 200);
	json_t *items = json_object_get(r.json, "items");
	assert_int_equal(json_array_size(items), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "id")), 4);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 1), "id")), 3);
	http_resp_free(&r);

	/* Roll back to 2: a new version 5 with 2's text. */
	assert_int_equal(http(&ts, "POST", "/api/v1/policy/rollback", TOK_ADMIN, "application/json",
					 "{\"version\": 2}", NULL, &r),
			0);
	expect_status(&r, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "version")), 5);
	assert_int_equal(json_integer_value(json_object_get(r.json, "restored")), 2);
	assert_string_equal(r.etag, "\"5\"");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "GET", "/api/v1/policy", TOK_VIEWER, NULL, NULL, NULL, &r), 0);
	assert_string_equal(json_string_value(json_object_get(r.json, "text")),
			"version: 1\ndefault: allow\n");
	assert_string_equal(
			json_string_value(json_object_get(r.json, "source")), "rollback:2 by ada");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "POST", "/api/v1/policy/rollback", TOK_ADMIN, "application/json",
					 "{\"version\": 77}", NULL, &r),
			0);
	assert_error_shape(&r, 404, "not_found");
	assert_non_null(strstr(http_message(&r), "no policy version 77"));
	http_resp_free(&r);
	assert_int_equal(http(&ts, "POST", "/api/v1/policy/rollback", TOK_ADMIN, "application/json",
					 "{\"version\": 2}", "If-Match: \"5\"", &r),
			0);
	assert_error_shape(&r, 400, "invalid_header");
	http_resp_free(&r);
	static const char *const bad_rb[] = { "{}", "{\"version\": \"2\"}", "{\"version\": 0}",
		"{\"version\": 2, \"force\": true}", "[2]" };
	for (size_t i = 0; i < sizeof(bad_rb) / sizeof(bad_rb[0]); i++) {
		assert_int_equal(http(&ts, "POST", "/api/v1/policy/rollback", TOK_ADMIN,
						 "application/json", bad_rb[i], NULL, &r),
				0);
		assert_int_equal(r.status, 400);
		http_resp_free(&r);
	}

	/* Bodies the text routes refuse. */
	assert_int_equal(http(&ts, "PUT", "/api/v1/policy", TOK_ADMIN, "application/xml", "<p/>",
					 NULL, &r),
			0);
	assert_error_shape(&r, 415, "unsupported_media_type");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "PUT", "/api/v1/policy", TOK_ADMIN, "application/json",
					 "{\"text\": \"\"}", NULL, &r),
			0);
	assert_error_shape(&r, 400, "invalid_body");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "PUT", "/api/v1/policy", TOK_ADMIN, "application/json",
					 "{\"txt\": \"version: 1\"}", NULL, &r),
			0);
	assert_error_shape(&r, 400, "invalid_body");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "PUT", "/api/v1/policy", TOK_ADMIN, "text/plain", "", NULL, &r),
			0);
	assert_error_shape(&r, 400, "invalid_body");
	http_resp_free(&r);
}

/* Several operators change the policy at once, all based on the same version: one wins. */
struct racer {
	char body[64];
	long status;
};

static void *
race(void *arg)
{
	struct racer *rc = arg;
	struct http_resp r;

	if (http(&ts, "PUT", "/api/v1/policy", TOK_ADMIN, "text/yaml", rc->body, "If-Match: \"1\"",
			    &r) == 0)
		rc->status = r.status;
	http_resp_free(&r);
	return NULL;
}

static void
test_concurrent_puts_with_if_match(void **state)
{
	struct racer racers[8];
	pthread_t th[8];
	struct http_resp r;
	unsigned won = 0, stale = 0;

	(void)state;
	assert_int_equal(http(&ts, "PUT", "/api/v1/policy", TOK_ADMIN, "text/yaml", "version: 1\n",
					 NULL, &r),
			0);
	expect_status(&r, 200);
	http_resp_free(&r);
	for (int i = 0; i < 8; i++) {
		snprintf(racers[i].body, sizeof(racers[i].body), "version: 1\nwho: %d\n", i);
		racers[i].status = 0;
		assert_int_equal(pthread_create(&th[i], NULL, race, &racers[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		won += racers[i].status == 200;
		stale += racers[i].status == 412;
	}
	assert_int_equal(won, 1);
	assert_int_equal(stale, 7);
	assert_int_equal(http(&ts, "GET", "/api/v1/policy/versions", TOK_VIEWER, NULL, NULL, NULL,
					 &r),
			0);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2);
	http_resp_free(&r);
}

static void
test_signatures(void **state)
{
	struct http_resp r;

	(void)state;
	assert_int_equal(http(&ts, "GET", "/api/v1/signatures/report", TOK_VIEWER, NULL, NULL, NULL,
					 &r),
			0);
	assert_error_shape(&r, 404, "not_found");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "PUT", "/api/v1/signatures", TOK_ADMIN, "text/plain",
					 "rules: [a]\n", NULL, &r),
			0);
	expect_status(&r, 200);
	http_resp_free(&r);
	assert_int_equal(http(&ts, "GET", "/api/v1/signatures/report", TOK_VIEWER, NULL, NULL, NULL,
					 &r),
			0);
	expect_status(&r, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "rules_loaded")), 3);
	http_resp_free(&r);
	/* The policy and the signature set are separate histories. */
	assert_int_equal(http(&ts, "GET", "/api/v1/policy", TOK_VIEWER, NULL, NULL, NULL, &r), 0);
	assert_error_shape(&r, 404, "not_found");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "POST", "/api/v1/signatures/validate", TOK_OPERATOR,
					 "text/plain", "a: [\n", NULL, &r),
			0);
	assert_error_shape(&r, 422, "validation_failed");
	assert_string_equal(
			json_string_value(json_object_get(
					json_array_get(json_object_get(json_object_get(r.json,
										       "details"),
								       "diagnostics"),
							0),
					"file")),
			"signatures");
	http_resp_free(&r);
}

static void
test_mode(void **state)
{
	struct http_resp r;

	(void)state;
	assert_int_equal(http(&ts, "GET", "/api/v1/mode", TOK_VIEWER, NULL, NULL, NULL, &r), 0);
	expect_status(&r, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "mode")), "enforce");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "PUT", "/api/v1/mode", TOK_OPERATOR, "application/json",
					 "{\"mode\": \"dry-run\"}", NULL, &r),
			0);
	expect_status(&r, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "mode")), "dry-run");
	assert_string_equal(json_string_value(json_object_get(r.json, "previous")), "enforce");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "PUT", "/api/v1/mode", TOK_OPERATOR, "application/json",
					 "{\"mode\": \"observe\"}", NULL, &r),
			0);
	assert_error_shape(&r, 400, "invalid_body");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "PUT", "/api/v1/mode", TOK_OPERATOR, "application/json",
					 "{\"mode\": true}", NULL, &r),
			0);
	assert_error_shape(&r, 400, "invalid_body");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "PUT", "/api/v1/mode", TOK_OPERATOR, NULL, "mode=enforce", NULL,
					 &r),
			0);
	assert_error_shape(&r, 415, "unsupported_media_type");
	http_resp_free(&r);
	/* Control does not answer: 503 with Retry-After, and the mode is unchanged. */
	fake_ctl_set_busy(true);
	assert_int_equal(http(&ts, "PUT", "/api/v1/mode", TOK_OPERATOR, "application/json",
					 "{\"mode\": \"enforce\"}", NULL, &r),
			0);
	assert_error_shape(&r, 503, "unavailable");
	assert_string_equal(r.retry_after, "1");
	http_resp_free(&r);
	fake_ctl_set_busy(false);
	assert_int_equal(http(&ts, "GET", "/api/v1/mode", TOK_VIEWER, NULL, NULL, NULL, &r), 0);
	assert_string_equal(json_string_value(json_object_get(r.json, "mode")), "dry-run");
	http_resp_free(&r);
}

/*
 * A write that control started but did not finish within the call timeout: not a plain 503
 * but 202 with the operation to read the outcome from, and the operation says it applied.
 */
static void
test_outcome_unknown(void **state)
{
	static const char *const writes[][4] = {
		{ "PUT", "/api/v1/mode", "application/json", "{\"mode\": \"dry-run\"}" },
		{ "POST", "/api/v1/blocklist", "application/json", "{\"address\": \"10.9.9.9\"}" },
		{ "PUT", "/api/v1/policy", "application/yaml", "rules: []\n" },
	};
	struct http_resp r;

	(void)state;
	fake_ctl_set_late(true);
	for (unsigned i = 0; i < 3; i++) {
		char href[64];

		assert_int_equal(http(&ts, writes[i][0], writes[i][1],
						 i == 2 ? TOK_ADMIN : TOK_OPERATOR, writes[i][2],
						 writes[i][3], NULL, &r),
				0);
		expect_status(&r, 202);
		snprintf(href, sizeof(href), "/api/v1/operations/%u", i + 1);
		assert_string_equal(r.location, href);
		assert_int_equal(json_integer_value(json_object_get(r.json, "operation")), i + 1);
		assert_string_equal(json_string_value(json_object_get(r.json, "state")), "running");
		assert_string_equal(json_string_value(json_object_get(r.json, "href")), href);
		assert_non_null(strstr(json_string_value(json_object_get(r.json, "message")),
				"outcome is not known yet"));
		http_resp_free(&r);
		assert_int_equal(http(&ts, "GET", href, TOK_VIEWER, NULL, NULL, NULL, &r), 0);
		expect_status(&r, 200);
		assert_string_equal(json_string_value(json_object_get(r.json, "state")), "done");
		assert_string_equal(
				json_string_value(json_object_get(r.json, "outcome")), "applied");
		http_resp_free(&r);
	}
	fake_ctl_set_late(false);
	assert_int_equal(
			http(&ts, "GET", "/api/v1/operations/99", TOK_VIEWER, NULL, NULL, NULL, &r),
			0);
	assert_error_shape(&r, 404, "not_found");
	http_resp_free(&r);
	assert_int_equal(
			http(&ts, "GET", "/api/v1/operations/x1", TOK_VIEWER, NULL, NULL, NULL, &r),
			0);
	assert_error_shape(&r, 400, "invalid_path");
	http_resp_free(&r);
}

static void
test_blocklist(void **state)
{
	struct http_resp r;

	(void)state;
	assert_int_equal(http(&ts, "POST", "/api/v1/blocklist", TOK_OPERATOR, "application/json",
					 "{\"address\": \"2001:DB8::7\", \"ttl\": 600, \"reason\": "
					 "\"scanner\"}",
					 NULL, &r),
			0);
	expect_status(&r, 201);
	assert_string_equal(r.location, "/api/v1/blocklist/2001:db8::7");
	assert_string_equal(json_string_value(json_object_get(r.json, "address")), "2001:db8::7");
	assert_int_equal(json_integer_value(json_object_get(r.json, "ttl")), 600);
	http_resp_free(&r);
	assert_int_equal(
			http(&ts, "GET", "/api/v1/blocklist", TOK_VIEWER, NULL, NULL, NULL, &r), 0);
	expect_status(&r, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
	assert_string_equal(json_string_value(json_object_get(
					    json_array_get(json_object_get(r.json, "items"), 0),
					    "reason")),
			"scanner");
	http_resp_free(&r);
	static const char *const bad[] = { "{\"address\": \"10.0.0.0/8\"}",
		"{\"address\": \"10.0.0.1\", \"ttl\": -5}",
		"{\"address\": \"10.0.0.1\", \"ttl\": 1e3}",
		"{\"address\": \"10.0.0.1\", \"ttl\": 99999999999}", "{\"ttl\": 5}",
		"{\"address\": \"10.0.0.1\", \"reason\": 5}", "{\"addr\": \"10.0.0.1\"}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(http(&ts, "POST", "/api/v1/blocklist", TOK_OPERATOR,
						 "application/json", bad[i], NULL, &r),
				0);
		assert_int_equal(r.status, 400);
		assert_non_null(r.json);
		http_resp_free(&r);
	}
	assert_int_equal(fake_ctl_block_count(), 1);
	/* Removal by the address in any spelling. */
	assert_int_equal(http(&ts, "DELETE", "/api/v1/blocklist/2001:db8:0::7", TOK_OPERATOR, NULL,
					 NULL, NULL, &r),
			0);
	expect_status(&r, 204);
	assert_int_equal(r.len, 0);
	http_resp_free(&r);
	assert_int_equal(http(&ts, "DELETE", "/api/v1/blocklist/2001:db8::7", TOK_OPERATOR, NULL,
					 NULL, NULL, &r),
			0);
	assert_error_shape(&r, 404, "not_found");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "DELETE", "/api/v1/blocklist/not-an-address", TOK_OPERATOR, NULL,
					 NULL, NULL, &r),
			0);
	assert_error_shape(&r, 400, "invalid_path");
	http_resp_free(&r);
	assert_int_equal(fake_ctl_block_count(), 0);
}

/* The eBPF maps: list, put, delete; every bad request a 400 naming the member. */
static void
test_bpf_maps(void **state)
{
	struct http_resp r;

	(void)state;
	assert_int_equal(http(&ts, "GET", "/api/v1/bpf/maps", TOK_VIEWER, NULL, NULL, NULL, &r), 0);
	expect_status(&r, 200);
	assert_string_equal(json_string_value(json_object_get(
					    json_array_get(json_object_get(r.json, "items"), 0),
					    "name")),
			"allowed4");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "PUT", "/api/v1/bpf/maps/allowed4/entries", TOK_OPERATOR,
					 "application/json",
					 "{\"entries\": [{\"key\": \"10.1.0.0/16\", \"value\": 7}, "
					 "{\"key\": \"192.0.2.1\", \"value\": 0}]}",
					 NULL, &r),
			0);
	expect_status(&r, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "changed")), 2);
	assert_int_equal(json_integer_value(json_object_get(r.json, "count")), 2);
	http_resp_free(&r);
	/* Refused whole, with the member: nothing changes. */
	static const struct {
		const char *method, *body, *member;
	} bad[] = {
		{ "PUT",
				"{\"entries\": [{\"key\": \"10.2.0.0/16\", \"value\": 1}, {\"key\": \"x\", "
				"\"value\": 1}]}",
				"entries[1].key" },
		{ "PUT", "{\"entries\": [{\"key\": \"10.2.0.0/16\", \"value\": -1}]}",
				"entries[0].value" },
		{ "PUT", "{\"entries\": [{\"key\": \"10.2.0.0/16\"}]}", "entries[0].value" },
		{ "PUT", "{\"entries\": [{\"key\": \"10.2.0.0/16\", \"value\": 1, \"ttl\": 3}]}",
				"entries[0].ttl" },
		{ "PUT", "{\"entries\": [5]}", "entries[0]" },
		{ "PUT", "{\"entries\": []}", "entries" },
		{ "PUT", "{\"entries\": {}}", "entries" },
		{ "PUT", "{\"keys\": [\"10.1.0.0/16\"]}", "keys" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(http(&ts, bad[i].method, "/api/v1/bpf/maps/allowed4/entries",
						 TOK_OPERATOR, "application/json", bad[i].body,
						 NULL, &r),
				0);
		assert_error_shape(&r, 400, "invalid_body");
		const char *m = json_string_value(
				json_object_get(json_object_get(r.json, "details"), "member"));

		if (m == NULL || strcmp(m, bad[i].member) != 0)
			fail_msg("%s %s: member %s, wanted %s", bad[i].method, bad[i].body,
					m ? m : "(none)", bad[i].member);
		http_resp_free(&r);
	}
	/* Deletes: the keys in the query, refused whole with the key or parameter. */
	static const struct {
		const char *query, *parameter, *member;
	} bad_del[] = {
		{ "?keys=10.1.0.0/16,10.9.0.0/16", "keys", "keys" },
		{ "?keys=10.1.0.0/16,x", "keys", "keys[1]" },
		{ "?keys=10.1.0.0/16,,10.2.0.0/16", "keys", "keys[1]" },
		{ "?keys=10.1.0.0/16&keys=10.2.0.0/16", "keys", NULL },
		{ "?key=10.1.0.0/16", "key", NULL },
		{ "", "keys", NULL },
	};
	for (size_t i = 0; i < sizeof(bad_del) / sizeof(bad_del[0]); i++) {
		char path[128];

		snprintf(path, sizeof(path), "/api/v1/bpf/maps/allowed4/entries%s",
				bad_del[i].query);
		assert_int_equal(http(&ts, "DELETE", path, TOK_OPERATOR, NULL, NULL, NULL, &r), 0);
		assert_error_shape(&r, 400, "invalid_query");
		json_t *d = json_object_get(r.json, "details");
		const char *m = json_string_value(json_object_get(d, "member"));
		const char *pa = json_string_value(json_object_get(d, "parameter"));

		if (bad_del[i].member != NULL && (m == NULL || strcmp(m, bad_del[i].member) != 0))
			fail_msg("DELETE %s: member %s, wanted %s", path, m ? m : "(none)",
					bad_del[i].member);
		if (bad_del[i].member == NULL &&
				(pa == NULL || strcmp(pa, bad_del[i].parameter) != 0))
			fail_msg("DELETE %s: parameter %s, wanted %s", path, pa ? pa : "(none)",
					bad_del[i].parameter);
		http_resp_free(&r);
	}
	assert_int_equal(http(&ts, "GET", "/api/v1/bpf/maps/allowed4/entries", TOK_VIEWER, NULL,
					 NULL, NULL, &r),
			0);
	expect_status(&r, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "count")), 2);
	http_resp_free(&r);
	assert_int_equal(http(&ts, "DELETE", "/api/v1/bpf/maps/allowed4/entries?keys=10.1.0.0/16",
					 TOK_OPERATOR, NULL, NULL, NULL, &r),
			0);
	expect_status(&r, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "count")), 1);
	http_resp_free(&r);
	/* An unknown map: 404 with the maps there are; a name that cannot be one: 400. */
	assert_int_equal(http(&ts, "GET", "/api/v1/bpf/maps/nomap/entries", TOK_VIEWER, NULL, NULL,
					 NULL, &r),
			0);
	assert_error_shape(&r, 404, "not_found");
	assert_non_null(strstr(r.body, "(maps: allowed4)"));
	http_resp_free(&r);
	assert_int_equal(http(&ts, "GET", "/api/v1/bpf/maps/No%20Map/entries", TOK_VIEWER, NULL,
					 NULL, NULL, &r),
			0);
	assert_error_shape(&r, 400, "invalid_path");
	http_resp_free(&r);
}

static void
test_flows_and_counters(void **state)
{
	struct http_resp r;
	const struct ctl_flow_filter *f;
	unsigned limit;

	(void)state;
	assert_int_equal(http(&ts, "GET",
					 "/api/v1/flows?addr=10.0.0.2&port=443&proto=tcp"
					 "&state=established&limit=5",
					 TOK_VIEWER, NULL, NULL, NULL, &r),
			0);
	expect_status(&r, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
	http_resp_free(&r);
	f = fake_ctl_last_flow_filter(&limit);
	assert_int_equal(limit, 5);
	assert_int_equal(f->family, 4);
	assert_int_equal(f->addr[0], 10);
	assert_int_equal(f->addr[3], 2);
	assert_int_equal(f->port, 443);
	assert_int_equal(f->proto, 6);
	assert_int_equal(f->state, 3); /* DP_TCP_ESTABLISHED */
	assert_int_equal(f->app_proto, -1);

	/* app_proto by Suricata's names, "unknown" for flows not detected yet. */
	for (int p = 0; mg_app_proto_names[p] != NULL; p++) {
		char path[64];

		snprintf(path, sizeof(path), "/api/v1/flows?app_proto=%s", mg_app_proto_names[p]);
		assert_int_equal(http(&ts, "GET", path, TOK_VIEWER, NULL, NULL, NULL, &r), 0);
		expect_status(&r, 200);
		http_resp_free(&r);
		f = fake_ctl_last_flow_filter(&limit);
		assert_int_equal(f->app_proto, p);
		assert_string_equal(mg_app_proto_names[p],
				p == 0 ? "unknown" : al_proto_name((enum al_proto)p));
	}

	assert_int_equal(http(&ts, "GET", "/api/v1/flows", TOK_VIEWER, NULL, NULL, NULL, &r), 0);
	expect_status(&r, 200);
	http_resp_free(&r);
	f = fake_ctl_last_flow_filter(&limit);
	assert_int_equal(limit, 100);
	assert_int_equal(f->family, 0);
	assert_int_equal(f->port, -1);
	assert_int_equal(f->proto, -1);
	assert_int_equal(f->state, -1);
	assert_int_equal(f->app_proto, -1);

	static const char *const bad[] = { "/api/v1/flows?app_proto=gopher",
		"/api/v1/flows?app_proto=HTTP", "/api/v1/flows?port=65536",
		"/api/v1/flows?state=open", "/api/v1/flows?limit=0", "/api/v1/flows?addr=10.0.0",
		"/api/v1/flows?proto=", "/api/v1/flows?src=10.0.0.1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(http(&ts, "GET", bad[i], TOK_VIEWER, NULL, NULL, NULL, &r), 0);
		assert_error_shape(&r, 400, "invalid_query");
		http_resp_free(&r);
	}

	assert_int_equal(http(&ts, "GET", "/api/v1/rules/counters", TOK_VIEWER, NULL, NULL, NULL,
					 &r),
			0);
	expect_status(&r, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "policy")), 1);
	http_resp_free(&r);
}

static void
test_without_store(void **state)
{
	static const char *const paths[] = { "/api/v1/alerts", "/api/v1/anomalies",
		"/api/v1/flows/history", "/api/v1/audit", "/api/v1/policy/versions/1",
		"/api/v1/alerts/12345", "/api/v1/alerts?app_proto=dns",
		"/api/v1/flows/history?app_proto=unknown" };
	struct http_resp r;

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_int_equal(http(&ts, "GET", paths[i], TOK_ADMIN, NULL, NULL, NULL, &r), 0);
		assert_error_shape(&r, 409, "not_available");
		assert_non_null(strstr(http_message(&r), "without a store"));
		http_resp_free(&r);
	}
	/* Parameters are checked before the store is asked. */
	assert_int_equal(http(&ts, "GET", "/api/v1/alerts?severity=huge", TOK_ADMIN, NULL, NULL,
					 NULL, &r),
			0);
	assert_error_shape(&r, 400, "invalid_query");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "GET", "/api/v1/policy/versions/x1", TOK_ADMIN, NULL, NULL, NULL,
					 &r),
			0);
	assert_error_shape(&r, 400, "invalid_path");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "GET", "/api/v1/alerts?app_proto=quic", TOK_ADMIN, NULL, NULL,
					 NULL, &r),
			0);
	assert_error_shape(&r, 400, "invalid_query");
	assert_non_null(strstr(http_message(&r), "app_proto"));
	http_resp_free(&r);
	assert_int_equal(http(&ts, "GET", "/api/v1/alerts/-3", TOK_ADMIN, NULL, NULL, NULL, &r), 0);
	assert_error_shape(&r, 400, "invalid_path");
	http_resp_free(&r);
}

static void
test_routing_errors(void **state)
{
	struct http_resp r;

	(void)state;
	assert_int_equal(http(&ts, "GET", "/api/v1/nothing", TOK_ADMIN, NULL, NULL, NULL, &r), 0);
	assert_error_shape(&r, 404, "no_route");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "GET", "/api/v2/status", NULL, NULL, NULL, NULL, &r), 0);
	assert_error_shape(&r, 404, "no_route");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "GET", "/", NULL, NULL, NULL, NULL, &r), 0);
	assert_error_shape(&r, 404, "no_route");
	http_resp_free(&r);
	/* Trailing slash, double slash, dot segments: no match, no guessing. */
	static const char *const odd[] = { "/api/v1/status/", "/api/v1//status", "/api/v1/./status",
		"/api/v1/policy/../status", "/API/V1/STATUS" };
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		assert_int_equal(http(&ts, "GET", odd[i], TOK_ADMIN, NULL, NULL, NULL, &r), 0);
		assert_error_shape(&r, 404, "no_route");
		http_resp_free(&r);
	}
	/* 405 names what is allowed, before asking for a token. */
	assert_int_equal(http(&ts, "DELETE", "/api/v1/policy", NULL, NULL, NULL, NULL, &r), 0);
	assert_error_shape(&r, 405, "method_not_allowed");
	assert_string_equal(r.allow, "GET, HEAD, PUT");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "PATCH", "/api/v1/mode", TOK_ADMIN, "application/json", "{}",
					 NULL, &r),
			0);
	assert_error_shape(&r, 405, "method_not_allowed");
	http_resp_free(&r);
	/* A body where none is taken. */
	assert_int_equal(http(&ts, "GET", "/api/v1/status", TOK_ADMIN, "application/json", "{}",
					 NULL, &r),
			0);
	assert_error_shape(&r, 400, "unexpected_body");
	http_resp_free(&r);
	/* HEAD answers like GET, without a body. */
	assert_int_equal(http(&ts, "HEAD", "/api/v1/status", TOK_VIEWER, NULL, NULL, NULL, &r), 0);
	expect_status(&r, 200);
	assert_int_equal(r.len, 0);
	http_resp_free(&r);
	/* Percent-encoding is decoded before routing. */
	assert_int_equal(http(&ts, "GET", "/api/v1/%73tatus", TOK_VIEWER, NULL, NULL, NULL, &r), 0);
	expect_status(&r, 200);
	http_resp_free(&r);
}

static void
test_body_limits(void **state)
{
	struct mg_config c;
	struct http_resp r;
	char *big;

	(void)state;
	mg_server_stop(ts.srv);
	mg_test_config(&c);
	c.max_body = 4096;
	assert_int_equal(mg_test_start(&ts, &c), 0);
	big = malloc(8192 + 32);
	snprintf(big, 32, "{\"text\": \"");
	memset(big + 10, 'a', 8192);
	strcpy(big + 10 + 8192, "\"}");
	/* Declared too big: refused before it is read. */
	assert_int_equal(http(&ts, "PUT", "/api/v1/policy", TOK_ADMIN, "application/json", big,
					 NULL, &r),
			0);
	assert_error_shape(&r, 413, "payload_too_large");
	assert_int_equal(json_integer_value(json_object_get(
					 json_object_get(r.json, "details"), "max_body")),
			4096);
	http_resp_free(&r);
	/* Unauthenticated: 401 before the body, whatever its size. */
	assert_int_equal(
			http(&ts, "PUT", "/api/v1/policy", NULL, "application/json", big, NULL, &r),
			0);
	assert_error_shape(&r, 401, "unauthorized");
	http_resp_free(&r);
	/* Chunked (no length): read up to the limit, then 413. */
	assert_int_equal(http(&ts, "PUT", "/api/v1/policy", TOK_ADMIN, "application/json", big,
					 "Transfer-Encoding: chunked", &r),
			0);
	assert_error_shape(&r, 413, "payload_too_large");
	http_resp_free(&r);
	/* Just under the limit is fine. */
	big[10 + 4000] = '\0';
	strcat(big, "\"}");
	assert_int_equal(http(&ts, "POST", "/api/v1/policy/validate", TOK_ADMIN, "application/json",
					 big, NULL, &r),
			0);
	expect_status(&r, 422); /* "aaaa..." is a YAML scalar, not a mapping */
	http_resp_free(&r);
	free(big);
}

static void
test_metrics(void **state)
{
	struct http_resp r;

	(void)state;
	assert_int_equal(http(&ts, "GET", "/api/v1/metrics", TOK_VIEWER, NULL, NULL, NULL, &r), 0);
	expect_status(&r, 200);
	assert_string_equal(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
	assert_non_null(strstr(
			r.body, "\nvigil_port_received_packets_total{port=\"outside\"} 1000\n"));
	assert_non_null(strstr(r.body, "\nvigil_port_up{port=\"in\\\"side\"} 0\n"));
	assert_non_null(strstr(r.body, "\nvigil_api_requests_total{code=\"2xx\"} "));
	assert_non_null(strstr(r.body, "\nvigil_api_connections 1\n"));
	http_resp_free(&r);
	assert_int_equal(http(&ts, "GET", "/metrics", NULL, NULL, NULL, NULL, &r), 0);
	assert_error_shape(&r, 401, "unauthorized");
	http_resp_free(&r);
}

static void
test_unauthenticated_loopback(void **state)
{
	struct mg_config c;
	struct http_resp r;
	unsigned audits;

	(void)state;
	mg_server_stop(ts.srv);
	mg_test_config(&c);
	c.allow_unauthenticated_loopback = true;
	/* Set by hand past what the config accepts: still only reads. */
	c.unauthenticated_role = MG_ROLE_OPERATOR;
	assert_int_equal(mg_test_start(&ts, &c), 0);
	audits = fake_ctl_audit_count();
	assert_int_equal(http(&ts, "GET", "/api/v1/status", NULL, NULL, NULL, NULL, &r), 0);
	expect_status(&r, 200);
	http_resp_free(&r);
	assert_int_equal(http(&ts, "PUT", "/api/v1/mode", NULL, "application/json",
					 "{\"mode\": \"dry-run\"}", NULL, &r),
			0);
	assert_error_shape(&r, 403, "forbidden");
	assert_string_equal(json_string_value(json_object_get(
					    json_object_get(r.json, "details"), "role")),
			"viewer");
	http_resp_free(&r);
	/* Refused before the body, on an I/O thread: the record reaches control a moment later. */
	assert_int_equal(wait_audits(audits + 1), audits + 1);
	assert_string_equal(fake_ctl_audit_get(audits)->who, "loopback");
	assert_int_equal(http(&ts, "POST", "/api/v1/policy/validate", NULL, "text/plain",
					 "version: 1\n", NULL, &r),
			0);
	assert_error_shape(&r, 403, "forbidden");
	http_resp_free(&r);
	/* A wrong token is still wrong. */
	assert_int_equal(http(&ts, "GET", "/api/v1/status", "nope", NULL, NULL, NULL, &r), 0);
	assert_error_shape(&r, 401, "unauthorized");
	http_resp_free(&r);
}

static void
test_dashboard_files(void **state)
{
	char dir[] = "/tmp/vgmg-www-XXXXXX", path[256];
	struct mg_config c;
	struct http_resp r;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/index.html", dir);
	f = fopen(path, "w");
	fputs("<h1>vigil</h1>\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/app.js", dir);
	f = fopen(path, "w");
	fputs("console.log(1);\n", f);
	fclose(f);
	/* A FIFO would block open() until a writer comes: it must be refused, not waited on. */
	snprintf(path, sizeof(path), "%s/pipe.js", dir);
	assert_int_equal(mkfifo(path, 0644), 0);
	snprintf(path, sizeof(path), "%s/escape", dir);
	assert_int_equal(symlink("/etc/hostname", path), 0);

	mg_server_stop(ts.srv);
	mg_test_config(&c);
	snprintf(c.www, sizeof(c.www), "%s", dir);
	assert_int_equal(mg_test_start(&ts, &c), 0);
	assert_int_equal(http(&ts, "GET", "/", NULL, NULL, NULL, NULL, &r), 0);
	expect_status(&r, 200);
	assert_string_equal(r.ctype, "text/html; charset=utf-8");
	assert_string_equal(r.body, "<h1>vigil</h1>\n");
	http_resp_free(&r);
	assert_int_equal(http(&ts, "GET", "/app.js", NULL, NULL, NULL, NULL, &r), 0);
	expect_status(&r, 200);
	assert_string_equal(r.ctype, "text/javascript; charset=utf-8");
	http_resp_free(&r);
	static const char *const no[] = { "/escape", "/missing.html", "/../../etc/passwd",
		"/%2e%2e/%2e%2e/etc/passwd", "/pipe.js" };
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		assert_int_equal(http(&ts, "GET", no[i], NULL, NULL, NULL, NULL, &r), 0);
		assert_error_shape(&r, 404, "not_found");
		http_resp_free(&r);
	}
	/* The API is still the API. */
	assert_int_equal(http(&ts, "GET", "/api/v1/nothing", NULL, NULL, NULL, NULL, &r), 0);
	assert_error_shape(&r, 404, "no_route");
	http_resp_free(&r);
	mg_server_stop(ts.srv);
	ts.srv = NULL;
	unlink(path);
	snprintf(path, sizeof(path), "%s/pipe.js", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/app.js", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/index.html", dir);
	unlink(path);
	rmdir(dir);
	/* A dashboard directory that does not exist stops the start. */
	char err[256];
	snprintf(c.www, sizeof(c.www), "%s", dir);
	assert_null(mg_server_start(&c, &ts.ctx, err, sizeof(err)));
	assert_non_null(strstr(err, "is not a directory"));
	assert_int_equal(mg_test_start(&ts, (mg_test_config(&c), &c)), 0);
}

static void
test_start_failures(void **state)
{
	struct mg_config c;
	char err[256];
	struct mg_server *s;

	(void)state;
	/* The port is taken (by the running test server). */
	mg_test_config(&c);
	c.port = mg_server_port(ts.srv);
	c.threads = 1;
	s = mg_server_start(&c, &ts.ctx, err, sizeof(err));
	if (s != NULL)
		fail_msg("a second server started on port %u", c.port);
	assert_non_null(strstr(err, "cannot serve the API on 127.0.0.1:"));
	/* TLS files that are not there. */
	mg_test_config(&c);
	snprintf(c.tls_cert, sizeof(c.tls_cert), "/nonexistent/api.crt");
	snprintf(c.tls_key, sizeof(c.tls_key), "/nonexistent/api.key");
	assert_null(mg_server_start(&c, &ts.ctx, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/api.crt"));
}

/* Status and metrics come from snapshots: a burst costs one build, a write shows at once. */
static void
test_snapshots(void **state)
{
	struct mg_config c;
	struct http_resp r;
	char first[4096];

	(void)state;
	mg_server_stop(ts.srv);
	mg_test_config(&c);
	c.snapshot_ms = 10000;
	assert_int_equal(mg_test_start(&ts, &c), 0);
	fake_ctl_reset();
	for (int i = 0; i < 20; i++) {
		assert_int_equal(http(&ts, "GET", "/api/v1/status", TOK_VIEWER, NULL, NULL, NULL,
						 &r),
				0);
		expect_status(&r, 200);
		assert_string_equal(r.ctype, "application/json");
		if (i == 0)
			snprintf(first, sizeof(first), "%s", r.body);
		else
			assert_string_equal(r.body, first);
		http_resp_free(&r);
	}
	assert_int_equal(fake_ctl_status_calls(), 1);
	/* A write through the API: the next status is built again and shows it. */
	assert_int_equal(http(&ts, "PUT", "/api/v1/mode", TOK_OPERATOR, "application/json",
					 "{\"mode\": \"dry-run\"}", NULL, &r),
			0);
	expect_status(&r, 200);
	http_resp_free(&r);
	assert_int_equal(http(&ts, "GET", "/api/v1/status", TOK_VIEWER, NULL, NULL, NULL, &r), 0);
	assert_string_equal(json_string_value(json_object_get(r.json, "mode")), "dry-run");
	http_resp_free(&r);
	assert_int_equal(fake_ctl_status_calls(), 2);
	/* A refused write changes nothing, and does not cost a build. */
	assert_int_equal(http(&ts, "PUT", "/api/v1/mode", TOK_VIEWER, "application/json",
					 "{\"mode\": \"enforce\"}", NULL, &r),
			0);
	http_resp_free(&r);
	assert_int_equal(http(&ts, "GET", "/api/v1/status", TOK_VIEWER, NULL, NULL, NULL, &r), 0);
	http_resp_free(&r);
	assert_int_equal(fake_ctl_status_calls(), 2);
	/* Metrics have their own snapshot. */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(http(&ts, "GET", "/metrics", TOK_VIEWER, NULL, NULL, NULL, &r), 0);
		expect_status(&r, 200);
		http_resp_free(&r);
	}
	assert_int_equal(fake_ctl_status_calls(), 3);

	/* snapshot 0: every request builds. */
	mg_server_stop(ts.srv);
	c.snapshot_ms = 0;
	assert_int_equal(mg_test_start(&ts, &c), 0);
	fake_ctl_reset();
	for (int i = 0; i < 5; i++) {
		assert_int_equal(http(&ts, "GET", "/api/v1/status", TOK_VIEWER, NULL, NULL, NULL,
						 &r),
				0);
		http_resp_free(&r);
	}
	assert_int_equal(fake_ctl_status_calls(), 5);
}

/* Slow requests (a big policy compiling) run on the job threads: health, status and metrics
 * keep answering at once, and stopping the server lets them finish. */
struct slow {
	long status;
	double seconds;
};

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *
slow_validate(void *arg)
{
	struct slow *sl = arg;
	struct http_resp r;
	double t0 = now_s();

	if (http(&ts, "POST", "/api/v1/policy/validate", TOK_ADMIN, "text/yaml", "version: 1\n",
			    NULL, &r) == 0)
		sl->status = r.status;
	sl->seconds = now_s() - t0;
	http_resp_free(&r);
	return NULL;
}

static void
test_slow_routes_do_not_block_fast_ones(void **state)
{
	struct mg_config c;
	struct slow sl[4];
	pthread_t th[4];
	struct http_resp r;

	(void)state;
	mg_server_stop(ts.srv);
	mg_test_config(&c);
	c.threads = 1;
	c.job_threads = 2;
	assert_int_equal(mg_test_start(&ts, &c), 0);
	fake_ctl_set_compile_ms(800);
	memset(sl, 0, sizeof(sl));
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, slow_validate, &sl[i]), 0);
	usleep(200 * 1000);
	for (int i = 0; i < 10; i++) {
		static const char *const fast[] = { "/api/v1/health", "/api/v1/status",
			"/metrics" };
		double t0 = now_s();

		assert_int_equal(
				http(&ts, "GET", fast[i % 3], TOK_VIEWER, NULL, NULL, NULL, &r), 0);
		expect_status(&r, 200);
		http_resp_free(&r);
		if (now_s() - t0 > 0.2)
			fail_msg("%s took %.3f s while validations ran", fast[i % 3], now_s() - t0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(sl[i].status, 200);
	}
	/* Two job threads, four 0.8 s jobs: the last ones waited for a free thread. */
	double longest = 0;
	for (int i = 0; i < 4; i++)
		longest = sl[i].seconds > longest ? sl[i].seconds : longest;
	assert_true(longest > 1.5 && longest < 4);

	/* Stopping with jobs in flight: they finish and get their replies. */
	for (int i = 0; i < 3; i++) {
		sl[i].status = 0;
		assert_int_equal(pthread_create(&th[i], NULL, slow_validate, &sl[i]), 0);
	}
	usleep(200 * 1000);
	mg_server_stop(ts.srv);
	ts.srv = NULL;
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(sl[i].status, 200);
	}
	fake_ctl_set_compile_ms(0);
	assert_int_equal(mg_test_start(&ts, &c), 0);
}

static void
test_tls(void **state)
{
	char dir[] = "/tmp/vgmg-tls-XXXXXX", cmd[1024];
	struct mg_config c;
	struct http_resp r;
	struct mg_test_server plain;

	(void)state;
	if (system("command -v openssl >/dev/null 2>&1") != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
			"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
			"-keyout %s/key.pem -out %s/cert.pem -days 1 -subj /CN=127.0.0.1 "
			"-addext subjectAltName=IP:127.0.0.1 2>/dev/null",
			dir, dir);
	assert_int_equal(system(cmd), 0);
	mg_server_stop(ts.srv);
	mg_test_config(&c);
	snprintf(c.tls_cert, sizeof(c.tls_cert), "%s/cert.pem", dir);
	snprintf(c.tls_key, sizeof(c.tls_key), "%s/key.pem", dir);
	assert_int_equal(mg_test_start(&ts, &c), 0);
	snprintf(ts.cainfo, sizeof(ts.cainfo), "%s/cert.pem", dir);
	assert_int_equal(strncmp(ts.base, "https://", 8), 0);
	assert_int_equal(http(&ts, "GET", "/api/v1/status", TOK_VIEWER, NULL, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	http_resp_free(&r);
	assert_int_equal(http(&ts, "GET", "/api/v1/status", NULL, NULL, NULL, NULL, &r), 0);
	assert_error_shape(&r, 401, "unauthorized");
	http_resp_free(&r);
	/* Plain HTTP to the TLS port gets no API answer. */
	plain = ts;
	plain.cainfo[0] = '\0';
	memcpy(plain.base, "http", 4);
	memmove(plain.base + 4, plain.base + 5, strlen(plain.base + 5) + 1);
	if (http(&plain, "GET", "/api/v1/health", NULL, NULL, NULL, NULL, &r) == 0)
		assert_int_not_equal(r.status, 200);
	http_resp_free(&r);
	/* A client that does not trust the certificate is refused by its own TLS stack. */
	ts.cainfo[0] = '\0';
	assert_int_equal(http(&ts, "GET", "/api/v1/health", NULL, NULL, NULL, NULL, &r), -1);
	http_resp_free(&r);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_public_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_authentication, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roles_on_every_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(
				test_concurrent_puts_with_if_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signatures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocklist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bpf_maps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outcome_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flows_and_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routing_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unauthenticated_loopback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dashboard_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshots, setup, teardown),
		cmocka_unit_test_setup_teardown(
				test_slow_routes_do_not_block_fast_ones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls, setup, teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
