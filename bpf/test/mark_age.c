/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * For the tests: a program that reads its flow's mark and age (the flow's cold record, so
 * the flow stage fetches that record ahead; rl_snapshot_bpf_cold). A flow older than a second
 * whose mark is still 0 gets mark 1; the rule's own action applies.
 */
#include "vigil_bpf.h"

VG_BPF_PROGRAM
mark_age(struct vg_bpf_ctx *ctx)
{
	if (ctx->mark == 0 && ctx->flow_age_ns > 1000000000ull)
		return VG_BPF_PASS | VG_BPF_MARK(1);
	return VG_BPF_PASS;
}
