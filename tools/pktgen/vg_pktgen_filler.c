/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "vg_pktgen_filler.h"
#include "vg_rng.h"

#define MAX_ROUNDS 64

struct hits {
	uint32_t *end; /* end offsets in the scanned buffer */
	size_t n, cap;
	int oom;
};

static int
on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
		void *ctx)
{
	struct hits *h = ctx;

	(void)id;
	(void)from;
	(void)flags;
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;
		uint32_t *v = realloc(h->end, cap * sizeof(*v));

		if (v == NULL) {
			h->oom = 1;
			return 1; /* stop scanning */
		}
		h->end = v;
		h->cap = cap;
	}
	h->end[h->n++] = (uint32_t)to;
	return 0;
}

/* Rewrite every pattern occurrence until a scan finds none. */
static int
scrub(uint8_t *block, struct vg_xoshiro *rng, const struct vg_pktgen_pattern *patterns, size_t n,
		char *msg, size_t msg_len)
{
	const char **expr = calloc(n, sizeof(*expr));
	unsigned *flags = calloc(n, sizeof(*flags));
	unsigned *ids = calloc(n, sizeof(*ids));
	size_t *lens = calloc(n, sizeof(*lens));
	hs_database_t *db = NULL;
	hs_scratch_t *scratch = NULL;
	hs_compile_error_t *cerr = NULL;
	struct hits hits = { 0 };
	uint8_t *buf = NULL;
	size_t maxlen = 0, buflen;
	int rc = -ENOMEM;

	if (expr == NULL || flags == NULL || ids == NULL || lens == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		expr[i] = (const char *)patterns[i].bytes;
		lens[i] = patterns[i].len;
		flags[i] = HS_FLAG_CASELESS;
		ids[i] = (unsigned)i;
		if (patterns[i].len > maxlen)
			maxlen = patterns[i].len;
	}
	if (hs_compile_lit_multi(expr, flags, ids, lens, (unsigned)n, HS_MODE_BLOCK, NULL, &db,
			    &cerr) != HS_SUCCESS) {
		snprintf(msg, msg_len, "Hyperscan cannot compile the match patterns: %s",
				cerr != NULL ? cerr->message : "unknown error");
		hs_free_compile_error(cerr);
		rc = -EINVAL;
		goto out;
	}
	if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS)
		goto out;
	/* The block is read cyclically: scan it followed by its first maxlen - 1 bytes. */
	buflen = VG_PKTGEN_FILLER_LEN + maxlen - 1;
	buf = malloc(buflen);
	if (buf == NULL)
		goto out;
	for (int round = 0; round < MAX_ROUNDS; round++) {
		memcpy(buf, block, VG_PKTGEN_FILLER_LEN);
		memcpy(buf + VG_PKTGEN_FILLER_LEN, block, maxlen - 1);
		hits.n = 0;
		if (hs_scan(db, (const char *)buf, (unsigned)buflen, 0, scratch, on_match, &hits) !=
						HS_SUCCESS &&
				!hits.oom) {
			snprintf(msg, msg_len, "Hyperscan scan of the filler failed");
			rc = -EINVAL;
			goto out;
		}
		if (hits.oom)
			goto out;
		if (hits.n == 0) {
			rc = 0;
			goto out;
		}
		/* Replace the last byte of each occurrence; the next round checks the result. */
		for (size_t k = 0; k < hits.n; k++)
			block[(hits.end[k] - 1) % VG_PKTGEN_FILLER_LEN] =
					(uint8_t)vg_xoshiro_next(rng);
	}
	snprintf(msg, msg_len,
			"cannot build payload free of the match patterns after %d rounds; short "
			"patterns cover too many byte values (patterns are avoided without case)",
			MAX_ROUNDS);
	rc = -EINVAL;
out:
	free(buf);
	free(hits.end);
	hs_free_scratch(scratch);
	hs_free_database(db);
	free(expr);
	free(flags);
	free(ids);
	free(lens);
	return rc;
}

int
vg_pktgen_filler_init(struct vg_pktgen_filler *f, uint64_t seed,
		const struct vg_pktgen_pattern *patterns, size_t n, char *msg, size_t msg_len)
{
	struct vg_xoshiro rng;
	int rc = 0;

	f->block = malloc(VG_PKTGEN_FILLER_LEN);
	if (f->block == NULL)
		return -ENOMEM;
	vg_xoshiro_seed(&rng, vg_hash2(seed, 0x66696c6c, 0));
	for (size_t i = 0; i < VG_PKTGEN_FILLER_LEN; i += 8) {
		uint64_t v = vg_xoshiro_next(&rng);

		/* Byte by byte, not memcpy: the file must not depend on the host's byte order. */
		for (int b = 0; b < 8; b++)
			f->block[i + b] = (uint8_t)(v >> (8 * b));
	}
	if (n > 0)
		rc = scrub(f->block, &rng, patterns, n, msg, msg_len);
	if (rc < 0)
		vg_pktgen_filler_free(f);
	return rc;
}

void
vg_pktgen_filler_copy(const struct vg_pktgen_filler *f, uint8_t *dst, uint32_t pos, size_t len)
{
	size_t off = pos % VG_PKTGEN_FILLER_LEN;

	while (len > 0) {
		size_t chunk = VG_PKTGEN_FILLER_LEN - off;

		if (chunk > len)
			chunk = len;
		memcpy(dst, f->block + off, chunk);
		dst += chunk;
		len -= chunk;
		off = 0;
	}
}

void
vg_pktgen_filler_free(struct vg_pktgen_filler *f)
{
	if (f == NULL)
		return;
	free(f->block);
	f->block = NULL;
}
