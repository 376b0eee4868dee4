/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CRC-32C of bytes at any alignment. DPDK's rte_hash_crc() reads its input as uint64_t and
 * uint32_t through casts, which is undefined for unaligned data (UBSan says so); packet
 * payloads are rarely aligned. The same hardware instructions, fed by memcpy loads.
 */
#ifndef DP_CRC_H
#define DP_CRC_H

#include <stdint.h>
#include <string.h>

#include <rte_hash_crc.h>

static inline uint32_t
dp_crc32c(const uint8_t *p, uint32_t len, uint32_t init)
{
	uint32_t c = init;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		c = rte_hash_crc_8byte(v, c);
	}
	if (len >= 4) {
		uint32_t v;

		memcpy(&v, p, sizeof(v));
		c = rte_hash_crc_4byte(v, c);
		p += 4;
		len -= 4;
	}
	for (; len > 0; p++, len--)
		c = rte_hash_crc_1byte(*p, c);
	return c;
}

#endif /* DP_CRC_H */
