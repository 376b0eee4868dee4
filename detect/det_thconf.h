/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * threshold.config (Suricata's format): thresholds, rate filters and suppressions set on the
 * sensor rather than in the rules, one per line (a trailing backslash continues a line):
 *
 *   threshold gen_id 1, sig_id 2002087, type both, track by_src, count 3, seconds 5
 *   event_filter ...                             (the same as threshold)
 *   rate_filter gen_id 1, sig_id 888, track by_src, count 10, seconds 60, \
 *       new_action drop, timeout 300
 *   suppress gen_id 1, sig_id 2003614
 *   suppress gen_id 1, sig_id 2003614, track by_either, ip [10.0.0.0/8,$DNS_SERVERS]
 *
 * How it applies (det_thconf_apply), as Suricata:
 *  - threshold on gid:sid replaces the rule's own threshold or detection_filter; with gen_id 0
 *    and/or sig_id 0 it applies to every (such) rule that has none of its own.
 *  - rate_filter: after more than count matches in seconds, the rule's action becomes
 *    new_action (alert, drop, reject, pass) for timeout seconds (det_thresh.h).
 *  - suppress without track: the rule never alerts (its action and flowbits still apply).
 *    With track and ip: a match whose source (by_src), destination (by_dst) or either
 *    (by_either) address is in ip does nothing: no alert, no action, not counted; flowbits
 *    are still set. gen_id 0 / sig_id 0 match every gid / sid.
 *
 * Every bad line is an error at file:line:column saying why; a file with any error is refused
 * as a whole (det_thconf_load returns -EINVAL), so the set in force is kept.
 */
#ifndef DET_THCONF_H
#define DET_THCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "det_addr.h"
#include "det_rule.h"
#include "det_thresh.h"
#include "vg_diag.h"

enum det_thc_kind {
	DET_THC_THRESHOLD = 1, /* threshold and event_filter */
	DET_THC_RATE,
	DET_THC_SUPPRESS,
};

enum det_sup_track {
	DET_SUP_ALL = 0, /* no track: the rule's alerts, whatever the addresses */
	DET_SUP_SRC,
	DET_SUP_DST,
	DET_SUP_EITHER,
};

/* One line. */
struct det_thc_entry {
	uint8_t kind;	   /* enum det_thc_kind */
	uint8_t sup_track; /* enum det_sup_track */
	uint32_t gid, sid; /* 0: any */
	unsigned line;
	struct det_threshold th;   /* DET_THC_THRESHOLD */
	struct det_rate_filter rf; /* DET_THC_RATE */
	struct det_ipset ip;	   /* DET_THC_SUPPRESS with a track */
};

struct det_thconf;

/*
 * Parse a threshold.config. vars resolves $NAME in suppress addresses (may be NULL). Returns
 * 0 and the parsed file, or -EINVAL (every problem in diag, at its line) or -ENOMEM / -errno
 * when the file cannot be read. An empty file (or only comments) is valid.
 */
int det_thconf_load(const char *path, const struct det_vars *vars, struct vg_diag *diag,
		struct det_thconf **out);
int det_thconf_load_buf(const char *name, const char *buf, size_t len, const struct det_vars *vars,
		struct vg_diag *diag, struct det_thconf **out);

/* Drop a reference (an engine it was applied to holds one). NULL is a no-op. */
void det_thconf_free(struct det_thconf *c);

unsigned det_thconf_count(const struct det_thconf *c);
const struct det_thc_entry *det_thconf_entry(const struct det_thconf *c, unsigned i);

/* Does suppression s (kind DET_THC_SUPPRESS) silence a packet from src to dst? */
bool det_thc_suppresses(const struct det_thc_entry *s, uint8_t family, const uint8_t *src,
		const uint8_t *dst);

/*
 * Apply c to every rule of e it names (before e is handed to workers); e keeps a reference
 * on c. Lines naming a gid:sid that is not in the set are warnings in diag. Returns 0, or
 * -ENOMEM.
 */
struct det_engine;
int det_thconf_apply(struct det_engine *e, struct det_thconf *c, struct vg_diag *diag);

#endif /* DET_THCONF_H */
