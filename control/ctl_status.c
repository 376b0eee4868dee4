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
 * A worker's flow counters and table. memory_per_flow is the table's bytes over its entries
 * (hot line, cold record and the share of the buckets; an IPv6 flow takes two entries).
 */
static json_t *
flows_json(const struct dp_flow_counters *f, size_t memory, uint32_t entries)
{
	json_t *ended = json_object(), *states = json_object();
	json_t *ovf = json_object(), *evicted = json_object();

	for (unsigned r = DP_END_FIN; r <= DP_END_FLUSHED; r++)
		json_object_set_new(ended, dp_end_reason_name(r),
				json_integer((json_int_t)f->ended[r]));
	for (unsigned r = 0; r < DP_OVERFLOW__COUNT; r++)
		json_object_set_new(ovf, dp_flow_overflow_name(r),
				json_integer((json_int_t)f->overflow_by[r]));
	for (unsigned c = 0; c < DP_EVICT_PROTECTED; c++)
		json_object_set_new(evicted, dp_flow_evict_class_name(c),
				json_integer((json_int_t)f->evicted_by[c]));
	for (unsigned s = 0; s < DP_TCP__COUNT; s++)
		json_object_set_new(states, dp_tcp_state_name(s),
				json_integer((json_int_t)f->per_state[s]));
	return json_pack("{s:I, s:I, s:o, s:I, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I, "
			 "s:I, s:I, s:I}",
			"active", (json_int_t)f->active, "created", (json_int_t)f->created, "ended",
			ended, "overflow", (json_int_t)f->overflow, "overflow_by", ovf,
			"evicted_by", evicted, "tcp_invalid", (json_int_t)f->tcp_invalid,
			"tcp_invalid_dropped", (json_int_t)f->tcp_invalid_dropped, "midstream",
			(json_int_t)f->midstream, "midstream_refused",
			(json_int_t)f->midstream_refused, "port_reuse", (json_int_t)f->port_reuse,
			"tcp_states", states, "memory_bytes", (json_int_t)memory, "entries",
			(json_int_t)entries, "memory_per_flow",
			(json_int_t)(entries ? memory / entries : 0), "long_keys",
			(json_int_t)f->long_keys, "bucket_moves", (json_int_t)f->bucket_moves);
}

static json_t *
parse_json(const struct dp_parse_counters *c)
{
	json_t *o = json_object();

	if (o != NULL && ctl_ctr_json(&dp_parse_ctr_set, c, o, NULL) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * The application layer of one worker: its counters, flows per detected protocol, memory, and
 * every anomaly that happened, by protocol and name (read racily, like every counter here).
 */
static json_t *
applayer_json(const struct al_ctx *c)
{
	json_t *o = json_object(), *protos = json_object(), *anoms = json_object();

	for (unsigned i = 0; i < AL_CTR__COUNT; i++)
		json_object_set_new(o, al_ctr_name((enum al_ctr)i),
				json_integer((json_int_t)al_ctx_counter(c, (enum al_ctr)i)));
	for (unsigned p = AL_PROTO_HTTP; p < AL_PROTO__COUNT; p++) {
		json_t *a = json_object();

		json_object_set_new(protos, al_proto_name((enum al_proto)p),
				json_integer((json_int_t)al_ctx_proto_flows(c, (enum al_proto)p)));
		for (unsigned id = 0; id < al_anomaly_count((enum al_proto)p); id++) {
			uint64_t n = al_ctx_anomalies(c, (enum al_proto)p, id);

			if (n > 0)
				json_object_set_new(a, al_anomaly_name((enum al_proto)p, id),
						json_integer((json_int_t)n));
		}
		if (json_object_size(a) > 0)
			json_object_set_new(anoms, al_proto_name((enum al_proto)p), a);
		else
			json_decref(a);
	}
	json_object_set_new(o, "protocols", protos);
	json_object_set_new(o, "anomalies", anoms);
	json_object_set_new(o, "memory_bytes", json_integer((json_int_t)al_ctx_mem_used(c)));
	return o;
}

/* Add every number of src into dst, recursively (objects of numbers). */
static void
sum_tree(json_t *dst, json_t *src)
{
	const char *k;
	json_t *v;

	json_object_foreach(src, k, v)
	{
		json_t *d = json_object_get(dst, k);

		if (json_is_object(v)) {
			if (d == NULL) {
				d = json_object();
				json_object_set_new(dst, k, d);
			}
			sum_tree(d, v);
		} else if (json_is_integer(v)) {
			json_object_set_new(dst, k,
					json_integer(json_integer_value(v) +
							(d != NULL ? json_integer_value(d) : 0)));
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
	json_t *o = json_object(), *ro = json_object();

	if (o == NULL || ro == NULL || ctl_ctr_json(&dp_frag_ctr_set, c, o, NULL) != 0 ||
			ctl_ctr_json(&dp_reasm_ctr_set, r, ro, NULL) != 0) {
		json_decref(o);
		json_decref(ro);
		return NULL;
	}
	json_object_set_new(o, "reassembly", ro);
	return o;
}

/* Sum an object of integers (recursively) into acc. */
static void
sum_into(json_t *acc, json_t *add)
{
	const char *k;
	json_t *v;

	json_object_foreach(add, k, v)
	{
		json_t *cur = json_object_get(acc, k);

		if (json_is_integer(v)) {
			json_object_set_new(acc, k,
					json_integer(json_integer_value(v) +
							(cur ? json_integer_value(cur) : 0)));
		} else if (json_is_object(v)) {
			if (cur == NULL) {
				cur = json_object();
				json_object_set_new(acc, k, cur);
			}
			sum_into(cur, v);
		}
	}
}

static json_t *
control_json(const struct ctl_events *ce)
{
	json_t *ev = json_object();

	if (ev == NULL ||
			ctl_ctr_json(&ctl_events_ctr_set, ctl_events_counters(ce), ev, NULL) != 0) {
		json_decref(ev);
		return NULL;
	}
	return json_pack("{s:o}", "events", ev);
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

json_t *
ctl_status_json(const struct dp *dp, const struct ctl_events *ce, const struct ctl_sigs *sigs)
{
	json_t *root = json_object();
	json_t *ports = json_array();
	json_t *workers = json_array();
	json_t *flows = json_object(), *parse = json_object(), *frags = json_object();
	json_t *policy = json_object(), *inspect = json_object(), *applayer = NULL;
	uint64_t events_sent = 0, events_lost = 0;
	struct dp_policy_counters pol = { 0 };
	struct dp_inspect_counters ins = { 0 };

	if (root == NULL || ports == NULL || workers == NULL)
		goto fail;
	for (unsigned i = 0; i < dp_n_ports(dp); i++)
		json_array_append_new(ports, port_json(dp, i));
	for (unsigned w = 0; w < dp_n_workers(dp); w++) {
		const struct dp_worker_counters *c = dp_worker_counters(dp, w);

		uint64_t sent, lost;
		json_t *fl, *pa, *fr;

		dp_worker_event_counts(dp, w, &sent, &lost);
		fl = flows_json(dp_worker_flow_counters(dp, w), dp_worker_flow_memory(dp, w),
				dp_worker_flow_entries(dp, w));
		pa = parse_json(dp_worker_parse_counters(dp, w));
		fr = frags_json(dp_worker_frag_counters(dp, w), dp_worker_reasm_counters(dp, w));
		/* One reading of the worker's policy counters, shown and summed. */
		struct dp_policy_counters wp = { 0 };
		json_t *po = json_object();

		vg_ctr_add(&dp_policy_ctr_set, &wp, &c->policy);
		vg_ctr_add(&dp_policy_ctr_set, &pol, &wp);
		if (po != NULL)
			ctl_ctr_json(&dp_policy_ctr_set, &wp, po, NULL);
		vg_ctr_add(&dp_inspect_ctr_set, &ins, dp_worker_inspect_counters(dp, w));
		const struct al_ctx *al = dp_worker_al(dp, w);
		if (al != NULL) {
			json_t *aj = applayer_json(al);

			if (applayer == NULL)
				applayer = json_object();
			sum_tree(applayer, aj);
			json_decref(aj);
		}
		sum_into(flows, fl);
		sum_into(parse, pa);
		sum_into(frags, fr);
		json_array_append_new(workers,
				json_pack("{s:i, s:i, s:o, s:o, s:o, s:o, s:{s:I, s:I}}", "id", w,
						"lcore", dp_worker_lcore(dp, w), "flows", fl,
						"parse", pa, "fragments", fr, "policy", po,
						"events", "sent", (json_int_t)sent, "lost",
						(json_int_t)lost));
		events_sent += sent;
		events_lost += lost;
		json_t *wj = json_array_get(workers, json_array_size(workers) - 1);

		json_t *tr = ctl_status_worker_traffic(dp, w);

		if (wj != NULL)
			ctl_ctr_json(&dp_worker_ctr_set, c, wj, NULL);
		json_object_update(wj, tr);
		json_decref(tr);
		if (dp_stages_enabled(dp))
			json_object_set_new(wj, "stages", stages_json(dp, w));
	}
	/* Summed over workers, the bytes per flow would add up: the whole table's instead. */
	json_int_t ent = json_integer_value(json_object_get(flows, "entries"));
	json_object_set_new(flows, "memory_per_flow",
			json_integer(ent ? json_integer_value(
							   json_object_get(flows, "memory_bytes")) /
									ent
					 : 0));
	json_object_set_new(root, "flows", flows);
	json_object_set_new(root, "parse", parse);
	json_object_set_new(root, "fragments", frags);
	ctl_ctr_json(&dp_policy_ctr_set, &pol, policy, root);
	json_object_set_new(root, "policy", policy);
	if (sigs != NULL) {
		json_object_set_new(inspect, "app_alerts", ctl_sigs_app_counters(sigs));
		json_object_set_new(inspect, "pcre_limit_hits",
				json_integer((json_int_t)ctl_sigs_limit_hits(sigs)));
	}
	ctl_ctr_json(&dp_inspect_ctr_set, &ins, inspect, root);
	json_object_set_new(root, "inspection", inspect);
	/* Exception policies: each condition's action, and the packets that met it (exceptions.
	 * packets, which the policy's and inspection's tables filled above). */
	json_t *ea = json_object();

	for (unsigned k = 0; k < VG_EXC__COUNT; k++)
		json_object_set_new(ea, vg_exc_cond_names[k],
				json_string(vg_exc_action_names[dp_exception_action(dp, k)]));
	json_object_set_new(json_object_get(root, "exceptions"), "actions", ea);
	if (applayer != NULL)
		json_object_set_new(root, "applayer", applayer);
	json_object_set_new(root, "rules", rules_json(dp));
	json_object_set_new(root, "bpf", bpf_json(dp));
	json_object_set_new(root, "bpf_prefilters", bpf_prefilters_json(dp));
	json_object_set_new(root, "mode",
			json_string(dp_mode(dp) == DP_MODE_DRY_RUN ? "dry-run" : "enforce"));
	json_object_set_new(root, "events",
			json_pack("{s:I, s:I}", "sent", (json_int_t)events_sent, "lost",
					(json_int_t)events_lost));
	if (ce != NULL)
		json_object_set_new(root, "control", control_json(ce));
	json_object_set_new(root, "version", json_string(VIGIL_VERSION));
	json_object_set_new(root, "tsc_hz", json_integer((json_int_t)rte_get_tsc_hz()));
	json_object_set_new(root, "ports", ports);
	json_object_set_new(root, "workers", workers);
	return root;
fail:
	json_decref(root);
	json_decref(ports);
	json_decref(workers);
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
