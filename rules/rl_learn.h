/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Learning: observed flow aggregates turned into candidate allow rules, and a proposed policy.
 *
 * Observations (rl_preview.h's struct rl_obs: src, dst, dport, protocol and their counts) are
 * grouped without loss: a candidate is (sources, destinations, protocol, ports) whose product is
 * exactly the observed keys it stands for, so that allowing it allows nothing that was not seen.
 * The grouping is done in three passes over sorted keys: the sources of each (destination,
 * port) first, then the ports that share a source list, then the destinations that share both.
 * Address lists are written as the fewest CIDR prefixes that hold exactly those addresses, port
 * lists as ranges of consecutive ports; lists used more than once become one named set.
 *
 * Memory is bounded by max_keys distinct observations (about 200 bytes each while grouping: 256k by
 * default, about 50 MiB); beyond it observations are counted and left out, and the proposal says
 * so. Nothing here needs EAL; one thread at a time per learner.
 */
#ifndef RL_LEARN_H
#define RL_LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rl_policy.h"
#include "rl_preview.h"

/* Defaults of the bounds. */
#define RL_LEARN_MAX_KEYS  (1u << 18)
#define RL_LEARN_MAX_RULES 10000u
#define RL_LEARN_SAMPLES   3

/*
 * Something the operator does not want allowed: keys whose source and destination fall in the
 * lists, with that protocol (-1: any) and one of those destination ports (none: any).
 */
struct rl_learn_excl {
	const char *const *from; /* addresses or prefixes ("10.0.0.0/8", "fd00::1"); n 0: any */
	unsigned n_from;
	const char *const *to;
	unsigned n_to;
	int proto;
	const uint16_t *dports;
	unsigned n_dports;
};

/* One candidate rule with its evidence. Lists are CIDR / port-range texts. */
struct rl_learn_cand {
	char id[17]; /* stable for the same (family, proto, sources, destinations, ports) */
	uint8_t family;
	uint8_t proto;
	bool in_known;	 /* every key behind it came in on port in_port (else: not known) */
	uint8_t in_port; /* port index (rl_env order) */
	char **from;	 /* CIDR prefixes, fewest that hold exactly the sources seen */
	unsigned n_from;
	char **to;
	unsigned n_to;
	char **ports; /* "80", "8000-8099"; n 0 for protocols without ports */
	unsigned n_ports;
	uint64_t keys; /* (src, dst, dport) combinations behind it */
	uint64_t flows, packets, bytes;
	int64_t first, last;
	uint64_t denied_keys, denied_flows; /* what the policy in force would not allow */
	unsigned n_samples;
	struct rl_obs samples[RL_LEARN_SAMPLES]; /* largest by bytes */
};

struct rl_learn_stats {
	uint64_t observed;  /* observations offered */
	uint64_t excluded;  /* matched an exclusion */
	uint64_t dropped;   /* left out: max_keys reached */
	uint64_t keys;	    /* distinct keys kept */
	uint64_t rules_cut; /* candidates past max_rules, not in the proposal */
};

struct rl_learn;

/*
 * A learner. cur: the policy in force, to say which observations it would not allow (NULL:
 * none). max_keys, max_rules: 0 for the defaults. NULL with errno (ENOMEM).
 */
struct rl_learn *rl_learn_create(
		const struct rl_policy *cur, uint32_t max_keys, uint32_t max_rules);
void rl_learn_free(struct rl_learn *l);

/* Add an exclusion before the observations. 0, -EINVAL (a bad address: err says which) or
 * -ENOMEM. */
int rl_learn_exclude(struct rl_learn *l, const struct rl_learn_excl *x, char *err, size_t errlen);

/* Offer one observation. 0, 1 when excluded, -ENOSPC when max_keys is reached (counted). */
int rl_learn_add(struct rl_learn *l, const struct rl_obs *o);

/* Group what was added into candidates (once, after the last add). 0 or -ENOMEM. */
int rl_learn_build(struct rl_learn *l);

/* The candidates, by flows (largest first); valid until the free. */
unsigned rl_learn_n_candidates(const struct rl_learn *l);
const struct rl_learn_cand *rl_learn_candidate(const struct rl_learn *l, unsigned i);
void rl_learn_stats(const struct rl_learn *l, struct rl_learn_stats *out);

/*
 * The port names (rl_env order) the proposal writes a candidate's ingress port with: a candidate
 * whose keys all came in on one known port gets `in: NAME`. Without names (the default) no rule
 * says `in`. The names must outlive l.
 */
void rl_learn_set_ports(struct rl_learn *l, const char *const *ports, unsigned n_ports);

/*
 * Learning only some ports (a pair, in_mask: bit i for port i; 0: all): the proposal then ends
 * with a rule `learned-rest` that gives the default def to anything else those ports receive,
 * and its `default` is other, for the ports not learnt. Needs the names (rl_learn_set_ports).
 */
void rl_learn_set_scope(struct rl_learn *l, uint32_t in_mask, enum rl_action other);

/*
 * The proposed policy: `default` def (stated explicitly), the candidates (at most max_rules,
 * each `include[i]` when include is not NULL) as allow rules with named sets, and a header
 * comment with the window (since, until: Unix seconds) and the counts. NUL-terminated, malloc'd,
 * *len without the NUL; NULL with errno ENOMEM.
 */
char *rl_learn_proposal(const struct rl_learn *l, enum rl_action def, const bool *include,
		int64_t since, int64_t until, size_t *len);

/*
 * The fewest CIDR prefixes holding exactly the n sorted, distinct addresses a (family 4: values
 * below 2^32). Calls fn for each prefix (network address, prefix length) in order; returns the
 * count. For the tests as well.
 */
unsigned rl_learn_cidrs(uint8_t family, const rl_u128 *a, size_t n,
		void (*fn)(rl_u128 net, unsigned plen, void *arg), void *arg);

#endif /* RL_LEARN_H */
