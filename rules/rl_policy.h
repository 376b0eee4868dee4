/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy model: a YAML policy (docs/POLICY.md) loaded, validated and resolved.
 *
 * rl_policy_load_file() reads the whole file, reports every mistake with file:line:column and
 * the rule or set it belongs to, resolves sets (which may include other sets) and returns an
 * immutable model. Each rule keeps two views of what it matches:
 *  - the expressions as written (struct rl_expr: literals, $set references, negations), which
 *    the reference classifier (rl_ref.h) evaluates directly, and
 *  - the resolved interval sets (struct vg_ivs: sorted, disjoint, non-adjacent intervals per
 *    address family, port and VLAN), which the compiler (rl_compile.h) expands into rte_acl
 *    rules and the validator uses for contradiction and shadow checks.
 * The differential test checks that both views agree through rte_acl.
 *
 * Nothing here needs EAL. The model is read-only after load; any number of threads may read it.
 */
#ifndef RL_POLICY_H
#define RL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vg_addr.h"
#include "vg_diag.h"

/* Ingress ports a rule can name (a bit per port index). Matches VG_MAX_PORTS. */
#define RL_MAX_PORTS 32
/* Rules in one policy. */
#define RL_MAX_RULES (1u << 20)

typedef vg_u128 rl_u128;

/* What the policy may refer to outside itself. Either list may be empty. */
struct rl_env {
	/* Appliance port names in config order: the name's index is the port id in rl_key. */
	const char *const *ports;
	unsigned n_ports;
	/*
	 * Signature group names that 'inspect' may name. NULL: not checked (the signatures are
	 * loaded later, or not at all, as in --check-policy without signatures).
	 */
	const char *const *sig_groups;
	unsigned n_sig_groups;
	/* Lists and mappings nested deeper are refused before they are built (policy.max_depth);
	 * 0: VG_YAML_MAX_DEPTH. */
	unsigned max_depth;
	/*
	 * For rl_policy_load_buf(): the directory that relative `bpf:` paths are relative to (the
	 * configured policy file's, so that a text reloaded or sent through the API means what the
	 * file means). NULL: left as written (the working directory). Files use their own.
	 */
	const char *dir;
};

enum rl_action {
	RL_ACT_ALLOW,
	RL_ACT_DROP,
	RL_ACT_REJECT,	   /* TCP RST to the sender; ICMP/ICMPv6 unreachable otherwise */
	RL_ACT_RATE_LIMIT, /* forward within the rate, drop above it */
};

enum rl_rate_unit {
	RL_RATE_PPS, /* rate in packets/s, burst in packets */
	RL_RATE_BPS, /* rate in bits/s, burst in bytes */
};

enum rl_rate_per {
	RL_PER_RULE,   /* one bucket for the rule (split evenly between workers) */
	RL_PER_SOURCE, /* one bucket per source address (per worker) */
};

struct rl_rate {
	enum rl_rate_unit unit;
	enum rl_rate_per per;
	uint64_t rate;	/* packets or bits per second, >= 1 */
	uint64_t burst; /* packets or bytes, >= 1 */
};

/*
 * Numbers as intervals (struct vg_ivs) and address sets (struct vg_addrset, IPv4 and IPv6
 * values in host order) are common/vg_addr.h's.
 */

enum rl_item_kind {
	RL_ITEM_ANY,   /* "any" */
	RL_ITEM_CIDR,  /* address prefix */
	RL_ITEM_RANGE, /* port, VLAN or in-port range [lo, hi] */
	RL_ITEM_SET,   /* $name */
};

/* One element of a list as written, possibly negated with '!'. */
struct rl_item {
	uint8_t kind; /* enum rl_item_kind */
	bool neg;
	uint8_t family;	  /* CIDR: 4 or 6 */
	uint8_t plen;	  /* CIDR: prefix length */
	uint8_t addr[16]; /* CIDR: network order, host bits cleared; IPv4 in addr[0..3] */
	uint32_t lo, hi;  /* RANGE */
	unsigned set;	  /* SET: index for rl_policy_set() */
	unsigned line, col;
};

/*
 * A list as written. Meaning: (union of the positive items, or everything when there are
 * none) minus (union of the negated items). n == 0 means "any".
 */
struct rl_expr {
	struct rl_item *v;
	unsigned n;
};

enum rl_set_kind {
	RL_SET_ADDR,
	RL_SET_PORT,
};

struct rl_set {
	char *name;
	enum rl_set_kind kind;
	struct rl_expr expr;
	struct vg_addrset addrs; /* RL_SET_ADDR, resolved */
	struct vg_ivs ports;	 /* RL_SET_PORT, resolved */
	unsigned line, col;
};

/* No ICMP type or code constraint. */
#define RL_ICMP_ANY (-1)

struct rl_rule {
	char *name;
	char *description;  /* may be NULL */
	unsigned line, col; /* the rule's mapping in the file */

	/* Match. Each field that was not given matches everything. */
	uint32_t in_ports; /* bit i: ingress port i */
	bool in_any;
	struct vg_ivs vlan; /* outer VLAN id; 0 = untagged */
	bool vlan_any;
	uint64_t protos[4]; /* bitmap of IP protocol numbers */
	bool proto_any;
	struct rl_expr from, to;    /* as written; n == 0: any */
	struct vg_addrset from_set; /* resolved */
	struct vg_addrset to_set;
	struct rl_expr sport, dport; /* as written; n == 0: any */
	struct vg_ivs sport_set;     /* resolved; 0..65535 when any */
	struct vg_ivs dport_set;
	int icmp_type4;	    /* for protocol 1 (ICMP); RL_ICMP_ANY */
	int icmp_type6;	    /* for protocol 58 (ICMPv6); RL_ICMP_ANY */
	int icmp_code;	    /* RL_ICMP_ANY */
	bool stateless;	    /* has tcp_flags: checked on every packet, not cached in the flow */
	uint8_t flags_set;  /* TCP flags that must be set */
	uint8_t flags_mask; /* flags_set plus the flags that must be clear */

	/* Action and options. */
	enum rl_action action;
	struct rl_rate rate; /* RL_ACT_RATE_LIMIT only */
	bool log;
	bool dry_run;
	char **inspect; /* signature group names */
	unsigned n_inspect;
	char *bpf;	  /* rte_bpf program path (reserved), may be NULL */
	char *bpf_upload; /* NAME when bpf was written upload:NAME, else NULL */
};

/*
 * A pre-filter (docs/BPF.md): an eBPF program run on every IP packet that arrives on its ports,
 * before the flow table and the rules.
 */
struct rl_prefilter {
	char *name;
	bool in_any;	   /* every port */
	uint32_t in_ports; /* bit i: ingress port i (when !in_any) */
	char *bpf;	   /* the program's path (relative ones made relative to the policy) */
	char *bpf_upload;  /* NAME when bpf was written upload:NAME, else NULL */
	unsigned line, col;
};

/* Pre-filters in one policy (at most one per port, so no more than the ports). */
#define RL_MAX_PREFILTERS RL_MAX_PORTS

/* Decision for a non-IP frame. */
enum rl_l2_verdict {
	RL_L2_PASS,
	RL_L2_DROP,
};

/* Pseudo EtherType for 802.3 frames whose type field is a length (< 0x0600): "llc". */
#define RL_ETHERTYPE_LLC 0x10000u

struct rl_l2_entry {
	uint32_t ether_type; /* or RL_ETHERTYPE_LLC */
	enum rl_l2_verdict verdict;
};

struct rl_policy;

/*
 * Load, validate and resolve a policy file. Errors and warnings go to diag, each with
 * file:line:column. Returns NULL when diag holds errors (or on ENOMEM; errno is set).
 * env may be NULL (no port names, inspect groups not checked).
 */
struct rl_policy *rl_policy_load_file(
		const char *path, const struct rl_env *env, struct vg_diag *diag);

/* The same from memory; name is used in messages. */
struct rl_policy *rl_policy_load_buf(const char *name, const char *buf, size_t len,
		const struct rl_env *env, struct vg_diag *diag);

/*
 * The folder of eBPF objects uploaded through the API (control/ctl_bpf_prog.h): `bpf:
 * sha256:HEX` names HEX.o there, `bpf: upload:NAME` the newest upload named NAME. NULL or ""
 * (the default): such references are refused. Set before policies load (not thread-safe).
 */
void rl_policy_set_bpf_uploads(const char *dir);
const char *rl_policy_bpf_uploads(void);

/* Free a policy. NULL is a no-op. */
void rl_policy_free(struct rl_policy *p);

/* Accessors. Pointers stay valid until rl_policy_free(). */
const char *rl_policy_file(const struct rl_policy *p);
enum rl_action rl_policy_default(const struct rl_policy *p);
unsigned rl_policy_n_rules(const struct rl_policy *p);
const struct rl_rule *rl_policy_rule(const struct rl_policy *p, unsigned i);
unsigned rl_policy_n_sets(const struct rl_policy *p);
const struct rl_set *rl_policy_set(const struct rl_policy *p, unsigned i);
enum rl_l2_verdict rl_policy_l2_default(const struct rl_policy *p);
unsigned rl_policy_n_l2(const struct rl_policy *p);
const struct rl_l2_entry *rl_policy_l2(const struct rl_policy *p, unsigned i);
unsigned rl_policy_n_prefilters(const struct rl_policy *p);
const struct rl_prefilter *rl_policy_prefilter(const struct rl_policy *p, unsigned i);

/* Verdict for a non-IP EtherType by the l2 section (linear; the snapshot has a table). */
enum rl_l2_verdict rl_policy_l2_lookup(const struct rl_policy *p, uint16_t ether_type);

/* True when protocol proto is in the rule's protocol list (or the rule says any). */
static inline bool
rl_rule_has_proto(const struct rl_rule *r, uint8_t proto)
{
	return r->proto_any || (r->protos[proto >> 6] >> (proto & 63) & 1) != 0;
}

/* Names for messages and reports. */
const char *rl_action_name(enum rl_action a);

/* Warn about rules that an earlier rule fully shadows; looks at no more than max_pairs pairs. */
void rl_policy_shadow_check(const struct rl_policy *p, struct vg_diag *diag, uint64_t max_pairs);

#endif /* RL_POLICY_H */
