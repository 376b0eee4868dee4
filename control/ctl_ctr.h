/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where the dataplane's counter tables (vg_ctr.h, dataplane/dp_stats.c) and control's (its
 * event counters: ctl_events_ctr_set, below) appear in the report
 * (ctl_status.c: GET /api/v1/status, /metrics, `vigild --stats-json`), and their JSON. The
 * Prometheus exposition (mgmt/mg_prom.c) makes its rows for these counters from this list, so
 * a counter added to a table is in the report and the exposition with no other edit.
 */
#ifndef CTL_CTR_H
#define CTL_CTR_H

#include <stdbool.h>

#include <jansson.h>

#include "vg_ctr.h"

/* The report's sections of counters; ctl_ctr_sections()[i] for i below. */
enum ctl_ctr_section_id {
	CTL_CTR_PORTS,		   /* ports[]: per port, over workers */
	CTL_CTR_WORKERS,	   /* workers[]: each worker's loops */
	CTL_CTR_WORKER_TRAFFIC,	   /* workers[]: the worker's port counters summed over its ports */
	CTL_CTR_QUEUES,		   /* workers[].queues[]: the port counters of one RX queue */
	CTL_CTR_HANDOFF,	   /* workers[].handoff: software dispatch */
	CTL_CTR_POLICY,		   /* policy: over workers */
	CTL_CTR_WORKER_POLICY,	   /* workers[].policy */
	CTL_CTR_INSPECTION,	   /* inspection: over workers */
	CTL_CTR_FRAGMENTS,	   /* fragments: over workers */
	CTL_CTR_REASSEMBLY,	   /* fragments.reassembly: over workers */
	CTL_CTR_WORKER_FRAGMENTS,  /* workers[].fragments */
	CTL_CTR_WORKER_REASSEMBLY, /* workers[].fragments.reassembly */
	CTL_CTR_PARSE,		   /* parse: over workers */
	CTL_CTR_WORKER_PARSE,	   /* workers[].parse */
	CTL_CTR_EVENTS,		   /* control.events: control's (with a control loop) */
	CTL_CTR_FLOWS,		   /* flows: over workers */
	CTL_CTR_WORKER_FLOWS,	   /* workers[].flows */
	CTL_CTR_WORKER_EVENTS,	   /* workers[].events: each worker's ring to control */
	CTL_CTR_WORKER_EVENTS_SUM, /* events: the same over workers */
	CTL_CTR_WATCHDOG,	   /* workers[].watchdog (with a watchdog) */
	CTL_CTR_FAILOPEN,	   /* workers[].watchdog.failopen */
	CTL_CTR_APPLAYER,	   /* applayer: over workers (with the application layer) */
	CTL_CTR_STORE,		   /* store (with a store) */
	CTL_CTR_EVE,		   /* eve (with alerts.eve_log) */
	CTL_CTR_EVE_SYSLOG,	   /* eve_syslog (with alerts.eve_syslog) */
	CTL_CTR_EVE_SOCKET,	   /* eve_socket (with alerts.eve_socket) */
	CTL_CTR_IPFIX,		   /* ipfix (with export.ipfix) */
	CTL_CTR__COUNT
};

/* How the exposition (mgmt/mg_prom.c) shows a section; tests/unit/mgmt/test_mg_prom.c checks
 * that every counter of a section is in it, once. */
enum ctl_ctr_prom {
	CTL_PROM_TABLE, /* a row per counter, made from the table */
	CTL_PROM_ROWS,	/* the set again under other names: mg_prom.c has a row per counter */
	CTL_PROM_NONE,	/* JSON only: a per-worker breakdown of a set exported summed */
};

struct ctl_ctr_section {
	/* Where the set's values are in the document: '.' separates members, "[]" walks the
	 * elements of an array (mg_prom.h's paths). */
	const char *path;
	const struct vg_ctr_set *set;
	/* For a path through an array: the label of its elements in Prometheus ("port") and the
	 * element's member that gives its value ("name"). */
	const char *label;
	const char *label_from;
	enum ctl_ctr_prom prom;
	/* A fixed label pair on every sample of the section, for sections of one set that share
	 * its families (output="eve_syslog"); NULL: none. */
	const char *prom_label;
};

/* The table of control's event counters (ctl_events.h), in ctl_ctr.c: the exposition's
 * library (mgmt's) links the store's, not control's loop. */
extern const struct vg_ctr_set ctl_events_ctr_set;
/* And the watchdog's (ctl_watchdog.h). */
extern const struct vg_ctr_set ctl_watchdog_ctr_set;

/* The sections, CTL_CTR__COUNT of them (*n), indexed by enum ctl_ctr_section_id. */
const struct ctl_ctr_section *ctl_ctr_sections(unsigned *n);

/*
 * The values of base (a struct of set s) as members of obj: a scalar row as "name": value, an
 * array row as "name": {element name: value}. An array row with json_at is added instead into
 * root's object at that path (made when missing), so that several structs counting the same
 * thing sum there; it is left out when root is NULL. Values are read with relaxed loads: copy
 * a struct other threads write (vg_ctr_add into a zeroed one) to show one reading in several
 * places. Returns 0 or -ENOMEM.
 */
int ctl_ctr_json(const struct vg_ctr_set *s, const void *base, json_t *obj, json_t *root);

/*
 * obj with the values of base added (ctl_ctr_json() without a root), for a caller that made obj
 * with what its struct has besides counters (json_object(), json_pack(): NULL when that
 * failed). Returns obj, or NULL (obj released) when obj was NULL or the values did not fit.
 */
json_t *ctl_ctr_with(json_t *obj, const struct vg_ctr_set *s, const void *base);

#endif /* CTL_CTR_H */
