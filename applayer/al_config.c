/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "al_config.h"

#define LIM(f) (offsetof(struct al_config, lim) + offsetof(struct al_limits, f))

void
al_config_init(struct al_config *c)
{
	memset(c, 0, sizeof(*c));
	c->enabled = true;
	al_limits_default(&c->lim);
}

static const struct vg_yaml_field http_fields[] = {
	{ .name = "header_max",
			.type = VG_YT_SIZE32,
			.off = LIM(http_header_max),
			.min = 1024,
			.max = 1u << 20 },
	{ .name = "request_body",
			.type = VG_YT_SIZE32,
			.off = LIM(http_req_body),
			.min = 0,
			.max = 16u << 20 },
	{ .name = "response_body",
			.type = VG_YT_SIZE32,
			.off = LIM(http_resp_body),
			.min = 0,
			.max = 16u << 20 },
	{ .name = "inflate_max",
			.type = VG_YT_SIZE32,
			.off = LIM(http_inflate_max),
			.min = 0,
			.max = 64u << 20 },
	{ .name = "inflate_ratio",
			.type = VG_YT_U32,
			.off = LIM(http_inflate_ratio),
			.min = 1,
			.max = 1u << 20 },
	{ .name = "max_transactions",
			.type = VG_YT_U32,
			.off = LIM(http_max_tx),
			.min = 1,
			.max = 4096 },
	{ 0 },
};

static const struct vg_yaml_field dns_fields[] = {
	{ .name = "max_transactions",
			.type = VG_YT_U32,
			.off = LIM(dns_max_tx),
			.min = 1,
			.max = 4096 },
	{ .name = "max_names",
			.type = VG_YT_U32,
			.off = LIM(dns_max_names),
			.min = 1,
			.max = 1024 },
	{ 0 },
};

static const struct vg_yaml_field tls_fields[] = {
	{ .name = "max_record",
			.type = VG_YT_SIZE32,
			.off = LIM(tls_max_record),
			.min = 1024,
			.max = 16u << 20 },
	{ 0 },
};

static int
parse_sub(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj,
		const struct vg_yaml_field *fields)
{
	char what[32];

	snprintf(what, sizeof(what), "applayer.%s", key);
	return vg_yaml_map(y, v, what, fields, obj);
}

static int
parse_http(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	return parse_sub(y, v, key, obj, http_fields);
}

static int
parse_dns(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	return parse_sub(y, v, key, obj, dns_fields);
}

static int
parse_tls(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	return parse_sub(y, v, key, obj, tls_fields);
}

static const struct vg_yaml_field fields[] = {
	{ .name = "enabled", .type = VG_YT_BOOL, .off = offsetof(struct al_config, enabled) },
	{ .name = "memcap",
			.type = VG_YT_SIZE64,
			.off = LIM(memcap),
			.min = 1u << 20,
			.max = 64ULL << 30 },
	{ .name = "max_flows",
			.type = VG_YT_SIZE32,
			.off = LIM(max_flows),
			.min = 1,
			.max = 1u << 26 },
	{ .name = "detect_bytes",
			.type = VG_YT_SIZE32,
			.off = LIM(detect_bytes),
			.min = 16,
			.max = 64u << 10 },
	{ .name = "line_max",
			.type = VG_YT_SIZE32,
			.off = LIM(line_max),
			.min = 128,
			.max = 1u << 20 },
	{ .name = "http", .type = VG_YT_CUSTOM, .parse = parse_http },
	{ .name = "dns", .type = VG_YT_CUSTOM, .parse = parse_dns },
	{ .name = "tls", .type = VG_YT_CUSTOM, .parse = parse_tls },
	{ 0 },
};

int
al_config_parse(struct vg_yaml *y, yaml_node_t *n, void *obj)
{
	return vg_yaml_map(y, n, "applayer", fields, obj) != 0 ? -EINVAL : 0;
}
