/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared driver of the application-layer parser fuzz targets: the input is a conversation
 * fed straight to one parser (no protocol detection in the way), in the directions and
 * pieces the input chooses.
 *
 *   byte 0      bit 0: TCP (else each piece is a datagram); bit 1: tight limits
 *               (2 names, 2 pending transactions, 300-byte handshake messages, 2 MiB arena)
 *   then pieces: [d g c L L L L L] [L x 8] and that many bytes (cut at the input's end):
 *               d direction, g a gap of L bytes instead of data, c close the direction after,
 *               L a 13-bit length
 *
 * Every piece is copied to a buffer of exactly its size so that ASan sees a read past it.
 * Each reported stage reads every buffer and number of the transaction and checks what
 * callers rely on (one new stage bit per call, lengths within their bounds); the end frees
 * the state and requires the arena to be empty.
 */
#ifndef FUZZ_AL_FEED_H
#define FUZZ_AL_FEED_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "al_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)            \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

/* Per-buffer bound a target checks (0: none). */
typedef uint32_t (*fuzz_buf_max)(enum al_buf b);

struct fuzz_run {
	enum al_proto proto;
	fuzz_buf_max max;
	volatile uint32_t sink;
};

static void
fuzz_cb(void *arg, const struct al_tx *tx, unsigned stage, unsigned dir)
{
	struct fuzz_run *r = arg;

	FUZZ_CHECK(tx->proto == r->proto);
	FUZZ_CHECK(stage != 0 && (stage & (stage - 1)) == 0 && (tx->ready & stage));
	FUZZ_CHECK(dir <= 1);
	for (unsigned b = AL_BUF_NONE + 1; b < AL_BUF__COUNT; b++) {
		const struct al_buf_info *bi = al_buf_info((enum al_buf)b);

		if (bi->proto != r->proto)
			continue;
		for (unsigned i = 0; i < 70000; i++) {
			const uint8_t *p;
			uint32_t n;

			if (!al_tx_buf(tx, (enum al_buf)b, i, &p, &n)) {
				if (!(bi->flags & AL_BUF_MULTI))
					break;
				/* a multi buffer may have an absent instance (DNS's root) */
				if (!al_tx_buf(tx, (enum al_buf)b, i + 1, &p, &n))
					break;
				continue;
			}
			FUZZ_CHECK(r->max == NULL || r->max((enum al_buf)b) == 0 ||
					n <= r->max((enum al_buf)b));
			for (uint32_t k = 0; k < n; k++)
				r->sink += p[k];
			FUZZ_CHECK(i == 0 || (bi->flags & AL_BUF_MULTI));
		}
	}
	for (unsigned k = AL_NUM_NONE + 1; k < AL_NUM__COUNT; k++) {
		const struct al_num_info *ni = al_num_info((enum al_num)k);
		uint64_t v;

		if (ni->proto != r->proto)
			continue;
		for (unsigned i = 0; i < 70000 && al_tx_num(tx, (enum al_num)k, i, &v); i++)
			r->sink += (uint32_t)v;
	}
}

static inline int
fuzz_al_run(const struct al_parser *ps, fuzz_buf_max max, const uint8_t *data, size_t size)
{
	struct al_limits l;
	struct al_ctx *c;
	struct fuzz_run r = { .proto = ps->proto, .max = max };
	void *st;
	bool dead = false;

	if (size < 1)
		return 0;
	al_limits_default(&l);
	l.memcap = 8u << 20;
	if (data[0] & 2) {
		l.memcap = 2u << 20;
		l.dns_max_names = 2;
		l.dns_max_tx = 2;
		l.tls_max_record = 300;
	}
	c = al_ctx_create(&l);
	FUZZ_CHECK(c != NULL);
	const struct al_emit e = { .ctx = c, .cb = fuzz_cb, .arg = &r };
	bool tcp = data[0] & 1;

	st = ps->state_new(c, tcp);
	FUZZ_CHECK(st != NULL);
	size_t off = 1;

	while (off + 2 <= size && !dead) {
		unsigned dir = data[off] >> 7;
		bool gap = data[off] & 0x40, close = data[off] & 0x20;
		uint32_t len = (uint32_t)(data[off] & 0x1f) << 8 | data[off + 1];

		off += 2;
		if (gap && tcp) {
			if (ps->gap != NULL)
				ps->gap(c, st, dir, len);
		} else {
			if (len > size - off)
				len = (uint32_t)(size - off);
			uint8_t *piece = malloc(len > 0 ? len : 1);

			FUZZ_CHECK(piece != NULL);
			memcpy(piece, data + off, len);
			off += len;
			if ((len > 0 || !tcp) && ps->feed(c, st, dir, piece, len, &e) != 0)
				dead = true;
			free(piece);
		}
		if (close && !dead && ps->close != NULL)
			ps->close(c, st, dir, &e);
	}
	if (!dead && ps->close != NULL) {
		ps->close(c, st, 0, &e);
		ps->close(c, st, 1, &e);
	}
	ps->state_free(c, st);
	FUZZ_CHECK(al_ctx_mem_used(c) == 0);
	al_ctx_free(c);
	return 0;
}

#endif /* FUZZ_AL_FEED_H */
