/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frames of vg-pktgen: Ethernet (02:00:00:00:00:01 -> 02:00:00:00:00:02 from client to server,
 * swapped in reply), an optional 802.1Q tag, IPv4 (DF, TTL 64) or IPv6 (hop limit 64), and TCP,
 * UDP, ICMP echo or ICMPv6 echo, with every checksum correct (IPv4 header; TCP, UDP and ICMPv6
 * over their pseudo headers; ICMP over its message). Frames shorter than the 60-byte Ethernet
 * minimum are padded with zeros that no length field counts, as on the wire.
 */
#ifndef VG_PKTGEN_FRAME_H
#define VG_PKTGEN_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vg_pktgen_flow.h"

#define VG_PKTGEN_MIN_FRAME 60 /* without FCS */
#define VG_PKTGEN_FRAME_MAX 16384

#define VG_TCP_FIN 0x01
#define VG_TCP_SYN 0x02
#define VG_TCP_RST 0x04
#define VG_TCP_PSH 0x08
#define VG_TCP_ACK 0x10

/* What varies between the packets of one flow. */
struct vg_pktgen_seg {
	uint8_t dir;	   /* 0: client to server, 1: server to client */
	uint8_t tcp_flags; /* TCP only */
	bool mss;	   /* TCP only: carry an MSS option (SYN, SYN-ACK) */
	uint32_t seq;	   /* TCP only */
	uint32_t ack;	   /* TCP only */
	uint16_t ip_id;	   /* IPv4 only */
	uint16_t icmp_seq; /* ICMP only */
};

/* Bytes of headers (Ethernet, tag, IP, L4 with options) before the payload. */
size_t vg_pktgen_hdr_len(const struct vg_pktgen_flow *f, bool vlan, bool mss);

/*
 * Write the headers of one packet of f in front of the payload_len bytes already at
 * buf + vg_pktgen_hdr_len(f, vlan >= 0, s->mss), fill in lengths and checksums and pad to 60
 * bytes. buf holds VG_PKTGEN_FRAME_MAX bytes; the caller keeps header + payload within it.
 * vlan is the tag or -1. Returns the frame length (what the pcap record holds).
 */
size_t vg_pktgen_frame_finish(uint8_t *buf, const struct vg_pktgen_flow *f,
		const struct vg_pktgen_seg *s, int vlan, size_t payload_len);

/* Internet checksum (RFC 1071) of len bytes folded into sum (host order, unfolded). */
uint32_t vg_pktgen_csum_add(uint32_t sum, const uint8_t *p, size_t len);

/* Fold and complement: the value to store in a checksum field (host order). */
uint16_t vg_pktgen_csum_fold(uint32_t sum);

#endif /* VG_PKTGEN_FRAME_H */
