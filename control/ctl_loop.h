/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control loop on the main lcore. It watches the dataplane, prints the periodic stats line
 * and returns when asked to stop (a signal) or, for replayed captures, when the input has run dry.
 * It is not on the packet path: it may sleep, log and make system calls.
 */
#ifndef CTL_LOOP_H
#define CTL_LOOP_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "ctl_ctx.h"
#include "ctl_events.h"
#include "dp.h"

struct ctl_opts {
	uint64_t stats_interval_ms;    /* 0: no periodic line */
	uint64_t stop_after_idle_ms;   /* 0: run until signalled */
	volatile sig_atomic_t *quit;   /* set by the signal handler */
	volatile sig_atomic_t *reload; /* SIGHUP: rebuild the policy file */
	/*
	 * Called on every pass of the loop (at least every millisecond or so) with the monotonic
	 * time in ms, on the control lcore: vigild's service-manager watchdog and log reopening.
	 * A stalled loop stops calling it. NULL: none.
	 */
	void (*tick)(void *arg, uint64_t now_ms);
	void *tick_arg;
};

/*
 * Run until *quit or idle: drain events, run mailbox calls, take the rates' readings
 * (ctx->rates), print stats. Returns 0, 1 when it stopped because the input was idle, or
 * -ENOMEM when it could not start.
 */
int ctl_run(struct ctl_ctx *ctx, const struct ctl_opts *opts);

/*
 * Stop the workers while draining their events, so that the end events of every open flow
 * reach control; then wait for the workers.
 */
void ctl_stop_dataplane(struct ctl_ctx *ctx);

/* Print the per-port and per-worker counters (the final report on exit). */
void ctl_print_counters(const struct dp *dp, FILE *out);

#endif /* CTL_LOOP_H */
