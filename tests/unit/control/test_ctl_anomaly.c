/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Detectors, fed with dp_event sequences built here the way workers report flows: each fires on
 * its pattern and stays quiet on benign traffic of the same volume; explanations carry the
 * facts. Also: EWMA baseline math against a direct computation, baselines surviving a restart
 * through the store, dedup, EVE JSON, the closed-loop block request and the YAML section.
 */
#define VG_TEST_WITH_EAL
#include "vg_test.h"

#include <math.h>

#include "ctl_anomaly.h"
#include "ctl_anomaly_impl.h"
#include "ctl_baseline.h"
#include "ctl_store.h"
#include "ctl_test_util.h"

/* The findings' sids: public and stable (docs, rules, the store), so pinned here. */
#define CTL_SID_PORTSCAN_VERTICAL     9000001
#define CTL_SID_PORTSCAN_HORIZONTAL   9000002
#define CTL_SID_PORTSCAN_SMALL	      9000003
#define CTL_SID_PORTSCAN_SLOW	      9000004
#define CTL_SID_SYN_FLOOD	      9000010
#define CTL_SID_SYN_FLOOD_END	      9000011
#define CTL_SID_DNS_SUSPICIOUS_NAMES  9000020
#define CTL_SID_DNS_UNIQUE_SUBDOMAINS 9000021
#define CTL_SID_DNS_TXT_VOLUME	      9000022
#define CTL_SID_DNS_TUNNEL	      9000023
#define CTL_SID_DNS_LONG_NAME	      9000024
#define CTL_SID_BRUTE_FORCE	      9000030
#define CTL_SID_EXFIL		      9000040
#define CTL_SID_RATE_HOST_PPS	      9000050
#define CTL_SID_RATE_HOST_BPS	      9000051
#define CTL_SID_RATE_SERVICE_PPS      9000052
#define CTL_SID_RATE_SERVICE_BPS      9000053
#define CTL_SID_ICMP_TUNNEL	      9000060

#define T0_NS (1709251200ULL * NS_PER_S)
#define MS    1000000ULL

#define SINK_MAX 512

struct sink {
	struct ctl_alert a[SINK_MAX];
	unsigned n;
};

static struct sink sink;

static void
sink_cb(struct ctl_alert *a, void *arg)
{
	struct sink *s = arg;

	if (s->n < SINK_MAX)
		s->a[s->n++] = *a;
}

static unsigned
count_sid(uint32_t sid)
{
	unsigned n = 0;

	for (unsigned i = 0; i < sink.n; i++)
		n += sink.a[i].sid == sid;
	return n;
}

static const struct ctl_alert *
first_sid(uint32_t sid)
{
	for (unsigned i = 0; i < sink.n; i++)
		if (sink.a[i].sid == sid)
			return &sink.a[i];
	fail_msg("no alert with sid %u among %u alerts", sid, sink.n);
	return NULL;
}

/* Every ${name} resolved, and each needle present in the explanation. */
static void
assert_explained(const struct ctl_alert *a, const char *const *needles)
{
	char all[2048];

	snprintf(all, sizeof(all), "%s | %s | %s", a->what, a->why, a->next);
	if (strstr(all, "${") != NULL)
		fail_msg("unresolved template variable: %s", all);
	assert_true(strlen(a->what) > 20 && strlen(a->why) > 20 && strlen(a->next) > 20);
	for (unsigned i = 0; needles[i] != NULL; i++)
		if (strstr(all, needles[i]) == NULL)
			fail_msg("\"%s\" not in: %s", needles[i], all);
}

/* Defaults with only the detector named det on, and smaller tables. */
static struct ctl_anomaly_cfg
only(const char *det)
{
	struct ctl_anomaly_cfg c;

	ctl_anomaly_defaults(&c);
	c.max_entries = 4096;
	c.max_baselines = 4096;
	assert_true(ctl_anomaly_find(det) >= 0);
	for (unsigned i = 0; i < ctl_anomaly_count(); i++)
		c.det[i].c.enabled = strcmp(ctl_anomaly_name(i), det) == 0;
	return c;
}

/* Change c as a `detectors:` section with this text does in vigil.yaml. */
static void
set(struct ctl_anomaly_cfg *c, const char *yaml)
{
	struct vg_yaml y;
	struct vg_diag d;

	vg_diag_init(&d);
	assert_int_equal(vg_yaml_load_buf(&y, "set.yaml", yaml, strlen(yaml), &d), 0);
	if (ctl_anomaly_yaml_parse(&y, vg_yaml_root(&y), c) != 0) {
		vg_diag_print(&d, stderr);
		fail_msg("detectors: %s refused", yaml);
	}
	vg_yaml_free(&y);
	vg_diag_free(&d);
}

/* Where the YAML key det.key lands in c: the offset its field row gives. */
static const void *
field(const struct ctl_anomaly_cfg *c, const char *det, const char *key)
{
	int id = ctl_anomaly_find(det);

	assert_true(id >= 0);
	for (const struct vg_yaml_field *f = ctl_anomaly_def((unsigned)id)->fields; f->name; f++)
		if (strcmp(f->name, key) == 0)
			return (const unsigned char *)&c->det[id] + f->off;
	fail_msg("detectors.%s has no key %s", det, key);
	return NULL;
}

static struct ctl_anomaly *
make(const struct ctl_anomaly_cfg *c)
{
	struct ctl_anomaly *d;

	memset(&sink, 0, sizeof(sink));
	d = ctl_anomaly_create(c, sink_cb, &sink);
	assert_non_null(d);
	return d;
}

/* A finished TCP flow as its end event reports it. */
static struct dp_event
tcp_end(uint64_t t, const char *src, uint16_t sport, const char *dst, uint16_t dport, uint32_t id,
		uint8_t f0, uint8_t f1, uint64_t p0, uint64_t p1, uint64_t b0, uint64_t b1,
		uint64_t dur_ns)
{
	struct dp_event ev = ctl_test_ev4(DP_EV_FLOW_END, t, src, sport, dst, dport, 6, id);

	ev.flow.tcp_flags[0] = f0;
	ev.flow.tcp_flags[1] = f1;
	ctl_test_counts(&ev, p0, p1, b0, b1);
	ev.flow.first_ns = t - dur_ns;
	ev.flow.last_ns = t;
	/* Minimum-size frames (60 bytes) carry no payload; the rest is payload. */
	if (p0 + p1 > 0 && b0 + b1 > 60 * (p0 + p1))
		ev.flow.payload_mean = (float)(b0 + b1 - 60 * (p0 + p1)) / (float)(p0 + p1);
	ev.reason = DP_END_FIN;
	return ev;
}

/* Port scan ---------------------------------------------------------------------------------- */

static void
test_portscan_vertical_syn(void **state)
{
	struct ctl_anomaly_cfg c = only("port_scan");
	struct ctl_anomaly *d;
	struct dp_event ev;

	(void)state;
	d = make(&c);
	/* A half-open SYN scan of 100 ports in 10 s: SYN out, SYN-ACK or RST back, RST out. */
	for (unsigned p = 1; p <= 100; p++) {
		ev = tcp_end(T0_NS + p * 100 * MS, "198.51.100.9", 61000, "10.0.0.5", (uint16_t)p,
				p, TCP_SYN | TCP_RST, p % 3 ? TCP_RST | TCP_ACK : TCP_SYN | TCP_ACK,
				2, 1, 120, 60, 2 * MS);
		ctl_anomaly_on_event(d, &ev);
	}
	/* Crossing 25, then 50 and 100 ports. */
	assert_int_equal(count_sid(CTL_SID_PORTSCAN_VERTICAL), 3);
	assert_int_equal(count_sid(CTL_SID_PORTSCAN_HORIZONTAL), 0);
	const struct ctl_alert *a = first_sid(CTL_SID_PORTSCAN_VERTICAL);

	assert_int_equal(a->kind, CTL_ALERT_ANOMALY);
	assert_int_equal(a->gid, CTL_ANOMALY_GID);
	assert_int_equal((int)a->observed, 25);
	assert_int_equal((int)a->threshold, 25);
	assert_string_equal(ctl_alert_fact_get(a, "probe"), "TCP SYN (half-open)");
	assert_int_equal(a->block_ttl_ms, 0); /* not opted in */
	assert_explained(a, (const char *const[]){ "198.51.100.9", "10.0.0.5", "25 distinct ports",
					    "ports 1 to 25", "1 min", NULL });
	assert_int_equal((int)sink.a[sink.n - 1].observed, 100);
	ctl_anomaly_free(d);
}

static void
test_portscan_quiet_on_benign_same_volume(void **state)
{
	struct ctl_anomaly_cfg c = only("port_scan");
	struct ctl_anomaly *d;
	struct dp_event ev;

	(void)state;
	d = make(&c);
	/* 100 short connections to 100 distinct ports of one host, but each carries data (an
	 * FTP client's passive data connections), and 100 web requests to 100 hosts. */
	for (unsigned p = 1; p <= 100; p++) {
		ev = tcp_end(T0_NS + p * 100 * MS, "10.0.0.7", 50000, "10.0.0.5",
				(uint16_t)(40000 + p), p, TCP_SYN | TCP_ACK | TCP_PSH | TCP_FIN,
				TCP_SYN | TCP_ACK | TCP_PSH | TCP_FIN, 3, 4, 300, 5000, 50 * MS);
		ctl_anomaly_on_event(d, &ev);
		char dst[32];

		ctl_test_addr(dst, sizeof(dst), 93, p);
		ev = tcp_end(T0_NS + p * 100 * MS, "10.0.0.7", 50001, dst, 443, 1000 + p,
				TCP_SYN | TCP_ACK | TCP_PSH | TCP_FIN,
				TCP_SYN | TCP_ACK | TCP_PSH | TCP_FIN, 3, 3, 600, 4000, 80 * MS);
		ctl_anomaly_on_event(d, &ev);
	}
	assert_int_equal(sink.n, 0);
	ctl_anomaly_free(d);
}

static void
test_portscan_horizontal_and_stealth_kinds(void **state)
{
	struct ctl_anomaly_cfg c = only("port_scan");
	struct ctl_anomaly *d;
	struct dp_event ev;
	static const struct {
		uint8_t flags;
		const char *name;
	} kinds[] = {
		{ 0, "TCP NULL" },
		{ TCP_FIN, "TCP FIN" },
		{ TCP_FIN | TCP_PSH | TCP_URG, "TCP Xmas" },
	};

	(void)state;
	for (unsigned k = 0; k < 3; k++) {
		d = make(&c);
		/* 30 hosts on port 445 with stealth probes (no answer, or RST). */
		for (unsigned h = 0; h < 30; h++) {
			char dst[32];

			ctl_test_addr(dst, sizeof(dst), 10, 0x100 + h);
			ev = tcp_end(T0_NS + h * 50 * MS, "203.0.113.66", 40000, dst, 445, h,
					kinds[k].flags, h % 2 ? TCP_RST | TCP_ACK : 0, 1, h % 2, 60,
					h % 2 ? 60 : 0, 0);
			ctl_anomaly_on_event(d, &ev);
		}
		assert_int_equal(count_sid(CTL_SID_PORTSCAN_HORIZONTAL), 1);
		const struct ctl_alert *a = first_sid(CTL_SID_PORTSCAN_HORIZONTAL);

		assert_string_equal(ctl_alert_fact_get(a, "probe"), kinds[k].name);
		assert_int_equal(a->flow.dport, 445);
		assert_explained(a, (const char *const[]){ "203.0.113.66", "20 distinct hosts",
						    "port 445", kinds[k].name, NULL });
		ctl_anomaly_free(d);
	}
}

static void
test_portscan_window(void **state)
{
	struct ctl_anomaly_cfg c = only("port_scan");
	struct ctl_anomaly *d;
	struct dp_event ev;

	(void)state;
	d = make(&c);
	/* 40 ports, but one every 5 s: never 25 within a 60 s window, so no vertical scan; 12 a
	 * window make small scans (5 ports), and the hour sees a slow scan at 25 ports. */
	for (unsigned p = 1; p <= 40; p++) {
		ev = tcp_end(T0_NS + p * 5000 * MS, "198.51.100.9", 61000, "10.0.0.5", (uint16_t)p,
				p, TCP_SYN | TCP_RST, TCP_RST | TCP_ACK, 2, 1, 120, 60, MS);
		ctl_anomaly_on_event(d, &ev);
		ctl_anomaly_on_tick(d, 0);
	}
	assert_int_equal(count_sid(CTL_SID_PORTSCAN_VERTICAL), 0);
	assert_int_equal(count_sid(CTL_SID_PORTSCAN_SLOW), 1);
	assert_true(count_sid(CTL_SID_PORTSCAN_SMALL) >= 3);
	const struct ctl_alert *a = first_sid(CTL_SID_PORTSCAN_SLOW);

	assert_int_equal(a->severity, CTL_SEV_MEDIUM);
	assert_explained(a,
			(const char *const[]){ "198.51.100.9 probed 25 distinct ports on 10.0.0.5",
					"1 h", NULL });
	a = first_sid(CTL_SID_PORTSCAN_SMALL);
	assert_int_equal(a->severity, CTL_SEV_LOW);
	assert_explained(a, (const char *const[]){ "probed 5 distinct ports", NULL });
	ctl_anomaly_free(d);

	/* Without the long window's reach (one minute), the same scan is only small ones. */
	set(&c, "port_scan: {long_window: 1m}");
	d = make(&c);
	for (unsigned p = 1; p <= 40; p++) {
		ev = tcp_end(T0_NS + p * 5000 * MS, "198.51.100.9", 61000, "10.0.0.5", (uint16_t)p,
				p, TCP_SYN | TCP_RST, TCP_RST | TCP_ACK, 2, 1, 120, 60, MS);
		ctl_anomaly_on_event(d, &ev);
	}
	assert_int_equal(count_sid(CTL_SID_PORTSCAN_SLOW), 0);
	assert_int_equal(count_sid(CTL_SID_PORTSCAN_SMALL), (int)sink.n);
	ctl_anomaly_free(d);
}

/* SYN flood ---------------------------------------------------------------------------------- */

static void
syn_traffic(struct ctl_anomaly *d, unsigned n, bool complete)
{
	for (unsigned i = 0; i < n; i++) {
		char src[32];
		uint64_t t = T0_NS + (uint64_t)i * (NS_PER_S / n);
		struct dp_event ev;

		ctl_test_addr(src, sizeof(src), 198, i);
		ev = ctl_test_ev4(DP_EV_FLOW_START, t, src, (uint16_t)(1024 + i), "10.0.0.80", 80,
				6, i);
		ev.flow.tcp_flags[0] = TCP_SYN;
		ctl_test_counts(&ev, 1, 0, 60, 0);
		ctl_anomaly_on_event(d, &ev);
		if (complete) {
			ev = tcp_end(t + 5 * MS, src, (uint16_t)(1024 + i), "10.0.0.80", 80, i,
					TCP_SYN | TCP_ACK | TCP_PSH | TCP_FIN,
					TCP_SYN | TCP_ACK | TCP_PSH | TCP_FIN, 5, 4, 500, 3000,
					5 * MS);
			ctl_anomaly_on_event(d, &ev);
		}
	}
	ctl_anomaly_on_tick(d, T0_NS + 2 * NS_PER_S);
}

static void
test_synflood(void **state)
{
	struct ctl_anomaly_cfg c = only("syn_flood");
	struct ctl_anomaly *d;

	(void)state;
	d = make(&c);
	syn_traffic(d, 2000, false);
	assert_int_equal(count_sid(CTL_SID_SYN_FLOOD), 1);
	const struct ctl_alert *a = first_sid(CTL_SID_SYN_FLOOD);

	assert_int_equal(a->severity, CTL_SEV_CRITICAL); /* 2000/s is 20x min_rate */
	assert_int_equal((int)a->observed, 2000);
	assert_string_equal(ctl_alert_fact_get(a, "half_open"), "2000");
	assert_string_equal(ctl_alert_fact_get(a, "sources"), "many sources");
	assert_explained(a, (const char *const[]){ "10.0.0.80 port 80", "2000 TCP connection",
					    "2000 connections were left half-open", NULL });
	ctl_anomaly_free(d);

	d = make(&c);
	syn_traffic(d, 2000, true);
	assert_int_equal(sink.n, 0);
	ctl_anomaly_free(d);
}

/*
 * A flood that is the last traffic: nothing after it closes its interval. Judging the open
 * intervals (what vigild does when it stops, before it ends the flows) reports it with its
 * half-open count as it stood; ending the half-open flows afterwards changes nothing.
 */
static void
test_synflood_judged_at_the_end(void **state)
{
	struct ctl_anomaly_cfg c = only("syn_flood");
	struct ctl_anomaly *d = make(&c);
	uint64_t t = T0_NS + NS_PER_S / 10;

	(void)state;
	for (unsigned i = 0; i < 400; i++) {
		char src[32];
		struct dp_event ev;

		ctl_test_addr(src, sizeof(src), 198, 7);
		ev = ctl_test_ev4(DP_EV_FLOW_START, t + i * MS, src, (uint16_t)(2000 + i),
				"10.0.0.80", 80, 6, i);
		ev.flow.tcp_flags[0] = TCP_SYN;
		ctl_test_counts(&ev, 1, 0, 60, 0);
		ctl_anomaly_on_event(d, &ev);
	}
	/* The newest event's time does not move past the interval: no judgement yet. */
	ctl_anomaly_on_tick(d, 0);
	assert_int_equal(count_sid(CTL_SID_SYN_FLOOD), 0);
	ctl_anomaly_close_intervals(d, 0);
	assert_int_equal(count_sid(CTL_SID_SYN_FLOOD), 1);
	assert_string_equal(ctl_alert_fact_get(first_sid(CTL_SID_SYN_FLOOD), "half_open"), "400");
	assert_string_equal(
			ctl_alert_fact_get(first_sid(CTL_SID_SYN_FLOOD), "sources"), "one source");
	ctl_anomaly_free(d);

	/* Live, the clock moves on without events: the tick with it judges the interval. */
	d = make(&c);
	for (unsigned i = 0; i < 400; i++) {
		struct dp_event ev = ctl_test_ev4(DP_EV_FLOW_START, t + i * MS, "198.51.100.7",
				(uint16_t)(2000 + i), "10.0.0.80", 80, 6, i);

		ev.flow.tcp_flags[0] = TCP_SYN;
		ctl_test_counts(&ev, 1, 0, 60, 0);
		ctl_anomaly_on_event(d, &ev);
	}
	ctl_anomaly_on_tick(d, T0_NS + 2 * NS_PER_S);
	assert_int_equal(count_sid(CTL_SID_SYN_FLOOD), 1);
	ctl_anomaly_free(d);
}

/* One second of n attempts towards 10.0.0.80:80 starting at second sec; complete ones end. */
static void
syn_second(struct ctl_anomaly *d, unsigned sec, unsigned n, bool complete, uint32_t *id)
{
	for (unsigned i = 0; i < n; i++) {
		char src[32];
		uint64_t t = T0_NS + (uint64_t)sec * NS_PER_S + (uint64_t)i * (NS_PER_S / n);
		struct dp_event ev;

		ctl_test_addr(src, sizeof(src), 198, *id % 50000);
		ev = ctl_test_ev4(DP_EV_FLOW_START, t, src, 1024, "10.0.0.80", 80, 6, *id);
		ev.flow.tcp_flags[0] = TCP_SYN;
		ctl_test_counts(&ev, 1, 0, 60, 0);
		ctl_anomaly_on_event(d, &ev);
		if (complete) {
			ev = tcp_end(t + MS, src, 1024, "10.0.0.80", 80, *id,
					TCP_SYN | TCP_ACK | TCP_FIN, TCP_SYN | TCP_ACK | TCP_FIN, 4,
					3, 400, 900, MS);
			ctl_anomaly_on_event(d, &ev);
		}
		(*id)++;
	}
	ctl_anomaly_on_tick(d, T0_NS + (uint64_t)(sec + 1) * NS_PER_S);
}

static void
test_synflood_against_warm_baseline(void **state)
{
	struct ctl_anomaly_cfg c = only("syn_flood");
	struct ctl_anomaly *d;
	uint32_t id = 0;

	(void)state;
	set(&c, "syn_flood: {warmup: 30, alpha: 0.1}");
	d = make(&c);
	/* A busy service: 300 connections a second, all completing, for 40 s. */
	for (unsigned s = 0; s < 40; s++)
		syn_second(d, s, 300, true, &id);
	assert_int_equal(sink.n, 0);
	/* 400 half-open attempts: above min_rate and min_half_open, but within the baseline. */
	syn_second(d, 40, 400, false, &id);
	assert_int_equal(sink.n, 0);
	/* A flood: 3000 half-open attempts in a second, far above the baseline. */
	syn_second(d, 41, 3000, false, &id);
	assert_int_equal(count_sid(CTL_SID_SYN_FLOOD), 1);
	const struct ctl_alert *a = first_sid(CTL_SID_SYN_FLOOD);

	assert_true(a->mean > 250 && a->mean < 400);
	assert_true(a->sigma >= 4);
	assert_int_equal((int)a->observed, 3000);
	assert_explained(a, (const char *const[]){ "usual rate for this service",
					    "standard deviations above it",
					    "3400 connections were left half-open", NULL });
	ctl_anomaly_free(d);
}

/* DNS tunneling ------------------------------------------------------------------------------ */

static void
dns_query(struct ctl_anomaly *d, uint64_t t, const char *client, const char *name, uint16_t qtype,
		uint32_t id)
{
	struct dp_event ev = ctl_test_ev4(DP_EV_FLOW_START, t, client, (uint16_t)(30000 + id),
			"10.0.0.53", 53, 17, id);

	ctl_test_counts(&ev, 1, 1, 80, 200);
	ev.app.dns_qtype = qtype;
	ev.app.dns_qname_len = (uint8_t)strlen(name);
	/* a name longer than the event holds keeps its end, as the worker cuts it */
	size_t n = strlen(name), cap = sizeof(ev.app.dns_qname) - 1;

	snprintf(ev.app.dns_qname, sizeof(ev.app.dns_qname), "%s", name + (n > cap ? n - cap : 0));
	ctl_anomaly_on_event(d, &ev);
}

static void
test_dns_tunnel(void **state)
{
	struct ctl_anomaly_cfg c = only("dns_tunnel");
	struct ctl_anomaly *d;
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint64_t seed = 42;

	(void)state;
	set(&c, "dns_tunnel: {unique_subdomains: 30, txt_queries: 30, suspicious_names: 20}");
	d = make(&c);
	/* A tunnel: 40 TXT queries with 48 random base32 characters each under one domain. */
	for (unsigned i = 0; i < 40; i++) {
		char name[128], label[64];

		for (unsigned j = 0; j < 48; j++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			label[j] = b32[(seed >> 33) % 32];
		}
		label[48] = '\0';
		snprintf(name, sizeof(name), "%.24s.%s.t.tunnel.example", label, label + 24);
		dns_query(d, T0_NS + i * 200 * MS, "10.0.0.66", name, 16, i);
	}
	/* Suspicious names cross 20, then 40; unique names and TXT queries cross 30. */
	assert_int_equal(count_sid(CTL_SID_DNS_SUSPICIOUS_NAMES), 2);
	assert_int_equal(count_sid(CTL_SID_DNS_UNIQUE_SUBDOMAINS), 1);
	assert_int_equal(count_sid(CTL_SID_DNS_TXT_VOLUME), 1);
	const struct ctl_alert *a = first_sid(CTL_SID_DNS_UNIQUE_SUBDOMAINS);

	assert_string_equal(ctl_alert_fact_get(a, "domain"), "tunnel.example");
	assert_explained(a, (const char *const[]){ "30 distinct names under tunnel.example",
					    "10.0.0.66", "threshold is 30", NULL });
	a = first_sid(CTL_SID_DNS_SUSPICIOUS_NAMES);
	assert_true(atof(ctl_alert_fact_get(a, "entropy")) >= 4.0);
	assert_explained(a, (const char *const[]){ "10.0.0.66 sent 20 DNS queries",
					    ".t.tunnel.example", NULL });
	ctl_anomaly_free(d);

	/* The same volume of ordinary lookups: a few names, looked up again and again. */
	static const char *const names[] = { "www.example.com", "mail.example.com",
		"api.github.com", "fonts.gstatic.com", "www.bbc.co.uk", "news.bbc.co.uk",
		"update.microsoft.com", "time.cloudflare.com" };
	d = make(&c);
	for (unsigned i = 0; i < 40; i++)
		dns_query(d, T0_NS + i * 200 * MS, "10.0.0.66", names[i % 8], i % 2 ? 1 : 28, i);
	assert_int_equal(sink.n, 0);
	ctl_anomaly_free(d);
}

static void
test_public_suffix_list(void **state)
{
	static const struct {
		const char *name, *registered;
	} cases[] = {
		{ "www.example.com", "example.com" },
		{ "a.b.c.example.com", "example.com" },
		{ "news.bbc.co.uk", "bbc.co.uk" },
		{ "foo.github.io", "foo.github.io" }, /* a private-section suffix */
		{ "x.y.foo.github.io", "foo.github.io" },
		{ "www.ck", "www.ck" },			/* the exception !www.ck */
		{ "a.foo.bar.ck", "foo.bar.ck" },	/* *.ck makes bar.ck a suffix */
		{ "tunnel.example", "tunnel.example" }, /* no rule: the default one */
		{ "example.com", "example.com" },
	};
	char err[512];
	struct ctl_psl *p = ctl_psl_load(
			"/usr/share/publicsuffix/public_suffix_list.dat", err, sizeof(err));

	(void)state;
	assert_non_null(p);
	assert_true(ctl_psl_rules(p) > 5000);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].name);
		size_t off = ctl_psl_registered(p, cases[i].name, len);

		assert_string_equal(cases[i].name + off, cases[i].registered);
	}
	/* A public suffix has no registered domain. */
	assert_int_equal(ctl_psl_registered(p, "co.uk", 5), 5);
	assert_int_equal(ctl_psl_registered(p, "com", 3), 3);
	ctl_psl_free(p);
	assert_null(ctl_psl_load("/nonexistent/psl.dat", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/psl.dat"));
	assert_non_null(strstr(err, "publicsuffix"));
}

/* A tunnel's names, a CDN's and a tracker's, under one domain each: only the tunnel is one. */
static void
test_dns_tunnel_finding(void **state)
{
	struct ctl_anomaly_cfg c = only("dns_tunnel");
	struct ctl_anomaly *d;
	uint64_t seed = 7;

	(void)state;
	d = make(&c);
	for (unsigned i = 0; i < 40; i++) {
		char hex[80], name[160];

		for (unsigned j = 0; j < 60; j++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			hex[j] = "0123456789abcdef"[(seed >> 33) % 16];
		}
		hex[60] = '\0';
		snprintf(name, sizeof(name), "%.30s.%s.tun.example.co.uk", hex, hex + 30);
		dns_query(d, T0_NS + i * 1000 * MS, "10.0.0.66", name, 5 /* CNAME */, i);
		/* A CDN's hashed names (14 hex digits) and a tracker's 32, a new one each time. */
		snprintf(name, sizeof(name), "d%.13s.cloudfront.net", hex + 40);
		dns_query(d, T0_NS + i * 1000 * MS + 1, "10.0.0.67", name, 1, 100 + i);
		if (i < 10) {
			snprintf(name, sizeof(name), "%.32s.trk.example.com", hex + 10);
			dns_query(d, T0_NS + i * 1000 * MS + 2, "10.0.0.68", name, 1, 200 + i);
		}
	}
	assert_int_equal(count_sid(CTL_SID_DNS_TUNNEL), 1);
	const struct ctl_alert *a = first_sid(CTL_SID_DNS_TUNNEL);

	assert_string_equal(ctl_alert_fact_get(a, "domain"), "example.co.uk");
	assert_string_equal(ctl_alert_fact_get(a, "encoding"), "hex");
	assert_string_equal(ctl_alert_fact_get(a, "regularity"), "regular");
	assert_int_equal(a->severity, CTL_SEV_HIGH); /* CNAME queries and regular timing */
	assert_explained(a, (const char *const[]){ "30 distinct hex-encoded names under "
						   "example.co.uk",
					    "10.0.0.66", "30 of the 30 queries", NULL });
	/* The tunnel's first name is one very long encoded name (60 characters); nothing from
	 * the CDN or the tracker. */
	assert_int_equal(count_sid(CTL_SID_DNS_LONG_NAME), 1);
	for (unsigned i = 0; i < sink.n; i++) {
		char src[64];

		ctl_addr_str(4, sink.a[i].flow.src, src, sizeof(src));
		assert_string_equal(src, "10.0.0.66");
	}
	ctl_anomaly_free(d);
}

/* The response to the query of flow id: an update with its answers' data. */
static void
dns_response(struct ctl_anomaly *d, uint64_t t, const char *client, uint32_t id, unsigned data)
{
	struct dp_event ev = ctl_test_ev4(DP_EV_FLOW_UPDATE, t, client, (uint16_t)(30000 + id),
			"10.0.0.53", 53, 17, id);

	ctl_test_counts(&ev, 1, 1, 80, 200);
	ev.app.dns_response = 1;
	ev.app.dns_answer_bytes = (uint16_t)data;
	ctl_anomaly_on_event(d, &ev);
}

/*
 * Answers count when their response arrives, for the domain of the flow's latest query, by
 * the data their records carry: a tunnel's TXT answers make the finding surer, the four bytes
 * of an A record do not, and responses of one flow do not count for another's domain.
 */
static void
test_dns_tunnel_answers(void **state)
{
	struct ctl_anomaly_cfg c = only("dns_tunnel");
	struct ctl_anomaly *d;
	uint64_t seed = 11;

	(void)state;
	d = make(&c);
	for (unsigned i = 0; i < 30; i++) {
		char hex[80], name[160];

		for (unsigned j = 0; j < 60; j++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			hex[j] = "0123456789abcdef"[(seed >> 33) % 16];
		}
		hex[60] = '\0';
		/* A tunnel with 300 bytes of TXT data in each answer, at irregular times. */
		uint64_t t = T0_NS + i * 1000 * MS + (i % 2) * 900 * MS;

		snprintf(name, sizeof(name), "%.30s.%s.txt.example", hex, hex + 30);
		dns_query(d, t, "10.0.0.66", name, 1, i);
		/* Another client's A lookups, answered between the tunnel's query and answer. */
		snprintf(name, sizeof(name), "%.30s.%s.a.example", hex + 1, hex + 31);
		dns_query(d, t + 1, "10.0.0.67", name, 1, 100 + i);
		dns_response(d, t + 2, "10.0.0.67", 100 + i, 4);
		dns_response(d, t + 3, "10.0.0.66", i, 300);
	}
	assert_int_equal(count_sid(CTL_SID_DNS_TUNNEL), 2);
	for (unsigned k = 0; k < sink.n; k++) {
		const struct ctl_alert *a = &sink.a[k];

		if (a->sid != CTL_SID_DNS_TUNNEL)
			continue;
		if (strcmp(ctl_alert_fact_get(a, "domain"), "txt.example") == 0) {
			/* Its last answer came after the finding: 29 answers of 300. */
			assert_string_equal(ctl_alert_fact_get(a, "answer"),
					"300 bytes of data a response on average");
			assert_string_equal(ctl_alert_fact_get(a, "because"), "answer size");
			assert_int_equal(a->severity, CTL_SEV_HIGH);
		} else {
			assert_string_equal(ctl_alert_fact_get(a, "domain"), "a.example");
			assert_string_equal(ctl_alert_fact_get(a, "answer"),
					"4 bytes of data a response on average");
			assert_string_equal(ctl_alert_fact_get(a, "because"), "encoded names only");
			assert_int_equal(a->severity, CTL_SEV_MEDIUM);
		}
	}
	ctl_anomaly_free(d);
}

/* ICMP tunnel -------------------------------------------------------------------------------- */

static void
echo_flow(struct ctl_anomaly *d, uint64_t t, const char *src, uint16_t id, uint32_t flow,
		uint64_t p0, uint64_t p1, uint64_t b0, uint64_t b1, float mean, float var)
{
	struct dp_event ev = ctl_test_ev4(DP_EV_FLOW_END, t, src, id, "192.0.2.1", id, 1, flow);

	ctl_test_counts(&ev, p0, p1, b0, b1);
	ev.flow.payload_mean = mean;
	ev.flow.payload_var = var;
	ctl_anomaly_on_event(d, &ev);
}

static void
test_icmp_tunnel(void **state)
{
	struct ctl_anomaly_cfg c = only("icmp_tunnel");
	struct ctl_anomaly *d;

	(void)state;
	d = make(&c);
	/* Pings: 56 bytes both ways; 1472-byte MTU pings; unanswered pings; too short a tunnel. */
	echo_flow(d, T0_NS, "10.0.0.1", 7, 1, 60, 60, 60 * 98, 60 * 98, 56, 0);
	echo_flow(d, T0_NS, "10.0.0.2", 8, 2, 40, 40, 40 * 1514, 40 * 1514, 1472, 0);
	echo_flow(d, T0_NS, "10.0.0.3", 9, 3, 40, 0, 40 * 98, 0, 56, 0);
	echo_flow(d, T0_NS, "10.0.0.4", 10, 4, 10, 10, 10 * 100, 10 * 1000, 500, 200000);
	assert_int_equal(sink.n, 0);
	/* A tunnel: small requests, big replies of varying size. */
	echo_flow(d, T0_NS, "10.0.0.5", 11, 5, 40, 40, 40 * 70, 40 * 900, 440, 430 * 430);
	/* Same sizes both ways but varying: data, not a ping pattern. */
	echo_flow(d, T0_NS, "10.0.0.6", 12, 6, 40, 40, 40 * 300, 40 * 300, 258, 100 * 100);
	assert_int_equal(count_sid(CTL_SID_ICMP_TUNNEL), 2);
	assert_int_equal(sink.a[0].severity, CTL_SEV_HIGH);
	assert_string_equal(ctl_alert_fact_get(&sink.a[0], "signs"),
			"sizes vary, one side dominates, large");
	assert_explained(&sink.a[0], (const char *const[]){ "10.0.0.5 and 192.0.2.1 exchanged 80 "
							    "ICMP echo packets",
						     "identifier 11", "sizes vary", NULL });
	assert_int_equal(sink.a[1].severity, CTL_SEV_MEDIUM);
	ctl_anomaly_free(d);
}

/* An update of an echo flow with what its echoes did since the previous one. */
static void
echo_update(struct ctl_anomaly *d, uint64_t t, const char *src, uint16_t id, uint32_t flow,
		uint8_t type, uint64_t pkts, unsigned changed, unsigned mismatched)
{
	struct dp_event ev = ctl_test_ev4(type, t, src, id, "192.0.2.1", id, 1, flow);

	/* One size both ways (512 bytes): neither sizes nor directions give it away. */
	ctl_test_counts(&ev, pkts, pkts, pkts * 554, pkts * 554);
	ev.flow.payload_mean = 512;
	ev.flow.payload_var = 0;
	ev.app.echo = (struct dp_event_echo){ .req_compared = 10,
		.req_changed = (uint8_t)changed,
		.rep_compared = 10,
		.rep_mismatched = (uint8_t)mismatched };
	ctl_anomaly_on_event(d, &ev);
}

/*
 * The echoes' content: uniform, mirrored sizes pass the size signs, but requests whose data
 * changes or replies that do not mirror them are data. The counts add up over the flow's
 * events; a ping (whose time in its first 16 bytes the worker leaves out) has neither.
 */
static void
test_icmp_tunnel_content(void **state)
{
	struct ctl_anomaly_cfg c = only("icmp_tunnel");
	struct ctl_anomaly *d;

	(void)state;
	d = make(&c);
	/* A ping: 40 echoes, nothing changed, everything mirrored. */
	for (unsigned i = 1; i <= 4; i++)
		echo_update(d, T0_NS + i * NS_PER_S, "10.0.0.1", 7, 1,
				i == 4 ? DP_EV_FLOW_END : DP_EV_FLOW_UPDATE, 10 * i, 0, 0);
	/* A few changed requests (a ping whose pattern someone changed once): not half. */
	for (unsigned i = 1; i <= 4; i++)
		echo_update(d, T0_NS + i * NS_PER_S, "10.0.0.2", 8, 2,
				i == 4 ? DP_EV_FLOW_END : DP_EV_FLOW_UPDATE, 10 * i, i == 2 ? 3 : 0,
				0);
	assert_int_equal(sink.n, 0);
	/* A padded tunnel: every request new, no reply mirrored; judged once sustained (30
	 * packets: the second update), the counts of both updates added. */
	echo_update(d, T0_NS + NS_PER_S, "10.0.0.5", 11, 5, DP_EV_FLOW_UPDATE, 10, 10, 10);
	assert_int_equal(sink.n, 0);
	echo_update(d, T0_NS + 2 * NS_PER_S, "10.0.0.5", 11, 5, DP_EV_FLOW_UPDATE, 20, 9, 10);
	assert_int_equal(count_sid(CTL_SID_ICMP_TUNNEL), 1);
	assert_int_equal(sink.a[0].severity, CTL_SEV_MEDIUM);
	assert_string_equal(ctl_alert_fact_get(&sink.a[0], "signs"), "data changes, large");
	assert_string_equal(ctl_alert_fact_get(&sink.a[0], "changed"), "19 of 20");
	assert_string_equal(ctl_alert_fact_get(&sink.a[0], "mismatched"), "20 of 20");
	assert_explained(&sink.a[0], (const char *const[]){ "19 of 20 requests carried other data",
						     "20 of 20 replies did not mirror", NULL });
	/* Once per flow. */
	echo_update(d, T0_NS + 3 * NS_PER_S, "10.0.0.5", 11, 5, DP_EV_FLOW_END, 30, 10, 10);
	assert_int_equal(count_sid(CTL_SID_ICMP_TUNNEL), 1);
	/* Data leaving in requests the receiver's kernel mirrors: only the changes. */
	for (unsigned i = 1; i <= 4; i++)
		echo_update(d, T0_NS + i * NS_PER_S, "10.0.0.6", 12, 6,
				i == 4 ? DP_EV_FLOW_END : DP_EV_FLOW_UPDATE, 10 * i, 10, 0);
	assert_int_equal(count_sid(CTL_SID_ICMP_TUNNEL), 2);
	assert_string_equal(ctl_alert_fact_get(&sink.a[1], "signs"), "data changes, large");
	ctl_anomaly_free(d);
}

/* Brute force -------------------------------------------------------------------------------- */

static void
test_brute_force(void **state)
{
	struct ctl_anomaly_cfg c = only("brute_force");
	struct ctl_anomaly *d;
	struct dp_event ev;

	(void)state;
	set(&c, "brute_force: {block: true, block_ttl: 10m}");
	d = make(&c);
	/* 25 password guesses in 50 s: 2 s each, about 20 packets, some reset by the server. */
	for (unsigned i = 0; i < 25; i++) {
		ev = tcp_end(T0_NS + i * 2 * NS_PER_S, "203.0.113.5", (uint16_t)(40000 + i),
				"10.0.0.22", 22, i, TCP_SYN | TCP_ACK | TCP_PSH | TCP_FIN,
				TCP_SYN | TCP_ACK | TCP_PSH | (i % 5 ? TCP_FIN : TCP_RST), 11, 9,
				2000, 2500, 2 * NS_PER_S);
		ctl_anomaly_on_event(d, &ev);
	}
	assert_int_equal(count_sid(CTL_SID_BRUTE_FORCE), 1);
	const struct ctl_alert *a = first_sid(CTL_SID_BRUTE_FORCE);

	assert_int_equal((int)a->observed, 20);
	assert_string_equal(ctl_alert_fact_get(a, "failed"), "4");
	assert_int_equal(a->block_ttl_ms, 600000); /* opted in */
	assert_explained(
			a, (const char *const[]){ "203.0.113.5 made 20 short or failed",
					   "port 22 (SSH) on 10.0.0.22", "threshold is 20", NULL });
	ctl_anomaly_free(d);

	/* The same number of connections, but real sessions: 10 minutes, thousands of packets. */
	d = make(&c);
	for (unsigned i = 0; i < 25; i++) {
		ev = tcp_end(T0_NS + 600 * NS_PER_S + i * 2 * NS_PER_S, "10.0.0.40",
				(uint16_t)(40000 + i), "10.0.0.22", 22, i,
				TCP_SYN | TCP_ACK | TCP_PSH | TCP_FIN,
				TCP_SYN | TCP_ACK | TCP_PSH | TCP_FIN, 3000, 2800, 400000, 900000,
				600 * NS_PER_S);
		ctl_anomaly_on_event(d, &ev);
	}
	assert_int_equal(sink.n, 0);
	ctl_anomaly_free(d);
}

/* Exfiltration ------------------------------------------------------------------------------- */

#define EX_INTERVAL_S 60

/* One interval: host 10.0.0.9 uploads up (bytes[0]) and downloads down (bytes[1]). */
static void
exfil_interval(struct ctl_anomaly *d, unsigned i, uint64_t up, uint64_t down)
{
	uint64_t t = T0_NS + (uint64_t)i * EX_INTERVAL_S * NS_PER_S;
	struct dp_event ev = ctl_test_ev4(DP_EV_FLOW_START, t + NS_PER_S, "10.0.0.9", 50000,
			"203.0.113.80", 443, 6, 100 + i);

	ctl_test_counts(&ev, 1, 0, 60, 0);
	ctl_anomaly_on_event(d, &ev);
	ev.type = DP_EV_FLOW_END;
	ev.time_ns = t + 30 * NS_PER_S;
	ctl_test_counts(&ev, up / 1000 + 1, down / 1000 + 1, up, down);
	ctl_anomaly_on_event(d, &ev);
	ctl_anomaly_on_tick(d, t + EX_INTERVAL_S * NS_PER_S);
}

static struct ctl_anomaly_cfg
exfil_cfg(void)
{
	struct ctl_anomaly_cfg c = only("exfiltration");
	char yaml[160];

	snprintf(yaml, sizeof(yaml),
			"exfiltration: {interval: %ds, warmup: 10, min_bytes: 1M, sigma: 5, "
			"alpha: 0.1}",
			EX_INTERVAL_S);
	set(&c, yaml);
	return c;
}

static void
test_exfiltration(void **state)
{
	struct ctl_anomaly_cfg c = exfil_cfg();
	struct ctl_anomaly *d;

	(void)state;
	d = make(&c);
	for (unsigned i = 0; i < 20; i++)
		exfil_interval(d, i, 100000 + (i % 4) * 10000, 2000000);
	assert_int_equal(sink.n, 0);
	exfil_interval(d, 20, 50000000, 2000000);
	assert_int_equal(count_sid(CTL_SID_EXFIL), 1);
	const struct ctl_alert *a = first_sid(CTL_SID_EXFIL);

	assert_true(a->sigma >= 5);
	assert_int_equal((int64_t)a->observed, 50000000);
	assert_string_equal(ctl_alert_fact_get(a, "to"), "203.0.113.80");
	assert_explained(a, (const char *const[]){ "10.0.0.9 sent 50000000 bytes", "1 min",
					    "203.0.113.80", "standard deviations", NULL });
	ctl_anomaly_free(d);

	/* Benign: the same 50 MB, but downloaded (inbound). */
	d = make(&c);
	for (unsigned i = 0; i < 20; i++)
		exfil_interval(d, i, 100000 + (i % 4) * 10000, 2000000);
	exfil_interval(d, 20, 100000, 50000000);
	assert_int_equal(sink.n, 0);
	ctl_anomaly_free(d);
}

static void
test_exfil_quiet_during_warmup(void **state)
{
	struct ctl_anomaly_cfg c = exfil_cfg();
	struct ctl_anomaly *d;

	(void)state;
	d = make(&c);
	for (unsigned i = 0; i < 5; i++)
		exfil_interval(d, i, 100000, 0);
	exfil_interval(d, 5, 50000000, 0); /* only 5 of 10 warm-up intervals seen */
	assert_int_equal(sink.n, 0);
	ctl_anomaly_free(d);
}

static void
test_baselines_survive_restart(void **state)
{
	struct ctl_anomaly_cfg c = exfil_cfg();
	struct ctl_store_opts o;
	struct ctl_store *s;
	struct ctl_anomaly *d;
	struct ctl_anomaly_counters dc;
	char *dir = ctl_test_tmpdir(), err[256];

	(void)state;
	ctl_store_opts_defaults(&o);
	snprintf(o.path, sizeof(o.path), "%s/vigil.db", dir);
	o.max_pending_rows = 1024;
	o.max_flows = 1024;
	s = ctl_store_open(&o, err, sizeof(err));
	assert_non_null(s);
	d = make(&c);
	for (unsigned i = 0; i < 20; i++)
		exfil_interval(d, i, 100000 + (i % 4) * 10000, 0);
	assert_true(ctl_anomaly_save_baselines(d, s) >= 1);
	assert_int_equal(ctl_anomaly_save_baselines(d, s), 0); /* nothing changed since */
	assert_true(ctl_store_flush(s) >= 1);
	ctl_anomaly_free(d);
	ctl_store_close(s);

	/* A new process: the baseline comes back and judges the very first interval. */
	s = ctl_store_open(&o, err, sizeof(err));
	assert_non_null(s);
	d = make(&c);
	assert_true(ctl_anomaly_load_baselines(d, s) >= 1);
	ctl_anomaly_counters(d, &dc);
	assert_true(dc.baselines >= 1);
	exfil_interval(d, 20, 50000000, 0);
	assert_int_equal(count_sid(CTL_SID_EXFIL), 1);
	ctl_anomaly_free(d);
	ctl_store_close(s);
	ctl_test_rmdir(dir);
}

/* Rate anomaly ------------------------------------------------------------------------------- */

static void
rate_interval(struct ctl_anomaly *d, unsigned i, uint64_t pps)
{
	uint64_t t = T0_NS + (uint64_t)i * 10 * NS_PER_S;
	struct dp_event ev = ctl_test_ev4(DP_EV_FLOW_START, t + NS_PER_S, "10.0.0.10", 40000,
			"203.0.113.10", 9000, 17, 500 + i);

	ctl_test_counts(&ev, 1, 0, 100, 0);
	ctl_anomaly_on_event(d, &ev);
	ev.type = DP_EV_FLOW_END;
	ev.time_ns = t + 9 * NS_PER_S;
	ctl_test_counts(&ev, pps * 10 / 2, pps * 10 / 2, pps * 10 * 100, pps * 10 * 100);
	ctl_anomaly_on_event(d, &ev);
	ctl_anomaly_on_tick(d, t + 10 * NS_PER_S);
}

static void
test_rate_anomaly(void **state)
{
	struct ctl_anomaly_cfg c = only("rate");
	struct ctl_anomaly *d;

	(void)state;
	set(&c, "rate: {interval: 10s, warmup: 20, min_pps: 100, min_bps: 10000, alpha: 0.1, "
		"sigma: 5}");
	d = make(&c);
	for (unsigned i = 0; i < 30; i++)
		rate_interval(d, i, 200 + (i % 3) * 20);
	assert_int_equal(sink.n, 0);
	rate_interval(d, 30, 5000);
	assert_int_equal(sink.n, 1);
	assert_true(sink.a[0].sid == CTL_SID_RATE_HOST_PPS ||
			sink.a[0].sid == CTL_SID_RATE_HOST_BPS);
	assert_true(sink.a[0].sigma >= 5);
	assert_explained(&sink.a[0], (const char *const[]){ "Host 10.0.0.10", "per second", "10 s",
						     "standard deviations", NULL });
	ctl_anomaly_free(d);

	/* The high volume from the start is simply this host's normal. */
	d = make(&c);
	for (unsigned i = 0; i < 31; i++)
		rate_interval(d, i, 5000 + (i % 3) * 200);
	assert_int_equal(sink.n, 0);
	ctl_anomaly_free(d);
}

/* Baseline math ------------------------------------------------------------------------------ */

static void
test_ewma_matches_direct_computation(void **state)
{
	const double alpha = 0.07;
	double xs[200], w[200], mean = 0, var = 0;
	struct ctl_ewma e = { 0 };
	uint64_t seed = 7;
	unsigned n = 200;

	(void)state;
	for (unsigned i = 0; i < n; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		xs[i] = 1000.0 + (double)((seed >> 33) % 5000) / 10.0;
		ctl_ewma_update(&e, xs[i], alpha);
	}
	/* Weights: (1-a)^(n-1) for the first sample, a(1-a)^(n-1-i) for sample i > 0. */
	w[0] = pow(1 - alpha, n - 1);
	for (unsigned i = 1; i < n; i++)
		w[i] = alpha * pow(1 - alpha, n - 1 - i);
	for (unsigned i = 0; i < n; i++)
		mean += w[i] * xs[i];
	for (unsigned i = 0; i < n; i++)
		var += w[i] * (xs[i] - mean) * (xs[i] - mean);
	assert_true(fabs(e.mean - mean) < 1e-9 * mean);
	assert_true(fabs(e.var - var) < 1e-9 * var);
	assert_int_equal(e.n, n);
	assert_true(fabs(ctl_ewma_stddev(&e) - sqrt(var)) < 1e-9 * sqrt(var));
	assert_true(ctl_ewma_ready(&e, 200));
	assert_false(ctl_ewma_ready(&e, 201));

	/* A constant history has no variance; the judging deviation has floors. */
	struct ctl_ewma k = { 0 };

	for (unsigned i = 0; i < 50; i++)
		ctl_ewma_update(&k, 100, alpha);
	assert_true(fabs(k.mean - 100) < 1e-12);
	assert_true(k.var < 1e-12);
	assert_true(fabs(ctl_ewma_judge_stddev(&k, 0.1, 1.0) - 10.0) < 1e-9);
	assert_true(fabs(ctl_ewma_judge_stddev(&k, 0.001, 1.0) - 1.0) < 1e-9);
}

/* Dedup, EVE, block --------------------------------------------------------------------------- */

static void
test_dedup(void **state)
{
	struct ctl_alert_dedup *dd = ctl_alert_dedup_create(60000, 1024);
	struct ctl_alert a, b;
	struct ctl_alert_dedup_counters c;
	struct dp_event ev =
			ctl_test_ev4(DP_EV_ALERT, T0_NS, "192.0.2.1", 5555, "10.0.0.80", 80, 6, 1);
	uint64_t uid;

	(void)state;
	assert_non_null(dd);
	ev.alert.sid = 2010935;
	ev.alert.gid = 1;
	ctl_alert_from_event(&ev, "ET POLICY test", "policy-violation", CTL_SEV_LOW, &a);
	assert_int_equal(ctl_alert_dedup_submit(dd, &a), CTL_ALERT_NEW);
	uid = a.uid;
	assert_true(uid != 0);
	/* Same signature, same hosts, another client port, 10 s later: a repeat. */
	ev.flow.sport = 6666;
	ev.time_ns = T0_NS + 10 * NS_PER_S;
	ctl_alert_from_event(&ev, "ET POLICY test", "policy-violation", CTL_SEV_LOW, &b);
	assert_int_equal(ctl_alert_dedup_submit(dd, &b), CTL_ALERT_REPEAT);
	assert_true(b.uid == uid);
	assert_int_equal(b.count, 2);
	assert_true(b.first_ns == T0_NS);
	assert_true(b.last_ns == T0_NS + 10 * NS_PER_S);
	assert_non_null(strstr(b.what, "2 time(s)"));
	ev.time_ns = T0_NS + 59 * NS_PER_S;
	ctl_alert_from_event(&ev, "ET POLICY test", "policy-violation", CTL_SEV_LOW, &b);
	assert_int_equal(ctl_alert_dedup_submit(dd, &b), CTL_ALERT_REPEAT);
	assert_int_equal(b.count, 3);
	/* Another destination is another alert. */
	inet_pton(AF_INET, "10.0.0.81", ev.flow.dst);
	ctl_alert_from_event(&ev, "ET POLICY test", "policy-violation", CTL_SEV_LOW, &b);
	assert_int_equal(ctl_alert_dedup_submit(dd, &b), CTL_ALERT_NEW);
	assert_true(b.uid != uid);
	/* After the window, the first one starts again with a new id. */
	inet_pton(AF_INET, "10.0.0.80", ev.flow.dst);
	ev.time_ns = T0_NS + 61 * NS_PER_S;
	ctl_alert_from_event(&ev, "ET POLICY test", "policy-violation", CTL_SEV_LOW, &b);
	assert_int_equal(ctl_alert_dedup_submit(dd, &b), CTL_ALERT_NEW);
	assert_true(b.uid != uid);
	assert_int_equal(b.count, 1);
	ctl_alert_dedup_counters(dd, &c);
	assert_int_equal(c.new_alerts, 3);
	assert_int_equal(c.repeats, 2);
	assert_int_equal(c.tracked, 2);
	ctl_alert_dedup_expire(dd, T0_NS + 200 * NS_PER_S);
	ctl_alert_dedup_counters(dd, &c);
	assert_int_equal(c.tracked, 0);
	ctl_alert_dedup_free(dd);
}

static void
test_eve_json_and_log(void **state)
{
	struct dp_event ev = ctl_test_ev4(
			DP_EV_ALERT, T0_NS + 123456789, "192.0.2.1", 5555, "10.0.0.80", 80, 6, 77);
	struct ctl_alert a;
	json_t *o, *al;
	char *dir = ctl_test_tmpdir(), path[256], line[8192];
	struct ctl_eve *eve;
	struct ctl_eve_counters c;
	FILE *f;
	unsigned lines = 0;

	(void)state;
	ev.worker = 2;
	ev.alert.sid = 2001219;
	ev.alert.gid = 1;
	ev.alert.rev = 20;
	ev.alert.dropped = 1;
	ev.alert.to_server = 1;
	ctl_test_counts(&ev, 4, 3, 400, 900);
	/* A reply's alert names the packet's sides (the server as source), the flow's under
	 * "flow", as Suricata. */
	ev.alert.to_server = 0;
	ctl_alert_from_event(&ev, "reply", "Attempted Information Leak", CTL_SEV_HIGH, &a);
	o = ctl_alert_to_json(&a, "wan0");
	assert_string_equal(json_string_value(json_object_get(o, "src_ip")), "10.0.0.80");
	assert_int_equal(json_integer_value(json_object_get(o, "src_port")), 80);
	assert_int_equal(json_integer_value(json_object_get(o, "dest_port")), 5555);
	assert_string_equal(json_string_value(json_object_get(o, "direction")), "to_client");
	assert_string_equal(
			json_string_value(json_object_get(json_object_get(o, "flow"), "src_ip")),
			"192.0.2.1");
	json_decref(o);
	ev.alert.to_server = 1;
	ctl_alert_from_event(&ev, "ET SCAN Potential SSH Scan", "Attempted Information Leak",
			CTL_SEV_HIGH, &a);
	a.uid = 99;
	o = ctl_alert_to_json(&a, "wan0");
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "timestamp")),
			"2024-03-01T00:00:00.123456+0000");
	assert_int_equal(json_integer_value(json_object_get(o, "flow_id")), (2LL << 32) | 77);
	assert_string_equal(json_string_value(json_object_get(o, "in_iface")), "wan0");
	assert_string_equal(json_string_value(json_object_get(o, "event_type")), "alert");
	assert_string_equal(json_string_value(json_object_get(o, "src_ip")), "192.0.2.1");
	assert_int_equal(json_integer_value(json_object_get(o, "src_port")), 5555);
	assert_string_equal(json_string_value(json_object_get(o, "dest_ip")), "10.0.0.80");
	assert_int_equal(json_integer_value(json_object_get(o, "dest_port")), 80);
	assert_string_equal(json_string_value(json_object_get(o, "proto")), "TCP");
	al = json_object_get(o, "alert");
	assert_string_equal(json_string_value(json_object_get(al, "action")), "blocked");
	assert_int_equal(json_integer_value(json_object_get(al, "gid")), 1);
	assert_int_equal(json_integer_value(json_object_get(al, "signature_id")), 2001219);
	assert_int_equal(json_integer_value(json_object_get(al, "rev")), 20);
	assert_string_equal(json_string_value(json_object_get(al, "signature")),
			"ET SCAN Potential SSH Scan");
	assert_string_equal(json_string_value(json_object_get(al, "category")),
			"Attempted Information Leak");
	assert_int_equal(json_integer_value(json_object_get(al, "severity")), 1);
	assert_non_null(strstr(
			json_string_value(json_object_get(
					json_object_get(json_object_get(o, "vigil"), "explanation"),
					"what")),
			"192.0.2.1 port 5555 to 10.0.0.80 port 80"));
	json_decref(o);

	snprintf(path, sizeof(path), "%s/eve.json", dir);
	eve = ctl_eve_open(path);
	assert_non_null(eve);
	assert_int_equal(ctl_eve_write(eve, &a, "wan0"), 0);
	assert_int_equal(ctl_eve_write(eve, &a, NULL), 0);
	assert_int_equal(ctl_eve_sync(eve, 5000), 0); /* its own thread writes the lines */
	ctl_eve_counters(eve, &c);
	assert_int_equal(c.written, 2);
	ctl_eve_close(eve);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		json_error_t je;
		json_t *j = json_loads(line, 0, &je);

		if (j == NULL)
			fail_msg("line %u is not JSON: %s", lines + 1, je.text);
		assert_string_equal(json_string_value(json_object_get(j, "event_type")), "alert");
		json_decref(j);
		lines++;
	}
	fclose(f);
	assert_int_equal(lines, 2);
	ctl_test_rmdir(dir);
}

/*
 * A full disk (/dev/full: every write fails with ENOSPC) never holds control: lines are queued
 * at once, their failure is counted (once per line, one episode) and they stay queued for the
 * retry instead of being lost; closing reports what was not written.
 */
static void
test_eve_full_disk_counted(void **state)
{
	struct ctl_eve_counters c;
	struct ctl_eve *eve;
	struct ctl_alert a;

	(void)state;
	memset(&a, 0, sizeof(a));
	snprintf(a.signature, sizeof(a.signature), "x");
	eve = ctl_eve_open("/dev/full");
	if (eve == NULL)
		skip();
	for (int i = 0; i < 3; i++)
		assert_int_equal(ctl_eve_write(eve, &a, "wan0"), 0);
	assert_int_equal(ctl_eve_sync(eve, 5000), -EIO);
	for (int i = 0; i < 100; i++) {
		ctl_eve_counters(eve, &c);
		if (c.failed >= 1)
			break;
		usleep(10000);
	}
	assert_int_equal(c.written, 0);
	assert_int_equal(c.failed, 1); /* the head line, retried; the others wait behind it */
	assert_int_equal(c.episodes, 1);
	assert_int_equal(c.queued, 3);
	assert_true(c.failing);
	assert_int_equal(c.last_errno, ENOSPC);
	ctl_eve_close(eve);
}

static void
test_block_request_and_never_block(void **state)
{
	struct ctl_anomaly_cfg c = only("port_scan");
	struct ctl_anomaly *d;
	struct dp_event ev;

	(void)state;
	/* small_ports: straight to the vertical finding */
	set(&c, "port_scan: {block: true, block_ttl: 2m, small_ports: 25}");
	c.n_never_block = 1;
	assert_int_equal(vg_prefix_parse("198.51.100.0/24", strlen("198.51.100.0/24"), 0,
					 &c.never_block[0], NULL),
			0);
	d = make(&c);
	for (unsigned p = 1; p <= 25; p++) {
		ev = tcp_end(T0_NS + p * MS, "198.51.100.9", 1, "10.0.0.5", (uint16_t)p, p,
				TCP_SYN | TCP_RST, TCP_RST | TCP_ACK, 2, 1, 120, 60, MS);
		ctl_anomaly_on_event(d, &ev);
		ev = tcp_end(T0_NS + p * MS, "203.0.113.9", 1, "10.0.0.5", (uint16_t)p, 100 + p,
				TCP_SYN | TCP_RST, TCP_RST | TCP_ACK, 2, 1, 120, 60, MS);
		ctl_anomaly_on_event(d, &ev);
	}
	assert_int_equal(sink.n, 2);
	for (unsigned i = 0; i < 2; i++) {
		char src[64];

		ctl_addr_str(4, sink.a[i].flow.src, src, sizeof(src));
		if (strcmp(src, "198.51.100.9") == 0)
			assert_int_equal(sink.a[i].block_ttl_ms, 0); /* never_block */
		else
			assert_int_equal(sink.a[i].block_ttl_ms, 120000);
	}
	ctl_anomaly_free(d);
}

static void
test_all_templates_resolve(void **state)
{
	/* Every fact some detector sets; anything else a template names must be an alert field. */
	static const char *const facts[] = { "port_lo", "port_hi", "ports", "probe", "sources",
		"half_open", "example", "longest", "entropy", "domain", "failed", "service",
		"targets", "to", "encoding", "length", "typed", "queries", "types", "answer", "gap",
		"regularity", "because", "mean_size", "sd_size", "signs", "changed", "mismatched",
		"attempts", "peak", NULL };
	unsigned n = ctl_anomaly_n_templates();

	(void)state;
	assert_true(n >= 12);
	for (unsigned i = 0; i < n; i++) {
		const struct ctl_alert_template *t = ctl_anomaly_template(i);
		const char *parts[3] = { t->what, t->why, t->next };
		struct ctl_alert a;
		char buf[1024];

		assert_true(t->sid >= 9000000 && t->title[0] && t->category[0]);
		ctl_alert_init_anomaly(&a, t, "x", CTL_SEV_LOW);
		for (unsigned p = 0; p < 3; p++) {
			unsigned unknown = ctl_alert_expand(&a, parts[p], buf, sizeof(buf));
			const char *v = buf;

			/* Unknown names stay in the output as ${name}: each must be a fact. */
			while (unknown > 0 && (v = strstr(v, "${")) != NULL) {
				const char *end = strchr(v, '}');
				bool known = false;

				assert_non_null(end);
				for (unsigned f = 0; facts[f] != NULL; f++)
					known |= strlen(facts[f]) == (size_t)(end - v - 2) &&
						 strncmp(v + 2, facts[f], (size_t)(end - v - 2)) ==
								 0;
				if (!known)
					fail_msg("template sid %u names an unknown variable: %.*s",
							t->sid, (int)(end - v + 1), v);
				v = end;
			}
		}
	}
}

/* Config ------------------------------------------------------------------------------------- */

static void
test_detector_table(void **state)
{
	/* The names are vigil.yaml's keys, the status JSON's and the store's: in this order. */
	static const char *const names[] = { "port_scan", "syn_flood", "dns_tunnel", "brute_force",
		"exfiltration", "rate", "icmp_tunnel" };
	const unsigned n = sizeof(names) / sizeof(names[0]);
	uint32_t sids[64];
	unsigned n_sids = 0;

	(void)state;
	assert_int_equal(ctl_anomaly_count(), n);
	assert_string_equal(ctl_anomaly_name(n), "?");
	assert_int_equal(ctl_anomaly_find("portscan"), -ENOENT);
	for (unsigned i = 0; i < n; i++) {
		const struct ctl_anomaly_def *d = ctl_anomaly_def(i);

		assert_string_equal(ctl_anomaly_name(i), names[i]);
		assert_int_equal(ctl_anomaly_find(names[i]), (int)i);
		assert_true(d->cfg_size > sizeof(struct ctl_anomaly_common) &&
				d->cfg_size <= CTL_ANOMALY_CFG_MAX);
		assert_non_null(d->defaults);
		assert_true(((const struct ctl_anomaly_common *)d->defaults)->enabled);
		assert_string_equal(d->fields[0].name, "enabled");
		assert_string_equal(d->fields[1].name, "block");
		assert_string_equal(d->fields[2].name, "block_ttl");
		for (const struct vg_yaml_field *f = d->fields; f->name != NULL; f++)
			assert_true(f->off < d->cfg_size);
		assert_true(d->create != NULL && d->on_flow != NULL && d->free != NULL);
		assert_true(d->n_templates > 0);
		/* No two findings share a sid. */
		for (unsigned t = 0; t < d->n_templates; t++) {
			for (unsigned k = 0; k < n_sids; k++)
				assert_int_not_equal(sids[k], d->templates[t].sid);
			assert_true(n_sids < sizeof(sids) / sizeof(sids[0]));
			sids[n_sids++] = d->templates[t].sid;
		}
	}
	assert_int_equal(n_sids, ctl_anomaly_n_templates());
}

static void
test_detect_yaml(void **state)
{
	struct vg_yaml y;
	struct vg_diag d;
	struct ctl_anomaly_cfg c;
	const char *good = "internal: [10.0.0.0/8, 2001:db8::/32]\n"
			   "port_scan: {ports: 50, window: 2m, block: true, block_ttl: 1h}\n"
			   "syn_flood: {sigma: 3.5, min_rate: 500}\n"
			   "brute_force: {ports: [22, 2222], attempts: 10}\n"
			   "rate: {enabled: false}\n";
	const char *bad = "internal: [10.0.0.0/33, nonsense]\n"
			  "port_scan:\n"
			  "  portz: 3\n"
			  "syn_flood: {sigma: -1}\n"
			  "dns_tunnel: {entropy: lots}\n";
	uint8_t a[16] = { 0 };

	(void)state;
	vg_diag_init(&d);
	ctl_anomaly_defaults(&c);
	assert_int_equal(vg_yaml_load_buf(&y, "d.yaml", good, strlen(good), &d), 0);
	assert_int_equal(ctl_anomaly_yaml_parse(&y, vg_yaml_root(&y), &c), 0);
	assert_int_equal(c.n_internal, 2);
	inet_pton(AF_INET6, "2001:db8:1::5", a);
	assert_true(ctl_net_contains(c.internal, c.n_internal, 6, a));
	inet_pton(AF_INET, "192.168.1.1", a);
	assert_false(ctl_net_contains(c.internal, c.n_internal, 4, a));
	assert_int_equal(*(const uint32_t *)field(&c, "port_scan", "ports"), 50);
	assert_int_equal(*(const uint64_t *)field(&c, "port_scan", "window"), 120000);
	assert_true(*(const bool *)field(&c, "port_scan", "block"));
	assert_int_equal(*(const uint64_t *)field(&c, "port_scan", "block_ttl"), 3600000);
	assert_true(fabs(*(const double *)field(&c, "syn_flood", "sigma") - 3.5) < 1e-12);
	assert_int_equal(*(const uint32_t *)field(&c, "syn_flood", "min_rate"), 500);
	assert_int_equal(((const uint16_t *)field(&c, "brute_force", "ports"))[0], 22);
	assert_int_equal(((const uint16_t *)field(&c, "brute_force", "ports"))[1], 2222);
	assert_false(c.det[ctl_anomaly_find("rate")].c.enabled);
	assert_true(c.det[ctl_anomaly_find("exfiltration")].c.enabled);
	vg_yaml_free(&y);

	assert_int_equal(vg_yaml_load_buf(&y, "d.yaml", bad, strlen(bad), &d), 0);
	assert_int_equal(ctl_anomaly_yaml_parse(&y, vg_yaml_root(&y), &c), -EINVAL);
	assert_diag(&d, 1, 12, "'10.0.0.0/33' is not a network");
	assert_diag(&d, 1, 25, "'nonsense' is not a network");
	assert_diag(&d, 3, 3, "detectors.port_scan: unknown key 'portz'");
	assert_diag(&d, 4, 20, "'sigma': '-1' is not a number from 0.5 to 1000");
	assert_diag(&d, 5, 23, "'entropy': 'lots' is not a number");
	vg_yaml_free(&y);
	vg_diag_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_portscan_vertical_syn),
		cmocka_unit_test(test_portscan_quiet_on_benign_same_volume),
		cmocka_unit_test(test_portscan_horizontal_and_stealth_kinds),
		cmocka_unit_test(test_portscan_window),
		cmocka_unit_test(test_synflood),
		cmocka_unit_test(test_synflood_against_warm_baseline),
		cmocka_unit_test(test_synflood_judged_at_the_end),
		cmocka_unit_test(test_dns_tunnel),
		cmocka_unit_test(test_public_suffix_list),
		cmocka_unit_test(test_dns_tunnel_finding),
		cmocka_unit_test(test_dns_tunnel_answers),
		cmocka_unit_test(test_icmp_tunnel),
		cmocka_unit_test(test_icmp_tunnel_content),
		cmocka_unit_test(test_brute_force),
		cmocka_unit_test(test_exfiltration),
		cmocka_unit_test(test_exfil_quiet_during_warmup),
		cmocka_unit_test(test_baselines_survive_restart),
		cmocka_unit_test(test_rate_anomaly),
		cmocka_unit_test(test_ewma_matches_direct_computation),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_eve_json_and_log),
		cmocka_unit_test(test_eve_full_disk_counted),
		cmocka_unit_test(test_block_request_and_never_block),
		cmocka_unit_test(test_all_templates_resolve),
		cmocka_unit_test(test_detector_table),
		cmocka_unit_test(test_detect_yaml),
	};
	int rc;

	if (vg_test_eal_init() != 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	ctl_test_eal_fini();
	return rc;
}
