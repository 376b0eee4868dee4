/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mg_body.h"

/* Content-Type's media type equals type (case-insensitive), parameters aside. */
static bool
media_type_is(const char *ct, const char *type)
{
	size_t n = strlen(type);

	if (ct == NULL)
		return false;
	while (*ct == ' ')
		ct++;
	if (strncasecmp(ct, type, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ')
		ct++;
	return *ct == '\0' || *ct == ';';
}

bool
mg_body_is_json(const struct mg_req *r)
{
	return media_type_is(r->content_type, "application/json");
}

bool
mg_body_is_text(const struct mg_req *r)
{
	return media_type_is(r->content_type, "application/yaml") ||
	       media_type_is(r->content_type, "application/x-yaml") ||
	       media_type_is(r->content_type, "text/yaml") ||
	       media_type_is(r->content_type, "text/plain");
}

bool
mg_body_is_binary(const struct mg_req *r)
{
	return media_type_is(r->content_type, "application/octet-stream");
}

static const char *
type_name(enum mg_btype t)
{
	switch (t) {
	case MG_BT_STRING:
		return "a string";
	case MG_BT_INT:
		return "an integer";
	case MG_BT_BOOL:
		return "true or false";
	case MG_BT_ARRAY:
		return "an array";
	}
	return "?";
}

static const char *
json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

static void
member_error(struct mg_req *r, const char *member, const char *fmt, const char *a, const char *b)
{
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, a, b);
	mg_reply_error(r, 400, "invalid_body", json_pack("{s:o}", "member", mg_json_str(member)),
			"request body: %s", msg);
}

json_t *
mg_body_parse(struct mg_req *r, const struct mg_bfield *fields)
{
	json_error_t e;
	json_t *o;
	const char *k;
	json_t *v;
	char accepted[256] = "";

	for (const struct mg_bfield *f = fields; f->name != NULL; f++) {
		size_t used = strlen(accepted);

		snprintf(accepted + used, sizeof(accepted) - used, "%s%s", used ? ", " : "",
				f->name);
	}
	if (!mg_body_is_json(r)) {
		mg_reply_error(r, 415, "unsupported_media_type",
				json_pack("{s:o?, s:[s]}", "content_type",
						r->content_type ? mg_json_str(r->content_type)
								: NULL,
						"accepted", "application/json"),
				"the body must be sent as application/json (got %s)",
				r->content_type ? r->content_type : "no Content-Type");
		return NULL;
	}
	if (r->body == NULL || r->body_len == 0) {
		mg_reply_error(r, 400, "invalid_body", NULL,
				"the request needs a JSON object body with: %s", accepted);
		return NULL;
	}
	o = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &e);
	if (o == NULL) {
		mg_reply_error(r, 400, "invalid_json",
				json_pack("{s:i, s:i, s:i}", "line", e.line, "column", e.column,
						"position", e.position),
				"request body is not valid JSON at line %d, column %d: %s", e.line,
				e.column, e.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		mg_reply_error(r, 400, "invalid_body", NULL,
				"request body is %s; it must be a JSON object with: %s",
				json_type_name(o), accepted);
		json_decref(o);
		return NULL;
	}
	json_object_foreach(o, k, v)
	{
		const struct mg_bfield *f = fields;

		while (f->name != NULL && strcmp(f->name, k) != 0)
			f++;
		if (f->name == NULL) {
			member_error(r, k, "unknown member '%s' (accepted: %s)", k, accepted);
			goto fail;
		}
		switch (f->type) {
		case MG_BT_STRING: {
			if (!json_is_string(v))
				goto wrong_type;
			size_t len = json_string_length(v);
			char lim[64];

			if ((int64_t)len < f->min || (f->max > 0 && (int64_t)len > f->max)) {
				snprintf(lim, sizeof(lim), "%" PRId64 " to %" PRId64, f->min,
						f->max);
				member_error(r, k, "'%s' must be %s bytes long", k, lim);
				goto fail;
			}
			if (strlen(json_string_value(v)) != len) {
				member_error(r, k, "'%s' holds a NUL character%s", k, "");
				goto fail;
			}
			break;
		}
		case MG_BT_INT: {
			char lim[64];

			if (!json_is_integer(v))
				goto wrong_type;
			if (json_integer_value(v) < f->min || json_integer_value(v) > f->max) {
				snprintf(lim, sizeof(lim), "%" PRId64 " to %" PRId64, f->min,
						f->max);
				member_error(r, k, "'%s' is out of range (%s)", k, lim);
				goto fail;
			}
			break;
		}
		case MG_BT_BOOL:
			if (!json_is_boolean(v))
				goto wrong_type;
			break;
		case MG_BT_ARRAY: {
			char lim[64];

			if (!json_is_array(v))
				goto wrong_type;
			if ((int64_t)json_array_size(v) < f->min ||
					(int64_t)json_array_size(v) > f->max) {
				snprintf(lim, sizeof(lim), "%" PRId64 " to %" PRId64, f->min,
						f->max);
				member_error(r, k, "'%s' must have %s items", k, lim);
				goto fail;
			}
			break;
		}
		}
		continue;
	wrong_type:
		mg_reply_error(r, 400, "invalid_body",
				json_pack("{s:o, s:s}", "member", mg_json_str(k), "expected",
						type_name(f->type)),
				"request body: '%s' must be %s, not %s", k, type_name(f->type),
				json_type_name(v));
		goto fail;
	}
	for (const struct mg_bfield *f = fields; f->name != NULL; f++) {
		if (f->required && json_object_get(o, f->name) == NULL) {
			member_error(r, f->name, "required member '%s' is missing%s", f->name, "");
			goto fail;
		}
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

const char *
mg_body_str(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

int64_t
mg_body_int(const json_t *o, const char *name, int64_t dflt)
{
	json_t *v = json_object_get(o, name);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}
