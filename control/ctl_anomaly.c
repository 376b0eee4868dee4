/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_anomaly_impl.h"
#include "ctl_store.h"

/* The table: one row per detector, in enum ctl_anomaly_detector order. */
static const struct ctl_anomaly_ops *const detector_table[CTL_ANOMALY__COUNT] = {
	[CTL_ANOMALY_PORT_SCAN] = &ctl_anomaly_port_scan,
	[CTL_ANOMALY_SYN_FLOOD] = &ctl_anomaly_syn_flood,
	[CTL_ANOMALY_DNS_TUNNEL] = &ctl_anomaly_dns_tunnel,
	[CTL_ANOMALY_BRUTE_FORCE] = &ctl_anomaly_brute_force,
	[CTL_ANOMALY_EXFIL] = &ctl_anomaly_exfil,
	[CTL_ANOMALY_RATE] = &ctl_anomaly_rate,
	[CTL_ANOMALY_ICMP_TUNNEL] = &ctl_anomaly_icmp_tunnel,
};

static const char *const detector_names[CTL_ANOMALY__COUNT] = {
	"port_scan",
	"syn_flood",
	"dns_tunnel",
	"brute_force",
	"exfiltration",
	"rate",
	"icmp_tunnel",
};

const char *
ctl_anomaly_name(unsigned id)
{
	return id < CTL_ANOMALY__COUNT ? detector_names[id] : "?";
}

unsigned
ctl_anomaly_id(const struct ctl_anomaly_ops *ops)
{
	for (unsigned i = 0; i < CTL_ANOMALY__COUNT; i++)
		if (detector_table[i] == ops)
			return i;
	return CTL_ANOMALY__COUNT;
}

static const struct ctl_anomaly_common *
det_common(const struct ctl_anomaly_cfg *cfg, unsigned det)
{
	return (const void *)((const char *)cfg + detector_table[det]->cfg_off);
}

/* Config ------------------------------------------------------------------------------------ */

static void
add_net(struct ctl_net *nets, uint32_t *n, const char *text)
{
	struct ctl_net *net = &nets[(*n)++];
	char a[64];
	const char *slash = strchr(text, '/');

	memset(net, 0, sizeof(*net));
	snprintf(a, sizeof(a), "%.*s", (int)(slash - text), text);
	net->family = strchr(a, ':') ? 6 : 4;
	inet_pton(net->family == 6 ? AF_INET6 : AF_INET, a, net->addr);
	net->prefix = (uint8_t)atoi(slash + 1);
}

void
ctl_anomaly_defaults(struct ctl_anomaly_cfg *cfg)
{
	static const uint16_t auth_ports[] = { 22, 3389, 21, 23, 25, 110, 143, 445, 3306, 5432 };

	memset(cfg, 0, sizeof(*cfg));
	add_net(cfg->internal, &cfg->n_internal, "10.0.0.0/8");
	add_net(cfg->internal, &cfg->n_internal, "172.16.0.0/12");
	add_net(cfg->internal, &cfg->n_internal, "192.168.0.0/16");
	add_net(cfg->internal, &cfg->n_internal, "fc00::/7");
	cfg->max_entries = 65536;
	cfg->max_baselines = 65536;
	cfg->min_stddev_frac = 0.1;

	cfg->port_scan.c = (struct ctl_anomaly_common){ .enabled = true, .block_ttl_ms = 3600000 };
	cfg->port_scan.window_ms = 60000;
	cfg->port_scan.ports = 25;
	cfg->port_scan.hosts = 20;
	cfg->port_scan.probe_max_pkts = 3;
	cfg->port_scan.small_ports = 5;
	cfg->port_scan.long_window_ms = 3600000;

	cfg->syn_flood.c = (struct ctl_anomaly_common){ .enabled = true, .block_ttl_ms = 600000 };
	cfg->syn_flood.interval_ms = 1000;
	cfg->syn_flood.min_half_open = 200;
	cfg->syn_flood.min_rate = 100;
	cfg->syn_flood.sigma = 4;
	cfg->syn_flood.alpha = 0.02;
	cfg->syn_flood.warmup = 60;

	cfg->dns_tunnel.c = (struct ctl_anomaly_common){ .enabled = true, .block_ttl_ms = 3600000 };
	cfg->dns_tunnel.window_ms = 300000;
	cfg->dns_tunnel.max_name_len = 100;
	cfg->dns_tunnel.max_label_len = 40;
	cfg->dns_tunnel.entropy = 4.0;
	cfg->dns_tunnel.entropy_min_len = 20;
	cfg->dns_tunnel.suspicious_names = 20;
	cfg->dns_tunnel.unique_subdomains = 100;
	cfg->dns_tunnel.txt_queries = 50;
	cfg->dns_tunnel.tunnel_names = 30;
	cfg->dns_tunnel.long_window_ms = 3600000;
	cfg->dns_tunnel.long_tunnel_names = 60;
	cfg->dns_tunnel.encoded_min_len = 20;
	cfg->dns_tunnel.long_name_len = 60;
	snprintf(cfg->dns_tunnel.public_suffix_list, sizeof(cfg->dns_tunnel.public_suffix_list),
			"%s", "/usr/share/publicsuffix/public_suffix_list.dat");

	cfg->brute_force.c =
			(struct ctl_anomaly_common){ .enabled = true, .block_ttl_ms = 3600000 };
	cfg->brute_force.window_ms = 60000;
	cfg->brute_force.attempts = 20;
	cfg->brute_force.max_duration_ms = 30000;
	cfg->brute_force.max_pkts = 60;
	memcpy(cfg->brute_force.ports, auth_ports, sizeof(auth_ports));
	cfg->brute_force.n_ports = sizeof(auth_ports) / sizeof(auth_ports[0]);

	cfg->exfiltration.c =
			(struct ctl_anomaly_common){ .enabled = true, .block_ttl_ms = 3600000 };
	cfg->exfiltration.interval_ms = 300000;
	cfg->exfiltration.sigma = 5;
	cfg->exfiltration.alpha = 0.05;
	cfg->exfiltration.warmup = 24;
	cfg->exfiltration.min_bytes = 100ULL << 20;

	cfg->rate.c = (struct ctl_anomaly_common){ .enabled = true, .block_ttl_ms = 600000 };
	cfg->rate.interval_ms = 10000;
	cfg->rate.sigma = 5;
	cfg->rate.alpha = 0.02;
	cfg->rate.warmup = 60;
	cfg->rate.min_pps = 1000;
	cfg->rate.min_bps = 10ULL << 20;
	cfg->rate.hosts = true;
	cfg->rate.services = true;

	cfg->icmp_tunnel.c =
			(struct ctl_anomaly_common){ .enabled = true, .block_ttl_ms = 3600000 };
	cfg->icmp_tunnel.min_pkts = 30;
	cfg->icmp_tunnel.min_stddev = 16;
	cfg->icmp_tunnel.asymmetry = 1.5;
	cfg->icmp_tunnel.content = 0.5;
	cfg->icmp_tunnel.large = 256;
}

static int
parse_double(struct vg_yaml *y, yaml_node_t *v, const char *key, double lo, double hi, double *out)
{
	const char *s = vg_yaml_scalar(y, v, key);
	char *end;
	double d;

	if (s == NULL)
		return -EINVAL;
	errno = 0;
	d = strtod(s, &end);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(d) || d < lo || d > hi) {
		vg_yaml_err(y, v, "'%s': '%s' is not a number from %g to %g", key, s, lo, hi);
		return -EINVAL;
	}
	*out = d;
	return 0;
}

#define DOUBLE_FIELD(fn, type, member, lo, hi)                                       \
	static int fn(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj) \
	{                                                                            \
		return parse_double(y, v, key, lo, hi, &((type *)obj)->member);      \
	}

DOUBLE_FIELD(syn_sigma, struct ctl_synflood_cfg, sigma, 0.5, 1000)
DOUBLE_FIELD(syn_alpha, struct ctl_synflood_cfg, alpha, 0.0001, 1)
DOUBLE_FIELD(dns_entropy, struct ctl_dns_cfg, entropy, 0.5, 8)
DOUBLE_FIELD(exfil_sigma, struct ctl_exfil_cfg, sigma, 0.5, 1000)
DOUBLE_FIELD(exfil_alpha, struct ctl_exfil_cfg, alpha, 0.0001, 1)
DOUBLE_FIELD(rate_sigma, struct ctl_rate_cfg, sigma, 0.5, 1000)
DOUBLE_FIELD(rate_alpha, struct ctl_rate_cfg, alpha, 0.0001, 1)
DOUBLE_FIELD(icmp_min_sd, struct ctl_icmp_cfg, min_stddev, 0, 65535)
DOUBLE_FIELD(icmp_asym, struct ctl_icmp_cfg, asymmetry, 1.01, 1000)
DOUBLE_FIELD(icmp_content, struct ctl_icmp_cfg, content, 0.01, 1)
DOUBLE_FIELD(min_sd_frac, struct ctl_anomaly_cfg, min_stddev_frac, 0, 10)

static int
parse_nets(struct vg_yaml *y, yaml_node_t *v, const char *key, struct ctl_net *nets, uint32_t *n)
{
	int len;

	if (!vg_yaml_expect_seq(y, v, key))
		return -EINVAL;
	len = vg_yaml_seq_len(v);
	if (len > CTL_ANOMALY_MAX_NETS) {
		vg_yaml_err(y, v, "'%s': at most %d networks", key, CTL_ANOMALY_MAX_NETS);
		return -EINVAL;
	}
	*n = 0;
	for (int i = 0; i < len; i++) {
		yaml_node_t *it = vg_yaml_seq_item(y, v, i);
		const char *s = vg_yaml_scalar(y, it, key);
		const char *slash;
		char a[64], *end;
		struct ctl_net net;
		long p;

		if (s == NULL)
			continue;
		memset(&net, 0, sizeof(net));
		slash = strchr(s, '/');
		snprintf(a, sizeof(a), "%.*s", slash ? (int)(slash - s) : (int)strlen(s), s);
		net.family = strchr(a, ':') ? 6 : 4;
		p = slash ? strtol(slash + 1, &end, 10) : (net.family == 4 ? 32 : 128);
		if (inet_pton(net.family == 6 ? AF_INET6 : AF_INET, a, net.addr) != 1 ||
				(slash && (slash[1] == '\0' || *end != '\0')) || p < 0 ||
				p > (net.family == 4 ? 32 : 128)) {
			vg_yaml_err(y, it,
					"'%s': '%s' is not a network (an address, or address/prefix "
					"such as 10.0.0.0/8 or fd00::/8)",
					key, s);
			continue;
		}
		net.prefix = (uint8_t)p;
		nets[(*n)++] = net;
	}
	return 0;
}

static int
parse_internal(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct ctl_anomaly_cfg *cfg = obj;

	return parse_nets(y, v, key, cfg->internal, &cfg->n_internal);
}

static int
parse_never_block(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct ctl_anomaly_cfg *cfg = obj;

	return parse_nets(y, v, key, cfg->never_block, &cfg->n_never_block);
}

static int
parse_auth_ports(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct ctl_brute_cfg *c = obj;
	int len;

	if (!vg_yaml_expect_seq(y, v, key))
		return -EINVAL;
	len = vg_yaml_seq_len(v);
	if (len == 0 || len > CTL_ANOMALY_MAX_PORTS) {
		vg_yaml_err(y, v, "'%s': list 1 to %d ports", key, CTL_ANOMALY_MAX_PORTS);
		return -EINVAL;
	}
	c->n_ports = 0;
	for (int i = 0; i < len; i++) {
		uint64_t p;

		if (vg_yaml_u64(y, vg_yaml_seq_item(y, v, i), key, 1, 65535, &p) == 0)
			c->ports[c->n_ports++] = (uint16_t)p;
	}
	return 0;
}

#define COMMON_FIELDS                                                                  \
	{ .name = "enabled",                                                           \
		.type = VG_YT_BOOL,                                                    \
		.off = offsetof(struct ctl_anomaly_common, enabled) },                 \
			{ .name = "block",                                             \
				.type = VG_YT_BOOL,                                    \
				.off = offsetof(struct ctl_anomaly_common, block) },   \
	{                                                                              \
		.name = "block_ttl", .type = VG_YT_MS,                                 \
		.off = offsetof(struct ctl_anomaly_common, block_ttl_ms), .min = 1000, \
		.max = 30ULL * 24 * 3600 * 1000                                        \
	}

#define PS(f) offsetof(struct ctl_portscan_cfg, f)
static const struct vg_yaml_field portscan_fields[] = {
	COMMON_FIELDS,
	{ .name = "window",
			.type = VG_YT_MS,
			.off = PS(window_ms),
			.min = 1000,
			.max = 24 * 3600 * 1000 },
	{ .name = "ports", .type = VG_YT_U32, .off = PS(ports), .min = 2, .max = 65535 },
	{ .name = "hosts", .type = VG_YT_U32, .off = PS(hosts), .min = 2, .max = 1 << 24 },
	{ .name = "probe_max_packets",
			.type = VG_YT_U32,
			.off = PS(probe_max_pkts),
			.min = 1,
			.max = 100 },
	{ .name = "small_ports",
			.type = VG_YT_U32,
			.off = PS(small_ports),
			.min = 2,
			.max = 65535 },
	{ .name = "long_window",
			.type = VG_YT_MS,
			.off = PS(long_window_ms),
			.min = 1000,
			.max = 7 * 24 * 3600 * 1000ULL },
	{ 0 },
};

#define SF(f) offsetof(struct ctl_synflood_cfg, f)
static const struct vg_yaml_field synflood_fields[] = {
	COMMON_FIELDS,
	{ .name = "interval",
			.type = VG_YT_MS,
			.off = SF(interval_ms),
			.min = 100,
			.max = 3600 * 1000 },
	{ .name = "min_half_open", .type = VG_YT_U32, .off = SF(min_half_open), .min = 1 },
	{ .name = "min_rate", .type = VG_YT_U32, .off = SF(min_rate), .min = 1 },
	{ .name = "sigma", .type = VG_YT_CUSTOM, .parse = syn_sigma },
	{ .name = "alpha", .type = VG_YT_CUSTOM, .parse = syn_alpha },
	{ .name = "warmup", .type = VG_YT_U32, .off = SF(warmup), .min = 1, .max = 1000000 },
	{ 0 },
};

#define DN(f) offsetof(struct ctl_dns_cfg, f)
static const struct vg_yaml_field dns_fields[] = {
	COMMON_FIELDS,
	{ .name = "window",
			.type = VG_YT_MS,
			.off = DN(window_ms),
			.min = 1000,
			.max = 24 * 3600 * 1000 },
	{ .name = "max_name_length",
			.type = VG_YT_U32,
			.off = DN(max_name_len),
			.min = 10,
			.max = 255 },
	{ .name = "max_label_length",
			.type = VG_YT_U32,
			.off = DN(max_label_len),
			.min = 5,
			.max = 63 },
	{ .name = "entropy", .type = VG_YT_CUSTOM, .parse = dns_entropy },
	{ .name = "entropy_min_length",
			.type = VG_YT_U32,
			.off = DN(entropy_min_len),
			.min = 4,
			.max = 255 },
	{ .name = "suspicious_names", .type = VG_YT_U32, .off = DN(suspicious_names), .min = 1 },
	{ .name = "unique_subdomains", .type = VG_YT_U32, .off = DN(unique_subdomains), .min = 2 },
	{ .name = "txt_queries", .type = VG_YT_U32, .off = DN(txt_queries), .min = 1 },
	{ .name = "tunnel_names", .type = VG_YT_U32, .off = DN(tunnel_names), .min = 2 },
	{ .name = "long_window",
			.type = VG_YT_MS,
			.off = DN(long_window_ms),
			.min = 1000,
			.max = 7 * 24 * 3600 * 1000ULL },
	{ .name = "long_tunnel_names", .type = VG_YT_U32, .off = DN(long_tunnel_names), .min = 2 },
	{ .name = "encoded_min_length",
			.type = VG_YT_U32,
			.off = DN(encoded_min_len),
			.min = 8,
			.max = 255 },
	{ .name = "long_name_length",
			.type = VG_YT_U32,
			.off = DN(long_name_len),
			.min = 16,
			.max = 255 },
	{ .name = "public_suffix_list",
			.type = VG_YT_STRBUF,
			.off = DN(public_suffix_list),
			.min = 1,
			.max = 256 },
	{ 0 },
};

#define BF(f) offsetof(struct ctl_brute_cfg, f)
static const struct vg_yaml_field brute_fields[] = {
	COMMON_FIELDS,
	{ .name = "window",
			.type = VG_YT_MS,
			.off = BF(window_ms),
			.min = 1000,
			.max = 24 * 3600 * 1000 },
	{ .name = "attempts", .type = VG_YT_U32, .off = BF(attempts), .min = 2 },
	{ .name = "max_duration",
			.type = VG_YT_MS,
			.off = BF(max_duration_ms),
			.min = 1,
			.max = 3600 * 1000 },
	{ .name = "max_packets", .type = VG_YT_U32, .off = BF(max_pkts), .min = 1 },
	{ .name = "ports", .type = VG_YT_CUSTOM, .parse = parse_auth_ports },
	{ 0 },
};

#define EX(f) offsetof(struct ctl_exfil_cfg, f)
static const struct vg_yaml_field exfil_fields[] = {
	COMMON_FIELDS,
	{ .name = "interval",
			.type = VG_YT_MS,
			.off = EX(interval_ms),
			.min = 1000,
			.max = 24 * 3600 * 1000 },
	{ .name = "sigma", .type = VG_YT_CUSTOM, .parse = exfil_sigma },
	{ .name = "alpha", .type = VG_YT_CUSTOM, .parse = exfil_alpha },
	{ .name = "warmup", .type = VG_YT_U32, .off = EX(warmup), .min = 1, .max = 1000000 },
	{ .name = "min_bytes", .type = VG_YT_SIZE64, .off = EX(min_bytes) },
	{ 0 },
};

#define RT(f) offsetof(struct ctl_rate_cfg, f)
static const struct vg_yaml_field rate_fields[] = {
	COMMON_FIELDS,
	{ .name = "interval",
			.type = VG_YT_MS,
			.off = RT(interval_ms),
			.min = 1000,
			.max = 24 * 3600 * 1000 },
	{ .name = "sigma", .type = VG_YT_CUSTOM, .parse = rate_sigma },
	{ .name = "alpha", .type = VG_YT_CUSTOM, .parse = rate_alpha },
	{ .name = "warmup", .type = VG_YT_U32, .off = RT(warmup), .min = 1, .max = 1000000 },
	{ .name = "min_pps", .type = VG_YT_U64, .off = RT(min_pps) },
	{ .name = "min_bps", .type = VG_YT_SIZE64, .off = RT(min_bps) },
	{ .name = "hosts", .type = VG_YT_BOOL, .off = RT(hosts) },
	{ .name = "services", .type = VG_YT_BOOL, .off = RT(services) },
	{ 0 },
};

#define IC(f) offsetof(struct ctl_icmp_cfg, f)
static const struct vg_yaml_field icmp_fields[] = {
	COMMON_FIELDS,
	{ .name = "min_packets", .type = VG_YT_U32, .off = IC(min_pkts), .min = 2 },
	{ .name = "min_stddev", .type = VG_YT_CUSTOM, .parse = icmp_min_sd },
	{ .name = "asymmetry", .type = VG_YT_CUSTOM, .parse = icmp_asym },
	{ .name = "content", .type = VG_YT_CUSTOM, .parse = icmp_content },
	{ .name = "large", .type = VG_YT_U32, .off = IC(large), .min = 1, .max = 65535 },
	{ 0 },
};

#define SECTION(fn, member, fields, what)                                                         \
	static int fn(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)              \
	{                                                                                         \
		if (!vg_yaml_expect_map(y, v, key))                                               \
			return -EINVAL;                                                           \
		return vg_yaml_map(y, v, what, fields, &((struct ctl_anomaly_cfg *)obj)->member); \
	}

SECTION(parse_port_scan, port_scan, portscan_fields, "detectors.port_scan")
SECTION(parse_syn_flood, syn_flood, synflood_fields, "detectors.syn_flood")
SECTION(parse_dns_tunnel, dns_tunnel, dns_fields, "detectors.dns_tunnel")
SECTION(parse_brute_force, brute_force, brute_fields, "detectors.brute_force")
SECTION(parse_exfil, exfiltration, exfil_fields, "detectors.exfiltration")
SECTION(parse_rate, rate, rate_fields, "detectors.rate")
SECTION(parse_icmp, icmp_tunnel, icmp_fields, "detectors.icmp_tunnel")

#define DC(f) offsetof(struct ctl_anomaly_cfg, f)
const struct vg_yaml_field ctl_anomaly_yaml_fields[] = {
	{ .name = "internal", .type = VG_YT_CUSTOM, .parse = parse_internal },
	{ .name = "never_block", .type = VG_YT_CUSTOM, .parse = parse_never_block },
	{ .name = "max_entries",
			.type = VG_YT_SIZE32,
			.off = DC(max_entries),
			.min = 64,
			.max = 1 << 24 },
	{ .name = "max_baselines",
			.type = VG_YT_SIZE32,
			.off = DC(max_baselines),
			.min = 64,
			.max = 1 << 24 },
	{ .name = "min_stddev_fraction", .type = VG_YT_CUSTOM, .parse = min_sd_frac },
	{ .name = "port_scan", .type = VG_YT_CUSTOM, .parse = parse_port_scan },
	{ .name = "syn_flood", .type = VG_YT_CUSTOM, .parse = parse_syn_flood },
	{ .name = "dns_tunnel", .type = VG_YT_CUSTOM, .parse = parse_dns_tunnel },
	{ .name = "brute_force", .type = VG_YT_CUSTOM, .parse = parse_brute_force },
	{ .name = "exfiltration", .type = VG_YT_CUSTOM, .parse = parse_exfil },
	{ .name = "rate", .type = VG_YT_CUSTOM, .parse = parse_rate },
	{ .name = "icmp_tunnel", .type = VG_YT_CUSTOM, .parse = parse_icmp },
	{ 0 },
};

int
ctl_anomaly_yaml_parse(struct vg_yaml *y, yaml_node_t *n, struct ctl_anomaly_cfg *cfg)
{
	if (!vg_yaml_expect_map(y, n, "detectors"))
		return -EINVAL;
	return vg_yaml_map(y, n, "detectors", ctl_anomaly_yaml_fields, cfg);
}

bool
ctl_net_contains(const struct ctl_net *nets, unsigned n, uint8_t family, const uint8_t *addr)
{
	for (unsigned i = 0; i < n; i++) {
		const struct ctl_net *net = &nets[i];
		unsigned full = net->prefix / 8, rest = net->prefix % 8;

		if (net->family != family)
			continue;
		if (memcmp(net->addr, addr, full) != 0)
			continue;
		if (rest && ((net->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest))) != 0)
			continue;
		return true;
	}
	return false;
}

/* Framework --------------------------------------------------------------------------------- */

struct flow_key {
	uint32_t flow_id;
	uint8_t worker;
	uint8_t pad[3];
};

struct flow_val {
	uint64_t pkts[2];
	uint64_t bytes[2];
};

struct ctl_anomaly *
ctl_anomaly_create(const struct ctl_anomaly_cfg *cfg, ctl_alert_cb cb, void *arg)
{
	struct ctl_anomaly *d = calloc(1, sizeof(*d));
	int rc = 0;

	if (d == NULL)
		return NULL;
	d->cfg = *cfg;
	d->cb = cb;
	d->arg = arg;
	if (d->cfg.max_entries < 64)
		d->cfg.max_entries = 64;
	d->bl = ctl_baselines_create(cfg->max_baselines ? cfg->max_baselines : 64, detector_names,
			CTL_ANOMALY__COUNT);
	d->flows = ctl_map_create("dflows", sizeof(struct flow_key), sizeof(struct flow_val),
			d->cfg.max_entries * 4);
	if (d->bl == NULL || d->flows == NULL) {
		rc = -(errno ? errno : ENOMEM);
		goto fail;
	}
	for (unsigned i = 0; i < CTL_ANOMALY__COUNT; i++) {
		if (!det_common(&d->cfg, i)->enabled)
			continue;
		rc = detector_table[i]->create(d, &d->priv[i]);
		if (rc != 0)
			goto fail;
	}
	return d;
fail:
	ctl_anomaly_free(d);
	errno = -rc;
	return NULL;
}

void
ctl_anomaly_free(struct ctl_anomaly *d)
{
	if (d == NULL)
		return;
	for (unsigned i = CTL_ANOMALY__COUNT; i-- > 0;)
		if (d->priv[i] != NULL)
			detector_table[i]->free(d->priv[i]);
	ctl_baselines_free(d->bl);
	ctl_map_free(d->flows);
	free(d);
}

/* What the flow added since its previous event (all of it when we never saw it before). */
static void
flow_delta(struct ctl_anomaly *d, const struct dp_event *ev, struct ctl_flow_delta *dl)
{
	struct flow_key k = { .flow_id = ev->flow.flow_id, .worker = ev->worker };
	struct flow_val *v;
	bool added;

	if (ev->type == DP_EV_FLOW_END)
		v = ctl_map_find(d->flows, &k);
	else
		v = ctl_map_get(d->flows, &k, &added);
	if (v != NULL && ev->type == DP_EV_FLOW_START)
		memset(v, 0, sizeof(*v));
	if (v == NULL && ev->type != DP_EV_FLOW_END)
		d->c.flows_untracked++;
	for (int i = 0; i < 2; i++) {
		uint64_t p = ev->flow.pkts[i], b = ev->flow.bytes[i];

		dl->pkts[i] = v != NULL && p >= v->pkts[i] ? p - v->pkts[i] : p;
		dl->bytes[i] = v != NULL && b >= v->bytes[i] ? b - v->bytes[i] : b;
		if (v != NULL) {
			v->pkts[i] = p;
			v->bytes[i] = b;
		}
	}
	if (v != NULL && ev->type == DP_EV_FLOW_END)
		ctl_map_del(d->flows, &k);
}

void
ctl_anomaly_on_event(struct ctl_anomaly *d, const struct dp_event *ev)
{
	struct ctl_flow_delta dl;

	if (ev->type != DP_EV_FLOW_START && ev->type != DP_EV_FLOW_UPDATE &&
			ev->type != DP_EV_FLOW_END)
		return;
	if (ev->flow.family != 4 && ev->flow.family != 6)
		return;
	d->c.events++;
	if (ev->time_ns > d->clock_ns)
		d->clock_ns = ev->time_ns;
	flow_delta(d, ev, &dl);
	for (unsigned i = 0; i < CTL_ANOMALY__COUNT; i++)
		if (d->priv[i] != NULL)
			detector_table[i]->on_flow(d->priv[i], ev, &dl);
}

void
ctl_anomaly_on_tick(struct ctl_anomaly *d, uint64_t now_ns)
{
	if (now_ns > d->clock_ns)
		d->clock_ns = now_ns;
	for (unsigned i = 0; i < CTL_ANOMALY__COUNT; i++)
		if (d->priv[i] != NULL && detector_table[i]->on_tick != NULL)
			detector_table[i]->on_tick(d->priv[i], d->clock_ns);
}

void
ctl_anomaly_close_intervals(struct ctl_anomaly *d, uint64_t now_ns)
{
	const uint64_t ms = 1000000;
	/* The detectors that judge fixed intervals; the others judge as events arrive. */
	const uint64_t interval[CTL_ANOMALY__COUNT] = {
		[CTL_ANOMALY_SYN_FLOOD] = d->cfg.syn_flood.interval_ms * ms,
		[CTL_ANOMALY_EXFIL] = d->cfg.exfiltration.interval_ms * ms,
		[CTL_ANOMALY_RATE] = d->cfg.rate.interval_ms * ms,
	};

	if (now_ns > d->clock_ns)
		d->clock_ns = now_ns;
	for (unsigned i = 0; i < CTL_ANOMALY__COUNT; i++)
		if (d->priv[i] != NULL && interval[i] > 0 && detector_table[i]->on_tick != NULL)
			detector_table[i]->on_tick(d->priv[i], d->clock_ns + interval[i]);
}

void
ctl_anomaly_emit(struct ctl_anomaly *d, unsigned det, struct ctl_alert *a)
{
	const struct ctl_anomaly_common *c = det_common(&d->cfg, det);
	const struct dp_event_flow *f = &a->flow;

	a->block_ttl_ms = 0;
	/* A low finding (a small scan, one long name) is a hint, never a reason to block. */
	if (c->block && a->severity > CTL_SEV_LOW && (f->family == 4 || f->family == 6) &&
			memcmp(f->src, (uint8_t[16]){ 0 }, 16) != 0 &&
			!ctl_net_contains(d->cfg.never_block, d->cfg.n_never_block, f->family,
					f->src))
		a->block_ttl_ms = c->block_ttl_ms;
	if (a->count == 0)
		a->count = 1;
	if (a->first_ns == 0)
		a->first_ns = a->last_ns;
	ctl_alert_explain(a);
	d->c.alerts[det]++;
	if (d->cb != NULL)
		d->cb(a, d->arg);
}

void
ctl_anomaly_judge(const struct ctl_anomaly *d, const struct ctl_baseline *b, double x,
		uint32_t warmup, double min_sd, struct ctl_judgement *j)
{
	memset(j, 0, sizeof(*j));
	if (b == NULL)
		return;
	j->ready = ctl_ewma_ready(&b->e, warmup);
	j->mean = b->e.mean;
	j->sd = ctl_ewma_judge_stddev(&b->e, d->cfg.min_stddev_frac, min_sd);
	j->sigma = j->sd > 0 ? (x - j->mean) / j->sd : 0;
}

void
ctl_anomaly_learn(struct ctl_anomaly *d, struct ctl_baseline *b, double x, double alpha,
		double sigma, uint32_t warmup, double min_sd, uint64_t now_ns)
{
	if (b == NULL)
		return;
	if (ctl_ewma_ready(&b->e, warmup)) {
		double cap = b->e.mean +
			     sigma * ctl_ewma_judge_stddev(&b->e, d->cfg.min_stddev_frac, min_sd);

		if (x > cap)
			x = cap;
	}
	ctl_baseline_add(b, x, alpha, now_ns);
}

void
ctl_anomaly_gc(struct ctl_map *m, size_t key_len, size_t last_off, uint64_t cutoff)
{
	uint8_t keys[64][64];
	unsigned n;

	if (key_len > sizeof(keys[0]))
		return;
	/* Deleting while walking may skip entries: collect a batch, delete, walk again. */
	do {
		uint32_t it = 0;
		const void *k;
		void *v;

		n = 0;
		while (n < 64 && ctl_map_next(m, &it, &k, &v)) {
			uint64_t last;

			memcpy(&last, (const uint8_t *)v + last_off, sizeof(last));
			if (last < cutoff)
				memcpy(keys[n++], k, key_len);
		}
		for (unsigned i = 0; i < n; i++)
			ctl_map_del(m, keys[i]);
	} while (n == 64);
}

int
ctl_anomaly_save_baselines(struct ctl_anomaly *d, struct ctl_store *s)
{
	return ctl_baselines_save(d->bl, s);
}

int
ctl_anomaly_load_baselines(struct ctl_anomaly *d, struct ctl_store *s)
{
	return ctl_baselines_load(d->bl, s);
}

void
ctl_anomaly_counters(const struct ctl_anomaly *d, struct ctl_anomaly_counters *c)
{
	*c = d->c;
	for (unsigned i = 0; i < CTL_ANOMALY__COUNT; i++)
		c->entries[i] = d->priv[i] != NULL && detector_table[i]->entries != NULL
						? detector_table[i]->entries(d->priv[i])
						: 0;
	c->baselines = ctl_baselines_count(d->bl);
}

unsigned
ctl_anomaly_n_templates(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < CTL_ANOMALY__COUNT; i++)
		n += detector_table[i]->n_templates;
	return n;
}

const struct ctl_alert_template *
ctl_anomaly_template(unsigned idx)
{
	for (unsigned i = 0; i < CTL_ANOMALY__COUNT; i++) {
		if (idx < detector_table[i]->n_templates)
			return &detector_table[i]->templates[idx];
		idx -= detector_table[i]->n_templates;
	}
	return NULL;
}
