/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Allow list of private subnets: a flow whose initiator talks to a private address (RFC 1918,
 * 100.64/10, loopback and link-local; IPv6 ULA fc00::/7 and link-local fe80::/10) keeps its
 * rule's action; any other flow is dropped. The answer is the flow's (VG_BPF_CACHE): the
 * program runs on the first packet only.
 */
#include "vigil_bpf.h"

static inline int
private4(const vg_u8 *a)
{
	return a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
	       (a[0] == 100 && (a[1] & 0xc0) == 64) || a[0] == 127 || (a[0] == 169 && a[1] == 254);
}

static inline int
private6(const vg_u8 *a)
{
	return (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
}

VG_BPF_PROGRAM
allow_private(struct vg_bpf_ctx *ctx)
{
	/* The initiator's destination: this packet's, or its source for a reply. */
	const vg_u8 *peer = ctx->dir ? ctx->src : ctx->dst;
	int ok = ctx->family == 4 ? private4(peer) : private6(peer);

	return (ok ? VG_BPF_PASS : VG_BPF_DROP) | VG_BPF_CACHE;
}
