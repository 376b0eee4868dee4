/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port knocking. The rule this program is on drops (its action); a source that sends TCP SYNs
 * to the ports A, B and C in that order, each within the window of the one before, is allowed
 * to the protected port P for the window after its last knock. A SYN to P without the knocks
 * is rejected (TCP RST). A knock out of order starts the sequence again (a knock to A starts a
 * new one). The knocks themselves are dropped by the rule, as every other packet is.
 *
 * knock_config (hash, u64 keys, filled from port_knock.config.yaml): 0: A, 1: B, 2: C,
 * 3: P, 4: the window in seconds. knock_state (hash, address keys) is written by the program:
 * per source, the step reached (1 to 3) in the low 2 bits and the time of its last knock above
 * them. Every worker sees every other's writes (knocks to other ports are other flows, on
 * other workers).
 */
#include "vigil_bpf.h"

#define CONFIG 0 /* ids: the maps' order in port_knock.maps.yaml */
#define STATE  1

#define NS 1000000000ull

VG_BPF_PROGRAM
port_knock(struct vg_bpf_ctx *ctx)
{
	vg_u64 a = vg_map_lookup(ctx, CONFIG, 0, 0), b = vg_map_lookup(ctx, CONFIG, 1, 0);
	vg_u64 c = vg_map_lookup(ctx, CONFIG, 2, 0), p = vg_map_lookup(ctx, CONFIG, 3, 0);
	vg_u64 win = vg_map_lookup(ctx, CONFIG, 4, 0);
	vg_u64 k0 = VG_ADDR_K0(ctx->src), k1 = VG_ADDR_K1(ctx->src);
	vg_u64 st, step = 0;

	/* Unconfigured, a reply, or not a connection's first SYN: the rule decides. */
	if (a == VG_BPF_MAP_NONE || b == VG_BPF_MAP_NONE || c == VG_BPF_MAP_NONE ||
			p == VG_BPF_MAP_NONE || win == VG_BPF_MAP_NONE)
		return VG_BPF_PASS | VG_BPF_CACHE;
	if (ctx->proto != 6 || ctx->dir != 0 || (ctx->tcp_flags & 0x12) != 0x02)
		return VG_BPF_PASS | VG_BPF_CACHE;
	st = vg_map_lookup(ctx, STATE, k0, k1);
	if (st != VG_BPF_MAP_NONE && ctx->now_ns - (st & ~3ull) <= win * NS)
		step = st & 3;

	if (ctx->dport == p)
		return step == 3 ? VG_BPF_ALLOW | VG_BPF_CACHE : VG_BPF_REJECT | VG_BPF_CACHE;
	if (ctx->dport == a)
		step = 1;
	else if (ctx->dport == b && step == 1)
		step = 2;
	else if (ctx->dport == c && step == 2)
		step = 3;
	else if (ctx->dport == b || ctx->dport == c)
		step = 0;
	else
		return VG_BPF_PASS | VG_BPF_CACHE;
	if (step == 0)
		vg_map_delete(ctx, STATE, k0, k1);
	else
		vg_map_update(ctx, STATE, k0, k1, (ctx->now_ns & ~3ull) | step);
	return VG_BPF_PASS | VG_BPF_CACHE;
}
