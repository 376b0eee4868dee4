/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow sampler: one flow in SAMPLE_EVERY, chosen by a hash of its addresses and ports (the same
 * both ways, so the choice does not depend on which packet comes first), is marked 1 and
 * alerted with id 7; every flow keeps its rule's action and the answer is cached.
 */
#include "vigil_bpf.h"

#define SAMPLE_EVERY 4

VG_BPF_PROGRAM
sampler(struct vg_bpf_ctx *ctx)
{
	if (vg_flow_hash(ctx) % SAMPLE_EVERY == 0)
		return VG_BPF_PASS | VG_BPF_CACHE | VG_BPF_MARK(1) | VG_BPF_ALERT(7);
	return VG_BPF_PASS | VG_BPF_CACHE;
}
