/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The workers' watchdog: control reads each worker's loop counter (every tenth of the timeout, at
 * most 100 ms apart); a worker whose counter has not moved for `watchdog.timeout` is stalled,
 * which is logged, counted, shown in the status, the metrics and the dashboard, and written to
 * the store's audit table (actor "watchdog"); so is its recovery. `watchdog.failure` says what
 * becomes of the stalled worker's queues: closed (the default), they are not served and nothing
 * crosses them until the worker comes back; open, control's lcore polls them and forwards every
 * frame unchanged to the peer port (dp_failopen_poll(): no parsing, no policy) until the worker's
 * loop moves again, and then hands them back (docs/OPERATIONS.md, "Watchdog").
 */
#ifndef CTL_WATCHDOG_H
#define CTL_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "vg_yaml.h"

struct ctl_ctx;
struct ctl_watchdog;

/* A worker's counters of the watchdog: the report's workers[].watchdog, made with their table
 * ctl_watchdog_ctr_set (control/ctl_ctr.c, which the exposition's library links). */
struct ctl_watchdog_counters {
	uint64_t stalls;    /* times the worker's loop was found stopped */
	uint64_t failovers; /* times its queues were failed over to the control lcore */
};

enum ctl_watchdog_failure {
	CTL_WD_FAILURE_CLOSED = 0,
	CTL_WD_FAILURE_OPEN,
};

struct ctl_watchdog_opts {
	uint64_t timeout_ms; /* 0: off; default 2000 */
	int failure;	     /* enum ctl_watchdog_failure */
};

void ctl_watchdog_opts_defaults(struct ctl_watchdog_opts *o);

/* The `watchdog:` section (a vg_config_section callback). */
int ctl_watchdog_parse(struct vg_yaml *y, yaml_node_t *n, void *obj);

/*
 * With failure: open (and a timeout), this gives the workers' queues their fail-open locks
 * (dp_failopen_enable()): create it before dp_launch(). NULL with errno set.
 */
struct ctl_watchdog *ctl_watchdog_create(struct ctl_ctx *ctx, const struct ctl_watchdog_opts *o);
void ctl_watchdog_free(struct ctl_watchdog *wd);

/* On the control lcore, on every pass; it checks the workers every tenth of the timeout. */
void ctl_watchdog_tick(struct ctl_watchdog *wd, uint64_t now_ms);

/*
 * Failure open: one pass of the fallback over the queues of every worker that is failed over
 * (control lcore, on every pass of its loop). Returns true while some worker is failed over:
 * the loop must then not wait for work.
 */
bool ctl_watchdog_failover_poll(struct ctl_watchdog *wd);

/*
 * Worker w for the status: {stalled, stalled_ms, stalls, longest_stall_ms, timeout_ms, failure,
 * failed_over, failovers, failopen {packets, bytes, tx_full, busy}, last_event (the last stall
 * or recovery as logged, null before the first)}. Any thread.
 */
json_t *ctl_watchdog_worker_json(struct ctl_watchdog *wd, unsigned w);

#endif /* CTL_WATCHDOG_H */
