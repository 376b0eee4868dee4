/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What control publishes to every worker: the policy snapshot in force, the global mode and the
 * ports whose pair runs in dry-run apart from it.
 * Control is the only writer; workers read both once per burst. A new snapshot is published by
 * one atomic pointer store; the old one is freed only after every worker has reported a
 * quiescent state since (rte_rcu_qsbr), so a worker never sees a freed snapshot.
 */
#ifndef DP_SHARED_H
#define DP_SHARED_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

struct rl_snapshot;
struct det_engine;

enum dp_mode {
	DP_MODE_ENFORCE = 0,
	DP_MODE_DRY_RUN = 1, /* everything is forwarded; what would have been dropped is counted */
};

struct dp_shared {
	struct rl_snapshot *policy; /* NULL: no policy, everything forwarded */
	struct det_engine *sigs;    /* NULL: no signatures, nothing inspected */
	uint32_t mode;		    /* enum dp_mode */
	/* signatures are configured but not in force yet (signatures.delayed): inspected flows
	 * meet the signatures_loading exception until sigs is set */
	uint32_t sigs_pending;
	uint32_t dry_ports; /* bit i: port i's pair is in dry-run (or learns) whatever the mode */
} __rte_cache_aligned;

static inline const struct rl_snapshot *
dp_shared_policy(const struct dp_shared *s)
{
	return __atomic_load_n(&s->policy, __ATOMIC_ACQUIRE);
}

static inline const struct det_engine *
dp_shared_sigs(const struct dp_shared *s)
{
	return __atomic_load_n(&s->sigs, __ATOMIC_ACQUIRE);
}

static inline bool
dp_shared_sigs_pending(const struct dp_shared *s)
{
	return __atomic_load_n(&s->sigs_pending, __ATOMIC_RELAXED) != 0;
}

static inline enum dp_mode
dp_shared_mode(const struct dp_shared *s)
{
	return (enum dp_mode)__atomic_load_n(&s->mode, __ATOMIC_RELAXED);
}

/* True when packets that arrived on port are only counted, not dropped (dry-run, learning). */
static inline bool
dp_shared_dry(const struct dp_shared *s, uint16_t port)
{
	return dp_shared_mode(s) == DP_MODE_DRY_RUN ||
	       (port < 32 && (__atomic_load_n(&s->dry_ports, __ATOMIC_RELAXED) >> port & 1));
}

#endif /* DP_SHARED_H */
