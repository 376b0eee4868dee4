/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Learning mode: what a session has learnt (candidates with their evidence), the operator's
 * exclusions, and the proposed policy. The session itself starts and stops with the mode
 * (PUT /api/v1/mode {"mode": "learn"}).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_api.h"
#include "ctl_store.h"
#include "mg_body.h"
#include "mg_handlers.h"
#include "mg_query.h"
#include "mg_server.h"

static struct ctl_store_reader *
reader(struct mg_req *r, const char *what)
{
	char err[256] = "";
	struct ctl_store_reader *rd;

	errno = 0;
	rd = mg_server_reader_get(r->srv, err, sizeof(err));
	if (rd == NULL)
		mg_reply_errno(r, errno == ENOTSUP ? -ENOTSUP : -EIO, what, err, NULL);
	return rd;
}

void
mg_h_learn_get(struct mg_req *r)
{
	static const struct mg_qparam params[] = {
		{ "limit", MG_QT_U32, 0, 1, 100000, NULL },
		{ 0 },
	};
	uint32_t limit = 200;
	struct ctl_store_reader *rd;
	char err[256] = "";
	json_t *out;
	int rc;

	if (mg_query_parse(r, params, &limit) != 0)
		return;
	rd = reader(r, "read what was learnt");
	if (rd == NULL)
		return;
	errno = 0;
	rc = ctl_api_learn(r->ctx, rd, limit, &out, err, sizeof(err));
	mg_server_reader_put(r->srv, rd);
	if (rc == 0)
		mg_reply_json(r, 200, out);
	else
		mg_reply_errno(r, rc, "read what was learnt", err, NULL);
}

void
mg_h_learn_proposal(struct mg_req *r)
{
	struct {
		const char *candidates;
	} q = { NULL };
	static const struct mg_qparam params[] = {
		{ "candidates", MG_QT_STR, 0, 0, 100000, NULL },
		{ 0 },
	};
	struct ctl_store_reader *rd;
	char err[256] = "";
	struct vg_diag diag;
	json_t *out, *only = NULL;
	int rc;

	/* candidates=ID.ID...: the ids (hex) of the candidates to include; absent: all */
	if (mg_query_parse(r, params, &q) != 0)
		return;
	if (q.candidates != NULL) {
		char *copy = strdup(q.candidates), *save = NULL;

		only = json_array();
		for (char *t = copy ? strtok_r(copy, ".", &save) : NULL; t != NULL;
				t = strtok_r(NULL, ".", &save))
			json_array_append_new(only, json_string(t));
		free(copy);
	}
	rd = reader(r, "propose a policy");
	if (rd == NULL) {
		json_decref(only);
		return;
	}
	vg_diag_init(&diag);
	errno = 0;
	rc = ctl_api_learn_proposal(r->ctx, rd, only, &diag, &out, err, sizeof(err));
	mg_server_reader_put(r->srv, rd);
	if (rc == 0)
		mg_reply_json(r, 200, out);
	else
		mg_reply_errno(r, rc, "propose a policy", err, &diag);
	vg_diag_free(&diag);
	json_decref(only);
}

void
mg_h_learn_exclusions(struct mg_req *r)
{
	static const struct mg_qparam no_params[] = { { 0 } };
	char err[256] = "";
	json_t *o, *exclude;
	json_error_t je;
	uint64_t op = 0;
	int rc;

	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	if (!mg_body_is_json(r)) {
		mg_reply_error(r, 415, "unsupported_media_type",
				json_pack("{s:[s]}", "accepted", "application/json"),
				"send {\"exclude\": [...]} as application/json");
		return;
	}
	o = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
	exclude = json_object_get(o, "exclude");
	if (o == NULL || !json_is_object(o) || json_object_size(o) != 1 ||
			!json_is_array(exclude)) {
		mg_reply_error(r, 400, "invalid_body", NULL,
				"request body must be {\"exclude\": [{\"from\": [...], \"to\": [...], "
				"\"proto\": N, \"dport\": [...]}, ...]}");
		json_decref(o);
		return;
	}
	snprintf(r->audit, sizeof(r->audit), "learn exclusions: %zu", json_array_size(exclude));
	rc = ctl_api_learn_exclusions(r->ctx, exclude, r->id.name, &op, err, sizeof(err));
	if (rc == -EINPROGRESS)
		mg_reply_operation(r, "set the learning exclusions", op);
	else if (rc != 0)
		mg_reply_errno(r, rc, "set the learning exclusions", err, NULL);
	else
		mg_reply_json(r, 200, json_pack("{s:O}", "exclude", exclude));
	json_decref(o);
}
