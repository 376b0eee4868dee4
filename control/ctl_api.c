/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_ethdev.h>

#include "ctl_api.h"
#include "ctl_report.h"
#include "dp_flow.h"

static uint64_t
wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static json_t *
link_json(uint16_t port_id)
{
	struct rte_eth_link link;

	memset(&link, 0, sizeof(link));
	if (rte_eth_link_get_nowait(port_id, &link) != 0)
		return json_pack("{s:b}", "up", 0);
	return json_pack("{s:b, s:I, s:s}", "up", link.link_status == RTE_ETH_LINK_UP, "speed_mbps",
			(json_int_t)link.link_speed, "duplex",
			link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full" : "half");
}

json_t *
ctl_api_status(struct ctl_ctx *ctx)
{
	json_t *r = ctl_report_json(ctx->dp, ctx->events);
	json_t *ports;
	size_t i;
	json_t *p;
	uint64_t max = (uint64_t)ctx->cfg->flows_max * dp_n_workers(ctx->dp);
	json_t *flows;

	if (r == NULL)
		return NULL;
	ports = json_object_get(r, "ports");
	json_array_foreach(ports, i, p)
	{
		const struct dp_port *dp_p = dp_port(ctx->dp, (unsigned)i);

		json_object_set_new(p, "link", link_json(dp_p->port_id));
		json_object_set_new(
				p, "peer", json_string(dp_port(ctx->dp, dp_p->peer)->cfg->name));
	}
	flows = json_object_get(r, "flows");
	if (flows != NULL) {
		json_int_t active = json_integer_value(json_object_get(flows, "active"));

		json_object_set_new(flows, "capacity", json_integer((json_int_t)max));
		json_object_set_new(
				flows, "fill", json_real(max ? (double)active / (double)max : 0));
	}
	json_object_set_new(r, "uptime_s",
			json_integer((json_int_t)((wall_ns() - ctx->start_ns) / 1000000000ULL)));
	json_object_set_new(r, "mode", json_string(ctl_api_mode(ctx)));
	return r;
}

bool
ctl_api_ready(struct ctl_ctx *ctx, char *why, size_t len)
{
	for (unsigned i = 0; i < dp_n_ports(ctx->dp); i++) {
		const struct dp_port *p = dp_port(ctx->dp, i);
		struct rte_eth_link link;

		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(p->port_id, &link) != 0 ||
				link.link_status != RTE_ETH_LINK_UP) {
			snprintf(why, len, "port %s has no link", p->cfg->name);
			return false;
		}
	}
	snprintf(why, len, "ports up");
	return true;
}

json_t *
ctl_api_metrics(struct ctl_ctx *ctx)
{
	return ctl_api_status(ctx);
}

const char *
ctl_api_mode(struct ctl_ctx *ctx)
{
	(void)ctx;
	return "enforce";
}
