/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small HTTP client for mgmt's tests (libcurl), and a server over the fake ctl_api on an
 * ephemeral loopback port.
 */
#ifndef MG_TEST_HTTP_H
#define MG_TEST_HTTP_H

#include <curl/curl.h>
#include <jansson.h>

#include "ctl_ctx.h"
#include "mg_auth.h"
#include "mg_config.h"
#include "mg_fake_ctl.h"
#include "mg_server.h"

/* Tokens of the test server, one per role. */
#define TOK_VIEWER   "viewer-7f3a9c"
#define TOK_OPERATOR "operator-51d2e8"
#define TOK_ADMIN    "admin-c0ffee42"

struct http_resp {
	long status;
	char *body;
	size_t len;
	char ctype[128];
	char etag[64];
	char allow[64];
	char location[192];
	char www_auth[64];
	char retry_after[16];
	json_t *json; /* body parsed, when it is JSON */
};

struct mg_test_server {
	struct mg_server *srv;
	struct ctl_ctx ctx;
	char base[64];
	char cainfo[256]; /* CA file for https ("" for http) */
};

static inline void
mg_test_add_token(struct mg_config *c, const char *name, int role, const char *secret)
{
	struct mg_token *t = &c->tokens[c->n_tokens++];

	snprintf(t->name, sizeof(t->name), "%s", name);
	t->role = role;
	mg_sha256(secret, strlen(secret), t->sha256);
}

/* A config with one token per role on 127.0.0.1, ephemeral port. */
static inline void
mg_test_config(struct mg_config *c)
{
	mg_config_defaults(c);
	c->enabled = true;
	c->port = 0;
	c->timeout_ms = 2000;
	mg_test_add_token(c, "vera", MG_ROLE_VIEWER, TOK_VIEWER);
	mg_test_add_token(c, "otto", MG_ROLE_OPERATOR, TOK_OPERATOR);
	mg_test_add_token(c, "ada", MG_ROLE_ADMIN, TOK_ADMIN);
}

static inline int
mg_test_start(struct mg_test_server *ts, const struct mg_config *c)
{
	char err[256];

	memset(&ts->ctx, 0, sizeof(ts->ctx));
	ts->srv = mg_server_start(c, &ts->ctx, err, sizeof(err));
	if (ts->srv == NULL) {
		fprintf(stderr, "mg_server_start: %s\n", err);
		return -1;
	}
	snprintf(ts->base, sizeof(ts->base), "%s://127.0.0.1:%u", c->tls_cert[0] ? "https" : "http",
			mg_server_port(ts->srv));
	return 0;
}

static size_t
mg_test_write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct http_resp *r = arg;
	size_t add = size * n;
	char *b = realloc(r->body, r->len + add + 1);

	if (b == NULL)
		return 0;
	memcpy(b + r->len, p, add);
	r->len += add;
	b[r->len] = '\0';
	r->body = b;
	return add;
}

static void
mg_test_header_value(const char *line, size_t n, const char *name, char *out, size_t outlen)
{
	size_t l = strlen(name);

	if (n <= l + 1 || strncasecmp(line, name, l) != 0 || line[l] != ':')
		return;
	line += l + 1;
	n -= l + 1;
	while (n > 0 && *line == ' ') {
		line++;
		n--;
	}
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		n--;
	snprintf(out, outlen, "%.*s", (int)n, line);
}

static size_t
mg_test_header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct http_resp *r = arg;
	size_t len = size * n;

	mg_test_header_value(p, len, "Content-Type", r->ctype, sizeof(r->ctype));
	mg_test_header_value(p, len, "ETag", r->etag, sizeof(r->etag));
	mg_test_header_value(p, len, "Allow", r->allow, sizeof(r->allow));
	mg_test_header_value(p, len, "Location", r->location, sizeof(r->location));
	mg_test_header_value(p, len, "WWW-Authenticate", r->www_auth, sizeof(r->www_auth));
	mg_test_header_value(p, len, "Retry-After", r->retry_after, sizeof(r->retry_after));
	return len;
}

static inline void
http_resp_free(struct http_resp *r)
{
	free(r->body);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

/*
 * One request. token and ctype may be NULL; body may be NULL (no body). extra: one more header
 * line ("If-Match: \"3\"") or NULL. Returns 0, or -1 when the transfer itself failed.
 */
static inline int
http(const struct mg_test_server *ts, const char *method, const char *path, const char *token,
		const char *ctype, const char *body, const char *extra, struct http_resp *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[512], line[256];
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "%s%s", ts->base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L); /* send dot segments as they are */
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mg_test_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, mg_test_header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (ts->cainfo[0] != '\0')
		curl_easy_setopt(c, CURLOPT_CAINFO, ts->cainfo);
	if (token != NULL) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, line);
	}
	if (ctype != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s", ctype);
		h = curl_slist_append(h, line);
	} else if (body != NULL) {
		h = curl_slist_append(h, "Content-Type:"); /* curl would add a form type */
	}
	if (extra != NULL)
		h = curl_slist_append(h, extra);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		fprintf(stderr, "%s %s: %s\n", method, path, curl_easy_strerror(rc));
		return -1;
	}
	if (r->body != NULL && strncmp(r->ctype, "application/json", 16) == 0)
		r->json = json_loadb(r->body, r->len, 0, NULL);
	return 0;
}

static inline const char *
http_error(const struct http_resp *r)
{
	return json_string_value(json_object_get(r->json, "error"));
}

static inline const char *
http_message(const struct http_resp *r)
{
	return json_string_value(json_object_get(r->json, "message"));
}

#endif /* MG_TEST_HTTP_H */
