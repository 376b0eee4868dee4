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
 * The table has a bounded number of entries; when a key's probe sequence is full, the entry
 * whose window started longest ago is evicted (counted). No allocation after create.
 */
#ifndef DET_THRESH_H
#define DET_THRESH_H

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

/*
 * Account one match of r (which has a threshold or detection_filter) at now_ns for a packet
 * from src to dst (16 bytes each, network order). Returns DET_TH_* bits.
 */
unsigned det_thresh_check(struct det_thresh *t, const struct det_rule *r, const uint8_t *src,
		const uint8_t *dst, uint64_t now_ns);

/* Entries evicted so far. */
uint64_t det_thresh_evictions(const struct det_thresh *t);

#endif /* DET_THRESH_H */
