/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small edits of a policy text that keep everything else byte for byte (comments, order,
 * layout): the operator's file stays theirs after the API changes one rule. Nothing here
 * validates the result: the caller builds it as any other text before applying it.
 */
#ifndef RL_EDIT_H
#define RL_EDIT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A copy of text with rule `rule`'s dry_run set to dry_run: the value replaced where the rule
 * has the key, else the key added after the rule's last key (block or flow style). *changed is
 * false when the rule already had that value (the copy is then identical). NUL-terminated,
 * malloc'd; NULL with err ("no rule named ...", or the text is not a policy mapping) and errno
 * ENOENT or EINVAL (ENOMEM).
 */
char *rl_edit_dry_run(const char *text, size_t len, const char *rule, bool dry_run, size_t *out_len,
		bool *changed, char *err, size_t errlen);

#endif /* RL_EDIT_H */
