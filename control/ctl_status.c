/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "al.h"
#include "ctl_ctr.h"
#include "ctl_status.h"
#include "ctl_sigs.h"
#include "dp_evq.h"
#include "dp_flow.h"
#include "dp_frag.h"
#include "dp_inspect.h"
#include "dp_reasm.h"
#include "dp_parse.h"
#include "dp_tcp.h"
#include "rl_compile.h"

static json_t *
port_json(const struct dp *dp, unsigned i)
{
	const struct dp_port *p = dp_port(dp, i);
	struct dp_port_counters c;
	struct rte_eth_stats hw;
	json_t *o;

	dp_port_counters(dp, i, &c);
	memset(&hw, 0, sizeof(hw));
	rte_eth_stats_get(p->port_id, &hw);
	o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:{s:s, s:s}, s:I, s:I}", "name", p->cfg->name,
			"device", p->cfg->device, "driver", p->driver, "ethdev", p->port_id,
			"queues", p->n_queues, "steering", "mode", dp_steering_name(p->steering),
			"reason", p->steering_why, "rx_missed", (json_int_t)hw.imissed, "rx_nombuf",
			(json_int_t)hw.rx_nombuf);
	if (o != NULL)
		ctl_ctr_json(&dp_port_ctr_set, &c, o, NULL);
	return o;
}

/*
 * Bench mode: cycles per stage and per received packet, with the total. The stages cover a
 * busy loop (one that received packets) from the RX call to the housekeeping after the burst.
 */
static json_t *
stages_json(const struct dp *dp, unsigned w)
{
	const struct dp_worker_counters *c = dp_worker_counters(dp, w);
	uint64_t pkts = dp_worker_rx(dp, w), total = 0;
	json_t *cyc = json_object(), *per = json_object();

	for (unsigned k = 0; k < DP_ST__COUNT; k++) {
		uint64_t v = dp_read_u64(&c->stage_cycles[k]);

		total += v;
		json_object_set_new(cyc, dp_stage_name(k), json_integer((json_int_t)v));
		json_object_set_new(per, dp_stage_name(k),
				json_real(pkts ? (double)v / (double)pkts : 0.0));
	}
	json_object_set_new(per, "total", json_real(pkts ? (double)total / (double)pkts : 0.0));
	json_object_set_new(cyc, "total", json_integer((json_int_t)total));
	return json_pack("{s:I, s:o, s:o}", "packets", (json_int_t)pkts, "cycles", cyc,
			"cycles_per_packet", per);
}

/*
 * A worker's flow counters (or the sum of every worker's) and its table's size.
 * memory_per_flow is the table's bytes over its entries (hot line, cold record and the share
 * of the buckets; an IPv6 flow takes two entries).
 */
static json_t *
flows_json(const struct dp_flow_counters *f, size_t memory, uint64_t entries)
{
	return ctl_ctr_with(json_pack("{s:I, s:I, s:I}", "memory_bytes", (json_int_t)memory,
					    "entries", (json_int_t)entries, "memory_per_flow",
					    (json_int_t)(entries ? memory / entries : 0)),
			&dp_flow_ctr_set, f);
}

/*
 * Add worker c's application-layer anomalies into anoms ({protocol: {name: count}}), those that
 * happened only.
 */
static void
al_anomalies_add(const struct al_ctx *c, json_t *anoms)
{
	for (unsigned p = AL_PROTO_HTTP; p < AL_PROTO__COUNT; p++) {
		const char *pn = al_proto_name((enum al_proto)p);

		for (unsigned id = 0; id < al_anomaly_count((enum al_proto)p); id++) {
			uint64_t n = al_ctx_anomalies(c, (enum al_proto)p, id);
			const char *an = al_anomaly_name((enum al_proto)p, id);
			json_t *a = json_object_get(anoms, pn), *cur;

			if (n == 0)
				continue;
			if (a == NULL) {
				a = json_object();
				json_object_set_new(anoms, pn, a);
			}
			cur = json_object_get(a, an);
			n += cur != NULL ? (uint64_t)json_integer_value(cur) : 0;
			json_object_set_new(a, an, json_integer((json_int_t)n));
		}
	}
}

/* Per-rule counters of the policy in force (control lcore: the snapshot cannot change). */
static json_t *
rules_json(const struct dp *dp)
{
	const struct rl_snapshot *s = dp_policy(dp);
	json_t *rules = json_array();

	if (s == NULL)
		return rules;
	for (unsigned i = 0; i <= rl_snapshot_n_rules(s); i++) {
		bool dflt = i == rl_snapshot_n_rules(s);
		struct rl_counters c;

		rl_snapshot_counters_sum(s, dflt ? RL_RULE_DEFAULT : i, &c);
		json_array_append_new(rules,
				json_pack("{s:s, s:I, s:I, s:I, s:I}", "name",
						dflt ? "(default)" : rl_snapshot_rule(s, i)->name,
						"packets", (json_int_t)c.packets, "bytes",
						(json_int_t)c.bytes, "flows", (json_int_t)c.flows,
						"would_drop", (json_int_t)c.would_drop));
	}
	return rules;
}

/* A program's maps: their helpers' counters summed over the workers ("map": the name). */
static json_t *
maps_json(const struct rl_bpf_prog *prog)
{
	const struct rl_bpf_maps *ms = rl_bpf_maps(prog);
	json_t *a = json_array();

	for (unsigned k = 0; a != NULL && ms != NULL && k < ms->n; k++) {
		struct rl_bpf_map_counters c;

		rl_bpf_map_counters_sum(ms->m[k], &c);
		json_array_append_new(a,
				json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "map",
						rl_bpf_map_name(ms->m[k]), "count",
						(json_int_t)rl_bpf_map_count(ms->m[k]), "lookups",
						(json_int_t)c.lookups, "hits", (json_int_t)c.hits,
						"updates", (json_int_t)c.updates, "deletes",
						(json_int_t)c.deletes, "full", (json_int_t)c.full));
	}
	return a;
}

/* One eBPF program's description and counters, under name. */
static json_t *
prog_json(const char *name, const struct rl_bpf_prog *prog)
{
	struct rl_bpf_counters c;
	json_t *o;

	rl_bpf_counters_sum(prog, &c);
	o = json_pack("{s:s, s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}",
			"name", name, "file", rl_bpf_path(prog), "mode",
			rl_bpf_jitted(prog) ? "jit" : "interpreter", "instructions",
			(int)rl_bpf_n_insns(prog), "runs", (json_int_t)c.runs, "pass",
			(json_int_t)c.verdict[VG_BPF_PASS], "drop",
			(json_int_t)c.verdict[VG_BPF_DROP], "reject",
			(json_int_t)c.verdict[VG_BPF_REJECT], "allow",
			(json_int_t)c.verdict[VG_BPF_ALLOW], "invalid", (json_int_t)c.invalid,
			"cached", (json_int_t)c.cached, "alerts", (json_int_t)c.alerts, "marks",
			(json_int_t)c.marks, "cycles_per_run",
			c.timed_runs ? (double)c.cycles / (double)c.timed_runs : 0.0);
	if (o != NULL)
		json_object_set_new(o, "maps", maps_json(prog));
	return o;
}

/* The policy's eBPF programs, one per rule that has one: what they ran and answered. */
static json_t *
bpf_json(const struct dp *dp)
{
	const struct rl_snapshot *s = dp_policy(dp);
	json_t *progs = json_array();

	for (unsigned i = 0; s != NULL && i < rl_snapshot_n_rules(s); i++) {
		const struct rl_rule_info *ri = rl_snapshot_rule(s, i);

		if (ri->prog != NULL)
			json_array_append_new(progs, prog_json(ri->name, ri->prog));
	}
	return progs;
}

/* The policy's pre-filters: the same, with their ingress ports ("in": names; every port when
 * the pre-filter names none). */
static json_t *
bpf_prefilters_json(const struct dp *dp)
{
	const struct rl_snapshot *s = dp_policy(dp);
	json_t *progs = json_array();

	for (unsigned i = 0; s != NULL && i < rl_snapshot_n_prefilters(s); i++) {
		const struct rl_prefilter_info *pi = rl_snapshot_prefilter(s, i);
		json_t *o, *in = json_array();

		if (pi->prog == NULL)
			continue;
		for (unsigned k = 0; k < dp_n_ports(dp) && k < 32; k++)
			if (pi->in_any || (pi->in_ports >> k & 1))
				json_array_append_new(in, json_string(dp_port(dp, k)->cfg->name));
		o = prog_json(pi->name, pi->prog);
		json_object_set_new(o, "in", in);
		json_array_append_new(progs, o);
	}
	return progs;
}

static json_t *
frags_json(const struct dp_frag_counters *c, const struct dp_reasm_counters *r)
{
	json_t *o = ctl_ctr_with(json_object(), &dp_frag_ctr_set, c),
	       *ro = ctl_ctr_with(json_object(), &dp_reasm_ctr_set, r);

	if (o == NULL || ro == NULL) {
		json_decref(o);
		json_decref(ro);
		return NULL;
	}
	json_object_set_new(o, "reassembly", ro);
	return o;
}

json_t *
ctl_status_worker_traffic(const struct dp *dp, unsigned w)
{
	const struct dp_worker_counters *c = dp_worker_counters(dp, w);
	uint16_t port[VG_MAX_PORTS], queue[VG_MAX_PORTS];
	unsigned nq = dp_worker_queues(dp, w, port, queue, VG_MAX_PORTS);
	struct dp_port_counters pc[VG_MAX_PORTS], sum = { 0 };
	struct dp_handoff_counters ho = { 0 };
	json_t *queues = json_array(), *o = json_object(), *hj = json_object();

	if (queues == NULL || o == NULL || hj == NULL) {
		json_decref(queues);
		json_decref(o);
		json_decref(hj);
		return NULL;
	}
	/* Each counter read once, so that the sums are those of the queues shown. */
	memset(pc, 0, sizeof(pc));
	for (unsigned p = 0; p < dp_n_ports(dp); p++) {
		vg_ctr_add(&dp_port_ctr_set, &pc[p], &c->port[p]);
		vg_ctr_add(&dp_port_ctr_set, &sum, &pc[p]);
	}
	for (unsigned i = 0; i < nq && i < VG_MAX_PORTS; i++) {
		json_t *q = json_pack("{s:s, s:i}", "port", dp_port(dp, port[i])->cfg->name,
				"queue", queue[i]);

		if (q != NULL)
			ctl_ctr_json(&dp_port_ctr_set, &pc[port[i]], q, NULL);
		json_array_append_new(queues, q);
	}
	ctl_ctr_json(&dp_port_ctr_set, &sum, o, NULL);
	vg_ctr_add(&dp_handoff_ctr_set, &ho, &c->handoff);
	ctl_ctr_json(&dp_handoff_ctr_set, &ho, hj, NULL);
	json_object_set_new(o, "handoff", hj);
	json_object_set_new(o, "queues", queues);
	return o;
}

/* Every worker's counters of the tables, each read once: shown per worker and summed. */
struct totals {
	struct dp_flow_counters flows;
	size_t flow_memory;
	uint64_t flow_entries;
	struct dp_parse_counters parse;
	struct dp_frag_counters frags;
	struct dp_reasm_counters reasm;
	struct dp_policy_counters policy;
	struct dp_inspect_counters inspect;
	struct dp_evq_counters events;
	struct al_counters al;
	bool has_al;
};

/* Worker w's object of the report (without its traffic), its counters added into t, its
 * application layer's anomalies into anoms. */
static json_t *
worker_json(const struct dp *dp, unsigned w, struct totals *t, json_t *anoms)
{
	struct dp_flow_counters fl = { 0 };
	struct dp_parse_counters pa = { 0 };
	struct dp_frag_counters fr = { 0 };
	struct dp_reasm_counters re = { 0 };
	struct dp_policy_counters po = { 0 };
	struct dp_evq_counters ev = { 0 };
	const struct al_ctx *al = dp_worker_al(dp, w);
	size_t mem = dp_worker_flow_memory(dp, w);
	uint32_t entries = dp_worker_flow_entries(dp, w);
	json_t *o;

	vg_ctr_add(&dp_flow_ctr_set, &fl, dp_worker_flow_counters(dp, w));
	vg_ctr_add(&dp_parse_ctr_set, &pa, dp_worker_parse_counters(dp, w));
	vg_ctr_add(&dp_frag_ctr_set, &fr, dp_worker_frag_counters(dp, w));
	vg_ctr_add(&dp_reasm_ctr_set, &re, dp_worker_reasm_counters(dp, w));
	vg_ctr_add(&dp_policy_ctr_set, &po, &dp_worker_counters(dp, w)->policy);
	vg_ctr_add(&dp_evq_ctr_set, &ev, dp_worker_event_counters(dp, w));
	vg_ctr_add(&dp_flow_ctr_set, &t->flows, &fl);
	vg_ctr_add(&dp_parse_ctr_set, &t->parse, &pa);
	vg_ctr_add(&dp_frag_ctr_set, &t->frags, &fr);
	vg_ctr_add(&dp_reasm_ctr_set, &t->reasm, &re);
	vg_ctr_add(&dp_policy_ctr_set, &t->policy, &po);
	vg_ctr_add(&dp_evq_ctr_set, &t->events, &ev);
	vg_ctr_add(&dp_inspect_ctr_set, &t->inspect, dp_worker_inspect_counters(dp, w));
	t->flow_memory += mem;
	t->flow_entries += entries;
	if (al != NULL) {
		vg_ctr_add(&al_ctr_set, &t->al, al_ctx_counters(al));
		al_anomalies_add(al, anoms);
		t->has_al = true;
	}
	o = json_pack("{s:i, s:i, s:o, s:o, s:o, s:o, s:o}", "id", w, "lcore",
			dp_worker_lcore(dp, w), "flows", flows_json(&fl, mem, entries), "parse",
			ctl_ctr_with(json_object(), &dp_parse_ctr_set, &pa), "fragments",
			frags_json(&fr, &re), "policy",
			ctl_ctr_with(json_object(), &dp_policy_ctr_set, &po), "events",
			ctl_ctr_with(json_object(), &dp_evq_ctr_set, &ev));
	if (o != NULL)
		ctl_ctr_json(&dp_worker_ctr_set, dp_worker_counters(dp, w), o, NULL);
	return o;
}

/* The application layer over every worker: its table's counters, the anomalies that happened
 * and the arenas' memory. */
static json_t *
applayer_json(const struct dp *dp, const struct totals *t, json_t *anoms)
{
	json_t *o = ctl_ctr_with(json_object(), &al_ctr_set, &t->al);
	size_t mem = 0;

	for (unsigned w = 0; w < dp_n_workers(dp); w++)
		if (dp_worker_al(dp, w) != NULL)
			mem += al_ctx_mem_used(dp_worker_al(dp, w));
	json_object_set(o, "anomalies", anoms);
	json_object_set_new(o, "memory_bytes", json_integer((json_int_t)mem));
	return o;
}

json_t *
ctl_status_json(const struct dp *dp, const struct ctl_events *ce, const struct ctl_sigs *sigs)
{
	json_t *root = json_object();
	json_t *ports = json_array();
	json_t *workers = json_array();
	json_t *anoms = json_object();
	json_t *policy = json_object(), *inspect = json_object();
	struct totals t;

	if (root == NULL || ports == NULL || workers == NULL || anoms == NULL)
		goto fail;
	memset(&t, 0, sizeof(t));
	for (unsigned i = 0; i < dp_n_ports(dp); i++)
		json_array_append_new(ports, port_json(dp, i));
	for (unsigned w = 0; w < dp_n_workers(dp); w++) {
		json_t *wj = worker_json(dp, w, &t, anoms);
		json_t *tr = ctl_status_worker_traffic(dp, w);

		json_object_update(wj, tr);
		json_decref(tr);
		if (dp_stages_enabled(dp))
			json_object_set_new(wj, "stages", stages_json(dp, w));
		json_array_append_new(workers, wj);
	}
	json_object_set_new(root, "flows", flows_json(&t.flows, t.flow_memory, t.flow_entries));
	json_object_set_new(
			root, "parse", ctl_ctr_with(json_object(), &dp_parse_ctr_set, &t.parse));
	json_object_set_new(root, "fragments", frags_json(&t.frags, &t.reasm));
	ctl_ctr_json(&dp_policy_ctr_set, &t.policy, policy, root);
	json_object_set_new(root, "policy", policy);
	if (sigs != NULL) {
		json_object_set_new(inspect, "app_alerts", ctl_sigs_app_counters(sigs));
		json_object_set_new(inspect, "pcre_limit_hits",
				json_integer((json_int_t)ctl_sigs_limit_hits(sigs)));
	}
	ctl_ctr_json(&dp_inspect_ctr_set, &t.inspect, inspect, root);
	json_object_set_new(root, "inspection", inspect);
	/* Exception policies: each condition's action, and the packets that met it (exceptions.
	 * packets, which the policy's and inspection's tables filled above). */
	json_t *ea = json_object();

	for (unsigned k = 0; k < VG_EXC__COUNT; k++)
		json_object_set_new(ea, vg_exc_cond_names[k],
				json_string(vg_exc_action_names[dp_exception_action(dp, k)]));
	json_object_set_new(json_object_get(root, "exceptions"), "actions", ea);
	if (t.has_al)
		json_object_set_new(root, "applayer", applayer_json(dp, &t, anoms));
	json_decref(anoms);
	json_object_set_new(root, "rules", rules_json(dp));
	json_object_set_new(root, "bpf", bpf_json(dp));
	json_object_set_new(root, "bpf_prefilters", bpf_prefilters_json(dp));
	json_object_set_new(root, "mode",
			json_string(dp_mode(dp) == DP_MODE_DRY_RUN ? "dry-run" : "enforce"));
	json_object_set_new(
			root, "events", ctl_ctr_with(json_object(), &dp_evq_ctr_set, &t.events));
	if (ce != NULL)
		json_object_set_new(root, "control",
				json_pack("{s:o}", "events",
						ctl_ctr_with(json_object(), &ctl_events_ctr_set,
								ctl_events_counters(ce))));
	json_object_set_new(root, "version", json_string(VIGIL_VERSION));
	json_object_set_new(root, "tsc_hz", json_integer((json_int_t)rte_get_tsc_hz()));
	json_object_set_new(root, "ports", ports);
	json_object_set_new(root, "workers", workers);
	return root;
fail:
	json_decref(root);
	json_decref(ports);
	json_decref(workers);
	json_decref(anoms);
	json_decref(policy);
	json_decref(inspect);
	return NULL;
}

int
ctl_status_write(const struct dp *dp, const struct ctl_events *ce, const struct ctl_sigs *sigs,
		const char *path)
{
	char tmp[4096];
	json_t *j = ctl_status_json(dp, ce, sigs);
	int rc = 0;

	if (j == NULL)
		return -ENOMEM;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	if (json_dump_file(j, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) != 0)
		rc = -EIO;
	else if (rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0)
		unlink(tmp);
	json_decref(j);
	return rc;
}
