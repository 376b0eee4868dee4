/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small packet builders for the parser tests: append headers to a buffer, then pb_finish()
 * fills the length fields and the IPv4 checksum from what was appended. Tests that want a
 * malformed packet change bytes after pb_finish() (and call pb_ipv4_cksum() again when the
 * checksum must stay right).
 *
 * Fixed values the tests assert: IPv4 10.0.0.1 -> 10.0.0.2, id 0x1234, TTL 64, TOS 0x28;
 * IPv6 2001:db8::1 -> 2001:db8::2, hop limit 63, traffic class 0xb8; TCP seq 0x01020304,
 * ack 0x05060708, window 0x2000; payload bytes 0xab.
 */
#ifndef PKT_BUILD_H
#define PKT_BUILD_H

#include <stdint.h>
#include <string.h>

#define PB_MAX 4096

struct pb {
	uint8_t b[PB_MAX];
	uint32_t len;
	uint32_t l3;  /* offset of the IP header */
	uint8_t ipv;  /* 4, 6 or 0 */
	uint32_t udp; /* offset of the UDP header, 0 if none */
};

static const uint8_t pb_ip4_src[4] = { 10, 0, 0, 1 };
static const uint8_t pb_ip4_dst[4] = { 10, 0, 0, 2 };
static const uint8_t pb_ip6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t pb_ip6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

static inline void
pb_init(struct pb *p)
{
	memset(p, 0, sizeof(*p));
}

static inline void
pb_u8(struct pb *p, uint8_t v)
{
	p->b[p->len++] = v;
}

static inline void
pb_u16(struct pb *p, uint16_t v)
{
	pb_u8(p, (uint8_t)(v >> 8));
	pb_u8(p, (uint8_t)v);
}

static inline void
pb_u32(struct pb *p, uint32_t v)
{
	pb_u16(p, (uint16_t)(v >> 16));
	pb_u16(p, (uint16_t)v);
}

static inline void
pb_bytes(struct pb *p, const void *d, uint32_t n)
{
	memcpy(p->b + p->len, d, n);
	p->len += n;
}

static inline void
pb_fill(struct pb *p, uint8_t v, uint32_t n)
{
	memset(p->b + p->len, v, n);
	p->len += n;
}

static inline void
pb_set16(struct pb *p, uint32_t off, uint16_t v)
{
	p->b[off] = (uint8_t)(v >> 8);
	p->b[off + 1] = (uint8_t)v;
}

/* Ethernet header; type is the EtherType or the first tag's TPID. */
static inline void
pb_eth(struct pb *p, uint16_t type)
{
	static const uint8_t macs[12] = { 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01 };

	pb_bytes(p, macs, sizeof(macs));
	pb_u16(p, type);
}

/* The rest of a VLAN tag after its TPID: TCI, then the next EtherType or TPID. */
static inline void
pb_tag(struct pb *p, uint16_t tci, uint16_t next)
{
	pb_u16(p, tci);
	pb_u16(p, next);
}

/* IPv4 header with optlen bytes of options (a multiple of 4). Lengths and checksum: pb_finish. */
static inline void
pb_ipv4(struct pb *p, uint8_t proto, const uint8_t *opts, uint32_t optlen)
{
	p->l3 = p->len;
	p->ipv = 4;
	pb_u8(p, (uint8_t)(0x40 | (5 + optlen / 4)));
	pb_u8(p, 0x28);
	pb_u16(p, 0); /* total length */
	pb_u16(p, 0x1234);
	pb_u16(p, 0); /* flags, fragment offset */
	pb_u8(p, 64);
	pb_u8(p, proto);
	pb_u16(p, 0); /* checksum */
	pb_bytes(p, pb_ip4_src, 4);
	pb_bytes(p, pb_ip4_dst, 4);
	if (optlen)
		pb_bytes(p, opts, optlen);
}

/* Flags and fragment offset (in bytes, a multiple of 8) of the IPv4 header. */
static inline void
pb_ipv4_frag(struct pb *p, uint32_t off, int df, int mf)
{
	pb_set16(p, p->l3 + 6, (uint16_t)((df ? 0x4000 : 0) | (mf ? 0x2000 : 0) | (off >> 3)));
}

static inline void
pb_ipv4_cksum(struct pb *p)
{
	uint32_t hl = (uint32_t)(p->b[p->l3] & 0xf) * 4, s = 0;

	pb_set16(p, p->l3 + 10, 0);
	for (uint32_t i = 0; i < hl; i += 2)
		s += (uint32_t)p->b[p->l3 + i] << 8 | p->b[p->l3 + i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	pb_set16(p, p->l3 + 10, (uint16_t)~s);
}

static inline void
pb_ipv6(struct pb *p, uint8_t nh)
{
	p->l3 = p->len;
	p->ipv = 6;
	pb_u32(p, 0x6b800000); /* version 6, traffic class 0xb8, flow label 0 */
	pb_u16(p, 0);	       /* payload length */
	pb_u8(p, nh);
	pb_u8(p, 63);
	pb_bytes(p, pb_ip6_src, 16);
	pb_bytes(p, pb_ip6_dst, 16);
}

/* Hop-by-hop, routing or destination options header of (len8 + 1) * 8 bytes. */
static inline void
pb_ext(struct pb *p, uint8_t nh, uint8_t len8)
{
	pb_u8(p, nh);
	pb_u8(p, len8);
	pb_fill(p, 0, (uint32_t)(len8 + 1) * 8 - 2);
}

/* AH of (len4 + 2) * 4 bytes. */
static inline void
pb_ah(struct pb *p, uint8_t nh, uint8_t len4)
{
	pb_u8(p, nh);
	pb_u8(p, len4);
	pb_u16(p, 0);
	pb_u32(p, 0x1000); /* SPI */
	pb_fill(p, 0x11, (uint32_t)(len4 + 2) * 4 - 8);
}

static inline void
pb_frag6(struct pb *p, uint8_t nh, uint32_t off, int m, uint32_t id)
{
	pb_u8(p, nh);
	pb_u8(p, 0);
	pb_u16(p, (uint16_t)(off | (m ? 1 : 0)));
	pb_u32(p, id);
}

/* TCP header with doff 32-bit words (options are NOPs). */
static inline void
pb_tcp(struct pb *p, uint16_t sport, uint16_t dport, uint8_t flags, uint8_t doff)
{
	pb_u16(p, sport);
	pb_u16(p, dport);
	pb_u32(p, 0x01020304);
	pb_u32(p, 0x05060708);
	pb_u8(p, (uint8_t)(doff << 4));
	pb_u8(p, flags);
	pb_u16(p, 0x2000);
	pb_u16(p, 0); /* checksum: the parser does not verify L4 checksums */
	pb_u16(p, 0);
	if (doff > 5)
		pb_fill(p, 1, (uint32_t)(doff - 5) * 4);
}

static inline void
pb_udp(struct pb *p, uint16_t sport, uint16_t dport)
{
	p->udp = p->len;
	pb_u16(p, sport);
	pb_u16(p, dport);
	pb_u16(p, 0); /* length: pb_finish */
	pb_u16(p, 0);
}

static inline void
pb_icmp(struct pb *p, uint8_t type, uint8_t code, uint16_t id, uint16_t seq)
{
	pb_u8(p, type);
	pb_u8(p, code);
	pb_u16(p, 0);
	pb_u16(p, id);
	pb_u16(p, seq);
}

static inline void
pb_sctp(struct pb *p, uint16_t sport, uint16_t dport)
{
	pb_u16(p, sport);
	pb_u16(p, dport);
	pb_u32(p, 0xcafef00d); /* verification tag */
	pb_u32(p, 0);	       /* checksum */
}

static inline void
pb_data(struct pb *p, uint32_t n)
{
	pb_fill(p, 0xab, n);
}

/* Fill IP and UDP lengths from what was appended, then the IPv4 checksum. */
static inline void
pb_finish(struct pb *p)
{
	if (p->udp)
		pb_set16(p, p->udp + 4, (uint16_t)(p->len - p->udp));
	if (p->ipv == 4) {
		pb_set16(p, p->l3 + 2, (uint16_t)(p->len - p->l3));
		pb_ipv4_cksum(p);
	} else if (p->ipv == 6) {
		pb_set16(p, p->l3 + 4, (uint16_t)(p->len - p->l3 - 40));
	}
}

/* Common shapes. */
static inline void
pb_ipv4_tcp(struct pb *p, uint8_t flags, uint32_t data)
{
	pb_init(p);
	pb_eth(p, 0x0800);
	pb_ipv4(p, 6, NULL, 0);
	pb_tcp(p, 1234, 80, flags, 5);
	pb_data(p, data);
	pb_finish(p);
}

static inline void
pb_ipv4_udp(struct pb *p, uint32_t data)
{
	pb_init(p);
	pb_eth(p, 0x0800);
	pb_ipv4(p, 17, NULL, 0);
	pb_udp(p, 5353, 53);
	pb_data(p, data);
	pb_finish(p);
}

static inline void
pb_ipv6_udp(struct pb *p, uint32_t data)
{
	pb_init(p);
	pb_eth(p, 0x86dd);
	pb_ipv6(p, 17);
	pb_udp(p, 5353, 53);
	pb_data(p, data);
	pb_finish(p);
}

#endif /* PKT_BUILD_H */
