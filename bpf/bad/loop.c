/* SPDX-License-Identifier: BSD-3-Clause */
/* Refused: a loop whose bound the program does not know (rte_bpf's validator finds it). */
#include "vigil_bpf.h"

VG_BPF_PROGRAM
loop(struct vg_bpf_ctx *ctx)
{
	vg_u64 n = 0;

	while (vg_pkt_u8(ctx, n) != 0)
		n++;
	return n & 1;
}
