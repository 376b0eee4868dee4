/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPFIX export (ctl_ipfix.h) against real sockets on this host: the messages a UDP collector
 * gets (version 10, the observation domain, the IPv4 and IPv6 templates before any data, each
 * record's fields where the template puts them, an update's record holding what came since the
 * last one and the end's the rest); a TCP collector that closes the connection (the exporter
 * connects again and sends the templates first, nothing lost); a collector that is not there (the
 * queue's overflow is dropped and counted, close returns in time); and the `export:` section's
 * refusals, each naming its key at file:line.
 */
#define VG_TEST_WITH_EAL
#include "vg_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include "ctl_ipfix.h"
#include "ctl_test_util.h"
#include "dp_event.h"

#define T0_NS (1709251200ULL * NS_PER_S)

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* One data record of template 256 or 257 as the test reads it back. */
struct got {
	uint16_t tid;
	char app[32];
	uint64_t start_ms, end_ms, octets, packets, rev_octets, rev_packets;
	uint8_t src[16], dst[16];
	uint32_t in_if, out_if, rule;
	uint16_t sport, dport, vlan;
	uint8_t proto, flags, rev_flags, end_reason, verdict, biflow;
};

/* Parse one record at p (template tid); returns its length. */
static size_t
parse_rec(const uint8_t *p, uint16_t tid, struct got *g)
{
	const uint8_t *s = p;
	size_t alen = *p++, addr = tid == 257 ? 16 : 4;

	memset(g, 0, sizeof(*g));
	g->tid = tid;
	assert_true(alen < 255 && alen < sizeof(g->app));
	memcpy(g->app, p, alen);
	p += alen;
	g->start_ms = get64(p);
	g->end_ms = get64(p + 8);
	g->octets = get64(p + 16);
	g->packets = get64(p + 24);
	g->rev_octets = get64(p + 32);
	g->rev_packets = get64(p + 40);
	p += 48;
	memcpy(g->src, p, addr);
	memcpy(g->dst, p + addr, addr);
	p += 2 * addr;
	g->in_if = get32(p);
	g->out_if = get32(p + 4);
	g->rule = get32(p + 8);
	g->sport = get16(p + 12);
	g->dport = get16(p + 14);
	g->vlan = get16(p + 16);
	p += 18;
	g->proto = p[0];
	g->flags = p[1];
	g->rev_flags = p[2];
	g->end_reason = p[3];
	g->verdict = p[4];
	g->biflow = p[5];
	return (size_t)(p + 6 - s);
}

struct rx {
	struct got recs[16];
	unsigned n_recs;
	bool tmpl[2];	  /* templates 256 and 257 seen */
	bool data_before; /* data came before its template */
	unsigned msgs;
};

/* Parse one message of n bytes into rx. */
static void
parse_msg(const uint8_t *m, size_t n, uint32_t domain, struct rx *rx)
{
	assert_true(n >= 16);
	assert_int_equal(get16(m), 10); /* IPFIX */
	assert_int_equal(get16(m + 2), n);
	assert_int_equal(get32(m + 12), domain);
	rx->msgs++;
	for (size_t off = 16; off + 4 <= n;) {
		uint16_t set = get16(m + off), len = get16(m + off + 2);
		size_t p = off + 4;

		assert_true(len >= 4 && off + len <= n);
		if (set == 2) {
			while (p + 4 <= off + len) {
				uint16_t tid = get16(m + p), count = get16(m + p + 2);

				assert_true(tid == 256 || tid == 257);
				assert_int_equal(count, 21);
				rx->tmpl[tid - 256] = true;
				p += 4;
				for (unsigned i = 0; i < count; i++)
					p += get16(m + p) & 0x8000 ? 8 : 4;
			}
		} else if (set == 256 || set == 257) {
			if (!rx->tmpl[set - 256])
				rx->data_before = true;
			/* Records until fewer bytes remain than the smallest record. */
			while (off + len - p >= 1 + 48 + 8 + 24 && rx->n_recs < 16)
				p += parse_rec(m + p, set, &rx->recs[rx->n_recs++]);
		}
		off += len;
	}
}

/*
 * Read from fd until want records came (or 5 s passed): datagrams, each a message, or a
 * stream of messages framed by their length.
 */
static void
receive(int fd, bool stream, unsigned want, uint32_t domain, struct rx *rx)
{
	static uint8_t m[1 << 17];
	uint64_t t = mono_ms();
	size_t have = 0;

	memset(rx, 0, sizeof(*rx));
	while (rx->n_recs < want && mono_ms() - t < 5000) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 100) != 1)
			continue;
		n = recv(fd, m + have, sizeof(m) - have, 0);
		assert_true(n > 0);
		if (!stream) {
			assert_int_equal(get16(m + 2), (size_t)n); /* the datagram is the message */
			parse_msg(m, (size_t)n, domain, rx);
			continue;
		}
		have += (size_t)n;
		while (have >= 4 && have >= get16(m + 2)) {
			size_t len = get16(m + 2);

			parse_msg(m, len, domain, rx);
			memmove(m, m + len, have - len);
			have -= len;
		}
	}
}

static int
udp_rx(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void
test_udp(void **state)
{
	struct ctl_ipfix_opts o;
	struct ctl_ipfix_counters c;
	struct ctl_ipfix *x;
	struct dp_event ev, ev6;
	struct rx rx;
	uint16_t port;
	int fd = udp_rx(&port);

	(void)state;
	ctl_ipfix_opts_defaults(&o);
	snprintf(o.collector, sizeof(o.collector), "127.0.0.1:%u", port);
	o.observation_domain = 42;
	o.active_timeout_ms = 1000;
	x = ctl_ipfix_open(&o, NULL);
	assert_non_null(x);

	/* A TCP flow: start (no record), an update (what came so far), its end (the rest). */
	ev = ctl_test_ev4(DP_EV_FLOW_START, T0_NS, "192.0.2.1", 40000, "198.51.100.7", 443,
			IPPROTO_TCP, 5);
	ev.flow.in_port = 1;
	ev.flow.vlan = 100;
	ev.flow.rule_id = 3;
	ev.flow.tcp_flags[0] = 0x02;
	ctl_test_counts(&ev, 1, 0, 60, 0);
	ctl_ipfix_on_event(x, &ev);
	/* A state change's update before the active timeout: no record. */
	ev.type = DP_EV_FLOW_UPDATE;
	ev.time_ns = ev.flow.last_ns = T0_NS + 500000000ULL;
	ctl_test_counts(&ev, 3, 2, 200, 300);
	ctl_ipfix_on_event(x, &ev);
	/* The update past it: what came so far. */
	ev.time_ns = ev.flow.last_ns = T0_NS + 1500000000ULL;
	ctl_test_counts(&ev, 10, 8, 1000, 9000);
	ctl_ipfix_on_event(x, &ev);
	ev.type = DP_EV_FLOW_END;
	ev.reason = DP_END_FIN;
	ev.time_ns = ev.flow.last_ns = T0_NS + 2500000000ULL;
	ev.flow.tcp_flags[0] = 0x1b;
	ev.flow.tcp_flags[1] = 0x13;
	ctl_test_counts(&ev, 15, 11, 1400, 12000);
	ctl_ipfix_on_event(x, &ev);

	/* An IPv6 UDP flow dropped by rule 7, ended by its timeout. */
	ev6 = ctl_test_ev4(
			DP_EV_FLOW_END, T0_NS, "192.0.2.1", 5353, "192.0.2.2", 53, IPPROTO_UDP, 6);
	ev6.flow.family = 6;
	inet_pton(AF_INET6, "2001:db8::1", ev6.flow.src);
	inet_pton(AF_INET6, "2001:db8::53", ev6.flow.dst);
	ev6.flow.verdict = DP_VERDICT_DROP;
	ev6.flow.rule_id = 7;
	ev6.reason = DP_END_TIMEOUT;
	ctl_test_counts(&ev6, 2, 0, 150, 0);
	ctl_ipfix_on_event(x, &ev6);

	assert_int_equal(ctl_ipfix_sync(x, 3000), 0);
	receive(fd, false, 3, 42, &rx);
	assert_int_equal(rx.n_recs, 3);
	assert_true(rx.tmpl[0] && rx.tmpl[1]);
	assert_false(rx.data_before);

	struct got *u = &rx.recs[0], *e = &rx.recs[1], *v6 = &rx.recs[2];
	uint8_t a[16];

	assert_int_equal(u->tid, 256);
	assert_int_equal(u->end_reason, 2); /* activeTimeout */
	assert_int_equal(u->packets, 10);
	assert_int_equal(u->octets, 1000);
	assert_int_equal(u->rev_packets, 8);
	assert_int_equal(u->rev_octets, 9000);
	assert_int_equal(e->end_reason, 3); /* endOfFlowDetected */
	assert_int_equal(e->packets, 5);    /* the rest: 15 - 10 */
	assert_int_equal(e->octets, 400);
	assert_int_equal(e->rev_packets, 3);
	assert_int_equal(e->rev_octets, 3000);
	assert_int_equal(e->start_ms, T0_NS / 1000000);
	assert_int_equal(e->end_ms, T0_NS / 1000000 + 2500);
	inet_pton(AF_INET, "192.0.2.1", a);
	assert_memory_equal(e->src, a, 4);
	inet_pton(AF_INET, "198.51.100.7", a);
	assert_memory_equal(e->dst, a, 4);
	assert_int_equal(e->sport, 40000);
	assert_int_equal(e->dport, 443);
	assert_int_equal(e->proto, IPPROTO_TCP);
	assert_int_equal(e->flags, 0x1b);
	assert_int_equal(e->rev_flags, 0x13);
	assert_int_equal(e->vlan, 100);
	assert_int_equal(e->in_if, 2);	/* port 1, as ifIndex 2 */
	assert_int_equal(e->out_if, 0); /* no config: peer unknown */
	assert_int_equal(e->rule, 3);
	assert_int_equal(e->verdict, DP_VERDICT_ALLOW);
	assert_int_equal(e->biflow, 1);
	assert_int_equal(v6->tid, 257);
	inet_pton(AF_INET6, "2001:db8::53", a);
	assert_memory_equal(v6->dst, a, 16);
	assert_int_equal(v6->packets, 2);
	assert_int_equal(v6->octets, 150);
	assert_int_equal(v6->end_reason, 1); /* idleTimeout */
	assert_int_equal(v6->verdict, DP_VERDICT_DROP);
	assert_int_equal(v6->rule, 7);

	ctl_ipfix_counters(x, &c);
	assert_int_equal(c.records_sent, 3);
	assert_int_equal(c.records_lost, 0);
	assert_int_equal(c.connects, 1);
	assert_true(c.messages_sent >= 1);
	assert_true(c.connected);
	ctl_ipfix_close(x);
	close(fd);
}

static struct dp_event
end_event(uint32_t flow_id, uint64_t pkts)
{
	struct dp_event ev = ctl_test_ev4(DP_EV_FLOW_END, T0_NS, "192.0.2.1", 1000 + flow_id,
			"192.0.2.2", 80, IPPROTO_TCP, flow_id);

	ctl_test_counts(&ev, pkts, pkts, pkts * 60, pkts * 60);
	return ev;
}

/* A TCP collector that closes the connection: the exporter connects again, templates first. */
static void
test_tcp_reconnect(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	struct ctl_ipfix_opts o;
	struct ctl_ipfix_counters c;
	struct ctl_ipfix *x;
	struct dp_event ev;
	struct rx rx;
	int l = socket(AF_INET, SOCK_STREAM, 0), conn;

	(void)state;
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 4), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &len), 0);
	ctl_ipfix_opts_defaults(&o);
	snprintf(o.collector, sizeof(o.collector), "127.0.0.1:%u", ntohs(sa.sin_port));
	o.transport = CTL_IPFIX_TCP;
	x = ctl_ipfix_open(&o, NULL);
	assert_non_null(x);
	ev = end_event(1, 3);
	ctl_ipfix_on_event(x, &ev);
	conn = accept(l, NULL, NULL);
	assert_true(conn >= 0);
	receive(conn, true, 1, 0, &rx);
	assert_int_equal(rx.n_recs, 1);
	assert_true(rx.tmpl[0] && !rx.data_before);
	assert_int_equal(rx.recs[0].packets, 3);
	close(conn); /* the collector goes away */
	usleep(100000);
	ev = end_event(2, 4);
	ctl_ipfix_on_event(x, &ev);
	conn = accept(l, NULL, NULL);
	assert_true(conn >= 0);
	receive(conn, true, 1, 0, &rx);
	assert_int_equal(rx.n_recs, 1);
	assert_true(rx.tmpl[0] && !rx.data_before); /* a new session: templates again, first */
	assert_int_equal(rx.recs[0].packets, 4);
	assert_int_equal(rx.recs[0].sport, 1002);
	assert_int_equal(ctl_ipfix_sync(x, 1000), 0);
	ctl_ipfix_counters(x, &c);
	assert_int_equal(c.records_sent, 2);
	assert_int_equal(c.records_lost, 0);
	assert_int_equal(c.connects, 2);
	assert_int_equal(c.reconnects, 1);
	assert_int_equal(c.templates_sent, 2);
	ctl_ipfix_close(x);
	close(conn);
	close(l);
}

/* A TCP collector that is not there: records queue, the overflow is dropped and counted. */
static void
test_no_collector(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	struct ctl_ipfix_opts o;
	struct ctl_ipfix_counters c;
	struct ctl_ipfix *x;
	struct dp_event ev;
	uint64_t t;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	/* A port nobody listens on: bound, never listening. */
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	ctl_ipfix_opts_defaults(&o);
	snprintf(o.collector, sizeof(o.collector), "127.0.0.1:%u", ntohs(sa.sin_port));
	o.transport = CTL_IPFIX_TCP;
	o.queue_len = 2;
	x = ctl_ipfix_open(&o, NULL);
	assert_non_null(x);
	t = mono_ms();
	for (uint32_t i = 0; i < 5; i++) {
		ev = ctl_test_ev4(DP_EV_FLOW_END, T0_NS, "192.0.2.1", 1000, "192.0.2.2", 80,
				IPPROTO_TCP, i);
		ctl_test_counts(&ev, 1, 1, 60, 60);
		ctl_ipfix_on_event(x, &ev);
	}
	assert_true(mono_ms() - t < 100); /* never waits for the collector */
	t = mono_ms();
	do {
		usleep(10000);
		ctl_ipfix_counters(x, &c);
	} while (!c.failing && mono_ms() - t < 5000);
	assert_true(c.failing);
	assert_int_equal(c.last_errno, ECONNREFUSED);
	assert_false(c.connected);
	assert_int_equal(c.lost_queue_full, 3);
	assert_int_equal(c.queued, 2);
	assert_int_equal(ctl_ipfix_sync(x, 100), -EIO);
	t = mono_ms();
	ctl_ipfix_close(x);
	assert_true(mono_ms() - t < 4500);
	close(fd);
}

static void
test_yaml(void **state)
{
	struct vg_yaml y;
	struct vg_diag d;
	struct ctl_ipfix_opts o;
	const char *good =
			"ipfix: {collector: \"[::1]:4739\", transport: tcp,\n"
			"  template_refresh: 30s, active_timeout: 2m, observation_domain: 9, queue: 100}\n";
	const char *bad_collector = "ipfix:\n"
				    "  collector: 127.0.0.1\n";
	const char *bad_port = "ipfix: {collector: \"collector.example:99999\"}\n";
	const char *bad_transport = "ipfix:\n"
				    "  collector: 127.0.0.1:4739\n"
				    "  transport: sctp\n";
	const char *missing = "ipfix: {transport: udp}\n";
	const char *unknown = "ipfix: {collector: \"h:1\", template_refersh: 10s}\n";
	const char *short_refresh = "ipfix: {collector: \"h:1\", template_refresh: 10ms}\n";

	(void)state;
	vg_diag_init(&d);
	ctl_ipfix_opts_defaults(&o);
	assert_int_equal(o.collector[0], '\0'); /* off by default */
	assert_int_equal(o.template_refresh_ms, 60000);
	assert_int_equal(vg_yaml_load_buf(&y, "a.yaml", good, strlen(good), &d), 0);
	assert_int_equal(ctl_ipfix_parse(&y, vg_yaml_root(&y), &o), 0);
	assert_string_equal(o.collector, "[::1]:4739");
	assert_int_equal(o.transport, CTL_IPFIX_TCP);
	assert_int_equal(o.template_refresh_ms, 30000);
	assert_int_equal(o.active_timeout_ms, 120000);
	assert_int_equal(o.observation_domain, 9);
	assert_int_equal(o.queue_len, 100);
	vg_yaml_free(&y);

	ctl_ipfix_opts_defaults(&o);
	assert_int_equal(vg_yaml_load_buf(&y, "a.yaml", bad_collector, strlen(bad_collector), &d),
			0);
	assert_int_equal(ctl_ipfix_parse(&y, vg_yaml_root(&y), &o), -EINVAL);
	assert_diag(&d, 2, 14, "export.ipfix.collector: '127.0.0.1' is not host:port");
	assert_int_equal(o.collector[0], '\0');
	vg_yaml_free(&y);

	assert_int_equal(vg_yaml_load_buf(&y, "a.yaml", bad_port, strlen(bad_port), &d), 0);
	assert_int_equal(ctl_ipfix_parse(&y, vg_yaml_root(&y), &o), -EINVAL);
	assert_diag(&d, 1, 0, "export.ipfix.collector: 'collector.example:99999': the port");
	vg_yaml_free(&y);

	assert_int_equal(vg_yaml_load_buf(&y, "a.yaml", bad_transport, strlen(bad_transport), &d),
			0);
	assert_int_equal(ctl_ipfix_parse(&y, vg_yaml_root(&y), &o), -EINVAL);
	assert_diag(&d, 3, 14, "export.ipfix.transport: 'sctp' is not one of udp, tcp");
	assert_int_equal(o.collector[0], '\0'); /* a refused section exports nothing */
	vg_yaml_free(&y);

	assert_int_equal(vg_yaml_load_buf(&y, "a.yaml", missing, strlen(missing), &d), 0);
	assert_int_equal(ctl_ipfix_parse(&y, vg_yaml_root(&y), &o), -EINVAL);
	assert_diag(&d, 1, 0, "export.ipfix: required key 'collector' is missing");
	vg_yaml_free(&y);

	assert_int_equal(vg_yaml_load_buf(&y, "a.yaml", unknown, strlen(unknown), &d), 0);
	assert_int_equal(ctl_ipfix_parse(&y, vg_yaml_root(&y), &o), -EINVAL);
	assert_diag(&d, 1, 0, "template_refersh");
	vg_yaml_free(&y);

	assert_int_equal(vg_yaml_load_buf(&y, "a.yaml", short_refresh, strlen(short_refresh), &d),
			0);
	assert_int_equal(ctl_ipfix_parse(&y, vg_yaml_root(&y), &o), -EINVAL);
	assert_diag(&d, 1, 0, "template_refresh");
	vg_yaml_free(&y);
	vg_diag_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_tcp_reconnect),
		cmocka_unit_test(test_no_collector),
		cmocka_unit_test(test_yaml),
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
