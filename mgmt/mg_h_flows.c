/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GET /api/v1/flows: the active flows as control last heard of them, filtered (by address, port,
 * protocol, TCP state and application protocol).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "ctl_api.h"
#include "mg_handlers.h"
#include "mg_query.h"

struct flows_query {
	struct mg_addr addr;
	int64_t port;
	int proto;
	int state;
	int app_proto;
	uint32_t limit;
};

void
mg_h_flows(struct mg_req *r)
{
	/* The states' names come from control (ctl_api_tcp_states): not a constant. */
	const struct mg_qparam params[] = {
		{ "addr", MG_QT_ADDR, offsetof(struct flows_query, addr), 0, 0, NULL },
		{ "port", MG_QT_I64, offsetof(struct flows_query, port), 0, 65535, NULL },
		{ "proto", MG_QT_PROTO, offsetof(struct flows_query, proto), 0, 0, NULL },
		{ "state", MG_QT_ENUM, offsetof(struct flows_query, state), 0, 0,
				ctl_api_tcp_states() },
		{ "app_proto", MG_QT_ENUM, offsetof(struct flows_query, app_proto), 0, 0,
				mg_app_proto_names },
		{ "limit", MG_QT_U32, offsetof(struct flows_query, limit), 1, 10000, NULL },
		{ 0 },
	};
	struct flows_query q = {
		.port = -1, .proto = -1, .state = -1, .app_proto = -1, .limit = 100
	};
	struct ctl_flow_filter f;
	json_t *j;

	if (mg_query_parse(r, params, &q) != 0)
		return;
	memset(&f, 0, sizeof(f));
	f.family = q.addr.family;
	memcpy(f.addr, q.addr.addr, sizeof(f.addr));
	f.port = (int32_t)q.port;
	f.proto = (int16_t)q.proto;
	f.state = (int16_t)q.state;
	f.app_proto = (int16_t)q.app_proto;
	errno = 0;
	j = ctl_api_flows_active(r->ctx, &f, q.limit);
	if (j == NULL) {
		mg_reply_null(r, "list the active flows", NULL);
		return;
	}
	if (json_is_array(j))
		j = json_pack("{s:o}", "items", j);
	mg_reply_json(r, 200, j);
}
