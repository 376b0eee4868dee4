/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * threshold and detection_filter accounting, per worker, in a fixed-size table.
 *
 * Entries are keyed by gid:sid and the tracked address(es), so they survive a reload for the
 * rules that stay. Windows follow Suricata: the first match opens a window of `seconds`; a
 * match after it closes opens a new one. What a match is allowed to do:
 *   limit:            the action always; an alert for the first `count` matches per window
 *   threshold:        action and alert on every count-th match in a window, nothing between
 *   both:             nothing before count; at count action and alert; after, action only
 *   detection_filter: nothing up to count; action and alert on every match after it
 * by_both tracks the address pair in either direction as one.
 *
 * detection_filter with unique_on (Suricata 8) counts the distinct source or destination
 * ports seen in the window instead of matches: nothing until more than `count` distinct
 * ports, then action and alert on every match. The ports are a 65536-bit map per entry, taken
 * from a pool (entries / 256 maps, at least 16): an entry whose map was taken by another
 * starts counting distinct ports again (counted as steals).
 *
 * rate_filter (threshold.config) is accounted in the same table under its own key: once more
 * than `count` matches fall within `seconds`, the match that crossed it and every match for
 * `timeout` seconds after it take the filter's new action; the first match after the timeout
 * opens a new window with the rule's own action.
 *
 * The table has a bounded number of entries; when a key's probe sequence is full, the entry
 * whose window started longest ago is evicted (counted). No allocation after create.
 */
#ifndef DET_THRESH_H
#define DET_THRESH_H

#include <stdbool.h>
#include <stdint.h>

#include "det_rule.h"

enum {
	DET_TH_APPLY = 1u << 0, /* the rule's action applies to this packet */
	DET_TH_ALERT = 1u << 1, /* and it alerts */
};

struct det_thresh;

/* entries is rounded up to a power of two (at least 16). NULL with errno on failure. */
struct det_thresh *det_thresh_create(uint32_t entries);
void det_thresh_free(struct det_thresh *t);

/* What the accounting needs of a packet. */
struct det_th_pkt {
	const uint8_t *src, *dst; /* 16 bytes each, network order */
	uint16_t sport, dport;	  /* host order */
	uint64_t now_ns;
};

/*
 * Account one match of rule gid:sid under th (a threshold or detection_filter, from the rule
 * or threshold.config). Returns DET_TH_* bits.
 */
unsigned det_thresh_check(struct det_thresh *t, uint32_t gid, uint32_t sid,
		const struct det_threshold *th, const struct det_th_pkt *p);

/* A rate_filter of threshold.config. */
struct det_rate_filter {
	uint8_t track;	    /* enum det_track */
	uint8_t new_action; /* enum det_action */
	uint32_t count;
	uint32_t seconds;
	uint32_t timeout;
};

/* Account one match of gid:sid under rf: true when the new action applies to it. */
bool det_rate_check(struct det_thresh *t, uint32_t gid, uint32_t sid,
		const struct det_rate_filter *rf, const struct det_th_pkt *p);

/* Entries evicted so far. */
uint64_t det_thresh_evictions(const struct det_thresh *t);

/* unique_on port maps taken from a live entry by another. */
uint64_t det_thresh_steals(const struct det_thresh *t);

#endif /* DET_THRESH_H */
