/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet parser: decodes one Ethernet frame into struct dp_pkt (dp_pkt.h).
 *
 * Covered: Ethernet II; up to two VLAN tags (TPID 0x8100, 0x88a8 or 0x9100 in either
 * position); IPv4 with options; IPv6 with the extension headers hop-by-hop, routing, fragment,
 * destination options and AH (ESP and no-next-header end the chain); IPv4 and IPv6 fragments;
 * TCP, UDP, ICMP, ICMPv6 and SCTP. Any other EtherType is "not IP" and parses clean; any other
 * IP protocol is recorded in proto, without ports, and its whole PDU is the payload.
 *
 * dp_parse() and dp_parse_ex() are plain C without DPDK: unit tests and the fuzzer call them
 * directly. dp_parse_burst() (dp_parse_burst.c, in vg_dataplane) is the fast-path wrapper over
 * mbufs.
 *
 * Thread safety: every function here is reentrant. A policy is read only; a counters struct
 * must have a single writer (the worker that owns it).
 */
#ifndef DP_PARSE_H
#define DP_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include "dp_pkt.h"

/* The parser never follows more IPv6 extension headers than this, whatever the policy says. */
#define DP_PARSE_MAX_EXT_HDRS_LIMIT 16

/* What the parser does about malformed packets. Built by dp_parse_policy_default(). */
struct dp_parse_policy {
	/*
	 * Per reason: 1 drops the packet, 0 forwards it (it is still counted, and its dp_pkt
	 * carries the error for the stages after the parser). drop[DP_PERR_NONE] must be 0.
	 */
	uint8_t drop[DP_PERR__COUNT];
	/* Verify the IPv4 header checksum in software unless the NIC did (see dp_parse_ex). */
	bool ipv4_cksum;
	/*
	 * Verify TCP, UDP, ICMP and ICMPv6 checksums of whole (unfragmented) datagrams that lie
	 * in the readable bytes, unless the NIC did (DP_PARSE_HW_L4_CKSUM_*). A wrong one is
	 * DP_PERR_{TCP,UDP,ICMP}_BAD_CHECKSUM (replacing TCP_BAD_FLAGS). Default off.
	 */
	bool l4_cksum;
	/* IPv6 extension headers followed before DP_PERR_IPV6_EXT_TOO_MANY; capped at
	 * DP_PARSE_MAX_EXT_HDRS_LIMIT. */
	uint8_t max_ext_hdrs;
	/*
	 * Tiny fragment rule. A first fragment must always hold the whole L4 header (TCP: 20
	 * bytes and then its data offset; UDP, ICMP, ICMPv6: 8; SCTP: 12) or it is
	 * DP_PERR_FRAG_TINY. When this is larger, a first fragment must also carry at least this
	 * many bytes from the L4 header on (any protocol), and a later fragment whose offset is
	 * below it is DP_PERR_FRAG_BAD_OFFSET: it would overwrite what the first had to hold.
	 * 0 (the default) leaves only the per-protocol header rule.
	 */
	uint16_t first_frag_min_l4;
};

/* Counters of one worker's parser. Only uint64_t fields, so they can be summed as an array. */
struct dp_parse_counters {
	uint64_t err[DP_PERR__COUNT]; /* per reason; err[DP_PERR_NONE]: packets that parsed clean */
	uint64_t dropped;	      /* packets the policy marked for drop */
	/* What the headers claim, counted for malformed packets too. */
	uint64_t ipv4;	 /* EtherType IPv4 (after tags) */
	uint64_t ipv6;	 /* EtherType IPv6 */
	uint64_t non_ip; /* complete L2 header, another EtherType (ARP, LLDP, ...) */
	uint64_t vlan;	 /* at least one VLAN tag */
	uint64_t qinq;	 /* two VLAN tags */
	uint64_t frag_first;
	uint64_t frag_later;
	/* Packets whose L4 header position was found (l4_off != 0, not a later fragment), L4
	 * errors included. */
	uint64_t tcp;
	uint64_t udp;
	uint64_t icmp;	 /* ICMP in IPv4 */
	uint64_t icmpv6; /* ICMPv6 in IPv6 */
	uint64_t sctp;
	uint64_t l4_other; /* anything else, ESP, AH-only and no-next-header included */
	/* IPv4 packets whose mbuf carried the NIC's checksum verdict. */
	uint64_t ipv4_cksum_hw_good; /* software check skipped */
	uint64_t ipv4_cksum_hw_bad;  /* counted as DP_PERR_IPV4_BAD_CHECKSUM when checked */
	/* With l4_cksum: L4 checksums the NIC vouched for, and those checked in software. */
	uint64_t l4_cksum_hw;
	uint64_t l4_cksum_sw;
	/* Packets with more than one segment, and those of them that failed with a *_truncated
	 * reason because their headers ran past the first segment. */
	uint64_t multiseg;
	uint64_t multiseg_truncated;
	uint64_t anom[DP_ANOM__COUNT]; /* packets with each protocol anomaly (dp_pkt.h) */
};

/* Its table (vg_ctr.h), in dp_stats.c with the dataplane's other counter tables (the parser
 * library itself does not use it). */
struct vg_ctr_set;
extern const struct vg_ctr_set dp_parse_ctr_set;

/* Flags for dp_parse_ex(): what the NIC said about the IPv4 header checksum. */
#define DP_PARSE_HW_IP_CKSUM_GOOD 0x1u /* verified good (or header integrity verified) */
#define DP_PARSE_HW_IP_CKSUM_BAD  0x2u /* verified bad */
/* ... and about the L4 checksum (RTE_MBUF_F_RX_L4_CKSUM_*), used with l4_cksum on. */
#define DP_PARSE_HW_L4_CKSUM_GOOD 0x4u
#define DP_PARSE_HW_L4_CKSUM_BAD  0x8u

/*
 * The default policy: drop every malformed packet except DP_PERR_TCP_BAD_FLAGS and the L4
 * checksum reasons (signatures decide on those: tcpv4-csum:invalid ...), verify IPv4
 * checksums but not L4 ones, follow 8 IPv6 extension headers, no tiny-fragment floor beyond the L4
 * header.
 *
 * TCP_BAD_FLAGS (SYN+FIN, SYN+RST) is forwarded by default because such segments are well
 * formed and are what scanners send (nmap -sX/-sF and friends): the flow table and the anomaly
 * detectors must see them to report the scan, and the policy, not the parser, decides whether
 * to drop them. Other odd combinations (FIN, PSH or URG without ACK; no flags at all) are not
 * parse errors at all, for the same reason.
 */
struct dp_parse_policy dp_parse_policy_default(void);

/*
 * Parse one frame of len bytes. Same as dp_parse_ex(frame, len, len, 0, out, pol).
 *
 * Fills every field of *out (fields it did not reach are 0; see dp_pkt.h) and sets out->err to
 * the first problem found. Returns 0 (DP_PERR_NONE) for a good packet, or out->err, a positive
 * enum dp_parse_err. Never reads a byte at or after frame + len. pol NULL means the default
 * policy; only its checksum, extension header and fragment settings matter here (drop[] is for
 * the caller).
 */
int dp_parse(const uint8_t *frame, uint32_t len, struct dp_pkt *out,
		const struct dp_parse_policy *pol);

/*
 * Parse a frame of which only the first cap bytes can be read (an mbuf's first segment) while
 * the frame is pkt_len bytes long (the whole mbuf chain; cap is used if pkt_len < cap).
 *
 * Lengths in headers (IPv4 total length, IPv6 payload length) are checked against pkt_len, so
 * a jumbo datagram that continues in later segments is fine, and l3_end and payload_len then
 * reach past cap. Headers are only read from the first cap bytes: a header that runs past cap
 * fails with the *_truncated reason of its layer (IPV4_BAD_IHL and TCP_BAD_DATA_OFFSET only
 * when the header would not even fit in pkt_len). Payload bytes beyond cap must be read with
 * rte_pktmbuf_read() or a segment walk.
 *
 * hw carries DP_PARSE_HW_IP_CKSUM_* from the NIC: with pol->ipv4_cksum on, GOOD skips the
 * software check and BAD fails with DP_PERR_IPV4_BAD_CHECKSUM without computing it. With
 * ipv4_cksum off, hw is ignored.
 */
int dp_parse_ex(const uint8_t *frame, uint32_t cap, uint32_t pkt_len, uint32_t hw,
		struct dp_pkt *out, const struct dp_parse_policy *pol);

struct rte_mbuf;

/*
 * Parse a burst of mbufs (fast path). For each i < n: parses pkts[i] from its first segment
 * (rte_pktmbuf_mtod, data_len; pkt_len for length checks, see dp_parse_ex) into out[i], passes
 * the NIC's IPv4 checksum verdict from ol_flags, counts into *ctr and sets drop[i] to 1 when
 * the policy drops the packet's error reason, else 0. Packet i+4's data is prefetched while
 * packet i is parsed. pol must not be NULL (the worker keeps its own copy of the policy).
 *
 * Returns how many packets were marked for drop. Does not free or modify any mbuf.
 */
uint16_t dp_parse_burst(struct rte_mbuf **pkts, uint16_t n, struct dp_pkt *out,
		const struct dp_parse_policy *pol, struct dp_parse_counters *ctr, uint8_t *drop);

/*
 * The name of a reason, as used in counters, metrics, config and docs ("ipv4_bad_ihl";
 * "none" for DP_PERR_NONE). Returns NULL and sets errno to EINVAL when err is out of range.
 */
const char *dp_parse_err_name(enum dp_parse_err err);

/* One sentence saying what the reason means, for docs and API output. NULL/EINVAL as above. */
const char *dp_parse_err_desc(enum dp_parse_err err);

/*
 * Look a reason up by its name (exact, lower case). Returns 0 and sets *err, or -ENOENT when
 * no reason has that name. For config loaders that let a policy name reasons.
 */
int dp_parse_err_from_name(const char *name, enum dp_parse_err *err);

/*
 * Whether name is a reason parse.forward may list: any reason but "none". The config loader's
 * check (vg_config_set_reason_check), which the program registers before loading.
 */
bool dp_parse_reason_known(const char *name);

/* The name of an anomaly ("ipv4_frag_df"), as in counters and docs, and one sentence saying
 * what it means. NULL and errno EINVAL when a is out of range. */
const char *dp_anom_name(enum dp_anom a);
const char *dp_anom_desc(enum dp_anom a);

/* Add every counter of c to sum. c is read with relaxed atomic loads, so control may sum a
 * worker's live counters. */
void dp_parse_counters_add(struct dp_parse_counters *sum, const struct dp_parse_counters *c);

#endif /* DP_PARSE_H */
