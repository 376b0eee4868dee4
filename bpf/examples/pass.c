/* SPDX-License-Identifier: BSD-3-Clause */
/* The empty program: the rule's own action, for every packet (what running a program costs). */
#include "vigil_bpf.h"

VG_BPF_PROGRAM
pass(struct vg_bpf_ctx *ctx)
{
	(void)ctx;
	return VG_BPF_PASS;
}
