/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The compiled policy: an immutable snapshot that workers classify with.
 *
 * rl_compile() runs on the control lcore (never on a worker): it expands every rule of a
 * validated model into rte_acl rules (sets, negations and lists become prefix lists and port
 * ranges), builds one rte_acl context per address family for the flow-creating (stateful)
 * rules and one per family for the stateless (tcp_flags) rules, picks the fastest classify
 * method the CPU and EAL allow, and copies what the dataplane needs per rule into a rule table.
 * The snapshot does not refer to the model; the model may be freed afterwards.
 *
 * Publishing is the caller's: a worker sees either the old snapshot or the new one, whole, by
 * one pointer swap; free the old one after every worker has passed a quiescent state.
 *
 * Per-rule counters and per-rule rate buckets live in the snapshot, one cache-aligned array per
 * worker, each written only by its worker; readers sum them with rl_snapshot_counters_sum().
 */
#ifndef RL_COMPILE_H
#define RL_COMPILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "rl_bpf.h"
#include "rl_key.h"
#include "rl_policy.h"
#include "rl_ratelimit.h"
#include "vg_diag.h"

/* Expansion limits: a rule, and a whole context. Past them rl_compile() reports the rule. */
#define RL_MAX_ACL_PER_RULE (1u << 20)
#define RL_MAX_ACL_RULES    (1u << 22)

/* What the dataplane needs of one rule. Strings live as long as the snapshot. */
struct rl_rule_info {
	const char *name;
	enum rl_action action;
	bool log;
	bool dry_run;		    /* count "would drop" and forward */
	bool stateless;		    /* matched on every packet by rl_classify_stateless_bulk() */
	struct rl_rate rate;	    /* RL_ACT_RATE_LIMIT */
	struct rl_tb_params tb;	    /* per worker for per: rule, per source for per: source */
	uint32_t rate_slot;	    /* index of the per-worker bucket (per: rule) */
	const char *const *inspect; /* signature group names */
	unsigned n_inspect;
	/* those groups as the signature engine's bits (rl_snapshot_set_inspect_groups); 0: the
	 * flow is checked against every signature */
	uint64_t inspect_groups;
	const char *bpf;	  /* rte_bpf program path, or NULL */
	struct rl_bpf_prog *prog; /* loaded from bpf at compile time, or NULL */
	const char *bpf_upload;	  /* NAME when the policy wrote bpf: upload:NAME, else NULL */
	const char *file;
	unsigned line, col;
	uint32_t n_acl; /* rte_acl rules this rule became (both families) */
};

/* A pre-filter (docs/BPF.md): the program run on the IP packets of its ingress ports before the
 * flow table. Strings live as long as the snapshot. */
struct rl_prefilter_info {
	const char *name;
	const char *bpf;
	bool in_any;
	uint32_t in_ports; /* bit i: ingress port i (when !in_any) */
	struct rl_bpf_prog *prog;
	const char *bpf_upload; /* NAME when the policy wrote bpf: upload:NAME, else NULL */
	unsigned line, col;
};

/* Per rule, per worker. 32 bytes: two rules per cache line, one worker per array. */
struct rl_counters {
	uint64_t packets;
	uint64_t bytes;
	uint64_t flows;
	uint64_t would_drop;
};

struct rl_snapshot_stats {
	uint32_t epoch;
	unsigned n_rules;
	unsigned n_stateless;
	uint64_t n_acl[2];	     /* stateful rte_acl rules: IPv4, IPv6 */
	uint64_t n_acl_stateless[2]; /* stateless: IPv4, IPv6 */
	uint64_t build_ns;	     /* whole rl_compile() */
	size_t mem_bytes;	     /* rte_malloc heap growth during rl_compile() */
	const char *classify_alg;    /* "avx512x16", "avx2", "sse", "scalar", or "none" */
};

struct rl_snapshot;

/*
 * Compile p. epoch tags flows classified with this snapshot; n_workers sizes the counter and
 * bucket arrays; socket is where memory goes (SOCKET_ID_ANY allowed). Needs EAL. Problems (a
 * rule that expands too far, rte_acl failures) go to diag with the rule's position. Returns
 * NULL with rte_errno set on failure; nothing is left allocated then.
 */
struct rl_snapshot *rl_compile(const struct rl_policy *p, uint32_t epoch, unsigned n_workers,
		int socket, struct vg_diag *diag);

/* Free a snapshot no worker uses any more. NULL is a no-op. */
void rl_snapshot_free(struct rl_snapshot *s);

uint32_t rl_snapshot_epoch(const struct rl_snapshot *s);
enum rl_action rl_snapshot_default(const struct rl_snapshot *s);
unsigned rl_snapshot_n_rules(const struct rl_snapshot *s);
bool rl_snapshot_has_stateless(const struct rl_snapshot *s);
/* A rule's program reads its flow's mark or age (the flow's cold record): the flow stage
 * fetches that record ahead for the flows whose program runs. */
bool rl_snapshot_bpf_cold(const struct rl_snapshot *s);
void rl_snapshot_stats(const struct rl_snapshot *s, struct rl_snapshot_stats *out);

/* Pre-filters: how many, the idx-th (or NULL), and the program of ingress port `port` with its
 * index in *idx (NULL: the port has none). */
unsigned rl_snapshot_n_prefilters(const struct rl_snapshot *s);
const struct rl_prefilter_info *rl_snapshot_prefilter(const struct rl_snapshot *s, unsigned idx);

const struct rl_bpf_prog *rl_snapshot_port_prefilter(
		const struct rl_snapshot *s, uint16_t port, uint32_t *idx);

/*
 * The eBPF program slot i of s, i from 0 to n_rules + n_prefilters - 1: rules' first, then
 * pre-filters'; *owner is the rule's or pre-filter's name, *pre whether it is a pre-filter.
 * NULL when that rule has no program (or i is past them).
 */
struct rl_bpf_prog *rl_snapshot_program(
		const struct rl_snapshot *s, unsigned i, const char **owner, bool *pre);

/*
 * Carry the eBPF maps of from (the version in force) into to (compiled, not published yet):
 * each map of a program of to that has a counterpart in from (a map of the same name, of the
 * rule or pre-filter of the same name if it declares one, else of the first program that does)
 * starts with that map's entries (rl_bpf_map_carry). report (may be NULL) hears of each such map:
 * rc 0 carried, else why not (to's map then holds what its file gave). Control only, between
 * compiling to and publishing it. Returns how many maps were carried.
 */
unsigned rl_snapshot_carry_maps(struct rl_snapshot *to, const struct rl_snapshot *from,
		void (*report)(void *arg, const char *owner, bool pre, const char *map, int rc,
				const char *err),
		void *arg);

/* What the worker's packet path reads of a snapshot: its first members (rl_compile.c). */
struct rl_snapshot_head {
	unsigned n_rules;
	struct rl_rule_info *rules;
};

/* Rule idx (0 .. n_rules - 1), or NULL. Inline: the worker asks per packet of a program's flow. */
static inline const struct rl_rule_info *
rl_snapshot_rule(const struct rl_snapshot *s, uint32_t idx)
{
	const struct rl_snapshot_head *h = (const struct rl_snapshot_head *)(const void *)s;

	return idx < h->n_rules ? &h->rules[idx] : NULL;
}

/*
 * Give rule idx's `inspect` groups as signature-engine bits (the caller resolves the names).
 * Before the snapshot is published. Returns 0, or -EINVAL for a bad index.
 */
int rl_snapshot_set_inspect_groups(struct rl_snapshot *s, uint32_t idx, uint64_t groups);

/*
 * Worker w's counters: n_rules + 1 entries, the last one for packets that took the default
 * action. Only worker w writes them (plain stores; readers may see a count a little late).
 */
struct rl_counters *rl_snapshot_counters(const struct rl_snapshot *s, unsigned w);

/* Sum of rule's counters over all workers; rule RL_RULE_DEFAULT sums the default slot. */
void rl_snapshot_counters_sum(const struct rl_snapshot *s, uint32_t rule, struct rl_counters *out);

/*
 * Classify n keys against the stateful rules: rule_out[i] is the first matching rule's index,
 * or RL_RULE_DEFAULT. Keys of each family are classified in one rte_acl call per 64 keys; keys
 * whose family is neither 4 nor 6 get RL_RULE_DEFAULT. Safe from any number of threads.
 */
void rl_classify_bulk(const struct rl_snapshot *s, const struct rl_key **keys, unsigned n,
		uint32_t *rule_out);

/* The same against the stateless (tcp_flags) rules, which apply to every packet. */
void rl_classify_stateless_bulk(const struct rl_snapshot *s, const struct rl_key **keys, unsigned n,
		uint32_t *rule_out);

/* Verdict of the l2 section for a non-IP frame's EtherType (802.3 lengths count as llc). */
enum rl_l2_verdict rl_l2_verdict(const struct rl_snapshot *s, uint16_t ether_type);

/*
 * Rate-limit decision for a packet of pkt_len bytes that matched rate-limit rule `rule`, on
 * worker w at now_ns: true to forward, false to drop. per: source rules use src (the worker's
 * own table); per: rule rules use the worker's bucket in the snapshot.
 */
bool rl_snapshot_rate_take(const struct rl_snapshot *s, unsigned w, uint32_t rule,
		struct rl_src_table *src, const struct rl_key *k, uint32_t pkt_len,
		uint64_t now_ns);

/*
 * For `vigild --check-policy FILE`: load, validate and compile path, print every diagnostic
 * and a one-line summary (rules, rte_acl rules after expansion, build time, memory) to out.
 * Needs EAL (rte_acl allocates from rte_malloc). Returns 0 when the policy is usable, 1 if not.
 */
int rl_policy_check(const char *path, const struct rl_env *env, FILE *out);

#endif /* RL_COMPILE_H */
