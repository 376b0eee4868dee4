/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Payload filler of vg-pktgen: a seeded 64 KiB block of random bytes, read cyclically, that
 * contains none of the match patterns (compared without case, also across the wrap). Each
 * direction of a flow reads the block from its own start onwards, continuing where its previous
 * packet stopped, so a reassembled TCP stream is a substring of the cyclic block too: only the
 * flows chosen to match ever carry a pattern, and "1% of flows match" stays exact for packet
 * and stream scanners, with or without nocase.
 */
#ifndef VG_PKTGEN_FILLER_H
#define VG_PKTGEN_FILLER_H

#include <stddef.h>
#include <stdint.h>

#include "vg_pktgen_opt.h"

#define VG_PKTGEN_FILLER_LEN 65536u /* divides 2^32, so 32-bit stream offsets wrap cleanly */

struct vg_pktgen_filler {
	uint8_t *block;
};

/*
 * Build the block from seed so that it holds none of the n patterns (Hyperscan, caseless
 * literals). Returns 0; -EINVAL with msg filled when the patterns leave no way to avoid them
 * (for example one-byte patterns covering every byte value); -ENOMEM.
 */
int vg_pktgen_filler_init(struct vg_pktgen_filler *f, uint64_t seed,
		const struct vg_pktgen_pattern *patterns, size_t n, char *msg, size_t msg_len);

/* Copy len bytes of the cyclic block starting at pos (any value) to dst. */
void vg_pktgen_filler_copy(
		const struct vg_pktgen_filler *f, uint8_t *dst, uint32_t pos, size_t len);

/* Free the block. NULL is a no-op. */
void vg_pktgen_filler_free(struct vg_pktgen_filler *f);

#endif /* VG_PKTGEN_FILLER_H */
