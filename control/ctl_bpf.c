/* SPDX-License-Identifier: BSD-3-Clause */
/* Alerts raised by policy rules' eBPF programs and by pre-filters. */
#include <stdio.h>

#include "ctl_alert.h"
#include "ctl_analysis.h"
#include "ctl_bpf.h"
#include "dp.h"
#include "dp_bpf.h"
#include "rl_compile.h"

void
ctl_bpf_on_event(void *arg, const struct dp_event *ev)
{
	struct ctl_ctx *ctx = arg;
	const struct rl_snapshot *s;
	const struct rl_rule_info *ri = NULL;
	struct ctl_alert a;
	char msg[160];

	if (ev->type != DP_EV_ALERT || ctx->analysis == NULL)
		return;
	if (ev->alert.gid == DP_BPF_PREFILTER_GID) {
		const struct rl_prefilter_info *pi = NULL;

		s = dp_policy(ctx->dp);
		if (s != NULL && ev->alert.rev > 0)
			pi = rl_snapshot_prefilter(s, ev->alert.rev - 1);
		snprintf(msg, sizeof(msg), "bpf prefilter %s: alert %u",
				pi != NULL ? pi->name : "(gone)", (unsigned)ev->alert.sid);
		ctl_alert_from_event(ev, msg, "eBPF pre-filter", CTL_SEV_MEDIUM, &a);
		snprintf(a.detector, sizeof(a.detector), "bpf");
		ctl_analysis_alert(ctx->analysis, &a);
		return;
	}
	if (ev->alert.gid != DP_BPF_ALERT_GID)
		return;
	/* rev is the rule's index + 1 in the policy of the event (the one in force, but for an
	 * alert raised just before a reload). */
	s = dp_policy(ctx->dp);
	if (s != NULL && ev->alert.rev > 0)
		ri = rl_snapshot_rule(s, ev->alert.rev - 1);
	snprintf(msg, sizeof(msg), "bpf %s: alert %u", ri != NULL ? ri->name : "(rule gone)",
			(unsigned)ev->alert.sid);
	ctl_alert_from_event(ev, msg, "eBPF program", CTL_SEV_MEDIUM, &a);
	snprintf(a.detector, sizeof(a.detector), "bpf");
	ctl_analysis_alert(ctx->analysis, &a);
}
