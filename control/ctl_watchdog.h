/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The workers' watchdog: control reads each worker's loop counter (every tenth of the timeout, at
 * most 100 ms apart); a worker whose counter has not moved for `watchdog.timeout` is stalled (its
 * queues are not served: nothing crosses them), which is logged, counted, shown in the status, the
 * metrics and the dashboard, and written to the store's audit table (actor "watchdog"); so is its
 * recovery. A stalled worker forwards nothing (fail-closed by nature); handing its queues to
 * another lcore (fail-open) is not built (docs/OPERATIONS.md, "Watchdog").
 */
#ifndef CTL_WATCHDOG_H
#define CTL_WATCHDOG_H

#include <stdint.h>

#include <jansson.h>

#include "vg_yaml.h"

struct ctl_ctx;
struct ctl_watchdog;

struct ctl_watchdog_opts {
	uint64_t timeout_ms; /* 0: off; default 2000 */
};

void ctl_watchdog_opts_defaults(struct ctl_watchdog_opts *o);

/* The `watchdog:` section (a vg_config_section callback). */
int ctl_watchdog_parse(struct vg_yaml *y, yaml_node_t *n, void *obj);

struct ctl_watchdog *ctl_watchdog_create(struct ctl_ctx *ctx, const struct ctl_watchdog_opts *o);
void ctl_watchdog_free(struct ctl_watchdog *wd);

/* On the control lcore, on every pass; it checks the workers every tenth of the timeout. */
void ctl_watchdog_tick(struct ctl_watchdog *wd, uint64_t now_ms);

/* Worker w for the status: {stalled, stalled_ms, stalls, longest_stall_ms}. Any thread. */
json_t *ctl_watchdog_worker_json(struct ctl_watchdog *wd, unsigned w);

#endif /* CTL_WATCHDOG_H */
