/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The parser's fast path: Ethernet, at most one VLAN tag, IPv4 without options or IPv6 without
 * extension headers, not a fragment, TCP or UDP, every length consistent, a good IPv4
 * checksum (or none asked for) and no SYN with FIN or RST: most of what a firewall forwards.
 * Anything else is declined and goes to dp_parse_ex(), the full parser, which says why.
 *
 * Where it accepts, it fills struct dp_pkt exactly as dp_parse_ex() would, byte for byte: the
 * fuzzer (tests/fuzz/fuzz_parse.c) checks that on every input, and the unit tests on every
 * frame they build. Plain C, no DPDK, inline: it runs in the worker's parse loop.
 */
#ifndef DP_PARSE_FAST_H
#define DP_PARSE_FAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dp_parse.h"

static inline uint16_t
dp_pf_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
dp_pf_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return __builtin_bswap32(v);
}

static inline uint32_t
dp_pf_ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* The one's complement sum of a 20-byte IPv4 header is 0xffff when its checksum is right. */
static inline bool
dp_pf_ipv4_cksum_ok(const uint8_t *h)
{
	uint64_t s = (uint64_t)dp_pf_ld32(h) + dp_pf_ld32(h + 4) + dp_pf_ld32(h + 8) +
		     dp_pf_ld32(h + 12) + dp_pf_ld32(h + 16);

	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

/*
 * Parse a frame of the fast path's kind into *out (as dp_parse_ex(frame, cap, pkt_len, hw,
 * out, pol) would) and return true; or return false, having written anything into *out, for
 * the full parser to do.
 */
static inline bool
dp_parse_fast(const uint8_t *frame, uint32_t cap, uint32_t pkt_len, uint32_t hw, struct dp_pkt *out,
		const struct dp_parse_policy *pol)
{
	const uint32_t len = pkt_len < cap ? cap : pkt_len;
	uint32_t o = 14, l4, dlen, end;
	uint16_t et;
	const uint8_t *h;

	/* Shorter than Ethernet, IPv4 and UDP headers: the full parser sorts it out. */
	if (__builtin_expect(cap < 14 + 20 + 8, 0))
		return false;
	/* An L4 checksum to verify in software: the full parser does it. */
	if (pol->l4_cksum && !(hw & DP_PARSE_HW_L4_CKSUM_GOOD))
		return false;
	/* The scalar part cleared with plain stores (a memset of this size may become a
	 * microcoded string store, slow to start on every packet). */
	{
		const uint64_t z = 0;
		uint8_t *o8 = (uint8_t *)out;

		_Static_assert(offsetof(struct dp_pkt, src) == 56, "dp_pkt scalars are 56 bytes");
		memcpy(o8, &z, 8);
		memcpy(o8 + 8, &z, 8);
		memcpy(o8 + 16, &z, 8);
		memcpy(o8 + 24, &z, 8);
		memcpy(o8 + 32, &z, 8);
		memcpy(o8 + 40, &z, 8);
		memcpy(o8 + 48, &z, 8);
	}
	et = dp_pf_be16(frame + 12);
	if (et == 0x8100 || et == 0x88a8 || et == 0x9100) {
		out->vlan[0] = dp_pf_be16(frame + 14) & 0xfff;
		out->n_vlan = 1;
		et = dp_pf_be16(frame + 16);
		o = 18;
	}
	out->ether_type = et;
	out->l3_off = (uint16_t)o;
	h = frame + o;
	if (et == 0x0800) {
		/* Version 4, no options; whole and unfragmented. */
		if (h[0] != 0x45 || (dp_pf_be16(h + 6) & 0x3fff) != 0)
			return false;
		uint32_t tot = dp_pf_be16(h + 2);

		if (tot < 20 || tot > len - o)
			return false;
		if (pol->ipv4_cksum && ((hw & DP_PARSE_HW_IP_CKSUM_BAD) ||
						       (!(hw & DP_PARSE_HW_IP_CKSUM_GOOD) &&
								       !dp_pf_ipv4_cksum_ok(h))))
			return false;
		out->l3 = DP_L3_IPV4;
		out->tos = h[1];
		out->frag_id = dp_pf_be16(h + 4);
		out->ttl = h[8];
		out->proto = h[9];
		memcpy(out->src, h + 12, 4);
		memset(out->src + 4, 0, 12);
		memcpy(out->dst, h + 16, 4);
		memset(out->dst + 4, 0, 12);
		end = o + tot;
		l4 = o + 20;
	} else if (et == 0x86dd) {
		/* Version 6, the payload within the frame, no extension header. */
		if (cap - o < 40 || (h[0] >> 4) != 6)
			return false;
		uint32_t plen = dp_pf_be16(h + 4);

		if (plen > len - o - 40)
			return false;
		out->l3 = DP_L3_IPV6;
		out->tos = (uint8_t)((h[0] & 0xf) << 4 | h[1] >> 4);
		out->ttl = h[7];
		out->proto = h[6];
		memcpy(out->src, h + 8, 16);
		memcpy(out->dst, h + 24, 16);
		end = o + 40 + plen;
		l4 = o + 40;
	} else {
		return false;
	}
	out->l3_end = end;
	dlen = end - l4;
	h = frame + l4;
	if (out->proto == 6) {
		/* A whole TCP header (options included) in the datagram and the readable bytes. */
		if (dlen < 20 || cap - l4 < 20)
			return false;
		uint32_t thl = (uint32_t)(h[12] >> 4) << 2;

		if (thl < 20 || thl > dlen || thl > cap - l4)
			return false;
		if ((h[13] & 0x02) && (h[13] & 0x05))
			return false; /* SYN with FIN or RST: tcp_bad_flags */
		out->sport = dp_pf_be16(h);
		out->dport = dp_pf_be16(h + 2);
		out->tcp_seq = dp_pf_be32(h + 4);
		out->tcp_ack = dp_pf_be32(h + 8);
		out->tcp_flags = h[13];
		out->tcp_win = dp_pf_be16(h + 14);
		out->payload_off = (uint16_t)(l4 + thl);
	} else if (out->proto == 17) {
		/* Its length field is the IP payload's. */
		if (dlen < 8 || cap - l4 < 8 || dp_pf_be16(h + 4) != dlen)
			return false;
		out->sport = dp_pf_be16(h);
		out->dport = dp_pf_be16(h + 2);
		out->payload_off = (uint16_t)(l4 + 8);
	} else {
		return false;
	}
	out->l4_off = (uint16_t)l4;
	out->payload_len = end - out->payload_off;
	return true;
}

#endif /* DP_PARSE_FAST_H */
