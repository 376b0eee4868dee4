/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Texts from outside (policy and signature texts, names and reasons sent to the API) as bytes:
 * the check that a text is UTF-8 without NUL, which is what JSON, the store and every parser
 * can carry unchanged, and the escaping of such bytes for a log line.
 */
#ifndef VG_TEXT_H
#define VG_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "vg_diag.h"

/* Length (1 to 4) of the well-formed UTF-8 sequence at p (n bytes left), or 0 when it is not. */
size_t vg_utf8_seq(const uint8_t *p, size_t n);

/*
 * 0 when the len bytes at s are UTF-8 (well formed: no overlong forms, surrogates or code
 * points above U+10FFFF) and hold no NUL. Otherwise -EILSEQ, with *off the offset of the first
 * bad byte and *why "a NUL byte" or "a byte that is not valid UTF-8".
 */
int vg_text_check(const char *s, size_t len, size_t *off, const char **why);

/*
 * The checks every policy or signature text passes before any parser sees it: at most max_size
 * bytes (0: no limit; limit_key names the setting in the message) and vg_text_check(). Each
 * failure is an error in diag at name (with the line, column and byte offset of the first bad
 * byte). Returns 0, -EFBIG or -EILSEQ.
 */
int vg_text_check_diag(struct vg_diag *diag, const char *name, const char *s, size_t len,
		size_t max_size, const char *limit_key);

/*
 * Copy the NUL-terminated s into out (outlen bytes, always terminated) so that it stays on one
 * line and carries no terminal control: CR, LF and tab become \r, \n, \t; other C0 controls,
 * DEL, C1 controls and bytes that are not UTF-8 become \xHH. Returns strlen(out); a longer
 * result is cut at a character boundary and ends with "...".
 */
size_t vg_text_escape(char *out, size_t outlen, const char *s);

#endif /* VG_TEXT_H */
