/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The driver of the line-protocol parsers' fuzz targets (fuzz_al_ssh, fuzz_al_smtp,
 * fuzz_al_ftp): one parser fed both directions in arbitrary pieces, with gaps and closes.
 *
 * Input: byte 0 picks the limits (bits 0-1: line_max 16, 64, 512 or 4096; bit 2:
 * http_req_body 64 bytes or 64 KiB; bit 3: the arena nearly full, so that allocations fail).
 * Then events, each a header byte h:
 *   h < 0xf0         h & 1 the direction, h >> 1 (0..119) the length of the data that follows
 *   0xf0, 0xf1       a gap of the next byte's length in direction 0 or 1
 *   0xf2, 0xf3       close direction 0 or 1
 * Each piece is copied to a buffer of exactly its size so that ASan sees a read past it.
 *
 * Every stage reported is checked: one bit, set in the transaction, of the parser's protocol;
 * every buffer and number the transaction has is read whole; the buffers of stages not
 * reached are absent. After the flow, the parser must have given back every byte of the arena.
 */
#ifndef FUZZ_AL_LINES_H
#define FUZZ_AL_LINES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "al.h"
#include "al_impl.h"

#define FUZZ_CHECK(c)            \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

struct fuzz_al {
	const struct al_parser *ps;
	uint64_t sink;
};

static void
fuzz_al_cb(void *arg, const struct al_tx *tx, unsigned stage, unsigned dir)
{
	struct fuzz_al *fz = arg;

	FUZZ_CHECK(tx->proto == fz->ps->proto);
	FUZZ_CHECK(stage != 0 && (stage & (stage - 1)) == 0 && (tx->ready & stage));
	FUZZ_CHECK(dir <= 1);
	FUZZ_CHECK(fz->ps->n_anomalies >= 64 || (tx->anomalies >> fz->ps->n_anomalies) == 0);
	for (unsigned b = AL_BUF_NONE + 1; b < AL_BUF__COUNT; b++) {
		const struct al_buf_info *bi = al_buf_info((enum al_buf)b);

		if (bi->proto != tx->proto)
			continue;
		for (unsigned i = 0; i < 1024; i++) {
			const uint8_t *p;
			uint32_t len;

			if (!al_tx_buf(tx, (enum al_buf)b, i, &p, &len))
				break;
			FUZZ_CHECK(tx->ready & bi->stage);
			for (uint32_t k = 0; k < len; k++)
				fz->sink += p[k];
			if (!(bi->flags & AL_BUF_MULTI))
				break;
		}
	}
	for (unsigned n = AL_NUM_NONE + 1; n < AL_NUM__COUNT; n++) {
		const struct al_num_info *ni = al_num_info((enum al_num)n);
		uint64_t v;

		if (ni->proto == tx->proto && al_tx_num(tx, (enum al_num)n, 0, &v)) {
			FUZZ_CHECK(tx->ready & ni->stage);
			fz->sink += v;
		}
	}
}

static struct al_ctx *
fuzz_al_ctx(uint8_t cfg)
{
	static struct al_ctx *ctxs[8];
	static const uint32_t line_max[4] = { 16, 64, 512, 4096 };
	unsigned k = cfg & 7;

	if (ctxs[k] == NULL) {
		struct al_limits l;

		al_limits_default(&l);
		l.memcap = 2u << 20;
		l.line_max = line_max[k & 3];
		l.http_req_body = (k & 4) ? 64 : 64u << 10;
		ctxs[k] = al_ctx_create(&l);
		FUZZ_CHECK(ctxs[k] != NULL);
	}
	return ctxs[k];
}

static int
fuzz_al_parser(const struct al_parser *ps, const uint8_t *data, size_t size)
{
	static void *hog[4096];
	struct fuzz_al fz = { .ps = ps };
	struct al_ctx *c;
	const struct al_emit e = { .cb = fuzz_al_cb, .arg = &fz };
	struct al_emit ce;
	unsigned nh = 0;
	size_t base, off = 1;
	bool closed[2] = { false, false }, dead = false;
	void *st;

	if (size == 0)
		return 0;
	c = fuzz_al_ctx(data[0]);
	ce = e;
	ce.ctx = c;
	base = al_ctx_mem_used(c);
	if (data[0] & 8) {
		/* Leave a few small blocks: the state fits, lines and bodies soon do not. */
		while (nh < 4096 && (hog[nh] = al_alloc(c, 1024 - 16)) != NULL)
			nh++;
		for (unsigned i = 0; i < 4 && nh > 0; i++)
			al_free(c, hog[--nh]);
	}
	st = ps->state_new(c, true);
	while (st != NULL && !dead && off < size) {
		uint8_t h = data[off++];

		if (h >= 0xf0) {
			unsigned dir = h & 1;

			if (h <= 0xf1) {
				uint32_t gap = off < size ? data[off++] : 1;

				if (ps->gap != NULL && !closed[dir])
					ps->gap(c, st, dir, gap);
			} else if (h <= 0xf3 && !closed[dir]) {
				closed[dir] = true;
				if (ps->close != NULL)
					ps->close(c, st, dir, &ce);
			}
			continue;
		}
		unsigned dir = h & 1;
		size_t len = h >> 1;

		if (len > size - off)
			len = size - off;
		uint8_t *piece = malloc(len > 0 ? len : 1);

		FUZZ_CHECK(piece != NULL);
		memcpy(piece, data + off, len);
		off += len;
		if (!closed[dir] && len > 0)
			dead = ps->feed(c, st, dir, piece, (uint32_t)len, &ce) != 0;
		free(piece);
	}
	if (st != NULL) {
		for (unsigned dir = 0; dir < 2 && !dead; dir++)
			if (!closed[dir] && ps->close != NULL)
				ps->close(c, st, dir, &ce);
		ps->state_free(c, st);
	}
	while (nh > 0)
		al_free(c, hog[--nh]);
	/* Everything the parser took is back. */
	FUZZ_CHECK(al_ctx_mem_used(c) == base);
	return 0;
}

#endif /* FUZZ_AL_LINES_H */
