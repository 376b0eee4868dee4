/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Confirmation: a rule's payload keywords run in order on a buffer, with Suricata's semantics.
 *
 * content: offset/depth are absolute (depth counted from offset); distance/within are
 * relative to the end of the previous content or pcre match (within counted from the point
 * distance gives); a negated content must be absent from its window. When a later keyword
 * depends on an earlier match and fails, the earlier keyword is tried at its next occurrence,
 * so the answer is "is there any placement satisfying every keyword". pcre with R starts at
 * the end of the previous match; isdataat tests the buffer length.
 *
 * In streaming mode the buffer is the recent part of a stream: base is the stream offset of
 * buf[0]. Absolute windows are in stream offsets, and the part of a window before base is
 * no longer available; a pcre '^' does not match at buf[0] when base > 0.
 *
 * The work per call is bounded: a recursion budget (as Suricata's inspection recursion
 * limit) and PCRE2 match limits; running out counts as no match.
 */
#ifndef DET_CONFIRM_H
#define DET_CONFIRM_H

#include <stdbool.h>
#include <stdint.h>

#include "det_rule.h"

#define DET_CONFIRM_BUDGET 3000

struct det_confirm_ctx {
	void *md;   /* pcre2_match_data with one pair */
	void *mctx; /* pcre2_match_context with limits */
	uint32_t budget;
	/* The engine rule being confirmed: a pcre that reaches a PCRE2 limit counts in
	 * rule_hits[rule] (when rule_hits is set) and in limit_hits. */
	uint32_t rule;
	uint64_t *rule_hits;
	uint64_t limit_hits;
};

/* Create the PCRE2 match data and context (Suricata's limits). Returns 0 or -ENOMEM. */
int det_confirm_ctx_init(struct det_confirm_ctx *c);

/* PCRE2 match() calls and backtracking depth allowed per pcre per input. */
void det_confirm_ctx_limits(struct det_confirm_ctx *c, uint32_t match_limit, uint32_t depth_limit);
void det_confirm_ctx_free(struct det_confirm_ctx *c);

/*
 * Do r's payload keywords match buf? (For rules whose items all inspect the payload: packet
 * and stream rules.) *end (may be NULL) gets the end of the last positive match. No
 * allocation.
 */
bool det_confirm(const struct det_rule *r, const uint8_t *buf, uint32_t len, uint64_t base,
		struct det_confirm_ctx *c, uint32_t *end);

/*
 * The same for items[0, n): the items of one buffer (a struct det_span of the rule), which
 * are relative to each other only. endswith puts a content at the buffer's end; bsize and
 * urilen compare len.
 */
bool det_confirm_items(const struct det_item *items, unsigned n, const uint8_t *buf, uint32_t len,
		uint64_t base, struct det_confirm_ctx *c, uint32_t *end);

#endif /* DET_CONFIRM_H */
