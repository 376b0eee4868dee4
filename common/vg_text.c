/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vg_text.h"

size_t
vg_utf8_seq(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	size_t len;
	uint8_t lo = 0x80, hi = 0xbf; /* the range of the second byte */

	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4)
		return 0; /* continuation byte, overlong lead (C0, C1) or beyond U+10FFFF */
	if (c < 0xe0) {
		len = 2;
	} else if (c < 0xf0) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else {
		len = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* beyond U+10FFFF */
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

int
vg_text_check(const char *s, size_t len, size_t *off, const char **why)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;

	while (i < len) {
		size_t n;

		if (p[i] == 0) {
			*off = i;
			*why = "a NUL byte";
			return -EILSEQ;
		}
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		n = vg_utf8_seq(p + i, len - i);
		if (n == 0) {
			*off = i;
			*why = "a byte that is not valid UTF-8";
			return -EILSEQ;
		}
		i += n;
	}
	return 0;
}

int
vg_text_check_diag(struct vg_diag *diag, const char *name, const char *s, size_t len,
		size_t max_size, const char *limit_key)
{
	unsigned line = 1, col = 1;
	const char *why;
	size_t off;

	if (max_size > 0 && len > max_size) {
		vg_diag_add(diag, VG_SEV_ERROR, name, 0, 0,
				"the text is %zu bytes, more than the %zu bytes %s allows", len,
				max_size, limit_key);
		return -EFBIG;
	}
	if (vg_text_check(s, len, &off, &why) == 0)
		return 0;
	for (size_t i = 0; i < off; i++) {
		if (s[i] == '\n')
			line++, col = 1;
		else if (((uint8_t)s[i] & 0xc0) != 0x80)
			col++; /* columns count characters */
	}
	vg_diag_add(diag, VG_SEV_ERROR, name, line, col,
			"byte offset %zu holds %s (0x%02x); a text must be UTF-8 without NUL bytes",
			off, why, (uint8_t)s[off]);
	return -EILSEQ;
}

/*
 * The escaped form of the character at p (left bytes): its bytes in *src and *w (esc holds
 * them when they are an escape). Returns how many input bytes it takes.
 */
static size_t
escape_one(const uint8_t *p, size_t left, char esc[8], const char **src, size_t *w)
{
	size_t n = vg_utf8_seq(p, left);

	*src = esc;
	if (n == 1 && *p >= 0x20 && *p != 0x7f) {
		esc[0] = (char)*p, *w = 1;
	} else if (n == 1) {
		*w = (size_t)snprintf(esc, 8,
				*p == '\n'   ? "\\n"
				: *p == '\r' ? "\\r"
				: *p == '\t' ? "\\t"
					     : "\\x%02x",
				*p);
	} else if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
		/* a C1 control (U+0080 to U+009F): CSI is U+009B */
		*w = (size_t)snprintf(esc, 8, "\\x%02x", p[1]);
	} else if (n == 0) {
		n = 1;
		*w = (size_t)snprintf(esc, 8, "\\x%02x", *p);
	} else {
		*src = (const char *)p, *w = n;
	}
	return n;
}

size_t
vg_text_escape(char *out, size_t outlen, const char *s)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t left = strlen(s), o = 0, total = 0;
	char esc[8];
	const char *src;
	size_t w;

	if (outlen == 0)
		return 0;
	for (size_t i = 0; i < left;)
		i += escape_one(p + i, left - i, esc, &src, &w), total += w;
	while (left > 0) {
		size_t n = escape_one(p, left, esc, &src, &w);

		/* Unless all of it fits, room for this and, after it, a "..." */
		if (total + 1 > outlen && o + w + 4 > outlen) {
			if (o + 4 <= outlen)
				memcpy(out + o, "...", 3), o += 3;
			break;
		}
		memcpy(out + o, src, w);
		o += w;
		p += n;
		left -= n;
	}
	out[o] = '\0';
	return o;
}
