/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The route table: method, path, least role, flags and handler of every operation of
 * mgmt/openapi.json (test_mg_routes checks that the two agree).
 */
#include "mg_handlers.h"
#include "mg_route.h"

#define GET(p, role, fn)                    \
	{                                   \
		"GET", p, role, 0, fn, NULL \
	}
#define GET_FAST(p, role, fn)                        \
	{                                            \
		"GET", p, role, MG_RF_FAST, fn, NULL \
	}
#define POST_READ(p, role, fn)                        \
	{                                             \
		"POST", p, role, MG_RF_BODY, fn, NULL \
	}
#define WRITE(m, p, role, fn, target)                            \
	{                                                        \
		m, p, role, MG_RF_BODY | MG_RF_WRITE, fn, target \
	}
#define WRITE_NOBODY(m, p, role, fn, target)        \
	{                                           \
		m, p, role, MG_RF_WRITE, fn, target \
	}

const struct mg_route mg_routes[] = {
	/* System: answered on the I/O threads. */
	GET_FAST("/api/v1/health", MG_ROLE_NONE, mg_h_health),
	GET_FAST("/api/v1/ready", MG_ROLE_NONE, mg_h_ready),
	GET_FAST("/api/v1/openapi.json", MG_ROLE_NONE, mg_h_openapi),
	GET_FAST("/api/v1/status", MG_ROLE_VIEWER, mg_h_status),
	GET_FAST("/api/v1/workers", MG_ROLE_VIEWER, mg_h_workers),
	GET_FAST("/api/v1/metrics", MG_ROLE_VIEWER, mg_h_metrics),
	/* Where Prometheus looks by default. */
	GET_FAST("/metrics", MG_ROLE_VIEWER, mg_h_metrics),
	GET_FAST("/api/v1/mode", MG_ROLE_VIEWER, mg_h_mode_get),
	WRITE("PUT", "/api/v1/mode", MG_ROLE_OPERATOR, mg_h_mode_set, "mode"),
	GET("/api/v1/operations/{id}", MG_ROLE_VIEWER, mg_h_operation),

	/* The policy. */
	GET("/api/v1/policy", MG_ROLE_VIEWER, mg_h_policy_get),
	WRITE("PUT", "/api/v1/policy", MG_ROLE_ADMIN, mg_h_policy_put, "policy"),
	POST_READ("/api/v1/policy/validate", MG_ROLE_OPERATOR, mg_h_policy_validate),
	POST_READ("/api/v1/policy/preview", MG_ROLE_OPERATOR, mg_h_policy_preview),
	GET("/api/v1/policy/versions", MG_ROLE_VIEWER, mg_h_policy_versions),
	GET("/api/v1/policy/versions/{version}", MG_ROLE_VIEWER, mg_h_policy_version),
	WRITE("POST", "/api/v1/policy/rollback", MG_ROLE_ADMIN, mg_h_policy_rollback, "policy"),
	GET("/api/v1/rules/counters", MG_ROLE_VIEWER, mg_h_rule_counters),
	WRITE("PUT", "/api/v1/policy/rules/{name}/mode", MG_ROLE_ADMIN, mg_h_policy_rule_mode,
			"policy"),

	/* Learning mode (started and stopped with the mode). */
	GET("/api/v1/learn", MG_ROLE_VIEWER, mg_h_learn_get),
	GET("/api/v1/learn/proposal", MG_ROLE_VIEWER, mg_h_learn_proposal),
	WRITE("PUT", "/api/v1/learn/exclusions", MG_ROLE_OPERATOR, mg_h_learn_exclusions, "learn"),

	/* The eBPF programs' maps. */
	GET("/api/v1/bpf/maps", MG_ROLE_VIEWER, mg_h_bpf_maps),
	GET("/api/v1/bpf/maps/{name}/entries", MG_ROLE_VIEWER, mg_h_bpf_map_entries),
	WRITE("PUT", "/api/v1/bpf/maps/{name}/entries", MG_ROLE_OPERATOR, mg_h_bpf_map_put,
			"bpf_map"),
	WRITE_NOBODY("DELETE", "/api/v1/bpf/maps/{name}/entries", MG_ROLE_OPERATOR,
			mg_h_bpf_map_delete, "bpf_map"),
	/* Uploaded eBPF programs. */
	GET("/api/v1/bpf/programs", MG_ROLE_VIEWER, mg_h_bpf_programs),
	WRITE("POST", "/api/v1/bpf/programs", MG_ROLE_ADMIN, mg_h_bpf_program_upload,
			"bpf_program"),
	POST_READ("/api/v1/bpf/programs/validate", MG_ROLE_OPERATOR, mg_h_bpf_program_validate),
	WRITE("POST", "/api/v1/bpf/programs/{name}/rollback", MG_ROLE_ADMIN,
			mg_h_bpf_program_rollback, "bpf_program"),
	WRITE_NOBODY("DELETE", "/api/v1/bpf/programs/{sha256}", MG_ROLE_ADMIN,
			mg_h_bpf_program_delete, "bpf_program"),

	/* The signature set. */
	GET("/api/v1/signatures", MG_ROLE_VIEWER, mg_h_signatures_get),
	WRITE("PUT", "/api/v1/signatures", MG_ROLE_ADMIN, mg_h_signatures_put, "signatures"),
	POST_READ("/api/v1/signatures/validate", MG_ROLE_OPERATOR, mg_h_signatures_validate),
	GET("/api/v1/signatures/versions", MG_ROLE_VIEWER, mg_h_signatures_versions),
	GET("/api/v1/signatures/versions/{version}", MG_ROLE_VIEWER, mg_h_signatures_version),
	WRITE("POST", "/api/v1/signatures/rollback", MG_ROLE_ADMIN, mg_h_signatures_rollback,
			"signatures"),
	GET("/api/v1/signatures/report", MG_ROLE_VIEWER, mg_h_signatures_report),

	/* Flows, alerts, history. */
	GET("/api/v1/flows", MG_ROLE_VIEWER, mg_h_flows),
	GET("/api/v1/flows/history", MG_ROLE_VIEWER, mg_h_flows_history),
	GET("/api/v1/alerts", MG_ROLE_VIEWER, mg_h_alerts),
	GET("/api/v1/alerts/{uid}", MG_ROLE_VIEWER, mg_h_alert),
	GET("/api/v1/anomalies", MG_ROLE_VIEWER, mg_h_anomalies),

	/* Blocklist and audit log. */
	GET("/api/v1/blocklist", MG_ROLE_VIEWER, mg_h_blocklist),
	WRITE("POST", "/api/v1/blocklist", MG_ROLE_OPERATOR, mg_h_block_add, "blocklist"),
	WRITE_NOBODY("DELETE", "/api/v1/blocklist/{address}", MG_ROLE_OPERATOR, mg_h_block_remove,
			"blocklist"),
	GET("/api/v1/audit", MG_ROLE_ADMIN, mg_h_audit),
	{ NULL, NULL, 0, 0, NULL, NULL },
};
