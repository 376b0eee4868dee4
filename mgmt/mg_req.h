/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One API request as handlers see it, and the reply they build: independent of
 * libmicrohttpd, so that the fuzz target and the unit tests drive handlers directly.
 *
 * Every failure reply is a JSON object {"error": code, "message": text, "details": object}:
 * code is a stable identifier a program can switch on, message says what was wrong and what
 * would be accepted, details holds structured data (diagnostics with positions, the parameter
 * at fault, the accepted values...) and is {} when there is nothing more to say.
 */
#ifndef MG_REQ_H
#define MG_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mg_auth.h"
#include "vg_diag.h"

struct ctl_ctx;
struct mg_route;
struct mg_server;

#define MG_MAX_PARAMS 4
#define MG_MAX_QUERY  32
#define MG_PARAM_LEN  128

struct mg_kv {
	const char *key;
	const char *value; /* "" for a key given without '=' */
};

struct mg_req {
	/* What was asked. Strings belong to the caller and outlive the request. */
	const char *method; /* "GET", ..., HEAD is handled as GET */
	const char *path;   /* decoded path, without the query */
	const struct mg_route *route;
	char params[MG_MAX_PARAMS][MG_PARAM_LEN]; /* path parameters, in pattern order */
	struct mg_kv query[MG_MAX_QUERY];
	unsigned n_query;
	bool query_overflow; /* more than MG_MAX_QUERY parameters were given */
	const char *body;    /* NULL when there is none */
	size_t body_len;
	const char *content_type; /* NULL when absent */
	const char *if_match;	  /* NULL when absent */
	struct mg_identity id;
	enum mg_auth_result auth; /* how identification went (id is valid on MG_AUTH_OK) */
	struct ctl_ctx *ctx;
	struct mg_server *srv; /* NULL outside a server (fuzz target) */

	/* The reply. */
	int status;
	json_t *json; /* body, serialised at the end; or ... */
	char *text;   /* ... a text body (malloc'd, or static when text_static) */
	size_t text_len;
	bool text_static;
	const char *text_type; /* Content-Type of text */
	char etag[32];	       /* without quotes; "" for none */
	char location[192];
	char allow[48];	 /* for 405 */
	char audit[256]; /* what a write changed, for the audit record */
	unsigned retry_after_s;
};

/* Reset r's reply and free what it held (allow, set by routing, stays). */
void mg_req_reply_free(struct mg_req *r);

/*
 * Reply with a JSON body (ownership of j passes to r). The reply functions replace an earlier
 * body; ETag and Location set by the handler stay, except on mg_reply_error().
 */
void mg_reply_json(struct mg_req *r, int status, json_t *j);

/* Reply without a body (204). */
void mg_reply_empty(struct mg_req *r, int status);

/* Reply with text (ownership passes unless is_static). */
void mg_reply_text(struct mg_req *r, int status, const char *type, char *text, size_t len,
		bool is_static);

/* Reply with {error, message, details}; details may be NULL ({}), ownership passes. */
void mg_reply_error(struct mg_req *r, int status, const char *code, json_t *details,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * A JSON string of s, never NULL for a non-NULL s: text that is not valid UTF-8 (a path, a
 * query value or a policy line as the client sent it) has its bytes above 0x7f replaced by
 * '?', so that quoting bad input back never fails the reply.
 */
json_t *mg_json_str(const char *s);

/* Diagnostics as JSON: [{"file", "line", "column", "severity", "message"}]. */
json_t *mg_diag_json(const struct vg_diag *d);

/*
 * Reply to a failed ctl_api call: -EINVAL 400/422 (with diag's entries in details when diag is
 * not NULL and has any), -ENOENT 404, -ESTALE 412, -EBUSY/-ETIMEDOUT/-ENOSPC 503 with
 * Retry-After, -ENOTSUP 409, anything else 500. what names the operation ("apply the policy").
 */
void mg_reply_errno(struct mg_req *r, int rc, const char *what, const char *err,
		const struct vg_diag *diag);

/*
 * Reply to a write whose outcome is not known yet (ctl_api -EINPROGRESS): 202 with Location
 * /api/v1/operations/{op} and {operation, state: "running", href, message}, where the client
 * reads the outcome (applied or failed) once control is done.
 */
void mg_reply_operation(struct mg_req *r, const char *what, uint64_t op);

/*
 * Reply to a ctl_api call that returned NULL: errno (cleared by the caller before the call)
 * gives the status as for mg_reply_errno(); when the call left errno at 0, 500.
 */
void mg_reply_null(struct mg_req *r, const char *what, const char *err);

/* A query parameter's value, or NULL. */
const char *mg_req_query(const struct mg_req *r, const char *key);

/* The serialised body of the reply (JSON is dumped compactly); NULL for none. */
char *mg_req_body_take(struct mg_req *r, size_t *len, const char **type, bool *is_static);

#endif /* MG_REQ_H */
