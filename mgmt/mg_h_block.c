/* SPDX-License-Identifier: BSD-3-Clause */
/* The blocklist: addresses the workers drop before any other check, for a time or for good. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl_api.h"
#include "mg_body.h"
#include "mg_handlers.h"
#include "mg_query.h"

/* A year: longer than that is "until removed" (ttl 0), said plainly. */
#define MAX_TTL_S (366LL * 86400)

static const struct mg_qparam no_params[] = { { 0 } };

void
mg_h_blocklist(struct mg_req *r)
{
	json_t *j;

	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	errno = 0;
	j = ctl_api_blocklist(r->ctx);
	if (j == NULL) {
		mg_reply_null(r, "list the blocklist", NULL);
		return;
	}
	if (json_is_array(j))
		j = json_pack("{s:o}", "items", j);
	mg_reply_json(r, 200, j);
}

void
mg_h_block_add(struct mg_req *r)
{
	static const struct mg_bfield fields[] = {
		{ "address", MG_BT_STRING, true, 1, 64 },
		{ "ttl", MG_BT_INT, false, 0, MAX_TTL_S },
		{ "reason", MG_BT_STRING, false, 0, 120 },
		{ 0 },
	};
	struct mg_addr a;
	char err[256] = "";
	uint64_t op = 0;
	const char *addr, *reason;
	int64_t ttl;
	json_t *o;
	int rc;

	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	o = mg_body_parse(r, fields);
	if (o == NULL)
		return;
	addr = mg_body_str(o, "address");
	reason = mg_body_str(o, "reason");
	ttl = mg_body_int(o, "ttl", 0);
	snprintf(r->audit, sizeof(r->audit), "block %.64s ttl=%" PRId64 "s reason=%.120s", addr,
			ttl, reason ? reason : "");
	if (mg_parse_addr(addr, &a) != 0) {
		mg_reply_error(r, 400, "invalid_body",
				json_pack("{s:s, s:o}", "member", "address", "value",
						mg_json_str(addr)),
				"request body: 'address' must be one IPv4 or IPv6 address "
				"(10.0.0.1, 2001:db8::1), not '%.64s'",
				addr);
		json_decref(o);
		return;
	}
	rc = ctl_api_block_add(r->ctx, a.family, a.addr, (uint32_t)ttl, reason ? reason : "",
			r->id.name, &op, err, sizeof(err));
	if (rc == -EINPROGRESS) {
		mg_reply_operation(r, "block the address", op);
	} else if (rc < 0) {
		mg_reply_errno(r, rc, "block the address", err, NULL);
	} else {
		/*
		 * 201: in force and written to the store. 202: in force, the store has not written
		 * it yet (a slow or full disk); it is kept and retried, never dropped, and
		 * /api/v1/status store.durable_pending counts it until it is written.
		 */
		snprintf(r->location, sizeof(r->location), "/api/v1/blocklist/%s", a.text);
		mg_reply_json(r, rc == 1 ? 202 : 201,
				json_pack("{s:s, s:i, s:I, s:s, s:s}", "address", a.text, "family",
						a.family, "ttl", (json_int_t)ttl, "reason",
						reason ? reason : "", "stored",
						rc == 1 ? "pending" : "written"));
	}
	json_decref(o);
}

void
mg_h_block_remove(struct mg_req *r)
{
	struct mg_addr a;
	char err[256] = "";
	uint64_t op = 0;
	int rc;

	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	snprintf(r->audit, sizeof(r->audit), "unblock %.64s", r->params[0]);
	if (mg_parse_addr(r->params[0], &a) != 0) {
		mg_reply_error(r, 400, "invalid_path",
				json_pack("{s:s, s:o}", "parameter", "address", "value",
						mg_json_str(r->params[0])),
				"'%.64s' is not an IPv4 or IPv6 address", r->params[0]);
		return;
	}
	rc = ctl_api_block_remove(r->ctx, a.family, a.addr, r->id.name, &op, err, sizeof(err));
	if (rc == -EINPROGRESS)
		mg_reply_operation(r, "unblock the address", op);
	else if (rc != 0)
		mg_reply_errno(r, rc, "unblock the address", err, NULL);
	else
		mg_reply_empty(r, 204);
}
