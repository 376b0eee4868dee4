/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flows of vg-pktgen: everything about flow i (family, protocol, addresses, ports, whether it
 * carries a pattern or goes to the denied port, initial sequence numbers) is a pure function of
 * the seed and i, so 10 million flows need no table: the generator asks again for each packet.
 *
 * Shares are exact, not probabilistic: round(share * flows) flows are chosen by seeded
 * permutations of the flow indices, so "1% of 100k flows match" is exactly 1000 flows. Matching
 * and denied flows are disjoint. Flows are distinct because each has its own client address:
 * IPv4 clients are 10.0.0.1-10.255.255.254 and IPv6 clients embed the same 24 bits in
 * fd00::10.x.y.z; servers are 192.168.x.y (1 <= y <= 254) or fd01::192.168.x.y.
 */
#ifndef VG_PKTGEN_FLOW_H
#define VG_PKTGEN_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "vg_pktgen_opt.h"

/* A seeded bijection of [0, n) (a Feistel network over the next power of two, cycle-walked). */
struct vg_pktgen_perm {
	uint64_t n;
	unsigned bits;
	uint64_t keys[4];
};

struct vg_pktgen_plan {
	uint32_t flows;
	uint32_t n_v6;
	uint32_t n_match;
	uint32_t n_deny;
	uint32_t n_proto[VG_PKTGEN_NPROTO]; /* before denied ICMP flows become TCP */
	uint64_t key;			    /* hashes of flow indices */
	struct vg_pktgen_perm family, proto, select, client;
	uint16_t ports[VG_PKTGEN_MAX_PORTS];
	unsigned n_ports;
	uint16_t deny_dport;
	uint32_t n_patterns;
};

struct vg_pktgen_flow {
	uint32_t index;
	bool v6;
	bool match;    /* the first data packet carries patterns[pattern] */
	bool deny;     /* goes to the denied port */
	uint8_t proto; /* enum vg_pktgen_proto */
	uint32_t pattern;
	uint8_t caddr[16]; /* client; IPv4 uses the first 4 bytes */
	uint8_t saddr[16]; /* server */
	uint16_t cport;	   /* client port; ICMP: the echo identifier */
	uint16_t sport;	   /* server port; ICMP: 0 */
	uint32_t isn[2];   /* initial sequence number: [0] client, [1] server */
	uint32_t fill[2];  /* where each direction's payload starts in the filler */
	uint16_t ipid[2];  /* first IPv4 identification per direction */
	uint32_t flow_label;
	uint64_t offset_hash; /* picks the pattern's offset in the payload */
};

/* Set up a permutation of [0, n) from key. n >= 1. */
void vg_pktgen_perm_init(struct vg_pktgen_perm *p, uint64_t n, uint64_t key);

/* The image of x (< n) under p. */
uint64_t vg_pktgen_perm_apply(const struct vg_pktgen_perm *p, uint64_t x);

/* Derive the plan (counts and permutations) from validated options. */
void vg_pktgen_plan_init(struct vg_pktgen_plan *p, const struct vg_pktgen_opts *o);

/* Describe flow i (< p->flows). */
void vg_pktgen_flow_get(const struct vg_pktgen_plan *p, uint32_t i, struct vg_pktgen_flow *f);

#endif /* VG_PKTGEN_FLOW_H */
