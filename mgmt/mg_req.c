/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_req.h"

/* Drop the reply's body; headers set by the handler (ETag, Location) stay. */
static void
body_free(struct mg_req *r)
{
	json_decref(r->json);
	r->json = NULL;
	if (!r->text_static)
		free(r->text);
	r->text = NULL;
	r->text_len = 0;
	r->text_static = false;
	r->text_type = NULL;
}

void
mg_req_reply_free(struct mg_req *r)
{
	body_free(r);
	r->status = 0;
	r->etag[0] = '\0';
	r->location[0] = '\0';
	r->retry_after_s = 0;
}

void
mg_reply_json(struct mg_req *r, int status, json_t *j)
{
	body_free(r);
	r->status = status;
	r->json = j;
	if (j == NULL) {
		/* Building the body ran out of memory: say so rather than send nothing. */
		r->status = 500;
		r->json = json_pack("{s:s, s:s, s:{}}", "error", "internal", "message",
				"out of memory while building the reply", "details");
	}
}

void
mg_reply_empty(struct mg_req *r, int status)
{
	body_free(r);
	r->status = status;
}

void
mg_reply_text(struct mg_req *r, int status, const char *type, char *text, size_t len,
		bool is_static)
{
	body_free(r);
	r->status = status;
	r->text = text;
	r->text_len = len;
	r->text_static = is_static;
	r->text_type = type;
}

json_t *
mg_json_str(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	if (j != NULL || s == NULL)
		return j;
	copy = strdup(s);
	if (copy == NULL)
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

void
mg_reply_error(struct mg_req *r, int status, const char *code, json_t *details, const char *fmt,
		...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (details == NULL)
		details = json_object();
	/* A failure describes no resource: no ETag or Location from an earlier step. */
	r->etag[0] = '\0';
	r->location[0] = '\0';
	mg_reply_json(r, status,
			json_pack("{s:s, s:o, s:o}", "error", code, "message", mg_json_str(msg),
					"details", details));
}

json_t *
mg_diag_json(const struct vg_diag *d)
{
	json_t *a = json_array();

	for (unsigned i = 0; d != NULL && i < d->n; i++) {
		const struct vg_diag_entry *e = &d->v[i];

		json_array_append_new(
				a, json_pack("{s:o, s:i, s:i, s:s, s:o}", "file",
						   mg_json_str(e->file), "line", (int)e->line,
						   "column", (int)e->col, "severity",
						   e->sev == VG_SEV_ERROR ? "error" : "warning",
						   "message", mg_json_str(e->msg)));
	}
	return a;
}

void
mg_reply_operation(struct mg_req *r, const char *what, uint64_t op)
{
	snprintf(r->location, sizeof(r->location), "/api/v1/operations/%" PRIu64, op);
	mg_reply_json(r, 202,
			json_pack("{s:I, s:s, s:s, s:s+++}", "operation", (json_int_t)op, "state",
					"running", "href", r->location, "message",
					"the control core started to ", what,
					" but did not finish within the call timeout; the change "
					"goes on and its outcome is not known yet: read GET ",
					r->location));
	size_t used = strlen(r->audit);

	snprintf(r->audit + used, sizeof(r->audit) - used,
			" -> operation %" PRIu64 " (outcome unknown)", op);
}

void
mg_reply_errno(struct mg_req *r, int rc, const char *what, const char *err,
		const struct vg_diag *diag)
{
	const char *why = err != NULL && err[0] != '\0'			 ? err
			  : diag != NULL && diag->n > 0 && rc != -EINVAL ? diag->v[0].msg
									 : strerror(-rc);

	switch (rc) {
	case -EINVAL:
		if (diag != NULL && diag->n > 0) {
			const struct vg_diag_entry *e = &diag->v[0];

			for (unsigned i = 0; i < diag->n; i++)
				if (diag->v[i].sev == VG_SEV_ERROR) {
					e = &diag->v[i];
					break;
				}
			mg_reply_error(r, 422, "validation_failed",
					json_pack("{s:o}", "diagnostics", mg_diag_json(diag)),
					"cannot %s: %u error%s; the first: %s:%u:%u: %s", what,
					diag->errors, diag->errors == 1 ? "" : "s", e->file,
					e->line, e->col, e->msg);
		} else {
			mg_reply_error(r, 400, "bad_request", NULL, "cannot %s: %s", what, why);
		}
		return;
	case -ENOENT:
		mg_reply_error(r, 404, "not_found", NULL, "cannot %s: %s", what, why);
		return;
	case -ESTALE:
		mg_reply_error(r, 412, "version_mismatch", NULL,
				"cannot %s: %s; read the current version and retry", what, why);
		return;
	case -EBUSY:
	case -ETIMEDOUT:
	case -ENOSPC:
		mg_reply_error(r, 503, "unavailable", NULL,
				"cannot %s: the control core did not answer in time (%s); retry",
				what, why);
		r->retry_after_s = 1;
		return;
	case -ENOTSUP:
		mg_reply_error(r, 409, "not_available", NULL, "cannot %s: %s", what, why);
		return;
	case -EEXIST:
		mg_reply_error(r, 409, "conflict", NULL, "cannot %s: %s", what, why);
		return;
	case -EAGAIN:
		/* The store's queue is full (a stalled or full disk): nothing was changed. */
		mg_reply_error(r, 503, "store_behind", NULL, "cannot %s: %s; retry later", what,
				why);
		r->retry_after_s = 5;
		return;
	default:
		mg_reply_error(r, 500, "internal", NULL, "cannot %s: %s", what, why);
		return;
	}
}

void
mg_reply_null(struct mg_req *r, const char *what, const char *err)
{
	int e = errno;

	mg_reply_errno(r, e != 0 ? -e : -EIO, what, err, NULL);
}

const char *
mg_req_query(const struct mg_req *r, const char *key)
{
	for (unsigned i = 0; i < r->n_query; i++)
		if (strcmp(r->query[i].key, key) == 0)
			return r->query[i].value;
	return NULL;
}

char *
mg_req_body_take(struct mg_req *r, size_t *len, const char **type, bool *is_static)
{
	char *s;

	*is_static = false;
	if (r->json != NULL) {
		s = json_dumps(r->json, JSON_COMPACT);
		json_decref(r->json);
		r->json = NULL;
		if (s == NULL)
			return NULL;
		/* A newline at the end keeps terminals and line-based tools happy. */
		size_t n = strlen(s);
		char *t = realloc(s, n + 2);

		if (t == NULL) {
			free(s);
			return NULL;
		}
		t[n] = '\n';
		t[n + 1] = '\0';
		*len = n + 1;
		*type = "application/json";
		return t;
	}
	if (r->text != NULL) {
		s = r->text;
		*len = r->text_len;
		*type = r->text_type;
		*is_static = r->text_static;
		r->text = NULL;
		r->text_static = false;
		return s;
	}
	*len = 0;
	*type = NULL;
	return NULL;
}
