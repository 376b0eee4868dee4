/* SPDX-License-Identifier: BSD-3-Clause */
/* GET /api/v1/signatures/report: what the last signature load made of each file and rule. */
#include <errno.h>

#include "ctl_api.h"
#include "mg_handlers.h"
#include "mg_query.h"

void
mg_h_signatures_report(struct mg_req *r)
{
	static const struct mg_qparam no_params[] = { { 0 } };
	json_t *j;

	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	errno = 0;
	j = ctl_api_signature_report(r->ctx);
	if (j == NULL) {
		mg_reply_null(r, "read the signature load report",
				errno == ENOTSUP ? "the appliance was started without a "
						   "signatures: section"
						 : NULL);
		return;
	}
	mg_reply_json(r, 200, j);
}
