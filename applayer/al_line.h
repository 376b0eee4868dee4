/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Line assembly for the line-based parsers (SSH banners, SMTP, FTP): the next line of a byte
 * stream that arrives in any split, ended by LF (a CR before the LF is dropped with it).
 *
 * At most `max` bytes of a line are kept; a longer line is reported once its LF arrives, cut
 * to `max` bytes, with its true length, so that the parser counts its anomaly. A line that is
 * whole inside one call's bytes is handed out in place, without a copy; otherwise its bytes
 * are kept in a buffer from the context's arena, which grows up to `max`.
 */
#ifndef AL_LINE_H
#define AL_LINE_H

#include <stdbool.h>
#include <stdint.h>

#include "al.h"

struct al_line {
	uint8_t *buf;  /* al_alloc'd; NULL until a line spans two calls */
	uint32_t cap;  /* bytes allocated */
	uint32_t len;  /* bytes of the current line kept */
	uint32_t seen; /* bytes of the current line seen, kept or not */
	bool last_cr;  /* the last byte seen was a CR (it may end the line) */
	bool skip;     /* drop everything up to the next LF (after a gap) */
};

/* A complete line: valid until the next call on the same struct al_line. */
struct al_line_out {
	const uint8_t *p;
	uint32_t len;	   /* bytes kept: min(true length, max) */
	uint32_t full_len; /* the line's true length, without its CR LF */
	bool cut;	   /* full_len > max */
	bool lf;	   /* ended by LF (false: a partial line taken at the end) */
};

/*
 * Take the next line from d[0..len). Sets *used to the bytes of d consumed. Returns 1 with
 * *out set when a line ended (call again with the rest of d), 0 when all of d was consumed
 * without ending a line (its bytes are kept), or -ENOMEM when the arena could not hold them.
 */
int al_line_next(struct al_ctx *c, struct al_line *lb, uint32_t max, const uint8_t *d, uint32_t len,
		uint32_t *used, struct al_line_out *out);

/*
 * The partial line held (bytes that no LF ended yet), as a line: true and *out set, or false
 * when none is held. The holder is reset.
 */
bool al_line_take_partial(struct al_line *lb, uint32_t max, struct al_line_out *out);

/* len bytes are missing: drop the partial line and whatever follows up to the next LF. */
void al_line_gap(struct al_line *lb);

/* Forget the partial line (its bytes are handed to someone else). */
void al_line_reset(struct al_line *lb);

/* Free the buffer (the struct may be reused). */
void al_line_free(struct al_ctx *c, struct al_line *lb);

/* The most one buffer can hold: the arena's largest block less its header. */
#define AL_BYTES_MAX ((1u << 20) - 16u)

/* Bytes kept for a buffer (a value, a body), from the arena, up to a limit. */
struct al_bytes {
	uint8_t *p;
	uint32_t len;
	uint32_t cap;
};

/*
 * Append what the limit (at most AL_BYTES_MAX) leaves of n bytes. Returns the bytes appended (fewer
 * than n: the limit was reached), or -ENOMEM when the arena could not grow the buffer.
 */
int64_t al_bytes_append(
		struct al_ctx *c, struct al_bytes *b, const uint8_t *d, uint32_t n, uint32_t limit);

/* Free the bytes (the struct may be reused). */
void al_bytes_free(struct al_ctx *c, struct al_bytes *b);

/* An allocation size that fills its arena block: need rounded up to 2^k minus the block
 * header, so that growing a buffer wastes no half block. */
size_t al_fit_size(size_t need);

#endif /* AL_LINE_H */
