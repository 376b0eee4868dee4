/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GET /api/v1/rules/counters: hits per policy rule and per signature. GET /api/v1/workers: each
 * worker's queues, counters, rates, flows and handoffs.
 */
#include <errno.h>

#include "ctl_api.h"
#include "mg_handlers.h"
#include "mg_query.h"

void
mg_h_rule_counters(struct mg_req *r)
{
	static const struct mg_qparam no_params[] = { { 0 } };
	json_t *j;

	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	errno = 0;
	j = ctl_api_rule_counters(r->ctx);
	if (j == NULL) {
		mg_reply_null(r, "read the rule counters", NULL);
		return;
	}
	mg_reply_json(r, 200, j);
}

void
mg_h_workers(struct mg_req *r)
{
	static const struct mg_qparam no_params[] = { { 0 } };
	json_t *j;

	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	errno = 0;
	j = ctl_api_workers(r->ctx);
	if (j == NULL) {
		mg_reply_null(r, "read the workers' counters", NULL);
		return;
	}
	mg_reply_json(r, 200, j);
}
