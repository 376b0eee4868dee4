/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Token buckets for rate-limit rules.
 *
 * Time is whatever the caller says it is, in nanoseconds: the dataplane has one clock (the TSC
 * live, packet timestamps when replaying a capture), and tests pass exact times. Tokens are kept
 * in nano-units (packets or bits times 10^9) so that refills are exact integer arithmetic with
 * no division on the fast path. Time that goes backwards refills nothing.
 *
 * A per-worker source table (rl_src_table) holds one bucket per (rule, source address) for
 * rules with per: source. It is an rte_hash of bounded size created once per worker; when it is
 * full, the least recently used of a few entries under a clock hand is reused. Nothing on the
 * take path allocates. Not thread-safe: one table per worker.
 */
#ifndef RL_RATELIMIT_H
#define RL_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "rl_policy.h"

#define RL_NS_PER_S 1000000000ULL

/* Bucket parameters derived from a rule's rate. */
struct rl_tb_params {
	uint64_t rate;	  /* units per second: packets (pps) or bits (bps) */
	uint64_t cap;	  /* burst in nano-units */
	uint64_t fill_ns; /* time that fills an empty bucket */
	bool bits;	  /* cost is the packet length in bits, not one packet */
};

struct rl_tb {
	uint64_t tokens; /* nano-units */
	uint64_t last_ns;
};

/*
 * Derive parameters from r, giving each of share takers (workers) 1/share of the rate and the
 * burst (each at least 1). Returns 0 or -EINVAL for a rate or burst of 0.
 */
int rl_tb_params_init(struct rl_tb_params *tp, const struct rl_rate *r, unsigned share);

/* A full bucket at time now_ns. */
static inline void
rl_tb_reset(struct rl_tb *b, const struct rl_tb_params *tp, uint64_t now_ns)
{
	b->tokens = tp->cap;
	b->last_ns = now_ns;
}

/*
 * Refill for the time since the last call, then take one packet of pkt_len bytes. Returns true
 * when the packet is within the rate (tokens taken), false when it is over (nothing taken).
 */
static inline bool
rl_tb_take(struct rl_tb *b, const struct rl_tb_params *tp, uint64_t now_ns, uint32_t pkt_len)
{
	uint64_t cost = (tp->bits ? (uint64_t)pkt_len * 8 : 1) * RL_NS_PER_S;

	if (now_ns > b->last_ns) {
		uint64_t dt = now_ns - b->last_ns;

		if (dt >= tp->fill_ns) {
			b->tokens = tp->cap;
		} else {
			/* dt < cap / rate, so dt * rate cannot overflow. */
			uint64_t add = dt * tp->rate;

			b->tokens = add >= tp->cap - b->tokens ? tp->cap : b->tokens + add;
		}
		b->last_ns = now_ns;
	}
	if (b->tokens < cost)
		return false;
	b->tokens -= cost;
	return true;
}

struct rl_src_table;

struct rl_src_stats {
	uint64_t inserts;      /* new sources */
	uint64_t reused_stale; /* a full table reused an entry whose bucket had refilled */
	uint64_t evicted_live; /* a full table reused an entry that was still limiting */
	uint32_t entries;      /* sources held now */
	uint32_t capacity;
};

/*
 * Create a table for up to entries sources (at least 8) on socket. name must be unique in the
 * process (rte_hash names are global). Needs EAL. Returns NULL with rte_errno set.
 */
struct rl_src_table *rl_src_table_create(const char *name, uint32_t entries, int socket);

/* NULL is a no-op. */
void rl_src_table_free(struct rl_src_table *t);

/*
 * Take one packet from the bucket of (rule, source address) with parameters tp, creating a
 * full bucket for a new source. family 4 uses addr[0..3]. Returns true when within the rate.
 */
bool rl_src_take(struct rl_src_table *t, uint32_t rule, const struct rl_tb_params *tp,
		uint8_t family, const uint8_t *addr, uint64_t now_ns, uint32_t pkt_len);

void rl_src_table_stats(const struct rl_src_table *t, struct rl_src_stats *out);

#endif /* RL_RATELIMIT_H */
