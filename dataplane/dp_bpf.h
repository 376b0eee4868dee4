/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A policy rule's eBPF program on the packets of the flows it decided (docs/BPF.md): the
 * context built from the parsed packet and its flow, the program run, and its return value
 * applied to the flow (cached verdict, mark) and to the event ring (alert).
 *
 * Flows whose rule has a program carry DP_FF_BPF from their classification until the program
 * caches its answer; only their packets come here.
 */
#ifndef DP_BPF_H
#define DP_BPF_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "dp_bpf_ctx.h"
#include "dp_evq.h"
#include "dp_flow.h"
#include "dp_pkt.h"
#include "rl_bpf.h"

/* Alerts raised by programs: this gid, the program's id as sid, the rule's index + 1 as rev. */
#define DP_BPF_ALERT_GID 9000u

/* Alerts raised by pre-filters: this gid, the program's id as sid, the pre-filter's index + 1 as
 * rev. */
#define DP_BPF_PREFILTER_GID 9001u

/* What a packet gets. */
enum dp_bpf_verdict {
	DP_BPF_RULE = 0,   /* the flow's verdict (the rule's action) */
	DP_BPF_DROP = 1,   /* drop this packet */
	DP_BPF_REJECT = 2, /* drop and answer */
	DP_BPF_ALLOW = 3,  /* forward this packet */
};

/* A rule's program raised alert id (dp_bpf_packet()): the event, with the flow. */
void dp_bpf_alert(struct dp_flow_table *ft, int32_t pos, uint32_t rule, uint16_t id, bool dropped,
		unsigned dir, uint64_t now, struct dp_evq *evq);

/* The return value's flags (mark, alert, cache) applied to the flow: dp_bpf_packet()'s rare part.
 */
void dp_bpf_flags(struct rl_bpf_counters *c, struct dp_flow_table *ft, int32_t pos, uint32_t rule,
		uint64_t rc, unsigned dir, uint64_t now, struct dp_evq *evq);

/* Run prog on r as worker w, counted in c (runs, and one run in RL_BPF_TIME_EVERY timed). */
static inline uint64_t
dp_bpf_run_counted(const struct rl_bpf_prog *prog, struct rl_bpf_run *r, unsigned w,
		struct rl_bpf_counters *c)
{
	uint64_t rc;

	if (unlikely((c->runs & (RL_BPF_TIME_EVERY - 1)) == 0)) {
		uint64_t t = rte_rdtsc_precise();

		rc = rl_bpf_exec(prog, r, w);
		c->cycles += rte_rdtsc_precise() - t;
		c->timed_runs++;
	} else {
		rc = rl_bpf_exec(prog, r, w);
	}
	c->runs++;
	return rc;
}

/*
 * Run prog (rule `rule`'s) on packet m of the flow at pos, parsed as p, in direction dir (0: from
 * the initiator), on worker w at now. A cached answer becomes the flow's verdict and clears
 * DP_FF_BPF; an out-of-range return drops the packet (counted invalid). Inline: it runs on every
 * packet of a flow whose program has not cached its answer. The context gets only the parts the
 * program may read (rl_bpf_ctx_need()), and the flow's cold record is read only for its mark or
 * age.
 */
static inline enum dp_bpf_verdict
dp_bpf_packet(const struct rl_bpf_prog *prog, unsigned w, uint32_t rule, struct dp_flow_table *ft,
		int32_t pos, const struct rte_mbuf *m, const struct dp_pkt *p, unsigned dir,
		uint64_t now, struct dp_evq *evq)
{
	struct rl_bpf_counters *c = rl_bpf_counters(prog, w);
	const uint32_t need = rl_bpf_prog_run(prog)->need;
	const struct dp_flow_hot *h = dp_flow_hot_at(ft, pos);
	struct rl_bpf_run r;
	uint64_t rc, v;
	struct dp_bpf_flow_facts fl = {
		.rule = rule,
		.dir = dir,
		.pkts = (need & RL_BPF_NEED_PKTS) ? h->pkts[0] + h->pkts[1] : 0,
		.first_ns = now,
		.now_ns = now,
	};

	if (unlikely(need & (RL_BPF_NEED_MARK | RL_BPF_NEED_AGE))) {
		const struct dp_flow *f = dp_flow_at(ft, pos);

		fl.mark = f->mark;
		fl.first_ns = f->first_ns;
	}
	dp_bpf_ctx_fill(&r, p, rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &fl,
			need);
	rc = dp_bpf_run_counted(prog, &r, w, c);
	v = rc & VG_BPF_VERDICT_MASK;
	if (unlikely(!dp_bpf_rc_valid(rc))) {
		c->invalid++;
		return DP_BPF_DROP;
	}
	if (v != VG_BPF_PASS)
		c->verdict[v]++;
	if (unlikely(rc & (VG_BPF_MARK_FLAG | VG_BPF_ALERT_FLAG | VG_BPF_CACHE)))
		dp_bpf_flags(c, ft, pos, rule, rc, dir, now, evq);
	return (enum dp_bpf_verdict)v;
}

/*
 * Run pre-filter prog (the snapshot's pre-filter idx) on packet m, parsed as p, which arrived on
 * in_port, on worker w at now. No flow yet: the context's flow fields are zero (dir 0,
 * flow_pkts 0, flow_age_ns 0, mark 0) and rule_id is idx; the cache and mark flags do nothing.
 * Returns DP_BPF_RULE (the normal path: pass and allow), DP_BPF_DROP (an out-of-range return
 * too, counted invalid) or DP_BPF_REJECT; an alert goes to evq with the packet's addresses.
 */
enum dp_bpf_verdict dp_bpf_prefilter(const struct rl_bpf_prog *prog, unsigned w, uint32_t idx,
		const struct rte_mbuf *m, const struct dp_pkt *p, uint16_t in_port, uint64_t now,
		struct dp_evq *evq);

#endif /* DP_BPF_H */
