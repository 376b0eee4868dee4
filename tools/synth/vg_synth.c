/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vgsynth: a synthetic traffic PMD, the NIC-like input of the benchmarks.
 *
 * Loaded into any DPDK 22.11 program with `-d librte_net_vgsynth.so` and created with
 * `--vdev net_vgsynth0,flows=100k,order=shuffle,...`. Every receive takes fresh mbufs from the
 * queue's pool and writes one frame header into each from a 64-byte template of the flow's
 * direction, with the flow's addresses, ports and checksums patched in: no stored frames, no
 * per-flow table, the same few dozen cycles per packet at 1 flow as at 1M. Flow i is the
 * client 10.0.0.1 + i, port 1024 + i % 64512, talking to 192.168.0.1 + (i * 40503) % 65536 on
 * `dport`;
 * replies swap the addresses, ports and MACs (02:00:00:00:00:01 client side, ...:02 server).
 * Payload bytes (frames above 64 bytes) are zeros, written once into every mbuf of the pool
 * when the queue is set up. Transmit frees and counts.
 *
 * devargs (all optional):
 *   flows=N           distinct flows, 1 to 16M; k/M suffixes (1)
 *   order=seq|shuffle seq: flow 0, 1, ..., N-1, then again in the other direction;
 *                     shuffle: flow and direction drawn per packet by a xorshift generator
 *                     (Lemire's multiply-shift range reduction: no division, flat in N) (seq)
 *   dir=both|fwd      both directions, or client to server only (both)
 *   proto=tcp|udp     TCP: ACK segments of an established connection (tcp)
 *   handshake=0|1     TCP: first a SYN, SYN-ACK, ACK for every flow, in order (0: mid-stream)
 *   data=0|1          TCP, 64-byte frames: 0 pure ACKs (IP length 40, Ethernet padding),
 *                     1 six bytes of data as vg-pktgen's mid-stream frames (0). Larger frames
 *                     always carry data; sequence numbers do not advance (a stream tracker
 *                     sees repeats)
 *   size=64|imix|N    frame size with FCS, as vg-pktgen; imix = 64:7,576:4,1500:1 (64)
 *   dport=P           server port (80 for TCP, 9 for UDP)
 *   seed=N            shuffle seed (1)
 *   rx=0|1            0: a transmit-only port that receives nothing (1)
 *   pcap=FILE         replay mode: the Ethernet capture FILE is read at probe and handed
 *                     out instead of generated flows (the flow devargs above are ignored);
 *                     each RX queue gives, in capture order, exactly the frames that hash to
 *                     it, each once, then nothing. The RX timestamp dynamic field is set from
 *                     the capture in microseconds, as net_pcap does (vigild's packet clock)
 *   loop=0|1          replay mode: start again at the end of the capture, times shifted (0)
 *   tx_pcap=FILE      transmitted frames are written to FILE (every queue into one file,
 *                     under a lock: the order across queues is not the wire's)
 *   sym_key=0|1       0: refuse a caller's RSS key (configure and rss_hash_update fail with
 *                     -EINVAL), as a driver that cannot take the symmetric key (1)
 *
 * Multi-queue RSS as a NIC: up to 16 RX and TX queues, RSS over IPv4 and IPv6 with or without
 * TCP and UDP ports, a 40-byte Toeplitz key (the caller's, or the usual default) and a
 * 128-entry redirection table (round robin over the RX queues at configure; reta_update
 * changes it). A frame goes to queue RETA[hash % 128], hash = rte_softrss(key, input) where
 * the input is what a NIC hashes for the configured rss_hf: source and destination address,
 * and the two ports when the frame is unfragmented TCP (UDP) and an RTE_ETH_RSS_*_TCP (UDP)
 * bit is set; frames RSS does not hash (not IP, or no bit for them) have hash 0 and no
 * RTE_MBUF_F_RX_RSS_HASH, so go to RETA[0]. mbuf->hash.rss and the flag are set as a NIC does.
 * Without RSS (mq_mode) every frame goes to queue 0.
 *
 * Generated flows on several queues stay flat per packet: at start every (flow, direction)
 * is hashed once (2N rte_softrss; the time is logged at start) and listed, with its hash,
 * under its queue, in seq order (forward directions of flows 0..N-1, then the replies). A
 * queue then walks its list (order=seq) or draws from it (order=shuffle, the entries of a
 * burst drawn and prefetched before the frames are written): one 8-byte load per packet, 8
 * bytes per flow and direction of memory (256 MiB at 16M flows in both directions). With
 * handshake=1 a queue opens the flows whose forward direction it holds, the SYN-ACK on the
 * same queue: right for a symmetric key, which sends both directions to one queue.
 */
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_kvargs.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>
#include <rte_spinlock.h>
#include <rte_tcp.h>
#include <rte_thash.h>
#include <rte_udp.h>

#include "vg_synth_abi.h"

#define VS_NAME	       "net_vgsynth"
#define VS_MAX_FLOWS   (1u << 24)
#define VS_HDR	       64 /* bytes written per packet */
#define VS_IMIX_CYCLE  12
#define VS_MAX_FRAME   1496 /* 1500 with the FCS */
#define VS_MIN_FRAME   60   /* 64 with the FCS */
#define VS_TCP_ACK_LEN 40   /* IPv4 and TCP headers */
#define VS_MAX_QUEUES  16
#define VS_KEY_LEN     40
#define VS_RETA_SIZE   128
#define VS_RSS_OFFLOADS                                                                 \
	(RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_OTHER |    \
			RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP |   \
			RTE_ETH_RSS_IPV6 | RTE_ETH_RSS_FRAG_IPV6 |                      \
			RTE_ETH_RSS_NONFRAG_IPV6_OTHER | RTE_ETH_RSS_NONFRAG_IPV6_TCP | \
			RTE_ETH_RSS_NONFRAG_IPV6_UDP | RTE_ETH_RSS_IPV6_EX |            \
			RTE_ETH_RSS_IPV6_TCP_EX | RTE_ETH_RSS_IPV6_UDP_EX)
#define VS_RSS_V4 (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_OTHER)
/* the _EX functions (addresses from extension headers) hash as the plain ones here */
#define VS_RSS_V6                                                                    \
	(RTE_ETH_RSS_IPV6 | RTE_ETH_RSS_FRAG_IPV6 | RTE_ETH_RSS_NONFRAG_IPV6_OTHER | \
			RTE_ETH_RSS_IPV6_EX)
/* 10.0.0.1 and 192.168.0.1 (RTE_IPV4 shifts an int: 192 << 24 overflows it) */
#define VS_CLIENT0 0x0a000001u
#define VS_SERVER0 0xc0a80001u
/*
 * Flow f's server: 192.168.0.1 + (f * 40503 mod 65536), every one of 65536 servers once per
 * 65536 flows. Not f mod 65536: the symmetric key (0x6d5a repeated) makes the Toeplitz hash
 * of the addresses a function of the XOR of their four 16-bit halves, and a server moving in
 * step with its client (10.0.0.1 + f) would cancel the client's low half: every flow the
 * same hash, one queue.
 */
#define VS_SERVER_MUL	40503u /* odd: a bijection of the 16-bit indices */
#define vs_server_of(f) (((uint32_t)(f)*VS_SERVER_MUL) & 0xffff)
#define VS_SHUF_CHUNK	32 /* shuffled entries drawn and prefetched at a time */

#define VS_LOG(level, ...) rte_log(RTE_LOG_##level, RTE_LOGTYPE_PMD, VS_NAME ": " __VA_ARGS__)

struct vs_cfg {
	uint32_t flows;
	bool shuffle;
	bool both;
	bool tcp;
	bool handshake;
	bool data;
	bool rx;
	bool imix;
	uint16_t frame; /* frame length without FCS when not imix */
	uint16_t dport;
	uint64_t seed;
	bool sym_key; /* accepts a caller's RSS key */
	bool loop;
	const char *pcap;    /* replay mode: the capture (owned by the port) */
	const char *tx_pcap; /* transmitted frames written here (owned by the port) */
};

enum { VS_FWD = 0, VS_REV = 1 };

struct vs_rxq {
	struct rte_mempool *mp;
	struct vs_cfg cfg;
	uint16_t port;
	/* position: seq order */
	uint32_t flow;
	uint8_t dir;
	/* handshake phase: packets left, and step of the current flow (0 SYN, 1 SYN-ACK, 2 ACK) */
	uint64_t hs_left;
	uint32_t hs_flow;
	uint8_t hs_step;
	uint8_t imix_pos;
	uint64_t rng;
	uint64_t pkts, bytes, nombuf;
	/* several queues with RSS: this queue's (hash << 32 | flow << 1 | direction) entries,
	 * forward directions first (n_fwd of them); idle: a queue RSS gives nothing */
	const uint64_t *ent;
	uint32_t n_ent, n_fwd, pos;
	bool idle;
	uint64_t rss_hf;
	uint8_t key[VS_KEY_LEN];
	/* replay mode: this queue's frames (indices into the port's), the next one, loops */
	const struct vs_frame *frames;
	const uint8_t *data;
	const uint32_t *idx;
	uint32_t n_idx, next;
	uint64_t loops, loop_us;
	bool loop;
	int ts_off;
	uint64_t ts_flag;
	/* the first 64 bytes of a frame, per direction, addresses/ports/checksums zero */
	uint8_t tmpl[2][VS_HDR] __rte_aligned(64);
	/* one's complement sums of each template's IPv4 header (without its total length) and
	 * TCP header (with the pseudo header's protocol): a packet adds its own fields */
	uint32_t ip_base[2];
	uint32_t tcp_base[2];
};

struct vs_txq {
	uint64_t pkts, bytes;
	struct vs_port *port;
};

/* a frame of the replayed capture, with the RSS hash and queue start gave it */
struct vs_frame {
	uint32_t off, len;
	uint64_t ts_us;
	uint32_t hash;
	bool hashed;
	uint16_t queue;
};

struct vs_port {
	struct vs_cfg cfg;
	char *pcap_path, *tx_path;
	/* RSS as configured */
	bool rss;
	uint64_t rss_hf;
	uint8_t key[VS_KEY_LEN];
	uint16_t reta[VS_RETA_SIZE];
	/* generated flows on several queues: every queue's entries, queue after queue */
	uint64_t *ent;
	/* replay mode: the capture */
	uint8_t *data;
	struct vs_frame *frames;
	uint32_t n_frames;
	uint32_t *idx;	  /* frame indices, queue after queue */
	uint64_t span_us; /* last time - first time + 1 */
	int ts_off;
	uint64_t ts_flag;
	/* tx_pcap */
	pcap_t *tx_dead;
	pcap_dumper_t *dumper;
	rte_spinlock_t tx_lock;
};

/* the default key of Intel's NICs (ixgbe, i40e), for callers that give none */
static const uint8_t vs_default_key[VS_KEY_LEN] = { 0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
	0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30,
	0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac,
	0x01, 0xfa };

static uint8_t vs_devices;

static const uint16_t vs_imix[VS_IMIX_CYCLE] = { 60, 572, 60, 1496, 60, 572, 60, 60, 572, 60, 60,
	572 };

/* --- the packet path ------------------------------------------------------------------------ */

static inline uint64_t
vs_next_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static inline uint16_t
vs_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The sum of the 16-bit big-endian words of `len` bytes (even), in host order. */
static inline uint32_t
vs_sum(const void *b, unsigned len)
{
	const uint8_t *p = b;
	uint32_t sum = 0;

	for (unsigned i = 0; i < len; i += 2) {
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	}
	return sum;
}

/* Write frame `len` of flow `f` in direction `dir` with TCP flags `tcp_flags` (0: steady). */
static inline void
vs_fill(const struct vs_rxq *q, struct rte_mbuf *m, uint32_t f, unsigned dir, uint16_t len,
		uint8_t tcp_flags)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + RTE_ETHER_HDR_LEN);
	uint32_t client = VS_CLIENT0 + f;
	uint32_t server = VS_SERVER0 + vs_server_of(f);
	uint16_t cport = (uint16_t)(1024 + f % 64512);
	/* IP length: the frame's, except a minimum-size TCP frame without data (pure ACK, 40
	 * bytes, then Ethernet padding) */
	uint16_t l3len = (uint16_t)(len - RTE_ETHER_HDR_LEN);

	if (q->cfg.tcp && len == VS_MIN_FRAME && !q->cfg.data) {
		l3len = VS_TCP_ACK_LEN;
	}
	/* indexed by direction, not branched on: shuffled directions are random */
	const uint32_t addr[2] = { client, server };
	const uint16_t port[2] = { cport, q->cfg.dport };
	uint32_t src = addr[dir], dst = addr[dir ^ 1];
	uint16_t sport = port[dir], dport = port[dir ^ 1];

	uint32_t addr_sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff);

	rte_mov64(p, q->tmpl[dir]);
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->total_length = rte_cpu_to_be_16(l3len);
	if (q->cfg.tcp) {
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
		/* the template's sum, then this packet's addresses, TCP length and ports; the
		 * payload is zeros and adds nothing */
		uint32_t sum = q->tcp_base[dir] + addr_sum + (uint32_t)(l3len - 20) + sport + dport;

		th->src_port = rte_cpu_to_be_16(sport);
		th->dst_port = rte_cpu_to_be_16(dport);
		if (unlikely(tcp_flags != 0)) {
			/* handshake: SYN (seq 1000), SYN-ACK (seq 5000, ack 1001), ACK */
			th->tcp_flags = tcp_flags;
			if (tcp_flags & RTE_TCP_SYN_FLAG) {
				th->sent_seq = rte_cpu_to_be_32(dir == VS_FWD ? 1000 : 5000);
				th->recv_ack = rte_cpu_to_be_32(dir == VS_FWD ? 0 : 1001);
			}
			sum = addr_sum + IPPROTO_TCP + (uint32_t)(l3len - 20) + vs_sum(th, 20);
		}
		th->cksum = rte_cpu_to_be_16((uint16_t)~vs_fold(sum));
	} else {
		struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(ip + 1);

		uh->src_port = rte_cpu_to_be_16(sport);
		uh->dst_port = rte_cpu_to_be_16(dport);
		uh->dgram_len = rte_cpu_to_be_16((uint16_t)(l3len - 20));
		/* UDP over IPv4: checksum 0 (none) */
	}
	ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)~vs_fold(q->ip_base[dir] + addr_sum + l3len));
	m->data_len = len;
	m->pkt_len = len;
	m->port = q->port;
	m->packet_type = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4 |
			 (q->cfg.tcp ? RTE_PTYPE_L4_TCP : RTE_PTYPE_L4_UDP);
}

/* --- RSS ------------------------------------------------------------------------------------- */

static inline uint32_t
vs_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * The RSS hash a NIC gives frame p (len bytes) for the hash functions hf and key: over the
 * source and destination addresses, and the two ports for unfragmented TCP (UDP) when hf has
 * the matching NONFRAG_*_TCP (UDP) bit. False when RSS does not hash the frame (not IP, or no
 * bit of hf covers it).
 */
static bool
vs_rss_hash(const uint8_t *key, uint64_t hf, const uint8_t *p, uint32_t len, uint32_t *hash)
{
	uint32_t tuple[RTE_THASH_V6_L4_LEN];
	uint32_t off = RTE_ETHER_HDR_LEN, l4off, n = 0;
	uint64_t l3bits, tcpbit, udpbit;
	uint16_t et;
	uint8_t proto;
	bool frag;

	if (len < off)
		return false;
	et = (uint16_t)(p[12] << 8 | p[13]);
	while ((et == RTE_ETHER_TYPE_VLAN || et == RTE_ETHER_TYPE_QINQ) && off + 4 <= len) {
		et = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
		off += 4;
	}
	if (et == RTE_ETHER_TYPE_IPV4) {
		const uint8_t *ip = p + off;
		unsigned ihl;

		if (len < off + 20 || (ip[0] >> 4) != 4)
			return false;
		ihl = (ip[0] & 0xfu) * 4;
		if (ihl < 20 || len < off + ihl)
			return false;
		frag = ((ip[6] << 8 | ip[7]) & 0x3fff) != 0; /* MF or an offset */
		proto = ip[9];
		tuple[n++] = vs_be32(ip + 12);
		tuple[n++] = vs_be32(ip + 16);
		l4off = off + ihl;
		l3bits = VS_RSS_V4;
		tcpbit = RTE_ETH_RSS_NONFRAG_IPV4_TCP;
		udpbit = RTE_ETH_RSS_NONFRAG_IPV4_UDP;
	} else if (et == RTE_ETHER_TYPE_IPV6) {
		const uint8_t *ip = p + off;

		if (len < off + 40 || (ip[0] >> 4) != 6)
			return false;
		for (unsigned i = 0; i < 8; i++)
			tuple[n++] = vs_be32(ip + 8 + 4 * i);
		proto = ip[6];
		l4off = off + 40;
		frag = false;
		/* hop-by-hop, routing and destination options are skipped; a fragment header
		 * makes the frame a fragment */
		while ((proto == 0 || proto == 43 || proto == 60 || proto == 44) &&
				l4off + 8 <= len) {
			if (proto == 44) {
				frag = true;
				break;
			}
			proto = p[l4off];
			l4off += (uint32_t)(p[l4off + 1] + 1) * 8;
		}
		l3bits = VS_RSS_V6;
		tcpbit = RTE_ETH_RSS_NONFRAG_IPV6_TCP | RTE_ETH_RSS_IPV6_TCP_EX;
		udpbit = RTE_ETH_RSS_NONFRAG_IPV6_UDP | RTE_ETH_RSS_IPV6_UDP_EX;
	} else {
		return false;
	}
	if (!frag && l4off + 4 <= len &&
			((proto == IPPROTO_TCP && (hf & tcpbit)) ||
					(proto == IPPROTO_UDP && (hf & udpbit)))) {
		tuple[n++] = vs_be32(p + l4off); /* source port, destination port */
	} else if (!(hf & l3bits)) {
		return false;
	}
	*hash = rte_softrss(tuple, n, key);
	return true;
}

/* The hash of generated flow f in direction dir, as vs_rss_hash would give its frames. */
static bool
vs_flow_hash(const struct vs_cfg *c, const uint8_t *key, uint64_t hf, uint32_t f, unsigned dir,
		uint32_t *hash)
{
	uint32_t addr[2] = { VS_CLIENT0 + f, VS_SERVER0 + vs_server_of(f) };
	uint16_t port[2] = { (uint16_t)(1024 + f % 64512), c->dport };
	uint32_t tuple[3] = { addr[dir], addr[dir ^ 1], (uint32_t)port[dir] << 16 | port[dir ^ 1] };
	uint64_t l4 = c->tcp ? RTE_ETH_RSS_NONFRAG_IPV4_TCP : RTE_ETH_RSS_NONFRAG_IPV4_UDP;

	if (hf & l4) {
		*hash = rte_softrss(tuple, 3, key);
	} else if (hf & VS_RSS_V4) {
		*hash = rte_softrss(tuple, 2, key);
	} else {
		return false;
	}
	return true;
}

/* an entry of a queue's list: the hash, whether RSS hashed it, the flow and direction */
#define VS_ENT_HASHED (1u << 30)
#define VS_ENT(hash, hashed, f, dir) \
	((uint64_t)(hash) << 32 | ((hashed) ? VS_ENT_HASHED : 0) | (uint32_t)(f) << 1 | (dir))

/* --- the packet path (continued) ---------------------------------------------------------------
 */

static uint16_t
vs_rx(void *queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct vs_rxq *q = queue;
	uint64_t bytes = 0;
	uint32_t drawn[VS_SHUF_CHUNK];
	unsigned next_drawn = VS_SHUF_CHUNK;

	if (unlikely(q->idle))
		return 0;
	if (unlikely(rte_pktmbuf_alloc_bulk(q->mp, pkts, n) != 0)) {
		q->nombuf++;
		return 0;
	}
	for (uint16_t i = 0; i < n; i++) {
		uint16_t len = q->cfg.frame;
		uint32_t f;
		unsigned dir;
		uint8_t flags = 0;
		uint64_t e = 0; /* the list entry, when the queue has one */

		if (q->cfg.imix) {
			len = vs_imix[q->imix_pos];
			q->imix_pos = q->imix_pos == VS_IMIX_CYCLE - 1 ? 0 : q->imix_pos + 1;
		}
		if (unlikely(q->hs_left != 0)) {
			static const uint8_t hs_flags[3] = { RTE_TCP_SYN_FLAG,
				RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, RTE_TCP_ACK_FLAG };
			dir = q->hs_step == 1 ? VS_REV : VS_FWD;
			if (q->ent != NULL) {
				/* hs_flow indexes the queue's forward entries; the SYN-ACK's hash
				 * is computed (the handshake is a one-time phase) */
				e = q->ent[q->hs_flow];
				f = ((uint32_t)e & ~VS_ENT_HASHED) >> 1;
				if (dir == VS_REV) {
					uint32_t h = 0;
					bool hashed = vs_flow_hash(
							&q->cfg, q->key, q->rss_hf, f, VS_REV, &h);

					e = VS_ENT(h, hashed, f, VS_REV);
				}
			} else {
				f = q->hs_flow;
			}
			flags = hs_flags[q->hs_step];
			if (++q->hs_step == 3) {
				q->hs_step = 0;
				q->hs_flow++;
			}
			q->hs_left--;
		} else if (q->ent != NULL) {
			if (q->cfg.shuffle) {
				if (next_drawn == VS_SHUF_CHUNK) {
					/* draw a chunk and prefetch its entries before use */
					for (unsigned k = 0; k < VS_SHUF_CHUNK; k++) {
						uint64_t r = vs_next_rand(&q->rng);

						drawn[k] = (uint32_t)(((r >> 32) * q->n_ent) >> 32);
						rte_prefetch0(&q->ent[drawn[k]]);
					}
					next_drawn = 0;
				}
				e = q->ent[drawn[next_drawn++]];
			} else {
				e = q->ent[q->pos];
				if (++q->pos == q->n_ent)
					q->pos = 0;
			}
			f = ((uint32_t)e & ~VS_ENT_HASHED) >> 1;
			dir = (unsigned)(e & 1);
		} else if (q->cfg.shuffle) {
			uint64_t r = vs_next_rand(&q->rng);

			f = (uint32_t)(((r >> 32) * q->cfg.flows) >> 32);
			dir = q->cfg.both ? (unsigned)(r & 1) : VS_FWD;
		} else {
			f = q->flow;
			dir = q->dir;
			if (++q->flow == q->cfg.flows) {
				q->flow = 0;
				q->dir ^= q->cfg.both;
			}
		}
		vs_fill(q, pkts[i], f, dir, len, flags);
		if (q->ent != NULL && (e & VS_ENT_HASHED)) {
			pkts[i]->hash.rss = (uint32_t)(e >> 32);
			pkts[i]->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
		}
		bytes += len;
	}
	q->pkts += n;
	q->bytes += bytes;
	return n;
}

/* Replay mode: the queue's frames of the capture, in capture order. */
static uint16_t
vs_rx_pcap(void *queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct vs_rxq *q = queue;
	uint64_t bytes = 0;

	if (q->next == q->n_idx) {
		if (!q->loop || q->n_idx == 0)
			return 0;
		q->next = 0;
		q->loops++;
	}
	n = (uint16_t)RTE_MIN((uint32_t)n, q->n_idx - q->next);
	if (unlikely(rte_pktmbuf_alloc_bulk(q->mp, pkts, n) != 0)) {
		q->nombuf++;
		return 0;
	}
	for (uint16_t i = 0; i < n; i++) {
		const struct vs_frame *fr = &q->frames[q->idx[q->next++]];
		struct rte_mbuf *m = pkts[i];

		rte_memcpy(rte_pktmbuf_mtod(m, void *), q->data + fr->off, fr->len);
		m->data_len = (uint16_t)fr->len;
		m->pkt_len = fr->len;
		m->port = q->port;
		if (fr->hashed) {
			m->hash.rss = fr->hash;
			m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
		}
		*RTE_MBUF_DYNFIELD(m, q->ts_off, rte_mbuf_timestamp_t *) =
				fr->ts_us + q->loops * q->loop_us;
		m->ol_flags |= q->ts_flag;
		bytes += fr->len;
	}
	q->pkts += n;
	q->bytes += bytes;
	return n;
}

static uint16_t
vs_rx_none(void *queue, struct rte_mbuf **pkts, uint16_t n)
{
	RTE_SET_USED(queue);
	RTE_SET_USED(pkts);
	RTE_SET_USED(n);
	return 0;
}

static uint16_t
vs_tx(void *queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct vs_txq *q = queue;
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < n; i++) {
		bytes += pkts[i]->pkt_len;
	}
	rte_pktmbuf_free_bulk(pkts, n);
	q->pkts += n;
	q->bytes += bytes;
	return n;
}

/* tx_pcap: every queue's frames into the port's one file, under its lock. */
static uint16_t
vs_tx_pcap(void *queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct vs_txq *q = queue;
	struct vs_port *pp = q->port;
	uint8_t buf[RTE_ETHER_MAX_JUMBO_FRAME_LEN];
	struct pcap_pkthdr h;
	uint64_t bytes = 0;

	gettimeofday(&h.ts, NULL);
	rte_spinlock_lock(&pp->tx_lock);
	for (uint16_t i = 0; i < n; i++) {
		uint32_t len = RTE_MIN(pkts[i]->pkt_len, (uint32_t)sizeof(buf));
		const void *d = rte_pktmbuf_read(pkts[i], 0, len, buf);

		h.caplen = h.len = len;
		if (d != NULL)
			pcap_dump((u_char *)pp->dumper, &h, d);
		bytes += pkts[i]->pkt_len;
	}
	rte_spinlock_unlock(&pp->tx_lock);
	rte_pktmbuf_free_bulk(pkts, n);
	q->pkts += n;
	q->bytes += bytes;
	return n;
}

/* --- templates -------------------------------------------------------------------------------- */

static void
vs_template(struct vs_rxq *q)
{
	static const struct rte_ether_addr client_mac = { { 0x02, 0, 0, 0, 0, 0x01 } };
	static const struct rte_ether_addr server_mac = { { 0x02, 0, 0, 0, 0, 0x02 } };

	for (unsigned dir = 0; dir < 2; dir++) {
		uint8_t *p = q->tmpl[dir];
		struct rte_ether_hdr *eh = (struct rte_ether_hdr *)p;
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);

		memset(p, 0, VS_HDR);
		eh->src_addr = dir == VS_FWD ? client_mac : server_mac;
		eh->dst_addr = dir == VS_FWD ? server_mac : client_mac;
		eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
		ip->time_to_live = 64;
		if (q->cfg.tcp) {
			struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);

			ip->next_proto_id = IPPROTO_TCP;
			ip->total_length = rte_cpu_to_be_16(40);
			/* after a handshake of ISNs 1000 and 5000: no data, pure ACKs */
			th->sent_seq = rte_cpu_to_be_32(dir == VS_FWD ? 1001 : 5001);
			th->recv_ack = rte_cpu_to_be_32(dir == VS_FWD ? 5001 : 1001);
			th->data_off = 5 << 4;
			th->tcp_flags = RTE_TCP_ACK_FLAG;
			th->rx_win = rte_cpu_to_be_16(65535);
		} else {
			ip->next_proto_id = IPPROTO_UDP;
		}
		/* Addresses, ports and lengths are written per packet: zero in the sums. */
		ip->total_length = 0;
		q->ip_base[dir] = vs_sum(ip, sizeof(*ip));
		q->tcp_base[dir] = vs_sum(ip + 1, sizeof(struct rte_tcp_hdr)) + IPPROTO_TCP;
	}
}

static void
vs_zero_payload(struct rte_mempool *mp, void *arg, void *obj, unsigned idx)
{
	struct rte_mbuf *m = obj;
	uint16_t room = rte_pktmbuf_data_room_size(mp);
	uint16_t len = RTE_MIN((uint16_t)(room - RTE_PKTMBUF_HEADROOM), (uint16_t)VS_MAX_FRAME);

	RTE_SET_USED(arg);
	RTE_SET_USED(idx);
	memset((char *)m->buf_addr + RTE_PKTMBUF_HEADROOM, 0, len);
}

/* --- devargs ---------------------------------------------------------------------------------- */

static const char *const vs_keys[] = { "flows", "order", "dir", "proto", "handshake", "data",
	"size", "dport", "seed", "rx", "pcap", "tx_pcap", "loop", "sym_key", NULL };

static int
vs_parse_u64(const char *v, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || end == v) {
		return -1;
	}
	if (*end == 'k' || *end == 'K') {
		x *= 1000;
		end++;
	} else if (*end == 'M') {
		x *= 1000000;
		end++;
	}
	if (*end != '\0' || x > max) {
		return -1;
	}
	*out = x;
	return 0;
}

static int
vs_arg(const char *key, const char *v, void *opaque)
{
	struct vs_cfg *c = opaque;
	uint64_t x;

	if (!strcmp(key, "flows")) {
		if (vs_parse_u64(v, VS_MAX_FLOWS, &x) || x == 0) {
			goto bad;
		}
		c->flows = (uint32_t)x;
	} else if (!strcmp(key, "order")) {
		if (strcmp(v, "seq") && strcmp(v, "shuffle")) {
			goto bad;
		}
		c->shuffle = !strcmp(v, "shuffle");
	} else if (!strcmp(key, "dir")) {
		if (strcmp(v, "both") && strcmp(v, "fwd")) {
			goto bad;
		}
		c->both = !strcmp(v, "both");
	} else if (!strcmp(key, "proto")) {
		if (strcmp(v, "tcp") && strcmp(v, "udp")) {
			goto bad;
		}
		c->tcp = !strcmp(v, "tcp");
	} else if (!strcmp(key, "handshake") || !strcmp(key, "rx") || !strcmp(key, "data") ||
			!strcmp(key, "loop") || !strcmp(key, "sym_key")) {
		if (strcmp(v, "0") && strcmp(v, "1")) {
			goto bad;
		}
		bool *flag = !strcmp(key, "rx")	       ? &c->rx
			     : !strcmp(key, "data")    ? &c->data
			     : !strcmp(key, "loop")    ? &c->loop
			     : !strcmp(key, "sym_key") ? &c->sym_key
						       : &c->handshake;
		*flag = !strcmp(v, "1");
	} else if (!strcmp(key, "pcap") || !strcmp(key, "tx_pcap")) {
		const char **path = !strcmp(key, "pcap") ? &c->pcap : &c->tx_pcap;

		if (*v == '\0' || *path != NULL) {
			goto bad;
		}
		*path = strdup(v);
		if (*path == NULL) {
			return -ENOMEM;
		}
	} else if (!strcmp(key, "size")) {
		if (!strcmp(v, "imix")) {
			c->imix = true;
		} else if (vs_parse_u64(v, VS_MAX_FRAME + 4, &x) || x < 64) {
			goto bad;
		} else {
			c->imix = false;
			c->frame = (uint16_t)(x - 4);
		}
	} else if (!strcmp(key, "dport")) {
		if (vs_parse_u64(v, 65535, &x) || x == 0) {
			goto bad;
		}
		c->dport = (uint16_t)x;
	} else if (!strcmp(key, "seed")) {
		if (vs_parse_u64(v, UINT64_MAX, &x)) {
			goto bad;
		}
		c->seed = x;
	}
	return 0;
bad:
	VS_LOG(ERR,
			"bad value '%s' for %s (flows=1..16M, order=seq|shuffle, dir=both|fwd, "
			"proto=tcp|udp, handshake=0|1, data=0|1, size=64..1500|imix, dport=1..65535, "
			"seed=N, rx=0|1, pcap=FILE, tx_pcap=FILE, loop=0|1, sym_key=0|1)\n",
			v, key);
	return -EINVAL;
}

static void
vs_cfg_free(struct vs_cfg *c)
{
	free((void *)(uintptr_t)c->pcap);
	free((void *)(uintptr_t)c->tx_pcap);
	c->pcap = c->tx_pcap = NULL;
}

static int
vs_parse(const char *args, struct vs_cfg *c)
{
	*c = (struct vs_cfg){ .flows = 1,
		.both = true,
		.tcp = true,
		.rx = true,
		.frame = 60,
		.seed = 1,
		.sym_key = true };
	int dport_set = 0;

	if (args && *args) {
		struct rte_kvargs *kv = rte_kvargs_parse(args, vs_keys);

		if (!kv) {
			VS_LOG(ERR,
					"cannot parse '%s': known keys are flows, order, dir, proto, "
					"handshake, data, size, dport, seed, rx, pcap, tx_pcap, loop, "
					"sym_key\n",
					args);
			return -EINVAL;
		}
		int rc = rte_kvargs_process(kv, NULL, vs_arg, c);

		dport_set = rte_kvargs_count(kv, "dport") > 0;
		rte_kvargs_free(kv);
		if (rc < 0) {
			vs_cfg_free(c);
			return -EINVAL;
		}
	}
	if (!dport_set) {
		c->dport = c->tcp ? 80 : 9;
	}
	if (c->handshake && !c->tcp) {
		VS_LOG(ERR, "handshake=1 needs proto=tcp\n");
		vs_cfg_free(c);
		return -EINVAL;
	}
	if (c->seed == 0) {
		c->seed = 1; /* xorshift needs a non-zero state */
	}
	return 0;
}

/* --- ethdev operations ------------------------------------------------------------------------ */

static struct vs_port *
vs_port_of(struct vs_eth_dev *dev)
{
	return dev->data->dev_private;
}

static int
vs_set_key(struct vs_port *pp, const char *name, const struct rte_eth_rss_conf *rc)
{
	if (rc->rss_key == NULL) {
		return 0;
	}
	if (!pp->cfg.sym_key) {
		VS_LOG(ERR, "%s: sym_key=0: this device does not take the caller's RSS key\n",
				name);
		return -EINVAL;
	}
	if (rc->rss_key_len != VS_KEY_LEN) {
		VS_LOG(ERR, "%s: RSS key of %u bytes; this device takes %u\n", name,
				rc->rss_key_len, VS_KEY_LEN);
		return -EINVAL;
	}
	memcpy(pp->key, rc->rss_key, VS_KEY_LEN);
	return 0;
}

static int
vs_configure(struct vs_eth_dev *dev)
{
	struct vs_eth_dev_data *d = dev->data;
	struct vs_port *pp = vs_port_of(dev);
	const struct rte_eth_conf *c = &d->dev_conf;
	int rc;

	pp->rss = (c->rxmode.mq_mode & RTE_ETH_MQ_RX_RSS_FLAG) != 0;
	pp->rss_hf = 0;
	memcpy(pp->key, vs_default_key, VS_KEY_LEN);
	if (pp->rss) {
		rc = vs_set_key(pp, d->name, &c->rx_adv_conf.rss_conf);
		if (rc != 0) {
			return rc;
		}
		pp->rss_hf = c->rx_adv_conf.rss_conf.rss_hf & VS_RSS_OFFLOADS;
	}
	for (unsigned i = 0; i < VS_RETA_SIZE; i++) {
		pp->reta[i] = (uint16_t)(i % RTE_MAX(d->nb_rx_queues, (uint16_t)1));
	}
	return 0;
}

/* Replay mode: every frame's hash and queue, and each queue's frames in capture order. */
static int
vs_assign_frames(struct vs_eth_dev *dev)
{
	struct vs_eth_dev_data *d = dev->data;
	struct vs_port *pp = vs_port_of(dev);
	uint32_t count[VS_MAX_QUEUES] = { 0 }, at[VS_MAX_QUEUES];

	free(pp->idx);
	pp->idx = malloc(sizeof(*pp->idx) * RTE_MAX(pp->n_frames, 1u));
	if (pp->idx == NULL) {
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < pp->n_frames; i++) {
		struct vs_frame *fr = &pp->frames[i];

		fr->hash = 0;
		fr->hashed = pp->rss && vs_rss_hash(pp->key, pp->rss_hf, pp->data + fr->off,
							fr->len, &fr->hash);
		fr->queue = pp->rss ? pp->reta[fr->hash % VS_RETA_SIZE] : 0;
		count[fr->queue]++;
	}
	for (uint32_t q = 0, sum = 0; q < VS_MAX_QUEUES; q++) {
		at[q] = sum;
		sum += count[q];
	}
	for (uint32_t i = 0; i < pp->n_frames; i++) {
		pp->idx[at[pp->frames[i].queue]++] = i;
	}
	uint32_t first = 0;

	for (uint16_t q = 0; q < d->nb_rx_queues; q++) {
		struct vs_rxq *rq = d->rx_queues[q];

		if (rq != NULL) {
			rq->frames = pp->frames;
			rq->data = pp->data;
			rq->idx = pp->idx + first;
			rq->n_idx = count[q];
			rq->next = 0;
			rq->loops = 0;
			rq->loop_us = pp->span_us;
			rq->loop = pp->cfg.loop;
			rq->ts_off = pp->ts_off;
			rq->ts_flag = pp->ts_flag;
		}
		first += count[q];
	}
	return 0;
}

/*
 * Generated flows with RSS: every (flow, direction) hashed once and listed under its queue, in
 * seq order. Peak memory 12 bytes per entry (the hashes, then the lists), 8 after.
 */
static int
vs_assign_flows(struct vs_eth_dev *dev)
{
	struct vs_eth_dev_data *d = dev->data;
	struct vs_port *pp = vs_port_of(dev);
	const struct vs_cfg *c = &pp->cfg;
	uint32_t dirs = c->both ? 2 : 1, total = c->flows * dirs;
	uint32_t count[VS_MAX_QUEUES] = { 0 }, fwd[VS_MAX_QUEUES] = { 0 }, at[VS_MAX_QUEUES];
	uint32_t *hash = malloc(sizeof(*hash) * total);
	bool hashed = false;
	uint64_t t0 = rte_get_tsc_cycles();

	free(pp->ent);
	pp->ent = NULL;
	if (hash == NULL) {
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < total; i++) {
		uint32_t f = i % c->flows;
		unsigned dir = i < c->flows ? VS_FWD : VS_REV;
		uint16_t q;

		hash[i] = 0;
		hashed = vs_flow_hash(c, pp->key, pp->rss_hf, f, dir, &hash[i]);
		q = pp->reta[hash[i] % VS_RETA_SIZE];
		count[q]++;
		fwd[q] += dir == VS_FWD;
	}
	pp->ent = malloc(sizeof(*pp->ent) * total);
	if (pp->ent == NULL) {
		free(hash);
		return -ENOMEM;
	}
	for (uint32_t q = 0, sum = 0; q < VS_MAX_QUEUES; q++) {
		at[q] = sum;
		sum += count[q];
	}
	for (uint32_t i = 0; i < total; i++) {
		uint32_t f = i % c->flows;
		unsigned dir = i < c->flows ? VS_FWD : VS_REV;

		pp->ent[at[pp->reta[hash[i] % VS_RETA_SIZE]]++] = VS_ENT(hash[i], hashed, f, dir);
	}
	free(hash);
	uint32_t first = 0;

	for (uint16_t q = 0; q < d->nb_rx_queues; q++) {
		struct vs_rxq *rq = d->rx_queues[q];

		if (rq != NULL) {
			rq->ent = pp->ent + first;
			rq->n_ent = count[q];
			rq->n_fwd = fwd[q];
			rq->pos = 0;
			rq->idle = count[q] == 0;
			rq->hs_flow = 0;
			rq->hs_step = 0;
			rq->hs_left = c->handshake ? 3ull * fwd[q] : 0;
			rq->rss_hf = pp->rss_hf;
			memcpy(rq->key, pp->key, VS_KEY_LEN);
		}
		first += count[q];
	}
	VS_LOG(INFO, "%s: %u flow directions hashed and listed under %u queues in %.3f s\n",
			d->name, total, d->nb_rx_queues,
			(double)(rte_get_tsc_cycles() - t0) / (double)rte_get_tsc_hz());
	return 0;
}

static int
vs_start(struct vs_eth_dev *dev)
{
	struct vs_eth_dev_data *d = dev->data;
	struct vs_port *pp = vs_port_of(dev);
	int rc = 0;

	if (pp->cfg.pcap != NULL) {
		rc = vs_assign_frames(dev);
	} else if (pp->cfg.rx && pp->rss) {
		rc = vs_assign_flows(dev);
	} else {
		/* without RSS a NIC gives everything to queue 0 */
		for (uint16_t q = 0; q < d->nb_rx_queues; q++) {
			struct vs_rxq *rq = d->rx_queues[q];

			if (rq != NULL) {
				rq->ent = NULL;
				rq->idle = q != 0;
			}
		}
	}
	if (rc != 0) {
		return rc;
	}

	d->dev_link.link_status = RTE_ETH_LINK_UP;
	memset(d->rx_queue_state, VS_QUEUE_STARTED, d->nb_rx_queues);
	memset(d->tx_queue_state, VS_QUEUE_STARTED, d->nb_tx_queues);
	return 0;
}

static int
vs_stop(struct vs_eth_dev *dev)
{
	struct vs_eth_dev_data *d = dev->data;

	d->dev_link.link_status = RTE_ETH_LINK_DOWN;
	memset(d->rx_queue_state, 0, d->nb_rx_queues);
	memset(d->tx_queue_state, 0, d->nb_tx_queues);
	if (vs_port_of(dev)->dumper != NULL) {
		pcap_dump_flush(vs_port_of(dev)->dumper);
	}
	return 0;
}

static void
vs_rxq_release(struct vs_eth_dev *dev, uint16_t qid)
{
	rte_free(dev->data->rx_queues[qid]);
	dev->data->rx_queues[qid] = NULL;
}

static void
vs_txq_release(struct vs_eth_dev *dev, uint16_t qid)
{
	rte_free(dev->data->tx_queues[qid]);
	dev->data->tx_queues[qid] = NULL;
}

/* What a port holds besides its queues (the structure itself goes with the ethdev port). */
static void
vs_port_free(struct vs_port *pp)
{
	if (pp == NULL) {
		return;
	}
	if (pp->dumper != NULL) {
		pcap_dump_close(pp->dumper);
		pp->dumper = NULL;
	}
	if (pp->tx_dead != NULL) {
		pcap_close(pp->tx_dead);
		pp->tx_dead = NULL;
	}
	free(pp->ent);
	free(pp->idx);
	free(pp->frames);
	free(pp->data);
	pp->ent = NULL;
	pp->idx = NULL;
	pp->frames = NULL;
	pp->data = NULL;
	pp->n_frames = 0;
	vs_cfg_free(&pp->cfg);
}

static int
vs_close(struct vs_eth_dev *dev)
{
	struct vs_eth_dev_data *d = dev->data;

	for (uint16_t i = 0; d->rx_queues && i < d->nb_rx_queues; i++) {
		vs_rxq_release(dev, i);
	}
	for (uint16_t i = 0; d->tx_queues && i < d->nb_tx_queues; i++) {
		vs_txq_release(dev, i);
	}
	vs_port_free(vs_port_of(dev));
	return 0;
}

static int
vs_link_update(struct vs_eth_dev *dev, int wait)
{
	RTE_SET_USED(dev);
	RTE_SET_USED(wait);
	return 0;
}

static int
vs_ok(struct vs_eth_dev *dev)
{
	RTE_SET_USED(dev);
	return 0;
}

static int
vs_mac_set(struct vs_eth_dev *dev, struct rte_ether_addr *a)
{
	RTE_SET_USED(dev);
	RTE_SET_USED(a);
	return 0;
}

static int
vs_mtu_set(struct vs_eth_dev *dev, uint16_t mtu)
{
	RTE_SET_USED(dev);
	RTE_SET_USED(mtu);
	return 0;
}

/* RSS changes while started are refused (rewriting the table in force is accepted): queues
 * read their lists without a lock. */
static int
vs_rss_hash_update(struct vs_eth_dev *dev, struct rte_eth_rss_conf *rc)
{
	struct vs_port *pp = vs_port_of(dev);
	int ret;

	if (dev->data->dev_link.link_status == RTE_ETH_LINK_UP) {
		return -EBUSY;
	}
	if (rc->rss_hf & ~VS_RSS_OFFLOADS) {
		return -EINVAL;
	}
	ret = vs_set_key(pp, dev->data->name, rc);
	if (ret == 0) {
		pp->rss_hf = rc->rss_hf;
	}
	return ret;
}

static int
vs_rss_hash_conf_get(struct vs_eth_dev *dev, struct rte_eth_rss_conf *rc)
{
	struct vs_port *pp = vs_port_of(dev);

	if (rc->rss_key != NULL) {
		memcpy(rc->rss_key, pp->key, VS_KEY_LEN);
	}
	rc->rss_key_len = VS_KEY_LEN;
	rc->rss_hf = pp->rss_hf;
	return 0;
}

static int
vs_reta_update(struct vs_eth_dev *dev, struct rte_eth_rss_reta_entry64 *conf, uint16_t size)
{
	struct vs_port *pp = vs_port_of(dev);

	bool same = true;

	if (size != VS_RETA_SIZE) {
		return -EINVAL;
	}
	for (unsigned i = 0; i < VS_RETA_SIZE; i++) {
		const struct rte_eth_rss_reta_entry64 *c = &conf[i / RTE_ETH_RETA_GROUP_SIZE];

		if (c->mask >> (i % RTE_ETH_RETA_GROUP_SIZE) & 1) {
			uint16_t q = c->reta[i % RTE_ETH_RETA_GROUP_SIZE];

			if (q >= dev->data->nb_rx_queues) {
				return -EINVAL;
			}
			same = same && q == pp->reta[i];
		}
	}
	/* while started only the table in force (what an application writes after start) */
	if (dev->data->dev_link.link_status == RTE_ETH_LINK_UP) {
		return same ? 0 : -EBUSY;
	}
	for (unsigned i = 0; i < VS_RETA_SIZE; i++) {
		const struct rte_eth_rss_reta_entry64 *c = &conf[i / RTE_ETH_RETA_GROUP_SIZE];

		if (c->mask >> (i % RTE_ETH_RETA_GROUP_SIZE) & 1) {
			pp->reta[i] = c->reta[i % RTE_ETH_RETA_GROUP_SIZE];
		}
	}
	return 0;
}

static int
vs_reta_query(struct vs_eth_dev *dev, struct rte_eth_rss_reta_entry64 *conf, uint16_t size)
{
	const struct vs_port *pp = vs_port_of(dev);

	if (size != VS_RETA_SIZE) {
		return -EINVAL;
	}
	for (unsigned i = 0; i < VS_RETA_SIZE; i++) {
		struct rte_eth_rss_reta_entry64 *c = &conf[i / RTE_ETH_RETA_GROUP_SIZE];

		if (c->mask >> (i % RTE_ETH_RETA_GROUP_SIZE) & 1) {
			c->reta[i % RTE_ETH_RETA_GROUP_SIZE] = pp->reta[i];
		}
	}
	return 0;
}

static int
vs_stats_get(struct vs_eth_dev *dev, struct rte_eth_stats *st)
{
	struct vs_eth_dev_data *d = dev->data;

	for (uint16_t i = 0; i < d->nb_rx_queues; i++) {
		const struct vs_rxq *q = d->rx_queues[i];

		if (q) {
			st->ipackets += q->pkts;
			st->ibytes += q->bytes;
			st->rx_nombuf += q->nombuf;
			if (i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
				st->q_ipackets[i] = q->pkts;
				st->q_ibytes[i] = q->bytes;
			}
		}
	}
	for (uint16_t i = 0; i < d->nb_tx_queues; i++) {
		const struct vs_txq *q = d->tx_queues[i];

		if (q) {
			st->opackets += q->pkts;
			st->obytes += q->bytes;
			if (i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
				st->q_opackets[i] = q->pkts;
				st->q_obytes[i] = q->bytes;
			}
		}
	}
	return 0;
}

static int
vs_stats_reset(struct vs_eth_dev *dev)
{
	struct vs_eth_dev_data *d = dev->data;

	for (uint16_t i = 0; i < d->nb_rx_queues; i++) {
		struct vs_rxq *q = d->rx_queues[i];

		if (q) {
			q->pkts = q->bytes = q->nombuf = 0;
		}
	}
	for (uint16_t i = 0; i < d->nb_tx_queues; i++) {
		struct vs_txq *q = d->tx_queues[i];

		if (q) {
			q->pkts = q->bytes = 0;
		}
	}
	return 0;
}

static int
vs_infos_get(struct vs_eth_dev *dev, struct rte_eth_dev_info *info)
{
	RTE_SET_USED(dev);
	info->max_mac_addrs = 1;
	info->max_rx_pktlen = RTE_ETHER_MAX_JUMBO_FRAME_LEN;
	info->max_rx_queues = VS_MAX_QUEUES;
	info->max_tx_queues = VS_MAX_QUEUES;
	info->min_rx_bufsize = 0;
	info->rx_offload_capa = RTE_ETH_RX_OFFLOAD_RSS_HASH;
	info->flow_type_rss_offloads = VS_RSS_OFFLOADS;
	info->hash_key_size = VS_KEY_LEN;
	info->reta_size = VS_RETA_SIZE;
	info->tx_offload_capa = RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	return 0;
}

static int
vs_rxq_setup(struct vs_eth_dev *dev, uint16_t qid, uint16_t nb_desc, unsigned socket,
		const struct rte_eth_rxconf *conf, struct rte_mempool *mp)
{
	struct vs_port *pp = vs_port_of(dev);
	struct vs_rxq *q;
	uint16_t port;

	RTE_SET_USED(nb_desc);
	RTE_SET_USED(conf);
	if (mp == NULL || qid >= dev->data->nb_rx_queues) {
		return -EINVAL;
	}
	unsigned need = RTE_MAX(
			(unsigned)VS_HDR, (unsigned)(pp->cfg.imix ? VS_MAX_FRAME : pp->cfg.frame));

	if (pp->cfg.pcap != NULL) {
		need = 0;
		for (uint32_t i = 0; i < pp->n_frames; i++) {
			need = RTE_MAX(need, (unsigned)pp->frames[i].len);
		}
	}

	if (rte_pktmbuf_data_room_size(mp) < RTE_PKTMBUF_HEADROOM + need) {
		VS_LOG(ERR, "%s: mbufs of %u bytes of data room cannot hold a %u-byte frame\n",
				dev->data->name, rte_pktmbuf_data_room_size(mp), need);
		return -EINVAL;
	}
	q = rte_zmalloc_socket(VS_NAME, sizeof(*q), RTE_CACHE_LINE_SIZE, (int)socket);
	if (q == NULL) {
		return -ENOMEM;
	}
	rte_eth_dev_get_port_by_name(dev->data->name, &port);
	q->mp = mp;
	q->cfg = pp->cfg;
	q->port = port;
	q->rng = pp->cfg.seed * 0x9E3779B97F4A7C15ULL + qid;
	if (q->rng == 0) {
		q->rng = 1;
	}
	q->hs_left = pp->cfg.handshake ? 3ull * pp->cfg.flows : 0;
	vs_template(q);
	if (pp->cfg.rx && pp->cfg.pcap == NULL && (pp->cfg.imix || pp->cfg.frame > VS_HDR)) {
		/* Payloads are zeros: write them once into every mbuf of the pool. */
		rte_mempool_obj_iter(mp, vs_zero_payload, NULL);
	}
	dev->data->rx_queues[qid] = q;
	return 0;
}

static int
vs_txq_setup(struct vs_eth_dev *dev, uint16_t qid, uint16_t nb_desc, unsigned socket,
		const struct rte_eth_txconf *conf)
{
	struct vs_txq *q;

	RTE_SET_USED(nb_desc);
	RTE_SET_USED(conf);
	if (qid >= dev->data->nb_tx_queues) {
		return -EINVAL;
	}
	q = rte_zmalloc_socket(VS_NAME, sizeof(*q), RTE_CACHE_LINE_SIZE, (int)socket);
	if (q == NULL) {
		return -ENOMEM;
	}
	q->port = vs_port_of(dev);
	dev->data->tx_queues[qid] = q;
	return 0;
}

typedef void (*vs_fn)(void);
#define VS_OP(slot, fn) [slot] = (vs_fn)(fn)

static const vs_fn vs_ops[VS_OP_SLOTS] = {
	VS_OP(VS_OP_CONFIGURE, vs_configure),
	VS_OP(VS_OP_START, vs_start),
	VS_OP(VS_OP_STOP, vs_stop),
	VS_OP(VS_OP_CLOSE, vs_close),
	VS_OP(VS_OP_LINK_UPDATE, vs_link_update),
	VS_OP(VS_OP_PROMISC_ON, vs_ok),
	VS_OP(VS_OP_PROMISC_OFF, vs_ok),
	VS_OP(VS_OP_ALLMULTI_ON, vs_ok),
	VS_OP(VS_OP_ALLMULTI_OFF, vs_ok),
	VS_OP(VS_OP_MAC_SET, vs_mac_set),
	VS_OP(VS_OP_MTU_SET, vs_mtu_set),
	VS_OP(VS_OP_STATS_GET, vs_stats_get),
	VS_OP(VS_OP_STATS_RESET, vs_stats_reset),
	VS_OP(VS_OP_INFOS_GET, vs_infos_get),
	VS_OP(VS_OP_RXQ_SETUP, vs_rxq_setup),
	VS_OP(VS_OP_RXQ_RELEASE, vs_rxq_release),
	VS_OP(VS_OP_TXQ_SETUP, vs_txq_setup),
	VS_OP(VS_OP_TXQ_RELEASE, vs_txq_release),
	VS_OP(VS_OP_RSS_HASH_UPDATE, vs_rss_hash_update),
	VS_OP(VS_OP_RSS_HASH_CONF_GET, vs_rss_hash_conf_get),
	VS_OP(VS_OP_RETA_UPDATE, vs_reta_update),
	VS_OP(VS_OP_RETA_QUERY, vs_reta_query),
};

/* --- the vdev driver -------------------------------------------------------------------------- */

/* Replay mode: the whole capture into memory (frames and their times). */
static int
vs_load_pcap(struct vs_port *pp, const char *name)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline_with_tstamp_precision(
			pp->cfg.pcap, PCAP_TSTAMP_PRECISION_MICRO, err);
	struct pcap_pkthdr *h;
	const u_char *bytes;
	size_t cap_frames = 0, cap_data = 0, used = 0;
	uint64_t first = 0, last = 0;
	int rc;

	if (pc == NULL) {
		VS_LOG(ERR, "%s: cannot read %s: %s\n", name, pp->cfg.pcap, err);
		return -EINVAL;
	}
	if (pcap_datalink(pc) != DLT_EN10MB) {
		VS_LOG(ERR, "%s: %s is not an Ethernet capture\n", name, pp->cfg.pcap);
		pcap_close(pc);
		return -EINVAL;
	}
	while ((rc = pcap_next_ex(pc, &h, &bytes)) == 1) {
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec;

		if (pp->n_frames == cap_frames) {
			size_t n = cap_frames ? 2 * cap_frames : 256;
			void *f = realloc(pp->frames, n * sizeof(*pp->frames));

			if (f == NULL) {
				goto nomem;
			}
			pp->frames = f;
			cap_frames = n;
		}
		if (used + h->caplen > cap_data) {
			size_t n = RTE_MAX(2 * cap_data, used + h->caplen + 65536);
			void *dd = realloc(pp->data, n);

			if (dd == NULL) {
				goto nomem;
			}
			pp->data = dd;
			cap_data = n;
		}
		memcpy(pp->data + used, bytes, h->caplen);
		pp->frames[pp->n_frames++] = (struct vs_frame){
			.off = (uint32_t)used, .len = h->caplen, .ts_us = ts
		};
		used += h->caplen;
		if (pp->n_frames == 1) {
			first = ts;
		}
		last = ts;
	}
	if (rc != PCAP_ERROR_BREAK) {
		VS_LOG(ERR, "%s: reading %s: %s\n", name, pp->cfg.pcap, pcap_geterr(pc));
		pcap_close(pc);
		return -EINVAL;
	}
	pcap_close(pc);
	pp->span_us = last - first + 1;
	if (rte_mbuf_dyn_rx_timestamp_register(&pp->ts_off, &pp->ts_flag) != 0) {
		VS_LOG(ERR, "%s: cannot register the RX timestamp field\n", name);
		return -ENOMEM;
	}
	return 0;
nomem:
	pcap_close(pc);
	return -ENOMEM;
}

static int
vs_open_tx_pcap(struct vs_port *pp, const char *name)
{
	pp->tx_dead = pcap_open_dead_with_tstamp_precision(
			DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_MICRO);
	if (pp->tx_dead == NULL) {
		return -ENOMEM;
	}
	pp->dumper = pcap_dump_open(pp->tx_dead, pp->cfg.tx_pcap);
	if (pp->dumper == NULL) {
		VS_LOG(ERR, "%s: cannot write %s: %s\n", name, pp->cfg.tx_pcap,
				pcap_geterr(pp->tx_dead));
		return -EINVAL;
	}
	rte_spinlock_init(&pp->tx_lock);
	return 0;
}

static int
vs_probe(struct vs_vdev_device *vd)
{
	struct rte_device *vdev = VS_VDEV_DEVICE(vd);
	const char *name = rte_dev_name(vdev);
	const struct rte_devargs *da = rte_dev_devargs(vdev);
	struct vs_cfg cfg;
	struct vs_eth_dev *dev;
	struct vs_port *pp;
	struct rte_ether_addr *mac, got;
	uint16_t port;
	int socket = rte_dev_numa_node(vdev);

	if (socket < 0) {
		socket = (int)rte_socket_id();
	}
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		VS_LOG(ERR, "%s: secondary processes are not supported\n", name);
		return -ENOTSUP;
	}
	if (vs_parse(da ? da->args : NULL, &cfg) < 0) {
		return -EINVAL;
	}
	dev = rte_eth_dev_allocate(name);
	if (dev == NULL) {
		return -ENOMEM;
	}
	pp = rte_zmalloc_socket(VS_NAME, sizeof(*pp), RTE_CACHE_LINE_SIZE, socket);
	mac = rte_zmalloc_socket(VS_NAME, sizeof(*mac), 0, socket);
	if (pp == NULL || mac == NULL) {
		rte_free(pp);
		rte_free(mac);
		vs_cfg_free(&cfg);
		rte_eth_dev_release_port(dev);
		return -ENOMEM;
	}
	pp->cfg = cfg;
	memcpy(pp->key, vs_default_key, VS_KEY_LEN);
	int rc = cfg.pcap != NULL ? vs_load_pcap(pp, name) : 0;

	if (rc == 0 && cfg.tx_pcap != NULL) {
		rc = vs_open_tx_pcap(pp, name);
	}
	if (rc != 0) {
		vs_port_free(pp);
		rte_free(pp);
		rte_free(mac);
		rte_eth_dev_release_port(dev);
		return rc;
	}
	/* a locally administered address per device */
	*mac = (struct rte_ether_addr){ { 0x02, 0x76, 0x67, 0x73, 0x00, vs_devices++ } };
	dev->data->dev_private = pp;
	dev->data->mac_addrs = mac;
	dev->data->dev_link = (struct rte_eth_link){ .link_speed = RTE_ETH_SPEED_NUM_100G,
		.link_duplex = RTE_ETH_LINK_FULL_DUPLEX,
		.link_autoneg = RTE_ETH_LINK_FIXED };
	dev->data->dev_flags |= VS_DEV_AUTOFILL_QUEUE_XSTATS;
	dev->data->numa_node = socket;
	dev->device = vdev;
	dev->dev_ops = vs_ops;
	dev->rx_pkt_burst = !cfg.rx ? vs_rx_none : cfg.pcap != NULL ? vs_rx_pcap : vs_rx;
	dev->tx_pkt_burst = cfg.tx_pcap != NULL ? vs_tx_pcap : vs_tx;
	if (strcmp(dev->data->name, name) != 0) {
		goto layout;
	}
	rte_eth_dev_probing_finish(dev);
	/* Does ethdev see what was written where vg_synth_abi.h says the fields are? */
	if (rte_eth_dev_get_port_by_name(name, &port) != 0 ||
			rte_eth_macaddr_get(port, &got) != 0 ||
			!rte_is_same_ether_addr(&got, mac)) {
		goto layout;
	}
	if (cfg.pcap != NULL) {
		VS_LOG(INFO, "%s: port %u, replays %s (%u frames)%s%s%s%s\n", name, port, cfg.pcap,
				pp->n_frames, cfg.loop ? " in a loop" : "",
				cfg.tx_pcap ? ", transmits to " : "",
				cfg.tx_pcap ? cfg.tx_pcap : "",
				cfg.sym_key ? "" : ", refuses a caller's RSS key");
		return 0;
	}
	VS_LOG(INFO, "%s: port %u, %u %s flows, %s order, %s, %s, dport %u%s%s%s\n", name, port,
			cfg.flows, cfg.tcp ? "TCP" : "UDP", cfg.shuffle ? "shuffled" : "in",
			cfg.both ? "both directions" : "client to server",
			cfg.imix ? "imix" : "fixed size", cfg.dport,
			cfg.handshake ? ", handshakes first" : "", cfg.rx ? "" : ", transmit only",
			cfg.sym_key ? "" : ", refuses a caller's RSS key");
	return 0;
layout:
	VS_LOG(ERR, "%s: this DPDK's ethdev structures are not laid out as in 22.11\n", name);
	vs_port_free(pp);
	rte_eth_dev_release_port(dev); /* frees dev_private and mac_addrs */
	return -ENOTSUP;
}

static int
vs_remove(struct vs_vdev_device *vd)
{
	struct vs_eth_dev *dev = rte_eth_dev_allocated(rte_dev_name(VS_VDEV_DEVICE(vd)));

	if (dev == NULL) {
		return 0; /* closed (and released) by the application */
	}
	vs_close(dev);
	return rte_eth_dev_release_port(dev);
}

static struct vs_vdev_driver vs_driver = {
	.probe = vs_probe,
	.remove = vs_remove,
};

RTE_INIT(vs_register)
{
	vs_driver.driver.name = VS_NAME;
	rte_vdev_register(&vs_driver);
}
