/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A stand-in for control/ctl_api.c in mgmt's unit tests and fuzz target: the whole ctl_api
 * contract over in-memory state, so that every handler runs without EAL, ports or a control
 * lcore. It keeps what a test wants to look at afterwards (audit records, the last flow
 * filter) and lets a test make the appliance not ready, busy or store-backed.
 *
 * Texts "validate" as YAML documents whose root is a mapping without a key named bad: libyaml's
 * own errors and that one rule give positioned diagnostics like the real loaders do.
 */
#ifndef MG_FAKE_CTL_H
#define MG_FAKE_CTL_H

#include <stdbool.h>

#include "ctl_api.h"

struct fake_audit {
	char who[64];
	char method[8];
	char path[160];
	char request[512];
	int status;
};

/* Forget everything: no texts, no versions, mode enforce, ready, no store, no audit. */
void fake_ctl_reset(void);

void fake_ctl_set_ready(bool ready, const char *why);

/* Calls that go to control answer -EBUSY while busy. */
void fake_ctl_set_busy(bool busy);

/* Writes apply but answer -EINPROGRESS with an operation (all applied), as when control ran
 * them past the call timeout. */
void fake_ctl_set_late(bool late);

/* Make every text validation (and apply) take this long, like a big policy compiling. */
void fake_ctl_set_compile_ms(unsigned ms);

/* Path ctl_api_store_path() returns (NULL: no store). */
void fake_ctl_set_store_path(const char *path);

unsigned fake_ctl_audit_count(void);
const struct fake_audit *fake_ctl_audit_get(unsigned i);

/* The filter and limit of the last ctl_api_flows_active() call. */
const struct ctl_flow_filter *fake_ctl_last_flow_filter(unsigned *limit);

/* How many times ctl_api_status() and ctl_api_metrics() were called since the reset. */
unsigned fake_ctl_status_calls(void);

/* Entries in the blocklist. */
unsigned fake_ctl_block_count(void);

#endif /* MG_FAKE_CTL_H */
