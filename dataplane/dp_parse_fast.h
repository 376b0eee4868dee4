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

/* Words read from the frame are taken apart as little-endian. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
		"the fast path reads words as little-endian");

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

static inline uint64_t
dp_pf_ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* The host-order value of two adjacent big-endian 16-bit fields, the first in the low half:
 * what storing both fields one after the other in host order gives. */
static inline uint32_t
dp_pf_be16x2(const uint8_t *p)
{
	const uint32_t v = dp_pf_ld32(p);

	return (v & 0x00ff00ffu) << 8 | (v >> 8 & 0x00ff00ffu);
}

/*
 * Whether the one's complement sum of a 20-byte IPv4 header is 0xffff, as it is when the
 * checksum is right. Summed as 64-bit words with the carries folded back in (one's complement
 * addition modulo 2^64 - 1), and 2^64 - 1 is a multiple of 0xffff: so the 16-bit sum is 0xffff
 * exactly when this one is a non-zero multiple of 0xffff (a multiply-and-compare, no folding).
 */
static inline bool
dp_pf_ipv4_cksum_ok(const uint8_t *h)
{
	const uint64_t a = dp_pf_ld64(h), b = dp_pf_ld64(h + 8), c = dp_pf_ld32(h + 16);
	uint64_t s = a + b;

	s += s < a;
	s += c;
	s += s < c;
	return s != 0 && s % 0xffff == 0;
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
	uint32_t o, l4, dlen, end;
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
	/* One tag or none: the same loads either way. */
	et = dp_pf_be16(frame + 12);
	const bool tagged = et == 0x8100 || et == 0x88a8 || et == 0x9100;

	o = 14 + 4 * (uint32_t)tagged;
	out->vlan[0] = tagged ? dp_pf_be16(frame + 14) & 0xfff : 0;
	out->n_vlan = tagged;
	et = dp_pf_be16(frame + o - 2);
	out->ether_type = et;
	out->l3_off = (uint16_t)o;
	h = frame + o;
	if (et == 0x0800) {
		/* Bytes 0-7 (little-endian): version 4 and IHL 5 in byte 0; neither MF nor an
		 * offset in bytes 6-7 (DF is bit 6 of byte 6): no options, not a fragment. */
		const uint64_t v = dp_pf_ld64(h);
		const uint32_t tot = __builtin_bswap16((uint16_t)(v >> 16));

		if ((v & 0xff3f0000000000ffu) != 0x45)
			return false;
		if (tot < 20 || tot > len - o)
			return false;
		if (pol->ipv4_cksum && ((hw & DP_PARSE_HW_IP_CKSUM_BAD) ||
						       (!(hw & DP_PARSE_HW_IP_CKSUM_GOOD) &&
								       !dp_pf_ipv4_cksum_ok(h))))
			return false;
		out->l3 = DP_L3_IPV4;
		out->tos = (uint8_t)(v >> 8);
		out->frag_id = __builtin_bswap16((uint16_t)(v >> 32));
		out->ttl = h[8];
		out->proto = h[9];
		/* Each address with its zero tail: one 16-byte store. */
		const uint64_t src[2] = { dp_pf_ld32(h + 12), 0 },
			       dst[2] = { dp_pf_ld32(h + 16), 0 };

		memcpy(out->src, src, 16);
		memcpy(out->dst, dst, 16);
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
	/* sport and dport as one store: the flow key reads them as one word. */
	_Static_assert(offsetof(struct dp_pkt, dport) == offsetof(struct dp_pkt, sport) + 2,
			"dport follows sport");
	if (out->proto == 6) {
		/* A whole TCP header (options included) in the datagram and the readable bytes
		 * (the data offset check also refuses a datagram shorter than 20 bytes). */
		if (cap - l4 < 20)
			return false;
		uint32_t thl = (uint32_t)(h[12] >> 4) << 2;

		if (thl < 20 || thl > dlen || thl > cap - l4)
			return false;
		if ((h[13] & 0x02) && (h[13] & 0x05))
			return false; /* SYN with FIN or RST: tcp_bad_flags */
		const uint32_t ports = dp_pf_be16x2(h);

		memcpy(&out->sport, &ports, 4);
		out->tcp_seq = dp_pf_be32(h + 4);
		out->tcp_ack = dp_pf_be32(h + 8);
		out->tcp_flags = h[13];
		out->tcp_win = dp_pf_be16(h + 14);
		out->payload_off = (uint16_t)(l4 + thl);
	} else if (out->proto == 17) {
		/* Its length field is the IP payload's. */
		if (dlen < 8 || cap - l4 < 8 || dp_pf_be16(h + 4) != dlen)
			return false;
		const uint32_t ports = dp_pf_be16x2(h);

		memcpy(&out->sport, &ports, 4);
		out->payload_off = (uint16_t)(l4 + 8);
	} else {
		return false;
	}
	out->l4_off = (uint16_t)l4;
	out->payload_len = end - out->payload_off;
	return true;
}

#endif /* DP_PARSE_FAST_H */
