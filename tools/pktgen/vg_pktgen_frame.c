/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "vg_pktgen_frame.h"

#define ETH_LEN	 14
#define VLAN_LEN 4
#define IP4_LEN	 20
#define IP6_LEN	 40
#define TCP_LEN	 20
#define MSS_LEN	 4
#define UDP_LEN	 8
#define ICMP_LEN 8

static const uint8_t mac_client[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_server[6] = { 0x02, 0, 0, 0, 0, 0x02 };

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t
vg_pktgen_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t s = sum;
	size_t i = 0;

	/* 32-bit big-endian words into a 64-bit accumulator: the carries fold in at the end. */
	for (; i + 4 <= len; i += 4)
		s += (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 | (uint32_t)p[i + 2] << 8 |
		     p[i + 3];
	for (; i + 2 <= len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < len)
		s += (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

uint16_t
vg_pktgen_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t
l4_hdr_len(const struct vg_pktgen_flow *f, bool mss)
{
	switch (f->proto) {
	case VG_PKTGEN_TCP:
		return TCP_LEN + (mss ? MSS_LEN : 0);
	case VG_PKTGEN_UDP:
		return UDP_LEN;
	default:
		return ICMP_LEN;
	}
}

size_t
vg_pktgen_hdr_len(const struct vg_pktgen_flow *f, bool vlan, bool mss)
{
	return ETH_LEN + (vlan ? VLAN_LEN : 0) + (f->v6 ? IP6_LEN : IP4_LEN) + l4_hdr_len(f, mss);
}

/* Sum of the pseudo header: addresses, protocol and L4 length. */
static uint32_t
pseudo_sum(const struct vg_pktgen_flow *f, const uint8_t *src, const uint8_t *dst, uint8_t proto,
		size_t l4_len)
{
	uint8_t tail[8] = { 0 };
	uint32_t sum;
	size_t alen = f->v6 ? 16 : 4;

	sum = vg_pktgen_csum_add(0, src, alen);
	sum = vg_pktgen_csum_add(sum, dst, alen);
	put32(tail, (uint32_t)l4_len);
	tail[7] = proto;
	return vg_pktgen_csum_add(sum, tail, sizeof(tail));
}

size_t
vg_pktgen_frame_finish(uint8_t *buf, const struct vg_pktgen_flow *f, const struct vg_pktgen_seg *s,
		int vlan, size_t payload_len)
{
	const uint8_t *src = s->dir == 0 ? f->caddr : f->saddr;
	const uint8_t *dst = s->dir == 0 ? f->saddr : f->caddr;
	uint16_t sport = s->dir == 0 ? f->cport : f->sport;
	uint16_t dport = s->dir == 0 ? f->sport : f->cport;
	size_t l4_len = l4_hdr_len(f, s->mss) + payload_len;
	uint8_t ipproto;
	uint8_t *p = buf, *l4;
	size_t len;

	memcpy(p, s->dir == 0 ? mac_server : mac_client, 6);
	memcpy(p + 6, s->dir == 0 ? mac_client : mac_server, 6);
	p += 12;
	if (vlan >= 0) {
		put16(p, 0x8100);
		put16(p + 2, (uint16_t)vlan);
		p += VLAN_LEN;
	}
	put16(p, f->v6 ? 0x86dd : 0x0800);
	p += 2;

	if (f->proto == VG_PKTGEN_TCP)
		ipproto = 6;
	else if (f->proto == VG_PKTGEN_UDP)
		ipproto = 17;
	else
		ipproto = f->v6 ? 58 : 1;

	if (f->v6) {
		put32(p, 6u << 28 | f->flow_label);
		put16(p + 4, (uint16_t)l4_len);
		p[6] = ipproto;
		p[7] = 64;
		memcpy(p + 8, src, 16);
		memcpy(p + 24, dst, 16);
		l4 = p + IP6_LEN;
	} else {
		p[0] = 0x45;
		p[1] = 0;
		put16(p + 2, (uint16_t)(IP4_LEN + l4_len));
		put16(p + 4, s->ip_id);
		put16(p + 6, 0x4000); /* DF */
		p[8] = 64;
		p[9] = ipproto;
		put16(p + 10, 0);
		memcpy(p + 12, src, 4);
		memcpy(p + 16, dst, 4);
		put16(p + 10, vg_pktgen_csum_fold(vg_pktgen_csum_add(0, p, IP4_LEN)));
		l4 = p + IP4_LEN;
	}

	switch (f->proto) {
	case VG_PKTGEN_TCP:
		put16(l4, sport);
		put16(l4 + 2, dport);
		put32(l4 + 4, s->seq);
		put32(l4 + 8, s->ack);
		l4[12] = (uint8_t)((TCP_LEN + (s->mss ? MSS_LEN : 0)) / 4 << 4);
		l4[13] = s->tcp_flags;
		put16(l4 + 14, s->dir == 0 ? 64240 : 65160);
		put16(l4 + 16, 0);
		put16(l4 + 18, 0);
		if (s->mss) {
			l4[20] = 2; /* kind MSS */
			l4[21] = 4;
			put16(l4 + 22, f->v6 ? 1440 : 1460);
		}
		put16(l4 + 16, vg_pktgen_csum_fold(vg_pktgen_csum_add(
					       pseudo_sum(f, src, dst, ipproto, l4_len), l4,
					       l4_len)));
		break;
	case VG_PKTGEN_UDP: {
		uint16_t c;

		put16(l4, sport);
		put16(l4 + 2, dport);
		put16(l4 + 4, (uint16_t)l4_len);
		put16(l4 + 6, 0);
		c = vg_pktgen_csum_fold(vg_pktgen_csum_add(
				pseudo_sum(f, src, dst, ipproto, l4_len), l4, l4_len));
		put16(l4 + 6, c == 0 ? 0xffff : c); /* 0 would mean "no checksum" */
		break;
	}
	default: {
		uint32_t sum = f->v6 ? pseudo_sum(f, src, dst, ipproto, l4_len) : 0;

		if (f->v6)
			l4[0] = s->dir == 0 ? 128 : 129; /* echo request / reply */
		else
			l4[0] = s->dir == 0 ? 8 : 0;
		l4[1] = 0;
		put16(l4 + 2, 0);
		put16(l4 + 4, f->cport);
		put16(l4 + 6, s->icmp_seq);
		put16(l4 + 2, vg_pktgen_csum_fold(vg_pktgen_csum_add(sum, l4, l4_len)));
		break;
	}
	}

	len = (size_t)(l4 - buf) + l4_len;
	if (len < VG_PKTGEN_MIN_FRAME) {
		memset(buf + len, 0, VG_PKTGEN_MIN_FRAME - len);
		len = VG_PKTGEN_MIN_FRAME;
	}
	return len;
}
