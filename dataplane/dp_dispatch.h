/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Software dispatch: which worker owns a packet when the device cannot steer it (one queue per
 * port, or a driver that refuses the symmetric RSS key) and several workers share the pair.
 *
 * The worker that polls the pair's queues hashes each frame's IP address pair, symmetrically
 * (the two addresses in ascending order), and hands the frames of other workers' flows to their
 * rings (dp_worker.c). Only the addresses, as the RSS configuration (dp_port.c): a non-first
 * fragment has no ports, so a hash over ports would split a fragmented datagram from its flow.
 * Frames whose addresses cannot be read here (not IP, truncated, unknown encapsulation) stay
 * with the worker that received them, which polls both ports of the pair: both directions of
 * whatever they belong to still meet on one worker.
 *
 * Plain C over the frame bytes, inline: it runs in the receiving worker's poll loop. The hash
 * travels to the owner in mbuf->hash.rss.
 */
#ifndef DP_DISPATCH_H
#define DP_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dp_crc.h"

#define DP_DISPATCH_SEED 0x5bd1e995u

/* Ethernet, then at most three 802.1Q/802.1ad tags (as the parser), then IPv4 or IPv6. */
static inline bool
dp_dispatch_hash(const uint8_t *frame, uint32_t len, uint32_t *hash)
{
	uint32_t o = 12;
	uint16_t et;

	for (unsigned tags = 0;; tags++) {
		if (len < o + 2)
			return false;
		et = (uint16_t)(frame[o] << 8 | frame[o + 1]);
		if (et != 0x8100 && et != 0x88a8 && et != 0x9100)
			break;
		if (tags == 3)
			return false;
		o += 4;
	}
	o += 2;
	if (et == 0x0800) {
		uint32_t a, b;

		if (len < o + 20 || (frame[o] >> 4) != 4)
			return false;
		memcpy(&a, frame + o + 12, 4);
		memcpy(&b, frame + o + 16, 4);
		if (a > b) {
			uint32_t t = a;

			a = b;
			b = t;
		}
		*hash = rte_hash_crc_4byte(b, rte_hash_crc_4byte(a, DP_DISPATCH_SEED));
		return true;
	}
	if (et == 0x86dd) {
		const uint8_t *s = frame + o + 8, *d = frame + o + 24;

		if (len < o + 40 || (frame[o] >> 4) != 6)
			return false;
		if (memcmp(s, d, 16) > 0) {
			const uint8_t *t = s;

			s = d;
			d = t;
		}
		*hash = dp_crc32c(d, 16, dp_crc32c(s, 16, DP_DISPATCH_SEED));
		return true;
	}
	return false;
}

/* The owner among n workers: the hash's high bits (a multiply, no division). */
static inline unsigned
dp_dispatch_owner(uint32_t hash, unsigned n)
{
	return (unsigned)(((uint64_t)hash * n) >> 32);
}

#endif /* DP_DISPATCH_H */
