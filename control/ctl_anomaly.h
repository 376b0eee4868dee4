/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anomaly detectors on the control lcore, fed with the workers' flow events; what they find
 * becomes a ctl_alert handed to a callback (the control loop routes it to dedup, the store, the
 * EVE log, the webhook and, when the detector opted in, the blocklist). Each detector is one
 * file (ctl_anomaly_<name>.c: its opening comment says what it finds) that declares its name,
 * config and callbacks as one struct ctl_anomaly_def (ctl_anomaly_impl.h), and one row of
 * ctl_anomaly.c's table; docs/STORE.md describes them and docs/DETECTION.md how well they do.
 *
 * Windows and rates run on the dataplane clock (event time_ns), so a replayed capture is judged
 * the same at any replay speed. Single-threaded: control only. Needs EAL (rte_hash).
 */
#ifndef CTL_ANOMALY_H
#define CTL_ANOMALY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_alert.h"
#include "dp_event.h"
#include "vg_addr.h"
#include "vg_yaml.h"

struct ctl_store;

/* Most detectors the table may hold, and the room each has for its config. */
#define CTL_ANOMALY_MAX_DETECTORS 16
#define CTL_ANOMALY_CFG_MAX	  512

#define CTL_ANOMALY_MAX_NETS 32

/* What every detector has: on or off, and the closed loop (off unless asked for). */
struct ctl_anomaly_common {
	bool enabled;
	bool block;	       /* ask for the source to be blocked when an alert starts */
	uint64_t block_ttl_ms; /* for how long */
};

struct ctl_anomaly_cfg {
	/* Internal networks: "outbound" and "host" mean addresses inside these. */
	struct vg_prefix internal[CTL_ANOMALY_MAX_NETS];
	uint32_t n_internal;
	/* Never block these, whatever a detector asks. */
	struct vg_prefix never_block[CTL_ANOMALY_MAX_NETS];
	uint32_t n_never_block;
	uint32_t max_entries;	/* state entries per detector (memory bound) */
	uint32_t max_baselines; /* baselines for all detectors */
	double min_stddev_frac; /* a baseline's deviation is never taken below this share of its
				   mean */
	/*
	 * Each detector's config, by its row in the table: a struct its file declares, which starts
	 * with the common settings.
	 */
	union ctl_anomaly_det_cfg {
		struct ctl_anomaly_common c;
		max_align_t align;
		unsigned char bytes[CTL_ANOMALY_CFG_MAX];
	} det[CTL_ANOMALY_MAX_DETECTORS];
};

/* Defaults: every detector on with its own defaults, no blocking, RFC 1918 and fc00::/7 internal.
 */
void ctl_anomaly_defaults(struct ctl_anomaly_cfg *cfg);

/*
 * Parse a `detectors:` mapping into cfg (defaults are not reset): internal, never_block,
 * max_entries, max_baselines, min_stddev_fraction, and one mapping per detector, keyed by its
 * name. Returns 0 or -EINVAL.
 */
int ctl_anomaly_yaml_parse(struct vg_yaml *y, yaml_node_t *n, struct ctl_anomaly_cfg *cfg);

/* Receives each finding. a is the caller's to change (dedup fills uid and count). */
typedef void (*ctl_alert_cb)(struct ctl_alert *a, void *arg);

struct ctl_anomaly;

/* Returns NULL and sets errno (ENOMEM, or rte_hash's error). */
struct ctl_anomaly *ctl_anomaly_create(
		const struct ctl_anomaly_cfg *cfg, ctl_alert_cb cb, void *arg);
void ctl_anomaly_free(struct ctl_anomaly *d);

/* Feed one worker event (flow start, update, end; alert events are ignored). */
void ctl_anomaly_on_event(struct ctl_anomaly *d, const struct dp_event *ev);

/*
 * Periodic work: close intervals and windows, forget stale state. now_ns is the dataplane clock
 * (0: the newest event time seen, which is what a replay should pass).
 */
void ctl_anomaly_on_tick(struct ctl_anomaly *d, uint64_t now_ns);

/*
 * Judge every open interval of the interval detectors (SYN flood, exfiltration, rate) now, as
 * if each had run its course: the end of the traffic (vigild stopping). now_ns: the dataplane
 * clock (0: the newest event time). Window detectors, which judge as events arrive, keep their
 * windows, so events that still come (the shutdown's flow ends) count in them.
 */
void ctl_anomaly_close_intervals(struct ctl_anomaly *d, uint64_t now_ns);

/* Persist changed baselines through the store / load them at start. Count or -errno. */
int ctl_anomaly_save_baselines(struct ctl_anomaly *d, struct ctl_store *s);
int ctl_anomaly_load_baselines(struct ctl_anomaly *d, struct ctl_store *s);

struct ctl_anomaly_counters {
	uint64_t events;
	uint64_t flows_untracked; /* per-flow state table full */
	/* By detector id: */
	uint64_t alerts[CTL_ANOMALY_MAX_DETECTORS];    /* findings emitted */
	uint64_t untracked[CTL_ANOMALY_MAX_DETECTORS]; /* state table full: not judged */
	uint32_t entries[CTL_ANOMALY_MAX_DETECTORS];   /* live state entries */
	uint32_t baselines;
};

void ctl_anomaly_counters(const struct ctl_anomaly *d, struct ctl_anomaly_counters *c);

/* The detectors: ids 0 to ctl_anomaly_count() - 1, in the order of ctl_anomaly.c's table. */
unsigned ctl_anomaly_count(void);

/* A detector's name ("port_scan", "syn_flood", ...), "?" for an id out of range. */
const char *ctl_anomaly_name(unsigned id);

/* The id of the detector named name, or -ENOENT. */
int ctl_anomaly_find(const char *name);

/* Every finding's template (for documentation and tests). */
const struct ctl_alert_template *ctl_anomaly_template(unsigned i);
unsigned ctl_anomaly_n_templates(void);

/* Is addr inside one of the nets? */
bool ctl_net_contains(
		const struct vg_prefix *nets, unsigned n, uint8_t family, const uint8_t *addr);

#endif /* CTL_ANOMALY_H */
