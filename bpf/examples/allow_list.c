/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Allow list over an lpm map: a flow whose initiator's address is in the map `allowed4`
 * (IPv4) or `allowed6` (IPv6) keeps its rule's action and is marked with the value of the
 * longest prefix that holds it; any other flow is dropped. Operators fill the maps from
 * allow_list.v4.yaml and allow_list.v6.yaml, or through the API
 * (PUT /api/v1/bpf/maps/allowed4/entries) without reloading anything. Cached: the program
 * runs on a flow's first packet only, so a change applies to flows that start after it.
 */
#include "vigil_bpf.h"

#define ALLOWED4 0 /* ids: the maps' order in allow_list.maps.yaml */
#define ALLOWED6 1

VG_BPF_PROGRAM
allow_list(struct vg_bpf_ctx *ctx)
{
	/* The initiator: this packet's source, or its destination for a reply. */
	vg_u64 which = ctx->dir ? VG_BPF_MAP_DST : VG_BPF_MAP_SRC;
	vg_u64 v = vg_map_lpm(ctx, ctx->family == 4 ? ALLOWED4 : ALLOWED6, which);

	if (v == VG_BPF_MAP_NONE)
		return VG_BPF_DROP | VG_BPF_CACHE;
	return VG_BPF_PASS | VG_BPF_CACHE | VG_BPF_MARK(v);
}
