/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "vg_config.h"
#include "vg_yaml.h"

#define CFG_OFF(f)  offsetof(struct vg_config, f)
#define PORT_OFF(f) offsetof(struct vg_port_config, f)

static const char *const hugepage_names[] = { "auto", "on", "off", NULL };
static const char *const clock_names[] = { "tsc", "packet", NULL };
static const char *const overflow_names[] = { "closed", "open", NULL };

const char *const vg_exc_cond_names[VG_EXC__COUNT + 1] = {
	[VG_EXC_FLOW_TABLE_FULL] = "flow_table_full",
	[VG_EXC_MIDSTREAM] = "midstream",
	[VG_EXC_STREAM_MEMCAP] = "stream_memcap",
	[VG_EXC_APP_LAYER_MEMCAP] = "app_layer_memcap",
	[VG_EXC_STREAM_DEPTH] = "stream_depth",
	[VG_EXC_PACKET_BUDGET] = "packet_budget",
	[VG_EXC_EVENT_RING_FULL] = "event_ring_full",
	[VG_EXC_SIGS_LOADING] = "signatures_loading",
	NULL,
};

const char *const vg_exc_action_names[VG_EXC_ACT__COUNT + 1] = {
	[VG_EXC_PASS] = "pass",
	[VG_EXC_BYPASS] = "bypass",
	[VG_EXC_DROP_PACKET] = "drop-packet",
	[VG_EXC_DROP_FLOW] = "drop-flow",
	[VG_EXC_REJECT] = "reject",
	NULL,
};
static const char *const orphan_names[] = { "drop", "forward", NULL };
static const char *const log_level_names[] = { "emerg", "alert", "crit", "error", "warning",
	"notice", "info", "debug", NULL };

/* EAL options that the config owns; passing them in eal.args would contradict it. */
static const struct {
	const char *opt;
	const char *instead;
} owned_eal_opts[] = {
	{ "-l", "lcores.control and lcores.workers" },
	{ "-c", "lcores.control and lcores.workers" },
	{ "--lcores", "lcores.control and lcores.workers" },
	{ "--main-lcore", "lcores.control" },
	{ "--file-prefix", "eal.file_prefix" },
	{ "--no-huge", "eal.hugepages: off" },
	{ "--vdev", "a ports entry with the vdev string as its device" },
	{ "-a", "a ports entry with the PCI address as its device" },
	{ "--allow", "a ports entry with the PCI address as its device" },
};

const char *
vg_log_level_name(enum vg_log_level l)
{
	if ((unsigned)l >= sizeof(log_level_names) / sizeof(log_level_names[0]) - 1)
		return "?";
	return log_level_names[l];
}

void
vg_config_defaults(struct vg_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->file_prefix, "vigil");
	cfg->hugepages = VG_HUGE_AUTO;
	cfg->no_huge_mem_mb = 1024;
	cfg->control_lcore = 0;
	cfg->workers[0] = 1;
	cfg->n_workers = 1;
	cfg->mbufs = 0;
	cfg->mbuf_cache = 256;
	cfg->mbuf_data_room = 2048 + 128; /* RTE_MBUF_DEFAULT_BUF_SIZE */
	cfg->burst = 32;
	cfg->tx_drain_us = 100;
	cfg->idle_sleep_us = 0;
	cfg->clock = VG_CLOCK_TSC;
	cfg->clock_unit_ns = 1000; /* net_pcap gives microseconds */
	cfg->parse_ipv4_checksum = true;
	cfg->flows_max = 256 * 1024;
	cfg->flows_overflow_open = false;
	memset(cfg->exc_set, -1, sizeof(cfg->exc_set));
	cfg->exc_default = -1;
	cfg->flows_evict = true;
	cfg->flows_midstream = true;
	cfg->flows_tcp_strict = false;
	cfg->flows_aging_batch = 8;
	cfg->flows_update_ms = 60 * 1000;
	cfg->timeouts = (struct vg_flow_timeouts){
		.tcp_syn = 30 * 1000,
		.tcp_established = 3600 * 1000,
		.tcp_closing = 120 * 1000,
		.tcp_time_wait = 10 * 1000,
		.tcp_closed = 10 * 1000,
		.udp = 60 * 1000,
		.icmp = 30 * 1000,
		.other = 60 * 1000,
	};
	cfg->inspect_all = false;
	cfg->inspect_max_flows = 16384;
	cfg->reject_rate = 1000;
	cfg->rate_sources = 65536;
	cfg->policy_max_size = 1u << 20;
	cfg->policy_max_depth = 64;
	cfg->dry_run = false;
	cfg->bpf_jit = true;
	cfg->frag_max = 4096;
	cfg->frag_timeout_ms = 10 * 1000;
	cfg->frag_orphan_forward = false;
	cfg->event_ring_size = 16384;
	cfg->command_ring_size = 256;
	cfg->log_level = VG_LOG_INFO;
	cfg->stats_interval_ms = 0;
}

void
vg_config_free(struct vg_config *cfg)
{
	if (cfg == NULL)
		return;
	for (unsigned i = 0; i < cfg->n_eal_args; i++)
		free(cfg->eal_args[i]);
	for (unsigned i = 0; i < cfg->n_parse_forward; i++)
		free(cfg->parse_forward[i]);
	free(cfg->policy_file);
	free(cfg->file);
	vg_config_defaults(cfg);
}

int
vg_config_port_index(const struct vg_config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->n_ports; i++)
		if (strcmp(cfg->ports[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
vg_config_peer(const struct vg_config *cfg, unsigned port)
{
	for (unsigned i = 0; i < cfg->n_pairs; i++) {
		if (cfg->pairs[i].a == port)
			return cfg->pairs[i].b;
		if (cfg->pairs[i].b == port)
			return cfg->pairs[i].a;
	}
	return -1;
}

/* Loading context: the config, and nodes whose meaning depends on other sections. */
struct load_ctx {
	struct vg_config cfg; /* must stay first: field offsets are relative to it */
	yaml_node_t *pairs;
	const struct vg_config_section *sections;
	unsigned n_sections;
};

static bool
is_power_of_2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static int
parse_eal_args(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct vg_config *cfg = obj;
	int n;

	if (!vg_yaml_expect_seq(y, v, key))
		return -EINVAL;
	n = vg_yaml_seq_len(v);
	if (n > VG_MAX_EAL_ARGS) {
		vg_yaml_err(y, v, "'%s': at most %d arguments", key, VG_MAX_EAL_ARGS);
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		yaml_node_t *it = vg_yaml_seq_item(y, v, i);
		const char *s = vg_yaml_scalar(y, it, key);

		if (s == NULL)
			continue;
		for (size_t j = 0; j < sizeof(owned_eal_opts) / sizeof(owned_eal_opts[0]); j++) {
			size_t l = strlen(owned_eal_opts[j].opt);

			if (strncmp(s, owned_eal_opts[j].opt, l) == 0 &&
					(s[l] == '\0' || s[l] == '=' || (l == 2 && s[l] != '-'))) {
				vg_yaml_err(y, it,
						"'%s': '%s' is set by the config; use %s instead",
						key, s, owned_eal_opts[j].instead);
				s = NULL;
				break;
			}
		}
		if (s == NULL)
			continue;
		cfg->eal_args[cfg->n_eal_args] = strdup(s);
		if (cfg->eal_args[cfg->n_eal_args] == NULL)
			return -ENOMEM;
		cfg->n_eal_args++;
	}
	return 0;
}

static int
parse_no_huge_mem(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct vg_config *cfg = obj;
	uint64_t bytes;

	if (vg_yaml_size(y, v, key, 64ULL << 20, 1ULL << 40, &bytes) != 0)
		return -EINVAL;
	cfg->no_huge_mem_mb = (uint32_t)(bytes >> 20);
	return 0;
}

static bool
valid_file_prefix(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	return true;
}

static int
parse_file_prefix(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct vg_config *cfg = obj;
	const char *s = vg_yaml_scalar(y, v, key);

	if (s == NULL)
		return -EINVAL;
	if (s[0] == '\0' || strlen(s) >= sizeof(cfg->file_prefix) || !valid_file_prefix(s)) {
		vg_yaml_err(y, v,
				"'%s': '%s' is not a usable prefix (1 to %zu letters, digits, '-', "
				"'_' or '.')",
				key, s, sizeof(cfg->file_prefix) - 1);
		return -EINVAL;
	}
	strcpy(cfg->file_prefix, s);
	return 0;
}

static const struct vg_yaml_field eal_fields[] = {
	{ .name = "args", .type = VG_YT_CUSTOM, .parse = parse_eal_args },
	{ .name = "file_prefix", .type = VG_YT_CUSTOM, .parse = parse_file_prefix },
	{ .name = "hugepages",
			.type = VG_YT_ENUM,
			.off = CFG_OFF(hugepages),
			.names = hugepage_names },
	{ .name = "no_huge_memory", .type = VG_YT_CUSTOM, .parse = parse_no_huge_mem },
	{ 0 },
};

static int
parse_workers(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct vg_config *cfg = obj;
	int n;

	if (!vg_yaml_expect_seq(y, v, key))
		return -EINVAL;
	n = vg_yaml_seq_len(v);
	if (n == 0 || n > VG_MAX_WORKERS) {
		vg_yaml_err(y, v, "'%s': list 1 to %d worker lcores", key, VG_MAX_WORKERS);
		return -EINVAL;
	}
	cfg->n_workers = 0;
	for (int i = 0; i < n; i++) {
		yaml_node_t *it = vg_yaml_seq_item(y, v, i);
		uint64_t id;

		if (vg_yaml_u64(y, it, key, 0, 1023, &id) != 0)
			continue;
		for (unsigned j = 0; j < cfg->n_workers; j++)
			if (cfg->workers[j] == id) {
				vg_yaml_err(y, it, "'%s': lcore %u is listed twice", key,
						(unsigned)id);
				id = UINT64_MAX;
				break;
			}
		if (id != UINT64_MAX)
			cfg->workers[cfg->n_workers++] = (uint32_t)id;
	}
	return 0;
}

static int
parse_cpus(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct vg_config *cfg = obj;
	int n;

	if (!vg_yaml_expect_seq(y, v, key))
		return -EINVAL;
	n = vg_yaml_seq_len(v);
	if (n == 0 || n > VG_MAX_WORKERS + 1) {
		vg_yaml_err(y, v, "'%s': list 1 to %d CPUs", key, VG_MAX_WORKERS + 1);
		return -EINVAL;
	}
	cfg->n_lcore_cpus = 0;
	for (int i = 0; i < n; i++) {
		uint64_t cpu;

		if (vg_yaml_u64(y, vg_yaml_seq_item(y, v, i), key, 0, 1023, &cpu) == 0)
			cfg->lcore_cpus[cfg->n_lcore_cpus++] = (uint32_t)cpu;
	}
	return 0;
}

static const struct vg_yaml_field lcore_fields[] = {
	{ .name = "control", .type = VG_YT_U32, .off = CFG_OFF(control_lcore), .max = 1023 },
	{ .name = "workers", .type = VG_YT_CUSTOM, .parse = parse_workers },
	/* lcores placed on these CPUs (several lcores may share one: tests on small machines) */
	{ .name = "cpus", .type = VG_YT_CUSTOM, .parse = parse_cpus },
	{ 0 },
};

static bool
valid_port_name(const char *s)
{
	if (!isalpha((unsigned char)s[0]))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
	return true;
}

/* 0000:03:00.0 or 03:00.0 (domain 0). */
static bool
is_pci_address(const char *s)
{
	unsigned dom, bus, dev, fn;
	char tail;

	if (sscanf(s, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) == 4)
		return bus <= 0xff && dev <= 0x1f && fn <= 7;
	if (sscanf(s, "%x:%x.%x%c", &bus, &dev, &fn, &tail) == 3)
		return bus <= 0xff && dev <= 0x1f && fn <= 7;
	return false;
}

static bool
is_vdev_string(const char *s)
{
	/* A driver name, a unique instance suffix, then optional comma-separated devargs. */
	if (strncmp(s, "net_", 4) != 0 && strncmp(s, "eth_", 4) != 0)
		return false;
	for (const char *p = s; *p && *p != ','; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return false;
	return true;
}

static const struct vg_yaml_field port_fields[] = {
	{ .name = "name",
			.type = VG_YT_STRBUF,
			.off = PORT_OFF(name),
			.min = 1,
			.max = VG_NAME_LEN,
			.required = true },
	{ .name = "device",
			.type = VG_YT_STRBUF,
			.off = PORT_OFF(device),
			.min = 1,
			.max = VG_DEVICE_LEN,
			.required = true },
	{ .name = "rx_desc", .type = VG_YT_U16, .off = PORT_OFF(rx_desc), .min = 32, .max = 32768 },
	{ .name = "tx_desc", .type = VG_YT_U16, .off = PORT_OFF(tx_desc), .min = 32, .max = 32768 },
	{ .name = "promiscuous", .type = VG_YT_BOOL, .off = PORT_OFF(promiscuous) },
	{ .name = "mtu", .type = VG_YT_U16, .off = PORT_OFF(mtu), .min = 68, .max = 9600 },
	{ 0 },
};

static int
parse_ports(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct vg_config *cfg = obj;
	int n;

	if (!vg_yaml_expect_seq(y, v, key))
		return -EINVAL;
	n = vg_yaml_seq_len(v);
	if (n > VG_MAX_PORTS) {
		vg_yaml_err(y, v, "'%s': at most %d ports", key, VG_MAX_PORTS);
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		yaml_node_t *it = vg_yaml_seq_item(y, v, i);
		struct vg_port_config *p = &cfg->ports[cfg->n_ports];

		memset(p, 0, sizeof(*p));
		p->rx_desc = 1024;
		p->tx_desc = 1024;
		p->promiscuous = true;
		if (vg_yaml_map(y, it, "ports entry", port_fields, p) != 0)
			continue;
		if (!valid_port_name(p->name)) {
			vg_yaml_err(y, it,
					"ports entry: name '%s' must start with a letter and hold "
					"only letters, digits, '-' and '_'",
					p->name);
			continue;
		}
		if (vg_config_port_index(cfg, p->name) >= 0) {
			vg_yaml_err(y, it, "ports entry: name '%s' is used by an earlier port",
					p->name);
			continue;
		}
		p->is_pci = is_pci_address(p->device);
		if (!p->is_pci && !is_vdev_string(p->device)) {
			vg_yaml_err(y, it,
					"port '%s': device '%s' is neither a PCI address "
					"(0000:03:00.0) nor a vdev string (net_tap0,iface=vg0)",
					p->name, p->device);
			continue;
		}
		for (unsigned j = 0; j < cfg->n_ports; j++) {
			const char *a = cfg->ports[j].device, *b = p->device;
			size_t la = strcspn(a, ","), lb = strcspn(b, ",");

			if (la == lb && strncmp(a, b, la) == 0) {
				vg_yaml_err(y, it, "port '%s': device '%.*s' is also port '%s'",
						p->name, (int)lb, b, cfg->ports[j].name);
				p = NULL;
				break;
			}
		}
		if (p != NULL)
			cfg->n_ports++;
	}
	return 0;
}

static int
parse_pairs(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct load_ctx *ctx = obj;

	if (!vg_yaml_expect_seq(y, v, key))
		return -EINVAL;
	ctx->pairs = v; /* resolved once every port is known */
	return 0;
}

static void
resolve_pairs(struct vg_yaml *y, struct load_ctx *ctx)
{
	struct vg_config *cfg = &ctx->cfg;
	yaml_node_t *v = ctx->pairs;
	int in_pair[VG_MAX_PORTS];
	int n = vg_yaml_seq_len(v);

	for (unsigned i = 0; i < VG_MAX_PORTS; i++)
		in_pair[i] = -1;
	if (n > VG_MAX_PAIRS) {
		vg_yaml_err(y, v, "'pairs': at most %d pairs", VG_MAX_PAIRS);
		return;
	}
	for (int i = 0; i < n; i++) {
		yaml_node_t *it = vg_yaml_seq_item(y, v, i);
		int idx[2];
		bool ok = true;

		if (it->type != YAML_SEQUENCE_NODE || vg_yaml_seq_len(it) != 2) {
			vg_yaml_err(y, it,
					"'pairs': each pair is a list of two port names, like "
					"[outside, inside]");
			continue;
		}
		for (int k = 0; k < 2; k++) {
			yaml_node_t *pn = vg_yaml_seq_item(y, it, k);
			const char *name = vg_yaml_scalar(y, pn, "pairs");

			idx[k] = -1;
			if (name == NULL) {
				ok = false;
				continue;
			}
			idx[k] = vg_config_port_index(cfg, name);
			if (idx[k] < 0) {
				vg_yaml_err(y, pn, "'pairs': no port is named '%s'", name);
				ok = false;
			} else if (in_pair[idx[k]] >= 0) {
				vg_yaml_err(y, pn, "'pairs': port '%s' is already in pair %d", name,
						in_pair[idx[k]] + 1);
				ok = false;
			}
		}
		if (ok && idx[0] == idx[1]) {
			vg_yaml_err(y, it, "'pairs': a port cannot be paired with itself");
			ok = false;
		}
		if (!ok)
			continue;
		in_pair[idx[0]] = in_pair[idx[1]] = (int)cfg->n_pairs;
		cfg->pairs[cfg->n_pairs].a = (uint16_t)idx[0];
		cfg->pairs[cfg->n_pairs].b = (uint16_t)idx[1];
		cfg->n_pairs++;
	}
}

static int
parse_mbufs(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct vg_config *cfg = obj;
	uint64_t n;

	if (vg_yaml_size(y, v, key, 0, 64u << 20, &n) != 0)
		return -EINVAL;
	if (n != 0 && n < 1024) {
		vg_yaml_err(y, v,
				"'%s': %u is too few; use 0 (sized automatically) or at least 1024",
				key, (unsigned)n);
		return -EINVAL;
	}
	cfg->mbufs = (uint32_t)n;
	return 0;
}

static const struct vg_yaml_field mempool_fields[] = {
	{ .name = "mbufs", .type = VG_YT_CUSTOM, .parse = parse_mbufs },
	{ .name = "cache", .type = VG_YT_U32, .off = CFG_OFF(mbuf_cache), .max = 512 },
	{ .name = "data_room",
			.type = VG_YT_SIZE32,
			.off = CFG_OFF(mbuf_data_room),
			.min = 256, /* RTE_PKTMBUF_HEADROOM + a small frame (benchmarks of 64 B) */
			.max = 65535 },
	{ 0 },
};

static const struct vg_yaml_field dataplane_fields[] = {
	{ .name = "burst", .type = VG_YT_U32, .off = CFG_OFF(burst), .min = 1, .max = 64 },
	{ .name = "tx_drain_us",
			.type = VG_YT_U32,
			.off = CFG_OFF(tx_drain_us),
			.min = 1,
			.max = 100000 },
	{ .name = "idle_sleep_us",
			.type = VG_YT_U32,
			.off = CFG_OFF(idle_sleep_us),
			.max = 100000 },
	{ .name = "clock", .type = VG_YT_ENUM, .off = CFG_OFF(clock), .names = clock_names },
	{ .name = "clock_unit_ns",
			.type = VG_YT_U32,
			.off = CFG_OFF(clock_unit_ns),
			.min = 1,
			.max = 1000000000 },
	{ 0 },
};

/* The parser's check of reason names (vg_config_set_reason_check); NULL: none. */
static bool (*reason_known)(const char *name);

void
vg_config_set_reason_check(bool (*known)(const char *name))
{
	reason_known = known;
}

static int
parse_forward_reasons(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct vg_config *cfg = obj;
	int n;

	if (!vg_yaml_expect_seq(y, v, key))
		return -EINVAL;
	n = vg_yaml_seq_len(v);
	for (int i = 0; i < n; i++) {
		yaml_node_t *it = vg_yaml_seq_item(y, v, i);
		const char *s = vg_yaml_scalar(y, it, key);

		if (s == NULL)
			continue;
		if (reason_known != NULL && !reason_known(s)) {
			vg_yaml_err(y, it,
					"'%s': '%s' is not a parse error reason (see docs/PARSER.md, e.g. tcp_bad_flags, ipv4_bad_checksum)",
					key, s);
			continue;
		}
		if (cfg->n_parse_forward >=
				sizeof(cfg->parse_forward) / sizeof(cfg->parse_forward[0]))
			break;
		cfg->parse_forward[cfg->n_parse_forward] = strdup(s);
		if (cfg->parse_forward[cfg->n_parse_forward] == NULL)
			return -ENOMEM;
		cfg->n_parse_forward++;
	}
	return 0;
}

static const struct vg_yaml_field parse_fields[] = {
	{ .name = "forward", .type = VG_YT_CUSTOM, .parse = parse_forward_reasons },
	{ .name = "ipv4_checksum", .type = VG_YT_BOOL, .off = CFG_OFF(parse_ipv4_checksum) },
	{ .name = "l4_checksum", .type = VG_YT_BOOL, .off = CFG_OFF(parse_l4_checksum) },
	{ 0 },
};

#define TO_OFF(f) (CFG_OFF(timeouts) + offsetof(struct vg_flow_timeouts, f))
#define TIMEOUT(n)                                                                               \
	{                                                                                        \
		.name = #n, .type = VG_YT_MS, .off = TO_OFF(n), .min = 1, .max = 7 * 86400000ULL \
	}

static const struct vg_yaml_field timeout_fields[] = {
	TIMEOUT(tcp_syn),
	TIMEOUT(tcp_established),
	TIMEOUT(tcp_closing),
	TIMEOUT(tcp_time_wait),
	TIMEOUT(tcp_closed),
	TIMEOUT(udp),
	TIMEOUT(icmp),
	TIMEOUT(other),
	{ 0 },
};

static int
parse_timeouts(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)key;
	return vg_yaml_map(y, v, "flows.timeouts", timeout_fields, obj);
}

static int
parse_overflow(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct vg_config *cfg = obj;
	int open;

	if (vg_yaml_enum(y, v, key, overflow_names, &open) != 0)
		return -EINVAL;
	cfg->flows_overflow_open = open == 1;
	cfg->overflow_set = true;
	return 0;
}

/* exceptions.<condition> and exceptions.default: an action name. */
static int
parse_exc_action(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct vg_config *cfg = obj;
	int a;

	if (vg_yaml_enum(y, v, key, vg_exc_action_names, &a) != 0)
		return -EINVAL;
	if (strcmp(key, "default") == 0) {
		cfg->exc_default = (int8_t)a;
		return 0;
	}
	for (unsigned c = 0; c < VG_EXC__COUNT; c++)
		if (strcmp(key, vg_exc_cond_names[c]) == 0)
			cfg->exc_set[c] = (int8_t)a;
	return 0;
}

static const struct vg_yaml_field exception_fields[] = {
	{ .name = "default", .type = VG_YT_CUSTOM, .parse = parse_exc_action },
	{ .name = "flow_table_full", .type = VG_YT_CUSTOM, .parse = parse_exc_action },
	{ .name = "midstream", .type = VG_YT_CUSTOM, .parse = parse_exc_action },
	{ .name = "stream_memcap", .type = VG_YT_CUSTOM, .parse = parse_exc_action },
	{ .name = "app_layer_memcap", .type = VG_YT_CUSTOM, .parse = parse_exc_action },
	{ .name = "stream_depth", .type = VG_YT_CUSTOM, .parse = parse_exc_action },
	{ .name = "packet_budget", .type = VG_YT_CUSTOM, .parse = parse_exc_action },
	{ .name = "event_ring_full", .type = VG_YT_CUSTOM, .parse = parse_exc_action },
	{ .name = "signatures_loading", .type = VG_YT_CUSTOM, .parse = parse_exc_action },
	{ 0 },
};

/*
 * Each condition's action: its own setting, else exceptions.default, else (the table full)
 * flows.overflow (closed: drop-packet, open: pass), else pass. A table that is full has no
 * flow to bypass or drop: those act on the packet (bypass as pass, drop-flow as drop-packet).
 */
static void
resolve_exceptions(struct vg_yaml *y, yaml_node_t *root, struct vg_config *cfg)
{
	for (unsigned c = 0; c < VG_EXC__COUNT; c++) {
		int a = cfg->exc_set[c] >= 0	? cfg->exc_set[c]
			: cfg->exc_default >= 0 ? cfg->exc_default
			: c == VG_EXC_FLOW_TABLE_FULL && !cfg->flows_overflow_open
					? VG_EXC_DROP_PACKET
					: VG_EXC_PASS;

		cfg->exceptions[c] = (uint8_t)a;
	}
	if (cfg->overflow_set && cfg->exc_set[VG_EXC_FLOW_TABLE_FULL] >= 0 &&
			(cfg->exceptions[VG_EXC_FLOW_TABLE_FULL] == VG_EXC_PASS) !=
					cfg->flows_overflow_open)
		vg_yaml_err(y, root,
				"'flows.overflow: %s' and 'exceptions.flow_table_full: %s' disagree; "
				"keep exceptions.flow_table_full",
				cfg->flows_overflow_open ? "open" : "closed",
				vg_exc_action_names[cfg->exceptions[VG_EXC_FLOW_TABLE_FULL]]);
	cfg->flows_overflow_open = cfg->exceptions[VG_EXC_FLOW_TABLE_FULL] == VG_EXC_PASS ||
				   cfg->exceptions[VG_EXC_FLOW_TABLE_FULL] == VG_EXC_BYPASS;
}

static int
parse_orphans(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct vg_config *cfg = obj;
	int fwd;

	if (vg_yaml_enum(y, v, key, orphan_names, &fwd) != 0)
		return -EINVAL;
	cfg->frag_orphan_forward = fwd == 1;
	return 0;
}

static const struct vg_yaml_field flow_fields[] = {
	{ .name = "max",
			.type = VG_YT_SIZE32,
			.off = CFG_OFF(flows_max),
			.min = 1024,
			.max = 1u << 27 },
	{ .name = "overflow", .type = VG_YT_CUSTOM, .parse = parse_overflow },
	{ .name = "evict", .type = VG_YT_BOOL, .off = CFG_OFF(flows_evict) },
	{ .name = "midstream", .type = VG_YT_BOOL, .off = CFG_OFF(flows_midstream) },
	{ .name = "tcp_strict", .type = VG_YT_BOOL, .off = CFG_OFF(flows_tcp_strict) },
	{ .name = "aging_batch",
			.type = VG_YT_U32,
			.off = CFG_OFF(flows_aging_batch),
			.min = 1,
			.max = 65536 },
	{ .name = "update_interval",
			.type = VG_YT_MS,
			.off = CFG_OFF(flows_update_ms),
			.max = 86400000ULL },
	{ .name = "timeouts", .type = VG_YT_CUSTOM, .parse = parse_timeouts },
	{ 0 },
};

static const struct vg_yaml_field policy_fields[] = {
	{ .name = "file", .type = VG_YT_STR, .off = CFG_OFF(policy_file), .min = 1 },
	{ .name = "reject_rate",
			.type = VG_YT_U32,
			.off = CFG_OFF(reject_rate),
			.min = 1,
			.max = 10000000 },
	{ .name = "rate_sources",
			.type = VG_YT_SIZE32,
			.off = CFG_OFF(rate_sources),
			.min = 8,
			.max = 1u << 24 },
	{ .name = "max_size",
			.type = VG_YT_SIZE32,
			.off = CFG_OFF(policy_max_size),
			.min = 1024,
			.max = 1u << 30 },
	{ .name = "max_depth",
			.type = VG_YT_U32,
			.off = CFG_OFF(policy_max_depth),
			.min = 4,
			.max = 4096 },
	{ .name = "bpf_jit", .type = VG_YT_BOOL, .off = CFG_OFF(bpf_jit) },
	{ 0 },
};

static const char *const mode_names[] = { "enforce", "dry-run", NULL };
static const char *const inspect_names[] = { "policy", "all", NULL };

static int
parse_inspect_flows(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct vg_config *cfg = obj;
	int m;

	if (vg_yaml_enum(y, v, key, inspect_names, &m) != 0)
		return -EINVAL;
	cfg->inspect_all = m == 1;
	return 0;
}

static const struct vg_yaml_field inspection_fields[] = {
	{ .name = "flows", .type = VG_YT_CUSTOM, .parse = parse_inspect_flows },
	{ .name = "max_flows",
			.type = VG_YT_SIZE32,
			.off = CFG_OFF(inspect_max_flows),
			.min = 16,
			.max = 1u << 24 },
	{ .name = "packet_budget_ns",
			.type = VG_YT_U32,
			.off = CFG_OFF(inspect_budget_ns),
			.min = 0,
			.max = 1000000000 },
	{ 0 },
};

static int
parse_mode(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct vg_config *cfg = obj;
	int m;

	if (vg_yaml_enum(y, v, key, mode_names, &m) != 0)
		return -EINVAL;
	cfg->dry_run = m == 1;
	return 0;
}

static const struct vg_yaml_field frag_fields[] = {
	{ .name = "max",
			.type = VG_YT_SIZE32,
			.off = CFG_OFF(frag_max),
			.min = 8,
			.max = 1u << 24 },
	{ .name = "timeout",
			.type = VG_YT_MS,
			.off = CFG_OFF(frag_timeout_ms),
			.min = 1,
			.max = 600000 },
	{ .name = "orphans", .type = VG_YT_CUSTOM, .parse = parse_orphans },
	{ 0 },
};

static const struct vg_yaml_field ring_fields[] = {
	{ .name = "events",
			.type = VG_YT_SIZE32,
			.off = CFG_OFF(event_ring_size),
			.min = 64,
			.max = 1u << 24 },
	{ .name = "commands",
			.type = VG_YT_SIZE32,
			.off = CFG_OFF(command_ring_size),
			.min = 16,
			.max = 1u << 16 },
	{ 0 },
};

static const struct vg_yaml_field log_fields[] = {
	{ .name = "level",
			.type = VG_YT_ENUM,
			.off = CFG_OFF(log_level),
			.names = log_level_names },
	{ 0 },
};

static const struct vg_yaml_field stats_fields[] = {
	{ .name = "interval",
			.type = VG_YT_MS,
			.off = CFG_OFF(stats_interval_ms),
			.max = 24 * 3600 * 1000ULL },
	{ .name = "stages", .type = VG_YT_BOOL, .off = CFG_OFF(stats_stages) },
	{ 0 },
};

#define SECTION(fn, table, title)                                                    \
	static int fn(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj) \
	{                                                                            \
		(void)key;                                                           \
		return vg_yaml_map(y, v, title, table, obj);                         \
	}

SECTION(parse_eal, eal_fields, "eal")
SECTION(parse_lcores, lcore_fields, "lcores")
SECTION(parse_mempool, mempool_fields, "mempool")
SECTION(parse_dataplane, dataplane_fields, "dataplane")
SECTION(parse_rings, ring_fields, "rings")
SECTION(parse_log, log_fields, "log")
SECTION(parse_parse, parse_fields, "parse")
SECTION(parse_flows, flow_fields, "flows")
SECTION(parse_frags, frag_fields, "fragments")
SECTION(parse_policy, policy_fields, "policy")
SECTION(parse_inspection, inspection_fields, "inspection")
SECTION(parse_stats, stats_fields, "stats")
SECTION(parse_exceptions, exception_fields, "exceptions")

static const struct vg_yaml_field top_fields[] = {
	{ .name = "eal", .type = VG_YT_CUSTOM, .parse = parse_eal },
	{ .name = "lcores", .type = VG_YT_CUSTOM, .parse = parse_lcores },
	{ .name = "ports", .type = VG_YT_CUSTOM, .parse = parse_ports, .required = true },
	{ .name = "pairs", .type = VG_YT_CUSTOM, .parse = parse_pairs, .required = true },
	{ .name = "mempool", .type = VG_YT_CUSTOM, .parse = parse_mempool },
	{ .name = "dataplane", .type = VG_YT_CUSTOM, .parse = parse_dataplane },
	{ .name = "rings", .type = VG_YT_CUSTOM, .parse = parse_rings },
	{ .name = "parse", .type = VG_YT_CUSTOM, .parse = parse_parse },
	{ .name = "flows", .type = VG_YT_CUSTOM, .parse = parse_flows },
	{ .name = "fragments", .type = VG_YT_CUSTOM, .parse = parse_frags },
	{ .name = "policy", .type = VG_YT_CUSTOM, .parse = parse_policy },
	{ .name = "mode", .type = VG_YT_CUSTOM, .parse = parse_mode },
	{ .name = "inspection", .type = VG_YT_CUSTOM, .parse = parse_inspection },
	{ .name = "exceptions", .type = VG_YT_CUSTOM, .parse = parse_exceptions },
	{ .name = "log", .type = VG_YT_CUSTOM, .parse = parse_log },
	{ .name = "stats", .type = VG_YT_CUSTOM, .parse = parse_stats },
	{ 0 },
};

/* Checks that span sections; positions point at the root or at the first offending node. */
static void
check_whole(struct vg_yaml *y, yaml_node_t *root, struct load_ctx *ctx)
{
	struct vg_config *cfg = &ctx->cfg;

	if (ctx->pairs != NULL)
		resolve_pairs(y, ctx);
	resolve_exceptions(y, root, cfg);
	if (cfg->n_ports > 0 && ctx->pairs != NULL && y->errors == 0) {
		if (cfg->n_pairs == 0)
			vg_yaml_err(y, ctx->pairs, "'pairs': at least one pair of ports is needed");
		for (unsigned i = 0; i < cfg->n_ports; i++)
			if (vg_config_peer(cfg, i) < 0)
				vg_yaml_err(y, ctx->pairs,
						"'pairs': port '%s' is not in any pair; every port "
						"forwards to its peer",
						cfg->ports[i].name);
	}
	if (cfg->n_ports == 0 && y->errors == 0)
		vg_yaml_err(y, root, "'ports': at least two ports are needed");
	for (unsigned i = 0; i < cfg->n_workers; i++)
		if (cfg->workers[i] == cfg->control_lcore)
			vg_yaml_err(y, root,
					"'lcores': lcore %u is both the control lcore and a worker",
					cfg->control_lcore);
	if (!is_power_of_2(cfg->event_ring_size))
		vg_yaml_err(y, root, "'rings.events': %u is not a power of two",
				cfg->event_ring_size);
	if (!is_power_of_2(cfg->command_ring_size))
		vg_yaml_err(y, root, "'rings.commands': %u is not a power of two",
				cfg->command_ring_size);
}

static int
parse_section(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct load_ctx *ctx = obj;

	for (unsigned i = 0; i < ctx->n_sections; i++)
		if (strcmp(ctx->sections[i].name, key) == 0)
			return ctx->sections[i].parse(y, v, ctx->sections[i].obj);
	return -EINVAL;
}

static int
load_doc(struct load_ctx *ctx, struct vg_yaml *y, const char *name)
{
	struct vg_config *cfg = &ctx->cfg;
	yaml_node_t *root = vg_yaml_root(y);
	const size_t n_top = sizeof(top_fields) / sizeof(top_fields[0]) - 1;
	struct vg_yaml_field fields[n_top + ctx->n_sections + 1];

	memcpy(fields, top_fields, n_top * sizeof(fields[0]));
	for (unsigned i = 0; i < ctx->n_sections; i++)
		fields[n_top + i] = (struct vg_yaml_field){
			.name = ctx->sections[i].name,
			.type = VG_YT_CUSTOM,
			.parse = parse_section,
		};
	memset(&fields[n_top + ctx->n_sections], 0, sizeof(fields[0]));

	cfg->file = strdup(name);
	if (cfg->file == NULL)
		return -ENOMEM;
	if (root == NULL) {
		vg_yaml_err(y, NULL, "the file is empty; it needs at least 'ports' and 'pairs'");
		return -EINVAL;
	}
	vg_yaml_map(y, root, "vigil.yaml", fields, ctx);
	check_whole(y, root, ctx);
	return y->errors > 0 ? -EINVAL : 0;
}

static int
finish(struct vg_config *cfg, struct load_ctx *ctx, struct vg_yaml *y, int rc)
{
	if (rc == 0 && y->errors > 0)
		rc = -EINVAL;
	vg_yaml_free(y);
	if (rc != 0) {
		vg_config_free(&ctx->cfg);
		vg_config_defaults(cfg);
		return rc;
	}
	*cfg = ctx->cfg;
	return 0;
}

int
vg_config_load(struct vg_config *cfg, const char *path, struct vg_diag *diag)
{
	return vg_config_load_sections(cfg, path, NULL, 0, diag);
}

int
vg_config_load_buf(struct vg_config *cfg, const char *name, const char *buf, size_t len,
		struct vg_diag *diag)
{
	return vg_config_load_buf_sections(cfg, name, buf, len, NULL, 0, diag);
}

int
vg_config_load_sections(struct vg_config *cfg, const char *path,
		const struct vg_config_section *sections, unsigned n, struct vg_diag *diag)
{
	struct load_ctx ctx = { .pairs = NULL, .sections = sections, .n_sections = n };
	struct vg_yaml y;
	int rc;

	vg_config_defaults(&ctx.cfg);
	rc = vg_yaml_load_file(&y, path, diag);
	if (rc == 0)
		rc = load_doc(&ctx, &y, path);
	return finish(cfg, &ctx, &y, rc);
}

int
vg_config_load_buf_sections(struct vg_config *cfg, const char *name, const char *buf, size_t len,
		const struct vg_config_section *sections, unsigned n, struct vg_diag *diag)
{
	struct load_ctx ctx = { .pairs = NULL, .sections = sections, .n_sections = n };
	struct vg_yaml y;
	int rc;

	vg_config_defaults(&ctx.cfg);
	rc = vg_yaml_load_buf(&y, name, buf, len, diag);
	if (rc == 0)
		rc = load_doc(&ctx, &y, name);
	return finish(cfg, &ctx, &y, rc);
}
