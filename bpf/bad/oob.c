/* SPDX-License-Identifier: BSD-3-Clause */
/* Refused: reads past the end of the context (rte_bpf's validator finds it). */
#include "vigil_bpf.h"

VG_BPF_PROGRAM
oob(struct vg_bpf_ctx *ctx)
{
	const volatile vg_u8 *p = (const volatile vg_u8 *)ctx;

	return p[sizeof(*ctx) + 8];
}
