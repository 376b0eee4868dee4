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

#include <stdint.h>

#include <rte_mbuf.h>

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

/*
 * Run prog (rule `rule`'s) on packet m of the flow at pos, parsed as p, in direction dir (0: from
 * the initiator), on worker w at now. A cached answer becomes the flow's verdict and clears
 * DP_FF_BPF; an out-of-range return drops the packet (counted invalid).
 */
enum dp_bpf_verdict dp_bpf_packet(const struct rl_bpf_prog *prog, unsigned w, uint32_t rule,
		struct dp_flow_table *ft, int32_t pos, const struct rte_mbuf *m,
		const struct dp_pkt *p, unsigned dir, uint64_t now, struct dp_evq *evq);

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
