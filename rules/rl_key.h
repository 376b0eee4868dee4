/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The classification key: what the policy matches of one packet, laid out so that rte_acl reads
 * it in place (multi-byte fields in network order, fields grouped in 4-byte runs as rte_acl
 * wants). The dataplane fills one per packet (policy_key() in dataplane/dp_worker.c); the
 * compiled snapshot (rl_compile.h) and the reference classifier (rl_ref.h) both read it.
 */
#ifndef RL_KEY_H
#define RL_KEY_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Rule index meaning "no rule matched": the default action applies (or, for the stateless
 * check, the packet goes on to its flow's verdict). */
#define RL_RULE_DEFAULT UINT32_MAX

struct rl_key {
	uint8_t proto;	   /* IP protocol (rte_acl wants a 1-byte field first) */
	uint8_t family;	   /* 4 or 6; not matched by rte_acl, selects the context */
	uint8_t in_port;   /* ingress port index (config order) */
	uint8_t tcp_flags; /* TCP only, else 0 */
	uint16_t vlan;	   /* outer VLAN id, network order; 0 when untagged */
	uint16_t pad;
	uint8_t src[16]; /* network order; IPv4 in src[0..3] */
	uint8_t dst[16];
	uint16_t sport; /* network order; ICMP and ICMPv6: the type */
	uint16_t dport; /* network order; ICMP and ICMPv6: the code */
};

_Static_assert(offsetof(struct rl_key, in_port) == 2, "rte_acl field layout");
_Static_assert(offsetof(struct rl_key, vlan) == 4, "rte_acl field layout");
_Static_assert(offsetof(struct rl_key, src) == 8, "rte_acl field layout");
_Static_assert(offsetof(struct rl_key, dst) == 24, "rte_acl field layout");
_Static_assert(offsetof(struct rl_key, sport) == 40, "rte_acl field layout");
_Static_assert(sizeof(struct rl_key) == 44, "rte_acl field layout");

#endif /* RL_KEY_H */
