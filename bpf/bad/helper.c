/* SPDX-License-Identifier: BSD-3-Clause */
/* Refused: calls a function that is not one of vigild's helpers. */
#include "vigil_bpf.h"

extern vg_u64 bpf_ktime_get_ns(void);

VG_BPF_PROGRAM
helper(struct vg_bpf_ctx *ctx)
{
	return bpf_ktime_get_ns() > ctx->now_ns ? VG_BPF_DROP : VG_BPF_PASS;
}
