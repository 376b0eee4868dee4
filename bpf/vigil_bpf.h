/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Vigil's eBPF program interface, version 1: the context a program receives, the verdict it
 * returns, and the helpers it may call. Included by programs (clang -target bpf) and by vigild,
 * so it needs no system header. docs/BPF.md describes it.
 *
 * A program is one function in the ELF section "vigil" taking a pointer to struct vg_bpf_ctx
 * and returning a verdict (VG_BPF_*). The context may be read and written; writes are lost
 * after the run. Packet bytes are read through the helpers only.
 */
#ifndef VIGIL_BPF_H
#define VIGIL_BPF_H

typedef __UINT8_TYPE__ vg_u8;
typedef __UINT16_TYPE__ vg_u16;
typedef __UINT32_TYPE__ vg_u32;
typedef __UINT64_TYPE__ vg_u64;

#define VG_BPF_CTX_VERSION 1

/*
 * The helper set's version: 1 the packet helpers and vg_flow_hash; 2 adds the map helpers
 * (vg_map_*). vigild resolves helpers by name; a program built for version 2 runs on any vigild
 * that has version 2 or later.
 */
#define VG_BPF_HELPERS_VERSION 2

/* The section vigild loads. */
#define VG_BPF_SECTION "vigil"

/* Fields are in host byte order except src and dst. A later version only appends fields. */
struct vg_bpf_ctx {
	vg_u16 version;	 /* VG_BPF_CTX_VERSION */
	vg_u16 size;	 /* sizeof(struct vg_bpf_ctx) as vigild knows it */
	vg_u8 family;	 /* 4 or 6 */
	vg_u8 proto;	 /* IPPROTO_* (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...) */
	vg_u8 dir;	 /* 0: from the flow's initiator, 1: a reply */
	vg_u8 tcp_flags; /* this packet's: FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 */
	vg_u16 vlan;	 /* outer VLAN id, 0 when untagged */
	vg_u16 sport;	 /* this packet's ports; ICMP: type and code */
	vg_u16 dport;
	vg_u16 mark;	    /* the flow's mark (0 until a program sets one) */
	vg_u32 rule_id;	    /* index of the policy rule whose program this is */
	vg_u32 pkt_len;	    /* bytes in the frame (what the helpers can read) */
	vg_u16 l3_off;	    /* offset of the IP header in the frame */
	vg_u16 l4_off;	    /* offset of the L4 header (0: none) */
	vg_u16 payload_off; /* first byte after the L4 header (0: none) */
	vg_u16 pad0;
	vg_u32 payload_len; /* bytes of L4 payload */
	vg_u32 flow_pkts;   /* packets of the flow, both directions, this one included */
	vg_u64 flow_age_ns; /* time since the flow's first packet */
	vg_u64 now_ns;	    /* the dataplane clock (ns since the Unix epoch) */
	vg_u8 src[16];	    /* this packet's source address, network order; IPv4 in src[0..3] */
	vg_u8 dst[16];
};

/*
 * The return value. Bits 0-3 are the verdict for this packet:
 *   VG_BPF_PASS    the rule's own action applies (allow, drop, ...)
 *   VG_BPF_DROP    drop
 *   VG_BPF_REJECT  drop and answer (TCP RST or ICMP unreachable), as the reject action
 *   VG_BPF_ALLOW   forward, whatever the rule's action
 * Other values are out of range: the packet is dropped and counted as invalid.
 * VG_BPF_CACHE makes the verdict the flow's: later packets of the flow do not run the program.
 * VG_BPF_ALERT(id) raises an alert with the program-defined id (bits 16-31);
 * VG_BPF_MARK(m) stores m (bits 32-47) on the flow, read back as ctx->mark.
 */
#define VG_BPF_PASS	      0u
#define VG_BPF_DROP	      1u
#define VG_BPF_REJECT	      2u
#define VG_BPF_ALLOW	      3u
#define VG_BPF_VERDICT_MASK   0xfu
#define VG_BPF_CACHE	      0x10u
#define VG_BPF_ALERT_FLAG     0x20u
#define VG_BPF_MARK_FLAG      0x40u
#define VG_BPF_ALERT(id)      (VG_BPF_ALERT_FLAG | ((vg_u64)((id)&0xffffu) << 16))
#define VG_BPF_MARK(m)	      (VG_BPF_MARK_FLAG | ((vg_u64)((m)&0xffffu) << 32))
#define VG_BPF_ALERT_ID(rc)   ((vg_u16)((rc) >> 16))
#define VG_BPF_MARK_VALUE(rc) ((vg_u16)((rc) >> 32))

/* What a helper returns for bytes beyond the frame. */
#define VG_BPF_OOB (~(vg_u64)0)

/*
 * Maps (docs/BPF.md, "Maps"): declared in prog.maps.yaml next to prog.o, named in a program by
 * their index in that file (0 to VG_BPF_MAX_MAPS - 1). The map helpers return VG_BPF_MAP_NONE
 * for a key that is not there, a map id that is not declared, or a map of the other kind;
 * vg_map_update and vg_map_delete return 0 when done.
 */
#define VG_BPF_MAX_MAPS 8
#define VG_BPF_MAP_NONE (~(vg_u64)0)
#define VG_BPF_MAP_SRC	0 /* vg_map_lpm: this packet's source address */
#define VG_BPF_MAP_DST	1 /* ... its destination */
/* A hash map with `key: addr` takes an address as two 64-bit words, as memory holds them. */
#define VG_ADDR_K0(a) (((const vg_u64 *)(const void *)(a))[0])
#define VG_ADDR_K1(a) (((const vg_u64 *)(const void *)(a))[1])

#ifdef __bpf__
/*
 * Helpers (external functions resolved by vigild at load; no other call is accepted). Offsets
 * are from the start of the frame; multi-byte values are read in network order and returned in
 * host order; VG_BPF_OOB past the end of the frame.
 */
extern vg_u64 vg_pkt_u8(const struct vg_bpf_ctx *ctx, vg_u64 off);
extern vg_u64 vg_pkt_u16(const struct vg_bpf_ctx *ctx, vg_u64 off);
extern vg_u64 vg_pkt_u32(const struct vg_bpf_ctx *ctx, vg_u64 off);
/* A 32-bit hash of the flow's addresses and ports, the same in both directions. */
extern vg_u64 vg_flow_hash(const struct vg_bpf_ctx *ctx);

/*
 * Map helpers (version 2). lpm maps: the value of the longest prefix holding the address.
 * vg_map_lpm4 takes an IPv4 address as a host-order number (as vg_pkt_u32 reads it);
 * vg_map_lpm looks up this packet's source (VG_BPF_MAP_SRC) or destination (VG_BPF_MAP_DST),
 * IPv4 or IPv6 as ctx->family says, in a map of that family.
 */
extern vg_u64 vg_map_lpm4(const struct vg_bpf_ctx *ctx, vg_u64 map, vg_u64 addr);
extern vg_u64 vg_map_lpm(const struct vg_bpf_ctx *ctx, vg_u64 map, vg_u64 which);
/*
 * hash maps: keys are k0 (`key: u64`; k1 is ignored) or the 16 bytes k0, k1 (`key: addr`:
 * VG_ADDR_K0(ctx->src), VG_ADDR_K1(ctx->src)). Values are 64-bit, VG_BPF_MAP_NONE excepted.
 * An update or delete is seen by every worker's next lookup; it fails (VG_BPF_MAP_NONE) when
 * the map is full or the key is missing.
 */
extern vg_u64 vg_map_lookup(const struct vg_bpf_ctx *ctx, vg_u64 map, vg_u64 k0, vg_u64 k1);
extern vg_u64 vg_map_update(
		const struct vg_bpf_ctx *ctx, vg_u64 map, vg_u64 k0, vg_u64 k1, vg_u64 value);
extern vg_u64 vg_map_delete(const struct vg_bpf_ctx *ctx, vg_u64 map, vg_u64 k0, vg_u64 k1);

#define VG_BPF_PROGRAM __attribute__((section(VG_BPF_SECTION), used)) vg_u64
#endif

#endif /* VIGIL_BPF_H */
