/* SPDX-License-Identifier: BSD-3-Clause */
/* Alerts raised by policy rules' eBPF programs (docs/BPF.md), on the control lcore. */
#ifndef CTL_BPF_H
#define CTL_BPF_H

#include "ctl_ctx.h"
#include "dp_event.h"

/*
 * Event subscriber (arg: the struct ctl_ctx): an alert a program raised (gid DP_BPF_ALERT_GID)
 * becomes an alert named after its rule, "bpf <rule>: alert <id>", through the analysis (dedup,
 * store, EVE log, webhook). Other events are ignored.
 */
void ctl_bpf_on_event(void *arg, const struct dp_event *ev);

#endif /* CTL_BPF_H */
