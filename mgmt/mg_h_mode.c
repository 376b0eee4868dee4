/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PUT /api/v1/mode: enforce verdicts, only count what they would do (dry-run), or learn; for the
 * whole dataplane, or with "pair" (a port name) for that port's pair alone.
 */
#include <string.h>

#include "ctl_api.h"
#include "mg_body.h"
#include "mg_handlers.h"
#include "mg_query.h"

void
mg_h_mode_set(struct mg_req *r)
{
	static const struct mg_qparam no_params[] = { { 0 } };
	static const struct mg_bfield fields[] = {
		{ "mode", MG_BT_STRING, true, 1, 32 },
		{ "pair", MG_BT_STRING, false, 1, 31 },
		{ 0 },
	};
	char err[256] = "", before[16];
	uint64_t op = 0;
	const char *mode, *pair;
	json_t *o;
	int rc;

	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	o = mg_body_parse(r, fields);
	if (o == NULL)
		return;
	mode = mg_body_str(o, "mode");
	pair = mg_body_str(o, "pair");
	if (pair != NULL)
		snprintf(r->audit, sizeof(r->audit), "mode=%.32s pair=%.31s", mode, pair);
	else
		snprintf(r->audit, sizeof(r->audit), "mode=%.32s", mode);
	if (strcmp(mode, "enforce") != 0 && strcmp(mode, "dry-run") != 0 &&
			strcmp(mode, "learn") != 0) {
		mg_reply_error(r, 400, "invalid_body",
				json_pack("{s:s, s:[s, s, s]}", "member", "mode", "accepted",
						"enforce", "dry-run", "learn"),
				"request body: 'mode' must be enforce, dry-run or learn");
		json_decref(o);
		return;
	}
	snprintf(before, sizeof(before), "%s", ctl_api_mode(r->ctx));
	rc = pair != NULL ? ctl_api_set_pair_mode(
					    r->ctx, mode, pair, r->id.name, &op, err, sizeof(err))
			  : ctl_api_set_mode(r->ctx, mode, r->id.name, &op, err, sizeof(err));
	if (rc == -EINPROGRESS)
		mg_reply_operation(r, "set the mode", op);
	else if (rc != 0)
		mg_reply_errno(r, rc, "set the mode", err, NULL);
	else
		mg_reply_json(r, 200,
				json_pack("{s:s, s:s, s:o}", "mode", ctl_api_mode(r->ctx),
						"previous", before, "pairs",
						ctl_api_pair_modes(r->ctx)));
	json_decref(o);
}
