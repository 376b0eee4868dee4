/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Brute force: many short or failed connections from one source to an authentication service
 * (SSH, RDP, FTP, telnet, SMTP, POP3, IMAP, SMB, MySQL, PostgreSQL by default) within a window.
 *
 * A connection counts as an attempt when it was refused or unanswered (the server reset it or
 * never replied) or when it was short: over within max_duration and at most max_packets
 * packets, which is what one password guess followed by a disconnect looks like. Interactive
 * sessions and transfers are long and do not count, however many there are.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_anomaly_impl.h"

/* Finding ids: the sids of its alerts (gid CTL_ANOMALY_GID), stable across versions. */
#define CTL_SID_BRUTE_FORCE 9000030

#define MAX_PORTS 32

struct ctl_brute_cfg {
	struct ctl_anomaly_common c;
	uint64_t window_ms;
	uint32_t attempts;	  /* short or failed connections from one source to one port */
	uint64_t max_duration_ms; /* a connection this short counts as an attempt ... */
	uint32_t max_pkts;	  /* ... if it also carried at most this many packets */
	uint16_t ports[MAX_PORTS];
	uint32_t n_ports;
};
CTL_ANOMALY_CFG_FITS(struct ctl_brute_cfg);

static const struct ctl_brute_cfg defaults = {
	.c = { .enabled = true, .block_ttl_ms = 3600000 },
	.window_ms = 60000,
	.attempts = 20,
	.max_duration_ms = 30000,
	.max_pkts = 60,
	.ports = { 22, 3389, 21, 23, 25, 110, 143, 445, 3306, 5432 },
	.n_ports = 10,
};

static int
parse_ports(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct ctl_brute_cfg *c = obj;
	int len;

	if (!vg_yaml_expect_seq(y, v, key))
		return -EINVAL;
	len = vg_yaml_seq_len(v);
	if (len == 0 || len > MAX_PORTS) {
		vg_yaml_err(y, v, "'%s': list 1 to %d ports", key, MAX_PORTS);
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

#define BF(f) offsetof(struct ctl_brute_cfg, f)
static const struct vg_yaml_field brute_fields[] = {
	CTL_ANOMALY_COMMON_FIELDS,
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
	{ .name = "ports", .type = VG_YT_CUSTOM, .off = BF(ports), .parse = parse_ports },
	{ 0 },
};

#define F_RST 0x04

struct bf_key {
	struct ctl_host_key src;
	uint16_t port;
	uint16_t pad;
};

struct bf_val {
	uint64_t window_start;
	uint64_t last_ns;
	uint32_t attempts;
	uint32_t failed;
	uint32_t next_alert;
	bool one_dst;
	struct ctl_host_key dst;
};

struct brute {
	struct ctl_anomaly *d;
	unsigned id; /* row in the detector table */
	const struct ctl_brute_cfg *cfg;
	uint64_t window_ns;
	struct ctl_map *m;
	uint64_t next_gc_ns;
};

static const struct ctl_alert_template templates[] = {
	{
			.sid = CTL_SID_BRUTE_FORCE,
			.title = "Brute-force login attempts",
			.category = "Attempted User Privilege Gain",
			.what = "${src} made ${observed} short or failed connections to port ${dport} "
				"(${service}) on ${targets} within ${window}; ${failed} were refused or "
				"unanswered.",
			.why = "One connection per password guess, each closed after a few packets, is "
			       "the pattern of password guessing against a login service; the threshold "
			       "is ${threshold} attempts per ${window}.",
			.next = "Check the authentication logs of ${targets} for failed logins from ${src}, "
				"block ${src} if it is not a known client, and make sure the service "
				"requires keys or rate-limits logins.",
	},
};

static const char *
service_name(uint16_t port)
{
	switch (port) {
	case 21:
		return "FTP";
	case 22:
		return "SSH";
	case 23:
		return "telnet";
	case 25:
		return "SMTP";
	case 110:
		return "POP3";
	case 143:
		return "IMAP";
	case 445:
		return "SMB";
	case 3306:
		return "MySQL";
	case 3389:
		return "RDP";
	case 5432:
		return "PostgreSQL";
	}
	return "authentication service";
}

static int
bf_create(struct ctl_anomaly *d, unsigned id, const void *cfg, void **priv)
{
	struct brute *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return -ENOMEM;
	b->d = d;
	b->id = id;
	b->cfg = cfg;
	b->window_ns = b->cfg->window_ms * 1000000ULL;
	b->m = ctl_map_create(
			"bf", sizeof(struct bf_key), sizeof(struct bf_val), d->cfg.max_entries);
	if (b->m == NULL) {
		int e = errno ? errno : ENOMEM;

		free(b);
		return -e;
	}
	*priv = b;
	return 0;
}

static void
bf_free(void *priv)
{
	struct brute *b = priv;

	ctl_map_free(b->m);
	free(b);
}

static uint32_t
bf_entries(const void *priv)
{
	return ctl_map_count(((const struct brute *)priv)->m);
}

static void
bf_on_flow(void *priv, const struct dp_event *ev, const struct ctl_flow_delta *dl)
{
	struct brute *b = priv;
	const struct dp_event_flow *f = &ev->flow;
	const struct ctl_brute_cfg *c = b->cfg;
	struct bf_key k;
	struct bf_val *v;
	bool auth = false, failed, shortc, added;
	uint64_t dur;

	(void)dl;
	if (ev->type != DP_EV_FLOW_END || f->proto != 6)
		return;
	for (uint32_t i = 0; i < c->n_ports && !auth; i++)
		auth = f->dport == c->ports[i];
	if (!auth)
		return;
	dur = f->last_ns > f->first_ns ? f->last_ns - f->first_ns : 0;
	failed = (f->tcp_flags[1] & F_RST) || f->pkts[1] == 0;
	shortc = dur <= c->max_duration_ms * 1000000ULL && f->pkts[0] + f->pkts[1] <= c->max_pkts;
	if (!failed && !shortc)
		return;

	memset(&k, 0, sizeof(k));
	k.src = ctl_host_key(f->family, f->src);
	k.port = f->dport;
	v = ctl_map_get(b->m, &k, &added);
	if (v == NULL) {
		ctl_anomaly_untracked(b->d, b->id);
		return;
	}
	if (added || ev->time_ns >= v->window_start + b->window_ns) {
		memset(v, 0, sizeof(*v));
		v->window_start = ev->time_ns;
		v->next_alert = c->attempts;
		v->one_dst = true;
		v->dst = ctl_host_key(f->family, f->dst);
	}
	v->last_ns = ev->time_ns;
	v->attempts++;
	if (failed)
		v->failed++;
	if (memcmp(f->dst, v->dst.addr, f->family == 4 ? 4 : 16) != 0)
		v->one_dst = false;
	if (v->attempts < v->next_alert)
		return;
	v->next_alert *= 2;

	struct ctl_alert a;
	char addr[64];

	ctl_alert_init_anomaly(&a, &templates[0], ctl_anomaly_name(b->id), CTL_SEV_HIGH);
	a.flow.family = f->family;
	a.flow.proto = 6;
	a.flow.dport = f->dport;
	memcpy(a.flow.src, f->src, 16);
	if (v->one_dst)
		memcpy(a.flow.dst, f->dst, 16);
	snprintf(a.metric, sizeof(a.metric), "attempts");
	a.observed = v->attempts;
	a.threshold = c->attempts;
	a.window_ns = b->window_ns;
	a.first_ns = v->window_start;
	a.last_ns = ev->time_ns;
	ctl_alert_fact(&a, "failed", "%u", v->failed);
	ctl_alert_fact(&a, "service", "%s", service_name(f->dport));
	ctl_alert_fact(&a, "targets", "%s",
			v->one_dst ? ctl_addr_str(f->family, f->dst, addr, sizeof(addr))
				   : "several hosts");
	ctl_anomaly_emit(b->d, b->id, &a);
}

static void
bf_on_tick(void *priv, uint64_t now_ns)
{
	struct brute *b = priv;

	if (now_ns < b->next_gc_ns || now_ns < b->window_ns)
		return;
	b->next_gc_ns = now_ns + b->window_ns;
	ctl_anomaly_gc(b->m, sizeof(struct bf_key), offsetof(struct bf_val, last_ns),
			now_ns - b->window_ns);
}

const struct ctl_anomaly_def ctl_anomaly_brute_force = {
	.name = "brute_force",
	.cfg_size = sizeof(struct ctl_brute_cfg),
	.defaults = &defaults,
	.fields = brute_fields,
	.create = bf_create,
	.on_flow = bf_on_flow,
	.on_tick = bf_on_tick,
	.free = bf_free,
	.entries = bf_entries,
	.templates = templates,
	.n_templates = sizeof(templates) / sizeof(templates[0]),
};
