/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The eBPF programs' maps (docs/BPF.md, "Maps"): list them, list a map's entries, put and
 * remove entries. A change is in force for the programs' next runs, without reloading them.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "ctl_bpf_api.h"
#include "ctl_bpf_prog.h"
#include "mg_body.h"
#include "mg_handlers.h"
#include "mg_query.h"
#include "rl_bpf_map.h"

static const struct mg_qparam no_params[] = { { 0 } };

/* The {name} path parameter: a map name as a maps file declares it. */
static bool
name_ok(struct mg_req *r)
{
	const char *s = r->params[0];
	size_t n = strlen(s);
	bool ok = n > 0 && n < RL_BPF_MAP_NAME_MAX;

	for (; ok && *s; s++)
		ok = (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-';
	if (!ok)
		mg_reply_error(r, 400, "invalid_path",
				json_pack("{s:s, s:o}", "parameter", "name", "value",
						mg_json_str(r->params[0])),
				"'%.64s' is not a map name (lower-case letters, digits, '_' and '-', "
				"at most %u)",
				r->params[0], RL_BPF_MAP_NAME_MAX - 1);
	return ok;
}

void
mg_h_bpf_maps(struct mg_req *r)
{
	json_t *j;

	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	errno = 0;
	j = ctl_api_bpf_maps(r->ctx);
	if (j == NULL) {
		mg_reply_null(r, "list the maps", NULL);
		return;
	}
	mg_reply_json(r, 200, j);
}

void
mg_h_bpf_map_entries(struct mg_req *r)
{
	char err[512] = "";
	json_t *j = NULL;
	int rc;

	if (mg_query_parse(r, no_params, NULL) != 0 || !name_ok(r))
		return;
	rc = ctl_api_bpf_map_entries(r->ctx, r->params[0], &j, err, sizeof(err));
	if (rc != 0)
		mg_reply_errno(r, rc, "list the map's entries", err, NULL);
	else
		mg_reply_json(r, 200, j);
}

static void
item_error(struct mg_req *r, const char *list, size_t i, const char *member, const char *why)
{
	char m[48];

	snprintf(m, sizeof(m), "%s[%zu]%s%s", list, i, member[0] ? "." : "", member);
	mg_reply_error(r, 400, "invalid_body", json_pack("{s:s}", "member", m),
			"request body: %s: %s", m, why);
}

/* A key is a string (a prefix, an address or a number) or a non-negative integer. */
static bool
key_ok(const json_t *k)
{
	return (json_is_string(k) && json_string_length(k) > 0 && json_string_length(k) < 64) ||
	       (json_is_integer(k) && json_integer_value(k) >= 0);
}

/* PUT {"entries": [{"key": ..., "value": ...}, ...]}: insert or replace, all or none. */
void
mg_h_bpf_map_put(struct mg_req *r)
{
	static const struct mg_bfield fields[] = {
		{ "entries", MG_BT_ARRAY, true, 1, RL_BPF_MAP_BATCH_MAX },
		{ 0 },
	};
	json_t *o, *entries, *out = NULL, *details = NULL;
	char err[1024] = "";
	uint64_t op = 0;
	size_t i;
	int rc;

	if (mg_query_parse(r, no_params, NULL) != 0 || !name_ok(r))
		return;
	o = mg_body_parse(r, fields);
	if (o == NULL)
		return;
	entries = json_object_get(o, "entries");
	for (i = 0; i < json_array_size(entries); i++) {
		json_t *it = json_array_get(entries, i), *v;
		const char *k;

		if (!json_is_object(it)) {
			item_error(r, "entries", i, "",
					"an entry is an object {\"key\": ..., \"value\": ...}");
			goto out;
		}
		json_object_foreach(it, k, v)
		{
			if (strcmp(k, "key") != 0 && strcmp(k, "value") != 0) {
				item_error(r, "entries", i, k,
						"unknown member (accepted: key, value)");
				goto out;
			}
		}
		if (!key_ok(json_object_get(it, "key"))) {
			item_error(r, "entries", i, "key",
					"required: a string (10.0.0.0/8, 2001:db8::1, 42) or a non-negative integer");
			goto out;
		}
		v = json_object_get(it, "value");
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			item_error(r, "entries", i, "value", "required: a non-negative integer");
			goto out;
		}
	}
	snprintf(r->audit, sizeof(r->audit), "bpf map %s: put %zu entries", r->params[0],
			json_array_size(entries));
	rc = ctl_api_bpf_map_change(r->ctx, r->params[0], entries, false, r->id.name, &op, &out,
			&details, err, sizeof(err));
	if (rc == -EINPROGRESS)
		mg_reply_operation(r, "change the map", op);
	else if (rc == -EINVAL)
		mg_reply_error(r, 400, "invalid_body", details, "%s", err), details = NULL;
	else if (rc != 0)
		mg_reply_errno(r, rc, "change the map", err, NULL);
	else
		mg_reply_json(r, 200, out), out = NULL;
out:
	json_decref(details);
	json_decref(out);
	json_decref(o);
}

/* The keys query parameter of a delete: its only parameter, given once. */
static const char *
keys_param(struct mg_req *r)
{
	const char *v = NULL;

	for (unsigned i = 0; i < r->n_query; i++) {
		if (strcmp(r->query[i].key, "keys") != 0 || v != NULL) {
			mg_reply_error(r, 400, "invalid_query",
					json_pack("{s:o, s:[s]}", "parameter",
							mg_json_str(r->query[i].key), "accepted",
							"keys"),
					"query parameter '%.64s': %s", r->query[i].key,
					v != NULL ? "given twice" : "unknown (accepted: keys)");
			return NULL;
		}
		v = r->query[i].value;
	}
	if (v == NULL || v[0] == '\0' || r->query_overflow)
		mg_reply_error(r, 400, "invalid_query",
				json_pack("{s:s, s:[s]}", "parameter", "keys", "accepted", "keys"),
				"query parameter 'keys' is required: the keys to remove, separated by "
				"commas (?keys=10.0.0.0/8,192.0.2.1)");
	return v == NULL || v[0] == '\0' || r->query_overflow ? NULL : v;
}

/* DELETE ?keys=K1,K2,...: remove, all or none (every key must be there). */
void
mg_h_bpf_map_delete(struct mg_req *r)
{
	json_t *entries = NULL, *out = NULL, *details = NULL;
	char err[1024] = "", key[64];
	const char *keys, *k;
	uint64_t op = 0;
	size_t n = 0;
	int rc;

	if (!name_ok(r) || (keys = keys_param(r)) == NULL)
		return;
	entries = json_array();
	for (k = keys; entries != NULL; n++) {
		size_t len = strcspn(k, ",");

		if (len == 0 || len >= sizeof(key) || n == RL_BPF_MAP_BATCH_MAX) {
			snprintf(key, sizeof(key), "keys[%zu]", n);
			mg_reply_error(r, 400, "invalid_query",
					json_pack("{s:s, s:s}", "parameter", "keys", "member", key),
					"query parameter 'keys': %s",
					n == RL_BPF_MAP_BATCH_MAX ? "at most 4096 keys"
					: len == 0 ? "an empty key (two commas, or one at an end)"
						   : "a key of 64 bytes or more");
			goto out;
		}
		memcpy(key, k, len);
		key[len] = '\0';
		json_array_append_new(entries, json_pack("{s:s}", "key", key));
		if (k[len] == '\0')
			break;
		k += len + 1;
	}
	if (entries == NULL) {
		mg_reply_errno(r, -ENOMEM, "change the map", NULL, NULL);
		goto out;
	}
	snprintf(r->audit, sizeof(r->audit), "bpf map %.31s: delete %zu entries (%.150s)",
			r->params[0], json_array_size(entries), keys);
	rc = ctl_api_bpf_map_change(r->ctx, r->params[0], entries, true, r->id.name, &op, &out,
			&details, err, sizeof(err));
	if (rc == -EINPROGRESS) {
		mg_reply_operation(r, "change the map", op);
	} else if (rc == -EINVAL) {
		mg_reply_error(r, 400, "invalid_query", details, "%s", err);
		details = NULL;
	} else if (rc != 0) {
		mg_reply_errno(r, rc, "change the map", err, NULL);
	} else {
		mg_reply_json(r, 200, out);
		out = NULL;
	}
out:
	json_decref(details);
	json_decref(out);
	json_decref(entries);
}

/* ---------------------------------------------------------------------------------------- */
/* Uploaded programs (docs/BPF.md, "Uploading programs")                                     */

struct prog_query {
	const char *name;
	int apply; /* upload: 1 to put it in force at once */
};

static const struct mg_qparam prog_params[] = {
	{ "name", MG_QT_STR, offsetof(struct prog_query, name), 0, CTL_BPF_PROG_NAME_MAX, NULL },
	{ 0 },
};

static const char *const bool_names[] = { "false", "true", NULL };

static const struct mg_qparam upload_params[] = {
	{ "name", MG_QT_STR, offsetof(struct prog_query, name), 0, CTL_BPF_PROG_NAME_MAX, NULL },
	{ "apply", MG_QT_ENUM, offsetof(struct prog_query, apply), 0, 0, bool_names },
	{ 0 },
};

static bool
prog_name_ok(struct mg_req *r, const char *where, const char *name)
{
	if (name == NULL || ctl_bpf_prog_name_ok(name))
		return true;
	mg_reply_error(r, 400, strcmp(where, "path") == 0 ? "invalid_path" : "invalid_query",
			json_pack("{s:s, s:o}", "parameter", "name", "value", mg_json_str(name)),
			"'%.80s' is not a program name (lower-case letters, digits, '_' and '-', 1 "
			"to %u)",
			name, CTL_BPF_PROG_NAME_MAX);
	return false;
}

/* GET ?name=: the uploads, newest first. */
void
mg_h_bpf_programs(struct mg_req *r)
{
	struct prog_query q = { 0 };
	char err[512] = "";
	json_t *j = NULL;
	int rc;

	if (mg_query_parse(r, prog_params, &q) != 0 || !prog_name_ok(r, "query", q.name))
		return;
	rc = ctl_api_bpf_programs(r->ctx, q.name, &j, err, sizeof(err));
	if (rc != 0)
		mg_reply_errno(r, rc, "list the uploaded programs", err, NULL);
	else
		mg_reply_json(r, 200, j);
}

/* The body of an upload or a validation: the object, and its maps declaration if any. */
struct prog_body {
	const void *obj;
	size_t len;
	const char *maps; /* NULL: none */
	size_t maps_len;
	unsigned char *buf; /* the decoded object (JSON) */
	json_t *json;
};

static void
prog_body_free(struct prog_body *b)
{
	free(b->buf);
	json_decref(b->json);
}

/* base64 text into a new buffer (*out, *len); false when it is not base64. */
static bool
base64_decode(const char *s, size_t n, unsigned char **out, size_t *len)
{
	int k;
	size_t pad = 0;

	*out = NULL;
	if (n == 0 || n % 4 != 0 || n > INT_MAX)
		return false;
	pad = (s[n - 1] == '=') + (s[n - 2] == '=');
	*out = malloc(n / 4 * 3 + 1);
	if (*out == NULL)
		return false;
	k = EVP_DecodeBlock(*out, (const unsigned char *)s, (int)n);
	if (k < 0 || (size_t)k < pad) {
		free(*out);
		*out = NULL;
		return false;
	}
	*len = (size_t)k - pad;
	return true;
}

/*
 * application/octet-stream: the ELF object alone. application/json: {"object": base64 of the
 * object, "maps": the program's maps declaration (a prog.maps.yaml's text), optional}. Replies
 * and returns false when the body is neither, or out of bounds.
 */
static bool
prog_body(struct mg_req *r, struct prog_body *b)
{
	static const struct mg_bfield fields[] = {
		{ "object", MG_BT_STRING, true, 4, (CTL_BPF_PROG_MAX_SIZE + 2) / 3 * 4 },
		{ "maps", MG_BT_STRING, false, 1, CTL_BPF_PROG_MAPS_MAX },
		{ 0 },
	};

	memset(b, 0, sizeof(*b));
	if (mg_body_is_json(r)) {
		const char *o;

		b->json = mg_body_parse(r, fields);
		if (b->json == NULL)
			return false;
		o = mg_body_str(b->json, "object");
		if (!base64_decode(o, strlen(o), &b->buf, &b->len) || b->len == 0 ||
				b->len > CTL_BPF_PROG_MAX_SIZE) {
			mg_reply_error(r, 400, "invalid_body",
					json_pack("{s:s}", "member", "object"),
					"request body: object: the eBPF object in base64 (1 to %u "
					"bytes once decoded)",
					CTL_BPF_PROG_MAX_SIZE);
			prog_body_free(b);
			return false;
		}
		b->obj = b->buf;
		b->maps = mg_body_str(b->json, "maps");
		b->maps_len = b->maps != NULL ? strlen(b->maps) : 0;
		return true;
	}
	if (!mg_body_is_binary(r)) {
		mg_reply_error(r, 415, "unsupported_media_type",
				json_pack("{s:[s, s]}", "accepted", "application/octet-stream",
						"application/json"),
				"send the eBPF object (an ELF file from clang -target bpf) with "
				"Content-Type application/octet-stream, or with its maps as "
				"application/json {\"object\": base64, \"maps\": YAML} (got %.80s)",
				r->content_type != NULL ? r->content_type : "none");
		return false;
	}
	if (r->body == NULL || r->body_len == 0 || r->body_len > CTL_BPF_PROG_MAX_SIZE) {
		mg_reply_error(r, 400, "invalid_body",
				json_pack("{s:I}", "max_size", (json_int_t)CTL_BPF_PROG_MAX_SIZE),
				"request body: an eBPF object of 1 to %u bytes",
				CTL_BPF_PROG_MAX_SIZE);
		return false;
	}
	b->obj = r->body;
	b->len = r->body_len;
	return true;
}

/* POST validate, the ELF object (with its maps, as JSON): checked by the loader, nothing kept. */
void
mg_h_bpf_program_validate(struct mg_req *r)
{
	char err[1536] = "";
	struct prog_body b;
	json_t *j = NULL;
	int rc;

	if (mg_query_parse(r, no_params, NULL) != 0 || !prog_body(r, &b))
		return;
	rc = ctl_api_bpf_validate(r->ctx, b.obj, b.len, b.maps, b.maps_len, &j, err, sizeof(err));
	if (rc == -EINVAL)
		mg_reply_error(r, 422, "validation_failed", json_pack("{s:s}", "reason", err),
				"the program is refused: %s", err);
	else if (rc != 0)
		mg_reply_errno(r, rc, "validate the program", err, NULL);
	else
		mg_reply_json(r, 200, j);
	prog_body_free(&b);
}

/* POST ?name=&apply=, the ELF object (application/octet-stream, or with its maps as JSON):
 * checked, then kept; with apply=true, a policy in force that follows the name is compiled again
 * at once, as for a rollback. */
void
mg_h_bpf_program_upload(struct mg_req *r)
{
	struct prog_query q = { 0 };
	char err[1536] = "";
	struct prog_body b;
	json_t *j = NULL, *pol;
	uint64_t op = 0;
	size_t used;
	int rc;

	if (mg_query_parse(r, upload_params, &q) != 0 || !prog_name_ok(r, "query", q.name))
		return;
	if (q.apply && q.name == NULL) {
		mg_reply_error(r, 400, "invalid_query",
				json_pack("{s:s, s:[s, s]}", "parameter", "apply", "accepted",
						"name", "apply"),
				"query parameter 'apply': an upload is put in force through its name "
				"(`upload:NAME` in the policy): give name= with apply=true");
		return;
	}
	if (!prog_body(r, &b))
		return;
	snprintf(r->audit, sizeof(r->audit), "bpf program upload%s%s: %zu bytes%s%s",
			q.name != NULL ? " " : "", q.name != NULL ? q.name : "", b.len,
			b.maps != NULL ? " with maps" : "", q.apply ? ", apply" : "");
	rc = ctl_api_bpf_upload(r->ctx, q.name, b.obj, b.len, b.maps, b.maps_len, q.apply != 0,
			r->id.name, &op, &j, err, sizeof(err));
	if (rc == -EINVAL || rc == -ENOEXEC) {
		/* The loader refused the object, or the policy in force refused it (apply). */
		mg_reply_error(r, 422, "validation_failed", json_pack("{s:s}", "reason", err),
				rc == -EINVAL ? "the program is refused: %s" : "%s", err);
	} else if (rc == -EINPROGRESS) {
		mg_reply_operation(r, "put the upload in force", op);
	} else if (rc != 0) {
		mg_reply_errno(r, rc, "upload the program", err, NULL);
	} else {
		snprintf(r->audit, sizeof(r->audit),
				"bpf program upload%s%s: sha256 %.64s, %zu bytes%s%s",
				q.name != NULL ? " " : "", q.name != NULL ? q.name : "",
				json_string_value(json_object_get(j, "sha256")), b.len,
				b.maps != NULL ? " with maps" : "",
				json_is_true(json_object_get(j, "unchanged"))
						? " (already uploaded)"
						: "");
		pol = json_object_get(j, "policy");
		used = strlen(r->audit);
		if (json_is_true(json_object_get(pol, "recompiled")))
			snprintf(r->audit + used, sizeof(r->audit) - used,
					"; policy recompiled: version %" JSON_INTEGER_FORMAT,
					json_integer_value(json_object_get(pol, "version")));
		else if (pol != NULL)
			snprintf(r->audit + used, sizeof(r->audit) - used,
					"; policy not recompiled");
		mg_reply_json(r, json_is_true(json_object_get(j, "unchanged")) ? 200 : 201, j);
	}
	prog_body_free(&b);
}

/* POST /{name}/rollback {"sha256": HEX}: the name points at that earlier upload again, and a
 * policy in force that follows the name is compiled again at once. */
void
mg_h_bpf_program_rollback(struct mg_req *r)
{
	static const struct mg_bfield fields[] = {
		{ "sha256", MG_BT_STRING, true, 64, 64 },
		{ 0 },
	};
	char err[1024] = "";
	json_t *o, *j = NULL;
	const char *sha;
	uint64_t op = 0;
	int rc;

	if (mg_query_parse(r, no_params, NULL) != 0 || !prog_name_ok(r, "path", r->params[0]))
		return;
	o = mg_body_parse(r, fields);
	if (o == NULL)
		return;
	sha = mg_body_str(o, "sha256");
	snprintf(r->audit, sizeof(r->audit), "bpf program %.64s: rollback to sha256 %.64s",
			r->params[0], sha);
	rc = ctl_api_bpf_program_select(
			r->ctx, r->params[0], sha, r->id.name, &op, &j, err, sizeof(err));
	if (rc == -EINPROGRESS)
		mg_reply_operation(r, "roll the program back", op);
	else if (rc == -EINVAL)
		mg_reply_error(r, 400, "invalid_body", json_pack("{s:s}", "member", "sha256"),
				"request body: sha256: %s", err);
	else if (rc == -ENOEXEC)
		mg_reply_error(r, 422, "validation_failed", json_pack("{s:s}", "reason", err), "%s",
				err);
	else if (rc != 0)
		mg_reply_errno(r, rc, "roll the program back", err, NULL);
	else
		mg_reply_json(r, 200, j);
	json_decref(o);
}

/* DELETE /{sha256}: the upload goes, unless the policy in force runs it (409). */
void
mg_h_bpf_program_delete(struct mg_req *r)
{
	char err[1024] = "";
	json_t *j = NULL;
	int rc;

	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	snprintf(r->audit, sizeof(r->audit), "bpf program delete sha256 %.64s", r->params[0]);
	rc = ctl_api_bpf_program_delete(r->ctx, r->params[0], &j, err, sizeof(err));
	if (rc == -EINVAL)
		mg_reply_error(r, 400, "invalid_path", json_pack("{s:s}", "parameter", "sha256"),
				"path: sha256: %s", err);
	else if (rc != 0)
		mg_reply_errno(r, rc, "delete the upload", err, NULL);
	else
		mg_reply_json(r, 200, j);
}
