/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "ctl_report.h"

static json_t *
port_json(const struct dp *dp, unsigned i)
{
	const struct dp_port *p = dp_port(dp, i);
	struct dp_port_counters c;
	struct rte_eth_stats hw;

	dp_port_counters(dp, i, &c);
	memset(&hw, 0, sizeof(hw));
	rte_eth_stats_get(p->port_id, &hw);
	return json_pack("{s:s, s:s, s:s, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			"name", p->cfg->name, "device", p->cfg->device, "driver", p->driver,
			"ethdev", p->port_id, "queues", p->n_queues, "rx_packets",
			(json_int_t)c.rx_pkts, "rx_bytes", (json_int_t)c.rx_bytes, "tx_packets",
			(json_int_t)c.tx_pkts, "tx_bytes", (json_int_t)c.tx_bytes, "dropped",
			(json_int_t)c.dropped, "tx_full", (json_int_t)c.tx_full, "rx_missed",
			(json_int_t)hw.imissed, "rx_nombuf", (json_int_t)hw.rx_nombuf);
}

json_t *
ctl_report_json(const struct dp *dp)
{
	json_t *root = json_object();
	json_t *ports = json_array();
	json_t *workers = json_array();

	if (root == NULL || ports == NULL || workers == NULL)
		goto fail;
	for (unsigned i = 0; i < dp_n_ports(dp); i++)
		json_array_append_new(ports, port_json(dp, i));
	for (unsigned w = 0; w < dp_n_workers(dp); w++) {
		const struct dp_worker_counters *c = dp_worker_counters(dp, w);

		json_array_append_new(workers,
				json_pack("{s:i, s:i, s:I, s:I, s:I}", "id", w, "lcore",
						dp_worker_lcore(dp, w), "loops",
						(json_int_t)dp_read_u64(&c->loops), "busy_loops",
						(json_int_t)dp_read_u64(&c->busy_loops),
						"rx_bursts",
						(json_int_t)dp_read_u64(&c->rx_bursts)));
	}
	json_object_set_new(root, "version", json_string(VIGIL_VERSION));
	json_object_set_new(root, "ports", ports);
	json_object_set_new(root, "workers", workers);
	return root;
fail:
	json_decref(root);
	json_decref(ports);
	json_decref(workers);
	return NULL;
}

int
ctl_report_write(const struct dp *dp, const char *path)
{
	char tmp[4096];
	json_t *j = ctl_report_json(dp);
	int rc = 0;

	if (j == NULL)
		return -ENOMEM;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	if (json_dump_file(j, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) != 0)
		rc = -EIO;
	else if (rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0)
		unlink(tmp);
	json_decref(j);
	return rc;
}
