/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VG_SYNTH_ABI_H
#define VG_SYNTH_ABI_H

/*
 * The few driver-side structures of DPDK 22.11 that net_vgsynth touches.
 *
 * Debian's libdpdk-dev installs the application headers only (DPDK's enable_driver_sdk is
 * off), so ethdev_driver.h and bus_vdev_driver.h are not there. A vdev PMD built out of tree
 * needs the address of a handful of fields in rte_eth_dev, rte_eth_dev_data, eth_dev_ops and
 * rte_vdev_driver; they are named here by their offsets in DPDK 22.11 (ABI 23), read from the
 * installed librte_net_null.a (its probe, queue set-up and ops table relocations:
 * `objdump -dr` of net_null_rte_eth_null.c.o; dev_conf and the RSS operations from
 * librte_ethdev.so.23: rte_eth_dev_conf_get copies 0x8e0 bytes from data + 0x70, and
 * rte_eth_dev_rss_hash_update, _rss_hash_conf_get, _rss_reta_update and _rss_reta_query call
 * dev_ops + 0x1e0, 0x1e8, 0x1f0 and 0x1f8). Everything else is left as padding and never
 * touched. The build refuses any other DPDK version, and probe checks at run time that
 * ethdev sees what was written (port name, MAC address) before it finishes the port.
 */
#include <stddef.h>
#include <stdint.h>

#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_version.h>

#if RTE_VERSION < RTE_VERSION_NUM(22, 11, 0, 0) || RTE_VERSION >= RTE_VERSION_NUM(22, 12, 0, 0)
#error "net_vgsynth names DPDK 22.11's driver structures by offset: this is another DPDK"
#endif

typedef uint16_t (*vs_burst_t)(void *queue, struct rte_mbuf **pkts, uint16_t n);

/* struct rte_eth_dev, up to its backing device */
struct vs_eth_dev {
	vs_burst_t rx_pkt_burst;
	vs_burst_t tx_pkt_burst;
	void *fast_path_other[4]; /* tx_prepare, rx_queue_count, rx/tx descriptor status */
	struct vs_eth_dev_data *data;
	void *process_private;
	const void *dev_ops;
	struct rte_device *device;
};
_Static_assert(offsetof(struct vs_eth_dev, data) == 0x30, "rte_eth_dev.data");
_Static_assert(offsetof(struct vs_eth_dev, dev_ops) == 0x40, "rte_eth_dev.dev_ops");
_Static_assert(offsetof(struct vs_eth_dev, device) == 0x48, "rte_eth_dev.device");

/* struct rte_eth_dev_data: the fields set by a PMD, at their 22.11 offsets */
struct vs_eth_dev_data {
	char name[RTE_ETH_NAME_MAX_LEN];
	void **rx_queues;
	void **tx_queues;
	uint16_t nb_rx_queues;
	uint16_t nb_tx_queues;
	uint8_t pad0[0x60 - 0x54];
	void *dev_private;
	struct rte_eth_link dev_link;
	struct rte_eth_conf dev_conf; /* what the application configured (rte_eth_dev_conf_get) */
	uint8_t pad1[0x960 - 0x70 - sizeof(struct rte_eth_conf)];
	struct rte_ether_addr *mac_addrs;
	uint8_t pad2[0xd73 - 0x968];
	uint8_t rx_queue_state[RTE_MAX_QUEUES_PER_PORT];
	uint8_t tx_queue_state[RTE_MAX_QUEUES_PER_PORT];
	uint8_t pad3[0x1574 - 0x1573];
	uint32_t dev_flags;
	int numa_node;
};
_Static_assert(RTE_ETH_NAME_MAX_LEN == 64, "RTE_ETH_NAME_MAX_LEN");
_Static_assert(RTE_MAX_QUEUES_PER_PORT == 1024, "RTE_MAX_QUEUES_PER_PORT");
_Static_assert(offsetof(struct vs_eth_dev_data, rx_queues) == 0x40, "data.rx_queues");
_Static_assert(offsetof(struct vs_eth_dev_data, nb_rx_queues) == 0x50, "data.nb_rx_queues");
_Static_assert(offsetof(struct vs_eth_dev_data, dev_private) == 0x60, "data.dev_private");
_Static_assert(offsetof(struct vs_eth_dev_data, dev_link) == 0x68, "data.dev_link");
_Static_assert(offsetof(struct vs_eth_dev_data, dev_conf) == 0x70, "data.dev_conf");
_Static_assert(sizeof(struct rte_eth_conf) == 0x8e0, "rte_eth_conf");
_Static_assert(offsetof(struct vs_eth_dev_data, mac_addrs) == 0x960, "data.mac_addrs");
_Static_assert(offsetof(struct vs_eth_dev_data, rx_queue_state) == 0xd73, "data.rxq_state");
_Static_assert(offsetof(struct vs_eth_dev_data, tx_queue_state) == 0x1173, "data.txq_state");
_Static_assert(offsetof(struct vs_eth_dev_data, dev_flags) == 0x1574, "data.dev_flags");
_Static_assert(offsetof(struct vs_eth_dev_data, numa_node) == 0x1578, "data.numa_node");

#define VS_QUEUE_STARTED	     1	  /* RTE_ETH_QUEUE_STATE_STARTED */
#define VS_DEV_AUTOFILL_QUEUE_XSTATS 0x40 /* RTE_ETH_DEV_AUTOFILL_QUEUE_XSTATS */

/* struct eth_dev_ops: slot numbers of the operations net_vgsynth provides */
enum vs_op {
	VS_OP_CONFIGURE = 0,
	VS_OP_START = 1,
	VS_OP_STOP = 2,
	VS_OP_CLOSE = 5,
	VS_OP_LINK_UPDATE = 7,
	VS_OP_PROMISC_ON = 9,
	VS_OP_PROMISC_OFF = 10,
	VS_OP_ALLMULTI_ON = 11,
	VS_OP_ALLMULTI_OFF = 12,
	VS_OP_MAC_SET = 15,
	VS_OP_MTU_SET = 17,
	VS_OP_STATS_GET = 18,
	VS_OP_STATS_RESET = 19,
	VS_OP_INFOS_GET = 24,
	VS_OP_RXQ_SETUP = 41,
	VS_OP_RXQ_RELEASE = 42,
	VS_OP_TXQ_SETUP = 45,
	VS_OP_TXQ_RELEASE = 46,
	VS_OP_RSS_HASH_UPDATE = 60,
	VS_OP_RSS_HASH_CONF_GET = 61,
	VS_OP_RETA_UPDATE = 62,
	VS_OP_RETA_QUERY = 63,
	/* more than struct eth_dev_ops holds (about 110): ethdev reads zeros past ours */
	VS_OP_SLOTS = 192,
};

/* struct rte_vdev_device: the bus list entry, then the device */
struct vs_vdev_device {
	void *next[2];
	char device[]; /* struct rte_device, opaque since 22.11: rte_dev_name() and friends */
};
_Static_assert(offsetof(struct vs_vdev_device, device) == 0x10, "rte_vdev_device.device");
#define VS_VDEV_DEVICE(vd) ((struct rte_device *)(void *)(vd)->device)

/* struct rte_vdev_driver (with its struct rte_driver) */
struct vs_vdev_driver {
	void *next[2];
	struct {
		void *next[2];
		const char *name;
		const char *alias;
	} driver;
	int (*probe)(struct vs_vdev_device *dev);
	int (*remove)(struct vs_vdev_device *dev);
	void *dma_map;
	void *dma_unmap;
	uint32_t drv_flags;
};
_Static_assert(offsetof(struct vs_vdev_driver, driver.name) == 0x20, "rte_vdev_driver.name");
_Static_assert(offsetof(struct vs_vdev_driver, probe) == 0x30, "rte_vdev_driver.probe");

/* exported by librte_ethdev and librte_bus_vdev in their INTERNAL version node */
struct vs_eth_dev *rte_eth_dev_allocate(const char *name);
struct vs_eth_dev *rte_eth_dev_allocated(const char *name);
int rte_eth_dev_release_port(struct vs_eth_dev *eth_dev);
void rte_eth_dev_probing_finish(struct vs_eth_dev *dev);
void rte_vdev_register(struct vs_vdev_driver *driver);

#endif
