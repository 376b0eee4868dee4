/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What loading "what parses" does to a rule set's meaning.
 *
 * A rule file is a whole: an allow-list (a pass rule for the traffic it trusts, then a
 * catch-all drop) means "drop the rest", and a drop rule that tests a flowbit means "drop when
 * the rule that sets it saw its part". When the loader rejects the pass rule, or the setter,
 * the rules that load mean something else: the catch-all drops what the pass rule let through,
 * an isnotset drop fires on every flow. This module keeps, for each rejected rule that could
 * matter (a pass rule: its header; a rule that sets, unsets or toggles flowbits: their names),
 * and after the load finds the loaded drop and reject rules that depended on one: a rejected
 * pass rule whose traffic overlaps theirs (Suricata applies pass before drop whatever the
 * order), or a flowbit that only rejected rules change. They go to the load report
 * (struct det_load_report: meaning_changed, lost); the caller decides whether such a set may load.
 */
#ifndef DET_PARTIAL_H
#define DET_PARTIAL_H

#include <stdint.h>

#include "det_load.h"
#include "det_rule.h"

struct det_partial;

/* An empty record, or NULL (ENOMEM). */
struct det_partial *det_partial_new(void);
void det_partial_free(struct det_partial *p);

/*
 * A rule was rejected: keep what matters of it. text is the rule as written, reason why it was
 * rejected, pctx the parser context of the load (its header is parsed again on its own).
 * Returns 0 or -ENOMEM.
 */
int det_partial_note(struct det_partial *p, const char *text, const char *file, unsigned line,
		uint32_t sid, enum det_reason reason, const char *keyword,
		const struct det_parse_ctx *pctx);

/* After the load: the loaded drop/reject rules that lost a rule they depended on, in rep. */
int det_partial_check(
		struct det_partial *p, const struct det_set *set, struct det_load_report *rep);

#endif /* DET_PARTIAL_H */
