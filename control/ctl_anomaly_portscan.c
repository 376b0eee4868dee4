/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port scan: one source probing many distinct ports of one host (vertical) or many distinct
 * hosts (horizontal) within a window; a handful of ports of one host (small: low severity, the
 * first sign of a targeted connect scan); or as many ports as a vertical scan spread over the
 * long window (slow). Severity grows with breadth and speed: small low, vertical and slow
 * medium, ten times the threshold within the window high.
 *
 * Only probes count, judged when the flow ends: a TCP flow the initiator opened without SYN
 * and ACK (NULL, FIN, Xmas and other stealth probes), or one that carried no payload in either
 * direction and at most probe_max_packets from the initiator (SYN and connect scans, refused
 * connections), or a UDP flow that got no answer. Ordinary traffic of the same volume, with
 * payload, never counts, so busy clients and proxies stay quiet.
 *
 * State: per source a window and a generation number; per (source, host) the distinct ports of
 * the current generation; per (source, host, port, proto) the generation it was last counted
 * in. A new window bumps the generation, which makes all older entries stale without a sweep;
 * the tick removes stale entries.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_anomaly_impl.h"

/* Finding ids: the sids of its alerts (gid CTL_ANOMALY_GID), stable across versions. */
#define CTL_SID_PORTSCAN_VERTICAL   9000001
#define CTL_SID_PORTSCAN_HORIZONTAL 9000002
#define CTL_SID_PORTSCAN_SMALL	    9000003
#define CTL_SID_PORTSCAN_SLOW	    9000004

struct ctl_portscan_cfg {
	struct ctl_anomaly_common c;
	uint64_t window_ms;
	uint32_t ports;		 /* distinct ports probed on one host (vertical) */
	uint32_t hosts;		 /* distinct hosts probed (horizontal) */
	uint32_t probe_max_pkts; /* a probe sends at most this many packets and no payload */
	uint32_t small_ports;	 /* a handful of ports of one host per window (low severity) */
	uint64_t long_window_ms; /* `ports` within this is a slow scan */
};
CTL_ANOMALY_CFG_FITS(struct ctl_portscan_cfg);

static const struct ctl_portscan_cfg defaults = {
	.c = { .enabled = true, .block_ttl_ms = 3600000 },
	.window_ms = 60000,
	.ports = 25,
	.hosts = 20,
	.probe_max_pkts = 3,
	.small_ports = 5,
	.long_window_ms = 3600000,
};

#define PS(f) offsetof(struct ctl_portscan_cfg, f)
static const struct vg_yaml_field portscan_fields[] = {
	CTL_ANOMALY_COMMON_FIELDS,
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

enum probe_kind { PK_SYN, PK_CONNECT, PK_FIN, PK_NULL, PK_XMAS, PK_OTHER, PK_UDP, PK__COUNT };

static const char *const probe_names[PK__COUNT] = {
	"TCP SYN (half-open)",
	"TCP connect",
	"TCP FIN",
	"TCP NULL",
	"TCP Xmas",
	"TCP odd-flags",
	"UDP",
};

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define F_URG 0x20

struct src_val {
	uint64_t window_start;
	uint64_t lwindow_start; /* the long window (slow scans) */
	uint64_t last_ns;
	uint32_t lgen;
	uint32_t gen;
	uint32_t hosts;	     /* distinct hosts probed this window */
	uint32_t next_alert; /* horizontal: alert again when hosts reaches this */
	uint32_t kinds[PK__COUNT];
	uint16_t first_port;
	bool one_port; /* every probe so far went to first_port */
};

struct pair_key {
	struct ctl_host_key src;
	struct ctl_host_key dst;
};

struct pair_val {
	uint32_t gen;
	uint32_t ports;
	uint32_t next_alert;
	uint32_t lgen;	 /* long window: its generation, */
	uint32_t lports; /* distinct ports in it */
	bool lalerted;	 /* and whether the slow-scan finding was made */
	uint16_t lo, hi;
	uint64_t last_ns;
};

struct trip_key {
	struct ctl_host_key src;
	struct ctl_host_key dst;
	uint16_t port;
	uint8_t proto;
	uint8_t pad;
};

struct trip_val {
	uint32_t gen;
	uint32_t lgen;
	uint64_t last_ns;
};

struct portscan {
	struct ctl_anomaly *d;
	unsigned id; /* row in the detector table */
	const struct ctl_portscan_cfg *cfg;
	uint64_t window_ns;
	uint64_t long_window_ns;
	struct ctl_map *src, *pair, *trip;
	uint64_t next_gc_ns;
};

static const struct ctl_alert_template templates[] = {
	{
			.sid = CTL_SID_PORTSCAN_VERTICAL,
			.title = "Vertical port scan",
			.category = "Attempted Information Leak",
			.what = "${src} probed ${observed} distinct ports on ${dst} within ${window} "
				"(ports ${port_lo} to ${port_hi}, mostly ${probe} probes).",
			.why = "Probing many ports of one host with connections that carry no data is how "
			       "scanners map which services a host offers; the threshold is ${threshold} "
			       "ports per ${window}.",
			.next = "Check whether ${src} is an authorised scanner or monitoring system. If not, "
				"block it, and review ${dst} for services that should not be reachable.",
	},
	{
			.sid = CTL_SID_PORTSCAN_HORIZONTAL,
			.title = "Horizontal port scan",
			.category = "Attempted Information Leak",
			.what = "${src} probed ${observed} distinct hosts within ${window} (port ${ports}, "
				"mostly ${probe} probes).",
			.why = "Probing many hosts with connections that carry no data is how scanners and "
			       "worms look for targets; the threshold is ${threshold} hosts per ${window}.",
			.next = "Check whether ${src} is an authorised scanner. If it is an internal host, "
				"look for malware on it; otherwise block it.",
	},
	{
			.sid = CTL_SID_PORTSCAN_SMALL,
			.title = "Small port scan",
			.category = "Attempted Information Leak",
			.what = "${src} probed ${observed} distinct ports on ${dst} within ${window} "
				"(ports ${port_lo} to ${port_hi}, mostly ${probe} probes), none of them "
				"a conversation.",
			.why = "Clients connect to the few services they use and talk; a handful of "
			       "different ports tried without a word exchanged is a targeted check for "
			       "chosen services. The threshold is ${threshold} ports per ${window}; a "
			       "broader or faster scan is reported with a higher severity.",
			.next = "Check whether ${src} is an authorised scanner or monitoring system and "
				"what it looked for on ${dst}.",
	},
	{
			.sid = CTL_SID_PORTSCAN_SLOW,
			.title = "Slow port scan",
			.category = "Attempted Information Leak",
			.what = "${src} probed ${observed} distinct ports on ${dst} within ${window} "
				"(ports ${port_lo} to ${port_hi}, mostly ${probe} probes), too slowly to "
				"cross the threshold of any one short window.",
			.why = "Spreading probes over minutes is how scanners avoid per-minute "
			       "thresholds; over ${window} the threshold is ${threshold} ports.",
			.next = "Check whether ${src} is an authorised scanner. If not, block it, and "
				"review ${dst} for services that should not be reachable.",
	},
};

static int
classify(const struct portscan *ps, const struct dp_event *ev)
{
	const struct dp_event_flow *f = &ev->flow;
	uint8_t f0 = f->tcp_flags[0];

	if (f->proto == 17)
		return f->pkts[1] == 0 && f->pkts[0] <= 2 ? PK_UDP : -1;
	if (f->proto != 6)
		return -1;
	if (!(f0 & (F_SYN | F_ACK))) {
		if (f0 == 0)
			return PK_NULL;
		if ((f0 & (F_FIN | F_PSH | F_URG)) == (F_FIN | F_PSH | F_URG))
			return PK_XMAS;
		if (f0 == F_FIN)
			return PK_FIN;
		return PK_OTHER;
	}
	if (f->pkts[0] > ps->cfg->probe_max_pkts)
		return -1;
	/* Data flowed: a real (if short) conversation, not a probe. */
	if (f->payload_mean > 0)
		return -1;
	if ((f0 & F_SYN) && !(f0 & F_ACK))
		return PK_SYN;
	return PK_CONNECT;
}

static int
ps_create(struct ctl_anomaly *d, unsigned id, const void *cfg, void **priv)
{
	struct portscan *ps = calloc(1, sizeof(*ps));
	uint32_t n = d->cfg.max_entries;

	if (ps == NULL)
		return -ENOMEM;
	ps->d = d;
	ps->id = id;
	ps->cfg = cfg;
	ps->window_ns = ps->cfg->window_ms * 1000000ULL;
	ps->long_window_ns = ps->cfg->long_window_ms * 1000000ULL;
	ps->src = ctl_map_create("ps_src", sizeof(struct ctl_host_key), sizeof(struct src_val), n);
	ps->pair = ctl_map_create("ps_pair", sizeof(struct pair_key), sizeof(struct pair_val), n);
	ps->trip = ctl_map_create(
			"ps_trip", sizeof(struct trip_key), sizeof(struct trip_val), n * 4);
	if (ps->src == NULL || ps->pair == NULL || ps->trip == NULL) {
		int e = errno ? errno : ENOMEM;

		ctl_map_free(ps->src);
		ctl_map_free(ps->pair);
		ctl_map_free(ps->trip);
		free(ps);
		return -e;
	}
	*priv = ps;
	return 0;
}

static void
ps_free(void *priv)
{
	struct portscan *ps = priv;

	ctl_map_free(ps->src);
	ctl_map_free(ps->pair);
	ctl_map_free(ps->trip);
	free(ps);
}

static uint32_t
ps_entries(const void *priv)
{
	const struct portscan *ps = priv;

	return ctl_map_count(ps->src) + ctl_map_count(ps->pair) + ctl_map_count(ps->trip);
}

static const char *
main_kind(const struct src_val *s)
{
	unsigned best = 0;

	for (unsigned i = 1; i < PK__COUNT; i++)
		if (s->kinds[i] > s->kinds[best])
			best = i;
	return probe_names[best];
}

enum { T_VERTICAL, T_HORIZONTAL, T_SMALL, T_SLOW };

static void
alert(struct portscan *ps, const struct dp_event *ev, const struct src_val *s,
		const struct pair_val *p, unsigned t)
{
	static const enum ctl_severity sev[] = { CTL_SEV_MEDIUM, CTL_SEV_MEDIUM, CTL_SEV_LOW,
		CTL_SEV_MEDIUM };
	bool vertical = t != T_HORIZONTAL;
	struct ctl_alert a;

	ctl_alert_init_anomaly(&a, &templates[t], ctl_anomaly_name(ps->id), sev[t]);
	a.flow.family = ev->flow.family;
	memcpy(a.flow.src, ev->flow.src, 16);
	if (vertical) {
		memcpy(a.flow.dst, ev->flow.dst, 16);
		snprintf(a.metric, sizeof(a.metric), "distinct_ports");
		a.observed = t == T_SLOW ? p->lports : p->ports;
		a.threshold = t == T_SMALL ? ps->cfg->small_ports : ps->cfg->ports;
		ctl_alert_fact(&a, "port_lo", "%u", p->lo);
		ctl_alert_fact(&a, "port_hi", "%u", p->hi);
	} else {
		snprintf(a.metric, sizeof(a.metric), "distinct_hosts");
		a.observed = s->hosts;
		a.threshold = ps->cfg->hosts;
		if (s->one_port) {
			a.flow.dport = s->first_port;
			ctl_alert_fact(&a, "ports", "%u", s->first_port);
		} else {
			ctl_alert_fact(&a, "ports", "various");
		}
	}
	ctl_alert_fact(&a, "probe", "%s", main_kind(s));
	a.flow.proto = ev->flow.proto;
	/* Broader and faster is worse: ten times the threshold within the window is high. */
	if (t != T_SMALL && a.observed >= 10 * a.threshold)
		a.severity = CTL_SEV_HIGH;
	a.window_ns = t == T_SLOW ? ps->long_window_ns : ps->window_ns;
	a.first_ns = t == T_SLOW ? s->lwindow_start : s->window_start;
	a.last_ns = ev->time_ns;
	ctl_anomaly_emit(ps->d, ps->id, &a);
}

static void
ps_on_flow(void *priv, const struct dp_event *ev, const struct ctl_flow_delta *dl)
{
	struct portscan *ps = priv;
	struct ctl_host_key sk;
	struct pair_key pk;
	struct trip_key tk;
	struct src_val *s;
	struct pair_val *p;
	struct trip_val *t;
	bool added, new_short, new_long;
	int kind;

	(void)dl;
	if (ev->type != DP_EV_FLOW_END)
		return;
	kind = classify(ps, ev);
	if (kind < 0)
		return;
	sk = ctl_host_key(ev->flow.family, ev->flow.src);
	s = ctl_map_get(ps->src, &sk, &added);
	if (s == NULL) {
		ctl_anomaly_untracked(ps->d, ps->id);
		return;
	}
	if (added || ev->time_ns >= s->window_start + ps->window_ns) {
		uint32_t gen = s->gen + 1, lgen = added ? 0 : s->lgen;
		uint64_t lstart = added ? 0 : s->lwindow_start;

		memset(s, 0, sizeof(*s));
		s->gen = gen;
		s->lgen = lgen;
		s->lwindow_start = lstart;
		s->window_start = ev->time_ns;
		s->next_alert = ps->cfg->hosts;
		s->first_port = ev->flow.dport;
		s->one_port = true;
	}
	if (s->lgen == 0 || ev->time_ns >= s->lwindow_start + ps->long_window_ns) {
		s->lgen++;
		s->lwindow_start = ev->time_ns;
	}
	s->last_ns = ev->time_ns;
	s->kinds[kind]++;
	if (ev->flow.dport != s->first_port)
		s->one_port = false;

	memset(&tk, 0, sizeof(tk));
	tk.src = sk;
	tk.dst = ctl_host_key(ev->flow.family, ev->flow.dst);
	tk.port = ev->flow.dport;
	tk.proto = ev->flow.proto;
	t = ctl_map_get(ps->trip, &tk, &added);
	if (t == NULL) {
		ctl_anomaly_untracked(ps->d, ps->id);
		return;
	}
	if (added)
		memset(t, 0, sizeof(*t));
	t->last_ns = ev->time_ns;
	if (t->gen == s->gen && t->lgen == s->lgen)
		return; /* this port of this host was already counted in both windows */
	new_short = t->gen != s->gen;
	new_long = t->lgen != s->lgen;
	t->gen = s->gen;
	t->lgen = s->lgen;

	pk.src = sk;
	pk.dst = tk.dst;
	p = ctl_map_get(ps->pair, &pk, &added);
	if (p == NULL) {
		ctl_anomaly_untracked(ps->d, ps->id);
		return;
	}
	if (added || p->lgen != s->lgen) {
		p->lgen = s->lgen;
		p->lports = 0;
		p->lalerted = false;
	}
	if (new_long)
		p->lports++;
	if (!new_short) {
		/* Counted in this short window already: only the long window grew. */
		if (p->lports >= ps->cfg->ports && !p->lalerted && p->ports < ps->cfg->ports) {
			p->lalerted = true;
			alert(ps, ev, s, p, T_SLOW);
		}
		return;
	}
	if (added || p->gen != s->gen) {
		uint32_t lgen = p->lgen, lports = p->lports;
		bool lalerted = p->lalerted;

		memset(p, 0, sizeof(*p));
		p->gen = s->gen;
		p->lgen = lgen;
		p->lports = lports;
		p->lalerted = lalerted;
		p->next_alert = ps->cfg->small_ports;
		p->lo = p->hi = ev->flow.dport;
		s->hosts++;
	}
	p->last_ns = ev->time_ns;
	p->ports++;
	if (ev->flow.dport < p->lo)
		p->lo = ev->flow.dport;
	if (ev->flow.dport > p->hi)
		p->hi = ev->flow.dport;
	/* A handful of ports first (low); then the vertical threshold, and again each time the
	 * count doubles. */
	if (p->ports >= p->next_alert) {
		bool small = p->ports < ps->cfg->ports;

		p->next_alert = small ? ps->cfg->ports : p->next_alert * 2;
		alert(ps, ev, s, p, small ? T_SMALL : T_VERTICAL);
		if (!small)
			p->lalerted = true; /* the short window said it */
	} else if (p->lports >= ps->cfg->ports && !p->lalerted) {
		p->lalerted = true;
		alert(ps, ev, s, p, T_SLOW);
	}
	if (s->hosts >= s->next_alert) {
		s->next_alert *= 2;
		alert(ps, ev, s, p, T_HORIZONTAL);
	}
}

static void
ps_on_tick(void *priv, uint64_t now_ns)
{
	struct portscan *ps = priv;

	uint64_t keep = ps->long_window_ns > ps->window_ns ? ps->long_window_ns : ps->window_ns;

	if (now_ns < ps->next_gc_ns || now_ns < keep)
		return;
	ps->next_gc_ns = now_ns + ps->window_ns;
	ctl_anomaly_gc(ps->trip, sizeof(struct trip_key), offsetof(struct trip_val, last_ns),
			now_ns - keep);
	ctl_anomaly_gc(ps->pair, sizeof(struct pair_key), offsetof(struct pair_val, last_ns),
			now_ns - keep);
	ctl_anomaly_gc(ps->src, sizeof(struct ctl_host_key), offsetof(struct src_val, last_ns),
			now_ns - keep);
}

const struct ctl_anomaly_def ctl_anomaly_port_scan = {
	.name = "port_scan",
	.cfg_size = sizeof(struct ctl_portscan_cfg),
	.defaults = &defaults,
	.fields = portscan_fields,
	.create = ps_create,
	.on_flow = ps_on_flow,
	.on_tick = ps_on_tick,
	.free = ps_free,
	.entries = ps_entries,
	.templates = templates,
	.n_templates = sizeof(templates) / sizeof(templates[0]),
};
