/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the HTTP/1.x parser (through al_feed, so detection runs first and may pick
 * another protocol's parser when the input looks like it) on both directions of a flow in
 * arbitrary splits, with gaps and closes.
 *
 * Input: byte 0 picks limits (small header, body, inflate and transaction limits), byte 1 their
 * size; then records: a control byte (bit 7: direction; bits 5-6: 0-1 data, 2 gap, 3 close;
 * bits 0-4: length - 1, 31 meaning "the next byte * 8 + 32") followed by that many data bytes
 * (a gap's length is the record length). Each data record is copied to a buffer of exactly its
 * size so that ASan sees any read past it.
 *
 * Checked: no crash or out-of-bounds read (every buffer a report offers is read whole); every
 * stage is reported once per transaction; buffers of a stage exist only once it is ready; all
 * arena memory comes back when the flow is freed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "al.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static volatile uint8_t sink;

static void
cb(void *arg, const struct al_tx *tx, unsigned stage, unsigned dir)
{
	(void)arg;
	CHECK(dir <= 1);
	/* detection decides the protocol: HTTP mostly, but the input may look like another */
	CHECK(tx->proto > AL_PROTO_NONE && tx->proto < AL_PROTO_FAILED);
	CHECK(stage != 0 && (stage & (stage - 1)) == 0 && (tx->ready & stage));
	for (unsigned b = AL_BUF_NONE + 1; b < AL_BUF__COUNT; b++) {
		const struct al_buf_info *bi = al_buf_info((enum al_buf)b);
		const uint8_t *p;
		uint32_t n;
		uint8_t x = 0;

		if (!al_tx_buf(tx, (enum al_buf)b, 0, &p, &n))
			continue;
		CHECK(bi->proto == tx->proto && (tx->ready & bi->stage));
		for (uint32_t i = 0; i < n; i++)
			x ^= p[i];
		sink ^= x;
		CHECK(!al_tx_buf(tx, (enum al_buf)b, 1, &p, &n));
	}
	for (unsigned k = AL_NUM_NONE + 1; k < AL_NUM__COUNT; k++) {
		uint64_t v;

		if (al_tx_num(tx, (enum al_num)k, 0, &v))
			CHECK(al_num_info((enum al_num)k)->proto == tx->proto);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct al_ctx *ctx;
	static uint8_t variant = 0xff;
	struct al_limits l;
	struct al_flow *f;
	size_t pos = 2;

	if (size < 2 || size > (1u << 20))
		return 0;
	/* one context per limits variant: creating the arena per input would dominate */
	if (ctx == NULL || variant != data[0] || (data[0] & 0x0f)) {
		al_ctx_free(ctx);
		al_limits_default(&l);
		l.memcap = 4u << 20;
		if (data[0] & 1)
			l.http_header_max = 16 + data[1] * 4u;
		if (data[0] & 2)
			l.http_req_body = l.http_resp_body = data[1] * 16u;
		if (data[0] & 4) {
			l.http_inflate_max = 1024 + data[1] * 64u;
			l.http_inflate_ratio = 1 + data[1];
		}
		if (data[0] & 8)
			l.http_max_tx = 1 + (data[1] & 7);
		ctx = al_ctx_create(&l);
		variant = data[0];
		if (ctx == NULL)
			return 0;
	}
	f = al_flow_new(ctx, true, 40000, 80);
	CHECK(f != NULL);
	while (pos < size) {
		uint8_t ctl = data[pos++];
		unsigned dir = ctl >> 7, kind = (ctl >> 5) & 3;
		size_t n = (ctl & 31) + 1u;

		if ((ctl & 31) == 31) {
			if (pos >= size)
				break;
			n = data[pos++] * 8u + 32;
		}
		if (kind == 2) {
			al_gap(ctx, f, dir, (uint32_t)n);
			continue;
		}
		if (kind == 3) {
			al_close(ctx, f, dir, cb, NULL);
			continue;
		}
		if (n > size - pos)
			n = size - pos;
		uint8_t *buf = malloc(n ? n : 1);

		CHECK(buf != NULL);
		memcpy(buf, data + pos, n);
		al_feed(ctx, f, dir, buf, (uint32_t)n, cb, NULL);
		free(buf);
		pos += n;
	}
	al_close(ctx, f, 0, cb, NULL);
	al_close(ctx, f, 1, cb, NULL);
	al_flow_free(ctx, f);
	CHECK(al_ctx_mem_used(ctx) == 0);
	return 0;
}
