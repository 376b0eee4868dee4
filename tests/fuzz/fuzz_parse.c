/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the packet parser on arbitrary frames.
 *
 * The first input byte picks a policy variant and the NIC checksum flags, the rest is the
 * frame, copied to a buffer of exactly its size so that ASan sees any read past the end. Beyond
 * "no crash, no out-of-bounds read", every run checks what callers rely on:
 *   - the return value equals out->err and is a known reason;
 *   - every field is written whatever the input (two runs over differently poisoned structs
 *     give identical bytes);
 *   - offsets are ordered and within the frame, and the header bytes lie in the readable part;
 *   - a clean IP packet's payload ends exactly at l3_end.
 * The same frame is also parsed as a two-segment mbuf would be (first segment shorter), which
 * must never read past the segment. Wherever the fast path (dp_parse_fast.h) takes a frame, its
 * result must be the full parser's, byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dp_parse.h"
#include "dp_parse_fast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static void
check_pkt(const struct dp_pkt *p, int rc, uint32_t cap, uint32_t len)
{
	CHECK(rc >= 0 && rc < DP_PERR__COUNT && rc == p->err);
	CHECK(dp_parse_err_name((enum dp_parse_err)rc) != NULL);
	CHECK(p->n_vlan <= DP_MAX_VLANS);
	CHECK(p->frag <= DP_FRAG_LATER);
	if (p->l3_off != 0)
		CHECK(p->l3_off >= 14 && p->l3_off <= cap);
	if (p->l3 != DP_L3_NONE)
		CHECK(p->l3_off != 0);
	CHECK(p->l3_end <= len);
	if (p->l3_end != 0)
		CHECK(p->l3_end >= p->l3_off);
	if (p->l4_off != 0) {
		CHECK(p->l3 != DP_L3_NONE);
		CHECK(p->l4_off >= p->l3_off + 20u && p->l4_off <= p->l3_end);
		CHECK(p->l4_off <= cap);
	}
	if (p->payload_off != 0) {
		CHECK(p->payload_off >= p->l4_off && p->payload_off <= cap);
		CHECK((uint64_t)p->payload_off + p->payload_len == p->l3_end);
	}
	if (rc == 0 && p->l3 != DP_L3_NONE)
		CHECK(p->payload_off != 0);
	if (p->l3 == DP_L3_IPV4)
		for (int i = 4; i < 16; i++)
			CHECK(p->src[i] == 0 && p->dst[i] == 0);
}

static void
run(const uint8_t *frame, uint32_t cap, uint32_t len, uint32_t hw,
		const struct dp_parse_policy *pol)
{
	struct dp_pkt a, b;
	int ra, rb;

	memset(&a, 0x00, sizeof(a));
	memset(&b, 0xa5, sizeof(b));
	ra = dp_parse_ex(frame, cap, len, hw, &a, pol);
	rb = dp_parse_ex(frame, cap, len, hw, &b, pol);
	CHECK(ra == rb);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	check_pkt(&a, ra, cap, len);
	memset(&b, 0x5a, sizeof(b));
	if (dp_parse_fast(frame, cap, len, hw, &b, pol)) {
		CHECK(ra == 0);
		CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_parse_policy pol = dp_parse_policy_default();
	uint8_t sel;
	uint32_t len, hw = 0;
	uint8_t *frame;

	if (size < 1 || size > 65536)
		return 0;
	sel = data[0];
	len = (uint32_t)(size - 1);
	frame = malloc(len ? len : 1);
	if (frame == NULL)
		return 0;
	memcpy(frame, data + 1, len);

	if (sel & 0x01)
		pol.ipv4_cksum = false;
	if (sel & 0x02)
		pol.max_ext_hdrs = (uint8_t)(sel >> 4); /* 0..15 */
	if (sel & 0x04)
		pol.first_frag_min_l4 = (uint16_t)((sel >> 3) * 8);
	if (sel & 0x08)
		hw = (sel & 0x80) ? DP_PARSE_HW_IP_CKSUM_BAD : DP_PARSE_HW_IP_CKSUM_GOOD;

	run(frame, len, len, hw, &pol);
	/* As the first segment of a longer mbuf chain: only cap bytes readable. */
	if (len > 14) {
		uint32_t cap = 14 + (uint32_t)(sel % (len - 14 + 1));
		uint8_t *seg = malloc(cap);

		if (seg != NULL) {
			memcpy(seg, frame, cap);
			run(seg, cap, len, hw, &pol);
			free(seg);
		}
	}
	free(frame);
	return 0;
}
