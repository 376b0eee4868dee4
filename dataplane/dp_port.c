/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>
#include <rte_ethdev.h>

#include "dp_port.h"
#include "vg_log.h"

/*
 * The symmetric Toeplitz key: a repeated 16-bit pattern makes hash(a, b) == hash(b, a), so both
 * directions of a connection land on the same queue and therefore the same worker.
 */
static uint8_t symmetric_rss_key[52] = {
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
	0x6d,
	0x5a,
};

/* The name EAL gives the device: the vdev name before the first comma, or the full PCI BDF. */
static void
device_name(const struct vg_port_config *pc, char *out, size_t len)
{
	unsigned dom = 0, bus, dev, fn;

	if (pc->is_pci) {
		if (sscanf(pc->device, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4) {
			dom = 0;
			sscanf(pc->device, "%x:%x.%x", &bus, &dev, &fn);
		}
		snprintf(out, len, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
		return;
	}
	snprintf(out, len, "%.*s", (int)strcspn(pc->device, ","), pc->device);
}

int
dp_ports_probe(struct dp_port *ports, const struct vg_config *cfg)
{
	for (unsigned i = 0; i < cfg->n_ports; i++) {
		struct dp_port *p = &ports[i];
		struct rte_eth_dev_info info;
		char name[RTE_ETH_NAME_MAX_LEN];
		int rc;

		memset(p, 0, sizeof(*p));
		p->cfg = &cfg->ports[i];
		p->index = (uint16_t)i;
		p->peer = (uint16_t)vg_config_peer(cfg, i);
		for (unsigned k = 0; k < cfg->n_pairs; k++)
			if (cfg->pairs[k].a == i || cfg->pairs[k].b == i)
				p->pair = (uint16_t)k;
		device_name(p->cfg, name, sizeof(name));
		rc = rte_eth_dev_get_port_by_name(name, &p->port_id);
		if (rc != 0) {
			DP_LOG(ERR,
					"port %s: device %s was not found (for a PCI NIC: is it "
					"bound to vfio-pci? see docs/OPERATIONS.md)",
					p->cfg->name, name);
			return -ENODEV;
		}
		rc = rte_eth_dev_info_get(p->port_id, &info);
		if (rc != 0) {
			DP_LOG(ERR, "port %s: cannot read device info: %s", p->cfg->name,
					strerror(-rc));
			return rc;
		}
		snprintf(p->driver, sizeof(p->driver), "%s", info.driver_name);
	}
	return 0;
}

int
dp_ports_plan_queues(struct dp_port *ports, const struct vg_config *cfg, unsigned n_workers)
{
	for (unsigned k = 0; k < cfg->n_pairs; k++) {
		struct dp_port *pa = &ports[cfg->pairs[k].a], *pb = &ports[cfg->pairs[k].b];
		struct rte_eth_dev_info ia, ib;
		unsigned n = n_workers;
		int rc;

		rc = rte_eth_dev_info_get(pa->port_id, &ia);
		if (rc == 0)
			rc = rte_eth_dev_info_get(pb->port_id, &ib);
		if (rc != 0)
			return rc;
		n = RTE_MIN(n, (unsigned)RTE_MIN(ia.max_rx_queues, ia.max_tx_queues));
		n = RTE_MIN(n, (unsigned)RTE_MIN(ib.max_rx_queues, ib.max_tx_queues));
		/* Several queues only help when the device spreads packets over them. */
		if (ia.flow_type_rss_offloads == 0 || ib.flow_type_rss_offloads == 0)
			n = 1;
		if (n == 0)
			n = 1;
		pa->n_queues = pb->n_queues = (uint16_t)n;
	}
	return 0;
}

int
dp_port_start(struct dp_port *p, struct rte_mempool *pool, bool want_rx_timestamp)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_eth_txconf txconf;
	struct rte_eth_rxconf rxconf;
	uint16_t nb_rxd = p->cfg->rx_desc, nb_txd = p->cfg->tx_desc;
	uint16_t id = p->port_id;
	int socket = rte_eth_dev_socket_id(id);
	int rc;

	if (socket < 0)
		socket = (int)rte_socket_id();
	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_info_get(id, &info);
	if (rc != 0)
		return rc;

	if (p->n_queues > 1) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
				(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP |
						RTE_ETH_RSS_SCTP) &
				info.flow_type_rss_offloads;
		if (info.hash_key_size == 40 || info.hash_key_size == 52) {
			conf.rx_adv_conf.rss_conf.rss_key = symmetric_rss_key;
			conf.rx_adv_conf.rss_conf.rss_key_len = info.hash_key_size;
			p->rss_symmetric = true;
		}
		p->rss = true;
	}
	if (want_rx_timestamp && (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP)) {
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
		p->rx_timestamp = true;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;

	rc = rte_eth_dev_configure(id, p->n_queues, p->n_queues, &conf);
	if (rc != 0 && p->rss_symmetric) {
		/* Some drivers take RSS but not a caller's key: keep RSS, lose symmetry. */
		conf.rx_adv_conf.rss_conf.rss_key = NULL;
		conf.rx_adv_conf.rss_conf.rss_key_len = 0;
		p->rss_symmetric = false;
		rc = rte_eth_dev_configure(id, p->n_queues, p->n_queues, &conf);
	}
	if (rc != 0) {
		DP_LOG(ERR, "port %s: configure with %u queues failed: %s", p->cfg->name,
				p->n_queues, strerror(-rc));
		return rc;
	}
	if (p->rss && !p->rss_symmetric)
		DP_LOG(WARNING,
				"port %s: RSS without the symmetric key; the two directions of a "
				"flow may reach different workers",
				p->cfg->name);
	if (p->cfg->mtu != 0) {
		rc = rte_eth_dev_set_mtu(id, p->cfg->mtu);
		if (rc != 0)
			DP_LOG(WARNING, "port %s: MTU %u not accepted: %s", p->cfg->name,
					p->cfg->mtu, strerror(-rc));
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &nb_rxd, &nb_txd);
	if (rc != 0)
		return rc;

	rxconf = info.default_rxconf;
	rxconf.offloads = conf.rxmode.offloads;
	for (uint16_t q = 0; q < p->n_queues; q++) {
		rc = rte_eth_rx_queue_setup(id, q, nb_rxd, (unsigned)socket, &rxconf, pool);
		if (rc < 0) {
			DP_LOG(ERR, "port %s: RX queue %u setup failed: %s", p->cfg->name, q,
					strerror(-rc));
			return rc;
		}
	}
	txconf = info.default_txconf;
	txconf.offloads = conf.txmode.offloads;
	for (uint16_t q = 0; q < p->n_queues; q++) {
		rc = rte_eth_tx_queue_setup(id, q, nb_txd, (unsigned)socket, &txconf);
		if (rc < 0) {
			DP_LOG(ERR, "port %s: TX queue %u setup failed: %s", p->cfg->name, q,
					strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_dev_start(id);
	if (rc < 0) {
		DP_LOG(ERR, "port %s: start failed: %s", p->cfg->name, strerror(-rc));
		return rc;
	}
	p->started = true;
	rte_eth_macaddr_get(id, &p->mac);
	if (p->cfg->promiscuous) {
		rc = rte_eth_promiscuous_enable(id);
		p->promiscuous = rc == 0 && rte_eth_promiscuous_get(id) == 1;
		if (!p->promiscuous)
			DP_LOG(WARNING,
					"port %s: promiscuous mode not supported (%s); only frames "
					"for its own MAC arrive",
					p->cfg->name, rc ? strerror(-rc) : "not confirmed");
	}
	DP_LOG(INFO,
			"port %s: %s (%s) ethdev %u, MAC " RTE_ETHER_ADDR_PRT_FMT
			", %u queue%s%s%s, rx %u tx %u descriptors%s",
			p->cfg->name, p->cfg->device, p->driver, id, RTE_ETHER_ADDR_BYTES(&p->mac),
			p->n_queues, p->n_queues > 1 ? "s" : "",
			p->rss ? (p->rss_symmetric ? ", symmetric RSS" : ", RSS") : "",
			p->promiscuous ? ", promiscuous" : "", nb_rxd, nb_txd,
			p->rx_timestamp ? ", RX timestamps" : "");
	return 0;
}

void
dp_port_stop(struct dp_port *p)
{
	if (p->cfg == NULL)
		return;
	if (p->started) {
		int rc = rte_eth_dev_stop(p->port_id);

		if (rc != 0)
			DP_LOG(WARNING, "port %s: stop failed: %s", p->cfg->name, strerror(-rc));
		p->started = false;
	}
	rte_eth_dev_close(p->port_id);
}

void
dp_port_log_link(const struct dp_port *p)
{
	struct rte_eth_link link;
	char text[RTE_ETH_LINK_MAX_STR_LEN];

	if (rte_eth_link_get_nowait(p->port_id, &link) != 0) {
		DP_LOG(INFO, "port %s: link status unknown", p->cfg->name);
		return;
	}
	rte_eth_link_to_str(text, sizeof(text), &link);
	DP_LOG(INFO, "port %s: %s", p->cfg->name, text);
}

/* The value of key=... in a devargs string, into out; false when absent. */
bool
dp_port_devarg(const char *device, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);

	for (const char *p = strchr(device, ','); p != NULL; p = strchr(p + 1, ',')) {
		if (strncmp(p + 1, key, kl) != 0 || p[1 + kl] != '=')
			continue;
		const char *v = p + 2 + kl;
		size_t n = strcspn(v, ",");

		if (n >= len)
			return false;
		memcpy(out, v, n);
		out[n] = '\0';
		return true;
	}
	return false;
}

uint64_t
dp_port_held_mbufs(const char *device)
{
	char path[VG_PATH_LEN], flag[8], err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t n = 0;
	pcap_t *pc;

	if (strncmp(device, "net_pcap", 8) != 0 ||
			!dp_port_devarg(device, "infinite_rx", flag, sizeof(flag)) ||
			strcmp(flag, "1") != 0 ||
			!dp_port_devarg(device, "rx_pcap", path, sizeof(path)))
		return 0;
	pc = pcap_open_offline(path, err);
	if (pc == NULL)
		return 0;
	while (pcap_next_ex(pc, &h, &data) == 1)
		n++;
	pcap_close(pc);
	return n;
}
