/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: probing the devices named in the config, queue layout, start and stop.
 *
 * Each pair of ports gets the same number of queues on both sides, n = min(workers, what both
 * devices offer). Queue q of a pair is served by one worker, which reads RX queue q of both
 * ports and writes TX queue q of both. With symmetric RSS both directions of a flow hash to the
 * same q, so one worker sees the whole flow; devices without RSS get one queue.
 */
#ifndef DP_PORT_H
#define DP_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

#include "vg_config.h"

struct dp_port {
	const struct vg_port_config *cfg;
	uint16_t index;	  /* in the config */
	uint16_t port_id; /* ethdev */
	uint16_t peer;	  /* config index of the peer port */
	uint16_t pair;	  /* pair index */
	uint16_t n_queues;
	bool rss;	    /* RSS on across n_queues > 1 */
	bool rss_symmetric; /* the symmetric Toeplitz key was accepted */
	bool promiscuous;   /* enabled and confirmed */
	bool rx_timestamp;  /* RX timestamp offload enabled */
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
 * How many queues each pair can have with n_workers workers: min(n_workers, max rx and tx
 * queues of both devices). Stored in n_queues of both ports.
 */
int dp_ports_plan_queues(struct dp_port *ports, const struct vg_config *cfg, unsigned n_workers);

/* Configure queues, RSS and offloads, then start. want_rx_timestamp asks for the RX offload. */
int dp_port_start(struct dp_port *p, struct rte_mempool *pool, bool want_rx_timestamp);

/* Stop and close the port; safe if it never started. */
void dp_port_stop(struct dp_port *p);

/* The value of key=... in a vdev string ("net_tap0,iface=x"), into out; false when absent. */
bool dp_port_devarg(const char *device, const char *key, char *out, size_t len);

/* Log link status: "port outside (net_tap0): link up, 10 Gbps, full duplex". */
void dp_port_log_link(const struct dp_port *p);

#endif /* DP_PORT_H */
