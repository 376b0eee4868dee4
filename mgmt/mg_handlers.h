/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The API's handlers, one group per file (mg_h_<group>.c). Each reads what it needs from the
 * request (path parameters, query, body), calls ctl_api or a read-only store connection, and
 * replies. Handlers never touch dataplane or control state themselves.
 */
#ifndef MG_HANDLERS_H
#define MG_HANDLERS_H

#include "mg_req.h"

/* mg_h_system.c: health, readiness, status, metrics, the OpenAPI document, mode. */
void mg_h_health(struct mg_req *r);
void mg_h_ready(struct mg_req *r);
void mg_h_status(struct mg_req *r);
void mg_h_operation(struct mg_req *r);
void mg_h_metrics(struct mg_req *r);
void mg_h_openapi(struct mg_req *r);
void mg_h_mode_get(struct mg_req *r);

/* mg_h_mode.c */
void mg_h_mode_set(struct mg_req *r);

/* mg_h_text.c: the policy and the signature set. */
void mg_h_policy_get(struct mg_req *r);
void mg_h_policy_put(struct mg_req *r);
void mg_h_policy_validate(struct mg_req *r);
void mg_h_policy_versions(struct mg_req *r);
void mg_h_policy_rollback(struct mg_req *r);
void mg_h_policy_preview(struct mg_req *r);
void mg_h_policy_rule_mode(struct mg_req *r);
void mg_h_signatures_get(struct mg_req *r);
void mg_h_signatures_put(struct mg_req *r);
void mg_h_signatures_validate(struct mg_req *r);
void mg_h_signatures_versions(struct mg_req *r);
void mg_h_signatures_rollback(struct mg_req *r);

/* mg_h_sig_report.c */
void mg_h_signatures_report(struct mg_req *r);

/* mg_h_history.c as well: one stored version with its text. */
void mg_h_policy_version(struct mg_req *r);
void mg_h_signatures_version(struct mg_req *r);

/* mg_h_flows.c: active flows. */
void mg_h_flows(struct mg_req *r);

/* mg_h_history.c: what the store holds (flow history, alerts, anomalies, audit). */
void mg_h_flows_history(struct mg_req *r);
void mg_h_alerts(struct mg_req *r);
void mg_h_alert(struct mg_req *r);
void mg_h_anomalies(struct mg_req *r);
void mg_h_audit(struct mg_req *r);

/* mg_h_block.c */
void mg_h_blocklist(struct mg_req *r);
void mg_h_block_add(struct mg_req *r);
void mg_h_block_remove(struct mg_req *r);

/* mg_h_bpf.c: the eBPF programs' maps. */
void mg_h_bpf_maps(struct mg_req *r);
void mg_h_bpf_map_entries(struct mg_req *r);
void mg_h_bpf_map_put(struct mg_req *r);
void mg_h_bpf_map_delete(struct mg_req *r);
/* mg_h_bpf.c: uploaded eBPF programs. */
void mg_h_bpf_programs(struct mg_req *r);
void mg_h_bpf_program_upload(struct mg_req *r);
void mg_h_bpf_program_validate(struct mg_req *r);
void mg_h_bpf_program_rollback(struct mg_req *r);
void mg_h_bpf_program_delete(struct mg_req *r);
/* mg_h_learn.c: learning mode */
void mg_h_learn_get(struct mg_req *r);
void mg_h_learn_proposal(struct mg_req *r);
void mg_h_learn_exclusions(struct mg_req *r);

/* mg_h_counters.c */
void mg_h_rule_counters(struct mg_req *r);
void mg_h_workers(struct mg_req *r);

#endif /* MG_HANDLERS_H */
