/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: probing the devices named in the config, queue layout, start and stop.
 *
 * Each pair of ports gets the same number of queues on both sides, n = min(workers, what both
 * devices offer). Queue q of a pair is served by one worker, which reads RX queue q of both
 * ports and writes TX queue q of both. A pair gets several queues only when both devices hash
 * both directions of a flow to the same queue (symmetric RSS); otherwise each port has one queue
 * and, with several workers, the workers hand packets to the flow's owner (software steering).
 */
#ifndef DP_PORT_H
#define DP_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

#include "vg_config.h"

/* How the packets of a pair reach the worker that owns their flow. */
enum dp_steering {
	DP_STEER_SINGLE,   /* one worker: one queue, nothing to steer */
	DP_STEER_RSS,	   /* symmetric RSS over n queues */
	DP_STEER_SOFTWARE, /* one queue per port; the workers hand packets to the flow's owner */
};

/* How a DP_STEER_RSS port makes its hash symmetric. */
enum dp_rss_method {
	DP_RSS_NONE,
	DP_RSS_KEY,  /* global RSS with dp_rss_symmetric_key (40 or 52 bytes of it) */
	DP_RSS_FLOW, /* rte_flow RSS action with RTE_ETH_HASH_FUNCTION_SYMMETRIC_TOEPLITZ */
};

/*
 * The symmetric Toeplitz key: 0x6d5a repeated (Woo and Park, "Scalable TCP session monitoring
 * with symmetric receive-side scaling", 2012). A key with a 16-bit period makes the hash of
 * (a, b) equal to that of (b, a) for any fields at offsets that differ by a multiple of 16 bits,
 * as the source and destination addresses do. Devices take 40 bytes of it or all 52; for the
 * IP-address input (at most 36 bytes of key used) both give the same hash. 4-byte aligned for
 * rte_softrss().
 */
extern const uint8_t dp_rss_symmetric_key[52];

struct rte_flow;

struct dp_port {
	const struct vg_port_config *cfg;
	uint16_t index;	  /* in the config */
	uint16_t port_id; /* ethdev */
	uint16_t peer;	  /* config index of the peer port */
	uint16_t pair;	  /* pair index */
	uint16_t n_queues;
	enum dp_steering steering;
	enum dp_rss_method rss_method; /* DP_STEER_RSS only */
	char steering_why[256];	       /* why this steering, for the log and the status */
	struct rte_flow *rss_flow[2];  /* DP_RSS_FLOW: the IPv4 and IPv6 rules */
	bool promiscuous;	       /* enabled and confirmed */
	bool rx_timestamp;	       /* RX timestamp offload enabled */
	bool lsc;		       /* link-state-change interrupts configured (intr_conf.lsc) */
	char lsc_why[96];	       /* why not, when not: for the status */
	bool started;
	char driver[32];
	struct rte_ether_addr mac;
};

/* Find the ethdev of each configured port; fills port_id, driver, index, peer. */
/*
 * Mbufs a port's device keeps for itself: net_pcap with infinite_rx=1 loads its whole rx_pcap
 * into mbufs of our pool when the queue is set up, and fails (then crashes on close, DPDK 22.11)
 * when the pool is short. 0 for every other device, or when the capture cannot be read (the
 * device then reports that itself).
 */
uint64_t dp_port_held_mbufs(const char *device);

int dp_ports_probe(struct dp_port *ports, const struct vg_config *cfg);

/*
 * Decide each pair's steering and queue count for n_workers workers; stored in steering,
 * steering_why, rss_method and n_queues of both ports. One worker: DP_STEER_SINGLE, 1 queue.
 * Several: n = min(n_workers, RX and TX queues of both devices); DP_STEER_RSS with n queues when
 * both devices accept a symmetric hash of the IP addresses (tried here with
 * rte_eth_dev_configure, which leaves the devices configured; dp_port_start() configures them
 * again) by the same method and map hashes to queues alike, else DP_STEER_SOFTWARE with 1 queue.
 * Returns 0 or a negative errno when a device's information cannot be read.
 */
int dp_ports_plan_queues(struct dp_port *ports, const struct vg_config *cfg, unsigned n_workers);

/* "single", "rss", "software". */
const char *dp_steering_name(enum dp_steering s);

/* Configure queues, RSS and offloads, then start. want_rx_timestamp asks for the RX offload. */
int dp_port_start(struct dp_port *p, struct rte_mempool *pool, bool want_rx_timestamp);

/* Stop and close the port; safe if it never started. */
void dp_port_stop(struct dp_port *p);

/* The value of key=... in a vdev string ("net_tap0,iface=x"), into out; false when absent. */
bool dp_port_devarg(const char *device, const char *key, char *out, size_t len);

/* Log link status: "port outside (net_tap0): link up, 10 Gbps, full duplex". */
void dp_port_log_link(const struct dp_port *p);

#endif /* DP_PORT_H */
