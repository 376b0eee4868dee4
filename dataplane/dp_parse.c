/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet parser core. Plain C, no DPDK: the fuzzer and the unit tests link it alone.
 *
 * Bounds discipline: `cap` is how many bytes may be read, `len` how long the frame is. Every
 * read is preceded by a check that it ends at or before cap; lengths taken from headers are
 * checked against len (they may describe bytes in later mbuf segments). All offsets are kept
 * in uint32_t and compared by subtraction from a bound already known to be larger, so no sum
 * can wrap.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

/* header-only: DPDK's checksum helpers are inline, so vg_parse links no DPDK library */
#include <rte_byteorder.h>
#include <rte_ip.h>

#include "dp_parse.h"

#define DP_LIKELY(x)   __builtin_expect(!!(x), 1)
#define DP_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define ETH_HLEN	 14
#define VLAN_HLEN	 4
#define ETHER_TYPE_IPV4	 0x0800
#define ETHER_TYPE_IPV6	 0x86dd
#define ETHER_TYPE_VLAN	 0x8100
#define ETHER_TYPE_QINQ	 0x88a8
#define ETHER_TYPE_QINQ1 0x9100

#define IPV4_HLEN 20
#define IPV6_HLEN 40

#define PROTO_HOPOPTS  0
#define PROTO_ICMP     1
#define PROTO_TCP      6
#define PROTO_UDP      17
#define PROTO_ROUTING  43
#define PROTO_FRAGMENT 44
#define PROTO_ESP      50
#define PROTO_AH       51
#define PROTO_ICMPV6   58
#define PROTO_NONE     59
#define PROTO_DSTOPTS  60
#define PROTO_SCTP     132

#define TCP_HLEN  20
#define UDP_HLEN  8
#define ICMP_HLEN 8
#define SCTP_HLEN 12

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04

/* dp_pkt is cleared up to src with one fixed-size memset, then the addresses are written. */
static_assert(offsetof(struct dp_pkt, src) == 56, "dp_pkt scalar part changed");
static_assert(sizeof(struct dp_pkt) == 88, "dp_pkt has padding or grew");
static_assert(sizeof(bool) == 1, "dp_pkt assumes a one-byte bool");
static_assert(sizeof(struct dp_parse_counters) % sizeof(uint64_t) == 0, "counters not u64");

static const struct dp_parse_policy default_policy = {
	.drop = {
		[DP_PERR_L2_TRUNCATED] = 1,
		[DP_PERR_VLAN_TRUNCATED] = 1,
		[DP_PERR_VLAN_TOO_MANY] = 1,
		[DP_PERR_IPV4_TRUNCATED] = 1,
		[DP_PERR_IPV4_BAD_VERSION] = 1,
		[DP_PERR_IPV4_BAD_IHL] = 1,
		[DP_PERR_IPV4_BAD_TOTAL_LEN] = 1,
		[DP_PERR_IPV4_BAD_CHECKSUM] = 1,
		[DP_PERR_IPV4_BAD_OPTIONS] = 1,
		[DP_PERR_IPV6_TRUNCATED] = 1,
		[DP_PERR_IPV6_BAD_VERSION] = 1,
		[DP_PERR_IPV6_BAD_PAYLOAD_LEN] = 1,
		[DP_PERR_IPV6_EXT_TRUNCATED] = 1,
		[DP_PERR_IPV6_EXT_TOO_MANY] = 1,
		[DP_PERR_IPV6_EXT_ORDER] = 1,
		[DP_PERR_FRAG_TINY] = 1,
		[DP_PERR_FRAG_BAD_OFFSET] = 1,
		[DP_PERR_FRAG_OVERSIZE] = 1,
		[DP_PERR_FRAG_BAD_LEN] = 1,
		[DP_PERR_FRAG_OVERLAP] = 1, /* RFC 5722; hosts disagree on which copy wins */
		[DP_PERR_TCP_TRUNCATED] = 1,
		[DP_PERR_TCP_BAD_DATA_OFFSET] = 1,
		[DP_PERR_TCP_BAD_FLAGS] = 0, /* scans must reach the detectors: see dp_parse.h */
		[DP_PERR_UDP_TRUNCATED] = 1,
		[DP_PERR_UDP_BAD_LEN] = 1,
		[DP_PERR_ICMP_TRUNCATED] = 1,
		[DP_PERR_SCTP_TRUNCATED] = 1,
		/* what the host would discard; rules (tcpv4-csum:invalid) decide, as in Suricata */
		[DP_PERR_TCP_BAD_CHECKSUM] = 0,
		[DP_PERR_UDP_BAD_CHECKSUM] = 0,
		[DP_PERR_ICMP_BAD_CHECKSUM] = 0,
	},
	.ipv4_cksum = true,
	.max_ext_hdrs = 8,
	.first_frag_min_l4 = 0,
};

struct perr_info {
	const char *name;
	const char *desc;
};

static const struct perr_info anom_info[DP_ANOM__COUNT] = {
	[DP_ANOM_IPV4_FRAG_DF] = { "ipv4_frag_df",
			"an IPv4 fragment with Don't Fragment set: no router fragments such a datagram" },
	[DP_ANOM_IPV6_RH0] = { "ipv6_rh0",
			"an IPv6 routing header of type 0, deprecated for the amplification and filter "
			"evasion it allows (RFC 5095)" },
	[DP_ANOM_IPV6_DUPL_RH] = { "ipv6_dupl_rh",
			"a second IPv6 routing header (RFC 8200 allows one)" },
	[DP_ANOM_IPV6_FH_RESERVED] = { "ipv6_fh_reserved",
			"an IPv6 fragment header whose reserved bits are not zero" },
};

const char *
dp_anom_name(enum dp_anom a)
{
	if ((unsigned)a >= DP_ANOM__COUNT) {
		errno = EINVAL;
		return NULL;
	}
	return anom_info[a].name;
}

const char *
dp_anom_desc(enum dp_anom a)
{
	if ((unsigned)a >= DP_ANOM__COUNT) {
		errno = EINVAL;
		return NULL;
	}
	return anom_info[a].desc;
}

static const struct perr_info perr_info[DP_PERR__COUNT] = {
	[DP_PERR_NONE] = { "none", "the packet parsed without a problem" },
	[DP_PERR_L2_TRUNCATED] = { "l2_truncated",
			"frame shorter than an Ethernet header (14 bytes)" },
	[DP_PERR_VLAN_TRUNCATED] = { "vlan_truncated", "a VLAN tag runs off the frame" },
	[DP_PERR_VLAN_TOO_MANY] = { "vlan_too_many", "more than three VLAN tags" },
	[DP_PERR_IPV4_TRUNCATED] = { "ipv4_truncated",
			"fewer than 20 bytes of IPv4 header, or the header runs past the first segment" },
	[DP_PERR_IPV4_BAD_VERSION] = { "ipv4_bad_version",
			"EtherType IPv4 but the version field is not 4" },
	[DP_PERR_IPV4_BAD_IHL] = { "ipv4_bad_ihl",
			"IHL below 5, or the header is longer than the frame" },
	[DP_PERR_IPV4_BAD_TOTAL_LEN] = { "ipv4_bad_total_len",
			"total length smaller than the header or larger than the frame" },
	[DP_PERR_IPV4_BAD_CHECKSUM] = { "ipv4_bad_checksum",
			"IPv4 header checksum wrong (software check or the NIC's verdict)" },
	[DP_PERR_IPV4_BAD_OPTIONS] = { "ipv4_bad_options",
			"an IPv4 option has a length below 2 or runs off the header" },
	[DP_PERR_IPV6_TRUNCATED] = { "ipv6_truncated",
			"fewer than 40 bytes of IPv6 header, or the header runs past the first segment" },
	[DP_PERR_IPV6_BAD_VERSION] = { "ipv6_bad_version",
			"EtherType IPv6 but the version field is not 6" },
	[DP_PERR_IPV6_BAD_PAYLOAD_LEN] = { "ipv6_bad_payload_len",
			"IPv6 payload length runs past the end of the frame" },
	[DP_PERR_IPV6_EXT_TRUNCATED] = { "ipv6_ext_truncated",
			"an IPv6 extension header runs off the datagram or the first segment" },
	[DP_PERR_IPV6_EXT_TOO_MANY] = { "ipv6_ext_too_many",
			"more IPv6 extension headers than the policy follows" },
	[DP_PERR_IPV6_EXT_ORDER] = { "ipv6_ext_order",
			"hop-by-hop options not right after the IPv6 header, or two fragment headers" },
	[DP_PERR_FRAG_TINY] = { "frag_tiny",
			"first fragment too short to hold the L4 header (or the policy's minimum)" },
	[DP_PERR_FRAG_BAD_OFFSET] = { "frag_bad_offset",
			"later fragment whose offset overlaps the first fragment's L4 header (RFC 1858)" },
	[DP_PERR_FRAG_OVERSIZE] = { "frag_oversize",
			"fragment offset plus length makes a datagram larger than 65535 bytes" },
	[DP_PERR_FRAG_BAD_LEN] = { "frag_bad_len",
			"fragment with more to follow whose data length is not a multiple of 8" },
	[DP_PERR_FRAG_OVERLAP] = { "frag_overlap",
			"later fragment over bytes an earlier fragment of its datagram carried (not an exact duplicate)" },
	[DP_PERR_TCP_TRUNCATED] = { "tcp_truncated",
			"fewer than 20 bytes of TCP header, or its options run past the first segment" },
	[DP_PERR_TCP_BAD_DATA_OFFSET] = { "tcp_bad_data_offset",
			"TCP data offset below 5 or beyond the end of the segment" },
	[DP_PERR_TCP_BAD_FLAGS] = { "tcp_bad_flags", "TCP flags SYN+FIN or SYN+RST" },
	[DP_PERR_UDP_TRUNCATED] = { "udp_truncated", "fewer than 8 bytes of UDP header" },
	[DP_PERR_UDP_BAD_LEN] = { "udp_bad_len",
			"UDP length field disagrees with the IP payload length" },
	[DP_PERR_ICMP_TRUNCATED] = { "icmp_truncated",
			"fewer than 8 bytes of ICMP or ICMPv6 header" },
	[DP_PERR_SCTP_TRUNCATED] = { "sctp_truncated",
			"fewer than 12 bytes of SCTP common header" },
	[DP_PERR_TCP_BAD_CHECKSUM] = { "tcp_bad_checksum",
			"TCP checksum wrong (parse.l4_checksum: software check or the NIC's verdict)" },
	[DP_PERR_UDP_BAD_CHECKSUM] = { "udp_bad_checksum",
			"UDP checksum wrong (parse.l4_checksum; a zero IPv4 UDP checksum means none)" },
	[DP_PERR_ICMP_BAD_CHECKSUM] = { "icmp_bad_checksum",
			"ICMP or ICMPv6 checksum wrong (parse.l4_checksum)" },
};

struct dp_parse_policy
dp_parse_policy_default(void)
{
	return default_policy;
}

const char *
dp_parse_err_name(enum dp_parse_err err)
{
	if ((unsigned)err >= DP_PERR__COUNT) {
		errno = EINVAL;
		return NULL;
	}
	return perr_info[err].name;
}

const char *
dp_parse_err_desc(enum dp_parse_err err)
{
	if ((unsigned)err >= DP_PERR__COUNT) {
		errno = EINVAL;
		return NULL;
	}
	return perr_info[err].desc;
}

int
dp_parse_err_from_name(const char *name, enum dp_parse_err *err)
{
	for (unsigned i = 0; name != NULL && i < DP_PERR__COUNT; i++) {
		if (strcmp(perr_info[i].name, name) == 0) {
			*err = (enum dp_parse_err)i;
			return 0;
		}
	}
	return -ENOENT;
}

bool
dp_parse_reason_known(const char *name)
{
	enum dp_parse_err e;

	return dp_parse_err_from_name(name, &e) == 0 && e != DP_PERR_NONE;
}

void
dp_parse_counters_add(struct dp_parse_counters *sum, const struct dp_parse_counters *c)
{
	uint64_t *d = (uint64_t *)sum;
	const uint64_t *s = (const uint64_t *)c;

	for (size_t i = 0; i < sizeof(*c) / sizeof(uint64_t); i++)
		d[i] += __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t
ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline int
fail(struct dp_pkt *out, enum dp_parse_err e)
{
	out->err = (uint8_t)e;
	return (int)e;
}

/*
 * One's complement sum of an IPv4 header of hl bytes (20..60, a multiple of 4). Summing 32-bit
 * words in host order and folding gives the same verdict as 16-bit network-order words
 * (RFC 1071: the sum is byte-order independent); a correct header sums to 0xffff.
 */
static inline bool
ipv4_cksum_ok(const uint8_t *h, uint32_t hl)
{
	uint64_t s = (uint64_t)ld32(h) + ld32(h + 4) + ld32(h + 8) + ld32(h + 12) + ld32(h + 16);

	for (uint32_t i = IPV4_HLEN; i < hl; i += 4)
		s += ld32(h + i);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

/* Options between the fixed header and hl: EOL ends them, NOP is one byte, others are TLV. */
static inline bool
ipv4_options_ok(const uint8_t *h, uint32_t hl)
{
	uint32_t i = IPV4_HLEN;

	while (i < hl) {
		uint8_t type = h[i];

		if (type == 0) /* EOL: the rest is padding */
			return true;
		if (type == 1) {
			i++;
			continue;
		}
		if (hl - i < 2)
			return false; /* no room for the length byte */
		uint8_t olen = h[i + 1];

		if (olen < 2 || olen > hl - i)
			return false;
		i += olen;
	}
	return true;
}

/* The L4 header bytes a first fragment must hold and a later fragment must not overlap. */
static inline uint32_t
l4_min_hdr(uint8_t proto, uint8_t l3)
{
	switch (proto) {
	case PROTO_TCP:
		return TCP_HLEN;
	case PROTO_UDP:
		return UDP_HLEN;
	case PROTO_SCTP:
		return SCTP_HLEN;
	case PROTO_ICMP:
		return l3 == DP_L3_IPV4 ? ICMP_HLEN : 0;
	case PROTO_ICMPV6:
		return l3 == DP_L3_IPV6 ? ICMP_HLEN : 0;
	default:
		return 0;
	}
}

static inline uint32_t
first_frag_floor(uint8_t proto, uint8_t l3, const struct dp_parse_policy *pol)
{
	uint32_t h = l4_min_hdr(proto, l3);

	return pol->first_frag_min_l4 > h ? pol->first_frag_min_l4 : h;
}

/* A later fragment (offset > 0): no L4 header, the fragment data is the payload. */
static inline int
later_fragment(struct dp_pkt *out, uint32_t data_off, const struct dp_parse_policy *pol)
{
	out->l4_off = (uint16_t)data_off;
	out->payload_off = (uint16_t)data_off;
	out->payload_len = out->l3_end - data_off;
	if (DP_UNLIKELY(out->frag_offset < first_frag_floor(out->proto, out->l3, pol)))
		return fail(out, DP_PERR_FRAG_BAD_OFFSET);
	return 0;
}

/*
 * Is there room for n header bytes at o? The header must end within the datagram (else the
 * layer's truncation reason, or FRAG_TINY in a first fragment, whose data simply stops) and
 * within the readable bytes (else the truncation reason: it crossed into a later segment).
 */
static inline enum dp_parse_err
room(const struct dp_pkt *out, uint32_t cap, uint32_t o, uint32_t n, enum dp_parse_err trunc)
{
	if (DP_UNLIKELY(out->l3_end - o < n))
		return out->frag == DP_FRAG_FIRST ? DP_PERR_FRAG_TINY : trunc;
	if (DP_UNLIKELY(cap - o < n))
		return trunc;
	return DP_PERR_NONE;
}

static inline void
set_payload(struct dp_pkt *out, uint32_t o)
{
	out->payload_off = (uint16_t)o;
	out->payload_len = out->l3_end - o;
}

/*
 * L4 at o (o <= l3_end and o <= cap hold). out->proto, l3, frag and l3_end are set.
 */
static int
parse_l4(const uint8_t *frame, uint32_t cap, uint32_t o, struct dp_pkt *out,
		const struct dp_parse_policy *pol)
{
	const uint8_t *h = frame + o;
	uint32_t dlen = out->l3_end - o; /* L4 bytes in this datagram or first fragment */
	enum dp_parse_err e;

	out->l4_off = (uint16_t)o;
	switch (out->proto) {
	case PROTO_TCP: {
		e = room(out, cap, o, TCP_HLEN, DP_PERR_TCP_TRUNCATED);
		if (DP_UNLIKELY(e != DP_PERR_NONE))
			return fail(out, e);
		out->sport = be16(h);
		out->dport = be16(h + 2);
		out->tcp_seq = be32(h + 4);
		out->tcp_ack = be32(h + 8);
		out->tcp_flags = h[13];
		out->tcp_win = be16(h + 14);
		uint32_t thl = (uint32_t)(h[12] >> 4) << 2;

		if (DP_UNLIKELY(thl < TCP_HLEN))
			return fail(out, DP_PERR_TCP_BAD_DATA_OFFSET);
		if (DP_UNLIKELY(thl > dlen))
			return fail(out, out->frag == DP_FRAG_FIRST ? DP_PERR_FRAG_TINY
								    : DP_PERR_TCP_BAD_DATA_OFFSET);
		/* Options are header: callers may read them, so they must be readable. */
		if (DP_UNLIKELY(thl > cap - o))
			return fail(out, DP_PERR_TCP_TRUNCATED);
		set_payload(out, o + thl);
		break;
	}
	case PROTO_UDP: {
		e = room(out, cap, o, UDP_HLEN, DP_PERR_UDP_TRUNCATED);
		if (DP_UNLIKELY(e != DP_PERR_NONE))
			return fail(out, e);
		out->sport = be16(h);
		out->dport = be16(h + 2);
		set_payload(out, o + UDP_HLEN);
		uint32_t ulen = be16(h + 4);

		/*
		 * Unfragmented, the UDP length must match the IP payload exactly: hosts disagree on
		 * what trailing bytes mean, and an inspector must see what the host sees. In a
		 * first fragment it covers the whole datagram, so it must exceed this fragment.
		 */
		if (out->frag == DP_FRAG_NONE ? ulen != dlen : (ulen < UDP_HLEN || ulen <= dlen))
			return fail(out, DP_PERR_UDP_BAD_LEN);
		break;
	}
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		if ((out->proto == PROTO_ICMP) != (out->l3 == DP_L3_IPV4))
			goto other; /* ICMPv6 in IPv4 or ICMP in IPv6: no meaning, no ports */
		e = room(out, cap, o, ICMP_HLEN, DP_PERR_ICMP_TRUNCATED);
		if (DP_UNLIKELY(e != DP_PERR_NONE))
			return fail(out, e);
		out->icmp_type = h[0];
		out->icmp_code = h[1];
		/* Echo request/reply: the identifier in both ports makes a ping and its replies
		 * one flow. */
		if (out->proto == PROTO_ICMP ? (h[0] == 8 || h[0] == 0)
					     : (h[0] == 128 || h[0] == 129)) {
			out->sport = be16(h + 4);
			out->dport = out->sport;
		}
		set_payload(out, o + ICMP_HLEN);
		break;
	case PROTO_SCTP:
		e = room(out, cap, o, SCTP_HLEN, DP_PERR_SCTP_TRUNCATED);
		if (DP_UNLIKELY(e != DP_PERR_NONE))
			return fail(out, e);
		out->sport = be16(h);
		out->dport = be16(h + 2);
		set_payload(out, o + SCTP_HLEN);
		break;
	default:
	other:
		/* Unknown to us (ESP, GRE, no-next-header, ...): the whole PDU is payload. */
		set_payload(out, o);
		break;
	}

	if (DP_UNLIKELY(out->frag == DP_FRAG_FIRST && dlen < pol->first_frag_min_l4))
		return fail(out, DP_PERR_FRAG_TINY);
	/* Checked last: the segment is otherwise whole and every field above is filled. */
	if (DP_UNLIKELY(out->proto == PROTO_TCP && (out->tcp_flags & TCP_SYN) &&
			    (out->tcp_flags & (TCP_FIN | TCP_RST))))
		return fail(out, DP_PERR_TCP_BAD_FLAGS);
	return 0;
}

static int
parse_ipv4(const uint8_t *frame, uint32_t cap, uint32_t len, uint32_t hw, struct dp_pkt *out,
		const struct dp_parse_policy *pol)
{
	uint32_t o = out->l3_off;
	const uint8_t *h = frame + o;

	out->l3 = DP_L3_IPV4;
	if (DP_UNLIKELY(cap - o < IPV4_HLEN)) {
		memset(out->src, 0, sizeof(out->src) + sizeof(out->dst));
		return fail(out, DP_PERR_IPV4_TRUNCATED);
	}
	memcpy(out->src, h + 12, 4);
	memset(out->src + 4, 0, 12);
	memcpy(out->dst, h + 16, 4);
	memset(out->dst + 4, 0, 12);
	out->tos = h[1];
	out->frag_id = be16(h + 4);
	out->ttl = h[8];
	out->proto = h[9];

	if (DP_UNLIKELY((h[0] >> 4) != 4))
		return fail(out, DP_PERR_IPV4_BAD_VERSION);
	uint32_t hl = (uint32_t)(h[0] & 0xf) << 2;

	if (DP_UNLIKELY(hl < IPV4_HLEN || hl > len - o))
		return fail(out, DP_PERR_IPV4_BAD_IHL);
	if (DP_UNLIKELY(hl > cap - o))
		return fail(out, DP_PERR_IPV4_TRUNCATED);
	uint32_t tot = be16(h + 2);

	if (DP_UNLIKELY(tot < hl || tot > len - o))
		return fail(out, DP_PERR_IPV4_BAD_TOTAL_LEN);
	out->l3_end = o + tot;

	if (pol->ipv4_cksum) {
		if (DP_UNLIKELY(hw & DP_PARSE_HW_IP_CKSUM_BAD))
			return fail(out, DP_PERR_IPV4_BAD_CHECKSUM);
		if (!(hw & DP_PARSE_HW_IP_CKSUM_GOOD) && DP_UNLIKELY(!ipv4_cksum_ok(h, hl)))
			return fail(out, DP_PERR_IPV4_BAD_CHECKSUM);
	}
	if (DP_UNLIKELY(hl > IPV4_HLEN) && DP_UNLIKELY(!ipv4_options_ok(h, hl)))
		return fail(out, DP_PERR_IPV4_BAD_OPTIONS);

	uint16_t ff = be16(h + 6);

	if (DP_UNLIKELY(ff & 0x3fff)) { /* MF or an offset: a real fragment */
		uint32_t off = (uint32_t)(ff & 0x1fff) << 3;
		uint32_t dlen = tot - hl;

		out->frag = off != 0 ? DP_FRAG_LATER : DP_FRAG_FIRST;
		out->frag_offset = (uint16_t)off;
		out->frag_more = (ff & 0x2000) != 0;
		if (DP_UNLIKELY(ff & 0x4000))
			out->anom |= DP_ANOM_BIT(DP_ANOM_IPV4_FRAG_DF);
		/* The reassembled datagram has at least a 20-byte header (ping of death). */
		if (IPV4_HLEN + off + dlen > 65535)
			return fail(out, DP_PERR_FRAG_OVERSIZE);
		if (out->frag_more && (dlen & 7))
			return fail(out, DP_PERR_FRAG_BAD_LEN);
		if (off != 0)
			return later_fragment(out, o + hl, pol);
	}
	return parse_l4(frame, cap, o + hl, out, pol);
}

static int
parse_ipv6(const uint8_t *frame, uint32_t cap, uint32_t len, struct dp_pkt *out,
		const struct dp_parse_policy *pol)
{
	uint32_t o = out->l3_off;
	const uint8_t *h = frame + o;

	out->l3 = DP_L3_IPV6;
	if (DP_UNLIKELY(cap - o < IPV6_HLEN)) {
		memset(out->src, 0, sizeof(out->src) + sizeof(out->dst));
		return fail(out, DP_PERR_IPV6_TRUNCATED);
	}
	memcpy(out->src, h + 8, 16);
	memcpy(out->dst, h + 24, 16);
	out->tos = (uint8_t)((h[0] & 0xf) << 4 | h[1] >> 4);
	out->ttl = h[7];
	out->proto = h[6];

	if (DP_UNLIKELY((h[0] >> 4) != 6))
		return fail(out, DP_PERR_IPV6_BAD_VERSION);
	uint32_t plen = be16(h + 4);

	if (DP_UNLIKELY(plen > len - o - IPV6_HLEN))
		return fail(out, DP_PERR_IPV6_BAD_PAYLOAD_LEN);
	out->l3_end = o + IPV6_HLEN + plen;

	uint32_t max_ext = pol->max_ext_hdrs < DP_PARSE_MAX_EXT_HDRS_LIMIT
					   ? pol->max_ext_hdrs
					   : DP_PARSE_MAX_EXT_HDRS_LIMIT;
	uint32_t p = o + IPV6_HLEN;
	uint8_t nh = h[6];
	bool seen_frag = false, seen_rh = false;
	enum dp_parse_err e;

	for (;;) {
		uint32_t hl;

		switch (nh) {
		case PROTO_HOPOPTS:
		case PROTO_ROUTING:
		case PROTO_DSTOPTS:
		case PROTO_AH:
			if (DP_UNLIKELY(nh == PROTO_HOPOPTS && out->n_ext != 0))
				return fail(out, DP_PERR_IPV6_EXT_ORDER);
			break;
		case PROTO_FRAGMENT:
			if (DP_UNLIKELY(seen_frag))
				return fail(out, DP_PERR_IPV6_EXT_ORDER);
			break;
		default:
			goto l4; /* an upper layer, ESP or no-next-header: the chain ends */
		}
		if (DP_UNLIKELY(out->n_ext >= max_ext))
			return fail(out, DP_PERR_IPV6_EXT_TOO_MANY);

		if (nh == PROTO_FRAGMENT) {
			e = room(out, cap, p, 8, DP_PERR_IPV6_EXT_TRUNCATED);
			if (DP_UNLIKELY(e != DP_PERR_NONE))
				return fail(out, e);
			const uint8_t *f = frame + p;
			uint16_t fo = be16(f + 2);
			uint32_t off = fo & 0xfff8;
			uint32_t unfrag = p - (o + IPV6_HLEN); /* extension headers before it */

			seen_frag = true;
			if (DP_UNLIKELY(f[1] != 0 || (fo & 6) != 0))
				out->anom |= DP_ANOM_BIT(DP_ANOM_IPV6_FH_RESERVED);
			out->n_ext++;
			out->frag_id = be32(f + 4);
			nh = f[0];
			p += 8;
			if (off == 0 && !(fo & 1))
				continue; /* atomic fragment (RFC 6946): a whole packet */

			uint32_t dlen = out->l3_end - p;

			out->proto = nh;
			out->frag = off != 0 ? DP_FRAG_LATER : DP_FRAG_FIRST;
			out->frag_offset = (uint16_t)off;
			out->frag_more = fo & 1;
			/* RFC 8200 4.5: the reassembled payload length must fit in 16 bits. */
			if (unfrag + off + dlen > 65535)
				return fail(out, DP_PERR_FRAG_OVERSIZE);
			if (out->frag_more && (dlen & 7))
				return fail(out, DP_PERR_FRAG_BAD_LEN);
			if (off != 0)
				return later_fragment(out, p, pol);
			/* A first fragment must hold the whole chain and the L4 header (RFC 7112):
			 * with frag FIRST, room() reports what runs off it as FRAG_TINY. */
			continue;
		}

		e = room(out, cap, p, 2, DP_PERR_IPV6_EXT_TRUNCATED);
		if (DP_UNLIKELY(e != DP_PERR_NONE))
			return fail(out, e);
		/* AH counts 4-byte units minus 2 (RFC 4302); the others 8-byte units minus 1. */
		if (nh == PROTO_AH)
			hl = ((uint32_t)frame[p + 1] + 2) << 2;
		else
			hl = ((uint32_t)frame[p + 1] + 1) << 3;
		e = room(out, cap, p, hl, DP_PERR_IPV6_EXT_TRUNCATED);
		if (DP_UNLIKELY(e != DP_PERR_NONE))
			return fail(out, e);
		if (nh == PROTO_ROUTING) {
			/* hl is at least 8: the routing type (third byte) is in it */
			if (DP_UNLIKELY(seen_rh))
				out->anom |= DP_ANOM_BIT(DP_ANOM_IPV6_DUPL_RH);
			if (DP_UNLIKELY(frame[p + 2] == 0))
				out->anom |= DP_ANOM_BIT(DP_ANOM_IPV6_RH0);
			seen_rh = true;
		}
		out->n_ext++;
		nh = frame[p];
		p += hl;
	}
l4:
	out->proto = nh;
	return parse_l4(frame, cap, p, out, pol);
}

/*
 * The L4 checksum of a whole datagram (not a fragment) whose bytes are all readable: the NIC's
 * verdict when it gave one, else DPDK's checksum over the pseudo-header (an IPv6 copy of the
 * fixed header carries the upper-layer protocol and length, so extension headers are
 * skipped). Returns rc, or the checksum reason.
 */
static int
l4_cksum(const uint8_t *frame, uint32_t cap, uint32_t hw, struct dp_pkt *out, int rc)
{
	const uint8_t *l4 = frame + out->l4_off;
	uint32_t n = out->l3_end - out->l4_off;
	enum dp_parse_err bad;
	bool ok;

	if (out->frag != DP_FRAG_NONE || out->l4_off == 0 || out->l3_end > cap)
		return rc;
	switch (out->proto) {
	case PROTO_TCP:
		bad = DP_PERR_TCP_BAD_CHECKSUM;
		break;
	case PROTO_UDP:
		bad = DP_PERR_UDP_BAD_CHECKSUM;
		/* IPv4: a zero UDP checksum means the sender computed none */
		if (out->l3 == DP_L3_IPV4 && l4[6] == 0 && l4[7] == 0)
			return rc;
		break;
	case IPPROTO_ICMP:
		if (out->l3 != DP_L3_IPV4)
			return rc;
		bad = DP_PERR_ICMP_BAD_CHECKSUM;
		break;
	case IPPROTO_ICMPV6:
		if (out->l3 != DP_L3_IPV6)
			return rc;
		bad = DP_PERR_ICMP_BAD_CHECKSUM;
		break;
	default:
		return rc;
	}
	if (hw & DP_PARSE_HW_L4_CKSUM_GOOD)
		return rc;
	if (hw & DP_PARSE_HW_L4_CKSUM_BAD)
		return fail(out, bad);
	if (out->proto == IPPROTO_ICMP) {
		ok = rte_raw_cksum(l4, n) == 0xffff;
	} else if (out->l3 == DP_L3_IPV4) {
		ok = rte_ipv4_udptcp_cksum_verify(
				     (const struct rte_ipv4_hdr *)(frame + out->l3_off), l4) == 0;
	} else {
		struct rte_ipv6_hdr h;

		memcpy(&h, frame + out->l3_off, sizeof(h));
		h.proto = out->proto;
		h.payload_len = rte_cpu_to_be_16((uint16_t)n);
		ok = rte_ipv6_udptcp_cksum_verify(&h, l4) == 0;
	}
	return ok ? rc : fail(out, bad);
}

int
dp_parse_ex(const uint8_t *frame, uint32_t cap, uint32_t pkt_len, uint32_t hw, struct dp_pkt *out,
		const struct dp_parse_policy *pol)
{
	uint32_t len = pkt_len < cap ? cap : pkt_len;
	uint32_t o = ETH_HLEN;
	uint16_t et;

	if (pol == NULL)
		pol = &default_policy;
	memset(out, 0, offsetof(struct dp_pkt, src));

	if (DP_UNLIKELY(cap < ETH_HLEN))
		goto l2_fail_trunc;
	et = be16(frame + 12);
	/* At most three tags (QinQinQ, as Suricata decodes), any of the three TPIDs in any
	 * place. */
	while (et == ETHER_TYPE_VLAN || et == ETHER_TYPE_QINQ || et == ETHER_TYPE_QINQ1) {
		if (DP_UNLIKELY(out->n_vlan == DP_MAX_VLANS)) {
			out->ether_type = et;
			out->l3_off = (uint16_t)o;
			memset(out->src, 0, sizeof(out->src) + sizeof(out->dst));
			return fail(out, DP_PERR_VLAN_TOO_MANY);
		}
		if (DP_UNLIKELY(cap - o < VLAN_HLEN))
			goto l2_fail_vlan;
		out->vlan[out->n_vlan++] = be16(frame + o) & 0xfff;
		et = be16(frame + o + 2);
		o += VLAN_HLEN;
	}
	out->ether_type = et;
	out->l3_off = (uint16_t)o;

	if (DP_LIKELY(et == ETHER_TYPE_IPV4) || et == ETHER_TYPE_IPV6) {
		int rc = et == ETHER_TYPE_IPV4 ? parse_ipv4(frame, cap, len, hw, out, pol)
					       : parse_ipv6(frame, cap, len, out, pol);

		if (DP_UNLIKELY(pol->l4_cksum) && (rc == 0 || rc == DP_PERR_TCP_BAD_FLAGS))
			rc = l4_cksum(frame, cap, hw, out, rc);
		return rc;
	}
	/* Not IP: the L2 section of the policy decides; nothing more to parse. */
	memset(out->src, 0, sizeof(out->src) + sizeof(out->dst));
	return 0;

l2_fail_vlan:
	memset(out->src, 0, sizeof(out->src) + sizeof(out->dst));
	return fail(out, DP_PERR_VLAN_TRUNCATED);
l2_fail_trunc:
	memset(out->src, 0, sizeof(out->src) + sizeof(out->dst));
	return fail(out, DP_PERR_L2_TRUNCATED);
}

int
dp_parse(const uint8_t *frame, uint32_t len, struct dp_pkt *out, const struct dp_parse_policy *pol)
{
	return dp_parse_ex(frame, len, len, 0, out, pol);
}
