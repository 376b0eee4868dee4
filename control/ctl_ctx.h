/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control lcore's state: what it owns and what other threads may ask it about.
 *
 * Ownership: everything here is written only on the control lcore (through ctl_call() for
 * other threads), except where a field says otherwise. Management threads may read counters
 * (dataplane counters through dp_*(), control's event counters) without a call: they are
 * single-writer integers read whole.
 */
#ifndef CTL_CTX_H
#define CTL_CTX_H

#include <stdint.h>
#include <time.h>

#include "ctl_call.h"
#include "ctl_events.h"
#include "dp.h"
#include "vg_config.h"

struct ctl_analysis;
struct ctl_bpf_state;
struct ctl_ipfix;
struct ctl_learn;
struct ctl_policy;
struct ctl_rates;
struct ctl_sigs;
struct ctl_store;

struct ctl_ctx {
	const struct vg_config *cfg;
	struct dp *dp;
	struct ctl_events *events;
	struct ctl_mailbox *mailbox;
	struct ctl_policy *policy;
	struct ctl_store *store; /* NULL: no store configured */
	struct ctl_analysis *analysis;
	struct ctl_sigs *sigs;		 /* NULL: no signatures configured */
	struct ctl_link *link;		 /* link watch and propagation (ctl_link.h) */
	struct ctl_watchdog *watchdog;	 /* the workers' watchdog (ctl_watchdog.h) */
	struct ctl_ipfix *ipfix;	 /* NULL: no IPFIX export (ctl_ipfix.h) */
	struct ctl_learn *learn;	 /* learning mode (ctl_learn.h); NULL: not available */
	struct ctl_rates *rates;	 /* packet and bit rates (ctl_rates.h); NULL: none */
	struct ctl_bpf_state *bpf_state; /* maps across restarts (ctl_bpf_state.h); or NULL */
	uint64_t start_ns;		 /* wall clock at start, for uptime */
};

/* Wall-clock time in nanoseconds since the Unix epoch (versions, audit, uptime). */
static inline uint64_t
ctl_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#endif /* CTL_CTX_H */
