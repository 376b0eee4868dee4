/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A pre-filter (docs/BPF.md): runs on every IP packet of its ports before the flow table.
 *
 * - a source address that cannot be on the wire (IPv4 0/8, 127/8, 224/4 and 240/4 — multicast
 *   and reserved —, IPv6 ::/128, ::1, ff00::/8) is dropped, with alert 2;
 * - a unicast packet with an IPv4 TTL or IPv6 hop limit below MIN_TTL (a packet about to
 *   expire, or a traceroute) is rejected (TCP RST, ICMP unreachable otherwise), with alert 1;
 *   multicast destinations are left alone (IGMP and MLD are sent with 1);
 * - everything else goes on to the flow table and the rules.
 *
 * The TTL is read from the frame (ctx->l3_off: byte 8 of an IPv4 header, 7 of an IPv6 one).
 */
#include "vigil_bpf.h"

#define MIN_TTL 5

static inline int
bogon4(const vg_u8 *a)
{
	return a[0] == 0 || a[0] == 127 || a[0] >= 224;
}

static inline int
bogon6(const vg_u8 *a)
{
	vg_u8 any = 0;

	if (a[0] == 0xff)
		return 1;
#pragma unroll
	for (int i = 0; i < 15; i++)
		any |= a[i];
	return any == 0 && (a[15] == 0 || a[15] == 1);
}

static inline int
multicast(const struct vg_bpf_ctx *ctx)
{
	return ctx->family == 4 ? ctx->dst[0] >= 224 && ctx->dst[0] < 240 : ctx->dst[0] == 0xff;
}

VG_BPF_PROGRAM
prefilter_bogon(struct vg_bpf_ctx *ctx)
{
	vg_u64 ttl;

	if (ctx->family == 4 ? bogon4(ctx->src) : bogon6(ctx->src))
		return VG_BPF_DROP | VG_BPF_ALERT(2);
	if (multicast(ctx))
		return VG_BPF_PASS;
	ttl = vg_pkt_u8(ctx, (vg_u64)ctx->l3_off + (ctx->family == 4 ? 8 : 7));
	if (ttl != VG_BPF_OOB && ttl < MIN_TTL)
		return VG_BPF_REJECT | VG_BPF_ALERT(1);
	return VG_BPF_PASS;
}
