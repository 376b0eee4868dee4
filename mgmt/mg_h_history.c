/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the store remembers: flow history, alerts, anomalies, the audit log and stored
 * policy/signature versions. Each request borrows a read-only SQLite connection from the
 * server's pool; the control lcore remains the only writer.
 *
 * Lists are {"items": [...], "next_cursor": n|null}: pass next_cursor back as cursor for the
 * next (older) page.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_alert.h"
#include "ctl_api.h"
#include "ctl_store.h"
#include "mg_handlers.h"
#include "mg_query.h"
#include "mg_server.h"

#define MG_NS_PER_S 1000000000LL

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

static void
reply_list(struct mg_req *r, json_t *items, int64_t next, const char *what, const char *err)
{
	if (items == NULL) {
		mg_reply_error(r, 500, "internal", NULL, "cannot %s: store: %s", what, err);
		return;
	}
	mg_reply_json(r, 200,
			json_pack("{s:o, s:o}", "items", items, "next_cursor",
					next > 0 ? json_integer((json_int_t)next) : json_null()));
}

static const char *const verdict_names[] = { "none", "allow", "drop", "reject", "rate-limit",
	NULL };

struct flow_hist_query {
	int64_t since_ns;
	int64_t until_ns;
	struct mg_addr src;
	struct mg_addr dst;
	int64_t dport;
	int proto;
	int verdict;
	int app_proto;
	uint32_t limit;
};

void
mg_h_flows_history(struct mg_req *r)
{
	static const struct mg_qparam params[] = {
		{ "since", MG_QT_TIME, offsetof(struct flow_hist_query, since_ns), 0, 0, NULL },
		{ "until", MG_QT_TIME, offsetof(struct flow_hist_query, until_ns), 0, 0, NULL },
		{ "src", MG_QT_ADDR, offsetof(struct flow_hist_query, src), 0, 0, NULL },
		{ "dst", MG_QT_ADDR, offsetof(struct flow_hist_query, dst), 0, 0, NULL },
		{ "dport", MG_QT_I64, offsetof(struct flow_hist_query, dport), 0, 65535, NULL },
		{ "proto", MG_QT_PROTO, offsetof(struct flow_hist_query, proto), 0, 0, NULL },
		{ "verdict", MG_QT_ENUM, offsetof(struct flow_hist_query, verdict), 0, 0,
				verdict_names },
		{ "app_proto", MG_QT_ENUM, offsetof(struct flow_hist_query, app_proto), 0, 0,
				mg_app_proto_names },
		{ "limit", MG_QT_U32, offsetof(struct flow_hist_query, limit), 1, 10000, NULL },
		{ 0 },
	};
	struct flow_hist_query q = {
		.dport = -1, .proto = -1, .verdict = -1, .app_proto = -1, .limit = 1000
	};
	struct ctl_flow_query fq;
	struct ctl_store_reader *rd;
	char err[256] = "";
	json_t *items;

	if (mg_query_parse(r, params, &q) != 0)
		return;
	rd = reader(r, "read the flow history");
	if (rd == NULL)
		return;
	memset(&fq, 0, sizeof(fq));
	fq.since = q.since_ns / MG_NS_PER_S;
	/* until is exclusive in whole seconds: round a fraction up so that it stays included. */
	fq.until = q.until_ns ? (q.until_ns + MG_NS_PER_S - 1) / MG_NS_PER_S : 0;
	fq.src = q.src.family ? q.src.text : NULL;
	fq.dst = q.dst.family ? q.dst.text : NULL;
	fq.dport = (int)q.dport;
	fq.proto = q.proto;
	fq.verdict = q.verdict;
	fq.app_proto = q.app_proto >= 0 ? mg_app_proto_names[q.app_proto] : NULL;
	fq.limit = q.limit;
	items = ctl_store_query_flows(rd, &fq, err, sizeof(err));
	mg_server_reader_put(r->srv, rd);
	reply_list(r, items, 0, "read the flow history", err);
}

struct alert_query {
	int64_t since_ns;
	int64_t until_ns;
	const char *severity;
	int kind;
	struct mg_addr src;
	struct mg_addr dst;
	int64_t sid;
	int app_proto;
	uint32_t limit;
	int64_t cursor;
};

void
mg_h_alerts(struct mg_req *r)
{
	static const char *const kinds[] = { "signature", "anomaly", NULL };
	static const struct mg_qparam params[] = {
		{ "since", MG_QT_TIME, offsetof(struct alert_query, since_ns), 0, 0, NULL },
		{ "until", MG_QT_TIME, offsetof(struct alert_query, until_ns), 0, 0, NULL },
		{ "severity", MG_QT_STR, offsetof(struct alert_query, severity), 0, 16, NULL },
		{ "kind", MG_QT_ENUM, offsetof(struct alert_query, kind), 0, 0, kinds },
		{ "src", MG_QT_ADDR, offsetof(struct alert_query, src), 0, 0, NULL },
		{ "dst", MG_QT_ADDR, offsetof(struct alert_query, dst), 0, 0, NULL },
		{ "sid", MG_QT_I64, offsetof(struct alert_query, sid), 1, UINT32_MAX, NULL },
		{ "app_proto", MG_QT_ENUM, offsetof(struct alert_query, app_proto), 0, 0,
				mg_app_proto_names },
		{ "limit", MG_QT_U32, offsetof(struct alert_query, limit), 1, 1000, NULL },
		{ "cursor", MG_QT_I64, offsetof(struct alert_query, cursor), 1, INT64_MAX, NULL },
		{ 0 },
	};
	struct alert_query q = { .kind = -1, .app_proto = -1, .limit = 100 };
	struct ctl_alert_query aq;
	struct ctl_store_reader *rd;
	enum ctl_severity sev = 0;
	char err[256] = "";
	int64_t next = 0;
	json_t *items;

	if (mg_query_parse(r, params, &q) != 0)
		return;
	if (q.severity != NULL && ctl_severity_parse(q.severity, &sev) != 0) {
		mg_reply_error(r, 400, "invalid_query",
				json_pack("{s:s, s:o, s:s}", "parameter", "severity", "value",
						mg_json_str(q.severity), "expected",
						"low, medium, high or critical"),
				"query parameter 'severity': '%s' is not low, medium, high or "
				"critical (alerts at this severity or above are listed)",
				q.severity);
		return;
	}
	rd = reader(r, "read the alerts");
	if (rd == NULL)
		return;
	memset(&aq, 0, sizeof(aq));
	aq.since_ns = q.since_ns;
	aq.until_ns = q.until_ns;
	aq.min_severity = (int)sev;
	aq.kind = q.kind >= 0 ? kinds[q.kind] : NULL;
	aq.src = q.src.family ? q.src.text : NULL;
	aq.dst = q.dst.family ? q.dst.text : NULL;
	aq.sid = (uint32_t)q.sid;
	aq.app_proto = q.app_proto >= 0 ? mg_app_proto_names[q.app_proto] : NULL;
	aq.limit = q.limit;
	aq.cursor = q.cursor;
	items = ctl_store_query_alerts(rd, &aq, &next, err, sizeof(err));
	mg_server_reader_put(r->srv, rd);
	reply_list(r, items, next, "read the alerts", err);
}

/* One alert by its uid (vigil.uid in the EVE log and the webhook). */
void
mg_h_alert(struct mg_req *r)
{
	static const struct mg_qparam no_params[] = { { 0 } };
	struct ctl_store_reader *rd;
	char err[256] = "", *end;
	long long uid;
	json_t *j;

	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	errno = 0;
	uid = strtoll(r->params[0], &end, 10);
	if (errno != 0 || *end != '\0' || uid < 1 || r->params[0][0] == '+' ||
			r->params[0][0] == ' ') {
		mg_reply_error(r, 400, "invalid_path",
				json_pack("{s:s, s:o}", "parameter", "uid", "value",
						mg_json_str(r->params[0])),
				"'%s' is not an alert uid (a positive integer, vigil.uid of the EVE "
				"record)",
				r->params[0]);
		return;
	}
	rd = reader(r, "read the alert");
	if (rd == NULL)
		return;
	j = ctl_store_get_alert(rd, uid, err, sizeof(err));
	mg_server_reader_put(r->srv, rd);
	if (j == NULL && strncmp(err, "no alert", 8) == 0) {
		mg_reply_error(r, 404, "not_found", NULL, "no alert with uid %lld", uid);
		return;
	}
	if (j == NULL) {
		mg_reply_error(r, 500, "internal", NULL, "cannot read the alert: store: %s", err);
		return;
	}
	mg_reply_json(r, 200, j);
}

struct anomaly_query {
	int64_t since_ns;
	const char *detector;
	uint32_t limit;
	int64_t cursor;
};

void
mg_h_anomalies(struct mg_req *r)
{
	static const struct mg_qparam params[] = {
		{ "since", MG_QT_TIME, offsetof(struct anomaly_query, since_ns), 0, 0, NULL },
		{ "detector", MG_QT_STR, offsetof(struct anomaly_query, detector), 0, 23, NULL },
		{ "limit", MG_QT_U32, offsetof(struct anomaly_query, limit), 1, 1000, NULL },
		{ "cursor", MG_QT_I64, offsetof(struct anomaly_query, cursor), 1, INT64_MAX, NULL },
		{ 0 },
	};
	struct anomaly_query q = { .limit = 100 };
	struct ctl_store_reader *rd;
	char err[256] = "";
	int64_t next = 0;
	json_t *items;

	if (mg_query_parse(r, params, &q) != 0)
		return;
	rd = reader(r, "read the anomalies");
	if (rd == NULL)
		return;
	items = ctl_store_query_anomalies(
			rd, q.since_ns, q.detector, q.limit, q.cursor, &next, err, sizeof(err));
	mg_server_reader_put(r->srv, rd);
	reply_list(r, items, next, "read the anomalies", err);
}

struct audit_query {
	int64_t since_ns;
	uint32_t limit;
	int64_t cursor;
};

void
mg_h_audit(struct mg_req *r)
{
	static const struct mg_qparam params[] = {
		{ "since", MG_QT_TIME, offsetof(struct audit_query, since_ns), 0, 0, NULL },
		{ "limit", MG_QT_U32, offsetof(struct audit_query, limit), 1, 1000, NULL },
		{ "cursor", MG_QT_I64, offsetof(struct audit_query, cursor), 1, INT64_MAX, NULL },
		{ 0 },
	};
	struct audit_query q = { .limit = 100 };
	struct ctl_store_reader *rd;
	char err[256] = "";
	int64_t next = 0;
	json_t *items;

	if (mg_query_parse(r, params, &q) != 0)
		return;
	rd = reader(r, "read the audit log");
	if (rd == NULL)
		return;
	items = ctl_store_query_audit(
			rd, q.since_ns / 1000000, q.limit, q.cursor, &next, err, sizeof(err));
	mg_server_reader_put(r->srv, rd);
	reply_list(r, items, next, "read the audit log", err);
}

/* One stored version with its text; 404 unless it is a version of kind. */
static void
version_get(struct mg_req *r, const char *kind)
{
	static const struct mg_qparam no_params[] = { { 0 } };
	struct ctl_store_reader *rd;
	char err[256] = "", *end;
	long long id;
	json_t *j;
	const char *k;

	if (mg_query_parse(r, no_params, NULL) != 0)
		return;
	errno = 0;
	id = strtoll(r->params[0], &end, 10);
	if (errno != 0 || *end != '\0' || id < 1 || r->params[0][0] == '+' ||
			r->params[0][0] == ' ') {
		mg_reply_error(r, 400, "invalid_path",
				json_pack("{s:s, s:o}", "parameter", "version", "value",
						mg_json_str(r->params[0])),
				"'%s' is not a version number (1, 2, ...)", r->params[0]);
		return;
	}
	rd = reader(r, "read the version");
	if (rd == NULL)
		return;
	j = ctl_store_get_version(rd, id, err, sizeof(err));
	mg_server_reader_put(r->srv, rd);
	k = json_string_value(json_object_get(j, "kind"));
	if (j == NULL || k == NULL || strcmp(k, kind) != 0) {
		/* A missing row and a row of the other kind look the same from here. */
		json_decref(j);
		mg_reply_error(r, 404, "not_found", NULL, "no %s version %lld", kind, id);
		return;
	}
	snprintf(r->etag, sizeof(r->etag), "%lld", id);
	mg_reply_json(r, 200, j);
}

void
mg_h_policy_version(struct mg_req *r)
{
	version_get(r, "policy");
}

void
mg_h_signatures_version(struct mg_req *r)
{
	version_get(r, "signatures");
}
