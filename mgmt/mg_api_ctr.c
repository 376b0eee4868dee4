/* SPDX-License-Identifier: BSD-3-Clause */
#include "ctl_ctr.h"
#include "mg_api_ctr.h"

static const char *const class_names[MG_SC__COUNT] = { "2xx", "3xx", "4xx", "5xx" };
static const char *const refused_names[MG_REFUSED__COUNT] = { "host", "origin" };

static const struct vg_ctr api_rows[] = {
	VG_CTR_ARRAY(struct mg_api_counters, requests, "requests", COUNTER, "requests", class_names,
			"code", .prom = "vigil_api_requests_total",
			.help = "API requests answered, by status class."),
	VG_CTR(struct mg_api_counters, auth_failures, "auth_failures", COUNTER, "requests",
			.prom = "vigil_api_auth_failures_total",
			.help = "API requests refused with 401 (no, malformed or unknown token)."),
	VG_CTR_ARRAY(struct mg_api_counters, refused, "refused", COUNTER, "requests", refused_names,
			"header", .prom = "vigil_api_refused_total",
			.help = "API requests refused for a Host this appliance does not answer to "
				"(421) or a write from another origin (403), by header."),
	VG_CTR(struct mg_api_counters, connections, "connections", GAUGE, "connections",
			.prom = "vigil_api_connections", .help = "Open API connections."),
};
const struct vg_ctr_set mg_api_ctr_set = VG_CTR_SET("api", struct mg_api_counters, api_rows);

json_t *
mg_api_ctr_json(const struct mg_api_counters *c)
{
	return ctl_ctr_with(json_object(), &mg_api_ctr_set, c);
}
