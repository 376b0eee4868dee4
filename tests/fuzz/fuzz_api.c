/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: API requests as handlers receive them (policy and signature bodies, the JSON
 * wrapper, blocklist entries, mode changes, rollbacks, and the query filters of flows, alerts,
 * anomalies, versions), routed and run against the fake ctl_api as an admin.
 *
 * Input: "METHOD /path?query\n" content-type "\n" if-match "\n" body; the content-type and
 * if-match lines are also checked as Host and Origin headers. Every reply must be a status from
 * 200 to 599 with a body that is an object, and every 4xx/5xx JSON body must be {error,
 * message, details}; anything else aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/mgmt/mg_fake_ctl.h"
#include "mg_route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Next line of buf (NUL-terminating it), or the rest when there is no newline. */
static char *
next_line(char **p, char *end)
{
	char *s = *p, *nl;

	if (s >= end)
		return NULL;
	nl = memchr(s, '\n', (size_t)(end - s));
	if (nl == NULL) {
		*p = end;
		return s;
	}
	*nl = '\0';
	*p = nl + 1;
	return s;
}

static void
check_reply(const struct mg_req *r)
{
	if (r->status < 200 || r->status > 599)
		abort();
	if (r->json != NULL && !json_is_object(r->json))
		abort();
	if (r->status >= 400) {
		if (r->json == NULL || json_object_size(r->json) != 3 ||
				!json_is_string(json_object_get(r->json, "error")) ||
				!json_is_string(json_object_get(r->json, "message")) ||
				!json_is_object(json_object_get(r->json, "details")))
			abort();
	}
}

/*
 * The Host and Origin checks parse client bytes too (the two header lines of the input serve
 * as Host and Origin): whatever Host is accepted, "http://" + that Host is its own origin.
 */
static void
check_host_origin(const char *host, const char *origin)
{
	static struct mg_hosts hosts;
	static bool init;
	char own[MG_HOST_LEN + 16];

	if (!init) {
		struct mg_config c;

		mg_config_defaults(&c);
		snprintf(c.hosts[c.n_hosts++], sizeof(c.hosts[0]), "vigil.example");
		snprintf(c.hosts[c.n_hosts++], sizeof(c.hosts[0]), "[2001:db8::1]:443");
		mg_hosts_init(&hosts, &c, 8080);
		init = true;
	}
	(void)mg_origin_is_own(origin, host, false);
	(void)mg_origin_is_own(origin, host, true);
	if (host == NULL || !mg_host_allowed(&hosts, host, false) || strlen(host) >= MG_HOST_LEN)
		return;
	snprintf(own, sizeof(own), "http://%s", host);
	if (!mg_origin_is_own(own, host, false))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_ctx ctx;
	struct mg_req r;
	char *buf, *p, *end, *line, *method, *path, *q;

	if (size > 1 << 20)
		return 0;
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	p = buf;
	end = buf + size;

	memset(&ctx, 0, sizeof(ctx));
	memset(&r, 0, sizeof(r));
	line = next_line(&p, end);
	if (line == NULL || (path = strchr(line, ' ')) == NULL)
		goto out;
	*path++ = '\0';
	method = line;
	q = strchr(path, '?');
	if (q != NULL) {
		*q++ = '\0';
		/* k=v&k=v, as libmicrohttpd hands them over (already unescaped). */
		for (char *kv = strtok(q, "&"); kv != NULL; kv = strtok(NULL, "&")) {
			char *eq = strchr(kv, '=');

			if (r.n_query == MG_MAX_QUERY) {
				r.query_overflow = true;
				break;
			}
			if (eq != NULL)
				*eq = '\0';
			r.query[r.n_query].key = kv;
			r.query[r.n_query].value = eq != NULL ? eq + 1 : "";
			r.n_query++;
		}
	}
	line = next_line(&p, end);
	r.content_type = line != NULL && line[0] != '\0' ? line : NULL;
	line = next_line(&p, end);
	r.if_match = line != NULL && line[0] != '\0' ? line : NULL;
	r.body = p < end ? p : NULL;
	r.body_len = (size_t)(end - p);
	r.method = method;
	r.path = path;
	r.ctx = &ctx;
	r.auth = MG_AUTH_OK;
	r.id.role = MG_ROLE_ADMIN;
	strcpy(r.id.name, "fuzz");

	check_host_origin(r.content_type, r.if_match);
	fake_ctl_reset();
	if (mg_route_find(&r, method, path) == 0) {
		mg_route_run(&r);
		check_reply(&r);
		/* Run it twice: the second PUT of a text is the "unchanged" path. */
		mg_req_reply_free(&r);
		mg_route_run(&r);
		check_reply(&r);
	}
	mg_req_reply_free(&r);
out:
	free(buf);
	return 0;
}
