/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>
#include <rte_ethdev.h>
#include <rte_flow.h>
#include <rte_string_fns.h>

#include "dp_port.h"
#include "vg_log.h"

/* The key (see dp_port.h), 0x6d5a repeated, 4-byte aligned for rte_softrss(). */
/* clang-format off */
alignas(4) const uint8_t dp_rss_symmetric_key[52] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};
/* clang-format on */

/*
 * Hash on the IP addresses only. A non-first fragment has no ports, so a hash over the ports
 * would send a fragmented datagram's pieces to another worker than the rest of its flow (and the
 * first fragment to another than the later ones); the flow's owner must see them all. Suricata's
 * DPDK mode makes the same choice. The software dispatch hashes the same pair of addresses
 * symmetrically, so RSS and software steering agree on what belongs together. The cost: all
 * connections between two hosts land on one worker.
 */
#define DP_RSS_HF RTE_ETH_RSS_IP

/*
 * Drivers that accept an RSS configuration without steering received packets by it: net_tap
 * (the kernel's tun driver picks the queue; the PMD's RSS is only its rte_flow action, through
 * eBPF) and net_null (each queue makes its own packets). They report RSS offloads and a 40-byte
 * key all the same.
 */
static const char *const rss_ignored[] = { "net_tap", "net_null" };

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

const char *
dp_steering_name(enum dp_steering s)
{
	switch (s) {
	case DP_STEER_SINGLE:
		return "single";
	case DP_STEER_RSS:
		return "rss";
	case DP_STEER_SOFTWARE:
		return "software";
	}
	return "?";
}

/* The global RSS configuration for n queues; with the key when key_len is not 0. */
static void
rss_conf(struct rte_eth_conf *conf, const struct rte_eth_dev_info *info, uint8_t *key,
		uint8_t key_len)
{
	conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
	conf->rx_adv_conf.rss_conf.rss_hf = DP_RSS_HF & info->flow_type_rss_offloads;
	if (key_len != 0) {
		memcpy(key, dp_rss_symmetric_key, key_len);
		conf->rx_adv_conf.rss_conf.rss_key = key;
		conf->rx_adv_conf.rss_conf.rss_key_len = key_len;
	}
}

/*
 * The rte_flow rules for symmetric Toeplitz over queues 0..n-1: one per IP version, matching
 * every packet of that version, hashing its addresses. In DPDK 22.11 the drivers whose RSS
 * action takes RTE_ETH_HASH_FUNCTION_SYMMETRIC_TOEPLITZ are, among others, Intel's i40e, ice and
 * iavf (X710/XL710, E810 and their VFs) and Huawei's hns3: NICs whose global RSS may refuse a
 * caller's key or apply it per packet type. Its hash (Toeplitz over src XOR dst) differs from
 * the key's, hence both ports of a pair must use the same method. Create when create is true, else
 * validate only. Returns 0 or a negative errno, with the driver's message in why.
 */
static int
rss_flows(struct dp_port *p, uint16_t n, bool create, char *why, size_t len)
{
	uint16_t q[RTE_MAX_QUEUES_PER_PORT];
	const struct rte_flow_attr attr = { .ingress = 1 };
	const enum rte_flow_item_type l3[2] = { RTE_FLOW_ITEM_TYPE_IPV4, RTE_FLOW_ITEM_TYPE_IPV6 };
	const uint64_t types[2] = { RTE_ETH_RSS_IPV4, RTE_ETH_RSS_IPV6 };

	for (uint16_t i = 0; i < n; i++)
		q[i] = i;
	for (unsigned v = 0; v < 2; v++) {
		const struct rte_flow_item pattern[] = {
			{ .type = RTE_FLOW_ITEM_TYPE_ETH },
			{ .type = l3[v] },
			{ .type = RTE_FLOW_ITEM_TYPE_END },
		};
		const struct rte_flow_action_rss rss = {
			.func = RTE_ETH_HASH_FUNCTION_SYMMETRIC_TOEPLITZ,
			.types = types[v] & DP_RSS_HF,
			.queue_num = n,
			.queue = q,
		};
		const struct rte_flow_action actions[] = {
			{ .type = RTE_FLOW_ACTION_TYPE_RSS, .conf = &rss },
			{ .type = RTE_FLOW_ACTION_TYPE_END },
		};
		struct rte_flow_error err;
		int rc = 0;

		memset(&err, 0, sizeof(err));
		if (create) {
			p->rss_flow[v] = rte_flow_create(p->port_id, &attr, pattern, actions, &err);
			if (p->rss_flow[v] == NULL)
				rc = -rte_errno;
		} else {
			rc = rte_flow_validate(p->port_id, &attr, pattern, actions, &err);
		}
		if (rc != 0) {
			snprintf(why, len, "%s", err.message != NULL ? err.message : strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static bool
rss_ignored_by(const char *driver)
{
	for (unsigned i = 0; i < RTE_DIM(rss_ignored); i++)
		if (strcmp(driver, rss_ignored[i]) == 0)
			return true;
	return false;
}

/*
 * Can the device hash both directions of a flow to the same one of n queues? Tries the
 * symmetric key through rte_eth_dev_configure, then rte_flow's symmetric Toeplitz. Sets
 * rss_method, or steering_why to the reason it cannot.
 */
static bool
probe_symmetric(struct dp_port *p, const struct rte_eth_dev_info *info, uint16_t n)
{
	struct rte_eth_conf conf;
	uint8_t key[sizeof(dp_rss_symmetric_key)];
	char flow_why[64];
	size_t used;
	int rc;

	p->rss_method = DP_RSS_NONE;
	if (info->flow_type_rss_offloads == 0) {
		snprintf(p->steering_why, sizeof(p->steering_why), "device reports no RSS");
		return false;
	}
	if ((info->flow_type_rss_offloads & DP_RSS_HF) == 0) {
		snprintf(p->steering_why, sizeof(p->steering_why),
				"device does not hash IP addresses (RSS types 0x%" PRIx64 ")",
				info->flow_type_rss_offloads);
		return false;
	}
	if (rss_ignored_by(p->driver)) {
		snprintf(p->steering_why, sizeof(p->steering_why),
				"%s does not steer received packets by its RSS settings",
				p->driver);
		return false;
	}
	if (info->hash_key_size == 40 || info->hash_key_size == 52) {
		memset(&conf, 0, sizeof(conf));
		rss_conf(&conf, info, key, info->hash_key_size);
		rc = rte_eth_dev_configure(p->port_id, n, n, &conf);
		if (rc == 0) {
			p->rss_method = DP_RSS_KEY;
			return true;
		}
		snprintf(p->steering_why, sizeof(p->steering_why),
				"driver refused the symmetric Toeplitz key (rte_eth_dev_configure: %s)",
				strerror(-rc));
	} else {
		snprintf(p->steering_why, sizeof(p->steering_why),
				"hash key size %u not supported (the symmetric key is 40 or 52 bytes)",
				info->hash_key_size);
	}
	/* rte_flow validates against a device configured with its queues. */
	memset(&conf, 0, sizeof(conf));
	rss_conf(&conf, info, key, 0);
	rc = rte_eth_dev_configure(p->port_id, n, n, &conf);
	if (rc == 0)
		rc = rss_flows(p, n, false, flow_why, sizeof(flow_why));
	else
		snprintf(flow_why, sizeof(flow_why), "configure: %s", strerror(-rc));
	if (rc == 0) {
		p->rss_method = DP_RSS_FLOW;
		p->steering_why[0] = '\0';
		return true;
	}
	used = strlen(p->steering_why);
	snprintf(p->steering_why + used, sizeof(p->steering_why) - used, "; rte_flow: %s",
			flow_why);
	return false;
}

static void
steer(struct dp_port *pa, struct dp_port *pb, enum dp_steering s, uint16_t n, const char *why)
{
	pa->steering = pb->steering = s;
	pa->n_queues = pb->n_queues = n;
	if (s != DP_STEER_RSS)
		pa->rss_method = pb->rss_method = DP_RSS_NONE;
	/* why may be longer than the field (it names a port): truncated, not refused. */
	strlcpy(pa->steering_why, why, sizeof(pa->steering_why));
	strlcpy(pb->steering_why, why, sizeof(pb->steering_why));
}

int
dp_ports_plan_queues(struct dp_port *ports, const struct vg_config *cfg, unsigned n_workers)
{
	for (unsigned k = 0; k < cfg->n_pairs; k++) {
		struct dp_port *pa = &ports[cfg->pairs[k].a], *pb = &ports[cfg->pairs[k].b];
		struct rte_eth_dev_info ia, ib;
		char why[sizeof(pa->steering_why) + 64];
		unsigned n = n_workers;
		int rc;

		rc = rte_eth_dev_info_get(pa->port_id, &ia);
		if (rc == 0)
			rc = rte_eth_dev_info_get(pb->port_id, &ib);
		if (rc != 0)
			return rc;
		if (n_workers <= 1) {
			steer(pa, pb, DP_STEER_SINGLE, 1, "1 worker");
			continue;
		}
		n = RTE_MIN(n, (unsigned)RTE_MIN(ia.max_rx_queues, ia.max_tx_queues));
		n = RTE_MIN(n, (unsigned)RTE_MIN(ib.max_rx_queues, ib.max_tx_queues));
		if (n <= 1) {
			const struct dp_port *one =
					RTE_MIN(ia.max_rx_queues, ia.max_tx_queues) <= 1 ? pa : pb;

			snprintf(why, sizeof(why), "port %s (%s) has 1 queue", one->cfg->name,
					one->driver);
			steer(pa, pb, DP_STEER_SOFTWARE, 1, why);
			continue;
		}
		/* Both ports must agree: a flow's two directions arrive one on each. */
		if (!probe_symmetric(pa, &ia, (uint16_t)n)) {
			snprintf(why, sizeof(why), "port %s: %s", pa->cfg->name, pa->steering_why);
			steer(pa, pb, DP_STEER_SOFTWARE, 1, why);
			continue;
		}
		if (!probe_symmetric(pb, &ib, (uint16_t)n)) {
			snprintf(why, sizeof(why), "port %s: %s", pb->cfg->name, pb->steering_why);
			steer(pa, pb, DP_STEER_SOFTWARE, 1, why);
			continue;
		}
		if (pa->rss_method != pb->rss_method ||
				(pa->rss_method == DP_RSS_FLOW &&
						strcmp(pa->driver, pb->driver) != 0)) {
			snprintf(why, sizeof(why),
					"ports %s (%s) and %s (%s) hash differently (%s and %s)",
					pa->cfg->name, pa->driver, pb->cfg->name, pb->driver,
					pa->rss_method == DP_RSS_KEY ? "key" : "rte_flow",
					pb->rss_method == DP_RSS_KEY ? "key" : "rte_flow");
			steer(pa, pb, DP_STEER_SOFTWARE, 1, why);
			continue;
		}
		/*
		 * The same hash must pick the same queue on both: dp_port_start() fills each
		 * redirection table with queue i mod n at entry i, and (h mod R1) mod n equals
		 * (h mod R2) mod n for every h only when R1 == R2 or n divides both.
		 */
		if (pa->rss_method == DP_RSS_KEY && ia.reta_size != ib.reta_size &&
				(ia.reta_size == 0 || ib.reta_size == 0 || ia.reta_size % n != 0 ||
						ib.reta_size % n != 0)) {
			snprintf(why, sizeof(why),
					"redirection tables of %u and %u entries do not map %u queues "
					"alike",
					ia.reta_size, ib.reta_size, n);
			steer(pa, pb, DP_STEER_SOFTWARE, 1, why);
			continue;
		}
		snprintf(why, sizeof(why), "%s, IP addresses",
				pa->rss_method == DP_RSS_KEY ? "symmetric Toeplitz key"
							     : "rte_flow symmetric Toeplitz");
		steer(pa, pb, DP_STEER_RSS, (uint16_t)n, why);
	}
	return 0;
}

/*
 * After start, for DP_STEER_RSS: the rte_flow rules (DP_RSS_FLOW), or the redirection table
 * with queue i mod n at entry i (DP_RSS_KEY), as dp_ports_plan_queues() assumed for both ports
 * of the pair. A driver without a writable table keeps its own, which the plan then assumes
 * to be filled the same way (the log says the table was not written).
 */
#define RETA_MAX 4096 /* the largest redirection table written (ice: 2048) */

static int
rss_steer(struct dp_port *p, const struct rte_eth_dev_info *info)
{
	struct rte_eth_rss_reta_entry64 reta[RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	char why[64];
	int rc;

	if (p->rss_method == DP_RSS_FLOW) {
		rc = rss_flows(p, p->n_queues, true, why, sizeof(why));
		if (rc != 0)
			DP_LOG(ERR,
					"port %s: rte_flow symmetric Toeplitz was validated but not "
					"created: %s; not starting with asymmetric RSS",
					p->cfg->name, why);
		return rc;
	}
	if (info->reta_size == 0 || info->reta_size > RETA_MAX)
		return 0;
	memset(reta, 0, sizeof(reta));
	for (unsigned i = 0; i < info->reta_size; i++) {
		reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ULL << (i % RTE_ETH_RETA_GROUP_SIZE);
		reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] =
				(uint16_t)(i % p->n_queues);
	}
	rc = rte_eth_dev_rss_reta_update(p->port_id, reta, info->reta_size);
	if (rc != 0)
		DP_LOG(INFO, "port %s: redirection table not written (%s); the driver's stays",
				p->cfg->name, strerror(-rc));
	return 0;
}

int
dp_port_start(struct dp_port *p, struct rte_mempool *pool, bool want_rx_timestamp)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_eth_txconf txconf;
	struct rte_eth_rxconf rxconf;
	uint8_t key[sizeof(dp_rss_symmetric_key)];
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

	if (p->steering == DP_STEER_RSS)
		rss_conf(&conf, &info, key, p->rss_method == DP_RSS_KEY ? info.hash_key_size : 0);
	if (want_rx_timestamp && (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP)) {
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
		p->rx_timestamp = true;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;

	/* Link-state-change interrupts where the device has them (docs/OPERATIONS.md, Link
	 * state); a driver that refuses them is configured again without, and polled. */
	p->lsc = false;
	snprintf(p->lsc_why, sizeof(p->lsc_why), "the driver has no link-state-change interrupts");
	if (info.dev_flags != NULL && (*info.dev_flags & RTE_ETH_DEV_INTR_LSC)) {
		conf.intr_conf.lsc = 1;
		rc = rte_eth_dev_configure(id, p->n_queues, p->n_queues, &conf);
		if (rc == 0) {
			p->lsc = true;
			p->lsc_why[0] = '\0';
		} else {
			DP_LOG(WARNING,
					"port %s: link-state-change interrupts refused (%s); its link "
					"is polled",
					p->cfg->name, strerror(-rc));
			snprintf(p->lsc_why, sizeof(p->lsc_why),
					"the driver refused link-state-change interrupts: %s",
					strerror(-rc));
			conf.intr_conf.lsc = 0;
		}
	}
	/* No fallback to RSS without the key: the two directions of a flow would part. */
	if (!p->lsc)
		rc = rte_eth_dev_configure(id, p->n_queues, p->n_queues, &conf);
	if (rc != 0) {
		DP_LOG(ERR, "port %s: configure with %u queue%s (steering %s) failed: %s",
				p->cfg->name, p->n_queues, p->n_queues > 1 ? "s" : "",
				dp_steering_name(p->steering), strerror(-rc));
		return rc;
	}
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
	if (p->steering == DP_STEER_RSS) {
		rc = rss_steer(p, &info);
		if (rc != 0)
			return rc;
	}
	DP_LOG(INFO,
			"port %s: %s (%s) ethdev %u, MAC " RTE_ETHER_ADDR_PRT_FMT
			", rx %u tx %u descriptors%s%s",
			p->cfg->name, p->cfg->device, p->driver, id, RTE_ETHER_ADDR_BYTES(&p->mac),
			nb_rxd, nb_txd, p->promiscuous ? ", promiscuous" : "",
			p->rx_timestamp ? ", RX timestamps" : "");
	DP_LOG(INFO, "port %s: link-state-change interrupts %s%s%s", p->cfg->name,
			p->lsc ? "on" : "off (", p->lsc ? "" : p->lsc_why, p->lsc ? "" : ")");
	DP_LOG(INFO, "port %s: %u queue%s, steering %s%s%s%s", p->cfg->name, p->n_queues,
			p->n_queues > 1 ? "s" : "", dp_steering_name(p->steering),
			p->steering == DP_STEER_RSS ? " (" : ": ", p->steering_why,
			p->steering == DP_STEER_RSS ? ")" : "");
	return 0;
}

void
dp_port_stop(struct dp_port *p)
{
	if (p->cfg == NULL)
		return;
	for (unsigned v = 0; v < RTE_DIM(p->rss_flow); v++) {
		if (p->rss_flow[v] != NULL)
			rte_flow_destroy(p->port_id, p->rss_flow[v], NULL);
		p->rss_flow[v] = NULL;
	}
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
