/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DNS query name length limit: a query (UDP to port 53) whose name is longer than
 * QNAME_MAX bytes (as written: "www.example.com" is 15), or has more labels than this
 * program walks, is dropped with alert 53. Other packets of DNS flows keep the rule's action
 * and are checked again; flows that are not DNS are left alone after their first packet.
 */
#include "vigil_bpf.h"

#define QNAME_MAX  52
#define MAX_LABELS 24

VG_BPF_PROGRAM
dns_qname(struct vg_bpf_ctx *ctx)
{
	vg_u64 off, start, len;

	if (ctx->proto != 17 || (ctx->sport != 53 && ctx->dport != 53))
		return VG_BPF_PASS | VG_BPF_CACHE;
	if (ctx->dport != 53 || ctx->payload_len < 12)
		return VG_BPF_PASS;
	start = ctx->payload_off + 12u; /* after the DNS header */
	off = start;
#pragma unroll
	for (int i = 0; i < MAX_LABELS; i++) {
		len = vg_pkt_u8(ctx, off);
		if (len == 0)
			break;
		if (len > 63) /* compression or the end of the frame: not a plain query name */
			return VG_BPF_DROP | VG_BPF_ALERT(53);
		off += len + 1;
	}
	if (vg_pkt_u8(ctx, off) != 0) /* more labels than walked */
		return VG_BPF_DROP | VG_BPF_ALERT(53);
	/* Bytes of the name as written: the length bytes become dots, the first one goes. */
	if (off > start && off - start - 1 > QNAME_MAX)
		return VG_BPF_DROP | VG_BPF_ALERT(53);
	return VG_BPF_PASS;
}
