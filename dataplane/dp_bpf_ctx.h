/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The eBPF context (bpf/vigil_bpf.h) of a parsed packet. Plain C without DPDK, so that the
 * fuzzer builds contexts exactly as the dataplane does.
 */
#ifndef DP_BPF_CTX_H
#define DP_BPF_CTX_H

#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "dp_pkt.h"
#include "rl_bpf.h"

/* What the flow contributes. */
struct dp_bpf_flow_facts {
	uint32_t rule;
	unsigned dir; /* 0: from the initiator */
	uint16_t mark;
	uint32_t pkts; /* both directions, this packet included */
	uint64_t first_ns;
	uint64_t now_ns;
};

/*
 * Fill r for frame (len bytes readable) parsed as p: the parts of the context in need (enum
 * rl_bpf_need, what the program may read; RL_BPF_NEED_ALL for every field). The others are
 * left as they were: the program cannot reach them.
 */
static inline void
dp_bpf_ctx_fill(struct rl_bpf_run *r, const struct dp_pkt *p, const uint8_t *frame, uint32_t len,
		const struct dp_bpf_flow_facts *fl, uint32_t need)
{
	struct vg_bpf_ctx *c = &r->ctx;

	r->data = frame;
	r->len = len;
	if (need == 0)
		return; /* a program that reads nothing of it (one branch, not eight) */
	if (need & RL_BPF_NEED_HDR) {
		c->version = VG_BPF_CTX_VERSION;
		c->size = (uint16_t)sizeof(*c);
		c->family = p->l3;
		c->proto = p->proto;
		c->dir = (uint8_t)fl->dir;
		c->tcp_flags = p->tcp_flags;
		c->vlan = p->vlan[0];
		if (p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6) {
			c->sport = p->icmp_type;
			c->dport = p->icmp_code;
		} else {
			c->sport = p->sport;
			c->dport = p->dport;
		}
	}
	if (need & RL_BPF_NEED_MARK)
		c->mark = fl->mark;
	if (need & RL_BPF_NEED_META) {
		c->rule_id = fl->rule;
		c->pkt_len = len;
		c->l3_off = p->l3_off;
		c->l4_off = p->l4_off;
		c->payload_off = p->payload_off;
		c->pad0 = 0;
		c->payload_len = p->payload_len;
	}
	if (need & RL_BPF_NEED_PKTS)
		c->flow_pkts = fl->pkts;
	if (need & RL_BPF_NEED_AGE)
		c->flow_age_ns = fl->now_ns > fl->first_ns ? fl->now_ns - fl->first_ns : 0;
	if (need & RL_BPF_NEED_NOW)
		c->now_ns = fl->now_ns;
	if (need & RL_BPF_NEED_SRC)
		memcpy(c->src, p->src, 16);
	if (need & RL_BPF_NEED_DST)
		memcpy(c->dst, p->dst, 16);
}

/* A return value vigild applies as documented (anything else is counted invalid and drops). */
static inline int
dp_bpf_rc_valid(uint64_t rc)
{
	return (rc >> 48) == 0 && (rc & 0xff80u) == 0 && (rc & VG_BPF_VERDICT_MASK) <= VG_BPF_ALLOW;
}

#endif /* DP_BPF_CTX_H */
