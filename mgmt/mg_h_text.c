/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy and the signature set: versioned texts with the same five operations. A text is
 * sent either as JSON {"text": "..."} (application/json) or as itself (application/yaml,
 * text/yaml, text/plain), so that `curl --data-binary @policy.yaml` works as well as a
 * program building JSON.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_api.h"
#include "mg_auth.h"
#include "mg_body.h"
#include "mg_handlers.h"
#include "mg_query.h"
#include "mg_server.h"
#include "vg_text.h"

static const struct mg_qparam no_params[] = { { 0 } };

/*
 * If-Match: "12" or 12 (the version the client read), or * (whatever is in force). Returns 0
 * with *version -1 when absent or *, or -EINVAL after a 400 reply.
 */
static int
parse_if_match(struct mg_req *r, int64_t *version)
{
	const char *s = r->if_match;
	char *end;
	long long v;
	bool quoted;

	*version = -1;
	if (s == NULL)
		return 0;
	while (*s == ' ')
		s++;
	if (strcmp(s, "*") == 0)
		return 0;
	quoted = *s == '"';
	if (quoted)
		s++;
	errno = 0;
	v = isdigit((unsigned char)*s) ? strtoll(s, &end, 10) : -1;
	if (v < 1 || errno != 0 || (quoted && *end++ != '"') || *end != '\0') {
		mg_reply_error(r, 400, "invalid_header", json_pack("{s:s}", "header", "If-Match"),
				"If-Match must be the version number the change is based on "
				"(\"12\" as the ETag of GET gives it, or *)");
		return -EINVAL;
	}
	*version = v;
	return 0;
}

/*
 * A text is kept byte for byte: it must be something JSON and the store carry unchanged, UTF-8
 * without NUL. Anything else is refused here, before anything parses it, with the offset of the
 * first bad byte (a JSON body cannot hold such a text: jansson refuses it with its position).
 * 0, or -EILSEQ after a 400 reply.
 */
static int
check_bytes(struct mg_req *r, const char *text, size_t len)
{
	unsigned line = 1, col = 1;
	const char *why;
	size_t off;

	if (vg_text_check(text, len, &off, &why) == 0)
		return 0;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n')
			line++, col = 1;
		else if (((unsigned char)text[i] & 0xc0) != 0x80)
			col++;
	}
	mg_reply_error(r, 400, "invalid_text",
			json_pack("{s:I, s:I, s:I, s:i}", "offset", (json_int_t)off, "line",
					(json_int_t)line, "column", (json_int_t)col, "byte",
					(unsigned char)text[off]),
			"the text holds %s at byte offset %zu (line %u, column %u); a text must be "
			"UTF-8 without NUL bytes, so that it is kept and returned byte for byte",
			why, off, line, col);
	return -EILSEQ;
}

/* The text of a PUT or validate: JSON {"text"} or the body itself. NULL after a reply. */
static const char *
text_of(struct mg_req *r, json_t **holder, size_t *len)
{
	static const struct mg_bfield fields[] = {
		{ "text", MG_BT_STRING, true, 1, INT64_MAX },
		{ 0 },
	};
	json_t *o;

	*holder = NULL;
	if (mg_body_is_text(r)) {
		if (r->body_len == 0) {
			mg_reply_error(r, 400, "invalid_body", NULL, "the body is empty");
			return NULL;
		}
		if (check_bytes(r, r->body, r->body_len) != 0)
			return NULL;
		*len = r->body_len;
		return r->body;
	}
	if (!mg_body_is_json(r)) {
		mg_reply_error(r, 415, "unsupported_media_type",
				json_pack("{s:[s, s, s, s]}", "accepted", "application/json",
						"application/yaml", "text/yaml", "text/plain"),
				"send the text as application/json {\"text\": ...} or as itself "
				"with Content-Type application/yaml or text/plain (got %s)",
				r->content_type ? r->content_type : "no Content-Type");
		return NULL;
	}
	o = mg_body_parse(r, fields);
	if (o == NULL)
		return NULL;
	*holder = o;
	*len = json_string_length(json_object_get(o, "text"));
	return mg_body_str(o, "text");
}

/* Warnings of a successful load: the client should see them as well. */
static json_t *
warnings_json(const struct vg_diag *d)
{
	return mg_diag_json(d);
}

static void
text_get(struct mg_req *r, enum ctl_text_kind kind)
{
	char err[256] = "", what[64];
	json_t *j;
	json_t *v;

	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	snprintf(what, sizeof(what), "read the %s", ctl_api_text_what(kind));
	errno = 0;
	j = ctl_api_text_current(r->ctx, kind, err, sizeof(err));
	if (j == NULL) {
		mg_reply_null(r, what, err);
		return;
	}
	v = json_object_get(j, "version");
	if (json_is_integer(v))
		snprintf(r->etag, sizeof(r->etag), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	mg_reply_json(r, 200, j);
}

static void
text_validate(struct mg_req *r, enum ctl_text_kind kind)
{
	struct vg_diag diag;
	json_t *holder, *summary = NULL;
	const char *text;
	size_t len;
	char what[64];
	int rc;

	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	text = text_of(r, &holder, &len);
	if (text == NULL)
		return;
	snprintf(what, sizeof(what), "validate the %s", ctl_api_text_what(kind));
	vg_diag_init(&diag);
	rc = ctl_api_text_validate(r->ctx, kind, text, len, &diag, &summary);
	if (rc == 0)
		mg_reply_json(r, 200,
				json_pack("{s:b, s:o, s:o}", "valid", 1, "summary",
						summary ? summary : json_object(), "warnings",
						warnings_json(&diag)));
	else
		mg_reply_errno(r, rc, what, NULL, &diag);
	vg_diag_free(&diag);
	json_decref(holder);
}

/*
 * How a change stands with the store: 200 with the store's version id when it is recorded; 202
 * with "version": null and "version_state": "pending" when the text is in force but the store
 * has not written it yet (GET shows the id once it has); "unrecorded": in force, never an id.
 */
static int
version_status(struct mg_req *r, const struct ctl_text_result *res, json_t **version)
{
	const char *st = res->version_state ? res->version_state : "recorded";

	if (res->version > 0 && strcmp(st, "recorded") == 0) {
		snprintf(r->etag, sizeof(r->etag), "%" PRId64, res->version);
		*version = json_integer((json_int_t)res->version);
		return 200;
	}
	*version = json_null();
	return strcmp(st, "pending") == 0 ? 202 : 200;
}

static void
text_put(struct mg_req *r, enum ctl_text_kind kind)
{
	struct ctl_text_result res;
	struct vg_diag diag;
	json_t *holder;
	const char *text;
	char sha[65], what[64];
	int64_t if_match;
	size_t len;
	int rc;

	if (mg_query_parse(r, no_params, NULL) != 0 || parse_if_match(r, &if_match) != 0)
		return;
	text = text_of(r, &holder, &len);
	if (text == NULL)
		return;
	mg_sha256_hex(text, len, sha);
	snprintf(r->audit, sizeof(r->audit), "%s sha256=%s bytes=%zu if_match=%" PRId64,
			ctl_api_text_what(kind), sha, len, if_match);
	snprintf(what, sizeof(what), "apply the %s", ctl_api_text_what(kind));
	memset(&res, 0, sizeof(res));
	vg_diag_init(&diag);
	rc = ctl_api_text_apply(r->ctx, kind, text, len, r->id.name, if_match, &diag, &res);
	if (rc == -EINPROGRESS) {
		mg_reply_operation(r, what, res.operation);
	} else if (rc == 0) {
		size_t used = strlen(r->audit);

		json_t *ver;
		int status = version_status(r, &res, &ver);

		snprintf(r->audit + used, sizeof(r->audit) - used, " -> version %" PRId64 "%s%s",
				res.version, res.unchanged ? " (unchanged)" : "",
				status == 202 ? " (pending)" : "");
		mg_reply_json(r, status,
				json_pack("{s:o, s:s, s:s, s:b, s:o, s:o}", "version", ver,
						"version_state",
						res.version_state ? res.version_state : "recorded",
						"sha256", res.sha256, "unchanged", res.unchanged,
						"summary",
						res.summary ? res.summary : json_object(),
						"warnings", warnings_json(&diag)));
	} else {
		json_decref(res.summary);
		mg_reply_errno(r, rc, what, NULL, &diag);
	}
	vg_diag_free(&diag);
	json_decref(holder);
}

static void
text_rollback(struct mg_req *r, enum ctl_text_kind kind)
{
	static const struct mg_bfield fields[] = {
		{ "version", MG_BT_INT, true, 1, INT64_MAX },
		{ 0 },
	};
	struct ctl_text_result res;
	struct vg_diag diag;
	char what[80];
	int64_t version;
	json_t *o;
	int rc;

	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	if (r->if_match != NULL) {
		mg_reply_error(r, 400, "invalid_header", json_pack("{s:s}", "header", "If-Match"),
				"rollback does not take If-Match: it restores the version named in "
				"the body whatever is in force");
		return;
	}
	o = mg_body_parse(r, fields);
	if (o == NULL)
		return;
	version = mg_body_int(o, "version", 0);
	json_decref(o);
	snprintf(r->audit, sizeof(r->audit), "%s rollback to version %" PRId64,
			ctl_api_text_what(kind), version);
	snprintf(what, sizeof(what), "roll the %s back to version %" PRId64,
			ctl_api_text_what(kind), version);
	memset(&res, 0, sizeof(res));
	vg_diag_init(&diag);
	rc = ctl_api_text_rollback(r->ctx, kind, version, r->id.name, &diag, &res);
	if (rc == -EINPROGRESS) {
		mg_reply_operation(r, what, res.operation);
	} else if (rc == 0) {
		size_t used = strlen(r->audit);

		json_t *ver;
		int status = version_status(r, &res, &ver);

		snprintf(r->audit + used, sizeof(r->audit) - used, " -> version %" PRId64 "%s",
				res.version, status == 202 ? " (pending)" : "");
		mg_reply_json(r, status,
				json_pack("{s:o, s:s, s:s, s:b, s:I, s:o}", "version", ver,
						"version_state",
						res.version_state ? res.version_state : "recorded",
						"sha256", res.sha256, "unchanged", res.unchanged,
						"restored", (json_int_t)version, "summary",
						res.summary ? res.summary : json_object()));
	} else {
		json_decref(res.summary);
		mg_reply_errno(r, rc, what, NULL, &diag);
	}
	vg_diag_free(&diag);
}

static void
text_versions(struct mg_req *r, enum ctl_text_kind kind)
{
	struct {
		uint32_t limit;
	} q = { .limit = 50 };
	static const struct mg_qparam params[] = {
		{ "limit", MG_QT_U32, 0, 1, 1000, NULL },
		{ 0 },
	};
	char err[256] = "", what[64];
	json_t *j;

	if (mg_query_parse(r, params, &q) != 0)
		return;
	snprintf(what, sizeof(what), "list the %s versions", ctl_api_text_what(kind));
	errno = 0;
	j = ctl_api_text_versions(r->ctx, kind, q.limit, err, sizeof(err));
	if (j == NULL) {
		mg_reply_null(r, what, err);
		return;
	}
	if (json_is_array(j))
		j = json_pack("{s:o}", "items", j);
	mg_reply_json(r, 200, j);
}

void
mg_h_policy_get(struct mg_req *r)
{
	text_get(r, CTL_TEXT_POLICY);
}

void
mg_h_policy_put(struct mg_req *r)
{
	text_put(r, CTL_TEXT_POLICY);
}

void
mg_h_policy_validate(struct mg_req *r)
{
	text_validate(r, CTL_TEXT_POLICY);
}

void
mg_h_policy_versions(struct mg_req *r)
{
	text_versions(r, CTL_TEXT_POLICY);
}

void
mg_h_policy_rollback(struct mg_req *r)
{
	text_rollback(r, CTL_TEXT_POLICY);
}

void
mg_h_signatures_get(struct mg_req *r)
{
	text_get(r, CTL_TEXT_SIGNATURES);
}

void
mg_h_signatures_put(struct mg_req *r)
{
	text_put(r, CTL_TEXT_SIGNATURES);
}

void
mg_h_signatures_validate(struct mg_req *r)
{
	text_validate(r, CTL_TEXT_SIGNATURES);
}

void
mg_h_signatures_versions(struct mg_req *r)
{
	text_versions(r, CTL_TEXT_SIGNATURES);
}

void
mg_h_signatures_rollback(struct mg_req *r)
{
	text_rollback(r, CTL_TEXT_SIGNATURES);
}

/* The window a preview looks at when the request names none. */
#define PREVIEW_DEFAULT_S 3600

struct preview_query {
	int64_t since_ns;
	int64_t until_ns;
	uint32_t limit;
	const char *pair; /* a port name: the flows of its pair only */
};

void
mg_h_policy_preview(struct mg_req *r)
{
	static const struct mg_qparam params[] = {
		{ "since", MG_QT_TIME, offsetof(struct preview_query, since_ns), 0, 0, NULL },
		{ "until", MG_QT_TIME, offsetof(struct preview_query, until_ns), 0, 0, NULL },
		{ "limit", MG_QT_U32, offsetof(struct preview_query, limit), 1, 10000, NULL },
		{ "pair", MG_QT_STR, offsetof(struct preview_query, pair), 0, 31, NULL },
		{ 0 },
	};
	struct preview_query q = { .limit = 100 };
	struct ctl_store_reader *rd;
	char err[256] = "";
	struct vg_diag diag;
	int64_t since, until;
	json_t *holder, *out = NULL;
	const char *text;
	size_t len;
	int rc;

	if (mg_query_parse(r, params, &q) != 0)
		return;
	text = text_of(r, &holder, &len);
	if (text == NULL)
		return;
	since = q.since_ns / 1000000000LL;
	if (q.since_ns == 0)
		since = (int64_t)time(NULL) - PREVIEW_DEFAULT_S;
	/* until is exclusive in whole seconds: round a fraction up so that it stays included. */
	until = q.until_ns ? (q.until_ns + 999999999LL) / 1000000000LL : 0;
	errno = 0;
	rd = mg_server_reader_get(r->srv, err, sizeof(err));
	if (rd == NULL) {
		mg_reply_errno(r, errno == ENOTSUP ? -ENOTSUP : -EIO, "preview the policy", err,
				NULL);
		json_decref(holder);
		return;
	}
	vg_diag_init(&diag);
	rc = ctl_api_policy_preview(r->ctx, rd, text, len, since, until, q.pair, q.limit, &diag,
			&out, err, sizeof(err));
	mg_server_reader_put(r->srv, rd);
	if (rc == 0) {
		json_object_set_new(out, "warnings", warnings_json(&diag));
		mg_reply_json(r, 200, out);
	} else {
		mg_reply_errno(r, rc, "preview the policy", err, &diag);
	}
	vg_diag_free(&diag);
	json_decref(holder);
}

/* PUT /api/v1/policy/rules/{name}/mode {"mode": "enforce"|"dry-run"}: promote a dry-run rule to
 * enforce (or back) as a new policy version, the rest of the text unchanged. */
void
mg_h_policy_rule_mode(struct mg_req *r)
{
	static const struct mg_bfield fields[] = {
		{ "mode", MG_BT_STRING, true, 1, 16 },
		{ 0 },
	};
	struct ctl_text_result res;
	struct vg_diag diag;
	char err[256] = "", what[128];
	const char *mode;
	int64_t if_match;
	json_t *o, *ver;
	bool dry;
	int rc;

	if (mg_query_parse(r, no_params, NULL) != 0 || parse_if_match(r, &if_match) != 0)
		return;
	o = mg_body_parse(r, fields);
	if (o == NULL)
		return;
	mode = mg_body_str(o, "mode");
	if (strcmp(mode, "enforce") != 0 && strcmp(mode, "dry-run") != 0) {
		mg_reply_error(r, 400, "invalid_body",
				json_pack("{s:s, s:[s, s]}", "member", "mode", "accepted",
						"enforce", "dry-run"),
				"request body: 'mode' must be enforce or dry-run");
		json_decref(o);
		return;
	}
	dry = mode[0] == 'd';
	snprintf(r->audit, sizeof(r->audit), "policy rule '%.64s' -> %s if_match=%" PRId64,
			r->params[0], mode, if_match);
	snprintf(what, sizeof(what), "set rule '%.64s' to %s", r->params[0], mode);
	memset(&res, 0, sizeof(res));
	vg_diag_init(&diag);
	rc = ctl_api_policy_rule_mode(r->ctx, r->params[0], dry, r->id.name, if_match, &diag, &res,
			err, sizeof(err));
	if (rc == -EINPROGRESS) {
		mg_reply_operation(r, what, res.operation);
	} else if (rc == 0) {
		size_t used = strlen(r->audit);
		int status = version_status(r, &res, &ver);

		snprintf(r->audit + used, sizeof(r->audit) - used, " -> version %" PRId64 "%s",
				res.version, res.unchanged ? " (unchanged)" : "");
		mg_reply_json(r, status,
				json_pack("{s:s, s:s, s:o, s:s, s:s, s:b, s:o}", "rule",
						r->params[0], "mode", mode, "version", ver,
						"version_state",
						res.version_state ? res.version_state : "recorded",
						"sha256", res.sha256, "unchanged", res.unchanged,
						"summary",
						res.summary ? res.summary : json_object()));
	} else {
		json_decref(res.summary);
		mg_reply_errno(r, rc, what, err[0] ? err : NULL, &diag);
	}
	vg_diag_free(&diag);
	json_decref(o);
}
