/* SPDX-License-Identifier: BSD-3-Clause */
/* What a pcre's pattern says about the cost of scanning for it. */
#ifndef DET_REGEX_H
#define DET_REGEX_H

#include <stdint.h>

/*
 * A pcre whose every match contains a literal of at least this many bytes is left to
 * Hyperscan, which finds such literals quickly; one without ("literal-less") would make
 * Hyperscan run its automaton over every byte, and is checked with PCRE2 after the rule's
 * cheap checks instead.
 */
#define DET_REGEX_LITERAL_MIN 3

/*
 * The length of the longest literal (a run of fixed bytes) that every match of expr must
 * contain, read from PCRE2 syntax; flags are the rule's DET_P_* flags. Conservative: a
 * construct it does not follow (extended mode, \Q...\E, conditions, backtracking verbs,
 * named references, ...) makes it answer 0, and alternatives count as their shortest. Case
 * folding is ignored: a caseless literal is still a literal for Hyperscan.
 */
unsigned det_regex_literal_len(const char *expr, uint32_t flags);

/*
 * Why the cost of matching expr cannot be bounded by its length, or NULL: a group that holds
 * an unbounded quantifier (*, +, {n,}) and is itself repeated without bound, as in (a+)+, which
 * backtracks exponentially on a near miss; or a recursion or subroutine call ((?R), (?1),
 * (?&name), \g<1>). *off is the offset in expr of the construct. Such a pcre is still loaded
 * (PCRE2's match and depth limits stop it) but validation warns of it.
 */
const char *det_regex_unbounded(const char *expr, unsigned *off);

#endif /* DET_REGEX_H */
