/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control's side of the workers' event rings: drain in bulk, count, and hand each event on.
 * For now "on" means counting and, when asked, dumping every event as a JSON line (vigild
 * --events FILE); the store and the detectors subscribe here as they land.
 */
#ifndef CTL_EVENTS_H
#define CTL_EVENTS_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "dp.h"
#include "dp_event.h"

/* Its table (vg_ctr.h) is ctl_ctr.h's ctl_events_ctr_set. */
struct ctl_events_counters {
	uint64_t drained;
	uint64_t by_type[DP_EV_TXMETA + 1];
	uint64_t ends[DP_END_FLUSHED + 1];
	uint64_t seq_gaps; /* events a worker sent that never arrived (sequence gaps) */
	/* several workers: events handled before an earlier one of another worker could be
	 * ruled out (a worker far behind, its ring past half full) */
	uint64_t out_of_order;
};

typedef void (*ctl_event_fn)(void *arg, const struct dp_event *ev);

struct ctl_events;

/* dump: a file to write every event to as a JSON line, or NULL. */
struct ctl_events *ctl_events_create(const struct dp *dp, FILE *dump);
void ctl_events_free(struct ctl_events *ce);

/* Call fn(arg, ev) for every drained event (after counting and dumping). At most 8. */
int ctl_events_subscribe(struct ctl_events *ce, ctl_event_fn fn, void *arg);

/* Drain every worker's ring (at most max events per worker). Returns the number drained. */
unsigned ctl_events_drain(struct ctl_events *ce, unsigned max);

const struct ctl_events_counters *ctl_events_counters(const struct ctl_events *ce);

/* One event as a JSON object: the format of the dump and of the API. */
json_t *ctl_event_json(const struct dp_event *ev);

const char *ctl_event_type_name(uint8_t type);

#endif /* CTL_EVENTS_H */
