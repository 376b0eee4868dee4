/* SPDX-License-Identifier: BSD-3-Clause */
/* A rule's eBPF program on a packet: context, run, verdict. */
#include <string.h>

#include "det_rule.h"
#include "dp_bpf.h"
#include "dp_event.h"

void
dp_bpf_alert(struct dp_flow_table *ft, int32_t pos, uint32_t rule, uint16_t id, bool dropped,
		unsigned dir, uint64_t now, struct dp_evq *evq)
{
	struct dp_event *ev = dp_evq_next(evq, DP_EV_ALERT, now);

	dp_flow_describe(ft, pos, &ev->flow);
	ev->alert.sid = id;
	ev->alert.gid = DP_BPF_ALERT_GID;
	ev->alert.rev = rule + 1;
	ev->alert.action = dropped ? DET_ACT_DROP : DET_ACT_ALERT;
	ev->alert.dropped = dropped;
	ev->alert.to_server = dir == 0;
	ev->alert.tx = 0;
	ev->alert.excerpt_len = 0;
}

void
dp_bpf_flags(struct rl_bpf_counters *c, struct dp_flow_table *ft, int32_t pos, uint32_t rule,
		uint64_t rc, unsigned dir, uint64_t now, struct dp_evq *evq)
{
	struct dp_flow_hot *h = dp_flow_hot_at(ft, pos);
	const uint64_t v = rc & VG_BPF_VERDICT_MASK;

	if (rc & VG_BPF_MARK_FLAG) {
		dp_flow_at(ft, pos)->mark = VG_BPF_MARK_VALUE(rc);
		c->marks++;
	}
	if (rc & VG_BPF_ALERT_FLAG) {
		dp_bpf_alert(ft, pos, rule, VG_BPF_ALERT_ID(rc),
				v == VG_BPF_DROP || v == VG_BPF_REJECT, dir, now, evq);
		c->alerts++;
	}
	if (rc & VG_BPF_CACHE) {
		c->cached++;
		h->flags &= (uint8_t)~DP_FF_BPF;
		if (v == VG_BPF_DROP)
			h->verdict = DP_VERDICT_DROP;
		else if (v == VG_BPF_REJECT)
			h->verdict = DP_VERDICT_REJECT;
		else if (v == VG_BPF_ALLOW)
			h->verdict = DP_VERDICT_ALLOW;
	}
}

static void
prefilter_alert(uint32_t idx, uint16_t id, bool dropped, const struct dp_pkt *p, uint16_t in_port,
		uint64_t now, struct dp_evq *evq)
{
	struct dp_event *ev = dp_evq_next(evq, DP_EV_ALERT, now);

	memset(&ev->flow, 0, sizeof(ev->flow));
	ev->flow.family = p->l3;
	ev->flow.proto = p->proto;
	ev->flow.vlan = p->vlan[0];
	ev->flow.in_port = in_port;
	ev->flow.sport = p->sport;
	ev->flow.dport = p->dport;
	ev->flow.rule_id = UINT32_MAX;
	ev->flow.verdict = dropped ? DP_VERDICT_DROP : DP_VERDICT_NONE;
	memcpy(ev->flow.src, p->src, 16);
	memcpy(ev->flow.dst, p->dst, 16);
	ev->flow.first_ns = ev->flow.last_ns = now;
	ev->alert.sid = id;
	ev->alert.gid = DP_BPF_PREFILTER_GID;
	ev->alert.rev = idx + 1;
	ev->alert.action = dropped ? DET_ACT_DROP : DET_ACT_ALERT;
	ev->alert.dropped = dropped;
	ev->alert.to_server = true;
	ev->alert.tx = 0;
	ev->alert.excerpt_len = 0;
}

enum dp_bpf_verdict
dp_bpf_prefilter(const struct rl_bpf_prog *prog, unsigned w, uint32_t idx, const struct rte_mbuf *m,
		const struct dp_pkt *p, uint16_t in_port, uint64_t now, struct dp_evq *evq)
{
	struct rl_bpf_counters *c = rl_bpf_counters(prog, w);
	struct rl_bpf_run r;
	uint64_t rc, v;
	const struct dp_bpf_flow_facts fl = { .rule = idx, .first_ns = now, .now_ns = now };

	dp_bpf_ctx_fill(&r, p, rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &fl,
			rl_bpf_prog_run(prog)->need);
	rc = dp_bpf_run_counted(prog, &r, w, c);
	if (unlikely(!dp_bpf_rc_valid(rc))) {
		c->invalid++;
		return DP_BPF_DROP;
	}
	v = rc & VG_BPF_VERDICT_MASK;
	if (v != VG_BPF_PASS)
		c->verdict[v]++;
	if (rc & VG_BPF_ALERT_FLAG) {
		prefilter_alert(idx, VG_BPF_ALERT_ID(rc), v == VG_BPF_DROP || v == VG_BPF_REJECT, p,
				in_port, now, evq);
		c->alerts++;
	}
	if (v == VG_BPF_DROP || v == VG_BPF_REJECT)
		return (enum dp_bpf_verdict)v;
	return DP_BPF_RULE;
}
