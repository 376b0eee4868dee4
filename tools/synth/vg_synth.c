/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vgsynth: a synthetic traffic PMD, the NIC-like input of the benchmarks.
 *
 * Loaded into any DPDK 22.11 program with `-d librte_net_vgsynth.so` and created with
 * `--vdev net_vgsynth0,flows=100k,order=shuffle,...`. Every receive takes fresh mbufs from the
 * queue's pool and writes one frame header into each from a 64-byte template of the flow's
 * direction, with the flow's addresses, ports and checksums patched in: no stored frames, no
 * per-flow table, the same few dozen cycles per packet at 1 flow as at 1M. Flow i is the
 * client 10.0.0.1 + i, port 1024 + i % 64512, talking to 192.168.0.1 + i % 65536 on `dport`;
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
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_kvargs.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_memcpy.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "vg_synth_abi.h"

#define VS_NAME	       "net_vgsynth"
#define VS_MAX_FLOWS   (1u << 24)
#define VS_HDR	       64 /* bytes written per packet */
#define VS_IMIX_CYCLE  12
#define VS_MAX_FRAME   1496 /* 1500 with the FCS */
#define VS_MIN_FRAME   60   /* 64 with the FCS */
#define VS_TCP_ACK_LEN 40   /* IPv4 and TCP headers */

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
	/* the first 64 bytes of a frame, per direction, addresses/ports/checksums zero */
	uint8_t tmpl[2][VS_HDR] __rte_aligned(64);
	/* one's complement sums of each template's IPv4 header (without its total length) and
	 * TCP header (with the pseudo header's protocol): a packet adds its own fields */
	uint32_t ip_base[2];
	uint32_t tcp_base[2];
};

struct vs_txq {
	uint64_t pkts, bytes;
};

struct vs_port {
	struct vs_cfg cfg;
};

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
	uint32_t client = RTE_IPV4(10, 0, 0, 1) + f;
	uint32_t server = RTE_IPV4(192, 168, 0, 1) + (f & 0xffff);
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

static uint16_t
vs_rx(void *queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct vs_rxq *q = queue;
	uint64_t bytes = 0;

	if (unlikely(rte_pktmbuf_alloc_bulk(q->mp, pkts, n) != 0)) {
		q->nombuf++;
		return 0;
	}
	for (uint16_t i = 0; i < n; i++) {
		uint16_t len = q->cfg.frame;
		uint32_t f;
		unsigned dir;
		uint8_t flags = 0;

		if (q->cfg.imix) {
			len = vs_imix[q->imix_pos];
			q->imix_pos = q->imix_pos == VS_IMIX_CYCLE - 1 ? 0 : q->imix_pos + 1;
		}
		if (unlikely(q->hs_left != 0)) {
			static const uint8_t hs_flags[3] = { RTE_TCP_SYN_FLAG,
				RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, RTE_TCP_ACK_FLAG };
			f = q->hs_flow;
			dir = q->hs_step == 1 ? VS_REV : VS_FWD;
			flags = hs_flags[q->hs_step];
			if (++q->hs_step == 3) {
				q->hs_step = 0;
				q->hs_flow++;
			}
			q->hs_left--;
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
		bytes += len;
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
	"size", "dport", "seed", "rx", NULL };

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
	} else if (!strcmp(key, "handshake") || !strcmp(key, "rx") || !strcmp(key, "data")) {
		if (strcmp(v, "0") && strcmp(v, "1")) {
			goto bad;
		}
		bool *flag = !strcmp(key, "rx")	    ? &c->rx
			     : !strcmp(key, "data") ? &c->data
						    : &c->handshake;
		*flag = !strcmp(v, "1");
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
			"seed=N, rx=0|1)\n",
			v, key);
	return -EINVAL;
}

static int
vs_parse(const char *args, struct vs_cfg *c)
{
	*c = (struct vs_cfg){
		.flows = 1, .both = true, .tcp = true, .rx = true, .frame = 60, .seed = 1
	};
	int dport_set = 0;

	if (args && *args) {
		struct rte_kvargs *kv = rte_kvargs_parse(args, vs_keys);

		if (!kv) {
			VS_LOG(ERR,
					"cannot parse '%s': known keys are flows, order, dir, proto, "
					"handshake, data, size, dport, seed, rx\n",
					args);
			return -EINVAL;
		}
		int rc = rte_kvargs_process(kv, NULL, vs_arg, c);

		dport_set = rte_kvargs_count(kv, "dport") > 0;
		rte_kvargs_free(kv);
		if (rc < 0) {
			return -EINVAL;
		}
	}
	if (!dport_set) {
		c->dport = c->tcp ? 80 : 9;
	}
	if (c->handshake && !c->tcp) {
		VS_LOG(ERR, "handshake=1 needs proto=tcp\n");
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
vs_configure(struct vs_eth_dev *dev)
{
	RTE_SET_USED(dev);
	return 0;
}

static int
vs_start(struct vs_eth_dev *dev)
{
	struct vs_eth_dev_data *d = dev->data;

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
	info->max_rx_queues = 1;
	info->max_tx_queues = 1;
	info->min_rx_bufsize = 0;
	info->rx_offload_capa = 0;
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
	if (pp->cfg.rx && (pp->cfg.imix || pp->cfg.frame > VS_HDR)) {
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
};

/* --- the vdev driver -------------------------------------------------------------------------- */

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
		rte_eth_dev_release_port(dev);
		return -ENOMEM;
	}
	pp->cfg = cfg;
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
	dev->rx_pkt_burst = cfg.rx ? vs_rx : vs_rx_none;
	dev->tx_pkt_burst = vs_tx;
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
	VS_LOG(INFO, "%s: port %u, %u %s flows, %s order, %s, %s, dport %u%s%s\n", name, port,
			cfg.flows, cfg.tcp ? "TCP" : "UDP", cfg.shuffle ? "shuffled" : "in",
			cfg.both ? "both directions" : "client to server",
			cfg.imix ? "imix" : "fixed size", cfg.dport,
			cfg.handshake ? ", handshakes first" : "", cfg.rx ? "" : ", transmit only");
	return 0;
layout:
	VS_LOG(ERR, "%s: this DPDK's ethdev structures are not laid out as in 22.11\n", name);
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
